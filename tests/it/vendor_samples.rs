//! Every vendor sample read as the portal hands it out, checked against control totals that
//! samples/expected_vendor_totals.json states independently (tools/make_vendor_samples.py
//! computes them from the values it wrote, not by parsing the files).

use crate::common::{root, run};
use llm_scope3::model::SkipReason;

fn expected() -> serde_json::Value {
    let text = std::fs::read_to_string(root().join("samples/expected_vendor_totals.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn n(v: &serde_json::Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

/// (file, format, tokens are activity in this export)
const FILES: &[(&str, &str, bool)] = &[
    ("azure_cost_export_ea_2026Q1.csv", "azure-cost-export", true),
    (
        "azure_cost_export_mca_2026Q1.csv",
        "azure-cost-export",
        true,
    ),
    ("aws_cur_legacy_bedrock_2026Q1.csv", "aws-cur", true),
    ("aws_cur2_bedrock_2026Q1.csv.gz", "aws-cur", true),
    ("gcp_billing_bigquery_2026Q1.csv", "gcp-billing", true),
    ("gcp_billing_console_2026Q1.csv", "gcp-billing", true),
    (
        "openai_cost_2026-01-01_2026-03-31.csv",
        "openai-cost",
        false,
    ),
    (
        "anthropic_claude_api_cost_2026_Q1.csv",
        "anthropic-cost",
        false,
    ),
];

#[test]
fn vendor_samples_match_their_control_totals() {
    let all = expected();
    let mut failures = vec![];
    for (file, format, tokens_are_activity) in FILES {
        let path = root().join("samples").join(file);
        let o = run(&[&path], "2026Q1").unwrap_or_else(|e| panic!("{file}: {e}"));
        let e = &all["files"][*file];
        let f = &o.files[0];
        let mut check = |what: &str, got: u64, want: u64| {
            if got != want {
                failures.push(format!("{file}: {what}: got {got}, expected {want}"));
            }
        };
        assert_eq!(f.format, *format, "{file}");
        assert!(f.counts.balanced(), "{file}: {:?}", f.counts);
        check("rows read", f.counts.read, n(e, "rows_below_header"));
        check("rejected", f.counts.rejected, n(e, "rejected_rows"));
        check(
            "other-service rows skipped",
            f.skipped_by
                .get(&SkipReason::OtherService)
                .copied()
                .unwrap_or(0),
            n(e, "other_service_rows"),
        );
        check(
            "empty buckets skipped",
            f.skipped_by
                .get(&SkipReason::EmptyBucket)
                .copied()
                .unwrap_or(0),
            n(e, "empty_bucket_rows"),
        );
        check(
            "spend adjustment rows",
            f.adjustment_rows,
            n(e, "adjustment_rows"),
        );
        // Rows without tokens: listed (cost-export rows a usage export covers) or estimated
        // from their spend (a spend line each).
        let spend_line_rows: u64 = o
            .summary
            .calc_lines
            .iter()
            .filter(|c| c.key.spend.is_some())
            .map(|c| c.source.count)
            .sum();
        let not_estimated_rows: u64 = o
            .summary
            .not_estimated
            .iter()
            .flat_map(|l| l.sources.iter().map(|s| s.count))
            .sum::<u64>()
            + spend_line_rows;
        // Character-billed SKUs are activity here (characters / 4 tokens, METHODOLOGY §2);
        // the generator lists them among its not-token rows.
        let character_rows = n(&e["not_token_breakdown"]["characters"], "rows");
        let characters = e["not_token_breakdown"]["characters"]["quantity"]
            .as_str()
            .map(|q| q.parse::<u64>().unwrap())
            .unwrap_or(0);
        if *tokens_are_activity {
            check(
                "not-estimated rows",
                not_estimated_rows + character_rows,
                n(e, "not_token_rows"),
            );
            let a = &o.summary.totals.activity;
            check(
                "characters",
                a.input_characters + a.output_characters,
                characters,
            );
            let t = &o.summary.totals.activity;
            check("input tokens", t.input_tokens, n(e, "input_tokens"));
            check(
                "cached input tokens",
                t.cached_input_tokens,
                n(e, "cached_input_tokens"),
            );
            check("output tokens", t.output_tokens, n(e, "output_tokens"));
            let lines: u64 = o
                .summary
                .calc_lines
                .iter()
                .filter(|c| c.key.spend.is_none())
                .map(|c| c.source.count)
                .sum();
            check("token rows", lines, n(e, "llm_token_rows") + character_rows);
        } else {
            // Cost exports are spend rows: every row with money is listed, none is activity.
            check(
                "spend rows",
                not_estimated_rows,
                n(e, "llm_token_rows") + n(e, "not_token_rows"),
            );
            assert_eq!(o.summary.totals.activity.input_tokens, 0, "{file}");
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn all_samples_together_reconcile_per_file() {
    // Ten usage and cost exports and one vendor carbon report (samples/gcp_carbon_footprint_*).
    let o = run(&[&root().join("samples")], "2026Q1").unwrap();
    assert_eq!(o.files.len(), 11);
    assert_eq!(
        o.files
            .iter()
            .filter(|f| f.format == "gcp-carbon-footprint")
            .count(),
        1
    );
    for f in &o.files {
        assert!(f.counts.balanced(), "{}: {:?}", f.file, f.counts);
        assert!(!f.format.is_empty(), "{}", f.file);
    }
}

#[test]
fn xlsx_resaves_of_vendor_csvs_give_the_same_totals() {
    // tests/fixtures/xlsx_resaves/ holds the Azure EA and GCP BigQuery CSVs as Excel saves them (numbers as
    // numbers, MM/DD/YYYY as date cells): same rows, same tokens.
    for name in ["azure_cost_export_ea_2026Q1", "gcp_billing_bigquery_2026Q1"] {
        let csv = run(&[&root().join(format!("samples/{name}.csv"))], "2026Q1").unwrap();
        let xlsx = run(
            &[&root().join(format!("tests/fixtures/xlsx_resaves/{name}.xlsx"))],
            "2026Q1",
        )
        .unwrap();
        assert_eq!(csv.files[0].counts, xlsx.files[0].counts, "{name}");
        assert_eq!(
            csv.summary.totals.activity, xlsx.summary.totals.activity,
            "{name}"
        );
        let (a, b) = (
            csv.summary.totals.emissions_kgco2e.central,
            xlsx.summary.totals.emissions_kgco2e.central,
        );
        assert!(((a - b) / a).abs() < 1e-12, "{name}: {a} vs {b}");
    }
}
