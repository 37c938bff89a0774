//! Layer-4 samples of a session (`src`, `dst`, `src_port`, `dst_port`, `req.len`,
//! `req.ssl_sni`, `req.ssl_hello_type`) and the evaluation of `if`/`unless` conditions
//! over them for `tcp-request` rules and `use_backend` in TCP mode. Fetches that need an
//! HTTP transaction have no value here (the term does not match), as in HAProxy.

use std::net::IpAddr;

use haproxyrs_config::ir::sample::{
    Acl, AclRef, AclTerm, Condition, Fetch, IpNet, MatchMethod, Patterns, PredefinedAcl,
};

use super::sni::{self, Hello};
use crate::runtime::conn::ConnAddr;

/// What a TCP session can answer about itself.
#[derive(Clone, Copy, Debug)]
pub struct L4Sample<'a> {
    pub src: &'a ConnAddr,
    pub dst: &'a ConnAddr,
    /// Bytes received so far and not yet forwarded (peeked), for `req.*` fetches.
    pub payload: &'a [u8],
    /// No more bytes will be waited for (inspect-delay over, or EOF).
    pub final_: bool,
}

/// A fetched value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    Ip(IpAddr),
    Int(i64),
    Str(&'a str),
    Bool(bool),
}

/// The fetch depends on bytes that have not arrived yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeedMore;

/// Outcome of a condition: `None` when it depends on bytes not received yet.
pub type Verdict = Option<bool>;

impl<'a> L4Sample<'a> {
    /// `Ok(None)`: no value; `Err(NeedMore)`: undecided yet (wait for more data).
    pub fn fetch(&self, f: &'a Fetch) -> Result<Option<Value<'a>>, NeedMore> {
        Ok(match f {
            Fetch::Src => self.src.ip().map(Value::Ip),
            Fetch::Dst => self.dst.ip().map(Value::Ip),
            Fetch::SrcPort => self.src.port().map(|p| Value::Int(i64::from(p))),
            Fetch::DstPort => self.dst.port().map(|p| Value::Int(i64::from(p))),
            Fetch::ReqLen => Some(Value::Int(self.payload.len() as i64)),
            Fetch::ReqSslSni | Fetch::ReqSslHelloType => match sni::parse(self.payload) {
                Hello::Incomplete if !self.final_ => return Err(NeedMore),
                Hello::Handshake { hello_type, sni } => match f {
                    Fetch::ReqSslSni => sni.map(Value::Str),
                    _ => Some(Value::Int(i64::from(hello_type))),
                },
                _ => None,
            },
            Fetch::Bool(b) => Some(Value::Bool(*b)),
            Fetch::Int(i) => Some(Value::Int(*i)),
            Fetch::Str(s) => Some(Value::Str(s)),
            _ => None,
        })
    }
}

fn net_contains(n: &IpNet, ip: IpAddr) -> bool {
    let ip = match (n.addr, ip) {
        (IpAddr::V4(_), IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => return false,
        },
        (IpAddr::V6(_), IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
        _ => ip,
    };
    match (n.addr, ip) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let p = u32::from(n.prefix.min(32));
            let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            (u32::from(a) & mask) == (u32::from(b) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let p = u32::from(n.prefix.min(128));
            let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            (u128::from(a) & mask) == (u128::from(b) & mask)
        }
        _ => false,
    }
}

fn str_match(method: MatchMethod, icase: bool, v: &str, p: &str) -> bool {
    let (v, p) = if icase {
        (v.to_ascii_lowercase(), p.to_ascii_lowercase())
    } else {
        (v.to_owned(), p.to_owned())
    };
    match method {
        MatchMethod::Beg => v.starts_with(&p),
        MatchMethod::End => v.ends_with(&p),
        MatchMethod::Sub => v.contains(&p),
        MatchMethod::Dom => v.split(['.', '/', '?', '@', ':']).any(|w| w == p),
        MatchMethod::Dir => v.split(['/', '?']).any(|w| w == p),
        _ => v == p,
    }
}

/// Does one ACL term match?
pub fn term_matches(t: &AclTerm, s: &L4Sample<'_>) -> Verdict {
    if !t.sample.converters.is_empty() {
        // Converters belong to the sample module; without it the term cannot match.
        return Some(false);
    }
    let v = match s.fetch(&t.sample.fetch) {
        Ok(v) => v,
        Err(NeedMore) => return None,
    };
    let Some(v) = v else {
        return Some(false);
    };
    if t.method == MatchMethod::Found {
        return Some(true);
    }
    Some(match (&v, &t.patterns) {
        (Value::Ip(ip), Patterns::Nets(nets)) => nets.iter().any(|n| net_contains(n, *ip)),
        (Value::Int(i), Patterns::Ints(r)) => r
            .iter()
            .any(|r| r.lo.is_none_or(|lo| *i >= lo) && r.hi.is_none_or(|hi| *i <= hi)),
        (Value::Bool(b), Patterns::None) => *b,
        (Value::Int(i), Patterns::None) => *i != 0,
        (Value::Str(st), Patterns::Strings(ps)) => {
            if t.method == MatchMethod::Len {
                ps.iter().any(|p| p.parse::<usize>().ok() == Some(st.len()))
            } else {
                ps.iter().any(|p| str_match(t.method, t.ignore_case, st, p))
            }
        }
        (Value::Str(st), Patterns::Regexes(rs)) => rs.iter().any(|r| r.is_match(st)),
        (Value::Str(st), Patterns::Ints(r)) if t.method == MatchMethod::Len => {
            let l = st.len() as i64;
            r.iter()
                .any(|r| r.lo.is_none_or(|lo| l >= lo) && r.hi.is_none_or(|hi| l <= hi))
        }
        _ => false,
    })
}

fn acl_ref_matches(acls: &[Acl], r: &AclRef, s: &L4Sample<'_>) -> Verdict {
    match r {
        AclRef::Named(id) => {
            let acl = acls.get(id.0)?;
            let mut undecided = false;
            for t in &acl.terms {
                match term_matches(t, s) {
                    Some(true) => return Some(true),
                    None => undecided = true,
                    Some(false) => {}
                }
            }
            if undecided {
                None
            } else {
                Some(false)
            }
        }
        AclRef::Anonymous(t) => term_matches(t, s),
        AclRef::Predefined(p) => Some(match p {
            PredefinedAcl::True => true,
            PredefinedAcl::False => false,
            PredefinedAcl::LocalHost => s.src.ip().is_some_and(|ip| ip.is_loopback()),
            PredefinedAcl::ReqContent => !s.payload.is_empty(),
            PredefinedAcl::WaitEnd => s.final_,
            PredefinedAcl::ReqSslVer => matches!(sni::parse(s.payload), Hello::Handshake { .. }),
            _ => false,
        }),
    }
}

/// Evaluates `if`/`unless`: an OR of ANDs of (possibly negated) ACLs. `None` while it
/// depends on bytes that may still arrive.
pub fn eval(cond: &Condition, acls: &[Acl], s: &L4Sample<'_>) -> Verdict {
    let mut undecided = false;
    let mut any = false;
    for alt in &cond.alternatives {
        let mut all = Some(true);
        for term in alt {
            let v = acl_ref_matches(acls, &term.acl, s).map(|b| b != term.negated);
            all = match (all, v) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (None, _) | (_, None) => None,
                _ => Some(true),
            };
            if all == Some(false) {
                break;
            }
        }
        match all {
            Some(true) => {
                any = true;
                break;
            }
            None => undecided = true,
            Some(false) => {}
        }
    }
    let r = if any {
        Some(true)
    } else if undecided {
        None
    } else {
        Some(false)
    };
    r.map(|b| b != cond.unless)
}

