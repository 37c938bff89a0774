//! The per-frontend context every session gets ([`FrontendRt`]): the IR frontend, the
//! runtime backends (indexed by `BackendId`), its log sinks, its connection counters, and
//! the process-wide counters (`%ac`).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use haproxyrs_config::ir::{self, BackendId};

use crate::backend::BackendRt;
use crate::log::Logger;

/// Process-wide state shared by all workers.
#[derive(Debug)]
pub struct Shared {
    pub config: Arc<ir::Config>,
    pub backends: Vec<Arc<BackendRt>>,
    /// Current client connections of the whole process (`%ac`).
    pub actconn: AtomicU32,
    /// Total accepted connections.
    pub cum_conns: AtomicU64,
    /// Every enabled frontend, for the stats page (weak: they hold this).
    pub frontends: std::sync::OnceLock<Vec<std::sync::Weak<FrontendRt>>>,
}

/// What a session handler needs about its frontend.
pub struct FrontendRt {
    pub idx: usize,
    pub shared: Arc<Shared>,
    pub logger: Logger,
    /// Current connections on this frontend (`%fc`).
    pub feconn: AtomicU32,
    /// Lines this frontend logged (`%lc`).
    pub log_count: AtomicU64,
    /// HTTP-mode state (idle server connections, error pages); `None` in TCP mode.
    pub http: Option<Arc<super::http_glue::HttpFrontend>>,
}

impl std::fmt::Debug for FrontendRt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrontendRt")
            .field("frontend", &self.cfg().name)
            .field("feconn", &self.feconn)
            .finish()
    }
}

impl FrontendRt {
    pub fn cfg(&self) -> &ir::Frontend {
        &self.shared.config.frontends[self.idx]
    }
    pub fn config(&self) -> &Arc<ir::Config> {
        &self.shared.config
    }
    pub fn backend(&self, id: BackendId) -> &Arc<BackendRt> {
        &self.shared.backends[id.0]
    }
    /// The backend of the same name (`listen` sections, dynamic `use_backend`).
    pub fn backend_by_name(&self, name: &str) -> Option<&Arc<BackendRt>> {
        self.shared
            .config
            .backend_by_name(name)
            .map(|id| &self.shared.backends[id.0])
    }
    pub fn actconn(&self) -> u32 {
        self.shared.actconn.load(Ordering::Relaxed)
    }
    pub fn feconn(&self) -> u32 {
        self.feconn.load(Ordering::Relaxed)
    }
    /// `%lc` for the line being logged: the lines logged before it.
    pub fn next_log_count(&self) -> u64 {
        self.log_count.fetch_add(1, Ordering::Relaxed)
    }
}

/// Counts one connection on the frontend and the process until dropped.
#[derive(Debug)]
pub struct ConnCount(Arc<FrontendRt>);

impl ConnCount {
    pub fn new(fe: &Arc<FrontendRt>) -> ConnCount {
        fe.feconn.fetch_add(1, Ordering::Relaxed);
        fe.shared.actconn.fetch_add(1, Ordering::Relaxed);
        fe.shared.cum_conns.fetch_add(1, Ordering::Relaxed);
        ConnCount(Arc::clone(fe))
    }
}

impl Drop for ConnCount {
    fn drop(&mut self) {
        self.0.feconn.fetch_sub(1, Ordering::Relaxed);
        self.0.shared.actconn.fetch_sub(1, Ordering::Relaxed);
    }
}
