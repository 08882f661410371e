//! Wake-ups of connection tasks by busy workers, handed over in batches.
//!
//! A worker hands each response to its connection task and wakes the task.
//! When the I/O thread is parked, that wake-up is a system call and, on a
//! virtual machine, an interrupt to another CPU: measured at 13% of a Flask
//! worker's time, and with one GIL the worker's time bounds the process.
//! So a worker that will go straight on to another queued request, and
//! finds an I/O thread parked, leaves the wake-up here instead. The batch is
//! handed over when
//! - an I/O thread wakes up for any other reason (it takes the batch on
//!   its way: no extra wake-up);
//! - `BATCH_MAX` wake-ups wait (one system call for all of them);
//! - a worker is about to wait (for work, or for a slow client);
//! - the ticker, a task that runs on the I/O runtime while batching goes on,
//!   finds them: a wake-up waits at most about `TICK`, even when the worker
//!   that left it went on to a request that takes seconds.
//!
//! Nothing waits when no request is queued (a lone client is answered at
//! once) or when every I/O thread is busy anyway (waking it costs nothing).

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;

use smallvec::SmallVec;
use tokio::sync::Notify;

/// Wake-ups that may wait before they are all handed over together.
const BATCH_MAX: usize = 8;

/// The ticker's interval: the longest a wake-up waits in the batch when
/// nothing else hands it over (tokio's timers have millisecond resolution).
const TICK: Duration = Duration::from_millis(1);

thread_local! {
    /// This worker thread took its current request with more queued behind
    /// it. False on every other thread (e.g. one the application started
    /// and calls `write` from), whose wake-ups are never held back.
    static WORKER_BUSY: Cell<bool> = const { Cell::new(false) };
}

#[derive(Debug, Default)]
struct State {
    /// Inline: handing a batch over allocates nothing (a worker's hot path).
    wakers: SmallVec<[Waker; BATCH_MAX]>,
    /// The ticker runs: wake-ups may wait.
    ticking: bool,
    /// A wake-up waited since the ticker's last look.
    deferred_since_tick: bool,
}

#[derive(Debug, Default)]
pub struct WakeBatch {
    /// I/O threads parked now (kept by the runtime's park hooks).
    parked: AtomicUsize,
    /// Wake-ups waiting in `state`, read without its lock on hot paths.
    waiting: AtomicUsize,
    state: Mutex<State>,
    /// Starts the ticker.
    start: Notify,
}

impl WakeBatch {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Says whether the calling worker thread has more requests queued
    /// behind the one it starts (false when it goes idle).
    pub fn set_worker_busy(busy: bool) {
        WORKER_BUSY.set(busy);
    }

    /// Wakes `task` now, or leaves it in the batch (see the module comment).
    pub fn wake(&self, task: Waker) {
        if !WORKER_BUSY.get() || self.parked.load(Ordering::Acquire) == 0 {
            task.wake();
            return;
        }
        let mut state = self.lock();
        if !state.ticking {
            // The first of a busy spell goes at once and starts the ticker
            // (the I/O thread is being woken anyway).
            state.ticking = true;
            drop(state);
            task.wake();
            self.start.notify_one();
            return;
        }
        state.wakers.push(task);
        state.deferred_since_tick = true;
        if state.wakers.len() < BATCH_MAX {
            self.waiting.store(state.wakers.len(), Ordering::Release);
            return;
        }
        self.hand_over(state);
    }

    /// Hands every waiting wake-up over now.
    pub fn release(&self) {
        if self.waiting.load(Ordering::Acquire) > 0 {
            self.hand_over(self.lock());
        }
    }

    fn hand_over(&self, mut state: MutexGuard<'_, State>) {
        let wakers = std::mem::take(&mut state.wakers);
        self.waiting.store(0, Ordering::Release);
        drop(state);
        for waker in wakers {
            waker.wake();
        }
    }

    /// An I/O thread is about to park (tokio's `on_thread_park`). It does
    /// not take the batch: tasks woken there would wait in tokio's global
    /// queue while the thread sleeps (it looks there only once it is up).
    pub fn on_park(&self) {
        self.parked.fetch_add(1, Ordering::AcqRel);
    }

