//! The cost a connection task or worker pays per log line (e.g. `Task queue
//! depth` on every queued request under load): appending a formatted line
//! to the batched sink, with its writer thread draining to a null device.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::io::Write;
use tracing_subscriber::fmt::MakeWriter;
use waitress_server::internals::LogSink;

fn log_sink(c: &mut Criterion) {
    let (sink, guard) = LogSink::start(std::io::sink).expect("writer thread");
    let line = b"WARNING:waitress.queue:Task queue depth is 17\n";
    c.bench_function("log line into the batched sink", |b| {
        b.iter(|| {
            sink.make_writer()
                .write_all(black_box(line))
                .expect("sink accepts lines");
        })
    });
    drop(guard);
}

criterion_group!(benches, log_sink);
criterion_main!(benches);
