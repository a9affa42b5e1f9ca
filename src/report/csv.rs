//! `--format csv`: the workbook's tables as CSV files in a folder, for BI tools. Same columns
//! and values as the sheets; text from inputs that a spreadsheet would run as a formula
//! (starting with = + - @, tab or CR) gets a leading apostrophe.

use std::path::Path;

use super::cell::Cell;
use super::workbook::formats::Formats;
use super::workbook::line_cells::{
    key_cells, qty_cells, result_cells, supplier_cells, KEY_COLS, QTY_COLS, RESULT_COLS,
    SUPPLIER_COLS,
};
use crate::error::{Error, Result};
use crate::pipeline::Outcome;

/// Neutralises text a spreadsheet would evaluate (CSV injection).
pub fn guard(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

fn cell(v: &Cell<'_>) -> String {
    match v {
        Cell::Text(s) => guard(s),
        Cell::Owned(s) => guard(s),
        Cell::Count(n) => n.to_string(),
        Cell::Number(x, _) => format!("{x}"),
        Cell::Blank => String::new(),
    }
}

type Table = (Vec<String>, Vec<Vec<String>>);

fn table(cols: &[&str], rows: Vec<Vec<Cell<'_>>>) -> Table {
    (
        cols.iter().map(|c| c.to_string()).collect(),
        rows.iter().map(|r| r.iter().map(cell).collect()).collect(),
    )
}

/// The tables, by file name.
pub fn tables(o: &Outcome) -> Vec<(&'static str, Table)> {
    let f = Formats::new();
    let line_cols: Vec<&str> = KEY_COLS
        .iter()
        .chain(QTY_COLS)
        .chain(RESULT_COLS)
        .map(|c| c.0)
        .chain(["Flags", "Factor ids"])
        .collect();
    let ai = o
        .summary
        .lines
        .iter()
        .map(|l| {
            let mut c = key_cells(&l.key, &l.body);
            c.extend(qty_cells(&l.body));
            c.extend(result_cells(&f, &l.body));
            c.push(Cell::Owned(l.body.flags.join("; ")));
            c.push(Cell::Owned(l.body.factor_ids.join(", ")));
            c.extend(supplier_cells(&f, &l.body));
            c
        })
        .collect();
    let ai_cols: Vec<&str> = line_cols
        .iter()
        .copied()
        .chain(SUPPLIER_COLS.iter().map(|c| c.0))
        .collect();
    let mut calc_cols = vec!["Source file", "Sheet", "First row", "Last row", "Rows"];
    calc_cols.extend(line_cols.iter().copied());
    let calc = o
        .summary
        .calc_lines
        .iter()
        .map(|l| {
            let mut c = vec![
                Cell::Text(&l.source.file),
                Cell::Text(l.source.sheet.as_deref().unwrap_or("")),
                Cell::Count(l.source.rows[0]),
                Cell::Count(l.source.rows[1]),
                Cell::Count(l.source.count),
            ];
            c.extend(key_cells(&l.key, &l.body));
            c.extend(qty_cells(&l.body));
            c.extend(result_cells(&f, &l.body));
            c.push(Cell::Owned(l.body.flags.join("; ")));
            c.push(Cell::Owned(l.body.factor_ids.join(", ")));
            c
        })
        .collect();
    let factors = o
        .summary
        .factors
        .values()
        .map(|u| {
            vec![
                Cell::Text(&u.id),
                Cell::Text(&u.kind),
                Cell::Number(u.value.low, &f.kg),
                Cell::Number(u.value.central, &f.kg),
                Cell::Number(u.value.high, &f.kg),
                Cell::Text(&u.unit),
                u.year.map(|y| Cell::Count(y as u64)).unwrap_or(Cell::Blank),
                Cell::Text(&u.subject),
                Cell::Text(&u.basis),
                Cell::Text(&u.source_id),
            ]
        })
        .collect();
    let imports = o
        .files
        .iter()
        .map(|x| {
            let c = &x.counts;
            vec![
                Cell::Text(&x.file),
                Cell::Text(&x.sha256),
                Cell::Text(&x.format),
                Cell::Count(c.read),
                Cell::Count(c.accepted),
                Cell::Count(c.rejected),
                Cell::Count(c.duplicate),
                Cell::Count(c.outside_period),
                Cell::Count(c.excluded),
                Cell::Count(c.skipped),
            ]
        })
        .collect();
    let rejected = o
        .rejections
        .iter()
        .map(|r| {
            vec![
                Cell::Text(&r.file),
                Cell::Text(r.sheet.as_deref().unwrap_or("")),
                Cell::Count(r.row),
                Cell::Text(r.column.as_deref().unwrap_or("")),
                Cell::Text(r.value.as_deref().unwrap_or("")),
                Cell::Text(&r.reason),
            ]
        })
        .collect();
    let warnings: Vec<Vec<Cell<'_>>> = o
        .warnings
        .iter()
        .map(|w| vec![Cell::Text(w.code.as_str()), Cell::Text(&w.message)])
        .collect();
    vec![
        ("warnings.csv", table(&["Code", "Warning"], warnings)),
        ("ai_services.csv", table(&ai_cols, ai)),
        ("calculation_lines.csv", table(&calc_cols, calc)),
        (
            "factors.csv",
            table(
                &[
                    "Factor id",
                    "Kind",
                    "Low",
                    "Central",
                    "High",
                    "Unit",
                    "Year",
                    "Applies to",
                    "Basis / derivation",
                    "Source id(s)",
                ],
                factors,
            ),
        ),
        (
            "imports.csv",
            table(
                &[
                    "File",
                    "SHA-256",
                    "Format",
                    "Rows read",
                    "Accepted",
                    "Rejected",
                    "Duplicate",
                    "Outside period",
                    "Excluded",
                    "Skipped",
                ],
                imports,
            ),
        ),
        (
            "rejected_rows.csv",
            table(
                &["File", "Sheet", "Row", "Column", "Value", "Reason"],
                rejected,
            ),
        ),
    ]
}

/// Writes the tables into `dir` (created; an existing folder's files of the same names are
/// replaced only after every table was written to a temporary folder beside it).
pub fn write(o: &Outcome, dir: &Path) -> Result<()> {
    let out_err = |reason: String| Error::Output {
        path: dir.display().to_string(),
        reason,
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    super::remove_stale_temps(parent);
    let prefix = super::temp_prefix("csv-");
    let tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .tempdir_in(parent)
        .map_err(|e| out_err(e.to_string()))?;
    for (name, (header, rows)) in tables(o) {
        let mut w =
            csv::Writer::from_path(tmp.path().join(name)).map_err(|e| out_err(e.to_string()))?;
        w.write_record(&header)
            .map_err(|e| out_err(e.to_string()))?;
        for r in rows {
            w.write_record(&r).map_err(|e| out_err(e.to_string()))?;
        }
        w.flush().map_err(|e| out_err(e.to_string()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| out_err(e.to_string()))?;
    for entry in std::fs::read_dir(tmp.path())
        .map_err(|e| out_err(e.to_string()))?
        .flatten()
    {
        std::fs::rename(entry.path(), dir.join(entry.file_name()))
            .map_err(|e| out_err(e.to_string()))?;
    }
    Ok(())
}
