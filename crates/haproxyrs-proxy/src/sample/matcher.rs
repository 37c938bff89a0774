//! Pattern matching: one sample against an ACL term's compiled patterns, per match method
//! (`str beg end sub reg dom dir len found ip int bool bin`) and `-i`. Case-insensitive
//! comparisons lower the sample byte by byte (the patterns were lowered at load): no copy.

use std::net::IpAddr;

use haproxyrs_config::ir::sample::{str_hash, MatchMethod, Patterns, StrPatterns};

use super::source::{int_to_buf, Sample};

/// Whether `sample` matches any pattern.
pub fn matches(patterns: &Patterns, method: MatchMethod, sample: &Sample<'_>) -> bool {
    match method {
        MatchMethod::Found => true,
        MatchMethod::Bool => sample.as_bool(),
        _ => find_pattern(patterns, method, sample).is_some(),
    }
}

/// The methods HAProxy knows by name (compared case-sensitively).
const KNOWN_METHODS: [&[u8]; 8] = [
    b"OPTIONS", b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"TRACE", b"CONNECT",
];

/// HAProxy's method matching: a known method matches only the same known method, exactly
/// (whatever `-i` says); other methods compare as strings, honouring `-i`. The patterns of
/// a `method` term are kept in their original case by lowering for this.
pub fn matches_method(patterns: &Patterns, sample: &Sample<'_>) -> bool {
    let (Patterns::Strings(sp), Some(m)) = (patterns, sample.bytes()) else {
        return false;
    };
    let known = |b: &[u8]| KNOWN_METHODS.contains(&b);
    if known(m) {
        return sp.items.iter().any(|p| &**p == m);
    }
    sp.items.iter().any(|p| {
        !known(p)
            && if sp.ignore_case {
                p.eq_ignore_ascii_case(m)
            } else {
                &**p == m
            }
    })
}

/// The index of the pattern `sample` matches (maps need which one): the first in order,
/// except for exact strings (any equal one) and addresses (the longest network).
pub fn find_pattern(
    patterns: &Patterns,
    method: MatchMethod,
    sample: &Sample<'_>,
) -> Option<usize> {
    match (method, patterns) {
        (MatchMethod::Found, _) => Some(0),
        (MatchMethod::Bool, _) => sample.as_bool().then_some(0),
        (MatchMethod::Int, Patterns::Ints(ranges)) => {
            let v = sample.as_int()?;
            ranges.iter().position(|r| r.contains(v))
        }
        (MatchMethod::Len, Patterns::Ints(ranges)) => {
            let mut buf = [0u8; 48];
            let v = sample_text(sample, &mut buf)?.len() as i64;
            ranges.iter().position(|r| r.contains(v))
        }
        (MatchMethod::Ip, Patterns::Nets(nets)) => {
            let ip: IpAddr = sample.as_ip()?;
            nets.find(ip)
        }
        (MatchMethod::Reg, Patterns::Regexes(res)) => {
            let mut buf = [0u8; 48];
            let t = sample_text(sample, &mut buf)?;
            res.iter().position(|re| re.is_match(t))
        }
        (MatchMethod::Bin, Patterns::Bins(bins)) => {
            let t = sample.bytes()?;
            bins.iter().position(|b| b.as_slice() == t)
        }
        (_, Patterns::Strings(sp)) => match sample {
            // The common case needs no formatting buffer.
            Sample::Str(t) | Sample::Bin(t) => match_str(sp, method, t),
            other => {
                let mut buf = [0u8; 48];
                let t = sample_text(other, &mut buf)?;
                match_str(sp, method, t)
            }
        },
        _ => None,
    }
}

/// Text of a sample for string matching: integers and addresses are formatted, as
/// HAProxy casts them.
fn sample_text<'x>(sample: &Sample<'x>, buf: &'x mut [u8; 48]) -> Option<&'x [u8]> {
    match sample {
        Sample::Str(b) | Sample::Bin(b) => Some(b),
        Sample::Int(i) => Some(int_to_buf(*i, (&mut buf[..24]).try_into().ok()?)),
        Sample::Bool(b) => Some(int_to_buf(i64::from(*b), (&mut buf[..24]).try_into().ok()?)),
        Sample::Ip(ip) => {
            use std::io::Write;
            let mut c = std::io::Cursor::new(&mut buf[..]);
            write!(c, "{ip}").ok()?;
            let n = c.position() as usize;
            Some(&buf[..n])
        }
    }
}

