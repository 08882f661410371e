//! waitress-server: the running server. Listeners and one tokio task per
//! connection do all socket I/O; a pool of worker threads runs the WSGI
//! application through PyO3. HTTP framing comes from `waitress-proto`,
//! settings from `waitress-core`, proxy trust from `waitress-proxy`.

mod backlog;
mod connection;
mod date;
mod listener;
mod log_sink;
pub mod logging;
mod process_role;
mod python;
mod request;
mod response;
mod server;
mod signals;
#[cfg(unix)]
mod supervisor;
mod thread_probe;
mod transport;
mod wake_batch;
mod worker;

pub use server::{RunError, Stopped, io_thread_count, run};

/// Pieces of the request path exposed for the benchmarks; not a stable API.
#[doc(hidden)]
pub mod internals {
    pub use crate::log_sink::LogSink;
    pub use crate::python::body::BodyChunk;
    pub use crate::python::environ::EnvironTemplate;
    pub use crate::python::exchange::{Exchange, RequestFacts};
    pub use crate::python::interpreter::initialize as initialize_python;
    pub use crate::request::{ConnInfo, EnvironSettings, Staged, stage_environ};
    pub use crate::response::{Output, ResponseReceiver, channel};
    pub use crate::wake_batch::WakeBatch;
}
