//! The one-call API for one file: a JPEG on disk compressed to a path of the caller's choice,
//! under the batch's rules for one image (a regular file only, read within the size cap,
//! written atomically and never over its input, permission bits never wider than the input's).
use std::path::{Path, PathBuf};

use crate::error::{Error, SetupError};
use crate::options::Options;
use crate::photo::bytes::{Compressed, compress_owned};
use crate::photo::compress::Context;
use crate::photo::{input, output};

/// Compresses the JPEG at `input` into `output` (a file path; its folder must exist) under
/// `options`, as [`crate::compress_bytes`] does in memory; the output folder, prefix and batch-level
/// options are not used. The output is written under a temporary name in its folder and
/// renamed into place, so `output` only ever holds a complete file; on any error nothing is
/// written. When re-encoding does not pay (`kept_original`), `output` gets the input's bytes.
/// `output` naming the input itself (or the file a symlink at `input` points to) is refused.
///
/// ```
/// use photopress::{Options, compress_file};
/// let dir = std::env::temp_dir().join(format!("photopress-file-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let out = compress_file("IMAGES/leaf.jpg".as_ref(), &dir.join("leaf.jpg"), &Options::default())?;
/// assert_eq!(std::fs::read(dir.join("leaf.jpg"))?, out.data);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compress_file(input: &Path, output: &Path, options: &Options) -> Result<Compressed, Error> {
    options.validate()?;
    if is_same_entry(input, output) {
        return Err(SetupError::Usage(format!(
            "output {} is the input itself; choose another output path",
            output.display()
        ))
        .into());
    }
    let ctx = Context::new(options);
    // Read within the cap (and refused when empty), then compressed as it is: no copy.
    let (data, meta) = input::read(input, ctx.input_cap())?;
    let compressed = compress_owned(data, &ctx)?;
    let how = output::WriteOptions::for_input(&meta, options.fsync, options.preserve);
    output::write_atomic(output, &compressed.data, how)?;
    Ok(compressed)
}

/// True when writing `output` (a rename onto its name) would replace `input`: the same folder
/// entry, or the file a symlink at `input` resolves to. A symlink at `output` is replaced, not
/// written through, so it never makes the two the same.
fn is_same_entry(input: &Path, output: &Path) -> bool {
    let Some(out) = entry(output) else {
        return false;
    };
    entry(input).is_some_and(|i| i == out) || std::fs::canonicalize(input).is_ok_and(|i| i == out)
}

/// `path` with its folder resolved (symlinks and `..`), its last component as it is.
fn entry(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(dir).ok()?.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ImageError;

    fn leaf() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("IMAGES/leaf.jpg")
    }

    #[test]
    fn writes_the_compressed_photo_and_returns_its_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("small.jpg");
        let result = compress_file(&leaf(), &out, &Options::default()).expect("compresses");
        let written = std::fs::read(&out).expect("output written");
        assert_eq!(written, result.data);
        assert!(written.len() * 4 < std::fs::metadata(leaf()).expect("leaf").len() as usize);
        let frame = crate::jpeg::header::read_frame(&written).expect("a JPEG");
        assert_eq!((frame.width, frame.height), (1920, 1200));
        // Only the output in the folder: no temporary file left.
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 1);
    }

    #[test]
    fn refuses_to_write_over_its_input_and_writes_nothing_on_failure() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in.jpg");
        std::fs::copy(leaf(), &input).expect("copy");
        let before = std::fs::read(&input).expect("read");
        let same = dir.path().join(".").join("in.jpg");
        let err = compress_file(&input, &same, &Options::default()).expect_err("refused");
        assert!(err.to_string().contains("is the input itself"), "{err}");
        #[cfg(unix)]
        {
            let link = dir.path().join("link.jpg");
            std::os::unix::fs::symlink(&input, &link).expect("symlink");
            let err = compress_file(&link, &input, &Options::default()).expect_err("refused");
            assert!(err.to_string().contains("is the input itself"), "{err}");
        }
        assert_eq!(std::fs::read(&input).expect("read"), before);

        let bad = dir.path().join("bad.jpg");
        std::fs::write(&bad, b"GIF89a not a jpeg").expect("write");
        let out = dir.path().join("out.jpg");
        let err = compress_file(&bad, &out, &Options::default()).expect_err("not a JPEG");
        assert!(
            matches!(err, Error::Image(ImageError::OtherFormat(_))),
            "{err}"
        );
        assert!(!out.exists());
        let missing = compress_file(
            &input,
            &dir.path().join("no/such/dir.jpg"),
            &Options::default(),
        );
        assert!(
            matches!(missing, Err(Error::Image(ImageError::Write { .. }))),
            "{missing:?}"
        );
    }
}
