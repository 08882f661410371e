//! The pool of `threads` worker threads that run the application.
//!
//! Each worker attaches to Python once for its whole life (one thread state
//! per worker, DESIGN.md) and releases the GIL only while waiting for work.
//! Workers never touch sockets.
//!
//! The queue is a mutex-protected deque with condition variables: no
//! spinning or yielding while idle, and the queue length and the number of
//! idle workers are read under the same lock for waitress's queue-depth
//! warning.
//!
//! Waking policy: with one GIL, waking a second worker while one is already
//! running Python only makes them trade the GIL (a context switch per
//! request). So a new job wakes a sleeping worker only when no worker is
//! running; otherwise the running worker takes it next. A nudger thread
//! watches for a queue that stops draining (every running worker blocked,
//! e.g. in `time.sleep` or I/O with the GIL released) and then wakes a
//! sleeping worker, so `threads` still bounds concurrency as in waitress.
//! A worker that is runnable (slow or preempted, not blocked) is not a stall
//! until it has held the queue up for a GIL switch interval: only then does
//! a second worker join in and share the GIL, as waitress's threads would.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pyo3::prelude::*;

use crate::logging::{LOGGER, QUEUE_LOGGER};
use crate::python::wsgi::{AppContext, serve};
use crate::request::Request;
use crate::response::ResponseSender;
use crate::thread_probe::ThreadProbe;
use crate::wake_batch::WakeBatch;

/// One unit of work: a complete request and where its response goes.
pub struct Job {
    pub request: Request,
    pub response: ResponseSender,
}

/// How long the queue may make no progress before a sleeping worker is
/// woken to help: short against a 10 ms blocking app, long against the
/// microseconds a running worker needs per request.
const NUDGE_AFTER: Duration = Duration::from_micros(200);

/// How long a running (not blocked) worker may hold the queue up before
/// another worker joins in: Python's default GIL switch interval, so a long
/// CPU-bound request shares the interpreter with quick ones as in waitress.
const SHARE_AFTER: Duration = Duration::from_millis(5);

/// The nudger's longest look interval. While the queue keeps draining it
/// looks half as often each time, up to this (a look is a timed futex wait:
/// ~6 us per look, 5000 looks a second at `NUDGE_AFTER`, measured as 4% of
/// a CPU per process under load); a stall brings it back to `NUDGE_AFTER`.
/// So a worker that blocks while requests wait is helped within about two
/// `MAX_LOOK`s at worst (one look that finds nothing to watch yet, one
/// that finds no progress).
const MAX_LOOK: Duration = Duration::from_micros(1600);

/// Looks with nothing to watch before the nudger parks until a submit
/// needs it (about 13 ms of an idle pool).
const PARK_AFTER_QUIET_LOOKS: u32 = 8;

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Workers blocked waiting for a job.
    idle: usize,
    /// Workers serving a request.
    active: usize,
    /// Sleeping workers notified that have not woken yet.
    waking: usize,
    /// Jobs taken off the queue so far (progress, for the nudger).
    taken: u64,
    /// The nudger is watching (not parked indefinitely).
    watching: bool,
    /// Set when the last `Dispatcher` is gone: workers exit once drained.
    closed: bool,
    /// Probes of workers started since the nudger last looked.
    new_probes: Vec<ThreadProbe>,
}

#[derive(Default)]
struct Queue {
    state: Mutex<State>,
    work: Condvar,
    nudge: Condvar,
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
        self.0.nudge.notify_all();
    }
}

/// The worker threads themselves, owned by the server for joining.
pub struct WorkerPool {
    handles: Vec<JoinHandle<()>>,
    nudger: Option<JoinHandle<()>>,
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
        let nudger = if threads > 1 {
            let queue = Arc::clone(&queue);
            Some(
                std::thread::Builder::new()
                    .name("waitress-nudge".into())
                    .spawn(move || nudge_loop(&queue))?,
            )
        } else {
            None
        };
        let closer = Arc::new(Closer(Arc::clone(&queue)));
        Ok((
            Dispatcher {
                queue,
                _closer: closer,
            },
            Self { handles, nudger },
        ))
    }

    /// Waits for the workers; they exit once every `Dispatcher` is dropped.
    pub fn join(self) {
        for handle in self.handles.into_iter().chain(self.nudger) {
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
        let (depth, wake_worker, wake_nudger) = {
            let mut state = self.queue.lock();
            state.jobs.push_back(job);
            let queued = state.jobs.len();
            let depth = (queued > state.idle).then(|| queued - state.idle);
            // Nobody running and no wake-up on its way: a sleeping worker
            // must start. Otherwise the running (or waking) worker takes the
            // job next, unless the nudger sees the queue stall.
            let wake_worker = state.idle > 0 && state.active == 0 && state.waking == 0;
            if wake_worker {
                state.waking += 1;
            }
            let wake_nudger = state.idle > 0 && !wake_worker && !state.watching;
            if wake_nudger {
                state.watching = true;
            }
            (depth, wake_worker, wake_nudger)
        };
        // A notify is a system call even with nobody waiting: only when needed.
        if wake_worker {
            self.queue.work.notify_one();
        }
        if wake_nudger {
            self.queue.nudge.notify_one();
        }
        if let Some(depth) = depth {
            tracing::warn!(target: QUEUE_LOGGER, "Task queue depth is {depth}");
        }
    }
}

