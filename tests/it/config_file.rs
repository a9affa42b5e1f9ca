//! The config file: exclusions with reasons, cost-centre mapping, fiscal years, default
//! regions, factor overrides, and `init`.

use std::path::Path;

use llm_scope3::config::Config;
use llm_scope3::config::{PeriodRequest, ReadRequest};
use llm_scope3::pipeline::{self, Outcome};

use crate::common::{bin_in, root, run, sheet_text, stdout};

const OPENAI: &str = "samples/openai_completions_usage_2026-01-01_2026-03-31.csv";

fn with_config(dir: &Path, toml: &str, quarter: &str) -> Outcome {
    let path = dir.join("llm-scope3.toml");
    std::fs::write(&path, toml).unwrap();
    let cfg = Config::new(
        &PeriodRequest {
            quarter: Some(quarter.into()),
            year: None,
            from: None,
            to: None,
        },
        &ReadRequest {
            templates: vec![],
            factors: None,
            config: Some(path),
            max_lines: None,
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
    // OpenAI served from Azure Sweden Central: grid 35.3 gCO2e/kWh (Ember 2025, Sweden; the
    // default set 2026.2, usage year 2026) instead of the USA's 384.4, so operational emissions
    // fall by the ratio while energy is unchanged.
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
        ((op(&o) / op(&base)) - 35.3 / 384.4).abs() < 1e-9,
        "{}",
        op(&o) / op(&base)
    );
}

#[test]
fn factor_overrides_replace_rows_and_are_marked() {
    // Override the USA grid row of 2025 (the default set 2026.2's row for usage in 2026) to
    // 768.8 gCO2e/kWh (twice 384.4, bounds doubled too): operational emissions double.
    let dir = tempfile::tempdir().unwrap();
    let over = dir.path().join("over");
    std::fs::create_dir(&over).unwrap();
    let grid = std::fs::read_to_string(root().join("src/factors/data/2026.2/grid.csv")).unwrap();
    let header = grid.lines().next().unwrap();
    let usa = grid
        .lines()
        .find(|l| l.starts_with("country:USA,") && l.contains(",2025,"))
        .unwrap();
    std::fs::write(
        over.join("grid.csv"),
        format!(
            "{header}\n{}\n",
            usa.replacen(",384.4,195,501.4,", ",768.8,390,1002.8,", 1)
        ),
    )
    .unwrap();
    let o = with_config(dir.path(), "[factors]\noverrides = \"over\"\n", "2026Q1");
    let base = run(&[&root().join(OPENAI)], "2026Q1").unwrap();
    let op = |o: &Outcome| o.summary.totals.operational_kgco2e.central;
    assert!((op(&o) / op(&base) - 2.0).abs() < 1e-9);
    assert!(o.factor_version.ends_with("+overrides"));
    assert_ne!(o.factor_sha256, base.factor_sha256);
    let grid_use = &o.summary.factors["grid:country:USA:2025"];
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
fn init_writes_a_commented_example_once_that_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = assert_cmd::Command::cargo_bin("llm-scope3").unwrap();
    c.current_dir(dir.path()).arg("init").assert().success();
    let text = std::fs::read_to_string(dir.path().join("llm-scope3.toml")).unwrap();
    // Every option is documented (commented out).
    for option in [
        "#[entity]",
        "#name =",
        "#currency =",
        "#fiscal_year_start_month =",
        "#base_year =",
        "#[regions]",
        "#[[cost_centres]]",
        "#match =",
        "#provider =",
        "#cost_centre =",
        "#[[exclude]]",
        "#reason =",
        "#[factors]",
        "#version =",
        "#overrides =",
    ] {
        assert!(text.contains(option), "{option} is not documented");
    }
    let mut c = assert_cmd::Command::cargo_bin("llm-scope3").unwrap();
    c.current_dir(dir.path()).arg("init").assert().code(2);
    // The written file is read automatically from its folder, and as written it changes
    // nothing: the report equals one made in a folder without a configuration.
    let report = |cwd: &Path| {
        let out = stdout(
            bin_in(cwd)
                .args(["report", "--quarter", "2026Q1", "--as-of", "2026-04-15"])
                .args(["--out", "r.xlsx", "--json", "r.json"])
                .arg(root().join(OPENAI))
                .assert()
                .success(),
        );
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(cwd.join("r.json")).unwrap()).unwrap();
        (out, v)
    };
    let (out, v) = report(dir.path());
    let bare = tempfile::tempdir().unwrap();
    let (bare_out, bare_v) = report(bare.path());
    assert_eq!(v["totals"], bare_v["totals"]);
    assert_eq!(v["lines"], bare_v["lines"]);
    assert_eq!(v["imports"], bare_v["imports"]);
    assert!(v["imports"][0]["excluded"] == 0 && v["excluded"] == serde_json::json!([]));
    // Each report names its configuration.
    assert!(
        out.contains("Configuration: llm-scope3.toml\n  sets nothing (every setting commented out): the figures are those without a configuration\n"),
        "{out}"
    );
    assert!(
        bare_out.contains("Configuration: none found (no llm-scope3.toml in the current folder and no --config): every setting at its default\n"),
        "{bare_out}"
    );
    assert_eq!(v["configuration"]["file"], "llm-scope3.toml");
    assert_eq!(bare_v["configuration"]["file"], serde_json::Value::Null);
    let cover = sheet_text(&dir.path().join("r.xlsx"), "Cover");
    let at = cover
        .iter()
        .position(|c| c == "Configuration file")
        .unwrap();
    assert_eq!(cover[at + 1], "llm-scope3.toml");
    assert_eq!(cover[at + 2], "Configuration changes");
    assert!(cover[at + 3].starts_with("sets nothing"), "{cover:?}");
    let cover = sheet_text(&bare.path().join("r.xlsx"), "Cover");
    let at = cover
        .iter()
        .position(|c| c == "Configuration file")
        .unwrap();
    assert!(cover[at + 1].starts_with("none found"), "{cover:?}");
    assert!(!cover.iter().any(|c| c == "Configuration changes"));
}

