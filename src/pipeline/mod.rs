//! The one pipeline every front end calls: inputs + config -> [`Outcome`].
//!
//! Files are read in sorted path order and streamed through normalise into the aggregator;
//! nothing is written here. On the command line a file that cannot be used stops the run (fail
//! closed, exit 3) so that a report never silently lacks a file; the upload page uses the same
//! function ([`run_checked`]) to list every unusable file with its reason and, when the user
//! asks, report from the rest. Stateless runs refuse the same file twice and
//! overlapping exports of one format, which would double-count.

pub mod comparative;
pub mod entities;
pub mod finality;
pub mod trend;
pub mod warnings;

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::aggregate::{Aggregator, Summary};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ingest;
use crate::model::SinkStop;
use crate::model::{Period, Rejection};
use crate::normalise::{read_export, FileRead, FileReport, FileToRead};

impl Outcome {
    /// The outcome with the configuration's what-if scenarios evaluated against its lines.
    fn with_levers(mut self, cfg: &Config) -> Outcome {
        self.what_if =
            crate::aggregate::what_if::evaluate(&self.summary, &cfg.factors, &cfg.what_if);
        self.training =
            crate::aggregate::training::training(&self.summary, &cfg.factors, cfg.include_training);
        self
    }

    /// The outcome with its warnings assessed.
    fn assessed(mut self) -> Outcome {
        self.warnings = warnings::assess(&self);
        self
    }

    /// Sets the preparer's commentary (`report --note`) and assesses the warnings again, so
    /// that a commentary longer than a spreadsheet cell holds is named by the `text_cut`
    /// warning. Call it before adding warnings of your own (`gaps_accepted`): they are
    /// replaced.
    pub fn set_note(&mut self, note: Option<String>) {
        self.note = note;
        self.warnings = warnings::assess(self);
    }

    /// True when no usage row falls in the period.
    pub fn no_usage(&self) -> bool {
        warnings::no_usage(self)
    }
}

/// One input file: its path and the name used in reports (the path as given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// Where to read it.
    pub path: PathBuf,
    /// How reports name it.
    pub name: String,
}

/// Everything a report is made from.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The period reported.
    pub period: Period,
    /// Factor set version.
    pub factor_version: String,
    /// Factor set SHA-256.
    pub factor_sha256: String,
    /// Per-file facts and row accounting, in input order.
    pub files: Vec<FileReport>,
    /// Entries in the named folders that were not read, with the reason.
    pub skipped_inputs: Vec<ingest::SkippedInput>,
    /// Every rejected row.
    pub rejections: Vec<Rejection>,
    /// Lines and totals.
    pub summary: Summary,
    /// Generated-at of the outputs.
    pub generated_at: DateTime<Utc>,
    /// Reporting entity.
    pub entity: String,
    /// What the ledger adds (comparative period, change log), when the report used one.
    pub ledger: Option<LedgerView>,
    /// Usage left out by the configuration's exclusions.
    pub excluded: Vec<ExcludedLine>,
    /// First month of the fiscal year (quarters follow it).
    pub fiscal_year_start_month: u32,
    /// Every gap a reader must not miss ([`warnings::assess`]), shown wherever the total is.
    pub warnings: Vec<warnings::Warning>,
    /// The config file used, what it set and what that changed.
    pub config: crate::config::ConfigReport,
    /// Spend in the reporting currency the config file sets (`None` when it sets none).
    pub reporting: Option<crate::aggregate::currency::ReportingSpend>,
    /// The preparer's commentary (`report --note`), shown on the Cover and in the JSON.
    pub note: Option<String>,
    /// An earlier JSON summary giving the N-1 figures of a run without a ledger
    /// (`report --prior`; see [`comparative::of`]).
    pub prior: Option<comparative::Prior>,
    /// The what-if scenarios of the configuration and the command line, evaluated.
    pub what_if: Vec<crate::aggregate::what_if::Outcome>,
    /// The amortised training share (Training sheet), and whether the configuration adds it
    /// to the reported figure (`[boundary] include_training`).
    pub training: crate::aggregate::training::Training,
    /// Which reporting entities the report covers, when the ledger holds entities or the
    /// report asked for the group (`None`: every record, as before entities existed).
    pub entity_scope: Option<entities::EntityScope>,
}

