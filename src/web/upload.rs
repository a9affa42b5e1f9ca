//! Reads a multipart upload into a per-request temporary folder. Files are stored under
//! generated names (`upload-1.csv`, ...): the browser's file name is kept only for display, and
//! only an extension from the input allow-list survives (so format detection works). It must
//! not interpret the files: that is the pipeline's job.

use std::io::Write;
use std::time::Duration;

use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::http::StatusCode;

use super::pace::Meter;
use super::ApiError;
use crate::pipeline::Input;

/// The form fields of `POST /api/reports`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Form {
    /// `quarter`, e.g. 2026Q1.
    pub quarter: Option<String>,
    /// `year`, e.g. 2026.
    pub year: Option<String>,
    /// `entity`: the reporting entity named on the Cover.
    pub entity: Option<String>,
    /// `leave_out_unusable`: report from the usable files when some cannot be used.
    pub leave_out_unusable: bool,
    /// `note`: the preparer's commentary (as `report --note`).
    pub note: Option<String>,
    /// `what_if`: one what-if scenario (as `report --what-if`).
    pub what_if: Option<String>,
    /// `prior`: an earlier JSON summary of the same period a year before (as `report --prior`),
    /// stored in the upload's folder.
    pub prior: Option<(std::path::PathBuf, String)>,
}

/// An upload stored on disk; the folder goes when this is dropped.
pub(crate) struct Upload {
    /// Keeps the folder alive.
    pub _dir: tempfile::TempDir,
    /// The stored files, in upload order, each with its display name.
    pub files: Vec<Input>,
    /// The other fields.
    pub form: Form,
}

/// Longest display name kept (characters).
const MAX_NAME: usize = 200;
/// Longest text field read (bytes).
const MAX_FIELD: usize = 1000;
/// Longest commentary read (bytes).
const MAX_NOTE: usize = 10_000;
/// Largest earlier JSON summary read (bytes).
const MAX_PRIOR: usize = 64 << 20;
/// Most files in one upload.
const MAX_FILES: usize = 100;

/// Reads every part of the form; file parts are streamed to disk.
pub(crate) async fn read(
    mut mp: Multipart,
    idle: Duration,
    meter: &Meter,
) -> Result<Upload, ApiError> {
    let dir = tempfile::Builder::new()
        .prefix("llm-scope3-upload-")
        .tempdir()
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot make a temporary folder for the upload: {e}"),
            )
        })?;
    let mut files = Vec::new();
    let mut form = Form::default();
    loop {
        let field = match tokio::time::timeout(idle, mp.next_field()).await {
            Err(_) => return Err(idle_error(idle)),
            Ok(r) => r.map_err(multipart_error)?,
        };
        let Some(mut field) = field else { break };
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "files" | "file" => {
                if files.len() >= MAX_FILES {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        format!("at most {MAX_FILES} files in one upload"),
                    ));
                }
                let mut display = display_name(field.file_name(), files.len() + 1);
                let ext = extension(&display);
                // Two files of one name stay apart in messages and rejections.
                if files.iter().any(|f: &Input| f.name == display) {
                    display = format!("{display} ({})", files.len() + 1);
                }
                let stored = dir
                    .path()
                    .join(format!("upload-{}{ext}", files.len() + 1));
                let mut out = std::fs::File::create(&stored).map_err(|e| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("cannot store the upload: {e}"),
                    )
                })?;
                while let Some(chunk) = next_chunk(&mut field, idle, meter).await? {
                    out.write_all(&chunk).map_err(|e| {
                        ApiError::new(
                            StatusCode::INSUFFICIENT_STORAGE,
                            format!("cannot store the upload: {e}"),
                        )
                    })?;
                }
                files.push(Input {
                    path: stored,
                    name: display,
                });
            }
            "prior" => {
                let shown = display_name(field.file_name(), 1);
                let stored = dir.path().join("prior-summary.json");
                let mut out = std::fs::File::create(&stored).map_err(|e| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("cannot store the upload: {e}"),
                    )
                })?;
                let mut size = 0usize;
                while let Some(chunk) = next_chunk(&mut field, idle, meter).await? {
                    size += chunk.len();
                    if size > MAX_PRIOR {
                        return Err(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            format!(
                                "the earlier JSON summary is larger than {} MiB: is it a summary written by llm-scope3?",
                                MAX_PRIOR >> 20
                            ),
                        ));
                    }
                    out.write_all(&chunk).map_err(|e| {
                        ApiError::new(
                            StatusCode::INSUFFICIENT_STORAGE,
                            format!("cannot store the upload: {e}"),
                        )
                    })?;
                }
                // An empty file input (nothing chosen) sends an empty part.
                form.prior = (size > 0).then_some((stored, shown));
            }
            "quarter" | "year" | "entity" | "leave_out_unusable" | "note" | "what_if" => {
                let limit = if name == "note" { MAX_NOTE } else { MAX_FIELD };
                let mut text = Vec::new();
                while let Some(chunk) = next_chunk(&mut field, idle, meter).await? {
                    text.extend_from_slice(&chunk);
                    if text.len() > limit {
                        return Err(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            format!("the field '{name}' is longer than {limit} bytes"),
                        ));
                    }
                }
                let text = String::from_utf8_lossy(&text).trim().to_string();
                let value = (!text.is_empty()).then_some(text);
                match name.as_str() {
                    "quarter" => form.quarter = value,
                    "year" => form.year = value,
                    "entity" => form.entity = value,
                    "note" => form.note = value,
                    "what_if" => form.what_if = value,
                    _ => {
                        form.leave_out_unusable = value.is_some_and(|v| {
                            matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "on" | "yes")
                        })
                    }
                }
            }
            other => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "unknown form field '{}': send files, quarter or year, entity, leave_out_unusable, note, prior, what_if",
                        other.chars().take(60).collect::<String>()
                    ),
                ))
            }
        }
    }
    Ok(Upload {
        _dir: dir,
        files,
        form,
    })
}

