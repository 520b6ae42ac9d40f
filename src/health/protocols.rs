//! The protocol checks of HAProxy 2.6 (`option redis-check`,
//! `mysql-check`, `pgsql-check`, `smtpchk`, `ldap-check`, `ssl-hello-chk`)
//! and the agent check, as the tcp-check rulesets HAProxy builds for them:
//! same bytes sent, same expects, same status and info texts.
//!
//! Owns: building those rulesets from the option arguments, and the
//! custom response parsers (MySQL packets, LDAP bind response, SSLv3
//! client hello). Must not do I/O.

use super::http::RuleError;
use super::status::{CheckResult, CheckStatus};
use super::tcpcheck::{
    Action, Connect, Custom, Expect, ExpectKind, Fmt, Proto, Rule, Ruleset, Send,
};

fn rule(step: usize, action: Action) -> Rule {
    Rule {
        step,
        comment: None,
        action,
    }
}

fn expect(step: usize, e: Expect) -> Rule {
    rule(step, Action::Expect(Box::new(e)))
}

fn send(step: usize, b: Vec<u8>) -> Rule {
    rule(step, Action::Send(Send::Bytes(b)))
}

fn default_linger(step: usize) -> Rule {
    rule(
        step,
        Action::Connect(Connect {
            default: true,
            linger: true,
            ..Connect::default()
        }),
    )
}

fn payload(offset: usize, ltrim: bool, cut_crlf: bool) -> Fmt {
    Fmt::Payload {
        offset,
        ltrim,
        cut_crlf,
    }
}

fn rstring(p: &str) -> ExpectKind {
    // The patterns below are constants known to compile.
    match regex::bytes::Regex::new(p) {
        Ok(r) => ExpectKind::RString(r),
        Err(_) => ExpectKind::String(p.as_bytes().to_vec()),
    }
}

fn rbinary(p: &str) -> ExpectKind {
    match regex::Regex::new(p) {
        Ok(r) => ExpectKind::RBinary(r),
        Err(_) => ExpectKind::Binary(p.as_bytes().to_vec()),
    }
}

fn bad(msg: String) -> RuleError {
    RuleError::Invalid(msg)
}

/// `option redis-check`.
pub fn redis() -> Ruleset {
    let mut e = Expect::new(ExpectKind::String(b"+PONG\r\n".to_vec()));
    e.err_status = Some(CheckStatus::L7Sts);
    e.on_error = Some(payload(0, false, true));
    e.on_success = Some(Fmt::Text("Redis server is ok".into()));
    Ruleset::new(
        Proto::Redis,
        vec![send(1, b"*1\r\n$4\r\nPING\r\n".to_vec()), expect(2, e)],
    )
}

/// `option ssl-hello-chk`.
pub fn ssl_hello() -> Ruleset {
    let mut e = Expect::new(rbinary("^1[56]"));
    e.min_recv = Some(5);
    e.ok_status = Some(CheckStatus::L6Ok);
    e.err_status = Some(CheckStatus::L6Rsp);
    e.tout_status = Some(CheckStatus::L6Tout);
    Ruleset::new(
        Proto::SslHello,
        vec![rule(1, Action::Send(Send::SslHello)), expect(2, e)],
    )
}

/// The SSLv3 CLIENT HELLO HAProxy sends, with `unix_time` (seconds).
pub fn ssl_hello_bytes(unix_time: u32) -> Vec<u8> {
    let mut b = vec![
        0x16, 0x03, 0x00, 0x00, 0x79, 0x01, 0x00, 0x00, 0x75, 0x03, 0x00,
    ];
    b.extend_from_slice(&unix_time.to_be_bytes());
    b.extend_from_slice(b"HAPROXYSSLCHK\nHAPROXYSSLCHK\n");
    b.push(0x00); // session id length
    b.extend_from_slice(&[0x00, 0x4e]);
    for c in (0x01u16..=0x1b).chain(0x2f..=0x3a) {
        b.extend_from_slice(&c.to_be_bytes());
    }
    b.extend_from_slice(&[0x01, 0x00]);
    b
}

