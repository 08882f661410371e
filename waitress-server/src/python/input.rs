//! `wsgi.input` (B-15) and `waitress.client_disconnected` (C-07).

use std::io::{BufRead, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use waitress_core::BodyReader;

/// The request body as a binary file object: `read`, `read(n)`, `readline`,
/// `readlines`, iteration, `seek`/`tell`. Reading past the end gives `b""`.
#[pyclass(module = "waitress_rs", name = "InputStream")]
pub struct InputStream {
    reader: Mutex<BodyReader>,
}

impl InputStream {
    pub fn new(reader: BodyReader) -> Self {
        Self {
            reader: Mutex::new(reader),
        }
    }

    fn with_reader<T>(&self, f: impl FnOnce(&mut BodyReader) -> std::io::Result<T>) -> PyResult<T> {
        let mut guard = self
            .reader
            .lock()
            .map_err(|_| PyOSError::new_err("wsgi.input is unusable after a panic"))?;
        f(&mut guard).map_err(|e| PyOSError::new_err(e.to_string()))
    }
}

/// Reads one line of at most `limit` bytes (negative: unlimited), newline kept.
fn read_line(reader: &mut BodyReader, limit: isize) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::new();
    if limit < 0 {
        reader.read_until(b'\n', &mut line)?;
        return Ok(line);
    }
    let mut remaining = limit.unsigned_abs();
    while remaining > 0 {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            break;
        }
        let window = &available[..available.len().min(remaining)];
        let (take, done) = match memchr_newline(window) {
            Some(i) => (i + 1, true),
            None => (window.len(), false),
        };
        line.extend_from_slice(&window[..take]);
        reader.consume(take);
        remaining -= take;
        if done {
            break;
        }
    }
    Ok(line)
}

fn memchr_newline(data: &[u8]) -> Option<usize> {
    data.iter().position(|&b| b == b'\n')
}

#[pymethods]
impl InputStream {
    #[pyo3(signature = (size = -1))]
    fn read<'py>(&self, py: Python<'py>, size: Option<isize>) -> PyResult<Bound<'py, PyBytes>> {
        let size = size.unwrap_or(-1);
        let mut guard = self
            .reader
            .lock()
            .map_err(|_| PyOSError::new_err("wsgi.input is unusable after a panic"))?;
        let reader = &mut *guard;
        let io = |e: std::io::Error| PyOSError::new_err(e.to_string());
        // The body's length is known, so the bytes object is made at its
        // final size and filled straight from the buffer or file: one copy.
        let position = reader.stream_position().map_err(io)?;
        let remaining = reader.len().saturating_sub(position);
        let want = if size < 0 {
            remaining
        } else {
            remaining.min(size.unsigned_abs() as u64)
        };
        let want = usize::try_from(want).map_err(|_| PyOSError::new_err("body too large"))?;
        PyBytes::new_with(py, want, |buf| reader.read_exact(buf).map_err(io))
    }

    #[pyo3(signature = (size = -1))]
    fn readline<'py>(&self, py: Python<'py>, size: Option<isize>) -> PyResult<Bound<'py, PyBytes>> {
        let line = self.with_reader(|r| read_line(r, size.unwrap_or(-1)))?;
        Ok(PyBytes::new(py, &line))
    }

    #[pyo3(signature = (hint = -1))]
    fn readlines<'py>(&self, py: Python<'py>, hint: Option<isize>) -> PyResult<Bound<'py, PyList>> {
        let hint = hint.unwrap_or(-1);
        let lines = self.with_reader(|r| {
            let mut lines = Vec::new();
            let mut total = 0usize;
            loop {
                let line = read_line(r, -1)?;
                if line.is_empty() {
                    break;
                }
                total += line.len();
                lines.push(line);
                if hint > 0 && total >= hint.unsigned_abs() {
                    break;
                }
            }
            Ok(lines)
        })?;
        PyList::new(py, lines.iter().map(|l| PyBytes::new(py, l)))
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let line = self.with_reader(|r| read_line(r, -1))?;
        Ok((!line.is_empty()).then(|| PyBytes::new(py, &line)))
    }

    #[pyo3(signature = (offset, whence = 0))]
    fn seek(&self, offset: i64, whence: i32) -> PyResult<u64> {
        let pos = match whence {
            0 => SeekFrom::Start(
                u64::try_from(offset)
                    .map_err(|_| PyValueError::new_err(format!("negative seek value {offset}")))?,
            ),
            1 => SeekFrom::Current(offset),
            2 => SeekFrom::End(offset),
            _ => {
                return Err(PyValueError::new_err(format!(
                    "invalid whence ({whence}, should be 0, 1 or 2)"
                )));
            }
        };
        self.with_reader(|r| r.seek(pos))
    }

    fn tell(&self) -> PyResult<u64> {
        self.with_reader(|r| r.stream_position())
    }

    fn readable(&self) -> bool {
        true
    }

    fn seekable(&self) -> bool {
        true
    }

    fn writable(&self) -> bool {
        false
    }

    /// The body is owned by the request; closing it early is harmless.
    fn close(&self) {}
}

/// `environ["waitress.client_disconnected"]`: True once the connection task
/// has seen the client go away.
#[pyclass(module = "waitress_rs", name = "ClientDisconnected", frozen)]
pub struct ClientDisconnected {
    flag: Arc<AtomicBool>,
}

impl ClientDisconnected {
    pub fn new(flag: Arc<AtomicBool>) -> Self {
        Self { flag }
    }
}

#[pymethods]
impl ClientDisconnected {
    fn __call__(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }
}
