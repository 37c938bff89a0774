//! The sample/ACL lowering API used by the keyword table (`acl` lines, every `if`/`unless`,
//! log-format arguments, `%[...]` expressions), plus the checks that need the whole config
//! (backends, servers and userlists named by fetches) and where a fetch may be used.
//!
//! # Layout
//! - [`super::fetch`] — sample expressions (fetch and converter tables, arguments).
//! - [`super::acl`] — ACL terms, flags, pattern compilation, `-f` files, [`AclScope`].
//! - [`super::condition`] — `if`/`unless` conditions.
//! - [`super::logformat`] — log-format strings.
//!
//! # Using it from a keyword parser
//! ```text
//! acl NAME …           → parse_acl_line(args, span, env, diags) → scope.declare(name, term)
//! … if|unless COND     → split_condition(words); parse_condition(cond_words, &scope, env, diags)
//!                         errors: CondError::diagnostic("error detected while parsing switching rule")
//! log-format STR       → parse_log_format(text, Some(UsePoint::Log), env)
//!                         errors: log_format_directive_error(span, msg)
//! set-header X STR     → parse_log_format(text, Some(UsePoint::HttpRequest), env)
//!                         errors: rule_error(span, "frontend", "fe", "http-request set-header", msg)
//! after all sections   → check_fetch_refs(...) for nbsrv/srv_is_up/http_auth names
//! ```

use crate::diag::Diagnostic;
use crate::env::Environment;
use crate::ir::sample::{
    AclRef, AclTerm, Condition, Fetch, LogFormatExpr, LogFormatPart, SampleExpr,
};
use crate::span::Span;

pub use super::acl::{parse_acl_line, parse_acl_term, AclScope};
pub use super::condition::{parse_condition, split_condition, CondError};
pub use super::fetch::{ExprContext, ExprError};
pub use super::logformat::parse_log_format;

/// Where a sample is evaluated, for HAProxy's "may not be reliably used here" checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsePoint {
    TcpRequestConnection,
    TcpRequestSession,
    TcpRequestContent,
    HttpRequest,
    UseBackend,
    HttpResponse,
    /// `use-server`, `balance`, `stick match`.
    UseServer,
    /// A `log-format` line: evaluated when the log is emitted.
    Log,
}

impl UsePoint {
    /// `Ok` when `fetch` works here (a frontend-side rule), else what it needs (in
    /// HAProxy's words).
    pub fn check(self, fetch: &Fetch) -> Result<(), &'static str> {
        self.check_at(fetch, false)
    }

    /// [`UsePoint::check`] for a rule of a backend (`backend_side`) or a frontend/listen.
    /// Decided by HAProxy's own table of where each fetch may be used.
    pub fn check_at(self, fetch: &Fetch, backend_side: bool) -> Result<(), &'static str> {
        let usable = registry_name(fetch)
            .and_then(super::fetch_registry::fetch)
            .map(|(_, _, mask)| mask.as_bytes().get(self.column(backend_side)) == Some(&b'Y'));
        match usable {
            Some(true) => Ok(()),
            Some(false) => Err(fetch.needs().describe()),
            None => Ok(()),
        }
    }

    /// The column of [`super::fetch_registry::USE_POINTS`] for this point.
    fn column(self, backend_side: bool) -> usize {
        match (self, backend_side) {
            (UsePoint::TcpRequestConnection, _) => 0,
            (UsePoint::TcpRequestSession, _) => 1,
            (UsePoint::TcpRequestContent, false) => 2,
            (UsePoint::TcpRequestContent, true) => 6,
            (UsePoint::HttpRequest, false) => 3,
            (UsePoint::HttpRequest, true) => 7,
            (UsePoint::UseBackend, _) => 5,
            (UsePoint::UseServer, _) => 9,
            (UsePoint::HttpResponse, false) => 16,
            (UsePoint::HttpResponse, true) => 12,
            (UsePoint::Log, _) => 18,
        }
    }
}

