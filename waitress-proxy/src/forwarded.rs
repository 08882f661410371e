//! RFC 7239 `Forwarded` parsing, as waitress does it (P-08).
//!
//! Elements are separated by `,`, pairs by `;`. Every pair is lowercased
//! entirely (values too), must contain `=`, and may not carry whitespace
//! around its token or value. `by`, `for`, `host` and `proto` are unquoted;
//! other tokens are reported and ignored.

use crate::error::ParseFailure;
use crate::text::{join_last_n, last_n, py_strip, undquote};

/// The values taken from a trusted `Forwarded` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ForwardedValues {
    /// Client address (`for=`), `""` when no trusted element has one.
    pub for_: String,
    /// `host=`, `""` when none.
    pub host: String,
    /// `proto=`, `""` when none.
    pub proto: String,
    /// The header rewritten to the trusted elements only.
    pub rewritten: String,
}

/// One element of the header (`by` is parsed to validate its quoting only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Element {
    for_: String,
    host: String,
    proto: String,
}

/// Parses `value`, keeps the last `count` elements and picks, for each of
/// `for`/`host`/`proto`, the oldest trusted element that has a non-empty one.
/// Unknown tokens add a `Unknown Forwarded token: <token>` warning.
pub(crate) fn parse(
    value: &str,
    count: usize,
    warnings: &mut Vec<String>,
) -> Result<ForwardedValues, ParseFailure> {
    let raw: Vec<&str> = value.split(',').collect();
    let elements = raw
        .iter()
        .map(|element| parse_element(py_strip(element), warnings))
        .collect::<Result<Vec<_>, _>>()?;
    let trusted = last_n(&elements, count);
    let oldest_non_empty = |field: fn(&Element) -> &String| {
        trusted
            .iter()
            .map(field)
            .find(|value| !value.is_empty())
            .cloned()
            .unwrap_or_default()
    };
    Ok(ForwardedValues {
        for_: oldest_non_empty(|e| &e.for_),
        host: oldest_non_empty(|e| &e.host),
        proto: oldest_non_empty(|e| &e.proto),
        rewritten: join_last_n(&raw, count),
    })
}

