//! Time and size units, and the lax integer readers HAProxy's keyword parsers
//! use (`atoi`/`atol`/`strtol` semantics).
//!
//! Owns: `parse_time` (HAProxy `parse_time_err`), `parse_size`
//! (`parse_size_err`) and the C-like integer helpers. It only turns text into
//! numbers and reports *what* went wrong; the wording of the final diagnostic
//! (which keyword, which location prefix) belongs to the keyword parsers, which
//! can use the small message helpers on [`TimeError`].
//! Must not touch: diagnostics printing, the AST, any I/O.

use thiserror::Error;

/// Unit in which the caller wants the result of [`parse_time_in`]
/// (HAProxy's `TIME_UNIT_*`). A number without suffix is taken in this unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Us,
    Ms,
    S,
    Min,
    Hour,
    Day,
}

impl TimeUnit {
    /// (output multiplier, output divisor) relative to seconds.
    fn out_scale(self) -> (u64, u64) {
        match self {
            TimeUnit::Us => (1_000_000, 1),
            TimeUnit::Ms => (1000, 1),
            TimeUnit::S => (1, 1),
            TimeUnit::Min => (1, 60),
            TimeUnit::Hour => (1, 3600),
            TimeUnit::Day => (1, 86400),
        }
    }
}

/// Why a time value was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TimeError {
    /// `unexpected character '<c>'`: the byte at `pos` (0 when the text is
    /// empty or does not start with a digit; `byte` is 0 for an empty text).
    #[error("unexpected character '{}'", char::from(*byte))]
    UnexpectedChar { byte: u8, pos: usize },
    /// The converted value is >= 2^31 (HAProxy `PARSE_TIME_OVER`).
    #[error("timer overflow")]
    Overflow,
    /// A non-zero input converted to zero (HAProxy `PARSE_TIME_UNDER`).
    #[error("timer underflow")]
    Underflow,
}

impl TimeError {
    /// The offending character as HAProxy prints it with `%c` (one byte).
    pub fn ch(&self) -> Option<char> {
        match self {
            TimeError::UnexpectedChar { byte, .. } => Some(char::from(*byte)),
            _ => None,
        }
    }

    /// The message used by `timeout <name>` and most proxy keywords, e.g.
    /// `unexpected character 'x' in 'timeout connect'`,
    /// `timer overflow in argument '25d' to 'timeout connect' (maximum value is 2147483647 ms or ~24.8 days)`.
    pub fn quoted_msg(&self, arg: &str, kw: &str) -> String {
        match self {
            TimeError::UnexpectedChar { byte, .. } => {
                format!("unexpected character '{}' in '{kw}'", char::from(*byte))
            }
            TimeError::Overflow => format!(
                "timer overflow in argument '{arg}' to '{kw}' (maximum value is 2147483647 ms or ~24.8 days)"
            ),
            TimeError::Underflow => format!(
                "timer underflow in argument '{arg}' to '{kw}' (minimum non-null value is 1 ms)"
            ),
        }
    }

    /// The `<arg>`/`<kw>` style used by many global/server keywords (the
    /// character case ends with `.\n` like `hard-stop-after`'s), e.g.
    /// `timer overflow in argument <25d> to <hard-stop-after> (maximum value is 2147483647 ms or ~24.8 days)`.
    pub fn angle_msg(&self, arg: &str, kw: &str) -> String {
        match self {
            TimeError::UnexpectedChar { byte, .. } => {
                format!(
                    "unexpected character '{}' in argument to <{kw}>.\n",
                    char::from(*byte)
                )
            }
            TimeError::Overflow => format!(
                "timer overflow in argument <{arg}> to <{kw}> (maximum value is 2147483647 ms or ~24.8 days)"
            ),
            TimeError::Underflow => format!(
                "timer underflow in argument <{arg}> to <{kw}> (minimum non-null value is 1 ms)"
            ),
        }
    }
}

