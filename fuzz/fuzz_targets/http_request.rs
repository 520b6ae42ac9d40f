//! Any bytes as a client's request head: the parser answers Done,
//! Partial or Invalid, never panics, and a Done head fits in the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard::session::http::head::{Parsed, parse_request};

fuzz_target!(|data: &[u8]| {
    if let Parsed::Done(_, n) = parse_request(data) {
        assert!(n <= data.len());
    }
    for line in data.split(|&b| b == b'\n') {
        let _ = switchyard::session::http::body::chunk_size(line);
    }
});
