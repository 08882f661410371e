//! Replays the committed cargo-fuzz seed corpora (`fuzz/corpus/<target>/`)
//! through the same invariant checks the fuzz targets run, on stable Rust.

mod fuzz_checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    for file in files {
        let data = std::fs::read(&file).expect("corpus file");
        let result = std::panic::catch_unwind(|| check(&data));
        assert!(result.is_ok(), "{target}: {} fails", file.display());
    }
}

#[test]
fn corpus_request_head() {
    replay("request_head", fuzz_checks::request_head);
}

#[test]
fn corpus_chunked_decoder() {
    replay("chunked_decoder", fuzz_checks::chunked_decoder);
}

#[test]
fn corpus_pipelined_stream() {
    replay("pipelined_stream", fuzz_checks::pipelined_stream);
}

#[test]
fn corpus_response_encoder() {
    replay("response_encoder", fuzz_checks::response_encoder);
}