/// A successfully parsed time value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTime {
    /// The value in the requested unit (always < 2^31).
    pub value: u32,
    /// HAProxy 2.6 accepts junk after a valid unit (`5sx`) but prints a
    /// stand-alone warning (no file/line prefix). This is that text, e.g.
    /// `unexpected character 'x' after the timer value '5sx', only (us=...,d=days) are supported. This will be reported as an error in next versions.`
    pub warning: Option<String>,
}

/// Parses a time in milliseconds (the default unit of almost every timeout).
/// Trailing junk after a unit is accepted (see [`ParsedTime::warning`]).
pub fn parse_time(text: &str) -> Result<u32, TimeError> {
    parse_time_in(text, TimeUnit::Ms).map(|t| t.value)
}

/// Same as [`parse_time`] (name used by the keyword checkers).
pub fn parse_time_ms(text: &str) -> Result<u32, TimeError> {
    parse_time(text)
}

/// The `timeout <name>` style message for `e` (see [`TimeError::quoted_msg`]).
pub fn time_error_text(e: &TimeError, arg: &str, kw: &str) -> String {
    e.quoted_msg(arg, kw)
}

/// A keyword-less description: `unexpected character 'x'`, `timer overflow`,
/// `timer underflow`.
pub fn time_error_short(e: &TimeError) -> String {
    e.to_string()
}

/// Parses a time whose unit-less form is in seconds and whose result is in
/// seconds (HAProxy `TIME_UNIT_S`, e.g. `tune.ssl.lifetime`, cookie `maxidle`).
pub fn parse_time_s(text: &str) -> Result<u32, TimeError> {
    parse_time_in(text, TimeUnit::S).map(|t| t.value)
}

/// HAProxy `parse_time_err`: digits, then an optional unit among
/// `us ms s m h d` (case sensitive), converted to `unit` and rounded up.
/// Arithmetic wraps like HAProxy's 64-bit unsigned maths.
pub fn parse_time_in(text: &str, unit: TimeUnit) -> Result<ParsedTime, TimeError> {
    let b = text.as_bytes();
    let bad = |pos: usize| TimeError::UnexpectedChar {
        byte: b.get(pos).copied().unwrap_or(0),
        pos,
    };
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return Err(bad(0));
    }
    let (mut omult, mut odiv) = unit.out_scale();
    let mut value: u64 = 0;
    let mut i = 0;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        value = value.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        i += 1;
    }
    let (mut imult, mut idiv) = (1u64, 1u64);
    let mut warning = None;
    match b.get(i) {
        None => {
            imult = 1;
            idiv = 1;
            omult = 1;
            odiv = 1;
        }
        Some(&c) => {
            match c {
                b's' => {}
                b'u' if b.get(i + 1) == Some(&b's') => {
                    idiv = 1_000_000;
                    i += 1;
                }
                b'm' if b.get(i + 1) == Some(&b's') => {
                    idiv = 1000;
                    i += 1;
                }
                b'm' => imult = 60,
                b'h' => imult = 3600,
                b'd' => imult = 86400,
                _ => return Err(bad(i)),
            }
            i += 1;
            if let Some(&junk) = b.get(i) {
                warning = Some(format!(
                    "unexpected character '{}' after the timer value '{}', only \
                     (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. \
                     This will be reported as an error in next versions.",
                    char::from(junk),
                    text
                ));
            }
        }
    }
    if omult % idiv == 0 {
        omult /= idiv;
        idiv = 1;
    }
    if idiv % omult == 0 {
        idiv /= omult;
        omult = 1;
    }
    if imult % odiv == 0 {
        imult /= odiv;
        odiv = 1;
    }
    if odiv % imult == 0 {
        odiv /= imult;
        imult = 1;
    }
    let den = idiv.wrapping_mul(odiv);
    let num = value
        .wrapping_mul(imult.wrapping_mul(omult))
        .wrapping_add(den.wrapping_sub(1));
    let result = num.checked_div(den).unwrap_or(0);
    if result >= 0x8000_0000 {
        return Err(TimeError::Overflow);
    }
    if result == 0 && value != 0 {
        return Err(TimeError::Underflow);
    }
    let value = u32::try_from(result).map_err(|_| TimeError::Overflow)?;
    Ok(ParsedTime { value, warning })
}

