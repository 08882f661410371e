//! One table per rule id of sections 1-7 of the waitress behaviour reference
//! (with the section 0 decisions). Every input runs whole, split at every
//! byte and byte by byte (support::parse_all).

mod support;

use support::{Item, Outcome, parse, parse_all, small_limits};
use waitress_proto::{BodyKind, CgiName, Limits, Version};

/// Expected error: status, status-line version, detail.
fn err(input: &[u8], limits: Limits, status: u16, version: Version, detail: &str) {
    let out = parse_all(input, limits);
    let e = out
        .error()
        .unwrap_or_else(|| panic!("no error for {:?}: {out:?}", String::from_utf8_lossy(input)));
    assert_eq!(
        (e.status(), e.version, e.detail().as_str()),
        (status, version, detail),
        "input {:?}",
        String::from_utf8_lossy(input)
    );
}

macro_rules! error_table {
    ($name:ident, $limits:expr, [ $( $input:expr => ($status:expr, $version:ident, $detail:expr) ),* $(,)? ]) => {
        #[test]
        fn $name() {
            $( err($input, $limits, $status, Version::$version, $detail); )*
        }
    };
}

macro_rules! ok_table {
    ($name:ident, [ $( $input:expr => $check:expr ),* $(,)? ]) => {
        #[test]
        fn $name() {
            $(
                let out = parse($input);
                assert!(out.error().is_none(), "unexpected error for {:?}: {:?}", String::from_utf8_lossy($input), out.error());
                let check: &dyn Fn(&Outcome) = &$check;
                check(&out);
            )*
        }
    };
}

const D: Limits = Limits {
    max_request_header_size: 262_144,
    max_request_body_size: 1_073_741_824,
};

fn headers(out: &Outcome) -> Vec<(String, String)> {
    out.head().headers.clone()
}

fn hv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// CGI variables as `cgi_variables` returns them.
fn cv(pairs: &[(&str, &str)]) -> Vec<(CgiName, String)> {
    pairs
        .iter()
        .map(|(n, v)| (CgiName::from(n.to_string()), v.to_string()))
        .collect()
}

// ---- section 1 ----

ok_table!(h01_end_of_head_is_crlfcrlf, [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" => |o| assert_eq!(o.items.len(), 2),
    // Bare LF never ends a head: the request just waits.
    b"GET / HTTP/1.1\nHost: a\n\n" => |o| { assert!(o.items.is_empty()); assert_eq!(o.leftover.len(), 24); },
    b"GET / HTTP/1.1\r\nHost: a\r\n\n" => |o| assert!(o.items.is_empty()),
]);

error_table!(h01_bare_lf_head_waits_until_the_limit, small_limits(20, 100), [
    b"GET / HTTP/1.1\nHost: a\n\n" => (431, Http10, "exceeds max_header of 20"),
]);

error_table!(h02_header_size_limit, small_limits(30, 1000), [
    // Complete head of exactly 30 bytes: `>=` rejects it.
    b"GET / HTTP/1.1\r\nHost: abcdef\r\n\r\n" => (431, Http11, "exceeds max_header of 30"),
    // Incomplete and already too long (D-15: version known from the line).
    b"GET / HTTP/1.0\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaa" => (431, Http10, "exceeds max_header of 30"),
    b"GET / HTTP/1.1\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaa" => (431, Http11, "exceeds max_header of 30"),
    // No request line yet: HTTP/1.0.
    b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" => (431, Http10, "exceeds max_header of 30"),
    // Leading blank lines count (when they do not form a blank head of their own).
    b" \r\n \r\n \r\n \r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n" => (431, Http11, "exceeds max_header of 30"),
    // Invalid request line: HTTP/1.0.
    b"get / HTTP/1.1\r\nHost: abcdefghijklmnop\r\n\r\n" => (431, Http10, "exceeds max_header of 30"),
]);

#[test]
fn h02_h03_each_blank_head_is_counted_alone() {
    let out = parse_all(
        b"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        small_limits(30, 10),
    );
    assert_eq!(out.heads().len(), 1);
}

#[test]
fn h02_limit_counts_only_the_head() {
    // 29-byte head followed by a body: accepted.
    let input = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
    let head_len = input.len() - 5;
    let out = parse_all(input, small_limits(head_len + 1, 1000));
    assert!(out.error().is_none());
    assert_eq!(out.bodies(), vec![b"hello".to_vec()]);
    let out = parse_all(input, small_limits(head_len, 1000));
    assert_eq!(out.error().map(|e| e.status()), Some(431));
}

