//! Start a proxy binary (haproxyrs or Debian's haproxy) on a config text, in a fresh temp dir.
//!
//! Listening sockets are created here (127.0.0.1:0) and handed to the child as `fd@3`, `fd@4`…:
//! the config names them `{{fe0}}`, `{{fe1}}`… (and `{{fe0.addr}}` is that socket's
//! `127.0.0.1:PORT`, for `server` lines pointing back at the proxy itself), so there is no port race and no readiness
//! wait (connections queue in the kernel backlog until the child accepts). Where a config
//! needs a real `ip:port` (e.g. samples), `{{port:NAME}}` reserves an ephemeral port and the
//! harness polls `connect` with a deadline. Other `{{name}}` placeholders come from
//! [`ProxyBuilder::var`]; `{{dir}}` is the temp dir. stdout/stderr are captured; the child is
//! killed by PID on drop; every wait is bounded; failures print config and output.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::tempdir::TempDir;
use super::WAIT;

/// Which program to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// The freshly built `haproxyrs` of this workspace.
    Haproxyrs,
    /// Debian's HAProxy 2.6 (the reference).
    Haproxy,
}

impl Flavor {
    pub fn program(self) -> PathBuf {
        match self {
            Flavor::Haproxyrs => PathBuf::from(env!("CARGO_BIN_EXE_haproxyrs")),
            Flavor::Haproxy => super::haproxy::haproxy_path()
                .expect("haproxy not installed (apt-get install haproxy)"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Flavor::Haproxyrs => "haproxyrs",
            Flavor::Haproxy => "haproxy",
        }
    }
}

/// The first fd number handed to the child (`{{fe0}}` → `fd@3`).
pub const FIRST_FD: RawFd = 3;

/// Describes one proxy run: program, config template, placeholders, arguments.
pub struct ProxyBuilder {
    flavor: Flavor,
    template: String,
    vars: BTreeMap<String, String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    label: String,
}

impl ProxyBuilder {
    pub fn new(flavor: Flavor, template: &str) -> ProxyBuilder {
        ProxyBuilder {
            flavor,
            template: template.to_string(),
            vars: BTreeMap::new(),
            args: Vec::new(),
            env: Vec::new(),
            label: flavor.name().to_string(),
        }
    }

    /// Substitute `{{name}}` with `value` in the config.
    pub fn var(mut self, name: &str, value: impl ToString) -> Self {
        self.vars.insert(name.to_string(), value.to_string());
        self
    }

    /// Extra command-line arguments (after `-db -f <cfg>`).
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_string());
        self
    }

    /// An environment variable for the child (config `${VAR}` expansion).
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    /// A label used in the temp dir name and failure messages.
    pub fn label(mut self, l: &str) -> Self {
        self.label = l.to_string();
        self
    }

    /// Write the config, create the sockets, start the child. Panics (with context) when the
    /// child cannot be spawned.
    pub fn start(self) -> Proxy {
        let dir = TempDir::new(&self.label);
        let mut vars = self.vars.clone();
        vars.insert("dir".into(), dir.path().display().to_string());

        // fd@ listeners: one per distinct {{feN}} in the template, N dense from 0.
        let fe_count = count_frontends(&self.template);
        let mut listeners = Vec::new();
        let mut frontends = Vec::new();
        for i in 0..fe_count {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
            frontends.push(l.local_addr().unwrap());
            vars.insert(format!("fe{i}"), format!("fd@{}", FIRST_FD + i as RawFd));
            vars.insert(format!("fe{i}.addr"), frontends[i].to_string());
            listeners.push(l);
        }

        // Fixed ports: reserve now, the child binds them itself.
        let mut fixed = BTreeMap::new();
        for name in placeholder_names(&self.template, "port:") {
            let port = reserve_port();
            vars.insert(format!("port:{name}"), port.to_string());
            fixed.insert(name, SocketAddr::from(([127, 0, 0, 1], port)));
        }

        let config = substitute(&self.template, &vars);
        if let Some(left) = placeholder_names(&config, "").into_iter().next() {
            panic!("config template has an unfilled placeholder {{{{{left}}}}}:\n{config}");
        }
        let cfg_path = dir.write("haproxy.cfg", &config);

        let program = self.flavor.program();
        let mut cmd = Command::new(&program);
        cmd.arg("-db").arg("-f").arg(&cfg_path).args(&self.args);
        cmd.current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let fds: Vec<RawFd> = listeners.iter().map(|l| l.as_raw_fd()).collect();
        // SAFETY: only async-signal-safe calls (fcntl, dup2) between fork and exec.
        unsafe {
            cmd.pre_exec(move || hand_over_fds(&fds));
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        // Our copies go: once the child is gone, connecting fails instead of hanging.
        drop(listeners);

        let stdout = Capture::spawn(child.stdout.take().unwrap());
        let stderr = Capture::spawn(child.stderr.take().unwrap());
        let mut proxy = Proxy {
            flavor: self.flavor,
            child: Some(child),
            status: None,
            config,
            dir,
            frontends,
            fixed,
            stdout,
            stderr,
        };
        if !proxy.fixed.is_empty() {
            proxy.wait_fixed_ports_ready(WAIT);
        }
        proxy
    }
}

