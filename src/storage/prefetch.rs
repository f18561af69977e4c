//! Downloads ahead of the compute: [`Bucket::prefetch`] fetches a list of keys in order in the
//! background, and the rayon workers [`Prefetcher::take`] them, each blocking only when its
//! object has not arrived yet.
//!
//! Bounds: at most `window` objects started and not yet taken, and at most
//! `max_bytes_in_flight` bytes reserved by them (an object reserves its size when its response
//! headers arrive, before its body is read, and gives it back when taken; a single object larger
//! than the budget still goes through, alone).
//!
//! No order of takes can deadlock: taking an index that was not started starts it at once, and
//! an index being taken skips the byte budget, so a taker never waits on objects that only
//! other, later takes would free.
use std::pin::pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::task::AbortHandle;

use super::error::StorageError;
use super::object::{Bucket, Fetched, Inner, ObjectStore};

/// Background downloads of a fixed list of keys; see the module comment.
#[derive(Debug)]
pub struct Prefetcher {
    keys: Arc<Vec<String>>,
    shared: Arc<Shared>,
    bucket: Arc<Inner>,
    max_object_bytes: u64,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Takers wait here for a download to end.
    done: Condvar,
    /// Downloads wait here for bytes of the budget (or for being taken).
    budget: Notify,
}

#[derive(Debug)]
struct State {
    slots: Vec<KeyState>,
    /// Every index below `next` has been started (or taken).
    next: usize,
    /// Every index below `unclaimed` has been claimed.
    unclaimed: usize,
    /// Started and not taken.
    held: usize,
    /// Bytes reserved by the started, not taken.
    bytes: u64,
    window: usize,
    max_bytes: u64,
}

#[derive(Debug, Default)]
/// Where one key's download stands.
struct KeyState {
    phase: Phase,
    /// Someone is blocked taking it: it skips the budget.
    urgent: bool,
    /// Handed out by [`Prefetcher::next`] (or taken by index).
    claimed: bool,
    reserved: u64,
    task: Option<AbortHandle>,
}

#[derive(Debug, Default)]
enum Phase {
    #[default]
    Waiting,
    Running,
    Done(Result<Fetched, StorageError>),
    Taken,
}

impl Bucket {
    /// Starts downloading `keys` (relative, in this order) in the background; see the module
    /// comment for the bounds. An object larger than `max_object_bytes` is refused
    /// ([`StorageError::TooLarge`]) before its body is read.
    pub fn prefetch(
        &self,
        keys: Vec<String>,
        window: usize,
        max_bytes_in_flight: u64,
        max_object_bytes: u64,
    ) -> Prefetcher {
        let slots = keys.iter().map(|_| KeyState::default()).collect();
        let prefetcher = Prefetcher {
            keys: Arc::new(keys),
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    slots,
                    next: 0,
                    unclaimed: 0,
                    held: 0,
                    bytes: 0,
                    window: window.max(1),
                    max_bytes: max_bytes_in_flight,
                }),
                done: Condvar::new(),
                budget: Notify::new(),
            }),
            bucket: Arc::clone(&self.inner),
            max_object_bytes,
        };
        let mut state = prefetcher.lock();
        prefetcher.start_in_order(&mut state);
        drop(state);
        prefetcher
    }
}

impl Prefetcher {
    /// How many keys it was given.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when it was given no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key at `index`, as given.
    pub fn key(&self, index: usize) -> Option<&str> {
        self.keys.get(index).map(String::as_str)
    }

    /// Blocks until the object at `index` is downloaded (starting it now if it was not
    /// started) and hands it over. Each index can be taken once.
    pub fn take(&self, index: usize) -> Result<Fetched, StorageError> {
        let other = |message: String| StorageError::Other {
            url: self.bucket.remote.url.to_string(),
            message,
        };
        let mut state = self.lock();
        let Some(slot) = state.slots.get_mut(index) else {
            return Err(other(format!(
                "prefetch index {index} out of range ({} keys)",
                self.keys.len()
            )));
        };
        slot.urgent = true;
        slot.claimed = true;
        match slot.phase {
            Phase::Taken => {
                return Err(other(format!("prefetch index {index} taken twice")));
            }
            Phase::Waiting => self.start(&mut state, index),
            // It may be waiting for budget, which it now skips.
            Phase::Running => self.shared.budget.notify_waiters(),
            Phase::Done(_) => {}
        }
        let result = loop {
            let slot = &mut state.slots[index];
            match std::mem::replace(&mut slot.phase, Phase::Taken) {
                Phase::Done(result) => {
                    let reserved = std::mem::take(&mut slot.reserved);
                    state.held -= 1;
                    state.bytes -= reserved;
                    break result;
                }
                still => slot.phase = still,
            }
            state = self
                .shared
                .done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        };
        // Room in the window and the budget: more downloads may start, or resume.
        self.start_in_order(&mut state);
        drop(state);
        self.shared.budget.notify_waiters();
        result
    }

