//! The sheets that grow with the number of lines (AI Services, Calculation Lines), written as
//! XML by us, streamed, instead of cell by cell through rust_xlsxwriter.
//!
//! rust_xlsxwriter still writes the whole workbook (every small sheet, styles, charts, defined
//! names, document properties) and each large sheet as a placeholder: its header row, column
//! widths, panes, autofilter, page setup and everything below the lines, plus a *prototype
//! row* (Excel row 2) holding one number cell per format the lines use. [`assemble`] then
//! re-packs the zip: every other part is copied raw (not inflated), and each placeholder sheet
//! is written again with the prototype row replaced by the lines' rows, generated here on the
//! calling thread while a second thread deflates them into the zip. The style ids (`s="N"`)
//! are read back from the prototype row, never guessed.
//!
//! The cells are the ones `write_row` would give rust_xlsxwriter, written the way it writes
//! them: text as a string (an inline string here; never a formula, whatever it starts with),
//! escaped like rust_xlsxwriter escapes it (`&`, `<`, `>`, control characters as `_xHHHH_`,
//! a literal `_xHHHH_` protected as `_x005F_xHHHH_`), an empty text as no cell, a number with
//! its format's style, NaN and infinities as the strings `NAN`, `INF` and `-INF`, and a formula
//! with its cached value. Consecutive calculation lines whose formulas differ only by their
//! row number share them (Excel's shared formulas: the first row of the run carries the text
//! and the run's range, the later rows the formula's index), which halves the sheet's XML;
//! readers expand them back to the same formula text. A test builds the same workbook both
//! ways and compares them cell by cell: values, formulas (expanded) and styles.

use std::borrow::Cow;
use std::io::{Cursor, Read, Write};
use std::sync::mpsc;

use rust_xlsxwriter::Format;

use crate::error::{Error, Result};
use crate::report::cell::{Cell, CellFormula};

/// The size of a chunk of XML handed to the zip thread.
const CHUNK: usize = 256 * 1024;

/// Chunks in flight between the two threads (memory stays flat: CHUNK × this, twice).
const IN_FLIGHT: usize = 4;

fn internal(what: &str) -> Error {
    Error::Internal(format!("writing the workbook: {what}"))
}

/// A sheet whose rows are written here: its name and the function writing its rows.
pub(crate) struct Streamed<'a> {
    /// The sheet name (as given to rust_xlsxwriter).
    pub name: String,
    /// The format of each cell of the placeholder's prototype row, by column.
    pub protos: Vec<&'a Format>,
    /// Writes the rows that replace the placeholder's prototype row, in row order.
    pub rows: WriteRows<'a>,
}

/// A function writing a streamed sheet's rows.
pub(crate) type WriteRows<'a> = Box<dyn FnOnce(&mut Rows<'_>) -> Result<()> + 'a>;

/// Whether a row's formulas are shared with the rows below (the same formulas but for their
/// row numbers): Excel's shared formulas, written once for a run of rows, each later cell
/// naming the formula by its index. Formula `i` of the row gets index `si + i`.
#[derive(Clone, Copy)]
pub(crate) enum Share {
    /// Each formula written in full.
    No,
    /// The first row of a run ending on row `last` (0-based): the formulas in full.
    First { si: u32, last: u32 },
    /// A later row of the run: the formulas by index.
    Later { si: u32 },
}

/// The format every text of a table is written in when its text wraps (a wrapping format,
/// one of the sheet's prototype formats).
pub(crate) struct Wrap<'f> {
    pub fmt: &'f Format,
}

/// Writes rows of cells as sheet XML into chunks sent to the zip thread.
pub(crate) struct Rows<'a> {
    buf: Vec<u8>,
    tx: &'a mpsc::SyncSender<Option<Vec<u8>>>,
    spare: &'a mpsc::Receiver<Vec<u8>>,
    styles: &'a [(&'a Format, u32)],
    int_xf: u32,
    /// Column letters by column index.
    cols: Vec<String>,
    /// The current row's number, as text (1-based).
    row: itoa::Buffer,
    row_len: usize,
    row_text: [u8; 10],
}

