//! Log-format strings (`log-format`, `http-request set-header X …`, `use_backend %[…]`)
//! → [`LogFormatExpr`]: literal text, `%var` aliases (`%ci`, `%{+Q}r`), `%[sample]`
//! expressions, `%%` for a percent sign, `%{+Q,-X}` flags (`%o` makes them global).

use crate::env::Environment;
use crate::ir::sample::{LogFlags, LogFormatExpr, LogFormatPart, LogVar};

use super::fetch::{self, ExprContext};
use super::sample::UsePoint;

/// Parse a log-format string. `point` checks that every `%[fetch]` can work where the
/// string is used (HAProxy's "may not be reliably used here"). `Err` is HAProxy's inner
/// message; frame it with [`super::sample::log_format_directive_error`] or the rule's
/// context.
pub fn parse_log_format(
    text: &str,
    point: Option<UsePoint>,
    env: &dyn Environment,
) -> Result<LogFormatExpr, String> {
    let mut parts: Vec<LogFormatPart> = Vec::new();
    let mut literal = String::new();
    let mut global = LogFlags::default();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            let ch = text[i..].chars().next().unwrap_or('\0');
            literal.push(ch);
            i += ch.len_utf8();
            continue;
        }
        // '%'
        i += 1;
        if i >= b.len() {
            return Err("truncated line after '%'.".into());
        }
        if b[i] == b'%' {
            literal.push('%');
            i += 1;
            continue;
        }
        let mut flags = global;
        if b[i] == b'{' {
            let start = i + 1;
            let Some(end) = text[start..].find('}') else {
                return Err(format!("truncated line after '{}'.", &text[start..]));
            };
            apply_flags(&text[start..start + end], &mut flags);
            i = start + end + 1;
            if i >= b.len() {
                return Err(format!(
                    "parse argument modifier without variable name near '%{{{}}}'.",
                    &text[start..start + end]
                ));
            }
        }
        if !literal.is_empty() {
            parts.push(LogFormatPart::Literal(std::mem::take(&mut literal)));
        }
        if b[i] == b'[' {
            let rest = &text[i + 1..];
            let (parsed, _) = fetch::parse_expr_prefix(rest, env, false)
                .map_err(|e| e.render(ExprContext::Sample, rest))?;
            let after = &rest[parsed.consumed..];
            match after.as_bytes().first() {
                Some(b']') => {}
                None => return Err(format!("missing ']' after '{}'.", &rest[..parsed.consumed])),
                Some(_) => {
                    let found = after.chars().next().unwrap_or(' ');
                    return Err(format!(
                        "expected ']' after '{}', but found '{found}'.",
                        &rest[..parsed.consumed]
                    ));
                }
            }
            if let Some(point) = point {
                point
                    .check(&parsed.expr.fetch)
                    .map_err(|needs| {
                        format!(
                            "sample fetch <{rest}> may not be reliably used here because it needs '{needs}' which is not available here."
                        )
                    })?;
            }
            parts.push(LogFormatPart::Sample {
                expr: parsed.expr,
                flags,
            });
            i += 1 + parsed.consumed + 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        if i == start {
            let near = text[i..].chars().next().unwrap_or(' ');
            return Err(format!(
                "unexpected variable name near '{near}' at position {i} line : '{text}'. Maybe you want to write a single '%', use the syntax '%%'."
            ));
        }
        let name = &text[start..i];
        let Some(var) = LogVar::from_alias(name) else {
            return Err(format!(
                "no such format variable '{name}'. If you wanted to emit the '%' character verbatim, you need to use '%%'."
            ));
        };
        if var == LogVar::GlobalFlags {
            // `%o`: the flags given with it apply to every following variable.
            global = flags;
            continue;
        }
        parts.push(LogFormatPart::Var { var, flags });
    }
    if !literal.is_empty() {
        parts.push(LogFormatPart::Literal(literal));
    }
    Ok(LogFormatExpr { parts })
}

