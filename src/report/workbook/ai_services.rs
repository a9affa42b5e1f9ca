//! The AI Services sheet: a row per line (provider, model, region, month, cost centre), the
//! billed items not estimated, totals by provider and model, and a Pareto of models.

use std::collections::BTreeMap;

use rust_xlsxwriter::{Chart, ChartType, Formula, XlsxError};

use super::formats::Formats;
use super::formulas::col_letter;
use super::line_cells::{
    key_cells, qty_cells, reporting_cell, reporting_heading, result_cells, spend_text,
    supplier_cells, total_values, KEY_COLS, QTY_COLS, RESULT_COLS, SUPPLIER_COLS,
};
use super::writer::{Book, CellText, LineRows};
use crate::aggregate::Line;
use crate::model::Bounds;
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, CellFormula, Col};

/// The columns of a line's results that are sums of its calculation lines (energy, emissions,
/// embodied and water: the [`RESULT_COLS`] but the data quality), from this column on.
pub(super) const FIRST_RESULT: u16 = (KEY_COLS.len() + QTY_COLS.len()) as u16;
/// How many result columns are sums ([`FIRST_RESULT`] on).
const SUMMED: u16 = 10;
/// The emissions columns (low, central, high) among the results: 3, 4, 5.
pub(super) const EMISSIONS: u16 = 3;
/// The energy columns (0..3) and the water columns (7..10): "not estimated" for spend-based
/// lines, which get no formula there.
fn energy_or_water(k: u16) -> bool {
    !(3..7).contains(&k)
}

/// The columns of the totals by provider and by model: input and output tokens, kgCO2e low,
/// central and high, each under the lines' column of the same figure.
const TOTALS_COLS: [u16; 5] = [
    KEY_COLS.len() as u16 + 1,
    KEY_COLS.len() as u16 + 3,
    FIRST_RESULT + EMISSIONS,
    FIRST_RESULT + EMISSIONS + 1,
    FIRST_RESULT + EMISSIONS + 2,
];

/// The Pareto table's kgCO2e column (the lines' kgCO2e central); its cumulative share is in
/// the next one.
const PARETO_KG: u16 = FIRST_RESULT + EMISSIONS + 1;

/// The longest formula a line gets (Excel's limit is 8,192 characters); a line whose
/// calculation lines need more references keeps its values.
const MAX_FORMULA: usize = 8000;

/// The row (0-based) of the AI Services "Total" row: below the header and the lines.
pub(super) fn total_row(o: &Outcome) -> u32 {
    1 + o.summary.lines.len() as u32
}

/// Each AI Services line's calculation lines as ranges of rows on the Calculation Lines
/// sheets: (sheet index, first row, last row), Excel rows (1-based). The lines and the
/// calculation lines share their key.
fn calc_ranges(o: &Outcome, per_sheet: usize) -> Vec<Vec<(usize, u32, u32)>> {
    let per_sheet = per_sheet.max(1);
    let mut at: hashbrown::HashMap<&crate::aggregate::LineKey, usize> = o
        .summary
        .lines
        .iter()
        .enumerate()
        .map(|(j, l)| (&l.key, j))
        .collect();
    at.shrink_to_fit();
    let mut ranges: Vec<Vec<(usize, u32, u32)>> = vec![vec![]; o.summary.lines.len()];
    for (i, c) in o.summary.calc_lines.iter().enumerate() {
        let Some(&j) = at.get(&c.key) else { continue };
        let (sheet, row) = (i / per_sheet, (i % per_sheet) as u32 + 2);
        match ranges[j].last_mut() {
            Some((s, _, last)) if *s == sheet && *last + 1 == row => *last = row,
            _ => ranges[j].push((sheet, row, row)),
        }
    }
    ranges
}

/// The sum of one line's calculation lines in column `letter` of the Calculation Lines sheets:
/// `=SUM('Calculation Lines'!Y2:Y3,'Calculation Lines'!Y9)`; `None` when too long.
fn sum_formula(ranges: &[(usize, u32, u32)], letter: &str) -> Option<String> {
    use std::fmt::Write as _;
    if ranges.is_empty() {
        return None;
    }
    let mut s = String::from("=SUM(");
    for (k, (sheet, a, b)) in ranges.iter().enumerate() {
        // SUM takes 255 arguments: past them, another SUM is added.
        if k > 0 && k % 255 == 0 {
            s.push_str(")+SUM(");
        } else if k > 0 {
            s.push(',');
        }
        let name = super::calculation_lines::calc_sheet_name(*sheet);
        if a == b {
            let _ = write!(s, "'{name}'!{letter}{a}");
        } else {
            let _ = write!(s, "'{name}'!{letter}{a}:{letter}{b}");
        }
        if s.len() > MAX_FORMULA {
            return None;
        }
    }
    s.push(')');
    Some(s)
}