/// The ledger's part of a report.
#[derive(Debug, Clone)]
pub struct LedgerView {
    /// The ledger as shown: its file's path, or its PostgreSQL URL without the password.
    pub path: String,
    /// The same period a year earlier, and its totals, when the ledger holds data for it.
    pub comparative: Option<(Period, crate::aggregate::Totals)>,
    /// Restatements, removed and replaced imports.
    pub changes: Vec<crate::ledger::Change>,
    /// The last `report --final` statement of this period, if any.
    pub previous_statement: Option<crate::ledger::Statement>,
    /// The imports in use now.
    pub active_imports: std::collections::BTreeSet<i64>,
    /// The final statement this report records (`report --final`), numbered by the ledger:
    /// set by the command just before the outputs are written, so that they say Final.
    pub recording: Option<crate::ledger::Statement>,
    /// The fiscal year of the period quarter by quarter, with the year to date (Trend sheet).
    pub trend: Option<trend::Trend>,
    /// The audit log (who imported, removed, stated final, signed in ...), oldest first: its
    /// last [`AUDIT_SHOWN`] entries, and whether earlier ones were left out (Change Log sheet).
    pub audit: Vec<crate::ledger::AuditEntry>,
    /// True when the audit log holds more entries than `audit`.
    pub audit_cut: bool,
}

/// The most audit-log entries a report's Change Log shows (the latest); `llm-scope3 audit
/// list` shows them all.
pub const AUDIT_SHOWN: usize = 10_000;

/// Expands files and folders from the command line into inputs, sorted by path, and the
/// entries of the folders that are not read, with the reason (see [`ingest::expand_inputs`]).
pub fn inputs_from_paths(paths: &[PathBuf]) -> Result<(Vec<Input>, Vec<ingest::SkippedInput>)> {
    let expanded = ingest::expand_inputs(paths).map_err(|e| Error::Input(e.into()))?;
    let inputs = expanded
        .files
        .into_iter()
        .map(|p| Input {
            name: p.display().to_string(),
            path: p,
        })
        .collect();
    Ok((inputs, expanded.skipped))
}

/// What to do when a file cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUnusable {
    /// Stop at the first such file (the command line: fail closed, exit 3).
    Stop,
    /// Note it with its reason and go on with the other files (the upload page, which shows
    /// every file's reason and reports from the rest only when the user asks).
    Collect,
}

/// A file that could not be used, with the error that says why.
#[derive(Debug)]
pub struct Unusable {
    /// Its position in the inputs given.
    pub index: usize,
    /// The file as named.
    pub name: String,
    /// Why (its message names the file).
    pub error: Error,
}

/// What [`run_checked`] found: the outcome over the usable files (none when no file was
/// usable) and the files that could not be used, in input order.
#[derive(Debug)]
pub struct Checked {
    /// The outcome over the usable files.
    pub outcome: Option<Outcome>,
    /// Files that could not be used.
    pub unusable: Vec<Unusable>,
}

/// Runs ingest, normalise, estimate and aggregate over `inputs` (fail closed: the first file
/// that cannot be used is the error).
pub fn run(
    inputs: &[Input],
    skipped_inputs: Vec<ingest::SkippedInput>,
    cfg: &Config,
) -> Result<Outcome> {
    let mut checked = run_checked(inputs, skipped_inputs, cfg, OnUnusable::Stop)?;
    if !checked.unusable.is_empty() {
        return Err(checked.unusable.remove(0).error);
    }
    checked
        .outcome
        .ok_or_else(|| Error::Internal("pipeline: no outcome and no unusable file".into()))
}

