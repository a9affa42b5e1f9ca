//! The JSON summary's reporting-entity fields (ledger reports of a ledger that holds entities,
//! or `report --group`): `entity_scope` (the group, or one entity) and, for the group,
//! `entities`: the Entities sheet's rows, tidied as the other figures are.

use serde::Serialize;

use super::json::tidy;
use crate::model::Bounds;
use crate::pipeline::entities::{EntityRow, EntityScope};
use crate::pipeline::Outcome;

/// Which records the report covers.
#[derive(Debug, Serialize)]
pub(super) struct ScopeJson<'a> {
    /// `group` or `entity`.
    scope: &'static str,
    /// The entity, for `entity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    entity: Option<&'a str>,
}

/// One entity of the group (or the records of none) and its totals.
#[derive(Debug, Serialize)]
pub(super) struct EntityJson<'a> {
    /// The entity; null for the records assigned to no entity (in the group's figure only).
    entity: Option<&'a str>,
    records: usize,
    emissions_kgco2e: Bounds,
    energy_kwh: Bounds,
    input_tokens: u64,
    output_tokens: u64,
    spend: Vec<SpendJson<'a>>,
    /// The spend in the config file's reporting currency (absent without one; amount null
    /// when an exchange rate is missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    spend_reporting: Option<ReportingJson<'a>>,
}

#[derive(Debug, Serialize)]
struct ReportingJson<'a> {
    currency: &'a str,
    amount: Option<f64>,
}

#[derive(Debug, Serialize)]
struct SpendJson<'a> {
    currency: &'a str,
    amount: f64,
}

/// `entity_scope`, when the report has one.
pub(super) fn scope_json(o: &Outcome) -> Option<ScopeJson<'_>> {
    Some(match o.entity_scope.as_ref()? {
        EntityScope::Group(_) => ScopeJson {
            scope: "group",
            entity: None,
        },
        EntityScope::Entity(name) => ScopeJson {
            scope: "entity",
            entity: Some(name),
        },
    })
}

/// `entities`: the group's rows (empty otherwise).
pub(super) fn entities_json(o: &Outcome) -> Vec<EntityJson<'_>> {
    match &o.entity_scope {
        Some(EntityScope::Group(rows)) => rows
            .iter()
            .map(|r| row_json(r, o.reporting.as_ref().map(|rs| rs.currency.as_str())))
            .collect(),
        _ => vec![],
    }
}

fn row_json<'a>(r: &'a EntityRow, reporting: Option<&'a str>) -> EntityJson<'a> {
    let t = &r.totals;
    EntityJson {
        entity: r.entity.as_deref(),
        records: r.records,
        emissions_kgco2e: t.emissions_kgco2e.map(tidy),
        energy_kwh: t.energy_kwh.map(tidy),
        input_tokens: t.activity.input_tokens,
        output_tokens: t.activity.output_tokens,
        spend: t
            .spend
            .iter()
            .map(|(c, a)| SpendJson {
                currency: c,
                amount: tidy(*a),
            })
            .collect(),
        spend_reporting: reporting.map(|currency| ReportingJson {
            currency,
            amount: r.spend_reporting.map(tidy),
        }),
    }
}
