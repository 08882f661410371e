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

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use smallvec::SmallVec;

use crate::backlog::Backlog;
use crate::transport::FileRegion;
use crate::wake_batch::WakeBatch;

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

/// The hand-offs not yet taken by the connection task, the output bytes
/// handed over but not yet written, and whether a worker waits for them to
/// drain. One lock for both: a worker's send takes it anyway to count
/// bytes, and a queue under it costs a connection a few hundred bytes where
/// a tokio mpsc channel allocates a 3 KiB block (memory per connection).
#[derive(Debug, Default)]
struct Budget {
    queue: VecDeque<Output>,
    /// The connection task waiting in `recv`.
    task: Option<Waker>,
    /// The `ResponseChannel` and live `ResponseSender`s: `recv` ends once
    /// none is left and the queue is empty.
    handles: usize,
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
    wakes: Arc<WakeBatch>,
}

impl Shared {
    fn gone(&self) -> bool {
        self.closed.load(Ordering::Acquire) || self.disconnected.load(Ordering::Acquire)
    }
}

/// The connection's end that hands out a sender per request.
#[derive(Debug)]
pub struct ResponseChannel {
    shared: Arc<Shared>,
}

impl ResponseChannel {
    /// The worker side for the next response.
    pub fn sender(&self) -> ResponseSender {
        lock(&self.shared).handles += 1;
        ResponseSender {
            shared: Arc::clone(&self.shared),
            ended: false,
        }
    }
}

impl Drop for ResponseChannel {
    fn drop(&mut self) {
        drop_handle(&self.shared, None);
    }
}

/// Worker side, for one response.
#[derive(Debug)]
pub struct ResponseSender {
    shared: Arc<Shared>,
    /// An output with an end was sent.
    ended: bool,
}

impl Drop for ResponseSender {
    /// A response dropped without an end (a worker that failed in an
    /// unforeseen way) breaks the connection off rather than leaving the
    /// connection task waiting forever.
    fn drop(&mut self) {
        let abort = (!self.ended).then(|| Output {
            segments: Segments::new(),
            file: None,
            end: Some(End::Abort),
        });
        drop_handle(&self.shared, abort);
    }
}

/// A handle goes, queueing its last output if any; the task is woken when
/// that output or the end of the channel is news to it.
fn drop_handle(shared: &Shared, last: Option<Output>) {
    let task = {
        let mut budget = lock(shared);
        budget.handles -= 1;
        // Nothing is queued for a receiver that is gone.
        let last = last.filter(|_| !shared.closed.load(Ordering::Acquire));
        let news = last.is_some() || budget.handles == 0;
        if let Some(output) = last {
            budget.queue.push_back(output);
        }
        if news { budget.task.take() } else { None }
    };
    if let Some(task) = task {
        task.wake();
    }
}

/// Connection side.
#[derive(Debug)]
pub struct ResponseReceiver {
    shared: Arc<Shared>,
}

