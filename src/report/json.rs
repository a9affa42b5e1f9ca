//! The JSON summary: the machine-readable twin of the workbook, in exactly the shape of
//! docs/summary.schema.json (REPORT.md). Field names are a contract; add optional fields only.

use serde::Serialize;

use crate::aggregate::Line;
use crate::model::{Bounds, Rejection};
use crate::pipeline::Outcome;

/// The whole summary.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    tool: Tool,
    period: PeriodJson,
    factor_set: FactorSetJson<'a>,
    generated_at: String,
    totals: TotalsJson<'a>,
    lines: Vec<LineJson<'a>>,
    imports: Vec<ImportJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comparative_period: Option<ComparativeJson<'a>>,
    /// The final statement this report records (`report --final` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    final_statement: Option<FinalStatementJson<'a>>,
    /// This report against the last final statement of the period recorded before it (with a
    /// ledger that holds one).
    #[serde(skip_serializing_if = "Option::is_none")]
    compared_with_final: Option<ComparedJson<'a>>,
    not_estimated: Vec<NotEstimatedJson<'a>>,
    excluded: &'a [crate::pipeline::ExcludedLine],
    spend_adjustments: &'a [crate::aggregate::AdjustmentLine],
    supplier_data: Vec<SupplierJson<'a>>,
    rejections: Vec<RejectionJson<'a>>,
    warnings: Vec<WarningJson<'a>>,
    coverage: Vec<CoverageJson<'a>>,
    /// Entries of the named folders that were not read, with the reason (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped_inputs: Vec<SkippedJson<'a>>,
    /// The config file used (`file` null when none was found), what it set and what that
    /// changed.
    configuration: ConfigurationJson,
    /// Management metrics of the period (not the ESRS E1-6 §53 intensity; absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    management_metrics: Vec<super::intensity::Metric>,
    /// The fiscal year by quarter from the ledger (ledger reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    trend: Option<super::trend_json::TrendJson<'a>>,
    /// The preparer's commentary (`report --note`).
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    /// Energy and emissions of one request by provider, model and month, and the published
    /// per-query figures beside them.
    per_request: super::per_request_json::PerRequestJson,
    /// What-if scenarios (`report --what-if`, `[levers] what_if`; absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    what_if: Vec<super::per_request_json::WhatIfJson<'a>>,
    /// The amortised training share (Training sheet), by model family.
    training: super::training_json::TrainingJson<'a>,
    /// Which reporting entities a ledger report covers: the group, or one entity (absent for
    /// a ledger without entities, reported as before).
    #[serde(skip_serializing_if = "Option::is_none")]
    entity_scope: Option<super::entities_json::ScopeJson<'a>>,
    /// The group's report: each entity's totals (the Entities sheet), adding up to `totals`
    /// (absent otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    entities: Vec<super::entities_json::EntityJson<'a>>,
}

/// A rejected row. A value cut when it was read (longer than
/// [`crate::model::REJECTED_TEXT_CHARS`] characters) is its first characters as read, and
/// `value_chars` its full length; `value_chars` is absent for a whole value.
#[derive(Debug, Serialize)]
struct RejectionJson<'a> {
    file: &'a str,
    sheet: Option<&'a str>,
    row: u64,
    column: Option<&'a str>,
    value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_chars: Option<u64>,
    reason: &'a str,
}

impl<'a> RejectionJson<'a> {
    fn of(r: &'a Rejection) -> RejectionJson<'a> {
        let cut = r.value_cut();
        RejectionJson {
            file: &r.file,
            sheet: r.sheet.as_deref(),
            row: r.row,
            column: r.column.as_deref(),
            value: cut.map(|(kept, _)| kept).or(r.value.as_deref()),
            value_chars: cut.map(|(_, chars)| chars),
            reason: &r.reason,
        }
    }
}

/// A gap the reader must not miss (see `pipeline::warnings`).
#[derive(Debug, Serialize)]
struct WarningJson<'a> {
    code: crate::pipeline::warnings::WarningCode,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    months: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    rows: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    spend: Vec<Spend>,
}

