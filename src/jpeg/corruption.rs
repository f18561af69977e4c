//! Corrupt data a decoder went past. By default a decoder that meets corrupt data (data cut
//! short, a bad Huffman code, a restart marker out of place, extraneous bytes inside the
//! entropy-coded data, scan parameters that contradict the frame, an inconsistent
//! progression) fails the file, naming the corruption. Under `--accept-corrupt` it decodes
//! what it can and notes what it went past here, so that the file's result can say so (a WARN
//! line) and never pass for a clean one.
//!
//! The notes are per thread: an image is decoded and encoded on one worker thread, which
//! takes them ([`take`]) when the image is done.
use std::cell::RefCell;

thread_local! {
    static NOTED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Notes that the decoder went past corrupt data, in its words.
pub fn note(message: impl Into<String>) {
    let message = message.into();
    NOTED.with(|noted| {
        let mut noted = noted.borrow_mut();
        if !noted.contains(&message) {
            noted.push(message);
        }
    });
}

/// What this thread's decoders went past since the last call, each message once.
pub fn take() -> Vec<String> {
    NOTED.with(|noted| std::mem::take(&mut *noted.borrow_mut()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_per_thread_and_taken_once() {
        take();
        note("Corrupt JPEG data: bad Huffman code");
        note("Corrupt JPEG data: bad Huffman code");
        note("Premature end of JPEG file");
        let other = std::thread::spawn(take).join().unwrap_or_default();
        assert!(other.is_empty(), "another thread's notes: {other:?}");
        assert_eq!(
            take(),
            [
                "Corrupt JPEG data: bad Huffman code",
                "Premature end of JPEG file"
            ]
        );
        assert!(take().is_empty());
    }
}
