//! The HTML form of the stats page: a plain table per proxy with the same fields as the
//! CSV (haproxyrs's own page, not 2.6's). `stats hide-version` leaves the version out.

use std::fmt::Write;

use haproxyrs_config::ir::StatsPage;

use super::Snapshot;

/// Escape text for an HTML element or attribute.
fn esc(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}

pub fn render(page: &StatsPage, snap: &Snapshot, out: &mut String) {
    out.push_str("<!DOCTYPE html>\n<html><head><title>Statistics Report</title></head><body>\n");
    out.push_str("<h1>Statistics Report");
    if !page.hide_version {
        let _ = write!(out, " for haproxyrs {}", env!("CARGO_PKG_VERSION"));
    }
    let _ = writeln!(out, " (pid {})</h1>", snap.pid);
    for px in &snap.proxies {
        out.push_str("<h2>");
        esc(&px.name, out);
        out.push_str(
            "</h2>\n<table border=\"1\">\n<tr><th>name</th><th>status</th>\
            <th>weight</th><th>act</th><th>bck</th><th>qcur</th><th>scur</th><th>slim</th>\
            <th>stot</th></tr>\n",
        );
        if let Some(fe) = &px.frontend {
            let _ = writeln!(
                out,
                "<tr><td>FRONTEND</td><td>OPEN</td><td></td><td></td><td></td><td></td>\
                 <td>{}</td><td>{}</td><td></td></tr>",
                fe.scur, fe.slim
            );
        }
        if let Some(be) = &px.backend {
            for s in &be.servers {
                out.push_str("<tr><td>");
                esc(&s.name, out);
                let _ = writeln!(
                    out,
                    "</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                     <td></td><td>{}</td></tr>",
                    s.status,
                    s.weight,
                    u8::from(!s.backup),
                    u8::from(s.backup),
                    s.qcur,
                    s.scur,
                    s.stot
                );
            }
            let up = be.servers.iter().any(|s| s.usable);
            let _ = writeln!(
                out,
                "<tr><td>BACKEND</td><td>{}</td><td></td><td></td><td></td><td>{}</td>\
                 <td>{}</td><td></td><td></td></tr>",
                if up { "UP" } else { "DOWN" },
                be.qcur,
                be.scur
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body></html>\n");
}
