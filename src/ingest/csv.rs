//! Delimited text: encoding, BOM, delimiter and decimal-comma sniffing in one place, then a
//! streaming read on a second thread (`FastReader`: plain lines split directly, quoted
//! records through `csv_core`, exactly as the `csv` crate reads them). Rows are handed out
//! borrowed, one at a time, in file order.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::{
    read_up_to, CellRef, FileInfo, FileKind, Flow, HashingReader, IngestError, Premap, RowCells,
    RowEvent,
};

/// How much of the file is looked at to decide encoding and delimiter.
const SNIFF_BYTES: usize = 64 * 1024;

/// Longest record among the first [`super::HEADER_SEARCH_ROWS`] (where the header
/// is looked for): a header or a title line is short, so a longer one means the file is not
/// an export (or has lost its line ends), and it is refused before more is read.
pub const MAX_HEADER_AREA_RECORD_BYTES: usize = 1024 * 1024;
/// Longest record anywhere (a usage row with long tag or JSON columns is a few KiB).
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;
/// Most fields in a record (Excel itself stops at 16,384 columns, but a badly saved sheet can
/// leave a row with a hundred thousand empty cells after its data, which is read as usual).
pub const MAX_RECORD_FIELDS: usize = 1_000_000;
/// Record buffers kept for reuse are cut back to this when a long record grew them.
const KEEP_RECORD_BYTES: usize = 64 * 1024;
/// A batch is sent once its records hold this many bytes, whatever their number, so that
/// long records do not multiply the memory in flight.
const BATCH_BYTES: usize = 8 * 1024 * 1024;

/// The text encoding found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextEncoding {
    Utf8,
    Utf8Bom,
    Other(&'static Encoding),
}

/// Reads a CSV (or gzip CSV) file and streams its rows to `on_event`.
pub(crate) fn read<P: Premap>(
    path: &Path,
    name: &str,
    kind: FileKind,
    progress: super::Progress,
    premap: Option<&P>,
    on_event: &mut super::OnEvent<'_, P::Batch>,
) -> Result<FileInfo, IngestError> {
    let io_err = |source: io::Error| IngestError::Io {
        file: name.to_string(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut hashing = HashingReader::new(BufReader::with_capacity(256 * 1024, file))
        .with_progress(super::progress_bar(progress, name, size));
    let result = {
        let mut text: Box<dyn Read + Send> = if kind == FileKind::CsvGz {
            Box::new(flate2::read::MultiGzDecoder::new(&mut hashing))
        } else {
            Box::new(&mut hashing)
        };
        read_text(&mut text, name, kind, premap, on_event)
    };
    let dialect = result?;
    let (sha256, bytes) = hashing.finish().map_err(io_err)?;
    Ok(FileInfo {
        sha256,
        bytes,
        dialect,
    })
}

fn read_text<P: Premap>(
    text: &mut (dyn Read + Send),
    name: &str,
    kind: FileKind,
    premap: Option<&P>,
    on_event: &mut super::OnEvent<'_, P::Batch>,
) -> Result<String, IngestError> {
    let io_err = |source: io::Error| {
        if kind == FileKind::CsvGz {
            IngestError::NotASpreadsheet {
                file: name.to_string(),
                reason: format!("the gzip data cannot be decompressed: {source}"),
            }
        } else {
            IngestError::Io {
                file: name.to_string(),
                source,
            }
        }
    };
    let mut prefix = vec![0u8; SNIFF_BYTES];
    let n = read_up_to(text, &mut prefix).map_err(io_err)?;
    prefix.truncate(n);
    if n == 0 {
        return Err(IngestError::Empty {
            file: name.to_string(),
        });
    }
    let at_end = n < SNIFF_BYTES;
    let encoding = sniff_encoding(&prefix, at_end);
    if let TextEncoding::Utf8 | TextEncoding::Utf8Bom = encoding {
        if looks_binary(&prefix) {
            return Err(IngestError::NotASpreadsheet {
                file: name.to_string(),
                reason: "it holds binary data, not text".into(),
            });
        }
    }
    match encoding {
        TextEncoding::Utf8 | TextEncoding::Utf8Bom => {
            let skip = if encoding == TextEncoding::Utf8Bom {
                3
            } else {
                0
            };
            let sample = String::from_utf8_lossy(&prefix[skip..]).into_owned();
            let delimiter = sniff_delimiter(&sample);
            let label = if skip == 3 { "UTF-8 with BOM" } else { "UTF-8" };
            let cr_only = is_cr_only(&prefix);
            let chained = Cursor::new(prefix).chain(text);
            let mut reader = CrToLf {
                inner: chained,
                on: cr_only,
            };
            if skip == 3 {
                let mut bom = [0u8; 3];
                read_up_to(&mut reader, &mut bom).map_err(io_err)?;
            }
            stream(reader, name, delimiter, premap, on_event)?;
            Ok(dialect_label(label, delimiter))
        }
        TextEncoding::Other(enc) => {
            // Non-UTF-8 text (UTF-16 "Unicode text" exports, Windows-1252): decode whole.
            let mut all = prefix;
            text.read_to_end(&mut all).map_err(io_err)?;
            let (decoded, _, _) = enc.decode(&all);
            if looks_binary(decoded.as_bytes()) {
                return Err(IngestError::NotASpreadsheet {
                    file: name.to_string(),
                    reason: "it holds binary data, not text".into(),
                });
            }
            let mut end = decoded.len().min(SNIFF_BYTES);
            while !decoded.is_char_boundary(end) {
                end -= 1;
            }
            let delimiter = sniff_delimiter(&decoded[..end]);
            let cr_only = is_cr_only(decoded.as_bytes());
            let reader = CrToLf {
                inner: Cursor::new(decoded.as_bytes()),
                on: cr_only,
            };
            stream(reader, name, delimiter, premap, on_event)?;
            Ok(dialect_label(enc.name(), delimiter))
        }
    }
}

/// True when the text ends its lines with a carriage return alone (classic Mac OS, some
/// Excel for Mac CSV exports): no line feed at all, but carriage returns.
fn is_cr_only(prefix: &[u8]) -> bool {
    !prefix.contains(&b'\n') && prefix.contains(&b'\r')
}

/// Turns carriage returns into line feeds when `on` (CR-only line endings), so that such a
/// file has rows rather than one long line.
struct CrToLf<R> {
    inner: R,
    on: bool,
}

impl<R: Read> Read for CrToLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.on {
            buf[..n]
                .iter_mut()
                .filter(|b| **b == b'\r')
                .for_each(|b| *b = b'\n');
        }
        Ok(n)
    }
}

