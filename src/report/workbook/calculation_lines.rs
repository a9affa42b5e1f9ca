//! The Calculation Lines sheets: a row per calculation line (the audit trail to the source
//! rows), with live formulas, split over several sheets past a sheet's last row.

use std::collections::BTreeMap;
use std::rc::Rc;

use hashbrown::HashMap;
use rust_xlsxwriter::{Formula, XlsxError};

use super::formats::Formats;
use super::formulas::{
    col_letter, formula_plan, plan_formulas, result0, spend_cells, spend_inputs, FormulaPlan,
    SPEND_COLS,
};
use super::line_cells::{
    key_cells, qty_cells, result_cells, total_values, KEY_COLS, QTY_COLS, RESULT_COLS,
};
use super::writer::{Book, CellText, LineRows};
use crate::aggregate::CalcLine;
use crate::estimate::FactorUse;
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, CellFormula, Col};

/// Data rows per Calculation Lines sheet: Excel's 1,048,576 rows less the header and the
/// totals row. Past it, the lines continue on "Calculation Lines (2)", and so on.
pub const LINES_PER_SHEET: usize = 1_048_574;

/// Lines that get live formulas (later ones carry values only).
pub const FORMULA_LINES: usize = 100_000;

/// The columns before a line's key: source file, sheet, first row, last row, rows, source
/// rows.
pub(super) const SOURCE_COLS: usize = 6;

/// The name of the `i`th Calculation Lines sheet (0: "Calculation Lines").
pub(super) fn calc_sheet_name(i: usize) -> String {
    if i == 0 {
        "Calculation Lines".into()
    } else {
        format!("Calculation Lines ({})", i + 1)
    }
}

/// What the Formula column says of a token line (its cells' formulas re-perform it).
const TOKEN_FORMULA: &str = "kWh = (out·e_out + (in−cached)·e_in + cached·k_cache·e_in)/1e6 · PUE; kgCO2e = kWh·grid/1000 + kWh_IT·embodied/1000; L = kWh_IT·WUE + kWh·EWIF";

/// What the Formula column says of a spend-based (EEIO) line.
const EEIO_FORMULA: &str = "kgCO2e = spend · USD per unit · deflator · EEIO factor (kgCO2e per USD of its price year); no energy or water";

/// The cells of a calculation line (the cells its formulas replace included).
fn calc_cells<'a>(
    f: &'a Formats,
    c: &'a CalcLine,
    factors: &BTreeMap<String, FactorUse>,
) -> Vec<Cell<'a>> {
    let mut cells = vec![
        Cell::Text(&c.source.file),
        Cell::Text(c.source.sheet.as_deref().unwrap_or("")),
        Cell::Count(c.source.rows[0]),
        Cell::Count(c.source.rows[1]),
        Cell::Count(c.source.count),
        Cell::Owned(c.source.list.cell_text()),
    ];
    cells.extend(key_cells(&c.key, &c.body));
    cells.extend(qty_cells(&c.body));
    cells.extend(spend_cells(f, &c.body, &spend_inputs(c, factors)));
    cells.extend(result_cells(f, &c.body));
    cells.push(Cell::Text(if c.body.energy_estimated {
        TOKEN_FORMULA
    } else {
        EEIO_FORMULA
    }));
    cells.push(Cell::Owned(c.body.factor_ids.join(", ")));
    cells.push(Cell::Owned(c.body.flags.join("; ")));
    cells
}

/// The lines of one Calculation Lines sheet, `first_line` being the number of lines on the
/// sheets before it.
struct CalcRows<'a> {
    f: &'a Formats,
    chunk: &'a [CalcLine],
    first_line: usize,
    /// Excel row of each factor on the Factors sheet.
    factor_rows: Rc<HashMap<&'a str, u32>>,
    /// The report's factors (the exchange rates and price indices of spend lines).
    factors: &'a BTreeMap<String, FactorUse>,
}

impl<'a> LineRows<'a> for CalcRows<'a> {
    type Plan = FormulaPlan;
    fn len(&self) -> usize {
        self.chunk.len()
    }
    fn cells(&self, j: usize) -> Vec<Cell<'a>> {
        calc_cells(self.f, &self.chunk[j], self.factors)
    }
    fn wraps(&self) -> bool {
        true
    }
    /// Money (a spend in one currency) and ratios (its exchange rate, an EEIO line's
    /// deflator), when a line of the sheet has them, in the order the lines first use them
    /// (in a row, the spend comes first).
    fn formats(&self) -> Vec<&'a rust_xlsxwriter::Format> {
        let money = self.chunk.iter().position(|c| c.body.spend.len() == 1);
        let ratio = self.chunk.iter().position(|c| {
            let s = spend_inputs(c, self.factors);
            s.fx.is_some() || s.deflator.is_some()
        });
        match (money, ratio) {
            (Some(m), Some(r)) if r < m => vec![&self.f.ratio, &self.f.money],
            (Some(_), Some(_)) => vec![&self.f.money, &self.f.ratio],
            (Some(_), None) => vec![&self.f.money],
            (None, Some(_)) => vec![&self.f.ratio],
            (None, None) => vec![],
        }
    }
    /// The first [`FORMULA_LINES`] lines get live formulas (where [`formula_plan`] has them).
    fn plan(&self, j: usize) -> Option<FormulaPlan> {
        let c = self.chunk.get(j)?;
        if self.first_line + j < FORMULA_LINES {
            formula_plan(c, &self.factor_rows, self.factors)
        } else {
            None
        }
    }
    fn formulas(&self, r: u32, j: usize, plan: &FormulaPlan, text: bool) -> Vec<CellFormula<'a>> {
        match self.chunk.get(j) {
            Some(c) => {
                let s = spend_inputs(c, self.factors);
                plan_formulas(self.f, r, plan, &c.body, &s, text)
            }
            None => vec![],
        }
    }
}

