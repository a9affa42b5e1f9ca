//! The cell of a table row, shared by every writer of the report: the workbook's sheets
//! (`workbook/`), the rows it streams as XML (`workbook/streamed_rows.rs`) and the CSV tables
//! (`csv.rs`).

use rust_xlsxwriter::Format;

/// A cell of a table row.
pub(crate) enum Cell<'a> {
    /// Text borrowed from the outcome.
    Text(&'a str),
    /// Text made for the row.
    Owned(String),
    /// A count (tokens, rows, requests), written with thousands separators.
    Count(u64),
    /// A number with its display format.
    Number(f64, &'a Format),
    /// Nothing.
    Blank,
}

/// A live formula of a cell: column, formula text (with its leading `=`), cached value, format.
pub(crate) type CellFormula<'f> = (u16, String, f64, &'f Format);

/// One column: header and width.
pub(crate) type Col = (&'static str, f64);
