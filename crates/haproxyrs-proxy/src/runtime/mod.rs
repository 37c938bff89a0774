//! The runtime: `nbthread` worker threads, each a single-threaded tokio runtime with its
//! own listening sockets ([`listener`]), accept loops bounded by the global, frontend and
//! bind `maxconn` (a permit is taken *before* `accept()`, so the process never takes more
//! connections than allowed), and shutdown on signals: SIGTERM/SIGINT stop at once,
//! SIGUSR1 stops accepting and lets sessions finish (bounded by `hard-stop-after`); SIGHUP
//! logs the servers' states. The health checks ([`crate::check`]) run on the thread that
//! waits for signals.
//!
//! # Layout
//! - [`conn`]: `Stream`, `ConnAddr`, `ClientConn`.
//! - [`listener`]: sockets from binds.
//! - [`frontend`]: `FrontendRt`, the per-frontend session context.
//! - [`http_glue`]: the HTTP engine's `Engine` implemented on the runtime.
//! - [`accept`]: the accept loop of one listener.
//! - [`session`]: from accept to the mode's engine (connection rules, PROXY header).
//! - [`sockpair`]: connections received over `sockpair@N`.

pub mod accept;
pub mod conn;
pub mod frontend;
pub mod http_glue;
pub mod listener;
pub mod privileges;
pub mod session;
pub mod sockpair;
pub mod tcp_conn;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use haproxyrs_config::ir;
use tokio::sync::{watch, Semaphore};

use crate::backend::BackendRt;
use crate::log::Logger;
use crate::{RunError, RunOptions};
use frontend::{FrontendRt, Shared};

/// Where the process is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Running,
    /// Soft stop: listeners closed, sessions finish.
    Stopping,
    /// Hard stop: everything ends now.
    Stopped,
}

/// The `maxconn` semaphores an accept loop takes permits from.
#[derive(Clone, Debug)]
pub struct Limits {
    pub global: Arc<Semaphore>,
    pub frontend: Option<Arc<Semaphore>>,
    pub bind: Option<Arc<Semaphore>>,
}

/// A listener handed to a worker: its frontend, bind index, socket and limits.
type WorkerListener = (Arc<FrontendRt>, usize, listener::RawListener, Limits);

/// A socket opened before any thread exists: frontend index, bind index, worker, socket,
/// limits.
#[derive(Debug)]
struct OpenedListener {
    fe: usize,
    bind_idx: usize,
    worker: usize,
    raw: listener::RawListener,
    limits: Limits,
}

/// The process once every socket is bound and before any thread exists: the point where
/// `daemon` forks (fork and threads do not mix), then [`Opened::serve`] starts the threads.
#[derive(Debug)]
pub struct Opened {
    config: Arc<ir::Config>,
    workers: usize,
    listeners: Vec<OpenedListener>,
}

/// Number of workers: `nbthread`, else one per CPU.
pub fn worker_count(config: &ir::Config) -> usize {
    config
        .global
        .nbthread
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1)
}

fn semaphore(n: u32) -> Option<Arc<Semaphore>> {
    (n > 0).then(|| Arc::new(Semaphore::new(n as usize)))
}

/// Starts every listener and serves until a signal stops the process.
pub fn run(config: Arc<ir::Config>, _opts: RunOptions) -> Result<(), RunError> {
    let opened = open(config)?;
    opened.drop_privileges()?;
    opened.serve()
}

