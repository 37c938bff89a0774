//! The result of one check as HAProxy 2.6 names and reports it: a status (`L4OK`,
//! `L4CON`, `L7STS`...), an HTTP code for layer-7 results, an info text, a duration; and
//! the `reason: ..., check duration: Nms` part of the transition log lines.

use std::fmt::Write;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Connected (plain TCP check).
    L4Ok,
    L4Timeout,
    /// Connection refused, reset, unreachable...
    L4Con,
    /// A socket error: the connect call itself failed (unix sockets), or the connection
    /// was reset before a response.
    SockErr,
    /// The response passed the expectations.
    L7Ok,
    L7Timeout,
    /// Not an HTTP response, or a content expectation failed.
    L7Rsp,
    /// A status expectation failed.
    L7Sts,
}

impl Status {
    pub fn passed(self) -> bool {
        matches!(self, Status::L4Ok | Status::L7Ok)
    }

    /// 2.6's short name, as the stats page shows it.
    pub fn code(self) -> &'static str {
        match self {
            Status::L4Ok => "L4OK",
            Status::L4Timeout => "L4TOUT",
            Status::L4Con => "L4CON",
            Status::SockErr => "SOCKERR",
            Status::L7Ok => "L7OK",
            Status::L7Timeout => "L7TOUT",
            Status::L7Rsp => "L7RSP",
            Status::L7Sts => "L7STS",
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Status::L4Ok => "Layer4 check passed",
            Status::L4Timeout => "Layer4 timeout",
            Status::L4Con => "Layer4 connection problem",
            Status::SockErr => "Socket error",
            Status::L7Ok => "Layer7 check passed",
            Status::L7Timeout => "Layer7 timeout",
            Status::L7Rsp => "Layer7 invalid response",
            Status::L7Sts => "Layer7 wrong status",
        }
    }
}

/// One finished check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    /// The response's status code, when one was read.
    pub code: Option<u16>,
    /// HAProxy's `info: "..."`: an error text or the response's reason phrase.
    pub info: String,
    pub duration: Duration,
}

impl Outcome {
    pub fn new(status: Status) -> Outcome {
        Outcome {
            status,
            code: None,
            info: String::new(),
            duration: Duration::ZERO,
        }
    }

    pub fn info(mut self, info: impl Into<String>) -> Outcome {
        self.info = info.into();
        self
    }

    /// Appends `reason: R[, code: N][, info: "I"], check duration: Nms`.
    pub fn describe(&self, out: &mut String) {
        let _ = write!(out, "reason: {}", self.status.reason());
        if let Some(code) = self.code {
            let _ = write!(out, ", code: {code}");
        }
        if !self.info.is_empty() {
            let _ = write!(out, ", info: \"{}\"", self.info);
        }
        let _ = write!(out, ", check duration: {}ms", self.duration.as_millis());
    }
}

/// The C library's text for an I/O error ("Connection refused"), as HAProxy prints it.
pub fn io_error_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_like_haproxy() {
        let mut o = Outcome::new(Status::L4Con).info("Connection refused");
        let mut s = String::new();
        o.describe(&mut s);
        assert_eq!(
            s,
            "reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms"
        );
        o = Outcome::new(Status::L7Ok);
        o.code = Some(200);
        o.duration = Duration::from_millis(2);
        s.clear();
        o.describe(&mut s);
        assert_eq!(
            s,
            "reason: Layer7 check passed, code: 200, check duration: 2ms"
        );
    }

    #[test]
    fn os_error_texts_lose_their_number() {
        let e = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(io_error_text(&e), "Connection refused");
    }
}
