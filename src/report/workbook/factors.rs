//! The Factors sheet: every factor the report used, with its low, central and high values.

use rust_xlsxwriter::{Format, XlsxError};

use super::writer::{Book, CellText};
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Factors")?;
    let f = ws.f;
    let cols: &[Col] = &[
        ("Factor id", 34.0),
        ("Kind", 30.0),
        ("Low", 11.0),
        ("Central", 11.0),
        ("High", 11.0),
        ("Unit", 22.0),
        ("Year", 7.0),
        ("Applies to", 30.0),
        ("Basis / derivation", 60.0),
        ("Source id(s)", 40.0),
    ];
    let mut r = ws.header(0, cols)?;
    let num = Format::new().set_num_format("0.000000");
    for u in o.summary.factors.values() {
        ws.row_wrapped(
            r,
            &[
                Cell::Text(&u.id),
                Cell::Text(&u.kind),
                Cell::Number(u.value.low, &num),
                Cell::Number(u.value.central, &num),
                Cell::Number(u.value.high, &num),
                Cell::Text(&u.unit),
                match u.year {
                    Some(y) => Cell::Number(f64::from(y), &f.year),
                    None => Cell::Blank,
                },
                Cell::Text(&u.subject),
                Cell::Text(&u.basis),
                Cell::Text(&u.source_id),
            ],
        )?;
        r += 1;
    }
    if r > 1 {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    r += 1;
    ws.text_fmt(r, 0, "Factors are never edited in place: a changed value gets a new factor-set version. For u_out / u_in the low result uses the higher utilisation.", &f.wrap)?;
    Ok(())
}
