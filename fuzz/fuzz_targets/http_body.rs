//! Fuzz the chunked body decoder: no panic, bounded output, and feeding the same bytes in two
//! pieces (split at a fuzzer-chosen point) gives the same result as feeding them at once.
#![no_main]

use haproxyrs_proxy::http::body::{BodyDecoder, BodyKind};
use libfuzzer_sys::fuzz_target;

fn run(parts: &[&[u8]]) -> (Result<(), ()>, Vec<u8>, bool) {
    let mut d = BodyDecoder::new(BodyKind::Chunked);
    let mut out = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    for p in parts {
        pending.extend_from_slice(p);
        match d.decode(&pending, &mut out) {
            Ok(n) => {
                pending.drain(..n);
            }
            Err(_) => return (Err(()), out, false),
        }
    }
    (Ok(()), out, d.is_done())
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let split = data[0] as usize % data.len();
    let body = &data[1..];
    let split = split.min(body.len());
    let whole = run(&[body]);
    let pieces = run(&[&body[..split], &body[split..]]);
    assert_eq!(whole.0, pieces.0);
    if whole.0.is_ok() {
        assert_eq!(whole.1, pieces.1);
        assert_eq!(whole.2, pieces.2);
    }
    // Re-framing grows a body by at most one byte per trailer line (`T:` → `t: `) plus the
    // final framing: the output stays linear in the input.
    assert!(whole.1.len() <= 2 * body.len() + 32);
});
