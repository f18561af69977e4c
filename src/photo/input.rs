//! Reading a local input: whole, capped, and only if it is a regular file (no FIFO, socket or
//! device can hang or feed the batch).
use std::fs;
use std::io::Read;
use std::path::Path;

use crate::error::ImageError;

/// Reads an input whole, if it is a regular file no larger than `cap` bytes:
/// FIFOs, sockets and devices (also behind a symlink) fail at once, without being read (see
/// [`open_regular`]). Returns the bytes and the file's metadata as it was before the read (its
/// times are those `--preserve` keeps).
pub fn read(path: &Path, cap: u64) -> Result<(Vec<u8>, fs::Metadata), ImageError> {
    let (file, meta) = open_regular(path)?;
    if meta.len() > cap {
        return Err(ImageError::TooLarge {
            size: meta.len(),
            cap,
        });
    }
    if meta.len() == 0 {
        return Err(ImageError::Empty);
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    // A file that grows while read stops at the cap.
    file.take(cap + 1)
        .read_to_end(&mut data)
        .map_err(ImageError::Read)?;
    if data.len() as u64 > cap {
        return Err(ImageError::TooLarge {
            size: data.len() as u64,
            cap,
        });
    }
    Ok((data, meta))
}

/// Opens a local input for reading if it is a regular file, with its metadata as it is before
/// any read. FIFOs, sockets and devices (also behind a symlink) fail at once: the type is
/// checked before opening (a FIFO's open has no writer to wait for, but a device's open may
/// have effects) and again on the handle (the path may have been swapped in between), and the
/// file is opened non-blocking, so that a FIFO swapped in cannot hang the open either.
pub fn open_regular(path: &Path) -> Result<(fs::File, fs::Metadata), ImageError> {
    let mut open = fs::OpenOptions::new();
    open.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.custom_flags(libc::O_NONBLOCK);
    }
    let meta = fs::metadata(path).map_err(|err| ImageError::read(path, err))?;
    not_regular(&meta)?;
    let file = open.open(path).map_err(|err| ImageError::read(path, err))?;
    let meta = file.metadata().map_err(ImageError::Read)?;
    not_regular(&meta)?;
    Ok((file, meta))
}

fn not_regular(meta: &fs::Metadata) -> Result<(), ImageError> {
    if meta.is_file() {
        return Ok(());
    }
    let kind = if meta.is_dir() {
        "a folder"
    } else {
        file_kind(meta)
    };
    Err(ImageError::NotRegularFile(kind))
}

#[cfg(unix)]
fn file_kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn file_kind(_: &fs::Metadata) -> &'static str {
    "not a file"
}
