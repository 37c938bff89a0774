//! The HTTP transaction as the sample engine sees it ([`SampleSource`] for [`Txn`]), and the
//! evaluation helpers the session uses: conditions against the current proxy's ACLs and
//! log-format strings in rule arguments (`%[req.hdr(host)]`, `%ci`…).

use std::io::Write;
use std::net::SocketAddr;

use haproxyrs_config::ir::sample::{
    Condition, LogFormatExpr, LogFormatPart, LogVar, SampleExpr, VarScope,
};
use haproxyrs_config::ir::Userlist;

use super::engine::Txn;
use super::head::Version;
use crate::sample::{self, Phase, Sample, SampleSource};

impl SampleSource for Txn<'_> {
    fn src(&self) -> Option<SocketAddr> {
        Some(self.src)
    }
    fn dst(&self) -> Option<SocketAddr> {
        Some(self.dst)
    }
    // Request fetches that read the request message see it only while it is processed: in
    // response rules 2.6 finds nothing there (its request buffer is gone), so `path`,
    // `url`, `req.hdr` do not match; the method is kept with the transaction and stays.
    fn method(&self) -> Option<&[u8]> {
        Some(self.req.method())
    }
    fn uri(&self) -> Option<&[u8]> {
        self.resp.is_none().then(|| self.req.uri())
    }
    fn http_version(&self) -> Option<&[u8]> {
        let v: &[u8] = match self.req.version {
            Some(Version::Http10) => b"1.0",
            _ => b"1.1",
        };
        Some(v)
    }
    fn req_header_count(&self) -> usize {
        if self.resp.is_some() {
            return 0;
        }
        self.req.fields.len()
    }
    fn req_header(&self, i: usize) -> Option<(&[u8], &[u8])> {
        (self.resp.is_none() && i < self.req.fields.len())
            .then(|| (self.req.name(i), self.req.value(i)))
    }
    fn phase(&self) -> Phase {
        if self.resp.is_some() {
            Phase::Response
        } else {
            Phase::Request
        }
    }
    fn status(&self) -> Option<u16> {
        self.resp.map(|r| r.status)
    }
    fn res_header_count(&self) -> usize {
        self.resp.map_or(0, |r| r.fields.len())
    }
    fn res_header(&self, i: usize) -> Option<(&[u8], &[u8])> {
        let r = self.resp?;
        (i < r.fields.len()).then(|| (r.name(i), r.value(i)))
    }
    fn frontend_name(&self) -> Option<&str> {
        self.config
            .frontends
            .get(self.frontend)
            .map(|f| f.name.as_str())
    }
    fn backend_name(&self) -> Option<&str> {
        self.backend.map(|b| self.config.backend(b).name.as_str())
    }
    /// Usable servers: the live state when the engine has one (health checks, maintenance),
    /// else the servers not disabled in the configuration.
    fn nbsrv(&self, backend: Option<&str>) -> Option<i64> {
        let id = match backend {
            Some(n) => self.config.backend_by_name(n)?,
            None => self.backend?,
        };
        let n = match self.servers {
            Some(live) => live.usable(id),
            None => self
                .config
                .backend(id)
                .servers
                .iter()
                .filter(|s| !s.disabled)
                .count(),
        };
        Some(n as i64)
    }
    fn srv_is_up(&self, backend: Option<&str>, server: &str) -> Option<bool> {
        let id = match backend {
            Some(n) => self.config.backend_by_name(n)?,
            None => self.backend?,
        };
        let servers = &self.config.backend(id).servers;
        let idx = servers.iter().position(|s| s.name == server)?;
        Some(match self.servers {
            Some(live) => live.is_usable(id, idx),
            None => !servers[idx].disabled,
        })
    }
    fn userlist(&self, name: &str) -> Option<&Userlist> {
        self.config.userlists.iter().find(|u| u.name == name)
    }
    fn var(&self, scope: VarScope, name: &str) -> Option<Sample<'_>> {
        find_var(&self.req.vars, scope, name)
    }
}

/// The variable `scope.name` among a transaction's (stored with their scope's prefix).
pub(crate) fn find_var<'v>(
    vars: &'v [(String, Vec<u8>)],
    scope: VarScope,
    name: &str,
) -> Option<Sample<'v>> {
    let prefix = match scope {
        VarScope::Proc => "proc.",
        VarScope::Sess => "sess.",
        VarScope::Txn => "txn.",
        VarScope::Req => "req.",
        VarScope::Res => "res.",
    };
    vars.iter()
        .find(|(k, _)| k.strip_prefix(prefix) == Some(name))
        .map(|(_, v)| Sample::Str(v))
}

/// Evaluate `cond` with the ACLs of the proxy whose rule it is.
pub fn eval_cond(cond: &Condition, txn: &Txn<'_>) -> bool {
    sample::eval_condition(cond, txn.acls, txn).is_yes()
}

/// Evaluate a sample expression into `out`; false when it has no value.
pub fn eval_sample(expr: &SampleExpr, txn: &Txn<'_>, out: &mut Vec<u8>) -> bool {
    sample::eval_sample(expr, txn, |v| match v {
        Some(s) => {
            s.write_to(out);
            true
        }
        None => false,
    })
}

/// Render a log-format string used as a rule argument.
pub fn render(fmt: &LogFormatExpr, txn: &Txn<'_>, out: &mut Vec<u8>) {
    for part in &fmt.parts {
        match part {
            LogFormatPart::Literal(s) => out.extend_from_slice(s.as_bytes()),
            LogFormatPart::Sample { expr, flags } => {
                sample::render_sample(expr, *flags, txn, out);
            }
            LogFormatPart::Var { var, .. } => render_var(*var, txn, out),
        }
    }
}

/// The `%` variables that make sense inside a request/response rule.
fn render_var(var: LogVar, txn: &Txn<'_>, out: &mut Vec<u8>) {
    let _ = match var {
        LogVar::ClientIp => write!(out, "{}", txn.src.ip()),
        LogVar::ClientPort => write!(out, "{}", txn.src.port()),
        LogVar::FrontendIp => write!(out, "{}", txn.dst.ip()),
        LogVar::FrontendPort => write!(out, "{}", txn.dst.port()),
        LogVar::FrontendName | LogVar::FrontendNameTransport => {
            out.extend_from_slice(txn.frontend_name().unwrap_or("-").as_bytes());
            Ok(())
        }
        LogVar::BackendName => {
            out.extend_from_slice(txn.backend_name().unwrap_or("-").as_bytes());
            Ok(())
        }
        LogVar::Method => {
            out.extend_from_slice(txn.req.method());
            Ok(())
        }
        LogVar::Uri => {
            out.extend_from_slice(txn.req.uri());
            Ok(())
        }
        LogVar::Path | LogVar::PathOnly => {
            out.extend_from_slice(txn.req.path());
            Ok(())
        }
        LogVar::Query => {
            if let Some(q) = txn.req.query() {
                out.push(b'?');
                out.extend_from_slice(q);
            }
            Ok(())
        }
        LogVar::HttpVersion => {
            let v = txn.req.version.unwrap_or(Version::Http11);
            out.extend_from_slice(v.as_str().as_bytes());
            Ok(())
        }
        LogVar::StatusCode => match txn.resp {
            Some(r) => write!(out, "{}", r.status),
            None => write!(out, "-"),
        },
        LogVar::Pid => write!(out, "{}", std::process::id()),
        _ => write!(out, "-"),
    };
}