fn dialect_label(encoding: &str, delimiter: u8) -> String {
    let d = match delimiter {
        b',' => "comma",
        b';' => "semicolon",
        b'\t' => "tab",
        _ => "other",
    };
    format!("{encoding}, {d}-delimited")
}

fn sniff_encoding(prefix: &[u8], at_end: bool) -> TextEncoding {
    if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return TextEncoding::Utf8Bom;
    }
    if prefix.starts_with(&[0xFF, 0xFE]) {
        return TextEncoding::Other(UTF_16LE);
    }
    if prefix.starts_with(&[0xFE, 0xFF]) {
        return TextEncoding::Other(UTF_16BE);
    }
    match std::str::from_utf8(prefix) {
        Ok(_) => TextEncoding::Utf8,
        // A multi-byte character cut by the sniff window is still UTF-8.
        Err(e) if !at_end && e.error_len().is_none() => TextEncoding::Utf8,
        Err(_) => TextEncoding::Other(WINDOWS_1252),
    }
}

/// NUL bytes or many control characters mean the file is not text.
fn looks_binary(sample: &[u8]) -> bool {
    let window = &sample[..sample.len().min(8192)];
    if window.is_empty() {
        return false;
    }
    let control = window
        .iter()
        .filter(|&&b| b < 0x09 || (b > 0x0D && b < 0x20) || b == 0x7F)
        .count();
    window.contains(&0) || control * 20 > window.len()
}

/// Picks the delimiter among `,` `;` and tab: the one that splits the most lines into the
/// same number of fields (title rows above the header do not disturb the mode).
fn sniff_delimiter(sample: &str) -> u8 {
    let lines: Vec<&str> = sample
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(50)
        .collect();
    let mut best = (b',', 0usize, 0usize);
    for d in [b',', b';', b'\t'] {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, d)).collect();
        let mut freq = std::collections::BTreeMap::new();
        for &c in counts.iter().filter(|&&c| c > 0) {
            *freq.entry(c).or_insert(0usize) += 1;
        }
        if let Some((&mode, &lines_at_mode)) =
            freq.iter().max_by_key(|(count, lines)| (**lines, **count))
        {
            if (lines_at_mode, mode) > (best.1, best.2) {
                best = (d, lines_at_mode, mode);
            }
        }
    }
    best.0
}

fn count_outside_quotes(line: &str, delimiter: u8) -> usize {
    let mut inside = false;
    let mut n = 0;
    for b in line.bytes() {
        if b == b'"' {
            inside = !inside;
        } else if b == delimiter && !inside {
            n += 1;
        }
    }
    n
}

/// A parsed record: the fields' bytes one after another, and where each field ends. Checked
/// as UTF-8 once, as a whole (the common case), or kept as bytes whose fields are checked one
/// by one (a file with some invalid bytes).
struct Record {
    data: Storage,
    ends: Vec<usize>,
    /// Bytes between one field's end and the next one's start: 1 for a line kept as read
    /// (the delimiters stay in), 0 for csv_core's unescaped fields.
    gap: usize,
}

enum Storage {
    /// Every field is valid UTF-8.
    Text(String),
    Bytes(Vec<u8>),
}

impl Record {
    fn new() -> Record {
        Record {
            data: Storage::Bytes(Vec::new()),
            ends: Vec::new(),
            gap: 0,
        }
    }

