//! Messy real-world files (tests/fixtures/messy/, written by tools/make_messy_fixtures.py and
//! examples/make_samples.rs): each is read correctly or refused with a precise message.

use llm_scope3::error::Error;
use llm_scope3::model::SkipReason;
use llm_scope3::pipeline::Outcome;

use crate::common::{root, run};

fn messy(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/messy").join(name)
}

fn read(name: &str) -> Outcome {
    run(&[&messy(name)], "2026Q1").unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn refused(name: &str) -> String {
    match run(&[&messy(name)], "2026Q1") {
        Ok(_) => panic!("{name} should be refused"),
        Err(e) => {
            assert_eq!(e.exit_code(), 3, "{name}: {e}");
            e.to_string()
        }
    }
}

fn tokens(o: &Outcome) -> (u64, u64, u64) {
    let a = &o.summary.totals.activity;
    (a.input_tokens, a.cached_input_tokens, a.output_tokens)
}

#[test]
fn semicolon_decimal_comma_is_read() {
    // Row 1: 1.234.567 no-cache + 1.000 cache read = 1,235,567 input (1,000 cached);
    //        output 12.345,0 = 12,345. Row 2: 1.000 + 0 input, 500 output.
    let o = read("semicolon_decimal_comma.csv");
    assert!(o.files[0].dialect.contains("semicolon"));
    assert_eq!(tokens(&o), (1_235_567 + 1_000, 1_000, 12_345 + 500));
}

#[test]
fn azure_saved_by_eu_excel_is_read_day_first_with_decimal_commas() {
    // 15/01/2026 can only be day-first, overriding Azure's usual month-first order (noted).
    // Quantity 1500 × price 0,0025 = 3,75 = cost: price blocks of 1K → 1,500,000 tokens;
    // 400,5 × 0,01 = 4,005 = cost → 400,500 output tokens.
    let o = read("azure_semicolon_decimal_comma.csv");
    assert_eq!(tokens(&o), (1_500_000, 0, 400_500));
    assert_eq!(
        o.summary.totals.spend.get("EUR").copied(),
        Some(3.75 + 4.005)
    );
    assert!(
        o.files[0].notes.iter().any(|n| n.contains("re-saved")),
        "{:?}",
        o.files[0].notes
    );
}

#[test]
fn thousands_separators_and_quoted_numbers_are_read() {
    // "1,234,567" + "1,000" cached = 1,235,567 input; "12,345" output; then "1000" / "500".
    let o = read("thousands_separators.csv");
    assert_eq!(tokens(&o), (1_235_567 + 1_000, 1_000, 12_345 + 500));
}

#[test]
fn currency_symbols_and_credits_in_cost_columns() {
    // $3.75 = 1500 × $0.0025 (blocks) → 1.5M tokens; "$2.50" = "1,000" × US$ 0.0025 →
    // 1M tokens; (1.25) with no quantity is a credit: a spend adjustment, never activity.
    let o = read("currency_symbols.csv");
    assert_eq!(tokens(&o), (2_500_000, 0, 0));
    assert_eq!(o.summary.totals.spend.get("USD").copied(), Some(6.25));
    assert_eq!(o.files[0].adjustment_rows, 1);
    assert_eq!(o.files[0].adjustments.get("USD").copied(), Some(-1.25));
}

#[test]
fn day_first_dates_are_decided_from_the_file() {
    // 03/01 and 04/01 wait until 31/01 proves day-first: 3 Jan, 4 Jan, 31 Jan, 5 Feb.
    let o = read("dates_day_first.csv");
    let mut months: Vec<&str> = o
        .summary
        .lines
        .iter()
        .map(|l| l.key.month.as_str())
        .collect();
    months.sort();
    assert_eq!(months, vec!["2026-01", "2026-02"]);
    assert_eq!(o.files[0].first_date.unwrap().to_string(), "2026-01-03");
    assert_eq!(o.files[0].last_date.unwrap().to_string(), "2026-02-05");
    assert_eq!(o.files[0].counts.accepted, 4);
    // Rows keep their own numbers although some waited.
    assert!(o.summary.calc_lines.iter().any(|c| c.source.rows == [2, 4]));
}

#[test]
fn month_first_dates_are_decided_from_the_file() {
    let o = read("dates_month_first.csv");
    assert_eq!(o.files[0].first_date.unwrap().to_string(), "2026-01-03");
    assert_eq!(o.files[0].last_date.unwrap().to_string(), "2026-02-05");
}

#[test]
fn dates_no_row_settles_are_refused_not_guessed() {
    let msg = refused("dates_ambiguous.csv");
    assert!(
        msg.contains("read both as day/month and month/day"),
        "{msg}"
    );
    assert!(msg.contains("date_order"), "{msg}");
}

#[test]
fn a_date_contradicting_the_files_order_is_rejected() {
    let o = read("dates_contradicting.csv");
    assert_eq!(o.rejections.len(), 1);
    assert_eq!(o.rejections[0].row, 3);
    assert!(o.rejections[0].reason.contains("month/day/year"));
}

#[test]
fn utf16_and_windows_1252_exports_are_read() {
    // Each file: 1,000 no-cache + 200 cache read = 1,200 input, 300 output, workspace
    // "Développement" (é must survive the decoding).
    for name in ["utf16le_bom.txt", "utf16be_bom.csv", "windows1252.csv"] {
        let o = read(name);
        assert_eq!(tokens(&o), (1_200, 200, 300), "{name}");
        assert_eq!(
            o.summary.lines[0].key.cost_centre.as_deref(),
            Some("Développement"),
            "{name}"
        );
    }
    assert!(read("utf16le_bom.txt").files[0]
        .dialect
        .contains("UTF-16LE"));
    assert!(read("windows1252.csv").files[0]
        .dialect
        .contains("windows-1252"));
}

#[test]
fn title_rows_blank_rows_and_a_total_row_are_handled() {
    // Two title lines and an empty line, header on line 4; a row of empty cells (line 6) and
    // an empty line are skipped; the Total row (line 9) agrees: 1,200 + 2,000 input.
    let o = read("title_blank_total.csv");
    let f = &o.files[0];
    assert_eq!(f.sheets[0].header_row, 4);
    assert_eq!(f.counts.accepted, 2);
    assert_eq!(f.skipped_by.get(&SkipReason::TotalRow), Some(&1));
    assert_eq!(f.skipped_by.get(&SkipReason::Blank), Some(&1));
    assert!(f
        .notes
        .iter()
        .any(|n| n.contains("row 9 agrees") && n.contains("3200")));
    assert_eq!(tokens(&o), (3_200, 200, 400));
}

#[test]
fn a_total_row_that_disagrees_is_reported() {
    let o = read("total_mismatch.csv");
    assert!(o.files[0]
        .notes
        .iter()
        .any(|n| n.contains("states 9200 input tokens; the valid rows above it sum to 1200")));
}

#[test]
fn repeated_headers_and_extra_columns() {
    let o = read("repeated_header_extra_columns.csv");
    let f = &o.files[0];
    assert_eq!(f.skipped_by.get(&SkipReason::RepeatedHeader), Some(&1));
    assert_eq!(tokens(&o), (2_000, 0, 600));
}

#[test]
fn negative_token_counts_are_rejected_not_netted() {
    let o = read("negative_tokens.csv");
    assert_eq!(tokens(&o), (1_000, 0, 300));
    let r = &o.rejections[0];
    assert_eq!(
        (r.row, r.column.as_deref(), r.value.as_deref()),
        (3, Some("usage_input_tokens_no_cache"), Some("-400"))
    );
    assert_eq!(r.reason, "negative tokens");
}

#[test]
fn credits_refunds_and_tax_are_spend_adjustments_never_activity() {
    // Usage: 2,000 × 1K input tokens, 100 × 1K output tokens. Credit −2.50, refund −1.00 and
    // the Bedrock tax 0.68 are adjustments (−2.82); the EC2 tax line is another service.
    let o = read("credit_refund_tax.csv");
    assert_eq!(tokens(&o), (2_000_000, 0, 100_000));
    let f = &o.files[0];
    assert_eq!(f.adjustment_rows, 3);
    assert!((f.adjustments["USD"] - (-2.82)).abs() < 1e-9);
    assert_eq!(f.skipped_by.get(&SkipReason::OtherService), Some(&1));
    assert_eq!(o.summary.adjustments.len(), 3);
}

#[test]
fn a_missing_required_column_is_named() {
    let msg = refused("missing_required_column.csv");
    assert!(msg.contains("usage_output_tokens"), "{msg}");
    assert!(msg.contains("anthropic-usage"), "{msg}");
}

#[test]
fn empty_and_non_spreadsheet_files_are_refused() {
    assert!(refused("empty.csv").contains("the file is empty"));
    assert!(refused("not_a_spreadsheet.csv").contains("not a spreadsheet or CSV"));
    match run(&[&messy("empty.csv")], "2026Q1") {
        Err(Error::Input(_)) => {}
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[test]
fn excel_dates_and_the_one_sheet_that_holds_usage() {
    // Sheets Summary and Notes hold no usage header; Usage has a title row, then the header
    // (row 2), a date cell, a date-time cell, the serial number 46037 (= 2026-01-15) and the
    // text "1,234" in a number column: 1,000 + 2,000 + 500 + 1,234 input, 350 output.
    let o = read("excel_dates_several_sheets.xlsx");
    let f = &o.files[0];
    assert_eq!(f.sheets.len(), 1);
    assert_eq!(f.sheets[0].sheet.as_deref(), Some("Usage"));
    assert_eq!(f.sheets[0].header_row, 2);
    assert_eq!(tokens(&o), (4_734, 0, 350));
    assert_eq!(f.first_date.unwrap().to_string(), "2026-01-05");
    assert_eq!(f.last_date.unwrap().to_string(), "2026-03-31");
    let months: Vec<&str> = o
        .summary
        .lines
        .iter()
        .map(|l| l.key.month.as_str())
        .collect();
    assert_eq!(months, vec!["2026-01", "2026-02", "2026-03"]);
}