impl<'a> Rows<'a> {
    fn xf(&self, f: &Format) -> Result<u32> {
        if let Some((_, id)) = self.styles.iter().find(|(g, _)| std::ptr::eq(*g, f)) {
            return Ok(*id);
        }
        match self.styles.iter().find(|(g, _)| *g == f) {
            Some((_, id)) => Ok(*id),
            None => Err(internal("a cell format without a prototype cell")),
        }
    }

    fn col(&mut self, col: u16) -> &str {
        while self.cols.len() <= col as usize {
            let n = self.cols.len() as u16;
            self.cols.push(col_letters(n));
        }
        &self.cols[col as usize]
    }

    /// `<c r="B7"` (no closing `>`).
    fn cell_start(&mut self, col: u16) {
        self.col(col);
        let Rows {
            buf,
            cols,
            row_text,
            row_len,
            ..
        } = self;
        buf.extend_from_slice(b"<c r=\"");
        buf.extend_from_slice(cols[col as usize].as_bytes());
        buf.extend_from_slice(&row_text[..*row_len]);
        buf.push(b'"');
    }

    fn style(&mut self, xf: u32) {
        if xf > 0 {
            self.buf.extend_from_slice(b" s=\"");
            self.buf
                .extend_from_slice(itoa::Buffer::new().format(xf).as_bytes());
            self.buf.push(b'"');
        }
    }