    /// Takes the byte buffer out for reuse (the record is left empty).
    fn take_bytes(&mut self) -> Vec<u8> {
        match std::mem::replace(&mut self.data, Storage::Bytes(Vec::new())) {
            Storage::Text(t) => t.into_bytes(),
            Storage::Bytes(b) => b,
        }
    }

    /// Stores `bytes` as the record's fields, as text when every field is valid UTF-8.
    fn set_bytes(&mut self, bytes: Vec<u8>) {
        // Valid as a whole is not enough: a field must not end inside a character. (A field
        // after a delimiter starts on a boundary: the delimiter is one ASCII byte.)
        self.data = match String::from_utf8(bytes) {
            Ok(t) if self.ends.iter().all(|&e| t.is_char_boundary(e)) => Storage::Text(t),
            Ok(t) => Storage::Bytes(t.into_bytes()),
            Err(e) => Storage::Bytes(e.into_bytes()),
        };
    }

    fn row(&self) -> CsvRow<'_> {
        CsvRow::Parsed(self)
    }

    /// Bytes held by the record's fields.
    fn size(&self) -> usize {
        match &self.data {
            Storage::Text(t) => t.len(),
            Storage::Bytes(b) => b.len(),
        }
    }
}

enum CsvRow<'a> {
    Parsed(&'a Record),
    /// A record of the `csv` crate's reader (the reference the fast reader is tested against).
    #[cfg(test)]
    Bytes(&'a csv::ByteRecord),
}

/// The text shown for a CSV field whose bytes are not valid in the file's encoding.
pub(crate) const INVALID_TEXT: &str = "(invalid UTF-8 bytes)";

/// A field's bytes as a cell.
fn bytes_cell(b: &[u8]) -> CellRef<'_> {
    if b.is_empty() {
        return CellRef::Empty;
    }
    match std::str::from_utf8(b) {
        Ok(s) => CellRef::Text(s),
        Err(_) => CellRef::Error(INVALID_TEXT),
    }
}

impl RowCells for CsvRow<'_> {
    fn len(&self) -> usize {
        match self {
            CsvRow::Parsed(r) => r.ends.len(),
            #[cfg(test)]
            CsvRow::Bytes(b) => b.len(),
        }
    }
    // One variant outside tests.
    #[allow(clippy::infallible_destructuring_match)]
    fn cell(&self, index: usize) -> CellRef<'_> {
        // Records end at LF (so line numbers count CRLF files right); the CR of a CRLF line
        // ending stays on the last field and is dropped here.
        let last = index + 1 == self.len();
        let record = match self {
            CsvRow::Parsed(r) => r,
            #[cfg(test)]
            CsvRow::Bytes(b) => {
                let field = b.get(index).map(|b| match b.last() {
                    Some(b'\r') if last => &b[..b.len() - 1],
                    _ => b,
                });
                return field.map_or(CellRef::Empty, bytes_cell);
            }
        };
        let Some(&end) = record.ends.get(index) else {
            return CellRef::Empty;
        };
        let start = match index {
            0 => 0,
            _ => record.ends[index - 1] + record.gap,
        };
        match &record.data {
            Storage::Text(t) => {
                let field = t.get(start..end).unwrap_or_default();
                let field = match field.strip_suffix('\r') {
                    Some(cut) if last => cut,
                    _ => field,
                };
                match field {
                    "" => CellRef::Empty,
                    s => CellRef::Text(s),
                }
            }
            Storage::Bytes(b) => {
                let field = b.get(start..end).unwrap_or_default();
                match field.last() {
                    Some(b'\r') if last => bytes_cell(&field[..field.len() - 1]),
                    _ => bytes_cell(field),
                }
            }
        }
    }
}

/// Appends the positions of `byte` in `line` to `out`, eight bytes at a time: fields are a
/// few bytes apart, too close for a `memchr` call per field to pay.
fn push_positions(line: &[u8], byte: u8, out: &mut Vec<usize>) {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let pattern = u64::from_le_bytes([byte; 8]);
    let mut chunks = line.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // Bytes equal to `byte` become zero; the high bit of each zero byte is then set,
        // exactly (no borrow runs from one byte into the next).
        let x = u64::from_le_bytes(word) ^ pattern;
        let mut hits = !(((x & LOW7) + LOW7) | x | LOW7);
        while hits != 0 {
            out.push(at + hits.trailing_zeros() as usize / 8);
            hits &= hits - 1;
        }
        at += 8;
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        if b == byte {
            out.push(at + i);
        }
    }
}

/// The CSV reader of the parsing thread. Lines without a quote (nearly all of them) are split
/// at the delimiter directly; a line with a quote is handed to `csv_core`, the state machine
/// under the `csv` crate, from the start of its record. The records, their true 1-based line
/// numbers (empty lines skipped but counted) and a BOM at the very start are exactly those of
/// the `csv` crate's reader configured as [`csv_reader`] (a test compares the two).
struct FastReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// The unread bytes are `buf[pos..len]`.
    pos: usize,
    len: usize,
    eof: bool,
    /// The line at `pos`.
    line: u64,
    started: bool,
    delimiter: u8,
    core: csv_core::Reader,
    /// Records read so far (the first ones have the tighter length limit).
    records: u64,
    /// The line of the record refused as too long.
    refused_at: u64,
}

