//! The scan of the inputs: which files to compress and where each result goes.
//!
//! Directories contribute their `.jpg`/`.jpeg`/`.jfif`/`.jpe` files (any case), sorted by
//! name, leaving out hidden and system entries ([`is_skipped_in_walks`]); with `recursive`,
//! sub-folders too, mirrored under the output folder. Files named on the command line are
//! taken whatever their name (a hidden one too) when their content starts like a JPEG's. A file reached twice for the same output is done once; two
//! different files that would share an output name make the second one fail.
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use tracing::{debug, info};

use crate::error::{ImageError, SetupError};
use crate::inputs::guard;
use crate::jpeg::sniff;
use crate::options::Options;

pub use crate::inputs::job::{Dest, Job, Source, relative_key};

/// True for names ending in `.jpg`, `.jpeg`, `.jfif` or `.jpe`, in any case.
pub fn is_jpeg_name(path: &Path) -> bool {
    path.extension().is_some_and(|ext| {
        ["jpg", "jpeg", "jfif", "jpe"]
            .iter()
            .any(|known| ext.eq_ignore_ascii_case(known))
    })
}

/// Entries a folder walk never takes: hidden ones (a name starting with `.`: `.thumbnails/`,
/// macOS's `._*` AppleDouble files and `.DS_Store`, the trash) unless `hidden`, and the
/// system folders and files of NAS boxes and Windows (`@eaDir`, `#recycle`, `Thumbs.db`...),
/// always. (`._*` files are metadata, never pictures, even under `hidden`.)
pub fn is_skipped_in_walks(name: &std::ffi::OsStr, hidden: bool) -> bool {
    const SYSTEM: [&str; 7] = [
        "@eaDir",
        "#recycle",
        "#snapshot",
        "$RECYCLE.BIN",
        "System Volume Information",
        "Thumbs.db",
        "desktop.ini",
    ];
    let bytes = name.as_encoded_bytes();
    bytes.starts_with(b"._")
        || (!hidden && bytes.starts_with(b"."))
        || SYSTEM
            .iter()
            .any(|s| bytes.eq_ignore_ascii_case(s.as_bytes()))
}

/// The output file name for an input file name: the prefix, then the name unchanged.
pub fn output_name(prefix: &std::ffi::OsStr, file_name: &std::ffi::OsStr) -> OsString {
    let mut name = OsString::with_capacity(prefix.len() + file_name.len());
    name.push(prefix);
    name.push(file_name);
    name
}

/// Lists the jobs for `inputs` (files and folders) under `opts`.
pub fn scan(inputs: &[PathBuf], opts: &Options) -> Result<Vec<Job>, SetupError> {
    // With a bucket output, the output folder's checks are not this scan's (see `objects`).
    scan_inputs(inputs, opts, opts.output_url.is_none())
}

/// The files `inputs` hold, without any output check (`photopress plan` lists them).
pub fn list(inputs: &[PathBuf], opts: &Options) -> Result<Vec<Job>, SetupError> {
    scan_inputs(inputs, opts, false)
}

fn scan_inputs(
    inputs: &[PathBuf],
    opts: &Options,
    local_output: bool,
) -> Result<Vec<Job>, SetupError> {
    opts.validate()?;
    if local_output && opts.output_dir.exists() && !opts.output_dir.is_dir() {
        return Err(SetupError::OutputNotADirectory(opts.output_dir.clone()));
    }
    let mut scanner = Scanner {
        opts,
        output_canonical: local_output
            .then(|| fs::canonicalize(&opts.output_dir).ok())
            .flatten(),
        jobs: Vec::new(),
        seen_dirs: HashSet::new(),
        outputs: HashMap::new(),
        taken_for_outputs: 0,
        skipped_entries: 0,
    };
    for input in inputs {
        let meta = match fs::metadata(input) {
            Ok(meta) => meta,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                // A dangling symlink named on the command line is that file's error, not a
                // usage error.
                if fs::symlink_metadata(input).is_ok() {
                    scanner.add_file(input, Path::new(""))?;
                    continue;
                }
                return Err(SetupError::MissingInput(input.clone()));
            }
            Err(source) => {
                return Err(SetupError::UnreadableInput {
                    path: input.clone(),
                    source,
                });
            }
        };
        if meta.is_dir() {
            let entries = fs::read_dir(input).map_err(|source| SetupError::UnreadableInput {
                path: input.clone(),
                source,
            })?;
            scanner.walk(input, Path::new(""), entries)?;
        } else if is_jpeg_name(input) || !meta.is_file() {
            scanner.add_file(input, Path::new(""))?;
        } else {
            // Named explicitly without a JPEG extension (`IMG_1`, `photo.JPG_original`): taken
            // when its content is a JPEG's (or cannot be read: its read fails with the cause).
            let refusal = match sniff::head(input) {
                Ok(head) if !head.is_empty() && !sniff::is_jpeg(&head) => {
                    Some(match sniff::other_format(&head) {
                        Some(format) => ImageError::OtherFormat(format),
                        None => ImageError::NotJpegContent,
                    })
                }
                _ => None,
            };
            match refusal {
                Some(err) => scanner.push_problem(input.clone(), Path::new(""), err.to_string()),
                None => scanner.add_file(input, Path::new(""))?,
            }
        }
    }
    if scanner.skipped_entries > 0 {
        info!(
            target: "ProcessImages",
            "Skipped {} hidden or system entries in the folders (._*, .thumbnails, @eaDir...; -v names them{})",
            scanner.skipped_entries,
            if opts.hidden { "" } else { ", --hidden takes hidden ones" }
        );
    }
    if scanner.taken_for_outputs > 0 {
        info!(
            target: "ProcessImages",
            "Not taking {} files of the output folder named {:?}... as inputs: they are outputs of photopress",
            scanner.taken_for_outputs,
            opts.prefix.to_string_lossy()
        );
    }
    let mut jobs = scanner.jobs;
    if local_output {
        guard::check(&mut jobs, &opts.output_dir)?;
    }
    Ok(jobs)
}

