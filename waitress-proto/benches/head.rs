//! Head parsing: waitress-proto next to httparse on the same inputs.
//! Filled in below (phase 2).
fn main() {}
