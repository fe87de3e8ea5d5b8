//! Value parsers for clap arguments that std's `FromStr` does not cover: whole
//! numbers with `_` separators (`1_000_000`), milliseconds, and limits that take
//! `unlimited`.

use std::time::Duration;

/// A whole number, `_` separators allowed (`1_000_000`).
pub fn count(text: &str) -> Result<usize, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number"))
}

/// A whole number above zero.
pub fn positive(text: &str) -> Result<usize, String> {
    match count(text) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{text:?} is not a whole number above 0")),
    }
}

/// A duration in milliseconds (`250`).
pub fn millis(text: &str) -> Result<Duration, String> {
    count(text)
        .map(|ms| Duration::from_millis(ms as u64))
        .map_err(|_| format!("{text:?} is not a number of milliseconds"))
}

/// A duration in microseconds above zero (`50`).
pub fn micros(text: &str) -> Result<Duration, String> {
    match count(text) {
        Ok(us) if us > 0 => Ok(Duration::from_micros(us as u64)),
        _ => Err(format!("{text:?} is not a number of microseconds above 0")),
    }
}

/// A limit above zero, or `unlimited` (`None`).
pub fn limit(text: &str) -> Result<Option<usize>, String> {
    if text.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    match count(text) {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(format!(
            "{text:?} is neither a whole number above 0 nor \"unlimited\""
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(count("1_000_000"), Ok(1_000_000));
        assert!(count("ten").is_err());
        assert_eq!(positive("3"), Ok(3));
        assert!(positive("0").is_err());
        assert_eq!(millis("250"), Ok(Duration::from_millis(250)));
        assert_eq!(micros("50"), Ok(Duration::from_micros(50)));
        assert!(micros("0").is_err());
        assert_eq!(limit("unlimited"), Ok(None));
        assert_eq!(limit("1000"), Ok(Some(1000)));
        assert!(limit("0").unwrap_err().contains("unlimited"));
    }
}
