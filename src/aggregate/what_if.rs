//! Levers (#22 item 3): what the period's figure would have been had some usage gone another
//! way. Each scenario re-estimates the AI Services lines it touches with the same arithmetic
//! and factor set as the report ([`LineFactors::resolve`], [`estimate`]) and states the change
//! of emissions, energy and water, low / central / high (each bound against the same bound:
//! every factor at its low value in both cases, and so on). Scenarios:
//!
//! - `move 50% gpt-4o to gpt-4o-mini`: a share of a model's tokens served by another model of
//!   the same provider (`to anthropic/claude-haiku-4-5` for another provider);
//! - `region anthropic eu-north-1`: a provider's usage served from another region;
//! - `cache 30% of input` (optionally `for openai` or `for gpt-4o`): a share of the input
//!   tokens not yet cached read from the provider's prompt cache.
//!
//! Only lines whose energy is estimated from tokens take part (spend-based lines have no
//! tokens to move); a line replaced by the vendor's own carbon figure is re-estimated on the
//! estimate's basis, and the scenario says so.

use serde::Serialize;

use super::Summary;
use crate::estimate::{estimate, Activity, Estimate, LineFactors};
use crate::factors::{FactorSet, GeoLevel, ModelMatch};
use crate::model::Bounds;

/// A scenario as asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Lever {
    /// A share of one model's tokens served by another model.
    Move {
        /// 0 < share <= 1.
        share: f64,
        /// The model moved from, as named (resolved with the factor set).
        from: String,
        /// The model moved to, as named; `provider/model` for another provider.
        to: String,
    },
    /// A provider's usage served from another region.
    Region {
        /// Provider key.
        provider: String,
        /// The region.
        region: String,
    },
    /// A share of the uncached input tokens read from the prompt cache.
    Cache {
        /// 0 < share <= 1.
        share: f64,
        /// Only this provider's or model's lines (`None`: every line).
        only: Option<String>,
    },
}

/// How to write a scenario, for error messages and `--help`.
pub const SYNTAX: &str = "move 50% gpt-4o to gpt-4o-mini | region anthropic eu-north-1 | cache 30% of input [for openai|gpt-4o]";

impl Lever {
    /// Reads a scenario written as in [`SYNTAX`]; the error says what was wrong, in words.
    pub fn parse(spec: &str) -> Result<Lever, String> {
        let words: Vec<&str> = spec.split_whitespace().collect();
        let bad = |why: &str| {
            Err(format!(
                "what-if '{spec}': {why}; write it as one of: {SYNTAX}"
            ))
        };
        let share = |w: &str| -> Option<f64> {
            let n: f64 = w.strip_suffix('%')?.trim().parse().ok()?;
            (n > 0.0 && n <= 100.0).then_some(n / 100.0)
        };
        match words.as_slice() {
            ["move", pct, from, "to", to] => match share(pct) {
                Some(s) => Ok(Lever::Move {
                    share: s,
                    from: from.to_string(),
                    to: to.to_string(),
                }),
                None => bad("the share must be a percentage above 0 and at most 100, such as 50%"),
            },
            ["region", provider, region] => Ok(Lever::Region {
                provider: provider.to_ascii_lowercase(),
                region: region.to_string(),
            }),
            ["cache", pct, "of", "input", rest @ ..] => {
                let Some(s) = share(pct) else {
                    return bad(
                        "the share must be a percentage above 0 and at most 100, such as 30%",
                    );
                };
                let only = match rest {
                    [] => None,
                    ["for", what] => Some(what.to_string()),
                    _ => {
                        return bad(
                            "after 'of input' only 'for PROVIDER' or 'for MODEL' may follow",
                        )
                    }
                };
                Ok(Lever::Cache { share: s, only })
            }
            _ => bad("not a scenario this tool knows"),
        }
    }

    /// The scenario in words.
    pub fn describe(&self) -> String {
        let pct = |s: f64| format!("{}%", tidy_pct(s * 100.0));
        match self {
            Lever::Move { share, from, to } => {
                format!(
                    "{} of the {from} tokens served by {to} instead",
                    pct(*share)
                )
            }
            Lever::Region { provider, region } => {
                format!("{provider}'s usage served from {region}")
            }
            Lever::Cache { share, only } => format!(
                "{} of the input tokens not yet cached read from the prompt cache{}",
                pct(*share),
                only.as_ref()
                    .map(|o| format!(" ({o} only)"))
                    .unwrap_or_default()
            ),
        }
    }
}

