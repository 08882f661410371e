//! Protocol errors as values, and the exact error responses of section 9.

use crate::version::Version;

/// Why a request was rejected: one variant per detail text of X-02 (plus the
/// D-02/D-03/D-04 additions), carrying the data its detail needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// L-02: bare CR or LF in the request line.
    BareCrLfInRequestLine,
    /// F-01: the offending header line, latin-1 decoded.
    BareCrLfInHeaderLine(String),
    /// F-02: a continuation line before any header.
    MalformedHeaderLine(String),
    /// F-03, D-01: field syntax, obs-fold.
    InvalidHeader,
    /// F-09: the name as spelled in the second occurrence.
    DuplicateHeader(String),
    /// L-03, D-03: request-line grammar (also a missing version).
    StartLineInvalid,
    /// L-04: the method as sent.
    MalformedMethod(String),
    /// D-03: a version other than `HTTP/1.x`; the digits as sent (`"2.0"`).
    VersionNotSupported(String),
    /// D-02: HTTP/1.1 without `Host`.
    MissingHost,
    /// D-02: `Host` not `uri-host [":" port]`.
    InvalidHost,
    /// U-03, D-07: the target cannot be split.
    BadUri,
    /// B-01.
    ContentLengthInvalid,
    /// D-04.
    TransferEncodingInHttp10,
    /// B-05.
    TransferEncodingNotSupported,
    /// B-05 [HEAD].
    MultipleChunkedEncodings,
    /// B-09.
    InvalidChunkExtension,
    /// B-10, D-06.
    InvalidChunkSize,
    /// B-11.
    ChunkNotTerminated,
    /// H-02 (431), also an over-long trailer section (D-06).
    HeaderTooLarge { max: usize },
    /// B-03, B-14 (413).
    BodyTooLarge { max: u64 },
    /// 500, for the server's own use.
    InternalServerError,
}

/// A rejected request: what went wrong and the version of the status line to
/// answer with (H-04, X-03, D-15).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtoError {
    pub kind: ErrorKind,
    pub version: Version,
}

impl ProtoError {
    pub fn new(kind: ErrorKind, version: Version) -> Self {
        ProtoError { kind, version }
    }

    /// Status code of the error response.
    pub fn status(&self) -> u16 {
        match self.kind {
            ErrorKind::HeaderTooLarge { .. } => 431,
            ErrorKind::BodyTooLarge { .. } => 413,
            ErrorKind::TransferEncodingNotSupported | ErrorKind::MultipleChunkedEncodings => 501,
            ErrorKind::VersionNotSupported(_) => 505,
            ErrorKind::InternalServerError => 500,
            _ => 400,
        }
    }

    /// Reason phrase of the status line.
    pub fn reason(&self) -> &'static str {
        reason_phrase(self.status())
    }

    /// The exact detail text of X-02.
    pub fn detail(&self) -> String {
        match &self.kind {
            ErrorKind::BareCrLfInRequestLine => "Bare CR or LF found in HTTP message".to_owned(),
            ErrorKind::BareCrLfInHeaderLine(line) => {
                format!("Bare CR or LF found in header line \"{line}\"")
            }
            ErrorKind::MalformedHeaderLine(line) => format!("Malformed header line \"{line}\""),
            ErrorKind::InvalidHeader => "Invalid header".to_owned(),
            ErrorKind::DuplicateHeader(name) => format!("Duplicate header: {name}"),
            ErrorKind::StartLineInvalid => "Start line is invalid".to_owned(),
            ErrorKind::MalformedMethod(method) => format!("Malformed HTTP method \"{method}\""),
            ErrorKind::VersionNotSupported(v) => {
                format!("HTTP version \"HTTP/{v}\" is not supported")
            }
            ErrorKind::MissingHost => "Missing Host header".to_owned(),
            ErrorKind::InvalidHost => "Invalid Host header".to_owned(),
            ErrorKind::BadUri => "Bad URI".to_owned(),
            ErrorKind::ContentLengthInvalid => "Content-Length is invalid".to_owned(),
            ErrorKind::TransferEncodingInHttp10 => {
                "Transfer-Encoding is not allowed in HTTP/1.0".to_owned()
            }
            ErrorKind::TransferEncodingNotSupported => {
                "Transfer-Encoding requested is not supported.".to_owned()
            }
            ErrorKind::MultipleChunkedEncodings => {
                "Transfer-Encoding is invalid. Multiple chunked encodings requested.".to_owned()
            }
            ErrorKind::InvalidChunkExtension => "Invalid chunk extension".to_owned(),
            ErrorKind::InvalidChunkSize => "Invalid chunk size".to_owned(),
            ErrorKind::ChunkNotTerminated => "Chunk not properly terminated".to_owned(),
            ErrorKind::HeaderTooLarge { max } => format!("exceeds max_header of {max}"),
            ErrorKind::BodyTooLarge { max } => format!("exceeds max_body of {max}"),
            ErrorKind::InternalServerError => INTERNAL_SERVER_ERROR_DETAIL.to_owned(),
        }
    }

    /// The complete X-01 error response (D-15: one `Connection: close`).
    pub fn to_response(&self, ident: Option<&str>, date: &str) -> Vec<u8> {
        error_response(
            self.version,
            self.status(),
            self.reason(),
            &self.detail(),
            ident,
            date,
        )
    }
}

