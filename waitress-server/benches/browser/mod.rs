//! The browser request the staging and environ benchmarks share, and the
//! connection and settings it arrives with.

use bytes::BytesMut;
use waitress_proto::{Event, Limits, RequestHead, RequestParser};
use waitress_server::internals::{ConnInfo, EnvironSettings};

/// A page load as a current browser sends it: 14 headers, 13 of them among
/// the names `waitress_proto::KNOWN_CGI_NAMES` holds.
pub const BROWSER_REQUEST: &[u8] = b"GET /articles/42?ref=home&lang=en HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Connection: keep-alive\r\n\
Referer: https://www.example.com/\r\n\
Cookie: session=abc123; theme=dark\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: document\r\n\
Sec-Fetch-Mode: navigate\r\n\
Sec-Fetch-Site: same-origin\r\n\
X-Custom-Trace: 7f3a\r\n\
\r\n";

pub fn conn() -> ConnInfo {
    ConnInfo {
        remote_addr: "127.0.0.1".into(),
        remote_port: "51234".into(),
        server_port: "8080".into(),
    }
}

pub fn settings() -> EnvironSettings {
    EnvironSettings {
        url_prefix: String::new(),
        url_scheme: "http".into(),
        server_name: "waitress.invalid".into(),
    }
}

/// `BROWSER_REQUEST` through a fresh parser.
pub fn parse(bytes: &[u8]) -> Box<RequestHead> {
    let mut parser = RequestParser::new(Limits::default());
    let mut buf = BytesMut::from(bytes);
    match parser.poll(&mut buf) {
        Ok(Some(Event::Head(head))) => head,
        other => panic!("the request parses: {other:?}"),
    }
}
