//! Spreadsheets through calamine (xlsx, xlsm, xls, ods): every sheet in workbook order, rows
//! with their Excel row numbers, cells converted to [`CellRef`] without copying text.

use std::path::Path;

use calamine::{open_workbook_auto, CellErrorType, Data, DataRef, Reader, Sheets};

use super::{sha256_file, CellRef, FileInfo, Flow, IngestError, RowCells, RowEvent};

struct SheetRow<'a>(&'a [Data]);

impl RowCells for SheetRow<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn cell(&self, index: usize) -> CellRef<'_> {
        match self.0.get(index) {
            None | Some(Data::Empty) => CellRef::Empty,
            Some(Data::Int(i)) => CellRef::Number(*i as f64),
            Some(Data::Float(f)) => CellRef::Number(*f),
            Some(Data::String(s)) if s.is_empty() => CellRef::Empty,
            Some(Data::String(s)) => CellRef::Text(s),
            Some(Data::Bool(b)) => CellRef::Bool(*b),
            Some(Data::DateTime(d)) => {
                if d.is_datetime() {
                    match d.as_datetime() {
                        Some(dt) => CellRef::DateTime(dt),
                        None => CellRef::Number(d.as_f64()),
                    }
                } else {
                    CellRef::Number(d.as_f64())
                }
            }
            Some(Data::DateTimeIso(s)) | Some(Data::DurationIso(s)) => CellRef::Text(s),
            Some(Data::Error(e)) => CellRef::Error(error_text(e)),
        }
    }
}

fn error_text(e: &CellErrorType) -> &'static str {
    match e {
        CellErrorType::Div0 => "#DIV/0!",
        CellErrorType::NA => "#N/A",
        CellErrorType::Name => "#NAME?",
        CellErrorType::Null => "#NULL!",
        CellErrorType::Num => "#NUM!",
        CellErrorType::Ref => "#REF!",
        CellErrorType::Value => "#VALUE!",
        CellErrorType::GettingData => "#GETTING_DATA",
    }
}

/// Reads every sheet of a workbook, in workbook order.
///
/// calamine parses untrusted bytes; should it ever panic on a malformed file, the panic is
/// turned into a file error naming the file, so one bad upload never takes the process down.
pub(crate) fn read(
    path: &Path,
    name: &str,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<FileInfo, IngestError> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_inner(path, name, on_event)
    }));
    match result {
        Ok(r) => r,
        Err(_) => Err(IngestError::Spreadsheet {
            file: name.to_string(),
            reason: "the spreadsheet is malformed (the reader could not parse it)".into(),
        }),
    }
}

/// The most a workbook may inflate to, in all.
pub const MAX_INFLATED_BYTES: u64 = 2 << 30;
/// Entries larger than this must compress less than [`MAX_RATIO`] to one.
const BIG_ENTRY_BYTES: u64 = 50 << 20;
/// The highest compression ratio accepted for a big entry (spreadsheet XML compresses about
/// 10 to 30 to one; a zip bomb thousands to one).
const MAX_RATIO: u64 = 100;

/// Refuses a zip-based workbook whose entries would inflate beyond the limits, before
/// calamine inflates anything.
fn check_zip_sizes(path: &Path, name: &str) -> Result<(), IngestError> {
    let file = std::fs::File::open(path).map_err(|source| IngestError::Io {
        file: name.to_string(),
        source,
    })?;
    let Ok(mut zip) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return Ok(()); // not a readable zip: calamine says what is wrong
    };
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let Ok(entry) = zip.by_index_raw(i) else {
            continue;
        };
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        total = total.saturating_add(size);
        if size > BIG_ENTRY_BYTES && size / packed > MAX_RATIO {
            return Err(IngestError::Spreadsheet {
                file: name.to_string(),
                reason: format!(
                    "part {} would inflate {} times to {} MiB: refused as a zip bomb",
                    entry.name().map(|n| n.to_string()).unwrap_or_default(),
                    size / packed,
                    size >> 20
                ),
            });
        }
    }
    if total > MAX_INFLATED_BYTES {
        return Err(IngestError::Spreadsheet {
            file: name.to_string(),
            reason: format!(
                "the workbook would inflate to {} MiB (the limit is {} MiB): refused",
                total >> 20,
                MAX_INFLATED_BYTES >> 20
            ),
        });
    }
    Ok(())
}