/// The one pipeline function: checks every file as it is read and, with
/// [`OnUnusable::Collect`], leaves out each file that cannot be used (unknown format,
/// unreadable, unsettled dates ...) with its reason, then reports from the others. Errors that
/// concern the inputs together (the same file twice, overlapping exports, no input) are the
/// `Err`.
///
/// A file's records stream into the aggregator as it is read, so when a file fails part-way the
/// run starts again without it: the cost is paid only when a file is unusable.
pub fn run_checked(
    inputs: &[Input],
    skipped_inputs: Vec<ingest::SkippedInput>,
    cfg: &Config,
    on_unusable: OnUnusable,
) -> Result<Checked> {
    if inputs.is_empty() {
        return Err(Error::InputData(
            "no export files to read: name CSV or XLSX files, or folders that hold them".into(),
        ));
    }
    // Positions (in `inputs`) of the files still in the run.
    let mut usable: Vec<usize> = (0..inputs.len()).collect();
    let mut unusable = Vec::new();
    loop {
        let run_inputs: Vec<&Input> = usable.iter().map(|&i| &inputs[i]).collect();
        match run_once(&run_inputs, cfg) {
            Ok(mut outcome) => {
                outcome.skipped_inputs = skipped_inputs;
                unusable.sort_by_key(|u: &Unusable| u.index);
                return Ok(Checked {
                    outcome: Some(outcome),
                    unusable,
                });
            }
            Err(RunError::Run(e)) => return Err(e),
            Err(RunError::File(at, error)) => {
                let index = usable.remove(at);
                unusable.push(Unusable {
                    index,
                    name: inputs[index].name.clone(),
                    error,
                });
                if on_unusable == OnUnusable::Stop || usable.is_empty() {
                    unusable.sort_by_key(|u: &Unusable| u.index);
                    return Ok(Checked {
                        outcome: None,
                        unusable,
                    });
                }
            }
        }
    }
}

/// Why [`run_once`] stopped: one file (by its position in the run) or the run as a whole.
enum RunError {
    File(usize, Error),
    Run(Error),
}

fn run_once(inputs: &[&Input], cfg: &Config) -> std::result::Result<Outcome, RunError> {
    let mut agg = Aggregator::with_limit(cfg.max_lines);
    let mut excluded = Excluded::default();
    let mut applied = Applied::new(cfg);
    let mut files = Vec::with_capacity(inputs.len());
    let mut rejections = Vec::new();
    let mut carbon = Vec::new();
    // Counts of all files so far, checked as each record arrives, so that a total past 64 bits
    // names the file that pushed it over (the aggregator's own checked sums come later).
    let mut running = RunningCounts::default();
    for (index, input) in inputs.iter().enumerate() {
        let mut excluded_here = 0u64;
        let mut excluded_money = std::collections::BTreeMap::<String, f64>::new();
        // A record that cannot be used, or one line too many, stops the file's reading there.
        let mut sink = |mut r: crate::model::UsageRecord| -> std::result::Result<(), SinkStop> {
            if let Some(e) = applied.apply(cfg, &mut r)? {
                excluded.add(&r, &e.reason);
                excluded_here += 1;
                if let (Some(c), Some(cur)) = (r.cost, &r.currency) {
                    *excluded_money.entry(cur.clone()).or_insert(0.0) += c;
                }
                return Ok(());
            }
            running.add(&r)?;
            agg.add(&r)
        };
        let file = FileToRead {
            path: &input.path,
            name: &input.name,
            file_index: index,
            templates: &cfg.templates,
            period: &cfg.period,
            record_keys: false,
            progress: cfg.progress,
        };
        let mut report = match read_export(file, &mut sink, &mut rejections) {
            Ok(FileRead::Usage(r)) => r,
            Ok(FileRead::Carbon(c)) => {
                files.push(c.report);
                rejections.extend(c.rejections);
                carbon.extend(c.rows);
                continue;
            }
            Err(e) => return Err(RunError::File(index, e.into())),
        };
        report.counts.accepted -= excluded_here;
        report.counts.excluded += excluded_here;
        move_excluded_money(&mut report, &excluded_money);
        files.push(report);
    }
    check_duplicates(&files).map_err(RunError::Run)?;
    let mut summary = agg
        .finish(&cfg.factors, &carbon)
        .map_err(|e| RunError::Run(Error::InputData(format!("the inputs together: {e}"))))?;
    let config = applied
        .report(cfg)
        .map_err(|e| RunError::Run(Error::InputData(format!("the usage excluded: {e}"))))?;
    let reporting = reporting_spend(cfg, &mut summary, &files);
    Ok(Outcome {
        period: cfg.period.clone(),
        factor_version: cfg.factors.version.clone(),
        factor_sha256: cfg.factors.sha256.clone(),
        files,
        skipped_inputs: vec![],
        rejections,
        summary,
        generated_at: cfg.generated_at,
        entity: cfg.entity.clone(),
        ledger: None,
        excluded: excluded.lines(),
        fiscal_year_start_month: cfg.fiscal_year_start_month,
        warnings: vec![],
        config,
        reporting,
        note: None,
        prior: None,
        what_if: vec![],
        training: Default::default(),
        entity_scope: None,
    }
    .with_levers(cfg)
    .assessed())
}

