//! ACL terms: `acl NAME criterion [flags] [operator] pattern…` and anonymous `{ … }` ACLs
//! → [`AclTerm`], with patterns compiled once (lower-cased for `-i`, hashed when many,
//! regexes built, integers and IP networks parsed). Also `-f FILE` pattern files and the
//! pattern tables of `map*` converters. Names are collected per proxy in [`AclScope`].

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use crate::ast::Word;
use crate::diag::{Diagnostic, Diagnostics, Level};
use crate::env::Environment;
use crate::ir::sample::{
    Acl, AclId, AclTerm, Fetch, IntRange, IpNet, MatchMethod, NetPatterns, Patterns, SampleType,
    StrPatterns,
};
use crate::span::Span;

use super::fetch::{self, ExprContext};

/// The named ACLs of one proxy, in declaration order. Conditions may only use the ACLs
/// declared above them, as in HAProxy.
#[derive(Clone, Debug, Default)]
pub struct AclScope {
    pub acls: Vec<Acl>,
}

impl AclScope {
    /// Add one declaration line; lines with the same name are OR'ed into one ACL.
    pub fn declare(&mut self, name: &str, term: AclTerm) -> AclId {
        if let Some(id) = self.lookup(name) {
            self.acls[id.0].terms.push(term);
            return id;
        }
        self.acls.push(Acl {
            name: name.to_string(),
            terms: vec![term],
        });
        AclId(self.acls.len() - 1)
    }

    pub fn lookup(&self, name: &str) -> Option<AclId> {
        self.acls.iter().position(|a| a.name == name).map(AclId)
    }

    pub fn into_acls(self) -> Vec<Acl> {
        self.acls
    }
}

/// `acl NAME …`: `args` are the words after `acl`. Errors are HAProxy's ALERTs
/// (`error detected while parsing ACL 'a' : …`); warnings go to `diags`.
pub fn parse_acl_line(
    args: &[Word],
    line_span: &Span,
    env: &dyn Environment,
    diags: &mut Diagnostics,
) -> Result<(String, AclTerm), Diagnostic> {
    let Some(name) = args.first() else {
        // HAProxy reports the empty name's terminating NUL as the bad character (its
        // message stops there); keep the same start.
        return Err(Diagnostic::alert(
            line_span,
            "character '' is not permitted in acl name ''.",
        ));
    };
    if let Some(bad) = name.text.chars().find(|c| !valid_acl_name_char(*c)) {
        return Err(Diagnostic::alert(
            &name.span,
            format!(
                "character '{bad}' is not permitted in acl name '{}'.",
                name.text
            ),
        ));
    }
    if args.len() < 2 {
        return Err(Diagnostic::alert(
            &name.span,
            format!(
                "error detected while parsing ACL '{}' : missing fetch method in ACL expression ''.",
                name.text
            ),
        ));
    }
    let term = parse_acl_term(&args[1..], env, diags).map_err(|(msg, span)| {
        Diagnostic::alert(
            &span,
            format!("error detected while parsing ACL '{}' : {msg}", name.text),
        )
    })?;
    Ok((name.text.clone(), term))
}

fn valid_acl_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')
}

