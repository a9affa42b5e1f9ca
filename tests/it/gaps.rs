//! No silent zero, no silent loss (issue #16): a period without data is refused, gaps of
//! coverage are warnings on the terminal, the Cover, the Coverage sheet and in JSON, a final
//! statement refuses them without a reason, every file's money reconciles, skipped rows that
//! name an AI service are a warning with their spend, and a bad row seen again in an
//! overlapping re-download counts once.

use std::path::Path;

use crate::common::{bin_in, fixture, root, run, sheet_text};

const OPENAI_Q1: &str = "samples/openai_completions_usage_2026-01-01_2026-03-31.csv";

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the summary")).expect("JSON")
}

fn codes(j: &serde_json::Value) -> Vec<String> {
    j["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_quarter_without_usage_writes_nothing_and_names_the_dates_the_files_hold() {
    let dir = tempfile::tempdir().unwrap();
    let a = bin_in(dir.path())
        .arg("report")
        .arg(root().join(OPENAI_Q1))
        .args([
            "--quarter",
            "2026Q2",
            "--out",
            "q2.xlsx",
            "--json",
            "q2.json",
        ])
        .assert()
        .code(3);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    // The sample's rows run from 1 January to 31 March 2026: all in 2026Q1.
    assert!(err.contains("no usage row falls in 2026Q2"), "{err}");
    assert!(
        err.contains("The files hold data dated 2026-01-01 to 2026-03-31, most of their usage in 2026Q1: ask for --quarter 2026Q1."),
        "{err}"
    );
    assert!(err.contains("--allow-empty"), "{err}");
    assert!(!dir.path().join("q2.xlsx").exists());
    assert!(!dir.path().join("q2.json").exists());

    // A real zero, when asked for: written, and the warning is in every output.
    let a = bin_in(dir.path())
        .arg("report")
        .arg(root().join(OPENAI_Q1))
        .args(["--quarter", "2026Q2", "--allow-empty", "--out", "q2.xlsx"])
        .args(["--json", "q2.json"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("1 WARNING(S)"), "{err}");
    let j = json(&dir.path().join("q2.json"));
    assert_eq!(codes(&j), ["no_usage_in_period"]);
    assert_eq!(j["totals"]["emissions_kgco2e"]["central"], 0.0);
    let cover = sheet_text(&dir.path().join("q2.xlsx"), "Cover").join("\n");
    assert!(cover.contains("No usage row falls in 2026Q2"), "{cover}");
    let coverage = sheet_text(&dir.path().join("q2.xlsx"), "Coverage").join("\n");
    assert!(
        coverage.contains("No usage data in the period"),
        "{coverage}"
    );
}

#[test]
fn a_year_with_one_quarter_of_data_warns_of_the_nine_months_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let a = bin_in(dir.path())
        .arg("report")
        .arg(root().join(OPENAI_Q1))
        .args(["--year", "2026", "--out", "y.xlsx", "--json", "y.json"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("2026-04 to 2026-12 (9 months)"), "{err}");
    let j = json(&dir.path().join("y.json"));
    // The months after the data are named once, not again as a gap of the provider; the
    // sample's made-up model "acme-internal-preview" is the other warning.
    assert_eq!(codes(&j), ["period_after_data", "model_unresolved"]);
    let months = j["warnings"][0]["months"].as_array().unwrap();
    assert_eq!(months.len(), 9); // April to December
    assert_eq!(months[0], "2026-04");
    // The coverage matrix has the provider's twelve months, nine of them empty.
    let cov = j["coverage"].as_array().unwrap();
    assert_eq!(cov.len(), 12);
    assert_eq!(cov.iter().filter(|c| c["days"] == 0).count(), 9);
    let cover = sheet_text(&dir.path().join("y.xlsx"), "Cover").join("\n");
    assert!(cover.contains("Warning 1"), "{cover}");
    assert!(cover.contains("ends on 2026-12-31"), "{cover}");
}

#[test]
fn a_month_without_data_is_a_gap_and_a_final_statement_needs_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("gaps/openai_jan_and_mar_2026.csv");
    // Outside a ledger: the report is written with the warning.
    let a = bin_in(dir.path())
        .arg("report")
        .arg(&file)
        .args([
            "--quarter",
            "2026Q1",
            "--out",
            "q1.xlsx",
            "--json",
            "q1.json",
        ])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("openai has usage in other months of 2026Q1 but none in 2026-02"));
    let j = json(&dir.path().join("q1.json"));
    assert_eq!(codes(&j), ["month_without_data"]);
    assert_eq!(j["warnings"][0]["provider"], "openai");
    assert_eq!(j["warnings"][0]["months"], serde_json::json!(["2026-02"]));
    let coverage = sheet_text(&dir.path().join("q1.xlsx"), "Coverage");
    // openai: 1 day in January, none in February, 1 day in March.
    let at = coverage.iter().position(|c| c == "openai").unwrap();
    assert_eq!(
        &coverage[at..at + 5],
        ["openai", "1", "no data", "1", "2026-02"]
    );

    // A final statement refuses the gap, writes nothing and records nothing ...
    let ledger = dir.path().join("l.db");
    let a = bin_in(dir.path())
        .arg("report")
        .arg(&file)
        .arg("--ledger")
        .arg(&ledger)
        .args(["--quarter", "2026Q1", "--final", "--out", "final.xlsx"])
        .assert()
        .code(3);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("--accept-gaps"), "{err}");
    assert!(!dir.path().join("final.xlsx").exists());
    let l = llm_scope3::ledger::Ledger::open_existing(&ledger).unwrap();
    let q1 = llm_scope3::model::Period::quarter("2026Q1").unwrap();
    assert!(l.last_statement(&q1).unwrap().is_none());
    drop(l);

    // ... unless the preparer gives the reason, which is recorded and shown.
    let reason = "no AI use in February: the service was paused";
    bin_in(dir.path())
        .args(["report", "--ledger"])
        .arg(&ledger)
        .args(["--quarter", "2026Q1", "--final", "--accept-gaps", reason])
        .args(["--out", "final.xlsx"])
        .assert()
        .success();
    let l = llm_scope3::ledger::Ledger::open_existing(&ledger).unwrap();
    let st = l.last_statement(&q1).unwrap().expect("a statement");
    assert_eq!(st.accepted_gaps.as_deref(), Some(reason));
    let cover = sheet_text(&dir.path().join("final.xlsx"), "Cover").join("\n");
    assert!(cover.contains(reason), "{cover}");
}

