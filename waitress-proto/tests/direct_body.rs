//! `body_remaining` / `consume_body`: a caller that reads Content-Length
//! body bytes into its own storage must see exactly what `poll` would have
//! given it, wherever the input is split.

mod support;

use bytes::BytesMut;
use proptest::prelude::*;
use support::{Item, Outcome, feed};
use waitress_proto::{Event, Limits, RequestParser};

/// Like `support::feed`, but body bytes are taken straight from the input
/// whenever the read buffer is empty and the parser expects a length body.
fn feed_direct(pieces: &[&[u8]], limits: Limits) -> Outcome {
    let mut parser = RequestParser::new(limits);
    let mut buf = BytesMut::new();
    let mut items: Vec<Item> = Vec::new();
    let body = |items: &mut Vec<Item>, data: &[u8]| match items.last_mut() {
        Some(Item::Body(b)) => b.extend_from_slice(data),
        _ => items.push(Item::Body(data.to_vec())),
    };
    for piece in pieces {
        let mut rest: &[u8] = piece;
        loop {
            if buf.is_empty()
                && let Some(remaining) = parser.body_remaining()
                && remaining > 0
                && !rest.is_empty()
            {
                let take = rest.len().min(usize::try_from(remaining).unwrap());
                assert!(parser.consume_body(take as u64));
                body(&mut items, &rest[..take]);
                rest = &rest[take..];
                continue;
            }
            match parser.poll(&mut buf) {
                Ok(None) => {
                    if rest.is_empty() {
                        break;
                    }
                    // Hand the parser the rest of this piece the usual way.
                    buf.extend_from_slice(rest);
                    rest = &[];
                }
                Ok(Some(Event::Head(h))) => items.push(Item::Head(h)),
                Ok(Some(Event::Data(d))) => body(&mut items, &d),
                Ok(Some(Event::End)) => items.push(Item::End),
                Err(e) => {
                    items.push(Item::Error(e));
                    return Outcome {
                        items,
                        leftover: Vec::new(),
                    };
                }
            }
        }
    }
    Outcome {
        items,
        leftover: buf.to_vec(),
    }
}

fn check_every_split(input: &[u8]) {
    let limits = Limits::default();
    let expected = feed(&[input], limits);
    assert_eq!(feed_direct(&[input], limits), expected, "whole");
    for i in 0..=input.len() {
        let (a, b) = input.split_at(i);
        assert_eq!(feed_direct(&[a, b], limits), expected, "split at {i}");
    }
    let singles: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(feed_direct(&singles, limits), expected, "byte by byte");
}

#[test]
fn pipelined_length_bodies_read_directly_match_poll() {
    check_every_split(
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
    check_every_split(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
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
