//! `tcp-request connection|content ACTION [if|unless COND]`: the layer-4 rules. `accept`
//! and `reject` become [`ir::tcp::TcpRule`]s; HAProxy's other actions are recognised, their
//! condition is still checked, and the rule is reported as not implemented (a NOTICE),
//! never silently dropped. `inspect-delay` is handled by the caller.

use crate::ast::SectionKind;
use crate::ast::{Line, Word};
use crate::ir::tcp::{TcpAction, TcpRule};
use crate::lower::proxy::ProxyDraft;
use crate::lower::Cx;

/// Every action HAProxy 2.6 lists for `tcp-request content` (its error message order).
const CONTENT_ACTIONS: &str = "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'ot-group', 'set-log-level', 'set-nice', 'switch-mode', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset'";

/// Actions known to HAProxy but not run by haproxyrs (prefix match for `name(...)`).
const OTHER_ACTIONS: &[&str] = &[
    "capture",
    "expect-proxy",
    "expect-netscaler-cip",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "ot-group",
    "set-log-level",
    "set-nice",
    "switch-mode",
    "use-service",
    "sc-inc-gpc",
    "sc-inc-gpc0",
    "sc-inc-gpc1",
    "sc-set-gpt",
    "sc-set-gpt0",
    "send-spoe-group",
    "do-resolve",
    "set-var-fmt",
    "set-var",
    "unset-var",
    "set-src",
    "set-src-port",
    "set-dst",
    "set-dst-port",
    "set-mark",
    "set-tos",
    "silent-drop",
    "set-priority-class",
    "set-priority-offset",
];

fn known_other(action: &str) -> bool {
    let base = action.split('(').next().unwrap_or(action);
    OTHER_ACTIONS.contains(&base)
}

/// Lowers one `tcp-request` line (not `inspect-delay`). `args` are the words after the
/// keyword.
pub fn tcp_request(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let kind = d.type_name();
    let Some(which) = args.first() else {
        cx.alert(
            &line.span,
            format!(
                "'tcp-request' expects 'inspect-delay', 'connection', or 'content' in {kind} '{}' (got '')",
                d.name
            ),
        );
        return;
    };
    let connection = match which.text.as_str() {
        "connection" => true,
        "content" => false,
        "session" => {
            super::proxy::delegated_condition_pub(cx, d, line, args);
            return;
        }
        other => {
            cx.alert(
                &line.span,
                format!(
                    "'tcp-request' expects 'inspect-delay', 'connection', or 'content' in {kind} '{}' (got '{other}')",
                    d.name
                ),
            );
            return;
        }
    };
    if connection && d.kind == SectionKind::Backend {
        cx.alert(
            &line.span,
            format!(
                "tcp-request connection is not allowed because backend {} is not a frontend",
                d.name
            ),
        );
        return;
    }
    let action_word = args.get(1).map(|w| w.text.as_str()).unwrap_or("");
    // Not run, but its expression is checked as 2.6 checks it (bare wording).
    if action_word.starts_with("set-var(") {
        if let Some(expr) = args.get(2) {
            if let Err(msg) = super::sample::parse_sample_expr_bare(&expr.text, cx.env) {
                cx.alert(&line.span, msg);
                return;
            }
        }
    }
    let action = match action_word {
        "accept" => Some(TcpAction::Accept),
        "reject" => Some(TcpAction::Reject),
        a if known_other(a) => None,
        a => {
            let what = if connection { "connection" } else { "content" };
            cx.alert(
                &line.span,
                format!(
                    "'tcp-request {what}' expects {CONTENT_ACTIONS} in {kind} '{}' (got '{a}').",
                    d.name
                ),
            );
            return;
        }
    };
    let rule_name = format!("tcp-request {} {}", which.text, action_word);
    let (head, cond_words) = super::sample::split_condition(&args[2..]);
    if action.is_some() && !head.is_empty() {
        cx.alert(
            &line.span,
            format!(
                "'{rule_name}' : expects 'if', 'unless' or nothing after the action in {kind} '{}' (got '{}')",
                d.name, head[0].text
            ),
        );
        return;
    }
    let cond = match super::proxy::condition(cx, d, cond_words) {
        Ok(c) => c,
        Err(e) => {
            cx.diags.push(e.diagnostic_tcp(
                &rule_name,
                kind,
                &d.name,
                cond_words.first().map(|w| w.text.as_str()).unwrap_or("if"),
            ));
            return;
        }
    };
    if let Some(c) = &cond {
        super::rules::check_usage(cx, d, &["tcp-request", &which.text], c, &line.span);
    }
    let Some(action) = action else {
        cx.refuse(&line.span, &rule_name);
        return;
    };
    let rule = TcpRule {
        action,
        cond,
        span: line.span.clone(),
    };
    if connection {
        d.tcp_request_connection.push(rule);
    } else {
        d.tcp_request_content.push(rule);
    }
}
