//! Fuzzes the one JPEG header reader (`header::read_frame`), which the memory budget, the
//! transcoder and the pixel path's checks share: it must return `Ok` or `Err` for every input,
//! never panic or loop. Where it finds a frame, the declared size must be what libjpeg reads
//! from the same bytes (when libjpeg reads a header at all), so the budget never disagrees with
//! the codec that will decode the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use photopress::jpeg::header::read_frame;

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = read_frame(data) else {
        return;
    };
    assert!(frame.components.iter().all(|c| (1..=4).contains(&c.h) && (1..=4).contains(&c.v)));
    if let Ok(decoder) = mozjpeg::Decompress::new_mem(data) {
        // libjpeg reads the first SOFn too; a DNL height (0 here) is its refusal.
        if frame.height > 0 && frame.width > 0 {
            assert_eq!(decoder.size(), (frame.width, frame.height));
        }
    }
});
