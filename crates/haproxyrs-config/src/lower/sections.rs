//! The sections other than `global`, `defaults` and proxies: `userlist` (lowered into the
//! IR), and `peers`, `resolvers`, `mailers`, `http-errors`, `ring`, `cache`, `program`,
//! `log-forward` (checked, named in the IR for references, reported as not implemented).

use crate::ast::{Line, Section, SectionKind, Word};
use crate::ir::{NamedSection, Password, User, Userlist};

use super::defaults::State;
use super::keywords::{self, Handler, Status};
use super::Cx;

pub fn section(cx: &mut Cx, state: &mut State, section: &Section) {
    let kind = section.kind;
    let Some(name) = section.name().filter(|w| !w.text.is_empty()) else {
        if kind == SectionKind::FcgiApp {
            cx.alert_tight(
                &section.header.span,
                "'fcgi-app' expects <name> as argument.",
            );
            return;
        }
        cx.alert(
            &section.header.span,
            format!("missing name for {} section.", kind.keyword()),
        );
        return;
    };
    if kind == SectionKind::Userlist {
        if state.userlists.iter().any(|u| u.name == name.text) {
            cx.warn(
                &section.header.span,
                format!("ignoring duplicated userlist '{}'.", name.text),
            );
        }
        let mut ul = Userlist {
            name: name.text.clone(),
            ..Userlist::default()
        };
        for line in &section.lines {
            dispatch(cx, line, kind, Some(&mut ul));
        }
        check_userlist(cx, &ul);
        state.userlists.push(ul);
        return;
    }
    if kind == SectionKind::FcgiApp {
        let earlier: Vec<(String, crate::span::Span)> = state
            .named_sections
            .iter()
            .filter(|s| s.kind == SectionKind::FcgiApp)
            .map(|s| (s.name.clone(), s.span.clone()))
            .collect();
        super::fcgi::check_section(cx, section, &earlier);
    }
    if kind != SectionKind::HttpErrors {
        cx.unimplemented(&section.header.span, &format!("{} section", kind.keyword()));
    }
    if kind == SectionKind::Cache
        && !section
            .lines
            .iter()
            .any(|l| l.keyword() == "total-max-size")
    {
        cx.alert_plain(format!(
            "cache '{}': 'total-max-size' is mandatory.",
            name.text
        ));
    }
    if kind == SectionKind::Peers {
        let local = cx
            .opts
            .local_peer
            .clone()
            .or_else(|| cx.localpeer.clone())
            .or_else(|| cx.env.hostname());
        if let Some(local) = local {
            let has_local = section.lines.iter().any(|l| {
                matches!(l.keyword(), "peer" | "server")
                    && l.args().first().map(|w| w.text.as_str()) == Some(local.as_str())
            });
            if !has_local {
                cx.warn_plain(format!(
                    "Removing incomplete section 'peers {}' (no peer named '{local}').",
                    name.text
                ));
            }
        }
    }
    state.named_sections.push(NamedSection {
        kind,
        name: name.text.clone(),
        span: section.header.span.clone(),
    });
    for line in &section.lines {
        if kind == SectionKind::HttpErrors && line.keyword() == "errorfile" {
            if let Err(msg) = super::checks::section_value(cx, kind, "errorfile", line.args()) {
                cx.alert(&line.span, msg);
                continue;
            }
            // The responses are the HTTP rules module's; here the file must exist.
            if let Some(file) = line.args().get(1) {
                if cx.env.read_file(std::path::Path::new(&file.text)).is_err() {
                    cx.alert(
                        &line.span,
                        format!("errorfile : error opening file '{}'.", file.text),
                    );
                }
            }
            continue;
        }
        if kind == SectionKind::FcgiApp && !super::fcgi::check_line(cx, line) {
            continue;
        }
        dispatch(cx, line, kind, None);
    }
}