/// How the records of a file imported into a ledger are assigned to reporting entities: the
/// one named for the whole file (`import --entity NAME`), else the config file's
/// `[[entities]]` rules record by record, else none.
#[derive(Debug, Clone, Copy, Default)]
pub struct Assign<'a> {
    /// The entity of every record of the file.
    pub entity: Option<&'a str>,
    /// The rules, for a file without one.
    pub rules: Option<&'a crate::config::EntityRules>,
}

impl Assign<'_> {
    /// The entity of a record.
    fn record(&self, r: &crate::model::UsageRecord) -> Option<&str> {
        match (self.entity, self.rules) {
            (Some(e), _) => Some(e),
            (None, Some(rules)) => {
                rules.entity_of(&r.provider, r.account.as_deref(), r.cost_centre.as_deref())
            }
            (None, None) => None,
        }
    }

    /// The entity of each row of a vendor carbon report (its account, and its sub-account as
    /// the cost centre).
    fn carbon(&self, rows: &[crate::model::CarbonRow]) -> Vec<Option<String>> {
        rows.iter()
            .map(|r| match (self.entity, self.rules) {
                (Some(e), _) => Some(e.to_string()),
                (None, Some(rules)) => rules
                    .entity_of(&r.provider, r.account.as_deref(), r.sub_account.as_deref())
                    .map(str::to_string),
                (None, None) => None,
            })
            .collect()
    }
}

/// Imports one file into the ledger: a quick look for its bytes first (nothing read when
/// they are imported already), then the whole file read (all its dates, records with their
/// keys), each record handed to the ledger as it comes (written in batches inside the
/// import's transaction, never held together: memory does not grow with the file), which
/// checks the bytes again under its write lock.
pub fn import_file(
    ledger: &mut crate::ledger::Ledger,
    input: &Input,
    templates: &crate::normalise::TemplateSet,
    replace: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
    progress: crate::ingest::Progress,
) -> std::result::Result<crate::ledger::ImportResult, crate::ledger::LedgerError> {
    import_file_as(
        ledger,
        input,
        templates,
        replace,
        now,
        progress,
        Assign::default(),
    )
}

