//! Sample expressions: `fetch[(args)][,converter[(args)]]*` → [`SampleExpr`].
//!
//! Owns the fetch and converter keyword tables, the argument mini-language (commas, parens,
//! quotes and backslash escapes inside `(...)`), and HAProxy's wording for every error
//! (`unknown fetch method 'x'`, `fetch method 'hdr' : expected ')' before ',2)'`…). How an
//! error is framed depends on where the expression sits (an ACL or a log-format string),
//! which [`ExprError::render`] takes care of. Files named by converters (`map`) are read
//! through [`Environment`].

use std::net::IpAddr;
use std::path::Path;

use crate::env::Environment;
use crate::ir::sample::{
    ArithArg, ArithOp, Converter, Fetch, MapConv, MatchMethod, SampleExpr, SampleType, VarScope,
};

/// Where an expression is parsed: decides the wording of errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExprContext {
    /// An ACL criterion (`acl x hdr(host) …`, `{ path … }`).
    Acl,
    /// A standalone sample expression (`%[...]`, `http-request set-var(x) EXPR`).
    Sample,
}

/// Why an expression did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprError {
    MissingFetch,
    UnknownFetch(String),
    UnknownConverter {
        fetch: String,
        name: String,
    },
    /// A fetch argument error (`expected ')' before 'x)'`, `failed to parse …`).
    FetchArg {
        fetch: String,
        msg: String,
    },
    /// A fetch whose arguments parsed but are invalid (`var(zz)`).
    FetchArgInvalid {
        fetch: String,
        msg: String,
    },
    /// `invalid arg N in converter 'c' : msg`.
    ConvArg {
        conv: String,
        pos: usize,
        msg: String,
    },
    /// `invalid args in converter 'c' : msg`.
    ConvArgInvalid {
        conv: String,
        msg: String,
    },
}

impl ExprError {
    /// HAProxy's wording. `whole` is the expression text (`foo(x)` for ACLs; the rest of
    /// the log-format string for samples, as HAProxy prints it between `<>`).
    pub fn render(&self, ctx: ExprContext, whole: &str) -> String {
        match ctx {
            ExprContext::Acl => {
                // An ACL keyword (`path`, `hdr`) frames errors as `ACL keyword 'x' : …`; a
                // plain sample fetch (`src`, `int`) as `… in ACL expression '…'`.
                let kw = match self {
                    ExprError::UnknownConverter { fetch, .. }
                    | ExprError::FetchArg { fetch, .. }
                    | ExprError::FetchArgInvalid { fetch, .. } => Some(fetch.as_str()),
                    _ => whole
                        .split(['(', ','])
                        .next()
                        .filter(|k| super::fetch_registry::acl_keyword(k).is_some()),
                };
                let kw = kw.filter(|k| super::fetch_registry::acl_keyword(k).is_some());
                match (self, kw) {
                    (ExprError::MissingFetch, _) => {
                        format!("missing fetch method in ACL expression '{whole}'.")
                    }
                    (ExprError::UnknownFetch(name), _) => {
                        format!("unknown fetch method '{name}' in ACL expression '{whole}'.")
                    }
                    (ExprError::FetchArg { msg, .. }, Some(kw)) => {
                        format!("ACL keyword '{kw}' : {msg}.")
                    }
                    (_, Some(kw)) => {
                        let inner = self.inner();
                        format!("ACL keyword '{kw}' : {}..", inner.trim_end_matches('.'))
                    }
                    (_, None) => {
                        let inner = self.inner();
                        format!(
                            "{} in ACL expression '{whole}'.",
                            inner.trim_end_matches('.')
                        )
                    }
                }
            }
            ExprContext::Sample => {
                let inner = self.inner();
                let inner = inner.trim_end_matches('.');
                format!("failed to parse sample expression <{whole}> : {inner}.")
            }
        }
    }
}

impl ExprError {
    /// The message without its framing (`fetch method 'src' : expected ')' before 'x)'`).
    pub fn inner(&self) -> String {
        match self {
            ExprError::MissingFetch => "missing fetch method".to_string(),
            ExprError::UnknownFetch(name) => format!("unknown fetch method '{name}'"),
            ExprError::UnknownConverter { name, .. } => format!("unknown converter '{name}'"),
            ExprError::FetchArg { fetch, msg } => format!("fetch method '{fetch}' : {msg}"),
            ExprError::FetchArgInvalid { fetch, msg } => {
                format!("invalid args in fetch method '{fetch}' : {msg}")
            }
            ExprError::ConvArg { conv, pos, msg } => {
                format!("invalid arg {pos} in converter '{conv}' : {msg}")
            }
            ExprError::ConvArgInvalid { conv, msg } => {
                format!("invalid args in converter '{conv}' : {msg}")
            }
        }
    }
}

/// Argument kinds of fetches and converters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArgKind {
    Str,
    Int,
}

impl ArgKind {
    fn name(self) -> &'static str {
        match self {
            ArgKind::Str => "string",
            ArgKind::Int => "integer",
        }
    }
}

/// One sample fetch keyword: its name, argument kinds (the first `min` mandatory).
struct FetchDef {
    name: &'static str,
    args: &'static [ArgKind],
    min: usize,
}

const S: ArgKind = ArgKind::Str;
const I: ArgKind = ArgKind::Int;

