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
pub(super) fn of(ledger: &crate::ledger::Ledger, cfg: &Config) -> Result<Option<Trend>> {
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
            let (s, _, n, ..) = aggregate_ledger(ledger, &period, cfg)?;
            let basis = (n > 0).then(|| Basis::of(&s));
            ((n > 0).then_some(s.totals), basis, n)
        } else {
            (None, None, 0)
        };
        let before = if reported {
            let (s, _, n, ..) = aggregate_ledger(ledger, &prev, cfg)?;
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
    Ok(Some(Trend {
        fiscal_year,
        start_month,
        quarters,
        year_to_date,
    }))
}
