//! Response heads: validation of what the app sends (S-03, S-04, R-11, D-14)
//! and the head and framing the server writes (R-01..R-10, C-01..C-03,
//! D-11..D-13).

use crate::chars::{is_latin1, is_token, push_latin1};
use crate::encoder::Encoder;
use crate::version::Version;

/// Which Python exception `start_response` raises for a bad status/header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseErrorKind {
    /// `AssertionError`: hop-by-hop header (S-04).
    Assertion,
    /// `ValueError`: CR/LF (S-03), bad status (D-14), not latin-1, bad
    /// Content-Length, bad header name or control bytes.
    Value,
}

/// A status or header the app must not send; the server answers 500.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseError {
    pub kind: ResponseErrorKind,
    pub message: String,
}

impl ResponseError {
    fn value(message: String) -> Self {
        ResponseError {
            kind: ResponseErrorKind::Value,
            message,
        }
    }
}

impl std::fmt::Display for ResponseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ResponseError {}

/// S-04 (waitress main): headers that belong to the connection, not the app.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The `Via` value when the app sent `Server` and `ident` is empty.
const DEFAULT_VIA: &str = "waitress";

fn has_cr_or_lf(s: &str) -> bool {
    memchr::memchr2(b'\r', b'\n', s.as_bytes()).is_some()
}

/// D-14, S-03, R-11: `"NNN reason"`, three digits (100-999), a space and a
/// reason of VCHAR / obs-text / SP / HTAB. Returns the status code.
pub fn validate_status(status: &str) -> Result<u16, ResponseError> {
    if has_cr_or_lf(status) {
        return Err(ResponseError::value(
            "carriage return/line feed character present in status".to_owned(),
        ));
    }
    if !is_latin1(status) {
        return Err(ResponseError::value(format!(
            "status {status:?} is not latin-1 encodable"
        )));
    }
    let bytes = status.as_bytes();
    let code = match bytes {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9', b' ', ..] => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return Err(bad_status(status)),
    };
    // Non-ASCII chars are latin-1 (checked above), i.e. obs-text once encoded.
    let reason_ok = status
        .chars()
        .skip(4)
        .all(|c| c == '\t' || c == ' ' || ('\u{21}'..='\u{7e}').contains(&c) || c >= '\u{80}');
    if !reason_ok {
        return Err(bad_status(status));
    }
    Ok(code)
}

fn bad_status(status: &str) -> ResponseError {
    ResponseError::value(format!(
        "status {status:?} is not of the form \"NNN reason\""
    ))
}

/// S-03, S-04, R-02, R-11: one application header. Checks in waitress's
/// order: CR/LF in the value, CR/LF in the name, then the rest.
pub fn validate_header(name: &str, value: &str) -> Result<(), ResponseError> {
    if has_cr_or_lf(value) {
        return Err(ResponseError::value(
            "carriage return/line feed character present in header value".to_owned(),
        ));
    }
    if has_cr_or_lf(name) {
        return Err(ResponseError::value(
            "carriage return/line feed character present in header name".to_owned(),
        ));
    }
    if !is_token(name.as_bytes()) {
        return Err(ResponseError::value(format!(
            "header name {name:?} is not a valid token"
        )));
    }
    if !is_latin1(value) {
        return Err(ResponseError::value(format!(
            "header value {value:?} of {name:?} is not latin-1 encodable"
        )));
    }
    // RFC 9110 5.5: no CTL other than HTAB in a field value.
    if value
        .chars()
        .any(|c| c != '\t' && (c < ' ' || c == '\u{7f}'))
    {
        return Err(ResponseError::value(format!(
            "header value {value:?} of {name:?} contains a control character"
        )));
    }
    if name.eq_ignore_ascii_case("content-length") {
        parse_content_length(value)?;
    } else if HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h)) {
        return Err(ResponseError {
            kind: ResponseErrorKind::Assertion,
            message: format!(
                "{name} is a \"hop-by-hop\" header; it cannot be used by a WSGI application (see PEP 3333)"
            ),
        });
    }
    Ok(())
}

/// an app Content-Length is digits only; its value.
pub fn parse_content_length(value: &str) -> Result<u64, ResponseError> {
    let invalid = || ResponseError::value(format!("invalid Content-Length value {value:?}"));
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    value.parse::<u64>().map_err(|_| invalid())
}

