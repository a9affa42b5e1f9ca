//! Checks on factor sets for the auditor: every problem of a set's files (`factors check`),
//! what changed between two sets (`factors diff`), and the tool's figures beside the published
//! ones (`factors validate`, METHODOLOGY.md §6).
//!
//! [`check`] and [`diff`] are pure functions over (relative path, content) pairs, so they work
//! on sets that do not load; [`validation`] is pure over a loaded [`FactorSet`]. Reading a
//! folder ([`raw_set`]) is the only I/O here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use crate::factors::{embedded_versions, set_sha256, FactorError, FactorSet, FILES};

/// Files a set may hold besides [`FILES`] (documentation, part of the SHA-256).
pub const EXTRA_FILES: &[&str] = &["README.md"];

/// Constants the method needs (a set without one does not load).
pub const REQUIRED_CONSTANTS: &[&str] = &[
    "k_cache",
    "embodied",
    "u_out",
    "u_in",
    "request_input_tokens",
    "request_output_tokens",
    "request_bounds",
];

/// Earliest and latest plausible data or publication year.
pub const YEARS: std::ops::RangeInclusive<i64> = 2000..=2100;

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
    fn new(file: &str, row: Option<usize>, message: impl Into<String>) -> Problem {
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

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// Any text, empty allowed.
    Text,
    /// Text that must not be empty.
    Required,
    /// A finite number.
    Number,
    /// Empty, or a finite number.
    OptNumber,
    /// An integer.
    Integer,
    /// A year within [`YEARS`].
    Year,
    /// Empty, or a year within [`YEARS`].
    OptYear,
    /// A date `YYYY-MM-DD` whose year is within [`YEARS`].
    Date,
}

/// One column of a file: name, content, and whether the header may leave it out (the loader
/// gives it a default).
type Column = (&'static str, Cell, bool);

/// The layout of one file of a set: its columns and the columns that identify a row.
struct Schema {
    file: &'static str,
    key: &'static [&'static str],
    columns: &'static [Column],
}

const PARAMS: [Column; 4] = [
    ("total_params_b_min", Cell::Number, false),
    ("total_params_b_max", Cell::Number, false),
    ("active_params_b_min", Cell::Number, false),
    ("active_params_b_max", Cell::Number, false),
];

