//! One regression test per security fix of section 16, with its attack bytes.
//! Every request input runs whole, split at every byte and byte by byte.

mod support;

use std::time::{Duration, Instant};

use support::{parse, parse_all, small_limits};
use waitress_proto::{
    BodyKind, CgiName, Limits, ResponseErrorKind, Version, validate_header, validate_status,
};

fn status_of(input: &[u8]) -> Option<(u16, String)> {
    parse(input).error().map(|e| (e.status(), e.detail()))
}

/// waitress 1.0.0 (no CVE): a header spelled with `_` must not spoof the
/// dashed one a proxy set (F-07).
#[test]
fn waitress_1_0_0_underscore_spoofing() {
    let out =
        parse(b"GET / HTTP/1.1\r\nHost: a\r\nX-Auth-User: alice\r\nX_Auth_User: admin\r\n\r\n");
    assert_eq!(
        out.head().cgi_variables(0),
        vec![
            (CgiName::from("HTTP_HOST"), "a".to_string()),
            (CgiName::from("HTTP_X_AUTH_USER"), "alice".to_string()),
        ]
    );
    let out = parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent_Length: 10\r\n\r\n0123456789");
    assert_eq!(out.head().body, BodyKind::Empty);
}

/// waitress 0.9.0 (no CVE): response splitting through CR/LF in the status or
/// headers (S-03).
#[test]
fn waitress_0_9_0_response_splitting() {
    assert!(validate_status("200 OK\r\nSet-Cookie: evil=1").is_err());
    assert!(validate_header("X-A", "v\r\nSet-Cookie: evil=1").is_err());
    assert!(validate_header("X-A\r\nSet-Cookie", "evil=1").is_err());
    assert!(validate_header("X-A", "v\nSet-Cookie: evil=1").is_err());
    assert_eq!(
        validate_header("X", "\r").unwrap_err().kind,
        ResponseErrorKind::Value
    );
}

