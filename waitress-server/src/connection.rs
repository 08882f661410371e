//! One task per connection: read and parse requests, read their bodies,
//! apply the proxy rules, hand complete requests to the workers, and write
//! their responses strictly in order (sections 5-7).
//!
//! With `channel_request_lookahead = 0` (waitress's default) the socket is not
//! read while a request is being served, so requests are answered one at a
//! time in arrival order and pipelined bytes wait in the buffer (C-04).

use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use waitress_core::SpillBuffer;
use waitress_proto::{CONTINUE_RESPONSE, Event, ProtoError, RequestHead, RequestParser};

use crate::logging::LOGGER;
use crate::request::{ConnInfo, Request, RequestLine, stage_environ};
use crate::response::{self, End, Output};
use crate::server::ServerShared;
use crate::transport::{ReadReady, Transport};
use crate::worker::Job;

/// At shutdown, how long a just-accepted connection may take to send its
/// first request.
const FIRST_REQUEST_GRACE: Duration = Duration::from_secs(2);

/// Read size while a request body is coming (straight into the body while
/// it stays in memory, else through the read buffer).
const BODY_READ: usize = 64 * 1024;

/// Reading stopped: EOF, timeout, shutdown or a socket error. The
/// connection closes silently (T-01, C-06).
struct Closed;

/// Serves one accepted connection until it closes.
pub async fn serve_connection<S>(mut stream: S, conn: ConnInfo, shared: Arc<ServerShared>)
where
    S: Transport,
{
    let disconnected = Arc::new(AtomicBool::new(false));
    let (responses, response_rx) = response::channel(
        shared.outbuf_high_watermark,
        Arc::clone(&disconnected),
        Arc::clone(&shared.backlog),
        Arc::clone(&shared.wakes),
    );
    let mut session = Session {
        served: 0,
        reading_body: false,
        responses,
        response_rx,
        out_queue: VecDeque::new(),
        buf: BytesMut::new(),
        parser: RequestParser::new(shared.limits),
        conn,
        disconnected,
        shared,
    };
    session.run(&mut stream).await;
    let _ = stream.shutdown().await;
}

struct Session {
    /// Requests answered on this connection so far.
    served: u64,
    /// A body is being read (reads may be larger than `recv_bytes`).
    reading_body: bool,
    /// One response channel for the connection's life.
    responses: response::ResponseChannel,
    response_rx: response::ResponseReceiver,
    /// Segments being written, kept between responses (empty) so a
    /// response costs the connection task no allocation for it.
    out_queue: VecDeque<Bytes>,
    buf: BytesMut,
    parser: RequestParser,
    conn: ConnInfo,
    disconnected: Arc<AtomicBool>,
    shared: Arc<ServerShared>,
}

/// The next parser event, reading more bytes when needed.
async fn next_event<S: Transport>(
    session: &mut Session,
    stream: &mut S,
) -> Result<Result<Event, ProtoError>, Closed> {
    loop {
        match session.parser.poll(&mut session.buf) {
            Ok(Some(event)) => return Ok(Ok(event)),
            Ok(None) => session.read_more(stream).await?,
            Err(e) => return Ok(Err(e)),
        }
    }
}

impl Session {
    async fn run<S: Transport>(&mut self, stream: &mut S) {
        loop {
            let head = match next_event(self, stream).await {
                Err(Closed) => return,
                Ok(Err(e)) => return self.reject(stream, &e).await,
                Ok(Ok(Event::Head(head))) => head,
                Ok(Ok(_)) => {
                    tracing::error!(target: LOGGER, "parser produced body data before a head");
                    return;
                }
            };
            if head.expect_continue && write_all(stream, CONTINUE_RESPONSE).await.is_err() {
                return;
            }
            let expected = match head.body {
                waitress_proto::BodyKind::Length(n) => n,
                _ => 0,
            };
            let body = match self.read_body(stream, expected).await {
                Err(Closed) => return,
                Ok(Err(e)) => return self.reject(stream, &e).await,
                Ok(Ok(body)) => body,
            };
            let keep_alive = match self.dispatch(stream, head, body).await {
                Some(keep_alive) => keep_alive,
                None => return,
            };
            self.served += 1;
            if !keep_alive || self.shared.is_shutting_down() {
                return;
            }
        }
    }

