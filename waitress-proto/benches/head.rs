//! Head parsing: waitress-proto next to httparse on the same inputs.
//!
//! `waitress-proto` does more than httparse here: it validates every rule of
//! sections 1-5 and builds an owned `RequestHead` (latin-1 strings, decoded
//! path, keep-alive decision); httparse only tokenizes into borrowed slices.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use waitress_proto::{Event, Limits, RequestParser};

const BROWSER: &[u8] = b"GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n\
Host: www.kittyhell.com\r\n\
User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_6_3; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n\
Accept-Encoding: gzip,deflate\r\n\
Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n\
Keep-Alive: 115\r\n\
Connection: keep-alive\r\n\
Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral\r\n\r\n";

fn hundred_headers() -> Vec<u8> {
    let mut v = b"POST /api/v1/items?id=42 HTTP/1.1\r\nHost: example.com\r\n".to_vec();
    for i in 0..99 {
        v.extend_from_slice(
            format!("X-Custom-Header-{i}: some value number {i} with a few words\r\n").as_bytes(),
        );
    }
    v.extend_from_slice(b"\r\n");
    v
}

fn ours(input: &[u8]) -> usize {
    let mut parser = RequestParser::new(Limits::default());
    let mut buf = BytesMut::from(input);
    match parser.poll(&mut buf) {
        Ok(Some(Event::Head(h))) => h.headers.len(),
        other => panic!("unexpected {other:?}"),
    }
}

fn theirs(input: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(input) {
        Ok(httparse::Status::Complete(_)) => req.headers.len(),
        other => panic!("unexpected {other:?}"),
    }
}

/// httparse plus the owned copies of the fields that `RequestHead` holds, to
/// separate tokenizing cost from allocation cost.
fn theirs_owned(input: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(input) {
        Ok(httparse::Status::Complete(_)) => {
            let owned: Vec<(String, String)> = req
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_owned(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            let target = req.path.map(str::to_owned);
            owned.len() + target.map_or(0, |t| t.len())
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn bench(c: &mut Criterion) {
    let hundred = hundred_headers();
    for (name, input) in [("browser", BROWSER), ("100_headers", &hundred[..])] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function("waitress-proto", |b| b.iter(|| ours(black_box(input))));
        group.bench_function("httparse", |b| b.iter(|| theirs(black_box(input))));
        group.bench_function("httparse+owned", |b| {
            b.iter(|| theirs_owned(black_box(input)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
