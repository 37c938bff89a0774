//! One check over the network: connect (a TCP check ends there), then for `option
//! httpchk` send the request on that new connection and read the response, with 2.6's
//! deadlines: the whole check within `inter`; when `timeout check` is set, the connection
//! within `min(timeout connect, inter)` and the response within `timeout check` from then.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use haproxyrs_config::ir::{HttpCheck, TcpCheckRule};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::http;
use super::status::{io_error_text, Outcome, Status};

/// Where a check connects.
#[derive(Clone, Debug)]
pub enum Target {
    Inet(SocketAddr),
    Unix(PathBuf),
    Abns(String),
}

/// What a check does once connected.
#[derive(Clone, Debug)]
pub enum Kind {
    Tcp,
    Http(Arc<HttpCheck>),
    /// `option tcp-check` with rules.
    Rules(Arc<Vec<TcpCheckRule>>),
}

/// The timeouts of one check.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub inter: Duration,
    pub connect: Option<Duration>,
    pub check: Option<Duration>,
}

pub(super) trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

pub(super) async fn connect(target: &Target) -> io::Result<Box<dyn Conn>> {
    Ok(match target {
        Target::Inet(sa) => Box::new(tokio::net::TcpStream::connect(sa).await?),
        Target::Unix(p) => Box::new(tokio::net::UnixStream::connect(p).await?),
        Target::Abns(name) => Box::new(crate::runtime::conn::connect_abns(name)?),
    })
}

/// Runs one check and times it.
pub async fn run(target: &Target, kind: &Kind, t: Timing) -> Outcome {
    let start = Instant::now();
    let mut o = run_inner(target, kind, t, start).await;
    o.duration = start.elapsed();
    o
}

/// Opens a check connection within 2.6's connect deadline; `Err` is the failed check.
pub(super) async fn open(
    target: &Target,
    t: Timing,
    start: Instant,
) -> Result<Box<dyn Conn>, Outcome> {
    let total = start + t.inter;
    let connect_by = match (t.check, t.connect) {
        (Some(_), Some(c)) => total.min(start + c),
        _ => total,
    };
    match tokio::time::timeout_at(connect_by, connect(target)).await {
        Err(_) => Err(Outcome::new(Status::L4Timeout)),
        Ok(Err(e)) => Err(match target {
            Target::Inet(_) => Outcome::new(Status::L4Con).info(io_error_text(&e)),
            // A unix connect fails at once, in the call: 2.6 words it as a socket error.
            Target::Unix(_) | Target::Abns(_) => Outcome::new(Status::SockErr)
                .info(format!("General socket error ({})", io_error_text(&e))),
        }),
        Ok(Ok(c)) => Ok(c),
    }
}

/// The deadline of what follows a connection: `timeout check` from now, else the end of
/// the check's `inter`.
pub(super) fn after_connect(t: Timing, start: Instant) -> Instant {
    t.check.map_or(start + t.inter, |c| Instant::now() + c)
}

async fn run_inner(target: &Target, kind: &Kind, t: Timing, start: Instant) -> Outcome {
    if let Kind::Rules(rules) = kind {
        return super::tcp_rules::run(target, rules, t, start).await;
    }
    let mut conn = match open(target, t, start).await {
        Ok(c) => c,
        Err(o) => return o,
    };
    let Kind::Http(hc) = kind else {
        return Outcome::new(Status::L4Ok);
    };
    let deadline = after_connect(t, start);
    match tokio::time::timeout_at(deadline, exchange(&mut conn, hc)).await {
        Err(_) => Outcome::new(Status::L7Timeout),
        Ok(o) => o,
    }
}

/// Sends the request and reads as much of the response as the expectations need.
async fn exchange(conn: &mut Box<dyn Conn>, hc: &HttpCheck) -> Outcome {
    if let Err(e) = conn.write_all(&http::request(hc)).await {
        return Outcome::new(Status::SockErr).info(io_error_text(&e));
    }
    let body_needed = http::needs_body(hc);
    let mut buf = Vec::with_capacity(1024);
    let mut head = None;
    loop {
        if head.is_none() {
            match http::parse_head(&buf) {
                Ok(Some(h)) => head = Some(h),
                Ok(None) => {}
                Err(http::NotHttp) => return Outcome::new(Status::L7Rsp),
            }
        }
        if let Some(h) = &head {
            let (body, complete) = http::body(h, &buf[h.body_at..]);
            if !body_needed || complete || buf.len() >= http::MAX_RESPONSE {
                return http::evaluate(hc, h, &body);
            }
        } else if buf.len() >= http::MAX_RESPONSE {
            return Outcome::new(Status::L7Rsp);
        }
        let room = (http::MAX_RESPONSE - buf.len()).min(4096);
        let at = buf.len();
        buf.resize(at + room, 0);
        let n = match conn.read(&mut buf[at..]).await {
            Ok(n) => n,
            Err(e) => {
                buf.truncate(at);
                if let Some(h) = &head {
                    return http::evaluate(hc, h, &http::body(h, &buf[h.body_at..]).0);
                }
                // A reset before a response: 2.6's socket error.
                return Outcome::new(Status::SockErr).info(io_error_text(&e));
            }
        };
        buf.truncate(at + n);
        if n == 0 {
            return match &head {
                Some(h) => http::evaluate(hc, h, &http::body(h, &buf[h.body_at..]).0),
                None => Outcome::new(Status::L7Rsp),
            };
        }
    }
}