/// The HAProxy keyword of a compiled fetch (its entry in the registry).
pub fn registry_name(f: &Fetch) -> Option<&str> {
    Some(match f {
        Fetch::Bool(true) => "always_true",
        Fetch::Bool(false) => "always_false",
        Fetch::Int(_) => "int",
        Fetch::Str(_) => "str",
        Fetch::Ip(_) => "ipv4",
        Fetch::Src => "src",
        Fetch::SrcPort => "src_port",
        Fetch::Dst => "dst",
        Fetch::DstPort => "dst_port",
        Fetch::ReqLen => "req.len",
        Fetch::ReqPayload { .. } => "req.payload",
        Fetch::ReqSslSni => "req.ssl_sni",
        Fetch::ReqSslHelloType => "req.ssl_hello_type",
        Fetch::ReqSslAlpn => "req.ssl_alpn",
        Fetch::ReqSslVer => "req.ssl_ver",
        Fetch::ReqProtoHttp => "req.proto_http",
        Fetch::SslFc => "ssl_fc",
        Fetch::SslFcSni => "ssl_fc_sni",
        Fetch::Method => "method",
        Fetch::Path => "path",
        Fetch::PathQ => "pathq",
        Fetch::Url => "url",
        Fetch::Base => "base",
        Fetch::Query => "query",
        Fetch::ReqVer => "req.ver",
        Fetch::UrlParam { .. } => "url_param",
        Fetch::Hdr { .. } => "hdr",
        Fetch::HdrCnt { .. } => "hdr_cnt",
        Fetch::HdrVal { .. } => "hdr_val",
        Fetch::ReqHdr { full: false, .. } => "req.hdr",
        Fetch::ReqHdr { full: true, .. } => "req.fhdr",
        Fetch::ReqHdrCnt { full: false, .. } => "req.hdr_cnt",
        Fetch::ReqHdrCnt { full: true, .. } => "req.fhdr_cnt",
        Fetch::ReqHdrVal { .. } => "req.hdr_val",
        Fetch::ReqHdrIp { .. } => "req.hdr_ip",
        Fetch::ReqCook { .. } => "req.cook",
        Fetch::ReqCookCnt { .. } => "req.cook_cnt",
        Fetch::ReqCookVal { .. } => "req.cook_val",
        Fetch::HttpAuth { .. } => "http_auth",
        Fetch::HttpAuthGroup { .. } => "http_auth_group",
        Fetch::Status => "status",
        Fetch::ResHdr { full: false, .. } => "res.hdr",
        Fetch::ResHdr { full: true, .. } => "res.fhdr",
        Fetch::ResHdrCnt { full: false, .. } => "res.hdr_cnt",
        Fetch::ResHdrCnt { full: true, .. } => "res.fhdr_cnt",
        Fetch::ResHdrVal { .. } => "res.hdr_val",
        Fetch::ResCook { .. } => "res.cook",
        Fetch::NbSrv { .. } => "nbsrv",
        Fetch::SrvIsUp { .. } => "srv_is_up",
        Fetch::BeName => "be_name",
        Fetch::CaptureReqMethod => "capture.req.method",
        Fetch::CaptureReqUri => "capture.req.uri",
        Fetch::CaptureReqVer => "capture.req.ver",
        Fetch::CaptureResVer => "capture.res.ver",
        Fetch::CaptureHdr {
            response: false, ..
        } => "capture.req.hdr",
        Fetch::CaptureHdr { response: true, .. } => "capture.res.hdr",
        Fetch::FeName => "fe_name",
        Fetch::Var { .. } => "var",
        Fetch::Unimplemented { name, .. } => name,
    })
}

