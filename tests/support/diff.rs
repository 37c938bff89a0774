//! The differential harness: one config template and one script of raw client bytes, run
//! through Debian's haproxy (the reference) and haproxyrs side by side, each with its own
//! identical set of recording backends; every difference in status line, headers (Date
//! excluded, names case-insensitive), body, bytes the backends received and connection
//! closure is reported as a readable diff. Known, intended differences are listed by path
//! pattern (`*` matches anything), each with a reason.
//!
//! Template placeholders: `{{fe0}}`… (listening sockets, as `fd@N`), `{{be:NAME}}`
//! (`127.0.0.1:PORT` of backend NAME on that side).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::backends::{Backend, ConnRecord, Reply};
use super::client::{Client, Received};
use super::http1::{self, Message};
use super::proxy::{Flavor, Proxy, ProxyBuilder};
use super::WAIT;

/// One step of a client connection's script.
#[derive(Clone, Debug)]
pub enum Step {
    /// Send these exact bytes.
    Send(Vec<u8>),
    /// Wait until this connection has `n` complete HTTP responses (or closes, or time runs out).
    Responses(usize),
    /// Wait until this connection has received `n` bytes in total.
    Bytes(usize),
    /// Half-close our side.
    ShutdownWrite,
}

/// One client connection, run after the previous one has finished.
#[derive(Clone, Debug)]
pub struct Conn {
    pub frontend: usize,
    pub steps: Vec<Step>,
}

impl Conn {
    /// A connection to `{{fe0}}` sending `bytes` once.
    pub fn send(bytes: impl Into<Vec<u8>>) -> Conn {
        Conn {
            frontend: 0,
            steps: vec![Step::Send(bytes.into())],
        }
    }

    pub fn frontend(mut self, n: usize) -> Conn {
        self.frontend = n;
        self
    }

    pub fn then(mut self, step: Step) -> Conn {
        self.steps.push(step);
        self
    }