/// Why a record is refused: the error the reading thread reports.
fn too_long(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

impl<R: Read> FastReader<R> {
    fn new(inner: R, delimiter: u8) -> Self {
        let mut core = csv_core::ReaderBuilder::new()
            .delimiter(delimiter)
            .terminator(csv_core::Terminator::Any(b'\n'))
            .build();
        // csv_core strips a BOM from the first input it is given, wherever in the file that
        // is; this reader strips the one at the start itself. An empty line read first (a
        // line feed at the start of a record is skipped) leaves csv_core where it was, but
        // no longer at its first input.
        let _ = core.read_record(b"\n", &mut [0u8; 1], &mut [0usize; 1]);
        FastReader {
            inner,
            buf: vec![0; 256 * 1024],
            pos: 0,
            len: 0,
            eof: false,
            line: 1,
            started: false,
            delimiter,
            core,
            records: 0,
            refused_at: 0,
        }
    }

    /// The longest record allowed now.
    fn max_bytes(&self) -> usize {
        if self.records < super::HEADER_SEARCH_ROWS {
            MAX_HEADER_AREA_RECORD_BYTES
        } else {
            MAX_RECORD_BYTES
        }
    }

    /// The error for a record at `row` longer than `max` bytes.
    fn refuse_length(&mut self, row: u64, max: usize) -> io::Error {
        self.refused_at = row;
        let mib = max / (1024 * 1024);
        too_long(if self.records < super::HEADER_SEARCH_ROWS {
            format!(
                "a line longer than {mib} MiB where the header is looked for: a usage export's header and rows are short lines, so this is not one (or its line ends were lost)"
            )
        } else {
            format!(
                "a record longer than {mib} MiB: a usage row is a few KiB at most (a quote left open can run a record to the end of the file)"
            )
        })
    }

    /// The error for a record at `row` with more than [`MAX_RECORD_FIELDS`] fields.
    fn refuse_fields(&mut self, row: u64) -> io::Error {
        self.refused_at = row;
        too_long(format!(
            "a record with more than {MAX_RECORD_FIELDS} fields: a usage export has a few dozen columns"
        ))
    }

    /// Moves the unread bytes to the front, grows the buffer when they fill it, reads more.
    fn fill(&mut self) -> io::Result<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
        }
        if self.len == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.len += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads the next record into `record`; returns its line number, `None` at the end.
    fn read(&mut self, record: &mut Record) -> io::Result<Option<u64>> {
        let mut bytes = record.take_bytes();
        bytes.clear();
        bytes.shrink_to(KEEP_RECORD_BYTES);
        record.ends.clear();
        record.ends.shrink_to(KEEP_RECORD_BYTES / 8);
        let row = self.read_into(&mut bytes, &mut record.ends, &mut record.gap);
        record.set_bytes(bytes);
        if let Ok(Some(_)) = row {
            self.records += 1;
        }
        row
    }

    fn read_into(
        &mut self,
        bytes: &mut Vec<u8>,
        ends: &mut Vec<usize>,
        gap: &mut usize,
    ) -> io::Result<Option<u64>> {
        // A BOM at the very start (as csv_core strips it), then empty lines, are skipped.
        loop {
            if self.pos == self.len || (!self.started && self.len - self.pos < 3 && !self.eof) {
                if self.eof {
                    return Ok(None);
                }
                self.fill()?;
                continue;
            }
            if !self.started {
                self.started = true;
                if self.buf[self.pos..self.len].starts_with(b"\xEF\xBB\xBF") {
                    self.pos += 3;
                }
                continue;
            }
            if self.buf[self.pos] != b'\n' {
                break;
            }
            self.pos += 1;
            self.line += 1;
        }
        let row = self.line;
        let max = self.max_bytes();
        loop {
            let rest = &self.buf[self.pos..self.len];
            let line = match memchr::memchr(b'\n', rest) {
                Some(k) => &rest[..k],
                None if self.eof => rest,
                None if rest.len() > max => return Err(self.refuse_length(row, max)),
                None => {
                    self.fill()?;
                    continue;
                }
            };
            if line.len() > max {
                return Err(self.refuse_length(row, max));
            }
            if memchr::memchr(b'"', line).is_some() {
                break;
            }
            if line.len() > MAX_RECORD_FIELDS
                && memchr::memchr_iter(self.delimiter, line).count() >= MAX_RECORD_FIELDS
            {
                return Err(self.refuse_fields(row));
            }
            // The line as read; each field ends at a delimiter (or the line's end).
            bytes.extend_from_slice(line);
            push_positions(line, self.delimiter, ends);
            ends.push(line.len());
            *gap = 1;
            let consumed = (line.len() + 1).min(rest.len());
            self.pos += consumed;
            if consumed > line.len() {
                self.line += 1;
            }
            return Ok(Some(row));
        }
        // A quote on the line: csv_core reads the record (which may span lines).
        *gap = 0;
        bytes.resize(bytes.capacity().max(1024), 0);
        ends.resize(ends.capacity().max(64), 0);
        let (mut nout, mut nend) = (0, 0);
        loop {
            let input = &self.buf[self.pos..self.len];
            let (result, nin, out, end) =
                self.core
                    .read_record(input, &mut bytes[nout..], &mut ends[nend..]);
            self.line += memchr::memchr_iter(b'\n', &input[..nin]).count() as u64;
            self.pos += nin;
            nout += out;
            nend += end;
            match result {
                csv_core::ReadRecordResult::InputEmpty => {
                    if !self.eof {
                        self.fill()?;
                    }
                }
                csv_core::ReadRecordResult::OutputFull if nout > max => {
                    return Err(self.refuse_length(row, max));
                }
                csv_core::ReadRecordResult::OutputFull => bytes.resize(bytes.len() * 2, 0),
                csv_core::ReadRecordResult::OutputEndsFull if nend >= MAX_RECORD_FIELDS => {
                    return Err(self.refuse_fields(row));
                }
                csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
                csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => {
                    bytes.truncate(nout);
                    ends.truncate(nend);
                    return Ok(Some(row));
                }
            }
        }
    }
}

