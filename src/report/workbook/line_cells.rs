//! The cells and columns of a line (AI Services, Calculation Lines, and the CSV tables), and
//! small texts shared by several sheets.

use std::collections::BTreeMap;

use rust_xlsxwriter::Format;

use super::formats::Formats;
use super::writer::Total;
use crate::aggregate::{LineBody, LineKey};
use crate::model::Bounds;
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

/// The key cells of a line: provider, model, model key, region, grid, month, cost centre, method.
pub(crate) fn key_cells<'a>(k: &'a LineKey, b: &'a LineBody) -> Vec<Cell<'a>> {
    vec![
        Cell::Text(&k.provider),
        Cell::Text(&k.model),
        Cell::Text(&b.model_key),
        Cell::Text(k.region.as_deref().unwrap_or("")),
        Cell::Owned(format!("{} ({})", b.grid_geo, b.grid_year)),
        Cell::Text(&k.month),
        Cell::Text(k.cost_centre.as_deref().unwrap_or("")),
        match &k.spend {
            Some(s) => Cell::Owned(format!("{} ({s})", b.method.label())),
            None => Cell::Text(b.method.label()),
        },
    ]
}

/// The key columns of a line. The widths of the line tables' columns (here and on the sheets)
/// are those of their usual content: a longer text wraps in its column and its row grows
/// (`Sheet::lines`), so that a table of some 40 columns prints one A3 page wide at a size that
/// can be read.
pub(crate) const KEY_COLS: &[Col] = &[
    ("Provider", 11.0),
    ("Model (as exported)", 14.0),
    ("Model key (factor set)", 12.0),
    ("Region (as exported)", 11.0),
    ("Grid geography (year)", 12.0),
    ("Month", 8.0),
    ("Cost centre", 10.0),
    ("Method", 10.0),
];

pub(crate) const QTY_COLS: &[Col] = &[
    ("Requests", 9.0),
    ("Input tokens", 14.0),
    ("Cached input tokens", 12.0),
    ("Output tokens", 12.0),
    ("Imputed input tokens", 11.0),
    ("Imputed output tokens", 11.0),
];

pub(crate) const RESULT_COLS: &[Col] = &[
    ("Energy kWh (low)", 10.0),
    ("Energy kWh (central)", 10.0),
    ("Energy kWh (high)", 10.0),
    ("kgCO2e (low)", 10.0),
    ("kgCO2e (central)", 10.0),
    ("kgCO2e (high)", 10.0),
    ("of which embodied kgCO2e (central)", 10.0),
    ("Water L (low)", 10.0),
    ("Water L (central)", 10.0),
    ("Water L (high)", 10.0),
    ("Data quality (1-4)", 7.0),
];

/// Estimate and vendor figure side by side (METHODOLOGY §5), on AI Services lines.
pub(crate) const SUPPLIER_COLS: &[Col] = &[
    ("Tool estimate kgCO2e (central)", 11.0),
    ("Vendor kgCO2e (allocated)", 11.0),
    ("Vendor figure", 32.0),
];

pub(crate) fn supplier_cells<'a>(f: &'a Formats, b: &'a LineBody) -> Vec<Cell<'a>> {
    match &b.supplier {
        Some(s) => vec![
            Cell::Number(s.estimate_kgco2e.central, &f.kg),
            Cell::Number(s.vendor_kgco2e, &f.kg),
            Cell::Owned(format!("{}: {}", s.vendor, s.note)),
        ],
        None => vec![
            Cell::Number(b.estimate.emissions_kgco2e.central, &f.kg),
            Cell::Blank,
            Cell::Blank,
        ],
    }
}