fn match_str(sp: &StrPatterns, method: MatchMethod, t: &[u8]) -> Option<usize> {
    let ci = sp.ignore_case;
    match method {
        MatchMethod::Str => {
            if let Some(set) = &sp.set {
                let idx = set.get(&str_hash(t, ci))?;
                return idx
                    .iter()
                    .map(|&i| i as usize)
                    .find(|&i| eq(&sp.items[i], t, ci));
            }
            sp.items.iter().position(|p| eq(p, t, ci))
        }
        MatchMethod::Beg => sp
            .items
            .iter()
            .position(|p| t.len() >= p.len() && eq(p, &t[..p.len()], ci)),
        MatchMethod::End => sp
            .items
            .iter()
            .position(|p| t.len() >= p.len() && eq(p, &t[t.len() - p.len()..], ci)),
        MatchMethod::Sub => sp.items.iter().position(|p| contains(t, p, ci)),
        MatchMethod::Dom => sp.items.iter().position(|p| match_word(t, p, ci, b"/?.:")),
        MatchMethod::Dir => sp.items.iter().position(|p| match_word(t, p, ci, b"/?")),
        _ => None,
    }
}

/// `pat` (already lowered when `ci`) equals `t`.
#[inline]
fn eq(pat: &[u8], t: &[u8], ci: bool) -> bool {
    if ci {
        pat.len() == t.len() && pat.iter().zip(t).all(|(p, c)| *p == c.to_ascii_lowercase())
    } else {
        pat == t
    }
}

fn contains(t: &[u8], pat: &[u8], ci: bool) -> bool {
    if pat.is_empty() {
        return true;
    }
    if pat.len() > t.len() {
        return false;
    }
    (0..=t.len() - pat.len()).any(|i| eq(pat, &t[i..i + pat.len()], ci))
}

