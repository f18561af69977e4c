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
use crate::options::{Operation, Options};

pub use crate::inputs::job::{Dest, Job, Source, relative_key};

/// True for names ending in `.jpg`, `.jpeg`, `.jfif` or `.jpe`, in any case.
pub fn is_jpeg_name(path: &Path) -> bool {
    crate::jpeg::has_jpeg_extension(path)
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

/// The names a walk takes under `opts`, in words.
fn input_names(opts: &Options) -> &'static str {
    match opts.operation {
        Operation::Restore => ".lep",
        Operation::Compress | Operation::Archive => ".jpg, .jpeg, .jfif or .jpe",
    }
}

/// Whether a folder walk (or a bucket listing) takes a file of this name under `opts`: a JPEG
/// name, or under [`Operation::Restore`] an archive's (`.lep`).
pub fn is_input_name(path: &Path, opts: &Options) -> bool {
    match opts.operation {
        Operation::Restore => crate::options::is_archive_name(path),
        Operation::Compress | Operation::Archive => is_jpeg_name(path),
    }
}

/// Lists the jobs for `inputs` (files and folders) under `opts`.
pub fn scan(inputs: &[PathBuf], opts: &Options) -> Result<Vec<Job>, SetupError> {
    // With a bucket output, the output folder's checks are not this scan's (see `objects`).
    scan_inputs(inputs, opts, opts.output_url.is_none())
}

/// The files `inputs` hold, without any output check.
pub fn list(inputs: &[PathBuf], opts: &Options) -> Result<Vec<Job>, SetupError> {
    scan_inputs(inputs, opts, false)
}

/// What a streamed walk hands over for each file it finds: the job, and the file's size as the
/// walk's own stat saw it (`None` when that stat failed, or for a folder that could not be
/// listed). An error stops the walk.
pub type Found<'a> = dyn FnMut(Job, Option<u64>) -> Result<(), SetupError> + 'a;

/// The files of one input (a folder, or a file), each handed to `found` as the walk reaches
/// it, in the order [`list`] gives; no output check, and no output: each job's `output` is
/// empty. No table of outputs is kept: one walk
/// makes each output name once (each folder is walked once, each name in it once), so what
/// the walk holds is the names of the folders it is in, not of the files it found
/// (`photopress plan` lists ten million keys this way).
pub fn list_each(input: &Path, opts: &Options, found: &mut Found<'_>) -> Result<(), SetupError> {
    walk_inputs(
        std::slice::from_ref(&input.to_path_buf()),
        opts,
        false,
        false,
        found,
    )
}

fn scan_inputs(
    inputs: &[PathBuf],
    opts: &Options,
    local_output: bool,
) -> Result<Vec<Job>, SetupError> {
    let mut jobs = Vec::new();
    walk_inputs(inputs, opts, local_output, true, &mut |job, _| {
        jobs.push(job);
        Ok(())
    })?;
    if local_output {
        guard::check(&mut jobs, &opts.output_dir)?;
    }
    Ok(jobs)
}

