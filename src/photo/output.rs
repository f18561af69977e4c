//! Writing results safely: the output folder is created once, by whichever worker needs it
//! first; every file is written under a temporary name in its final folder and renamed into
//! place, so a final name only ever holds a complete file.
//!
//! Temporary files are named `.photopress-<pid>-<random>.tmp` and held under an exclusive
//! `flock` by the process writing them. A later run removes those that nobody holds and that
//! have not been touched for [`STALE_AFTER`]: a dead run's leftovers, whatever became of its
//! process id (a lock dies with its process; a reused pid holds no lock).
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Once, OnceLock};
use std::time::{Duration, SystemTime};

use tracing::{debug, info, warn};

use crate::error::{ImageError, SetupError};

const TEMP_PREFIX: &str = ".photopress-";
const TEMP_SUFFIX: &str = ".tmp";

/// An unlocked temporary file younger than this may belong to a run that has just created it
/// and not yet locked it: left alone.
pub const STALE_AFTER: Duration = Duration::from_secs(10);

/// The output folder of a batch, created at most once.
pub struct OutputDir {
    path: PathBuf,
    fsync: bool,
    once: Once,
    failure: OnceLock<String>,
}

impl OutputDir {
    /// `fsync`: make the folders it creates durable (the new entry in each parent is synced).
    pub fn new(path: impl Into<PathBuf>, fsync: bool) -> Self {
        OutputDir {
            path: path.into(),
            fsync,
            once: Once::new(),
            failure: OnceLock::new(),
        }
    }

