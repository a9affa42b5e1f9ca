//! Aggregate: usage records -> calculation lines (per source file) and AI Services lines
//! (provider × model × region × month × cost centre), with totals.
//!
//! Streaming: [`Aggregator::add`] folds each record into its key as it arrives, so memory grows
//! with distinct keys, not rows. [`Aggregator::finish`] resolves factors once per distinct
//! provider × model × region × year and estimates each calculation line; AI Services lines and
//! totals are compensated sums of calculation lines, so every total is traceable to lines and
//! the lines to source rows. Pure: no I/O, no clock.

pub mod supplier;

use std::collections::{BTreeMap, HashMap};
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
    #[allow(clippy::too_many_arguments)]
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
    sources: BTreeMap<(String, Option<String>), [u64; 3]>,
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

fn add_activity(into: &mut Activity, a: &Activity) -> Result<(), String> {
    let add = |x: u64, y: u64, what: &str| {
        x.checked_add(y)
            .ok_or_else(|| format!("the total of {what} overflows a 64-bit count"))
    };
    into.requests = add(into.requests, a.requests, "requests")?;
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
                    .or_insert([p.row, p.row, 0]);
                src[0] = src[0].min(p.row);
                src[1] = src[1].max(p.row);
                src[2] += 1;
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
                    },
                })
                .into_mut()
            }
        };
        let acc = &mut entry.acc;
        let activity = Activity {
            requests: r.requests,
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

    /// Estimates every line and builds the summary.
    pub fn finish(
        mut self,
        set: &FactorSet,
        carbon: &[crate::model::CarbonRow],
    ) -> Result<Summary, String> {
        let mut entries: Vec<(CalcKey, Acc)> =
            self.calc.into_iter().map(|e| (e.key, e.acc)).collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        type FactorKey = (Arc<str>, String, Option<String>, Option<String>, i32);
        // Per distinct factor key: the line factors, and for each assumption of the
        // sensitivity table the same factors with that one at its low and at its high value.
        let mut cache: HashMap<FactorKey, (LineFactors, Vec<(LineFactors, LineFactors)>)> =
            HashMap::new();
        let mut factors: BTreeMap<String, FactorUse> = BTreeMap::new();
        // Factor ids repeat on every line: one shared string per distinct id.
        let mut ids_seen: std::collections::HashSet<Arc<str>> = std::collections::HashSet::new();
        let mut intern = |id: &str| -> Arc<str> {
            if let Some(a) = ids_seen.get(id) {
                return a.clone();
            }
            let a: Arc<str> = Arc::from(id);
            ids_seen.insert(a.clone());
            a
        };
        let mut calc_lines = Vec::with_capacity(entries.len());
        // Per calculation line: total kgCO2e with each assumption at its low and high value.
        let mut line_sens: Vec<[(f64, f64); SENSITIVITY.len()]> = Vec::with_capacity(entries.len());
        for (key, acc) in entries {
            let year = key
                .line
                .month
                .get(..4)
                .and_then(|y| y.parse::<i32>().ok())
                .unwrap_or_else(|| chrono::NaiveDate::MIN.year());
            let (lf, variants) = cache
                .entry((
                    key.line.provider.clone(),
                    key.line.model.clone(),
                    key.line.region.clone(),
                    key.line.region_scope.clone(),
                    year,
                ))
                .or_insert_with(|| {
                    let lf = LineFactors::resolve(
                        set,
                        &key.line.provider,
                        &key.line.model,
                        key.line.region.as_deref(),
                        key.line.region_scope.as_deref(),
                        year,
                    );
                    let variants = SENSITIVITY
                        .iter()
                        .map(|(_, set_to)| {
                            let at = |pick: fn(&Bounds) -> f64| {
                                let mut f = lf.clone();
                                set_to(&mut f, pick);
                                f
                            };
                            (at(|b| b.low), at(|b| b.high))
                        })
                        .collect();
                    (lf, variants)
                });
            for u in &lf.uses {
                if !factors.contains_key(&u.id) {
                    factors.insert(u.id.clone(), u.clone());
                }
            }
            let est = estimate(&acc.activity, lf);
            // One assumption at a time at its low / high value, the others central.
            let mut sens = [(0.0, 0.0); SENSITIVITY.len()];
            for (slot, (lo, hi)) in sens.iter_mut().zip(variants.iter()) {
                *slot = (
                    estimate(&acc.activity, lo).emissions_kgco2e.central,
                    estimate(&acc.activity, hi).emissions_kgco2e.central,
                );
            }
            line_sens.push(sens);
            let average = key.line.tokens_imputed || lf.by_class();
            let method = if average {
                Method::AverageData
            } else {
                Method::Hybrid
            };
            let mut flags = lf.flags.clone();
            if acc.activity.input_characters > 0 || acc.activity.output_characters > 0 {
                flags.push(format!(
                    "characters converted to tokens (÷{} / ÷{} / ÷{} characters per token)",
                    lf.chars_per_token.low, lf.chars_per_token.central, lf.chars_per_token.high
                ));
            }
            if key.line.tokens_imputed {
                flags.push(format!(
                    "tokens imputed from requests ({} input + {} output per request)",
                    lf.request_tokens.0, lf.request_tokens.1
                ));
            }
            let dq = DataQuality {
                technology: lf.dq_technology,
                time: lf.dq_time(year),
                geography: lf.geo_level.dq_score(),
                completeness: if key.line.tokens_imputed { 3 } else { 1 },
                reliability: if average { 3 } else { 2 },
            };
            let mut factor_ids: Vec<Arc<str>> = lf.uses.iter().map(|u| intern(&u.id)).collect();
            if key.line.tokens_imputed {
                factor_ids.push(intern("const:request_input_tokens"));
                factor_ids.push(intern("const:request_output_tokens"));
                factor_ids.push(intern("const:request_bounds"));
                for id in [
                    "request_input_tokens",
                    "request_output_tokens",
                    "request_bounds",
                ] {
                    if let Some(c) = set.constant(id) {
                        factors
                            .entry(format!("const:{id}"))
                            .or_insert_with(|| FactorUse {
                                id: format!("const:{id}"),
                                kind: "requests-only imputation".into(),
                                value: c.bounds(),
                                unit: c.unit.clone(),
                                year: None,
                                subject: "rows with requests but no tokens".into(),
                                basis: c.notes.clone(),
                                source_id: c.source_id.clone(),
                            });
                    }
                }
            }
            calc_lines.push(CalcLine {
                source: SourceRef {
                    file: acc.file.to_string(),
                    sheet: key.sheet.as_deref().map(str::to_string),
                    rows: [acc.first_row, acc.last_row],
                    count: acc.rows,
                },
                body: LineBody {
                    model_key: lf.model.key.clone(),
                    method,
                    activity: acc.activity,
                    spend: acc.spend,
                    estimate: est,
                    factor_ids,
                    dq,
                    flags,
                    grid_geo: lf.grid_row.geo_id.clone(),
                    grid_year: lf.grid_row.year,
                    geo_level: lf.geo_level,
                    energy_estimated: true,
                    supplier: None,
                },
                key: key.line,
            });
        }

        // Spend (METHODOLOGY §4): billed items no token export carries, and cost-export rows
        // of a provider and month no usage export covers, are estimated from their money;
        // cost-export rows that a usage export covers are listed for reconciliation only.
        let covered: std::collections::HashSet<(Arc<str>, String)> = calc_lines
            .iter()
            .map(|c| (c.key.provider.clone(), c.key.month.clone()))
            .collect();
        let mut listed: BTreeMap<NotEstimatedKey, NotEstimatedAcc> = BTreeMap::new();
        for (key, acc) in std::mem::take(&mut self.not_estimated) {
            if key.spend_only && covered.contains(&(key.provider.clone(), key.month.clone())) {
                listed.insert(key, acc);
                continue;
            }
            match spend_line(set, &key, &acc, &mut factors) {
                Some(lines) => calc_lines.extend(lines),
                None => {
                    listed.insert(key, acc);
                }
            }
        }
        self.not_estimated = listed;

        // Supplier-specific data (METHODOLOGY §5): vendor figures replace or sit beside the
        // estimates of the lines with their key.
        let unestimated: Vec<NotEstimatedKey> = self.not_estimated.keys().cloned().collect();
        let supplier = supplier::apply(carbon, &mut calc_lines, &unestimated);

        // AI Services lines: group calculation lines by key.
        let mut groups: BTreeMap<LineKey, Vec<usize>> = BTreeMap::new();
        for (i, c) in calc_lines.iter().enumerate() {
            groups.entry(c.key.clone()).or_default().push(i);
        }
        let mut lines = Vec::with_capacity(groups.len());
        let mut totals = Totals::default();
        let mut total_sum = EstimateSum::default();
        let mut dq_weighted = KSum::default();
        let mut dq_weight = KSum::default();
        let mut primary = KSum::default();
        for (key, idx) in groups {
            let first = &calc_lines[idx[0]];
            let mut supplier = first.body.supplier.clone();
            for &i in idx.iter().skip(1) {
                if let (Some(s), Some(o)) = (supplier.as_mut(), &calc_lines[i].body.supplier) {
                    s.add(o);
                }
            }
            let mut activity = Activity::default();
            let mut spend = BTreeMap::new();
            let mut sum = EstimateSum::default();
            let mut sources = vec![];
            for &i in &idx {
                let c = &calc_lines[i];
                add_activity(&mut activity, &c.body.activity)?;
                add_spend(&mut spend, &c.body.spend);
                sum.add(&c.body.estimate);
                total_sum.add(&c.body.estimate);
                sources.push(c.source.clone());
            }
            add_activity(&mut totals.activity, &activity)?;
            add_spend(&mut totals.spend, &spend);
            let body = LineBody {
                activity,
                spend,
                estimate: sum.value(),
                supplier,
                ..first.body.clone()
            };
            let w = body.estimate.emissions_kgco2e.central;
            if body.method == Method::SupplierSpecific {
                primary.add(w);
            }
            dq_weighted.add(w * body.dq.score());
            dq_weight.add(w);
            lines.push(Line { key, sources, body });
        }
        let t = total_sum.value();
        totals.imputed_input_tokens = t.imputed_input_tokens;
        totals.imputed_output_tokens = t.imputed_output_tokens;
        totals.energy_kwh = t.energy_kwh;
        totals.emissions_kgco2e = t.emissions_kgco2e;
        totals.embodied_kgco2e = t.embodied_kgco2e;
        totals.operational_kgco2e = t.operational_kgco2e;
        totals.water_l = t.water_l;
        totals.cfe_adjusted_kgco2e = t.cfe_adjusted_kgco2e;
        totals.primary_data_share = if t.emissions_kgco2e.central > 0.0 {
            primary.value() / t.emissions_kgco2e.central
        } else {
            0.0
        };
        totals.data_quality_score =
            (dq_weight.value() > 0.0).then(|| dq_weighted.value() / dq_weight.value());
        for acc in self.not_estimated.values() {
            add_spend(&mut totals.spend, &acc.spend);
        }
        let not_estimated = self
            .not_estimated
            .into_iter()
            .map(|(key, acc)| NotEstimatedLine {
                key,
                quantity: acc.quantity,
                spend: acc.spend,
                sources: acc
                    .sources
                    .into_iter()
                    .map(|((file, sheet), [first, last, count])| SourceRef {
                        file,
                        sheet,
                        rows: [first, last],
                        count,
                    })
                    .collect(),
            })
            .collect();
        let adjustments = self
            .adjustments
            .into_iter()
            .map(
                |((_, label, currency), (file, rows, amount))| AdjustmentLine {
                    file: file.to_string(),
                    label,
                    currency,
                    rows,
                    amount,
                },
            )
            .collect();
        // Spend-based and supplier-specific lines do not depend on these assumptions: they add
        // their central to both sides.
        let mut sens: Vec<(KSum, KSum)> =
            vec![(KSum::default(), KSum::default()); SENSITIVITY.len()];
        for (i, c) in calc_lines.iter().enumerate() {
            let fixed = c.key.spend.is_some() || c.body.method == Method::SupplierSpecific;
            for (k, (lo, hi)) in sens.iter_mut().enumerate() {
                match line_sens.get(i).and_then(|s| s.get(k)) {
                    Some(&(l, h)) if !fixed => {
                        lo.add(l);
                        hi.add(h);
                    }
                    _ => {
                        let v = c.body.estimate.emissions_kgco2e.central;
                        lo.add(v);
                        hi.add(v);
                    }
                }
            }
        }
        let sensitivity = SENSITIVITY
            .iter()
            .zip(sens)
            .map(|((n, _), (lo, hi))| (n.to_string(), lo.value(), hi.value()))
            .collect();
        self.coverage.sort_by(|a, b| a.0.cmp(&b.0));
        let coverage = self
            .coverage
            .iter()
            .map(|((p, (y, m)), bits)| (p.to_string(), format!("{y:04}-{m:02}"), bits.count_ones()))
            .collect();
        Ok(Summary {
            calc_lines,
            lines,
            totals,
            factors,
            not_estimated,
            adjustments,
            sensitivity,
            coverage,
            supplier,
        })
    }
}

