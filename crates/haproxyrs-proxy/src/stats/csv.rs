//! The `;csv` form of the stats page: 2.6's header line (its exact column list) and one
//! row per frontend, server and backend, proxy by proxy in config order. Only columns the
//! runtime counts are filled; the others stay empty (listed in `docs/compatibility.md`).

use std::fmt::Write;

use super::{ProxyStats, Snapshot};

/// 2.6's columns, in order (`show stat` / `;csv`).
pub const COLUMNS: &[&str] = &[
    "pxname",
    "svname",
    "qcur",
    "qmax",
    "scur",
    "smax",
    "slim",
    "stot",
    "bin",
    "bout",
    "dreq",
    "dresp",
    "ereq",
    "econ",
    "eresp",
    "wretr",
    "wredis",
    "status",
    "weight",
    "act",
    "bck",
    "chkfail",
    "chkdown",
    "lastchg",
    "downtime",
    "qlimit",
    "pid",
    "iid",
    "sid",
    "throttle",
    "lbtot",
    "tracked",
    "type",
    "rate",
    "rate_lim",
    "rate_max",
    "check_status",
    "check_code",
    "check_duration",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
    "hanafail",
    "req_rate",
    "req_rate_max",
    "req_tot",
    "cli_abrt",
    "srv_abrt",
    "comp_in",
    "comp_out",
    "comp_byp",
    "comp_rsp",
    "lastsess",
    "last_chk",
    "last_agt",
    "qtime",
    "ctime",
    "rtime",
    "ttime",
    "agent_status",
    "agent_code",
    "agent_duration",
    "check_desc",
    "agent_desc",
    "check_rise",
    "check_fall",
    "check_health",
    "agent_rise",
    "agent_fall",
    "agent_health",
    "addr",
    "cookie",
    "mode",
    "algo",
    "conn_rate",
    "conn_rate_max",
    "conn_tot",
    "intercepted",
    "dcon",
    "dses",
    "wrew",
    "connect",
    "reuse",
    "cache_lookups",
    "cache_hits",
    "srv_icur",
    "src_ilim",
    "qtime_max",
    "ctime_max",
    "rtime_max",
    "ttime_max",
    "eint",
    "idle_conn_cur",
    "safe_conn_cur",
    "used_conn_cur",
    "need_conn_est",
    "uweight",
    "agg_server_status",
    "agg_server_check_status",
    "agg_check_status",
    "-",
    "ssl_sess",
    "ssl_reused_sess",
    "ssl_failed_handshake",
    "h2_headers_rcvd",
    "h2_data_rcvd",
    "h2_settings_rcvd",
    "h2_rst_stream_rcvd",
    "h2_goaway_rcvd",
    "h2_detected_conn_protocol_errors",
    "h2_detected_strm_protocol_errors",
    "h2_rst_stream_resp",
    "h2_goaway_resp",
    "h2_open_connections",
    "h2_backend_open_streams",
    "h2_total_connections",
    "h2_backend_total_streams",
    "h1_open_connections",
    "h1_open_streams",
    "h1_total_connections",
    "h1_total_streams",
    "h1_bytes_in",
    "h1_bytes_out",
    "h1_spliced_bytes_in",
    "h1_spliced_bytes_out",
];

/// One row being filled: a value per column, empty unless set.
struct Row(Vec<String>);

impl Row {
    fn new(px: &ProxyStats, svname: &str, pid: u32, kind: u8) -> Row {
        let mut r = Row(vec![String::new(); COLUMNS.len()]);
        r.set("pxname", &px.name);
        r.set("svname", svname);
        r.set("pid", pid);
        r.set("iid", px.iid);
        r.set("type", kind);
        r.set("mode", if px.http { "http" } else { "tcp" });
        r
    }

    fn set(&mut self, col: &str, v: impl std::fmt::Display) {
        if let Some(i) = COLUMNS.iter().position(|c| *c == col) {
            self.0[i] = v.to_string();
        }
    }

    fn write(&self, out: &mut String) {
        for v in &self.0 {
            out.push_str(v);
            out.push(',');
        }
        out.push('\n');
    }
}

/// The whole CSV document.
pub fn render(snap: &Snapshot, out: &mut String) {
    out.push_str("# ");
    for c in COLUMNS {
        let _ = write!(out, "{c},");
    }
    out.push('\n');
    for px in &snap.proxies {
        if let Some(fe) = &px.frontend {
            let mut r = Row::new(px, "FRONTEND", snap.pid, 0);
            r.set("scur", fe.scur);
            if fe.slim > 0 {
                r.set("slim", fe.slim);
            }
            r.set("status", "OPEN");
            r.set("sid", 0);
            r.write(out);
        }
        let Some(be) = &px.backend else { continue };
        for s in &be.servers {
            let mut r = Row::new(px, &s.name, snap.pid, 2);
            r.set("qcur", s.qcur);
            r.set("scur", s.scur);
            r.set("stot", s.stot);
            r.set("status", s.status);
            r.set("weight", s.weight);
            r.set("act", u8::from(!s.backup));
            r.set("bck", u8::from(s.backup));
            r.set("sid", s.sid);
            if let Some((rise, fall)) = s.check {
                r.set("check_rise", rise);
                r.set("check_fall", fall);
            }
            if let Some(c) = &s.last_check {
                r.set("check_status", c.status);
                if let Some(code) = c.code {
                    r.set("check_code", code);
                }
                r.set("check_duration", c.duration_ms);
                r.set("check_desc", c.desc);
                r.set("check_health", c.health);
                r.set("last_chk", &c.info);
            }
            r.write(out);
        }
        let mut r = Row::new(px, "BACKEND", snap.pid, 1);
        let usable = |backup: bool| {
            be.servers
                .iter()
                .filter(move |s| s.usable && s.backup == backup)
        };
        let act = usable(false).count();
        let bck = usable(true).count();
        // 2.6's backend weight is the active servers', the backups' when none is up.
        let weight: u32 = if act > 0 { usable(false) } else { usable(true) }
            .map(|s| s.weight)
            .sum();
        r.set("qcur", be.qcur);
        r.set("scur", be.scur);
        r.set("status", if act + bck > 0 { "UP" } else { "DOWN" });
        r.set("weight", weight);
        r.set("act", act);
        r.set("bck", bck);
        r.set("sid", 0);
        r.write(out);
    }
}
