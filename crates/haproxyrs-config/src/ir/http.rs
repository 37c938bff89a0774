//! HTTP rules: `http-request`, `http-response`, `redirect`, error files, captures.

use super::sample::{Condition, LogFormatExpr};
use crate::span::Span;

/// The HTTP rule lists of one proxy, in HAProxy's evaluation order.
#[derive(Clone, Debug, Default)]
pub struct HttpProxyRules {
    pub request: Vec<HttpRequestRule>,
    pub response: Vec<HttpResponseRule>,
    /// `errorfile CODE FILE` / `errorfiles` / `http-errors`: pre-rendered responses by status.
    pub error_files: Vec<(u16, bytes_like::RawResponse)>,
}

/// One `http-request` rule (or a `redirect` line, which HAProxy evaluates among them).
#[derive(Clone, Debug)]
pub struct HttpRequestRule {
    pub action: HttpRequestAction,
    pub cond: Option<Condition>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum HttpRequestAction {
    Allow,
    Deny { status: u16 },
    SetHeader { name: String, value: LogFormatExpr },
    AddHeader { name: String, value: LogFormatExpr },
    DelHeader { name: String },
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
    Deny { status: u16 },
    SetHeader { name: String, value: LogFormatExpr },
    AddHeader { name: String, value: LogFormatExpr },
    DelHeader { name: String },
    SetStatus { status: u16, reason: Option<String> },
}

/// Plain byte holders for pre-rendered responses (kept dependency-free in the config crate).
pub mod bytes_like {
    /// A complete HTTP response as it goes on the wire (an `errorfile`'s contents).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct RawResponse(pub Vec<u8>);
}
