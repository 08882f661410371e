//! waitress-proto: the HTTP/1.1 framing of waitress-rs, sans-IO.
//!
//! Bytes in, events and decisions out: [`RequestParser`] turns a connection's
//! bytes into request heads and decoded bodies (or a typed [`ProtoError`] that
//! already knows its exact error response), and [`prepare_response`] plus
//! [`Encoder`] turn an application's status, headers and body chunks into
//! bytes for the wire. Rule ids (H-01, B-05, ...) refer to the waitress
//! behaviour reference of the project; no input makes this crate panic.

mod chars;
mod chunked;
mod date;
mod decoder;
mod encoder;
mod error;
mod head;
mod host;
mod limits;
mod parser;
mod request;
mod request_line;
mod response;
mod target;
mod version;

pub use date::http_date;
pub use decoder::{ChunkedDecoder, Decoded, Decoder};
pub use encoder::{ChunkSize, EncodeWarning, EncodedChunk, Encoder, Finish, Framing};
pub use error::{
    ErrorKind, INTERNAL_SERVER_ERROR_DETAIL, ProtoError, error_response, reason_phrase,
};
pub use limits::{
    DEFAULT_MAX_REQUEST_BODY_SIZE, DEFAULT_MAX_REQUEST_HEADER_SIZE, Limits, MAX_CHUNK_SIZE_DIGITS,
};
pub use parser::{Event, RequestParser};
pub use request::{BodyKind, CgiName, KNOWN_CGI_NAMES, RequestHead, known_cgi_name_index};
pub use response::{
    PreparedResponse, ResponseError, ResponseErrorKind, ResponseSpec, parse_content_length,
    prepare_response, validate_header, validate_status,
};
pub use version::Version;

/// E-02: the interim response, exactly these bytes.
pub const CONTINUE_RESPONSE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