/// A criterion with its flags and patterns (`path_beg -i /a /b`, the inside of `{ … }`).
/// `Err` holds the inner message (after `… ACL 'a' : `) and the word it is about.
pub fn parse_acl_term(
    words: &[Word],
    env: &dyn Environment,
    diags: &mut Diagnostics,
) -> Result<AclTerm, (String, Span)> {
    let crit = &words[0];
    let (parsed, implied) = fetch::parse_expr_prefix(&crit.text, env, true)
        .map_err(|e| (e.render(ExprContext::Acl, &crit.text), crit.span.clone()))?;
    if parsed.consumed != crit.text.len() {
        // `path(` junk: HAProxy complains about the missing parenthesis or converter.
        let rest = &crit.text[parsed.consumed..];
        return Err((
            format!(
                "ACL keyword '{}' : expected ')' before '{rest}'.",
                crit.text.split(['(', ',', ')']).next().unwrap_or_default()
            ),
            crit.span.clone(),
        ));
    }
    let keyword: String = crit
        .text
        .split(['(', ','])
        .next()
        .unwrap_or_default()
        .to_string();
    let expr = parsed.expr;
    let mut method = implied.unwrap_or_else(|| fetch::default_match(&expr));
    let mut ignore_case = false;
    let mut no_dns = false;
    // `-M`: the `-f` files are maps (`key value`); only the keys are patterns.
    let mut map_file = false;
    let mut files: Vec<&Word> = Vec::new();
    let mut i = 1;
    while i < words.len() {
        let w = &words[i];
        if !w.text.starts_with('-') {
            break;
        }
        match w.text.as_str() {
            "-i" => ignore_case = true,
            "-n" => no_dns = true,
            "-M" => map_file = true,
            "--" => {
                i += 1;
                break;
            }
            "-m" => {
                i += 1;
                let m = words.get(i).map(|w| w.text.as_str()).unwrap_or("");
                method = MatchMethod::from_name(m).ok_or_else(|| {
                    (
                        format!("unknown matching method '{m}' when parsing ACL expression."),
                        words.get(i).unwrap_or(w).span.clone(),
                    )
                })?;
            }
            "-f" => {
                i += 1;
                match words.get(i) {
                    Some(f) => files.push(f),
                    // HAProxy tries to open the empty name.
                    None => {
                        return Err((
                            "failed to open pattern file <>.".to_string(),
                            w.span.clone(),
                        ))
                    }
                }
            }
            "-u" => {
                i += 1;
                if let Some(id) = words.get(i) {
                    if id.text.parse::<i64>().is_err() {
                        return Err((
                            "the argument of -u must be an integer.".to_string(),
                            id.span.clone(),
                        ));
                    }
                }
            }
            other => {
                return Err((
                    format!(
                        "'{other}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'."
                    ),
                    w.span.clone(),
                ))
            }
        }
        i += 1;
    }

    // Pattern texts: from files first (in order), then the line's own words.
    let mut texts: Vec<(String, Span)> = Vec::new();
    for f in &files {
        let data = env.read_file(Path::new(&f.text)).map_err(|_| {
            (
                format!("failed to open pattern file <{}>.", f.text),
                f.span.clone(),
            )
        })?;
        for line in pattern_file_lines(&data) {
            let line = if map_file {
                line.split([' ', '\t']).next().unwrap_or(line)
            } else {
                line
            };
            texts.push((line.to_string(), f.span.clone()));
        }
    }
    let pattern_words = &words[i.min(words.len())..];
    for w in pattern_words {
        texts.push((w.text.clone(), w.span.clone()));
    }

    if words.len() == 1 && expr.output_type() != SampleType::Bool {
        // The multi-line warning HAProxy prints without a file:line prefix.
        diags.push(Diagnostic {
            level: Level::Warning,
            text: format!(
                "parsing acl keyword '{keyword}' :\n  no pattern to match against were provided, so this ACL will never match.\n  If this is what you intended, please add '--' to get rid of this warning.\n  If you intended to match only for existence, please use '-m found'.\n  If you wanted to force an int to match as a bool, please use '-m bool'."
            ),
            span: Some(crit.span.clone()),
            help: None,
            unimplemented: false,
        });
    }

    let mut patterns = compile_patterns(&texts, method, ignore_case, no_dns, env, true)?;
    if matches!(expr.fetch, Fetch::Method) && method == MatchMethod::Str {
        // Method patterns keep their case: known methods compare exactly even with -i.
        patterns = Patterns::Strings(StrPatterns {
            items: texts
                .iter()
                .map(|(t, _)| t.as_bytes().to_vec().into_boxed_slice())
                .collect(),
            ignore_case,
            set: None,
        });
    }
    for what in fetch::unimplemented_parts(&expr) {
        diags.push(Diagnostic::unimplemented(&crit.span, what));
    }
    Ok(AclTerm {
        sample: expr,
        method,
        ignore_case,
        patterns,
        keyword,
        span: crit.span.clone(),
    })
}

