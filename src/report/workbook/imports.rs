//! The Imports sheet: row and money accounting per file, excluded usage, entries not read, the
//! money reconciliation and the rows skipped although they name an AI service.

use chrono::Datelike;
use rust_xlsxwriter::XlsxError;

use super::line_cells::{reporting_cell, spend_text};
use super::writer::{Book, CellText, Sheet};
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Imports")?;
    let f = ws.f;
    let mut cols: Vec<Col> = vec![
        ("File", 40.0),
        ("SHA-256", 20.0),
        ("Format", 16.0),
        ("Template", 16.0),
        ("Read as", 22.0),
        ("Header (sheet, row)", 18.0),
        ("Rows read", 9.0),
        ("Accepted", 9.0),
        ("Rejected", 9.0),
        ("Duplicate", 9.0),
        ("Outside period", 9.0),
        ("Excluded", 9.0),
        ("Skipped", 9.0),
        ("Skipped by reason", 30.0),
        ("Balanced (read = sum)", 10.0),
        ("Input tokens read", 15.0),
        ("Input tokens accepted", 15.0),
        ("Output tokens read", 15.0),
        ("Output tokens accepted", 15.0),
        ("Requests read", 12.0),
        ("Requests accepted", 12.0),
        ("Spend read", 16.0),
        ("Spend accepted", 16.0),
        ("First date", 11.0),
        ("Last date", 11.0),
        ("Spend adjustments (money only)", 22.0),
        ("Unit decisions", 40.0),
        ("Notes", 60.0),
    ];
    // The accepted spend in the reporting currency, beside the amounts as exported.
    const ACCEPTED_REPORTING: usize = 23;
    let reporting = o.reporting.as_ref();
    if reporting.is_some() {
        cols.insert(
            ACCEPTED_REPORTING,
            ("Spend accepted (reporting currency)", 22.0),
        );
    }
    let mut r = ws.header(0, &cols)?;
    ws.wide_paper();
    if let Some(rs) = reporting {
        ws.text_fmt(
            0,
            ACCEPTED_REPORTING as u16,
            &format!("Spend accepted in {}", rs.currency),
            &f.header,
        )?;
    }
    let spend = spend_text;
    for (i, file) in o.files.iter().enumerate() {
        let c = &file.counts;
        let headers = file
            .sheets
            .iter()
            .map(|s| match &s.sheet {
                Some(n) => format!("{n}!{}", s.header_row),
                None => format!("row {}", s.header_row),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let skipped_by = file
            .skipped_by
            .iter()
            .map(|(k, v)| format!("{}: {v}", k.label()))
            .collect::<Vec<_>>()
            .join("; ");
        let mut cells = vec![
            Cell::Text(&file.file),
            Cell::Text(&file.sha256),
            Cell::Text(&file.format),
            Cell::Text(&file.template),
            Cell::Text(&file.dialect),
            Cell::Owned(headers),
            Cell::Count(c.read),
            Cell::Count(c.accepted),
            Cell::Count(c.rejected),
            Cell::Count(c.duplicate),
            Cell::Count(c.outside_period),
            Cell::Count(c.excluded),
            Cell::Count(c.skipped),
            Cell::Owned(skipped_by),
            Cell::Text(if c.balanced() { "yes" } else { "NO" }),
            Cell::Count(file.read_totals.input_tokens),
            Cell::Count(file.accepted_totals.input_tokens),
            Cell::Count(file.read_totals.output_tokens),
            Cell::Count(file.accepted_totals.output_tokens),
            requests(&file.read_totals),
            requests(&file.accepted_totals),
            Cell::Owned(spend(&file.read_totals.spend)),
            Cell::Owned(spend(&file.accepted_totals.spend)),
            Cell::Owned(file.first_date.map(|d| d.to_string()).unwrap_or_default()),
            Cell::Owned(file.last_date.map(|d| d.to_string()).unwrap_or_default()),
            Cell::Owned(if file.adjustment_rows > 0 {
                format!(
                    "{} row(s): {}",
                    file.adjustment_rows,
                    spend_text(&file.adjustments)
                )
            } else {
                String::new()
            }),
            Cell::Owned(
                file.unit_decisions
                    .iter()
                    .map(|(d, n)| format!("{d}: {n} row(s)"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Cell::Owned(file.notes.join("; ")),
        ];
        if let Some(rs) = reporting {
            let cell = match rs.files.get(i).copied().flatten() {
                Some(v) => reporting_cell(f, Some(v)),
                None if o.period.start.year() != o.period.end.year() => {
                    Cell::Text("period spans two years: see the AI Services lines")
                }
                None => reporting_cell(f, None),
            };
            cells.insert(ACCEPTED_REPORTING, cell);
        }
        ws.row_wrapped(r, &cells)?;
        r += 1;
    }
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    if !o.excluded.is_empty() {
        r += 1;
        ws.text_fmt(
            r,
            0,
            "Usage excluded by the configuration (not in the totals):",
            &f.label,
        )?;
        r += 1;
        for (c, h) in [
            "Reason",
            "Provider",
            "Model",
            "Cost centre",
            "Rows",
            "Input tokens",
            "Output tokens",
            "Spend",
        ]
        .iter()
        .enumerate()
        {
            ws.text_fmt(r, c as u16, h, &f.label)?;
        }
        r += 1;
        for e in &o.excluded {
            ws.row(
                r,
                &[
                    Cell::Text(&e.reason),
                    Cell::Text(&e.provider),
                    Cell::Text(&e.model),
                    Cell::Text(e.cost_centre.as_deref().unwrap_or("")),
                    Cell::Count(e.rows),
                    Cell::Count(e.input_tokens),
                    Cell::Count(e.output_tokens),
                    Cell::Owned(spend_text(&e.spend)),
                ],
            )?;
            r += 1;
        }
    }
    if !o.skipped_inputs.is_empty() {
        r += 1;
        ws.text_fmt(
            r,
            0,
            "Not read in the named folders (not in the totals):",
            &f.label,
        )?;
        r += 1;
        ws.write_string_with_format(r, 0, "Path", &f.label)?;
        ws.write_string_with_format(r, 1, "Why not read", &f.label)?;
        r += 1;
        for s in &o.skipped_inputs {
            ws.row(
                r,
                &[
                    Cell::Owned(s.path.display().to_string()),
                    Cell::Text(&s.reason),
                ],
            )?;
            r += 1;
        }
    }
    r = money_reconciliation(&mut ws, o, r + 1)?;
    r = ai_skipped(&mut ws, o, r)?;
    r += 1;
    ws.text_fmt(r, 0, "Row accounting per file: read = accepted + rejected + duplicate + outside period + excluded + skipped. Control totals: read counts every valid data row (in or out of the period), accepted only the rows used. Money: the amounts of every row (vendor total rows left out) = accepted + adjustments + rejected + duplicate + outside period + excluded + skipped, per currency. Coverage by month: see the Coverage sheet.", &f.wrap)?;
    Ok(())
}

/// The money of each file by what became of its rows, per currency; returns the next row.
fn money_reconciliation(ws: &mut Sheet<'_, '_>, o: &Outcome, mut r: u32) -> Result<u32, XlsxError> {
    let f = ws.f;
    if o.files.iter().all(|x| x.money.is_empty()) {
        return Ok(r);
    }
    let reasons = [
        crate::model::SkipReason::OtherService,
        crate::model::SkipReason::EmptyBucket,
        crate::model::SkipReason::Blank,
        crate::model::SkipReason::RepeatedHeader,
    ];
    let heads = [
        "File",
        "Currency",
        "Rows with an amount",
        "Total of the rows",
        "Accepted (usage)",
        "Adjustments",
        "Rejected",
        "Duplicate",
        "Outside period",
        "Excluded",
        "Skipped: other service",
        "Skipped: empty bucket",
        "Skipped: blank",
        "Skipped: repeated header",
        "Difference",
        "Reconciled",
    ];
    let title = "Money reconciliation: the amount of every row by what became of it";
    r = ws.section(r, title, &heads, 45.0)?;
    for file in &o.files {
        for (cur, b) in &file.money {
            let mut cells = vec![
                Cell::Text(&file.file),
                Cell::Text(cur),
                Cell::Count(b.rows),
                Cell::Number(b.total, &f.money),
                Cell::Number(b.accepted, &f.money),
                Cell::Number(b.adjustments, &f.money),
                Cell::Number(b.rejected, &f.money),
                Cell::Number(b.duplicate, &f.money),
                Cell::Number(b.outside_period, &f.money),
                Cell::Number(b.excluded, &f.money),
            ];
            for why in reasons {
                cells.push(Cell::Number(
                    b.skipped.get(&why).copied().unwrap_or(0.0),
                    &f.money,
                ));
            }
            cells.push(Cell::Number(b.total - b.accounted(), &f.money));
            cells.push(Cell::Text(if b.balanced() { "yes" } else { "NO" }));
            ws.row(r, &cells)?;
            r += 1;
        }
        if file.money_unreadable_rows > 0 {
            let text = format!(
                "{}: {} row(s) have a cost that is not an amount: they are rejected and their money is not in the total above.",
                file.file, file.money_unreadable_rows
            );
            ws.text_fmt(r, 0, text.as_str(), &f.warn)?;
            r += 1;
        }
    }
    Ok(r)
}

/// Rows skipped as another service whose text names an AI service; returns the next row.
fn ai_skipped(ws: &mut Sheet<'_, '_>, o: &Outcome, mut r: u32) -> Result<u32, XlsxError> {
    if o.files.iter().all(|x| x.ai_skipped.is_empty()) {
        return Ok(r);
    }
    let title = "WARNING: rows skipped as another service although their text names an AI service or model (not in the figure)";
    let heads = [
        "File",
        "Text of the row",
        "AI name found",
        "Rows",
        "First row",
        "Spend",
    ];
    r = ws.section(r, title, &heads, 30.0)?;
    for file in &o.files {
        for g in &file.ai_skipped {
            ws.row(
                r,
                &[
                    Cell::Text(&file.file),
                    Cell::Text(&g.text),
                    Cell::Text(&g.matched),
                    Cell::Count(g.rows),
                    Cell::Count(g.first_row),
                    Cell::Owned(spend_text(&g.spend)),
                ],
            )?;
            r += 1;
        }
    }
    Ok(r)
}

/// A file's request count: empty when none of its rows gave one (it does not read as "no
/// requests"); a count above 0 is shown whatever an older ledger recorded.
fn requests<'a>(q: &crate::normalise::Quantities) -> Cell<'a> {
    if q.requests_reported || q.requests > 0 {
        Cell::Count(q.requests)
    } else {
        Cell::Blank
    }
}
