//! waitress's casting functions (section 12), in one place.
//!
//! Every source of settings (TOML, flags, strings) ends up here, so
//! `asbool`, Python `int()`, `int(s, 8)`, `aslist` and `slash_fixed_str`
//! behave the same whichever way a value arrives.

/// The words `asbool` reads as true; everything else is false.
const TRUTHY: [&str; 6] = ["t", "true", "y", "yes", "on", "1"];

/// Python's `str.isspace()` for one character (what `strip()`/`split()` use):
/// Unicode White_Space plus the ASCII separators `\x1c`..`\x1f`.
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python `str.strip()` with no arguments.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// `asbool`: true iff the stripped, lowercased text is a truthy word.
/// Never an error.
pub(crate) fn asbool(s: &str) -> bool {
    let lowered = py_strip(s).to_lowercase();
    TRUTHY.contains(&lowered.as_str())
}

/// `aslist`: split on any whitespace, newlines included; empty items dropped.
pub(crate) fn aslist(s: &str) -> Vec<String> {
    s.split(is_py_space)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `slash_fixed_str` (U-07): stripped, one leading `/`, no trailing `/`;
/// empty stays empty.
pub(crate) fn slash_fixed(s: &str) -> String {
    let s = py_strip(s);
    if s.is_empty() {
        return String::new();
    }
    format!("/{}", s.trim_start_matches('/').trim_end_matches('/'))
}

/// Why Python's `int()` refused a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum IntError {
    /// Not an integer literal: waitress's exact `ValueError` text.
    Literal(String),
    /// A valid literal too large for any setting.
    TooLarge,
}

/// Python `int(s)` (base 10) or `int(s, 8)` (base 8): surrounding whitespace,
/// one sign, single `_` between digits, leading zeros; base 8 also takes a
/// `0o` prefix. Only ASCII digits are accepted.
pub(crate) fn py_int(s: &str, base: u32) -> Result<i128, IntError> {
    let literal_error = || {
        IntError::Literal(format!(
            "invalid literal for int() with base {base}: {}",
            py_repr(s)
        ))
    };
    let body = py_strip(s);
    let (negative, body) = match body.as_bytes().first() {
        Some(b'-') => (true, &body[1..]),
        Some(b'+') => (false, &body[1..]),
        _ => (false, body),
    };
    // A base prefix may be followed by an underscore (`0o_17`), so the digit
    // part may start with `_` only right after a prefix.
    let (digits, after_prefix) = match body.get(..2) {
        Some(prefix) if base == 8 && prefix.eq_ignore_ascii_case("0o") => (&body[2..], true),
        _ => (body, false),
    };
    if digits.is_empty() {
        return Err(literal_error());
    }
    let mut value: i128 = 0;
    let mut previous_underscore = false;
    let mut too_large = false;
    for (index, c) in digits.chars().enumerate() {
        if c == '_' {
            // `_` only between digits (or right after the prefix).
            if previous_underscore || (index == 0 && !after_prefix) {
                return Err(literal_error());
            }
            previous_underscore = true;
            continue;
        }
        let digit = c.to_digit(base).ok_or_else(literal_error)?;
        previous_underscore = false;
        match value
            .checked_mul(i128::from(base))
            .and_then(|v| v.checked_add(i128::from(digit)))
        {
            Some(next) => value = next,
            None => too_large = true,
        }
    }
    if previous_underscore {
        return Err(literal_error());
    }
    if too_large {
        return Err(IntError::TooLarge);
    }
    Ok(if negative { -value } else { value })
}

