//! Aggregate: usage records -> calculation lines (per source file) and AI Services lines
//! (provider × model × region × month × cost centre), with totals.
//!
//! Streaming: [`Aggregator::add`] folds each record into its key as it arrives, so memory grows
//! with distinct keys, not rows. [`Aggregator::finish`] resolves factors once per distinct
//! provider × model × region × year and estimates each calculation line; AI Services lines and
//! totals are compensated sums of calculation lines, so every total is traceable to lines and
//! the lines to source rows. Pure: no I/O, no clock.

pub mod currency;
mod finish;
pub mod intensity;
pub mod per_request;
pub mod rows;
mod spend;
pub mod supplier;
pub mod training;
pub mod what_if;

use std::collections::BTreeMap;
use std::sync::Arc;

use std::hash::BuildHasher;

use chrono::Datelike;
use serde::Serialize;

use crate::estimate::{
    estimate, estimate_eeio, Activity, DataQuality, Estimate, FactorUse, LineFactors, Method,
};
use crate::factors::{FactorSet, GeoLevel};
use crate::model::{month_of, Bounds, RecordKind, SinkStop, TooManyLines, UsageRecord};

/// The AI Services grain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct LineKey {
    /// Provider key.
    pub provider: Arc<str>,
    /// Model id as exported.
    pub model: String,
    /// Region as exported (or mapped by the template).
    pub region: Option<String>,
    /// `global` / `datazone` deployments (served possibly outside `region`).
    pub region_scope: Option<String>,
    /// `YYYY-MM`.
    pub month: String,
    /// Cost centre.
    pub cost_centre: Option<String>,
    /// True for rows with requests but no tokens (tokens imputed).
    pub tokens_imputed: bool,
    /// Spend lines: `price inversion` or `EEIO` (METHODOLOGY §4); `None` for usage lines.
    pub spend: Option<String>,
    /// Billing account (vendor carbon data is matched on it).
    pub account: Option<String>,
    /// Vendor service (`vertex-ai`, `bedrock`).
    pub service: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct CalcKey {
    file_index: usize,
    sheet: Option<Arc<str>>,
    line: LineKey,
}

#[derive(Debug, Clone)]
struct Acc {
    file: Arc<str>,
    activity: Activity,
    spend: BTreeMap<String, f64>,
    first_row: u64,
    last_row: u64,
    rows: u64,
    /// The rows, as ranges.
    list: rows::RowList,
}

/// Folds usage records into calculation-line keys.
///
/// The lines are looked up by the record's borrowed fields (one hash per record, no string
/// copied): a key's strings are copied once, when the key is first seen.
#[derive(Default)]
pub struct Aggregator {
    calc: hashbrown::HashTable<CalcEntry>,
    hasher: hashbrown::DefaultHashBuilder,
    /// Days with usage per provider and (year, month): a short list, searched from the
    /// entry the last record used (records of a file mostly share provider and month).
    coverage: Vec<(CoverageKey, u32)>,
    not_estimated: BTreeMap<NotEstimatedKey, NotEstimatedAcc>,
    adjustments: BTreeMap<AdjustmentKey, (Arc<str>, u64, f64)>,
    /// The distinct-line limit and what it counts (none: no limit).
    limit: Option<Box<LineLimit>>,
    /// What is left of the report's budget of listed row ranges.
    row_budget: rows::Budget,
}

/// The fields whose distinct values are counted for the limit's message, in the order a tie
/// names them.
const COUNTED_FIELDS: [&str; 6] = [
    "cost_centre",
    "model",
    "account",
    "region",
    "service",
    "month",
];

/// Distinct lines counted as they are first seen, by their hashes (a 64-bit hash collision
/// could only undercount by one line: the limit is about memory, never about figures).
#[derive(Debug)]
struct LineLimit {
    max_lines: usize,
    /// Hashes of the distinct AI Services keys (calculation keys without the file).
    lines: hashbrown::HashSet<u64>,
    /// Hashes of the distinct values of each of [`COUNTED_FIELDS`].
    fields: [hashbrown::HashSet<u64>; 6],
    /// Files (and sheets) seen.
    files: hashbrown::HashSet<u64>,
    /// Calculation lines plus not-estimated items.
    calc_lines: usize,
}

