//! Request size limits and the fixed bounds of the framing grammar.

/// waitress's default `max_request_header_size` (256 KiB).
pub const DEFAULT_MAX_REQUEST_HEADER_SIZE: usize = 262_144;
/// waitress's default `max_request_body_size` (1 GiB).
pub const DEFAULT_MAX_REQUEST_BODY_SIZE: u64 = 1_073_741_824;

/// D-06: a chunk size has at most this many hex digits, so it always fits a u64.
pub const MAX_CHUNK_SIZE_DIGITS: usize = 16;

/// The per-connection limits the parser enforces (H-02, B-03, B-14, D-06).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A head of this many bytes or more is rejected with 431 (H-02, note `>=`);
    /// also bounds a chunked body's trailer section (D-06).
    pub max_request_header_size: usize,
    /// A body of this many bytes or more is rejected with 413 (B-03, B-14).
    pub max_request_body_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_header_size: DEFAULT_MAX_REQUEST_HEADER_SIZE,
            max_request_body_size: DEFAULT_MAX_REQUEST_BODY_SIZE,
        }
    }
}
