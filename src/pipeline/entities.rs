//! Reporting entities of a group in one ledger (#21 item 3): which records a report from the
//! ledger covers (`report --entity NAME`: one subsidiary's; `report --group`: all of them,
//! consolidated), and for the group each entity's totals, each aggregated from the ledger by
//! the report's own path ([`super::aggregate_ledger`] with the entity as the query's filter:
//! the same factor set, configuration and estimate as `report --entity NAME` gives), plus the
//! records assigned to no entity, which belong to the group only. Nothing is estimated here.
//!
//! A ledger without entities reports as before: every record, no Entities sheet.

use super::aggregate_ledger;
use crate::aggregate::Totals;
use crate::config::{Config, Scope};
use crate::error::{Error, Result};
use crate::ledger::{EntityFilter, Ledger};

/// Which records a report covers, once the ledger's entities are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Every record, as before entities existed (a ledger without entities, no `--group`).
    All,
    /// The group: every record, with the entities the ledger holds (sorted).
    Group(Vec<String>),
    /// One entity's records.
    Entity(String),
}

impl Resolved {
    /// The records the report reads.
    pub fn filter(&self) -> EntityFilter<'_> {
        match self {
            Resolved::All | Resolved::Group(_) => EntityFilter::All,
            Resolved::Entity(name) => EntityFilter::Named(name),
        }
    }
}

/// What `scope` means for this ledger: a report without `--entity` or `--group` is the
/// group's when the ledger holds entities (it covers every record either way); `--entity NAME`
/// is refused when the ledger holds entities but not that one, and names the Cover only (as
/// before entities existed) when it holds none.
pub fn resolve(ledger: &Ledger, scope: &Scope) -> Result<Resolved> {
    let names = ledger.entities()?;
    match scope {
        Scope::All if names.is_empty() => Ok(Resolved::All),
        Scope::All | Scope::Group => Ok(Resolved::Group(names)),
        Scope::Entity(name) if names.iter().any(|n| n == name) => {
            Ok(Resolved::Entity(name.clone()))
        }
        Scope::Entity(_) if names.is_empty() => Ok(Resolved::All),
        Scope::Entity(name) => Err(Error::Usage(format!(
            "ledger {} holds no record of the entity '{name}'; its entities are {}. Name one of them with --entity, or report the whole group with --group",
            ledger.shown(),
            names
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// How the records of no entity are named on the Entities sheet and the terminal.
pub const NO_ENTITY: &str = "(no entity: in the group's figure only)";

/// One row of the group's Entities sheet: an entity (or the records of none) and its totals
/// for the period.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRow {
    /// The entity; `None`: the records assigned to no entity (in the group's figure only).
    pub entity: Option<String>,
    /// Its active records in the period.
    pub records: usize,
    /// Its totals, as `report --entity NAME` computes them.
    pub totals: Totals,
    /// Its spend in the config file's reporting currency, as `report --entity NAME` converts
    /// it (`None`: no reporting currency, or an amount without an exchange rate).
    pub spend_reporting: Option<f64>,
}

/// The scope a report covers, as the workbook and the JSON summary state it.
#[derive(Debug, Clone, PartialEq)]
pub enum EntityScope {
    /// The group, consolidated: each entity's totals (every entity the ledger holds, in name
    /// order, then the records of none when the period has any), which add up to the group's.
    Group(Vec<EntityRow>),
    /// One reporting entity's records.
    Entity(String),
}

impl EntityRow {
    /// The entity's name, or [`NO_ENTITY`].
    pub fn name(&self) -> &str {
        self.entity.as_deref().unwrap_or(NO_ENTITY)
    }
}

impl EntityScope {
    /// `group`, or `entity NAME`, for sentences.
    pub fn text(&self) -> String {
        match self {
            EntityScope::Group(_) => "the group (consolidated)".into(),
            EntityScope::Entity(name) => format!("entity {name}"),
        }
    }

    /// The sum of the rows' totals (the group's figure again, summed over the entities).
    pub fn rows_sum(&self) -> Option<Totals> {
        let EntityScope::Group(rows) = self else {
            return None;
        };
        let mut t = Totals::default();
        for r in rows {
            let add = |a: &mut crate::model::Bounds, b: crate::model::Bounds| {
                a.low += b.low;
                a.central += b.central;
                a.high += b.high;
            };
            add(&mut t.emissions_kgco2e, r.totals.emissions_kgco2e);
            add(&mut t.energy_kwh, r.totals.energy_kwh);
            t.activity.input_tokens += r.totals.activity.input_tokens;
            t.activity.output_tokens += r.totals.activity.output_tokens;
            for (c, v) in &r.totals.spend {
                *t.spend.entry(c.clone()).or_insert(0.0) += v;
            }
        }
        Some(t)
    }
}

/// The report's scope: one entity's, or the group's with each entity's totals (`None` for a
/// ledger without entities reported without `--group`).
pub(super) fn scope(
    ledger: &Ledger,
    cfg: &Config,
    resolved: &Resolved,
) -> Result<Option<EntityScope>> {
    let names = match resolved {
        Resolved::All => return Ok(None),
        Resolved::Entity(name) => return Ok(Some(EntityScope::Entity(name.clone()))),
        Resolved::Group(names) => names,
    };
    let mut rows = Vec::with_capacity(names.len() + 1);
    let row = |entity: Option<&String>, filter| -> Result<EntityRow> {
        let (mut s, _, n, ..) = aggregate_ledger(ledger, &cfg.period, cfg, filter)?;
        let spend_reporting = cfg.settings.currency.as_deref().and_then(|to| {
            crate::aggregate::currency::reporting_spend(&cfg.factors, to, &mut s, &[], &cfg.period)
                .total
        });
        Ok(EntityRow {
            entity: entity.cloned(),
            records: n,
            totals: s.totals,
            spend_reporting,
        })
    };
    for name in names {
        rows.push(row(Some(name), EntityFilter::Named(name))?);
    }
    // The records of none, whenever there are some (or vendor carbon rows of none), so that
    // the rows add up to the group's figure.
    let none = row(None, EntityFilter::Unassigned)?;
    if none.records > 0 || none.totals.emissions_kgco2e.central != 0.0 || names.is_empty() {
        rows.push(none);
    }
    Ok(Some(EntityScope::Group(rows)))
}
