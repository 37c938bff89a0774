//! Daemon mode (`daemon`, `-D`), side by side with HAProxy 2.6: the command returns 0 once
//! the proxy is up, the pid file names the background process (another pid, its own
//! session), requests are served, SIGTERM/SIGINT/SIGUSR1 to that pid stop it (SIGUSR1 after
//! the open sessions, as in the foreground); `-db` keeps
//! the `daemon` keyword in the foreground but not `-D`; a bind error or an unwritable pid
//! file gives exit 1 and leaves no process.
//!
//! The listener is handed over as `fd@3` (no port race). Every process started from a
//! test's config (found by its unique config path in `/proc/*/cmdline`) is killed by pid
//! when the test ends, whatever happened.

use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::client;
use crate::support::proxy::{hand_over_fds, Capture, Flavor};
use crate::support::tempdir::TempDir;
use crate::support::WAIT;

const SERVE: &str = "defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    \
                     timeout connect 5s\nfrontend f\n    bind {bind}\n    \
                     http-request return status 200 content-type text/plain string served\n";

/// Is `pid` a live process (not gone, not a zombie waiting for its reaper)?
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        // The state follows the parenthesised command name.
        s.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
    })
}

/// The session id of `pid` (field 6 of /proc/PID/stat).
fn session_of(pid: i32) -> Option<i32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = s.rsplit_once(')')?;
    rest.split_whitespace().nth(3)?.parse().ok()
}

/// Live processes whose command line mentions `cfg` (this test's unique config path).
fn started_from(cfg: &Path) -> Vec<i32> {
    let needle = cfg.as_os_str().as_encoded_bytes();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.windows(needle.len()).any(|w| w == needle))
        })
        .filter(|&pid| alive(pid))
        .collect()
}