ok_table!(h03_leading_whitespace_and_blank_requests, [
    b"\r\n\r\n" => |o| { assert!(o.items.is_empty()); assert!(o.leftover.is_empty()); },
    b"  \t\x0b\x0c\r\n\r\n" => |o| { assert!(o.items.is_empty()); assert!(o.leftover.is_empty()); },
    b"\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n" => |o| assert_eq!(o.head().method, "GET"),
    b"\r\n \t\nGET / HTTP/1.1\r\nHost: a\r\n\r\n" => |o| assert_eq!(o.head().request_uri, "/"),
    b"\x0bGET / HTTP/1.0\r\n\r\n" => |o| assert_eq!(o.head().version, Version::Http10),
    // After a request, a stray CRLF pair is silently consumed.
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n\r\n" => |o| { assert_eq!(o.items.len(), 2); assert!(o.leftover.is_empty()); },
]);

error_table!(h04_order_of_checks, D, [
    // (2) beats (3) and (4)
    b"get /\r x HTTP/1.1\r\nX : y\r\n\r\n" => (400, Http10, "Bare CR or LF found in HTTP message"),
    // (3) beats (4)
    b"get / HTTP/1.1\r\nX : y\r\n\r\n" => (400, Http10, "Invalid header"),
    // a bare LF anywhere beats an earlier syntax error
    b"GET / HTTP/1.1\r\nX : y\r\nA: b\nc\r\n\r\n" => (400, Http11, "Bare CR or LF found in header line \"A: b\nc\""),
    // (4) beats (5)
    b"get / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n" => (400, Http10, "Malformed HTTP method \"get\""),
    // (5) beats (6) and (7)
    b"GET /\xe9 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nContent-Length: x\r\n\r\n" => (501, Http11, "Transfer-Encoding requested is not supported."),
    // (6) beats (7)
    b"GET /\xe9 HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n" => (400, Http11, "Bad URI"),
    b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n" => (400, Http11, "Content-Length is invalid"),
    // (7) beats B-03
    b"POST / HTTP/1.0\r\nContent-Length: 1x\r\n\r\n" => (400, Http10, "Content-Length is invalid"),
]);

// ---- section 2 ----

ok_table!(l01_trailing_whitespace_on_request_line, [
    b"GET / HTTP/1.1  \t\r\nHost: a\r\n\r\n" => |o| assert_eq!(o.head().version, Version::Http11),
    b"GET / HTTP/1.1\x0b\x0c\r\nHost: a\r\n\r\n" => |o| assert_eq!(o.head().request_uri, "/"),
]);

error_table!(l02_bare_cr_lf_in_request_line, D, [
    b"GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n" => (400, Http10, "Bare CR or LF found in HTTP message"),
    b"GET /a\nb HTTP/1.1\r\nHost: a\r\n\r\n" => (400, Http10, "Bare CR or LF found in HTTP message"),
    b"GET / HTTP/1.1\nHost: a\r\n\r\n" => (400, Http10, "Bare CR or LF found in HTTP message"),
    // L-01 strips SP/HT/VT/FF only: a bare LF or CR before the CRLF is rejected.
    b"GET / HTTP/1.1\n\r\nHost: a\r\n\r\n" => (400, Http10, "Bare CR or LF found in HTTP message"),
    b"GET / HTTP/1.1\r\r\nHost: a\r\n\r\n" => (400, Http10, "Bare CR or LF found in HTTP message"),
]);

error_table!(l03_request_line_grammar, D, [
    b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n" => (400, Http10, "Start line is invalid"),
    b"GET / HTTP/1.1 junk\r\nHost: a\r\n\r\n" => (400, Http10, "Start line is invalid"),
    b"GET / http/1.1\r\nHost: a\r\n\r\n" => (400, Http10, "Start line is invalid"),
    b"GET / HTTP/1.x\r\nHost: a\r\n\r\n" => (400, Http10, "Start line is invalid"),
    b"GET / HTTP/11\r\nHost: a\r\n\r\n" => (400, Http10, "Start line is invalid"),
    b"G\x00T / HTTP/1.1\r\nHost: a\r\n\r\n" => (400, Http10, "Start line is invalid"),
    b"GE(T / HTTP/1.1\r\nHost: a\r\n\r\n" => (400, Http10, "Start line is invalid"),
    b"GET\r\n\r\n" => (400, Http10, "Start line is invalid"),
    // D-03: a version is required.
    b"GET /\r\n\r\n" => (400, Http10, "Start line is invalid"),
]);

