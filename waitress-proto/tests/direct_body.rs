//! `body_remaining` / `consume_body`: a caller that reads Content-Length
//! body bytes (B-04) into its own storage must see exactly what `poll` would have
//! given it, wherever the input is split. (`support::parse_all`, used by
//! every rule test, checks direct reads too.)

mod support;

use bytes::BytesMut;
use proptest::prelude::*;
use support::{feed, feed_direct, parse};
use waitress_proto::{Event, Limits, RequestParser};

#[test]
fn b04_pipelined_length_bodies_read_directly_match_poll() {
    parse(
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world\
          POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc\
          GET /c HTTP/1.1\r\nHost: x\r\n\r\nGET /d",
    );
}

#[test]
fn chunked_bodies_are_never_offered_for_direct_reads() {
    let mut parser = RequestParser::new(Limits::default());
    let mut buf =
        BytesMut::from(&b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"[..]);
    assert!(matches!(parser.poll(&mut buf), Ok(Some(Event::Head(_)))));
    assert_eq!(parser.body_remaining(), None);
    assert!(!parser.consume_body(1));
    parse(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
}

#[test]
fn consuming_more_than_remains_is_refused() {
    let mut parser = RequestParser::new(Limits::default());
    assert_eq!(parser.body_remaining(), None, "no body before a head");
    let mut buf = BytesMut::from(&b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n"[..]);
    assert!(matches!(parser.poll(&mut buf), Ok(Some(Event::Head(_)))));
    assert_eq!(parser.body_remaining(), Some(4));
    assert!(!parser.consume_body(5));
    assert_eq!(parser.body_remaining(), Some(4));
    assert!(parser.consume_body(4));
    assert_eq!(parser.body_remaining(), Some(0));
    assert_eq!(parser.poll(&mut buf), Ok(Some(Event::End)));
    assert_eq!(parser.body_remaining(), None);
}

proptest! {
    #[test]
    fn random_length_bodies_match_poll(
        bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..4),
        cuts in proptest::collection::vec(0usize..400, 0..6),
    ) {
        let mut input = Vec::new();
        for body in &bodies {
            input.extend_from_slice(
                format!("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", body.len())
                    .as_bytes(),
            );
            input.extend_from_slice(body);
        }
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(input.len())).collect();
        cuts.sort_unstable();
        let mut pieces = Vec::new();
        let mut at = 0;
        for cut in cuts {
            pieces.push(&input[at..cut]);
            at = cut;
        }
        pieces.push(&input[at..]);
        let limits = Limits::default();
        prop_assert_eq!(feed_direct(&pieces, limits), feed(&[&input], limits));
    }
}
