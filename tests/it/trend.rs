//! Periods and intensity (#20 item 5): the Trend sheet of a ledger report, the management
//! metrics (intensity ratios) and the preparer's commentary (`report --note`).
//!
//! The one-row OpenAI fixture (tests/fixtures/openai_usage_one_row.csv, 2026-01-15) is worked
//! by hand in estimate_cases.rs: with the default factor set 2026.2 it emits
//! 0.13565027273 kgCO2e central (low 0.0198435157145, high 1.16508968311) for 1,000 requests,
//! 1,000,000 input tokens (200,000 cached) and 500,000 output tokens. The trend fixtures copy
//! that row to 2026-04-15 (same counts) and to 2025-04-15 with every count halved. The
//! estimate is linear in the tokens and 2025 usage takes the same factors as 2026 (the grid is
//! Ember 2025 for both: the nearest year not after the usage year), so the halved row emits
//! half: 0.067825136365 kg.

use std::path::Path;

use calamine::{open_workbook_auto_from_rs, Data, Reader};
use chrono::{TimeZone, Utc};
use llm_scope3::config::{Config, PeriodRequest, ReadRequest};
use llm_scope3::ledger::Ledger;
use llm_scope3::pipeline::{self, Outcome};
use llm_scope3::report::{json, workbook};

use crate::common::{assert_close, bin_in, config, fixture, root, run};

const REL: f64 = 1e-9;
/// kgCO2e central of the one-row fixture (estimate_cases.rs, factor set 2026.2).
const ROW_KG: f64 = 0.13565027273;
const ROW_KG_LOW: f64 = 0.0198435157145;
const ROW_KG_HIGH: f64 = 1.16508968311;

fn import(l: &mut Ledger, path: &Path) {
    let cfg = config("2026Q1");
    let input = pipeline::Input {
        path: path.to_path_buf(),
        name: path.display().to_string(),
    };
    pipeline::import_file(
        l,
        &input,
        &cfg.templates,
        None,
        Utc.with_ymd_and_hms(2026, 7, 15, 0, 0, 0).unwrap(),
        llm_scope3::ingest::Progress::Hidden,
    )
    .unwrap();
}

/// A ledger holding the three rows: 2026-01-15, 2026-04-15 and the halved 2025-04-15.
fn three_quarters(dir: &Path) -> Ledger {
    let mut l = Ledger::open(&dir.join("l.db")).unwrap();
    import(&mut l, &fixture("openai_usage_one_row.csv"));
    import(&mut l, &fixture("trend/openai_usage_one_row_2026-04.csv"));
    import(
        &mut l,
        &fixture("trend/openai_usage_one_row_half_2025-04.csv"),
    );
    l
}

/// A configuration for `quarter` with the config file `toml` (written into `dir`).
fn config_with(dir: &Path, quarter: &str, toml: &str) -> Config {
    let path = dir.join("llm-scope3.toml");
    std::fs::write(&path, toml).unwrap();
    Config::new(
        &PeriodRequest::quarter(quarter),
        &ReadRequest {
            config: Some(path),
            ..ReadRequest::default()
        },
        Some("2026-07-15"),
        Some("Test Entity"),
    )
    .unwrap()
}

fn num(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("expected a number, found {other:?}"),
    }
}

fn text(d: &Data) -> String {
    d.to_string()
}

/// The workbook of `o` read back: its sheet names and one sheet's cells.
fn sheet(o: &Outcome, cfg: &Config, name: &str) -> (Vec<String>, calamine::Range<Data>) {
    let bytes = workbook::build(o, &cfg.factors).unwrap();
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let names = wb.sheet_names();
    let range = wb.worksheet_range(name).unwrap();
    (names, range)
}

fn row_of<'r>(range: &'r calamine::Range<Data>, label: &str) -> &'r [Data] {
    range
        .rows()
        .find(|r| r.first().map(text).as_deref() == Some(label))
        .unwrap_or_else(|| panic!("no row {label}"))
}

