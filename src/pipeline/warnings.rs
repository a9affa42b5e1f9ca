//! Warnings: every gap a reader must not miss before signing a figure.
//!
//! A figure that is silently zero, partial or wrong is worse than a crash, because a controller
//! signs it. [`assess`] looks at a finished [`Outcome`] and names what could make its total
//! incomplete: no usage in the period, months of the period before or after all the data, a
//! provider's month without data, skipped rows whose text names an AI service (with their
//! spend), money on a file that does not add up, models estimated from a size class, a figure
//! that differs from the period's final statement in the ledger. The same
//! list is printed on the terminal, shown on the upload page, written to the Cover and Coverage
//! sheets and to the JSON summary. Messages are plain words without command-line flags, so every
//! front end can show them as they are.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::Outcome;

/// What kind of gap a warning names (the JSON `code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// No usage row falls in the period.
    NoUsageInPeriod,
    /// The period starts before the earliest data of every file.
    PeriodBeforeData,
    /// The period ends after the latest data of every file.
    PeriodAfterData,
    /// A provider with data in the period has none in some of its months.
    MonthWithoutData,
    /// Rows skipped as another service whose text names an AI service or model.
    AiSpendSkipped,
    /// A file's money does not add up to its total.
    MoneyUnbalanced,
    /// Models not in the factor set, estimated from a size class.
    ModelUnresolved,
    /// The gaps were accepted for a final statement, with a reason.
    GapsAccepted,
    /// Text longer than a spreadsheet cell holds, cut in the workbook (whole in JSON); or
    /// rejected values cut when read, which no output has whole.
    TextCut,
    /// A quantity or money column whose dots and commas follow no one convention.
    AmbiguousSeparators,
    /// A column the format reads is named more than once in the header.
    DuplicateColumns,
    /// Billed items the token method cannot estimate (image, audio and video tokens, lines of
    /// image, audio or video models ...) listed with their quantity but no spend: nothing
    /// estimates them.
    NotEstimatedWithoutSpend,
    /// The period has a final statement in the ledger and this report's figure differs from it.
    DiffersFromFinal,
    /// Spend the factor set has no exchange rate for: not shown in the reporting currency.
    SpendNotConverted,
}

impl WarningCode {
    /// The code as JSON writes it (`month_without_data`).
    pub fn as_str(self) -> &'static str {
        match self {
            WarningCode::NoUsageInPeriod => "no_usage_in_period",
            WarningCode::PeriodBeforeData => "period_before_data",
            WarningCode::PeriodAfterData => "period_after_data",
            WarningCode::MonthWithoutData => "month_without_data",
            WarningCode::AiSpendSkipped => "ai_spend_skipped",
            WarningCode::MoneyUnbalanced => "money_unbalanced",
            WarningCode::ModelUnresolved => "model_unresolved",
            WarningCode::GapsAccepted => "gaps_accepted",
            WarningCode::TextCut => "text_cut",
            WarningCode::AmbiguousSeparators => "ambiguous_separators",
            WarningCode::DuplicateColumns => "duplicate_columns",
            WarningCode::NotEstimatedWithoutSpend => "not_estimated_without_spend",
            WarningCode::DiffersFromFinal => "differs_from_final",
            WarningCode::SpendNotConverted => "spend_not_converted",
        }
    }
}

/// One warning: a code for machines, a sentence for people, and what it concerns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// The kind of gap.
    pub code: WarningCode,
    /// What is wrong and what to do, in plain words (no command-line flags).
    pub message: String,
    /// The file concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The provider concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The months concerned (`YYYY-MM`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub months: Vec<String>,
    /// Rows concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// Money concerned, per currency.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub spend: BTreeMap<String, f64>,
}

impl Warning {
    fn new(code: WarningCode, message: String) -> Warning {
        Warning {
            code,
            message,
            file: None,
            provider: None,
            months: vec![],
            rows: None,
            spend: BTreeMap::new(),
        }
    }

