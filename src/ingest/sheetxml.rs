//! The fast reader for `.xlsx` / `.xlsm` workbooks: the small parts (package and workbook
//! relationships, workbook, shared strings, styles) are read with quick-xml, and each worksheet's
//! XML is inflated on one thread and scanned by hand (memchr and byte loops) on another, which
//! hands batches of rows to the calling thread, as the CSV reader does. Memory stays flat: the
//! shared strings are held (cells refer to them), a sheet is streamed, at most a few chunks and
//! batches in flight; a single row longer than 64 MiB is left to calamine (which streams it).
//!
//! A cell reference beyond what calamine's u32 arithmetic holds (`ZZZZZZZ1`, `A4294967296`) is
//! refused with a plain-words error: calamine would panic (debug) or wrap around (release).
//!
//! **The cells are exactly those calamine 0.38's streaming cell reader gives** (the reader this
//! one replaces, still used for `.xlsb`, `.xls` and `.ods`): the same sheets, names and order,
//! the same rows and row numbers, the same values, dates (built-in and custom date formats, the
//! 1904 date system), booleans, errors and empty cells. Every rule below is calamine's, read
//! from its source (`xlsx/mod.rs`, `xlsx/cells_reader.rs`, `formats.rs`, `utils.rs`, MIT). The
//! scanner understands the XML that spreadsheet programs write; **anything else makes it give
//! up** rather than guess ([`Unsupported`]):
//!
//! * a workbook part it does not understand: the whole file is read by calamine;
//! * something in a worksheet it does not understand (comments, CDATA, namespace prefixes,
//!   unknown elements, malformed entities, numbers or references, invalid UTF-8, an I/O or
//!   inflate error ...): calamine reads that sheet again from its start, and the rows already
//!   handed out are skipped, so the caller sees calamine's rows from there on (or calamine's
//!   error). The rows before were the same as calamine's by construction.
//!
//! The tests compare both readers on every workbook under `samples/` and `tests/fixtures/`, and
//! the `xlsx_reader` fuzz target compares them on mutated workbooks.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender};

use calamine::{ExcelDateTime, ExcelDateTimeType};
use chrono::NaiveDateTime;
use memchr::memmem;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{CellRef, Flow, IngestError, RowCells, RowEvent};

/// The fast reader cannot read this faithfully: calamine must (see the module documentation).
#[derive(Debug)]
pub(crate) struct Unsupported;

type Fast<T> = Result<T, Unsupported>;

impl From<quick_xml::Error> for Unsupported {
    fn from(_: quick_xml::Error) -> Self {
        Unsupported
    }
}

impl From<std::io::Error> for Unsupported {
    fn from(_: std::io::Error) -> Self {
        Unsupported
    }
}

impl From<zip::result::ZipError> for Unsupported {
    fn from(_: zip::result::ZipError) -> Self {
        Unsupported
    }
}

/// calamine's `CellFormat`: what a cell style's number format makes of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumFmt {
    Other,
    DateTime,
    TimeDelta,
}

/// The workbook parts the sheets need, read as calamine's `Xlsx::new` reads them.
pub(crate) struct Book {
    /// Sheet names in workbook order (what calamine's `sheet_names` returns).
    pub(crate) sheets: Vec<String>,
    /// The zip part of each sheet, parallel to `sheets`.
    paths: Vec<String>,
    /// The inflated size of each sheet's part as the zip states it, parallel to `sheets`.
    sizes: Vec<Option<u64>>,
    strings: Vec<String>,
    formats: Vec<NumFmt>,
    is_1904: bool,
    /// Lower-cased part names (`\` as `/`) -> names as stored (calamine looks parts up so).
    cache: HashMap<String, String>,
}

type Zip = zip::ZipArchive<BufReader<File>>;
/// A part of the workbook, read as XML.
type Part<'z> = Reader<BufReader<zip::read::ZipFile<'z, BufReader<File>>>>;

/// A quick-xml reader configured as calamine configures its own.
fn xml_reader<R: BufRead>(r: R) -> Reader<R> {
    let mut x = Reader::from_reader(r);
    let c = x.config_mut();
    c.check_end_names = false;
    c.trim_text(false);
    c.check_comments = false;
    c.expand_empty_elements = true;
    x
}

impl Book {
    /// Reads the workbook's small parts; `Err` when anything is not understood (calamine then
    /// reads the whole file, and reports whatever is wrong with it).
    pub(crate) fn open(path: &Path) -> Fast<Book> {
        let file = File::open(path)?;
        let mut zip = zip::ZipArchive::new(BufReader::new(file))?;
        let mut cache = HashMap::with_capacity(zip.len());
        for name in zip.file_names() {
            let name = name?;
            let normalized = name.replace('\\', "/").to_ascii_lowercase();
            if cache.insert(normalized, name.to_string()).is_some() {
                return Err(Unsupported); // two parts differing only in case
            }
        }
        let mut book = Book {
            sheets: vec![],
            paths: vec![],
            sizes: vec![],
            strings: vec![],
            formats: vec![],
            is_1904: false,
            cache,
        };
        let (xl_path, workbook_name) = book.package_relationships(&mut zip)?;
        book.shared_strings(&mut zip, &xl_path)?;
        book.styles(&mut zip, &xl_path)?;
        let rels = book.relationships(&mut zip, &xl_path, &workbook_name)?;
        book.workbook(&mut zip, &xl_path, &workbook_name, &rels)?;
        book.sizes = (0..book.sheets.len())
            .map(|i| {
                let part = book.sheet_part_at(i)?;
                zip.by_name(part).ok().map(|f| f.size())
            })
            .collect();
        Ok(book)
    }

