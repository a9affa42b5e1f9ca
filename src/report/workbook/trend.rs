//! The Trend sheet (ledger reports only): the fiscal year of the reported period quarter by
//! quarter (tCO2e central, low, high), the year to date, the same quarter a year earlier and
//! two management metrics per quarter, from the ledger's records by the report's own path
//! (`pipeline::trend`), with a column chart below the table.

use rust_xlsxwriter::{Chart, ChartType, XlsxError};

use super::writer::{Book, CellText};
use crate::pipeline::trend::{Trend, TrendSpan};
use crate::pipeline::Outcome;
use crate::report::cell::Col;

/// The sheet's name.
pub const NAME: &str = "Trend";

/// The trend the report carries (a ledger report), if any: the Trend sheet is written only
/// then, and the Cover's sheet list names it only then.
pub(super) fn of(o: &Outcome) -> Option<&Trend> {
    o.ledger.as_ref().and_then(|l| l.trend.as_ref())
}

/// The header row and the first quarter's row (0-based).
const HEADER_ROW: u32 = 3;
const FIRST_ROW: u32 = HEADER_ROW + 1;

/// Columns: the quarter's name, dates, records, tCO2e central / low / high, a year earlier,
/// change, the two per-quarter metrics, a remark.
const COLS: &[Col] = &[
    ("Quarter", 16.0),
    ("From", 11.0),
    ("To", 11.0),
    ("Records in the ledger", 12.0),
    ("tCO2e (central)", 13.0),
    ("tCO2e (low)", 12.0),
    ("tCO2e (high)", 12.0),
    ("Same quarter a year earlier: tCO2e (central)", 16.0),
    ("Change on a year earlier", 11.0),
    ("kgCO2e per million tokens (management metric)", 15.0),
    ("kgCO2e per 1,000 requests (management metric)", 15.0),
    ("Remark", 62.0),
];

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let Some(trend) = of(o) else {
        return Ok(());
    };
    let mut ws = book.add_sheet(NAME)?;
    let f = ws.f;
    let last = trend.quarters.last().map(|q| q.period.end);
    let first = trend.quarters.first().map(|q| q.period.start);
    let dates = match (first, last) {
        (Some(a), Some(b)) => format!(" ({a} to {b})"),
        _ => String::new(),
    };
    ws.text_fmt(
        0,
        0,
        format!(
            "Trend: fiscal year {}{dates}, tCO2e by quarter",
            trend.fiscal_year
        )
        .as_str(),
        &f.title,
    )?;
    ws.note(
        1,
        (COLS.len() - 1) as u16,
        &format!(
            "Each quarter, the year to date and each span a year earlier are recomputed from the ledger's active records with this report's factor set ({}) and configuration, exactly as the reported figure; quarters after the reported period ({} to {}) are left empty. The per-quarter ratios are management metrics, not the ESRS E1-6 §53 intensity.",
            o.factor_version, o.period.start, o.period.end
        ),
        150.0,
    )?;
    let mut r = ws.header(HEADER_ROW, COLS)?;
    for (i, q) in trend.quarters.iter().enumerate() {
        let name = format!("{} Q{}", trend.fiscal_year, i + 1);
        span_row(&mut ws, r, &name, q, false)?;
        r += 1;
    }
    span_row(&mut ws, r, "Year to date", &trend.year_to_date, true)?;
    r += 1;
    ws.note(
        r,
        (COLS.len() - 1) as u16,
        "Low and high are a bounding envelope (every factor at its low or high value), not a statistical interval. A year earlier: the same dates twelve months before, from the same ledger.",
        150.0,
    )?;
    // The chart below the table, so that it covers no cell of it.
    let last_row = FIRST_ROW + trend.quarters.len() as u32 - 1;
    let mut chart = Chart::new(ChartType::Column);
    chart.title().set_name(&format!(
        "tCO2e by quarter, fiscal year {}",
        trend.fiscal_year
    ));
    chart.y_axis().set_name("tCO2e (central)");
    chart
        .add_series()
        .set_name("This fiscal year")
        .set_categories((NAME, FIRST_ROW, 0, last_row, 0))
        .set_values((NAME, FIRST_ROW, 4, last_row, 4));
    chart
        .add_series()
        .set_name("A year earlier")
        .set_categories((NAME, FIRST_ROW, 0, last_row, 0))
        .set_values((NAME, FIRST_ROW, 7, last_row, 7));
    ws.place_chart(r + 2, 0, &mut chart, 640, 320)?;
    Ok(())
}

/// One row: a quarter, or the year to date (`total`, bold).
fn span_row(
    ws: &mut super::writer::Sheet<'_, '_>,
    r: u32,
    name: &str,
    s: &TrendSpan,
    total: bool,
) -> Result<(), XlsxError> {
    let f = ws.f;
    let (label, t) = if total {
        (&f.total_label, &f.total_t)
    } else {
        (&f.text, &f.t)
    };
    ws.text_fmt(r, 0, name, label)?;
    ws.text_fmt(r, 1, s.period.start.to_string().as_str(), label)?;
    ws.text_fmt(r, 2, s.period.end.to_string().as_str(), label)?;
    let mut remarks = vec![];
    if !s.reported {
        remarks.push("after the reported period: not computed".to_string());
    } else {
        ws.write_number_with_format(r, 3, s.records as f64, &f.int)?;
    }
    let now = s.totals.as_ref().map(|t| t.emissions_kgco2e);
    if let Some(e) = now {
        ws.write_number_with_format(r, 4, e.central / 1000.0, t)?;
        ws.write_number_with_format(r, 5, e.low / 1000.0, t)?;
        ws.write_number_with_format(r, 6, e.high / 1000.0, t)?;
    } else if s.reported {
        remarks.push("no records in the ledger".into());
    }
    let before = s.previous.1.as_ref().map(|t| t.emissions_kgco2e.central);
    match before {
        Some(b) => {
            ws.write_number_with_format(r, 7, b / 1000.0, t)?;
            if let (Some(e), true) = (now, b > 0.0) {
                ws.write_number_with_format(r, 8, e.central / b - 1.0, &f.pct)?;
            }
        }
        None if s.reported => remarks.push(format!(
            "a year earlier ({} to {}): no records in the ledger",
            s.previous.0.start, s.previous.0.end
        )),
        None => {}
    }
    if let Some(b) = &s.basis {
        if let Some(v) = b.per_million_tokens() {
            ws.write_number_with_format(r, 9, v, &f.kg)?;
        }
        if let Some(v) = b.per_thousand_requests() {
            ws.write_number_with_format(r, 10, v, &f.kg)?;
        }
    }
    if !remarks.is_empty() {
        ws.wrapped(r, 11, &remarks.join("; "), 62.0)?;
    }
    Ok(())
}
