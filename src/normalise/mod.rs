//! Normalise: rows of cells + templates -> canonical usage records and rejections.
//!
//! It finds the header row (it may sit below title rows, on any sheet), binds the template
//! that fits it, and maps every data row to a [`UsageRecord`], or to a [`Rejection`] that says
//! which cell was wrong and why, or to a counted skip (blank, empty bucket, vendor total,
//! repeated header). Every data row lands in exactly one of those, so the row accounting
//! `read = accepted + rejected + duplicate + outside_period + excluded + skipped` holds by
//! construction. It does not estimate or aggregate: records go to a sink as they are made.

pub mod carbon;
pub mod origin;
pub mod parse;
mod separators;
pub mod template;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::ingest::{self, CellRef, FileInfo, Flow, IngestError, RowCells, RowEvent};
use crate::model::{Period, Provenance, RecordKind, Rejection, SinkStop, SkipReason, UsageRecord};
use parse::Stamp;
use separators::{Evidence, SepTally, Separators};
pub use template::{Mapping, Template, TemplateError, TemplateSet};

/// Rejections listed per file and reason; further ones are counted
/// ([`FileReport::rejections_not_listed`]), so memory stays flat on a file of bad rows.
pub const REJECTIONS_LISTED_PER_REASON: u32 = 100;

/// Distinct reasons tracked per file; rejections for reasons beyond these are counted only.
const REJECTION_REASONS_TRACKED: usize = 200;

/// Unit decisions kept per file before further exchange rates are counted together.
const FX_DECISIONS_LISTED: usize = 40;

pub use crate::ingest::HEADER_SEARCH_ROWS;

/// The cells of rows held while they wait (for the day/month order, or for a column's
/// decimal separator) are bounded by this many bytes, about; past it, what they wait for is
/// decided from what the file showed so far, as at its end.
const HELD_BYTES: usize = 32 << 20;

#[cfg(test)]
thread_local! {
    /// [`HELD_BYTES`], lowered by a test.
    static HELD_LIMIT: std::cell::Cell<usize> = const { std::cell::Cell::new(HELD_BYTES) };
}

#[cfg(test)]
thread_local! {
    /// Rows mapped on the calling thread (by [`FileRun::map`]), counted for a test.
    static MAPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The bound on the cells of rows held waiting ([`HELD_BYTES`]; a test lowers it).
fn held_limit() -> usize {
    #[cfg(test)]
    return HELD_LIMIT.get();
    #[cfg(not(test))]
    HELD_BYTES
}

/// Row counts of one file. `read` counts data rows (below the header).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCounts {
    /// Data rows read.
    pub read: u64,
    /// Rows that became records in the period.
    pub accepted: u64,
    /// Rows rejected with a reason.
    pub rejected: u64,
    /// Rows already imported (ledger only).
    pub duplicate: u64,
    /// Valid rows dated outside the reporting period.
    pub outside_period: u64,
    /// Rows excluded by the configuration.
    pub excluded: u64,
    /// Blank rows, empty buckets, vendor totals, repeated headers.
    pub skipped: u64,
}

impl RowCounts {
    /// True when read = accepted + rejected + duplicate + outside + excluded + skipped.
    pub fn balanced(&self) -> bool {
        self.read
            == self.accepted
                + self.rejected
                + self.duplicate
                + self.outside_period
                + self.excluded
                + self.skipped
    }
}

/// Control totals of the quantities on a set of rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantities {
    /// Requests.
    pub requests: u64,
    /// True when a row gave a request count (a real 0 included). False in a report a ledger
    /// stored before it was kept: then only a count above 0 says requests were reported.
    #[serde(default)]
    pub requests_reported: bool,
    /// Input tokens (cached included).
    pub input_tokens: u64,
    /// Cached input tokens.
    pub cached_input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input characters (character-billed SKUs).
    pub input_characters: u64,
    /// Output characters.
    pub output_characters: u64,
    /// Spend per currency.
    pub spend: BTreeMap<String, f64>,
}

impl Quantities {
    fn add(&mut self, r: &RowValues) -> Result<(), TotalOverflow> {
        let add = |a: u64, b: u64, what: &'static str| a.checked_add(b).ok_or(TotalOverflow(what));
        self.requests = add(self.requests, r.requests, "requests")?;
        self.requests_reported |= r.requests_reported;
        self.input_tokens = add(self.input_tokens, r.input_tokens, "input tokens")?;
        self.cached_input_tokens = add(
            self.cached_input_tokens,
            r.cached_input_tokens,
            "cached input tokens",
        )?;
        self.output_tokens = add(self.output_tokens, r.output_tokens, "output tokens")?;
        self.input_characters = add(
            self.input_characters,
            r.input_characters,
            "input characters",
        )?;
        self.output_characters = add(
            self.output_characters,
            r.output_characters,
            "output characters",
        )?;
        if let Some(cost) = r.cost {
            *self.spend.entry(r.currency.clone()).or_insert(0.0) += cost;
        }
        Ok(())
    }

    /// Input + output tokens.
    pub fn tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// What was learnt about one input file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FileReport {
    /// The input's index in the run.
    pub file_index: usize,
    /// The file as named.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Encoding, delimiter or workbook facts.
    pub dialect: String,
    /// Detected format (`openai-usage`), joined with `+` if sheets differ.
    pub format: String,
    /// Template id(s) used.
    pub template: String,
    /// Sheets read, with their header rows.
    pub sheets: Vec<SheetReport>,
    /// Row accounting.
    pub counts: RowCounts,
    /// Skips by reason.
    pub skipped_by: BTreeMap<SkipReason, u64>,
    /// Quantities over every valid data row (in or out of the period).
    pub read_totals: Quantities,
    /// Quantities over the accepted rows.
    pub accepted_totals: Quantities,
    /// Earliest bucket start of a valid row.
    pub first_date: Option<NaiveDate>,
    /// Latest bucket start of a valid row.
    pub last_date: Option<NaiveDate>,
    /// Remarks an auditor should read (total-row mismatches, ignored sheets ...).
    pub notes: Vec<String>,
    /// How quantities were read (tokens or price blocks), with row counts.
    pub unit_decisions: BTreeMap<String, u64>,
    /// Money-only rows in the period (tax, credit, refund, fee), of the accepted rows.
    pub adjustment_rows: u64,
    /// Their amounts per currency.
    pub adjustments: BTreeMap<String, f64>,
    /// Billing accounts seen on valid rows (templates with an `account` field).
    pub accounts: std::collections::BTreeSet<String>,
    /// Money on every data row above the current one, whatever became of the row: what a
    /// vendor's invoice total row adds up.
    pub all_rows_cost: f64,
    /// Rejected rows counted but not listed: past the first
    /// [`REJECTIONS_LISTED_PER_REASON`] of each reason.
    #[serde(default)]
    pub rejections_not_listed: u64,
    /// The money on the file's rows by what became of each row, per currency (files with a
    /// cost column): it must add up to the file's total ([`MoneyBalance::balanced`]).
    #[serde(default)]
    pub money: BTreeMap<String, MoneyBalance>,
    /// Rows whose cost cell holds something that is not an amount (they are rejected; their
    /// money cannot be counted).
    #[serde(default)]
    pub money_unreadable_rows: u64,
    /// Rows skipped as another service whose text names an AI service or model: usage that
    /// may belong in the figure. Grouped by that text, at most [`AI_SKIPPED_LISTED`] groups.
    #[serde(default)]
    pub ai_skipped: Vec<AiSkipped>,
    /// Rejected rows the ledger already held from an earlier import (an overlapping
    /// re-download): counted as duplicates, listed once.
    #[serde(default)]
    pub rejected_seen_before: u64,
    /// Quantity and money columns whose dots and commas cannot all follow one convention
    /// (`1.000` beside `1,000`, `12.5` beside `1.234,5`), each with examples: a warning.
    #[serde(default)]
    pub ambiguous_separators: Vec<String>,
    /// Columns the format reads whose name the header holds more than once, each saying which
    /// one is used: a warning.
    #[serde(default)]
    pub duplicate_columns: Vec<String>,
    /// Valid usage rows (in or out of the period) per month, the month as `year * 12 + month
    /// - 1`: which period the file's data is in.
    #[serde(default)]
    pub usage_rows_by_month: BTreeMap<i32, u64>,
    /// The warehouse query the file is the result of (`llm-scope3 sql`), from its marker
    /// columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<origin::WarehouseOrigin>,
}

/// Groups of skipped AI-looking rows listed per file; further rows join the last group.
pub const AI_SKIPPED_LISTED: usize = 50;

/// The money of one file in one currency, by what became of each row. Vendor total rows are
/// left out (their amount is checked against the rows above them, see the file's notes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MoneyBalance {
    /// Rows with an amount.
    pub rows: u64,
    /// The sum of every amount, added as each row is read.
    pub total: f64,
    /// On usage rows used in the figure.
    pub accepted: f64,
    /// On money-only rows in the period (tax, credit, refund, fee).
    pub adjustments: f64,
    /// On rejected rows.
    pub rejected: f64,
    /// On rows the ledger already held (ledger only).
    #[serde(default)]
    pub duplicate: f64,
    /// On rows dated outside the period.
    pub outside_period: f64,
    /// On rows the configuration excludes.
    #[serde(default)]
    pub excluded: f64,
    /// On skipped rows, by reason (other services, empty buckets ...).
    pub skipped: BTreeMap<SkipReason, f64>,
}

impl MoneyBalance {
    /// The sum of the outcomes.
    pub fn accounted(&self) -> f64 {
        self.accepted
            + self.adjustments
            + self.rejected
            + self.duplicate
            + self.outside_period
            + self.excluded
            + self.skipped.values().sum::<f64>()
    }

    /// True when the outcomes add up to the total (to half a cent, or 1e-9 relative).
    pub fn balanced(&self) -> bool {
        (self.total - self.accounted()).abs() <= 0.005 + 1e-9 * self.total.abs()
    }
}

/// Rows skipped as another service whose text names an AI service or model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AiSkipped {
    /// The row's describing text (service, product, usage type, meter, SKU), as exported.
    pub text: String,
    /// The AI name found in it (`Bedrock`, `GPT` ...).
    pub matched: String,
    /// Rows.
    pub rows: u64,
    /// First such row (sheet row number).
    pub first_row: u64,
    /// Spend per currency on those rows.
    pub spend: BTreeMap<String, f64>,
}

/// One sheet that held a recognised header.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SheetReport {
    /// Sheet name (`None` for CSV).
    pub sheet: Option<String>,
    /// Row number of the header.
    pub header_row: u64,
    /// Template id.
    pub template: String,
    /// field -> column(s), for `inspect` and the Imports sheet.
    pub mapping: Vec<(String, String)>,
}

/// A file that cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum NormaliseError {
    /// The file could not be read.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// No sheet has a header any template recognises.
    #[error("{file}: unknown format: no template recognises its header.\n  Headers seen{where_}: {seen}\n  {nearest}")]
    UnknownFormat {
        /// The file as named.
        file: String,
        /// Where the headers were seen (row, sheet).
        where_: String,
        /// The header cells seen.
        seen: String,
        /// The nearest template and what it missed.
        nearest: String,
    },
    /// Slash dates whose day/month order the file never settles.
    #[error("{file}: {rows} row(s), first at row {example}, have dates such as 03/04/2026 that read both as day/month and month/day, and no date in the file settles the order. Set the order in the template (date_order = \"dmy\" or \"mdy\").")]
    AmbiguousDates {
        /// The file as named.
        file: String,
        /// Rows waiting.
        rows: usize,
        /// The first of them.
        example: u64,
    },
    /// The reading stopped part-way: a total overflowed, or the report refused a record.
    #[error("{file}: {stop}")]
    Stopped {
        /// The file as named.
        file: String,
        /// Why, and where.
        stop: FileStop,
    },
}

/// Why a file's reading stopped part-way (its rows so far are not used).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileStop {
    /// A total of the file passes a 64-bit count at a row.
    #[error("the sum of {what} overflows a 64-bit count ({}row {row})", sheet.as_deref().map(|s| format!("sheet '{s}', ")).unwrap_or_default())]
    Overflow {
        /// The quantity (`input tokens`).
        what: &'static str,
        /// The sheet, for spreadsheets.
        sheet: Option<String>,
        /// The row that made it overflow.
        row: u64,
    },
    /// The report refused a record (more distinct lines than its limit), in its words.
    #[error("{0}")]
    Refused(String),
    /// A template recognised the header but cannot read it.
    #[error("{0}")]
    Template(String),
    /// Rows wait for a day/month order that nothing decides, and grew past what is held.
    #[error("{rows} row(s), first at row {example}, have dates such as 03/04/2026 that read both as day/month and month/day, and no date up to row {} settles the order; the rows waiting grew past what is held (32 MiB), so reading stopped there. Set the order in the template (date_order = \"dmy\" or \"mdy\").", stopped_at)]
    AmbiguousDates {
        /// Rows waiting.
        rows: usize,
        /// The first of them.
        example: u64,
        /// The row reading stopped at.
        stopped_at: u64,
    },
}

/// A total that passes a 64-bit count: which one (the row is the caller's to add).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TotalOverflow(&'static str);

/// The cells of one data row after parsing (before the period check).
#[derive(Debug, Clone, Default)]
struct RowValues {
    requests: u64,
    /// The row gave a request count.
    requests_reported: bool,
    input_tokens: u64,
    cached_input_tokens: u64,
    output_tokens: u64,
    input_characters: u64,
    output_characters: u64,
    cost: Option<f64>,
    currency: String,
}

/// A row-level problem: the column at fault, the value, the reason.
struct RowProblem {
    column: Option<String>,
    value: Option<String>,
    reason: String,
}

enum RowOutcome {
    /// The row's record, and the not-estimated parts of a wide row (audio and image tokens)
    /// as records of their own.
    Accepted(Box<UsageRecord>, Vec<UsageRecord>),
    Outside,
    Skipped(SkipReason),
    Rejected(RowProblem),
    /// The row's date is ambiguous (31/01 vs 01/31) until the file's own dates decide.
    Pending,
}

/// What the header search saw: the first row it looked at (or the nearest miss's row) and
/// the nearest miss, for the error of a file no template recognises.
#[derive(Default)]
struct HeaderSearch {
    first_seen: Option<(u64, Option<String>, Vec<String>)>,
    near: Option<NearMiss>,
}

/// The best near miss seen while searching for a header.
struct NearMiss {
    required_found: usize,
    template: String,
    missing: Vec<String>,
}

#[derive(Clone)]
struct SheetState {
    name: Option<Arc<str>>,
    /// How each quantity and money column writes decimals, decided from its values.
    separators: Separators,
    mapping: Option<Mapping>,
    header_keys: Vec<String>,
    /// Columns that describe a row's service (service, product, meter, SKU, usage type ...):
    /// read for AI names when a row is skipped as another service.
    describe: Vec<usize>,
    /// Quantity and money columns (index, header, whether it holds counts), whose dots and
    /// commas are tallied per column.
    numeric: Vec<(usize, String, bool)>,
    scanned: u64,
}

