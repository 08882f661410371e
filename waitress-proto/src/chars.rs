//! Byte classes of RFC 9110/9112 as lookup tables, and latin-1 helpers.
//!
//! Every grammar check in the crate is a table lookup per byte: no regex, no
//! backtracking, linear time on any input.

/// A 256-entry membership table built at compile time from a `const fn`.
macro_rules! byte_table {
    ($pred:ident) => {{
        let mut table = [false; 256];
        let mut i = 0;
        while i < 256 {
            table[i] = $pred(i as u8);
            i += 1;
        }
        table
    }};
}

const fn is_tchar_byte(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.'
        | b'^' | b'_' | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// field-vchar (VCHAR / obs-text), SP or HTAB: every byte allowed after the
/// colon of a field line (F-03: `OWS field-value OWS` over these bytes).
const fn is_field_value_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x21..=0x7e | 0x80..=0xff)
}

/// qdtext of a quoted-string (RFC 9110 5.6.4).
const fn is_qdtext_byte(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff)
}

static TCHAR: [bool; 256] = byte_table!(is_tchar_byte);
static FIELD_VALUE: [bool; 256] = byte_table!(is_field_value_byte);
static QDTEXT: [bool; 256] = byte_table!(is_qdtext_byte);

/// RFC 9110 `tchar`.
#[inline]
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// Bytes allowed in a field value including its surrounding OWS (F-03).
#[inline]
pub(crate) fn is_field_value(b: u8) -> bool {
    FIELD_VALUE[usize::from(b)]
}

/// `qdtext` of a quoted-string.
#[inline]
pub(crate) fn is_qdtext(b: u8) -> bool {
    QDTEXT[usize::from(b)]
}

/// The argument of a quoted-pair (`"\" ( HTAB / SP / VCHAR / obs-text )`).
#[inline]
pub(crate) fn is_quoted_pair_arg(b: u8) -> bool {
    is_field_value(b)
}

/// `1*tchar`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Python's `bytes.isspace()` set, used by waitress's `strip()` calls (H-03, L-01).
#[inline]
pub(crate) fn is_py_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// SP / HTAB, the only whitespace trimmed from field values (F-05).
#[inline]
pub(crate) fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if is_ows(*first) {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if is_ows(*last) {
            s = rest;
        } else {
            break;
        }
    }
    s
}

pub(crate) fn lstrip_py_space(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_py_space(b)).unwrap_or(s.len());
    s.get(start..).unwrap_or_default()
}

/// L-01: trailing SP, HT, VT and FF are dropped from the request line. CR and
/// LF are not (Python's `rstrip()` would): a bare CR/LF right before the
/// line's CRLF is rejected by L-02 like any other, so no request line can end
/// at a bare LF for one parser and at CRLF for another.
pub(crate) fn rstrip_line_space(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|&b| !matches!(b, b' ' | b'\t' | 0x0b | 0x0c))
        .map_or(0, |i| i + 1);
    s.get(..end).unwrap_or_default()
}

/// Decodes bytes as latin-1 (F-06): every byte becomes the char with the same
/// code point. ASCII input (the common case) is a single copy.
pub(crate) fn latin1_to_string(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if s.is_ascii() => s.to_owned(),
        _ => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Latin-1 decoding of many sub-slices of one buffer (a request head). When
/// the whole buffer is ASCII, the common case, it is validated once and every
/// sub-slice is copied as text without being checked again.
pub(crate) struct Latin1Source<'a> {
    bytes: &'a [u8],
    ascii: Option<&'a str>,
}

impl<'a> Latin1Source<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        let ascii = if bytes.is_ascii() {
            std::str::from_utf8(bytes).ok()
        } else {
            None
        };
        Latin1Source { bytes, ascii }
    }

    /// `part` should be a sub-slice of the buffer; anything else still decodes
    /// correctly, only without the shortcut.
    pub(crate) fn string(&self, part: &[u8]) -> String {
        if let Some(text) = self.ascii {
            let offset = (part.as_ptr() as usize).wrapping_sub(self.bytes.as_ptr() as usize);
            let same = offset
                .checked_add(part.len())
                .and_then(|end| text.get(offset..end))
                .filter(|s| s.as_ptr() == part.as_ptr());
            if let Some(s) = same {
                return s.to_owned();
            }
        }
        latin1_to_string(part)
    }
}

/// Encodes a string as latin-1 into `out`; `false` (and nothing written for the
/// offending char onwards) if a char is above U+00FF.
pub(crate) fn push_latin1(out: &mut Vec<u8>, s: &str) -> bool {
    if s.is_ascii() {
        out.extend_from_slice(s.as_bytes());
        return true;
    }
    for c in s.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(b) => out.push(b),
            Err(_) => return false,
        }
    }
    true
}

/// True when every char of `s` is encodable as latin-1.
pub(crate) fn is_latin1(s: &str) -> bool {
    s.is_ascii() || s.chars().all(|c| u32::from(c) <= 0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tchar_table_matches_rfc() {
        let tchars =
            b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for b in 0..=255u8 {
            assert_eq!(is_tchar(b), tchars.contains(&b), "byte {b:#x}");
        }
    }

    #[test]
    fn field_value_table_excludes_ctl() {
        for b in 0..=255u8 {
            let ctl = b < 0x20 && b != b'\t' || b == 0x7f;
            assert_eq!(is_field_value(b), !ctl, "byte {b:#x}");
        }
    }

    #[test]
    fn latin1_round_trip() {
        let all: Vec<u8> = (0..=255).collect();
        let s = latin1_to_string(&all);
        assert_eq!(s.chars().count(), 256);
        let mut back = Vec::new();
        assert!(push_latin1(&mut back, &s));
        assert_eq!(back, all);
        assert!(!push_latin1(&mut Vec::new(), "\u{100}"));
        assert!(!is_latin1("caf\u{e9} \u{20ac}"));
        assert!(is_latin1("caf\u{e9}"));
    }

    #[test]
    fn latin1_source_shortcut_and_fallback() {
        let buf = b"Host: example\r\n";
        let src = Latin1Source::new(buf);
        assert_eq!(src.string(&buf[6..13]), "example");
        assert_eq!(src.string(b"other \xe9"), "other \u{e9}");
        let latin = b"X: caf\xe9";
        assert_eq!(Latin1Source::new(latin).string(&latin[3..]), "caf\u{e9}");
    }

    #[test]
    fn strips() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"\xa0x\x85"), b"\xa0x\x85");
        assert_eq!(lstrip_py_space(b"\r\n\x0b\x0c GET"), b"GET");
        assert_eq!(
            rstrip_line_space(b"GET / HTTP/1.1 \t\x0b\x0c"),
            b"GET / HTTP/1.1"
        );
        assert_eq!(rstrip_line_space(b"GET / HTTP/1.1\n"), b"GET / HTTP/1.1\n");
        assert_eq!(rstrip_line_space(b"  "), b"");
    }
}
