//! A worker turning a staged browser request into the WSGI environ dict:
//! the template copy, the CGI variables and the header keys (the common
//! ones come ready-made from the template, the rest are new strings).

mod browser;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use criterion::{Criterion, criterion_group, criterion_main};
use pyo3::prelude::*;
use waitress_core::BodyReader;
use waitress_server::internals::{EnvironTemplate, initialize_python, stage_environ};

use browser::BROWSER_REQUEST;

fn environ(c: &mut Criterion) {
    initialize_python(None).expect("Python starts");
    let settings = browser::settings();
    let mut head = browser::parse(BROWSER_REQUEST);
    let staged = stage_environ(&mut head, 0, &browser::conn(), &settings);
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
