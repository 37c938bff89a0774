//! The byte tunnel after `101 Switching Protocols` or a successful `CONNECT`: both directions
//! copied until either side closes, with `timeout tunnel` as the idle limit. Bytes already
//! buffered on either side (read past the heads) are flushed first.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Relay until one side ends or the tunnel stays idle for `idle`.
pub async fn relay<A, B>(
    a: &mut A,
    b: &mut B,
    a_pending: &mut Vec<u8>,
    b_pending: &mut Vec<u8>,
    idle: Option<Duration>,
) -> std::io::Result<()>
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    if !a_pending.is_empty() {
        b.write_all(a_pending).await?;
        a_pending.clear();
    }
    if !b_pending.is_empty() {
        a.write_all(b_pending).await?;
        b_pending.clear();
    }
    let mut abuf = vec![0u8; 16384];
    let mut bbuf = vec![0u8; 16384];
    let (mut a_open, mut b_open) = (true, true);
    while a_open || b_open {
        let step = async {
            tokio::select! {
                r = a.read(&mut abuf), if a_open => Ok::<_, std::io::Error>((true, r?)),
                r = b.read(&mut bbuf), if b_open => Ok((false, r?)),
            }
        };
        let (from_a, n) = match idle {
            Some(t) => match tokio::time::timeout(t, step).await {
                Ok(r) => r?,
                Err(_) => return Ok(()),
            },
            None => step.await?,
        };
        match (from_a, n) {
            (true, 0) => {
                a_open = false;
                let _ = b.shutdown().await;
            }
            (false, 0) => {
                b_open = false;
                let _ = a.shutdown().await;
            }
            (true, n) => b.write_all(&abuf[..n]).await?,
            (false, n) => a.write_all(&bbuf[..n]).await?,
        }
    }
    Ok(())
}
