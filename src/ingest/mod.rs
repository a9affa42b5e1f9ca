//! Ingest: turns one input file into a stream of rows of cells with their row numbers.
//!
//! It owns opening files, telling CSV from spreadsheets, character encodings, CSV dialects and
//! the file's SHA-256. It knows nothing about vendors: which row is the header and what a
//! column means is decided by `normalise`, which receives the rows through a callback, so a
//! file is never collected in memory (CSV is streamed; spreadsheets are read sheet by sheet;
//! Parquet row group by row group).

pub mod csv;
mod ole;
pub mod parquet;
mod sheetxml;
pub mod xlsx;

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

/// One cell as read, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellRef<'a> {
    /// Nothing in the cell.
    Empty,
    /// Text (every CSV cell is text).
    Text(&'a str),
    /// A number stored as a number (spreadsheets).
    Number(f64),
    /// A boolean stored as such (spreadsheets).
    Bool(bool),
    /// A date or date-time stored as such (spreadsheets).
    DateTime(NaiveDateTime),
    /// A spreadsheet error value such as `#N/A`.
    Error(&'a str),
}

impl CellRef<'_> {
    /// True when the cell is empty or holds only white space.
    pub fn is_blank(&self) -> bool {
        match self {
            CellRef::Empty => true,
            CellRef::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text, for messages and for text fields.
    pub fn display(&self) -> String {
        match self {
            CellRef::Empty => String::new(),
            CellRef::Text(t) => (*t).to_string(),
            CellRef::Number(n) => format_number(*n),
            CellRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            CellRef::DateTime(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
            CellRef::Error(e) => (*e).to_string(),
        }
    }
}

/// Formats a number the way a spreadsheet user would type it (no trailing `.0`).
pub fn format_number(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A row of cells: random access by column index.
pub trait RowCells {
    /// Number of cells in the row (ragged rows may be shorter than the header).
    fn len(&self) -> usize;
    /// The cell at `index`, `Empty` past the end of the row.
    fn cell(&self, index: usize) -> CellRef<'_>;
    /// True when the row has no cells.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the reader hands to the row callback. `B` is what the caller's [`Premap`] makes of a
/// batch of rows; readers without one hand out no batches ([`Unbatched`]).
pub enum RowEvent<'a, B = Unbatched> {
    /// A new sheet starts (spreadsheets: the sheet name; CSV: `None`, once).
    Sheet {
        /// The sheet name, `None` for CSV.
        name: Option<&'a str>,
        /// True when text numbers use a decimal comma (`1.234,5`), as in semicolon CSV.
        decimal_comma: bool,
    },
    /// A row with its 1-based row number as a spreadsheet or editor shows it.
    Row(u64, &'a dyn RowCells),
    /// What the reading thread's [`Premap`] made of the rows that follow (the rows of one
    /// batch, handed out next as `Row` events as usual).
    Premapped(B),
}

/// The row callback of a read: told each event, it says whether to go on, or why to stop.
pub type OnEvent<'f, B = Unbatched> = dyn FnMut(RowEvent<'_, B>) -> Result<Flow, String> + 'f;

/// No premapped batch: the events of a read without a [`Premap`] (a value of it cannot exist).
#[derive(Debug)]
pub enum Unbatched {}

impl<'a> RowEvent<'a, Unbatched> {
    /// The same event where the callback takes batches of `B` (it gets none from this read).
    fn batched<B>(self) -> RowEvent<'a, B> {
        match self {
            RowEvent::Sheet {
                name,
                decimal_comma,
            } => RowEvent::Sheet {
                name,
                decimal_comma,
            },
            RowEvent::Row(number, cells) => RowEvent::Row(number, cells),
            RowEvent::Premapped(none) => match none {},
        }
    }
}

/// Work on rows that a CSV file's reading thread may take on for the callback.
///
/// CSV records are parsed on a second thread and handed to the calling thread in batches.
/// When the calling thread falls behind (the batches waiting fill the queue), the reading
/// thread maps the next batch itself through `premap` before queueing it, so both cores map
/// rows; the result reaches the callback as a [`RowEvent::Premapped`] before the batch's rows.
/// What the calling thread does with it (and in what order it books it) is its own affair.
pub trait Premap: Sync {
    /// What a batch of rows becomes, handed to the callback as [`RowEvent::Premapped`].
    type Batch: Send;

    /// Maps one batch of rows (row number, cells), in file order; `None` when it cannot (yet).
    fn premap(&self, rows: &mut dyn Iterator<Item = (u64, &dyn RowCells)>) -> Option<Self::Batch>;

    /// True to premap every batch, not only those parsed while the calling thread is behind
    /// (tests use it to check that premapped rows book exactly as rows mapped in turn).
    fn every_batch(&self) -> bool {
        false
    }
}

/// The [`Premap`] of a read that maps nothing ahead.
pub struct NoPremap;

impl Premap for NoPremap {
    type Batch = Unbatched;

    fn premap(&self, _: &mut dyn Iterator<Item = (u64, &dyn RowCells)>) -> Option<Unbatched> {
        None
    }
}

/// What the callback tells the reader after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// Skip the rest of this sheet (no recognised header in it).
    SkipSheet,
}

/// The kind of file, decided from its name and its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Delimited text.
    Csv,
    /// Gzip-compressed delimited text.
    CsvGz,
    /// A spreadsheet calamine reads (xlsx, xlsm, xls, ods).
    Spreadsheet,
    /// A Parquet file (starts with `PAR1`).
    Parquet,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Csv => "CSV",
            FileKind::CsvGz => "CSV (gzip)",
            FileKind::Spreadsheet => "spreadsheet",
            FileKind::Parquet => "Parquet",
        })
    }
}

