//! The gate that bounds the uploads in flight: a counter under a lock, a slot per upload
//! given back when it ends.
use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// A counting gate on the uploads in flight.
#[derive(Debug)]
pub(crate) struct UploadGate {
    running: Mutex<usize>,
    freed: Condvar,
    limit: usize,
}

impl UploadGate {
    pub(crate) fn new(limit: usize) -> Self {
        UploadGate {
            running: Mutex::new(0),
            freed: Condvar::new(),
            limit: limit.max(1),
        }
    }

    /// Blocks until fewer than `limit` uploads run, then counts one more.
    pub(crate) fn enter(self: &Arc<Self>) -> Slot {
        // The counter stays consistent even if a holder panicked: poisoning is ignored.
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        while *running >= self.limit {
            running = self
                .freed
                .wait(running)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *running += 1;
        Slot(Arc::clone(self))
    }
}

/// One upload's place in the gate, given back when the upload ends however it ends (done,
/// failed, or its task dropped with the runtime).
pub(crate) struct Slot(Arc<UploadGate>);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self
            .0
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *running = running.saturating_sub(1);
        self.0.freed.notify_one();
    }
}
