//! Expected values were checked against HAProxy 2.6.12 (`haproxy -c` with
//! `timeout connect <value>`; see check-cases 32 and 33).

use super::*;

#[test]
fn time_valid_table() {
    let cases: &[(&str, u32)] = &[
        ("5000", 5000),
        ("1m", 60_000),
        ("1h", 3_600_000),
        ("100ms", 100),
        ("2d", 172_800_000),
        ("500us", 1), // rounded up
        ("0", 0),
        ("0s", 0),
        ("0us", 0),
        ("1us", 1),
        ("1001us", 2),
        ("2147483647", 2_147_483_647),
        ("2147483648us", 2_147_484),
        ("24d", 2_073_600_000),
        ("18446744073709551616", 0), // wraps to 0 in HAProxy too: accepted
        ("18446744073709551617", 1),
    ];
    for (text, want) in cases {
        assert_eq!(parse_time(text), Ok(*want), "{text}");
    }
}

#[test]
fn time_errors_table() {
    let bad: &[(&str, u8)] = &[
        ("5x", b'x'),
        ("5u", b'u'),
        ("5M", b'M'),
        ("5S", b'S'),
        ("5D", b'D'),
        ("5H", b'H'),
        ("-5", b'-'),
        ("+5", b'+'),
        ("5.5s", b'.'),
        ("5e", b'e'),
        ("0x10", b'x'),
        ("", 0),
    ];
    for (text, ch) in bad {
        match parse_time(text) {
            Err(TimeError::UnexpectedChar { byte, .. }) => assert_eq!(byte, *ch, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    for text in [
        "2147483648",
        "25d",
        "4294967296",
        "99999999999999999999999",
        "1844674407370955162",
    ] {
        assert_eq!(parse_time(text), Err(TimeError::Overflow), "{text}");
    }
    assert_eq!(parse_time("18014398509481984d"), Err(TimeError::Underflow));
}

#[test]
fn time_trailing_junk_is_a_warning() {
    let t = parse_time_in("5sx", TimeUnit::Ms).unwrap();
    assert_eq!(t.value, 5000);
    assert_eq!(
        t.warning.as_deref(),
        Some(
            "unexpected character 'x' after the timer value '5sx', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions."
        )
    );
    for (text, v) in [
        ("5msx", 5),
        ("5usx", 1),
        ("5mx", 300_000),
        ("5ms5", 5),
        ("5h0", 18_000_000),
    ] {
        let t = parse_time_in(text, TimeUnit::Ms).unwrap();
        assert_eq!(t.value, v, "{text}");
        assert!(t.warning.is_some(), "{text}");
    }
    assert!(parse_time_in("5s", TimeUnit::Ms).unwrap().warning.is_none());
}

#[test]
fn time_messages_match_haproxy() {
    assert_eq!(
        parse_time("5x")
            .unwrap_err()
            .quoted_msg("5x", "timeout connect"),
        "unexpected character 'x' in 'timeout connect'"
    );
    assert_eq!(
        parse_time("25d")
            .unwrap_err()
            .quoted_msg("25d", "timeout connect"),
        "timer overflow in argument '25d' to 'timeout connect' (maximum value is 2147483647 ms or ~24.8 days)"
    );
    assert_eq!(
        parse_time("18014398509481984d")
            .unwrap_err()
            .quoted_msg("18014398509481984d", "timeout connect"),
        "timer underflow in argument '18014398509481984d' to 'timeout connect' (minimum non-null value is 1 ms)"
    );
}

#[test]
fn time_in_seconds() {
    assert_eq!(parse_time_s("300"), Ok(300));
    assert_eq!(parse_time_s("5m"), Ok(300));
    assert_eq!(parse_time_s("1500ms"), Ok(2));
    assert_eq!(parse_time_s("1d"), Ok(86400));
    assert_eq!(parse_time_in("90s", TimeUnit::Min).map(|t| t.value), Ok(2));
    assert_eq!(parse_time_in("3", TimeUnit::Us).map(|t| t.value), Ok(3));
    assert_eq!(
        parse_time_in("3ms", TimeUnit::Us).map(|t| t.value),
        Ok(3000)
    );
}

#[test]
fn size_table() {
    assert_eq!(parse_size("0"), Ok(0));
    assert_eq!(parse_size("16384"), Ok(16384));
    assert_eq!(parse_size("1k"), Ok(1024));
    assert_eq!(parse_size("1K"), Ok(1024));
    assert_eq!(parse_size("2m"), Ok(2 << 20));
    assert_eq!(parse_size("3G"), Ok(3 << 30));
    assert_eq!(parse_size("4294967295"), Ok(4_294_967_295));
    assert_eq!(
        parse_size("4294967296"),
        Err(SizeError { byte: b'6', pos: 9 })
    );
    assert_eq!(parse_size("4g"), Err(SizeError { byte: b'g', pos: 1 }));
    assert_eq!(parse_size("1kb"), Err(SizeError { byte: b'b', pos: 2 }));
    assert_eq!(parse_size("1x"), Err(SizeError { byte: b'x', pos: 1 }));
    assert_eq!(parse_size(""), Err(SizeError { byte: 0, pos: 0 }));
    assert_eq!(parse_size("-1"), Err(SizeError { byte: b'-', pos: 0 }));
}

#[test]
fn c_integer_laxness() {
    // check-case 80: `maxconn lots` and `maxconn -5` are accepted silently.
    assert_eq!(atol("lots"), 0);
    assert_eq!(atol("-5"), -5);
    assert_eq!(atol("  42abc"), 42);
    assert_eq!(atol("+7"), 7);
    assert_eq!(atol("99999999999999999999"), i64::MAX);
    assert_eq!(atol("-99999999999999999999"), i64::MIN);
    assert_eq!(atoi("4294967376"), 80); // `bind 127.0.0.1:4294967376` is valid
    assert_eq!(atoi("99999999999999999999"), -1);
    assert_eq!(atoi("99999999999"), 1_215_752_191);
    assert_eq!(strtol("12x"), (12, 2));
    assert_eq!(strtol("x"), (0, 0));
    assert_eq!(strtol("-"), (0, 0));
    assert_eq!(strtoul("-1"), (u64::MAX, 2));
    assert_eq!(strtoul("18446744073709551616"), (u64::MAX, 20));
    assert!(is_full_integer("-12"));
    assert!(!is_full_integer("12 "));
    assert!(!is_full_integer(""));
}

proptest::proptest! {
    #[test]
    fn time_and_size_never_panic(s in "\\PC*") {
        let _ = parse_time(&s);
        let _ = parse_time_s(&s);
        let _ = parse_size(&s);
        let _ = atoi(&s);
        let _ = strtoul(&s);
    }

    #[test]
    fn time_digits_never_panic(s in "[0-9]{0,30}(us|ms|s|m|h|d|x)?[a-z0-9]{0,2}") {
        let _ = parse_time_in(&s, TimeUnit::Us);
        let _ = parse_time_in(&s, TimeUnit::Day);
    }
}
