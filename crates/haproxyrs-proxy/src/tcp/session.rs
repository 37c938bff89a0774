//! [`Session`]: one TCP-mode client connection from accept to its log line, as one
//! hand-written future (the task tokio spawns for the connection).
//!
//! An idle proxied connection is mostly this future, so it is kept flat: the client and
//! server connections are stored once, next to the relay state (which holds no buffer
//! and no pipe while idle, see [`super::relay`]). The steps before the relay (connection
//! rules, PROXY header, content rules with `inspect-delay`, backend choice, connect) run
//! in one boxed `async` block that owns the client connection and is freed once the
//! server connection is up; the log record is built only when the session ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use super::relay::{Relay, RelayEnd, RelayTimeouts};
use super::{choose_backend, log_end, Outcome};
use crate::backend::{BackendConnGuard, BackendRt, ConnectRequest, QueuePos, ServerConn};
use crate::log::TermFlags;
use crate::runtime::conn::{ClientConn, ConnAddr, Stream};
use crate::runtime::frontend::FrontendRt;
use crate::runtime::session::prelude;
use crate::server::SlotGuard;

/// The future serving one TCP-mode connection.
pub struct Session {
    fe: Arc<FrontendRt>,
    state: State,
}

// `Relaying` is the steady state and stored inline on purpose (boxing it would add an
// allocation per connection).
#[allow(clippy::large_enum_variant)]
enum State {
    /// Before the relay; the boxed future owns the client connection meanwhile.
    Setup(Pin<Box<dyn Future<Output = Setup> + Send>>),
    /// Both connections are up: bytes flow.
    Relaying(Connected),
    /// Finished (logged).
    Done,
}

/// How the setup ended (moved once, from the setup future into the session).
#[allow(clippy::large_enum_variant)]
enum Setup {
    /// Closed before any backend work (connection rule, bad PROXY header): no log line.
    Closed,
    /// Rejected or no server connection: logged with what was done.
    Failed(ClientConn, Outcome),
    Connected(Connected),
}

/// An established session: everything an idle connection holds. The server
/// connection's log fields are kept compact (this sizes every idle connection).
struct Connected {
    client: ClientConn,
    server: Stream,
    /// The server's connection slot (and its server), released when the relay ends.
    slot: SlotGuard,
    server_addr: ConnAddr,
    backend: Arc<BackendRt>,
    /// Counts the session on the backend (`%bc`) until the relay ends.
    in_backend: BackendConnGuard,
    /// `%Tw` and `%Tc` in milliseconds, `%rc`, and the redispatch mark.
    tw: u32,
    tc: u32,
    retries: u32,
    redispatched: bool,
    queue: QueuePos,
    relay: Relay,
}

impl Connected {
    fn new(
        client: ClientConn,
        sc: ServerConn,
        backend: Arc<BackendRt>,
        in_backend: BackendConnGuard,
        relay: Relay,
    ) -> Connected {
        let ms32 = |d: Duration| d.as_millis().min(u128::from(u32::MAX)) as u32;
        Connected {
            client,
            server: sc.stream,
            slot: sc.slot,
            server_addr: sc.addr,
            backend,
            in_backend,
            tw: ms32(sc.queue_time),
            tc: ms32(sc.connect_time),
            retries: sc.retries,
            redispatched: sc.redispatched,
            queue: sc.queue,
            relay,
        }
    }
}

impl Session {
    pub fn new(fe: Arc<FrontendRt>, conn: ClientConn) -> Session {
        let setup = Box::pin(setup(Arc::clone(&fe), conn));
        Session {
            fe,
            state: State::Setup(setup),
        }
    }
}

/// Everything before the relay.
async fn setup(fe: Arc<FrontendRt>, conn: ClientConn) -> Setup {
    let Some(conn) = prelude(&fe, conn).await else {
        return Setup::Closed;
    };
    let mut out = Outcome::new();
    let Some(backend) = choose_backend(&fe, &conn, &mut out).await else {
        return Setup::Failed(conn, out);
    };
    let in_backend = backend.enter();
    let req = ConnectRequest {
        src: &conn.peer,
        dst: &conn.local,
        hash_key: None,
        persist: None,
        first: None,
    };
    match backend.connect(&req).await {
        Ok(server) => {
            let relay = Relay::new(&RelayTimeouts::of(fe.cfg(), backend.cfg()));
            Setup::Connected(Connected::new(conn, server, backend, in_backend, relay))
        }
        Err(e) => {
            out.connect_failed(e);
            // The backend count is released before the log line, as after a relay.
            drop(in_backend);
            Setup::Failed(conn, out)
        }
    }
}

impl Future for Session {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Setup(f) => match ready!(f.as_mut().poll(cx)) {
                    // Frees the setup future before relaying: only `Connected` remains.
                    Setup::Connected(c) => this.state = State::Relaying(c),
                    Setup::Closed => this.state = State::Done,
                    Setup::Failed(conn, out) => {
                        this.state = State::Done;
                        log_end(&this.fe, &conn, &out);
                    }
                },
                State::Relaying(c) => {
                    let end = ready!(c.relay.poll_relay(cx, &mut c.client.stream, &mut c.server));
                    let State::Relaying(c) = std::mem::replace(&mut this.state, State::Done) else {
                        unreachable!("matched above")
                    };
                    finish(&this.fe, c, end);
                }
                State::Done => return Poll::Ready(()),
            }
        }
    }
}

/// Ends a relayed session: closes the server side (its slot and the backend count are
/// released first, as HAProxy logs `%bc`/`%sc` after them) and logs.
fn finish(fe: &FrontendRt, c: Connected, end: RelayEnd) {
    let Connected {
        client,
        server,
        slot,
        server_addr,
        backend,
        in_backend,
        tw,
        tc,
        retries,
        redispatched,
        queue,
        relay,
    } = c;
    let (bytes_in, bytes_out) = relay.bytes();
    let [cause, phase] = end.term();
    // `%bi`/`%bp`: a system call, made only for a format that shows them.
    let backend_src = crate::log::render::shows_backend_src(&fe.cfg().log_format)
        .then(|| server.local_addr().socket_addr())
        .flatten();
    let out = Outcome {
        backend: Some(backend),
        server: Some(Arc::clone(slot.server())),
        server_addr,
        backend_src,
        tw: i64::from(tw),
        tc: i64::from(tc),
        retries,
        redispatched,
        queue,
        // Counted before the slot goes: a queued session may take it at once.
        srv_conns: Some(slot.server().cur_conns().saturating_sub(1)),
        term: TermFlags::new(cause, phase),
        bytes_in,
        bytes_out,
    };
    drop(relay);
    drop(server);
    drop(slot);
    drop(in_backend);
    log_end(fe, &client, &out);
}

#[cfg(test)]
mod tests {
    /// An idle proxied connection is mostly this future (plus the two sockets' reactor
    /// registrations): this fails if something bloats it. tokio allocates a task as one
    /// 128-byte-aligned cell (header, future, trailer: ~100 bytes besides the future), so
    /// at most 536 bytes keep the task at 640 bytes; 48 more bytes cost a whole 128.
    #[test]
    fn an_idle_session_stays_small() {
        let size = std::mem::size_of::<super::Session>();
        assert!(
            size <= 536,
            "a TCP connection's task future is {size} bytes"
        );
    }
}
