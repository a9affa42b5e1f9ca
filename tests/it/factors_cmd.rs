//! `factors export | check | diff | validate`: a factor set written out byte for byte and
//! usable with `--factors DIR`, every problem of a broken set listed, the exact change between
//! two sets, and the METHODOLOGY §6 validation asserted on numbers.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

use crate::common::root;
use llm_scope3::config::Config;
use llm_scope3::config::{PeriodRequest, ReadRequest};
use llm_scope3::factors::check;
use llm_scope3::factors::{set_sha256, FactorSet};
use llm_scope3::pipeline;
use llm_scope3::report::json;
use llm_scope3::validate::Test;

fn bin() -> Command {
    let mut c = Command::cargo_bin("llm-scope3").unwrap();
    c.current_dir(root());
    c
}

fn newest() -> String {
    llm_scope3::factors::default_version().to_string()
}

/// `factors export DIR` through the binary; returns DIR/<version>.
fn export(dir: &Path) -> PathBuf {
    bin()
        .args(["factors", "export"])
        .arg(dir)
        .assert()
        .success();
    dir.join(newest())
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The folder's files as (name, content), sorted.
fn read_set(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Rewrites the line of `file` whose first field is `first` with `f` applied to its fields.
fn edit_row(dir: &Path, file: &str, first: &str, f: impl Fn(&[String], &mut Vec<String>)) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let header: Vec<String> = text
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    let mut done = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if done || !line.starts_with(&format!("{first},")) {
                return line.to_string();
            }
            done = true;
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            let rec = rdr.records().next().unwrap().unwrap();
            let mut fields: Vec<String> = rec.iter().map(String::from).collect();
            f(&header, &mut fields);
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(vec![]);
            w.write_record(&fields).unwrap();
            String::from_utf8(w.into_inner().unwrap())
                .unwrap()
                .trim_end()
                .to_string()
        })
        .collect();
    assert!(done, "{file} has no row {first}");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

#[test]
fn export_writes_the_embedded_set_byte_for_byte_and_it_checks_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let set = export(tmp.path());
    // Byte for byte: the embedded files are the repository's data folder.
    let data = root().join("src/factors/data").join(newest());
    let ours = read_set(&set);
    assert_eq!(ours, read_set(&data));
    for (name, _) in &ours {
        assert_eq!(
            std::fs::read(set.join(name)).unwrap(),
            std::fs::read(data.join(name)).unwrap(),
            "{name}"
        );
    }
    // Same SHA-256 as the embedded set, and `check` finds nothing.
    let embedded = FactorSet::load(None).unwrap();
    assert_eq!(FactorSet::from_dir(&set).unwrap().sha256, embedded.sha256);
    let out = bin()
        .args(["factors", "check"])
        .arg(&set)
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(text.contains("no problems"), "{text}");
    assert!(text.contains(&embedded.sha256), "{text}");

    // A second export into the same DIR is refused (exit 2) and changes nothing.
    let out = bin()
        .args(["factors", "export"])
        .arg(tmp.path())
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("not an empty folder") && err.contains("never overwrites"),
        "{err}"
    );
    assert_eq!(read_set(&set), ours);
    // An empty folder of that name is fine.
    let tmp2 = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp2.path().join(newest())).unwrap();
    export(tmp2.path());
    assert_eq!(read_set(&tmp2.path().join(newest())), ours);
}

#[test]
fn check_lists_every_problem_of_a_broken_set_and_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    let set = export(tmp.path());
    // 1. A duplicate model_key: the first model row appended again at the end.
    let models = std::fs::read_to_string(set.join("models.csv")).unwrap();
    let first_model = models.lines().nth(1).unwrap().to_string();
    let duplicate_row = models.lines().count() + 1; // header = row 1
    std::fs::write(set.join("models.csv"), format!("{models}{first_model}\n")).unwrap();
    // 2. An unknown source id on the grid's agg:WORLD row.
    edit_row(&set, "grid.csv", "agg:WORLD", |h, f| {
        f[col(h, "source_id")] = "no-such-source".into()
    });
    let grid = std::fs::read_to_string(set.join("grid.csv")).unwrap();
    let world_row = grid
        .lines()
        .position(|l| l.starts_with("agg:WORLD,"))
        .unwrap()
        + 1;
    // 3. low > high: OpenAI's PUE low 1.30 above its central 1.18 and high 1.25.
    edit_row(&set, "providers.csv", "openai", |h, f| {
        f[col(h, "pue_low")] = "1.30".into()
    });

    let out = bin()
        .args(["factors", "check"])
        .arg(&set)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let text = stdout(&out);
    let key = first_model.split(',').next().unwrap();
    for want in [
        format!("models.csv row {duplicate_row}: duplicate model_key '{key}'"),
        format!("grid.csv row {world_row}: unknown source id 'no-such-source'"),
        "providers.csv row".to_string(),
        "PUE: low <= central <= high".to_string(),
        "3 problem(s)".to_string(),
    ] {
        assert!(text.contains(&want), "lacks {want:?}:\n{text}");
    }
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("3 problem(s)"), "{err}");

    // The library function the command uses: exactly these three, not only the first.
    let problems = check::check(&read_set(&set));
    assert_eq!(problems.len(), 3, "{problems:#?}");
    let files: Vec<&str> = problems.iter().map(|p| p.file.as_str()).collect();
    assert_eq!(files, ["grid.csv", "models.csv", "providers.csv"]);
    // The loader refuses the set for the same three (the schema's rules, one engine).
    match FactorSet::from_dir(&set) {
        Err(llm_scope3::factors::FactorError::Problems { problems: p, .. }) => {
            assert_eq!(p, problems)
        }
        other => panic!("{:?}", other.map(|s| s.sha256)),
    }
}

