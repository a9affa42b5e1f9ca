//! The config file: exclusions with reasons, cost-centre mapping, fiscal years, default
//! regions, factor overrides, and `init`.

use std::path::{Path, PathBuf};

use llm_scope3::cli::{PeriodArgs, ReadArgs};
use llm_scope3::config::Config;
use llm_scope3::pipeline::{self, Outcome};

use crate::common::{root, run};

const OPENAI: &str = "samples/openai_completions_usage_2026-01-01_2026-03-31.csv";

fn with_config(dir: &Path, toml: &str, quarter: &str) -> Outcome {
    let path = dir.join("llm-scope3.toml");
    std::fs::write(&path, toml).unwrap();
    let cfg = Config::new(
        &PeriodArgs {
            quarter: Some(quarter.into()),
            year: None,
            from: None,
            to: None,
        },
        &ReadArgs {
            templates: vec![],
            factors: None,
            config: Some(path),
        },
        Some("2026-04-15"),
        None,
    )
    .unwrap();
    let (inputs, skipped) = pipeline::inputs_from_paths(&[root().join(OPENAI)]).unwrap();
    pipeline::run(&inputs, skipped, &cfg).unwrap()
}

/// Input tokens of the OpenAI sample's rows whose project matches.
fn project_input(project: &str) -> u64 {
    let o = run(&[&root().join(OPENAI)], "2026Q1").unwrap();
    o.summary
        .lines
        .iter()
        .filter(|l| l.key.cost_centre.as_deref() == Some(project))
        .map(|l| l.body.activity.input_tokens)
        .sum()
}

#[test]
fn exclusions_leave_usage_out_with_the_reason_and_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let o = with_config(
        dir.path(),
        "[entity]\nname = \"Acme\"\n[[exclude]]\ncost_centre = \"proj_labs\"\nreason = \"internal test project\"\n",
        "2026Q1",
    );
    let all = run(&[&root().join(OPENAI)], "2026Q1").unwrap();
    let labs = project_input("proj_labs");
    assert!(labs > 0);
    assert_eq!(
        o.summary.totals.activity.input_tokens,
        all.summary.totals.activity.input_tokens - labs
    );
    let f = &o.files[0];
    assert!(
        f.counts.excluded > 0 && f.counts.balanced(),
        "{:?}",
        f.counts
    );
    assert_eq!(
        f.counts.excluded + f.counts.accepted,
        all.files[0].counts.accepted
    );
    assert!(o
        .excluded
        .iter()
        .all(|e| e.reason == "internal test project"));
    assert_eq!(o.excluded.iter().map(|e| e.input_tokens).sum::<u64>(), labs);
    assert_eq!(o.entity, "Acme");
    let text = llm_scope3::report::json::to_string(&o).unwrap();
    assert!(text.contains("\"excluded\": ") && text.contains("internal test project"));
}

#[test]
fn cost_centres_are_mapped_with_a_catch_all() {
    let dir = tempfile::tempdir().unwrap();
    let o = with_config(
        dir.path(),
        "[[cost_centres]]\nmatch = \"proj_support*\"\ncost_centre = \"Customer Service\"\n[[cost_centres]]\nmatch = \"*\"\ncost_centre = \"Unallocated\"\n",
        "2026Q1",
    );
    let mut centres: Vec<&str> = o
        .summary
        .lines
        .iter()
        .filter_map(|l| l.key.cost_centre.as_deref())
        .collect();
    centres.sort();
    centres.dedup();
    assert_eq!(centres, vec!["Customer Service", "Unallocated"]);
    let cs: u64 = o
        .summary
        .lines
        .iter()
        .filter(|l| l.key.cost_centre.as_deref() == Some("Customer Service"))
        .map(|l| l.body.activity.input_tokens)
        .sum();
    assert_eq!(cs, project_input("proj_support_bot"));
}

#[test]
fn quarters_follow_the_fiscal_year_start() {
    // Fiscal year from April: 2025Q4 is January-March 2026, so the sample falls in it; 2026Q1
    // (April-June 2026) holds none of it.
    let dir = tempfile::tempdir().unwrap();
    let toml = "[entity]\nfiscal_year_start_month = 4\n";
    let q4 = with_config(dir.path(), toml, "2025Q4");
    assert_eq!(q4.period.start.to_string(), "2026-01-01");
    assert_eq!(q4.period.end.to_string(), "2026-03-31");
    let all = run(&[&root().join(OPENAI)], "2026Q1").unwrap();
    assert_eq!(q4.summary.totals.activity, all.summary.totals.activity);
    let q1 = with_config(dir.path(), toml, "2026Q1");
    assert_eq!(q1.period.start.to_string(), "2026-04-01");
    assert_eq!(q1.files[0].counts.accepted, 0);
}

