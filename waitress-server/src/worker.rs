//! The pool of `threads` worker threads that run the application.
//!
//! Each worker attaches to Python once for its whole life (one thread state
//! per worker, DESIGN.md) and releases the GIL only while waiting for work.
//! Workers never touch sockets.
//!
//! The queue is a mutex-protected deque with a condition variable: no
//! spinning or yielding while idle, and the queue length and the number of
//! idle workers are read under the same lock for waitress's queue-depth
//! warning.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

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

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Workers blocked waiting for a job.
    idle: usize,
    /// Set when the last `Dispatcher` is gone: workers exit once drained.
    closed: bool,
}

#[derive(Default)]
struct Queue {
    state: Mutex<State>,
    work: Condvar,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The submitting side, shared by every connection task. When the last
/// clone is dropped the workers finish the queued work and exit.
pub struct Dispatcher {
    queue: Arc<Queue>,
    _closer: Arc<Closer>,
}

impl Clone for Dispatcher {
    fn clone(&self) -> Self {
        Self {
            queue: Arc::clone(&self.queue),
            _closer: Arc::clone(&self._closer),
        }
    }
}

/// Closes the queue when the last dispatcher clone drops.
struct Closer(Arc<Queue>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.work.notify_all();
    }
}

/// The worker threads themselves, owned by the server for joining.
pub struct WorkerPool {
    handles: Vec<JoinHandle<()>>,
}

impl WorkerPool {
    /// Starts `threads` workers named `waitress-0..N-1`.
    pub fn start(threads: usize, ctx: Arc<AppContext>) -> std::io::Result<(Dispatcher, Self)> {
        let queue = Arc::new(Queue::default());
        let mut handles = Vec::with_capacity(threads);
        for i in 0..threads {
            let queue = Arc::clone(&queue);
            let ctx = Arc::clone(&ctx);
            let handle = std::thread::Builder::new()
                .name(format!("waitress-{i}"))
                .spawn(move || worker_loop(&queue, &ctx))?;
            handles.push(handle);
        }
        let closer = Arc::new(Closer(Arc::clone(&queue)));
        Ok((
            Dispatcher {
                queue,
                _closer: closer,
            },
            Self { handles },
        ))
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
    pub fn submit(&self, job: Job) {
        let (depth, wake) = {
            let mut state = self.queue.lock();
            state.jobs.push_back(job);
            let queued = state.jobs.len();
            (
                (queued > state.idle).then(|| queued - state.idle),
                state.idle > 0,
            )
        };
        // A notify is a system call even with nobody waiting: only wake a
        // worker that sleeps; busy ones take the job when they finish.
        if wake {
            self.queue.work.notify_one();
        }
        if let Some(depth) = depth {
            tracing::warn!(target: QUEUE_LOGGER, "Task queue depth is {depth}");
        }
    }
}

/// The next job, or None when the queue is closed and drained. Called with
/// the GIL held; releases it only if it has to wait.
fn next_job(py: Python<'_>, queue: &Queue) -> Option<Job> {
    {
        // Queued work is taken without giving up the GIL: handing it to
        // another worker between requests costs a context switch each time.
        let mut state = queue.lock();
        if let Some(job) = state.jobs.pop_front() {
            return Some(job);
        }
        if state.closed {
            return None;
        }
    }
    py.detach(|| {
        let mut state = queue.lock();
        state.idle += 1;
        loop {
            if let Some(job) = state.jobs.pop_front() {
                state.idle -= 1;
                return Some(job);
            }
            if state.closed {
                state.idle -= 1;
                return None;
            }
            state = queue.work.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    })
}

fn worker_loop(queue: &Queue, ctx: &AppContext) {
    Python::attach(|py| {
        while let Some(job) = next_job(py, queue) {
            serve(py, ctx, job.request, job.response);
        }
    });
}
