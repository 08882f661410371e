//! A worker framing a streamed body: 100 chunks of 1 KiB from the app,
//! chunked transfer coding, each chunk handed to the connection task as the
//! app yields it (the `stream` workload of `cargo xtask bench`), and the
//! connection side taking every hand-off. And a short response (the
//! `hello` workload): head and 13-byte body handed over in one piece.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use waitress_proto::Version;
use waitress_server::internals::{BodyChunk, Exchange, RequestFacts, ResponseReceiver, channel};

const CHUNK: [u8; 1024] = [b'x'; 1024];
const CHUNKS: usize = 100;

fn facts() -> RequestFacts {
    RequestFacts {
        version: Version::Http11,
        head_request: false,
        request_keep_alive: true,
        shutting_down: Arc::new(AtomicBool::new(false)),
        ident: None,
        date: "Sat, 21 Nov 2026 12:00:00 GMT".into(),
        outbuf_overflow: 1 << 20,
    }
}

/// Takes every hand-off as the connection task would; returns the bytes.
fn drain(rx: &mut ResponseReceiver) -> usize {
    let mut total = 0;
    while let Some(output) = rx.try_recv() {
        let bytes = output.byte_len();
        rx.release(bytes);
        total += bytes;
    }
    total
}

fn framing(c: &mut Criterion) {
    let (responses, mut rx) = channel(
        16 << 20,
        Arc::new(AtomicBool::new(false)),
        Arc::default(),
        Arc::default(),
    );
    c.bench_function("stream: 100 x 1 KiB chunks framed and handed over", |b| {
        b.iter(|| {
            let mut exchange = Exchange::new(facts(), responses.sender());
            exchange.status = Some("200 OK".into());
            exchange
                .headers
                .push(("Content-Type".into(), "application/octet-stream".into()));
            let mut wire = 0;
            for _ in 0..CHUNKS {
                exchange
                    .push_body(BodyChunk::Borrowed(black_box(&CHUNK)))
                    .expect("a valid response");
                assert!(exchange.flush().expect("connected").is_none());
                wire += drain(&mut rx);
            }
            assert!(matches!(exchange.complete(), Ok(Ok(()))));
            wire += drain(&mut rx);
            black_box(wire)
        });
    });
    c.bench_function("hello: head and 13-byte body framed and handed over", |b| {
        b.iter(|| {
            let mut exchange = Exchange::new(facts(), responses.sender());
            exchange.status = Some("200 OK".into());
            exchange.headers.extend([
                ("Content-Type".into(), "text/plain".into()),
                ("Content-Length".into(), "13".into()),
            ]);
            exchange
                .push_body(BodyChunk::Borrowed(black_box(b"Hello, world!")))
                .expect("a valid response");
            assert!(matches!(exchange.complete(), Ok(Ok(()))));
            black_box(drain(&mut rx))
        });
    });
}

criterion_group!(benches, framing);
criterion_main!(benches);
