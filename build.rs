//! Fails the build loudly when libjpeg-turbo (mozjpeg-sys) would run without its SIMD on x86,
//! where photopress would then run about 2.7x slower at decoding:
//! - when `nasm` is missing (mozjpeg-sys would build without SIMD, silently);
//! - when mozjpeg-sys was already built without it (its `jconfig.h` lacks `WITH_SIMD`): a
//!   build made before nasm was installed stays in the target folder, and cargo does not
//!   build it again when nasm appears.
//!
//! Set `PHOTOPRESS_ALLOW_NO_SIMD=1` to build anyway.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PHOTOPRESS_ALLOW_NO_SIMD");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if arch != "x86_64" && arch != "x86" {
        return;
    }
    if std::env::var_os("PHOTOPRESS_ALLOW_NO_SIMD").is_some_and(|v| v == "1") {
        return;
    }
    let found = Command::new("nasm")
        .arg("-v")
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        eprintln!(
            "\nerror: `nasm` is not installed. Without it the JPEG codec builds without SIMD \
             and runs about 2.7x slower.\n  Install it: `apt-get install -y nasm` \
             (or run ./scripts/install-deps.sh),\n  or build anyway with PHOTOPRESS_ALLOW_NO_SIMD=1.\n"
        );
        std::process::exit(1);
    }
    // mozjpeg-sys (`links = "jpeg"`) tells its include folders, where its jconfig.h says
    // whether it was built with SIMD.
    let Some(include) = std::env::var_os("DEP_JPEG_INCLUDE") else {
        return;
    };
    let config: Option<PathBuf> = std::env::split_paths(&include)
        .map(|dir| dir.join("jconfig.h"))
        .find(|path| path.is_file());
    let Some(config) = config else {
        return;
    };
    println!("cargo:rerun-if-changed={}", config.display());
    // (Unreadable, it says nothing either way.)
    let Ok(text) = std::fs::read_to_string(&config) else {
        return;
    };
    if !text.contains("#define WITH_SIMD 1") {
        eprintln!(
            "\nerror: the JPEG codec (mozjpeg-sys) in this target folder was built without SIMD \
             ({} has no WITH_SIMD),\n  most likely before nasm was installed; it would run \
             about 2.7x slower.\n  Rebuild it: `cargo clean -p mozjpeg-sys`, then build again \
             (or build anyway with PHOTOPRESS_ALLOW_NO_SIMD=1).\n",
            config.display()
        );
        std::process::exit(1);
    }
}