/// The cells of an AI Services line.
fn ai_cells<'a>(f: &'a Formats, l: &'a Line) -> Vec<Cell<'a>> {
    let mut cells = key_cells(&l.key, &l.body);
    cells.extend(qty_cells(&l.body));
    cells.extend(result_cells(f, &l.body));
    cells.push(Cell::Owned(l.body.flags.join("; ")));
    cells.push(Cell::Owned(l.body.factor_ids.join(", ")));
    cells.extend(supplier_cells(f, &l.body));
    // One request of the line (central; the Per Request sheet has the ranges): where its rows
    // count requests and its energy is estimated.
    let b = &l.body;
    let per_request = b.activity.requests > 0 && b.energy_estimated;
    let n = b.activity.requests as f64;
    for v in [
        b.estimate.energy_kwh.central,
        b.estimate.emissions_kgco2e.central,
    ] {
        cells.push(if per_request {
            Cell::Number(v * 1000.0 / n, &f.kg)
        } else {
            Cell::Blank
        });
    }
    cells
}

/// The per-request columns at the end of a line (before the reporting currency's).
const PER_REQUEST_COLS: &[Col] = &[
    ("Wh per request (central)", 11.0),
    ("gCO2e per request (central)", 11.0),
];

/// The table of the lines: a row per AI Services line, values only; with the spend as
/// exported and in the reporting currency when the configuration sets one.
struct AiRows<'a> {
    f: &'a Formats,
    lines: &'a [Line],
    reporting: Option<&'a crate::aggregate::currency::ReportingSpend>,
    /// Each line's calculation lines ([`calc_ranges`]).
    ranges: Vec<Vec<(usize, u32, u32)>>,
}

impl<'a> LineRows<'a> for AiRows<'a> {
    /// The line's own index: every line's formulas are its own (never shared).
    type Plan = usize;
    fn plan(&self, j: usize) -> Option<usize> {
        (!self.ranges.get(j)?.is_empty()).then_some(j)
    }
    /// Energy, emissions, embodied and water: the sums of the line's calculation lines, with
    /// the line's values cached (a line too long for a formula keeps its values).
    fn formulas(&self, _r: u32, j: usize, _plan: &usize, _text: bool) -> Vec<CellFormula<'a>> {
        let (Some(l), Some(ranges)) = (self.lines.get(j), self.ranges.get(j)) else {
            return vec![];
        };
        let e = &l.body.estimate;
        let values = [
            e.energy_kwh.low,
            e.energy_kwh.central,
            e.energy_kwh.high,
            e.emissions_kgco2e.low,
            e.emissions_kgco2e.central,
            e.emissions_kgco2e.high,
            e.embodied_kgco2e.central,
            e.water_l.low,
            e.water_l.central,
            e.water_l.high,
        ];
        let calc_results = super::formulas::result0();
        let mut out = Vec::with_capacity(SUMMED as usize);
        for (k, v) in values.into_iter().enumerate() {
            let k = k as u16;
            if energy_or_water(k) && !l.body.energy_estimated {
                continue;
            }
            let col = FIRST_RESULT + k;
            let letter = col_letter(calc_results + k);
            let Some(formula) = sum_formula(ranges, &letter) else {
                return vec![];
            };
            let fmt = if (EMISSIONS..EMISSIONS + 4).contains(&k) {
                &self.f.kg
            } else {
                &self.f.kwh
            };
            out.push((col, formula, v, fmt));
        }
        out
    }
    fn len(&self) -> usize {
        self.lines.len()
    }
    fn wraps(&self) -> bool {
        true
    }
    /// Money: the spend in the reporting currency, when the configuration sets one.
    fn formats(&self) -> Vec<&'a rust_xlsxwriter::Format> {
        match self.reporting {
            Some(_) => vec![&self.f.money],
            None => vec![],
        }
    }
    fn cells(&self, j: usize) -> Vec<Cell<'a>> {
        let mut cells = ai_cells(self.f, &self.lines[j]);
        if let Some(r) = self.reporting {
            cells.push(Cell::Owned(spend_text(&self.lines[j].body.spend)));
            cells.push(reporting_cell(self.f, r.lines.get(j).copied().flatten()));
        }
        cells
    }
}

