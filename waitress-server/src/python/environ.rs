//! Building the WSGI environ dict (section 10).
//!
//! A template dict with the keys that never change is built once; each
//! request copies it and sets only its own keys (cheaper than a fresh dict,
//! DESIGN.md).

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString, PyTuple};

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use waitress_core::BodyReader;

use super::file_wrapper::FileWrapper;
use super::input::{ClientDisconnected, InputStream};
use crate::request::Staged;

/// The constant part of every environ, owned for the server's life.
pub struct EnvironTemplate {
    dict: Py<PyDict>,
}

impl EnvironTemplate {
    /// `ident` None -> `SERVER_SOFTWARE = None` (R-10 / section 10).
    pub fn new(py: Python<'_>, ident: Option<&str>) -> PyResult<Self> {
        let dict = PyDict::new(py);
        dict.set_item("wsgi.version", PyTuple::new(py, [1, 0])?)?;
        dict.set_item("wsgi.errors", py.import("sys")?.getattr("stderr")?)?;
        dict.set_item("wsgi.multithread", PyBool::new(py, true))?;
        dict.set_item("wsgi.multiprocess", PyBool::new(py, false))?;
        dict.set_item("wsgi.run_once", PyBool::new(py, false))?;
        dict.set_item("wsgi.input_terminated", PyBool::new(py, true))?;
        dict.set_item("wsgi.file_wrapper", py.get_type::<FileWrapper>())?;
        dict.set_item("SERVER_SOFTWARE", ident)?;
        Ok(Self {
            dict: dict.unbind(),
        })
    }

    /// The environ for one request; the body moves into `wsgi.input`.
    pub fn build<'py>(
        &self,
        py: Python<'py>,
        staged: &Staged,
        disconnected: &Arc<AtomicBool>,
        body: BodyReader,
    ) -> PyResult<Bound<'py, PyDict>> {
        let environ = self.dict.bind(py).copy()?;
        for (key, value) in staged.iter() {
            // Only the fixed CGI names are interned: header-derived keys are
            // chosen by clients and must not grow the intern table.
            let key = if key.starts_with("HTTP_") {
                PyString::new(py, key)
            } else {
                PyString::intern(py, key)
            };
            environ.set_item(key, PyString::new(py, value))?;
        }
        environ.set_item(
            pyo3::intern!(py, "wsgi.input"),
            Bound::new(py, InputStream::new(body))?,
        )?;
        environ.set_item(
            pyo3::intern!(py, "waitress.client_disconnected"),
            Bound::new(py, ClientDisconnected::new(Arc::clone(disconnected)))?,
        )?;
        Ok(environ)
    }
}
