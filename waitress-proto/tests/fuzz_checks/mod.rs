//! The invariants checked by the cargo-fuzz targets in `waitress-proto/fuzz`.
//! Shared (via `#[path]`) with `tests/fuzz_corpus.rs`, which replays the seed
//! corpora on stable Rust. Every function panics when an invariant breaks.
#![allow(dead_code)]

#[path = "../feeding/mod.rs"]
mod feeding;

use bytes::{Bytes, BytesMut};
use waitress_proto::{
    BodyKind, ChunkedDecoder, Decoded, Encoder, Event, KNOWN_CGI_NAMES, Limits, ProtoError,
    RequestHead, RequestParser, ResponseSpec, Version, prepare_response, validate_header,
    validate_status,
};

const LIMITS: Limits = Limits {
    max_request_header_size: 8192,
    max_request_body_size: 1 << 20,
};

/// A fed stream, normalized so that different splits compare equal.
#[derive(Debug, PartialEq)]
enum Item {
    Head(Box<RequestHead>),
    Body(Vec<u8>),
    End,
    Error(ProtoError),
}

/// Records body bytes of the current request.
fn record_data(current: &mut Option<(BodyKind, u64)>, items: &mut Vec<Item>, d: &[u8]) {
    let (_, seen) = current.as_mut().expect("data outside a request");
    *seen += d.len() as u64;
    match items.last_mut() {
        Some(Item::Body(b)) => b.extend_from_slice(d),
        _ => items.push(Item::Body(d.to_vec())),
    }
}

/// Feeds `pieces`; with `direct`, Content-Length body bytes are taken
/// straight from the input whenever nothing is buffered (`body_remaining` /
/// `consume_body`), as the server does.
fn run(pieces: &[&[u8]], limits: Limits, direct: bool) -> (Vec<Item>, Vec<u8>) {
    let mut parser = RequestParser::new(limits);
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    // Per request: declared body and bytes seen, to check the framing.
    let mut current: Option<(BodyKind, u64)> = None;
    for piece in pieces {
        let mut rest: &[u8] = piece;
        if !direct {
            buf.extend_from_slice(rest);
            rest = &[];
        }
        loop {
            if let Some(taken) = feeding::take_direct(&mut parser, buf.len(), &mut rest) {
                record_data(&mut current, &mut items, taken);
                continue;
            }
            let before = buf.len();
            match parser.poll(&mut buf) {
                Ok(None) => {
                    if !rest.is_empty() {
                        buf.extend_from_slice(rest);
                        rest = &[];
                        continue;
                    }
                    if parser.is_idle() {
                        // Waiting for a head: there is no complete head in the buffer.
                        assert!(
                            memchr::memmem::find(&buf, b"\r\n\r\n").is_none(),
                            "complete head left unparsed"
                        );
                    }
                    break;
                }
                Ok(Some(Event::Head(h))) => {
                    assert!(current.is_none(), "head inside a request");
                    assert!(buf.len() < before, "head consumed nothing");
                    assert!(!h.method.is_empty() && h.method.bytes().all(|b| b.is_ascii_graphic()));
                    assert!(!h.method.bytes().any(|b| b.is_ascii_lowercase()));
                    if h.version == Version::Http11 {
                        assert!(h.header("host").is_some(), "1.1 without Host accepted");
                        assert!(h.header("transfer-encoding").is_none(), "TE left on 1.1");
                    } else {
                        assert!(
                            h.header("transfer-encoding").is_none(),
                            "TE accepted on 1.0"
                        );
                    }
                    if h.body == BodyKind::Chunked {
                        assert!(
                            h.header("content-length").is_none(),
                            "CL kept next to chunked"
                        );
                        assert!(!h.keep_alive || h.version == Version::Http11);
                    }
                    if let BodyKind::Length(n) = h.body {
                        assert!(n > 0 && n < limits.max_request_body_size);
                    }
                    assert!(h.headers.iter().all(|(n, _)| !n.contains('_')));
                    check_cgi_names(&h);
                    assert!(!h.expect_continue || h.body != BodyKind::Empty);
                    current = Some((h.body, 0));
                    items.push(Item::Head(h));
                }
                Ok(Some(Event::Data(d))) => {
                    assert!(!d.is_empty(), "empty data event");
                    record_data(&mut current, &mut items, &d);
                }
                Ok(Some(Event::End)) => {
                    let (kind, seen) = current.take().expect("end outside a request");
                    match kind {
                        BodyKind::Empty => assert_eq!(seen, 0),
                        BodyKind::Length(n) => assert_eq!(seen, n),
                        BodyKind::Chunked => assert!(seen < limits.max_request_body_size),
                    }
                    assert!(parser.is_idle());
                    items.push(Item::End);
                }
                Err(e) => {
                    assert!(matches!(e.status(), 400 | 413 | 431 | 501 | 505));
                    assert!(!e.detail().is_empty());
                    let text = e.to_response(Some("waitress"), "Thu, 01 Jan 1970 00:00:00 GMT");
                    assert!(text.starts_with(b"HTTP/1."));
                    // C-05: poisoned, consumes nothing.
                    let left = buf.len();
                    assert_eq!(parser.poll(&mut buf), Err(e.clone()));
                    assert_eq!(buf.len(), left);
                    items.push(Item::Error(e));
                    return (items, Vec::new());
                }
            }
        }
    }
    (items, buf.to_vec())
}

