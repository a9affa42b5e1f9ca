//! The reporting currency (`[entity] currency` of the config file): spend shown in it beside
//! the amounts as exported, never instead of them.
//!
//! Each amount is converted with the factor set's annual average rates (fx.csv, USD per unit)
//! of the year of its month: `amount × usd_per_unit(currency, year) / usd_per_unit(reporting,
//! year)`. A year the set has no rate for takes its nearest earlier year (else the earliest),
//! as the spend method does, and says so. The rates used are listed among the report's factors
//! (`fx:EUR:2025`, with their source); a currency the set has no rate for is named, its amount
//! not converted and the total left blank: never a silent zero.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::estimate::FactorUse;
use crate::factors::FactorSet;
use crate::model::Bounds;

use super::Summary;

/// Spend in the reporting currency, for the lines, the billed items not estimated, the files
/// and the total of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReportingSpend {
    /// The reporting currency (ISO 4217, upper case).
    pub currency: String,
    /// Per AI Services line (the order of `Summary::lines`); `None` when a currency of the
    /// line has no rate.
    pub lines: Vec<Option<f64>>,
    /// Per billed item not estimated (the order of `Summary::not_estimated`).
    pub not_estimated: Vec<Option<f64>>,
    /// Per file (the order of `Outcome::files`): its accepted spend, converted at the rate of
    /// the period's year; `None` when a rate is missing or the period spans two calendar
    /// years (the lines carry the month-by-month conversion).
    pub files: Vec<Option<f64>>,
    /// The lines and the billed items not estimated together (as `Totals::spend`); `None`
    /// when any of them could not be converted.
    pub total: Option<f64>,
    /// The exchange-rate rows used (`fx:EUR:2025`), listed among the report's factors.
    pub fx_ids: Vec<String>,
    /// Amounts that could not be converted: currency, year, amount.
    pub not_converted: Vec<NotConverted>,
    /// Plain-words notes: a year converted at another year's rates.
    pub notes: Vec<String>,
}

/// Money the factor set has no exchange rate for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotConverted {
    /// The currency of the amount, or the reporting currency when it is the one missing.
    pub currency: String,
    /// The year of the amount.
    pub year: i32,
    /// The amount in its own currency.
    pub amount: f64,
    /// The currency the factor set has no rate for (the amount's, or the reporting one).
    pub no_rate_for: String,
}

/// What the conversions of a report used and missed.
#[derive(Default)]
struct Uses {
    ids: BTreeSet<String>,
    /// (currency without a rate, year) -> the amounts in their own currencies.
    missing: BTreeMap<(String, i32), BTreeMap<String, f64>>,
    /// (year wanted, year of the rate used) per currency.
    substituted: BTreeSet<(String, i32, i32)>,
}

/// The USD per unit of `currency` in `year` and the row's id (`None` for USD itself, which
/// needs no rate).
fn usd_per_unit(
    set: &FactorSet,
    currency: &str,
    year: i32,
    uses: &mut Uses,
) -> Option<(f64, Option<String>)> {
    if currency == "USD" {
        return Some((1.0, None));
    }
    let row = set.usd_rate(currency, year)?;
    if row.year != year {
        uses.substituted
            .insert((row.currency.clone(), year, row.year));
    }
    Some((
        row.usd_per_unit,
        Some(format!("fx:{}:{}", row.currency, row.year)),
    ))
}

/// A spend map of `year` in `to`; `None` when a rate is missing (recorded in `uses`).
fn convert(
    set: &FactorSet,
    to: &str,
    spend: &BTreeMap<String, f64>,
    year: i32,
    uses: &mut Uses,
) -> Option<f64> {
    let mut total = 0.0;
    let mut complete = true;
    for (cur, amount) in spend {
        let cur = cur.to_uppercase();
        if cur == to {
            total += amount;
            continue;
        }
        let from = usd_per_unit(set, &cur, year, uses);
        let into = usd_per_unit(set, to, year, uses);
        match (from, into) {
            (Some((f, fid)), Some((t, tid))) if t > 0.0 => {
                total += amount * f / t;
                uses.ids.extend(fid);
                uses.ids.extend(tid);
            }
            (from, _) => {
                complete = false;
                let lacking = if from.is_none() {
                    cur.clone()
                } else {
                    to.to_string()
                };
                *uses
                    .missing
                    .entry((lacking, year))
                    .or_default()
                    .entry(cur.clone())
                    .or_insert(0.0) += amount;
            }
        }
    }
    complete.then_some(total)
}

