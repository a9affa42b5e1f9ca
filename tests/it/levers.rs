//! Levers (#22 item 3): what-if scenarios from the command line and the config file, worked
//! by hand on the one-row OpenAI fixture (estimate_cases.rs; default factor set 2026.2):
//! gpt-4o-2024-08-06, 1,000,000 input tokens (200,000 cached), 500,000 output, country:USA,
//! OpenAI PUE central 1.18, grid central 384.4 g/kWh, embodied 50 g/kWh IT, k_cache 0.1.
//! K = 1000 · 2e9 / 989e12 · 1275 · 0.7 / 3600 = 5.013481631e-4 Wh per 1k tokens per B.
//!
//! move 50% gpt-4o to gpt-4o-mini (central):
//!   gpt-4o    (P_mid = sqrt(44 · 132) = 76.21024): e_out = K · 76.21024 / 0.1 = 0.38207862,
//!             e_in = K · 76.21024 / 0.4 = 0.09551965; E_IT = (500,000 · 0.38207862 +
//!             800,000 · 0.09551965 + 200,000 · 0.1 · 0.09551965) / 1e6 = 0.269365424252 kWh
//!   gpt-4o-mini (P_mid = sqrt(8 · 28) = 14.966630): e_out = 0.07503492, e_in = 0.01875873;
//!             E_IT = (37,517.461 + 15,006.985 + 375.175) / 1e6 = 0.0528996202331 kWh
//!   ΔE_IT = 0.5 · (0.0528996202331 − 0.269365424252) = −0.108232902009 kWh
//!   ΔkgCO2e = ΔE_IT · (PUE · grid + embodied) = −0.108232902009 · (1.18 · 0.3844 + 0.050)
//!           = −0.108232902009 · 0.503592 = −0.0545052235887 kg
//!   ΔkWh (facility) = −0.108232902009 · 1.18 = −0.127714824371 kWh
//! cache 25% of input: 800,000 uncached → 200,000 more read from the cache:
//!   ΔE_IT = 200,000 · 0.09551965 · (0.1 − 1) / 1e6 = −0.0171935377182 kWh
//!   ΔkgCO2e = −0.0171935377182 · 0.503592 = −0.00865852804659 kg

use crate::common::{assert_close, bin_in, fixture, root};

const REL: f64 = 1e-9;

fn json_of(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("r.json")).unwrap()).unwrap()
}

#[test]
fn two_what_ifs_by_hand_on_the_terminal_in_json_and_on_the_levers_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let a = bin_in(dir.path())
        .arg("report")
        .arg(fixture("openai_usage_one_row.csv"))
        .args(["--quarter", "2026Q1", "--as-of", "2026-04-15"])
        .args(["--out", "r.xlsx", "--json", "r.json"])
        .args(["--what-if", "move 50% gpt-4o to gpt-4o-mini"])
        .args(["--what-if", "cache 25% of input"])
        .assert()
        .success();
    let out = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(
        out.contains(
            "What if 50% of the gpt-4o tokens served by gpt-4o-mini instead: -0.055 kgCO2e central"
        ),
        "{out}"
    );
    let v = json_of(dir.path());
    let w = v["what_if"].as_array().unwrap();
    assert_eq!(w.len(), 2);
    let n = |x: &serde_json::Value| x.as_f64().unwrap();
    assert_eq!(w[0]["kind"], "move");
    assert_eq!(w[0]["share"], 0.5);
    assert_eq!(w[0]["lines"], 1);
    assert_close(
        n(&w[0]["delta_kgco2e"]["central"]),
        -0.0545052235887,
        REL,
        "move kg",
    );
    assert_close(
        n(&w[0]["delta_energy_kwh"]["central"]),
        -0.127714824371,
        REL,
        "move kWh",
    );
    // The reported figure does not move; the scenario's total is it plus the change.
    let total = n(&v["totals"]["emissions_kgco2e"]["central"]);
    assert_close(total, 0.13565027273, REL, "reported");
    assert_close(
        n(&w[0]["total_after_kgco2e"]["central"]),
        0.13565027273 - 0.0545052235887,
        REL,
        "had it been so",
    );
    // Every bound is a saving here: the smaller model uses less energy at every bound.
    assert!(n(&w[0]["delta_kgco2e"]["low"]) < 0.0 && n(&w[0]["delta_kgco2e"]["high"]) < 0.0);
    assert_eq!(w[1]["kind"], "cache");
    assert_close(
        n(&w[1]["delta_kgco2e"]["central"]),
        -0.00865852804659,
        REL,
        "cache kg",
    );

    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");

    // The Levers sheet: one row per scenario, tCO2e change central in E.
    use calamine::{open_workbook_auto, Reader};
    let mut wb = open_workbook_auto(dir.path().join("r.xlsx")).unwrap();
    let s = wb.worksheet_range("Levers").unwrap();
    let row = s
        .rows()
        .find(|r| r[0] == "move 50% gpt-4o to gpt-4o-mini")
        .unwrap();
    assert_close(
        crate::common::cell_f64(&row[4]),
        -0.0545052235887 / 1000.0,
        REL,
        "sheet tCO2e",
    );
    assert_close(
        crate::common::cell_f64(&row[6]),
        -0.0545052235887 / 0.13565027273,
        REL,
        "share of the total",
    );
}

