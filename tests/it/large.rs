//! Big-file behaviour that must not cost memory per row: rejections past the first of each
//! reason are counted, not listed, and the reports say how many more there are.

use crate::common::{bin_in, run, stdout};

const HEADER: &str = "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,api_key_id,model,batch,service_tier,input_tokens,output_tokens,input_cached_tokens";

/// `good` valid rows (1,000 input and 10 output tokens each) and `bad` rows whose input
/// tokens are `x<i>` (a different value each time, one reason).
fn export(good: u64, bad: u64) -> String {
    let mut s = format!("{HEADER}\n");
    for i in 0..good + bad {
        let input = if i < bad {
            format!("x{i}")
        } else {
            "1000.0".into()
        };
        s.push_str(&format!(
            "1767225600,1767312000,2026-01-01T00:00:00+00:00,2026-01-02T00:00:00+00:00,proj_a,1.0,,key_a,gpt-4o-2024-08-06,False,default,{input},10.0,0.0\n"
        ));
    }
    s
}

#[test]
fn rejections_past_the_first_per_reason_are_counted_not_listed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("completions_usage_2026-01-01_2026-01-01.csv");
    std::fs::write(&path, export(3, 250)).unwrap();
    let o = run(&[&path], "2026Q1").unwrap();
    let f = &o.files[0];
    // 250 bad rows: 100 listed (the per-reason limit), 150 counted; 3 good rows accepted.
    assert_eq!(f.counts.rejected, 250);
    assert_eq!(o.rejections.len(), 100);
    assert_eq!(f.rejections_not_listed, 150);
    assert_eq!(f.counts.accepted, 3);
    assert!(f.counts.balanced());
    // The first rejections are the ones listed, in file order: rows 2 to 101.
    assert_eq!(o.rejections[0].row, 2);
    assert_eq!(o.rejections[99].row, 101);
    // 3 × 1,000 input tokens.
    assert_eq!(o.summary.totals.activity.input_tokens, 3_000);

    let out = stdout(
        bin_in(dir.path())
            .args(["report", "."])
            .args(["--quarter", "2026Q1", "--out", "r.xlsx"])
            .assert()
            .success(),
    );
    assert!(
        out.contains("100 row(s) rejected (and 150 more counted"),
        "{out}"
    );
    let cells = crate::common::sheet_text(&dir.path().join("r.xlsx"), "Rejected Rows");
    assert!(
        cells
            .iter()
            .any(|c| c.starts_with("150 more rejected row(s) of this file not listed")),
        "{cells:?}"
    );
}