/// Days with usage data of one provider in one month of the period (0: none).
#[derive(Debug, Serialize)]
struct CoverageJson<'a> {
    provider: &'a str,
    month: String,
    days: u32,
}

/// The money of one file in one currency by what became of its rows.
#[derive(Debug, Serialize)]
struct MoneyJson<'a> {
    currency: &'a str,
    rows: u64,
    total: f64,
    accepted: f64,
    adjustments: f64,
    rejected: f64,
    duplicate: f64,
    outside_period: f64,
    excluded: f64,
    skipped: std::collections::BTreeMap<crate::model::SkipReason, f64>,
    balanced: bool,
}

/// Skipped rows whose text names an AI service.
#[derive(Debug, Serialize)]
struct AiSkippedJson<'a> {
    text: &'a str,
    matched: &'a str,
    rows: u64,
    first_row: u64,
    spend: Vec<Spend>,
}

/// The configuration block: the settings with their counts, emissions tidied.
#[derive(Debug, Serialize)]
struct ConfigurationJson {
    #[serde(flatten)]
    settings: crate::config::ConfigReport,
    /// Rows the exclusions left out, all together.
    excluded_rows: u64,
    /// What the exclusions left out, all together, kgCO2e.
    excluded_kgco2e: Bounds,
}

/// An entry of a named folder that was not read.
#[derive(Debug, Serialize)]
struct SkippedJson<'a> {
    path: String,
    reason: &'a str,
}

/// A final statement of the period in the ledger.
#[derive(Debug, Serialize)]
struct FinalStatementJson<'a> {
    id: i64,
    period: &'a str,
    stated_at: &'a str,
    factor_version: &'a str,
    emissions_kgco2e: Bounds,
    #[serde(skip_serializing_if = "Option::is_none")]
    accepted_gaps: Option<&'a str>,
    /// The reporting entity the statement states (absent: the whole ledger, the group).
    #[serde(skip_serializing_if = "Option::is_none")]
    entity: Option<&'a str>,
}

/// This report's central figure against a final statement.
#[derive(Debug, Serialize)]
struct ComparedJson<'a> {
    statement: FinalStatementJson<'a>,
    current_kgco2e_central: f64,
    difference_kgco2e_central: f64,
    difference_relative: Option<f64>,
    matches: bool,
    reasons: Vec<String>,
    message: String,
}

fn statement_json(s: &crate::ledger::Statement) -> FinalStatementJson<'_> {
    FinalStatementJson {
        id: s.id,
        period: &s.period_label,
        stated_at: &s.stated_at,
        factor_version: &s.factor_version,
        emissions_kgco2e: tidy_b(Bounds {
            low: s.kgco2e[0],
            central: s.kgco2e[1],
            high: s.kgco2e[2],
        }),
        accepted_gaps: s.accepted_gaps.as_deref(),
        entity: s.entity.as_deref(),
    }
}

#[derive(Debug, Serialize)]
struct ComparativeJson<'a> {
    period: PeriodJson,
    emissions_kgco2e: Bounds,
    energy_kwh: Bounds,
    change_central: Option<f64>,
    /// `ledger` (the ledger's same period a year earlier) or `prior` (`report --prior`).
    source: &'static str,
    /// The earlier JSON summary read (`source` = `prior`).
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    embodied_kgco2e: Bounds,
    water_l: Bounds,
    primary_data_share: f64,
    data_quality_score: Option<f64>,
}

#[derive(Debug, Serialize)]
struct NotEstimatedJson<'a> {
    provider: &'a str,
    item: &'a str,
    model: &'a str,
    region: Option<&'a str>,
    month: &'a str,
    cost_centre: Option<&'a str>,
    quantity: f64,
    unit: &'a str,
    spend: Vec<Spend>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spend_reporting: Option<SpendReportingJson<'a>>,
    sources: Vec<SourceJson<'a>>,
}

