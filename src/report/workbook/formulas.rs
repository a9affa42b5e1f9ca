//! The live formulas of a calculation line, each with the computed value to cache: a token
//! line's energy, emissions and water over its quantities and the Factors sheet; a spend-based
//! (EEIO) line's emissions over its spend, its exchange rate and deflator (cells of the line
//! that read the Factors sheet) and the EEIO factor.

use std::collections::BTreeMap;

use rust_xlsxwriter::Format;

use super::formats::Formats;
use super::line_cells::{KEY_COLS, QTY_COLS};
use crate::aggregate::{CalcLine, LineBody};
use crate::estimate::FactorUse;
use crate::report::cell::{Cell, CellFormula, Col};

/// Excel column letters of a 0-based column index.
pub(super) fn col_letter(col: u16) -> String {
    rust_xlsxwriter::utility::column_number_to_name(col)
}

/// The columns of a calculation line's money, between its quantities and its results: what
/// a spend-based line's formulas are made of.
pub(crate) const SPEND_COLS: &[Col] = &[
    ("Spend", 9.0),
    ("Currency", 8.0),
    ("USD per unit (FX)", 8.0),
    ("Deflator to EEIO price year", 8.0),
];

/// The first quantity column of the Calculation Lines sheets (requests).
fn qty0() -> u16 {
    (super::calculation_lines::SOURCE_COLS + KEY_COLS.len()) as u16
}

/// The first [`SPEND_COLS`] column of the Calculation Lines sheets.
pub(super) fn spend0() -> u16 {
    qty0() + QTY_COLS.len() as u16
}

/// The first result column (energy low) of the Calculation Lines sheets.
pub(super) fn result0() -> u16 {
    spend0() + SPEND_COLS.len() as u16
}

/// The spend-based (EEIO) line's kind of spend (`LineKey::spend`).
const EEIO: &str = "EEIO";

/// The EEIO factor's id among a line's factors.
const EEIO_FACTOR: &str = "const:eeio_518210";

/// A line's money as its [`SPEND_COLS`] show it: the amount and currency when it is in one
/// currency; the USD per unit of that currency the spend method converted at (spend lines
/// only, 1 for USD) and the exchange-rate factor that holds it; the deflator to the EEIO
/// price year (EEIO lines only: index(price year) / index(year), 1 without indices) and the
/// two index factors.
pub(super) struct SpendInputs<'a> {
    pub(super) single: Option<(&'a str, f64)>,
    pub(super) fx: Option<(f64, Option<&'a str>)>,
    pub(super) deflator: Option<(f64, Option<(&'a str, &'a str)>)>,
}

/// The [`SpendInputs`] of `c`, whose factors are in `factors`.
pub(super) fn spend_inputs<'a>(
    c: &'a CalcLine,
    factors: &'a BTreeMap<String, FactorUse>,
) -> SpendInputs<'a> {
    let b = &c.body;
    let single = match (b.spend.len(), b.spend.iter().next()) {
        (1, Some((cur, amount))) => Some((cur.as_str(), *amount)),
        _ => None,
    };
    let fx = match (single, &c.key.spend) {
        (Some(("USD", _)), Some(_)) => Some((1.0, None)),
        (Some((cur, _)), Some(_)) => {
            let prefix = format!("fx:{cur}:");
            b.factor_ids
                .iter()
                .find(|id| id.starts_with(&prefix))
                .and_then(|id| Some((factors.get(&**id)?.value.central, Some(&**id))))
        }
        _ => None,
    };
    let deflator = if c.key.spend.as_deref() == Some(EEIO) {
        // The spend method lists the index of the EEIO price year, then the index it took for
        // the spend's year (the set's nearest earlier year when it has none for it; the same
        // id twice when the years are the same).
        let ids: Vec<&str> = b
            .factor_ids
            .iter()
            .filter(|id| id.starts_with("deflator:"))
            .map(|id| &**id)
            .collect();
        match ids[..] {
            [base, now] => match (factors.get(base), factors.get(now)) {
                (Some(fb), Some(fnow)) => {
                    Some((fb.value.central / fnow.value.central, Some((base, now))))
                }
                _ => None,
            },
            // The spend method deflates by 1 when the set has no index for either year.
            [] => Some((1.0, None)),
            _ => None,
        }
    } else {
        None
    };
    SpendInputs {
        single,
        fx,
        deflator,
    }
}

