//! The hand-off of response bytes from a worker thread to the connection task.
//!
//! One channel serves a connection for its whole life (responses are
//! produced one at a time, in order); each request's worker gets its own
//! `ResponseSender` from it.
//!
//! Workers never touch sockets (CVE-2022-31015): they push ready-framed byte
//! segments here and the connection task writes them in order. Pending output
//! is budgeted in bytes (`outbuf_high_watermark`, R-13): a worker that gets
//! ahead of a slow client waits (without the GIL) until the client drains it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use bytes::Bytes;
use smallvec::SmallVec;
use tokio::sync::mpsc;

use crate::backlog::Backlog;
use crate::transport::FileRegion;

/// The byte segments of one hand-off. Usually one (the exchange packs small
/// pieces into shared blocks), so they are kept inline: no allocation per
/// hand-off, which a worker would make and the connection task free.
pub type Segments = SmallVec<[Bytes; 2]>;

/// One hand-off: byte segments to write, then optionally a file region
/// (sent zero-copy), and whether the response ends here.
#[derive(Debug, Default)]
pub struct Output {
    pub segments: Segments,
    pub file: Option<FileRegion>,
    pub end: Option<End>,
}

impl Output {
    /// Bytes this hand-off puts on the wire.
    pub fn byte_len(&self) -> usize {
        let file = self
            .file
            .as_ref()
            .map_or(0, |f| usize::try_from(f.len).unwrap_or(usize::MAX));
        self.segments
            .iter()
            .map(Bytes::len)
            .fold(file, usize::saturating_add)
    }
}

/// How a response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Complete; keep the connection if `keep_alive`.
    Complete { keep_alive: bool },
    /// Broken off after the head went out: close without more bytes.
    Abort,
}

/// The client went away; the worker stops producing output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnected;

/// Output bytes handed over but not yet written, and whether a worker
/// waits for them to drain.
#[derive(Debug, Default)]
struct Budget {
    pending: usize,
    /// Of `pending`, the bytes counted in the server's backlog: handed over
    /// while the connection task was not busy writing.
    counted: usize,
    /// The connection task is writing (maybe blocked on a slow client).
    writing: bool,
    /// Workers blocked in `RoomWaiter::wait`. A condvar notify is a system
    /// call even when nobody waits, and `release` runs on every write.
    waiters: usize,
}

#[derive(Debug)]
struct Shared {
    budget: Mutex<Budget>,
    room: Condvar,
    disconnected: Arc<AtomicBool>,
    /// The receiver is gone (its connection task finished with this response).
    closed: AtomicBool,
    high_watermark: usize,
    backlog: Arc<Backlog>,
}

impl Shared {
    fn gone(&self) -> bool {
        self.closed.load(Ordering::Acquire) || self.disconnected.load(Ordering::Acquire)
    }
}

/// The connection's end that hands out a sender per request.
#[derive(Debug)]
pub struct ResponseChannel {
    tx: mpsc::UnboundedSender<Output>,
    shared: Arc<Shared>,
}

impl ResponseChannel {
    /// The worker side for the next response.
    pub fn sender(&self) -> ResponseSender {
        ResponseSender {
            tx: self.tx.clone(),
            shared: Arc::clone(&self.shared),
            ended: false,
        }
    }
}

/// Worker side, for one response.
#[derive(Debug)]
pub struct ResponseSender {
    tx: mpsc::UnboundedSender<Output>,
    shared: Arc<Shared>,
    /// An output with an end was sent.
    ended: bool,
}

impl Drop for ResponseSender {
    /// A response dropped without an end (a worker that failed in an
    /// unforeseen way) breaks the connection off rather than leaving the
    /// connection task waiting forever.
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.tx.send(Output {
                segments: Segments::new(),
                file: None,
                end: Some(End::Abort),
            });
        }
    }
}

/// Connection side.
#[derive(Debug)]
pub struct ResponseReceiver {
    rx: mpsc::UnboundedReceiver<Output>,
    shared: Arc<Shared>,
}