ok_table!(l03_valid_request_lines, [
    b"M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n" => |o| { assert_eq!(o.head().method, "M-SEARCH"); assert_eq!(o.head().path, "*"); },
    b"FROB /x HTTP/1.1\r\nHost: a\r\n\r\n" => |o| assert_eq!(o.head().method, "FROB"),
    b"GET /a\tb#frag HTTP/1.1\r\nHost: a\r\n\r\n" => |o| assert_eq!(o.head().request_uri, "/a\tb#frag"),
]);

error_table!(l04_method_case, D, [
    b"get / HTTP/1.1\r\nHost: a\r\n\r\n" => (400, Http10, "Malformed HTTP method \"get\""),
    b"Get / HTTP/1.1\r\nHost: a\r\n\r\n" => (400, Http10, "Malformed HTTP method \"Get\""),
    b"m-search * HTTP/1.0\r\n\r\n" => (400, Http10, "Malformed HTTP method \"m-search\""),
]);

ok_table!(l05_d03_versions_served, [
    b"GET / HTTP/1.0\r\n\r\n" => |o| assert_eq!(o.head().version, Version::Http10),
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" => |o| assert_eq!(o.head().version, Version::Http11),
    b"GET / HTTP/1.2\r\nHost: a\r\n\r\n" => |o| assert_eq!(o.head().version, Version::Http11),
    b"GET / HTTP/1.9\r\nHost: a\r\n\r\n" => |o| assert_eq!(o.head().version, Version::Http11),
]);

error_table!(l05_d03_unsupported_versions, D, [
    b"GET / HTTP/0.9\r\n\r\n" => (505, Http10, "HTTP version \"HTTP/0.9\" is not supported"),
    b"GET / HTTP/2.0\r\nHost: a\r\n\r\n" => (505, Http10, "HTTP version \"HTTP/2.0\" is not supported"),
    b"GET / HTTP/9.9\r\n\r\n" => (505, Http10, "HTTP version \"HTTP/9.9\" is not supported"),
]);

// ---- section 3 ----

error_table!(f01_bare_cr_lf_in_header_line, D, [
    b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n" => (400, Http11, "Bare CR or LF found in header line \"X-A: b\rc\""),
    b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\nc\r\n\r\n" => (400, Http11, "Bare CR or LF found in header line \"X-A: b\nc\""),
    b"GET / HTTP/1.0\r\nX-A: \xe9\n\r\n\r\n" => (400, Http10, "Bare CR or LF found in header line \"X-A: \u{e9}\n\""),
    b"GET / HTTP/1.1\r\nHost: a\r\n\nX: y\r\n\r\n" => (400, Http11, "Bare CR or LF found in header line \"\nX: y\""),
]);

error_table!(f02_d01_obs_fold_rejected, D, [
    b"GET / HTTP/1.1\r\n X: y\r\nHost: a\r\n\r\n" => (400, Http11, "Malformed header line \" X: y\""),
    b"GET / HTTP/1.1\r\n\tX: y\r\n\r\n" => (400, Http11, "Malformed header line \"\tX: y\""),
    b"GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n  two\r\n\r\n" => (400, Http11, "Invalid header"),
    b"GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\tthree\r\n\r\n" => (400, Http11, "Invalid header"),
    // smuggling attempt: a folded Transfer-Encoding
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" => (400, Http11, "Invalid header"),
]);

error_table!(f03_field_syntax, D, [
    b"GET / HTTP/1.1\r\nHost: a\r\nX : 1\r\n\r\n" => (400, Http11, "Invalid header"),
    b"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n" => (400, Http11, "Invalid header"),
    b"GET / HTTP/1.1\r\nHost: a\r\nX@A: 1\r\n\r\n" => (400, Http11, "Invalid header"),
    b"GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n" => (400, Http11, "Invalid header"),
    b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n" => (400, Http11, "Invalid header"),
    b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n" => (400, Http11, "Invalid header"),
    b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x0bb\r\n\r\n" => (400, Http11, "Invalid header"),
    b"GET / HTTP/1.1\r\nHost: a\r\nX\xe9: 1\r\n\r\n" => (400, Http11, "Invalid header"),
    b"GET / HTTP/1.0\r\nX:\x01\r\n\r\n" => (400, Http10, "Invalid header"),
]);

