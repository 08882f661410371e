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
use waitress_proto::{KNOWN_CGI_NAMES, Version, known_cgi_name_index};

use super::file_wrapper::FileWrapper;
use super::input::{ClientDisconnected, InputStream};
use crate::request::{
    CGI_KEYS, EnvironSettings, KNOWN_METHODS, SLOT_METHOD, SLOT_PROTOCOL, SLOT_SERVER_NAME,
    SLOT_URL_SCHEME, Staged,
};

/// The constant part of every environ, owned for the server's life.
pub struct EnvironTemplate {
    dict: Py<PyDict>,
    /// `CGI_KEYS` as interned Python strings, made once.
    keys: Vec<Py<PyString>>,
    /// `KNOWN_CGI_NAMES` likewise: the keys of the headers most requests
    /// carry cost no string object per request.
    known: Vec<Py<PyString>>,
    /// Per `CGI_KEYS` slot, the values many requests share, made once: the
    /// method names, the protocol versions, the server's name and URL
    /// scheme (the other slots have none).
    values: [Vec<SharedValue>; CGI_KEYS.len()],
}

/// A ready-made value, found by the address of the text a request stages:
/// that text is static or held here (`_owner`), so no other text can ever
/// take its address.
struct SharedValue {
    addr: usize,
    len: usize,
    object: Py<PyString>,
    _owner: Option<Arc<str>>,
}

/// The identity of a text: where it is and how long.
fn identity(text: &str) -> (usize, usize) {
    (text.as_ptr() as usize, text.len())
}

impl EnvironTemplate {
    /// `ident` None -> `SERVER_SOFTWARE = None` (R-10 / section 10).
    /// `multiprocess`: other processes run the same application at the same
    /// time (supervised worker processes); waitress itself is one process,
    /// hence its `False`.
    pub fn new(
        py: Python<'_>,
        ident: Option<&str>,
        multiprocess: bool,
        settings: &EnvironSettings,
    ) -> PyResult<Self> {
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
        let made = |text: &str, owner: Option<&Arc<str>>| {
            let (addr, len) = identity(text);
            SharedValue {
                addr,
                len,
                object: PyString::new(py, text).unbind(),
                _owner: owner.cloned(),
            }
        };
        let mut values: [Vec<SharedValue>; CGI_KEYS.len()] = std::array::from_fn(|_| Vec::new());
        values[SLOT_METHOD] = KNOWN_METHODS.iter().map(|m| made(m, None)).collect();
        values[SLOT_PROTOCOL] = [Version::Http10, Version::Http11]
            .iter()
            .map(|v| made(v.as_str(), None))
            .collect();
        values[SLOT_SERVER_NAME] = vec![made(&settings.server_name, Some(&settings.server_name))];
        values[SLOT_URL_SCHEME] = vec![made(&settings.url_scheme, Some(&settings.url_scheme))];
        Ok(Self {
            dict: dict.unbind(),
            keys: intern(&CGI_KEYS),
            known: intern(&KNOWN_CGI_NAMES),
            values,
        })
    }

    fn shared_value(&self, slot: usize, (addr, len): (usize, usize)) -> Option<&Py<PyString>> {
        self.values
            .get(slot)?
            .iter()
            .find(|v| v.addr == addr && v.len == len)
            .map(|v| &v.object)
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
        // REMOTE_ADDR and REMOTE_HOST stage the same text: one object.
        let mut previous: Option<((usize, usize), Bound<'py, PyString>)> = None;
        for (index, value) in staged.fixed() {
            let id = identity(value);
            let object = match (&previous, self.shared_value(index, id)) {
                (_, Some(made)) => made.bind(py).clone(),
                (Some((last, object)), None) if *last == id => object.clone(),
                (_, None) => PyString::new(py, value),
            };
            environ.set_item(self.keys[index].bind(py), &object)?;
            previous = Some((id, object));
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
