//! Memory limits: distinct lines per report, single CSV lines, shared strings. Each limit is set
//! low (by option) or met with a small input, and must end in a plain file error (exit 3) that
//! names the file and, for lines, the column with the most distinct values. Nothing is timed.

use std::path::Path;

use crate::common::bin_in;

const HEADER: &str = "start_time,end_time,model,input_tokens,output_tokens,num_model_requests,project_id\n";

/// An OpenAI usage export: one row per (day, project) of January 2026, gpt-4o.
fn export(path: &Path, days: &[u32], projects: &[&str]) {
    let mut s = String::from(HEADER);
    for d in days {
        // 2026-01-01T00:00:00Z = 1767225600; one day = 86400 s.
        let start = 1_767_225_600u64 + u64::from(d - 1) * 86_400;
        for p in projects {
            s.push_str(&format!("{start},{},gpt-4o,1000,500,1,{p}\n", start + 86_400));
        }
    }
    std::fs::write(path, s).unwrap();
}

fn report(dir: &Path, extra: &[&str], files: &[&Path]) -> assert_cmd::assert::Assert {
    bin_in(dir)
        .args(["report", "--quarter", "2026Q1", "--out", "r.xlsx"])
        .args(extra)
        .args(files)
        .assert()
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

#[test]
fn distinct_lines_past_the_limit_stop_the_file_naming_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("usage.csv");
    // 4 projects × 1 model × 1 month = 4 AI Services lines.
    export(&csv, &[1, 2], &["proj_a", "proj_b", "proj_c", "proj_d"]);
    let a = report(dir.path(), &["--max-lines", "3"], &[&csv]).code(3);
    let err = stderr(&a);
    // The 4th line is refused: 3 cost centres seen plus the new one = 4; the model and the
    // month have 1 distinct value each.
    assert!(err.contains("usage.csv"), "{err}");
    assert!(
        err.contains("more than 3 distinct AI Services lines"),
        "{err}"
    );
    assert!(
        err.contains("4 distinct cost centres (cost_centre from column project_id)"),
        "{err}"
    );
    assert!(err.contains("[[cost_centres]]"), "{err}");
    assert!(!dir.path().join("r.xlsx").exists());
    // At the limit exactly, the report is made.
    report(dir.path(), &["--max-lines", "4"], &[&csv]).success();
    assert!(dir.path().join("r.xlsx").exists());
}

#[test]
fn the_config_file_sets_the_limit_and_the_option_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("usage.csv");
    export(&csv, &[1], &["proj_a", "proj_b"]);
    std::fs::write(dir.path().join("llm-scope3.toml"), "[limits]\nmax_lines = 1\n").unwrap();
    let a = report(dir.path(), &[], &[&csv]).code(3);
    // 2 projects = 2 lines, one past the file's limit of 1.
    assert!(
        stderr(&a).contains("more than 1 distinct AI Services lines"),
        "{}",
        stderr(&a)
    );
    report(dir.path(), &["--max-lines", "2"], &[&csv]).success();
    report(dir.path(), &["--max-lines", "0"], &[&csv]).code(2);
}

#[test]
fn the_same_lines_in_many_files_meet_the_calculation_line_limit() {
    let dir = tempfile::tempdir().unwrap();
    // One project, one model, January: 1 AI Services line; in 5 files, 5 calculation lines.
    // With --max-lines 1 the files may hold 4 × 1 = 4 calculation lines: the 5th file stops.
    let files: Vec<std::path::PathBuf> = (1..=5)
        .map(|d| {
            let p = dir.path().join(format!("day{d}.csv"));
            export(&p, &[d], &["proj_a"]);
            p
        })
        .collect();
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let a = report(dir.path(), &["--max-lines", "1"], &refs).code(3);
    let err = stderr(&a);
    assert!(err.contains("day5.csv"), "{err}");
    assert!(
        err.contains("more than 4 distinct calculation lines"),
        "{err}"
    );
    assert!(err.contains("5 distinct files or sheets"), "{err}");
    // Four files fit.
    report(dir.path(), &["--max-lines", "1"], &refs[..4]).success();
}
