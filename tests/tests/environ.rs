//! Section 10: the exact WSGI environ, through the real binary.

use std::collections::BTreeMap;

use waitress_tests::{ServerBuilder, request};

fn environ_of(server: &waitress_tests::Server, raw: &[u8]) -> BTreeMap<String, String> {
    let resp = request(server.addr(), raw);
    assert_eq!(resp.status, 200, "{}", resp.text());
    parse_json_object(&resp.text())
}

/// The fixture app sends a flat JSON object of strings.
fn parse_json_object(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = text.trim().chars().peekable();
    assert_eq!(chars.next(), Some('{'));
    let read_string = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| -> String {
        while chars.peek() == Some(&' ') || chars.peek() == Some(&',') {
            chars.next();
        }
        assert_eq!(chars.next(), Some('"'), "string expected in {text}");
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('r') => s.push('\r'),
                    Some('u') => {
                        let hex: String = chars.by_ref().take(4).collect();
                        s.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                    }
                    Some(other) => s.push(other),
                    None => break,
                },
                c => s.push(c),
            }
        }
        s
    };
    loop {
        while chars.peek() == Some(&' ') || chars.peek() == Some(&',') {
            chars.next();
        }
        if chars.peek() == Some(&'}') {
            break;
        }
        let key = read_string(&mut chars);
        while chars.peek() == Some(&':') || chars.peek() == Some(&' ') {
            chars.next();
        }
        let value = read_string(&mut chars);
        out.insert(key, value);
    }
    out
}

