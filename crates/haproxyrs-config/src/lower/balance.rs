//! `balance` (every 2.6 algorithm with its arguments) and `hash-type`.

use crate::ast::{Line, Word};
use crate::ir::{Balance, HashFunction, HashType};

use super::proxy::ProxyDraft;
use super::{units, Cx};

const BALANCE_ERR: &str = "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.";

pub fn balance(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let Some(first) = args.first() else {
        // HAProxy 2.6 accepts a bare `balance` and keeps the current algorithm.
        return;
    };
    let algo = first.text.as_str();
    let opts = &args[1..];
    let b = match algo {
        "roundrobin" => Balance::RoundRobin,
        "static-rr" => Balance::StaticRr,
        "leastconn" => Balance::LeastConn,
        "first" => Balance::First,
        "source" => Balance::Source,
        "random" => Balance::Random { draws: 2 },
        "uri" => {
            let mut len = None;
            let mut depth = None;
            let mut path_only = false;
            let mut whole = false;
            let mut i = 0;
            while i < opts.len() {
                match opts[i].text.as_str() {
                    "len" | "depth" => {
                        let Some(v) = opts.get(i + 1).and_then(|w| units::strict_u32(&w.text))
                        else {
                            cx.alert(
                                &line.span,
                                format!(
                                    "'balance uri {}' expects a positive integer (got '{}').",
                                    opts[i].text,
                                    opts.get(i + 1).map(|w| w.text.as_str()).unwrap_or("")
                                ),
                            );
                            return;
                        };
                        if opts[i].text == "len" {
                            len = Some(v);
                        } else {
                            depth = Some(v);
                        }
                        i += 2;
                    }
                    "whole" => {
                        whole = true;
                        i += 1;
                    }
                    "path-only" => {
                        path_only = true;
                        i += 1;
                    }
                    other => {
                        cx.alert(&line.span, format!("balance uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '{other}')."));
                        return;
                    }
                }
            }
            Balance::Uri {
                len,
                depth,
                path_only,
                whole,
            }
        }
        "url_param" => {
            let Some(name) = opts.first() else {
                cx.alert(
                    &line.span,
                    "'balance url_param' requires an URL parameter name.",
                );
                return;
            };
            let mut check_post = None;
            if opts.get(1).map(|w| w.text.as_str()) == Some("check_post") {
                check_post = Some(opts.get(2).map(|w| units::atou32(&w.text)).unwrap_or(48));
            }
            Balance::UrlParam {
                name: name.text.clone(),
                check_post,
            }
        }
        "hash" => {
            if opts.is_empty() {
                cx.alert(&line.span, "'balance hash' requires a sample expression.");
                return;
            }
            let text: Vec<&str> = opts.iter().map(|w| w.text.as_str()).collect();
            match super::sample::parse_sample_expr(&text.join(" "), cx.env) {
                Ok(expr) => Balance::Hash(expr),
                Err(msg) => {
                    cx.alert(&line.span, format!("'balance hash' : {msg}"));
                    return;
                }
            }
        }
        _ if algo.starts_with("random") => {
            let draws = paren_arg(algo, "random").map(units::atou32).unwrap_or(2);
            Balance::Random {
                draws: draws.max(1),
            }
        }
        _ if algo.starts_with("hdr(") => match paren_arg(algo, "hdr") {
            Some(name) if !name.is_empty() => Balance::Hdr {
                name: name.to_string(),
                use_domain_only: opts.first().map(|w| w.text.as_str()) == Some("use_domain_only"),
            },
            _ => {
                cx.alert(&line.span, "hdr requires an http header field name.");
                return;
            }
        },
        _ if algo.starts_with("rdp-cookie") => Balance::RdpCookie {
            name: paren_arg(algo, "rdp-cookie")
                .filter(|n| !n.is_empty())
                .unwrap_or("mstshash")
                .to_string(),
        },
        _ => {
            let mut diag = crate::diag::Diagnostic::alert(&line.span, BALANCE_ERR);
            if let Some(s) = crate::suggest::best_match(
                algo,
                [
                    "roundrobin",
                    "static-rr",
                    "leastconn",
                    "first",
                    "source",
                    "uri",
                    "url_param",
                    "random",
                    "hash",
                ],
            ) {
                diag = diag.with_help(format!("did you mean '{s}'?"));
            }
            cx.diags.push(diag);
            return;
        }
    };
    d.balance = b;
}

/// `name(arg)` → `arg`.
fn paren_arg<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    text.strip_prefix(name)?
        .strip_prefix('(')?
        .strip_suffix(')')
}

pub fn hash_type(cx: &mut Cx, d: &mut ProxyDraft, line: &Line, args: &[Word]) {
    let mut ht = HashType::default();
    match args.first().map(|w| w.text.as_str()) {
        Some("consistent") => ht.consistent = true,
        Some("map-based") => ht.consistent = false,
        Some("avalanche") => {
            ht.avalanche = true;
        }
        _ => {
            cx.alert(
                &line.span,
                "'hash-type' only supports 'consistent' and 'map-based'.",
            );
            return;
        }
    }
    if let Some(f) = args.get(1) {
        ht.function = match f.text.as_str() {
            "sdbm" => HashFunction::Sdbm,
            "djb2" => HashFunction::Djb2,
            "wt6" => HashFunction::Wt6,
            "crc32" => HashFunction::Crc32,
            "none" => HashFunction::None,
            _ => {
                cx.alert(
                    &line.span,
                    "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.",
                );
                return;
            }
        };
    }
    if let Some(m) = args.get(2) {
        if m.text == "avalanche" {
            ht.avalanche = true;
        } else {
            cx.alert(
                &line.span,
                format!(
                    "'hash-type {} {}' : unknown hash modifier '{}', expects 'avalanche'.",
                    args[0].text, args[1].text, m.text
                ),
            );
            return;
        }
    }
    d.hash_type = ht;
}