ok_table!(f04_f05_f06_values, [
    b"GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Ws: \t \r\n\r\n" => |o| assert_eq!(headers(o), hv(&[("Host", "a"), ("X-Empty", ""), ("X-Ws", "")])),
    b"GET / HTTP/1.1\r\nHost: a\r\nX-A: \t one \t two\t \r\n\r\n" => |o| assert_eq!(headers(o)[1].1, "one \t two"),
    b"GET / HTTP/1.1\r\nHost: a\r\nX-A: \xa0v\x85\r\n\r\n" => |o| assert_eq!(headers(o)[1].1, "\u{a0}v\u{85}"),
    b"GET / HTTP/1.1\r\nHost: a\r\nX-U: \xc3\xa9\r\n\r\n" => |o| assert_eq!(headers(o)[1].1, "\u{c3}\u{a9}"),
    b"GET / HTTP/1.1\r\nhOsT: a\r\nx-lower:1\r\n\r\n" => |o| assert_eq!(headers(o), hv(&[("hOsT", "a"), ("x-lower", "1")])),
]);

ok_table!(f07_underscore_names_dropped, [
    b"GET / HTTP/1.1\r\nHost: a\r\nX_Foo: 1\r\nX-Foo: 2\r\n\r\n" => |o| assert_eq!(headers(o), hv(&[("Host", "a"), ("X-Foo", "2")])),
    // an underscore Content_Length does not frame the body
    b"POST / HTTP/1.1\r\nHost: a\r\nContent_Length: 5\r\n\r\n" => |o| { assert_eq!(o.head().body, BodyKind::Empty); assert_eq!(o.items.len(), 2); },
    // and an underscore Transfer_Encoding does not make it chunked
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n" => |o| assert_eq!(o.head().body, BodyKind::Empty),
]);

ok_table!(f08_f09_repeated_headers_joined, [
    b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nX-A: 2\r\nx-a: 3\r\n\r\n" => |o| {
        let vars = o.head().cgi_variables(0);
        assert_eq!(vars, cv(&[("HTTP_HOST", "a"), ("HTTP_X_A", "1, 2, 3")]));
    },
    // D-16
    b"GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n" => |o| {
        assert_eq!(o.head().cgi_variables(0)[1..2], cv(&[("HTTP_COOKIE", "a=1; b=2")]));
    },
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Type: text/x\r\nContent-Length: 002\r\n\r\nab" => |o| {
        assert_eq!(o.head().cgi_variables(2), cv(&[("HTTP_HOST", "a"), ("CONTENT_TYPE", "text/x"), ("CONTENT_LENGTH", "002")]));
    },
]);

error_table!(f09_singleton_duplicates, D, [
    b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n" => (400, Http11, "Duplicate header: host"),
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nCONTENT-LENGTH: 2\r\n\r\nab" => (400, Http11, "Duplicate header: CONTENT-LENGTH"),
    b"POST / HTTP/1.0\r\nContent-Type: a\r\nContent-type: b\r\n\r\n" => (400, Http10, "Duplicate header: Content-type"),
    // a duplicate beats a later syntax error
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nX : 1\r\n\r\n" => (400, Http11, "Duplicate header: Host"),
]);

error_table!(f10_d02_host_required_and_validated, D, [
    b"GET / HTTP/1.1\r\n\r\n" => (400, Http11, "Missing Host header"),
    b"GET / HTTP/1.2\r\nX: y\r\n\r\n" => (400, Http11, "Missing Host header"),
    b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n" => (400, Http11, "Invalid Host header"),
    b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n" => (400, Http11, "Invalid Host header"),
    b"GET / HTTP/1.1\r\nHost: a:b\r\n\r\n" => (400, Http11, "Invalid Host header"),
    b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n" => (400, Http11, "Invalid Host header"),
    b"GET / HTTP/1.0\r\nHost: a@b\r\n\r\n" => (400, Http10, "Invalid Host header"),
]);

ok_table!(f10_d02_valid_hosts, [
    b"GET / HTTP/1.0\r\n\r\n" => |o| assert!(o.head().headers.is_empty()),
    b"GET / HTTP/1.1\r\nHost:\r\n\r\n" => |o| assert_eq!(headers(o), hv(&[("Host", "")])),
    b"GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n" => |o| assert_eq!(o.head().header("host"), Some("example.com:8080")),
    b"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n" => |o| assert_eq!(o.head().header("HOST"), Some("[::1]:80")),
]);

ok_table!(f11_d08_connection_token_list, [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" => |o| assert!(o.head().keep_alive),
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" => |o| assert!(!o.head().keep_alive),
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close, te\r\n\r\n" => |o| assert!(!o.head().keep_alive),
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: te\r\nConnection: CLOSE\r\n\r\n" => |o| assert!(!o.head().keep_alive),
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n" => |o| assert!(o.head().keep_alive),
    b"GET / HTTP/1.0\r\n\r\n" => |o| assert!(!o.head().keep_alive),
    b"GET / HTTP/1.0\r\nConnection: keep-alive, foo\r\n\r\n" => |o| assert!(o.head().keep_alive),
    b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n" => |o| assert!(o.head().keep_alive),
    b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n" => |o| assert!(!o.head().keep_alive),
    b"GET / HTTP/1.0\r\nConnection: keep-alived\r\n\r\n" => |o| assert!(!o.head().keep_alive),
]);

