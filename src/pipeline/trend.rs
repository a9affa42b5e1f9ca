//! The trend of a ledger report: each quarter of the fiscal year of the reported period, the
//! year to date and the same quarter a year earlier, each aggregated from the ledger's active
//! records by the report's own path ([`super::aggregate_ledger`]: the same factor set,
//! configuration and estimate as the reported figure, nothing estimated here).

use chrono::Datelike;

use super::{aggregate_ledger, previous_year};
use crate::aggregate::intensity::Basis;
use crate::aggregate::Totals;
use crate::config::Config;
use crate::error::Result;
use crate::model::Period;

/// One span of the trend (a quarter or the year to date) and what the ledger holds for it.
#[derive(Debug, Clone)]
pub struct TrendSpan {
    /// The span (a quarter is labelled as `--quarter` names it, e.g. `2026Q2`).
    pub period: Period,
    /// False for a quarter that starts after the reported period ends (not computed).
    pub reported: bool,
    /// Active records of the span in the ledger (0: no data).
    pub records: usize,
    /// Its totals (`None` when it holds no record or is after the reported period).
    pub totals: Option<Totals>,
    /// The denominators of its management metrics (with `totals`).
    pub basis: Option<Basis>,
    /// The same span a year earlier, with its totals when the ledger holds records for it.
    pub previous: (Period, Option<Totals>),
}

/// The fiscal year of the reported period, quarter by quarter, and the year to date.
#[derive(Debug, Clone)]
pub struct Trend {
    /// The fiscal year's name: `2026` (calendar) or `FY2026` (starting in the month set by
    /// `fiscal_year_start_month` of 2026).
    pub fiscal_year: String,
    /// First month of the fiscal year.
    pub start_month: u32,
    /// Its four quarters, in order.
    pub quarters: Vec<TrendSpan>,
    /// From the first day of the fiscal year to the last day of the reported period.
    pub year_to_date: TrendSpan,
    /// The four quarters after the reported period, projected (`None` with no quarter of data).
    pub projection: Option<Projection>,
}

/// The four quarters after the last reported quarter, projected by a straight line through
/// the quarters the trend holds data for (a projection, not a forecast: it assumes the usage
/// goes on as it went).
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// Quarters fitted (the reported ones of the fiscal year and the same quarters a year
    /// earlier that hold data).
    pub points: usize,
    /// Change per quarter of the central line, kgCO2e.
    pub slope_kgco2e: f64,
    /// The quarters projected: name, dates and kgCO2e (each bound on its own line; never
    /// below zero).
    pub quarters: Vec<(String, Period, crate::model::Bounds)>,
    /// How, in words.
    pub method: String,
}

/// Least squares through `(t, y)`: (intercept, slope); a flat line through the mean with one
/// point or one distinct `t`.
fn line_through(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let mt = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mt) * (p.0 - mt)).sum();
    if sxx == 0.0 {
        return (my, 0.0);
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mt) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    (my - slope * mt, slope)
}

/// The projection of `quarters` (the fiscal year's, in order, the reported ones first).
fn project(quarters: &[TrendSpan], fiscal_start: u32) -> Option<Projection> {
    use crate::model::Bounds;
    // t = 0..3 for the quarters a year earlier, 4..7 for this fiscal year's.
    let mut pts: Vec<(f64, Bounds)> = vec![];
    for (i, q) in quarters.iter().enumerate() {
        if let Some(t) = &q.previous.1 {
            pts.push((i as f64, t.emissions_kgco2e));
        }
        if let (true, Some(t)) = (q.reported, &q.totals) {
            pts.push((4.0 + i as f64, t.emissions_kgco2e));
        }
    }
    let last = quarters.iter().rposition(|q| q.reported)?;
    if pts.is_empty() {
        return None;
    }
    let fit = |pick: fn(&Bounds) -> f64| -> (f64, f64) {
        let xy: Vec<(f64, f64)> = pts.iter().map(|(t, b)| (*t, pick(b))).collect();
        line_through(&xy)
    };
    let (low, central, high) = (fit(|b| b.low), fit(|b| b.central), fit(|b| b.high));
    let mut out = vec![];
    let mut start = quarters[last].period.end.succ_opt()?;
    for k in 1..=4 {
        let end = start
            .checked_add_months(chrono::Months::new(3))?
            .pred_opt()?;
        let t = 4.0 + (last + k) as f64;
        let at = |(a, b): (f64, f64)| (a + b * t).max(0.0);
        let fy = fiscal_year_of(start, fiscal_start);
        let q = (start.month() + 12 - fiscal_start) % 12 / 3 + 1;
        let name = if fiscal_start == 1 {
            format!("{fy} Q{q}")
        } else {
            format!("FY{fy} Q{q}")
        };
        out.push((
            name.clone(),
            Period {
                start,
                end,
                label: name,
            },
            Bounds {
                low: at(low),
                central: at(central),
                high: at(high),
            },
        ));
        start = end.succ_opt()?;
    }
    let n = pts.len();
    let method = if n < 2 {
        format!(
            "one quarter of data in the ledger: each quarter projected at its level ({n} point)"
        )
    } else {
        format!(
            "a straight line (least squares) through the {n} quarters of this fiscal year and a year earlier that hold data, each bound on its own line, continued four quarters; kept at zero or above"
        )
    };
    Some(Projection {
        points: n,
        slope_kgco2e: central.1,
        quarters: out,
        method,
    })
}

