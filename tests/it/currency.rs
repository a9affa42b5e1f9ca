//! The reporting currency (`[entity] currency`): spend shown in it beside the amounts as
//! exported, month by month at the factor set's annual average rates (fx.csv, USD per unit),
//! with the rates used listed among the factors; a currency without a rate is named, never
//! zero.
//!
//! Rates of factor set 2026.2 (fx.csv, source ecb-eurofxref): EUR 2024 1.08238, EUR 2025
//! 1.12998, GBP 2025 1.31842 USD per unit; no CNY rate, no 2026 rates.

use std::path::PathBuf;

use calamine::{open_workbook_auto_from_rs, Data, Range, Reader};

use crate::common::{assert_close, bin_in, cell_f64, root, stdout};
use llm_scope3::config::{Config, PeriodRequest, ReadRequest};
use llm_scope3::pipeline::{self, Outcome};
use llm_scope3::report::{json, workbook};

pub(crate) fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/currency").join(name)
}

/// A run with `currency = "EUR"` in the config file, over `period` (`2025Q1`, or a first and
/// last day).
pub(crate) fn run_eur(paths: &[PathBuf], period: (&str, Option<&str>)) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("llm-scope3.toml");
    std::fs::write(&cfg_path, "[entity]\nname = \"Acme\"\ncurrency = \"eur\"\n").unwrap();
    let period = match period {
        (q, None) => PeriodRequest {
            quarter: Some(q.into()),
            year: None,
            from: None,
            to: None,
        },
        (from, Some(to)) => PeriodRequest {
            quarter: None,
            year: None,
            from: Some(from.into()),
            to: Some(to.into()),
        },
    };
    let cfg = Config::new(
        &period,
        &ReadRequest {
            templates: vec![],
            factors: None,
            config: Some(cfg_path),
            max_lines: None,
        },
        Some("2026-04-15"),
        None,
    )
    .unwrap();
    let (inputs, skipped) = pipeline::inputs_from_paths(paths).unwrap();
    pipeline::run(&inputs, skipped, &cfg).unwrap()
}

fn json_of(o: &Outcome) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&json::to_string(o).unwrap()).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    v
}

fn sheets(o: &Outcome) -> calamine::Sheets<std::io::Cursor<Vec<u8>>> {
    let set = llm_scope3::factors::FactorSet::load(None).unwrap();
    let bytes = workbook::build(o, &set).unwrap();
    open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap()
}

