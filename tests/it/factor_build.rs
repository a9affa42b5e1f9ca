//! The embedded factor set is rebuilt bit for bit from the repository alone
//! (`tools/build_factor_set.py` on `tools/factor_inputs/`), and the builder's check of a set
//! (`--check`, its port of the schema engine) finds word for word the problems the tool finds:
//! one schema (`src/factors/schema.toml`), applied alike by the builder, the loader and
//! `factors check`.
//!
//! Both tests need Python 3.11+ (the builder reads the schema with tomllib): they skip with a
//! printed reason when it is missing and CI is not set, and fail when CI=true.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::common::root;
use llm_scope3::factors::check;
use llm_scope3::factors::{embedded_versions, FactorSet};

/// `python3` when it can run the builder (3.11+, tomllib), else why not (a skip, or a failure
/// under CI=true).
fn python(test: &str) -> Option<&'static str> {
    let ok = Command::new("python3")
        .args(["-c", "import tomllib"])
        .output()
        .map(|o| o.status.success());
    let why = match ok {
        Ok(true) => return Some("python3"),
        Ok(false) => "python3 is older than 3.11 (no tomllib)",
        Err(_) => "python3 is not installed",
    };
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci,
        "CI=true: {why}; the factor-set builder needs Python 3.11+ (apt-get install python3)"
    );
    crate::common::skipped(test, why);
    None
}

