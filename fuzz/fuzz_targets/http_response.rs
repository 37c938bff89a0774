//! Fuzz the response head parser and response framing analysis (the server side): no input
//! may panic; an accepted head re-encodes and parses again.
#![no_main]

use haproxyrs_proxy::http::{encode, framing, head, message::Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut buf = rest.to_vec();
    let mut fields = Vec::new();
    let limits = head::Limits::default();
    let Ok(Some(h)) = head::parse_response(&mut buf, &limits, &mut fields) else {
        return;
    };
    let mut msg = Message::default();
    msg.load_response(&buf, &h, &fields);
    if framing::analyze_response(&mut msg, flags & 1 != 0, flags & 2 != 0).is_err() {
        return;
    }
    let mut out = Vec::new();
    encode::response(&msg, None, &mut out);
    let mut f2 = Vec::new();
    let big = head::Limits::new(usize::MAX / 2, 0, usize::MAX / 2);
    let h2 = head::parse_response(&mut out, &big, &mut f2)
        .expect("re-encoded head must parse")
        .expect("re-encoded head must be complete");
    assert_eq!(h2.status, msg.status);
    assert_eq!(f2.len(), msg.fields.len());
});