/// `+Q,-X,…`: unknown letters are ignored, as HAProxy does.
fn apply_flags(spec: &str, flags: &mut LogFlags) {
    for item in spec.split(',') {
        let (on, name) = match item.as_bytes().first() {
            Some(b'+') => (true, &item[1..]),
            Some(b'-') => (false, &item[1..]),
            _ => continue,
        };
        match name {
            "Q" => flags.quote = on,
            "X" => flags.hex = on,
            "E" => flags.escape = on,
            "M" => flags.mandatory = on,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::sample::Fetch;
    use crate::lower::sample::test_env::FakeEnv;

    fn lf(text: &str) -> Result<LogFormatExpr, String> {
        parse_log_format(text, None, &FakeEnv::default())
    }

    #[test]
    fn parts_and_flags() {
        let e = lf("%ci:%cp [%tr] %{+Q}r a%%b %[src,lower] end").unwrap();
        let kinds: Vec<String> = e
            .parts
            .iter()
            .map(|p| match p {
                LogFormatPart::Literal(s) => format!("L({s})"),
                LogFormatPart::Var { var, flags } => {
                    format!("V({}{})", var.alias(), if flags.quote { "+Q" } else { "" })
                }
                LogFormatPart::Sample { expr, .. } => format!("S({})", expr.text),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                "V(ci)",
                "L(:)",
                "V(cp)",
                "L( [)",
                "V(tr)",
                "L(] )",
                "V(r+Q)",
                "L( a%b )",
                "S(src,lower)",
                "L( end)"
            ]
        );
        let e = lf("%{+Q}o %ci %{-Q}cp").unwrap();
        match (&e.parts[1], &e.parts[3]) {
            (LogFormatPart::Var { flags: a, .. }, LogFormatPart::Var { flags: b, .. }) => {
                assert!(a.quote);
                assert!(!b.quote);
            }
            other => panic!("{other:?}"),
        }
        assert!(lf("plain").unwrap().is_constant());
        assert!(lf("%{+Z}ci").is_ok());
    }

    #[test]
    fn errors_match_haproxy() {
        assert_eq!(
            lf("%zz").unwrap_err(),
            "no such format variable 'zz'. If you wanted to emit the '%' character verbatim, you need to use '%%'."
        );
        assert_eq!(lf("%{+Q").unwrap_err(), "truncated line after '+Q'.");
        assert_eq!(lf("%").unwrap_err(), "truncated line after '%'.");
        assert_eq!(
            lf("x %{+Q}").unwrap_err(),
            "parse argument modifier without variable name near '%{+Q}'."
        );
        assert_eq!(
            lf("x % y").unwrap_err(),
            "unexpected variable name near ' ' at position 3 line : 'x % y'. Maybe you want to write a single '%', use the syntax '%%'."
        );
        assert_eq!(lf("%[path").unwrap_err(), "missing ']' after 'path'.");
        assert_eq!(
            lf("%[src x]").unwrap_err(),
            "expected ']' after 'src', but found ' '."
        );
        assert_eq!(
            lf("%[foo]").unwrap_err(),
            "failed to parse sample expression <foo]> : unknown fetch method 'foo'."
        );
        let env = FakeEnv::default();
        assert_eq!(
            parse_log_format("%[path] x", Some(UsePoint::Log), &env).unwrap_err(),
            "sample fetch <path] x> may not be reliably used here because it needs 'HTTP request headers' which is not available here."
        );
        assert_eq!(
            parse_log_format("%[req.len]", Some(UsePoint::HttpResponse), &env).unwrap_err(),
            "sample fetch <req.len]> may not be reliably used here because it needs 'request buffer' which is not available here."
        );
        let ok = parse_log_format("%[src] %[status]", Some(UsePoint::Log), &env).unwrap();
        assert!(matches!(
            &ok.parts[0],
            LogFormatPart::Sample { expr, .. } if expr.fetch == Fetch::Src
        ));
    }
}
