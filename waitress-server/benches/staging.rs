//! The per-request Rust work before Python runs: parsing a typical browser
//! request, staging its CGI variables and applying the default proxy rules
//! (clearing untrusted proxy headers).

mod browser;

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use waitress_proxy::ProxyConfig;
use waitress_server::internals::stage_environ;

use browser::BROWSER_REQUEST;

fn staging(c: &mut Criterion) {
    let conn = browser::conn();
    let settings = browser::settings();
    let proxy = ProxyConfig::new(None, None, &[], true, false).expect("default proxy settings");
    c.bench_function("parse + stage + proxy (browser request)", |b| {
        b.iter(|| {
            let mut head = browser::parse(black_box(BROWSER_REQUEST));
            let mut staged = stage_environ(&mut head, 0, &conn, &settings);
            waitress_proxy::apply(&proxy, &mut staged).expect("untrusted peer");
            black_box(staged)
        })
    });
}

criterion_group!(benches, staging);
criterion_main!(benches);