/// Waits (bounded) until `pid` is gone.
fn wait_gone(pid: i32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while alive(pid) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Kills (SIGKILL, by pid) every process started from the config on drop.
struct Reaper(PathBuf);

impl Drop for Reaper {
    fn drop(&mut self) {
        for pid in started_from(&self.0) {
            // SAFETY: plain kill(2) on a pid whose command line names this test's config.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// One start of a proxy in a fresh directory.
struct Start {
    /// First field: dropped (processes killed) before the directory goes.
    _reaper: Reaper,
    dir: TempDir,
    cfg: PathBuf,
    /// Client side of the handed-over listener.
    addr: SocketAddr,
    /// The pid we started (the foreground process).
    pid: i32,
    child: std::process::Child,
    stdout: Capture,
    stderr: Capture,
}

/// What a test compares between the two programs.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    /// The started process's exit code, `None` while it still runs (foreground).
    exit: Option<i32>,
    /// The pid file, if any, names a live process other than the one we started, in its
    /// own session.
    pid_file: Option<bool>,
    /// Its stdout/stderr reached end of file: nothing kept them open.
    output_closed: bool,
    /// Status and body of `GET /`.
    response: Option<(u16, String)>,
}

impl Start {
    /// `{bind}` in `template` becomes `fd@3`, or `bind` when given.
    fn new(flavor: Flavor, template: &str, bind: Option<&str>, args: &[&str]) -> Start {
        let dir = TempDir::new(&format!("daemon-{}", flavor.name()));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let config = template
            .replace("{bind}", bind.unwrap_or("fd@3"))
            .replace("{dir}", &dir.path().display().to_string());
        let cfg = dir.write("daemon.cfg", &config);
        let mut cmd = Command::new(flavor.program());
        cmd.args(args)
            .arg("-f")
            .arg(&cfg)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let fds = [listener.as_raw_fd()];
        // SAFETY: only async-signal-safe calls (fcntl, dup2) between fork and exec.
        unsafe {
            cmd.pre_exec(move || hand_over_fds(&fds));
        }
        let reaper = Reaper(cfg.clone());
        let mut child = cmd.spawn().expect("spawn the proxy");
        drop(listener);
        let stdout = Capture::spawn(child.stdout.take().expect("stdout")).0;
        let stderr = Capture::spawn(child.stderr.take().expect("stderr")).0;
        Start {
            _reaper: reaper,
            pid: child.id() as i32,
            child,
            dir,
            cfg,
            addr,
            stdout,
            stderr,
        }
    }

    /// Waits (bounded) for the started process to exit; `None` if it still runs.
    fn exit_code(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st.code().unwrap_or(-1));
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The pid in `name` (relative to the directory), if the file exists.
    fn pid_in(&self, name: &str) -> Option<i32> {
        let text = std::fs::read_to_string(self.dir.path().join(name)).ok()?;
        Some(text.trim().parse().unwrap_or(-1))
    }

    /// Both pipes reached end of file (bounded wait): no process kept them open.
    fn output_closed(&self) -> bool {
        self.stdout.wait_done(Duration::from_secs(5));
        self.stderr.wait_done(Duration::from_secs(5));
        self.stdout.is_done() && self.stderr.is_done()
    }

    fn context(&self) -> String {
        format!(
            "config {}\n--- stdout\n{}\n--- stderr\n{}",
            self.cfg.display(),
            self.stdout.text(),
            self.stderr.text()
        )
    }
}

/// Starts, observes, then stops with `signal` the process that serves; returns what was
/// observed and whether the serving process stopped.
fn daemon_run(
    flavor: Flavor,
    template: &str,
    args: &[&str],
    pid_file: &str,
    signal: i32,
) -> (Outcome, bool) {
    let mut s = Start::new(flavor, template, None, args);
    let exit = s.exit_code(WAIT);
    let background = s.pid_in(pid_file);
    // A served request also means the background process has finished detaching.
    let resp = std::panic::catch_unwind(|| client::get(s.addr, "/")).ok();
    let response = resp.map(|m| (m.status(), String::from_utf8_lossy(&m.body).into_owned()));
    let pid_file_ok = background.map(|p| p != s.pid && alive(p) && session_of(p) == Some(p));
    let output_closed = exit.is_some() && s.output_closed();
    // The process that serves: the background one, else the one we started.
    let serving = match (exit, background) {
        (Some(_), Some(p)) if p > 0 => p,
        _ => s.pid,
    };
    // SAFETY: plain kill(2) on the pid this test started or read from its pid file.
    unsafe {
        libc::kill(serving, signal);
    }
    let stopped = wait_gone(serving, WAIT);
    let _ = s.exit_code(WAIT);
    let outcome = Outcome {
        exit,
        pid_file: pid_file_ok,
        output_closed,
        response,
    };
    eprintln!("{} {args:?}: {outcome:?}\n{}", flavor.name(), s.context());
    (outcome, stopped)
}

fn served() -> Option<(u16, String)> {
    Some((200, "served".into()))
}

/// The expected daemon-mode outcome: exit 0, a pid file naming the background process,
/// stdio detached, requests served.
fn in_background() -> Outcome {
    Outcome {
        exit: Some(0),
        pid_file: Some(true),
        output_closed: true,
        response: served(),
    }
}

fn both(check: impl Fn(Flavor)) {
    check(Flavor::Haproxyrs);
    if crate::support::haproxy::haproxy_available("daemon (haproxy side)") {
        check(Flavor::Haproxy);
    }
}

#[test]
fn dash_d_with_pid_file_serves_in_background_and_stops_on_each_signal() {
    both(|flavor| {
        for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1] {
            let (outcome, stopped) =
                daemon_run(flavor, SERVE, &["-D", "-p", "run.pid"], "run.pid", sig);
            assert_eq!(outcome, in_background(), "{} signal {sig}", flavor.name());
            assert!(stopped, "{}: signal {sig} did not stop it", flavor.name());
        }
    });
}

#[test]
fn daemon_and_pidfile_keywords_serve_in_background() {
    let cfg = format!("global\n    daemon\n    pidfile {{dir}}/kw.pid\n{SERVE}");
    both(|flavor| {
        let (outcome, stopped) = daemon_run(flavor, &cfg, &[], "kw.pid", libc::SIGTERM);
        assert_eq!(outcome, in_background(), "{}", flavor.name());
        assert!(stopped, "{}", flavor.name());
    });
}

/// `-D` wins over `-db`, in either order (as 2.6).
#[test]
fn dash_d_beats_db() {
    both(|flavor| {
        for args in [["-D", "-db"], ["-db", "-D"]] {
            let mut args = args.to_vec();
            args.extend(["-p", "run.pid"]);
            let (outcome, stopped) = daemon_run(flavor, SERVE, &args, "run.pid", libc::SIGTERM);
            assert_eq!(outcome, in_background(), "{} {args:?}", flavor.name());
            assert!(stopped, "{}", flavor.name());
        }
    });
}

/// `-db` and `-d` keep the `daemon` keyword in the foreground: the started process serves,
/// and no pid file is written (2.6 writes it in daemon mode only).
#[test]
fn db_and_d_override_the_daemon_keyword() {
    let cfg = format!("global\n    daemon\n{SERVE}");
    both(|flavor| {
        for flag in ["-db", "-d"] {
            let mut s = Start::new(flavor, &cfg, None, &[flag, "-p", "run.pid"]);
            let resp = client::get(s.addr, "/");
            assert_eq!(
                (
                    resp.status(),
                    String::from_utf8_lossy(&resp.body).into_owned()
                ),
                (200, "served".into()),
                "{}",
                s.context()
            );
            assert!(
                alive(s.pid),
                "{} {flag}: not in the foreground",
                flavor.name()
            );
            assert_eq!(started_from(&s.cfg), vec![s.pid], "{}", s.context());
            assert_eq!(s.pid_in("run.pid"), None, "{}", s.context());
            // SAFETY: plain kill(2) on the pid we started.
            unsafe {
                libc::kill(s.pid, libc::SIGTERM);
            }
            assert!(s.exit_code(WAIT).is_some(), "{}", s.context());
        }
    });
}

/// A bind error or an unwritable pid file: exit 1 and an ALERT on the terminal, no pid
/// file, and no process left behind.
#[test]
fn daemon_start_failures_exit_1_and_leave_no_process() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy = taken.local_addr().expect("addr").to_string();
    both(|flavor| {
        let cases: [(Option<&str>, &str, &str); 2] = [
            (Some(busy.as_str()), "run.pid", "cannot bind socket"),
            (None, "no/such/dir/run.pid", "Cannot create pidfile"),
        ];
        for (bind, pid_file, alert) in cases {
            let mut s = Start::new(flavor, SERVE, bind, &["-D", "-p", pid_file]);
            let exit = s.exit_code(WAIT);
            assert_eq!(exit, Some(1), "{}", s.context());
            assert!(s.output_closed(), "{}", s.context());
            assert!(
                s.stderr
                    .text()
                    .lines()
                    .any(|l| l.starts_with("[ALERT]") && l.contains(alert)),
                "{}",
                s.context()
            );
            assert_eq!(s.pid_in(pid_file), None, "{}", s.context());
            assert_eq!(started_from(&s.cfg), Vec::<i32>::new(), "{}", s.context());
        }
    });
    drop(taken);
}

/// SIGUSR1 to the background pid is a soft stop, as in the foreground (`tcp_runtime.rs`):
/// the listener closes, an established session still works and the process waits for it,
/// then exits once it ends.
#[test]
fn soft_stop_of_the_background_process_waits_for_sessions() {
    use crate::support::backends::Backend;
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let echo = Backend::echo("e");
    let cfg = format!(
        "defaults\n    mode tcp\n    timeout client 10s\n    timeout server 10s\n    \
         timeout connect 3s\nlisten l\n    bind {{bind}}\n    server s {}\n",
        echo.addr_str()
    );
    let echo_once = |s: &mut TcpStream, msg: &[u8]| {
        s.write_all(msg).expect("write");
        let mut b = vec![0u8; msg.len()];
        s.read_exact(&mut b).expect("read the echo");
        assert_eq!(b, msg);
    };
    both(|flavor| {
        let mut s = Start::new(flavor, &cfg, None, &["-D", "-p", "run.pid"]);
        assert_eq!(s.exit_code(WAIT), Some(0), "{}", s.context());
        let pid = s.pid_in("run.pid").expect("pid file");
        let mut a = TcpStream::connect_timeout(&s.addr, WAIT).expect("connect");
        a.set_read_timeout(Some(WAIT)).expect("timeout");
        echo_once(&mut a, b"before");
        // SAFETY: plain kill(2) on the pid from this test's pid file.
        unsafe {
            libc::kill(pid, libc::SIGUSR1);
        }
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect_timeout(&s.addr, Duration::from_secs(1)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "{}: listener still open after SIGUSR1",
                flavor.name()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        echo_once(&mut a, b"after");
        assert!(alive(pid), "{}: exited with a session open", flavor.name());
        drop(a);
        assert!(
            wait_gone(pid, WAIT),
            "{}: no exit after the last session",
            flavor.name()
        );
    });
}
