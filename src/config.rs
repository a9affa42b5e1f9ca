//! Raw command-line arguments -> a validated [`Config`], once. Stages receive `&Config` and
//! never look at arguments or the environment themselves.

use chrono::{DateTime, NaiveDate, Utc};

use crate::cli::{PeriodArgs, ReadArgs};
use crate::error::{Error, Result};
use crate::factors::FactorSet;
use crate::model::Period;
use crate::normalise::{Template, TemplateSet};

/// Everything a pipeline run needs to know, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// The reporting period.
    pub period: Period,
    /// Templates known to the run (built-in + `--template`).
    pub templates: TemplateSet,
    /// The factor set.
    pub factors: FactorSet,
    /// "Generated at" of the outputs.
    pub generated_at: DateTime<Utc>,
    /// True when `generated_at` was fixed by `--as-of` (reproducible output).
    pub as_of_fixed: bool,
    /// Reporting entity for the Cover.
    pub entity: String,
}

impl Config {
    /// Builds the configuration of a run.
    pub fn new(
        period: &PeriodArgs,
        read: &ReadArgs,
        as_of: Option<&str>,
        entity: Option<&str>,
    ) -> Result<Config> {
        let period = period_from(period)?;
        let (generated_at, as_of_fixed) = match as_of {
            Some(d) => {
                let date = NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                    Error::Usage(format!("--as-of '{d}' is not a date such as 2026-04-15"))
                })?;
                (date.and_time(chrono::NaiveTime::MIN).and_utc(), true)
            }
            None => (Utc::now(), false),
        };
        Ok(Config {
            period,
            templates: templates_from(read)?,
            factors: FactorSet::load(read.factors.as_deref())?,
            generated_at,
            as_of_fixed,
            entity: entity
                .unwrap_or("(reporting entity not set: use --entity)")
                .to_string(),
        })
    }
}

/// The period named by `--quarter`, `--year` or `--from/--to`.
pub fn period_from(p: &PeriodArgs) -> Result<Period> {
    let period = match (&p.quarter, &p.year, &p.from, &p.to) {
        (Some(q), None, None, None) => Period::quarter(q),
        (None, Some(y), None, None) => Period::year(y),
        (None, None, Some(f), Some(t)) => Period::range(f, t),
        _ => {
            return Err(Error::Usage(
                "name the reporting period: --quarter 2026Q1, --year 2026, or --from 2026-01-01 --to 2026-03-31"
                    .into(),
            ))
        }
    };
    period.map_err(|e| Error::Usage(e.to_string()))
}

/// Built-in templates plus the user's `--template` files.
pub fn templates_from(read: &ReadArgs) -> Result<TemplateSet> {
    let mut set = TemplateSet::builtin()?;
    for path in &read.templates {
        set.add(Template::from_file(path)?)?;
    }
    Ok(set)
}