/// NOTICEs for the parts of a sample expression haproxyrs parses but does not evaluate
/// (`'sample fetch src_conn_rate' is parsed but not implemented`).
pub fn unimplemented_notices(expr: &SampleExpr, span: &Span) -> Vec<Diagnostic> {
    super::fetch::unimplemented_parts(expr)
        .into_iter()
        .map(|what| Diagnostic::unimplemented(span, what))
        .collect()
}

/// [`unimplemented_notices`] for every `%[...]` of a log-format string.
pub fn log_format_notices(lf: &LogFormatExpr, span: &Span) -> Vec<Diagnostic> {
    log_format_samples(lf)
        .flat_map(|e| unimplemented_notices(e, span))
        .collect()
}

impl UsePoint {
    /// The evaluation point of a rule keyword (`use_backend`, `http-request`,
    /// `tcp-request content`…): `words` are the rule's first words.
    pub fn for_rule(words: &[&str]) -> Option<UsePoint> {
        Some(match words {
            ["use_backend", ..] | ["default_backend", ..] => UsePoint::UseBackend,
            ["use-server", ..] => UsePoint::UseServer,
            // HAProxy checks persistence rules as content rules (2.6's wording).
            ["force-persist", ..] | ["ignore-persist", ..] => UsePoint::TcpRequestContent,
            ["http-request", ..] | ["redirect", ..] | ["stats", ..] => UsePoint::HttpRequest,
            ["http-response", ..] | ["http-after-response", ..] => UsePoint::HttpResponse,
            ["tcp-request", "connection", ..] => UsePoint::TcpRequestConnection,
            ["tcp-request", "session", ..] => UsePoint::TcpRequestSession,
            ["tcp-request", "content", ..] => UsePoint::TcpRequestContent,
            _ => return None,
        })
    }

    /// HAProxy's name for this evaluation point, e.g. `frontend use-backend rule`.
    /// `backend_side`: the rule belongs to a backend (not a frontend or `listen`).
    pub fn describe(self, backend_side: bool) -> String {
        let side = if backend_side { "backend" } else { "frontend" };
        let what = match self {
            UsePoint::TcpRequestConnection => "tcp-request connection rule",
            UsePoint::TcpRequestSession => "tcp-request session rule",
            UsePoint::TcpRequestContent => "tcp-request content rule",
            UsePoint::HttpRequest => "http-request header rule",
            UsePoint::UseBackend => "use-backend rule",
            UsePoint::HttpResponse => "http-response header rule",
            UsePoint::UseServer => "use-server, balance or stick-match rule",
            UsePoint::Log => "log-format",
        };
        format!("{side} {what}")
    }
}

/// [`check_condition_usage`] for a rule given by its words (`["use_backend", "be"]`,
/// `["http-request", "deny"]`): nothing for keywords without a known evaluation point.
pub fn check_rule_condition(
    rule_words: &[&str],
    cond: &Condition,
    acls: &[crate::ir::sample::Acl],
    backend_side: bool,
    span: &Span,
) -> Vec<Diagnostic> {
    let Some(point) = UsePoint::for_rule(rule_words) else {
        return Vec::new();
    };
    // `tcp-request X` rules name themselves in the warning; others do not.
    let suffix = match rule_words {
        ["tcp-request", sub, ..] => format!(" in 'tcp-request {sub}'"),
        _ => String::new(),
    };
    // Persistence rules are always checked as backend rules, even in a frontend.
    let backend_side =
        backend_side || matches!(rule_words, ["force-persist", ..] | ["ignore-persist", ..]);
    usage_warnings(cond, acls, point, backend_side, span, &suffix)
}

/// HAProxy's warnings for a condition whose ACLs use fetches that cannot work where the
/// rule is evaluated (`acl 'a' will never match because it only involves keywords that
/// are incompatible with 'frontend use-backend rule'`). `span` is the rule's line.
pub fn check_condition_usage(
    cond: &Condition,
    acls: &[crate::ir::sample::Acl],
    point: UsePoint,
    backend_side: bool,
    span: &Span,
) -> Vec<Diagnostic> {
    let suffix = match point {
        UsePoint::TcpRequestConnection => " in 'tcp-request connection'",
        UsePoint::TcpRequestSession => " in 'tcp-request session'",
        UsePoint::TcpRequestContent => " in 'tcp-request content'",
        _ => "",
    };
    usage_warnings(cond, acls, point, backend_side, span, suffix)
}

