//! Expected texts come from HAProxy 2.6.12 (`haproxy -c`) run on the same
//! fixture files (`testdata/`, generated with the openssl CLI).

use super::*;

const RSA2048_CERT: &str = include_str!("testdata/rsa2048_cert.pem");
const RSA2048_KEY: &str = include_str!("testdata/rsa2048_key.pem");
const RSA_CERT: &str = include_str!("testdata/rsa_cert.pem");
const RSA_KEY: &str = include_str!("testdata/rsa_key.pem");
const RSA_KEY_TRAD: &str = include_str!("testdata/rsa_key_trad.pem");
const RSA2_CERT: &str = include_str!("testdata/rsa2_cert.pem");
const EC_CERT: &str = include_str!("testdata/ec_cert.pem");
const EC_KEY: &str = include_str!("testdata/ec_key.pem");
const EC_KEY_P8: &str = include_str!("testdata/ec_key_p8.pem");
const EC2_KEY: &str = include_str!("testdata/ec2_key.pem");
const ED_CERT: &str = include_str!("testdata/ed_cert.pem");
const ED_KEY: &str = include_str!("testdata/ed_key.pem");
const EC_CRL: &str = include_str!("testdata/ec.crl");

struct Dir(std::path::PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("sy-ext-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("tmp dir");
        Dir(p)
    }
    fn put(&self, name: &str, parts: &[&str]) -> String {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, parts.concat()).expect("write");
        p.to_string_lossy().into_owned()
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn crt_files_like_haproxy() {
    let d = Dir::new("crt");
    let good = [
        d.put("r.pem", &[RSA2048_CERT, RSA2048_KEY]),
        d.put("keyfirst.pem", &[RSA2048_KEY, RSA2048_CERT]),
        d.put("ec.pem", &[EC_CERT, EC_KEY]),
        d.put("ecp8.pem", &[EC_CERT, EC_KEY_P8]),
        d.put("ed.pem", &[ED_CERT, ED_KEY]),
        d.put("junk.pem", &["hello\n", EC_CERT, EC_KEY, "trailing\n"]),
    ];
    for g in &good {
        assert_eq!(check_cert_file(g), Ok(()), "{g}");
    }
    let sep = d.put("sep.pem", &[EC_CERT]);
    d.put("sep.pem.key", &[EC_KEY]);
    assert_eq!(check_cert_file(&sep), Ok(()));

    let cases: Vec<(String, String)> = vec![
        (d.path("nope.pem"), "unable to stat SSL certificate from file '{}' : No such file or directory.".into()),
        (d.put("garbage.pem", &["garbage\n"]), "unable to load certificate from file '{}'.".into()),
        (d.put("empty.pem", &[]), "unable to load certificate from file '{}'.".into()),
        (d.put("keyonly.pem", &[EC_KEY]), "unable to load certificate from file '{}'.".into()),
        (
            d.put("baddercert.pem", &["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", EC_KEY]),
            "unable to load certificate from file '{}'.".into(),
        ),
        (d.put("certonly.pem", &[EC_CERT]), "No Private Key found in '{}.key'.".into()),
        (d.put("mis.pem", &[EC_CERT, EC2_KEY]), "inconsistencies between private key and certificate loaded '{}'.".into()),
        (d.put("rsamis.pem", &[RSA2_CERT, RSA_KEY]), "inconsistencies between private key and certificate loaded '{}'.".into()),
        (d.put("ecrsa.pem", &[EC_CERT, RSA_KEY]), "inconsistencies between private key and certificate loaded '{}'.".into()),
        (d.put("edmis.pem", &[ED_CERT, RSA2048_KEY]), "inconsistencies between private key and certificate loaded '{}'.".into()),
        (d.put("small.pem", &[RSA_CERT, RSA_KEY]), "unable to load SSL certificate into SSL Context '{}'.".into()),
        (d.put("smalltrad.pem", &[RSA_CERT, RSA_KEY_TRAD]), "unable to load SSL certificate into SSL Context '{}'.".into()),
        (
            d.put("smallchain.pem", &[RSA2048_KEY, RSA2048_CERT, RSA_CERT]),
            "unable to load chain certificate into SSL Context '{}'. Make sure you are linking against Openssl >= 1.0.2.".into(),
        ),
        (
            d.put("badchain.pem", &[EC_CERT, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", EC_KEY]),
            "unable to load certificate chain from file '{}'.".into(),
        ),
    ];
    for (path, want) in cases {
        assert_eq!(
            check_cert_file(&path),
            Err(want.replace("{}", &path)),
            "{path}"
        );
    }
    let gk = d.put("gk.pem", &[EC_CERT]);
    d.put("gk.pem.key", &["garbage\n"]);
    assert_eq!(
        check_cert_file(&gk),
        Err(format!(
            "unable to load private key from file '{gk}.key'.\n '{gk}.key' is present but cannot be read or parsed'."
        ))
    );
    let o = d.put("o.pem", &[EC_CERT, EC_KEY]);
    d.put("o.pem.ocsp", &["junk\n"]);
    assert_eq!(
        check_cert_file(&o),
        Err(format!(
            " '{o}.ocsp' is present and activates OCSP but it is impossible to compute the OCSP certificate ID (maybe the issuer could not be found)'."
        ))
    );
    let s = d.put("s.pem", &[EC_CERT, EC_KEY]);
    d.put("s.pem.sctl", &["junk\n"]);
    assert_eq!(
        check_cert_file(&s),
        Err(format!(
            " '{s}.sctl.sctl' is present but cannot be read or parsed'."
        ))
    );
    let i = d.put("i.pem", &[EC_CERT, EC_KEY]);
    d.put("i.pem.issuer", &["junk\n"]);
    assert_eq!(check_cert_file(&i), Ok(()));
    // a server `crt` naming a directory
    assert_eq!(
        check_server_file("crt", &d.path("")),
        Err(format!(
            "unable to stat SSL certificate from file '{}' : Success.",
            d.path("")
        ))
    );
}

#[test]
fn crt_directories() {
    let d = Dir::new("crtdir");
    d.put("ok/a.pem", &[EC_CERT, EC_KEY]);
    d.put("ok/zz.pem.key", &["garbage\n"]);
    d.put("ok/x.issuer", &["j"]);
    d.put("ok/y.sctl", &["j"]);
    d.put("ok/.hidden", &["j"]);
    d.put("ok/sub/a.pem", &["garbage"]);
    assert_eq!(check_cert_path(&d.path("ok")), Ok(1));
    d.put("bad/a.pem", &[EC_CERT, EC_KEY]);
    let b = d.put("bad/b.pem", &["garbage\n"]);
    assert_eq!(
        check_cert_path(&d.path("bad")),
        Err(format!("unable to load certificate from file '{b}'."))
    );
    std::fs::create_dir_all(d.path("empty")).expect("mkdir");
    assert_eq!(check_cert_path(&d.path("empty")), Ok(0));
    d.put("oc/a.pem", &[EC_CERT, EC_KEY]);
    d.put("oc/a.pem.ocsp", &["junk"]);
    let dir = d.path("oc");
    assert_eq!(
        check_cert_path(&dir),
        Err(format!(
            "error processing line 0 in file '{dir}' :  '{dir}/a.pem.ocsp' is present and activates OCSP but it is impossible to compute the OCSP certificate ID (maybe the issuer could not be found)'."
        ))
    );
}

#[test]
fn crt_lists() {
    let d = Dir::new("crtlist");
    let both = d.put("both.pem", &[EC_CERT, EC_KEY]);
    let garbage = d.put("garbage.pem", &["garbage\n"]);
    let l1 = d.put(
        "l1",
        &[&format!(
            "{both}\n{both} [alpn h2 no-ca-names] foo.com !bar.com\n# comment\n\n   \n"
        )],
    );
    let r = check_crt_list(&l1).expect("valid list");
    assert_eq!(r.entries.len(), 2);
    assert!(r.warnings.is_empty());
    let nope = d.path("nope.pem");
    let l2 = d.put("l2", &[&format!("{nope}\n")]);
    assert_eq!(
        check_crt_list(&l2),
        Err(format!(
            "'crt-list' : unable to stat SSL certificate from file '{nope}' : No such file or directory."
        ))
    );
    let l3 = d.put("l3", &[&format!("{garbage}\n")]);
    assert_eq!(
        check_crt_list(&l3),
        Err(format!(
            "'crt-list' : unable to load certificate from file '{garbage}'."
        ))
    );
    let l4 = d.put("l4", &[&format!("[alpn h2] {both}\n")]);
    assert_eq!(
        check_crt_list(&l4),
        Err(format!(
            "'crt-list' : parsing [{l4}:1]: file must start with a cert"
        ))
    );
    let l5 = d.put("l5", &[&format!("{both} [bogus x]\n")]);
    assert_eq!(
        check_crt_list(&l5),
        Err(format!(
            "'crt-list' : parsing [{l5}:1]: unknown ssl keyword bogus"
        ))
    );
    let l6 = d.put("l6", &[&format!("{both} foo [alpn h2]\n")]);
    assert_eq!(
        check_crt_list(&l6).map(|r| r.warnings),
        Ok(vec![format!(
            "'crt-list' : parsing [{l6}:1]: malformated line, filters can't be between filename and options!"
        )])
    );
    let l7 = d.put("l7", &[&both]);
    assert_eq!(
        check_crt_list(&l7),
        Err(format!(
            "'crt-list' : parsing [{l7}:1]: Missing LF on last line, file might have been truncated at position {}.",
            both.len() + 1
        ))
    );
    let l8 = d.put("l8", &[]);
    assert_eq!(check_crt_list(&l8).map(|r| r.entries.len()), Ok(0));
    let nl = d.path("nolist");
    assert_eq!(
        check_crt_list(&nl),
        Err(format!(
            "'crt-list' : cannot open file '{nl}' : No such file or directory"
        ))
    );
}

#[test]
fn ca_and_crl_files() {
    let d = Dir::new("ca");
    let cert = d.put("c.pem", &[EC_CERT]);
    let both = d.put("both.pem", &[EC_CERT, EC_KEY]);
    let crl = d.put("c.crl", &[EC_CRL]);
    for p in [&cert, &both, &crl] {
        assert_eq!(check_ca_file(p), Ok(()), "{p}");
    }
    assert_eq!(check_ca_file("@system-ca"), Ok(()));
    assert_eq!(check_ca_file(&d.path("")), Ok(()));
    let cases = [
        (d.path("nope.pem"), "No such file or directory"),
        (
            d.put("g.pem", &["garbage\n"]),
            "no certificate or crl found",
        ),
        (d.put("e.pem", &[]), "no certificate or crl found"),
        (d.put("k.pem", &[EC_KEY]), "no certificate or crl found"),
        (
            d.put(
                "bad.pem",
                &["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
            ),
            "wrong tag",
        ),
    ];
    for (p, why) in cases {
        assert_eq!(
            check_ca_file(&p),
            Err(format!("Couldn't open the ca-file '{p}' ({why})."))
        );
    }
    let g = d.path("g.pem");
    assert_eq!(
        check_bind_file_full("ca-file", &g),
        Err(FileError {
            line: format!("'ca-file' : unable to load {g}"),
            extra: Some(format!(
                "Couldn't open the ca-file '{g}' (no certificate or crl found)."
            )),
        })
    );
    assert_eq!(
        check_server_file_full("crl-file", &g),
        Err(FileError {
            line: format!("Couldn't open the ca-file '{g}' (no certificate or crl found)."),
            extra: Some(format!("'crl-file' : unable to load {g}.")),
        })
    );
}

#[test]
fn errorfiles() {
    let d = Dir::new("errfile");
    let e1 = d.put(
        "e1",
        &["HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\n<h1>x</h1>\n"],
    );
    assert!(load_errorfile(&e1, "503").is_ok());
    assert!(load_errorfile(&e1, "404").is_ok());
    assert!(load_errorfile(&e1, "200").is_ok());
    assert_eq!(
        load_errorfile(&e1, "999"),
        Err("errorfile : status code '999' not handled.".into())
    );
    let e2 = d.put("e2", &["garbage\n"]);
    assert_eq!(
        load_errorfile(&e2, "503"),
        Err(format!(
            "errorfile : '{e2}': unable to parse headers (error offset: 0)"
        ))
    );
    let e3 = d.put("e3", &[]);
    assert_eq!(load_errorfile(&e3, "503"), Ok(vec![]));
    let e4 = d.put("e4", &["HTTP/1.0 503 Service Unavailable\r\n"]);
    assert_eq!(
        load_errorfile(&e4, "503"),
        Err(format!(
            "errorfile : '{e4}': unable to parse headers (error offset: -2)"
        ))
    );
    let e6 = d.put(
        "e6",
        &["HTTP/1.0 503 Service Unavailable\nContent-Type: text/html\n\nbody"],
    );
    assert!(load_errorfile(&e6, "503").is_ok());
    let n = d.path("nonexist");
    assert_eq!(
        load_errorfile(&n, "503"),
        Err(format!("errorfile : error opening file '{n}'."))
    );
}

#[test]
fn pattern_files() {
    let d = Dir::new("pat");
    let p = d.put(
        "p",
        &["  foo  \n# comment\n\n\tbar baz\t\n  # notcomment\nx\ry\nlast"],
    );
    assert_eq!(
        load_pattern_lines(&p),
        Ok(vec![
            (1, "foo  ".to_string()),
            (4, "bar baz\t".to_string()),
            (5, "# notcomment".to_string()),
            (6, "x".to_string()),
            (7, "last".to_string()),
        ])
    );
    let m = d.put("m", &["k1 v1 v2\nk2\n  k3\t\tv3\n"]);
    assert_eq!(
        load_map_file(&m),
        Ok(vec![
            (1, "k1".into(), "v1 v2".into()),
            (2, "k2".into(), String::new()),
            (3, "k3".into(), "v3".into()),
        ])
    );
    let n = d.path("nonexist.txt");
    assert_eq!(
        load_pattern_file(&n),
        Err(format!("failed to open pattern file <{n}>."))
    );
}

#[test]
fn users_groups_state_file() {
    assert_eq!(lookup_user("root"), Some(0));
    assert_eq!(lookup_group("root"), Some(0));
    assert_eq!(lookup_user("nosuchuser"), None);
    assert_eq!(lookup_user("0"), None);
    assert_eq!(
        user_not_found_msg("nosuchuser"),
        "cannot find user id for 'nosuchuser' (0:Success)"
    );
    assert_eq!(
        group_not_found_msg("nosuchgroup"),
        "cannot find group id for 'nosuchgroup' (0:Success)"
    );
    assert_eq!(
        read_server_state_file("/nonexist/x"),
        Err(
            "config: Can't open global server state file '/nonexist/x': No such file or directory"
                .into()
        )
    );
}

proptest::proptest! {
    #[test]
    fn pem_and_http_parsers_never_panic(s in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let _ = pem::parse_pem(&s);
        let _ = check_http_response(&s);
        let _ = pem::cert_pubkey(&s);
        let _ = pem::private_key("PRIVATE KEY", &s);
    }
}
