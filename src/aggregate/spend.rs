//! Spend-based lines (METHODOLOGY §4): billed items no token export carries, estimated from
//! their money by price inversion (the model's price list) or EEIO (a sector factor per USD,
//! deflated to the factor's year).

use std::collections::BTreeMap;

use super::*;

/// USD of a spend map in `year` (via the set's annual rates); `None` if a rate is missing.
fn to_usd(set: &FactorSet, spend: &BTreeMap<String, f64>, year: i32) -> Option<(f64, Vec<String>)> {
    let mut usd = 0.0;
    let mut ids = vec![];
    for (cur, amount) in spend {
        if cur == "USD" {
            usd += amount;
            continue;
        }
        let r = set.usd_rate(cur, year)?;
        usd += amount * r.usd_per_unit;
        ids.push(format!("fx:{}:{}", r.currency, r.year));
    }
    Some((usd, ids))
}

/// The spend line(s) of one billed item: price inversion when the model's list price is
/// known (cost-export rows), else EEIO. `None` when it cannot be estimated (no spend, no
/// exchange rate).
pub(super) fn spend_line(
    set: &FactorSet,
    key: &NotEstimatedKey,
    acc: &NotEstimatedAcc,
    factors: &mut BTreeMap<String, FactorUse>,
) -> Option<Vec<CalcLine>> {
    let year: i32 = key.month.get(..4).and_then(|y| y.parse().ok())?;
    let (usd, fx_ids) = to_usd(set, &acc.spend, year)?;
    if usd <= 0.0 {
        return None;
    }
    record_exchange_rates(set, &fx_ids, factors);
    let model = set.resolve_model(&key.model);
    let price = set
        .prices
        .get(&model.key.to_lowercase())
        .filter(|p| p.currency == "USD");
    let source = acc
        .sources
        .iter()
        .next()
        .map(|((file, sheet), src)| src.clone().into_ref(file.clone(), sheet.clone()))?;
    let item = SpendItem {
        set,
        key,
        acc,
        usd,
        year,
    };
    // An image, audio or video model's spend is never turned into text tokens.
    let non_text = super::finish::non_text_kind(set, &key.model);
    let (mut body, spend_kind) = match (key.spend_only && non_text.is_none(), price) {
        // A tier's line is its own: its tokens come from other prices.
        (true, Some(p)) => (
            price_inversion(&item, p, fx_ids, factors)?,
            match crate::model::price_tier(&key.label) {
                Some(t) => format!("price inversion at {t} prices"),
                None => "price inversion".into(),
            },
        ),
        _ => {
            let model_key = if key.spend_only || non_text.is_some() {
                model.key.clone()
            } else {
                format!("item:{}", key.label)
            };
            (eeio(&item, model_key, fx_ids, factors)?, "EEIO".into())
        }
    };
    if let Some(kind) = &non_text {
        body.flags.insert(
            0,
            format!(
                "image/audio/video model: not estimated from tokens ({kind}, model '{}' as {})",
                key.model, model.key
            ),
        );
    }
    let line_key = LineKey {
        provider: key.provider.clone(),
        model: key.model.clone(),
        region: key.region.clone(),
        region_scope: None,
        month: key.month.clone(),
        cost_centre: key.cost_centre.clone(),
        tokens_imputed: false,
        spend: Some(spend_kind),
        account: key.account.clone(),
        service: key.service.clone(),
    };
    Some(vec![CalcLine {
        key: line_key,
        source,
        body,
    }])
}

/// One billed item estimated from its money: its key, amounts, USD value and year.
struct SpendItem<'a> {
    set: &'a FactorSet,
    key: &'a NotEstimatedKey,
    acc: &'a NotEstimatedAcc,
    usd: f64,
    year: i32,
}

/// The exchange rates a conversion used, among the factors of the report.
fn record_exchange_rates(
    set: &FactorSet,
    fx_ids: &[String],
    factors: &mut BTreeMap<String, FactorUse>,
) {
    for id in fx_ids {
        if let Some((cur, y)) = id.strip_prefix("fx:").and_then(|r| r.split_once(':')) {
            if let Some(row) = y
                .parse()
                .ok()
                .and_then(|y: i32| set.fx.get(&(cur.to_string(), y)))
            {
                factors.entry(id.clone()).or_insert_with(|| FactorUse {
                    id: id.clone(),
                    kind: "exchange rate (annual average)".into(),
                    value: Bounds::flat(row.usd_per_unit),
                    unit: format!("USD per {cur}"),
                    year: Some(row.year),
                    subject: cur.to_string(),
                    basis: "converts spend to USD".into(),
                    source_id: row.source_id.clone(),
                });
            }
        }
    }
}

