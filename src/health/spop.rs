//! `option spop-check`: the SPOP HAPROXY-HELLO frame HAProxy 2.6 sends
//! to an SPOE agent (with `healthcheck` true) and the checks it runs on
//! the AGENT-HELLO (or AGENT-DISCONNECT) frame that comes back, with
//! HAProxy's error texts (`invalid frame received`, `unsupported
//! version`, ...).
//!
//! Owns: the frame bytes and the reply parser. Must not do I/O.

use super::protocols::CustomEval;
use super::status::{CheckResult, CheckStatus};
use super::tcpcheck::{Action, Custom, Expect, ExpectKind, Proto, Rule, Ruleset, Send};

/// HAProxy's `MAX_FRAME_SIZE` for checks (`tune.bufsize` - 4).
pub const MAX_FRAME_SIZE: u64 = 16380;
/// HAProxy's `MIN_FRAME_SIZE`.
pub const MIN_FRAME_SIZE: u64 = 256;

const AGENT_HELLO: u8 = 101;
const AGENT_DISCON: u8 = 102;

/// SPOE frame error codes, with their reasons (`spoe_frm_err_reasons`).
const REASONS: &[(u64, &str)] = &[
    (0, "normal"),
    (1, "I/O error"),
    (2, "a timeout occurred"),
    (3, "frame is too big"),
    (4, "invalid frame received"),
    (5, "version value not found"),
    (6, "max-frame-size value not found"),
    (7, "capabilities value not found"),
    (8, "unsupported version"),
    (9, "max-frame-size too big or too small"),
    (10, "fragmentation not supported"),
    (11, "invalid interlaced frames"),
    (12, "frame-id not found"),
    (13, "resource allocation error"),
    (99, "an unknown error occurred"),
];

const INVALID: u64 = 4;
const NO_VSN: u64 = 5;
const NO_FRAME_SIZE: u64 = 6;
const BAD_VSN: u64 = 8;
const BAD_FRAME_SIZE: u64 = 9;
const FRAG_NOT_SUPPORTED: u64 = 10;

fn reason(code: u64) -> &'static str {
    let code = if code >= 100 { 99 } else { code };
    REASONS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("an unknown error occurred", |(_, r)| r)
}

/// HAProxy's varint encoding.
fn put_varint(out: &mut Vec<u8>, mut i: u64) {
    if i < 240 {
        out.push(i as u8);
        return;
    }
    out.push((i as u8) | 240);
    i = (i - 240) >> 4;
    while i >= 128 {
        out.push((i as u8) | 128);
        i = (i - 128) >> 7;
    }
    out.push(i as u8);
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// The HAPROXY-HELLO health-check frame, length prefix included (82
/// bytes, as captured from haproxy 2.6.12).
pub fn hello_frame() -> Vec<u8> {
    let mut f = vec![1u8, 0, 0, 0, 1, 0, 0];
    put_str(&mut f, b"supported-versions");
    f.push(8);
    put_str(&mut f, b"2.0");
    put_str(&mut f, b"max-frame-size");
    f.push(3);
    put_varint(&mut f, MAX_FRAME_SIZE);
    put_str(&mut f, b"capabilities");
    f.push(8);
    put_str(&mut f, b"");
    put_str(&mut f, b"healthcheck");
    f.push(0x11);
    let mut out = (f.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&f);
    out
}

/// `option spop-check`: send the hello, judge the reply.
pub fn ruleset() -> Ruleset {
    let send = Rule {
        step: 1,
        comment: None,
        action: Action::Send(Send::Bytes(hello_frame())),
    };
    let mut e = Expect::new(ExpectKind::Custom(Custom::SpopAgentHello));
    e.min_recv = Some(4);
    let expect = Rule {
        step: 2,
        comment: None,
        action: Action::Expect(Box::new(e)),
    };
    Ruleset::new(Proto::Spop, vec![send, expect])
}

/// A cursor over a frame; bytes past the end read as 0 like HAProxy's
/// zeroed buffer.
struct Cur<'a> {
    b: &'a [u8],
    p: usize,
    end: usize,
}