/// HAProxy's `dom`/`dir` matching: the pattern (without its leading/trailing delimiters)
/// appears in `t` bounded on both sides by a delimiter or an end.
fn match_word(t: &[u8], pat: &[u8], ci: bool, delims: &[u8]) -> bool {
    let is_d = |c: u8| delims.contains(&c);
    let mut p = pat;
    while let [c, rest @ ..] = p {
        if is_d(*c) {
            p = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., c] = p {
        if is_d(*c) {
            p = rest;
        } else {
            break;
        }
    }
    if p.is_empty() {
        return false;
    }
    if p.len() > t.len() {
        return false;
    }
    (0..=t.len() - p.len()).any(|i| {
        (i == 0 || is_d(t[i - 1]))
            && (i + p.len() == t.len() || is_d(t[i + p.len()]))
            && eq(p, &t[i..i + p.len()], ci)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use haproxyrs_config::diag::Diagnostics;
    use haproxyrs_config::env::SystemEnv;
    use haproxyrs_config::lower::sample::parse_acl_term;

    fn term_matches(acl: &str, sample: Sample<'_>) -> bool {
        let words: Vec<haproxyrs_config::ast::Word> = acl
            .split_whitespace()
            .map(|w| haproxyrs_config::ast::Word {
                text: w.into(),
                span: haproxyrs_config::span::Span::new("t".into(), 1, 1),
            })
            .collect();
        let t = parse_acl_term(&words, &SystemEnv, &mut Diagnostics::default()).unwrap();
        matches(&t.patterns, t.method, &sample)
    }

    #[test]
    fn strings_and_case() {
        assert!(term_matches("path /a", Sample::Str(b"/a")));
        assert!(!term_matches("path /a", Sample::Str(b"/A")));
        assert!(term_matches("path -i /a", Sample::Str(b"/A")));
        assert!(term_matches("path_beg /api", Sample::Str(b"/api/x")));
        assert!(!term_matches("path_beg /api", Sample::Str(b"/ap")));
        assert!(term_matches("path_end -i /APP1", Sample::Str(b"/x/app1")));
        assert!(term_matches("path_sub -i MID", Sample::Str(b"/amidb")));
        assert!(!term_matches("path_sub zz", Sample::Str(b"/amidb")));
        assert!(term_matches("path_len 3", Sample::Str(b"/ab")));
        assert!(term_matches("path_len gt 2", Sample::Str(b"/ab")));
        assert!(term_matches("path_reg ^/a+b$", Sample::Str(b"/aaab")));
        assert!(term_matches("path_reg -i ^/A+B$", Sample::Str(b"/aaab")));
        assert!(!term_matches("path_reg ^/a+b$", Sample::Str(b"/aaabc")));
    }

    #[test]
    fn dom_and_dir() {
        assert!(term_matches(
            "hdr_dom(host) example.com",
            Sample::Str(b"www.example.com")
        ));
        assert!(term_matches(
            "hdr_dom(host) example.com",
            Sample::Str(b"example.com:80")
        ));
        assert!(!term_matches(
            "hdr_dom(host) example.com",
            Sample::Str(b"myexample.com")
        ));
        assert!(term_matches(
            "hdr_dom(host) -i WWW",
            Sample::Str(b"www.example.com")
        ));
        assert!(term_matches(
            "path_dir img",
            Sample::Str(b"/static/img/a.png")
        ));
        assert!(term_matches("path_dir /img/", Sample::Str(b"/img")));
        assert!(!term_matches("path_dir img", Sample::Str(b"/images/a.png")));
    }

    #[test]
    fn big_exact_sets() {
        let pats: Vec<String> = (0..50).map(|i| format!("Host{i}.example")).collect();
        let acl = format!("hdr(host) -i {}", pats.join(" "));
        assert!(term_matches(&acl, Sample::Str(b"HOST33.EXAMPLE")));
        assert!(!term_matches(&acl, Sample::Str(b"host50.example")));
        let acl = format!("hdr(host) {}", pats.join(" "));
        assert!(term_matches(&acl, Sample::Str(b"Host7.example")));
        assert!(!term_matches(&acl, Sample::Str(b"host7.example")));
    }

    #[test]
    fn big_address_lists() {
        let list: Vec<String> = (0..2000)
            .map(|i| format!("10.{}.{}.0/24", i / 256, i % 256))
            .collect();
        let acl = format!("src {} 192.168.0.0/16 2001:db8::/48", list.join(" "));
        assert!(term_matches(
            &acl,
            Sample::Ip("10.7.200.9".parse().unwrap())
        ));
        assert!(!term_matches(
            &acl,
            Sample::Ip("10.7.209.9".parse().unwrap())
        ));
        assert!(term_matches(
            &acl,
            Sample::Ip("192.168.4.4".parse().unwrap())
        ));
        assert!(term_matches(
            &acl,
            Sample::Ip("2001:db8:0:1::1".parse().unwrap())
        ));
        assert!(!term_matches(
            &acl,
            Sample::Ip("2001:db8:1::1".parse().unwrap())
        ));
    }

    #[test]
    fn ints_ips_and_casts() {
        assert!(term_matches("src_port 1:1024", Sample::Int(80)));
        assert!(!term_matches("src_port 1:1024", Sample::Int(8080)));
        assert!(term_matches("src_port ge 1024", Sample::Int(1024)));
        assert!(term_matches("src_port lt 1024", Sample::Int(1023)));
        assert!(!term_matches("src_port lt 1024", Sample::Int(1024)));
        assert!(term_matches("src_port le 1024", Sample::Int(1024)));
        assert!(term_matches("src_port eq 80", Sample::Int(80)));
        assert!(term_matches("src_port -m str 80", Sample::Int(80)));
        assert!(term_matches("hdr(x) -m int gt 10", Sample::Str(b"12")));
        let v4 = Sample::Ip("10.2.3.4".parse().unwrap());
        assert!(term_matches("src 10.0.0.0/8", v4));
        assert!(!term_matches("src 192.168.0.0/16 ::1", v4));
        let v6 = Sample::Ip("2001:db8::5".parse().unwrap());
        assert!(term_matches("src 2001:db8::/32", v6));
        assert!(!term_matches("src 10.0.0.0/8", v6));
        let mapped = Sample::Ip("::ffff:10.0.0.1".parse().unwrap());
        assert!(term_matches("src 10.0.0.0/8", mapped));
        assert!(term_matches(
            "hdr(xff) -m ip 10.0.0.0/8",
            Sample::Str(b"10.9.9.9")
        ));
        assert!(term_matches("ssl_fc", Sample::Bool(true)));
        assert!(!term_matches("ssl_fc", Sample::Bool(false)));
        assert!(term_matches("hdr(x) -m found", Sample::Str(b"")));
        assert!(term_matches("src -m str 10.2.3.4", v4));
        assert!(term_matches("src -m beg 2001:db8:", v6));
        assert!(term_matches("src -m len 8", v4));
    }
}
