//! The Uncertainty sheet: low, central and high by provider, and the sensitivity of the total
//! to each assumption (whiskers and tornado charts).

use std::collections::BTreeMap;

use rust_xlsxwriter::{
    Chart, ChartErrorBars, ChartErrorBarsType, ChartRange, ChartType, XlsxError,
};

use super::writer::{Book, CellText};
use crate::model::Bounds;
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Uncertainty")?;
    let f = ws.f;
    let cols: &[Col] = &[
        ("Provider", 30.0),
        ("kgCO2e (low)", 14.0),
        ("kgCO2e (central)", 14.0),
        ("kgCO2e (high)", 14.0),
        ("High / low", 10.0),
        // The whiskers' lengths (the chart's error bars), written below.
        ("to high", 12.0),
        ("to low", 12.0),
    ];
    let mut r = ws.header(0, cols)?;
    let mut by: BTreeMap<String, Bounds> = BTreeMap::new();
    for l in &o.summary.lines {
        let e = by.entry(l.key.provider.to_string()).or_default();
        *e = e.zip(l.body.estimate.emissions_kgco2e, |a, b| a + b);
    }
    let ratio = |b: &Bounds| if b.low > 0.0 { b.high / b.low } else { 0.0 };
    for (p, b) in &by {
        ws.row(
            r,
            &[
                Cell::Text(p),
                Cell::Number(b.low, &f.kg),
                Cell::Number(b.central, &f.kg),
                Cell::Number(b.high, &f.kg),
                Cell::Number(ratio(b), &f.dq),
            ],
        )?;
        r += 1;
    }
    // Whiskers: central per provider with low-high error bars (plus / minus columns F, G).
    let first = 1u32;
    for (i, b) in by.values().enumerate() {
        let row = first + i as u32;
        ws.write_number_with_format(row, 5, b.high - b.central, &f.kg)?;
        ws.write_number_with_format(row, 6, b.central - b.low, &f.kg)?;
    }
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    let t = o.summary.totals.emissions_kgco2e;
    ws.row(
        r,
        &[
            Cell::Text("Total"),
            Cell::Number(t.low, &f.total_kg),
            Cell::Number(t.central, &f.total_kg),
            Cell::Number(t.high, &f.total_kg),
            Cell::Number(ratio(&t), &f.dq),
        ],
    )?;
    // The first row below the charts (column I on), beside the tables (columns A to G).
    let mut below_charts = 0;
    if !by.is_empty() {
        let last = first + by.len() as u32 - 1;
        let mut chart = Chart::new(ChartType::Column);
        chart
            .title()
            .set_name("kgCO2e by provider: central, whiskers to low and high");
        let mut bars = ChartErrorBars::new();
        bars.set_type(ChartErrorBarsType::Custom(
            ChartRange::new_from_range("Uncertainty", first, 5, last, 5),
            ChartRange::new_from_range("Uncertainty", first, 6, last, 6),
        ));
        chart
            .add_series()
            .set_name("central")
            .set_categories(("Uncertainty", first, 0, last, 0))
            .set_values(("Uncertainty", first, 2, last, 2))
            .set_y_error_bars(&bars);
        chart.y_axis().set_name("kgCO2e").set_min(0);
        below_charts = ws.place_chart(0, 8, &mut chart, 560, 320)?;
    }
    r += 2;
    ws.text_fmt(
        r,
        0,
        "Sensitivity of the total (central) to each assumption, the others central",
        &f.label,
    )?;
    r += 1;
    let heads = [
        "Assumption",
        "Total at its low (kgCO2e)",
        "Central total (kgCO2e)",
        "Total at its high (kgCO2e)",
        "Swing (high − low)",
        "low − central",
        "high − central",
    ];
    ws.headings(r, 0, &heads, &[30.0, 14.0, 14.0, 14.0, 10.0, 12.0, 12.0])?;
    r += 1;
    let mut rows = o.summary.sensitivity.clone();
    rows.sort_by(|a, b| (b.2 - b.1).abs().total_cmp(&(a.2 - a.1).abs()));
    let tornado_first = r;
    for (name, lo, hi) in &rows {
        ws.row(
            r,
            &[
                Cell::Text(name),
                Cell::Number(*lo, &f.kg),
                Cell::Number(t.central, &f.kg),
                Cell::Number(*hi, &f.kg),
                Cell::Number(hi - lo, &f.kg),
            ],
        )?;
        r += 1;
    }
    if !rows.is_empty() {
        // Tornado: the swing of each assumption around the central total (columns F, G).
        let last = r - 1;
        for (i, (_, lo, hi)) in rows.iter().enumerate() {
            let row = tornado_first + i as u32;
            ws.write_number_with_format(row, 5, lo - t.central, &f.kg)?;
            ws.write_number_with_format(row, 6, hi - t.central, &f.kg)?;
        }
        let mut chart = Chart::new(ChartType::Bar);
        chart
            .title()
            .set_name("Tornado: change of the total (kgCO2e) per assumption");
        for (col, name) in [
            (5u16, "assumption at its low"),
            (6u16, "assumption at its high"),
        ] {
            chart
                .add_series()
                .set_name(name)
                .set_categories(("Uncertainty", tornado_first, 0, last, 0))
                .set_values(("Uncertainty", tornado_first, col, last, col))
                .set_overlap(100);
        }
        // Below the whiskers chart: the two never overlap whatever the number of providers.
        let at = tornado_first.max(below_charts);
        ws.place_chart(at, 8, &mut chart, 560, 320)?;
    }
    r += 1;
    ws.note(r, 6, "Low and high are a bounding envelope (every factor at its low or its high value), not a statistical interval. Spend-based lines do not depend on these assumptions and add their central to every row of the sensitivity table.", 100.0)?;
    Ok(())
}
