//! Fuzzes `photopress restore` on hostile archives (`archive::restore`): every input must give
//! `Ok` or `Err`, never a panic that escapes, a hang or memory beyond the declared original; an
//! `Ok` must be exactly the original the header describes (its length and SHA-256). Seeds:
//! real archives of small JPEGs (make_seeds.sh), whose headers and Lepton streams the fuzzer
//! mutates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use photopress::archive::{Header, restore};

/// The largest original a restore here produces: what a hostile header may ask for is capped.
const CAP: u64 = 8 << 20;

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
    let Ok(restored) = restore(data, CAP) else {
        return;
    };
    let header = Header::read(data).expect("a restore that succeeded read a header");
    assert_eq!(restored.len() as u64, header.len);
    assert!(photopress::archive::is_archive_of(data, &restored));
});
