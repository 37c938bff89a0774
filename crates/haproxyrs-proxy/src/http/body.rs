//! Message body framing (RFC 9112 §6–§7) as an explicit state machine.
//!
//! [`BodyDecoder::decode`] reads wire bytes and writes the body as it goes back on the wire:
//! Content-Length and close-delimited bodies unchanged, chunked bodies re-framed canonically
//! (chunk extensions dropped, sizes in lower-case hex without leading zeros, trailer names
//! lower-cased), as HAProxy 2.6 does. Chunk lines must end in CRLF: a bare LF there is refused
//! (STRICT: 2.6.12 accepts it; later versions refuse it). "Need more bytes" is not an error:
//! `decode` returns how much it consumed and keeps its state.

use std::io::Write;

/// How a message body is delimited, decided from the head (see [`super::framing`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body (HEAD responses, 1xx/204/304, requests without CL/TE).
    Empty,
    Length(u64),
    Chunked,
    /// A response read until the server closes.
    UntilClose,
}

/// Why a body was refused (400 on the request side, 502 on the response side).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("invalid chunk size line")]
    ChunkSize,
    #[error("chunk size too large")]
    ChunkOverflow,
    #[error("missing CRLF after chunk data")]
    ChunkDataEnd,
    #[error("invalid trailer field")]
    Trailer,
    #[error("line too long in chunked framing")]
    LineTooLong,
}

/// Longest chunk-size line (with extensions) or trailer line we wait for.
const MAX_LINE: usize = 8192;
/// 2.6 refuses chunk sizes this large (its parser keeps 52 bits).
const MAX_CHUNK: u64 = 1 << 52;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Content-Length: bytes still to come.
    Length(u64),
    /// Waiting for a full chunk-size line.
    ChunkSize,
    /// Inside chunk data.
    ChunkData(u64),
    /// Waiting for the CRLF after chunk data.
    ChunkDataEnd,
    /// After the last chunk: trailer lines until an empty line.
    Trailers,
    UntilClose,
    Done,
}

/// Decodes one message body; one per message, reset with [`BodyDecoder::new`].
#[derive(Clone, Debug)]
pub struct BodyDecoder {
    state: State,
    /// Body bytes seen (payload only), for logs and `%U`.
    pub payload: u64,
    /// Trailer names and values seen (for `%B`, see [`BodyDecoder::htx_size`]).
    trailers: u64,
    chunked: bool,
}

impl BodyDecoder {
    pub fn new(kind: BodyKind) -> BodyDecoder {
        let state = match kind {
            BodyKind::Empty | BodyKind::Length(0) => State::Done,
            BodyKind::Length(n) => State::Length(n),
            BodyKind::Chunked => State::ChunkSize,
            BodyKind::UntilClose => State::UntilClose,
        };
        BodyDecoder {
            state,
            payload: 0,
            trailers: 0,
            chunked: kind == BodyKind::Chunked,
        }
    }

    /// What the body adds to a message's size as 2.6 logs it (`%B`, see
    /// [`super::log::htx_head_size`]): payload, trailer names and values, and 1 for the end
    /// of a chunked body.
    pub fn htx_size(&self) -> u64 {
        self.payload + self.trailers + u64::from(self.chunked && self.is_done())
    }

    /// The whole body has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The body runs until the peer closes.
    pub fn until_close(&self) -> bool {
        self.state == State::UntilClose
    }

    /// The close-delimited body ended with the connection.
    pub fn finish_on_close(&mut self) {
        if self.state == State::UntilClose {
            self.state = State::Done;
        }
    }

