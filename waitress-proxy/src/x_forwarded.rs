//! X-Forwarded-For / -Host / -Proto / -Port parsing (P-04..P-06, D-10).
//! X-Forwarded-By is never interpreted (P-07).

use crate::error::ParseFailure;
use crate::text::{has_port_suffix, join_last_n, last_n, py_strip, undquote};

/// A comma-separated hop list after hop selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HopList {
    /// The first of the last `count` hops, stripped and unquoted: the client
    /// address (X-Forwarded-For) or the host (X-Forwarded-Host).
    pub selected: String,
    /// The header rewritten to the trusted hops only (raw text).
    pub rewritten: String,
}

/// P-04 X-Forwarded-For: every hop is stripped and unquoted (a bad hop is an
/// error even outside the trusted ones); bare IPv6 hops get brackets.
pub(crate) fn parse_for(value: &str, count: usize) -> Result<HopList, ParseFailure> {
    parse_list(value, count, bracket_bare_ipv6)
}

/// P-05 X-Forwarded-Host: as X-Forwarded-For, without the IPv6 bracketing.
pub(crate) fn parse_host(value: &str, count: usize) -> Result<HopList, ParseFailure> {
    parse_list(value, count, |hop| hop)
}

/// P-06 X-Forwarded-Proto / -Port: one unquoted value; a comma is an error.
pub(crate) fn parse_single(value: &str) -> Result<String, ParseFailure> {
    let unquoted = undquote(value)?;
    if unquoted.contains(',') {
        return Err(ParseFailure::MultipleValues);
    }
    Ok(unquoted)
}

fn parse_list(
    value: &str,
    count: usize,
    normalize: impl Fn(String) -> String,
) -> Result<HopList, ParseFailure> {
    let raw: Vec<&str> = value.split(',').collect();
    let trusted = last_n(&raw, count);
    // The first trusted hop sits at this index of `raw`.
    let first_trusted = raw.len() - trusted.len();
    let mut selected = String::new();
    for (index, hop) in raw.iter().enumerate() {
        let hop = undquote(py_strip(hop))?;
        if index == first_trusted {
            selected = normalize(hop);
        }
    }
    Ok(HopList {
        selected,
        rewritten: join_last_n(&raw, count),
    })
}

