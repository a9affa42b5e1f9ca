//! The quarterly workbook (REPORT.md): one function per sheet, formats defined once, every text
//! from an input written as a string (never a formula). Sheets written: Cover, E1-6 Summary,
//! AI Services, Periods (with a stacked column chart), Calculation Lines, Factors, Sources,
//! Methodology, Imports, Rejected Rows.

use std::collections::BTreeMap;

use rust_xlsxwriter::{
    Chart, ChartErrorBars, ChartErrorBarsType, ChartRange, ChartType, Color, DocProperties,
    ExcelDateTime, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError,
};

mod streamed_rows;

use self::streamed_rows::{CellFormula, Share, Streamed};
use super::cell::{Cell, Col};
use crate::aggregate::{LineBody, LineKey};
use crate::factors::FactorSet;
use crate::model::Bounds;
use crate::pipeline::Outcome;

/// Sheet names, in workbook order.
pub const SHEETS: &[&str] = &[
    "Cover",
    "E1-6 Summary",
    "AI Services",
    "Periods",
    "Allocation",
    "Calculation Lines",
    "Factors",
    "Sources",
    "Uncertainty",
    "Data Quality",
    "Supplier Data",
    "Methodology",
    "Coverage",
    "Imports",
    "Rejected Rows",
    "XBRL Map",
    "Change Log",
];

/// The formats used everywhere, defined once.
pub(crate) struct Formats {
    title: Format,
    header: Format,
    label: Format,
    text: Format,
    wrap: Format,
    int: Format,
    kwh: Format,
    pub(crate) kg: Format,
    t: Format,
    dq: Format,
    pct: Format,
    total_label: Format,
    total_int: Format,
    total_kg: Format,
    total_t: Format,
    /// A warning: dark red on light red, wrapped.
    warn: Format,
    /// A label beside wrapped text: bold, at the top of its cell.
    label_top: Format,
    /// An amount of money: two decimals with thousands separators.
    money: Format,
    /// A month without data in the coverage matrix.
    gap: Format,
}

impl Formats {
    pub(crate) fn new() -> Formats {
        let header = Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0x1F4E78))
            .set_font_color(Color::White)
            .set_text_wrap()
            .set_align(FormatAlign::Top)
            .set_border_bottom(FormatBorder::Thin);
        let total = Format::new().set_bold().set_border_top(FormatBorder::Thin);
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            header,
            // Top-aligned, so that a label stays beside the first line of a wrapped value.
            label: Format::new().set_bold().set_align(FormatAlign::Top),
            text: Format::new(),
            wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
            int: Format::new().set_num_format("#,##0"),
            kwh: Format::new().set_num_format("#,##0.000"),
            kg: Format::new().set_num_format("#,##0.000"),
            t: Format::new().set_num_format("#,##0.000"),
            dq: Format::new().set_num_format("0.00"),
            pct: Format::new().set_num_format("0.0%"),
            total_label: total.clone(),
            total_int: total.clone().set_num_format("#,##0"),
            total_kg: total.clone().set_num_format("#,##0.000"),
            total_t: total.set_num_format("#,##0.000"),
            warn: Format::new()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_font_color(Color::RGB(0x9C0006))
                .set_background_color(Color::RGB(0xFFC7CE)),
            label_top: Format::new().set_bold().set_align(FormatAlign::Top),
            money: Format::new().set_num_format("#,##0.00"),
            gap: Format::new()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_font_color(Color::RGB(0x9C0006))
                .set_background_color(Color::RGB(0xFFC7CE)),
        }
    }
}

fn err(e: XlsxError) -> crate::error::Error {
    crate::error::Error::Internal(format!("writing the workbook: {e}"))
}

/// Page setup shared by every sheet: landscape, one page wide, header rows repeated.
fn page_setup(ws: &mut Worksheet, header_row: u32) -> Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(0, header_row)?;
    Ok(())
}

/// Writes a header row at `row`, sets widths, freezes below it; returns the next row.
fn header(ws: &mut Worksheet, f: &Formats, row: u32, cols: &[Col]) -> Result<u32, XlsxError> {
    for (c, (name, width)) in cols.iter().enumerate() {
        ws.text_fmt(row, c as u16, name, &f.header)?;
        ws.set_column_width(c as u16, *width)?;
    }
    ws.set_freeze_panes(row + 1, 0)?;
    page_setup(ws, row)?;
    Ok(row + 1)
}