/// The year of a `YYYY-MM` month.
fn year_of(month: &str) -> Option<i32> {
    month.get(..4).and_then(|y| y.parse().ok())
}

/// Converts the spend of `summary` (lines, billed items not estimated) and of the files'
/// accepted rows into `to`, and lists the exchange rates used among the summary's factors.
pub fn reporting_spend(
    set: &FactorSet,
    to: &str,
    summary: &mut Summary,
    files: &[&BTreeMap<String, f64>],
    period: &crate::model::Period,
) -> ReportingSpend {
    let to = to.to_uppercase();
    let mut uses = Uses::default();
    let at_month = |spend: &BTreeMap<String, f64>, month: &str, uses: &mut Uses| {
        if spend.is_empty() {
            return Some(0.0);
        }
        let year = year_of(month)?;
        convert(set, &to, spend, year, uses)
    };
    let lines: Vec<Option<f64>> = summary
        .lines
        .iter()
        .map(|l| at_month(&l.body.spend, &l.key.month, &mut uses))
        .collect();
    let not_estimated: Vec<Option<f64>> = summary
        .not_estimated
        .iter()
        .map(|n| at_month(&n.spend, &n.key.month, &mut uses))
        .collect();
    let total = lines
        .iter()
        .chain(&not_estimated)
        .try_fold(0.0, |a, x| x.map(|x| a + x));
    // A file's accepted rows are all in the period: one calendar year, one rate.
    use chrono::Datelike;
    let one_year = (period.start.year() == period.end.year()).then_some(period.start.year());
    // The same money as the lines': what it misses is named once, by the lines.
    let mut file_uses = Uses::default();
    let files = files
        .iter()
        .map(|spend| {
            if spend.is_empty() {
                return Some(0.0);
            }
            convert(set, &to, spend, one_year?, &mut file_uses)
        })
        .collect();
    uses.ids.extend(file_uses.ids);
    uses.substituted.extend(file_uses.substituted);
    for id in &uses.ids {
        record_rate(set, id, &to, &mut summary.factors);
    }
    let mut notes: Vec<String> = uses
        .substituted
        .iter()
        .map(|(cur, wanted, used)| {
            format!(
                "{wanted} amounts converted at the {used} annual rate of {cur} (fx:{cur}:{used}): factor set {} has no {cur} rate for {wanted}",
                set.version
            )
        })
        .collect();
    if one_year.is_none() {
        notes.push(
            "the period spans two calendar years: each line is converted at its own year's rate; the Imports sheet's per-file amounts are not converted"
                .into(),
        );
    }
    let not_converted = uses
        .missing
        .into_iter()
        .flat_map(|((lacking, year), amounts)| {
            amounts
                .into_iter()
                .map(move |(currency, amount)| NotConverted {
                    currency,
                    year,
                    amount,
                    no_rate_for: lacking.clone(),
                })
        })
        .collect();
    ReportingSpend {
        currency: to,
        lines,
        not_estimated,
        files,
        total,
        fx_ids: uses.ids.into_iter().collect(),
        not_converted,
        notes,
    }
}

/// An exchange-rate row among the report's factors (as the spend method lists it).
fn record_rate(set: &FactorSet, id: &str, to: &str, factors: &mut BTreeMap<String, FactorUse>) {
    let Some((cur, y)) = id.strip_prefix("fx:").and_then(|r| r.split_once(':')) else {
        return;
    };
    let Some(row) = y
        .parse()
        .ok()
        .and_then(|y: i32| set.fx.get(&(cur.to_string(), y)))
    else {
        return;
    };
    factors.entry(id.to_string()).or_insert_with(|| FactorUse {
        id: id.to_string(),
        kind: "exchange rate (annual average)".into(),
        value: Bounds::flat(row.usd_per_unit),
        unit: format!("USD per {cur}"),
        year: Some(row.year),
        subject: cur.to_string(),
        basis: format!("converts spend to the reporting currency {to} (via USD)"),
        source_id: row.source_id.clone(),
    });
}
