//! The byte tunnel after `101 Switching Protocols` or a successful `CONNECT`: the bytes
//! already read past the heads on either side are written first, then both connections go
//! to the TCP relay ([`crate::tcp::relay`]: full duplex, splice between sockets, half-close,
//! the client/server/tunnel/fin timeouts), which this module only adapts to the HTTP
//! session's connection types.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::tcp::relay::{Relay, RelayEnd, RelayIo, RelayTimeouts};

/// Which exchange became a tunnel: 2.6 ends an upgraded connection when the server closes
/// its side, but keeps a `CONNECT` tunnel half-open as TCP mode does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Upgrade,
    Connect,
}

/// Relays until both directions are done, a side fails or the tunnel idles past its limit.
/// `to_server`/`to_client` are the bytes already buffered for each side. Returns how it
/// ended and the bytes forwarded (client → server, server → client), leftovers included.
pub async fn run<C: RelayIo, S: RelayIo>(
    client: &mut C,
    server: &mut S,
    to_server: &[u8],
    to_client: &[u8],
    t: &RelayTimeouts,
    kind: Kind,
) -> (RelayEnd, (u64, u64)) {
    // Both at once: either peer may be waiting to be read before it reads anything.
    let (up, down) = tokio::join!(
        flush(server, to_server, t.tunnel.or(t.server), Side::Server, t),
        flush(client, to_client, t.tunnel.or(t.client), Side::Client, t),
    );
    let flushed = (up.unwrap_or(0), down.unwrap_or(0));
    if let Some(end) = up.err().or(down.err()) {
        return (end, flushed);
    }
    let mut relay = Relay::new(t);
    relay.add_bytes(flushed.0, flushed.1);
    if kind == Kind::Upgrade {
        relay.end_on_server_eof();
    }
    let end = std::future::poll_fn(|cx| relay.poll_relay(cx, client, server)).await;
    (end, relay.bytes())
}

#[derive(Clone, Copy)]
enum Side {
    Client,
    Server,
}

/// Writes `bytes` to one side within `limit`; the count written, or how the tunnel ends.
async fn flush<W: RelayIo>(
    dst: &mut W,
    bytes: &[u8],
    limit: Option<Duration>,
    side: Side,
    t: &RelayTimeouts,
) -> Result<u64, RelayEnd> {
    if bytes.is_empty() {
        return Ok(0);
    }
    let written = match limit {
        Some(l) => tokio::time::timeout(l, dst.write_all(bytes)).await,
        None => Ok(dst.write_all(bytes).await),
    };
    match (written, side) {
        (Ok(Ok(())), _) => Ok(bytes.len() as u64),
        // The relay reports a `timeout tunnel` expiry on the client side too (`cD`).
        (Err(_), Side::Server) if t.tunnel.is_none() => Err(RelayEnd::ServerTimeout),
        (Err(_), _) => Err(RelayEnd::ClientTimeout),
        (Ok(Err(_)), Side::Client) => Err(RelayEnd::ClientError),
        (Ok(Err(_)), Side::Server) => Err(RelayEnd::ServerError),
    }
}
