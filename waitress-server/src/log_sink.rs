//! Batched, ordered, lossless log output on a background thread.
//!
//! Under load waitress logs `Task queue depth` on every queued request. A
//! write system call and a thread wake-up per line cost a busy server a
//! fifth of its throughput (measured: hello 50k -> 65k req/s without them),
//! so lines are appended to one shared buffer and a writer thread writes
//! whatever has collected in a single call. The writer is woken only when
//! it sleeps, and then lingers briefly so a burst becomes one write. A
//! producer waits only when the buffer is full (lines are never dropped).

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// Bytes that may wait for the writer before producers block.
const BUFFER_LIMIT: usize = 64 * 1024;

/// How long the writer waits after a wake-up for more lines to join the
/// write: invisible to a reader of the log, and it bounds the wake-ups to
/// a few hundred a second however many lines are logged.
const LINGER: Duration = Duration::from_millis(2);

#[derive(Default)]
struct State {
    buf: Vec<u8>,
    /// The writer waits on `ready` and must be notified.
    writer_asleep: bool,
    /// Producers waiting on `room`.
    blocked: usize,
    /// The guard is gone: the writer drains and exits; later lines are
    /// written directly.
    closed: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    ready: Condvar,
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn append(&self, line: &[u8], out: &mut impl Write) -> io::Result<()> {
        let mut state = self.lock();
        while state.buf.len() >= BUFFER_LIMIT && !state.closed {
            state.blocked += 1;
            state = self.room.wait(state).unwrap_or_else(|e| e.into_inner());
            state.blocked -= 1;
        }
        if state.closed {
            // Keep order with what the writer already wrote: it has exited.
            drop(state);
            return out.write_all(line);
        }
        state.buf.extend_from_slice(line);
        if state.writer_asleep {
            state.writer_asleep = false;
            drop(state);
            self.ready.notify_one();
        }
        Ok(())
    }
}

/// Writes everything appended to `out`; returns once closed and drained.
fn writer_loop(shared: &Shared, mut out: impl Write) {
    let mut pending = Vec::new();
    let mut state = shared.lock();
    loop {
        if state.buf.is_empty() {
            if state.closed {
                return;
            }
            state.writer_asleep = true;
            while state.writer_asleep && !state.closed {
                state = shared.ready.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            state.writer_asleep = false;
            if !state.closed {
                drop(state);
                std::thread::sleep(LINGER);
                state = shared.lock();
            }
            continue;
        }
        std::mem::swap(&mut pending, &mut state.buf);
        let wake_producers = state.blocked > 0;
        drop(state);
        if wake_producers {
            shared.room.notify_all();
        }
        // A closed or full stderr loses these lines, as it would any write;
        // the server must not stop over it.
        let _ = out.write_all(&pending).and_then(|()| out.flush());
        pending.clear();
        state = shared.lock();
    }
}

/// Where log lines go: cheap to clone, one per subscriber.
#[derive(Clone)]
pub struct LogSink {
    shared: Arc<Shared>,
}

/// Keeps the writer thread alive; dropping it writes every pending line
/// before returning.
pub struct LogSinkGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl LogSink {
    /// Starts the writer thread `waitress-log` over standard error.
    pub fn stderr() -> io::Result<(Self, LogSinkGuard)> {
        Self::start(io::stderr)
    }

    /// Starts the writer thread over the writer `make` returns.
    pub fn start<W, F>(make: F) -> io::Result<(Self, LogSinkGuard)>
    where
        W: Write,
        F: FnOnce() -> W + Send + 'static,
    {
        let shared = Arc::new(Shared::default());
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("waitress-log".into())
                .spawn(move || writer_loop(&shared, make()))?
        };
        let guard = LogSinkGuard {
            shared: Arc::clone(&shared),
            thread: Some(thread),
        };
        Ok((Self { shared }, guard))
    }
}

impl Drop for LogSinkGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_one();
        self.shared.room.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One event's output: tracing formats a whole line and writes it at once.
pub struct LineWriter<'a>(&'a Shared);

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.append(buf, &mut io::stderr())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogSink {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(&self.shared)
    }
}

/// A writer tests can read back, counting write calls.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Capture(pub(crate) Arc<std::sync::Mutex<(Vec<u8>, usize)>>);

#[cfg(test)]
impl Capture {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().0.clone()).unwrap()
    }
}

#[cfg(test)]
impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut inner = self.0.lock().unwrap();
        inner.0.extend_from_slice(buf);
        inner.1 += 1;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_arrives_in_order_from_many_threads() {
        let capture = Capture::default();
        let (sink, guard) = LogSink::start({
            let capture = capture.clone();
            move || capture
        })
        .unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        let line = format!("t{t} {i}\n");
                        sink.make_writer().write_all(line.as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(guard);
        let (bytes, writes) = capture.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        let mut next = [0usize; 4];
        for line in text.lines() {
            let (t, i) = line[1..].split_once(' ').unwrap();
            let t: usize = t.parse().unwrap();
            assert_eq!(
                i.parse::<usize>().unwrap(),
                next[t],
                "thread {t} out of order"
            );
            next[t] += 1;
        }
        assert_eq!(next, [20_000; 4], "lines lost");
        // Batched: far fewer writes than the 80,000 lines.
        assert!(writes < 80_000 / 4, "{writes} writes for 80000 lines");
    }

    #[test]
    fn dropping_the_guard_writes_pending_lines() {
        let capture = Capture::default();
        let (sink, guard) = LogSink::start({
            let capture = capture.clone();
            move || capture
        })
        .unwrap();
        sink.make_writer().write_all(b"last words\n").unwrap();
        drop(guard);
        assert_eq!(capture.0.lock().unwrap().0, b"last words\n");
    }
}
