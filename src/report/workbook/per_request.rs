//! The Per Request sheet (#22): Wh and gCO2e of one request by provider, model and month,
//! the company's average request, and that average beside the cited published per-query
//! figures (with their year and what they count) in a bar chart below the tables.

use chrono::Datelike;
use rust_xlsxwriter::{Chart, ChartFormat, ChartPoint, ChartSolidFill, ChartType, XlsxError};

use super::writer::{Book, CellText};
use crate::aggregate::per_request::{per_request, RequestFigures};
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};
use crate::validate::PUBLISHED_QUERIES;

/// The sheet's name.
pub const NAME: &str = "Per Request";

/// The header row (0-based).
const HEADER_ROW: u32 = 2;

const COLS: &[Col] = &[
    ("Provider", 12.0),
    ("Model (as exported)", 26.0),
    ("Model key", 22.0),
    ("Month", 9.0),
    ("Requests", 12.0),
    ("Output tokens", 14.0),
    ("Wh per request (low)", 11.0),
    ("Wh per request (central)", 11.0),
    ("Wh per request (high)", 11.0),
    ("gCO2e per request (low)", 11.0),
    ("gCO2e per request (central)", 11.0),
    ("gCO2e per request (high)", 11.0),
    ("Wh per 1,000 output tokens (central)", 13.0),
];