    fn part<'z>(&self, zip: &'z mut Zip, path: &str) -> Fast<Option<Part<'z>>> {
        let name = self
            .cache
            .get(&path.to_ascii_lowercase())
            .map(|s| s.as_str())
            .unwrap_or(path);
        match zip.by_name(name) {
            Ok(f) => Ok(Some(xml_reader(BufReader::new(f)))),
            Err(zip::result::ZipError::FileNotFound) => Ok(None),
            Err(_) => Err(Unsupported),
        }
    }

    /// `_rels/.rels`: where the workbook part is (folder, file name).
    fn package_relationships(&self, zip: &mut Zip) -> Fast<(String, String)> {
        let mut xml = self.part(zip, "_rels/.rels")?.ok_or(Unsupported)?;
        let mut buf = Vec::with_capacity(1024);
        loop {
            buf.clear();
            match xml.read_event_into(&mut buf)? {
                Event::Start(e) if e.local_name().as_ref() == "Relationships" => break,
                Event::Eof => return Err(Unsupported),
                _ => {}
            }
        }
        let mut target = None;
        loop {
            buf.clear();
            match xml.read_event_into(&mut buf)? {
                Event::Start(e) if e.local_name().as_ref() == "Relationship" => {
                    let [typ, t] = get_attrs(&e, ["Type", "Target"])?;
                    if typ.is_some_and(|t| t.ends_with("/relationships/officeDocument")) {
                        if let Some(t) = t {
                            target = Some(decode_attr(t)?);
                        }
                    }
                }
                Event::End(e) if e.local_name().as_ref() == "Relationships" => break,
                Event::Eof => return Err(Unsupported),
                _ => {}
            }
        }
        let target = target.ok_or(Unsupported)?;
        let (dir, name) = match target.rfind('/') {
            Some(i) => target.split_at(i + 1),
            None => ("", target.as_str()),
        };
        let name = if name.is_empty() {
            "workbook.xml"
        } else {
            name
        };
        Ok((
            dir.strip_prefix('/').unwrap_or(dir).to_string(),
            name.to_string(),
        ))
    }

    fn shared_strings(&mut self, zip: &mut Zip, xl_path: &str) -> Fast<()> {
        let path = format!("{xl_path}sharedStrings.xml");
        let Some(mut xml) = self.part(zip, &path)? else {
            return Ok(());
        };
        let mut buf = Vec::with_capacity(1024);
        loop {
            buf.clear();
            match xml.read_event_into(&mut buf)? {
                Event::Start(e) if e.local_name().as_ref() == "sst" => {
                    raw_attr(&e, "uniqueCount")?;
                    break;
                }
                Event::Eof => return Err(Unsupported),
                _ => {}
            }
        }
        loop {
            buf.clear();
            match xml.read_event_into(&mut buf)? {
                Event::Start(e) if e.local_name().as_ref() == "si" => {
                    let closing = e.name().as_ref().to_string();
                    let s = read_string(&mut xml, &closing)?;
                    self.strings.push(s);
                }
                Event::End(e) if e.local_name().as_ref() == "sst" => break,
                Event::Eof => return Err(Unsupported),
                _ => {}
            }
        }
        Ok(())
    }

    /// styles.xml: which cell styles (`cellXfs`) format numbers as dates or durations.
    ///
    /// calamine also parses fonts, fills, borders and the like, which can only fail on XML or
    /// attribute errors: every element's attributes are checked here, so a styles part calamine
    /// would refuse is refused too.
    fn styles(&mut self, zip: &mut Zip, xl_path: &str) -> Fast<()> {
        let path = format!("{xl_path}styles.xml");
        let Some(mut xml) = self.part(zip, &path)? else {
            return Ok(());
        };
        let mut number_formats: HashMap<String, String> = HashMap::new();
        let mut buf = Vec::with_capacity(1024);
        // Element names open, to know where numFmts / cellXfs sit.
        let mut stack: Vec<String> = vec![];
        let (mut in_xfs, mut in_num_fmts) = (false, false);
        loop {
            buf.clear();
            match xml.read_event_into(&mut buf)? {
                Event::Start(e) => {
                    check_all_attrs(&e)?;
                    let local = e.local_name().as_ref().to_string();
                    let depth = stack.len();
                    let parent = stack.last().map(|s| local_of(s).to_string());
                    match (local.as_str(), depth, parent.as_deref()) {
                        ("numFmts" | "cellXfs" | "fonts" | "fills" | "borders", d, _) if d != 1 => {
                            return Err(Unsupported)
                        }
                        ("cellXfs", 1, _) => in_xfs = true,
                        ("numFmts", 1, _) => in_num_fmts = true,
                        ("numFmt", 2, Some("numFmts")) => {
                            let [id, code] = get_attrs(&e, ["numFmtId", "formatCode"])?;
                            if let (Some(id), Some(code)) = (id, code) {
                                number_formats.insert(id.to_string(), decode_attr(code)?);
                            }
                        }
                        // calamine reads the numFmt elements inside numFmts only (not those of
                        // the differential formats, dxfs).
                        ("numFmt", ..) if in_num_fmts => return Err(Unsupported),
                        ("xf", 2, Some("cellXfs")) => {
                            let format = match raw_attr(&e, "numFmtId")? {
                                None => NumFmt::Other,
                                Some(val) => match number_formats.get(val) {
                                    Some(fmt) => detect_custom_number_format(fmt),
                                    None => builtin_format_by_id(val),
                                },
                            };
                            self.formats.push(format);
                        }
                        ("xf", _, _) if in_xfs => return Err(Unsupported),
                        _ => {}
                    }
                    stack.push(e.name().as_ref().to_string());
                }
                Event::End(e) => {
                    if stack.pop().as_deref() != Some(e.name().as_ref()) {
                        return Err(Unsupported);
                    }
                    match e.local_name().as_ref() {
                        "cellXfs" => in_xfs = false,
                        "numFmts" => in_num_fmts = false,
                        _ => {}
                    }
                    if e.local_name().as_ref() == "styleSheet" {
                        if stack.is_empty() {
                            return Ok(());
                        }
                        return Err(Unsupported);
                    }
                }
                Event::GeneralRef(r) => {
                    let mut s = String::new();
                    unescape_entity(&r, &mut s)?;
                }
                Event::Eof => return Err(Unsupported),
                _ => {}
            }
        }
    }

    /// The workbook's relationships: id -> (target, type), as stored (not unescaped).
    fn relationships(
        &self,
        zip: &mut Zip,
        xl_path: &str,
        workbook_name: &str,
    ) -> Fast<HashMap<String, (String, String)>> {
        let path = format!("{xl_path}_rels/{workbook_name}.rels");
        let mut xml = self.part(zip, &path)?.ok_or(Unsupported)?;
        let mut rels = HashMap::new();
        let mut buf = Vec::with_capacity(64);
        loop {
            buf.clear();
            match xml.read_event_into(&mut buf)? {
                Event::Start(e) if e.local_name().as_ref() == "Relationship" => {
                    let [id, typ, target] = get_attrs(&e, ["Id", "Type", "Target"])?;
                    if let Some(id) = id {
                        rels.insert(
                            id.to_string(),
                            (
                                target.unwrap_or_default().to_string(),
                                typ.unwrap_or_default().to_string(),
                            ),
                        );
                    }
                }
                Event::End(e) if e.local_name().as_ref() == "Relationships" => break,
                Event::Eof => return Err(Unsupported),
                _ => {}
            }
        }
        Ok(rels)
    }

    fn workbook(
        &mut self,
        zip: &mut Zip,
        xl_path: &str,
        workbook_name: &str,
        rels: &HashMap<String, (String, String)>,
    ) -> Fast<()> {
        let path = format!("{xl_path}{workbook_name}");
        let mut xml = self.part(zip, &path)?.ok_or(Unsupported)?;
        let mut buf = Vec::with_capacity(1024);
        let mut val_buf = Vec::with_capacity(1024);
        loop {
            buf.clear();
            match xml.read_event_into(&mut buf)? {
                Event::Start(e) if e.local_name().as_ref() == "sheet" => {
                    let mut name = String::new();
                    let mut rel_id = "";
                    for attr in RawAttrIter::new(e.attributes_raw()) {
                        let (key, val) = attr?;
                        match key {
                            "name" => name = decode_attr(val)?,
                            "state" if !matches!(val, "visible" | "hidden" | "veryHidden") => {
                                return Err(Unsupported);
                            }
                            key if local_name_matches(key, "id") => rel_id = val,
                            _ => {}
                        }
                    }
                    let (target, typ) = rels.get(rel_id).ok_or(Unsupported)?;
                    let part = match target.strip_prefix('/') {
                        Some(abs) => abs.to_string(),
                        None => format!("{xl_path}{target}"),
                    };
                    if !matches!(
                        typ.split('/').next_back(),
                        Some("worksheet" | "chartsheet" | "dialogsheet")
                    ) {
                        return Err(Unsupported);
                    }
                    self.sheets.push(name);
                    self.paths.push(part);
                }
                Event::Start(e) if e.local_name().as_ref() == "workbookPr" => {
                    if let Some(v) = raw_attr(&e, "date1904")? {
                        self.is_1904 = v == "1" || v == "true";
                    }
                }
                Event::Start(e) if e.local_name().as_ref() == "definedName" => {
                    if let Some(val) = raw_attr(&e, "name")? {
                        decode_attr(val)?;
                        loop {
                            val_buf.clear();
                            match xml.read_event_into(&mut val_buf)? {
                                Event::GeneralRef(r) => unescape_entity(&r, &mut String::new())?,
                                Event::End(end) if end.name() == e.name() => break,
                                Event::Eof => return Err(Unsupported),
                                _ => {}
                            }
                        }
                    }
                }
                Event::End(e) if e.local_name().as_ref() == "workbook" => break,
                Event::Eof => return Err(Unsupported),
                _ => {}
            }
        }
        Ok(())
    }

    /// The zip part calamine reads for the sheet named `sheet` (the first of that name).
    fn sheet_part(&self, sheet: &str) -> Option<&str> {
        self.sheet_part_at(self.sheets.iter().position(|n| n == sheet)?)
    }

    /// The zip part of the `i`th sheet.
    fn sheet_part_at(&self, i: usize) -> Option<&str> {
        let path = self.paths.get(i)?;
        Some(
            self.cache
                .get(&path.to_ascii_lowercase())
                .map(|s| s.as_str())
                .unwrap_or(path),
        )
    }

    /// The inflated size of sheet `sheet`'s part, as the zip states it (for progress only:
    /// reading never trusts it).
    pub(crate) fn sheet_size(&self, sheet: &str) -> Option<u64> {
        let i = self.sheets.iter().position(|n| n == sheet)?;
        self.sizes.get(i).copied().flatten()
    }
}

fn local_of(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// calamine's `local_name_matches`: `key` is `name` or `prefix:name`.
fn local_name_matches(key: &str, name: &str) -> bool {
    key == name
        || key
            .strip_suffix(name)
            .is_some_and(|p| p.as_bytes().last() == Some(&b':'))
}

/// calamine's raw attribute iterator (`attrs.rs`): `(key, value)` pairs, values as written.
struct RawAttrIter<'a> {
    raw: &'a str,
    pos: usize,
}

impl<'a> RawAttrIter<'a> {
    fn new(raw: &'a str) -> Self {
        RawAttrIter { raw, pos: 0 }
    }
}

impl<'a> Iterator for RawAttrIter<'a> {
    type Item = Fast<(&'a str, &'a str)>;

    fn next(&mut self) -> Option<Self::Item> {
        let raw = self.raw;
        let bytes = raw.as_bytes();
        let len = bytes.len();
        let mut pos = self.pos;
        while pos < len && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= len {
            self.pos = pos;
            return None;
        }
        let key_start = pos;
        while pos < len && bytes[pos] != b'=' {
            pos += 1;
        }
        if pos >= len {
            self.pos = len;
            return Some(Err(Unsupported));
        }
        let key = raw[key_start..pos].trim_ascii_end();
        pos += 1;
        while pos < len && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let quote = match bytes.get(pos) {
            Some(&q) if q == b'"' || q == b'\'' => q,
            _ => {
                self.pos = len;
                return Some(Err(Unsupported));
            }
        };
        pos += 1;
        let val_start = pos;
        while pos < len && bytes[pos] != quote {
            pos += 1;
        }
        let val = &raw[val_start..pos];
        if pos < len {
            pos += 1;
        }
        self.pos = pos;
        Some(Ok((key, val)))
    }
}

/// The first value of attribute `name`; every attribute must be well formed.
fn raw_attr<'a>(e: &'a BytesStart<'_>, name: &str) -> Fast<Option<&'a str>> {
    let mut found = None;
    for item in RawAttrIter::new(e.attributes_raw()) {
        let (k, v) = item?;
        if k == name && found.is_none() {
            found = Some(v);
        }
    }
    Ok(found)
}

/// The values of attributes `names`; a repeated one, or any malformed attribute, is refused
/// (calamine keeps the first or the last depending on the order).
fn get_attrs<'a, const N: usize>(
    e: &'a BytesStart<'_>,
    names: [&str; N],
) -> Fast<[Option<&'a str>; N]> {
    let mut out = [None; N];
    for item in RawAttrIter::new(e.attributes_raw()) {
        let (k, v) = item?;
        if let Some(i) = names.iter().position(|n| *n == k) {
            if out[i].replace(v).is_some() {
                return Err(Unsupported);
            }
        }
    }
    Ok(out)
}

/// Every attribute of `e` is well formed and its entities resolve.
fn check_all_attrs(e: &BytesStart<'_>) -> Fast<()> {
    for item in RawAttrIter::new(e.attributes_raw()) {
        let (_, v) = item?;
        if v.contains('&') {
            decode_attr(v)?;
        }
    }
    Ok(())
}

/// An attribute value with its entities resolved (quick-xml's `unescape`, as calamine).
fn decode_attr(v: &str) -> Fast<String> {
    quick_xml::escape::unescape(v)
        .map(|s| s.into_owned())
        .map_err(|_| Unsupported)
}

/// calamine's `unescape_entity_to_buffer`: the five XML entities and character references.
fn unescape_entity(e: &quick_xml::events::BytesRef<'_>, out: &mut String) -> Fast<()> {
    let name: &str = e;
    if let Some(s) = quick_xml::escape::resolve_xml_entity(name) {
        out.push_str(s);
        return Ok(());
    }
    match e.resolve_char_ref() {
        Ok(Some(c)) => {
            out.push(c);
            Ok(())
        }
        _ => Err(Unsupported),
    }
}

