//! A worker handing a response to its connection task every 20 us of its
//! own work (a quick app under load, the `flask` workload in miniature)
//! while the I/O thread parks in between: each hand-off waking the task at
//! once, against busy-worker batching (`WakeBatch`). The difference per
//! iteration is what the wake-up costs the worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use waitress_server::internals::{Output, WakeBatch, channel};

/// The worker's own work between two hand-offs.
const WORK: Duration = Duration::from_micros(20);

fn work() {
    let until = Instant::now() + WORK;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

fn hand_offs(c: &mut Criterion) {
    let wakes = Arc::new(WakeBatch::default());
    let (parking, unparking) = (Arc::clone(&wakes), Arc::clone(&wakes));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_park(move || parking.on_park())
        .on_thread_unpark(move || unparking.on_unpark())
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.spawn(Arc::clone(&wakes).run_ticker());
    let (responses, mut rx) = channel(
        16 << 20,
        Arc::new(AtomicBool::new(false)),
        Arc::default(),
        Arc::clone(&wakes),
    );
    let taken = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&taken);
    runtime.spawn(async move {
        while let Some(output) = rx.recv().await {
            rx.release(output.byte_len());
            counted.fetch_add(1, Ordering::Relaxed);
        }
    });
    let mut sender = responses.sender();
    let mut sent = 0;
    let mut group = c.benchmark_group("a hand-off every 20 us of worker time");
    for (name, busy) in [("woken at once", false), ("batched", true)] {
        WakeBatch::set_worker_busy(busy);
        group.bench_function(name, |b| {
            b.iter(|| {
                work();
                let output = Output {
                    segments: smallvec::smallvec![Bytes::from_static(b"HTTP/1.1 200 OK\r\n\r\n")],
                    file: None,
                    end: None,
                };
                sender.send(output).expect("connected");
                sent += 1;
            });
        });
        WakeBatch::set_worker_busy(false);
        wakes.release();
    }
    group.finish();
    // Every hand-off reached the task.
    let deadline = Instant::now() + Duration::from_secs(30);
    while taken.load(Ordering::Relaxed) < sent {
        assert!(Instant::now() < deadline, "hand-offs were lost");
        std::thread::sleep(Duration::from_millis(1));
    }
}

criterion_group!(benches, hand_offs);
criterion_main!(benches);