#[test]
fn a_default_region_per_provider_replaces_the_factor_sets_default() {
    // OpenAI served from Azure Sweden Central: grid 35.8 gCO2e/kWh (Ember, Sweden) instead of
    // the USA's 383.5, so operational emissions fall by the ratio while energy is unchanged.
    let dir = tempfile::tempdir().unwrap();
    let o = with_config(
        dir.path(),
        "[regions]\nopenai = \"swedencentral\"\n",
        "2026Q1",
    );
    let base = run(&[&root().join(OPENAI)], "2026Q1").unwrap();
    assert!(o
        .summary
        .lines
        .iter()
        .all(|l| l.body.grid_geo == "azure:swedencentral"));
    let (e1, e0) = (
        o.summary.totals.energy_kwh.central,
        base.summary.totals.energy_kwh.central,
    );
    assert!(((e1 - e0) / e0).abs() < 1e-12);
    let op = |o: &Outcome| o.summary.totals.operational_kgco2e.central;
    assert!(
        ((op(&o) / op(&base)) - 35.8 / 383.5).abs() < 1e-9,
        "{}",
        op(&o) / op(&base)
    );
}

#[test]
fn factor_overrides_replace_rows_and_are_marked() {
    // Override the USA grid row to 767 gCO2e/kWh (twice 383.5, bounds doubled too):
    // operational emissions double.
    let dir = tempfile::tempdir().unwrap();
    let over = dir.path().join("over");
    std::fs::create_dir(&over).unwrap();
    let grid = std::fs::read_to_string(root().join("src/factors/data/2026.1/grid.csv")).unwrap();
    let header = grid.lines().next().unwrap();
    let usa = grid
        .lines()
        .find(|l| l.starts_with("country:USA,"))
        .unwrap();
    std::fs::write(
        over.join("grid.csv"),
        format!(
            "{header}\n{}\n",
            usa.replacen(",383.5,183.7,501.4,", ",767,367.4,1002.8,", 1)
        ),
    )
    .unwrap();
    let o = with_config(dir.path(), "[factors]\noverrides = \"over\"\n", "2026Q1");
    let base = run(&[&root().join(OPENAI)], "2026Q1").unwrap();
    let op = |o: &Outcome| o.summary.totals.operational_kgco2e.central;
    assert!((op(&o) / op(&base) - 2.0).abs() < 1e-9);
    assert!(o.factor_version.ends_with("+overrides"));
    assert_ne!(o.factor_sha256, base.factor_sha256);
    let grid_use = &o.summary.factors["grid:country:USA:2024"];
    assert!(
        grid_use.basis.starts_with("OVERRIDDEN"),
        "{}",
        grid_use.basis
    );
    assert!(!o.summary.factors["pue:openai"]
        .basis
        .starts_with("OVERRIDDEN"));
}

#[test]
fn init_writes_a_commented_example_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = assert_cmd::Command::cargo_bin("llm-scope3").unwrap();
    c.current_dir(dir.path()).arg("init").assert().success();
    let text = std::fs::read_to_string(dir.path().join("llm-scope3.toml")).unwrap();
    assert!(text.contains("fiscal_year_start_month") && text.contains("[[exclude]]"));
    let mut c = assert_cmd::Command::cargo_bin("llm-scope3").unwrap();
    c.current_dir(dir.path()).arg("init").assert().code(2);
    // The written file is read automatically from its folder: its exclusion applies.
    let mut c = assert_cmd::Command::cargo_bin("llm-scope3").unwrap();
    let out = c
        .current_dir(dir.path())
        .args([
            "report",
            "--quarter",
            "2026Q1",
            "--out",
            "r.xlsx",
            "--json",
            "r.json",
        ])
        .arg(root().join(OPENAI))
        .assert()
        .success();
    let _ = out;
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    assert!(v["imports"][0]["excluded"].as_u64().unwrap() > 0);
    let _: PathBuf = dir.path().join("r.xlsx");
}