/// A row kept until the file's day/month order is known.
struct PendingRow {
    sheet: usize,
    number: u64,
    /// What the row could wait on when it was last mapped ([`FileRun::epoch`]).
    seen: (u64, bool),
    /// A total row: it waits for the rows above it, not for a decision.
    total: bool,
    cells: Vec<String>,
}

impl RowCells for Vec<String> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }
    fn cell(&self, index: usize) -> CellRef<'_> {
        match self.get(index) {
            Some(s) if !s.is_empty() => CellRef::Text(s),
            _ => CellRef::Empty,
        }
    }
}

/// The file-wide day/month order of slash dates, learnt from the dates themselves.
#[derive(Debug, Clone, Copy, Default)]
struct DateOrderEvidence {
    /// The order the file's own dates prove (or the template's, once used as the fallback).
    decided: Option<parse::DateOrder>,
    /// The template's order: used for rows no date of the file settles.
    fallback: Option<parse::DateOrder>,
    /// True when `decided` came from the template.
    from_template: bool,
}

/// What one export file held.
#[derive(Debug)]
pub enum FileRead {
    /// Usage: its records went to the sink.
    Usage(FileReport),
    /// A vendor carbon report: its rows, no usage records.
    Carbon(carbon::CarbonFile),
}

/// One export to read: where it is, what it is called in messages, and how.
#[derive(Clone, Copy)]
pub struct FileToRead<'a> {
    /// The file.
    pub path: &'a Path,
    /// Its name in messages and reports.
    pub name: &'a str,
    /// Its index among the run's inputs.
    pub file_index: usize,
    /// The usage templates to recognise it with.
    pub templates: &'a TemplateSet,
    /// The period whose rows are accepted (others are counted outside it).
    pub period: &'a Period,
    /// Whether records need their ledger key ([`UsageRecord::key`]).
    pub record_keys: bool,
    /// Whether reading may show a progress bar.
    pub progress: ingest::Progress,
}

/// Reads one export: a usage export through the templates, or, when no usage template
/// recognises it, a vendor carbon report; when neither does, the usage templates' error (the
/// headers seen, the nearest template) stands. Every front end reads files through this, so
/// the fallback is decided in one place. Accepted usage records go to `sink`, which may stop
/// the reading ([`SinkStop`]); rejections to `rejections`.
pub fn read_export(
    file: FileToRead<'_>,
    sink: &mut dyn FnMut(UsageRecord) -> Result<(), SinkStop>,
    rejections: &mut Vec<Rejection>,
) -> Result<FileRead, NormaliseError> {
    let usage = normalise_premapped(file, PremapMode::WhenBehind, sink, rejections);
    match usage {
        Ok(report) => Ok(FileRead::Usage(report)),
        Err(e @ NormaliseError::UnknownFormat { .. }) => {
            carbon::read_instead(e, file.path, file.name, file.file_index, file.period)
                .map(FileRead::Carbon)
        }
        Err(e) => Err(e),
    }
}

/// Reads one usage export and maps its rows; accepted records (with their keys) go to `sink`,
/// rejections to `rejections`. No vendor carbon report fallback (that is [`read_export`]'s).
pub fn normalise_file(
    path: &Path,
    name: &str,
    file_index: usize,
    templates: &TemplateSet,
    period: &Period,
    sink: &mut dyn FnMut(UsageRecord),
    rejections: &mut Vec<Rejection>,
) -> Result<FileReport, NormaliseError> {
    let file = FileToRead {
        path,
        name,
        file_index,
        templates,
        period,
        record_keys: true,
        progress: ingest::Progress::Hidden,
    };
    let mut sink = |r: UsageRecord| {
        sink(r);
        Ok(())
    };
    normalise_premapped(file, PremapMode::WhenBehind, &mut sink, rejections)
}

/// Whether a CSV file's reading thread maps rows ahead of the calling thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PremapMode {
    /// Never: every row is mapped on the calling thread (the reference).
    #[cfg_attr(not(test), allow(dead_code))]
    Off,
    /// When the calling thread falls behind (what the tool does).
    WhenBehind,
    /// Every batch after the header (tests).
    #[cfg_attr(not(test), allow(dead_code))]
    EveryBatch,
}

fn normalise_premapped(
    file: FileToRead<'_>,
    mode: PremapMode,
    sink: &mut dyn FnMut(UsageRecord) -> Result<(), SinkStop>,
    rejections: &mut Vec<Rejection>,
) -> Result<FileReport, NormaliseError> {
    let FileToRead {
        path,
        name,
        file_index,
        templates,
        period,
        record_keys,
        progress,
    } = file;
    let premapper = Premapper {
        sheet: std::sync::OnceLock::new(),
        decided: std::sync::atomic::AtomicU8::new(0),
        separators: std::sync::Mutex::new(Separators::default()),
        period,
        file_index,
        file: Arc::from(name),
        record_keys,
        every_batch: mode == PremapMode::EveryBatch,
    };
    let mut premapped: Option<std::vec::IntoIter<PreRow>> = None;
    let mut run = FileRun {
        record_keys,
        listed: std::collections::HashMap::new(),
        name,
        file: Arc::from(name),
        file_index,
        period,
        report: FileReport {
            file_index,
            file: name.to_string(),
            ..FileReport::default()
        },
        sheets: vec![],
        dates: DateOrderEvidence::default(),
        pending: vec![],
        sink,
        rejections,
        failure: None,
        tallies: vec![],
        decisions: 0,
        held_bytes: 0,
    };
    let mut search = HeaderSearch::default();

    let mut on_event = |event: RowEvent<'_, PreRows>| -> Result<Flow, String> {
        match event {
            RowEvent::Sheet {
                name: sheet_name,
                decimal_comma,
            } => {
                run.sheets.push(SheetState {
                    name: sheet_name.map(Arc::from),
                    separators: Separators::new(decimal_comma),
                    mapping: None,
                    header_keys: vec![],
                    describe: vec![],
                    numeric: vec![],
                    scanned: 0,
                });
                Ok(Flow::Continue)
            }
            RowEvent::Premapped(rows) => {
                premapped = Some(rows.0.into_iter());
                Ok(Flow::Continue)
            }
            RowEvent::Row(number, cells) => {
                let Some(sheet_index) = run.sheets.len().checked_sub(1) else {
                    return Ok(Flow::Continue);
                };
                if run.sheets[sheet_index].mapping.is_some() {
                    let pre = premapped
                        .as_mut()
                        .and_then(Iterator::next)
                        .filter(|p| p.number == number)
                        .and_then(|p| p.mapped);
                    let undecided = run.dates.decided.is_none();
                    let decisions = run.decisions;
                    // A stop is kept in `run.failure`; the reader is told to stop.
                    run.data_row(sheet_index, number, cells, pre)
                        .map_err(|stop| format!("{name}: {stop}"))?;
                    if undecided {
                        if let Some(order) = run.dates.decided {
                            premapper.publish_order(order);
                        }
                    }
                    if run.decisions != decisions && sheet_index == 0 {
                        premapper.publish_separators(&run.sheets[0].separators);
                    }
                    return Ok(Flow::Continue);
                }
                // Still looking for the header.
                let premap_sheet =
                    (sheet_index == 0 && mode != PremapMode::Off).then_some(&premapper);
                run.look_for_header(
                    sheet_index,
                    number,
                    cells,
                    templates,
                    &mut search,
                    premap_sheet,
                )
                .map_err(|stop| format!("{name}: {stop}"))
            }
        }
    };
    let premap = (mode != PremapMode::Off).then_some(&premapper);
    let read = ingest::read_rows_premapped(path, name, progress, premap, &mut on_event);
    let info: FileInfo = match read {
        Ok(info) => info,
        Err(IngestError::Stopped(msg)) => {
            if let Some(stop) = run.failure.take() {
                return Err(NormaliseError::Stopped {
                    file: name.to_string(),
                    stop,
                });
            }
            return Err(NormaliseError::Ingest(IngestError::Stopped(msg)));
        }
        Err(e) => return Err(e.into()),
    };
    if run.report.sheets.is_empty() {
        return Err(unknown_format(
            name,
            templates,
            search.first_seen,
            search.near,
        ));
    }
    // What rows wait for is decided from what the file showed; a stop is recorded in
    // `run.failure`.
    let _ = run.settle();
    if !run.pending.is_empty() {
        let example = run.pending[0].number;
        return Err(NormaliseError::AmbiguousDates {
            file: name.to_string(),
            rows: run.pending.len(),
            example,
        });
    }
    if let Some(stop) = run.failure.take() {
        return Err(NormaliseError::Stopped {
            file: name.to_string(),
            stop,
        });
    }
    Ok(run.into_report(info, templates))
}