/// [`import_file`], each record assigned to a reporting entity by `assign`.
pub fn import_file_as(
    ledger: &mut crate::ledger::Ledger,
    input: &Input,
    templates: &crate::normalise::TemplateSet,
    replace: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
    progress: crate::ingest::Progress,
    assign: Assign<'_>,
) -> std::result::Result<crate::ledger::ImportResult, crate::ledger::LedgerError> {
    use crate::ledger::{ImportEnd, ImportResult};
    let sha = crate::ingest::sha256_file(&input.path).map_err(|source| {
        crate::normalise::NormaliseError::Ingest(crate::ingest::IngestError::Io {
            file: input.name.clone(),
            source,
        })
    })?;
    if let Some(s) = ledger.imported(&sha)? {
        return Ok(ImportResult::AlreadyImported(s));
    }
    let all_time = Period::all_time();
    let file = FileToRead {
        path: &input.path,
        name: &input.name,
        file_index: 0,
        templates,
        period: &all_time,
        record_keys: true,
        progress,
    };
    // The records go to the ledger as they are read, never held together.
    let mut importing = ledger
        .importing(&input.name, replace, now)
        .for_entity(assign.entity);
    importing.sha = sha;
    let mut failed: Option<crate::ledger::LedgerError> = None;
    let mut rejections = vec![];
    let read = {
        let mut sink = |r: crate::model::UsageRecord| {
            let entity = assign.record(&r);
            let added = importing.add_for(r, entity);
            match added {
                Err(e) => {
                    let msg = e.to_string();
                    failed = Some(e);
                    Err(crate::model::SinkStop::Failed(msg))
                }
                Ok(()) if importing.already_imported().is_some() => {
                    Err(crate::model::SinkStop::Failed("already imported".into()))
                }
                Ok(()) => Ok(()),
            }
        };
        read_export(file, &mut sink, &mut rejections)
    };
    if let Some(e) = failed {
        return Err(e);
    }
    if let Some(id) = importing.already_imported() {
        drop(importing);
        return Ok(ImportResult::AlreadyImported(ledger.summary(id)?));
    }
    let end = match read? {
        FileRead::Usage(report) => ImportEnd::Usage { report, rejections },
        FileRead::Carbon(c) => {
            let entities = assign.carbon(&c.rows);
            ImportEnd::Carbon(c, entities)
        }
    };
    importing.finish(end)
}

/// Moves the money of rows the configuration excluded from accepted to excluded.
fn move_excluded_money(
    report: &mut FileReport,
    excluded: &std::collections::BTreeMap<String, f64>,
) {
    for (currency, amount) in excluded {
        let b = report.money.entry(currency.clone()).or_default();
        b.accepted -= amount;
        b.excluded += amount;
    }
}

/// Usage left out by the configuration, grouped by reason, provider, model and cost centre.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExcludedLine {
    /// Why.
    pub reason: String,
    /// Provider key.
    pub provider: String,
    /// Model as exported.
    pub model: String,
    /// Cost centre as exported.
    pub cost_centre: Option<String>,
    /// Rows.
    pub rows: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Spend per currency.
    pub spend: std::collections::BTreeMap<String, f64>,
}

/// The configuration applied record by record, with what it did: records given a region or
/// a cost centre, and per exclusion the records left out, aggregated to estimate them.
struct Applied {
    counts: crate::config::Applied,
    excluded: Vec<(u64, Aggregator)>,
}

impl Applied {
    fn new(cfg: &Config) -> Applied {
        Applied {
            counts: Default::default(),
            excluded: cfg
                .exclusions
                .iter()
                .map(|_| (0, Aggregator::with_limit(cfg.max_lines)))
                .collect(),
        }
    }

