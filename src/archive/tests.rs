use super::*;
use crate::jpeg::header::read_frame;

fn photo(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("IMAGES")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn archived(original: &[u8]) -> Archived {
    let frame = read_frame(original).expect("a JPEG header");
    archive(original, &frame)
}

#[test]
fn a_photo_is_archived_smaller_and_restored_bit_for_bit() {
    let original = photo("leaf.jpg");
    let a = archived(&original);
    assert_eq!(a.body, Body::Lepton, "{:?}", a.stored_because);
    assert!(
        (a.bytes.len() as f64) < original.len() as f64 * 0.9,
        "{} bytes for {}",
        a.bytes.len(),
        original.len()
    );
    let header = Header::read(&a.bytes).expect("header");
    let frame = read_frame(&original).expect("frame");
    assert_eq!(
        (header.width, header.height, header.components),
        (frame.width as u32, frame.height as u32, 3)
    );
    assert_eq!(header.len, original.len() as u64);
    assert_eq!(restore(&a.bytes, u64::MAX).expect("restore"), original);
    assert!(is_archive_of(&a.bytes[..HEADER_LEN], &original));
    assert!(!is_archive_of(&a.bytes[..HEADER_LEN], &original[1..]));
}

#[test]
fn what_lepton_cannot_hold_is_stored_and_still_restores() {
    // Not a JPEG Lepton can parse: a header, then garbage instead of scans.
    let whole = photo("leaf.jpg");
    let frame = read_frame(&whole).expect("frame");
    let mut original = whole[..2000].to_vec();
    original.extend_from_slice(&[0x12; 100]);
    let a = archive(&original, &frame);
    assert_eq!(a.body, Body::Stored);
    assert!(a.stored_because.is_some());
    assert_eq!(a.bytes.len(), original.len() + HEADER_LEN);
    assert_eq!(restore(&a.bytes, u64::MAX).expect("restore"), original);
}

#[test]
fn damaged_archives_fail_with_their_cause() {
    let original = photo("leaf.jpg");
    let good = archived(&original).bytes;

    assert_eq!(
        restore(b"\xff\xd8\xff\xe0", u64::MAX),
        Err(ArchiveError::NotAnArchive)
    );
    assert!(matches!(
        restore(&good[..30], u64::MAX),
        Err(ArchiveError::Header(_))
    ));
    let mut later = good.clone();
    later[7] = 9;
    assert_eq!(restore(&later, u64::MAX), Err(ArchiveError::Version(9)));

    // Cut short: Lepton's stream ends early.
    let cut = &good[..good.len() / 2];
    assert!(
        matches!(
            restore(cut, u64::MAX),
            Err(ArchiveError::Damaged(_) | ArchiveError::Mismatch { .. })
        ),
        "{:?}",
        restore(cut, u64::MAX).map(|v| v.len())
    );

    // A checksum that does not match what the body decodes to.
    let mut wrong_sum = good.clone();
    wrong_sum[40] ^= 1;
    match restore(&wrong_sum, u64::MAX) {
        Err(ArchiveError::Mismatch {
            expected_len,
            got_len,
            ..
        }) => {
            assert_eq!(
                (expected_len, got_len),
                (original.len() as u64, original.len() as u64)
            );
        }
        other => panic!("{:?}", other.map(|v| v.len())),
    }

    // A length that lies low: decoding stops at it instead of growing.
    let mut short_len = good.clone();
    short_len[20..28].copy_from_slice(&1000u64.to_le_bytes());
    assert!(restore(&short_len, u64::MAX).is_err());

    // Over the cap: refused before decoding.
    assert_eq!(
        restore(&good, 1000),
        Err(ArchiveError::TooLarge {
            size: original.len() as u64,
            cap: 1000
        })
    );

    // A flipped bit inside the body: an error, never other bytes.
    for at in [HEADER_LEN + 40, good.len() / 2, good.len() - 10] {
        let mut flipped = good.clone();
        flipped[at] ^= 0x10;
        assert!(
            restore(&flipped, u64::MAX).is_err(),
            "flip at {at} restored"
        );
    }
}

#[test]
fn a_stored_archive_whose_body_changed_fails() {
    let original = b"\xff\xd8 not really a jpeg".to_vec();
    let mut a = stored(&original);
    let last = a.len() - 1;
    a[last] ^= 1;
    assert!(matches!(
        restore(&a, u64::MAX),
        Err(ArchiveError::Mismatch { .. })
    ));
}

#[test]
fn the_memory_estimate_covers_the_coefficients() {
    let original = photo("dogs.jpg");
    let frame = read_frame(&original).expect("frame");
    assert!(frame.is_420());
    let px = frame.width as u64 * frame.height as u64;
    let estimate = archive_memory(&frame, original.len() as u64);
    // 4:2:0: 1.5 samples a pixel, 2 bytes each, for the encoder and the verifying decoder.
    assert!(
        estimate >= 2 * 3 * px + 2 * original.len() as u64,
        "{estimate}"
    );
    // ...but not every component at full size.
    assert!(estimate < 2 * 6 * px, "{estimate}");
}

#[test]
fn a_lepton_header_whose_counts_lie_is_refused_before_lepton_allocates() {
    // Found by fuzzing restore: 300 bytes whose Lepton header asks for a 3.35 GB buffer.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions/restore/oom-hdr-3gb.lep");
    let data = std::fs::read(&path).expect("the regression input");
    match restore(&data, u64::MAX) {
        Err(ArchiveError::Damaged(why)) => assert!(why.starts_with("Lepton header"), "{why}"),
        other => panic!("{:?}", other.map(|v| v.len())),
    }
    // The same lie in a header that inflates well: a real archive whose HDR count says 3 GB.
    let original = photo("leaf.jpg");
    let good = archived(&original).bytes;
    let body = &good[HEADER_LEN..];
    let size = u32::from_le_bytes([body[24], body[25], body[26], body[27]]) as usize;
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::ZlibDecoder::new(&body[28..28 + size]),
        &mut inflated,
    )
    .expect("a real header inflates");
    assert_eq!(&inflated[..3], b"HDR");
    inflated[3..7].copy_from_slice(&3_000_000_000u32.to_le_bytes());
    let mut zipped = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut zipped, &inflated).expect("deflate");
    let zipped = zipped.finish().expect("deflate");
    let mut lying = good[..HEADER_LEN + 24].to_vec();
    lying.extend_from_slice(&(zipped.len() as u32).to_le_bytes());
    lying.extend_from_slice(&zipped);
    lying.extend_from_slice(&body[28 + size..]);
    match restore(&lying, u64::MAX) {
        Err(ArchiveError::Damaged(why)) => {
            assert!(why.contains("larger than the bytes that follow"), "{why}")
        }
        other => panic!("{:?}", other.map(|v| v.len())),
    }
    // Every real archive passes the check.
    for name in ["dogs.jpg", "fig.jpg", "leaf.jpg", "mountains.jpg"] {
        let original = photo(name);
        let a = archived(&original);
        assert!(
            guard::check(&a.bytes[HEADER_LEN..], original.len() as u64).is_ok(),
            "{name}"
        );
    }
}

#[test]
fn a_lepton_stream_that_makes_lepton_panic_is_an_error() {
    // Found by fuzzing restore: Lepton's bit writer subtracts past zero on this stream (a
    // panic under debug assertions, as here; a wrap in a release build): either way an error.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions/restore/panic-bitwriter-overflow.lep");
    let data = std::fs::read(&path).expect("the regression input");
    assert!(restore(&data, u64::MAX).is_err());
}