macro_rules! f {
    ($name:expr) => {
        FetchDef {
            name: $name,
            args: &[],
            min: 0,
        }
    };
    ($name:expr, $min:expr, [$($a:expr),*]) => {
        FetchDef {
            name: $name,
            args: &[$($a),*],
            min: $min,
        }
    };
}

/// Every sample fetch keyword haproxyrs evaluates.
const FETCHES: &[FetchDef] = &[
    f!("always_true"),
    f!("always_false"),
    f!("int", 1, [I]),
    f!("str", 1, [S]),
    f!("bool", 1, [S]),
    f!("ipv4", 1, [S]),
    f!("ipv6", 1, [S]),
    f!("env", 1, [S]),
    f!("src"),
    f!("src_port"),
    f!("dst"),
    f!("dst_port"),
    f!("req.len"),
    f!("req_len"),
    f!("req.payload", 2, [I, I]),
    f!("req.ssl_sni"),
    f!("req_ssl_sni"),
    f!("req.ssl_hello_type"),
    f!("req.ssl_alpn"),
    f!("req_ssl_hello_type"),
    f!("req.ssl_ver"),
    f!("req_ssl_ver"),
    f!("req.proto_http"),
    f!("req_proto_http"),
    f!("ssl_fc"),
    f!("ssl_fc_sni"),
    f!("method"),
    f!("path"),
    f!("pathq"),
    f!("url"),
    f!("base"),
    f!("query"),
    f!("req.ver"),
    f!("req_ver"),
    f!("url_param", 0, [S, S]),
    f!("urlp", 0, [S, S]),
    f!("urlp_val", 0, [S, S]),
    f!("hdr", 0, [S, I]),
    f!("req.hdr", 0, [S, I]),
    f!("req.fhdr", 0, [S, I]),
    f!("hdr_cnt", 0, [S]),
    f!("req.hdr_cnt", 0, [S]),
    f!("req.fhdr_cnt", 0, [S]),
    f!("hdr_val", 0, [S, I]),
    f!("req.hdr_val", 0, [S, I]),
    f!("hdr_ip", 0, [S, I]),
    f!("req.hdr_ip", 0, [S, I]),
    f!("cook", 0, [S]),
    f!("req.cook", 0, [S]),
    f!("cook_cnt", 0, [S]),
    f!("req.cook_cnt", 0, [S]),
    f!("cook_val", 0, [S]),
    f!("req.cook_val", 0, [S]),
    f!("http_auth", 1, [S]),
    f!("http_auth_group", 1, [S]),
    f!("status"),
    f!("res.hdr", 0, [S, I]),
    f!("shdr", 0, [S, I]),
    f!("res.fhdr", 0, [S, I]),
    f!("res.hdr_cnt", 0, [S]),
    f!("shdr_cnt", 0, [S]),
    f!("res.fhdr_cnt", 0, [S]),
    f!("res.hdr_val", 0, [S, I]),
    f!("shdr_val", 0, [S, I]),
    f!("res.cook", 0, [S]),
    f!("scook", 0, [S]),
    f!("nbsrv", 0, [S]),
    f!("srv_is_up", 1, [S]),
    f!("be_name"),
    f!("capture.req.method"),
    f!("capture.req.uri"),
    f!("capture.req.ver"),
    f!("capture.res.ver"),
    f!("capture.req.hdr", 1, [I]),
    f!("capture.res.hdr", 1, [I]),
    f!("fe_name"),
    f!("var", 1, [S, S]),
];

/// Resolve an ACL criterion keyword to the fetch keyword and its implied match method,
/// from HAProxy's ACL keyword list (`path_beg` → (`path`, beg); `hdr` → (`req.hdr`, str);
/// `src` is no ACL keyword: (`src`, none)).
pub fn acl_keyword(kw: &str) -> (&str, Option<MatchMethod>) {
    match super::fetch_registry::acl_keyword(kw) {
        Some((fetch, method)) => (fetch, MatchMethod::from_name(method)),
        None => (kw, None),
    }
}

/// The match method an ACL uses when none is given: by keyword for the few with their
/// own, else by the fetch's output type.
pub fn default_match(expr: &SampleExpr) -> MatchMethod {
    match expr.output_type() {
        SampleType::Bool => MatchMethod::Bool,
        SampleType::Int => MatchMethod::Int,
        SampleType::Ip => MatchMethod::Ip,
        SampleType::Bin => MatchMethod::Bin,
        SampleType::Str => MatchMethod::Str,
    }
}

/// A cursor over an expression's text.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }
    /// A keyword: letters, digits, `_`, `.`, `-`.
    fn ident(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-' {
                self.pos += 1;
            } else {
                break;
            }
        }
        &self.text[start..self.pos]
    }
}