    pub fn then_send(self, bytes: impl Into<Vec<u8>>) -> Conn {
        self.then(Step::Send(bytes.into()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Http,
    Tcp,
}

type SideResponder = Arc<dyn Fn(usize, &Message) -> Reply + Send + Sync>;

#[derive(Clone)]
enum BackendSpec {
    Http(String, SideResponder),
    Echo(String),
    Record(String),
}

impl BackendSpec {
    fn name(&self) -> &str {
        match self {
            BackendSpec::Http(n, _) | BackendSpec::Echo(n) | BackendSpec::Record(n) => n,
        }
    }

    fn start(&self, side: usize) -> Backend {
        match self {
            BackendSpec::Http(n, f) => {
                let f = f.clone();
                Backend::http_with(n, move |m| f(side, m))
            }
            BackendSpec::Echo(n) => Backend::echo(n),
            BackendSpec::Record(n) => Backend::record(n),
        }
    }

    fn is_http(&self) -> bool {
        matches!(self, BackendSpec::Http(..))
    }
}

/// A differential test: build, then [`Diff::assert_same`].
pub struct Diff {
    name: String,
    templates: [String; 2],
    sides: [Flavor; 2],
    backends: Vec<BackendSpec>,
    conns: Vec<Conn>,
    intended: Vec<(String, String)>,
    mode: Mode,
    close_grace: Duration,
    strict_connections: bool,
}

/// What one side produced.
pub struct SideOutcome {
    pub flavor: Flavor,
    pub conns: Vec<Received>,
    pub backends: BTreeMap<String, Vec<ConnRecord>>,
    pub context: String,
    /// The proxy had exited by itself before the script ended.
    pub exited_early: Option<std::process::ExitStatus>,
    pub stderr: String,
}

/// One difference between the sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub path: String,
    pub a: String,
    pub b: String,
}

/// The comparison of both sides.
pub struct Report {
    pub name: String,
    pub differences: Vec<Difference>,
    /// Differences that matched an intended pattern (path, reason).
    pub intended: Vec<(Difference, String)>,
    pub sides: [SideOutcome; 2],
    pub script: String,
}

impl Diff {
    /// A test named `name` on `template` (haproxy = side A, haproxyrs = side B).
    pub fn new(name: &str, template: &str) -> Diff {
        Diff {
            name: name.to_string(),
            templates: [template.to_string(), template.to_string()],
            sides: [Flavor::Haproxy, Flavor::Haproxyrs],
            backends: Vec::new(),
            conns: Vec::new(),
            intended: Vec::new(),
            mode: Mode::Http,
            close_grace: Duration::from_millis(1000),
            strict_connections: false,
        }
    }

    /// Compare these two programs instead (e.g. haproxy vs haproxy to validate the harness).
    pub fn sides(mut self, a: Flavor, b: Flavor) -> Diff {
        self.sides = [a, b];
        self
    }

    /// Use a different config on side B (to validate the harness: inject a difference).
    pub fn template_b(mut self, template: &str) -> Diff {
        self.templates[1] = template.to_string();
        self
    }

    /// Raw byte comparison of client responses (TCP mode) instead of HTTP parsing.
    pub fn tcp(mut self) -> Diff {
        self.mode = Mode::Tcp;
        self
    }

    /// How long to wait, after the expected answers, to see whether the server closes.
    pub fn close_grace(mut self, d: Duration) -> Diff {
        self.close_grace = d;
        self
    }

    /// Also compare how many connections each HTTP backend accepted. Off by default: with
    /// server-side connection reuse even HAProxy against itself varies (idle connections are
    /// per thread and return to the pool asynchronously). TCP backends always compare.
    pub fn strict_connections(mut self) -> Diff {
        self.strict_connections = true;
        self
    }

    /// The default HTTP backend (`200`, body `NAME\n`, header `x-backend: NAME`).
    pub fn http_backend(self, name: &str) -> Diff {
        let n = name.to_string();
        self.http_backend_with(name, move |_, _| {
            Reply::new(200, format!("{n}\n")).header("x-backend", &n)
        })
    }

    /// An HTTP backend answering `reply` to everything.
    pub fn http_backend_reply(self, name: &str, reply: Reply) -> Diff {
        self.http_backend_with(name, move |_, _| reply.clone())
    }

    /// An HTTP backend computing its reply from (side index, request).
    pub fn http_backend_with(
        mut self,
        name: &str,
        f: impl Fn(usize, &Message) -> Reply + Send + Sync + 'static,
    ) -> Diff {
        self.backends
            .push(BackendSpec::Http(name.to_string(), Arc::new(f)));
        self
    }

    pub fn echo_backend(mut self, name: &str) -> Diff {
        self.backends.push(BackendSpec::Echo(name.to_string()));
        self
    }

    pub fn record_backend(mut self, name: &str) -> Diff {
        self.backends.push(BackendSpec::Record(name.to_string()));
        self
    }

    /// Add a connection to the script.
    pub fn conn(mut self, c: Conn) -> Diff {
        self.conns.push(c);
        self
    }

    /// Add a connection sending `bytes` to `{{fe0}}`.
    pub fn send(self, bytes: impl Into<Vec<u8>>) -> Diff {
        self.conn(Conn::send(bytes))
    }

    /// A known difference: any path matching `pattern` is reported as intended, not failed.
    pub fn intended(mut self, pattern: &str, why: &str) -> Diff {
        self.intended.push((pattern.to_string(), why.to_string()));
        self
    }

    /// Run both sides (in parallel) and compare.
    /// Run against Debian's haproxy: `None` (after a loud skip line) when it is not
    /// installed — a failure under `CI=true` — and a failure when haproxyrs could not start.
    pub fn run_against_haproxy(self) -> Option<Report> {
        if !super::haproxy::haproxy_available(&self.name) {
            return None;
        }
        let report = self.run();
        if let Some(st) = report.sides[1].exited_early {
            panic!(
                "{}: haproxyrs exited early ({st})\n{}",
                report.name, report.sides[1].context
            );
        }
        Some(report)
    }

    /// [`Diff::run_against_haproxy`], then fail on any unintended difference (intended ones
    /// are printed).
    pub fn check_against_haproxy(self) {
        let name = self.name.clone();
        let Some(report) = self.run_against_haproxy() else {
            return;
        };
        assert!(report.differences.is_empty(), "{}", report.render());
        for (d, why) in &report.intended {
            eprintln!("{name}: intended difference at {} ({why})", d.path);
        }
    }

    pub fn run(self) -> Report {
        let script = self.describe_script();
        let (a, b) = std::thread::scope(|s| {
            let ha = s.spawn(|| self.run_side(0));
            let hb = s.spawn(|| self.run_side(1));
            (
                ha.join().expect("side A panicked"),
                hb.join().expect("side B panicked"),
            )
        });
        let mut all = Vec::new();
        compare(&self, &a, &b, &mut all);
        let mut differences = Vec::new();
        let mut intended = Vec::new();
        for d in all {
            match self.intended.iter().find(|(p, _)| glob(p, &d.path)) {
                Some((_, why)) => intended.push((d, why.clone())),
                None => differences.push(d),
            }
        }
        Report {
            name: self.name,
            differences,
            intended,
            sides: [a, b],
            script,
        }
    }

    /// Run, and panic with the readable diff when anything unintended differs. Needs haproxy
    /// (skips loudly without it; fails under `CI=true`).
    pub fn assert_same(self) {
        if self.sides.contains(&Flavor::Haproxy) && !super::haproxy::haproxy_available(&self.name) {
            return;
        }
        let report = self.run();
        if !report.differences.is_empty() {
            panic!("{}", report.render());
        }
        for (d, why) in &report.intended {
            eprintln!("{}: intended difference at {} ({why})", report.name, d.path);
        }
    }

    fn run_side(&self, side: usize) -> SideOutcome {
        let flavor = self.sides[side];
        let backends: Vec<Backend> = self.backends.iter().map(|b| b.start(side)).collect();
        let mut builder = ProxyBuilder::new(flavor, &self.templates[side]).label(&format!(
            "{}-{}",
            self.name,
            flavor.name()
        ));
        for b in &backends {
            builder = builder.var(&format!("be:{}", b.name), b.addr_str());
        }
        let mut proxy = builder.start();
        let mut conns = Vec::new();
        for c in &self.conns {
            conns.push(self.run_conn(&proxy, c));
        }
        // A proxy that died makes every connection end empty; give its exit a moment to be
        // reaped so the report can say it exited (bounded; no wait when anything came back).
        let all_dead = conns.iter().all(|r| r.closed && r.bytes.is_empty());
        let exited_early = if all_dead {
            proxy.wait_exit(Duration::from_secs(1))
        } else {
            proxy.try_status()
        };
        // Stop the proxy so every backend connection ends, then collect what they saw.
        proxy.kill();
        for b in &backends {
            b.wait_all_closed(Duration::from_secs(3));
        }
        let mut recs = BTreeMap::new();
        for b in &backends {
            recs.insert(b.name.clone(), b.conns());
        }
        // Normalise addresses: ports differ between sides by construction.
        let mut names: Vec<(String, String)> = backends
            .iter()
            .map(|b| (b.addr_str(), format!("{{{{be:{}}}}}", b.name)))
            .collect();
        for (i, fe) in proxy.frontends.iter().enumerate() {
            names.push((fe.to_string(), format!("{{{{fe{i}}}}}")));
        }
        for r in &mut conns {
            r.bytes = normalise(&r.bytes, &names);
        }
        for recs in recs.values_mut() {
            for c in recs.iter_mut() {
                c.received = normalise(&c.received, &names);
            }
        }
        SideOutcome {
            flavor,
            conns,
            backends: recs,
            context: proxy.context(),
            exited_early,
            stderr: proxy.stderr(),
        }
    }

    fn run_conn(&self, proxy: &Proxy, conn: &Conn) -> Received {
        let addr: SocketAddr = proxy.fe(conn.frontend);
        let mut c = match Client::try_connect(addr) {
            Ok(c) => c,
            Err(_) => {
                return Received {
                    closed: true,
                    refused: true,
                    ..Received::default()
                }
            }
        };
        for step in &conn.steps {
            match step {
                Step::Send(b) => {
                    c.send(b);
                }
                Step::Responses(n) => {
                    c.read_responses(*n, WAIT);
                }
                Step::Bytes(n) => {
                    c.read_bytes(*n, WAIT);
                }
                Step::ShutdownWrite => {
                    c.shutdown_write();
                }
            }
        }
        match self.mode {
            Mode::Http => {
                let n = c.received.head_flags.len();
                c.read_responses(n, WAIT);
            }
            Mode::Tcp => {}
        }
        c.read_until_close(self.close_grace);
        c.received
    }

    fn describe_script(&self) -> String {
        let mut s = String::new();
        for (i, c) in self.conns.iter().enumerate() {
            let _ = writeln!(s, "conn{i} -> fe{}:", c.frontend);
            for st in &c.steps {
                match st {
                    Step::Send(b) => {
                        let _ = writeln!(s, "  send:\n{}", indent(&http1::show(b), "    "));
                    }
                    other => {
                        let _ = writeln!(s, "  {other:?}");
                    }
                }
            }
        }
        s
    }
}

fn normalise(bytes: &[u8], names: &[(String, String)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (from, to) in names {
        out = replace_all(&out, from.as_bytes(), to.as_bytes());
    }
    out
}

fn replace_all(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() {
        return hay.to_vec();
    }
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// `*` matches any run of characters; everything else literally.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !text.starts_with(part) {
                return false;
            }
            pos = part.len();
        } else if i == parts.len() - 1 {
            return text.len() >= pos + part.len() && text[pos..].ends_with(part);
        } else {
            match text[pos..].find(part) {
                Some(j) => pos += j + part.len(),
                None => return false,
            }
        }
    }
    true
}

