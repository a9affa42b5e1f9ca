//! [`Aggregator::finish`], step by step: the token lines estimated (factors resolved once per
//! distinct provider × model × region × year, with the sensitivity variants), the spend lines,
//! the supplier data, the AI Services lines with their totals, and the sensitivity table.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::Datelike;

use super::spend::spend_line;
use super::*;

impl Aggregator {
    /// Estimates every line and builds the summary.
    pub fn finish(
        mut self,
        set: &FactorSet,
        carbon: &[crate::model::CarbonRow],
    ) -> Result<Summary, AggregateError> {
        let mut entries: Vec<(CalcKey, Acc)> =
            self.calc.into_iter().map(|e| (e.key, e.acc)).collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        // Lines of image, audio and video models are never estimated from tokens: they join
        // the billed items listed as not estimated (estimated from their spend, if any).
        let entries = non_text_lines(entries, set, &mut self.not_estimated);
        let TokenLines {
            mut calc_lines,
            line_sens,
            mut factors,
        } = token_lines(entries, set);
        self.not_estimated = spend_lines(
            set,
            std::mem::take(&mut self.not_estimated),
            &mut calc_lines,
            &mut factors,
        );

        // Supplier-specific data (METHODOLOGY §5): vendor figures replace or sit beside the
        // estimates of the lines with their key.
        let unestimated: Vec<NotEstimatedKey> = self.not_estimated.keys().cloned().collect();
        let supplier = supplier::apply(carbon, &mut calc_lines, &unestimated);

        let (lines, mut totals) = ai_services_lines(&calc_lines)?;
        for acc in self.not_estimated.values() {
            add_spend(&mut totals.spend, &acc.spend);
        }
        let not_estimated = self
            .not_estimated
            .into_iter()
            .map(|(key, acc)| NotEstimatedLine {
                key,
                quantity: acc.quantity,
                spend: acc.spend,
                sources: acc
                    .sources
                    .into_iter()
                    .map(|((file, sheet), src)| src.into_ref(file, sheet))
                    .collect(),
            })
            .collect();
        let adjustments = self
            .adjustments
            .into_iter()
            .map(
                |((_, label, currency), (file, rows, amount))| AdjustmentLine {
                    file: file.to_string(),
                    label,
                    currency,
                    rows,
                    amount,
                },
            )
            .collect();
        let sensitivity = sensitivity(&calc_lines, &line_sens);
        self.coverage.sort_by(|a, b| a.0.cmp(&b.0));
        let coverage = self
            .coverage
            .iter()
            .map(|((p, (y, m)), bits)| (p.to_string(), format!("{y:04}-{m:02}"), bits.count_ones()))
            .collect();
        Ok(Summary {
            calc_lines,
            lines,
            totals,
            factors,
            not_estimated,
            adjustments,
            sensitivity,
            coverage,
            supplier,
        })
    }
}

/// The token lines, with each line's total at every sensitivity variant and the factors used.
struct TokenLines {
    calc_lines: Vec<CalcLine>,
    /// Per calculation line: total kgCO2e with each assumption at its low and high value.
    line_sens: Vec<[(f64, f64); SENSITIVITY.len()]>,
    factors: BTreeMap<String, FactorUse>,
}