impl Cur<'_> {
    fn byte(&mut self) -> u8 {
        let v = self.b.get(self.p).copied().unwrap_or(0);
        self.p += 1;
        v
    }

    fn varint(&mut self) -> Option<u64> {
        if self.p >= self.end {
            return None;
        }
        let mut i = u64::from(self.byte());
        if i < 240 {
            return Some(i);
        }
        let mut r = 4u32;
        loop {
            if self.p >= self.end || r > 60 {
                return None;
            }
            let b = self.byte();
            i = i.wrapping_add(u64::from(b) << r);
            r += 7;
            if b < 128 {
                return Some(i);
            }
        }
    }

    fn buffer(&mut self) -> Option<&[u8]> {
        let sz = usize::try_from(self.varint()?).ok()?;
        let start = self.p;
        let stop = start.checked_add(sz).filter(|&s| s <= self.end)?;
        self.p = stop;
        self.b.get(start..stop)
    }

    fn skip_data(&mut self) -> Option<()> {
        match self.byte() & 0x0f {
            2..=5 => {
                self.varint()?;
            }
            t @ (6 | 7) => {
                let n = if t == 6 { 4 } else { 16 };
                if self.p + n > self.end {
                    return None;
                }
                self.p += n;
            }
            8 | 9 => {
                self.buffer()?;
            }
            _ => {}
        }
        Some(())
    }
}

/// `spoe_str_to_vsn`: `MAJOR.MINOR` → 1000 * MAJOR + MINOR.
fn str_to_vsn(s: &[u8]) -> Option<u32> {
    let mut p = 0;
    while p < s.len() && s[p].is_ascii_whitespace() {
        p += 1;
    }
    let mut maj: u32 = 0;
    while s.get(p) != Some(&b'.') {
        let c = *s.get(p).filter(|c| c.is_ascii_digit())?;
        maj = maj.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
        p += 1;
    }
    if maj == 0 {
        return None;
    }
    p += 1;
    s.get(p).filter(|c| c.is_ascii_digit())?;
    let mut min: u32 = 0;
    while let Some(c) = s.get(p).filter(|c| c.is_ascii_digit()) {
        min = min.saturating_mul(10).saturating_add(u32::from(c - b'0'));
        p += 1;
    }
    if min > 999 {
        return None;
    }
    while p < s.len() && s[p].is_ascii_whitespace() {
        p += 1;
    }
    (p == s.len()).then(|| maj.saturating_mul(1000).saturating_add(min))
}

/// `spoe_handle_agenthello_frame`: `Err(code)` on failure.
fn agent_hello(c: &mut Cur<'_>, size: usize) -> Result<(), u64> {
    if c.byte() != AGENT_HELLO || size < 7 {
        return Err(INVALID);
    }
    let flags = u32::from_be_bytes([c.byte(), c.byte(), c.byte(), c.byte()]);
    if flags & 1 == 0 {
        return Err(FRAG_NOT_SUPPORTED);
    }
    if c.byte() != 0 || c.byte() != 0 {
        return Err(INVALID);
    }
    let (mut vsn, mut max) = (0u32, 0u64);
    while c.p < c.end {
        let key = c
            .buffer()
            .filter(|k| !k.is_empty())
            .ok_or(INVALID)?
            .to_vec();
        if key.starts_with(b"version") {
            if c.byte() & 0x0f != 8 {
                return Err(INVALID);
            }
            let v = c.buffer().ok_or(INVALID)?;
            vsn = str_to_vsn(v).ok_or(BAD_VSN)?;
            if vsn != 2000 {
                return Err(BAD_VSN);
            }
        } else if key.starts_with(b"max-frame-size") {
            if !(2..=5).contains(&(c.byte() & 0x0f)) {
                return Err(INVALID);
            }
            let v = c.varint().ok_or(INVALID)?;
            if !(MIN_FRAME_SIZE..=MAX_FRAME_SIZE).contains(&v) {
                return Err(BAD_FRAME_SIZE);
            }
            max = v;
        } else if key.starts_with(b"capabilities") {
            if c.byte() & 0x0f != 8 {
                return Err(INVALID);
            }
            c.buffer().ok_or(INVALID)?;
        } else {
            c.skip_data().ok_or(INVALID)?;
        }
    }
    if vsn == 0 {
        return Err(NO_VSN);
    }
    if max == 0 {
        return Err(NO_FRAME_SIZE);
    }
    Ok(())
}

