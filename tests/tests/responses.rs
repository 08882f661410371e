//! Section 8 through the real binary: framing and header rules with the
//! section-0 decisions (D-11..D-14).

use waitress_tests::client::Reader;
use waitress_tests::{ServerBuilder, connect, request, send_raw};

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()
}

#[test]
fn d11_head_has_get_headers_and_no_body() {
    let server = ServerBuilder::new("framing_app:app").start();
    let mut reader = Reader::new(connect(server.addr()));
    reader.write(b"HEAD /page HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = reader.response(true);
    assert_eq!(head.header("Content-Length"), Some("13"));
    // The connection stays usable: no stray body bytes precede the next response.
    reader.write(&get("/page"));
    let next = reader.response(false);
    assert_eq!(next.body, b"body-of-/page");
}

#[test]
fn d12_chunked_response_keeps_the_connection_alive() {
    let server = ServerBuilder::new("framing_app:app").start();
    let mut reader = Reader::new(connect(server.addr()));
    reader.write(&get("/no-length"));
    let resp = reader.response(false);
    assert!(resp.chunked, "R-04");
    assert_eq!(resp.body, b"chunk-one;chunk-two");
    assert_eq!(resp.header("Connection"), None, "D-12");
    reader.write(&get("/again"));
    assert_eq!(reader.response(false).body, b"body-of-/again");
}

#[test]
fn r05_http10_without_length_is_close_delimited() {
    let server = ServerBuilder::new("framing_app:app").start();
    let out = send_raw(
        server.addr(),
        b"GET /no-length HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.0 200 OK\r\n"), "{text}");
    assert!(text.contains("Connection: close\r\n"), "{text}");
    assert!(!text.contains("Transfer-Encoding"), "{text}");
    assert!(text.ends_with("\r\n\r\nchunk-one;chunk-two"), "{text}");
}

#[test]
fn d12_r03_no_body_statuses_drop_body_and_keep_alive() {
    let server = ServerBuilder::new("framing_app:app").start();
    let mut reader = Reader::new(connect(server.addr()));
    reader.write(&get("/204"));
    let resp = reader.response(false);
    assert_eq!(resp.status, 204);
    assert_eq!(resp.header("Content-Length"), None);
    assert_eq!(resp.header("Transfer-Encoding"), None);
    reader.write(&get("/304"));
    assert_eq!(reader.response(false).status, 304);
    reader.write(&get("/after"));
    assert_eq!(reader.response(false).body, b"body-of-/after");
    server.expect_log("WARNING:waitress:application-written content was ignored due to HTTP response that may not contain a message-body: (204 No Content)");
}

#[test]
fn r06_content_length_is_enforced() {
    let server = ServerBuilder::new("framing_app:app").start();
    let mut reader = Reader::new(connect(server.addr()));
    reader.write(&get("/cl-excess"));
    let resp = reader.response(false);
    assert_eq!(resp.body, b"hello", "truncated to the declared length");
    // ...and the connection stays usable.
    reader.write(&get("/cl-short"));
    let mut rest = Vec::new();
    let _ = std::io::Read::read_to_end(&mut reader.stream, &mut rest);
    let text = String::from_utf8_lossy(&rest);
    assert!(text.contains("Content-Length: 10\r\n"), "{text}");
    assert!(
        text.ends_with("\r\n\r\nhello"),
        "too few bytes: sent, then closed: {text}"
    );
    server.expect_log("WARNING:waitress:application-written content exceeded the number of bytes specified by Content-Length header (5)");
    server.expect_log("WARNING:waitress:application returned too few bytes (5) for specified Content-Length (10) via app_iter");
}

#[test]
fn d13_r10_app_headers_keep_names_and_order_then_server_headers() {
    let server = ServerBuilder::new("framing_app:app").start();
    let resp = request(server.addr(), &get("/headers"));
    let names: Vec<&str> = resp.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[..4],
        ["x-lower", "X-UPPER", "Set-Cookie", "Set-Cookie"],
        "{names:?}"
    );
    assert_eq!(resp.header_all("Set-Cookie"), ["a=1", "b=2"]);
    assert!(names.contains(&"Date") && names.contains(&"Server"));

    // the app's Server is kept and Via names us.
    let resp = request(server.addr(), &get("/server-header"));
    assert_eq!(resp.header_all("Server"), ["app/1.0"]);
    assert_eq!(resp.header("Via"), Some("waitress"));
}

#[test]
fn s02_exc_info_replaces_headers_before_the_head_and_reraises_after() {
    let server = ServerBuilder::new("framing_app:app").start();
    let resp = request(server.addr(), &get("/exc-info-before-head"));
    assert_eq!(resp.status, 503);
    assert_eq!(resp.header("X-Second"), Some("1"));
    assert_eq!(resp.header("X-First"), None);
    assert_eq!(resp.body, b"recovered");

    let out = send_raw(server.addr(), &get("/exc-info-after-head"));
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("partial"), "{text}");
    assert!(!text.contains("never"), "{text}");
    server.expect_log("ValueError: too late");
}

#[test]
fn x01_protocol_errors_get_waitress_error_responses() {
    let server = ServerBuilder::new("framing_app:app").start();
    let out = send_raw(server.addr(), b"get / HTTP/1.1\r\nHost: x\r\n\r\n");
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.0 400 Bad Request\r\n"), "{text}");
    assert!(
        text.ends_with(
            "Bad Request\r\n\r\nMalformed HTTP method \"get\"\r\n\r\n(generated by waitress)"
        ),
        "{text}"
    );
    assert_eq!(text.matches("Connection: close").count(), 1, "D-15");

    let out = send_raw(
        server.addr(),
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.starts_with("HTTP/1.1 501 Not Implemented\r\n"),
        "{text}"
    );

    // C-05: nothing after the error is answered.
    let out = send_raw(
        server.addr(),
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&out);
    assert_eq!(text.matches("HTTP/1.").count(), 1, "{text}");
    assert!(text.contains("Content-Length is invalid"), "{text}");
}

#[test]
fn d05_content_length_with_chunked_reads_chunked_and_closes() {
    let server = ServerBuilder::new("echo:app").start();
    let out = send_raw(
        server.addr(),
        b"POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("Connection: close\r\n"), "{text}");
    assert!(text.ends_with("hello"), "{text}");
}
