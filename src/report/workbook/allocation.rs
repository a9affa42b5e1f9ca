//! The Allocation sheet: the figures by cost centre, the unallocated remainder always shown.

use std::collections::BTreeMap;

use rust_xlsxwriter::XlsxError;

use super::line_cells::{reporting_cell, reporting_heading, spend_text};
use super::writer::{Book, CellText, Sheet};
use crate::model::Bounds;
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

/// Lines, input tokens, output tokens, kgCO2e, spend of one cost centre, and its spend in
/// the reporting currency (`None` when a line's could not be converted).
type AllocationRow = (u64, u64, u64, Bounds, BTreeMap<String, f64>, Option<f64>);

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Allocation")?;
    let f = ws.f;
    let cols: &[Col] = &[
        ("Cost centre", 30.0),
        ("Lines", 8.0),
        ("Input tokens", 16.0),
        ("Output tokens", 16.0),
        ("kgCO2e (low)", 13.0),
        ("kgCO2e (central)", 13.0),
        ("kgCO2e (high)", 13.0),
        ("Share of total (central)", 12.0),
        ("Spend", 22.0),
        ("Spend (reporting currency)", 16.0),
    ];
    let reporting = o.reporting.as_ref();
    let cols = &cols[..cols.len() - usize::from(reporting.is_none())];
    let mut r = ws.header(0, cols)?;
    if let Some(rs) = reporting {
        ws.text_fmt(0, 9, &reporting_heading(rs), &f.header)?;
    }
    let mut by: BTreeMap<Option<String>, AllocationRow> = BTreeMap::new();
    for (i, l) in o.summary.lines.iter().enumerate() {
        let e = by
            .entry(l.key.cost_centre.clone())
            .or_insert_with(|| (0, 0, 0, Bounds::default(), BTreeMap::new(), Some(0.0)));
        let converted = reporting.and_then(|rs| rs.lines.get(i).copied().flatten());
        e.5 = e.5.zip(converted).map(|(a, b)| a + b);
        e.0 += 1;
        e.1 = e.1.saturating_add(l.body.activity.input_tokens);
        e.2 = e.2.saturating_add(l.body.activity.output_tokens);
        e.3 = e.3.zip(l.body.estimate.emissions_kgco2e, |a, b| a + b);
        for (c, v) in &l.body.spend {
            *e.4.entry(c.clone()).or_insert(0.0) += v;
        }
    }
    let total = o.summary.totals.emissions_kgco2e.central;
    let unallocated = by.remove(&None);
    let write = |ws: &mut Sheet<'_, '_>, r: u32, name: &str, v: &AllocationRow| {
        let mut cells = vec![
            Cell::Owned(name.to_string()),
            Cell::Count(v.0),
            Cell::Count(v.1),
            Cell::Count(v.2),
            Cell::Number(v.3.low, &f.kg),
            Cell::Number(v.3.central, &f.kg),
            Cell::Number(v.3.high, &f.kg),
            Cell::Number(
                if total > 0.0 {
                    v.3.central / total
                } else {
                    0.0
                },
                &f.pct,
            ),
            Cell::Owned(spend_text(&v.4)),
        ];
        if reporting.is_some() {
            cells.push(reporting_cell(f, v.5));
        }
        ws.row_wrapped(r, &cells)
    };
    for (name, v) in &by {
        write(&mut ws, r, name.as_deref().unwrap_or(""), v)?;
        r += 1;
    }
    // The unallocated remainder is always shown, never hidden.
    let empty = (0, 0, 0, Bounds::default(), BTreeMap::new(), Some(0.0));
    write(
        &mut ws,
        r,
        "Unallocated (no cost centre in the export)",
        unallocated.as_ref().unwrap_or(&empty),
    )?;
    r += 1;
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    let t = &o.summary.totals.emissions_kgco2e;
    ws.text_fmt(r, 0, "Total (= allocated + unallocated)", &f.total_label)?;
    ws.write_number_with_format(r, 4, t.low, &f.total_kg)?;
    ws.write_number_with_format(r, 5, t.central, &f.total_kg)?;
    ws.write_number_with_format(r, 6, t.high, &f.total_kg)?;
    if let Some(rs) = reporting {
        match rs.lines.iter().try_fold(0.0, |a, x| x.map(|x| a + x)) {
            Some(v) => ws.write_number_with_format(r, 9, v, &f.money)?,
            None => ws.text_fmt(r, 9, "no exchange rate: see the warnings", &f.total_label)?,
        };
    }
    Ok(())
}
