//! One report job, run on a blocking thread: the uploaded files through the same pipeline as
//! `llm-scope3 report` ([`pipeline::run_checked`]), then the same workbook and JSON builders.
//! Orchestration only, like `cmd/`: no figure is computed here.

use std::sync::Mutex;

use axum::http::StatusCode;
use serde::Serialize;

use super::upload::Upload;
use super::{ApiError, Options};
use crate::config::{Config, PeriodRequest};
use crate::ledger::{Actor, Ledger, Location};
use crate::model::Rejection;
use crate::normalise::FileReport;
use crate::pipeline::{self, Input, OnUnusable, Outcome};
use crate::report::{json, workbook};

/// Rejections shown per file in the API answer (all of them are in the workbook and JSON).
const FIRST_REJECTIONS: usize = 5;

/// What the page shows for one uploaded file.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FileJson {
    /// The name the browser sent (display only).
    pub file: String,
    /// False when the file cannot be used at all.
    pub usable: bool,
    /// Why not, in plain words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Detected format (`openai-usage` ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows that became records in the period.
    pub accepted: u64,
    /// Rows rejected with a reason.
    pub rejected: u64,
    /// Valid rows outside the period.
    pub outside_period: u64,
    /// Rows excluded by the configuration.
    pub excluded: u64,
    /// Rows the ledger already held.
    pub duplicate: u64,
    /// Blank, total and repeated-header rows.
    pub skipped: u64,
    /// Skipped rows by reason, in words.
    pub skipped_by: std::collections::BTreeMap<String, u64>,
    /// True when read = accepted + rejected + duplicate + outside + excluded + skipped.
    pub balanced: bool,
    /// Every outcome of the rows, as one line (`rows 12 = accepted 10 + ...`).
    pub accounting: String,
    /// The money of the rows by outcome, one line per currency.
    pub money: Vec<String>,
    /// The first rejections with their reasons.
    pub first_rejections: Vec<RejectionJson>,
}

/// One rejected row, as shown.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RejectionJson {
    sheet: Option<String>,
    row: u64,
    column: Option<String>,
    value: Option<String>,
    reason: String,
}

/// A finished job.
pub(crate) struct Done {
    /// The workbook.
    pub xlsx: Vec<u8>,
    /// The JSON summary, exactly as `report --json` writes it.
    pub json: String,
    /// Each uploaded file, in upload order.
    pub files: Vec<FileJson>,
    /// The period label (for download names).
    pub label: String,
    /// How the period was chosen when the upload named none.
    pub period_chosen: Option<String>,
}

/// Builds the report of an upload, or says per file why it cannot. With a ledger, the
/// imports are audited as `actor`'s.
pub(crate) fn run(
    up: &Upload,
    opts: &Options,
    ledger_lock: &Mutex<()>,
    actor: Actor,
) -> Result<Done, ApiError> {
    let form = &up.form;
    if up.files.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "no files: add one or more usage exports (form field 'files')",
        ));
    }
    let quarter = form
        .quarter
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty() && !q.eq_ignore_ascii_case("auto"));
    let year = form
        .year
        .as_deref()
        .map(str::trim)
        .filter(|y| !y.is_empty());
    if quarter.is_some() && year.is_some() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "choose a quarter or a year, not both",
        ));
    }
    // No period named: the quarter most of the uploaded usage rows fall in.
    let (quarter, period_chosen) = match (quarter, year) {
        (None, None) => {
            let (q, why) = quarter_from_files(&up.files, opts)?;
            (Some(q), Some(why))
        }
        (q, _) => (q.map(str::to_string), None),
    };
    let period = PeriodRequest {
        quarter,
        year: year.map(str::to_string),
        ..PeriodRequest::default()
    };
    let entity = form.entity.as_deref().map(|e| {
        e.chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect::<String>()
    });
    let entity = entity.filter(|e| !e.trim().is_empty());
    let mut cfg = Config::new(&period, &opts.read, None, entity.as_deref())?;
    if let Some(spec) = &form.what_if {
        let lever = crate::aggregate::what_if::Lever::parse(spec)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("The {e}")))?;
        cfg.what_if.push((spec.clone(), lever));
    }
    if entity.is_none() && cfg.settings.entity.is_none() {
        cfg.entity =
            "(reporting entity not set: fill in \"Reporting entity\" on the upload page)".into();
    }

    // An unusable earlier summary is refused before any file is read (as `report --prior`).
    let prior = form
        .prior
        .as_ref()
        .map(|(path, shown)| {
            crate::pipeline::comparative::Prior::read_named(
                path,
                shown,
                &format!("The earlier JSON summary {shown}"),
                &cfg.period,
            )
        })
        .transpose()?;
    let (outcome, files) = match &opts.ledger {
        None => stateless(&up.files, &cfg, form.leave_out_unusable)?,
        Some(path) => with_ledger(
            &up.files,
            &cfg,
            form.leave_out_unusable,
            path,
            ledger_lock,
            opts,
            actor,
        )?,
    };
    let mut outcome = outcome;
    outcome.set_note(form.note.clone());
    outcome.prior = prior;
    Ok(Done {
        files,
        ..finish(outcome, &cfg, period_chosen)?
    })
}

