//! Shared test driver: feeds an input whole, split at every byte, and one
//! byte at a time, and checks that every feeding gives the same outcome.
#![allow(dead_code)]

#[path = "../feeding/mod.rs"]
mod feeding;

use bytes::BytesMut;
use waitress_proto::{Event, Limits, ProtoError, RequestHead, RequestParser};

/// What a parser made of a byte stream, with body data concatenated so that
/// different splits compare equal.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Head(Box<RequestHead>),
    Body(Vec<u8>),
    End,
    Error(ProtoError),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub items: Vec<Item>,
    /// Bytes left in the buffer (only compared when there was no error).
    pub leftover: Vec<u8>,
}

impl Outcome {
    pub fn heads(&self) -> Vec<&RequestHead> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Head(h) => Some(&**h),
                _ => None,
            })
            .collect()
    }

    pub fn head(&self) -> &RequestHead {
        self.heads().into_iter().next().expect("no request head")
    }

    pub fn error(&self) -> Option<&ProtoError> {
        self.items.iter().find_map(|i| match i {
            Item::Error(e) => Some(e),
            _ => None,
        })
    }

    pub fn bodies(&self) -> Vec<Vec<u8>> {
        // One body per request: the concatenated data between its Head and End
        // (empty when it had none).
        let mut out = Vec::new();
        for item in &self.items {
            match item {
                Item::Head(_) => out.push(Vec::new()),
                Item::Body(b) => out
                    .last_mut()
                    .expect("data before head")
                    .extend_from_slice(b),
                _ => {}
            }
        }
        out
    }
}

/// Appends body bytes to the current request's `Body` item.
fn push_body(items: &mut Vec<Item>, data: &[u8]) {
    match items.last_mut() {
        Some(Item::Body(b)) => b.extend_from_slice(data),
        _ => items.push(Item::Body(data.to_vec())),
    }
}

pub fn feed(pieces: &[&[u8]], limits: Limits) -> Outcome {
    feed_with(pieces, limits, false)
}

/// Like `feed`, but Content-Length body bytes are taken straight from the
/// input whenever nothing is buffered (`body_remaining` / `consume_body`),
/// as the server reads them.
pub fn feed_direct(pieces: &[&[u8]], limits: Limits) -> Outcome {
    feed_with(pieces, limits, true)
}

fn feed_with(pieces: &[&[u8]], limits: Limits, direct: bool) -> Outcome {
    let mut parser = RequestParser::new(limits);
    let mut buf = BytesMut::new();
    let mut items: Vec<Item> = Vec::new();
    for piece in pieces {
        let mut rest: &[u8] = piece;
        if !direct {
            buf.extend_from_slice(rest);
            rest = &[];
        }
        loop {
            if let Some(taken) = feeding::take_direct(&mut parser, buf.len(), &mut rest) {
                push_body(&mut items, taken);
                continue;
            }
            match parser.poll(&mut buf) {
                Ok(None) if rest.is_empty() => break,
                Ok(None) => {
                    buf.extend_from_slice(rest);
                    rest = &[];
                }
                Ok(Some(Event::Head(h))) => {
                    assert!(!parser.is_idle(), "parser idle right after a head");
                    items.push(Item::Head(h));
                }
                Ok(Some(Event::Data(d))) => {
                    assert!(!d.is_empty(), "empty Data event");
                    push_body(&mut items, &d);
                }
                Ok(Some(Event::End)) => {
                    assert!(parser.is_idle(), "parser not idle after End");
                    items.push(Item::End);
                }
                Err(e) => {
                    // C-05: poisoned, nothing more is consumed.
                    let before = buf.clone();
                    assert_eq!(parser.poll(&mut buf), Err(e.clone()));
                    buf.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                    assert_eq!(parser.poll(&mut buf), Err(e.clone()));
                    assert_eq!(&buf[..before.len()], &before[..]);
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

/// Runs `input` whole, split in two at every index, and byte by byte; all
/// must agree. Returns the common outcome.
pub fn parse_all(input: &[u8], limits: Limits) -> Outcome {
    let whole = feed(&[input], limits);
    for i in 0..=input.len() {
        let (a, b) = input.split_at(i);
        let split = feed(&[a, b], limits);
        assert_eq!(
            split,
            whole,
            "split at {i} differs for {:?}",
            String::from_utf8_lossy(input)
        );
        // Reading Content-Length bodies directly changes nothing either.
        assert_eq!(
            feed_direct(&[a, b], limits),
            whole,
            "direct body read, split at {i}, differs for {:?}",
            String::from_utf8_lossy(input)
        );
    }
    let singles: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(
        feed(&singles, limits),
        whole,
        "byte-by-byte differs for {:?}",
        String::from_utf8_lossy(input)
    );
    whole
}

pub fn parse(input: &[u8]) -> Outcome {
    parse_all(input, Limits::default())
}

pub fn small_limits(header: usize, body: u64) -> Limits {
    Limits {
        max_request_header_size: header,
        max_request_body_size: body,
    }
}