    /// Reads the rest of the current request's body into a spill buffer.
    async fn read_body<S: Transport>(
        &mut self,
        stream: &mut S,
        expected: u64,
    ) -> Result<Result<SpillBuffer, ProtoError>, Closed> {
        let mut body = SpillBuffer::with_expected(self.shared.inbuf_overflow, expected);
        self.reading_body = true;
        let result = self.read_body_into(stream, &mut body).await;
        self.reading_body = false;
        self.shrink_buffer();
        match result {
            Ok(Ok(())) => Ok(Ok(body)),
            Ok(Err(e)) => Ok(Err(e)),
            Err(closed) => Err(closed),
        }
    }

    async fn read_body_into<S: Transport>(
        &mut self,
        stream: &mut S,
        body: &mut SpillBuffer,
    ) -> Result<Result<(), ProtoError>, Closed> {
        loop {
            if self.buf.is_empty()
                && let Some(remaining) = self.parser.body_remaining()
                && remaining > 0
            {
                let want = usize::try_from(remaining).map_or(BODY_READ, |r| r.min(BODY_READ));
                if let Some(mut tail) = body.memory_tail(want) {
                    // Straight into the body: no copy, and the connection's
                    // read buffer stays small.
                    let timeout = Duration::from_secs(self.shared.channel_timeout);
                    let read = tokio::time::timeout(timeout, stream.read_buf(&mut tail)).await;
                    let n = self.bytes_read(read)?;
                    self.parser.consume_body(n as u64);
                    continue;
                }
            }
            match next_event(self, stream).await? {
                Ok(Event::Data(data)) => {
                    if let Err(e) = body.write_all(&data) {
                        tracing::error!(target: LOGGER, "cannot buffer request body: {e}");
                        return Err(Closed);
                    }
                }
                Ok(Event::End) => return Ok(Ok(())),
                Ok(Event::Head(_)) => {
                    tracing::error!(target: LOGGER, "parser produced a head inside a body");
                    return Err(Closed);
                }
                Err(e) => return Ok(Err(e)),
            }
        }
    }

    /// Body reads grow the read buffer to `BODY_READ`; an idle keep-alive
    /// connection should not hold that much (50 connections after an
    /// upload each would keep 64 KiB), so it goes back to `recv_bytes`.
    fn shrink_buffer(&mut self) {
        let normal = self.shared.recv_bytes;
        if self.buf.capacity() > 2 * normal && self.buf.len() <= normal {
            let mut fresh = BytesMut::with_capacity(normal);
            fresh.extend_from_slice(&self.buf);
            self.buf = fresh;
        }
    }

    /// Waits for more bytes; an idle connection is closed after
    /// `channel_timeout` (T-01). At shutdown (D-18) a keep-alive connection
    /// waiting for its next request is closed at once; one that was accepted
    /// but has not sent its first request yet gets `FIRST_REQUEST_GRACE` to
    /// send it, so a stop (or a worker recycling) drops no request that was
    /// already on its way.
    async fn read_more<S: Transport>(&mut self, stream: &mut S) -> Result<(), Closed> {
        // Heads are read `recv_bytes` at a time; bodies in larger reads, so
        // an upload costs a few system calls rather than one per 8 KiB.
        let want = if self.reading_body {
            self.shared.recv_bytes.max(BODY_READ)
        } else {
            self.shared.recv_bytes
        };
        // The start of a head: the connection (idle, or its request queued
        // for a worker) holds no read buffer, and the bytes that come get
        // one of their own size.
        let head_start = !self.reading_body && self.buf.is_empty();
        if head_start {
            self.buf = BytesMut::new();
        } else if self.buf.capacity() - self.buf.len() < want {
            self.buf.reserve(want);
        }
        let between_requests = self.parser.is_idle() && self.buf.is_empty();
        let fresh = self.served == 0;
        let timeout = Duration::from_secs(self.shared.channel_timeout);
        let read =
            tokio::time::timeout(timeout, read_into(stream, &mut self.buf, want, head_start));
        let result = if between_requests {
            tokio::pin!(read);
            tokio::select! {
                r = &mut read => r,
                () = self.shared.shutdown.cancelled() => {
                    if !fresh {
                        return Err(Closed);
                    }
                    match tokio::time::timeout(FIRST_REQUEST_GRACE, &mut read).await {
                        Ok(r) => r,
                        Err(_) => return Err(Closed),
                    }
                }
            }
        } else {
            read.await
        };
        self.bytes_read(result).map(|_| ())
    }

