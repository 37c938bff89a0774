//! Log sinks. A session renders its line into a pooled buffer and hands it to its
//! [`Logger`], which frames it per target (rfc3164 as HAProxy emits it, rfc5424, short, raw).
//! Datagram targets (a UDP syslog server, a unix socket) are sent to at once from the
//! session's own thread with a non-blocking `sendto`, as HAProxy does: no hand-over, no
//! wake-up of another thread per line. stdout/stderr may block, so their lines go through a
//! bounded channel to one logger thread (never blocking the session; a full channel drops
//! the line and counts it). Line buffers go back to a pool once written, so a logged
//! request costs no allocation.

use std::cell::RefCell;
use std::io::Write;
use std::net::UdpSocket;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use haproxyrs_config::ir::{self, LogTarget, LogTransport};

use super::render::{local_tm, MONTHS};

/// Lines waiting for the logger thread before new ones are dropped.
const QUEUE: usize = 4096;
/// Written line buffers kept for reuse, and the largest one kept.
const POOL: usize = 256;
const POOLED_CAPACITY: usize = 4096;
/// syslog level of traffic logs.
pub const LEVEL_INFO: u8 = 6;

struct Msg {
    sinks: Arc<[usize]>,
    level: u8,
    text: String,
}

impl Msg {
    /// Asks the logger thread to stop after the lines queued before it.
    fn stop() -> Msg {
        Msg {
            sinks: Arc::from(Vec::new()),
            level: u8::MAX,
            text: String::new(),
        }
    }
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The process' log sinks and the thread that writes to the stream ones.
#[derive(Debug)]
pub struct LogHub {
    targets: Vec<LogTarget>,
    sinks: Arc<[Sink]>,
    /// `None` without stream targets (no thread), or once stopped.
    tx: Mutex<Option<SyncSender<Msg>>>,
    dropped: Arc<AtomicU64>,
    lines: Arc<LinePool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Line buffers already written, for sessions to render their next line into.
#[derive(Debug, Default)]
struct LinePool(Mutex<Vec<String>>);

impl LinePool {
    fn take(&self) -> String {
        let line = self.0.lock().ok().and_then(|mut free| free.pop());
        line.unwrap_or_else(|| String::with_capacity(256))
    }

    fn give(&self, mut line: String) {
        if line.capacity() > POOLED_CAPACITY {
            return;
        }
        line.clear();
        if let Ok(mut free) = self.0.lock() {
            if free.len() < POOL {
                free.push(line);
            }
        }
    }
}

impl LogHub {
    /// Collects every distinct target of the config, opens them and, if one of them is
    /// stdout or stderr, starts the logger thread.
    pub fn start(config: &ir::Config) -> Arc<LogHub> {
        let mut targets: Vec<LogTarget> = Vec::new();
        let all = config
            .global
            .logs
            .iter()
            .chain(config.frontends.iter().flat_map(|f| f.logs.iter()))
            .chain(config.backends.iter().flat_map(|b| b.logs.iter()));
        for t in all {
            if !targets.contains(t) {
                targets.push(t.clone());
            }
        }
        let sinks: Arc<[Sink]> = targets.iter().map(Sink::open).collect();
        let lines = Arc::new(LinePool::default());
        let (mut tx, mut thread) = (None, None);
        if sinks.iter().any(Sink::is_stream) {
            let (sender, rx) = sync_channel::<Msg>(QUEUE);
            let (written, streams) = (Arc::clone(&lines), Arc::clone(&sinks));
            thread = std::thread::Builder::new()
                .name("logger".into())
                .spawn(move || logger_thread(rx, &streams, &written))
                .ok();
            tx = thread.as_ref().map(|_| sender);
        }
        Arc::new(LogHub {
            targets,
            sinks,
            tx: Mutex::new(tx),
            dropped: Arc::new(AtomicU64::new(0)),
            lines,
            thread: Mutex::new(thread),
        })
    }

