//! Fuzz the request head parser, framing analysis and canonical re-encoding: no input may
//! panic, and whatever is accepted must re-encode to a head that parses again to the same
//! method, target and fields (the re-emitted form is a fixed point).
#![no_main]

use haproxyrs_proxy::http::{encode, framing, head, message::Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut buf = data.to_vec();
    let mut fields = Vec::new();
    let limits = head::Limits::default();
    let Ok(Some(h)) = head::parse_request(&mut buf, &limits, &mut fields) else {
        return;
    };
    let mut msg = Message::default();
    msg.load_request(&buf, &h, &fields);
    if framing::analyze_request(&mut msg).is_err() {
        return;
    }
    let mut out = Vec::new();
    encode::request(&msg, None, &mut out);
    let mut again = out.clone();
    let mut f2 = Vec::new();
    let big = head::Limits::new(usize::MAX / 2, 0, usize::MAX / 2);
    let h2 = head::parse_request(&mut again, &big, &mut f2)
        .expect("re-encoded head must parse")
        .expect("re-encoded head must be complete");
    assert_eq!(h2.len, out.len());
    assert_eq!(&again[h2.method.clone()], msg.method());
    assert_eq!(&again[h2.uri.clone()], msg.uri());
    assert_eq!(f2.len(), msg.fields.len());
});