/// calamine's `read_string_with_bufs`: the text of a shared string or inline string, rich-text
/// runs concatenated, phonetic runs left out.
fn read_string<R: BufRead>(xml: &mut Reader<R>, closing: &str) -> Fast<String> {
    let mut out = String::new();
    let mut phonetic = false;
    let mut buf = Vec::with_capacity(256);
    let mut text_buf = Vec::with_capacity(256);
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf)? {
            Event::Start(e) if e.local_name().as_ref() == "r" => {}
            Event::Start(e) if e.local_name().as_ref() == "rPh" => phonetic = true,
            Event::End(e) if e.name().as_ref() == closing => return Ok(out),
            Event::End(e) if e.local_name().as_ref() == "rPh" => phonetic = false,
            Event::Start(e) if e.local_name().as_ref() == "t" && !phonetic => {
                let preserve = raw_attr(&e, "xml:space")? == Some("preserve");
                let mut value = String::new();
                loop {
                    text_buf.clear();
                    match xml.read_event_into(&mut text_buf)? {
                        Event::Text(t) => value.push_str(&t.xml10_content()),
                        Event::CData(t) => value.push_str(&t.xml10_content()),
                        Event::GeneralRef(r) => unescape_entity(&r, &mut value)?,
                        Event::End(end) if end.name() == e.name() => break,
                        Event::Eof => return Err(Unsupported),
                        _ => {}
                    }
                }
                let value = if preserve {
                    &value[..]
                } else {
                    value.trim_matches([' ', '\t', '\r', '\n'])
                };
                unescape_xml_into(value, &mut out);
            }
            Event::Eof => return Err(Unsupported),
            _ => {}
        }
    }
}

// ---- calamine's number-format rules (formats.rs), unchanged ----

fn detect_custom_number_format(format: &str) -> NumFmt {
    let mut escaped = false;
    let mut is_quote = false;
    let mut brackets = 0u8;
    let mut prev = ' ';
    let mut hms = false;
    let mut ap = false;
    for s in format.chars() {
        match (s, escaped, is_quote, ap, brackets) {
            (_, true, ..) => escaped = false,
            ('_' | '\\' | '*', ..) => escaped = true,
            ('"', _, true, _, _) => is_quote = false,
            (_, _, true, _, _) => (),
            ('"', _, _, _, _) => is_quote = true,
            (';', ..) => return NumFmt::Other,
            ('[', ..) => brackets += 1,
            (']', .., 1) if hms => return NumFmt::TimeDelta,
            (']', ..) => brackets = brackets.saturating_sub(1),
            ('a' | 'A', _, _, false, 0) => ap = true,
            ('p' | 'm' | '/' | 'P' | 'M', _, _, true, 0) => return NumFmt::DateTime,
            ('d' | 'm' | 'h' | 'y' | 's' | 'D' | 'M' | 'H' | 'Y' | 'S', _, _, false, 0) => {
                return NumFmt::DateTime
            }
            _ => {
                if hms && s.eq_ignore_ascii_case(&prev) {
                } else {
                    hms = prev == '[' && matches!(s, 'm' | 'h' | 's' | 'M' | 'H' | 'S');
                }
            }
        }
        prev = s;
    }
    NumFmt::Other
}

fn builtin_format_by_id(id: &str) -> NumFmt {
    match id {
        "14" | "15" | "16" | "17" | "18" | "19" | "20" | "21" | "22" | "45" | "47" => {
            NumFmt::DateTime
        }
        "27" | "28" | "29" | "30" | "31" | "32" | "33" | "34" | "35" | "36" | "50" | "51"
        | "52" | "53" | "54" | "55" | "56" | "57" | "58" => NumFmt::DateTime,
        "46" => NumFmt::TimeDelta,
        _ => NumFmt::Other,
    }
}

// ---- calamine's `_xHHHH_` unescaping (utils.rs `unescape_xml`) ----

const ESCAPE_LEN: usize = 7;

fn parse_xml_escape(s: &str, index: usize) -> Option<u16> {
    let bytes = s.as_bytes().get(index..index + ESCAPE_LEN)?;
    if bytes[0] != b'_' || bytes[1] != b'x' || bytes[6] != b'_' {
        return None;
    }
    let hex = &bytes[2..6];
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

fn find_xml_escape(s: &str, mut start: usize) -> Option<(usize, u16)> {
    while let Some(offset) = s[start..].find('_') {
        let index = start + offset;
        if let Some(unit) = parse_xml_escape(s, index) {
            return Some((index, unit));
        }
        start = index + 1;
    }
    None
}

/// Appends `s` with Excel's `_xHHHH_` escapes resolved.
fn unescape_xml_into(s: &str, out: &mut String) {
    let Some((mut index, mut unit)) = find_xml_escape(s, 0) else {
        out.push_str(s);
        return;
    };
    let mut copied = 0;
    loop {
        out.push_str(&s[copied..index]);
        index += ESCAPE_LEN;
        match unit {
            0xD800..=0xDBFF => match parse_xml_escape(s, index) {
                Some(low @ 0xDC00..=0xDFFF) => {
                    let cp =
                        0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                    out.push(char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER));
                    index += ESCAPE_LEN;
                }
                _ => out.push(char::REPLACEMENT_CHARACTER),
            },
            0xDC00..=0xDFFF => out.push(char::REPLACEMENT_CHARACTER),
            _ => out.push(char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER)),
        }
        copied = index;
        match find_xml_escape(s, index) {
            Some(next) => (index, unit) = next,
            None => break,
        }
    }
    out.push_str(&s[copied..]);
}

/// True when `s` may hold an `_xHHHH_` escape.
fn may_escape(s: &[u8]) -> bool {
    memchr::memchr_iter(b'_', s).any(|i| s.get(i + 1) == Some(&b'x'))
}

/// Text flags found by [`text_end`].
const HAS_AMP: u8 = 1;
const HAS_CR: u8 = 2;
const HAS_UNDERSCORE: u8 = 4;

/// The end of text starting at `from` (the next `<`), and what the text holds that needs
/// decoding: an entity (`&`), a carriage return, a possible `_xHHHH_` escape. Cell text is
/// short, so a byte loop beats a vectorised search here.
#[inline]
fn text_end(b: &[u8], from: usize) -> Fast<(usize, u8)> {
    let mut flags = 0;
    let mut i = from;
    while let Some(&c) = b.get(i) {
        match c {
            b'<' => return Ok((i, flags)),
            b'&' => flags |= HAS_AMP,
            b'\r' => flags |= HAS_CR,
            b'_' => flags |= HAS_UNDERSCORE,
            _ => {}
        }
        i += 1;
    }
    Err(Unsupported)
}

#[inline]
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// A start tag's attributes, from `from` (just after the name) to the tag's end, each handed
/// to `on` as (key, value as written); returns the offset after the tag and whether it was
/// `<x/>`. One pass, and stricter than quick-xml plus calamine's attribute iterator (no
/// space around `=`, a quote right after it): whatever it accepts, they read the same way.
#[inline]
fn attrs<'s>(
    s: &'s str,
    from: usize,
    mut on: impl FnMut(&'s str, &'s str) -> Result<(), Stop>,
) -> Result<(usize, bool), Stop> {
    let b = s.as_bytes();
    let mut p = from;
    loop {
        while b.get(p).is_some_and(|&c| is_space(c)) {
            p += 1;
        }
        match b.get(p) {
            Some(b'>') => return Ok((p + 1, false)),
            Some(b'/') if b.get(p + 1) == Some(&b'>') => return Ok((p + 2, true)),
            Some(b'/') | None => return Err(Stop::Unsupported),
            _ => {}
        }
        let key_start = p;
        loop {
            match b.get(p) {
                Some(b'=') => break,
                Some(&c) if is_space(c) || matches!(c, b'>' | b'/' | b'"' | b'\'' | b'<') => {
                    return Err(Stop::Unsupported)
                }
                Some(_) => p += 1,
                None => return Err(Stop::Unsupported),
            }
        }
        let key = s.get(key_start..p).ok_or(Stop::Unsupported)?;
        let quote = match b.get(p + 1) {
            Some(&q) if q == b'"' || q == b'\'' => q,
            _ => return Err(Stop::Unsupported),
        };
        let start = p + 2;
        let mut end = start;
        loop {
            match b.get(end) {
                Some(&c) if c == quote => break,
                Some(_) => end += 1,
                None => return Err(Stop::Unsupported),
            }
        }
        on(key, s.get(start..end).ok_or(Stop::Unsupported)?)?;
        p = end + 1;
    }
}

// ---- cell references (calamine's `get_row_and_optional_column`) ----

/// A reference's 0-based (row, column), column `None` when it has no letters.
///
/// Where calamine's u32 arithmetic would overflow (a panic in a debug build, a wrapped,
/// wrong position in a release build), the reference is refused here in plain words.
#[inline]
fn parse_ref(r: &[u8]) -> Result<(u32, Option<u32>), Stop> {
    // The common case first: up to 3 capitals and 1 to 7 digits, where nothing can overflow.
    let mut i = 0;
    let mut col: u32 = 0;
    while i < 3 && i < r.len() && r[i].is_ascii_uppercase() {
        col = col * 26 + (r[i] - b'A') as u32 + 1;
        i += 1;
    }
    let digits_start = i;
    let mut row: u32 = 0;
    while i < r.len() && i - digits_start < 7 && r[i].is_ascii_digit() {
        row = row * 10 + (r[i] - b'0') as u32;
        i += 1;
    }
    if i == r.len() && i > digits_start && row > 0 {
        return Ok((row - 1, col.checked_sub(1)));
    }
    parse_ref_slow(r)
}

/// [`parse_ref`] for any reference, with calamine's rules and overflow checks.
fn parse_ref_slow(r: &[u8]) -> Result<(u32, Option<u32>), Stop> {
    let mut i = 0;
    let mut col: u32 = 0;
    let mut row: u32 = 0;
    let bad = || Stop::Unsupported;
    let step = |n: u32, base: u32, d: u32| n.checked_mul(base).and_then(|n| n.checked_add(d));
    while i < r.len() {
        match r[i] {
            c @ b'A'..=b'Z' => {
                col = step(col, 26, (c - b'A') as u32 + 1).ok_or_else(|| too_far(r))?
            }
            c @ b'a'..=b'z' => {
                col = step(col, 26, (c - b'a') as u32 + 1).ok_or_else(|| too_far(r))?
            }
            c @ b'0'..=b'9' => {
                row = (c - b'0') as u32;
                i += 1;
                break;
            }
            _ => return Err(bad()),
        }
        i += 1;
    }
    while i < r.len() {
        match r[i] {
            c @ b'0'..=b'9' => row = step(row, 10, (c - b'0') as u32).ok_or_else(|| too_far(r))?,
            _ => return Err(bad()),
        }
        i += 1;
    }
    let row = row.checked_sub(1).ok_or_else(bad)?;
    Ok((row, col.checked_sub(1)))
}