pub(super) fn write<'a>(
    book: &mut Book<'a>,
    o: &'a Outcome,
    per_sheet: usize,
) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("AI Services")?;
    let f = ws.f;
    let mut cols: Vec<Col> = vec![];
    cols.extend_from_slice(KEY_COLS);
    cols.extend_from_slice(QTY_COLS);
    cols.extend_from_slice(RESULT_COLS);
    // Wider than on Calculation Lines: a line's factor ids and flags are its longest texts,
    // and on the sheet read most on screen its rows stay some six lines tall.
    cols.push(("Flags", 40.0));
    cols.push(("Factor ids", 36.0));
    cols.extend_from_slice(SUPPLIER_COLS);
    cols.extend_from_slice(PER_REQUEST_COLS);
    let reporting = o.reporting.as_ref();
    if reporting.is_some() {
        cols.push(("Spend (as exported)", 16.0));
        cols.push(("Spend (reporting currency)", 12.0));
    }
    let mut r = ws.header(0, &cols)?;
    ws.wide_paper();
    if let Some(rs) = reporting {
        ws.text_fmt(
            0,
            (cols.len() - 1) as u16,
            &reporting_heading(rs),
            &f.header,
        )?;
    }
    let lines = &o.summary.lines;
    r = ws.lines(
        r,
        AiRows {
            f,
            lines,
            reporting,
            ranges: calc_ranges(o, per_sheet),
        },
    )?;
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    ws.totals_row(r, "Total", KEY_COLS.len() as u16, &total_values(o))?;
    // The result totals are live sums of the lines above (each a sum of its calculation
    // lines): the E1-6 Summary's figure is this row's central emissions.
    if !lines.is_empty() {
        let values = total_values(o);
        for k in 0..SUMMED {
            let col = FIRST_RESULT + k;
            let letter = col_letter(col);
            let v = values
                .get((col - KEY_COLS.len() as u16) as usize)
                .and_then(|v| v.0)
                .unwrap_or(0.0);
            let formula =
                Formula::new(format!("=SUM({letter}2:{letter}{r})")).set_result(v.to_string());
            ws.write_formula_with_format(r, col, formula, &f.total_kg)?;
        }
    }
    if let Some(rs) = reporting {
        // The lines' spend only: the billed items not estimated are below, with their own.
        let line_spend = o.summary.lines.iter().fold(BTreeMap::new(), |mut m, l| {
            for (c, v) in &l.body.spend {
                *m.entry(c.clone()).or_insert(0.0) += v;
            }
            m
        });
        let last = (cols.len() - 1) as u16;
        ws.text_fmt(r, last - 1, &spend_text(&line_spend), &f.total_label)?;
        match rs.lines.iter().try_fold(0.0, |a, x| x.map(|x| a + x)) {
            Some(v) => ws.write_number_with_format(r, last, v, &f.money)?,
            None => ws.text_fmt(
                r,
                last,
                "no exchange rate: see the warnings",
                &f.total_label,
            )?,
        };
    }
    r += 2;

    // Billed items the token method does not estimate: listed with their spend, never dropped.
    ws.text_fmt(
        r,
        0,
        "Billed items not estimated by the token method (listed with their quantity and spend)",
        &f.label,
    )?;
    r += 1;
    if o.summary.not_estimated.is_empty() {
        ws.text(r, 0, "none")?;
        r += 1;
    } else {
        // Each field in a column of the lines wide enough for it (the quantity, in a unit of
        // its own, can run to billions: under the input tokens); the source rows, last, run on
        // over the empty cells to their right.
        let reporting_head = reporting.map(reporting_heading);
        let mut heads: Vec<(u16, &str)> = vec![
            (0, "Provider"),
            (1, "Item"),
            (2, "Model / meter"),
            (3, "Region"),
            (5, "Month"),
            (6, "Cost centre"),
            (9, "Quantity"),
            (10, "Unit"),
            (11, "Spend"),
        ];
        let mut next = 12;
        if let Some(h) = reporting_head.as_deref() {
            heads.push((next, h));
            next += 1;
        }
        heads.push((next, "Source rows"));
        for (c, h) in &heads {
            ws.text_fmt(r, *c, h, &f.label)?;
        }
        r += 1;
        for (i, n) in o.summary.not_estimated.iter().enumerate() {
            let mut cells: Vec<Cell<'_>> = (0..next).map(|_| Cell::Blank).collect();
            let mut put = |c: u16, cell: Cell<'a>| {
                if let Some(slot) = cells.get_mut(c as usize) {
                    *slot = cell;
                }
            };
            put(0, Cell::Text(&n.key.provider));
            put(1, Cell::Text(&n.key.label));
            put(2, Cell::Text(&n.key.model));
            put(3, Cell::Text(n.key.region.as_deref().unwrap_or("")));
            put(5, Cell::Text(&n.key.month));
            put(6, Cell::Text(n.key.cost_centre.as_deref().unwrap_or("")));
            put(9, Cell::Number(n.quantity, &f.qty));
            put(10, Cell::Text(&n.key.unit));
            put(11, Cell::Owned(spend_text(&n.spend)));
            if let Some(rs) = reporting {
                put(
                    12,
                    reporting_cell(f, rs.not_estimated.get(i).copied().flatten()),
                );
            }
            ws.row_wrapped(r, &cells)?;
            // The last column: its text runs on over the empty cells to its right, at the top
            // of a row that other texts made taller.
            let sources = n
                .sources
                .iter()
                .map(|s| format!("{} rows {}-{} ({})", s.file, s.rows[0], s.rows[1], s.count))
                .collect::<Vec<_>>()
                .join("; ");
            ws.text_fmt(r, next, &sources, &f.top)?;
            r += 1;
        }
    }
    r += 1;

    // Totals by provider and by model.
    for (title, by_model) in [("Totals by provider", false), ("Totals by model", true)] {
        ws.text_fmt(r, 0, title, &f.label)?;
        r += 1;
        let mut groups: BTreeMap<String, (u64, u64, Bounds)> = BTreeMap::new();
        for l in &o.summary.lines {
            let k = if by_model {
                format!("{} / {}", l.key.provider, l.body.model_key)
            } else {
                l.key.provider.to_string()
            };
            let g = groups.entry(k).or_insert((0, 0, Bounds::default()));
            g.0 = g.0.saturating_add(l.body.activity.input_tokens);
            g.1 = g.1.saturating_add(l.body.activity.output_tokens);
            g.2 = g.2.zip(l.body.estimate.emissions_kgco2e, |a, b| a + b);
        }
        // Each figure under the lines' column of the same figure; the name runs on over the
        // empty cells between.
        ws.labels(
            r,
            &TOTALS_COLS,
            &[
                "Input tokens",
                "Output tokens",
                "kgCO2e (low)",
                "kgCO2e (central)",
                "kgCO2e (high)",
            ],
        )?;
        r += 1;
        for (k, (i, out, e)) in groups {
            ws.text(r, 0, &k)?;
            let [ci, co, cl, cc, ch] = TOTALS_COLS;
            ws.write_number_with_format(r, ci, i as f64, &f.int)?;
            ws.write_number_with_format(r, co, out as f64, &f.int)?;
            ws.write_number_with_format(r, cl, e.low, &f.kg)?;
            ws.write_number_with_format(r, cc, e.central, &f.kg)?;
            ws.write_number_with_format(r, ch, e.high, &f.kg)?;
            r += 1;
        }
        r += 1;
    }

    // Pareto of models: central kgCO2e, largest first, with the cumulative share.
    let mut models: BTreeMap<String, f64> = BTreeMap::new();
    for l in &o.summary.lines {
        *models
            .entry(format!("{} / {}", l.key.provider, l.body.model_key))
            .or_insert(0.0) += l.body.estimate.emissions_kgco2e.central;
    }
    let mut models: Vec<(String, f64)> = models.into_iter().collect();
    models.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    models.truncate(15);
    let total = o.summary.totals.emissions_kgco2e.central;
    ws.text_fmt(r, 0, "Pareto of models (top 15, central)", &f.label)?;
    r += 1;
    // The model's name runs on over the empty cells up to its kgCO2e, under the lines'
    // kgCO2e (central).
    let (kg_col, share_col) = (PARETO_KG, PARETO_KG + 1);
    ws.text_fmt(r, 0, "Provider / model", &f.label)?;
    ws.labels(
        r,
        &[kg_col, share_col],
        &["kgCO2e (central)", "Cumulative share"],
    )?;
    r += 1;
    let first = r;
    let mut cum = 0.0;
    for (m, v) in &models {
        cum += v;
        ws.text(r, 0, m)?;
        ws.write_number_with_format(r, kg_col, *v, &f.kg)?;
        let share = if total > 0.0 { cum / total } else { 0.0 };
        ws.write_number_with_format(r, share_col, share, &f.pct)?;
        r += 1;
    }
    if !models.is_empty() {
        let last = r - 1;
        let mut chart = Chart::new(ChartType::Column);
        chart
            .title()
            .set_name("Pareto of models: kgCO2e (central) and cumulative share");
        chart
            .add_series()
            .set_name("kgCO2e (central)")
            .set_categories(("AI Services", first, 0, last, 0))
            .set_values(("AI Services", first, kg_col, last, kg_col));
        let mut line = Chart::new(ChartType::Line);
        line.add_series()
            .set_name("Cumulative share")
            .set_categories(("AI Services", first, 0, last, 0))
            .set_values(("AI Services", first, share_col, last, share_col))
            .set_secondary_axis(true);
        chart.combine(&line);
        chart.y_axis().set_name("kgCO2e");
        chart
            .y2_axis()
            .set_name("cumulative share")
            .set_num_format("0%");
        // Beside the Pareto table (right of its share), below every table above it.
        ws.place_chart(first.saturating_sub(1), share_col + 2, &mut chart, 720, 380)?;
    }
    Ok(())
}
