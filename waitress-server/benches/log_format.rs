//! The cost of formatting one log line, here the `Task queue depth`
//! warning a busy server logs for every queued request: waitress's line
//! format with our field formatter (escaping a run of ordinary characters
//! at a time) against tracing-subscriber's default field formatter (which
//! escapes character by character), both writing to a null device.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tracing::Dispatch;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::DefaultFields;
use waitress_server::logging::{QUEUE_LOGGER, WaitressFields, WaitressFormat};

fn dispatch<N>(fields: N) -> Dispatch
where
    N: for<'w> FormatFields<'w> + Send + Sync + 'static,
{
    Dispatch::new(
        tracing_subscriber::fmt()
            .with_writer(std::io::sink)
            .with_ansi(false)
            .event_format(WaitressFormat)
            .fmt_fields(fields)
            .finish(),
    )
}

fn log_format(c: &mut Criterion) {
    let mut group = c.benchmark_group("Task queue depth line");
    for (name, dispatch) in [
        ("waitress fields", dispatch(WaitressFields)),
        ("default fields", dispatch(DefaultFields::new())),
    ] {
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function(name, |b| {
                b.iter(|| {
                    let depth = black_box(17);
                    tracing::warn!(target: QUEUE_LOGGER, "Task queue depth is {depth}");
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, log_format);
criterion_main!(benches);