/// `option smtpchk [EHLO|HELO <domain>]` (`args` after `smtpchk`).
pub fn smtp(args: &[String]) -> Ruleset {
    let cmd = match args {
        [verb, dom, ..] if verb == "EHLO" || verb == "HELO" => format!("{verb} {dom}"),
        _ => "HELO localhost".to_string(),
    };
    let mut banner = Expect::new(rstring("^[0-9]{3}[ \r]"));
    banner.min_recv = Some(4);
    banner.err_status = Some(CheckStatus::L7Rsp);
    banner.on_error = Some(payload(0, false, true));
    let mut ok_banner = Expect::new(rstring("^2[0-9]{2}[ \r]"));
    ok_banner.min_recv = Some(4);
    ok_banner.err_status = Some(CheckStatus::L7Sts);
    ok_banner.on_error = Some(payload(4, true, true));
    ok_banner.code_from_payload = true;
    let mut ok_helo = Expect::new(rstring("^2[0-9]{2}[- \r]"));
    ok_helo.min_recv = Some(4);
    ok_helo.err_status = Some(CheckStatus::L7Sts);
    ok_helo.on_error = Some(payload(4, true, true));
    ok_helo.on_success = Some(payload(4, true, true));
    ok_helo.code_from_payload = true;
    Ruleset::new(
        Proto::Smtp,
        vec![
            default_linger(1),
            expect(2, banner),
            expect(3, ok_banner),
            send(4, format!("{cmd}\r\n").into_bytes()),
            expect(5, ok_helo),
        ],
    )
}

/// `option pgsql-check user <name>`.
pub fn pgsql(args: &[String]) -> Result<Ruleset, RuleError> {
    let user = match args {
        [k, u, ..] if k == "user" => u,
        [_, _, ..] => {
            return Err(bad(
                "'option pgsql-check' only supports optional values: 'user'.".into(),
            ));
        }
        _ => {
            return Err(bad(
                "'option pgsql-check' expects 'user <username>' as argument.".into(),
            ));
        }
    };
    let len = 15 + user.len() as u32;
    let mut req = len.to_be_bytes().to_vec();
    req.extend_from_slice(&[0x00, 0x03, 0x00, 0x00]);
    req.extend_from_slice(b"user\0");
    req.extend_from_slice(user.as_bytes());
    req.extend_from_slice(&[0x00, 0x00]);
    let mut not_err = Expect::new(rstring("^E"));
    not_err.negate = true;
    not_err.min_recv = Some(5);
    not_err.err_status = Some(CheckStatus::L7Rsp);
    not_err.on_error = Some(payload(6, false, false));
    let mut auth = Expect::new(rbinary("^52000000(08|0A|0C)000000(00|02|03|04|05|06)"));
    auth.min_recv = Some(9);
    auth.err_status = Some(CheckStatus::L7Sts);
    auth.on_success = Some(Fmt::Text("PostgreSQL server is ok".into()));
    auth.on_error = Some(Fmt::Text("PostgreSQL unknown error".into()));
    Ok(Ruleset::new(
        Proto::Pgsql,
        vec![
            default_linger(1),
            send(2, req),
            expect(3, not_err),
            expect(4, auth),
        ],
    ))
}

/// `option mysql-check [user <name> [post-41|pre-41]]`.
pub fn mysql(args: &[String]) -> Result<Ruleset, RuleError> {
    let mut rules = vec![default_linger(1)];
    match args {
        [] => {}
        [k, ..] if k != "user" => {
            return Err(bad(format!(
                "'option mysql-check' only supports optional values: 'user' (got '{k}')."
            )));
        }
        [_] => {
            return Err(bad(
                "'option mysql-check user' expects <username> as argument.".into(),
            ));
        }
        [_, user, rest @ ..] => {
            let pre41 = match rest.first().map(String::as_str) {
                None | Some("post-41") => false,
                Some("pre-41") => true,
                Some(o) => {
                    return Err(bad(format!(
                        "keyword 'user' only supports 'post-41' and 'pre-41' (got '{o}')."
                    )));
                }
            };
            let ulen = user.len() as u32;
            let plen = if pre41 { ulen + 7 } else { ulen + 7 + 27 };
            let mut req = vec![
                (plen & 0xff) as u8,
                ((plen >> 8) & 0xff) as u8,
                ((plen >> 16) & 0xff) as u8,
                1,
            ];
            if pre41 {
                req.extend_from_slice(&[0x00, 0x80, 0x00, 0x00, 0x01]);
            } else {
                req.extend_from_slice(&[0x00, 0x82, 0x00, 0x00, 0x00, 0x80, 0x00, 0x01, 0x21]);
                req.extend_from_slice(&[0u8; 23]);
            }
            req.extend_from_slice(user.as_bytes());
            req.extend_from_slice(&[0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01]);
            rules.push(send(2, req));
        }
    }
    let n = rules.len();
    rules.push(expect(
        n + 1,
        Expect::new(ExpectKind::Custom(Custom::MysqlInitHandshake)),
    ));
    if n > 1 {
        rules.push(expect(
            n + 2,
            Expect::new(ExpectKind::Custom(Custom::MysqlOk)),
        ));
    }
    Ok(Ruleset::new(Proto::Mysql, rules))
}

