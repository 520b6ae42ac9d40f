//! The second chance of a head `httparse` refused: HAProxy 2.6 accepts
//! control bytes (NUL, 0x01, ESC, DEL...) inside header values and
//! unfolds obs-fold continuation lines (each CR and LF of the line break
//! becomes a space). Only called after the fast parser failed, so the hot
//! path does not pay for it.
//!
//! Owns: building, for such a head, the bytes HAProxy sees (`fixed`,
//! folds turned into spaces) and a copy httparse accepts (`probe`:
//! `fixed` with the control bytes of header values replaced by a letter),
//! both of the original length so offsets and the consumed length carry
//! over. Must not decide framing or validity beyond that.

/// `(fixed, probe)` for `buf`, or `None` when nothing needs fixing (the
/// head is then really malformed). A CR inside a value, a control byte
/// in a header name or a continuation line right after the start line
/// are left alone: HAProxy refuses them too.
pub fn rewrite(buf: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let first_lf = buf.iter().position(|&b| b == b'\n')?;
    let mut fixed = buf.to_vec();
    let mut probe_at: Vec<usize> = Vec::new();
    let mut changed = false;
    let mut pos = first_lf + 1;
    // The line terminator of the previous header line: (start, end).
    let mut prev_eol: Option<(usize, usize)> = None;
    while pos < buf.len() {
        let lf = buf[pos..].iter().position(|&b| b == b'\n').map(|i| pos + i);
        let end = lf.unwrap_or(buf.len());
        let content_end = if lf.is_some() && end > pos && buf[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        if lf.is_some() && content_end == pos {
            break; // the empty line ending the head
        }
        let value_from = if matches!(buf[pos], b' ' | b'\t') {
            let (s, e) = prev_eol?;
            fixed[s..e].fill(b' ');
            changed = true;
            pos
        } else {
            match buf[pos..content_end].iter().position(|&b| b == b':') {
                Some(c) => pos + c + 1,
                None => content_end,
            }
        };
        for (i, &b) in buf.iter().enumerate().take(content_end).skip(value_from) {
            if (b < 0x20 && b != b'\t' && b != b'\r') || b == 0x7f {
                probe_at.push(i);
            }
        }
        let Some(lf) = lf else { break };
        prev_eol = Some((content_end, lf + 1));
        pos = lf + 1;
    }
    if probe_at.is_empty() && !changed {
        return None;
    }
    let mut probe = fixed.clone();
    for i in probe_at {
        probe[i] = b'a';
    }
    Some((fixed, probe))
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn folds_become_spaces() {
        let (f, p) = rewrite(b"GET / HTTP/1.1\r\nX: a\r\n  b\r\n\r\n").unwrap();
        assert_eq!(f, b"GET / HTTP/1.1\r\nX: a    b\r\n\r\n");
        assert_eq!(f, p);
    }

    #[test]
    fn control_bytes_are_masked_in_the_probe_only() {
        let (f, p) = rewrite(b"GET / HTTP/1.1\r\nX: a\x00b\x7f\r\n\r\nbody\x01").unwrap();
        assert_eq!(f, b"GET / HTTP/1.1\r\nX: a\x00b\x7f\r\n\r\nbody\x01");
        assert_eq!(p, b"GET / HTTP/1.1\r\nX: aaba\r\n\r\nbody\x01");
    }

    #[test]
    fn really_bad_heads_are_left_alone() {
        assert!(rewrite(b"GET / HTTP/1.1\r\n X: a\r\n\r\n").is_none());
        assert!(rewrite(b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n").is_none());
        assert!(rewrite(b"GET / HTTP/1.1\r\nX\x01: a\r\n\r\n").is_none());
    }
}
