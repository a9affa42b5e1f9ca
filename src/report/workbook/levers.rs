//! The Levers sheet (#22): the what-if scenarios of the configuration and the command line,
//! each with the change of emissions, energy and water it would have made to the period, and
//! (ledger reports) the trend projected four quarters ahead, stated as a projection.

use rust_xlsxwriter::XlsxError;

use super::writer::{Book, CellText};
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

/// The sheet's name.
pub const NAME: &str = "Levers";

/// The header row (0-based).
const HEADER_ROW: u32 = 2;

const COLS: &[Col] = &[
    ("Scenario (as written)", 34.0),
    ("What it means", 36.0),
    ("Lines changed", 9.0),
    ("tCO2e change, every factor low", 13.0),
    ("tCO2e change, central", 13.0),
    ("tCO2e change, every factor high", 13.0),
    ("Change of the central total", 10.0),
    ("kWh change (central)", 12.0),
    ("Water change, L (central)", 12.0),
    ("tCO2e had it been so (central)", 13.0),
    ("Notes", 50.0),
];

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet(NAME)?;
    let f = ws.f;
    let last_col = (COLS.len() - 1) as u16;
    ws.text_fmt(
        0,
        0,
        "Levers: what the period's figure would have been (scenarios, not the reported figure)",
        &f.title,
    )?;
    ws.note(
        1,
        last_col,
        "Each scenario re-estimates the AI Services lines it touches with this report's factor set and arithmetic and gives the change: negative is a saving. Each bound is computed against the same bound (every factor at its low value in both cases, and so on), so a change's 'low' can be the larger saving. Spend-based lines have no tokens and take no part. Ask for scenarios with report --what-if or [levers] what_if in llm-scope3.toml.",
        190.0,
    )?;
    let mut r = ws.header(HEADER_ROW, COLS)?;
    if o.what_if.is_empty() {
        ws.wrapped(
            r,
            0,
            "No scenario was asked for. Examples: --what-if \"move 50% gpt-4o to gpt-4o-mini\", --what-if \"region anthropic eu-north-1\", --what-if \"cache 30% of input\".",
            70.0,
        )?;
        r += 1;
    }
    let total = o.summary.totals.emissions_kgco2e.central;
    for w in &o.what_if {
        let d = w.delta_kgco2e;
        let notes = w.notes.join("; ");
        let mut cells = vec![
            Cell::Text(&w.spec),
            Cell::Text(&w.description),
            Cell::Number(w.lines as f64, &f.int),
            Cell::Number(d.low / 1000.0, &f.t),
            Cell::Number(d.central / 1000.0, &f.t),
            Cell::Number(d.high / 1000.0, &f.t),
        ];
        cells.push(if total > 0.0 {
            Cell::Number(d.central / total, &f.pct)
        } else {
            Cell::Blank
        });
        cells.push(Cell::Number(w.delta_energy_kwh.central, &f.kwh));
        cells.push(Cell::Number(w.delta_water_l.central, &f.kwh));
        cells.push(Cell::Number(w.total_after_kgco2e.central / 1000.0, &f.t));
        cells.push(Cell::Owned(notes));
        ws.row_wrapped(r, &cells)?;
        r += 1;
    }
    if !o.what_if.is_empty() {
        ws.autofilter(HEADER_ROW, 0, r - 1, last_col)?;
    }
    projection(&mut ws, o, r + 1)
}

/// The trend projected four quarters ahead (ledger reports), from row `r`.
fn projection(
    ws: &mut super::writer::Sheet<'_, '_>,
    o: &Outcome,
    mut r: u32,
) -> Result<(), XlsxError> {
    let f = ws.f;
    let Some(p) = o
        .ledger
        .as_ref()
        .and_then(|l| l.trend.as_ref())
        .and_then(|t| t.projection.as_ref())
    else {
        ws.wrapped(
            r,
            0,
            "Projection: with a ledger (report --ledger) the trend of the fiscal year is projected four quarters ahead here.",
            70.0,
        )?;
        return Ok(());
    };
    ws.text_fmt(
        r,
        0,
        "Projection of the next four quarters (if usage goes on as it went: not a forecast, not a target)",
        &f.label,
    )?;
    r += 1;
    ws.note(r, (COLS.len() - 1) as u16, &format!("Method: {}. Slope {:+.3} kgCO2e per quarter (central). The quarters a year earlier and this fiscal year's come from the ledger by the report's own path (Trend sheet).", p.method, p.slope_kgco2e), 190.0)?;
    r += 1;
    ws.headings(
        r,
        0,
        &[
            "Quarter",
            "From – to",
            "",
            "tCO2e, low line",
            "tCO2e, central line",
            "tCO2e, high line",
        ],
        &[
            COLS[0].1, COLS[1].1, COLS[2].1, COLS[3].1, COLS[4].1, COLS[5].1,
        ],
    )?;
    r += 1;
    for (name, period, b) in &p.quarters {
        ws.text(r, 0, name)?;
        ws.text(r, 1, &format!("{} – {}", period.start, period.end))?;
        ws.write_number_with_format(r, 3, b.low / 1000.0, &f.t)?;
        ws.write_number_with_format(r, 4, b.central / 1000.0, &f.t)?;
        ws.write_number_with_format(r, 5, b.high / 1000.0, &f.t)?;
        r += 1;
    }
    Ok(())
}