fn write_row(
    ws: &mut Worksheet,
    f: &Formats,
    row: u32,
    cells: &[Cell<'_>],
) -> Result<(), XlsxError> {
    for (c, v) in cells.iter().enumerate() {
        let c = c as u16;
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

/// Writes wrapped text and sets the row height to fit it (spreadsheet apps do not grow rows
/// for wrapped text on their own when opening a generated file).
fn write_wrapped(
    ws: &mut Worksheet,
    f: &Formats,
    row: u32,
    col: u16,
    text: &str,
    width_chars: f64,
) -> Result<(), XlsxError> {
    ws.text_fmt(row, col, text, &f.wrap)?;
    let per_line = (width_chars * 1.15).max(10.0) as usize;
    let lines: usize = text
        .split('\n')
        .map(|l| l.chars().count().div_ceil(per_line).max(1))
        .sum();
    if lines > 1 {
        ws.set_row_height(row, 15.0 * lines as f64)?;
    }
    Ok(())
}

/// Spend per currency as text: `EUR 12.34; USD 5.00`.
fn spend_text(s: &BTreeMap<String, f64>) -> String {
    s.iter()
        .map(|(c, v)| format!("{c} {v:.2}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A footnote across columns A..=`last_col` (merged, wrapped, tall enough for its text).
fn note(
    ws: &mut Worksheet,
    f: &Formats,
    row: u32,
    last_col: u16,
    text: &str,
    width_chars: f64,
) -> Result<(), XlsxError> {
    ws.merge_text(row, 0, row, last_col, text, &f.wrap)?;
    let per_line = (width_chars * 1.15).max(10.0) as usize;
    let lines = text.chars().count().div_ceil(per_line).max(1);
    ws.set_row_height(row, 15.0 * lines as f64)?;
    Ok(())
}

fn bounds_cells<'a>(b: Bounds, fmt: &'a Format) -> [Cell<'a>; 3] {
    [
        Cell::Number(b.low, fmt),
        Cell::Number(b.central, fmt),
        Cell::Number(b.high, fmt),
    ]
}

/// Builds the whole workbook in memory and returns its bytes.
/// The deflate level of the written workbook (0 to 9).
const ZIP_LEVEL: u8 = 3;

/// The deflate level of the streamed sheets (AI Services, Calculation Lines). Deflating them
/// runs on a second thread beside the thread writing their XML and is the slower of the two
/// at level 3: on the 132,000-line bench workbook (373 MB of sheet XML) level 1 deflates in
/// under half the time of level 3, for 79 MB against 57 MB. See docs/performance.md.
const STREAMED_ZIP_LEVEL: u8 = 1;

pub fn build(o: &Outcome, set: &FactorSet) -> crate::error::Result<Vec<u8>> {
    build_with(o, set, LINES_PER_SHEET)
}

/// [`build`] with the number of calculation lines per sheet (tests use a small one to see
/// the lines continue on "Calculation Lines (2)").
pub fn build_with(o: &Outcome, set: &FactorSet, per_sheet: usize) -> crate::error::Result<Vec<u8>> {
    build_with_writer(o, set, per_sheet, SheetWriter::Streamed)
}

/// How the sheets that grow with the lines (AI Services, Calculation Lines) are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SheetWriter {
    /// Cell by cell through rust_xlsxwriter, like every other sheet.
    Library,
    /// Their rows as XML written by us, streamed and deflated on a second thread (the
    /// default: about four times quicker; see `streamed_rows`). The cells are the same.
    Streamed,
}

/// The formats of the lines' number cells, one per cell of the prototype row that tells the
/// streamed writer their style ids (`streamed_rows`). The first is the integer format.
fn prototype_formats(f: &Formats) -> [&Format; 4] {
    [&f.int, &f.kwh, &f.kg, &f.dq]
}

/// Text writes that never fail on length: text past a cell's limit is cut with a marker
/// ([`super::cell_text`]). Every text of the workbook goes through these.
trait CellText {
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
        self.write_string(row, col, super::cell_text(s))
    }
    fn text_fmt(
        &mut self,
        row: u32,
        col: u16,
        s: &str,
        f: &Format,
    ) -> Result<&mut Worksheet, XlsxError> {
        self.write_string_with_format(row, col, super::cell_text(s), f)
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
        self.merge_range(r0, c0, r1, c1, &super::cell_text(s), f)
    }
}

/// The prototype row (Excel row 2) of a placeholder sheet, replaced by the streamed rows.
fn prototype_row(ws: &mut Worksheet, f: &Formats) -> Result<(), XlsxError> {
    for (c, fmt) in prototype_formats(f).iter().enumerate() {
        ws.write_number_with_format(1, c as u16, 0.0, fmt)?;
    }
    Ok(())
}

/// [`build_with`], the large sheets written by `writer` (tests compare the two).
pub fn build_with_writer(
    o: &Outcome,
    set: &FactorSet,
    per_sheet: usize,
    writer: SheetWriter,
) -> crate::error::Result<Vec<u8>> {
    let f = Formats::new();
    let stream = writer == SheetWriter::Streamed;
    let mut streamed: Vec<Streamed<'_>> = vec![];
    let mut wb = Workbook::new();
    // Deflate level 3 instead of the default 6 for the parts rust_xlsxwriter writes (the
    // library-written large sheets included; the streamed ones use STREAMED_ZIP_LEVEL):
    // at level 6 compressing was a quarter of the build time of a 132,000-line workbook.
    wb.set_zip_compression_level(ZIP_LEVEL);
    let created =
        ExcelDateTime::parse_from_str(&o.generated_at.format("%Y-%m-%dT%H:%M:%S").to_string())
            .map_err(err)?;
    let props = DocProperties::new()
        .set_title(format!("Scope 3 AI/LLM services {}", o.period.label))
        .set_subject("ESRS E1-6 Scope 3 Category 1: purchased AI / LLM API services")
        .set_company(&o.entity)
        .set_author("llm-scope3")
        .set_keywords("ESRS E1-6, Scope 3, GHG Protocol, LLM")
        .set_comment(format!(
            "Period {} to {}; factor set {}",
            o.period.start, o.period.end, o.factor_version
        ))
        .set_creation_datetime(&created);
    wb.set_properties(&props);

    cover(wb.add_worksheet(), &f, o, set).map_err(err)?;
    e16_summary(wb.add_worksheet(), &f, o).map_err(err)?;
    let ai_stream = stream && !o.summary.lines.is_empty();
    ai_services(wb.add_worksheet(), &f, o, ai_stream).map_err(err)?;
    if ai_stream {
        let f = &f;
        streamed.push(Streamed {
            name: "AI Services".into(),
            rows: Box::new(move |rows| {
                for (i, l) in o.summary.lines.iter().enumerate() {
                    rows.row(1 + i as u32, &ai_cells(f, l), &[], Share::No)?;
                }
                Ok(())
            }),
        });
    }
    periods(wb.add_worksheet(), &f, o).map_err(err)?;
    allocation(wb.add_worksheet(), &f, o).map_err(err)?;
    calculation_lines(&mut wb, &f, o, per_sheet, stream.then_some(&mut streamed)).map_err(err)?;
    factors(wb.add_worksheet(), &f, o).map_err(err)?;
    sources(wb.add_worksheet(), &f, o, set).map_err(err)?;
    uncertainty(wb.add_worksheet(), &f, o).map_err(err)?;
    data_quality(wb.add_worksheet(), &f, o).map_err(err)?;
    supplier_data(wb.add_worksheet(), &f, o).map_err(err)?;
    methodology(wb.add_worksheet(), &f, o, set).map_err(err)?;
    coverage(wb.add_worksheet(), &f, o).map_err(err)?;
    imports(wb.add_worksheet(), &f, o).map_err(err)?;
    rejected(wb.add_worksheet(), &f, o).map_err(err)?;
    xbrl_map(wb.add_worksheet(), &f, o).map_err(err)?;
    change_log(wb.add_worksheet(), &f, o).map_err(err)?;
    let bytes = wb.save_to_buffer().map_err(err)?;
    if streamed.is_empty() {
        return Ok(bytes);
    }
    streamed_rows::assemble(
        &bytes,
        streamed,
        &prototype_formats(&f),
        &f.int,
        i64::from(STREAMED_ZIP_LEVEL),
    )
}

fn cover(ws: &mut Worksheet, f: &Formats, o: &Outcome, set: &FactorSet) -> Result<(), XlsxError> {
    ws.set_name("Cover")?;
    ws.set_column_width(0, 34)?;
    ws.set_column_width(1, 90)?;
    ws.text_fmt(
        0,
        0,
        "Scope 3 emissions of purchased AI / LLM API services",
        &f.title,
    )?;
    let t = &o.summary.totals;
    let rows: Vec<(&str, String)> = vec![
        ("Reporting entity", o.entity.clone()),
        ("Reporting period", format!("{} ({} to {})", o.period.label, o.period.start, o.period.end)),
        ("Basis", "ESRS E1-6, GHG Protocol Scope 3 Category 1 (purchased goods and services), ESRS E1 AR 51 subset: cloud computing and data centre services".into()),
        ("GWP set", "IPCC AR6 GWP-100".into()),
        ("Electricity", "Location-based grid factors (a market-based or CFE-adjusted view is a sensitivity, not the reported figure)".into()),
        ("Result (central)", format!("{:.3} tCO2e (low {:.3}, high {:.3})", t.emissions_kgco2e.central / 1000.0, t.emissions_kgco2e.low / 1000.0, t.emissions_kgco2e.high / 1000.0)),
        ("Warnings", match o.warnings.len() {
            0 => "None: every month of the period has data, every file's rows and money add up, no AI line was skipped".into(),
            n => format!("{n}: read them below before signing (details on the Coverage and Imports sheets)"),
        }),
        ("Factor set", format!("{} ({})", set.version, set.origin)),
        ("Factor set SHA-256", set.sha256.clone()),
        ("Tool", format!("llm-scope3 {}", crate::VERSION)),
        ("Generated at (UTC)", o.generated_at.format("%Y-%m-%d %H:%M:%S").to_string()),
        ("Status", "Draft: for review".into()),
        ("Prepared by", String::new()),
        ("Reviewed by", String::new()),
        ("Approved by", String::new()),
    ];
    let mut r = 2;
    for (k, v) in rows {
        ws.text_fmt(r, 0, k, &f.label_top)?;
        if k == "Warnings" && !o.warnings.is_empty() {
            ws.text_fmt(r, 1, &v, &f.warn)?;
        } else {
            write_wrapped(ws, f, r, 1, &v, 90.0)?;
        }
        r += 1;
    }
    r = cover_configuration(ws, f, o, r + 1)?;
    r += 1;
    for (i, w) in o.warnings.iter().enumerate() {
        ws.text_fmt(r, 0, format!("Warning {}", i + 1).as_str(), &f.label_top)?;
        ws.text_fmt(r, 1, &w.message, &f.warn)?;
        let lines = w.message.chars().count().div_ceil(100).max(1);
        ws.set_row_height(r, 15.0 * lines as f64)?;
        r += 1;
    }
    if !o.warnings.is_empty() {
        r += 1;
    }
    for (i, file) in o.files.iter().enumerate() {
        ws.text_fmt(r, 0, format!("Input file {}", i + 1).as_str(), &f.label_top)?;
        write_wrapped(
            ws,
            f,
            r,
            1,
            &format!(
                "{}\nSHA-256 {} · format {}",
                file.file, file.sha256, file.format
            ),
            90.0,
        )?;
        r += 1;
    }
    if !o.skipped_inputs.is_empty() {
        ws.write_string_with_format(r, 0, "Not read", &f.label)?;
        let n = o.skipped_inputs.len();
        let text = format!(
            "{n} {} in the named folders not read (not in the totals): each is listed with the reason on the Imports sheet",
            if n == 1 { "entry" } else { "entries" }
        );
        write_wrapped(ws, f, r, 1, &text, 90.0)?;
        r += 1;
    }
    r += 1;
    ws.text_fmt(r, 0, "Sheets", &f.label)?;
    write_wrapped(
        ws,
        f,
        r,
        1,
        "E1-6 Summary (the disclosure line) · AI Services (by provider, model, region, month, cost centre) · Periods (by month) · Calculation Lines (audit trail to source rows) · Factors and Sources (every factor, cited) · Supplier Data (vendor carbon figures beside or in place of the estimate) · Methodology · Coverage (days with data per provider and month, and every warning) · Imports (row and money accounting per file) · Rejected Rows",
        90.0,
    )?;
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    Ok(())
}

/// The Cover's Configuration block at row `r`: the config file (or that none was found) and
/// what it changed, one setting per line. Returns the next free row.
fn cover_configuration(
    ws: &mut Worksheet,
    f: &Formats,
    o: &Outcome,
    mut r: u32,
) -> Result<u32, XlsxError> {
    use super::configuration::{file_text, lines};
    ws.write_string_with_format(r, 0, "Configuration file", &f.label)?;
    write_wrapped(ws, f, r, 1, &file_text(&o.config), 90.0)?;
    r += 1;
    let changes = lines(o);
    if !changes.is_empty() {
        ws.write_string_with_format(r, 0, "Configuration changes", &f.label)?;
        write_wrapped(ws, f, r, 1, &changes.join("\n"), 90.0)?;
        r += 1;
    }
    Ok(r)
}

fn e16_summary(ws: &mut Worksheet, f: &Formats, o: &Outcome) -> Result<(), XlsxError> {
    ws.set_name("E1-6 Summary")?;
    let cols: &[Col] = &[
        ("Line (ESRS E1-6 / AR 48)", 34.0),
        ("XBRL element", 28.0),
        ("Dimension member", 34.0),
        ("ESRS reference", 18.0),
        ("Base year", 10.0),
        ("Comparative (N-1)", 14.0),
        ("N (this period)", 14.0),
        ("% change", 10.0),
        ("Unit", 8.0),
    ];
    ws.text_fmt(
        0,
        0,
        format!("ESRS E1-6 Scope 3 — {}", o.period.label).as_str(),
        &f.title,
    )?;
    let mut r = header(ws, f, 2, cols)?;
    let el = "esrs:GrossScope3GreenhouseGasEmissions";
    let axis = "esrs:Scope3GHGEmissionsCategoryGHGProtocolAxis";
    let entity = "(entity figure: link from the inventory)";
    let t = &o.summary.totals;
    let lines: Vec<(&str, &str, String, &str, Option<f64>)> = vec![
        (
            "Total gross Scope 3 GHG emissions",
            el,
            String::new(),
            "E1-6 44(c)",
            None,
        ),
        (
            "1 Purchased goods and services",
            el,
            format!("{axis} = esrs:Category1PurchasedGoodsAndServicesMember"),
            "E1-6 51; AR 46",
            None,
        ),
        (
            "1.1 of which cloud computing and data centre services",
            el,
            format!("{axis} = esrs:Category11CloudComputingAndDataCentreServicesMember"),
            "AR 51",
            None,
        ),
        (
            "of which AI / LLM API services (this workbook)",
            "(component of the element above)",
            "—".into(),
            "AR 51; AR 46(h)",
            Some(t.emissions_kgco2e.central / 1000.0),
        ),
    ];
    for (label, element, member, reference, value) in lines {
        ws.text_fmt(r, 0, label, &f.wrap)?;
        ws.text_fmt(r, 1, element, &f.wrap)?;
        ws.text_fmt(r, 2, member.as_str(), &f.wrap)?;
        ws.set_row_height(r, 45.0)?;
        ws.text(r, 3, reference)?;
        match value {
            Some(v) => {
                ws.write_number_with_format(r, 6, v, &f.t)?;
                match o.ledger.as_ref().map(|l| &l.comparative) {
                    Some(Some((_, prev))) => {
                        let p = prev.emissions_kgco2e.central / 1000.0;
                        ws.write_number_with_format(r, 5, p, &f.t)?;
                        if p > 0.0 {
                            ws.write_number_with_format(r, 7, v / p - 1.0, &f.pct)?;
                        }
                    }
                    Some(None) => {
                        ws.text_fmt(r, 5, "n/a (no data for N-1 in the ledger)", &f.wrap)?;
                    }
                    None => {
                        ws.text_fmt(r, 5, "n/a (no ledger)", &f.wrap)?;
                    }
                }
            }
            None => {
                ws.text_fmt(r, 6, entity, &f.wrap)?;
            }
        }
        ws.text(r, 8, "tCO2e")?;
        r += 1;
    }
    r += 1;
    let facts: Vec<(&str, Cell)> = vec![
        (
            "Range: low (tCO2e)",
            Cell::Number(t.emissions_kgco2e.low / 1000.0, &f.t),
        ),
        (
            "Range: high (tCO2e)",
            Cell::Number(t.emissions_kgco2e.high / 1000.0, &f.t),
        ),
        (
            "of which embodied hardware (tCO2e, central)",
            Cell::Number(t.embodied_kgco2e.central / 1000.0, &f.t),
        ),
        (
            "Energy at the data centre (MWh, central)",
            Cell::Number(t.energy_kwh.central / 1000.0, &f.t),
        ),
        (
            "Water (m³, central)",
            Cell::Number(t.water_l.central / 1000.0, &f.t),
        ),
        (
            "% from supplier primary data (AR 46(g))",
            Cell::Number(t.primary_data_share, &f.pct),
        ),
        (
            "Sensitivity, not the reported figure: CFE-adjusted tCO2e (central; grid × (1 − carbon-free-energy share) where the operator publishes it; not GHG Protocol market-based)",
            Cell::Number(t.cfe_adjusted_kgco2e.central / 1000.0, &f.t),
        ),
        (
            "Data-quality score (1 very good … 4 poor, emissions-weighted)",
            match t.data_quality_score {
                Some(s) => Cell::Number(s, &f.dq),
                None => Cell::Text("n/a"),
            },
        ),
    ];
    for (label, v) in facts {
        ws.text_fmt(r, 0, label, &f.label)?;
        write_row(
            ws,
            f,
            r,
            &[
                Cell::Blank,
                Cell::Blank,
                Cell::Blank,
                Cell::Blank,
                Cell::Blank,
                v,
            ],
        )?;
        r += 1;
    }
    ws.merge_text(r, 0, r, 8, "XBRL element of the % primary data row: esrs:PercentageOfGrossScope3GreenhouseGasEmissionsCalculatedUsingPrimaryDataObtainedFromSuppliersOrOtherValueChainPartners", &f.wrap)?;
    ws.set_row_height(r, 30.0)?;
    r += 2;
    ws.merge_text(r, 0, r, 8, "Low and high are a bounding envelope (every factor at its low or high value), not a statistical interval. Gross figures: no offsets or vendor neutrality claims are netted.", &f.wrap)?;
    ws.set_row_height(r, 30.0)?;
    Ok(())
}

pub(crate) fn key_cells<'a>(k: &'a LineKey, b: &'a LineBody) -> Vec<Cell<'a>> {
    vec![
        Cell::Text(&k.provider),
        Cell::Text(&k.model),
        Cell::Text(&b.model_key),
        Cell::Text(k.region.as_deref().unwrap_or("")),
        Cell::Owned(format!("{} ({})", b.grid_geo, b.grid_year)),
        Cell::Text(&k.month),
        Cell::Text(k.cost_centre.as_deref().unwrap_or("")),
        match &k.spend {
            Some(s) => Cell::Owned(format!("{} ({s})", b.method.label())),
            None => Cell::Text(b.method.label()),
        },
    ]
}

pub(crate) const KEY_COLS: &[Col] = &[
    ("Provider", 11.0),
    ("Model (as exported)", 26.0),
    ("Model key (factor set)", 20.0),
    ("Region (as exported)", 14.0),
    ("Grid geography (year)", 22.0),
    ("Month", 9.0),
    ("Cost centre", 18.0),
    ("Method", 13.0),
];

pub(crate) const QTY_COLS: &[Col] = &[
    ("Requests", 11.0),
    ("Input tokens", 15.0),
    ("Cached input tokens", 15.0),
    ("Output tokens", 15.0),
    ("Imputed input tokens", 13.0),
    ("Imputed output tokens", 13.0),
];

pub(crate) const RESULT_COLS: &[Col] = &[
    ("Energy kWh (low)", 12.0),
    ("Energy kWh (central)", 12.0),
    ("Energy kWh (high)", 12.0),
    ("kgCO2e (low)", 12.0),
    ("kgCO2e (central)", 12.0),
    ("kgCO2e (high)", 12.0),
    ("of which embodied kgCO2e (central)", 13.0),
    ("Water L (low)", 11.0),
    ("Water L (central)", 11.0),
    ("Water L (high)", 11.0),
    ("Data quality (1-4)", 9.0),
];

/// Estimate and vendor figure side by side (METHODOLOGY §5), on AI Services lines.
pub(crate) const SUPPLIER_COLS: &[Col] = &[
    ("Tool estimate kgCO2e (central)", 14.0),
    ("Vendor kgCO2e (allocated)", 14.0),
    ("Vendor figure", 60.0),
];

pub(crate) fn supplier_cells<'a>(f: &'a Formats, b: &'a LineBody) -> Vec<Cell<'a>> {
    match &b.supplier {
        Some(s) => vec![
            Cell::Number(s.estimate_kgco2e.central, &f.kg),
            Cell::Number(s.vendor_kgco2e, &f.kg),
            Cell::Owned(format!("{}: {}", s.vendor, s.note)),
        ],
        None => vec![
            Cell::Number(b.estimate.emissions_kgco2e.central, &f.kg),
            Cell::Blank,
            Cell::Blank,
        ],
    }
}

pub(crate) fn qty_cells<'a>(b: &LineBody) -> Vec<Cell<'a>> {
    let a = &b.activity;
    vec![
        Cell::Count(a.requests),
        Cell::Count(a.input_tokens),
        Cell::Count(a.cached_input_tokens),
        Cell::Count(a.output_tokens),
        Cell::Count(b.estimate.imputed_input_tokens),
        Cell::Count(b.estimate.imputed_output_tokens),
    ]
}

pub(crate) fn result_cells<'a>(f: &'a Formats, b: &LineBody) -> Vec<Cell<'a>> {
    let e = &b.estimate;
    let mut v = vec![];
    let not_estimated = || {
        [
            Cell::Text("not estimated"),
            Cell::Text("not estimated"),
            Cell::Text("not estimated"),
        ]
    };
    if b.energy_estimated {
        v.extend(bounds_cells(e.energy_kwh, &f.kwh));
    } else {
        v.extend(not_estimated());
    }
    v.extend(bounds_cells(e.emissions_kgco2e, &f.kg));
    v.push(Cell::Number(e.embodied_kgco2e.central, &f.kg));
    if b.energy_estimated {
        v.extend(bounds_cells(e.water_l, &f.kwh));
    } else {
        v.extend(not_estimated());
    }
    v.push(Cell::Number(b.dq.score(), &f.dq));
    v
}

/// Writes a bold totals row: `label` in column 0, sums below each numeric column.
fn totals_row(
    ws: &mut Worksheet,
    f: &Formats,
    row: u32,
    label: &str,
    first_numeric: u16,
    values: &[(f64, bool)],
) -> Result<(), XlsxError> {
    ws.text_fmt(row, 0, label, &f.total_label)?;
    for (i, (v, is_int)) in values.iter().enumerate() {
        let fmt = if *is_int { &f.total_int } else { &f.total_kg };
        ws.write_number_with_format(row, first_numeric + i as u16, *v, fmt)?;
    }
    Ok(())
}

fn total_values(o: &Outcome) -> Vec<(f64, bool)> {
    let t = &o.summary.totals;
    let a = &t.activity;
    let mut v = vec![
        (a.requests as f64, true),
        (a.input_tokens as f64, true),
        (a.cached_input_tokens as f64, true),
        (a.output_tokens as f64, true),
        (t.imputed_input_tokens as f64, true),
        (t.imputed_output_tokens as f64, true),
    ];
    for b in [t.energy_kwh, t.emissions_kgco2e] {
        v.extend([(b.low, false), (b.central, false), (b.high, false)]);
    }
    v.push((t.embodied_kgco2e.central, false));
    v.extend([
        (t.water_l.low, false),
        (t.water_l.central, false),
        (t.water_l.high, false),
    ]);
    v
}

/// The cells of an AI Services line.
fn ai_cells<'a>(f: &'a Formats, l: &'a crate::aggregate::Line) -> Vec<Cell<'a>> {
    let mut cells = key_cells(&l.key, &l.body);
    cells.extend(qty_cells(&l.body));
    cells.extend(result_cells(f, &l.body));
    cells.push(Cell::Owned(l.body.flags.join("; ")));
    cells.push(Cell::Owned(l.body.factor_ids.join(", ")));
    cells.extend(supplier_cells(f, &l.body));
    cells
}

/// `stream`: the lines' rows are left to the streamed writer (a prototype row in their place).
fn ai_services(
    ws: &mut Worksheet,
    f: &Formats,
    o: &Outcome,
    stream: bool,
) -> Result<(), XlsxError> {
    ws.set_name("AI Services")?;
    let mut cols: Vec<Col> = vec![];
    cols.extend_from_slice(KEY_COLS);
    cols.extend_from_slice(QTY_COLS);
    cols.extend_from_slice(RESULT_COLS);
    cols.push(("Flags", 40.0));
    cols.push(("Factor ids", 60.0));
    cols.extend_from_slice(SUPPLIER_COLS);
    let mut r = header(ws, f, 0, &cols)?;
    if stream {
        prototype_row(ws, f)?;
        r += o.summary.lines.len() as u32;
    } else {
        for l in &o.summary.lines {
            write_row(ws, f, r, &ai_cells(f, l))?;
            r += 1;
        }
    }
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    totals_row(ws, f, r, "Total", KEY_COLS.len() as u16, &total_values(o))?;
    r += 2;

    // Billed items the token method does not estimate: listed with their spend, never dropped.
    ws.text_fmt(
        r,
        0,
        "Billed items not estimated by the token method (listed with their quantity and spend)",
        &f.label,
    )?;
    r += 1;
    if o.summary.not_estimated.is_empty() {
        ws.text(r, 0, "none")?;
        r += 1;
    } else {
        for (c, h) in [
            "Provider",
            "Item",
            "Model / meter",
            "Region",
            "Month",
            "Cost centre",
            "Quantity",
            "Unit",
            "Spend",
            "Source rows",
        ]
        .iter()
        .enumerate()
        {
            ws.text_fmt(r, c as u16, h, &f.label)?;
        }
        r += 1;
        for n in &o.summary.not_estimated {
            write_row(
                ws,
                f,
                r,
                &[
                    Cell::Text(&n.key.provider),
                    Cell::Text(&n.key.label),
                    Cell::Text(&n.key.model),
                    Cell::Text(n.key.region.as_deref().unwrap_or("")),
                    Cell::Text(&n.key.month),
                    Cell::Text(n.key.cost_centre.as_deref().unwrap_or("")),
                    Cell::Number(n.quantity, &f.kwh),
                    Cell::Text(&n.key.unit),
                    Cell::Owned(spend_text(&n.spend)),
                    Cell::Owned(
                        n.sources
                            .iter()
                            .map(|s| {
                                format!("{} rows {}-{} ({})", s.file, s.rows[0], s.rows[1], s.count)
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                ],
            )?;
            r += 1;
        }
    }
    r += 1;

    // Totals by provider and by model.
    for (title, by_model) in [("Totals by provider", false), ("Totals by model", true)] {
        ws.text_fmt(r, 0, title, &f.label)?;
        r += 1;
        let mut groups: BTreeMap<String, (u64, u64, Bounds)> = BTreeMap::new();
        for l in &o.summary.lines {
            let k = if by_model {
                format!("{} / {}", l.key.provider, l.body.model_key)
            } else {
                l.key.provider.to_string()
            };
            let g = groups.entry(k).or_insert((0, 0, Bounds::default()));
            g.0 = g.0.saturating_add(l.body.activity.input_tokens);
            g.1 = g.1.saturating_add(l.body.activity.output_tokens);
            g.2 = g.2.zip(l.body.estimate.emissions_kgco2e, |a, b| a + b);
        }
        for (h, c) in [
            "",
            "Input tokens",
            "Output tokens",
            "kgCO2e (low)",
            "kgCO2e (central)",
            "kgCO2e (high)",
        ]
        .iter()
        .enumerate()
        {
            if !c.is_empty() {
                ws.text_fmt(r, h as u16, c, &f.label)?;
            }
        }
        r += 1;
        for (k, (i, out, e)) in groups {
            write_row(
                ws,
                f,
                r,
                &[
                    Cell::Owned(k),
                    Cell::Count(i),
                    Cell::Count(out),
                    Cell::Number(e.low, &f.kg),
                    Cell::Number(e.central, &f.kg),
                    Cell::Number(e.high, &f.kg),
                ],
            )?;
            r += 1;
        }
        r += 1;
    }

    // Pareto of models: central kgCO2e, largest first, with the cumulative share.
    let mut models: BTreeMap<String, f64> = BTreeMap::new();
    for l in &o.summary.lines {
        *models
            .entry(format!("{} / {}", l.key.provider, l.body.model_key))
            .or_insert(0.0) += l.body.estimate.emissions_kgco2e.central;
    }
    let mut models: Vec<(String, f64)> = models.into_iter().collect();
    models.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    models.truncate(15);
    let total = o.summary.totals.emissions_kgco2e.central;
    ws.text_fmt(r, 0, "Pareto of models (top 15, central)", &f.label)?;
    r += 1;
    for (c, h) in ["Provider / model", "kgCO2e (central)", "Cumulative share"]
        .iter()
        .enumerate()
    {
        ws.text_fmt(r, c as u16, h, &f.label)?;
    }
    r += 1;
    let first = r;
    let mut cum = 0.0;
    for (m, v) in &models {
        cum += v;
        write_row(
            ws,
            f,
            r,
            &[
                Cell::Text(m),
                Cell::Number(*v, &f.kg),
                Cell::Number(if total > 0.0 { cum / total } else { 0.0 }, &f.pct),
            ],
        )?;
        r += 1;
    }
    if !models.is_empty() {
        let last = r - 1;
        let mut chart = Chart::new(ChartType::Column);
        chart
            .title()
            .set_name("Pareto of models: kgCO2e (central) and cumulative share");
        chart
            .add_series()
            .set_name("kgCO2e (central)")
            .set_categories(("AI Services", first, 0, last, 0))
            .set_values(("AI Services", first, 1, last, 1));
        let mut line = Chart::new(ChartType::Line);
        line.add_series()
            .set_name("Cumulative share")
            .set_categories(("AI Services", first, 0, last, 0))
            .set_values(("AI Services", first, 2, last, 2))
            .set_secondary_axis(true);
        chart.combine(&line);
        chart.y_axis().set_name("kgCO2e");
        chart
            .y2_axis()
            .set_name("cumulative share")
            .set_num_format("0%");
        chart.set_width(720).set_height(380);
        ws.insert_chart(first.saturating_sub(1), 4, &chart)?;
    }
    Ok(())
}

fn periods(ws: &mut Worksheet, f: &Formats, o: &Outcome) -> Result<(), XlsxError> {
    ws.set_name("Periods")?;
    let months = o.period.months();
    let mut providers: Vec<String> = o
        .summary
        .lines
        .iter()
        .map(|l| l.key.provider.to_string())
        .collect();
    providers.sort();
    providers.dedup();
    let mut by: BTreeMap<(String, String), f64> = BTreeMap::new();
    for l in &o.summary.lines {
        *by.entry((l.key.month.clone(), l.key.provider.to_string()))
            .or_insert(0.0) += l.body.estimate.emissions_kgco2e.central / 1000.0;
    }
    ws.text_fmt(0, 0, "tCO2e (central) by month and provider", &f.title)?;
    let mut headers: Vec<String> = vec!["Month".into()];
    headers.extend(providers.iter().map(|p| format!("{p} tCO2e")));
    headers.push("Total tCO2e".into());
    for (c, h) in headers.iter().enumerate() {
        ws.text_fmt(2, c as u16, h.as_str(), &f.header)?;
        ws.set_column_width(c as u16, if c == 0 { 18.0 } else { 16.0 })?;
    }
    ws.set_freeze_panes(3, 0)?;
    page_setup(ws, 2)?;
    let first_data = 3u32;
    let mut r = first_data;
    let mut quarter_sum: Vec<f64> = vec![0.0; providers.len() + 1];
    let mut grand: Vec<f64> = vec![0.0; providers.len() + 1];
    for (i, m) in months.iter().enumerate() {
        ws.text(r, 0, m.as_str())?;
        let mut row_total = 0.0;
        for (c, p) in providers.iter().enumerate() {
            let v = by.get(&(m.clone(), p.clone())).copied().unwrap_or(0.0);
            ws.write_number_with_format(r, 1 + c as u16, v, &f.t)?;
            row_total += v;
            quarter_sum[c] += v;
            grand[c] += v;
        }
        ws.write_number_with_format(r, 1 + providers.len() as u16, row_total, &f.t)?;
        quarter_sum[providers.len()] += row_total;
        grand[providers.len()] += row_total;
        r += 1;
        let month_no: u32 = m.get(5..7).and_then(|x| x.parse().ok()).unwrap_or(0);
        // Months since the fiscal year started (1-12); quarters close at 3, 6, 9, 12.
        let fiscal = (month_no + 12 - o.fiscal_year_start_month) % 12 + 1;
        let last = i + 1 == months.len();
        if fiscal % 3 == 0 || last {
            let q = fiscal.div_ceil(3);
            let year: i32 = m.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
            let fy = if month_no < o.fiscal_year_start_month {
                year - 1
            } else {
                year
            };
            let label = if o.fiscal_year_start_month == 1 {
                format!("{fy} Q{q} subtotal")
            } else {
                format!("FY{fy} Q{q} subtotal")
            };
            ws.text_fmt(r, 0, label.as_str(), &f.total_label)?;
            for (c, v) in quarter_sum.iter().enumerate() {
                ws.write_number_with_format(r, 1 + c as u16, *v, &f.total_t)?;
            }
            quarter_sum.iter_mut().for_each(|v| *v = 0.0);
            r += 1;
        }
    }
    ws.text_fmt(r, 0, "Period total", &f.total_label)?;
    for (c, v) in grand.iter().enumerate() {
        ws.write_number_with_format(r, 1 + c as u16, *v, &f.total_t)?;
    }
    // Stacked columns by provider per month. Month rows are interleaved with subtotals, so
    // the chart reads a compact copy of the month rows written to the right.
    if !providers.is_empty() && !months.is_empty() {
        let base_col = (providers.len() + 3) as u16;
        ws.text_fmt(2, base_col, "Chart data: month", &f.header)?;
        ws.set_column_width(base_col, 16.0)?;
        for (c, p) in providers.iter().enumerate() {
            ws.text_fmt(2, base_col + 1 + c as u16, p.as_str(), &f.header)?;
            ws.set_column_width(base_col + 1 + c as u16, 14.0)?;
        }
        for (i, m) in months.iter().enumerate() {
            let rr = first_data + i as u32;
            ws.text(rr, base_col, m.as_str())?;
            for (c, p) in providers.iter().enumerate() {
                let v = by.get(&(m.clone(), p.clone())).copied().unwrap_or(0.0);
                ws.write_number_with_format(rr, base_col + 1 + c as u16, v, &f.t)?;
            }
        }
        let last = first_data + months.len() as u32 - 1;
        let mut chart = Chart::new(ChartType::ColumnStacked);
        chart
            .title()
            .set_name("tCO2e by provider and month (central)");
        chart.y_axis().set_name("tCO2e");
        for (c, p) in providers.iter().enumerate() {
            let col = base_col + 1 + c as u16;
            chart
                .add_series()
                .set_name(p.as_str())
                .set_categories(("Periods", first_data, base_col, last, base_col))
                .set_values(("Periods", first_data, col, last, col));
        }
        chart.set_width(640).set_height(360);
        ws.insert_chart(r + 2, 0, &chart)?;
    }
    Ok(())
}

/// Data rows per Calculation Lines sheet: Excel's 1,048,576 rows less the header and the
/// totals row. Past it, the lines continue on "Calculation Lines (2)", and so on.
pub const LINES_PER_SHEET: usize = 1_048_574;

/// Above this many lines the Calculation Lines sheets are written in constant-memory mode.
const CONSTANT_MEMORY_LINES: usize = 50_000;

fn calc_sheet_name(i: usize) -> String {
    if i == 0 {
        "Calculation Lines".into()
    } else {
        format!("Calculation Lines ({})", i + 1)
    }
}

/// The cells of a calculation line (the cells its formulas replace included).
fn calc_cells<'a>(f: &'a Formats, c: &'a crate::aggregate::CalcLine) -> Vec<Cell<'a>> {
    let mut cells = vec![
        Cell::Text(&c.source.file),
        Cell::Text(c.source.sheet.as_deref().unwrap_or("")),
        Cell::Count(c.source.rows[0]),
        Cell::Count(c.source.rows[1]),
        Cell::Count(c.source.count),
    ];
    cells.extend(key_cells(&c.key, &c.body));
    cells.extend(qty_cells(&c.body));
    cells.extend(result_cells(f, &c.body));
    cells.push(Cell::Text("kWh = (out·e_out + (in−cached)·e_in + cached·k_cache·e_in)/1e6 · PUE; kgCO2e = kWh·grid/1000 + kWh_IT·embodied/1000; L = kWh_IT·WUE + kWh·EWIF"));
    cells.push(Cell::Owned(c.body.factor_ids.join(", ")));
    cells.push(Cell::Owned(c.body.flags.join("; ")));
    cells
}

/// `streamed`: when given, each sheet's lines are left to the streamed writer (added to it),
/// a prototype row in their place.
fn calculation_lines<'a>(
    wb: &mut Workbook,
    f: &'a Formats,
    o: &'a Outcome,
    per_sheet: usize,
    mut streamed: Option<&mut Vec<Streamed<'a>>>,
) -> Result<(), XlsxError> {
    let mut cols: Vec<Col> = vec![
        ("Source file", 34.0),
        ("Sheet", 10.0),
        ("First row", 8.0),
        ("Last row", 8.0),
        ("Rows", 7.0),
    ];
    cols.extend_from_slice(KEY_COLS);
    cols.extend_from_slice(QTY_COLS);
    cols.extend_from_slice(RESULT_COLS);
    cols.push(("Formula", 60.0));
    cols.push(("Factor ids", 60.0));
    cols.push(("Flags", 40.0));
    // Excel row of each factor on the Factors sheet (same order as `factors` writes them).
    let factor_rows: hashbrown::HashMap<&str, u32> = o
        .summary
        .factors
        .keys()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i as u32 + 2))
        .collect();
    let lines = &o.summary.calc_lines;
    let chunks: Vec<&[crate::aggregate::CalcLine]> = if lines.is_empty() {
        vec![&[]]
    } else {
        lines.chunks(per_sheet.max(1)).collect()
    };
    let stream = streamed.is_some() && !lines.is_empty();
    let constant_memory = lines.len() > CONSTANT_MEMORY_LINES && !stream;
    let first_result = (5 + KEY_COLS.len() + QTY_COLS.len()) as u16;
    let factor_rows = std::rc::Rc::new(factor_rows);
    let mut line_no = 0usize;
    for (i, chunk) in chunks.iter().enumerate() {
        let ws = if constant_memory {
            wb.add_worksheet_with_constant_memory()?
        } else {
            wb.add_worksheet()
        };
        ws.set_name(calc_sheet_name(i))?;
        let mut r = header(ws, f, 0, &cols)?;
        if let (true, Some(streamed)) = (stream, streamed.as_deref_mut()) {
            prototype_row(ws, f)?;
            let chunk: &'a [crate::aggregate::CalcLine] = chunk;
            let first_line = line_no;
            let factor_rows = std::rc::Rc::clone(&factor_rows);
            streamed.push(Streamed {
                name: calc_sheet_name(i),
                rows: Box::new(move |rows| {
                    let plan = |j: usize| -> Option<FormulaPlan> {
                        let c = chunk.get(j)?;
                        if first_line + j < FORMULA_LINES {
                            formula_plan(c, &factor_rows)
                        } else {
                            None
                        }
                    };
                    // The run of lines (same plan) the current line belongs to: its plan, the
                    // first shared-formula index, its last line.
                    let mut run: Option<(FormulaPlan, u32, usize)> = None;
                    let mut next_si = 0u32;
                    for (j, c) in chunk.iter().enumerate() {
                        let r = 1 + j as u32;
                        let cells = calc_cells(f, c);
                        if let Some((p, si, _)) = run.filter(|run| j <= run.2) {
                            let fs = plan_formulas(f, r, &p, &c.body, false);
                            rows.row(r, &cells, &fs, Share::Later { si })?;
                            continue;
                        }
                        let Some(p) = plan(j) else {
                            rows.row(r, &cells, &[], Share::No)?;
                            continue;
                        };
                        let mut last = j;
                        while plan(last + 1) == Some(p) {
                            last += 1;
                        }
                        let fs = plan_formulas(f, r, &p, &c.body, true);
                        if last > j {
                            let si = next_si;
                            next_si += fs.len() as u32;
                            run = Some((p, si, last));
                            let last = 1 + last as u32;
                            rows.row(r, &cells, &fs, Share::First { si, last })?;
                        } else {
                            rows.row(r, &cells, &fs, Share::No)?;
                        }
                    }
                    Ok(())
                }),
            });
            line_no += chunk.len();
            r += chunk.len() as u32;
        }
        for c in chunk.iter().filter(|_| !stream) {
            let mut cells = calc_cells(f, c);
            let formulas = if line_no < FORMULA_LINES {
                line_formulas(f, r, c, &factor_rows)
            } else {
                None
            };
            // A cell that gets a formula is written once, as the formula.
            for (col, ..) in formulas.iter().flatten() {
                if let Some(cell) = cells.get_mut(*col as usize) {
                    *cell = Cell::Blank;
                }
            }
            write_row(ws, f, r, &cells)?;
            for (col, formula, value, fmt) in formulas.into_iter().flatten() {
                ws.write_formula_with_format(
                    r,
                    col,
                    Formula::new(formula).set_result(value.to_string()),
                    fmt,
                )?;
            }
            line_no += 1;
            r += 1;
        }
        if r > 1 {
            ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
        }
        if i + 1 < chunks.len() {
            ws.text_fmt(
                r,
                0,
                format!("continued on '{}'", calc_sheet_name(i + 1)).as_str(),
                &f.label,
            )?;
            continue;
        }
        totals_row(
            ws,
            f,
            r,
            "Total",
            (5 + KEY_COLS.len()) as u16,
            &total_values(o),
        )?;
        // The result totals are live sums of the lines on every Calculation Lines sheet.
        if !lines.is_empty() {
            let t = &o.summary.totals;
            let cached = [
                t.energy_kwh.low,
                t.energy_kwh.central,
                t.energy_kwh.high,
                t.emissions_kgco2e.low,
                t.emissions_kgco2e.central,
                t.emissions_kgco2e.high,
                t.embodied_kgco2e.central,
                t.water_l.low,
                t.water_l.central,
                t.water_l.high,
            ];
            for (k, v) in cached.iter().enumerate() {
                let col = first_result + k as u16;
                let letter = col_letter(col);
                let ranges: Vec<String> = chunks
                    .iter()
                    .enumerate()
                    .map(|(j, ch)| {
                        format!(
                            "'{}'!{letter}2:{letter}{}",
                            calc_sheet_name(j),
                            ch.len() + 1
                        )
                    })
                    .collect();
                let formula =
                    Formula::new(format!("=SUM({})", ranges.join(","))).set_result(v.to_string());
                ws.write_formula_with_format(r, col, formula, &f.total_kg)?;
            }
        }
        r += 2;
        note(
            ws,
            f,
            r,
            8,
            &format!(
                "Energy, emissions and water of the first {FORMULA_LINES} lines are live Excel formulas over the line's quantities and the Factors sheet (low = column C, central = D, high = E), written with the tool's results cached: change a factor and the lines and totals follow. Lines with characters and spend-based (EEIO) lines carry values only, as do lines past the first {FORMULA_LINES}."
            ),
            60.0,
        )?;
    }
    Ok(())
}

/// Lines that get live formulas (later ones carry values only).
pub const FORMULA_LINES: usize = 100_000;

/// Excel column letters of a 0-based column index.
fn col_letter(col: u16) -> String {
    rust_xlsxwriter::utility::column_number_to_name(col)
}

/// A live formula of a calculation line: column, formula text, cached value, format.
type LineFormula<'f> = CellFormula<'f>;

/// The live formulas of a calculation line's energy, emissions and water cells, over its
/// quantities and the Factors sheet, each with the computed value to cache. `None` for lines
/// the formulas cannot reproduce (characters, EEIO), which keep their values; a
/// supplier-specific line's emissions are the vendor's figure (a value, see the Supplier Data
/// sheet), so only its energy and water get formulas.
fn line_formulas<'f>(
    f: &'f Formats,
    r: u32,
    c: &crate::aggregate::CalcLine,
    factor_rows: &hashbrown::HashMap<&str, u32>,
) -> Option<Vec<LineFormula<'f>>> {
    let plan = formula_plan(c, factor_rows)?;
    Some(plan_formulas(f, r, &plan, &c.body, true))
}