#[derive(Debug, Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Debug, Serialize)]
struct PeriodJson {
    start: String,
    end: String,
    label: String,
}

#[derive(Debug, Serialize)]
struct FactorSetJson<'a> {
    version: &'a str,
    sha256: &'a str,
}

#[derive(Debug, Serialize)]
struct Spend {
    currency: String,
    amount: f64,
}

/// An amount in the reporting currency (`amount` null when an exchange rate is missing).
#[derive(Debug, Serialize)]
struct SpendReportingJson<'a> {
    currency: &'a str,
    amount: Option<f64>,
}

/// The total spend in the reporting currency, with the exchange rates used and what could not
/// be converted.
#[derive(Debug, Serialize)]
struct TotalSpendReportingJson<'a> {
    currency: &'a str,
    amount: Option<f64>,
    fx: &'a [String],
    not_converted: Vec<NotConvertedJson<'a>>,
    notes: &'a [String],
}

#[derive(Debug, Serialize)]
struct NotConvertedJson<'a> {
    currency: &'a str,
    year: i32,
    amount: f64,
    no_rate_for: &'a str,
}

#[derive(Debug, Serialize)]
struct TotalsJson<'a> {
    requests: u64,
    #[serde(skip_serializing_if = "reported")]
    requests_reported: bool,
    input_tokens: u64,
    cached_input_tokens: u64,
    output_tokens: u64,
    imputed_input_tokens: u64,
    imputed_output_tokens: u64,
    spend: Vec<Spend>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spend_reporting: Option<TotalSpendReportingJson<'a>>,
    energy_kwh: Bounds,
    emissions_kgco2e: Bounds,
    embodied_kgco2e: Bounds,
    water_l: Bounds,
    primary_data_share: f64,
    data_quality_score: Option<f64>,
    /// The reported figure with the training share, when the configuration includes it.
    #[serde(flatten)]
    training_included: Option<super::training_json::IncludedJson>,
}

#[derive(Debug, Serialize)]
struct SourceJson<'a> {
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sheet: Option<&'a str>,
    rows: [u64; 2],
    count: u64,
    /// Which rows: `5-12,20,31-40`, the whole list (its text is made while it is written).
    row_list: &'a crate::aggregate::rows::RowList,
    /// False when the report's budget of listed ranges ran out before this list was whole.
    row_list_complete: bool,
}

impl<'a> SourceJson<'a> {
    fn of(s: &'a crate::aggregate::SourceRef) -> SourceJson<'a> {
        SourceJson {
            file: &s.file,
            sheet: s.sheet.as_deref(),
            rows: s.rows,
            count: s.count,
            row_list: &s.list,
            row_list_complete: s.list.complete(),
        }
    }
}

#[derive(Debug, Serialize)]
struct LineJson<'a> {
    provider: &'a str,
    model: &'a str,
    model_key: &'a str,
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region_scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spend_method: Option<&'a str>,
    month: &'a str,
    cost_centre: Option<&'a str>,
    method: &'static str,
    requests: u64,
    #[serde(skip_serializing_if = "reported")]
    requests_reported: bool,
    input_tokens: u64,
    cached_input_tokens: u64,
    output_tokens: u64,
    imputed_input_tokens: u64,
    imputed_output_tokens: u64,
    #[serde(skip_serializing_if = "is_zero")]
    input_characters: u64,
    #[serde(skip_serializing_if = "is_zero")]
    output_characters: u64,
    spend: Vec<Spend>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spend_reporting: Option<SpendReportingJson<'a>>,
    energy_kwh: Option<Bounds>,
    emissions_kgco2e: Bounds,
    embodied_kgco2e: Bounds,
    water_l: Option<Bounds>,
    data_quality_score: f64,
    grid_geography: &'a str,
    grid_year: i32,
    flags: &'a [String],
    factor_ids: &'a [std::sync::Arc<str>],
    sources: Vec<SourceJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vendor: Option<VendorJson<'a>>,
}