/// Why a size was refused: the byte at `pos` is where HAProxy stopped
/// (`byte` is 0 when the text ended there).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unexpected character '{}'", char::from(*byte))]
pub struct SizeError {
    pub byte: u8,
    pub pos: usize,
}

/// HAProxy `parse_size_err`: digits (32-bit, overflow refused) and an
/// optional `k`/`m`/`g` (either case) binary multiplier, nothing after it.
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let b = text.as_bytes();
    let err = |pos: usize| SizeError {
        byte: b.get(pos).copied().unwrap_or(0),
        pos,
    };
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return Err(err(0));
    }
    let mut value: u32 = 0;
    let mut i = 0;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(d - b'0')))
            .ok_or_else(|| err(i))?;
        i += 1;
    }
    let shift = match b.get(i) {
        None => return Ok(u64::from(value)),
        Some(b'k' | b'K') => 10,
        Some(b'm' | b'M') => 20,
        Some(b'g' | b'G') => 30,
        Some(_) => return Err(err(i)),
    };
    if value > (u32::MAX >> shift) {
        return Err(err(i));
    }
    if b.len() > i + 1 {
        return Err(err(i + 1));
    }
    Ok(u64::from(value << shift))
}

/// C `strtol(text, &end, 10)` on a 64-bit `long`: skips leading C-locale
/// whitespace, accepts a sign, saturates at `i64::MIN/MAX`. Returns the value
/// and the number of bytes consumed (0 when no digit was read).
pub fn strtol(text: &str) -> (i64, usize) {
    let b = text.as_bytes();
    let mut i = 0;
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
    {
        i += 1;
    }
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    // accumulate as a negative number so that i64::MIN is representable
    let mut acc: i64 = 0;
    let mut overflow = false;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        let d = i64::from(d - b'0');
        match acc.checked_mul(10).and_then(|v| v.checked_sub(d)) {
            Some(v) => acc = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    let v = match (overflow, neg) {
        (true, true) => i64::MIN,
        (true, false) => i64::MAX,
        (false, true) => acc,
        (false, false) => acc.checked_neg().unwrap_or(i64::MAX),
    };
    (v, i)
}

/// C `atol`: `strtol` without the end pointer (`"lots"` → 0, `"-5"` → -5).
pub fn atol(text: &str) -> i64 {
    strtol(text).0
}

/// glibc `atoi`: `(int)strtol(...)`, i.e. the 64-bit result truncated to 32
/// bits (`"4294967376"` → 80, `"99999999999999999999"` → -1).
pub fn atoi(text: &str) -> i32 {
    // truncation is the documented glibc behaviour being reproduced
    strtol(text).0 as i32
}

/// C `strtoul` (64-bit): like `strtol`, a leading `-` negates modulo 2^64,
/// saturates at `u64::MAX`. Returns the value and bytes consumed.
pub fn strtoul(text: &str) -> (u64, usize) {
    let b = text.as_bytes();
    let mut i = 0;
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
    {
        i += 1;
    }
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut acc: u64 = 0;
    let mut overflow = false;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        match acc
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
        {
            Some(v) => acc = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    if overflow {
        return (u64::MAX, i);
    }
    (if neg { acc.wrapping_neg() } else { acc }, i)
}

/// True when `text` is entirely a (possibly signed) decimal integer as
/// checked by HAProxy's `*endptr == '\0'` idiom after `strtol`.
pub fn is_full_integer(text: &str) -> bool {
    let (_, used) = strtol(text);
    used != 0 && used == text.len()
}

#[cfg(test)]
mod tests;