    /// Lines dropped because the logger thread could not keep up.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Stops the thread after it wrote every queued line.
    pub fn flush(&self) {
        // Loggers hold senders too: a stop message ends the thread, not the last sender.
        if let Some(tx) = self.tx.lock().ok().and_then(|mut t| t.take()) {
            let _ = tx.send(Msg::stop());
        }
        if let Ok(mut t) = self.thread.lock() {
            if let Some(t) = t.take() {
                let _ = t.join();
            }
        }
    }
}

/// A proxy's handle on its log targets.
#[derive(Clone, Debug)]
pub struct Logger {
    /// This proxy's targets, as indexes into `all`.
    sinks: Arc<[usize]>,
    all: Arc<[Sink]>,
    /// Some of `sinks` are streams (the logger thread writes them).
    streams: bool,
    tx: Option<SyncSender<Msg>>,
    dropped: Arc<AtomicU64>,
    lines: Arc<LinePool>,
}

impl Logger {
    pub fn new(hub: &LogHub, targets: &[LogTarget]) -> Logger {
        let sinks: Vec<usize> = targets
            .iter()
            .filter_map(|t| hub.targets.iter().position(|h| h == t))
            .collect();
        Logger {
            streams: sinks.iter().any(|&i| hub.sinks[i].is_stream()),
            sinks: sinks.into(),
            all: Arc::clone(&hub.sinks),
            tx: hub.tx.lock().ok().and_then(|t| t.clone()),
            dropped: Arc::clone(&hub.dropped),
            lines: Arc::clone(&hub.lines),
        }
    }

    /// A logger that logs nowhere.
    pub fn disabled() -> Logger {
        Logger {
            sinks: Arc::from(Vec::new()),
            all: Arc::from(Vec::new()),
            streams: false,
            tx: None,
            dropped: Arc::new(AtomicU64::new(0)),
            lines: Arc::default(),
        }
    }

    pub fn is_enabled(&self) -> bool {
        !self.sinks.is_empty()
    }

    /// An empty line buffer to render a message into, for [`Logger::send`].
    pub fn line(&self) -> String {
        self.lines.take()
    }

    /// Logs one message at syslog `level`: sent now to datagram targets, queued for
    /// stream ones; never blocks.
    pub fn send(&self, level: u8, text: String) {
        for &i in self.sinks.iter() {
            if let Some(sink) = self.all.get(i).filter(|s| !s.is_stream()) {
                FRAME.with_borrow_mut(|buf| sink.write(level, &text, buf));
            }
        }
        let Some(tx) = self.tx.as_ref().filter(|_| self.streams) else {
            return self.lines.give(text);
        };
        let msg = Msg {
            sinks: Arc::clone(&self.sinks),
            level,
            text,
        };
        if let Err(TrySendError::Full(m) | TrySendError::Disconnected(m)) = tx.try_send(msg) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            self.lines.give(m.text);
        }
    }
}

thread_local! {
    /// The framed message, per thread.
    static FRAME: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(1024));
}

#[derive(Debug)]
enum Out {
    Stdout,
    Stderr,
    Udp(Option<UdpSocket>, std::net::SocketAddr),
    Unix(Option<UnixDatagram>, std::path::PathBuf),
}

#[derive(Debug)]
struct Sink {
    out: Out,
    facility: u8,
    max_level: u8,
    format: LogTransport,
}

impl Sink {
    fn open(t: &LogTarget) -> Sink {
        // Datagram sockets are non-blocking: a full socket buffer drops the line, as in
        // HAProxy, rather than stall the session that logs it.
        match t {
            LogTarget::Stdout { format } => Sink {
                out: Out::Stdout,
                facility: 16,
                max_level: 7,
                format: *format,
            },
            LogTarget::Stderr { format } => Sink {
                out: Out::Stderr,
                facility: 16,
                max_level: 7,
                format: *format,
            },
            LogTarget::Udp {
                addr,
                facility,
                max_level,
                format,
            } => {
                let bind = if addr.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let sock = UdpSocket::bind(bind)
                    .and_then(|s| s.set_nonblocking(true).map(|()| s))
                    .ok();
                Sink {
                    out: Out::Udp(sock, *addr),
                    facility: *facility,
                    max_level: *max_level,
                    format: *format,
                }
            }
            LogTarget::Unix {
                path,
                facility,
                max_level,
                format,
            } => {
                let sock = UnixDatagram::unbound()
                    .and_then(|s| s.set_nonblocking(true).map(|()| s))
                    .ok();
                Sink {
                    out: Out::Unix(sock, path.clone()),
                    facility: *facility,
                    max_level: *max_level,
                    format: *format,
                }
            }
        }
    }

    /// stdout/stderr: written by the logger thread only.
    fn is_stream(&self) -> bool {
        matches!(self.out, Out::Stdout | Out::Stderr)
    }