/// A vendor carbon figure for a line: used (method supplier-specific) or shown beside.
#[derive(Debug, Serialize)]
struct VendorJson<'a> {
    source: &'a str,
    key: &'a str,
    vendor_kgco2e: f64,
    estimate_kgco2e: Bounds,
    used: bool,
    note: &'a str,
}

/// One vendor figure at its matching key and what became of it.
#[derive(Debug, Serialize)]
struct SupplierJson<'a> {
    source: &'a str,
    provider: &'a str,
    account: Option<&'a str>,
    service: &'a str,
    region: &'a str,
    month: &'a str,
    location_based_kgco2e: Option<f64>,
    market_based_kgco2e: Option<f64>,
    model_versions: &'a [String],
    estimate_kgco2e: Bounds,
    matched_lines: usize,
    status: &'static str,
    reason: Option<&'a str>,
    sources: Vec<SourceJson<'a>>,
}

#[derive(Debug, Serialize)]
struct ImportJson<'a> {
    file: &'a str,
    sha256: &'a str,
    format: &'a str,
    rows_read: u64,
    accepted: u64,
    rejected: u64,
    duplicate: u64,
    outside_period: u64,
    excluded: u64,
    skipped: u64,
    skipped_by: &'a std::collections::BTreeMap<crate::model::SkipReason, u64>,
    money: Vec<MoneyJson<'a>>,
    /// The file's accepted spend in the reporting currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    spend_accepted_reporting: Option<SpendReportingJson<'a>>,
    #[serde(skip_serializing_if = "is_zero")]
    money_unreadable_rows: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ai_skipped: Vec<AiSkippedJson<'a>>,
    /// The warehouse query the file is the result of (`llm-scope3 sql`).
    #[serde(skip_serializing_if = "Option::is_none")]
    warehouse_query: Option<&'a crate::normalise::origin::WarehouseOrigin>,
}

fn spend_list(m: &std::collections::BTreeMap<String, f64>) -> Vec<Spend> {
    m.iter()
        .map(|(c, a)| Spend {
            currency: c.clone(),
            amount: tidy(*a),
        })
        .collect()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// `requests_reported` is written only when false (the `requests` 0 beside it means "not
/// reported", not "no requests").
fn reported(b: &bool) -> bool {
    *b
}

/// Rounds to 12 significant digits so that the JSON (and summary.csv) does not show float noise.
pub(crate) fn tidy(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return 0.0;
    }
    let digits = 12 - (x.abs().log10().floor() as i32) - 1;
    let scale = 10f64.powi(digits.clamp(-300, 300));
    (x * scale).round() / scale
}

fn tidy_b(b: Bounds) -> Bounds {
    b.map(tidy)
}

/// The `i`-th amount of `pick` in the reporting currency, when the report has one.
fn reporting_at<'a>(
    r: Option<&'a crate::aggregate::currency::ReportingSpend>,
    pick: impl Fn(&crate::aggregate::currency::ReportingSpend) -> Option<Option<f64>>,
) -> Option<SpendReportingJson<'a>> {
    r.map(|r| SpendReportingJson {
        currency: &r.currency,
        amount: pick(r).flatten().map(tidy),
    })
}

