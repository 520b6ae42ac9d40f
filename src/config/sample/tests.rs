//! Messages compared with what haproxy 2.6.12 prints (captured by running
//! the real binary on one-line configs), plus robustness properties.

use std::path::{Path, PathBuf};

use super::*;

fn here() -> &'static Path {
    Path::new(".")
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("swy-sample-{tag}-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&d);
    d
}

fn smp_err(t: &str) -> String {
    parse_sample_expr(t).err().unwrap_or_else(|| "OK".into())
}

fn words_err(ws: &[&str]) -> String {
    let mut i = 0;
    parse_sample_expr_words(ws, &mut i, here())
        .err()
        .unwrap_or_else(|| "OK".into())
}

/// `acl a <args>`: the text HAProxy prints after `error detected while
/// parsing ACL 'a' : ` (including its final period).
fn acl_err(line: &str) -> String {
    let ws: Vec<&str> = line.split(' ').collect();
    match parse_acl_named("a", &ws, here()) {
        Ok(_) => "OK".into(),
        Err(e) => format!("{e}."),
    }
}

#[test]
fn sample_messages_match_haproxy() {
    // `http-request set-var(txn.x) <expr>`: HAProxy prints "<msg>."
    let cases = [
        ("frob", "unknown fetch method 'frob'"),
        ("req.hdr(host),frob", "unknown converter 'frob'"),
        (
            "req.hdr(host,a)",
            "fetch method 'req.hdr' : failed to parse 'a' as type 'integer' at position 2",
        ),
        ("str(a,b)", "fetch method 'str' : expected ')' before ',b)'"),
        ("str(a)x", "missing comma after fetch keyword 'str'"),
        ("str(a", "fetch method 'str' : expected ')'"),
        (",lower", "missing fetch method"),
        (
            "str(a),lower(1)",
            "invalid arg 1 in converter 'lower' : expected ')' before '1)'",
        ),
        (
            "str(a),lower(",
            "invalid arg 1 in converter 'lower' : expected ')'",
        ),
        ("str(a),lower)", "missing comma after converter 'lower'"),
        ("method,add(1)", "converter 'add' cannot be applied"),
        (
            "str(a),field(x,a)",
            "invalid arg 1 in converter 'field' : failed to parse 'x' as type 'integer' at position 1",
        ),
        (
            "str(a),field(1)",
            "invalid arg 2 in converter 'field' : missing arguments (got 1/2), type 'string' expected",
        ),
        (
            "str(a),field",
            "invalid arg 1 in converter 'field' : expected type 'integer' at position 1, but got nothing",
        ),
        (
            "int(x)",
            "fetch method 'int' : failed to parse 'x' as type 'integer' at position 1",
        ),
        (
            "int",
            "fetch method 'int' : expected type 'integer' at position 1, but got nothing",
        ),
        (
            "src,ipmask(33)",
            "invalid arg 1 in converter 'ipmask' : failed to parse '33' as type 'IPv4 mask' at position 1",
        ),
        (
            "str(a),map(/nonexist)",
            "invalid args in converter 'map' : failed to open pattern file </nonexist>",
        ),
        (
            "str(a),bytes(1,2,3)",
            "invalid arg 2 in converter 'bytes' : expected ')' before ',3)'",
        ),
        (
            "str(a),field(1,a,2,3)",
            "invalid arg 3 in converter 'field' : expected ')' before ',3)'",
        ),
        (
            "str(a),field(1,a,x)",
            "invalid arg 3 in converter 'field' : failed to parse 'x' as type 'integer' at position 3",
        ),
        (
            "ipv4(1.2.3)",
            "fetch method 'ipv4' : failed to parse '1.2.3' as type 'IPv4 address' at position 1",
        ),
        (
            "ipv6(zz)",
            "fetch method 'ipv6' : failed to parse 'zz' as type 'IPv6 address' at position 1",
        ),
        ("Str(a)", "unknown fetch method 'Str'"),
        ("str(a),Lower", "unknown converter 'Lower'"),
        ("a:b", "unknown fetch method 'a:b'"),
        ("a$b", "unknown fetch method 'a'"),
        ("a+b/c", "unknown fetch method 'a+b'"),
        ("int(1)(2)", "missing comma after fetch keyword 'int'"),
        (
            "always_true(1)",
            "fetch method 'always_true' : expected ')' before '1)'",
        ),
        (
            "str(a),lower(,)",
            "invalid arg 1 in converter 'lower' : expected ')' before ',)'",
        ),
        (
            "int(0x10)",
            "fetch method 'int' : failed to parse '0x10' as type 'integer' at position 1",
        ),
        (
            "int(",
            "fetch method 'int' : expected type 'integer' at position 1, but got nothing",
        ),
        ("str(\"a)", "fetch method 'str' : expected ')'"),
        (
            "str(a\\,b)",
            "fetch method 'str' : expected ')' before ',b)'",
        ),
        (
            "var(foo)",
            "invalid args in fetch method 'var' : invalid variable name 'foo'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'",
        ),
        (
            "var()",
            "invalid args in fetch method 'var' : Empty variable name cannot be accepted",
        ),
        (
            "str(a),json(x)",
            "invalid args in converter 'json' : Unexpected input code type. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps'",
        ),
        (
            "str(a),field(0,a)",
            "invalid args in converter 'field' : Unexpected value 0 for index",
        ),
        (
            "str(a),field(1,)",
            "invalid args in converter 'field' : Empty separators list",
        ),
        (
            "int(1),add(abc)",
            "invalid args in converter 'add' : expects an integer or a variable name",
        ),
        (
            "str(a),concat(a,foo)",
            "invalid args in converter 'concat' : failed to register variable name 'foo'",
        ),
        (
            "str(a),regsub(a,b,x)",
            "invalid args in converter 'regsub' : invalid regex flag 'x', only 'i' and 'g' are supported",
        ),
        (
            "str(a),map_str_int(/x,x)",
            "invalid arg 2 in converter 'map_str_int' : failed to parse 'x' as type 'integer' at position 2",
        ),
        (
            "src,ipmask(24,129)",
            "invalid arg 2 in converter 'ipmask' : failed to parse '129' as type 'IPv6 mask' at position 2",
        ),
        (
            "str(a),strcmp(a)",
            "invalid args in converter 'strcmp' : failed to register variable name 'a'",
        ),
    ];
    for (e, want) in cases {
        assert_eq!(smp_err(e), want, "expr {e}");
    }
    // all accepted by haproxy
    for ok in [
        "str",
        "src,lower",
        "str(a),lower()",
        "str(a),lower,,upper",
        "str(a),,lower",
        "always_true,lower",
        "str(),lower",
        "req.hdr()",
        "req.hdr(,1)",
        "int(-5)",
        "int(+5)",
        "int(99999999999999999999)",
        "str(a),hex",
        "str(a),ipmask(24)",
        "int(1),ipmask(24)",
        "str('a,b')",
        "str(\"a)b\"),lower",
        "str(a\\ b)",
        "str(a\\)",
        "str(a\\\\)",
        "int(-)",
        "var(txn.a,b)",
        "str(a),json",
        "str(a),bytes(-1)",
        "int(1),add(txn.y)",
        "int(1),add()",
        "str(a),regsub(a,b,gi)",
        "src,ipmask(24,ff::)",
        "hdr(a,-1)",
        "str(a),concat(a,txn.y)",
        "req.hdr(host),lower,",
    ] {
        assert_eq!(smp_err(ok), "OK", "expr {ok}");
    }
}

