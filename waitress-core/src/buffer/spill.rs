//! `SpillBuffer`: a request body, in memory until it reaches `overflow`
//! bytes (waitress's `OverflowableBuffer`: `len >= overflow` spills), then
//! in an anonymous temporary file. Read back through `BodyReader`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom, Write};

/// Where the bytes are.
#[derive(Debug)]
enum Storage {
    Memory(Vec<u8>),
    File(File),
}

/// A write-once body buffer (`inbuf_overflow`).
#[derive(Debug)]
pub struct SpillBuffer {
    storage: Storage,
    len: u64,
    overflow: usize,
}

impl SpillBuffer {
    /// An empty buffer that moves to a temporary file once it holds
    /// `overflow` bytes.
    pub fn new(overflow: usize) -> Self {
        Self {
            storage: Storage::Memory(Vec::new()),
            len: 0,
            overflow,
        }
    }

    /// Like `new`, with room for `expected` bytes reserved up front when they
    /// will stay in memory (a Content-Length body), so filling it never
    /// reallocates and copies.
    pub fn with_expected(overflow: usize, expected: u64) -> Self {
        let mut buffer = Self::new(overflow);
        if let Ok(expected) = usize::try_from(expected)
            && expected < overflow
            && let Storage::Memory(memory) = &mut buffer.storage
        {
            memory.reserve_exact(expected);
        }
        buffer
    }

    /// Appends `data`, spilling to a temporary file when the total reaches
    /// `overflow`. On an error nothing is counted as written.
    pub fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let added = u64::try_from(data.len()).map_err(|_| io::Error::other("chunk too large"))?;
        let new_len = self
            .len()
            .checked_add(added)
            .ok_or_else(|| io::Error::other("body length overflow"))?;
        match &mut self.storage {
            Storage::File(file) => file.write_all(data)?,
            Storage::Memory(memory) => {
                if reaches(new_len, self.overflow) {
                    let mut file = tempfile::tempfile()?;
                    file.write_all(memory)?;
                    file.write_all(data)?;
                    self.storage = Storage::File(file);
                } else {
                    memory.extend_from_slice(data);
                }
            }
        }
        self.len = new_len;
        Ok(())
    }

    /// In-memory room for the next `want` body bytes, for a caller that
    /// reads from its socket straight into the body (no copy through a read
    /// buffer). None once spilled, or when `want` more bytes would reach
    /// `overflow` (`write_all` must then move the body to a file). Bytes put
    /// into the returned buffer count as written.
    pub fn memory_tail(&mut self, want: usize) -> Option<bytes::buf::Limit<&mut Vec<u8>>> {
        let Storage::Memory(memory) = &mut self.storage else {
            return None;
        };
        let after = u64::try_from(memory.len().checked_add(want)?).ok()?;
        if reaches(after, self.overflow) {
            return None;
        }
        memory.reserve(want);
        Some(bytes::BufMut::limit(memory, want))
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        match &self.storage {
            // `memory_tail` appends without going through `write_all`.
            Storage::Memory(memory) => memory.len() as u64,
            Storage::File(_) => self.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the body moved to a temporary file.
    pub fn is_spilled(&self) -> bool {
        matches!(self.storage, Storage::File(_))
    }

    /// A reader over the whole body, positioned at 0.
    pub fn into_reader(self) -> io::Result<BodyReader> {
        let len = self.len();
        let inner = match self.storage {
            Storage::Memory(memory) => Inner::Memory(Cursor::new(memory)),
            Storage::File(mut file) => {
                file.flush()?;
                file.seek(SeekFrom::Start(0))?;
                Inner::File(BufReader::new(file))
            }
        };
        Ok(BodyReader { inner, len })
    }
}

/// Whether a length reaches the overflow threshold.
fn reaches(len: u64, overflow: usize) -> bool {
    u64::try_from(overflow).is_ok_and(|limit| len >= limit)
}

#[derive(Debug)]
enum Inner {
    Memory(Cursor<Vec<u8>>),
    File(BufReader<File>),
}

/// The body as a stream (`wsgi.input`): `Read + BufRead + Seek + Send`,
/// reading past the end returns 0 bytes.
#[derive(Debug)]
pub struct BodyReader {
    inner: Inner,
    len: u64,
}

impl BodyReader {
    /// An empty body.
    pub fn empty() -> Self {
        Self {
            inner: Inner::Memory(Cursor::new(Vec::new())),
            len: 0,
        }
    }

    /// The body's total length.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the body is read from a temporary file.
    pub fn is_spilled(&self) -> bool {
        matches!(self.inner, Inner::File(_))
    }
}

impl Default for BodyReader {
    fn default() -> Self {
        Self::empty()
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Memory(c) => c.read(buf),
            Inner::File(f) => f.read(buf),
        }
    }
}

impl BufRead for BodyReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match &mut self.inner {
            Inner::Memory(c) => c.fill_buf(),
            Inner::File(f) => f.fill_buf(),
        }
    }

    fn consume(&mut self, amount: usize) {
        match &mut self.inner {
            Inner::Memory(c) => c.consume(amount),
            Inner::File(f) => f.consume(amount),
        }
    }
}

