//! `OutputBuffer`: the response bytes waiting for the socket.
//! Chunks stay in memory (no copy) until the pending total reaches
//! `outbuf_overflow`; then everything pending moves, in order, to an
//! anonymous temporary file that takes later chunks too, until it drains.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use bytes::Bytes;

use super::spill::reaches;

/// Most bytes read back from the spill file per `next_chunk` call: large
/// enough for few syscalls, small enough not to double memory use.
pub const FILE_READ_LIMIT: usize = 256 * 1024;

/// The temporary file and the window of it still to send.
#[derive(Debug)]
struct SpillFile {
    file: File,
    read_at: u64,
    write_at: u64,
}

/// The response output queue (`outbuf_overflow`).
#[derive(Debug)]
pub struct OutputBuffer {
    /// Pending chunks while not spilled; always empty while `file` is set.
    memory: VecDeque<Bytes>,
    file: Option<SpillFile>,
    len: u64,
    overflow: usize,
}

impl OutputBuffer {
    /// An empty queue that spills once `overflow` bytes are pending.
    pub fn new(overflow: usize) -> Self {
        Self {
            memory: VecDeque::new(),
            file: None,
            len: 0,
            overflow,
        }
    }

    /// Queues a chunk after everything already queued. On an error the
    /// chunk is not queued and the queue is unchanged.
    pub fn push(&mut self, chunk: Bytes) -> io::Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        let added = u64::try_from(chunk.len()).map_err(|_| io::Error::other("chunk too large"))?;
        let new_len = self
            .len
            .checked_add(added)
            .ok_or_else(|| io::Error::other("output length overflow"))?;
        if let Some(spill) = &mut self.file {
            spill.file.write_all_at(&chunk, spill.write_at)?;
            spill.write_at += added;
        } else if reaches(new_len, self.overflow) {
            self.spill(&chunk)?;
        } else {
            self.memory.push_back(chunk);
        }
        self.len = new_len;
        Ok(())
    }

    /// Moves every pending chunk, then `chunk`, to a new temporary file.
    fn spill(&mut self, chunk: &[u8]) -> io::Result<()> {
        let file = tempfile::tempfile()?;
        let mut offset = 0u64;
        for pending in self.memory.iter().map(|b| b.as_ref()).chain([chunk]) {
            file.write_all_at(pending, offset)?;
            offset +=
                u64::try_from(pending.len()).map_err(|_| io::Error::other("chunk too large"))?;
        }
        self.memory.clear();
        self.file = Some(SpillFile {
            file,
            read_at: 0,
            write_at: offset,
        });
        Ok(())
    }

    /// Bytes pending.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether pending output is in a temporary file.
    pub fn is_spilled(&self) -> bool {
        self.file.is_some()
    }

    /// The next bytes to send, at most `max` (and at most
    /// [`FILE_READ_LIMIT`] from the file), in order; `None` when empty.
    /// The bytes are removed from the queue.
    pub fn next_chunk(&mut self, max: usize) -> io::Result<Option<Bytes>> {
        if self.len == 0 {
            return Ok(None);
        }
        if let Some(spill) = &mut self.file {
            let remaining = spill.write_at - spill.read_at;
            let want = max
                .min(FILE_READ_LIMIT)
                .min(usize::try_from(remaining).unwrap_or(usize::MAX));
            let mut data = vec![0u8; want];
            spill.file.read_exact_at(&mut data, spill.read_at)?;
            let taken = u64::try_from(want).map_err(|_| io::Error::other("chunk too large"))?;
            spill.read_at += taken;
            self.len -= taken;
            if spill.read_at == spill.write_at {
                // Drained: free the file; a later burst spills to a new one.
                self.file = None;
            }
            return Ok(Some(Bytes::from(data)));
        }
        let Some(front) = self.memory.front_mut() else {
            return Ok(None);
        };
        let chunk = if front.len() <= max {
            self.memory.pop_front().unwrap_or_default()
        } else {
            front.split_to(max)
        };
        self.len -= u64::try_from(chunk.len()).map_err(|_| io::Error::other("chunk too large"))?;
        Ok(Some(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
            .collect()
    }

    fn drain(buffer: &mut OutputBuffer, max: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(chunk) = buffer.next_chunk(max).expect("read") {
            assert!(chunk.len() <= max);
            out.extend_from_slice(&chunk);
        }
        assert!(buffer.is_empty() && !buffer.is_spilled());
        out
    }

    #[test]
    fn r13_boundaries_one_under_exactly_at_one_over() {
        const OVERFLOW: usize = 32;
        for (len, spilled) in [
            (OVERFLOW - 1, false),
            (OVERFLOW, true),
            (OVERFLOW + 1, true),
        ] {
            let data = pattern(len, 1);
            let mut buffer = OutputBuffer::new(OVERFLOW);
            buffer.push(Bytes::from(data.clone())).expect("push");
            assert_eq!(buffer.is_spilled(), spilled, "len {len}");
            assert_eq!(buffer.len(), len as u64);
            assert_eq!(drain(&mut buffer, 1000), data);
        }
    }

    #[test]
    fn r13_every_split_point_and_read_size_keeps_order() {
        const OVERFLOW: usize = 10;
        let data = pattern(24, 3);
        for split in 0..=data.len() {
            for max in [1, 3, 10, 100] {
                let mut buffer = OutputBuffer::new(OVERFLOW);
                buffer
                    .push(Bytes::copy_from_slice(&data[..split]))
                    .expect("push");
                // read a little before the rest arrives
                let mut out = Vec::new();
                if let Some(c) = buffer.next_chunk(2).expect("read") {
                    out.extend_from_slice(&c);
                }
                buffer
                    .push(Bytes::copy_from_slice(&data[split..]))
                    .expect("push");
                out.extend(drain(&mut buffer, max));
                assert_eq!(out, data, "split {split} max {max}");
            }
        }
    }

    #[test]
    fn r13_interleaved_pushes_and_reads_across_spills() {
        let mut buffer = OutputBuffer::new(8);
        let mut expected = Vec::new();
        let mut got = Vec::new();
        for round in 0..50u8 {
            let chunk = pattern(usize::from(round % 13), round);
            expected.extend_from_slice(&chunk);
            buffer.push(Bytes::from(chunk)).expect("push");
            if round % 3 == 0 {
                while let Some(c) = buffer.next_chunk(5).expect("read") {
                    got.extend_from_slice(&c);
                    if round % 2 == 0 {
                        break;
                    }
                }
            }
        }
        got.extend(drain(&mut buffer, 7));
        assert_eq!(got, expected);
    }

    #[test]
    fn memory_chunks_are_not_copied_and_empty_pushes_ignored() {
        let mut buffer = OutputBuffer::new(1024);
        let chunk = Bytes::from_static(b"hello world");
        buffer.push(Bytes::new()).expect("push");
        buffer.push(chunk.clone()).expect("push");
        assert_eq!(buffer.len(), 11);
        let first = buffer.next_chunk(5).expect("read").expect("some");
        assert_eq!(&first[..], b"hello");
        assert_eq!(
            buffer.next_chunk(100).expect("read").as_deref(),
            Some(&b" world"[..])
        );
        assert_eq!(buffer.next_chunk(100).expect("read"), None);
    }

    #[test]
    fn file_reads_are_bounded() {
        let mut buffer = OutputBuffer::new(0);
        buffer
            .push(Bytes::from(vec![7u8; FILE_READ_LIMIT + 10]))
            .expect("push");
        let first = buffer.next_chunk(usize::MAX).expect("read").expect("some");
        assert_eq!(first.len(), FILE_READ_LIMIT);
        assert_eq!(buffer.len(), 10);
    }
}