    /// The folder, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the folder if it is missing. Only the first caller does the work (and logs it);
    /// the others wait for it and share its result.
    pub fn ensure(&self) -> Result<(), ImageError> {
        self.once.call_once(|| {
            if self.path.is_dir() {
                return;
            }
            info!(target: "CompressOneImage", "Creating directory {}", self.path.display());
            if let Err(err) = create_dirs(&self.path, self.fsync) {
                let _ = self.failure.set(err.to_string());
            }
        });
        match self.failure.get() {
            Some(message) => Err(ImageError::OutputDir {
                path: self.path.clone(),
                message: message.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// `create_dir_all`, and with `fsync` each created folder's entry synced in its parent.
pub fn create_dirs(path: &Path, fsync: bool) -> io::Result<()> {
    if !fsync {
        return fs::create_dir_all(path);
    }
    let missing: Vec<&Path> = path.ancestors().take_while(|p| !p.is_dir()).collect();
    fs::create_dir_all(path)?;
    for dir in missing.iter().rev() {
        sync_dir(parent_or_dot(dir))?;
    }
    sync_dir(path)
}

/// Checks, before any image is encoded, that the output folder can be written: if it exists,
/// by creating (and removing) a temporary file in it; if not, that its nearest existing
/// ancestor is a folder this process may write into. Nothing is written outside the folder.
pub fn check_writable(dir: &Path) -> Result<(), SetupError> {
    let fail = |message: String| SetupError::OutputNotWritable {
        path: dir.to_path_buf(),
        message,
    };
    if dir.is_dir() {
        let probe = tempfile::Builder::new()
            .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir)
            .map_err(|err| fail(plain(&err).to_string()))?;
        drop(probe);
        return Ok(());
    }
    let Some(existing) = dir
        .ancestors()
        .skip(1)
        .find(|p| p.exists() || p.as_os_str().is_empty())
    else {
        return Ok(());
    };
    let existing = if existing.as_os_str().is_empty() {
        Path::new(".")
    } else {
        existing
    };
    if !existing.is_dir() {
        return Err(fail(format!("{} is not a folder", existing.display())));
    }
    #[cfg(unix)]
    {
        use rustix::fs::{Access, access};
        access(existing, Access::WRITE_OK | Access::EXEC_OK).map_err(|errno| {
            fail(format!(
                "cannot create it in {}: {}",
                existing.display(),
                io::Error::from(errno)
            ))
        })?;
    }
    Ok(())
}

/// How to write one output.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// The file's permission bits before the umask (at most the input's; 0o666 when unknown).
    pub mode: Option<u32>,
    /// fsync the file before the rename and its folder after it.
    pub fsync: bool,
    /// Access and modification times to give the file before it is renamed into place (the
    /// input's, under `--preserve`), so that the final name never shows another date.
    pub times: Option<fs::FileTimes>,
}

impl WriteOptions {
    /// How to write the output of the input whose metadata is `input`: its permission bits
    /// (never wider than the input's), and with `preserve` its access and modification times.
    pub fn for_input(input: &fs::Metadata, fsync: bool, preserve: bool) -> Self {
        #[cfg(unix)]
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            Some(input.permissions().mode() & 0o777)
        };
        #[cfg(not(unix))]
        let mode = None;
        let times = preserve.then(|| {
            let mut times = fs::FileTimes::new();
            if let Ok(accessed) = input.accessed() {
                times = times.set_accessed(accessed);
            }
            if let Ok(modified) = input.modified() {
                times = times.set_modified(modified);
            }
            times
        });
        WriteOptions { mode, fsync, times }
    }
}

/// Writes `data` to `dest` atomically: a temporary file in the same folder, written in full
/// (and fsynced if asked), then renamed over `dest`. A symlink at `dest` is replaced, never
/// written through. On any error nothing is left behind, and the error names `dest`.
pub fn write_atomic(dest: &Path, data: &[u8], opts: WriteOptions) -> Result<(), ImageError> {
    let wrap = |err: io::Error| ImageError::Write {
        path: dest.to_path_buf(),
        source: plain(&err),
    };
    let dir = parent_or_dot(dest);
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Like any new file (less the umask), but never wider than the input.
        builder.permissions(fs::Permissions::from_mode(
            opts.mode.unwrap_or(0o666) & 0o666,
        ));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(wrap)?;
    #[cfg(unix)]
    {
        use rustix::fs::{FlockOperation, flock};
        flock(tmp.as_file(), FlockOperation::LockExclusive).map_err(|e| wrap(e.into()))?;
    }
    // Through the file itself: tempfile's own Write adds the temporary path to errors.
    tmp.as_file_mut().write_all(data).map_err(wrap)?;
    if let Some(times) = opts.times {
        tmp.as_file().set_times(times).map_err(wrap)?;
    }
    if opts.fsync {
        tmp.as_file().sync_all().map_err(wrap)?;
    }
    // On error the temporary file is dropped, which deletes it. The lock goes with the file
    // handle, after the rename: a final name is never a temporary file's.
    tmp.persist(dest).map_err(|err| wrap(err.error))?;
    if opts.fsync {
        sync_dir(dir).map_err(wrap)?;
    }
    Ok(())
}

/// The folder of `path`, `.` for a bare name.
fn parent_or_dot(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// The OS error without the temporary file's name that `tempfile` adds to its messages: a
/// user knows the final name, not ours.
fn plain(err: &io::Error) -> io::Error {
    // tempfile wraps the OS error in one that adds the path; the OS error is its source.
    let inner = err
        .get_ref()
        .and_then(|e| e.source())
        .and_then(|e| e.downcast_ref::<io::Error>());
    match err
        .raw_os_error()
        .or(inner.and_then(io::Error::raw_os_error))
    {
        Some(code) => io::Error::from_raw_os_error(code),
        None => {
            // tempfile's message is "<OS error> at path <temporary path>".
            let text = err.to_string();
            let os = text.split(" at path ").next().unwrap_or_default();
            io::Error::new(err.kind(), os.to_string())
        }
    }
}

/// Removes temporary files left in `dir` by photopress runs that are gone: those no process
/// holds a lock on, untouched for [`STALE_AFTER`]. Returns how many were removed.
pub fn clean_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        if !is_temp_name(&entry.file_name()) {
            continue;
        }
        let path = entry.path();
        if !is_abandoned(&path) {
            continue;
        }
        match fs::remove_file(&path) {
            Ok(()) => {
                debug!(target: "ProcessImages", "Removed leftover temporary file {}", path.display());
                removed += 1;
            }
            Err(err) => {
                warn!(target: "ProcessImages", "Cannot remove leftover temporary file {}: {err}", path.display())
            }
        }
    }
    removed
}

/// A regular file, older than [`STALE_AFTER`], that nobody holds locked.
fn is_abandoned(path: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let age = meta
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .unwrap_or_default();
    if age < STALE_AFTER {
        return false;
    }
    #[cfg(unix)]
    {
        use rustix::fs::{FlockOperation, flock};
        let Ok(file) = fs::File::open(path) else {
            return false;
        };
        // Taken: no live process holds it (the lock is released when `file` closes).
        flock(&file, FlockOperation::NonBlockingLockExclusive).is_ok()
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// True for a temporary file name of ours: `.photopress-<pid>-<random>.tmp`.
fn is_temp_name(name: &OsStr) -> bool {
    name.to_str()
        .and_then(|n| n.strip_prefix(TEMP_PREFIX)?.strip_suffix(TEMP_SUFFIX))
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(pid, _)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_recognised() {
        assert!(is_temp_name(OsStr::new(".photopress-123-abcDEF.tmp")));
        assert!(!is_temp_name(OsStr::new(".photopress-x-abc.tmp")));
        assert!(!is_temp_name(OsStr::new("photopress-1-abc.tmp")));
        assert!(!is_temp_name(OsStr::new(".photopress-1-abc.jpg")));
    }

    #[test]
    fn a_locked_temporary_file_is_kept_and_an_unlocked_old_one_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = SystemTime::now() - STALE_AFTER * 3;
        let held = dir.path().join(".photopress-1-held.tmp");
        let dead = dir.path().join(".photopress-1-dead.tmp");
        let young = dir.path().join(".photopress-1-young.tmp");
        let holder = fs::File::create(&held).expect("create");
        rustix::fs::flock(&holder, rustix::fs::FlockOperation::LockExclusive).expect("lock");
        for (path, time) in [(&held, old), (&dead, old), (&young, SystemTime::now())] {
            let file = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("open");
            file.set_modified(time).expect("set mtime");
        }
        assert_eq!(clean_stale_temps(dir.path()), 1);
        assert!(held.exists(), "a live writer's file must stay");
        assert!(
            young.exists(),
            "a file just created may be about to be locked"
        );
        assert!(!dead.exists());
        drop(holder);
        assert_eq!(clean_stale_temps(dir.path()), 1, "unlocked now");
    }
}
