//! Numbers with units, read as HAProxy reads them: times (`us ms s m h d`, a bare number is
//! in the caller's default unit), sizes (`k m g`, 1024-based), and HAProxy's lenient
//! `atoi`-style integers.

use std::time::Duration;

/// Why a time value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    /// No digits at all (`''`).
    Empty,
    /// A character that is neither a digit nor a known unit.
    BadChar(char),
    /// More than `i32::MAX` milliseconds (HAProxy's timer limit, ~24.8 days).
    Overflow,
}

impl TimeError {
    /// HAProxy's message for `keyword`'s argument `arg`.
    pub fn message(&self, keyword: &str, arg: &str) -> String {
        match self {
            TimeError::Empty => format!("'{keyword}' expects an integer value (in milliseconds)"),
            TimeError::BadChar(c) => format!("unexpected character '{c}' in '{keyword}'"),
            TimeError::Overflow => format!(
                "timer overflow in argument '{arg}' to '{keyword}' (maximum value is 2147483647 ms or ~24.8 days)"
            ),
        }
    }
}

/// A time in milliseconds as HAProxy writes it: digits and an optional unit. A bare
/// number is in milliseconds.
pub fn parse_time_ms(text: &str) -> Result<Duration, TimeError> {
    parse_time(text, 1_000)
}

/// A time with a unit, or a bare number in units of `default_us` microseconds.
pub fn parse_time(text: &str, default_us: u64) -> Result<Duration, TimeError> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if digits_end == 0 {
        return Err(match text.chars().next() {
            None => TimeError::Empty,
            Some(c) => TimeError::BadChar(c),
        });
    }
    let value: u64 = text[..digits_end]
        .parse()
        .map_err(|_| TimeError::Overflow)?;
    let unit = &text[digits_end..];
    // The longest valid unit at the start; anything after it only gets HAProxy 2.6's
    // WARNING (see [`trailing_garbage`]), a bad first character is an error.
    let unit_us: u64 = if unit.is_empty() {
        default_us
    } else if unit.starts_with("us") {
        1
    } else if unit.starts_with("ms") {
        1_000
    } else {
        match unit.as_bytes()[0] {
            b's' => 1_000_000,
            b'm' => 60_000_000,
            b'h' => 3_600_000_000,
            b'd' => 86_400_000_000,
            _ => return Err(TimeError::BadChar(unit.chars().next().unwrap_or('?'))),
        }
    };
    let us = value.checked_mul(unit_us).ok_or(TimeError::Overflow)?;
    if us / 1_000 > i32::MAX as u64 {
        return Err(TimeError::Overflow);
    }
    Ok(Duration::from_micros(us))
}

/// The first character after a valid time value and its unit (`15min` → `i`), which
/// HAProxy 2.6 ignores with a WARNING.
pub fn trailing_garbage(text: &str) -> Option<char> {
    let digits_end = text.find(|c: char| !c.is_ascii_digit())?;
    let unit = &text[digits_end..];
    let rest = ["us", "ms", "s", "m", "h", "d"]
        .iter()
        .find_map(|u| unit.strip_prefix(u))?;
    rest.chars().next()
}

/// HAProxy 2.6's WARNING text for [`trailing_garbage`].
pub fn trailing_garbage_warning(c: char, text: &str) -> String {
    format!("unexpected character '{c}' after the timer value '{text}', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions.")
}

/// Why a size was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SizeError {
    Empty,
    BadChar(char),
    Overflow,
}

/// A size: digits and an optional `k`, `m` or `g` (1024-based, any case).
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if digits_end == 0 {
        return Err(match text.chars().next() {
            None => SizeError::Empty,
            Some(c) => SizeError::BadChar(c),
        });
    }
    let value: u64 = text[..digits_end]
        .parse()
        .map_err(|_| SizeError::Overflow)?;
    let mut rest = text[digits_end..].chars();
    let mult: u64 = match rest.next() {
        None => 1,
        Some('k' | 'K') => 1 << 10,
        Some('m' | 'M') => 1 << 20,
        Some('g' | 'G') => 1 << 30,
        Some(c) => return Err(SizeError::BadChar(c)),
    };
    if let Some(c) = rest.next() {
        return Err(SizeError::BadChar(c));
    }
    value.checked_mul(mult).ok_or(SizeError::Overflow)
}

/// C's `atol` as HAProxy uses it for many integer keywords: optional sign, leading digits,
/// anything after them ignored, no digits = 0. Saturates instead of overflowing.
pub fn atol(text: &str) -> i64 {
    let t = text.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -v
    } else {
        v
    }
}

/// `atol` clamped into `u32` (negative → 0).
pub fn atou32(text: &str) -> u32 {
    atol(text).clamp(0, i64::from(u32::MAX)) as u32
}

/// A strict unsigned integer: only digits, at least one.
pub fn strict_u32(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time_ms("5000"), Ok(Duration::from_millis(5000)));
        assert_eq!(parse_time_ms("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_time_ms("10us"), Ok(Duration::from_micros(10)));
        assert_eq!(parse_time_ms("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_time_ms("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_time_ms("1d"), Ok(Duration::from_secs(86400)));
        assert_eq!(parse_time_ms("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_time_ms("5x"), Err(TimeError::BadChar('x')));
        assert_eq!(parse_time_ms("5.5s"), Err(TimeError::BadChar('.')));
        assert_eq!(parse_time_ms("-1"), Err(TimeError::BadChar('-')));
        assert_eq!(parse_time_ms("5sx"), Ok(Duration::from_secs(5)));
        assert_eq!(trailing_garbage("5sx"), Some('x'));
        assert_eq!(parse_time_ms("15min"), Ok(Duration::from_secs(900)));
        assert_eq!(trailing_garbage("15min"), Some('i'));
        assert_eq!(trailing_garbage("15m"), None);
        assert_eq!(parse_time_ms(""), Err(TimeError::Empty));
        assert_eq!(parse_time_ms("99999999999"), Err(TimeError::Overflow));
        assert_eq!(
            parse_time_ms("99999999999999999999999"),
            Err(TimeError::Overflow)
        );
        assert_eq!(parse_time_ms("25d"), Err(TimeError::Overflow));
        assert_eq!(parse_time("10", 1_000_000), Ok(Duration::from_secs(10)));
    }

    #[test]
    fn time_messages_are_haproxys() {
        assert_eq!(
            TimeError::BadChar('x').message("timeout connect", "5x"),
            "unexpected character 'x' in 'timeout connect'"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16384"), Ok(16384));
        assert_eq!(parse_size("16k"), Ok(16384));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1x"), Err(SizeError::BadChar('x')));
        assert_eq!(parse_size("1kb"), Err(SizeError::BadChar('b')));
        assert_eq!(parse_size(""), Err(SizeError::Empty));
    }

    #[test]
    fn atol_is_lenient() {
        assert_eq!(atol("10x"), 10);
        assert_eq!(atol("abc"), 0);
        assert_eq!(atol("-5"), -5);
        assert_eq!(atol("99999999999999999999999"), i64::MAX);
        assert_eq!(atou32("-5"), 0);
        assert_eq!(strict_u32("12"), Some(12));
        assert_eq!(strict_u32("1a"), None);
    }
}
