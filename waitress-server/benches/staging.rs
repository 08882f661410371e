//! The per-request Rust work before Python runs: parsing a typical browser
//! request, staging its CGI variables and applying the default proxy rules
//! (clearing untrusted proxy headers).

use bytes::BytesMut;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use waitress_proto::{Event, Limits, RequestParser};
use waitress_proxy::ProxyConfig;
use waitress_server::internals::{ConnInfo, EnvironSettings, stage_environ};

const BROWSER_REQUEST: &[u8] = b"GET /articles/42?ref=home&lang=en HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Connection: keep-alive\r\n\
Cookie: session=abc123; theme=dark\r\n\
Upgrade-Insecure-Requests: 1\r\n\
\r\n";

fn staging(c: &mut Criterion) {
    let conn = ConnInfo {
        remote_addr: "127.0.0.1".into(),
        remote_port: "51234".into(),
        server_port: "8080".into(),
    };
    let settings = EnvironSettings {
        url_prefix: String::new(),
        url_scheme: "http".into(),
        server_name: "waitress.invalid".into(),
    };
    let proxy = ProxyConfig::new(None, None, &[], true, false).expect("default proxy settings");
    c.bench_function("parse + stage + proxy (browser request)", |b| {
        b.iter(|| {
            let mut parser = RequestParser::new(Limits::default());
            let mut buf = BytesMut::from(black_box(BROWSER_REQUEST));
            let Ok(Some(Event::Head(mut head))) = parser.poll(&mut buf) else {
                panic!("the request parses");
            };
            let mut staged = stage_environ(&mut head, 0, &conn, &settings);
            waitress_proxy::apply(&proxy, &mut staged).expect("untrusted peer");
            black_box(staged)
        })
    });
}

criterion_group!(benches, staging);
criterion_main!(benches);