#[cfg(test)]
/// Records the byte offsets of the line feeds that pass through, so that a record's true line
/// number can be found: the csv crate skips empty lines and reports the records after them
/// at the line (and byte) where the empty lines began.
struct LineFeeds<R> {
    inner: R,
    offset: u64,
    feeds: Feeds,
}

#[cfg(test)]
impl<R: Read> Read for LineFeeds<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut feeds = self.feeds.borrow_mut();
        for i in memchr::memchr_iter(b'\n', &buf[..n]) {
            feeds.push_back(self.offset + i as u64);
        }
        self.offset += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
/// The true 1-based line of a record the csv crate placed at `line` / `byte`: plus one for each
/// empty line (a line feed right where the previous one ended) from `byte` on.
fn true_line(feeds: &mut std::collections::VecDeque<u64>, line: u64, byte: u64) -> u64 {
    while feeds.front().is_some_and(|&f| f < byte) {
        feeds.pop_front();
    }
    let skipped = (byte..)
        .zip(feeds.iter())
        .take_while(|(expected, &f)| f == *expected)
        .count() as u64;
    line + skipped
}

/// Rows handed from the parsing thread to the calling thread at a time.
const BATCH_ROWS: usize = 1024;
/// Batches parsed ahead of the calling thread (bounds the memory in flight).
const BATCHES_AHEAD: usize = 4;
/// The parsing thread maps a batch itself when this many batches still wait for the calling
/// thread (see [`Premap`]).
const PREMAP_WHEN_WAITING: usize = 2;

/// Parsed records with their true line numbers; `len` of `rows` are in use (the rest are
/// buffers kept for reuse).
struct Batch {
    rows: Vec<(u64, Record)>,
    len: usize,
}

/// What the parsing thread sends.
enum Parsed<B> {
    /// A batch, with what the [`Premap`] made of it when the parsing thread mapped it.
    Rows(Batch, Option<B>),
    Failed(IngestError),
}

/// Streams the records of `reader` to `on_event`.
///
/// Reading (with the SHA-256 of the bytes as they pass), decompressing and CSV parsing run on
/// a second thread, which hands batches of parsed records to the calling thread; the callback
/// (normalise, aggregate) runs on the calling thread and sees every record in file order,
/// exactly as [`stream_sequential`] would hand them out. At most [`BATCHES_AHEAD`] batches
/// wait, so memory stays flat whatever the file's size. When they are all waiting (the
/// calling thread is the slower), the parsing thread maps the next batch through `premap`
/// before queueing it, so the two threads share the mapping.
fn stream<P: Premap>(
    reader: impl Read + Send,
    name: &str,
    delimiter: u8,
    premap: Option<&P>,
    on_event: &mut super::OnEvent<'_, P::Batch>,
) -> Result<(), IngestError> {
    if start_sheet(delimiter, on_event)? == Flow::SkipSheet {
        return Ok(());
    }
    // Batches queued and not yet taken by the calling thread.
    let waiting = &AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Parsed<P::Batch>>(BATCHES_AHEAD);
        let (recycle_tx, recycle_rx) = std::sync::mpsc::channel::<Batch>();
        let parser = std::thread::Builder::new()
            .name("csv-parser".into())
            .spawn_scoped(scope, move || {
                parse_batches(reader, name, delimiter, premap, (&tx, waiting), &recycle_rx)
            })
            .map_err(|source| IngestError::Io {
                file: name.to_string(),
                source,
            })?;
        let mut result = Ok(());
        'batches: for parsed in rx.iter() {
            waiting.fetch_sub(1, Ordering::Relaxed);
            match parsed {
                Parsed::Rows(batch, premapped) => {
                    if let Some(p) = premapped {
                        if let Err(e) = on_event(RowEvent::Premapped(p)) {
                            result = Err(IngestError::Stopped(e));
                            break 'batches;
                        }
                    }
                    for (row, record) in &batch.rows[..batch.len] {
                        match on_event(RowEvent::Row(*row, &record.row())) {
                            Ok(Flow::Continue) => {}
                            Ok(Flow::SkipSheet) => break 'batches,
                            Err(e) => {
                                result = Err(IngestError::Stopped(e));
                                break 'batches;
                            }
                        }
                    }
                    // The parser may be gone already; then the batch is simply dropped.
                    let _ = recycle_tx.send(batch);
                }
                Parsed::Failed(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        // Stops the parser if it is still running: its next send fails.
        drop(rx);
        if parser.join().is_err() && result.is_ok() {
            result = Err(IngestError::Csv {
                file: name.to_string(),
                row: 0,
                reason: "the CSV reader stopped unexpectedly".into(),
            });
        }
        result
    })
}