/// Checks what the engines cannot run and binds every socket; starts no thread. A bind
/// error stops the start as in HAProxy.
pub fn open(config: Arc<ir::Config>) -> Result<Opened, RunError> {
    for fe in &config.frontends {
        for b in &fe.binds {
            if b.ssl {
                return Err(RunError::Refused(format!(
                    "[{}] frontend '{}': 'ssl' on bind is not supported by haproxyrs yet",
                    b.span, fe.name
                )));
            }
        }
    }
    for be in &config.backends {
        for s in &be.servers {
            if s.ssl {
                return Err(RunError::Refused(format!(
                    "[{}] backend '{}': 'ssl' on server '{}' is not supported by haproxyrs yet",
                    s.span, be.name, s.name
                )));
            }
        }
    }
    let workers = worker_count(&config);
    raise_nofile(config.global.maxconn);
    let global_limit = Arc::new(Semaphore::new(config.global.maxconn.max(1) as usize));
    let mut listeners = Vec::new();
    for (fe_idx, fe) in config.frontends.iter().enumerate() {
        if fe.disabled {
            continue;
        }
        let fe_limit = semaphore(fe.maxconn);
        for (bind_idx, b) in fe.binds.iter().enumerate() {
            let backlog = if fe.maxconn > 0 {
                fe.maxconn
            } else {
                config.global.maxconn
            };
            let opened = listener::open(b, workers, backlog).map_err(|e| {
                RunError::Refused(format!("[{}] Starting frontend {}: {}", b.span, fe.name, e))
            })?;
            let limits = Limits {
                global: Arc::clone(&global_limit),
                frontend: fe_limit.clone(),
                bind: b.maxconn.and_then(semaphore),
            };
            for (worker, ls) in opened.per_worker.into_iter().enumerate() {
                for raw in ls {
                    listeners.push(OpenedListener {
                        fe: fe_idx,
                        bind_idx,
                        worker,
                        raw,
                        limits: limits.clone(),
                    });
                }
            }
        }
    }
    Ok(Opened {
        config,
        workers,
        listeners,
    })
}

impl Opened {
    /// `chroot`, `group` and `user`, once every socket is bound and before any session.
    pub fn drop_privileges(&self) -> Result<(), RunError> {
        privileges::drop_privileges(&self.config.global).map_err(RunError::Refused)
    }

    /// Starts the log thread, the signal handlers and the workers; serves until a signal
    /// stops the process.
    pub fn serve(self) -> Result<(), RunError> {
        let Opened {
            config,
            workers,
            listeners,
        } = self;
        let backends = (0..config.backends.len())
            .map(|i| Arc::new(BackendRt::new(Arc::clone(&config), ir::BackendId(i))))
            .collect();
        let shared = Arc::new(Shared {
            config: Arc::clone(&config),
            backends,
            actconn: AtomicU32::new(0),
            cum_conns: AtomicU64::new(0),
            frontends: std::sync::OnceLock::new(),
        });
        let log_hub = crate::log::LogHub::start(&config);
        let fronts: Vec<Option<Arc<FrontendRt>>> = config
            .frontends
            .iter()
            .enumerate()
            .map(|(idx, fe)| {
                (!fe.disabled).then(|| {
                    Arc::new(FrontendRt {
                        idx,
                        shared: Arc::clone(&shared),
                        logger: Logger::new(&log_hub, &fe.logs),
                        feconn: AtomicU32::new(0),
                        log_count: AtomicU64::new(0),
                        http: (fe.mode == ir::Mode::Http).then(|| {
                            Arc::new(http_glue::HttpFrontend::new(Arc::clone(&config), idx))
                        }),
                    })
                })
            })
            .collect();
        let mut per_worker: Vec<Vec<WorkerListener>> = (0..workers).map(|_| Vec::new()).collect();
        for l in listeners {
            if let Some(fe) = &fronts[l.fe] {
                per_worker[l.worker].push((Arc::clone(fe), l.bind_idx, l.raw, l.limits));
            }
        }
        let fronts: Vec<Arc<FrontendRt>> = fronts.into_iter().flatten().collect();
        let _ = shared
            .frontends
            .set(fronts.iter().map(Arc::downgrade).collect());

        // Signal handlers first: once a worker serves a connection, a signal is never met
        // by its default action (which would end the process).
        let sig_rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let signals = {
            let _rt = sig_rt.enter();
            Signals::install()?
        };
        let (phase_tx, phase_rx) = watch::channel(Phase::Running);
        let mut threads = Vec::new();
        for (w, listeners) in per_worker.into_iter().enumerate() {
            let rx = phase_rx.clone();
            let t = std::thread::Builder::new()
                .name(format!("worker-{w}"))
                .spawn(move || worker(w, listeners, rx))
                .map_err(RunError::Io)?;
            threads.push(t);
        }

        // Health checks run on this control thread's runtime, off the workers' traffic
        // path; they stop when it is dropped.
        {
            let _rt = sig_rt.enter();
            crate::check::spawn(&shared.backends, &log_hub, config.global.spread_checks);
        }
        sig_rt.block_on(wait_signals(signals, &phase_tx, &shared, &fronts));
        let _ = phase_tx.send(Phase::Stopped);
        for t in threads {
            let _ = t.join();
        }
        log_hub.flush();
        Ok(())
    }
}