impl Seek for BodyReader {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match &mut self.inner {
            Inner::Memory(c) => c.seek(pos),
            Inner::File(f) => f.seek(pos),
        }
    }
}

#[cfg(test)]
mod with_expected_tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn reserved_room_changes_nothing_observable() {
        for (expected, data_len, overflow) in [(10, 10, 100), (500, 300, 100), (0, 5, 100)] {
            let mut b = SpillBuffer::with_expected(overflow, expected);
            let data: Vec<u8> = (0..data_len).map(|i| i as u8).collect();
            b.write_all(&data).unwrap();
            assert_eq!(b.is_spilled(), data_len >= overflow);
            let mut out = Vec::new();
            b.into_reader().unwrap().read_to_end(&mut out).unwrap();
            assert_eq!(out, data);
        }
    }
}

#[cfg(test)]
mod memory_tail_tests {
    use super::*;
    use bytes::BufMut;
    use std::io::Read;

    #[test]
    fn bytes_put_in_the_tail_are_the_body_mixed_with_write_all() {
        let mut b = SpillBuffer::with_expected(100, 30);
        b.write_all(b"abc").unwrap();
        let mut tail = b.memory_tail(10).unwrap();
        assert_eq!(tail.remaining_mut(), 10, "limited to what was asked");
        tail.put_slice(b"defgh");
        assert_eq!(b.len(), 8);
        b.write_all(b"ij").unwrap();
        assert_eq!(b.len(), 10);
        let mut out = Vec::new();
        b.into_reader().unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcdefghij");
    }

    #[test]
    fn no_tail_when_the_bytes_would_reach_overflow_or_after_a_spill() {
        let mut b = SpillBuffer::new(10);
        assert!(b.memory_tail(9).is_some());
        assert!(
            b.memory_tail(10).is_none(),
            "10 bytes reach overflow: spill first"
        );
        b.write_all(&[1; 10]).unwrap();
        assert!(b.is_spilled());
        assert!(b.memory_tail(1).is_none());
        b.write_all(&[2; 3]).unwrap();
        assert_eq!(b.len(), 13);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    fn read_all(buffer: SpillBuffer) -> Vec<u8> {
        let mut reader = buffer.into_reader().expect("reader");
        let mut out = Vec::new();
        reader.read_to_end(&mut out).expect("read");
        out
    }

    #[test]
    fn b15_boundaries_one_under_exactly_at_one_over() {
        const OVERFLOW: usize = 64;
        for (len, spilled) in [
            (OVERFLOW - 1, false),
            (OVERFLOW, true),
            (OVERFLOW + 1, true),
        ] {
            let data = pattern(len);
            let mut buffer = SpillBuffer::new(OVERFLOW);
            buffer.write_all(&data).expect("write");
            assert_eq!(buffer.is_spilled(), spilled, "len {len}");
            assert_eq!(buffer.len(), len as u64);
            assert_eq!(read_all(buffer), data, "len {len}");
        }
    }

    #[test]
    fn b15_every_split_point_keeps_order_across_the_spill() {
        const OVERFLOW: usize = 16;
        let data = pattern(40);
        for first in 0..=data.len() {
            for second in first..=data.len() {
                let mut buffer = SpillBuffer::new(OVERFLOW);
                for part in [&data[..first], &data[first..second], &data[second..]] {
                    buffer.write_all(part).expect("write");
                }
                assert!(buffer.is_spilled());
                assert_eq!(read_all(buffer), data, "split {first}/{second}");
            }
        }
    }

    #[test]
    fn b15_empty_and_zero_overflow() {
        let buffer = SpillBuffer::new(0);
        assert!(buffer.is_empty() && !buffer.is_spilled());
        assert!(read_all(buffer).is_empty());
        let mut buffer = SpillBuffer::new(0);
        buffer.write_all(b"x").expect("write");
        assert!(buffer.is_spilled());
        assert_eq!(read_all(buffer), b"x");
    }

    #[test]
    fn b15_reader_is_bufread_seek_and_ends_cleanly() {
        for overflow in [1024, 4] {
            let mut buffer = SpillBuffer::new(overflow);
            buffer.write_all(b"line one\nline two\nend").expect("write");
            let mut reader = buffer.into_reader().expect("reader");
            assert_eq!(reader.len(), 21);
            let mut line = String::new();
            reader.read_line(&mut line).expect("line");
            assert_eq!(line, "line one\n");
            let mut rest = Vec::new();
            reader.read_to_end(&mut rest).expect("rest");
            assert_eq!(rest, b"line two\nend");
            let mut more = [0u8; 8];
            assert_eq!(reader.read(&mut more).expect("eof"), 0);
            reader.seek(SeekFrom::Start(5)).expect("seek");
            let mut word = [0u8; 3];
            reader.read_exact(&mut word).expect("after seek");
            assert_eq!(&word, b"one");
        }
    }

    #[test]
    fn body_reader_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<BodyReader>();
        assert_send::<SpillBuffer>();
    }
}