/// The pattern lines of a `-f` file: one pattern a line, leading blanks skipped, `#`
/// comment lines and empty lines ignored, trailing blanks and CR removed.
fn pattern_file_lines(data: &[u8]) -> impl Iterator<Item = &str> {
    data.split(|b| *b == b'\n').filter_map(|raw| {
        let line = std::str::from_utf8(raw).ok()?;
        let line = line.trim_start_matches([' ', '\t']);
        if line.starts_with('#') {
            return None;
        }
        let line = line.trim_end_matches([' ', '\t', '\r']);
        (!line.is_empty()).then_some(line)
    })
}

/// Compile pattern texts for a match method. `ops` enables the `lt/le/gt/ge/eq` words.
fn compile_patterns(
    texts: &[(String, Span)],
    method: MatchMethod,
    ignore_case: bool,
    no_dns: bool,
    env: &dyn Environment,
    ops: bool,
) -> Result<Patterns, (String, Span)> {
    Ok(match method {
        MatchMethod::Found | MatchMethod::Bool => Patterns::None,
        MatchMethod::Str
        | MatchMethod::Beg
        | MatchMethod::End
        | MatchMethod::Sub
        | MatchMethod::Dom
        | MatchMethod::Dir => Patterns::Strings(StrPatterns::new(
            texts.iter().map(|(t, _)| t.clone().into_bytes()).collect(),
            ignore_case,
            method == MatchMethod::Str,
        )),
        MatchMethod::Reg => {
            let mut v = Vec::with_capacity(texts.len());
            for (t, span) in texts {
                let re = regex::bytes::RegexBuilder::new(t)
                    .case_insensitive(ignore_case)
                    .build()
                    .map_err(|e| (format!("{}.", fetch::regex_error(t, &e)), span.clone()))?;
                v.push(re);
            }
            Patterns::Regexes(v)
        }
        MatchMethod::Int | MatchMethod::Len => {
            let mut v = Vec::with_capacity(texts.len());
            let mut op: Option<&str> = None;
            for (t, span) in texts {
                if ops && matches!(t.as_str(), "eq" | "lt" | "le" | "gt" | "ge") {
                    op = Some(t.as_str());
                    continue;
                }
                v.push(
                    parse_int_pattern(t, op)
                        .ok_or_else(|| (format!("'{t}' is not a number."), span.clone()))?,
                );
            }
            Patterns::Ints(v)
        }
        MatchMethod::Ip => {
            let mut v = Vec::with_capacity(texts.len());
            for (t, span) in texts {
                let nets = parse_net(t, no_dns, env).ok_or_else(|| {
                    (
                        format!("'{t}' is not a valid IPv4 or IPv6 address."),
                        span.clone(),
                    )
                })?;
                v.extend(nets);
            }
            Patterns::Nets(NetPatterns::new(v))
        }
        MatchMethod::Bin => {
            let mut v = Vec::with_capacity(texts.len());
            for (t, span) in texts {
                v.push(hex_decode(t).map_err(|m| (m, span.clone()))?);
            }
            Patterns::Bins(v)
        }
    })
}

/// `N`, `A:B`, `A:`, `:B`, or `N` after an operator word.
fn parse_int_pattern(t: &str, op: Option<&str>) -> Option<IntRange> {
    let num = |s: &str| -> Option<i64> { s.parse::<i64>().ok() };
    // A range ignores a pending operator (HAProxy: `gt 10 1:5` matches 4).
    if let (Some(op), false) = (op, t.contains(':')) {
        let n = num(t)?;
        return Some(match op {
            "lt" => IntRange {
                lo: None,
                hi: Some(n.checked_sub(1)?),
            },
            "le" => IntRange {
                lo: None,
                hi: Some(n),
            },
            "gt" => IntRange {
                lo: Some(n.checked_add(1)?),
                hi: None,
            },
            "ge" => IntRange {
                lo: Some(n),
                hi: None,
            },
            _ => IntRange {
                lo: Some(n),
                hi: Some(n),
            },
        });
    }
    match t.split_once(':') {
        Some((a, b)) => {
            let lo = if a.is_empty() { None } else { Some(num(a)?) };
            let hi = if b.is_empty() { None } else { Some(num(b)?) };
            if lo.is_none() && hi.is_none() {
                return None;
            }
            Some(IntRange { lo, hi })
        }
        None => {
            let n = num(t)?;
            Some(IntRange {
                lo: Some(n),
                hi: Some(n),
            })
        }
    }
}

