//! Chunked request bodies (B-08..B-14 with D-06), one byte state at a time.
//!
//! Nothing is buffered: size lines, extensions and trailers are validated as
//! their bytes go by, data is handed out as zero-copy slices of the input.
//! Every byte consumed, framing included, counts against
//! `max_request_body_size` (B-14).

use bytes::{Buf, Bytes, BytesMut};

use crate::chars::{is_field_value, is_qdtext, is_quoted_pair_arg, is_tchar};
use crate::error::ErrorKind;
use crate::limits::{Limits, MAX_CHUNK_SIZE_DIGITS};
use crate::target::hex_value;

/// What one decode step produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// Body bytes (a slice of the input buffer).
    Data(Bytes),
    /// The body is complete; bytes after it stay in the buffer.
    End,
}

/// Position inside a chunk-ext (B-09): `*( ";" token [ "=" ( token / quoted-string ) ] )`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ext {
    /// After `;`: the name, `named` once it has a byte.
    Name {
        named: bool,
    },
    /// After `=`.
    ValueStart,
    Token,
    Quoted,
    QuotedPair,
    QuotedEnd,
}

impl Ext {
    fn step(self, b: u8) -> Option<Ext> {
        use Ext::*;
        match (self, b) {
            (Name { .. }, _) if is_tchar(b) => Some(Name { named: true }),
            (Name { named: true }, b'=') => Some(ValueStart),
            (Name { named: true } | Token | QuotedEnd, b';') => Some(Name { named: false }),
            (ValueStart | Token, _) if is_tchar(b) => Some(Token),
            (ValueStart, b'"') => Some(Quoted),
            (Quoted, b'"') => Some(QuotedEnd),
            (Quoted, b'\\') => Some(QuotedPair),
            (Quoted, _) if is_qdtext(b) => Some(Quoted),
            (QuotedPair, _) if is_quoted_pair_arg(b) => Some(Quoted),
            _ => None,
        }
    }

    fn accepts(self) -> bool {
        matches!(
            self,
            Ext::Name { named: true } | Ext::Token | Ext::QuotedEnd
        )
    }
}

/// One chunk-size line in progress (B-08..B-10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SizeLine {
    len: u64,
    digits: usize,
    size: u64,
    /// A byte of the size part was not a hex digit (or too many digits); only
    /// reported at the end of the line, because an invalid extension on the
    /// same line is reported first (waitress checks the extension first).
    bad_size: bool,
    ext: Option<Ext>,
    /// The previous byte was a CR that may end the line.
    cr: bool,
}

impl SizeLine {
    const NEW: SizeLine = SizeLine {
        len: 0,
        digits: 0,
        size: 0,
        bad_size: false,
        ext: None,
        cr: false,
    };

    /// Adds one byte that belongs to the line (not its CRLF).
    fn push(&mut self, b: u8) -> Result<(), ErrorKind> {
        self.len += 1;
        match self.ext {
            Some(ext) => {
                self.ext = Some(ext.step(b).ok_or(ErrorKind::InvalidChunkExtension)?);
            }
            None if b == b';' => self.ext = Some(Ext::Name { named: false }),
            None => match hex_value(b) {
                Some(v) if self.digits < MAX_CHUNK_SIZE_DIGITS => {
                    self.digits += 1;
                    self.size = self
                        .size
                        .checked_mul(16)
                        .and_then(|s| s.checked_add(u64::from(v)))
                        .unwrap_or(u64::MAX);
                }
                _ => self.bad_size = true,
            },
        }
        Ok(())
    }

    /// The line's CRLF arrived: `None` for an empty line (skipped, B-08),
    /// else the chunk size.
    fn finish(&self) -> Result<Option<u64>, ErrorKind> {
        if self.len == 0 {
            return Ok(None);
        }
        if self.ext.is_some_and(|e| !e.accepts()) {
            return Err(ErrorKind::InvalidChunkExtension);
        }
        if self.bad_size || self.digits == 0 {
            return Err(ErrorKind::InvalidChunkSize);
        }
        Ok(Some(self.size))
    }
}

/// Where the trailer section (B-12, D-06) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trailer {
    LineStart,
    Name,
    Value,
    LineLf,
    EndLf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Line(SizeLine),
    Data { remaining: u64 },
    DataCr,
    DataLf,
    Trailer(Trailer),
    Done,
}

/// Decoder of one chunked body.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    /// Bytes consumed so far, framing included (B-14).
    consumed: u64,
    decoded: u64,
    trailer_len: usize,
    limits: Limits,
}

impl ChunkedDecoder {
    pub fn new(limits: Limits) -> Self {
        ChunkedDecoder {
            state: State::Line(SizeLine::NEW),
            consumed: 0,
            decoded: 0,
            trailer_len: 0,
            limits,
        }
    }