fn too_far(r: &[u8]) -> Stop {
    let shown: String = String::from_utf8_lossy(&r[..r.len().min(40)]).into_owned();
    Stop::Error(format!(
        "cell reference '{shown}' is far beyond the last cell a spreadsheet can have \
         (XFD1048576); the file is damaged"
    ))
}

// ---- the sheet scanner ----

/// Why the scanner stopped before the end of the sheet.
#[derive(Debug)]
enum Stop {
    /// Not understood: calamine reads the sheet (see the module documentation).
    Unsupported,
    /// The calling thread stopped listening.
    Closed,
    /// A plain-words error about the sheet.
    Error(String),
}

impl From<Unsupported> for Stop {
    fn from(_: Unsupported) -> Self {
        Stop::Unsupported
    }
}

impl From<std::io::Error> for Stop {
    fn from(_: std::io::Error) -> Self {
        Stop::Unsupported
    }
}

/// A cell value in a batch; text is a byte range of the batch's text.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Val {
    Empty,
    Number(f64),
    Bool(bool),
    DateTime(NaiveDateTime),
    Text(u32, u32),
    Shared(u32),
    Error(&'static str),
}

/// A parsed value before it is stored: a value, or text (a range of the XML, or the scratch
/// string) and whether empty text stays text (else it is an empty cell).
enum Pv {
    Val(Val),
    Raw(usize, usize, bool),
    Scratch(bool),
}

/// Rows handed to the calling thread at a time: rows as (row number, first cell, cells).
struct Batch {
    rows: Vec<(u64, u32, u32)>,
    cells: Vec<Val>,
    text: String,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            rows: Vec::with_capacity(BATCH_ROWS),
            cells: Vec::with_capacity(BATCH_ROWS * 32),
            text: String::with_capacity(BATCH_TEXT + 4096),
        }
    }

    fn clear(&mut self) {
        self.rows.clear();
        self.cells.clear();
        self.text.clear();
    }

    fn full(&self) -> bool {
        self.rows.len() >= BATCH_ROWS
            || self.text.len() >= BATCH_TEXT
            || self.cells.len() >= BATCH_CELLS
    }
}

const BATCH_ROWS: usize = 1024;
const BATCH_TEXT: usize = 1 << 20;
const BATCH_CELLS: usize = 1 << 16;
/// Batches scanned ahead of the calling thread (bounds the memory in flight).
const BATCHES_AHEAD: usize = 4;
/// Bytes inflated at a time.
const CHUNK: usize = 256 * 1024;
/// The most XML looked at for `<sheetData>`, and the longest a single `<row>` may be, before
/// the scanner leaves the sheet to calamine (which streams either).
const MAX_PENDING: usize = 64 << 20;
/// The most text one row may collect (a row repeating a cell over and over) before the
/// scanner leaves the sheet to calamine.
const MAX_ROW_TEXT: usize = 256 << 20;
/// Columns beyond Excel's last (XFD) are dropped, as the calamine path drops them.
const MAX_COLUMNS: u32 = 16_384;

/// What the scanning thread sends.
enum Msg {
    Rows(Batch),
    /// The end of the sheet.
    Done,
    /// Not understood from here on: the rows sent so far stand, calamine reads the rest.
    Unsupported,
    Failed(String),
}

/// The scanning thread's state: the position rules of calamine's cell reader, and the row
/// being collected (cells of consecutive equal row numbers, as `xlsx::stream_sheet` groups).
struct Scanner<'b> {
    book: &'b Book,
    tx: &'b SyncSender<Msg>,
    recycled: &'b Receiver<Batch>,
    batch: Batch,
    row_index: u32,
    col_index: u32,
    current: Option<u32>,
    row_start: usize,
    row_text_start: usize,
    /// Decoded text when the XML text has entities or escapes.
    scratch: String,
}

/// The outcome of reading one sheet with the fast reader.
pub(crate) enum SheetEnd {
    /// Read to the end (or the callback skipped the rest).
    Done,
    /// Read up to a point; `rows` rows were handed out and calamine must read the rest.
    Unsupported { rows: u64 },
}

/// The row cells handed to the callback.
struct FastRow<'a> {
    cells: &'a [Val],
    text: &'a str,
    strings: &'a [String],
}

impl RowCells for FastRow<'_> {
    fn len(&self) -> usize {
        self.cells.len()
    }
    fn cell(&self, index: usize) -> CellRef<'_> {
        match self.cells.get(index) {
            None | Some(Val::Empty) => CellRef::Empty,
            Some(Val::Number(n)) => CellRef::Number(*n),
            Some(Val::Bool(b)) => CellRef::Bool(*b),
            Some(Val::DateTime(d)) => CellRef::DateTime(*d),
            Some(Val::Text(a, b)) => match self.text.get(*a as usize..*b as usize) {
                Some(t) => CellRef::Text(t),
                None => CellRef::Empty,
            },
            Some(Val::Shared(i)) => match self.strings.get(*i as usize) {
                Some(t) => CellRef::Text(t),
                None => CellRef::Empty,
            },
            Some(Val::Error(e)) => CellRef::Error(e),
        }
    }
}

/// Reads the sheet named `sheet`: inflating and scanning on a second thread, the callback on
/// this one. `Err` is a plain-words error about the sheet (the caller names the file).
/// `progress`, when given, moves by the bytes of the sheet's part as they are inflated.
pub(crate) fn read_sheet(
    path: &Path,
    book: &Book,
    sheet: &str,
    progress: Option<&indicatif::ProgressBar>,
    on_event: &mut dyn FnMut(RowEvent<'_>) -> Result<Flow, String>,
) -> Result<SheetEnd, IngestError> {
    let Some(part) = book.sheet_part(sheet) else {
        return Ok(SheetEnd::Unsupported { rows: 0 });
    };
    let mut rows: u64 = 0;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(BATCHES_AHEAD);
        let (recycle_tx, recycle_rx) = std::sync::mpsc::channel::<Batch>();
        let worker = std::thread::Builder::new()
            .name("xlsx-scanner".into())
            .spawn_scoped(scope, move || {
                scan_part(path, part, book, progress, &tx, &recycle_rx)
            });
        let Ok(worker) = worker else {
            return Ok(SheetEnd::Unsupported { rows: 0 });
        };
        let mut end = Ok(SheetEnd::Done);
        let mut finished = false;
        'batches: for msg in rx.iter() {
            match msg {
                Msg::Rows(batch) => {
                    for &(number, start, len) in &batch.rows {
                        let (start, len) = (start as usize, len as usize);
                        let row = FastRow {
                            cells: batch.cells.get(start..start + len).unwrap_or(&[]),
                            text: &batch.text,
                            strings: &book.strings,
                        };
                        match on_event(RowEvent::Row(number, &row)) {
                            Ok(Flow::Continue) => rows += 1,
                            Ok(Flow::SkipSheet) => {
                                finished = true;
                                break 'batches;
                            }
                            Err(e) => {
                                end = Err(IngestError::Stopped(e));
                                finished = true;
                                break 'batches;
                            }
                        }
                    }
                    let _ = recycle_tx.send(batch);
                }
                Msg::Done => {
                    finished = true;
                    break;
                }
                Msg::Unsupported => {
                    end = Ok(SheetEnd::Unsupported { rows });
                    finished = true;
                    break;
                }
                Msg::Failed(e) => {
                    end = Err(IngestError::Spreadsheet {
                        file: String::new(),
                        reason: format!("sheet '{sheet}': {e}"),
                    });
                    finished = true;
                    break;
                }
            }
        }
        drop(rx);
        if worker.join().is_err() {
            // A bug in the scanner: count it (the fuzz target checks the count) and let
            // calamine read the rest.
            SCANNER_PANICS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if !finished || end.is_ok() {
                return Ok(SheetEnd::Unsupported { rows });
            }
        }
        if !finished {
            // The scanner ended without saying how: never expected; calamine reads the rest.
            return Ok(SheetEnd::Unsupported { rows });
        }
        end
    })
}

/// Panics of the scanning thread so far (a bug; the sheet was then read by calamine).
pub(crate) static SCANNER_PANICS: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(0);

/// The scanning thread: inflates the sheet part and scans it, sending batches.
fn scan_part(
    path: &Path,
    part: &str,
    book: &Book,
    progress: Option<&indicatif::ProgressBar>,
    tx: &SyncSender<Msg>,
    recycled: &Receiver<Batch>,
) {
    let mut scanner = Scanner {
        book,
        tx,
        recycled,
        batch: Batch::new(),
        row_index: 0,
        col_index: 0,
        current: None,
        row_start: 0,
        row_text_start: 0,
        scratch: String::new(),
    };
    // Inflating runs on a third thread: it is a fifth of the scanning thread's work.
    let result = std::thread::scope(|scope| {
        let (chunk_tx, chunk_rx) = std::sync::mpsc::sync_channel(CHUNKS_AHEAD);
        let (back_tx, back_rx) = std::sync::mpsc::channel();
        let inflater = std::thread::Builder::new()
            .name("xlsx-inflate".into())
            .spawn_scoped(scope, move || {
                inflate_part(path, part, progress, &chunk_tx, &back_rx)
            });
        if inflater.is_err() {
            return Err(Stop::Unsupported);
        }
        let mut src = Inflated {
            rx: chunk_rx,
            back: back_tx,
            _marker: std::marker::PhantomData,
        };
        let result = scanner.run(&mut src);
        // Stops the inflating thread if it is still running: its next send fails.
        drop(src);
        result
    });
    let msg = match result {
        Ok(()) => Msg::Done,
        Err(Stop::Closed) => return,
        Err(Stop::Unsupported) => Msg::Unsupported,
        Err(Stop::Error(e)) => Msg::Failed(e),
    };
    let _ = tx.send(msg);
}

