//! Rendering `%[...]` log-format parts into a reused output buffer. HAProxy 2.6 renders
//! them differently in rule arguments and in log lines (observed):
//! - rules (`set-header`, `lf-string`, …), [`render_sample`]: a missing value is empty,
//!   `%{+Q}` is ignored, `%{+E}` escapes `"`, `\` and `]` with a backslash, and control
//!   characters (but tab) are written `%XX` so a header value stays valid;
//! - log lines, [`render_sample_log`]: a missing value is `-` (`""` with `+Q`), `+Q`
//!   quotes every type (`"5"`), `+E` escapes as above.
//!
//! The `%ci`-style variables are rendered by the log and HTTP engines; they call these
//! for each `LogFormatPart::Sample`.

use haproxyrs_config::ir::sample::{LogFlags, LogFormatExpr, LogFormatPart, LogVar, SampleExpr};

use super::source::{Sample, SampleSource};
use super::{convert, fetch, with_scratch, Scratch};

/// Append the value of `expr` to `out` as a rule argument (header value, `lf-string`).
/// Returns false when there was no value (nothing is written).
pub fn render_sample(
    expr: &SampleExpr,
    flags: LogFlags,
    src: &dyn SampleSource,
    out: &mut Vec<u8>,
) -> bool {
    let flags = LogFlags {
        quote: false,
        ..flags
    };
    let start = out.len();
    let written = render_value(expr, flags, src, out);
    escape_controls(out, start);
    written
}

/// Render a whole log-format expression as a rule argument where only the connection is
/// known (layer-4 rules, dynamic `use_backend` in TCP mode): literals, `%[...]` samples and
/// the address variables (`%ci %cp %fi %fp`); other `%` variables have no value there.
pub fn render_format(fmt: &LogFormatExpr, src: &dyn SampleSource, out: &mut Vec<u8>) {
    use std::io::Write;
    for part in &fmt.parts {
        match part {
            LogFormatPart::Literal(t) => out.extend_from_slice(t.as_bytes()),
            LogFormatPart::Sample { expr, flags } => {
                render_sample(expr, *flags, src, out);
            }
            LogFormatPart::Var { var, .. } => {
                let _ = match (var, src.src(), src.dst()) {
                    (LogVar::ClientIp, Some(a), _) => write!(out, "{}", a.ip()),
                    (LogVar::ClientPort, Some(a), _) => write!(out, "{}", a.port()),
                    (LogVar::FrontendIp, _, Some(a)) => write!(out, "{}", a.ip()),
                    (LogVar::FrontendPort, _, Some(a)) => write!(out, "{}", a.port()),
                    _ => Ok(()),
                };
            }
        }
    }
}