/// Facts about a file learnt while reading it.
#[derive(Debug, Clone, Default)]
pub struct FileInfo {
    /// SHA-256 of the file's bytes as stored (lower-case hex).
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// What the reader decided about the text (encoding, delimiter) or the workbook.
    pub dialect: String,
}

/// A file-level problem: the file cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read the file: {source}")]
    Io {
        /// The file as named.
        file: String,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A directory was given where a file was expected.
    #[error("{file}: is a folder, not a file")]
    IsDirectory {
        /// The path as named.
        file: String,
    },
    /// A folder was named that holds no export file (in it or its subfolders), and nothing
    /// else was named.
    #[error(
        "{folder}: the folder holds no export files, in it or its subfolders (.csv, .tsv, .txt, \
         .csv.gz, .xlsx, .xlsm, .xls, .ods or .parquet){skipped}"
    )]
    EmptyFolder {
        /// The folder as named.
        folder: String,
        /// The entries not read, with their reasons (empty, or starting with "; ").
        skipped: String,
    },
    /// A FIFO, socket or device named as an export.
    #[error("{file}: is a {kind}, not a regular file: name the export file itself")]
    NotARegularFile {
        /// The path as named.
        file: String,
        /// What it is (`FIFO`, `character device` ...).
        kind: &'static str,
    },
    /// The file has no bytes.
    #[error("{file}: the file is empty")]
    Empty {
        /// The file as named.
        file: String,
    },
    /// The content is not a spreadsheet or delimited text.
    #[error("{file}: not a spreadsheet or CSV file ({reason})")]
    NotASpreadsheet {
        /// The file as named.
        file: String,
        /// What was seen.
        reason: String,
    },
    /// The spreadsheet reader failed.
    #[error("{file}: cannot read the spreadsheet: {reason}")]
    Spreadsheet {
        /// The file as named.
        file: String,
        /// calamine's message.
        reason: String,
    },
    /// The Parquet file cannot be read (damaged, truncated, or refused by a size check).
    #[error("{file}: cannot read the Parquet file: {reason}")]
    Parquet {
        /// The file as named.
        file: String,
        /// What is wrong, in plain words.
        reason: String,
    },
    /// The CSV reader failed part-way.
    #[error("{file}: cannot read the CSV text near row {row}: {reason}")]
    Csv {
        /// The file as named.
        file: String,
        /// The row reached.
        row: u64,
        /// The parser's message.
        reason: String,
    },
    /// An error raised by the row callback (normalise) that stops the file.
    #[error("{0}")]
    Stopped(String),
}

/// Spreadsheet and text extensions read when a folder is named.
pub const INPUT_EXTENSIONS: &[&str] = &[
    ".csv", ".tsv", ".txt", ".csv.gz", ".xlsx", ".xlsm", ".xls", ".ods", ".parquet",
];

