//! The request side of a connection: bytes in, [`Event`]s out.
//!
//! # Theory of operation
//!
//! A connection carries a sequence of requests (C-04 pipelining). For each
//! one the parser yields `Head`, then `Data*` (decoded body bytes), then `End`,
//! and is then ready for the next request; bytes after a request stay in the
//! caller's buffer. All state transitions are in [`RequestParser::poll`]:
//!
//! ```text
//!            head complete, no body
//!   Head ──────────────────────────────> EndPending ──End──> Head
//!    │  head complete, body                                   ▲
//!    └──────────────────────> Body ──Data*──End───────────────┘
//!   any error (every state) ──> Failed (terminal: C-05, CVE-2024-49768)
//! ```
//!
//! In `Head` nothing is consumed until the whole head (through its first
//! CRLFCRLF, H-01) is in the buffer; `searched` remembers how far the buffer
//! was already searched so a slowly arriving head is scanned once. The size
//! limit (H-02) is checked on every poll, complete or not. A head of only
//! whitespace is consumed silently (H-03).

use bytes::{Buf, Bytes, BytesMut};

use crate::chars::{lstrip_py_space, rstrip_line_space};
use crate::decoder::{ChunkedDecoder, Decoded, Decoder};
use crate::error::{ErrorKind, ProtoError};
use crate::head::parse_head;
use crate::limits::Limits;
use crate::request::{BodyKind, RequestHead};
use crate::request_line::parse_request_line;
use crate::version::Version;

/// The end of a head (H-01).
const HEAD_TERMINATOR: &[u8] = b"\r\n\r\n";

/// One step of a request.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Head(Box<RequestHead>),
    /// Decoded body bytes, a zero-copy slice of the input where possible.
    Data(Bytes),
    End,
}

#[derive(Clone, Debug)]
enum State {
    Head { searched: usize },
    Body { decoder: Decoder, version: Version },
    EndPending,
    Failed(ProtoError),
}

/// Sans-IO HTTP/1.1 request parser for one connection.
#[derive(Clone, Debug)]
pub struct RequestParser {
    limits: Limits,
    state: State,
}

impl RequestParser {
    pub fn new(limits: Limits) -> Self {
        RequestParser {
            limits,
            state: State::Head { searched: 0 },
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Consumes what it uses from the front of `buf`. `Ok(None)`: more bytes
    /// are needed. After an `Err` every later call returns a clone of it and
    /// consumes nothing (C-05).
    pub fn poll(&mut self, buf: &mut BytesMut) -> Result<Option<Event>, ProtoError> {
        loop {
            match &mut self.state {
                State::Failed(e) => return Err(e.clone()),
                State::EndPending => {
                    self.state = State::Head { searched: 0 };
                    return Ok(Some(Event::End));
                }
                State::Body { decoder, version } => {
                    let version = *version;
                    return match decoder.decode(buf) {
                        Ok(Some(Decoded::Data(data))) => Ok(Some(Event::Data(data))),
                        Ok(Some(Decoded::End)) => {
                            self.state = State::Head { searched: 0 };
                            Ok(Some(Event::End))
                        }
                        Ok(None) => Ok(None),
                        Err(kind) => Err(self.fail(ProtoError::new(kind, version))),
                    };
                }
                State::Head { searched } => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    let start = (*searched)
                        .min(buf.len())
                        .saturating_sub(HEAD_TERMINATOR.len() - 1);
                    let found = buf
                        .get(start..)
                        .and_then(|tail| memchr::memmem::find(tail, HEAD_TERMINATOR));
                    let max = self.limits.max_request_header_size;
                    let Some(offset) = found else {
                        *searched = buf.len();
                        // H-02 while incomplete: every byte so far is head.
                        if buf.len() >= max {
                            return Err(self.fail_header_too_large(buf));
                        }
                        return Ok(None);
                    };
                    let end = start + offset + HEAD_TERMINATOR.len();
                    if end >= max {
                        return Err(self.fail_header_too_large(buf));
                    }
                    let head = lstrip_py_space(buf.get(..end).unwrap_or_default());
                    if head.is_empty() {
                        // H-03: a blank "request" is ignored.
                        buf.advance(end);
                        *searched = 0;
                        continue;
                    }
                    match parse_head(head, &self.limits) {
                        Ok(head) => {
                            buf.advance(end);
                            self.state = match head.body {
                                BodyKind::Empty => State::EndPending,
                                BodyKind::Length(n) => State::Body {
                                    decoder: Decoder::Length { remaining: n },
                                    version: head.version,
                                },
                                BodyKind::Chunked => State::Body {
                                    decoder: Decoder::Chunked(ChunkedDecoder::new(self.limits)),
                                    version: head.version,
                                },
                            };
                            return Ok(Some(Event::Head(Box::new(head))));
                        }
                        Err(e) => return Err(self.fail(e)),
                    }
                }
            }
        }
    }

    /// Content-Length body bytes still expected while such a body is being
    /// read; None in any other state (including chunked bodies, whose
    /// framing must go through `poll`). A caller with no buffered bytes may
    /// read up to this many straight into its own storage and count them
    /// with `consume_body`, saving a copy through its read buffer.
    pub fn body_remaining(&self) -> Option<u64> {
        match &self.state {
            State::Body {
                decoder: Decoder::Length { remaining },
                ..
            } => Some(*remaining),
            _ => None,
        }
    }

    /// Counts `n` body bytes the caller read itself (see `body_remaining`);
    /// the next `poll` then continues the body, or yields `End` once all of
    /// it is counted. Returns false and counts nothing if `n` is more than
    /// `body_remaining()`.
    pub fn consume_body(&mut self, n: u64) -> bool {
        match &mut self.state {
            State::Body {
                decoder: Decoder::Length { remaining },
                ..
            } if n <= *remaining => {
                *remaining -= n;
                true
            }
            _ => false,
        }
    }

    /// True between requests: no byte of a next request has been consumed
    /// (bytes of a partial head may still be waiting in the caller's buffer).
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Head { .. })
    }

    fn fail(&mut self, e: ProtoError) -> ProtoError {
        self.state = State::Failed(e.clone());
        e
    }

    /// H-02 with D-15: the version of the request line if it already arrived
    /// and is valid, else HTTP/1.0.
    fn fail_header_too_large(&mut self, buf: &[u8]) -> ProtoError {
        let max = self.limits.max_request_header_size;
        let version = first_line_version(buf).unwrap_or(Version::Http10);
        self.fail(ProtoError::new(ErrorKind::HeaderTooLarge { max }, version))
    }
}

fn first_line_version(buf: &[u8]) -> Option<Version> {
    let start = lstrip_py_space(buf);
    let end = memchr::memmem::find(start, b"\r\n")?;
    let line = rstrip_line_space(start.get(..end)?);
    parse_request_line(line).ok().map(|l| l.version)
}
