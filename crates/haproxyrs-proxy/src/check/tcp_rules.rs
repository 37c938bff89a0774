//! `option tcp-check` with rules: connect, send, expect, one step after the other, on the
//! check's connection(s), with 2.6's verdicts and texts. A send starts a new response (the
//! receive buffer is emptied); an expect waits for more data until it matches, the server
//! closes, the buffer is full, or the deadline passes. Steps are numbered from 1 over the
//! rule list, comments included, as 2.6 numbers them in its messages.

use std::net::SocketAddr;

use haproxyrs_config::ir::{TcpCheckExpect, TcpCheckRule, TcpExpectKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::http::MAX_RESPONSE;
use super::probe::{after_connect, open, Conn, Target, Timing};
use super::status::{io_error_text, Outcome, Status};

/// Runs the rules; the outcome's duration is set by the caller.
pub async fn run(target: &Target, rules: &[TcpCheckRule], t: Timing, start: Instant) -> Outcome {
    let layer7 = rules
        .iter()
        .any(|r| matches!(r, TcpCheckRule::Send(_) | TcpCheckRule::Expect(_)));
    let mut conn: Option<Box<dyn Conn>> = None;
    let mut deadline = start + t.inter;
    let first = rules.iter().find(|r| !matches!(r, TcpCheckRule::Comment));
    if !matches!(first, Some(TcpCheckRule::Connect { .. })) {
        match open(target, t, start).await {
            Ok(c) => conn = Some(c),
            Err(o) => return at(o, " at initial connection step of tcp-check".into()),
        }
        deadline = after_connect(t, start);
    }
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut eof = false;
    for (i, rule) in rules.iter().enumerate() {
        let step = i + 1;
        match rule {
            TcpCheckRule::Comment => {}
            TcpCheckRule::Connect { port } => {
                // The previous connection closes first.
                drop(conn.take());
                buf.clear();
                eof = false;
                let to = with_port(target, *port);
                match open(&to, t, start).await {
                    Ok(c) => conn = Some(c),
                    Err(o) => {
                        let what = match port {
                            Some(p) => format!("connect port {p}"),
                            None => "connect".to_string(),
                        };
                        return at(o, format!(" at step {step} of tcp-check ({what})"));
                    }
                }
                deadline = after_connect(t, start);
            }
            TcpCheckRule::Send(data) => {
                let Some(c) = conn.as_mut() else { continue };
                buf.clear();
                eof = false;
                let sent = tokio::time::timeout_at(deadline, c.write_all(data)).await;
                match sent {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        return Outcome::new(Status::SockErr).info(format!(
                            "{} at step {step} of tcp-check (send)",
                            io_error_text(&e)
                        ))
                    }
                    Err(_) => {
                        return Outcome::new(Status::L7Timeout)
                            .info(format!(" at step {step} of tcp-check (send)"))
                    }
                }
            }
            TcpCheckRule::Expect(e) => {
                let Some(c) = conn.as_mut() else { continue };
                if let Some(fail) = expect(c, e, step, &mut buf, &mut eof, deadline).await {
                    return fail;
                }
            }
        }
    }
    if layer7 {
        let mut o = Outcome::new(Status::L7Ok).info("(tcp-check)");
        o.code = Some(0);
        o
    } else {
        Outcome::new(Status::L4Ok).info("(tcp-check)")
    }
}

/// A failed connect with the step it failed at appended to its info.
fn at(mut o: Outcome, step: String) -> Outcome {
    o.info.push_str(&step);
    o
}

fn with_port(target: &Target, port: Option<u16>) -> Target {
    match (target, port) {
        (Target::Inet(sa), Some(p)) => Target::Inet(SocketAddr::new(sa.ip(), p)),
        _ => target.clone(),
    }
}

fn matches(kind: &TcpExpectKind, buf: &[u8]) -> bool {
    match kind {
        TcpExpectKind::String(s) => memchr::memmem::find(buf, s.as_bytes()).is_some(),
        TcpExpectKind::Rstring(re) => re.is_match(buf),
        TcpExpectKind::Binary(b) => memchr::memmem::find(buf, b).is_some(),
    }
}

/// How 2.6 names a pattern in "did not match content ..." messages.
fn pattern(kind: &TcpExpectKind) -> String {
    match kind {
        TcpExpectKind::String(s) => format!("'{s}'"),
        TcpExpectKind::Rstring(_) => "(regex)".into(),
        TcpExpectKind::Binary(_) => "(binary)".into(),
    }
}

/// How 2.6 names the rule in timeout messages.
fn rule_name(kind: &TcpExpectKind) -> String {
    match kind {
        TcpExpectKind::String(s) => format!("expect string '{s}'"),
        TcpExpectKind::Rstring(_) => "expect regex".into(),
        TcpExpectKind::Binary(b) => format!("expect binary '{}'", String::from_utf8_lossy(b)),
    }
}

/// One expect step: `None` when it passes.
async fn expect(
    conn: &mut Box<dyn Conn>,
    e: &TcpCheckExpect,
    step: usize,
    buf: &mut Vec<u8>,
    eof: &mut bool,
    deadline: Instant,
) -> Option<Outcome> {
    let invalid = |text: String| Some(Outcome::new(Status::L7Rsp).info(text));
    loop {
        let matched = matches(&e.kind, buf);
        if matched {
            if e.negate {
                return invalid(format!(
                    "TCPCHK matched unwanted content {} at step {step}",
                    pattern(&e.kind)
                ));
            }
            return None;
        }
        if *eof || buf.len() >= MAX_RESPONSE {
            if buf.is_empty() {
                return invalid(format!("TCPCHK got an empty response at step {step}"));
            }
            if e.negate {
                return None;
            }
            return invalid(format!(
                "TCPCHK did not match content {} at step {step}",
                pattern(&e.kind)
            ));
        }
        let at = buf.len();
        buf.resize((at + 4096).min(MAX_RESPONSE), 0);
        let read = tokio::time::timeout_at(deadline, conn.read(&mut buf[at..])).await;
        match read {
            Err(_) => {
                buf.truncate(at);
                return Some(Outcome::new(Status::L7Timeout).info(format!(
                    " at step {step} of tcp-check ({})",
                    rule_name(&e.kind)
                )));
            }
            Ok(Err(err)) => {
                buf.truncate(at);
                return Some(Outcome::new(Status::SockErr).info(format!(
                    "{} at step {step} of tcp-check ({})",
                    io_error_text(&err),
                    rule_name(&e.kind)
                )));
            }
            Ok(Ok(n)) => {
                buf.truncate(at + n);
                *eof = n == 0;
            }
        }
    }
}
