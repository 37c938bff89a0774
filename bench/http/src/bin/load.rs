//! Closed-loop HTTP load: C connections, each sends a request and waits for its response;
//! prints requests, requests/s, p50 and p99 latency.
// Closed-loop load: C connections, each sends one request and waits for the response.
// args: addr conns seconds mode(ka|close) path
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a: Vec<String> = std::env::args().collect();
    let addr: std::net::SocketAddr = a[1].parse().unwrap();
    let conns: usize = a[2].parse().unwrap();
    let secs: f64 = a[3].parse().unwrap();
    let close = a[4] == "close";
    let path = a.get(5).cloned().unwrap_or("/".into());
    let req = if close { format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") } else { format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n") };
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut hs = Vec::new();
    for _ in 0..conns {
        let req = req.clone().into_bytes();
        hs.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut buf = vec![0u8; 4096];
            'outer: while Instant::now() < end {
                let mut s = match tokio::net::TcpStream::connect(addr).await { Ok(s) => s, Err(_) => break };
                let _ = s.set_nodelay(true);
                loop {
                    let t = Instant::now();
                    if s.write_all(&req).await.is_err() { break; }
                    let mut got = 0usize;
                    loop {
                        let n = match s.read(&mut buf[got..]).await { Ok(0) | Err(_) => { if got > 0 { lat.push(t.elapsed()); } continue 'outer; } Ok(n) => n };
                        got += n;
                        if let Some(p) = memchr::memmem::find(&buf[..got], b"\r\n\r\n") {
                            let head = &buf[..p];
                            let cl = head.split(|&b| b == b'\n').find_map(|l| { let l = std::str::from_utf8(l).ok()?.trim().to_ascii_lowercase(); l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)) }).unwrap_or(0);
                            if got >= p + 4 + cl { break; }
                        }
                    }
                    lat.push(t.elapsed());
                    if close || Instant::now() >= end { break; }
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for h in hs { all.extend(h.await.unwrap()); }
    all.sort();
    let n = all.len();
    let p99 = all.get(n * 99 / 100).copied().unwrap_or_default();
    println!("requests={} rps={:.0} p50_us={} p99_us={}", n, n as f64 / secs, all.get(n/2).map(|d| d.as_micros()).unwrap_or(0), p99.as_micros());
}
