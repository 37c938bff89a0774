//! `defaults` sections and inheritance: each `defaults` section (anonymous or named) becomes
//! the base of the proxies after it, until the next one; `defaults NAME` can be named by a
//! later `from NAME` (on a proxy or on another `defaults`). A `defaults` without `from`
//! starts again from HAProxy's built-in settings.
//!
//! Like HAProxy, a `defaults` section is a proxy draft itself: a proxy starts as a copy of
//! it and its own lines override, so inheritance needs no merge rules.

use std::collections::HashMap;

use crate::ast::{Section, SectionKind};
use crate::ir;

use super::proxy::{self, ProxyDraft};
use super::Cx;

/// Everything phase 1 accumulates across sections.
#[derive(Default)]
pub struct State {
    /// The `defaults` the next proxy inherits from (HAProxy's built-ins if none yet).
    pub current: Option<ProxyDraft>,
    /// Named `defaults` sections, for `from NAME`.
    pub named: HashMap<String, ProxyDraft>,
    pub proxies: Vec<ProxyDraft>,
    /// Frontend-capable and backend-capable proxy names → index in `proxies`.
    pub fe_names: HashMap<String, usize>,
    pub be_names: HashMap<String, usize>,
    /// Custom proxy ids (`id N`) → index in `proxies`.
    pub proxy_ids: HashMap<u32, usize>,
    pub userlists: Vec<ir::Userlist>,
    /// How each `defaults` section (by its header position) has been used by proxies.
    pub usage: HashMap<String, Usage>,
    pub named_sections: Vec<ir::NamedSection>,
}

impl State {
    /// The base a new proxy or `defaults` starts from: `from NAME`, else the current
    /// `defaults` (proxies only), else the built-ins.
    pub fn base(&self, cx: &mut Cx, section: &Section, for_defaults: bool) -> ProxyDraft {
        if let Some(from) = from_clause(section) {
            if let Some(d) = self.named.get(&from.text) {
                return d.clone();
            }
            cx.alert(
                &from.span,
                format!(
                    "defaults section '{}' not found for {} '{}'.",
                    from.text,
                    section.kind.keyword(),
                    section.name().map(|w| w.text.as_str()).unwrap_or(""),
                ),
            );
            // HAProxy stops reading there (ERR_ABORT).
            cx.abort = true;
            cx.diags.aborted = true;
        }
        if for_defaults {
            return ProxyDraft::builtin(SectionKind::Defaults, "", &section.header.span);
        }
        match &self.current {
            Some(d) => d.clone(),
            None => ProxyDraft::builtin(SectionKind::Defaults, "", &section.header.span),
        }
    }
}

/// How proxies used one `defaults` section, for HAProxy 2.6's inheritance rules.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub explicit: bool,
    pub implicit: bool,
    pub frontend: bool,
    pub backend: bool,
}

/// A proxy starts from `base` (its `defaults`): enforce 2.6's rules on that inheritance.
/// A named `defaults` may not be both named by `from` and used implicitly; one that holds
/// TCP/HTTP rules may serve neither a `listen` nor both frontends and backends.
pub fn check_inheritance(cx: &mut Cx, state: &mut State, section: &Section, base: &ProxyDraft) {
    // No `defaults` in effect: the proxy starts from the built-ins.
    if from_clause(section).is_none() && state.current.is_none() {
        return;
    }
    let key = format!("{}:{}", base.span.file, base.span.line);
    let explicit = from_clause(section).is_some();
    let usage = state.usage.entry(key).or_default();
    let header = &section.header.span;
    if !base.name.is_empty() && ((explicit && usage.implicit) || (!explicit && usage.explicit)) {
        // HAProxy prints this as an ALERT that does not fail the config; a NOTICE here
        // keeps the verdict (exit 0) and still shows the text.
        cx.diags.push(crate::diag::Diagnostic::parsing(
            crate::diag::Level::Notice,
            header,
            format!(
                "defaults section '{}' (declared at {}:{}) is explicitly referenced by another proxy and implicitly used here. To avoid any ambiguity don't mix both usage. Add a last defaults section not explicitly used or always use explicit references.",
                base.name, base.span.file, base.span.line
            ),
        ));
    }
    if explicit {
        usage.explicit = true;
    } else {
        usage.implicit = true;
    }
    let has_rules = !base.http.request.is_empty()
        || !base.http.response.is_empty()
        || !base.tcp_request_connection.is_empty()
        || !base.tcp_request_content.is_empty();
    let (fe, be) = match section.kind {
        SectionKind::Frontend => (true, false),
        SectionKind::Backend => (false, true),
        _ => (true, true),
    };
    if has_rules {
        let clash = if section.kind == SectionKind::Listen {
            Some(
                "a listen section cannot inherit from a defaults section defining TCP/HTTP rules."
                    .to_string(),
            )
        } else if (fe && usage.backend) || (be && usage.frontend) {
            Some(format!(
                "frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at {}:{}).",
                base.span.file, base.span.line
            ))
        } else {
            None
        };
        if let Some(msg) = clash {
            cx.alert_tight(header, msg);
            cx.abort = true;
            cx.diags.aborted = true;
        }
    }
    usage.frontend |= fe;
    usage.backend |= be;
}

/// The word after `from` in a section header, if any.
pub fn from_clause(section: &Section) -> Option<&crate::ast::Word> {
    let words = &section.header.words;
    let pos = words.iter().position(|w| w.text == "from")?;
    words.get(pos + 1)
}

/// A `defaults [NAME] [from OTHER]` section.
pub fn section(cx: &mut Cx, state: &mut State, section: &Section) {
    let name = section
        .name()
        .filter(|w| w.text != "from")
        .map(|w| w.text.clone())
        .unwrap_or_default();
    let mut draft = state.base(cx, section, true);
    draft.kind = SectionKind::Defaults;
    draft.name = name.clone();
    draft.span = section.header.span.clone();
    for line in &section.lines {
        if cx.abort {
            return;
        }
        proxy::line(cx, &mut draft, line);
    }
    if !name.is_empty() {
        state.named.insert(name, draft.clone());
    }
    state.current = Some(draft);
}