/// The quantities of a line: requests (empty when no source row of the line gave a request
/// count, so that it does not read as "no requests"; a reported 0 stays 0), tokens and imputed
/// tokens.
pub(crate) fn qty_cells<'a>(b: &LineBody) -> Vec<Cell<'a>> {
    let a = &b.activity;
    vec![
        requests_cell(a),
        Cell::Count(a.input_tokens),
        Cell::Count(a.cached_input_tokens),
        Cell::Count(a.output_tokens),
        Cell::Count(b.estimate.imputed_input_tokens),
        Cell::Count(b.estimate.imputed_output_tokens),
    ]
}

pub(crate) fn result_cells<'a>(f: &'a Formats, b: &LineBody) -> Vec<Cell<'a>> {
    let e = &b.estimate;
    let mut v = vec![];
    let not_estimated = || {
        [
            Cell::Text("not estimated"),
            Cell::Text("not estimated"),
            Cell::Text("not estimated"),
        ]
    };
    if b.energy_estimated {
        v.extend(bounds_cells(e.energy_kwh, &f.kwh));
    } else {
        v.extend(not_estimated());
    }
    v.extend(bounds_cells(e.emissions_kgco2e, &f.kg));
    v.push(Cell::Number(e.embodied_kgco2e.central, &f.kg));
    if b.energy_estimated {
        // Litres: one decimal, as kWh.
        v.extend(bounds_cells(e.water_l, &f.kwh));
    } else {
        v.extend(not_estimated());
    }
    v.push(Cell::Number(b.dq.score(), &f.dq));
    v
}

/// A request count: empty when not reported.
pub(crate) fn requests_cell<'a>(a: &crate::estimate::Activity) -> Cell<'a> {
    if a.requests_reported {
        Cell::Count(a.requests)
    } else {
        Cell::Blank
    }
}

/// Low, central and high, in `fmt`.
pub(super) fn bounds_cells<'a>(b: Bounds, fmt: &'a Format) -> [Cell<'a>; 3] {
    [
        Cell::Number(b.low, fmt),
        Cell::Number(b.central, fmt),
        Cell::Number(b.high, fmt),
    ]
}

/// Spend per currency as text: `EUR 12.34; USD 5.00`.
pub(super) fn spend_text(s: &BTreeMap<String, f64>) -> String {
    s.iter()
        .map(|(c, v)| format!("{c} {v:.2}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The heading of a column of spend in the reporting currency (`Spend in EUR`).
pub(super) fn reporting_heading(r: &crate::aggregate::currency::ReportingSpend) -> String {
    format!("Spend in {}", r.currency)
}

/// An amount in the reporting currency: the number, or why there is none (a currency the
/// factor set has no exchange rate for; never a zero).
pub(super) fn reporting_cell<'a>(f: &'a Formats, amount: Option<f64>) -> Cell<'a> {
    match amount {
        Some(a) => Cell::Number(a, &f.money),
        None => Cell::Text("no exchange rate: see the warnings"),
    }
}

/// The totals below [`QTY_COLS`] and [`RESULT_COLS`] (but the data quality), each with its
/// unit (its number format); the requests' total is empty when no line reported requests.
pub(super) fn total_values(o: &Outcome) -> Vec<(Option<f64>, Total)> {
    let t = &o.summary.totals;
    let a = &t.activity;
    let mut v: Vec<(Option<f64>, Total)> = vec![(
        a.requests_reported.then_some(a.requests as f64),
        Total::Count,
    )];
    v.extend(
        [
            a.input_tokens,
            a.cached_input_tokens,
            a.output_tokens,
            t.imputed_input_tokens,
            t.imputed_output_tokens,
        ]
        .iter()
        .map(|n| (Some(*n as f64), Total::Count)),
    );
    for (b, unit) in [(t.energy_kwh, Total::Kwh), (t.emissions_kgco2e, Total::Kg)] {
        v.extend([b.low, b.central, b.high].map(|x| (Some(x), unit)));
    }
    v.push((Some(t.embodied_kgco2e.central), Total::Kg));
    let w = t.water_l;
    v.extend([w.low, w.central, w.high].map(|x| (Some(x), Total::Kwh)));
    v
}