/// Chunks of inflated XML waiting for the scanner (bounds the memory in flight).
const CHUNKS_AHEAD: usize = 4;

/// A chunk of the inflated part, or the error that ended inflating it.
type Chunk = std::io::Result<Vec<u8>>;

/// The inflating thread: reads the sheet part from the zip and sends it in chunks; the end
/// of the part is the end of the channel.
fn inflate_part(
    path: &Path,
    part: &str,
    progress: Option<&indicatif::ProgressBar>,
    tx: &SyncSender<Chunk>,
    recycled: &Receiver<Vec<u8>>,
) {
    let result = (|| -> std::io::Result<()> {
        let file = File::open(path)?;
        let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(std::io::Error::other)?;
        let mut src = zip.by_name(part).map_err(std::io::Error::other)?;
        loop {
            let mut chunk = recycled
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
            chunk.clear();
            let n = fill(&mut src, &mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            if let Some(bar) = progress {
                bar.inc(n as u64);
            }
            if tx.send(Ok(chunk)).is_err() {
                return Ok(());
            }
        }
    })();
    if let Err(e) = result {
        let _ = tx.send(Err(e));
    }
}

/// The scanner's end of the inflating thread's channel.
struct Inflated<'a> {
    rx: Receiver<Chunk>,
    back: std::sync::mpsc::Sender<Vec<u8>>,
    _marker: std::marker::PhantomData<&'a ()>,
}

impl Inflated<'_> {
    /// Appends the next chunk to `buf`; true at the end of the part. An inflating or I/O
    /// error leaves the sheet to calamine (which reports it).
    fn append_to(&mut self, buf: &mut Vec<u8>) -> Result<bool, Stop> {
        match self.rx.recv() {
            Ok(Ok(chunk)) => {
                buf.extend_from_slice(&chunk);
                let _ = self.back.send(chunk);
                Ok(false)
            }
            Ok(Err(_)) => Err(Stop::Unsupported),
            Err(_) => Ok(true),
        }
    }
}

/// Reads into `buf` until it grew by `CHUNK` bytes or the input ended; returns bytes read.
fn fill(src: &mut impl Read, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let start = buf.len();
    buf.resize(start + CHUNK, 0);
    let mut filled = start;
    while filled < buf.len() {
        match src.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(filled);
                return Err(e);
            }
        }
    }
    buf.truncate(filled);
    Ok(filled - start)
}

/// What the preamble (everything before `<sheetData>`) holds.
enum Preamble {
    /// More bytes are needed.
    More,
    /// `<sheetData>` ends at this offset; true when it is `<sheetData/>` (no cells).
    Data(usize, bool),
}

/// Reads the worksheet's start as calamine's `XlsxCellReader::new` does, up to `<sheetData>`.
fn preamble(buf: &[u8], at_end: bool) -> Fast<Preamble> {
    // quick-xml reads only once the whole `<sheetData ...>` tag is in the buffer.
    let Some(i) = memmem::find(buf, b"<sheetData") else {
        return if at_end || buf.len() > MAX_PENDING {
            Err(Unsupported)
        } else {
            Ok(Preamble::More)
        };
    };
    if memchr::memchr(b'>', &buf[i..]).is_none() {
        return if at_end {
            Err(Unsupported)
        } else {
            Ok(Preamble::More)
        };
    }
    let mut xml = xml_reader(buf);
    let mut ev = Vec::new();
    loop {
        ev.clear();
        match xml.read_event_into(&mut ev)? {
            Event::Start(e) => match e.local_name().as_ref() {
                "dimension" => {
                    let r = raw_attr(&e, "ref")?.ok_or(Unsupported)?;
                    check_dimension(r)?;
                }
                "sheetData" => {
                    if e.name().as_ref() != "sheetData" {
                        return Err(Unsupported); // a namespace prefix
                    }
                    let end = xml.buffer_position() as usize;
                    let empty = end >= 2 && buf.get(end - 2) == Some(&b'/');
                    return Ok(Preamble::Data(end, empty));
                }
                _ => {}
            },
            Event::Eof => return Err(Unsupported),
            _ => {}
        }
    }
}

/// calamine's `get_dimension` must accept the `<dimension ref>`.
fn check_dimension(r: &str) -> Fast<()> {
    let mut parts = vec![];
    for p in r.split(':') {
        match parse_ref(p.as_bytes()) {
            Ok((row, Some(col))) => parts.push((row, col)),
            _ => return Err(Unsupported),
        }
    }
    match parts[..] {
        [_] => Ok(()),
        // calamine subtracts start from end (an overflow if the range is backwards).
        [a, b] if b.0 >= a.0 && b.1 >= a.1 => Ok(()),
        _ => Err(Unsupported),
    }
}

/// The byte after a tag name must end it.
fn name_ends(b: &[u8], at: usize) -> bool {
    matches!(b.get(at), Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'))
}

/// Skips text up to the next `<`; text with `&` is not expected there.
#[inline]
fn skip_text(b: &[u8], at: usize) -> Fast<usize> {
    match b.get(at) {
        Some(b'<') => return Ok(at),
        None => return Err(Unsupported),
        _ => {}
    }
    let rest = b.get(at..).ok_or(Unsupported)?;
    match memchr::memchr2(b'<', b'&', rest) {
        Some(i) if rest[i] == b'<' => Ok(at + i),
        _ => Err(Unsupported),
    }
}

/// The cell type (`t`) values calamine knows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CellType {
    None,
    N,
    S,
    B,
    E,
    Str,
    D,
    InlineStr,
}

impl<'b> Scanner<'b> {
    fn run(&mut self, src: &mut Inflated<'_>) -> Result<(), Stop> {
        let mut buf: Vec<u8> = Vec::with_capacity(2 * CHUNK);
        let mut at_end = false;
        let mut pos = loop {
            if !at_end {
                at_end = src.append_to(&mut buf)?;
            }
            match preamble(&buf, at_end)? {
                Preamble::More => continue,
                Preamble::Data(_, true) => return self.finish(),
                Preamble::Data(end, false) => break end,
            }
        };
        loop {
            // Scan up to the last complete `</row>` (or `</sheetData>`) in the buffer.
            let tail = &buf[pos..];
            let data_end = memmem::find(tail, b"</sheetData>");
            let safe = match data_end {
                Some(i) => Some(i + b"</sheetData>".len()),
                None => memmem::rfind(tail, b"</row>").map(|i| i + b"</row>".len()),
            };
            if let Some(len) = safe {
                let region = std::str::from_utf8(&tail[..len]).map_err(|_| Stop::Unsupported)?;
                if self.region(region)? {
                    return self.finish();
                }
                pos += len;
            }
            if at_end {
                return Err(Stop::Unsupported); // no `</sheetData>`: calamine reports it
            }
            buf.drain(..pos);
            pos = 0;
            if buf.len() > MAX_PENDING {
                return Err(Stop::Unsupported);
            }
            at_end = src.append_to(&mut buf)?;
        }
    }

    /// Scans complete rows; true at `</sheetData>`.
    fn region(&mut self, s: &str) -> Result<bool, Stop> {
        let b = s.as_bytes();
        let mut p = 0;
        loop {
            if p == b.len() {
                return Ok(false);
            }
            p = skip_text(b, p)?;
            let rest = &b[p..];
            if rest.starts_with(b"<c") && name_ends(b, p + 2) {
                p = self.cell(s, p + 2)?;
            } else if rest.starts_with(b"</row>") {
                self.end_row()?;
                p += 6;
            } else if rest.starts_with(b"<row") && name_ends(b, p + 4) {
                let mut r = None;
                let (end, empty) = attrs(s, p + 4, |k, v| {
                    if k == "r" && r.replace(v).is_some() {
                        return Err(Stop::Unsupported);
                    }
                    Ok(())
                })?;
                if let Some(r) = r {
                    self.row_index = parse_ref(r.as_bytes())?.0;
                }
                if empty {
                    self.end_row()?;
                }
                p = end;
            } else if rest.starts_with(b"</sheetData>") {
                return Ok(true);
            } else {
                return Err(Stop::Unsupported);
            }
        }
    }

    fn end_row(&mut self) -> Result<(), Stop> {
        self.row_index = self.row_index.checked_add(1).ok_or(Stop::Unsupported)?;
        self.col_index = 0;
        Ok(())
    }

