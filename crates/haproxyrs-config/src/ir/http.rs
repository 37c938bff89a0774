//! HTTP rules: `http-request`, `http-response`, `redirect`, error files, captures.

use super::sample::{Condition, LogFormatExpr, SampleExpr};
use crate::span::Span;

/// The HTTP rule lists of one proxy, in HAProxy's evaluation order.
#[derive(Clone, Debug, Default)]
pub struct HttpProxyRules {
    pub request: Vec<HttpRequestRule>,
    pub response: Vec<HttpResponseRule>,
    /// `redirect` lines, evaluated after the `http-request` rules (HAProxy's order).
    pub redirects: Vec<RedirectRule>,
    /// `errorfile CODE FILE` / `errorfiles` / `http-errors`: pre-rendered responses by status.
    pub error_files: Vec<(u16, bytes_like::RawResponse)>,
    /// `capture request header NAME len N`, in declaration order (`%hr`).
    pub capture_request: Vec<HeaderCapture>,
    /// `capture response header NAME len N` (`%hs`).
    pub capture_response: Vec<HeaderCapture>,
}

/// One `capture request|response header` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderCapture {
    pub name: String,
    pub len: usize,
}

/// One `http-request` rule (or a `redirect` line, which HAProxy evaluates among them).
#[derive(Clone, Debug)]
pub struct HttpRequestRule {
    pub action: HttpRequestAction,
    pub cond: Option<Condition>,
    pub span: Span,
}

/// `redirect location|prefix|scheme ...` as a rule of its own (the legacy keyword).
#[derive(Clone, Debug)]
pub struct RedirectRule {
    pub redirect: Redirect,
    pub cond: Option<Condition>,
    pub span: Span,
}

/// A header edit, the same in `http-request` and `http-response` rules.
#[derive(Clone, Debug)]
pub enum HeaderOp {
    Set {
        name: String,
        value: LogFormatExpr,
    },
    Add {
        name: String,
        value: LogFormatExpr,
    },
    Del {
        name: String,
    },
    /// `replace-header NAME REGEX FMT`: the whole value (each occurrence) must match.
    Replace {
        name: String,
        regex: regex::Regex,
        replace: LogFormatExpr,
    },
    /// `replace-value NAME REGEX FMT`: each comma-separated value of the field.
    ReplaceValue {
        name: String,
        regex: regex::Regex,
        replace: LogFormatExpr,
    },
}

#[derive(Clone, Debug)]
pub enum HttpRequestAction {
    Allow,
    /// `deny [deny_status N]`, default 403.
    Deny {
        status: u16,
    },
    /// `return [status N] [content-type T] [string S|lf-string F|file P|lf-file P] [hdr N V]*`.
    Return(ReturnSpec),
    Redirect(Redirect),
    /// `auth [realm R]`: 401 with `www-authenticate: Basic realm="R"`.
    Auth {
        realm: Option<String>,
    },
    /// `set-header`, `add-header`, `del-header`, `replace-header`, `replace-value`.
    Header(HeaderOp),
    SetPath(LogFormatExpr),
    ReplacePath {
        regex: regex::Regex,
        replace: LogFormatExpr,
    },
    SetUri(LogFormatExpr),
    SetQuery(LogFormatExpr),
    SetMethod(LogFormatExpr),
    /// `set-var(scope.name) EXPR`.
    SetVar {
        name: String,
        expr: SampleExpr,
    },
}

/// The response an `http-request return` builds.
#[derive(Clone, Debug)]
pub struct ReturnSpec {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: ReturnBody,
    pub headers: Vec<(String, LogFormatExpr)>,
}

#[derive(Clone, Debug)]
pub enum ReturnBody {
    /// No payload option: the proxy's error page for the status, if there is one.
    Default,
    /// `string` / `file`: fixed bytes.
    Fixed(Vec<u8>),
    /// `lf-string` / `lf-file`: evaluated per request.
    Format(LogFormatExpr),
}

/// What a redirect builds its `Location` from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectKind {
    Location,
    Prefix,
    Scheme,
}

/// `redirect ... [code N] [drop-query] [append-slash] [set-cookie N=V] [clear-cookie N=]`.
#[derive(Clone, Debug)]
pub struct Redirect {
    pub kind: RedirectKind,
    pub value: LogFormatExpr,
    /// 301, 302 (default), 303, 307, 308.
    pub code: u16,
    pub drop_query: bool,
    pub append_slash: bool,
    pub set_cookie: Option<String>,
    pub clear_cookie: Option<String>,
}

/// One `http-response` rule.
#[derive(Clone, Debug)]
pub struct HttpResponseRule {
    pub action: HttpResponseAction,
    pub cond: Option<Condition>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum HttpResponseAction {
    Allow,
    /// `deny [deny_status N]`, default 502.
    Deny {
        status: u16,
    },
    /// The same header edits as in requests.
    Header(HeaderOp),
    SetStatus {
        status: u16,
        reason: Option<String>,
    },
}

/// Plain byte holders for pre-rendered responses (kept dependency-free in the config crate).
pub mod bytes_like {
    /// A complete HTTP response as it goes on the wire (an `errorfile`'s contents).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct RawResponse(pub Vec<u8>);
}
