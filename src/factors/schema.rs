//! The factor-set schema (`schema.toml`, embedded) and the one engine that applies it: the files
//! a set holds, each file's columns and cell types, the columns that identify a row, and the
//! rules rows obey within a file and across files.
//!
//! The loader ([`crate::factors::FactorSet::from_files`]) and `factors check`
//! ([`crate::factors::check::check`]) both call [`check_files`], so a set loads exactly when
//! `check` finds no problem; the builder (`tools/build_factor_set.py`) reads the same
//! `schema.toml` for its headers and row order and checks what it wrote with the same rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

/// The schema's text, as embedded.
pub const SCHEMA_TOML: &str = include_str!("schema.toml");

/// The whole schema.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// Earliest and latest plausible data or publication year.
    pub years: [i64; 2],
    /// Files a set may hold besides its CSV files (documentation).
    pub extra_files: Vec<String>,
    /// The CSV files, in the order the builder writes them.
    #[serde(rename = "file")]
    pub files: Vec<FileSchema>,
}

/// One CSV file of a set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSchema {
    /// File name (`grid.csv`).
    pub name: String,
    /// A set without it does not load.
    pub required: bool,
    /// The columns that identify a row.
    pub key: Vec<String>,
    /// Keys compared in lower case.
    #[serde(default)]
    pub fold_key: bool,
    /// The columns, in the builder's order.
    pub columns: Vec<Column>,
    /// Rules on rows.
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

/// One column.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// Header name.
    pub name: String,
    /// What a cell holds.
    #[serde(rename = "type")]
    pub kind: ColumnType,
    /// The cell may be empty.
    #[serde(default)]
    pub may_be_empty: bool,
    /// The header may leave the column out (read as empty).
    #[serde(default)]
    pub may_be_absent: bool,
}

/// What a cell holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// Any text.
    Text,
    /// A finite decimal number.
    Number,
    /// A whole number.
    Integer,
    /// A year within [`Schema::years`].
    Year,
    /// `YYYY-MM-DD`, its year within [`Schema::years`].
    Date,
}

/// A rule on the rows of a file (see the head of `schema.toml`).
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// `column` is one of `values`.
    OneOf {
        /// The column.
        column: String,
        /// The values allowed.
        values: Vec<String>,
        /// The problem's text.
        message: String,
    },
    /// Each value of `column` is a value of the column `to` (`file:column`).
    Refers {
        /// The column.
        column: String,
        /// `file:column` referred to.
        to: String,
        /// Separator of several values in one cell.
        #[serde(default)]
        split: Option<String>,
        /// Compared in lower case.
        #[serde(default)]
        fold_case: bool,
        /// The problem's text.
        message: String,
    },
    /// `column` >= `min`, > `above`, <= `max`.
    Range {
        /// The column.
        column: String,
        /// Inclusive lower bound.
        #[serde(default)]
        min: Option<f64>,
        /// Exclusive lower bound.
        #[serde(default)]
        above: Option<f64>,
        /// Inclusive upper bound.
        #[serde(default)]
        max: Option<f64>,
        /// The problem's text.
        message: String,
    },
    /// The columns never decrease; the first is >= `min` or > `above`.
    Ordered {
        /// The columns, left to right.
        columns: Vec<String>,
        /// Inclusive lower bound of the first.
        #[serde(default)]
        min: Option<f64>,
        /// Exclusive lower bound of the first.
        #[serde(default)]
        above: Option<f64>,
        /// The problem's text.
        message: String,
    },
    /// `column` lies between the two `bounds` columns, in either order.
    Between {
        /// The column.
        column: String,
        /// The two bounds.
        bounds: [String; 2],
        /// The problem's text.
        message: String,
    },
    /// When `when_column` is `when_value`, `columns` are not empty.
    RequiredIf {
        /// The column tested.
        when_column: String,
        /// Its value that requires the others.
        when_value: String,
        /// The columns required.
        columns: Vec<String>,
        /// The problem's text.
        message: String,
    },
    /// The file has a row whose `column` is each of `values`.
    HasRow {
        /// The column.
        column: String,
        /// The values needed.
        values: Vec<String>,
        /// The problem's text (`{value}`: the missing value).
        message: String,
    },
}

