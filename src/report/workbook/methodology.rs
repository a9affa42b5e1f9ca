//! The Methodology sheet: the text blocks of `report::methodology`.

use rust_xlsxwriter::XlsxError;

use super::writer::{Book, CellText};
use crate::factors::FactorSet;
use crate::pipeline::Outcome;

pub(super) fn write(book: &mut Book<'_>, o: &Outcome, set: &FactorSet) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Methodology")?;
    let f = ws.f;
    ws.set_column_width(0, 100)?;
    ws.text_fmt(0, 0, "Methodology", &f.title)?;
    let mut r = 2;
    for (heading, paragraphs) in crate::report::methodology::blocks(o, set) {
        ws.text_fmt(r, 0, heading.as_str(), &f.label)?;
        r += 1;
        for p in paragraphs {
            ws.wrapped(r, 0, &p, 100.0)?;
            r += 1;
        }
        r += 1;
    }
    ws.print_layout();
    Ok(())
}