fn unknown_format(
    name: &str,
    templates: &TemplateSet,
    first_seen: Option<(u64, Option<String>, Vec<String>)>,
    near: Option<NearMiss>,
) -> NormaliseError {
    let (where_, seen) = match first_seen {
        Some((row, sheet, cells)) => (
            match sheet {
                Some(s) => format!(" (sheet '{s}', row {row})"),
                None => format!(" (row {row})"),
            },
            cells
                .iter()
                .filter(|c| !c.trim().is_empty())
                .take(30)
                .map(|c| c.chars().take(60).collect::<String>())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        None => (String::new(), "(no non-empty row)".to_string()),
    };
    let nearest = match near {
        Some(n) if n.required_found >= 2 => format!(
            "It looks like the {} format (template {}) but lacks the required column(s): {}. Export it again with all columns, or use --template FILE for another format.",
            templates
                .all()
                .iter()
                .find(|t| t.id == n.template)
                .map(|t| t.name.as_str())
                .unwrap_or(""),
            n.template,
            n.missing.join(", ")
        ),
        Some(n) => format!(
            "Nearest template: {} (missing column(s): {}). Use --template FILE for another format.",
            n.template,
            n.missing.join(", ")
        ),
        None => format!(
            "Known formats: {}; vendor carbon reports: {}. Use --template FILE for another format.",
            templates
                .all()
                .iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            carbon::templates()
                .iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    NormaliseError::UnknownFormat {
        file: name.to_string(),
        where_,
        seen,
        nearest,
    }
}

/// The state of one file being normalised.
struct FileRun<'a> {
    /// True when records need their ledger key.
    record_keys: bool,
    /// Rejections listed so far per column and reason (digits left out, so that one problem
    /// with different values is one reason).
    listed: std::collections::HashMap<(Option<String>, String), u32>,
    name: &'a str,
    file: Arc<str>,
    file_index: usize,
    period: &'a Period,
    report: FileReport,
    sheets: Vec<SheetState>,
    dates: DateOrderEvidence,
    pending: Vec<PendingRow>,
    sink: &'a mut dyn FnMut(UsageRecord) -> Result<(), SinkStop>,
    rejections: &'a mut Vec<Rejection>,
    failure: Option<FileStop>,
    /// Per sheet and numeric column (as `SheetState::numeric`), how dots and commas were used.
    tallies: Vec<Vec<SepTally>>,
    /// Decisions taken so far (the day/month order, each column's separators): rows that
    /// waited are tried again when this grows.
    decisions: u64,
    /// The bytes of the cells of the rows waiting (`pending`), about.
    held_bytes: usize,
}

impl FileRun<'_> {
    /// Maps one data row and books its outcome.
    /// `pre` is the row as the reading thread mapped it, if it did.
    fn data_row(
        &mut self,
        sheet: usize,
        number: u64,
        cells: &dyn RowCells,
        pre: Option<(Result<RowOutcome, TotalOverflow>, RowEffects)>,
    ) -> Result<(), FileStop> {
        self.report.counts.read += 1;
        let before = self.decisions_taken();
        let outcome = match pre {
            Some((outcome, effects)) => effects.apply(&mut self.report).and(outcome),
            None => self.map(sheet, number, cells),
        };
        match outcome {
            Ok(RowOutcome::Pending) => {
                self.report.counts.read -= 1; // counted when replayed
                let cells: Vec<String> =
                    (0..cells.len()).map(|i| cells.cell(i).display()).collect();
                self.hold(sheet, number, cells);
            }
            other => self.book(sheet, number, other, cells)?,
        }
        if self.decisions_taken() != before {
            self.replay()?;
        }
        if self.held_bytes > held_limit() {
            // Too many rows wait: decide what waits now, as at the end of the file.
            self.settle()?;
            if self.held_bytes > held_limit() {
                // What is left waits for a day/month order nothing decides: holding more
                // would only grow, so the file stops here, as it would fail at its end.
                return Err(self.undecided_dates(number));
            }
        }
        Ok(())
    }

    /// Keeps a row that waits, with what it waited on.
    fn hold(&mut self, sheet: usize, number: u64, cells: Vec<String>) {
        self.held_bytes += cells.iter().map(|c| c.len() + 24).sum::<usize>() + 48;
        let total = (0..cells.len()).any(|i| is_total_label(&cells.cell(i)));
        self.pending.push(PendingRow {
            sheet,
            number,
            seen: self.epoch(sheet),
            total,
            cells,
        });
    }

    /// What a row of `sheet` can wait on: its sheet's decided columns and the day/month
    /// order.
    fn epoch(&self, sheet: usize) -> (u64, bool) {
        let columns = self.sheets.get(sheet).map_or(0, |s| s.separators.count());
        (columns, self.dates.decided.is_some())
    }

    /// The error for rows that wait for a day/month order nothing decides, when they grew
    /// past the bound at row `stopped_at`.
    fn undecided_dates(&self, stopped_at: u64) -> FileStop {
        FileStop::AmbiguousDates {
            rows: self.pending.len(),
            example: self.pending.first().map_or(0, |p| p.number),
            stopped_at,
        }
    }

    /// Decisions taken so far: the day/month order and each column's separators.
    fn decisions_taken(&self) -> u64 {
        self.decisions + u64::from(self.dates.decided.is_some())
    }

    /// Maps the rows that waited again, in file order, until no row decides anything more:
    /// a row still waiting waits on. A row is mapped again only when what it can wait on
    /// changed since it was held (a total row, which waits for the rows above it, always),
    /// so that many decisions over many held rows stay cheap.
    fn replay(&mut self) -> Result<(), FileStop> {
        loop {
            let before = self.decisions_taken();
            let waiting = std::mem::take(&mut self.pending);
            self.held_bytes = 0;
            let mut rows = waiting.into_iter();
            while let Some(p) = rows.next() {
                if !p.total && p.seen == self.epoch(p.sheet) {
                    self.held_bytes += p.cells.iter().map(|c| c.len() + 24).sum::<usize>() + 48;
                    self.pending.push(p);
                    continue;
                }
                self.report.counts.read += 1;
                let outcome = self.map(p.sheet, p.number, &p.cells);
                if let Ok(RowOutcome::Pending) = outcome {
                    self.report.counts.read -= 1;
                    self.hold(p.sheet, p.number, p.cells);
                    continue;
                }
                if let Err(e) = self.book(p.sheet, p.number, outcome, &p.cells) {
                    // Stopped: the rest are not booked.
                    self.pending.extend(rows);
                    return Err(e);
                }
            }
            if self.decisions_taken() == before || self.pending.is_empty() {
                return Ok(());
            }
        }
    }

    /// Decides what rows wait for, from what is known: the day/month order by the format's
    /// usual one (if it has one), and each column whose values read either way as the
    /// sheet's other columns or its format write; then books the rows that waited. At the
    /// end of the file, and when too many rows wait.
    fn settle(&mut self) -> Result<(), FileStop> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let before = self.decisions_taken();
        if self.dates.decided.is_none() && self.dates.fallback.is_some() {
            self.dates.decided = self.dates.fallback;
            self.dates.from_template = true;
        }
        for (sheet, state) in self.sheets.iter_mut().enumerate() {
            let Some(tallies) = self.tallies.get_mut(sheet) else {
                continue;
            };
            let (convention, why) = state.separators.fallback();
            for ((column, _, _), tally) in state.numeric.iter().zip(tallies.iter_mut()) {
                if tally.waited > 0 && state.separators.decided(*column).is_none() {
                    state.separators.decide(*column, convention);
                    tally.decision = Some(separators::Decision::Fallback(convention, why));
                    self.decisions += 1;
                }
            }
        }
        if self.decisions_taken() == before {
            // Nothing new to decide: the rows would only wait again.
            return Ok(());
        }
        self.replay()
    }

    /// A row of a sheet whose header is not found yet: binds the sheet when a template
    /// recognises the row as its header (and hands the sheet to `premapper`, if any), else
    /// keeps the nearest miss for the error; passes over the sheet after
    /// [`HEADER_SEARCH_ROWS`] rows.
    fn look_for_header(
        &mut self,
        sheet_index: usize,
        number: u64,
        cells: &dyn RowCells,
        templates: &TemplateSet,
        search: &mut HeaderSearch,
        premapper: Option<&Premapper<'_>>,
    ) -> Result<Flow, FileStop> {
        let state = &mut self.sheets[sheet_index];
        state.scanned += 1;
        if row_is_blank(cells) {
            return Ok(if state.scanned > HEADER_SEARCH_ROWS {
                Flow::SkipSheet
            } else {
                Flow::Continue
            });
        }
        let header: Vec<String> = (0..cells.len()).map(|i| cells.cell(i).display()).collect();
        if search.first_seen.is_none() {
            search.first_seen = Some((
                number,
                state.name.as_deref().map(str::to_string),
                header.clone(),
            ));
        }
        match templates.detect(&header) {
            Some(Ok(m)) => {
                self.report.sheets.push(SheetReport {
                    sheet: state.name.as_deref().map(str::to_string),
                    header_row: number,
                    template: m.template.id.clone(),
                    mapping: m
                        .describe()
                        .into_iter()
                        .map(|(f, c)| (f.to_string(), c))
                        .collect(),
                });
                if let Some(order) = m.template.date_order.as_deref() {
                    self.dates.fallback = parse::DateOrder::from_name(order);
                }
                state.header_keys = header.iter().map(|h| template::header_key(h)).collect();
                state.describe = describing_columns(&header);
                state.numeric = numeric_columns(&m);
                if self.tallies.len() <= sheet_index {
                    self.tallies.resize_with(sheet_index + 1, Vec::new);
                }
                self.tallies[sheet_index] = vec![SepTally::default(); state.numeric.len()];
                for d in duplicate_columns(&m, &state.header_keys, &header) {
                    let at = match &state.name {
                        Some(s) => format!("sheet {s}, "),
                        None => String::new(),
                    };
                    self.report.duplicate_columns.push(format!("{at}{d}"));
                }
                state.mapping = Some(m);
                if let Some(premapper) = premapper {
                    // A CSV file's one sheet: its rows may be mapped ahead from now on.
                    let _ = premapper.sheet.set(state.clone());
                    premapper.publish_separators(&state.separators);
                }
            }
            Some(Err(e)) => {
                let stop = FileStop::Template(e);
                self.failure = Some(stop.clone());
                return Err(stop);
            }
            None => {
                if let Some(best) = templates.fits(&header).into_iter().next() {
                    if best.required_found > 0
                        && search
                            .near
                            .as_ref()
                            .is_none_or(|n| best.required_found > n.required_found)
                    {
                        search.near = Some(NearMiss {
                            required_found: best.required_found,
                            template: best.template.id.clone(),
                            missing: best.missing.clone(),
                        });
                        search.first_seen = Some((
                            number,
                            state.name.as_deref().map(str::to_string),
                            header.clone(),
                        ));
                    }
                }
                if state.scanned >= HEADER_SEARCH_ROWS {
                    return Ok(Flow::SkipSheet);
                }
            }
        }
        Ok(Flow::Continue)
    }

    /// The file's report once every row is booked: the separator warnings and notes of each
    /// column, the day/month order's note, the file's bytes and dialect, its formats.
    fn into_report(mut self, info: FileInfo, templates: &TemplateSet) -> FileReport {
        for (sheet, tallies) in self.tallies.iter().enumerate() {
            let Some(state) = self.sheets.get(sheet) else {
                continue;
            };
            for ((_, column, counts), tally) in state.numeric.iter().zip(tallies) {
                let at = match &state.name {
                    Some(s) => format!("{s}!{column}"),
                    None => column.clone(),
                };
                if let Some(v) = tally.verdict(*counts) {
                    self.report
                        .ambiguous_separators
                        .push(format!("column {at}: {v}"));
                }
                if let Some(n) = tally.note(state.separators.usual_comma()) {
                    self.report.notes.push(format!("column {at} {n}"));
                }
            }
        }
        let mut report = self.report;
        if let Some(w) = &report.warehouse {
            report.notes.insert(0, w.note());
        }
        report.sha256 = info.sha256;
        report.bytes = info.bytes;
        report.dialect = info.dialect;
        match (self.dates.decided, self.dates.from_template, self.dates.fallback) {
            (Some(order), false, Some(t)) if order != t => report.notes.push(format!(
                "day/month order of slash dates: {} (decided from the file's own dates; the format's usual order is {}, so the file was probably re-saved with other regional settings)",
                order.label(),
                t.label()
            )),
            (Some(order), false, None) => report.notes.push(format!(
                "day/month order of slash dates: {} (decided from the file's own dates)",
                order.label()
            )),
            (Some(order), true, _) => report.notes.push(format!(
                "day/month order of slash dates: {} (the format's order; no date in the file settles it)",
                order.label()
            )),
            _ => {}
        }
        let mut formats: Vec<String> = vec![];
        let mut ids: Vec<String> = vec![];
        for s in &report.sheets {
            if let Some(t) = templates.all().iter().find(|t| t.id == s.template) {
                if !formats.contains(&t.format_name().to_string()) {
                    formats.push(t.format_name().to_string());
                }
            }
            if !ids.contains(&s.template) {
                ids.push(s.template.clone());
            }
        }
        report.format = formats.join("+");
        report.template = ids.join("+");
        report
    }

    fn book(
        &mut self,
        sheet: usize,
        number: u64,
        outcome: Result<RowOutcome, TotalOverflow>,
        cells: &dyn RowCells,
    ) -> Result<(), FileStop> {
        if matches!(
            outcome,
            Ok(RowOutcome::Accepted(..) | RowOutcome::Outside | RowOutcome::Rejected(_))
        ) {
            self.tally_separators(sheet, number, cells);
        }
        match outcome {
            Ok(RowOutcome::Accepted(record, parts)) => {
                self.report.counts.accepted += 1;
                let sunk = std::iter::once(*record)
                    .chain(parts)
                    .try_for_each(|r| (self.sink)(r));
                if let Err(stop) = sunk {
                    let msg = match stop {
                        SinkStop::Failed(m) => m,
                        SinkStop::TooManyLines(t) => {
                            let column = self.sheets[sheet].mapping.as_ref().and_then(|m| {
                                m.describe()
                                    .into_iter()
                                    .find(|(f, _)| *f == t.field)
                                    .map(|(_, c)| c)
                            });
                            t.message(column.as_deref())
                        }
                    };
                    let stop = FileStop::Refused(msg);
                    self.failure = Some(stop.clone());
                    return Err(stop);
                }
            }
            Ok(RowOutcome::Outside) => self.report.counts.outside_period += 1,
            Ok(RowOutcome::Skipped(why)) => {
                self.report.counts.skipped += 1;
                *self.report.skipped_by.entry(why).or_insert(0) += 1;
            }
            Ok(RowOutcome::Rejected(p)) => {
                self.report.counts.rejected += 1;
                // Made first, so that its value and reason are cut before anything keeps them.
                let mut rejection = Rejection::new(
                    self.name.to_string(),
                    self.sheets[sheet].name.as_deref().map(str::to_string),
                    number,
                    p.column,
                    p.value,
                    p.reason,
                );
                let reason: String = rejection
                    .reason
                    .chars()
                    .filter(|c| !c.is_ascii_digit())
                    .collect();
                let key = (rejection.column.clone(), reason);
                let tracked = self.listed.len() < REJECTION_REASONS_TRACKED;
                let listed = match self.listed.get_mut(&key) {
                    Some(n) => n,
                    None if tracked => self.listed.entry(key).or_insert(0),
                    None => {
                        self.report.rejections_not_listed += 1;
                        return Ok(());
                    }
                };
                if *listed >= REJECTIONS_LISTED_PER_REASON {
                    self.report.rejections_not_listed += 1;
                    return Ok(());
                }
                *listed += 1;
                rejection.row_hash = Some(row_digest(cells));
                rejection.money = self.sheets[sheet].mapping.as_ref().and_then(|m| {
                    let b = m.cost.as_ref()?;
                    let dc = self.sheets[sheet].separators.comma(b);
                    let c = parse::money(&first_cell(b, cells), dc).ok()??;
                    let cur = text_field(m.currency.as_ref(), cells)
                        .unwrap_or_else(|| "USD".into())
                        .to_uppercase();
                    Some((cur, c))
                });
                self.rejections.push(rejection);
            }
            Ok(RowOutcome::Pending) => {
                // Only possible before the order is decided; `data_row` handles it.
                self.report.counts.read -= 1;
            }
            Err(TotalOverflow(what)) => {
                let stop = FileStop::Overflow {
                    what,
                    sheet: self.sheets[sheet].name.as_deref().map(str::to_string),
                    row: number,
                };
                self.failure = Some(stop.clone());
                return Err(stop);
            }
        }
        Ok(())
    }

    /// Tallies how the row's quantity and money cells use dots and commas. The common case,
    /// `1000000.0` in a column already seen with a decimal point, costs a byte search.
    fn tally_separators(&mut self, sheet: usize, number: u64, cells: &dyn RowCells) {
        let (Some(state), Some(tallies)) = (self.sheets.get(sheet), self.tallies.get_mut(sheet))
        else {
            return;
        };
        for ((i, _, counts), tally) in state.numeric.iter().zip(tallies.iter_mut()) {
            let CellRef::Text(t) = cells.cell(*i) else {
                continue;
            };
            let b = t.as_bytes();
            if memchr::memchr(b',', b).is_none() {
                // Only dots: `155.0` (a decimal point) unless three digits follow the last dot.
                match memchr::memrchr(b'.', b) {
                    None => continue,
                    Some(p) if b.len() - p - 1 != 3 && memchr::memchr(b'.', &b[..p]).is_none() => {
                        if tally.add_dot_decimal_again() {
                            continue;
                        }
                    }
                    Some(_) => {}
                }
            }
            if let Some(style) = separators::style(t, *counts) {
                tally.add(style, number, t);
            }
        }
    }

    /// Decides the separators of the row's undecided columns that its values settle. True
    /// when a value of an undecided column reads either way: the row waits for its column.
    fn separators_wait(&mut self, sheet: usize, number: u64, cells: &dyn RowCells) -> bool {
        let (Some(state), Some(tallies)) =
            (self.sheets.get_mut(sheet), self.tallies.get_mut(sheet))
        else {
            return false;
        };
        let mut wait = false;
        for ((column, _, counts), tally) in state.numeric.iter().zip(tallies.iter_mut()) {
            if state.separators.decided(*column).is_some() {
                continue;
            }
            let CellRef::Text(t) = cells.cell(*column) else {
                continue;
            };
            match separators::evidence(t, *counts) {
                Evidence::Silent => {}
                Evidence::EitherWay => {
                    wait = true;
                    tally.waited += 1;
                }
                Evidence::Settles(convention) => {
                    state.separators.decide(*column, convention);
                    tally.decision = Some(separators::Decision::Own(
                        convention,
                        number,
                        t.trim().into(),
                    ));
                    self.decisions += 1;
                }
            }
        }
        wait
    }

    fn map(
        &mut self,
        sheet: usize,
        number: u64,
        cells: &dyn RowCells,
    ) -> Result<RowOutcome, TotalOverflow> {
        #[cfg(test)]
        MAPS.set(MAPS.get() + 1);
        if self.sheets[sheet].mapping.is_none() {
            return Ok(RowOutcome::Skipped(SkipReason::Blank));
        }
        // A value that reads either way waits for its column's convention; a vendor total
        // row waits for the rows above it that wait, so that it is checked against them all.
        if self.separators_wait(sheet, number, cells)
            || (!self.pending.is_empty()
                && (0..cells.len()).any(|i| is_total_label(&cells.cell(i))))
        {
            return Ok(RowOutcome::Pending);
        }
        let state = &self.sheets[sheet];
        let Some(m) = state.mapping.as_ref() else {
            return Ok(RowOutcome::Skipped(SkipReason::Blank));
        };
        let prov = Provenance {
            file_index: self.file_index,
            file: self.file.clone(),
            sheet: state.name.clone(),
            row: number,
        };
        let mut effects = RowEffects::default();
        let ctx = RowContext {
            m,
            state,
            period: self.period,
            report: &self.report,
            record_keys: self.record_keys,
        };
        let outcome = map_cells(&ctx, cells, prov, &mut self.dates, &mut effects);
        // A row waiting for the day/month order is mapped again when replayed: what it adds
        // is added then, once.
        if !matches!(outcome, Ok(RowOutcome::Pending)) {
            effects.apply(&mut self.report)?;
        }
        outcome
    }
}

/// What mapping a row needs besides its cells: the sheet's mapping and state, the period, the
/// file's report so far (read only by a vendor total row's check), and whether records need
/// their ledger key.
#[derive(Clone, Copy)]
struct RowContext<'a> {
    m: &'a Mapping,
    state: &'a SheetState,
    period: &'a Period,
    report: &'a FileReport,
    record_keys: bool,
}