#[cfg(test)]
mod tests {
    use super::*;
    use haproxyrs_config::ir::sample::{CondTerm, SampleExpr};
    use haproxyrs_config::span::Span;

    fn term(fetch: Fetch, method: MatchMethod, patterns: Patterns) -> AclTerm {
        AclTerm {
            sample: SampleExpr {
                fetch,
                converters: vec![],
            },
            method,
            ignore_case: false,
            patterns,
            span: Span::new("t".into(), 1, 1),
        }
    }

    fn cond(t: AclTerm, unless: bool) -> Condition {
        Condition {
            unless,
            alternatives: vec![vec![CondTerm {
                negated: false,
                acl: AclRef::Anonymous(Box::new(t)),
            }]],
            span: Span::new("t".into(), 1, 1),
        }
    }

    #[test]
    fn src_net_and_sni_and_waiting() {
        let src = ConnAddr::Inet("10.1.2.3:5000".parse().unwrap());
        let dst = ConnAddr::Inet("127.0.0.1:443".parse().unwrap());
        let ch = sni::build_client_hello("a.example.com");
        let s = L4Sample {
            src: &src,
            dst: &dst,
            payload: &ch,
            final_: false,
        };
        let net = Patterns::Nets(vec![IpNet {
            addr: "10.0.0.0".parse().unwrap(),
            prefix: 8,
        }]);
        assert_eq!(
            eval(
                &cond(term(Fetch::Src, MatchMethod::Ip, net.clone()), false),
                &[],
                &s
            ),
            Some(true)
        );
        assert_eq!(
            eval(&cond(term(Fetch::Src, MatchMethod::Ip, net), true), &[], &s),
            Some(false)
        );
        let sni_t = term(
            Fetch::ReqSslSni,
            MatchMethod::Str,
            Patterns::Strings(vec!["a.example.com".into()]),
        );
        assert_eq!(eval(&cond(sni_t.clone(), false), &[], &s), Some(true));
        let partial = L4Sample {
            payload: &ch[..10],
            ..s
        };
        assert_eq!(eval(&cond(sni_t.clone(), false), &[], &partial), None);
        let timed_out = L4Sample {
            final_: true,
            ..partial
        };
        assert_eq!(eval(&cond(sni_t, false), &[], &timed_out), Some(false));
        let port = term(
            Fetch::DstPort,
            MatchMethod::Int,
            Patterns::Ints(vec![haproxyrs_config::ir::sample::IntRange {
                lo: Some(443),
                hi: Some(443),
            }]),
        );
        assert_eq!(eval(&cond(port, false), &[], &s), Some(true));
    }
}
