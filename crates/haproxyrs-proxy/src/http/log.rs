//! The facts of one HTTP transaction that `option httplog` / `log-format` print, filled by
//! the session, and the rendering of HAProxy's default httplog format:
//! `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc
//! %sq/%bq %hr %hs %{+Q}r`.

use std::fmt::Write;
use std::net::SocketAddr;
use std::time::SystemTime;

use haproxyrs_config::ir::BackendId;

use haproxyrs_config::ir::sample::VarScope;

use crate::sample::{Phase, Sample, SampleSource};

/// One finished transaction.
#[derive(Clone, Debug)]
pub struct HttpLogRecord<'a> {
    pub client: SocketAddr,
    /// The address the client connected to.
    pub dst: SocketAddr,
    /// When the transaction's stream was created (`%t`): the connection's accept for the
    /// first request, the end of the previous transaction for the next ones.
    pub accept_date: SystemTime,
    /// When the request's first byte was waited for (`%tr`).
    pub request_date: SystemTime,
    pub frontend: &'a str,
    pub backend: &'a str,
    /// The backend by index, for the runtime's counter (`%bc`).
    pub backend_id: Option<BackendId>,
    /// `<NOSRV>` when no server was reached.
    pub server: &'a str,
    /// The server by index in its backend (`%si`, `%sp`).
    pub server_id: Option<usize>,
    /// The server connection's local address, when the engine learnt it (`%bi`, `%bp`).
    pub backend_src: Option<SocketAddr>,
    /// The stream's number (`%rt`).
    pub stream_id: u64,
    /// `%Th` (accept to the PROXY header's end; 0 after the first transaction) and `%Ti`
    /// (idle before the request's first byte), in milliseconds.
    pub t_handshake: i64,
    pub t_idle: i64,
    /// `%TR %Tw %Tc %Tr %Ta` in milliseconds, -1 when the phase did not happen.
    pub t_request: i64,
    pub t_queue: i64,
    pub t_connect: i64,
    pub t_response: i64,
    pub t_active: i64,
    /// `%Tt`: from the stream's creation (`accept_date`) to the end.
    pub t_total: i64,
    /// From the stream's creation to the response head, -1 without one (`%Td` is
    /// `t_total - t_data`).
    pub t_data: i64,
    pub status: u16,
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// Termination state: cause and phase (`--`, `PR`, `SC`, `sH`, `cR`, `LR`…).
    pub term: [u8; 2],
    /// `%ac/%fc/%bc/%sc/%rc`.
    pub conns: [u32; 5],
    /// The last connection retry went to another server: `%rc` is printed `+N`.
    pub redispatched: bool,
    /// `%sq/%bq`.
    pub queues: [u32; 2],
    /// `capture request header` values (empty and not present when absent).
    pub captured_req: &'a [Capture],
    pub captured_resp: &'a [Capture],
    /// The request line, `None` for `<BADREQ>`.
    pub request_line: Option<&'a [u8]>,
    /// The transaction's variables (`%[var(txn.x)]`).
    pub vars: &'a [(String, Vec<u8>)],
    /// The unique ID made for `unique-id-header`; else the log makes one (`%ID`).
    pub unique_id: Option<&'a str>,
}

/// `%[sample]` in a log line sees what 2.6 still knows when it logs: the addresses, the
/// method, the captures, the variables and the proxies' names. The request's headers are
/// gone (the config refuses such fetches there), and so is the response once forwarded
/// (`status` has no value).
impl SampleSource for HttpLogRecord<'_> {
    fn src(&self) -> Option<SocketAddr> {
        Some(self.client)
    }
    fn dst(&self) -> Option<SocketAddr> {
        Some(self.dst)
    }
    fn method(&self) -> Option<&[u8]> {
        let line = self.request_line?;
        line.split(|&c| c == b' ').next()
    }
    fn phase(&self) -> Phase {
        Phase::Response
    }
    fn captured_header(&self, response: bool, index: usize) -> Option<&[u8]> {
        let caps = if response {
            self.captured_resp
        } else {
            self.captured_req
        };
        caps.get(index)
            .filter(|c| c.present)
            .map(|c| c.value.as_slice())
    }
    fn frontend_name(&self) -> Option<&str> {
        Some(self.frontend)
    }
    fn backend_name(&self) -> Option<&str> {
        self.backend_id.map(|_| self.backend)
    }
    fn var(&self, scope: VarScope, name: &str) -> Option<Sample<'_>> {
        crate::http::samples::find_var(self.vars, scope, name)
    }
}

/// One captured header value, kept in a buffer reused from request to request.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    pub present: bool,
    pub value: Vec<u8>,
}

impl Capture {
    /// Capture the first field `name` of `msg`, truncated to `len` bytes.
    pub fn take(&mut self, msg: &super::message::Message, name: &str, len: usize) {
        self.value.clear();
        self.present = false;
        if let Some(v) = msg.first(name.as_bytes()) {
            self.present = true;
            self.value.extend_from_slice(&v[..v.len().min(len)]);
        }
    }
}

fn write_captures(out: &mut String, caps: &[Capture]) {
    if !caps.is_empty() {
        crate::log::render::captures(out, caps, Default::default(), false);
        out.push(' ');
    }
}

