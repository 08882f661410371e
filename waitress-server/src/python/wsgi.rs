//! Running the application for one request and turning what it returns into
//! response output (sections 8 and 9).

use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};
use waitress_proto::{Version, error_response};

use super::app::format_traceback;
use super::body::BodyChunk;
use super::environ::EnvironTemplate;
use super::exchange::{Exchange, RequestFacts, SharedExchange, lock};
use super::file_wrapper::FileWrapper;
use super::start_response::{ClientDisconnected, StartResponse, response_error_to_py};
use crate::backlog::Backlog;
use crate::logging::LOGGER;
use crate::request::Request;
use crate::response::ResponseSender;
use crate::wake_batch::WakeBatch;

/// X-02's fixed 500 detail.
const INTERNAL_ERROR_DETAIL: &str = "The server encountered an unexpected internal server error";

/// What a worker needs to serve requests, shared by all workers.
pub struct AppContext {
    pub app: Py<PyAny>,
    pub template: EnvironTemplate,
    pub ident: Option<Arc<str>>,
    pub expose_tracebacks: bool,
    pub outbuf_overflow: usize,
    /// Output waiting for the I/O threads; a worker holds off new requests
    /// while it is over its limit.
    pub backlog: Arc<Backlog>,
    /// Where workers leave wake-ups of connection tasks under load.
    pub wakes: Arc<WakeBatch>,
}

/// Why producing the body stopped early.
enum Stop {
    Exception(PyErr),
    Disconnected,
}

impl From<PyErr> for Stop {
    fn from(e: PyErr) -> Self {
        Stop::Exception(e)
    }
}

/// Serves one request on the calling worker thread (which holds the GIL).
pub fn serve(py: Python<'_>, ctx: &AppContext, request: Request, sender: ResponseSender) {
    let Request {
        line,
        environ,
        body,
        disconnected,
        shutting_down,
    } = request;
    let facts = RequestFacts {
        version: line.version,
        head_request: line.head_request,
        request_keep_alive: line.keep_alive,
        shutting_down,
        ident: ctx.ident.clone(),
        date: crate::date::now(),
        outbuf_overflow: ctx.outbuf_overflow,
    };
    let exchange: SharedExchange = Arc::new(Mutex::new(Exchange::new(facts, sender)));

    let outcome = (|| -> Result<(), Stop> {
        let env = ctx.template.build(py, &environ, &disconnected, body)?;
        let start_response = Bound::new(py, StartResponse::new(Arc::clone(&exchange)))?;
        let iterable = ctx.app.bind(py).call1((env, start_response))?;
        let produced = produce(py, &exchange, &iterable);
        // W-01: close() always runs, also after errors and disconnects.
        let closed = close_iterable(&iterable);
        produced?;
        closed?;
        Ok(())
    })();

    // The request's path, for log lines.
    let path = line.path.as_deref().unwrap_or_else(|| environ.path_info());
    match outcome {
        Ok(()) => finish(py, ctx, &exchange, path),
        Err(Stop::Disconnected) => {
            tracing::info!(target: LOGGER, "Client disconnected while serving {path}");
        }
        Err(Stop::Exception(err)) if err.is_instance_of::<ClientDisconnected>(py) => {
            tracing::info!(target: LOGGER, "Client disconnected while serving {path}");
        }
        Err(Stop::Exception(err)) => fail(py, ctx, &exchange, path, &err),
    }
}

/// Completes a response whose body was produced without error.
fn finish(py: Python<'_>, ctx: &AppContext, exchange: &SharedExchange, path: &str) {
    let mut ex = lock(exchange);
    if let Err(err) = require_started(&ex) {
        drop(ex);
        fail(py, ctx, exchange, path, &err);
        return;
    }
    match ex.complete() {
        Ok(Ok(())) => {}
        Ok(Err(_)) => {
            tracing::info!(target: LOGGER, "Client disconnected while serving {path}");
        }
        // the head was first built here, and was invalid (e.g. a bad
        // Content-Length): that is the application's error, a 500.
        Err(e) => {
            drop(ex);
            let err = response_error_to_py(e);
            fail(py, ctx, exchange, path, &err);
        }
    }
}

/// log the exception; answer 500 if the head has not gone out,
/// otherwise break the connection off.
fn fail(py: Python<'_>, ctx: &AppContext, exchange: &SharedExchange, path: &str, err: &PyErr) {
    let traceback = format_traceback(py, err);
    tracing::error!(target: LOGGER, "Exception while serving {path}\n{}", traceback.trim_end());
    let mut ex = lock(exchange);
    if ex.head_sent() {
        ex.abort();
        return;
    }
    let detail = if ctx.expose_tracebacks {
        traceback.as_str()
    } else {
        INTERNAL_ERROR_DETAIL
    };
    let version: Version = ex.facts.version;
    let response = error_response(
        version,
        500,
        "Internal Server Error",
        detail,
        ctx.ident.as_deref(),
        &ex.facts.date,
    );
    ex.fail_with(response);
}

