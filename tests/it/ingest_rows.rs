//! Row handling: rejections with file, row, column and reason; skips; row accounting;
//! control totals against an independent sum; header detection below title rows.

use crate::common::{fixture, root, run};

#[test]
fn each_kind_of_bad_row_is_rejected_or_flagged_with_file_row_and_column() {
    let path = fixture("openai_bad_rows.csv");
    let o = run(&[&path], "2026Q1").unwrap();
    let name = path.display().to_string();
    let find = |row: u64| {
        o.rejections
            .iter()
            .find(|r| r.row == row)
            .unwrap_or_else(|| panic!("row {row} should be rejected: {:?}", o.rejections))
    };
    for r in &o.rejections {
        assert_eq!(r.file, name);
        assert_eq!(r.sheet, None);
    }
    // Row 3: non-numeric tokens.
    let r = find(3);
    assert_eq!(r.column.as_deref(), Some("input_tokens"));
    assert_eq!(r.value.as_deref(), Some("lots"));
    assert!(
        r.reason.contains("expected a number of tokens"),
        "{}",
        r.reason
    );
    // Row 4: negative tokens.
    let r = find(4);
    assert_eq!(r.column.as_deref(), Some("output_tokens"));
    assert_eq!(r.value.as_deref(), Some("-500.0"));
    assert_eq!(r.reason, "negative tokens");
    // Row 5: missing date.
    let r = find(5);
    assert_eq!(r.column.as_deref(), Some("start_time"));
    assert!(r.reason.starts_with("missing date"), "{}", r.reason);
    // Row 6: unparseable date.
    let r = find(6);
    assert_eq!(r.column.as_deref(), Some("start_time"));
    assert_eq!(r.value.as_deref(), Some("yesterday"));
    assert!(r.reason.starts_with("unparseable date"), "{}", r.reason);
    // Row 10: cached tokens above input tokens.
    let r = find(10);
    assert_eq!(r.column.as_deref(), Some("input_cached_tokens"));
    assert!(r.reason.contains("exceed the input tokens"), "{}", r.reason);
    assert_eq!(o.rejections.len(), 5);
    // Row 7 (unknown model) is accepted and flagged (see estimate_cases); row 8 (empty) and
    // row 9 (empty bucket) are skipped; row 11 (April) is outside the period.
    let f = &o.files[0];
    use llm_scope3::model::SkipReason;
    assert_eq!(f.skipped_by.get(&SkipReason::Blank), Some(&1));
    assert_eq!(f.skipped_by.get(&SkipReason::EmptyBucket), Some(&1));
    assert_eq!(f.counts.read, 10);
    assert_eq!(f.counts.accepted, 2);
    assert_eq!(f.counts.rejected, 5);
    assert_eq!(f.counts.skipped, 2);
    assert_eq!(f.counts.outside_period, 1);
    assert!(f.counts.balanced());
    // Control totals: valid rows 2, 7 (in period) and 11 (April): read 1000+1000+3000 input.
    assert_eq!(f.read_totals.input_tokens, 5_000);
    assert_eq!(f.accepted_totals.input_tokens, 2_000);
    assert_eq!(f.accepted_totals.output_tokens, 1_000);
}

/// An independent reading of the OpenAI sample with the csv crate alone: the tokens of every
/// row that has a Unix start time in Q1 2026, a model and non-negative numeric token counts.
fn independent_openai_totals(path: &std::path::Path) -> (u64, u64, u64, u64) {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let (ts, model, inp, out, cached) = (
        col("start_time"),
        col("model"),
        col("input_tokens"),
        col("output_tokens"),
        col("input_cached_tokens"),
    );
    let q1 = 1_767_225_600i64..1_775_001_600i64; // 2026-01-01 .. 2026-04-01 UTC
    let (mut rows, mut i_sum, mut o_sum, mut c_sum) = (0, 0, 0, 0);
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let Ok(t) = rec[ts].parse::<i64>() else {
            continue;
        };
        let (Ok(i), Ok(o)) = (rec[inp].parse::<f64>(), rec[out].parse::<f64>()) else {
            continue;
        };
        let c = rec[cached].parse::<f64>().unwrap_or(0.0);
        if rec[model].is_empty() || i < 0.0 || o < 0.0 || !q1.contains(&t) {
            continue;
        }
        rows += 1;
        i_sum += i as u64;
        o_sum += o as u64;
        c_sum += c as u64;
    }
    (rows, i_sum, o_sum, c_sum)
}

#[test]
fn openai_sample_rows_balance_and_tokens_match_an_independent_sum() {
    let path = root().join("samples/openai_completions_usage_2026-01-01_2026-03-31.csv");
    let o = run(&[&path], "2026Q1").unwrap();
    let f = &o.files[0];
    assert!(f.counts.balanced(), "{:?}", f.counts);
    let (rows, i, out, cached) = independent_openai_totals(&path);
    assert_eq!(f.counts.accepted, rows);
    assert_eq!(o.summary.totals.activity.input_tokens, i);
    assert_eq!(o.summary.totals.activity.output_tokens, out);
    assert_eq!(o.summary.totals.activity.cached_input_tokens, cached);
    // The sample's four broken rows are rejected, its total row and empty days skipped.
    assert_eq!(f.counts.rejected, 4);
    assert!(f
        .notes
        .iter()
        .any(|n| n.contains("agrees with the rows above it")));
}

#[test]
fn anthropic_xlsx_header_below_a_title_row_is_found() {
    let path = root().join("samples/anthropic_claude_api_tokens_2026_Q1.xlsx");
    let o = run(&[&path], "2026Q1").unwrap();
    let f = &o.files[0];
    assert_eq!(f.format, "anthropic-usage");
    assert_eq!(f.sheets[0].sheet.as_deref(), Some("claude_api_tokens"));
    assert_eq!(f.sheets[0].header_row, 3);
    assert!(f.counts.balanced(), "{:?}", f.counts);
    assert_eq!(f.counts.rejected, 3);
    // Rejections carry the sheet name and the Excel row number.
    assert!(o
        .rejections
        .iter()
        .all(|r| r.sheet.as_deref() == Some("claude_api_tokens") && r.row > 3));
    // The vendor total row at the end agrees with the valid rows above it.
    assert!(
        f.notes.iter().any(|n| n.contains("agrees")),
        "{:?}",
        f.notes
    );
    // Input = the four disjoint input columns; the total row states their sum.
    assert_eq!(f.read_totals.input_tokens, f.accepted_totals.input_tokens);
}

#[test]
fn rows_outside_the_period_are_counted_not_used() {
    // The OpenAI sample covers Q1 2026 only: a Q2 report accepts nothing and counts everything
    // valid as outside the period.
    let path = root().join("samples/openai_completions_usage_2026-01-01_2026-03-31.csv");
    let q1 = run(&[&path], "2026Q1").unwrap();
    let q2 = run(&[&path], "2026Q2").unwrap();
    assert_eq!(q2.files[0].counts.accepted, 0);
    assert_eq!(
        q2.files[0].counts.outside_period,
        q1.files[0].counts.accepted
    );
    assert_eq!(q2.summary.totals.emissions_kgco2e.central, 0.0);
}