/// F-08 spelled out: `name.upper().replace("-", "_")`, `HTTP_` in front
/// but for the two CGI names.
fn f08(name: &str) -> String {
    let upper = name.to_ascii_uppercase().replace('-', "_");
    if name.eq_ignore_ascii_case("content-type") || name.eq_ignore_ascii_case("content-length") {
        upper
    } else {
        format!("HTTP_{upper}")
    }
}

/// The CGI names of a head, through the known-name table or built, are
/// the rule's, once each in first-arrival order; a borrowed one is the
/// table's.
fn check_cgi_names(h: &RequestHead) {
    let mut expect: Vec<String> = Vec::new();
    for (name, _) in &h.headers {
        let key = f08(name);
        if !expect.contains(&key) {
            expect.push(key);
        }
    }
    if h.body == BodyKind::Chunked {
        expect.push("CONTENT_LENGTH".into());
    }
    let got = h.cgi_variables(0);
    let names: Vec<&str> = got.iter().map(|(k, _)| k.as_ref()).collect();
    assert_eq!(names, expect);
    for (key, _) in &got {
        if let std::borrow::Cow::Borrowed(known) = key {
            assert!(KNOWN_CGI_NAMES.contains(known), "{known}");
        }
    }
}

/// Split points derived from the input itself, so the fuzzer controls them.
fn splits(data: &[u8]) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut rest = data;
    let mut seed = data
        .iter()
        .fold(7u32, |a, &b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
    while !rest.is_empty() {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = 1 + (seed >> 16) as usize % rest.len().min(64);
        let (a, b) = rest.split_at(n);
        pieces.push(a);
        rest = b;
    }
    pieces
}