/// The cells of [`SPEND_COLS`]: the amount (or every currency's, as text, when there are
/// several), the currency, the exchange rate and the deflator (blank where they do not
/// apply).
pub(super) fn spend_cells<'a>(f: &'a Formats, b: &LineBody, s: &SpendInputs<'_>) -> [Cell<'a>; 4] {
    let (amount, currency) = match s.single {
        Some((cur, amount)) => (Cell::Number(amount, &f.money), Cell::Owned(cur.to_string())),
        None if b.spend.is_empty() => (Cell::Blank, Cell::Blank),
        None => (
            Cell::Owned(super::line_cells::spend_text(&b.spend)),
            Cell::Blank,
        ),
    };
    let ratio = |x: Option<f64>| x.map_or(Cell::Blank, |x| Cell::Number(x, &f.ratio));
    [
        amount,
        currency,
        ratio(s.fx.map(|x| x.0)),
        ratio(s.deflator.map(|x| x.0)),
    ]
}

/// What a calculation line's formulas refer to. Consecutive lines with the same plan have the
/// same formulas but for their own row number (the streamed writer shares them,
/// `streamed_rows`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FormulaPlan {
    /// A line estimated from tokens (measured, imputed from requests, or derived from spend by
    /// price inversion).
    Tokens(TokenPlan),
    /// A spend-based (EEIO) line.
    Eeio(EeioPlan),
}

/// The Factors rows a token line's formulas read, and whether its emissions are the vendor's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct TokenPlan {
    /// Energy out, energy in, k_cache, embodied, PUE, grid, WUE, EWIF.
    rows: [u32; 8],
    /// The request-bounds or spend-bounds multiplier.
    mult: Option<u32>,
    /// The price tier the spend was billed at (its low and high results take the tier's
    /// central multiple over its low, resp. high, on top of the spend bounds).
    tier: Option<u32>,
    vendor: bool,
}

/// The Factors rows an EEIO line's formulas read: the EEIO factor, the exchange rate (none for
/// USD: the line's rate cell holds 1), the price indices of the EEIO price year and of the
/// spend's year (none when the set has neither: the deflator cell holds 1); and whether its
/// emissions are the vendor's (then only the rate and deflator cells are formulas).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct EeioPlan {
    factor: u32,
    fx: Option<u32>,
    deflator: Option<(u32, u32)>,
    vendor: bool,
}

/// The [`FormulaPlan`] of a line. `None` for lines the formulas cannot reproduce (characters;
/// EEIO spend in several currencies), which keep their values; a supplier-specific line's
/// emissions are the vendor's figure (a value, see the Supplier Data sheet), so only its
/// energy and water (an EEIO line: its rate and deflator) get formulas.
pub(super) fn formula_plan(
    c: &CalcLine,
    factor_rows: &hashbrown::HashMap<&str, u32>,
    factors: &BTreeMap<String, FactorUse>,
) -> Option<FormulaPlan> {
    let b = &c.body;
    let vendor = b.method == crate::estimate::Method::SupplierSpecific;
    let row = |id: &str| factor_rows.get(id).copied();
    if c.key.spend.as_deref() == Some(EEIO) {
        let s = spend_inputs(c, factors);
        s.single?;
        let fx = match s.fx? {
            (_, Some(id)) => Some(row(id)?),
            (_, None) => None,
        };
        let deflator = match s.deflator? {
            (_, Some((base, now))) => Some((row(base)?, row(now)?)),
            (_, None) => None,
        };
        let factor = b
            .factor_ids
            .iter()
            .find(|id| &***id == EEIO_FACTOR)
            .and_then(|id| row(id))?;
        return Some(FormulaPlan::Eeio(EeioPlan {
            factor,
            fx,
            deflator,
            vendor,
        }));
    }
    if !b.energy_estimated || b.activity.input_characters > 0 || b.activity.output_characters > 0 {
        return None;
    }
    let find = |prefix: &str| -> Option<u32> {
        b.factor_ids
            .iter()
            .find(|id| id.starts_with(prefix))
            .and_then(|id| row(id))
    };
    let energy = |dir: &str| {
        b.factor_ids
            .iter()
            .find(|id| id.starts_with("energy:") && id.ends_with(dir))
            .and_then(|id| row(id))
    };
    let (Some(eo), Some(ei), Some(k), Some(emb), Some(pue), Some(grid), Some(wue), Some(ewif)) = (
        energy(":out"),
        energy(":in"),
        find("const:k_cache"),
        find("const:embodied"),
        find("pue:"),
        find("grid:"),
        find("wue:"),
        find("ewif:"),
    ) else {
        return None;
    };
    let mult = if c.key.tokens_imputed {
        find("const:request_bounds")
    } else if c.key.spend.is_some() {
        find("const:spend_bounds")
    } else {
        None
    };
    if (c.key.tokens_imputed || c.key.spend.is_some()) && mult.is_none() {
        return None;
    }
    // Spend billed at another price tier: the tier's multiples (the set's
    // `const:price_tier_<tier>`, among the line's factors when the set prices the tier).
    let tier_id = b
        .factor_ids
        .iter()
        .find(|id| id.starts_with("const:price_tier_"));
    let tier = match tier_id {
        Some(id) => Some(row(id)?),
        None => None,
    };
    Some(FormulaPlan::Tokens(TokenPlan {
        rows: [eo, ei, k, emb, pue, grid, wue, ewif],
        mult,
        tier,
        vendor,
    }))
}

