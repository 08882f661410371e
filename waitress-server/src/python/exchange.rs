//! The state of one response while the application produces it: status and
//! headers from `start_response`, whether the head went out, the body
//! encoder, and the framed bytes not yet handed to the connection task.
//!
//! Shared by `start_response`, the `write` callable and the request driver;
//! the lock is never held while Python code runs or while waiting for room.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use waitress_proto::{
    EncodeWarning, Encoder, PreparedResponse, ResponseError, ResponseSpec, Version,
    parse_content_length, prepare_response,
};

use super::body::BodyChunk;
use crate::logging::LOGGER;
use crate::response::{Disconnected, End, Output, ResponseSender, RoomWaiter, Segments};
use crate::transport::FileRegion;

/// Request facts that shape the response.
#[derive(Debug, Clone)]
pub struct RequestFacts {
    pub version: Version,
    pub head_request: bool,
    pub request_keep_alive: bool,
    pub shutting_down: Arc<AtomicBool>,
    pub ident: Option<Arc<str>>,
    pub date: String,
    /// pending output past this many bytes spills to a temp file.
    pub outbuf_overflow: usize,
}

#[derive(Debug)]
pub struct Exchange {
    pub facts: RequestFacts,
    /// Set by `start_response`.
    pub status: Option<String>,
    pub headers: Vec<(String, String)>,
    /// a length the server computed (single-chunk iterable, file).
    pub known_length: Option<u64>,
    encoder: Option<Encoder>,
    keep_alive: bool,
    pending: Pending,
    /// A file region sent after `pending` (W-03), set by `push_file`.
    file: Option<FileRegion>,
    /// where output goes once more than `outbuf_overflow` bytes wait
    /// for a slow client (created on first use).
    spill: Option<SpillFile>,
    sender: ResponseSender,
}

/// An anonymous temporary file holding output a slow client has not taken
/// yet; the connection task sends from it with sendfile.
#[derive(Debug)]
struct SpillFile {
    file: Arc<std::fs::File>,
    end: u64,
}

/// Framed output not yet handed over. Small pieces (the head, chunk-size
/// lines, chunks the app made as small bytes objects) are copied into
/// shared blocks, so a stream of 1 KiB chunks becomes a few large segments:
/// fewer allocations, less memory per queued byte, and far fewer iovecs for
/// the connection task to write. Large chunks are kept as they are (no copy).
#[derive(Debug, Default)]
struct Pending {
    segments: Segments,
    small: BytesMut,
    /// Size of the next block to allocate: grows with the response, so a
    /// tiny response takes a small block and a stream large ones.
    block: usize,
}

/// Chunks below this size are copied into blocks (larger ones are kept as
/// they are; `BodyChunk::of` shares them with Python).
pub(super) const COPY_BELOW: usize = 16 * 1024;
const FIRST_BLOCK: usize = 512;
/// Sealed pieces up to this size are copied out of their block (`seal`).
const COPY_OUT_MAX: usize = 1024;

impl Pending {
    fn copy(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if self.small.capacity() - self.small.len() < data.len() {
            self.block = (self.block * 2).clamp(FIRST_BLOCK, COPY_BELOW);
            self.small.reserve(data.len().max(self.block));
        }
        self.small.extend_from_slice(data);
    }

    fn push(&mut self, data: Bytes) {
        if data.len() < COPY_BELOW {
            self.copy(&data);
        } else {
            self.seal();
            self.segments.push(data);
        }
    }

    fn seal(&mut self) {
        if self.small.is_empty() {
            return;
        }
        // A few hundred bytes (a head, a short body) are copied out into a
        // block of their exact size, which `Bytes` takes as it is: handing
        // over a part of the block instead costs a second allocation (its
        // shared count), and the connection task frees both on another
        // thread, through the malloc arena lock. The block stays here for
        // the next piece.
        let sealed = if self.small.len() <= COPY_OUT_MAX {
            let exact = Bytes::from(self.small.to_vec());
            self.small.clear();
            exact
        } else {
            self.small.split().freeze()
        };
        self.segments.push(sealed);
    }

    fn is_empty(&self) -> bool {
        self.segments.is_empty() && self.small.is_empty()
    }

    fn take(&mut self) -> Segments {
        self.seal();
        std::mem::take(&mut self.segments)
    }

    fn clear(&mut self) {
        self.segments.clear();
        self.small.clear();
    }
}

/// Shared handle.
pub type SharedExchange = Arc<Mutex<Exchange>>;

pub fn lock(exchange: &SharedExchange) -> MutexGuard<'_, Exchange> {
    exchange.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(unix)]
fn write_all_at(file: &std::fs::File, data: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, data, offset)
}

#[cfg(windows)]
fn write_all_at(file: &std::fs::File, mut data: &[u8], mut offset: u64) -> std::io::Result<()> {
    while !data.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(file, data, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        data = &data[n..];
        offset += n as u64;
    }
    Ok(())
}