fn diff(out: &mut Vec<Difference>, path: String, a: String, b: String) {
    let empty = |s: String| {
        if s.is_empty() {
            "<empty>".to_string()
        } else {
            s
        }
    };
    let (a, b) = (empty(a), empty(b));
    if a != b {
        out.push(Difference { path, a, b });
    }
}

fn closure(r: &Received) -> String {
    if r.refused {
        return "connection refused".into();
    }
    match (r.closed, r.reset) {
        (true, true) => "reset by server".into(),
        (true, false) => "closed by server".into(),
        _ => "left open".into(),
    }
}

fn compare(d: &Diff, a: &SideOutcome, b: &SideOutcome, out: &mut Vec<Difference>) {
    for (i, (ra, rb)) in a.conns.iter().zip(&b.conns).enumerate() {
        match d.mode {
            Mode::Http => compare_responses(&format!("conn{i}"), ra, rb, out),
            Mode::Tcp => diff(
                out,
                format!("conn{i}.bytes"),
                http1::show(&ra.bytes),
                http1::show(&rb.bytes),
            ),
        }
        diff(out, format!("conn{i}.closure"), closure(ra), closure(rb));
    }
    for spec in &d.backends {
        let name = spec.name();
        let empty = Vec::new();
        let ca = a.backends.get(name).unwrap_or(&empty);
        let cb = b.backends.get(name).unwrap_or(&empty);
        let p = format!("be.{name}");
        if d.strict_connections || !spec.is_http() {
            diff(
                out,
                format!("{p}.connections"),
                ca.len().to_string(),
                cb.len().to_string(),
            );
        }
        if spec.is_http() {
            let split = |cs: &[ConnRecord]| {
                let mut reqs = Vec::new();
                let mut trailing = Vec::new();
                for c in cs {
                    let (r, rest) = http1::split_requests(&c.received);
                    reqs.extend(r);
                    trailing.push(rest);
                }
                (reqs, trailing)
            };
            let (qa, ta) = split(ca);
            let (qb, tb) = split(cb);
            diff(
                out,
                format!("{p}.requests"),
                qa.len().to_string(),
                qb.len().to_string(),
            );
            for (k, (ma, mb)) in qa.iter().zip(&qb).enumerate() {
                compare_message(&format!("{p}.req{k}"), ma, mb, out);
            }
            for (k, (xa, xb)) in ta.iter().zip(&tb).enumerate() {
                diff(
                    out,
                    format!("{p}.conn{k}.unparsed"),
                    http1::show(xa),
                    http1::show(xb),
                );
            }
        } else {
            for (k, (xa, xb)) in ca.iter().zip(cb).enumerate() {
                diff(
                    out,
                    format!("{p}.conn{k}.bytes"),
                    http1::show(&xa.received),
                    http1::show(&xb.received),
                );
            }
        }
    }
}