    /// Decode from `input`, appending the re-framed body to `out`. Returns the number of
    /// input bytes consumed; bytes not consumed must be offered again with more after them.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, BodyError> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            let step = match self.state {
                State::Done => return Ok(pos),
                State::Length(n) => {
                    let take = n.min(rest.len() as u64) as usize;
                    out.extend_from_slice(&rest[..take]);
                    self.payload += take as u64;
                    self.state = if take as u64 == n {
                        State::Done
                    } else {
                        State::Length(n - take as u64)
                    };
                    take
                }
                State::UntilClose => {
                    out.extend_from_slice(rest);
                    self.payload += rest.len() as u64;
                    rest.len()
                }
                State::ChunkSize => self.chunk_size(rest, out)?,
                State::ChunkData(n) => {
                    let take = n.min(rest.len() as u64) as usize;
                    out.extend_from_slice(&rest[..take]);
                    self.payload += take as u64;
                    self.state = if take as u64 == n {
                        State::ChunkDataEnd
                    } else {
                        State::ChunkData(n - take as u64)
                    };
                    take
                }
                State::ChunkDataEnd => self.chunk_data_end(rest, out)?,
                State::Trailers => self.trailer_line(rest, out)?,
            };
            if step == 0 {
                return Ok(pos);
            }
            pos += step;
        }
    }

    /// chunk = chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1); chunk-size = 1*HEXDIG.
    fn chunk_size(&mut self, rest: &[u8], out: &mut Vec<u8>) -> Result<usize, BodyError> {
        let Some(line) = crlf_line(rest)? else {
            return Ok(0);
        };
        let text = &rest[..line];
        let digits = text
            .iter()
            .position(|b| !b.is_ascii_hexdigit())
            .unwrap_or(text.len());
        if digits == 0 {
            return Err(BodyError::ChunkSize);
        }
        let mut size: u64 = 0;
        for &d in &text[..digits] {
            let v = (d as char).to_digit(16).unwrap_or(0) as u64;
            size = size
                .checked_mul(16)
                .and_then(|s| s.checked_add(v))
                .filter(|&s| s < MAX_CHUNK)
                .ok_or(BodyError::ChunkOverflow)?;
        }
        // BWS then optional `;ext`; 2.6 accepts `5 ;ext` and drops the extensions.
        let mut i = digits;
        while i < text.len() && (text[i] == b' ' || text[i] == b'\t') {
            i += 1;
        }
        if i < text.len() {
            if text[i] != b';' {
                return Err(BodyError::ChunkSize);
            }
            if text[i..]
                .iter()
                .any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
            {
                return Err(BodyError::ChunkSize);
            }
        }
        if size == 0 {
            out.extend_from_slice(b"0\r\n");
            self.state = State::Trailers;
        } else {
            let _ = write!(out, "{size:x}\r\n");
            self.state = State::ChunkData(size);
        }
        Ok(line + 2)
    }

    fn chunk_data_end(&mut self, rest: &[u8], out: &mut Vec<u8>) -> Result<usize, BodyError> {
        if rest.len() < 2 {
            if rest.first().is_some_and(|&b| b != b'\r') {
                return Err(BodyError::ChunkDataEnd);
            }
            return Ok(0);
        }
        if &rest[..2] != b"\r\n" {
            return Err(BodyError::ChunkDataEnd);
        }
        out.extend_from_slice(b"\r\n");
        self.state = State::ChunkSize;
        Ok(2)
    }

    /// trailer-section = *( field-line CRLF ) CRLF (RFC 9112 §7.1.2).
    fn trailer_line(&mut self, rest: &[u8], out: &mut Vec<u8>) -> Result<usize, BodyError> {
        let Some(line) = crlf_line(rest)? else {
            return Ok(0);
        };
        let text = &rest[..line];
        if text.is_empty() {
            out.extend_from_slice(b"\r\n");
            self.state = State::Done;
            return Ok(2);
        }
        let n = text
            .iter()
            .position(|&b| !super::head::is_tchar(b))
            .unwrap_or(text.len());
        if n == 0 || text.get(n) != Some(&b':') {
            return Err(BodyError::Trailer);
        }
        let value = trim(&text[n + 1..]);
        if value.contains(&0) {
            return Err(BodyError::Trailer);
        }
        self.trailers += (n + value.len()) as u64;
        for &b in &text[..n] {
            out.push(b.to_ascii_lowercase());
        }
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
        Ok(line + 2)
    }
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', r @ ..] = v {
        v = r;
    }
    while let [r @ .., b' ' | b'\t'] = v {
        v = r;
    }
    v
}