/// Maps one data row of a sheet whose header is known: the outcome, with what the row adds
/// to the file's report left in `effects`.
fn map_cells(
    ctx: &RowContext<'_>,
    cells: &dyn RowCells,
    prov: Provenance,
    dates: &mut DateOrderEvidence,
    effects: &mut RowEffects,
) -> Result<RowOutcome, TotalOverflow> {
    let RowContext {
        m,
        state,
        record_keys,
        ..
    } = *ctx;
    let row = prov.row;
    let mut outcome = map_row(ctx, cells, prov, dates, effects);
    if let (Some(cols), false) = (
        &m.origin,
        matches!(outcome, Ok(RowOutcome::Skipped(SkipReason::RepeatedHeader))),
    ) {
        effects.origin = origin::read_row(cols, cells, ctx.report.warehouse.as_ref());
    }
    if effects.cost_seen.is_some() {
        effects.money_to = match &outcome {
            Ok(RowOutcome::Accepted(r, _)) if matches!(r.kind, RecordKind::Adjustment { .. }) => {
                Some(MoneyTo::Adjustment)
            }
            Ok(RowOutcome::Accepted(..)) => Some(MoneyTo::Accepted),
            Ok(RowOutcome::Outside) => Some(MoneyTo::Outside),
            Ok(RowOutcome::Skipped(why)) => Some(MoneyTo::Skipped(*why)),
            Ok(RowOutcome::Rejected(_)) => Some(MoneyTo::Rejected),
            Ok(RowOutcome::Pending) | Err(_) => None,
        };
        if effects.money_to.is_some() {
            let mut currency =
                text_field(m.currency.as_ref(), cells).unwrap_or_else(|| "USD".to_string());
            if currency.bytes().any(|b| b.is_ascii_lowercase()) {
                currency.make_ascii_uppercase();
            }
            effects.currency_seen = Some(currency);
        }
    }
    if let Ok(RowOutcome::Skipped(SkipReason::OtherService)) = &outcome {
        effects.ai = ai_named(state, m, cells).map(|(text, matched)| (text, matched, row));
    }
    if let (true, Ok(RowOutcome::Accepted(r, parts))) = (record_keys, &mut outcome) {
        r.key = record_key(m, cells, r.bucket_start, r.bucket_end);
        // A part is its own record: the row's key and the part's label.
        let row_key = r.key.clone();
        for p in std::iter::once(&mut **r).chain(parts.iter_mut()) {
            if let RecordKind::NotEstimated { label, .. } = &p.kind {
                if !m.parts.is_empty() {
                    p.key = format!("{row_key}\u{1f}{label}");
                    continue;
                }
            }
            p.key.clone_from(&row_key);
        }
    }
    outcome
}

/// A row as the reading thread mapped it; `mapped` is `None` for a row that must be mapped in
/// turn because its outcome depends on the rows before it (a slash date while the file's
/// day/month order is open, a vendor total row, a date waiting for the order).
struct PreRow {
    number: u64,
    mapped: Option<(Result<RowOutcome, TotalOverflow>, RowEffects)>,
}

/// The rows of one batch, as [`Premapper`] hands them to the calling thread.
struct PreRows(Vec<PreRow>);

/// Maps a CSV file's rows on its reading thread once the header is known (see
/// [`ingest::Premap`]). The calling thread books them in file order, so counts, rejections,
/// totals and records are exactly those of mapping every row in turn.
struct Premapper<'a> {
    /// The sheet, once its header is found.
    sheet: std::sync::OnceLock<SheetState>,
    /// The file's day/month order once decided: 0 open, 1 month first, 2 day first.
    decided: std::sync::atomic::AtomicU8,
    /// The columns' separators as decided so far (decisions are never undone).
    separators: std::sync::Mutex<Separators>,
    period: &'a Period,
    file_index: usize,
    file: Arc<str>,
    record_keys: bool,
    every_batch: bool,
}

impl Premapper<'_> {
    fn publish_order(&self, order: parse::DateOrder) {
        let code = match order {
            parse::DateOrder::MonthFirst => 1,
            parse::DateOrder::DayFirst => 2,
        };
        self.decided
            .store(code, std::sync::atomic::Ordering::Release);
    }

    fn publish_separators(&self, separators: &Separators) {
        if let Ok(mut shared) = self.separators.lock() {
            shared.clone_from(separators);
        }
    }

    fn order(&self) -> Option<parse::DateOrder> {
        match self.decided.load(std::sync::atomic::Ordering::Acquire) {
            1 => Some(parse::DateOrder::MonthFirst),
            2 => Some(parse::DateOrder::DayFirst),
            _ => None,
        }
    }
}

impl ingest::Premap for Premapper<'_> {
    type Batch = PreRows;

    fn premap(&self, rows: &mut dyn Iterator<Item = (u64, &dyn RowCells)>) -> Option<PreRows> {
        let shared = self.sheet.get()?;
        // The batch's own copies of the shared strings each record holds (file, sheet,
        // provider): the calling thread drops the records, and reference counts shared
        // with the rows this thread is mapping would bounce between the cores.
        let mut state = shared.clone();
        state.name = shared.name.as_deref().map(Arc::from);
        // Columns decided so far; a value with a dot or comma in a column still open is left
        // to the calling thread, which decides in file order.
        if let Ok(decided) = self.separators.lock() {
            state.separators.clone_from(&decided);
        }
        let open_columns: Vec<usize> = state
            .numeric
            .iter()
            .map(|(i, _, _)| *i)
            .filter(|i| state.separators.decided(*i).is_none())
            .collect();
        let m = state.mapping.as_mut()?;
        m.provider = Arc::from(&*m.provider);
        let (state, m) = (&state, state.mapping.as_ref()?);
        let file: Arc<str> = Arc::from(&*self.file);
        // Once decided, the order never changes; while it is open, rows whose date reads
        // by it are left to the calling thread, which knows the rows before them.
        let decided = self.order();
        let how = m.bucket_start.spec.parse.as_deref();
        // Read only by a vendor total row's check, whose rows are left to the calling thread.
        let report = FileReport::default();
        let mut out = Vec::with_capacity(rows.size_hint().0);
        for (number, cells) in rows {
            let open = (decided.is_none()
                && parse::reads_by_order(&first_cell(&m.bucket_start, cells), how))
                || open_columns.iter().any(|i| {
                    matches!(cells.cell(*i), CellRef::Text(t)
                        if memchr::memchr2(b'.', b',', t.as_bytes()).is_some())
                });
            let mapped = if open {
                None
            } else {
                let prov = Provenance {
                    file_index: self.file_index,
                    file: file.clone(),
                    sheet: state.name.clone(),
                    row: number,
                };
                let mut dates = DateOrderEvidence {
                    decided,
                    ..DateOrderEvidence::default()
                };
                let mut effects = RowEffects::default();
                let ctx = RowContext {
                    m,
                    state,
                    period: self.period,
                    report: &report,
                    record_keys: self.record_keys,
                };
                let outcome = map_cells(&ctx, cells, prov, &mut dates, &mut effects);
                match outcome {
                    Ok(RowOutcome::Pending | RowOutcome::Skipped(SkipReason::TotalRow))
                    | Err(_) => None,
                    outcome => Some((outcome, effects)),
                }
            };
            out.push(PreRow { number, mapped });
        }
        Some(PreRows(out))
    }

    fn every_batch(&self) -> bool {
        self.every_batch
    }
}

/// `template::header_key(cell) == key`, without allocating for ASCII text.
fn is_header_key(cell: CellRef<'_>, key: &str) -> bool {
    match cell {
        CellRef::Text(t) => {
            let t = t.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '"');
            if t.is_ascii() {
                t.eq_ignore_ascii_case(key)
            } else {
                t.to_lowercase() == key
            }
        }
        CellRef::Empty => key.is_empty(),
        other => template::header_key(&other.display()) == key,
    }
}

fn row_is_blank(cells: &dyn RowCells) -> bool {
    (0..cells.len()).all(|i| cells.cell(i).is_blank())
}

/// A text cell that names a vendor total or subtotal.
fn is_total_label(cell: &CellRef<'_>) -> bool {
    let CellRef::Text(t) = cell else { return false };
    let t = t.trim();
    // The labels are ASCII: compared without folding (and allocating) the whole cell.
    let is = |label: &str| t.eq_ignore_ascii_case(label);
    let starts = |label: &str| {
        t.get(..label.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(label))
    };
    is("total")
        || is("totals")
        || is("sum")
        || is("rounding error")
        || starts("total ")
        || starts("total:")
        || starts("grand total")
        || starts("subtotal")
        || starts("sub-total")
}

fn first_cell<'c>(b: &template::Bound, cells: &'c dyn RowCells) -> CellRef<'c> {
    b.columns
        .first()
        .map(|(i, _)| cells.cell(*i))
        .unwrap_or(CellRef::Empty)
}

fn problem(b: &template::Bound, cell: &CellRef<'_>, reason: String) -> RowProblem {
    let column = match (b.alternatives, b.columns.first()) {
        (true, Some((_, name))) => name.clone(),
        _ => b.column_label(),
    };
    // A text cell is copied only as far as a rejection keeps it.
    let value = match cell {
        CellRef::Text(t) => crate::model::rejected_text(t, "value"),
        other => other.display(),
    };
    RowProblem {
        column: Some(column),
        value: Some(value).filter(|v| !v.is_empty()),
        reason,
    }
}

/// A text field: the first column's value, mapped, defaulted; `None` when empty.
pub(crate) fn text_field(b: Option<&template::Bound>, cells: &dyn RowCells) -> Option<String> {
    use std::borrow::Cow;
    let b = b?;
    let raw: Cow<'_, str> = b
        .columns
        .iter()
        .map(|(i, _)| {
            let cell = cells.cell(*i);
            let text = match cell {
                CellRef::Text(t) => Cow::Borrowed(t),
                CellRef::Empty => Cow::Borrowed(""),
                other => Cow::Owned(other.display()),
            };
            if b.spec.json.is_empty() {
                text
            } else {
                Cow::Owned(json_value(&b.spec.json, text.into_owned()))
            }
        })
        .find(|v| !v.trim().is_empty())
        .unwrap_or_default();
    let raw = raw.trim();
    let value: &str = if raw.is_empty() {
        b.spec.default.as_deref()?
    } else {
        match b.spec.map.iter().find(|(k, _)| k.eq_ignore_ascii_case(raw)) {
            Some((_, v)) => v,
            None => raw,
        }
    };
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// The price tier of a row from the `price_tier` field: of its columns, the first whose value
/// (after the field's `map`) names a tier ([`crate::model::PRICE_TIERS`]).
fn tier_field(m: &Mapping, cells: &dyn RowCells) -> Option<String> {
    let b = m.price_tier.as_ref()?;
    b.columns.iter().find_map(|(i, _)| {
        let raw = cells.cell(*i).display();
        let raw = raw.trim();
        let value = b
            .spec
            .map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(raw))
            .map_or(raw, |(_, v)| v.as_str())
            .to_ascii_lowercase();
        crate::model::PRICE_TIERS
            .contains(&value.as_str())
            .then_some(value)
    })
}

/// With `keys`, a cell holding a JSON object yields the first of those keys present (as text);
/// any other cell is returned as it is.
fn json_value(keys: &[String], cell: String) -> String {
    if keys.is_empty() || !cell.trim_start().starts_with('{') {
        return cell;
    }
    match serde_json::from_str::<serde_json::Value>(&cell) {
        Ok(serde_json::Value::Object(map)) => keys
            .iter()
            .find_map(|k| match map.get(k) {
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// A count field: the sum of its columns; `Ok(None)` when every cell is empty.
fn count_field(
    b: Option<&template::Bound>,
    cells: &dyn RowCells,
    seps: &Separators,
    what: &str,
) -> Result<Option<u64>, RowProblem> {
    let Some(b) = b else { return Ok(None) };
    let mut total: Option<u64> = None;
    let columns = if b.alternatives {
        &b.columns[..b.columns.len().min(1)]
    } else {
        &b.columns[..]
    };
    for (i, header) in columns {
        let cell = cells.cell(*i);
        match parse::count(&cell, seps.decimal_comma(*i), what) {
            Ok(None) => {}
            Ok(Some(v)) => {
                total = Some(
                    total
                        .unwrap_or(0)
                        .checked_add(v)
                        .ok_or_else(|| RowProblem {
                            column: Some(b.column_label()),
                            value: Some(cell.display()),
                            reason: format!("the {what} on this row overflow a 64-bit count"),
                        })?,
                )
            }
            Err(reason) => {
                return Err(RowProblem {
                    column: Some(header.clone()),
                    value: Some(cell.display()).filter(|v| !v.is_empty()),
                    reason,
                })
            }
        }
    }
    if total.is_none() {
        if let Some(d) = &b.spec.default {
            return Ok(d.trim().parse().ok());
        }
    }
    Ok(total)
}

/// Lower case, white space and underscores folded to `-`: `gpt 4o 1120` -> `gpt-4o-1120`.
fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for part in s.split(|c: char| c.is_whitespace() || c == '_') {
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&part.to_lowercase());
    }
    out.trim_matches('-').to_string()
}

/// True when a `[[skip]]` rule marks the row as another service's. Each rule tests every
/// column of its list present in the header: `when` hits when any non-empty cell matches,
/// `unless` when at least one cell is non-empty and none matches. An empty cell says nothing
/// about the service (invoice-level tax lines): it never makes a row skipped.
fn skip_rules_hit(m: &Mapping, cells: &dyn RowCells) -> bool {
    m.skips.iter().any(|(b, rule)| {
        let mut any_value = false;
        let mut any_match = false;
        for (i, _) in &b.columns {
            let v = cells.cell(*i).display();
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            any_value = true;
            if let Some(re) = &rule.when_re {
                if re.is_match(v) {
                    return true;
                }
            }
            if rule.unless_re.as_ref().is_some_and(|re| re.is_match(v)) {
                any_match = true;
            }
        }
        rule.unless_re.is_some() && any_value && !any_match
    })
}

/// The meter text of a row: the first non-empty cell of the meter columns.
fn meter_text(bm: &template::BoundMeter, cells: &dyn RowCells) -> String {
    bm.text
        .columns
        .iter()
        .map(|(i, _)| cells.cell(*i).display())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_default()
}

/// True when the first meter rule matching the row's meter text assigns a token class
/// ([`template::TOKEN_CLASSES`]): the row is usage of the template's service.
fn meter_says_tokens(m: &Mapping, cells: &dyn RowCells) -> bool {
    let Some(bm) = &m.meter else { return false };
    let text = meter_text(bm, cells);
    let text = text.trim();
    if text.is_empty() {
        return false;
    }
    bm.spec
        .rule
        .iter()
        .find(|r| r.re.as_ref().is_some_and(|re| re.is_match(text)))
        .is_some_and(|r| template::TOKEN_CLASSES.contains(&r.class.as_str()))
}

/// The quantity of a long-format row, classified by its meter text.
struct MeterReading {
    class: String,
    label: Option<String>,
    model: Option<String>,
    scope: Option<String>,
    region: Option<String>,
    /// The price tier the meter's text names (the rule's `tier` capture).
    tier: Option<String>,
    tokens: u64,
    quantity: f64,
    unit: String,
    decision: Option<&'static str>,
    /// Prices in another currency than the cost field's: the conversion and its rate.
    fx_decision: Option<String>,
}

fn read_meter(
    bm: &template::BoundMeter,
    m: &Mapping,
    cells: &dyn RowCells,
    seps: &Separators,
    (cost, currency): (Option<f64>, &str),
) -> Result<Option<MeterReading>, RowProblem> {
    let spec = &bm.spec;
    let text = meter_text(bm, cells);
    let text = text.trim();
    let Some((rule, caps)) = spec.rule.iter().find_map(|r| {
        r.re.as_ref()
            .and_then(|re| re.captures(text))
            .map(|c| (r, c))
    }) else {
        if spec.unmatched.as_deref() == Some("reject") {
            return Err(problem(
                &bm.text,
                &first_cell(&bm.text, cells),
                "this meter is not one the template knows how to read".into(),
            ));
        }
        return Ok(None);
    };
    let cap = |n: &str| {
        caps.name(n)
            .map(|x| x.as_str().trim().to_string())
            .filter(|x| !x.is_empty())
    };
    let mut class = rule.class.clone();
    if class == "input" && cap("cached").is_some() {
        class = "cached_input".into();
    }
    let qcell = first_cell(&bm.quantity, cells);
    let quantity = match parse::money(&qcell, seps.comma(&bm.quantity)) {
        Ok(Some(q)) => q,
        Ok(None) => 0.0,
        Err(reason) => {
            return Err(problem(
                &bm.quantity,
                &qcell,
                format!("expected a quantity ({reason})"),
            ))
        }
    };
    if quantity < 0.0 {
        return Err(problem(&bm.quantity, &qcell, "negative tokens".into()));
    }
    let unit = bm
        .unit
        .as_ref()
        .map(|u| first_cell(u, cells).display().trim().to_string())
        .unwrap_or_default();
    let unit_size = spec
        .units
        .iter()
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(&unit))
        .map(|(_, v)| *v);
    // Prices are in the pricing currency, which may not be the cost field's (Azure MCA bills
    // EUR for USD prices): the cost held against price × quantity is in the price's currency.
    let (price_cost, fx_decision) = cost_in_price_currency(bm, cells, seps, cost, currency);
    // Spend and items not estimated keep their quantity as it is.
    let scaled = class != "not_estimated" && class != "spend";
    let price = match (scaled, &bm.price) {
        (true, Some(p)) => parse::money(&first_cell(p, cells), seps.comma(p))
            .ok()
            .flatten(),
        _ => None,
    };
    let amount = MeterAmount {
        quantity,
        unit: &unit,
        unit_size,
        price,
        price_cost,
        billed: (cost, currency, fx_decision.is_some()),
    };
    let (scale, decision) = match (scaled, spec.quantity_is.as_str()) {
        (true, "units") => units_scale(bm, &amount)?,
        (true, "decide") => decided_scale(bm, &amount)?,
        _ => (1.0, None),
    };
    let model = rule
        .model
        .clone()
        .or_else(|| cap("model"))
        .or_else(|| text_field(m.model.as_ref(), cells))
        .map(|raw| {
            let mut s = raw;
            for (re, with) in &spec.clean_re {
                s = re.replace_all(&s, with.as_str()).to_string();
            }
            slug(&s)
        })
        .filter(|s| !s.is_empty());
    let scope = cap("scope").and_then(|s| {
        spec.scopes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&s))
            .map(|(_, v)| v.clone())
    });
    let region = cap("region").and_then(|r| {
        spec.regions
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&r))
            .map(|(_, v)| v.clone())
    });
    let tokens = (quantity * scale).round();
    if tokens > 9_007_199_254_740_992.0 {
        return Err(problem(
            &bm.quantity,
            &qcell,
            "token count too large to be real".into(),
        ));
    }
    Ok(Some(MeterReading {
        class,
        label: rule.label.clone(),
        model,
        scope: scope.filter(|s| s != "regional"),
        region,
        tier: cap("tier"),
        tokens: tokens as u64,
        quantity,
        unit,
        decision,
        fx_decision,
    }))
}