/// An address or network: IPv4 (inet_aton forms too: `10.1` = 10.0.0.1) with `/len` or a
/// dotted mask, IPv6 with `/len`, or a host name resolved at load unless `-n`.
pub fn parse_net(t: &str, no_dns: bool, env: &dyn Environment) -> Option<Vec<IpNet>> {
    let (addr, mask) = match t.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (t, None),
    };
    if let Ok(v6) = addr.parse::<std::net::Ipv6Addr>() {
        let prefix = match mask {
            Some(m) => m.parse::<u8>().ok().filter(|p| *p <= 128)?,
            None => 128,
        };
        return Some(vec![IpNet {
            addr: IpAddr::V6(v6),
            prefix,
        }]);
    }
    let v4 = match inet_aton(addr) {
        Some(a) => a,
        None => {
            if no_dns || mask.is_some() || addr.is_empty() {
                return None;
            }
            let ips = env.resolve(addr)?;
            return Some(
                ips.into_iter()
                    .map(|ip| IpNet {
                        addr: ip,
                        prefix: if ip.is_ipv4() { 32 } else { 128 },
                    })
                    .collect(),
            );
        }
    };
    let prefix = match mask {
        None => 32,
        Some(m) if m.contains('.') => {
            let bits = u32::from(inet_aton(m)?);
            // A dotted mask must be contiguous ones.
            if bits.leading_ones() + bits.trailing_zeros() != 32 {
                return None;
            }
            bits.leading_ones() as u8
        }
        Some(m) => m.parse::<u8>().ok().filter(|p| *p <= 32)?,
    };
    Some(vec![IpNet {
        addr: IpAddr::V4(v4),
        prefix,
    }])
}

/// inet_aton(3): `a`, `a.b`, `a.b.c`, `a.b.c.d`, each part decimal, octal or hex.
fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    if s.is_empty() {
        return None;
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut vals = Vec::with_capacity(4);
    for p in &parts {
        let v = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            u32::from_str_radix(h, 16).ok()?
        } else if p.len() > 1 && p.starts_with('0') {
            u32::from_str_radix(&p[1..], 8).ok()?
        } else {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse::<u32>().ok()?
        };
        vals.push(v);
    }
    let n = vals.len();
    let mut addr: u32 = 0;
    for (i, v) in vals.iter().enumerate() {
        if i + 1 < n {
            if *v > 255 {
                return None;
            }
            addr |= v << (24 - 8 * i);
        } else {
            let bits = 32 - 8 * (n as u32 - 1);
            if bits < 32 && *v >= (1u32 << bits) {
                return None;
            }
            addr |= v;
        }
    }
    Some(Ipv4Addr::from(addr))
}

/// `-m bin` patterns: hex digits, two per byte (HAProxy's messages).
fn hex_decode(t: &str) -> Result<Vec<u8>, String> {
    if !t.len().is_multiple_of(2) {
        return Err("an even number of hex digit is expected.".into());
    }
    if let Some(bad) = t.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("an hex digit is expected (found '{bad}')."));
    }
    Ok((0..t.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&t[i..i + 2], 16).ok())
        .collect())
}

