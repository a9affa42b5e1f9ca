//! The Data Quality sheet: the GHG Protocol indicators by provider, model and method, the
//! method mix and the share from supplier primary data.

use std::collections::BTreeMap;

use rust_xlsxwriter::{Chart, ChartType, XlsxError};

use super::writer::{Book, CellText};
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Data Quality")?;
    let f = ws.f;
    let cols: &[Col] = &[
        ("Provider", 14.0),
        ("Model key", 24.0),
        ("Method", 16.0),
        ("Technology", 12.0),
        ("Time", 8.0),
        ("Geography", 11.0),
        ("Completeness", 14.0),
        ("Reliability", 12.0),
        ("Score (mean)", 11.0),
        ("kgCO2e (central, the weight)", 14.0),
    ];
    let mut r = ws.header(0, cols)?;
    // Line groups: provider × model × method; indicators are the emissions-weighted means.
    let mut groups: BTreeMap<(String, String, &'static str), ([f64; 5], f64)> = BTreeMap::new();
    let mut total = ([0.0f64; 5], 0.0f64);
    for l in &o.summary.lines {
        let d = &l.body.dq;
        let w = l.body.estimate.emissions_kgco2e.central;
        let vals = [
            d.technology,
            d.time,
            d.geography,
            d.completeness,
            d.reliability,
        ]
        .map(f64::from);
        let g = groups
            .entry((
                l.key.provider.to_string(),
                l.body.model_key.clone(),
                l.body.method.label(),
            ))
            .or_insert(([0.0; 5], 0.0));
        for (i, v) in vals.iter().enumerate() {
            g.0[i] += v * w;
            total.0[i] += v * w;
        }
        g.1 += w;
        total.1 += w;
    }
    let mean = |v: &[f64; 5], w: f64| -> [f64; 5] { v.map(|x| if w > 0.0 { x / w } else { 0.0 }) };
    for ((p, m, method), (v, w)) in &groups {
        let a = mean(v, *w);
        let mut cells = vec![Cell::Text(p), Cell::Text(m), Cell::Text(method)];
        cells.extend(a.iter().map(|x| Cell::Number(*x, &f.dq)));
        cells.push(Cell::Number(a.iter().sum::<f64>() / 5.0, &f.dq));
        cells.push(Cell::Number(*w, &f.kg));
        ws.row(r, &cells)?;
        r += 1;
    }
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    let a = mean(&total.0, total.1);
    ws.text_fmt(r, 0, "Weighted total", &f.total_label)?;
    for (i, x) in a.iter().enumerate() {
        ws.write_number_with_format(r, 3 + i as u16, *x, &f.dq)?;
    }
    match o.summary.totals.data_quality_score {
        Some(sc) => ws.write_number_with_format(r, 8, sc, &f.dq)?,
        None => ws.text(r, 8, "n/a")?,
    };
    ws.write_number_with_format(r, 9, total.1, &f.total_kg)?;
    // Method mix: central kgCO2e by method, and a pie of it.
    r += 2;
    ws.text_fmt(r, 0, "Method mix (central kgCO2e)", &f.label)?;
    r += 1;
    let mut methods: BTreeMap<&'static str, f64> = BTreeMap::new();
    for l in &o.summary.lines {
        *methods.entry(l.body.method.label()).or_insert(0.0) +=
            l.body.estimate.emissions_kgco2e.central;
    }
    let mix_first = r;
    for (m, v) in &methods {
        ws.row(r, &[Cell::Text(m), Cell::Number(*v, &f.kg)])?;
        r += 1;
    }
    // The first row below the pie (columns F to K), which the note across A to J must not
    // run under.
    let mut below_chart = 0;
    if !methods.is_empty() {
        let mut chart = Chart::new(ChartType::Pie);
        chart.title().set_name("Emissions by method (GHG Protocol)");
        chart
            .add_series()
            .set_name("kgCO2e (central)")
            .set_categories(("Data Quality", mix_first, 0, r - 1, 0))
            .set_values(("Data Quality", mix_first, 1, r - 1, 1));
        below_chart = ws.place_chart(mix_first, 5, &mut chart, 420, 300)?;
    }
    r += 2;
    ws.text_fmt(
        r,
        0,
        "% of emissions from supplier primary data (ESRS E1 AR 46(g))",
        &f.label,
    )?;
    ws.write_number_with_format(r, 3, o.summary.totals.primary_data_share, &f.pct)?;
    r = (r + 2).max(below_chart);
    ws.note(r, 9, "GHG Protocol data-quality indicators, 1 very good … 4 poor: technology (2 known model, 3 size class, 4 spend-based), time (factor age), geography (1 cloud region, 2 country, 3 provider default or continent, 4 world), completeness (1 token data, 3 imputed), reliability (2 hybrid, 3 average-data, 4 spend-based). Group and total scores weight lines by central kgCO2e.", 100.0)?;
    Ok(())
}
