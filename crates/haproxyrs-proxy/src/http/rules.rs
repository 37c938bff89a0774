//! Applying `http-request`, `redirect` and `http-response` rules to a transaction, in
//! HAProxy's order: the first terminal action (allow, deny, return, redirect, auth) stops the
//! list. A terminal action that answers locally renders its response into the caller's output
//! buffer (the shapes were captured from 2.6.12: lower-case names, `content-length` first).

use std::io::Write;

use haproxyrs_config::ir::http::{
    HeaderOp, HttpRequestAction, HttpRequestRule, HttpResponseAction, HttpResponseRule, Redirect,
    RedirectKind, RedirectRule, ReturnBody, ReturnSpec,
};
use haproxyrs_config::ir::sample::{Condition, LogFormatExpr};

use super::engine::{Engine, Txn};
use super::errors::{reason, ErrorPages, Shape};
use super::message::Message;

/// What the rule list decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No terminal action: go on with the next list.
    Continue,
    /// `allow`: skip the rest of this list.
    Allow,
    /// A local response with this status was written to the output buffer.
    Replied(u16),
}

/// The transaction context rules need besides the message.
pub struct RuleCtx<'a, E: Engine> {
    pub eng: &'a E,
    pub src: std::net::SocketAddr,
    pub dst: std::net::SocketAddr,
    pub backend: Option<haproxyrs_config::ir::BackendId>,
    pub pages: &'a ErrorPages,
    /// The proxy's name: the default `auth` realm.
    pub proxy_name: &'a str,
    pub config: &'a haproxyrs_config::ir::Config,
    pub frontend: usize,
    /// The ACLs of the proxy whose rules run.
    pub acls: &'a [haproxyrs_config::ir::sample::Acl],
}

impl<E: Engine> RuleCtx<'_, E> {
    fn txn<'m>(&'m self, req: &'m Message, resp: Option<&'m Message>) -> Txn<'m> {
        Txn {
            req,
            resp,
            src: self.src,
            dst: self.dst,
            backend: self.backend,
            config: self.config,
            frontend: self.frontend,
            acls: self.acls,
            servers: self.eng.servers(),
        }
    }

    fn holds(&self, cond: &Option<Condition>, req: &Message, resp: Option<&Message>) -> bool {
        cond.as_ref()
            .is_none_or(|c| self.eng.cond(c, &self.txn(req, resp)))
    }

    fn render(&self, f: &LogFormatExpr, req: &Message, resp: Option<&Message>, out: &mut Vec<u8>) {
        out.clear();
        self.eng.format(f, &self.txn(req, resp), out);
    }
}

/// Apply `http-request` rules to `req`. `scratch` is a reused buffer; a local response is
/// appended to `out`.
pub fn apply_request<E: Engine>(
    rules: &[HttpRequestRule],
    req: &mut Message,
    ctx: &RuleCtx<'_, E>,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Verdict {
    for rule in rules {
        if !ctx.holds(&rule.cond, req, None) {
            continue;
        }
        match &rule.action {
            HttpRequestAction::Allow => return Verdict::Allow,
            HttpRequestAction::Deny { status } => {
                out.extend_from_slice(ctx.pages.get(*status, Shape::Analyser));
                return Verdict::Replied(*status);
            }
            HttpRequestAction::Auth { realm } => {
                auth_reply(realm.as_deref().unwrap_or(ctx.proxy_name), out);
                return Verdict::Replied(401);
            }
            HttpRequestAction::Redirect(r) => {
                return Verdict::Replied(redirect_reply(r, req, ctx, scratch, out));
            }
            HttpRequestAction::Return(spec) => {
                return Verdict::Replied(return_reply(spec, req, ctx, scratch, out));
            }
            HttpRequestAction::Header(op) => {
                if let Some(f) = header_format(op) {
                    ctx.render(f, req, None, scratch);
                }
                edit_header(op, req, scratch);
            }
            HttpRequestAction::SetPath(f) => {
                ctx.render(f, req, None, scratch);
                let p = req.path_range();
                splice_uri(req, p, scratch);
            }
            HttpRequestAction::ReplacePath { regex, replace } => {
                ctx.render(replace, req, None, scratch);
                let path = String::from_utf8_lossy(req.path()).into_owned();
                if let Some(new) = regex_replace(regex, &path, scratch) {
                    let p = req.path_range();
                    splice_uri(req, p, new.as_bytes());
                }
            }
            HttpRequestAction::SetUri(f) => {
                ctx.render(f, req, None, scratch);
                req.set_uri(scratch);
            }
            HttpRequestAction::SetQuery(f) => {
                ctx.render(f, req, None, scratch);
                let p = req.path_range();
                let uri_end = req.uri.end;
                let mut q = Vec::with_capacity(scratch.len() + 1);
                q.push(b'?');
                q.extend_from_slice(scratch);
                splice_uri(req, p.end..uri_end, &q);
            }
            HttpRequestAction::SetMethod(f) => {
                ctx.render(f, req, None, scratch);
                req.set_method(scratch);
            }
            HttpRequestAction::SetVar { name, expr } => {
                scratch.clear();
                if ctx.eng.sample(expr, &ctx.txn(req, None), scratch) {
                    req.set_var(name, scratch);
                }
            }
        }
    }
    Verdict::Continue
}