/// What a meter row's amount is measured in: the quantity, its unit as written and the
/// template's size for that unit, the unit price, the cost in the price's currency, and the
/// cost as billed (amount, currency, whether it was converted) for messages.
struct MeterAmount<'a> {
    quantity: f64,
    unit: &'a str,
    unit_size: Option<f64>,
    price: Option<f64>,
    price_cost: Option<f64>,
    billed: (Option<f64>, &'a str, bool),
}

/// Tokens per unit of a row whose template states its units (`quantity_is = "units"`), and
/// how the unit was decided. A unit size of 0 in the template: the block is inferred from
/// the unit price's magnitude (per-1M prices are dollars, per-1K cents, per-token less);
/// without a unit price, from cost ÷ amount (CUR 2.0 exports without
/// line_item_unblended_rate), when both are there and positive.
fn units_scale(
    bm: &template::BoundMeter,
    a: &MeterAmount<'_>,
) -> Result<(f64, Option<&'static str>), RowProblem> {
    let unit = a.unit;
    match a.unit_size {
        Some(s) if s.abs() < f64::MIN_POSITIVE => {
            let (price, from_cost) = match (a.price, a.price_cost) {
                (Some(p), _) => (Some(p), false),
                (None, Some(c)) if c > 0.0 && a.quantity > 0.0 => (Some(c / a.quantity), true),
                _ => (None, false),
            };
            let inferred = |from_price: &'static str, from_cost_text: &'static str| {
                Some(if from_cost {
                    from_cost_text
                } else {
                    from_price
                })
            };
            match price {
                Some(p) if p >= 0.05 => Ok((
                    1_000_000.0,
                    inferred(
                        "unit inferred from the unit price: 1M tokens",
                        "unit inferred from cost ÷ amount (no unit price): 1M tokens",
                    ),
                )),
                Some(p) if p >= 0.0001 => Ok((
                    1_000.0,
                    inferred(
                        "unit inferred from the unit price: 1K tokens",
                        "unit inferred from cost ÷ amount (no unit price): 1K tokens",
                    ),
                )),
                Some(_) => Ok((
                    1.0,
                    inferred(
                        "unit inferred from the unit price: tokens",
                        "unit inferred from cost ÷ amount (no unit price): tokens",
                    ),
                )),
                // No amount: no tokens, whatever the unit.
                None if a.quantity == 0.0 => Ok((1.0, None)),
                None => Err(RowProblem {
                    column: bm.unit.as_ref().map(|u| u.column_label()),
                    value: Some(crate::model::rejected_text(unit, "value")),
                    reason: format!("the unit '{}' does not say how many tokens it holds, and the row has no unit price, nor a positive cost and amount, to tell", crate::model::shortened(unit, crate::model::QUOTED_TEXT_CHARS)),
                }),
            }
        }
        Some(s) => Ok((s, None)),
        None if unit.is_empty() => Ok((1.0, None)),
        None => Err(RowProblem {
            column: bm.unit.as_ref().map(|u| u.column_label()),
            value: Some(crate::model::rejected_text(unit, "value")),
            reason: format!(
                "unknown unit '{}': the template knows {}",
                crate::model::shortened(unit, crate::model::QUOTED_TEXT_CHARS),
                bm.spec.units.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        }),
    }
}

/// Tokens per unit of a row whose quantity is tokens or price blocks, whichever the money
/// says (`quantity_is = "decide"`: cost = price × quantity, or price × quantity / block).
fn decided_scale(
    bm: &template::BoundMeter,
    a: &MeterAmount<'_>,
) -> Result<(f64, Option<&'static str>), RowProblem> {
    let block = a.unit_size.unwrap_or(1.0);
    let quantity = a.quantity;
    match (a.price, a.price_cost) {
        (Some(p), Some(c)) if block > 1.0 && c.abs() > 0.0 && quantity > 0.0 => {
            let near = |x: f64, y: f64| (x - y).abs() <= (0.01 * y.abs()).max(0.011);
            if near(p * quantity, c) {
                Ok((
                    block,
                    Some("quantity in price blocks (cost = price × quantity)"),
                ))
            } else if near(p * quantity / block, c) {
                Ok((
                    1.0,
                    Some("quantity in tokens (cost = price × quantity / block)"),
                ))
            } else {
                let (cost, currency, converted) = a.billed;
                let cost_text = match (cost, converted) {
                    (Some(b), true) => format!("cost {c} in the pricing currency ({b} {currency})"),
                    _ => format!("cost {c}"),
                };
                let unit = a.unit;
                Err(RowProblem {
                    column: bm.price.as_ref().map(|p| p.column_label()),
                    value: Some(format!("price {p}, quantity {quantity}, unit {unit}, {cost_text}")),
                    reason: "neither price × quantity nor price × quantity / block equals the cost: cannot tell tokens from price blocks".into(),
                })
            }
        }
        _ => Ok((1.0, Some("quantity taken as tokens (no cost to decide by)"))),
    }
}

/// The row's cost in the unit price's currency, and, when that is not the cost field's
/// currency, a unit decision naming the conversion and its rate. The template's
/// `price_cost` column wins (Azure `CostInPricingCurrency`); else the cost ÷ the
/// `exchange_rate` column (pricing → billing); else the cost itself.
fn cost_in_price_currency(
    bm: &template::BoundMeter,
    cells: &dyn RowCells,
    seps: &Separators,
    cost: Option<f64>,
    currency: &str,
) -> (Option<f64>, Option<String>) {
    if bm.price_cost.is_none() && bm.exchange_rate.is_none() {
        return (cost, None);
    }
    let number = |b: &Option<template::Bound>| {
        b.as_ref().and_then(|b| {
            parse::money(&first_cell(b, cells), seps.comma(b))
                .ok()
                .flatten()
        })
    };
    let rate = number(&bm.exchange_rate).filter(|r| r.is_finite() && *r > 0.0);
    let (price_cost, how) = match (number(&bm.price_cost), rate, cost) {
        (Some(p), _, _) => (Some(p), bm.price_cost.as_ref().map(|b| b.column_label())),
        (None, Some(r), Some(c)) => (Some(c / r), Some("the cost ÷ the exchange rate".into())),
        _ => (cost, None),
    };
    let price_currency = bm
        .price_currency
        .as_ref()
        .map(|b| first_cell(b, cells).display().trim().to_uppercase())
        .filter(|c| !c.is_empty());
    let billing = currency.trim().to_uppercase();
    let differs = match &price_currency {
        Some(p) => !billing.is_empty() && *p != billing,
        None => rate.is_some_and(|r| (r - 1.0).abs() > 1e-12),
    };
    let Some(how) = how.filter(|_| differs) else {
        return (price_cost, None);
    };
    // The rate as exported, or as the two costs give it.
    let rate = rate.or_else(|| match (cost, price_cost) {
        (Some(c), Some(p)) if p.abs() > 0.0 => Some(c / p),
        _ => None,
    });
    let from = price_currency.unwrap_or_else(|| "the pricing currency".into());
    let rate = rate.map_or_else(
        || "an exchange rate not stated".to_string(),
        |r| format!("{} {billing} per {from}", significant(r)),
    );
    (
        price_cost,
        Some(format!(
            "prices in {from}, spend kept in {billing} at {rate}; price × quantity checked against {how}"
        )),
    )
}

/// A rate written with six significant digits (0.923457, 158.215).
fn significant(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return x.to_string();
    }
    let digits = (5 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn map_row(
    ctx: &RowContext<'_>,
    cells: &dyn RowCells,
    prov: Provenance,
    dates: &mut DateOrderEvidence,
    effects: &mut RowEffects,
) -> Result<RowOutcome, TotalOverflow> {
    let RowContext {
        m,
        state,
        period,
        report,
        ..
    } = *ctx;
    // Looked for only when it matters (money on the row, a skip rule, no date): most rows
    // never need every cell read.
    let total_label = std::cell::OnceCell::new();
    let has_total_label =
        || *total_label.get_or_init(|| (0..cells.len()).any(|i| is_total_label(&cells.cell(i))));
    if let Some(outcome) = row_shape(state, cells, &has_total_label) {
        return Ok(outcome);
    }
    let seps = &state.separators;
    match m
        .cost
        .as_ref()
        .map(|b| parse::money(&first_cell(b, cells), seps.comma(b)))
    {
        Some(Ok(Some(c))) if !has_total_label() => effects.cost_seen = Some(c),
        Some(Err(_)) if !has_total_label() => effects.cost_unreadable = true,
        _ => {}
    }

    // Rows of other services; never one whose meter text a token rule classifies (a
    // Bedrock usage type under a product map that does not name Bedrock is still Bedrock).
    if skip_rules_hit(m, cells) && !has_total_label() && !meter_says_tokens(m, cells) {
        return Ok(RowOutcome::Skipped(SkipReason::OtherService));
    }

    let start_cell = first_cell(&m.bucket_start, cells);
    let start = match bucket_start(m, &start_cell, dates) {
        Ok(start) => start,
        Err(DateStep::Waits) => return Ok(RowOutcome::Pending),
        Err(DateStep::Rejected(p)) => return Ok(RowOutcome::Rejected(p)),
        Err(DateStep::Unreadable(_)) if has_total_label() => {
            check_total_row(m, cells, seps, report, effects, prov.row);
            return Ok(RowOutcome::Skipped(SkipReason::TotalRow));
        }
        Err(DateStep::Unreadable(reason)) => {
            return Ok(RowOutcome::Rejected(problem(
                &m.bucket_start,
                &start_cell,
                format!("unparseable date: {reason}"),
            )))
        }
    };
    if start.is_none() && has_total_label() {
        check_total_row(m, cells, seps, report, effects, prov.row);
        return Ok(RowOutcome::Skipped(SkipReason::TotalRow));
    }

    let cost = match m.cost.as_ref() {
        None => None,
        Some(b) => {
            let cell = first_cell(b, cells);
            match parse::money(&cell, seps.comma(b)) {
                Ok(c) => c,
                Err(reason) => return Ok(RowOutcome::Rejected(problem(b, &cell, reason))),
            }
        }
    };
    // The currency only matters with money on the row.
    let currency = match cost {
        Some(_) => text_field(m.currency.as_ref(), cells)
            .unwrap_or_else(|| "USD".to_string())
            .to_uppercase(),
        None => String::new(),
    };

    // Money-only rows: spend adjustments.
    for (b, rule) in &m.adjustment {
        let v = first_cell(b, cells).display();
        if rule
            .when_re
            .as_ref()
            .is_some_and(|re| re.is_match(v.trim()))
        {
            let adj = (start, &start_cell, cost, &currency, v.trim().to_string());
            return money_only(m, cells, prov, period, effects, adj);
        }
    }

    // Quantities: wide rows (one column per token class) or a classified meter row.
    let money = (cost, currency.as_str());
    let read = match &m.meter {
        Some(bm) => meter_quantities(bm, m, cells, seps, money, start.is_some(), effects),
        None => wide_quantities(m, cells, seps, money).map_err(QuantityStep::Decided),
    };
    let q = match read {
        Ok(q) => q,
        Err(QuantityStep::Decided(outcome)) => return Ok(outcome),
        Err(QuantityStep::Credit) => {
            // Money without quantity on a meter row: a credit, never negative activity.
            let label = "credit (negative cost without quantity)".to_string();
            let adj = (start, &start_cell, cost, &currency, label);
            return money_only(m, cells, prov, period, effects, adj);
        }
    };
    let model = q.model.or_else(|| text_field(m.model.as_ref(), cells));
    let Some(start) = start else {
        if model.is_none() && !q.any {
            return Ok(RowOutcome::Skipped(SkipReason::Blank));
        }
        return Ok(RowOutcome::Rejected(problem(
            &m.bucket_start,
            &start_cell,
            "missing date: every usage row needs its bucket date".into(),
        )));
    };
    if model.is_none() && !q.any {
        return Ok(RowOutcome::Skipped(SkipReason::EmptyBucket));
    }
    let model = match model_named(m, cells, model, &q.kind) {
        Ok(model) => model,
        Err(p) => return Ok(RowOutcome::Rejected(p)),
    };
    if let Err(p) = cached_within_input(m, &q.values) {
        return Ok(RowOutcome::Rejected(p));
    }
    let valid = ValidRow {
        start,
        values: q.values,
        kind: q.kind,
        model: Some(model),
        region_override: q.region,
        scope: q.scope,
        parts: q.parts,
    };
    valid_row(m, cells, prov, period, effects, valid)
}

/// A row's shape before its values: blank, the header repeated, or (delimited text only) cut
/// short before the header's last column; `None` for a row to read.
fn row_shape(
    state: &SheetState,
    cells: &dyn RowCells,
    has_total_label: &dyn Fn() -> bool,
) -> Option<RowOutcome> {
    if row_is_blank(cells) {
        return Some(RowOutcome::Skipped(SkipReason::Blank));
    }
    let repeated = (0..cells.len()).all(|i| {
        state
            .header_keys
            .get(i)
            .is_some_and(|h| is_header_key(cells.cell(i), h))
    });
    if repeated {
        return Some(RowOutcome::Skipped(SkipReason::RepeatedHeader));
    }
    // A CSV row that stops before the header's last column was cut short (a truncated file,
    // an unclosed quote): its missing cells are unknown, not zero. Spreadsheet rows end at
    // their last value, so this applies to delimited text only.
    let header_width = state
        .header_keys
        .iter()
        .rposition(|k| !k.is_empty())
        .map_or(0, |i| i + 1);
    if state.name.is_none() && cells.len() < header_width && !has_total_label() {
        return Some(RowOutcome::Rejected(RowProblem {
            column: state.header_keys.get(cells.len()).cloned(),
            value: None,
            reason: format!(
                "the row ends after {} of the header's {header_width} columns (cut short: a \
                 truncated file or an unclosed quote?)",
                cells.len()
            ),
        }));
    }
    None
}

/// Why a row's bucket start cannot be used (yet).
enum DateStep {
    /// A slash date that reads both ways while the file's order is open.
    Waits,
    /// A date that contradicts the file's order.
    Rejected(RowProblem),
    /// Not a date (a vendor total row's label, or a bad cell): the reason.
    Unreadable(String),
}

/// The row's bucket start, `None` for an empty cell. Slash dates follow the file's day/month
/// order, and decide it when only one order reads them.
fn bucket_start(
    m: &Mapping,
    start_cell: &CellRef<'_>,
    dates: &mut DateOrderEvidence,
) -> Result<Option<Stamp>, DateStep> {
    let how = m.bucket_start.spec.parse.as_deref();
    match parse::timestamp_ordered(start_cell, how, dates.decided) {
        Ok(parse::Dated::Known(s)) => {
            if let Some(order) = s.order_evidence {
                match dates.decided {
                    None => dates.decided = Some(order),
                    Some(d) if d != order => {
                        return Err(DateStep::Rejected(problem(
                            &m.bucket_start,
                            start_cell,
                            format!(
                                "this date only reads as {}, but the file's other dates are {}",
                                order.label(),
                                d.label()
                            ),
                        )))
                    }
                    Some(_) => {}
                }
            }
            Ok(Some(s.stamp))
        }
        Ok(parse::Dated::Ambiguous) => Err(DateStep::Waits),
        Ok(parse::Dated::Empty) => Ok(None),
        Err(reason) => Err(DateStep::Unreadable(reason)),
    }
}

/// A row's quantities and what its meter said of it.
struct RowQuantities {
    values: RowValues,
    /// Any quantity or money on the row.
    any: bool,
    kind: RecordKind,
    /// Model, region and scope from the meter's text.
    model: Option<String>,
    region: Option<String>,
    scope: Option<String>,
    /// Not-estimated parts of a wide row's token fields: (label, unit, quantity).
    parts: Vec<(String, String, u64)>,
}

/// Why a row's quantities lead to no usage record.
enum QuantityStep {
    /// The row's outcome (skipped, rejected).
    Decided(RowOutcome),
    /// Money without quantity on a meter row: a credit.
    Credit,
}

/// The quantities of a meter row (one usage type, SKU or meter per row), classified by the
/// template's rules; the unit and currency decisions go to `effects`.
fn meter_quantities(
    bm: &template::BoundMeter,
    m: &Mapping,
    cells: &dyn RowCells,
    seps: &Separators,
    (cost, currency): (Option<f64>, &str),
    dated: bool,
    effects: &mut RowEffects,
) -> Result<RowQuantities, QuantityStep> {
    let r = match read_meter(bm, m, cells, seps, (cost, currency)) {
        Ok(Some(r)) => r,
        Ok(None) => {
            let text_empty = bm
                .text
                .columns
                .iter()
                .all(|(i, _)| cells.cell(*i).is_blank());
            let why = if text_empty && cost.is_none() && first_cell(&bm.quantity, cells).is_blank()
            {
                if dated {
                    SkipReason::EmptyBucket
                } else {
                    SkipReason::Blank
                }
            } else {
                SkipReason::OtherService
            };
            return Err(QuantityStep::Decided(RowOutcome::Skipped(why)));
        }
        Err(p) => return Err(QuantityStep::Decided(RowOutcome::Rejected(p))),
    };
    if r.tokens == 0 && cost.is_some_and(|c| c < 0.0) {
        return Err(QuantityStep::Credit);
    }
    effects.unit_decision = r.decision;
    effects.fx_decision = r.fx_decision.clone();
    let mut values = RowValues {
        cost,
        currency: currency.to_string(),
        ..RowValues::default()
    };
    let mut kind = RecordKind::Usage;
    match r.class.as_str() {
        "input" | "cache_write" => values.input_tokens = r.tokens,
        "cached_input" => {
            values.input_tokens = r.tokens;
            values.cached_input_tokens = r.tokens;
        }
        "output" => values.output_tokens = r.tokens,
        "input_characters" => values.input_characters = r.tokens,
        "output_characters" => values.output_characters = r.tokens,
        "requests" => {
            values.requests = r.tokens;
            values.requests_reported = true;
        }
        _ => {
            let label = r.label.clone().unwrap_or_else(|| "not estimated".into());
            let spend_only = r.class == "spend";
            // A spend row billed at another tier's prices says so in its label.
            let label = match r.tier.clone().or_else(|| tier_field(m, cells)) {
                Some(tier) if spend_only => crate::model::label_with_price_tier(&label, &tier),
                _ => label,
            };
            kind = RecordKind::NotEstimated {
                label,
                quantity: r.quantity,
                unit: r.unit.clone(),
                spend_only,
            }
        }
    }
    Ok(RowQuantities {
        values,
        any: true,
        kind,
        model: r.model,
        region: r.region,
        scope: r.scope,
        parts: vec![],
    })
}

/// The quantities of a wide row (one column per token class).
fn wide_quantities(
    m: &Mapping,
    cells: &dyn RowCells,
    seps: &Separators,
    (cost, currency): (Option<f64>, &str),
) -> Result<RowQuantities, RowOutcome> {
    let count = |b: Option<&template::Bound>, what| {
        count_field(b, cells, seps, what).map_err(RowOutcome::Rejected)
    };
    let requests = count(m.requests.as_ref(), "requests")?;
    let mut input = count(m.input_tokens.as_ref(), "tokens")?;
    let mut cached = count(m.cached_input_tokens.as_ref(), "tokens")?;
    let mut output = count(m.output_tokens.as_ref(), "tokens")?;
    let any = requests.is_some()
        || input.is_some()
        || cached.is_some()
        || output.is_some()
        || cost.is_some();
    // Audio and image tokens are part of the token fields: what is left is text.
    let mut parts = vec![];
    for p in &m.parts {
        let quantity = count(Some(&p.quantity), "tokens")?.unwrap_or(0);
        let cached_part = count(p.cached.as_ref(), "tokens")?.unwrap_or(0);
        let (field, whole) = if p.spec.part_of == "output_tokens" {
            (m.output_tokens.as_ref(), &mut output)
        } else {
            (m.input_tokens.as_ref(), &mut input)
        };
        let within = |whole: &mut Option<u64>,
                      part: u64,
                      of: Option<&template::Bound>,
                      b: &template::Bound| {
            match whole {
                Some(w) if *w >= part => {
                    *w -= part;
                    Ok(())
                }
                Some(w) => Err(RowOutcome::Rejected(RowProblem {
                    column: Some(b.column_label()),
                    value: Some(part.to_string()),
                    reason: format!(
                        "{} ({part}) exceed the {} ({w}) they are part of on the same row",
                        p.spec.label,
                        of.map(|o| o.column_label()).unwrap_or_default()
                    ),
                })),
                None => Ok(()),
            }
        };
        within(whole, quantity, field, &p.quantity)?;
        if let Some(cb) = &p.cached {
            within(&mut cached, cached_part, m.cached_input_tokens.as_ref(), cb)?;
        }
        if quantity > 0 {
            parts.push((p.spec.label.clone(), p.spec.unit.clone(), quantity));
        }
    }
    Ok(RowQuantities {
        values: RowValues {
            requests: requests.unwrap_or(0),
            requests_reported: requests.is_some(),
            input_tokens: input.unwrap_or(0),
            cached_input_tokens: cached.unwrap_or(0),
            output_tokens: output.unwrap_or(0),
            cost,
            currency: currency.to_string(),
            ..RowValues::default()
        },
        any,
        kind: RecordKind::Usage,
        model: None,
        region: None,
        scope: None,
        parts,
    })
}

/// The row's model: as read, else a not-estimated item's label; a usage row without one is
/// rejected on the model (or meter) column.
fn model_named(
    m: &Mapping,
    cells: &dyn RowCells,
    model: Option<String>,
    kind: &RecordKind,
) -> Result<String, RowProblem> {
    match (model, kind) {
        (Some(model), _) => Ok(model),
        (None, RecordKind::NotEstimated { label, .. }) => Ok(label.clone()),
        (None, _) => {
            let (column, cell) = match (&m.model, &m.meter) {
                (Some(b), _) => (b.column_label(), first_cell(b, cells)),
                (None, Some(bm)) => (bm.text.column_label(), first_cell(&bm.text, cells)),
                (None, None) => (String::new(), CellRef::Empty),
            };
            Err(RowProblem {
                column: Some(column).filter(|c| !c.is_empty()),
                value: Some(cell.display()).filter(|v| !v.is_empty()),
                reason: "missing model: the row has usage but no model name".into(),
            })
        }
    }
}

/// Cached input tokens are part of the input tokens: more of them is a bad row.
fn cached_within_input(m: &Mapping, values: &RowValues) -> Result<(), RowProblem> {
    if values.cached_input_tokens <= values.input_tokens {
        return Ok(());
    }
    let column = m
        .cached_input_tokens
        .as_ref()
        .map(|b| b.column_label())
        .unwrap_or_default();
    Err(RowProblem {
        column: Some(column).filter(|c| !c.is_empty()),
        value: Some(values.cached_input_tokens.to_string()),
        reason: format!(
            "cached input tokens ({}) exceed the input tokens ({}) on the same row",
            values.cached_input_tokens, values.input_tokens
        ),
    })
}

/// A money-only row (tax, credit, refund): a spend adjustment, never activity.
/// `adj` = (bucket start, its cell, cost, currency, the line type as exported).
fn money_only(
    m: &Mapping,
    cells: &dyn RowCells,
    prov: Provenance,
    period: &Period,
    effects: &mut RowEffects,
    adj: (Option<Stamp>, &CellRef<'_>, Option<f64>, &String, String),
) -> Result<RowOutcome, TotalOverflow> {
    let (start, start_cell, cost, currency, label) = adj;
    let Some(start) = start else {
        return Ok(RowOutcome::Rejected(problem(
            &m.bucket_start,
            start_cell,
            "missing date: every row needs its date".into(),
        )));
    };
    let values = RowValues {
        cost,
        currency: currency.clone(),
        ..RowValues::default()
    };
    let kind = RecordKind::Adjustment { label };
    let valid = ValidRow {
        start,
        values,
        kind,
        model: None,
        region_override: None,
        scope: None,
        parts: vec![],
    };
    valid_row(m, cells, prov, period, effects, valid)
}

/// What a valid row holds once read: its start, quantities and money, kind, and the model,
/// region and scope a meter's text gave (`None`: from their columns).
struct ValidRow {
    start: Stamp,
    values: RowValues,
    kind: RecordKind,
    model: Option<String>,
    region_override: Option<String>,
    scope: Option<String>,
    /// Not-estimated parts (label, unit, quantity), each listed as a record of its own.
    parts: Vec<(String, String, u64)>,
}

/// Books a valid row: control totals, dates, period, and the record.
fn valid_row(
    m: &Mapping,
    cells: &dyn RowCells,
    prov: Provenance,
    period: &Period,
    effects: &mut RowEffects,
    valid: ValidRow,
) -> Result<RowOutcome, TotalOverflow> {
    let ValidRow {
        start,
        values,
        kind,
        model,
        region_override,
        scope,
        parts,
    } = valid;
    let end = match bucket_end(m, cells, start) {
        Ok(e) => e,
        Err(p) => return Ok(RowOutcome::Rejected(p)),
    };
    let account = text_field(m.account.as_ref(), cells);
    let date = start.at.date_naive();
    let in_period = period.contains(date);
    effects.adjustment = matches!(kind, RecordKind::Adjustment { .. });
    effects.account.clone_from(&account);
    effects.date = Some(date);
    effects.in_period = in_period;
    if !in_period {
        effects.values = Some(values);
        return Ok(RowOutcome::Outside);
    }
    let record = UsageRecord {
        // Filled in by `map_cells` when the caller wants record keys.
        key: String::new(),
        bucket_start: start.at,
        bucket_end: end,
        provider: m.provider.clone(),
        model: model.unwrap_or_default(),
        region: text_field(m.region.as_ref(), cells).or(region_override),
        cost_centre: text_field(m.cost_centre.as_ref(), cells),
        account,
        service: text_field(m.service.as_ref(), cells),
        requests: values.requests,
        requests_reported: values.requests_reported,
        input_tokens: values.input_tokens,
        cached_input_tokens: values.cached_input_tokens,
        output_tokens: values.output_tokens,
        cost: values.cost,
        currency: values.cost.map(|_| values.currency.clone()),
        input_characters: values.input_characters,
        output_characters: values.output_characters,
        region_scope: scope,
        kind,
        provenance: prov,
    };
    effects.values = Some(values);
    let mut parts: Vec<UsageRecord> = parts
        .into_iter()
        .map(|(label, unit, quantity)| UsageRecord {
            requests: 0,
            requests_reported: false,
            input_tokens: 0,
            cached_input_tokens: 0,
            output_tokens: 0,
            input_characters: 0,
            output_characters: 0,
            cost: None,
            currency: None,
            kind: RecordKind::NotEstimated {
                label,
                quantity: quantity as f64,
                unit,
                spend_only: false,
            },
            ..record.clone()
        })
        .collect();
    // A row whose tokens are all audio or image has no text record: its requests would
    // otherwise be read as requests without tokens (imputed text). Its money, if any, goes
    // with the first part.
    let text = record.input_tokens > 0
        || record.output_tokens > 0
        || record.input_characters > 0
        || record.output_characters > 0;
    if !text && !parts.is_empty() {
        let mut first = parts.remove(0);
        first.cost = record.cost;
        first.currency = record.currency;
        return Ok(RowOutcome::Accepted(Box::new(first), parts));
    }
    Ok(RowOutcome::Accepted(Box::new(record), parts))
}

/// What mapping one row adds to its file's report. Mapping only reads the report; the effects
/// are applied by [`RowEffects::apply`] in file order, so a row mapped ahead of time on the CSV
/// reading thread books exactly as one mapped in turn (every float is added in file order).
#[derive(Debug, Default)]
struct RowEffects {
    /// The row's cost, for the sum of all rows a vendor total row is checked against.
    cost_seen: Option<f64>,
    /// Notes (a vendor total row's check).
    notes: Vec<String>,
    /// How a meter row's unit was decided.
    unit_decision: Option<&'static str>,
    /// Prices in another currency than the spend: the conversion and its rate.
    fx_decision: Option<String>,
    /// The quantities of a row that reached [`finish`] (read totals; accepted totals or
    /// adjustments when in the period).
    values: Option<RowValues>,
    /// The row is a money-only adjustment.
    adjustment: bool,
    /// The row's billing account.
    account: Option<String>,
    /// The row's date.
    date: Option<NaiveDate>,
    /// The date is inside the reporting period.
    in_period: bool,
    /// Where the row's money (`cost_seen`) goes in the file's balance.
    money_to: Option<MoneyTo>,
    /// The currency of `cost_seen`.
    currency_seen: Option<String>,
    /// The cost cell holds something that is not an amount.
    cost_unreadable: bool,
    /// A row skipped as another service whose text names an AI service or model: (the
    /// describing text, the name found, the row number).
    ai: Option<(String, String, u64)>,
    /// The row's warehouse-query marker cells.
    origin: Option<origin::RowOrigin>,
}

/// What became of a row with money, for the file's [`MoneyBalance`].
#[derive(Debug, Clone, Copy)]
enum MoneyTo {
    Accepted,
    Adjustment,
    Outside,
    Skipped(SkipReason),
    Rejected,
}

impl RowEffects {
    /// Adds the row to `report`, in the order mapping used to (an overflowing total stops
    /// at the same point).
    fn apply(self, report: &mut FileReport) -> Result<(), TotalOverflow> {
        if let Some(c) = self.cost_seen {
            report.all_rows_cost += c;
            if let Some(to) = self.money_to {
                let currency = self.currency_seen.clone().unwrap_or_else(|| "USD".into());
                let b = report.money.entry(currency).or_default();
                b.rows += 1;
                b.total += c;
                match to {
                    MoneyTo::Accepted => b.accepted += c,
                    MoneyTo::Adjustment => b.adjustments += c,
                    MoneyTo::Outside => b.outside_period += c,
                    MoneyTo::Rejected => b.rejected += c,
                    MoneyTo::Skipped(why) => *b.skipped.entry(why).or_insert(0.0) += c,
                }
            }
        }
        if self.cost_unreadable {
            report.money_unreadable_rows += 1;
        }
        if let Some((text, matched, row)) = self.ai {
            let i = match report.ai_skipped.iter().position(|g| g.text == text) {
                Some(i) => i,
                None if report.ai_skipped.len() < AI_SKIPPED_LISTED => {
                    report.ai_skipped.push(AiSkipped {
                        text,
                        matched,
                        first_row: row,
                        ..AiSkipped::default()
                    });
                    report.ai_skipped.len() - 1
                }
                None => {
                    let other = "(other texts naming AI services)";
                    match report.ai_skipped.iter().position(|g| g.text == other) {
                        Some(i) => i,
                        None => {
                            report.ai_skipped.push(AiSkipped {
                                text: other.into(),
                                matched,
                                first_row: row,
                                ..AiSkipped::default()
                            });
                            report.ai_skipped.len() - 1
                        }
                    }
                }
            };
            let g = &mut report.ai_skipped[i];
            g.rows += 1;
            if let Some(c) = self.cost_seen {
                let currency = self.currency_seen.clone().unwrap_or_else(|| "USD".into());
                *g.spend.entry(currency).or_insert(0.0) += c;
            }
        }
        report.notes.extend(self.notes);
        if let Some(o) = self.origin {
            origin::WarehouseOrigin::add(&mut report.warehouse, o);
        }
        if let Some(d) = self.unit_decision {
            *report.unit_decisions.entry(d.to_string()).or_insert(0) += 1;
        }
        if let Some(d) = self.fx_decision {
            // One entry per rate; a file of ever-changing rates folds the rest into one.
            let d = if report.unit_decisions.contains_key(&d)
                || report.unit_decisions.len() < FX_DECISIONS_LISTED
            {
                d
            } else {
                "prices in another currency than the spend, at further exchange rates".into()
            };
            *report.unit_decisions.entry(d).or_insert(0) += 1;
        }
        let Some(values) = self.values else {
            return Ok(());
        };
        if !self.adjustment {
            report.read_totals.add(&values)?;
        }
        if let Some(a) = self.account {
            if !report.accounts.contains(&a) {
                report.accounts.insert(a);
            }
        }
        if let Some(date) = self.date {
            report.first_date = Some(report.first_date.map_or(date, |d| d.min(date)));
            report.last_date = Some(report.last_date.map_or(date, |d| d.max(date)));
            if !self.adjustment {
                use chrono::Datelike;
                let month = date.year() * 12 + date.month0() as i32;
                *report.usage_rows_by_month.entry(month).or_insert(0) += 1;
            }
        }
        if !self.in_period {
            return Ok(());
        }
        if self.adjustment {
            report.adjustment_rows += 1;
            if let Some(c) = values.cost {
                *report.adjustments.entry(values.currency).or_insert(0.0) += c;
            }
        } else {
            report.accepted_totals.add(&values)?;
        }
        Ok(())
    }
}

/// The record's identity (see [`UsageRecord::key`]); fields are separated by U+001F.
fn record_key(
    m: &Mapping,
    cells: &dyn RowCells,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) -> String {
    use std::fmt::Write;
    let mut key = String::with_capacity(128);
    key.push_str(&m.template.id);
    key.push('\u{1f}');
    if let Some(a) = text_field(m.account.as_ref(), cells) {
        key.push_str(&a);
    }
    for &i in &m.key_columns {
        key.push('\u{1f}');
        key.push_str(cells.cell(i).display().trim());
    }
    if let Some(bm) = &m.meter {
        for (i, _) in &bm.text.columns {
            key.push('\u{1f}');
            key.push_str(cells.cell(*i).display().trim());
        }
    }
    // A warehouse query's result row: also every column the query grouped on.
    for &i in m.origin.iter().flat_map(|o| &o.grouped) {
        key.push('\u{1f}');
        key.push_str(cells.cell(i).display().trim());
    }
    let _ = write!(key, "\u{1f}{}\u{1f}{}", start.timestamp(), end.timestamp());
    key
}

fn bucket_end(
    m: &Mapping,
    cells: &dyn RowCells,
    start: Stamp,
) -> Result<chrono::DateTime<chrono::Utc>, RowProblem> {
    let derived = || {
        if start.has_time {
            start.at + Duration::seconds(m.template.bucket_width_seconds())
        } else {
            start.at + Duration::days(1)
        }
    };
    let Some(b) = m.bucket_end.as_ref() else {
        return Ok(derived());
    };
    let cell = first_cell(b, cells);
    match parse::timestamp(&cell, b.spec.parse.as_deref()) {
        Ok(None) => Ok(derived()),
        Ok(Some(end)) if end.at >= start.at => Ok(end.at),
        Ok(Some(_)) => Err(problem(b, &cell, "the bucket ends before it starts".into())),
        // An end date in another notation than the start: the start alone decides the period.
        Err(_) => Ok(derived()),
    }
}

/// The columns a mapping reads whose header name appears more than once in the header: in
/// words, which one is read (the first) and where the others are.
fn duplicate_columns(m: &Mapping, keys: &[String], header: &[String]) -> Vec<String> {
    let fields = [
        Some(&m.bucket_start),
        m.bucket_end.as_ref(),
        m.model.as_ref(),
        m.requests.as_ref(),
        m.input_tokens.as_ref(),
        m.cached_input_tokens.as_ref(),
        m.output_tokens.as_ref(),
        m.cost.as_ref(),
        m.currency.as_ref(),
        m.region.as_ref(),
        m.cost_centre.as_ref(),
        m.account.as_ref(),
        m.service.as_ref(),
        m.meter.as_ref().map(|bm| &bm.text),
        m.meter.as_ref().map(|bm| &bm.quantity),
    ];
    let mut out: Vec<String> = vec![];
    let mut seen: Vec<usize> = vec![];
    for b in fields.into_iter().flatten() {
        for (i, name) in &b.columns {
            if seen.contains(i) {
                continue;
            }
            seen.push(*i);
            let Some(key) = keys.get(*i).filter(|k| !k.is_empty()) else {
                continue;
            };
            let others: Vec<String> = keys
                .iter()
                .enumerate()
                .filter(|(j, k)| *j != *i && *k == key)
                .map(|(j, _)| column_letter(j))
                .collect();
            if !others.is_empty() {
                let shown = header.get(*i).map_or(name.as_str(), |h| h.trim());
                out.push(format!(
                    "the header names column '{shown}' more than once: column {} is read, column(s) {} are not",
                    column_letter(*i),
                    others.join(", ")
                ));
            }
        }
    }
    out
}

/// A spreadsheet column's letters (0 = A, 26 = AA); past Excel's last column, its number.
fn column_letter(i: usize) -> String {
    match u16::try_from(i) {
        Ok(c) if c < 16_384 => rust_xlsxwriter::utility::column_number_to_name(c),
        _ => format!("#{}", i + 1),
    }
}

/// The quantity and money columns of a mapping (index, header, holds counts), each once.
fn numeric_columns(m: &Mapping) -> Vec<(usize, String, bool)> {
    let mut out: Vec<(usize, String, bool)> = vec![];
    let bounds = [
        (m.requests.as_ref(), true),
        (m.input_tokens.as_ref(), true),
        (m.cached_input_tokens.as_ref(), true),
        (m.output_tokens.as_ref(), true),
        (m.cost.as_ref(), false),
        (m.meter.as_ref().map(|bm| &bm.quantity), false),
        (m.meter.as_ref().and_then(|bm| bm.price.as_ref()), false),
        (
            m.meter.as_ref().and_then(|bm| bm.price_cost.as_ref()),
            false,
        ),
        (
            m.meter.as_ref().and_then(|bm| bm.exchange_rate.as_ref()),
            false,
        ),
    ];
    for (b, counts) in bounds {
        for (i, h) in b.map(|b| &b.columns[..]).unwrap_or_default() {
            if !out.iter().any(|(j, _, _)| j == i) {
                out.push((*i, h.clone(), counts));
            }
        }
    }
    out
}

/// A digest of a row's cells (SHA-256 of the values joined by U+001F, 16 bytes in hex): the
/// same row in two files has the same digest.
fn row_digest(cells: &dyn RowCells) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for i in 0..cells.len() {
        h.update(cells.cell(i).display().trim().as_bytes());
        h.update([0x1f]);
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Header names that describe what a row bills for: service, product, meter, SKU, usage
/// type, line item. At most eight columns, so a skipped row costs little to look at.
fn describing_columns(header: &[String]) -> Vec<usize> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let Some(re) = RE
        .get_or_init(|| {
            regex::Regex::new(
                r"(?i)(service|product|meter|sku|usage.?type|line.?item.?description|category|model|operation|description)",
            )
            .ok()
        })
        .as_ref()
    else {
        return vec![];
    };
    header
        .iter()
        .enumerate()
        .filter(|(_, h)| re.is_match(h))
        .map(|(i, _)| i)
        .take(8)
        .collect()
}

/// Names of AI services and model families, as billing exports write them.
pub const AI_NAMES: &str = r"(?i)\b(bedrock|openai|azure ?open ?ai|cognitive ?services|ai ?foundry|foundry ?models|vertex|gemini|generative ?language|claude|anthropic|gpt|llama|mistral|mixtral|nova|titan|cohere|ai21|jamba|deepseek|qwen|dall-?e|whisper|sora|imagen|embedding|command-r|grok)|(?:input|output|cache\w*)[\s_-]*tokens?\b";

/// The describing text of a row skipped as another service and the AI name in it, if any.
fn ai_named(state: &SheetState, m: &Mapping, cells: &dyn RowCells) -> Option<(String, String)> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = RE
        .get_or_init(|| regex::Regex::new(AI_NAMES).ok())
        .as_ref()?;
    let mut columns: Vec<usize> = state.describe.clone();
    let bound = m
        .skips
        .iter()
        .map(|(b, _)| b)
        .chain(m.meter.as_ref().map(|bm| &bm.text))
        .chain(m.model.as_ref())
        .chain(m.service.as_ref());
    for b in bound {
        if let Some((i, _)) = b.columns.iter().find(|(i, _)| !cells.cell(*i).is_blank()) {
            if !columns.contains(i) {
                columns.push(*i);
            }
        }
    }
    columns.sort_unstable();
    let mut parts: Vec<String> = vec![];
    for i in columns {
        let v = cells.cell(i).display();
        let v = v.trim();
        if !v.is_empty() && !parts.iter().any(|p| p == v) {
            parts.push(v.chars().take(200).collect());
        }
    }
    let text = parts.join(" · ");
    let matched = re.find(&text)?.as_str().to_string();
    Some((text, matched))
}

/// Compares a vendor total row with the sum of the valid rows above it; notes the result.
fn check_total_row(
    m: &Mapping,
    cells: &dyn RowCells,
    seps: &Separators,
    report: &FileReport,
    effects: &mut RowEffects,
    row: u64,
) {
    let checks = [
        (
            "input tokens",
            m.input_tokens.as_ref(),
            report.read_totals.input_tokens,
        ),
        (
            "output tokens",
            m.output_tokens.as_ref(),
            report.read_totals.output_tokens,
        ),
    ];
    let mut notes = vec![];
    for (what, b, sum) in checks {
        if let Ok(Some(stated)) = count_field(b, cells, seps, "tokens") {
            if stated != sum {
                notes.push(format!(
                    "vendor total row {row} states {stated} {what}; the valid rows above it sum to {sum}"
                ));
            } else {
                notes.push(format!(
                    "vendor total row {row} agrees with the rows above it ({what}: {sum})"
                ));
            }
        }
    }
    let rounding = (0..cells.len()).any(|i| {
        matches!(cells.cell(i), CellRef::Text(t) if t.trim().eq_ignore_ascii_case("rounding error"))
    });
    if let (Some(b), false) = (m.cost.as_ref(), rounding) {
        if let Ok(Some(stated)) = parse::money(&first_cell(b, cells), seps.comma(b)) {
            // An invoice total covers every row above it: other services and credits too.
            let sum = report.all_rows_cost;
            let verdict = if (stated - sum).abs() <= 0.01 + 1e-6 * sum.abs() {
                "agrees with"
            } else {
                "differs from"
            };
            notes.push(format!(
                "vendor total row {row} states cost {stated:.2}; it {verdict} the sum of all rows above it ({sum:.2})"
            ));
        }
    }
    effects.notes.extend(notes);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything normalising a file yields, as text: the report (or the error), the
    /// records in the order the sink saw them, the rejections.
    fn outcome(path: &Path, mode: PremapMode, keys: bool) -> (String, Vec<String>, Vec<String>) {
        let templates = TemplateSet::builtin().unwrap();
        let period = Period::quarter("2026Q1").unwrap();
        let mut records = vec![];
        let mut rejections = vec![];
        let file = FileToRead {
            path,
            name: "f.csv",
            file_index: 3,
            templates: &templates,
            period: &period,
            record_keys: keys,
            progress: ingest::Progress::Hidden,
        };
        let result = normalise_premapped(
            file,
            mode,
            &mut |r| {
                records.push(format!("{r:?}"));
                Ok(())
            },
            &mut rejections,
        );
        let report = match result {
            Ok(r) => serde_json::to_string(&r).unwrap(),
            Err(e) => format!("error: {e}"),
        };
        let rejections = rejections.iter().map(|r| format!("{r:?}")).collect();
        (report, records, rejections)
    }

    /// Rows waiting for the day/month order are mapped again only when it is decided, and
    /// stop the file at the bound when nothing can decide it.
    #[test]
    fn rows_waiting_for_dates_stop_at_the_bound() {
        let dir = std::env::temp_dir().join(format!("held-dates-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text =
            std::fs::read_to_string("samples/anthropic_claude_api_cost_2026_Q1.csv").unwrap();
        let mut l = text.lines();
        let (header, row) = (l.next().unwrap(), l.next().unwrap());
        assert!(row.starts_with("2026-01-01,"), "{row}");
        // 2,000 rows dated 03/02/2026 (3 February or 2 March: both in the quarter; the
        // Anthropic template sets no order), then, in the second file, 13/02/2026.
        let ambiguous = |n: usize, last: Option<&str>| {
            let mut csv = format!("{header}\n");
            for _ in 0..n {
                csv.push_str(&row.replacen("2026-01-01", "03/02/2026", 1));
                csv.push('\n');
            }
            if let Some(date) = last {
                csv.push_str(&row.replacen("2026-01-01", date, 1));
                csv.push('\n');
            }
            csv
        };
        let never = dir.join("never.csv");
        std::fs::write(&never, ambiguous(2000, None)).unwrap();
        let settled = dir.join("settled.csv");
        std::fs::write(&settled, ambiguous(2000, Some("13/02/2026"))).unwrap();

        // Unbounded (32 MiB): the last row settles day/month, and the 2,000 rows that waited
        // are mapped once more each: 2,001 + 2,000 maps.
        MAPS.set(0);
        let (report, records, _) = outcome(&settled, PremapMode::Off, false);
        assert_eq!(records.len(), 2001, "{report}");
        assert_eq!(MAPS.get(), 4001);
        // Without a settling date the file fails at its end, naming the rows.
        let (report, _, _) = outcome(&never, PremapMode::Off, false);
        assert!(
            report.contains("2000 row(s), first at row 2, have dates such as 03/04/2026"),
            "{report}"
        );

        // Bounded at 20 kB (some forty rows of 14 cells): once the rows waiting pass it and
        // nothing is left to decide, reading stops with the same advice, having mapped each
        // row once. (Before, every row past the bound mapped all the held rows again: a
        // 256 KiB spreadsheet of long cells ran for minutes.)
        HELD_LIMIT.set(20_000);
        MAPS.set(0);
        let (report, records, _) = outcome(&never, PremapMode::Off, false);
        let maps = MAPS.get();
        HELD_LIMIT.set(HELD_BYTES);
        assert!(records.is_empty());
        assert!(report.contains("so reading stopped there"), "{report}");
        assert!(report.contains("first at row 2,"), "{report}");
        assert!((30..60).contains(&maps), "{maps} rows mapped: {report}");
    }

    /// Rows held waiting for a column's separators are bounded: past the bound, the column is
    /// decided from what the file has shown, and a later value that contradicts it is named.
    #[test]
    fn rows_held_for_separators_are_bounded() {
        let dir = std::env::temp_dir().join(format!("held-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text =
            std::fs::read_to_string("samples/openai_completions_usage_2026-01-01_2026-03-31.csv")
                .unwrap();
        let mut l = text.lines();
        let (header, row) = (l.next().unwrap(), l.next().unwrap());
        // 2,000 rows of input tokens `7.000` (seven or seven thousand), then `1.234.567`.
        let mut csv = format!("{header}\n");
        for i in 0..2001 {
            let tokens = if i == 2000 { "1.234.567" } else { "7.000" };
            csv.push_str(
                &row.replacen(",3884112.0,", &format!(",{tokens},"), 1)
                    .replacen(",776704.0,", ",0,", 1),
            );
            csv.push('\n');
        }
        let path = dir.join("held.csv");
        std::fs::write(&path, &csv).unwrap();

        // Unbounded (32 MiB), every row waits for row 2,002: 2,000 × 7,000 + 1,234,567.
        let (report, records, _) = outcome(&path, PremapMode::Off, false);
        assert_eq!(records.len(), 2001);
        assert!(report.contains(r#""input_tokens":15234567"#), "{report}");

        // Bounded at 100 kB (about a hundred rows of 24 cells), the column is decided from
        // the other columns (500.0-style output tokens: a decimal point), so the rows read 7
        // tokens each, and 1.234.567, which only a decimal comma reads, is rejected and named.
        HELD_LIMIT.set(100_000);
        let bounded = outcome(&path, PremapMode::Off, false);
        let ahead = outcome(&path, PremapMode::EveryBatch, false);
        HELD_LIMIT.set(HELD_BYTES);
        let (report, records, rejections) = bounded;
        assert_eq!(ahead.0, report);
        assert_eq!((records.len(), rejections.len()), (2000, 1));
        assert!(report.contains(r#""input_tokens":14000"#), "{report}");
        assert!(
            report.contains(
                "column input_tokens: row 2 '7.000' and 1999 more values read either way (one \
                 reading a thousand times the other) and no value of the column settled it in \
                 time: read with a decimal point (1,234.5), as the file's other quantity and \
                 money columns write; yet row 2002 '1.234.567' writes a decimal comma (1.234,5), \
                 so they may be off by a factor of a thousand"
            ),
            "{report}"
        );
    }

    fn csv_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                csv_files(&p, out);
            } else if p.to_string_lossy().ends_with(".csv")
                || p.to_string_lossy().ends_with(".csv.gz")
            {
                out.push(p);
            }
        }
    }

    /// Rows mapped ahead on the reading thread book exactly as rows mapped in turn: the
    /// same counts, totals (every float added in the same order), notes, records and
    /// rejections, on every CSV sample and fixture and on files made to test the rows that
    /// depend on earlier ones (slash dates deciding the day/month order part-way, vendor total
    /// rows, a total that overflows, more rejections than are listed).
    #[test]
    fn premapped_rows_book_exactly_as_rows_mapped_in_turn() {
        let dir = std::env::temp_dir().join(format!("premap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut files = vec![];
        csv_files(Path::new("samples"), &mut files);
        csv_files(Path::new("tests/fixtures"), &mut files);
        assert!(files.len() > 20, "the samples and fixtures were found");
        let lines = |sample: &str| {
            let text = std::fs::read_to_string(Path::new("samples").join(sample)).unwrap();
            let mut l = text.lines().map(str::to_string);
            (l.next().unwrap(), l.next().unwrap())
        };
        // Azure cost export (MM/DD/YYYY dates): dates that read the same either way come
        // first (02/02), ambiguous ones (03/01) wait for the order, which 01/13 decides
        // after several batches; a bad quantity every 50 rows, and a total row at the end.
        let (header, row) = lines("azure_cost_export_ea_2026Q1.csv");
        assert!(
            row.contains(",01/01/2026,") && row.contains(",18293.628,,")
                || row.contains(",18293.628,")
        );
        assert!(row.contains(",45.734070000000003,"));
        let mut slash = format!("{header}\n");
        for i in 0..5000u64 {
            let date = match i {
                0..1000 => format!("{m:02}/{m:02}/2026", m = 1 + i % 3),
                1000..3000 => format!("{:02}/{:02}/2026", 1 + i % 3, 1 + i % 12),
                _ => format!("{:02}/{:02}/2026", 1 + i % 3, 13 + i % 15),
            };
            // Cost = price 0.0025 per 1K × quantity, so the meter reads thousands of tokens.
            let quantity = if i % 50 == 7 {
                "abc".to_string()
            } else {
                format!("{}", 4 * (i + 1))
            };
            slash.push_str(
                &row.replacen(",01/01/2026,", &format!(",{date},"), 1)
                    .replacen(",18293.628,", &format!(",{quantity},"), 1)
                    .replacen(
                        ",45.734070000000003,",
                        &format!(",{}.{:02},", (i + 1) / 100, (i + 1) % 100),
                        1,
                    ),
            );
            slash.push('\n');
        }
        // The total row states the sum of every row's cost: 0.01 × (1 + 2 + ... + 5000)
        // = 0.01 × 5000 × 5001 / 2 = 125,025.00, rejected rows included.
        assert!(row.starts_with("Digital Products,"));
        slash.push_str(
            &row.replacen("Digital Products,", "Total,", 1)
                .replacen(",01/01/2026,", ",,", 1)
                .replacen(",18293.628,", ",,", 1)
                .replacen(",45.734070000000003,", ",125025.00,", 1),
        );
        slash.push('\n');
        // OpenAI usage whose input tokens overflow a 64-bit count on the third big row.
        let (header, row) = lines("openai_completions_usage_2026-01-01_2026-03-31.csv");
        assert!(row.contains(",3884112.0,"));
        let mut overflow = format!("{header}\n");
        for i in 0..5000u64 {
            let tokens = if i % 1500 == 1499 {
                9_000_000_000_000_000_000
            } else {
                i
            };
            overflow.push_str(&row.replacen(",3884112.0,", &format!(",{tokens},"), 1));
            overflow.push('\n');
        }
        // The same usage with input tokens written `7.000` (seven, or seven thousand?) until
        // row 3,002 writes `1.234.567`, which only a dot grouping thousands reads: the
        // rows before it wait for the column's convention across many batches, then all
        // read as thousands. Input: (1 + 2 + ... + 999) × 5 + (1 + ... + 5) for i in
        // 0..5000 = 2,497,515, less row i = 3000's 4 (3000 % 999 = 3), × 1,000, plus
        // 1,234,567 = 2,498,745,567 tokens.
        let mut dots = format!("{header}\n");
        for i in 0..5000u64 {
            let tokens = if i == 3000 {
                "1.234.567".to_string()
            } else {
                format!("{}.000", 1 + i % 999)
            };
            // No cached tokens (the sample's 776,704 would exceed the smaller inputs).
            dots.push_str(
                &row.replacen(",3884112.0,", &format!(",{tokens},"), 1)
                    .replacen(",776704.0,", ",0,", 1),
            );
            dots.push('\n');
        }
        let dots_path = dir.join("dots.csv");
        std::fs::write(&dots_path, &dots).unwrap();
        files.push(dots_path);
        let slash_path = dir.join("slash.csv");
        std::fs::write(&slash_path, &slash).unwrap();
        let overflow_path = dir.join("overflow.csv");
        std::fs::write(&overflow_path, &overflow).unwrap();
        files.push(slash_path);
        files.push(overflow_path);
        let mut records_compared = 0;
        let crafted = files.len() - 3;
        for (i, f) in files.iter().enumerate() {
            let keys: &[bool] = if i >= crafted {
                &[false, true]
            } else {
                &[false]
            };
            for &keys in keys {
                let reference = outcome(f, PremapMode::Off, keys);
                let ahead = outcome(f, PremapMode::EveryBatch, keys);
                assert_eq!(ahead.0, reference.0, "{}: report", f.display());
                assert_eq!(ahead.1, reference.1, "{}: records", f.display());
                assert_eq!(ahead.2, reference.2, "{}: rejections", f.display());
                if i >= crafted {
                    assert_eq!(outcome(f, PremapMode::WhenBehind, keys), reference);
                }
                records_compared += reference.1.len();
            }
        }
        // The crafted slash-date file alone books 4,900 records, twice (with and without keys).
        assert!(records_compared > 9_800, "{records_compared}");
        let (report, records, rejections) =
            outcome(&files[files.len() - 2], PremapMode::EveryBatch, false);
        // 5,000 rows, one in 50 with a bad quantity (i % 50 == 7): 4,900 accepted, 100
        // rejected; then the total row.
        assert_eq!(
            (records.len(), rejections.len()),
            (4900, 100),
            "{rejections:?}"
        );
        // 03/27 can only be month first: the order was decided part-way.
        assert!(report.contains(r#""last_date":"2026-03-27""#), "{report}");
        assert!(
            report.contains("states cost 125025.00; it agrees with"),
            "{report}"
        );
        let (report, ..) = outcome(&files[files.len() - 1], PremapMode::EveryBatch, false);
        assert!(
            report.starts_with("error:") && report.contains("overflow"),
            "{report}"
        );
        let (report, records, _) = outcome(&files[files.len() - 3], PremapMode::EveryBatch, false);
        assert_eq!(records.len(), 5000, "{report}");
        assert!(report.contains(r#""input_tokens":2498745567"#), "{report}");
        assert!(
            report.contains("column input_tokens read with a decimal comma (1.234,5) as its row 3002 '1.234.567' shows"),
            "{report}"
        );
        assert!(report.contains(r#""ambiguous_separators":[]"#), "{report}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