    /// Applies `cfg` to a record: the exclusion that leaves it out (counted and aggregated
    /// here), or `None` to keep it.
    fn apply<'c>(
        &mut self,
        cfg: &'c Config,
        r: &mut crate::model::UsageRecord,
    ) -> std::result::Result<Option<&'c crate::config::Exclusion>, SinkStop> {
        let Some(e) = cfg.apply(r, &mut self.counts) else {
            return Ok(None);
        };
        if let Some((rows, agg)) = self.excluded.get_mut(e.index) {
            *rows += 1;
            agg.add(r)?;
        }
        Ok(Some(e))
    }

    /// The configuration's report: what it set, with the counts and the estimate of what
    /// each exclusion left out.
    fn report(
        self,
        cfg: &Config,
    ) -> std::result::Result<crate::config::ConfigReport, crate::aggregate::AggregateError> {
        let mut excluded = Vec::with_capacity(self.excluded.len());
        for (rows, agg) in self.excluded {
            let kg = if rows == 0 {
                crate::model::Bounds::default()
            } else {
                agg.finish(&cfg.factors, &[])?.totals.emissions_kgco2e
            };
            excluded.push((rows, kg));
        }
        Ok(cfg.settings.with_counts(&self.counts, &excluded))
    }
}

#[derive(Debug, Default)]
struct Excluded(std::collections::BTreeMap<(String, String, String, Option<String>), ExcludedLine>);

impl Excluded {
    fn add(&mut self, r: &crate::model::UsageRecord, reason: &str) {
        let key = (
            reason.to_string(),
            r.provider.to_string(),
            r.model.clone(),
            r.cost_centre.clone(),
        );
        let e = self.0.entry(key).or_insert_with(|| ExcludedLine {
            reason: reason.to_string(),
            provider: r.provider.to_string(),
            model: r.model.clone(),
            cost_centre: r.cost_centre.clone(),
            rows: 0,
            input_tokens: 0,
            output_tokens: 0,
            spend: Default::default(),
        });
        e.rows += 1;
        e.input_tokens = e.input_tokens.saturating_add(r.input_tokens);
        e.output_tokens = e.output_tokens.saturating_add(r.output_tokens);
        if let (Some(c), Some(cur)) = (r.cost, &r.currency) {
            *e.spend.entry(cur.clone()).or_insert(0.0) += c;
        }
    }

    fn lines(self) -> Vec<ExcludedLine> {
        self.0.into_values().collect()
    }
}

/// The same period one year earlier (N-1).
pub fn previous_year(p: &Period) -> Option<Period> {
    use chrono::Months;
    Some(Period {
        start: p.start.checked_sub_months(Months::new(12))?,
        end: p.end.checked_sub_months(Months::new(12))?,
        label: format!("{} (N-1)", p.label),
    })
}

/// What [`aggregate_ledger`] returns.
type LedgerAggregate = (
    Summary,
    Vec<i64>,
    usize,
    Vec<ExcludedLine>,
    Vec<ExcludedHere>,
    crate::config::ConfigReport,
);

/// Records and money per currency that the configuration excluded from one import.
type ExcludedHere = (u64, std::collections::BTreeMap<String, f64>);

/// Aggregates the ledger's active records of a period; returns the summary, the imports used
/// (index = file_index), the number of records, exclusions, excluded records per import and
/// the configuration's report.
fn aggregate_ledger(
    ledger: &crate::ledger::Ledger,
    period: &Period,
    cfg: &Config,
    entity: crate::ledger::EntityFilter<'_>,
) -> Result<LedgerAggregate> {
    let mut agg = Aggregator::with_limit(cfg.max_lines);
    let mut excluded = Excluded::default();
    let mut applied = Applied::new(cfg);
    // Per import, in the order the records name them (index = file_index).
    let mut excluded_per_import: Vec<ExcludedHere> = vec![];
    let mut n = 0usize;
    // The records are folded as the ledger reads them, never held together.
    let mut imports = ledger.each_record(period, entity, |mut r| -> Result<()> {
        n += 1;
        let exclusion = applied
            .apply(cfg, &mut r)
            .map_err(|e| Error::InputData(format!("the ledger's records excluded: {e}")))?;
        if let Some(e) = exclusion {
            excluded.add(&r, &e.reason);
            let index = r.provenance.file_index;
            if excluded_per_import.len() <= index {
                excluded_per_import.resize(index + 1, Default::default());
            }
            let (n, money) = &mut excluded_per_import[index];
            *n += 1;
            if let (Some(c), Some(cur)) = (r.cost, &r.currency) {
                *money.entry(cur.clone()).or_insert(0.0) += c;
            }
            return Ok(());
        }
        agg.add(&r)
            .map_err(|e| Error::InputData(format!("the ledger's records: {e}")))
    })??;
    excluded_per_import.resize(imports.len(), Default::default());
    let carbon = ledger.carbon_rows(period, entity, &mut imports)?;
    let summary = agg
        .finish(&cfg.factors, &carbon)
        .map_err(|e| Error::InputData(format!("the ledger's records: {e}")))?;
    let config = applied
        .report(cfg)
        .map_err(|e| Error::InputData(format!("the ledger's records excluded: {e}")))?;
    Ok((
        summary,
        imports,
        n,
        excluded.lines(),
        excluded_per_import,
        config,
    ))
}

