//! String primitives with waitress's exact semantics: Python's `str.strip()`
//! whitespace set and `utilities.undquote` (RFC 7230 quoted-string).

use crate::error::ParseFailure;

/// Python's `str.isspace()`: Unicode White_Space plus the four information
/// separators U+001C..U+001F, which Python counts as whitespace and Rust does not.
/// (Environ values are latin-1, so U+0085 and U+00A0 can occur and are stripped.)
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` with no argument.
pub(crate) fn py_strip(value: &str) -> &str {
    value.trim_matches(is_python_space)
}

/// `qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text`
fn is_qdtext(c: char) -> bool {
    matches!(c, '\t' | ' ' | '\u{21}' | '\u{23}'..='\u{5b}' | '\u{5d}'..='\u{7e}') || is_obs_text(c)
}

/// The character after a backslash: `HTAB / SP / VCHAR / obs-text`.
fn is_quoted_pair_char(c: char) -> bool {
    matches!(c, '\t' | ' ' | '\u{21}'..='\u{7e}') || is_obs_text(c)
}

/// `obs-text = %x80-FF` (environ values are latin-1 decoded, one char per byte).
fn is_obs_text(c: char) -> bool {
    ('\u{80}'..='\u{ff}').contains(&c)
}

/// waitress `undquote`: a value in double quotes must be a complete
/// quoted-string and is returned without its quotes, quoted pairs unescaped;
/// a value with no quote at either end is returned unchanged; anything else
/// (a quote on one side only, an invalid quoted-string) is an error.
pub(crate) fn undquote(value: &str) -> Result<String, ParseFailure> {
    let starts = value.starts_with('"');
    let ends = value.ends_with('"');
    if !starts && !ends {
        return Ok(value.to_owned());
    }
    if !(starts && ends) {
        return Err(ParseFailure::InvalidQuoting);
    }
    unescape_quoted_string(value).ok_or(ParseFailure::InvalidQuoting)
}

/// Parses `value` as exactly one quoted-string (opening quote included) and
/// returns its unescaped content, or None if it is not exactly that.
fn unescape_quoted_string(value: &str) -> Option<String> {
    let mut chars = value.strip_prefix('"')?.chars();
    let mut out = String::with_capacity(value.len());
    while let Some(c) = chars.next() {
        match c {
            // The first unescaped quote closes the string: it must be the last char.
            '"' => return chars.next().is_none().then_some(out),
            '\\' => {
                let escaped = chars.next().filter(|&e| is_quoted_pair_char(e))?;
                out.push(escaped);
            }
            c if is_qdtext(c) => out.push(c),
            _ => return None,
        }
    }
    // Ran out of input before the closing quote (e.g. the value `"` alone).
    None
}

/// Python's `s.rsplit(":", 1)` for a string known to contain `:`.
pub(crate) fn split_last_colon(value: &str) -> Option<(&str, &str)> {
    value.rsplit_once(':')
}

/// True for a value that waitress treats as `host:port` / `addr:port`:
/// it contains `:` and does not end in `]` (a bracketed IPv6 literal).
pub(crate) fn has_port_suffix(value: &str) -> bool {
    value.contains(':') && !value.ends_with(']')
}

/// waitress `strip_brackets`: `[x]` -> `x`, anything else unchanged.
pub(crate) fn strip_brackets(value: &str) -> &str {
    value
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(value)
}

/// Python's `items[-count:]`: the last `count` items; like Python, a count of
/// 0 selects every item (`-0 == 0`), and a count above the length selects all.
pub(crate) fn last_n<T>(items: &[T], count: usize) -> &[T] {
    if count == 0 {
        return items;
    }
    let start = items.len().saturating_sub(count);
    items.get(start..).unwrap_or(items)
}