fn parse_element(element: &str, warnings: &mut Vec<String>) -> Result<Element, ParseFailure> {
    let mut parsed = Element::default();
    for pair in element.split(';') {
        let pair = pair.to_lowercase();
        if pair.is_empty() {
            continue;
        }
        let (token, value) = pair.split_once('=').ok_or(ParseFailure::MissingEquals)?;
        if py_strip(token) != token {
            return Err(ParseFailure::TokenWhitespace);
        }
        if py_strip(value) != value {
            return Err(ParseFailure::ValueWhitespace);
        }
        match token {
            "by" => {
                undquote(value)?;
            }
            "for" => parsed.for_ = undquote(value)?,
            "host" => parsed.host = undquote(value)?,
            "proto" => parsed.proto = undquote(value)?,
            _ => warnings.push(format!("Unknown Forwarded token: {token}")),
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(value: &str, count: usize) -> (ForwardedValues, Vec<String>) {
        let mut warnings = Vec::new();
        let values =
            parse(value, count, &mut warnings).unwrap_or_else(|e| panic!("{value:?}: {e:?}"));
        (values, warnings)
    }

    #[test]
    fn p08_forwarded_table() {
        // (value, count, for, host, proto, rewritten)
        let cases: &[(&str, usize, &str, &str, &str, &str)] = &[
            (
                "For=198.51.100.2:5858;host=example.com:8080;proto=https",
                1,
                "198.51.100.2:5858",
                "example.com:8080",
                "https",
                "For=198.51.100.2:5858;host=example.com:8080;proto=https",
            ),
            // Everything is lowercased, values too.
            (
                "for=A;host=EXAMPLE.COM;proto=HTTPS",
                1,
                "a",
                "example.com",
                "https",
                "for=A;host=EXAMPLE.COM;proto=HTTPS",
            ),
            // Empty pairs are skipped.
            (
                "For=198.51.100.2;;proto=https;by=_unused",
                1,
                "198.51.100.2",
                "",
                "https",
                "For=198.51.100.2;;proto=https;by=_unused",
            ),
            (";;", 1, "", "", "", ";;"),
            ("", 1, "", "", "", ""),
            // Quoted values, IPv6 forms.
            (
                "for=\"[2001:db8::1]:3821\"",
                1,
                "[2001:db8::1]:3821",
                "",
                "",
                "for=\"[2001:db8::1]:3821\"",
            ),
            (
                "for=\"[2001:DB8::1]\"",
                1,
                "[2001:db8::1]",
                "",
                "",
                "for=\"[2001:DB8::1]\"",
            ),
            ("for=\"a\\\"b\"", 1, "a\"b", "", "", "for=\"a\\\"b\""),
            ("for=", 1, "", "", "", "for="),
            // Chains: count 1..3 and the oldest trusted non-empty value wins.
            (
                "For=192.0.2.1;host=fake.com, For=198.51.100.2;host=example.com:8080, For=203.0.113.1",
                1,
                "203.0.113.1",
                "",
                "",
                "For=203.0.113.1",
            ),
            (
                "For=192.0.2.1;host=fake.com, For=198.51.100.2;host=example.com:8080, For=203.0.113.1",
                2,
                "198.51.100.2",
                "example.com:8080",
                "",
                "For=198.51.100.2;host=example.com:8080, For=203.0.113.1",
            ),
            (
                "For=192.0.2.1;host=fake.com, For=198.51.100.2;host=example.com:8080, For=203.0.113.1",
                3,
                "192.0.2.1",
                "fake.com",
                "",
                "For=192.0.2.1;host=fake.com, For=198.51.100.2;host=example.com:8080, For=203.0.113.1",
            ),
            (
                "for=\"[2001:db8::1]\";proto=\"https\", for=192.0.2.1;host=\"example.org\"",
                2,
                "[2001:db8::1]",
                "example.org",
                "https",
                "for=\"[2001:db8::1]\";proto=\"https\", for=192.0.2.1;host=\"example.org\"",
            ),
            // An empty element among trusted ones contributes nothing.
            (
                "for=1.1.1.1,,for=2.2.2.2",
                2,
                "2.2.2.2",
                "",
                "",
                ",for=2.2.2.2",
            ),
            (
                "proto=http, , proto=https",
                0,
                "",
                "",
                "http",
                "proto=http, , proto=https",
            ),
        ];
        for (value, count, for_, host, proto, rewritten) in cases {
            let (values, warnings) = parsed(value, *count);
            assert_eq!(
                (
                    values.for_.as_str(),
                    values.host.as_str(),
                    values.proto.as_str(),
                    values.rewritten.as_str()
                ),
                (*for_, *host, *proto, *rewritten),
                "{value:?} count {count}"
            );
            assert!(warnings.is_empty(), "{value:?}: {warnings:?}");
        }
    }

    #[test]
    fn p08_unknown_tokens_warn_in_order_and_are_ignored() {
        let (values, warnings) = parsed("for=1.1.1.1;Secret=x;=y, port=80;for=2.2.2.2", 1);
        assert_eq!(values.for_, "2.2.2.2");
        assert_eq!(
            warnings,
            [
                "Unknown Forwarded token: secret",
                "Unknown Forwarded token: ",
                "Unknown Forwarded token: port",
            ]
        );
    }

    #[test]
    fn p08_errors_table() {
        let cases: &[(&str, ParseFailure)] = &[
            ("For", ParseFailure::MissingEquals),
            ("for=1.1.1.1; ;proto=http", ParseFailure::MissingEquals),
            ("for=1.1.1.1;proto", ParseFailure::MissingEquals),
            (
                "For=198.51.100.2; proto =https",
                ParseFailure::TokenWhitespace,
            ),
            ("for =1.1.1.1", ParseFailure::TokenWhitespace),
            ("for=1.1.1.1; proto=https", ParseFailure::TokenWhitespace),
            (
                "For= \"198.51.100.2\"; proto =https",
                ParseFailure::ValueWhitespace,
            ),
            ("for=1.1.1.1 ;proto=https", ParseFailure::ValueWhitespace),
            ("for=\"1.1.1.1", ParseFailure::InvalidQuoting),
            ("host=example.com\"", ParseFailure::InvalidQuoting),
            ("proto=\"ht\"tp\"", ParseFailure::InvalidQuoting),
            ("by=\"", ParseFailure::InvalidQuoting),
            // An error in an untrusted (older) element still fails the header.
            ("for=\"x, for=1.1.1.1", ParseFailure::InvalidQuoting),
            ("bogus, for=1.1.1.1", ParseFailure::MissingEquals),
        ];
        for (value, expected) in cases {
            let mut warnings = Vec::new();
            assert_eq!(parse(value, 1, &mut warnings), Err(*expected), "{value:?}");
        }
    }

    #[test]
    fn p08_every_split_point_never_panics_and_matches_whole_parse_rules() {
        let whole = "for=\"[2001:db8::1]:80\";host=Example.com;proto=https, for=192.0.2.1;x=\"y\"";
        for split in 0..=whole.len() {
            for part in [&whole[..split], &whole[split..]] {
                let mut warnings = Vec::new();
                if let Ok(values) = parse(part, 2, &mut warnings) {
                    // The rewrite is always a suffix of the input.
                    assert!(part.trim().ends_with(values.rewritten.as_str()), "{part:?}");
                    // Every parsed value is lowercase.
                    assert_eq!(values.host, values.host.to_lowercase());
                }
            }
        }
        assert!(parse(whole, 2, &mut Vec::new()).is_ok());
    }
}
