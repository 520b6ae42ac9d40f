use super::*;
use proptest::prelude::*;

fn words(line: &str) -> Vec<String> {
    let env = |n: &str| match n {
        "FOO" => Some("abc".to_string()),
        "SP" => Some("a b  c".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    };
    match tokenize(line.as_bytes(), &env) {
        Ok(w) => w.into_iter().map(|w| w.text).collect(),
        Err(e) => vec![format!("ERR {e:?}")],
    }
}

#[test]
fn quoting_and_escapes() {
    assert_eq!(words("  bind :80 # comment"), ["bind", ":80"]);
    assert_eq!(words("a#b"), ["a"]);
    assert_eq!(words(r#"x "a b" 'c d' e\ f"#), ["x", "a b", "c d", "e f"]);
    assert_eq!(words(r"a\x41b \qz"), ["aAb", r"\qz"]);
    assert_eq!(words(r#"a\"b a\'b"#), ["a\"b", "a'b"]);
    assert_eq!(words(r#"'a\x41' "\$x""#), [r"a\x41", "$x"]);
    assert_eq!(words("a\tb\r"), ["a", "b"]);
}

#[test]
fn env_expansion_only_in_double_quotes() {
    assert_eq!(
        words(r#"m $FOO "$FOO" '$FOO' "${FOO}x""#),
        ["m", "$FOO", "abc", "$FOO", "abcx"]
    );
    assert_eq!(
        words(r#"m "${NOPE-def}" "${FOO-def}""#),
        ["m", "def", "abc"]
    );
    assert_eq!(words(r#"m "${SP[*]}" z"#), ["m", "a", "b", "c", "z"]);
    // An empty expansion in the last word makes the word disappear...
    assert_eq!(words(r#"set-header X "$NOPE""#), ["set-header", "X"]);
    // ...but stays as an empty word in the middle.
    assert_eq!(words(r#"a "" b"#), ["a", "", "b"]);
    assert_eq!(words(r#"m ^/foo$ a$1b"#), ["m", "^/foo$", "a$1b"]);
}

#[test]
fn errors_and_positions() {
    let env = |_: &str| None;
    let e = tokenize(br#"  mode "a$1b""#, &env).unwrap_err();
    assert_eq!(e, LexError::BadVarName { pos: 11 });
    assert_eq!(
        e.render(r#"mode "a$1b""#, 2),
        "forbidden first char in environment variable name at position 11:\n  mode \"a$1b\"\n          ^"
    );
    let e = tokenize(br#"  bind "127.0.0.1:${P:-8090}""#, &env).unwrap_err();
    assert_eq!(e, LexError::UnmatchedBrace { pos: 20 });
    let e = tokenize(br#"x "never closed"#, &env).unwrap_err();
    assert_eq!(e, LexError::UnmatchedQuote { pos: 3 });
    let e = tokenize(br"mode a\x4zb", &env).unwrap_err();
    assert_eq!(e, LexError::BadHex { pos: 7 });
}

#[test]
fn too_many_words() {
    let line: String = (1..=70)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    match tokenize(line.as_bytes(), &|_| None) {
        Err(LexError::TooManyWords { word, .. }) => assert_eq!(word, "64"),
        other => panic!("unexpected {other:?}"),
    }
    let ok: String = (1..=64)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(tokenize(ok.as_bytes(), &|_| None).map(|w| w.len()), Ok(64));
}

proptest! {
    #[test]
    fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = tokenize(&bytes, &|_| Some("v".into()));
    }

    /// Printing words with `quote_word` and reading them back is the identity.
    #[test]
    fn quote_roundtrip(ws in proptest::collection::vec("[ -~]{1,12}", 1..10)) {
        let line = ws.iter().map(|w| crate::config::ast::quote_word(w)).collect::<Vec<_>>().join(" ");
        let back: Vec<String> = tokenize(line.as_bytes(), &|_| None)
            .map(|v| v.into_iter().map(|w| w.text).collect())
            .unwrap_or_default();
        prop_assert_eq!(back, ws);
    }
}
