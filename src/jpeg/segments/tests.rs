use super::*;
use crate::jpeg::pixel::recompress;

fn segment(code: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, code];
    s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap_or(0).to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// The demo photo `name` with the metadata of a well-travelled camera file in place of its
/// own: JFIF + JFXX thumbnail, EXIF and XMP, a two-chunk ICC profile, APP12, IPTC, an Adobe
/// segment (YCbCr), a maker's APP15 and two comments.
fn travelled(name: &str) -> (Vec<u8>, Vec<(u8, Vec<u8>)>) {
    let path = format!("{}/IMAGES/{name}", env!("CARGO_MANIFEST_DIR"));
    let photo = std::fs::read(path).expect("a demo photo");
    let (_, rest) = leading(&photo).expect("its segments");
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0".to_vec();
    exif.extend_from_slice(&[0; 8]);
    let mut jfxx = b"JFXX\0\x13".to_vec();
    jfxx.extend((0..300u32).map(|i| (i % 251) as u8));
    let mut icc1 = b"ICC_PROFILE\0\x01\x02".to_vec();
    icc1.extend_from_slice(&[7; 200]);
    let mut icc2 = b"ICC_PROFILE\0\x02\x02".to_vec();
    icc2.extend_from_slice(&[9; 100]);
    let list: Vec<(u8, Vec<u8>)> = vec![
        (0xE0, b"JFIF\0\x01\x02\x01\x00\x48\x00\x48\x00\x00".to_vec()),
        (0xE0, jfxx),
        (0xE1, exif),
        (0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>".to_vec()),
        (0xE2, icc1),
        (0xE2, icc2),
        (0xEC, b"Ducky\0\x01\0\x04\0\0\0\x3c".to_vec()),
        (0xED, b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\0".to_vec()),
        (0xEE, b"Adobe\0\x64\0\0\0\0\x01".to_vec()),
        (0xEF, b"MAKER block \x01\x02\x03".to_vec()),
        (COM, b"first comment".to_vec()),
        (COM, b"second comment".to_vec()),
    ];
    let mut file = vec![0xFF, 0xD8];
    for (code, body) in &list {
        file.extend(segment(*code, body));
    }
    file.extend_from_slice(&photo[rest..]);
    (file, list)
}

fn listed(file: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let (segments, _) = leading(file).expect("segments");
    segments
        .into_iter()
        .filter(|(c, b)| !(*c == COM && is_marker(b)))
        .map(|(c, b)| (c, b.to_vec()))
        .collect()
}

fn settings(progressive: bool, best: bool) -> EncodeSettings {
    EncodeSettings {
        quality: 40,
        progressive,
        best,
        ..EncodeSettings::default()
    }
}

#[test]
fn every_segment_comes_through_in_order_on_both_codecs() {
    let (input, list) = travelled("leaf.jpg");
    for (progressive, best) in [(false, false), (true, false), (false, true)] {
        let settings = settings(progressive, best);
        let pixel = recompress(&input, &settings).expect("the pixel path");
        let dct = crate::jpeg::dct::recompress(&input, &settings, true).expect("the transcoder");
        for (codec, encoded) in [("pixel", pixel), ("dct", dct)] {
            // Without the carry, the JFIF extension and the Adobe segment are lost.
            assert_ne!(listed(&encoded), list, "{codec}: the encoder alone");
            let carried = carry(&input, encoded.clone(), &settings);
            assert_eq!(
                listed(&carried),
                list,
                "{codec} progressive={progressive} best={best}"
            );
            // The pictures are the encoder's, and the provenance marker is last.
            let (_, rest_out) = leading(&encoded).expect("output");
            let (segments, rest) = leading(&carried).expect("carried");
            assert_eq!(carried[rest..], encoded[rest_out..], "{codec}");
            assert!(
                segments
                    .last()
                    .is_some_and(|(c, b)| *c == COM && is_marker(b))
            );
        }
    }
}

#[test]
fn strip_misfit_adobe_and_odd_outputs_are_left_alone() {
    let (input, _) = travelled("leaf.jpg");
    let stripped = EncodeSettings {
        keep_metadata: false,
        ..settings(false, false)
    };
    let out = recompress(&input, &stripped).expect("strip");
    assert_eq!(
        carry(&input, out.clone(), &stripped),
        out,
        "--strip: as the encoder wrote it"
    );

    // An Adobe segment saying RGB (transform 0) on an input written as YCbCr: not carried.
    let rgb = {
        let mut file = input.clone();
        let at = file
            .windows(6)
            .position(|w| w == b"Adobe\0")
            .expect("the Adobe segment");
        file[at + 11] = 0;
        file
    };
    let settings = settings(false, false);
    let carried = carry(
        &rgb,
        recompress(&input, &settings).expect("encode"),
        &settings,
    );
    assert!(
        !listed(&carried).iter().any(|(c, _)| *c == APP14),
        "a misfit Adobe segment"
    );

    // Not a JPEG, or a file the encoders did not write: unchanged.
    assert_eq!(carry(&input, b"nonsense".to_vec(), &settings), b"nonsense");
    let out = recompress(&input, &settings).expect("encode");
    let mut extra = out[..2].to_vec();
    extra.extend(segment(0xE7, b"from nowhere"));
    extra.extend_from_slice(&out[2..]);
    assert_eq!(
        carry(&input, extra.clone(), &settings),
        extra,
        "an unknown segment"
    );
}