#[test]
fn intensity_per_million_tokens_and_per_employee_from_one_row_by_hand() {
    // 0.13565027273 kg over 1,000,000 input + 500,000 output = 1,500,000 tokens:
    //   per million tokens = 0.13565027273 / 1.5 = 0.0904335151533 kg
    //   per 1,000 requests = 0.13565027273 / (1,000 / 1,000) = 0.13565027273 kg
    // Config: net revenue 1,200,000 EUR a year, 2026Q1 = 3/12 of it = 300,000 EUR = 0.3 million:
    //   per million EUR = 0.13565027273 / 0.3 = 0.452167575767 kg
    // 10 employees: per employee = 0.013565027273 kg
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_with(
        dir.path(),
        "2026Q1",
        "[entity]\nnet_revenue = 1200000\nrevenue_currency = \"eur\"\nemployees = 10\n",
    );
    let (inputs, skipped) =
        pipeline::inputs_from_paths(&[fixture("openai_usage_one_row.csv")]).unwrap();
    let o = pipeline::run(&inputs, skipped, &cfg).unwrap();
    let m = llm_scope3::report::intensity::metrics(&o);
    let keys: Vec<&str> = m.iter().map(|m| m.metric).collect();
    // No spend in a usage export: no spend metric.
    assert_eq!(
        keys,
        [
            "per_million_tokens",
            "per_thousand_requests",
            "per_million_net_revenue",
            "per_employee"
        ]
    );
    assert_close(m[0].value, 0.0904335151533, REL, "per million tokens");
    assert_eq!(m[0].denominator, 1_500_000.0);
    assert_close(m[1].value, ROW_KG, REL, "per 1,000 requests");
    assert_close(m[2].value, 0.452167575767, REL, "per million EUR");
    assert_eq!(m[2].denominator, 300_000.0);
    assert_eq!(m[2].label, "kgCO2e per million EUR of net revenue");
    assert_close(m[3].value, 0.013565027273, REL, "per employee");
    assert!(
        m[0].basis.contains("over 1,500,000 tokens"),
        "{}",
        m[0].basis
    );
    assert_eq!(llm_scope3::report::intensity::grouped(1234.5), "1,234.5");
    assert_eq!(llm_scope3::report::intensity::grouped(999.999), "1,000");

    // The Summary's "Management metrics" block shows them in the N column (G).
    let (names, s) = sheet(&o, &cfg, "E1-6 Summary");
    assert!(!names.iter().any(|n| n == "Trend"), "{names:?}");
    assert_eq!(names, workbook::SHEETS);
    let heading = s
        .rows()
        .position(|r| r.first().map(text).as_deref() == Some("Management metrics"))
        .expect("the block");
    let caveat = text(&s.rows().nth(heading + 1).unwrap()[0]);
    assert!(caveat.contains("not the GHG intensity per net revenue of ESRS E1-6 §53"));
    let tokens = row_of(&s, "kgCO2e per million tokens");
    assert_close(
        num(&tokens[6]),
        0.0904335151533,
        REL,
        "sheet per million tokens",
    );
    assert_eq!(text(&tokens[8]), "kgCO2e");
    let revenue = row_of(&s, "kgCO2e per million EUR of net revenue");
    assert_close(
        num(&revenue[6]),
        0.452167575767,
        REL,
        "sheet per million EUR",
    );
    assert!(
        text(&revenue[1]).contains("annual net revenue of 1,200,000 EUR × 3/12"),
        "{revenue:?}"
    );

    // The JSON carries them, and the configuration what the file set.
    let v: serde_json::Value = serde_json::from_str(&json::to_string(&o).unwrap()).unwrap();
    assert_eq!(v["management_metrics"][0]["metric"], "per_million_tokens");
    assert_close(
        v["management_metrics"][0]["value"].as_f64().unwrap(),
        0.0904335151533,
        1e-11,
        "JSON per million tokens",
    );
    assert_eq!(v["configuration"]["net_revenue"]["currency"], "EUR");
    assert_eq!(v["configuration"]["employees"], 10.0);
    assert!(v.get("trend").is_none() && v.get("note").is_none());
    validate(&v);
}

