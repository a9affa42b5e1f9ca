//! The one writer every sheet writes through. The path is chosen once, when the workbook is
//! started ([`Book::start`]), from [`SheetWriter`] and the number of calculation lines:
//!
//! - **library**: every cell through rust_xlsxwriter;
//! - **constant memory**: the same, the long sheets (Calculation Lines) in rust_xlsxwriter's
//!   constant-memory mode (more than [`CONSTANT_MEMORY_LINES`] lines);
//! - **streamed** (the default): the rows of the line tables ([`Sheet::lines`]) written as XML
//!   by `streamed_rows`, into placeholder sheets that rust_xlsxwriter lays out, re-packed when
//!   the workbook is finished ([`Book::finish`]).
//!
//! A sheet asks for a [`Sheet`] ([`Book::add_sheet`], [`Book::add_long_sheet`]), writes its
//! cells through it (it derefs to the rust_xlsxwriter worksheet for charts, widths and the
//! like) and hands its line tables to [`Sheet::lines`] as a [`LineRows`]; none of them knows
//! which path writes them.

use std::ops::{Deref, DerefMut};

use rust_xlsxwriter::{
    Chart, DocProperties, Format, Formula, ProtectionOptions, Workbook, Worksheet, XlsxError,
};

use super::formats::Formats;
use super::streamed_rows::{self, Rows, Share, Streamed, Wrap};
use crate::report::cell::{Cell, CellFormula, Col};

/// How the sheets that grow with the lines (AI Services, Calculation Lines) are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SheetWriter {
    /// Cell by cell through rust_xlsxwriter, like every other sheet.
    Library,
    /// Their rows as XML written by us, streamed and deflated on a second thread (the
    /// default: about four times quicker; see `streamed_rows`). The cells are the same.
    Streamed,
}

/// The deflate level of the written workbook (0 to 9).
const ZIP_LEVEL: u8 = 3;

/// The deflate level of the streamed sheets (AI Services, Calculation Lines). Deflating them
/// runs on a second thread beside the thread writing their XML and is the slower of the two
/// at level 3: on the 132,000-line bench workbook (373 MB of sheet XML) level 1 deflates in
/// under half the time of level 3, for 79 MB against 57 MB. See docs/performance.md.
const STREAMED_ZIP_LEVEL: u8 = 1;

/// Above this many lines the Calculation Lines sheets are written in constant-memory mode
/// (on the library path).
const CONSTANT_MEMORY_LINES: usize = 50_000;

/// The path that writes the workbook, chosen once in [`Book::start`].
enum Path<'a> {
    /// Every cell through rust_xlsxwriter.
    Library,
    /// Every cell through rust_xlsxwriter, the long sheets in constant-memory mode.
    ConstantMemory,
    /// The line tables' rows written as XML, each sheet's when the workbook is finished.
    Streamed(Vec<Streamed<'a>>),
}

/// The workbook being written: rust_xlsxwriter's workbook, the formats, and the path.
pub(super) struct Book<'a> {
    wb: Workbook,
    f: &'a Formats,
    path: Path<'a>,
    /// Protect every sheet (a final workbook): only cells with an unlocked format can be
    /// edited (the Cover's sign-off cells).
    protect: bool,
}

/// What a protected sheet still lets its reader do: select, resize columns and rows, filter.
/// Nothing that changes a value, a formula or the layout of the tables.
fn protection() -> ProtectionOptions {
    ProtectionOptions {
        format_columns: true,
        format_rows: true,
        use_autofilter: true,
        ..ProtectionOptions::default()
    }
}

