//! The application's body chunks as the exchange takes them.

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;

use super::exchange::COPY_BELOW;

/// One body chunk from the app.
#[derive(Debug)]
pub enum BodyChunk<'a> {
    /// A small chunk, copied straight from the Python bytes object into the
    /// output blocks: no allocation of its own.
    Borrowed(&'a [u8]),
    /// A large chunk (or one already owned), handed over without a copy.
    Shared(Bytes),
}

impl BodyChunk<'_> {
    /// Below the exchange's copy threshold a chunk is borrowed (and
    /// copied); larger ones are shared with Python without a copy (the bytes
    /// object stays alive until written). A copy of a small chunk is cheaper
    /// than keeping a Python object alive across threads.
    pub fn of<'a>(chunk: &'a Bound<'_, PyBytes>) -> BodyChunk<'a> {
        let data = chunk.as_bytes();
        if data.len() < COPY_BELOW {
            BodyChunk::Borrowed(data)
        } else {
            BodyChunk::Shared(Bytes::from_owner(PyBackedBytes::from(chunk.clone())))
        }
    }

    pub fn len(&self) -> usize {
        match self {
            BodyChunk::Borrowed(data) => data.len(),
            BodyChunk::Shared(data) => data.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