/// Width of H:M in characters: the comparison table below the first uses the same columns,
/// its label across A:B, the year in C, Wh low, high and the value drawn in E, F and G, and
/// what a published figure counts, with its source, across H:M.
fn counts_width() -> f64 {
    COLS[7..].iter().map(|c| c.1).sum()
}

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let pr = per_request(&o.summary);
    let mut ws = book.add_sheet(NAME)?;
    let f = ws.f;
    let last_col = (COLS.len() - 1) as u16;
    ws.text_fmt(
        0,
        0,
        "Per request: energy and emissions of one request, by provider, model and month",
        &f.title,
    )?;
    ws.note(
        1,
        last_col,
        "The AI Services lines that count requests and whose energy is estimated, divided by their requests: facility energy (IT energy × PUE) and emissions with the embodied share, low / central / high as everywhere in this workbook. Per 1,000 output tokens divides the same energy (input tokens included) by the output tokens. These are the report's own figures per request, not a further E1-6 figure.",
        160.0,
    )?;
    let mut r = ws.header(HEADER_ROW, COLS)?;
    for g in &pr.groups {
        ws.row(r, &cells(f, g, false))?;
        r += 1;
    }
    if r > HEADER_ROW + 1 {
        ws.autofilter(HEADER_ROW, 0, r - 1, last_col)?;
    }
    let average = pr.all.as_ref();
    match average {
        Some(all) => {
            ws.row(r, &cells(f, all, true))?;
            ws.text_fmt(r, 0, "All requests", &f.total_label)?;
            for c in 1..4 {
                ws.text_fmt(r, c, "", &f.total_label)?;
            }
        }
        None => {
            ws.text_fmt(
                r,
                0,
                "No line of this report counts requests (cost exports and spend-based lines do not): nothing to divide.",
                &f.label,
            )?;
        }
    }
    r += 1;
    let left = if pr.lines_left_out == 0 {
        "Every AI Services line is in the table.".to_string()
    } else {
        let total = o.summary.totals.emissions_kgco2e.central;
        let share = if total > 0.0 {
            format!(
                ", {:.1} % of the central total",
                100.0 * pr.kgco2e_left_out / total
            )
        } else {
            String::new()
        };
        format!(
            "Left out: {} AI Services line(s) that count no requests or have no estimated energy (spend-based), {:.3} kgCO2e central{share}. The average request is that of the lines above only.",
            pr.lines_left_out, pr.kgco2e_left_out
        )
    };
    ws.note(r, last_col, &left, 160.0)?;
    r += 2;
    // The comparison and its chart start a printed page of their own.
    ws.set_page_breaks(&[r])?;

    // The company's average request beside the published per-query figures.
    ws.text_fmt(
        r,
        0,
        "Beside published per-query figures (each counts different things: read 'What it counts')",
        &f.label,
    )?;
    r += 1;
    ws.merge_text(r, 0, r, 1, "Compared with", &f.header)?;
    ws.headings(r, 2, &["Year"], &[COLS[2].1])?;
    ws.text_fmt(r, 3, "", &f.header)?;
    ws.headings(
        r,
        4,
        &["Wh (low)", "Wh (high)", "Wh in the chart"],
        &[COLS[4].1, COLS[5].1, COLS[6].1],
    )?;
    ws.merge_text(r, 7, r, 12, "What it counts, and the source", &f.header)?;
    r += 1;
    let first = r;
    let compared = |ws: &mut super::writer::Sheet<'_, '_>,
                    r: u32,
                    label: &str,
                    year: i32,
                    wh: (f64, f64, f64),
                    counts: &str,
                    source: &str|
     -> Result<(), XlsxError> {
        let label_width = COLS[0].1 + COLS[1].1;
        ws.merge_text(r, 0, r, 1, label, &f.wrap)?;
        ws.write_number_with_format(r, 2, f64::from(year), &f.year)?;
        ws.write_number_with_format(r, 4, wh.0, &f.kg)?;
        ws.write_number_with_format(r, 5, wh.1, &f.kg)?;
        ws.write_number_with_format(r, 6, wh.2, &f.kg)?;
        let counts = format!("{counts}. Source: {source}");
        ws.merge_text(r, 7, r, 12, &counts, &f.wrap)?;
        let lines = super::writer::wrapped_lines(&counts, counts_width() * 1.15)
            .max(super::writer::wrapped_lines(label, label_width * 1.15));
        ws.set_row_height(r, 15.0 * lines.max(1) as f64)?;
        Ok(())
    };
    if let Some(all) = average {
        let wh = all.wh_per_request();
        compared(
            &mut ws,
            r,
            &format!("This report, {}: average request", o.period.label),
            o.period.end.year(),
            (wh.low, wh.high, wh.central),
            "facility energy (IT × PUE) of the requests this company was billed for, drawn at its central value; not training, networking or users' devices",
            "this workbook, the table above",
        )?;
        r += 1;
    }
    for p in PUBLISHED_QUERIES {
        // A range is drawn at its middle.
        let mid = (p.wh.0 + p.wh.1) / 2.0;
        compared(
            &mut ws,
            r,
            p.reference,
            p.year,
            (p.wh.0, p.wh.1, mid),
            p.boundary,
            p.url,
        )?;
        r += 1;
    }
    let last = r - 1;
    r += 1;
    ws.note(
        r,
        last_col,
        "Published figures are for one query of a consumer chat service (or a typical query in a model), with the boundary each names; a company's API requests carry other prompts and answers (see Output tokens above), so the comparison shows the order of magnitude and how estimates moved since 2023, not a ranking. A range is drawn at its middle.",
        160.0,
    )?;
    r += 2;
    let mut chart = Chart::new(ChartType::Bar);
    chart
        .title()
        .set_name("Wh per request: this report beside published per-query figures");
    // A log scale: the figures span two orders of magnitude (0.05 to 3 Wh).
    chart
        .x_axis()
        .set_name("Wh per request or query (log scale)")
        .set_log_base(10);
    chart.legend().set_hidden();
    // Categories are the merged labels (column A); values the "Wh in the chart" column (G).
    let series = chart
        .add_series()
        .set_name("Wh")
        .set_categories((NAME, first, 0, last, 0))
        .set_values((NAME, first, 6, last, 6));
    if average.is_some() {
        // This report's bar in another colour (it is the first category).
        series.set_points(&[ChartPoint::new().set_format(
            ChartFormat::new().set_solid_fill(ChartSolidFill::new().set_color("#C55A11")),
        )]);
    }
    ws.place_chart(r, 0, &mut chart, 760, 250)?;
    Ok(())
}

/// The cells of one row of the table (`total`: the bold totals row).
fn cells<'a>(f: &'a super::formats::Formats, g: &'a RequestFigures, total: bool) -> Vec<Cell<'a>> {
    let (int, num) = if total {
        (&f.total_int, &f.total_kg)
    } else {
        (&f.int, &f.kg)
    };
    let wh = g.wh_per_request();
    let grams = g.g_per_request();
    let mut cells = vec![
        Cell::Text(&g.provider),
        Cell::Text(&g.model),
        Cell::Text(&g.model_key),
        Cell::Text(&g.month),
        Cell::Number(g.requests as f64, int),
        Cell::Number(g.output_tokens as f64, int),
        Cell::Number(wh.low, num),
        Cell::Number(wh.central, num),
        Cell::Number(wh.high, num),
        Cell::Number(grams.low, num),
        Cell::Number(grams.central, num),
        Cell::Number(grams.high, num),
    ];
    cells.push(match g.wh_per_thousand_output_tokens() {
        Some(b) => Cell::Number(b.central, num),
        None => Cell::Blank,
    });
    cells
}