/// The response channel of one connection. `disconnected` is the
/// connection's flag, also shown to the app as `waitress.client_disconnected`.
pub fn channel(
    high_watermark: usize,
    disconnected: Arc<AtomicBool>,
    backlog: Arc<Backlog>,
    wakes: Arc<WakeBatch>,
) -> (ResponseChannel, ResponseReceiver) {
    let shared = Arc::new(Shared {
        budget: Mutex::new(Budget {
            handles: 1,
            ..Budget::default()
        }),
        room: Condvar::new(),
        disconnected,
        closed: AtomicBool::new(false),
        high_watermark,
        backlog,
        wakes,
    });
    (
        ResponseChannel {
            shared: Arc::clone(&shared),
        },
        ResponseReceiver { shared },
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
        let task = {
            let mut budget = lock(&self.shared);
            // Checked under the lock the receiver's drop takes: bytes
            // counted in the backlog are always taken out again, and no
            // output is queued for a task that is gone.
            if self.shared.gone() {
                return Err(Disconnected);
            }
            budget.pending += bytes;
            if !budget.writing {
                budget.counted += bytes;
                self.shared.backlog.add(bytes);
            }
            budget.queue.push_back(output);
            budget.task.take()
        };
        // Woken outside the lock: the task's first act is to take it.
        if let Some(task) = task {
            self.shared.wakes.wake(task);
        }
        Ok(())
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
        // The task that would drain the output may be waiting in the batch.
        shared.wakes.release();
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
    /// Next hand-off; None only once the channel and every sender are
    /// gone. Cancel-safe: a hand-off is taken only when it is returned.
    pub async fn recv(&mut self) -> Option<Output> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<Output>> {
        let mut budget = lock(&self.shared);
        if let Some(output) = budget.queue.pop_front() {
            return Poll::Ready(Some(output));
        }
        if budget.handles == 0 {
            return Poll::Ready(None);
        }
        // A stream's burst may have grown the queue; an idle connection
        // keeps no more than a small one.
        if budget.queue.capacity() > KEPT_HANDOFFS {
            budget.queue = VecDeque::new();
        }
        match &budget.task {
            Some(task) if task.will_wake(cx.waker()) => {}
            _ => budget.task = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Another hand-off if one is already waiting (to batch writes).
    pub fn try_recv(&mut self) -> Option<Output> {
        lock(&self.shared).queue.pop_front()
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
        let (counted, unsent) = {
            let mut budget = lock(&self.shared);
            self.shared.closed.store(true, Ordering::Release);
            budget.task = None;
            (
                std::mem::take(&mut budget.counted),
                std::mem::take(&mut budget.queue),
            )
        };
        self.shared.backlog.remove(counted);
        notify_waiters(&self.shared);
        // Freed outside the lock (it may hold files and large buffers).
        drop(unsent);
    }
}

/// Hand-offs a connection's queue keeps room for while idle.
const KEPT_HANDOFFS: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A channel with its own flag, backlog and wake batch.
    fn plain(high_watermark: usize) -> (ResponseChannel, ResponseReceiver) {
        channel(
            high_watermark,
            Arc::new(AtomicBool::new(false)),
            Arc::default(),
            Arc::default(),
        )
    }

    fn out(data: &'static [u8]) -> Output {
        Output {
            segments: smallvec::smallvec![Bytes::from_static(data)],
            file: None,
            end: None,
        }
    }

    #[test]
    fn send_counts_pending_bytes_and_release_makes_room() {
        let (ch, rx) = plain(4);
        let mut tx = ch.sender();
        tx.send(out(b"hello")).unwrap();
        assert!(tx.over_watermark());
        rx.release(5);
        assert!(!tx.over_watermark());
    }

    #[test]
    fn the_backlog_counts_output_only_while_the_task_is_not_writing() {
        let backlog = Arc::new(Backlog::with_limit(4));
        let (ch, mut rx) = channel(
            1024,
            Arc::new(AtomicBool::new(false)),
            Arc::clone(&backlog),
            Arc::default(),
        );
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
        let (ch, mut rx) = plain(2);
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
        let (ch, rx) = plain(2);
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
        let (ch, mut rx) = plain(1024);
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

    #[tokio::test]
    async fn a_waiting_task_is_woken_by_a_send_from_another_thread() {
        let (ch, mut rx) = plain(1024);
        let mut tx = ch.sender();
        let worker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send(out(b"late")).unwrap();
            tx
        });
        let got = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("woken")
            .unwrap();
        assert_eq!(&got.segments[0][..], b"late");
        drop(worker.join().unwrap());
        // Abort from the sender's drop, then nothing more while the
        // channel can still hand out senders.
        assert_eq!(rx.recv().await.unwrap().end, Some(End::Abort));
        assert!(rx.try_recv().is_none());
    }

    #[tokio::test]
    async fn recv_ends_once_the_channel_and_every_sender_are_gone() {
        let (ch, mut rx) = plain(1024);
        let mut tx = ch.sender();
        tx.send(Output {
            end: Some(End::Complete { keep_alive: true }),
            ..Output::default()
        })
        .unwrap();
        drop(ch);
        let waiting = tokio::spawn(async move {
            let first = rx.recv().await;
            (first.is_some(), rx.recv().await.is_none())
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(tx);
        let (first, ended) = tokio::time::timeout(Duration::from_secs(30), waiting)
            .await
            .expect("woken by the last handle")
            .unwrap();
        assert!(first && ended);
    }

    #[test]
    fn a_sender_dropped_after_the_receiver_queues_nothing() {
        let (ch, rx) = plain(1024);
        let tx = ch.sender();
        drop(rx);
        drop(tx);
        assert!(lock(&ch.shared).queue.is_empty());
    }
}
