//! Spreadsheets through calamine (xlsx, xlsm, xlsb, xls, ods): every sheet in workbook order,
//! rows with their Excel row numbers, cells converted to [`CellRef`] without copying text.
//!
//! The format is decided from the content, and every check that bounds memory runs before
//! calamine opens the file: zip bombs are refused from the zip directory, and `.xls` / `.ods`
//! (which calamine reads whole into dense grids) are refused when their sheets would span more
//! than [`MAX_DENSE_CELLS`] cells. `.xlsx` and `.xlsb` are streamed cell by cell: `.xlsx` /
//! `.xlsm` sheets by the dedicated scanner in `sheetxml` (exactly calamine's cells, several
//! times faster; calamine reads whatever it does not understand), `.xlsb` by calamine.

use std::path::Path;

use calamine::{open_workbook, CellErrorType, Data, DataRef, Ods, Reader, Xls, Xlsb, Xlsx};

use super::{ole, sha256_file, sheetxml, CellRef, FileInfo, Flow, IngestError, RowCells, RowEvent};

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
    progress: super::Progress,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<FileInfo, IngestError> {
    read_with(path, name, true, progress, on_event)
}

/// Reads a workbook as [`read`] does, but `.xlsx` / `.xlsm` sheets through calamine's cell
/// reader instead of the fast scanner (`sheetxml`): the reference the scanner is compared with
/// (unit tests, the `xlsx_reader` fuzz target).
#[doc(hidden)]
pub fn read_with_calamine(
    path: &Path,
    name: &str,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<FileInfo, IngestError> {
    read_with(path, name, false, super::Progress::Hidden, on_event)
}

/// How many times the fast scanner's thread panicked (a bug: the sheet was then read by
/// calamine); the fuzz target checks that it stays 0.
#[doc(hidden)]
pub fn scanner_panics() -> u64 {
    sheetxml::SCANNER_PANICS.load(std::sync::atomic::Ordering::Relaxed)
}

thread_local! {
    /// Sheets the fast scanner left (in part) to calamine, on this thread.
    static LEFT_TO_CALAMINE: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many sheets read on this thread the fast scanner left, in whole or from some row on,
/// to calamine (tests check that the samples need none).
#[doc(hidden)]
pub fn sheets_left_to_calamine() -> u64 {
    LEFT_TO_CALAMINE.with(|c| c.get())
}

fn read_with(
    path: &Path,
    name: &str,
    fast: bool,
    progress: super::Progress,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<FileInfo, IngestError> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_inner(path, name, fast, progress, on_event)
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
/// The most shared strings a workbook may hold (each is kept in memory while the sheets are
/// read, about 40 bytes besides its text): counted before the workbook is opened.
pub const MAX_SHARED_STRINGS: u64 = 16 << 20;
/// The largest shared-strings part, inflated (its text is kept in memory).
pub const MAX_SHARED_STRINGS_BYTES: u64 = 512 << 20;
/// The most cells the sheets of an `.xls` or `.ods` may span in all. calamine reads those
/// formats whole into dense grids (about 56 bytes a cell with the formula grid), so this caps
/// that memory near 1 GB. It is exactly the largest grid an `.xls` can hold (65,536 rows ×
/// 256 columns); `.xlsx` and `.xlsb` are streamed and have no such limit.
pub const MAX_DENSE_CELLS: u64 = 1 << 24;

/// The workbook formats, told apart by content (the extension may lie).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Xlsx,
    Xlsb,
    Ods,
    Xls,
}

fn spreadsheet_error(name: &str, reason: impl Into<String>) -> IngestError {
    IngestError::Spreadsheet {
        file: name.to_string(),
        reason: reason.into(),
    }
}

fn io_error(name: &str) -> impl Fn(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Io {
        file: name.to_string(),
        source,
    }
}

/// Decides the format from the file's content and refuses, before calamine sees the file,
/// whatever would make it inflate or allocate without bound: zip bombs (all zip formats),
/// sheets spanning more than [`MAX_DENSE_CELLS`] (xls, ods), looping OLE sector chains (xls).
fn identify(path: &Path, name: &str) -> Result<Format, IngestError> {
    let mut head = [0u8; 8];
    let n = {
        let mut f = std::fs::File::open(path).map_err(io_error(name))?;
        super::read_up_to(&mut f, &mut head).map_err(io_error(name))?
    };
    if n == 8 && head == ole::MAGIC {
        let damaged = |e: String| {
            spreadsheet_error(name, format!("the file is damaged ({e}); save a new copy"))
        };
        let bytes = std::fs::read(path).map_err(io_error(name))?;
        let ole = ole::Ole::parse(&bytes).map_err(damaged)?;
        if ole.has("EncryptedPackage") || ole.has("EncryptionInfo") {
            return Err(spreadsheet_error(
                name,
                "the workbook is password-protected; save an unprotected copy",
            ));
        }
        let stream = match ole.stream("Workbook").map_err(damaged)? {
            Some(s) => s,
            None => ole.stream("Book").map_err(damaged)?.ok_or_else(|| {
                IngestError::NotASpreadsheet {
                    file: name.to_string(),
                    reason: "an Office file that holds no workbook (a Word or other document?)"
                        .into(),
                }
            })?,
        };
        check_xls_extent(&stream).map_err(|e| spreadsheet_error(name, e))?;
        return Ok(Format::Xls);
    }
    if !head.starts_with(b"PK") {
        return Err(IngestError::NotASpreadsheet {
            file: name.to_string(),
            reason: "its content is neither a zip-based workbook (xlsx, xlsb, ods) nor an \
                     Excel 97-2003 workbook (xls), whatever its name says (a web page or text \
                     saved as .xls?)"
                .into(),
        });
    }
    let parts = check_zip_sizes(path, name)?;
    let has = |part: &str| parts.iter().any(|p| p.eq_ignore_ascii_case(part));
    if has("xl/workbook.bin") {
        Ok(Format::Xlsb)
    } else if has("xl/workbook.xml") || has("[Content_Types].xml") {
        for part in &parts {
            if part.to_ascii_lowercase().ends_with("sharedstrings.xml") {
                check_shared_strings(path, name, part)?;
            }
        }
        Ok(Format::Xlsx) // calamine finds the workbook part from the package relationships
    } else if has("content.xml") || has("mimetype") {
        check_ods_extent(path, name)?;
        Ok(Format::Ods)
    } else {
        Err(IngestError::NotASpreadsheet {
            file: name.to_string(),
            reason: "a zip archive that holds no workbook (no [Content_Types].xml, \
                     xl/workbook.xml or content.xml), so not an xlsx, xlsb or ods file"
                .into(),
        })
    }
}

/// Refuses a shared-strings part holding more than [`MAX_SHARED_STRINGS`] strings: its
/// `uniqueCount` when it says so, else the `si` elements counted in one streaming pass (the
/// attribute may be absent or wrong). Both readers (the sheet scanner and calamine) keep every
/// shared string in memory, so this runs before either. XML errors are left to them.
fn check_shared_strings(path: &Path, name: &str, part: &str) -> Result<(), IngestError> {
    use quick_xml::events::Event;
    let refuse = |n: u64, what: &str| {
        spreadsheet_error(
            name,
            format!(
                "{part} {what} {n} shared strings (the limit is {MAX_SHARED_STRINGS}, about {} MiB of memory besides their text): \
                 save the sheet as .csv, or export fewer rows",
                (MAX_SHARED_STRINGS * 40) >> 20
            ),
        )
    };
    let file = std::fs::File::open(path).map_err(io_error(name))?;
    let Ok(mut zip) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return Ok(());
    };
    let Ok(entry) = zip.by_name(part) else {
        return Ok(());
    };
    if entry.size() > MAX_SHARED_STRINGS_BYTES {
        return Err(spreadsheet_error(
            name,
            format!(
                "{part} would inflate to {} MiB of shared strings (the limit is {} MiB): save the sheet as .csv, or export fewer rows",
                entry.size() >> 20,
                MAX_SHARED_STRINGS_BYTES >> 20
            ),
        ));
    }
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(entry));
    let mut buf = Vec::new();
    let mut count: u64 = 0;
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => break,
            Ok(Event::Start(e) | Event::Empty(e)) => match e.local_name().as_ref() {
                "sst" => {
                    let declared = ["uniqueCount", "count"].map(|a| {
                        e.try_get_attribute(a)
                            .ok()
                            .flatten()
                            .and_then(|v| v.value.trim().parse().ok())
                    });
                    // `count` is the cells using shared strings: only `uniqueCount` bounds
                    // the table, and only when it says more than the limit.
                    if let Some(n) = declared[0].filter(|&n: &u64| n > MAX_SHARED_STRINGS) {
                        return Err(refuse(n, "declares"));
                    }
                }
                "si" => {
                    count += 1;
                    if count > MAX_SHARED_STRINGS {
                        return Err(refuse(count, "holds more than"));
                    }
                }
                _ => {}
            },
            Ok(_) => {}
        }
    }
    Ok(())
}