impl std::fmt::Display for ProtoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status(), self.reason(), self.detail())
    }
}

impl std::error::Error for ProtoError {}

/// X-04's fixed 500 detail.
pub const INTERNAL_SERVER_ERROR_DETAIL: &str =
    "The server encountered an unexpected internal server error";

/// Reason phrases of the statuses this crate produces; others get `""`.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        413 => "Request Entity Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// The X-01 response for any status: status line, `Connection: close`,
/// `Content-Length`, `Content-Type`, `Date`, `Server` (when `ident` is set and
/// non-empty), then the body `<reason>\r\n\r\n<detail>\r\n\r\n(generated by <ident or "server">)`.
pub fn error_response(
    version: Version,
    status: u16,
    reason: &str,
    detail: &str,
    ident: Option<&str>,
    date: &str,
) -> Vec<u8> {
    let ident = ident.filter(|i| !i.is_empty());
    let body = format!(
        "{reason}\r\n\r\n{detail}\r\n\r\n(generated by {})",
        ident.unwrap_or("server")
    );
    let mut out = Vec::with_capacity(body.len() + 192);
    // Headers in waitress's sorted order: Connection, Content-Length,
    // Content-Type, Date, Server.
    out.extend_from_slice(version.as_str().as_bytes());
    out.extend_from_slice(format!(" {status} {reason}\r\n").as_bytes());
    out.extend_from_slice(b"Connection: close\r\n");
    out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    out.extend_from_slice(format!("Date: {date}\r\n").as_bytes());
    if let Some(ident) = ident {
        out.extend_from_slice(format!("Server: {ident}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

    #[test]
    fn x01_exact_bytes() {
        let e = ProtoError::new(ErrorKind::MalformedMethod("get".into()), Version::Http10);
        let body =
            "Bad Request\r\n\r\nMalformed HTTP method \"get\"\r\n\r\n(generated by waitress)";
        assert_eq!(body.len(), 69);
        let expected = format!(
            "HTTP/1.0 400 Bad Request\r\nConnection: close\r\nContent-Length: 69\r\n\
             Content-Type: text/plain; charset=utf-8\r\nDate: {DATE}\r\nServer: waitress\r\n\r\n{body}"
        );
        assert_eq!(
            String::from_utf8(e.to_response(Some("waitress"), DATE)).unwrap(),
            expected
        );
    }

    #[test]
    fn x01_without_ident() {
        let e = ProtoError::new(ErrorKind::BodyTooLarge { max: 10 }, Version::Http11);
        for ident in [None, Some("")] {
            let text = String::from_utf8(e.to_response(ident, DATE)).unwrap();
            assert!(text.starts_with("HTTP/1.1 413 Request Entity Too Large\r\n"));
            assert!(!text.contains("Server:"));
            assert!(text.ends_with(
                "\r\n\r\nRequest Entity Too Large\r\n\r\nexceeds max_body of 10\r\n\r\n(generated by server)"
            ));
            assert_eq!(text.matches("Connection: close").count(), 1);
        }
    }

    #[test]
    fn x01_body_is_utf8_and_length_counts_bytes() {
        let e = ProtoError::new(
            ErrorKind::BareCrLfInHeaderLine("\u{e9}\n".into()),
            Version::Http10,
        );
        let resp = e.to_response(Some("w"), DATE);
        let text = String::from_utf8(resp).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        assert!(body.contains("header line \"\u{e9}\n\""));
    }

    #[test]
    fn x02_statuses_and_reasons() {
        let cases: Vec<(ErrorKind, u16, &str, &str)> = vec![
            (
                ErrorKind::BareCrLfInRequestLine,
                400,
                "Bad Request",
                "Bare CR or LF found in HTTP message",
            ),
            (
                ErrorKind::BareCrLfInHeaderLine("a\rb".into()),
                400,
                "Bad Request",
                "Bare CR or LF found in header line \"a\rb\"",
            ),
            (
                ErrorKind::MalformedHeaderLine(" x".into()),
                400,
                "Bad Request",
                "Malformed header line \" x\"",
            ),
            (
                ErrorKind::InvalidHeader,
                400,
                "Bad Request",
                "Invalid header",
            ),
            (
                ErrorKind::DuplicateHeader("host".into()),
                400,
                "Bad Request",
                "Duplicate header: host",
            ),
            (
                ErrorKind::StartLineInvalid,
                400,
                "Bad Request",
                "Start line is invalid",
            ),
            (ErrorKind::BadUri, 400, "Bad Request", "Bad URI"),
            (
                ErrorKind::ContentLengthInvalid,
                400,
                "Bad Request",
                "Content-Length is invalid",
            ),
            (
                ErrorKind::InvalidChunkExtension,
                400,
                "Bad Request",
                "Invalid chunk extension",
            ),
            (
                ErrorKind::InvalidChunkSize,
                400,
                "Bad Request",
                "Invalid chunk size",
            ),
            (
                ErrorKind::ChunkNotTerminated,
                400,
                "Bad Request",
                "Chunk not properly terminated",
            ),
            (
                ErrorKind::HeaderTooLarge { max: 5 },
                431,
                "Request Header Fields Too Large",
                "exceeds max_header of 5",
            ),
            (
                ErrorKind::BodyTooLarge { max: 7 },
                413,
                "Request Entity Too Large",
                "exceeds max_body of 7",
            ),
            (
                ErrorKind::TransferEncodingNotSupported,
                501,
                "Not Implemented",
                "Transfer-Encoding requested is not supported.",
            ),
            (
                ErrorKind::MultipleChunkedEncodings,
                501,
                "Not Implemented",
                "Transfer-Encoding is invalid. Multiple chunked encodings requested.",
            ),
            (
                ErrorKind::InternalServerError,
                500,
                "Internal Server Error",
                "The server encountered an unexpected internal server error",
            ),
            (
                ErrorKind::VersionNotSupported("2.0".into()),
                505,
                "HTTP Version Not Supported",
                "HTTP version \"HTTP/2.0\" is not supported",
            ),
            (
                ErrorKind::MissingHost,
                400,
                "Bad Request",
                "Missing Host header",
            ),
            (
                ErrorKind::InvalidHost,
                400,
                "Bad Request",
                "Invalid Host header",
            ),
            (
                ErrorKind::TransferEncodingInHttp10,
                400,
                "Bad Request",
                "Transfer-Encoding is not allowed in HTTP/1.0",
            ),
        ];
        for (kind, status, reason, detail) in cases {
            let e = ProtoError::new(kind, Version::Http11);
            assert_eq!(
                (e.status(), e.reason(), e.detail().as_str()),
                (status, reason, detail)
            );
        }
    }
}
