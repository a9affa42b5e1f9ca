//! The Allocation sheet: the figures by cost centre, the unallocated remainder always shown.

use std::collections::BTreeMap;

use rust_xlsxwriter::XlsxError;

use super::line_cells::spend_text;
use super::writer::{Book, CellText, Sheet};
use crate::model::Bounds;
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

/// Lines, input tokens, output tokens, kgCO2e, spend of one cost centre.
type AllocationRow = (u64, u64, u64, Bounds, BTreeMap<String, f64>);

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
    ];
    let mut r = ws.header(0, cols)?;
    let mut by: BTreeMap<Option<String>, AllocationRow> = BTreeMap::new();
    for l in &o.summary.lines {
        let e = by.entry(l.key.cost_centre.clone()).or_default();
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
        ws.row(
            r,
            &[
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
            ],
        )
    };
    for (name, v) in &by {
        write(&mut ws, r, name.as_deref().unwrap_or(""), v)?;
        r += 1;
    }
    // The unallocated remainder is always shown, never hidden.
    let empty = (0, 0, 0, Bounds::default(), BTreeMap::new());
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
    Ok(())
}