/// The next job, or None when the queue is closed and drained. Called with
/// the GIL held; releases it only if it has to wait. `finished` says the
/// caller just completed a job. Tells `wakes` whether more jobs wait behind
/// the one taken, and hands its batch over before waiting.
fn next_job(py: Python<'_>, queue: &Queue, wakes: &WakeBatch, finished: bool) -> Option<Job> {
    let closed = {
        // Queued work is taken without giving up the GIL: handing it to
        // another worker between requests costs a context switch each time.
        let mut state = queue.lock();
        if let Some(job) = state.jobs.pop_front() {
            WakeBatch::set_worker_busy(!state.jobs.is_empty());
            state.taken += 1;
            if !finished {
                state.active += 1;
            }
            return Some(job);
        }
        if finished {
            state.active -= 1;
        }
        state.closed
    };
    // Going idle: nothing of this worker's may wait in the batch.
    WakeBatch::set_worker_busy(false);
    wakes.release();
    if closed {
        return None;
    }
    py.detach(|| {
        let mut state = queue.lock();
        state.idle += 1;
        loop {
            if let Some(job) = state.jobs.pop_front() {
                WakeBatch::set_worker_busy(!state.jobs.is_empty());
                state.idle -= 1;
                state.active += 1;
                state.taken += 1;
                return Some(job);
            }
            if state.closed {
                state.idle -= 1;
                return None;
            }
            state = queue.work.wait(state).unwrap_or_else(|e| e.into_inner());
            // This worker was the one notified (or woke spuriously): either
            // way the notified wake-up is no longer on its way.
            state.waking = state.waking.saturating_sub(1);
        }
    })
}

fn worker_loop(queue: &Queue, ctx: &AppContext) {
    if let Some(probe) = ThreadProbe::current() {
        queue.lock().new_probes.push(probe);
    }
    Python::attach(|py| {
        let mut finished = false;
        while let Some(job) = next_job(py, queue, &ctx.wakes, finished) {
            if ctx.backlog.is_over() {
                // The tasks that would take the backlog may be in the batch.
                ctx.wakes.release();
                py.detach(|| ctx.backlog.wait_for_room());
            }
            serve(py, ctx, job.request, job.response);
            finished = true;
        }
    });
}

/// Wakes a sleeping worker when jobs wait and the queue made no progress
/// for `NUDGE_AFTER` while every worker is blocked, or for `SHARE_AFTER`
/// whatever they do. Ticks only while a worker runs and another sleeps;
/// parks otherwise.
/// The nudger waits `look` (woken early by a submit) while watching.
fn look_after<'q>(
    queue: &'q Queue,
    mut state: MutexGuard<'q, State>,
    look: Duration,
) -> MutexGuard<'q, State> {
    state.watching = true;
    queue
        .nudge
        .wait_timeout(state, look)
        .map(|(s, _)| s)
        .unwrap_or_else(|e| e.into_inner().0)
}

fn nudge_loop(queue: &Queue) {
    let mut probes: Vec<ThreadProbe> = Vec::new();
    let mut state = queue.lock();
    let mut before = state.taken;
    let mut stalled_since: Option<Instant> = None;
    let mut look = NUDGE_AFTER;
    let mut quiet = 0u32;
    loop {
        if state.closed {
            return;
        }
        probes.append(&mut state.new_probes);
        if state.active == 0 || state.idle == 0 {
            // Nothing to watch. Under load that lasts microseconds (the one
            // running worker goes idle between requests thousands of times a
            // second), so keep looking on the timer for a while instead of
            // parking at once: every park costs the next submit a notify
            // (measured on hello: 10k nudger wake-ups a second).
            if quiet < PARK_AFTER_QUIET_LOOKS {
                quiet += 1;
                state = look_after(queue, state, MAX_LOOK);
            } else {
                state.watching = false;
                state = queue.nudge.wait(state).unwrap_or_else(|e| e.into_inner());
                quiet = 0;
                look = NUDGE_AFTER;
            }
            before = state.taken;
            stalled_since = None;
            continue;
        }
        quiet = 0;
        state = look_after(queue, state, look);
        let stalled = !state.jobs.is_empty() && state.idle > 0 && state.taken == before;
        before = state.taken;
        if !stalled {
            stalled_since = None;
            look = (look * 2).min(MAX_LOOK);
            continue;
        }
        look = NUDGE_AFTER;
        let since = *stalled_since.get_or_insert_with(Instant::now);
        // Read the workers' states without holding up submitters.
        drop(state);
        let wake = since.elapsed() + NUDGE_AFTER >= SHARE_AFTER || !any_runnable(&probes);
        state = queue.lock();
        if wake && !state.jobs.is_empty() && state.idle > 0 && state.taken == before {
            queue.work.notify_one();
            stalled_since = None;
        }
    }
}

/// Some worker is running (or waiting only for a CPU). Unknown states (no
/// probes on this platform) count as blocked: timing alone decides there.
fn any_runnable(probes: &[ThreadProbe]) -> bool {
    probes.iter().any(|p| p.is_runnable() == Some(true))
}