    /// Starts row `r` (0-based), `height` points tall when given (as rust_xlsxwriter writes a
    /// row whose height was set: `ht` and `customHeight`).
    fn start_row(&mut self, r: u32, height: Option<f64>) {
        let s = self.row.format(r + 1);
        self.row_len = s.len();
        self.row_text[..s.len()].copy_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"<row r=\"");
        self.buf.extend_from_slice(&self.row_text[..self.row_len]);
        if let Some(h) = height {
            self.buf.extend_from_slice(b"\" ht=\"");
            push_number(&mut self.buf, h);
            self.buf.extend_from_slice(b"\" customHeight=\"1");
        }
        self.buf.extend_from_slice(b"\">");
    }

    fn end_row(&mut self) -> Result<()> {
        self.buf.extend_from_slice(b"</row>");
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends the buffered XML to the zip thread.
    fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let next = match self.spare.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) => Vec::with_capacity(CHUNK + CHUNK / 4),
        };
        let full = std::mem::replace(&mut self.buf, next);
        self.tx
            .send(Some(full))
            .map_err(|_| internal("the zip writer stopped"))
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn number(&mut self, col: u16, x: f64, xf: u32) -> Result<()> {
        if !x.is_finite() {
            // rust_xlsxwriter writes these as strings (Excel has no NaN or infinity).
            let s = if x.is_nan() {
                "NAN"
            } else if x > 0.0 {
                "INF"
            } else {
                "-INF"
            };
            return self.string(col, s, xf);
        }
        self.cell_start(col);
        self.style(xf);
        self.buf.extend_from_slice(b"><v>");
        push_number(&mut self.buf, x);
        self.buf.extend_from_slice(b"</v></c>");
        Ok(())
    }

    /// A text cell (never empty: rust_xlsxwriter writes no cell for an empty text).
    fn string(&mut self, col: u16, s: &str, xf: u32) -> Result<()> {
        let s = &*crate::report::cell_text(s);
        self.cell_start(col);
        self.style(xf);
        self.buf.extend_from_slice(b" t=\"inlineStr\"><is><t");
        let ws = ['\t', '\n', ' '];
        if s.starts_with(ws) || s.ends_with(ws) {
            self.buf.extend_from_slice(b" xml:space=\"preserve\"");
        }
        self.buf.push(b'>');
        if needs_escape(s) {
            let once = escape_xml_escapes(s);
            self.buf
                .extend_from_slice(escape_xml_data(&once).as_bytes());
        } else {
            self.buf.extend_from_slice(s.as_bytes());
        }
        self.buf.extend_from_slice(b"</t></is></c>");
        Ok(())
    }

    /// A formula cell with its cached numeric result (`formula` starts with `=`, as given to
    /// `Formula::new`, which drops it).
    fn formula(&mut self, col: u16, formula: &str, value: f64, xf: u32, share: Share, i: u32) {
        let formula = formula.strip_prefix('=').unwrap_or(formula);
        self.cell_start(col);
        self.style(xf);
        match share {
            Share::No => {
                self.buf.extend_from_slice(b"><f>");
                self.buf
                    .extend_from_slice(escape_xml_data(formula).as_bytes());
                self.buf.extend_from_slice(b"</f><v>");
            }
            Share::First { si, last } => {
                self.buf.extend_from_slice(b"><f t=\"shared\" ref=\"");
                let Rows {
                    buf,
                    cols,
                    row_text,
                    row_len,
                    ..
                } = self;
                let letters = cols[col as usize].as_bytes();
                buf.extend_from_slice(letters);
                buf.extend_from_slice(&row_text[..*row_len]);
                buf.push(b':');
                buf.extend_from_slice(letters);
                buf.extend_from_slice(itoa::Buffer::new().format(last + 1).as_bytes());
                buf.extend_from_slice(b"\" si=\"");
                buf.extend_from_slice(itoa::Buffer::new().format(si + i).as_bytes());
                buf.extend_from_slice(b"\">");
                buf.extend_from_slice(escape_xml_data(formula).as_bytes());
                buf.extend_from_slice(b"</f><v>");
            }
            Share::Later { si } => {
                self.buf.extend_from_slice(b"><f t=\"shared\" si=\"");
                self.buf
                    .extend_from_slice(itoa::Buffer::new().format(si + i).as_bytes());
                self.buf.extend_from_slice(b"\"/><v>");
            }
        }
        if value.is_finite() {
            push_number(&mut self.buf, value);
        } else {
            // As the library path: the result is `value.to_string()`, written as given.
            self.buf.extend_from_slice(value.to_string().as_bytes());
        }
        self.buf.extend_from_slice(b"</v></c>");
    }

    /// Writes row `r` (0-based): `cells` from column 0 on, as `write_row` writes them, with the
    /// cells of `formulas` (ascending columns) written as those formulas instead; every text in
    /// `wrap`'s format when given, the row `height` points tall when given.
    pub(crate) fn row(
        &mut self,
        r: u32,
        cells: &[Cell<'_>],
        formulas: &[CellFormula<'_>],
        share: Share,
        wrap: Option<&Wrap<'_>>,
        height: Option<f64>,
    ) -> Result<()> {
        self.start_row(r, height);
        let text_xf = match wrap {
            Some(w) => self.xf(w.fmt)?,
            None => 0,
        };
        let mut fs = formulas.iter().zip(0u32..).peekable();
        for (c, v) in cells.iter().enumerate() {
            let c = c as u16;
            if let Some(((_, text, value, fmt), i)) = fs.next_if(|f| f.0 .0 == c) {
                let xf = self.xf(fmt)?;
                self.formula(c, text, *value, xf, share, i);
                continue;
            }
            match v {
                Cell::Text(s) if !s.is_empty() => self.string(c, s, text_xf)?,
                Cell::Owned(s) if !s.is_empty() => self.string(c, s, text_xf)?,
                // An empty text with the default format: no cell (rust_xlsxwriter drops an
                // unformatted blank).
                Cell::Text(_) | Cell::Owned(_) | Cell::Blank => {}
                Cell::Count(n) => {
                    let xf = self.int_xf;
                    self.number(c, *n as f64, xf)?;
                }
                Cell::Number(x, fmt) => {
                    let xf = self.xf(fmt)?;
                    self.number(c, *x, xf)?;
                }
            }
        }
        // Formulas past the last cell (none today) still get written.
        for ((c, text, value, fmt), i) in fs {
            let xf = self.xf(fmt)?;
            self.formula(*c, text, *value, xf, share, i);
        }
        self.end_row()
    }
}

/// Excel column letters of a 0-based column index.
fn col_letters(mut col: u16) -> String {
    let mut s = Vec::new();
    col += 1;
    while col > 0 {
        let rem = (col - 1) % 26;
        s.push(b'A' + rem as u8);
        col = (col - 1) / 26;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// The 0-based column index of a cell reference's letters (`AB7` -> 27).
fn col_index(r: &str) -> Option<u16> {
    let mut n: u32 = 0;
    let mut any = false;
    for b in r.bytes() {
        if b.is_ascii_uppercase() {
            n = n * 26 + u32::from(b - b'A' + 1);
            any = true;
            if n > 16_384 {
                return None;
            }
        } else {
            break;
        }
    }
    if any {
        u16::try_from(n - 1).ok()
    } else {
        None
    }
}

/// A number as the shortest text that reads back as the same `f64` (integers without `.0`).
fn push_number(buf: &mut Vec<u8>, x: f64) {
    if x.fract() == 0.0 && x.abs() < 9.0e15 && !(x == 0.0 && x.is_sign_negative()) {
        buf.extend_from_slice(itoa::Buffer::new().format(x as i64).as_bytes());
    } else {
        buf.extend_from_slice(zmij::Buffer::new().format_finite(x).as_bytes());
    }
}

/// Whether [`escape_xml_escapes`] or [`escape_xml_data`] would change `s`.
fn needs_escape(s: &str) -> bool {
    s.bytes().any(|b| {
        matches!(b, b'&' | b'<' | b'>' | b'_' | 0xEF) || (b < 0x20 && b != b'\t' && b != b'\n')
    })
}

/// The escape rust_xlsxwriter (like Excel) gives a literal `_xHHHH_` in text, so it is not
/// read as an escaped character: `_x005F_xHHHH_` (the same rule as its `escape_xml_escapes`).
fn escape_xml_escapes(original: &str) -> Cow<'_, str> {
    const LEN: usize = 7; // _xHHHH_
    if !original.contains("_x") {
        return Cow::Borrowed(original);
    }
    let end = original.len();
    let mut escaped = original.to_string();
    for (index, _) in original.rmatch_indices("_x") {
        if index + LEN > end || !original.is_char_boundary(index + (LEN - 1)) {
            continue;
        }
        if !original[index + LEN - 1..].starts_with('_') {
            continue;
        }
        if original[index + 2..index + (LEN - 1)]
            .chars()
            .all(|c| c.is_ascii_hexdigit())
        {
            escaped.replace_range(index..index, "_x005F");
        }
    }
    if escaped == original {
        Cow::Borrowed(original)
    } else {
        Cow::Owned(escaped)
    }
}

/// rust_xlsxwriter's `escape_xml_data`: `&`, `<`, `>`, and the control characters other than
/// tab and newline (and U+FFFE, U+FFFF) as `_xHHHH_`.
fn escape_xml_data(data: &str) -> Cow<'_, str> {
    if !data
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | 0xEF) || (b < 0x20 && b != b'\t' && b != b'\n'))
    {
        return Cow::Borrowed(data);
    }
    fn esc(ch: char) -> Option<Cow<'static, str>> {
        match ch {
            '&' => Some(Cow::Borrowed("&amp;")),
            '<' => Some(Cow::Borrowed("&lt;")),
            '>' => Some(Cow::Borrowed("&gt;")),
            '\t' | '\n' => None,
            '\x00'..='\x1F' | '\u{FFFE}' | '\u{FFFF}' => {
                Some(Cow::Owned(format!("_x{:04X}_", ch as u32)))
            }
            _ => None,
        }
    }
    let Some(first) = data.char_indices().find(|(_, c)| esc(*c).is_some()) else {
        return Cow::Borrowed(data);
    };
    let mut out = String::with_capacity(data.len() + 16);
    out.push_str(&data[..first.0]);
    for ch in data[first.0..].chars() {
        match esc(ch) {
            Some(e) => out.push_str(&e),
            None => out.push(ch),
        }
    }
    Cow::Owned(out)
}