#[test]
fn diff_lists_exactly_the_one_changed_grid_value_with_both_sha256() {
    let tmp = tempfile::tempdir().unwrap();
    let set = export(tmp.path());
    // The first grid row: its geo_id, year and central, read as CSV.
    let grid = std::fs::read_to_string(set.join("grid.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(grid.as_bytes());
    let header = rdr.headers().unwrap().clone();
    let first = rdr.records().next().unwrap().unwrap();
    let field = |name: &str| first[header.iter().position(|h| h == name).unwrap()].to_string();
    let (first_geo, year, old) = (field("geo_id"), field("year"), field("central"));
    assert_ne!(old, "600");
    edit_row(&set, "grid.csv", &first_geo, |h, f| {
        f[col(h, "central")] = "600".into()
    });
    let embedded = FactorSet::load(None).unwrap();
    let changed_sha = set_sha256(&read_set(&set));
    assert_ne!(embedded.sha256, changed_sha);

    let out = bin()
        .args(["factors", "diff", &newest()])
        .arg(&set)
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(
        text.contains(&format!("SHA-256 {}", embedded.sha256)),
        "{text}"
    );
    assert!(text.contains(&format!("SHA-256 {changed_sha}")), "{text}");
    let detail: Vec<&str> = text.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(
        detail,
        [format!("  ~ {first_geo} {year}: central {old} → 600")],
        "{text}"
    );
    assert!(
        text.contains("grid.csv: 0 added, 0 removed, 1 changed (rows keyed by geo_id + year)"),
        "{text}"
    );
    assert!(text.contains("1 file(s) differ"), "{text}");

    // Library: one file, one row, one cell.
    let a = check::raw_set(&newest()).unwrap().files;
    let d = check::diff(&a, &read_set(&set));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].file, "grid.csv");
    assert!(d[0].added.is_empty() && d[0].removed.is_empty());
    assert_eq!(d[0].changed.len(), 1);
    assert_eq!(d[0].changed[0].key, format!("{first_geo} {year}"));
    let cell = &d[0].changed[0].cells;
    assert_eq!(cell.len(), 1);
    assert_eq!(
        (
            cell[0].column.as_str(),
            cell[0].old.as_str(),
            cell[0].new.as_str()
        ),
        ("central", old.as_str(), "600")
    );

    // The same set twice: no differences.
    let out = bin()
        .args(["factors", "diff", &newest(), &newest()])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(stdout(&out).contains("no differences"));
}

#[test]
fn diff_of_the_two_embedded_sets_lists_the_rows_of_a_file_only_one_has() {
    // 2026.2 adds latency.csv (75 rows, one per model with an EcoLogits speed) and removes the
    // 13 unverified eGRID rows of year 2024.
    let out = bin()
        .args(["factors", "diff", "2026.1", "2026.2"])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(
        text.contains("latency.csv: only in B (file added, 75 rows)"),
        "{text}"
    );
    assert!(text.contains("\n  + gpt-4o\n"), "{text}");
    assert!(
        text.contains("grid.csv: 178 added, 13 removed, 25 changed (rows keyed by geo_id + year)"),
        "{text}"
    );
    assert!(text.contains("\n  - egrid:US 2024\n"), "{text}");
    // And back: the file's rows are removed.
    let back = bin()
        .args(["factors", "diff", "2026.2", "2026.1"])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&back);
    assert!(
        text.contains("latency.csv: only in A (file removed, 75 rows)"),
        "{text}"
    );
    assert!(text.contains("\n  - gpt-4o\n"), "{text}");
}