/// tests/fixtures/gaps/aws_cur_money_2026Q1.csv, eight CUR rows (USD):
///
/// | row | line                                   | cost  | outcome                        |
/// |-----|----------------------------------------|-------|--------------------------------|
/// | 2   | Bedrock input tokens, 10 Jan           | 3.00  | accepted                       |
/// | 3   | Bedrock output tokens, 10 Jan          | 3.00  | accepted                       |
/// | 4   | EC2 m5.large                           | 2.304 | skipped: other service         |
/// | 5   | Bedrock Guardrails text units (no rule)| 0.75  | skipped: other service, AI     |
/// | 6   | Tax                                    | 0.50  | adjustment                     |
/// | 7   | Bedrock input tokens, 2 April          | 0.30  | outside the period             |
/// | 8   | date "not a date"                      | 0.40  | rejected                       |
/// | 9   | quantity "abc"                         | 0.20  | rejected                       |
///
/// total 10.454 = accepted 6.00 + adjustments 0.50 + rejected 0.60 + outside 0.30 +
/// other service 3.054 (2.304 + 0.75).
#[test]
fn every_file_s_money_reconciles_and_skipped_ai_spend_is_a_warning() {
    let o = run(&[&fixture("gaps/aws_cur_money_2026Q1.csv")], "2026Q1").unwrap();
    let f = &o.files[0];
    assert_eq!(f.counts.read, 8);
    let b = &f.money["USD"];
    assert_eq!(b.rows, 8);
    let near = |a: f64, e: f64, what: &str| assert!((a - e).abs() < 1e-9, "{what}: {a} vs {e}");
    near(b.total, 10.454, "total");
    near(b.accepted, 6.00, "accepted");
    near(b.adjustments, 0.50, "adjustments");
    near(b.rejected, 0.60, "rejected");
    near(b.outside_period, 0.30, "outside");
    near(
        b.skipped[&llm_scope3::model::SkipReason::OtherService],
        3.054,
        "other service",
    );
    assert!(b.balanced());
    // The Guardrails row names Bedrock: a warning with its 0.75 USD; the EC2 row does not.
    assert_eq!(f.ai_skipped.len(), 1);
    assert_eq!(f.ai_skipped[0].first_row, 5);
    assert_eq!(f.ai_skipped[0].rows, 1);
    near(f.ai_skipped[0].spend["USD"], 0.75, "AI spend skipped");
    let w: Vec<_> = o.warnings.iter().map(|w| format!("{:?}", w.code)).collect();
    // Only January has accepted usage: February and March are gaps of aws-bedrock.
    assert_eq!(w, ["MonthWithoutData", "AiSpendSkipped"]);
    assert!(
        o.warnings[1].message.contains("0.75 USD"),
        "{}",
        o.warnings[1].message
    );
    assert!(o.warnings[1].message.contains("USE1-Guardrails-TextUnits"));

    // The same on the terminal, in JSON and on the Imports sheet.
    let dir = tempfile::tempdir().unwrap();
    let a = bin_in(dir.path())
        .arg("report")
        .arg(fixture("gaps/aws_cur_money_2026Q1.csv"))
        .args(["--quarter", "2026Q1", "--out", "r.xlsx", "--json", "r.json"])
        .assert()
        .success();
    let out = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(
        out.contains("rows 8 = accepted 3 + rejected 2 + outside period 1 + skipped 2 (other service (not an LLM line) 2)"),
        "{out}"
    );
    assert!(out.contains("money 10.45 USD = accepted 6.00 + adjustments 0.50 + rejected 0.60 + outside period 0.30 + other service (not an LLM line) 3.05 (reconciled)"), "{out}");
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("were skipped as another service although they name Bedrock"),
        "{err}"
    );
    let j = json(&dir.path().join("r.json"));
    let m = &j["imports"][0]["money"][0];
    assert_eq!(m["currency"], "USD");
    assert_eq!(m["total"], 10.454);
    assert_eq!(m["skipped"]["other_service"], 3.054);
    assert_eq!(m["balanced"], true);
    assert_eq!(j["imports"][0]["ai_skipped"][0]["spend"][0]["amount"], 0.75);
    let imports = sheet_text(&dir.path().join("r.xlsx"), "Imports").join("\n");
    assert!(imports.contains("Money reconciliation"), "{imports}");
    assert!(imports.contains("USE1-Guardrails-TextUnits"), "{imports}");

    // `inspect` reads every date: the April row (0.30) is accepted there, 6.00 + 0.30 = 6.30.
    let a = bin_in(dir.path())
        .arg("inspect")
        .arg(fixture("gaps/aws_cur_money_2026Q1.csv"))
        .assert()
        .success();
    let out = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(out.contains("money 10.45 USD = accepted 6.30 + adjustments 0.50 + rejected 0.60 + other service (not an LLM line) 3.05 (reconciled)"), "{out}");
    assert!(
        out.contains(
            "warning: 1 row(s) skipped as another service name Bedrock (0.75 USD; first row 5"
        ),
        "{out}"
    );
}