    /// One `<c ...>` element, from just after its name; returns the offset after it.
    fn cell(&mut self, s: &str, from: usize) -> Result<usize, Stop> {
        let b = s.as_bytes();
        let (mut r, mut style, mut typ) = (None, None, None);
        let (mut p, empty) = attrs(s, from, |k, v| {
            let slot = match k {
                "r" => &mut r,
                "s" => &mut style,
                "t" => &mut typ,
                _ => return Ok(()),
            };
            match slot.replace(v) {
                Some(_) => Err(Stop::Unsupported),
                None => Ok(()),
            }
        })?;
        let (row, col) = match r {
            Some(r) => {
                let (row, col) = parse_ref(r.as_bytes())?;
                let col = col.ok_or(Stop::Unsupported)?;
                self.col_index = col;
                (row, col)
            }
            None => (self.row_index, self.col_index),
        };
        let typ = match typ {
            None => CellType::None,
            Some("n") => CellType::N,
            Some("s") => CellType::S,
            Some("b") => CellType::B,
            Some("e") => CellType::E,
            Some("str") => CellType::Str,
            Some("d") => CellType::D,
            Some("inlineStr" | "is") => CellType::InlineStr,
            Some(_) => return Err(Stop::Unsupported), // calamine: an error, or only on <v>
        };
        // calamine's number format for the cell: the style's, none for an unknown style, the
        // general one without a style.
        let format = match style {
            None => Some(NumFmt::Other),
            Some(st) => {
                let id = digits(st.as_bytes())?;
                usize::try_from(id)
                    .ok()
                    .and_then(|id| self.book.formats.get(id).copied())
            }
        };
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut value = Pv::Val(Val::Empty);
        if !empty {
            loop {
                p = skip_text(b, p)?;
                let rest = &b[p..];
                if rest.starts_with(b"</c>") {
                    p += 4;
                    break;
                } else if rest.starts_with(b"<v") && name_ends(b, p + 2) {
                    let (after, v_empty) = if rest.starts_with(b"<v>") {
                        (p + 3, false)
                    } else {
                        attrs(s, p + 2, |_, _| Ok(()))?
                    };
                    let (text, next) = if v_empty {
                        (None, after)
                    } else {
                        let (close, _) = text_end(b, after)?;
                        if !b[close..].starts_with(b"</v>") {
                            return Err(Stop::Unsupported);
                        }
                        (Some((after, close)), close + 4)
                    };
                    value = self.value(s, typ, format, text, &mut scratch)?;
                    p = next;
                } else if rest.starts_with(b"<f") && name_ends(b, p + 2) {
                    let (after, f_empty) = attrs(s, p + 2, |_, _| Ok(()))?;
                    p = if f_empty {
                        after
                    } else {
                        skip_formula(b, after)?
                    };
                    value = Pv::Val(Val::Empty);
                } else if rest.starts_with(b"<is") && name_ends(b, p + 3) {
                    let (after, is_empty) = if rest.starts_with(b"<is>") {
                        (p + 4, false)
                    } else {
                        attrs(s, p + 3, |_, _| Ok(()))?
                    };
                    scratch.clear();
                    p = if is_empty {
                        after
                    } else {
                        inline_string(s, after, &mut scratch)?
                    };
                    value = Pv::Scratch(false);
                } else {
                    return Err(Stop::Unsupported);
                }
            }
        }
        // Text is stored as it is handed out: an empty string is an empty cell, except for
        // an ISO date (`t="d"`), which calamine hands out as text even when empty.
        let val = match value {
            Pv::Val(v) => Ok(v),
            Pv::Raw(a, z, keep) => Err((&s[a..z], keep)),
            Pv::Scratch(keep) => Err((&scratch[..], keep)),
        };
        let val = match val {
            Err(("", false)) => Ok(Val::Empty),
            Err((t, _)) => Err(t),
            Ok(v) => Ok(v),
        };
        let result = self.push(row, col, val);
        self.scratch = scratch;
        result?;
        self.col_index = self.col_index.checked_add(1).ok_or(Stop::Unsupported)?;
        Ok(p)
    }

    /// calamine's `read_value` for a `<v>` element: `text` is the range of its text in `s`,
    /// None for `<v/>`.
    fn value(
        &self,
        s: &str,
        typ: CellType,
        format: Option<NumFmt>,
        text: Option<(usize, usize)>,
        scratch: &mut String,
    ) -> Result<Pv, Stop> {
        let (a, z) = text.unwrap_or((0, 0));
        let t = &s[a..z];
        match typ {
            CellType::InlineStr => {
                if t.contains('&') {
                    return Err(Stop::Unsupported);
                }
                Ok(Pv::Val(Val::Empty))
            }
            CellType::Str | CellType::D => {
                let keep = typ == CellType::D;
                if t.bytes().any(|c| c == b'&' || c == b'\r') {
                    scratch.clear();
                    decode_text(t, scratch)?;
                    if !keep && may_escape(scratch.as_bytes()) {
                        let decoded = std::mem::take(scratch);
                        unescape_xml_into(&decoded, scratch);
                    }
                    return Ok(Pv::Scratch(keep));
                }
                if !keep && may_escape(t.as_bytes()) {
                    scratch.clear();
                    unescape_xml_into(t, scratch);
                    return Ok(Pv::Scratch(keep));
                }
                Ok(Pv::Raw(a, z, keep))
            }
            CellType::None | CellType::N | CellType::S | CellType::B | CellType::E => {
                if t.is_empty() {
                    return Ok(Pv::Val(Val::Empty));
                }
                if t.contains('&') {
                    return Err(Stop::Unsupported); // calamine reads only up to the entity
                }
                let val = match typ {
                    CellType::S => {
                        let idx = digits(t.as_bytes())?;
                        let found = usize::try_from(idx)
                            .ok()
                            .and_then(|i| self.book.strings.get(i));
                        match found {
                            Some(s) if s.is_empty() => Val::Empty,
                            Some(_) => {
                                Val::Shared(u32::try_from(idx).map_err(|_| Stop::Unsupported)?)
                            }
                            None => return Err(Stop::Unsupported),
                        }
                    }
                    CellType::B => {
                        let v = t.trim();
                        if v.is_empty() {
                            Val::Empty
                        } else if v == "0" || v.eq_ignore_ascii_case("false") {
                            Val::Bool(false)
                        } else if v == "1" || v.eq_ignore_ascii_case("true") {
                            Val::Bool(true)
                        } else {
                            return Err(Stop::Unsupported);
                        }
                    }
                    CellType::E => Val::Error(match t {
                        "#DIV/0!" => "#DIV/0!",
                        "#N/A" => "#N/A",
                        "#NAME?" => "#NAME?",
                        "#NULL!" => "#NULL!",
                        "#NUM!" => "#NUM!",
                        "#REF!" => "#REF!",
                        "#VALUE!" => "#VALUE!",
                        _ => return Err(Stop::Unsupported),
                    }),
                    // Up to 15 digits is an integer below 2^53, exactly what the float parser
                    // would return; anything else goes through calamine's parser.
                    _ if t.len() <= 15 && t.bytes().all(|c| c.is_ascii_digit()) => {
                        let n = t.bytes().fold(0u64, |n, d| n * 10 + (d - b'0') as u64);
                        number(n as f64, format, self.book.is_1904)
                    }
                    _ => match fast_float2::parse::<f64, _>(t.as_bytes()) {
                        Ok(n) => number(n, format, self.book.is_1904),
                        Err(_) if typ == CellType::None => return Ok(Pv::Raw(a, z, false)),
                        Err(_) => return Err(Stop::Unsupported),
                    },
                };
                Ok(Pv::Val(val))
            }
        }
    }

    /// Stores a cell of row `row`, handing out the row before when `row` starts a new one.
    fn push(&mut self, row: u32, col: u32, val: Result<Val, &str>) -> Result<(), Stop> {
        if self.current != Some(row) {
            if self.current.is_some() {
                self.finish_row()?;
            }
            self.current = Some(row);
            self.row_start = self.batch.cells.len();
            self.row_text_start = self.batch.text.len();
        }
        if col >= MAX_COLUMNS {
            return Ok(());
        }
        let val = match val {
            Ok(v) => v,
            Err(t) => {
                let start = self.batch.text.len();
                self.batch.text.push_str(t);
                if self.batch.text.len() - self.row_text_start > MAX_ROW_TEXT {
                    return Err(Stop::Unsupported);
                }
                let end = self.batch.text.len();
                let (Ok(a), Ok(b)) = (u32::try_from(start), u32::try_from(end)) else {
                    return Err(Stop::Unsupported);
                };
                Val::Text(a, b)
            }
        };
        let i = self.row_start + col as usize;
        let cells = &mut self.batch.cells;
        if cells.len() == i {
            cells.push(val);
        } else if cells.len() > i {
            cells[i] = val;
        } else {
            cells.resize(i, Val::Empty);
            cells.push(val);
        }
        Ok(())
    }

    /// Closes the row being collected; sends the batch when it is full.
    fn finish_row(&mut self) -> Result<(), Stop> {
        let Some(row) = self.current.take() else {
            return Ok(());
        };
        let start = self.row_start;
        let len = self.batch.cells.len() - start;
        self.batch
            .rows
            .push((row as u64 + 1, start as u32, len as u32));
        if self.batch.full() {
            self.send()?;
        }
        Ok(())
    }

    fn send(&mut self) -> Result<(), Stop> {
        let mut next = self.recycled.try_recv().unwrap_or_else(|_| Batch::new());
        next.clear();
        let batch = std::mem::replace(&mut self.batch, next);
        self.tx.send(Msg::Rows(batch)).map_err(|_| Stop::Closed)
    }

    /// The end of the sheet: the last row, then the last batch.
    fn finish(&mut self) -> Result<(), Stop> {
        self.finish_row()?;
        if !self.batch.rows.is_empty() {
            self.send()?;
        }
        Ok(())
    }
}

/// A number, or a date or duration when the cell's number format says so (calamine's
/// `format_excel_f64_ref`, then `xlsx::SheetRow`'s conversion).
fn number(n: f64, format: Option<NumFmt>, is_1904: bool) -> Val {
    let typ = match format {
        Some(NumFmt::DateTime) => ExcelDateTimeType::DateTime,
        Some(NumFmt::TimeDelta) => return Val::Number(n),
        _ => return Val::Number(n),
    };
    match ExcelDateTime::new(n, typ, is_1904).as_datetime() {
        Some(d) => Val::DateTime(d),
        None => Val::Number(n),
    }
}

/// A plain decimal number (a style id, a shared-string index); anything else is left to
/// calamine, whose parser reads some other forms its own way.
fn digits(b: &[u8]) -> Fast<u64> {
    if b.is_empty() || b.len() > 18 || !b.iter().all(u8::is_ascii_digit) {
        return Err(Unsupported);
    }
    Ok(b.iter().fold(0u64, |n, d| n * 10 + (d - b'0') as u64))
}

/// Skips a formula's text up to and past `</f>`; its entities must be well formed, as
/// quick-xml requires when calamine skips it.
fn skip_formula(b: &[u8], from: usize) -> Fast<usize> {
    let mut p = from;
    loop {
        let i =
            p + memchr::memchr2(b'<', b'&', b.get(p..).ok_or(Unsupported)?).ok_or(Unsupported)?;
        if b[i] == b'<' {
            return if b[i..].starts_with(b"</f>") {
                Ok(i + 4)
            } else {
                Err(Unsupported)
            };
        }
        let semi = memchr::memchr3(b';', b'&', b'<', &b[i + 1..]).ok_or(Unsupported)?;
        if b[i + 1 + semi] != b';' || semi == 0 {
            return Err(Unsupported);
        }
        p = i + 1 + semi + 1;
    }
}

