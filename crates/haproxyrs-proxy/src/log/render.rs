//! Renders a log-format expression over a [`LogRecord`]. HAProxy's built-in formats are
//! log-format strings too: [`tcplog`] and [`httplog`] build them once, so `option tcplog`,
//! `option httplog` and a user's `log-format` go through the same code.

use std::cell::{Cell, RefCell};
use std::fmt::Write;
use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::SystemTime;

use haproxyrs_config::ir;
use haproxyrs_config::ir::sample::{LogFlags, LogFormatExpr, LogFormatPart, LogVar};

use super::record::LogRecord;
use crate::http::log::Capture;
use crate::runtime::conn::ConnAddr;
use crate::sample::source::int_to_buf;
use crate::sample::SampleSource;

/// Calls `f` with `rec` holding its unique ID (`%ID`): the one it has, else one made now
/// from `format` (`unique-id-format`) as 2.6 makes it at log time, in a reused buffer.
pub fn with_unique_id<R>(
    format: Option<&LogFormatExpr>,
    rec: &LogRecord<'_>,
    samples: Option<&dyn SampleSource>,
    f: impl FnOnce(&LogRecord<'_>) -> R,
) -> R {
    let Some(format) = format.filter(|_| rec.unique_id.is_none()) else {
        return f(rec);
    };
    UNIQUE_ID.with_borrow_mut(|id| {
        id.clear();
        render(format, rec, samples, id);
        let mut with_id = rec.clone();
        with_id.unique_id = Some(id.as_str());
        f(&with_id)
    })
}

/// Whether `format` prints the server connection's local address (`%bi`, `%bp`), which
/// costs a system call to learn.
pub fn shows_backend_src(format: &ir::LogFormat) -> bool {
    let ir::LogFormat::Custom(e) = format else {
        return false;
    };
    e.parts.iter().any(|p| {
        matches!(
            p,
            LogFormatPart::Var {
                var: LogVar::BackendSrcIp | LogVar::BackendSrcPort,
                ..
            }
        )
    })
}

/// `option tcplog`: `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`.
pub fn tcplog() -> LogFormatExpr {
    use LogVar::*;
    build(&[
        P::V(ClientIp),
        P::L(":"),
        P::V(ClientPort),
        P::L(" ["),
        P::V(AcceptDate),
        P::L("] "),
        P::V(FrontendNameTransport),
        P::L(" "),
        P::V(BackendName),
        P::L("/"),
        P::V(ServerName),
        P::L(" "),
        P::V(Tw),
        P::L("/"),
        P::V(Tc),
        P::L("/"),
        P::V(Tt),
        P::L(" "),
        P::V(BytesRead),
        P::L(" "),
        P::V(TermState),
        P::L(" "),
        P::V(ActConn),
        P::L("/"),
        P::V(FeConn),
        P::L("/"),
        P::V(BeConn),
        P::L("/"),
        P::V(SrvConn),
        P::L("/"),
        P::V(Retries),
        P::L(" "),
        P::V(SrvQueue),
        P::L("/"),
        P::V(BackendQueue),
    ])
}

enum P {
    L(&'static str),
    V(LogVar),
}

fn build(parts: &[P]) -> LogFormatExpr {
    LogFormatExpr {
        parts: parts
            .iter()
            .map(|p| match p {
                P::L(s) => LogFormatPart::Literal((*s).to_owned()),
                P::V(v) => LogFormatPart::Var {
                    var: *v,
                    flags: LogFlags::default(),
                },
            })
            .collect(),
    }
}

/// Renders `expr` for `rec` into `out`.
/// `%[sample]` parts are fetched from `samples` (`-` for every one without).
pub fn render(
    expr: &LogFormatExpr,
    rec: &LogRecord<'_>,
    samples: Option<&dyn SampleSource>,
    out: &mut String,
) {
    // 2.6 writes a run of spaces as one, and none at the start of the line.
    let mut after_space = true;
    for part in &expr.parts {
        match part {
            LogFormatPart::Literal(s) => {
                after_space = literal(out, s, after_space);
                continue;
            }
            LogFormatPart::Sample { expr, flags } => match samples {
                Some(src) => SAMPLE.with_borrow_mut(|buf| {
                    buf.clear();
                    crate::sample::render_sample_log(expr, *flags, src, buf);
                    push_utf8(out, buf);
                }),
                None => text(out, None, *flags, Enc::None),
            },
            LogFormatPart::Var { var: v, flags } => var(*v, *flags, rec, out),
        }
        after_space = false;
    }
}

/// Appends a literal with its runs of spaces as one space (none first when `after_space`);
/// returns whether it ended with a space.
fn literal(out: &mut String, s: &str, mut after_space: bool) -> bool {
    if !(s.contains("  ") || after_space && s.starts_with(' ')) {
        out.push_str(s);
        return s.ends_with(' ') || (s.is_empty() && after_space);
    }
    for c in s.chars() {
        if c == ' ' {
            if after_space {
                continue;
            }
            after_space = true;
        } else {
            after_space = false;
        }
        out.push(c);
    }
    after_space
}

thread_local! {
    /// A `%[sample]`'s bytes before they join the line.
    static SAMPLE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// A unique ID made for a log line.
    static UNIQUE_ID: RefCell<String> = const { RefCell::new(String::new()) };
}

/// How a text variable's bytes are written: 2.6 writes `#XX` for the control characters,
/// bytes above 126 and these.
#[derive(Clone, Copy)]
enum Enc {
    /// Names from the configuration: as they are.
    None,
    /// The request line and its parts: `"` and `#`.
    Url,
    /// Captured headers: `"`, `#`, `{`, `|` and `}`.
    Header,
}

impl Enc {
    fn needs(self, c: u8) -> bool {
        match self {
            Enc::None => false,
            Enc::Url => !(0x20..0x7f).contains(&c) || matches!(c, b'"' | b'#'),
            Enc::Header => {
                !(0x20..0x7f).contains(&c) || matches!(c, b'"' | b'#' | b'{' | b'|' | b'}')
            }
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `s` encoded as `enc` says, `+E` escaping `"`, `\` and `]` with a backslash.
fn push_bytes(out: &mut String, s: &[u8], flags: LogFlags, enc: Enc) {
    let mut from = 0;
    for (i, &c) in s.iter().enumerate() {
        let escape = flags.escape && matches!(c, b'"' | b'\\' | b']');
        let encode = enc.needs(c);
        if !(escape || encode) {
            continue;
        }
        push_utf8(out, &s[from..i]);
        if encode {
            out.push('#');
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 15)]));
        } else {
            out.push('\\');
            out.push(char::from(c));
        }
        from = i + 1;
    }
    push_utf8(out, &s[from..]);
}

/// Appends bytes that are UTF-8 (the encodings above leave only ASCII; names are `str`).
fn push_utf8(out: &mut String, s: &[u8]) {
    for chunk in s.utf8_chunks() {
        out.push_str(chunk.valid());
        for &c in chunk.invalid() {
            out.push('#');
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 15)]));
        }
    }
}

/// A text variable: `-` when absent or empty (`""` with `+Q`), else the value, quoted with
/// `+Q`.
fn text(out: &mut String, s: Option<&[u8]>, flags: LogFlags, enc: Enc) {
    match s.filter(|s| !s.is_empty()) {
        None => out.push_str(if flags.quote { "\"\"" } else { "-" }),
        Some(s) => {
            if flags.quote {
                out.push('"');
            }
            push_bytes(out, s, flags, enc);
            if flags.quote {
                out.push('"');
            }
        }
    }
}

/// Appends `n` in decimal without `core::fmt`.
pub(crate) fn push_u64(out: &mut String, n: u64) {
    push_i64(out, i64::try_from(n).unwrap_or(i64::MAX));
}

/// Appends `n` in decimal, negative ones with their sign.
pub(crate) fn push_i64(out: &mut String, n: i64) {
    let mut buf = [0u8; 24];
    out.push_str(std::str::from_utf8(int_to_buf(n, &mut buf)).unwrap_or_default());
}

/// `%04X` as 2.6 prints `+X` numbers: upper case, at least four digits.
fn push_hex(out: &mut String, n: u64, min: usize) {
    let digits = ((64 - n.leading_zeros() as usize).div_ceil(4)).max(min);
    for k in (0..digits).rev() {
        out.push(char::from(HEX[((n >> (4 * k)) & 15) as usize]));
    }
}

/// A counter, in hexadecimal with `+X`.
fn counter(out: &mut String, n: u64, flags: LogFlags) {
    if flags.hex {
        push_hex(out, n, 4);
    } else {
        push_u64(out, n);
    }
}

/// An address's IP (`%ci`, `%fi`, `%si`, `%bi`): IPv4 as `7F000001` with `+X`.
fn ip(out: &mut String, ip: Option<IpAddr>, unix: bool, flags: LogFlags) {
    let Some(ip) = ip else {
        return text(
            out,
            Some(if unix { b"unix" } else { b"" }),
            flags,
            Enc::None,
        );
    };
    if flags.quote {
        out.push('"');
    }
    match ip {
        IpAddr::V4(v4) if flags.hex => push_hex(out, u64::from(u32::from(v4)), 8),
        IpAddr::V4(v4) => {
            for (i, o) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_u64(out, u64::from(o));
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
    if flags.quote {
        out.push('"');
    }
}

/// An address's port: `-` without one, `%04X` with `+X`.
fn port(out: &mut String, p: Option<u16>, flags: LogFlags) {
    match p {
        Some(p) => counter(out, u64::from(p), flags),
        None => out.push('-'),
    }
}

fn conn_ip(out: &mut String, a: &ConnAddr, flags: LogFlags) {
    ip(out, a.ip(), matches!(a, ConnAddr::Unix(_)), flags);
}

/// `%hr`: `{v1|v2}` (empty for absent ones); `%hrl`: `v1 v2` (`-` for absent ones), each
/// quoted with `+Q`. Nothing without captures.
pub(crate) fn captures(out: &mut String, caps: &[Capture], flags: LogFlags, clf: bool) {
    if caps.is_empty() {
        return;
    }
    if clf {
        for (i, c) in caps.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            text(
                out,
                c.present.then_some(c.value.as_slice()),
                flags,
                Enc::Header,
            );
        }
        return;
    }
    if flags.quote {
        out.push('"');
    }
    out.push('{');
    let plain = LogFlags {
        quote: false,
        ..flags
    };
    for (i, c) in caps.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        if c.present {
            push_bytes(out, &c.value, plain, Enc::Header);
        }
    }
    out.push('}');
    if flags.quote {
        out.push('"');
    }
}

/// `%r`: the request line, `<BADREQ>` without one.
pub(crate) fn request_line(out: &mut String, line: Option<&[u8]>, flags: LogFlags) {
    text(out, Some(line.unwrap_or(b"<BADREQ>")), flags, Enc::Url);
}

/// The request line's method, URI and version.
fn request_parts(line: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let mut w = line.splitn(3, |&c| c == b' ');
    (
        w.next().unwrap_or_default(),
        w.next().unwrap_or_default(),
        w.next().unwrap_or_default(),
    )
}

fn var(v: LogVar, flags: LogFlags, r: &LogRecord<'_>, out: &mut String) {
    use LogVar::*;
    let name = |out: &mut String, s: &str| text(out, Some(s.as_bytes()), flags, Enc::None);
    match v {
        ClientIp => conn_ip(out, r.client, flags),
        ClientPort => port(out, r.client.port(), flags),
        FrontendIp => conn_ip(out, r.frontend_addr, flags),
        FrontendPort => port(out, r.frontend_addr.port(), flags),
        FrontendName => name(out, r.frontend),
        FrontendNameTransport => {
            if flags.quote {
                out.push('"');
            }
            out.push_str(r.frontend);
            if r.frontend_ssl {
                out.push('~');
            }
            if flags.quote {
                out.push('"');
            }
        }
        BackendName => name(out, r.backend.unwrap_or(r.frontend)),
        ServerName => name(out, r.server.unwrap_or("<NOSRV>")),
        ServerIp => ip(out, r.server_addr.map(|a| a.ip()), false, flags),
        ServerPort => port(out, r.server_addr.map(|a| a.port()), flags),
        BackendSrcIp => ip(out, r.backend_src.map(|a| a.ip()), false, flags),
        BackendSrcPort => port(out, r.backend_src.map(|a| a.port()), flags),
        StatusCode => push_i64(out, i64::from(r.status)),
        BytesRead => push_u64(out, r.bytes_out),
        BytesUploaded => push_u64(out, r.bytes_in),
        RequestLine | RequestLineClf => request_line(out, r.request_line, flags),
        GlobalFlags => {}
        // Cookie captures and TLS are not supported: 2.6's output without them.
        CookieReq | CookieRes | SslCipher | SslVersion => text(out, None, flags, Enc::None),
        CapturedRequestHeaders => captures(out, r.captured_request, flags, false),
        CapturedResponseHeaders => captures(out, r.captured_response, flags, false),
        CapturedRequestHeadersClf => captures(out, r.captured_request, flags, true),
        CapturedResponseHeadersClf => captures(out, r.captured_response, flags, true),
        Tu => push_i64(out, r.tt),
        TR => push_i64(out, r.treq),
        AcceptDateGmt => date_with_zone(out, r.accept_date, false),
        AcceptDateLocal => date_with_zone(out, r.accept_date, true),
        RequestDateGmt => date_with_zone(out, r.request_date.unwrap_or(r.accept_date), false),
        RequestDateLocal => date_with_zone(out, r.request_date.unwrap_or(r.accept_date), true),
        AcceptTimestamp => counter(out, epoch(r.accept_date) as u64, flags),
        RequestTimestamp => counter(
            out,
            epoch(r.request_date.unwrap_or(r.accept_date)) as u64,
            flags,
        ),
        Ms => {
            let ms = r
                .accept_date
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.subsec_millis())
                .unwrap_or(0);
            push3(out, ms);
        }
        RequestCounter => counter(out, r.stream_id, flags),
        LogCounter => counter(out, r.log_count, flags),
        Method | Path | PathOnly | Query | Uri | HttpVersion => {
            let Some(line) = r.request_line else {
                // A bad request: 2.6 prints `<BADREQ>` for each part.
                return request_line(out, None, flags);
            };
            let (m, u, ver) = request_parts(line);
            let path = || {
                let p = &u[..u.iter().position(|&c| c == b'?').unwrap_or(u.len())];
                p
            };
            match v {
                Method => text(out, Some(m), flags, Enc::Url),
                Uri => text(out, Some(u), flags, Enc::Url),
                Path | PathOnly => text(out, Some(path()), flags, Enc::Url),
                HttpVersion => text(out, Some(ver), flags, Enc::Url),
                _ => {
                    // `%HQ` without a query string is empty, not `-`.
                    let q = &u[path().len()..];
                    if q.is_empty() && !flags.quote {
                        return;
                    }
                    text(out, Some(q), flags, Enc::Url)
                }
            }
        }
        TermState => {
            out.push(r.term.cause as char);
            out.push(r.term.phase as char);
        }
        TermStateCookie => {
            out.push(r.term.cause as char);
            out.push(r.term.phase as char);
            out.push(r.cookie_flags[0] as char);
            out.push(r.cookie_flags[1] as char);
        }
        Tq => push_i64(out, r.tq),
        Tw => push_i64(out, r.tw),
        Tc => push_i64(out, r.tc),
        Tr => push_i64(out, r.tr),
        Ta => push_i64(out, r.ta),
        Tt => push_i64(out, r.tt),
        Th => push_i64(out, r.th),
        Ti => push_i64(out, r.ti),
        // From unrounded times, as 2.6: both ms counts run from the stream's start.
        Td => push_i64(
            out,
            if r.tt < 0 || r.t_data < 0 {
                -1
            } else {
                r.tt - r.t_data
            },
        ),
        AcceptDate => date(out, r.accept_date),
        RequestDate => date(out, r.request_date.unwrap_or(r.accept_date)),
        Pid => counter(out, u64::from(std::process::id()), flags),
        ActConn => push_u64(out, u64::from(r.actconn)),
        FeConn => push_u64(out, u64::from(r.feconn)),
        BeConn => push_u64(out, u64::from(r.beconn)),
        SrvConn => push_u64(out, u64::from(r.srvconn)),
        Retries => {
            if r.redispatched {
                out.push('+');
            }
            push_u64(out, u64::from(r.retries))
        }
        SrvQueue => push_u64(out, u64::from(r.srv_queue)),
        BackendQueue => push_u64(out, u64::from(r.backend_queue)),
        HostName => name(out, hostname()),
        UniqueId => text(out, r.unique_id.map(str::as_bytes), flags, Enc::None),
    }
}

/// Three digits, zero-padded (milliseconds).
fn push3(out: &mut String, n: u32) {
    let n = n.min(999);
    out.push(char::from(b'0' + (n / 100) as u8));
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

fn epoch(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The host's name (`%H`), read once.
fn hostname() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let mut buf = [0u8; 256];
        // SAFETY: buffer and its length are valid.
        let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if r != 0 {
            return "-".into();
        }
        let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..n]).into_owned()
    })
}

/// Broken-down local time of `t`: (year, month 0-11, day, hour, min, sec, ms, gmtoff).
pub(crate) fn local_tm(t: SystemTime) -> (i32, usize, u32, u32, u32, u32, u32, i64) {
    /// Year, month, day, hour, minute, second, UTC offset.
    type Fields = (i32, usize, u32, u32, u32, u32, i64);
    thread_local! {
        // Lines come many per second: `localtime_r` (a lock and a conversion) once a second.
        static LAST: Cell<Option<(u64, Fields)>> = const { Cell::new(None) };
    }
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let convert = || {
        let secs = d.as_secs() as libc::time_t;
        // SAFETY: zeroed tm is valid; localtime_r fills it.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        unsafe {
            libc::localtime_r(&secs, &mut tm);
        }
        (
            tm.tm_year + 1900,
            tm.tm_mon.clamp(0, 11) as usize,
            tm.tm_mday as u32,
            tm.tm_hour as u32,
            tm.tm_min as u32,
            tm.tm_sec as u32,
            tm.tm_gmtoff,
        )
    };
    let (y, mo, day, h, mi, s, off) = LAST.with(|last| match last.get() {
        Some((secs, f)) if secs == d.as_secs() => f,
        _ => {
            let f = convert();
            last.set(Some((d.as_secs(), f)));
            f
        }
    });
    (y, mo, day, h, mi, s, d.subsec_millis(), off)
}

pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `25/Nov/2026:12:45:38.099`, local time (`%t`, `%tr`, the httplog date).
pub(crate) fn date(out: &mut String, t: SystemTime) {
    let (y, mo, d, h, mi, s, ms, _) = local_tm(t);
    let _ = write!(
        out,
        "{:02}/{}/{:04}:{:02}:{:02}:{:02}.{:03}",
        d, MONTHS[mo], y, h, mi, s, ms
    );
}

/// `25/Nov/2026:12:45:38 +0000` in UTC (`%T`, `%trg`), or local time with its offset
/// (`%Tl`, `%trl`).
fn date_with_zone(out: &mut String, t: SystemTime, local: bool) {
    let (y, mo, d, h, mi, s, _, off) = if local { local_tm(t) } else { utc_tm(t) };
    let sign = if off < 0 { '-' } else { '+' };
    let off = off.unsigned_abs();
    let _ = write!(
        out,
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} {sign}{:02}{:02}",
        d,
        MONTHS[mo],
        y,
        h,
        mi,
        s,
        off / 3600,
        off / 60 % 60
    );
}

/// [`local_tm`]'s fields in UTC, from the civil calendar (Howard Hinnant's algorithm).
fn utc_tm(t: SystemTime) -> (i32, usize, u32, u32, u32, u32, u32, i64) {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year as i32,
        (month - 1) as usize,
        day as u32,
        (rem / 3600) as u32,
        (rem / 60 % 60) as u32,
        (rem % 60) as u32,
        d.subsec_millis(),
        0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::record::TermFlags;

    #[test]
    fn spaces_collapse_as_in_haproxy() {
        let (c, f) = (ConnAddr::Unknown, ConnAddr::Unknown);
        let r = LogRecord::new(&c, &f, SystemTime::UNIX_EPOCH, "fe");
        let expr = LogFormatExpr {
            parts: vec![
                LogFormatPart::Literal("  a  b ".into()),
                LogFormatPart::Literal("  c".into()),
                LogFormatPart::Var {
                    var: LogVar::FrontendName,
                    flags: LogFlags::default(),
                },
                LogFormatPart::Literal("   ".into()),
            ],
        };
        let mut s = String::new();
        render(&expr, &r, None, &mut s);
        assert_eq!(s, "a b cfe ");
    }

    #[test]
    fn dates_with_zone() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_099);
        let mut s = String::new();
        date_with_zone(&mut s, t, false);
        assert_eq!(s, "14/Nov/2023:22:13:20 +0000");
        let leap = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_709_210_096);
        s.clear();
        date_with_zone(&mut s, leap, false);
        assert_eq!(s, "29/Feb/2024:12:34:56 +0000");
    }

    #[test]
    fn tcplog_line_matches_haproxy_shape() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_099);
        let (c, f) = (
            ConnAddr::Inet("127.0.0.1:41116".parse().unwrap()),
            ConnAddr::Inet("127.0.0.1:8000".parse().unwrap()),
        );
        let mut r = LogRecord::new(&c, &f, t, "l1");
        r.backend = Some("l1");
        r.server = Some("s1");
        (r.tw, r.tc, r.tt) = (1, 0, 0);
        r.bytes_out = 6;
        r.term = TermFlags::default();
        (r.actconn, r.feconn) = (2, 1);
        let mut s = String::new();
        render(&tcplog(), &r, None, &mut s);
        let (head, tail) = s.split_once(']').unwrap();
        assert!(head.starts_with("127.0.0.1:41116 ["), "{s}");
        assert!(head.ends_with(".099"), "{s}");
        assert_eq!(tail, " l1 l1/s1 1/0/0 6 -- 2/1/0/0/0 0/0");
        r.server = None;
        r.redispatched = true;
        r.retries = 3;
        r.term = TermFlags::new(b'S', b'C');
        s.clear();
        render(&tcplog(), &r, None, &mut s);
        assert!(
            s.ends_with(" l1 l1/<NOSRV> 1/0/0 6 SC 2/1/0/0/+3 0/0"),
            "{s}"
        );
    }
}