// ---- section 4 ----

fn target(t: &str) -> (String, String, String) {
    let input = format!("GET {t} HTTP/1.1\r\nHost: a\r\n\r\n");
    let out = parse_all(&latin1(&input), Limits::default());
    let h = out.head();
    (h.request_uri.clone(), h.path.clone(), h.query.clone())
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("latin-1 test input"))
        .collect()
}

#[test]
fn u01_request_uri_is_raw() {
    assert_eq!(target("/a%20b?x=%41#frag").0, "/a%20b?x=%41#frag");
    assert_eq!(target("//\u{e9}?q").0, "//\u{e9}?q");
}

#[test]
fn u02_double_slash_targets_split_by_hand() {
    assert_eq!(
        target("//a/b?q=1#f"),
        ("//a/b?q=1#f".into(), "//a/b".into(), "q=1".into())
    );
    assert_eq!(
        target("//\u{e9}/x"),
        ("//\u{e9}/x".into(), "//\u{e9}/x".into(), "".into())
    );
    assert_eq!(target("//a#f?x").2, "");
}

#[test]
fn u03_urlsplit_targets() {
    assert_eq!(target("http://host:81/p?q#f").1, "/p");
    assert_eq!(target("http://host:81/p?q#f").2, "q");
    assert_eq!(target("http://example.com").1, "");
    assert_eq!(target("localhost:8080/x").1, "8080/x");
    assert_eq!(target("foo/bar").1, "foo/bar");
    assert_eq!(target("*").1, "*");
    assert_eq!(target("/a\tb").1, "/ab");
    assert_eq!(target("/a\tb").0, "/a\tb");
}

error_table!(u03_d07_bad_uri, D, [
    b"GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n" => (400, Http11, "Bad URI"),
    b"GET http://[::1/x HTTP/1.1\r\nHost: a\r\n\r\n" => (400, Http11, "Bad URI"),
    b"GET http://[1.2.3.4]/x HTTP/1.0\r\n\r\n" => (400, Http10, "Bad URI"),
]);

#[test]
fn u04_percent_decoding_latin1_tunnelling() {
    assert_eq!(target("/a%2Fb").1, "/a/b");
    assert_eq!(target("/%C3%A9").1, "/\u{c3}\u{a9}");
    assert_eq!(target("/%00").1, "/\0");
    assert_eq!(target("/%zz%4%").1, "/%zz%4%");
    assert_eq!(target("/a+b/../c;p").1, "/a+b/../c;p");
}

#[test]
fn u05_u07_script_name_and_path_info() {
    let head = |t: &str| {
        parse_all(
            &latin1(&format!("GET {t} HTTP/1.0\r\n\r\n")),
            Limits::default(),
        )
        .head()
        .clone()
    };
    assert_eq!(
        head("////x").script_and_path_info(""),
        ("".into(), "/x".into())
    );
    assert_eq!(
        head("//foo//bar").script_and_path_info(""),
        ("".into(), "/foo//bar".into())
    );
    assert_eq!(
        head("/app").script_and_path_info("/app"),
        ("/app".into(), "".into())
    );
    assert_eq!(
        head("/app/x").script_and_path_info("/app"),
        ("/app".into(), "/x".into())
    );
    assert_eq!(
        head("/apple").script_and_path_info("/app"),
        ("/app".into(), "/apple".into())
    );
    assert_eq!(
        head("/other").script_and_path_info("/app"),
        ("/app".into(), "/other".into())
    );
    assert_eq!(
        head("//app//x").script_and_path_info("/app"),
        ("/app".into(), "//x".into())
    );
    // path keeps the raw decoded value (before U-05)
    assert_eq!(head("////x").path, "////x");
}

#[test]
fn u06_query_string_raw() {
    assert_eq!(target("/p?a=1+2&b=%20&c").2, "a=1+2&b=%20&c");
    assert_eq!(target("/p?").2, "");
    assert_eq!(target("/p").2, "");
    assert_eq!(target("/p?a?b#c?d").2, "a?b");
}

// ---- section 5 ----