struct Scanner<'a> {
    opts: &'a Options,
    /// The output folder, if it exists: never scanned as input.
    output_canonical: Option<PathBuf>,
    jobs: Vec<Job>,
    /// Canonical folders already walked (symlink loops end here).
    seen_dirs: HashSet<PathBuf>,
    /// Output path -> the input that claimed it, and that input's canonical path.
    outputs: HashMap<PathBuf, (PathBuf, Option<PathBuf>)>,
    /// Files left out by the prefix rule.
    taken_for_outputs: usize,
    /// Hidden and system entries left out of the walks.
    skipped_entries: usize,
}

impl Scanner<'_> {
    /// Adds the entries of the folder `dir` (whose path below its input root is `rel`).
    fn walk(&mut self, dir: &Path, rel: &Path, entries: fs::ReadDir) -> Result<(), SetupError> {
        if let Ok(canonical) = fs::canonicalize(dir) {
            // Our own outputs are never input, unless the user names the folder themselves.
            let is_root = rel.as_os_str().is_empty();
            if !is_root && self.output_canonical.as_ref() == Some(&canonical) {
                debug!(target: "ProcessImages", "Not scanning {}: it is the output folder", dir.display());
                return Ok(());
            }
            if !self.seen_dirs.insert(canonical) {
                debug!(target: "ProcessImages", "Not scanning {} again (already scanned)", dir.display());
                return Ok(());
            }
        }
        let mut children: Vec<(OsString, PathBuf)> = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => children.push((entry.file_name(), entry.path())),
                Err(err) => {
                    self.push_problem(dir.to_path_buf(), rel, format!("cannot list folder: {err}"))
                }
            }
        }
        children.sort();
        // The prefix rule: in the folder this one's outputs go to, files named with the
        // prefix are outputs of ours (or will be overwritten by them), never inputs.
        let is_output_folder = self.output_canonical.is_some()
            && !self.opts.prefix.is_empty()
            && guard::resolve(dir, true) == guard::resolve(&self.opts.output_dir.join(rel), true);
        for (name, path) in children {
            if is_skipped_in_walks(&name, self.opts.hidden) {
                debug!(target: "ProcessImages", "Skipping {}: a hidden or system entry", path.display());
                self.skipped_entries += 1;
                continue;
            }
            // fs::metadata follows symlinks: a link to a file is a file, to a folder a folder.
            match fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => {
                    if !self.opts.recursive {
                        continue;
                    }
                    let sub_rel = rel.join(&name);
                    match fs::read_dir(&path) {
                        Ok(entries) => self.walk(&path, &sub_rel, entries)?,
                        Err(err) => {
                            self.push_problem(path, rel, format!("cannot list folder: {err}"))
                        }
                    }
                }
                Ok(_) | Err(_)
                    if is_output_folder
                        && is_jpeg_name(&path)
                        && guard::is_output_name(&name, &self.opts.prefix) =>
                {
                    debug!(target: "ProcessImages", "Skipping {}: an output of photopress (its name starts with the prefix)", path.display());
                    self.taken_for_outputs += 1;
                }
                Ok(_) | Err(_) if is_jpeg_name(&path) => self.add_file(&path, rel)?,
                _ => {
                    debug!(target: "ProcessImages", "Skipping {}: not named .jpg, .jpeg, .jfif or .jpe", path.display())
                }
            }
        }
        Ok(())
    }

    fn add_file(&mut self, input: &Path, rel: &Path) -> Result<(), SetupError> {
        let canonical = fs::canonicalize(input).ok();
        let Some(file_name) = input.file_name() else {
            return Err(SetupError::MissingInput(input.to_path_buf()));
        };
        let name = output_name(&self.opts.prefix, file_name);
        let output = self.opts.output_dir.join(rel).join(&name);
        if let (Some(canonical), Some(out_root)) = (&canonical, &self.output_canonical)
            && *canonical == out_root.join(rel).join(&name)
        {
            return Err(SetupError::WouldOverwriteInput {
                input: input.to_path_buf(),
                output,
            });
        }
        let problem = match self.outputs.get(&output) {
            // The same file reached twice for the same output (named twice, or as a file and
            // within its folder): done once.
            Some((_, first)) if canonical.is_some() && *first == canonical => {
                debug!(target: "ProcessImages", "Skipping {}: already listed", input.display());
                return Ok(());
            }
            Some((first, _)) => Some(format!(
                "its output {} is already the output of {}",
                output.display(),
                first.display()
            )),
            None => {
                self.outputs
                    .insert(output.clone(), (input.to_path_buf(), canonical));
                None
            }
        };
        let key = relative_key(rel, file_name);
        self.jobs
            .push(Job::file(input.to_path_buf(), output, key, problem));
        Ok(())
    }

    fn push_problem(&mut self, path: PathBuf, rel: &Path, message: String) {
        let output = self.opts.output_dir.join(rel);
        let name = path.file_name().unwrap_or_default().to_owned();
        let key = relative_key(rel, &name);
        self.jobs.push(Job::file(path, output, key, Some(message)));
    }
}