/// A configuration that sets every option, with an override folder beside it.
fn full_config(dir: &Path, exclude: bool) -> String {
    let over = dir.join("over");
    std::fs::create_dir_all(&over).unwrap();
    let grid = std::fs::read_to_string(root().join("src/factors/data/2026.1/grid.csv")).unwrap();
    let header = grid.lines().next().unwrap();
    let swe = grid
        .lines()
        .find(|l| l.starts_with("azure:swedencentral,"))
        .unwrap();
    std::fs::write(over.join("grid.csv"), format!("{header}\n{swe}\n")).unwrap();
    let mut toml = String::from(
        "[entity]\nname = \"Acme\"\ncurrency = \"eur\"\nfiscal_year_start_month = 1\nbase_year = 2024\n\
         [regions]\nopenai = \"swedencentral\"\n\
         [[cost_centres]]\nmatch = \"proj_support*\"\ncost_centre = \"Customer Service\"\n\
         [[cost_centres]]\nmatch = \"*\"\ncost_centre = \"Unallocated\"\n\
         [factors]\nversion = \"2026.1\"\noverrides = \"over\"\n",
    );
    if exclude {
        toml.push_str(
            "[[exclude]]\ncost_centre = \"proj_labs\"\nreason = \"internal test project\"\n",
        );
    }
    toml
}

#[test]
fn every_setting_is_reported_with_what_it_changed() {
    // The OpenAI sample in 2026Q1 (counted from the CSV itself): proj_support_bot 157 rows, one
    // rejected ("n/a" input tokens) = 156 records; proj_analytics 157, one rejected (negative
    // tokens) = 156; proj_search 79, one rejected (no model) = 78; proj_labs 56, one rejected
    // (start_time 2026-02-30) = 55; the blank and total rows are skipped.
    let dir = tempfile::tempdir().unwrap();
    let o = with_config(dir.path(), &full_config(dir.path(), true), "2026Q1");
    let c = &o.config;
    assert_eq!(
        c.file.as_deref(),
        Some(dir.path().join("llm-scope3.toml").to_str().unwrap())
    );
    assert_eq!(c.entity.as_deref(), Some("Acme"));
    assert_eq!(c.currency.as_deref(), Some("EUR"));
    assert_eq!(c.fiscal_year_start_month, Some(1));
    assert_eq!(c.base_year, Some(2024));
    // Every kept record lacks a region: 156 + 156 + 78 = 390 get swedencentral (the 55
    // excluded ones are not counted).
    assert_eq!(c.regions.len(), 1);
    assert_eq!(c.regions[0].records, 390);
    // proj_support* maps 156; the catch-all the rest: 156 + 78 = 234.
    let mapped: Vec<u64> = c.cost_centres.iter().map(|r| r.records).collect();
    assert_eq!(mapped, vec![156, 234]);
    assert_eq!(c.exclusions.len(), 1);
    assert_eq!(c.exclusions[0].rows, 55);
    assert_eq!(o.files[0].counts.excluded, 55);
    // The tCO2e excluded is what the same configuration without the exclusion adds.
    let dir2 = tempfile::tempdir().unwrap();
    let all = with_config(dir2.path(), &full_config(dir2.path(), false), "2026Q1");
    let kg = c.exclusions[0].emissions_kgco2e;
    for (x, a, b) in [
        (
            kg.low,
            all.summary.totals.emissions_kgco2e.low,
            o.summary.totals.emissions_kgco2e.low,
        ),
        (
            kg.central,
            all.summary.totals.emissions_kgco2e.central,
            o.summary.totals.emissions_kgco2e.central,
        ),
        (
            kg.high,
            all.summary.totals.emissions_kgco2e.high,
            o.summary.totals.emissions_kgco2e.high,
        ),
    ] {
        assert!(x > 0.0);
        crate::common::assert_close(x, a - b, 1e-9, "excluded kgCO2e");
    }
    assert!(all.config.exclusions.is_empty());
    let ov = c.factor_overrides.as_ref().unwrap();
    assert_eq!(ov.folder, "over");
    assert_eq!(
        ov.rows,
        vec!["grid.csv:azure:swedencentral/2024".to_string()]
    );
    assert!(c.factor_version.as_deref() == Some("2026.1") && !c.factor_version_overridden);
}