fn compare_responses(p: &str, ra: &Received, rb: &Received, out: &mut Vec<Difference>) {
    let (ma, xa) = ra.responses();
    let (mb, xb) = rb.responses();
    diff(
        out,
        format!("{p}.responses"),
        ma.len().to_string(),
        mb.len().to_string(),
    );
    for (j, (x, y)) in ma.iter().zip(&mb).enumerate() {
        compare_message(&format!("{p}.resp{j}"), x, y, out);
    }
    // Responses one side sent and the other did not: show them whole.
    for (j, m) in ma.iter().enumerate().skip(mb.len()) {
        diff(
            out,
            format!("{p}.resp{j}"),
            http1::show(&m.raw),
            "<none>".into(),
        );
    }
    for (j, m) in mb.iter().enumerate().skip(ma.len()) {
        diff(
            out,
            format!("{p}.resp{j}"),
            "<none>".into(),
            http1::show(&m.raw),
        );
    }
    diff(
        out,
        format!("{p}.unparsed"),
        http1::show(&xa),
        http1::show(&xb),
    );
}

/// Start line, headers (Date excluded, names case-insensitive, values compared per name in
/// order), body.
fn compare_message(p: &str, a: &Message, b: &Message, out: &mut Vec<Difference>) {
    diff(out, format!("{p}.start"), a.start.clone(), b.start.clone());
    let mut names: Vec<String> = a
        .headers
        .iter()
        .chain(&b.headers)
        .map(|(n, _)| n.to_ascii_lowercase())
        .filter(|n| n != "date")
        .collect();
    names.sort();
    names.dedup();
    for n in names {
        let va = a.headers_named(&n);
        let vb = b.headers_named(&n);
        let show = |v: &[&str]| {
            if v.is_empty() {
                "<absent>".to_string()
            } else {
                v.join(" | ")
            }
        };
        diff(out, format!("{p}.header.{n}"), show(&va), show(&vb));
    }
    diff(
        out,
        format!("{p}.body"),
        http1::show(&a.body),
        http1::show(&b.body),
    );
}

