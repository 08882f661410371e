//! Replays the committed seed corpus of the `apply` fuzz target on stable,
//! with the harness's own decoder and invariants (`fuzz/src/lib.rs`).

#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::path::Path;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/apply");

fn corpus_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(Path::new(CORPUS))
        .expect("the seed corpus is committed")
        .map(|entry| entry.expect("readable corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn fuzz_corpus_replays_without_violating_invariants() {
    let files = corpus_files();
    assert!(files.len() >= 10, "seed corpus too small: {}", files.len());
    for path in files {
        let data = std::fs::read(&path).expect("readable corpus file");
        harness::check(&data);
    }
}

#[test]
fn fuzz_decoder_reads_settings_peer_and_headers() {
    use waitress_proxy::ProxyHeader;
    // clear + log + count 2, trusted_proxy from field 0; trust XFF and XFP;
    // XFF and XFP present.
    let mut data = vec![0b1101_0111, 0b0000_1010, 0b0000_1010];
    data.extend_from_slice(
        b"10.0.0.0/8\x0010.1.2.3\x00fwd\x00192.0.2.1, 10.0.0.9\x00host\x00https",
    );
    let input = harness::Input::decode(&data);
    assert_eq!(input.trusted_proxy.as_deref(), Some("10.0.0.0/8"));
    assert_eq!(input.trusted_proxy_count, Some(2));
    assert_eq!(
        input.trusted_proxy_headers,
        ["x-forwarded-for", "x-forwarded-proto"]
    );
    assert!(input.clear && input.log);
    assert_eq!(input.peer, "10.1.2.3");
    assert_eq!(
        input.headers,
        [
            (ProxyHeader::XForwardedFor, "192.0.2.1, 10.0.0.9".to_owned()),
            (ProxyHeader::XForwardedProto, "https".to_owned()),
        ]
    );
    // Bytes above 0x7f decode as latin-1, and an empty input is valid.
    let latin = harness::Input::decode(&[0, 0, 0x02, 0, 0xe9, 0, 0, 0xa0]);
    assert_eq!(latin.peer, "\u{e9}");
    assert_eq!(
        latin.headers,
        [(ProxyHeader::XForwardedFor, "\u{a0}".to_owned())]
    );
    harness::check(&[]);
}
