//! The Coverage sheet: days with usage data per provider and month, and every warning.

use rust_xlsxwriter::XlsxError;

use super::writer::{Book, CellText};
use crate::pipeline::Outcome;

/// Coverage: days with usage data per provider and month of the period, and every warning.
pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Coverage")?;
    let f = ws.f;
    let months = o.period.months();
    ws.set_column_width(0, 24)?;
    for c in 0..months.len() {
        ws.set_column_width(1 + c as u16, 9)?;
    }
    ws.set_column_width(1 + months.len() as u16, 60)?;
    ws.text_fmt(
        0,
        0,
        format!(
            "Coverage of {}: days with usage data per provider and month",
            o.period
        )
        .as_str(),
        &f.title,
    )?;
    let mut r = 2;
    ws.text_fmt(r, 0, "Provider", &f.header)?;
    for (c, m) in months.iter().enumerate() {
        ws.text_fmt(r, 1 + c as u16, m.as_str(), &f.header)?;
    }
    ws.text_fmt(r, 1 + months.len() as u16, "Months without data", &f.header)?;
    let header_row = r;
    r += 1;
    let matrix = crate::pipeline::warnings::coverage_matrix(o);
    let mut providers: Vec<&str> = matrix.iter().map(|c| c.0).collect();
    providers.dedup();
    for p in &providers {
        ws.text(r, 0, p)?;
        let mut gaps = vec![];
        for (c, (_, m, days)) in matrix.iter().filter(|x| x.0 == *p).enumerate() {
            if *days == 0 {
                gaps.push(m.clone());
                ws.text_fmt(r, 1 + c as u16, "no data", &f.gap)?;
            } else {
                ws.write_number_with_format(r, 1 + c as u16, *days as f64, &f.int)?;
            }
        }
        if !gaps.is_empty() {
            ws.text_fmt(
                r,
                1 + months.len() as u16,
                gaps.join(", ").as_str(),
                &f.warn,
            )?;
        }
        r += 1;
    }
    if !providers.is_empty() {
        ws.autofilter(header_row, 0, r - 1, 1 + months.len() as u16)?;
    }
    if providers.is_empty() {
        ws.text_fmt(r, 0, "No usage data in the period", &f.gap)?;
        r += 1;
    }
    r += 1;
    let range = match crate::pipeline::warnings::data_range(o) {
        Some((a, b)) => {
            format!("The files hold data dated {a} to {b} (valid rows, in or out of the period).")
        }
        None => "No file holds a usable dated row.".into(),
    };
    ws.text(r, 0, range.as_str())?;
    r += 2;
    ws.text_fmt(
        r,
        0,
        format!("Warnings ({})", o.warnings.len()).as_str(),
        &f.label,
    )?;
    r += 1;
    let last_col = 1 + months.len() as u16;
    if o.warnings.is_empty() {
        ws.text(r, 0, "None.")?;
    } else {
        ws.text_fmt(r, 0, "Kind", &f.header)?;
        ws.merge_text(r, 1, r, last_col, "Warning", &f.header)?;
        r += 1;
    }
    for w in &o.warnings {
        ws.text_fmt(r, 0, w.code.as_str(), &f.label_top)?;
        ws.merge_text(r, 1, r, last_col, &w.message, &f.warn)?;
        let width: f64 = 9.0 * months.len() as f64 + 60.0;
        let lines = w
            .message
            .chars()
            .count()
            .div_ceil((width * 1.1) as usize)
            .max(1);
        ws.set_row_height(r, 15.0 * lines as f64)?;
        r += 1;
    }
    ws.set_freeze_panes(header_row + 1, 1)?;
    ws.page_setup(header_row)?;
    Ok(())
}
