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

use haproxyrs_config::ir::{self, LogDest, LogTarget, LogTransport};

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
    /// One per distinct target of the config.
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
        let header = Header::of(&config.global);
        let sinks: Arc<[Sink]> = targets.iter().map(|t| Sink::open(t, &header)).collect();
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
            .filter_map(|t| hub.sinks.iter().position(|s| s.target == *t))
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
                // The thread's buffer, unless it is gone (a line logged while the thread
                // exits) or in use: never a panic for a log line.
                let framed = FRAME.try_with(|buf| {
                    buf.try_borrow_mut()
                        .map(|mut buf| sink.write(level, &text, &mut buf))
                        .is_ok()
                });
                if framed != Ok(true) {
                    sink.write(level, &text, &mut Vec::new());
                }
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

/// One open target.
#[derive(Debug)]
struct Sink {
    out: Out,
    target: LogTarget,
    header: Header,
    /// Lines offered so far, for `sample`.
    offered: AtomicU64,
}

/// What 2.6 puts in a syslog header besides the date: `log-tag` (default `haproxy`), the
/// pid, and `log-send-hostname` (the system's host name when given without a value).
#[derive(Clone, Debug)]
pub struct Header {
    tag: String,
    pid: u32,
    hostname: Option<String>,
}

impl Header {
    pub fn of(global: &ir::Global) -> Header {
        let hostname = global.log_send_hostname.as_ref().map(|h| {
            if h.is_empty() {
                system_hostname()
            } else {
                h.clone()
            }
        });
        Header {
            tag: global.log_tag.clone().unwrap_or_else(|| "haproxy".into()),
            pid: std::process::id(),
            hostname,
        }
    }
}

fn system_hostname() -> String {
    let mut b = [0u8; 256];
    // SAFETY: gethostname writes at most `b.len()` bytes into the buffer.
    let ok = unsafe { libc::gethostname(b.as_mut_ptr().cast(), b.len()) } == 0;
    let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    if ok {
        String::from_utf8_lossy(&b[..n]).into_owned()
    } else {
        "localhost".into()
    }
}

impl Sink {
    fn open(t: &LogTarget, header: &Header) -> Sink {
        // Datagram sockets are non-blocking: a full socket buffer drops the line, as in
        // HAProxy, rather than stall the session that logs it.
        let out = match &t.dest {
            LogDest::Stdout => Out::Stdout,
            LogDest::Stderr => Out::Stderr,
            LogDest::Udp(addr) => {
                let bind = if addr.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let sock = UdpSocket::bind(bind)
                    .and_then(|s| s.set_nonblocking(true).map(|()| s))
                    .ok();
                Out::Udp(sock, *addr)
            }
            LogDest::Unix(path) => {
                let sock = UnixDatagram::unbound()
                    .and_then(|s| s.set_nonblocking(true).map(|()| s))
                    .ok();
                Out::Unix(sock, path.clone())
            }
        };
        Sink {
            out,
            target: t.clone(),
            header: header.clone(),
            offered: AtomicU64::new(0),
        }
    }

    /// stdout/stderr: written by the logger thread only.
    fn is_stream(&self) -> bool {
        matches!(self.out, Out::Stdout | Out::Stderr)
    }

    fn write(&self, level: u8, text: &str, buf: &mut Vec<u8>) {
        let t = &self.target;
        if level > t.max_level {
            return;
        }
        if let Some(sample) = &t.sample {
            if !sample.keeps(self.offered.fetch_add(1, Ordering::Relaxed)) {
                return;
            }
        }
        buf.clear();
        frame(t, &self.header, level.max(t.min_level), text, buf);
        let _ = match &self.out {
            Out::Stdout => std::io::stdout().lock().write_all(buf),
            Out::Stderr => std::io::stderr().lock().write_all(buf),
            Out::Udp(Some(s), addr) => s.send_to(buf, *addr).map(|_| ()),
            Out::Unix(Some(s), path) => s.send_to(buf, path).map(|_| ()),
            _ => Ok(()),
        };
    }
}

/// Frames a message for `target` as 2.6 does (see [`LogTransport`] for each header), cut
/// to the target's `len` (which counts the final LF in `raw`, and one byte less otherwise).
pub fn frame(target: &LogTarget, h: &Header, level: u8, text: &str, out: &mut Vec<u8>) {
    let pri = u32::from(target.facility) * 8 + u32::from(level);
    let (tag, pid) = (&h.tag, h.pid);
    let now = std::time::SystemTime::now();
    match target.format {
        LogTransport::Unspecified | LogTransport::Rfc3164 | LogTransport::Local => {
            let (_, mo, d, hh, mi, ss, _, _) = local_tm(now);
            let _ = write!(out, "<{pri}>{} {d:2} {hh:02}:{mi:02}:{ss:02} ", MONTHS[mo]);
            let host = match target.format {
                LogTransport::Rfc3164 => Some(h.hostname.as_deref().unwrap_or("localhost")),
                LogTransport::Unspecified => h.hostname.as_deref(),
                _ => None,
            };
            if let Some(host) = host {
                let _ = write!(out, "{host} ");
            }
            let _ = write!(out, "{tag}[{pid}]: ");
        }
        LogTransport::Rfc5424 => {
            let _ = write!(out, "<{pri}>1 ");
            iso_time(now, out);
            let host = h.hostname.as_deref().unwrap_or("-");
            let _ = write!(out, " {host} {tag} {pid} - - ");
        }
        LogTransport::Short => {
            let _ = write!(out, "<{level}>");
        }
        LogTransport::Priority => {
            let _ = write!(out, "<{pri}>");
        }
        LogTransport::Timed => {
            let _ = write!(out, "<{level}>");
            iso_time(now, out);
            out.push(b' ');
        }
        LogTransport::Iso => {
            iso_time(now, out);
            out.push(b' ');
        }
        LogTransport::Raw => {}
    }
    out.extend_from_slice(text.as_bytes());
    let max = target.len as usize + usize::from(target.format != LogTransport::Raw);
    out.truncate(max.saturating_sub(1));
    out.push(b'\n');
}

