//! A sort of byte entries in bounded memory: entries gather in one buffer; when it is full they
//! are sorted and written to an anonymous temporary file (a run); at the end the runs are
//! merged. Small inputs never touch the disk.
//!
//! An entry is a key and a payload, ordered by key, then payload (byte-wise). On disk and in
//! the buffer alike an entry is `key length (u32 LE)`, `payload length (u32 LE)`, the key, the
//! payload.
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// Bytes an entry takes besides its key and payload: its two lengths, and its place in the
/// buffer's index.
const OVERHEAD: usize = 12;

/// The most a buffer reserves at its first entry.
const MAX_RESERVE: usize = 256 << 20;

/// The read buffer of each run while merging.
const RUN_BUFFER: usize = 64 << 10;

/// Entries being gathered.
pub(crate) struct Sorter {
    budget: usize,
    buffer: Vec<u8>,
    /// Where each entry of `buffer` starts.
    index: Vec<u32>,
    runs: Vec<File>,
}

impl Sorter {
    /// A sorter that holds at most about `budget` bytes of entries in memory.
    pub(crate) fn new(budget: usize) -> Self {
        Sorter {
            // Below 4 GiB, so that an entry's start fits the index's u32.
            budget: budget.clamp(1, u32::MAX as usize / 2),
            buffer: Vec::new(),
            index: Vec::new(),
            runs: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, key: &[u8], payload: &[u8]) -> io::Result<()> {
        let (Ok(key_len), Ok(payload_len)) =
            (u32::try_from(key.len()), u32::try_from(payload.len()))
        else {
            return Err(io::Error::other("an entry of 4 GiB or more"));
        };
        if self.buffer.capacity() == 0 {
            // The whole budget at once (pages are only paid for once written): growing by
            // doubling would copy the buffer, and hold the old copy with the new for a moment.
            self.buffer.reserve(self.budget.min(MAX_RESERVE));
        }
        let size = key.len() + payload.len() + OVERHEAD;
        if !self.index.is_empty() && self.buffer.len() + self.index.len() * 4 + size > self.budget {
            self.spill()?;
        }
        let start = u32::try_from(self.buffer.len())
            .map_err(|_| io::Error::other("an entry of 2 GiB or more"))?;
        self.index.push(start);
        self.buffer.extend_from_slice(&key_len.to_le_bytes());
        self.buffer.extend_from_slice(&payload_len.to_le_bytes());
        self.buffer.extend_from_slice(key);
        self.buffer.extend_from_slice(payload);
        Ok(())
    }

    fn sort(&mut self) {
        let buffer = &self.buffer;
        self.index
            .sort_unstable_by(|&a, &b| entry_at(buffer, a).cmp(&entry_at(buffer, b)));
    }

    /// Writes the buffer's entries, sorted, as a run.
    fn spill(&mut self) -> io::Result<()> {
        self.sort();
        let mut run = BufWriter::with_capacity(RUN_BUFFER, tempfile::tempfile()?);
        for &start in &self.index {
            let (key, payload) = entry_at(&self.buffer, start);
            write_entry(&mut run, key, payload)?;
        }
        let run = run.into_inner().map_err(io::IntoInnerError::into_error)?;
        self.runs.push(run);
        self.buffer.clear();
        self.index.clear();
        Ok(())
    }

    /// The entries, in order.
    pub(crate) fn finish(mut self) -> io::Result<Sorted> {
        if self.runs.is_empty() {
            self.sort();
            return Ok(Sorted::Memory {
                buffer: self.buffer,
                index: self.index,
            });
        }
        if !self.index.is_empty() {
            self.spill()?;
        }
        self.buffer = Vec::new();
        self.index = Vec::new();
        Ok(Sorted::Runs(self.runs))
    }
}

/// Sorted entries, to be read in order as many times as needed.
pub(crate) enum Sorted {
    /// All of them fit the buffer.
    Memory { buffer: Vec<u8>, index: Vec<u32> },
    /// Runs on disk, merged as they are read.
    Runs(Vec<File>),
}

impl Sorted {
    /// Calls `each(key, payload)` for every entry, in order; the first error stops it.
    pub(crate) fn for_each(
        &self,
        mut each: impl FnMut(&[u8], &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        match self {
            Sorted::Memory { buffer, index } => {
                for &start in index {
                    let (key, payload) = entry_at(buffer, start);
                    each(key, payload)?;
                }
                Ok(())
            }
            Sorted::Runs(runs) => merge(runs, each),
        }
    }
}

/// One run's next entry, ordered for the merge's heap.
struct Head {
    key: Vec<u8>,
    payload: Vec<u8>,
    run: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        (&self.key, &self.payload, self.run).cmp(&(&other.key, &other.payload, other.run))
    }
}

fn merge(runs: &[File], mut each: impl FnMut(&[u8], &[u8]) -> io::Result<()>) -> io::Result<()> {
    let mut readers = Vec::with_capacity(runs.len());
    for mut run in runs {
        run.seek(SeekFrom::Start(0))?;
        readers.push(BufReader::with_capacity(RUN_BUFFER, run));
    }
    let mut heap = BinaryHeap::with_capacity(runs.len());
    for (run, reader) in readers.iter_mut().enumerate() {
        let mut head = Head {
            key: Vec::new(),
            payload: Vec::new(),
            run,
        };
        if read_entry(reader, &mut head.key, &mut head.payload)? {
            heap.push(Reverse(head));
        }
    }
    while let Some(Reverse(mut head)) = heap.pop() {
        each(&head.key, &head.payload)?;
        let Some(reader) = readers.get_mut(head.run) else {
            continue;
        };
        if read_entry(reader, &mut head.key, &mut head.payload)? {
            heap.push(Reverse(head));
        }
    }
    Ok(())
}

/// The entry that starts at `start` in a buffer this module wrote.
fn entry_at(buffer: &[u8], start: u32) -> (&[u8], &[u8]) {
    let start = start as usize;
    let length = |at: usize| {
        buffer
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, |b| u32::from_le_bytes(b) as usize)
    };
    let (key_len, payload_len) = (length(start), length(start + 4));
    let key_start = start + 8;
    let payload_start = key_start + key_len;
    (
        buffer.get(key_start..payload_start).unwrap_or_default(),
        buffer
            .get(payload_start..payload_start + payload_len)
            .unwrap_or_default(),
    )
}