/// True when a file name has one of the input extensions.
pub fn has_input_extension(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    INPUT_EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

/// Decides the kind of a file from its extension, then its first bytes.
pub fn detect_kind(path: &Path, head: &[u8]) -> FileKind {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if head.starts_with(&[0x1f, 0x8b]) {
        return FileKind::CsvGz;
    }
    if head.starts_with(parquet::MAGIC) {
        return FileKind::Parquet;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return FileKind::Spreadsheet;
    }
    if [".xlsx", ".xlsm", ".xls", ".ods"]
        .iter()
        .any(|e| name.ends_with(e))
    {
        return FileKind::Spreadsheet;
    }
    FileKind::Csv
}

/// Reads every row of `path`, calling `on_event` for each sheet start and each row.
///
/// `name` is the file as the user named it (used in messages). Errors are file-level; row-level
/// problems are for the callback to record.
pub fn read_rows(
    path: &Path,
    name: &str,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<FileInfo, IngestError> {
    read_rows_premapped::<NoPremap>(path, name, Progress::Hidden, None, on_event)
}

/// [`read_rows`], with a progress bar when `progress` asks for one, letting a CSV file's
/// reading thread map rows ahead through `premap`.
pub fn read_rows_premapped<P: Premap>(
    path: &Path,
    name: &str,
    progress: Progress,
    premap: Option<&P>,
    on_event: &mut OnEvent<'_, P::Batch>,
) -> Result<FileInfo, IngestError> {
    let io_err = |source| IngestError::Io {
        file: name.to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if meta.is_dir() {
        return Err(IngestError::IsDirectory {
            file: name.to_string(),
        });
    }
    if !meta.is_file() {
        return Err(IngestError::NotARegularFile {
            file: name.to_string(),
            kind: special_kind(&meta.file_type()),
        });
    }
    if meta.len() == 0 {
        return Err(IngestError::Empty {
            file: name.to_string(),
        });
    }
    let mut head = [0u8; 8];
    let n = {
        let mut f = std::fs::File::open(path).map_err(io_err)?;
        read_up_to(&mut f, &mut head).map_err(io_err)?
    };
    match detect_kind(path, &head[..n]) {
        FileKind::Spreadsheet => xlsx::read(path, name, progress, &mut |e| on_event(e.batched())),
        FileKind::Parquet => parquet::read(path, name, progress, &mut |e| on_event(e.batched())),
        kind => csv::read(path, name, kind, progress, premap, on_event),
    }
}

/// Reads until `buf` is full or the reader ends; returns the bytes read.
pub(crate) fn read_up_to<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Files at least this big get a progress bar.
pub const PROGRESS_MIN_BYTES: u64 = 8 << 20;

/// Whether reading a file may show a progress bar on stderr: the command line asks for one
/// (shown for files of [`PROGRESS_MIN_BYTES`] or more when stderr is a terminal), the upload
/// page and the tests do not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Progress {
    /// No bar.
    #[default]
    Hidden,
    /// A bar for big files, on a terminal.
    Shown,
}

impl Progress {
    /// Whether a file of `bytes` gets a bar: asked for, the file is big and stderr is a
    /// terminal.
    fn wanted(self, bytes: u64) -> bool {
        use std::io::IsTerminal;
        self == Progress::Shown && bytes >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal()
    }
}

/// A bar of `len` steps (a spinner without), drawn with `template`, cleared when done (and
/// when reading stops early), with `message` at its end.
fn new_bar(len: Option<u64>, template: &str, message: String) -> indicatif::ProgressBar {
    let bar = match len {
        Some(len) => indicatif::ProgressBar::new(len),
        None => indicatif::ProgressBar::new_spinner(),
    }
    .with_finish(indicatif::ProgressFinish::AndClear);
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

/// A progress bar for reading `bytes` of the text file `name` (CSV, also gzipped: the bar
/// counts the bytes of the file as stored).
pub(crate) fn progress_bar(
    progress: Progress,
    name: &str,
    bytes: u64,
) -> Option<indicatif::ProgressBar> {
    progress.wanted(bytes).then(|| {
        new_bar(
            Some(bytes),
            "[{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {wide_msg}",
            name.to_string(),
        )
    })
}

/// A progress bar for reading sheet `sheet` of the workbook `name` (`file_bytes` big). With
/// the size of the sheet's XML known (`part_bytes`: the fast scanner's path counts them) the
/// bar shows the share read; without it (calamine) a count of rows.
pub(crate) fn sheet_progress_bar(
    progress: Progress,
    name: &str,
    file_bytes: u64,
    sheet: &str,
    part_bytes: Option<u64>,
) -> Option<indicatif::ProgressBar> {
    progress.wanted(file_bytes).then(|| {
        let message = format!("{name}, sheet '{sheet}'");
        match part_bytes {
            Some(len) => new_bar(
                Some(len),
                "[{bar:30}] {percent:>3}% eta {eta} {wide_msg}",
                message,
            ),
            None => new_bar(
                None,
                "{spinner} {human_pos} rows ({per_sec}) {wide_msg}",
                message,
            ),
        }
    })
}

/// A progress bar for reading the `rows` rows of the Parquet file `name` (`file_bytes` big).
pub(crate) fn rows_progress_bar(
    progress: Progress,
    name: &str,
    file_bytes: u64,
    rows: u64,
) -> Option<indicatif::ProgressBar> {
    progress.wanted(file_bytes).then(|| {
        new_bar(
            Some(rows),
            "[{bar:30}] {human_pos}/{human_len} rows {per_sec} eta {eta} {wide_msg}",
            name.to_string(),
        )
    })
}

/// A reader that hashes every byte that passes through it (and moves the progress bar).
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    progress: Option<indicatif::ProgressBar>,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            progress: None,
        }
    }

    /// Moves `bar` as the bytes pass.
    pub(crate) fn with_progress(mut self, bar: Option<indicatif::ProgressBar>) -> Self {
        self.progress = bar;
        self
    }

    /// Reads what is left (so the hash covers the whole file) and returns hash and size.
    pub(crate) fn finish(mut self) -> io::Result<(String, u64)> {
        io::copy(
            &mut self.inner,
            &mut HashSink(&mut self.hasher, &mut self.bytes),
        )?;
        if let Some(bar) = self.progress.take() {
            bar.finish_and_clear();
        }
        Ok((hex(&self.hasher.finalize()), self.bytes))
    }
}