/// One worker thread: its own current-thread runtime, its listeners' accept loops.
fn worker(w: usize, listeners: Vec<WorkerListener>, mut phase: watch::Receiver<Phase>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            log::error!("worker {w}: cannot start its runtime: {e}");
            return;
        }
    };
    rt.block_on(async move {
        tokio::spawn(timer_anchor());
        for (fe, bind_idx, l, limits) in listeners {
            let rx = phase.clone();
            match accept::Listener::from_raw(l, fe.cfg().smart_accept()) {
                Ok(l) => {
                    tokio::spawn(accept::accept_loop(fe, bind_idx, l, limits, rx));
                }
                Err(e) => log::error!("worker {w}: listener unusable: {e}"),
            }
        }
        while *phase.borrow() != Phase::Stopped {
            if phase.changed().await.is_err() {
                break;
            }
        }
    });
    // Dropping the runtime cancels every remaining session (hard stop).
    rt.shutdown_timeout(Duration::from_millis(100));
}

/// Keeps one timer armed on the worker at all times. Tokio's time driver wakes its own
/// reactor (an eventfd `write`) whenever a timer is inserted earlier than the deadline it
/// last parked with, which is every time when it parked with no timer at all: without an
/// anchor most new connections paid that system call for their first timeout. A 1 s
/// period bounds the park deadline, so connect/client/server timeouts of a second or
/// more never trigger it; the cost is one wake-up per second per worker.
async fn timer_anchor() {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
    }
}

/// The signals the process acts on.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    usr1: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Must run inside a tokio runtime context.
    fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            usr1: signal(SignalKind::user_defined1())?,
            hup: signal(SignalKind::hangup())?,
        })
    }
}

async fn wait_signals(
    sigs: Signals,
    phase: &watch::Sender<Phase>,
    shared: &Shared,
    fronts: &[Arc<FrontendRt>],
) {
    let Signals {
        mut term,
        mut int,
        mut usr1,
        mut hup,
    } = sigs;
    loop {
        tokio::select! {
            _ = term.recv() => return,
            _ = int.recv() => return,
            _ = usr1.recv() => break,
            // As HAProxy: SIGHUP reports the servers' states and the process goes on.
            _ = hup.recv() => dump_states(shared, fronts),
        }
    }
    // Soft stop: close listeners, wait for sessions (a second TERM/INT ends it at once, and
    // `hard-stop-after` bounds the wait).
    log::warn!("soft stop: no more connections accepted, waiting for sessions to end");
    let _ = phase.send(Phase::Stopping);
    let drained = async {
        while shared.actconn.load(Ordering::Relaxed) > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let hard_stop = async {
        match shared.config.global.hard_stop_after {
            Some(after) => tokio::time::sleep(after).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = drained => {}
        _ = hard_stop => log::warn!("hard-stop-after reached: closing the remaining sessions"),
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// One line per server, in the spirit of HAProxy's SIGHUP dump, then (beyond HAProxy) the
/// share of HTTP requests that reused an idle server connection, per frontend.
fn dump_states(shared: &Shared, fronts: &[Arc<FrontendRt>]) {
    for be in &shared.backends {
        for s in &be.servers {
            let state = if s.state() == crate::server::ServerState::Up {
                "UP"
            } else {
                "DOWN"
            };
            log::warn!(
                "SIGHUP: Server {}/{} is {state}. Conn: {} act, {} pend.",
                be.name(),
                s.name(),
                s.cur_conns(),
                s.queued()
            );
        }
    }
    for fe in fronts {
        if let Some(http) = &fe.http {
            let st = &http.stats;
            log::warn!(
                "SIGHUP: Frontend {}: {} of {} server requests reused a connection ({:.1}%).",
                fe.cfg().name,
                st.reused.load(Ordering::Relaxed),
                st.requests.load(Ordering::Relaxed),
                st.share()
            );
        }
    }
}

/// Raises `RLIMIT_NOFILE` to cover `maxconn` (two fds per proxied connection plus pipes),
/// as HAProxy does; best effort.
fn raise_nofile(maxconn: u32) {
    let want = u64::from(maxconn) * 2 + 64;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain get/setrlimit with a valid struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