/// Refuses a zip-based workbook whose entries would inflate beyond the limits, before
/// calamine inflates anything; returns the names of its parts.
fn check_zip_sizes(path: &Path, name: &str) -> Result<Vec<String>, IngestError> {
    let file = std::fs::File::open(path).map_err(io_error(name))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| {
        spreadsheet_error(
            name,
            format!("it starts like a zip-based workbook but is not a readable zip archive ({e}); it may be truncated or damaged"),
        )
    })?;
    let mut total: u64 = 0;
    let mut parts = Vec::with_capacity(zip.len().min(4096));
    for i in 0..zip.len() {
        let Ok(entry) = zip.by_index_raw(i) else {
            continue;
        };
        let part = entry.name().map(|n| n.to_string()).unwrap_or_default();
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        total = total.saturating_add(size);
        if size > BIG_ENTRY_BYTES && size / packed > MAX_RATIO {
            return Err(spreadsheet_error(
                name,
                format!(
                    "part {part} would inflate {} times to {} MiB: refused as a zip bomb",
                    size / packed,
                    size >> 20
                ),
            ));
        }
        parts.push(part);
    }
    if total > MAX_INFLATED_BYTES {
        return Err(spreadsheet_error(
            name,
            format!(
                "the workbook would inflate to {} MiB (the limit is {} MiB): refused",
                total >> 20,
                MAX_INFLATED_BYTES >> 20
            ),
        ));
    }
    Ok(parts)
}