fn line_json<'a>(l: &'a Line, reporting: Option<SpendReportingJson<'a>>) -> LineJson<'a> {
    let b = &l.body;
    LineJson {
        provider: &l.key.provider,
        model: &l.key.model,
        model_key: &b.model_key,
        region: l.key.region.as_deref(),
        region_scope: l.key.region_scope.as_deref(),
        spend_method: l.key.spend.as_deref(),
        month: &l.key.month,
        cost_centre: l.key.cost_centre.as_deref(),
        method: b.method.label(),
        requests: b.activity.requests,
        requests_reported: b.activity.requests_reported,
        input_tokens: b.activity.input_tokens,
        cached_input_tokens: b.activity.cached_input_tokens,
        output_tokens: b.activity.output_tokens,
        imputed_input_tokens: b.estimate.imputed_input_tokens,
        imputed_output_tokens: b.estimate.imputed_output_tokens,
        input_characters: b.activity.input_characters,
        output_characters: b.activity.output_characters,
        spend: b
            .spend
            .iter()
            .map(|(c, a)| Spend {
                currency: c.clone(),
                amount: tidy(*a),
            })
            .collect(),
        spend_reporting: reporting,
        energy_kwh: b.energy_estimated.then(|| tidy_b(b.estimate.energy_kwh)),
        emissions_kgco2e: tidy_b(b.estimate.emissions_kgco2e),
        embodied_kgco2e: tidy_b(b.estimate.embodied_kgco2e),
        water_l: b.energy_estimated.then(|| tidy_b(b.estimate.water_l)),
        data_quality_score: tidy(b.dq.score()),
        grid_geography: &b.grid_geo,
        grid_year: b.grid_year,
        flags: &b.flags,
        factor_ids: &b.factor_ids,
        sources: l.sources.iter().map(SourceJson::of).collect(),
        vendor: b.supplier.as_ref().map(|v| VendorJson {
            source: &v.vendor,
            key: &v.key,
            vendor_kgco2e: tidy(v.vendor_kgco2e),
            estimate_kgco2e: tidy_b(v.estimate_kgco2e),
            used: v.used,
            note: &v.note,
        }),
    }
}

fn supplier_json(s: &crate::aggregate::supplier::SupplierLine) -> SupplierJson<'_> {
    use crate::aggregate::supplier::SupplierStatus as St;
    let (status, reason) = match &s.status {
        St::Used => ("used", None),
        St::Beside(r) => ("beside", Some(r.as_str())),
        St::Unmatched(r) => ("unmatched", Some(r.as_str())),
        St::Context(r) => ("context", Some(r.as_str())),
    };
    SupplierJson {
        source: &s.vendor,
        provider: &s.key.provider,
        account: s.key.account.as_deref(),
        service: &s.key.service,
        region: &s.key.region,
        month: &s.key.month,
        location_based_kgco2e: s.location_kg.map(tidy),
        market_based_kgco2e: s.market_kg.map(tidy),
        model_versions: &s.model_versions,
        estimate_kgco2e: tidy_b(s.estimate_kgco2e),
        matched_lines: s.matched_lines,
        status,
        reason,
        sources: s.sources.iter().map(SourceJson::of).collect(),
    }
}