impl<'a> Book<'a> {
    /// Starts a workbook with `props`, its line tables written by `writer`; `calc_lines` is the
    /// number of calculation lines (many lines take the constant-memory path on the library);
    /// `protect`: every sheet protected (a final workbook).
    pub(super) fn start(
        f: &'a Formats,
        writer: SheetWriter,
        calc_lines: usize,
        props: &DocProperties,
        protect: bool,
    ) -> Book<'a> {
        let path = match writer {
            SheetWriter::Streamed => Path::Streamed(vec![]),
            SheetWriter::Library if calc_lines > CONSTANT_MEMORY_LINES => Path::ConstantMemory,
            SheetWriter::Library => Path::Library,
        };
        let mut wb = Workbook::new();
        // Deflate level 3 instead of the default 6 for the parts rust_xlsxwriter writes (the
        // library-written large sheets included; the streamed ones use STREAMED_ZIP_LEVEL):
        // at level 6 compressing was a quarter of the build time of a 132,000-line workbook.
        wb.set_zip_compression_level(ZIP_LEVEL);
        wb.set_properties(props);
        Book {
            wb,
            f,
            path,
            protect,
        }
    }

    /// Adds the sheet `name`, after the ones added before it.
    pub(super) fn add_sheet(&mut self, name: &str) -> Result<Sheet<'_, 'a>, XlsxError> {
        let ws = self.wb.add_worksheet();
        ws.set_name(name)?;
        if self.protect {
            ws.protect_with_options(&protection());
        }
        Ok(Sheet {
            ws,
            f: self.f,
            path: &mut self.path,
            widths: vec![],
            tall: None,
        })
    }

    /// Adds the sheet `name` for a table that may run to a sheet's last row: written strictly
    /// top to bottom (never a cell above one written before), so that the constant-memory path
    /// can write each row to a temporary file as it is finished.
    pub(super) fn add_long_sheet(&mut self, name: &str) -> Result<Sheet<'_, 'a>, XlsxError> {
        let ws = match self.path {
            Path::ConstantMemory => self.wb.add_worksheet_with_constant_memory()?,
            Path::Library | Path::Streamed(_) => self.wb.add_worksheet(),
        };
        ws.set_name(name)?;
        if self.protect {
            ws.protect_with_options(&protection());
        }
        Ok(Sheet {
            ws,
            f: self.f,
            path: &mut self.path,
            widths: vec![],
            tall: None,
        })
    }

    /// Writes the workbook to `out` (and hands it back): rust_xlsxwriter's, with the streamed
    /// sheets' rows written in as they are deflated.
    pub(super) fn finish_into<W: std::io::Write + std::io::Seek + Send>(
        self,
        mut out: W,
    ) -> crate::error::Result<W> {
        let Book {
            mut wb, f, path, ..
        } = self;
        let bytes = wb.save_to_buffer().map_err(err)?;
        let streamed = match path {
            Path::Streamed(s) if !s.is_empty() => s,
            _ => {
                out.write_all(&bytes).map_err(|e| {
                    crate::error::Error::Internal(format!("writing the workbook: {e}"))
                })?;
                return Ok(out);
            }
        };
        streamed_rows::assemble(&bytes, streamed, &f.int, i64::from(STREAMED_ZIP_LEVEL), out)
    }
}

pub(super) fn err(e: XlsxError) -> crate::error::Error {
    crate::error::Error::Internal(format!("writing the workbook: {e}"))
}

/// The formats of the lines' cells, one per cell of the prototype row that tells the
/// streamed writer their style ids (`streamed_rows`): the integer format first, the formats
/// every line table uses, then those the table says it uses ([`LineRows::formats`]). Only
/// formats the lines use: one first used by the prototype row would take a place in the
/// workbook's list of number formats that the library path does not give it.
fn prototype_formats<'a>(f: &'a Formats, more: Vec<&'a Format>) -> Vec<&'a Format> {
    let mut v = vec![&f.int, &f.kwh, &f.kg, &f.dq];
    v.extend(more);
    v
}

/// The unit of a total in [`Sheet::totals_row`], which gives it its number format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Total {
    /// A count (requests, tokens): no decimals.
    Count,
    /// kWh or litres: one decimal.
    Kwh,
    /// kgCO2e: three decimals.
    Kg,
}

