//! Starting, running and stopping the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use pyo3::prelude::*;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use waitress_core::{Adjustments, ServeConfig};
use waitress_proto::Limits;
use waitress_proxy::ProxyConfig;

use crate::backlog::Backlog;
use crate::listener::{ConnectionLimit, Listener, accept_loop};
use crate::logging::LOGGER;
use crate::process_role::{self, Role, WorkerRole};
use crate::python::environ::EnvironTemplate;
use crate::python::wsgi::AppContext;
use crate::python::{app, interpreter};
use crate::request::EnvironSettings;
use crate::wake_batch::WakeBatch;
use crate::worker::{Dispatcher, WorkerPool};

/// A failure to start, with the exit status the CLI should use.
#[derive(Debug)]
pub struct RunError {
    pub message: String,
    pub exit_code: i32,
}

impl RunError {
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: 2,
        }
    }

    pub(crate) fn startup(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: 1,
        }
    }
}

impl RunError {
    pub(crate) fn from_config(e: waitress_core::ConfigError) -> Self {
        Self {
            message: e.message().to_string(),
            exit_code: e.exit_code(),
        }
    }
}

/// Server-wide state every connection task reads.
pub struct ServerShared {
    pub limits: Limits,
    pub recv_bytes: usize,
    pub inbuf_overflow: usize,
    pub outbuf_high_watermark: usize,
    /// Response bytes waiting for an I/O thread (workers hold off over it).
    pub backlog: Arc<Backlog>,
    /// Workers' wake-ups of connection tasks, batched under load.
    pub wakes: Arc<WakeBatch>,
    pub channel_timeout: u64,
    pub channel_request_lookahead: usize,
    pub log_socket_errors: bool,
    pub ident: Option<Arc<str>>,
    pub environ: EnvironSettings,
    pub proxy: ProxyConfig,
    pub pool: Dispatcher,
    /// Cancelled on the first SIGINT/SIGTERM.
    pub shutdown: CancellationToken,
    /// The same fact for worker threads (responses get `Connection: close`).
    pub shutting_down: Arc<AtomicBool>,
    /// `max_requests` (+ jitter) of this worker process, if any.
    pub request_budget: Option<u64>,
    pub requests_dispatched: AtomicU64,
    /// Notified once when the budget is used up: the process recycles.
    pub recycle: Notify,
}

impl ServerShared {
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// Counts a dispatched request against `max_requests`.
    pub fn count_request(&self) {
        if let Some(budget) = self.request_budget {
            let n = self.requests_dispatched.fetch_add(1, Ordering::AcqRel) + 1;
            if n == budget {
                self.recycle.notify_one();
            }
        }
    }
}

fn proxy_config(adj: &Adjustments) -> Result<ProxyConfig, RunError> {
    ProxyConfig::new(
        adj.trusted_proxy.as_deref(),
        adj.trusted_proxy_count,
        &adj.trusted_proxy_headers,
        adj.clear_untrusted_proxy_headers,
        adj.log_untrusted_proxy_headers,
    )
    .map_err(RunError::config)
}

/// How a server that started ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Every connection finished in time: exit status 0.
    Drained,
    /// `shutdown_timeout` ran out with requests still running: exit status 0
    /// (the stop was asked for), the unfinished ones logged.
    TimedOut,
    /// A second signal: exit at once, status 1.
    Forced,
}

impl Stopped {
    pub fn exit_code(self) -> i32 {
        match self {
            Stopped::Drained | Stopped::TimedOut => 0,
            Stopped::Forced => 1,
        }
    }
}

/// Runs the server until SIGINT/SIGTERM: as the only process, as the
/// supervisor of worker processes, or as one of them (`process_role`).
pub fn run(config: ServeConfig) -> Result<Stopped, RunError> {
    let adj = &config.adjustments;
    let role = process_role::detect(adj.workers, adj.max_requests).map_err(RunError::config)?;
    if !matches!(role, Role::Worker(_)) {
        for warning in &config.warnings {
            tracing::warn!(target: LOGGER, "{warning}");
        }
    }
    match role {
        Role::Single => serve(&config, None),
        Role::Worker(worker) => serve(&config, Some(worker)),
        #[cfg(unix)]
        Role::Supervisor { count } => crate::supervisor::run(&config, count),
        #[cfg(not(unix))]
        Role::Supervisor { .. } => Err(RunError::config(
            "workers other than 1 and max_requests need a Unix platform",
        )),
    }
}

