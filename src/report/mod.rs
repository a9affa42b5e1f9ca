//! Report: an [`Outcome`](crate::pipeline::Outcome) -> the quarterly workbook and the JSON
//! summary, written atomically (temporary file in the same folder, then renamed), so a failed
//! run never leaves a half-written report or clobbers an earlier one.

pub mod configuration;
pub mod csv;
pub mod json;
pub mod methodology;
mod sheetxml;
pub mod workbook;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

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
    let mut tmp = tempfile::Builder::new()
        .prefix(".llm-scope3-")
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
    tmp.write_all(bytes).map_err(|e| out_err(e.to_string()))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| out_err(e.to_string()))?;
    Ok(Staged {
        tmp,
        path: path.to_path_buf(),
    })
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
