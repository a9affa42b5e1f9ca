//! Checks on factor sets for the auditor: every problem of a set's files (`factors check`) and
//! what changed between two sets (`factors diff`). The published per-query figures beside the
//! tool's (`factors validate`) are in [`crate::validate`].
//!
//! The rules are those of the factor-set schema (`src/factors/schema.toml`, applied by
//! [`crate::factors::schema`]): the loader applies the same ones, so `check` passes exactly the
//! sets the tool loads. [`check`] and [`diff`] are pure functions over (relative path, content)
//! pairs, so they work on sets that do not load. Reading a folder ([`raw_set`]) is the only I/O
//! here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::factors::schema::{self, Table};
use crate::factors::{embedded_versions, set_sha256, FactorError, FactorSet};

pub use crate::factors::schema::{key_columns, Problem};

/// Every problem of a factor set given as (relative path, content) pairs, sorted; empty when
/// the set is valid. The rules are the schema's (`src/factors/schema.toml`): files present and
/// unknown, columns missing, unknown or twice, every cell's type (numbers, whole numbers, years
/// 2000–2100, dates), ids unique, source ids known, low ≤ central ≤ high (grid, PUE, WUE),
/// parameter ranges (0 < active min ≤ active max ≤ total max, total min ≤ total max), PUE ≥ 1,
/// constants' central between low and high, alias targets, the default class, provider default
/// geographies, grid parents, the rows the method needs. A set without problems is also built
/// with [`FactorSet::from_files`] (which applies the same rules), so that `check` can never
/// pass a set the tool would refuse.
pub fn check(files: &[(String, String)]) -> Vec<Problem> {
    let mut out = schema::check_files(files).problems;
    if out.is_empty() {
        if let Err(e) = FactorSet::from_files("check", "check", files) {
            out.extend(match e {
                FactorError::Problems { problems, .. } => problems,
                FactorError::Invalid {
                    file, row, reason, ..
                } => vec![Problem::new(&file, Some(row), reason)],
                FactorError::Io { file, reason, .. } => vec![Problem::new(&file, None, reason)],
                other => vec![Problem::new(".", None, other.to_string())],
            });
        }
    }
    out
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
    read_folder(dir)
}

