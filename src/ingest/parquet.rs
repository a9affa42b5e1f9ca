//! Parquet files (AWS Data Exports / CUR 2.0, BigQuery billing exports saved as Parquet) through
//! the `parquet` crate's record API, one row group at a time, each row handed out as soon as it
//! is assembled: a file is never collected in memory.
//!
//! The rows look like the CSV exports of the same data, so the CSV templates read them:
//!
//! * Row 1 is the header: the Parquet column names. Struct columns are flattened to dotted
//!   names (`sku.description`, `usage.amount`, `location.region`: BigQuery's names); lists and
//!   maps stay one column and their cell is JSON text (CUR 2.0's `product` map reads
//!   `{"product_name":"Amazon Bedrock","region":"us-east-1"}`, BigQuery's `credits` an array of
//!   objects), as Athena and the CSV exports show them. Data row *n* is row *n* + 1.
//! * Strings are text, doubles and integers numbers (integers beyond 2^53 and decimals as their
//!   exact text, floats as their shortest text), booleans booleans, nulls and empty strings
//!   empty. Timestamps (INT64 millis, micros or nanos, INT96) are ISO-8601 text in UTC
//!   (`2026-01-02T11:00:00Z`; without the `Z` when the column is not adjusted to UTC), dates
//!   `2026-01-02`: exactly what the date parser reads from a CSV export.
//!
//! Before any row is read, everything that bounds memory is checked from the file's own
//! claims, and a file that fails is refused with a plain message: the footer's size, the
//! schema (depth, column count, and the shapes and types the record API would otherwise panic
//! on), every row group's and column chunk's offsets and sizes against the file's length, and,
//! per row group, the page headers of every column chunk (a page the reader would inflate is at
//! most [`MAX_PAGE_BYTES`], the pages held at once at most [`MAX_LIVE_PAGE_BYTES`]). Should the
//! parquet crate still panic on a malformed file, the panic is turned into a file error.
//!
//! The SHA-256 is computed from the file's bytes on a second thread while the rows are read.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use ::parquet::basic::{
    Compression, ConvertedType, LogicalType, Repetition, TimeUnit, Type as PhysicalType,
};
use ::parquet::data_type::Decimal;
use ::parquet::file::metadata::ParquetMetaData;
use ::parquet::file::properties::ReaderProperties;
use ::parquet::file::reader::{FileReader, SerializedFileReader};
use ::parquet::file::serialized_reader::ReadOptionsBuilder;
use ::parquet::record::Field;
use ::parquet::schema::types::Type;
use chrono::{DateTime, Datelike, NaiveDate, Timelike};

use super::{CellRef, FileInfo, Flow, IngestError, RowCells, RowEvent};

/// The bytes a Parquet file starts and ends with.
pub const MAGIC: &[u8; 4] = b"PAR1";
/// The bytes an encrypted Parquet file ends with.
const MAGIC_ENCRYPTED: &[u8; 4] = b"PARE";
/// The largest footer (file metadata) accepted. A CUR 2.0 file's footer with hundreds of row
/// groups of 125 columns with statistics is a few MiB.
pub const MAX_FOOTER_BYTES: u64 = 64 << 20;
/// The most columns (leaves) a schema may have.
pub const MAX_COLUMNS: usize = 10_000;
/// The deepest nesting accepted.
const MAX_DEPTH: usize = 32;
/// The largest page the reader may inflate. Writers cut pages at about 1 MiB (pyarrow,
/// Spark); a page claiming more than this is a bomb or damage.
pub const MAX_PAGE_BYTES: u64 = 256 << 20;
/// The most bytes of inflated pages held at once (per column, its dictionary and one data
/// page; all columns of a row group are read side by side).
pub const MAX_LIVE_PAGE_BYTES: u64 = 1 << 30;
/// The largest page header read (headers hold statistics; they are a few hundred bytes).
const MAX_PAGE_HEADER_BYTES: u64 = 16 << 20;
/// The most values a repeated (list or map) column may hold per row of its row group, on
/// average: no billing export has maps of thousands of entries on every line.
const MAX_NESTED_VALUES_PER_ROW: i64 = 10_000;

fn parquet_error(name: &str, reason: impl Into<String>) -> IngestError {
    IngestError::Parquet {
        file: name.to_string(),
        reason: reason.into(),
    }
}

fn io_error(name: &str) -> impl Fn(io::Error) -> IngestError + '_ {
    move |source| IngestError::Io {
        file: name.to_string(),
        source,
    }
}

/// Runs `f`, turning a panic in the parquet crate into a file error.
fn guarded<T>(name: &str, f: impl FnOnce() -> Result<T, IngestError>) -> Result<T, IngestError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => Err(parquet_error(
            name,
            "the file is malformed (the Parquet reader could not parse it)",
        )),
    }
}

/// Reads every row of a Parquet file (see the module documentation).
pub(crate) fn read(
    path: &Path,
    name: &str,
    progress: super::Progress,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<FileInfo, IngestError> {
    let bytes = std::fs::metadata(path).map_err(io_error(name))?.len();
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        // The hash is read on a second thread while the rows are read on this one (and given
        // up when the file is refused).
        let hasher = scope.spawn(|| sha256_unless_stopped(path, &stop));
        let read = read_rows(path, name, bytes, progress, on_event);
        if read.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let hash = hasher.join();
        let dialect = read?;
        let sha256 = match hash {
            Ok(Ok(Some(h))) => h,
            Ok(Err(e)) => return Err(io_error(name)(e)),
            Ok(Ok(None)) | Err(_) => {
                return Err(parquet_error(name, "the file could not be hashed"))
            }
        };
        Ok(FileInfo {
            sha256,
            bytes,
            dialect,
        })
    })
}