fn indent(s: &str, pre: &str) -> String {
    s.lines().map(|l| format!("{pre}{l}\n")).collect()
}

impl Report {
    /// The readable diff, with the script and both sides' context.
    pub fn render(&self) -> String {
        let [a, b] = &self.sides;
        let (na, nb) = (a.flavor.name(), b.flavor.name());
        let mut s = format!(
            "differential test {}: {} difference(s) between {na} (A, reference) and {nb} (B)\n",
            self.name,
            self.differences.len()
        );
        for d in &self.differences {
            let _ = writeln!(
                s,
                "  {}:\n    A {na}:\n{}    B {nb}:\n{}",
                d.path,
                indent(&d.a, "      "),
                indent(&d.b, "      ")
            );
        }
        for (d, why) in &self.intended {
            let _ = writeln!(s, "  (intended) {}: {why}", d.path);
        }
        for side in [a, b] {
            if let Some(st) = side.exited_early {
                let _ = writeln!(
                    s,
                    "  NOTE: {} exited by itself ({st}) before the script ended",
                    side.flavor.name()
                );
            }
        }
        let _ = writeln!(s, "=== script ===\n{}", self.script);
        for side in [a, b] {
            for (i, r) in side.conns.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "=== {} conn{i} received ({}) ===\n{}",
                    side.flavor.name(),
                    closure(r),
                    http1::show(&r.bytes)
                );
            }
            let _ = writeln!(s, "{}", side.context);
        }
        s
    }

    /// Was a difference reported at a path matching `pattern`?
    pub fn has(&self, pattern: &str) -> bool {
        self.differences.iter().any(|d| glob(pattern, &d.path))
    }
}

/// `-c` on the same config text through both programs: `None` (after a loud skip) when
/// haproxy is not installed. Compare `.status`, and the ALERT lines as the test needs.
pub fn check_both(
    name: &str,
    config: &str,
    args: &[&str],
) -> Option<(super::proxy::CheckOutput, super::proxy::CheckOutput)> {
    if !super::haproxy::haproxy_available(name) {
        return None;
    }
    let a = super::proxy::check(Flavor::Haproxy, config, &[], args);
    let b = super::proxy::check(Flavor::Haproxyrs, config, &[], args);
    Some((a, b))
}

/// Lines of `-c` output at `level` (`"ALERT"`, `"WARNING"`), with the PID and file path
/// removed so both programs' lines compare.
pub fn diagnostic_lines(out: &super::proxy::CheckOutput, level: &str) -> Vec<String> {
    let tag = format!("[{level}]");
    out.stderr
        .lines()
        .filter(|l| l.starts_with(&tag))
        .map(|l| match l.split_once(") : ") {
            Some((_, rest)) => rest.to_string(),
            None => l.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn glob_matches_paths() {
        assert!(glob(
            "conn*.resp*.header.server",
            "conn0.resp1.header.server"
        ));
        assert!(!glob("conn*.resp*.header.server", "conn0.resp1.header.via"));
        assert!(glob("*", "anything"));
        assert!(glob("be.app.connections", "be.app.connections"));
        assert!(!glob("be.app", "be.app.connections"));
    }
}