/// Python's `repr()` of a `str`, as it appears in `ValueError` messages.
pub(crate) fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let code = u32::from(c);
                if code < 0x100 {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code < 0x10000 {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

/// Approximates Python's `str.isprintable()` for one character.
fn is_printable(c: char) -> bool {
    c == ' ' || !(c.is_control() || c.is_whitespace() || is_format_char(c))
}

/// The common Unicode format (Cf) characters Python escapes in reprs.
fn is_format_char(c: char) -> bool {
    matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(s: &str, base: u32) -> IntError {
        IntError::Literal(format!(
            "invalid literal for int() with base {base}: {}",
            py_repr(s)
        ))
    }

    #[test]
    fn py_int_accepts_what_python_accepts() {
        for (text, value) in [
            ("42", 42),
            (" 42 ", 42),
            ("+42", 42),
            ("-42", -42),
            ("4_2", 42),
            ("010", 10),
            (" 42\n", 42),
            ("0", 0),
            ("-0", 0),
            ("\u{a0}7\u{1f}", 7),
        ] {
            assert_eq!(py_int(text, 10), Ok(value), "{text:?}");
        }
    }

    #[test]
    fn py_int_refuses_what_python_refuses_with_its_message() {
        for text in [
            "", " ", "abc", "4__2", "_42", "42_", "0x10", "1.5", "- 1", "+-1", "1e3", "٣", "--1",
        ] {
            assert_eq!(py_int(text, 10), Err(literal(text, 10)), "{text:?}");
        }
        assert_eq!(
            py_int("abc", 10),
            Err(IntError::Literal(
                "invalid literal for int() with base 10: 'abc'".into()
            ))
        );
    }

    #[test]
    fn py_int_reports_huge_values_as_too_large() {
        assert_eq!(
            py_int("999999999999999999999999999999999999999999", 10),
            Err(IntError::TooLarge)
        );
    }

    #[test]
    fn py_int_base8_like_int_s_8() {
        for (text, value) in [
            ("600", 0o600),
            ("0o17", 0o17),
            ("0O17", 0o17),
            ("0o_17", 0o17),
            ("017", 0o17),
            (" +17 ", 0o17),
            ("-0o7", -7),
        ] {
            assert_eq!(py_int(text, 8), Ok(value), "{text:?}");
        }
        for text in ["999", "_17", "1__7", "0x1", "0o", "0o_", "8"] {
            assert_eq!(py_int(text, 8), Err(literal(text, 8)), "{text:?}");
        }
        assert_eq!(
            py_int("999", 8),
            Err(IntError::Literal(
                "invalid literal for int() with base 8: '999'".into()
            ))
        );
    }

    #[test]
    fn py_repr_matches_python() {
        assert_eq!(py_repr("abc"), "'abc'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a\"b'c"), "'a\"b\\'c'");
        assert_eq!(py_repr("tab\there"), "'tab\\there'");
        assert_eq!(py_repr("nul\0"), "'nul\\x00'");
        assert_eq!(py_repr("back\\slash"), "'back\\\\slash'");
        assert_eq!(py_repr("é"), "'é'");
        assert_eq!(py_repr("\u{2028}"), "'\\u2028'");
    }

    #[test]
    fn asbool_words() {
        for yes in ["t", "true", "TRUE", " y ", "yes", "On", "1", "\ttrue\n"] {
            assert!(asbool(yes), "{yes:?}");
        }
        for no in [
            "",
            "f",
            "false",
            "no",
            "0",
            "2",
            "truthy",
            "yes please",
            "off",
        ] {
            assert!(!asbool(no), "{no:?}");
        }
    }

    #[test]
    fn aslist_splits_on_any_whitespace() {
        assert_eq!(
            aslist(" a  b\nc\r\n\td "),
            vec!["a".to_owned(), "b".into(), "c".into(), "d".into()]
        );
        assert!(aslist("  \n ").is_empty());
    }

    #[test]
    fn u07_slash_fixed_str() {
        assert_eq!(slash_fixed("app/"), "/app");
        assert_eq!(slash_fixed(""), "");
        assert_eq!(slash_fixed("   "), "");
        assert_eq!(slash_fixed("///a/b//"), "/a/b");
        assert_eq!(slash_fixed(" /app "), "/app");
        assert_eq!(slash_fixed("/"), "/");
        assert_eq!(slash_fixed("a//b"), "/a//b");
    }
}