    /// The preparer's reason for stating a period with gaps.
    pub fn gaps_accepted(reason: &str) -> Warning {
        Warning::new(
            WarningCode::GapsAccepted,
            format!("The gaps above were accepted for the final statement: \"{reason}\""),
        )
    }

    /// True for the gaps of coverage that `report --final` refuses without a reason.
    pub fn is_gap(&self) -> bool {
        matches!(
            self.code,
            WarningCode::NoUsageInPeriod
                | WarningCode::PeriodBeforeData
                | WarningCode::PeriodAfterData
                | WarningCode::MonthWithoutData
        )
    }
}

/// Money as `1,234.56 USD; 10.00 EUR`.
pub fn money_text(spend: &BTreeMap<String, f64>) -> String {
    spend
        .iter()
        .map(|(c, a)| format!("{} {c}", amount_text(*a)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// An amount in the reporting currency (`1,234.56 EUR`), or why there is none.
pub fn reporting_amount_text(
    r: &crate::aggregate::currency::ReportingSpend,
    amount: Option<f64>,
) -> String {
    match amount {
        Some(a) => format!("{} {}", amount_text(a), r.currency),
        None => "not converted (no exchange rate)".into(),
    }
}

/// What could not be converted to the reporting currency, in words (`12.00 XYZ of 2026 not
/// converted to EUR: factor set 2026.2 has no XYZ exchange rate`), one item per currency and
/// year.
pub fn not_converted_text(
    r: &crate::aggregate::currency::ReportingSpend,
    version: &str,
) -> Vec<String> {
    r.not_converted
        .iter()
        .map(|n| {
            format!(
                "{} {} of {} not converted to {}: factor set {version} has no {} exchange rate",
                amount_text(n.amount),
                n.currency,
                n.year,
                r.currency,
                n.no_rate_for
            )
        })
        .collect()
}

/// An amount with thousands separators and two decimals: `-1,234.50`.
pub fn amount_text(a: f64) -> String {
    let s = format!("{:.2}", a.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}{out}.{frac}", if a < 0.0 { "-" } else { "" })
}

/// The months `YYYY-MM` as a short list: `2026-04 to 2026-12 (9 months)` when consecutive.
fn months_text(months: &[String]) -> String {
    match months {
        [] => String::new(),
        [one] => one.clone(),
        [first, .., last] if consecutive(months) => {
            format!("{first} to {last} ({} months)", months.len())
        }
        _ => months.join(", "),
    }
}

fn consecutive(months: &[String]) -> bool {
    let n = |m: &String| {
        let (y, mo) = m.split_once('-').unwrap_or(("0", "0"));
        y.parse::<i32>().unwrap_or(0) * 12 + mo.parse::<i32>().unwrap_or(0)
    };
    months.windows(2).all(|w| n(&w[1]) == n(&w[0]) + 1)
}

fn month_of(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// The fiscal quarter holding `date` (`2026Q1`), the fiscal year starting in `start_month`.
pub fn quarter_of(date: NaiveDate, start_month: u32) -> String {
    let s = if (1..=12).contains(&start_month) {
        start_month
    } else {
        1
    };
    let year = if date.month() >= s {
        date.year()
    } else {
        date.year() - 1
    };
    let q = (date.month() + 12 - s) % 12 / 3 + 1;
    format!("{year}Q{q}")
}

/// The dates the files hold (valid rows, in or out of the period): earliest and latest.
pub fn data_range(o: &Outcome) -> Option<(NaiveDate, NaiveDate)> {
    let first = o.files.iter().filter_map(|f| f.first_date).min()?;
    let last = o.files.iter().filter_map(|f| f.last_date).max()?;
    Some((first, last))
}

/// True when no usage row of any file falls in the period (money-only rows do not count).
pub fn no_usage(o: &Outcome) -> bool {
    o.summary.coverage.is_empty() && o.summary.lines.is_empty()
}

/// Usage rows of the files (in or out of the period) per fiscal quarter (`2026Q1`).
pub fn usage_rows_by_quarter(o: &Outcome) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for f in &o.files {
        for (m, n) in &f.usage_rows_by_month {
            let first = NaiveDate::from_ymd_opt(m.div_euclid(12), m.rem_euclid(12) as u32 + 1, 1);
            if let Some(d) = first {
                *out.entry(quarter_of(d, o.fiscal_year_start_month))
                    .or_insert(0) += n;
            }
        }
    }
    out
}

/// The quarter most usage rows of the files fall in (the latest of equals), with its rows.
pub fn busiest_quarter(o: &Outcome) -> Option<(String, u64)> {
    usage_rows_by_quarter(o)
        .into_iter()
        .fold(None, |best, (q, n)| match best {
            Some((_, m)) if m > n => best,
            _ => Some((q, n)),
        })
}

/// The period to ask for instead, in words: the quarter most of the files' usage rows fall in.
pub fn suggested_period(o: &Outcome) -> Option<String> {
    let (q, n) = busiest_quarter(o)?;
    let total: u64 = usage_rows_by_quarter(o).values().sum();
    Some(if n == total {
        format!("the quarter {q}")
    } else {
        format!("the quarter {q}, which holds {n} of their {total} usage rows")
    })
}

/// Days with usage data per provider (with data in the period) and month of the period,
/// zero where a month has none.
pub fn coverage_matrix(o: &Outcome) -> Vec<(&str, String, u32)> {
    let mut providers: Vec<&str> = o.summary.coverage.iter().map(|c| c.0.as_str()).collect();
    providers.sort_unstable();
    providers.dedup();
    let months = o.period.months();
    let mut out = vec![];
    for p in providers {
        for m in &months {
            let days = o
                .summary
                .coverage
                .iter()
                .find(|(cp, cm, _)| cp == p && cm == m)
                .map_or(0, |c| c.2);
            out.push((p, m.clone(), days));
        }
    }
    out
}

/// Every warning about `o`, in a stable order: coverage first, then money, then models, then
/// the difference from the final statement of the period.
pub fn assess(o: &Outcome) -> Vec<Warning> {
    let mut out = vec![];
    coverage(o, &mut out);
    ai_spend_skipped(o, &mut out);
    ambiguous_separators(o, &mut out);
    duplicate_columns(o, &mut out);
    money_unbalanced(o, &mut out);
    models_unresolved(o, &mut out);
    not_estimated_without_spend(o, &mut out);
    text_cut(o, &mut out);
    differs_from_final(o, &mut out);
    spend_not_converted(o, &mut out);
    out
}

/// The period was stated final and this figure is another: by how much and why.
fn differs_from_final(o: &Outcome, out: &mut Vec<Warning>) {
    let Some(c) = super::finality::compare(o) else {
        return;
    };
    if c.matches {
        return;
    }
    out.push(Warning::new(
        WarningCode::DiffersFromFinal,
        format!(
            "{} The final statement stands unless the period is restated; the Change Log sheet lists what changed.",
            c.text()
        ),
    ));
}

/// Spend the factor set has no exchange rate for, per currency and year: its amount is not in
/// the reporting currency, and the total in it is left blank rather than short.
fn spend_not_converted(o: &Outcome, out: &mut Vec<Warning>) {
    let Some(r) = &o.reporting else { return };
    for (n, text) in r
        .not_converted
        .iter()
        .zip(not_converted_text(r, &o.factor_version))
    {
        let mut w = Warning::new(
            WarningCode::SpendNotConverted,
            format!(
                "{text}, so the spend total in {} is not given; the amounts stay in their own currencies.",
                r.currency
            ),
        );
        w.spend.insert(n.currency.clone(), n.amount);
        out.push(w);
    }
}

/// Items listed as not estimated that carry no money (the OpenAI usage export's audio and
/// image tokens, lines of image, audio or video models without a cost column): neither the
/// token method nor the spend method estimates them, so their emissions are missing from the
/// total unless a spend line of the same provider, model and month (a cost export) covers them.
fn not_estimated_without_spend(o: &Outcome, out: &mut Vec<Warning>) {
    let priced: std::collections::HashSet<(String, String, String)> = o
        .summary
        .lines
        .iter()
        .filter(|l| l.key.spend.is_some())
        .map(|l| {
            (
                l.key.provider.to_string(),
                l.key.model.to_lowercase(),
                l.key.month.clone(),
            )
        })
        .collect();
    // (provider, label, model, unit) -> (quantity, months, rows)
    type Item = (f64, std::collections::BTreeSet<String>, u64);
    let mut gaps: BTreeMap<(String, String, String, String), Item> = BTreeMap::new();
    for n in &o.summary.not_estimated {
        let k = &n.key;
        if k.spend_only || n.spend.values().any(|v| *v != 0.0) {
            continue;
        }
        if priced.contains(&(
            k.provider.to_string(),
            k.model.to_lowercase(),
            k.month.clone(),
        )) {
            continue;
        }
        let e = gaps
            .entry((
                k.provider.to_string(),
                k.label.clone(),
                k.model.clone(),
                k.unit.clone(),
            ))
            .or_default();
        e.0 += n.quantity;
        e.1.insert(k.month.clone());
        e.2 += n.sources.iter().map(|s| s.count).sum::<u64>();
    }
    if gaps.is_empty() {
        return;
    }
    let months: std::collections::BTreeSet<String> =
        gaps.values().flat_map(|v| v.1.iter().cloned()).collect();
    let rows: u64 = gaps.values().map(|v| v.2).sum();
    let list: Vec<String> = gaps
        .iter()
        .take(10)
        .map(|((p, label, model, unit), (q, m, _))| {
            format!(
                "{} {}: {}, {} {} ({})",
                short(p, QUOTED),
                short(model, QUOTED),
                short(label, QUOTED),
                amount_text(*q).trim_end_matches(".00"),
                short(unit, QUOTED),
                months_text(&m.iter().cloned().collect::<Vec<_>>())
            )
        })
        .collect();
    let more = match gaps.len() {
        n if n > 10 => format!(" and {} more", n - 10),
        _ => String::new(),
    };
    let mut w = Warning::new(
        WarningCode::NotEstimatedWithoutSpend,
        format!(
            "{} billed item(s) are listed as not estimated and have no spend, so nothing estimates them and their emissions are missing from the total: {}{more}. Image, audio and video are never estimated as text tokens; add the vendor's cost export for these months to estimate them from their spend.",
            gaps.len(),
            list.join("; ")
        ),
    );
    w.months = months.into_iter().collect();
    w.rows = Some(rows);
    out.push(w);
}

/// No usage in the period, months before or after the data, and months without data per
/// provider.
fn coverage(o: &Outcome, out: &mut Vec<Warning>) {
    let months = o.period.months();
    let range = data_range(o);
    let mut reported_months: Vec<String> = vec![];

    if no_usage(o) {
        let excluded: u64 = o.excluded.iter().map(|e| e.rows).sum();
        let held = match (range, suggested_period(o)) {
            (Some((a, b)), Some(s)) => {
                format!(" The files hold data dated {a} to {b}: report {s} instead.")
            }
            _ => " No file holds a usable dated row.".to_string(),
        };
        let msg = if excluded > 0 {
            format!(
                "No usage in {}: the configuration excluded all {excluded} usage row(s) of the period, so the total is zero.",
                o.period
            )
        } else {
            format!(
                "No usage row falls in {}, so the total is zero.{held} Report a zero only if there truly was no use of AI services in the period.",
                o.period
            )
        };
        out.push(Warning::new(WarningCode::NoUsageInPeriod, msg));
    } else if let Some((first, last)) = range {
        let before: Vec<String> = months
            .iter()
            .filter(|m| m.as_str() < month_of(first).as_str())
            .cloned()
            .collect();
        if !before.is_empty() {
            let mut w = Warning::new(
                WarningCode::PeriodBeforeData,
                format!(
                    "The period starts on {} but the earliest data in the files is dated {first}: {} without data in any file. Add the exports for those months, or report a period that starts later.",
                    o.period.start,
                    months_text(&before)
                ),
            );
            w.months = before.clone();
            reported_months.extend(before);
            out.push(w);
        }
        let after: Vec<String> = months
            .iter()
            .filter(|m| m.as_str() > month_of(last).as_str())
            .cloned()
            .collect();
        if !after.is_empty() {
            let mut w = Warning::new(
                WarningCode::PeriodAfterData,
                format!(
                    "The period ends on {} but the latest data in the files is dated {last}: {} without data in any file. The total covers only part of the period: add the exports for those months, or report a period that ends earlier.",
                    o.period.end,
                    months_text(&after)
                ),
            );
            w.months = after.clone();
            reported_months.extend(after);
            out.push(w);
        }
    }

    // Providers with data in the period but months without.
    let mut providers: Vec<&str> = o.summary.coverage.iter().map(|c| c.0.as_str()).collect();
    providers.sort_unstable();
    providers.dedup();
    for p in providers {
        let missing: Vec<String> = months
            .iter()
            .filter(|m| !reported_months.contains(m))
            .filter(|m| {
                !o.summary
                    .coverage
                    .iter()
                    .any(|(cp, cm, days)| cp == p && cm == *m && *days > 0)
            })
            .cloned()
            .collect();
        if !missing.is_empty() {
            let mut w = Warning::new(
                WarningCode::MonthWithoutData,
                format!(
                    "{p} has usage in other months of {} but none in {}: a missing export? Add it, or confirm there was no {p} usage then.",
                    o.period.label,
                    months_text(&missing)
                ),
            );
            w.provider = Some(p.to_string());
            w.months = missing;
            out.push(w);
        }
    }
}

/// Skipped rows whose text names an AI service, per file.
fn ai_spend_skipped(o: &Outcome, out: &mut Vec<Warning>) {
    // Skipped rows whose text names an AI service, per file.
    for f in &o.files {
        if f.ai_skipped.is_empty() {
            continue;
        }
        let rows: u64 = f.ai_skipped.iter().map(|g| g.rows).sum();
        let mut spend = BTreeMap::new();
        for g in &f.ai_skipped {
            for (c, a) in &g.spend {
                *spend.entry(c.clone()).or_insert(0.0) += a;
            }
        }
        let mut names: Vec<&str> = f.ai_skipped.iter().map(|g| g.matched.as_str()).collect();
        names.sort_unstable_by_key(|n| n.to_lowercase());
        names.dedup_by_key(|n| n.to_lowercase());
        let examples: Vec<String> = f
            .ai_skipped
            .iter()
            .take(3)
            .map(|g| format!("row {}: {}", g.first_row, excerpt(&g.text, 120)))
            .collect();
        let money = if spend.is_empty() {
            String::new()
        } else {
            format!(" with {}", money_text(&spend))
        };
        let mut w = Warning::new(
            WarningCode::AiSpendSkipped,
            format!(
                "{}: {rows} row(s){money} were skipped as another service although they name {} ({}). They are not in the figure: if they are AI usage, the export's format needs a rule for them.",
                f.file,
                names.join(", "),
                examples.join("; ")
            ),
        );
        w.file = Some(f.file.clone());
        w.rows = Some(rows);
        w.spend = spend;
        out.push(w);
    }
}

/// Columns whose numbers follow no one convention.
fn ambiguous_separators(o: &Outcome, out: &mut Vec<Warning>) {
    // Columns whose numbers follow no one convention.
    for f in &o.files {
        if f.ambiguous_separators.is_empty() {
            continue;
        }
        let mut w = Warning::new(
            WarningCode::AmbiguousSeparators,
            format!(
                "{}: {}. Check those values in the export (re-save it with one regional setting), or they may be off by a factor of a thousand.",
                f.file,
                f.ambiguous_separators.join("; ")
            ),
        );
        w.file = Some(f.file.clone());
        out.push(w);
    }
}

/// Columns named twice.
fn duplicate_columns(o: &Outcome, out: &mut Vec<Warning>) {
    // Columns named twice.
    for f in &o.files {
        if f.duplicate_columns.is_empty() {
            continue;
        }
        let mut w = Warning::new(
            WarningCode::DuplicateColumns,
            format!(
                "{}: {}. Check that the column read is the right one.",
                f.file,
                f.duplicate_columns.join("; ")
            ),
        );
        w.file = Some(f.file.clone());
        out.push(w);
    }
}

/// Money that does not add up.
fn money_unbalanced(o: &Outcome, out: &mut Vec<Warning>) {
    // Money that does not add up.
    for f in &o.files {
        for (currency, b) in &f.money {
            if !b.balanced() {
                let mut w = Warning::new(
                    WarningCode::MoneyUnbalanced,
                    format!(
                        "{}: the {currency} amounts of its rows total {:.2}, but accepted, adjustment, rejected, duplicate, outside-period, excluded and skipped rows add up to {:.2}. Please report this file to the maintainers.",
                        f.file,
                        b.total,
                        b.accounted()
                    ),
                );
                w.file = Some(f.file.clone());
                w.spend = BTreeMap::from([(currency.clone(), b.total - b.accounted())]);
                out.push(w);
            }
        }
    }
}

/// Models estimated from a size class.
fn models_unresolved(o: &Outcome, out: &mut Vec<Warning>) {
    // Models estimated from a size class, or as their nearest sibling in the set.
    let mut unresolved: BTreeMap<(String, String), (f64, u64)> = BTreeMap::new();
    let mut by_sibling = 0usize;
    for l in &o.summary.lines {
        let class = l
            .body
            .flags
            .iter()
            .any(|f| f.starts_with("model estimated by class"));
        let sibling = l
            .body
            .flags
            .iter()
            .any(|f| f.starts_with("model not in the factor set"));
        if class || sibling {
            let key = (l.key.provider.to_string(), l.key.model.clone());
            if sibling && !unresolved.contains_key(&key) {
                by_sibling += 1;
            }
            let e = unresolved.entry(key).or_default();
            e.0 += l.body.estimate.emissions_kgco2e.central;
            e.1 =
                e.1.saturating_add(l.body.activity.input_tokens + l.body.activity.output_tokens);
        }
    }
    if !unresolved.is_empty() {
        let total = o.summary.totals.emissions_kgco2e.central;
        let share: f64 = unresolved.values().map(|v| v.0).sum();
        let list: Vec<String> = unresolved
            .iter()
            .take(10)
            .map(|((p, m), (kg, _))| {
                format!("{} {} ({kg:.1} kgCO2e)", short(p, QUOTED), short(m, QUOTED))
            })
            .collect();
        let more = match unresolved.len() {
            n if n > 10 => format!(" and {} more", n - 10),
            _ => String::new(),
        };
        let pct = if total > 0.0 {
            format!(", {:.1}% of the central total", 100.0 * share / total)
        } else {
            String::new()
        };
        let mut w = Warning::new(
            WarningCode::ModelUnresolved,
            format!(
                "{} model(s) are not in factor set {} and were estimated {}{pct}: {}{more}. Check the model names; a newer factor set may know them.",
                unresolved.len(),
                o.factor_version,
                match by_sibling {
                    0 => "from a size class".to_string(),
                    n if n == unresolved.len() => "as their nearest sibling in the set".to_string(),
                    n => format!("from a size class or ({n} of them) as their nearest sibling in the set"),
                },
                list.join(", ")
            ),
        );
        w.rows = None;
        out.push(w);
    }
}

/// Text cut in the outputs: rejected values cut when they were read (no output has them
/// whole), and text longer than a spreadsheet cell holds (the workbook cuts it).
fn text_cut(o: &Outcome, out: &mut Vec<Warning>) {
    rejected_values_cut(o, out);
    let mut cut = CellCuts::default();
    for f in &o.files {
        let file = || short(&f.file, 80);
        cut.check(&f.file, || "a file name".into());
        // The Imports sheet holds a file's notes in one cell.
        cut.check(&f.notes.join("; "), || format!("the notes on {}", file()));
        for s in &f.sheets {
            cut.check(s.sheet.as_deref().unwrap_or(""), || {
                format!("a sheet name of {}", file())
            });
        }
        for g in &f.ai_skipped {
            cut.check(&g.text, || {
                format!("the text of skipped row {} of {}", g.first_row, file())
            });
        }
    }
    for r in &o.rejections {
        let row = || format!("rejected row {} of {}", r.row, short(&r.file, 80));
        cut.check(r.value.as_deref().unwrap_or(""), || {
            format!("the value of {}", row())
        });
        cut.check(&r.reason, || format!("the reason of {}", row()));
        cut.check(r.column.as_deref().unwrap_or(""), || "a column name".into());
        cut.check(r.sheet.as_deref().unwrap_or(""), || {
            format!("the sheet name of {}", row())
        });
    }
    for l in &o.summary.lines {
        let k = &l.key;
        cut.check(&k.model, || "a model name".into());
        for (what, v) in [
            ("a cost centre", &k.cost_centre),
            ("a region", &k.region),
            ("an account", &k.account),
            ("a service", &k.service),
        ] {
            cut.check(v.as_deref().unwrap_or(""), || what.into());
        }
    }
    for e in &o.excluded {
        cut.check(&e.model, || "an excluded model name".into());
        cut.check(e.cost_centre.as_deref().unwrap_or(""), || {
            "an excluded cost centre".into()
        });
    }
    cut.check(&o.entity, || "the reporting entity".into());
    cut.check(o.note.as_deref().unwrap_or(""), || "the commentary".into());
    if cut.n > 0 {
        let mut w = Warning::new(
            WarningCode::TextCut,
            format!(
                "{} text value(s) are longer than a spreadsheet cell holds (32,767 characters): the workbook cuts them, marked where cut; the JSON summary and the CSV tables have them whole (a spreadsheet program opening a CSV table cuts them too): {}{}.",
                cut.n,
                cut.listed.join("; "),
                if cut.more { ", and others" } else { "" }
            ),
        );
        w.rows = Some(cut.n);
        out.push(w);
    }
}

/// Texts longer than a spreadsheet cell holds: every one counted, the first
/// [`CUTS_LISTED`] distinct descriptions listed.
#[derive(Default)]
struct CellCuts {
    /// Texts cut, each counted (three cost centres of one length are three).
    n: u64,
    /// Their distinct descriptions, the first [`CUTS_LISTED`].
    listed: Vec<String>,
    /// True when a further distinct description is not listed.
    more: bool,
}

/// Distinct descriptions a [`WarningCode::TextCut`] warning lists.
const CUTS_LISTED: usize = 5;

impl CellCuts {
    /// Counts `s` when no cell holds it; `what` describes it (made only when needed).
    fn check(&mut self, s: &str, what: impl FnOnce() -> String) {
        if !crate::model::cut_in_a_cell(s) {
            return;
        }
        self.n += 1;
        let d = format!("{} ({} characters)", what(), s.chars().count());
        if self.listed.contains(&d) {
            return;
        }
        if self.listed.len() < CUTS_LISTED {
            self.listed.push(d);
        } else {
            self.more = true;
        }
    }
}

/// Rejected values (and reasons quoting them) cut to their first
/// [`crate::model::REJECTED_TEXT_CHARS`] characters when read, so that no cell can fill the
/// memory: no output has the rest.
fn rejected_values_cut(o: &Outcome, out: &mut Vec<Warning>) {
    let mut rows = 0u64;
    let mut listed: Vec<String> = vec![];
    for r in &o.rejections {
        let value = r.value_cut();
        if value.is_none() && !r.reason_cut() {
            continue;
        }
        rows += 1;
        if listed.len() < CUTS_LISTED {
            listed.push(match value {
                Some((_, chars)) => format!(
                    "the value of rejected row {} of {} ({chars} characters)",
                    r.row,
                    short(&r.file, 80)
                ),
                None => format!(
                    "the reason of rejected row {} of {}",
                    r.row,
                    short(&r.file, 80)
                ),
            });
        }
    }
    if rows == 0 {
        return;
    }
    let limit = amount_text(crate::model::REJECTED_TEXT_CHARS as f64);
    let limit = limit.trim_end_matches(".00");
    let mut w = Warning::new(
        WarningCode::TextCut,
        format!(
            "{rows} rejected row(s) hold a value longer than {limit} characters: each is kept cut to its first {limit} characters when read, marked where cut with its full length, and no output (workbook, CSV tables, JSON summary, ledger) has the rest: {}{}. Look the row up in the export to see the value whole.",
            listed.join("; "),
            match rows - listed.len() as u64 {
                0 => String::new(),
                n => format!(", and {n} more"),
            }
        ),
    );
    w.rows = Some(rows);
    out.push(w);
}

/// The start of a row's text as an example: its first `n` characters and "…" when longer
/// (no length: the Imports sheet lists the text; the words are those of saved reports).
fn excerpt(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        None => s.to_string(),
        Some((end, _)) => format!("{}…", &s[..end]),
    }
}

/// Characters of a model name, provider, label or unit quoted in a warning.
const QUOTED: usize = crate::model::QUOTED_TEXT_CHARS;

/// A text from the inputs quoted in a warning: shortened with its length past `n` characters.
fn short(s: &str, n: usize) -> std::borrow::Cow<'_, str> {
    crate::model::shortened(s, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_follow_the_fiscal_year() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(quarter_of(d(2026, 1, 15), 1), "2026Q1");
        assert_eq!(quarter_of(d(2026, 12, 31), 1), "2026Q4");
        // Fiscal year from April: 2026-04-01 starts 2026Q1, March 2027 is 2026Q4.
        assert_eq!(quarter_of(d(2026, 4, 1), 4), "2026Q1");
        assert_eq!(quarter_of(d(2027, 3, 31), 4), "2026Q4");
        assert_eq!(quarter_of(d(2026, 2, 1), 4), "2025Q4");
    }

    #[test]
    fn months_read_as_ranges() {
        let m = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(months_text(&m(&["2026-02"])), "2026-02");
        assert_eq!(
            months_text(&m(&["2026-11", "2026-12", "2027-01"])),
            "2026-11 to 2027-01 (3 months)"
        );
        assert_eq!(months_text(&m(&["2026-01", "2026-03"])), "2026-01, 2026-03");
    }

    #[test]
    fn codes_read_as_json_writes_them() {
        for c in [
            WarningCode::NoUsageInPeriod,
            WarningCode::PeriodBeforeData,
            WarningCode::PeriodAfterData,
            WarningCode::MonthWithoutData,
            WarningCode::AiSpendSkipped,
            WarningCode::MoneyUnbalanced,
            WarningCode::ModelUnresolved,
            WarningCode::GapsAccepted,
            WarningCode::TextCut,
            WarningCode::AmbiguousSeparators,
            WarningCode::DuplicateColumns,
        ] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }

    #[test]
    fn money_has_thousands_separators() {
        let s = BTreeMap::from([
            ("EUR".to_string(), -1234.5),
            ("USD".to_string(), 1234567.891),
        ]);
        assert_eq!(money_text(&s), "-1,234.50 EUR; 1,234,567.89 USD");
    }
}
