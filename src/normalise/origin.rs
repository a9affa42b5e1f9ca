//! Files that are a warehouse query's result (`llm-scope3 sql`, docs/warehouse.md). Every query
//! writes two marker columns beside the template's: `llm_scope3_query`, the command that printed
//! the query and its file's SHA-256 (the same text on every row), and `llm_scope3_rows`, how
//! many billing rows a result row sums. They are found in a header whatever the template, and
//! what they say (which query, how many billing rows) goes to the file's report, the Imports
//! sheet and the JSON. A marker names the file's origin, nothing more: rows are read as the
//! template reads them. The queries themselves are `crate::warehouse`'s.

use serde::{Deserialize, Serialize};

use crate::ingest::{CellRef, RowCells};

/// The column naming the query (its text is the same on every row).
pub const QUERY_COLUMN: &str = "llm_scope3_query";

/// The column counting the billing rows each result row sums.
pub const ROWS_COLUMN: &str = "llm_scope3_rows";

/// The marker columns of a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginColumns {
    /// `llm_scope3_query`.
    pub query: usize,
    /// `llm_scope3_rows`, when the header has it.
    pub rows: Option<usize>,
    /// The columns the query grouped on that the template's keys leave out (the header's
    /// columns but the markers and those the mapping reads as dates, quantities or money):
    /// part of a result row's ledger key, since two result rows of one day may differ in them
    /// only (a unit price, a product map).
    pub grouped: Vec<usize>,
}

/// The marker columns among a header's keys (`template::header_key`), if it has the query's;
/// `grouped` is left for [`grouped_columns`].
pub fn bind(keys: &[String]) -> Option<OriginColumns> {
    let find = |name: &str| keys.iter().position(|k| k == name);
    Some(OriginColumns {
        query: find(QUERY_COLUMN)?,
        rows: find(ROWS_COLUMN),
        grouped: vec![],
    })
}

/// The columns of a result's header that are neither markers nor `read` (the columns the
/// mapping reads as dates, quantities, money, keys or meter text).
pub fn grouped_columns(cols: &OriginColumns, width: usize, read: &[usize]) -> Vec<usize> {
    (0..width)
        .filter(|i| *i != cols.query && Some(*i) != cols.rows && !read.contains(i))
        .collect()
}

/// What one result row's marker cells say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowOrigin {
    /// The query's text, when it is not the one the file's report already holds.
    pub query: Option<String>,
    /// The billing rows the row sums (1 when the count is missing or unreadable).
    pub billing_rows: u64,
}

/// Reads a row's marker cells; `None` for a row without a query text (a blank row).
pub fn read_row(
    cols: &OriginColumns,
    cells: &dyn RowCells,
    known: Option<&WarehouseOrigin>,
) -> Option<RowOrigin> {
    let text = match cells.cell(cols.query) {
        CellRef::Text(t) if !t.trim().is_empty() => t.trim(),
        _ => return None,
    };
    let billing_rows = cols
        .rows
        .and_then(|i| match cells.cell(i) {
            CellRef::Number(n) if n >= 0.0 && n.fract() == 0.0 && n < 9.0e15 => Some(n as u64),
            CellRef::Text(t) => t.trim().parse::<u64>().ok(),
            _ => None,
        })
        .unwrap_or(1);
    Some(RowOrigin {
        query: (known.map(|k| k.query.as_str()) != Some(text)).then(|| text.to_string()),
        billing_rows,
    })
}

/// Where a file came from when it is a warehouse query's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarehouseOrigin {
    /// The query, as its `llm_scope3_query` column names it (the first row's).
    pub query: String,
    /// Data rows carrying the marker (the result's rows).
    pub result_rows: u64,
    /// The billing rows they sum (`llm_scope3_rows` added up).
    pub billing_rows: u64,
    /// Rows naming another query than the first row's (results of several queries in one
    /// file).
    pub other_query_rows: u64,
}

impl WarehouseOrigin {
    /// Adds a row.
    pub fn add(origin: &mut Option<WarehouseOrigin>, row: RowOrigin) {
        let o = origin.get_or_insert_with(WarehouseOrigin::default);
        match row.query {
            Some(q) if o.result_rows == 0 => o.query = q,
            Some(q) if q != o.query => o.other_query_rows += 1,
            _ => {}
        }
        o.result_rows += 1;
        o.billing_rows = o.billing_rows.saturating_add(row.billing_rows);
    }

    /// The file's note: what it is and where it came from.
    pub fn note(&self) -> String {
        let mut n = format!(
            "warehouse query result: {} row(s) summing {} billing row(s), from `{}`",
            self.result_rows, self.billing_rows, self.query
        );
        if self.other_query_rows > 0 {
            n.push_str(&format!(
                "; {} row(s) name another query: the file joins the results of several queries",
                self.other_query_rows
            ));
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn markers_are_found_counted_and_named() {
        let keys = row(&["cost", "llm_scope3_rows", "llm_scope3_query"]);
        let cols = bind(&keys).unwrap();
        assert_eq!(
            cols,
            OriginColumns {
                query: 2,
                rows: Some(1),
                grouped: vec![]
            }
        );
        assert_eq!(grouped_columns(&cols, 3, &[0]), Vec::<usize>::new());
        assert_eq!(grouped_columns(&cols, 5, &[0]), vec![3, 4]);
        assert_eq!(bind(&row(&["cost", "llm_scope3_rows"])), None);
        let mut origin = None;
        // 24 hourly rows summed into the first result row, 7 into the second; the third has
        // an unreadable count (1); a blank row is no result row.
        for cells in [
            row(&["1.5", "24", "llm-scope3 sql x (query a)"]),
            row(&["2.5", "7", "llm-scope3 sql x (query a)"]),
            row(&["0.5", "n/a", "llm-scope3 sql x (query a)"]),
            row(&["", "", ""]),
            row(&["1", "2", "llm-scope3 sql y (query b)"]),
        ] {
            if let Some(r) = read_row(&cols, &cells, origin.as_ref()) {
                WarehouseOrigin::add(&mut origin, r);
            }
        }
        let o = origin.unwrap();
        assert_eq!(o.query, "llm-scope3 sql x (query a)");
        assert_eq!((o.result_rows, o.billing_rows), (4, 24 + 7 + 1 + 2));
        assert_eq!(o.other_query_rows, 1);
        assert!(o.note().starts_with(
            "warehouse query result: 4 row(s) summing 34 billing row(s), from `llm-scope3 sql x (query a)`"
        ));
        assert!(o.note().contains("1 row(s) name another query"));
    }
}