/// The rows of a table with a row per line (AI Services, Calculation Lines), handed to
/// [`Sheet::lines`]: the cells of each and, for rows with live formulas, what they refer to.
pub(super) trait LineRows<'a> {
    /// What a row's formulas refer to: consecutive rows with the same plan have the same
    /// formulas but for their own row number (the streamed path shares them).
    type Plan: Copy + PartialEq;
    /// The number of rows.
    fn len(&self) -> usize;
    /// The formats the rows' cells use besides the integer, kWh, kgCO2e and data-quality ones,
    /// in the order a row's cells first use them.
    fn formats(&self) -> Vec<&'a Format> {
        vec![]
    }
    /// True when the rows' text wraps in its column (file names, flags, factor ids, formulas:
    /// nothing is cut off on screen or on paper), each row as tall as its longest text needs.
    fn wraps(&self) -> bool {
        false
    }
    /// The cells of row `j` (0-based within the table), those its formulas replace included.
    fn cells(&self, j: usize) -> Vec<Cell<'a>>;
    /// The formula plan of row `j` (`j < len()`); `None`: values only.
    fn plan(&self, _j: usize) -> Option<Self::Plan> {
        None
    }
    /// The formulas of row `j`, on sheet row `r` (0-based), with `plan`, each with its cached
    /// value; without their texts (empty) when `text` is false (a shared formula's later cells).
    fn formulas(
        &self,
        _r: u32,
        _j: usize,
        _plan: &Self::Plan,
        _text: bool,
    ) -> Vec<CellFormula<'a>> {
        vec![]
    }
}

/// A sheet being written: the rust_xlsxwriter worksheet (through `Deref`), the formats, and
/// the path its line tables take.
pub(super) struct Sheet<'b, 'a> {
    ws: &'b mut Worksheet,
    /// The formats used everywhere.
    pub(super) f: &'a Formats,
    path: &'b mut Path<'a>,
    /// The column widths set by [`Sheet::header`] (characters), for the heights of headings.
    widths: Vec<f64>,
    /// The last row [`Sheet::wrapped`] set the height of, and that height: a second wrapped
    /// cell on the row only ever makes it taller.
    tall: Option<(u32, f64)>,
}

/// Paper sizes (the OOXML `paperSize` codes rust_xlsxwriter's `set_paper_size` takes).
const PAPER_A4: u8 = 9;
const PAPER_A3: u8 = 8;

/// The height of a row of one line of 11-point text, in points (Excel's default row).
const LINE_PT: f64 = 15.0;

/// A default row in pixels (15 points at 96 dpi).
const ROW_PX: u32 = 20;

/// The number of lines `text` takes when wrapped, by words, in a column `width` characters
/// wide (Excel's unit: the width of a digit). Conservative for bold headings: a line holds as
/// many characters as the width (the padding taken by the narrower letters), and a word longer
/// than a line is broken.
pub(super) fn wrapped_lines(text: &str, width: f64) -> usize {
    let per_line = (width.floor() as usize).max(4);
    text.split('\n')
        .map(|para| {
            let mut lines = 1;
            let mut used = 0usize;
            for word in para.split_whitespace() {
                let n = word.chars().count();
                let need = if used == 0 { n } else { used + 1 + n };
                if need <= per_line {
                    used = need;
                } else if used == 0 {
                    lines += (n - 1) / per_line;
                    used = (n - 1) % per_line + 1;
                } else {
                    lines += 1 + (n.max(1) - 1) / per_line;
                    used = (n.max(1) - 1) % per_line + 1;
                }
            }
            lines
        })
        .sum()
}

/// The height (points) of a heading row whose cells are `heads` in columns `widths` wide:
/// the tallest wrapped heading, never less than one line.
pub(super) fn heading_height<S: AsRef<str>>(heads: &[S], widths: &[f64]) -> f64 {
    let lines = heads
        .iter()
        .zip(widths)
        .map(|(h, w)| wrapped_lines(h.as_ref(), *w))
        .max()
        .unwrap_or(1)
        .max(1);
    LINE_PT * lines as f64
}

impl Deref for Sheet<'_, '_> {
    type Target = Worksheet;
    fn deref(&self) -> &Worksheet {
        self.ws
    }
}

impl DerefMut for Sheet<'_, '_> {
    fn deref_mut(&mut self) -> &mut Worksheet {
        self.ws
    }
}

