//! The hot path allocates nothing: keep-alive HTTP requests through the real runtime (config
//! text → IR → worker thread, real sockets) make no heap allocation on the worker thread. A
//! counting global allocator counts what threads named `worker-*` allocate while a client
//! sends a thousand requests on one connection.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

struct CountingAlloc;

static WORKER_ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set once this thread is known to be a worker (a thread is named after it starts).
    static IS_WORKER: Cell<bool> = const { Cell::new(false) };
}

fn on_worker() -> bool {
    IS_WORKER
        .try_with(|known| {
            if known.get() {
                return true;
            }
            let mut name = [0u8; 16];
            // SAFETY: PR_GET_NAME writes at most 16 bytes into the buffer; no allocation.
            unsafe { libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr()) };
            let worker = name.starts_with(b"worker-");
            known.set(worker);
            worker
        })
        .unwrap_or(false)
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if on_worker() {
            WORKER_ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if on_worker() {
            WORKER_ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
const REQUEST: &[u8] = b"GET /app1?x=1 HTTP/1.1\r\nhost: example\r\nuser-agent: t\r\n\r\n";

/// A keep-alive backend answering every request head with `RESPONSE`.
fn backend() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { return };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    match c.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        if c.write_all(RESPONSE).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

/// Sends one request and reads its whole response (the backend's, re-emitted).
fn exchange(c: &mut TcpStream) {
    c.write_all(REQUEST).unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 1024];
    while !(got.ends_with(b"\r\n\r\nok")) {
        let n = c.read(&mut chunk).expect("response");
        assert!(n > 0, "proxy closed the connection: {got:?}");
        got.extend_from_slice(&chunk[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 200"), "{got:?}");
}

/// The counter is process-wide: one measurement at a time (earlier runtimes stay idle).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn allocs_per_keep_alive_request(frontend_extra: &str) -> f64 {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let be_port = backend();
    let front = TcpListener::bind("127.0.0.1:0").unwrap();
    let text = format!(
        "global\n    nbthread 1\ndefaults\n    mode http\n    timeout client 10s\n    \
         timeout server 10s\n    timeout connect 5s\nfrontend fe\n    bind fd@{}\n{frontend_extra}    \
         acl app1 path_end -i /app1\n    use_backend be if app1\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{be_port}\n",
        front.as_raw_fd()
    );
    let dir = std::env::temp_dir().join(format!("haproxyrs-no-alloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.cfg", front.as_raw_fd()));
    std::fs::write(&path, text).unwrap();
    let loaded = haproxyrs_config::load(
        &[path.to_string_lossy().into_owned()],
        &haproxyrs_config::env::SystemEnv,
    );
    let Some(config) = loaded.config else {
        panic!("config does not load: {:?}", loaded.diagnostics);
    };
    let addr = front.local_addr().unwrap();
    // The runtime runs for the rest of the test process; the listener stays open for it.
    std::thread::spawn(move || {
        let _keep = front;
        haproxyrs_proxy::run(Arc::new(config), Default::default())
    });

    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // Warm-up: the session's buffers, timers and the server connection are made here.
    for _ in 0..50 {
        exchange(&mut c);
    }
    const N: usize = 1000;
    let before = WORKER_ALLOCS.load(Ordering::Relaxed);
    for _ in 0..N {
        exchange(&mut c);
    }
    let after = WORKER_ALLOCS.load(Ordering::Relaxed);
    (after - before) as f64 / N as f64
}

fn assert_no_allocation(per_request: f64, noise: f64) {
    // One allocation per request would count about 1.0.
    assert!(
        per_request < noise,
        "{per_request:.2} heap allocations per keep-alive request on the worker thread"
    );
}

#[test]
fn keep_alive_requests_do_not_allocate() {
    assert_no_allocation(allocs_per_keep_alive_request(""), 0.05);
}

/// `option httplog` to a syslog server: the line is rendered into a pooled buffer. The pool
/// grows while the logger thread lags behind the worker (a busy machine), so some lines may
/// find it empty; a line that always allocated would count 1.0.
#[test]
fn logged_keep_alive_requests_do_not_allocate() {
    let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let extra = format!(
        "    log 127.0.0.1:{} local0\n    option httplog\n",
        sink.local_addr().unwrap().port()
    );
    assert_no_allocation(allocs_per_keep_alive_request(&extra), 0.5);
}

/// A custom `log-format` showing most variables (names, addresses in both notations, every
/// timer, dates, counters, the request line and its parts, captured headers, quoted and
/// escaped text): rendered from a record that borrows what it shows.
#[test]
fn custom_log_format_requests_do_not_allocate() {
    let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let extra = format!(
        "    log 127.0.0.1:{} local0\n    capture request header Host len 10\n    \
         capture response header Content-Length len 5\n    log-format \"%ci:%cp %{{+X}}ci \
         [%t] %T %tr %trl %Ts %ms %ft %b/%s %si:%sp %fi:%fp %H \
         %Th/%Ti/%TR/%Tq/%Tw/%Tc/%Tr/%Ta/%Td/%Tt %ST %B %U %ts %tsc \
         %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %hrl %{{+Q}}r %HM %HU %HP %HQ %HV %{{+E}}HU \
         %rt %lc %{{+X}}rt %pid %CC %CS %ID\"\n",
        sink.local_addr().unwrap().port()
    );
    assert_no_allocation(allocs_per_keep_alive_request(&extra), 0.5);
}