/// Why nothing was found, when a hint can help: without `recursive`, the JPEGs that the
/// sub-folders of the folder inputs hold (`3 sub-folders hold 12 JPEGs: add -r`). The count
/// stops at 100,000 entries visited.
pub fn nothing_found_hint(inputs: &[PathBuf], opts: &Options) -> Option<String> {
    if opts.recursive {
        return None;
    }
    let mut budget = 100_000usize;
    let (mut folders, mut files) = (0usize, 0usize);
    for input in inputs.iter().filter(|p| p.is_dir()) {
        for entry in fs::read_dir(input).into_iter().flatten().flatten() {
            if is_skipped_in_walks(&entry.file_name(), opts.hidden) || !entry.path().is_dir() {
                continue;
            }
            let found = count_jpegs(&entry.path(), opts.hidden, &mut budget, 0);
            if found > 0 {
                folders += 1;
                files += found;
            }
        }
    }
    (files > 0).then(|| {
        let held = match (folders, files) {
            (1, 1) => "1 sub-folder holds 1 JPEG".to_string(),
            (1, n) => format!("1 sub-folder holds {n} JPEGs"),
            (f, n) => format!("{f} sub-folders hold {n} JPEGs"),
        };
        format!("{held}: add -r (--recursive) to compress them")
    })
}

/// JPEG-named files in `dir` and below (symlinked folders are not followed, so no loops).
fn count_jpegs(dir: &Path, hidden: bool, budget: &mut usize, depth: usize) -> usize {
    let mut found = 0;
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        if *budget == 0 || depth > 64 {
            break;
        }
        *budget -= 1;
        if is_skipped_in_walks(&entry.file_name(), hidden) {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => found += count_jpegs(&entry.path(), hidden, budget, depth + 1),
            _ if is_jpeg_name(&entry.path()) => found += 1,
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_names_in_any_case() {
        for name in [
            "a.jpg",
            "a.JPG",
            "a.jpeg",
            "a.JpEg",
            "dir/b c.jpg",
            "a.jfif",
            "a.JPE",
        ] {
            assert!(is_jpeg_name(Path::new(name)), "{name}");
        }
        for name in ["a.png", "a.jpg.txt", "jpg", "a.jp", "a", ".jpg"] {
            assert!(!is_jpeg_name(Path::new(name)), "{name}");
        }
    }

    #[test]
    fn hidden_and_system_entries_are_skipped_in_walks() {
        for name in [
            "._IMG_1.jpg",
            ".thumbnails",
            ".DS_Store",
            "@eaDir",
            "Thumbs.db",
        ] {
            assert!(is_skipped_in_walks(name.as_ref(), false), "{name}");
        }
        for name in ["._IMG_1.jpg", "@eaDir", "#recycle"] {
            assert!(
                is_skipped_in_walks(name.as_ref(), true),
                "{name} even with --hidden"
            );
        }
        assert!(!is_skipped_in_walks(".holiday".as_ref(), true));
        for name in ["IMG_1.jpg", "eaDir", "a._b.jpg"] {
            assert!(!is_skipped_in_walks(name.as_ref(), false), "{name}");
        }
    }

    #[test]
    fn output_name_is_prefix_then_name() {
        assert_eq!(
            output_name("compressed_".as_ref(), "a.JPG".as_ref()),
            "compressed_a.JPG"
        );
        assert_eq!(output_name("".as_ref(), "a.jpg".as_ref()), "a.jpg");
    }
}