    fn write(&self, level: u8, text: &str, buf: &mut Vec<u8>) {
        if level > self.max_level {
            return;
        }
        buf.clear();
        frame(self.format, self.facility, level, text, buf);
        let _ = match &self.out {
            Out::Stdout => std::io::stdout().lock().write_all(buf),
            Out::Stderr => std::io::stderr().lock().write_all(buf),
            Out::Udp(Some(s), addr) => s.send_to(buf, *addr).map(|_| ()),
            Out::Unix(Some(s), path) => s.send_to(buf, path).map(|_| ()),
            _ => Ok(()),
        };
    }
}

/// Frames a message for the wire. rfc3164 as HAProxy sends it:
/// `<PRI>Nov 25 12:45:38 haproxy[PID]: MSG\n`; rfc5424:
/// `<PRI>1 2026-11-25T12:45:38.100547+00:00 - haproxy PID - - MSG\n`.
pub fn frame(format: LogTransport, facility: u8, level: u8, text: &str, out: &mut Vec<u8>) {
    let pri = u32::from(facility) * 8 + u32::from(level);
    let pid = std::process::id();
    match format {
        LogTransport::Rfc3164 => {
            let (_, mo, d, h, mi, s, _, _) = local_tm(std::time::SystemTime::now());
            let _ = write!(
                out,
                "<{pri}>{} {:2} {:02}:{:02}:{:02} haproxy[{pid}]: ",
                MONTHS[mo], d, h, mi, s
            );
        }
        LogTransport::Rfc5424 => {
            let now = std::time::SystemTime::now();
            let (y, mo, d, h, mi, s, _, off) = local_tm(now);
            let us = now
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_micros())
                .unwrap_or(0);
            let sign = if off < 0 { '-' } else { '+' };
            let off = off.abs();
            let _ = write!(
                out,
                "<{pri}>1 {y:04}-{:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}{sign}{:02}:{:02} - haproxy {pid} - - ",
                mo + 1,
                off / 3600,
                (off % 3600) / 60
            );
        }
        LogTransport::Short => {
            let _ = write!(out, "<{pri}>");
        }
        LogTransport::Raw => {}
    }
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
}

fn logger_thread(rx: Receiver<Msg>, sinks: &[Sink], lines: &LinePool) {
    let mut buf = Vec::with_capacity(1024);
    while let Ok(m) = rx.recv() {
        if m.level == u8::MAX {
            break;
        }
        for &i in m.sinks.iter() {
            if let Some(s) = sinks.get(i).filter(|s| s.is_stream()) {
                s.write(m.level, &m.text, &mut buf);
            }
        }
        lines.give(m.text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing() {
        let mut o = Vec::new();
        frame(LogTransport::Raw, 16, 6, "hello", &mut o);
        assert_eq!(o, b"hello\n");
        o.clear();
        frame(LogTransport::Short, 16, 6, "hello", &mut o);
        assert_eq!(o, b"<134>hello\n");
        o.clear();
        frame(LogTransport::Rfc3164, 16, 6, "m", &mut o);
        let s = String::from_utf8(o.clone()).unwrap();
        assert!(
            s.starts_with("<134>")
                && s.ends_with(&format!(" haproxy[{}]: m\n", std::process::id())),
            "{s}"
        );
        assert_eq!(
            s.len(),
            "<134>Nov 25 12:45:38 haproxy[".len() + std::process::id().to_string().len() + 5
        );
        o.clear();
        frame(LogTransport::Rfc5424, 16, 6, "m", &mut o);
        let s = String::from_utf8(o).unwrap();
        assert!(s.starts_with("<134>1 ") && s.contains(" - haproxy "), "{s}");
    }

    #[test]
    fn udp_sink_receives_from_the_sending_thread_and_never_blocks() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let target = LogTarget::Udp {
            addr: rx.local_addr().unwrap(),
            facility: 16,
            max_level: 7,
            format: LogTransport::Raw,
        };
        let mut cfg = ir::Config::default();
        cfg.global.logs.push(target.clone());
        let hub = LogHub::start(&cfg);
        let lg = Logger::new(&hub, &[target]);
        lg.send(LEVEL_INFO, "line one".into());
        let mut b = [0u8; 100];
        let n = rx.recv(&mut b).unwrap();
        assert_eq!(&b[..n], b"line one\n");
        // Nothing reads on: the socket buffer fills and later lines are dropped, unblocked.
        for _ in 0..(QUEUE * 3) {
            lg.send(LEVEL_INFO, "x".repeat(1000));
        }
        assert!(
            hub.thread.lock().unwrap().is_none(),
            "no thread for datagram sinks"
        );
        hub.flush();
    }
}