#[test]
fn diff_2026_2_2026_3_lists_training_csv_and_its_sources_added_and_nothing_else_changed() {
    // 2026.3 = 2026.2 + training.csv (26 rows) + the 25 sources they cite; its README says so.
    let out = bin()
        .args(["factors", "diff", "2026.2", "2026.3"])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(
        text.contains("training.csv: only in B (file added, 26 rows)"),
        "{text}"
    );
    assert!(text.contains("\n  + llama-3.1-405b\n"), "{text}");
    assert!(text.contains("\n  + class:frontier-closed\n"), "{text}");
    assert!(
        text.contains("sources.csv: 25 added, 0 removed, 0 changed (rows keyed by id)"),
        "{text}"
    );
    assert!(text.contains("\n  + meta-llama3.1-card-2024\n"), "{text}");
    assert!(text.contains("README.md: text changed"), "{text}");
    assert!(text.contains("3 file(s) differ"), "{text}");
}

#[test]
fn validate_passes_and_every_published_figure_lies_within_the_tools_range() {
    let out = bin()
        .args(["factors", "validate"])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(text.contains("checked rows: all within"), "{text}");

    let set = FactorSet::load(None).unwrap();
    let rows = llm_scope3::validate::validation(&set);
    let find = |id: &str| {
        rows.iter()
            .find(|r| r.source_id == id)
            .unwrap_or_else(|| panic!("no row {id}"))
    };
    let within = |id: &str| {
        let r = find(id);
        let (lo, hi) = r.published_wh;
        assert!(
            r.tool_wh.low <= lo && hi <= r.tool_wh.high,
            "{id}: published {lo}–{hi} Wh outside the tool's {:?}",
            r.tool_wh
        );
        r
    };
    // Google 2025: 0.24 Wh within gemini-2.5-flash 1,000 in / 500 out (google).
    let g = within("google_gemini_2025");
    assert_eq!(g.published_wh, (0.24, 0.24));
    assert_eq!(
        g.tool_wh,
        llm_scope3::validate::request_wh(&set, "google", "gemini-2.5-flash", 1000, 500)
    );
    // OpenAI 2025: 0.34 Wh within gpt-4o 1,000 in / 500 out (openai); the worked check of
    // METHODOLOGY §2 gives 0.098 / 0.34 / 2.12 with the default set 2026.2.
    let o = within("openai_altman_2025");
    assert_eq!(o.published_wh, (0.34, 0.34));
    assert_eq!(
        o.tool_wh,
        llm_scope3::validate::request_wh(&set, "openai", "gpt-4o", 1000, 500)
    );
    // Epoch 2025: 0.3 Wh for 500 output tokens; the tool's central within ×1.5
    // (0.2 ≤ central ≤ 0.45): e_out central 0.382 Wh/1k × 0.5 × PUE 1.18 = 0.225.
    let e = within("epoch_gpt4o_2025");
    assert_eq!(e.test, Test::CentralWithin(1.5));
    assert!(
        0.3 / 1.5 <= e.tool_wh.central && e.tool_wh.central <= 0.3 * 1.5,
        "{:?}",
        e.tool_wh
    );
    // EcoLogits 0.11.3: its own energy for gpt-4o, 500 output tokens at its 74 tokens/s plus
    // 0.61 s to the first token, at P_act max and its PUE 1.20: (1.99184 × 0.5 + 0.61 / 3600
    // × 1,200 × 16/8 / 64) × 1.20 = (0.99592 + 0.00635) × 1.20 = 1.2027 Wh, at most the tool's
    // high (1.99184 × 0.5 × PUE 1.60 = 1.5935).
    let eco = rows
        .iter()
        .filter(|r| r.source_id == "ecologits-0.11.3")
        .collect::<Vec<_>>();
    assert_eq!(eco.len(), 2);
    let m = &set.models["gpt-4o"];
    let eco_gpt4o = llm_scope3::validate::ecologits_request_wh(
        m.active_params_b_max,
        m.total_params_b_max,
        500,
        1.20,
        set.latency("gpt-4o"),
    );
    assert_eq!(eco[0].published_wh, (eco_gpt4o, eco_gpt4o));
    for r in &eco {
        assert_eq!(r.test, Test::HighAtLeast);
        let (p, _) = r.published_wh;
        assert!(
            r.tool_wh.high >= p,
            "{}: {p} > {:?}",
            r.reference,
            r.tool_wh
        );
        assert!(r.tool_wh.low <= p, "{}: {p} < {:?}", r.reference, r.tool_wh);
    }
    assert!(
        (eco[0].published_wh.0 - 1.2027).abs() < 1e-4,
        "{:?}",
        eco[0]
    );
    assert!((eco[0].tool_wh.high - 1.5935).abs() < 1e-4, "{:?}", eco[0]);
    // Jegham et al. 2025: 0.42 Wh for a short GPT-4o prompt (100 in / 300 out) within the
    // tool's 2026.2 range: low (0.3 × 0.110297 + 0.1 × 0.0367655) × 1.07 = 0.0393, high
    // (0.3 × 1.99184 + 0.1 × 0.330890) × 1.60 = 1.0090.
    let j = within("jegham_2025");
    assert_eq!(j.test, Test::WithinRange);
    assert!((j.tool_wh.low - 0.0393).abs() < 1e-4, "{:?}", j.tool_wh);
    assert!((j.tool_wh.high - 1.0090).abs() < 1e-4, "{:?}", j.tool_wh);
    // Context rows are shown, not judged (boundaries other than the tool's, or figures not
    // yet read per model); every judged row passes.
    for id in [
        "ludvigsen_2023",
        "devries_2023",
        "oviedo_2026",
        "google_gemini_2025_narrow",
        "ml_energy_v3",
        "mistral_lca_2025",
    ] {
        assert_eq!(find(id).test, Test::Context);
    }
    assert_eq!(
        rows.iter().filter(|r| r.source_id == "oviedo_2026").count(),
        2
    );
    // Epoch's long inputs (2.5 Wh at ~10k input, 40 Wh at ~100k) lie within the tool's range
    // for GPT-4o with 500 output tokens.
    let long: Vec<_> = rows
        .iter()
        .filter(|r| r.source_id == "epoch_gpt4o_long_input")
        .collect();
    assert_eq!(long.len(), 2);
    for r in &long {
        assert_eq!(r.test, Test::WithinRange);
        let (p, _) = r.published_wh;
        assert!(
            r.tool_wh.low <= p && p <= r.tool_wh.high,
            "{}: {p} vs {:?}",
            r.reference,
            r.tool_wh
        );
    }
    assert_eq!(rows.iter().filter(|r| r.checked()).count(), 8);
    assert!(rows.iter().all(|r| r.passes()));
}