#[test]
fn sample_types_and_refs() {
    let e = parse_sample_expr("req.hdr(host,2),lower,length").expect("valid");
    assert_eq!(e.fetch, "req.hdr");
    assert_eq!(e.fetch_args, vec!["host".to_string(), "2".to_string()]);
    assert_eq!(e.fetch_typed, vec![Arg::Str("host".into()), Arg::Int(2)]);
    assert_eq!(e.convs.len(), 2);
    assert_eq!(e.out_type, crate::grammar::samples::SmpType::Sint);
    let n = parse_sample_expr("nbsrv(be1)").expect("valid");
    assert_eq!(n.refs.len(), 1);
    assert_eq!(n.refs[0].value, "be1");
    assert_eq!(n.refs[0].kind, crate::grammar::samples::ArgType::Be);
    // an empty backend arg means "this proxy"
    let n = parse_sample_expr("nbsrv").expect("valid");
    assert_eq!(n.refs[0].value, "");
    assert_eq!(
        unsupported_in(&parse_sample_expr("ssl_c_used,json(utf8)").expect("ok")),
        vec!["ssl_c_used".to_string()]
    );
    assert!(unsupported_in(&parse_sample_expr("path,lower").expect("ok")).is_empty());
}

#[test]
fn legacy_multi_word_and_prefix() {
    // `http-request set-var(txn.x) str(a) lower` is valid
    let ws = ["str(a)", "lower", "if", "TRUE"];
    let mut i = 0;
    let e = parse_sample_expr_words(&ws, &mut i, here()).expect("valid");
    assert_eq!(e.convs.len(), 1);
    assert_eq!(i, 2);
    assert_eq!(words_err(&["str(a),lower", "frob"]), "OK");
    // log-format: stops at ']'
    let (e, end) = parse_sample_expr_prefix("req.hdr(host),lower]x", here()).expect("valid");
    assert_eq!((e.convs.len(), end), (1, 19));
    let err = parse_sample_expr_prefix("req.hdr(host),frobnicate]", here())
        .err()
        .unwrap_or_default();
    // check-case 72
    assert_eq!(
        logformat_error("req.hdr(host),frobnicate]", &err),
        "failed to parse sample expression <req.hdr(host),frobnicate]> : unknown converter 'frobnicate'."
    );
}

