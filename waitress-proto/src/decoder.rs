//! Request body framing: a fixed length (B-04) or chunked (B-08..B-14).

use bytes::BytesMut;

pub use crate::chunked::{ChunkedDecoder, Decoded};
use crate::error::ErrorKind;

/// Body decoder selected from the head.
#[derive(Clone, Debug)]
pub enum Decoder {
    /// B-04: exactly this many more bytes; what follows is the next request.
    Length {
        remaining: u64,
    },
    Chunked(ChunkedDecoder),
}

impl Decoder {
    /// Consumes from the front of `buf`; `None` when more bytes are needed.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, ErrorKind> {
        match self {
            Decoder::Length { remaining: 0 } => Ok(Some(Decoded::End)),
            Decoder::Length { remaining } => {
                if buf.is_empty() {
                    return Ok(None);
                }
                let take = usize::try_from(*remaining).map_or(buf.len(), |r| r.min(buf.len()));
                *remaining -= take as u64;
                Ok(Some(Decoded::Data(buf.split_to(take).freeze())))
            }
            Decoder::Chunked(chunked) => chunked.decode(buf),
        }
    }
}