/// A map file (`key value` per line) compiled for a `map*` converter: the key patterns
/// and, in the same order, their values.
pub fn compile_map(
    data: &[u8],
    method: MatchMethod,
    file: &str,
) -> Result<(Patterns, Vec<String>), String> {
    struct NoEnv;
    impl Environment for NoEnv {
        fn var(&self, _: &str) -> Option<String> {
            None
        }
        fn read_file(&self, _: &Path) -> std::io::Result<Vec<u8>> {
            Err(std::io::ErrorKind::NotFound.into())
        }
        fn stat(&self, _: &Path) -> std::io::Result<()> {
            Err(std::io::ErrorKind::NotFound.into())
        }
        fn config_dir(&self, _: &Path) -> Option<std::io::Result<Vec<String>>> {
            None
        }
        fn resolve(&self, _: &str) -> Option<Vec<IpAddr>> {
            None
        }
        fn user_exists(&self, _: &str) -> bool {
            false
        }
        fn group_exists(&self, _: &str) -> bool {
            false
        }
    }
    let span = Span::new(file.into(), 0, 0);
    let mut keys = Vec::new();
    let mut values = Vec::new();
    for line in pattern_file_lines(data) {
        let (k, v) = match line.find([' ', '\t']) {
            Some(p) => (&line[..p], line[p..].trim_start_matches([' ', '\t'])),
            None => (line, ""),
        };
        keys.push((k.to_string(), span.clone()));
        values.push(v.to_string());
    }
    let patterns =
        compile_patterns(&keys, method, false, true, &NoEnv, false).map_err(|(msg, _)| msg)?;
    Ok((patterns, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::sample::test_env::{words, FakeEnv};

    fn term(line: &str) -> Result<AclTerm, String> {
        let env = FakeEnv::default()
            .with_file("/pats", "# comment\n  /a \n\n/b\r\n")
            .with_file("/map", "/a be1\n/b   be2\n")
            .with_host("web.local", "192.0.2.7");
        let mut diags = Diagnostics::default();
        parse_acl_term(&words(line), &env, &mut diags).map_err(|(m, _)| m)
    }

    #[test]
    fn suffix_keywords_and_flags() {
        let t = term("path_beg -i /App /Static").unwrap();
        assert_eq!(t.method, MatchMethod::Beg);
        assert!(t.ignore_case);
        match &t.patterns {
            Patterns::Strings(s) => assert_eq!(&*s.items[0], b"/app"),
            other => panic!("{other:?}"),
        }
        let t = term("hdr(host) -m dom example.com").unwrap();
        assert_eq!(t.method, MatchMethod::Dom);
        let t = term("src 10.0.0.0/8 ::1 192.168.0.0/255.255.0.0 10.1 web.local").unwrap();
        match &t.patterns {
            Patterns::Nets(n) => {
                let n = &n.nets;
                assert_eq!(n.len(), 5);
                assert_eq!(n[2].prefix, 16);
                assert_eq!(n[3].addr, "10.0.0.1".parse::<IpAddr>().unwrap());
                assert_eq!(n[4].addr, "192.0.2.7".parse::<IpAddr>().unwrap());
            }
            other => panic!("{other:?}"),
        }
        assert!(term("src -n web.local").is_err());
        let t = term("path -f /pats /c").unwrap();
        match &t.patterns {
            Patterns::Strings(s) => {
                let v: Vec<&[u8]> = s.items.iter().map(|b| &**b).collect();
                assert_eq!(v, vec![&b"/a"[..], b"/b", b"/c"]);
            }
            other => panic!("{other:?}"),
        }
        let t = term("path -M -f /map").unwrap();
        match &t.patterns {
            Patterns::Strings(s) => assert_eq!(&*s.items[1], b"/b"),
            other => panic!("{other:?}"),
        }
        let t = term("path -- -x").unwrap();
        assert_eq!(t.patterns.len(), 1);
    }

    #[test]
    fn int_operators_and_ranges() {
        let t = term("src_port gt 1024 eq 80 1:5 :3 7:").unwrap();
        match &t.patterns {
            Patterns::Ints(v) => {
                assert_eq!(
                    v[0],
                    IntRange {
                        lo: Some(1025),
                        hi: None
                    }
                );
                // The operator stays in force for the following values, as in HAProxy.
                assert_eq!(
                    v[1],
                    IntRange {
                        lo: Some(80),
                        hi: Some(80)
                    }
                );
            }
            other => panic!("{other:?}"),
        }
        let t = term("path_len lt 3").unwrap();
        match &t.patterns {
            Patterns::Ints(v) => assert_eq!(
                v[0],
                IntRange {
                    lo: None,
                    hi: Some(2)
                }
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_match_haproxy() {
        assert_eq!(
            term("foo(x) bar").unwrap_err(),
            "unknown fetch method 'foo' in ACL expression 'foo(x)'."
        );
        assert_eq!(
            term("path,foo bar").unwrap_err(),
            "ACL keyword 'path' : unknown converter 'foo'.."
        );
        assert_eq!(
            term("path -m foo bar").unwrap_err(),
            "unknown matching method 'foo' when parsing ACL expression."
        );
        assert_eq!(
            term("path -m").unwrap_err(),
            "unknown matching method '' when parsing ACL expression."
        );
        assert_eq!(
            term("path -x bar").unwrap_err(),
            "'-x' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'."
        );
        assert_eq!(
            term("hdr_cnt(host) abc").unwrap_err(),
            "'abc' is not a number."
        );
        assert_eq!(
            term("src 1.2.3.4/33").unwrap_err(),
            "'1.2.3.4/33' is not a valid IPv4 or IPv6 address."
        );
        assert_eq!(
            term("path -f /nonexist").unwrap_err(),
            "failed to open pattern file </nonexist>."
        );
        assert_eq!(
            term("hdr(host,x) foo").unwrap_err(),
            "ACL keyword 'hdr' : failed to parse 'x' as type 'integer' at position 2."
        );
        assert_eq!(
            term("path(x) foo").unwrap_err(),
            "ACL keyword 'path' : expected ')' before 'x)'."
        );
        assert_eq!(
            term("path -u x /x").unwrap_err(),
            "the argument of -u must be an integer."
        );
        assert!(term("path_reg (")
            .unwrap_err()
            .starts_with("regex '(' is invalid (error="));
    }

    #[test]
    fn no_pattern_warning() {
        let env = FakeEnv::default();
        let mut diags = Diagnostics::default();
        parse_acl_term(&words("path"), &env, &mut diags).unwrap();
        assert!(diags.items[0]
            .text
            .starts_with("parsing acl keyword 'path' :\n  no pattern to match"));
        let mut diags = Diagnostics::default();
        parse_acl_term(&words("path -i"), &env, &mut diags).unwrap();
        parse_acl_term(&words("ssl_fc"), &env, &mut diags).unwrap();
        assert!(diags.items.is_empty());
    }

    #[test]
    fn acl_line_names() {
        let env = FakeEnv::default();
        let mut diags = Diagnostics::default();
        let err = parse_acl_line(&words("a$ path /x"), &words("x")[0].span, &env, &mut diags)
            .unwrap_err();
        assert!(err
            .text
            .ends_with(": character '$' is not permitted in acl name 'a$'."));
        let err =
            parse_acl_line(&words("a foo"), &words("x")[0].span, &env, &mut diags).unwrap_err();
        assert!(err.text.ends_with(
            ": error detected while parsing ACL 'a' : unknown fetch method 'foo' in ACL expression 'foo'."
        ));
    }

    #[test]
    fn inet_aton_forms() {
        assert_eq!(inet_aton("10"), Some(Ipv4Addr::new(0, 0, 0, 10)));
        assert_eq!(inet_aton("10.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(inet_aton("127.1.2"), Some(Ipv4Addr::new(127, 1, 0, 2)));
        assert_eq!(inet_aton("1.2.3.256"), None);
        assert_eq!(inet_aton("a.b"), None);
    }

    #[test]
    fn maps_compile() {
        let (p, v) = compile_map(
            b"# c\nexample.com be1\n  api.example.com  be2\n",
            MatchMethod::Str,
            "m",
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(v, vec!["be1".to_string(), "be2".to_string()]);
    }
}