/// The fiscal quarter most usage rows of the upload fall in (the latest of equals), and a
/// sentence saying so. Files that cannot be used are left out here; the report names them.
fn quarter_from_files(inputs: &[Input], opts: &Options) -> Result<(String, String), ApiError> {
    let all_time = PeriodRequest::range("2000-01-01", "2100-12-31");
    let cfg = Config::new(&all_time, &opts.read, None, None)?;
    let checked = pipeline::run_checked(inputs, vec![], &cfg, OnUnusable::Collect)?;
    let fiscal = cfg.fiscal_year_start_month;
    let rows = checked
        .outcome
        .as_ref()
        .map(pipeline::warnings::usage_rows_by_quarter)
        .unwrap_or_default();
    let total: u64 = rows.values().sum();
    let best = checked
        .outcome
        .as_ref()
        .and_then(pipeline::warnings::busiest_quarter);
    match best {
        Some((q, n)) => {
            let q = &q;
            let others = if rows.len() > 1 {
                let list: Vec<String> = rows
                    .iter()
                    .filter(|(k, _)| *k != q)
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect();
                format!(" Other quarters in the files: {}.", list.join(", "))
            } else {
                String::new()
            };
            Ok((
                q.clone(),
                format!(
                    "Quarter {q} chosen from the files: {n} of their {total} usage rows fall in it.{others}"
                ),
            ))
        }
        None => {
            // No usage row at all: the last full quarter by today's date; the report then
            // says there is no usage.
            let today = chrono::Utc::now().date_naive();
            let back = today
                .checked_sub_months(chrono::Months::new(3))
                .unwrap_or(today);
            let q = pipeline::warnings::quarter_of(back, fiscal);
            Ok((
                q.clone(),
                format!(
                    "No usage row in the files: quarter {q}, the last full quarter, was reported."
                ),
            ))
        }
    }
}

/// Without a ledger: one pipeline run over the upload, unusable files collected.
fn stateless(
    inputs: &[Input],
    cfg: &Config,
    leave_out: bool,
) -> Result<(Outcome, Vec<FileJson>), ApiError> {
    let checked = pipeline::run_checked(inputs, vec![], cfg, OnUnusable::Collect)?;
    let mut files = Vec::with_capacity(inputs.len());
    let mut usable = checked.outcome.as_ref().map(|o| o.files.iter());
    for (i, input) in inputs.iter().enumerate() {
        match checked.unusable.iter().find(|u| u.index == i) {
            Some(u) => files.push(unusable_json(&input.name, &u.error)),
            None => {
                let report = usable.as_mut().and_then(|it| it.next());
                let rejections = checked
                    .outcome
                    .as_ref()
                    .map_or(&[][..], |o| &o.rejections[..]);
                files.push(usable_json(&input.name, report, rejections));
            }
        }
    }
    let outcome = gate(checked.outcome, checked.unusable.len(), leave_out, &files)?;
    Ok((outcome, files))
}