#[test]
fn spend_intensity_is_per_currency_over_the_lines_with_that_spend() {
    // The OpenAI cost sample: every estimated line's spend is in USD, so the metric is the
    // central kgCO2e of those lines over their USD, per 1,000 (a ratio of two sums, checked
    // here against the lines themselves).
    let o = run(
        &[&root().join("samples/openai_cost_2026-01-01_2026-03-31.csv")],
        "2026Q1",
    )
    .unwrap();
    let (mut kg, mut usd) = (0.0, 0.0);
    for l in &o.summary.lines {
        if let Some(a) = l.body.spend.get("USD") {
            assert_eq!(l.body.spend.len(), 1);
            kg += l.body.estimate.emissions_kgco2e.central;
            usd += a;
        }
    }
    assert!(usd > 0.0);
    let m = llm_scope3::report::intensity::metrics(&o);
    let spend: Vec<_> = m
        .iter()
        .filter(|m| m.metric == "per_thousand_spend")
        .collect();
    assert_eq!(spend.len(), 1);
    assert_eq!(spend[0].unit, "USD");
    assert_eq!(spend[0].label, "kgCO2e per 1,000 USD of spend");
    assert_close(spend[0].value, kg / (usd / 1000.0), 1e-12, "per 1,000 USD");
}

#[test]
fn the_trend_sheet_shows_each_quarter_the_year_to_date_and_a_year_earlier() {
    // Report 2026Q2 from a ledger with 2026-01-15, 2026-04-15 and the halved 2025-04-15:
    //   2026 Q1 = 0.13565027273 kg = 0.00013565027273 t (low 0.0000198435157145 t, high
    //            0.00116508968311 t); a year earlier (2025Q1): no records
    //   2026 Q2 = 0.00013565027273 t; 2025Q2 = 0.067825136365 kg = 0.000067825136365 t;
    //            change = 0.13565027273 / 0.067825136365 - 1 = +100 %
    //   Q3, Q4: after the reported period, not computed
    //   Year to date (2026-01-01 to 2026-06-30) = 2 × 0.13565027273 = 0.27130054546 kg;
    //            a year earlier (2025-01-01 to 2025-06-30) = 0.067825136365 kg; change +300 %
    //   Q2 per million tokens = 0.13565027273 / 1.5 = 0.0904335151533 kg; per 1,000 requests
    //            = 0.13565027273 kg
    let dir = tempfile::tempdir().unwrap();
    let l = three_quarters(dir.path());
    let cfg = config("2026Q2");
    let o = pipeline::run_ledger(&l, &cfg).unwrap();
    // The trend's 2026Q2 a year earlier is the report's own comparative period (one path).
    let (_, n1) = o.ledger.as_ref().unwrap().comparative.clone().unwrap();
    assert_close(n1.emissions_kgco2e.central, ROW_KG / 2.0, REL, "N-1");

    let (names, t) = sheet(&o, &cfg, "Trend");
    assert_eq!(names, workbook::sheet_names(&o));
    let at = names.iter().position(|n| n == "Trend").unwrap();
    assert_eq!(names[at - 1], "Periods");
    assert!(text(&t.rows().next().unwrap()[0])
        .starts_with("Trend: fiscal year 2026 (2026-01-01 to 2026-12-31)"));

    let q1 = row_of(&t, "2026 Q1");
    assert_eq!(
        (text(&q1[1]), text(&q1[2])),
        ("2026-01-01".into(), "2026-03-31".into())
    );
    assert_eq!(num(&q1[3]), 1.0);
    assert_close(num(&q1[4]), ROW_KG / 1000.0, REL, "Q1 central");
    assert_close(num(&q1[5]), ROW_KG_LOW / 1000.0, REL, "Q1 low");
    assert_close(num(&q1[6]), ROW_KG_HIGH / 1000.0, REL, "Q1 high");
    assert_eq!(q1[7], Data::Empty);
    assert!(text(&q1[11]).contains("a year earlier (2025-01-01 to 2025-03-31): no records"));

    let q2 = row_of(&t, "2026 Q2");
    // The current quarter is the report's own figure (one path).
    assert_close(
        num(&q2[4]),
        o.summary.totals.emissions_kgco2e.central / 1000.0,
        1e-12,
        "Q2 = E1-6",
    );
    assert_close(num(&q2[4]), ROW_KG / 1000.0, REL, "Q2 central");
    assert_close(num(&q2[7]), ROW_KG / 2.0 / 1000.0, REL, "Q2 a year earlier");
    assert_close(num(&q2[8]), 1.0, REL, "Q2 change +100 %");
    assert_close(num(&q2[9]), 0.0904335151533, REL, "Q2 per million tokens");
    assert_close(num(&q2[10]), ROW_KG, REL, "Q2 per 1,000 requests");

    for q in ["2026 Q3", "2026 Q4"] {
        let r = row_of(&t, q);
        assert_eq!(r[4], Data::Empty, "{q}");
        assert!(text(&r[11]).starts_with("after the reported period"), "{q}");
    }
    let ytd = row_of(&t, "Year to date");
    assert_eq!(
        (text(&ytd[1]), text(&ytd[2])),
        ("2026-01-01".into(), "2026-06-30".into())
    );
    assert_eq!(num(&ytd[3]), 2.0);
    assert_close(num(&ytd[4]), 2.0 * ROW_KG / 1000.0, REL, "YTD central");
    assert_close(
        num(&ytd[7]),
        ROW_KG / 2.0 / 1000.0,
        REL,
        "YTD a year earlier",
    );
    assert_close(num(&ytd[8]), 3.0, REL, "YTD change +300 %");

    // The Cover names the sheet; the JSON has the same figures.
    let (_, cover) = sheet(&o, &cfg, "Cover");
    assert!(text(&row_of(&cover, "Sheets")[1]).contains("Trend (the fiscal year by quarter"));
    let v: serde_json::Value = serde_json::from_str(&json::to_string(&o).unwrap()).unwrap();
    let tr = &v["trend"];
    assert_eq!(tr["fiscal_year"], "2026");
    assert_eq!(tr["quarters"].as_array().unwrap().len(), 4);
    assert_eq!(tr["quarters"][2]["computed"], false);
    assert_close(
        tr["quarters"][1]["change_central"].as_f64().unwrap(),
        1.0,
        1e-11,
        "JSON Q2 change",
    );
    assert_close(
        tr["year_to_date"]["emissions_kgco2e"]["central"]
            .as_f64()
            .unwrap(),
        2.0 * ROW_KG,
        1e-11,
        "JSON YTD",
    );
    validate(&v);
}

