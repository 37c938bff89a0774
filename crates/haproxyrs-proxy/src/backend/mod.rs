//! Per-backend runtime: its servers' live state, its balancer, its queue, and the one
//! connection-setup path every engine uses ([`BackendRt::connect`]): pick a server (or
//! honour a persistence target), wait for a slot (per-server `maxconn`, `timeout queue`),
//! connect (`timeout connect`), retry (`retries`, 1 s turnaround after an immediate
//! failure) and redispatch on the last retry (`option redispatch`), then send the PROXY
//! header when the server asks for it.

use std::io;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use haproxyrs_config::ir::{self, BackendId};
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::sync::Notify;

use crate::balance::{Balancer, HashKey, Pick};
use crate::proxy_protocol;
use crate::runtime::conn::{ConnAddr, Stream};
use crate::server::{ServerRt, ServerState, SlotGuard};

/// What the engine knows about the connection it wants a server for.
#[derive(Clone, Copy, Debug)]
pub struct ConnectRequest<'a> {
    /// The client's address (hash key of `balance source`, PROXY header source).
    pub src: &'a ConnAddr,
    /// The address the client connected to (port of port-less servers, PROXY header).
    pub dst: &'a ConnAddr,
    /// Key for `uri`/`url_param`/`hdr`/`hash` balancing, computed by the HTTP engine.
    /// `None` with those algorithms falls back to round-robin, as HAProxy does.
    pub hash_key: Option<&'a [u8]>,
    /// Persistence target (a cookie's server index): used when usable.
    pub persist: Option<usize>,
    /// A server the caller already chose by balancing (the HTTP engine does, to reuse its
    /// idle connections): the first attempt goes there.
    pub first: Option<usize>,
}

/// A connected server stream with the slot it occupies.
#[derive(Debug)]
pub struct ServerConn {
    pub stream: Stream,
    pub server: Arc<ServerRt>,
    /// Releases the server's connection slot when dropped.
    pub slot: SlotGuard,
    /// Connection retries made (`%rc`).
    pub retries: u32,
    /// The last retry went to another server (`+` before `%rc`).
    pub redispatched: bool,
    /// `%Tw` (until the last server assignment) and `%Tc` (from it to connected).
    pub queue_time: Duration,
    pub connect_time: Duration,
    /// The server's address as connected.
    pub addr: ConnAddr,
    /// Where the request waited for its slot (`%sq`/`%bq`).
    pub queue: QueuePos,
}

/// A request's places in the queues it went through, as 2.6 logs them in `%sq` (server
/// queues) and `%bq` (the backend's queue): for each stay, one plus the number of other
/// requests that left the same queue with a slot meanwhile (its 1-based place in a FIFO
/// queue), summed over stays; 0 when it never waited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueuePos {
    pub server: u32,
    pub backend: u32,
}

/// One stay in a queue: the server's (`Some(idx)`) or the backend's, and that queue's
/// dequeue count when the request joined it.
#[derive(Clone, Copy)]
struct Stay {
    server: Option<usize>,
    joined: u64,
}

/// Why no server connection could be made (maps onto HAProxy's termination flags).
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No usable server (`SC` with `<NOSRV>`; 503 in HTTP).
    #[error("no server available")]
    NoServer,
    /// `timeout queue` expired while waiting for a slot (`sQ`; 503 in HTTP).
    #[error("timeout while queued")]
    QueueTimeout {
        server: Option<Arc<ServerRt>>,
        waited: Duration,
        queue: QueuePos,
    },
    /// Every attempt failed (`SC`, or `sC` on connect timeout; 503 in HTTP).
    #[error("connection to server {} failed: {error}", server.name())]
    Failed {
        server: Arc<ServerRt>,
        retries: u32,
        redispatched: bool,
        timed_out: bool,
        queue_time: Duration,
        queue: QueuePos,
        error: io::Error,
    },
}

/// The runtime object of one backend.
#[derive(Debug)]
pub struct BackendRt {
    pub id: BackendId,
    config: Arc<ir::Config>,
    pub servers: Vec<Arc<ServerRt>>,
    balancer: Balancer,
    /// Woken when any server slot frees up (the backend queue).
    queue: Arc<Notify>,
    queued: AtomicU32,
    /// Requests that left the backend queue with a slot (for `%bq`).
    dequeued: AtomicU64,
    /// Current connections through this backend (`%bc`).
    conns: AtomicU32,
    /// Monotonic sequence for leastconn tie-breaking.
    seq: AtomicU64,
}

/// Counts a connection on the backend for as long as it lives.
#[derive(Debug)]
pub struct BackendConnGuard(Arc<BackendRt>);

impl Drop for BackendConnGuard {
    fn drop(&mut self) {
        self.0.conns.fetch_sub(1, Ordering::Relaxed);
    }
}