ok_table!(b01_content_length_bodies, [
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" => |o| {
        assert_eq!(o.head().body, BodyKind::Length(5));
        assert_eq!(o.bodies(), vec![b"hello".to_vec()]);
        assert_eq!(o.items.last(), Some(&Item::End));
    },
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhello" => |o| {
        assert_eq!(o.head().cgi_variables(5)[1..2], cv(&[("CONTENT_LENGTH", "005")]));
    },
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n" => |o| { assert_eq!(o.head().body, BodyKind::Empty); assert_eq!(o.items.len(), 2); },
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  3 \r\n\r\nabc" => |o| assert_eq!(o.bodies(), vec![b"abc".to_vec()]),
]);

error_table!(b01_content_length_invalid, D, [
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +2\r\n\r\nab" => (400, Http11, "Content-Length is invalid"),
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -2\r\n\r\nab" => (400, Http11, "Content-Length is invalid"),
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x2\r\n\r\nab" => (400, Http11, "Content-Length is invalid"),
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\nab" => (400, Http11, "Content-Length is invalid"),
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nab" => (400, Http11, "Content-Length is invalid"),
    b"POST / HTTP/1.0\r\nContent-Length: 1 2\r\n\r\nab" => (400, Http10, "Content-Length is invalid"),
]);

ok_table!(b02_no_length_means_no_body, [
    b"POST / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n" => |o| {
        assert_eq!(o.heads().len(), 2);
        assert_eq!(o.items, vec![o.items[0].clone(), Item::End, o.items[2].clone(), Item::End]);
    },
]);

error_table!(b03_content_length_limit, small_limits(1000, 10), [
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n" => (413, Http11, "exceeds max_body of 10"),
    b"POST / HTTP/1.0\r\nContent-Length: 99999999999999999999999\r\n\r\n" => (413, Http10, "exceeds max_body of 10"),
    // D-09: 413 at once, no 100 first.
    b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n" => (413, Http11, "exceeds max_body of 10"),
]);

#[test]
fn b03_just_below_the_limit() {
    let out = parse_all(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n123456789",
        small_limits(1000, 10),
    );
    assert_eq!(out.bodies(), vec![b"123456789".to_vec()]);
}

ok_table!(b04_exact_length_then_next_request, [
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: a\r\n\r\n" => |o| {
        assert_eq!(o.heads()[1].request_uri, "/2");
        assert_eq!(o.bodies(), vec![b"abc".to_vec(), Vec::new()]);
    },
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /2" => |o| {
        assert_eq!(o.leftover, b"GET /2".to_vec());
    },
]);

ok_table!(b05_chunked_transfer_encoding, [
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" => |o| {
        assert_eq!(o.head().body, BodyKind::Chunked);
        assert_eq!(o.head().headers, hv(&[("Host", "a")]));
        assert_eq!(o.bodies(), vec![b"hello".to_vec()]);
    },
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,CHUNKED,\r\n\r\n0\r\n\r\n" => |o| assert_eq!(o.head().body, BodyKind::Chunked),
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n" => |o| {
        assert_eq!(o.head().body, BodyKind::Empty);
        assert_eq!(o.head().headers, hv(&[("Host", "a")]));
    },
]);

error_table!(b05_transfer_encoding_501, D, [
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n" => (501, Http11, "Transfer-Encoding requested is not supported."),
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n" => (501, Http11, "Transfer-Encoding requested is not supported."),
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n" => (501, Http11, "Transfer-Encoding requested is not supported."),
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \xa0chunked\r\n\r\n" => (501, Http11, "Transfer-Encoding requested is not supported."),
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , ,chunked\r\n\r\n" => (501, Http11, "Transfer-Encoding requested is not supported."),
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" => (501, Http11, "Transfer-Encoding requested is not supported."),
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n" => (501, Http11, "Transfer-Encoding is invalid. Multiple chunked encodings requested."),
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n" => (501, Http11, "Transfer-Encoding is invalid. Multiple chunked encodings requested."),
]);

ok_table!(b06_d05_chunked_wins_over_content_length_and_closes, [
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" => |o| {
        let h = o.head();
        assert_eq!(h.body, BodyKind::Chunked);
        assert!(!h.keep_alive);
        assert_eq!(h.headers, hv(&[("Host", "a")]));
        assert_eq!(o.bodies(), vec![b"hello".to_vec()]);
        assert_eq!(h.cgi_variables(5), cv(&[("HTTP_HOST", "a"), ("CONTENT_LENGTH", "5")]));
    },
]);

