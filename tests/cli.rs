//! The binary's command line and `-c` verdicts, each compared with Debian's
//! `/usr/sbin/haproxy` (2.6) when it is installed: same exit code, same stdout, and ALERT
//! lines citing the same `[file:line]`s. Without haproxy the comparison is skipped loudly
//! (and fails under `CI=true`); the hand-written expectations are checked either way.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::haproxy::{haproxy_available, haproxy_path};
use crate::support::tempdir::TempDir;

/// Write `files` into a fresh directory.
fn dir_with(tag: &str, files: &[(&str, &[u8])]) -> TempDir {
    let dir = TempDir::new(tag);
    for (name, content) in files {
        dir.write(name, content);
    }
    dir
}

/// The reference binary, or `None` (said loudly; a failure under CI=true).
fn haproxy() -> Option<String> {
    if !haproxy_available("cli differential part") {
        return None;
    }
    haproxy_path().map(|p| p.display().to_string())
}

fn run(bin: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("HAPROXYRS_TEST_VAR", "value")
        .env_remove("CI_NOPE")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

/// Runs haproxyrs where a regression could make it start serving: killed (by pid) after
/// a deadline, so a broken refusal fails the test instead of hanging it.
fn ours_bounded(dir: &Path, args: &[&str]) -> Output {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let limit = Duration::from_secs(20);
    let mut child = Command::new(env!("CARGO_BIN_EXE_haproxyrs"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn haproxyrs");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "haproxyrs {args:?} still running after {limit:?}: it should have refused to start"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collect output")
}

fn ours(dir: &Path, args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_haproxyrs"), dir, args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The `[file:line]` each ALERT line cites, in order.
fn alert_locations(stderr: &[u8]) -> Vec<String> {
    text(stderr)
        .lines()
        .filter(|l| l.starts_with("[ALERT]"))
        .filter_map(|l| {
            let start = l.find(" : config : ")? + 12;
            let rest = &l[start..];
            let rest = rest.strip_prefix("parsing ").unwrap_or(rest);
            let inner = rest.strip_prefix('[')?;
            let end = inner.find(']')?;
            Some(inner[..end].to_string())
        })
        .collect()
}

fn describe(what: &str, o: &Output) -> String {
    format!(
        "{what}: rc={:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// Run the same arguments through haproxyrs and (when present) haproxy; compare the exit
/// code, stdout and the cited locations. Returns haproxyrs's output for further checks.
fn same_as_haproxy(dir: &Path, args: &[&str]) -> Output {
    compare(dir, args, true)
}

/// Like [`same_as_haproxy`], but stdout may differ (version banners name each program).
fn same_exit_as_haproxy(dir: &Path, args: &[&str]) -> Output {
    compare(dir, args, false)
}

fn compare(dir: &Path, args: &[&str], same_stdout: bool) -> Output {
    let mine = ours(dir, args);
    if let Some(h) = haproxy() {
        let theirs = run(&h, dir, args);
        let ctx = format!(
            "{}\n{}",
            describe("haproxyrs", &mine),
            describe("haproxy", &theirs)
        );
        assert_eq!(
            mine.status.code(),
            theirs.status.code(),
            "exit codes differ for {args:?}\n{ctx}"
        );
        if same_stdout {
            assert_eq!(
                text(&mine.stdout),
                text(&theirs.stdout),
                "stdout differs for {args:?}\n{ctx}"
            );
        }
        assert_eq!(
            alert_locations(&mine.stderr),
            alert_locations(&theirs.stderr),
            "ALERT locations differ for {args:?}\n{ctx}"
        );
    }
    mine
}

fn check_file(name: &str, content: impl AsRef<[u8]>) -> Output {
    let dir = dir_with(name, &[(name, content.as_ref())]);
    same_as_haproxy(dir.path(), &["-c", "-f", name])
}

fn assert_alert(o: &Output, rc: i32, line: &str) {
    assert_eq!(o.status.code(), Some(rc), "{}", describe("haproxyrs", o));
    assert!(
        text(&o.stderr)
            .lines()
            .any(|l| l.starts_with("[ALERT]") && l.contains(line)),
        "no ALERT containing {line:?}\n{}",
        describe("haproxyrs", o)
    );
}

#[test]
fn missing_lf_on_last_line() {
    let o = check_file("nolf.cfg", "global\n  maxconn 10");
    assert_alert(
        &o,
        1,
        "parsing [nolf.cfg:2]: Missing LF on last line, file might have been truncated at position 13.",
    );
    assert!(o.stdout.is_empty());
    assert!(text(&o.stderr).contains("Fatal errors found in configuration."));
}

#[test]
fn stray_nul_stops_the_file() {
    let o = check_file("nul.cfg", b"global\n  maxconn 10\x0020\n  foo\n");
    assert_alert(
        &o,
        1,
        "parsing [nul.cfg:2]: Stray NUL character at position 13.",
    );
}

#[test]
fn lexer_errors() {
    let o = check_file("q.cfg", "global\n  log \"127.0.0.1 local0\n");
    assert_alert(&o, 1, "parsing [q.cfg:2]: unmatched quote at position 7:");
    let o = check_file("h.cfg", "global\n  node a\\x4\n");
    assert_alert(
        &o,
        1,
        "truncated or invalid hexadecimal sequence at position 9:",
    );
    // `${VAR-default}` works, except on a file's first line (a HAProxy 2.6 quirk).
    let o = check_file("d.cfg", "global\n  node \"${HAPROXYRS_NOPE-x}\"\n");
    assert_eq!(o.status.code(), Some(2), "{}", describe("haproxyrs", &o));
    let o = check_file("d1.cfg", ".notice \"${HAPROXYRS_NOPE-x}\"\n");
    assert_alert(
        &o,
        1,
        "unmatched brace in environment variable name at position 11:",
    );
    let o = check_file(
        "w.cfg",
        format!("global\n  node {}\n", vec!["x"; 70].join(" ")),
    );
    assert_alert(&o, 1, "too many words, truncating after word 64");
}

#[test]
fn keyword_out_of_section() {
    let o = check_file("oos.cfg", "  maxconn 10\nglobal\n");
    assert_alert(
        &o,
        1,
        "parsing [oos.cfg:1]: unknown keyword 'maxconn' out of section.",
    );
}

#[test]
fn conditional_blocks_and_directives() {
    let o = check_file(
        "cond.cfg",
        ".if defined(HAPROXYRS_TEST_VAR) && version_atleast(2.6)\n.warning \"on\"\n.else\n.alert \"off\"\n.endif\n",
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stdout),
        "Warnings were found.\nConfiguration file has no error but will not start (no listener) => exit(2).\n"
    );
    assert!(text(&o.stderr).contains("[WARNING]  ("));
    let o = check_file("lone.cfg", "global\n.endif\n");
    assert_alert(
        &o,
        1,
        "parsing [lone.cfg:2]: lone '.endif' with no matching '.if'.",
    );
    assert!(
        !text(&o.stderr).contains("Fatal errors"),
        "an abort has no trailer"
    );
    let o = check_file("bad.cfg", ".if nope()\n.endif\n");
    assert_alert(
        &o,
        1,
        "unparsable conditional expression 'nope()' in '.if' at position 1:",
    );
    let o = check_file("open.cfg", ".if 1\nglobal\n");
    assert_alert(&o, 1, "parsing [open.cfg:2]: non-terminated '.if' block.");
    let o = check_file("alert.cfg", ".alert \"stop\"\nfoo\n");
    assert_alert(&o, 1, "parsing [alert.cfg:1]: 'stop'.");
}

#[test]
fn empty_config_has_no_listener() {
    let o = check_file("empty.cfg", "# nothing\n\nglobal\n");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stdout),
        "Configuration file has no error but will not start (no listener) => exit(2).\n"
    );
}

#[test]
fn missing_file() {
    let dir = TempDir::new("missing");
    let o = same_as_haproxy(dir.path(), &["-c", "-f", "/nonexistent/x.cfg"]);
    assert_alert(
        &o,
        1,
        "Cannot open configuration file/directory /nonexistent/x.cfg : No such file or directory",
    );
}

#[test]
fn quiet_prints_nothing() {
    let dir = dir_with(
        "quiet",
        &[("bad.cfg", b"foo\n"), ("warn.cfg", b".warning \"w\"\n")],
    );
    for f in ["bad.cfg", "warn.cfg"] {
        let o = same_as_haproxy(dir.path(), &["-c", "-q", "-f", f]);
        assert!(
            o.stdout.is_empty() && o.stderr.is_empty(),
            "{}",
            describe(f, &o)
        );
    }
}

#[test]
fn zero_warning_makes_warnings_fatal() {
    let dir = dir_with("zw", &[("w.cfg", b".warning \"w\"\n")]);
    let o = same_as_haproxy(dir.path(), &["-c", "-dW", "-f", "w.cfg"]);
    assert_alert(
        &o,
        1,
        "Some warnings were found and 'zero-warning' is set. Aborting.",
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn directory_and_double_dash() {
    let dir = dir_with(
        "dir",
        &[
            ("d/10-b.cfg", b"foo\n"),
            ("d/02-a.cfg", b"bar\n"),
            ("d/.hidden.cfg", b"hidden\n"),
            ("d/x.conf", b"conf\n"),
            ("x.conf", b"baz\n"),
        ],
    );
    let o = same_as_haproxy(dir.path(), &["-c", "-f", "d", "--", "x.conf"]);
    assert_eq!(
        alert_locations(&o.stderr),
        ["d/02-a.cfg:1", "d/10-b.cfg:1", "x.conf:1"]
    );
}

#[test]
fn check_condition() {
    let dir = TempDir::new("cc");
    for (expr, rc) in [
        ("1", 0),
        ("0", 1),
        ("", 1),
        ("defined(HAPROXYRS_TEST_VAR)", 0),
        ("defined(NOPE_NOT_SET)", 1),
        ("version_atleast(2.6) && version_before(2.7)", 0),
        ("streq(a,b) || strneq(a,b)", 0),
        ("x", 2),
        ("streq(a)", 2),
        ("(1", 2),
    ] {
        let o = same_as_haproxy(dir.path(), &["-cc", expr]);
        assert_eq!(
            o.status.code(),
            Some(rc),
            "{expr:?}: {}",
            describe("haproxyrs", &o)
        );
    }
}

#[test]
fn usage_on_bad_command_lines() {
    let dir = TempDir::new("usage");
    std::fs::create_dir_all(dir.path().join("empty")).expect("mkdir");
    for args in [
        &[][..],
        &["-Z"][..],
        &["-c"][..],
        &["-c", "x.cfg"][..],
        &["-c", "-f", "empty"][..],
    ] {
        let o = same_exit_as_haproxy(dir.path(), args);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            text(&o.stderr).starts_with("Usage : haproxyrs [-f <cfgfile|cfgdir>]*"),
            "{}",
            describe("haproxyrs", &o)
        );
    }
}

#[test]
fn version_names_both() {
    let dir = TempDir::new("v");
    let o = ours(dir.path(), &["-v"]);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert!(out.starts_with("haproxyrs version "), "{out}");
    assert!(out.contains("HAProxy version 2.6.12"), "{out}");
    let o = ours(dir.path(), &["-vv"]);
    assert!(text(&o.stdout)
        .lines()
        .any(|l| l.starts_with("Feature list : ")));
}

#[test]
fn process_flags_accepted_with_check() {
    let dir = dir_with("pm", &[("g.cfg", b"global\n")]);
    let args = [
        "-Ws",
        "-f",
        "g.cfg",
        "-c",
        "-q",
        "-p",
        "x.pid",
        "-D",
        "-W",
        "-n",
        "10",
        "-N",
        "5",
        "-m",
        "100",
        "-L",
        "me",
        "-x",
        "/tmp/none.sock",
        "-sf",
        "12",
        "34",
        "-st",
        "-db",
        "-dr",
        "-dV",
        "-dS",
    ];
    // In master-worker mode the master's own socket counts as a listener.
    let o = same_as_haproxy(dir.path(), &args);
    assert_eq!(o.status.code(), Some(0));
    let o = same_as_haproxy(
        dir.path(),
        &["-c", "-f", "g.cfg", "-D", "-S", "/tmp/m.sock"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stdout),
        "Warnings were found.\nConfiguration file has no error but will not start (no listener) => exit(2).\n"
    );
}

#[test]
fn unimplemented_flag_refuses_to_start() {
    let dir = dir_with("refuse", &[("g.cfg", b"global\n")]);
    let o = ours_bounded(dir.path(), &["-W", "-f", "g.cfg"]);
    assert_alert_plain(&o, "'-W'");
}

fn assert_alert_plain(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", describe("haproxyrs", o));
    assert!(
        text(&o.stderr)
            .lines()
            .any(|l| l.starts_with("[ALERT]") && l.contains(needle)),
        "{}",
        describe("haproxyrs", o)
    );
}

#[test]
fn chdir_local_peer_and_diag_mode() {
    let dir = dir_with(
        "chdir",
        &[(
            "sub/p.cfg",
            b".notice \"$HAPROXY_LOCALPEER\"\n.diag \"shown with -dD\"\n",
        )],
    );
    let sub = dir.path().join("sub");
    let sub = sub.to_str().expect("utf-8 temp path");
    let o = same_as_haproxy(dir.path(), &["-c", "-C", sub, "-L", "peer1", "-f", "p.cfg"]);
    let err = text(&o.stderr);
    assert!(err.contains("parsing [p.cfg:1]: 'peer1'."), "{err}");
    assert!(!err.contains("[DIAG]"), "{err}");
    let o = same_as_haproxy(dir.path(), &["-c", "-dD", "-C", sub, "-f", "p.cfg"]);
    assert!(text(&o.stderr).contains("[DIAG]     ("));
    let o = same_as_haproxy(dir.path(), &["-c", "-C", "/nonexistent-dir", "-f", "p.cfg"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr)
        .contains("Could not change to directory /nonexistent-dir : No such file or directory"));
}

const TIMEOUTS: &str = "  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n";

#[test]
fn verdicts_on_whole_configs() {
    let valid = format!("listen l\n  bind 127.0.0.1:18080\n{TIMEOUTS}  server s 127.0.0.1:18081\n");
    let o = check_file("valid.cfg", &valid);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o.stdout), "Configuration file is valid\n");
    // Missing timeouts: warnings, still valid.
    let o = check_file("warn.cfg", "frontend fe\n  bind 127.0.0.1:18080\n");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        text(&o.stdout),
        "Warnings were found.\nConfiguration file is valid\n"
    );
    // `zero-warning` in the global section makes them fatal.
    let o = check_file(
        "zw.cfg",
        "global\n  zero-warning\nfrontend fe\n  bind 127.0.0.1:18080\n",
    );
    assert_alert(
        &o,
        1,
        "Some warnings were found and 'zero-warning' is set. Aborting.",
    );
    let o = check_file(
        "kw.cfg",
        format!("frontend fe\n  bind 127.0.0.1:18080\n{TIMEOUTS}  bnd :80\n"),
    );
    assert_alert(
        &o,
        1,
        "parsing [kw.cfg:6] : unknown keyword 'bnd' in 'frontend' section",
    );
    // The local peer of a peers section listens (`-L` names it).
    let dir = dir_with(
        "peers",
        &[(
            "p.cfg",
            b"peers p\n  peer me 127.0.0.1:10000\n  peer other 127.0.0.1:10001\n",
        )],
    );
    let o = same_as_haproxy(dir.path(), &["-c", "-q", "-L", "me", "-f", "p.cfg"]);
    assert_eq!(o.status.code(), Some(0));
    let o = same_as_haproxy(dir.path(), &["-c", "-q", "-L", "nobody", "-f", "p.cfg"]);
    assert_eq!(o.status.code(), Some(2));
    // `quiet` in the global section silences like -q; -V overrides it.
    let dir = dir_with("gquiet", &[("q.cfg", b"global\n  quiet\n.warning \"w\"\n")]);
    let o = same_as_haproxy(dir.path(), &["-c", "-f", "q.cfg"]);
    assert!(
        o.stdout.is_empty() && o.stderr.is_empty(),
        "{}",
        describe("quiet", &o)
    );
    let o = same_as_haproxy(dir.path(), &["-c", "-V", "-f", "q.cfg"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!o.stdout.is_empty());
    // -dr: an unresolvable server is disabled with a warning instead of failing.
    let unresolvable =
        format!("listen l\n  bind 127.0.0.1:18080\n{TIMEOUTS}  server s nosuchhost.invalid:80\n");
    let o = check_file("unres.cfg", &unresolvable);
    assert_alert(
        &o,
        1,
        "[unres.cfg:6] : 'server l/s' : could not resolve address 'nosuchhost.invalid'.",
    );
    let dir = dir_with("dr", &[("unres.cfg", unresolvable.as_bytes())]);
    let o = same_as_haproxy(dir.path(), &["-c", "-dr", "-f", "unres.cfg"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stderr)
        .contains("could not resolve address 'nosuchhost.invalid', disabling server."));
    // A frontend without bind only: no listener.
    let o = check_file("nobind.cfg", format!("frontend fe\n{TIMEOUTS}"));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn start_refusals() {
    let dir = dir_with(
        "start",
        &[
            ("g.cfg", b"global\n"),
            ("cert.pem", b"not a certificate, only stat()ed\n"),
            (
                "ssl.cfg",
                b"frontend fe\n  bind 127.0.0.1:18443 ssl crt cert.pem\n  timeout client 1s\n",
            ),
        ],
    );
    let o = ours_bounded(dir.path(), &["-f", "g.cfg"]);
    assert_alert_plain(&o, "No enabled listener found");
    let o = ours(dir.path(), &["-c", "-q", "-f", "ssl.cfg"]);
    assert_eq!(o.status.code(), Some(0), "{}", describe("haproxyrs -c", &o));
    let o = ours_bounded(dir.path(), &["-f", "ssl.cfg"]);
    assert_alert(
        &o,
        1,
        "[ssl.cfg:2] : 'bind ssl' is not implemented by haproxyrs yet",
    );
    let o = ours_bounded(dir.path(), &["-q", "-f", "ssl.cfg"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stderr.is_empty() && o.stdout.is_empty());
}

/// A real start through the command line: `-n`, `-m` and `-dS` are applied, the TCP proxy
/// relays to a backend, and in the foreground (`-db`) `-p` writes nothing, as in 2.6 (the
/// pid file is daemon mode's, see `daemon.rs`).
#[test]
fn start_with_process_flags() {
    use crate::support::backends::Backend;
    use crate::support::client::Client;
    use crate::support::proxy::{Flavor, ProxyBuilder};
    use std::time::Duration;

    let backend = Backend::echo("echo");
    let mut proxy = ProxyBuilder::new(
        Flavor::Haproxyrs,
        "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         listen l\n  bind {{fe0}}\n  server s {{be}}\n",
    )
    .var("be", backend.addr_str())
    .arg("-p")
    .arg("run.pid")
    .arg("-n")
    .arg("50")
    .arg("-m")
    .arg("1024")
    .arg("-dS")
    .label("cli-start")
    .start();
    let mut client = Client::connect(proxy.fe(0));
    client.send(b"ping\n");
    let echoed = client.read_bytes(5, Duration::from_secs(10)).to_vec();
    assert_eq!(
        echoed,
        b"ping\n",
        "no echo through haproxyrs; stderr:\n{}",
        proxy.stderr()
    );
    assert!(!proxy.dir.path().join("run.pid").exists());
    proxy.kill();
}
