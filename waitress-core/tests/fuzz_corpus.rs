//! Replays the committed seed corpus of the `settings` fuzz target on
//! stable, so every seed (and every crash later added to the corpus) stays
//! a regression test without nightly.

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/settings");

#[test]
fn seed_corpus_replays_without_panics() {
    let mut entries: Vec<_> = std::fs::read_dir(CORPUS)
        .expect("the seed corpus is committed")
        .map(|entry| entry.expect("readable corpus entry").path())
        .collect();
    entries.sort();
    assert!(
        entries.len() >= 20,
        "seed corpus too small: {}",
        entries.len()
    );
    for path in entries {
        let data = std::fs::read(&path).expect("readable seed");
        waitress_core::fuzzing::run(&data);
    }
}

#[test]
fn seeds_reach_both_outcomes() {
    use waitress_core::fuzzing::{args_from_bytes, command_line};
    let good = std::fs::read(format!("{CORPUS}/k01-waitress-serve-line")).expect("seed");
    assert!(command_line(&args_from_bytes(&good[1..])).is_ok());
    let bad = std::fs::read(format!("{CORPUS}/conflict-listen-port")).expect("seed");
    let err = command_line(&args_from_bytes(&bad[1..])).expect_err("conflict");
    assert_eq!(
        err.message(),
        "host or port may not be set if listen is set."
    );
}