/// `option ldap-check`.
pub fn ldap() -> Ruleset {
    let req = vec![
        0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00,
    ];
    let mut e = Expect::new(rbinary("^30"));
    e.min_recv = Some(14);
    e.on_error = Some(Fmt::Text("Not LDAPv3 protocol".into()));
    Ruleset::new(
        Proto::Ldap,
        vec![
            send(1, req),
            expect(2, e),
            expect(3, Expect::new(ExpectKind::Custom(Custom::LdapBindResponse))),
        ],
    )
}

/// The agent check: optional `agent-send` string, then the reply line.
pub fn agent(send_str: Option<&str>) -> Ruleset {
    let mut rules = Vec::new();
    if let Some(s) = send_str.filter(|s| !s.is_empty()) {
        rules.push(send(1, s.as_bytes().to_vec()));
    }
    let n = rules.len();
    rules.push(expect(
        n + 1,
        Expect::new(ExpectKind::Custom(Custom::AgentReply)),
    ));
    Ruleset::new(Proto::Agent, rules)
}

/// What a custom parser decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomEval {
    /// Need more bytes.
    Wait,
    /// Go on with the next rule.
    Continue,
    /// The check ends with this result.
    Stop(CheckResult),
}

fn stop(status: CheckStatus, code: Option<u16>, info: impl Into<String>) -> CustomEval {
    CustomEval::Stop(CheckResult::new(status, code, info))
}

/// A C string view: HAProxy copies descriptions with `strncpy`.
fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// One MySQL packet at `offset` (HAProxy's `tcpcheck_mysql_expect_packet`).
pub fn mysql_packet(buf: &[u8], offset: usize, last_read: bool) -> CustomEval {
    let truncated = || {
        if last_read {
            stop(CheckStatus::L7Rsp, None, "")
        } else {
            CustomEval::Wait
        }
    };
    let Some(h) = buf.get(offset..offset + 4) else {
        return truncated();
    };
    let plen = usize::from(h[0]) | usize::from(h[1]) << 8 | usize::from(h[2]) << 16;
    if buf.len() < offset + plen + 4 {
        return truncated();
    }
    if buf.get(offset + 4) == Some(&0xff) {
        let lo = buf.get(offset + 5).copied().unwrap_or(0);
        let hi = buf.get(offset + 6).copied().unwrap_or(0);
        let code = u16::from(lo) | u16::from(hi) << 8;
        let desc = buf.get(offset + 7..).map(cstr).unwrap_or_default();
        return stop(CheckStatus::L7Sts, Some(code), desc);
    }
    CustomEval::Continue
}

/// The OK packet after the handshake: at the end of the first packet.
pub fn mysql_ok(buf: &[u8], last_read: bool) -> CustomEval {
    let hs = match buf.get(..3) {
        Some(h) => 4 + (usize::from(h[0]) | usize::from(h[1]) << 8 | usize::from(h[2]) << 16),
        None => 4,
    };
    mysql_packet(buf, hs, last_read)
}