/// Reports from the ledger: its active records in the period, recomputed with `cfg`'s factors;
/// those of one reporting entity, or the group with each entity's totals, as `cfg.scope` asks
/// ([`entities::resolve`]).
pub fn run_ledger(ledger: &crate::ledger::Ledger, cfg: &Config) -> Result<Outcome> {
    // One view of the ledger for the whole report: an import committing meanwhile is seen
    // entirely or not at all.
    let _view = ledger.snapshot()?;
    let resolved = entities::resolve(ledger, &cfg.scope)?;
    let filter = resolved.filter();
    let (mut summary, mut imports, _, excluded, excluded_per_import, config) =
        aggregate_ledger(ledger, &cfg.period, cfg, filter)?;
    // Imports that touch the period but have no active record in it (all duplicates) are
    // listed too, so the row accounting shows where their rows went (one entity's report:
    // those holding records of the entity).
    let (start, end) = (cfg.period.start.to_string(), cfg.period.end.to_string());
    let active_imports = ledger.active_imports_of(filter)?;
    for s in ledger.list()? {
        let touches = s.first_date.as_deref().is_some_and(|f| f <= end.as_str())
            && s.last_date.as_deref().is_some_and(|l| l >= start.as_str());
        if s.removed_at.is_none()
            && touches
            && !imports.contains(&s.id)
            && active_imports.contains(&s.id)
        {
            imports.push(s.id);
        }
    }
    let mut files = Vec::with_capacity(imports.len());
    let mut rejections = vec![];
    for (index, id) in imports.iter().enumerate() {
        let mut report = ledger.period_report(*id, &cfg.period, filter)?;
        report.file_index = index;
        if let Some((x, money)) = excluded_per_import.get(index) {
            report.counts.accepted -= x;
            report.counts.excluded += x;
            move_excluded_money(&mut report, money);
        }
        files.push(report);
        // Cut as a new import cuts them: a ledger written before rejections were cut may
        // hold a value whole.
        rejections.extend(ledger.details(*id)?.1.into_iter().map(Rejection::bounded));
    }
    let comparative = match previous_year(&cfg.period) {
        Some(p) => {
            let (s, _, n, _, _, _) = aggregate_ledger(ledger, &p, cfg, filter)?;
            (n > 0).then_some((p, s.totals))
        }
        None => None,
    };
    let entity_scope = entities::scope(ledger, cfg, &resolved)?;
    let mut audit = ledger.audit_log(Some(AUDIT_SHOWN + 1))?;
    let reporting = reporting_spend(cfg, &mut summary, &files);
    Ok(Outcome {
        period: cfg.period.clone(),
        factor_version: cfg.factors.version.clone(),
        factor_sha256: cfg.factors.sha256.clone(),
        files,
        skipped_inputs: vec![],
        rejections,
        summary,
        generated_at: cfg.generated_at,
        entity: cfg.entity.clone(),
        ledger: Some(LedgerView {
            path: ledger.shown().to_string(),
            comparative,
            changes: ledger.changes()?,
            previous_statement: ledger.last_statement_of(&cfg.period, filter_name(filter))?,
            active_imports,
            recording: None,
            trend: trend::of(ledger, cfg, filter)?,
            audit_cut: audit.len() > AUDIT_SHOWN,
            audit: audit.split_off(audit.len().saturating_sub(AUDIT_SHOWN)),
        }),
        excluded,
        fiscal_year_start_month: cfg.fiscal_year_start_month,
        warnings: vec![],
        config,
        reporting,
        note: None,
        prior: None,
        what_if: vec![],
        training: Default::default(),
        entity_scope,
    }
    .with_levers(cfg)
    .assessed())
}

