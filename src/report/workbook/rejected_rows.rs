//! The Rejected Rows sheet: every rejected row with its file, sheet, row, column, value and reason.

use rust_xlsxwriter::XlsxError;

use super::writer::{Book, CellText};
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Rejected Rows")?;
    let cols: &[Col] = &[
        ("File", 40.0),
        ("Sheet", 12.0),
        ("Row", 7.0),
        ("Column", 24.0),
        ("Value", 24.0),
        ("Reason", 70.0),
    ];
    let mut r = ws.header(0, cols)?;
    for x in &o.rejections {
        ws.row_wrapped(
            r,
            &[
                Cell::Text(&x.file),
                Cell::Text(x.sheet.as_deref().unwrap_or("")),
                Cell::Count(x.row),
                Cell::Text(x.column.as_deref().unwrap_or("")),
                Cell::Text(x.value.as_deref().unwrap_or("")),
                Cell::Text(&x.reason),
            ],
        )?;
        r += 1;
    }
    for file in o.files.iter().filter(|x| x.rejections_not_listed > 0) {
        let note = format!(
            "{} more rejected row(s) of this file not listed: the first {} of each reason are",
            file.rejections_not_listed,
            crate::normalise::REJECTIONS_LISTED_PER_REASON
        );
        ws.row_wrapped(
            r,
            &[
                Cell::Text(&file.file),
                Cell::Text(""),
                Cell::Text(""),
                Cell::Text(""),
                Cell::Text(""),
                Cell::Text(&note),
            ],
        )?;
        r += 1;
    }
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    } else {
        ws.text(1, 0, "No rows were rejected.")?;
    }
    Ok(())
}
