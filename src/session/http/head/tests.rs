use super::*;

fn req(s: &str) -> Parsed<Request> {
    parse_request(s.as_bytes())
}

fn invalid(s: &str) -> bool {
    matches!(req(s), Parsed::Invalid)
}

#[test]
fn simple_request_parses_with_lowercase_names() {
    let Parsed::Done(r, n) = req("GET /a?b HTTP/1.1\r\nHost: x\r\n\r\nrest") else {
        panic!("not parsed")
    };
    assert_eq!(n, 30);
    assert_eq!(
        (r.method.as_str(), r.uri.as_str(), r.minor),
        ("GET", "/a?b", 1)
    );
    assert_eq!(r.headers[0].name, "host");
    assert_eq!(r.framing, Framing::None);
}

#[test]
fn partial_head_asks_for_more() {
    assert!(matches!(
        req("GET / HTTP/1.1\r\nHost: x\r\n"),
        Parsed::Partial
    ));
}

// Each of these got a 400 from HAProxy 2.6.12.
#[test]
fn smuggling_vectors_are_rejected() {
    assert!(invalid(
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
    ));
    assert!(invalid("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"));
    assert!(invalid("GET / HTTP/1.1\r\nContent-Length: 1,2\r\n\r\n"));
    assert!(invalid("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"));
    assert!(invalid(
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"
    ));
    assert!(invalid(
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
    ));
    assert!(invalid("GET / HTTP/1.1\r\nHo st: a\r\n\r\n"));
    assert!(invalid("GARBAGE\r\n\r\n"));
}

// HAProxy 2.6.12 accepts and merges these.
#[test]
fn identical_content_lengths_merge() {
    for s in [
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1,1\r\n\r\n",
    ] {
        let Parsed::Done(r, _) = req(s) else {
            panic!("{s}")
        };
        assert_eq!(r.framing, Framing::Length(1));
        assert_eq!(r.headers.len(), 1);
        assert_eq!(r.headers[0].value, b"1");
    }
}

#[test]
fn te_and_cl_keep_chunked_and_force_close() {
    let Parsed::Done(r, _) =
        req("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
    else {
        panic!()
    };
    assert_eq!(r.framing, Framing::Chunked);
    assert!(r.forced_close);
    assert!(r.headers.iter().all(|h| h.name != "content-length"));
}

#[test]
fn connection_header_is_consumed() {
    let Parsed::Done(r, _) = req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") else {
        panic!()
    };
    assert!(r.conn_keep_alive && !r.conn_close && r.headers.is_empty());
}

#[test]
fn response_framing() {
    let f = |s: &str, head| match parse_response(s.as_bytes(), head) {
        Parsed::Done(r, _) => Some(r.framing),
        _ => None,
    };
    assert_eq!(
        f("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false),
        Some(Framing::Length(5))
    );
    assert_eq!(
        f("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true),
        Some(Framing::None)
    );
    assert_eq!(f("HTTP/1.1 204 No\r\n\r\n", false), Some(Framing::None));
    assert_eq!(
        f("HTTP/1.1 200 OK\r\n\r\n", false),
        Some(Framing::UntilClose)
    );
    assert_eq!(
        f(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            false
        ),
        Some(Framing::Chunked)
    );
    assert_eq!(f("garbage\r\n\r\n", false), None);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary bytes never panic the request or response parsers, and
        /// a completed head never claims more bytes than it was given.
        #[test]
        fn arbitrary_heads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Parsed::Done(_, n) = parse_request(&bytes) {
                prop_assert!(n <= bytes.len());
            }
            if let Parsed::Done(_, n) = parse_response(&bytes, false) {
                prop_assert!(n <= bytes.len());
            }
        }

        /// Structured but hostile requests: random methods, targets, header
        /// names/values (with CR/LF/NUL and obs-fold), Content-Length and
        /// Transfer-Encoding combinations.
        #[test]
        fn hostile_requests_are_parsed_or_rejected(
            method in "[A-Z]{1,8}|[ -~]{0,6}",
            target in "/[ -~]{0,40}",
            headers in proptest::collection::vec(
                ("[a-zA-Z-]{1,20}|Content-Length|Transfer-Encoding|[ -~]{0,5}",
                 "[ -~]{0,30}|chunked|[0-9]{1,12}|-1|\\x00|\r\n x"),
                0..12),
        ) {
            let mut s = format!("{method} {target} HTTP/1.1\r\n");
            for (n, v) in &headers {
                s.push_str(&format!("{n}: {v}\r\n"));
            }
            s.push_str("\r\n");
            match parse_request(s.as_bytes()) {
                Parsed::Done(r, n) => {
                    prop_assert!(n <= s.len());
                    // A request we accept has one unambiguous framing.
                    let cls = r.headers.iter().filter(|h| h.name == "content-length").count();
                    prop_assert!(cls <= 1 || r.framing != Framing::None);
                }
                Parsed::Partial | Parsed::Invalid => {}
            }
        }
    }
}
