//! `tcp-check connect|send|send-binary|expect|comment`: checked as 2.6 checks them
//! (`checks.rs`), then lowered into the rule list `option tcp-check` runs. A rule
//! haproxyrs cannot run (`send-lf`, `expect rbinary`, `connect addr`, `set-var`...) gets a
//! NOTICE and turns the list off: the backend's check is then a plain connect.

use crate::ast::{Line, Word};
use crate::ir::{TcpCheckExpect, TcpCheckRule, TcpExpectKind};

use super::checks;
use super::proxy::ProxyDraft;
use super::Cx;

/// Runs 2.6's argument check; true when it raised no ALERT.
fn checked(
    cx: &mut Cx,
    d: &mut ProxyDraft,
    line: &Line,
    args: &[Word],
    check: fn(&mut Cx, &mut ProxyDraft, &Line, &[Word]),
) -> bool {
    let before = cx.diags.items.len();
    check(cx, d, line, args);
    !cx.diags.items[before..]
        .iter()
        .any(|x| x.level == crate::diag::Level::Alert)
}

/// A rule haproxyrs does not run: NOTICE, and the list is not run.
fn unsupported(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, what: &str) {
    cx.unimplemented(&line.span, &format!("tcp-check {what}"));
    d.tcp_check_rules.push(None);
}

pub fn comment(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if checked(cx, d, line, args, checks::check_comment) {
        d.tcp_check_rules.push(Some(TcpCheckRule::Comment));
    }
}

pub fn connect(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if !checked(cx, d, line, args, checks::check_connect) {
        return;
    }
    let mut port = None;
    let mut i = 0;
    while let Some(w) = args.get(i) {
        match w.text.as_str() {
            "port" => {
                match args.get(i + 1).and_then(|p| p.text.parse::<u16>().ok()) {
                    Some(p) if p > 0 => port = Some(p),
                    _ => return unsupported(cx, d, line, "connect port"),
                }
                i += 2;
            }
            "comment" => i += 2,
            "default" | "linger" => i += 1,
            other => return unsupported(cx, d, line, &format!("connect {other}")),
        }
    }
    d.tcp_check_rules.push(Some(TcpCheckRule::Connect { port }));
}

pub fn send(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if !checked(cx, d, line, args, checks::tcp_check_send) {
        return;
    }
    let sub = line.args().first().map(|w| w.text.as_str()).unwrap_or("");
    let data = args.first().map(|w| w.text.as_str()).unwrap_or("");
    let bytes = match sub {
        "send" => data.as_bytes().to_vec(),
        "send-binary" => match hex(data) {
            Ok(b) => b,
            Err(why) => {
                cx.alert(
                    &line.span,
                    format!("'tcp-check send-binary' : '{data}' invalid binary string ({why}).\n."),
                );
                return;
            }
        },
        // `send-lf`/`send-binary-lf` have their own handler; never reached.
        _ => return d.tcp_check_rules.push(None),
    };
    d.tcp_check_rules.push(Some(TcpCheckRule::Send(bytes)));
}

pub fn expect(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if !checked(cx, d, line, args, checks::tcp_check_expect) {
        return;
    }
    let (negate, i, option) = super::http_check::expect_prefix(args);
    if let Some(o) = option {
        return unsupported(cx, d, line, &format!("expect {o}"));
    }
    let kind = args.get(i).map(|w| w.text.as_str()).unwrap_or("");
    let pat = args.get(i + 1).map(|w| w.text.as_str()).unwrap_or("");
    let kind = match kind {
        "string" => TcpExpectKind::String(pat.to_string()),
        "rstring" => match regex::bytes::Regex::new(pat) {
            Ok(re) => TcpExpectKind::Rstring(re),
            Err(e) => {
                cx.alert(
                    &line.span,
                    format!("'tcp-check expect' : regex '{pat}' is invalid ({e})."),
                );
                return;
            }
        },
        "binary" => match hex(pat) {
            Ok(b) => TcpExpectKind::Binary(b),
            Err(why) => {
                cx.alert(
                    &line.span,
                    format!("'tcp-check expect' : invalid binary string ({why})."),
                );
                return;
            }
        },
        "string-lf" | "rbinary" | "binary-lf" => {
            return unsupported(cx, d, line, &format!("expect {kind}"))
        }
        other => {
            cx.alert(&line.span, format!("'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got '{other}' as argument.."));
            return;
        }
    };
    d.tcp_check_rules
        .push(Some(TcpCheckRule::Expect(TcpCheckExpect { negate, kind })));
}

/// `tcp-check set-var`/`unset-var` (parsed-only keywords: the keyword table reports
/// them): the list is not run.
pub fn not_run(_cx: &mut Cx, d: &mut ProxyDraft, _line: &Line, _args: &[Word]) {
    d.tcp_check_rules.push(None);
}

/// `tcp-check send-lf`/`send-binary-lf` (parsed only): checked, and the list is not run.
pub fn send_lf(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    if checked(cx, d, line, args, checks::tcp_check_send) {
        d.tcp_check_rules.push(None);
    }
}

/// Hex digits to bytes; the error is 2.6's reason.
fn hex(text: &str) -> Result<Vec<u8>, String> {
    if let Some(c) = text.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("an hex digit is expected (found '{c}')"));
    }
    if !text.len().is_multiple_of(2) {
        return Err("an even number of hex digit is expected".into());
    }
    Ok(text
        .as_bytes()
        .chunks(2)
        .map(|p| (hexval(p[0]) << 4) | hexval(p[1]))
        .collect())
}

fn hexval(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// The rules `option tcp-check` runs: `None` when one of them cannot be run.
pub fn build(rules: &[Option<TcpCheckRule>]) -> Option<Vec<TcpCheckRule>> {
    rules.iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::hex;

    #[test]
    fn hex_strings() {
        assert_eq!(hex("2b4F4b"), Ok(b"+OK".to_vec()));
        assert!(hex("2b4").is_err());
        assert_eq!(
            hex("zz"),
            Err("an hex digit is expected (found 'z')".into())
        );
    }
}
