//! The Periods sheet: tCO2e by month and provider, quarter subtotals and a stacked column chart.

use std::collections::BTreeMap;

use rust_xlsxwriter::{Chart, ChartType, XlsxError};

use super::writer::{Book, CellText};
use crate::pipeline::Outcome;

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Periods")?;
    let f = ws.f;
    let months = o.period.months();
    let mut providers: Vec<String> = o
        .summary
        .lines
        .iter()
        .map(|l| l.key.provider.to_string())
        .collect();
    providers.sort();
    providers.dedup();
    let mut by: BTreeMap<(String, String), f64> = BTreeMap::new();
    for l in &o.summary.lines {
        *by.entry((l.key.month.clone(), l.key.provider.to_string()))
            .or_insert(0.0) += l.body.estimate.emissions_kgco2e.central / 1000.0;
    }
    ws.text_fmt(0, 0, "tCO2e (central) by month and provider", &f.title)?;
    let mut headers: Vec<String> = vec!["Month".into()];
    headers.extend(providers.iter().map(|p| format!("{p} tCO2e")));
    headers.push("Total tCO2e".into());
    for (c, h) in headers.iter().enumerate() {
        ws.text_fmt(2, c as u16, h.as_str(), &f.header)?;
        ws.set_column_width(c as u16, if c == 0 { 18.0 } else { 16.0 })?;
    }
    ws.set_freeze_panes(3, 0)?;
    ws.page_setup(2)?;
    let first_data = 3u32;
    let mut r = first_data;
    let mut quarter_sum: Vec<f64> = vec![0.0; providers.len() + 1];
    let mut grand: Vec<f64> = vec![0.0; providers.len() + 1];
    for (i, m) in months.iter().enumerate() {
        ws.text(r, 0, m.as_str())?;
        let mut row_total = 0.0;
        for (c, p) in providers.iter().enumerate() {
            let v = by.get(&(m.clone(), p.clone())).copied().unwrap_or(0.0);
            ws.write_number_with_format(r, 1 + c as u16, v, &f.t)?;
            row_total += v;
            quarter_sum[c] += v;
            grand[c] += v;
        }
        ws.write_number_with_format(r, 1 + providers.len() as u16, row_total, &f.t)?;
        quarter_sum[providers.len()] += row_total;
        grand[providers.len()] += row_total;
        r += 1;
        let month_no: u32 = m.get(5..7).and_then(|x| x.parse().ok()).unwrap_or(0);
        // Months since the fiscal year started (1-12); quarters close at 3, 6, 9, 12.
        let fiscal = (month_no + 12 - o.fiscal_year_start_month) % 12 + 1;
        let last = i + 1 == months.len();
        if fiscal % 3 == 0 || last {
            let q = fiscal.div_ceil(3);
            let year: i32 = m.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
            let fy = if month_no < o.fiscal_year_start_month {
                year - 1
            } else {
                year
            };
            let label = if o.fiscal_year_start_month == 1 {
                format!("{fy} Q{q} subtotal")
            } else {
                format!("FY{fy} Q{q} subtotal")
            };
            ws.text_fmt(r, 0, label.as_str(), &f.total_label)?;
            for (c, v) in quarter_sum.iter().enumerate() {
                ws.write_number_with_format(r, 1 + c as u16, *v, &f.total_t)?;
            }
            quarter_sum.iter_mut().for_each(|v| *v = 0.0);
            r += 1;
        }
    }
    ws.autofilter(2, 0, r - 1, (providers.len() + 1) as u16)?;
    ws.text_fmt(r, 0, "Period total", &f.total_label)?;
    for (c, v) in grand.iter().enumerate() {
        ws.write_number_with_format(r, 1 + c as u16, *v, &f.total_t)?;
    }
    // Stacked columns by provider per month. Month rows are interleaved with subtotals, so
    // the chart reads a compact copy of the month rows written to the right.
    if !providers.is_empty() && !months.is_empty() {
        let base_col = (providers.len() + 3) as u16;
        ws.text_fmt(2, base_col, "Chart data: month", &f.header)?;
        ws.set_column_width(base_col, 16.0)?;
        for (c, p) in providers.iter().enumerate() {
            ws.text_fmt(2, base_col + 1 + c as u16, p.as_str(), &f.header)?;
            ws.set_column_width(base_col + 1 + c as u16, 14.0)?;
        }
        for (i, m) in months.iter().enumerate() {
            let rr = first_data + i as u32;
            ws.text(rr, base_col, m.as_str())?;
            for (c, p) in providers.iter().enumerate() {
                let v = by.get(&(m.clone(), p.clone())).copied().unwrap_or(0.0);
                ws.write_number_with_format(rr, base_col + 1 + c as u16, v, &f.t)?;
            }
        }
        let last = first_data + months.len() as u32 - 1;
        let mut chart = Chart::new(ChartType::ColumnStacked);
        chart
            .title()
            .set_name("tCO2e by provider and month (central)");
        chart.y_axis().set_name("tCO2e");
        for (c, p) in providers.iter().enumerate() {
            let col = base_col + 1 + c as u16;
            chart
                .add_series()
                .set_name(p.as_str())
                .set_categories(("Periods", first_data, base_col, last, base_col))
                .set_values(("Periods", first_data, col, last, col));
        }
        ws.place_chart(r + 2, 0, &mut chart, 640, 360)?;
    }
    Ok(())
}