/// Rewrite the control characters written after `start` as `%XX` (tab excepted), as
/// HAProxy does for values rendered into rules. Nothing moves when there are none.
fn escape_controls(out: &mut Vec<u8>, start: usize) {
    let is_ctl = |c: u8| (c < 0x20 && c != b'\t') || c == 0x7f;
    let Some(first) = out[start..].iter().position(|&c| is_ctl(c)) else {
        return;
    };
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let tail: Vec<u8> = out.split_off(start + first);
    for c in tail {
        if is_ctl(c) {
            out.extend_from_slice(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
        } else {
            out.push(c);
        }
    }
}

/// Append the value of `expr` to `out` in a log line: `-` (or `""` with `+Q`) when there
/// is no value.
pub fn render_sample_log(
    expr: &SampleExpr,
    flags: LogFlags,
    src: &dyn SampleSource,
    out: &mut Vec<u8>,
) {
    if !render_value(expr, flags, src, out) {
        out.extend_from_slice(if flags.quote { b"\"\"" } else { b"-" });
    }
}

fn render_value(
    expr: &SampleExpr,
    flags: LogFlags,
    src: &dyn SampleSource,
    out: &mut Vec<u8>,
) -> bool {
    with_scratch(|scratch| {
        let Scratch { cur, tmp, fetch } = scratch;
        let mut written = false;
        fetch::fetch_each(&expr.fetch, src, false, fetch, &mut |raw| {
            if let Some(v) = convert::apply(raw, &expr.converters, src, cur, tmp) {
                render_sample_value(&v, flags, out);
                written = true;
            }
            false
        });
        written
    })
}

/// Append one sample value with the flags applied (`+Q` quotes, `+E` escapes strings).
pub fn render_sample_value(v: &Sample<'_>, flags: LogFlags, out: &mut Vec<u8>) {
    if flags.quote {
        out.push(b'"');
    }
    match v {
        Sample::Str(s) | Sample::Bin(s) if flags.escape => {
            for &c in s.iter() {
                if matches!(c, b'"' | b'\\' | b']') {
                    out.push(b'\\');
                }
                out.push(c);
            }
        }
        other => other.write_to(out),
    }
    if flags.quote {
        out.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::super::testsrc::TestSource;
    use super::*;
    use haproxyrs_config::env::SystemEnv;
    use haproxyrs_config::ir::sample::LogFormatPart;
    use haproxyrs_config::lower::sample::parse_log_format;

    /// Render the `%[...]` parts and literals of a log-format string (variables as `?`),
    /// as a rule argument.
    fn render(fmt: &str, src: &TestSource) -> String {
        let lf = parse_log_format(fmt, None, &SystemEnv).unwrap();
        let mut out = Vec::new();
        for p in &lf.parts {
            match p {
                LogFormatPart::Literal(s) => out.extend_from_slice(s.as_bytes()),
                LogFormatPart::Sample { expr, flags } => {
                    render_sample(expr, *flags, src, &mut out);
                }
                LogFormatPart::Var { .. } => out.push(b'?'),
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn like_haproxy_lf_string() {
        // Reference: HAProxy 2.6 `http-request return lf-string` on the same request.
        let mut s = TestSource::http("GET", "/p?k=1", &[("Host", "Ex.com"), ("y", "a\"b\\c]d")]);
        s.src = Some("127.0.0.1:4000".parse().unwrap());
        assert_eq!(
            render(
                "q=[%{+Q}[hdr(x)]] qi=[%{+Q}[int(5)]] e=[%{+E}[hdr(y)]] ip=[%[src]] h=[%[req.hdr(host),lower]] p=%[path]",
                &s
            ),
            "q=[] qi=[5] e=[a\\\"b\\\\c\\]d] ip=[127.0.0.1] h=[ex.com] p=/p"
        );
        assert_eq!(render("%{+Q}[path] %ci", &s), "/p ?");
    }

    #[test]
    fn control_characters_in_rules() {
        // Reference: HAProxy 2.6 lf-string of a header holding control bytes; logs keep
        // them raw.
        let s = TestSource::http("GET", "/", &[("z", "a\x1fb\x0bc\x08d%e\tg\x7f")]);
        assert_eq!(render("v=[%[req.hdr(z)]]", &s), "v=[a%1Fb%0Bc%08d%e\tg%7F]");
        let lf = parse_log_format("%[req.hdr(z)]", None, &SystemEnv).unwrap();
        let LogFormatPart::Sample { expr, flags } = &lf.parts[0] else {
            panic!()
        };
        let mut out = Vec::new();
        render_sample_log(expr, *flags, &s, &mut out);
        assert_eq!(out, b"a\x1fb\x0bc\x08d%e\tg\x7f");
    }

    #[test]
    fn like_haproxy_log_lines() {
        // Reference: HAProxy 2.6 `log-format` lines on stdout.
        let s = TestSource::http("GET", "/p", &[]);
        let lf = parse_log_format(
            "m=[%[var(txn.nope)]] q=[%{+Q}[var(txn.nope)]] qi=[%{+Q}[int(5)]] e=[%{+E}[str(a]b)]] qe=[%{+Q,+E}[str(a]b)]]",
            None,
            &SystemEnv,
        )
        .unwrap();
        let mut out = Vec::new();
        for p in &lf.parts {
            match p {
                LogFormatPart::Literal(t) => out.extend_from_slice(t.as_bytes()),
                LogFormatPart::Sample { expr, flags } => {
                    render_sample_log(expr, *flags, &s, &mut out)
                }
                LogFormatPart::Var { .. } => {}
            }
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "m=[-] q=[\"\"] qi=[\"5\"] e=[a\\]b] qe=[\"a\\]b\"]"
        );
    }

    #[test]
    fn output_buffer_is_appended_not_reset() {
        let s = TestSource::http("GET", "/p", &[]);
        let lf = parse_log_format("%[path]", None, &SystemEnv).unwrap();
        let LogFormatPart::Sample { expr, flags } = &lf.parts[0] else {
            panic!()
        };
        let mut out = b"x=".to_vec();
        assert!(render_sample(expr, *flags, &s, &mut out));
        assert_eq!(out, b"x=/p");
        let lf = parse_log_format("%[query]", None, &SystemEnv).unwrap();
        let LogFormatPart::Sample { expr, flags } = &lf.parts[0] else {
            panic!()
        };
        assert!(!render_sample(expr, *flags, &s, &mut out));
        assert_eq!(out, b"x=/p");
    }
}