pub(super) fn write<'a>(
    book: &mut Book<'a>,
    o: &'a Outcome,
    per_sheet: usize,
) -> Result<(), XlsxError> {
    let mut cols: Vec<Col> = vec![
        ("Source file", 14.0),
        ("Sheet", 8.0),
        ("First row", 6.0),
        ("Last row", 6.0),
        ("Rows", 5.0),
        ("Source rows", 12.0),
    ];
    cols.extend_from_slice(KEY_COLS);
    cols.extend_from_slice(QTY_COLS);
    cols.extend_from_slice(SPEND_COLS);
    cols.extend_from_slice(RESULT_COLS);
    cols.push(("Formula", 22.0));
    cols.push(("Factor ids", 24.0));
    cols.push(("Flags", 28.0));
    // Excel row of each factor on the Factors sheet (same order as `factors` writes them).
    let factor_rows: HashMap<&str, u32> = o
        .summary
        .factors
        .keys()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i as u32 + 2))
        .collect();
    let lines = &o.summary.calc_lines;
    let chunks: Vec<&[CalcLine]> = if lines.is_empty() {
        vec![&[]]
    } else {
        lines.chunks(per_sheet.max(1)).collect()
    };
    let first_result = result0();
    let factor_rows = Rc::new(factor_rows);
    let mut line_no = 0usize;
    for (i, chunk) in chunks.iter().enumerate() {
        let mut ws = book.add_long_sheet(&calc_sheet_name(i))?;
        let f = ws.f;
        let mut r = ws.header(0, &cols)?;
        ws.wide_paper();
        let rows = CalcRows {
            f,
            chunk,
            first_line: line_no,
            factor_rows: Rc::clone(&factor_rows),
            factors: &o.summary.factors,
        };
        r = ws.lines(r, rows)?;
        line_no += chunk.len();
        if r > 1 {
            ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
        }
        if i + 1 < chunks.len() {
            ws.text_fmt(
                r,
                0,
                format!("continued on '{}'", calc_sheet_name(i + 1)).as_str(),
                &f.label,
            )?;
            continue;
        }
        // The quantities' totals under the quantities, the results' under the results (the
        // money columns between them have none: a line's spend may be in any currency).
        let totals = total_values(o);
        let (qty, results) = totals.split_at(QTY_COLS.len().min(totals.len()));
        ws.totals_row(r, "Total", (SOURCE_COLS + KEY_COLS.len()) as u16, qty)?;
        ws.totals_row(r, "Total", first_result, results)?;
        // The result totals are live sums of the lines on every Calculation Lines sheet.
        if !lines.is_empty() {
            let t = &o.summary.totals;
            let cached = [
                t.energy_kwh.low,
                t.energy_kwh.central,
                t.energy_kwh.high,
                t.emissions_kgco2e.low,
                t.emissions_kgco2e.central,
                t.emissions_kgco2e.high,
                t.embodied_kgco2e.central,
                t.water_l.low,
                t.water_l.central,
                t.water_l.high,
            ];
            for (k, v) in cached.iter().enumerate() {
                let col = first_result + k as u16;
                let letter = col_letter(col);
                let ranges: Vec<String> = chunks
                    .iter()
                    .enumerate()
                    .map(|(j, ch)| {
                        format!(
                            "'{}'!{letter}2:{letter}{}",
                            calc_sheet_name(j),
                            ch.len() + 1
                        )
                    })
                    .collect();
                let formula =
                    Formula::new(format!("=SUM({})", ranges.join(","))).set_result(v.to_string());
                // kWh (the first three) and litres (the last three): one decimal.
                let fmt = if !(3..=6).contains(&k) {
                    &f.total_kwh
                } else {
                    &f.total_kg
                };
                ws.write_formula_with_format(r, col, formula, fmt)?;
            }
        }
        r += 2;
        ws.note(r,
            8,
            &format!(
                "Energy, emissions and water of the first {FORMULA_LINES} lines are live Excel formulas over the line's quantities and the Factors sheet (low = column C, central = D, high = E), written with the tool's results cached: change a factor and the lines and totals follow. A spend-based (EEIO) line's emissions are its spend × its USD per unit (FX: a formula reading the exchange rate on the Factors sheet; 1 for USD) × its deflator to the EEIO price year (a formula dividing the price index of that year by the index of the spend's year, both on the Factors sheet) × the EEIO factor (Factors sheet). Lines with characters, EEIO lines with spend in several currencies and lines past the first {FORMULA_LINES} carry values only; a supplier-specific line's emissions are the vendor's figure (a value)."
            ),
            60.0,
        )?;
    }
    Ok(())
}