#[test]
fn the_methodology_page_shows_the_validation_table_of_the_embedded_set() {
    // docs/methodology.md pastes `llm-scope3 factors validate --markdown`: its table rows
    // must be the function's output for the embedded set (regenerate them when it changes).
    let set = FactorSet::load(None).unwrap();
    let md =
        llm_scope3::validate::validation_markdown(&set, &llm_scope3::validate::validation(&set));
    let doc = std::fs::read_to_string(root().join("docs/methodology.md")).unwrap();
    for line in md.lines().filter(|l| l.starts_with('|')) {
        assert!(
            doc.contains(line),
            "docs/methodology.md lacks the validation row\n{line}\n\
             regenerate: cargo run -- factors validate --markdown"
        );
    }
}

fn config(factors: Option<String>) -> Config {
    Config::new(
        &PeriodRequest {
            quarter: Some("2026Q1".into()),
            year: None,
            from: None,
            to: None,
        },
        &ReadRequest {
            templates: vec![],
            factors,
            config: None,
            max_lines: None,
        },
        Some("2026-04-15"),
        Some("Test Entity"),
    )
    .unwrap()
}

#[test]
fn an_old_report_is_reproduced_with_its_exported_set() {
    // The auditor keeps the exported set beside the report; `--factors DIR` on it gives the
    // same JSON, byte for byte, as the embedded version it was exported from.
    let tmp = tempfile::tempdir().unwrap();
    let set = export(tmp.path());
    let (inputs, skipped) = pipeline::inputs_from_paths(&[root().join("samples")]).unwrap();
    let embedded = pipeline::run(&inputs, skipped.clone(), &config(Some(newest()))).unwrap();
    let from_dir =
        pipeline::run(&inputs, skipped, &config(Some(set.display().to_string()))).unwrap();
    assert_eq!(embedded.factor_version, from_dir.factor_version);
    assert_eq!(embedded.factor_sha256, from_dir.factor_sha256);
    assert_eq!(
        embedded.factor_sha256,
        FactorSet::load(None).unwrap().sha256
    );
    let (a, b) = (
        json::to_string(&embedded).unwrap(),
        json::to_string(&from_dir).unwrap(),
    );
    assert!(a.contains(&embedded.factor_sha256));
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert!(
        v["lines"].as_array().is_some_and(|l| !l.is_empty()),
        "the samples give calculation lines"
    );
    assert_eq!(a, b);
}