/// The sheet names of `xl/workbook.xml`, in order (attribute values unescaped).
fn sheet_names(workbook_xml: &str) -> Vec<String> {
    let mut names = vec![];
    let mut rest = workbook_xml;
    while let Some(i) = rest.find("<sheet ") {
        rest = &rest[i + 7..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(j) = tag.find(" name=\"").or_else(|| tag.find("name=\"")) {
            let v = &tag[j..];
            let v = &v[v.find('"').map_or(0, |k| k + 1)..];
            let v = &v[..v.find('"').unwrap_or(v.len())];
            names.push(
                v.replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            );
        }
    }
    names
}

/// The style id of each prototype format of a sheet, and of its integer format.
type Styles<'f> = (Vec<(&'f Format, u32)>, u32);

/// A placeholder sheet cut around its prototype row: the XML before it, the style id of each
/// prototype cell by column, the XML after it.
struct Cut {
    before: String,
    ids: Vec<(u16, u32)>,
    after: String,
}

fn cut(xml: String) -> Result<Cut> {
    let start = xml
        .find("<row r=\"2\" ")
        .or_else(|| xml.find("<row r=\"2\">"))
        .ok_or_else(|| internal("a placeholder sheet without its prototype row"))?;
    let end = start
        + xml[start..]
            .find("</row>")
            .ok_or_else(|| internal("an unterminated prototype row"))?
        + "</row>".len();
    let mut ids = vec![];
    let row = &xml[start..end];
    let mut rest = row;
    while let Some(i) = rest.find("<c ") {
        rest = &rest[i + 3..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        let attr = |name: &str| {
            tag.find(name).map(|j| {
                let v = &tag[j + name.len()..];
                &v[..v.find('"').unwrap_or(v.len())]
            })
        };
        let col = attr("r=\"")
            .and_then(col_index)
            .ok_or_else(|| internal("a prototype cell without a reference"))?;
        let xf = match attr(" s=\"") {
            Some(s) => s
                .parse()
                .map_err(|_| internal("a prototype cell with a bad style id"))?,
            None => 0,
        };
        ids.push((col, xf));
    }
    let after = xml[end..].to_string();
    let mut before = xml;
    before.truncate(start);
    Ok(Cut { before, ids, after })
}

/// Re-packs the `placeholder` workbook (rust_xlsxwriter's output) with the rows of each
/// `streamed` sheet written in place of its prototype row, whose column `i` carries the
/// sheet's `protos[i]`; `int` is the format of integer cells (one of each sheet's `protos`).
/// Parts are kept in their order; all but the streamed sheets are copied without being
/// inflated. The zip is written to `out` as it is deflated (a staged file, so a large workbook
/// is never held in memory whole), which is handed back.
pub(crate) fn assemble<W: Write + std::io::Seek + Send>(
    placeholder: &[u8],
    streamed: Vec<Streamed<'_>>,
    int: &Format,
    level: i64,
    out: W,
) -> Result<W> {
    let zip_err = |e: zip::result::ZipError| internal(&e.to_string());
    let mut zin = zip::ZipArchive::new(Cursor::new(placeholder)).map_err(zip_err)?;
    let mut workbook_xml = String::new();
    zin.by_name("xl/workbook.xml")
        .map_err(zip_err)?
        .read_to_string(&mut workbook_xml)
        .map_err(|e| internal(&e.to_string()))?;
    let names = sheet_names(&workbook_xml);
    // Part name -> (cut placeholder, rows writer, the style id of each of its prototype
    // formats and of the integer format); worksheets are numbered in sheet order.
    let mut parts: Vec<(String, Cut, Streamed<'_>, Styles<'_>)> = vec![];
    for s in streamed {
        let pos = names
            .iter()
            .position(|n| *n == s.name)
            .ok_or_else(|| internal(&format!("no sheet named {}", s.name)))?;
        let part = format!("xl/worksheets/sheet{}.xml", pos + 1);
        let mut xml = String::new();
        zin.by_name(&part)
            .map_err(zip_err)?
            .read_to_string(&mut xml)
            .map_err(|e| internal(&e.to_string()))?;
        let c = cut(xml)?;
        let mut styles: Vec<(&Format, u32)> = vec![];
        for (i, f) in s.protos.iter().enumerate() {
            let id = c
                .ids
                .iter()
                .find(|(col, _)| *col as usize == i)
                .map(|(_, id)| *id)
                .ok_or_else(|| internal("a prototype row missing a format"))?;
            styles.push((*f, id));
        }
        let int_xf = match styles.iter().find(|(g, _)| std::ptr::eq(*g, int)) {
            Some((_, id)) => *id,
            None => return Err(internal("the integer format has no prototype cell")),
        };
        parts.push((part, c, s, (styles, int_xf)));
    }
    // The streamed parts in archive order (the order the zip thread asks for them).
    let mut order: Vec<usize> = vec![];
    let mut is_streamed = vec![false; zin.len()];
    for (i, flag) in is_streamed.iter_mut().enumerate() {
        let name = match zin.name_for_index(i) {
            Some(Ok(n)) => n.to_string(),
            _ => continue,
        };
        if let Some(k) = parts.iter().position(|(p, ..)| *p == name) {
            *flag = true;
            order.push(k);
        }
    }
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(level))
        .unix_permissions(0o600)
        .last_modified_time(zip::DateTime::default())
        .large_file(false);
    let mut slots: Vec<Option<(String, Cut, Streamed<'_>, Styles<'_>)>> =
        parts.into_iter().map(Some).collect();

    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Option<Vec<u8>>>(IN_FLIGHT);
        let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
        // The zip thread: copies parts raw and deflates the streamed ones as they arrive.
        // `Ok(None)`: the rows' side hung up first (its own error says why).
        let writer = scope.spawn(move || -> Result<Option<W>> {
            let mut zout = zip::ZipWriter::new(out);
            for (i, streamed) in is_streamed.into_iter().enumerate() {
                if !streamed {
                    let file = zin.by_index_raw(i).map_err(zip_err)?;
                    zout.raw_copy_file(file).map_err(zip_err)?;
                    continue;
                }
                let name = match zin.name_for_index(i) {
                    Some(Ok(n)) => n.to_string(),
                    _ => return Err(internal("a part without a name")),
                };
                zout.start_file(name, options).map_err(zip_err)?;
                loop {
                    match rx.recv() {
                        Ok(Some(chunk)) => {
                            zout.write_all(&chunk)
                                .map_err(|e| internal(&e.to_string()))?;
                            let _ = back_tx.send(chunk);
                        }
                        Ok(None) => break,
                        Err(_) => return Ok(None),
                    }
                }
            }
            Ok(Some(zout.finish().map_err(zip_err)?))
        });
        let produced = (|| -> Result<()> {
            for k in order {
                let Some((_, c, s, (styles, int_xf))) = slots.get_mut(k).and_then(Option::take)
                else {
                    return Err(internal("a sheet streamed twice"));
                };
                let mut rows = Rows {
                    buf: Vec::with_capacity(CHUNK + CHUNK / 4),
                    tx: &tx,
                    spare: &back_rx,
                    styles: &styles,
                    int_xf,
                    cols: vec![],
                    row: itoa::Buffer::new(),
                    row_len: 0,
                    row_text: [0; 10],
                };
                rows.raw(c.before.as_bytes())?;
                (s.rows)(&mut rows)?;
                rows.raw(c.after.as_bytes())?;
                rows.flush()?;
                tx.send(None)
                    .map_err(|_| internal("the zip writer stopped"))?;
            }
            Ok(())
        })();
        drop(tx);
        let written = writer
            .join()
            .map_err(|_| internal("the zip writer panicked"))?;
        match (produced, written) {
            (Ok(()), Ok(Some(bytes))) => Ok(bytes),
            (Err(e), Ok(None)) => Err(e),
            (_, Err(e)) => Err(e),
            (Err(e), Ok(Some(_))) => Err(e),
            (Ok(()), Ok(None)) => Err(internal("the rows ended early")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_rust_xlsxwriter() {
        // Plain text is written as is.
        assert!(!needs_escape("gpt-4o / eu-west-1 · kWh"));
        assert_eq!(escape_xml_data("a<b & c>d"), "a&lt;b &amp; c&gt;d");
        assert_eq!(escape_xml_data("tab\tnl\ncr\r"), "tab\tnl\ncr_x000D_");
        assert_eq!(escape_xml_data("\u{1}\u{FFFF}"), "_x0001__xFFFF_");
        assert_eq!(escape_xml_escapes("a_x00e9_b"), "a_x005F_x00e9_b");
        assert_eq!(escape_xml_escapes("a_x00g9_b _x12"), "a_x00g9_b _x12");
        // A formula-looking text stays text: it is written as a string, nothing is added.
        assert!(!needs_escape("=SUM(A1)+1 @x -3"));
    }

    #[test]
    fn a_row_is_written_like_rust_xlsxwriter_writes_it() {
        let (tx, rx) = mpsc::sync_channel(4);
        let (_back_tx, back_rx) = mpsc::channel();
        let kg = Format::new().set_num_format("0.000");
        let int = Format::new().set_num_format("#,##0");
        let wrap = Format::new().set_text_wrap();
        let styles = [(&int, 3), (&kg, 5), (&wrap, 8)];
        let mut rows = Rows {
            buf: vec![],
            tx: &tx,
            spare: &back_rx,
            styles: &styles,
            int_xf: 3,
            cols: vec![],
            row: itoa::Buffer::new(),
            row_len: 0,
            row_text: [0; 10],
        };
        let cells = [
            Cell::Text(" padded "),
            Cell::Text(""),
            Cell::Owned("=1+1 & <b>".into()),
            Cell::Count(42),
            Cell::Number(0.5, &kg),
            Cell::Number(f64::NAN, &kg),
            Cell::Blank,
        ];
        let formulas = [(6u16, "=C27*2".to_string(), 2.5, &kg)];
        rows.row(
            26,
            &cells,
            &formulas,
            Share::First { si: 7, last: 29 },
            None,
            None,
        )
        .unwrap();
        rows.row(
            27,
            &cells[..1],
            &formulas,
            Share::Later { si: 7 },
            None,
            None,
        )
        .unwrap();
        // Wrapped text (the wrap format's style on every text, none on an empty one) in a row
        // 22.5 points tall.
        rows.row(
            28,
            &[Cell::Text("a long text"), Cell::Text(""), Cell::Count(1)],
            &[],
            Share::No,
            Some(&Wrap { fmt: &wrap }),
            Some(22.5),
        )
        .unwrap();
        rows.flush().unwrap();
        let xml = String::from_utf8(rx.recv().unwrap().unwrap()).unwrap();
        assert_eq!(
            xml,
            concat!(
                r#"<row r="27"><c r="A27" t="inlineStr"><is><t xml:space="preserve"> padded </t></is></c>"#,
                r#"<c r="C27" t="inlineStr"><is><t>=1+1 &amp; &lt;b&gt;</t></is></c>"#,
                r#"<c r="D27" s="3"><v>42</v></c><c r="E27" s="5"><v>0.5</v></c>"#,
                r#"<c r="F27" s="5" t="inlineStr"><is><t>NAN</t></is></c>"#,
                r#"<c r="G27" s="5"><f t="shared" ref="G27:G30" si="7">C27*2</f><v>2.5</v></c></row>"#,
                r#"<row r="28"><c r="A28" t="inlineStr"><is><t xml:space="preserve"> padded </t></is></c>"#,
                r#"<c r="G28" s="5"><f t="shared" si="7"/><v>2.5</v></c></row>"#,
                r#"<row r="29" ht="22.5" customHeight="1"><c r="A29" s="8" t="inlineStr"><is><t>a long text</t></is></c>"#,
                r#"<c r="C29" s="3"><v>1</v></c></row>"#,
            )
        );
    }

    #[test]
    fn numbers_read_back_as_the_same_f64() {
        for x in [
            0.0,
            1.0,
            -2.0,
            1e-7,
            0.1 + 0.2,
            123456.789,
            9.5e15,
            1e300,
            -0.0,
        ] {
            let mut b = vec![];
            push_number(&mut b, x);
            let back: f64 = String::from_utf8(b).unwrap().parse().unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{x}");
        }
    }

    #[test]
    fn column_letters_and_back() {
        for (i, s) in [
            (0u16, "A"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (701, "ZZ"),
            (702, "AAA"),
        ] {
            assert_eq!(col_letters(i), s);
            assert_eq!(col_index(&format!("{s}12")), Some(i));
        }
        assert_eq!(col_index("12"), None);
    }

    #[test]
    fn sheet_names_are_read_in_order() {
        let xml = r#"<sheets><sheet name="Cover" sheetId="1" r:id="rId1"/><sheet name="A &amp; B" sheetId="2" r:id="rId2"/></sheets>"#;
        assert_eq!(sheet_names(xml), vec!["Cover", "A & B"]);
    }
}