/// A whole pipelined stream: the same outcome whole and in pieces, and the
/// framing invariants of `run`.
pub fn pipelined_stream(data: &[u8]) {
    let whole = run(&[data], LIMITS, false);
    let pieces = run(&splits(data), LIMITS, false);
    assert_eq!(whole, pieces, "split changes the outcome");
    let direct = run(&splits(data), LIMITS, true);
    assert_eq!(whole, direct, "reading bodies directly changes the outcome");
    let bytes: Vec<&[u8]> = data.chunks(1).collect();
    if data.len() <= 4096 {
        assert_eq!(
            run(&bytes, LIMITS, false),
            whole,
            "byte-by-byte changes the outcome"
        );
    }
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

/// One request head, cross-checked against httparse.
pub fn request_head(data: &[u8]) {
    let (items, _) = run(&[data], LIMITS, false);
    assert_eq!(run(&splits(data), LIMITS, false).0, items);
    let consumed_head = {
        let mut parser = RequestParser::new(LIMITS);
        let mut buf = BytesMut::from(data);
        match parser.poll(&mut buf) {
            Ok(Some(Event::Head(h))) => Some((h, data.len() - buf.len())),
            _ => None,
        }
    };
    let mut storage = vec![httparse::EMPTY_HEADER; 4096];
    let mut req = httparse::Request::new(&mut storage);
    let theirs = req.parse(data);
    let Some((head, consumed)) = consumed_head else {
        // We rejected or wait: waitress is stricter than httparse in many places.
        return;
    };
    match theirs {
        Ok(httparse::Status::Complete(n)) => {
            assert_eq!(n, consumed, "head length differs from httparse");
            assert_eq!(Some(head.method.as_str()), req.method);
            assert_eq!(
                Some(head.request_uri.as_str()),
                req.path.map(|p| latin1(p.as_bytes())).as_deref()
            );
            let version = if req.version == Some(0) {
                Version::Http10
            } else {
                Version::Http11
            };
            assert_eq!(head.version, version);
            let chunked = head.body == BodyKind::Chunked;
            let expected: Vec<(String, String)> = req
                .headers
                .iter()
                .filter(|h| !h.name.contains('_'))
                .filter(|h| {
                    !(head.version == Version::Http11
                        && h.name.eq_ignore_ascii_case("transfer-encoding"))
                })
                .filter(|h| !(chunked && h.name.eq_ignore_ascii_case("content-length")))
                .map(|h| (h.name.to_owned(), latin1(h.value.trim_ascii())))
                .collect();
            let ours: Vec<(String, String)> = head
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), v.trim_matches([' ', '\t']).to_owned()))
                .collect();
            assert_eq!(ours, expected, "headers differ from httparse");
        }
        _ => {
            // We accepted what httparse does not: only waitress's documented
            // leniencies may explain it (H-03, L-01, L-03 target bytes, D-03).
            // H-03 strips any leading SP/HT/CR/LF/VT/FF; httparse skips only
            // CRLF and LF pairs.
            let start = data
                .iter()
                .position(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c))
                .unwrap_or(0);
            let mut prefix = &data[..start];
            let mut leading_ws = false;
            while !prefix.is_empty() {
                if let Some(rest) = prefix
                    .strip_prefix(b"\r\n")
                    .or_else(|| prefix.strip_prefix(b"\n"))
                {
                    prefix = rest;
                } else {
                    leading_ws = true;
                    break;
                }
            }
            let line_end =
                memchr::memmem::find(&data[start..], b"\r\n").map_or(data.len(), |i| start + i);
            let line = &data[start..line_end];
            // L-03 allows every byte but SP in the target; httparse
            // rejects controls, DEL and (in its SIMD paths) obs-text.
            let odd_target = line.iter().any(|&b| (b < 0x21 && b != b' ') || b >= 0x7f);
            let trailing_ws = line
                .last()
                .is_some_and(|&b| matches!(b, b' ' | b'\t' | 0x0b | 0x0c));
            let odd_version = line.len() >= 8
                && line[line.len() - 8..].starts_with(b"HTTP/1.")
                && !line.ends_with(b"1.0")
                && !line.ends_with(b"1.1");
            assert!(
                leading_ws || odd_target || trailing_ws || odd_version,
                "accepted a head httparse rejects ({theirs:?}): {:?}",
                String::from_utf8_lossy(&data[..consumed])
            );
        }
    }
}