/// The next piece of a field, counted on `meter`.
async fn next_chunk(
    field: &mut Field<'_>,
    idle: Duration,
    meter: &Meter,
) -> Result<Option<axum::body::Bytes>, ApiError> {
    match tokio::time::timeout(idle, field.chunk()).await {
        Err(_) => Err(idle_error(idle)),
        Ok(r) => {
            let chunk = r.map_err(multipart_error)?;
            if let Some(c) = &chunk {
                meter.add(c.len());
            }
            Ok(chunk)
        }
    }
}

fn idle_error(idle: Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the upload stalled: nothing arrived for {} s",
            idle.as_secs()
        ),
    )
}

fn multipart_error(e: MultipartError) -> ApiError {
    let status = e.status();
    let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "the upload is over this server's size limit: upload fewer or smaller files at once"
            .to_string()
    } else {
        format!("the upload could not be read as a form: {}", e.body_text())
    };
    ApiError::new(status, message)
}

/// The name shown for an uploaded file: its last path component, without control characters,
/// at most [`MAX_NAME`] characters; `upload N` when the browser sent none.
fn display_name(sent: Option<&str>, n: usize) -> String {
    let last = sent
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME)
        .collect();
    let clean = clean.trim().to_string();
    if clean.is_empty() {
        format!("upload {n}")
    } else {
        clean
    }
}

/// The file's extension when it is one the tool reads (`.csv.gz` kept whole), else none.
fn extension(display: &str) -> &'static str {
    let lower = display.to_ascii_lowercase();
    crate::ingest::INPUT_EXTENSIONS
        .iter()
        .filter(|e| lower.ends_with(**e))
        .max_by_key(|e| e.len())
        .copied()
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_displayed_never_used_as_paths() {
        assert_eq!(display_name(Some("../../etc/passwd"), 1), "passwd");
        assert_eq!(display_name(Some("C:\\x\\usage.csv"), 1), "usage.csv");
        assert_eq!(display_name(Some("a\u{0}b\nc.csv"), 1), "abc.csv");
        assert_eq!(display_name(None, 3), "upload 3");
        assert_eq!(display_name(Some("../"), 2), "upload 2");
        assert_eq!(extension("Usage.CSV.GZ"), ".csv.gz");
        assert_eq!(extension("usage.xlsx"), ".xlsx");
        assert_eq!(extension("evil.sh"), "");
        assert_eq!(extension("x.csv/../../y"), "");
    }
}