/// Appends XML text with its line ends normalised (quick-xml's `xml10_content`) and its
/// entities resolved (calamine's `unescape_entity_to_buffer`).
fn decode_text(t: &str, out: &mut String) -> Fast<()> {
    let mut rest = t;
    loop {
        let (lit, after) = match rest.find('&') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        push_xml10(lit, out);
        let Some(after) = after else {
            return Ok(());
        };
        let semi = after.find(';').ok_or(Unsupported)?;
        let name = &after[..semi];
        if name.is_empty() || name.contains('&') {
            return Err(Unsupported);
        }
        match name {
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "amp" => out.push('&'),
            "apos" => out.push('\''),
            "quot" => out.push('"'),
            _ => {
                let num = name.strip_prefix('#').ok_or(Unsupported)?;
                let code = match num.strip_prefix('x') {
                    Some(hex) => radix(hex, 16)?,
                    None => radix(num, 10)?,
                };
                if code == 0 {
                    return Err(Unsupported);
                }
                out.push(char::from_u32(code).ok_or(Unsupported)?);
            }
        }
        rest = &after[semi + 1..];
    }
}

fn radix(s: &str, radix: u32) -> Fast<u32> {
    if s.starts_with(['+', '-']) {
        return Err(Unsupported);
    }
    u32::from_str_radix(s, radix).map_err(|_| Unsupported)
}