/// [`check_condition_usage`] with the rule's own `in '…'` wording.
fn usage_warnings(
    cond: &Condition,
    acls: &[crate::ir::sample::Acl],
    point: UsePoint,
    backend_side: bool,
    span: &Span,
    in_tcp_conn: &str,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let place = point.describe(backend_side);
    for term in cond.alternatives.iter().flatten() {
        match &term.acl {
            AclRef::Anonymous(t) => {
                if point.check_at(&t.sample.fetch, backend_side).is_err() {
                    out.push(Diagnostic::warning(
                        span,
                        format!(
                            "anonymous acl will never match{in_tcp_conn} because it uses keyword '{}' which is incompatible with '{place}'",
                            t.keyword
                        ),
                    ));
                }
            }
            AclRef::Named(id) => {
                let Some(acl) = acls.get(id.0) else { continue };
                let bad: Vec<&AclTerm> = acl
                    .terms
                    .iter()
                    .filter(|t| point.check_at(&t.sample.fetch, backend_side).is_err())
                    .collect();
                if bad.is_empty() {
                    continue;
                }
                let text = if bad.len() == acl.terms.len() {
                    format!(
                        "acl '{}' will never match{in_tcp_conn} because it only involves keywords that are incompatible with '{place}'",
                        acl.name
                    )
                } else {
                    format!(
                        "acl '{}' involves keywords '{}' which is incompatible with '{place}'",
                        acl.name, bad[0].keyword
                    )
                };
                out.push(Diagnostic::warning(span, text));
            }
            AclRef::Predefined(_) => {}
        }
    }
    out
}

/// Parse one standalone sample expression (`http-request set-var(txn.x) req.hdr(host)`,
/// `balance hash EXPR`). `Err` is HAProxy's message (`failed to parse sample expression
/// <…> : …`).
pub fn parse_sample_expr(text: &str, env: &dyn Environment) -> Result<SampleExpr, String> {
    let (parsed, _) = super::fetch::parse_expr_prefix(text, env, false)
        .map_err(|e| e.render(ExprContext::Sample, text))?;
    if parsed.consumed != text.len() {
        return Err(format!(
            "failed to parse sample expression <{text}> : unexpected characters after the expression: '{}'.",
            &text[parsed.consumed..]
        ));
    }
    Ok(parsed.expr)
}

/// [`parse_sample_expr`] worded as 2.6's actions and server options word it (`set-var`,
/// `sni`): the bare message, no `failed to parse sample expression <…>` framing and no
/// final period (`unknown fetch method 'foo'`, `missing comma after fetch keyword 'src'`).
pub fn parse_sample_expr_bare(text: &str, env: &dyn Environment) -> Result<SampleExpr, String> {
    let (parsed, _) = super::fetch::parse_expr_prefix(text, env, false)
        .map_err(|e| e.inner().trim_end_matches('.').to_string())?;
    if parsed.consumed != text.len() {
        let done = &text[..parsed.consumed];
        return Err(match last_top_level_comma(done) {
            Some(i) => {
                let conv = done[i + 1..].split('(').next().unwrap_or("");
                format!("missing comma after converter '{conv}'")
            }
            None => {
                let kw = done.split('(').next().unwrap_or("");
                format!("missing comma after fetch keyword '{kw}'")
            }
        });
    }
    Ok(parsed.expr)
}

/// The byte index of the last `,` outside parentheses (a converter separator).
fn last_top_level_comma(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut last = None;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => last = Some(i),
            _ => {}
        }
    }
    last
}