/// Length of the line at the start of `rest` if its CRLF has arrived. A bare LF or a CR not
/// followed by LF is an error (STRICT for the bare LF); an over-long line is an error.
fn crlf_line(rest: &[u8]) -> Result<Option<usize>, BodyError> {
    match memchr::memchr2(b'\r', b'\n', rest) {
        Some(i) if rest[i] == b'\n' => Err(BodyError::ChunkSize),
        Some(i) if i + 1 < rest.len() => {
            if rest[i + 1] == b'\n' {
                Ok(Some(i))
            } else {
                Err(BodyError::ChunkSize)
            }
        }
        Some(i) if i > MAX_LINE => Err(BodyError::LineTooLong),
        Some(_) => Ok(None),
        None if rest.len() > MAX_LINE => Err(BodyError::LineTooLong),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: BodyKind, input: &[u8]) -> Result<(usize, Vec<u8>, bool), BodyError> {
        let mut d = BodyDecoder::new(kind);
        let mut out = Vec::new();
        let n = d.decode(input, &mut out)?;
        Ok((n, out, d.is_done()))
    }

    /// Feed one byte at a time: the result must match the one-shot decode.
    fn bytewise(kind: BodyKind, input: &[u8]) -> Result<(Vec<u8>, bool), BodyError> {
        let mut d = BodyDecoder::new(kind);
        let mut out = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        for &b in input {
            pending.push(b);
            let n = d.decode(&pending, &mut out)?;
            pending.drain(..n);
        }
        Ok((out, d.is_done()))
    }

    #[test]
    fn content_length() {
        let (n, out, done) = run(BodyKind::Length(5), b"helloGET").unwrap();
        assert_eq!((n, &out[..], done), (5, &b"hello"[..], true));
        let (n, _, done) = run(BodyKind::Length(10), b"hello").unwrap();
        assert_eq!((n, done), (5, false));
    }

    #[test]
    fn chunked_canonical() {
        let input = b"005;name=val\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-T: 1 \r\n\r\nNEXT";
        let want = b"5\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nx-t: 1\r\n\r\n";
        let (n, out, done) = run(BodyKind::Chunked, input).unwrap();
        assert_eq!(&out[..], &want[..]);
        assert_eq!(n, input.len() - 4);
        assert!(done);
        let (out2, done2) = bytewise(BodyKind::Chunked, &input[..n]).unwrap();
        assert_eq!(out2, out);
        assert!(done2);
    }

    #[test]
    fn chunked_accepts_bws_before_ext() {
        let (_, out, done) = run(BodyKind::Chunked, b"5 ;ext\r\nhello\r\n0\r\n\r\n").unwrap();
        assert_eq!(&out[..], b"5\r\nhello\r\n0\r\n\r\n");
        assert!(done);
    }

    #[test]
    fn chunked_refusals() {
        for bad in [
            &b"0x5\r\nhello\r\n0\r\n\r\n"[..],
            b"+5\r\nhello\r\n0\r\n\r\n",
            b"Z\r\nhello\r\n0\r\n\r\n",
            b"\r\nhello\r\n0\r\n\r\n",
            b"ffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
            b"2\r\r;a\r\nhi\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"5\nhello\n0\n\n",
            b"5\r\nhello\r\n0\r\n: x\r\n\r\n",
        ] {
            assert!(
                run(BodyKind::Chunked, bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
            assert!(bytewise(BodyKind::Chunked, bad).is_err());
        }
    }

    #[test]
    fn endless_chunk_line_is_bounded() {
        let line = vec![b'1'; MAX_LINE + 10];
        assert!(run(BodyKind::Chunked, &line).is_err());
    }

    #[test]
    fn until_close() {
        let mut d = BodyDecoder::new(BodyKind::UntilClose);
        let mut out = Vec::new();
        assert_eq!(d.decode(b"abc", &mut out).unwrap(), 3);
        assert!(!d.is_done());
        d.finish_on_close();
        assert!(d.is_done());
    }
}
