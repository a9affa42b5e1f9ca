//! The Change Log sheet: the previous statement against this one, and the ledger's changes.

use rust_xlsxwriter::XlsxError;

use super::writer::{Book, CellText};
use crate::pipeline::Outcome;
use crate::report::cell::Cell;

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Change Log")?;
    let f = ws.f;
    ws.set_column_width(0, 22)?;
    ws.set_column_width(1, 18)?;
    ws.set_column_width(2, 10)?;
    ws.set_column_width(3, 10)?;
    ws.set_column_width(4, 100)?;
    let Some(l) = &o.ledger else {
        ws.text_fmt(0, 0, "Change Log", &f.title)?;
        ws.wrapped(2, 4, "no ledger: restatements are not tracked (this report was made from the named files alone; import them into a ledger to track restatements, removed imports and factor-set changes)", 100.0)?;
        ws.text_fmt(2, 0, "Status", &f.label)?;
        return Ok(());
    };
    ws.text_fmt(0, 0, "Change Log", &f.title)?;
    ws.text(1, 0, format!("ledger {}", l.path).as_str())?;
    let mut r = 3;
    ws.text_fmt(r, 0, "Previously vs currently stated", &f.label)?;
    r += 1;
    match &l.previous_statement {
        None => {
            ws.text(
                r,
                0,
                "No final statement of this period yet (report --final records one).",
            )?;
            r += 1;
        }
        Some(s) => {
            for (c, h) in [
                "Period",
                "Stated at",
                "",
                "",
                "Previously stated → currently stated (kgCO2e central), and why",
            ]
            .iter()
            .enumerate()
            {
                if !h.is_empty() {
                    ws.text_fmt(r, c as u16, h, &f.header)?;
                }
            }
            r += 1;
            let now = o.summary.totals.emissions_kgco2e.central;
            let mut causes = vec![];
            if s.factor_sha256 != o.factor_sha256 {
                causes.push(format!(
                    "factor set change ({} → {})",
                    s.factor_version, o.factor_version
                ));
            }
            let added: Vec<String> = l
                .active_imports
                .difference(&s.imports)
                .map(|i| format!("#{i}"))
                .collect();
            let removed: Vec<String> = s
                .imports
                .difference(&l.active_imports)
                .map(|i| format!("#{i}"))
                .collect();
            if !added.is_empty() {
                causes.push(format!("late data (imports {} added)", added.join(", ")));
            }
            if !removed.is_empty() {
                causes.push(format!("removed import(s) {}", removed.join(", ")));
            }
            if causes.is_empty() {
                causes.push("no change in imports or factor set".into());
            }
            ws.text(r, 0, s.period_label.as_str())?;
            ws.text(r, 1, s.stated_at.as_str())?;
            ws.write_number_with_format(r, 2, s.kgco2e[1], &f.kg)?;
            ws.write_number_with_format(r, 3, now, &f.kg)?;
            ws.wrapped(
                r,
                4,
                &format!(
                    "{:.3} → {:.3} kgCO2e: {}",
                    s.kgco2e[1],
                    now,
                    causes.join("; ")
                ),
                100.0,
            )?;
            r += 1;
        }
    }
    r += 1;
    ws.text_fmt(r, 0, "Ledger changes", &f.label)?;
    r += 1;
    for (c, h) in ["When", "Kind", "Import", "Month", "What changed"]
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
        ws.row(
            r,
            &[
                Cell::Text(&c.at),
                Cell::Text(&c.kind),
                match c.import_id {
                    Some(i) => Cell::Owned(format!("#{i}")),
                    None => Cell::Blank,
                },
                Cell::Text(c.month.as_deref().unwrap_or("")),
                Cell::Text(&c.detail),
            ],
        )?;
        r += 1;
    }
    if r > head + 1 {
        ws.autofilter(head, 0, r - 1, 4)?;
    }
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    Ok(())
}