/// Wraps an IPv6 hop written without brackets (`2001:db8::1` ->
/// `[2001:db8::1]`), so that a later `addr:port` split leaves it whole.
/// D-10: a hop already in the `[v6]:port` form is left alone, so that it is
/// split into address and port (waitress wraps it again, Q-07).
fn bracket_bare_ipv6(hop: String) -> String {
    let bracketed_with_port = hop.starts_with('[') && hop.contains("]:");
    if !hop.contains('.') && has_port_suffix(&hop) && !bracketed_with_port {
        format!("[{hop}]")
    } else {
        hop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hops(value: &str, count: usize) -> (String, String) {
        let list = parse_for(value, count).unwrap_or_else(|e| panic!("{value:?}: {e:?}"));
        (list.selected, list.rewritten)
    }

    #[test]
    fn p04_x_forwarded_for_selection_table() {
        let cases: &[(&str, usize, &str, &str)] = &[
            ("192.0.2.1", 1, "192.0.2.1", "192.0.2.1"),
            (
                "192.0.2.1, 198.51.100.2, 203.0.113.1",
                1,
                "203.0.113.1",
                "203.0.113.1",
            ),
            (
                "192.0.2.1, 198.51.100.2, 203.0.113.1",
                2,
                "198.51.100.2",
                "198.51.100.2, 203.0.113.1",
            ),
            (
                "192.0.2.1, 198.51.100.2, 203.0.113.1",
                3,
                "192.0.2.1",
                "192.0.2.1, 198.51.100.2, 203.0.113.1",
            ),
            (
                "192.0.2.1, 198.51.100.2",
                3,
                "192.0.2.1",
                "192.0.2.1, 198.51.100.2",
            ),
            (
                "192.0.2.1,198.51.100.2",
                0,
                "192.0.2.1",
                "192.0.2.1,198.51.100.2",
            ),
            // IPv6 forms.
            ("2001:db8::0", 1, "[2001:db8::0]", "2001:db8::0"),
            ("[2001:db8::1]", 1, "[2001:db8::1]", "[2001:db8::1]"),
            ("\"[2001:db8::1]\"", 1, "[2001:db8::1]", "\"[2001:db8::1]\""),
            ("\"2001:db8::1\"", 1, "[2001:db8::1]", "\"2001:db8::1\""),
            // D-10: "[v6]:port" stays as is (split later into address and port).
            (
                "\"[2001:db8::1]:8080\"",
                1,
                "[2001:db8::1]:8080",
                "\"[2001:db8::1]:8080\"",
            ),
            (
                "[2001:db8::1]:8080",
                1,
                "[2001:db8::1]:8080",
                "[2001:db8::1]:8080",
            ),
            // IPv4 with a port, and IPv4-mapped IPv6 (has a dot: not bracketed, as waitress).
            ("192.0.2.1:4711", 1, "192.0.2.1:4711", "192.0.2.1:4711"),
            (
                "::ffff:192.0.2.1",
                1,
                "::ffff:192.0.2.1",
                "::ffff:192.0.2.1",
            ),
            // Half-bracketed: waitress wraps it again.
            ("[2001:db8::1", 1, "[[2001:db8::1]", "[2001:db8::1"),
            // Empty elements are not rejected.
            ("", 1, "", ""),
            ("a,,b", 2, "", ",b"),
            (" , ", 1, "", ""),
            // Quoted values incl. escapes.
            ("\"a\\\"b\"", 1, "a\"b", "\"a\\\"b\""),
            ("unknown, \"_hidden\"", 2, "unknown", "unknown, \"_hidden\""),
        ];
        for (value, count, selected, rewritten) in cases {
            assert_eq!(
                hops(value, *count),
                ((*selected).to_owned(), (*rewritten).to_owned()),
                "{value:?} count {count}"
            );
        }
    }

    #[test]
    fn p04_malformed_quoting_anywhere_in_the_list_is_an_error() {
        for value in [
            "\"foo",
            "foo\"",
            "\"",
            "\"a\"b\"",
            "\"foo, 1.2.3.4",
            "1.2.3.4, foo\"",
            "\"x\u{1}\", 1.2.3.4",
        ] {
            assert_eq!(
                parse_for(value, 1),
                Err(ParseFailure::InvalidQuoting),
                "{value:?}"
            );
            assert_eq!(
                parse_host(value, 1),
                Err(ParseFailure::InvalidQuoting),
                "{value:?}"
            );
        }
    }

    #[test]
    fn p05_x_forwarded_host_table() {
        let cases: &[(&str, usize, &str, &str)] = &[
            ("example.com", 1, "example.com", "example.com"),
            (
                "example.com:8080",
                1,
                "example.com:8080",
                "example.com:8080",
            ),
            ("example.com, example.org", 1, "example.org", "example.org"),
            (
                "example.com, example.org",
                2,
                "example.com",
                "example.com, example.org",
            ),
            ("a, b, c", 3, "a", "a, b, c"),
            ("\"example.com\"", 1, "example.com", "\"example.com\""),
            // Not bracketed: a v6 host must be sent with brackets.
            ("::1", 1, "::1", "::1"),
            ("[::1]:8080", 1, "[::1]:8080", "[::1]:8080"),
        ];
        for (value, count, selected, rewritten) in cases {
            let list = parse_host(value, *count).unwrap();
            assert_eq!(
                (list.selected.as_str(), list.rewritten.as_str()),
                (*selected, *rewritten),
                "{value:?} count {count}"
            );
        }
    }

    #[test]
    fn p06_single_value_table() {
        assert_eq!(parse_single("https").as_deref(), Ok("https"));
        assert_eq!(parse_single("\"https\"").as_deref(), Ok("https"));
        assert_eq!(parse_single("").as_deref(), Ok(""));
        assert_eq!(parse_single("8080").as_deref(), Ok("8080"));
        assert_eq!(
            parse_single("http, https"),
            Err(ParseFailure::MultipleValues)
        );
        assert_eq!(parse_single("443, 80"), Err(ParseFailure::MultipleValues));
        assert_eq!(
            parse_single("\"http,https\""),
            Err(ParseFailure::MultipleValues)
        );
        assert_eq!(
            parse_single("http, \"https\""),
            Err(ParseFailure::InvalidQuoting)
        );
        assert_eq!(parse_single("\"https"), Err(ParseFailure::InvalidQuoting));
    }

    #[test]
    fn p04_every_split_point_of_a_hop_list() {
        // Cutting a list anywhere yields a list judged on its own: never a
        // panic, and the selected hop is always the undquoted last element.
        let whole = "\"192.0.2.1\", [2001:db8::1]:80, 203.0.113.1";
        for split in 0..=whole.len() {
            for part in [&whole[..split], &whole[split..]] {
                match parse_for(part, 1) {
                    Ok(list) => {
                        let last = part.rsplit(',').next().unwrap_or("");
                        assert_eq!(list.rewritten, py_strip(last), "{part:?}");
                    }
                    Err(failure) => assert_eq!(failure, ParseFailure::InvalidQuoting, "{part:?}"),
                }
            }
        }
    }
}