/// What a calculation line's formulas refer to: the Factors rows of its factors, and whether
/// its emissions are the vendor's. Consecutive lines with the same plan have the same formulas
/// but for their own row number (the streamed writer shares them, `streamed_rows`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct FormulaPlan {
    /// Energy out, energy in, k_cache, embodied, PUE, grid, WUE, EWIF.
    rows: [u32; 8],
    /// The request-bounds or spend-bounds multiplier.
    mult: Option<u32>,
    vendor: bool,
}

/// The [`FormulaPlan`] of a line, `None` for lines without formulas (see [`line_formulas`]).
fn formula_plan(
    c: &crate::aggregate::CalcLine,
    factor_rows: &hashbrown::HashMap<&str, u32>,
) -> Option<FormulaPlan> {
    let b = &c.body;
    if !b.energy_estimated || b.activity.input_characters > 0 || b.activity.output_characters > 0 {
        return None;
    }
    let find = |prefix: &str| -> Option<u32> {
        b.factor_ids
            .iter()
            .find(|id| id.starts_with(prefix))
            .and_then(|id| factor_rows.get(&**id).copied())
    };
    let energy = |dir: &str| {
        b.factor_ids
            .iter()
            .find(|id| id.starts_with("energy:") && id.ends_with(dir))
            .and_then(|id| factor_rows.get(&**id).copied())
    };
    let (Some(eo), Some(ei), Some(k), Some(emb), Some(pue), Some(grid), Some(wue), Some(ewif)) = (
        energy(":out"),
        energy(":in"),
        find("const:k_cache"),
        find("const:embodied"),
        find("pue:"),
        find("grid:"),
        find("wue:"),
        find("ewif:"),
    ) else {
        return None;
    };
    let mult = if c.key.tokens_imputed {
        find("const:request_bounds")
    } else if c.key.spend.is_some() {
        find("const:spend_bounds")
    } else {
        None
    };
    if (c.key.tokens_imputed || c.key.spend.is_some()) && mult.is_none() {
        return None;
    }
    Some(FormulaPlan {
        rows: [eo, ei, k, emb, pue, grid, wue, ewif],
        mult,
        vendor: b.method == crate::estimate::Method::SupplierSpecific,
    })
}

