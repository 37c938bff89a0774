//! The `fcgi-app` section: parsed only (haproxyrs has no FastCGI multiplexer), but checked
//! as HAProxy 2.6 checks it so that a config 2.6 refuses is refused here too: each
//! keyword's arguments, the mandatory `docroot`, duplicate section names. A backend that
//! uses one (`use-fcgi-app`) is refused at start by the keyword table.

use crate::ast::{Line, Section};
use crate::diag::{Diagnostic, Level};

use super::Cx;

/// Check the whole section; `earlier` are the `fcgi-app` sections seen so far
/// (name, header span).
pub fn check_section(cx: &mut Cx, section: &Section, earlier: &[(String, crate::span::Span)]) {
    let Some(name) = section.name().filter(|w| !w.text.is_empty()) else {
        return;
    };
    if let Some((_, first)) = earlier.iter().find(|(n, _)| *n == name.text) {
        let span = &section.header.span;
        cx.diags.push(Diagnostic {
            level: Level::Alert,
            text: format!(
                "Parsing [{span}]: fcgi-app section '{}' has the same name as another one declared at {}:{}.",
                name.text, first.file, first.line
            ),
            span: Some(span.clone()),
            help: None,
            unimplemented: false,
        });
    }
    // A post-parse check in 2.6: only reported when parsing found no error.
    if !section.lines.iter().any(|l| l.keyword() == "docroot") {
        cx.deferred.push(Diagnostic::new(
            Level::Alert,
            format!("fcgi-app '{}': no docroot configured.", name.text),
        ));
    }
}

/// Check one line of an `fcgi-app` section with 2.6's wording. `false` when an ALERT was
/// raised (or the line is fully handled here, as `no option …`).
pub fn check_line(cx: &mut Cx, line: &Line) -> bool {
    let kw = line.keyword();
    let args: Vec<&str> = line.args().iter().map(|w| w.text.as_str()).collect();
    let span = &line.span;
    let one = |what: &str| -> Result<(), String> {
        match args.as_slice() {
            [] | [""] => Err(format!("'{kw}' expects <{what}> as argument.")),
            [a, extra, ..] => Err(format!(
                "'{kw} {a}' cannot handle unexpected argument '{extra}'."
            )),
            _ => Ok(()),
        }
    };
    let result = match kw {
        "docroot" => one("path"),
        "index" => one("filename"),
        "path-info" => match args.first() {
            None | Some(&"") => Err("'path-info' expects <regex> as argument.".to_string()),
            Some(_) => Ok(()),
        },
        "pass-header" => match args.first() {
            None | Some(&"") => Err("'pass-header' expects <name> as arguments.".to_string()),
            Some(_) => Ok(()),
        },
        "set-param" => match args.as_slice() {
            [] | [_] => Err("'set-param' expects <name> and <value> as arguments.".to_string()),
            [name, _, cond, ..] if !matches!(*cond, "if" | "unless") => {
                Err(format!("'{name}' : (null)."))
            }
            _ => Ok(()),
        },
        "log-stderr" => match args.as_slice() {
            ["global", ..] | [_, _, ..] => Ok(()),
            _ => Err(
                "log-stderr : expects <address> and <facility> or global as arguments".to_string(),
            ),
        },
        "option" => return option(cx, line, &args, false),
        "no" if args.first() == Some(&"option") => return option(cx, line, &args[1..], true),
        // 2.6 words this one without a space before the colon, and offers no hint.
        _ => {
            cx.alert_tight(
                span,
                format!("unknown keyword '{kw}' in 'fcgi-app' section"),
            );
            return false;
        }
    };
    match result {
        Ok(()) => true,
        Err(msg) => {
            cx.alert(span, msg);
            false
        }
    }
}

/// `[no] option keep-conn|get-values|mpxs-conns|max-reqs <n>`.
fn option(cx: &mut Cx, line: &Line, args: &[&str], negated: bool) -> bool {
    let span = &line.span;
    let sub = args.first().copied().unwrap_or("");
    match sub {
        "keep-conn" | "get-values" | "mpxs-conns" => {
            if let Some(extra) = args.get(1) {
                cx.alert(
                    span,
                    format!("'option {sub}' cannot handle unexpected argument '{extra}'."),
                );
                return false;
            }
        }
        "max-reqs" if negated => {
            cx.alert_tight(
                span,
                "negation/default is not supported for option 'max-reqs'.",
            );
            return false;
        }
        "max-reqs" => {
            let positive = args.get(1).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0) > 0;
            if !positive {
                cx.alert_tight(
                    span,
                    "option 'max-reqs' expects a strictly positive integer argument.",
                );
                return false;
            }
        }
        _ => {
            cx.alert(span, format!("unknown option '{sub}'."));
            return false;
        }
    }
    !negated
}