fn dispatch(cx: &mut Cx, line: &Line, kind: SectionKind, ul: Option<&mut Userlist>) {
    let kw = line.keyword();
    if kw == "no"
        && kind == SectionKind::Program
        && line.args().first().map(|w| w.text.as_str()) == Some("option")
    {
        return;
    }
    let Some(entry) = keywords::lookup(kw, kind) else {
        cx.unknown_keyword(line, kind.keyword(), keywords::names_in(kind));
        return;
    };
    if let Status::Removed(msg) = entry.status {
        cx.alert(&line.span, msg);
        return;
    }
    match (entry.handler, ul) {
        (Handler::Userlist(f), Some(ul)) => f(cx, ul, line, line.args()),
        (other, _) => {
            if let Err(msg) = super::checks::section_value(cx, kind, kw, line.args()) {
                cx.alert(&line.span, msg);
                return;
            }
            super::proxy::generic_args(cx, line, other, line.args(), kw)
        }
    }
}

pub fn userlist_user(cx: &mut Cx, ul: &mut Userlist, line: &Line, args: &[Word]) {
    let Some(name) = args.first() else {
        cx.alert(&line.span, "'user' expects <name> as argument.");
        return;
    };
    if ul.users.iter().any(|u| u.name == name.text) {
        cx.diags.push(tight_warning(
            &line.span,
            format!(
                "ignoring duplicated user '{}' in userlist '{}'.",
                name.text, ul.name
            ),
        ));
        return;
    }
    let mut user = User {
        name: name.text.clone(),
        password: Password::Plain(String::new()),
        groups: Vec::new(),
    };
    let mut i = 1;
    while i < args.len() {
        let v = args.get(i + 1).map(|w| w.text.clone());
        match (args[i].text.as_str(), v) {
            ("password", Some(v)) => user.password = Password::Crypt(v),
            ("insecure-password", Some(v)) => user.password = Password::Plain(v),
            ("groups", Some(v)) => {
                user.groups = v
                    .split(',')
                    .filter(|g| !g.is_empty())
                    .map(String::from)
                    .collect()
            }
            (other, _) => {
                cx.alert(&line.span, format!("'user' only supports 'password', 'insecure-password' and 'groups' (got '{other}')."));
                return;
            }
        }
        i += 2;
    }
    ul.users.push(user);
}

pub fn userlist_group(cx: &mut Cx, ul: &mut Userlist, line: &Line, args: &[Word]) {
    let Some(name) = args.first() else {
        cx.alert(&line.span, "'group' expects <name> as argument.");
        return;
    };
    if ul.groups.iter().any(|(g, _)| *g == name.text) {
        cx.diags.push(tight_warning(
            &line.span,
            format!(
                "ignoring duplicated group '{}' in userlist '{}'.",
                name.text, ul.name
            ),
        ));
        return;
    }
    let mut users = Vec::new();
    let mut i = 1;
    while i < args.len() {
        match (args[i].text.as_str(), args.get(i + 1)) {
            ("users", Some(v)) => {
                users = v
                    .text
                    .split(',')
                    .filter(|u| !u.is_empty())
                    .map(String::from)
                    .collect()
            }
            (other, _) => {
                cx.alert(
                    &line.span,
                    format!("'group' only supports 'users' option (got '{other}')."),
                );
                return;
            }
        }
        i += 2;
    }
    ul.groups.push((name.text.clone(), users));
}

/// `parsing [file:line]: msg` as a WARNING.
fn tight_warning(span: &crate::span::Span, msg: String) -> crate::diag::Diagnostic {
    crate::diag::Diagnostic {
        level: crate::diag::Level::Warning,
        text: format!("parsing [{span}]: {msg}"),
        span: Some(span.clone()),
        help: None,
        unimplemented: false,
    }
}

/// Group and user names referenced inside a userlist must exist (HAProxy's post-parse check).
fn check_userlist(cx: &mut Cx, ul: &Userlist) {
    for u in &ul.users {
        for g in &u.groups {
            if !ul.groups.iter().any(|(n, _)| n == g) {
                cx.alert_plain(format!(
                    "userlist '{}': no such group '{g}' specified in user '{}'",
                    ul.name, u.name
                ));
            }
        }
    }
    for (g, users) in &ul.groups {
        for u in users {
            if !ul.users.iter().any(|x| x.name == *u) {
                cx.alert_plain(format!(
                    "userlist '{}': no such user '{u}' specified in group '{g}'",
                    ul.name
                ));
            }
        }
    }
}
