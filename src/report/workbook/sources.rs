//! The Sources sheet: every source of the factor set, and whether this report used it.

use rust_xlsxwriter::XlsxError;

use super::writer::Book;
use crate::factors::FactorSet;
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

pub(super) fn write(book: &mut Book<'_>, o: &Outcome, set: &FactorSet) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Sources")?;
    let cols: &[Col] = &[
        ("Source id", 26.0),
        ("Used in this report", 10.0),
        ("Publisher", 30.0),
        ("Title", 60.0),
        ("Year", 7.0),
        ("URL", 50.0),
        ("Licence", 24.0),
        ("Notes", 50.0),
    ];
    let used: std::collections::BTreeSet<&str> = o
        .summary
        .factors
        .values()
        .flat_map(|u| u.source_id.split(';').map(str::trim))
        .collect();
    let mut r = ws.header(0, cols)?;
    for s in set.sources.values() {
        ws.row_wrapped(
            r,
            &[
                Cell::Text(&s.id),
                Cell::Text(if used.contains(s.id.as_str()) {
                    "yes"
                } else {
                    "no"
                }),
                Cell::Text(&s.publisher),
                Cell::Text(&s.title),
                Cell::Text(&s.year),
                Cell::Text(&s.url),
                Cell::Text(&s.licence),
                Cell::Text(&s.notes),
            ],
        )?;
        r += 1;
    }
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    Ok(())
}