/// Render the default `option httplog` line (without the syslog header).
pub fn render_httplog(r: &HttpLogRecord<'_>, out: &mut String) {
    let _ = write!(out, "{}:{} [", r.client.ip(), r.client.port());
    crate::log::render::date(out, r.request_date);
    let _ = write!(
        out,
        "] {} {}/{} {}/{}/{}/{}/{} {} {} - - {}{}-- {}/{}/{}/{}/{}{} {}/{} ",
        r.frontend,
        r.backend,
        r.server,
        r.t_request,
        r.t_queue,
        r.t_connect,
        r.t_response,
        r.t_active,
        r.status,
        r.bytes_out,
        r.term[0] as char,
        r.term[1] as char,
        r.conns[0],
        r.conns[1],
        r.conns[2],
        r.conns[3],
        if r.redispatched { "+" } else { "" },
        r.conns[4],
        r.queues[0],
        r.queues[1],
    );
    write_captures(out, r.captured_req);
    write_captures(out, r.captured_resp);
    let quoted = haproxyrs_config::ir::sample::LogFlags {
        quote: true,
        ..Default::default()
    };
    crate::log::render::request_line(out, r.request_line, quoted);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn httplog_shape() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_994_654_414);
        let caps = [
            Capture {
                present: true,
                value: b"a.example".to_vec(),
            },
            Capture::default(),
        ];
        let r = HttpLogRecord {
            client: "127.0.0.1:55786".parse().unwrap(),
            dst: "127.0.0.1:80".parse().unwrap(),
            accept_date: t,
            request_date: t,
            frontend: "fe",
            backend: "be",
            backend_id: None,
            server: "s1",
            server_id: Some(0),
            backend_src: None,
            stream_id: 0,
            t_handshake: 0,
            t_idle: 0,
            t_request: 0,
            t_queue: 0,
            t_connect: 0,
            t_response: 1,
            t_active: 1,
            t_total: 1,
            t_data: 1,
            status: 200,
            bytes_out: 248,
            bytes_in: 0,
            term: *b"--",
            conns: [1, 1, 0, 0, 0],
            redispatched: false,
            queues: [0, 0],
            captured_req: &caps,
            captured_resp: &[],
            request_line: Some(b"GET / HTTP/1.1"),
            vars: &[],
            unique_id: None,
        };
        let mut s = String::new();
        render_httplog(&r, &mut s);
        assert_eq!(
            s,
            "127.0.0.1:55786 [29/Nov/2026:23:24:14.414] fe be/s1 0/0/0/1/1 200 248 - - ---- 1/1/0/0/0 0/0 {a.example|} \"GET / HTTP/1.1\""
        );
    }
}

// `%B` as 2.6 counts it: the size of the message in its internal (HTX) form rather than
// on the wire. That is 20 bytes of start-line header plus the start line's three parts,
// each header's name and value, 1 for the end of the headers, then the body's payload,
// each trailer's name and value and 1 for the end of a chunked body (see
// `BodyDecoder::htx_size`). The `connection` header the H1 layer adds on output is not
// part of it; an error the H1 layer answers itself (a malformed request) counts 0.

/// The HTX size of a request or response head as it will be forwarded (without the
/// `connection` header the proxy adds for the next hop). `%U` counts requests the same way.
pub fn htx_head_size(msg: &super::message::Message) -> u64 {
    let version = msg.version.unwrap_or(super::head::Version::Http11).as_str();
    // Request: method, target, version. Response: version, 3-digit status, reason.
    let status = if msg.status != 0 { 3 } else { 0 };
    let start_line = msg.method().len() + msg.uri().len() + version.len() + status;
    let fields: usize = (0..msg.fields.len())
        .map(|i| msg.name(i).len() + msg.value(i).len())
        .sum();
    (20 + start_line + fields + 1) as u64
}

/// The HTX size of a request head as received (`%U`): `close` and `keep-alive` in
/// `connection` belong to the H1 layer and are not stored, so a `connection` header made
/// of them only does not count.
pub fn htx_request_size(msg: &super::message::Message) -> u64 {
    let mut size = htx_head_size(msg);
    for i in msg.find(b"connection") {
        let value = msg.value(i);
        let only_h1 = value.split(|&b| b == b',').all(|t| {
            let t = t.trim_ascii();
            t.eq_ignore_ascii_case(b"close") || t.eq_ignore_ascii_case(b"keep-alive")
        });
        if only_h1 {
            size -= (msg.name(i).len() + value.len()) as u64;
        }
    }
    size
}

/// The HTX size of a complete response built as wire bytes (an error page, `return`,
/// `redirect`): `name: value` lines and a body after the empty line.
pub fn htx_size_of_wire(wire: &[u8]) -> u64 {
    let Some(end) = super::message::find(wire, b"\r\n\r\n") else {
        return wire.len() as u64;
    };
    let mut lines = wire[..end]
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    // "HTTP/1.1 200 OK": the three parts without the two spaces between them.
    let start_line = lines.next().map_or(0, |l| l.len().saturating_sub(2));
    let fields: usize = lines
        .map(|l| match l.iter().position(|&b| b == b':') {
            Some(c) => c + l[c + 1..].trim_ascii().len(),
            None => l.len(),
        })
        .sum();
    (20 + start_line + fields + 1 + (wire.len() - end - 4)) as u64
}

#[cfg(test)]
mod htx_size_tests {
    use super::*;

    /// Sizes 2.6 logged for these exact responses (its `%B`), next to their wire sizes.
    #[test]
    fn wire_messages_count_as_haproxy_does() {
        let deny = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n";
        assert_eq!(deny.len(), 189);
        assert_eq!(htx_size_of_wire(deny), 192);
        let ret =
            b"HTTP/1.1 200 OK\r\ncontent-length: 8\r\ncontent-type: text/plain\r\n\r\nhi there";
        assert_eq!(htx_size_of_wire(ret), 79);
        let redirect = b"HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /x\r\ncache-control: no-cache\r\n\r\n";
        assert_eq!(htx_size_of_wire(redirect), 83);
    }
}
