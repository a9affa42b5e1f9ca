//! The live formulas of a calculation line: its energy, emissions and water over its quantities
//! and the Factors sheet, each with the computed value to cache.

use rust_xlsxwriter::Format;

use super::formats::Formats;
use super::line_cells::{KEY_COLS, QTY_COLS};
use crate::aggregate::LineBody;
use crate::report::cell::CellFormula;

/// Excel column letters of a 0-based column index.
pub(super) fn col_letter(col: u16) -> String {
    rust_xlsxwriter::utility::column_number_to_name(col)
}

/// What a calculation line's formulas refer to: the Factors rows of its factors, and whether
/// its emissions are the vendor's. Consecutive lines with the same plan have the same formulas
/// but for their own row number (the streamed writer shares them, `streamed_rows`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct FormulaPlan {
    /// Energy out, energy in, k_cache, embodied, PUE, grid, WUE, EWIF.
    rows: [u32; 8],
    /// The request-bounds or spend-bounds multiplier.
    mult: Option<u32>,
    vendor: bool,
}

/// The [`FormulaPlan`] of a line. `None` for lines the formulas cannot reproduce (characters,
/// EEIO, spend billed at another price tier), which keep their values; a supplier-specific line's emissions are the vendor's figure
/// (a value, see the Supplier Data sheet), so only its energy and water get formulas.
pub(super) fn formula_plan(
    c: &crate::aggregate::CalcLine,
    factor_rows: &hashbrown::HashMap<&str, u32>,
) -> Option<FormulaPlan> {
    let b = &c.body;
    if !b.energy_estimated || b.activity.input_characters > 0 || b.activity.output_characters > 0 {
        return None;
    }
    // A line billed at another price tier: its low and high take the tier's multiples on top
    // of the spend bounds, which the formulas do not carry; it keeps its values.
    if b.factor_ids
        .iter()
        .any(|id| id.starts_with("const:price_tier_"))
    {
        return None;
    }
    let find = |prefix: &str| -> Option<u32> {
        b.factor_ids
            .iter()
            .find(|id| id.starts_with(prefix))
            .and_then(|id| factor_rows.get(&**id).copied())
    };
    let energy = |dir: &str| {
        b.factor_ids
            .iter()
            .find(|id| id.starts_with("energy:") && id.ends_with(dir))
            .and_then(|id| factor_rows.get(&**id).copied())
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
    Some(FormulaPlan {
        rows: [eo, ei, k, emb, pue, grid, wue, ewif],
        mult,
        vendor: b.method == crate::estimate::Method::SupplierSpecific,
    })
}

/// The formulas of a line with `plan` on row `r` (0-based), with their cached values; without
/// their texts (empty) when `text` is false (a shared formula's later cells).
pub(super) fn plan_formulas<'f>(
    f: &'f Formats,
    r: u32,
    plan: &FormulaPlan,
    b: &LineBody,
    text: bool,
) -> Vec<CellFormula<'f>> {
    use std::fmt::Write as _;
    let [eo, ei, k, emb, pue, grid, wue, ewif] = plan.rows;
    let mult = plan.mult;
    let n = r + 1;
    let qty0 = (super::calculation_lines::SOURCE_COLS + KEY_COLS.len()) as u16;
    let q = |col: u16| format!("{}{n}", col_letter(col));
    let (tin, tc, tout, iin, iout) = (
        q(qty0 + 1),
        q(qty0 + 2),
        q(qty0 + 3),
        q(qty0 + 4),
        q(qty0 + 5),
    );
    let res0 = qty0 + QTY_COLS.len() as u16;
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
