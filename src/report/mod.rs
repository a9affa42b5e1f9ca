//! Report: an [`Outcome`](crate::pipeline::Outcome) -> the quarterly workbook and the JSON
//! summary, written atomically (temporary file in the same folder, then renamed), so a failed
//! run never leaves a half-written report or clobbers an earlier one.

mod cell;
pub mod configuration;
pub mod csv;
mod entities_json;
pub mod intensity;
pub mod json;
pub mod methodology;
mod per_request_json;
pub mod text;
mod training_json;
mod trend_json;
pub mod workbook;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use crate::model::{cut_in_a_cell, CELL_TEXT_MAX};

/// Text for one workbook cell: as it is, or cut to [`CELL_TEXT_MAX`] with a marker saying how
/// long it was and where the whole text is (the JSON summary and the ledger keep it whole), so
/// that no input can make the workbook writer fail.
pub fn cell_text(s: &str) -> std::borrow::Cow<'_, str> {
    // A UTF-16 string is never longer in code units than UTF-8 in bytes.
    if s.len() <= CELL_TEXT_MAX || s.encode_utf16().count() <= CELL_TEXT_MAX {
        return std::borrow::Cow::Borrowed(s);
    }
    let marker = format!(
        " [... cut at a spreadsheet cell's limit: the text has {} characters; the JSON summary has it whole]",
        s.chars().count()
    );
    let budget = CELL_TEXT_MAX - marker.encode_utf16().count();
    let mut out = String::with_capacity(CELL_TEXT_MAX + marker.len());
    let mut used = 0;
    for ch in s.chars() {
        used += ch.len_utf16();
        if used > budget {
            break;
        }
        out.push(ch);
    }
    out.push_str(&marker);
    std::borrow::Cow::Owned(out)
}

/// Refuses an output path that would overwrite something the user gave us or that is not a
/// file we may replace: an input export, the ledger, the configuration or a template
/// (`protected`, each with what it is), a symbolic link (never followed into place), a
/// folder, device or FIFO (a folder is what `want_dir` outputs need). `what` names the option
/// (`--out`). A usage error (exit 2) in plain words.
pub fn refuse_unsafe_output(
    path: &Path,
    what: &str,
    want_dir: bool,
    protected: &[(PathBuf, &str)],
) -> Result<()> {
    let shown = path.display();
    if let Ok(m) = std::fs::symlink_metadata(path) {
        let t = m.file_type();
        if t.is_symlink() {
            return Err(Error::Usage(format!(
                "{what} {shown} is a symbolic link: name the file itself or a new name (llm-scope3 does not write through links)"
            )));
        }
        let kind = file_kind(&m);
        match (want_dir, kind) {
            (false, "a regular file") | (true, "a folder") => {}
            (false, k) => {
                return Err(Error::Usage(format!(
                    "{what} {shown} is {k}, not a regular file: name a new file or an earlier report"
                )))
            }
            (true, k) => {
                return Err(Error::Usage(format!(
                    "{what} {shown} is {k}, not a folder: name a new folder or an earlier report's folder"
                )))
            }
        }
    }
    for (p, role) in protected {
        if same_place(path, p) {
            return Err(Error::Usage(format!(
                "{what} {shown} is {role}: the report would overwrite it. Name another file"
            )));
        }
    }
    Ok(())
}

/// What kind of file system object `m` describes, in words.
pub fn file_kind(m: &std::fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_file() {
        return "a regular file";
    }
    if t.is_dir() {
        return "a folder";
    }
    if t.is_symlink() {
        return "a symbolic link";
    }
    match crate::ingest::special_kind(&t) {
        "FIFO" => "a FIFO (named pipe)",
        "character device" | "block device" => "a device",
        "socket" => "a socket",
        _ => "not a regular file",
    }
}

/// True when `a` and `b` name the same file: the same inode when both exist, else the same
/// absolute path (the folder resolved, links and `..` included).
pub fn same_place(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    let resolved = |p: &Path| -> Option<PathBuf> {
        if let Ok(c) = std::fs::canonicalize(p) {
            return Some(c);
        }
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(p.file_name()?))
    };
    match (resolved(a), resolved(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, flushed, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    stage(path, bytes)?.commit()
}

/// An output written in full to a temporary file beside its destination, not yet in place:
/// stage every output of a run first, then [`Staged::commit`] them, so that a failure while
/// writing any of them (a full disk) leaves every earlier output as it was.
#[derive(Debug)]
pub struct Staged {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

/// Writes `bytes` to a temporary file beside `path` and syncs it (see [`Staged`]).
pub fn stage(path: &Path, bytes: &[u8]) -> Result<Staged> {
    stage_with(path, |w| w.write_all(bytes))
}

/// Like [`stage`], but `write` writes the contents to the temporary file through a buffer, so
/// that a large output (the JSON summary) need not be built in memory first.
pub fn stage_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<Staged> {
    let out_err = |reason: String| Error::Output {
        path: path.display().to_string(),
        reason,
    };
    stage_file(path, |file| {
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, file);
        write(&mut buffered).map_err(|e| out_err(e.to_string()))?;
        buffered.flush().map_err(|e| out_err(e.to_string()))
    })
}

/// A writer that remembers its first failure and discards everything after it, so that a
/// writer above it (a zip being finished when it is dropped) does not fail again, and the
/// caller can report the failure as the output's own (a full disk) rather than as its
/// writer's.
pub struct FirstFailure<W> {
    inner: W,
    error: Option<std::io::Error>,
}

impl<W> FirstFailure<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        FirstFailure { inner, error: None }
    }

    /// The first failure, if any, and the writer.
    pub fn into_parts(self) -> (W, Option<std::io::Error>) {
        (self.inner, self.error)
    }

    fn keep<T>(&mut self, r: std::io::Result<T>, instead: T) -> std::io::Result<T> {
        if self.error.is_some() {
            return Ok(instead);
        }
        r.inspect_err(|e| self.error = Some(std::io::Error::new(e.kind(), e.to_string())))
    }
}