/// Parse `(a,b)` after a keyword, per the argument kinds: returns the raw argument strings.
/// Errors are the inner messages HAProxy prints (`expected ')' before 'x)'`).
fn parse_args(
    cur: &mut Cursor<'_>,
    kinds: &[ArgKind],
    min: usize,
) -> Result<Vec<String>, (Option<usize>, String)> {
    let mut args = Vec::new();
    if cur.peek() != Some(b'(') {
        if min > 0 {
            return Err((
                Some(1),
                format!(
                    "missing arguments (got 0/{min}), type '{}' expected",
                    kinds[0].name()
                ),
            ));
        }
        return Ok(args);
    }
    cur.pos += 1;
    let bytes = cur.text.as_bytes();
    // An empty list `()` is allowed when no argument is mandatory.
    if cur.peek() == Some(b')') {
        cur.pos += 1;
        if min > 0 {
            return Err((
                Some(1),
                format!(
                    "missing arguments (got 0/{min}), type '{}' expected",
                    kinds[0].name()
                ),
            ));
        }
        return Ok(args);
    }
    loop {
        if args.len() == kinds.len() {
            return Err((None, expected_paren(cur.rest())));
        }
        // One argument: up to an unquoted ',' or ')'.
        let mut arg = String::new();
        let mut quote: Option<u8> = None;
        let start = cur.pos;
        loop {
            let Some(c) = bytes.get(cur.pos).copied() else {
                return Err((None, "expected ')'".to_string()));
            };
            match (quote, c) {
                (Some(q), c) if c == q => {
                    quote = None;
                    cur.pos += 1;
                }
                (None, b'"') | (None, b'\'') => {
                    quote = Some(c);
                    cur.pos += 1;
                }
                // A backslash escapes only quotes and itself; before anything else it is
                // kept (regsub's `\1`), and it does not protect `,` or `)` (HAProxy).
                (_, b'\\')
                    if quote != Some(b'\'')
                        && matches!(bytes.get(cur.pos + 1), Some(b'"' | b'\'' | b'\\')) =>
                {
                    arg.push(char::from(bytes[cur.pos + 1]));
                    cur.pos += 2;
                }
                (None, b',') | (None, b')') => break,
                _ => {
                    let ch = cur.text[cur.pos..].chars().next().unwrap_or('\0');
                    arg.push(ch);
                    cur.pos += ch.len_utf8();
                }
            }
        }
        let kind = kinds[args.len()];
        if kind == ArgKind::Int && arg.trim().parse::<i64>().is_err() {
            return Err((
                Some(args.len() + 1),
                format!(
                    "failed to parse '{}' as type 'integer' at position {}",
                    &cur.text[start..cur.pos],
                    args.len() + 1
                ),
            ));
        }
        args.push(arg);
        if bytes[cur.pos] == b')' {
            cur.pos += 1;
            break;
        }
        if args.len() == kinds.len() {
            return Err((None, expected_paren(cur.rest())));
        }
        cur.pos += 1; // ','
    }
    if args.len() < min {
        return Err((
            Some(args.len() + 1),
            format!(
                "missing arguments (got {}/{min}), type '{}' expected",
                args.len(),
                kinds[args.len()].name()
            ),
        ));
    }
    Ok(args)
}

/// A fetch's arguments: [`parse_args`] plus two rules HAProxy applies to fetches only. A
/// fetch whose single mandatory argument is a string takes an empty string when none is
/// given (`str`, `str()`, `env()`); and an absent or empty first argument of another type
/// reads "expected type 'integer' at position 1, but got nothing" (`int()`).
fn parse_fetch_args(
    cur: &mut Cursor<'_>,
    kinds: &[ArgKind],
    min: usize,
) -> Result<Vec<String>, (Option<usize>, String)> {
    if min > 0 {
        let rest = cur.rest();
        let (empty, len) = if rest.starts_with("()") {
            (true, 2)
        } else {
            (!rest.starts_with('('), 0)
        };
        if empty {
            if kinds[0] == ArgKind::Str {
                if min == 1 {
                    cur.pos += len;
                    return Ok(vec![String::new()]);
                }
            } else {
                return Err((
                    Some(1),
                    format!(
                        "expected type '{}' at position 1, but got nothing",
                        kinds[0].name()
                    ),
                ));
            }
        }
    }
    parse_args(cur, kinds, min)
}

/// `expected ')' before 'x)'`, or `expected ')'` at the end of the text.
fn expected_paren(rest: &str) -> String {
    if rest.is_empty() {
        "expected ')'".to_string()
    } else {
        format!("expected ')' before '{rest}'")
    }
}

fn int_arg(args: &[String], i: usize) -> Option<i64> {
    args.get(i).and_then(|a| a.trim().parse().ok())
}

fn str_arg(args: &[String], i: usize) -> Option<String> {
    args.get(i).filter(|a| !a.is_empty()).cloned()
}