/// `\r\n` and a lone `\r` become `\n`.
fn push_xml10(s: &str, out: &mut String) {
    let mut rest = s;
    while let Some(i) = rest.find('\r') {
        out.push_str(&rest[..i]);
        out.push('\n');
        rest = &rest[i + 1..];
        if rest.starts_with('\n') {
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
}

/// An `<is>` element's content from just after `<is>` (calamine's `read_string_with_bufs`):
/// the text of its `<t>` elements outside phonetic runs, appended to `out`; returns the offset
/// after `</is>`.
fn inline_string(s: &str, from: usize, out: &mut String) -> Fast<usize> {
    let b = s.as_bytes();
    let mut p = from;
    let mut phonetic = false;
    loop {
        p = skip_text(b, p)?;
        let rest = &b[p..];
        if !phonetic && rest.starts_with(b"<t>") {
            let (close, flags) = text_end(b, p + 3)?;
            if !b[close..].starts_with(b"</t>") {
                return Err(Unsupported);
            }
            push_t(&s[p + 3..close], flags, false, out)?;
            p = close + 4;
            continue;
        }
        if rest.starts_with(b"</is>") {
            return Ok(p + 5);
        }
        if rest.starts_with(b"</") {
            let close = p + memchr::memchr(b'>', rest).ok_or(Unsupported)?;
            let name = &s[p + 2..close];
            if !valid_name(name) {
                return Err(Unsupported);
            }
            match name {
                "is" => return Ok(close + 1),
                "rPh" => phonetic = false,
                _ => {}
            }
            p = close + 1;
            continue;
        }
        if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            return Err(Unsupported);
        }
        let name_len = rest[1..]
            .iter()
            .position(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'))
            .ok_or(Unsupported)?;
        let name = &s[p + 1..p + 1 + name_len];
        if !valid_name(name) {
            return Err(Unsupported);
        }
        let mut space = None;
        let (after, empty) = attrs(s, p + 1 + name_len, |k, v| {
            if k == "xml:space" && space.is_none() {
                space = Some(v);
            }
            Ok(())
        })
        .map_err(|_| Unsupported)?;
        match name {
            "is" => return Err(Unsupported),
            "rPh" => phonetic = !empty,
            "t" if !phonetic => {
                if empty {
                    p = after;
                    continue;
                }
                let (close, flags) = text_end(b, after)?;
                if !b[close..].starts_with(b"</t>") {
                    return Err(Unsupported);
                }
                push_t(&s[after..close], flags, space == Some("preserve"), out)?;
                p = close + 4;
                continue;
            }
            _ => {}
        }
        p = after;
    }
}

/// Appends the text of a `<t>` element as calamine reads it: line ends normalised, entities
/// resolved, trimmed unless `xml:space="preserve"`, `_xHHHH_` escapes resolved.
#[inline]
fn push_t(raw: &str, flags: u8, preserve: bool, out: &mut String) -> Fast<()> {
    let mut owned = String::new();
    let text = if flags & (HAS_AMP | HAS_CR) != 0 {
        decode_text(raw, &mut owned)?;
        &owned[..]
    } else {
        raw
    };
    let b = text.as_bytes();
    let text = if preserve
        || (b.first().is_none_or(|&c| !is_space(c)) && b.last().is_none_or(|&c| !is_space(c)))
    {
        text
    } else {
        text.trim_matches([' ', '\t', '\r', '\n'])
    };
    if (flags & HAS_UNDERSCORE != 0 || flags & HAS_AMP != 0) && may_escape(text.as_bytes()) {
        unescape_xml_into(text, out);
    } else {
        out.push_str(text);
    }
    Ok(())
}

/// An element name the scanner accepts (no namespace prefix, nothing unusual).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.')
}

#[cfg(test)]
mod tests {
    use super::super::xlsx;
    use super::*;
    use chrono::NaiveDate;
    use std::io::Write;

    /// Every sheet and row (number and cells, as `CellRef`s) and how reading ended, as a reader
    /// hands them out; `stop_at` makes the callback fail at that row, `skip_at` skip the rest
    /// of the sheet there.
    fn transcript(
        path: &Path,
        fast: bool,
        stop_at: Option<u64>,
        skip_at: Option<u64>,
    ) -> (Vec<String>, String) {
        let mut out = vec![];
        let mut on_event = |e: RowEvent<'_>| {
            match e {
                RowEvent::Sheet {
                    name,
                    decimal_comma,
                } => out.push(format!("sheet {name:?} {decimal_comma}")),
                RowEvent::Row(n, cells) => {
                    let row: Vec<CellRef<'_>> = (0..cells.len()).map(|i| cells.cell(i)).collect();
                    out.push(format!("{n}: {row:?}"));
                    if stop_at == Some(n) {
                        return Err(format!("stopped at {n}"));
                    }
                    if skip_at == Some(n) {
                        return Ok(Flow::SkipSheet);
                    }
                }
                RowEvent::Premapped(_) => out.push("premapped (CSV only)".into()),
            }
            Ok(Flow::Continue)
        };
        let result = if fast {
            xlsx::read(
                path,
                "book.xlsx",
                crate::ingest::Progress::Hidden,
                &mut on_event,
            )
        } else {
            xlsx::read_with_calamine(path, "book.xlsx", &mut on_event)
        };
        let end = match result {
            Ok(info) => format!("ok: {}", info.dialect),
            Err(e) => format!("error: {e}"),
        };
        (out, end)
    }

    fn workbook_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                workbook_files(&path, out);
            } else {
                let name = path.to_string_lossy().to_ascii_lowercase();
                if name.ends_with(".xlsx") || name.ends_with(".xlsm") {
                    out.push(path);
                }
            }
        }
    }

    #[test]
    fn the_scanner_hands_out_what_calamine_does_for_every_sample_and_fixture() {
        let mut files = vec![];
        workbook_files(Path::new("samples"), &mut files);
        workbook_files(Path::new("tests/fixtures"), &mut files);
        files.sort();
        assert!(files.len() >= 10, "the samples were found: {files:?}");
        let mut rows = 0;
        for file in &files {
            let before = xlsx::sheets_left_to_calamine();
            let fast = transcript(file, true, None, None);
            let left = xlsx::sheets_left_to_calamine() - before;
            let reference = transcript(file, false, None, None);
            assert_eq!(fast, reference, "{}", file.display());
            rows += fast.0.len();
            // The bundled samples and the readable fixtures are read by the scanner alone.
            let bad = file
                .components()
                .any(|c| c.as_os_str() == "bad" || c.as_os_str() == "fuzz");
            if !bad {
                assert_eq!(left, 0, "{} was left to calamine", file.display());
            }
            // Stopping part-way (a callback error) and skipping a sheet stop both readers
            // at the same row.
            let n = fast
                .0
                .iter()
                .filter_map(|l| l.split(':').next()?.parse::<u64>().ok())
                .nth(fast.0.len() / 2);
            if let Some(n) = n {
                assert_eq!(
                    transcript(file, true, Some(n), None),
                    transcript(file, false, Some(n), None),
                    "{}",
                    file.display()
                );
                assert_eq!(
                    transcript(file, true, None, Some(n)),
                    transcript(file, false, None, Some(n)),
                    "{}",
                    file.display()
                );
            }
        }
        assert!(rows > 100, "{rows} rows compared");
    }

    const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd"/><numFmt numFmtId="165" formatCode="0.00&quot;d&quot;"/></numFmts><fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="165" applyNumberFormat="1"/><xf numFmtId="46" applyNumberFormat="1"/></cellXfs><dxfs count="1"><dxf><numFmt numFmtId="165" formatCode="yyyy"/><font><b/></font></dxf></dxfs></styleSheet>"#;

    const SHARED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3"><si><t>first</t></si><si><r><t>ri</t></r><r><rPr><b/></rPr><t xml:space="preserve">ch &amp; </t></r></si><si><t/></si></sst>"#;

    /// An .xlsx file with the given sheets (name, XML of the sheetData content or a whole
    /// worksheet when it starts with `<?xml`).
    fn book(sheets: &[(&str, &str)], date1904: bool) -> tempfile::NamedTempFile {
        let file = tempfile::Builder::new().suffix(".xlsx").tempfile().unwrap();
        let mut zip = zip::ZipWriter::new(std::fs::File::create(file.path()).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut put = |name: &str, text: &str| {
            zip.start_file(name, opts).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        };
        put(
            "[Content_Types].xml",
            r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#,
        );
        put(
            "_rels/.rels",
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        );
        let mut rels = String::from(
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
        );
        let mut wb = format!(
            r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr{}/><sheets>"#,
            if date1904 { r#" date1904="1""# } else { "" }
        );
        for (i, (name, _)) in sheets.iter().enumerate() {
            rels.push_str(&format!(r#"<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{}.xml"/>"#, i + 1, i + 1));
            wb.push_str(&format!(
                r#"<sheet name="{name}" sheetId="{}" r:id="rId{}"/>"#,
                i + 1,
                i + 1
            ));
        }
        rels.push_str(r#"<Relationship Id="rS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#);
        wb.push_str("</sheets></workbook>");
        put("xl/_rels/workbook.xml.rels", &rels);
        put("xl/workbook.xml", &wb);
        put("xl/styles.xml", STYLES);
        put("xl/sharedStrings.xml", SHARED);
        for (i, (_, xml)) in sheets.iter().enumerate() {
            let text = if xml.starts_with("<?xml") {
                xml.to_string()
            } else {
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:C3"/><sheetData>{xml}</sheetData><pageMargins left="0.7"/></worksheet>"#
                )
            };
            put(&format!("xl/worksheets/sheet{}.xml", i + 1), &text);
        }
        zip.finish().unwrap();
        file
    }

    /// The fast reader's transcript, checked against calamine's and that the scanner read it
    /// alone (`scanned`) or not.
    fn both(sheets: &[(&str, &str)], date1904: bool, scanned: bool) -> (Vec<String>, String) {
        let file = book(sheets, date1904);
        let before = xlsx::sheets_left_to_calamine();
        let fast = transcript(file.path(), true, None, None);
        let left = xlsx::sheets_left_to_calamine() - before;
        assert_eq!(fast, transcript(file.path(), false, None, None));
        assert_eq!(left == 0, scanned, "{fast:?}");
        fast
    }

    fn dt(y: i32, m: u32, d: u32, h: u32) -> String {
        let d = NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .unwrap();
        format!("{:?}", CellRef::DateTime(d))
    }

    #[test]
    fn tricky_cells_read_as_calamine_reads_them() {
        let sheet = r#"<row r="1" spans="1:6"><c r="A1" t="inlineStr"><is><t>a &amp; b &lt;&#x41;&#66;&gt;</t></is></c><c t="inlineStr"><is><r><rPr><b/><sz val="11"/></rPr><t>rich </t></r><r><t xml:space="preserve"> text </t></r><rPh sb="0" eb="1"><t>PHON</t></rPh></is></c><c t="s"><v>1</v></c><c t="b"><v>1</v></c><c t="b"><v>false</v></c><c t="e"><v>#N/A</v></c></row>
<row><c><v/></c><c t="str"><v>x_x0041_y</v></c><c t="d"><v>2026-01-05T10:00:00</v></c><c s="1"><v>46027.5</v></c><c s="3"><v>1.25</v></c><c s="4"><v>1.5</v></c><c><f>SUM(A1:A2)&amp;"&lt;"</f><v>3</v></c></row>
<row r="5"><c r="B5"><v>7</v></c><c r="XFE5"><v>9</v></c><c r="C5" t="s"><v>0</v></c><c r="D5" t="s"><v>2</v></c><c r="E5" t="inlineStr"><is><t>  padded  </t></is></c><c r="F5"><v>not a number</v></c></row>
<row r="6"/><row r="7"><c r="A7" s="2"><v>46027</v></c></row>"#;
        let (rows, end) = both(&[("Data", sheet)], false, true);
        assert_eq!(end, "ok: workbook with 1 sheet(s)");
        assert_eq!(rows[0], "sheet Some(\"Data\") false");
        // Entities and character references resolved; rich-text runs joined ("rich" trimmed,
        // " text " kept: xml:space="preserve"), the phonetic run left out; shared string 1 is
        // "ri" + "ch & ".
        assert_eq!(
            rows[1],
            r##"1: [Text("a & b <AB>"), Text("rich text "), Text("rich & "), Bool(true), Bool(false), Error("#N/A")]"##
        );
        // Row 2 has no r: it follows row 1. `_x0041_` is "A"; style 1 is built-in format 14
        // (a date): 46027.5 is 2026-01-05 12:00 in the 1900 system; style 3 is a custom
        // non-date format, style 4 the [h]:mm:ss duration (a number); a formula keeps its
        // cached value.
        assert_eq!(
            rows[2],
            format!(
                r#"2: [Empty, Text("xAy"), Text("2026-01-05T10:00:00"), {}, Number(1.25), Number(1.5), Number(3.0)]"#,
                dt(2026, 1, 5, 12)
            )
        );
        // Column XFE (16,385th) is past the last column and dropped; shared string 2 is
        // empty; inline text is trimmed; a number that does not parse stays text.
        assert_eq!(
            rows[3],
            r#"5: [Empty, Number(7.0), Text("first"), Empty, Text("padded"), Text("not a number")]"#
        );
        // A custom yyyy-mm-dd format is a date.
        assert_eq!(rows[4], format!("7: [{}]", dt(2026, 1, 5, 0)));
        assert_eq!(rows.len(), 5);
    }

    #[test]
    fn numbers_in_every_written_form_read_as_calamine_reads_them() {
        let sheet = r#"<row r="1"><c r="A1"><v>-5</v></c><c r="B1"><v>1e3</v></c><c r="C1"><v>007</v></c><c r="D1"><v>12345678901234567890</v></c><c r="E1" t="n"><v>0.1</v></c><c r="F1"><v>999999999999999</v></c><c r="G1" s="1"><v>0</v></c><c r="H1"><v>.5</v></c></row>"#;
        let (rows, _) = both(&[("N", sheet)], false, true);
        // 12345678901234567890 rounds to the nearest double; serial 0 is 1899-12-31 in
        // calamine's reading of Excel's 1900 system.
        assert_eq!(
            rows[1],
            format!(
                "1: [Number(-5.0), Number(1000.0), Number(7.0), Number(1.2345678901234567e19), Number(0.1), Number(999999999999999.0), {:?}, Number(0.5)]",
                CellRef::DateTime(
                    NaiveDate::from_ymd_opt(1899, 12, 31)
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .unwrap()
                )
            )
        );
    }

    #[test]
    fn the_1904_date_system_moves_dates_by_1462_days() {
        let sheet = r#"<row r="1"><c r="A1" s="1"><v>46027.5</v></c></row>"#;
        let (rows, _) = both(&[("S", sheet)], true, true);
        // 2026-01-05 + 1,462 days (four years, one of them leap, and a day) = 2030-01-06.
        assert_eq!(rows[1], format!("1: [{}]", dt(2030, 1, 6, 12)));
    }

    #[test]
    fn many_rows_cross_batches_and_stop_where_calamine_stops() {
        let mut sheet = String::new();
        for r in 1..=5000 {
            sheet.push_str(&format!(
                r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="inlineStr"><is><t>t{r}</t></is></c></row>"#
            ));
            if r % 777 == 0 {
                // The same row number again: its cells join the row before.
                sheet.push_str(&format!(r#"<row r="{r}"><c r="D{r}"><v>1</v></c></row>"#));
            }
        }
        let (rows, _) = both(&[("A", &sheet), ("B", "")], false, true);
        assert_eq!(rows.len(), 5000 + 2);
        assert_eq!(
            rows[777],
            r#"777: [Number(777.0), Text("t777"), Empty, Number(1.0)]"#
        );
        let file = book(&[("A", &sheet), ("B", "<row><c><v>1</v></c></row>")], false);
        for (stop, skip) in [(Some(2500), None), (None, Some(1500)), (None, Some(1))] {
            assert_eq!(
                transcript(file.path(), true, stop, skip),
                transcript(file.path(), false, stop, skip)
            );
        }
    }

    #[test]
    fn what_the_scanner_does_not_understand_is_left_to_calamine() {
        // A comment in the sheet data, a namespace prefix, an unknown entity in a formula
        // (calamine skips it), an attribute with spaces around `=`: calamine reads the
        // sheet (from the row the scanner stopped at) and the result is the same.
        for sheet in [
            r#"<row r="1"><c r="A1"><v>1</v></c></row><!-- note --><row r="2"><c r="A2"><v>2</v></c></row>"#,
            r#"<row r="1"><c r="A1" t = "inlineStr"><is><t>x</t></is></c></row>"#,
            r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2" t="str"><v><![CDATA[<x>]]></v></c></row>"#,
        ] {
            let (rows, end) = both(&[("S", sheet)], false, false);
            assert!(end.starts_with("ok"), "{end}");
            assert!(rows.len() >= 2);
        }
        let prefixed = r#"<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData><x:row r="1"><x:c r="A1"><x:v>5</x:v></x:c></x:row></x:sheetData></x:worksheet>"#;
        let (rows, _) = both(&[("P", prefixed)], false, false);
        assert_eq!(rows[1], "1: [Number(5.0)]");
    }

    #[test]
    fn malformed_sheets_give_a_file_error_not_a_panic() {
        // A cell never closed; a shared-string index past the table; a bad boolean: the same
        // error as calamine's, naming the file.
        for sheet in [
            r#"<row r="1"><c r="A1"><v>1</v></row>"#,
            r#"<row r="1"><c r="A1" t="s"><v>99</v></c></row>"#,
            r#"<row r="1"><c r="A1" t="b"><v>maybe</v></c></row>"#,
        ] {
            let (_, end) = both(&[("S", sheet)], false, false);
            assert!(
                end.starts_with("error: book.xlsx: cannot read the spreadsheet"),
                "{end}"
            );
        }
        // A row never closed is no error to calamine, nor to the scanner.
        let (rows, end) = both(
            &[("S", r#"<row r="1"><c r="A1"><v>1</v></c>"#)],
            false,
            true,
        );
        assert_eq!(
            (rows[1].as_str(), end.as_str()),
            ("1: [Number(1.0)]", "ok: workbook with 1 sheet(s)")
        );
    }

    #[test]
    fn a_cell_reference_beyond_any_spreadsheet_is_refused_in_plain_words() {
        // Seven Zs overflow calamine's u32 column arithmetic (26^7 > 2^32), 4294967296 its
        // row arithmetic.
        for r in ["ZZZZZZZ1", "A4294967296"] {
            let sheet =
                format!(r#"<row r="1"><c r="A1"><v>1</v></c><c r="{r}"><v>2</v></c></row>"#);
            let file = book(&[("S", &sheet)], false);
            let (rows, end) = transcript(file.path(), true, None, None);
            assert_eq!(
                rows.len(),
                1,
                "the sheet event only: row 1 was never complete"
            );
            assert!(
                end.starts_with(
                    "error: book.xlsx: cannot read the spreadsheet: sheet 'S': cell reference"
                ) && end.contains(r),
                "{end}"
            );
        }
    }
}