/// The P-04/P-05/P-08 header rewrite: the last `count` raw elements joined
/// with `,`, then stripped (`",".join(raw[-count:]).strip()`).
pub(crate) fn join_last_n(raw: &[&str], count: usize) -> String {
    py_strip(&last_n(raw, count).join(",")).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_strip_uses_python_whitespace() {
        assert_eq!(py_strip("  a b \t"), "a b");
        assert_eq!(py_strip("\u{1c}\u{1f}a\u{1d}"), "a");
        assert_eq!(py_strip("\u{85}\u{a0}a\u{a0}"), "a");
        assert_eq!(py_strip("\u{0b}\u{0c}\r\na"), "a");
        assert_eq!(py_strip("\u{1b}a"), "\u{1b}a");
        assert_eq!(py_strip(""), "");
        assert_eq!(py_strip(" \t "), "");
    }

    #[test]
    fn p04_undquote_table() {
        let ok: &[(&str, &str)] = &[
            ("", ""),
            ("abc", "abc"),
            ("a\"b", "a\"b"),
            ("\"\"", ""),
            ("\"abc\"", "abc"),
            ("\"a b\tc\"", "a b\tc"),
            ("\"a\\\"b\"", "a\"b"),
            ("\"a\\\\b\"", "a\\b"),
            ("\"\\a\\b\"", "ab"),
            ("\"\\ \"", " "),
            ("\"\\\t\"", "\t"),
            ("\"caf\u{e9}\"", "caf\u{e9}"),
            ("\"\\\u{e9}\"", "\u{e9}"),
            ("\"[2001:db8::1]:80\"", "[2001:db8::1]:80"),
        ];
        for (input, expected) in ok {
            assert_eq!(undquote(input).as_deref(), Ok(*expected), "{input:?}");
        }
        let bad: &[&str] = &[
            "\"",
            "\"abc",
            "abc\"",
            "\"a\"b\"",
            "\"a\\\"",
            "\"\\\"",
            "\"a\u{1}b\"",
            "\"a\u{7f}b\"",
            "\"\\\u{1}\"",
            "\"a\u{100}\"",
            "\"\"\"",
            "\"a\"\"",
        ];
        for input in bad {
            assert_eq!(
                undquote(input),
                Err(ParseFailure::InvalidQuoting),
                "{input:?}"
            );
        }
    }

    #[test]
    fn p04_undquote_every_split_point_of_a_quoted_value() {
        // Each prefix and suffix of a valid quoted string is judged as a whole
        // value of its own: only the complete string unquotes.
        let whole = "\"a\\\"b c\"";
        for split in 1..whole.len() {
            let (head, tail) = whole.split_at(split);
            assert!(undquote(head).is_err(), "head {head:?}");
            // Every tail ends with the closing quote; only the one that also
            // starts with a (now unescaped) quote is a quoted-string of its own.
            let expected = if tail == "\"b c\"" {
                Ok("b c")
            } else {
                Err(ParseFailure::InvalidQuoting)
            };
            assert_eq!(undquote(tail), expected.map(str::to_owned), "tail {tail:?}");
        }
        assert_eq!(undquote(whole).as_deref(), Ok("a\"b c"));
    }

    #[test]
    fn last_n_follows_python_negative_slices() {
        let items = [1, 2, 3];
        assert_eq!(last_n(&items, 0), &[1, 2, 3]);
        assert_eq!(last_n(&items, 1), &[3]);
        assert_eq!(last_n(&items, 2), &[2, 3]);
        assert_eq!(last_n(&items, 3), &[1, 2, 3]);
        assert_eq!(last_n(&items, 4), &[1, 2, 3]);
        assert_eq!(last_n::<u8>(&[], 1), &[] as &[u8]);
    }

    #[test]
    fn join_last_n_strips_the_joined_text() {
        let raw = ["a", " b", " c "];
        assert_eq!(join_last_n(&raw, 2), "b, c");
        assert_eq!(join_last_n(&raw, 1), "c");
        assert_eq!(join_last_n(&raw, 0), "a, b, c");
    }

    #[test]
    fn brackets_and_ports() {
        assert_eq!(strip_brackets("[::1]"), "::1");
        assert_eq!(strip_brackets("[]"), "");
        assert_eq!(strip_brackets("["), "[");
        assert_eq!(strip_brackets("]"), "]");
        assert_eq!(strip_brackets("::1"), "::1");
        assert!(has_port_suffix("a:1"));
        assert!(has_port_suffix("[::1]:1"));
        assert!(!has_port_suffix("[::1]"));
        assert!(!has_port_suffix("a"));
        assert_eq!(split_last_colon("[::1]:80"), Some(("[::1]", "80")));
    }
}
