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
    let px = frame.width as u64 * frame.height as u64;
    // 3 components of 2-byte coefficients, for the encoder and the verifying decoder.
    assert!(archive_memory(&frame, original.len() as u64) >= 2 * 3 * 2 * px);
}