/// With a ledger: each file is checked on its own first; only when the upload may go ahead
/// are the usable files imported (one transaction each) and the report made from the ledger.
fn with_ledger(
    inputs: &[Input],
    cfg: &Config,
    leave_out: bool,
    path: &std::path::Path,
    ledger_lock: &Mutex<()>,
    opts: &Options,
    actor: Actor,
) -> Result<(Outcome, Vec<FileJson>), ApiError> {
    let mut files = Vec::with_capacity(inputs.len());
    let mut usable = Vec::new();
    for input in inputs {
        let one = std::slice::from_ref(input);
        let checked = pipeline::run_checked(one, vec![], cfg, OnUnusable::Collect)?;
        match (checked.outcome, checked.unusable.into_iter().next()) {
            (Some(o), None) => {
                files.push(usable_json(&input.name, o.files.first(), &o.rejections));
                usable.push(input.clone());
            }
            (_, Some(u)) => files.push(unusable_json(&input.name, &u.error)),
            (None, None) => {
                return Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "pipeline: no outcome and no unusable file",
                ))
            }
        }
    }
    let unusable = inputs.len() - usable.len();
    gate(Some(()), unusable, leave_out, &files)?;
    let _guard = ledger_lock
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let busy = |e: crate::ledger::LedgerError| ApiError::from_error(e.into(), opts);
    let mut ledger = Ledger::open_at(&Location::parse(path.as_os_str())).map_err(busy)?;
    ledger.set_actor(actor);
    // At most `opts.ledger_wait` for another process writing the ledger (an import, a removal
    // or a final statement from the command line); past that, 503 with Retry-After. The
    // ledger itself waits up to [`crate::ledger::WAIT_LIMIT`] (10 minutes), too long to hold a
    // request; should another writer come in between this check and the import, that wait
    // applies and a timeout is 503 too (the conversion of `LedgerError::Busy`).
    if let Err(crate::ledger::LedgerError::Busy { .. }) = ledger.wait_for_writers(opts.ledger_wait)
    {
        return Err(super::ledger_busy(opts));
    }
    // The config file's [[entities]] rules give the records their reporting entities, as
    // `import` does; the page's "entity" names the Cover only.
    let assign = pipeline::Assign {
        entity: None,
        rules: (!cfg.entity_rules.is_empty()).then_some(&cfg.entity_rules),
    };
    for input in &usable {
        pipeline::import_file_as(
            &mut ledger,
            input,
            &cfg.templates,
            None,
            chrono::Utc::now(),
            crate::ingest::Progress::Hidden,
            assign,
        )
        .map_err(busy)?;
    }
    let outcome = pipeline::run_ledger(&ledger, cfg).map_err(|e| ApiError::from_error(e, opts))?;
    Ok((outcome, files))
}

/// Lets the report go ahead when every file is usable, or when the user asked to leave the
/// unusable ones out and some file is usable; otherwise 422 with each file's facts.
fn gate<T>(
    outcome: Option<T>,
    unusable: usize,
    leave_out: bool,
    files: &[FileJson],
) -> Result<T, ApiError> {
    let n = unusable;
    let message = match outcome {
        Some(o) if n == 0 || leave_out => return Ok(o),
        Some(_) => format!(
            "{n} of {} file(s) cannot be used (reasons per file below). Remove them, or tick \"leave out unusable files\" to report from the others.",
            files.len()
        ),
        None => format!(
            "no file can be used: {}",
            files
                .iter()
                .filter_map(|f| f.reason.as_deref())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    Err(ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        message,
        files: Some(files.to_vec()),
        retry_after: None,
    })
}

impl FileJson {
    /// A file with nothing read yet.
    fn named(name: &str, usable: bool) -> FileJson {
        FileJson {
            file: name.to_string(),
            usable,
            reason: None,
            format: None,
            rows_read: 0,
            accepted: 0,
            rejected: 0,
            outside_period: 0,
            excluded: 0,
            duplicate: 0,
            skipped: 0,
            skipped_by: Default::default(),
            balanced: true,
            accounting: String::new(),
            money: vec![],
            first_rejections: vec![],
        }
    }
}

fn unusable_json(name: &str, error: &crate::error::Error) -> FileJson {
    FileJson {
        reason: Some(super::page_words(&error.to_string())),
        ..FileJson::named(name, false)
    }
}

fn usable_json(name: &str, report: Option<&FileReport>, rejections: &[Rejection]) -> FileJson {
    let Some(r) = report else {
        return FileJson::named(name, true);
    };
    let c = &r.counts;
    FileJson {
        file: name.to_string(),
        usable: true,
        reason: None,
        format: Some(r.format.clone()),
        rows_read: c.read,
        accepted: c.accepted,
        rejected: c.rejected,
        outside_period: c.outside_period,
        excluded: c.excluded,
        duplicate: c.duplicate,
        skipped: c.skipped,
        skipped_by: r
            .skipped_by
            .iter()
            .map(|(k, v)| (k.label().to_string(), *v))
            .collect(),
        balanced: c.balanced(),
        accounting: crate::report::text::row_accounting(r),
        money: crate::report::text::money_lines(r),
        first_rejections: rejections
            .iter()
            .filter(|j| j.file == r.file)
            .take(FIRST_REJECTIONS)
            .map(|j| RejectionJson {
                sheet: j.sheet.clone(),
                row: j.row,
                column: j.column.clone(),
                value: j.value.clone(),
                reason: j.reason.clone(),
            })
            .collect(),
    }
}

/// A report from the ledger alone (`POST /api/ledger/report`), or a final statement of a
/// period (`POST /api/ledger/final`), as `report --quarter Q [--final]` makes them.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LedgerRequest {
    /// `2026Q1` (a fiscal quarter with a fiscal-year start in the configuration).
    pub quarter: Option<String>,
    /// `2026` (not with `quarter`).
    pub year: Option<String>,
    /// The reporting entity named on the Cover.
    pub entity: Option<String>,
    /// The preparer's commentary.
    pub note: Option<String>,
    /// Final only: why the period is stated although its coverage has gaps.
    pub accept_gaps: Option<String>,
}

