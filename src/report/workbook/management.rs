//! The E1-6 Summary's "Management metrics" block: the period's intensity ratios
//! ([`crate::report::intensity`]), labelled as management metrics, apart from the disclosure
//! lines above it.

use rust_xlsxwriter::XlsxError;

use super::writer::{CellText, Sheet};
use crate::pipeline::Outcome;
use crate::report::intensity::{metrics, CAVEAT};

/// The Summary's columns the block uses: the label (A), the basis in words (B to F merged),
/// the value (G, the "N (this period)" column) and the unit (I).
const BASIS_FIRST: u16 = 1;
const BASIS_LAST: u16 = 5;
const VALUE: u16 = 6;
const UNIT: u16 = 8;
/// Width of the merged basis cells in characters (B to F of the Summary).
const BASIS_WIDTH: f64 = 142.0;

/// Writes the block from row `r`; returns the row after it.
pub(super) fn write(ws: &mut Sheet<'_, '_>, o: &Outcome, mut r: u32) -> Result<u32, XlsxError> {
    let f = ws.f;
    ws.text_fmt(r, 0, "Management metrics", &f.title)?;
    r += 1;
    ws.note(r, UNIT, CAVEAT, 180.0)?;
    r += 1;
    let list = metrics(o);
    if list.is_empty() {
        ws.text_fmt(
            r,
            0,
            "None: the period has no tokens, requests or spend to divide by",
            &f.wrap,
        )?;
        return Ok(r + 1);
    }
    for m in &list {
        ws.text_fmt(r, 0, m.label.as_str(), &f.wrap)?;
        ws.merge_text(r, BASIS_FIRST, r, BASIS_LAST, &m.basis, &f.wrap)?;
        let lines = m
            .basis
            .chars()
            .count()
            .div_ceil((BASIS_WIDTH * 1.15) as usize)
            .max(m.label.chars().count().div_ceil(36))
            .max(1);
        ws.set_row_height(r, 15.0 * lines as f64)?;
        ws.write_number_with_format(r, VALUE, m.value, &f.kg)?;
        ws.text(r, UNIT, "kgCO2e")?;
        r += 1;
    }
    Ok(r)
}