impl<'a> Sheet<'_, 'a> {
    /// Page setup shared by every sheet: A4 landscape, narrow margins, one page wide (as
    /// many tall as it takes), rows 1 to `header_row` repeated on every page, the sheet's
    /// name and the page number in the footer.
    pub(super) fn page_setup(&mut self, header_row: u32) -> Result<(), XlsxError> {
        self.print_layout();
        self.ws.set_repeat_rows(0, header_row)?;
        Ok(())
    }

    /// [`Sheet::page_setup`] without repeated rows (a sheet of text, no table heading).
    pub(super) fn print_layout(&mut self) {
        self.ws.set_landscape();
        self.ws.set_paper_size(PAPER_A4);
        // Left, right, top, bottom, header, footer (inches): Excel's "narrow" margins.
        self.ws.set_margins(0.25, 0.25, 0.5, 0.5, 0.3, 0.3);
        self.ws.set_print_fit_to_pages(1, 0);
        self.ws.set_footer("&L&A&RPage &P of &N");
    }

    /// A3 paper for a table too wide to read on A4 when fitted to one page wide (the line
    /// tables: AI Services, Calculation Lines, Imports, Supplier Data). Every column is
    /// printed: the sheet stays one page wide, on paper 1.41 times as wide.
    pub(super) fn wide_paper(&mut self) {
        self.ws.set_paper_size(PAPER_A3);
    }

    /// Writes a header row at `row`, sets widths and the row's height to fit the wrapped
    /// headings, freezes below it; returns the next row.
    pub(super) fn header(&mut self, row: u32, cols: &[Col]) -> Result<u32, XlsxError> {
        for (c, (name, width)) in cols.iter().enumerate() {
            self.ws.text_fmt(row, c as u16, name, &self.f.header)?;
            self.ws.set_column_width(c as u16, *width)?;
        }
        self.widths = cols.iter().map(|c| c.1).collect();
        let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
        self.ws
            .set_row_height(row, heading_height(&names, &self.widths))?;
        self.ws.set_freeze_panes(row + 1, 0)?;
        self.page_setup(row)?;
        Ok(row + 1)
    }

    /// Writes headings `heads` on `row` from column `first_col` on, in columns `widths` wide
    /// (set), the row tall enough for the wrapped headings.
    pub(super) fn headings(
        &mut self,
        row: u32,
        first_col: u16,
        heads: &[&str],
        widths: &[f64],
    ) -> Result<(), XlsxError> {
        for (c, (h, w)) in heads.iter().zip(widths).enumerate() {
            let col = first_col + c as u16;
            self.ws.text_fmt(row, col, h, &self.f.header)?;
            self.ws.set_column_width(col, *w)?;
        }
        self.ws.set_row_height(row, heading_height(heads, widths))?;
        Ok(())
    }

    /// Inserts `chart`, `width` × `height` pixels, with its top left corner at the top left of
    /// cell (`row`, `col`); returns the first row below it. The row count assumes rows of the
    /// default height (20 pixels): taller rows only end the chart higher, so whatever is
    /// written from the returned row on is below the chart.
    pub(super) fn place_chart(
        &mut self,
        row: u32,
        col: u16,
        chart: &mut Chart,
        width: u32,
        height: u32,
    ) -> Result<u32, XlsxError> {
        chart.set_width(width).set_height(height);
        self.ws.insert_chart(row, col, chart)?;
        Ok(row + height.div_ceil(ROW_PX) + 1)
    }

    /// Writes `cells` on `row` from column A on.
    pub(super) fn row(&mut self, row: u32, cells: &[Cell<'_>]) -> Result<(), XlsxError> {
        write_row(self.ws, self.f, row, cells)
    }

    /// Writes wrapped text and sets the row height to fit it (spreadsheet apps do not grow
    /// rows for wrapped text on their own when opening a generated file).
    pub(super) fn wrapped(
        &mut self,
        row: u32,
        col: u16,
        text: &str,
        width_chars: f64,
    ) -> Result<(), XlsxError> {
        self.ws.text_fmt(row, col, text, &self.f.wrap)?;
        // Text of the regular face runs a little narrower than the digits the width counts.
        let lines = wrapped_lines(text, width_chars * 1.15);
        if lines > 1 {
            let mut height = LINE_PT * lines as f64;
            if let Some((r, h)) = self.tall {
                if r == row {
                    height = height.max(h);
                }
            }
            self.ws.set_row_height(row, height)?;
            self.tall = Some((row, height));
        }
        Ok(())
    }

    /// [`Sheet::row`], each text longer than its column (as [`Sheet::header`] set it) wrapped
    /// and the row tall enough for it: nothing is cut off on screen or on paper.
    pub(super) fn row_wrapped(&mut self, row: u32, cells: &[Cell<'_>]) -> Result<(), XlsxError> {
        write_row(self.ws, self.f, row, cells)?;
        let texts = cells.iter().enumerate().filter_map(|(c, cell)| match cell {
            Cell::Text(s) => Some((c, *s)),
            Cell::Owned(s) => Some((c, s.as_str())),
            _ => None,
        });
        let texts: Vec<(usize, &str)> = texts.collect();
        let long = |(c, text): &(usize, &str)| {
            self.widths
                .get(*c)
                .is_some_and(|w| text.chars().count() as f64 > *w)
        };
        if !texts.iter().any(long) {
            return Ok(());
        }
        // A tall row: every text wrapped at the top of its cell, so that the row reads across.
        for (c, text) in texts {
            let width = self.widths.get(c).copied().unwrap_or(8.43);
            self.wrapped(row, c as u16, text, width)?;
        }
        Ok(())
    }

    /// Bold column labels `heads` of a small table below another, in columns `cols` (as wide
    /// as [`Sheet::header`] set them), wrapped, the row as tall as the longest needs.
    pub(super) fn labels(
        &mut self,
        row: u32,
        cols: &[u16],
        heads: &[&str],
    ) -> Result<(), XlsxError> {
        let mut widths = vec![];
        for (c, h) in cols.iter().zip(heads) {
            self.ws.text_fmt(row, *c, h, &self.f.label_wrap)?;
            widths.push(self.widths.get(*c as usize).copied().unwrap_or(8.43));
        }
        let height = heading_height(heads, &widths);
        if height > LINE_PT {
            self.ws.set_row_height(row, height)?;
        }
        Ok(())
    }

    /// A footnote across columns A..=`last_col` (merged, wrapped, tall enough for its text in
    /// the columns' widths when [`Sheet::header`] set them, else in `width_chars`).
    pub(super) fn note(
        &mut self,
        row: u32,
        last_col: u16,
        text: &str,
        width_chars: f64,
    ) -> Result<(), XlsxError> {
        self.ws
            .merge_text(row, 0, row, last_col, text, &self.f.wrap)?;
        // The merged cell's width when the header set the columns', else the caller's.
        let width = match self.widths.get(..=last_col as usize) {
            Some(w) => w.iter().sum(),
            None => width_chars,
        };
        // Text of the regular face runs a little narrower than the digits the width counts.
        let lines = wrapped_lines(text, width * 1.15);
        self.ws.set_row_height(row, LINE_PT * lines as f64)?;
        Ok(())
    }

    /// Writes a bold totals row: `label` in column 0, sums below each numeric column (none
    /// where a value is `None`).
    pub(super) fn totals_row(
        &mut self,
        row: u32,
        label: &str,
        first_numeric: u16,
        values: &[(Option<f64>, Total)],
    ) -> Result<(), XlsxError> {
        let f = self.f;
        self.ws.text_fmt(row, 0, label, &f.total_label)?;
        for (i, (v, kind)) in values.iter().enumerate() {
            let Some(v) = *v else { continue };
            let fmt = match kind {
                Total::Count => &f.total_int,
                Total::Kwh => &f.total_kwh,
                Total::Kg => &f.total_kg,
            };
            self.ws
                .write_number_with_format(row, first_numeric + i as u16, v, fmt)?;
        }
        Ok(())
    }

    /// A table below another on a sheet: a blank row, its title, its headings (at least
    /// `height` points tall, as tall as the headings need in the columns of the table above);
    /// returns the row of its first line.
    pub(super) fn section(
        &mut self,
        r: u32,
        title: &str,
        heads: &[&str],
        height: f64,
    ) -> Result<u32, XlsxError> {
        self.ws.text_fmt(r + 1, 0, title, &self.f.label)?;
        for (c, h) in heads.iter().enumerate() {
            self.ws.text_fmt(r + 2, c as u16, h, &self.f.header)?;
        }
        let fitted = heading_height(heads, &self.widths);
        self.ws.set_row_height(r + 2, height.max(fitted))?;
        Ok(r + 3)
    }

    /// Writes the table `rows` from row `first` on (the row below the header, row 1, on the
    /// streamed path: its placeholder's prototype row); returns the row after them.
    pub(super) fn lines<R: LineRows<'a> + 'a>(
        &mut self,
        first: u32,
        rows: R,
    ) -> Result<u32, XlsxError> {
        let n = rows.len();
        if n == 0 {
            return Ok(first);
        }
        let layout = Layout {
            wrap: rows.wraps(),
            widths: self.widths.clone(),
        };
        match self.path {
            Path::Library | Path::ConstantMemory => {
                let wrap = layout.wrap.then_some(Wrap { fmt: &self.f.wrap });
                for j in 0..n {
                    let r = first + j as u32;
                    let mut cells = rows.cells(j);
                    let height = layout.height(&cells);
                    let formulas = rows.plan(j).map(|p| rows.formulas(r, j, &p, true));
                    // A cell that gets a formula is written once, as the formula.
                    for (col, ..) in formulas.iter().flatten() {
                        if let Some(cell) = cells.get_mut(*col as usize) {
                            *cell = Cell::Blank;
                        }
                    }
                    write_cells(self.ws, self.f, r, &cells, wrap.as_ref())?;
                    for (col, formula, value, fmt) in formulas.into_iter().flatten() {
                        self.ws.write_formula_with_format(
                            r,
                            col,
                            Formula::new(formula).set_result(value.to_string()),
                            fmt,
                        )?;
                    }
                    if let Some(h) = height {
                        self.ws.set_row_height(r, h)?;
                    }
                }
            }
            Path::Streamed(ref mut streamed) => {
                if first != 1 {
                    return Err(XlsxError::ParameterError(
                        "streamed lines start on the row below the header (row 2)".into(),
                    ));
                }
                // The prototype row (Excel row 2), replaced by the streamed rows.
                let mut more = rows.formats();
                let wrapping = layout.wrap;
                if wrapping {
                    more.push(&self.f.wrap);
                }
                let protos = prototype_formats(self.f, more);
                for (c, fmt) in protos.iter().enumerate() {
                    self.ws.write_number_with_format(1, c as u16, 0.0, fmt)?;
                }
                let wrap_fmt = wrapping.then_some(&self.f.wrap);
                streamed.push(Streamed {
                    name: self.ws.name(),
                    protos,
                    rows: Box::new(move |out| stream(out, first, &rows, &layout, wrap_fmt)),
                });
            }
        }
        Ok(first + n as u32)
    }
}

/// The layout of a line table's rows: whether their text wraps, and the columns' widths
/// (characters, as [`Sheet::header`] set them).
struct Layout {
    wrap: bool,
    widths: Vec<f64>,
}

impl Layout {
    /// The height (points) of a row of `cells`: as many lines as its longest text takes in
    /// its column ([`cell_lines`]), at most Excel's 409 points; `None` when every text fits on
    /// one line (the default height) or the text does not wrap.
    fn height(&self, cells: &[Cell<'_>]) -> Option<f64> {
        if !self.wrap {
            return None;
        }
        let mut lines = 1;
        for (c, cell) in cells.iter().enumerate() {
            let text = match cell {
                Cell::Text(s) => *s,
                Cell::Owned(s) => s.as_str(),
                _ => continue,
            };
            let width = self.widths.get(c).copied().unwrap_or(8.43);
            // Bytes are never fewer than characters: a text this short fits on one line.
            if text.len() as f64 <= width {
                continue;
            }
            lines = lines.max(cell_lines(text, width));
        }
        (lines > 1).then(|| (LINE_PT * lines as f64).min(MAX_ROW_PT))
    }
}

/// The number of lines `text` takes when wrapped in a cell `width` characters wide (Excel's
/// unit: the width of a digit), as a spreadsheet breaks it: after a space or a comma (the
/// lists of rows and of factor ids), a piece longer than a line broken anywhere. A line holds
/// 1.1 widths of characters (the regular face runs a little narrower than the digits: a
/// conservative guess, so that the row is never too short for its text).
fn cell_lines(text: &str, width: f64) -> usize {
    let per_line = ((width * 1.1).floor() as usize).max(4);
    // One pass: a piece is a word, its comma if any, and the spaces after it (a space at the
    // end of a line may hang past its edge, so only the word counts towards the line).
    let mut lines = 1;
    let mut used = 0usize;
    let (mut word, mut spaces, mut ended) = (0usize, 0usize, false);
    let place = |word: usize, spaces: usize, lines: &mut usize, used: &mut usize| {
        if word + spaces == 0 {
            return;
        }
        if *used + word <= per_line {
            *used += word + spaces;
            return;
        }
        if *used > 0 {
            *lines += 1;
        }
        if word > per_line {
            *lines += (word - 1) / per_line;
            *used = (word - 1) % per_line + 1 + spaces;
        } else {
            *used = word + spaces;
        }
    };
    for c in text.chars() {
        match c {
            '\n' => {
                place(word, spaces, &mut lines, &mut used);
                (word, spaces, ended) = (0, 0, false);
                lines += 1;
                used = 0;
            }
            ' ' => spaces += 1,
            _ => {
                if spaces > 0 || ended {
                    place(word, spaces, &mut lines, &mut used);
                    (word, spaces) = (0, 0);
                }
                word += 1;
                ended = c == ',';
            }
        }
    }
    place(word, spaces, &mut lines, &mut used);
    lines
}

/// Excel's tallest row, in points.
const MAX_ROW_PT: f64 = 409.0;

/// Writes `rows` from row `first` on as XML; consecutive rows with the same formula plan share
/// their formulas (the first row of the run carries them in full). The text of `layout`'s
/// wrapping columns is written in `wrap_fmt`, each row as tall as its wrapped texts.
fn stream<'a, R: LineRows<'a>>(
    out: &mut Rows<'_>,
    first: u32,
    rows: &R,
    layout: &Layout,
    wrap_fmt: Option<&Format>,
) -> crate::error::Result<()> {
    let wrap = wrap_fmt.map(|fmt| Wrap { fmt });
    let wrap = wrap.as_ref();
    let n = rows.len();
    let plan = |j: usize| if j < n { rows.plan(j) } else { None };
    // The run of rows (same plan) the current row belongs to: its plan, the first
    // shared-formula index, its last row.
    let mut run: Option<(R::Plan, u32, usize)> = None;
    let mut next_si = 0u32;
    for j in 0..n {
        let r = first + j as u32;
        let cells = rows.cells(j);
        let height = layout.height(&cells);
        if let Some((p, si, _)) = run.filter(|run| j <= run.2) {
            let fs = rows.formulas(r, j, &p, false);
            out.row(r, &cells, &fs, Share::Later { si }, wrap, height)?;
            continue;
        }
        let Some(p) = plan(j) else {
            out.row(r, &cells, &[], Share::No, wrap, height)?;
            continue;
        };
        let mut last = j;
        while plan(last + 1) == Some(p) {
            last += 1;
        }
        let fs = rows.formulas(r, j, &p, true);
        if last > j {
            let si = next_si;
            next_si += fs.len() as u32;
            run = Some((p, si, last));
            let last = first + last as u32;
            out.row(r, &cells, &fs, Share::First { si, last }, wrap, height)?;
        } else {
            out.row(r, &cells, &fs, Share::No, wrap, height)?;
        }
    }
    Ok(())
}

fn write_row(
    ws: &mut Worksheet,
    f: &Formats,
    row: u32,
    cells: &[Cell<'_>],
) -> Result<(), XlsxError> {
    write_cells(ws, f, row, cells, None)
}

/// [`write_row`], every non-empty text in `wrap`'s format when given.
fn write_cells(
    ws: &mut Worksheet,
    f: &Formats,
    row: u32,
    cells: &[Cell<'_>],
    wrap: Option<&Wrap<'_>>,
) -> Result<(), XlsxError> {
    for (c, v) in cells.iter().enumerate() {
        let c = c as u16;
        match (v, wrap) {
            (Cell::Text(s), Some(w)) if !s.is_empty() => {
                ws.text_fmt(row, c, s, w.fmt)?;
                continue;
            }
            (Cell::Owned(s), Some(w)) if !s.is_empty() => {
                ws.text_fmt(row, c, s.as_str(), w.fmt)?;
                continue;
            }
            _ => {}
        }
        match v {
            // Non-empty text goes without a format: `f.text` is the default format (xf 0),
            // and the library hashes a given format on every cell. An empty text stays a
            // blank cell with the format, as before.
            Cell::Text(s) if !s.is_empty() => {
                ws.text(row, c, s)?;
            }
            Cell::Owned(s) if !s.is_empty() => {
                ws.text(row, c, s.as_str())?;
            }
            Cell::Text(s) => {
                ws.text_fmt(row, c, s, &f.text)?;
            }
            Cell::Owned(s) => {
                ws.text_fmt(row, c, s.as_str(), &f.text)?;
            }
            Cell::Count(n) => {
                ws.write_number_with_format(row, c, *n as f64, &f.int)?;
            }
            Cell::Number(x, fmt) => {
                ws.write_number_with_format(row, c, *x, fmt)?;
            }
            Cell::Blank => {}
        }
    }
    Ok(())
}

/// Text writes that never fail on length: text past a cell's limit is cut with a marker
/// ([`crate::report::cell_text`]). Every text of the workbook goes through these.
pub(super) trait CellText {
    fn text(&mut self, row: u32, col: u16, s: &str) -> Result<&mut Worksheet, XlsxError>;
    fn text_fmt(
        &mut self,
        row: u32,
        col: u16,
        s: &str,
        f: &Format,
    ) -> Result<&mut Worksheet, XlsxError>;
    fn merge_text(
        &mut self,
        r0: u32,
        c0: u16,
        r1: u32,
        c1: u16,
        s: &str,
        f: &Format,
    ) -> Result<&mut Worksheet, XlsxError>;
}

impl CellText for Worksheet {
    fn text(&mut self, row: u32, col: u16, s: &str) -> Result<&mut Worksheet, XlsxError> {
        self.write_string(row, col, crate::report::cell_text(s))
    }
    fn text_fmt(
        &mut self,
        row: u32,
        col: u16,
        s: &str,
        f: &Format,
    ) -> Result<&mut Worksheet, XlsxError> {
        self.write_string_with_format(row, col, crate::report::cell_text(s), f)
    }
    fn merge_text(
        &mut self,
        r0: u32,
        c0: u16,
        r1: u32,
        c1: u16,
        s: &str,
        f: &Format,
    ) -> Result<&mut Worksheet, XlsxError> {
        self.merge_range(r0, c0, r1, c1, &crate::report::cell_text(s), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_s_text_is_counted_in_lines_as_a_spreadsheet_wraps_it() {
        // Width 12: 13 characters a line (12 × 1.1). "5,8,11,14,17," is 13, "19,22" the
        // second line.
        assert_eq!(cell_lines("5,8,11,14,17,19,22", 12.0), 2);
        // Width 14: 15 a line. "provisioned " (the space may hang) / "throughput (PTU " /
        // "hours)": three lines (LibreOffice prints it so).
        assert_eq!(cell_lines("provisioned throughput (PTU hours)", 14.0), 3);
        // A path without a break: 27 characters, 11 a line at width 10: 11 + 11 + 5.
        assert_eq!(cell_lines("/work/wt-eeio/samples/x.csv", 10.0), 3);
        // A line break starts a line; a short text is one line.
        assert_eq!(cell_lines("a\nb", 10.0), 2);
        assert_eq!(cell_lines("hybrid", 10.0), 1);
    }

    #[test]
    fn a_row_is_as_tall_as_its_longest_text() {
        let layout = Layout {
            wrap: true,
            widths: vec![12.0, 14.0],
        };
        // Two lines and three: 3 × 15 points.
        let cells = [
            Cell::Text("5,8,11,14,17,19,22"),
            Cell::Text("provisioned throughput (PTU hours)"),
        ];
        assert_eq!(layout.height(&cells), Some(45.0));
        // Texts that fit keep the default height; so does a table that does not wrap.
        assert_eq!(layout.height(&[Cell::Text("hybrid"), Cell::Count(5)]), None);
        let flat = Layout {
            wrap: false,
            widths: vec![12.0],
        };
        assert_eq!(flat.height(&cells), None);
        // At most Excel's 409 points.
        let long = "word ".repeat(2000);
        assert_eq!(layout.height(&[Cell::Owned(long)]), Some(409.0));
    }
}
