#![cfg_attr(not(feature = "serve"), allow(dead_code))]
//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use llm_scope3::config::Config;
use llm_scope3::config::{PeriodRequest, ReadRequest};
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
        &PeriodRequest {
            quarter: Some(quarter.into()),
            year: None,
            from: None,
            to: None,
        },
        &ReadRequest {
            templates: vec![],
            factors: None,
            config: None,
            max_lines: None,
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

/// [`run`] with an embedded factor set named (`2026.1`: the hand-worked cases of the first
/// set, which `--factors 2026.1` keeps reproducing).
pub fn run_factors(
    paths: &[&Path],
    quarter: &str,
    factors: &str,
) -> Result<Outcome, llm_scope3::error::Error> {
    let paths: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    let (inputs, skipped) = pipeline::inputs_from_paths(&paths)?;
    let config = Config::new(
        &PeriodRequest {
            quarter: Some(quarter.into()),
            year: None,
            from: None,
            to: None,
        },
        &ReadRequest {
            templates: vec![],
            factors: Some(factors.into()),
            config: None,
            max_lines: None,
        },
        Some("2026-04-15"),
        Some("Test Entity"),
    )
    .expect("test config");
    pipeline::run(&inputs, skipped, &config)
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

/// The binary, run in `dir`. Without `LLM_SCOPE3_LEDGER`: a test that means the default
/// ledger (./llm-scope3.db in `dir`) must never reach a ledger the environment names.
pub fn bin_in(dir: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("llm-scope3").expect("the binary");
    c.current_dir(dir).env_remove("LLM_SCOPE3_LEDGER");
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

/// One part of a multipart/form-data body.
pub enum Part<'a> {
    /// A file field named `files`: the file name the browser would send, and the bytes.
    File(&'a str, &'a [u8]),
    /// A text field.
    Field(&'a str, &'a str),
    /// A file in a field of another name: field, file name, bytes.
    FileIn(&'a str, &'a str, &'a [u8]),
}

/// The boundary [`multipart`] uses.
pub const BOUNDARY: &str = "----llm-scope3-test-boundary-7d1e";

/// A multipart/form-data body (Content-Type `multipart/form-data; boundary=BOUNDARY`).
pub fn multipart(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match p {
            Part::File(name, bytes) | Part::FileIn("files", name, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
            Part::FileIn(field, name, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/json\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
            Part::Field(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}")
                        .as_bytes(),
                );
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A sample file's bytes.
pub fn sample(name: &str) -> Vec<u8> {
    std::fs::read(root().join("samples").join(name)).expect("a sample file")
}

/// A zip bomb dressed as a workbook: `mib` MiB of zeros in one sheet entry (deflate makes it
/// about 1,000 times smaller).
pub fn zip_bomb(mib: usize) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    zip.start_file("[Content_Types].xml", opts).unwrap();
    zip.write_all(b"<Types/>").unwrap();
    zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..mib {
        zip.write_all(&zeros).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A numeric workbook cell.
pub fn cell_f64(d: &calamine::Data) -> f64 {
    match d {
        calamine::Data::Float(f) => *f,
        calamine::Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

/// The E1-6 figure of a workbook (tCO2e central, 'E1-6 Summary'!G7, the cell XBRL Map names).
pub fn workbook_tco2e(xlsx: &[u8]) -> f64 {
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(xlsx.to_vec())).expect("a workbook");
    let s = wb.worksheet_range("E1-6 Summary").expect("the E1-6 sheet");
    cell_f64(s.get_value((6, 6)).expect("G7"))
}

/// Says that a test skipped and why, on the terminal even though the test harness captures
/// `eprintln!` of passing tests: a skipped check must be seen, never mistaken for a pass.
pub fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}
