//! Whole-file behaviour of the preprocessor, each case checked against `haproxy -c` 2.6.

use super::*;
use crate::env::MemoryEnv;

fn parse(text: &str) -> (ConfigAst, Diagnostics) {
    parse_bytes(text.as_bytes())
}

fn parse_bytes(bytes: &[u8]) -> (ConfigAst, Diagnostics) {
    let env = MemoryEnv::new()
        .with_var("HOME", "/root")
        .with_file("c.cfg", bytes.to_vec());
    parse_paths(&["c.cfg".to_string()], &env)
}

fn texts(d: &Diagnostics) -> Vec<String> {
    d.items
        .iter()
        .map(|d| format!("{:?} {}", d.level, d.text))
        .collect()
}

#[test]
fn sections_and_spans() {
    let (ast, d) = parse("global\n  maxconn 10\n\nfrontend fe # x\n  bind \"127.0.0.1:80\"\n");
    assert!(d.items.is_empty(), "{:?}", texts(&d));
    assert_eq!(ast.sections.len(), 2);
    assert_eq!(ast.sections[0].kind, SectionKind::Global);
    assert_eq!(ast.sections[0].lines[0].keyword(), "maxconn");
    let fe = &ast.sections[1];
    assert_eq!(fe.name().unwrap().text, "fe");
    assert_eq!(fe.header.span.line, 4);
    let bind = &fe.lines[0];
    assert_eq!(bind.args()[0].text, "127.0.0.1:80");
    assert_eq!((bind.args()[0].span.line, bind.args()[0].span.col), (5, 8));
    assert_eq!(&*bind.span.file, "c.cfg");
}

#[test]
fn keyword_out_of_section() {
    let (_, d) = parse("  maxconn 10\nglobal\n");
    assert_eq!(
        texts(&d),
        ["Alert parsing [c.cfg:1]: unknown keyword 'maxconn' out of section."]
    );
    let (_, d) = parse("globl\n");
    assert_eq!(d.items[0].help.as_deref(), Some("did you mean 'global'?"));
}

#[test]
fn each_file_starts_outside_any_section() {
    let env = MemoryEnv::new()
        .with_file("a.cfg", "global\n")
        .with_file("b.cfg", "  maxconn 10\n");
    let (ast, d) = parse_paths(&["a.cfg".into(), "b.cfg".into()], &env);
    assert_eq!(ast.sections.len(), 1);
    assert_eq!(
        texts(&d),
        ["Alert parsing [b.cfg:1]: unknown keyword 'maxconn' out of section."]
    );
}

#[test]
fn directory_files_in_bytewise_order() {
    let env = MemoryEnv::new()
        .with_file("d/10-b.cfg", "backend b\n")
        .with_file("d/02-a.cfg", "backend a\n")
        .with_file("d/B.cfg", "backend c\n")
        .with_file("d/.h.cfg", "backend h\n")
        .with_file("d/x.conf", "backend x\n");
    let (ast, d) = parse_paths(&["d/".into()], &env);
    assert!(d.items.is_empty());
    let names: Vec<&str> = ast
        .sections
        .iter()
        .map(|s| s.name().unwrap().text.as_str())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(&*ast.sections[0].header.span.file, "d//02-a.cfg");
}

#[test]
fn missing_file_aborts() {
    let env = MemoryEnv::new().with_file("a.cfg", "global\n");
    let (_, d) = parse_paths(&["/nonexistent.cfg".into(), "a.cfg".into()], &env);
    assert!(d.aborted);
    assert_eq!(
        texts(&d),
        ["Alert Cannot open configuration file/directory /nonexistent.cfg : No such file or directory"]
    );
}

#[test]
fn missing_lf_and_stray_nul() {
    let (ast, d) = parse("global\n  maxconn 10");
    assert_eq!(ast.sections[0].lines.len(), 1);
    assert_eq!(
        texts(&d),
        ["Alert parsing [c.cfg:2]: Missing LF on last line, file might have been truncated at position 13."]
    );
    let (ast, d) = parse_bytes(b"global\n  maxconn 10\x0020\n  maxconn x\n  foo\n");
    assert_eq!(ast.sections[0].lines.len(), 1, "reading stops at the NUL");
    assert_eq!(
        texts(&d),
        ["Alert parsing [c.cfg:2]: Stray NUL character at position 13."]
    );
    let (_, d) = parse_bytes(b".notice \"a\x00b\"\n");
    assert_eq!(
        texts(&d),
        [
            "Alert parsing [c.cfg:1]: unmatched quote at position 9:",
            "Alert parsing [c.cfg:1]: Missing LF on last line, file might have been truncated at position 11."
        ]
    );
}

#[test]
fn message_directives() {
    let (_, d) = parse(".notice \"hello world\"\n.warning w\n.diag x\n.notice\n.alert a\nfoo\n");
    assert_eq!(
        texts(&d),
        [
            "Notice parsing [c.cfg:1]: 'hello world'.",
            "Warning parsing [c.cfg:2]: 'w'.",
            "Diag parsing [c.cfg:3]: 'x'.",
            "Notice parsing [c.cfg:4]: ''.",
            "Alert parsing [c.cfg:5]: 'a'.",
        ]
    );
    assert!(d.aborted, ".alert stops reading");
    let (_, d) = parse(".notice hello world\n.foo\n");
    assert_eq!(
        texts(&d),
        [
            "Alert parsing [c.cfg:1]: Unexpected argument 'world' for '.notice'. Use quotes if the message should contain spaces.",
            "Alert parsing [c.cfg:2]: unknown directive '.foo'.",
        ]
    );
    let (_, d) = parse(".iff 1\n");
    assert_eq!(d.items[0].help.as_deref(), Some("did you mean '.if'?"));
}