/// SHA-256 of the file's bytes, `None` when `stop` is set first.
fn sha256_unless_stopped(path: &Path, stop: &AtomicBool) -> io::Result<Option<String>> {
    use sha2::{Digest, Sha256};
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
    }
    Ok(Some(super::hex(&hasher.finalize())))
}

/// Checks the file's ends: the magic at both ends and a footer that fits.
fn check_ends(file: &mut File, name: &str, bytes: u64) -> Result<(), IngestError> {
    let damaged = |what: &str| {
        parquet_error(
            name,
            format!("{what}; the file is truncated or damaged: download it again"),
        )
    };
    if bytes < 12 {
        return Err(damaged("it is too short to be a Parquet file"));
    }
    let mut head = [0u8; 4];
    file.seek(SeekFrom::Start(0)).map_err(io_error(name))?;
    file.read_exact(&mut head).map_err(io_error(name))?;
    let mut tail = [0u8; 8];
    file.seek(SeekFrom::Start(bytes - 8))
        .map_err(io_error(name))?;
    file.read_exact(&mut tail).map_err(io_error(name))?;
    if &head != MAGIC {
        return Err(damaged("it does not start with the Parquet marker PAR1"));
    }
    if &tail[4..] == MAGIC_ENCRYPTED {
        return Err(parquet_error(
            name,
            "the file is encrypted (Parquet modular encryption); export it unencrypted",
        ));
    }
    if &tail[4..] != MAGIC {
        return Err(damaged("it does not end with the Parquet marker PAR1"));
    }
    let footer = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer + 12 > bytes {
        return Err(damaged(&format!(
            "its footer claims {footer} bytes, more than the file holds"
        )));
    }
    if footer > MAX_FOOTER_BYTES {
        return Err(parquet_error(
            name,
            format!(
                "its footer (file metadata) claims {} MiB, more than the {} MiB accepted: refused",
                footer >> 20,
                MAX_FOOTER_BYTES >> 20
            ),
        ));
    }
    Ok(())
}

