//! Direct body reads as the server does them, shared by the split-point test
//! driver (`support`) and the fuzz invariants (`fuzz_checks`).
#![allow(dead_code)]

use waitress_proto::RequestParser;

/// When nothing is buffered and the parser is waiting for Content-Length
/// body bytes, takes up to that many from the front of `rest` through
/// `body_remaining` / `consume_body` and returns them.
pub fn take_direct<'a>(
    parser: &mut RequestParser,
    buffered: usize,
    rest: &mut &'a [u8],
) -> Option<&'a [u8]> {
    if buffered > 0 || rest.is_empty() {
        return None;
    }
    let remaining = parser.body_remaining().filter(|&r| r > 0)?;
    let take = usize::try_from(remaining).map_or(rest.len(), |r| r.min(rest.len()));
    assert!(parser.consume_body(take as u64));
    let (taken, left) = rest.split_at(take);
    *rest = left;
    Some(taken)
}
