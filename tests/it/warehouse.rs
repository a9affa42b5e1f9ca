//! Warehouse queries (`llm-scope3 sql`, templates/sql/, docs/warehouse.md). DuckDB runs the
//! `duckdb` dialect's query over tables built from the CUR 2.0 and BigQuery fixtures (CSV and
//! Parquet, tests/fixtures/warehouse/*.sql) and over a dense generated month; the result,
//! written as CSV and as Parquet, must give the report the raw file gives, line for line. The
//! Athena and BigQuery queries are checked for syntax by sqlparser and differ from the DuckDB
//! ones only in the lines listed here.
//!
//! DuckDB is an outside program (the Python package `duckdb`, else the `duckdb` CLI): without
//! it the DuckDB tests skip with a printed reason, unless CI=true (.ci/run installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use llm_scope3::pipeline::Outcome;
use llm_scope3::warehouse::{self, Dialect, QueryRequest};

use crate::common::{assert_close, bin_in, fixture, root, run, stdout};

/// How DuckDB is run.
enum DuckDb {
    /// `python3` with the `duckdb` package.
    Python,
    /// The `duckdb` command-line program.
    Cli,
}

/// DuckDB, or `None` (and the caller skips) outside CI.
fn duckdb(test: &str) -> Option<DuckDb> {
    let python = Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if python {
        return Some(DuckDb::Python);
    }
    let cli = Command::new("duckdb")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if cli {
        return Some(DuckDb::Cli);
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "CI=true but DuckDB is missing: .ci/run must install it (python3 -m pip install duckdb)"
    );
    crate::common::skipped(
        test,
        "DuckDB not found (neither the Python package duckdb nor the duckdb program); pip install duckdb to run it",
    );
    None
}