fn read_rows(
    path: &Path,
    name: &str,
    bytes: u64,
    progress: super::Progress,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<String, IngestError> {
    let mut file = File::open(path).map_err(io_error(name))?;
    check_ends(&mut file, name, bytes)?;
    let reader = guarded(name, || {
        let options = ReadOptionsBuilder::new()
            .with_reader_properties(
                ReaderProperties::builder()
                    .set_read_page_statistics(false)
                    .build(),
            )
            .build();
        SerializedFileReader::new_with_options(file.try_clone().map_err(io_error(name))?, options)
            .map_err(|e| {
                parquet_error(
                    name,
                    format!("the file metadata cannot be read ({e}); the file may be damaged"),
                )
            })
    })?;
    let metadata = reader.metadata();
    let columns = plan_columns(metadata.file_metadata().schema(), name)?;
    let data_end = bytes - 12; // what the row groups may span (the footer follows)
    check_row_groups(metadata, name, data_end)?;
    let codecs = codecs(metadata);

    let flow = on_event(RowEvent::Sheet {
        name: None,
        decimal_comma: false,
    })
    .map_err(IngestError::Stopped)?;
    let dialect = format!(
        "Parquet, {} row group(s), {} column(s){}",
        metadata.num_row_groups(),
        columns.headers.len(),
        if codecs.is_empty() {
            String::new()
        } else {
            format!(", {codecs}")
        }
    );
    if flow == Flow::SkipSheet {
        return Ok(dialect);
    }
    let mut row = ParquetRow::default();
    for h in &columns.headers {
        row.push_text(h);
    }
    if on_event(RowEvent::Row(1, &row)).map_err(IngestError::Stopped)? == Flow::SkipSheet {
        return Ok(dialect);
    }
    let total_rows: u64 = metadata
        .row_groups()
        .iter()
        .map(|rg| rg.num_rows().max(0) as u64)
        .sum();
    let bar = super::rows_progress_bar(progress, name, bytes, total_rows);
    let mut number: u64 = 1;
    let mut pages = BufReader::with_capacity(64 << 10, file);
    for index in 0..metadata.num_row_groups() {
        check_pages(&mut pages, metadata, index, name)?;
        let group = guarded(name, || {
            reader.get_row_group(index).map_err(|e| {
                parquet_error(
                    name,
                    format!("row group {} cannot be read ({e})", index + 1),
                )
            })
        })?;
        let mut rows = guarded(name, || {
            group.get_row_iter(None).map_err(|e| {
                parquet_error(
                    name,
                    format!("row group {} cannot be read ({e})", index + 1),
                )
            })
        })?;
        loop {
            let next = guarded(name, || Ok(rows.next()))?;
            let record = match next {
                None => break,
                Some(Ok(r)) => r,
                Some(Err(e)) => {
                    return Err(parquet_error(
                        name,
                        format!(
                            "row group {} cannot be read near row {} ({e}); the file may be \
                             damaged",
                            index + 1,
                            number + 1
                        ),
                    ))
                }
            };
            number += 1;
            row.clear();
            fill(
                &mut row,
                &columns.nodes,
                &mut record.get_column_iter().map(|(_, f)| f),
            );
            if on_event(RowEvent::Row(number, &row)).map_err(IngestError::Stopped)?
                == Flow::SkipSheet
            {
                return Ok(dialect);
            }
            if let Some(bar) = &bar {
                if number & 0xfff == 0 {
                    bar.set_position(number - 1);
                }
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(dialect)
}

/// The codecs the file's column chunks use, for the dialect line.
fn codecs(metadata: &ParquetMetaData) -> String {
    let mut seen: Vec<&'static str> = Vec::new();
    for rg in metadata.row_groups() {
        for c in rg.columns() {
            let n = codec_name(c.compression());
            if !seen.contains(&n) {
                seen.push(n);
            }
        }
    }
    seen.join("/")
}

fn codec_name(c: Compression) -> &'static str {
    match c {
        Compression::UNCOMPRESSED => "uncompressed",
        Compression::SNAPPY => "Snappy",
        Compression::GZIP(_) => "GZIP",
        Compression::LZO => "LZO",
        Compression::BROTLI(_) => "Brotli",
        Compression::LZ4 | Compression::LZ4_RAW => "LZ4",
        Compression::ZSTD(_) => "ZSTD",
    }
}

// ---------------------------------------------------------------------------------------------
// Schema: which cells a row has, and how each is written.

/// How a leaf column's values are written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Leaf {
    /// As the record API converts them.
    Plain,
    /// A timestamp in `unit`, adjusted to UTC or local.
    Timestamp { unit: Unit, utc: bool },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Millis,
    Micros,
    Nanos,
}

/// The cells a schema node becomes.
#[derive(Debug)]
enum Node {
    /// One cell.
    Cell(Leaf),
    /// A struct: its children's cells, flattened (`parent.child`), in order.
    Struct { children: Vec<Node>, cells: usize },
}

impl Node {
    fn cells(&self) -> usize {
        match self {
            Node::Cell(_) => 1,
            Node::Struct { cells, .. } => *cells,
        }
    }
}

struct Columns {
    headers: Vec<String>,
    nodes: Vec<Node>,
}

/// The header and the cell plan of a schema; refuses what the record API would panic on.
fn plan_columns(root: &Type, name: &str) -> Result<Columns, IngestError> {
    let mut headers = Vec::new();
    let mut nodes = Vec::new();
    if !root.is_group() {
        return Err(parquet_error(name, "the schema is not a group of columns"));
    }
    let mut leaves = 0usize;
    for field in root.get_fields() {
        nodes.push(
            plan(field, "", 0, &mut headers, &mut leaves)
                .map_err(|e| parquet_error(name, format!("column {}: {e}", field.name())))?,
        );
    }
    if headers.is_empty() {
        return Err(parquet_error(name, "the file has no columns"));
    }
    Ok(Columns { headers, nodes })
}

fn plan(
    t: &Type,
    prefix: &str,
    depth: usize,
    headers: &mut Vec<String>,
    leaves: &mut usize,
) -> Result<Node, String> {
    if depth > MAX_DEPTH {
        return Err(format!("nested more than {MAX_DEPTH} levels deep"));
    }
    let info = t.get_basic_info();
    if !info.has_repetition() {
        return Err("a field without repetition".into());
    }
    let header = format!("{prefix}{}", t.name());
    if t.is_primitive() {
        *leaves += 1;
        if *leaves > MAX_COLUMNS {
            return Err(format!("more than {MAX_COLUMNS} columns"));
        }
        let leaf = check_primitive(t)?;
        headers.push(header);
        return Ok(Node::Cell(leaf));
    }
    let fields = t.get_fields();
    match info.converted_type() {
        ConvertedType::LIST => {
            if fields.len() != 1 || fields[0].get_basic_info().repetition() != Repetition::REPEATED
            {
                return Err("a list that is not one repeated field".into());
            }
            check_nested(&fields[0], depth + 1, leaves)?;
            headers.push(header);
            Ok(Node::Cell(Leaf::Plain))
        }
        ConvertedType::MAP | ConvertedType::MAP_KEY_VALUE => {
            let ok = fields.len() == 1
                && fields[0].is_group()
                && fields[0].get_basic_info().repetition() == Repetition::REPEATED
                && matches!(fields[0].get_fields().len(), 1 | 2)
                && fields[0].get_fields()[0].is_primitive();
            if !ok {
                return Err("a map that is not a repeated group of a key and a value".into());
            }
            check_nested(&fields[0], depth + 1, leaves)?;
            headers.push(header);
            Ok(Node::Cell(Leaf::Plain))
        }
        _ if info.repetition() == Repetition::REPEATED => {
            check_nested(t, depth + 1, leaves)?;
            headers.push(header);
            Ok(Node::Cell(Leaf::Plain))
        }
        _ => {
            if fields.is_empty() {
                return Err("a struct without fields".into());
            }
            let prefix = format!("{header}.");
            let mut children = Vec::with_capacity(fields.len());
            for f in fields {
                children.push(plan(f, &prefix, depth + 1, headers, leaves)?);
            }
            let cells = children.iter().map(Node::cells).sum();
            Ok(Node::Struct { children, cells })
        }
    }
}

/// Checks a node inside a list or map (its cell is JSON text) the way [`plan`] does.
fn check_nested(t: &Type, depth: usize, leaves: &mut usize) -> Result<(), String> {
    let mut ignored = Vec::new();
    let prefix = "";
    // Repeated groups inside are read as lists; the same shape rules apply.
    if t.is_group() && t.get_basic_info().repetition() == Repetition::REPEATED {
        if depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        if t.get_fields().is_empty() {
            return Err("a repeated group without fields".into());
        }
        for f in t.get_fields() {
            plan(f, prefix, depth + 1, &mut ignored, leaves)?;
        }
        return Ok(());
    }
    plan(t, prefix, depth, &mut ignored, leaves).map(|_| ())
}

/// Refuses a primitive column the record API cannot convert (it would panic); returns how its
/// values are written.
fn check_primitive(t: &Type) -> Result<Leaf, String> {
    let physical = t.get_physical_type();
    let converted = t.get_basic_info().converted_type();
    let logical = t.get_basic_info().logical_type_ref();
    let supported = match physical {
        PhysicalType::BOOLEAN
        | PhysicalType::INT96
        | PhysicalType::FLOAT
        | PhysicalType::DOUBLE => true,
        PhysicalType::INT32 => matches!(
            converted,
            ConvertedType::INT_8
                | ConvertedType::INT_16
                | ConvertedType::INT_32
                | ConvertedType::NONE
                | ConvertedType::UINT_8
                | ConvertedType::UINT_16
                | ConvertedType::UINT_32
                | ConvertedType::DATE
                | ConvertedType::TIME_MILLIS
                | ConvertedType::DECIMAL
        ),
        PhysicalType::INT64 => matches!(
            converted,
            ConvertedType::INT_64
                | ConvertedType::NONE
                | ConvertedType::UINT_64
                | ConvertedType::TIME_MICROS
                | ConvertedType::TIMESTAMP_MILLIS
                | ConvertedType::TIMESTAMP_MICROS
                | ConvertedType::DECIMAL
        ),
        PhysicalType::BYTE_ARRAY => matches!(
            converted,
            ConvertedType::UTF8
                | ConvertedType::ENUM
                | ConvertedType::JSON
                | ConvertedType::BSON
                | ConvertedType::NONE
                | ConvertedType::DECIMAL
        ),
        PhysicalType::FIXED_LEN_BYTE_ARRAY => {
            matches!(converted, ConvertedType::DECIMAL | ConvertedType::NONE)
        }
    };
    if !supported {
        return Err(format!(
            "the type {physical} annotated {converted} is not one this reader converts"
        ));
    }
    if converted == ConvertedType::DECIMAL && !(0..=76).contains(&t.get_scale()) {
        return Err(format!("a decimal with scale {}", t.get_scale()));
    }
    let leaf = match logical {
        Some(LogicalType::Timestamp(ts)) if physical == PhysicalType::INT64 => Leaf::Timestamp {
            unit: match ts.unit {
                TimeUnit::MILLIS => Unit::Millis,
                TimeUnit::MICROS => Unit::Micros,
                TimeUnit::NANOS => Unit::Nanos,
            },
            utc: ts.is_adjusted_to_u_t_c,
        },
        _ => match converted {
            ConvertedType::TIMESTAMP_MILLIS => Leaf::Timestamp {
                unit: Unit::Millis,
                utc: true,
            },
            ConvertedType::TIMESTAMP_MICROS => Leaf::Timestamp {
                unit: Unit::Micros,
                utc: true,
            },
            _ if physical == PhysicalType::INT96 => Leaf::Timestamp {
                unit: Unit::Millis,
                utc: true,
            },
            _ => Leaf::Plain,
        },
    };
    Ok(leaf)
}

// ---------------------------------------------------------------------------------------------
// Metadata and page checks: what bounds memory, before anything is inflated.

/// Checks every row group's and column chunk's claims against the file and the limits.
fn check_row_groups(
    metadata: &ParquetMetaData,
    name: &str,
    data_end: u64,
) -> Result<(), IngestError> {
    let leaves = metadata.file_metadata().schema_descr().num_columns();
    let damaged = |rg: usize, what: String| {
        parquet_error(
            name,
            format!("row group {}: {what}; the file is damaged", rg + 1),
        )
    };
    let mut total_rows: i64 = 0;
    for (i, rg) in metadata.row_groups().iter().enumerate() {
        if rg.num_rows() < 0 {
            return Err(damaged(i, format!("it claims {} rows", rg.num_rows())));
        }
        total_rows = total_rows
            .checked_add(rg.num_rows())
            .ok_or_else(|| damaged(i, "the row counts overflow".into()))?;
        if rg.num_columns() != leaves {
            return Err(damaged(
                i,
                format!(
                    "it has {} column chunks for {leaves} columns",
                    rg.num_columns()
                ),
            ));
        }
        for c in rg.columns() {
            let col = c.column_path().string();
            if !matches!(
                c.compression(),
                Compression::UNCOMPRESSED
                    | Compression::SNAPPY
                    | Compression::GZIP(_)
                    | Compression::ZSTD(_)
            ) {
                return Err(parquet_error(
                    name,
                    format!(
                        "column {col} is compressed with {}, which is not read (Snappy, GZIP, \
                         ZSTD or none are: export the file with one of them)",
                        codec_name(c.compression())
                    ),
                ));
            }
            let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset());
            let len = c.compressed_size();
            let fits = start >= 4
                && len >= 0
                && c.data_page_offset() >= start
                && (start as u64)
                    .checked_add(len as u64)
                    .is_some_and(|e| e <= data_end)
                && (c.data_page_offset() as u64) < (start as u64).saturating_add(len as u64);
            if !fits {
                return Err(damaged(
                    i,
                    format!(
                        "column {col} claims bytes {start} to {} of a {} byte data area",
                        start.saturating_add(len),
                        data_end
                    ),
                ));
            }
            if c.num_values() < 0 || c.uncompressed_size() < 0 {
                return Err(damaged(i, format!("column {col} claims negative sizes")));
            }
            if c.column_descr().max_rep_level() > 0
                && c.num_values()
                    > rg.num_rows()
                        .max(1)
                        .saturating_mul(MAX_NESTED_VALUES_PER_ROW)
            {
                return Err(parquet_error(
                    name,
                    format!(
                        "row group {}: the list or map column {col} claims {} values for {} \
                         rows, more than {MAX_NESTED_VALUES_PER_ROW} a row: refused",
                        i + 1,
                        c.num_values(),
                        rg.num_rows()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// What a page header says.
#[derive(Debug, Default, Clone, Copy)]
struct PageHeader {
    kind: i32,
    uncompressed: i64,
    compressed: i64,
    /// Values in a data page (v1 or v2).
    values: Option<i64>,
    /// The header's own length.
    len: u64,
}

/// Page type DICTIONARY_PAGE (parquet.thrift).
const DICTIONARY_PAGE: i32 = 2;
/// Page types DATA_PAGE and DATA_PAGE_V2.
const DATA_PAGES: [i32; 2] = [0, 3];

/// Walks the page headers of every column chunk of row group `index`: each page fits its chunk,
/// inflates to at most [`MAX_PAGE_BYTES`], and the pages held at once (per column the
/// dictionary and the largest data page) add up to at most [`MAX_LIVE_PAGE_BYTES`].
fn check_pages<R: Read + Seek>(
    file: &mut R,
    metadata: &ParquetMetaData,
    index: usize,
    name: &str,
) -> Result<(), IngestError> {
    let rg = metadata.row_group(index);
    let damaged = |col: &str, what: String| {
        parquet_error(
            name,
            format!(
                "row group {}, column {col}: {what}; the file is truncated or damaged",
                index + 1
            ),
        )
    };
    let mut live: u64 = 0;
    for c in rg.columns() {
        let col = c.column_path().string();
        let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset()) as u64;
        let end = start + c.compressed_size() as u64;
        let mut at = start;
        let (mut dictionary, mut largest, mut values) = (0u64, 0u64, 0i64);
        while at < end {
            file.seek(SeekFrom::Start(at)).map_err(io_error(name))?;
            let header = read_page_header(&mut file.by_ref().take(MAX_PAGE_HEADER_BYTES))
                .map_err(|e| damaged(&col, format!("a page header cannot be read ({e})")))?;
            if header.compressed < 0 || header.uncompressed < 0 {
                return Err(damaged(&col, "a page claims a negative size".into()));
            }
            let next = at
                .checked_add(header.len)
                .and_then(|a| a.checked_add(header.compressed as u64))
                .filter(|n| *n <= end)
                .ok_or_else(|| damaged(&col, "a page runs past its column chunk".into()))?;
            let size = header.uncompressed as u64;
            if size > MAX_PAGE_BYTES {
                return Err(parquet_error(
                    name,
                    format!(
                        "row group {}, column {col}: a page would inflate to {} MiB (the limit \
                         is {} MiB): refused",
                        index + 1,
                        size >> 20,
                        MAX_PAGE_BYTES >> 20
                    ),
                ));
            }
            if header.kind == DICTIONARY_PAGE {
                dictionary = dictionary.max(size);
            } else if DATA_PAGES.contains(&header.kind) {
                largest = largest.max(size);
                values = values.saturating_add(header.values.unwrap_or(0).max(0));
            }
            at = next;
        }
        if values != c.num_values() {
            return Err(damaged(
                &col,
                format!(
                    "its pages hold {values} values where the metadata says {}",
                    c.num_values()
                ),
            ));
        }
        live = live.saturating_add(dictionary).saturating_add(largest);
    }
    if live > MAX_LIVE_PAGE_BYTES {
        return Err(parquet_error(
            name,
            format!(
                "row group {}: its pages would inflate to {} MiB held at once (the limit is {} \
                 MiB): refused",
                index + 1,
                live >> 20,
                MAX_LIVE_PAGE_BYTES >> 20
            ),
        ));
    }
    Ok(())
}

/// A reader that counts the bytes read.
struct Counted<'a, R> {
    inner: &'a mut R,
    read: u64,
}

impl<R: Read> Counted<'_, R> {
    fn byte(&mut self) -> io::Result<u8> {
        let mut b = [0u8; 1];
        self.inner.read_exact(&mut b)?;
        self.read += 1;
        Ok(b[0])
    }

    fn varint(&mut self) -> io::Result<u64> {
        let mut v: u64 = 0;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift < 64 {
                v |= u64::from(b & 0x7f) << shift;
            }
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("a varint longer than 10 bytes"))
    }

    fn zigzag(&mut self) -> io::Result<i64> {
        let v = self.varint()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        let copied = io::copy(&mut self.inner.by_ref().take(n), &mut io::sink())?;
        self.read += copied;
        if copied < n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// Reads a `PageHeader` (Thrift compact protocol): type, sizes and the data pages' value count;
/// every other field is skipped.
fn read_page_header<R: Read>(r: &mut R) -> io::Result<PageHeader> {
    let mut c = Counted { inner: r, read: 0 };
    let mut header = PageHeader::default();
    let mut last = 0i16;
    while let Some((id, kind)) = field_header(&mut c, &mut last)? {
        match (id, kind) {
            (1, 5) => header.kind = c.zigzag()? as i32,
            (2, 5) => header.uncompressed = c.zigzag()?,
            (3, 5) => header.compressed = c.zigzag()?,
            // DataPageHeader, DataPageHeaderV2: field 1 is num_values.
            (5 | 8, 12) => header.values = Some(struct_first_i32(&mut c)?),
            _ => skip(&mut c, kind, 0)?,
        }
    }
    header.len = c.read;
    Ok(header)
}

/// The next field's id and type, `None` at the struct's end.
fn field_header<R: Read>(c: &mut Counted<'_, R>, last: &mut i16) -> io::Result<Option<(i16, u8)>> {
    let b = c.byte()?;
    if b == 0 {
        return Ok(None);
    }
    let kind = b & 0x0f;
    let delta = b >> 4;
    let id = if delta == 0 {
        c.zigzag()? as i16
    } else {
        last.wrapping_add(i16::from(delta))
    };
    *last = id;
    Ok(Some((id, kind)))
}

/// Reads a struct, returning its field 1 as an i32 (0 when absent).
fn struct_first_i32<R: Read>(c: &mut Counted<'_, R>) -> io::Result<i64> {
    let mut value = 0;
    let mut last = 0i16;
    while let Some((id, kind)) = field_header(c, &mut last)? {
        if (id, kind) == (1, 5) {
            value = c.zigzag()?;
        } else {
            skip(c, kind, 1)?;
        }
    }
    Ok(value)
}

/// Skips a value of compact type `kind`.
fn skip<R: Read>(c: &mut Counted<'_, R>, kind: u8, depth: usize) -> io::Result<()> {
    if depth > 32 {
        return Err(bad("nested too deep"));
    }
    match kind {
        1 | 2 => Ok(()),
        3 => c.byte().map(|_| ()),
        4..=6 => c.varint().map(|_| ()),
        7 => c.skip(8),
        8 => {
            let n = c.varint()?;
            c.skip(n)
        }
        9 | 10 => {
            let b = c.byte()?;
            let elem = b & 0x0f;
            let n = match b >> 4 {
                15 => c.varint()?,
                n => u64::from(n),
            };
            for _ in 0..n {
                if elem == 1 || elem == 2 {
                    c.byte()?;
                } else {
                    skip(c, elem, depth + 1)?;
                }
            }
            Ok(())
        }
        11 => {
            let n = c.varint()?;
            if n == 0 {
                return Ok(());
            }
            let kv = c.byte()?;
            for _ in 0..n {
                skip(c, kv >> 4, depth + 1)?;
                skip(c, kv & 0x0f, depth + 1)?;
            }
            Ok(())
        }
        12 => {
            let mut last = 0i16;
            while let Some((_, k)) = field_header(c, &mut last)? {
                skip(c, k, depth + 1)?;
            }
            Ok(())
        }
        _ => Err(bad("an unknown Thrift type")),
    }
}

// ---------------------------------------------------------------------------------------------
// Rows: record API fields to cells.

#[derive(Debug, Clone, Copy)]
enum Cell {
    Empty,
    Text(usize, usize),
    Number(f64),
    Bool(bool),
    Error(&'static str),
}

/// One row's cells; text lives in one buffer reused from row to row.
#[derive(Default)]
struct ParquetRow {
    text: String,
    cells: Vec<Cell>,
}

impl ParquetRow {
    fn clear(&mut self) {
        self.text.clear();
        self.cells.clear();
    }

    fn push_text(&mut self, t: &str) {
        if t.is_empty() {
            self.cells.push(Cell::Empty);
        } else {
            let start = self.text.len();
            self.text.push_str(t);
            self.cells.push(Cell::Text(start, self.text.len()));
        }
    }

    /// Appends a cell whose text `write` puts at the end of the buffer.
    fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        if self.text.len() == start {
            self.cells.push(Cell::Empty);
        } else {
            self.cells.push(Cell::Text(start, self.text.len()));
        }
    }
}

impl RowCells for ParquetRow {
    fn len(&self) -> usize {
        self.cells.len()
    }

    fn cell(&self, index: usize) -> CellRef<'_> {
        match self.cells.get(index) {
            None | Some(Cell::Empty) => CellRef::Empty,
            Some(Cell::Text(s, e)) => CellRef::Text(self.text.get(*s..*e).unwrap_or("")),
            Some(Cell::Number(n)) => CellRef::Number(*n),
            Some(Cell::Bool(b)) => CellRef::Bool(*b),
            Some(Cell::Error(e)) => CellRef::Error(e),
        }
    }
}

/// The largest integer written as a number (beyond it, as exact text).
const MAX_EXACT_INT: i128 = 1 << 53;

/// Fills `row` with the cells of `fields` (one per node, in schema order).
fn fill(row: &mut ParquetRow, nodes: &[Node], fields: &mut dyn Iterator<Item = &Field>) {
    for node in nodes {
        let field = fields.next().unwrap_or(&Field::Null);
        match node {
            Node::Cell(leaf) => push_field(row, *leaf, field),
            Node::Struct { children, cells } => match field {
                Field::Group(inner) => {
                    fill(row, children, &mut inner.get_column_iter().map(|(_, f)| f));
                }
                _ => {
                    for _ in 0..*cells {
                        row.cells.push(Cell::Empty);
                    }
                }
            },
        }
    }
}

fn push_field(row: &mut ParquetRow, leaf: Leaf, field: &Field) {
    if let Leaf::Timestamp { unit, utc } = leaf {
        let (value, unit) = match field {
            Field::TimestampMillis(v) => (*v, Unit::Millis),
            Field::TimestampMicros(v) => (*v, Unit::Micros),
            Field::Long(v) => (*v, unit),
            _ => return push_plain(row, field),
        };
        return row.push_with(|s| write_timestamp(s, value, unit, utc));
    }
    push_plain(row, field)
}

fn push_int(row: &mut ParquetRow, v: i128) {
    if v.abs() <= MAX_EXACT_INT {
        row.cells.push(Cell::Number(v as f64));
    } else {
        row.push_with(|s| s.push_str(&v.to_string()));
    }
}

fn push_plain(row: &mut ParquetRow, field: &Field) {
    match field {
        Field::Null => row.cells.push(Cell::Empty),
        Field::Bool(b) => row.cells.push(Cell::Bool(*b)),
        Field::Byte(v) => push_int(row, i128::from(*v)),
        Field::Short(v) => push_int(row, i128::from(*v)),
        Field::Int(v) => push_int(row, i128::from(*v)),
        Field::Long(v) => push_int(row, i128::from(*v)),
        Field::UByte(v) => push_int(row, i128::from(*v)),
        Field::UShort(v) => push_int(row, i128::from(*v)),
        Field::UInt(v) => push_int(row, i128::from(*v)),
        Field::ULong(v) => push_int(row, i128::from(*v)),
        Field::Float16(v) => push_float_text(row, f32::from(*v)),
        Field::Float(v) => push_float_text(row, *v),
        Field::Double(v) if v.is_finite() => row.cells.push(Cell::Number(*v)),
        Field::Double(_) => row.cells.push(Cell::Error("#NUM!")),
        Field::Decimal(d) => match decimal_text(d) {
            Some(t) => row.push_with(|s| s.push_str(&t)),
            None => row.cells.push(Cell::Error("#DECIMAL!")),
        },
        Field::Str(t) => row.push_text(t),
        Field::Bytes(b) => match std::str::from_utf8(b.data()) {
            Ok(t) => row.push_text(t),
            Err(_) => row.cells.push(Cell::Error("#BINARY!")),
        },
        Field::Date(days) => row.push_with(|s| write_date(s, *days)),
        Field::TimeMillis(ms) => row.push_with(|s| write_time(s, i64::from(*ms) * 1_000_000)),
        Field::TimeMicros(us) => row.push_with(|s| write_time(s, us.saturating_mul(1_000))),
        Field::TimestampMillis(v) => row.push_with(|s| write_timestamp(s, *v, Unit::Millis, true)),
        Field::TimestampMicros(v) => row.push_with(|s| write_timestamp(s, *v, Unit::Micros, true)),
        Field::Group(_) | Field::ListInternal(_) | Field::MapInternal(_) => {
            row.push_with(|s| write_json(s, field, 0))
        }
    }
}

fn push_float_text(row: &mut ParquetRow, v: f32) {
    if v.is_finite() {
        // The shortest text that reads back as this float (0.1, not 0.100000001490116).
        row.push_with(|s| s.push_str(&v.to_string()));
    } else {
        row.cells.push(Cell::Error("#NUM!"));
    }
}

/// A decimal's exact text (`-12.3400`), `None` when wider than 128 bits.
fn decimal_text(d: &Decimal) -> Option<String> {
    let bytes = d.data();
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let negative = bytes[0] & 0x80 != 0;
    let mut buf = [if negative { 0xff } else { 0 }; 16];
    buf[16 - bytes.len()..].copy_from_slice(bytes);
    let unscaled = i128::from_be_bytes(buf);
    let scale = usize::try_from(d.scale()).ok()?;
    let digits = unscaled.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + scale + 3);
    if unscaled < 0 {
        out.push('-');
    }
    if scale == 0 {
        out.push_str(&digits);
    } else if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else {
        out.push_str("0.");
        for _ in 0..scale - digits.len() {
            out.push('0');
        }
        out.push_str(&digits);
    }
    Some(out)
}

fn push2(s: &mut String, v: u32) {
    s.push(char::from(b'0' + (v / 10 % 10) as u8));
    s.push(char::from(b'0' + (v % 10) as u8));
}

fn write_date(s: &mut String, days: i32) {
    match NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|e| e.checked_add_signed(chrono::Duration::days(i64::from(days))))
    {
        Some(d) if (0..=9999).contains(&d.year()) => {
            let _ = std::fmt::Write::write_fmt(s, format_args!("{:04}-", d.year()));
            push2(s, d.month());
            s.push('-');
            push2(s, d.day());
        }
        _ => s.push_str(&days.to_string()),
    }
}

/// `HH:MM:SS[.fraction]` of nanoseconds since midnight.
fn write_time(s: &mut String, nanos: i64) {
    if !(0..86_400_000_000_000).contains(&nanos) {
        s.push_str(&nanos.to_string());
        return;
    }
    let secs = (nanos / 1_000_000_000) as u32;
    push2(s, secs / 3600);
    s.push(':');
    push2(s, secs / 60 % 60);
    s.push(':');
    push2(s, secs % 60);
    write_fraction(s, (nanos % 1_000_000_000) as u32);
}

/// `.fraction` without trailing zeros; nothing for zero.
fn write_fraction(s: &mut String, nanos: u32) {
    if nanos == 0 {
        return;
    }
    let mut digits = format!("{nanos:09}");
    while digits.ends_with('0') {
        digits.pop();
    }
    s.push('.');
    s.push_str(&digits);
}

/// ISO-8601 text of a timestamp: `2026-01-02T11:00:00Z` (no `Z` when not adjusted to UTC).
fn write_timestamp(s: &mut String, value: i64, unit: Unit, utc: bool) {
    let (secs, nanos) = match unit {
        Unit::Millis => (value.div_euclid(1_000), value.rem_euclid(1_000) * 1_000_000),
        Unit::Micros => (
            value.div_euclid(1_000_000),
            value.rem_euclid(1_000_000) * 1_000,
        ),
        Unit::Nanos => (
            value.div_euclid(1_000_000_000),
            value.rem_euclid(1_000_000_000),
        ),
    };
    match DateTime::from_timestamp(secs, nanos as u32).map(|d| d.naive_utc()) {
        Some(dt) if (0..=9999).contains(&dt.year()) => {
            let _ = std::fmt::Write::write_fmt(s, format_args!("{:04}-", dt.year()));
            push2(s, dt.month());
            s.push('-');
            push2(s, dt.day());
            s.push('T');
            push2(s, dt.hour());
            s.push(':');
            push2(s, dt.minute());
            s.push(':');
            push2(s, dt.second());
            write_fraction(s, dt.nanosecond());
            if utc {
                s.push('Z');
            }
        }
        // Out of any calendar: the number, which the date parser then rejects by name.
        _ => s.push_str(&value.to_string()),
    }
}

/// Writes a list, map or struct (and what they hold) as JSON.
fn write_json(s: &mut String, field: &Field, depth: usize) {
    if depth > MAX_DEPTH {
        s.push_str("null");
        return;
    }
    match field {
        Field::Null => s.push_str("null"),
        Field::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        Field::Byte(v) => s.push_str(&v.to_string()),
        Field::Short(v) => s.push_str(&v.to_string()),
        Field::Int(v) => s.push_str(&v.to_string()),
        Field::Long(v) => s.push_str(&v.to_string()),
        Field::UByte(v) => s.push_str(&v.to_string()),
        Field::UShort(v) => s.push_str(&v.to_string()),
        Field::UInt(v) => s.push_str(&v.to_string()),
        Field::ULong(v) => s.push_str(&v.to_string()),
        Field::Float16(v) => json_number(s, f64::from(f32::from(*v))),
        Field::Float(v) => match v.is_finite() {
            true => s.push_str(&v.to_string()),
            false => s.push_str("null"),
        },
        Field::Double(v) => json_number(s, *v),
        Field::Decimal(d) => match decimal_text(d) {
            Some(t) => s.push_str(&t),
            None => s.push_str("null"),
        },
        Field::Str(t) => json_string(s, t),
        Field::Bytes(b) => json_string(s, &String::from_utf8_lossy(b.data())),
        Field::Date(_)
        | Field::TimeMillis(_)
        | Field::TimeMicros(_)
        | Field::TimestampMillis(_)
        | Field::TimestampMicros(_) => {
            let mut text = String::new();
            let mut row = ParquetRow::default();
            push_plain(&mut row, field);
            if let Some(Cell::Text(a, b)) = row.cells.first() {
                text.push_str(&row.text[*a..*b]);
            }
            json_string(s, &text)
        }
        Field::Group(inner) => {
            s.push('{');
            for (i, (key, value)) in inner.get_column_iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                json_string(s, key);
                s.push(':');
                write_json(s, value, depth + 1);
            }
            s.push('}');
        }
        Field::ListInternal(list) => {
            s.push('[');
            for (i, value) in list.elements().iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                write_json(s, value, depth + 1);
            }
            s.push(']');
        }
        Field::MapInternal(map) => {
            s.push('{');
            for (i, (key, value)) in map.entries().iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                match key {
                    Field::Str(k) => json_string(s, k),
                    other => {
                        let mut k = String::new();
                        write_json(&mut k, other, depth + 1);
                        json_string(s, k.trim_matches('"'));
                    }
                }
                s.push(':');
                write_json(s, value, depth + 1);
            }
            s.push('}');
        }
    }
}