fn log_warning(warning: &EncodeWarning) {
    tracing::warn!(target: LOGGER, "{}", warning.message());
}

impl Exchange {
    pub fn new(facts: RequestFacts, sender: ResponseSender) -> Self {
        Self {
            facts,
            status: None,
            headers: Vec::new(),
            known_length: None,
            encoder: None,
            keep_alive: false,
            pending: Pending::default(),
            file: None,
            spill: None,
            sender,
        }
    }

    pub fn head_sent(&self) -> bool {
        self.encoder.is_some()
    }

    /// Builds and queues the head if it has not gone out yet.
    pub fn ensure_head(&mut self) -> Result<(), ResponseError> {
        if self.encoder.is_some() {
            return Ok(());
        }
        let Some(status) = self.status.as_deref() else {
            // Callers check start_response first; a missing status here is
            // reported like waitress's S-05.
            return Err(ResponseError {
                kind: waitress_proto::ResponseErrorKind::Value,
                message: "start_response was not called before body written".into(),
            });
        };
        let spec = ResponseSpec {
            version: self.facts.version,
            head_request: self.facts.head_request,
            request_keep_alive: self.facts.request_keep_alive,
            force_close: self.facts.shutting_down.load(Ordering::Acquire),
            status,
            headers: &self.headers,
            known_length: self.known_length,
            ident: self.facts.ident.as_deref(),
            date: &self.facts.date,
        };
        let PreparedResponse {
            head,
            encoder,
            keep_alive,
        } = prepare_response(&spec)?;
        self.pending.copy(&head);
        self.encoder = Some(encoder);
        self.keep_alive = keep_alive;
        Ok(())
    }

    /// Frames one body chunk (head first if needed).
    pub fn push_body(&mut self, data: BodyChunk<'_>) -> Result<(), ResponseError> {
        self.ensure_head()?;
        if data.is_empty() {
            return Ok(());
        }
        if let Some(encoder) = self.encoder.as_mut() {
            let framing = encoder.frame(data.len());
            if let Some(w) = &framing.warning {
                log_warning(w);
            }
            if let Some(prefix) = &framing.prefix {
                self.pending.copy(prefix);
            }
            match data {
                BodyChunk::Borrowed(data) => self.pending.copy(&data[..framing.take]),
                BodyChunk::Shared(data) => self.pending.push(data.slice(..framing.take)),
            }
            self.pending.copy(framing.suffix);
        }
        Ok(())
    }

    /// W-03: the file's size, capped by the app's Content-Length; the app's
    /// header is rewritten to that size when they differ.
    pub fn fit_content_length(&mut self, size: u64) -> u64 {
        let Some(slot) = self
            .headers
            .iter_mut()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        else {
            return size;
        };
        let Ok(declared) = parse_content_length(&slot.1) else {
            return size; // invalid: prepare_response reports it
        };
        let size = size.min(declared);
        if size != declared {
            slot.1 = size.to_string();
        }
        size
    }

    /// W-03: the body is `region` of a file, sent without copying through
    /// Python. Only for a Content-Length body (the head must be out); returns
    /// the region back when the framing needs the bytes themselves (chunked,
    /// close-delimited), so the caller iterates instead. HEAD and no-body
    /// statuses send nothing (D-11, R-03).
    pub fn push_file(&mut self, mut region: FileRegion) -> Result<(), FileRegion> {
        let Some(allowed) = self.encoder.as_mut().and_then(|e| e.send_raw(region.len)) else {
            return Err(region);
        };
        region.len = allowed;
        if region.len > 0 {
            self.file = Some(region);
        }
        Ok(())
    }

