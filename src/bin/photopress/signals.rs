//! The command's signals. Ctrl-C (SIGINT) or SIGTERM stops the batch early: the handler sets
//! a static flag (all a handler may do), which the batch sees through its cancellation token
//! ([`cancel`]); images not yet started are not started, images in progress finish and are
//! written whole, the report is still printed. SIGXFSZ is ignored.
// Signal handlers are installed through libc: `unsafe`, each block with a SAFETY comment.
#![allow(unsafe_code)]
use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// The batch's cancellation token: cancelled by the first SIGINT or SIGTERM.
pub fn cancel() -> photopress::cancel::Cancel {
    photopress::cancel::Cancel::on(&STOP)
}

/// Whether a stop was requested.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Makes the first SIGINT or SIGTERM request a stop; a second one ends the process at once
/// (the next run removes any temporary file it leaves). Does nothing off Unix.
pub fn install_handler() {
    #[cfg(unix)]
    {
        extern "C" fn on_signal(_: libc::c_int) {
            // Only an atomic store: async-signal-safe.
            STOP.store(true, Ordering::SeqCst);
        }
        let handler: extern "C" fn(libc::c_int) = on_signal;
        for signal in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: a zeroed sigaction is valid; the handler only stores to an atomic, and
            // SA_RESETHAND restores the default action for the second signal.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as libc::sighandler_t;
                action.sa_flags = libc::SA_RESETHAND;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
    }
}

/// Past a file-size limit (`ulimit -f`) the kernel sends SIGXFSZ, which would kill the whole
/// batch mid-write; ignored, the write fails with EFBIG and only that image fails.
pub fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}