/// The entity a final statement of this scope states: one entity's name, or `None` for the
/// whole ledger (the group).
fn filter_name(filter: crate::ledger::EntityFilter<'_>) -> Option<&str> {
    match filter {
        crate::ledger::EntityFilter::Named(n) => Some(n),
        _ => None,
    }
}

/// Spend in the config file's reporting currency, when it sets one (the exchange rates used
/// join the summary's factors).
fn reporting_spend(
    cfg: &Config,
    summary: &mut crate::aggregate::Summary,
    files: &[FileReport],
) -> Option<crate::aggregate::currency::ReportingSpend> {
    let to = cfg.settings.currency.as_deref()?;
    let spend: Vec<&std::collections::BTreeMap<String, f64>> =
        files.iter().map(|f| &f.accepted_totals.spend).collect();
    Some(crate::aggregate::currency::reporting_spend(
        &cfg.factors,
        to,
        summary,
        &spend,
        &cfg.period,
    ))
}

/// Refuses the same file twice and overlapping exports of one format (stateless runs).
fn check_duplicates(files: &[FileReport]) -> Result<()> {
    for (i, a) in files.iter().enumerate() {
        for b in &files[i + 1..] {
            if a.sha256 == b.sha256 {
                return Err(Error::InputData(format!(
                    "{} and {} are the same file (SHA-256 {}); reporting both would count its usage twice. Remove one.",
                    a.file, b.file, a.sha256
                )));
            }
            // Exports of different billing accounts cannot double-count each other.
            if a.format != b.format
                || (!a.accounts.is_empty()
                    && !b.accounts.is_empty()
                    && a.accounts.is_disjoint(&b.accounts))
            {
                continue;
            }
            if let (Some(a0), Some(a1), Some(b0), Some(b1)) =
                (a.first_date, a.last_date, b.first_date, b.last_date)
            {
                if a0 <= b1 && b0 <= a1 {
                    let (from, to) = (a0.max(b0), a1.min(b1));
                    return Err(Error::InputData(format!(
                        "{} and {} are both {} exports covering {from} to {to}; reporting both would count that usage twice. \
                         Export non-overlapping date ranges, or import them into a ledger, which resolves overlaps.",
                        a.file, b.file, a.format
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Running totals of the record counts over all inputs, added with checks.
#[derive(Default)]
struct RunningCounts([u64; 6]);

impl RunningCounts {
    fn add(&mut self, r: &crate::model::UsageRecord) -> std::result::Result<(), String> {
        let values = [
            (r.requests, "requests"),
            (r.input_tokens, "input tokens"),
            (r.cached_input_tokens, "cached input tokens"),
            (r.output_tokens, "output tokens"),
            (r.input_characters, "input characters"),
            (r.output_characters, "output characters"),
        ];
        for (total, (v, what)) in self.0.iter_mut().zip(values) {
            *total = total.checked_add(v).ok_or_else(|| {
                format!("with this file, the inputs' total of {what} overflows a 64-bit count")
            })?;
        }
        Ok(())
    }
}