/// The files of a set folder, sorted, and the entries that are not readable set files
/// (sub-folders, non-UTF-8): what both `check` and the loader see of a folder.
pub(crate) fn read_folder(dir: &Path) -> Result<RawSet, FactorError> {
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
        // What file managers and editors leave in a folder (.DS_Store, .~lock, .git) is not
        // part of the set.
        if name.starts_with('.') {
            continue;
        }
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
        // A file in one set only: its rows are all removed or all added.
        let row_keys = |text: &str| -> Vec<String> {
            if !name.to_lowercase().ends_with(".csv") {
                return vec![];
            }
            let Ok((t, _)) = Table::parse(text) else {
                return vec![];
            };
            let key: Vec<&str> = match key_columns(name) {
                k if k.is_empty() => t.header.get(0).into_iter().collect(),
                k => k,
            };
            t.rows.iter().map(|(_, cells)| t.key(cells, &key)).collect()
        };
        match (&ta, &tb) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(x), None) => {
                d.only_in = Some(false);
                d.removed = row_keys(x);
                out.push(d);
                continue;
            }
            (None, Some(y)) => {
                d.only_in = Some(true);
                d.added = row_keys(y);
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
            k if k.is_empty() => xa.header.get(0).into_iter().collect(),
            k => k,
        };
        d.key = key.iter().map(|k| k.to_string()).collect();
        let only = |x: &Table, y: &Table| -> Vec<String> {
            x.header
                .iter()
                .filter(|h| y.col(h).is_none())
                .map(String::from)
                .collect()
        };
        d.columns_added = only(&xb, &xa);
        d.columns_removed = only(&xa, &xb);
        let rows = |t: &Table| {
            let mut m: BTreeMap<String, csv::StringRecord> = BTreeMap::new();
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
                .filter(|h| xb.col(h).is_some())
                .filter_map(|h| {
                    let (old, new) = (xa.get(ca, h), xb.get(cb, h));
                    (old != new).then(|| CellChange {
                        column: h.to_string(),
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

    /// Rewrites `file`: the cell of `column` on the row whose first cell is `first` (every row
    /// when `first` is "*") set to `value`.
    fn set_cell(
        files: &mut [(String, String)],
        file: &str,
        first: &str,
        column: &str,
        value: &str,
    ) {
        edit(files, file, |text| {
            let mut r = csv::Reader::from_reader(text.as_bytes());
            let header = r.headers().unwrap().clone();
            let i = header.iter().position(|h| h == column).unwrap();
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(vec![]);
            w.write_record(&header).unwrap();
            let mut hit = false;
            for rec in r.records() {
                let mut cells: Vec<String> = rec.unwrap().iter().map(String::from).collect();
                if first == "*" || cells[0] == first {
                    cells[i] = value.to_string();
                    hit = true;
                }
                w.write_record(&cells).unwrap();
            }
            assert!(hit, "{file} has no row {first}");
            String::from_utf8(w.into_inner().unwrap()).unwrap()
        });
    }

    /// Removes `column` from `file`.
    fn drop_column(files: &mut [(String, String)], file: &str, column: &str) {
        edit(files, file, |text| {
            let mut r = csv::Reader::from_reader(text.as_bytes());
            let header = r.headers().unwrap().clone();
            let i = header.iter().position(|h| h == column).unwrap();
            let keep = |rec: &csv::StringRecord| -> Vec<String> {
                rec.iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, c)| c.to_string())
                    .collect()
            };
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(vec![]);
            w.write_record(keep(&header)).unwrap();
            for rec in r.records() {
                w.write_record(keep(&rec.unwrap())).unwrap();
            }
            String::from_utf8(w.into_inner().unwrap()).unwrap()
        });
    }

    /// The rules that drifted apart before the schema was one file (#18): `check` refused
    /// them, loading accepted them. Both refuse them now, with the same problem.
    #[test]
    fn loading_refuses_what_check_refuses() {
        type Breaker = Box<dyn Fn(&mut Vec<(String, String)>)>;
        let cases: Vec<(&str, Breaker, &str)> = vec![
            (
                // Active parameters are a part of the total: 40 active of a 32.3 total.
                "active max above total max",
                Box::new(|f| {
                    set_cell(f, "models.csv", "c4ai-aya-expanse-32b", "active_params_b_max", "40")
                }),
                "models.csv row 2: parameter range invalid: 0 < active min <= active max <= total max does not hold: active_params_b_min 32.3, active_params_b_max 40, total_params_b_max 32.3",
            ),
            (
                "kind not one of llm, embedding, image, audio, video",
                Box::new(|f| set_cell(f, "models.csv", "c4ai-aya-expanse-32b", "kind", "chat")),
                "models.csv row 2: kind 'chat' is not one of llm, embedding, image, audio, video",
            ),
            (
                "PUE below 1",
                Box::new(|f| set_cell(f, "providers.csv", "anthropic", "pue_low", "0.9")),
                "providers.csv row 2: PUE low 0.9 is below 1",
            ),
            (
                // Loading kept the last of two rows of one provider.
                "a provider twice",
                Box::new(|f| set_cell(f, "providers.csv", "aws-bedrock", "provider", "anthropic")),
                "providers.csv row 3: duplicate provider 'anthropic' (also row 2)",
            ),
            (
                "a constant twice",
                Box::new(|f| set_cell(f, "constants.csv", "eeio_518210", "id", "chars_per_token")),
                "constants.csv row 3: duplicate id 'chars_per_token' (also row 2)",
            ),
            (
                "a constant's central outside low-high",
                Box::new(|f| set_cell(f, "constants.csv", "eeio_518210", "central", "1")),
                "constants.csv row 3: central 1 is not between low 0.0465 and high 0.186",
            ),
            (
                "an implausible year",
                Box::new(|f| set_cell(f, "fx.csv", "*", "year", "1999")),
                "fx.csv row 2: year: year '1999' is not plausible (2000–2100)",
            ),
            (
                "a negative price",
                Box::new(|f| set_cell(f, "prices.csv", "claude-3-5-haiku", "input_per_mtok", "-1")),
                "prices.csv row 2: input_per_mtok -1 is negative",
            ),
            (
                "an unknown column (a misspelt optional one would be read as empty)",
                Box::new(|f| {
                    edit(f, "grid.csv", |t| t.replacen("offsite_water_l_per_kwh", "offsite_water", 1))
                }),
                "grid.csv row 1: unknown column 'offsite_water'",
            ),
            (
                // A misspelt optional file would silently estimate no spend.
                "an unknown file",
                Box::new(|f| f.push(("price.csv".into(), "model_key\n".into()))),
                "price.csv: unknown file",
            ),
        ];
        for (what, break_it, want) in cases {
            let mut files = embedded();
            break_it(&mut files);
            let problems: Vec<String> = check(&files).iter().map(|p| p.to_string()).collect();
            assert!(
                problems.iter().any(|p| p.starts_with(want)),
                "{what}: check lacks {want:?}: {problems:#?}"
            );
            let err = FactorSet::from_files("t", "t", &files)
                .map(|_| ())
                .unwrap_err();
            let FactorError::Problems {
                problems: at_load, ..
            } = &err
            else {
                panic!("{what}: {err}");
            };
            let at_load: Vec<String> = at_load.iter().map(|p| p.to_string()).collect();
            assert_eq!(at_load, problems, "{what}");
            assert!(err.to_string().contains(&problems[0]), "{what}: {err}");
        }
    }

    /// What the schema lets a set leave out or leave empty, the loader's rows read: every
    /// `may_be_empty` cell emptied, or every `may_be_absent` column removed, the set loads
    /// (grid.csv keeps `cloud` and `region`, which its cloud_region rows need).
    #[test]
    fn the_loader_reads_every_set_the_schema_admits() {
        let needed =
            |file: &str, col: &str| file == "grid.csv" && matches!(col, "cloud" | "region");
        let mut files = embedded();
        for f in &schema::schema().files {
            for c in &f.columns {
                if c.may_be_empty && !needed(&f.name, &c.name) {
                    set_cell(&mut files, &f.name, "*", &c.name, "");
                }
            }
        }
        assert_eq!(check(&files), vec![]);
        let set = FactorSet::from_files("t", "t", &files).unwrap();
        assert!(set.prices.values().all(|p| p.output_per_mtok.is_none()));
        assert!(set.grid.values().flatten().all(|g| g.pue.is_none()));
        let mut files = embedded();
        for f in &schema::schema().files {
            for c in &f.columns {
                if c.may_be_absent && !needed(&f.name, &c.name) {
                    drop_column(&mut files, &f.name, &c.name);
                }
            }
        }
        assert_eq!(check(&files), vec![]);
        let set = FactorSet::from_files("t", "t", &files).unwrap();
        assert!(set.grid.values().flatten().all(|g| g.pue.is_none()));
        // And one required column removed is refused, by both.
        let mut files = embedded();
        drop_column(&mut files, "deflators.csv", "index");
        let want = Problem::new("deflators.csv", Some(1), "column 'index' missing");
        assert_eq!(check(&files), vec![want.clone()]);
        assert!(FactorSet::from_files("t", "t", &files).is_err());
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
