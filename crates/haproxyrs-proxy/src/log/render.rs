//! Renders a log-format expression over a [`LogRecord`]. HAProxy's built-in formats are
//! log-format strings too: [`tcplog`] and [`httplog`] build them once, so `option tcplog`,
//! `option httplog` and a user's `log-format` go through the same code.

use std::cell::Cell;
use std::fmt::Write;
use std::time::SystemTime;

use haproxyrs_config::ir::sample::{LogFlags, LogFormatExpr, LogFormatPart, LogVar, SampleExpr};

use super::record::LogRecord;

/// Renders `%[sample]` parts; the HTTP engine implements it over its transaction.
pub trait SampleRender {
    /// Appends the sample's value; false when it has none (then `-` is printed).
    fn render_sample(&self, expr: &SampleExpr, flags: LogFlags, out: &mut String) -> bool;
}

/// Variables that `%{+Q}` surrounds with quotes (the string-valued ones).
fn quotable(v: LogVar) -> bool {
    use LogVar::*;
    matches!(
        v,
        RequestLine
            | RequestLineClf
            | Method
            | Path
            | PathOnly
            | Query
            | Uri
            | HttpVersion
            | FrontendName
            | FrontendNameTransport
            | BackendName
            | ServerName
            | CapturedRequestHeaders
            | CapturedResponseHeaders
            | UniqueId
            | HostName
            | ClientIp
            | FrontendIp
            | ServerIp
            | BackendSrcIp
    )
}

/// For sessions without sample context: every `%[...]` renders as `-`.
pub struct NoSamples;

