//! `start_response` and the `write` callable it returns (section 8.2).

use pyo3::exceptions::{PyAssertionError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use waitress_proto::{ResponseError, ResponseErrorKind, validate_header, validate_status};

use super::exchange::{SharedExchange, lock};

pyo3::create_exception!(
    waitress_rs,
    ClientDisconnected,
    pyo3::exceptions::PyException,
    "Raised by write() when the client has gone away."
);

/// The Python exception a response-validation error becomes.
pub fn response_error_to_py(err: ResponseError) -> PyErr {
    match err.kind {
        ResponseErrorKind::Assertion => PyAssertionError::new_err(err.message),
        ResponseErrorKind::Value => PyValueError::new_err(err.message),
    }
}

#[pyclass(module = "waitress_rs", name = "StartResponse", frozen)]
pub struct StartResponse {
    exchange: SharedExchange,
}

impl StartResponse {
    pub fn new(exchange: SharedExchange) -> Self {
        Self { exchange }
    }
}

/// Reads the app's header list into owned pairs, with S-03's type checks.
fn extract_headers(headers: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for item in headers.try_iter()? {
        let item = item?;
        let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let pair = || format!("({}, {})", repr(&name), repr(&value));
        let Ok(name_str) = name.cast::<PyString>() else {
            return Err(PyAssertionError::new_err(format!(
                "Header name {} is not a string in {}",
                repr(&name),
                pair()
            )));
        };
        let Ok(value_str) = value.cast::<PyString>() else {
            return Err(PyAssertionError::new_err(format!(
                "Header value {} is not a string in {}",
                repr(&value),
                pair()
            )));
        };
        out.push((
            name_str.to_str()?.to_owned(),
            value_str.to_str()?.to_owned(),
        ));
    }
    Ok(out)
}

fn repr(obj: &Bound<'_, PyAny>) -> String {
    obj.repr().map(|r| r.to_string()).unwrap_or_default()
}

#[pymethods]
impl StartResponse {
    #[pyo3(signature = (status, headers, exc_info = None))]
    fn __call__(
        &self,
        py: Python<'_>,
        status: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        exc_info: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<Write>> {
        let exc_info = exc_info.filter(|e| !e.is_none());
        {
            let ex = lock(&self.exchange);
            // S-01
            if ex.status.is_some() && exc_info.is_none() {
                return Err(PyAssertionError::new_err(
                    "start_response called a second time without providing exc_info.",
                ));
            }
            // S-02: after the head went out the original error propagates.
            if let Some(info) = exc_info
                && ex.head_sent()
            {
                drop(ex);
                let value = info.get_item(1)?;
                return Err(PyErr::from_value(value));
            }
        }
        // S-03
        let Ok(status) = status.cast::<PyString>() else {
            return Err(PyAssertionError::new_err(format!(
                "status {} is not a string",
                repr(status)
            )));
        };
        let status = status.to_str()?.to_owned();
        validate_status(&status).map_err(response_error_to_py)?;
        let headers = extract_headers(headers)?;
        for (name, value) in &headers {
            validate_header(name, value).map_err(response_error_to_py)?;
        }
        let mut ex = lock(&self.exchange);
        ex.status = Some(status);
        ex.headers = headers;
        drop(ex);
        Py::new(
            py,
            Write {
                exchange: SharedExchange::clone(&self.exchange),
            },
        )
    }
}

/// The `write` callable (S-05, R-12: any call sends the head).
#[pyclass(module = "waitress_rs", name = "Write", frozen)]
pub struct Write {
    exchange: SharedExchange,
}

#[pymethods]
impl Write {
    fn __call__(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let Ok(bytes) = data.cast::<PyBytes>() else {
            return Err(PyTypeError::new_err(format!(
                "write() argument must be bytes, not {}",
                data.get_type().name()?
            )));
        };
        let chunk = super::body::BodyChunk::of(bytes);
        let waiter = {
            let mut ex = lock(&self.exchange);
            if ex.status.is_none() {
                return Err(PyRuntimeError::new_err(
                    "start_response was not called before body written",
                ));
            }
            ex.push_body(chunk).map_err(response_error_to_py)?;
            ex.flush()
                .map_err(|_| ClientDisconnected::new_err("client disconnected"))?
        };
        if let Some(waiter) = waiter {
            py.detach(|| waiter.wait())
                .map_err(|_| ClientDisconnected::new_err("client disconnected"))?;
        }
        Ok(())
    }
}
