//! Line tokenizer: one configuration line → words, with HAProxy 2.6's exact
//! quoting, escaping and `${VAR}` expansion rules.
//!
//! Owns: splitting a line into words and the tokenizer errors (unmatched
//! quote/brace, bad variable name, bad hex escape, too many words). Must not
//! know about sections or keywords: that is the parser's job.

use std::fmt;

/// HAProxy's MAX_LINE_ARGS: more words than this is an error.
pub const MAX_LINE_ARGS: usize = 64;

/// One word of a line, after unquoting and expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// 1-based byte column in the raw line where the word starts.
    pub col: u32,
}

/// What went wrong while tokenizing, with the 1-based position HAProxy reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexError {
    UnmatchedQuote {
        pos: usize,
    },
    UnmatchedBrace {
        pos: usize,
    },
    BadVarName {
        pos: usize,
    },
    BadHex {
        pos: usize,
    },
    BadWordExpand {
        pos: usize,
    },
    /// `word` is the 64th word, `pos` its 1-based offset in the output buffer.
    TooManyWords {
        pos: usize,
        word: String,
    },
}

impl LexError {
    /// The HAProxy message (without the `parsing [f:l]: ` prefix), including
    /// the caret display for positional errors. `line` is the raw line with
    /// its leading blanks removed, `lead` the number of blanks removed.
    pub fn render(&self, line: &str, lead: usize) -> String {
        let (what, pos) = match self {
            LexError::UnmatchedQuote { pos } => ("unmatched quote", *pos),
            LexError::UnmatchedBrace { pos } => {
                ("unmatched brace in environment variable name", *pos)
            }
            LexError::BadVarName { pos } => {
                ("forbidden first char in environment variable name", *pos)
            }
            LexError::BadHex { pos } => ("truncated or invalid hexadecimal sequence", *pos),
            LexError::BadWordExpand { pos } => {
                ("truncated or invalid word expansion sequence", *pos)
            }
            LexError::TooManyWords { pos, word } => {
                return format!(
                    "too many words, truncating after word {MAX_LINE_ARGS}, position {pos}: <{word}>."
                );
            }
        };
        let (shown, caret) = sanitize_for_printing(line, pos.saturating_sub(1 + lead), 80);
        format!(
            "{what} at position {pos}:\n  {shown}\n  {:>width$}",
            "^",
            width = caret + 1
        )
    }
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render("", 0))
    }
}

/// Mirror of HAProxy's `sanitize_for_printing`: keep about `width` chars
/// around `pos`, replace non-printable chars by '?'. Returns the text and the
/// new caret offset.
pub fn sanitize_for_printing(line: &str, pos: usize, width: usize) -> (String, usize) {
    let mut bytes: Vec<u8> = line.as_bytes().to_vec();
    let mut pos = pos.min(bytes.len());
    let len = bytes.len();
    if len > width {
        let shift = pos.saturating_sub(width / 2).min(len - width);
        if shift > 0 {
            // leading "..." replaces the first chars
            let mut out = b"...".to_vec();
            out.extend_from_slice(&bytes[shift + 3..]);
            bytes = out;
            pos -= shift;
        }
        if bytes.len() > width {
            bytes.truncate(width - 3);
            bytes.extend_from_slice(b"...");
        }
    }
    let text: String = bytes
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '?'
            }
        })
        .collect();
    (text, pos)
}

