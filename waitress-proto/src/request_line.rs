//! The request line (section 2: L-01..L-05 with D-03).

use crate::chars::{is_tchar, latin1_to_string};
use crate::error::ErrorKind;
use crate::version::Version;

/// The three parts of a valid request line, borrowed from the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RequestLine<'a> {
    pub method: &'a [u8],
    pub target: &'a [u8],
    pub version: Version,
}

/// Length of `HTTP/d.d`.
const VERSION_LEN: usize = 8;

/// Parses a request line that is already cut at its CRLF and right-stripped
/// (L-01). Checks in waitress's order: bare CR/LF (L-02), grammar (L-03),
/// method case (L-04), then the version (D-03).
pub(crate) fn parse_request_line(line: &[u8]) -> Result<RequestLine<'_>, ErrorKind> {
    if memchr::memchr2(b'\r', b'\n', line).is_some() {
        return Err(ErrorKind::BareCrLfInRequestLine);
    }
    // L-03: METHOD SP TARGET SP "HTTP/" DIGIT "." DIGIT, exactly one SP between
    // parts; D-03 makes the version mandatory.
    let sp1 = memchr::memchr(b' ', line).ok_or(ErrorKind::StartLineInvalid)?;
    let (method, rest) = (&line[..sp1], &line[sp1 + 1..]);
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(ErrorKind::StartLineInvalid);
    }
    let sp2 = memchr::memchr(b' ', rest).ok_or(ErrorKind::StartLineInvalid)?;
    let (target, version) = (&rest[..sp2], &rest[sp2 + 1..]);
    if target.is_empty() {
        return Err(ErrorKind::StartLineInvalid);
    }
    let (major, minor) = match *version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            (major, minor)
        }
        _ => return Err(ErrorKind::StartLineInvalid),
    };
    debug_assert_eq!(version.len(), VERSION_LEN);
    if method.iter().any(u8::is_ascii_lowercase) {
        return Err(ErrorKind::MalformedMethod(latin1_to_string(method)));
    }
    let version = match (major, minor) {
        (b'1', b'0') => Version::Http10,
        (b'1', _) => Version::Http11,
        _ => {
            let text = [major, b'.', minor];
            return Err(ErrorKind::VersionNotSupported(latin1_to_string(&text)));
        }
    };
    Ok(RequestLine {
        method,
        target,
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &[u8]) -> (Vec<u8>, Vec<u8>, Version) {
        let l = parse_request_line(line).unwrap();
        (l.method.to_vec(), l.target.to_vec(), l.version)
    }

    #[test]
    fn valid_lines() {
        assert_eq!(
            ok(b"GET / HTTP/1.1"),
            (b"GET".to_vec(), b"/".to_vec(), Version::Http11)
        );
        assert_eq!(
            ok(b"M-SEARCH * HTTP/1.0"),
            (b"M-SEARCH".to_vec(), b"*".to_vec(), Version::Http10)
        );
        assert_eq!(ok(b"GET /\t\xff# HTTP/1.9").2, Version::Http11);
    }

    #[test]
    fn invalid_lines() {
        for line in [
            &b"GET  / HTTP/1.1"[..],
            b"GET / HTTP/1.1 x",
            b"GET / http/1.1",
            b"GET / HTTP/1.x",
            b"GET / HTTP/1.10",
            b"G\0T / HTTP/1.1",
            b"GET /",
            b"GET",
            b" / HTTP/1.1",
            b"GET / HTTP/1.1 ",
        ] {
            assert_eq!(
                parse_request_line(line),
                Err(ErrorKind::StartLineInvalid),
                "{line:?}"
            );
        }
        assert_eq!(
            parse_request_line(b"GET /\r HTTP/1.1"),
            Err(ErrorKind::BareCrLfInRequestLine)
        );
        assert_eq!(
            parse_request_line(b"Get / HTTP/1.1"),
            Err(ErrorKind::MalformedMethod("Get".into()))
        );
        assert_eq!(
            parse_request_line(b"GET / HTTP/2.0"),
            Err(ErrorKind::VersionNotSupported("2.0".into()))
        );
    }
}
