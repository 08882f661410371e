//! Response body framing (R-03..R-07 with D-11, D-12).

use bytes::Bytes;

/// The chunked-body terminator (R-04: no trailers).
const LAST_CHUNK: &[u8] = b"0\r\n\r\n";
const CRLF: &[u8] = b"\r\n";

/// Something the operator should hear about (section 14's exact texts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodeWarning {
    /// the app wrote more than its Content-Length; logged once.
    ContentLengthExceeded { declared: u64 },
    /// the app wrote fewer bytes than its Content-Length (non-HEAD); the
    /// connection must close.
    TooFewBytes { written: u64, declared: u64 },
    /// body bytes for a 1xx/204/304 response were dropped; logged once.
    BodyIgnored { status: String },
}

impl EncodeWarning {
    /// The exact WARNING log message of section 14.
    pub fn message(&self) -> String {
        match self {
            EncodeWarning::ContentLengthExceeded { declared } => format!(
                "application-written content exceeded the number of bytes specified by Content-Length header ({declared})"
            ),
            EncodeWarning::TooFewBytes { written, declared } => format!(
                "application returned too few bytes ({written}) for specified Content-Length ({declared}) via app_iter"
            ),
            EncodeWarning::BodyIgnored { status } => format!(
                "application-written content was ignored due to HTTP response that may not contain a message-body: ({status})"
            ),
        }
    }
}

/// The size line of one chunk (`<hex>\r\n`, R-04), kept inline: a body
/// of many small chunks needs no allocation per chunk for its framing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ChunkSize {
    line: [u8; ChunkSize::MAX_LEN],
    len: u8,
}

impl ChunkSize {
    /// 16 hex digits (a 64-bit size) and CRLF.
    const MAX_LEN: usize = 18;

    fn new(size: usize) -> Self {
        let mut line = [0u8; Self::MAX_LEN];
        let digits = (usize::BITS - size.leading_zeros()).div_ceil(4).max(1) as usize;
        for (i, slot) in line[..digits].iter_mut().enumerate() {
            let nibble = (size >> (4 * (digits - 1 - i))) & 0xF;
            *slot = b"0123456789ABCDEF"[nibble];
        }
        line[digits..digits + 2].copy_from_slice(CRLF);
        ChunkSize {
            line,
            len: (digits + 2) as u8,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.line[..usize::from(self.len)]
    }
}

impl std::ops::Deref for ChunkSize {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::fmt::Debug for ChunkSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ChunkSize({:?})",
            self.as_bytes().escape_ascii().to_string()
        )
    }
}

/// How to put `len` bytes of the app's body on the wire: `prefix`, the
/// first `take` of those bytes, `suffix`. For callers that copy the bytes
/// themselves; `Encoder::encode` does the same with a `Bytes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Framing {
    pub prefix: Option<ChunkSize>,
    /// How many of the bytes go out (fewer past a Content-Length, R-06).
    pub take: usize,
    pub suffix: &'static [u8],
    pub warning: Option<EncodeWarning>,
}

impl Framing {
    /// No chunk framing: `take` bytes as they are (0: nothing at all).
    fn bare(take: usize, warning: Option<EncodeWarning>) -> Self {
        Framing {
            prefix: None,
            take,
            suffix: b"",
            warning,
        }
    }
}

/// One framed piece of the body: write `prefix`, `data`, `suffix` in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedChunk {
    pub prefix: Option<ChunkSize>,
    /// A slice of the app's bytes (zero-copy), possibly truncated.
    pub data: Bytes,
    pub suffix: &'static [u8],
    pub warning: Option<EncodeWarning>,
}

impl EncodedChunk {
    /// Bytes this chunk puts on the wire.
    pub fn wire_len(&self) -> usize {
        self.prefix.as_ref().map_or(0, |p| p.len()) + self.data.len() + self.suffix.len()
    }

    pub fn is_empty(&self) -> bool {
        self.wire_len() == 0
    }
}

/// End of the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finish {
    /// `0\r\n\r\n` for chunked, else empty.
    pub terminator: &'static [u8],
    /// R-06 shortfall: log it and close the connection.
    pub shortfall: Option<EncodeWarning>,
}

/// How the response body goes on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encoder {
    /// Content-Length framing: excess is truncated.
    Length {
        declared: u64,
        remaining: u64,
        warned: bool,
    },
    /// HTTP/1.1 without a length (R-04, D-12).
    Chunked,
    /// HTTP/1.0 without a length: the body ends when the connection closes.
    CloseDelimited,
    /// No body bytes at all: HEAD (D-11, silently) or 1xx/204/304 (R-03, one
    /// warning naming `ignored_status`).
    Empty {
        ignored_status: Option<String>,
        warned: bool,
    },
}

