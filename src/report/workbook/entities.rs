//! The Entities sheet (the group's report, #21 item 3): one row per reporting entity of the
//! ledger (and one for the records assigned to none) with its tCO2e low / central / high,
//! energy, tokens and spend (per currency as exported, and in the reporting currency when the
//! config file sets one) as `report --entity NAME` computes them; a total row of SUM formulas
//! over them, so that an auditor can re-perform the consolidation; the group's figure as
//! reported below it and the difference. The figures are computed in `pipeline::entities`,
//! never here.

use rust_xlsxwriter::{Format, Formula, XlsxError};

use super::formats::Formats;
use super::formulas::col_letter;
use super::line_cells::{reporting_cell, reporting_heading};
use super::writer::{Book, CellText};
use crate::aggregate::Totals;
use crate::pipeline::entities::{EntityRow, EntityScope};
use crate::pipeline::Outcome;
use crate::report::cell::Cell;

/// The sheet's name.
pub const NAME: &str = "Entities";

/// The header row (0-based).
const HEADER_ROW: u32 = 3;

/// The number formats of a column: a count, tCO2e, kWh or money.
#[derive(Clone, Copy)]
enum Unit {
    Count,
    Tonnes,
    Kwh,
    Money,
}

impl Unit {
    fn plain(self, f: &Formats) -> &Format {
        match self {
            Unit::Count => &f.int,
            Unit::Tonnes => &f.t,
            Unit::Kwh => &f.kwh,
            Unit::Money => &f.money,
        }
    }
}

/// A column's value from a row's totals and its spend in the reporting currency.
type Value<'o> = Box<dyn Fn(&Totals, Option<f64>) -> Option<f64> + 'o>;

/// A numeric column: heading, width, unit, and its value for a row's totals (with the row's
/// spend in the reporting currency) and for the group as reported.
struct Column<'o> {
    heading: String,
    width: f64,
    unit: Unit,
    value: Value<'o>,
}

/// The rows of the group's report, if this is one: the sheet is written only then.
pub(super) fn of(o: &Outcome) -> Option<&[EntityRow]> {
    match o.entity_scope.as_ref()? {
        EntityScope::Group(rows) => Some(rows),
        EntityScope::Entity(_) => None,
    }
}