/// A factor of [`LineFactors`] set flat to one of its values.
type Setter = fn(&mut LineFactors, fn(&Bounds) -> f64);

/// The assumptions of the sensitivity table (REPORT.md sheet 9).
const SENSITIVITY: &[(&str, Setter); 5] = &[
    ("energy per token (model size, utilisation)", |f, v| {
        f.energy.e_out = Bounds::flat(v(&f.energy.e_out));
        f.energy.e_in = Bounds::flat(v(&f.energy.e_in));
    }),
    ("PUE (data-centre overhead)", |f, v| {
        f.pue = Bounds::flat(v(&f.pue))
    }),
    ("grid emission factor", |f, v| {
        f.grid = Bounds::flat(v(&f.grid))
    }),
    ("embodied hardware adder", |f, v| {
        f.embodied = Bounds::flat(v(&f.embodied))
    }),
    ("cached-input discount", |f, v| {
        f.k_cache = Bounds::flat(v(&f.k_cache))
    }),
];

/// USD of a spend map in `year` (via the set's annual rates); `None` if a rate is missing.
fn to_usd(set: &FactorSet, spend: &BTreeMap<String, f64>, year: i32) -> Option<(f64, Vec<String>)> {
    let mut usd = 0.0;
    let mut ids = vec![];
    for (cur, amount) in spend {
        if cur == "USD" {
            usd += amount;
            continue;
        }
        let r = set.usd_rate(cur, year)?;
        usd += amount * r.usd_per_unit;
        ids.push(format!("fx:{}:{}", r.currency, r.year));
    }
    Some((usd, ids))
}