/// The parsing thread of [`stream`]: reads records into batches and sends them in order.
fn parse_batches<P: Premap>(
    reader: impl Read,
    name: &str,
    delimiter: u8,
    premap: Option<&P>,
    (tx, waiting): (&std::sync::mpsc::SyncSender<Parsed<P::Batch>>, &AtomicUsize),
    recycled: &std::sync::mpsc::Receiver<Batch>,
) {
    let mut rdr = FastReader::new(reader, delimiter);
    loop {
        let mut batch = recycled.try_recv().unwrap_or(Batch {
            rows: Vec::with_capacity(BATCH_ROWS),
            len: 0,
        });
        batch.len = 0;
        let mut failure = None;
        let mut done = false;
        let mut bytes = 0;
        while batch.len < BATCH_ROWS && bytes < BATCH_BYTES {
            if batch.rows.len() == batch.len {
                batch.rows.push((0, Record::new()));
            }
            let (row, record) = &mut batch.rows[batch.len];
            match rdr.read(record) {
                Ok(Some(line)) => {
                    *row = line;
                    bytes += record.size();
                }
                Ok(None) => {
                    done = true;
                    break;
                }
                Err(e) => {
                    // As the csv crate reported a read error: no position (a record refused
                    // as too long has its line).
                    failure = Some(IngestError::Csv {
                        file: name.to_string(),
                        row: rdr.refused_at,
                        reason: e.to_string(),
                    });
                    break;
                }
            }
            batch.len += 1;
        }
        if batch.len > 0 && send_batch(tx, waiting, batch, premap).is_err() {
            return;
        }
        if let Some(e) = failure {
            waiting.fetch_add(1, Ordering::Relaxed);
            let _ = tx.send(Parsed::Failed(e));
            return;
        }
        if done {
            return;
        }
    }
}