/// Everything [`prepare_response`] needs to know.
#[derive(Clone, Debug)]
pub struct ResponseSpec<'a> {
    /// The request's version.
    pub version: Version,
    /// D-11: same headers as GET, no body bytes.
    pub head_request: bool,
    /// `RequestHead::keep_alive`.
    pub request_keep_alive: bool,
    /// The server wants to close anyway (shutdown, errors ...).
    pub force_close: bool,
    /// The app's status, already validated.
    pub status: &'a str,
    /// The app's headers, already validated, in the app's order (D-13).
    pub headers: &'a [(String, String)],
    /// the computed length, used when the app sent no Content-Length.
    pub known_length: Option<u64>,
    /// `None`/empty: no `Server` header; `Via` then says "waitress".
    pub ident: Option<&'a str>,
    pub date: &'a str,
}

/// The head bytes to write, the body framing, and whether the connection may
/// stay open after this response (before any R-06 shortfall).
#[derive(Clone, Debug)]
pub struct PreparedResponse {
    pub head: Vec<u8>,
    pub encoder: Encoder,
    pub keep_alive: bool,
}

/// Builds the response head (status line, the app's headers in order, then
/// `Content-Length` / `Transfer-Encoding` / `Connection` / `Date` / `Server` /
/// `Via` as needed) and picks the body encoder.
pub fn prepare_response(spec: &ResponseSpec<'_>) -> Result<PreparedResponse, ResponseError> {
    let code = validate_status(spec.status)?;
    // 1xx, 204 and 304 have no body.
    let has_body = !(code < 200 || code == 204 || code == 304);
    let ident = spec.ident.filter(|i| !i.is_empty());

    let mut head = Vec::with_capacity(256);
    head.extend_from_slice(spec.version.as_str().as_bytes());
    head.push(b' ');
    push_latin1(&mut head, spec.status);
    head.extend_from_slice(b"\r\n");

    let mut app_length: Option<u64> = None;
    let mut app_server = false;
    let mut app_date = false;
    for (name, value) in spec.headers {
        validate_header(name, value)?;
        if name.eq_ignore_ascii_case("content-length") {
            if app_length.is_some() {
                return Err(ResponseError::value(
                    "more than one Content-Length header".to_owned(),
                ));
            }
            app_length = Some(parse_content_length(value)?);
            if !has_body {
                // R-03 / D-12: no Content-Length on a bodiless status.
                continue;
            }
        }
        app_server |= name.eq_ignore_ascii_case("server") && !value.is_empty();
        app_date |= name.eq_ignore_ascii_case("date") && !value.is_empty();
        push_header(&mut head, name, value);
    }

    let length = if has_body {
        app_length.or(spec.known_length)
    } else {
        None
    };
    if let (Some(n), None) = (length, app_length) {
        push_header(&mut head, "Content-Length", &n.to_string());
    }
    let mut encoder = match (has_body, length) {
        (false, _) => Encoder::Empty {
            ignored_status: (!spec.head_request).then(|| spec.status.to_owned()),
            warned: false,
        },
        (true, Some(n)) => Encoder::Length {
            declared: n,
            remaining: n,
            warned: false,
        },
        (true, None) if spec.version == Version::Http11 => {
            push_header(&mut head, "Transfer-Encoding", "chunked");
            Encoder::Chunked
        }
        (true, None) => Encoder::CloseDelimited,
    };
    // C-01/C-02 with D-12: chunked 1.1 and bodiless responses keep the
    // connection; only a close-delimited body forces a close.
    let keep_alive = spec.request_keep_alive && !spec.force_close && !encoder.is_close_delimited();
    match (keep_alive, spec.version) {
        (true, Version::Http10) => push_header(&mut head, "Connection", "Keep-Alive"),
        (true, Version::Http11) => {}
        (false, _) => push_header(&mut head, "Connection", "close"),
    }
    if !app_date {
        push_header(&mut head, "Date", spec.date);
    }
    if app_server {
        push_header(&mut head, "Via", ident.unwrap_or(DEFAULT_VIA));
    } else if let Some(ident) = ident {
        push_header(&mut head, "Server", ident);
    }
    head.extend_from_slice(b"\r\n");

    if spec.head_request {
        // D-11: the headers above are GET's; no body bytes follow.
        encoder = Encoder::Empty {
            ignored_status: None,
            warned: false,
        };
    }
    Ok(PreparedResponse {
        head,
        encoder,
        keep_alive,
    })
}

fn push_header(head: &mut Vec<u8>, name: &str, value: &str) {
    // Validated as latin-1 before; a failure here cannot happen.
    push_latin1(head, name);
    head.extend_from_slice(b": ");
    push_latin1(head, value);
    head.extend_from_slice(b"\r\n");
}
