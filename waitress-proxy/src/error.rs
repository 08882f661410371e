//! The typed error of P-10 / D-22: a malformed trusted proxy header.

use std::fmt;

/// A trusted proxy header that could not be interpreted (P-10).
///
/// The request must be answered with the standard 400 of X-01 whose detail is
/// [`ProxyError::detail`] (D-22), and [`ProxyError::log_message`] logged at
/// WARNING on logger `waitress`. The application is not called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyError {
    /// Header name as waitress reports it: `X-Forwarded-For`, `X-Forwarded-Host`,
    /// `X-Forwarded-Proto`, `X-Forwarded-Port`, `Forwarded` or `Forwarded Proto=`.
    pub header: String,
    /// Why the value was rejected (waitress's wording).
    pub reason: String,
    /// The offending value (the whole header, or the proto for a bad proto).
    pub value: String,
    /// The peer as seen by the server (`REMOTE_ADDR` before any rewrite).
    pub peer: String,
}

impl ProxyError {
    pub(crate) fn new(header: &str, reason: &str, value: &str, peer: &str) -> Self {
        Self {
            header: header.to_owned(),
            reason: reason.to_owned(),
            value: value.to_owned(),
            peer: peer.to_owned(),
        }
    }

    /// P-10 WARNING line: `Malformed proxy header "<H>" from "<peer>": <reason> value: <value>`.
    pub fn log_message(&self) -> String {
        format!(
            "Malformed proxy header \"{}\" from \"{}\": {} value: {}",
            self.header, self.peer, self.reason, self.value
        )
    }

    /// D-22 detail of the 400 response: `Header "<H>" malformed.`
    pub fn detail(&self) -> String {
        format!("Header \"{}\" malformed.", self.header)
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.log_message())
    }
}

impl std::error::Error for ProxyError {}

/// Failure of one parsing step, before it is tied to a header and a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParseFailure {
    /// `undquote`: a quote on one side only, or an invalid quoted-string.
    InvalidQuoting,
    /// X-Forwarded-Proto / -Port carrying a comma.
    MultipleValues,
    /// A Forwarded pair without `=`.
    MissingEquals,
    /// Whitespace around a Forwarded token.
    TokenWhitespace,
    /// Whitespace around a Forwarded value.
    ValueWhitespace,
    /// A proto other than http/https.
    UnsupportedProto,
    /// A client address that is empty once stripped (waitress fails with an
    /// internal error there; we answer 400 instead).
    EmptyClientAddress,
}

impl ParseFailure {
    /// The reason text of the P-10 log line (waitress's exception messages).
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::InvalidQuoting => "Invalid quoting in value",
            Self::MultipleValues => "Unspecified behavior for multiple values found in header",
            Self::MissingEquals => "Invalid forwarded-pair missing \"=\"",
            Self::TokenWhitespace => "Token may not be surrounded by whitespace",
            Self::ValueWhitespace => "Value may not be surrounded by whitespace",
            Self::UnsupportedProto => "unsupported proto value",
            Self::EmptyClientAddress => "empty client address",
        }
    }
}
