//! Normalise: rows of cells + templates -> canonical usage records and rejections.
//!
//! It finds the header row (it may sit below title rows, on any sheet), binds the template
//! that fits it, and maps every data row to a [`UsageRecord`], or to a [`Rejection`] that says
//! which cell was wrong and why, or to a counted skip (blank, empty bucket, vendor total,
//! repeated header). Every data row lands in exactly one of those, so the row accounting
//! `read = accepted + rejected + duplicate + outside_period + excluded + skipped` holds by
//! construction. It does not estimate or aggregate: records go to a sink as they are made.

pub mod parse;
pub mod template;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::ingest::{self, CellRef, FileInfo, Flow, IngestError, RowCells, RowEvent};
use crate::model::{Period, Provenance, Rejection, SkipReason, UsageRecord};
use parse::Stamp;
pub use template::{Mapping, Template, TemplateError, TemplateSet};

/// How many rows of a sheet are searched for a header before the sheet is passed over.
pub const HEADER_SEARCH_ROWS: u64 = 50;

/// Row counts of one file. `read` counts data rows (below the header).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Quantities {
    /// Requests.
    pub requests: u64,
    /// Input tokens (cached included).
    pub input_tokens: u64,
    /// Cached input tokens.
    pub cached_input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Spend per currency.
    pub spend: BTreeMap<String, f64>,
}

impl Quantities {
    fn add(&mut self, r: &RowValues) -> Result<(), String> {
        let add = |a: u64, b: u64, what: &str| {
            a.checked_add(b)
                .ok_or_else(|| format!("the sum of {what} overflows a 64-bit count"))
        };
        self.requests = add(self.requests, r.requests, "requests")?;
        self.input_tokens = add(self.input_tokens, r.input_tokens, "input tokens")?;
        self.cached_input_tokens = add(
            self.cached_input_tokens,
            r.cached_input_tokens,
            "cached input tokens",
        )?;
        self.output_tokens = add(self.output_tokens, r.output_tokens, "output tokens")?;
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
#[derive(Debug, Clone, Default, Serialize)]
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
}

/// One sheet that held a recognised header.
#[derive(Debug, Clone, Serialize)]
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
    /// A counter overflowed.
    #[error("{file}: {reason}")]
    Overflow {
        /// The file as named.
        file: String,
        /// What overflowed.
        reason: String,
    },
}

/// The cells of one data row after parsing (before the period check).
#[derive(Debug, Clone, Default)]
struct RowValues {
    requests: u64,
    input_tokens: u64,
    cached_input_tokens: u64,
    output_tokens: u64,
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
    Accepted(Box<UsageRecord>),
    Outside,
    Skipped(SkipReason),
    Rejected(RowProblem),
}

/// The best near miss seen while searching for a header.
struct NearMiss {
    required_found: usize,
    template: String,
    missing: Vec<String>,
}

struct SheetState {
    name: Option<Arc<str>>,
    decimal_comma: bool,
    mapping: Option<Mapping>,
    header_keys: Vec<String>,
    scanned: u64,
}

