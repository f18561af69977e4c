//! What a file is, by its first bytes: a JPEG starts with SOI and a marker (`FF D8 FF`); the
//! other image formats people save with a `.jpg` name are recognised by their magic numbers,
//! so that the error says what the file is rather than which byte a JPEG reader choked on.
use std::fs;
use std::io::Read;
use std::path::Path;

/// How many bytes [`other_format`] needs to see.
pub const HEAD: usize = 16;

/// True when `data` starts as every JPEG does: SOI, then a marker.
pub fn is_jpeg(data: &[u8]) -> bool {
    data.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// The (non-JPEG) image or document format `data` starts with, with its article (`a PNG`,
/// `an AVIF`), if it is one people commonly mistake for, or rename to, a JPEG.
pub fn other_format(data: &[u8]) -> Option<&'static str> {
    let at = |offset: usize, magic: &[u8]| data.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"\x89PNG\r\n\x1a\n") {
        Some("a PNG")
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        Some("a GIF")
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        Some("a WebP")
    } else if at(4, b"ftyp") {
        let brand = data.get(8..12).unwrap_or_default();
        match brand {
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => {
                Some("a HEIC")
            }
            b"avif" | b"avis" => Some("an AVIF"),
            _ => Some("an MP4/QuickTime video"),
        }
    } else if at(0, b"II*\0") || at(0, b"MM\0*") {
        Some("a TIFF (or camera raw)")
    } else if at(0, b"\0\0\0\x0cJXL \r\n\x87\n") || at(0, b"\xFF\x0A") {
        Some("a JPEG XL")
    } else if at(0, b"\0\0\0\x0cjP  \r\n\x87\n") {
        Some("a JPEG 2000")
    } else if at(0, b"BM") && data.len() >= 14 {
        Some("a BMP")
    } else if at(0, b"%PDF-") {
        Some("a PDF")
    } else if at(0, b"\0\x05\x16\x07") {
        Some("a macOS AppleDouble metadata")
    } else {
        None
    }
}

/// The first [`HEAD`] bytes of a regular file (fewer if it is shorter). Opened non-blocking,
/// so a FIFO swapped in meanwhile cannot hang the scan.
pub fn head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut open = fs::OpenOptions::new();
    open.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.custom_flags(libc::O_NONBLOCK);
    }
    let mut head = Vec::with_capacity(HEAD);
    open.open(path)?.take(HEAD as u64).read_to_end(&mut head)?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_their_magic_numbers() {
        assert!(is_jpeg(b"\xFF\xD8\xFF\xE0\0\x10JFIF"));
        assert!(!is_jpeg(b"\xFF\xD8"));
        assert_eq!(
            other_format(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("a PNG")
        );
        assert_eq!(other_format(b"GIF89a\x01\0"), Some("a GIF"));
        assert_eq!(other_format(b"RIFF\x10\0\0\0WEBPVP8 "), Some("a WebP"));
        assert_eq!(other_format(b"\0\0\0\x18ftypheic\0\0\0\0"), Some("a HEIC"));
        assert_eq!(other_format(b"\0\0\0\x1cftypavif\0\0\0\0"), Some("an AVIF"));
        assert_eq!(
            other_format(b"II*\0\x08\0\0\0"),
            Some("a TIFF (or camera raw)")
        );
        assert_eq!(other_format(b"\xFF\xD8\xFF\xE0"), None);
        assert_eq!(other_format(b"hello"), None);
        assert_eq!(other_format(b""), None);
    }
}
