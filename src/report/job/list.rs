//! A list of the job report (failed keys, keys done twice...) that may be millions long: its
//! first items in memory (what the text report shows, and more), the rest in an anonymous
//! temporary file as JSON lines, read back when the JSON report is written.
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};

use serde::de::DeserializeOwned;
use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

/// Items kept in memory; the rest goes to the file.
pub(super) const IN_MEMORY: usize = 4096;

/// A list built in order, then read in the same order.
pub struct List<T> {
    len: usize,
    head: Vec<T>,
    in_memory: usize,
    rest: Option<BufWriter<File>>,
}

impl<T: Serialize + DeserializeOwned> List<T> {
    pub(super) fn new(in_memory: usize) -> Self {
        List {
            len: 0,
            head: Vec::new(),
            in_memory,
            rest: None,
        }
    }

    pub(super) fn push(&mut self, item: T) -> io::Result<()> {
        self.len += 1;
        if self.head.len() < self.in_memory {
            self.head.push(item);
            return Ok(());
        }
        let rest = match &mut self.rest {
            Some(rest) => rest,
            None => self.rest.insert(BufWriter::new(tempfile::tempfile()?)),
        };
        serde_json::to_writer(&mut *rest, &item)?;
        rest.write_all(b"\n")
    }

    /// Ends the writing: what was pushed is on disk.
    pub(super) fn finish(mut self) -> io::Result<Self> {
        if let Some(rest) = &mut self.rest {
            rest.flush()?;
        }
        Ok(self)
    }

    /// How many items the list holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Its first items (at least the first 50, when it has them), from memory.
    pub fn first(&self) -> &[T] {
        &self.head
    }

    /// Calls `each` on every item, in order.
    pub fn for_each(&self, mut each: impl FnMut(T) -> io::Result<()>) -> io::Result<()>
    where
        T: Clone,
    {
        for item in &self.head {
            each(item.clone())?;
        }
        let Some(rest) = &self.rest else {
            return Ok(());
        };
        let mut file = rest.get_ref();
        file.seek(SeekFrom::Start(0))?;
        for line in BufReader::new(file).lines() {
            each(serde_json::from_str(&line?)?)?;
        }
        Ok(())
    }

    /// Every item (for a small list, or a test).
    pub fn to_vec(&self) -> io::Result<Vec<T>>
    where
        T: Clone,
    {
        let mut all = Vec::with_capacity(self.len);
        self.for_each(|item| {
            all.push(item);
            Ok(())
        })?;
        Ok(all)
    }
}

/// As a JSON array, the items read back from the file in turn.
impl<T: Serialize + DeserializeOwned> Serialize for List<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len))?;
        for item in &self.head {
            seq.serialize_element(item)?;
        }
        if let Some(rest) = &self.rest {
            let mut file = rest.get_ref();
            file.seek(SeekFrom::Start(0)).map_err(S::Error::custom)?;
            for line in BufReader::new(file).lines() {
                let line = line.map_err(S::Error::custom)?;
                let item: T = serde_json::from_str(&line).map_err(S::Error::custom)?;
                seq.serialize_element(&item)?;
            }
        }
        seq.end()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for List<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("List")
            .field("len", &self.len)
            .field("first", &self.head)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spilled_items_come_back_in_order() {
        for in_memory in [0, 3, 10, 100] {
            let mut list = List::new(in_memory);
            let items: Vec<(String, u64)> = (0..25).map(|i| (format!("k\n\"{i}"), i)).collect();
            for item in &items {
                list.push(item.clone()).unwrap();
            }
            let list = list.finish().unwrap();
            assert_eq!(list.len(), 25);
            assert_eq!(list.first().len(), in_memory.min(25));
            assert_eq!(list.to_vec().unwrap(), items);
            // Twice, and as JSON the same as the Vec's.
            assert_eq!(list.to_vec().unwrap(), items);
            assert_eq!(
                serde_json::to_string_pretty(&list).unwrap(),
                serde_json::to_string_pretty(&items).unwrap()
            );
        }
        let empty: List<String> = List::new(5).finish().unwrap();
        assert_eq!(serde_json::to_string_pretty(&empty).unwrap(), "[]");
        assert!(empty.is_empty());
    }
}
