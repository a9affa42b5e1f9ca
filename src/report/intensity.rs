//! Management metrics: the period's kgCO2e (central) per million tokens, per 1,000 requests,
//! per 1,000 of spend (per currency), and, when the config file gives them, per million of net
//! revenue and per employee. They are ratios for steering AI use, labelled as such: not the
//! GHG intensity per net revenue of ESRS E1-6 §53, which divides the undertaking's total
//! GHG emissions. Shown on the E1-6 Summary ("Management metrics") and in the JSON summary.

use chrono::Datelike;
use serde::Serialize;

use crate::aggregate::intensity::Basis;
use crate::model::Period;
use crate::pipeline::Outcome;

/// What the Summary's block and the JSON say of the metrics, once.
pub const CAVEAT: &str = "Management metrics for steering AI use, not the GHG intensity per net revenue of ESRS E1-6 §53 (which divides total GHG emissions, not this Scope 3 component). Central values; each ratio divides the emissions of the lines that carry its denominator.";

/// One management metric of the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    /// Stable key: `per_million_tokens`, `per_thousand_requests`, `per_thousand_spend`,
    /// `per_million_net_revenue` or `per_employee`.
    pub metric: &'static str,
    /// What it reads, in words, e.g. `kgCO2e per million tokens`.
    pub label: String,
    /// kgCO2e per `per` of the denominator.
    pub value: f64,
    /// The kgCO2e (central) divided.
    pub kgco2e: f64,
    /// The denominator.
    pub denominator: f64,
    /// Its unit: `tokens`, `requests`, a currency (ISO 4217) or `employees`.
    pub unit: String,
    /// How much of the denominator the value is per (1,000,000, 1,000 or 1).
    pub per: f64,
    /// How it was computed, in words.
    pub basis: String,
}

/// The management metrics of the reported period, in a fixed order.
pub fn metrics(o: &Outcome) -> Vec<Metric> {
    let b = Basis::of(&o.summary);
    let total = b.total_kgco2e;
    let covered = |kg: f64, what: &str| {
        if (kg - total).abs() <= 1e-9 * total.abs().max(1.0) {
            format!("all lines have {what}")
        } else {
            format!(
                "{} of the {} tCO2e; the other lines have no {what}",
                t3(kg),
                t3(total)
            )
        }
    };
    let mut out = vec![];
    if let Some(v) = b.per_million_tokens() {
        out.push(Metric {
            metric: "per_million_tokens",
            label: "kgCO2e per million tokens".into(),
            value: v,
            kgco2e: b.tokens_kgco2e,
            denominator: b.tokens as f64,
            unit: "tokens".into(),
            per: 1e6,
            basis: format!(
                "{} kgCO2e over {} tokens as exported (input, cached included, + output); {}",
                k3(b.tokens_kgco2e),
                grouped(b.tokens as f64),
                covered(b.tokens_kgco2e, "token counts")
            ),
        });
    }
    if let Some(v) = b.per_thousand_requests() {
        out.push(Metric {
            metric: "per_thousand_requests",
            label: "kgCO2e per 1,000 requests".into(),
            value: v,
            kgco2e: b.requests_kgco2e,
            denominator: b.requests as f64,
            unit: "requests".into(),
            per: 1e3,
            basis: format!(
                "{} kgCO2e over {} requests; {}",
                k3(b.requests_kgco2e),
                grouped(b.requests as f64),
                covered(b.requests_kgco2e, "request counts")
            ),
        });
    }
    for (cur, s) in &b.spend {
        if s.amount > 0.0 {
            out.push(Metric {
                metric: "per_thousand_spend",
                label: format!("kgCO2e per 1,000 {cur} of spend"),
                value: s.kgco2e / (s.amount / 1e3),
                kgco2e: s.kgco2e,
                denominator: s.amount,
                unit: cur.clone(),
                per: 1e3,
                basis: format!(
                    "{} kgCO2e of the lines with spend in {cur} over their {} {cur}",
                    k3(s.kgco2e),
                    grouped(s.amount)
                ),
            });
        }
    }
    if let Some(r) = &o.config.net_revenue {
        let (share, how) = share_of_year(&o.period);
        let revenue = r.amount * share;
        if revenue > 0.0 {
            out.push(Metric {
                metric: "per_million_net_revenue",
                label: format!("kgCO2e per million {} of net revenue", r.currency),
                value: total / (revenue / 1e6),
                kgco2e: total,
                denominator: revenue,
                unit: r.currency.clone(),
                per: 1e6,
                basis: format!(
                    "{} kgCO2e over {} {}: the config file's annual net revenue of {} {} × {how}",
                    k3(total),
                    grouped(revenue),
                    r.currency,
                    grouped(r.amount),
                    r.currency
                ),
            });
        }
    }
    if let Some(n) = o.config.employees {
        out.push(Metric {
            metric: "per_employee",
            label: "kgCO2e per employee".into(),
            value: total / n,
            kgco2e: total,
            denominator: n,
            unit: "employees".into(),
            per: 1.0,
            basis: format!(
                "{} kgCO2e of the period over the config file's {} employees",
                k3(total),
                grouped(n)
            ),
        });
    }
    out
}

/// The part of a year the period is, and how it was counted: whole months / 12 when it runs
/// from a first to a last day of a month (quarters, years), else days / 365.
pub fn share_of_year(p: &Period) -> (f64, String) {
    let whole_months = p.start.day() == 1 && p.end.succ_opt().is_some_and(|d| d.day() == 1);
    if whole_months {
        let months = p.months().len();
        (months as f64 / 12.0, format!("{months}/12 for the period"))
    } else {
        let days = (p.end - p.start).num_days() + 1;
        (days as f64 / 365.0, format!("{days}/365 for the period"))
    }
}

/// A number with thousands separators and up to two decimals: `1,500,000`, `1,234.5`.
pub fn grouped(x: f64) -> String {
    let cents = (x.abs() * 100.0).round();
    let whole = (cents / 100.0).trunc();
    let frac = (cents - whole * 100.0) as u64;
    let digits = format!("{whole:.0}");
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if frac > 0 {
        out.push_str(format!(".{frac:02}").trim_end_matches('0'));
    }
    if x < 0.0 && (whole > 0.0 || frac > 0) {
        out.insert(0, '-');
    }
    out
}

fn t3(kg: f64) -> String {
    format!("{:.3}", kg / 1000.0)
}

fn k3(kg: f64) -> String {
    format!("{kg:.3}")
}
