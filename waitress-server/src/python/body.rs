//! Turning the application's body chunks into `Bytes` for the socket.

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;

/// Chunks up to this size are copied; larger ones are shared with Python
/// without a copy (the bytes object stays alive until written). A copy of a
/// small chunk is cheaper than keeping a Python object alive across threads.
const ZERO_COPY_MIN: usize = 16 * 1024;

pub fn to_bytes(chunk: &Bound<'_, PyBytes>) -> Bytes {
    let data = chunk.as_bytes();
    if data.len() < ZERO_COPY_MIN {
        Bytes::copy_from_slice(data)
    } else {
        Bytes::from_owner(PyBackedBytes::from(chunk.clone()))
    }
}
