//! Any bytes as a server's response head (for GET and for HEAD).
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard::session::http::head::{Parsed, parse_response};

fuzz_target!(|data: &[u8]| {
    for head_req in [false, true] {
        if let Parsed::Done(_, n) = parse_response(data, head_req) {
            assert!(n <= data.len());
        }
    }
});