impl<W: Write> Write for FirstFailure<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.error.is_some() {
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        self.keep(r, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.error.is_some() {
            return Ok(());
        }
        let r = self.inner.flush();
        self.keep(r, ())
    }
}

impl<W: std::io::Seek> std::io::Seek for FirstFailure<W> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        if self.error.is_some() {
            return Ok(0);
        }
        let r = self.inner.seek(pos);
        self.keep(r, 0)
    }
}

/// Stages the workbook of `o` at `path`, deflated into the temporary file as it is made (never
/// held whole in memory); a failure to write is the output's error, naming it.
pub fn stage_workbook(
    path: &Path,
    o: &crate::pipeline::Outcome,
    set: &crate::factors::FactorSet,
) -> Result<Staged> {
    let out_err = |e: std::io::Error| Error::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    stage_file(path, |file| {
        let mut out = FirstFailure::new(std::io::BufWriter::with_capacity(1 << 16, file));
        let built = workbook::build_into(o, set, &mut out).and_then(|w| w.flush().map_err(out_err));
        let (_, failed) = out.into_parts();
        match (built, failed) {
            (_, Some(e)) => Err(out_err(e)),
            (r, None) => r,
        }
    })
}

/// Like [`stage_with`], but `write` gets the temporary file itself (seekable: a zip is
/// written into it as it is deflated) and may fail with any error of the tool.
pub fn stage_file(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<()>,
) -> Result<Staged> {
    let out_err = |reason: String| Error::Output {
        path: path.display().to_string(),
        reason,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(out_err(format!(
            "the folder {} does not exist",
            dir.display()
        )));
    }
    if path.is_dir() {
        return Err(out_err("it is a folder".into()));
    }
    remove_stale_temps(dir);
    let prefix = temp_prefix("");
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| out_err(e.to_string()))?;
    // A temporary file is private (0600); a report is for sharing: keep the permissions of the
    // report it replaces, or give a new one 0644 like any file the user saves.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let permissions = std::fs::metadata(path)
            .map(|m| m.permissions())
            .unwrap_or_else(|_| std::fs::Permissions::from_mode(0o644));
        tmp.as_file()
            .set_permissions(permissions)
            .map_err(|e| out_err(e.to_string()))?;
    }
    write(tmp.as_file_mut())?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| out_err(e.to_string()))?;
    Ok(Staged {
        tmp,
        path: path.to_path_buf(),
    })
}

/// The start of our temporary names in a folder: `.llm-scope3-[KIND-]PID-`, so that a later
/// run can tell a file of a killed run from one being written now.
pub(crate) fn temp_prefix(kind: &str) -> String {
    format!(".llm-scope3-{kind}{}-", std::process::id())
}

/// Removes temporary files and folders that an interrupted run of ours left in `dir`: names
/// `.llm-scope3-[csv-]PID-*` whose process is gone (on Linux, no `/proc/PID`), and, where
/// processes cannot be looked up, or for names without a process id (earlier versions), those
/// untouched for a day. Says on stderr what it removed; failures to remove are ignored (the
/// next run tries again).
pub(crate) fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let proc_fs = Path::new("/proc/self").exists();
    let day = std::time::Duration::from_secs(24 * 3600);
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix(".llm-scope3-") else {
            continue;
        };
        let rest = rest.strip_prefix("csv-").unwrap_or(rest);
        let ours = name.ends_with(".tmp") || name.starts_with(".llm-scope3-csv-");
        if !ours {
            continue;
        }
        let pid: Option<u32> = rest.split('-').next().and_then(|p| p.parse().ok());
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > day);
        let stale = match pid {
            Some(p) if p == std::process::id() => false,
            Some(p) if proc_fs => !Path::new(&format!("/proc/{p}")).exists(),
            _ => old,
        };
        if !stale {
            continue;
        }
        let removed = if meta.is_dir() {
            std::fs::remove_dir_all(e.path())
        } else {
            std::fs::remove_file(e.path())
        };
        if removed.is_ok() {
            eprintln!(
                "note: removed {}, left by an interrupted llm-scope3 run ({} bytes)",
                e.path().display(),
                meta.len()
            );
        }
    }
}

impl Staged {
    /// Moves the staged file into place (a rename within one folder).
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        self.tmp.persist(&path).map_err(|e| Error::Output {
            path: path.display().to_string(),
            reason: e.error.to_string(),
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod cell_tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_the_cell_limit_with_a_marker() {
        let short = "a".repeat(CELL_TEXT_MAX);
        assert_eq!(cell_text(&short), short.as_str());
        // 40,000 'é' are 80,000 bytes and 40,000 UTF-16 units: cut.
        let long = "é".repeat(40_000);
        let cut = cell_text(&long);
        assert_eq!(cut.encode_utf16().count(), CELL_TEXT_MAX);
        assert!(cut.ends_with("the text has 40000 characters; the JSON summary has it whole]"));
        // An emoji is two UTF-16 units: never split in half.
        let emoji = "😀".repeat(20_000);
        let cut = cell_text(&emoji);
        assert!(cut.encode_utf16().count() <= CELL_TEXT_MAX);
        assert!(cut.starts_with("😀😀"));
    }
}
