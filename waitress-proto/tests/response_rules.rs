//! Section 8.1 (R-01..R-12 with D-11..D-14), 8.2 (S-03, S-04), section 7's
//! response side (C-01..C-03) and section 9 (X-01..X-03).

use bytes::Bytes;
use waitress_proto::{
    CONTINUE_RESPONSE, EncodeWarning, Encoder, ResponseErrorKind, ResponseSpec, Version,
    error_response, prepare_response, validate_header, validate_status,
};

const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

fn hv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

struct Case {
    version: Version,
    head_request: bool,
    keep: bool,
    force_close: bool,
    status: &'static str,
    headers: Vec<(String, String)>,
    known: Option<u64>,
    ident: Option<&'static str>,
}

fn case(version: Version, status: &'static str, headers: &[(&str, &str)]) -> Case {
    Case {
        version,
        head_request: false,
        keep: true,
        force_close: false,
        status,
        headers: hv(headers),
        known: None,
        ident: Some("waitress"),
    }
}

impl Case {
    fn run(&self) -> (String, Encoder, bool) {
        let spec = ResponseSpec {
            version: self.version,
            head_request: self.head_request,
            request_keep_alive: self.keep,
            force_close: self.force_close,
            status: self.status,
            headers: &self.headers,
            known_length: self.known,
            ident: self.ident,
            date: DATE,
        };
        let p = prepare_response(&spec).expect("valid response");
        (
            String::from_utf8(p.head).expect("ascii head"),
            p.encoder,
            p.keep_alive,
        )
    }
}

fn head(lines: &[&str]) -> String {
    let mut s = lines.join("\r\n");
    s.push_str("\r\n\r\n");
    s
}

#[test]
fn r01_d14_status_line() {
    let (h, _, _) = case(
        Version::Http11,
        "599 Custom Thing",
        &[("Content-Length", "0")],
    )
    .run();
    assert!(h.starts_with("HTTP/1.1 599 Custom Thing\r\n"));
    let (h, _, _) = case(Version::Http10, "200 OK", &[]).run();
    assert!(h.starts_with("HTTP/1.0 200 OK\r\n"));
    for bad in [
        "200",
        "abc",
        "20 OK",
        "2000 OK",
        "099 X",
        "200 O\u{1}K",
        "200\tOK",
        "200 \u{7f}",
    ] {
        let e = validate_status(bad).unwrap_err();
        assert_eq!(e.kind, ResponseErrorKind::Value, "{bad}");
    }
    assert_eq!(validate_status("200 OK"), Ok(200));
    assert_eq!(validate_status("204 "), Ok(204));
    assert_eq!(validate_status("200 caf\u{e9}\tok"), Ok(200));
}

#[test]
fn r02_content_length_sources() {
    // The app's header, verbatim, in the app's position.
    let (h, e, k) = case(
        Version::Http11,
        "200 OK",
        &[("X-A", "1"), ("content-length", "005"), ("X-B", "2")],
    )
    .run();
    assert_eq!(
        h,
        head(&[
            "HTTP/1.1 200 OK",
            "X-A: 1",
            "content-length: 005",
            "X-B: 2",
            &format!("Date: {DATE}"),
            "Server: waitress"
        ])
    );
    assert_eq!(
        e,
        Encoder::Length {
            declared: 5,
            remaining: 5,
            warned: false
        }
    );
    assert!(k);
    // The computed length when the app sent none.
    let mut c = case(Version::Http11, "200 OK", &[("Content-Type", "text/plain")]);
    c.known = Some(12);
    let (h, e, _) = c.run();
    assert_eq!(
        h,
        head(&[
            "HTTP/1.1 200 OK",
            "Content-Type: text/plain",
            "Content-Length: 12",
            &format!("Date: {DATE}"),
            "Server: waitress"
        ])
    );
    assert_eq!(
        e,
        Encoder::Length {
            declared: 12,
            remaining: 12,
            warned: false
        }
    );
    // A non-numeric app Content-Length is a ValueError (-> 500).
    for bad in ["abc", "", "1.5", "+3", " 3", "99999999999999999999999"] {
        assert_eq!(
            validate_header("Content-Length", bad).unwrap_err().kind,
            ResponseErrorKind::Value,
            "{bad:?}"
        );
    }
}

