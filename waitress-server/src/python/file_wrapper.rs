//! `wsgi.file_wrapper` (W-02): wraps a file-like object so the server can
//! send it efficiently; iterating it reads `block_size` bytes at a time.

use pyo3::prelude::*;

use crate::transport::FileRegion;

/// Default read size, as waitress's `ReadOnlyFileBasedBuffer`.
pub const DEFAULT_BLOCK_SIZE: usize = 32768;

#[pyclass(module = "waitress_rs", name = "FileWrapper", frozen)]
pub struct FileWrapper {
    file: Py<PyAny>,
    block_size: usize,
}

impl FileWrapper {
    pub fn file<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.file.bind(py)
    }

    /// W-03: bytes from the current position to EOF when the file is
    /// seekable; None when it is not (then it is iterated, W-04).
    pub fn remaining_size(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        let file = self.file.bind(py);
        let seekable = match file.getattr_opt("seekable")? {
            Some(f) => f.call0()?.is_truthy()?,
            None => file.hasattr("seek")? && file.hasattr("tell")?,
        };
        if !seekable {
            return Ok(None);
        }
        let here: u64 = file.call_method0("tell")?.extract()?;
        let end: u64 = file.call_method1("seek", (0, 2))?.extract()?;
        file.call_method1("seek", (here, 0))?;
        Ok(Some(end.saturating_sub(here)))
    }
}

impl FileWrapper {
    /// The wrapped file as an OS file the connection task can send from:
    /// a duplicate of its descriptor at its current position, when it is a
    /// regular file (None otherwise: it is iterated instead).
    pub fn file_region(&self, py: Python<'_>, len: u64) -> PyResult<Option<FileRegion>> {
        let file = self.file.bind(py);
        let Some(fileno) = file.getattr_opt("fileno")? else {
            return Ok(None);
        };
        // io.UnsupportedOperation (BytesIO...) means "no descriptor".
        let Ok(fd) = fileno.call0().and_then(|f| f.extract::<i32>()) else {
            return Ok(None);
        };
        let offset: u64 = file.call_method0("tell")?.extract()?;
        Ok(duplicate_regular_file(fd).map(|file| FileRegion {
            file: std::sync::Arc::new(file),
            offset,
            len,
        }))
    }
}

#[cfg(unix)]
fn duplicate_regular_file(fd: i32) -> Option<std::fs::File> {
    use std::os::fd::{BorrowedFd, OwnedFd};
    if fd < 0 {
        return None;
    }
    // SAFETY: the Python file object keeps `fd` open for this call.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let owned: OwnedFd = borrowed.try_clone_to_owned().ok()?;
    let file = std::fs::File::from(owned);
    let is_regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
    is_regular.then_some(file)
}

#[cfg(not(unix))]
fn duplicate_regular_file(_fd: i32) -> Option<std::fs::File> {
    None
}

#[pymethods]
impl FileWrapper {
    #[new]
    #[pyo3(signature = (filelike, block_size = DEFAULT_BLOCK_SIZE))]
    fn new(filelike: Py<PyAny>, block_size: usize) -> Self {
        Self {
            file: filelike,
            block_size: block_size.max(1),
        }
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let data = self
            .file
            .bind(py)
            .call_method1("read", (self.block_size,))?;
        Ok(data.is_truthy()?.then_some(data))
    }

    fn seekable(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.remaining_size(py)?.is_some())
    }

    #[pyo3(signature = (offset, whence = 0))]
    fn seek<'py>(&self, py: Python<'py>, offset: i64, whence: i32) -> PyResult<Bound<'py, PyAny>> {
        self.file.bind(py).call_method1("seek", (offset, whence))
    }

    fn tell<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.file.bind(py).call_method0("tell")
    }

    /// Closes the wrapped file (W-01: the server calls this when done).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let file = self.file.bind(py);
        if file.hasattr("close")? {
            file.call_method0("close")?;
        }
        Ok(())
    }
}