struct HashSink<'a>(&'a mut Sha256, &'a mut u64);

impl io::Write for HashSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        *self.1 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        if let Some(bar) = &self.progress {
            bar.set_position(self.bytes);
        }
        Ok(n)
    }
}

/// How many rows of a sheet are searched for a header before the sheet is passed over (the
/// readers bound those rows' length).
pub const HEADER_SEARCH_ROWS: u64 = 50;

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// SHA-256 of a whole file.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        // A FIFO would block and a device may never end: never opened.
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it is a {}, not a regular file",
                if meta.is_dir() {
                    "folder"
                } else {
                    special_kind(&meta.file_type())
                }
            ),
        ));
    }
    let f = std::fs::File::open(path)?;
    let (h, _) = HashingReader::new(f).finish()?;
    Ok(h)
}

/// Expands the command line's FILES|DIRS into the files to read, in sorted path order.
///
/// Files named explicitly are always returned (and fail later if unusable). Folders are read
/// recursively (exports are often kept in month subfolders), each folder's entries in sorted
/// order; a file is taken when it has an input extension, and every other entry is returned in
/// `skipped` with the reason: hidden files and folders (a name starting with `.`), files of
/// other types, entries that are not regular files (FIFO, socket, device), broken symbolic
/// links, and a file or folder reached a second time through a symbolic link (so a link loop
/// ends, and no file is read twice). A folder that cannot be listed is an error: a report must
/// not silently lack the files it holds.
pub fn expand_inputs(args: &[PathBuf]) -> Result<ExpandedInputs, IngestError> {
    let mut walk = Walk::default();
    let mut files = Vec::new();
    for arg in args {
        let meta = std::fs::metadata(arg).map_err(|source| IngestError::Io {
            file: arg.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            walk.folder(arg)?;
        } else if meta.is_file() {
            files.push(arg.clone());
        } else {
            // A FIFO never ends or blocks, a device may be endless: refused before opening.
            return Err(IngestError::NotARegularFile {
                file: arg.display().to_string(),
                kind: special_kind(&meta.file_type()),
            });
        }
    }
    files.append(&mut walk.files);
    if files.is_empty() {
        if let Some(folder) = args.iter().find(|a| a.is_dir()) {
            return Err(IngestError::EmptyFolder {
                folder: folder.display().to_string(),
                skipped: skipped_summary(&walk.skipped),
            });
        }
    }
    files.sort();
    files.dedup();
    walk.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(ExpandedInputs {
        files,
        skipped: walk.skipped,
    })
}

/// The first few skipped entries with their reasons, for the empty-folder error.
fn skipped_summary(skipped: &[SkippedInput]) -> String {
    const SHOWN: usize = 5;
    if skipped.is_empty() {
        return String::new();
    }
    let n = skipped.len();
    let mut text = format!("; {n} other {} not read: ", plural(n, "entry", "entries"));
    let listed: Vec<String> = skipped
        .iter()
        .take(SHOWN)
        .map(|s| format!("{} ({})", s.path.display(), s.reason))
        .collect();
    text.push_str(&listed.join(", "));
    if skipped.len() > SHOWN {
        text.push_str(&format!(", and {} more", skipped.len() - SHOWN));
    }
    text
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// The state of a walk through the named folders.
#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    skipped: Vec<SkippedInput>,
    /// Folders and files already taken, by their real path (symbolic links resolved), with the
    /// path they were first taken as.
    seen: std::collections::HashMap<PathBuf, PathBuf>,
}

impl Walk {
    /// Reads a folder and its subfolders, depth first, entries in sorted order.
    fn folder(&mut self, dir: &Path) -> Result<(), IngestError> {
        let io = |source| IngestError::Io {
            file: dir.display().to_string(),
            source,
        };
        // A folder named twice (or named inside another named one) is read once.
        let real = std::fs::canonicalize(dir).map_err(io)?;
        if let Some(first) = self.seen.get(&real) {
            let reason = format!("folder already read as {}", first.display());
            self.skip(dir, reason);
            return Ok(());
        }
        self.seen.insert(real, dir.to_path_buf());
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            entries.push((entry.file_name(), entry.path()));
        }
        entries.sort();
        for (name, path) in entries {
            self.entry(&name.to_string_lossy(), &path)?;
        }
        Ok(())
    }

    /// Takes, skips or descends into one entry of a folder. A symbolic link to a file is
    /// followed; a link to a folder is not (listed instead), so a walk never leaves the named
    /// folders and never loops.
    fn entry(&mut self, name: &str, path: &Path) -> Result<(), IngestError> {
        let link = std::fs::symlink_metadata(path).map_err(|source| IngestError::Io {
            file: path.display().to_string(),
            source,
        })?;
        let is_link = link.file_type().is_symlink();
        // What the entry is, symbolic links followed.
        let meta = if is_link {
            match std::fs::metadata(path) {
                Ok(m) => m,
                Err(e) => {
                    let reason = if is_link_loop(&e) {
                        "symbolic link loop".to_string()
                    } else if e.kind() == io::ErrorKind::NotFound {
                        "broken symbolic link (its target does not exist)".to_string()
                    } else {
                        format!("symbolic link that cannot be followed: {e}")
                    };
                    self.skip(path, reason);
                    return Ok(());
                }
            }
        } else {
            link
        };
        let hidden = name.starts_with('.');
        if meta.is_dir() {
            if hidden {
                self.skip(path, "hidden folder (not searched)".into());
            } else if is_link {
                self.skip(
                    path,
                    "symbolic link to a folder (not followed: name the folder itself to read it)"
                        .into(),
                );
            } else {
                self.folder(path)?;
            }
            return Ok(());
        }
        if hidden {
            self.skip(path, "hidden file".into());
            return Ok(());
        }
        if !meta.is_file() {
            let reason = format!("not a regular file ({})", special_kind(&meta.file_type()));
            self.skip(path, reason);
            return Ok(());
        }
        if !has_input_extension(name) {
            let reason = match Path::new(name).extension() {
                Some(ext) => format!("not an export: .{}", ext.to_string_lossy()),
                None => "not an export: no file extension".to_string(),
            };
            self.skip(path, reason);
            return Ok(());
        }
        // The same file reached twice (a link beside its target, or folders named inside each
        // other) is read once.
        if let Ok(real) = std::fs::canonicalize(path) {
            if let Some(first) = self.seen.get(&real) {
                let reason = format!("the same file as {}", first.display());
                self.skip(path, reason);
                return Ok(());
            }
            self.seen.insert(real, path.to_path_buf());
        }
        self.files.push(path.to_path_buf());
        Ok(())
    }

    fn skip(&mut self, path: &Path, reason: String) {
        self.skipped.push(SkippedInput {
            path: path.to_path_buf(),
            reason,
        });
    }
}

/// True for the operating system's "too many levels of symbolic links" (ELOOP).
fn is_link_loop(e: &io::Error) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const ELOOP: Option<i32> = Some(40);
    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    ))]
    const ELOOP: Option<i32> = Some(62);
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    )))]
    const ELOOP: Option<i32> = None;
    ELOOP.is_some() && e.raw_os_error() == ELOOP
}

/// Names the kind of an entry that is neither a regular file nor a folder.
pub fn special_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_socket() {
            return "socket";
        }
        if t.is_char_device() {
            return "character device";
        }
        if t.is_block_device() {
            return "block device";
        }
    }
    let _ = t;
    "special file"
}

/// A file or folder in the named folders that was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedInput {
    /// The path as found.
    pub path: PathBuf,
    /// Why it was not read, in plain words.
    pub reason: String,
}

/// The result of [`expand_inputs`].
#[derive(Debug, Clone, Default)]
pub struct ExpandedInputs {
    /// Files to read, sorted.
    pub files: Vec<PathBuf>,
    /// Entries in named folders that were not read, with the reason, sorted by path.
    pub skipped: Vec<SkippedInput>,
}