    /// An I/O thread woke up (tokio's `on_thread_unpark`).
    pub fn on_unpark(&self) {
        self.parked.fetch_sub(1, Ordering::AcqRel);
        self.release();
    }

    /// The ticker: runs on the I/O runtime for the server's life, ticking
    /// only while wake-ups are being batched.
    pub async fn run_ticker(self: Arc<Self>) {
        loop {
            self.start.notified().await;
            loop {
                tokio::time::sleep(TICK).await;
                let mut state = self.lock();
                let busy = std::mem::take(&mut state.deferred_since_tick);
                if !busy {
                    // A quiet tick ends the spell: no more wake-ups wait
                    // until a worker starts the ticker again.
                    state.ticking = false;
                }
                self.hand_over(state);
                if !busy {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count::default());
        let waker = Waker::from(Arc::clone(&count));
        (count, waker)
    }

    fn woken(count: &Count) -> usize {
        count.0.load(Ordering::SeqCst)
    }

    /// A batch whose ticker counts as running, as in a busy spell.
    fn ticking() -> WakeBatch {
        let batch = WakeBatch::default();
        batch.lock().ticking = true;
        batch.parked.store(1, Ordering::SeqCst);
        batch
    }

    #[test]
    fn an_idle_worker_or_a_busy_io_thread_wakes_at_once() {
        let batch = ticking();
        let (count, waker) = counter();
        WakeBatch::set_worker_busy(false);
        batch.wake(waker.clone());
        assert_eq!(woken(&count), 1, "no request queued");
        WakeBatch::set_worker_busy(true);
        batch.parked.store(0, Ordering::SeqCst);
        batch.wake(waker);
        assert_eq!(woken(&count), 2, "no I/O thread parked");
        WakeBatch::set_worker_busy(false);
    }

    #[test]
    fn the_first_wake_of_a_busy_spell_goes_at_once_and_starts_the_ticker() {
        let batch = WakeBatch::default();
        batch.parked.store(1, Ordering::SeqCst);
        let (count, waker) = counter();
        WakeBatch::set_worker_busy(true);
        batch.wake(waker.clone());
        assert_eq!(woken(&count), 1);
        assert!(batch.lock().ticking);
        batch.wake(waker);
        assert_eq!(woken(&count), 1, "the second one waits");
        WakeBatch::set_worker_busy(false);
    }

    #[test]
    fn waiting_wakes_go_together_at_the_batch_limit_or_on_release() {
        let batch = ticking();
        let (count, waker) = counter();
        WakeBatch::set_worker_busy(true);
        for _ in 0..BATCH_MAX - 1 {
            batch.wake(waker.clone());
        }
        assert_eq!(woken(&count), 0);
        batch.wake(waker.clone());
        assert_eq!(woken(&count), BATCH_MAX);
        batch.wake(waker);
        assert_eq!(woken(&count), BATCH_MAX);
        batch.release();
        assert_eq!(woken(&count), BATCH_MAX + 1);
        WakeBatch::set_worker_busy(false);
    }

    #[test]
    fn an_io_thread_takes_the_batch_when_it_wakes() {
        let batch = ticking();
        let (count, waker) = counter();
        WakeBatch::set_worker_busy(true);
        batch.wake(waker);
        batch.on_park();
        assert_eq!(woken(&count), 0, "not on its way to sleep");
        batch.on_unpark();
        assert_eq!(woken(&count), 1);
        WakeBatch::set_worker_busy(false);
    }

    #[tokio::test]
    async fn the_ticker_hands_over_and_stops_after_a_quiet_tick() {
        let batch = Arc::new(WakeBatch::default());
        batch.parked.store(1, Ordering::SeqCst);
        let ticker = tokio::spawn(Arc::clone(&batch).run_ticker());
        let (count, waker) = counter();
        WakeBatch::set_worker_busy(true);
        batch.wake(waker.clone()); // starts the ticker
        batch.wake(waker);
        WakeBatch::set_worker_busy(false);
        assert_eq!(woken(&count), 1);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while woken(&count) < 2 || batch.lock().ticking {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the ticker never ran"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(batch.waiting.load(Ordering::SeqCst), 0);
        ticker.abort();
    }
}