/// Tokenizes one line (without its trailing LF). `getenv` looks variables
/// up; `pseudo` resolves `.LINE`, `.FILE`, `.SECTION`.
pub fn tokenize(
    line: &[u8],
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Word>, LexError> {
    let mut words: Vec<Word> = Vec::new();
    let mut out: Vec<u8> = Vec::new();
    // Offset in the virtual output buffer where each word starts (HAProxy
    // reports "position" of the 64th word in that buffer).
    let mut out_total: usize = 0;
    let mut word_out_start: usize = 0;
    let mut word_col: u32;
    let mut word_started = false;
    let mut squote = false;
    let mut dquote = false;
    let mut quote_pos = 0usize;
    let mut too_many: Option<(usize, String)> = None;
    let mut i = 0usize;
    let n = line.len();
    let at = |k: usize| -> u8 { if k < n { line[k] } else { 0 } };

    macro_rules! emit {
        ($c:expr) => {{
            if !word_started {
                word_started = true;
                word_col = (i + 1) as u32;
            }
            out.push($c);
            out_total += 1;
        }};
    }

    // leading blanks are skipped by the caller in HAProxy; do the same here
    while i < n && is_space(line[i]) {
        i += 1;
    }
    word_col = (i + 1) as u32;

    loop {
        let c = at(i);
        if c == 0 || c == b'\n' || c == b'\r' {
            break;
        } else if c >= b'-' && c != b'\\' {
            emit!(c);
            i += 1;
        } else if c == b'#' && !squote && !dquote {
            break;
        } else if c == b'"' && !squote {
            if !word_started {
                word_started = true;
                word_col = (i + 1) as u32;
            }
            dquote = !dquote;
            quote_pos = i;
            i += 1;
        } else if c == b'\'' && !dquote {
            if !word_started {
                word_started = true;
                word_col = (i + 1) as u32;
            }
            squote = !squote;
            quote_pos = i;
            i += 1;
        } else if c == b'\\' && !squote {
            let mut tosend = c;
            match at(i + 1) {
                b' ' | b'\\' => {
                    tosend = at(i + 1);
                    i += 1;
                }
                b't' => {
                    tosend = b'\t';
                    i += 1;
                }
                b'n' => {
                    tosend = b'\n';
                    i += 1;
                }
                b'r' => {
                    tosend = b'\r';
                    i += 1;
                }
                b'#' | b'\'' | b'"' => {
                    i += 1;
                    tosend = at(i);
                }
                b'$' => {
                    if dquote {
                        i += 1;
                    }
                    tosend = at(i);
                }
                b'x' => {
                    let (h1, h2) = (at(i + 2), at(i + 3));
                    match (hexval(h1), hexval(h2)) {
                        (Some(a), Some(b)) => {
                            tosend = (a << 4) | b;
                            i += 3;
                        }
                        _ => return Err(LexError::BadHex { pos: i + 1 }),
                    }
                }
                _ => {}
            }
            // the escaped char itself belongs to the word
            if !word_started {
                word_started = true;
                word_col = (i + 1) as u32;
            }
            i += 1;
            out.push(tosend);
            out_total += 1;
        } else if is_space(c) && !squote && !dquote {
            while is_space(at(i)) {
                i += 1;
            }
            finish_word(&mut words, &mut out, word_col);
            out_total += 1;
            word_out_start = out_total;
            word_started = false;
            word_col = (i + 1) as u32;
            if words.len() >= MAX_LINE_ARGS && too_many.is_none() {
                // words[63] is the last kept one; HAProxy reports it
                let w = &words[MAX_LINE_ARGS - 1];
                too_many = Some((w_out_pos(&words, MAX_LINE_ARGS - 1), w.text.clone()));
            }
        } else if c == b'$' && dquote {
            i += 1;
            let mut brace: Option<usize> = None;
            if at(i) == b'{' {
                brace = Some(i);
                i += 1;
            }
            let first = at(i);
            if !(first.is_ascii_alphabetic() || first == b'_' || first == b'.') {
                return Err(LexError::BadVarName { pos: i + 1 });
            }
            let name_start = i;
            if first == b'.' {
                i += 1;
            }
            while at(i).is_ascii_alphanumeric() || at(i) == b'_' {
                i += 1;
            }
            let name = String::from_utf8_lossy(&line[name_start..i]).into_owned();
            let mut value = getenv(&name);
            if name.starts_with('.')
                && value.is_none()
                && !matches!(name.as_str(), ".LINE" | ".FILE" | ".SECTION")
            {
                return Err(LexError::BadVarName {
                    pos: name_start + 1,
                });
            }
            let mut word_expand = false;
            if at(i) == b'[' && brace.is_some() {
                let wpos = i;
                if at(i + 1) != b'*' || at(i + 2) != b']' {
                    return Err(LexError::BadWordExpand { pos: wpos + 1 });
                }
                i += 3;
                word_expand = true;
            }
            if let Some(bpos) = brace {
                if at(i) == b'-' {
                    let def_start = i + 1;
                    while at(i) != 0 && at(i) != b'}' {
                        i += 1;
                    }
                    if at(i) != b'}' {
                        return Err(LexError::UnmatchedBrace { pos: bpos + 1 });
                    }
                    if value.is_none() {
                        value = Some(String::from_utf8_lossy(&line[def_start..i]).into_owned());
                    }
                } else if at(i) != b'}' {
                    return Err(LexError::UnmatchedBrace { pos: bpos + 1 });
                }
                i += 1;
            }
            if let Some(v) = value {
                let vb = v.as_bytes();
                let mut k = 0;
                while k < vb.len() {
                    if word_expand && is_space(vb[k]) {
                        finish_word(&mut words, &mut out, word_col);
                        out_total += 1;
                        word_out_start = out_total;
                        word_started = true;
                        word_col = (i + 1) as u32;
                        while k < vb.len() && is_space(vb[k]) {
                            k += 1;
                        }
                    } else {
                        emit!(vb[k]);
                        k += 1;
                    }
                }
            } else if !word_started {
                word_started = true;
                word_col = (name_start) as u32;
            }
        } else {
            emit!(c);
            i += 1;
        }
    }
    let _ = word_out_start;
    // Last word: dropped when empty (HAProxy doesn't count an empty trailing arg).
    if !out.is_empty() {
        finish_word(&mut words, &mut out, word_col);
    }
    if squote || dquote {
        return Err(LexError::UnmatchedQuote { pos: quote_pos + 1 });
    }
    if words.len() > MAX_LINE_ARGS || too_many.is_some() {
        let (pos, word) = too_many.unwrap_or_else(|| {
            (
                w_out_pos(&words, MAX_LINE_ARGS - 1),
                words[MAX_LINE_ARGS - 1].text.clone(),
            )
        });
        return Err(LexError::TooManyWords { pos, word });
    }
    Ok(words)
}

/// 1-based offset of word `idx` in HAProxy's output buffer (words separated by NULs).
fn w_out_pos(words: &[Word], idx: usize) -> usize {
    words[..idx].iter().map(|w| w.text.len() + 1).sum::<usize>() + 1
}

fn finish_word(words: &mut Vec<Word>, out: &mut Vec<u8>, col: u32) {
    let text = String::from_utf8_lossy(out).into_owned();
    out.clear();
    words.push(Word { text, col });
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | 0x0b | 0x0c)
}

fn hexval(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests;
