//! Resolving `module:callable` to the WSGI application object (K-03).

use pyo3::prelude::*;

/// Imports `name` the way waitress-serve does (`pkgutil.resolve_name`), calls
/// it when `call` is set, and checks the result is callable. The error text is
/// waitress's `Cannot import WSGI application '<name>': <reason>`.
pub fn load_application(name: &str, call: bool) -> Result<Py<PyAny>, String> {
    Python::attach(|py| {
        let cannot = |reason: String| format!("Cannot import WSGI application '{name}': {reason}");
        let resolve = || -> PyResult<Bound<'_, PyAny>> {
            py.import("pkgutil")?
                .getattr("resolve_name")?
                .call1((name,))
        };
        let mut app = resolve().map_err(|e| cannot(exception_text(py, &e)))?;
        if call {
            app = app
                .call0()
                .map_err(|e| cannot(format!("calling it failed: {}", exception_text(py, &e))))?;
        }
        if app.is_none() {
            return Err(cannot(
                "the object is None. You forgot to return a WSGI app within your application."
                    .into(),
            ));
        }
        if !app.is_callable() {
            return Err(cannot(format!(
                "the object is not callable ({}); use --call if it is a factory",
                app.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|_| "?".into())
            )));
        }
        Ok(app.unbind())
    })
}

/// `str(exc)`, or the exception type's name when that is empty.
pub fn exception_text(py: Python<'_>, err: &PyErr) -> String {
    let value = err.value(py);
    let text = value.str().map(|s| s.to_string()).unwrap_or_default();
    if text.is_empty() {
        err.get_type(py)
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "exception".into())
    } else {
        text
    }
}

/// The full Python traceback of `err`, as `traceback.format_exception` gives it.
pub fn format_traceback(py: Python<'_>, err: &PyErr) -> String {
    let format = || -> PyResult<String> {
        let lines = py
            .import("traceback")?
            .getattr("format_exception")?
            .call1((err.get_type(py), err.value(py), err.traceback(py)))?;
        let joined = pyo3::types::PyString::new(py, "").call_method1("join", (lines,))?;
        joined.extract()
    };
    format().unwrap_or_else(|_| format!("{err}\n"))
}