#[test]
fn a_fiscal_year_from_april_starts_the_trend_in_april() {
    // fiscal_year_start_month = 4: --quarter 2026Q1 is 2026-04-01 to 2026-06-30 and the fiscal
    // year FY2026 runs 2026-04-01 to 2027-03-31. The January 2026 row is in FY2025, so the
    // year to date (2026-04-01 to 2026-06-30) holds the April row alone: 0.13565027273 kg; a
    // year earlier (2025-04-01 to 2025-06-30) the halved row: change +100 %.
    let dir = tempfile::tempdir().unwrap();
    let l = three_quarters(dir.path());
    let cfg = config_with(
        dir.path(),
        "2026Q1",
        "[entity]\nfiscal_year_start_month = 4\n",
    );
    let o = pipeline::run_ledger(&l, &cfg).unwrap();
    let (_, t) = sheet(&o, &cfg, "Trend");
    let q1 = row_of(&t, "FY2026 Q1");
    assert_eq!(
        (text(&q1[1]), text(&q1[2])),
        ("2026-04-01".into(), "2026-06-30".into())
    );
    assert_close(num(&q1[4]), ROW_KG / 1000.0, REL, "FY Q1");
    let q4 = row_of(&t, "FY2026 Q4");
    assert_eq!(
        (text(&q4[1]), text(&q4[2])),
        ("2027-01-01".into(), "2027-03-31".into())
    );
    let ytd = row_of(&t, "Year to date");
    assert_close(num(&ytd[4]), ROW_KG / 1000.0, REL, "FY YTD");
    assert_close(num(&ytd[8]), 1.0, REL, "FY YTD change");
}