impl LineLimit {
    /// Counts a key first seen; refuses it when it makes one line too many.
    fn admit(
        &mut self,
        hasher: &hashbrown::DefaultHashBuilder,
        file: (usize, Option<&str>),
        line: u64,
        values: [Option<&str>; 6],
    ) -> Result<(), SinkStop> {
        let new_line = !self.lines.contains(&line);
        let value_hashes = values.map(|v| hasher.hash_one(v));
        let file_hash = hasher.hash_one(file);
        let max_calc = self
            .max_lines
            .saturating_mul(crate::model::CALC_LINES_PER_LINE);
        if new_line && self.lines.len() >= self.max_lines {
            // The field with the most distinct values, this key's included.
            let mut best = (0, 0);
            for (i, (set, h)) in self.fields.iter().zip(value_hashes).enumerate() {
                let n = set.len() + usize::from(!set.contains(&h));
                if n > best.1 {
                    best = (i, n);
                }
            }
            return Err(SinkStop::TooManyLines(TooManyLines {
                what: "AI Services lines",
                limit: self.max_lines,
                field: COUNTED_FIELDS[best.0],
                distinct: best.1,
            }));
        }
        if self.calc_lines >= max_calc {
            return Err(SinkStop::TooManyLines(TooManyLines {
                what: "calculation lines (lines per file)",
                limit: max_calc,
                field: "file",
                distinct: self.files.len() + usize::from(!self.files.contains(&file_hash)),
            }));
        }
        self.lines.insert(line);
        for (set, h) in self.fields.iter_mut().zip(value_hashes) {
            set.insert(h);
        }
        self.files.insert(file_hash);
        self.calc_lines += 1;
        Ok(())
    }
}

impl std::fmt::Debug for Aggregator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aggregator")
            .field("lines", &self.calc.len())
            .finish_non_exhaustive()
    }
}

/// Provider and (year, month) of the coverage bits.
type CoverageKey = (Arc<str>, (i32, u32));

/// One calculation line being summed, with its month as numbers (for the lookup).
#[derive(Debug)]
struct CalcEntry {
    key: CalcKey,
    year_month: (i32, u32),
    acc: Acc,
}

/// The fields of a calculation-line key, borrowed (from a record or from a stored key).
type KeyParts<'a> = (
    usize,
    Option<&'a str>,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    (i32, u32),
    Option<&'a str>,
    bool,
    Option<&'a str>,
    Option<&'a str>,
);

fn record_parts(r: &UsageRecord, year_month: (i32, u32), imputed: bool) -> KeyParts<'_> {
    (
        r.provenance.file_index,
        r.provenance.sheet.as_deref(),
        &r.provider,
        &r.model,
        r.region.as_deref(),
        r.region_scope.as_deref(),
        year_month,
        r.cost_centre.as_deref(),
        imputed,
        r.account.as_deref(),
        r.service.as_deref(),
    )
}

fn entry_parts(e: &CalcEntry) -> KeyParts<'_> {
    let l = &e.key.line;
    (
        e.key.file_index,
        e.key.sheet.as_deref(),
        &l.provider,
        &l.model,
        l.region.as_deref(),
        l.region_scope.as_deref(),
        e.year_month,
        l.cost_centre.as_deref(),
        l.tokens_imputed,
        l.account.as_deref(),
        l.service.as_deref(),
    )
}

/// (file index, line type, currency).
type AdjustmentKey = (usize, String, String);

/// A billed item without an estimate, at the AI Services grain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct NotEstimatedKey {
    /// Provider key.
    pub provider: Arc<str>,
    /// What it is (provisioned throughput, caching storage ...).
    pub label: String,
    /// Model (or meter) as exported.
    pub model: String,
    /// Region.
    pub region: Option<String>,
    /// `YYYY-MM`.
    pub month: String,
    /// Cost centre.
    pub cost_centre: Option<String>,
    /// Unit of the quantity.
    pub unit: String,
    /// A cost-export row (see [`RecordKind::NotEstimated`]).
    pub spend_only: bool,
    /// The source file.
    pub file: String,
    /// Billing account.
    pub account: Option<String>,
    /// Vendor service.
    pub service: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct NotEstimatedAcc {
    quantity: f64,
    spend: BTreeMap<String, f64>,
    rows: u64,
    sources: BTreeMap<(String, Option<String>), SourceAcc>,
}

