//! The texts 2.6 logs when a check changes a server's state, and where they go: the
//! backend's log targets (`Server be/s1 is DOWN, ...` at `alert`, `... is UP, ...` at
//! `notice`, `backend be has no server available!` at `emerg`) and stderr, as
//! `[WARNING]`/`[ALERT]` lines.

use std::fmt::Write;

use crate::backend::BackendRt;
use crate::log::Logger;
use crate::server::ServerRt;

use super::health::{Health, Transition};
use super::status::Outcome;

const LOG_EMERG: u8 = 0;
const LOG_ALERT: u8 = 1;
const LOG_NOTICE: u8 = 5;

/// Usable active and backup servers of a backend, after a transition.
fn counts(be: &BackendRt) -> (usize, usize) {
    let up = |backup: bool| {
        be.servers
            .iter()
            .filter(|s| s.is_backup() == backup && s.is_usable())
            .count()
    };
    (up(false), up(true))
}

/// The transition line, without the syslog header. With `option log-health-checks` the
/// reason was on the check's own line, so it is left out.
pub fn transition_line(be: &BackendRt, srv: &ServerRt, tr: Transition, o: &Outcome) -> String {
    let (active, backup) = counts(be);
    let mut m = String::with_capacity(256);
    if srv.is_backup() {
        m.push_str("Backup ");
    }
    let word = match tr {
        Transition::Up => "UP",
        Transition::Down => "DOWN",
    };
    let _ = write!(m, "Server {}/{} is {word}", be.name(), srv.name());
    if !be.cfg().options.log_health_checks {
        m.push_str(", ");
        o.describe(&mut m);
    }
    let verb = match tr {
        Transition::Up => "online",
        Transition::Down => "left",
    };
    let _ = write!(m, ". {active} active and {backup} backup servers {verb}.");
    if active == 0 && backup > 0 {
        m.push_str(" Running on backup.");
    }
    match tr {
        Transition::Down => {
            let _ = write!(
                m,
                " {} sessions active, 0 requeued, {} remaining in queue.",
                srv.cur_conns(),
                srv.queued()
            );
        }
        Transition::Up => {
            let _ = write!(m, " 0 sessions requeued, {} total in queue.", be.queued());
        }
    }
    m
}

/// Logs a transition as 2.6 does, and the backend's loss of its last server.
pub fn transition(be: &BackendRt, srv: &ServerRt, tr: Transition, o: &Outcome, log: &Logger) {
    let line = transition_line(be, srv, tr, o);
    stderr("[WARNING]", &line);
    let level = match tr {
        Transition::Up => LOG_NOTICE,
        Transition::Down => LOG_ALERT,
    };
    log.send(level, line);
    if tr == Transition::Down && counts(be) == (0, 0) {
        stderr(
            "[ALERT]",
            &format!("backend '{}' has no server available!", be.name()),
        );
        log.send(
            LOG_EMERG,
            format!("backend {} has no server available!", be.name()),
        );
    }
}

/// `option log-health-checks`: one check's result, when it or the health changed.
pub fn check_result(be: &BackendRt, srv: &ServerRt, o: &Outcome, h: &Health, log: &Logger) {
    let mut m = String::with_capacity(192);
    let verdict = if o.status.passed() {
        "succeeded"
    } else {
        "failed"
    };
    let _ = write!(
        m,
        "Health check for {}server {}/{} {verdict}, ",
        if srv.is_backup() { "backup " } else { "" },
        be.name(),
        srv.name()
    );
    o.describe(&mut m);
    let (n, of) = h.counter();
    let state = if h.is_up() { "UP" } else { "DOWN" };
    let _ = write!(m, ", status: {n}/{of} {state}.");
    stderr("[WARNING]", &m);
    log.send(LOG_NOTICE, m);
}

/// HAProxy's foreground message format: `[LEVEL]    (pid) : text`.
fn stderr(level: &str, text: &str) {
    eprintln!("{level:<10} ({}) : {text}", std::process::id());
}