/// Move each listener fd to `FIRST_FD + i` with FD_CLOEXEC cleared (runs in the child).
pub fn hand_over_fds(fds: &[RawFd]) -> std::io::Result<()> {
    // First out of the way (above any target), so dup2 never clobbers a source.
    let mut high = [0 as RawFd; 32];
    assert!(fds.len() <= high.len());
    for (i, fd) in fds.iter().enumerate() {
        let h = unsafe { libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, 100) };
        if h < 0 {
            return Err(std::io::Error::last_os_error());
        }
        high[i] = h;
    }
    for (i, h) in high[..fds.len()].iter().enumerate() {
        // dup2 onto a different fd number: the new descriptor has FD_CLOEXEC cleared.
        if unsafe { libc::dup2(*h, FIRST_FD + i as RawFd) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Bind 127.0.0.1:0, note the port, release it. A tiny race remains (another process may
/// take the port), acceptable only where `fd@` is impossible.
pub fn reserve_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("reserve a port")
        .port()
}

fn count_frontends(template: &str) -> usize {
    let mut n = 0;
    while template.contains(&format!("{{{{fe{n}}}}}"))
        || template.contains(&format!("{{{{fe{n}.addr}}}}"))
    {
        n += 1;
    }
    n
}

/// Names `X` of every `{{<prefix>X}}` in `text`.
pub fn placeholder_names(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = &after[..end];
        if let Some(n) = name.strip_prefix(prefix) {
            if !n.is_empty() && !n.contains(char::is_whitespace) && !out.iter().any(|o| o == n) {
                out.push(n.to_string());
            }
        }
        rest = &after[end + 2..];
    }
    out
}

/// Replace every `{{k}}` by its value.
pub fn substitute(template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut s = template.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{{{k}}}}}"), v);
    }
    s
}

/// A growing byte buffer filled by a reader thread.
#[derive(Clone)]
pub struct Capture {
    buf: Arc<Mutex<Vec<u8>>>,
    done: Arc<Mutex<bool>>,
}