    /// Decoded body bytes so far (B-13's `CONTENT_LENGTH` once complete).
    pub fn decoded_len(&self) -> u64 {
        self.decoded
    }

    /// Consumes framing from the front of `buf` and returns the next data
    /// slice, the end of the body, or `None` when `buf` ran out.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, ErrorKind> {
        let mut used = 0usize;
        let result = self.scan(buf, &mut used);
        buf.advance(used);
        match result? {
            Some(take) => {
                let data = buf.split_to(take).freeze();
                Ok(Some(Decoded::Data(data)))
            }
            None if self.state == State::Done => Ok(Some(Decoded::End)),
            None => Ok(None),
        }
    }

    /// Walks framing bytes of `buf` from `*used`; stops at data (returning how
    /// many data bytes to hand out, already accounted), at the end, or when
    /// `buf` is exhausted.
    fn scan(&mut self, buf: &[u8], used: &mut usize) -> Result<Option<usize>, ErrorKind> {
        loop {
            if self.state == State::Done {
                return Ok(None);
            }
            if let State::Data { remaining } = self.state {
                let available = buf.len() - *used;
                if available == 0 {
                    return Ok(None);
                }
                let take = usize::try_from(remaining).map_or(available, |r| r.min(available));
                let left = remaining - take as u64;
                self.state = if left == 0 {
                    State::DataCr
                } else {
                    State::Data { remaining: left }
                };
                self.consumed += take as u64;
                self.decoded += take as u64;
                self.check_body_limit()?;
                return Ok(Some(take));
            }
            let Some(&b) = buf.get(*used) else {
                return Ok(None);
            };
            *used += 1;
            self.consumed += 1;
            let step = self.step(b);
            // B-14: the size limit is looked at before the decoder's own error.
            self.check_body_limit()?;
            step?;
        }
    }

    fn check_body_limit(&self) -> Result<(), ErrorKind> {
        let max = self.limits.max_request_body_size;
        if self.consumed >= max {
            return Err(ErrorKind::BodyTooLarge { max });
        }
        Ok(())
    }

    /// One framing byte.
    fn step(&mut self, b: u8) -> Result<(), ErrorKind> {
        self.state = match self.state {
            State::Line(mut line) => {
                if line.cr {
                    line.cr = false;
                    if b == b'\n' {
                        return self.end_size_line(&line);
                    }
                    // The CR was part of the line after all.
                    line.push(b'\r')?;
                }
                if b == b'\r' {
                    line.cr = true;
                } else {
                    line.push(b)?;
                }
                State::Line(line)
            }
            State::DataCr if b == b'\r' => State::DataLf,
            State::DataLf if b == b'\n' => State::Line(SizeLine::NEW),
            State::DataCr | State::DataLf => return Err(ErrorKind::ChunkNotTerminated),
            State::Trailer(t) => {
                self.trailer_len += 1;
                if self.trailer_len >= self.limits.max_request_header_size {
                    return Err(ErrorKind::HeaderTooLarge {
                        max: self.limits.max_request_header_size,
                    });
                }
                State::Trailer(match (t, b) {
                    (Trailer::LineStart, b'\r') => Trailer::EndLf,
                    (Trailer::LineStart, _) if is_tchar(b) => Trailer::Name,
                    (Trailer::Name, _) if is_tchar(b) => Trailer::Name,
                    (Trailer::Name, b':') => Trailer::Value,
                    (Trailer::Value, b'\r') => Trailer::LineLf,
                    (Trailer::Value, _) if is_field_value(b) => Trailer::Value,
                    (Trailer::LineLf, b'\n') => Trailer::LineStart,
                    (Trailer::EndLf, b'\n') => {
                        self.state = State::Done;
                        return Ok(());
                    }
                    // Bare CR/LF, obs-fold, bad name or value bytes (F-03, D-01).
                    _ => return Err(ErrorKind::InvalidHeader),
                })
            }
            State::Data { .. } | State::Done => self.state,
        };
        Ok(())
    }

    fn end_size_line(&mut self, line: &SizeLine) -> Result<(), ErrorKind> {
        self.state = match line.finish()? {
            None => State::Line(SizeLine::NEW),
            Some(0) => State::Trailer(Trailer::LineStart),
            Some(size) => {
                // The data alone would reach the limit: answer 413 now rather
                // than after reading it (B-14 would reject it then anyway).
                if self.consumed.saturating_add(size) >= self.limits.max_request_body_size {
                    return Err(ErrorKind::BodyTooLarge {
                        max: self.limits.max_request_body_size,
                    });
                }
                State::Data { remaining: size }
            }
        };
        Ok(())
    }
}