/// A multiplier for a flag: at most three decimals, no trailing zeros (`0.5`, `2`, `2.395`).
fn short(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Price inversion (METHODOLOGY §4): tokens from spend and the model's list price, 3 input
/// tokens to 1 output token, then estimated as tokens with the spend bounds.
fn price_inversion(
    item: &SpendItem<'_>,
    p: &crate::factors::PriceRow,
    mut fx_ids: Vec<String>,
    factors: &mut BTreeMap<String, FactorUse>,
) -> Option<LineBody> {
    let SpendItem {
        set,
        key,
        acc,
        usd,
        year,
    } = *item;
    // The tier the item was billed at: its prices are a multiple of the list price (the
    // set's `price_tier_<tier>`, read for the low, central and high results; 1 without one).
    let tier = crate::model::price_tier(&key.label);
    let tier_row = tier.and_then(|t| set.constant(&format!("price_tier_{t}")));
    let multiple = tier_row.map_or(Bounds::flat(1.0), |c| c.bounds());
    if !(multiple.low > 0.0 && multiple.central > 0.0 && multiple.high > 0.0) {
        return None;
    }
    // Price inversion: 3 input tokens to 1 output token, spend = Tin·p_in + Tout·p_out.
    let p_out = p.output_per_mtok.unwrap_or(0.0) * multiple.central;
    let p_in = p.input_per_mtok * multiple.central;
    let per_output = 3.0 * p_in + p_out;
    if per_output <= 0.0 {
        return None;
    }
    let t_out = usd / per_output * 1e6;
    let (t_in, t_out) = if p_out > 0.0 {
        (3.0 * t_out, t_out)
    } else {
        (usd / p_in * 1e6, 0.0)
    };
    let mut lf = LineFactors::resolve(
        set,
        &key.provider,
        &key.model,
        key.region.as_deref(),
        None,
        year,
    );
    for u in &lf.uses {
        factors.entry(u.id.clone()).or_insert_with(|| u.clone());
    }
    let price_id = format!("price:{}", p.model_key);
    factors
        .entry(price_id.clone())
        .or_insert_with(|| FactorUse {
            id: price_id.clone(),
            kind: "list price (price inversion)".into(),
            value: Bounds::flat(p.input_per_mtok),
            unit: format!("USD per 1M input tokens (output {p_out})"),
            year: p.valid_from.get(..4).and_then(|y| y.parse().ok()),
            subject: p.model_key.clone(),
            basis: format!(
                "tokens ≈ spend / list price, 3:1 input:output; valid from {}",
                p.valid_from
            ),
            source_id: p.source_id.clone(),
        });
    // The tokens are the central tier price's; the low and high results take the tier's
    // other multiples (a higher price, fewer tokens) on top of the spend bounds.
    lf.spend_bounds.low *= multiple.central / multiple.low;
    lf.spend_bounds.high *= multiple.central / multiple.high;
    let activity = Activity {
        spend_input_tokens: t_in.round() as u64,
        spend_output_tokens: t_out.round() as u64,
        ..Activity::default()
    };
    let est = estimate(&activity, &lf);
    let mut ids: Vec<String> = lf.uses.iter().map(|u| u.id.clone()).collect();
    ids.push(price_id);
    let mut tier_flag = None;
    if let Some(t) = tier {
        match tier_row {
            Some(c) => {
                let id = format!("const:price_tier_{t}");
                factors.entry(id.clone()).or_insert_with(|| FactorUse {
                    id: id.clone(),
                    kind: "price tier (multiple of the list price)".into(),
                    value: c.bounds(),
                    unit: c.unit.clone(),
                    year: None,
                    subject: format!("spend billed at {t} prices"),
                    basis: c.notes.clone(),
                    source_id: c.source_id.clone(),
                });
                ids.push(id);
                tier_flag = Some(format!(
                    "billed at {t} prices: {} × the list price (low result {}, high {})",
                    short(multiple.central),
                    short(multiple.low),
                    short(multiple.high)
                ));
            }
            None => {
                tier_flag = Some(format!(
                    "billed at {t} prices, which factor set {} does not price: inverted at the standard list price",
                    set.version
                ))
            }
        }
    }
    if let Some(c) = set.constant("spend_bounds") {
        factors
            .entry("const:spend_bounds".into())
            .or_insert_with(|| FactorUse {
                id: "const:spend_bounds".into(),
                kind: "spend-derived tokens: bounds".into(),
                value: c.bounds(),
                unit: c.unit.clone(),
                year: None,
                subject: "tokens derived from spend by price inversion".into(),
                basis: c.notes.clone(),
                source_id: c.source_id.clone(),
            });
        ids.push("const:spend_bounds".into());
    }
    ids.append(&mut fx_ids);
    let mut flags = lf.flags.clone();
    flags.push(format!(
        "spend-derived: {usd:.2} USD / list price = {} input + {} output tokens (imputed), bounds ×{} / ×{}",
        activity.spend_input_tokens,
        activity.spend_output_tokens,
        short(lf.spend_bounds.low),
        short(lf.spend_bounds.high)
    ));
    flags.extend(tier_flag);
    Some(LineBody {
        model_key: lf.model.key.clone(),
        method: Method::AverageData,
        activity,
        spend: acc.spend.clone(),
        estimate: est,
        factor_ids: ids.into_iter().map(Arc::from).collect(),
        dq: DataQuality {
            technology: 3,
            time: lf.dq_time(year),
            geography: lf.geo_level.dq_score(),
            completeness: 3,
            reliability: 3,
        },
        flags,
        grid_geo: lf.grid_row.geo_id.clone(),
        grid_year: lf.grid_row.year,
        geo_level: lf.geo_level,
        energy_estimated: true,
        supplier: None,
    })
}

/// The USD price year of the set's EEIO factor: its `eeio_price_year` constant, else 2021
/// (USEEIO v1.2 of factor set 2026.1, which has no such row).
fn eeio_price_year(set: &FactorSet) -> i32 {
    set.constant("eeio_price_year")
        .map_or(2021, |c| c.central.round() as i32)
}

/// EEIO, the last resort: spend deflated to the factor's price year times a sector factor
/// (kgCO2e per USD); no energy or water.
fn eeio(
    item: &SpendItem<'_>,
    model_key: String,
    mut fx_ids: Vec<String>,
    factors: &mut BTreeMap<String, FactorUse>,
) -> Option<LineBody> {
    let SpendItem {
        set,
        key,
        acc,
        usd,
        year,
    } = *item;
    let eeio = set.constant("eeio_518210")?;
    let price_year = eeio_price_year(set);
    let deflate = match (set.deflator(price_year), set.deflator(year)) {
        // The line's factor ids list the base index, then the spend year's (the workbook's
        // deflator formula reads them in this order).
        (Some(base), Some(now)) if now.index > 0.0 => {
            for d in [base, now] {
                let id = format!("deflator:USD:{}", d.year);
                factors.entry(id.clone()).or_insert_with(|| FactorUse {
                    id,
                    kind: "price index (deflates spend to the EEIO price year)".into(),
                    value: Bounds::flat(d.index),
                    unit: format!("index, {} = 100", d.base_year),
                    year: Some(d.year),
                    subject: "USD".into(),
                    basis: format!("factor = index({price_year}) / index(year)"),
                    source_id: d.source_id.clone(),
                });
                fx_ids.push(format!("deflator:USD:{}", d.year));
            }
            base.index / now.index
        }
        _ => 1.0,
    };
    factors
        .entry("const:eeio_518210".into())
        .or_insert_with(|| FactorUse {
            id: "const:eeio_518210".into(),
            kind: "spend-based EEIO factor".into(),
            value: eeio.bounds(),
            unit: eeio.unit.clone(),
            year: Some(price_year),
            subject: "NAICS 518210 Data Processing, Hosting, and Related Services".into(),
            basis: eeio.notes.clone(),
            source_id: eeio.source_id.clone(),
        });
    let est = estimate_eeio(usd * deflate, eeio.bounds());
    let mut ids = vec!["const:eeio_518210".to_string()];
    ids.append(&mut fx_ids);
    Some(LineBody {
        model_key,
        method: Method::SpendBased,
        activity: Activity::default(),
        spend: acc.spend.clone(),
        estimate: est,
        factor_ids: ids.into_iter().map(Arc::from).collect(),
        dq: DataQuality {
            technology: 4,
            time: 2,
            geography: 4,
            completeness: 2,
            reliability: 4,
        },
        flags: vec![format!(
            "spend-based (EEIO, last resort): {} = {usd:.2} USD, deflated ×{deflate:.4} to {price_year} USD; no energy or water",
            key.label
        )],
        grid_geo: "n/a".into(),
        grid_year: price_year,
        geo_level: GeoLevel::World,
        energy_estimated: false,
        supplier: None,
    })
}
