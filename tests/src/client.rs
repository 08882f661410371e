//! A deliberately small raw HTTP/1.x client: tests need to send exact bytes
//! and see exactly what comes back.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Read timeout for every test socket: a hang fails the test, never blocks CI.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// Headers in wire order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The decoded body (chunked framing removed).
    pub body: Vec<u8>,
    /// Whether the body was chunked on the wire.
    pub chunked: bool,
}

impl Response {
    /// First header value with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of this header.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Connects with timeouts set.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream
}

/// Sends raw bytes on a new connection and reads one response.
pub fn request(addr: SocketAddr, raw: &[u8]) -> Response {
    let mut stream = connect(addr);
    stream.write_all(raw).expect("write request");
    let mut reader = Reader::new(stream);
    reader.response(raw.starts_with(b"HEAD "))
}

/// Sends raw bytes and returns everything until the server closes.
pub fn send_raw(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    let mut stream = connect(addr);
    stream.write_all(raw).expect("write request");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

/// Reads successive responses from one connection.
pub struct Reader {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

/// Reads one response from an existing connection.
pub fn read_response(reader: &mut Reader, head_request: bool) -> Response {
    reader.response(head_request)
}

impl Reader {
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn write(&mut self, data: &[u8]) {
        self.stream.write_all(data).expect("write");
    }

    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 65536];
        let n = self.stream.read(&mut chunk).expect("read from server");
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill() > 0, "connection closed mid-body");
        }
        self.buf.drain(..n).collect()
    }

    fn line(&mut self) -> Vec<u8> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).collect();
                return line[..i].to_vec();
            }
            assert!(self.fill() > 0, "connection closed mid-line");
        }
    }

    /// True if the server closed the connection (no more bytes).
    pub fn is_closed(&mut self) -> bool {
        self.buf.is_empty() && matches!(self.stream.read(&mut [0u8; 1]), Ok(0))
    }

    pub fn response(&mut self, head_request: bool) -> Response {
        let head = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break self.buf.drain(..i + 4).collect::<Vec<u8>>();
            }
            assert!(
                self.fill() > 0,
                "connection closed before a response head: {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        };
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut headers);
        parsed.parse(&head).expect("valid response head");
        let status = parsed.code.expect("status");
        let version = format!("HTTP/1.{}", parsed.version.unwrap_or(1));
        let reason = parsed.reason.unwrap_or("").to_string();
        let headers: Vec<(String, String)> = parsed
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let mut response = Response {
            version,
            status,
            reason,
            headers,
            body: Vec::new(),
            chunked: false,
        };
        let no_body = head_request || status / 100 == 1 || status == 204 || status == 304;
        if no_body {
            return response;
        }
        if response
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            response.chunked = true;
            loop {
                let line = self.line();
                let size_text = String::from_utf8_lossy(&line);
                let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
                    .expect("chunk size");
                if size == 0 {
                    // No trailers are sent by the server.
                    let end = self.line();
                    assert!(end.is_empty(), "unexpected trailer");
                    break;
                }
                let data = self.take(size);
                response.body.extend_from_slice(&data);
                assert_eq!(self.take(2), b"\r\n", "chunk terminator");
            }
        } else if let Some(len) = response.header("content-length") {
            let len: usize = len.trim().parse().expect("numeric content-length");
            response.body = self.take(len);
        } else {
            // Close-delimited.
            while self.fill() > 0 {}
            response.body = std::mem::take(&mut self.buf);
        }
        response
    }
}