/// The column of `row` whose cell is `name`.
fn col(r: &Range<Data>, row: usize, name: &str) -> usize {
    r.rows()
        .nth(row)
        .unwrap()
        .iter()
        .position(|c| *c == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// The first row whose column A is `label`.
fn row_of(r: &Range<Data>, label: &str) -> usize {
    r.rows()
        .position(|c| c[0] == label)
        .unwrap_or_else(|| panic!("no row {label}"))
}

fn cell(r: &Range<Data>, row: usize, col: usize) -> Data {
    r.rows().nth(row).unwrap()[col].clone()
}

#[test]
fn currency_spend_is_converted_month_by_month_at_each_year_s_rate() {
    // OpenAI cost export, EUR reporting, period 2024-12-01 .. 2025-01-31:
    //   Dec 2024, gpt-5-mini: 108.238 USD × 1 / 1.08238 (fx:EUR:2024)        = 100.000000 EUR
    //   Jan 2025, gpt-5-mini: 112.998 USD × 1 / 1.12998 (fx:EUR:2025)        = 100.000000 EUR
    //                       +  40.00 GBP × 1.31842 / 1.12998 (fx:GBP:2025)
    //                         = 52.7368 / 1.12998                           =  46.670561 EUR
    //                                                          January line = 146.670561 EUR
    //   total = 100 + 146.670560540895                                       = 246.670561 EUR
    let o = run_eur(
        &[fixture("openai_cost_usd_gbp_2024-12_2025-01.csv")],
        ("2024-12-01", Some("2025-01-31")),
    );
    let rs = o.reporting.as_ref().expect("a reporting currency");
    assert_eq!(rs.currency, "EUR");
    assert_eq!(o.summary.lines.len(), 2, "{:#?}", o.summary.lines);
    let jan_gbp = 40.0 * 1.31842 / 1.12998;
    assert_close(jan_gbp, 46.670560540895, 1e-12, "40 GBP in EUR");
    let expected = [("2024-12", 100.0), ("2025-01", 100.0 + jan_gbp)];
    for (l, (month, eur)) in o.summary.lines.iter().zip(expected) {
        assert_eq!(l.key.month, month);
        let i = o.summary.lines.iter().position(|x| x == l).unwrap();
        assert_close(rs.lines[i].unwrap(), eur, 1e-12, month);
    }
    assert_close(rs.total.unwrap(), 246.670560540895, 1e-12, "EUR total");
    assert_eq!(rs.fx_ids, ["fx:EUR:2024", "fx:EUR:2025", "fx:GBP:2025"]);
    assert!(rs.not_converted.is_empty());
    // Each exchange-rate row is among the factors, with its value and source.
    let eur24 = &o.summary.factors["fx:EUR:2024"];
    assert_eq!(eur24.value.central, 1.08238);
    assert_eq!(eur24.source_id, "ecb-eurofxref");
    assert_eq!(o.summary.factors["fx:EUR:2025"].value.central, 1.12998);

    // JSON: the original currencies kept, the EUR amount beside them.
    let v = json_of(&o);
    let t = &v["totals"];
    assert_eq!(t["spend"].as_array().unwrap().len(), 2, "GBP and USD kept");
    assert_eq!(t["spend_reporting"]["currency"], "EUR");
    assert_close(
        t["spend_reporting"]["amount"].as_f64().unwrap(),
        246.670560541,
        1e-11,
        "JSON total",
    );
    assert_eq!(
        t["spend_reporting"]["fx"],
        serde_json::json!(["fx:EUR:2024", "fx:EUR:2025", "fx:GBP:2025"])
    );
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines[0]["spend"][0]["currency"], "USD");
    assert_close(
        lines[0]["spend_reporting"]["amount"].as_f64().unwrap(),
        100.0,
        1e-12,
        "JSON December line",
    );
    assert_close(
        lines[1]["spend_reporting"]["amount"].as_f64().unwrap(),
        146.670560541,
        1e-11,
        "JSON January line",
    );
    // The period spans two calendar years: the file's accepted spend is not converted at one
    // rate (null, with a note); the lines carry the month-by-month conversion.
    assert!(v["imports"][0]["spend_accepted_reporting"]["amount"].is_null());
    let notes = t["spend_reporting"]["notes"].as_array().unwrap();
    assert!(
        notes[0].as_str().unwrap().contains("two calendar years"),
        "{notes:?}"
    );

    // Workbook, read back.
    let mut wb = sheets(&o);
    let ai = wb.worksheet_range("AI Services").unwrap();
    let c_eur = col(&ai, 0, "Spend in EUR");
    let c_orig = col(&ai, 0, "Spend (as exported)");
    assert_eq!(cell(&ai, 1, c_orig).to_string(), "USD 108.24");
    assert_eq!(cell(&ai, 2, c_orig).to_string(), "GBP 40.00; USD 113.00");
    assert_close(cell_f64(&cell(&ai, 1, c_eur)), 100.0, 1e-12, "AI Dec");
    assert_close(
        cell_f64(&cell(&ai, 2, c_eur)),
        146.670560540895,
        1e-12,
        "AI Jan",
    );
    let total = row_of(&ai, "Total");
    assert_close(
        cell_f64(&cell(&ai, total, c_eur)),
        246.670560540895,
        1e-12,
        "AI Services total",
    );
    let s = wb.worksheet_range("E1-6 Summary").unwrap();
    let r = row_of(
        &s,
        "Spend on these services (EUR, converted at the factor set's annual exchange rates)",
    );
    let value = s
        .rows()
        .nth(r)
        .unwrap()
        .iter()
        .skip(1)
        .find(|c| **c != Data::Empty)
        .cloned()
        .unwrap();
    assert_close(cell_f64(&value), 246.670560540895, 1e-12, "E1-6 spend");
    let r = row_of(&s, "Exchange rates used (USD per unit, annual averages)");
    let rates = s
        .rows()
        .nth(r)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect::<String>();
    assert!(
        rates.contains("fx:EUR:2024, fx:EUR:2025, fx:GBP:2025 (Factors sheet)"),
        "{rates}"
    );
    let alloc = wb.worksheet_range("Allocation").unwrap();
    let c = col(&alloc, 0, "Spend in EUR");
    let r = row_of(&alloc, "Total (= allocated + unallocated)");
    assert_close(
        cell_f64(&cell(&alloc, r, c)),
        246.670560540895,
        1e-12,
        "Allocation total",
    );
    let imports = wb.worksheet_range("Imports").unwrap();
    let c = col(&imports, 0, "Spend accepted in EUR");
    assert_eq!(
        cell(&imports, 1, c).to_string(),
        "period spans two years: see the AI Services lines"
    );
    let factors = wb.worksheet_range("Factors").unwrap();
    let r = row_of(&factors, "fx:EUR:2024");
    assert!(factors
        .rows()
        .nth(r)
        .unwrap()
        .iter()
        .any(|c| *c == "ecb-eurofxref"));
}

#[test]
fn a_currency_without_a_rate_is_named_and_the_total_left_blank() {
    // January 2025: gpt-5-nano 112.998 USD / 1.12998 = 100.00 EUR; 10.00 CNY on gpt-5-mini,
    // for which the set has no rate (so neither the spend method nor the conversion has one):
    // listed as not estimated, its EUR amount null, the EUR total null, and a warning.
    let o = run_eur(&[fixture("openai_cost_cny_2025-01.csv")], ("2025Q1", None));
    let rs = o.reporting.as_ref().unwrap();
    assert_eq!(rs.total, None);
    assert_eq!(rs.not_converted.len(), 1);
    assert_eq!(rs.not_converted[0].currency, "CNY");
    assert_eq!(rs.not_converted[0].year, 2025);
    assert_eq!(rs.not_converted[0].amount, 10.0);
    let v = json_of(&o);
    assert!(v["totals"]["spend_reporting"]["amount"].is_null());
    assert_eq!(
        v["totals"]["spend_reporting"]["not_converted"][0]["no_rate_for"],
        "CNY"
    );
    let nano = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["model"] == "gpt-5-nano")
        .unwrap();
    assert_close(
        nano["spend_reporting"]["amount"].as_f64().unwrap(),
        100.0,
        1e-12,
        "nano in EUR",
    );
    let w = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "spend_not_converted")
        .expect("a warning");
    assert_eq!(
        w["message"],
        "10.00 CNY of 2025 not converted to EUR: factor set 2026.3 has no CNY exchange rate, so the spend total in EUR is not given; the amounts stay in their own currencies."
    );
    // The file's accepted spend (one year, 2025) has a CNY amount: not converted either.
    assert!(v["imports"][0]["spend_accepted_reporting"]["amount"].is_null());
    let mut wb = sheets(&o);
    let s = wb.worksheet_range("E1-6 Summary").unwrap();
    let r = row_of(
        &s,
        "Spend on these services (EUR, converted at the factor set's annual exchange rates)",
    );
    let text = s
        .rows()
        .nth(r)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect::<String>();
    assert!(text.contains("not given"), "{text}");
}