#[test]
fn acl_messages_match_haproxy() {
    let cases = [
        // check-case 70
        (
            "frobnicate_fetch -m str foo",
            "unknown fetch method 'frobnicate_fetch' in ACL expression 'frobnicate_fetch'.",
        ),
        (
            "path_beg(1) /x",
            "ACL keyword 'path_beg' : expected ')' before '1)'.",
        ),
        (
            "req.hdr(host,x) foo",
            "fetch method 'req.hdr' : failed to parse 'x' as type 'integer' at position 2 in ACL expression 'req.hdr(host,x)'.",
        ),
        (
            "req.hdr(host),frob foo",
            "unknown converter 'frob' in ACL expression 'req.hdr(host),frob'.",
        ),
        (
            "req.hdr(host),field(1) foo",
            "invalid arg 2 in converter 'field' : missing arguments (got 1/2), type 'string' expected in ACL expression 'req.hdr(host),field(1)'.",
        ),
        (
            "req.hdr(host)x foo",
            "missing comma after fetch keyword 'req.hdr' in ACL expression 'req.hdr(host)x'.",
        ),
        (
            "method,add(1) foo",
            "ACL keyword 'method' : converter 'add' cannot be applied..",
        ),
        (
            "hdr(host)x foo",
            "ACL keyword 'hdr' : missing comma after fetch keyword..",
        ),
        (
            "hdr(host),frob foo",
            "ACL keyword 'hdr' : unknown converter 'frob'..",
        ),
        (
            "hdr(host),lower(1) foo",
            "ACL keyword 'hdr' : invalid arg 1 in converter 'lower' : expected ')' before '1)'..",
        ),
        (
            "hdr(host),lower)x foo",
            "ACL keyword 'hdr' : missing comma after converter 'lower'..",
        ),
        (
            "hdr(host,x) foo",
            "ACL keyword 'hdr' : failed to parse 'x' as type 'integer' at position 2.",
        ),
        (
            "hdr(host),map(/nonexist) foo",
            "ACL keyword 'hdr' : invalid args in converter 'map' : failed to open pattern file </nonexist>..",
        ),
        (
            "path -m frob foo",
            "unknown matching method 'frob' when parsing ACL expression.",
        ),
        (
            "path -m",
            "unknown matching method '' when parsing ACL expression.",
        ),
        (
            "path -f /nonexist",
            "failed to open pattern file </nonexist>.",
        ),
        (
            "path -x foo",
            "'-x' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'.",
        ),
        (
            "src 1.2.3.4/33",
            "'1.2.3.4/33' is not a valid IPv4 or IPv6 address.",
        ),
        (
            "src 300.1.1.1",
            "'300.1.1.1' is not a valid IPv4 or IPv6 address.",
        ),
        ("src_port 1:2:3", "'1:2:3' is not a valid number range."),
        ("src_port a", "'a' is not a number."),
        ("src_port 10:5", "'10:5' is not a valid number range."),
        ("src_port eq x", "'x' is not a number."),
        (
            "path_reg (",
            "regex '(' is invalid (error=missing closing parenthesis, erroffset=1).",
        ),
        (
            "path_reg [z-a]",
            "regex '[z-a]' is invalid (error=range out of order in character class, erroffset=3).",
        ),
        ("hdr_cnt(host) ab", "'ab' is not a number."),
        ("path -m int x", "'x' is not a number."),
        (
            "path -m ip foo",
            "'foo' is not a valid IPv4 or IPv6 address.",
        ),
        ("path -u x", "the argument of -u must be an integer."),
        ("path_len x", "'x' is not a number."),
        (
            "method -m int 1",
            "matching method 'int' cannot be used with fetch keyword 'method'.",
        ),
        (
            "path -f /dev/null -m beg x",
            "'-m' must only be specified before patterns and files in parsing ACL expression.",
        ),
        ("path -m bin zz", "an hex digit is expected (found 'z')."),
        (
            "path -m bin abc",
            "an even number of hex digit is expected.",
        ),
        ("req.ssl_ver 3.x", "'3.x' is not a dotted number."),
        (
            "req.ssl_ver gt x",
            "'x' is neither a number nor a supported operator.",
        ),
        ("req.ssl_ver 70000.1", "'70000.1' is not a dotted number."),
        (
            "req.ssl_ver 3.1-x",
            "'3.1-x' is not a valid dotted number range.",
        ),
        (
            "req.ssl_ver gt 70000",
            "'70000' contains too large a major value.",
        ),
        (
            "req.ssl_ver gt 3.70000",
            "'3.70000' contains too large a minor value.",
        ),
        (
            "src_port gt x",
            "'x' is neither a number nor a supported operator.",
        ),
        (
            "src_port -5",
            "'-5' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'.",
        ),
        (
            "src_port 99999999999999999999999",
            "'99999999999999999999999' is not a number.",
        ),
        ("src_port :", "':' is not a valid number range."),
        ("src_port +5", "'+5' is not a number."),
        (
            "var(txn.x) foo",
            "matching method must be specified first (using '-m') when using a sample fetch of this type ('var').",
        ),
        ("src -n 10.1", "'10.1' is not a valid IPv4 or IPv6 address."),
        (
            "src 1.2.3.4/",
            "'1.2.3.4/' is not a valid IPv4 or IPv6 address.",
        ),
        (
            "src 0x7f.1",
            "'0x7f.1' is not a valid IPv4 or IPv6 address.",
        ),
        (
            "src ::1/129",
            "'::1/129' is not a valid IPv4 or IPv6 address.",
        ),
        ("src [::1]", "'[::1]' is not a valid IPv4 or IPv6 address."),
        (
            "hdr(x) -m reg a(",
            "regex 'a(' is invalid (error=missing closing parenthesis, erroffset=2).",
        ),
        (
            "path_beg(x) /",
            "ACL keyword 'path_beg' : expected ')' before 'x)'.",
        ),
    ];
    for (line, want) in cases {
        assert_eq!(acl_err(line), want, "acl {line}");
    }
    for ok in [
        "hdr foo",
        "method FOO",
        "src -m str 1",
        "path -m beg -f /dev/null",
        "path -u 5 x",
        "path -u",
        "path -m bin 0aFF",
        "path -m len 3",
        "req.ssl_ver 3.1",
        "req.ssl_ver gt 3.1",
        "src_port gt 1:3",
        "src_port lt -5",
        "src_port 1-5",
        "var(txn.x) -m str foo",
        "var(txn.x),lower foo",
        "path_len gt 5",
        "payload(0,1) 00",
        "always_true",
        "path -i",
        "path -m found x",
        "path -m bool x",
        "always_true 1",
        "str(a),ipmask(24) 1.2.3.0/24",
        "path -m ip 1.2.3.4",
        "ssl_fc_sni_end x",
        "path -n",
        "path -M x",
        "path -- -i",
        "path_len 5:",
        "path_len :5",
        "src 1.2.3.4/255.0.255.0",
        "src_port gt",
        "src_port gt 5 6",
        "path_reg a(?=b)",
        "path -m regm x",
        "path_reg a++",
        "src 1.2.3.4/24",
        "src ::1/64",
        "src 10/8",
        "src 10.1",
        "src ::ffff:1.2.3.4",
        "src 1.2.3.4/0",
        "req.ssl_ver 3.1:3.5",
        "req.ssl_ver 3-4",
        "path lower",
        "req.hdr(host) lower foo",
    ] {
        assert_eq!(acl_err(ok), "OK", "acl {ok}");
    }
    assert_eq!(
        check_acl_name("a@b").err().unwrap_or_default(),
        "character '@' is not permitted in acl name 'a@b'."
    );
    assert!(check_acl_name("a.b:c-d_e").is_ok());
}