/// Threads doing socket I/O in one server process: half the cores (the
/// other half runs Python), at least one.
pub fn io_thread_count() -> usize {
    std::thread::available_parallelism()
        .map(|n| (n.get() / 2).max(1))
        .unwrap_or(1)
}

/// One server process. Python is started here, after the signal handlers
/// are registered (DESIGN.md, "Signals").
fn serve(config: &ServeConfig, mut worker: Option<WorkerRole>) -> Result<Stopped, RunError> {
    let adj = &config.adjustments;
    let proxy = proxy_config(adj)?;
    let io_threads = io_thread_count();
    let wakes = Arc::new(WakeBatch::default());
    let (parking, unparking) = (Arc::clone(&wakes), Arc::clone(&wakes));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(io_threads)
        .thread_name("waitress-io")
        .on_thread_park(move || parking.on_park())
        .on_thread_unpark(move || unparking.on_unpark())
        .enable_all()
        .build()
        .map_err(|e| RunError::startup(format!("cannot start the I/O runtime: {e}")))?;
    let mut signals = runtime
        .block_on(async { crate::signals::Signals::register() })
        .map_err(|e| RunError::startup(format!("cannot install signal handlers: {e}")))?;

    let venv = interpreter::choose_virtualenv(config.virtualenv.as_deref());
    interpreter::initialize(venv.as_deref()).map_err(|e| RunError::config(e.to_string()))?;
    let application = app::load_application(&config.app, config.call).map_err(RunError::startup)?;

    let bound = match &worker {
        // A worker process adopts the supervisor's listeners.
        Some(w) => {
            let mut inherited = adj.clone();
            inherited.listen.clear();
            inherited.unix_socket = None;
            inherited.sockets = w.listen_fds.clone();
            waitress_core::bind_listeners(&inherited)
        }
        None => waitress_core::bind_listeners(adj),
    }
    .map_err(RunError::from_config)?;
    let urls = waitress_core::serving_urls(&bound);
    let request_budget = worker
        .as_ref()
        .and_then(|_| process_role::request_budget(adj.max_requests, adj.max_requests_jitter));

    let ident: Option<Arc<str>> = adj.ident.as_deref().map(Arc::from);
    // PEP 3333: true when the app may run in another process at the same
    // time, as it does in a sibling worker (or a recycled worker's successor).
    let multiprocess = worker.is_some();
    let environ_settings = EnvironSettings {
        url_prefix: adj.url_prefix.clone(),
        url_scheme: adj.url_scheme.as_str().into(),
        server_name: adj.server_name.as_str().into(),
    };
    let template = Python::attach(|py| {
        EnvironTemplate::new(py, ident.as_deref(), multiprocess, &environ_settings)
    })
    .map_err(|e| RunError::startup(format!("cannot build the WSGI environ: {e}")))?;
    let backlog = Arc::new(Backlog::default());
    let ctx = Arc::new(AppContext {
        app: application,
        template,
        ident: ident.clone(),
        expose_tracebacks: adj.expose_tracebacks,
        outbuf_overflow: adj.outbuf_overflow,
        backlog: Arc::clone(&backlog),
        wakes: Arc::clone(&wakes),
    });
    let (dispatcher, workers) = WorkerPool::start(adj.threads.max(1), ctx)
        .map_err(|e| RunError::startup(format!("cannot start worker threads: {e}")))?;

    let shared = Arc::new(ServerShared {
        limits: Limits {
            max_request_header_size: adj.max_request_header_size,
            max_request_body_size: adj.max_request_body_size,
        },
        recv_bytes: adj.recv_bytes.max(1),
        inbuf_overflow: adj.inbuf_overflow,
        outbuf_high_watermark: adj.outbuf_high_watermark,
        backlog,
        wakes: Arc::clone(&wakes),
        channel_timeout: adj.channel_timeout,
        channel_request_lookahead: adj.channel_request_lookahead,
        log_socket_errors: adj.log_socket_errors,
        ident,
        environ: environ_settings,
        proxy,
        pool: dispatcher,
        shutdown: CancellationToken::new(),
        shutting_down: Arc::new(AtomicBool::new(false)),
        request_budget,
        requests_dispatched: AtomicU64::new(0),
        recycle: Notify::new(),
    });

    let grace = Duration::from_secs(adj.shutdown_timeout);
    let limit = Arc::new(ConnectionLimit::new(adj.connection_limit));
    runtime.spawn(Arc::clone(&wakes).run_ticker());
    let stopped = runtime.block_on(async {
        let tracker = TaskTracker::new();
        let listeners = bound
            .into_iter()
            .map(Listener::from_bound)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| RunError::startup(format!("cannot listen: {e}")))?;
        // Ready before the first accept, so the supervisor never sees a
        // worker serve (or die) before it said it was ready.
        match worker.as_mut() {
            Some(w) => w.report(process_role::STATUS_READY),
            None => {
                for url in &urls {
                    tracing::info!(target: LOGGER, "Serving on {url}");
                }
            }
        }
        let accept_tasks: Vec<_> = listeners
            .into_iter()
            .map(|listener| {
                tokio::spawn(accept_loop(
                    listener,
                    Arc::clone(&shared),
                    Arc::clone(&limit),
                    tracker.clone(),
                ))
            })
            .collect();
        let index = worker.as_ref().map_or(0, |w| w.index);
        let stop = wait_for_stop(&shared, &mut signals, index).await;
        if let StopReason::Recycle(_) = stop
            && let Some(w) = worker.as_mut()
        {
            w.report(process_role::STATUS_RECYCLING);
        }
        Ok::<_, RunError>(drain(&shared, signals, stop, tracker, accept_tasks, grace).await)
    })?;
    drop(shared);
    if stopped == Stopped::Forced {
        runtime.shutdown_background();
        return Ok(stopped);
    }
    if stopped == Stopped::Drained {
        workers.join();
    }
    interpreter::run_exit_handlers();
    if worker.is_none()
        && let Err(e) = waitress_core::cleanup_unix_sockets(adj)
    {
        tracing::warn!(target: LOGGER, "cannot remove the unix socket file: {e}");
    }
    // Tasks still running (grace period over) end with the process.
    runtime.shutdown_background();
    Ok(stopped)
}