/// The rows of one source file (and sheet) of a line: first, last, how many, and which.
#[derive(Debug, Clone, Default)]
struct SourceAcc {
    first: u64,
    last: u64,
    count: u64,
    list: rows::RowList,
}

impl SourceAcc {
    fn into_ref(self, file: String, sheet: Option<String>) -> SourceRef {
        let mut list = self.list;
        list.settle();
        SourceRef {
            file,
            sheet,
            rows: [self.first, self.last],
            count: self.count,
            list,
        }
    }
}

/// A billed item listed with its quantity and spend, not estimated by the token method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotEstimatedLine {
    /// The key.
    pub key: NotEstimatedKey,
    /// Quantity in `key.unit`.
    pub quantity: f64,
    /// Spend per currency.
    pub spend: BTreeMap<String, f64>,
    /// Source rows.
    pub sources: Vec<SourceRef>,
}

/// Money-only rows of one file: tax, credits, refunds, fees (never activity).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdjustmentLine {
    /// The file.
    pub file: String,
    /// The line type as exported.
    pub label: String,
    /// Currency.
    pub currency: String,
    /// Rows.
    pub rows: u64,
    /// Amount (negative for credits and refunds).
    pub amount: f64,
}

/// A reference from a line to the source rows behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceRef {
    /// The file as named.
    pub file: String,
    /// The sheet, for spreadsheets.
    pub sheet: Option<String>,
    /// First and last source row.
    pub rows: [u64; 2],
    /// Number of source rows.
    pub count: u64,
    /// Which rows (`5-12,20,31-40`).
    pub list: rows::RowList,
}

/// What every line carries besides its key and sources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineBody {
    /// The factor set's model (`gpt-4o`, `class:mini`).
    pub model_key: String,
    /// GHG Protocol method.
    pub method: Method,
    /// Quantities.
    pub activity: Activity,
    /// Spend per currency.
    pub spend: BTreeMap<String, f64>,
    /// Energy, emissions, water.
    pub estimate: Estimate,
    /// Ids of the factors used (shared: one string per distinct id in a report).
    pub factor_ids: Vec<Arc<str>>,
    /// Data-quality indicators.
    pub dq: DataQuality,
    /// Fallbacks and remarks.
    pub flags: Vec<String>,
    /// The grid geography used.
    pub grid_geo: String,
    /// Its year.
    pub grid_year: i32,
    /// How far the grid lookup fell back.
    pub geo_level: GeoLevel,
    /// False for spend-based (EEIO) lines: no energy or water is estimated.
    pub energy_estimated: bool,
    /// A vendor carbon figure for the line's key: used (method supplier-specific) or shown
    /// beside the estimate.
    pub supplier: Option<supplier::SupplierUse>,
}

/// One calculation line: one AI Services key within one source file (and sheet).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalcLine {
    /// The key.
    pub key: LineKey,
    /// The source rows.
    pub source: SourceRef,
    /// Everything else.
    pub body: LineBody,
}

/// One AI Services line (sum of its calculation lines).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// The key.
    pub key: LineKey,
    /// Every source file and row range behind the line.
    pub sources: Vec<SourceRef>,
    /// Everything else.
    pub body: LineBody,
}

/// Totals of the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Quantities.
    pub activity: Activity,
    /// Imputed input tokens (not in `activity`).
    pub imputed_input_tokens: u64,
    /// Imputed output tokens.
    pub imputed_output_tokens: u64,
    /// Spend per currency.
    pub spend: BTreeMap<String, f64>,
    /// Facility energy, kWh.
    pub energy_kwh: Bounds,
    /// Emissions incl. embodied, kgCO2e.
    pub emissions_kgco2e: Bounds,
    /// Embodied share, kgCO2e.
    pub embodied_kgco2e: Bounds,
    /// Operational share, kgCO2e.
    pub operational_kgco2e: Bounds,
    /// Water, L.
    pub water_l: Bounds,
    /// Sensitivity: CFE-adjusted emissions (see [`Estimate::cfe_adjusted_kgco2e`]).
    pub cfe_adjusted_kgco2e: Bounds,
    /// Share of central emissions from supplier-specific data.
    pub primary_data_share: f64,
    /// Emissions-weighted data-quality score, `None` without emissions.
    pub data_quality_score: Option<f64>,
}