impl Encoder {
    /// Frames one chunk from the app; empty input produces nothing.
    pub fn encode(&mut self, data: Bytes) -> EncodedChunk {
        let framing = self.frame(data.len());
        EncodedChunk {
            prefix: framing.prefix,
            data: data.slice(..framing.take),
            suffix: framing.suffix,
            warning: framing.warning,
        }
    }

    /// Frames a chunk of `len` bytes from the app without taking the bytes
    /// (the caller copies the first `take`); `len == 0` produces nothing.
    pub fn frame(&mut self, len: usize) -> Framing {
        if len == 0 {
            return Framing::bare(0, None);
        }
        match self {
            Encoder::Length {
                declared,
                remaining,
                warned,
            } => {
                let take = usize::try_from(*remaining).map_or(len, |r| r.min(len));
                *remaining -= take as u64;
                let warning = if take < len && !*warned {
                    *warned = true;
                    Some(EncodeWarning::ContentLengthExceeded {
                        declared: *declared,
                    })
                } else {
                    None
                };
                Framing::bare(take, warning)
            }
            Encoder::Chunked => Framing {
                prefix: Some(ChunkSize::new(len)),
                take: len,
                suffix: CRLF,
                warning: None,
            },
            Encoder::CloseDelimited => Framing::bare(len, None),
            Encoder::Empty {
                ignored_status,
                warned,
            } => {
                let warning = match ignored_status {
                    Some(status) if !*warned => {
                        *warned = true;
                        Some(EncodeWarning::BodyIgnored {
                            status: status.clone(),
                        })
                    }
                    _ => None,
                };
                Framing::bare(0, warning)
            }
        }
    }

    /// End of the body: the terminator to write and, for a Length encoder that
    /// got too few bytes, the R-06 shortfall (the connection must close).
    pub fn finish(&mut self) -> Finish {
        match self {
            Encoder::Chunked => Finish {
                terminator: LAST_CHUNK,
                shortfall: None,
            },
            Encoder::Length {
                declared,
                remaining,
                ..
            } if *remaining > 0 => Finish {
                terminator: b"",
                shortfall: Some(EncodeWarning::TooFewBytes {
                    written: declared.saturating_sub(*remaining),
                    declared: *declared,
                }),
            },
            _ => Finish {
                terminator: b"",
                shortfall: None,
            },
        }
    }

    /// Accounts for `len` body bytes the caller sends by other means (a file
    /// region sent zero-copy, W-03). Returns how many of them may go out:
    /// a Length body takes at most what is still declared, a body
    /// that must not be sent takes none; None when the framing needs the
    /// bytes themselves (chunked, close-delimited: use `encode`).
    pub fn send_raw(&mut self, len: u64) -> Option<u64> {
        match self {
            Encoder::Length { remaining, .. } => {
                let take = len.min(*remaining);
                *remaining -= take;
                Some(take)
            }
            Encoder::Empty { .. } => Some(0),
            Encoder::Chunked | Encoder::CloseDelimited => None,
        }
    }