#[test]
fn r03_d12_no_body_statuses() {
    for status in ["100 Continue", "204 No Content", "304 Not Modified"] {
        let mut c = case(
            Version::Http11,
            status,
            &[("Content-Length", "10"), ("ETag", "x")],
        );
        c.known = Some(10);
        let (h, mut e, k) = c.run();
        assert_eq!(
            h,
            head(&[
                &format!("HTTP/1.1 {status}"),
                "ETag: x",
                &format!("Date: {DATE}"),
                "Server: waitress"
            ])
        );
        assert!(k, "D-12 keeps {status} alive");
        let chunk = e.encode(Bytes::from_static(b"body"));
        assert!(chunk.is_empty());
        assert_eq!(
            chunk.warning.map(|w| w.message()),
            Some(format!(
                "application-written content was ignored due to HTTP response that may not contain a message-body: ({status})"
            ))
        );
        assert_eq!(e.finish().terminator, b"");
    }
    // 205 is an ordinary body status.
    let (h, e, _) = case(Version::Http11, "205 Reset Content", &[]).run();
    assert!(h.contains("Transfer-Encoding: chunked"));
    assert_eq!(e, Encoder::Chunked);
    // HTTP/1.0 keep-alive 204 keeps the connection too.
    let (h, _, k) = case(Version::Http10, "204 No Content", &[]).run();
    assert!(k && h.contains("Connection: Keep-Alive\r\n"));
}

#[test]
fn r04_d12_chunked_on_http11_keeps_alive() {
    let (h, mut e, k) = case(Version::Http11, "200 OK", &[("Content-Type", "text/plain")]).run();
    assert_eq!(
        h,
        head(&[
            "HTTP/1.1 200 OK",
            "Content-Type: text/plain",
            "Transfer-Encoding: chunked",
            &format!("Date: {DATE}"),
            "Server: waitress"
        ])
    );
    assert!(k);
    let c = e.encode(Bytes::from_static(b"hello world, this is 26 b!"));
    assert_eq!(c.prefix.as_deref(), Some(&b"1A\r\n"[..]));
    assert_eq!(c.suffix, b"\r\n");
    assert_eq!(e.finish().terminator, b"0\r\n\r\n");
}

#[test]
fn r05_close_delimited_on_http10() {
    let mut c = case(Version::Http10, "200 OK", &[]);
    let (h, e, k) = c.run();
    assert_eq!(
        h,
        head(&[
            "HTTP/1.0 200 OK",
            "Connection: close",
            &format!("Date: {DATE}"),
            "Server: waitress"
        ])
    );
    assert_eq!(e, Encoder::CloseDelimited);
    assert!(!k);
    c.keep = false;
    assert_eq!(c.run().1, Encoder::CloseDelimited);
}

#[test]
fn r06_length_enforcement() {
    let (_, mut e, _) = case(Version::Http11, "200 OK", &[("Content-Length", "3")]).run();
    let a = e.encode(Bytes::from_static(b"abcdef"));
    assert_eq!(&a.data[..], b"abc");
    assert_eq!(
        a.warning,
        Some(EncodeWarning::ContentLengthExceeded { declared: 3 })
    );
    assert_eq!(e.finish().shortfall, None);
    let (_, mut e, _) = case(Version::Http11, "200 OK", &[("Content-Length", "3")]).run();
    e.encode(Bytes::from_static(b"a"));
    assert_eq!(
        e.finish().shortfall,
        Some(EncodeWarning::TooFewBytes {
            written: 1,
            declared: 3
        })
    );
}

#[test]
fn r07_d11_head_requests() {
    // Same headers as GET, no body bytes, no chunked terminator, no shortfall.
    let mut c = case(Version::Http11, "200 OK", &[("Content-Length", "10")]);
    c.head_request = true;
    let (h, mut e, k) = c.run();
    assert!(h.contains("Content-Length: 10\r\n") && k);
    assert!(e.encode(Bytes::from_static(b"0123456789")).is_empty());
    assert_eq!(
        e.finish(),
        waitress_proto::Finish {
            terminator: b"",
            shortfall: None
        }
    );
    let mut c = case(Version::Http11, "200 OK", &[]);
    c.head_request = true;
    let (h, mut e, k) = c.run();
    assert!(h.contains("Transfer-Encoding: chunked\r\n") && k);
    assert_eq!(e.encode(Bytes::from_static(b"x")).warning, None);
    assert_eq!(e.finish().terminator, b"");
    let mut c = case(Version::Http10, "200 OK", &[]);
    c.head_request = true;
    let (h, _, k) = c.run();
    assert!(h.contains("Connection: close\r\n") && !k);
}