fn occ_arg(args: &[String], i: usize) -> Option<i32> {
    int_arg(args, i).map(|v| v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

/// Build the IR fetch from its keyword and raw arguments.
fn build_fetch(name: &str, args: &[String], env: &dyn Environment) -> Result<Fetch, String> {
    let s0 = || args.first().cloned().unwrap_or_default();
    Ok(match name {
        "always_true" => Fetch::Bool(true),
        "always_false" => Fetch::Bool(false),
        "int" => Fetch::Int(int_arg(args, 0).unwrap_or(0)),
        "bool" => Fetch::Bool(match s0().as_str() {
            "1" => true,
            "0" => false,
            v if v.eq_ignore_ascii_case("true") => true,
            v if v.eq_ignore_ascii_case("false") => false,
            _ => return Err("Expects 'true', 'false', '0' or '1'.".into()),
        }),
        "str" => Fetch::Str(s0()),
        "ipv4" | "ipv6" => {
            let ip: IpAddr = s0()
                .parse()
                .map_err(|_| format!("failed to parse '{}' as an address", s0()))?;
            Fetch::Ip(ip)
        }
        "env" => Fetch::Str(env.var(&s0()).unwrap_or_default()),
        "src" => Fetch::Src,
        "src_port" => Fetch::SrcPort,
        "dst" => Fetch::Dst,
        "dst_port" => Fetch::DstPort,
        "req.len" | "req_len" => Fetch::ReqLen,
        "req.payload" => {
            let offset = int_arg(args, 0).unwrap_or(0);
            let len = int_arg(args, 1).unwrap_or(0);
            if offset < 0 || len < 0 {
                return Err("payload offset and length must be positive".into());
            }
            Fetch::ReqPayload {
                offset: offset as usize,
                len: len as usize,
            }
        }
        "req.ssl_sni" | "req_ssl_sni" => Fetch::ReqSslSni,
        "req.ssl_hello_type" | "req_ssl_hello_type" => Fetch::ReqSslHelloType,
        "req.ssl_alpn" => Fetch::ReqSslAlpn,
        "req.ssl_ver" | "req_ssl_ver" => Fetch::ReqSslVer,
        "req.proto_http" | "req_proto_http" => Fetch::ReqProtoHttp,
        "ssl_fc" => Fetch::SslFc,
        "ssl_fc_sni" => Fetch::SslFcSni,
        "method" => Fetch::Method,
        "path" => Fetch::Path,
        "pathq" => Fetch::PathQ,
        "url" => Fetch::Url,
        "base" => Fetch::Base,
        "query" => Fetch::Query,
        "req.ver" | "req_ver" => Fetch::ReqVer,
        "url_param" | "urlp" | "urlp_val" => Fetch::UrlParam {
            name: s0(),
            delim: args.get(1).and_then(|d| d.bytes().next()),
        },
        "hdr" => Fetch::Hdr {
            name: s0(),
            occ: occ_arg(args, 1),
        },
        "hdr_cnt" => Fetch::HdrCnt { name: s0() },
        "hdr_val" => Fetch::HdrVal {
            name: s0(),
            occ: occ_arg(args, 1),
        },
        "req.hdr" | "req.fhdr" => Fetch::ReqHdr {
            name: s0(),
            occ: occ_arg(args, 1),
            full: name == "req.fhdr",
        },
        "req.hdr_cnt" | "req.fhdr_cnt" => Fetch::ReqHdrCnt {
            name: s0(),
            full: name == "req.fhdr_cnt",
        },
        "req.hdr_val" => Fetch::ReqHdrVal {
            name: s0(),
            occ: occ_arg(args, 1),
        },
        "hdr_ip" | "req.hdr_ip" => Fetch::ReqHdrIp {
            name: s0(),
            occ: occ_arg(args, 1),
        },
        "cook" | "req.cook" => Fetch::ReqCook { name: s0() },
        "cook_cnt" | "req.cook_cnt" => Fetch::ReqCookCnt { name: s0() },
        "cook_val" | "req.cook_val" => Fetch::ReqCookVal { name: s0() },
        "http_auth" => Fetch::HttpAuth { userlist: s0() },
        "http_auth_group" => Fetch::HttpAuthGroup { userlist: s0() },
        "status" => Fetch::Status,
        "res.hdr" | "shdr" | "res.fhdr" => Fetch::ResHdr {
            name: s0(),
            occ: occ_arg(args, 1),
            full: name == "res.fhdr",
        },
        "res.hdr_cnt" | "shdr_cnt" | "res.fhdr_cnt" => Fetch::ResHdrCnt {
            name: s0(),
            full: name == "res.fhdr_cnt",
        },
        "res.hdr_val" | "shdr_val" => Fetch::ResHdrVal {
            name: s0(),
            occ: occ_arg(args, 1),
        },
        "res.cook" | "scook" => Fetch::ResCook { name: s0() },
        "nbsrv" => Fetch::NbSrv {
            backend: str_arg(args, 0),
        },
        "srv_is_up" => {
            let a = s0();
            match a.split_once('/') {
                Some((be, srv)) => Fetch::SrvIsUp {
                    backend: Some(be.to_string()),
                    server: srv.to_string(),
                },
                None => Fetch::SrvIsUp {
                    backend: None,
                    server: a,
                },
            }
        }
        "be_name" => Fetch::BeName,
        "capture.req.method" => Fetch::CaptureReqMethod,
        "capture.req.uri" => Fetch::CaptureReqUri,
        "capture.req.ver" => Fetch::CaptureReqVer,
        "capture.res.ver" => Fetch::CaptureResVer,
        "capture.req.hdr" | "capture.res.hdr" => Fetch::CaptureHdr {
            response: name == "capture.res.hdr",
            index: int_arg(args, 0)
                .and_then(|i| usize::try_from(i).ok())
                .ok_or("invalid capture slot")?,
        },
        "fe_name" => Fetch::FeName,
        "var" => {
            let (scope, name) = parse_var_name(&s0())?;
            Fetch::Var {
                scope,
                name,
                default: args.get(1).cloned(),
            }
        }
        other => return Err(format!("unknown fetch method '{other}'")),
    })
}

/// `txn.name` → (scope, name), with HAProxy's messages.
pub fn parse_var_name(full: &str) -> Result<(VarScope, String), String> {
    if full.is_empty() {
        return Err("Empty variable name cannot be accepted.".into());
    }
    let (scope, rest) = full.split_once('.').unwrap_or((full, ""));
    let scope = match scope {
        "proc" => VarScope::Proc,
        "sess" => VarScope::Sess,
        "txn" => VarScope::Txn,
        "req" => VarScope::Req,
        "res" => VarScope::Res,
        _ => {
            return Err(format!(
                "invalid variable name '{full}'. A variable name must be start by its scope. \
                 The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'."
            ))
        }
    };
    if rest.is_empty() {
        return Err("Empty variable name cannot be accepted.".to_string());
    }
    Ok((scope, rest.to_string()))
}

/// One converter keyword: its name and argument kinds (the first `min` mandatory).
struct ConvDef {
    name: &'static str,
    args: &'static [ArgKind],
    min: usize,
}

macro_rules! c {
    ($name:expr) => {
        ConvDef {
            name: $name,
            args: &[],
            min: 0,
        }
    };
    ($name:expr, $min:expr, [$($a:expr),*]) => {
        ConvDef {
            name: $name,
            args: &[$($a),*],
            min: $min,
        }
    };
}

const CONVERTERS: &[ConvDef] = &[
    c!("lower"),
    c!("upper"),
    c!("base64"),
    c!("b64dec"),
    c!("hex"),
    c!("length"),
    c!("field", 2, [I, S, I]),
    c!("word", 2, [I, S, I]),
    c!("bytes", 1, [I, I]),
    c!("regsub", 2, [S, S, S]),
    c!("map", 1, [S, S]),
    c!("map_str", 1, [S, S]),
    c!("map_beg", 1, [S, S]),
    c!("map_sub", 1, [S, S]),
    c!("map_end", 1, [S, S]),
    c!("map_dom", 1, [S, S]),
    c!("map_dir", 1, [S, S]),
    c!("map_reg", 1, [S, S]),
    c!("map_int", 1, [S, S]),
    c!("map_ip", 1, [S, S]),
    c!("add", 1, [S]),
    c!("sub", 1, [S]),
    c!("mul", 1, [S]),
    c!("div", 1, [S]),
    c!("mod", 1, [S]),
    c!("and", 1, [S]),
    c!("or", 1, [S]),
    c!("xor", 1, [S]),
    c!("neg"),
    c!("cpl"),
    c!("even"),
    c!("odd"),
    c!("ltrim", 1, [S]),
    c!("rtrim", 1, [S]),
    c!("concat", 0, [S, S, S]),
    c!("sdbm", 0, [I]),
    c!("djb2", 0, [I]),
    c!("wt6", 0, [I]),
    c!("crc32", 0, [I]),
    c!("ipmask", 1, [I, I]),
    c!("url_dec", 0, [I]),
    c!("json", 0, [S]),
    c!("not"),
    c!("bool"),
];

/// Build a converter from its keyword and raw arguments. `Err` is the inner message of
/// `invalid args in converter 'x' : …`.
fn build_converter(
    name: &str,
    args: &[String],
    env: &dyn Environment,
) -> Result<Converter, String> {
    let int = |i: usize| int_arg(args, i);
    Ok(match name {
        "lower" => Converter::Lower,
        "upper" => Converter::Upper,
        "base64" => Converter::Base64,
        "b64dec" => Converter::Base64Dec,
        "hex" => Converter::Hex,
        "length" => Converter::Length,
        "field" | "word" => {
            let index = int(0).unwrap_or(0);
            if index == 0 {
                return Err("index must be different from 0".into());
            }
            let delims = args[1].as_bytes().to_vec();
            if delims.is_empty() {
                return Err("empty delimiters list".into());
            }
            let index = index.clamp(-(i32::MAX as i64), i32::MAX as i64) as i32;
            let count = int(2).map(|c| c.clamp(0, i32::MAX as i64) as i32);
            if name == "field" {
                Converter::Field {
                    index,
                    delims,
                    count,
                }
            } else {
                Converter::Word {
                    index,
                    delims,
                    count,
                }
            }
        }
        "bytes" => Converter::Bytes {
            offset: int(0).unwrap_or(0),
            length: int(1),
        },
        "regsub" => {
            let flags = args.get(2).map(String::as_str).unwrap_or("");
            let mut b = regex::bytes::RegexBuilder::new(&args[0]);
            b.case_insensitive(flags.contains('i'));
            let re = b.build().map_err(|e| regex_error(&args[0], &e))?;
            Converter::Regsub {
                re,
                replacement: regsub_replacement(&args[1]),
                global: flags.contains('g'),
            }
        }
        "add" | "sub" | "mul" | "div" | "mod" | "and" | "or" | "xor" => Converter::Arith {
            op: match name {
                "add" => ArithOp::Add,
                "sub" => ArithOp::Sub,
                "mul" => ArithOp::Mul,
                "div" => ArithOp::Div,
                "mod" => ArithOp::Mod,
                "and" => ArithOp::And,
                "or" => ArithOp::Or,
                _ => ArithOp::Xor,
            },
            // An integer, or the name of a variable holding one.
            value: match int(0) {
                Some(v) => ArithArg::Int(v),
                None => {
                    let (scope, var) = parse_var_name(&args[0])?;
                    ArithArg::Var(scope, var)
                }
            },
        },
        "sdbm" | "djb2" | "wt6" | "crc32" => Converter::Hash {
            function: match name {
                "sdbm" => crate::ir::HashFunction::Sdbm,
                "djb2" => crate::ir::HashFunction::Djb2,
                "wt6" => crate::ir::HashFunction::Wt6,
                _ => crate::ir::HashFunction::Crc32,
            },
            avalanche: int(0).unwrap_or(0) != 0,
        },
        "neg" => Converter::Neg,
        "cpl" => Converter::Cpl,
        "even" => Converter::Even,
        "odd" => Converter::Odd,
        "ltrim" => Converter::Ltrim(args[0].as_bytes().to_vec()),
        "rtrim" => Converter::Rtrim(args[0].as_bytes().to_vec()),
        "concat" => Converter::Concat {
            prefix: args.first().cloned().unwrap_or_default(),
            var: match args.get(1).filter(|v| !v.is_empty()) {
                Some(v) => Some(parse_var_name(v)?),
                None => None,
            },
            suffix: args.get(2).cloned().unwrap_or_default(),
        },
        "ipmask" => {
            let v4 = int(0).unwrap_or(32);
            let v6 = int(1).unwrap_or(128);
            if !(0..=32).contains(&v4) || !(0..=128).contains(&v6) {
                return Err("invalid mask".into());
            }
            Converter::IpMask {
                v4: v4 as u8,
                v6: v6 as u8,
            }
        }
        "url_dec" => Converter::UrlDec,
        "json" => Converter::Json,
        "not" => Converter::Not,
        "bool" => Converter::ToBool,
        map if map.starts_with("map") => {
            let method = match map {
                "map" | "map_str" => MatchMethod::Str,
                "map_beg" => MatchMethod::Beg,
                "map_sub" => MatchMethod::Sub,
                "map_end" => MatchMethod::End,
                "map_dom" => MatchMethod::Dom,
                "map_dir" => MatchMethod::Dir,
                "map_reg" => MatchMethod::Reg,
                "map_int" => MatchMethod::Int,
                _ => MatchMethod::Ip,
            };
            let file = &args[0];
            let text = env
                .read_file(Path::new(file))
                .map_err(|_| format!("failed to open pattern file <{file}>."))?;
            let (patterns, values) = super::acl::compile_map(&text, method, file)?;
            Converter::Map(Box::new(MapConv {
                method,
                patterns,
                values,
                default: args.get(1).cloned(),
            }))
        }
        other => return Err(format!("unknown converter '{other}'")),
    })
}

/// HAProxy regsub replacement (`\1` back-references) → `regex` crate syntax (`${1}`).
fn regsub_replacement(rep: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(rep.len() + 4);
    let b = rep.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() && b[i + 1].is_ascii_digit() => {
                out.extend_from_slice(format!("${{{}}}", b[i + 1] - b'0').as_bytes());
                i += 2;
            }
            b'$' => {
                out.extend_from_slice(b"$$");
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// HAProxy's regex error wording (PCRE's message differs from the regex crate's; the
/// shape is kept).
pub fn regex_error(re: &str, e: &regex::Error) -> String {
    let detail = match e {
        regex::Error::Syntax(s) => s
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .map(|l| l.trim_start_matches("error:").trim().to_string())
            .unwrap_or_else(|| s.clone()),
        other => other.to_string(),
    };
    format!("regex '{re}' is invalid (error={detail})")
}

/// Argument kinds from a registry signature (`string[,integer]`): integers are checked,
/// everything else is taken as text.
fn registry_kinds(sig: &str) -> Vec<ArgKind> {
    sig.split(',')
        .map(|p| p.trim_matches(|c| c == '[' || c == ']'))
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p == "integer" {
                ArgKind::Int
            } else {
                ArgKind::Str
            }
        })
        .collect()
}

/// A registry type name as a sample type.
fn registry_type(t: &str) -> SampleType {
    match t {
        "bool" => SampleType::Bool,
        "sint" => SampleType::Int,
        "ipv4" | "ipv6" | "addr" => SampleType::Ip,
        "bin" => SampleType::Bin,
        _ => SampleType::Str,
    }
}

/// The fetch and converters of `expr` that haproxyrs parses but does not evaluate.
pub fn unimplemented_parts(expr: &SampleExpr) -> Vec<String> {
    let mut v = Vec::new();
    if let Fetch::Unimplemented { name, .. } = &expr.fetch {
        v.push(format!("sample fetch {name}"));
    }
    for c in &expr.converters {
        if let Converter::Unimplemented { name, .. } = c {
            v.push(format!("converter {name}"));
        }
    }
    v
}

/// The result of parsing an expression: the expression and how many bytes it used.
pub struct Parsed {
    pub expr: SampleExpr,
    pub consumed: usize,
}

/// Parse a sample expression at the start of `text`. Stops at the end of the text or at
/// the first character that cannot continue it (`]` in log-format strings, a space); the
/// caller checks what follows. `fetch_override` lets ACL keywords (`path_beg`) name their
/// fetch.
pub fn parse_expr_prefix(
    text: &str,
    env: &dyn Environment,
    acl_kw: bool,
) -> Result<(Parsed, Option<MatchMethod>), ExprError> {
    let mut cur = Cursor { text, pos: 0 };
    let kw = cur.ident();
    if kw.is_empty() {
        return Err(ExprError::MissingFetch);
    }
    let (fetch_name, implied) = if acl_kw { acl_keyword(kw) } else { (kw, None) };
    let fetch = match FETCHES.iter().find(|d| d.name == fetch_name) {
        Some(def) => {
            let args = parse_fetch_args(&mut cur, def.args, def.min).map_err(|(_, msg)| {
                ExprError::FetchArg {
                    fetch: kw.to_string(),
                    msg,
                }
            })?;
            build_fetch(def.name, &args, env).map_err(|msg| ExprError::FetchArgInvalid {
                fetch: kw.to_string(),
                msg,
            })?
        }
        None => {
            // Known to HAProxy but not evaluated by haproxyrs: accepted, reported.
            let Some((sig, out, _)) = super::fetch_registry::fetch(fetch_name) else {
                return Err(ExprError::UnknownFetch(kw.to_string()));
            };
            let kinds = registry_kinds(sig);
            let (min, _) = super::fetch_registry::arg_counts(sig);
            parse_fetch_args(&mut cur, &kinds, min).map_err(|(_, msg)| ExprError::FetchArg {
                fetch: kw.to_string(),
                msg,
            })?;
            Fetch::Unimplemented {
                name: fetch_name.to_string(),
                output: registry_type(out),
            }
        }
    };
    let mut converters = Vec::new();
    while cur.peek() == Some(b',') {
        cur.pos += 1;
        let name = cur.ident();
        let conv_err = |(pos, msg): (Option<usize>, String)| ExprError::ConvArg {
            conv: name.to_string(),
            pos: pos.unwrap_or(1),
            msg,
        };
        let conv = match CONVERTERS.iter().find(|d| d.name == name) {
            Some(cdef) => {
                let args = parse_args(&mut cur, cdef.args, cdef.min).map_err(conv_err)?;
                build_converter(cdef.name, &args, env).map_err(|msg| ExprError::ConvArgInvalid {
                    conv: name.to_string(),
                    msg,
                })?
            }
            None => {
                let Some((sig, out, _)) = super::fetch_registry::converter(name) else {
                    return Err(ExprError::UnknownConverter {
                        fetch: kw.to_string(),
                        name: name.to_string(),
                    });
                };
                let kinds = registry_kinds(sig);
                let (min, _) = super::fetch_registry::arg_counts(sig);
                parse_args(&mut cur, &kinds, min).map_err(conv_err)?;
                Converter::Unimplemented {
                    name: name.to_string(),
                    output: registry_type(out),
                }
            }
        };
        converters.push(conv);
    }
    let consumed = cur.pos;
    Ok((
        Parsed {
            expr: SampleExpr {
                fetch,
                converters,
                text: text[..consumed].to_string(),
            },
            consumed,
        },
        implied,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::sample::test_env::FakeEnv;

    fn parse(text: &str) -> Result<SampleExpr, String> {
        let env = FakeEnv::default();
        match parse_expr_prefix(text, &env, false) {
            Ok((p, _)) if p.consumed == text.len() => Ok(p.expr),
            Ok((p, _)) => Err(format!("trailing: {}", &text[p.consumed..])),
            Err(e) => Err(e.render(ExprContext::Sample, text)),
        }
    }

    #[test]
    fn single_string_argument_defaults_to_empty() {
        // HAProxy 2.6 accepts `str`, `str()` and `env()` as an empty string argument.
        assert_eq!(parse("str()").unwrap().fetch, Fetch::Str(String::new()));
        assert_eq!(parse("str").unwrap().fetch, Fetch::Str(String::new()));
        assert!(parse("str(),concat(,req.x,)").is_ok());
        assert!(parse("env()").is_ok());
        // Other types still need a value, worded as 2.6 does.
        let err = parse("int()").unwrap_err();
        assert!(
            err.contains(
                "fetch method 'int' : expected type 'integer' at position 1, but got nothing"
            ),
            "{err}"
        );
        assert!(parse("var()").unwrap_err().contains(
            "invalid args in fetch method 'var' : Empty variable name cannot be accepted"
        ));
    }

    #[test]
    fn bool_fetch_takes_true_false_0_1() {
        assert_eq!(parse("bool(true)").unwrap().fetch, Fetch::Bool(true));
        assert_eq!(parse("bool(FALSE)").unwrap().fetch, Fetch::Bool(false));
        assert_eq!(parse("bool(1)").unwrap().fetch, Fetch::Bool(true));
        assert_eq!(parse("bool(0)").unwrap().fetch, Fetch::Bool(false));
        for bad in ["bool(2)", "bool()", "bool", "bool(yes)"] {
            let err = parse(bad).unwrap_err();
            assert!(
                err.contains(
                    "invalid args in fetch method 'bool' : Expects 'true', 'false', '0' or '1'"
                ),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn fetches_with_args() {
        let e = parse("hdr(host)").unwrap();
        assert_eq!(
            e.fetch,
            Fetch::Hdr {
                name: "host".into(),
                occ: None,
            }
        );
        let e = parse("req.hdr(x-forwarded-for,-1)").unwrap();
        assert_eq!(
            e.fetch,
            Fetch::ReqHdr {
                name: "x-forwarded-for".into(),
                occ: Some(-1),
                full: false
            }
        );
        assert_eq!(parse("src").unwrap().fetch, Fetch::Src);
        assert_eq!(
            parse("srv_is_up(be/s1)").unwrap().fetch,
            Fetch::SrvIsUp {
                backend: Some("be".into()),
                server: "s1".into()
            }
        );
        assert_eq!(
            parse("var(txn.foo)").unwrap().fetch,
            Fetch::Var {
                scope: VarScope::Txn,
                name: "foo".into(),
                default: None,
            }
        );
        assert_eq!(
            parse("var(txn.foo,dflt)").unwrap().fetch,
            Fetch::Var {
                scope: VarScope::Txn,
                name: "foo".into(),
                default: Some("dflt".into()),
            }
        );
        assert_eq!(parse("str('a,b')").unwrap().fetch, Fetch::Str("a,b".into()));
        assert_eq!(
            parse("str(a\\\"b)").unwrap().fetch,
            Fetch::Str("a\"b".into())
        );
        // HAProxy does not let a backslash protect a comma.
        assert_eq!(
            parse("str(a\\,b),lower]").unwrap_err(),
            "failed to parse sample expression <str(a\\,b),lower]> : fetch method 'str' : expected ')' before ',b),lower]'."
        );
    }

    #[test]
    fn converters_parse() {
        let e = parse("req.hdr(host),lower,field(1,:),regsub(\\.,_,g)").unwrap();
        assert_eq!(e.converters.len(), 3);
        assert!(matches!(e.converters[0], Converter::Lower));
        assert!(matches!(e.converters[1], Converter::Field { index: 1, .. }));
        match &e.converters[2] {
            Converter::Regsub {
                replacement,
                global,
                ..
            } => {
                assert_eq!(replacement, b"_");
                assert!(*global);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(regsub_replacement("x\\1$"), b"x${1}$$".to_vec());
    }

    #[test]
    fn error_wordings_match_haproxy() {
        assert_eq!(
            parse("foo]").unwrap_err(),
            "failed to parse sample expression <foo]> : unknown fetch method 'foo'."
        );
        assert_eq!(
            parse("path,foo]").unwrap_err(),
            "failed to parse sample expression <path,foo]> : unknown converter 'foo'."
        );
        assert_eq!(
            parse("hdr(host,1,2)]").unwrap_err(),
            "failed to parse sample expression <hdr(host,1,2)]> : fetch method 'hdr' : expected ')' before ',2)]'."
        );
        assert_eq!(
            parse("path(1)]").unwrap_err(),
            "failed to parse sample expression <path(1)]> : fetch method 'path' : expected ')' before '1)]'."
        );
        assert_eq!(
            parse("src,regsub(a)]").unwrap_err(),
            "failed to parse sample expression <src,regsub(a)]> : invalid arg 2 in converter 'regsub' : missing arguments (got 1/2), type 'string' expected."
        );
        assert_eq!(
            parse("src,lower(1)]").unwrap_err(),
            "failed to parse sample expression <src,lower(1)]> : invalid arg 1 in converter 'lower' : expected ')' before '1)]'."
        );
        assert_eq!(
            parse("src,field(x,a)]").unwrap_err(),
            "failed to parse sample expression <src,field(x,a)]> : invalid arg 1 in converter 'field' : failed to parse 'x' as type 'integer' at position 1."
        );
        assert_eq!(
            parse("hdr(host]").unwrap_err(),
            "failed to parse sample expression <hdr(host]> : fetch method 'hdr' : expected ')'."
        );
        assert_eq!(
            parse("var(zz)]").unwrap_err(),
            "failed to parse sample expression <var(zz)]> : invalid args in fetch method 'var' : invalid variable name 'zz'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'."
        );
        assert_eq!(
            parse("src,lower,]").unwrap_err(),
            "failed to parse sample expression <src,lower,]> : unknown converter ''."
        );
    }

    #[test]
    fn known_but_unimplemented_is_accepted() {
        let e = parse("src_conn_rate").unwrap();
        assert!(matches!(
            e.fetch,
            Fetch::Unimplemented {
                output: SampleType::Int,
                ..
            }
        ));
        let e = parse("sc_http_req_rate(0),sha1").unwrap();
        assert_eq!(
            unimplemented_parts(&e),
            vec!["sample fetch sc_http_req_rate", "converter sha1"]
        );
        assert!(parse("sc_http_req_rate(x)").is_err());
        assert!(parse("src,sha1").is_ok());
    }

    #[test]
    fn acl_keywords_imply_methods() {
        assert_eq!(acl_keyword("path_beg"), ("path", Some(MatchMethod::Beg)));
        assert_eq!(acl_keyword("hdr_dom"), ("req.hdr", Some(MatchMethod::Dom)));
        assert_eq!(acl_keyword("hdr"), ("req.hdr", Some(MatchMethod::Str)));
        assert_ne!(
            acl_keyword("req_ssl_sni_end"),
            ("req.ssl_sni", Some(MatchMethod::End))
        );
        assert_eq!(acl_keyword("src"), ("src", None));
        let env = FakeEnv::default();
        assert!(parse_expr_prefix("path_beg", &env, false).is_err());
        assert!(parse_expr_prefix("path_beg", &env, true).is_ok());
    }
}
