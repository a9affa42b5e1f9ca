//! `--format csv`: the workbook's tables as CSV files in a folder, for BI tools. Same columns
//! and values as the sheets; text from inputs that a spreadsheet would run as a formula
//! (starting with = + - @, tab or CR) gets a leading apostrophe.

use std::path::Path;

use super::workbook::{
    key_cells, qty_cells, result_cells, supplier_cells, Formats, KEY_COLS, QTY_COLS, RESULT_COLS,
    SUPPLIER_COLS, V,
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

fn cell(v: &V<'_>) -> String {
    match v {
        V::S(s) => guard(s),
        V::O(s) => guard(s),
        V::I(n) => n.to_string(),
        V::N(x, _) => format!("{x}"),
        V::Blank => String::new(),
    }
}

type Table = (Vec<String>, Vec<Vec<String>>);

fn table(cols: &[&str], rows: Vec<Vec<V<'_>>>) -> Table {
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
            c.push(V::O(l.body.flags.join("; ")));
            c.push(V::O(l.body.factor_ids.join(", ")));
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
                V::S(&l.source.file),
                V::S(l.source.sheet.as_deref().unwrap_or("")),
                V::I(l.source.rows[0]),
                V::I(l.source.rows[1]),
                V::I(l.source.count),
            ];
            c.extend(key_cells(&l.key, &l.body));
            c.extend(qty_cells(&l.body));
            c.extend(result_cells(&f, &l.body));
            c.push(V::O(l.body.flags.join("; ")));
            c.push(V::O(l.body.factor_ids.join(", ")));
            c
        })
        .collect();
    let factors = o
        .summary
        .factors
        .values()
        .map(|u| {
            vec![
                V::S(&u.id),
                V::S(&u.kind),
                V::N(u.value.low, &f.kg),
                V::N(u.value.central, &f.kg),
                V::N(u.value.high, &f.kg),
                V::S(&u.unit),
                u.year.map(|y| V::I(y as u64)).unwrap_or(V::Blank),
                V::S(&u.subject),
                V::S(&u.basis),
                V::S(&u.source_id),
            ]
        })
        .collect();
    let imports = o
        .files
        .iter()
        .map(|x| {
            let c = &x.counts;
            vec![
                V::S(&x.file),
                V::S(&x.sha256),
                V::S(&x.format),
                V::I(c.read),
                V::I(c.accepted),
                V::I(c.rejected),
                V::I(c.duplicate),
                V::I(c.outside_period),
                V::I(c.excluded),
                V::I(c.skipped),
            ]
        })
        .collect();
    let rejected = o
        .rejections
        .iter()
        .map(|r| {
            vec![
                V::S(&r.file),
                V::S(r.sheet.as_deref().unwrap_or("")),
                V::I(r.row),
                V::S(r.column.as_deref().unwrap_or("")),
                V::S(r.value.as_deref().unwrap_or("")),
                V::S(&r.reason),
            ]
        })
        .collect();
    let warnings: Vec<Vec<V<'_>>> = o
        .warnings
        .iter()
        .map(|w| vec![V::S(w.code.as_str()), V::S(&w.message)])
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