/// Estimates each token calculation line: factors resolved once per distinct provider ×
/// model × region × scope × year (with the sensitivity table's variants), method, data
/// quality, flags and factor ids.
fn token_lines(entries: Vec<(CalcKey, Acc)>, set: &FactorSet) -> TokenLines {
    type FactorKey = (Arc<str>, String, Option<String>, Option<String>, i32);
    // Per distinct factor key: the line factors, and for each assumption of the
    // sensitivity table the same factors with that one at its low and at its high value.
    let mut cache: HashMap<FactorKey, (LineFactors, Vec<(LineFactors, LineFactors)>)> =
        HashMap::new();
    let mut factors: BTreeMap<String, FactorUse> = BTreeMap::new();
    // Factor ids repeat on every line: one shared string per distinct id.
    let mut ids_seen: std::collections::HashSet<Arc<str>> = std::collections::HashSet::new();
    let mut intern = |id: &str| -> Arc<str> {
        if let Some(a) = ids_seen.get(id) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(id);
        ids_seen.insert(a.clone());
        a
    };
    let mut calc_lines = Vec::with_capacity(entries.len());
    // Per calculation line: total kgCO2e with each assumption at its low and high value.
    let mut line_sens: Vec<[(f64, f64); SENSITIVITY.len()]> = Vec::with_capacity(entries.len());
    for (key, acc) in entries {
        let year = key
            .line
            .month
            .get(..4)
            .and_then(|y| y.parse::<i32>().ok())
            .unwrap_or_else(|| chrono::NaiveDate::MIN.year());
        let (lf, variants) = cache
            .entry((
                key.line.provider.clone(),
                key.line.model.clone(),
                key.line.region.clone(),
                key.line.region_scope.clone(),
                year,
            ))
            .or_insert_with(|| {
                let lf = LineFactors::resolve(
                    set,
                    &key.line.provider,
                    &key.line.model,
                    key.line.region.as_deref(),
                    key.line.region_scope.as_deref(),
                    year,
                );
                let variants = SENSITIVITY
                    .iter()
                    .map(|(_, set_to)| {
                        let at = |pick: fn(&Bounds) -> f64| {
                            let mut f = lf.clone();
                            set_to(&mut f, pick);
                            f
                        };
                        (at(|b| b.low), at(|b| b.high))
                    })
                    .collect();
                (lf, variants)
            });
        for u in &lf.uses {
            if !factors.contains_key(&u.id) {
                factors.insert(u.id.clone(), u.clone());
            }
        }
        let est = estimate(&acc.activity, lf);
        // One assumption at a time at its low / high value, the others central.
        let mut sens = [(0.0, 0.0); SENSITIVITY.len()];
        for (slot, (lo, hi)) in sens.iter_mut().zip(variants.iter()) {
            *slot = (
                estimate(&acc.activity, lo).emissions_kgco2e.central,
                estimate(&acc.activity, hi).emissions_kgco2e.central,
            );
        }
        line_sens.push(sens);
        let average = key.line.tokens_imputed || lf.by_class();
        let method = if average {
            Method::AverageData
        } else {
            Method::Hybrid
        };
        let mut flags = lf.flags.clone();
        if acc.activity.input_characters > 0 || acc.activity.output_characters > 0 {
            flags.push(format!(
                "characters converted to tokens (÷{} / ÷{} / ÷{} characters per token)",
                lf.chars_per_token.low, lf.chars_per_token.central, lf.chars_per_token.high
            ));
        }
        if key.line.tokens_imputed {
            let reasoning = if lf.request_output_id == "request_output_tokens_reasoning" {
                ", a reasoning model's answer"
            } else {
                ""
            };
            flags.push(format!(
                "tokens imputed from requests ({} input + {} output per request{reasoning})",
                lf.request_tokens.0, lf.request_tokens.1
            ));
        }
        let dq = DataQuality {
            technology: lf.dq_technology,
            time: lf.dq_time(year),
            geography: lf.geo_level.dq_score(),
            completeness: if key.line.tokens_imputed { 3 } else { 1 },
            reliability: if average { 3 } else { 2 },
        };
        let mut factor_ids: Vec<Arc<str>> = lf.uses.iter().map(|u| intern(&u.id)).collect();
        if key.line.tokens_imputed {
            let imputation = [
                "request_input_tokens",
                lf.request_output_id,
                "request_bounds",
            ];
            for id in imputation {
                factor_ids.push(intern(&format!("const:{id}")));
            }
            for id in imputation {
                if let Some(c) = set.constant(id) {
                    factors
                        .entry(format!("const:{id}"))
                        .or_insert_with(|| FactorUse {
                            id: format!("const:{id}"),
                            kind: "requests-only imputation".into(),
                            value: c.bounds(),
                            unit: c.unit.clone(),
                            year: None,
                            subject: "rows with requests but no tokens".into(),
                            basis: c.notes.clone(),
                            source_id: c.source_id.clone(),
                        });
                }
            }
        }
        calc_lines.push(CalcLine {
            source: SourceRef {
                file: acc.file.to_string(),
                sheet: key.sheet.as_deref().map(str::to_string),
                rows: [acc.first_row, acc.last_row],
                count: acc.rows,
                list: {
                    let mut list = acc.list;
                    list.settle();
                    list
                },
            },
            body: LineBody {
                model_key: lf.model.key.clone(),
                method,
                activity: acc.activity,
                spend: acc.spend,
                estimate: est,
                factor_ids,
                dq,
                flags,
                grid_geo: lf.grid_row.geo_id.clone(),
                grid_year: lf.grid_row.year,
                geo_level: lf.geo_level,
                energy_estimated: true,
                supplier: None,
            },
            key: key.line,
        });
    }
    TokenLines {
        calc_lines,
        line_sens,
        factors,
    }
}

/// The kind of a non-text model (`image`, `audio`, `video`), `None` for text and embedding
/// models. Factor sets before 2026.2 have no such kind, so nothing changes for them.
pub(super) fn non_text_kind(set: &FactorSet, model: &str) -> Option<String> {
    let kind = set.resolve_model(model).kind;
    matches!(kind.as_str(), "image" | "audio" | "video").then_some(kind)
}