/// `spoe_handle_agentdiscon_frame`: the status code it reports.
fn agent_discon(c: &mut Cur<'_>, size: usize) -> u64 {
    c.byte();
    if size < 7 {
        return INVALID;
    }
    let flags = u32::from_be_bytes([c.byte(), c.byte(), c.byte(), c.byte()]);
    if flags & 1 == 0 {
        return FRAG_NOT_SUPPORTED;
    }
    if c.byte() != 0 || c.byte() != 0 {
        return INVALID;
    }
    let mut code = 0;
    while c.p < c.end {
        let Some(key) = c.buffer().filter(|k| !k.is_empty()).map(<[u8]>::to_vec) else {
            return INVALID;
        };
        if key.starts_with(b"status-code") {
            if !(2..=5).contains(&(c.byte() & 0x0f)) {
                return INVALID;
            }
            match c.varint() {
                Some(v) => code = v,
                None => return INVALID,
            }
        } else if key.starts_with(b"message") {
            if c.byte() & 0x0f != 8 {
                return INVALID;
            }
            if c.buffer().is_none_or(|m| m.len() > 255) {
                return INVALID;
            }
        } else if c.skip_data().is_none() {
            return INVALID;
        }
    }
    code
}

/// HAProxy's `tcpcheck_spop_expect_agenthello` on the bytes read so far.
pub fn expect_agent_hello(buf: &[u8], last_read: bool) -> CustomEval {
    if buf.len() < 4 && !last_read {
        return CustomEval::Wait;
    }
    let at = |i: usize| buf.get(i).copied().unwrap_or(0);
    let framesz = u32::from_be_bytes([at(0), at(1), at(2), at(3)]) as usize;
    if !last_read && buf.len() < framesz.saturating_add(4) {
        return CustomEval::Wait;
    }
    let frame = buf.get(4..).unwrap_or_default();
    let end = framesz.min(frame.len());
    let mut c = Cur {
        b: &frame[..end],
        p: 0,
        end,
    };
    let res = if frame.first() == Some(&AGENT_DISCON) {
        Err(agent_discon(&mut c, framesz))
    } else {
        agent_hello(&mut c, framesz)
    };
    match res {
        Ok(()) => CustomEval::Continue,
        Err(code) => CustomEval::Stop(CheckResult::new(CheckStatus::L7Rsp, None, reason(code))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn info(r: CustomEval) -> String {
        match r {
            CustomEval::Stop(r) => r.info,
            CustomEval::Continue => "ok".into(),
            CustomEval::Wait => "wait".into(),
        }
    }

    #[test]
    fn hello_bytes_match_haproxy() {
        // Captured from haproxy 2.6.12 `option spop-check`.
        let want = hex(
            "0000004e 01 00000001 0000 12 737570706f727465642d76657273696f6e73 08 03 322e30
             0e 6d61782d6672616d652d73697a65 03 fcf006 0c 6361706162696c6974696573 08 00
             0b 6865616c7468636865636b 11",
        );
        assert_eq!(hello_frame(), want);
        assert_eq!(want.len(), 82);
    }

    #[test]
    fn agent_replies_like_haproxy_regtests() {
        // reg-tests/checks/spop-check.vtc replies.
        let ok = hex(
            "00000036 65 00000001 0000 0776657273696F6E 0803322E30 0E6D61782D6672616D652D73697A65 03FCF0 06 0C6361706162696C6974696573 0800",
        );
        assert_eq!(info(expect_agent_hello(&ok, false)), "ok");
        assert_eq!(
            info(expect_agent_hello(&hex("00000000"), false)),
            "invalid frame received"
        );
        assert_eq!(
            info(expect_agent_hello(
                &hex("00000014 65 00000001 0000 0776657273696F6E 0803312E30"),
                false
            )),
            "unsupported version"
        );
        assert_eq!(info(expect_agent_hello(&ok[..10], false)), "wait");
        assert_eq!(info(expect_agent_hello(&hex("0000"), false)), "wait");
        assert_eq!(str_to_vsn(b" 2.0 "), Some(2000));
        assert_eq!(str_to_vsn(b"0.5"), None);
        assert_eq!(str_to_vsn(b"2."), None);
    }
}
