#![no_main]
//! Invariants live in waitress-proto/tests/fuzz_checks (replayed on stable).

#[path = "../../tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::pipelined_stream(data));