#[test]
fn conditional_blocks() {
    let (_, d) = parse(
        ".if 0\n.notice \"a\"\n.elif 1\n.notice \"b\"\n.elif 1\n.notice \"c\"\n.else\n.notice \"d\"\n.endif\n",
    );
    assert_eq!(texts(&d), ["Notice parsing [c.cfg:4]: 'b'."]);
    let (_, d) = parse(".if defined(HOME) && 0\n.notice yes\n.else\n.notice no\n.endif\n");
    assert_eq!(texts(&d), ["Notice parsing [c.cfg:4]: 'no'."]);
    // Skipped regions are lexed but not evaluated.
    let (_, d) = parse(".if 0\n.if x\n.endif\n.foo\n.endif\n.if\n.endif\n");
    assert!(d.items.is_empty(), "{:?}", texts(&d));
    let (_, d) = parse(".if 0\n\"unterminated\n.endif\n");
    assert_eq!(
        texts(&d),
        ["Alert parsing [c.cfg:2]: unmatched quote at position 1:"]
    );
    let (ast, _) = parse(".if streq(\"$HOME\",/root)\nglobal\n.else\ndefaults\n.endif\n");
    assert_eq!(ast.sections.len(), 1);
    assert_eq!(ast.sections[0].kind, SectionKind::Global);
}

#[test]
fn conditional_errors_abort() {
    let cases: &[(&str, &str)] = &[
        (".endif\nfoo\n", "parsing [c.cfg:1]: lone '.endif' with no matching '.if'."),
        (".else\n", "parsing [c.cfg:1]: lone '.else' with no matching '.if'."),
        (".elif 1\n", "parsing [c.cfg:1]: lone '.elif' with no matching '.if'."),
        (".if 1\n.else\n.else\n.endif\n", "parsing [c.cfg:3]: '.else' after '.else' is not permitted."),
        (".if 1\n.else\n.elif 1\n.endif\n", "parsing [c.cfg:3]: '.elif' after '.else' is not permitted."),
        (".if x\nfoo\n.endif\n", "parsing [c.cfg:1]: unparsable conditional expression 'x' in '.if' at position 1:"),
        (".if 1     junk\n.endif\n", "parsing [c.cfg:1]: unexpected character 'j' at the end of conditional expression '1 junk' in '.if' at position 3:"),
        (".if 0\n.elif x\n.endif\n", "parsing [c.cfg:2]: unparsable conditional expression 'x' in '.elif' at position 1:"),
    ];
    for (text, want) in cases {
        let (_, d) = parse(text);
        assert!(d.aborted, "{text:?}");
        assert_eq!(texts(&d), [format!("Alert {want}")], "{text:?}");
    }
    let (_, d) = parse(".if 1\n.endif junk\nfoo\n.endif\n");
    assert_eq!(
        texts(&d),
        [
            "Alert parsing [c.cfg:2]: Unexpected argument 'junk' for '.endif'.",
            "Alert parsing [c.cfg:2]: non-terminated '.if' block.",
        ]
    );
    let (_, d) = parse(".if 1\nglobal\n\n");
    assert_eq!(
        texts(&d),
        ["Alert parsing [c.cfg:3]: non-terminated '.if' block."]
    );
    let nested = ".if 1\n".repeat(200) + &".endif\n".repeat(200);
    let (_, d) = parse(&nested);
    assert_eq!(
        texts(&d),
        ["Alert parsing [c.cfg:100]: too many nested '.if', max is 100."]
    );
}

#[test]
fn condition_error_caret_column() {
    let (_, d) = parse(".if defined(HOME) && nope()\n.endif\n");
    let span = d.items[0].span.clone().unwrap();
    assert_eq!(span.col, 22);
}

#[test]
fn default_values_and_the_haproxy_2_6_buffer_growth_quirk() {
    // Works on an ordinary line...
    let (ast, d) = parse("global\n  node \"${NOPE-x}\"\n");
    assert!(d.items.is_empty(), "{:?}", texts(&d));
    assert_eq!(ast.sections[0].lines[0].args()[0].text, "x");
    // ...but not on a file's first line, nor on a line that grows the buffer past 1 KB.
    let (_, d) = parse(".notice \"${NOPE-def}\"\n");
    assert_eq!(
        texts(&d),
        ["Alert parsing [c.cfg:1]: unmatched brace in environment variable name at position 11:"]
    );
    let ok = format!("global\n.notice \"{}${{NOPE-x}}\"\n", "a".repeat(1014));
    assert_eq!(
        texts(&parse(&ok).1),
        [format!(
            "Notice parsing [c.cfg:2]: '{}x'.",
            "a".repeat(1014)
        )]
    );
    let ko = format!("global\n.notice \"{}${{NOPE-x}}\"\n", "a".repeat(1015));
    assert_eq!(
        texts(&parse(&ko).1),
        ["Alert parsing [c.cfg:2]: unmatched brace in environment variable name at position 1026:"]
    );
}

#[test]
fn lex_errors_are_reported_with_their_column() {
    let (_, d) = parse("global\n  log \"${NOPE-x\" local0\n");
    assert_eq!(
        texts(&d),
        ["Alert parsing [c.cfg:2]: unmatched brace in environment variable name at position 9:"]
    );
    assert_eq!(d.items[0].span.as_ref().unwrap().col, 9);
}

#[test]
fn eval_condition_for_cc() {
    let env = MemoryEnv::new();
    assert_eq!(eval_condition("1", &env), Ok(true));
    assert_eq!(eval_condition("", &env), Ok(false));
    assert_eq!(
        eval_condition("x", &env),
        Err("unparsable conditional expression 'x'".into())
    );
}

#[test]
fn edit_distance_basics() {
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("globl", "global"), 1);
    assert_eq!(edit_distance("same", "same"), 0);
}