/// The response channel of one connection. `disconnected` is the
/// connection's flag, also shown to the app as `waitress.client_disconnected`.
pub fn channel(
    high_watermark: usize,
    disconnected: Arc<AtomicBool>,
    backlog: Arc<Backlog>,
) -> (ResponseChannel, ResponseReceiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        budget: Mutex::new(Budget::default()),
        room: Condvar::new(),
        disconnected,
        closed: AtomicBool::new(false),
        high_watermark,
        backlog,
    });
    (
        ResponseChannel {
            tx,
            shared: Arc::clone(&shared),
        },
        ResponseReceiver { rx, shared },
    )
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Budget> {
    // The counters stay meaningful even if a holder panicked.
    shared.budget.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wakes waiting workers, if any.
fn notify_waiters(shared: &Shared) {
    if lock(shared).waiters > 0 {
        shared.room.notify_all();
    }
}

impl ResponseSender {
    /// Queues output without blocking.
    pub fn send(&mut self, output: Output) -> Result<(), Disconnected> {
        if output.end.is_some() {
            self.ended = true;
        }
        let bytes = output.byte_len();
        {
            let mut budget = lock(&self.shared);
            // Checked under the lock the receiver's drop takes: bytes
            // counted in the backlog are always taken out again.
            if self.shared.gone() {
                return Err(Disconnected);
            }
            budget.pending += bytes;
            if !budget.writing {
                budget.counted += bytes;
                self.shared.backlog.add(bytes);
            }
        }
        self.tx.send(output).map_err(|_| Disconnected)
    }

    /// Output handed over but not yet written to the socket.
    pub fn pending(&self) -> usize {
        lock(&self.shared).pending
    }

    /// True when the worker should wait for the client before producing more.
    pub fn over_watermark(&self) -> bool {
        lock(&self.shared).pending > self.shared.high_watermark
    }

    /// A handle to wait for room without borrowing the sender.
    pub fn waiter(&self) -> RoomWaiter {
        RoomWaiter(Arc::clone(&self.shared))
    }

    pub fn is_disconnected(&self) -> bool {
        self.shared.gone()
    }
}

/// Waits until pending output is at or below the watermark, or the client
/// is gone. Used without holding the GIL.
#[derive(Debug, Clone)]
pub struct RoomWaiter(Arc<Shared>);

impl RoomWaiter {
    pub fn wait(&self) -> Result<(), Disconnected> {
        let shared = &self.0;
        let mut budget = lock(shared);
        while budget.pending > shared.high_watermark {
            if shared.gone() {
                return Err(Disconnected);
            }
            budget.waiters += 1;
            budget = shared.room.wait(budget).unwrap_or_else(|e| e.into_inner());
            budget.waiters -= 1;
        }
        if shared.gone() {
            return Err(Disconnected);
        }
        Ok(())
    }
}

impl ResponseReceiver {
    /// Next hand-off; None only once every sender is gone.
    pub async fn recv(&mut self) -> Option<Output> {
        self.rx.recv().await
    }

    /// Another hand-off if one is already waiting (to batch writes).
    pub fn try_recv(&mut self) -> Option<Output> {
        self.rx.try_recv().ok()
    }

    /// The task is about to write what it took: that output leaves the
    /// server's backlog, and output handed over until `release` does not
    /// join it (a slow client must not hold up other workers).
    pub fn begin_write(&self) {
        let mut budget = lock(&self.shared);
        budget.writing = true;
        let counted = std::mem::take(&mut budget.counted);
        self.shared.backlog.remove(counted);
    }

    /// `bytes` reached the socket: make room for the worker.
    pub fn release(&self, bytes: usize) {
        let mut budget = lock(&self.shared);
        budget.writing = false;
        budget.pending = budget.pending.saturating_sub(bytes);
        if budget.waiters > 0 && budget.pending <= self.shared.high_watermark {
            self.shared.room.notify_all();
        }
    }

    /// The client is gone: wake and stop the worker.
    pub fn disconnect(&self) {
        self.shared.disconnected.store(true, Ordering::Release);
        notify_waiters(&self.shared);
    }
}

impl Drop for ResponseReceiver {
    fn drop(&mut self) {
        // A receiver dropped mid-response (connection task ended) must never
        // leave a worker waiting for room, nor its bytes in the backlog.
        let counted = {
            let mut budget = lock(&self.shared);
            self.shared.closed.store(true, Ordering::Release);
            std::mem::take(&mut budget.counted)
        };
        self.shared.backlog.remove(counted);
        notify_waiters(&self.shared);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn out(data: &'static [u8]) -> Output {
        Output {
            segments: smallvec::smallvec![Bytes::from_static(data)],
            file: None,
            end: None,
        }
    }

    #[test]
    fn send_counts_pending_bytes_and_release_makes_room() {
        let (ch, rx) = channel(4, Arc::new(AtomicBool::new(false)), Arc::default());
        let mut tx = ch.sender();
        tx.send(out(b"hello")).unwrap();
        assert!(tx.over_watermark());
        rx.release(5);
        assert!(!tx.over_watermark());
    }

    #[test]
    fn the_backlog_counts_output_only_while_the_task_is_not_writing() {
        let backlog = Arc::new(Backlog::with_limit(4));
        let (ch, mut rx) = channel(1024, Arc::new(AtomicBool::new(false)), Arc::clone(&backlog));
        let mut tx = ch.sender();
        tx.send(out(b"hello")).unwrap();
        assert!(
            backlog.is_over(),
            "waiting for a task that is free to write"
        );
        let got = rx.try_recv().unwrap();
        rx.begin_write();
        assert!(!backlog.is_over(), "taken to be written");
        // A slow client: the task is stuck writing; more output piles up
        // for it without holding up other workers.
        tx.send(out(b"world!")).unwrap();
        tx.send(out(b"again")).unwrap();
        assert!(!backlog.is_over());
        rx.release(got.byte_len());
        tx.send(out(b"after")).unwrap();
        assert!(backlog.is_over(), "the task is free again");
        // Whatever is still counted leaves with the connection.
        drop(rx);
        assert!(!backlog.is_over());
        assert_eq!(tx.send(out(b"late")), Err(Disconnected));
        assert!(!backlog.is_over());
    }

    #[test]
    fn waiting_worker_wakes_when_client_drains() {
        let (ch, mut rx) = channel(2, Arc::new(AtomicBool::new(false)), Arc::default());
        let mut tx = ch.sender();
        tx.send(out(b"abcdef")).unwrap();
        let waiter = std::thread::spawn(move || tx.waiter().wait());
        std::thread::sleep(Duration::from_millis(20));
        let got = rx.try_recv().unwrap();
        rx.release(got.segments[0].len());
        assert_eq!(waiter.join().unwrap(), Ok(()));
    }

    #[test]
    fn waiting_worker_is_released_by_disconnect() {
        let (ch, rx) = channel(2, Arc::new(AtomicBool::new(false)), Arc::default());
        let mut tx = ch.sender();
        tx.send(out(b"abcdef")).unwrap();
        let waiter = std::thread::spawn(move || {
            let r = tx.waiter().wait();
            (r, tx.send(out(b"x")))
        });
        std::thread::sleep(Duration::from_millis(20));
        rx.disconnect();
        let (waited, sent) = waiter.join().unwrap();
        assert_eq!(waited, Err(Disconnected));
        assert_eq!(sent, Err(Disconnected));
    }

    #[tokio::test]
    async fn a_sender_dropped_without_an_end_aborts_the_response() {
        let (ch, mut rx) = channel(1024, Arc::new(AtomicBool::new(false)), Arc::default());
        let mut tx = ch.sender();
        tx.send(out(b"head")).unwrap();
        drop(tx);
        assert_eq!(rx.recv().await.unwrap().end, None);
        assert_eq!(rx.recv().await.unwrap().end, Some(End::Abort));
        // A sender that ended its response adds nothing on drop.
        let mut tx = ch.sender();
        tx.send(Output {
            end: Some(End::Complete { keep_alive: true }),
            ..Output::default()
        })
        .unwrap();
        drop(tx);
        assert!(rx.recv().await.unwrap().end.is_some());
        assert!(rx.try_recv().is_none());
    }
}