/// `2026-11-25T12:45:38.100547+00:00`, local time.
fn iso_time(now: std::time::SystemTime, out: &mut Vec<u8>) {
    let (y, mo, d, h, mi, s, _, off) = local_tm(now);
    let us = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_micros())
        .unwrap_or(0);
    let sign = if off < 0 { '-' } else { '+' };
    let off = off.unsigned_abs();
    let _ = write!(
        out,
        "{y:04}-{:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}{sign}{:02}:{:02}",
        mo + 1,
        off / 3600,
        off % 3600 / 60
    );
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

    fn target(dest: LogDest, format: LogTransport) -> LogTarget {
        LogTarget {
            dest,
            facility: 16,
            max_level: 7,
            min_level: 0,
            format,
            len: 1024,
            sample: None,
        }
    }

    fn framed(format: LogTransport, hostname: Option<&str>, level: u8, text: &str) -> String {
        let h = Header {
            tag: "haproxy".into(),
            pid: 42,
            hostname: hostname.map(str::to_string),
        };
        let mut o = Vec::new();
        frame(&target(LogDest::Stdout, format), &h, level, text, &mut o);
        String::from_utf8(o).unwrap()
    }

    /// The headers observed from 2.6 for each `format` (dates masked by shape).
    #[test]
    fn framing() {
        assert_eq!(framed(LogTransport::Raw, None, 6, "m"), "m\n");
        assert_eq!(framed(LogTransport::Short, None, 6, "m"), "<6>m\n");
        assert_eq!(framed(LogTransport::Priority, None, 6, "m"), "<134>m\n");
        let date = "<134>Nov 25 12:45:38 ".len();
        let s = framed(LogTransport::Unspecified, None, 6, "m");
        assert!(
            s.starts_with("<134>") && s[date..] == *"haproxy[42]: m\n",
            "{s}"
        );
        let s = framed(LogTransport::Unspecified, Some("h1"), 6, "m");
        assert_eq!(&s[date..], "h1 haproxy[42]: m\n");
        let s = framed(LogTransport::Rfc3164, None, 6, "m");
        assert_eq!(&s[date..], "localhost haproxy[42]: m\n");
        let s = framed(LogTransport::Local, Some("h1"), 6, "m");
        assert_eq!(&s[date..], "haproxy[42]: m\n");
        let iso = "2026-11-25T12:45:38.100547+00:00".len();
        let s = framed(LogTransport::Rfc5424, None, 6, "m");
        assert!(s.starts_with("<134>1 "), "{s}");
        assert_eq!(&s["<134>1 ".len() + iso..], " - haproxy 42 - - m\n");
        let s = framed(LogTransport::Timed, None, 6, "m");
        assert_eq!(&s["<6>".len() + iso..], " m\n");
        let s = framed(LogTransport::Iso, None, 6, "m");
        assert_eq!(&s[iso..], " m\n");
    }

    /// `len` counts the final LF in `raw` and one byte less with a header (2.6: 300 bytes
    /// on the wire for `len 300 format raw`, 301 for the others).
    #[test]
    fn length_limit() {
        let h = Header::of(&ir::Global::default());
        let long = "a".repeat(3000);
        for (format, wire) in [(LogTransport::Raw, 300), (LogTransport::Rfc3164, 301)] {
            let mut t = target(LogDest::Stdout, format);
            t.len = 300;
            let mut o = Vec::new();
            frame(&t, &h, 6, &long, &mut o);
            assert_eq!(o.len(), wire, "{format:?}");
            assert_eq!(o.last(), Some(&b'\n'));
        }
    }

    #[test]
    fn udp_sink_receives_from_the_sending_thread_and_never_blocks() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut t = target(LogDest::Udp(rx.local_addr().unwrap()), LogTransport::Raw);
        t.sample = Some(ir::LogSample {
            ranges: vec![(2, 2)],
            size: 2,
        });
        let mut cfg = ir::Config::default();
        cfg.global.logs.push(t.clone());
        let hub = LogHub::start(&cfg);
        let lg = Logger::new(&hub, &[t]);
        // `sample 2:2`: every second line.
        for line in ["one", "two", "three", "four"] {
            lg.send(LEVEL_INFO, line.into());
        }
        let mut b = [0u8; 100];
        let n = rx.recv(&mut b).unwrap();
        assert_eq!(&b[..n], b"two\n");
        let n = rx.recv(&mut b).unwrap();
        assert_eq!(&b[..n], b"four\n");
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
