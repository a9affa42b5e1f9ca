//! The quarterly workbook (REPORT.md): one file per sheet, each writing through the one
//! [`writer`] (which chooses, when the workbook is started, whether the line tables go through
//! rust_xlsxwriter or are streamed as XML by `streamed_rows`), formats defined once
//! (`formats`), every text from an input written as a string (never a formula). The sheets,
//! in order, are [`SHEETS`].
//!
//! Dependencies run one way: this file calls the sheets; the sheets use the writer, the
//! formats and the shared cells (`line_cells`, `formulas`); the writer uses `streamed_rows`.

mod ai_services;
mod allocation;
mod calculation_lines;
mod change_log;
mod cover;
mod coverage;
mod data_quality;
mod entities;
mod factors;
pub(crate) mod formats;
mod formulas;
mod imports;
mod levers;
pub(crate) mod line_cells;
mod management;
mod methodology;
mod per_request;
mod periods;
mod rejected_rows;
mod sources;
mod streamed_rows;
mod summary;
mod supplier_data;
mod training;
mod trend;
mod uncertainty;
mod writer;
mod xbrl_map;

use rust_xlsxwriter::{DocProperties, ExcelDateTime};

pub use self::calculation_lines::{FORMULA_LINES, LINES_PER_SHEET};
use self::formats::Formats;
pub use self::writer::SheetWriter;
use self::writer::{err, Book};
use crate::factors::FactorSet;
use crate::pipeline::Outcome;

/// Sheet names, in workbook order, of a report without a ledger; a ledger report has
/// [`TREND`] after "Periods", and the group's report [`ENTITIES`] after "Allocation"
/// ([`sheet_names`]).
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
    "Per Request",
    "Levers",
    "Training",
    "Supplier Data",
    "Methodology",
    "Coverage",
    "Imports",
    "Rejected Rows",
    "XBRL Map",
    "Change Log",
];

/// The Trend sheet: the fiscal year by quarter, from the ledger (ledger reports only).
pub const TREND: &str = trend::NAME;

/// The Entities sheet: the group's figure by reporting entity (the group's report only),
/// after "Allocation".
pub const ENTITIES: &str = entities::NAME;

/// The sheet names of `o`'s workbook, in order (before any "Calculation Lines (2)").
pub fn sheet_names(o: &Outcome) -> Vec<&'static str> {
    let mut names = SHEETS.to_vec();
    if trend::of(o).is_some() {
        let at = names
            .iter()
            .position(|n| *n == "Periods")
            .map_or(names.len(), |i| i + 1);
        names.insert(at, TREND);
    }
    if entities::of(o).is_some() {
        let at = names
            .iter()
            .position(|n| *n == "Allocation")
            .map_or(names.len(), |i| i + 1);
        names.insert(at, ENTITIES);
    }
    names
}

/// Builds the whole workbook in memory and returns its bytes (the page keeps them; the command
/// line deflates into its staged file with [`build_into`]).
pub fn build(o: &Outcome, set: &FactorSet) -> crate::error::Result<Vec<u8>> {
    build_with(o, set, LINES_PER_SHEET)
}

/// [`build`] with the number of calculation lines per sheet (tests use a small one to see
/// the lines continue on "Calculation Lines (2)").
pub fn build_with(o: &Outcome, set: &FactorSet, per_sheet: usize) -> crate::error::Result<Vec<u8>> {
    build_with_writer(o, set, per_sheet, SheetWriter::Streamed)
}

/// [`build_with`], the large sheets written by `writer` (tests compare the two).
pub fn build_with_writer(
    o: &Outcome,
    set: &FactorSet,
    per_sheet: usize,
    writer: SheetWriter,
) -> crate::error::Result<Vec<u8>> {
    let out = build_into_with(o, set, per_sheet, writer, std::io::Cursor::new(Vec::new()))?;
    Ok(out.into_inner())
}

/// Writes the workbook into `out` (a staged file: the workbook is deflated into it as it is
/// made, never held whole in memory) and hands `out` back.
pub fn build_into<W: std::io::Write + std::io::Seek + Send>(
    o: &Outcome,
    set: &FactorSet,
    out: W,
) -> crate::error::Result<W> {
    build_into_with(o, set, LINES_PER_SHEET, SheetWriter::Streamed, out)
}

fn build_into_with<W: std::io::Write + std::io::Seek + Send>(
    o: &Outcome,
    set: &FactorSet,
    per_sheet: usize,
    writer: SheetWriter,
    out: W,
) -> crate::error::Result<W> {
    let f = Formats::new();
    // A final workbook (`report --final`) is protected: only its sign-off cells can be edited.
    let protect = crate::pipeline::finality::recording(o).is_some();
    let mut book = Book::start(
        &f,
        writer,
        o.summary.calc_lines.len(),
        &properties(o)?,
        protect,
    );
    let b = &mut book;
    cover::write(b, o, set).map_err(err)?;
    summary::write(b, o).map_err(err)?;
    ai_services::write(b, o, per_sheet).map_err(err)?;
    periods::write(b, o).map_err(err)?;
    trend::write(b, o).map_err(err)?;
    allocation::write(b, o).map_err(err)?;
    entities::write(b, o).map_err(err)?;
    calculation_lines::write(b, o, per_sheet).map_err(err)?;
    factors::write(b, o).map_err(err)?;
    sources::write(b, o, set).map_err(err)?;
    uncertainty::write(b, o).map_err(err)?;
    data_quality::write(b, o).map_err(err)?;
    per_request::write(b, o).map_err(err)?;
    levers::write(b, o).map_err(err)?;
    training::write(b, o).map_err(err)?;
    supplier_data::write(b, o).map_err(err)?;
    methodology::write(b, o, set).map_err(err)?;
    coverage::write(b, o).map_err(err)?;
    imports::write(b, o).map_err(err)?;
    rejected_rows::write(b, o).map_err(err)?;
    xbrl_map::write(b, o).map_err(err)?;
    change_log::write(b, o).map_err(err)?;
    book.finish_into(out)
}

/// The workbook's document properties: title, subject, entity, period, factor set, created.
fn properties(o: &Outcome) -> crate::error::Result<DocProperties> {
    let created =
        ExcelDateTime::parse_from_str(&o.generated_at.format("%Y-%m-%dT%H:%M:%S").to_string())
            .map_err(err)?;
    Ok(DocProperties::new()
        .set_title(format!("Scope 3 AI/LLM services {}", o.period.label))
        .set_subject("ESRS E1-6 Scope 3 Category 1: purchased AI / LLM API services")
        .set_company(&o.entity)
        .set_author("llm-scope3")
        .set_keywords("ESRS E1-6, Scope 3, GHG Protocol, LLM")
        .set_comment(format!(
            "Period {} to {}; factor set {}",
            o.period.start, o.period.end, o.factor_version
        ))
        .set_creation_datetime(&created))
}