impl SampleRender for NoSamples {
    fn render_sample(&self, _expr: &SampleExpr, _flags: LogFlags, _out: &mut String) -> bool {
        false
    }
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
pub fn render(expr: &LogFormatExpr, rec: &LogRecord, samples: &dyn SampleRender, out: &mut String) {
    for part in &expr.parts {
        match part {
            LogFormatPart::Literal(s) => out.push_str(s),
            LogFormatPart::Sample { expr, flags } => {
                if !samples.render_sample(expr, *flags, out) {
                    out.push('-');
                }
            }
            LogFormatPart::Var { var: v, flags } => {
                if flags.quote && quotable(*v) {
                    out.push('"');
                    var(*v, rec, out);
                    out.push('"');
                } else {
                    var(*v, rec, out);
                }
            }
        }
    }
}

fn opt_str(out: &mut String, s: Option<&str>) {
    out.push_str(s.unwrap_or("-"));
}

fn var(v: LogVar, r: &LogRecord, out: &mut String) {
    use LogVar::*;
    match v {
        ClientIp => match &r.client {
            crate::runtime::conn::ConnAddr::Inet(a) => {
                let _ = write!(out, "{}", a.ip());
            }
            crate::runtime::conn::ConnAddr::Unix(_) => out.push_str("unix"),
            crate::runtime::conn::ConnAddr::Unknown => out.push('-'),
        },
        ClientPort => match r.client.port() {
            Some(p) => {
                let _ = write!(out, "{p}");
            }
            None => out.push('-'),
        },
        FrontendIp => match r.frontend_addr.ip() {
            Some(ip) => {
                let _ = write!(out, "{ip}");
            }
            None => out.push_str("unix"),
        },
        FrontendPort => match r.frontend_addr.port() {
            Some(p) => {
                let _ = write!(out, "{p}");
            }
            None => out.push('-'),
        },
        FrontendName => out.push_str(&r.frontend),
        FrontendNameTransport => {
            out.push_str(&r.frontend);
            if r.frontend_ssl {
                out.push('~');
            }
        }
        BackendName => out.push_str(r.backend.as_deref().unwrap_or(&r.frontend)),
        ServerName => out.push_str(r.server.as_deref().unwrap_or("<NOSRV>")),
        ServerIp => match r.server_addr.ip() {
            Some(ip) => {
                let _ = write!(out, "{ip}");
            }
            None => out.push('-'),
        },
        ServerPort => match r.server_addr.port() {
            Some(p) => {
                let _ = write!(out, "{p}");
            }
            None => out.push('-'),
        },
        StatusCode => {
            let _ = write!(out, "{}", r.status);
        }
        BytesRead => {
            let _ = write!(out, "{}", r.bytes_out);
        }
        BytesUploaded => {
            let _ = write!(out, "{}", r.bytes_in);
        }
        RequestLine | RequestLineClf => opt_str(out, r.request_line.as_deref()),
        GlobalFlags => {}
        BackendSrcIp | BackendSrcPort | CookieReq | CookieRes | SslCipher | SslVersion => {
            out.push('-')
        }
        CapturedRequestHeadersClf | CapturedResponseHeadersClf => out.push('-'),
        Tu => num(out, r.tt),
        TR => num(out, r.treq),
        AcceptDateGmt => date_with_zone(out, r.accept_date, false),
        AcceptDateLocal => date_with_zone(out, r.accept_date, true),
        RequestDateGmt => date_with_zone(out, r.request_date.unwrap_or(r.accept_date), false),
        RequestDateLocal => date_with_zone(out, r.request_date.unwrap_or(r.accept_date), true),
        AcceptTimestamp => num(out, epoch(r.accept_date)),
        RequestTimestamp => num(out, epoch(r.request_date.unwrap_or(r.accept_date))),
        Ms => {
            let ms = r
                .accept_date
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.subsec_millis())
                .unwrap_or(0);
            let _ = write!(out, "{ms:03}");
        }
        RequestCounter | LogCounter => out.push('0'),
        Method | Path | PathOnly | Query | Uri | HttpVersion => {
            let line = r.request_line.as_deref().unwrap_or("");
            let mut w = line.split(' ');
            let (m, u, ver) = (w.next(), w.next(), w.next());
            let s = match v {
                Method => m,
                Uri => u,
                Path | PathOnly => u.map(|u| u.split('?').next().unwrap_or("")),
                Query => u.and_then(|u| u.find('?').map(|i| &u[i..])),
                _ => ver,
            };
            opt_str(out, s.filter(|s| !s.is_empty()));
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
        Tq => num(out, r.tq),
        Tw => num(out, r.tw),
        Tc => num(out, r.tc),
        Tr => num(out, r.tr),
        Ta => num(out, r.ta),
        Tt => num(out, r.tt),
        Th => num(out, r.th),
        Ti => num(out, r.ti),
        Td => num(
            out,
            if r.tt < 0 || r.tr < 0 {
                -1
            } else {
                r.tt - r.tr - r.tc.max(0) - r.tw.max(0) - r.tq.max(0)
            },
        ),
        AcceptDate => date(out, r.accept_date),
        RequestDate => date(out, r.request_date.unwrap_or(r.accept_date)),
        Pid => {
            let _ = write!(out, "{}", std::process::id());
        }
        ActConn => num(out, i64::from(r.actconn)),
        FeConn => num(out, i64::from(r.feconn)),
        BeConn => num(out, i64::from(r.beconn)),
        SrvConn => num(out, i64::from(r.srvconn)),
        Retries => {
            if r.redispatched {
                out.push('+');
            }
            num(out, i64::from(r.retries))
        }
        SrvQueue => num(out, i64::from(r.srv_queue)),
        BackendQueue => num(out, i64::from(r.backend_queue)),
        CapturedRequestHeaders => opt_str(out, r.captured_request_headers.as_deref()),
        CapturedResponseHeaders => opt_str(out, r.captured_response_headers.as_deref()),
        HostName => out.push_str(&hostname()),
        UniqueId => opt_str(out, r.unique_id.as_deref()),
    }
}

fn epoch(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn num(out: &mut String, n: i64) {
    let _ = write!(out, "{n}");
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: buffer and its length are valid.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return "-".into();
    }
    let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..n]).into_owned()
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
    use crate::runtime::conn::ConnAddr;

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
        let mut r = LogRecord::new(
            ConnAddr::Inet("127.0.0.1:41116".parse().unwrap()),
            ConnAddr::Inet("127.0.0.1:8000".parse().unwrap()),
            t,
            "l1",
        );
        r.backend = Some("l1".into());
        r.server = Some("s1".into());
        (r.tw, r.tc, r.tt) = (1, 0, 0);
        r.bytes_out = 6;
        r.term = TermFlags::default();
        (r.actconn, r.feconn) = (2, 1);
        let mut s = String::new();
        render(&tcplog(), &r, &NoSamples, &mut s);
        let (head, tail) = s.split_once(']').unwrap();
        assert!(head.starts_with("127.0.0.1:41116 ["), "{s}");
        assert!(head.ends_with(".099"), "{s}");
        assert_eq!(tail, " l1 l1/s1 1/0/0 6 -- 2/1/0/0/0 0/0");
        r.server = None;
        r.redispatched = true;
        r.retries = 3;
        r.term = TermFlags::new(b'S', b'C');
        s.clear();
        render(&tcplog(), &r, &NoSamples, &mut s);
        assert!(
            s.ends_with(" l1 l1/<NOSRV> 1/0/0 6 SC 2/1/0/0/+3 0/0"),
            "{s}"
        );
    }
}
