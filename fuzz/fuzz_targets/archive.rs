//! Fuzzes `photopress --archive` (`archive::archive`) on hostile JPEGs: every input gives an
//! archive (Lepton, or the original stored) without a panic escaping, a hang or memory beyond
//! the picture its header declares, and every archive restores to exactly the input. Seeds:
//! the JPEGs of the transcoder's corpus (`fuzz/corpus/transcode`, their first byte a setting
//! the mutations are free to keep).
#![no_main]

use libfuzzer_sys::fuzz_target;
use photopress::archive::{Body, archive, restore};
use photopress::jpeg::header::read_frame;

fuzz_target!(
    init: {
        // Lepton's debug build (the fuzz build has debug assertions) panics on some integer
        // overflows in hostile streams; photopress catches every panic of Lepton's and
        // answers an error (`archive::guarded`), and its release build wraps. libFuzzer's hook
        // would abort at the panic even though it is caught: a silent hook instead. A panic
        // that escapes still aborts (it cannot unwind out of the target), and counts.
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
    let Ok(frame) = read_frame(data) else {
        return;
    };
    // The batch's budget refuses what it cannot hold; here, pictures over 16 MP.
    if frame.width.saturating_mul(frame.height) > 16 << 20 {
        return;
    }
    let made = archive(data, &frame);
    if made.body == Body::Stored {
        assert!(made.stored_because.is_some());
    }
    let back = restore(&made.bytes, u64::MAX).expect("every archive restores");
    assert!(back == data, "an archive restored to other bytes");
});
