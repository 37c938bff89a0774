//! Benchmark backend: answers every request head with a fixed small response (4-byte body).
// Fast HTTP/1.1 backend: answers every request head with a fixed small response.
use tokio::io::{AsyncReadExt, AsyncWriteExt};
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let port: u16 = std::env::args().nth(1).unwrap().parse().unwrap();
    let l = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    // The same port in UDP is a syslog sink for the proxies' log lines (the `log` scenario).
    let sink = std::net::UdpSocket::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        let mut b = [0u8; 65536];
        while sink.recv(&mut b).is_ok() {}
    });
    let resp = format!("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Type: text/plain\r\n\r\n{:04}", port % 10000).into_bytes();
    loop {
        let (mut s, _) = l.accept().await.unwrap();
        let resp = resp.clone();
        tokio::spawn(async move {
            let _ = s.set_nodelay(true);
            let mut buf = vec![0u8; 65536];
            let mut have = 0;
            loop {
                let n = match s.read(&mut buf[have..]).await { Ok(0) | Err(_) => return, Ok(n) => n };
                have += n;
                let mut out = Vec::new();
                let mut start = 0;
                while let Some(p) = memchr::memmem::find(&buf[start..have], b"\r\n\r\n") {
                    start += p + 4;
                    out.extend_from_slice(&resp);
                }
                buf.copy_within(start..have, 0);
                have -= start;
                if !out.is_empty() && s.write_all(&out).await.is_err() { return; }
            }
        });
    }
}