fn too_many_cells(what: &str, cells: u64) -> String {
    format!(
        "{what} would span {cells} cells; .xls and .ods workbooks are read whole and the limit \
         is {MAX_DENSE_CELLS} cells: save it as .xlsx or .csv"
    )
}

/// The BIFF records of an `.xls` Workbook stream (type, data), up to a truncated record.
fn biff_records(s: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let typ = u16::from_le_bytes([rest[0], rest[1]]);
        let len = u16::from_le_bytes([rest[2], rest[3]]) as usize;
        let data = rest.get(4..4 + len)?;
        rest = &rest[4 + len..];
        Some((typ, data))
    })
}

/// Checks the grid calamine will build for each sheet of an `.xls` (the bounding box of its
/// cell records, and the capacity its DIMENSIONS record makes calamine reserve) against
/// [`MAX_DENSE_CELLS`]. Records calamine would fail on are left for it to report.
fn check_xls_extent(stream: &[u8]) -> Result<(), String> {
    let u16_at = |d: &[u8], i: usize| d.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |d: &[u8], i: usize| {
        d.get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    // Sheet positions from the BoundSheet8 records of the globals substream.
    let mut positions = vec![];
    for (typ, data) in biff_records(stream) {
        match typ {
            0x0085 => positions.extend(u32_at(data, 0)),
            0x000A => break,
            _ => {}
        }
    }
    let mut total: u64 = 0;
    for (index, pos) in positions.into_iter().enumerate() {
        let Some(sheet) = stream.get(pos as usize..) else {
            continue;
        };
        let mut bounds: Option<(u32, u32, u32, u32)> = None;
        let mut include = |r: u32, c: u32| {
            let b = bounds.get_or_insert((r, r, c, c));
            *b = (b.0.min(r), b.1.max(r), b.2.min(c), b.3.max(c));
        };
        let (mut seen_bof, mut depth, mut formula_at) = (false, 0usize, (0u32, 0u32));
        for (typ, data) in biff_records(sheet) {
            if depth > 0 {
                match typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let at = || Some((u16_at(data, 0)? as u32, u16_at(data, 2)? as u32));
            match typ {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                0x0200 => {
                    // DIMENSIONS: calamine reserves rows × columns cells (release arithmetic).
                    let dims = match data.len() {
                        10 => (0..4).map(|i| u16_at(data, 2 * i).map(u32::from)).collect(),
                        14 | 16 => vec![
                            u32_at(data, 0),
                            u32_at(data, 4),
                            u16_at(data, 8).map(u32::from),
                            u16_at(data, 10).map(u32::from),
                        ],
                        _ => vec![],
                    };
                    if let [Some(rf), Some(rl), Some(mut cf), Some(cl)] = dims[..] {
                        if cf > 0xFF || cl < cf {
                            cf = 0;
                        }
                        let (rows, cols) = if rl >= 1 && cl >= 1 {
                            (rl.wrapping_sub(rf), cl.wrapping_sub(cf))
                        } else {
                            (1, 1)
                        };
                        let reserve = (rows as u64).saturating_mul(cols as u64);
                        if reserve > MAX_DENSE_CELLS {
                            return Err(too_many_cells(
                                &format!("sheet {} (by its DIMENSIONS record)", index + 1),
                                reserve,
                            ));
                        }
                    }
                }
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD => {
                    if let Some((r, c)) = at() {
                        include(r, c);
                    }
                }
                0x0006 => {
                    if let Some((r, c)) = at() {
                        formula_at = (r, c);
                        include(r, c);
                    }
                }
                0x0207 => include(formula_at.0, formula_at.1),
                0x00BD => {
                    if let (Some((r, first)), Some(last)) = (
                        at(),
                        data.len().checked_sub(2).and_then(|i| u16_at(data, i)),
                    ) {
                        include(r, first);
                        include(r, last as u32);
                    }
                }
                0x000A => break,
                _ => {}
            }
        }
        if let Some((r0, r1, c0, c1)) = bounds {
            let cells = (r1 as u64 - r0 as u64 + 1) * (c1 as u64 - c0 as u64 + 1);
            total = total.saturating_add(cells);
            if total > MAX_DENSE_CELLS {
                return Err(too_many_cells(
                    &format!(
                        "sheet {} (rows {} to {}, columns {} to {})",
                        index + 1,
                        r0 + 1,
                        r1 + 1,
                        c0 + 1,
                        c1 + 1
                    ),
                    cells,
                ));
            }
        }
    }
    Ok(())
}

/// Checks the grids calamine will build from an `.ods` file's content.xml (rows and columns
/// repeated by `number-rows-repeated` / `number-columns-repeated` included) against
/// [`MAX_DENSE_CELLS`], streaming the XML.
fn check_ods_extent(path: &Path, name: &str) -> Result<(), IngestError> {
    use quick_xml::events::{BytesStart, Event};
    let file = std::fs::File::open(path).map_err(io_error(name))?;
    let Ok(mut zip) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return Ok(()); // calamine says what is wrong
    };
    let Ok(content) = zip.by_name("content.xml") else {
        return Ok(());
    };
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(content));
    let number = |e: &BytesStart<'_>, attr: &str| -> u64 {
        e.try_get_attribute(attr)
            .ok()
            .flatten()
            .and_then(|a| a.value.trim().parse().ok())
            .unwrap_or(1)
    };
    let has = |e: &BytesStart<'_>, attr: &str| matches!(e.try_get_attribute(attr), Ok(Some(_)));
    const MAX_COLUMNS: u64 = 16_384;
    let mut buf = Vec::new();
    let mut total: u64 = 0;
    // Per table: name, rows so far, first and end row with a value, min and end column
    // with a value, cells calamine pushes while reading (repeated rows are pushed once).
    let mut table = String::new();
    let (mut row, mut first_row, mut end_row) = (0u64, None::<u64>, 0u64);
    let (mut min_col, mut end_col, mut pushed) = (u64::MAX, 0u64, 0u64);
    // Per row: repeats, column reached, first and end column with a value.
    let (mut repeats, mut col, mut row_first, mut row_end) = (1u64, 0u64, u64::MAX, 0u64);
    loop {
        let event = match xml.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => break, // calamine reports XML errors
            Ok(e) => e,
        };
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        let end_name = match &event {
            Event::End(e) => Some(e.name().as_ref().to_string()),
            _ => None,
        };
        let mut row_done = false;
        let mut table_done = false;
        if let Some(e) = start {
            match e.name().as_ref() {
                "table:table" => {
                    table = e
                        .try_get_attribute("table:name")
                        .ok()
                        .flatten()
                        .map(|a| a.value.into_owned())
                        .unwrap_or_default();
                    (row, first_row, end_row) = (0, None, 0);
                    (min_col, end_col, pushed) = (u64::MAX, 0, 0);
                    table_done = empty;
                }
                "table:table-row" => {
                    (repeats, col, row_first, row_end) =
                        (number(e, "table:number-rows-repeated"), 0, u64::MAX, 0);
                    row_done = empty;
                }
                "table:table-cell" | "table:covered-table-cell" => {
                    let n = number(e, "table:number-columns-repeated");
                    let value = !empty
                        || has(e, "office:value-type")
                        || has(e, "calcext:value-type")
                        || has(e, "table:formula");
                    if value {
                        row_first = row_first.min(col);
                        row_end = col.saturating_add(n);
                    }
                    col = col.saturating_add(n);
                }
                _ => {}
            }
        }
        match end_name.as_deref() {
            Some("table:table-row") => row_done = true,
            Some("table:table") => table_done = true,
            _ => {}
        }
        if row_done {
            if row_end > 0 {
                pushed = pushed.saturating_add(row_end.min(MAX_COLUMNS));
                first_row.get_or_insert(row);
                end_row = row.saturating_add(repeats);
                min_col = min_col.min(row_first);
                end_col = end_col.max(row_end.min(MAX_COLUMNS));
            }
            row = row.saturating_add(repeats);
            if pushed > MAX_DENSE_CELLS {
                return Err(spreadsheet_error(
                    name,
                    too_many_cells(&format!("sheet '{table}'"), pushed),
                ));
            }
        }
        if table_done {
            if let Some(first) = first_row {
                let cells = (end_row - first).saturating_mul(end_col.saturating_sub(min_col));
                total = total.saturating_add(cells);
                if total > MAX_DENSE_CELLS {
                    return Err(spreadsheet_error(
                        name,
                        too_many_cells(
                            &format!(
                                "sheet '{table}' ({} rows × {} columns)",
                                end_row - first,
                                end_col.saturating_sub(min_col)
                            ),
                            cells,
                        ),
                    ));
                }
            }
        }
        buf.clear();
    }
    Ok(())
}

