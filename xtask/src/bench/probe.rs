//! One plain HTTP/1.1 request before each measurement: the server must be
//! serving the app and answer correctly, or its numbers would mean nothing.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use super::workloads::{Expect, FILE_BYTES, Workload};

/// Generous: the first request may import the app (Flask) on a busy machine.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest response any workload produces, plus room for the head.
const MAX_RESPONSE_BYTES: u64 = FILE_BYTES as u64 + 1024 * 1024;

/// What the probe learnt beyond "correct".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProbeInfo {
    /// The `X-File-Wrapper` header of bench/apps/file.py: `server` or
    /// `fallback` (the server has no wsgi.file_wrapper).
    pub file_wrapper: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends the workload's request to 127.0.0.1:`port` and checks the answer.
pub fn probe(port: u16, workload: Workload) -> Result<ProbeInfo, String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let io = |e: std::io::Error| format!("probe request to {addr}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT).map_err(io)?;
    stream.set_read_timeout(Some(PROBE_TIMEOUT)).map_err(io)?;
    stream.set_write_timeout(Some(PROBE_TIMEOUT)).map_err(io)?;
    stream.write_all(&request(workload)).map_err(io)?;
    let mut raw = Vec::new();
    stream
        .take(MAX_RESPONSE_BYTES)
        .read_to_end(&mut raw)
        .map_err(io)?;
    let response = parse_response(&raw)?;
    check(workload, &response)?;
    Ok(ProbeInfo {
        file_wrapper: response.header("X-File-Wrapper").map(str::to_string),
    })
}

/// The request bytes: a GET, or for `echo` a POST of the same size wrk sends.
pub fn request(workload: Workload) -> Vec<u8> {
    let mut out = Vec::new();
    match workload.probe_body_len() {
        None => {
            out.extend_from_slice(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        }
        Some(len) => {
            out.extend_from_slice(
                format!(
                    "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
                     Content-Type: application/octet-stream\r\nContent-Length: {len}\r\n\r\n"
                )
                .as_bytes(),
            );
            out.resize(out.len() + len, b'x');
        }
    }
    out
}

/// Checks status and body against the workload's expectation.
pub fn check(workload: Workload, response: &Response) -> Result<(), String> {
    let name = workload.name();
    if response.status != 200 {
        let start = String::from_utf8_lossy(response.body.get(..200).unwrap_or(&response.body));
        return Err(format!(
            "probe of `{name}`: status {} ({start})",
            response.status
        ));
    }
    match workload.expect() {
        Expect::Body(want) if response.body != want => Err(format!(
            "probe of `{name}`: body {:?}, expected {:?}",
            String::from_utf8_lossy(response.body.get(..100).unwrap_or(&response.body)),
            String::from_utf8_lossy(want)
        )),
        Expect::Length(want) if response.body.len() != want => Err(format!(
            "probe of `{name}`: body of {} bytes, expected {want}",
            response.body.len()
        )),
        _ => Ok(()),
    }
}

/// Parses a complete response read until the server closed the connection.
pub fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let head_end = find(raw, b"\r\n\r\n").ok_or("probe: response has no complete head")?;
    let head = std::str::from_utf8(raw.get(..head_end).unwrap_or_default())
        .map_err(|_| "probe: response head is not UTF-8")?;
    let rest = raw.get(head_end + 4..).unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or_else(|| format!("probe: bad status line {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("probe: bad header line {line:?}"))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    response.body = if response
        .header("Transfer-Encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        decode_chunked(rest)?
    } else if let Some(len) = response.header("Content-Length") {
        let len: usize = len
            .parse()
            .map_err(|_| format!("probe: bad Content-Length {len:?}"))?;
        if rest.len() != len {
            return Err(format!(
                "probe: Content-Length {len} but {} body bytes before the close",
                rest.len()
            ));
        }
        rest.to_vec()
    } else {
        rest.to_vec()
    };
    Ok(response)
}

/// Decodes a whole chunked body (extensions ignored, trailers allowed).
pub fn decode_chunked(mut input: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = find(input, b"\r\n").ok_or("probe: chunk size line not terminated")?;
        let line = std::str::from_utf8(input.get(..line_end).unwrap_or_default())
            .map_err(|_| "probe: chunk size is not ASCII")?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("probe: bad chunk size {size_text:?}"))?;
        input = input.get(line_end + 2..).unwrap_or_default();
        if size == 0 {
            // Trailers (if any) end with an empty line.
            return if input.starts_with(b"\r\n") || find(input, b"\r\n\r\n").is_some() {
                Ok(body)
            } else {
                Err("probe: chunked body ends without its final CRLF".into())
            };
        }
        let data = input
            .get(..size)
            .ok_or_else(|| format!("probe: chunk of {size} bytes is cut short"))?;
        body.extend_from_slice(data);
        input = input.get(size..).unwrap_or_default();
        input = input
            .strip_prefix(b"\r\n")
            .ok_or("probe: chunk data not followed by CRLF")?;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_response() {
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nX-File-Wrapper: server\r\n\r\nHello, world!",
        )
        .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"Hello, world!");
        assert_eq!(r.header("x-file-wrapper"), Some("server"));
        assert!(check(Workload::Hello, &r).is_ok());
        assert!(check(Workload::Echo, &r).unwrap_err().contains("65536"));
    }

    #[test]
    fn short_content_length_body_is_an_error() {
        let err = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nHello, world!")
            .unwrap_err();
        assert!(err.contains("13 body bytes"), "{err}");
    }

    #[test]
    fn chunked_and_close_delimited_bodies() {
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                        5;ext=1\r\nHello\r\n8\r\n, world!\r\n0\r\nX-T: 1\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap().body, b"Hello, world!");
        let closed = b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nHello, world!";
        assert_eq!(parse_response(closed).unwrap().body, b"Hello, world!");
    }

    #[test]
    fn every_truncation_of_a_chunked_body_is_an_error() {
        let body = b"5\r\nHello\r\n8\r\n, world!\r\n0\r\n\r\n";
        assert_eq!(decode_chunked(body).unwrap(), b"Hello, world!");
        for cut in 0..body.len() {
            assert!(decode_chunked(&body[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn malformed_responses() {
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse_response(b"SPDY 200 OK\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 abc OK\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n").is_err());
        assert!(decode_chunked(b"zz\r\n").is_err());
        assert!(decode_chunked(b"2\r\nabc\r\n0\r\n\r\n").is_err());
        // A trailer without the empty line that ends the message.
        assert!(decode_chunked(b"0\r\nX-T: 1\r\n").is_err());
    }

    #[test]
    fn errors_name_the_status() {
        let r =
            parse_response(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops")
                .unwrap();
        assert!(
            check(Workload::Hello, &r)
                .unwrap_err()
                .contains("500 (oops)")
        );
    }

    #[test]
    fn echo_request_carries_the_body() {
        let req = request(Workload::Echo);
        let head_end = find(&req, b"\r\n\r\n").unwrap();
        assert_eq!(req.len() - head_end - 4, 65536);
        assert!(String::from_utf8_lossy(&req[..head_end]).contains("Content-Length: 65536"));
        assert!(request(Workload::Hello).starts_with(b"GET / HTTP/1.1\r\n"));
    }
}