impl Capture {
    pub fn spawn(mut r: impl Read + Send + 'static) -> (Capture, JoinHandle<()>) {
        let c = Capture {
            buf: Arc::default(),
            done: Arc::default(),
        };
        let c2 = c.clone();
        let h = std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match r.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => c2.buf.lock().unwrap().extend_from_slice(&chunk[..n]),
                }
            }
            *c2.done.lock().unwrap() = true;
        });
        (c, h)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }

    /// Has the writer closed its end (and everything been read)?
    pub fn is_done(&self) -> bool {
        *self.done.lock().unwrap()
    }

    /// Wait (bounded) until the writer closed its end and everything has been read.
    pub fn wait_done(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !*self.done.lock().unwrap() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A running (or exited) proxy process.
pub struct Proxy {
    pub flavor: Flavor,
    child: Option<Child>,
    status: Option<ExitStatus>,
    /// The config text after substitution.
    pub config: String,
    pub dir: TempDir,
    /// Client-side addresses of `{{fe0}}`, `{{fe1}}`…
    pub frontends: Vec<SocketAddr>,
    /// `{{port:NAME}}` → address.
    pub fixed: BTreeMap<String, SocketAddr>,
    stdout: (Capture, JoinHandle<()>),
    stderr: (Capture, JoinHandle<()>),
}

impl Proxy {
    /// Address of frontend `{{feN}}`.
    pub fn fe(&self, n: usize) -> SocketAddr {
        self.frontends[n]
    }

    /// Address of `{{port:NAME}}`.
    pub fn port(&self, name: &str) -> SocketAddr {
        self.fixed[name]
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Captured stdout so far (all of it once the process has exited).
    pub fn stdout(&self) -> String {
        self.drain_if_exited();
        self.stdout.0.text()
    }

    /// Captured stderr so far (all of it once the process has exited).
    pub fn stderr(&self) -> String {
        self.drain_if_exited();
        self.stderr.0.text()
    }

    fn drain_if_exited(&self) {
        if self.status.is_some() {
            self.stdout.0.wait_done(Duration::from_secs(2));
            self.stderr.0.wait_done(Duration::from_secs(2));
        }
    }

    /// Has the process exited? (non-blocking)
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(st)) = c.try_wait() {
                    self.status = Some(st);
                }
            }
        }
        self.status
    }

    /// Wait (bounded) for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_status() {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Send a signal to the child by PID (e.g. `libc::SIGUSR1` for a soft stop).
    pub fn signal(&self, sig: i32) {
        if let (Some(pid), None) = (self.pid(), self.status) {
            // SAFETY: plain kill(2) on the PID of a child we own and have not reaped.
            unsafe {
                libc::kill(pid as i32, sig);
            }
        }
    }

    /// Kill (SIGKILL) and reap; idempotent. Output readers are then drained.
    pub fn kill(&mut self) {
        if let Some(c) = self.child.as_mut() {
            if self.status.is_none() {
                let _ = c.kill();
                self.status = c.wait().ok();
            }
        }
    }

    /// Wait (bounded) until stdout+stderr contain `needle` (e.g. a log line).
    pub fn wait_output(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.stdout().contains(needle) || self.stderr().contains(needle) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `request` on a new connection to frontend 0, waits for its response, then for
    /// the log line containing `needle`, and returns that line (panics with context if
    /// any of it does not come).
    pub fn log_line_of(&self, request: &str, needle: &str) -> String {
        let mut c = super::client::Client::try_connect(self.fe(0))
            .unwrap_or_else(|e| self.fail(&format!("connect: {e}")));
        c.send(request);
        assert!(
            !c.read_responses(1, Duration::from_secs(10)).is_empty(),
            "no response to {needle}\n{}",
            self.context()
        );
        assert!(
            self.wait_output(needle, Duration::from_secs(5)),
            "no log line for {needle}\n{}",
            self.context()
        );
        let out = self.stdout();
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_default()
            .to_string()
    }

    /// Poll `connect` to every fixed port until it succeeds or the deadline passes. Returns
    /// early when the process exits (the test then sees the failure, with context).
    fn wait_fixed_ports_ready(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let addrs: Vec<SocketAddr> = self.fixed.values().copied().collect();
        for addr in &addrs {
            loop {
                if TcpStream::connect_timeout(addr, Duration::from_millis(200)).is_ok() {
                    break;
                }
                if self.try_status().is_some() {
                    return;
                }
                if Instant::now() >= deadline {
                    panic!(
                        "{} never listened on {addr}\n{}",
                        self.flavor.name(),
                        self.context()
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Config, exit status and captured output, for failure messages.
    pub fn context(&self) -> String {
        format!(
            "=== {} (pid {:?}, status {:?}) config ===\n{}\n=== stdout ===\n{}\n=== stderr ===\n{}\n=== end ===",
            self.flavor.name(),
            self.pid(),
            self.status,
            number_lines(&self.config),
            self.stdout(),
            self.stderr()
        )
    }

    /// Panic with `msg` and the full context.
    pub fn fail(&self, msg: &str) -> ! {
        panic!("{msg}\n{}", self.context())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.kill();
        // After an exit the pipes close, so the reader threads end promptly.
        if std::thread::panicking() {
            eprintln!("{}", self.context());
        }
    }
}

fn number_lines(s: &str) -> String {
    s.lines()
        .enumerate()
        .map(|(i, l)| format!("{:>3} | {l}\n", i + 1))
        .collect()
}

/// The outcome of `-c` (or any short run that must end by itself).
#[derive(Debug)]
pub struct CheckOutput {
    pub flavor: Flavor,
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub config: String,
}

impl CheckOutput {
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    pub fn context(&self) -> String {
        format!(
            "=== {} -c (status {:?}) config ===\n{}\n=== stdout ===\n{}\n=== stderr ===\n{}\n=== end ===",
            self.flavor.name(),
            self.status,
            number_lines(&self.config),
            self.stdout,
            self.stderr
        )
    }
}

/// Run `<program> -c -f <cfg> [args]` on a config text (placeholders `{{dir}}` and `{{k}}`
/// from `vars`), bounded by [`WAIT`].
pub fn check(flavor: Flavor, config: &str, vars: &[(&str, &str)], args: &[&str]) -> CheckOutput {
    let dir = TempDir::new(&format!("check-{}", flavor.name()));
    let mut map: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.insert("dir".into(), dir.path().display().to_string());
    let config = substitute(config, &map);
    let cfg = dir.write("haproxy.cfg", &config);
    let mut cmd = Command::new(flavor.program());
    cmd.arg("-c").arg("-f").arg(&cfg).args(args);
    run_bounded(flavor, cmd, &dir, config)
}

/// Run an arbitrary command line of `flavor` (e.g. `-v`, `-c -f file`) in a temp dir.
pub fn run_args(flavor: Flavor, args: &[&str]) -> CheckOutput {
    let dir = TempDir::new(&format!("run-{}", flavor.name()));
    let mut cmd = Command::new(flavor.program());
    cmd.args(args);
    run_bounded(flavor, cmd, &dir, String::new())
}

fn run_bounded(flavor: Flavor, mut cmd: Command, dir: &TempDir, config: String) -> CheckOutput {
    cmd.current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let (out, oh) = Capture::spawn(child.stdout.take().unwrap());
    let (err, eh) = Capture::spawn(child.stderr.take().unwrap());
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{} did not exit within {WAIT:?}\nconfig:\n{}\nstderr:\n{}",
                flavor.name(),
                config,
                err.text()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = oh.join();
    let _ = eh.join();
    CheckOutput {
        flavor,
        status,
        stdout: out.text(),
        stderr: err.text(),
        config,
    }
}