static SCHEMAS: &[Schema] = &[
    Schema {
        file: "sources.csv",
        key: &["id"],
        columns: &[
            ("id", Cell::Required, false),
            ("publisher", Cell::Required, false),
            ("title", Cell::Required, false),
            ("year", Cell::OptYear, true),
            ("url", Cell::Text, true),
            ("licence", Cell::Text, true),
            ("notes", Cell::Text, true),
        ],
    },
    Schema {
        file: "models.csv",
        key: &["model_key"],
        columns: &[
            ("model_key", Cell::Required, false),
            ("provider", Cell::Required, false),
            ("kind", Cell::Required, false),
            ("architecture", Cell::Required, false),
            PARAMS[0],
            PARAMS[1],
            PARAMS[2],
            PARAMS[3],
            ("source_id", Cell::Text, false),
            ("notes", Cell::Text, true),
        ],
    },
    Schema {
        file: "aliases.csv",
        key: &["alias"],
        columns: &[
            ("alias", Cell::Required, false),
            ("model_key", Cell::Required, false),
            ("source_id", Cell::Text, false),
            ("notes", Cell::Text, true),
        ],
    },
    Schema {
        file: "classes.csv",
        key: &["class"],
        columns: &[
            ("class", Cell::Required, false),
            ("match", Cell::Text, true),
            ("kind", Cell::Required, false),
            ("architecture", Cell::Required, false),
            PARAMS[0],
            PARAMS[1],
            PARAMS[2],
            PARAMS[3],
            ("priority", Cell::Integer, false),
            ("source_id", Cell::Text, false),
            ("notes", Cell::Text, true),
        ],
    },
    Schema {
        file: "grid.csv",
        key: &["geo_id", "year"],
        columns: &[
            ("geo_id", Cell::Required, false),
            ("scope", Cell::Required, false),
            ("cloud", Cell::Text, true),
            ("region", Cell::Text, true),
            ("name", Cell::Text, true),
            ("country_iso3", Cell::Text, true),
            ("parent", Cell::Text, true),
            ("year", Cell::Year, false),
            ("central", Cell::Number, false),
            ("low", Cell::Number, false),
            ("high", Cell::Number, false),
            ("basis", Cell::Text, true),
            ("offsite_water_l_per_kwh", Cell::OptNumber, true),
            ("pue", Cell::OptNumber, true),
            ("wue", Cell::OptNumber, true),
            ("cfe_share", Cell::OptNumber, true),
            ("source_id", Cell::Text, false),
            ("notes", Cell::Text, true),
        ],
    },
    Schema {
        file: "providers.csv",
        key: &["provider"],
        columns: &[
            ("provider", Cell::Required, false),
            ("operator", Cell::Required, false),
            ("pue_low", Cell::Number, false),
            ("pue_central", Cell::Number, false),
            ("pue_high", Cell::Number, false),
            ("wue_low", Cell::Number, false),
            ("wue_central", Cell::Number, false),
            ("wue_high", Cell::Number, false),
            ("default_geo", Cell::Required, false),
            ("source_id", Cell::Text, false),
            ("notes", Cell::Text, true),
        ],
    },
    // Spend-only tables (METHODOLOGY §4); optional, a set without them estimates no spend.
    Schema {
        file: "prices.csv",
        key: &["model_key"],
        columns: &[
            ("model_key", Cell::Required, false),
            ("provider", Cell::Required, false),
            ("currency", Cell::Required, false),
            ("input_per_mtok", Cell::Number, false),
            ("cached_input_per_mtok", Cell::OptNumber, false),
            ("output_per_mtok", Cell::OptNumber, false),
            ("valid_from", Cell::Date, false),
            ("source_id", Cell::Text, false),
            ("notes", Cell::Text, true),
        ],
    },
    Schema {
        file: "fx.csv",
        key: &["currency", "year"],
        columns: &[
            ("currency", Cell::Required, false),
            ("year", Cell::Year, false),
            ("usd_per_unit", Cell::Number, false),
            ("source_id", Cell::Text, false),
            ("notes", Cell::Text, true),
        ],
    },
    Schema {
        file: "deflators.csv",
        key: &["currency", "year"],
        columns: &[
            ("currency", Cell::Required, false),
            ("year", Cell::Year, false),
            ("index", Cell::Number, false),
            ("base_year", Cell::Text, true),
            ("source_id", Cell::Text, false),
            ("notes", Cell::Text, true),
        ],
    },
    Schema {
        file: "constants.csv",
        key: &["id"],
        columns: &[
            ("id", Cell::Required, false),
            ("kind", Cell::Required, false),
            ("low", Cell::Number, false),
            ("central", Cell::Number, false),
            ("high", Cell::Number, false),
            ("unit", Cell::Required, false),
            ("source_id", Cell::Text, false),
            ("notes", Cell::Text, true),
        ],
    },
];

fn schema(file: &str) -> Option<&'static Schema> {
    SCHEMAS.iter().find(|s| s.file == file)
}

/// The columns that identify a row of a set file (`grid.csv`: geo_id and year); empty for a
/// file the set does not define ([`diff`] then keys its rows by their first column).
pub fn key_columns(file: &str) -> &'static [&'static str] {
    schema(file).map(|s| s.key).unwrap_or(&[])
}