/// `Parsing [file:line]: failed to parse log-format : {msg}` (the `log-format` directive).
pub fn log_format_directive_error(span: &Span, msg: &str) -> Diagnostic {
    format_directive_error(span, "log-format", msg)
}

/// The same for another format directive (`unique-id` for `unique-id-format`).
pub fn format_directive_error(span: &Span, what: &str, msg: &str) -> Diagnostic {
    Diagnostic::new(
        crate::diag::Level::Alert,
        format!("Parsing [{span}]: failed to parse {what} : {msg}"),
    )
    .with_span(span)
}

/// `parsing [file:line] : error detected in frontend 'fe' while parsing 'http-request
/// set-header' rule : {msg}` (a log-format or sample argument of a rule).
pub fn rule_error(span: &Span, proxy_kind: &str, proxy: &str, rule: &str, msg: &str) -> Diagnostic {
    Diagnostic::alert(
        span,
        format!("error detected in {proxy_kind} '{proxy}' while parsing '{rule}' rule : {msg}"),
    )
}

trait WithSpan {
    fn with_span(self, span: &Span) -> Self;
}

impl WithSpan for Diagnostic {
    fn with_span(mut self, span: &Span) -> Self {
        self.span = Some(span.clone());
        self
    }
}

/// What the config defines, for the name checks HAProxy runs after parsing.
pub trait NameLookup {
    fn backend_exists(&self, name: &str) -> bool;
    fn server_exists(&self, backend: &str, server: &str) -> bool;
    fn userlist_exists(&self, name: &str) -> bool;
}

/// Check the names a fetch refers to (`nbsrv(be)`, `srv_is_up(be/s)`, `http_auth(ul)`),
/// with HAProxy's post-parse ALERTs. `proxy` is the proxy using it (and the backend for
/// `srv_is_up(srv)` without a backend); `span` is the line.
pub fn check_fetch_refs(
    fetch: &Fetch,
    keyword: &str,
    proxy: &str,
    span: &Span,
    names: &dyn NameLookup,
) -> Option<Diagnostic> {
    let post = |msg: String| {
        Some(Diagnostic::new(
            crate::diag::Level::Alert,
            format!("parsing [{span}]: {msg}"),
        ))
    };
    match fetch {
        Fetch::NbSrv {
            backend: Some(be), ..
        } if !names.backend_exists(be) => post(format!(
            "unable to find backend '{be}' referenced in arg 1 of ACL keyword '{keyword}' in proxy '{proxy}'."
        )),
        Fetch::SrvIsUp { backend, server } => {
            let be = backend.as_deref().unwrap_or(proxy);
            if !names.backend_exists(be) {
                post(format!(
                    "unable to find backend '{be}' referenced in arg 1 of ACL keyword '{keyword}' in proxy '{proxy}'."
                ))
            } else if !names.server_exists(be, server) {
                post(format!(
                    "unable to find server '{server}' in proxy '{be}', referenced in arg 1 of ACL keyword '{keyword}' in proxy '{proxy}'."
                ))
            } else {
                None
            }
        }
        Fetch::HttpAuth { userlist } | Fetch::HttpAuthGroup { userlist }
            if !names.userlist_exists(userlist) =>
        {
            post(format!(
                "unable to find userlist '{userlist}' referenced in arg 1 of ACL keyword '{keyword}' in proxy '{proxy}'."
            ))
        }
        _ => None,
    }
}

/// Every name check for the ACL terms of a proxy and its conditions' anonymous ACLs.
pub fn check_term_refs(term: &AclTerm, proxy: &str, names: &dyn NameLookup) -> Option<Diagnostic> {
    check_fetch_refs(&term.sample.fetch, &term.keyword, proxy, &term.span, names)
}

/// The anonymous ACL terms of a condition (for [`check_term_refs`]).
pub fn anonymous_terms(cond: &Condition) -> impl Iterator<Item = &AclTerm> {
    cond.alternatives
        .iter()
        .flatten()
        .filter_map(|t| match &t.acl {
            AclRef::Anonymous(term) => Some(&**term),
            _ => None,
        })
}

