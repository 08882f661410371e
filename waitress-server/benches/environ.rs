//! A worker turning a staged browser request into the WSGI environ dict:
//! the template copy, the CGI variables and the header keys (the common
//! ones come ready-made from the template, the rest are new strings).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use bytes::BytesMut;
use criterion::{Criterion, criterion_group, criterion_main};
use pyo3::prelude::*;
use waitress_core::BodyReader;
use waitress_proto::{Event, Limits, RequestParser};
use waitress_server::internals::{
    ConnInfo, EnvironSettings, EnvironTemplate, Staged, initialize_python, stage_environ,
};

const BROWSER_REQUEST: &[u8] = b"GET /articles/42?ref=home&lang=en HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Connection: keep-alive\r\n\
Referer: https://www.example.com/\r\n\
Cookie: session=abc123; theme=dark\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: document\r\n\
Sec-Fetch-Mode: navigate\r\n\
Sec-Fetch-Site: same-origin\r\n\
X-Custom-Trace: 7f3a\r\n\
\r\n";

fn staged(settings: &EnvironSettings) -> Staged {
    let conn = ConnInfo {
        remote_addr: "127.0.0.1".into(),
        remote_port: "51234".into(),
        server_port: "8080".into(),
    };
    let mut parser = RequestParser::new(Limits::default());
    let mut buf = BytesMut::from(BROWSER_REQUEST);
    let Ok(Some(Event::Head(mut head))) = parser.poll(&mut buf) else {
        panic!("the request parses");
    };
    stage_environ(&mut head, 0, &conn, settings)
}

fn environ(c: &mut Criterion) {
    initialize_python(None).expect("Python starts");
    let settings = EnvironSettings {
        url_prefix: String::new(),
        url_scheme: "http".into(),
        server_name: "waitress.invalid".into(),
    };
    let staged = staged(&settings);
    let disconnected = Arc::new(AtomicBool::new(false));
    let template =
        Python::attach(|py| EnvironTemplate::new(py, None, false, &settings)).expect("template");
    Python::attach(|py| {
        c.bench_function("environ of a browser request (14 headers)", |b| {
            b.iter(|| {
                let env = template
                    .build(py, black_box(&staged), &disconnected, BodyReader::empty())
                    .expect("environ");
                black_box(env.len())
            })
        });
    });
}

criterion_group!(benches, environ);
criterion_main!(benches);