/// PEP 3333: `wsgi.multiprocess` is true where the app also runs in other
/// processes at the same time: sibling workers, or a recycled worker and its
/// successor (waitress, one process, says False: checked above).
#[cfg(unix)]
#[test]
fn wsgi_multiprocess_is_true_in_supervised_worker_processes() {
    for args in [
        &["--workers=2"][..],
        &["--workers=1", "--max-requests=1000"],
    ] {
        let mut builder = ServerBuilder::new("environ_dump:app");
        for arg in args {
            builder = builder.arg(*arg);
        }
        let server = builder.start();
        let env = environ_of(
            &server,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(
            env.get("wsgi.multiprocess").map(String::as_str),
            Some("True"),
            "{args:?}"
        );
        assert_eq!(
            env.get("wsgi.multithread").map(String::as_str),
            Some("True")
        );
    }
}

#[test]
fn every_section_10_key_has_waitress_value() {
    let server = ServerBuilder::new("environ_dump:app").start();
    let env = environ_of(
        &server,
        b"POST /a%20b/c?x=1+2&y=%20 HTTP/1.1\r\nHost: example.com:8080\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nX-Custom: v1\r\nx-custom: v2\r\n\r\nabc",
    );
    let port = server.port().to_string();
    let expect = [
        ("REQUEST_METHOD", "POST"),
        ("SCRIPT_NAME", ""),
        ("PATH_INFO", "/a b/c"),
        ("QUERY_STRING", "x=1+2&y=%20"),
        ("REQUEST_URI", "/a%20b/c?x=1+2&y=%20"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("SERVER_NAME", "waitress.invalid"),
        ("SERVER_PORT", port.as_str()),
        ("SERVER_SOFTWARE", "waitress"),
        ("REMOTE_ADDR", "127.0.0.1"),
        ("REMOTE_HOST", "127.0.0.1"),
        ("CONTENT_TYPE", "text/plain"),
        ("CONTENT_LENGTH", "3"),
        ("HTTP_HOST", "example.com:8080"),
        ("HTTP_X_CUSTOM", "v1, v2"),
        ("wsgi.version", "(1, 0)"),
        ("wsgi.url_scheme", "http"),
        ("wsgi.input", "input"),
        ("wsgi.errors", "sys.stderr"),
        ("wsgi.multithread", "True"),
        ("wsgi.multiprocess", "False"),
        ("wsgi.run_once", "False"),
        ("wsgi.file_wrapper", "file_wrapper"),
        ("wsgi.input_terminated", "True"),
        ("waitress.client_disconnected", "callable:False"),
    ];
    for (key, value) in expect {
        assert_eq!(
            env.get(key).map(String::as_str),
            Some(value),
            "{key} in {env:?}"
        );
    }
    let remote_port: u16 = env["REMOTE_PORT"].parse().expect("numeric REMOTE_PORT");
    assert!(remote_port > 0);
    let mut extra: Vec<&String> = env
        .keys()
        .filter(|k| !expect.iter().any(|(e, _)| e == k) && k.as_str() != "REMOTE_PORT")
        .collect();
    extra.sort();
    assert!(extra.is_empty(), "unexpected environ keys: {extra:?}");
}

/// F-08/F-09 for the headers browsers send (their keys come ready-made
/// from a table, the others are built per request): any spelling of the
/// name, repeats joined, and the app can look every key up as usual.
#[test]
fn f08_f09_common_and_other_header_keys_reach_the_app_alike() {
    let server = ServerBuilder::new("environ_dump:app").start();
    let env = environ_of(
        &server,
        b"GET / HTTP/1.1\r\nhost: h\r\nUSER-AGENT: ua\r\nAccept-Encoding: gzip\r\n\
Cookie: a=1\r\nSec-Fetch-Mode: navigate\r\nX-Trace: t1\r\ncookie: b=2\r\n\
accept-encoding: br\r\nx-trace: t2\r\nConnection: close\r\n\r\n",
    );
    let expect = [
        ("HTTP_HOST", "h"),
        ("HTTP_USER_AGENT", "ua"),
        ("HTTP_ACCEPT_ENCODING", "gzip, br"),
        ("HTTP_COOKIE", "a=1; b=2"),
        ("HTTP_SEC_FETCH_MODE", "navigate"),
        ("HTTP_X_TRACE", "t1, t2"),
        ("HTTP_CONNECTION", "close"),
    ];
    for (key, value) in expect {
        assert_eq!(
            env.get(key).map(String::as_str),
            Some(value),
            "{key} in {env:?}"
        );
    }
    let headers = env.keys().filter(|k| k.starts_with("HTTP_")).count();
    assert_eq!(headers, expect.len(), "{env:?}");
}

#[test]
fn no_body_means_no_content_keys_and_underscore_headers_are_dropped() {
    let server = ServerBuilder::new("environ_dump:app").start();
    let env = environ_of(
        &server,
        b"GET /p HTTP/1.0\r\nX_Spoof: 1\r\nScript-Name: /evil\r\n\r\n",
    );
    assert_eq!(env["SERVER_PROTOCOL"], "HTTP/1.0");
    assert_eq!(env["QUERY_STRING"], "");
    assert!(!env.contains_key("CONTENT_LENGTH"));
    assert!(!env.contains_key("CONTENT_TYPE"));
    // F-07 and "a header can never overwrite a CGI key".
    assert!(!env.contains_key("HTTP_X_SPOOF"));
    assert_eq!(env["SCRIPT_NAME"], "");
    assert_eq!(env["HTTP_SCRIPT_NAME"], "/evil");
}

#[test]
fn settings_shape_the_environ() {
    let server = ServerBuilder::new("environ_dump:app")
        .arg("--url-prefix=app/")
        .arg("--url-scheme=https")
        .arg("--server-name=example.org")
        .arg("--ident=myserver")
        .start();
    let env = environ_of(&server, b"GET /app/x?q HTTP/1.1\r\nHost: h\r\n\r\n");
    // U-07: prefix normalised to /app and split off PATH_INFO.
    assert_eq!(env["SCRIPT_NAME"], "/app");
    assert_eq!(env["PATH_INFO"], "/x");
    assert_eq!(env["wsgi.url_scheme"], "https");
    assert_eq!(env["SERVER_NAME"], "example.org");
    assert_eq!(env["SERVER_SOFTWARE"], "myserver");
}

/// Values many requests share (methods, protocol versions, the server's
/// name and scheme) are made once by the worker; each request must still
/// see its own, also where a trusted proxy replaces the server's.
#[test]
fn shared_values_are_each_request_s_own() {
    let server = ServerBuilder::new("environ_dump:app")
        .arg("--trusted-proxy=127.0.0.1")
        .arg("--trusted-proxy-headers=x-forwarded-host x-forwarded-proto")
        .start();
    for (request, method, protocol) in [
        (&b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"[..], "GET", "HTTP/1.1"),
        (b"DELETE / HTTP/1.0\r\n\r\n", "DELETE", "HTTP/1.0"),
        (b"PURGE / HTTP/1.1\r\nHost: h\r\n\r\n", "PURGE", "HTTP/1.1"),
        (
            b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
            "OPTIONS",
            "HTTP/1.1",
        ),
    ] {
        let env = environ_of(&server, request);
        assert_eq!(env["REQUEST_METHOD"], method);
        assert_eq!(env["SERVER_PROTOCOL"], protocol);
        assert_eq!(env["SERVER_NAME"], "waitress.invalid");
        assert_eq!(env["wsgi.url_scheme"], "http");
        assert_eq!(env["REMOTE_HOST"], env["REMOTE_ADDR"]);
    }
    let env = environ_of(
        &server,
        b"GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-Host: proxied.example:8443\r\nX-Forwarded-Proto: https\r\n\r\n",
    );
    assert_eq!(env["SERVER_NAME"], "proxied.example");
    assert_eq!(env["wsgi.url_scheme"], "https");
    let env = environ_of(&server, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(env["SERVER_NAME"], "waitress.invalid");
    assert_eq!(env["wsgi.url_scheme"], "http");
}

#[test]
fn untrusted_proxy_headers_are_removed_by_default() {
    let server = ServerBuilder::new("environ_dump:app").start();
    let env = environ_of(
        &server,
        b"GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\nForwarded: for=1.2.3.4\r\nX-Other: kept\r\n\r\n",
    );
    // P-01/P-03: cleared even with no trusted proxy configured.
    assert!(!env.contains_key("HTTP_X_FORWARDED_FOR"));
    assert!(!env.contains_key("HTTP_X_FORWARDED_PROTO"));
    assert!(!env.contains_key("HTTP_FORWARDED"));
    assert_eq!(env["HTTP_X_OTHER"], "kept");
    assert_eq!(env["REMOTE_ADDR"], "127.0.0.1");
    assert_eq!(env["wsgi.url_scheme"], "http");
}
