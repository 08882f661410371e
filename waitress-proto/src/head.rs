//! Parsing one complete request head into a [`RequestHead`] (sections 1-7).
//!
//! The head is walked once, line by line (memchr for the line ends, a table
//! lookup per byte for the field grammar). Errors are reported in waitress's
//! order (H-04): (2) bare CR/LF in the request line, (3) header lines, where
//! every bare CR/LF or leading continuation anywhere in the block beats a
//! syntax or duplicate error, (4) request-line grammar and method case,
//! (5) Host/Transfer-Encoding/Expect/Connection, (6) the target, (7)
//! Content-Length, then the body size limit (B-03).

use crate::chars::{Latin1Source, is_field_value, is_ows, is_tchar, rstrip_line_space, trim_ows};
use crate::error::{ErrorKind, ProtoError};
use crate::host::is_valid_host;
use crate::limits::Limits;
use crate::request::{BodyKind, RequestHead};
use crate::request_line::parse_request_line;
use crate::target::split_target;
use crate::version::Version;

/// Headers the parser itself interprets.
#[derive(Default)]
struct Known {
    host: Option<usize>,
    content_type: Option<usize>,
    content_length: Option<usize>,
    transfer_encoding: Vec<usize>,
    connection: Vec<usize>,
    expect: Vec<usize>,
}

/// Parses `head`: the bytes of one request from its first non-blank byte
/// (H-03 already applied) through the terminating CRLFCRLF.
pub(crate) fn parse_head(head: &[u8], limits: &Limits) -> Result<RequestHead, ProtoError> {
    // (1) The request line ends at the first CRLF; a head always has one.
    let line_end = memchr::memmem::find(head, b"\r\n").unwrap_or(head.len());
    let line = rstrip_line_space(head.get(..line_end).unwrap_or_default());
    let block = head.get(line_end + 2..).unwrap_or_default();
    let request_line = parse_request_line(line);
    // D-15: errors use the request's version whenever the request line gives one.
    let hint = request_line.as_ref().map_or(Version::Http10, |l| l.version);
    let fail = |kind| ProtoError::new(kind, hint);

    // (2)
    if let Err(ErrorKind::BareCrLfInRequestLine) = request_line {
        return Err(fail(ErrorKind::BareCrLfInRequestLine));
    }
    // (3)
    let text = Latin1Source::new(head);
    let (mut headers, known) = parse_fields(block, &text).map_err(fail)?;
    // (4)
    let request_line = request_line.map_err(fail)?;
    let version = request_line.version;
    let fail = |kind| ProtoError::new(kind, version);

    // (5) D-02: Host is required on 1.1 and must be a valid authority.
    match known.host.and_then(|i| headers.get(i)) {
        None if version == Version::Http11 => return Err(fail(ErrorKind::MissingHost)),
        Some((_, value)) if !is_valid_host(value.as_bytes()) => {
            return Err(fail(ErrorKind::InvalidHost));
        }
        _ => {}
    }
    let mut keep_alive = true;
    let mut chunked = false;
    if !known.transfer_encoding.is_empty() {
        if version == Version::Http10 {
            return Err(fail(ErrorKind::TransferEncodingInHttp10));
        }
        let te = joined(&headers, &known.transfer_encoding, ", ");
        chunked = transfer_encoding_is_chunked(&te).map_err(fail)?;
        // B-05: the app never sees Transfer-Encoding on 1.1.
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case("transfer-encoding"));
        if chunked && known.content_length.is_some() {
            // B-06 / D-05: chunked wins, the Content-Length is dropped and the
            // connection closes after the response.
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-length"));
            keep_alive = false;
        }
    }
    let expect = version == Version::Http11
        && joined(&headers, &known.expect, ", ").eq_ignore_ascii_case("100-continue");
    keep_alive &= connection_allows_keep_alive(&joined(&headers, &known.connection, ", "), version);

    // (6)
    let (path, query) = split_target(request_line.target).map_err(|_| fail(ErrorKind::BadUri))?;

    // (7)
    let body = if chunked {
        BodyKind::Chunked
    } else {
        let length = match known.content_length.and_then(|i| headers.get(i)) {
            Some((_, value)) => parse_content_length(value.as_bytes()).map_err(fail)?,
            None => 0,
        };
        if length > 0 && length >= limits.max_request_body_size {
            // B-03, D-09: 413 at once, never a 100.
            return Err(fail(ErrorKind::BodyTooLarge {
                max: limits.max_request_body_size,
            }));
        }
        if length == 0 {
            BodyKind::Empty
        } else {
            BodyKind::Length(length)
        }
    };

    Ok(RequestHead {
        method: text.string(request_line.method),
        version,
        request_uri: text.string(request_line.target),
        path,
        query,
        headers,
        body,
        // E-01 with D-09: a bodiless request is dispatched at once.
        expect_continue: expect && body != BodyKind::Empty,
        keep_alive,
    })
}