    /// A timed read's outcome: bytes read, or `Closed` on EOF, a socket
    /// error (logged if unusual) or `channel_timeout`.
    fn bytes_read(
        &self,
        result: Result<std::io::Result<usize>, tokio::time::error::Elapsed>,
    ) -> Result<usize, Closed> {
        match result {
            Ok(Ok(n)) if n > 0 => Ok(n),
            Ok(Ok(_)) => Err(Closed),
            Ok(Err(e)) => {
                self.log_socket_error(&e);
                Err(Closed)
            }
            Err(_elapsed) => Err(Closed),
        }
    }

    /// With `channel_request_lookahead = N > 0` the socket is read during a
    /// request, up to N reads' worth of pipelined bytes (the buffered bytes
    /// are parsed only after the current response, C-04/C-05).
    fn lookahead_allows_reading(&self) -> bool {
        let lookahead = self.shared.channel_request_lookahead;
        lookahead > 0 && self.buf.len() < lookahead.saturating_mul(self.shared.recv_bytes)
    }

    fn log_socket_error(&self, e: &std::io::Error) {
        use std::io::ErrorKind::*;
        let routine = matches!(
            e.kind(),
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
        );
        if self.shared.log_socket_errors && !routine {
            tracing::error!(target: LOGGER, "Socket error\n{e}");
        }
    }

    /// Sends the error response of a protocol error and closes (C-05).
    async fn reject<S: AsyncWrite + Unpin>(&mut self, stream: &mut S, e: &ProtoError) {
        let response = e.to_response(self.shared.ident.as_deref(), &crate::date::now());
        let _ = write_all(stream, &response).await;
    }

    /// Runs one complete request through a worker and writes its response.
    /// Returns whether the connection may stay open, None if it is gone.
    async fn dispatch<S: Transport>(
        &mut self,
        stream: &mut S,
        mut head: Box<RequestHead>,
        body: SpillBuffer,
    ) -> Option<bool> {
        let body_len = body.len();
        let head_request = head.is_head();
        let mut environ = stage_environ(&mut head, body_len, &self.conn, &self.shared.environ);
        if self.shared.proxy.is_active() {
            let mut warnings = Vec::new();
            let applied =
                waitress_proxy::apply_collecting(&self.shared.proxy, &mut environ, &mut warnings);
            // Warnings first: they come before the error in waitress too (P-08).
            for line in warnings {
                tracing::warn!(target: LOGGER, "{line}");
            }
            if let Err(e) = applied {
                // D-22: the standard 400, the P-10 warning kept.
                tracing::warn!(target: LOGGER, "{}", e.log_message());
                let response = waitress_proto::error_response(
                    head.version,
                    400,
                    "Bad Request",
                    &e.detail(),
                    self.shared.ident.as_deref(),
                    &crate::date::now(),
                );
                let _ = write_all(stream, &response).await;
                return None;
            }
        }
        let body = match body.into_reader() {
            Ok(reader) => reader,
            Err(e) => {
                tracing::error!(target: LOGGER, "cannot read back request body: {e}");
                return None;
            }
        };
        let job = Job {
            request: Request {
                line: RequestLine::of(&mut head, head_request),
                environ,
                body,
                disconnected: Arc::clone(&self.disconnected),
                shutting_down: Arc::clone(&self.shared.shutting_down),
            },
            response: self.responses.sender(),
        };
        self.shared.pool.submit(job);
        self.shared.count_request();
        self.write_response(stream).await
    }