/// The numeric columns: tCO2e low / central / high, energy, input and output tokens, the spend
/// per currency as exported, and the spend in the reporting currency when there is one.
fn columns(o: &Outcome, rows: &[EntityRow]) -> Vec<Column<'static>> {
    let mut cols: Vec<Column> = vec![
        Column {
            heading: "tCO2e (low)".into(),
            width: 12.0,
            unit: Unit::Tonnes,
            value: Box::new(|t, _| Some(t.emissions_kgco2e.low / 1000.0)),
        },
        Column {
            heading: "tCO2e (central)".into(),
            width: 12.0,
            unit: Unit::Tonnes,
            value: Box::new(|t, _| Some(t.emissions_kgco2e.central / 1000.0)),
        },
        Column {
            heading: "tCO2e (high)".into(),
            width: 12.0,
            unit: Unit::Tonnes,
            value: Box::new(|t, _| Some(t.emissions_kgco2e.high / 1000.0)),
        },
        Column {
            heading: "Energy kWh (central)".into(),
            width: 14.0,
            unit: Unit::Kwh,
            value: Box::new(|t, _| Some(t.energy_kwh.central)),
        },
        Column {
            heading: "Input tokens".into(),
            width: 16.0,
            unit: Unit::Count,
            value: Box::new(|t, _| Some(t.activity.input_tokens as f64)),
        },
        Column {
            heading: "Output tokens".into(),
            width: 16.0,
            unit: Unit::Count,
            value: Box::new(|t, _| Some(t.activity.output_tokens as f64)),
        },
    ];
    let currencies: std::collections::BTreeSet<String> = rows
        .iter()
        .flat_map(|r| r.totals.spend.keys().cloned())
        .collect();
    for c in currencies {
        cols.push(Column {
            heading: format!("Spend {c} (as exported)"),
            width: 14.0,
            unit: Unit::Money,
            value: Box::new(move |t, _| Some(t.spend.get(&c).copied().unwrap_or(0.0))),
        });
    }
    if let Some(rs) = &o.reporting {
        cols.push(Column {
            heading: reporting_heading(rs),
            width: 14.0,
            unit: Unit::Money,
            value: Box::new(|_, reporting| reporting),
        });
    }
    cols
}

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let Some(rows) = of(o) else {
        return Ok(());
    };
    let mut ws = book.add_sheet(NAME)?;
    let f = ws.f;
    let cols = columns(o, rows);
    // Column A the entity, B its records, then the numeric columns.
    const FIRST: u16 = 2;
    let last_col = FIRST + cols.len() as u16 - 1;
    let named = rows.iter().filter(|r| r.entity.is_some()).count();
    ws.text_fmt(
        0,
        0,
        format!(
            "Entities: the group's figure by reporting entity, {} ({} to {})",
            o.period.label, o.period.start, o.period.end
        )
        .as_str(),
        &f.title,
    )?;
    ws.note(
        1,
        last_col,
        &format!(
            "{named} reporting entit{} in the ledger. Each row is what report --entity NAME gives for the period: the entity's records in the ledger (assigned by import --entity or the config file's [[entities]] rules when they were imported), recomputed with this report's factor set ({}) and configuration. Records assigned to no entity count in the group's figure only and have their own row. The total row is a SUM of the rows above it and equals the group's figure (E1-6 Summary, AI Services total), shown below it with the difference.{}",
            if named == 1 { "y" } else { "ies" },
            o.factor_version,
            if o.training.included {
                " Inference only: the amortised training share the configuration adds to the E1-6 figure is on the Training sheet, not split by entity."
            } else {
                ""
            }
        ),
        150.0,
    )?;
    // A heading is `&'static str` in `Col`: written with placeholders, then replaced.
    let mut heads: Vec<(&str, f64)> =
        vec![("Reporting entity", 34.0), ("Records in the ledger", 11.0)];
    heads.extend(cols.iter().map(|c| ("", c.width)));
    let mut r = ws.header(HEADER_ROW, &heads)?;
    let names: Vec<&str> = ["Reporting entity", "Records in the ledger"]
        .into_iter()
        .chain(cols.iter().map(|c| c.heading.as_str()))
        .collect();
    let widths: Vec<f64> = heads.iter().map(|h| h.1).collect();
    ws.headings(HEADER_ROW, 0, &names, &widths)?;
    let first = r;
    for row in rows {
        let mut cells = vec![
            Cell::Text(row.name()),
            Cell::Number(row.records as f64, &f.int),
        ];
        for c in &cols {
            cells.push(match (c.value)(&row.totals, row.spend_reporting) {
                Some(v) => Cell::Number(v, c.unit.plain(f)),
                None => reporting_cell(f, None),
            });
        }
        ws.row_wrapped(r, &cells)?;
        r += 1;
    }
    if r > first {
        ws.autofilter(HEADER_ROW, 0, r - 1, last_col)?;
    }
    // The total: a SUM of each column over the rows, its cached value the rows' sum.
    let total_row = r;
    ws.text_fmt(r, 0, "Group total (sum of the rows above)", &f.total_label)?;
    let records: usize = rows.iter().map(|row| row.records).sum();
    let sum_formula = |col: u16| {
        if r > first {
            format!("=SUM({0}{1}:{0}{2})", col_letter(col), first + 1, r)
        } else {
            "=0".to_string()
        }
    };
    ws.write_formula_with_format(
        r,
        1,
        Formula::new(sum_formula(1)).set_result(records.to_string()),
        &f.total_int,
    )?;
    let total_money = f.total_label.clone().set_num_format("#,##0.00");
    let mut sums = Vec::with_capacity(cols.len());
    for (i, c) in cols.iter().enumerate() {
        let col = FIRST + i as u16;
        let sum: f64 = rows
            .iter()
            .filter_map(|row| (c.value)(&row.totals, row.spend_reporting))
            .sum();
        sums.push(sum);
        let fmt = match c.unit {
            Unit::Count => &f.total_int,
            Unit::Tonnes => &f.total_t,
            Unit::Kwh => &f.total_kwh,
            Unit::Money => &total_money,
        };
        ws.write_formula_with_format(
            r,
            col,
            Formula::new(sum_formula(col)).set_result(sum.to_string()),
            fmt,
        )?;
    }
    r += 1;
    // The group's figure as the report states it, and the difference from the sum (rounded
    // to six decimals, a gram or a milli-kWh: float noise would show as -0.000).
    let reported_row = r;
    ws.text_fmt(r, 0, "Group figure as reported", &f.label_top)?;
    let group_reporting = o.reporting.as_ref().and_then(|rs| rs.total);
    let mut reported = Vec::with_capacity(cols.len());
    for (i, c) in cols.iter().enumerate() {
        let v = (c.value)(&o.summary.totals, group_reporting);
        if let Some(v) = v {
            ws.write_number_with_format(r, FIRST + i as u16, v, c.unit.plain(f))?;
        }
        reported.push(v);
    }
    r += 1;
    ws.text_fmt(r, 0, "Difference (sum − reported)", &f.label_top)?;
    for (i, c) in cols.iter().enumerate() {
        let Some(v) = reported[i] else {
            continue;
        };
        let col = FIRST + i as u16;
        let letter = col_letter(col);
        let difference = ((sums[i] - v) * 1e6).round() / 1e6 + 0.0;
        ws.write_formula_with_format(
            r,
            col,
            Formula::new(format!(
                "=ROUND({letter}{}-{letter}{},6)",
                total_row + 1,
                reported_row + 1
            ))
            .set_result(difference.to_string()),
            c.unit.plain(f),
        )?;
    }
    r += 2;
    ws.note(
        r,
        last_col,
        "Low and high are a bounding envelope (every factor at its low or high value), summed entity by entity as the group's own lines are. A difference other than 0.000 would come from a vendor carbon figure matched to usage of another entity (Supplier Data sheet): the group matches it, each entity only its own.",
        150.0,
    )?;
    Ok(())
}