    /// Hands the framed bytes to the connection task. Returns a waiter when
    /// the worker must let the client drain before going on.
    pub fn flush(&mut self) -> Result<Option<RoomWaiter>, Disconnected> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        self.send_pending(None, None)?;
        Ok(self.sender.over_watermark().then(|| self.sender.waiter()))
    }

    /// Sends `pending` (then `file`, then `end`). Once the output waiting
    /// for the client would pass `outbuf_overflow`, the rest of the segments
    /// are written to the spill file and sent from there instead of being
    /// kept in memory.
    fn send_pending(
        &mut self,
        file: Option<FileRegion>,
        end: Option<End>,
    ) -> Result<(), Disconnected> {
        let pending = self.pending.take();
        let waiting = self.sender.pending();
        // Only a client that is behind makes output wait: with nothing
        // pending, the connection task writes this hand-off at once, so even
        // a body larger than `outbuf_overflow` stays in memory.
        let split = if waiting == 0 {
            pending.len()
        } else {
            let mut in_memory = 0usize;
            pending
                .iter()
                .position(|seg| {
                    in_memory += seg.len();
                    waiting.saturating_add(in_memory) > self.facts.outbuf_overflow
                })
                .unwrap_or(pending.len())
        };
        let (keep, rest) = pending.split_at(split);
        if !rest.is_empty()
            && let Some(region) = self.spill_out(rest)
        {
            self.sender.send(Output {
                segments: keep.iter().cloned().collect(),
                file: Some(region),
                end: None,
            })?;
            return self.sender.send(Output {
                segments: Segments::new(),
                file,
                end,
            });
        }
        self.sender.send(Output {
            segments: pending,
            file,
            end,
        })
    }

    /// Appends `data` to the spill file; None (keep it in memory, nothing is
    /// lost) if the file cannot be written.
    fn spill_out(&mut self, data: &[Bytes]) -> Option<FileRegion> {
        let result = (|| -> std::io::Result<FileRegion> {
            if self.spill.is_none() {
                self.spill = Some(SpillFile {
                    file: Arc::new(tempfile::tempfile()?),
                    end: 0,
                });
            }
            let Some(spill) = self.spill.as_mut() else {
                return Err(std::io::ErrorKind::NotFound.into());
            };
            let offset = spill.end;
            let mut at = offset;
            for segment in data {
                write_all_at(&spill.file, segment, at)?;
                at += segment.len() as u64;
            }
            spill.end = at;
            Ok(FileRegion {
                file: Arc::clone(&spill.file),
                offset,
                len: at - offset,
            })
        })();
        match result {
            Ok(region) => Some(region),
            Err(e) => {
                tracing::error!(
                    target: LOGGER,
                    "cannot spill response output to a temporary file (kept in memory): {e}"
                );
                None
            }
        }
    }

    /// Successful end: head if still owed, the body terminator, and the
    /// keep-alive decision (a Content-Length shortfall closes, R-06).
    pub fn complete(&mut self) -> Result<Result<(), Disconnected>, ResponseError> {
        self.ensure_head()?;
        let mut keep_alive = self.keep_alive;
        if let Some(encoder) = self.encoder.as_mut() {
            let finish = encoder.finish();
            if !finish.terminator.is_empty() {
                self.pending.copy(finish.terminator);
            }
            if let Some(w) = &finish.shortfall {
                log_warning(w);
                keep_alive = false;
            }
        }
        let file = self.file.take();
        Ok(self.send_pending(file, Some(End::Complete { keep_alive })))
    }

    /// Failure after the head went out: what was produced is sent,
    /// then the connection closes without a terminator.
    pub fn abort(&mut self) {
        let segments = self.pending.take();
        let _ = self.sender.send(Output {
            segments,
            file: None,
            end: Some(End::Abort),
        });
    }

    /// Failure before the head went out: the complete error response bytes
    /// replace anything pending; the connection closes after it.
    pub fn fail_with(&mut self, response: Vec<u8>) {
        self.pending.clear();
        self.file = None;
        let _ = self.sender.send(Output {
            segments: smallvec::smallvec![Bytes::from(response)],
            file: None,
            end: Some(End::Complete { keep_alive: false }),
        });
    }

    pub fn is_disconnected(&self) -> bool {
        self.sender.is_disconnected()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(segments: &Segments) -> Vec<u8> {
        segments.iter().flat_map(|s| s.iter().copied()).collect()
    }

    #[test]
    fn small_pieces_are_copied_out_and_the_block_is_kept() {
        let mut pending = Pending::default();
        pending.copy(b"HTTP/1.1 200 OK\r\n\r\n");
        pending.copy(b"hello");
        let block = pending.small.capacity();
        let start = pending.small.as_ptr() as usize;
        let first = pending.take();
        assert_eq!(first.len(), 1);
        assert_eq!(joined(&first), b"HTTP/1.1 200 OK\r\n\r\nhello");
        // A copy of its own, not a part of the block.
        let at = first[0].as_ptr() as usize;
        assert!(!(start..start + block).contains(&at));
        assert!(pending.is_empty());
        // The next piece lands in the same block.
        pending.copy(b"more");
        assert_eq!(pending.small.capacity(), block);
        assert_eq!(joined(&pending.take()), b"more");
    }

    #[test]
    fn larger_pieces_are_handed_over_in_place_and_order_holds() {
        let mut pending = Pending::default();
        let mid = vec![b'm'; COPY_OUT_MAX + 1];
        let large = Bytes::from(vec![b'L'; COPY_BELOW]);
        pending.copy(b"head");
        pending.copy(&mid);
        pending.push(large.clone());
        pending.copy(b"tail");
        let segments = pending.take();
        let mut expect = b"head".to_vec();
        expect.extend_from_slice(&mid);
        expect.extend_from_slice(&large);
        expect.extend_from_slice(b"tail");
        assert_eq!(joined(&segments), expect);
        // The large chunk is the caller's own bytes, not a copy.
        assert!(segments.iter().any(|s| s.as_ptr() == large.as_ptr()));
        assert!(pending.is_empty());
    }
}