fn read_inner(
    path: &Path,
    name: &str,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<FileInfo, IngestError> {
    check_zip_sizes(path, name)?;
    let sha256 = sha256_file(path).map_err(|source| IngestError::Io {
        file: name.to_string(),
        source,
    })?;
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut workbook = open_workbook_auto(path).map_err(|e| IngestError::Spreadsheet {
        file: name.to_string(),
        reason: plain_calamine_error(&e.to_string()),
    })?;
    let sheets = workbook.sheet_names();
    if let Sheets::Xlsx(xlsx) = &mut workbook {
        // XLSX: stream the cells (a dense range of a sheet with one value in cell XFD1048576
        // would need billions of cells in memory).
        for sheet in &sheets {
            let flow = on_event(RowEvent::Sheet {
                name: Some(sheet),
                decimal_comma: false,
            })
            .map_err(IngestError::Stopped)?;
            if flow == Flow::SkipSheet {
                continue;
            }
            let bad = |e: calamine::XlsxError| IngestError::Spreadsheet {
                file: name.to_string(),
                reason: format!("sheet '{sheet}': {}", plain_calamine_error(&e.to_string())),
            };
            let mut reader = xlsx.worksheet_cells_reader(sheet).map_err(bad)?;
            let mut row: Vec<Data> = vec![];
            let mut current: Option<u32> = None;
            loop {
                let cell = reader.next_cell().map_err(bad)?;
                let (pos, value) = match cell {
                    Some(c) => {
                        let (r, col) = c.get_position();
                        (Some((r, col)), owned(c.get_value()))
                    }
                    None => (None, Data::Empty),
                };
                let next_row = pos.map(|p| p.0);
                if current.is_some() && next_row != current {
                    let number = current.unwrap_or(0) as u64 + 1;
                    let flow = on_event(RowEvent::Row(number, &SheetRow(&row)))
                        .map_err(IngestError::Stopped)?;
                    row.clear();
                    if flow == Flow::SkipSheet {
                        break;
                    }
                }
                let Some((r, col)) = pos else { break };
                current = Some(r);
                let col = col as usize;
                if col >= 16_384 {
                    continue;
                }
                if row.len() <= col {
                    row.resize(col + 1, Data::Empty);
                }
                row[col] = value;
            }
        }
        return Ok(FileInfo {
            sha256,
            bytes,
            dialect: format!("workbook with {} sheet(s)", sheets.len()),
        });
    }
    for sheet in &sheets {
        let range = workbook
            .worksheet_range(sheet)
            .map_err(|e| IngestError::Spreadsheet {
                file: name.to_string(),
                reason: format!("sheet '{sheet}': {}", plain_calamine_error(&e.to_string())),
            })?;
        let flow = on_event(RowEvent::Sheet {
            name: Some(sheet),
            decimal_comma: false,
        })
        .map_err(IngestError::Stopped)?;
        if flow == Flow::SkipSheet {
            continue;
        }
        let first_row = range.start().map(|(r, _)| r as u64).unwrap_or(0);
        for (i, row) in range.rows().enumerate() {
            let number = first_row + i as u64 + 1;
            let flow =
                on_event(RowEvent::Row(number, &SheetRow(row))).map_err(IngestError::Stopped)?;
            if flow == Flow::SkipSheet {
                break;
            }
        }
    }
    Ok(FileInfo {
        sha256,
        bytes,
        dialect: format!("workbook with {} sheet(s)", sheets.len()),
    })
}

fn owned(v: &DataRef<'_>) -> Data {
    match v {
        DataRef::Int(i) => Data::Int(*i),
        DataRef::Float(f) => Data::Float(*f),
        DataRef::String(s) => Data::String(s.clone()),
        DataRef::SharedString(s) => Data::String((*s).to_string()),
        DataRef::Bool(b) => Data::Bool(*b),
        DataRef::DateTime(d) => Data::DateTime(*d),
        DataRef::DateTimeIso(s) => Data::DateTimeIso(s.clone()),
        DataRef::DurationIso(s) => Data::DurationIso(s.clone()),
        DataRef::Error(e) => Data::Error(e.clone()),
        DataRef::Empty => Data::Empty,
    }
}

fn plain_calamine_error(msg: &str) -> String {
    if msg.contains("Password") || msg.contains("password") || msg.contains("Encrypted") {
        "the workbook is password-protected; save an unprotected copy".to_string()
    } else {
        msg.to_string()
    }
}
