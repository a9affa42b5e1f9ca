//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use llm_scope3::cli::{PeriodArgs, ReadArgs};
use llm_scope3::config::Config;
use llm_scope3::pipeline::{self, Outcome};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture under tests/fixtures/.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// A configuration for a quarter, built-in templates, the default factor set, fixed as-of.
pub fn config(quarter: &str) -> Config {
    Config::new(
        &PeriodArgs {
            quarter: Some(quarter.into()),
            year: None,
            from: None,
            to: None,
        },
        &ReadArgs {
            templates: vec![],
            factors: None,
            config: None,
        },
        Some("2026-04-15"),
        Some("Test Entity"),
    )
    .expect("test config")
}

/// Runs the pipeline over paths for a quarter.
pub fn run(paths: &[&Path], quarter: &str) -> Result<Outcome, llm_scope3::error::Error> {
    let paths: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    let (inputs, skipped) = pipeline::inputs_from_paths(&paths)?;
    pipeline::run(&inputs, skipped, &config(quarter))
}

/// Relative closeness.
pub fn close(actual: f64, expected: f64, rel: f64) -> bool {
    if expected == 0.0 {
        return actual.abs() < rel;
    }
    ((actual - expected) / expected).abs() <= rel
}

/// Asserts relative closeness with a readable message.
#[track_caller]
pub fn assert_close(actual: f64, expected: f64, rel: f64, what: &str) {
    assert!(
        close(actual, expected, rel),
        "{what}: got {actual}, expected {expected} (relative tolerance {rel})"
    );
}

/// The binary, run in `dir`.
pub fn bin_in(dir: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("llm-scope3").expect("the binary");
    c.current_dir(dir);
    c
}

/// Standard output of a finished command, as text.
pub fn stdout(a: assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).expect("UTF-8 output")
}

/// Every cell of a workbook sheet, as text.
pub fn sheet_text(path: &Path, sheet: &str) -> Vec<String> {
    use calamine::{open_workbook_auto, Reader};
    let mut wb = open_workbook_auto(path).expect("a workbook");
    let range = wb.worksheet_range(sheet).expect("the sheet");
    range
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect()
}