/// Reads one file and maps its rows; accepted records go to `sink`, rejections to `rejections`.
pub fn normalise_file(
    path: &Path,
    name: &str,
    file_index: usize,
    templates: &TemplateSet,
    period: &Period,
    sink: &mut dyn FnMut(UsageRecord),
    rejections: &mut Vec<Rejection>,
) -> Result<FileReport, NormaliseError> {
    let file: Arc<str> = Arc::from(name);
    let mut report = FileReport {
        file_index,
        file: name.to_string(),
        ..FileReport::default()
    };
    let mut sheet: Option<SheetState> = None;
    let mut first_seen: Option<(u64, Option<String>, Vec<String>)> = None;
    let mut near: Option<NearMiss> = None;
    let mut overflow: Option<String> = None;

    let mut on_event = |event: RowEvent<'_>| -> Result<Flow, String> {
        match event {
            RowEvent::Sheet {
                name: sheet_name,
                decimal_comma,
            } => {
                sheet = Some(SheetState {
                    name: sheet_name.map(Arc::from),
                    decimal_comma,
                    mapping: None,
                    header_keys: vec![],
                    scanned: 0,
                });
                Ok(Flow::Continue)
            }
            RowEvent::Row(number, cells) => {
                let Some(state) = sheet.as_mut() else {
                    return Ok(Flow::Continue);
                };
                let Some(mapping) = state.mapping.as_ref() else {
                    // Still looking for the header.
                    state.scanned += 1;
                    if row_is_blank(cells) {
                        return Ok(if state.scanned > HEADER_SEARCH_ROWS {
                            Flow::SkipSheet
                        } else {
                            Flow::Continue
                        });
                    }
                    let header: Vec<String> =
                        (0..cells.len()).map(|i| cells.cell(i).display()).collect();
                    if first_seen.is_none() {
                        first_seen = Some((
                            number,
                            state.name.as_deref().map(str::to_string),
                            header.clone(),
                        ));
                    }
                    match templates.detect(&header) {
                        Some(Ok(m)) => {
                            report.sheets.push(SheetReport {
                                sheet: state.name.as_deref().map(str::to_string),
                                header_row: number,
                                template: m.template.id.clone(),
                                mapping: m
                                    .describe()
                                    .into_iter()
                                    .map(|(f, c)| (f.to_string(), c))
                                    .collect(),
                            });
                            state.header_keys =
                                header.iter().map(|h| template::header_key(h)).collect();
                            state.mapping = Some(m);
                        }
                        Some(Err(e)) => return Err(format!("{name}: {e}")),
                        None => {
                            if let Some(best) = templates.fits(&header).into_iter().next() {
                                if best.required_found > 0
                                    && near
                                        .as_ref()
                                        .is_none_or(|n| best.required_found > n.required_found)
                                {
                                    near = Some(NearMiss {
                                        required_found: best.required_found,
                                        template: best.template.id.clone(),
                                        missing: best.missing.clone(),
                                    });
                                    first_seen = Some((
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
                    return Ok(Flow::Continue);
                };
                report.counts.read += 1;
                let prov = Provenance {
                    file_index,
                    file: file.clone(),
                    sheet: state.name.clone(),
                    row: number,
                };
                match map_row(mapping, state, cells, prov, period, &mut report) {
                    Ok(RowOutcome::Accepted(record)) => {
                        report.counts.accepted += 1;
                        sink(*record);
                    }
                    Ok(RowOutcome::Outside) => report.counts.outside_period += 1,
                    Ok(RowOutcome::Skipped(why)) => {
                        report.counts.skipped += 1;
                        *report.skipped_by.entry(why).or_insert(0) += 1;
                    }
                    Ok(RowOutcome::Rejected(p)) => {
                        report.counts.rejected += 1;
                        rejections.push(Rejection {
                            file: name.to_string(),
                            sheet: state.name.as_deref().map(str::to_string),
                            row: number,
                            column: p.column,
                            value: p.value,
                            reason: p.reason,
                        });
                    }
                    Err(msg) => {
                        overflow = Some(msg.clone());
                        return Err(format!("{name}: {msg}"));
                    }
                }
                Ok(Flow::Continue)
            }
        }
    };
    let info: FileInfo = match ingest::read_rows(path, name, &mut on_event) {
        Ok(info) => info,
        Err(IngestError::Stopped(msg)) => {
            if let Some(reason) = overflow {
                return Err(NormaliseError::Overflow {
                    file: name.to_string(),
                    reason,
                });
            }
            return Err(NormaliseError::Ingest(IngestError::Stopped(msg)));
        }
        Err(e) => return Err(e.into()),
    };
    if report.sheets.is_empty() {
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
            Some(n) => format!(
                "Nearest template: {} (missing column(s): {}). Use --template FILE for another format.",
                n.template,
                n.missing.join(", ")
            ),
            None => format!(
                "Known formats: {}. Use --template FILE for another format.",
                templates
                    .all()
                    .iter()
                    .map(|t| t.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return Err(NormaliseError::UnknownFormat {
            file: name.to_string(),
            where_,
            seen,
            nearest,
        });
    }
    report.sha256 = info.sha256;
    report.bytes = info.bytes;
    report.dialect = info.dialect;
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
    Ok(report)
}

fn row_is_blank(cells: &dyn RowCells) -> bool {
    (0..cells.len()).all(|i| cells.cell(i).is_blank())
}

/// A text cell that names a vendor total or subtotal.
fn is_total_label(cell: &CellRef<'_>) -> bool {
    let CellRef::Text(t) = cell else { return false };
    let t = t.trim().to_lowercase();
    t == "total"
        || t == "totals"
        || t == "sum"
        || t == "rounding error"
        || t.starts_with("total ")
        || t.starts_with("total:")
        || t.starts_with("grand total")
        || t.starts_with("subtotal")
        || t.starts_with("sub-total")
}

fn first_cell<'c>(b: &crate::normalise::template::Bound, cells: &'c dyn RowCells) -> CellRef<'c> {
    b.columns
        .first()
        .map(|(i, _)| cells.cell(*i))
        .unwrap_or(CellRef::Empty)
}

fn problem(b: &template::Bound, cell: &CellRef<'_>, reason: String) -> RowProblem {
    RowProblem {
        column: Some(b.column_label()),
        value: Some(cell.display()).filter(|v| !v.is_empty()),
        reason,
    }
}

/// A text field: the first column's value, mapped, defaulted; `None` when empty.
fn text_field(b: Option<&template::Bound>, cells: &dyn RowCells) -> Option<String> {
    let b = b?;
    let raw = first_cell(b, cells).display();
    let raw = raw.trim();
    let value = if raw.is_empty() {
        b.spec.default.clone()?
    } else {
        match b.spec.map.iter().find(|(k, _)| k.eq_ignore_ascii_case(raw)) {
            Some((_, v)) => v.clone(),
            None => raw.to_string(),
        }
    };
    (!value.trim().is_empty()).then(|| value.trim().to_string())
}

/// A count field: the sum of its columns; `Ok(None)` when every cell is empty.
fn count_field(
    b: Option<&template::Bound>,
    cells: &dyn RowCells,
    decimal_comma: bool,
    what: &str,
) -> Result<Option<u64>, RowProblem> {
    let Some(b) = b else { return Ok(None) };
    let mut total: Option<u64> = None;
    for (i, header) in &b.columns {
        let cell = cells.cell(*i);
        match parse::count(&cell, decimal_comma, what) {
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

fn map_row(
    m: &Mapping,
    state: &SheetState,
    cells: &dyn RowCells,
    prov: Provenance,
    period: &Period,
    report: &mut FileReport,
) -> Result<RowOutcome, String> {
    if row_is_blank(cells) {
        return Ok(RowOutcome::Skipped(SkipReason::Blank));
    }
    let repeated = (0..cells.len()).all(|i| {
        let c = cells.cell(i).display();
        state
            .header_keys
            .get(i)
            .is_some_and(|h| *h == template::header_key(&c))
    });
    if repeated {
        return Ok(RowOutcome::Skipped(SkipReason::RepeatedHeader));
    }
    let has_total_label = (0..cells.len()).any(|i| is_total_label(&cells.cell(i)));
    let dc = state.decimal_comma;

    // Bucket start.
    let start_cell = first_cell(&m.bucket_start, cells);
    let start = match parse::timestamp(&start_cell, m.bucket_start.spec.parse.as_deref()) {
        Ok(Some(s)) => Some(s),
        Ok(None) => None,
        Err(reason) => {
            if has_total_label {
                check_total_row(m, cells, dc, report, prov.row);
                return Ok(RowOutcome::Skipped(SkipReason::TotalRow));
            }
            return Ok(RowOutcome::Rejected(problem(
                &m.bucket_start,
                &start_cell,
                format!("unparseable date: {reason}"),
            )));
        }
    };
    if start.is_none() && has_total_label {
        check_total_row(m, cells, dc, report, prov.row);
        return Ok(RowOutcome::Skipped(SkipReason::TotalRow));
    }

    // Quantities.
    let values = (|| -> Result<(RowValues, bool), RowProblem> {
        let requests = count_field(m.requests.as_ref(), cells, dc, "requests")?;
        let input = count_field(m.input_tokens.as_ref(), cells, dc, "tokens")?;
        let cached = count_field(m.cached_input_tokens.as_ref(), cells, dc, "tokens")?;
        let output = count_field(m.output_tokens.as_ref(), cells, dc, "tokens")?;
        let cost = match m.cost.as_ref() {
            None => None,
            Some(b) => {
                let cell = first_cell(b, cells);
                parse::money(&cell, dc).map_err(|reason| problem(b, &cell, reason))?
            }
        };
        let any = requests.is_some()
            || input.is_some()
            || cached.is_some()
            || output.is_some()
            || cost.is_some();
        let currency = text_field(m.currency.as_ref(), cells)
            .unwrap_or_else(|| "USD".to_string())
            .to_uppercase();
        Ok((
            RowValues {
                requests: requests.unwrap_or(0),
                input_tokens: input.unwrap_or(0),
                cached_input_tokens: cached.unwrap_or(0),
                output_tokens: output.unwrap_or(0),
                cost,
                currency,
            },
            any,
        ))
    })();
    let (values, any_quantity) = match values {
        Ok(v) => v,
        Err(p) => return Ok(RowOutcome::Rejected(p)),
    };
    let model = text_field(Some(&m.model), cells);
    let Some(start) = start else {
        if model.is_none() && !any_quantity {
            return Ok(RowOutcome::Skipped(SkipReason::Blank));
        }
        return Ok(RowOutcome::Rejected(problem(
            &m.bucket_start,
            &start_cell,
            "missing date: every usage row needs its bucket date".into(),
        )));
    };
    if model.is_none() && !any_quantity {
        return Ok(RowOutcome::Skipped(SkipReason::EmptyBucket));
    }
    let Some(model) = model else {
        return Ok(RowOutcome::Rejected(problem(
            &m.model,
            &first_cell(&m.model, cells),
            "missing model: the row has usage but no model name".into(),
        )));
    };
    if values.cached_input_tokens > values.input_tokens {
        let b = m.cached_input_tokens.as_ref().unwrap_or(&m.model);
        return Ok(RowOutcome::Rejected(RowProblem {
            column: Some(b.column_label()),
            value: Some(values.cached_input_tokens.to_string()),
            reason: format!(
                "cached input tokens ({}) exceed the input tokens ({}) on the same row",
                values.cached_input_tokens, values.input_tokens
            ),
        }));
    }
    let end = match bucket_end(m, cells, start) {
        Ok(e) => e,
        Err(p) => return Ok(RowOutcome::Rejected(p)),
    };

    // A valid row: control totals, dates, period.
    report.read_totals.add(&values)?;
    let date = start.at.date_naive();
    report.first_date = Some(report.first_date.map_or(date, |d| d.min(date)));
    report.last_date = Some(report.last_date.map_or(date, |d| d.max(date)));
    if !period.contains(date) {
        return Ok(RowOutcome::Outside);
    }
    report.accepted_totals.add(&values)?;
    Ok(RowOutcome::Accepted(Box::new(UsageRecord {
        bucket_start: start.at,
        bucket_end: end,
        provider: Arc::from(m.template.provider.as_str()),
        model,
        region: text_field(m.region.as_ref(), cells),
        cost_centre: text_field(m.cost_centre.as_ref(), cells),
        requests: values.requests,
        input_tokens: values.input_tokens,
        cached_input_tokens: values.cached_input_tokens,
        output_tokens: values.output_tokens,
        cost: values.cost,
        currency: values.cost.map(|_| values.currency.clone()),
        provenance: prov,
    })))
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
        Err(reason) => Err(problem(b, &cell, format!("unparseable date: {reason}"))),
    }
}

/// Compares a vendor total row with the sum of the valid rows above it; notes a mismatch.
fn check_total_row(m: &Mapping, cells: &dyn RowCells, dc: bool, report: &mut FileReport, row: u64) {
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
        if let Ok(Some(stated)) = count_field(b, cells, dc, "tokens") {
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
    report.notes.extend(notes);
}