/// The formulas of a line with `plan` on row `r` (0-based), with their cached values; without
/// their texts (empty) when `text` is false (a shared formula's later cells). `s`: the line's
/// money (EEIO lines).
pub(super) fn plan_formulas<'f>(
    f: &'f Formats,
    r: u32,
    plan: &FormulaPlan,
    b: &LineBody,
    s: &SpendInputs<'_>,
    text: bool,
) -> Vec<CellFormula<'f>> {
    match plan {
        FormulaPlan::Tokens(p) => token_formulas(f, r, p, b, text),
        FormulaPlan::Eeio(p) => eeio_formulas(f, r, p, b, s, text),
    }
}

/// An EEIO line's formulas: its rate (`=Factors!$D$n`), its deflator
/// (`=Factors!$D$base/Factors!$D$now`) and its emissions, spend × rate × deflator × the EEIO
/// factor's low, central and high (`=P5*R5*S5*Factors!$C$m`, kgCO2e: the factor is kgCO2e per
/// USD of its price year).
fn eeio_formulas<'f>(
    f: &'f Formats,
    r: u32,
    p: &EeioPlan,
    b: &LineBody,
    s: &SpendInputs<'_>,
    text: bool,
) -> Vec<CellFormula<'f>> {
    let n = r + 1;
    let at = |col: u16| format!("{}{n}", col_letter(col));
    let (spend, rate, deflator) = (spend0(), spend0() + 2, spend0() + 3);
    let mut cells: Vec<CellFormula<'f>> = Vec::with_capacity(5);
    // The formula's text only when it is written out (not a shared formula's later cell).
    let mut add = |col: u16, formula: &dyn Fn() -> String, value: f64, fmt: &'f Format| {
        let s = if text { formula() } else { String::new() };
        cells.push((col, s, value, fmt));
    };
    if let (Some(row), Some((v, _))) = (p.fx, s.fx) {
        add(rate, &|| format!("={}", FactorCell("D", row)), v, &f.ratio);
    }
    if let (Some((base, now)), Some((v, _))) = (p.deflator, s.deflator) {
        add(
            deflator,
            &|| format!("={}/{}", FactorCell("D", base), FactorCell("D", now)),
            v,
            &f.ratio,
        );
    }
    if !p.vendor {
        let e = &b.estimate.emissions_kgco2e;
        let res = result0();
        for (i, (l, v)) in [("C", e.low), ("D", e.central), ("E", e.high)]
            .into_iter()
            .enumerate()
        {
            add(
                res + 3 + i as u16,
                &|| {
                    format!(
                        "={}*{}*{}*{}",
                        at(spend),
                        at(rate),
                        at(deflator),
                        FactorCell(l, p.factor)
                    )
                },
                v,
                &f.kg,
            );
        }
    }
    cells
}

