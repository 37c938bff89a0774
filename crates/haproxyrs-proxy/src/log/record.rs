//! What a session reports for its log line: names, addresses, dates, timers, byte counts,
//! counters and termination flags. Timers are milliseconds, `-1` when the phase never
//! happened, as HAProxy prints them.

use std::time::SystemTime;

use crate::runtime::conn::ConnAddr;

/// The two termination-state characters (`%ts`): who/what ended the session, and in
/// which phase. HAProxy letters: `C` client, `S` server, `P` proxy, `R` resource,
/// `I` internal, `D` down, `c`/`s` client/server timeout, `-` normal; phases `R` request,
/// `Q` queue, `C` connect, `H` headers, `D` data, `L` last, `T` tarpit, `-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TermFlags {
    pub cause: u8,
    pub phase: u8,
}

impl Default for TermFlags {
    fn default() -> Self {
        TermFlags {
            cause: b'-',
            phase: b'-',
        }
    }
}

impl TermFlags {
    pub fn new(cause: u8, phase: u8) -> TermFlags {
        TermFlags { cause, phase }
    }
}

/// One session's log data.
#[derive(Clone, Debug)]
pub struct LogRecord {
    pub client: ConnAddr,
    pub frontend_addr: ConnAddr,
    pub accept_date: SystemTime,
    /// Date the request started (`%tr`), HTTP only.
    pub request_date: Option<SystemTime>,
    pub frontend: String,
    /// `~` after the frontend name when the bind uses TLS.
    pub frontend_ssl: bool,
    /// `None`: no backend chosen (HAProxy then prints the frontend's name).
    pub backend: Option<String>,
    /// `None`: `<NOSRV>`; HTTP applets set their own (`<STATS>`).
    pub server: Option<String>,
    pub server_addr: ConnAddr,
    /// `%Th %Ti %TR %Tq %Tw %Tc %Tr %Td %Ta %Tt` in ms, -1 when not reached.
    pub th: i64,
    pub ti: i64,
    pub treq: i64,
    pub tq: i64,
    pub tw: i64,
    pub tc: i64,
    pub tr: i64,
    pub ta: i64,
    pub tt: i64,
    pub status: i32,
    /// Bytes sent to the client (`%B`) and received from it (`%U`).
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub term: TermFlags,
    /// Persistence-cookie flags for `%tsc` (`--` without cookies).
    pub cookie_flags: [u8; 2],
    pub actconn: u32,
    pub feconn: u32,
    pub beconn: u32,
    pub srvconn: u32,
    pub retries: u32,
    pub redispatched: bool,
    pub srv_queue: u32,
    pub backend_queue: u32,
    /// HTTP: the request line, method, URI, version (filled by the HTTP engine).
    pub request_line: Option<String>,
    pub captured_request_headers: Option<String>,
    pub captured_response_headers: Option<String>,
    pub unique_id: Option<String>,
}

impl LogRecord {
    pub fn new(
        client: ConnAddr,
        frontend_addr: ConnAddr,
        accept_date: SystemTime,
        frontend: &str,
    ) -> Self {
        LogRecord {
            client,
            frontend_addr,
            accept_date,
            request_date: None,
            frontend: frontend.to_owned(),
            frontend_ssl: false,
            backend: None,
            server: None,
            server_addr: ConnAddr::Unknown,
            th: -1,
            ti: -1,
            treq: -1,
            tq: -1,
            tw: -1,
            tc: -1,
            tr: -1,
            ta: -1,
            tt: -1,
            status: -1,
            bytes_out: 0,
            bytes_in: 0,
            term: TermFlags::default(),
            cookie_flags: [b'-', b'-'],
            actconn: 0,
            feconn: 0,
            beconn: 0,
            srvconn: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            backend_queue: 0,
            request_line: None,
            captured_request_headers: None,
            captured_response_headers: None,
            unique_id: None,
        }
    }
}