/// The aggregated result.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// The audit trail, sorted by file, sheet, key.
    pub calc_lines: Vec<CalcLine>,
    /// The AI Services lines, sorted by key.
    pub lines: Vec<Line>,
    /// Totals.
    pub totals: Totals,
    /// Every factor used, by id.
    pub factors: BTreeMap<String, FactorUse>,
    /// Billed items not estimated by the token method (listed, never dropped).
    pub not_estimated: Vec<NotEstimatedLine>,
    /// Money-only adjustments per file.
    pub adjustments: Vec<AdjustmentLine>,
    /// Sensitivity of the central total to each assumption: (assumption, total kgCO2e with
    /// that factor at its low value, total with it at its high value), all others central.
    pub sensitivity: Vec<(String, f64, f64)>,
    /// Days with usage data per provider and month: (provider, `YYYY-MM`, days).
    pub coverage: Vec<(String, String, u32)>,
    /// Vendor carbon figures at their matching key, and what became of each.
    pub supplier: Vec<supplier::SupplierLine>,
}

/// Neumaier-compensated sum, so totals do not depend on the order of files.
#[derive(Debug, Clone, Copy, Default)]
struct KSum {
    sum: f64,
    c: f64,
}

impl KSum {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.c += (self.sum - t) + x;
        } else {
            self.c += (x - t) + self.sum;
        }
        self.sum = t;
    }
    fn value(&self) -> f64 {
        self.sum + self.c
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct BSum([KSum; 3]);

impl BSum {
    fn add(&mut self, b: Bounds) {
        self.0[0].add(b.low);
        self.0[1].add(b.central);
        self.0[2].add(b.high);
    }
    fn value(&self) -> Bounds {
        Bounds {
            low: self.0[0].value(),
            central: self.0[1].value(),
            high: self.0[2].value(),
        }
    }
}

#[derive(Debug, Default)]
struct EstimateSum {
    imputed_in: u64,
    imputed_out: u64,
    it: BSum,
    fac: BSum,
    op: BSum,
    emb: BSum,
    co2: BSum,
    water: BSum,
    cfe: BSum,
}

impl EstimateSum {
    fn add(&mut self, e: &Estimate) {
        self.imputed_in = self.imputed_in.saturating_add(e.imputed_input_tokens);
        self.imputed_out = self.imputed_out.saturating_add(e.imputed_output_tokens);
        self.it.add(e.energy_it_kwh);
        self.fac.add(e.energy_kwh);
        self.op.add(e.operational_kgco2e);
        self.emb.add(e.embodied_kgco2e);
        self.co2.add(e.emissions_kgco2e);
        self.water.add(e.water_l);
        self.cfe.add(e.cfe_adjusted_kgco2e);
    }
    fn value(&self) -> Estimate {
        Estimate {
            imputed_input_tokens: self.imputed_in,
            imputed_output_tokens: self.imputed_out,
            energy_it_kwh: self.it.value(),
            energy_kwh: self.fac.value(),
            operational_kgco2e: self.op.value(),
            embodied_kgco2e: self.emb.value(),
            emissions_kgco2e: self.co2.value(),
            water_l: self.water.value(),
            cfe_adjusted_kgco2e: self.cfe.value(),
        }
    }
}

/// Why lines cannot be summed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregateError {
    /// A total passes a 64-bit count.
    #[error("the total of {what} overflows a 64-bit count")]
    Overflow {
        /// The quantity (`input tokens`).
        what: &'static str,
    },
}

impl From<AggregateError> for SinkStop {
    fn from(e: AggregateError) -> Self {
        SinkStop::Failed(e.to_string())
    }
}

fn add_activity(into: &mut Activity, a: &Activity) -> Result<(), AggregateError> {
    let add = |x: u64, y: u64, what: &'static str| {
        x.checked_add(y).ok_or(AggregateError::Overflow { what })
    };
    into.requests = add(into.requests, a.requests, "requests")?;
    into.requests_reported |= a.requests_reported;
    into.input_tokens = add(into.input_tokens, a.input_tokens, "input tokens")?;
    into.cached_input_tokens = add(
        into.cached_input_tokens,
        a.cached_input_tokens,
        "cached input tokens",
    )?;
    into.output_tokens = add(into.output_tokens, a.output_tokens, "output tokens")?;
    into.requests_without_tokens = add(
        into.requests_without_tokens,
        a.requests_without_tokens,
        "requests",
    )?;
    into.input_characters = add(
        into.input_characters,
        a.input_characters,
        "input characters",
    )?;
    into.output_characters = add(
        into.output_characters,
        a.output_characters,
        "output characters",
    )?;
    Ok(())
}