/// Apply `redirect` lines (after the `http-request` rules).
pub fn apply_redirects<E: Engine>(
    rules: &[RedirectRule],
    req: &Message,
    ctx: &RuleCtx<'_, E>,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Verdict {
    for rule in rules {
        if ctx.holds(&rule.cond, req, None) {
            return Verdict::Replied(redirect_reply(&rule.redirect, req, ctx, scratch, out));
        }
    }
    Verdict::Continue
}

/// Apply `http-response` rules to `resp`.
pub fn apply_response<E: Engine>(
    rules: &[HttpResponseRule],
    req: &Message,
    resp: &mut Message,
    ctx: &RuleCtx<'_, E>,
    scratch: &mut Vec<u8>,
) -> Verdict {
    for rule in rules {
        if !ctx.holds(&rule.cond, req, Some(resp)) {
            continue;
        }
        match &rule.action {
            HttpResponseAction::Allow => return Verdict::Allow,
            HttpResponseAction::Deny { status } => return Verdict::Replied(*status),
            HttpResponseAction::Header(op) => {
                if let Some(f) = header_format(op) {
                    ctx.render(f, req, Some(resp), scratch);
                }
                edit_header(op, resp, scratch);
            }
            HttpResponseAction::SetStatus { status, reason: r } => {
                resp.status = *status;
                let text = r.as_deref().unwrap_or(reason(*status));
                resp.uri = resp.push_bytes(text.as_bytes());
            }
        }
    }
    Verdict::Continue
}

/// Replace `range` of the message's URI with `with`.
fn splice_uri(msg: &mut Message, range: std::ops::Range<usize>, with: &[u8]) {
    let uri = msg.uri.clone();
    let mut new = Vec::with_capacity(uri.len() + with.len());
    new.extend_from_slice(&msg.data[uri.start..range.start]);
    new.extend_from_slice(with);
    new.extend_from_slice(&msg.data[range.end..uri.end]);
    msg.set_uri(&new);
}

/// HAProxy's replacement strings use `\N` for capture groups.
fn regex_replace(re: &regex::Regex, input: &str, replacement: &[u8]) -> Option<String> {
    let caps = re.captures(input)?;
    let whole = caps.get(0)?;
    let mut out = String::with_capacity(input.len() + replacement.len());
    out.push_str(&input[..whole.start()]);
    let rep = String::from_utf8_lossy(replacement);
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                chars.next();
                if let Some(m) = caps.get(d as usize) {
                    out.push_str(m.as_str());
                }
                continue;
            }
        }
        out.push(c);
    }
    out.push_str(&input[whole.end()..]);
    Some(out)
}

/// The log-format a header edit renders first (none for `del-header`).
fn header_format(op: &HeaderOp) -> Option<&LogFormatExpr> {
    match op {
        HeaderOp::Set { value, .. } | HeaderOp::Add { value, .. } => Some(value),
        HeaderOp::Replace { replace, .. } | HeaderOp::ReplaceValue { replace, .. } => Some(replace),
        HeaderOp::Del { .. } => None,
    }
}

/// Apply a header edit to `msg`, `value` being its rendered log-format.
fn edit_header(op: &HeaderOp, msg: &mut Message, value: &[u8]) {
    match op {
        HeaderOp::Set { name, .. } => msg.set(name.as_bytes(), value),
        HeaderOp::Add { name, .. } => msg.add(name.as_bytes(), value),
        HeaderOp::Del { name } => msg.remove_all(name.as_bytes()),
        HeaderOp::Replace { name, regex, .. } => {
            replace_header(msg, name.as_bytes(), regex, value, false)
        }
        HeaderOp::ReplaceValue { name, regex, .. } => {
            replace_header(msg, name.as_bytes(), regex, value, true)
        }
    }
}