/// The fiscal year (by the year it starts in) holding `date`, for a year starting in `start`.
pub fn fiscal_year_of(date: chrono::NaiveDate, start: u32) -> i32 {
    if date.month() >= start {
        date.year()
    } else {
        date.year() - 1
    }
}

/// The trend of the fiscal year holding the last day of the reported period (`cfg.period`),
/// from the ledger's active records; `None` when its dates cannot be formed.
/// `entity`: the records of the report's scope (one entity's report has its own trend).
pub(super) fn of(
    ledger: &crate::ledger::Ledger,
    cfg: &Config,
    entity: crate::ledger::EntityFilter<'_>,
) -> Result<Option<Trend>> {
    let start_month = cfg.fiscal_year_start_month.clamp(1, 12);
    let end = cfg.period.end;
    let fy = fiscal_year_of(end, start_month);
    let fiscal_year = if start_month == 1 {
        format!("{fy}")
    } else {
        format!("FY{fy}")
    };
    let span = |period: Period, reported: bool| -> Result<Option<TrendSpan>> {
        let Some(prev) = previous_year(&period) else {
            return Ok(None);
        };
        let (totals, basis, records) = if reported {
            let (s, _, n, ..) = aggregate_ledger(ledger, &period, cfg, entity)?;
            let basis = (n > 0).then(|| Basis::of(&s));
            ((n > 0).then_some(s.totals), basis, n)
        } else {
            (None, None, 0)
        };
        let before = if reported {
            let (s, _, n, ..) = aggregate_ledger(ledger, &prev, cfg, entity)?;
            (n > 0).then_some(s.totals)
        } else {
            None
        };
        Ok(Some(TrendSpan {
            period,
            reported,
            records,
            totals,
            basis,
            previous: (prev, before),
        }))
    };
    let mut quarters = Vec::with_capacity(4);
    for q in 1..=4 {
        let Ok(p) = Period::quarter(&format!("{fy}Q{q}")) else {
            return Ok(None);
        };
        let p = p.shifted(start_month);
        let reported = p.start <= end;
        match span(p, reported)? {
            Some(s) => quarters.push(s),
            None => return Ok(None),
        }
    }
    let Some(first) = quarters.first().map(|q| q.period.start) else {
        return Ok(None);
    };
    let ytd = Period {
        start: first,
        end,
        label: format!("{fiscal_year} to date ({first} to {end})"),
    };
    let Some(year_to_date) = span(ytd, true)? else {
        return Ok(None);
    };
    let projection = project(&quarters, start_month);
    Ok(Some(Trend {
        fiscal_year,
        start_month,
        quarters,
        year_to_date,
        projection,
    }))
}

#[cfg(test)]
mod tests {
    use super::line_through;

    #[test]
    fn a_line_through_points_by_hand() {
        // (0, 1), (1, 3), (2, 5): slope 2, intercept 1.
        let (a, b) = line_through(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]);
        assert!((a - 1.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
        // One point: flat at it.
        assert_eq!(line_through(&[(3.0, 7.0)]), (7.0, 0.0));
    }
}