#[test]
fn the_note_is_on_the_cover_as_text_and_in_the_json_and_no_ledger_means_no_trend() {
    // A note that a spreadsheet would run as a formula stays text on the Cover.
    let dir = tempfile::tempdir().unwrap();
    let note = "=HYPERLINK(\"http://x\",\"Q1: usage doubled after the support bot launch\")";
    bin_in(dir.path())
        .args(["report", "--quarter", "2026Q1", "--as-of", "2026-04-15"])
        .arg(fixture("openai_usage_one_row.csv"))
        .args(["--out", "r.xlsx", "--json", "r.json", "--note", note])
        .assert()
        .success();
    let bytes = std::fs::read(dir.path().join("r.xlsx")).unwrap();
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert!(!wb.sheet_names().iter().any(|n| n == "Trend"));
    let cover = wb.worksheet_range("Cover").unwrap();
    let row = row_of(&cover, "Commentary");
    assert_eq!(row[1], Data::String(note.into()));
    let formulas = wb.worksheet_formula("Cover").unwrap();
    assert!(
        formulas.rows().flatten().all(|f| f.is_empty()),
        "a formula on the Cover"
    );
    let sheets = text(&row_of(&cover, "Sheets")[1]);
    assert!(!sheets.contains("Trend"), "{sheets}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(v["note"], note);
    assert!(v.get("trend").is_none());
    validate(&v);
}

fn validate(v: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    // Broken figures fail: the new fields are described, not merely allowed.
    if v.get("management_metrics").is_some() {
        let mut broken = v.clone();
        broken["management_metrics"][0]["value"] = serde_json::json!("a lot");
        assert!(!validator.is_valid(&broken));
    }
    if v.get("trend").is_some() {
        let mut broken = v.clone();
        broken["trend"]["quarters"][0]["records"] = serde_json::json!(-1);
        assert!(!validator.is_valid(&broken));
    }
}

#[test]
fn entity_figures_must_be_positive_and_revenue_needs_a_currency() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |toml: &str| {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, toml).unwrap();
        Config::new(
            &PeriodRequest::quarter("2026Q1"),
            &ReadRequest {
                config: Some(path),
                ..ReadRequest::default()
            },
            None,
            None,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
    };
    assert!(refused("[entity]\nemployees = 0\n")
        .contains("employees under [entity] must be a number above 0"));
    assert!(refused("[entity]\nnet_revenue = 5e6\n").contains("needs its currency"));
    assert!(refused("[entity]\nrevenue_currency = \"EUR\"\n").contains("set net_revenue too"));
    // With `currency` alone, net revenue is in it.
    let cfg = config_with(
        dir.path(),
        "2026Q1",
        "[entity]\ncurrency = \"chf\"\nnet_revenue = 5e6\n",
    );
    assert_eq!(cfg.settings.net_revenue.as_ref().unwrap().currency, "CHF");
}