/// Builds the report of a period from the ledger; with `final_`, records it as the period's
/// final statement (audited as `actor`'s) and the workbook says Final. Before any figure the
/// ledger gets its full check, as `report` does.
pub(crate) fn from_ledger(
    req: &LedgerRequest,
    final_: bool,
    opts: &Options,
    ledger_lock: &Mutex<()>,
    actor: Actor,
) -> Result<Done, ApiError> {
    let Some(path) = &opts.ledger else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "this server keeps no ledger: reports are made from uploaded files only (whoever runs it can add one with serve --ledger FILE)",
        ));
    };
    let pick = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (quarter, year) = (pick(&req.quarter), pick(&req.year));
    match (&quarter, &year) {
        (None, None) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "choose the reporting period: a quarter or a year",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "choose a quarter or a year, not both",
            ))
        }
        _ => {}
    }
    let period = PeriodRequest {
        quarter,
        year,
        ..PeriodRequest::default()
    };
    let entity = pick(&req.entity).map(|e| {
        e.chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect::<String>()
    });
    let mut cfg = Config::new(&period, &opts.read, None, entity.as_deref())?;
    if entity.is_none() && cfg.settings.entity.is_none() {
        cfg.entity =
            "(reporting entity not set: fill in \"Reporting entity\" on the upload page)".into();
    }
    let busy = |e: crate::ledger::LedgerError| ApiError::from_error(e.into(), opts);
    let mut ledger =
        Ledger::open_existing_at(&Location::parse(path.as_os_str())).map_err(|e| match e {
            crate::ledger::LedgerError::NotFound(_) => ApiError::new(
                StatusCode::NOT_FOUND,
                "the ledger holds nothing yet: upload exports first",
            ),
            e => busy(e),
        })?;
    ledger.set_actor(actor);
    let v = ledger.verify().map_err(busy)?;
    if !v.problems.is_empty() {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "the ledger's full check ({}) found damage, so no figure was computed: {}. Ask whoever keeps the ledger to restore it from a backup",
                v.checks,
                v.problems.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
            ),
        ));
    }
    let mut outcome =
        pipeline::run_ledger(&ledger, &cfg).map_err(|e| ApiError::from_error(e, opts))?;
    outcome.note = pick(&req.note).map(|n| n.chars().take(10_000).collect());
    if !final_ {
        return finish(outcome, &cfg, None);
    }
    if outcome.no_usage() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "nothing recorded: no usage in the ledger falls in {}, so the statement would be zero. Upload the period's exports first (if there truly was no AI use, whoever keeps the ledger can state a zero with llm-scope3 report --final --allow-empty)",
                outcome.period
            ),
        ));
    }
    crate::pipeline::finality::gate(&mut outcome, req.accept_gaps.as_deref())?;
    let mut statement = crate::pipeline::finality::statement(&outcome, req.accept_gaps.as_deref());
    let _guard = ledger_lock
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Err(crate::ledger::LedgerError::Busy { .. }) = ledger.wait_for_writers(opts.ledger_wait)
    {
        return Err(super::ledger_busy(opts));
    }
    let pending = ledger
        .begin_statement(&outcome.period, &statement)
        .map_err(busy)?;
    statement.id = pending.id();
    if let Some(view) = outcome.ledger.as_mut() {
        view.recording = Some(statement);
    }
    // The workbook naming the statement is built before it is committed: a failure records
    // nothing.
    let done = finish(outcome, &cfg, None)?;
    pending.commit().map_err(busy)?;
    Ok(done)
}

/// The workbook and JSON summary of an outcome.
fn finish(outcome: Outcome, cfg: &Config, period_chosen: Option<String>) -> Result<Done, ApiError> {
    let xlsx = workbook::build(&outcome, &cfg.factors)?;
    let json = json::to_string(&outcome).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("JSON summary: {e}"),
        )
    })?;
    Ok(Done {
        xlsx,
        json,
        files: vec![],
        label: outcome.period.label.clone(),
        period_chosen,
    })
}
