//! Rendering `%[...]` log-format parts into a reused output buffer, with the `%{+Q}`
//! (double quotes around strings) and `%{+E}` (backslash before `"`, `\` and `]`) flags.
//! The `%ci`-style variables are rendered by the log and HTTP engines; they call
//! [`render_sample`] for each `LogFormatPart::Sample`.

use haproxyrs_config::ir::sample::{LogFlags, SampleExpr};

use super::source::{Sample, SampleSource};
use super::{convert, fetch, with_scratch, Scratch};

/// Append the value of `expr` to `out`. Returns false when there was no value (nothing is
/// written: a header value gets an empty string; a log line writes `-` itself).
pub fn render_sample(
    expr: &SampleExpr,
    flags: LogFlags,
    src: &dyn SampleSource,
    out: &mut Vec<u8>,
) -> bool {
    with_scratch(|scratch| {
        let Scratch { cur, tmp, fetch } = scratch;
        let mut written = false;
        fetch::fetch_each(&expr.fetch, src, false, fetch, &mut |raw| {
            if let Some(v) = convert::apply(raw, &expr.converters, cur, tmp) {
                render_sample_value(&v, flags, out);
                written = true;
            }
            false
        });
        written
    })
}

/// Append one sample value with the flags applied (strings quoted/escaped; numbers and
/// addresses as they are, as HAProxy prints them).
pub fn render_sample_value(v: &Sample<'_>, flags: LogFlags, out: &mut Vec<u8>) {
    match v {
        Sample::Str(s) | Sample::Bin(s) => {
            if flags.quote {
                out.push(b'"');
            }
            if flags.escape {
                for &c in s.iter() {
                    if matches!(c, b'"' | b'\\' | b']') {
                        out.push(b'\\');
                    }
                    out.push(c);
                }
            } else {
                out.extend_from_slice(s);
            }
            if flags.quote {
                out.push(b'"');
            }
        }
        other => other.write_to(out),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testsrc::TestSource;
    use super::*;
    use haproxyrs_config::env::SystemEnv;
    use haproxyrs_config::ir::sample::LogFormatPart;
    use haproxyrs_config::lower::sample::parse_log_format;

    /// Render the `%[...]` parts and literals of a log-format string (variables as `?`).
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
        assert_eq!(render("%{+Q}[path] %ci", &s), "\"/p\" ?");
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