/// Whether `len()` can work on the object. Most iterables returned by
/// frameworks (generators, Flask's and Django's closing wrappers) have no
/// length, and asking anyway costs a formatted TypeError per request.
fn has_len(obj: &Bound<'_, PyAny>) -> bool {
    let tp = obj.get_type();
    let tp = tp.as_type_ptr();
    // SAFETY: a live type object (held by `obj`); the slot tables are read
    // as PyObject_Size reads them (full API, so the layout is pyo3-ffi's
    // for the interpreter built against).
    unsafe {
        let seq = (*tp).tp_as_sequence;
        let map = (*tp).tp_as_mapping;
        (!seq.is_null() && (*seq).sq_length.is_some())
            || (!map.is_null() && (*map).mp_length.is_some())
    }
}

/// Calls `close()` on the iterable if it has one (W-01).
fn close_iterable(iterable: &Bound<'_, PyAny>) -> PyResult<()> {
    // Plain lists and tuples (the commonest bodies) have no close(); asking
    // costs an AttributeError raised and caught on every request.
    if iterable.is_exact_instance_of::<PyList>() || iterable.is_exact_instance_of::<PyTuple>() {
        return Ok(());
    }
    if let Some(close) = iterable.getattr_opt(pyo3::intern!(iterable.py(), "close"))? {
        close.call0()?;
    }
    Ok(())
}

/// Feeds the iterable's chunks into the exchange.
fn produce(
    py: Python<'_>,
    exchange: &SharedExchange,
    iterable: &Bound<'_, PyAny>,
) -> Result<(), Stop> {
    // Fast path: a list or tuple runs no Python code between items, so all
    // of it is framed before one hand-off to the connection task.
    if let Ok(list) = iterable.cast::<PyList>() {
        return produce_sequence(exchange, list.iter());
    }
    if let Ok(tuple) = iterable.cast::<PyTuple>() {
        return produce_sequence(exchange, tuple.iter());
    }
    if let Ok(wrapper) = iterable.cast::<FileWrapper>()
        && send_file(py, exchange, wrapper.get())?
    {
        return Ok(());
    }
    // an iterable of exactly one item gets that item's length.
    let single = has_len(iterable) && matches!(iterable.len(), Ok(1));
    let mut first = true;
    for item in iterable.try_iter()? {
        let item = item?;
        let chunk = chunk_bytes(exchange, &item)?;
        let waiter = {
            let mut ex = lock(exchange);
            if ex.is_disconnected() {
                return Err(Stop::Disconnected);
            }
            if chunk.is_empty() && !ex.head_sent() {
                continue; // empty chunks before the head are skipped
            }
            if first && single {
                ex.known_length = Some(chunk.len() as u64);
            }
            first = false;
            require_started(&ex)?;
            ex.push_body(chunk).map_err(response_error_to_py)?;
            ex.flush().map_err(|_| Stop::Disconnected)?
        };
        if let Some(waiter) = waiter {
            py.detach(|| waiter.wait())
                .map_err(|_| Stop::Disconnected)?;
        }
    }
    Ok(())
}

fn produce_sequence<'py>(
    exchange: &SharedExchange,
    items: impl ExactSizeIterator<Item = Bound<'py, PyAny>>,
) -> Result<(), Stop> {
    let single = items.len() == 1;
    for item in items {
        let chunk = chunk_bytes(exchange, &item)?;
        let mut ex = lock(exchange);
        if chunk.is_empty() && !ex.head_sent() {
            continue;
        }
        if single {
            ex.known_length = Some(chunk.len() as u64);
        }
        require_started(&ex)?;
        ex.push_body(chunk).map_err(response_error_to_py)?;
    }
    Ok(())
}

/// W-03: a seekable file's remaining size becomes the Content-Length, and a
/// real file is handed to the connection task to be sent zero-copy. Returns
/// false when the wrapper must be iterated instead (W-04).
fn send_file(
    py: Python<'_>,
    exchange: &SharedExchange,
    wrapper: &FileWrapper,
) -> Result<bool, Stop> {
    let Some(size) = wrapper.remaining_size(py)? else {
        return Ok(false);
    };
    if size == 0 {
        return Ok(false);
    }
    let region = wrapper.file_region(py, size)?;
    let mut ex = lock(exchange);
    let size = ex.fit_content_length(size);
    ex.known_length = Some(size);
    let Some(mut region) = region else {
        return Ok(false);
    };
    region.len = size;
    require_started(&ex)?;
    ex.ensure_head().map_err(response_error_to_py)?;
    Ok(ex.push_file(region).is_ok())
}

/// S-05: a body (or the end of one) before `start_response` is an error.
fn require_started(ex: &Exchange) -> PyResult<()> {
    if ex.status.is_none() {
        return Err(PyRuntimeError::new_err(
            "start_response was not called before body written",
        ));
    }
    Ok(())
}

/// S-06: chunks must be bytes. A wrong type still sends the head (waitress
/// builds it before it notices), then breaks the connection off.
fn chunk_bytes<'a>(
    exchange: &SharedExchange,
    item: &'a Bound<'_, PyAny>,
) -> Result<BodyChunk<'a>, Stop> {
    if let Ok(bytes) = item.cast::<PyBytes>() {
        return Ok(BodyChunk::of(bytes));
    }
    let mut ex = lock(exchange);
    if ex.status.is_some() {
        ex.ensure_head().map_err(response_error_to_py)?;
    }
    Err(Stop::Exception(PyTypeError::new_err(format!(
        "response body chunks must be bytes, not {}",
        item.get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into())
    ))))
}