#[test]
fn r08_r09_d13_app_header_names_and_order_kept() {
    let (h, _, _) = case(
        Version::Http11,
        "200 OK",
        &[
            ("x-lower-case", "1"),
            ("ETag", "e"),
            ("Set-Cookie", "b"),
            ("A", "a"),
            ("Set-Cookie", "a"),
            ("Content-Length", "0"),
        ],
    )
    .run();
    assert_eq!(
        h,
        head(&[
            "HTTP/1.1 200 OK",
            "x-lower-case: 1",
            "ETag: e",
            "Set-Cookie: b",
            "A: a",
            "Set-Cookie: a",
            "Content-Length: 0",
            &format!("Date: {DATE}"),
            "Server: waitress"
        ])
    );
}

#[test]
fn r10_server_via_date() {
    let (h, _, _) = case(
        Version::Http11,
        "200 OK",
        &[
            ("Server", "app/1"),
            ("Date", "yesterday"),
            ("Content-Length", "0"),
        ],
    )
    .run();
    assert_eq!(
        h,
        head(&[
            "HTTP/1.1 200 OK",
            "Server: app/1",
            "Date: yesterday",
            "Content-Length: 0",
            "Via: waitress"
        ])
    );
    let mut c = case(
        Version::Http11,
        "200 OK",
        &[("Server", "app/1"), ("Content-Length", "0")],
    );
    c.ident = Some("myident");
    assert!(c.run().0.contains("Via: myident\r\n"));
    for ident in [None, Some("")] {
        c.ident = ident;
        assert!(c.run().0.contains("Via: waitress\r\n"));
        let mut plain = case(Version::Http11, "200 OK", &[("Content-Length", "0")]);
        plain.ident = ident;
        assert!(!plain.run().0.contains("Server:"));
    }
}

#[test]
fn r11_latin1_only() {
    let e = validate_header("X-A", "\u{20ac}").unwrap_err();
    assert_eq!(e.kind, ResponseErrorKind::Value);
    assert!(validate_header("X-A", "caf\u{e9}").is_ok());
    assert_eq!(
        validate_status("200 \u{20ac}").unwrap_err().kind,
        ResponseErrorKind::Value
    );
    let (h, _, _) = {
        let spec_headers = hv(&[("X-A", "caf\u{e9}"), ("Content-Length", "0")]);
        let spec = ResponseSpec {
            version: Version::Http11,
            head_request: false,
            request_keep_alive: true,
            force_close: false,
            status: "200 \u{e9}",
            headers: &spec_headers,
            known_length: None,
            ident: None,
            date: DATE,
        };
        let p = prepare_response(&spec).unwrap();
        (p.head, p.encoder, p.keep_alive)
    };
    assert!(h.starts_with(b"HTTP/1.1 200 \xe9\r\nX-A: caf\xe9\r\n"));
}

#[test]
fn s03_cr_lf_rejected() {
    let e = validate_status("200 OK\r\nX: y").unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            ResponseErrorKind::Value,
            "carriage return/line feed character present in status"
        )
    );
    let e = validate_header("X-A", "a\nb").unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            ResponseErrorKind::Value,
            "carriage return/line feed character present in header value"
        )
    );
    let e = validate_header("X\r\nA", "a").unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            ResponseErrorKind::Value,
            "carriage return/line feed character present in header name"
        )
    );
    assert_eq!(
        validate_header("X A", "a").unwrap_err().kind,
        ResponseErrorKind::Value
    );
    assert_eq!(
        validate_header("", "a").unwrap_err().kind,
        ResponseErrorKind::Value
    );
    assert_eq!(
        validate_header("X", "a\0b").unwrap_err().kind,
        ResponseErrorKind::Value
    );
    assert!(validate_header("X", "a\tb").is_ok());
}

#[test]
fn s04_hop_by_hop_rejected() {
    for name in [
        "Connection",
        "keep-alive",
        "Proxy-Authenticate",
        "proxy-authorization",
        "TE",
        "Trailer",
        "transfer-encoding",
        "Upgrade",
    ] {
        let e = validate_header(name, "x").unwrap_err();
        assert_eq!(e.kind, ResponseErrorKind::Assertion);
        assert_eq!(
            e.message,
            format!(
                "{name} is a \"hop-by-hop\" header; it cannot be used by a WSGI application (see PEP 3333)"
            )
        );
    }
    assert!(validate_header("Trailers", "x").is_ok());
    // prepare_response re-checks (defence in depth).
    let headers = hv(&[("Connection", "close")]);
    let spec = ResponseSpec {
        version: Version::Http11,
        head_request: false,
        request_keep_alive: true,
        force_close: false,
        status: "200 OK",
        headers: &headers,
        known_length: None,
        ident: None,
        date: DATE,
    };
    assert_eq!(
        prepare_response(&spec).unwrap_err().kind,
        ResponseErrorKind::Assertion
    );
}

