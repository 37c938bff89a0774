//! `http_auth(userlist)` / `http_auth_group(userlist)`: the request's `Authorization:
//! Basic` credentials checked against a `userlist` section. `insecure-password` compares
//! the text; `password` holds a crypt(3) hash (`$6$` SHA-512, `$5$` SHA-256, `$1$` MD5,
//! `$2y$` bcrypt, DES) verified with the `pwhash` crate. The credentials are decoded into
//! a stack buffer: no allocation for plain passwords.

use haproxyrs_config::ir::{Password, User, Userlist};

use super::fetch::first_header;
use super::source::{trim_ows, SampleSource};

/// Longest decoded `user:password` accepted (longer credentials never match).
const MAX_CREDENTIALS: usize = 1024;

/// The userlist and user when the request carries valid Basic credentials for it.
pub fn authenticate<'s>(
    src: &'s dyn SampleSource,
    userlist: &str,
) -> Option<(&'s Userlist, &'s User)> {
    let ul = src.userlist(userlist)?;
    let value = trim_ows(first_header(src, false, b"authorization")?);
    let (scheme, rest) = match value.iter().position(|&c| c == b' ') {
        Some(p) => (&value[..p], trim_ows(&value[p + 1..])),
        None => return None,
    };
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return None;
    }
    let mut buf = [0u8; MAX_CREDENTIALS];
    let n = b64_decode_into(rest, &mut buf)?;
    let cred = &buf[..n];
    let colon = cred.iter().position(|&c| c == b':')?;
    let (name, pass) = (&cred[..colon], &cred[colon + 1..]);
    let user = ul.users.iter().find(|u| u.name.as_bytes() == name)?;
    check_password(&user.password, pass).then_some((ul, user))
}

/// Whether `pass` is the user's password.
pub fn check_password(stored: &Password, pass: &[u8]) -> bool {
    match stored {
        Password::Plain(p) => constant_time_eq(p.as_bytes(), pass),
        Password::Crypt(hash) => match std::str::from_utf8(pass) {
            Ok(p) => pwhash::unix::verify(p, hash),
            Err(_) => false,
        },
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The groups `user` belongs to (named on the user line or listing the user), until
/// `visit` returns false.
pub fn groups_of(ul: &Userlist, user: &User, visit: &mut dyn FnMut(&str) -> bool) {
    for g in &user.groups {
        if !visit(g) {
            return;
        }
    }
    for (g, members) in &ul.groups {
        if user.groups.iter().any(|ug| ug == g) {
            continue;
        }
        if members.contains(&user.name) && !visit(g) {
            return;
        }
    }
}

/// Standard base64 into `out`; `None` if invalid or too long.
pub(crate) fn b64_decode_into(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut n = 0;
    for &c in input {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::super::testsrc::TestSource;
    use super::*;

    fn userlist() -> Userlist {
        Userlist {
            name: "ul".into(),
            users: vec![
                User {
                    name: "bob".into(),
                    password: Password::Plain("secret".into()),
                    groups: vec!["admin".into()],
                },
                User {
                    name: "sha512".into(),
                    // Hashes made by the system's crypt(3) (libxcrypt) for "pw".
                    password: Password::Crypt(
                        "$6$saltsalt$pauPrmdmG4BTE9h2HPmywiw152IFch6BJCEsaY6D.PLTfpV8sqvXwWdyfsgVgozkYH9B80bAip/08R2BPH2xk/".into(),
                    ),
                    groups: vec![],
                },
                User {
                    name: "sha256".into(),
                    password: Password::Crypt(
                        "$5$saltsalt$0rl.MZtoLLPP3X0Rdl8riRnphIcAXJY27/aOAyK2hB5".into(),
                    ),
                    groups: vec![],
                },
                User {
                    name: "md5".into(),
                    password: Password::Crypt("$1$saltsalt$6SNdNaZLKst2LlSm7oPPL1".into()),
                    groups: vec![],
                },
            ],
            groups: vec![("ops".into(), vec!["bob".into()])],
        }
    }

    fn with_auth(user: &str, pass: &str) -> TestSource {
        let mut b = Vec::new();
        super::super::convert::base64_encode(format!("{user}:{pass}").as_bytes(), &mut b);
        let value = format!("Basic {}", String::from_utf8(b).unwrap());
        let mut s = TestSource::http("GET", "/", &[("Authorization", &value)]);
        s.userlists.push(userlist());
        s
    }

    #[test]
    fn plain_and_crypt_passwords() {
        assert!(authenticate(&with_auth("bob", "secret"), "ul").is_some());
        assert!(authenticate(&with_auth("bob", "Secret"), "ul").is_none());
        assert!(authenticate(&with_auth("nobody", "secret"), "ul").is_none());
        assert!(authenticate(&with_auth("bob", "secret"), "other").is_none());
        assert!(authenticate(&with_auth("sha512", "pw"), "ul").is_some());
        assert!(authenticate(&with_auth("sha512", "px"), "ul").is_none());
        assert!(authenticate(&with_auth("sha256", "pw"), "ul").is_some());
        assert!(authenticate(&with_auth("md5", "pw"), "ul").is_some());
        assert!(authenticate(&with_auth("md5", "nope"), "ul").is_none());
        let mut bad = TestSource::http("GET", "/", &[("Authorization", "Bearer xyz")]);
        bad.userlists.push(userlist());
        assert!(authenticate(&bad, "ul").is_none());
        let mut junk = TestSource::http("GET", "/", &[("Authorization", "Basic !!!")]);
        junk.userlists.push(userlist());
        assert!(authenticate(&junk, "ul").is_none());
    }

    #[test]
    fn groups() {
        let ul = userlist();
        let mut got = Vec::new();
        groups_of(&ul, &ul.users[0], &mut |g| {
            got.push(g.to_string());
            true
        });
        assert_eq!(got, vec!["admin", "ops"]);
    }
}
