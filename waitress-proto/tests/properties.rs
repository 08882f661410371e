//! Property tests: chunked encode -> decode round trips, and "any input yields
//! events or a typed error, the same however it is split".

mod support;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use support::{Item, feed};
use waitress_proto::{ChunkedDecoder, Decoded, Encoder, Limits};

const LIMITS: Limits = Limits {
    max_request_header_size: 4096,
    max_request_body_size: 1 << 20,
};

/// Encodes `chunks` with the response encoder, optionally adding extensions
/// and a trailer the way other clients do.
fn encode(chunks: &[Vec<u8>], ext: bool, trailer: bool) -> Vec<u8> {
    let mut enc = Encoder::Chunked;
    let mut wire = Vec::new();
    for c in chunks {
        let e = enc.encode(Bytes::from(c.clone()));
        if let Some(p) = e.prefix {
            let p = p.to_vec();
            if ext {
                // "<hex>;name=\"v\"\r\n"
                wire.extend_from_slice(&p[..p.len() - 2]);
                wire.extend_from_slice(b";name=\"v\\\"x\";flag\r\n");
            } else {
                wire.extend_from_slice(&p);
            }
        }
        wire.extend_from_slice(&e.data);
        wire.extend_from_slice(e.suffix);
    }
    let end = enc.finish().terminator;
    if trailer {
        wire.extend_from_slice(b"0\r\nX-Trailer: 1\r\nChecksum:\tabc \r\n\r\n");
    } else {
        wire.extend_from_slice(end);
    }
    wire
}

fn decode(pieces: &[&[u8]]) -> (Vec<u8>, usize) {
    let mut d = ChunkedDecoder::new(LIMITS);
    let mut buf = BytesMut::new();
    let mut body = Vec::new();
    for (i, p) in pieces.iter().enumerate() {
        buf.extend_from_slice(p);
        loop {
            match d.decode(&mut buf).expect("valid chunked input") {
                Some(Decoded::Data(b)) => body.extend_from_slice(&b),
                Some(Decoded::End) => {
                    let unfed: usize = pieces[i + 1..].iter().map(|p| p.len()).sum();
                    return (body, buf.len() + unfed);
                }
                None => break,
            }
        }
    }
    panic!("chunked body did not end");
}

fn pieces(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut last = 0;
    for p in points {
        out.push(data[last..p].to_vec());
        last = p;
    }
    out.push(data[last..].to_vec());
    out
}

/// Inputs that look like HTTP often enough to reach deep states.
fn http_like() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(b"GET ".to_vec()),
        Just(b"POST ".to_vec()),
        Just(b"/ ".to_vec()),
        Just(b"HTTP/1.1".to_vec()),
        Just(b"HTTP/1.0".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r\n\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"Host: a\r\n".to_vec()),
        Just(b"Content-Length: 3\r\n".to_vec()),
        Just(b"Transfer-Encoding: chunked\r\n".to_vec()),
        Just(b"Connection: close\r\n".to_vec()),
        Just(b"Expect: 100-continue\r\n".to_vec()),
        Just(b"5\r\nhello\r\n".to_vec()),
        Just(b"0\r\n\r\n".to_vec()),
        Just(b";a=b".to_vec()),
        Just(b": ".to_vec()),
        Just(b" ".to_vec()),
        prop::collection::vec(any::<u8>(), 0..6),
    ];
    prop::collection::vec(token, 0..24).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn chunked_round_trip(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8),
        ext in any::<bool>(),
        trailer in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
        next in prop::collection::vec(any::<u8>(), 0..16),
    ) {
        let mut wire = encode(&chunks, ext, trailer);
        let framed = wire.len();
        wire.extend_from_slice(&next);
        let parts = pieces(&wire, &cuts);
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let (body, left) = decode(&refs);
        prop_assert_eq!(body, chunks.concat());
        // Everything after the body stays for the next request.
        prop_assert_eq!(left, wire.len() - framed);
    }

    #[test]
    fn chunked_request_round_trip(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..200), 0..6),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut input = b"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        input.extend(encode(&chunks, false, false));
        input.extend_from_slice(b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
        let parts = pieces(&input, &cuts);
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let out = feed(&refs, LIMITS);
        prop_assert!(out.error().is_none());
        prop_assert_eq!(out.bodies(), vec![chunks.concat(), Vec::new()]);
    }

    #[test]
    fn any_input_yields_events_or_a_typed_error(input in http_like(), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let whole = feed(&[&input], LIMITS);
        let parts = pieces(&input, &cuts);
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let split = feed(&refs, LIMITS);
        prop_assert_eq!(&split, &whole);
        for item in &whole.items {
            if let Item::Error(e) = item {
                prop_assert!(matches!(e.status(), 400 | 413 | 431 | 501 | 505));
                prop_assert!(!e.detail().is_empty());
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..512), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let whole = feed(&[&input], LIMITS);
        let parts = pieces(&input, &cuts);
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(feed(&refs, LIMITS), whole);
    }
}
