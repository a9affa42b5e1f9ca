//! The Change Log sheet: the period's final statements (the last one against this report, the
//! one this workbook records), and the ledger's changes.

use rust_xlsxwriter::XlsxError;

use super::writer::{Book, CellText};
use crate::pipeline::{finality, Outcome};

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Change Log")?;
    let f = ws.f;
    ws.set_column_width(0, 22)?;
    ws.set_column_width(1, 18)?;
    ws.set_column_width(2, 18)?;
    ws.set_column_width(3, 18)?;
    ws.set_column_width(4, 100)?;
    ws.print_layout();
    let Some(l) = &o.ledger else {
        ws.text_fmt(0, 0, "Change Log", &f.title)?;
        ws.wrapped(2, 4, "no ledger: restatements are not tracked (this report was made from the named files alone; import them into a ledger to track restatements, removed imports and factor-set changes)", 100.0)?;
        ws.text_fmt(2, 0, "Status", &f.label)?;
        return Ok(());
    };
    ws.text_fmt(0, 0, "Change Log", &f.title)?;
    ws.text(1, 0, format!("ledger {}", l.path).as_str())?;
    let mut r = 3;
    ws.text_fmt(r, 0, "Final statements: stated vs this report", &f.label)?;
    r += 1;
    let comparison = finality::compare(o);
    let recording = finality::recording(o);
    if comparison.is_none() && recording.is_none() {
        ws.text(
            r,
            0,
            "No final statement of this period yet (report --final records one).",
        )?;
        r += 1;
    } else {
        for (c, h) in [
            "Period",
            "Stated at (UTC)",
            "Stated kgCO2e (central)",
            "This report kgCO2e (central)",
            "Statement: difference and why",
        ]
        .iter()
        .enumerate()
        {
            ws.text_fmt(r, c as u16, h, &f.header)?;
        }
        ws.set_row_height(r, 30.0)?;
        r += 1;
        let now = o.summary.totals.emissions_kgco2e.central;
        if let Some(c) = &comparison {
            let s = c.statement;
            ws.text(r, 0, s.period_label.as_str())?;
            ws.text(r, 1, s.stated_at.as_str())?;
            ws.write_number_with_format(r, 2, s.kgco2e[1], &f.kg)?;
            ws.write_number_with_format(r, 3, now, &f.kg)?;
            let what = if c.matches {
                format!(
                    "Final statement #{}: {:.3} kgCO2e; this report matches it ({})",
                    s.id,
                    s.kgco2e[1],
                    c.reasons.join("; ")
                )
            } else {
                format!(
                    "Final statement #{}: {:.3} → {:.3} kgCO2e, {}: {}",
                    s.id,
                    s.kgco2e[1],
                    now,
                    c.difference_text(),
                    c.reasons.join("; ")
                )
            };
            ws.wrapped(r, 4, &what, 100.0)?;
            r += 1;
        }
        if let Some(s) = recording {
            ws.text(r, 0, s.period_label.as_str())?;
            ws.text(r, 1, s.stated_at.as_str())?;
            ws.write_number_with_format(r, 2, s.kgco2e[1], &f.kg)?;
            ws.write_number_with_format(r, 3, now, &f.kg)?;
            let mut what = format!(
                "Final statement #{}: recorded by this workbook (report --final)",
                s.id
            );
            if let Some(reason) = &s.accepted_gaps {
                what.push_str(&format!("; gaps accepted: \"{reason}\""));
            }
            ws.wrapped(r, 4, &what, 100.0)?;
            r += 1;
        }
    }
    r += 1;
    ws.text_fmt(r, 0, "Ledger changes", &f.label)?;
    r += 1;
    for (c, h) in ["When (UTC)", "Kind", "Import", "Month", "What changed"]
        .iter()
        .enumerate()
    {
        ws.text_fmt(r, c as u16, h, &f.header)?;
    }
    let head = r;
    r += 1;
    if l.changes.is_empty() {
        ws.text(r, 4, "none: no restatement, removed or replaced import")?;
    }
    for c in &l.changes {
        // Top-aligned, beside the first line of the wrapped detail.
        let import = c.import_id.map(|i| format!("#{i}")).unwrap_or_default();
        for (col, v) in [
            c.at.as_str(),
            c.kind.as_str(),
            import.as_str(),
            c.month.as_deref().unwrap_or(""),
        ]
        .into_iter()
        .enumerate()
        {
            if !v.is_empty() {
                ws.text_fmt(r, col as u16, v, &f.top)?;
            }
        }
        // Wrapped: a restatement names the whole record key.
        ws.wrapped(r, 4, &c.detail, 100.0)?;
        r += 1;
    }
    if r > head + 1 {
        ws.autofilter(head, 0, r - 1, 4)?;
    }
    r += 1;
    audit_log(&mut ws, l, r + 1)?;
    ws.set_freeze_panes(head + 1, 0)?;
    ws.page_setup(head)?;
    Ok(())
}

/// The audit log below the ledger's changes: who imported, removed, stated final, signed in
/// (or failed to) and changed users, when, how and from where.
fn audit_log(
    ws: &mut super::writer::Sheet<'_, '_>,
    l: &crate::pipeline::LedgerView,
    mut r: u32,
) -> Result<(), XlsxError> {
    let f = ws.f;
    ws.text_fmt(r, 0, "Audit log: who did what", &f.label)?;
    r += 1;
    let note = if l.audit_cut {
        format!(
            "The last {} entries of the ledger's audit log (`llm-scope3 audit list` shows every one).",
            l.audit.len()
        )
    } else {
        "Every entry of the ledger's audit log: imports, removals, final statements, sign-ins (and failed ones) and changes of users.".to_string()
    };
    ws.text(r, 0, note.as_str())?;
    r += 1;
    for (c, h) in ["When (UTC)", "Who", "How", "Action", "What"]
        .iter()
        .enumerate()
    {
        ws.text_fmt(r, c as u16, h, &f.header)?;
    }
    r += 1;
    if l.audit.is_empty() {
        ws.text(r, 4, "none yet")?;
    }
    for e in &l.audit {
        let how = match &e.client {
            Some(c) => format!("{} ({c})", e.via),
            None => e.via.clone(),
        };
        // Top-aligned, beside the first line of the wrapped detail.
        for (c, v) in [
            e.at.as_str(),
            e.who.as_str(),
            how.as_str(),
            e.action.as_str(),
        ]
        .into_iter()
        .enumerate()
        {
            ws.text_fmt(r, c as u16, v, &f.top)?;
        }
        ws.wrapped(r, 4, &e.detail, 100.0)?;
        r += 1;
    }
    Ok(())
}