/// Queues `batch`; when the calling thread is behind (at least [`PREMAP_WHEN_WAITING`]
/// batches still wait for it), maps it through `premap` first. Fails when the calling thread
/// has stopped listening.
fn send_batch<P: Premap>(
    tx: &std::sync::mpsc::SyncSender<Parsed<P::Batch>>,
    waiting: &AtomicUsize,
    batch: Batch,
    premap: Option<&P>,
) -> Result<(), ()> {
    let behind = premap
        .is_some_and(|p| p.every_batch() || waiting.load(Ordering::Relaxed) >= PREMAP_WHEN_WAITING);
    let mapped = match premap {
        Some(premap) if behind => {
            let rows: Vec<(u64, CsvRow<'_>)> = batch.rows[..batch.len]
                .iter()
                .map(|(row, record)| (*row, record.row()))
                .collect();
            premap.premap(&mut rows.iter().map(|(n, r)| (*n, r as &dyn RowCells)))
        }
        _ => None,
    };
    waiting.fetch_add(1, Ordering::Relaxed);
    tx.send(Parsed::Rows(batch, mapped)).map_err(drop)
}

/// The one sheet-start event of a CSV file.
fn start_sheet<B>(
    delimiter: u8,
    on_event: &mut super::OnEvent<'_, B>,
) -> Result<Flow, IngestError> {
    on_event(RowEvent::Sheet {
        name: None,
        decimal_comma: delimiter == b';',
    })
    .map_err(IngestError::Stopped)
}

#[cfg(test)]
type Feeds = std::rc::Rc<std::cell::RefCell<std::collections::VecDeque<u64>>>;

#[cfg(test)]
/// The CSV reader over `reader`, with the line feeds it passes recorded for [`row_number`].
fn line_reader<R: Read>(reader: R, delimiter: u8) -> (csv::Reader<LineFeeds<R>>, Feeds) {
    let feeds = Feeds::default();
    let lines = LineFeeds {
        inner: reader,
        offset: 0,
        feeds: feeds.clone(),
    };
    (csv_reader(lines, delimiter), feeds)
}

#[cfg(test)]
/// The true line number of a record at `position`.
fn row_number(feeds: &Feeds, position: Option<&csv::Position>) -> u64 {
    match position {
        Some(p) => true_line(&mut feeds.borrow_mut(), p.line(), p.byte()),
        None => 0,
    }
}

#[cfg(test)]
fn csv_reader<R: Read>(reader: R, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(256 * 1024)
        .from_reader(reader)
}

#[cfg(test)]
fn csv_error(name: &str, e: &csv::Error) -> IngestError {
    IngestError::Csv {
        file: name.to_string(),
        row: e.position().map(|p| p.line()).unwrap_or(0),
        reason: e.to_string(),
    }
}

/// The same stream as [`stream`] on the calling thread alone (the reference the threaded
/// reader is tested against).
#[cfg(test)]
fn stream_sequential(
    reader: impl Read,
    name: &str,
    delimiter: u8,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<(), IngestError> {
    let (mut rdr, feeds) = line_reader(reader, delimiter);
    if start_sheet(delimiter, on_event)? == Flow::SkipSheet {
        return Ok(());
    }
    let mut record = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(name, &e)),
        }
        let row = row_number(&feeds, record.position());
        let flow =
            on_event(RowEvent::Row(row, &CsvRow::Bytes(&record))).map_err(IngestError::Stopped)?;
        if flow == Flow::SkipSheet {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_sniffing_survives_title_rows() {
        assert_eq!(sniff_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(
            sniff_delimiter("Report for March\n\na;b;c\n1;2,5;3\n4;5;6\n"),
            b';'
        );
        assert_eq!(sniff_delimiter("a\tb\tc\n1\t2\t3\n"), b'\t');
        assert_eq!(sniff_delimiter("\"x,y\";b\n\"1,2\";3\n"), b';');
    }

    #[test]
    fn row_numbers_count_empty_lines() {
        let data = b"title\ntitle2\n\nh1,h2\na,b\n,\nc,d\n\n\nTotal,x\n";
        let mut rows = vec![];
        stream(
            &data[..],
            "t",
            b',',
            None::<&crate::ingest::NoPremap>,
            &mut |e| {
                if let RowEvent::Row(n, cells) = e {
                    rows.push((n, cells.cell(0).display()));
                }
                Ok(Flow::Continue)
            },
        )
        .unwrap();
        let numbers: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(numbers, vec![1, 2, 4, 5, 6, 7, 10]);
        assert_eq!(rows[6].1, "Total");
    }

    #[test]
    fn encodings_are_recognised() {
        assert_eq!(
            sniff_encoding(b"\xEF\xBB\xBFa,b", true),
            TextEncoding::Utf8Bom
        );
        assert_eq!(
            sniff_encoding(b"\xFF\xFEa\x00", true),
            TextEncoding::Other(UTF_16LE)
        );
        assert_eq!(
            sniff_encoding(b"caf\xE9", true),
            TextEncoding::Other(WINDOWS_1252)
        );
        // A two-byte character cut at the end of the sniff window is still UTF-8.
        assert_eq!(sniff_encoding(b"caf\xC3", false), TextEncoding::Utf8);
        assert!(looks_binary(b"\x00\x01\x02abc"));
        assert!(!looks_binary(b"a,b\r\n1,2\r\n"));
    }

    /// Every row (number and cells) and the final error, as a reader hands them out.
    fn transcript(
        data: &[u8],
        delimiter: u8,
        threaded: bool,
        stop_at: Option<u64>,
    ) -> (Vec<(u64, Vec<String>)>, Option<String>) {
        let mut rows = vec![];
        let mut on_event = |e: RowEvent<'_>| {
            if let RowEvent::Row(n, cells) = e {
                rows.push((
                    n,
                    (0..cells.len())
                        .map(|i| format!("{:?}", cells.cell(i)))
                        .collect(),
                ));
                if stop_at == Some(n) {
                    return Err(format!("stopped at {n}"));
                }
            }
            Ok(Flow::Continue)
        };
        let result = if threaded {
            stream(
                data,
                "t",
                delimiter,
                None::<&crate::ingest::NoPremap>,
                &mut on_event,
            )
        } else {
            stream_sequential(data, "t", delimiter, &mut on_event)
        };
        (rows, result.err().map(|e| e.to_string()))
    }

    /// Hands out at most `step` bytes a read, so records straddle every buffer boundary.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// The fast reader against the `csv` crate's on random delimited bytes: quotes (doubled,
    /// unclosed, in the middle of fields), line feeds inside quotes, CR, empty lines, BOMs,
    /// invalid UTF-8 and characters cut by a delimiter, lines longer than the buffer, read
    /// whole and a few bytes at a time.
    #[test]
    fn fast_reader_reads_random_text_as_the_csv_crate_does() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let pieces: &[&[u8]] = &[
            b"a",
            b"bc",
            b"12.5",
            b",",
            b";",
            b"\t",
            b"\"",
            b"\"\"",
            b"\n",
            b"\r\n",
            b"\r",
            b"\n\n",
            b" ",
            b"\xEF\xBB\xBF",
            b"\xC3\xA9",
            b"\xC3",
            b"\xA9",
            b"\xFF",
            b"x\"y",
        ];
        for case in 0..3000 {
            let mut data = Vec::new();
            if case % 7 == 0 {
                // Not followed by an empty line: after a BOM csv_core strips, the `csv`
                // crate's positions are one line short (the reference would be wrong there;
                // the fast reader counts the lines as they are).
                data.extend_from_slice(b"\xEF\xBB\xBFa");
            }
            let len = next(60);
            for _ in 0..len {
                data.extend_from_slice(pieces[next(pieces.len() as u64) as usize]);
            }
            if case % 500 == 3 {
                // A line (or a quoted field) longer than the reader's buffer.
                let quoted = case % 1000 == 3;
                if quoted {
                    data.push(b'"');
                }
                data.extend(std::iter::repeat_n(b'z', 300 * 1024));
                data.extend_from_slice(if quoted { b"\",q\n1,2" } else { b",q\n1,2" });
            }
            let delimiter = [b',', b';', b'\t'][next(3) as usize];
            if data.starts_with(b"\xEF\xBB\xBF\n") {
                // Checked below: the reference is wrong here.
                continue;
            }
            let reference = transcript(&data, delimiter, false, None);
            assert_eq!(
                transcript(&data, delimiter, true, None),
                reference,
                "{:?}",
                String::from_utf8_lossy(&data)
            );
            let step = 1 + next(9) as usize;
            let mut rows = vec![];
            let trickled = stream(
                Trickle(&data, step),
                "t",
                delimiter,
                None::<&crate::ingest::NoPremap>,
                &mut |e| {
                    if let RowEvent::Row(n, cells) = e {
                        let cells = (0..cells.len()).map(|i| format!("{:?}", cells.cell(i)));
                        rows.push((n, cells.collect::<Vec<_>>()));
                    }
                    Ok(Flow::Continue)
                },
            );
            assert!(trickled.is_ok());
            assert_eq!(
                rows,
                reference.0,
                "{:?}, {step} bytes a read",
                String::from_utf8_lossy(&data)
            );
        }
        // A record after a BOM and an empty line is on line 2 (the `csv` crate says 1).
        let rows = transcript(b"\xEF\xBB\xBF\na,b", b',', true, None).0;
        assert_eq!(
            rows,
            vec![(
                2,
                vec![r#"Text("a")"#.to_string(), r#"Text("b")"#.to_string()]
            )]
        );
    }

    #[test]
    fn delimiter_positions_are_found_eight_bytes_at_a_time() {
        for line in [
            &b""[..],
            b",",
            b"a,b",
            b",,,,,,,,,,,,,,,,,",
            b"\xAC,\x80\x2C\xFF,,0123456789,abcdefgh,\x2D\x2B",
        ] {
            for byte in [b',', b';', 0x80, 0xFF, 0] {
                let mut found = vec![];
                push_positions(line, byte, &mut found);
                let expected: Vec<usize> = memchr::memchr_iter(byte, line).collect();
                assert_eq!(found, expected, "{line:?} {byte}");
            }
        }
    }

    #[test]
    fn threaded_reader_hands_out_what_the_sequential_one_does() {
        let mut inputs: Vec<(Vec<u8>, u8)> = vec![
            (b"title\n\nh1,h2\r\na,\"b\nc\"\r\n\n\n,\nd,e".to_vec(), b','),
            (b"a;b\n1,5;2\n".to_vec(), b';'),
            // An unterminated quote: the same rows, then the same error.
            (b"a,b\n1,2\n\"x,3\n".to_vec(), b','),
        ];
        // Many batches, ragged rows, empty lines, CRLF.
        let mut big = b"h1,h2,h3\r\n".to_vec();
        for i in 0..(3 * BATCH_ROWS + 17) {
            big.extend_from_slice(format!("{i},x{i},\"q,{i}\"\r\n").as_bytes());
            if i % 97 == 0 {
                big.extend_from_slice(b"\r\n\n");
            }
            if i % 101 == 0 {
                big.extend_from_slice(b"short\n");
            }
        }
        inputs.push((big, b','));
        for dir in ["samples", "tests/fixtures"] {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.ends_with(".csv") {
                    let bytes = std::fs::read(e.path()).unwrap();
                    let d = sniff_delimiter(&String::from_utf8_lossy(&bytes));
                    inputs.push((bytes, d));
                }
            }
        }
        assert!(inputs.len() > 8, "the samples were found");
        for (data, d) in &inputs {
            let seq = transcript(data, *d, false, None);
            assert_eq!(transcript(data, *d, true, None), seq);
            // Stopping part-way (a callback error) stops both at the same row.
            if let Some((n, _)) = seq.0.get(seq.0.len() / 2) {
                assert_eq!(
                    transcript(data, *d, true, Some(*n)),
                    transcript(data, *d, false, Some(*n))
                );
            }
        }
    }
}
