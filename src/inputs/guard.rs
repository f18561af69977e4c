//! Where outputs may go, checked for the whole batch before any image is read: every final
//! output path, resolved (made absolute, `.` and `..` applied, symlinks of its existing
//! folders followed), must lie inside the resolved output folder and must not be an input.
//! This holds also when the output folder does not exist yet. A symlink at an output's final
//! name is not followed: the rename into place replaces the link itself.
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::error::SetupError;
use crate::inputs::job::Job;

/// `path` as the kernel would reach it: absolute, every existing folder on the way resolved
/// through its symlinks (so `link/..` is the parent of the link's target), the parts that do
/// not exist yet applied as written. With `follow_last` false, a symlink as the last
/// component is kept as it is.
pub fn resolve(path: &Path, follow_last: bool) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let components: Vec<Component> = absolute.components().collect();
    let mut current = PathBuf::new();
    for (i, component) in components.iter().enumerate() {
        let last = i + 1 == components.len();
        match component {
            Component::Prefix(_) | Component::RootDir => current.push(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                current.pop();
            }
            Component::Normal(name) => {
                let next = current.join(name);
                let is_link = fs::symlink_metadata(&next).is_ok_and(|m| m.file_type().is_symlink());
                current = if is_link && last && !follow_last {
                    next
                } else {
                    // Missing (or a dangling link): nothing to follow, the name stands.
                    fs::canonicalize(&next).unwrap_or(next)
                };
            }
        }
    }
    current
}

/// Checks every job's output against the output folder and the inputs. An output that would
/// land on an input stops the batch (`WouldOverwriteInput`); one that a symlinked sub-folder
/// would take outside the output folder fails alone (the job gets a problem).
pub fn check(jobs: &mut [Job], output_dir: &Path) -> Result<(), SetupError> {
    let root = resolve(output_dir, true);
    let inputs: HashMap<PathBuf, PathBuf> = jobs
        .iter()
        .filter(|job| job.problem.is_none())
        .map(|job| (resolve(&job.input, true), job.input.clone()))
        .collect();
    for job in jobs.iter_mut().filter(|job| job.problem.is_none()) {
        let output = resolve(&job.output, false);
        if let Some(input) = inputs.get(&output) {
            return Err(SetupError::WouldOverwriteInput {
                input: input.clone(),
                output: job.output.clone(),
            });
        }
        if !output.starts_with(&root) || output == root {
            job.problem = Some(format!(
                "its output {} would be written outside the output folder {} (a symlinked folder?); nothing written",
                job.output.display(),
                output_dir.display()
            ));
        }
    }
    Ok(())
}

/// Whether a file name starts with the (non-empty) output prefix: in the output folder, such
/// a file is taken for an output of ours and never as an input (the scan's prefix rule).
pub fn is_output_name(name: &OsStr, prefix: &OsStr) -> bool {
    !prefix.is_empty()
        && name
            .as_encoded_bytes()
            .starts_with(prefix.as_encoded_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_dot_and_symlinks_are_resolved_like_the_kernel() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(dir.path()).expect("canonical");
        fs::create_dir_all(root.join("real/inner")).expect("mkdir");
        std::os::unix::fs::symlink(root.join("real/inner"), root.join("link")).expect("link");
        // link/.. is real, not root.
        assert_eq!(
            resolve(&root.join("link/../x.jpg"), false),
            root.join("real/x.jpg")
        );
        // Missing parts are applied as written, `..` included.
        assert_eq!(
            resolve(&root.join("new/../real/./y.jpg"), false),
            root.join("real/y.jpg")
        );
        // The last component: kept as a link, or followed.
        fs::write(root.join("real/x.jpg"), b"x").expect("write");
        std::os::unix::fs::symlink(root.join("real/x.jpg"), root.join("out.jpg")).expect("link");
        assert_eq!(resolve(&root.join("out.jpg"), false), root.join("out.jpg"));
        assert_eq!(
            resolve(&root.join("out.jpg"), true),
            root.join("real/x.jpg")
        );
    }
}