/// A token line's formulas: energy, emissions, embodied and water over its quantities and
/// the Factors sheet.
fn token_formulas<'f>(
    f: &'f Formats,
    r: u32,
    plan: &TokenPlan,
    b: &LineBody,
    text: bool,
) -> Vec<CellFormula<'f>> {
    use std::fmt::Write as _;
    let [eo, ei, k, emb, pue, grid, wue, ewif] = plan.rows;
    let (mult, tier) = (plan.mult, plan.tier);
    let n = r + 1;
    let q0 = qty0();
    let q = |col: u16| format!("{}{n}", col_letter(col));
    let (tin, tc, tout, iin, iout) = (q(q0 + 1), q(q0 + 2), q(q0 + 3), q(q0 + 4), q(q0 + 5));
    let res0 = result0();
    // IT energy (kWh) with the factors of column `l` (C low, D central, E high), built once
    // per column.
    let it = |l: &str| {
        if !text {
            return String::new();
        }
        let mut s = String::with_capacity(200);
        let fx = |s: &mut String, row: u32| {
            let _ = write!(s, "Factors!${l}${row}");
        };
        let _ = write!(s, "(({tout}*");
        fx(&mut s, eo);
        let _ = write!(s, "+({tin}-{tc})*");
        fx(&mut s, ei);
        let _ = write!(s, "+{tc}*");
        fx(&mut s, k);
        s.push('*');
        fx(&mut s, ei);
        let _ = write!(s, ")+({iin}*");
        fx(&mut s, ei);
        let _ = write!(s, "+{iout}*");
        fx(&mut s, eo);
        s.push(')');
        if let Some(m) = mult {
            s.push('*');
            fx(&mut s, m);
        }
        // Billed at a price tier: low and high × the tier's central multiple / its low
        // (resp. high) one (the central result's tokens are the central tier price's).
        if let (Some(t), false) = (tier, l == "D") {
            let _ = write!(s, "*Factors!$D${t}/");
            fx(&mut s, t);
        }
        s.push_str(")/1000000");
        s
    };
    let (it_c, it_d, it_e) = (it("C"), it("D"), it("E"));
    let e = &b.estimate;
    let vendor = plan.vendor;
    let mut cells: Vec<CellFormula<'f>> = Vec::with_capacity(10);
    let mut add = |col: u16, formula: std::fmt::Arguments<'_>, value: f64, fmt: &'f Format| {
        if vendor && (res0 + 3..=res0 + 6).contains(&col) {
            return;
        }
        let mut s = String::new();
        if text {
            s.reserve(512);
            let _ = s.write_fmt(formula);
        }
        cells.push((col, s, value, fmt));
    };
    let fx = |l: &'static str, row: u32| FactorCell(l, row);
    add(
        res0,
        format_args!("={it_c}*{}", fx("C", pue)),
        e.energy_kwh.low,
        &f.kwh,
    );
    add(
        res0 + 1,
        format_args!("={it_d}*{}", fx("D", pue)),
        e.energy_kwh.central,
        &f.kwh,
    );
    add(
        res0 + 2,
        format_args!("={it_e}*{}", fx("E", pue)),
        e.energy_kwh.high,
        &f.kwh,
    );
    for (i, (it, l, v)) in [
        (&it_c, "C", e.emissions_kgco2e.low),
        (&it_d, "D", e.emissions_kgco2e.central),
        (&it_e, "E", e.emissions_kgco2e.high),
    ]
    .into_iter()
    .enumerate()
    {
        add(
            res0 + 3 + i as u16,
            format_args!(
                "={it}*{}*{}/1000+{it}*{}/1000",
                fx(l, pue),
                fx(l, grid),
                fx(l, emb)
            ),
            v,
            &f.kg,
        );
    }
    add(
        res0 + 6,
        format_args!("={it_d}*{}/1000", fx("D", emb)),
        e.embodied_kgco2e.central,
        &f.kg,
    );
    add(
        res0 + 7,
        format_args!("={it_c}*{}", fx("C", wue)),
        e.water_l.low,
        &f.kwh,
    );
    for (i, (it, l, v)) in [
        (&it_d, "D", e.water_l.central),
        (&it_e, "E", e.water_l.high),
    ]
    .into_iter()
    .enumerate()
    {
        add(
            res0 + 8 + i as u16,
            format_args!("={it}*{}+{it}*{}*{}", fx(l, wue), fx(l, pue), fx(l, ewif)),
            v,
            &f.kwh,
        );
    }
    cells
}

/// A cell of the Factors sheet, absolute: `Factors!$D$12`.
struct FactorCell(&'static str, u32);

impl std::fmt::Display for FactorCell {
    fn fmt(&self, w: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(w, "Factors!${}${}", self.0, self.1)
    }
}