    /// True when the connection must close to end the body.
    pub fn is_close_delimited(&self) -> bool {
        matches!(self, Encoder::CloseDelimited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w03_send_raw_counts_against_content_length() {
        let mut e = Encoder::Length {
            declared: 10,
            remaining: 10,
            warned: false,
        };
        assert_eq!(e.send_raw(4), Some(4));
        assert_eq!(
            e.send_raw(20),
            Some(6),
            "R-06: never past the declared length"
        );
        assert_eq!(e.finish().shortfall, None);
        let mut short = Encoder::Length {
            declared: 10,
            remaining: 10,
            warned: false,
        };
        assert_eq!(short.send_raw(3), Some(3));
        assert!(short.finish().shortfall.is_some());
        assert_eq!(Encoder::Chunked.send_raw(5), None);
        assert_eq!(Encoder::CloseDelimited.send_raw(5), None);
        let mut empty = Encoder::Empty {
            ignored_status: None,
            warned: false,
        };
        assert_eq!(empty.send_raw(5), Some(0), "D-11: HEAD sends nothing");
    }

    #[test]
    fn r04_chunk_size_line_is_uppercase_hex_and_crlf() {
        for size in [0, 1, 9, 10, 15, 16, 255, 256, 1024, 0xABCDEF, usize::MAX] {
            assert_eq!(
                ChunkSize::new(size).as_bytes(),
                format!("{size:X}\r\n").as_bytes(),
                "size {size}"
            );
        }
    }

    #[test]
    fn frame_matches_encode_for_every_encoder() {
        let encoders = || {
            [
                Encoder::Length {
                    declared: 7,
                    remaining: 7,
                    warned: false,
                },
                Encoder::Chunked,
                Encoder::CloseDelimited,
                Encoder::Empty {
                    ignored_status: Some("204 No Content".into()),
                    warned: false,
                },
            ]
        };
        for (mut by_bytes, mut by_len) in encoders().into_iter().zip(encoders()) {
            for piece in [&b"abcde"[..], b"", b"fghij", b"k"] {
                let encoded = by_bytes.encode(Bytes::copy_from_slice(piece));
                let framing = by_len.frame(piece.len());
                assert_eq!(encoded.prefix, framing.prefix);
                assert_eq!(&encoded.data[..], &piece[..framing.take]);
                assert_eq!(encoded.suffix, framing.suffix);
                assert_eq!(encoded.warning, framing.warning);
            }
            assert_eq!(by_bytes.finish(), by_len.finish());
        }
    }

    fn wire(c: &EncodedChunk) -> Vec<u8> {
        let mut v = c.prefix.map(|p| p.to_vec()).unwrap_or_default();
        v.extend_from_slice(&c.data);
        v.extend_from_slice(c.suffix);
        v
    }

    #[test]
    fn r04_chunked_framing() {
        let mut e = Encoder::Chunked;
        assert_eq!(
            wire(&e.encode(Bytes::from_static(b"hello"))),
            b"5\r\nhello\r\n"
        );
        assert_eq!(
            wire(&e.encode(Bytes::from(vec![b'x'; 255]))).get(..4),
            Some(&b"FF\r\n"[..])
        );
        assert!(e.encode(Bytes::new()).is_empty());
        assert_eq!(
            e.finish(),
            Finish {
                terminator: b"0\r\n\r\n",
                shortfall: None
            }
        );
    }

    #[test]
    fn r06_truncates_excess_and_warns_once() {
        let mut e = Encoder::Length {
            declared: 4,
            remaining: 4,
            warned: false,
        };
        let a = e.encode(Bytes::from_static(b"abc"));
        assert_eq!((wire(&a), a.warning), (b"abc".to_vec(), None));
        let b = e.encode(Bytes::from_static(b"def"));
        assert_eq!(wire(&b), b"d");
        assert_eq!(
            b.warning,
            Some(EncodeWarning::ContentLengthExceeded { declared: 4 })
        );
        assert_eq!(
            b.warning.unwrap().message(),
            "application-written content exceeded the number of bytes specified by Content-Length header (4)"
        );
        let c = e.encode(Bytes::from_static(b"g"));
        assert_eq!((wire(&c), c.warning), (Vec::new(), None));
        assert_eq!(e.finish().shortfall, None);
    }

    #[test]
    fn r06_shortfall() {
        let mut e = Encoder::Length {
            declared: 10,
            remaining: 10,
            warned: false,
        };
        e.encode(Bytes::from_static(b"abc"));
        let f = e.finish();
        assert_eq!(f.terminator, b"");
        let w = f.shortfall.unwrap();
        assert_eq!(
            w,
            EncodeWarning::TooFewBytes {
                written: 3,
                declared: 10
            }
        );
        assert_eq!(
            w.message(),
            "application returned too few bytes (3) for specified Content-Length (10) via app_iter"
        );
    }

    #[test]
    fn r03_empty_drops_body_and_warns_once() {
        let mut e = Encoder::Empty {
            ignored_status: Some("204 No Content".into()),
            warned: false,
        };
        let a = e.encode(Bytes::from_static(b"x"));
        assert!(a.is_empty());
        assert_eq!(
            a.warning.unwrap().message(),
            "application-written content was ignored due to HTTP response that may not contain a message-body: (204 No Content)"
        );
        assert_eq!(e.encode(Bytes::from_static(b"y")).warning, None);
        let mut head = Encoder::Empty {
            ignored_status: None,
            warned: false,
        };
        assert_eq!(
            head.encode(Bytes::from_static(b"x")),
            EncodedChunk {
                prefix: None,
                data: Bytes::new(),
                suffix: b"",
                warning: None
            }
        );
        assert_eq!(
            head.finish(),
            Finish {
                terminator: b"",
                shortfall: None
            }
        );
    }

    #[test]
    fn r05_close_delimited_passes_through() {
        let mut e = Encoder::CloseDelimited;
        let data = Bytes::from_static(b"raw");
        let c = e.encode(data.clone());
        assert_eq!(c.data.as_ptr(), data.as_ptr());
        assert!(e.is_close_delimited());
    }
}
