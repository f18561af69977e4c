//! The JPEG format: the one header reader, the file sniffer, the provenance marker, the
//! resize plan, and the two codecs: `pixel` (decode and encode again through mozjpeg) and
//! `dct` (the transcoder, which requantizes the coefficients without a decode).
pub mod corruption;
pub mod dct;
pub mod header;
pub mod marker;
pub mod pixel;
pub mod resize;
pub mod segments;
pub mod sniff;

/// The reference quality: the seed's job (Pillow's `quality=30, optimize=True`).
pub const DEFAULT_QUALITY: u8 = 30;

/// True for names ending in `.jpg`, `.jpeg`, `.jfif` or `.jpe`, in any case.
pub fn has_jpeg_extension(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|ext| {
        ["jpg", "jpeg", "jfif", "jpe"]
            .iter()
            .any(|known| ext.eq_ignore_ascii_case(known))
    })
}