/// The flag of a line of a non-text model, and the label of its item when listed.
pub(super) fn non_text_label(kind: &str) -> String {
    format!("{kind} model: not estimated from tokens")
}

/// Moves the token lines of image, audio and video models into the not-estimated items (one
/// per line: its tokens, or its requests when it has no tokens, with its spend); returns the
/// other lines.
fn non_text_lines(
    entries: Vec<(CalcKey, Acc)>,
    set: &FactorSet,
    not_estimated: &mut BTreeMap<NotEstimatedKey, NotEstimatedAcc>,
) -> Vec<(CalcKey, Acc)> {
    let mut kinds: HashMap<String, Option<String>> = HashMap::new();
    let mut text = Vec::with_capacity(entries.len());
    for (key, acc) in entries {
        let kind = kinds
            .entry(key.line.model.clone())
            .or_insert_with(|| non_text_kind(set, &key.line.model))
            .clone();
        let Some(kind) = kind else {
            text.push((key, acc));
            continue;
        };
        let a = &acc.activity;
        let tokens = a.input_tokens + a.output_tokens + a.input_characters + a.output_characters;
        let (quantity, unit) = match (tokens, a.input_characters + a.output_characters) {
            (0, _) => (a.requests as f64, "requests"),
            (_, 0) => (tokens as f64, "tokens"),
            _ => (tokens as f64, "tokens and characters"),
        };
        let line = key.line;
        let item = NotEstimatedKey {
            provider: line.provider,
            label: non_text_label(&kind),
            model: line.model,
            region: line.region,
            month: line.month,
            cost_centre: line.cost_centre,
            unit: unit.to_string(),
            spend_only: false,
            file: acc.file.to_string(),
            account: line.account,
            service: line.service,
        };
        let e = not_estimated.entry(item).or_default();
        e.quantity += quantity;
        e.rows += acc.rows;
        add_spend(&mut e.spend, &acc.spend);
        let src = e
            .sources
            .entry((
                acc.file.to_string(),
                key.sheet.as_deref().map(str::to_string),
            ))
            .or_insert(SourceAcc {
                first: acc.first_row,
                last: acc.last_row,
                ..SourceAcc::default()
            });
        src.first = src.first.min(acc.first_row);
        src.last = src.last.max(acc.last_row);
        src.count += acc.rows;
        src.list.absorb(acc.list);
    }
    text
}

/// The spend lines (METHODOLOGY §4) added to `calc_lines`; returns the billed items left
/// unestimated.
fn spend_lines(
    set: &FactorSet,
    not_estimated: BTreeMap<NotEstimatedKey, NotEstimatedAcc>,
    calc_lines: &mut Vec<CalcLine>,
    factors: &mut BTreeMap<String, FactorUse>,
) -> BTreeMap<NotEstimatedKey, NotEstimatedAcc> {
    // Spend (METHODOLOGY §4): billed items no token export carries, and cost-export rows
    // of a provider and month no usage export covers, are estimated from their money;
    // cost-export rows that a usage export covers are listed for reconciliation only.
    let covered: std::collections::HashSet<(Arc<str>, String)> = calc_lines
        .iter()
        .map(|c| (c.key.provider.clone(), c.key.month.clone()))
        .collect();
    let mut listed: BTreeMap<NotEstimatedKey, NotEstimatedAcc> = BTreeMap::new();
    for (key, acc) in not_estimated {
        // A cost-export row of an image, audio or video model is no reconciliation: the
        // usage export's line of that model is not estimated, so its spend is the estimate.
        if key.spend_only
            && covered.contains(&(key.provider.clone(), key.month.clone()))
            && non_text_kind(set, &key.model).is_none()
        {
            listed.insert(key, acc);
            continue;
        }
        match spend_line(set, &key, &acc, factors) {
            Some(lines) => calc_lines.extend(lines),
            None => {
                listed.insert(key, acc);
            }
        }
    }
    listed
}