#[cfg(test)]
mod tests {
    use crate::ast::ConfigAst;
    use crate::diag::{Diagnostics, Level};
    use crate::env::MemoryEnv;

    /// The ALERT texts of lowering `text`.
    fn check_alerts(text: &str) -> Vec<String> {
        let env = MemoryEnv::new();
        let mut ast = ConfigAst::default();
        let mut diags = Diagnostics::default();
        let _ = crate::parse::parse_text("t.cfg", text.as_bytes(), &env, &mut ast, &mut diags);
        let _ = crate::lower::lower(&ast, &env, &mut diags);
        diags
            .items
            .iter()
            .filter(|d| d.level == Level::Alert)
            .map(|d| d.text.clone())
            .collect()
    }

    const HEAD: &str = "fcgi-app php\n docroot /var/www\n";

    #[test]
    fn a_complete_section_is_accepted() {
        let cfg = format!(
            "{HEAD} index index.php\n log-stderr global\n option keep-conn\n no option get-values\n \
             option max-reqs 10\n path-info ^(/.+\\.php)(/.*)?$\n pass-header x-foo\n set-param A b if TRUE\n"
        );
        assert_eq!(check_alerts(&cfg), Vec::<String>::new());
    }

    #[test]
    fn a_backend_using_an_fcgi_app_is_refused_at_start() {
        let cfg = "defaults\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n\
                   fcgi-app php\n docroot /x\nfrontend f\n bind :80\n default_backend b\n\
                   backend b\n server s 127.0.0.1:9000 proto fcgi\n use-fcgi-app php\n";
        let env = MemoryEnv::new();
        let mut ast = ConfigAst::default();
        let mut diags = Diagnostics::default();
        let _ = crate::parse::parse_text("t.cfg", cfg.as_bytes(), &env, &mut ast, &mut diags);
        let config = crate::lower::lower(&ast, &env, &mut diags).expect("valid for 2.6");
        assert!(
            config
                .refused
                .iter()
                .any(|r| format!("{r:?}").contains("use-fcgi-app")),
            "{:?}",
            config.refused
        );
        // Without an FCGI server or with an unknown app: 2.6's post-parse ALERTs.
        let alerts = check_alerts(
            &cfg.replace(" proto fcgi", "")
                .replace("use-fcgi-app php", "use-fcgi-app nope"),
        );
        assert!(
            alerts.contains(&"proxy 'b' : fcgi-app 'nope' not found.".to_string()),
            "{alerts:?}"
        );
        assert!(
            alerts
                .contains(&"proxy 'b': FCGI app configured but no FCGI server found.".to_string()),
            "{alerts:?}"
        );
    }

    #[test]
    fn obvious_errors_get_2_6_wording() {
        for (line, msg) in [
            (" index\n", "'index' expects <filename> as argument."),
            (
                " docroot /a /b\n",
                "'docroot /a' cannot handle unexpected argument '/b'.",
            ),
            (
                " set-param A\n",
                "'set-param' expects <name> and <value> as arguments.",
            ),
            (
                " option max-reqs 0\n",
                "option 'max-reqs' expects a strictly positive integer argument.",
            ),
            (
                " no option max-reqs\n",
                "negation/default is not supported for option 'max-reqs'.",
            ),
            (" option frob\n", "unknown option 'frob'."),
            (
                " docrot /x\n",
                "]: unknown keyword 'docrot' in 'fcgi-app' section",
            ),
            (
                " log-stderr foo\n",
                "log-stderr : expects <address> and <facility> or global as arguments",
            ),
        ] {
            let alerts = check_alerts(&format!("{HEAD}{line}"));
            assert!(
                alerts.iter().any(|a| a.ends_with(msg)),
                "{line}: {alerts:?}"
            );
        }
        let alerts = check_alerts("fcgi-app php\n index i\n");
        assert!(
            alerts
                .iter()
                .any(|a| a == "fcgi-app 'php': no docroot configured."),
            "{alerts:?}"
        );
        let alerts = check_alerts(&format!("{HEAD}{HEAD}"));
        assert!(
            alerts.iter().any(|a| a
                .contains("fcgi-app section 'php' has the same name as another one declared at")),
            "{alerts:?}"
        );
    }
}
