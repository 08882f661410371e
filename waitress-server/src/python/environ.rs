//! Building the WSGI environ dict (section 10).
//!
//! A template dict with the keys that never change is built once; each
//! request copies it and sets only its own keys (cheaper than a fresh dict,
//! DESIGN.md).

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString, PyTuple};

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use waitress_core::BodyReader;
use waitress_proto::{KNOWN_CGI_NAMES, known_cgi_name_index};

use super::file_wrapper::FileWrapper;
use super::input::{ClientDisconnected, InputStream};
use crate::request::{CGI_KEYS, Staged};

/// The constant part of every environ, owned for the server's life.
pub struct EnvironTemplate {
    dict: Py<PyDict>,
    /// `CGI_KEYS` as interned Python strings, made once.
    keys: Vec<Py<PyString>>,
    /// `KNOWN_CGI_NAMES` likewise: the keys of the headers most requests
    /// carry cost no string object per request.
    known: Vec<Py<PyString>>,
}

impl EnvironTemplate {
    /// `ident` None -> `SERVER_SOFTWARE = None` (R-10 / section 10).
    /// `multiprocess`: other processes run the same application at the same
    /// time (supervised worker processes); waitress itself is one process,
    /// hence its `False`.
    pub fn new(py: Python<'_>, ident: Option<&str>, multiprocess: bool) -> PyResult<Self> {
        let dict = PyDict::new(py);
        dict.set_item("wsgi.version", PyTuple::new(py, [1, 0])?)?;
        dict.set_item("wsgi.errors", py.import("sys")?.getattr("stderr")?)?;
        dict.set_item("wsgi.multithread", PyBool::new(py, true))?;
        dict.set_item("wsgi.multiprocess", PyBool::new(py, multiprocess))?;
        dict.set_item("wsgi.run_once", PyBool::new(py, false))?;
        dict.set_item("wsgi.input_terminated", PyBool::new(py, true))?;
        dict.set_item("wsgi.file_wrapper", py.get_type::<FileWrapper>())?;
        dict.set_item("SERVER_SOFTWARE", ident)?;
        let intern = |names: &[&str]| -> Vec<Py<PyString>> {
            names
                .iter()
                .map(|k| PyString::intern(py, k).unbind())
                .collect()
        };
        Ok(Self {
            dict: dict.unbind(),
            keys: intern(&CGI_KEYS),
            known: intern(&KNOWN_CGI_NAMES),
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
        for (index, value) in staged.fixed() {
            environ.set_item(self.keys[index].bind(py), PyString::new(py, value))?;
        }
        // Other header-derived keys are chosen by clients: never interned,
        // so they cannot grow the intern table.
        for (key, value) in staged.headers() {
            let value = PyString::new(py, value);
            // Only a name borrowed from the table can be one of it (a name a
            // proxy rule made gets a string of its own, as any other).
            let known = match key {
                Cow::Borrowed(name) => known_cgi_name_index(name),
                Cow::Owned(_) => None,
            };
            match known {
                Some(i) => environ.set_item(self.known[i].bind(py), value)?,
                None => environ.set_item(PyString::new(py, key), value)?,
            }
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