/// A CSV file as text cells (trimmed, as the loader reads them).
#[derive(Debug, Default)]
struct Table {
    header: Vec<String>,
    /// (1-based row, cells), rows whose cell count matches the header.
    rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    fn parse(text: &str) -> Result<(Table, Vec<(usize, String)>), String> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text.as_bytes());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| format!("cannot read the header: {e}"))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut table = Table {
            header,
            rows: vec![],
        };
        let mut bad = vec![];
        for (i, rec) in rdr.records().enumerate() {
            let row = i + 2;
            match rec {
                Ok(r) if r.len() == table.header.len() => {
                    table
                        .rows
                        .push((row, r.iter().map(str::to_string).collect()));
                }
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

    fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The cell of `name` in `cells` ("" when the column is absent).
    fn get<'a>(&self, cells: &'a [String], name: &str) -> &'a str {
        self.col(name)
            .and_then(|i| cells.get(i))
            .map(String::as_str)
            .unwrap_or("")
    }

    fn num(&self, cells: &[String], name: &str) -> Option<f64> {
        parse_number(self.get(cells, name))
    }

    fn key(&self, cells: &[String], key: &[&str]) -> String {
        let cols: Vec<&str> = if key.is_empty() {
            self.header
                .first()
                .map(|h| vec![h.as_str()])
                .unwrap_or_default()
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

/// Every problem of a factor set given as (relative path, content) pairs; empty when the set
/// is valid. Checks the files present and unknown, the columns, every cell's type, ids unique,
/// source ids known, low ≤ central ≤ high (grid, PUE, WUE), parameter ranges, constant units,
/// years (2000–2100), alias targets, the default class, provider default geographies, grid
/// parents; a set without problems is also loaded with [`FactorSet::from_files`], so that
/// `check` never passes a set the tool would refuse.
pub fn check(files: &[(String, String)]) -> Vec<Problem> {
    let mut out = vec![];
    let mut seen = BTreeSet::new();
    for (name, _) in files {
        if !seen.insert(name.as_str()) {
            out.push(Problem::new(name, None, "listed twice"));
        }
        if !FILES.contains(&name.as_str())
            && !EXTRA_FILES.contains(&name.as_str())
            && schema(name).is_none()
        {
            let optional: Vec<&str> = SCHEMAS
                .iter()
                .map(|s| s.file)
                .filter(|f| !FILES.contains(f))
                .chain(EXTRA_FILES.iter().copied())
                .collect();
            out.push(Problem::new(
                name,
                None,
                format!(
                    "unknown file (a set holds {} and optionally {})",
                    FILES.join(", "),
                    optional.join(", ")
                ),
            ));
        }
    }
    let mut tables: BTreeMap<&str, Table> = BTreeMap::new();
    for s in SCHEMAS {
        let Some((_, text)) = files.iter().find(|(p, _)| p == s.file) else {
            if FILES.contains(&s.file) {
                out.push(Problem::new(s.file, None, "missing from the set"));
            }
            continue;
        };
        if text.starts_with('\u{feff}') {
            out.push(Problem::new(
                s.file,
                Some(1),
                "starts with a byte-order mark: save it as UTF-8 without BOM",
            ));
        }
        match Table::parse(text) {
            Ok((table, bad)) => {
                for (row, why) in bad {
                    out.push(Problem::new(s.file, Some(row), why));
                }
                check_cells(s, &table, &mut out);
                tables.insert(s.file, table);
            }
            Err(why) => out.push(Problem::new(s.file, Some(1), why)),
        }
    }
    check_rows(&tables, &mut out);
    if out.is_empty() {
        if let Err(e) = FactorSet::from_files("check", "check", files) {
            out.push(match e {
                FactorError::Invalid {
                    file, row, reason, ..
                } => Problem::new(&file, Some(row), reason),
                FactorError::Io { file, reason, .. } => Problem::new(&file, None, reason),
                other => Problem::new(".", None, other.to_string()),
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Header and cell types of one file.
fn check_cells(s: &Schema, t: &Table, out: &mut Vec<Problem>) {
    let mut seen = BTreeSet::new();
    for h in &t.header {
        if !seen.insert(h.as_str()) {
            out.push(Problem::new(
                s.file,
                Some(1),
                format!("column '{h}' appears twice"),
            ));
        }
        if !s.columns.iter().any(|(c, _, _)| c == h) {
            out.push(Problem::new(
                s.file,
                Some(1),
                format!("unknown column '{h}'"),
            ));
        }
    }
    for (name, cell, may_be_absent) in s.columns {
        if t.col(name).is_none() {
            if !may_be_absent {
                out.push(Problem::new(
                    s.file,
                    Some(1),
                    format!("column '{name}' missing"),
                ));
            }
            continue;
        }
        for (row, cells) in &t.rows {
            let v = t.get(cells, name);
            let year = |v: &str| v.parse::<i64>().ok().filter(|y| YEARS.contains(y));
            let bad = match cell {
                Cell::Text => None,
                Cell::Required => v.is_empty().then(|| "is empty".to_string()),
                Cell::Number => parse_number(v)
                    .is_none()
                    .then(|| format!("'{v}' is not a number")),
                Cell::OptNumber => (!v.is_empty() && parse_number(v).is_none())
                    .then(|| format!("'{v}' is not a number")),
                Cell::Integer => v
                    .parse::<i64>()
                    .is_err()
                    .then(|| format!("'{v}' is not a whole number")),
                Cell::Year => year(v).is_none().then(|| {
                    format!(
                        "year '{v}' is not plausible ({}–{})",
                        YEARS.start(),
                        YEARS.end()
                    )
                }),
                Cell::OptYear => (!v.is_empty() && year(v).is_none()).then(|| {
                    format!(
                        "year '{v}' is not plausible ({}–{})",
                        YEARS.start(),
                        YEARS.end()
                    )
                }),
                Cell::Date => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .ok()
                    .filter(|d| YEARS.contains(&i64::from(chrono::Datelike::year(d))))
                    .is_none()
                    .then(|| format!("'{v}' is not a plausible date YYYY-MM-DD")),
            };
            if let Some(why) = bad {
                out.push(Problem::new(s.file, Some(*row), format!("{name}: {why}")));
            }
        }
    }
}

/// Relations between rows and files.
fn check_rows(tables: &BTreeMap<&str, Table>, out: &mut Vec<Problem>) {
    // Unique ids (models and aliases are looked up in lower case, so compared so).
    for s in SCHEMAS {
        let Some(t) = tables.get(s.file) else {
            continue;
        };
        let fold = matches!(s.file, "models.csv" | "aliases.csv");
        let mut first: BTreeMap<String, usize> = BTreeMap::new();
        for (row, cells) in &t.rows {
            let mut k = t.key(cells, s.key);
            if fold {
                k = k.to_lowercase();
            }
            if k.trim().is_empty() {
                continue;
            }
            if let Some(earlier) = first.get(&k) {
                out.push(Problem::new(
                    s.file,
                    Some(*row),
                    format!(
                        "duplicate {} '{k}' (also row {earlier})",
                        s.key.join(" and ")
                    ),
                ));
            } else {
                first.insert(k, *row);
            }
        }
    }

    // Source ids.
    if let Some(src) = tables.get("sources.csv") {
        let known: BTreeSet<&str> = src.rows.iter().map(|(_, c)| src.get(c, "id")).collect();
        for s in SCHEMAS.iter().filter(|s| s.file != "sources.csv") {
            let Some(t) = tables.get(s.file) else {
                continue;
            };
            if t.col("source_id").is_none() {
                continue;
            }
            for (row, cells) in &t.rows {
                let ids = t.get(cells, "source_id");
                if ids.is_empty() {
                    out.push(Problem::new(s.file, Some(*row), "no source_id"));
                    continue;
                }
                for id in ids.split(';').map(str::trim) {
                    if !known.contains(id) {
                        out.push(Problem::new(
                            s.file,
                            Some(*row),
                            format!("unknown source id '{id}' (not in sources.csv)"),
                        ));
                    }
                }
            }
        }
    }

    // Models and classes: kind, architecture, parameter ranges.
    for file in ["models.csv", "classes.csv"] {
        let Some(t) = tables.get(file) else {
            continue;
        };
        for (row, c) in &t.rows {
            let kind = t.get(c, "kind");
            if !kind.is_empty() && !matches!(kind, "llm" | "embedding") {
                out.push(Problem::new(
                    file,
                    Some(*row),
                    format!("kind '{kind}' is neither llm nor embedding"),
                ));
            }
            let arch = t.get(c, "architecture");
            if !arch.is_empty() && !matches!(arch, "dense" | "moe") {
                out.push(Problem::new(
                    file,
                    Some(*row),
                    format!("architecture '{arch}' is neither dense nor moe"),
                ));
            }
            let p = |n: &str| t.num(c, n);
            if let (Some(tmin), Some(tmax), Some(amin), Some(amax)) = (
                p("total_params_b_min"),
                p("total_params_b_max"),
                p("active_params_b_min"),
                p("active_params_b_max"),
            ) {
                let mut why = vec![];
                if amin <= 0.0 {
                    why.push(format!("active_params_b_min {amin} is not above 0"));
                }
                if amin > amax {
                    why.push(format!("active min {amin} > active max {amax}"));
                }
                if tmin > tmax {
                    why.push(format!("total min {tmin} > total max {tmax}"));
                }
                if amax > tmax {
                    why.push(format!("active max {amax} > total max {tmax}"));
                }
                if !why.is_empty() {
                    out.push(Problem::new(
                        file,
                        Some(*row),
                        format!("parameter range invalid: {}", why.join("; ")),
                    ));
                }
            }
        }
    }

    // Alias targets.
    if let (Some(a), Some(m)) = (tables.get("aliases.csv"), tables.get("models.csv")) {
        let keys: BTreeSet<String> = m
            .rows
            .iter()
            .map(|(_, c)| m.get(c, "model_key").to_lowercase())
            .collect();
        for (row, c) in &a.rows {
            let target = a.get(c, "model_key");
            if !target.is_empty() && !keys.contains(&target.to_lowercase()) {
                out.push(Problem::new(
                    "aliases.csv",
                    Some(*row),
                    format!("alias target '{target}' is not a model_key in models.csv"),
                ));
            }
        }
    }

    // The default class.
    if let Some(t) = tables.get("classes.csv") {
        if !t.rows.iter().any(|(_, c)| t.get(c, "match").is_empty()) {
            out.push(Problem::new(
                "classes.csv",
                None,
                "no default class (a row with an empty match)",
            ));
        }
    }

    // Grid rows.
    let mut geo_ids = BTreeSet::new();
    if let Some(t) = tables.get("grid.csv") {
        geo_ids = t.rows.iter().map(|(_, c)| t.get(c, "geo_id")).collect();
        for (row, c) in &t.rows {
            let row = Some(*row);
            if let (Some(l), Some(m), Some(h)) =
                (t.num(c, "low"), t.num(c, "central"), t.num(c, "high"))
            {
                if let Some(why) = ordered("gCO2e/kWh", l, m, h) {
                    out.push(Problem::new("grid.csv", row, why));
                }
            }
            let scope = t.get(c, "scope");
            if !scope.is_empty()
                && !matches!(
                    scope,
                    "cloud_region" | "country" | "us_subregion" | "aggregate"
                )
            {
                out.push(Problem::new(
                    "grid.csv",
                    row,
                    format!(
                        "scope '{scope}' is not cloud_region, country, us_subregion or aggregate"
                    ),
                ));
            }
            if scope == "cloud_region"
                && (t.get(c, "cloud").is_empty() || t.get(c, "region").is_empty())
            {
                out.push(Problem::new(
                    "grid.csv",
                    row,
                    "a cloud_region row needs cloud and region",
                ));
            }
            let parent = t.get(c, "parent");
            if !parent.is_empty() && !geo_ids.contains(parent) {
                out.push(Problem::new(
                    "grid.csv",
                    row,
                    format!("parent '{parent}' is not a geo_id of grid.csv"),
                ));
            }
            if let Some(p) = t.num(c, "pue").filter(|p| *p < 1.0) {
                out.push(Problem::new("grid.csv", row, format!("pue {p} is below 1")));
            }
            for col in ["wue", "offsite_water_l_per_kwh"] {
                if let Some(w) = t.num(c, col).filter(|w| *w < 0.0) {
                    out.push(Problem::new(
                        "grid.csv",
                        row,
                        format!("{col} {w} is negative"),
                    ));
                }
            }
            if let Some(s) = t.num(c, "cfe_share").filter(|s| !(0.0..=1.0).contains(s)) {
                out.push(Problem::new(
                    "grid.csv",
                    row,
                    format!("cfe_share {s} is not between 0 and 1"),
                ));
            }
        }
        if !geo_ids.contains("agg:WORLD") {
            out.push(Problem::new(
                "grid.csv",
                None,
                "no agg:WORLD row (the last fallback)",
            ));
        }
    }

    // Providers.
    if let Some(t) = tables.get("providers.csv") {
        for (row, c) in &t.rows {
            let row = Some(*row);
            for (what, prefix) in [("PUE", "pue"), ("WUE", "wue")] {
                let v = |b: &str| t.num(c, &format!("{prefix}_{b}"));
                if let (Some(l), Some(m), Some(h)) = (v("low"), v("central"), v("high")) {
                    if let Some(why) = ordered(what, l, m, h) {
                        out.push(Problem::new("providers.csv", row, why));
                    } else if what == "PUE" && l < 1.0 {
                        out.push(Problem::new(
                            "providers.csv",
                            row,
                            format!("PUE low {l} is below 1"),
                        ));
                    }
                }
            }
            let geo = t.get(c, "default_geo");
            if !geo.is_empty() && tables.contains_key("grid.csv") && !geo_ids.contains(geo) {
                out.push(Problem::new(
                    "providers.csv",
                    row,
                    format!("default_geo '{geo}' is not a geo_id of grid.csv"),
                ));
            }
        }
        if !t
            .rows
            .iter()
            .any(|(_, c)| t.get(c, "provider") == "unknown")
        {
            out.push(Problem::new(
                "providers.csv",
                None,
                "no 'unknown' provider row (used for providers the set does not know)",
            ));
        }
    }

    // Spend tables: prices, rates and indices are positive.
    for (file, cols) in [
        (
            "prices.csv",
            &["input_per_mtok", "cached_input_per_mtok", "output_per_mtok"][..],
        ),
        ("fx.csv", &["usd_per_unit"][..]),
        ("deflators.csv", &["index"][..]),
    ] {
        let Some(t) = tables.get(file) else {
            continue;
        };
        for (row, c) in &t.rows {
            for col in cols {
                if let Some(v) = t
                    .num(c, col)
                    .filter(|v| *v < 0.0 || (*v == 0.0 && file != "prices.csv"))
                {
                    out.push(Problem::new(
                        file,
                        Some(*row),
                        format!("{col} {v} is not positive"),
                    ));
                }
            }
        }
    }

    // Constants: central between low and high (some, such as utilisations, run high to low:
    // the low result uses the higher value), and the ones the method needs.
    if let Some(t) = tables.get("constants.csv") {
        for (row, c) in &t.rows {
            if let (Some(l), Some(m), Some(h)) =
                (t.num(c, "low"), t.num(c, "central"), t.num(c, "high"))
            {
                if m < l.min(h) || m > l.max(h) {
                    out.push(Problem::new(
                        "constants.csv",
                        Some(*row),
                        format!("central {m} is not between low {l} and high {h}"),
                    ));
                }
            }
        }
        for needed in REQUIRED_CONSTANTS {
            if !t.rows.iter().any(|(_, c)| t.get(c, "id") == *needed) {
                out.push(Problem::new(
                    "constants.csv",
                    None,
                    format!("constant '{needed}' missing (the method needs it)"),
                ));
            }
        }
    }
}

fn ordered(what: &str, l: f64, c: f64, h: f64) -> Option<String> {
    if l < 0.0 || l > c || c > h {
        Some(format!(
            "{what}: low <= central <= high (and low >= 0) does not hold: low {l}, central {c}, high {h}"
        ))
    } else {
        None
    }
}

/// A factor set's files as found, before any check.
#[derive(Debug, Clone)]
pub struct RawSet {
    /// Version: the embedded version, or the folder's name.
    pub version: String,
    /// `embedded` or the folder path.
    pub origin: String,
    /// (relative path, content), sorted by path.
    pub files: Vec<(String, String)>,
    /// Entries of a folder that could not be read as a set file (sub-folders, non-UTF-8).
    pub unreadable: Vec<Problem>,
}

impl RawSet {
    /// SHA-256 of the set as [`set_sha256`] takes it (the one workbooks and JSON print).
    pub fn sha256(&self) -> String {
        set_sha256(&self.files)
    }
}

/// The files of `spec`: an embedded version, or a folder in the same layout (read without
/// checking, so that a broken set can still be checked and compared).
pub fn raw_set(spec: &str) -> Result<RawSet, FactorError> {
    if let Some((version, files)) = crate::embedded::FACTOR_SETS
        .iter()
        .find(|(v, _)| *v == spec)
    {
        let mut files: Vec<(String, String)> = files
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect();
        files.sort();
        return Ok(RawSet {
            version: version.to_string(),
            origin: "embedded".into(),
            files,
            unreadable: vec![],
        });
    }
    let dir = Path::new(spec);
    if !dir.is_dir() {
        return Err(FactorError::UnknownVersion(
            spec.to_string(),
            embedded_versions().join(", "),
        ));
    }
    let origin = dir.display().to_string();
    let version = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| origin.clone());
    let entries = std::fs::read_dir(dir).map_err(|e| FactorError::Io {
        set: origin.clone(),
        file: ".".into(),
        reason: e.to_string(),
    })?;
    let mut files = vec![];
    let mut unreadable = vec![];
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        if path.is_dir() {
            unreadable.push(Problem::new(
                &name,
                None,
                "unknown folder (a set is a flat folder of files)",
            ));
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push((name, text)),
            Err(e) => unreadable.push(Problem::new(&name, None, format!("cannot read: {e}"))),
        }
    }
    files.sort();
    Ok(RawSet {
        version,
        origin,
        files,
        unreadable,
    })
}

/// One changed cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellChange {
    /// Column.
    pub column: String,
    /// Value in A.
    pub old: String,
    /// Value in B.
    pub new: String,
}

/// One row present in both sets with different values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowChange {
    /// The row's id (key columns joined by a space: `country:FRA 2024`).
    pub key: String,
    /// The cells that differ, in column order.
    pub cells: Vec<CellChange>,
}

/// How one file differs between two sets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileDiff {
    /// The file.
    pub file: String,
    /// Only in A (removed) or only in B (added): `Some(false)` removed, `Some(true)` added.
    pub only_in: Option<bool>,
    /// The columns that identify a row.
    pub key: Vec<String>,
    /// Columns only in B.
    pub columns_added: Vec<String>,
    /// Columns only in A.
    pub columns_removed: Vec<String>,
    /// Ids of rows only in B.
    pub added: Vec<String>,
    /// Ids of rows only in A.
    pub removed: Vec<String>,
    /// Rows in both with different values (columns present in both).
    pub changed: Vec<RowChange>,
    /// The text differs but no row does (quoting, spacing, row order), or a non-CSV file
    /// changed.
    pub text_only: bool,
}

/// Every difference between two sets, file by file (files without differences left out).
pub fn diff(a: &[(String, String)], b: &[(String, String)]) -> Vec<FileDiff> {
    let names: BTreeSet<&str> = a.iter().chain(b).map(|(p, _)| p.as_str()).collect();
    let find = |set: &[(String, String)], n: &str| {
        set.iter()
            .find(|(p, _)| p == n)
            .map(|(_, c)| c.replace("\r\n", "\n"))
    };
    let mut out = vec![];
    for name in names {
        let (ta, tb) = (find(a, name), find(b, name));
        let mut d = FileDiff {
            file: name.to_string(),
            ..FileDiff::default()
        };
        match (&ta, &tb) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(_), None) => {
                d.only_in = Some(false);
                out.push(d);
                continue;
            }
            (None, Some(_)) => {
                d.only_in = Some(true);
                out.push(d);
                continue;
            }
            _ => {}
        }
        let (ta, tb) = (ta.unwrap_or_default(), tb.unwrap_or_default());
        let parsed = if name.to_lowercase().ends_with(".csv") {
            Table::parse(&ta).ok().zip(Table::parse(&tb).ok())
        } else {
            None
        };
        let Some(((xa, _), (xb, _))) = parsed else {
            d.text_only = true;
            out.push(d);
            continue;
        };
        let key: Vec<&str> = match key_columns(name) {
            [] => xa
                .header
                .first()
                .map(|h| vec![h.as_str()])
                .unwrap_or_default(),
            k => k.to_vec(),
        };
        d.key = key.iter().map(|k| k.to_string()).collect();
        d.columns_added = xb
            .header
            .iter()
            .filter(|h| !xa.header.contains(h))
            .cloned()
            .collect();
        d.columns_removed = xa
            .header
            .iter()
            .filter(|h| !xb.header.contains(h))
            .cloned()
            .collect();
        let rows = |t: &Table| {
            let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut order = vec![];
            for (_, cells) in &t.rows {
                let base = t.key(cells, &key);
                let mut k = base.clone();
                let mut n = 2;
                while m.contains_key(&k) {
                    k = format!("{base} (#{n})");
                    n += 1;
                }
                order.push(k.clone());
                m.insert(k, cells.clone());
            }
            (m, order)
        };
        let (ra, order_a) = rows(&xa);
        let (rb, order_b) = rows(&xb);
        d.removed = order_a
            .iter()
            .filter(|k| !rb.contains_key(*k))
            .cloned()
            .collect();
        d.added = order_b
            .iter()
            .filter(|k| !ra.contains_key(*k))
            .cloned()
            .collect();
        for k in &order_a {
            let (Some(ca), Some(cb)) = (ra.get(k), rb.get(k)) else {
                continue;
            };
            let cells: Vec<CellChange> = xa
                .header
                .iter()
                .filter(|h| xb.header.contains(h))
                .filter_map(|h| {
                    let (old, new) = (xa.get(ca, h), xb.get(cb, h));
                    (old != new).then(|| CellChange {
                        column: h.clone(),
                        old: old.to_string(),
                        new: new.to_string(),
                    })
                })
                .collect();
            if !cells.is_empty() {
                d.changed.push(RowChange {
                    key: k.clone(),
                    cells,
                });
            }
        }
        d.text_only = d.columns_added.is_empty()
            && d.columns_removed.is_empty()
            && d.added.is_empty()
            && d.removed.is_empty()
            && d.changed.is_empty();
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded() -> Vec<(String, String)> {
        raw_set(embedded_versions().last().unwrap()).unwrap().files
    }

    fn edit(files: &mut [(String, String)], name: &str, f: impl Fn(&str) -> String) {
        let slot = files.iter_mut().find(|(p, _)| p == name).unwrap();
        slot.1 = f(&slot.1);
    }

    #[test]
    fn the_embedded_sets_have_no_problems() {
        for v in embedded_versions() {
            let set = raw_set(v).unwrap();
            assert_eq!(check(&set.files), vec![], "{v}");
        }
    }

    #[test]
    fn every_problem_is_listed_not_only_the_first() {
        let mut files = embedded();
        edit(&mut files, "constants.csv", |t| {
            t.replace(
                "k_cache,cache_discount,0.05,0.1,0.25,fraction of input-token energy",
                "k_cache,cache_discount,0.05,0.1,0.25,",
            )
        });
        edit(&mut files, "classes.csv", |t| {
            t.replace("flagship,,llm", "flagship,default,llm")
        });
        edit(&mut files, "grid.csv", |t| {
            t.replacen(",2024,", ",1899,", 1)
        });
        edit(&mut files, "aliases.csv", |t| {
            t.replacen(",claude-3-5-haiku,", ",no-such-model,", 1)
        });
        edit(&mut files, "providers.csv", |t| {
            t.replace(
                "country:USA,microsoft-dcd-2024",
                "country:XXX,microsoft-dcd-2024",
            )
        });
        edit(&mut files, "models.csv", |t| {
            let lines: Vec<String> = t
                .lines()
                .enumerate()
                .map(|(i, l)| {
                    if i == 0 {
                        format!("{l},colour")
                    } else {
                        format!("{l},")
                    }
                })
                .collect();
            lines.join("\n") + "\n"
        });
        files.push(("notes.txt".into(), "x".into()));
        let p = check(&files);
        let text: Vec<String> = p.iter().map(|p| p.to_string()).collect();
        let has = |s: &str| text.iter().any(|t| t.contains(s));
        assert!(
            has("constants.csv row") && has("unit: is empty"),
            "{text:#?}"
        );
        assert!(has("no default class"), "{text:#?}");
        assert!(has("year '1899' is not plausible"), "{text:#?}");
        assert!(has("alias target 'no-such-model'"), "{text:#?}");
        assert!(has("default_geo 'country:XXX'"), "{text:#?}");
        assert!(has("unknown column 'colour'"), "{text:#?}");
        assert!(has("notes.txt: unknown file"), "{text:#?}");
    }

    #[test]
    fn diff_keys_grid_rows_by_geo_and_year() {
        let a = embedded();
        let mut b = a.clone();
        edit(&mut b, "grid.csv", |t| {
            t.replace(
                "agg:AFR,aggregate,,,Africa (Ember),,agg:WORLD,2024,542.4,",
                "agg:AFR,aggregate,,,Africa (Ember),,agg:WORLD,2024,600,",
            )
        });
        let d = diff(&a, &b);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].file, "grid.csv");
        assert_eq!(
            d[0].changed,
            vec![RowChange {
                key: "agg:AFR 2024".into(),
                cells: vec![CellChange {
                    column: "central".into(),
                    old: "542.4".into(),
                    new: "600".into()
                }]
            }]
        );
        assert!(diff(&a, &a).is_empty());
    }
}