/// The walk itself; `track_outputs` keeps the table of outputs claimed (several inputs may
/// reach one file, or two files one output name).
fn walk_inputs(
    inputs: &[PathBuf],
    opts: &Options,
    local_output: bool,
    track_outputs: bool,
    found: &mut Found<'_>,
) -> Result<(), SetupError> {
    opts.validate()?;
    if local_output && opts.output_dir.exists() && !opts.output_dir.is_dir() {
        return Err(SetupError::OutputNotADirectory(opts.output_dir.clone()));
    }
    let mut scanner = Scanner {
        opts,
        output_canonical: local_output
            .then(|| fs::canonicalize(&opts.output_dir).ok())
            .flatten(),
        found,
        seen_dirs: HashSet::new(),
        outputs: track_outputs.then(HashMap::new),
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
                    scanner.add_file(input.clone(), Path::new(""), None)?;
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
        } else if is_input_name(input, opts)
            || !meta.is_file()
            || opts.operation == Operation::Restore
        {
            scanner.add_file(input.clone(), Path::new(""), Some(meta.len()))?;
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
                Some(err) => scanner.push_problem(input.clone(), Path::new(""), err.to_string())?,
                None => scanner.add_file(input.clone(), Path::new(""), Some(meta.len()))?,
            }
        }
    }
    if scanner.skipped_entries > 0 {
        info!(
            target: "ProcessImages",
            "Skipped {} hidden or system entries in the folders (._*, .thumbnails, @eaDir...; -v names them{})",
            scanner.skipped_entries,
            if opts.hidden { String::new() } else { format!(", {} takes hidden ones", crate::names::name(crate::names::Setting::Hidden)) }
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
    Ok(())
}

struct Scanner<'a, 'f> {
    opts: &'a Options,
    /// The output folder, if it exists: never scanned as input.
    output_canonical: Option<PathBuf>,
    /// Where each job found goes.
    found: &'a mut Found<'f>,
    /// Canonical folders already walked (symlink loops end here).
    seen_dirs: HashSet<PathBuf>,
    /// Output path -> the input that claimed it, and that input's canonical path; `None` when
    /// not tracked (one input's walk, see [`list_each`]).
    outputs: Option<HashMap<PathBuf, (PathBuf, Option<PathBuf>)>>,
    /// Files left out by the prefix rule.
    taken_for_outputs: usize,
    /// Hidden and system entries left out of the walks.
    skipped_entries: usize,
}

impl Scanner<'_, '_> {
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
        let mut children: Vec<(OsString, fs::DirEntry)> = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => children.push((entry.file_name(), entry)),
                Err(err) => {
                    self.push_problem(dir.to_path_buf(), rel, format!("cannot list folder: {err}"))?
                }
            }
        }
        // Names are unique in a folder: sorted by name.
        children.sort_by(|a, b| a.0.cmp(&b.0));
        // The prefix rule: in the folder this one's outputs go to, files named with the
        // prefix are outputs of ours (or will be overwritten by them), never inputs.
        let is_output_folder = self.output_canonical.is_some()
            && !self.opts.prefix.is_empty()
            && guard::resolve(dir, true) == guard::resolve(&self.opts.output_dir.join(rel), true);
        for (name, entry) in children {
            let path = entry.path();
            if is_skipped_in_walks(&name, self.opts.hidden) {
                debug!(target: "ProcessImages", "Skipping {}: a hidden or system entry", path.display());
                self.skipped_entries += 1;
                continue;
            }
            // fs::metadata follows symlinks: a link to a file is a file, to a folder a folder.
            // Any other entry is what it says it is: its own metadata (a stat relative to the
            // open folder, no walk down the whole path) is the same.
            let meta = match entry.file_type() {
                Ok(kind) if !kind.is_symlink() => entry.metadata(),
                _ => fs::metadata(&path),
            };
            let size = meta.as_ref().ok().map(fs::Metadata::len);
            match meta {
                Ok(meta) if meta.is_dir() => {
                    if !self.opts.recursive {
                        continue;
                    }
                    let sub_rel = rel.join(&name);
                    match fs::read_dir(&path) {
                        Ok(entries) => self.walk(&path, &sub_rel, entries)?,
                        Err(err) => {
                            self.push_problem(path, rel, format!("cannot list folder: {err}"))?
                        }
                    }
                }
                Ok(_) | Err(_)
                    if is_output_folder
                        && is_input_name(&path, self.opts)
                        && guard::is_output_name(&name, &self.opts.prefix) =>
                {
                    debug!(target: "ProcessImages", "Skipping {}: an output of photopress (its name starts with the prefix)", path.display());
                    self.taken_for_outputs += 1;
                }
                Ok(_) | Err(_) if is_input_name(&path, self.opts) => {
                    self.add_file(path, rel, size)?
                }
                _ => {
                    debug!(target: "ProcessImages", "Skipping {}: not named {}", path.display(), input_names(self.opts))
                }
            }
        }
        Ok(())
    }

    fn add_file(
        &mut self,
        input: PathBuf,
        rel: &Path,
        size: Option<u64>,
    ) -> Result<(), SetupError> {
        let Some(file_name) = input.file_name() else {
            return Err(SetupError::MissingInput(input));
        };
        if self.outputs.is_none() {
            // A listing (`list_each`) plans no output: the job's is left empty.
            let key = relative_key(rel, file_name);
            return (self.found)(Job::file(input, PathBuf::new(), key, None), size);
        }
        let name = self
            .opts
            .operation
            .output_name(&self.opts.prefix, file_name);
        let output = self.opts.output_dir.join(rel).join(&name);
        let problem = match self.claim_output(&input, rel, &name, &output)? {
            Claim::Free => None,
            Claim::AlreadyListed => return Ok(()),
            Claim::Taken(problem) => Some(problem),
        };
        let key = relative_key(rel, file_name);
        (self.found)(Job::file(input, output, key, problem), size)
    }

    /// Whether `input` may write `output` (its `name` in the folder `rel`), when outputs are
    /// tracked.
    fn claim_output(
        &mut self,
        input: &Path,
        rel: &Path,
        name: &std::ffi::OsStr,
        output: &Path,
    ) -> Result<Claim, SetupError> {
        let Some(outputs) = self.outputs.as_mut() else {
            return Ok(Claim::Free);
        };
        let canonical = fs::canonicalize(input).ok();
        if let (Some(canonical), Some(out_root)) = (&canonical, &self.output_canonical)
            && *canonical == out_root.join(rel).join(name)
        {
            return Err(SetupError::WouldOverwriteInput {
                input: input.to_path_buf(),
                output: output.to_path_buf(),
            });
        }
        Ok(match outputs.get(output) {
            // The same file reached twice for the same output (named twice, or as a file and
            // within its folder): done once.
            Some((_, first)) if canonical.is_some() && *first == canonical => {
                debug!(target: "ProcessImages", "Skipping {}: already listed", input.display());
                Claim::AlreadyListed
            }
            Some((first, _)) => Claim::Taken(format!(
                "its output {} is already the output of {}",
                output.display(),
                first.display()
            )),
            None => {
                outputs.insert(output.to_path_buf(), (input.to_path_buf(), canonical));
                Claim::Free
            }
        })
    }

    fn push_problem(
        &mut self,
        path: PathBuf,
        rel: &Path,
        message: String,
    ) -> Result<(), SetupError> {
        let output = self.opts.output_dir.join(rel);
        let name = path.file_name().unwrap_or_default().to_owned();
        let key = relative_key(rel, &name);
        (self.found)(Job::file(path, output, key, Some(message)), None)
    }
}