/// CVE-2019-16785 (GHSA-pg36-wpm5-g57p): bare LF is never a line terminator.
#[test]
fn cve_2019_16785_bare_lf() {
    // A front end that splits on LF sees two headers; we see a bare LF.
    assert_eq!(
        status_of(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        Some((400, "Bare CR or LF found in header line \"Content-Length: 5\nTransfer-Encoding: chunked\"".to_string()))
    );
    // Bare-LF-only heads never complete (and hit the size limit).
    let out = parse_all(
        b"GET / HTTP/1.1\nHost: a\n\nGET /smuggled HTTP/1.1\nHost: a\n\n",
        small_limits(40, 100),
    );
    assert_eq!(out.error().map(|e| e.status()), Some(431));
    // Chunk framing must be CRLF.
    let chunked = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    for body in [
        &b"5\nhello\r\n0\r\n\r\n"[..],
        b"5\r\nhello\n0\r\n\r\n",
        b"5\r\nhello\r\n0\n\n",
    ] {
        let mut input = chunked.to_vec();
        input.extend_from_slice(body);
        let out = parse(&input);
        assert!(
            out.error().is_some() || out.items.len() == 2,
            "{:?}",
            String::from_utf8_lossy(body)
        );
        assert!(
            !out.items.iter().any(|i| matches!(i, support::Item::End)),
            "body completed despite bare LF"
        );
    }
}

/// CVE-2019-16786 (GHSA-g2xc-35jw-c63p): Transfer-Encoding lists.
#[test]
fn cve_2019_16786_transfer_encoding_lists() {
    for te in [
        &b"gzip, chunked"[..],
        b"chunked, gzip",
        b"identity",
        b"chunked;x=1",
    ] {
        let mut input = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ".to_vec();
        input.extend_from_slice(te);
        input.extend_from_slice(b"\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!(
            status_of(&input).map(|s| s.0),
            Some(501),
            "{:?}",
            String::from_utf8_lossy(te)
        );
    }
    // Folded TE (D-01).
    assert_eq!(
        status_of(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n0\r\n\r\n"
        ),
        Some((400, "Invalid header".to_string()))
    );
    // Two TE headers are one list.
    assert_eq!(
        status_of(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").map(|s| s.0),
        Some(501)
    );
}

/// CVE-2019-16792 (GHSA-4ppp-gpcr-7qf6): unparseable or doubled Content-Length.
#[test]
fn cve_2019_16792_content_length() {
    assert_eq!(
        status_of(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nContent-Length: 5\r\n\r\nhello"
        ),
        Some((400, "Duplicate header: Content-Length".to_string()))
    );
    assert_eq!(
        status_of(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10, 5\r\n\r\nhello"),
        Some((400, "Content-Length is invalid".to_string()))
    );
}

/// waitress 1.4.0 (no CVE): no whitespace between field name and colon.
#[test]
fn waitress_1_4_0_space_before_colon() {
    assert_eq!(
        status_of(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello"),
        Some((400, "Invalid header".to_string()))
    );
    let e = parse(b"get / HTTP/1.1\r\n\r\n")
        .error()
        .cloned()
        .expect("error");
    let text = String::from_utf8(e.to_response(None, "d")).expect("utf8");
    assert_eq!(text.matches("Connection: close\r\n").count(), 1);
}

/// CVE-2019-16789 (GHSA-m5ff-3wj3-8ph4): only SP/HT are whitespace, so
/// `\x85chunked` or `chunked\xa0` are not chunked.
#[test]
fn cve_2019_16789_whitespace() {
    for te in [
        &b"\x85chunked"[..],
        b"chunked\x85",
        b"\xa0chunked",
        b"chunked\x0b",
    ] {
        let mut input = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ".to_vec();
        input.extend_from_slice(te);
        input.extend_from_slice(b"\r\n\r\n0\r\n\r\n");
        let out = parse(&input);
        assert!(out.error().is_some(), "{te:?} accepted");
        assert!(out.heads().is_empty());
    }
    // Values keep non-SP/HT bytes verbatim.
    let out = parse(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: \x85v\xa0\r\n\r\n");
    assert_eq!(out.head().headers[1].1, "\u{85}v\u{a0}");
}

/// CVE-2020-5236 (GHSA-73m2-3pwg-5fgc): the header regex backtracked
/// catastrophically on `a a a ... \x00`. Parsing here is linear.
#[test]
fn cve_2020_5236_no_catastrophic_backtracking() {
    let mut input = b"GET / HTTP/1.1\r\nHost: a\r\nX-A: ".to_vec();
    input.extend(std::iter::repeat_n(&b"a "[..], 50_000).flatten());
    input.extend_from_slice(b"\x00\r\n\r\n");
    let limits = Limits {
        max_request_header_size: 1 << 20,
        max_request_body_size: 1,
    };
    let start = Instant::now();
    let out = support::feed(&[&input], limits);
    assert_eq!(
        out.error().map(|e| e.detail()),
        Some("Invalid header".to_string())
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}

/// CVE-2022-24761 (GHSA-4f7p-27jc-3c36): Content-Length digits only, chunk
/// sizes hex only, extensions validated.
#[test]
fn cve_2022_24761_number_grammar() {
    for cl in ["+5", "-5", "0x5", " 5 5", "5_0"] {
        let input = format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {cl}\r\n\r\nhello");
        assert_eq!(
            status_of(input.as_bytes()),
            Some((400, "Content-Length is invalid".to_string())),
            "{cl}"
        );
    }
    let head = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (body, detail) in [
        (&b"0x5\r\nhello\r\n0\r\n\r\n"[..], "Invalid chunk size"),
        (b"+5\r\nhello\r\n0\r\n\r\n", "Invalid chunk size"),
        (b"-0\r\n\r\n", "Invalid chunk size"),
        (b"5 ;\r\nhello\r\n0\r\n\r\n", "Invalid chunk extension"),
        (b"5;\x00\r\nhello\r\n0\r\n\r\n", "Invalid chunk extension"),
        (
            b"5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n",
            "Invalid chunk extension",
        ),
    ] {
        let mut input = head.to_vec();
        input.extend_from_slice(body);
        assert_eq!(
            status_of(&input),
            Some((400, detail.to_string())),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}

/// CVE-2022-31015: worker threads never close sockets. Nothing in this crate
/// owns a socket; the parser only returns values, so the corresponding
/// property is that a parser is plain data the connection task owns.
#[test]
fn cve_2022_31015_parser_is_plain_data() {
    fn assert_send<T: Send + Clone>() {}
    assert_send::<waitress_proto::RequestParser>();
}

/// CVE-2024-49768 (GHSA-9298-4cf8-g4wj): once a request fails, no further
/// bytes are parsed or dispatched (C-05).
#[test]
fn cve_2024_49768_nothing_after_an_error() {
    let out = parse(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(out.heads().is_empty());
    let out = parse(b"GET /ok HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(out.heads().len(), 2);
    assert_eq!(
        out.error().map(|e| e.detail()),
        Some("Invalid chunk size".to_string())
    );
    assert!(out.heads().iter().all(|h| h.request_uri != "/admin"));
}

/// waitress main (no CVE yet): duplicate singletons, multiple `chunked`, and
/// CL + TE closing the connection (D-05).
#[test]
fn waitress_head_framing_hardening() {
    assert_eq!(
        status_of(b"GET / HTTP/1.1\r\nHost: a\r\nHost: evil\r\n\r\n").map(|s| s.0),
        Some(400)
    );
    assert_eq!(
        status_of(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"
        ),
        Some((
            501,
            "Transfer-Encoding is invalid. Multiple chunked encodings requested.".to_string()
        ))
    );
    let out = parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    let first = out.heads()[0];
    assert_eq!(
        (first.body, first.keep_alive, first.version),
        (BodyKind::Chunked, false, Version::Http11)
    );
}
