//! The preprocessor against HAProxy 2.6, word for word: each case is a line placed in a
//! small config; `.notice`/`.warning` print the words HAProxy produced, so comparing the
//! message lines of `haproxy -c` and `haproxyrs -c` compares quoting, escapes, variable
//! expansion, `.if` evaluation and error positions. Without haproxy the cases still run
//! against haproxyrs alone (no panic, an exit code) and the comparison is skipped loudly.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::haproxy::{haproxy_available, haproxy_path};
use crate::support::tempdir::TempDir;

/// Lines that both programs print about the config, with the pid blanked out. The
/// version/path NOTICEs name each program, so they are left out.
fn config_lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.starts_with('['))
        .filter(|l| !l.contains(" version is ") && !l.contains("path to executable"))
        .map(|l| match (l.find('('), l.find(')')) {
            (Some(a), Some(b)) if a < b => format!("{}(PID){}", &l[..a], &l[b + 1..]),
            _ => l.to_string(),
        })
        .collect()
}

fn run(bin: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("FOO", "bar")
        .env("EMPTY", "")
        .env("SP", " a  b ")
        .env_remove("NOPE")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()))
}

/// Run every config through both programs and compare exit code, stdout and messages.
fn compare_all(cases: &[String]) {
    let dir = TempDir::new("preprocess");
    let ours = Path::new(env!("CARGO_BIN_EXE_haproxyrs"));
    let reference = if haproxy_available("preprocess differential") {
        haproxy_path()
    } else {
        None
    };
    let mut failures = Vec::new();
    for (i, text) in cases.iter().enumerate() {
        let name = format!("p{i}.cfg");
        dir.write(&name, text);
        let args = ["-c", "-f", name.as_str()];
        let mine = run(ours, dir.path(), &args);
        assert!(
            mine.status.code().is_some(),
            "haproxyrs crashed on {text:?}"
        );
        let Some(h) = &reference else { continue };
        let theirs = run(h, dir.path(), &args);
        let same = mine.status.code() == theirs.status.code()
            && mine.stdout == theirs.stdout
            && config_lines(&mine) == config_lines(&theirs);
        if !same {
            failures.push(format!(
                "case {text:?}\n  haproxy   rc={:?} {:#?}\n  haproxyrs rc={:?} {:#?}",
                theirs.status.code(),
                config_lines(&theirs),
                mine.status.code(),
                config_lines(&mine)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Each line is placed on line 2 (after `global`), where HAProxy's first-line quirk
/// does not apply.
fn on_line_two(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|l| format!("global\n{l}\n")).collect()
}

#[test]
fn words_quotes_escapes_and_variables() {
    compare_all(&on_line_two(&[
        r#".notice a\ b"#,
        r#".notice a\#b"#,
        r#".notice a\'b"#,
        r#".notice a\"b"#,
        r#".notice a\\b"#,
        r#".notice a\qb"#,
        r#".notice a\x41b"#,
        r#".notice a\$b"#,
        r#".notice "a\$b""#,
        r#".notice a\x00b"#,
        r#".notice "a\x00b" c"#,
        r#".notice "\x20""#,
        r#".notice a\e"#,
        r#".notice "\\'""#,
        r#".notice "${FOO}\x41""#,
        r#".notice a\x4"#,
        r#".notice a\xZZ"#,
        r#".notice a\tb"#,
        r#".notice 'a\tb'"#,
        r#".notice "a\tb""#,
        r#".notice ${FOO}x"#,
        r#".notice '$FOO'"#,
        r#".notice "$FOO""#,
        r#".notice "$FOO.x""#,
        r#".notice "$FOOx""#,
        r#".notice "${FOO}${FOO}""#,
        r#".notice "${NOPE}" x"#,
        r#".notice "${NOPE-def}""#,
        r#".notice "${EMPTY-def}""#,
        r#".notice "${FOO-def}""#,
        r#".notice "${NOPE-a}b}""#,
        r#".notice "${NOPE:-def}""#,
        r#".notice "x${SP[*]}y""#,
        r#".notice "${SP[*]}" x"#,
        r#".notice "${FOO[x]}""#,
        r#".notice "$""#,
        r#".notice "${""#,
        r#".notice "${FOO""#,
        r#".notice "$1""#,
        r#".notice "${ FOO}""#,
        r#".notice a#b"#,
        r#".notice "a#b""#,
        r#".notice a"b c"d"#,
        r#".notice """#,
        r#".notice "" x"#,
        r#".notice "unterminated"#,
        r#".notice 'unterminated"#,
        r#".notice a\"#,
        r#"'.notice' x"#,
        ".notice a\x0bb",
        ".notice ab\rcd",
        r#".warning "w""#,
        r#".diag "d""#,
        r#".alert "a""#,
        r#".bogus x"#,
        "  maxconn 10",
    ]));
}

#[test]
fn conditions() {
    compare_all(&[
        ".if defined(FOO) && 1\n.notice \"yes\"\n.endif\n".into(),
        ".if defined(FOO) && 0\n.notice \"a\"\n.elif streq(\"$FOO\",bar)\n.notice \"b\"\n.else\n.notice \"c\"\n.endif\n".into(),
        ".if !defined(NOPE) || feature(OPENSSL_NOPE)\n.notice \"n\"\n.endif\n".into(),
        ".if version_atleast(2.6) && version_before(2.7)\n.notice \"2.6\"\n.endif\n".into(),
        ".if (0 || 1) && !0\n.notice \"p\"\n.endif\n".into(),
        ".if 0\n.if x\n.endif\n.bogus\n.endif\n".into(),
        ".if x\nfoo\n.endif\n".into(),
        ".if 1 junk\n.endif\n".into(),
        ".if defined(FOO) && nope()\n.endif\n".into(),
        ".if 0\n.elif x\n.endif\n".into(),
        ".endif\nfoo\n".into(),
        ".else\n".into(),
        ".elif 1\n".into(),
        ".if 1\n.else\n.else\n.endif\n".into(),
        ".if 1\n.else\n.elif 1\n.endif\n".into(),
        ".if 1\nglobal\n\n".into(),
        ".if 1\n.endif junk\nfoo\n.endif\n".into(),
        ".if 1\n.else junk\n.endif\n".into(),
        ".if streq(a)\n.endif\n".into(),
        ".if\n.endif\n".into(),
        ".if streq(\"a b\",\"a b\")\n.notice \"q\"\n.endif\n".into(),
        ".if strneq(x, x)\n.notice \"sp\"\n.endif\n".into(),
        ".if 'streq(a,a)' && \"!0\"\n.notice \"qq\"\n.endif\n".into(),
        ".if defined(FOO)\n.if 0\n.notice \"no\"\n.elif 1\n.notice \"nested\"\n.endif\n.else\n.notice \"x\"\n.endif\n".into(),
        ".if 0\n.elif 0\n.else\n.notice \"else\"\n.endif\n".into(),
        ".if version_atleast(2.6.13)\n.notice \"new\"\n.elif version_before(2.6)\n.notice \"old\"\n.else\n.notice \"2.6.12\"\n.endif\n".into(),
        ".if 1\n".repeat(120) + &".endif\n".repeat(120),
    ]);
}

#[test]
fn files_lines_and_bytes() {
    compare_all(&[
        "global\n  maxconn 10".into(),
        "global\n  maxconn 10\0 20\n  foo\n".into(),
        "global\n  maxconn 10\0 20\n".into(),
        ".notice \"${NOPE-x}\"\n".into(),
        format!("global\n.notice \"{}${{NOPE-x}}\"\n", "a".repeat(1014)),
        format!("global\n.notice \"{}${{NOPE-x}}\"\n", "a".repeat(1015)),
        format!(
            ".notice {}\n",
            (0..70)
                .map(|i| format!("w{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        "foo bar\n".into(),
        "".into(),
        "# only a comment\n\n   \n".into(),
        "global\r\n.notice \"crlf\"\r\n".into(),
        // Reading stops after 50 lines with errors (parser and keyword errors alike).
        format!(
            "global\n{}{}# next\n  more\n",
            "  bad \"quote\n".repeat(30),
            "  bogus\n".repeat(20)
        ),
        format!("global\n{}", "  bogus\n".repeat(50)),
        format!("global\n{}", "  bogus\n".repeat(49)),
        // Preprocessor and keyword messages interleave line by line, as HAProxy reads.
        "global\n  foo\n  maxconn 10\n  bar".into(),
        "global\n  foo\n.notice \"between\"\n  bar \"x\\x4\"\n  baz\n".into(),
    ]);
}