/// The row callback the readers call.
type OnEvent<'e> = dyn FnMut(RowEvent<'_>) -> Result<Flow, String> + 'e;
/// The next cell of a streamed sheet: position (row, column) and value, its text copied into
/// a string taken from the pool (the strings of the previous row, cleared).
type NextCell<'e> =
    dyn FnMut(&mut Vec<String>) -> Result<Option<((u32, u32), Data)>, IngestError> + 'e;

/// Hands out the rows of a sheet from a stream of cells in row order (xlsx, xlsb): only one
/// row is held at a time, so a value in cell XFD1048576 costs one row, not a grid.
fn stream_sheet(
    next: &mut NextCell<'_>,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<(), IngestError> {
    let mut row: Vec<Data> = vec![];
    // Text cells reuse the allocations of the previous row's strings (no malloc and free per
    // cell); at most one row's worth is kept.
    let mut pool: Vec<String> = vec![];
    let mut current: Option<u32> = None;
    loop {
        let (pos, value) = match next(&mut pool)? {
            Some((p, v)) => (Some(p), v),
            None => (None, Data::Empty),
        };
        let next_row = pos.map(|p| p.0);
        if current.is_some() && next_row != current {
            let number = current.unwrap_or(0) as u64 + 1;
            let flow =
                on_event(RowEvent::Row(number, &SheetRow(&row))).map_err(IngestError::Stopped)?;
            for cell in row.drain(..) {
                if let Data::String(mut s) = cell {
                    s.clear();
                    pool.push(s);
                }
            }
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
    Ok(())
}

/// Reads every sheet with `read_sheet` (streamed formats), announcing each first.
fn each_sheet(
    sheets: &[String],
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
    read_sheet: &mut dyn FnMut(&str, &mut OnEvent<'_>) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    for sheet in sheets {
        let flow = on_event(RowEvent::Sheet {
            name: Some(sheet),
            decimal_comma: false,
        })
        .map_err(IngestError::Stopped)?;
        if flow == Flow::SkipSheet {
            continue;
        }
        read_sheet(sheet, on_event)?;
    }
    Ok(())
}

fn read_inner(
    path: &Path,
    name: &str,
    fast: bool,
    progress: super::Progress,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<FileInfo, IngestError> {
    let format = identify(path, name)?;
    let sha256 = sha256_file(path).map_err(io_error(name))?;
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let open_failed =
        |e: &dyn std::fmt::Display| spreadsheet_error(name, plain_calamine_error(&e.to_string()));
    let sheet_failed = |sheet: &str, e: &dyn std::fmt::Display| {
        spreadsheet_error(
            name,
            format!("sheet '{sheet}': {}", plain_calamine_error(&e.to_string())),
        )
    };
    // Xlsx and Xlsb have the same cells-reader methods but no trait in common.
    // One sheet through calamine's cell reader.
    macro_rules! calamine_sheet {
        ($wb:expr, $sheet:expr, $on_event:expr) => {{
            let sheet = $sheet;
            let mut reader = $wb
                .worksheet_cells_reader(sheet)
                .map_err(|e| sheet_failed(sheet, &e))?;
            let on_event: &mut OnEvent<'_> = $on_event;
            let bar = super::sheet_progress_bar(progress, name, bytes, sheet, None);
            stream_sheet(
                &mut |pool| match reader.next_cell() {
                    Ok(c) => Ok(c.map(|c| (c.get_position(), owned(c.get_value(), pool)))),
                    Err(e) => Err(sheet_failed(sheet, &e)),
                },
                &mut |e: RowEvent<'_>| {
                    if let (Some(bar), RowEvent::Row(..)) = (&bar, &e) {
                        bar.inc(1);
                    }
                    on_event(e)
                },
            )
        }};
    }
    macro_rules! streamed {
        ($ty:ident) => {{
            let mut wb: $ty<_> = open_workbook(path).map_err(|e| open_failed(&e))?;
            let sheets = wb.sheet_names();
            each_sheet(&sheets, on_event, &mut |sheet, on_event| {
                calamine_sheet!(wb, sheet, on_event)
            })?;
            sheets.len()
        }};
    }
    let book = match format {
        Format::Xlsx if fast => sheetxml::Book::open(path).ok(),
        _ => None,
    };
    if format == Format::Xlsx && fast && book.is_none() {
        LEFT_TO_CALAMINE.with(|c| c.set(c.get() + 1));
    }
    let count = match format {
        Format::Xlsx => match book {
            // The workbook's parts were understood: the fast scanner reads the sheets.
            Some(book) => {
                let mut calamine: Option<Xlsx<_>> = None;
                for sheet in &book.sheets {
                    let flow = on_event(RowEvent::Sheet {
                        name: Some(sheet),
                        decimal_comma: false,
                    })
                    .map_err(IngestError::Stopped)?;
                    if flow == Flow::SkipSheet {
                        continue;
                    }
                    let bar = super::sheet_progress_bar(
                        progress,
                        name,
                        bytes,
                        sheet,
                        book.sheet_size(sheet),
                    );
                    let end = sheetxml::read_sheet(path, &book, sheet, bar.as_ref(), on_event)
                        .map_err(|e| match e {
                            IngestError::Spreadsheet { reason, .. } => {
                                spreadsheet_error(name, reason)
                            }
                            e => e,
                        })?;
                    let sheetxml::SheetEnd::Unsupported { rows } = end else {
                        continue;
                    };
                    // Something the scanner does not understand: calamine reads the sheet,
                    // and the rows the scanner handed out already (the same) are skipped.
                    LEFT_TO_CALAMINE.with(|c| c.set(c.get() + 1));
                    if calamine.is_none() {
                        calamine = Some(open_workbook(path).map_err(|e| open_failed(&e))?);
                    }
                    let Some(wb) = calamine.as_mut() else {
                        continue;
                    };
                    let mut skip = rows;
                    calamine_sheet!(wb, sheet.as_str(), &mut |e: RowEvent<'_>| match e {
                        RowEvent::Row(..) if skip > 0 => {
                            skip -= 1;
                            Ok(Flow::Continue)
                        }
                        e => on_event(e),
                    })?;
                }
                book.sheets.len()
            }
            None => streamed!(Xlsx),
        },
        Format::Xlsb => streamed!(Xlsb),
        Format::Xls => {
            let wb: Xls<_> = open_workbook(path).map_err(|e| open_failed(&e))?;
            read_dense(wb, name, on_event)?
        }
        Format::Ods => {
            let wb: Ods<_> = open_workbook(path).map_err(|e| open_failed(&e))?;
            read_dense(wb, name, on_event)?
        }
    };
    Ok(FileInfo {
        sha256,
        bytes,
        dialect: format!("workbook with {count} sheet(s)"),
    })
}

/// Reads the sheets of a format calamine only reads whole (xls, ods; sizes checked first by
/// [`identify`]); returns the number of sheets.
fn read_dense<R: Reader<std::io::BufReader<std::fs::File>>>(
    mut workbook: R,
    name: &str,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<usize, IngestError>
where
    R::Error: std::fmt::Display,
{
    let sheets = workbook.sheet_names();
    for sheet in &sheets {
        let range = workbook.worksheet_range(sheet).map_err(|e| {
            spreadsheet_error(
                name,
                format!("sheet '{sheet}': {}", plain_calamine_error(&e.to_string())),
            )
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
    Ok(sheets.len())
}

/// The owned value of a cell; text is copied into a string from `pool` when it has one.
fn owned(v: &DataRef<'_>, pool: &mut Vec<String>) -> Data {
    let mut text = |s: &str| {
        let mut t = pool.pop().unwrap_or_default();
        t.push_str(s);
        Data::String(t)
    };
    match v {
        DataRef::Int(i) => Data::Int(*i),
        DataRef::Float(f) => Data::Float(*f),
        DataRef::String(s) => text(s),
        DataRef::SharedString(s) => text(s),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend((data.len() as u16).to_le_bytes());
        r.extend(data);
        r
    }

    /// A Workbook stream: globals (BOF, one BoundSheet8, EOF), then the sheet's records.
    fn workbook(sheet: &[Vec<u8>]) -> Vec<u8> {
        let bof = record(0x0809, &[0; 16]);
        let eof = record(0x000A, &[]);
        let globals_len = bof.len() + (4 + 8) + eof.len();
        let mut bound = (globals_len as u32).to_le_bytes().to_vec();
        bound.extend([0, 0, 1, 0]); // visible worksheet, name of length 1 (unused here)
        let mut s = bof.clone();
        s.extend(record(0x0085, &bound));
        s.extend(&eof);
        assert_eq!(s.len(), globals_len);
        s.extend(&bof);
        for r in sheet {
            s.extend(r);
        }
        s.extend(eof);
        s
    }

    fn number(row: u16, col: u16) -> Vec<u8> {
        let mut d = row.to_le_bytes().to_vec();
        d.extend(col.to_le_bytes());
        d.extend([0, 0]);
        d.extend(1.5f64.to_le_bytes());
        record(0x0203, &d)
    }

    fn dimensions(rf: u32, rl: u32, cf: u16, cl: u16) -> Vec<u8> {
        let mut d = rf.to_le_bytes().to_vec();
        d.extend(rl.to_le_bytes());
        d.extend(cf.to_le_bytes());
        d.extend(cl.to_le_bytes());
        d.extend([0, 0]);
        record(0x0200, &d)
    }

    #[test]
    fn xls_sheets_within_the_cell_limit_pass() {
        // 3 rows × 7 columns; then the largest grid an .xls holds: 65,536 × 256 = 2^24.
        let small = workbook(&[dimensions(0, 3, 0, 7), number(0, 0), number(2, 6)]);
        assert_eq!(check_xls_extent(&small), Ok(()));
        let full = workbook(&[number(0, 0), number(65_535, 255)]);
        assert_eq!(check_xls_extent(&full), Ok(()));
    }

    #[test]
    fn xls_cells_far_apart_or_a_huge_dimensions_record_are_refused() {
        // Cells at A1 and row 65,536 column 257: 65,536 × 257 cells.
        let wide = workbook(&[number(0, 0), number(65_535, 256)]);
        let err = check_xls_extent(&wide).unwrap_err();
        assert!(err.contains(&(65_536u64 * 257).to_string()), "{err}");
        // A MULRK record spanning columns 0 to 60,000 on rows 0 and 1,000.
        let mut mulrk = 1000u16.to_le_bytes().to_vec();
        mulrk.extend(0u16.to_le_bytes());
        mulrk.extend(60_000u16.to_le_bytes());
        let err = check_xls_extent(&workbook(&[number(0, 0), record(0x00BD, &mulrk)]));
        assert!(err.unwrap_err().contains(&(1001u64 * 60_001).to_string()));
        // DIMENSIONS saying rows 0 to 2^32 - 1: calamine would reserve that many cells.
        let dims = workbook(&[dimensions(0, u32::MAX, 0, 200), number(0, 0)]);
        assert!(check_xls_extent(&dims).unwrap_err().contains("DIMENSIONS"));
        // A last row before the first wraps around in calamine's release arithmetic.
        let wrapped = workbook(&[dimensions(10, 5, 0, 2)]);
        assert!(check_xls_extent(&wrapped).is_err());
    }

    #[test]
    fn cells_inside_an_embedded_chart_do_not_count() {
        // A nested BOF ... EOF substream (an embedded chart) with a far cell is skipped, as
        // calamine skips it.
        let chart = [
            record(0x0809, &[0; 16]),
            number(65_535, 16_000),
            record(0x000A, &[]),
        ];
        let mut sheet = vec![number(0, 0)];
        sheet.extend(chart);
        sheet.push(number(1, 1));
        assert_eq!(check_xls_extent(&workbook(&sheet)), Ok(()));
    }
}
