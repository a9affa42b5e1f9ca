//! Delimited text: encoding, BOM, delimiter and decimal-comma sniffing in one place, then a
//! streaming read with the `csv` crate. Rows are handed out borrowed, one at a time.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};
use std::path::Path;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::{
    read_up_to, CellRef, FileInfo, FileKind, Flow, HashingReader, IngestError, RowCells, RowEvent,
};

/// How much of the file is looked at to decide encoding and delimiter.
const SNIFF_BYTES: usize = 64 * 1024;

/// The text encoding found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextEncoding {
    Utf8,
    Utf8Bom,
    Other(&'static Encoding),
}

/// Reads a CSV (or gzip CSV) file and streams its rows to `on_event`.
pub(crate) fn read(
    path: &Path,
    name: &str,
    kind: FileKind,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<FileInfo, IngestError> {
    let io_err = |source: io::Error| IngestError::Io {
        file: name.to_string(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let mut hashing = HashingReader::new(BufReader::with_capacity(256 * 1024, file));
    let result = {
        let mut text: Box<dyn Read> = if kind == FileKind::CsvGz {
            Box::new(flate2::read::MultiGzDecoder::new(&mut hashing))
        } else {
            Box::new(&mut hashing)
        };
        read_text(&mut text, name, kind, on_event)
    };
    let dialect = result?;
    let (sha256, bytes) = hashing.finish().map_err(io_err)?;
    Ok(FileInfo {
        sha256,
        bytes,
        dialect,
    })
}

fn read_text(
    text: &mut dyn Read,
    name: &str,
    kind: FileKind,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
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
            stream(reader, name, delimiter, on_event)?;
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
            stream(reader, name, delimiter, on_event)?;
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

struct CsvRow<'a>(&'a csv::ByteRecord);

/// The text shown for a CSV field whose bytes are not valid in the file's encoding.
pub(crate) const INVALID_TEXT: &str = "(invalid UTF-8 bytes)";

impl RowCells for CsvRow<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn cell(&self, index: usize) -> CellRef<'_> {
        // Records end at LF (so line numbers count CRLF files right); the CR of a CRLF line
        // ending stays on the last field and is dropped here.
        let field = self.0.get(index).map(|b| match b.last() {
            Some(b'\r') if index + 1 == self.0.len() => &b[..b.len() - 1],
            _ => b,
        });
        match field {
            Some(b) if !b.is_empty() => match std::str::from_utf8(b) {
                Ok(s) => CellRef::Text(s),
                Err(_) => CellRef::Error(INVALID_TEXT),
            },
            _ => CellRef::Empty,
        }
    }
}

/// Records the byte offsets of the line feeds that pass through, so that a record's true line
/// number can be found: the csv crate skips empty lines and reports the records after them
/// at the line (and byte) where the empty lines began.
struct LineFeeds<R> {
    inner: R,
    offset: u64,
    feeds: std::rc::Rc<std::cell::RefCell<std::collections::VecDeque<u64>>>,
}

impl<R: Read> Read for LineFeeds<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut feeds = self.feeds.borrow_mut();
        for (i, _) in buf[..n].iter().enumerate().filter(|(_, b)| **b == b'\n') {
            feeds.push_back(self.offset + i as u64);
        }
        self.offset += n as u64;
        Ok(n)
    }
}

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

fn stream(
    reader: impl Read,
    name: &str,
    delimiter: u8,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<(), IngestError> {
    let feeds = std::rc::Rc::new(std::cell::RefCell::new(std::collections::VecDeque::new()));
    let reader = LineFeeds {
        inner: reader,
        offset: 0,
        feeds: feeds.clone(),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(256 * 1024)
        .from_reader(reader);
    let flow = on_event(RowEvent::Sheet {
        name: None,
        decimal_comma: delimiter == b';',
    })
    .map_err(IngestError::Stopped)?;
    if flow == Flow::SkipSheet {
        return Ok(());
    }
    let mut record = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let row = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(IngestError::Csv {
                    file: name.to_string(),
                    row,
                    reason: e.to_string(),
                });
            }
        }
        let row = match record.position() {
            Some(p) => true_line(&mut feeds.borrow_mut(), p.line(), p.byte()),
            None => 0,
        };
        let flow = on_event(RowEvent::Row(row, &CsvRow(&record))).map_err(IngestError::Stopped)?;
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
        stream(&data[..], "t", b',', &mut |e| {
            if let RowEvent::Row(n, cells) = e {
                rows.push((n, cells.cell(0).display()));
            }
            Ok(Flow::Continue)
        })
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
}
