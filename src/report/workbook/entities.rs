//! The Entities sheet (the group's report, #21 item 3): one row per reporting entity of the
//! ledger (and one for the records assigned to none) with its tCO2e low / central / high,
//! energy, tokens and spend per currency as `report --entity NAME` computes them; a total
//! row of SUM formulas over them, so that an auditor can re-perform the consolidation; the
//! group's figure as reported below it and the difference. The figures are computed in
//! `pipeline::entities`, never here.

use rust_xlsxwriter::{Formula, XlsxError};

use super::formulas::col_letter;
use super::writer::{Book, CellText};
use crate::pipeline::entities::{EntityRow, EntityScope};
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

/// The sheet's name.
pub const NAME: &str = "Entities";

/// The header row (0-based).
const HEADER_ROW: u32 = 3;

/// The columns before the spend: entity, records, tCO2e low / central / high, energy, input
/// and output tokens; a "Spend CUR" column per currency follows.
const COLS: &[Col] = &[
    ("Reporting entity", 34.0),
    ("Records in the ledger", 11.0),
    ("tCO2e (low)", 12.0),
    ("tCO2e (central)", 12.0),
    ("tCO2e (high)", 12.0),
    ("Energy kWh (central)", 14.0),
    ("Input tokens", 16.0),
    ("Output tokens", 16.0),
];

/// The width of a spend column.
const SPEND_WIDTH: f64 = 14.0;

/// The rows of the group's report, if this is one: the sheet is written only then.
pub(super) fn of(o: &Outcome) -> Option<&[EntityRow]> {
    match o.entity_scope.as_ref()? {
        EntityScope::Group(rows) => Some(rows),
        EntityScope::Entity(_) => None,
    }
}

/// One row's numbers, in column order from column B: records, tCO2e low / central / high,
/// kWh, input and output tokens, then spend per currency of `currencies` (0 when none).
fn numbers(r: &EntityRow, currencies: &[&String]) -> Vec<f64> {
    let t = &r.totals;
    let e = t.emissions_kgco2e;
    let mut v = vec![
        r.records as f64,
        e.low / 1000.0,
        e.central / 1000.0,
        e.high / 1000.0,
        t.energy_kwh.central,
        t.activity.input_tokens as f64,
        t.activity.output_tokens as f64,
    ];
    v.extend(
        currencies
            .iter()
            .map(|c| t.spend.get(*c).copied().unwrap_or(0.0)),
    );
    v
}

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let Some(rows) = of(o) else {
        return Ok(());
    };
    let mut ws = book.add_sheet(NAME)?;
    let f = ws.f;
    let currencies: Vec<&String> = rows
        .iter()
        .flat_map(|r| r.totals.spend.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let spend_heads: Vec<String> = currencies.iter().map(|c| format!("Spend {c}")).collect();
    // A column heading is `&'static str`: each "Spend" is replaced by its currency's below.
    let mut cols: Vec<Col> = COLS.to_vec();
    cols.extend(spend_heads.iter().map(|_| ("Spend", SPEND_WIDTH)));
    let last_col = (cols.len() - 1) as u16;
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
    let mut r = ws.header(HEADER_ROW, &cols)?;
    for (i, h) in spend_heads.iter().enumerate() {
        ws.text_fmt(HEADER_ROW, (COLS.len() + i) as u16, h, &f.header)?;
    }
    let first = r;
    for row in rows {
        let v = numbers(row, &currencies);
        let mut cells = vec![
            Cell::Text(row.name()),
            Cell::Number(v[0], &f.int),
            Cell::Number(v[1], &f.t),
            Cell::Number(v[2], &f.t),
            Cell::Number(v[3], &f.t),
            Cell::Number(v[4], &f.kwh),
            Cell::Number(v[5], &f.int),
            Cell::Number(v[6], &f.int),
        ];
        cells.extend(v[7..].iter().map(|a| Cell::Number(*a, &f.money)));
        ws.row_wrapped(r, &cells)?;
        r += 1;
    }
    if r > first {
        ws.autofilter(HEADER_ROW, 0, r - 1, last_col)?;
    }
    // The total: a SUM of each column over the rows, its cached value the rows' sum.
    let total_money = f.total_label.clone().set_num_format("#,##0.00");
    let formats = |c: usize| match c {
        0 | 5 | 6 => &f.total_int,
        1..=3 => &f.total_t,
        4 => &f.total_kwh,
        _ => &total_money,
    };
    let sums: Vec<f64> = (0..cols.len() - 1)
        .map(|c| rows.iter().map(|row| numbers(row, &currencies)[c]).sum())
        .collect();
    let total_row = r;
    ws.text_fmt(r, 0, "Group total (sum of the rows above)", &f.total_label)?;
    for (c, value) in sums.iter().enumerate() {
        let col = (c + 1) as u16;
        let text = if r > first {
            format!("=SUM({0}{1}:{0}{2})", col_letter(col), first + 1, r)
        } else {
            "=0".to_string()
        };
        ws.write_formula_with_format(
            r,
            col,
            Formula::new(text).set_result(value.to_string()),
            formats(c),
        )?;
    }
    r += 1;
    // The group's figure as the report states it, and the difference from the sum.
    let t = &o.summary.totals;
    let e = t.emissions_kgco2e;
    let mut group = vec![
        f64::NAN,
        e.low / 1000.0,
        e.central / 1000.0,
        e.high / 1000.0,
        t.energy_kwh.central,
        t.activity.input_tokens as f64,
        t.activity.output_tokens as f64,
    ];
    group.extend(
        currencies
            .iter()
            .map(|c| t.spend.get(*c).copied().unwrap_or(0.0)),
    );
    let plain = |c: usize| match c {
        0 | 5 | 6 => &f.int,
        1..=3 => &f.t,
        4 => &f.kwh,
        _ => &f.money,
    };
    ws.text_fmt(r, 0, "Group figure as reported", &f.label_top)?;
    for (c, value) in group.iter().enumerate().skip(1) {
        ws.write_number_with_format(r, (c + 1) as u16, *value, plain(c))?;
    }
    r += 1;
    // Rounded to six decimals (a gram, a milli-kWh): float noise would show as -0.000.
    ws.text_fmt(r, 0, "Difference (sum − reported)", &f.label_top)?;
    for (c, value) in group.iter().enumerate().skip(1) {
        let col = (c + 1) as u16;
        let letter = col_letter(col);
        let difference = ((sums[c] - value) * 1e6).round() / 1e6 + 0.0;
        ws.write_formula_with_format(
            r,
            col,
            Formula::new(format!("=ROUND({letter}{}-{letter}{},6)", total_row + 1, r))
                .set_result(difference.to_string()),
            plain(c),
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