/// The sample expressions of a log-format string (for name checks).
pub fn log_format_samples(lf: &LogFormatExpr) -> impl Iterator<Item = &SampleExpr> {
    lf.parts.iter().filter_map(|p| match p {
        LogFormatPart::Sample { expr, .. } => Some(expr),
        _ => None,
    })
}

#[cfg(test)]
pub(crate) mod test_env {
    //! A fake [`Environment`] and word splitting for the sample lowering tests.
    use std::collections::HashMap;
    use std::io;
    use std::net::IpAddr;
    use std::path::Path;
    use std::sync::Arc;

    use crate::ast::Word;
    use crate::env::Environment;
    use crate::span::Span;

    #[derive(Default)]
    pub struct FakeEnv {
        files: HashMap<String, Vec<u8>>,
        hosts: HashMap<String, IpAddr>,
    }

    impl FakeEnv {
        pub fn with_file(mut self, path: &str, text: &str) -> Self {
            self.files.insert(path.into(), text.as_bytes().to_vec());
            self
        }
        pub fn with_host(mut self, name: &str, ip: &str) -> Self {
            self.hosts.insert(name.into(), ip.parse().unwrap());
            self
        }
    }

    impl Environment for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            (name == "FAKE_VAR").then(|| "fake".to_string())
        }
        fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
            self.files
                .get(path.to_str().unwrap_or(""))
                .cloned()
                .ok_or_else(|| io::ErrorKind::NotFound.into())
        }
        fn stat(&self, _: &Path) -> io::Result<()> {
            Ok(())
        }
        fn config_dir(&self, _: &Path) -> Option<io::Result<Vec<String>>> {
            None
        }
        fn resolve(&self, host: &str) -> Option<Vec<IpAddr>> {
            self.hosts.get(host).map(|ip| vec![*ip])
        }
        fn user_exists(&self, _: &str) -> bool {
            true
        }
        fn group_exists(&self, _: &str) -> bool {
            true
        }
    }

    /// Split on blanks into words at `t.cfg:1`.
    pub fn words(text: &str) -> Vec<Word> {
        let file: Arc<str> = "t.cfg".into();
        text.split_whitespace()
            .map(|w| Word {
                text: w.to_string(),
                span: Span::new(file.clone(), 1, 1),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_env::{words, FakeEnv};
    use super::*;
    use crate::diag::Diagnostics;

    struct Names;
    impl NameLookup for Names {
        fn backend_exists(&self, name: &str) -> bool {
            name == "be"
        }
        fn server_exists(&self, backend: &str, server: &str) -> bool {
            backend == "be" && server == "s1"
        }
        fn userlist_exists(&self, name: &str) -> bool {
            name == "ul"
        }
    }

    fn check(crit: &str) -> Option<String> {
        let env = FakeEnv::default();
        let mut d = Diagnostics::default();
        let t = parse_acl_term(&words(crit), &env, &mut d).unwrap();
        check_term_refs(&t, "fe", &Names).map(|d| d.text)
    }

    #[test]
    fn name_checks_match_haproxy() {
        assert_eq!(
            check("nbsrv(nobe) 1").unwrap(),
            "parsing [t.cfg:1]: unable to find backend 'nobe' referenced in arg 1 of ACL keyword 'nbsrv' in proxy 'fe'."
        );
        assert_eq!(
            check("http_auth(nol)").unwrap(),
            "parsing [t.cfg:1]: unable to find userlist 'nol' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'fe'."
        );
        assert_eq!(
            check("srv_is_up(be/zz)").unwrap(),
            "parsing [t.cfg:1]: unable to find server 'zz' in proxy 'be', referenced in arg 1 of ACL keyword 'srv_is_up' in proxy 'fe'."
        );
        assert!(check("srv_is_up(be/s1)").is_none());
        assert!(check("nbsrv(be) 1").is_none());
    }

    #[test]
    fn bare_sample_errors_are_worded_as_2_6_actions() {
        let env = FakeEnv::default();
        let err = |t: &str| parse_sample_expr_bare(t, &env).unwrap_err();
        assert_eq!(err("foo"), "unknown fetch method 'foo'");
        assert_eq!(err("src)"), "missing comma after fetch keyword 'src'");
        assert_eq!(err("src,lower)"), "missing comma after converter 'lower'");
        assert_eq!(
            err("src,ipmask(24))"),
            "missing comma after converter 'ipmask'"
        );
        assert_eq!(
            err("src,lower("),
            "invalid arg 1 in converter 'lower' : expected ')'"
        );
        assert!(parse_sample_expr_bare("src,lower", &env).is_ok());
    }

    #[test]
    fn use_points() {
        let env = FakeEnv::default();
        let path = parse_sample_expr("path", &env).unwrap();
        assert!(UsePoint::HttpRequest.check(&path.fetch).is_ok());
        assert_eq!(
            UsePoint::HttpResponse.check(&path.fetch),
            Err("HTTP request headers")
        );
        let hdr = parse_sample_expr("hdr(x)", &env).unwrap();
        assert!(UsePoint::HttpResponse.check(&hdr.fetch).is_ok());
        assert_eq!(
            UsePoint::Log.check(&hdr.fetch),
            Err("HTTP request headers,HTTP response headers")
        );
        assert!(parse_sample_expr("src junk", &env).is_err());
        // HAProxy's table: `req.hdr` is request-only, `status` works in logs.
        let rh = parse_sample_expr("req.hdr(x)", &env).unwrap();
        assert!(UsePoint::HttpResponse.check(&rh.fetch).is_err());
        let st = parse_sample_expr("status", &env).unwrap();
        assert!(UsePoint::Log.check(&st.fetch).is_ok());
        assert!(UsePoint::HttpRequest.check_at(&st.fetch, true).is_err());
        let un = parse_sample_expr("src_conn_rate", &env).unwrap();
        assert!(UsePoint::TcpRequestConnection.check(&un.fetch).is_ok());
        let n = unimplemented_notices(&un, &words("x")[0].span);
        assert_eq!(
            n[0].text,
            "parsing [t.cfg:1] : 'sample fetch src_conn_rate' is parsed but not implemented"
        );
        assert!(n[0].unimplemented);
    }

    #[test]
    fn usage_warnings_match_haproxy() {
        let env = FakeEnv::default();
        let mut d = Diagnostics::default();
        let mut scope = AclScope::default();
        for (n, crit) in [("a", "status 200"), ("p", "path /x"), ("p", "status 200")] {
            scope.declare(n, parse_acl_term(&words(crit), &env, &mut d).unwrap());
        }
        let span = words("x")[0].span.clone();
        let warn = |cond: &str, point: UsePoint, be: bool| -> Vec<String> {
            let c = parse_condition(&words(cond), &scope, &env, &mut Diagnostics::default())
                .unwrap()
                .unwrap();
            check_condition_usage(&c, &scope.acls, point, be, &span)
                .into_iter()
                .map(|d| d.text)
                .collect()
        };
        assert_eq!(
            warn("if a", UsePoint::UseBackend, false),
            vec!["parsing [t.cfg:1] : acl 'a' will never match because it only involves keywords that are incompatible with 'frontend use-backend rule'"]
        );
        assert_eq!(
            warn("if a", UsePoint::HttpRequest, true),
            vec!["parsing [t.cfg:1] : acl 'a' will never match because it only involves keywords that are incompatible with 'backend http-request header rule'"]
        );
        assert_eq!(
            warn("if p", UsePoint::HttpResponse, false),
            vec!["parsing [t.cfg:1] : acl 'p' involves keywords 'path' which is incompatible with 'frontend http-response header rule'"]
        );
        assert_eq!(
            warn("if { req.len 1 }", UsePoint::TcpRequestConnection, false),
            vec!["parsing [t.cfg:1] : anonymous acl will never match in 'tcp-request connection' because it uses keyword 'req.len' which is incompatible with 'frontend tcp-request connection rule'"]
        );
        assert_eq!(
            warn("if !p { res.hdr(x) y }", UsePoint::UseBackend, false),
            vec![
                "parsing [t.cfg:1] : acl 'p' involves keywords 'status' which is incompatible with 'frontend use-backend rule'",
                "parsing [t.cfg:1] : anonymous acl will never match because it uses keyword 'res.hdr' which is incompatible with 'frontend use-backend rule'"
            ]
        );
        assert_eq!(
            warn("if { status 200 }", UsePoint::UseServer, true),
            vec!["parsing [t.cfg:1] : anonymous acl will never match because it uses keyword 'status' which is incompatible with 'backend use-server, balance or stick-match rule'"]
        );
        assert!(warn("if { path /x } TRUE", UsePoint::TcpRequestContent, false).is_empty());
        let c = parse_condition(&words("if a"), &scope, &env, &mut Diagnostics::default())
            .unwrap()
            .unwrap();
        assert_eq!(
            check_rule_condition(&["use_backend", "be"], &c, &scope.acls, false, &span).len(),
            1
        );
        assert_eq!(
            UsePoint::for_rule(&["tcp-request", "content", "accept"]),
            Some(UsePoint::TcpRequestContent)
        );
        assert_eq!(UsePoint::for_rule(&["bind"]), None);
    }

    /// No input makes the sample parsers panic (multi-byte characters, stray brackets,
    /// quotes and escapes in every position).
    #[test]
    fn parsers_never_panic() {
        const ALPHABET: &[&str] = &[
            "%",
            "{",
            "}",
            "[",
            "]",
            "(",
            ")",
            ",",
            "\\",
            "\"",
            "'",
            "+Q",
            "-",
            " ",
            "é",
            "字",
            "path",
            "hdr",
            "req.hdr",
            "src",
            "lower",
            "regsub",
            "field",
            "map",
            "ci",
            "o",
            "1",
            "-1",
            "x",
            ":",
            "/",
            "*",
            "(?",
            "str",
            "int",
            "var",
            "txn.a",
            "-m",
            "-i",
            "-f",
            "!",
            "||",
            "if",
            "unless",
            "TRUE",
            "|",
            "0x1",
            "10.0.0.0/8",
            "::1",
            "lt",
            "gt",
            "5:3",
        ];
        let env = FakeEnv::default();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let scope = AclScope::default();
        for _ in 0..20_000 {
            let n = (next() % 12) as usize;
            let mut text = String::new();
            for _ in 0..n {
                text.push_str(ALPHABET[(next() % ALPHABET.len() as u64) as usize]);
            }
            let _ = parse_log_format(&text, Some(UsePoint::HttpRequest), &env);
            let _ = parse_sample_expr(&text, &env);
            let ws = words(&text);
            if !ws.is_empty() {
                let mut d = Diagnostics::default();
                let _ = parse_acl_term(&ws, &env, &mut d);
                let mut cond = words("if");
                cond.extend(ws);
                let _ = parse_condition(&cond, &scope, &env, &mut d);
            }
        }
    }

    #[test]
    fn directive_error_shape() {
        let span = words("x")[0].span.clone();
        assert_eq!(
            log_format_directive_error(&span, "truncated line after '%'.").text,
            "Parsing [t.cfg:1]: failed to parse log-format : truncated line after '%'."
        );
        assert_eq!(
            rule_error(&span, "frontend", "fe", "http-request set-header", "m").text,
            "parsing [t.cfg:1] : error detected in frontend 'fe' while parsing 'http-request set-header' rule : m"
        );
    }
}
