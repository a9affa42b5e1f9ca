//! The comparative period (N-1) of a report: the ledger's same period a year earlier, or, in a
//! run without a ledger, an earlier JSON summary of this tool named by `report --prior`.

use std::path::Path;

use serde::Deserialize;

use crate::aggregate::Totals;
use crate::error::{Error, Result};
use crate::model::{Bounds, Period};

use super::Outcome;

/// An earlier JSON summary (`report --prior FILE`): its period and the totals it gives.
#[derive(Debug, Clone)]
pub struct Prior {
    /// The file as named.
    pub file: String,
    /// Its period.
    pub period: Period,
    /// Its totals (the CFE-adjusted sensitivity is not in a JSON summary: left at zero and
    /// never shown, see [`Comparative::has`]).
    pub totals: Totals,
}

/// Where a report's N-1 figures come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    /// The ledger the report was made from.
    Ledger,
    /// An earlier JSON summary (`--prior`), by its file name.
    Prior(&'a str),
}

/// The N-1 figures of a report.
#[derive(Debug, Clone, Copy)]
pub struct Comparative<'a> {
    /// The period a year earlier.
    pub period: &'a Period,
    /// Its totals.
    pub totals: &'a Totals,
    /// Where they come from.
    pub source: Source<'a>,
}

/// A figure of the totals that may have an N-1 value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// Emissions, energy, embodied, water, % primary data, data quality: in every source.
    Summary,
    /// The CFE-adjusted sensitivity: from the ledger only (a JSON summary does not give it).
    CfeAdjusted,
}

impl Comparative<'_> {
    /// Whether this source gives `figure`.
    pub fn has(&self, figure: Figure) -> bool {
        figure == Figure::Summary || self.source == Source::Ledger
    }

    /// Where the N-1 figures come from, in words: `2025Q1 (N-1) (2025-01-01 to 2025-03-31),
    /// from the ledger`.
    pub fn text(&self) -> String {
        let p = self.period;
        match self.source {
            Source::Ledger => format!("{} ({} to {}), from the ledger", p.label, p.start, p.end),
            Source::Prior(f) => format!("{} ({} to {}), from {f}", p.label, p.start, p.end),
        }
    }
}

/// What a report has for N-1.
#[derive(Debug, Clone, Copy)]
pub enum State<'a> {
    /// Figures for the period a year earlier.
    Figures(Comparative<'a>),
    /// A ledger report whose ledger holds nothing for the period a year earlier.
    NoLedgerData,
    /// A run without a ledger and without `--prior`.
    None,
}

/// The N-1 of `o`: the ledger's comparative period, else the `--prior` summary.
pub fn of(o: &Outcome) -> State<'_> {
    match (o.ledger.as_ref(), o.prior.as_ref()) {
        (Some(l), prior) => match (&l.comparative, prior) {
            (Some((p, t)), _) => State::Figures(Comparative {
                period: p,
                totals: t,
                source: Source::Ledger,
            }),
            (None, Some(p)) => State::Figures(p.comparative()),
            (None, None) => State::NoLedgerData,
        },
        (None, Some(p)) => State::Figures(p.comparative()),
        (None, None) => State::None,
    }
}

impl Prior {
    fn comparative(&self) -> Comparative<'_> {
        Comparative {
            period: &self.period,
            totals: &self.totals,
            source: Source::Prior(&self.file),
        }
    }

    /// Reads `path`, an earlier JSON summary of this tool, as the N-1 of a report of `period`:
    /// refused (a usage error saying why) unless it is such a summary and its period is
    /// `period` a year earlier (same length, ending one year before).
    pub fn read(path: &Path, period: &Period) -> Result<Prior> {
        let shown = path.display().to_string();
        Prior::read_named(path, &shown, &format!("--prior {shown}"), period)
    }

    /// [`Prior::read`] of a file known to the user as `shown` (the upload page's file name),
    /// whose errors start with `what`.
    pub fn read_named(path: &Path, shown: &str, what: &str, period: &Period) -> Result<Prior> {
        let shown = shown.to_string();
        let bad = |why: String| Error::Usage(format!("{what}: {why}"));
        let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        let json: PriorJson = serde_json::from_slice(&bytes).map_err(|e| {
            bad(format!(
                "not a JSON summary written by llm-scope3 report --json ({e})"
            ))
        })?;
        if json.tool.name != "llm-scope3" {
            return Err(bad(format!(
                "written by {:?}, not by llm-scope3 report --json",
                json.tool.name
            )));
        }
        let expected = super::previous_year(period)
            .ok_or_else(|| bad("the period has no year before it".into()))?;
        if json.period.start != expected.start || json.period.end != expected.end {
            return Err(bad(format!(
                "its period is {} to {}; the comparative (N-1) of {} ({} to {}) is the same period a year earlier, {} to {}",
                json.period.start,
                json.period.end,
                period.label,
                period.start,
                period.end,
                expected.start,
                expected.end
            )));
        }
        let t = json.totals;
        let totals = Totals {
            energy_kwh: t.energy_kwh.into(),
            emissions_kgco2e: t.emissions_kgco2e.into(),
            embodied_kgco2e: t.embodied_kgco2e.into(),
            water_l: t.water_l.into(),
            primary_data_share: t.primary_data_share,
            data_quality_score: t.data_quality_score,
            ..Totals::default()
        };
        Ok(Prior {
            file: shown,
            period: Period {
                start: json.period.start,
                end: json.period.end,
                label: if json.period.label.is_empty() {
                    expected.label
                } else {
                    format!("{} (N-1)", json.period.label)
                },
            },
            totals,
        })
    }
}

/// The parts of a JSON summary (docs/summary.schema.json) an N-1 needs.
#[derive(Deserialize)]
struct PriorJson {
    tool: ToolJson,
    period: PeriodJson,
    totals: TotalsJson,
}

#[derive(Deserialize)]
struct ToolJson {
    name: String,
}

#[derive(Deserialize)]
struct PeriodJson {
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
    #[serde(default)]
    label: String,
}

#[derive(Deserialize)]
struct TotalsJson {
    emissions_kgco2e: BoundsJson,
    energy_kwh: BoundsJson,
    embodied_kgco2e: BoundsJson,
    water_l: BoundsJson,
    primary_data_share: f64,
    data_quality_score: Option<f64>,
}

#[derive(Deserialize, Clone, Copy)]
struct BoundsJson {
    low: f64,
    central: f64,
    high: f64,
}

impl From<BoundsJson> for Bounds {
    fn from(b: BoundsJson) -> Bounds {
        Bounds {
            low: b.low,
            central: b.central,
            high: b.high,
        }
    }
}
