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
    // libjpeg's fatal errors unwind out of the `mozjpeg` crate (`resume_unwind`, which skips
    // libFuzzer's panic hook), as photopress's own codec calls catch them: caught here too, or
    // they abort at the fuzz target's `extern "C"` edge (a precision libjpeg refuses did).
    let read = std::panic::catch_unwind(|| mozjpeg::Decompress::new_mem(data).map(|d| d.size()));
    if let Ok(Ok(size)) = read {
        // libjpeg reads the first SOFn too; a DNL height (0 here) is its refusal.
        if frame.height > 0 && frame.width > 0 {
            assert_eq!(size, (frame.width, frame.height));
        }
    }
});
