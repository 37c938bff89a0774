//! What a session reports for its log line: names, addresses, dates, timers, byte counts,
//! counters and termination flags. Timers are milliseconds, `-1` when the phase never
//! happened, as HAProxy prints them. The record borrows everything it shows from the
//! session (names from the config, addresses, the request line, captures), so filling and
//! rendering it costs no allocation.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::http::log::Capture;
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

/// Streams created by the process: each TCP session and each HTTP transaction takes the
/// next number (`%rt`, 2.6's `uniq_id`), logged or not.
static STREAMS: AtomicU64 = AtomicU64::new(0);

/// The number of a new stream (`%rt`), from 0.
pub fn next_stream_id() -> u64 {
    STREAMS.fetch_add(1, Ordering::Relaxed)
}

/// One session's log data.
#[derive(Clone, Debug)]
pub struct LogRecord<'a> {
    pub client: &'a ConnAddr,
    pub frontend_addr: &'a ConnAddr,
    pub accept_date: SystemTime,
    /// Date the request started (`%tr`), HTTP only.
    pub request_date: Option<SystemTime>,
    pub frontend: &'a str,
    /// `~` after the frontend name when the bind uses TLS.
    pub frontend_ssl: bool,
    /// `None`: no backend chosen (HAProxy then prints the frontend's name).
    pub backend: Option<&'a str>,
    /// `None`: `<NOSRV>`; HTTP applets set their own (`<STATS>`).
    pub server: Option<&'a str>,
    /// The server connection's peer (`%si:%sp`) and local (`%bi:%bp`) addresses.
    pub server_addr: Option<SocketAddr>,
    pub backend_src: Option<SocketAddr>,
    /// `%Th %Ti %TR %Tq %Tw %Tc %Tr %Ta %Tt` in ms, -1 when not reached.
    pub th: i64,
    pub ti: i64,
    pub treq: i64,
    pub tq: i64,
    pub tw: i64,
    pub tc: i64,
    pub tr: i64,
    pub ta: i64,
    pub tt: i64,
    /// From the stream's start to the data phase (HTTP: the response head; TCP: the
    /// connection), truncated to ms like `tt`: `%Td` is `tt - t_data`, as 2.6 computes it.
    pub t_data: i64,
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
    /// HTTP: the request line (`None`: `<BADREQ>`).
    pub request_line: Option<&'a [u8]>,
    /// `capture request|response header` values, in declaration order.
    pub captured_request: &'a [Capture],
    pub captured_response: &'a [Capture],
    pub unique_id: Option<&'a str>,
    /// `%rt`: the stream's number ([`next_stream_id`]); `%lc`: lines the frontend logged
    /// before this one.
    pub stream_id: u64,
    pub log_count: u64,
}

impl<'a> LogRecord<'a> {
    pub fn new(
        client: &'a ConnAddr,
        frontend_addr: &'a ConnAddr,
        accept_date: SystemTime,
        frontend: &'a str,
    ) -> Self {
        LogRecord {
            client,
            frontend_addr,
            accept_date,
            request_date: None,
            frontend,
            frontend_ssl: false,
            backend: None,
            server: None,
            server_addr: None,
            backend_src: None,
            th: -1,
            ti: -1,
            treq: -1,
            tq: -1,
            tw: -1,
            tc: -1,
            tr: -1,
            ta: -1,
            tt: -1,
            t_data: -1,
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
            captured_request: &[],
            captured_response: &[],
            unique_id: None,
            stream_id: 0,
            log_count: 0,
        }
    }
}