fn builder() -> PathBuf {
    root().join("tools/build_factor_set.py")
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// (file name, SHA-256) of every file of a folder, sorted.
fn hashes(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                sha256(&std::fs::read(e.path()).unwrap()),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_embedded_factor_set_is_rebuilt_bit_for_bit_from_the_repository() {
    let Some(py) = python("the factor set rebuilt from tools/factor_inputs") else {
        return;
    };
    // Every embedded version: 2026.1 from the research extracts, 2026.2 from those and the rows
    // of tools/factor_inputs/2026.2/, 2026.3 from 2026.2 and the rows of
    // tools/factor_inputs/2026.3/.
    let versions = embedded_versions();
    assert!(
        versions.contains(&"2026.1")
            && versions.contains(&"2026.2")
            && versions.contains(&"2026.3"),
        "{versions:?}"
    );
    for version in versions {
        let tmp = tempfile::tempdir().unwrap();
        let out_dir = tmp.path().join(version);
        // No argument: the inputs inside the repository (tools/factor_inputs/), nothing outside.
        let out = Command::new(py)
            .arg(builder())
            .args(["--version", version, "--out"])
            .arg(&out_dir)
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the builder failed for {version}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Every file, byte for byte (SHA-256), and no file more or less.
        let embedded = root().join("src/factors/data").join(version);
        let rebuilt = hashes(&out_dir);
        assert_eq!(rebuilt, hashes(&embedded), "{version}");
        // Ten CSV files and README.md; from 2026.2 also latency.csv, from 2026.3 training.csv.
        let files = match version {
            "2026.1" => 11,
            "2026.2" => 12,
            _ => 13,
        };
        assert_eq!(rebuilt.len(), files, "{rebuilt:?}");
        // Hence the set's SHA-256, the one workbooks and JSON print, is the embedded one.
        assert_eq!(
            FactorSet::from_dir(&out_dir).unwrap().sha256,
            FactorSet::load(Some(version)).unwrap().sha256
        );
    }
}

/// Rewrites `file` of `dir`: `f` gets each record (header first, as cells) and returns the
/// records to write in its place (none to drop it).
fn rewrite(dir: &Path, file: &str, f: impl Fn(usize, Vec<String>) -> Vec<Vec<String>>) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(vec![]);
    for (i, rec) in r.records().enumerate() {
        let cells: Vec<String> = rec.unwrap().iter().map(String::from).collect();
        for out in f(i, cells) {
            w.write_record(&out).unwrap();
        }
    }
    std::fs::write(&path, w.into_inner().unwrap()).unwrap();
}

/// Sets `column` of the row whose first cell is `first` to `value` (the header names it).
fn set(dir: &Path, file: &str, first: &str, column: &str, value: &str) {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let header: Vec<String> = csv::Reader::from_reader(text.as_bytes())
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect();
    let i = header.iter().position(|h| h == column).unwrap();
    let (first, column) = (first.to_string(), column.to_string());
    let done = std::cell::Cell::new(false);
    rewrite(dir, file, |row, mut cells| {
        if row > 0 && !done.get() && cells[0] == first {
            cells[i] = value.to_string();
            done.set(true);
        }
        vec![cells]
    });
    assert!(done.get(), "{file} has no row {first} ({column})");
}

#[test]
fn the_builder_and_the_tool_find_the_same_problems() {
    let Some(py) = python("the builder's schema check beside the tool's") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let version = embedded_versions().last().unwrap().to_string();
    let dir = tmp.path().join(&version);
    std::fs::create_dir(&dir).unwrap();
    for (name, content) in check::raw_set(&version).unwrap().files {
        std::fs::write(dir.join(name), content).unwrap();
    }
    // Every column type and rule kind of the schema broken at least once.
    // models.csv: a kind (one_of), active above total (ordered, above 0), total min above max
    // (ordered), an unknown source id among two (refers, split on ';').
    set(&dir, "models.csv", "c4ai-aya-expanse-32b", "kind", "chat");
    set(
        &dir,
        "models.csv",
        "c4ai-aya-expanse-32b",
        "active_params_b_max",
        "40",
    );
    set(
        &dir,
        "models.csv",
        "c4ai-aya-vision-32b",
        "total_params_b_min",
        "50",
    );
    set(
        &dir,
        "models.csv",
        "c4ai-aya-vision-32b",
        "source_id",
        "ecologits-0.11.3;no-such-source",
    );
    // aliases.csv: a target in other case is found (fold_case), an unknown one is not.
    set(
        &dir,
        "aliases.csv",
        "claude-3-5-haiku-20241022",
        "model_key",
        "Claude-3-5-HAIKU",
    );
    set(
        &dir,
        "aliases.csv",
        "claude-3-5-haiku-latest",
        "model_key",
        "no-such-model",
    );
    // classes.csv: no default class left (has_row ""), a priority that is no whole number.
    set(&dir, "classes.csv", "flagship", "match", "default");
    set(&dir, "classes.csv", "mini", "priority", "3.5");
    // grid.csv: year, ordered with min 0, one_of, required_if, refers, range min/max, a
    // duplicate geo_id + year, an unknown column, a number that is not one.
    set(&dir, "grid.csv", "agg:AFR", "year", "1899");
    set(&dir, "grid.csv", "agg:ASI", "low", "-1");
    set(&dir, "grid.csv", "agg:EU27", "scope", "planet");
    set(&dir, "grid.csv", "aws:us-east-1", "region", "");
    set(&dir, "grid.csv", "aws:us-east-2", "parent", "country:XXX");
    set(&dir, "grid.csv", "aws:us-west-1", "pue", "0.5");
    set(&dir, "grid.csv", "aws:us-west-2", "wue", "-1");
    set(&dir, "grid.csv", "gcp:us-central1", "cfe_share", "1.5");
    set(&dir, "grid.csv", "agg:EUR", "geo_id", "agg:NAM");
    set(&dir, "grid.csv", "agg:LAC", "central", "lots");
    rewrite(&dir, "grid.csv", |row, mut cells| {
        if row == 0 {
            if let Some(c) = cells.iter_mut().find(|c| *c == "offsite_water_l_per_kwh") {
                *c = "offsite_water".into();
            }
        }
        vec![cells]
    });
    // providers.csv: PUE out of order and below 1, no 'unknown' row, a short row.
    set(&dir, "providers.csv", "openai", "pue_low", "1.30");
    set(&dir, "providers.csv", "meta", "pue_low", "0.95");
    rewrite(&dir, "providers.csv", |_, cells| {
        if cells[0] == "unknown" {
            vec![]
        } else if cells[0] == "cohere" {
            vec![cells[..3].to_vec()]
        } else {
            vec![cells]
        }
    });
    // constants.csv: central outside low-high (between), a needed constant gone (has_row).
    set(&dir, "constants.csv", "eeio_518210", "central", "1");
    rewrite(&dir, "constants.csv", |_, cells| {
        if cells[0] == "u_in" {
            vec![]
        } else {
            vec![cells]
        }
    });
    // latency.csv: a speed of zero (range above 0), a model the set does not have (refers).
    set(&dir, "latency.csv", "gpt-4o", "tps", "0");
    set(
        &dir,
        "latency.csv",
        "gpt-4o-mini",
        "model_key",
        "no-such-model",
    );
    // prices.csv: a negative price (range min 0), a date that is none, an empty required cell.
    set(
        &dir,
        "prices.csv",
        "claude-3-5-haiku",
        "input_per_mtok",
        "-1",
    );
    set(
        &dir,
        "prices.csv",
        "claude-3-7-sonnet",
        "valid_from",
        "2025-02-30",
    );
    set(&dir, "prices.csv", "claude-opus-4", "currency", "");
    // fx.csv: zero (range above 0), a duplicate in other case (fold_key).
    set(&dir, "fx.csv", "CAD", "usd_per_unit", "0");
    set(&dir, "fx.csv", "CHF", "currency", "aud");
    // deflators.csv: a required column gone.
    rewrite(&dir, "deflators.csv", |_, mut cells| {
        cells.remove(2);
        vec![cells]
    });
    // sources.csv: a year that is not plausible, a column twice.
    set(&dir, "sources.csv", "bls-cpi-u", "year", "20x6");
    rewrite(&dir, "sources.csv", |_, mut cells| {
        let last = cells.last().cloned().unwrap_or_default();
        cells.push(last);
        vec![cells]
    });
    // An unknown file and a sub-folder.
    std::fs::write(dir.join("notes.txt"), "x").unwrap();
    // What a file manager leaves in a folder is no part of the set, and no problem.
    std::fs::write(dir.join(".DS_Store"), [0u8, 0, 0, 1, 0xff]).unwrap();
    std::fs::create_dir(dir.join("old")).unwrap();

    let raw = check::raw_set(dir.to_str().unwrap()).unwrap();
    let mut tool = raw.unreadable.clone();
    tool.extend(check::check(&raw.files));
    tool.sort();
    let tool: Vec<String> = tool.iter().map(|p| p.to_string()).collect();
    // At least one problem of each kind broken above (the lists are compared whole below).
    for want in [
        "models.csv row 2: kind 'chat' is not one of llm, embedding, image, audio, video",
        "models.csv row 2: parameter range invalid: 0 < active min",
        "models.csv row 3: parameter range invalid: total min <= total max",
        "models.csv row 3: unknown source id 'no-such-source'",
        "alias target 'no-such-model'",
        "classes.csv: no default class",
        "priority: '3.5' is not a whole number",
        "year: year '1899' is not plausible (2000–2100)",
        "gCO2e/kWh: low <= central <= high (and low >= 0) does not hold: low -1",
        "scope 'planet' is not",
        "a cloud_region row needs cloud and region",
        "parent 'country:XXX' is not a geo_id of grid.csv",
        "pue 0.5 is below 1",
        "wue -1 is negative",
        "cfe_share 1.5 is not between 0 and 1",
        "duplicate geo_id and year 'agg:NAM 2024'",
        "central: 'lots' is not a number",
        "grid.csv row 1: unknown column 'offsite_water'",
        "PUE: low <= central <= high (and low >= 0) does not hold: pue_low 1.30",
        "PUE low 0.95 is below 1",
        "providers.csv: no 'unknown' provider row",
        "fields where the header has 11",
        "central 1 is not between low 0.0465 and high 0.186",
        "tps 0 is not positive",
        "unknown model_key 'no-such-model' (not in models.csv)",
        "constants.csv: constant 'u_in' missing",
        "input_per_mtok -1 is negative",
        "valid_from: '2025-02-30' is not a plausible date",
        "currency: is empty",
        "usd_per_unit 0 is not positive",
        "duplicate currency and year 'aud 2019'",
        "deflators.csv row 1: column 'index' missing",
        "year: year '20x6' is not plausible",
        "sources.csv row 1: column 'notes' appears twice",
        "notes.txt: unknown file",
        "old: unknown folder",
    ] {
        assert!(
            tool.iter().any(|p| p.contains(want)),
            "the tool lacks {want:?}:\n{}",
            tool.join("\n")
        );
    }
    assert!(
        !tool
            .iter()
            .any(|p| p.contains("Claude-3-5-HAIKU") || p.contains(".DS_Store")),
        "{tool:#?}"
    );

    let out = Command::new(py)
        .arg(builder())
        .arg("--check")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let builder: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.ends_with(" problem(s)"))
        .collect();
    assert_eq!(builder, tool, "the builder's check and the tool's differ");
    assert!(stdout.ends_with(&format!("{} problem(s)\n", tool.len())));
}
