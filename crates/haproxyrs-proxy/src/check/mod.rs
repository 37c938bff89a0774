//! Health checks: one task per server with `check`, on the runtime's control thread, away
//! from the traffic path. Each task probes its server ([`probe`]: a TCP connect, an
//! `option httpchk` request, or `option tcp-check` rules ([`tcp_rules`])), feeds the result to the server's health counter
//! ([`health`]), and on a transition changes the server's state through
//! [`BackendRt::set_server_state`] (which rebuilds the balancer) and logs it as 2.6 does
//! ([`report`]). First checks are spread over the shortest interval, as 2.6 spreads them;
//! `spread-checks` adds its random jitter to every interval; a semaphore bounds how many
//! checks run at once. The tasks end with the runtime they run on.

pub mod health;
pub mod http;
pub mod probe;
pub mod report;
pub mod status;
pub mod tcp_rules;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use haproxyrs_config::ir::{self, ServerCheck};
use tokio::sync::Semaphore;

use crate::backend::BackendRt;
use crate::log::{LogHub, Logger};
use crate::server::ServerState;
use health::Health;
use probe::{Kind, Target, Timing};

/// Checks running at the same time, at most.
const MAX_CONCURRENT: usize = 128;

/// One server's check, ready to run.
struct Job {
    be: Arc<BackendRt>,
    idx: usize,
    cfg: ServerCheck,
    target: Target,
    kind: Kind,
    timing: Timing,
}

/// Where the check of `s` connects: `addr`/`port` override the server's. `None` when the
/// server has no address to check (no port, unresolved).
fn target(s: &ir::Server, c: &ServerCheck) -> Option<Target> {
    match &s.addr {
        ir::ServerAddr::Inet { ip, port, .. } => {
            let port = c.port.or(*port)?;
            Some(Target::Inet(SocketAddr::new(c.addr.unwrap_or(*ip), port)))
        }
        ir::ServerAddr::Unix(p) => Some(Target::Unix(p.clone())),
        ir::ServerAddr::Abns(n) => Some(Target::Abns(n.clone())),
        ir::ServerAddr::Unresolved { .. } => None,
    }
}

/// Starts the checks of every backend on the current tokio runtime.
pub fn spawn(backends: &[Arc<BackendRt>], hub: &LogHub, spread_checks: u32) {
    let mut jobs = Vec::new();
    for be in backends {
        let cfg = be.cfg();
        // A disabled proxy is stopped: its servers are not checked.
        if cfg.disabled {
            continue;
        }
        let kind = match &cfg.health_check {
            Some(ir::HealthCheck::Http(h)) => Kind::Http(Arc::new(h.clone())),
            Some(ir::HealthCheck::Tcp(rules)) if !rules.is_empty() => {
                Kind::Rules(Arc::new(rules.clone()))
            }
            // Protocol checks are not implemented: their connect step still runs.
            _ => Kind::Tcp,
        };
        for srv in &be.servers {
            let Some(c) = &srv.cfg.check else { continue };
            if srv.state() == ServerState::Maint {
                continue;
            }
            let Some(target) = target(&srv.cfg, c) else {
                log::warn!(
                    "backend {}: server {} has no port to check; its check is disabled",
                    be.name(),
                    srv.name()
                );
                continue;
            };
            jobs.push(Job {
                be: Arc::clone(be),
                idx: srv.idx,
                cfg: c.clone(),
                target,
                kind: kind.clone(),
                timing: Timing {
                    inter: c.inter,
                    connect: cfg.timeouts.connect,
                    check: cfg.timeouts.check,
                },
            });
        }
    }
    let Some(min_inter) = jobs
        .iter()
        .map(|j| Health::new(j.cfg.rise, j.cfg.fall).interval(&j.cfg))
        .min()
    else {
        return;
    };
    let sem = Arc::new(Semaphore::new(MAX_CONCURRENT));
    let n = jobs.len() as u32;
    for (pos, job) in jobs.into_iter().enumerate() {
        let first = min_inter * pos as u32 / n;
        let log = Logger::new(hub, &job.be.cfg().logs);
        tokio::spawn(run(job, first, spread_checks, log, Arc::clone(&sem)));
    }
}

/// The life of one server's check.
async fn run(job: Job, first: Duration, spread: u32, log: Logger, sem: Arc<Semaphore>) {
    let mut rng = Jitter::new(job.idx);
    let mut health = Health::new(job.cfg.rise, job.cfg.fall);
    let log_checks = job.be.cfg().options.log_health_checks;
    // The last result as `option log-health-checks` compares it (none before the first).
    let mut last: Option<(status::Status, Option<u16>)> = None;
    tokio::time::sleep(first).await;
    loop {
        let outcome = {
            let Ok(_permit) = sem.acquire().await else {
                return;
            };
            probe::run(&job.target, &job.kind, job.timing).await
        };
        let srv = &job.be.servers[job.idx];
        let before = health.counter();
        let tr = health.record(outcome.status.passed());
        if let Ok(mut last) = srv.last_check.lock() {
            *last = Some(crate::server::LastCheck {
                status: outcome.status.code(),
                code: outcome.code,
                desc: outcome.status.reason(),
                info: outcome.info.clone(),
                duration_ms: outcome.duration.as_millis().min(u64::MAX as u128) as u64,
                health: health.value(),
            });
        }
        let result = Some((outcome.status, outcome.code));
        if log_checks && (health.counter() != before || last != result) {
            report::check_result(&job.be, srv, &outcome, &health, &log);
        }
        last = result;
        if let Some(tr) = tr {
            // Administrative states (maintenance, drain) outrank checks.
            if matches!(srv.state(), ServerState::Up | ServerState::Down) {
                let state = match tr {
                    health::Transition::Up => ServerState::Up,
                    health::Transition::Down => ServerState::Down,
                };
                job.be.set_server_state(job.idx, state);
                report::transition(&job.be, srv, tr, &outcome, &log);
            }
        }
        let wait = rng.spread(health.interval(&job.cfg), spread);
        tokio::time::sleep(wait).await;
    }
}

/// `spread-checks`: a uniform random offset of up to ±N% of each interval.
struct Jitter(u64);

impl Jitter {
    fn new(salt: usize) -> Jitter {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Jitter((nanos ^ (salt as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn spread(&mut self, inter: Duration, percent: u32) -> Duration {
        let ms = inter.as_millis() as u64;
        let span = ms * u64::from(percent.min(50)) / 100;
        if span == 0 {
            return inter;
        }
        let offset = self.next() % (2 * span + 1);
        Duration::from_millis(ms - span + offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_the_spread() {
        let mut j = Jitter::new(3);
        let inter = Duration::from_millis(1000);
        assert_eq!(j.spread(inter, 0), inter);
        for _ in 0..1000 {
            let d = j.spread(inter, 10).as_millis();
            assert!((900..=1100).contains(&d), "{d}");
        }
    }
}