fn tidy_pct(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// What a scenario changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The scenario as written.
    pub spec: String,
    /// The scenario.
    pub lever: Lever,
    /// In words.
    pub description: String,
    /// AI Services lines it changes.
    pub lines: usize,
    /// Change of emissions, kgCO2e (negative: a saving).
    pub delta_kgco2e: Bounds,
    /// Change of facility energy, kWh.
    pub delta_energy_kwh: Bounds,
    /// Change of water, L.
    pub delta_water_l: Bounds,
    /// The period's emissions had it been so, kgCO2e.
    pub total_after_kgco2e: Bounds,
    /// What the reader must know (fallbacks, lines re-estimated on the estimate's basis).
    pub notes: Vec<String>,
}

/// Evaluates each scenario against the report's lines.
pub fn evaluate(s: &Summary, set: &FactorSet, levers: &[(String, Lever)]) -> Vec<Outcome> {
    levers
        .iter()
        .map(|(spec, lever)| one(s, set, spec, lever))
        .collect()
}

fn one(s: &Summary, set: &FactorSet, spec: &str, lever: &Lever) -> Outcome {
    let zero = Bounds::flat(0.0);
    let mut out = Outcome {
        spec: spec.to_string(),
        lever: lever.clone(),
        description: lever.describe(),
        lines: 0,
        delta_kgco2e: zero,
        delta_energy_kwh: zero,
        delta_water_l: zero,
        total_after_kgco2e: s.totals.emissions_kgco2e,
        notes: vec![],
    };
    let mut supplier_lines = 0usize;
    let add_note = |notes: &mut Vec<String>, n: String| {
        if !notes.contains(&n) {
            notes.push(n);
        }
    };
    for l in &s.lines {
        let b = &l.body;
        if !b.energy_estimated {
            continue;
        }
        let year = l
            .key
            .month
            .get(..4)
            .and_then(|y| y.parse::<i32>().ok())
            .unwrap_or(2026);
        let resolve = |provider: &str, model: &str, region: Option<&str>, scope: Option<&str>| {
            LineFactors::resolve(set, provider, model, region, scope, year)
        };
        let now = resolve(
            &l.key.provider,
            &l.key.model,
            l.key.region.as_deref(),
            l.key.region_scope.as_deref(),
        );
        let before = estimate(&b.activity, &now);
        // (the estimate had it been so, the share of the line it applies to)
        let after: Option<(Estimate, f64)> = match lever {
            Lever::Move { share, from, to } => {
                if !names_model(set, from, &l.key.model, &b.model_key) {
                    None
                } else {
                    let (provider, model) = match to.split_once('/') {
                        Some((p, m)) => (p.to_ascii_lowercase(), m.to_string()),
                        None => (l.key.provider.to_string(), to.clone()),
                    };
                    let target = resolve(
                        &provider,
                        &model,
                        l.key.region.as_deref(),
                        l.key.region_scope.as_deref(),
                    );
                    match &target.model.how {
                        ModelMatch::Class(c) => add_note(
                            &mut out.notes,
                            format!("{to} is not in factor set {}: estimated from the size class {c}", set.version),
                        ),
                        ModelMatch::Sibling(sib) => add_note(
                            &mut out.notes,
                            format!("{to} is not in factor set {}: estimated as its nearest sibling {sib}", set.version),
                        ),
                        _ => {}
                    }
                    Some((estimate(&b.activity, &target), *share))
                }
            }
            Lever::Region { provider, region } => {
                if *l.key.provider != **provider {
                    None
                } else {
                    let there = resolve(&l.key.provider, &l.key.model, Some(region), None);
                    if matches!(
                        there.geo_level,
                        GeoLevel::ProviderDefault | GeoLevel::World | GeoLevel::Aggregate
                    ) {
                        add_note(
                            &mut out.notes,
                            format!(
                                "factor set {} has no grid factor for {region}: the {} value was used",
                                set.version, there.grid_row.geo_id
                            ),
                        );
                    }
                    Some((estimate(&b.activity, &there), 1.0))
                }
            }
            Lever::Cache { share, only } => {
                let applies = match only {
                    None => true,
                    Some(o) => {
                        o.eq_ignore_ascii_case(&l.key.provider)
                            || names_model(set, o, &l.key.model, &b.model_key)
                    }
                };
                let a = &b.activity;
                let uncached = a.input_tokens.saturating_sub(a.cached_input_tokens);
                if !applies || uncached == 0 {
                    None
                } else {
                    let more = (uncached as f64 * share).round() as u64;
                    let cached = Activity {
                        cached_input_tokens: a.cached_input_tokens.saturating_add(more),
                        ..*a
                    };
                    Some((estimate(&cached, &now), 1.0))
                }
            }
        };
        let Some((after, share)) = after else {
            continue;
        };
        out.lines += 1;
        if b.supplier.as_ref().is_some_and(|u| u.used) {
            supplier_lines += 1;
        }
        let diff = |x: Bounds, y: Bounds| x.zip(y, |a, b| share * (a - b));
        let add = |acc: Bounds, d: Bounds| acc.zip(d, |a, b| a + b);
        out.delta_kgco2e = add(
            out.delta_kgco2e,
            diff(after.emissions_kgco2e, before.emissions_kgco2e),
        );
        out.delta_energy_kwh = add(
            out.delta_energy_kwh,
            diff(after.energy_kwh, before.energy_kwh),
        );
        out.delta_water_l = add(out.delta_water_l, diff(after.water_l, before.water_l));
    }
    if out.lines == 0 {
        out.notes.push(match lever {
            Lever::Move { from, .. } => format!(
                "no line of this report with tokens is billed for {from} (as the factor set resolves it: {})",
                set.resolve_model(from).key
            ),
            Lever::Region { provider, .. } => {
                format!("no line of this report is {provider}'s with tokens")
            }
            Lever::Cache { .. } => "no line with uncached input tokens matches".into(),
        });
    }
    if supplier_lines > 0 {
        out.notes.push(format!(
            "{supplier_lines} of the lines carry the vendor's own carbon figure in the report; the change is computed on the tool's estimate for them"
        ));
    }
    out.total_after_kgco2e = s
        .totals
        .emissions_kgco2e
        .zip(out.delta_kgco2e, |t, d| t + d);
    out
}