/// Section 3 on the header block (everything after the request line's CRLF).
fn parse_fields(
    block: &[u8],
    text: &Latin1Source<'_>,
) -> Result<(Vec<(String, String)>, Known), ErrorKind> {
    // One slot per line, so the vector never grows.
    let mut headers = Vec::with_capacity(memchr::memchr_iter(b'\n', block).count());
    let mut known = Known::default();
    // First syntax/duplicate error; reported only if no line of the block has
    // a bare CR/LF (F-01 is checked over all lines first in waitress).
    let mut syntax_error: Option<ErrorKind> = None;
    let mut pos = 0;
    let mut first = true;
    while pos < block.len() {
        let (end, bare) = line_end(block, pos);
        let line = block.get(pos..end).unwrap_or_default();
        pos = end + 2;
        if line.is_empty() {
            continue;
        }
        if bare {
            // F-01
            return Err(ErrorKind::BareCrLfInHeaderLine(text.string(line)));
        }
        let was_first = std::mem::replace(&mut first, false);
        if is_ows(line[0]) {
            if was_first {
                // F-02: a continuation with nothing to continue.
                return Err(ErrorKind::MalformedHeaderLine(text.string(line)));
            }
            // D-01: obs-fold is rejected.
            syntax_error.get_or_insert(ErrorKind::InvalidHeader);
            continue;
        }
        if syntax_error.is_some() {
            continue;
        }
        let Some((name, value)) = split_field(line) else {
            syntax_error = Some(ErrorKind::InvalidHeader);
            continue;
        };
        if memchr::memchr(b'_', name).is_some() {
            // F-07: dropped silently.
            continue;
        }
        let index = headers.len();
        let slot = match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => Some(&mut known.host),
            12 if name.eq_ignore_ascii_case(b"content-type") => Some(&mut known.content_type),
            14 if name.eq_ignore_ascii_case(b"content-length") => Some(&mut known.content_length),
            _ => None,
        };
        if let Some(slot) = slot {
            // F-09: singleton fields.
            if slot.is_some() {
                syntax_error = Some(ErrorKind::DuplicateHeader(text.string(name)));
                continue;
            }
            *slot = Some(index);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            known.transfer_encoding.push(index);
        } else if name.eq_ignore_ascii_case(b"connection") {
            known.connection.push(index);
        } else if name.eq_ignore_ascii_case(b"expect") {
            known.expect.push(index);
        }
        headers.push((text.string(name), text.string(value)));
    }
    match syntax_error {
        Some(e) => Err(e),
        None => Ok((headers, known)),
    }
}

/// End of the line starting at `pos` (index of its CRLF, or the block's end)
/// and whether a bare CR or LF occurs before it.
fn line_end(block: &[u8], pos: usize) -> (usize, bool) {
    let mut bare = false;
    let mut i = pos;
    while let Some(off) = block
        .get(i..)
        .and_then(|rest| memchr::memchr2(b'\r', b'\n', rest))
    {
        let j = i + off;
        if block[j] == b'\r' && block.get(j + 1) == Some(&b'\n') {
            return (j, bare);
        }
        bare = true;
        i = j + 1;
    }
    (block.len(), bare)
}

/// F-03: `token ":" OWS field-value OWS`; returns the name and the value
/// trimmed of SP/HT (F-05).
fn split_field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let name_len = line.iter().position(|&b| !is_tchar(b))?;
    if name_len == 0 || line[name_len] != b':' {
        return None;
    }
    let raw = &line[name_len + 1..];
    if !raw.iter().all(|&b| is_field_value(b)) {
        return None;
    }
    Some((&line[..name_len], trim_ows(raw)))
}

/// Values of repeated headers joined in arrival order (F-09).
fn joined(headers: &[(String, String)], indices: &[usize], sep: &str) -> String {
    let mut parts = indices
        .iter()
        .filter_map(|&i| headers.get(i))
        .map(|(_, v)| v.as_str());
    match indices.len() {
        0 => String::new(),
        1 => parts.next().unwrap_or_default().to_owned(),
        _ => parts.collect::<Vec<_>>().join(sep),
    }
}