/// Why the server stops.
enum StopReason {
    Signal(crate::signals::Signal),
    /// `max_requests` reached in worker process number `.0`.
    Recycle(usize),
}

async fn wait_for_stop(
    shared: &ServerShared,
    signals: &mut crate::signals::Signals,
    index: usize,
) -> StopReason {
    tokio::select! {
        signal = signals.next() => StopReason::Signal(signal),
        () = shared.recycle.notified() => StopReason::Recycle(index),
    }
}

/// Stops accepting and lets the connections finish (D-18).
async fn drain(
    shared: &ServerShared,
    mut signals: crate::signals::Signals,
    stop: StopReason,
    tracker: TaskTracker,
    accept_tasks: Vec<tokio::task::JoinHandle<()>>,
    grace: Duration,
) -> Stopped {
    shared.shutting_down.store(true, Ordering::Release);
    shared.shutdown.cancel();
    for task in accept_tasks {
        let _ = task.await;
    }
    tracker.close();
    let in_flight = tracker.len();
    let why = match stop {
        StopReason::Signal(signal) => format!("Received {signal}"),
        StopReason::Recycle(index) => format!(
            "Worker process {index} (pid {}) reached max_requests ({})",
            std::process::id(),
            shared.request_budget.unwrap_or(0)
        ),
    };
    tracing::info!(
        target: LOGGER,
        "{why}: no longer accepting connections; waiting up to {}s for {in_flight} open connection(s)",
        grace.as_secs()
    );
    tokio::select! {
        () = tracker.wait() => {
            tracing::info!(target: LOGGER, "All connections closed; shutting down");
            Stopped::Drained
        }
        () = tokio::time::sleep(grace) => {
            tracing::warn!(
                target: LOGGER,
                "shutdown_timeout of {}s elapsed with {} connection(s) still open; exiting",
                grace.as_secs(),
                tracker.len()
            );
            Stopped::TimedOut
        }
        second = signals.next() => {
            tracing::warn!(
                target: LOGGER,
                "Received {second} again: exiting at once with {} connection(s) open",
                tracker.len()
            );
            Stopped::Forced
        }
    }
}