#[test]
fn a_bad_row_seen_again_in_an_overlapping_re_download_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.db");
    // 1-20 January, then 1-31 January: both hold the bad row of 5 January (negative tokens).
    for f in [
        "openai_2026-01-01_2026-01-20.csv",
        "openai_2026-01-01_2026-01-31.csv",
    ] {
        bin_in(dir.path())
            .arg("import")
            .arg(fixture(&format!("gaps/{f}")))
            .arg("--ledger")
            .arg(&ledger)
            .assert()
            .success();
    }
    bin_in(dir.path())
        .args(["report", "--ledger"])
        .arg(&ledger)
        .args(["--from", "2026-01-01", "--to", "2026-01-31"])
        .args(["--out", "r.xlsx", "--json", "r.json"])
        .assert()
        .success();
    let j = json(&dir.path().join("r.json"));
    assert_eq!(j["rejections"].as_array().unwrap().len(), 1);
    let imports = j["imports"].as_array().unwrap();
    // First file: 20 rows = 19 accepted + 1 rejected.
    assert_eq!(imports[0]["rows_read"], 20);
    assert_eq!(imports[0]["accepted"], 19);
    assert_eq!(imports[0]["rejected"], 1);
    // Second file: 31 rows = 11 new (21-31 January) + 19 duplicate records + the bad row
    // seen before, now a duplicate: 11 + 0 + 20.
    assert_eq!(imports[1]["rows_read"], 31);
    assert_eq!(imports[1]["accepted"], 11);
    assert_eq!(imports[1]["rejected"], 0);
    assert_eq!(imports[1]["duplicate"], 20);
}

