//! Writing results safely: the output folder is created once, by whichever worker needs it
//! first; every file is written under a temporary name in its final folder and renamed into
//! place, so a final name only ever holds a complete file.
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Once, OnceLock};

use tracing::{debug, info, warn};

use crate::error::ImageError;

/// Temporary files are named `.photopress-<pid>-<random>.tmp`, so a later run can tell its own
/// leftovers (from a killed run) from anything else.
const TEMP_PREFIX: &str = ".photopress-";
const TEMP_SUFFIX: &str = ".tmp";

/// The output folder of a batch, created at most once.
pub struct OutputDir {
    path: PathBuf,
    once: Once,
    failure: OnceLock<String>,
}

impl OutputDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        OutputDir {
            path: path.into(),
            once: Once::new(),
            failure: OnceLock::new(),
        }
    }

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
            match fs::create_dir_all(&self.path) {
                Ok(()) => {
                    info!(target: "CompressOneImage", "Directory {} created", self.path.display())
                }
                Err(err) => {
                    let _ = self.failure.set(err.to_string());
                }
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

/// Writes `data` to `dest` atomically: a temporary file in the same folder, written in full
/// (and fsynced if asked), then renamed over `dest`. On any error nothing is left behind.
pub fn write_atomic(dest: &Path, data: &[u8], fsync: bool) -> Result<(), ImageError> {
    let wrap = |source: io::Error| ImageError::Write {
        path: dest.to_path_buf(),
        source,
    };
    let dir = match dest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Like any new file: 0666 less the umask, not tempfile's private 0600.
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(wrap)?;
    tmp.write_all(data).map_err(wrap)?;
    tmp.flush().map_err(wrap)?;
    if fsync {
        tmp.as_file().sync_all().map_err(wrap)?;
    }
    // On error the temporary file is dropped, which deletes it.
    tmp.persist(dest).map_err(|err| wrap(err.error))?;
    Ok(())
}

/// Removes temporary files left in `dir` by photopress runs that no longer exist (killed).
/// Returns how many were removed.
pub fn clean_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = temp_owner(&name) else {
            continue;
        };
        if pid != std::process::id() && process_alive(pid) {
            continue;
        }
        let path = entry.path();
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

/// The process id in a temporary file name of ours, if it is one.
fn temp_owner(name: &OsStr) -> Option<u32> {
    let name = name.to_str()?;
    let rest = name.strip_prefix(TEMP_PREFIX)?.strip_suffix(TEMP_SUFFIX)?;
    let (pid, _random) = rest.split_once('-')?;
    pid.parse().ok()
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        // Without a cheap way to ask, assume the owner may still be writing.
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_recognised() {
        assert_eq!(
            temp_owner(OsStr::new(".photopress-123-abcDEF.tmp")),
            Some(123)
        );
        assert_eq!(temp_owner(OsStr::new(".photopress-x-abc.tmp")), None);
        assert_eq!(temp_owner(OsStr::new("photopress-1-abc.tmp")), None);
        assert_eq!(temp_owner(OsStr::new(".photopress-1-abc.jpg")), None);
    }
}
