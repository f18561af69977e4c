//! Stopping a batch early: images not yet started are not started (they come out
//! `not-started`); images in progress finish and are written whole; the report is still made.
//! The caller holds a [`Cancel`] token and hands it to the batch; the command line sets it
//! from its signal handler.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A cancellation token: cheap to clone, every clone sees the same state.
#[derive(Debug, Clone)]
pub struct Cancel(Flag);

#[derive(Debug, Clone)]
enum Flag {
    Shared(Arc<AtomicBool>),
    /// A flag that a signal handler sets (a handler can only reach a static).
    Static(&'static AtomicBool),
}

impl Default for Cancel {
    fn default() -> Self {
        Cancel::new()
    }
}

impl Cancel {
    /// A token that nothing has cancelled yet.
    pub fn new() -> Self {
        Cancel(Flag::Shared(Arc::default()))
    }

    /// A token that is cancelled when `flag` is set (e.g. by a signal handler).
    pub fn on(flag: &'static AtomicBool) -> Self {
        Cancel(Flag::Static(flag))
    }

    fn flag(&self) -> &AtomicBool {
        match &self.0 {
            Flag::Shared(flag) => flag,
            Flag::Static(flag) => flag,
        }
    }

    /// Asks every batch holding this token to start no more images.
    pub fn cancel(&self) {
        self.flag().store(true, Ordering::SeqCst);
    }

    /// Whether the token was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.flag().load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_state_and_a_static_flag_cancels() {
        let token = Cancel::new();
        let clone = token.clone();
        assert!(!clone.is_cancelled());
        token.cancel();
        assert!(clone.is_cancelled());
        assert!(!Cancel::new().is_cancelled());

        static FLAG: AtomicBool = AtomicBool::new(false);
        let on = Cancel::on(&FLAG);
        assert!(!on.is_cancelled());
        FLAG.store(true, Ordering::SeqCst);
        assert!(on.is_cancelled());
    }
}