/// The formulas of a line with `plan` on row `r` (0-based), with their cached values; without
/// their texts (empty) when `text` is false (a shared formula's later cells).
pub(crate) fn plan_formulas<'f>(
    f: &'f Formats,
    r: u32,
    plan: &FormulaPlan,
    b: &LineBody,
    text: bool,
) -> Vec<LineFormula<'f>> {
    use std::fmt::Write as _;
    let [eo, ei, k, emb, pue, grid, wue, ewif] = plan.rows;
    let mult = plan.mult;
    let n = r + 1;
    let qty0 = (5 + KEY_COLS.len()) as u16;
    let q = |col: u16| format!("{}{n}", col_letter(col));
    let (tin, tc, tout, iin, iout) = (
        q(qty0 + 1),
        q(qty0 + 2),
        q(qty0 + 3),
        q(qty0 + 4),
        q(qty0 + 5),
    );
    let res0 = qty0 + QTY_COLS.len() as u16;
    // IT energy (kWh) with the factors of column `l` (C low, D central, E high), built once
    // per column.
    let it = |l: &str| {
        if !text {
            return String::new();
        }
        let mut s = String::with_capacity(200);
        let fx = |s: &mut String, row: u32| {
            let _ = write!(s, "Factors!${l}${row}");
        };
        let _ = write!(s, "(({tout}*");
        fx(&mut s, eo);
        let _ = write!(s, "+({tin}-{tc})*");
        fx(&mut s, ei);
        let _ = write!(s, "+{tc}*");
        fx(&mut s, k);
        s.push('*');
        fx(&mut s, ei);
        let _ = write!(s, ")+({iin}*");
        fx(&mut s, ei);
        let _ = write!(s, "+{iout}*");
        fx(&mut s, eo);
        s.push(')');
        if let Some(m) = mult {
            s.push('*');
            fx(&mut s, m);
        }
        s.push_str(")/1000000");
        s
    };
    let (it_c, it_d, it_e) = (it("C"), it("D"), it("E"));
    let e = &b.estimate;
    let vendor = plan.vendor;
    let mut cells: Vec<LineFormula<'f>> = Vec::with_capacity(10);
    let mut add = |col: u16, formula: std::fmt::Arguments<'_>, value: f64, fmt: &'f Format| {
        if vendor && (res0 + 3..=res0 + 6).contains(&col) {
            return;
        }
        let mut s = String::new();
        if text {
            s.reserve(512);
            let _ = s.write_fmt(formula);
        }
        cells.push((col, s, value, fmt));
    };
    let fx = |l: &'static str, row: u32| FactorCell(l, row);
    add(
        res0,
        format_args!("={it_c}*{}", fx("C", pue)),
        e.energy_kwh.low,
        &f.kwh,
    );
    add(
        res0 + 1,
        format_args!("={it_d}*{}", fx("D", pue)),
        e.energy_kwh.central,
        &f.kwh,
    );
    add(
        res0 + 2,
        format_args!("={it_e}*{}", fx("E", pue)),
        e.energy_kwh.high,
        &f.kwh,
    );
    for (i, (it, l, v)) in [
        (&it_c, "C", e.emissions_kgco2e.low),
        (&it_d, "D", e.emissions_kgco2e.central),
        (&it_e, "E", e.emissions_kgco2e.high),
    ]
    .into_iter()
    .enumerate()
    {
        add(
            res0 + 3 + i as u16,
            format_args!(
                "={it}*{}*{}/1000+{it}*{}/1000",
                fx(l, pue),
                fx(l, grid),
                fx(l, emb)
            ),
            v,
            &f.kg,
        );
    }
    add(
        res0 + 6,
        format_args!("={it_d}*{}/1000", fx("D", emb)),
        e.embodied_kgco2e.central,
        &f.kg,
    );
    add(
        res0 + 7,
        format_args!("={it_c}*{}", fx("C", wue)),
        e.water_l.low,
        &f.kwh,
    );
    for (i, (it, l, v)) in [
        (&it_d, "D", e.water_l.central),
        (&it_e, "E", e.water_l.high),
    ]
    .into_iter()
    .enumerate()
    {
        add(
            res0 + 8 + i as u16,
            format_args!("={it}*{}+{it}*{}*{}", fx(l, wue), fx(l, pue), fx(l, ewif)),
            v,
            &f.kwh,
        );
    }
    cells
}