impl BackendRt {
    pub fn new(config: Arc<ir::Config>, id: BackendId) -> BackendRt {
        let be = config.backend(id);
        let servers: Vec<Arc<ServerRt>> = be
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| Arc::new(ServerRt::new(i, s.clone())))
            .collect();
        let balancer = Balancer::new(be, &servers);
        BackendRt {
            id,
            config,
            servers,
            balancer,
            queue: Arc::new(Notify::new()),
            queued: AtomicU32::new(0),
            dequeued: AtomicU64::new(0),
            conns: AtomicU32::new(0),
            seq: AtomicU64::new(1 << 20),
        }
    }

    pub fn cfg(&self) -> &ir::Backend {
        self.config.backend(self.id)
    }
    pub fn name(&self) -> &str {
        &self.cfg().name
    }
    /// Requests waiting in the backend queue (`%bq`).
    pub fn queued(&self) -> u32 {
        self.queued.load(Ordering::Relaxed)
    }
    pub fn conns(&self) -> u32 {
        self.conns.load(Ordering::Relaxed)
    }
    /// Counts a session on this backend (`%bc`) until the guard drops.
    pub fn enter(self: &Arc<Self>) -> BackendConnGuard {
        self.conns.fetch_add(1, Ordering::Relaxed);
        BackendConnGuard(Arc::clone(self))
    }
    pub fn server_by_name(&self, name: &str) -> Option<&Arc<ServerRt>> {
        self.servers.iter().find(|s| s.name() == name)
    }
    /// Number of usable servers (`nbsrv`).
    pub fn usable_servers(&self) -> usize {
        self.servers.iter().filter(|s| s.is_usable()).count()
    }

    /// Changes a server's state (health checks, runtime API) and rebalances.
    pub fn set_server_state(&self, idx: usize, state: ServerState) {
        if let Some(s) = self.servers.get(idx) {
            s.set_state_raw(state);
            self.balancer.rebuild(&self.servers);
            self.queue.notify_waiters();
        }
    }

    /// Changes a server's weight and rebalances.
    pub fn set_server_weight(&self, idx: usize, weight: u32) {
        if let Some(s) = self.servers.get(idx) {
            s.set_weight_raw(weight.min(256));
            self.balancer.rebuild(&self.servers);
        }
    }

    /// One balancing decision without taking a slot (the HTTP engine's pick step).
    pub fn pick(&self, src: &ConnAddr, key: Option<&[u8]>) -> Pick {
        let key = match self.cfg().balance {
            ir::Balance::Source => src.ip().map(HashKey::Source),
            _ => key.map(HashKey::Bytes),
        };
        self.balancer.pick(&self.servers, key, None)
    }

    /// Whether a failed connection may go to another server at its first retry rather
    /// than its last (2.6's rule): the server was not chosen by persistence, the algorithm
    /// does not tie a client or a request to one server (not a hash), and another active
    /// server is usable.
    fn spreads(&self, direct: bool) -> bool {
        let hashed = matches!(
            self.cfg().balance,
            ir::Balance::Source
                | ir::Balance::Random { .. }
                | ir::Balance::Uri { .. }
                | ir::Balance::UrlParam { .. }
                | ir::Balance::Hdr { .. }
                | ir::Balance::RdpCookie { .. }
                | ir::Balance::Hash(_)
        );
        let active = self
            .servers
            .iter()
            .filter(|s| !s.is_backup() && s.is_usable())
            .count();
        !direct && !hashed && active > 1
    }

    /// Whether an active server other than `idx` is usable: a redispatch with nowhere
    /// else to go retries the same server (with the turnaround delay), as 2.6 does.
    fn has_other_active(&self, idx: usize) -> bool {
        self.servers
            .iter()
            .any(|s| s.idx != idx && !s.is_backup() && s.is_usable())
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Chooses a server and takes one of its slots, waiting in a queue until `deadline`
    /// when every candidate is saturated.
    async fn acquire(
        &self,
        req: &ConnectRequest<'_>,
        mut target: Option<usize>,
        avoid: Option<usize>,
        deadline: Option<Instant>,
        pos: &mut QueuePos,
    ) -> Result<SlotGuard, ConnectError> {
        let key = match self.cfg().balance {
            ir::Balance::Source => req.src.ip().map(HashKey::Source),
            _ => req.hash_key.map(HashKey::Bytes),
        };
        // The common case first, without joining a queue's waiter list: the server to use
        // has a free slot. Otherwise the loop below registers, then looks again.
        match target {
            Some(i) if self.servers[i].state() != ServerState::Maint => {}
            _ => match self.balancer.pick(&self.servers, key, avoid) {
                Pick::NoServer => return Err(ConnectError::NoServer),
                Pick::Server(i) => target = Some(i),
                Pick::Saturated => {}
            },
        }
        if let Some(i) = target {
            if let Some(mut g) = self.servers[i].try_take_slot(self.next_seq()) {
                g.on_release = Some(Arc::clone(&self.queue));
                return Ok(g);
            }
        }
        let mut stay: Option<Stay> = None;
        loop {
            // Register interest before checking, so a slot freed in between wakes us.
            let srv_wait = target.map(|i| Arc::clone(&self.servers[i]));
            let notified = match &srv_wait {
                Some(s) => s.slot_freed.notified(),
                None => self.queue.notified(),
            };
            tokio::pin!(notified);
            notified.as_mut().enable();

            let pick = match target {
                Some(i) if self.servers[i].state() != ServerState::Maint => Pick::Server(i),
                _ => self.balancer.pick(&self.servers, key, avoid),
            };
            match pick {
                Pick::NoServer => return Err(ConnectError::NoServer),
                Pick::Server(i) => {
                    if let Some(mut g) = self.servers[i].try_take_slot(self.next_seq()) {
                        g.on_release = Some(Arc::clone(&self.queue));
                        if let Some(st) = stay {
                            self.leave_queue(st, true, pos);
                        }
                        return Ok(g);
                    }
                    if target != Some(i) {
                        // The server the algorithm insists on is full: queue on it.
                        target = Some(i);
                        continue;
                    }
                }
                Pick::Saturated => {
                    if target.is_some() {
                        target = None;
                        continue;
                    }
                }
            }
            // Wait for a slot, counted in the right queue.
            let queue = srv_wait.as_ref().map(|s| s.idx);
            if stay.is_none_or(|st| st.server != queue) {
                if let Some(st) = stay {
                    self.leave_queue(st, false, pos);
                }
                stay = Some(Stay {
                    server: queue,
                    joined: self.dequeue_count(queue).load(Ordering::Relaxed),
                });
            }
            let counted = match &srv_wait {
                Some(s) => {
                    s.queue_enter();
                    QueueCount::Server(Arc::clone(s))
                }
                None => {
                    self.queued.fetch_add(1, Ordering::Relaxed);
                    QueueCount::Backend(&self.queued)
                }
            };
            let woke = match deadline {
                Some(d) => tokio::time::timeout_at(d.into(), notified).await.is_ok(),
                None => {
                    notified.await;
                    true
                }
            };
            drop(counted);
            if !woke {
                if let Some(st) = stay {
                    self.leave_queue(st, false, pos);
                }
                return Err(ConnectError::QueueTimeout {
                    server: target.map(|i| Arc::clone(&self.servers[i])),
                    waited: Duration::ZERO,
                    queue: *pos,
                });
            }
        }
    }

    /// How many requests left a queue with a slot: a server's, or the backend's (`None`).
    fn dequeue_count(&self, server: Option<usize>) -> &AtomicU64 {
        match server {
            Some(i) => &self.servers[i].dequeued,
            None => &self.dequeued,
        }
    }

    /// Ends a stay in a queue, with a slot (`dequeued`) or not (timeout, another queue),
    /// adding its place to `pos`.
    fn leave_queue(&self, stay: Stay, dequeued: bool, pos: &mut QueuePos) {
        let count = self.dequeue_count(stay.server);
        let now = if dequeued {
            count.fetch_add(1, Ordering::Relaxed)
        } else {
            count.load(Ordering::Relaxed)
        };
        let place =
            u32::try_from(now.wrapping_sub(stay.joined).saturating_add(1)).unwrap_or(u32::MAX);
        match stay.server {
            Some(_) => pos.server = pos.server.saturating_add(place),
            None => pos.backend = pos.backend.saturating_add(place),
        }
    }

    /// Connects to a server for `req`: balancing, queueing, retries, redispatch, PROXY
    /// header. The returned [`ServerConn`] holds the server slot until dropped.
    pub async fn connect(&self, req: &ConnectRequest<'_>) -> Result<ServerConn, ConnectError> {
        let cfg = self.cfg();
        let timeouts = &cfg.timeouts;
        let start = Instant::now();
        let queue_timeout = timeouts.queue.or(timeouts.connect);
        let persisted = req
            .persist
            .filter(|&i| i < self.servers.len() && self.servers[i].state() == ServerState::Up);
        // A server reached through persistence is "direct": 2.6 then retries it before
        // redispatching, whatever the algorithm.
        let direct = persisted.is_some();
        let mut target = persisted.or(req.first.filter(|&i| i < self.servers.len()));
        let mut avoid = None;
        let mut retries = 0u32;
        let mut redispatched = false;
        // `%Tw` runs until the last assignment of a server: the first one, and each retry
        // that redispatches (2.6 counts the turnaround before it too).
        let mut queue_time = Duration::ZERO;
        let mut assigning = true;
        let mut queue = QueuePos::default();
        loop {
            let deadline = queue_timeout.map(|t| Instant::now() + t);
            let slot = match self.acquire(req, target, avoid, deadline, &mut queue).await {
                Ok(s) => s,
                Err(ConnectError::QueueTimeout { server, queue, .. }) => {
                    return Err(ConnectError::QueueTimeout {
                        server,
                        waited: start.elapsed(),
                        queue,
                    })
                }
                Err(e) => return Err(e),
            };
            if std::mem::take(&mut assigning) {
                queue_time = start.elapsed();
            }
            let server = Arc::clone(slot.server());
            let attempt = connect_server(&server, req, timeouts.connect).await;
            // `%Tc`: from the last assignment on, retries to the same server included.
            let connect_time = start.elapsed().saturating_sub(queue_time);
            match attempt {
                Ok((stream, addr)) => {
                    return Ok(ServerConn {
                        stream,
                        server,
                        slot,
                        retries,
                        redispatched,
                        queue_time,
                        connect_time,
                        addr,
                        queue,
                    })
                }
                Err((error, timed_out)) => {
                    drop(slot);
                    log::debug!(
                        "backend {}: connect to {} failed: {error}",
                        cfg.name,
                        server.name()
                    );
                    if retries >= cfg.retries {
                        return Err(ConnectError::Failed {
                            server,
                            retries,
                            redispatched,
                            timed_out,
                            queue_time,
                            queue,
                            error,
                        });
                    }
                    retries += 1;
                    assigning =
                        cfg.options.redispatch && (retries == cfg.retries || self.spreads(direct));
                    if assigning && self.has_other_active(server.idx) {
                        // Anywhere but the failing server, at once (no turnaround delay).
                        target = None;
                        avoid = Some(server.idx);
                        redispatched = true;
                    } else {
                        target = Some(server.idx);
                        if !timed_out {
                            // An immediate failure would fail again immediately.
                            let mut delay = Duration::from_secs(1);
                            if let Some(c) = timeouts.connect {
                                delay = delay.min(c);
                            }
                            tokio::time::sleep(delay).await;
                        }
                    }
                }
            }
        }
    }
}

