//! The process-wide count of response bytes that wait for a connection task
//! which is free to write them: output the I/O threads have not got to yet.
//!
//! When the I/O threads fall behind (on a busy machine they wait for a CPU
//! for milliseconds), workers would otherwise go on producing whole
//! responses for every queued request, and all of them sit in memory at
//! once. A worker about to start a request waits (without the GIL, for at
//! most `MAX_WAIT`) while the backlog is over `LIMIT`, which gives the CPU
//! to the I/O thread instead.
//!
//! Output for a client that is slow to read never counts: bytes handed
//! over while the connection task is busy writing are left out (that task
//! takes them as soon as its write returns), so a slow client holds up
//! only its own worker, by its own `outbuf_high_watermark`, never the others.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Bytes waiting for the I/O threads before workers hold off new requests.
const LIMIT: usize = 512 * 1024;

/// The longest a worker holds off: the backlog bounds memory, it must never
/// stall the server (an I/O thread can be slow for reasons of its own).
const MAX_WAIT: Duration = Duration::from_millis(2);

#[derive(Debug)]
pub struct Backlog {
    bytes: AtomicUsize,
    limit: usize,
    /// Workers waiting for room; notified only when there are some.
    waiting: AtomicUsize,
    lock: Mutex<()>,
    room: Condvar,
}

impl Default for Backlog {
    fn default() -> Self {
        Self::with_limit(LIMIT)
    }
}

impl Backlog {
    pub fn with_limit(limit: usize) -> Self {
        Backlog {
            bytes: AtomicUsize::new(0),
            limit,
            waiting: AtomicUsize::new(0),
            lock: Mutex::new(()),
            room: Condvar::new(),
        }
    }

    /// Bytes handed to a connection task that is free to write them.
    pub fn add(&self, bytes: usize) {
        self.bytes.fetch_add(bytes, Ordering::AcqRel);
    }

    /// A connection task took `bytes` (counted by `add`) to write them.
    pub fn remove(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let before = self.bytes.fetch_sub(bytes, Ordering::AcqRel);
        if before.saturating_sub(bytes) <= self.resume() && self.waiting.load(Ordering::Acquire) > 0
        {
            // Taking the lock orders this with a waiter between its check
            // and its wait, so the notification cannot be missed.
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            // One worker: waking them all makes them fight for the GIL.
            self.room.notify_one();
        }
    }

    pub fn is_over(&self) -> bool {
        self.bytes.load(Ordering::Acquire) > self.limit
    }

    /// A worker that had to wait goes on at half the limit: waiting and
    /// waking at the same level would wake a worker for every write.
    fn resume(&self) -> usize {
        self.limit / 2
    }

    /// Waits until the backlog is at or below the limit, at most `MAX_WAIT`.
    pub fn wait_for_room(&self) {
        self.wait_for_room_at_most(MAX_WAIT);
    }

    fn wait_for_room_at_most(&self, max_wait: Duration) {
        let deadline = Instant::now() + max_wait;
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.waiting.fetch_add(1, Ordering::AcqRel);
        while self.bytes.load(Ordering::Acquire) > self.resume() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            guard = match self.room.wait_timeout(guard, deadline - now) {
                Ok((guard, _)) => guard,
                Err(e) => e.into_inner().0,
            };
        }
        self.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn counts_up_and_down_against_the_limit() {
        let backlog = Backlog::with_limit(10);
        backlog.add(6);
        assert!(!backlog.is_over());
        backlog.add(6);
        assert!(backlog.is_over());
        backlog.remove(2);
        assert!(!backlog.is_over(), "10 is at the limit, not over it");
    }

    #[test]
    fn a_waiting_worker_goes_on_when_a_task_takes_the_bytes() {
        let backlog = Arc::new(Backlog::with_limit(10));
        backlog.add(100);
        let waiter = {
            let backlog = Arc::clone(&backlog);
            std::thread::spawn(move || {
                let start = Instant::now();
                backlog.wait_for_room_at_most(Duration::from_secs(30));
                start.elapsed()
            })
        };
        while backlog.waiting.load(Ordering::Acquire) == 0 {
            std::thread::yield_now();
        }
        backlog.remove(95);
        let waited = waiter.join().expect("the waiter returns");
        assert!(waited < Duration::from_secs(30), "woken, not timed out");
    }

    #[test]
    fn a_waiting_worker_gives_up_after_the_longest_wait() {
        let backlog = Backlog::with_limit(10);
        backlog.add(100);
        let start = Instant::now();
        backlog.wait_for_room_at_most(Duration::from_millis(5));
        assert!(start.elapsed() >= Duration::from_millis(5));
        assert!(backlog.is_over());
    }

    #[test]
    fn no_wait_when_there_is_room() {
        let backlog = Backlog::with_limit(10);
        backlog.add(3);
        let start = Instant::now();
        backlog.wait_for_room_at_most(Duration::from_secs(30));
        assert!(start.elapsed() < Duration::from_secs(30));
    }
}