#[test]
fn scenarios_come_from_the_config_file_and_a_bad_one_is_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("llm-scope3.toml"),
        "[levers]\nwhat_if = [\"cache 25% of input for gpt-4o\", \"region openai swedencentral\"]\n",
    )
    .unwrap();
    bin_in(dir.path())
        .arg("report")
        .arg(fixture("openai_usage_one_row.csv"))
        .args(["--quarter", "2026Q1", "--as-of", "2026-04-15"])
        .args(["--out", "r.xlsx", "--json", "r.json"])
        .assert()
        .success();
    let v = json_of(dir.path());
    let w = v["what_if"].as_array().unwrap();
    assert_eq!(w.len(), 2);
    assert_close(
        w[0]["delta_kgco2e"]["central"].as_f64().unwrap(),
        -0.00865852804659,
        REL,
        "cache for gpt-4o",
    );
    assert_eq!(w[1]["kind"], "region");
    assert_eq!(w[1]["lines"], 1);

    for (spec, says) in [
        ("move 150% gpt-4o to gpt-4o-mini", "at most 100"),
        ("make it greener", "not a scenario this tool knows"),
    ] {
        let a = bin_in(dir.path())
            .arg("report")
            .arg(fixture("openai_usage_one_row.csv"))
            .args(["--quarter", "2026Q1", "--out", "x.xlsx", "--what-if", spec])
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(
            err.contains(says) && err.contains("write it as one of"),
            "{err}"
        );
        assert!(!dir.path().join("x.xlsx").exists());
    }
}

#[test]
fn a_name_the_factor_set_does_not_know_moves_only_its_own_lines() {
    // The OpenAI usage sample bills acme-internal-preview (unknown: estimated from a size
    // class, like no other line) on one line, and gpt-4o-mini-2024-07-18 on three (one a
    // month). An unknown name that is not exported moves nothing.
    let dir = tempfile::tempdir().unwrap();
    bin_in(dir.path())
        .arg("report")
        .arg(root().join("samples/openai_completions_usage_2026-01-01_2026-03-31.csv"))
        .args(["--quarter", "2026Q1", "--as-of", "2026-04-15"])
        .args(["--out", "r.xlsx", "--json", "r.json"])
        .args([
            "--what-if",
            "move 100% acme-internal-preview to gpt-4o-mini",
        ])
        .args(["--what-if", "move 50% no-such-model-9000 to gpt-4o-mini"])
        .args(["--what-if", "cache 30% of input for no-such-model-9000"])
        .args(["--what-if", "move 50% gpt-4o-mini to gpt-4o"])
        .assert()
        .success();
    let v = json_of(dir.path());
    let w = v["what_if"].as_array().unwrap();
    assert_eq!(w[0]["lines"], 1);
    assert_eq!(w[1]["lines"], 0);
    assert!(w[1]["notes"][0]
        .as_str()
        .unwrap()
        .starts_with("no line of this report with tokens is billed for no-such-model-9000"));
    assert_eq!(w[1]["delta_kgco2e"]["central"], 0.0);
    assert_eq!(w[2]["lines"], 0);
    let mini_lines = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["model_key"] == "gpt-4o-mini")
        .count();
    assert_eq!(w[3]["lines"], mini_lines);
    // A larger model costs more: a positive change.
    assert!(w[3]["delta_kgco2e"]["central"].as_f64().unwrap() > 0.0);
}

#[test]
fn the_csv_output_has_the_levers_and_the_per_request_tables() {
    // The move of the first test above: -0.0545052235887 kg central; one request of the
    // one-row fixture: 0.317851200617 Wh central (per_request.rs).
    let dir = tempfile::tempdir().unwrap();
    bin_in(dir.path())
        .arg("report")
        .arg(fixture("openai_usage_one_row.csv"))
        .args([
            "--quarter",
            "2026Q1",
            "--as-of",
            "2026-04-15",
            "--format",
            "csv",
        ])
        .args(["--out", "t", "--what-if", "move 50% gpt-4o to gpt-4o-mini"])
        .assert()
        .success();
    let read = |name: &str| -> Vec<Vec<String>> {
        let mut r = csv::Reader::from_path(dir.path().join("t").join(name)).unwrap();
        r.records()
            .map(|x| x.unwrap().iter().map(str::to_string).collect())
            .collect()
    };
    let levers = read("levers.csv");
    assert_eq!(levers.len(), 1);
    assert_eq!(levers[0][0], "move 50% gpt-4o to gpt-4o-mini");
    assert_close(
        levers[0][4].parse().unwrap(),
        -0.0545052235887,
        REL,
        "levers.csv",
    );
    let pr = read("per_request.csv");
    // The one group, then the average request.
    assert_eq!(pr.len(), 2);
    assert_eq!(pr[1][0], "all");
    assert_close(
        pr[0][7].parse().unwrap(),
        0.317851200617,
        REL,
        "per_request.csv",
    );
}
