//! What a batch tells whoever watches it, as it goes: an [`Observer`] is called as each
//! image starts and ends, from the worker that does it. The command line's progress bar and
//! its `--json-lines` sink are observers; the library itself writes nothing to a terminal or
//! to stdout.
use crate::inputs::job::Job;
use crate::outcome::Outcome;

/// Watches a batch. Both calls come from worker threads, concurrently: keep them short.
pub trait Observer: Sync {
    /// Work on `job` begins.
    fn image_started(&self, _job: &Job) {}

    /// An image is done, whatever its status (a failure included).
    fn image_done(&self, _outcome: &Outcome) {}
}

/// Watches nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {}

/// Two observers, called in order.
impl<A: Observer + ?Sized, B: Observer + ?Sized> Observer for (&A, &B) {
    fn image_started(&self, job: &Job) {
        self.0.image_started(job);
        self.1.image_started(job);
    }

    fn image_done(&self, outcome: &Outcome) {
        self.0.image_done(outcome);
        self.1.image_done(outcome);
    }
}