#[test]
fn the_terminal_cover_and_json_name_the_file_and_each_change() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("llm-scope3.toml"),
        full_config(dir.path(), true),
    )
    .unwrap();
    let out = stdout(
        bin_in(dir.path())
            .args(["report", "--quarter", "2026Q1", "--as-of", "2026-04-15"])
            .args(["--out", "r.xlsx", "--json", "r.json", "--entity", "Acme SE"])
            .arg(root().join(OPENAI))
            .assert()
            .success(),
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    let kg = &v["configuration"]["exclusions"][0]["emissions_kgco2e"];
    let t = |k: &str| llm_scope3::report::configuration::tonnes(kg[k].as_f64().unwrap());
    let expected = [
        "Configuration: llm-scope3.toml".to_string(),
        "  entity: Acme (not used: the entity given for this report replaces it)".into(),
        "  fiscal year starts in January (the calendar year)".into(),
        "  default region openai = swedencentral: given to 390 record(s) without one".into(),
        "  cost centre rule \"proj_support*\" -> Customer Service: 156 record(s)".into(),
        "  cost centre rule \"*\" -> Unallocated: 234 record(s)".into(),
        format!(
            "  excluded cost centre \"proj_labs\" (internal test project): 55 row(s), {} tCO2e central (low {}, high {}) not in the totals",
            t("central"), t("low"), t("high")
        ),
        "  factor set 2026.1".into(),
        "  factor overrides from over: 1 row(s) replaced or added (grid.csv:azure:swedencentral/2024), marked OVERRIDDEN on the Factors sheet".into(),
        "  currency EUR: spend also shown in EUR, converted at the factor set's annual exchange rates; the amounts as exported are kept beside it".into(),
        "  base year 2024: recorded only".into(),
    ]
    .join("\n");
    assert!(out.contains(&format!("{expected}\n")), "{out}");
    let c = &v["configuration"];
    assert_eq!(c["file"], "llm-scope3.toml");
    assert_eq!(c["entity_overridden"], true);
    assert_eq!(c["regions"][0]["records"], 390);
    assert_eq!(c["cost_centres"][0]["match"], "proj_support*");
    assert_eq!(c["cost_centres"][1]["records"], 234);
    assert_eq!(c["exclusions"][0]["rows"], 55);
    assert_eq!(c["excluded_rows"], 55);
    assert_eq!(c["excluded_kgco2e"], *kg);
    let cover = sheet_text(&dir.path().join("r.xlsx"), "Cover");
    let at = cover
        .iter()
        .position(|c| c == "Configuration changes")
        .unwrap();
    let lines: Vec<&str> = expected.lines().skip(1).map(str::trim_start).collect();
    assert_eq!(cover[at + 1], lines.join("\n"));

    // With --format csv the override line points at factors.csv, where the row is marked.
    let out = stdout(
        bin_in(dir.path())
            .args(["report", "--quarter", "2026Q1", "--as-of", "2026-04-15"])
            .args(["--format", "csv", "--out", "tables"])
            .arg(root().join(OPENAI))
            .assert()
            .success(),
    );
    assert!(
        out.contains("  factor overrides from over: 1 row(s) replaced or added (grid.csv:azure:swedencentral/2024), marked OVERRIDDEN in factors.csv\n"),
        "{out}"
    );
    assert!(!out.contains("sheet"), "{out}");
    let factors = std::fs::read_to_string(dir.path().join("tables/factors.csv")).unwrap();
    assert!(
        factors
            .lines()
            .any(|l| l.starts_with("grid:azure:swedencentral:2024,") && l.contains("OVERRIDDEN")),
        "{factors}"
    );
}
