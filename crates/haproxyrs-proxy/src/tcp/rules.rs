//! `tcp-request connection` and `tcp-request content` rules: evaluated in order, the first
//! matching `accept` or `reject` ends the list; no match accepts. Content rules wait (up
//! to `tcp-request inspect-delay`) while a condition depends on bytes not yet received,
//! looking at them with `MSG_PEEK` so that nothing is consumed.

use std::time::{Duration, Instant};

use haproxyrs_config::ir::sample::Acl;
use haproxyrs_config::ir::tcp::{TcpAction, TcpRule};

use super::source::TcpSource;
use crate::runtime::conn::Stream;

/// Outcome of a rule list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleVerdict {
    Accept,
    Reject,
}

/// Evaluates rules against `s`. `None`: a condition is undecided (more bytes needed).
pub fn eval_rules(rules: &[TcpRule], acls: &[Acl], s: &TcpSource<'_>) -> Option<RuleVerdict> {
    for r in rules {
        let hit = match &r.cond {
            None => Some(true),
            Some(c) => s.eval(c, acls),
        };
        match hit {
            Some(true) => {
                return Some(match r.action {
                    TcpAction::Accept => RuleVerdict::Accept,
                    TcpAction::Reject => RuleVerdict::Reject,
                })
            }
            Some(false) => {}
            None => return None,
        }
    }
    Some(RuleVerdict::Accept)
}

/// `tcp-request connection` rules, right after accept (no payload: `s.final_` is set).
pub fn connection_rules(rules: &[TcpRule], acls: &[Acl], s: &TcpSource<'_>) -> RuleVerdict {
    eval_rules(rules, acls, s).unwrap_or(RuleVerdict::Accept)
}

/// Bytes peeked during content inspection (still queued in the socket).
#[derive(Debug, Default)]
pub struct Inspected {
    pub payload: Vec<u8>,
    /// The client closed or the delay expired: no more waiting.
    pub final_: bool,
}

/// Runs `tcp-request content` rules with `inspect-delay`.
/// `base` gives the addresses and names; its payload is replaced by the peeked bytes.
pub async fn content_rules(
    stream: &Stream,
    rules: &[TcpRule],
    acls: &[Acl],
    base: &TcpSource<'_>,
    delay: Option<Duration>,
    bufsize: usize,
) -> (RuleVerdict, Inspected) {
    let mut ins = Inspected::default();
    let Some(delay) = delay.filter(|_| !rules.is_empty()) else {
        let s = TcpSource {
            payload: &[],
            final_: true,
            ..*base
        };
        ins.final_ = true;
        return (
            eval_rules(rules, acls, &s).unwrap_or(RuleVerdict::Accept),
            ins,
        );
    };
    let deadline = Instant::now() + delay;
    let mut buf = vec![0u8; bufsize.max(1024)];
    let mut seen = 0usize;
    loop {
        let now = Instant::now();
        let expired = now >= deadline;
        let s = TcpSource {
            payload: &buf[..seen],
            final_: expired || ins.final_,
            ..*base
        };
        if let Some(v) = eval_rules(rules, acls, &s) {
            buf.truncate(seen);
            ins.payload = buf;
            return (v, ins);
        }
        // Wait for the first bytes, then poll for more until the deadline.
        let wait = async {
            if seen == 0 {
                let _ = stream.readable().await;
            } else {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        if tokio::time::timeout_at(deadline.into(), wait)
            .await
            .is_err()
        {
            continue;
        }
        match stream.try_peek(&mut buf) {
            Ok(0) => ins.final_ = true,
            Ok(n) => {
                seen = n;
                if n == buf.len() {
                    ins.final_ = true;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => ins.final_ = true,
        }
    }
}
