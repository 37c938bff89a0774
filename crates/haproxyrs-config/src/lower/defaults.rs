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
                    "{} '{}' : unable to find defaults section '{}'.",
                    section.kind.keyword(),
                    section.name().map(|w| w.text.as_str()).unwrap_or(""),
                    from.text
                ),
            );
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