fn add_spend(into: &mut BTreeMap<String, f64>, from: &BTreeMap<String, f64>) {
    for (c, v) in from {
        *into.entry(c.clone()).or_insert(0.0) += v;
    }
}

impl Aggregator {
    /// A new, empty aggregator.
    pub fn new() -> Aggregator {
        Aggregator::default()
    }

    /// A new aggregator that refuses a record making more than `max_lines` distinct AI
    /// Services lines (or [`crate::model::CALC_LINES_PER_LINE`] times as many calculation
    /// lines), with [`SinkStop::TooManyLines`] naming the field with the most distinct values.
    pub fn with_limit(max_lines: usize) -> Aggregator {
        Aggregator {
            limit: Some(Box::new(LineLimit {
                max_lines,
                lines: Default::default(),
                fields: Default::default(),
                files: Default::default(),
                calc_lines: 0,
            })),
            ..Aggregator::default()
        }
    }

    /// Folds one record into its calculation line.
    ///
    /// Billed items without tokens are kept per source file, so that their spend lines trace
    /// back to one file each.
    pub fn add(&mut self, r: &UsageRecord) -> Result<(), SinkStop> {
        match &r.kind {
            RecordKind::Usage => {}
            RecordKind::NotEstimated {
                label,
                quantity,
                unit,
                spend_only,
            } => {
                let key = NotEstimatedKey {
                    file: r.provenance.file.to_string(),
                    spend_only: *spend_only,
                    provider: r.provider.clone(),
                    label: label.clone(),
                    model: r.model.clone(),
                    region: r.region.clone(),
                    month: month_of(&r.bucket_start),
                    cost_centre: r.cost_centre.clone(),
                    unit: unit.clone(),
                    account: r.account.clone(),
                    service: r.service.clone(),
                };
                if let Some(limit) = self.limit.as_mut() {
                    if !self.not_estimated.contains_key(&key) {
                        let line = self.hasher.hash_one((
                            "not estimated",
                            &key.provider,
                            &key.label,
                            &key.model,
                            &key.region,
                            &key.month,
                            &key.cost_centre,
                            &key.unit,
                            key.spend_only,
                            &key.account,
                            &key.service,
                        ));
                        limit.admit(
                            &self.hasher,
                            (r.provenance.file_index, r.provenance.sheet.as_deref()),
                            line,
                            [
                                key.cost_centre.as_deref(),
                                Some(&key.model),
                                key.account.as_deref(),
                                key.region.as_deref(),
                                key.service.as_deref(),
                                Some(&key.month),
                            ],
                        )?;
                    }
                }
                let acc = self.not_estimated.entry(key).or_default();
                acc.quantity += quantity;
                acc.rows += 1;
                if let (Some(c), Some(cur)) = (r.cost, r.currency.as_ref()) {
                    *acc.spend.entry(cur.clone()).or_insert(0.0) += c;
                }
                let p = &r.provenance;
                let src = acc
                    .sources
                    .entry((p.file.to_string(), p.sheet.as_deref().map(str::to_string)))
                    .or_insert(SourceAcc {
                        first: p.row,
                        last: p.row,
                        ..SourceAcc::default()
                    });
                src.first = src.first.min(p.row);
                src.last = src.last.max(p.row);
                src.count += 1;
                src.list.add(p.row, &mut self.row_budget);
                return Ok(());
            }
            RecordKind::Adjustment { label } => {
                let cur = r.currency.clone().unwrap_or_else(|| "USD".into());
                let e = self
                    .adjustments
                    .entry((r.provenance.file_index, label.clone(), cur))
                    .or_insert((r.provenance.file.clone(), 0, 0.0));
                e.1 += 1;
                e.2 += r.cost.unwrap_or(0.0);
                return Ok(());
            }
        }
        // Days with usage data per provider and month (bit d-1 for day d).
        let date = r.bucket_start.date_naive();
        let year_month = (date.year(), date.month());
        let day = date.day();
        let same = |((p, ym), _): &(CoverageKey, u32)| {
            *ym == year_month && (Arc::ptr_eq(p, &r.provider) || **p == *r.provider)
        };
        let i = match self.coverage.iter().rposition(same) {
            Some(i) => i,
            None => {
                self.coverage.push(((r.provider.clone(), year_month), 0));
                self.coverage.len() - 1
            }
        };
        self.coverage[i].1 |= 1u32 << (day - 1).min(31);
        let imputed = r.tokens_unknown();
        let parts = record_parts(r, year_month, imputed);
        let hash = self.hasher.hash_one(parts);
        let hasher = &self.hasher;
        let row = r.provenance.row;
        let vacant = match self.calc.entry(
            hash,
            |e| entry_parts(e) == parts,
            |e| hasher.hash_one(entry_parts(e)),
        ) {
            hashbrown::hash_table::Entry::Occupied(o) => Ok(o),
            hashbrown::hash_table::Entry::Vacant(v) => Err(v),
        };
        let entry = match vacant {
            Ok(o) => o.into_mut(),
            Err(v) => {
                if let Some(limit) = self.limit.as_mut() {
                    let (_, _, provider, model, region, scope, ym, cc, imp, account, service) =
                        parts;
                    let line = hasher.hash_one((
                        provider, model, region, scope, ym, cc, imp, account, service,
                    ));
                    let month = format!("{:04}-{:02}", ym.0, ym.1);
                    limit.admit(
                        hasher,
                        (r.provenance.file_index, r.provenance.sheet.as_deref()),
                        line,
                        [cc, Some(model), account, region, service, Some(&month)],
                    )?;
                }
                v.insert(CalcEntry {
                    key: CalcKey {
                        file_index: r.provenance.file_index,
                        sheet: r.provenance.sheet.clone(),
                        line: LineKey {
                            provider: r.provider.clone(),
                            model: r.model.clone(),
                            region: r.region.clone(),
                            region_scope: r.region_scope.clone(),
                            month: month_of(&r.bucket_start),
                            cost_centre: r.cost_centre.clone(),
                            tokens_imputed: imputed,
                            spend: None,
                            account: r.account.clone(),
                            service: r.service.clone(),
                        },
                    },
                    year_month,
                    acc: Acc {
                        file: r.provenance.file.clone(),
                        activity: Activity::default(),
                        spend: BTreeMap::new(),
                        first_row: row,
                        last_row: row,
                        rows: 0,
                        list: rows::RowList::default(),
                    },
                })
                .into_mut()
            }
        };
        let acc = &mut entry.acc;
        let activity = Activity {
            requests: r.requests,
            requests_reported: r.requests_reported,
            input_tokens: r.input_tokens,
            cached_input_tokens: r.cached_input_tokens,
            output_tokens: r.output_tokens,
            requests_without_tokens: if imputed { r.requests } else { 0 },
            input_characters: r.input_characters,
            output_characters: r.output_characters,
            ..Activity::default()
        };
        add_activity(&mut acc.activity, &activity)?;
        if let (Some(cost), Some(cur)) = (r.cost, r.currency.as_ref()) {
            match acc.spend.get_mut(cur) {
                Some(v) => *v += cost,
                None => {
                    acc.spend.insert(cur.clone(), 0.0 + cost);
                }
            }
        }
        acc.first_row = acc.first_row.min(row);
        acc.last_row = acc.last_row.max(row);
        acc.rows += 1;
        acc.list.add(row, &mut self.row_budget);
        Ok(())
    }

    /// Number of distinct calculation lines so far.
    pub fn len(&self) -> usize {
        self.calc.len()
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.calc.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sum_is_order_independent() {
        let xs = [1e16, 1.0, -1e16, 3.0, 1e-3, 7e15, -7e15];
        let mut a = KSum::default();
        xs.iter().for_each(|x| a.add(*x));
        let mut b = KSum::default();
        xs.iter().rev().for_each(|x| b.add(*x));
        // The exact sum is 4.001; a naive left-to-right sum loses the 1.0 next to 1e16.
        let naive: f64 = xs.iter().sum();
        assert!((naive - 4.001).abs() > 0.5, "naive {naive}");
        assert!((a.value() - 4.001).abs() < 1e-12, "{}", a.value());
        assert!((b.value() - 4.001).abs() < 1e-12, "{}", b.value());
    }
}