/// The embedded schema.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // The schema is part of the program, never user input; the unit test
        // `the_schema_parses_and_is_consistent` proves it parses.
        toml::from_str(SCHEMA_TOML).unwrap_or_else(|e| panic!("src/factors/schema.toml: {e}"))
    })
}

impl Schema {
    /// The schema of one file.
    pub fn file(&self, name: &str) -> Option<&FileSchema> {
        self.files.iter().find(|f| f.name == name)
    }

    /// The files every set has.
    pub fn required_files(&self) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name.as_str())
            .collect()
    }

    /// The files a set may leave out (optional CSV files, then documentation).
    pub fn optional_files(&self) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| !f.required)
            .map(|f| f.name.as_str())
            .chain(self.extra_files.iter().map(String::as_str))
            .collect()
    }

    fn year_ok(&self, y: i64) -> bool {
        (self.years[0]..=self.years[1]).contains(&y)
    }
}

/// The columns that identify a row of a set file (`grid.csv`: geo_id and year); empty for a
/// file the schema does not define.
pub fn key_columns(file: &str) -> Vec<&'static str> {
    schema()
        .file(file)
        .map(|f| f.key.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

/// One thing wrong with a factor set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// The file (relative path in the set).
    pub file: String,
    /// 1-based row as an editor shows it (header = 1), when the problem is on a row.
    pub row: Option<usize>,
    /// What is wrong, in plain words.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(file: &str, row: Option<usize>, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_string(),
            row,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.row {
            Some(r) => write!(f, "{} row {}: {}", self.file, r, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A CSV file as text cells (trimmed, as the loader reads them).
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub(crate) header: csv::StringRecord,
    /// (1-based row, cells), rows whose cell count matches the header.
    pub(crate) rows: Vec<(usize, csv::StringRecord)>,
}

impl Table {
    /// The table and the rows that could not be read (row, why).
    pub(crate) fn parse(text: &str) -> Result<(Table, Vec<(usize, String)>), String> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text.as_bytes());
        let header = rdr
            .headers()
            .map_err(|e| format!("cannot read the header: {e}"))?
            .clone();
        let mut table = Table {
            header,
            rows: vec![],
        };
        let mut bad = vec![];
        for (i, rec) in rdr.records().enumerate() {
            let row = i + 2;
            match rec {
                Ok(r) if r.len() == table.header.len() => table.rows.push((row, r)),
                Ok(r) => bad.push((
                    row,
                    format!(
                        "{} fields where the header has {}",
                        r.len(),
                        table.header.len()
                    ),
                )),
                Err(e) => bad.push((row, format!("unreadable CSV: {e}"))),
            }
        }
        Ok((table, bad))
    }

    pub(crate) fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The cell of `name` in `cells` ("" when the column is absent).
    pub(crate) fn get<'a>(&self, cells: &'a csv::StringRecord, name: &str) -> &'a str {
        self.col(name).and_then(|i| cells.get(i)).unwrap_or("")
    }

    fn num(&self, cells: &csv::StringRecord, name: &str) -> Option<f64> {
        parse_number(self.get(cells, name))
    }

    /// The row's id: its key columns (the first column when `key` is empty) joined by a space.
    pub(crate) fn key(&self, cells: &csv::StringRecord, key: &[&str]) -> String {
        let cols: Vec<&str> = if key.is_empty() {
            self.header.get(0).into_iter().collect()
        } else {
            key.to_vec()
        };
        cols.iter()
            .map(|c| self.get(cells, c))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn parse_number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The problems of a set and its CSV files as parsed (by file name).
pub(crate) struct Checked {
    pub(crate) problems: Vec<Problem>,
    pub(crate) tables: BTreeMap<&'static str, Table>,
}

/// Every problem of a factor set given as (relative path, content) pairs, sorted, and the
/// files the schema defines as parsed.
pub(crate) fn check_files(files: &[(String, String)]) -> Checked {
    let s = schema();
    let mut out = vec![];
    let mut seen = BTreeSet::new();
    for (name, _) in files {
        if !seen.insert(name.as_str()) {
            out.push(Problem::new(name, None, "listed twice"));
        }
        if s.file(name).is_none() && !s.extra_files.iter().any(|e| e == name) {
            out.push(Problem::new(
                name,
                None,
                format!(
                    "unknown file (a set holds {} and optionally {})",
                    s.required_files().join(", "),
                    s.optional_files().join(", ")
                ),
            ));
        }
    }
    let mut tables: BTreeMap<&'static str, Table> = BTreeMap::new();
    for f in &s.files {
        let Some((_, text)) = files.iter().find(|(p, _)| *p == f.name) else {
            if f.required {
                out.push(Problem::new(&f.name, None, "missing from the set"));
            }
            continue;
        };
        if text.starts_with('\u{feff}') {
            out.push(Problem::new(
                &f.name,
                Some(1),
                "starts with a byte-order mark: save it as UTF-8 without BOM",
            ));
        }
        match Table::parse(text) {
            Ok((table, bad)) => {
                for (row, why) in bad {
                    out.push(Problem::new(&f.name, Some(row), why));
                }
                check_cells(s, f, &table, &mut out);
                tables.insert(f.name.as_str(), table);
            }
            Err(why) => out.push(Problem::new(&f.name, Some(1), why)),
        }
    }
    for f in &s.files {
        if let Some(t) = tables.get(f.name.as_str()) {
            check_rows(f, t, &tables, &mut out);
        }
    }
    out.sort();
    out.dedup();
    Checked {
        problems: out,
        tables,
    }
}

/// Header and cell types of one file.
fn check_cells(s: &Schema, f: &FileSchema, t: &Table, out: &mut Vec<Problem>) {
    let mut seen = BTreeSet::new();
    for h in &t.header {
        if !seen.insert(h) {
            out.push(Problem::new(
                &f.name,
                Some(1),
                format!("column '{h}' appears twice"),
            ));
        }
        if !f.columns.iter().any(|c| c.name == h) {
            out.push(Problem::new(
                &f.name,
                Some(1),
                format!("unknown column '{h}'"),
            ));
        }
    }
    let implausible = |v: &str| {
        format!(
            "year '{v}' is not plausible ({}–{})",
            s.years[0], s.years[1]
        )
    };
    for c in &f.columns {
        if t.col(&c.name).is_none() {
            if !c.may_be_absent {
                out.push(Problem::new(
                    &f.name,
                    Some(1),
                    format!("column '{}' missing", c.name),
                ));
            }
            continue;
        }
        for (row, cells) in &t.rows {
            let v = t.get(cells, &c.name);
            let bad = if v.is_empty() {
                (!c.may_be_empty).then(|| "is empty".to_string())
            } else {
                match c.kind {
                    ColumnType::Text => None,
                    ColumnType::Number => parse_number(v)
                        .is_none()
                        .then(|| format!("'{v}' is not a number")),
                    ColumnType::Integer => v
                        .parse::<i64>()
                        .is_err()
                        .then(|| format!("'{v}' is not a whole number")),
                    ColumnType::Year => v
                        .parse::<i64>()
                        .ok()
                        .filter(|y| s.year_ok(*y))
                        .is_none()
                        .then(|| implausible(v)),
                    ColumnType::Date => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                        .ok()
                        .filter(|d| s.year_ok(i64::from(chrono::Datelike::year(d))))
                        .is_none()
                        .then(|| format!("'{v}' is not a plausible date YYYY-MM-DD")),
                }
            };
            if let Some(why) = bad {
                out.push(Problem::new(
                    &f.name,
                    Some(*row),
                    format!("{}: {why}", c.name),
                ));
            }
        }
    }
}

/// `message` with {value}, {column}, {values} and {NAME} (the row's cells) filled in.
fn fill(
    message: &str,
    t: &Table,
    cells: Option<&csv::StringRecord>,
    column: &str,
    value: &str,
    values: &str,
) -> String {
    let mut m = message
        .replace("{value}", value)
        .replace("{column}", column)
        .replace("{values}", values);
    if let Some(cells) = cells {
        for h in &t.header {
            m = m.replace(&format!("{{{h}}}"), t.get(cells, h));
        }
    }
    m
}

/// Unique keys and the file's rules.
fn check_rows(
    f: &FileSchema,
    t: &Table,
    tables: &BTreeMap<&'static str, Table>,
    out: &mut Vec<Problem>,
) {
    let file = f.name.as_str();
    // Unique ids.
    let key: Vec<&str> = f.key.iter().map(String::as_str).collect();
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    for (row, cells) in &t.rows {
        let mut k = t.key(cells, &key);
        if f.fold_key {
            k = k.to_lowercase();
        }
        if k.trim().is_empty() {
            continue;
        }
        if let Some(earlier) = first.get(&k) {
            out.push(Problem::new(
                file,
                Some(*row),
                format!("duplicate {} '{k}' (also row {earlier})", key.join(" and ")),
            ));
        } else {
            first.insert(k, *row);
        }
    }

    for rule in &f.rules {
        match rule {
            Rule::OneOf {
                column,
                values,
                message,
            } => {
                for (row, c) in &t.rows {
                    let v = t.get(c, column);
                    if !v.is_empty() && !values.iter().any(|x| x == v) {
                        let m = fill(message, t, Some(c), column, v, "");
                        out.push(Problem::new(file, Some(*row), m));
                    }
                }
            }
            Rule::Refers {
                column,
                to,
                split,
                fold_case,
                message,
            } => {
                let Some((to_file, to_col)) = to.split_once(':') else {
                    continue;
                };
                let Some(target) = tables.get(to_file) else {
                    continue;
                };
                let fold = |v: &str| {
                    if *fold_case {
                        v.to_lowercase()
                    } else {
                        v.to_string()
                    }
                };
                let known: BTreeSet<String> = target
                    .rows
                    .iter()
                    .map(|(_, c)| fold(target.get(c, to_col)))
                    .collect();
                for (row, c) in &t.rows {
                    let cell = t.get(c, column);
                    if cell.is_empty() {
                        continue;
                    }
                    let parts: Vec<&str> = match split {
                        Some(sep) => cell.split(sep.as_str()).map(str::trim).collect(),
                        None => vec![cell],
                    };
                    for v in parts {
                        if !known.contains(&fold(v)) {
                            let m = fill(message, t, Some(c), column, v, "");
                            out.push(Problem::new(file, Some(*row), m));
                        }
                    }
                }
            }
            Rule::Range {
                column,
                min,
                above,
                max,
                message,
            } => {
                for (row, c) in &t.rows {
                    let Some(v) = t.num(c, column) else {
                        continue;
                    };
                    if min.is_some_and(|m| v < m)
                        || above.is_some_and(|a| v <= a)
                        || max.is_some_and(|m| v > m)
                    {
                        let m = fill(message, t, Some(c), column, t.get(c, column), "");
                        out.push(Problem::new(file, Some(*row), m));
                    }
                }
            }
            Rule::Ordered {
                columns,
                min,
                above,
                message,
            } => {
                for (row, c) in &t.rows {
                    let nums: Option<Vec<f64>> = columns.iter().map(|n| t.num(c, n)).collect();
                    let Some(nums) = nums else {
                        continue;
                    };
                    let first = nums.first().copied().unwrap_or(0.0);
                    if nums.windows(2).any(|w| w[0] > w[1])
                        || min.is_some_and(|m| first < m)
                        || above.is_some_and(|a| first <= a)
                    {
                        let values = columns
                            .iter()
                            .map(|n| format!("{n} {}", t.get(c, n)))
                            .collect::<Vec<_>>()
                            .join(", ");
                        let m = fill(message, t, Some(c), "", "", &values);
                        out.push(Problem::new(file, Some(*row), m));
                    }
                }
            }
            Rule::Between {
                column,
                bounds,
                message,
            } => {
                for (row, c) in &t.rows {
                    let (Some(v), Some(a), Some(b)) =
                        (t.num(c, column), t.num(c, &bounds[0]), t.num(c, &bounds[1]))
                    else {
                        continue;
                    };
                    if v < a.min(b) || v > a.max(b) {
                        let m = fill(message, t, Some(c), column, t.get(c, column), "");
                        out.push(Problem::new(file, Some(*row), m));
                    }
                }
            }
            Rule::RequiredIf {
                when_column,
                when_value,
                columns,
                message,
            } => {
                for (row, c) in &t.rows {
                    if t.get(c, when_column) == when_value
                        && columns.iter().any(|n| t.get(c, n).is_empty())
                    {
                        let m = fill(message, t, Some(c), when_column, when_value, "");
                        out.push(Problem::new(file, Some(*row), m));
                    }
                }
            }
            Rule::HasRow {
                column,
                values,
                message,
            } => {
                for v in values {
                    if !t.rows.iter().any(|(_, c)| t.get(c, column) == v) {
                        let m = fill(message, t, None, column, v, "");
                        out.push(Problem::new(file, None, m));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name a rule or key uses is a column of its file, every `refers` target exists,
    /// every placeholder of a message is known: a typo in schema.toml fails here, not on a
    /// user's set.
    #[test]
    fn the_schema_parses_and_is_consistent() {
        let s: Schema = toml::from_str(SCHEMA_TOML).unwrap();
        assert!(s.years[0] < s.years[1]);
        let names: BTreeSet<&str> = s.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names.len(), s.files.len(), "a file defined twice");
        for f in &s.files {
            let cols: Vec<&str> = f.columns.iter().map(|c| c.name.as_str()).collect();
            let has = |c: &str| assert!(cols.contains(&c), "{}: no column {c}", f.name);
            let cols_set: BTreeSet<&str> = cols.iter().copied().collect();
            assert_eq!(cols_set.len(), cols.len(), "{}: a column twice", f.name);
            assert!(!f.key.is_empty(), "{}: no key", f.name);
            f.key.iter().for_each(|k| has(k));
            for r in &f.rules {
                let (used, message): (Vec<&str>, &str) = match r {
                    Rule::OneOf {
                        column, message, ..
                    }
                    | Rule::Range {
                        column, message, ..
                    }
                    | Rule::HasRow {
                        column, message, ..
                    } => (vec![column], message),
                    Rule::Refers {
                        column,
                        to,
                        message,
                        ..
                    } => {
                        let (tf, tc) = to.split_once(':').unwrap();
                        let target = s.file(tf).unwrap_or_else(|| panic!("no file {tf}"));
                        assert!(target.columns.iter().any(|c| c.name == tc), "{to}");
                        (vec![column], message)
                    }
                    Rule::Ordered {
                        columns, message, ..
                    } => (columns.iter().map(String::as_str).collect(), message),
                    Rule::Between {
                        column,
                        bounds,
                        message,
                    } => (vec![column, &bounds[0], &bounds[1]], message),
                    Rule::RequiredIf {
                        when_column,
                        columns,
                        message,
                        ..
                    } => {
                        let mut v = vec![when_column.as_str()];
                        v.extend(columns.iter().map(String::as_str));
                        (v, message)
                    }
                };
                used.iter().for_each(|c| has(c));
                let mut rest: &str = message;
                while let Some(i) = rest.find('{') {
                    let j = rest[i..].find('}').map(|j| i + j).unwrap();
                    let name = &rest[i + 1..j];
                    assert!(
                        ["value", "column", "values"].contains(&name) || cols.contains(&name),
                        "{}: unknown placeholder {{{name}}} in {message:?}",
                        f.name
                    );
                    rest = &rest[j + 1..];
                }
            }
        }
    }

    #[test]
    fn an_unknown_rule_kind_or_key_is_refused() {
        let base = "years = [2000, 2100]\nextra_files = []\n[[file]]\nname = \"a.csv\"\n\
                    required = true\nkey = [\"id\"]\ncolumns = [{ name = \"id\", type = \"text\" }]\n";
        assert!(toml::from_str::<Schema>(base).is_ok());
        let rule = "[[file.rule]]\nkind = \"unique_forever\"\ncolumn = \"id\"\nmessage = \"x\"\n";
        assert!(toml::from_str::<Schema>(&format!("{base}{rule}")).is_err());
        let rule = "[[file.rule]]\nkind = \"one_of\"\ncolumn = \"id\"\nvalues = []\n\
                    message = \"x\"\nseverity = \"warning\"\n";
        assert!(toml::from_str::<Schema>(&format!("{base}{rule}")).is_err());
        let col = base.replace("type = \"text\"", "type = \"colour\"");
        assert!(toml::from_str::<Schema>(&col).is_err());
    }
}