error_table!(b07_d04_transfer_encoding_on_http10, D, [
    b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" => (400, Http10, "Transfer-Encoding is not allowed in HTTP/1.0"),
    b"POST / HTTP/1.0\r\nContent-Length: 3\r\nTransfer-Encoding: gzip\r\n\r\nabc" => (400, Http10, "Transfer-Encoding is not allowed in HTTP/1.0"),
]);

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut v = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    v.extend_from_slice(body);
    v
}

fn chunked_ok(body: &[u8]) -> Outcome {
    let out = parse_all(&chunked(body), Limits::default());
    assert!(
        out.error().is_none(),
        "{:?}: {:?}",
        String::from_utf8_lossy(body),
        out.error()
    );
    out
}

fn chunked_err(body: &[u8], limits: Limits, status: u16, detail: &str) {
    err(&chunked(body), limits, status, Version::Http11, detail);
}

#[test]
fn b08_size_lines_and_empty_lines() {
    assert_eq!(
        chunked_ok(b"\r\n\r\n5\r\nhello\r\n\r\n0\r\n\r\n").bodies(),
        vec![b"hello".to_vec()]
    );
    assert_eq!(
        chunked_ok(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").bodies(),
        vec![b"abcde".to_vec()]
    );
    chunked_err(
        b"5\nhello\r\n0\r\n\r\n",
        Limits::default(),
        400,
        "Invalid chunk size",
    );
}

#[test]
fn b09_chunk_extensions() {
    for ok in [
        &b"5;a\r\nhello\r\n0\r\n\r\n"[..],
        b"5;a=b;c\r\nhello\r\n0;x=\"q\\\"d\"\r\n\r\n",
        b"5;a=\"\"\r\nhello\r\n0\r\n\r\n",
    ] {
        assert_eq!(chunked_ok(ok).bodies(), vec![b"hello".to_vec()]);
    }
    for bad in [
        &b"5;\r\nhello\r\n0\r\n\r\n"[..],
        b"5;a=\r\nhello\r\n0\r\n\r\n",
        b"5 ; a=b\r\n",
        b"5;a =b\r\n",
        b"5;a=\"x\r\n",
        b"5;a=b;\r\n",
        b"zz;a b\r\n",
        b"5;a\x00\r\n",
    ] {
        chunked_err(bad, Limits::default(), 400, "Invalid chunk extension");
    }
}

#[test]
fn b10_chunk_size() {
    assert_eq!(
        chunked_ok(b"000A\r\n0123456789\r\n0\r\n\r\n").bodies(),
        vec![b"0123456789".to_vec()]
    );
    assert_eq!(
        chunked_ok(b"a\r\n0123456789\r\n0\r\n\r\n").bodies(),
        vec![b"0123456789".to_vec()]
    );
    for bad in [
        &b"+5\r\n"[..],
        b"-5\r\n",
        b"0x5\r\n",
        b" 5\r\n",
        b"5 \r\n",
        b"5\r\r\n",
        b"g\r\n",
        b";a\r\n",
        b"11111111111111111\r\n",
    ] {
        chunked_err(bad, Limits::default(), 400, "Invalid chunk size");
    }
}

#[test]
fn b10_d06_huge_sizes_are_413_not_overflow() {
    chunked_err(
        b"FFFFFFFFFFFFFFFF\r\n",
        Limits::default(),
        413,
        "exceeds max_body of 1073741824",
    );
    chunked_err(
        b"40000000\r\n",
        Limits::default(),
        413,
        "exceeds max_body of 1073741824",
    );
}

#[test]
fn b11_chunk_terminator() {
    for bad in [
        &b"5\r\nhelloX\r\n0\r\n\r\n"[..],
        b"5\r\nhello\n0\r\n\r\n",
        b"5\r\nhello\rX",
        b"5\r\nhello0\r\n\r\n",
    ] {
        chunked_err(bad, Limits::default(), 400, "Chunk not properly terminated");
    }
}

#[test]
fn b12_last_chunk_and_trailers() {
    let out = chunked_ok(b"5\r\nhello\r\n000\r\nX-T: 1\r\nY: 2\r\n\r\nGET / HTTP/1.0\r\n\r\n");
    assert_eq!(out.bodies(), vec![b"hello".to_vec(), Vec::new()]);
    assert_eq!(out.heads()[0].headers, hv(&[("Host", "a")]));
    assert_eq!(out.heads()[1].version, Version::Http10);
    let out = chunked_ok(b"0\r\n\r\n");
    assert_eq!(out.bodies(), vec![Vec::<u8>::new()]);
    // D-06: trailers use the field grammar.
    for bad in [
        &b"0\r\nX : 1\r\n\r\n"[..],
        b"0\r\n X: 1\r\n\r\n",
        b"0\r\nX: 1\nY: 2\r\n\r\n",
        b"0\r\nX: \x00\r\n\r\n",
        b"0\r\nNoColon\r\n\r\n",
        b"0\r\n\rX",
    ] {
        chunked_err(bad, Limits::default(), 400, "Invalid header");
    }
}

#[test]
fn b12_d06_trailer_size_limit() {
    let mut body = b"0\r\nX: ".to_vec();
    body.extend(std::iter::repeat_n(b'a', 100));
    body.extend_from_slice(b"\r\n\r\n");
    chunked_err(
        &body,
        small_limits(90, 10_000),
        431,
        "exceeds max_header of 90",
    );
}

#[test]
fn b13_chunked_content_length_is_decoded_length() {
    let out = chunked_ok(b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
    assert_eq!(
        out.head().cgi_variables(7).last(),
        cv(&[("CONTENT_LENGTH", "7")]).last()
    );
    let out = chunked_ok(b"0\r\n\r\n");
    assert_eq!(
        out.head().cgi_variables(0).last(),
        cv(&[("CONTENT_LENGTH", "0")]).last()
    );
}

#[test]
fn b14_chunked_limit_counts_framing() {
    // 5 data bytes, 15 bytes of framing+data in total.
    let body = b"5\r\nhello\r\n0\r\n\r\n";
    assert_eq!(
        parse_all(&chunked(body), small_limits(1000, 16)).bodies(),
        vec![b"hello".to_vec()]
    );
    chunked_err(body, small_limits(1000, 15), 413, "exceeds max_body of 15");
    chunked_err(body, small_limits(1000, 10), 413, "exceeds max_body of 10");
    // Extensions count too.
    chunked_err(
        b"1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n",
        small_limits(1000, 20),
        413,
        "exceeds max_body of 20",
    );
    // An endless size line is bounded by the limit.
    chunked_err(
        &[b'1'; 40],
        small_limits(1000, 20),
        413,
        "exceeds max_body of 20",
    );
    chunked_err(
        &[b'z'; 40],
        small_limits(1000, 20),
        413,
        "exceeds max_body of 20",
    );
}

// ---- section 6 ----

ok_table!(e01_d09_expect_continue, [
    b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx" => |o| assert!(o.head().expect_continue),
    b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" => |o| assert!(o.head().expect_continue),
    b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n" => |o| { assert!(!o.head().expect_continue); assert_eq!(o.items.len(), 2); },
    b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n" => |o| assert!(!o.head().expect_continue),
    b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx" => |o| assert!(!o.head().expect_continue),
    b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, foo\r\nContent-Length: 1\r\n\r\nx" => |o| assert!(!o.head().expect_continue),
    b"POST / HTTP/1.1\r\nHost: a\r\nExpect: foo\r\nContent-Length: 1\r\n\r\nx" => |o| {
        assert!(!o.head().expect_continue);
        assert_eq!(o.head().header("expect"), Some("foo"));
    },
]);

// ---- section 7 ----

#[test]
fn c04_pipelined_requests_in_order() {
    let input = b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiPOST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nyo\r\n0\r\n\r\nGET /4 HTTP/1.0\r\n\r\n";
    let out = parse(input);
    let uris: Vec<&str> = out.heads().iter().map(|h| h.request_uri.as_str()).collect();
    assert_eq!(uris, ["/1", "/2", "/3", "/4"]);
    assert_eq!(
        out.bodies(),
        vec![Vec::new(), b"hi".to_vec(), b"yo".to_vec(), Vec::new()]
    );
    assert!(out.leftover.is_empty());
}

#[test]
fn c05_nothing_parsed_after_an_error() {
    let out = parse(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nget / HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(out.heads().len(), 1);
    assert_eq!(out.items.len(), 3);
    assert_eq!(
        out.error().map(|e| e.detail()),
        Some("Malformed HTTP method \"get\"".to_string())
    );
}

#[test]
fn d15_error_version_from_request_line() {
    // The request's version is known from a valid request line.
    err(
        b"GET / HTTP/1.1\r\nX : 1\r\n\r\n",
        D,
        400,
        Version::Http11,
        "Invalid header",
    );
    err(
        b"GET / HTTP/1.0\r\nX : 1\r\n\r\n",
        D,
        400,
        Version::Http10,
        "Invalid header",
    );
    // Otherwise HTTP/1.0.
    err(
        b"GET / HTTP/3.0\r\nX : 1\r\n\r\n",
        D,
        400,
        Version::Http10,
        "Invalid header",
    );
}
