//! The progress bar: drawn on stderr for files of 8 MiB or more when stderr is a terminal,
//! never when it is not (a pipe, a log file). The terminal is a pseudo-terminal made by
//! `script` (util-linux, in every Debian install); skipped with a printed reason when it is
//! missing and CI is not set, mandatory when CI=true.

use crate::common::bin_in;
use std::path::{Path, PathBuf};

const HEADER: &str = "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,api_key_id,model,batch,service_tier,input_tokens,output_tokens,input_cached_tokens";
const ROW: &str = "1767225600,1767312000,2026-01-01T00:00:00+00:00,2026-01-02T00:00:00+00:00,proj_a,1.0,,key_a,gpt-4o-2024-08-06,False,default,1000.0,10.0,0.0";

/// `script`, or `None` (and the caller skips) outside CI.
fn script() -> Option<PathBuf> {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("script"))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but `script` (util-linux: Debian package bsdutils) is missing");
        }
        crate::common::skipped(
            "the progress bar",
            "`script` (util-linux) is not installed, so no terminal to test the progress bar on",
        );
    }
    found
}

/// What the terminal (50 rows by 200 columns, so the bar's message is not cut short) showed while
/// `llm-scope3 report <file>` ran with stderr on it.
fn on_a_terminal(script: &Path, dir: &Path, file: &str) -> String {
    let bin = assert_cmd::cargo::cargo_bin("llm-scope3");
    let command = format!(
        "stty rows 50 cols 200 && '{}' report '{file}' --quarter 2026Q1 --out r.xlsx",
        bin.display()
    );
    let out = std::process::Command::new(script)
        .current_dir(dir)
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{shown}");
    shown
}

/// Whether one drawing of the bar (the text between carriage returns) shows all of `parts`.
fn drawn(shown: &str, parts: &[&str]) -> bool {
    shown
        .split('\r')
        .any(|d| parts.iter().all(|p| d.contains(p)))
}

/// Standard error of the same run with stderr on a pipe.
fn on_a_pipe(dir: &Path, file: &str) -> String {
    let out = bin_in(dir)
        .args(["report", file, "--quarter", "2026Q1", "--out", "p.xlsx"])
        .assert()
        .success();
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

#[test]
fn a_big_csv_shows_bytes_read_on_a_terminal_and_nothing_on_a_pipe() {
    let Some(script) = script() else { return };
    let dir = tempfile::tempdir().unwrap();
    let name = "completions_usage_2026-01-01_2026-01-01.csv";
    // A 168-byte header and 70,000 rows of 139 bytes, each with its newline:
    // 169 + 70,000 × 140 = 9,800,169 bytes = 9.35 MiB, over the 8 MiB (8,388,608) threshold.
    let mut big = format!("{HEADER}\n");
    for _ in 0..70_000 {
        big.push_str(ROW);
        big.push('\n');
    }
    assert_eq!(big.len(), 9_800_169);
    std::fs::write(dir.path().join(name), &big).unwrap();

    let shown = on_a_terminal(&script, dir.path(), name);
    // The bar: bytes read of the total, the rate, the time left and the file; cleared at the
    // end (ESC [2K), before the summary.
    assert!(drawn(&shown, &["MiB/9.35 MiB", "/s eta ", name]), "{shown}");
    assert!(shown.contains("\x1b[2K"), "{shown}");
    assert!(shown.contains("rows 70000 = accepted 70000"), "{shown}");

    assert!(!on_a_pipe(dir.path(), name).contains("eta"));

    // A small file gets no bar on a terminal either.
    let small = "small.csv";
    std::fs::write(
        dir.path().join(small),
        format!("{HEADER}\n{}", format!("{ROW}\n").repeat(10)),
    )
    .unwrap();
    let shown = on_a_terminal(&script, dir.path(), small);
    assert!(!shown.contains("eta"), "{shown}");
    assert!(shown.contains("rows 10 = accepted 10"), "{shown}");
}

/// Writes a workbook over 8 MiB of 4,000 usage rows to `path`: each row has a 4,096-character
/// note of pseudo-random hex digits (incompressible past 4 bits a character: about 2 KiB a
/// row stored).
fn big_workbook(path: &Path) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let columns: Vec<&str> = HEADER.split(',').chain(["note"]).collect();
    for (c, h) in columns.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut note = String::with_capacity(4096);
    for r in 1..=4_000u32 {
        for (c, v) in ROW.split(',').enumerate() {
            match v.parse::<f64>() {
                Ok(n) => ws.write_number(r, c as u16, n).unwrap(),
                Err(_) => ws.write_string(r, c as u16, v).unwrap(),
            };
        }
        note.clear();
        for _ in 0..4096 / 16 {
            // xorshift64*: 16 hex digits a step.
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            note.push_str(&format!(
                "{:016x}",
                seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
            ));
        }
        ws.write_string(r, columns.len() as u16 - 1, &note).unwrap();
    }
    wb.save(path).unwrap();
    assert!(std::fs::metadata(path).unwrap().len() > 8 << 20);
}

#[test]
fn a_big_workbook_shows_the_share_of_the_sheet_read() {
    let Some(script) = script() else { return };
    let dir = tempfile::tempdir().unwrap();
    let name = "usage.xlsx";
    big_workbook(&dir.path().join(name));

    let shown = on_a_terminal(&script, dir.path(), name);
    // The bar: the share of the sheet's XML read, the time left, file and sheet; cleared.
    assert!(
        drawn(&shown, &["% eta ", "usage.xlsx, sheet 'Sheet1'"]),
        "{shown}"
    );
    assert!(shown.contains("\x1b[2K"), "{shown}");
    assert!(shown.contains("rows 4000 = accepted 4000"), "{shown}");

    assert!(!on_a_pipe(dir.path(), name).contains("eta"));
}

#[test]
fn a_big_workbook_read_by_calamine_shows_rows_read() {
    use std::io::Write;
    let Some(script) = script() else { return };
    let dir = tempfile::tempdir().unwrap();
    big_workbook(&dir.path().join("plain.xlsx"));
    // The same workbook with one more part whose name differs from docProps/app.xml only in
    // case: the fast scanner leaves such a package to calamine, which ignores the part.
    let name = "usage.xlsx";
    let plain = std::fs::File::open(dir.path().join("plain.xlsx")).unwrap();
    let mut zin = zip::ZipArchive::new(plain).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(dir.path().join(name)).unwrap());
    for i in 0..zin.len() {
        out.raw_copy_file(zin.by_index_raw(i).unwrap()).unwrap();
    }
    out.start_file("DOCPROPS/APP.XML", zip::write::SimpleFileOptions::default())
        .unwrap();
    out.write_all(b"<Properties/>").unwrap();
    out.finish().unwrap();

    let shown = on_a_terminal(&script, dir.path(), name);
    // A count of the rows read (calamine does not say how far into the sheet it is), the
    // file and the sheet; cleared.
    assert!(
        drawn(&shown, &[" rows (", "usage.xlsx, sheet 'Sheet1'"]),
        "{shown}"
    );
    assert!(!shown.contains("% eta"), "{shown}");
    assert!(shown.contains("\x1b[2K"), "{shown}");
    assert!(shown.contains("rows 4000 = accepted 4000"), "{shown}");

    assert!(!on_a_pipe(dir.path(), name).contains("rows ("));
}