/// The chunked decoder alone: split invariance, limits, decoded length.
pub fn chunked_decoder(data: &[u8]) {
    let limits = Limits {
        max_request_header_size: 512,
        max_request_body_size: 1 << 16,
    };
    let decode = |pieces: &[&[u8]]| {
        let mut d = ChunkedDecoder::new(limits);
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            buf.extend_from_slice(piece);
            loop {
                match d.decode(&mut buf) {
                    Ok(Some(Decoded::Data(b))) => {
                        assert!(!b.is_empty());
                        body.extend_from_slice(&b);
                    }
                    Ok(Some(Decoded::End)) => {
                        assert_eq!(d.decoded_len(), body.len() as u64);
                        // Bytes after the body: what is buffered plus what was not fed yet.
                        let unfed: usize = pieces[i + 1..].iter().map(|p| p.len()).sum();
                        return Ok((body, buf.len() + unfed));
                    }
                    Ok(None) => {
                        assert!(buf.is_empty(), "decoder left input it could read");
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok((body, usize::MAX))
    };
    let whole = decode(&[data]);
    assert_eq!(decode(&splits(data)), whole);
    if let Ok((body, _)) = &whole {
        assert!((body.len() as u64) < limits.max_request_body_size);
    }
}

/// Builds a response from fuzz bytes and checks the head and the framing.
pub fn response_encoder(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = latin1(rest);
    let mut parts = text.split('\u{0}');
    let status = parts.next().unwrap_or("200 OK").to_owned();
    let mut headers = Vec::new();
    let mut chunks = Vec::new();
    for p in parts {
        match p.split_once(':') {
            Some((n, v)) if headers.len() < 16 => headers.push((n.to_owned(), v.to_owned())),
            _ => chunks.push(Bytes::from(p.as_bytes().to_vec())),
        }
    }
    let version = if flags & 1 == 0 {
        Version::Http11
    } else {
        Version::Http10
    };
    let head_request = flags & 2 != 0;
    let known_length = (flags & 4 != 0).then(|| chunks.iter().map(|c| c.len() as u64).sum());
    let spec = ResponseSpec {
        version,
        head_request,
        request_keep_alive: flags & 8 != 0,
        force_close: flags & 16 != 0,
        status: &status,
        headers: &headers,
        known_length,
        ident: (flags & 32 != 0).then_some("waitress"),
        date: "Thu, 01 Jan 1970 00:00:00 GMT",
    };
    let prepared = match prepare_response(&spec) {
        Ok(p) => p,
        Err(e) => {
            // Rejected only if a validator rejects something.
            let invalid = validate_status(&status).is_err()
                || headers.iter().any(|(n, v)| validate_header(n, v).is_err())
                || headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .count()
                    > 1;
            assert!(invalid, "prepare_response rejected a valid response: {e:?}");
            return;
        }
    };
    // The head parses as exactly one response head.
    let mut storage = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut storage);
    match resp.parse(&prepared.head) {
        Ok(httparse::Status::Complete(n)) => assert_eq!(n, prepared.head.len()),
        other => panic!(
            "head does not parse: {other:?} {:?}",
            String::from_utf8_lossy(&prepared.head)
        ),
    }
    let connection_headers = resp
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("connection"))
        .count();
    assert!(connection_headers <= 1, "more than one Connection header");
    let mut encoder = prepared.encoder;
    let mut wire = Vec::new();
    let mut app = Vec::new();
    for c in &chunks {
        app.extend_from_slice(c);
        let e = encoder.encode(c.clone());
        if let Some(p) = &e.prefix {
            wire.extend_from_slice(p);
        }
        wire.extend_from_slice(&e.data);
        wire.extend_from_slice(e.suffix);
    }
    let finish = encoder.finish();
    wire.extend_from_slice(finish.terminator);
    match encoder {
        Encoder::Chunked => {
            let mut d = ChunkedDecoder::new(Limits {
                max_request_header_size: 1024,
                max_request_body_size: u64::MAX,
            });
            let mut buf = BytesMut::from(&wire[..]);
            let mut body = Vec::new();
            loop {
                match d.decode(&mut buf).expect("our chunked output decodes") {
                    Some(Decoded::Data(b)) => body.extend_from_slice(&b),
                    Some(Decoded::End) => break,
                    None => panic!("chunked output incomplete"),
                }
            }
            assert_eq!(body, app);
            assert!(buf.is_empty());
        }
        Encoder::Length { declared, .. } => {
            let n = usize::try_from(declared)
                .unwrap_or(usize::MAX)
                .min(app.len());
            assert_eq!(wire, app[..n]);
            assert_eq!(finish.shortfall.is_some(), (app.len() as u64) < declared);
        }
        Encoder::CloseDelimited => {
            assert_eq!(wire, app);
            assert!(!prepared.keep_alive);
        }
        Encoder::Empty { .. } => assert!(wire.is_empty()),
    }
}