/// HAProxy's `tcpcheck_ldap_expect_bindrsp` (the previous rule already
/// waited for 14 bytes starting with 0x30).
pub fn ldap_bind(buf: &[u8]) -> CustomEval {
    let not_ldap = || stop(CheckStatus::L7Rsp, None, "Not LDAPv3 protocol");
    let at = |i: usize| buf.get(i).copied();
    let Some(b1) = at(1) else { return not_ldap() };
    let mut len = if b1 & 0x80 != 0 {
        usize::from(b1 & 0x7f)
    } else {
        0
    };
    if len > 2 || buf.get(2 + len..6 + len) != Some(&[0x02, 0x01, 0x01, 0x61][..]) {
        return not_ldap();
    }
    let Some(b) = at(len + 6) else {
        return not_ldap();
    };
    len += if b & 0x80 != 0 {
        usize::from(b & 0x7f)
    } else {
        0
    };
    if len > 4 || buf.get(7 + len..9 + len) != Some(&[0x0a, 0x01][..]) {
        return not_ldap();
    }
    let code = at(len + 9).unwrap_or(0);
    if code != 0 {
        return stop(
            CheckStatus::L7Sts,
            Some(u16::from(code)),
            "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9",
        );
    }
    CustomEval::Continue
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn sent(rs: &Ruleset) -> Vec<u8> {
        rs.rules
            .iter()
            .find_map(|r| match &r.action {
                Action::Send(Send::Bytes(b)) => Some(b.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    #[test]
    fn bytes_like_haproxy() {
        // Captured from haproxy 2.6.12 with `option pgsql-check user bob`.
        let pg = pgsql(&w("user bob")).unwrap();
        assert_eq!(
            sent(&pg),
            b"\x00\x00\x00\x12\x00\x03\x00\x00user\0bob\0\0".to_vec()
        );
        // Captured: ldap-check and redis-check requests.
        assert_eq!(
            sent(&ldap()),
            vec![
                0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00
            ]
        );
        assert_eq!(sent(&redis()), b"*1\r\n$4\r\nPING\r\n".to_vec());
        // Captured: the first 11 bytes and the tail of ssl-hello-chk.
        let h = ssl_hello_bytes(0x6b06d6a0);
        assert_eq!(
            &h[..15],
            b"\x16\x03\x00\x00\x79\x01\x00\x00\x75\x03\x00\x6b\x06\xd6\xa0"
        );
        assert_eq!(h.len(), 5 + 0x79);
        assert_eq!(&h[h.len() - 4..], b"\x00\x3a\x01\x00");
        // SMTP: `EHLO me.example\r\n` (captured).
        let s = smtp(&w("EHLO me.example"));
        assert_eq!(sent(&s), b"EHLO me.example\r\n".to_vec());
        assert_eq!(sent(&smtp(&[])), b"HELO localhost\r\n".to_vec());
        let m = mysql(&w("user hap")).unwrap();
        let b = sent(&m);
        assert_eq!(&b[..4], &[3 + 7 + 27, 0, 0, 1]);
        // Header, 37-byte auth packet, then the 5-byte COM_QUIT packet.
        assert_eq!(b.len(), 4 + (3 + 7 + 27) + 5);
        assert_eq!(mysql(&[]).unwrap().rules.len(), 2);
        assert!(pgsql(&[]).is_err());
        assert!(mysql(&w("user x weird")).is_err());
    }

    #[test]
    fn mysql_parsing() {
        // haproxy 2.6.12 against an error packet: L7STS, code 1045, info
        // "#28000nope".
        let err = b"\x0d\x00\x00\x00\xff\x15\x04#28000nope";
        assert_eq!(
            mysql_packet(err, 0, false),
            stop(CheckStatus::L7Sts, Some(1045), "#28000nope")
        );
        assert_eq!(mysql_packet(&err[..6], 0, false), CustomEval::Wait);
        assert_eq!(
            mysql_packet(&err[..6], 0, true),
            stop(CheckStatus::L7Rsp, None, "")
        );
        let hs = b"\x05\x00\x00\x00\x0a5.7\x00";
        assert_eq!(mysql_packet(hs, 0, false), CustomEval::Continue);
        assert_eq!(mysql_ok(hs, false), CustomEval::Wait);
    }

    #[test]
    fn ldap_parsing() {
        let ok = [
            0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
        ];
        assert_eq!(ldap_bind(&ok), CustomEval::Continue);
        let mut e = ok;
        e[9] = 0x31;
        assert_eq!(
            ldap_bind(&e),
            stop(
                CheckStatus::L7Sts,
                Some(49),
                "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"
            )
        );
        assert_eq!(
            ldap_bind(&[0x30]),
            stop(CheckStatus::L7Rsp, None, "Not LDAPv3 protocol")
        );
    }
}