/// Builds the summary of an outcome.
pub fn summary(o: &Outcome) -> Summary<'_> {
    let t = &o.summary.totals;
    let rs = o.reporting.as_ref();
    Summary {
        tool: Tool {
            name: "llm-scope3",
            version: crate::VERSION,
        },
        period: PeriodJson {
            start: o.period.start.to_string(),
            end: o.period.end.to_string(),
            label: o.period.label.clone(),
        },
        factor_set: FactorSetJson {
            version: &o.factor_version,
            sha256: &o.factor_sha256,
        },
        generated_at: o.generated_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        totals: TotalsJson {
            requests: t.activity.requests,
            requests_reported: t.activity.requests_reported,
            input_tokens: t.activity.input_tokens,
            cached_input_tokens: t.activity.cached_input_tokens,
            output_tokens: t.activity.output_tokens,
            imputed_input_tokens: t.imputed_input_tokens,
            imputed_output_tokens: t.imputed_output_tokens,
            spend: t
                .spend
                .iter()
                .map(|(c, a)| Spend {
                    currency: c.clone(),
                    amount: tidy(*a),
                })
                .collect(),
            spend_reporting: rs.map(|r| TotalSpendReportingJson {
                currency: &r.currency,
                amount: r.total.map(tidy),
                fx: &r.fx_ids,
                not_converted: r
                    .not_converted
                    .iter()
                    .map(|n| NotConvertedJson {
                        currency: &n.currency,
                        year: n.year,
                        amount: tidy(n.amount),
                        no_rate_for: &n.no_rate_for,
                    })
                    .collect(),
                notes: &r.notes,
            }),
            energy_kwh: tidy_b(t.energy_kwh),
            emissions_kgco2e: tidy_b(t.emissions_kgco2e),
            embodied_kgco2e: tidy_b(t.embodied_kgco2e),
            water_l: tidy_b(t.water_l),
            primary_data_share: t.primary_data_share,
            data_quality_score: t.data_quality_score.map(tidy),
            training_included: super::training_json::included_json(o),
        },
        lines: o
            .summary
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| line_json(l, reporting_at(rs, |r| r.lines.get(i).copied())))
            .collect(),
        imports: o
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| ImportJson {
                file: &f.file,
                sha256: &f.sha256,
                format: &f.format,
                rows_read: f.counts.read,
                accepted: f.counts.accepted,
                rejected: f.counts.rejected,
                duplicate: f.counts.duplicate,
                outside_period: f.counts.outside_period,
                excluded: f.counts.excluded,
                skipped: f.counts.skipped,
                skipped_by: &f.skipped_by,
                money: f
                    .money
                    .iter()
                    .map(|(c, b)| MoneyJson {
                        currency: c,
                        rows: b.rows,
                        total: tidy(b.total),
                        accepted: tidy(b.accepted),
                        adjustments: tidy(b.adjustments),
                        rejected: tidy(b.rejected),
                        duplicate: tidy(b.duplicate),
                        outside_period: tidy(b.outside_period),
                        excluded: tidy(b.excluded),
                        skipped: b.skipped.iter().map(|(k, v)| (*k, tidy(*v))).collect(),
                        balanced: b.balanced(),
                    })
                    .collect(),
                spend_accepted_reporting: reporting_at(rs, |r| r.files.get(i).copied()),
                money_unreadable_rows: f.money_unreadable_rows,
                ai_skipped: f
                    .ai_skipped
                    .iter()
                    .map(|g| AiSkippedJson {
                        text: &g.text,
                        matched: &g.matched,
                        rows: g.rows,
                        first_row: g.first_row,
                        spend: spend_list(&g.spend),
                    })
                    .collect(),
                warehouse_query: f.warehouse.as_ref(),
            })
            .collect(),
        comparative_period: match crate::pipeline::comparative::of(o) {
            crate::pipeline::comparative::State::Figures(c) => {
                let (p, prev) = (c.period, c.totals);
                let (now, before) = (t.emissions_kgco2e.central, prev.emissions_kgco2e.central);
                let (source, file) = match c.source {
                    crate::pipeline::comparative::Source::Ledger => ("ledger", None),
                    crate::pipeline::comparative::Source::Prior(f) => ("prior", Some(f)),
                };
                Some(ComparativeJson {
                    period: PeriodJson {
                        start: p.start.to_string(),
                        end: p.end.to_string(),
                        label: p.label.clone(),
                    },
                    emissions_kgco2e: tidy_b(prev.emissions_kgco2e),
                    energy_kwh: tidy_b(prev.energy_kwh),
                    change_central: (before > 0.0).then(|| tidy(now / before - 1.0)),
                    source,
                    file,
                    embodied_kgco2e: tidy_b(prev.embodied_kgco2e),
                    water_l: tidy_b(prev.water_l),
                    primary_data_share: tidy(prev.primary_data_share),
                    data_quality_score: prev.data_quality_score.map(tidy),
                })
            }
            _ => None,
        },
        final_statement: crate::pipeline::finality::recording(o).map(statement_json),
        compared_with_final: crate::pipeline::finality::compare(o).map(|c| ComparedJson {
            statement: statement_json(c.statement),
            current_kgco2e_central: tidy(c.current_kg),
            difference_kgco2e_central: tidy(c.difference_kg),
            difference_relative: c.relative.map(tidy),
            matches: c.matches,
            message: c.text(),
            reasons: c.reasons,
        }),
        not_estimated: o
            .summary
            .not_estimated
            .iter()
            .enumerate()
            .map(|(i, n)| NotEstimatedJson {
                provider: &n.key.provider,
                item: &n.key.label,
                model: &n.key.model,
                region: n.key.region.as_deref(),
                month: &n.key.month,
                cost_centre: n.key.cost_centre.as_deref(),
                quantity: tidy(n.quantity),
                unit: &n.key.unit,
                spend: n
                    .spend
                    .iter()
                    .map(|(c, a)| Spend {
                        currency: c.clone(),
                        amount: tidy(*a),
                    })
                    .collect(),
                spend_reporting: reporting_at(rs, |r| r.not_estimated.get(i).copied()),
                sources: n.sources.iter().map(SourceJson::of).collect(),
            })
            .collect(),
        spend_adjustments: &o.summary.adjustments,
        supplier_data: o.summary.supplier.iter().map(supplier_json).collect(),
        excluded: &o.excluded,
        rejections: o.rejections.iter().map(RejectionJson::of).collect(),
        warnings: o
            .warnings
            .iter()
            .map(|w| WarningJson {
                code: w.code,
                message: &w.message,
                file: w.file.as_deref(),
                provider: w.provider.as_deref(),
                months: &w.months,
                rows: w.rows,
                spend: spend_list(&w.spend),
            })
            .collect(),
        coverage: crate::pipeline::warnings::coverage_matrix(o)
            .into_iter()
            .map(|(provider, month, days)| CoverageJson {
                provider,
                month,
                days,
            })
            .collect(),
        management_metrics: super::trend_json::metrics_json(o),
        trend: o
            .ledger
            .as_ref()
            .and_then(|l| l.trend.as_ref())
            .map(super::trend_json::trend_json),
        note: o.note.as_deref(),
        per_request: super::per_request_json::per_request_json(o),
        what_if: super::per_request_json::what_if_json(o),
        training: super::training_json::training_json(o),
        entity_scope: super::entities_json::scope_json(o),
        entities: super::entities_json::entities_json(o),
        configuration: ConfigurationJson {
            settings: {
                let mut c = o.config.clone();
                for e in &mut c.exclusions {
                    e.emissions_kgco2e = tidy_b(e.emissions_kgco2e);
                }
                c
            },
            excluded_rows: o.config.exclusions.iter().map(|e| e.rows).sum(),
            excluded_kgco2e: tidy_b(o.config.exclusions.iter().fold(Bounds::default(), |a, e| {
                Bounds {
                    low: a.low + e.emissions_kgco2e.low,
                    central: a.central + e.emissions_kgco2e.central,
                    high: a.high + e.emissions_kgco2e.high,
                }
            })),
        },
        skipped_inputs: o
            .skipped_inputs
            .iter()
            .map(|s| SkippedJson {
                path: s.path.display().to_string(),
                reason: &s.reason,
            })
            .collect(),
    }
}

/// The summary as pretty JSON text (deterministic for the same outcome).
pub fn to_string(o: &Outcome) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(&summary(o))?;
    s.push('\n');
    Ok(s)
}

/// Writes the summary to `w`: the same bytes as [`to_string`], without holding the text (about
/// 1.5 KiB per line) in memory.
pub fn write(o: &Outcome, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &summary(o)).map_err(std::io::Error::other)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::tidy;

    #[test]
    fn tidy_keeps_twelve_significant_digits() {
        assert_eq!(tidy(0.1 + 0.2), 0.3);
        assert_eq!(tidy(123456.78901234567), 123456.789012);
        assert_eq!(tidy(0.0), 0.0);
        assert_eq!(tidy(1.5e-9), 1.5e-9);
    }
}