/// The AI Services lines (calculation lines grouped by key, compensated sums) and the totals
/// of the estimate (spend of unestimated items is the caller's to add).
fn ai_services_lines(calc_lines: &[CalcLine]) -> Result<(Vec<Line>, Totals), AggregateError> {
    // AI Services lines: group calculation lines by key.
    let mut groups: BTreeMap<LineKey, Vec<usize>> = BTreeMap::new();
    for (i, c) in calc_lines.iter().enumerate() {
        groups.entry(c.key.clone()).or_default().push(i);
    }
    let mut lines = Vec::with_capacity(groups.len());
    let mut totals = Totals::default();
    let mut total_sum = EstimateSum::default();
    let mut dq_weighted = KSum::default();
    let mut dq_weight = KSum::default();
    let mut primary = KSum::default();
    for (key, idx) in groups {
        let first = &calc_lines[idx[0]];
        let mut supplier = first.body.supplier.clone();
        for &i in idx.iter().skip(1) {
            if let (Some(s), Some(o)) = (supplier.as_mut(), &calc_lines[i].body.supplier) {
                s.add(o);
            }
        }
        let mut activity = Activity::default();
        let mut spend = BTreeMap::new();
        let mut sum = EstimateSum::default();
        let mut sources = vec![];
        for &i in &idx {
            let c = &calc_lines[i];
            add_activity(&mut activity, &c.body.activity)?;
            add_spend(&mut spend, &c.body.spend);
            sum.add(&c.body.estimate);
            total_sum.add(&c.body.estimate);
            sources.push(c.source.clone());
        }
        add_activity(&mut totals.activity, &activity)?;
        add_spend(&mut totals.spend, &spend);
        let body = LineBody {
            activity,
            spend,
            estimate: sum.value(),
            supplier,
            ..first.body.clone()
        };
        let w = body.estimate.emissions_kgco2e.central;
        if body.method == Method::SupplierSpecific {
            primary.add(w);
        }
        dq_weighted.add(w * body.dq.score());
        dq_weight.add(w);
        lines.push(Line { key, sources, body });
    }
    let t = total_sum.value();
    totals.imputed_input_tokens = t.imputed_input_tokens;
    totals.imputed_output_tokens = t.imputed_output_tokens;
    totals.energy_kwh = t.energy_kwh;
    totals.emissions_kgco2e = t.emissions_kgco2e;
    totals.embodied_kgco2e = t.embodied_kgco2e;
    totals.operational_kgco2e = t.operational_kgco2e;
    totals.water_l = t.water_l;
    totals.cfe_adjusted_kgco2e = t.cfe_adjusted_kgco2e;
    totals.primary_data_share = if t.emissions_kgco2e.central > 0.0 {
        primary.value() / t.emissions_kgco2e.central
    } else {
        0.0
    };
    totals.data_quality_score =
        (dq_weight.value() > 0.0).then(|| dq_weighted.value() / dq_weight.value());
    Ok((lines, totals))
}

/// The sensitivity table: the total with each assumption at its low and at its high value.
fn sensitivity(
    calc_lines: &[CalcLine],
    line_sens: &[[(f64, f64); SENSITIVITY.len()]],
) -> Vec<(String, f64, f64)> {
    // Spend-based and supplier-specific lines do not depend on these assumptions: they add
    // their central to both sides.
    let mut sens: Vec<(KSum, KSum)> = vec![(KSum::default(), KSum::default()); SENSITIVITY.len()];
    for (i, c) in calc_lines.iter().enumerate() {
        let fixed = c.key.spend.is_some() || c.body.method == Method::SupplierSpecific;
        for (k, (lo, hi)) in sens.iter_mut().enumerate() {
            match line_sens.get(i).and_then(|s| s.get(k)) {
                Some(&(l, h)) if !fixed => {
                    lo.add(l);
                    hi.add(h);
                }
                _ => {
                    let v = c.body.estimate.emissions_kgco2e.central;
                    lo.add(v);
                    hi.add(v);
                }
            }
        }
    }
    SENSITIVITY
        .iter()
        .zip(sens)
        .map(|((n, _), (lo, hi))| (n.to_string(), lo.value(), hi.value()))
        .collect()
}

/// A factor of [`LineFactors`] set flat to one of its values.
type Setter = fn(&mut LineFactors, fn(&Bounds) -> f64);

/// The assumptions of the sensitivity table (REPORT.md sheet 9).
const SENSITIVITY: &[(&str, Setter); 5] = &[
    ("energy per token (model size, utilisation)", |f, v| {
        f.energy.e_out = Bounds::flat(v(&f.energy.e_out));
        f.energy.e_in = Bounds::flat(v(&f.energy.e_in));
    }),
    ("PUE (data-centre overhead)", |f, v| {
        f.pue = Bounds::flat(v(&f.pue))
    }),
    ("grid emission factor", |f, v| {
        f.grid = Bounds::flat(v(&f.grid))
    }),
    ("embodied hardware adder", |f, v| {
        f.embodied = Bounds::flat(v(&f.embodied))
    }),
    ("cached-input discount", |f, v| {
        f.k_cache = Bounds::flat(v(&f.k_cache))
    }),
];
