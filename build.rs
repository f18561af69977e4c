//! Fails the build loudly when `nasm` is missing on x86: mozjpeg-sys would otherwise build
//! without SIMD, silently, and photopress would run about 2.7x slower.
//! Set `PHOTOPRESS_ALLOW_NO_SIMD=1` to build anyway.
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
}
