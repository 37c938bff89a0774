//! A TCP session as the sample engine sees it ([`SampleSource`]): addresses, the request
//! bytes peeked so far (for `req.len`, `req.ssl_sni`, `req.ssl_hello_type`…), whether more
//! can still arrive, and the proxy state fetches (`nbsrv`, `srv_is_up`, names).

use std::net::SocketAddr;

use haproxyrs_config::ir::sample::{Acl, Condition};

use crate::runtime::conn::{ClientConn, ConnAddr};
use crate::runtime::frontend::{FrontendRt, Shared};
use crate::sample::{self, Match, SampleSource};

/// One TCP session's sample view.
pub struct TcpSource<'a> {
    pub src: &'a ConnAddr,
    pub dst: &'a ConnAddr,
    /// Bytes received and not yet forwarded (peeked).
    pub payload: &'a [u8],
    /// No more bytes will be waited for.
    pub final_: bool,
    pub frontend: &'a str,
    pub backend: Option<&'a str>,
    pub shared: Option<&'a Shared>,
}

impl<'a> TcpSource<'a> {
    /// An accepted connection's samples before any byte is read: its addresses, its
    /// frontend, no backend yet.
    pub fn of_conn(fe: &'a FrontendRt, conn: &'a ClientConn) -> TcpSource<'a> {
        TcpSource {
            src: &conn.peer,
            dst: &conn.local,
            payload: &[],
            final_: true,
            frontend: &fe.cfg().name,
            backend: None,
            shared: Some(&fe.shared),
        }
    }

    /// Evaluates `if`/`unless`; `None` while it depends on bytes that may still arrive.
    pub fn eval(&self, cond: &Condition, acls: &[Acl]) -> Option<bool> {
        match sample::eval_condition(cond, acls, self) {
            Match::Yes => Some(true),
            Match::No => Some(false),
            Match::NeedMoreData => None,
        }
    }
}

impl SampleSource for TcpSource<'_> {
    fn src(&self) -> Option<SocketAddr> {
        self.src.socket_addr()
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.dst.socket_addr()
    }
    fn req_buffer(&self) -> &[u8] {
        self.payload
    }
    fn req_final(&self) -> bool {
        self.final_
    }
    fn frontend_name(&self) -> Option<&str> {
        Some(self.frontend)
    }
    fn backend_name(&self) -> Option<&str> {
        self.backend
    }
    fn nbsrv(&self, backend: Option<&str>) -> Option<i64> {
        let sh = self.shared?;
        let name = backend.or(self.backend)?;
        let id = sh.config.backend_by_name(name)?;
        Some(sh.backends[id.0].usable_servers() as i64)
    }
    fn srv_is_up(&self, backend: Option<&str>, server: &str) -> Option<bool> {
        let sh = self.shared?;
        let name = backend.or(self.backend)?;
        let id = sh.config.backend_by_name(name)?;
        let s = sh.backends[id.0].server_by_name(server)?;
        Some(s.is_usable())
    }
}