#[test]
fn a_column_with_1_000_and_1_comma_000_is_a_warning() {
    // Row 2 says 1.000 input tokens, row 3 "1,000": in a comma-delimited file the first reads
    // as 1 and the second as 1,000. Both cannot be meant: the column is named with its rows.
    let o = run(
        &[&fixture("gaps/openai_thousands_dot_and_comma.csv")],
        "2026Q1",
    )
    .unwrap();
    // 1 + 1,000 input tokens as read.
    assert_eq!(o.files[0].accepted_totals.input_tokens, 1_001);
    let w = o
        .warnings
        .iter()
        .find(|w| w.code.as_str() == "ambiguous_separators")
        .expect("a warning");
    assert!(
        w.message.contains(
            "column input_tokens: row 2 '1.000' and row 3 '1,000' cannot follow one convention"
        ),
        "{}",
        w.message
    );
    // The samples (decimal points, thousands commas, 0.003-style prices) raise none.
    let samples = run(&[&root().join("samples")], "2026Q1").unwrap();
    assert!(samples
        .warnings
        .iter()
        .all(|w| w.code.as_str() != "ambiguous_separators"));
}

#[test]
fn each_column_takes_the_convention_its_own_values_show() {
    // A comma-delimited OpenAI usage export re-saved from a spreadsheet set to German: input
    // tokens 2.000, 1.500, 3.000 and output tokens 1.000, 1.000, 2.000. 1.500 tokens cannot
    // be one and a half, so the input column groups thousands with dots, and 2.000 and 3.000
    // before and after it are two and three thousand: 2,000 + 1,500 + 3,000 = 6,500. No output
    // value settles its column (1.000 reads either way), so it is read as the file's other
    // decided column writes, 1,000 + 1,000 + 2,000 = 4,000, and that is a warning. (Read by
    // the delimiter alone, the input was 2 + 3 with 1.500 rejected, and the output 4.)
    let o = run(
        &[&fixture("gaps/openai_dot_thousands_resaved.csv")],
        "2026Q1",
    )
    .unwrap();
    let f = &o.files[0];
    assert_eq!((f.counts.accepted, f.counts.rejected), (3, 0));
    assert_eq!(f.accepted_totals.input_tokens, 6_500);
    assert_eq!(f.accepted_totals.output_tokens, 4_000);
    assert!(
        f.notes.iter().any(|n| {
            n
            == "column input_tokens read with a decimal comma (1.234,5) as its row 3 '1.500' shows"
        }),
        "{:?}",
        f.notes
    );
    let w = o
        .warnings
        .iter()
        .find(|w| w.code.as_str() == "ambiguous_separators")
        .expect("a warning");
    assert!(
        w.message.contains(
            "column output_tokens: row 2 '1.000' and 2 more values read either way (one reading a \
             thousand times the other) and no value of the column settles it: read with a decimal \
             comma (1.234,5), as the file's other quantity and money columns write"
        ),
        "{}",
        w.message
    );

    // A semicolon-delimited Anthropic cost report whose amounts have decimal points: 12.5
    // settles the cost column, so 1.500 below it is one and a half dollars, not 1,500 as a
    // semicolon file's usual decimal comma would read it: 12.50 + 1.50 = 14.00 USD.
    let o = run(
        &[&fixture("gaps/anthropic_cost_semicolon_decimal_point.csv")],
        "2026Q1",
    )
    .unwrap();
    let f = &o.files[0];
    assert_eq!(f.counts.accepted, 2);
    assert!(
        (f.accepted_totals.spend["USD"] - 14.0).abs() < 1e-9,
        "{:?}",
        f.accepted_totals.spend
    );
    assert!(
        f.notes.iter().any(|n| n
            == "column cost_usd read with a decimal point (1,234.5) as its row 2 '12.5' shows"),
        "{:?}",
        f.notes
    );
    assert!(o
        .warnings
        .iter()
        .all(|w| w.code.as_str() != "ambiguous_separators"));
}

#[test]
fn a_column_named_twice_is_a_warning_naming_the_one_read() {
    // The OpenAI header with a second `model` column appended (column Y): the first (column I,
    // gpt-4o-2024-08-06) is read, and the report says so.
    let o = run(&[&fixture("gaps/openai_model_column_twice.csv")], "2026Q1").unwrap();
    assert_eq!(o.summary.lines[0].key.model, "gpt-4o-2024-08-06");
    let w = o
        .warnings
        .iter()
        .find(|w| w.code.as_str() == "duplicate_columns")
        .expect("a warning");
    assert!(
        w.message.contains(
            "the header names column 'model' more than once: column I is read, column(s) Y are not"
        ),
        "{}",
        w.message
    );
}