#[test]
fn acl_warnings_and_files() {
    let d = parse_acl_named("a", &["path"], here()).expect("valid");
    assert_eq!(
        d.warnings,
        vec!["parsing acl keyword 'path' :\n  no pattern to match against were provided, so this ACL will never match.\n  If this is what you intended, please add '--' to get rid of this warning.\n  If you intended to match only for existence, please use '-m found'.\n  If you wanted to force an int to match as a bool, please use '-m bool'.\n\n".to_string()]
    );
    assert!(
        parse_acl_named("a", &["always_true"], here())
            .expect("ok")
            .warnings
            .is_empty()
    );
    let d = parse_acl_named("a", &["path_reg", "(?<n>a)"], here()).expect("valid");
    assert_eq!(d.warnings, vec!["parsing acl 'a' :\n  matching 'path_reg' for pattern '(?<n>a)' is likely a mistake and probably\n  not what you want. Maybe you need to remove the extraneous space before '('.\n  If you are really sure this is not an error, please insert '--' between the\n  match and the pattern to make this warning message disappear.\n".to_string()]);

    let dir = tmpdir("files");
    let _ = std::fs::write(dir.join("bad.lst"), "# comment\n\n  1.2.3.4  \nfoo\n");
    let _ = std::fs::write(dir.join("good.lst"), "1.2.3.4\n10.0.0.0/8\n");
    let _ = std::fs::write(dir.join("badre.lst"), "a(\n");
    let err = parse_acl(&["src", "-f", "bad.lst"], &dir)
        .err()
        .unwrap_or_default();
    assert_eq!(
        err,
        "'1.2.3.4  ' is not a valid IPv4 or IPv6 address at line 3 of file 'bad.lst'"
    );
    let ok = parse_acl(&["src", "-f", "good.lst"], &dir).expect("valid");
    assert_eq!(ok.patterns.len(), 2);
    let err = parse_acl(&["path_reg", "-f", "badre.lst"], &dir)
        .err()
        .unwrap_or_default();
    assert_eq!(
        err,
        "regex 'a(' is invalid (error=missing closing parenthesis, erroffset=2) at line 1 of file 'badre.lst'"
    );
    let dirname = dir.to_string_lossy().into_owned();
    let err = parse_acl(&["src", "-f", &dirname], &dir)
        .err()
        .unwrap_or_default();
    assert_eq!(
        err,
        format!("error encountered while reading  <{dirname}> : Is a directory")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn operators_rewrite_like_haproxy() {
    let d = parse_acl(&["src_port", "gt", "5", "le", "7", "1:3"], here()).expect("valid");
    let texts: Vec<&str> = d.patterns.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, vec!["6:", ":7", "1:3"]);
    let d = parse_acl(&["req.ssl_ver", "lt", "3.1"], here()).expect("valid");
    assert_eq!(d.patterns[0].text, ":3.0");
}

#[test]
fn cond_messages_match_haproxy() {
    let declared = |n: &str| n == "mine" || n == "TRUE";
    let err = |line: &str| {
        let ws: Vec<&str> = line.split(' ').collect();
        parse_cond(&ws, &declared, here())
            .err()
            .unwrap_or_else(|| "OK".into())
    };
    // check-case 71
    assert_eq!(
        err("if is_never_declared"),
        "no such ACL : 'is_never_declared'"
    );
    assert_eq!(err("if !nosuch"), "no such ACL : 'nosuch'");
    assert_eq!(err("if {path /x}"), "no such ACL : '{path'");
    assert_eq!(err("if { path /x"), "missing closing '}' in condition");
    assert_eq!(
        err("if { frob }"),
        "unknown fetch method 'frob' in ACL expression 'frob'"
    );
    assert_eq!(err("if { }"), "missing fetch method in ACL expression ''");
    assert_eq!(err("if }"), "no such ACL : '}'");
    assert_eq!(
        err("if { path -m frob x }"),
        "unknown matching method 'frob' when parsing ACL expression"
    );
    assert_eq!(err("if HTTP_3.0"), "no such ACL : 'HTTP_3.0'");
    assert_eq!(err("if TRUE {"), "missing closing '}' in condition");
    for ok in [
        "if",
        "if TRUE",
        "unless FALSE",
        "if ! TRUE",
        "if !TRUE",
        "if TRUE or",
        "if or TRUE",
        "if TRUE || FALSE",
        "if TRUE or or FALSE",
        "if TRUE FALSE",
        "if { path /x }",
        "if { path /x } !{ path /y }",
        "if !{ path /x }",
        "if ! { path /x }",
        "if TRUE !",
        "if LOCALHOST HTTP_1.0 METH_GET",
        "if TRUE OR FALSE",
        "if !!TRUE",
        "if mine",
        "if WAIT_END RDP_COOKIE REQ_CONTENT HTTP_CONTENT HTTP_URL_ABS HTTP_URL_SLASH HTTP_URL_STAR HTTP_2.0 HTTP_1.1 HTTP METH_CONNECT METH_DELETE METH_HEAD METH_OPTIONS METH_POST METH_PUT METH_TRACE",
    ] {
        assert_eq!(err(ok), "OK", "cond {ok}");
    }
    let c = parse_cond(
        &["unless", "mine", "!TRUE", "or", "{", "path", "/x", "}"],
        &declared,
        here(),
    )
    .expect("ok");
    assert_eq!(c.polarity, CondPolarity::Unless);
    assert_eq!(c.suites.len(), 2);
    assert_eq!(c.suites[0].len(), 2);
    assert!(c.suites[0][1].neg);
    // declared names win over predefined ones
    assert!(matches!(c.suites[0][1].acl, AclRef::Named(_)));
    assert!(matches!(c.suites[1][0].acl, AclRef::Anonymous(_)));
    let c = parse_cond(&["if", "", "nosuch"], &declared, here())
        .expect("empty word ends the condition");
    assert!(c.suites.is_empty());
    let c = parse_cond(&["if", "{", "path", "}"], &declared, here()).expect("ok");
    assert_eq!(c.warnings.len(), 1);
    for (name, _) in cond::PREDEFINED {
        assert!(predefined_acl(name).is_some(), "{name}");
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sample_parser_never_panics(s in "\\PC{0,40}") {
            let _ = parse_sample_expr(&s);
            let _ = parse_sample_expr_prefix(&s, Path::new("."));
        }

        #[test]
        fn sample_parser_never_panics_on_syntax(s in "[a-z_.()',\"\\\\0-9 ]{0,30}") {
            let _ = parse_sample_expr(&s);
        }

        #[test]
        fn acl_parser_never_panics(ws in proptest::collection::vec("[a-z_.(),{}!:/ 0-9-]{0,12}", 0..6)) {
            let refs: Vec<&str> = ws.iter().map(String::as_str).collect();
            let _ = parse_acl(&refs, Path::new("/nonexistent-dir"));
            let mut c = vec!["if"];
            c.extend(refs.iter().copied());
            let _ = parse_cond(&c, &|_| false, Path::new("/nonexistent-dir"));
        }

        #[test]
        fn regex_check_never_panics(s in "\\PC{0,30}") {
            let _ = regex_check::check_regex(&s, true);
        }
    }
}