enum QueueCount<'a> {
    Server(Arc<ServerRt>),
    Backend(&'a AtomicU32),
}

impl Drop for QueueCount<'_> {
    fn drop(&mut self) {
        match self {
            QueueCount::Server(s) => s.queue_leave(),
            QueueCount::Backend(q) => {
                q.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

/// One connection attempt. Err carries whether it was a timeout.
async fn connect_server(
    server: &ServerRt,
    req: &ConnectRequest<'_>,
    timeout: Option<Duration>,
) -> Result<(Stream, ConnAddr), (io::Error, bool)> {
    let fut = async {
        let (mut stream, addr) = match &server.cfg.addr {
            ir::ServerAddr::Inet { .. } => {
                let sa = server.inet_addr(req.dst.port()).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidInput, "server port out of range")
                })?;
                let s = crate::runtime::conn::TcpConn::connect(sa).await?;
                (Stream::Tcp(s), ConnAddr::Inet(sa))
            }
            ir::ServerAddr::Unix(path) => (
                Stream::Unix(UnixStream::connect(path).await?),
                ConnAddr::Unix(Some(path.clone())),
            ),
            ir::ServerAddr::Unresolved { host, .. } => {
                return Err(io::Error::new(
                    io::ErrorKind::AddrNotAvailable,
                    format!("server address '{host}' is not resolved"),
                ))
            }
            ir::ServerAddr::Abns(name) => {
                use std::os::linux::net::SocketAddrExt;
                let a = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
                let s = std::os::unix::net::UnixStream::connect_addr(&a)?;
                s.set_nonblocking(true)?;
                (Stream::Unix(UnixStream::from_std(s)?), ConnAddr::Unix(None))
            }
        };
        if let Some(pp) = server.cfg.send_proxy {
            let mut hdr = Vec::with_capacity(64);
            match pp {
                ir::ProxyProtocol::V1 => proxy_protocol::encode_v1(req.src, req.dst, &mut hdr),
                ir::ProxyProtocol::V2 => proxy_protocol::encode_v2(req.src, req.dst, &mut hdr),
            }
            stream.write_all(&hdr).await?;
        }
        Ok::<_, io::Error>((stream, addr))
    };
    match timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r.map_err(|e| (e, false)),
            Err(_) => Err((
                io::Error::new(io::ErrorKind::TimedOut, "connect timeout"),
                true,
            )),
        },
        None => fut.await.map_err(|e| (e, false)),
    }
}