/// True when `name` names the line's model: the factor set's model it resolves to, or, for a
/// name the set does not know (estimated by size class), the exported name itself, so that an
/// unknown name never takes in every line estimated from the same class.
fn names_model(set: &FactorSet, name: &str, exported: &str, model_key: &str) -> bool {
    let r = set.resolve_model(name);
    match r.how {
        ModelMatch::Class(_) => exported.eq_ignore_ascii_case(name),
        _ => r.key == model_key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_are_read_in_words_and_refused_in_words() {
        assert_eq!(
            Lever::parse("move 50% gpt-4o to gpt-4o-mini").unwrap(),
            Lever::Move {
                share: 0.5,
                from: "gpt-4o".into(),
                to: "gpt-4o-mini".into()
            }
        );
        assert_eq!(
            Lever::parse("region Anthropic eu-north-1").unwrap(),
            Lever::Region {
                provider: "anthropic".into(),
                region: "eu-north-1".into()
            }
        );
        assert_eq!(
            Lever::parse("cache 30% of input for openai").unwrap(),
            Lever::Cache {
                share: 0.3,
                only: Some("openai".into())
            }
        );
        for (spec, says) in [
            ("move 150% gpt-4o to gpt-4o-mini", "at most 100"),
            ("move half gpt-4o to gpt-4o-mini", "a percentage"),
            ("shrink everything", "not a scenario"),
            ("cache 30% of input please", "only 'for PROVIDER'"),
        ] {
            let e = Lever::parse(spec).unwrap_err();
            assert!(e.contains(says) && e.contains("write it as one of"), "{e}");
        }
        assert_eq!(
            Lever::parse("move 12.5% a to b").unwrap().describe(),
            "12.5% of the a tokens served by b instead"
        );
    }
}