fn json_number(s: &mut String, v: f64) {
    if v.is_finite() {
        s.push_str(&v.to_string());
    } else {
        s.push_str("null");
    }
}

fn json_string(s: &mut String, t: &str) {
    // serde_json's escaping (a string never fails to serialise).
    match serde_json::to_string(t) {
        Ok(q) => s.push_str(&q),
        Err(_) => s.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_the_date_parser_expects() {
        let mut s = String::new();
        // 2026-01-02T11:00:00Z = 1767351600 s.
        write_timestamp(&mut s, 1_767_351_600_000, Unit::Millis, true);
        assert_eq!(s, "2026-01-02T11:00:00Z");
        s.clear();
        write_timestamp(&mut s, 1_767_351_600_123_456, Unit::Micros, false);
        assert_eq!(s, "2026-01-02T11:00:00.123456");
        s.clear();
        write_timestamp(&mut s, -1, Unit::Nanos, true);
        assert_eq!(s, "1969-12-31T23:59:59.999999999Z");
        s.clear();
        write_timestamp(&mut s, i64::MAX, Unit::Millis, true);
        assert_eq!(s, i64::MAX.to_string());
        s.clear();
        // 20455 days after 1970-01-01 is 2026-01-02.
        write_date(&mut s, 20_455);
        assert_eq!(s, "2026-01-02");
        s.clear();
        write_time(&mut s, 3_723_500_000_000);
        assert_eq!(s, "01:02:03.5");
    }

    #[test]
    fn decimals_are_exact_text() {
        let d = |v: i64, scale: i32| decimal_text(&Decimal::from_i64(v, 18, scale));
        assert_eq!(d(123_450, 4).as_deref(), Some("12.3450"));
        assert_eq!(d(-5, 3).as_deref(), Some("-0.005"));
        assert_eq!(d(42, 0).as_deref(), Some("42"));
        assert_eq!(d(i64::MIN, 2).as_deref(), Some("-92233720368547758.08"));
    }

    #[test]
    fn page_headers_are_read_and_skipped() {
        // PageHeader{type=DATA_PAGE(0), uncompressed=100, compressed=60,
        // data_page_header{num_values=7, encoding=0, ...}} in Thrift compact.
        let bytes = [
            0x15, 0x00, // field 1 i32: 0
            0x15, 0xc8, 0x01, // field 2 i32: 100
            0x15, 0x78, // field 3 i32: 60
            0x2c, // field 5 struct (delta 2)
            0x15, 0x0e, // field 1 i32: 7
            0x15, 0x00, // field 2 i32: 0
            0x18, 0x02, b'a', b'b', // field 3 binary "ab" (skipped)
            0x00, // end of struct
            0x00, // end of struct
        ];
        let h = read_page_header(&mut &bytes[..]).unwrap();
        assert_eq!(
            (h.kind, h.uncompressed, h.compressed, h.values, h.len),
            (0, 100, 60, Some(7), bytes.len() as u64)
        );
        assert!(read_page_header(&mut &bytes[..5]).is_err());
    }
}