/// Runs a DuckDB script (statements separated by `;`) in `dir`, failing with DuckDB's message.
fn run_script(db: &DuckDb, script: &str, dir: &Path) {
    let path = dir.join("script.sql");
    std::fs::write(&path, script).unwrap();
    let out = match db {
        DuckDb::Python => Command::new("python3")
            .args([
                "-c",
                "import sys, duckdb; duckdb.connect().execute(open(sys.argv[1]).read())",
            ])
            .arg(&path)
            .current_dir(dir)
            .output(),
        DuckDb::Cli => Command::new("duckdb")
            .args(["-bail", ":memory:"])
            .stdin(std::fs::File::open(&path).unwrap())
            .current_dir(dir)
            .output(),
    }
    .expect("run DuckDB");
    assert!(
        out.status.success(),
        "DuckDB failed on\n{script}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The query `llm-scope3 sql` prints, and what it says on standard error.
fn printed(args: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let a = bin_in(dir.path()).arg("sql").args(args).assert().success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    (stdout(a), err)
}

/// A printed DuckDB query as (the statements before its SELECT, the SELECT without `;`).
fn split_select(sql: &str) -> (String, String) {
    let at = sql.find("\nSELECT\n").expect("a SELECT") + 1;
    let select = sql[at..].trim_end().trim_end_matches(';').to_string();
    (sql[..at].to_string(), select)
}

/// Builds the warehouse table with `loader` (its `*_PATH` token replaced by `input`), runs the
/// printed DuckDB query of `template` over it for 2026Q1, and writes the result as
/// `result.csv` and `result.parquet` in `dir`.
fn query_results(
    db: &DuckDb,
    loader: &str,
    input: &Path,
    template: &str,
    table: &str,
    dir: &Path,
) -> (PathBuf, PathBuf) {
    let load = std::fs::read_to_string(root().join("tests/fixtures/warehouse").join(loader))
        .unwrap()
        .replace("CSV_PATH", &input.display().to_string())
        .replace("PARQUET_PATH", &input.display().to_string());
    let (sql, notes) = printed(&[
        template,
        "--dialect",
        "duckdb",
        "--table",
        table,
        "--quarter",
        "2026Q1",
    ]);
    assert!(
        notes.contains("rows of 2026-01-01 to 2026-03-31 only"),
        "{notes}"
    );
    let (before, select) = split_select(&sql);
    let (csv, parquet) = (dir.join("result.csv"), dir.join("result.parquet"));
    let script = format!(
        "{load}\n{before}\nCOPY ({select}) TO '{}' (HEADER, DELIMITER ',');\nCOPY ({select}) TO '{}' (FORMAT parquet);\n",
        csv.display(),
        parquet.display()
    );
    run_script(db, &script, dir);
    (csv, parquet)
}

/// Rounds to 12 significant digits, as the JSON summary does: sums made in another order
/// differ in the last bits only.
fn tidy(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return 0.0;
    }
    let digits = 12 - (x.abs().log10().floor() as i32) - 1;
    let scale = 10f64.powi(digits.clamp(-300, 300));
    (x * scale).round() / scale
}

/// The summary as JSON without what names the file and its rows (which rows a line sums
/// differs between a billing table and its daily sums; the lines, their figures, the totals,
/// the adjustments and the factors do not), floats tidied.
fn comparable(o: &Outcome) -> serde_json::Value {
    use serde_json::Value;
    fn scrub(v: &mut Value, names: &[String]) {
        match v {
            Value::String(s) => {
                for n in names {
                    if s.contains(n.as_str()) {
                        *s = s.replace(n.as_str(), "FILE");
                    }
                }
            }
            Value::Number(n) if n.is_f64() => {
                let t = tidy(n.as_f64().unwrap());
                *v = serde_json::json!(t);
            }
            Value::Array(a) => a.iter_mut().for_each(|x| scrub(x, names)),
            Value::Object(m) => {
                for k in ["source", "sources", "rows"] {
                    m.remove(k);
                }
                m.values_mut().for_each(|x| scrub(x, names));
            }
            _ => {}
        }
    }
    let mut v = serde_json::to_value(&o.summary).unwrap();
    let names: Vec<String> = o.files.iter().map(|f| f.file.clone()).collect();
    scrub(&mut v, &names);
    v
}

/// The raw file's report and the query result's, line for line.
fn assert_same_report(raw: &Outcome, result: &Outcome, what: &str) {
    let (r, q) = (&raw.files[0], &result.files[0]);
    assert_eq!(q.format, r.format, "{what}");
    assert_eq!(
        q.accepted_totals.input_tokens, r.accepted_totals.input_tokens,
        "{what}"
    );
    assert_eq!(
        q.accepted_totals.cached_input_tokens, r.accepted_totals.cached_input_tokens,
        "{what}"
    );
    assert_eq!(
        q.accepted_totals.output_tokens, r.accepted_totals.output_tokens,
        "{what}"
    );
    assert_eq!(q.accounts, r.accounts, "{what}");
    assert_eq!(
        (q.first_date, q.last_date),
        (r.first_date, r.last_date),
        "{what}"
    );
    // A row the raw file rejects is rejected in the result too when no other row shares its
    // day and columns (the Azure MCA sample's row whose cost fits neither price convention);
    // summed with others it would take them with it (docs/warehouse.md).
    assert_eq!(
        q.counts.rejected, r.counts.rejected,
        "{what}: {:?}",
        result.rejections
    );
    assert!(q.counts.balanced(), "{what}: {:?}", q.counts);
    assert_eq!(
        raw.summary.lines.len(),
        result.summary.lines.len(),
        "{what}"
    );
    let (a, b) = (comparable(raw), comparable(result));
    if a != b {
        let (a, b) = (
            serde_json::to_string_pretty(&a).unwrap(),
            serde_json::to_string_pretty(&b).unwrap(),
        );
        let first = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        let window = |s: &str| {
            s.lines()
                .skip(first.saturating_sub(8))
                .take(16)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "{what}: the reports differ from line {first} of their JSON:\nraw file:\n{}\nquery result:\n{}",
            window(&a),
            window(&b)
        );
    }
}

/// The file's warehouse origin: (result rows, billing rows).
fn origin(o: &Outcome, template: &str) -> (u64, u64) {
    let w = o.files[0]
        .warehouse
        .as_ref()
        .expect("the file is a warehouse query's result");
    assert!(
        w.query.starts_with(&format!(
            "llm-scope3 sql {template} --dialect duckdb --table "
        )) && w
            .query
            .contains(" --from 2026-01-01 --to 2026-03-31 (query "),
        "{}",
        w.query
    );
    assert_eq!(w.other_query_rows, 0);
    assert!(o.files[0].notes[0].starts_with("warehouse query result: "));
    (w.result_rows, w.billing_rows)
}

/// Rows of the raw file the query keeps: those read, but for other services and other dates.
fn kept(raw: &Outcome) -> u64 {
    let f = &raw.files[0];
    let other = f
        .skipped_by
        .get(&llm_scope3::model::SkipReason::OtherService)
        .copied()
        .unwrap_or(0);
    f.counts.read - f.counts.outside_period - other
}

#[test]
fn duckdb_query_of_the_cur2_fixture_gives_the_same_report_from_csv_and_parquet() {
    let Some(db) = duckdb("warehouse::cur2 fixture") else {
        return;
    };
    for (loader, input) in [
        ("cur2_from_csv.sql", fixture("parquet/aws_cur2_bedrock.csv")),
        (
            "cur2_from_parquet.sql",
            fixture("parquet/aws_cur2_bedrock.parquet"),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let raw = run(&[&input], "2026Q1").unwrap();
        let (csv, parquet) = query_results(&db, loader, &input, "aws-cur", "cur2", dir.path());
        for result in [&csv, &parquet] {
            let o = run(&[result], "2026Q1").unwrap();
            let what = format!("{loader} -> {}", result.display());
            assert_same_report(&raw, &o, &what);
            // 6 billing rows: 4 Bedrock usage rows (input, output and cache reads on 5 January,
            // input on 10 February), the tax row, and an EC2 row the query leaves out. Each
            // Bedrock row is alone in its day and usage type: 5 result rows summing 5 rows.
            assert_eq!(origin(&o, "aws-cur"), (5, 5), "{what}");
            assert_eq!(kept(&raw), 5);
            // The hand-worked totals of tests/it/parquet.rs: input 12.5 M + 2.25 M + 4 M cache
            // reads = 18.75 M tokens, output 0.75 M; usage spend 37.5 + 11.25 + 1.2 + 6.75 =
            // 56.7 USD.
            let t = &o.files[0].accepted_totals;
            assert_eq!((t.input_tokens, t.output_tokens), (18_750_000, 750_000));
            assert_close(t.spend["USD"], 56.7, 1e-12, "usage spend");
            assert_eq!(o.files[0].counts.read, 5, "{what}: the EC2 row stayed home");
        }
    }
}

#[test]
fn duckdb_query_of_the_bigquery_fixture_gives_the_same_report_from_csv_and_parquet() {
    let Some(db) = duckdb("warehouse::bigquery fixture") else {
        return;
    };
    for (loader, input) in [
        (
            "gcp_from_csv.sql",
            fixture("parquet/gcp_billing_bigquery.csv"),
        ),
        (
            "gcp_from_parquet.sql",
            fixture("parquet/gcp_billing_bigquery.parquet"),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let raw = run(&[&input], "2026Q1").unwrap();
        let (csv, parquet) = query_results(
            &db,
            loader,
            &input,
            "gcp-billing",
            "gcp_billing_export",
            dir.path(),
        );
        for result in [&csv, &parquet] {
            let o = run(&[result], "2026Q1").unwrap();
            let what = format!("{loader} -> {}", result.display());
            assert_same_report(&raw, &o, &what);
            // 6 rows: 4 Vertex AI / Gemini API token rows and the tax row kept, Compute Engine
            // left out; no two kept rows share a day and SKU: 5 result rows.
            assert_eq!(origin(&o, "gcp-billing"), (5, 5), "{what}");
            // tests/it/parquet.rs: input 40,000,000 + 1,200,000 + 10,000,000 = 51,200,000
            // tokens, output 5,000,000; spend 12 + 12.5 + 0.36 + 3 = 27.86 USD.
            let t = &o.files[0].accepted_totals;
            assert_eq!((t.input_tokens, t.output_tokens), (51_200_000, 5_000_000));
            assert_close(t.spend["USD"], 27.86, 1e-12, "usage spend");
        }
    }
}

#[test]
fn duckdb_queries_of_the_bundled_samples_give_the_same_report() {
    let Some(db) = duckdb("warehouse::samples") else {
        return;
    };
    for (loader, sample, template, table) in [
        (
            "cur2_from_csv.sql",
            "aws_cur2_bedrock_2026Q1.csv.gz",
            "aws-cur",
            "cur2",
        ),
        (
            "gcp_from_csv.sql",
            "gcp_billing_bigquery_2026Q1.csv",
            "gcp-billing",
            "gcp_billing_export",
        ),
        (
            "azure_from_csv.sql",
            "azure_cost_export_ea_2026Q1.csv",
            "azure-cost-export",
            "azure_cost_export",
        ),
        (
            "azure_from_csv.sql",
            "azure_cost_export_mca_2026Q1.csv",
            "azure-cost-export",
            "azure_cost_export",
        ),
    ] {
        let input = root().join("samples").join(sample);
        let dir = tempfile::tempdir().unwrap();
        let raw = run(&[&input], "2026Q1").unwrap();
        let (csv, parquet) = query_results(&db, loader, &input, template, table, dir.path());
        for result in [&csv, &parquet] {
            let o = run(&[result], "2026Q1").unwrap();
            let what = format!("{sample} -> {}", result.display());
            assert_same_report(&raw, &o, &what);
            let (result_rows, billing_rows) = origin(&o, template);
            assert_eq!(billing_rows, kept(&raw), "{what}");
            assert!(result_rows <= billing_rows, "{what}");
            // The money of the rows kept is all there: accepted and adjustments as raw.
            assert_eq!(o.summary.adjustments.len(), raw.summary.adjustments.len());
            for (a, b) in o.summary.adjustments.iter().zip(&raw.summary.adjustments) {
                assert_eq!(a.label, b.label, "{what}");
                assert_close(a.amount, b.amount, 1e-12, &what);
            }
        }
    }
}

#[test]
fn duckdb_query_of_azure_exports_billed_in_eur_for_usd_prices_gives_the_same_report() {
    let Some(db) = duckdb("warehouse::azure fixtures") else {
        return;
    };
    // EA (PascalCase) and MCA (camelCase) layouts, each with prices in USD and spend in EUR:
    // one query reads both, its columns found by name (the MCA file's two gpt-4o rows of one
    // day and price sum into one).
    for (fixture_name, result_rows) in [
        ("vendors/azure_ea_eur_billing_usd_pricing.csv", 2),
        ("vendors/azure_mca_eur_billing_usd_pricing.csv", 3),
    ] {
        let input = fixture(fixture_name);
        let dir = tempfile::tempdir().unwrap();
        let raw = run(&[&input], "2026Q1").unwrap();
        let (csv, parquet) = query_results(
            &db,
            "azure_from_csv.sql",
            &input,
            "azure-cost-export",
            "azure_cost_export",
            dir.path(),
        );
        for result in [&csv, &parquet] {
            let o = run(&[result], "2026Q1").unwrap();
            let what = format!("{fixture_name} -> {}", result.display());
            assert_same_report(&raw, &o, &what);
            assert_eq!(
                origin(&o, "azure-cost-export"),
                (result_rows, kept(&raw)),
                "{what}"
            );
            // The unit decisions (tokens or price blocks, and the exchange rate used) are the
            // raw file's, once per result row.
            let decisions = |f: &llm_scope3::normalise::FileReport| {
                f.unit_decisions.keys().cloned().collect::<Vec<_>>()
            };
            assert_eq!(decisions(&o.files[0]), decisions(&raw.files[0]), "{what}");
        }
    }
}

/// A dense month, as a real hourly CUR holds it: every hour of January 2026 for two usage
/// types of one account.
fn dense_january(path: &Path) {
    use std::fmt::Write;
    let mut csv = String::from(
        "bill_payer_account_id,identity_line_item_id,line_item_line_item_type,line_item_usage_account_id,\
         line_item_usage_start_date,line_item_usage_end_date,line_item_product_code,line_item_usage_type,\
         line_item_usage_amount,line_item_unblended_rate,line_item_unblended_cost,line_item_currency_code,\
         pricing_unit,product,product_region_code,resource_tags\n",
    );
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let mut id = 0;
    for hour in 0..744 {
        let from = start + chrono::Duration::hours(hour);
        let to = from + chrono::Duration::hours(1);
        // (usage type, amount in 1K tokens, rate per 1K, cost)
        for (usage, amount, rate, cost) in [
            (
                "USE1-Claude4.6Sonnet-input-tokens",
                "0.5",
                "0.003",
                "0.0015",
            ),
            (
                "USE1-Claude4.6Sonnet-output-tokens",
                "0.1",
                "0.015",
                "0.0015",
            ),
        ] {
            id += 1;
            let _ = writeln!(
                csv,
                "210987654321,li{id:05},Usage,310987654322,{}Z,{}Z,AmazonBedrock,{usage},{amount},{rate},{cost},USD,1K tokens,\
                 \"{{\"\"product_name\"\":\"\"Amazon Bedrock\"\"}}\",us-east-1,{{}}",
                from.format("%Y-%m-%dT%H:%M:%S%.3f"),
                to.format("%Y-%m-%dT%H:%M:%S%.3f")
            );
        }
    }
    std::fs::write(path, csv).unwrap();
}

#[test]
fn a_dense_hourly_month_comes_down_as_one_row_per_day_and_usage_type() {
    let Some(db) = duckdb("warehouse::dense month") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let raw_path = dir.path().join("cur2_january_hourly.csv");
    dense_january(&raw_path);
    let raw = run(&[&raw_path], "2026Q1").unwrap();
    // January 2026 has 31 × 24 = 744 hours; two usage types: 1,488 billing rows.
    assert_eq!(raw.files[0].counts.accepted, 1_488);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let (csv, parquet) =
        query_results(&db, "cur2_from_csv.sql", &raw_path, "aws-cur", "cur2", &out);
    for result in [&csv, &parquet] {
        let o = run(&[result], "2026Q1").unwrap();
        let what = result.display().to_string();
        assert_same_report(&raw, &o, &what);
        // One row per day and usage type: 31 × 2 = 62 rows, each summing the day's 24 hours.
        assert_eq!(origin(&o, "aws-cur"), (62, 1_488), "{what}");
        assert_eq!(o.files[0].counts.accepted, 62);
        // Input: 744 hours × 0.5 K tokens = 372 K = 372,000 tokens; output 744 × 0.1 K =
        // 74,400 tokens. Spend: 2 × 744 × 0.0015 = 2.232 USD.
        let t = &o.files[0].accepted_totals;
        assert_eq!((t.input_tokens, t.output_tokens), (372_000, 74_400));
        assert_close(t.spend["USD"], 2.232, 1e-12, "spend");
    }
    // A day's row: 24 × 0.5 = 12 K input tokens for 24 × 0.0015 = 0.036 USD, from the first
    // hour's start to the last hour's end.
    let text = std::fs::read_to_string(&csv).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let first = text
        .lines()
        .find(|l| l.contains("-input-tokens"))
        .unwrap()
        .to_string();
    let cells: Vec<&str> = first.split(',').collect();
    assert_eq!(
        cells[col("line_item_usage_start_date")],
        "2026-01-01T00:00:00Z"
    );
    assert_eq!(
        cells[col("line_item_usage_end_date")],
        "2026-01-02T00:00:00Z"
    );
    assert_eq!(cells[col("line_item_usage_amount")], "12.0");
    assert_close(
        cells[col("line_item_unblended_cost")].parse().unwrap(),
        0.036,
        1e-12,
        "a day's cost",
    );
    assert_eq!(cells[col("llm_scope3_rows")], "24");
}

#[test]
fn the_imports_sheet_and_the_json_say_which_query_the_file_came_from() {
    // A result written by hand as a query's download would be: two days of one usage type.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bq-results-20260402.csv");
    let marker = "llm-scope3 sql aws-cur --dialect athena --table billing.cur2 --from 2026-01-01 --to 2026-03-31 (query 0123456789ab)";
    std::fs::write(
        &csv,
        format!(
            "bill_payer_account_id,line_item_usage_account_id,line_item_line_item_type,line_item_product_code,\
             line_item_usage_type,product_region_code,pricing_unit,line_item_unblended_rate,line_item_currency_code,\
             product,line_item_usage_start_date,line_item_usage_end_date,line_item_usage_amount,\
             line_item_unblended_cost,llm_scope3_rows,llm_scope3_query\n\
             210987654321,310987654322,Usage,AmazonBedrock,USE1-Claude4.6Sonnet-input-tokens,us-east-1,1K tokens,0.003,USD,\
             \"{{\"\"product_name\"\":\"\"Amazon Bedrock\"\"}}\",2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,12.0,0.036,24,{marker}\n\
             210987654321,310987654322,Usage,AmazonBedrock,USE1-Claude4.6Sonnet-input-tokens,us-east-1,1K tokens,0.003,USD,\
             \"{{\"\"product_name\"\":\"\"Amazon Bedrock\"\"}}\",2026-01-02T00:00:00Z,2026-01-03T00:00:00Z,6.0,0.018,12,{marker}\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("r.xlsx");
    let json = dir.path().join("s.json");
    bin_in(dir.path())
        .args([
            "report",
            "bq-results-20260402.csv",
            "--quarter",
            "2026Q1",
            "--out",
        ])
        .arg(&out)
        .arg("--json")
        .arg(&json)
        .assert()
        .success();
    // 2 result rows summing 24 + 12 = 36 billing rows; 12 K + 6 K = 18,000 input tokens.
    let note =
        format!("warehouse query result: 2 row(s) summing 36 billing row(s), from `{marker}`");
    let imports = crate::common::sheet_text(&out, "Imports");
    assert!(imports.iter().any(|c| c.contains(&note)), "{imports:?}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    let w = &v["imports"][0]["warehouse_query"];
    assert_eq!(w["query"], marker);
    assert_eq!(
        (w["result_rows"].as_u64(), w["billing_rows"].as_u64()),
        (Some(2), Some(36))
    );
    assert_eq!(v["totals"]["input_tokens"], 18_000);
    // A file that is not a query's result has no such entry.
    let plain = crate::common::run(&[&fixture("parquet/aws_cur2_bedrock.csv")], "2026Q1").unwrap();
    assert!(plain.files[0].warehouse.is_none());
}

#[test]
fn a_ledger_keeps_either_the_export_or_the_query_result_of_a_period_never_both() {
    let dir = tempfile::tempdir().unwrap();
    let marker = "llm-scope3 sql aws-cur --dialect athena --table billing.cur2 --from 2026-01-01 --to 2026-03-31 (query 0123456789ab)";
    let header = "bill_payer_account_id,line_item_usage_account_id,line_item_line_item_type,line_item_product_code,\
                  line_item_usage_type,product_region_code,pricing_unit,line_item_unblended_rate,line_item_currency_code,\
                  product,line_item_usage_start_date,line_item_usage_end_date,line_item_usage_amount,\
                  line_item_unblended_cost,llm_scope3_rows,llm_scope3_query\n";
    // Two result rows of 5 January differing only in the product map: two records, two keys.
    let row = |product: &str, amount: &str, cost: &str| {
        format!(
            "210987654321,310987654322,Usage,AmazonBedrock,USE1-Claude4.6Sonnet-input-tokens,us-east-1,1M tokens,3.0,USD,\
             \"{product}\",2026-01-05T10:00:00Z,2026-01-05T11:00:00Z,{amount},{cost},1,{marker}\n"
        )
    };
    let with_model = r#"{""model"":""Claude Sonnet 4.6"",""product_name"":""Amazon Bedrock""}"#;
    let without = r#"{""product_name"":""Amazon Bedrock""}"#;
    let result = format!(
        "{header}{}{}",
        row(with_model, "10", "30"),
        row(without, "2.5", "7.5")
    );
    std::fs::write(dir.path().join("result.csv"), &result).unwrap();
    std::fs::copy(
        fixture("parquet/aws_cur2_bedrock.csv"),
        dir.path().join("export.csv"),
    )
    .unwrap();
    let import = |file: &str, extra: &[&str]| {
        bin_in(dir.path())
            .args(["import", file, "--ledger", "l.db"])
            .args(extra)
            .assert()
    };
    import("export.csv", &[]).success();
    // The result covers 5 January of the export's account: refused, naming both.
    let refused = import("result.csv", &[]).failure();
    let err = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(
        err.contains("result.csv is a warehouse query's result and export.csv an export")
            || err.contains("is a warehouse query's result"),
        "{err}"
    );
    assert!(err.contains("--replace 1"), "{err}");
    // Superseding the export: the ledger then holds the result's 10 M + 2.5 M = 12.5 M input
    // tokens, both rows (their keys differ by the product map).
    let out = stdout(import("result.csv", &["--replace", "1"]).success());
    assert!(out.contains("2 records stored"), "{out}");
    // A later result over the same day and one more (6 January, 1 M tokens): the two rows
    // already held are recognised by their keys, only the new one is added.
    let later = format!(
        "{result}{}",
        row(without, "1", "3").replace("2026-01-05T1", "2026-01-06T1")
    );
    std::fs::write(dir.path().join("result later.csv"), later).unwrap();
    let out = stdout(import("result later.csv", &[]).success());
    assert!(out.contains("3 records stored: 2 duplicate"), "{out}");
    let json = dir.path().join("s.json");
    bin_in(dir.path())
        .args([
            "report",
            "--ledger",
            "l.db",
            "--quarter",
            "2026Q1",
            "--json",
        ])
        .arg(&json)
        .arg("--out")
        .arg(dir.path().join("r.xlsx"))
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    // 10 M + 2.5 M + 1 M = 13.5 M input tokens, each row once.
    assert_eq!(v["totals"]["input_tokens"], 13_500_000);
}

/// A query in a dialect, over a quarter, with the partition filter; the marker's text (which
/// names the dialect and the file's SHA-256) left as its placeholder.
fn rendered(template: &str, dialect: Dialect) -> String {
    let d = |s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let q = warehouse::render(&QueryRequest {
        template,
        dialect,
        table: None,
        period: Some((d("2026-01-01"), d("2026-03-31"))),
        partition_filter: true,
    })
    .unwrap();
    q.text.replace(&q.marker, "{{query}}")
}

#[test]
fn athena_and_bigquery_queries_parse_in_their_dialects() {
    use sqlparser::dialect::{AnsiDialect, BigQueryDialect, DuckDbDialect};
    use sqlparser::parser::Parser;
    let athena = rendered("aws-cur", Dialect::Athena);
    let statements = Parser::parse_sql(&AnsiDialect {}, &athena)
        .unwrap_or_else(|e| panic!("Athena (ANSI) query: {e}\n{athena}"));
    assert_eq!(statements.len(), 1);
    // Trino rejects backquotes: the Athena query has none.
    assert!(!athena.contains('`'));
    let bigquery = rendered("gcp-billing", Dialect::Bigquery);
    let statements = Parser::parse_sql(&BigQueryDialect {}, &bigquery)
        .unwrap_or_else(|e| panic!("BigQuery query: {e}\n{bigquery}"));
    assert_eq!(statements.len(), 1);
    for (template, statements) in [("aws-cur", 2), ("gcp-billing", 2), ("azure-cost-export", 1)] {
        let duck = rendered(template, Dialect::Duckdb);
        let parsed = Parser::parse_sql(&DuckDbDialect {}, &duck)
            .unwrap_or_else(|e| panic!("DuckDB query: {e}\n{duck}"));
        // SET TimeZone (where timestamps are summed by day), then the SELECT.
        assert_eq!(parsed.len(), statements, "{template}");
    }
}

/// The lines of `b` that differ from `a`, as (line of a, line of b), lines only one side has
/// paired with "".
fn differing_lines(a: &str, b: &str) -> Vec<(String, String)> {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    // The longest common subsequence, then the lines outside it.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, vec![]);
    let (mut only_a, mut only_b): (Vec<&str>, Vec<&str>) = (vec![], vec![]);
    let flush =
        |only_a: &mut Vec<&str>, only_b: &mut Vec<&str>, out: &mut Vec<(String, String)>| {
            let n = only_a.len().max(only_b.len());
            for k in 0..n {
                out.push((
                    only_a.get(k).copied().unwrap_or("").to_string(),
                    only_b.get(k).copied().unwrap_or("").to_string(),
                ));
            }
            only_a.clear();
            only_b.clear();
        };
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            flush(&mut only_a, &mut only_b, &mut out);
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            only_b.push(b[j]);
            j += 1;
        } else {
            only_a.push(a[i]);
            i += 1;
        }
    }
    flush(&mut only_a, &mut only_b, &mut out);
    out
}

#[test]
fn the_warehouse_dialects_differ_from_duckdb_in_a_few_known_lines() {
    let pairs = |a: &[(&str, &str)]| -> Vec<(String, String)> {
        a.iter()
            .map(|(x, y)| (x.to_string(), y.to_string()))
            .collect()
    };
    // Athena: no session time zone to set (its timestamps have none), the product map as
    // JSON through Trino's cast, dates formatted with MySQL-style specifiers (%i minutes, %s
    // seconds), and its placeholder table's comment.
    let athena = differing_lines(
        &rendered("aws-cur", Dialect::Duckdb),
        &rendered("aws-cur", Dialect::Athena),
    );
    assert_eq!(
        athena,
        pairs(&[
            (
                "-- llm-scope3 warehouse query for the aws-cur template (templates/aws-cur.toml), DuckDB.",
                "-- llm-scope3 warehouse query for the aws-cur template (templates/aws-cur.toml), Athena."
            ),
            ("SET TimeZone = 'UTC';", ""),
            (
                "  CAST(to_json(product) AS VARCHAR) AS product,",
                "  json_format(CAST(product AS JSON)) AS product,"
            ),
            (
                "  strftime(MIN(line_item_usage_start_date), '%Y-%m-%dT%H:%M:%SZ') AS line_item_usage_start_date,",
                "  date_format(MIN(line_item_usage_start_date), '%Y-%m-%dT%H:%i:%sZ') AS line_item_usage_start_date,"
            ),
            (
                "  strftime(MAX(line_item_usage_end_date), '%Y-%m-%dT%H:%M:%SZ') AS line_item_usage_end_date,",
                "  date_format(MAX(line_item_usage_end_date), '%Y-%m-%dT%H:%i:%sZ') AS line_item_usage_end_date,"
            ),
            (
                "    OR LOWER(CAST(to_json(product) AS VARCHAR)) LIKE '%bedrock%'",
                "    OR LOWER(json_format(CAST(product AS JSON))) LIKE '%bedrock%'"
            ),
            (
                "  CAST(to_json(product) AS VARCHAR),",
                "  json_format(CAST(product AS JSON)),"
            ),
        ])
    );
    // BigQuery: no session time zone (TIMESTAMP is UTC), FORMAT_TIMESTAMP, the table in
    // backquotes, and the filter on the ingestion-time partitions.
    let bigquery = differing_lines(
        &rendered("gcp-billing", Dialect::Duckdb),
        &rendered("gcp-billing", Dialect::Bigquery),
    );
    assert_eq!(bigquery.len(), 7, "{bigquery:#?}");
    assert_eq!(
        bigquery[1],
        ("SET TimeZone = 'UTC';".to_string(), String::new())
    );
    assert!(bigquery[2]
        .1
        .contains("FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', MIN(usage_start_time))"));
    assert!(bigquery[3]
        .1
        .contains("FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', MAX(usage_end_time))"));
    assert_eq!(bigquery[4].0, "FROM gcp_billing_export");
    assert_eq!(
        bigquery[4].1,
        "FROM `PROJECT.DATASET.gcp_billing_export_v1_XXXXXX_XXXXXX_XXXXXX`"
    );
    // The day before the period to the day after (the partition's day may be another time
    // zone's): 2025-12-31 to 2026-04-01 inclusive, as TIMESTAMP arithmetic.
    assert_eq!(bigquery[5].0, "");
    assert!(bigquery[5].1.starts_with(
        "  AND _PARTITIONTIME >= TIMESTAMP_SUB(TIMESTAMP '2026-01-01 00:00:00', INTERVAL 1 DAY)"
    ));
    assert!(bigquery[6].1.starts_with(
        "  AND _PARTITIONTIME < TIMESTAMP_ADD(TIMESTAMP '2026-04-01 00:00:00', INTERVAL 1 DAY)"
    ));
}

#[test]
fn sql_command_prints_the_query_lists_them_and_refuses_what_it_cannot() {
    let (q, notes) = printed(&[
        "aws-cur",
        "--dialect",
        "athena",
        "--table",
        "billing.cur2",
        "--from",
        "2026-02-01",
        "--to",
        "2026-02-28",
    ]);
    assert!(q.contains("FROM billing.cur2\n"), "{q}");
    assert!(q.contains("billing_period BETWEEN '2026-02' AND '2026-02'"));
    assert!(q.contains("< TIMESTAMP '2026-03-01 00:00:00'"));
    assert!(
        notes.contains("only the partitions of the period are scanned"),
        "{notes}"
    );
    // Without a period and table: the whole table, said so, and the placeholder named.
    let (q, notes) = printed(&["gcp-billing", "--dialect", "bigquery"]);
    assert!(!q.contains("_PARTITIONTIME"));
    assert!(notes.contains("reads every row of the table"), "{notes}");
    assert!(notes.contains("placeholder table"), "{notes}");
    let (list, _) = printed(&["--list"]);
    assert_eq!(
        list,
        "aws-cur\tathena\naws-cur\tduckdb\nazure-cost-export\tduckdb\ngcp-billing\tbigquery\ngcp-billing\tduckdb\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let e = bin_in(dir.path())
        .args(["sql", "aws-cur", "--dialect", "bigquery"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&e.get_output().stderr).to_string();
    assert!(
        err.contains("no bigquery query, only athena, duckdb"),
        "{err}"
    );
    let help = stdout(
        bin_in(dir.path())
            .args(["sql", "--help"])
            .assert()
            .success(),
    );
    assert!(help.contains("Examples:"), "{help}");
    assert!(
        help.contains("llm-scope3 sql aws-cur --dialect athena"),
        "{help}"
    );
}