/// A cell of the Factors sheet, absolute: `Factors!$D$12`.
struct FactorCell(&'static str, u32);

impl std::fmt::Display for FactorCell {
    fn fmt(&self, w: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(w, "Factors!${}${}", self.0, self.1)
    }
}

fn factors(ws: &mut Worksheet, f: &Formats, o: &Outcome) -> Result<(), XlsxError> {
    ws.set_name("Factors")?;
    let cols: &[Col] = &[
        ("Factor id", 34.0),
        ("Kind", 30.0),
        ("Low", 11.0),
        ("Central", 11.0),
        ("High", 11.0),
        ("Unit", 22.0),
        ("Year", 7.0),
        ("Applies to", 30.0),
        ("Basis / derivation", 60.0),
        ("Source id(s)", 40.0),
    ];
    let mut r = header(ws, f, 0, cols)?;
    let num = Format::new().set_num_format("0.000000");
    for u in o.summary.factors.values() {
        write_row(
            ws,
            f,
            r,
            &[
                Cell::Text(&u.id),
                Cell::Text(&u.kind),
                Cell::Number(u.value.low, &num),
                Cell::Number(u.value.central, &num),
                Cell::Number(u.value.high, &num),
                Cell::Text(&u.unit),
                match u.year {
                    Some(y) => Cell::Count(y as u64),
                    None => Cell::Blank,
                },
                Cell::Text(&u.subject),
                Cell::Text(&u.basis),
                Cell::Text(&u.source_id),
            ],
        )?;
        r += 1;
    }
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    r += 1;
    ws.text_fmt(r, 0, "Factors are never edited in place: a changed value gets a new factor-set version. For u_out / u_in the low result uses the higher utilisation.", &f.wrap)?;
    Ok(())
}

fn sources(ws: &mut Worksheet, f: &Formats, o: &Outcome, set: &FactorSet) -> Result<(), XlsxError> {
    ws.set_name("Sources")?;
    let cols: &[Col] = &[
        ("Source id", 26.0),
        ("Used in this report", 10.0),
        ("Publisher", 30.0),
        ("Title", 60.0),
        ("Year", 7.0),
        ("URL", 50.0),
        ("Licence", 24.0),
        ("Notes", 50.0),
    ];
    let used: std::collections::BTreeSet<&str> = o
        .summary
        .factors
        .values()
        .flat_map(|u| u.source_id.split(';').map(str::trim))
        .collect();
    let mut r = header(ws, f, 0, cols)?;
    for s in set.sources.values() {
        write_row(
            ws,
            f,
            r,
            &[
                Cell::Text(&s.id),
                Cell::Text(if used.contains(s.id.as_str()) {
                    "yes"
                } else {
                    "no"
                }),
                Cell::Text(&s.publisher),
                Cell::Text(&s.title),
                Cell::Text(&s.year),
                Cell::Text(&s.url),
                Cell::Text(&s.licence),
                Cell::Text(&s.notes),
            ],
        )?;
        r += 1;
    }
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    Ok(())
}

fn methodology(
    ws: &mut Worksheet,
    f: &Formats,
    o: &Outcome,
    set: &FactorSet,
) -> Result<(), XlsxError> {
    ws.set_name("Methodology")?;
    ws.set_column_width(0, 100)?;
    ws.text_fmt(0, 0, "Methodology", &f.title)?;
    let mut r = 2;
    for (heading, paragraphs) in super::methodology::blocks(o, set) {
        ws.text_fmt(r, 0, heading.as_str(), &f.label)?;
        r += 1;
        for p in paragraphs {
            write_wrapped(ws, f, r, 0, &p, 100.0)?;
            r += 1;
        }
        r += 1;
    }
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    Ok(())
}

fn imports(ws: &mut Worksheet, f: &Formats, o: &Outcome) -> Result<(), XlsxError> {
    ws.set_name("Imports")?;
    let cols: &[Col] = &[
        ("File", 40.0),
        ("SHA-256", 20.0),
        ("Format", 16.0),
        ("Template", 16.0),
        ("Read as", 22.0),
        ("Header (sheet, row)", 18.0),
        ("Rows read", 9.0),
        ("Accepted", 9.0),
        ("Rejected", 9.0),
        ("Duplicate", 9.0),
        ("Outside period", 9.0),
        ("Excluded", 9.0),
        ("Skipped", 9.0),
        ("Skipped by reason", 30.0),
        ("Balanced (read = sum)", 10.0),
        ("Input tokens read", 15.0),
        ("Input tokens accepted", 15.0),
        ("Output tokens read", 15.0),
        ("Output tokens accepted", 15.0),
        ("Requests read", 12.0),
        ("Requests accepted", 12.0),
        ("Spend read", 16.0),
        ("Spend accepted", 16.0),
        ("First date", 11.0),
        ("Last date", 11.0),
        ("Spend adjustments (money only)", 22.0),
        ("Unit decisions", 40.0),
        ("Notes", 60.0),
    ];
    let mut r = header(ws, f, 0, cols)?;
    let spend = spend_text;
    for file in &o.files {
        let c = &file.counts;
        let headers = file
            .sheets
            .iter()
            .map(|s| match &s.sheet {
                Some(n) => format!("{n}!{}", s.header_row),
                None => format!("row {}", s.header_row),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let skipped_by = file
            .skipped_by
            .iter()
            .map(|(k, v)| format!("{}: {v}", k.label()))
            .collect::<Vec<_>>()
            .join("; ");
        write_row(
            ws,
            f,
            r,
            &[
                Cell::Text(&file.file),
                Cell::Text(&file.sha256),
                Cell::Text(&file.format),
                Cell::Text(&file.template),
                Cell::Text(&file.dialect),
                Cell::Owned(headers),
                Cell::Count(c.read),
                Cell::Count(c.accepted),
                Cell::Count(c.rejected),
                Cell::Count(c.duplicate),
                Cell::Count(c.outside_period),
                Cell::Count(c.excluded),
                Cell::Count(c.skipped),
                Cell::Owned(skipped_by),
                Cell::Text(if c.balanced() { "yes" } else { "NO" }),
                Cell::Count(file.read_totals.input_tokens),
                Cell::Count(file.accepted_totals.input_tokens),
                Cell::Count(file.read_totals.output_tokens),
                Cell::Count(file.accepted_totals.output_tokens),
                Cell::Count(file.read_totals.requests),
                Cell::Count(file.accepted_totals.requests),
                Cell::Owned(spend(&file.read_totals.spend)),
                Cell::Owned(spend(&file.accepted_totals.spend)),
                Cell::Owned(file.first_date.map(|d| d.to_string()).unwrap_or_default()),
                Cell::Owned(file.last_date.map(|d| d.to_string()).unwrap_or_default()),
                Cell::Owned(if file.adjustment_rows > 0 {
                    format!(
                        "{} row(s): {}",
                        file.adjustment_rows,
                        spend_text(&file.adjustments)
                    )
                } else {
                    String::new()
                }),
                Cell::Owned(
                    file.unit_decisions
                        .iter()
                        .map(|(d, n)| format!("{d}: {n} row(s)"))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                Cell::Owned(file.notes.join("; ")),
            ],
        )?;
        r += 1;
    }
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    if !o.excluded.is_empty() {
        r += 1;
        ws.text_fmt(
            r,
            0,
            "Usage excluded by the configuration (not in the totals):",
            &f.label,
        )?;
        r += 1;
        for (c, h) in [
            "Reason",
            "Provider",
            "Model",
            "Cost centre",
            "Rows",
            "Input tokens",
            "Output tokens",
            "Spend",
        ]
        .iter()
        .enumerate()
        {
            ws.text_fmt(r, c as u16, h, &f.label)?;
        }
        r += 1;
        for e in &o.excluded {
            write_row(
                ws,
                f,
                r,
                &[
                    Cell::Text(&e.reason),
                    Cell::Text(&e.provider),
                    Cell::Text(&e.model),
                    Cell::Text(e.cost_centre.as_deref().unwrap_or("")),
                    Cell::Count(e.rows),
                    Cell::Count(e.input_tokens),
                    Cell::Count(e.output_tokens),
                    Cell::Owned(spend_text(&e.spend)),
                ],
            )?;
            r += 1;
        }
    }
    if !o.skipped_inputs.is_empty() {
        r += 1;
        ws.text_fmt(
            r,
            0,
            "Not read in the named folders (not in the totals):",
            &f.label,
        )?;
        r += 1;
        ws.write_string_with_format(r, 0, "Path", &f.label)?;
        ws.write_string_with_format(r, 1, "Why not read", &f.label)?;
        r += 1;
        for s in &o.skipped_inputs {
            write_row(
                ws,
                f,
                r,
                &[
                    Cell::Owned(s.path.display().to_string()),
                    Cell::Text(&s.reason),
                ],
            )?;
            r += 1;
        }
    }
    r = money_reconciliation(ws, f, o, r + 1)?;
    r = ai_skipped(ws, f, o, r)?;
    r += 1;
    ws.text_fmt(r, 0, "Row accounting per file: read = accepted + rejected + duplicate + outside period + excluded + skipped. Control totals: read counts every valid data row (in or out of the period), accepted only the rows used. Money: the amounts of every row (vendor total rows left out) = accepted + adjustments + rejected + duplicate + outside period + excluded + skipped, per currency. Coverage by month: see the Coverage sheet.", &f.wrap)?;
    Ok(())
}

/// A table below another on a sheet: a blank row, its title, its headings (`height` points
/// tall, the columns being the table's above); returns the row of its first line.
fn section(
    ws: &mut Worksheet,
    f: &Formats,
    r: u32,
    title: &str,
    heads: &[&str],
    height: f64,
) -> Result<u32, XlsxError> {
    ws.text_fmt(r + 1, 0, title, &f.label)?;
    for (c, h) in heads.iter().enumerate() {
        ws.text_fmt(r + 2, c as u16, h, &f.header)?;
    }
    ws.set_row_height(r + 2, height)?;
    Ok(r + 3)
}

/// The money of each file by what became of its rows, per currency; returns the next row.
fn money_reconciliation(
    ws: &mut Worksheet,
    f: &Formats,
    o: &Outcome,
    mut r: u32,
) -> Result<u32, XlsxError> {
    if o.files.iter().all(|x| x.money.is_empty()) {
        return Ok(r);
    }
    let reasons = [
        crate::model::SkipReason::OtherService,
        crate::model::SkipReason::EmptyBucket,
        crate::model::SkipReason::Blank,
        crate::model::SkipReason::RepeatedHeader,
    ];
    let heads = [
        "File",
        "Currency",
        "Rows with an amount",
        "Total of the rows",
        "Accepted (usage)",
        "Adjustments",
        "Rejected",
        "Duplicate",
        "Outside period",
        "Excluded",
        "Skipped: other service",
        "Skipped: empty bucket",
        "Skipped: blank",
        "Skipped: repeated header",
        "Difference",
        "Reconciled",
    ];
    let title = "Money reconciliation: the amount of every row by what became of it";
    r = section(ws, f, r, title, &heads, 45.0)?;
    for file in &o.files {
        for (cur, b) in &file.money {
            let mut cells = vec![
                Cell::Text(&file.file),
                Cell::Text(cur),
                Cell::Count(b.rows),
                Cell::Number(b.total, &f.money),
                Cell::Number(b.accepted, &f.money),
                Cell::Number(b.adjustments, &f.money),
                Cell::Number(b.rejected, &f.money),
                Cell::Number(b.duplicate, &f.money),
                Cell::Number(b.outside_period, &f.money),
                Cell::Number(b.excluded, &f.money),
            ];
            for why in reasons {
                cells.push(Cell::Number(
                    b.skipped.get(&why).copied().unwrap_or(0.0),
                    &f.money,
                ));
            }
            cells.push(Cell::Number(b.total - b.accounted(), &f.money));
            cells.push(Cell::Text(if b.balanced() { "yes" } else { "NO" }));
            write_row(ws, f, r, &cells)?;
            r += 1;
        }
        if file.money_unreadable_rows > 0 {
            let text = format!(
                "{}: {} row(s) have a cost that is not an amount: they are rejected and their money is not in the total above.",
                file.file, file.money_unreadable_rows
            );
            ws.text_fmt(r, 0, text.as_str(), &f.warn)?;
            r += 1;
        }
    }
    Ok(r)
}

/// Rows skipped as another service whose text names an AI service; returns the next row.
fn ai_skipped(ws: &mut Worksheet, f: &Formats, o: &Outcome, mut r: u32) -> Result<u32, XlsxError> {
    if o.files.iter().all(|x| x.ai_skipped.is_empty()) {
        return Ok(r);
    }
    let title = "WARNING: rows skipped as another service although their text names an AI service or model (not in the figure)";
    let heads = [
        "File",
        "Text of the row",
        "AI name found",
        "Rows",
        "First row",
        "Spend",
    ];
    r = section(ws, f, r, title, &heads, 30.0)?;
    for file in &o.files {
        for g in &file.ai_skipped {
            write_row(
                ws,
                f,
                r,
                &[
                    Cell::Text(&file.file),
                    Cell::Text(&g.text),
                    Cell::Text(&g.matched),
                    Cell::Count(g.rows),
                    Cell::Count(g.first_row),
                    Cell::Owned(spend_text(&g.spend)),
                ],
            )?;
            r += 1;
        }
    }
    Ok(r)
}

/// Coverage: days with usage data per provider and month of the period, and every warning.
fn coverage(ws: &mut Worksheet, f: &Formats, o: &Outcome) -> Result<(), XlsxError> {
    ws.set_name("Coverage")?;
    let months = o.period.months();
    ws.set_column_width(0, 24)?;
    for c in 0..months.len() {
        ws.set_column_width(1 + c as u16, 9)?;
    }
    ws.set_column_width(1 + months.len() as u16, 60)?;
    ws.text_fmt(
        0,
        0,
        format!(
            "Coverage of {}: days with usage data per provider and month",
            o.period
        )
        .as_str(),
        &f.title,
    )?;
    let mut r = 2;
    ws.text_fmt(r, 0, "Provider", &f.header)?;
    for (c, m) in months.iter().enumerate() {
        ws.text_fmt(r, 1 + c as u16, m.as_str(), &f.header)?;
    }
    ws.text_fmt(r, 1 + months.len() as u16, "Months without data", &f.header)?;
    let header_row = r;
    r += 1;
    let matrix = crate::pipeline::warnings::coverage_matrix(o);
    let mut providers: Vec<&str> = matrix.iter().map(|c| c.0).collect();
    providers.dedup();
    for p in &providers {
        ws.text(r, 0, p)?;
        let mut gaps = vec![];
        for (c, (_, m, days)) in matrix.iter().filter(|x| x.0 == *p).enumerate() {
            if *days == 0 {
                gaps.push(m.clone());
                ws.text_fmt(r, 1 + c as u16, "no data", &f.gap)?;
            } else {
                ws.write_number_with_format(r, 1 + c as u16, *days as f64, &f.int)?;
            }
        }
        if !gaps.is_empty() {
            ws.text_fmt(
                r,
                1 + months.len() as u16,
                gaps.join(", ").as_str(),
                &f.warn,
            )?;
        }
        r += 1;
    }
    if providers.is_empty() {
        ws.text_fmt(r, 0, "No usage data in the period", &f.gap)?;
        r += 1;
    }
    r += 1;
    let range = match crate::pipeline::warnings::data_range(o) {
        Some((a, b)) => {
            format!("The files hold data dated {a} to {b} (valid rows, in or out of the period).")
        }
        None => "No file holds a usable dated row.".into(),
    };
    ws.text(r, 0, range.as_str())?;
    r += 2;
    ws.text_fmt(
        r,
        0,
        format!("Warnings ({})", o.warnings.len()).as_str(),
        &f.label,
    )?;
    r += 1;
    let last_col = 1 + months.len() as u16;
    if o.warnings.is_empty() {
        ws.text(r, 0, "None.")?;
    } else {
        ws.text_fmt(r, 0, "Kind", &f.header)?;
        ws.merge_text(r, 1, r, last_col, "Warning", &f.header)?;
        r += 1;
    }
    for w in &o.warnings {
        ws.text_fmt(r, 0, w.code.as_str(), &f.label_top)?;
        ws.merge_text(r, 1, r, last_col, &w.message, &f.warn)?;
        let width: f64 = 9.0 * months.len() as f64 + 60.0;
        let lines = w
            .message
            .chars()
            .count()
            .div_ceil((width * 1.1) as usize)
            .max(1);
        ws.set_row_height(r, 15.0 * lines as f64)?;
        r += 1;
    }
    ws.set_freeze_panes(header_row + 1, 1)?;
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    Ok(())
}

fn rejected(ws: &mut Worksheet, f: &Formats, o: &Outcome) -> Result<(), XlsxError> {
    ws.set_name("Rejected Rows")?;
    let cols: &[Col] = &[
        ("File", 40.0),
        ("Sheet", 12.0),
        ("Row", 7.0),
        ("Column", 24.0),
        ("Value", 24.0),
        ("Reason", 70.0),
    ];
    let mut r = header(ws, f, 0, cols)?;
    for x in &o.rejections {
        write_row(
            ws,
            f,
            r,
            &[
                Cell::Text(&x.file),
                Cell::Text(x.sheet.as_deref().unwrap_or("")),
                Cell::Count(x.row),
                Cell::Text(x.column.as_deref().unwrap_or("")),
                Cell::Text(x.value.as_deref().unwrap_or("")),
                Cell::Text(&x.reason),
            ],
        )?;
        r += 1;
    }
    for file in o.files.iter().filter(|x| x.rejections_not_listed > 0) {
        let note = format!(
            "{} more rejected row(s) of this file not listed: the first {} of each reason are",
            file.rejections_not_listed,
            crate::normalise::REJECTIONS_LISTED_PER_REASON
        );
        write_row(
            ws,
            f,
            r,
            &[
                Cell::Text(&file.file),
                Cell::Text(""),
                Cell::Text(""),
                Cell::Text(""),
                Cell::Text(""),
                Cell::Text(&note),
            ],
        )?;
        r += 1;
    }
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    } else {
        ws.text(1, 0, "No rows were rejected.")?;
    }
    Ok(())
}

fn change_log(ws: &mut Worksheet, f: &Formats, o: &Outcome) -> Result<(), XlsxError> {
    ws.set_name("Change Log")?;
    ws.set_column_width(0, 22)?;
    ws.set_column_width(1, 18)?;
    ws.set_column_width(2, 10)?;
    ws.set_column_width(3, 10)?;
    ws.set_column_width(4, 100)?;
    let Some(l) = &o.ledger else {
        ws.text_fmt(0, 0, "Change Log", &f.title)?;
        write_wrapped(ws, f, 2, 4, "no ledger: restatements are not tracked (this report was made from the named files alone; import them into a ledger to track restatements, removed imports and factor-set changes)", 100.0)?;
        ws.text_fmt(2, 0, "Status", &f.label)?;
        return Ok(());
    };
    ws.text_fmt(0, 0, "Change Log", &f.title)?;
    ws.text(1, 0, format!("ledger {}", l.path).as_str())?;
    let mut r = 3;
    ws.text_fmt(r, 0, "Previously vs currently stated", &f.label)?;
    r += 1;
    match &l.previous_statement {
        None => {
            ws.text(
                r,
                0,
                "No final statement of this period yet (report --final records one).",
            )?;
            r += 1;
        }
        Some(s) => {
            for (c, h) in [
                "Period",
                "Stated at",
                "",
                "",
                "Previously stated → currently stated (kgCO2e central), and why",
            ]
            .iter()
            .enumerate()
            {
                if !h.is_empty() {
                    ws.text_fmt(r, c as u16, h, &f.header)?;
                }
            }
            r += 1;
            let now = o.summary.totals.emissions_kgco2e.central;
            let mut causes = vec![];
            if s.factor_sha256 != o.factor_sha256 {
                causes.push(format!(
                    "factor set change ({} → {})",
                    s.factor_version, o.factor_version
                ));
            }
            let added: Vec<String> = l
                .active_imports
                .difference(&s.imports)
                .map(|i| format!("#{i}"))
                .collect();
            let removed: Vec<String> = s
                .imports
                .difference(&l.active_imports)
                .map(|i| format!("#{i}"))
                .collect();
            if !added.is_empty() {
                causes.push(format!("late data (imports {} added)", added.join(", ")));
            }
            if !removed.is_empty() {
                causes.push(format!("removed import(s) {}", removed.join(", ")));
            }
            if causes.is_empty() {
                causes.push("no change in imports or factor set".into());
            }
            ws.text(r, 0, s.period_label.as_str())?;
            ws.text(r, 1, s.stated_at.as_str())?;
            ws.write_number_with_format(r, 2, s.kgco2e[1], &f.kg)?;
            ws.write_number_with_format(r, 3, now, &f.kg)?;
            write_wrapped(
                ws,
                f,
                r,
                4,
                &format!(
                    "{:.3} → {:.3} kgCO2e: {}",
                    s.kgco2e[1],
                    now,
                    causes.join("; ")
                ),
                100.0,
            )?;
            r += 1;
        }
    }
    r += 1;
    ws.text_fmt(r, 0, "Ledger changes", &f.label)?;
    r += 1;
    for (c, h) in ["When", "Kind", "Import", "Month", "What changed"]
        .iter()
        .enumerate()
    {
        ws.text_fmt(r, c as u16, h, &f.header)?;
    }
    let head = r;
    r += 1;
    if l.changes.is_empty() {
        ws.text(r, 4, "none: no restatement, removed or replaced import")?;
    }
    for c in &l.changes {
        write_row(
            ws,
            f,
            r,
            &[
                Cell::Text(&c.at),
                Cell::Text(&c.kind),
                match c.import_id {
                    Some(i) => Cell::Owned(format!("#{i}")),
                    None => Cell::Blank,
                },
                Cell::Text(c.month.as_deref().unwrap_or("")),
                Cell::Text(&c.detail),
            ],
        )?;
        r += 1;
    }
    if r > head + 1 {
        ws.autofilter(head, 0, r - 1, 4)?;
    }
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    Ok(())
}

/// Row (0-based) of the E1-6 Summary's AI line and its N column (see `e16_summary`).
const E16_AI_ROW: u32 = 6;
const E16_N_COL: u16 = 6;

/// Lines, input tokens, output tokens, kgCO2e, spend of one cost centre.
type AllocationRow = (u64, u64, u64, Bounds, BTreeMap<String, f64>);

fn allocation(ws: &mut Worksheet, f: &Formats, o: &Outcome) -> Result<(), XlsxError> {
    ws.set_name("Allocation")?;
    let cols: &[Col] = &[
        ("Cost centre", 30.0),
        ("Lines", 8.0),
        ("Input tokens", 16.0),
        ("Output tokens", 16.0),
        ("kgCO2e (low)", 13.0),
        ("kgCO2e (central)", 13.0),
        ("kgCO2e (high)", 13.0),
        ("Share of total (central)", 12.0),
        ("Spend", 22.0),
    ];
    let mut r = header(ws, f, 0, cols)?;
    let mut by: BTreeMap<Option<String>, AllocationRow> = BTreeMap::new();
    for l in &o.summary.lines {
        let e = by.entry(l.key.cost_centre.clone()).or_default();
        e.0 += 1;
        e.1 = e.1.saturating_add(l.body.activity.input_tokens);
        e.2 = e.2.saturating_add(l.body.activity.output_tokens);
        e.3 = e.3.zip(l.body.estimate.emissions_kgco2e, |a, b| a + b);
        for (c, v) in &l.body.spend {
            *e.4.entry(c.clone()).or_insert(0.0) += v;
        }
    }
    let total = o.summary.totals.emissions_kgco2e.central;
    let unallocated = by.remove(&None);
    let write = |ws: &mut Worksheet, r: u32, name: &str, v: &AllocationRow| {
        write_row(
            ws,
            f,
            r,
            &[
                Cell::Owned(name.to_string()),
                Cell::Count(v.0),
                Cell::Count(v.1),
                Cell::Count(v.2),
                Cell::Number(v.3.low, &f.kg),
                Cell::Number(v.3.central, &f.kg),
                Cell::Number(v.3.high, &f.kg),
                Cell::Number(
                    if total > 0.0 {
                        v.3.central / total
                    } else {
                        0.0
                    },
                    &f.pct,
                ),
                Cell::Owned(spend_text(&v.4)),
            ],
        )
    };
    for (name, v) in &by {
        write(ws, r, name.as_deref().unwrap_or(""), v)?;
        r += 1;
    }
    // The unallocated remainder is always shown, never hidden.
    let empty = (0, 0, 0, Bounds::default(), BTreeMap::new());
    write(
        ws,
        r,
        "Unallocated (no cost centre in the export)",
        unallocated.as_ref().unwrap_or(&empty),
    )?;
    r += 1;
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    let t = &o.summary.totals.emissions_kgco2e;
    ws.text_fmt(r, 0, "Total (= allocated + unallocated)", &f.total_label)?;
    ws.write_number_with_format(r, 4, t.low, &f.total_kg)?;
    ws.write_number_with_format(r, 5, t.central, &f.total_kg)?;
    ws.write_number_with_format(r, 6, t.high, &f.total_kg)?;
    Ok(())
}

fn uncertainty(ws: &mut Worksheet, f: &Formats, o: &Outcome) -> Result<(), XlsxError> {
    ws.set_name("Uncertainty")?;
    let cols: &[Col] = &[
        ("Provider", 30.0),
        ("kgCO2e (low)", 14.0),
        ("kgCO2e (central)", 14.0),
        ("kgCO2e (high)", 14.0),
        ("High / low", 10.0),
    ];
    let mut r = header(ws, f, 0, cols)?;
    let mut by: BTreeMap<String, Bounds> = BTreeMap::new();
    for l in &o.summary.lines {
        let e = by.entry(l.key.provider.to_string()).or_default();
        *e = e.zip(l.body.estimate.emissions_kgco2e, |a, b| a + b);
    }
    let ratio = |b: &Bounds| if b.low > 0.0 { b.high / b.low } else { 0.0 };
    for (p, b) in &by {
        write_row(
            ws,
            f,
            r,
            &[
                Cell::Text(p),
                Cell::Number(b.low, &f.kg),
                Cell::Number(b.central, &f.kg),
                Cell::Number(b.high, &f.kg),
                Cell::Number(ratio(b), &f.dq),
            ],
        )?;
        r += 1;
    }
    // Whiskers: central per provider with low-high error bars (plus / minus columns F, G).
    let first = 1u32;
    ws.text_fmt(0, 5, "to high", &f.header)?;
    ws.text_fmt(0, 6, "to low", &f.header)?;
    for (i, b) in by.values().enumerate() {
        let row = first + i as u32;
        ws.write_number_with_format(row, 5, b.high - b.central, &f.kg)?;
        ws.write_number_with_format(row, 6, b.central - b.low, &f.kg)?;
    }
    let t = o.summary.totals.emissions_kgco2e;
    write_row(
        ws,
        f,
        r,
        &[
            Cell::Text("Total"),
            Cell::Number(t.low, &f.total_kg),
            Cell::Number(t.central, &f.total_kg),
            Cell::Number(t.high, &f.total_kg),
            Cell::Number(ratio(&t), &f.dq),
        ],
    )?;
    if !by.is_empty() {
        let last = first + by.len() as u32 - 1;
        let mut chart = Chart::new(ChartType::Column);
        chart
            .title()
            .set_name("kgCO2e by provider: central, whiskers to low and high");
        let mut bars = ChartErrorBars::new();
        bars.set_type(ChartErrorBarsType::Custom(
            ChartRange::new_from_range("Uncertainty", first, 5, last, 5),
            ChartRange::new_from_range("Uncertainty", first, 6, last, 6),
        ));
        chart
            .add_series()
            .set_name("central")
            .set_categories(("Uncertainty", first, 0, last, 0))
            .set_values(("Uncertainty", first, 2, last, 2))
            .set_y_error_bars(&bars);
        chart.y_axis().set_name("kgCO2e").set_min(0);
        chart.set_width(560).set_height(320);
        ws.insert_chart(0, 8, &chart)?;
    }
    r += 2;
    ws.text_fmt(
        r,
        0,
        "Sensitivity of the total (central) to each assumption, the others central",
        &f.label,
    )?;
    r += 1;
    for (c, h) in [
        "Assumption",
        "Total at its low (kgCO2e)",
        "Central total (kgCO2e)",
        "Total at its high (kgCO2e)",
        "Swing (high − low)",
    ]
    .iter()
    .enumerate()
    {
        ws.text_fmt(r, c as u16, h, &f.header)?;
    }
    ws.set_row_height(r, 30)?;
    r += 1;
    let mut rows = o.summary.sensitivity.clone();
    rows.sort_by(|a, b| (b.2 - b.1).abs().total_cmp(&(a.2 - a.1).abs()));
    let tornado_first = r;
    for (name, lo, hi) in &rows {
        write_row(
            ws,
            f,
            r,
            &[
                Cell::Text(name),
                Cell::Number(*lo, &f.kg),
                Cell::Number(t.central, &f.kg),
                Cell::Number(*hi, &f.kg),
                Cell::Number(hi - lo, &f.kg),
            ],
        )?;
        r += 1;
    }
    if !rows.is_empty() {
        // Tornado: the swing of each assumption around the central total (columns F, G).
        let last = r - 1;
        ws.text_fmt(tornado_first - 1, 5, "low − central", &f.header)?;
        ws.text_fmt(tornado_first - 1, 6, "high − central", &f.header)?;
        for (i, (_, lo, hi)) in rows.iter().enumerate() {
            let row = tornado_first + i as u32;
            ws.write_number_with_format(row, 5, lo - t.central, &f.kg)?;
            ws.write_number_with_format(row, 6, hi - t.central, &f.kg)?;
        }
        let mut chart = Chart::new(ChartType::Bar);
        chart
            .title()
            .set_name("Tornado: change of the total (kgCO2e) per assumption");
        for (col, name) in [
            (5u16, "assumption at its low"),
            (6u16, "assumption at its high"),
        ] {
            chart
                .add_series()
                .set_name(name)
                .set_categories(("Uncertainty", tornado_first, 0, last, 0))
                .set_values(("Uncertainty", tornado_first, col, last, col))
                .set_overlap(100);
        }
        chart.set_width(560).set_height(320);
        ws.insert_chart(tornado_first, 8, &chart)?;
    }
    r += 1;
    note(ws, f, r, 6, "Low and high are a bounding envelope (every factor at its low or its high value), not a statistical interval. Spend-based lines do not depend on these assumptions and add their central to every row of the sensitivity table.", 100.0)?;
    Ok(())
}

fn data_quality(ws: &mut Worksheet, f: &Formats, o: &Outcome) -> Result<(), XlsxError> {
    ws.set_name("Data Quality")?;
    let cols: &[Col] = &[
        ("Provider", 14.0),
        ("Model key", 24.0),
        ("Method", 16.0),
        ("Technology", 11.0),
        ("Time", 8.0),
        ("Geography", 10.0),
        ("Completeness", 12.0),
        ("Reliability", 11.0),
        ("Score (mean)", 11.0),
        ("kgCO2e (central, the weight)", 14.0),
    ];
    let mut r = header(ws, f, 0, cols)?;
    // Line groups: provider × model × method; indicators are the emissions-weighted means.
    let mut groups: BTreeMap<(String, String, &'static str), ([f64; 5], f64)> = BTreeMap::new();
    let mut total = ([0.0f64; 5], 0.0f64);
    for l in &o.summary.lines {
        let d = &l.body.dq;
        let w = l.body.estimate.emissions_kgco2e.central;
        let vals = [
            d.technology,
            d.time,
            d.geography,
            d.completeness,
            d.reliability,
        ]
        .map(f64::from);
        let g = groups
            .entry((
                l.key.provider.to_string(),
                l.body.model_key.clone(),
                l.body.method.label(),
            ))
            .or_insert(([0.0; 5], 0.0));
        for (i, v) in vals.iter().enumerate() {
            g.0[i] += v * w;
            total.0[i] += v * w;
        }
        g.1 += w;
        total.1 += w;
    }
    let mean = |v: &[f64; 5], w: f64| -> [f64; 5] { v.map(|x| if w > 0.0 { x / w } else { 0.0 }) };
    for ((p, m, method), (v, w)) in &groups {
        let a = mean(v, *w);
        let mut cells = vec![Cell::Text(p), Cell::Text(m), Cell::Text(method)];
        cells.extend(a.iter().map(|x| Cell::Number(*x, &f.dq)));
        cells.push(Cell::Number(a.iter().sum::<f64>() / 5.0, &f.dq));
        cells.push(Cell::Number(*w, &f.kg));
        write_row(ws, f, r, &cells)?;
        r += 1;
    }
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    let a = mean(&total.0, total.1);
    ws.text_fmt(r, 0, "Weighted total", &f.total_label)?;
    for (i, x) in a.iter().enumerate() {
        ws.write_number_with_format(r, 3 + i as u16, *x, &f.dq)?;
    }
    match o.summary.totals.data_quality_score {
        Some(sc) => ws.write_number_with_format(r, 8, sc, &f.dq)?,
        None => ws.text(r, 8, "n/a")?,
    };
    ws.write_number_with_format(r, 9, total.1, &f.total_kg)?;
    // Method mix: central kgCO2e by method, and a pie of it.
    r += 2;
    ws.text_fmt(r, 0, "Method mix (central kgCO2e)", &f.label)?;
    r += 1;
    let mut methods: BTreeMap<&'static str, f64> = BTreeMap::new();
    for l in &o.summary.lines {
        *methods.entry(l.body.method.label()).or_insert(0.0) +=
            l.body.estimate.emissions_kgco2e.central;
    }
    let mix_first = r;
    for (m, v) in &methods {
        write_row(ws, f, r, &[Cell::Text(m), Cell::Number(*v, &f.kg)])?;
        r += 1;
    }
    if !methods.is_empty() {
        let mut chart = Chart::new(ChartType::Pie);
        chart.title().set_name("Emissions by method (GHG Protocol)");
        chart
            .add_series()
            .set_name("kgCO2e (central)")
            .set_categories(("Data Quality", mix_first, 0, r - 1, 0))
            .set_values(("Data Quality", mix_first, 1, r - 1, 1));
        chart.set_width(420).set_height(300);
        ws.insert_chart(mix_first, 5, &chart)?;
    }
    r += 2;
    ws.text_fmt(
        r,
        0,
        "% of emissions from supplier primary data (ESRS E1 AR 46(g))",
        &f.label,
    )?;
    ws.write_number_with_format(r, 3, o.summary.totals.primary_data_share, &f.pct)?;
    r += 2;
    note(ws, f, r, 9, "GHG Protocol data-quality indicators, 1 very good … 4 poor: technology (2 known model, 3 size class, 4 spend-based), time (factor age), geography (1 cloud region, 2 country, 3 provider default or continent, 4 world), completeness (1 token data, 3 imputed), reliability (2 hybrid, 3 average-data, 4 spend-based). Group and total scores weight lines by central kgCO2e.", 100.0)?;
    Ok(())
}

fn supplier_data(ws: &mut Worksheet, f: &Formats, o: &Outcome) -> Result<(), XlsxError> {
    ws.set_name("Supplier Data")?;
    let cols: &[Col] = &[
        ("Vendor export", 30.0),
        ("Provider", 12.0),
        ("Account", 22.0),
        ("Service", 12.0),
        ("Service (as the vendor names it)", 18.0),
        ("Region", 13.0),
        ("Month", 9.0),
        ("Vendor kgCO2e location-based", 14.0),
        ("Vendor kgCO2e market-based", 14.0),
        ("of which Scope 3 kgCO2e", 12.0),
        ("Carbon model version", 10.0),
        ("Sub-accounts summed", 9.0),
        ("Lines matched", 9.0),
        ("Tool estimate kgCO2e (low)", 12.0),
        ("Tool estimate kgCO2e (central)", 12.0),
        ("Tool estimate kgCO2e (high)", 12.0),
        ("Status", 70.0),
        ("Source rows", 50.0),
    ];
    let mut r = header(ws, f, 0, cols)?;
    let opt = |v: Option<f64>| match v {
        Some(x) => Cell::Number(x, &f.kg),
        None => Cell::Text("not given"),
    };
    for s in &o.summary.supplier {
        let k = &s.key;
        let mut cells = vec![
            Cell::Text(&s.vendor),
            Cell::Text(&k.provider),
            Cell::Text(k.account.as_deref().unwrap_or("(not in the file)")),
            Cell::Text(&k.service),
            Cell::Text(&s.service_name),
            Cell::Text(&k.region),
            Cell::Text(&k.month),
            opt(s.location_kg),
            opt(s.market_kg),
            opt(s.scope3_kg),
            Cell::Owned(s.model_versions.join(", ")),
            Cell::Count(s.sub_accounts as u64),
            Cell::Count(s.matched_lines as u64),
        ];
        cells.extend(bounds_cells(s.estimate_kgco2e, &f.kg));
        cells.push(Cell::Owned(s.status.label()));
        cells.push(Cell::Owned(
            s.sources
                .iter()
                .map(|x| format!("{} rows {}-{} ({})", x.file, x.rows[0], x.rows[1], x.count))
                .collect::<Vec<_>>()
                .join("; "),
        ));
        write_row(ws, f, r, &cells)?;
        r += 1;
    }
    if o.summary.supplier.is_empty() {
        ws.text(r, 0, "No vendor carbon report was imported: every line is the tool's estimate, and % primary data is 0.")?;
        r += 1;
    } else {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    r += 1;
    let used: f64 = o
        .summary
        .lines
        .iter()
        .filter(|l| l.body.method == crate::estimate::Method::SupplierSpecific)
        .map(|l| l.body.estimate.emissions_kgco2e.central)
        .sum();
    write_row(
        ws,
        f,
        r,
        &[
            Cell::Text("kgCO2e from vendor figures (supplier-specific lines)"),
            Cell::Number(used, &f.total_kg),
        ],
    )?;
    r += 1;
    write_row(
        ws,
        f,
        r,
        &[
            Cell::Text("% primary data (ESRS E1 AR 46(g))"),
            Cell::Number(o.summary.totals.primary_data_share, &f.pct),
        ],
    )?;
    r += 2;
    note(ws, f, r, 12, "METHODOLOGY §5: a vendor figure replaces the estimate (embodied adder included) only when it is location-based, includes Scope 3, names the account and matches provider × account × service × region × month, and when the tool estimated every billed item of that key; it is then split over the key's lines by their share of the estimate (low = central = high: vendors publish no range). Otherwise it is shown beside the estimate with the reason, and on the AI Services sheet. Energy and water stay the tool's estimate. Market-based vendor figures are never the reported figure; offsets are never netted.", 75.0)?;
    Ok(())
}

fn xbrl_map(ws: &mut Worksheet, f: &Formats, o: &Outcome) -> Result<(), XlsxError> {
    ws.set_name("XBRL Map")?;
    let cols: &[Col] = &[
        ("Datapoint", 44.0),
        ("Element", 50.0),
        ("Dimension member", 60.0),
        ("Period", 24.0),
        ("Unit", 8.0),
        ("Decimals", 9.0),
        ("Workbook cell", 26.0),
    ];
    let mut r = header(ws, f, 0, cols)?;
    let period = format!("{} to {}", o.period.start, o.period.end);
    let cell =
        |row: u32, col: u16| format!("'E1-6 Summary'!{}{}", (b'A' + col as u8) as char, row + 1);
    let axis = "esrs:Scope3GHGEmissionsCategoryGHGProtocolAxis";
    let rows: Vec<[String; 7]> = vec![
        [
            "Cloud computing and data centre services: of which AI / LLM API services (component)".into(),
            "esrs:GrossScope3GreenhouseGasEmissions".into(),
            format!("{axis} = esrs:Category11CloudComputingAndDataCentreServicesMember (this workbook supplies a component of the member's value)"),
            period.clone(),
            "tCO2e".into(),
            "3".into(),
            cell(E16_AI_ROW, E16_N_COL),
        ],
        [
            "% of Scope 3 from supplier primary data (AR 46(g))".into(),
            "esrs:PercentageOfGrossScope3GreenhouseGasEmissionsCalculatedUsingPrimaryDataObtainedFromSuppliersOrOtherValueChainPartners".into(),
            "—".into(),
            period.clone(),
            "pure".into(),
            "3".into(),
            "'Data Quality' (% primary data row)".into(),
        ],
        [
            "Methodologies, significant assumptions and emission factors (AR 39(b))".into(),
            "esrs:DisclosureOfMethodologiesSignificantAssumptionsAndEmissionsFactorsUsedToCalculateOrMeasureGHGEmissionsExplanatory".into(),
            "—".into(),
            period,
            "text".into(),
            "—".into(),
            "'Methodology'!A1".into(),
        ],
    ];
    for row in &rows {
        let cells: Vec<Cell> = row.iter().map(|c| Cell::Text(c.as_str())).collect();
        write_row(ws, f, r, &cells)?;
        r += 1;
    }
    r += 1;
    note(ws, f, r, 4, "Element names are from the EFRAG ESRS XBRL taxonomy (2023-12-22). The AI / LLM figure is a component of the cloud-computing member, not a separate element: the entity tags its full category value.", 100.0)?;
    Ok(())
}