#[test]
fn c01_c02_c03_connection_decisions() {
    // 1.1: keep-alive by default, no Connection header.
    let (h, _, k) = case(Version::Http11, "200 OK", &[("Content-Length", "0")]).run();
    assert!(k && !h.contains("Connection"));
    // 1.1 request asked to close.
    let mut c = case(Version::Http11, "200 OK", &[("Content-Length", "0")]);
    c.keep = false;
    let (h, _, k) = c.run();
    assert!(!k && h.contains("Connection: close\r\n"));
    // Server-side close (shutdown, D-05 ...).
    let mut c = case(Version::Http11, "200 OK", &[]);
    c.force_close = true;
    let (h, e, k) = c.run();
    assert!(!k && h.contains("Connection: close\r\n") && e == Encoder::Chunked);
    // 1.0 keep-alive needs a length.
    let (h, _, k) = case(Version::Http10, "200 OK", &[("Content-Length", "0")]).run();
    assert!(k && h.contains("Connection: Keep-Alive\r\n"));
    let mut c = case(Version::Http10, "200 OK", &[("Content-Length", "0")]);
    c.keep = false;
    let (h, _, k) = c.run();
    assert!(!k && h.contains("Connection: close\r\n"));
    assert_eq!(h.matches("Connection").count(), 1);
}

#[test]
fn e02_continue_bytes() {
    assert_eq!(CONTINUE_RESPONSE, b"HTTP/1.1 100 Continue\r\n\r\n");
}

#[test]
fn x01_x04_error_response_for_any_status() {
    let r = error_response(
        Version::Http11,
        500,
        "Internal Server Error",
        "boom",
        Some("waitress"),
        DATE,
    );
    let expected = format!(
        "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 56\r\nContent-Type: text/plain; charset=utf-8\r\nDate: {DATE}\r\nServer: waitress\r\n\r\nInternal Server Error\r\n\r\nboom\r\n\r\n(generated by waitress)"
    );
    assert_eq!(String::from_utf8(r).unwrap(), expected);
}

#[test]
fn d22_proxy_error_response() {
    let r = error_response(
        Version::Http10,
        400,
        "Bad Request",
        "Header \"X-Forwarded-For\" malformed.",
        None,
        DATE,
    );
    let text = String::from_utf8(r).unwrap();
    assert!(text.starts_with("HTTP/1.0 400 Bad Request\r\nConnection: close\r\n"));
    assert!(text.ends_with("\r\n\r\nBad Request\r\n\r\nHeader \"X-Forwarded-For\" malformed.\r\n\r\n(generated by server)"));
}

/// framing does not depend on how the app splits its body: every
/// split of the body into two chunks gives the same bytes on the wire (after
/// chunked decoding for the chunked encoder).
#[test]
fn r04_r06_framing_split_at_every_byte() {
    use bytes::BytesMut;
    use waitress_proto::{ChunkedDecoder, Decoded, Limits};
    let body = b"The quick brown fox jumps over the lazy dog";
    let wire = |enc: &mut Encoder, parts: &[&[u8]]| {
        let mut out = Vec::new();
        for p in parts {
            let c = enc.encode(Bytes::copy_from_slice(p));
            out.extend(c.prefix.map(|p| p.to_vec()).unwrap_or_default());
            out.extend_from_slice(&c.data);
            out.extend_from_slice(c.suffix);
        }
        out.extend_from_slice(enc.finish().terminator);
        out
    };
    for i in 0..=body.len() {
        let (a, b) = body.split_at(i);
        let mut length = Encoder::Length {
            declared: 20,
            remaining: 20,
            warned: false,
        };
        assert_eq!(
            wire(&mut length, &[a, b]),
            body[..20].to_vec(),
            "split at {i}"
        );
        let chunked = wire(&mut Encoder::Chunked, &[a, b]);
        let mut dec = ChunkedDecoder::new(Limits::default());
        let mut buf = BytesMut::from(&chunked[..]);
        let mut decoded = Vec::new();
        while let Some(Decoded::Data(d)) = dec.decode(&mut buf).expect("valid") {
            decoded.extend_from_slice(&d);
        }
        assert_eq!(decoded, body.to_vec(), "split at {i}");
        assert!(buf.is_empty());
    }
}