#[test]
fn the_csv_output_has_the_trend_the_management_metrics_and_the_note() {
    // The ledger report of 2026Q2 above (trend sheet test), written with --format csv:
    // trend.csv holds the Trend sheet's rows (2026 Q2: 0.00013565027273 t, a year earlier
    // 0.000067825136365 t, change +100 %, 0.0904335151533 kg per million tokens); summary.csv
    // holds the note and the management metrics (per million tokens: 0.13565027273 kg /
    // 1.5 million tokens = 0.0904335151533; per 1,000 requests: 0.13565027273 / 1 =
    // 0.13565027273).
    let dir = tempfile::tempdir().unwrap();
    drop(three_quarters(dir.path()));
    let out = dir.path().join("csv");
    let ledger = dir.path().join("l.db");
    bin_in(dir.path())
        .args(["report", "--ledger"])
        .arg(&ledger)
        .args([
            "--quarter",
            "2026Q2",
            "--as-of",
            "2026-07-15",
            "--format",
            "csv",
        ])
        .args(["--note", "Q2 figures reviewed with IT", "-o"])
        .arg(&out)
        .assert()
        .success();
    let read = |name: &str| -> Vec<Vec<String>> {
        let mut r = csv::Reader::from_path(out.join(name)).unwrap();
        r.records()
            .map(|x| x.unwrap().iter().map(str::to_string).collect())
            .collect()
    };
    let trend = read("trend.csv");
    let labels: Vec<&str> = trend.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        labels,
        ["2026 Q1", "2026 Q2", "2026 Q3", "2026 Q4", "Year to date"]
    );
    let q2 = &trend[1];
    assert_eq!(
        (q2[1].as_str(), q2[2].as_str()),
        ("2026-04-01", "2026-06-30")
    );
    let f = |s: &str| s.parse::<f64>().unwrap();
    assert_close(f(&q2[5]), ROW_KG / 1000.0, REL, "Q2 t");
    assert_close(f(&q2[10]), ROW_KG / 2.0 / 1000.0, REL, "Q2 a year earlier");
    assert_close(f(&q2[11]), 100.0, REL, "Q2 change %");
    assert_close(f(&q2[12]), 0.0904335151533, REL, "Q2 per million tokens");
    assert_close(f(&q2[13]), ROW_KG, REL, "Q2 per 1,000 requests");
    assert_eq!(trend[2][3], "no: after the period");
    assert_eq!(trend[2][5], "");
    assert_close(f(&trend[4][11]), 300.0, REL, "YTD change %");

    let summary = read("summary.csv");
    let row = |figure: &str| {
        summary
            .iter()
            .find(|r| r[0] == figure)
            .unwrap_or_else(|| panic!("no {figure} in {summary:?}"))
            .clone()
    };
    assert_eq!(row("Commentary")[1], "Q2 figures reviewed with IT");
    let m = row("Management metric: kgCO2e per million tokens");
    assert_close(f(&m[1]), 0.0904335151533, REL, "per million tokens");
    assert!(m[5].contains("not the E1-6 §53 intensity"), "{m:?}");
    let m = row("Management metric: kgCO2e per 1,000 requests");
    assert_close(f(&m[1]), ROW_KG, REL, "per 1,000 requests");

    // Without a ledger trend.csv has its header only (no stale rows in a reused folder).
    bin_in(dir.path())
        .arg("report")
        .arg(fixture("openai_usage_one_row.csv"))
        .args([
            "--quarter",
            "2026Q1",
            "--as-of",
            "2026-07-15",
            "--format",
            "csv",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    assert!(read("trend.csv").is_empty());
}

#[test]
fn the_next_four_quarters_are_projected_by_a_line_through_the_ledger_s_quarters() {
    // Report 2026Q2 from the ledger of the trend sheet test (R = 0.13565027273 kg):
    // points (t = quarter, a year earlier 0..3, this fiscal year 4..7):
    //   2025Q2 (t 1): R/2; 2026Q1 (t 4): R; 2026Q2 (t 5): R   (2025Q1 holds no record)
    //   mean t = 10/3, mean y = 5R/6; Sxx = 26/3; Sxy = 7R/6
    //   slope = (7/6)/(26/3) R = 7R/52 per quarter; intercept = 5R/6 - 7R/52 · 10/3 = 5R/13
    //   2026 Q3 (t 6) = 5R/13 + 42R/52 = 62R/52; Q4 (t 7) = 69R/52;
    //   2027 Q1 (t 8) = 76R/52; 2027 Q2 (t 9) = 83R/52
    let dir = tempfile::tempdir().unwrap();
    let l = three_quarters(dir.path());
    let cfg = config("2026Q2");
    let o = pipeline::run_ledger(&l, &cfg).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json::to_string(&o).unwrap()).unwrap();
    let p = &v["trend"]["projection"];
    assert_eq!(p["points"], 3);
    assert_close(
        p["slope_kgco2e_per_quarter"].as_f64().unwrap(),
        7.0 * ROW_KG / 52.0,
        1e-9,
        "slope",
    );
    let q = p["quarters"].as_array().unwrap();
    let names: Vec<&str> = q.iter().map(|x| x["quarter"].as_str().unwrap()).collect();
    assert_eq!(names, ["2026 Q3", "2026 Q4", "2027 Q1", "2027 Q2"]);
    assert_eq!(q[0]["start"], "2026-07-01");
    assert_eq!(q[3]["end"], "2027-06-30");
    for (x, k) in q.iter().zip([62.0, 69.0, 76.0, 83.0]) {
        assert_close(
            x["emissions_kgco2e"]["central"].as_f64().unwrap(),
            k * ROW_KG / 52.0,
            1e-9,
            x["quarter"].as_str().unwrap(),
        );
    }
    validate(&v);
    // On the Levers sheet, stated as a projection, in tCO2e.
    let (_, s) = sheet(&o, &cfg, "Levers");
    let r = row_of(&s, "2027 Q2");
    assert_close(num(&r[4]), 83.0 * ROW_KG / 52.0 / 1000.0, 1e-9, "sheet");
    assert!(s
        .rows()
        .flatten()
        .any(|c| text(c).starts_with("Projection of the next four quarters")));
}