/// B-05: every listed coding must be `chunked`, at most once. `Ok(false)` for
/// an empty value (as if absent).
fn transfer_encoding_is_chunked(value: &str) -> Result<bool, ErrorKind> {
    let mut chunked = 0usize;
    for element in value.split(',').filter(|e| !e.is_empty()) {
        let coding = element.trim_matches([' ', '\t']);
        if !coding.eq_ignore_ascii_case("chunked") {
            return Err(ErrorKind::TransferEncodingNotSupported);
        }
        chunked += 1;
    }
    match chunked {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(ErrorKind::MultipleChunkedEncodings),
    }
}

/// C-01/C-02 request side with D-08: `Connection` is a token list.
fn connection_allows_keep_alive(value: &str, version: Version) -> bool {
    let mut close = false;
    let mut keep_alive = false;
    for token in value.split(',').map(|t| t.trim_matches([' ', '\t'])) {
        close |= token.eq_ignore_ascii_case("close");
        keep_alive |= token.eq_ignore_ascii_case("keep-alive");
    }
    match version {
        Version::Http11 => !close,
        Version::Http10 => keep_alive && !close,
    }
}

/// B-01: digits only (leading zeros fine). A value too large for u64 is
/// certainly over any body limit, so it saturates (-> 413 by B-03).
fn parse_content_length(value: &[u8]) -> Result<u64, ErrorKind> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(ErrorKind::ContentLengthInvalid);
    }
    Ok(value.iter().fold(0u64, |acc, &d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b05_transfer_coding_lists() {
        assert_eq!(transfer_encoding_is_chunked("chunked"), Ok(true));
        assert_eq!(transfer_encoding_is_chunked(",CHUNKED,"), Ok(true));
        assert_eq!(transfer_encoding_is_chunked(""), Ok(false));
        assert_eq!(transfer_encoding_is_chunked(",,"), Ok(false));
        for bad in [
            "gzip",
            "identity",
            "chunked;q=1",
            "\u{a0}chunked",
            ", ,chunked",
            "gzip, chunked",
        ] {
            assert_eq!(
                transfer_encoding_is_chunked(bad),
                Err(ErrorKind::TransferEncodingNotSupported),
                "{bad}"
            );
        }
        assert_eq!(
            transfer_encoding_is_chunked("chunked, chunked"),
            Err(ErrorKind::MultipleChunkedEncodings)
        );
    }

    #[test]
    fn d08_connection_tokens() {
        assert!(connection_allows_keep_alive("", Version::Http11));
        assert!(!connection_allows_keep_alive("close, te", Version::Http11));
        assert!(!connection_allows_keep_alive(
            "TE ,\tClose",
            Version::Http11
        ));
        assert!(!connection_allows_keep_alive("", Version::Http10));
        assert!(connection_allows_keep_alive(
            "keep-alive, foo",
            Version::Http10
        ));
        assert!(connection_allows_keep_alive("Keep-Alive", Version::Http10));
        assert!(!connection_allows_keep_alive(
            "keep-alive, close",
            Version::Http10
        ));
    }

    #[test]
    fn b01_content_length_grammar() {
        assert_eq!(parse_content_length(b"002"), Ok(2));
        assert_eq!(
            parse_content_length(b"99999999999999999999999"),
            Ok(u64::MAX)
        );
        for bad in [&b""[..], b"+2", b"-2", b"0x2", b"2, 2", b"2 "] {
            assert_eq!(
                parse_content_length(bad),
                Err(ErrorKind::ContentLengthInvalid)
            );
        }
    }

    #[test]
    fn f03_field_split() {
        assert_eq!(
            split_field(b"X-A: one  two\t"),
            Some((&b"X-A"[..], &b"one  two"[..]))
        );
        assert_eq!(split_field(b"X-Empty:"), Some((&b"X-Empty"[..], &b""[..])));
        assert_eq!(
            split_field(b"X: \xa0v\x85"),
            Some((&b"X"[..], &b"\xa0v\x85"[..]))
        );
        for bad in [
            &b"X : 1"[..],
            b"X",
            b":v",
            b"X@A: 1",
            b"X: a\x00b",
            b"X: \x7f",
            b"X: \x0b",
        ] {
            assert_eq!(split_field(bad), None, "{bad:?}");
        }
    }
}
