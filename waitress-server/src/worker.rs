//! The pool of `threads` worker threads that run the application.
//!
//! Each worker attaches to Python once for its whole life (one thread state
//! per worker, DESIGN.md) and releases the GIL only while waiting for work.
//! Workers never touch sockets.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use pyo3::prelude::*;

use crate::logging::{LOGGER, QUEUE_LOGGER};
use crate::python::wsgi::{AppContext, serve};
use crate::request::Request;
use crate::response::ResponseSender;

/// One unit of work: a complete request and where its response goes.
pub struct Job {
    pub request: Request,
    pub response: ResponseSender,
}

#[derive(Debug, Default)]
struct Counters {
    queued: AtomicUsize,
    idle: AtomicUsize,
}

/// The submitting side, shared by every connection task. When the last
/// clone is dropped the workers finish and exit.
#[derive(Clone)]
pub struct Dispatcher {
    tx: Sender<Job>,
    counters: Arc<Counters>,
}

/// The worker threads themselves, owned by the server for joining.
pub struct WorkerPool {
    handles: Vec<JoinHandle<()>>,
}

impl WorkerPool {
    /// Starts `threads` workers named `waitress-0..N-1`.
    pub fn start(threads: usize, ctx: Arc<AppContext>) -> std::io::Result<(Dispatcher, Self)> {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let counters = Arc::new(Counters::default());
        let mut handles = Vec::with_capacity(threads);
        for i in 0..threads {
            let rx = rx.clone();
            let ctx = Arc::clone(&ctx);
            let counters = Arc::clone(&counters);
            let handle = std::thread::Builder::new()
                .name(format!("waitress-{i}"))
                .spawn(move || worker_loop(&rx, &ctx, &counters))?;
            handles.push(handle);
        }
        Ok((Dispatcher { tx, counters }, Self { handles }))
    }

    /// Waits for the workers; they exit once every `Dispatcher` is dropped.
    pub fn join(self) {
        for handle in self.handles {
            if handle.join().is_err() {
                tracing::error!(target: LOGGER, "a worker thread panicked");
            }
        }
    }
}

impl Dispatcher {
    /// Queues a request; logs waitress's queue-depth warning when more work
    /// is waiting than there are idle workers.
    pub fn submit(&self, job: Job) -> Result<(), Job> {
        let queued = self.counters.queued.fetch_add(1, Ordering::AcqRel) + 1;
        let idle = self.counters.idle.load(Ordering::Acquire);
        if queued > idle {
            tracing::warn!(target: QUEUE_LOGGER, "Task queue depth is {}", queued - idle);
        }
        self.tx.send(job).map_err(|e| {
            self.counters.queued.fetch_sub(1, Ordering::AcqRel);
            e.into_inner()
        })
    }
}

fn worker_loop(rx: &Receiver<Job>, ctx: &AppContext, counters: &Counters) {
    Python::attach(|py| {
        loop {
            counters.idle.fetch_add(1, Ordering::AcqRel);
            let job = py.detach(|| rx.recv());
            counters.idle.fetch_sub(1, Ordering::AcqRel);
            let Ok(job) = job else { break };
            counters.queued.fetch_sub(1, Ordering::AcqRel);
            serve(py, ctx, job.request, job.response);
        }
    });
}