/// What the table of outputs says of a file's output.
enum Claim {
    /// Nobody's yet (or not tracked): the file is a job.
    Free,
    /// The same file already took it: not listed again.
    AlreadyListed,
    /// Another file's: the job fails with this problem.
    Taken(String),
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
        format!(
            "{held}: add {} to compress them",
            crate::names::name(crate::names::Setting::Recursive)
        )
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
            Operation::Compress.output_name("compressed_".as_ref(), "a.JPG".as_ref()),
            "compressed_a.JPG"
        );
        assert_eq!(
            Operation::Compress.output_name("".as_ref(), "a.jpg".as_ref()),
            "a.jpg"
        );
        let p = "x_".as_ref();
        assert_eq!(
            Operation::Archive.output_name(p, "a.JPG".as_ref()),
            "x_a.JPG.lep"
        );
        assert_eq!(
            Operation::Restore.output_name(p, "a.JPG.lep".as_ref()),
            "x_a.JPG"
        );
        assert_eq!(
            Operation::Restore.output_name(p, "a.LEP".as_ref()),
            "x_a.jpg"
        );
        assert_eq!(Operation::Restore.output_name(p, "a".as_ref()), "x_a.jpg");
        assert_eq!(
            Operation::Restore.output_name(p, ".lep".as_ref()),
            "x_.lep.jpg"
        );
    }
}
