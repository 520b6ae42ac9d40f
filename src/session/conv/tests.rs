use super::*;

fn conv(name: &str, args: &[Arg], input: Smp<'static>) -> Option<Vec<u8>> {
    Conv::compile(name, args)
        .unwrap()
        .apply(input)
        .map(|v| v.to_bytes().into_owned())
}

fn s(x: &str) -> Smp<'static> {
    Smp::owned(x.as_bytes().to_vec())
}

fn a(x: &str) -> Arg {
    Arg::Str(x.into())
}

#[test]
fn documented_field_and_word_examples() {
    let f = |i, c| {
        conv(
            "field",
            &[Arg::Int(i), a("_"), Arg::Int(c)],
            s("f1_f2_f3__f5"),
        )
    };
    assert_eq!(f(5, 1).unwrap(), b"f5");
    assert_eq!(f(2, 0).unwrap(), b"f2_f3__f5");
    assert_eq!(f(2, 2).unwrap(), b"f2_f3");
    assert_eq!(f(-2, 3).unwrap(), b"f2_f3_");
    assert_eq!(f(-3, 0).unwrap(), b"f1_f2_f3");
    let w = |i, c| {
        conv(
            "word",
            &[Arg::Int(i), a("_"), Arg::Int(c)],
            s("f1_f2_f3__f5"),
        )
    };
    assert_eq!(w(4, 1).unwrap(), b"f5");
    assert_eq!(w(2, 0).unwrap(), b"f2_f3__f5");
    assert_eq!(w(3, 2).unwrap(), b"f3__f5");
    assert_eq!(w(-2, 3).unwrap(), b"f1_f2_f3");
    assert_eq!(w(-3, 0).unwrap(), b"f1_f2");
}

#[test]
fn text_and_numbers() {
    assert_eq!(conv("lower", &[], s("AbC")).unwrap(), b"abc");
    assert_eq!(conv("base64", &[], s("hello")).unwrap(), b"aGVsbG8=");
    assert_eq!(conv("b64dec", &[], s("aGVsbG8=")).unwrap(), b"hello");
    assert_eq!(conv("hex", &[], s("\x01a")).unwrap(), b"0161");
    assert_eq!(
        conv("url_dec", &[], s("a%20b+c?d+e")).unwrap(),
        b"a b+c?d e"
    );
    assert_eq!(conv("url_dec", &[], s("%zz")), None);
    assert_eq!(conv("json", &[], s("a\"b/\n")).unwrap(), b"a\\\"b\\/\\n");
    assert_eq!(conv("add", &[a("5")], Smp::Int(2)).unwrap(), b"7");
    assert_eq!(
        conv("div", &[a("0")], Smp::Int(2)).unwrap(),
        i64::MAX.to_string().as_bytes()
    );
    assert_eq!(conv("mod", &[a("0")], Smp::Int(2)).unwrap(), b"0");
    assert_eq!(conv("length", &[], s("abcd")).unwrap(), b"4");
    assert_eq!(
        conv("bytes", &[Arg::Int(1), Arg::Int(2)], s("abcd")).unwrap(),
        b"bc"
    );
    assert_eq!(conv("ltrim", &[a("x")], s("xxaxx")).unwrap(), b"axx");
    assert_eq!(conv("rtrim", &[a("x")], s("xxaxx")).unwrap(), b"xxa");
    assert_eq!(conv("host_only", &[], s("Ex.com:80")).unwrap(), b"ex.com");
    assert_eq!(conv("port_only", &[], s("[::1]:8080")).unwrap(), b"8080");
    assert_eq!(conv("port_only", &[], s("ex.com")).unwrap(), b"0");
    assert_eq!(
        conv("regsub", &[a("(a+)"), a("<\\1>"), a("g")], s("xaayaz")).unwrap(),
        b"x<aa>y<a>z"
    );
    assert_eq!(
        conv(
            "ipmask",
            &[Arg::Ipv4("255.255.0.0".parse().unwrap())],
            s("10.1.2.3")
        )
        .unwrap(),
        b"10.1.0.0"
    );
}
