//! The JSON summary's `trend` (ledger reports): the Trend sheet's table, and its
//! `management_metrics`, tidied as the other figures are.

use serde::Serialize;

use super::intensity::Metric;
use super::json::tidy;
use crate::model::Bounds;
use crate::pipeline::trend::{Trend, TrendSpan};

/// The fiscal year of the reported period by quarter, with the year to date.
#[derive(Debug, Serialize)]
pub(super) struct TrendJson<'a> {
    fiscal_year: &'a str,
    fiscal_year_start_month: u32,
    quarters: Vec<SpanJson>,
    year_to_date: SpanJson,
    /// The four quarters after the reported period, projected (a projection, not a forecast).
    #[serde(skip_serializing_if = "Option::is_none")]
    projection: Option<ProjectionJson>,
}

#[derive(Debug, Serialize)]
struct ProjectionJson {
    method: String,
    points: usize,
    slope_kgco2e_per_quarter: f64,
    quarters: Vec<ProjectedJson>,
}

#[derive(Debug, Serialize)]
struct ProjectedJson {
    quarter: String,
    start: String,
    end: String,
    emissions_kgco2e: Bounds,
}

/// One quarter (or the year to date) and the same dates a year earlier.
#[derive(Debug, Serialize)]
struct SpanJson {
    start: String,
    end: String,
    /// False for a quarter after the reported period (not computed).
    computed: bool,
    records: usize,
    /// Absent when the ledger holds no record of the span (or it was not computed).
    #[serde(skip_serializing_if = "Option::is_none")]
    emissions_kgco2e: Option<Bounds>,
    previous_start: String,
    previous_end: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_emissions_kgco2e: Option<Bounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    change_central: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kgco2e_per_million_tokens: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kgco2e_per_thousand_requests: Option<f64>,
}

pub(super) fn trend_json(t: &Trend) -> TrendJson<'_> {
    TrendJson {
        fiscal_year: &t.fiscal_year,
        fiscal_year_start_month: t.start_month,
        quarters: t.quarters.iter().map(span_json).collect(),
        year_to_date: span_json(&t.year_to_date),
        projection: t.projection.as_ref().map(|p| ProjectionJson {
            method: p.method.clone(),
            points: p.points,
            slope_kgco2e_per_quarter: tidy(p.slope_kgco2e),
            quarters: p
                .quarters
                .iter()
                .map(|(name, period, b)| ProjectedJson {
                    quarter: name.clone(),
                    start: period.start.to_string(),
                    end: period.end.to_string(),
                    emissions_kgco2e: b.map(tidy),
                })
                .collect(),
        }),
    }
}

fn span_json(s: &TrendSpan) -> SpanJson {
    let now = s.totals.as_ref().map(|t| t.emissions_kgco2e);
    let before = s.previous.1.as_ref().map(|t| t.emissions_kgco2e);
    SpanJson {
        start: s.period.start.to_string(),
        end: s.period.end.to_string(),
        computed: s.reported,
        records: s.records,
        emissions_kgco2e: now.map(|b| b.map(tidy)),
        previous_start: s.previous.0.start.to_string(),
        previous_end: s.previous.0.end.to_string(),
        previous_emissions_kgco2e: before.map(|b| b.map(tidy)),
        change_central: match (now, before) {
            (Some(n), Some(b)) if b.central > 0.0 => Some(tidy(n.central / b.central - 1.0)),
            _ => None,
        },
        kgco2e_per_million_tokens: s
            .basis
            .as_ref()
            .and_then(|b| b.per_million_tokens())
            .map(tidy),
        kgco2e_per_thousand_requests: s
            .basis
            .as_ref()
            .and_then(|b| b.per_thousand_requests())
            .map(tidy),
    }
}

/// The management metrics with their figures tidied.
pub(super) fn metrics_json(o: &crate::pipeline::Outcome) -> Vec<Metric> {
    super::intensity::metrics(o)
        .into_iter()
        .map(|m| Metric {
            value: tidy(m.value),
            kgco2e: tidy(m.kgco2e),
            denominator: tidy(m.denominator),
            ..m
        })
        .collect()
}