/// `replace-header` (whole value) / `replace-value` (each comma-separated element).
fn replace_header(
    msg: &mut Message,
    name: &[u8],
    re: &regex::Regex,
    replacement: &[u8],
    per_value: bool,
) {
    let idx: Vec<usize> = msg.find(name).collect();
    for i in idx {
        let value = String::from_utf8_lossy(msg.value(i)).into_owned();
        let new = if per_value {
            // 2.6 matches each element without its leading spaces and rebuilds the list
            // with bare commas: a replaced element loses its spaces, the others keep them.
            let parts: Vec<String> = value
                .split(',')
                .map(|p| {
                    full_match_replace(re, p.trim_start(), replacement)
                        .unwrap_or_else(|| p.to_string())
                })
                .collect();
            Some(parts.join(","))
        } else {
            full_match_replace(re, &value, replacement)
        };
        if let Some(n) = new {
            msg.set_value(i, n.as_bytes());
        }
    }
}

/// The regex must match the whole input (HAProxy anchors header regexes).
fn full_match_replace(re: &regex::Regex, input: &str, replacement: &[u8]) -> Option<String> {
    let m = re.find(input)?;
    if m.start() != 0 || m.end() != input.len() {
        return None;
    }
    regex_replace(re, input, replacement)
}

fn auth_reply(realm: &str, out: &mut Vec<u8>) {
    let body = "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";
    let _ = write!(
        out,
        "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm=\"{}\"\r\n\r\n{}",
        body.len(),
        realm,
        body
    );
}

/// Build the redirect response; returns its status.
fn redirect_reply<E: Engine>(
    r: &Redirect,
    req: &Message,
    ctx: &RuleCtx<'_, E>,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> u16 {
    ctx.render(&r.value, req, None, scratch);
    let mut loc: Vec<u8> = Vec::with_capacity(scratch.len() + req.uri.len() + 16);
    let path = req.path();
    let query = req.query();
    let tail = |loc: &mut Vec<u8>| {
        loc.extend_from_slice(path);
        if r.append_slash && !path.ends_with(b"/") {
            loc.push(b'/');
        }
        if let (false, Some(q)) = (r.drop_query, query) {
            loc.push(b'?');
            loc.extend_from_slice(q);
        }
    };
    match r.kind {
        RedirectKind::Location => loc.extend_from_slice(scratch),
        RedirectKind::Prefix => {
            if scratch.as_slice() != b"/" {
                loc.extend_from_slice(scratch);
            }
            tail(&mut loc);
        }
        RedirectKind::Scheme => {
            loc.extend_from_slice(scratch);
            loc.extend_from_slice(b"://");
            if let Some(h) = req.first(b"host") {
                loc.extend_from_slice(h);
            }
            tail(&mut loc);
        }
    }
    let _ = write!(
        out,
        "HTTP/1.1 {} {}\r\ncontent-length: 0\r\nlocation: ",
        r.code,
        reason(r.code)
    );
    out.extend_from_slice(&loc);
    out.extend_from_slice(b"\r\n");
    if let Some(c) = &r.set_cookie {
        let _ = write!(out, "set-cookie: {c}; path=/\r\n");
    }
    if let Some(c) = &r.clear_cookie {
        let _ = write!(
            out,
            "set-cookie: {c}; Max-Age=0; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/\r\n"
        );
    }
    // 2.6 marks temporary redirects uncacheable.
    if matches!(r.code, 302 | 303 | 307) {
        out.extend_from_slice(b"cache-control: no-cache\r\n");
    }
    out.extend_from_slice(b"\r\n");
    r.code
}

/// Build the `return` response; returns its status.
fn return_reply<E: Engine>(
    spec: &ReturnSpec,
    req: &Message,
    ctx: &RuleCtx<'_, E>,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> u16 {
    scratch.clear();
    match &spec.body {
        ReturnBody::Default => {}
        ReturnBody::Fixed(b) => scratch.extend_from_slice(b),
        ReturnBody::Format(f) => ctx.render(f, req, None, scratch),
    }
    let _ = write!(
        out,
        "HTTP/1.1 {} {}\r\ncontent-length: {}\r\n",
        spec.status,
        reason(spec.status),
        scratch.len()
    );
    if let Some(ct) = &spec.content_type {
        let _ = write!(out, "content-type: {ct}\r\n");
    }
    let mut val = Vec::new();
    for (name, fmt) in &spec.headers {
        ctx.render(fmt, req, None, &mut val);
        out.extend(name.bytes().map(|b| b.to_ascii_lowercase()));
        out.extend_from_slice(b": ");
        out.extend_from_slice(&val);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(scratch);
    spec.status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backrefs() {
        let re = regex::Regex::new("^/api/(.*)$").unwrap();
        assert_eq!(
            regex_replace(&re, "/api/v1", b"/\\1/x").as_deref(),
            Some("/v1/x")
        );
        let re = regex::Regex::new("(.*)").unwrap();
        assert_eq!(
            full_match_replace(&re, "ab", b"<\\1>").as_deref(),
            Some("<ab>")
        );
    }
}