fn write_entry(out: &mut impl Write, key: &[u8], payload: &[u8]) -> io::Result<()> {
    out.write_all(&(key.len() as u32).to_le_bytes())?;
    out.write_all(&(payload.len() as u32).to_le_bytes())?;
    out.write_all(key)?;
    out.write_all(payload)
}

/// Reads the next entry into `key` and `payload`; false at the run's end.
fn read_entry(input: &mut impl Read, key: &mut Vec<u8>, payload: &mut Vec<u8>) -> io::Result<bool> {
    let mut lengths = [0u8; 8];
    match input.read_exact(&mut lengths) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e),
    }
    let [a, b, c, d, e, f, g, h] = lengths;
    key.resize(u32::from_le_bytes([a, b, c, d]) as usize, 0);
    payload.resize(u32::from_le_bytes([e, f, g, h]) as usize, 0);
    input.read_exact(key)?;
    input.read_exact(payload)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Entries = Vec<(Vec<u8>, Vec<u8>)>;

    fn sorted(budget: usize, entries: &[(Vec<u8>, Vec<u8>)]) -> (Entries, usize) {
        let mut sorter = Sorter::new(budget);
        for (k, p) in entries {
            sorter.push(k, p).unwrap();
        }
        let runs = sorter.runs.len();
        let sorted = sorter.finish().unwrap();
        let mut out = Vec::new();
        // Read twice: the same both times.
        for _ in 0..2 {
            out.clear();
            sorted
                .for_each(|k, p| {
                    out.push((k.to_vec(), p.to_vec()));
                    Ok(())
                })
                .unwrap();
        }
        (out, runs)
    }

    #[test]
    fn in_memory_and_spilled_sorts_agree() {
        // Keys that share prefixes, empty ones, equal keys with different payloads.
        let entries: Vec<(Vec<u8>, Vec<u8>)> = (0u32..5000)
            .map(|i| {
                let key = format!("{}/{}", i * 7919 % 97, i % 13).into_bytes();
                let key = if i % 101 == 0 { Vec::new() } else { key };
                (key, (i * 31 % 5000).to_be_bytes().to_vec())
            })
            .collect();
        let mut expected = entries.clone();
        expected.sort();
        let (memory, runs) = sorted(1 << 30, &entries);
        assert_eq!(runs, 0);
        assert_eq!(memory, expected);
        for budget in [2000, 4096, 50_000] {
            let (spilled, runs) = sorted(budget, &entries);
            assert!(runs > 0, "{budget}");
            assert_eq!(spilled, expected, "budget {budget}");
        }
        let (none, _) = sorted(2000, &[]);
        assert!(none.is_empty());
    }
}
