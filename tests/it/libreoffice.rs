//! The workbook opened by a second, independent reader: LibreOffice headless converts it to
//! PDF. Skipped with a printed reason when LibreOffice is missing and CI is not set; mandatory
//! when CI=true (.ci/run installs libreoffice-calc).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{config, root, run};
use llm_scope3::report::workbook;

/// The LibreOffice binary, or `None` (and the caller skips) outside CI.
pub fn soffice() -> Option<PathBuf> {
    for name in ["soffice", "libreoffice"] {
        if let Ok(out) = Command::new("which").arg(name).output() {
            if out.status.success() {
                let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
                if !p.is_empty() {
                    return Some(PathBuf::from(p));
                }
            }
        }
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but LibreOffice (soffice) is not installed: .ci/run must install libreoffice-calc");
    }
    eprintln!(
        "SKIPPED: LibreOffice (soffice) not found; install libreoffice-calc to run this test"
    );
    None
}

/// Converts `input` with LibreOffice headless into `dir`, in a throwaway profile.
pub fn convert(soffice: &Path, input: &Path, to: &str, dir: &Path) -> std::process::Output {
    let profile = dir.join("profile");
    Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(dir)
        .arg(input)
        .output()
        .expect("run soffice")
}

#[test]
fn libreoffice_converts_the_sample_workbook_to_pdf() {
    let Some(soffice) = soffice() else { return };
    let o = run(&[&root().join("samples")], "2026Q1").unwrap();
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("report.xlsx");
    std::fs::write(&xlsx, bytes).unwrap();
    let out = convert(&soffice, &xlsx, "pdf", dir.path());
    let pdf = dir.path().join("report.pdf");
    assert!(
        out.status.success() && pdf.exists(),
        "LibreOffice could not convert the workbook: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pdf_bytes = std::fs::read(&pdf).unwrap();
    assert!(pdf_bytes.starts_with(b"%PDF"));
    // One page or more per sheet: every sheet was laid out.
    let pages = pdf_bytes
        .windows(10)
        .filter(|w| w == b"/Type /Pag" || w == b"/Type/Page")
        .count();
    assert!(pages >= workbook::SHEETS.len(), "only {pages} pages");
}