/// The spend line(s) of one billed item: price inversion when the model's list price is
/// known (cost-export rows), else EEIO. `None` when it cannot be estimated (no spend, no
/// exchange rate).
fn spend_line(
    set: &FactorSet,
    key: &NotEstimatedKey,
    acc: &NotEstimatedAcc,
    factors: &mut BTreeMap<String, FactorUse>,
) -> Option<Vec<CalcLine>> {
    let year: i32 = key.month.get(..4).and_then(|y| y.parse().ok())?;
    let (usd, mut fx_ids) = to_usd(set, &acc.spend, year)?;
    if usd <= 0.0 {
        return None;
    }
    for id in &fx_ids {
        if let Some((cur, y)) = id.strip_prefix("fx:").and_then(|r| r.split_once(':')) {
            if let Some(row) = y
                .parse()
                .ok()
                .and_then(|y: i32| set.fx.get(&(cur.to_string(), y)))
            {
                factors.entry(id.clone()).or_insert_with(|| FactorUse {
                    id: id.clone(),
                    kind: "exchange rate (annual average)".into(),
                    value: Bounds::flat(row.usd_per_unit),
                    unit: format!("USD per {cur}"),
                    year: Some(row.year),
                    subject: cur.to_string(),
                    basis: "converts spend to USD".into(),
                    source_id: row.source_id.clone(),
                });
            }
        }
    }
    let model = set.resolve_model(&key.model);
    let price = set
        .prices
        .get(&model.key.to_lowercase())
        .filter(|p| p.currency == "USD");
    let source = acc
        .sources
        .iter()
        .next()
        .map(|((file, sheet), [first, last, count])| SourceRef {
            file: file.clone(),
            sheet: sheet.clone(),
            rows: [*first, *last],
            count: *count,
        })?;
    let mut line_key = LineKey {
        provider: key.provider.clone(),
        model: key.model.clone(),
        region: key.region.clone(),
        region_scope: None,
        month: key.month.clone(),
        cost_centre: key.cost_centre.clone(),
        tokens_imputed: false,
        spend: None,
        account: key.account.clone(),
        service: key.service.clone(),
    };
    let (body, spend_kind) = match (key.spend_only, price) {
        (true, Some(p)) => {
            // Price inversion: 3 input tokens to 1 output token, spend = Tin·p_in + Tout·p_out.
            let p_out = p.output_per_mtok.unwrap_or(0.0);
            let per_output = 3.0 * p.input_per_mtok + p_out;
            if per_output <= 0.0 {
                return None;
            }
            let t_out = usd / per_output * 1e6;
            let (t_in, t_out) = if p_out > 0.0 {
                (3.0 * t_out, t_out)
            } else {
                (usd / p.input_per_mtok * 1e6, 0.0)
            };
            let lf = LineFactors::resolve(
                set,
                &key.provider,
                &key.model,
                key.region.as_deref(),
                None,
                year,
            );
            for u in &lf.uses {
                factors.entry(u.id.clone()).or_insert_with(|| u.clone());
            }
            let price_id = format!("price:{}", p.model_key);
            factors
                .entry(price_id.clone())
                .or_insert_with(|| FactorUse {
                    id: price_id.clone(),
                    kind: "list price (price inversion)".into(),
                    value: Bounds::flat(p.input_per_mtok),
                    unit: format!("USD per 1M input tokens (output {p_out})"),
                    year: p.valid_from.get(..4).and_then(|y| y.parse().ok()),
                    subject: p.model_key.clone(),
                    basis: format!(
                        "tokens ≈ spend / list price, 3:1 input:output; valid from {}",
                        p.valid_from
                    ),
                    source_id: p.source_id.clone(),
                });
            let activity = Activity {
                spend_input_tokens: t_in.round() as u64,
                spend_output_tokens: t_out.round() as u64,
                ..Activity::default()
            };
            let est = estimate(&activity, &lf);
            let mut ids: Vec<String> = lf.uses.iter().map(|u| u.id.clone()).collect();
            ids.push(price_id);
            if let Some(c) = set.constant("spend_bounds") {
                factors
                    .entry("const:spend_bounds".into())
                    .or_insert_with(|| FactorUse {
                        id: "const:spend_bounds".into(),
                        kind: "spend-derived tokens: bounds".into(),
                        value: c.bounds(),
                        unit: c.unit.clone(),
                        year: None,
                        subject: "tokens derived from spend by price inversion".into(),
                        basis: c.notes.clone(),
                        source_id: c.source_id.clone(),
                    });
                ids.push("const:spend_bounds".into());
            }
            ids.append(&mut fx_ids);
            let mut flags = lf.flags.clone();
            flags.push(format!(
                "spend-derived: {usd:.2} USD / list price = {} input + {} output tokens (imputed), bounds ×{} / ×{}",
                activity.spend_input_tokens, activity.spend_output_tokens, lf.spend_bounds.low, lf.spend_bounds.high
            ));
            (
                LineBody {
                    model_key: lf.model.key.clone(),
                    method: Method::AverageData,
                    activity,
                    spend: acc.spend.clone(),
                    estimate: est,
                    factor_ids: ids.into_iter().map(Arc::from).collect(),
                    dq: DataQuality {
                        technology: 3,
                        time: lf.dq_time(year),
                        geography: lf.geo_level.dq_score(),
                        completeness: 3,
                        reliability: 3,
                    },
                    flags,
                    grid_geo: lf.grid_row.geo_id.clone(),
                    grid_year: lf.grid_row.year,
                    geo_level: lf.geo_level,
                    energy_estimated: true,
                    supplier: None,
                },
                "price inversion",
            )
        }
        _ => {
            let eeio = set.constant("eeio_518210")?;
            let deflate = match (set.deflator(2021), set.deflator(year)) {
                (Some(base), Some(now)) if now.index > 0.0 => {
                    for d in [base, now] {
                        let id = format!("deflator:USD:{}", d.year);
                        factors.entry(id.clone()).or_insert_with(|| FactorUse {
                            id,
                            kind: "price index (deflates spend to the EEIO price year)".into(),
                            value: Bounds::flat(d.index),
                            unit: format!("index, {} = 100", d.base_year),
                            year: Some(d.year),
                            subject: "USD".into(),
                            basis: "factor = index(2021) / index(year)".into(),
                            source_id: d.source_id.clone(),
                        });
                        fx_ids.push(format!("deflator:USD:{}", d.year));
                    }
                    base.index / now.index
                }
                _ => 1.0,
            };
            factors
                .entry("const:eeio_518210".into())
                .or_insert_with(|| FactorUse {
                    id: "const:eeio_518210".into(),
                    kind: "spend-based EEIO factor".into(),
                    value: eeio.bounds(),
                    unit: eeio.unit.clone(),
                    year: Some(2021),
                    subject: "NAICS 518210 Data Processing, Hosting, and Related Services".into(),
                    basis: eeio.notes.clone(),
                    source_id: eeio.source_id.clone(),
                });
            let est = estimate_eeio(usd * deflate, eeio.bounds());
            let mut ids = vec!["const:eeio_518210".to_string()];
            ids.append(&mut fx_ids);
            (
                LineBody {
                    model_key: if key.spend_only { model.key.clone() } else { format!("item:{}", key.label) },
                    method: Method::SpendBased,
                    activity: Activity::default(),
                    spend: acc.spend.clone(),
                    estimate: est,
                    factor_ids: ids.into_iter().map(Arc::from).collect(),
                    dq: DataQuality {
                        technology: 4,
                        time: 2,
                        geography: 4,
                        completeness: 2,
                        reliability: 4,
                    },
                    flags: vec![format!(
                        "spend-based (EEIO, last resort): {} = {usd:.2} USD, deflated ×{deflate:.4} to 2021 USD; no energy or water",
                        key.label
                    )],
                    grid_geo: "n/a".into(),
                    grid_year: 2021,
                    geo_level: GeoLevel::World,
                    energy_estimated: false,
                    supplier: None,
                },
                "EEIO",
            )
        }
    };
    line_key.spend = Some(spend_kind.to_string());
    Some(vec![CalcLine {
        key: line_key,
        source,
        body,
    }])
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