#[test]
fn spend_of_2026_takes_the_latest_rate_and_says_so() {
    // Azure MCA sample, 2026Q1, all in USD: the set has no 2026 rate, so each amount is
    // converted at the 2025 EUR rate (fx:EUR:2025, 1.12998), with a note. The EUR total is
    // the USD total / 1.12998, and the file's accepted spend likewise (one calendar year).
    let sample = root().join("samples/azure_cost_export_mca_2026Q1.csv");
    let o = run_eur(std::slice::from_ref(&sample), ("2026Q1", None));
    let rs = o.reporting.as_ref().unwrap();
    let usd = o.summary.totals.spend["USD"];
    assert_eq!(o.summary.totals.spend.len(), 1);
    assert_close(rs.total.unwrap(), usd / 1.12998, 1e-12, "EUR total");
    assert_eq!(rs.fx_ids, ["fx:EUR:2025"]);
    assert_eq!(
        rs.notes,
        ["2026 amounts converted at the 2025 annual rate of EUR (fx:EUR:2025): factor set 2026.3 has no EUR rate for 2026"]
    );
    let accepted = o.files[0].accepted_totals.spend["USD"];
    assert_close(rs.files[0].unwrap(), accepted / 1.12998, 1e-12, "file");
    let mut wb = sheets(&o);
    let imports = wb.worksheet_range("Imports").unwrap();
    let c = col(&imports, 0, "Spend accepted in EUR");
    assert_close(
        cell_f64(&cell(&imports, 1, c)),
        accepted / 1.12998,
        1e-12,
        "Imports",
    );

    // The terminal names the EUR total, the rate and the amounts as exported.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("llm-scope3.toml"),
        "[entity]\ncurrency = \"EUR\"\n",
    )
    .unwrap();
    let out = stdout(
        bin_in(dir.path())
            .args(["report", "--quarter", "2026Q1", "--as-of", "2026-04-15"])
            .args(["--out", "r.xlsx"])
            .arg(&sample)
            .assert()
            .success(),
    );
    let eur = llm_scope3::pipeline::warnings::amount_text(usd / 1.12998);
    let usd = llm_scope3::pipeline::warnings::amount_text(usd);
    assert!(
        out.contains(&format!(
            "Spend: {eur} EUR at fx:EUR:2025 (as exported: {usd} USD)"
        )),
        "{out}"
    );
    assert!(
        out.contains("currency EUR: spend also shown in EUR"),
        "{out}"
    );
}

#[test]
fn a_currency_that_is_not_an_iso_code_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("llm-scope3.toml"),
        "[entity]\ncurrency = \"Euro\"\n",
    )
    .unwrap();
    let a = bin_in(dir.path())
        .args(["report", "--quarter", "2026Q1", "--out", "r.xlsx"])
        .arg(root().join("samples/azure_cost_export_mca_2026Q1.csv"))
        .assert()
        .failure();
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("currency must be a three-letter ISO 4217 code such as EUR, not 'Euro'"),
        "{err}"
    );
}