    /// Writes one response as the worker produces it, strictly in order.
    /// Returns whether the connection may stay open, None if it is gone.
    async fn write_response<S: Transport>(&mut self, stream: &mut S) -> Option<bool> {
        let mut queue = std::mem::take(&mut self.out_queue);
        let kept = self.write_response_with(stream, &mut queue).await;
        // Only a small queue is kept: an idle connection holds no more.
        if queue.capacity() <= KEPT_SEGMENTS {
            queue.clear();
            self.out_queue = queue;
        }
        kept
    }

    async fn write_response_with<S: Transport>(
        &mut self,
        stream: &mut S,
        queue: &mut VecDeque<Bytes>,
    ) -> Option<bool> {
        let mut carry: Option<Output> = None;
        loop {
            let next = if let Some(held) = carry.take() {
                Some(held)
            } else if self.lookahead_allows_reading() {
                // C-07: keep reading while the request is served, so a client
                // that goes away is noticed (`waitress.client_disconnected`).
                // read_buf is cancel-safe: bytes read are never lost.
                let recv_bytes = self.shared.recv_bytes;
                if self.buf.capacity() - self.buf.len() < recv_bytes {
                    self.buf.reserve(recv_bytes);
                }
                tokio::select! {
                    out = self.response_rx.recv() => out,
                    read = stream.read_buf(&mut self.buf) => {
                        match read {
                            Ok(n) if n > 0 => continue,
                            // C-06: EOF or an error while serving: the client
                            // is gone; stop the worker, discard the output.
                            _ => {
                                self.response_rx.disconnect();
                                return None;
                            }
                        }
                    }
                }
            } else {
                self.response_rx.recv().await
            };
            let Some(first) = next else {
                // The worker dropped the response without ending it.
                return None;
            };
            let mut end = first.end;
            let mut file = first.file;
            queue.extend(first.segments);
            // Batch what else is already waiting into one write: segments
            // up to the first file region, then regions that continue it.
            while end.is_none() {
                let Some(more) = self.response_rx.try_recv() else {
                    break;
                };
                match &mut file {
                    None => {
                        end = more.end;
                        file = more.file;
                        queue.extend(more.segments);
                    }
                    Some(region) => match more.file {
                        Some(next) if more.segments.is_empty() && region.continues_with(&next) => {
                            region.len += next.len;
                            end = more.end;
                        }
                        next => {
                            carry = Some(Output {
                                segments: more.segments,
                                file: next,
                                end: more.end,
                            });
                            break;
                        }
                    },
                }
            }
            let file_len = file
                .as_ref()
                .map_or(0, |f| usize::try_from(f.len).unwrap_or(usize::MAX));
            let bytes: usize = queue.iter().map(Bytes::len).sum::<usize>() + file_len;
            self.response_rx.begin_write();
            let mut written = write_queue(stream, queue).await;
            if let (Ok(()), Some(region)) = (&written, &file) {
                written = stream.send_file(region).await;
            }
            if let Err(e) = written {
                self.log_socket_error(&e);
                self.response_rx.disconnect();
                return None;
            }
            self.response_rx.release(bytes);
            match end {
                None => continue,
                Some(End::Complete { keep_alive }) => return Some(keep_alive),
                Some(End::Abort) => return None,
            }
        }
    }
}

/// Reads into `buf`: with `exact`, through the I/O thread's scratch buffer
/// (`want` bytes at most, and no more than `SCRATCH_MAX`) into an allocation
/// of just the bytes read; otherwise into `buf`'s spare room. Cancel-safe:
/// bytes read are in `buf`.
async fn read_into<S: Transport>(
    stream: &mut S,
    buf: &mut BytesMut,
    want: usize,
    exact: bool,
) -> std::io::Result<usize> {
    if !exact {
        return stream.read_buf(buf).await;
    }
    loop {
        stream.wait_readable().await?;
        match read_now_exact(stream, buf, want) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            read => return read,
        }
    }
}

/// Largest first read of a head through the scratch buffer: the buffer is
/// zeroed once per I/O thread, so a huge `recv_bytes` must not size it; a
/// longer head continues with reads of `recv_bytes` into its own buffer.
const SCRATCH_MAX: usize = 64 * 1024;