    /// Takes the first object nobody has claimed yet, in the order of the keys, blocking until
    /// it is downloaded; `None` when every one has been claimed. The way for a pool of workers
    /// to pull work in download order (`std::iter::from_fn(|| p.next()).par_bridge()`, or a
    /// loop per worker); use either this or [`Prefetcher::take`] on one prefetcher.
    pub fn next(&self) -> Option<(usize, Result<Fetched, StorageError>)> {
        let index = {
            let mut state = self.lock();
            let mut index = state.unclaimed;
            while state.slots.get(index).is_some_and(|slot| slot.claimed) {
                index += 1;
            }
            state.unclaimed = index + 1;
            state.slots.get_mut(index)?.claimed = true;
            index
        };
        Some((index, self.take(index)))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// Starts the next keys in order while the window and the budget have room.
    fn start_in_order(&self, state: &mut State) {
        while state.next < state.slots.len()
            && state.held < state.window
            && state.bytes < state.max_bytes.max(1)
        {
            let index = state.next;
            state.next += 1;
            if matches!(state.slots[index].phase, Phase::Waiting) {
                self.start(state, index);
            }
        }
    }

    fn start(&self, state: &mut State, index: usize) {
        state.held += 1;
        let slot = &mut state.slots[index];
        slot.phase = Phase::Running;
        let task = Download {
            remote: self.bucket.remote.clone(),
            shared: Arc::clone(&self.shared),
            keys: Arc::clone(&self.keys),
            index,
            max_object_bytes: self.max_object_bytes,
            finished: false,
        };
        slot.task = Some(self.bucket.runtime.spawn(task.run()).abort_handle());
    }
}

impl Drop for Prefetcher {
    /// Stops the downloads nobody will take.
    fn drop(&mut self) {
        let tasks: Vec<AbortHandle> = self
            .lock()
            .slots
            .iter_mut()
            .filter_map(|slot| slot.task.take())
            .collect();
        // Outside the lock: a stopped download records its end under it.
        for task in tasks {
            task.abort();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Panics do not happen while the lock is held; if one did, the counts are still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One background download. If it ends without a result (aborted, panicked), its drop records
/// an error, so that a taker never waits for ever.
struct Download {
    remote: ObjectStore,
    shared: Arc<Shared>,
    keys: Arc<Vec<String>>,
    index: usize,
    max_object_bytes: u64,
    finished: bool,
}

impl Download {
    async fn run(mut self) {
        let key = self.keys[self.index].clone();
        let result = async {
            let opened = self.remote.open(&key, self.max_object_bytes).await?;
            self.reserve(opened.meta.size).await;
            self.remote.read(&key, opened).await
        }
        .await;
        self.finish(result);
    }

    /// Waits until `size` bytes fit in the budget (or the budget is empty, or someone is taking
    /// this object), then reserves them.
    async fn reserve(&self, size: u64) {
        loop {
            // Registered before the check, so a release between check and wait is not missed.
            let mut freed = pin!(self.shared.budget.notified());
            freed.as_mut().enable();
            {
                let mut state = self.shared.lock();
                let fits = state.bytes == 0 || state.bytes.saturating_add(size) <= state.max_bytes;
                if fits || state.slots[self.index].urgent {
                    state.bytes += size;
                    state.slots[self.index].reserved = size;
                    return;
                }
            }
            freed.await;
        }
    }

    fn finish(&mut self, result: Result<Fetched, StorageError>) {
        self.finished = true;
        let mut state = self.shared.lock();
        let slot = &mut state.slots[self.index];
        slot.phase = Phase::Done(result);
        slot.task = None;
        drop(state);
        self.shared.done.notify_all();
    }
}

impl Drop for Download {
    fn drop(&mut self) {
        if !self.finished {
            let url = self.remote.url.object_url(&self.keys[self.index]);
            self.finish(Err(StorageError::Other {
                url,
                message: "the download was stopped".to_string(),
            }));
        }
    }
}