thread_local! {
    /// Where an I/O thread's fresh head reads land before their bytes are
    /// copied out.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn read_now_exact<S: ReadReady>(
    stream: &S,
    buf: &mut BytesMut,
    want: usize,
) -> std::io::Result<usize> {
    let want = want.min(SCRATCH_MAX);
    SCRATCH.with_borrow_mut(|scratch| {
        if scratch.len() < want {
            scratch.resize(want, 0);
        }
        let n = stream.read_now(&mut scratch[..want])?;
        buf.extend_from_slice(&scratch[..n]);
        Ok(n)
    })
}

/// Segments a connection's write queue keeps room for between responses.
const KEPT_SEGMENTS: usize = 16;

async fn write_all<S: AsyncWrite + Unpin>(stream: &mut S, data: &[u8]) -> std::io::Result<()> {
    stream.write_all(data).await?;
    stream.flush().await
}

/// Writes every queued segment, several per system call.
async fn write_queue<S: AsyncWrite + Unpin>(
    stream: &mut S,
    queue: &mut VecDeque<Bytes>,
) -> std::io::Result<()> {
    // On the stack: a heap vector per write was one of the I/O thread's
    // malloc calls, which contend with the workers' for the arena lock.
    const MAX_SLICES: usize = 32;
    while !queue.is_empty() {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let mut count = 0;
        for (slot, segment) in slices.iter_mut().zip(queue.iter()) {
            *slot = IoSlice::new(segment);
            count += 1;
        }
        let mut written = stream.write_vectored(&slices[..count]).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while written > 0 {
            let Some(front) = queue.front_mut() else {
                break;
            };
            if written >= front.len() {
                written -= front.len();
                queue.pop_front();
            } else {
                front.advance(written);
                written = 0;
            }
        }
    }
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_fresh_head_read_allocates_only_the_bytes_that_came() {
        let (mut server, mut client) = crate::transport::tcp_pair().await;
        client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let mut buf = BytesMut::new();
        let n = read_into(&mut server, &mut buf, 8192, true).await.unwrap();
        assert_eq!(n, 16);
        assert_eq!(&buf[..], b"GET / HTTP/1.1\r\n");
        assert!(buf.capacity() < 64, "capacity {}", buf.capacity());
        // The rest of a head goes into the spare room of the same buffer.
        client.write_all(b"Host: x\r\n\r\n").await.unwrap();
        buf.reserve(8192);
        let n = read_into(&mut server, &mut buf, 8192, false).await.unwrap();
        assert_eq!(n, 11);
        assert_eq!(&buf[..], b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    }

    #[tokio::test]
    async fn a_huge_recv_bytes_does_not_size_the_scratch_buffer() {
        let (mut server, mut client) = crate::transport::tcp_pair().await;
        let head = vec![b'h'; SCRATCH_MAX + 1000];
        let writer = tokio::spawn(async move {
            client.write_all(&head).await.unwrap();
            client
        });
        let mut buf = BytesMut::new();
        let mut total = 0;
        while total < SCRATCH_MAX + 1000 {
            let n = read_into(&mut server, &mut buf, 1 << 30, true)
                .await
                .unwrap();
            assert!(n > 0 && n <= SCRATCH_MAX);
            total += n;
        }
        assert_eq!(buf.len(), SCRATCH_MAX + 1000);
        SCRATCH.with_borrow(|scratch| assert!(scratch.len() <= SCRATCH_MAX));
        drop(writer.await.unwrap());
    }

    #[tokio::test]
    async fn a_fresh_read_takes_at_most_want_and_sees_the_end_of_stream() {
        let (mut server, mut client) = crate::transport::tcp_pair().await;
        client.write_all(&[b'x'; 100]).await.unwrap();
        client.shutdown().await.unwrap();
        let mut buf = BytesMut::new();
        let mut total = 0;
        loop {
            let n = read_into(&mut server, &mut buf, 30, true).await.unwrap();
            if n == 0 {
                break;
            }
            assert!(n <= 30);
            total += n;
        }
        assert_eq!(total, 100);
        assert_eq!(buf.len(), 100);
    }
}
