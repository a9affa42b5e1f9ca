//! Memory limits: distinct lines per report, single CSV lines, shared strings, rejected values.
//! Each limit is set low (by option) or met with a small input, and must end in a plain file
//! error (exit 3) that names the file and, for lines, the column with the most distinct values,
//! or (rejected values) in a value kept cut with a warning. Nothing is timed.

use std::path::Path;

use crate::common::bin_in;

const HEADER: &str =
    "start_time,end_time,model,input_tokens,output_tokens,num_model_requests,project_id\n";

/// An OpenAI usage export: one row per (day, project) of January 2026, gpt-4o.
fn export(path: &Path, days: &[u32], projects: &[&str]) {
    let mut s = String::from(HEADER);
    for d in days {
        // 2026-01-01T00:00:00Z = 1767225600; one day = 86400 s.
        let start = 1_767_225_600u64 + u64::from(d - 1) * 86_400;
        for p in projects {
            s.push_str(&format!(
                "{start},{},gpt-4o,1000,500,1,{p}\n",
                start + 86_400
            ));
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
    std::fs::write(
        dir.path().join("llm-scope3.toml"),
        "[limits]\nmax_lines = 1\n",
    )
    .unwrap();
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

#[test]
fn a_long_line_where_the_header_is_looked_for_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // 2 MiB without a line end: past the 1 MiB allowed before a header is found.
    let one_line = dir.path().join("one_line.csv");
    std::fs::write(&one_line, "a,".repeat(1024 * 1024)).unwrap();
    // An open quote running to the end: the same, through the quoted-record reader.
    let open_quote = dir.path().join("open_quote.csv");
    std::fs::write(&open_quote, format!("\"{}", "x".repeat(2 * 1024 * 1024))).unwrap();
    for (f, name) in [(&one_line, "one_line.csv"), (&open_quote, "open_quote.csv")] {
        let a = report(dir.path(), &[], &[f]).code(3);
        let err = stderr(&a);
        assert!(err.contains(name), "{err}");
        assert!(
            err.contains("near row 1: a line longer than 1 MiB where the header is looked for"),
            "{err}"
        );
    }
}

#[test]
fn a_record_longer_than_16_mib_is_refused_with_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("long_row.csv");
    let mut s = String::from(HEADER);
    // Header on line 1, 60 ordinary rows on lines 2-61, then line 62 of 17 MB.
    for _ in 0..60 {
        s.push_str("1767225600,1767312000,gpt-4o,1,1,1,p\n");
    }
    s.push_str("1767225600,1767312000,gpt-4o,1,1,1,");
    s.push_str(&"x".repeat(17_000_000));
    s.push('\n');
    std::fs::write(&csv, s).unwrap();
    let a = report(dir.path(), &[], &[&csv]).code(3);
    let err = stderr(&a);
    assert!(
        err.contains(
            "long_row.csv: cannot read the CSV text near row 62: a record longer than 16 MiB"
        ),
        "{err}"
    );
}

#[test]
fn a_record_with_too_many_fields_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("wide.csv");
    let mut s = String::from(HEADER);
    for _ in 0..60 {
        s.push_str("1767225600,1767312000,gpt-4o,1,1,1,p\n");
    }
    // Line 62: 7 fields, then 1,000,000 more delimiters = 1,000,007 fields (2 MB, under the
    // 16 MiB length limit).
    s.push_str("1767225600,1767312000,gpt-4o,1,1,1,p");
    s.push_str(&",".repeat(1_000_000));
    std::fs::write(&csv, s).unwrap();
    let a = report(dir.path(), &[], &[&csv]).code(3);
    let err = stderr(&a);
    assert!(
        err.contains("wide.csv: cannot read the CSV text near row 62: a record with more than 1000000 fields"),
        "{err}"
    );
}

/// An xlsx workbook (rust_xlsxwriter) with one string cell, its shared-strings part rewritten
/// by `patch`.
fn xlsx_with_shared_strings(path: &Path, patch: impl Fn(&str) -> String) {
    use std::io::{Read, Write};
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet().write_string(0, 0, "start_time").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut text = Vec::new();
        f.read_to_end(&mut text).unwrap();
        if name == "xl/sharedStrings.xml" {
            text = patch(&String::from_utf8(text).unwrap()).into_bytes();
        }
        zout.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zout.write_all(&text).unwrap();
    }
    zout.finish().unwrap();
}

#[test]
fn a_workbook_declaring_too_many_shared_strings_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("strings.xlsx");
    // uniqueCount 16,777,217 = 16 × 1,048,576 + 1: one past the limit.
    xlsx_with_shared_strings(&xlsx, |s| {
        let start = s.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
        let end = start + s[start..].find('"').unwrap();
        format!("{}16777217{}", &s[..start], &s[end..])
    });
    let a = report(dir.path(), &[], &[&xlsx]).code(3);
    let err = stderr(&a);
    assert!(err.contains("strings.xlsx"), "{err}");
    assert!(
        err.contains(
            "xl/sharedStrings.xml declares 16777217 shared strings (the limit is 16777216"
        ),
        "{err}"
    );
}

#[test]
fn a_rejected_value_is_kept_cut_to_1024_characters_with_its_length_in_every_output() {
    // Rows 3-5 hold in input_tokens 1,023 digits then 20,000 euro signs (3 bytes each):
    // 1,023 + 20,000 = 21,023 characters, 61,023 bytes, not a number, so each row is rejected.
    // Each value is kept as its first 1,024 characters, cut on a character boundary: the 1,023
    // digits and one euro sign (1,026 bytes). Before, each was held and written whole.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("usage.csv");
    let long = format!("{}{}", "1".repeat(1_023), "€".repeat(20_000));
    let kept = format!("{}€", "1".repeat(1_023));
    let marked = format!(
        "{kept} [... cut to its first 1024 characters when read: the value has 21023 characters; no output keeps it whole]"
    );
    let mut s = String::from(HEADER);
    s.push_str("1767225600,1767312000,gpt-4o,1000,500,1,p\n");
    for _ in 0..3 {
        s.push_str(&format!("1767225600,1767312000,gpt-4o,{long},500,1,p\n"));
    }
    std::fs::write(&csv, s).unwrap();
    let as_of = ["--as-of", "2026-04-15"];
    report(
        dir.path(),
        &[&as_of[..], &["--json", "r.json"]].concat(),
        &[&csv],
    )
    .success();

    // JSON: the kept characters and value_chars, valid against the schema.
    let read_json = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(name)).unwrap()).unwrap()
    };
    let check_json = |j: &serde_json::Value| {
        let rejections = j["rejections"].as_array().unwrap();
        let rows: Vec<u64> = rejections
            .iter()
            .map(|r| r["row"].as_u64().unwrap())
            .collect();
        assert_eq!(rows, [3, 4, 5]);
        for r in rejections {
            assert_eq!(r["column"], "input_tokens");
            assert_eq!(r["value"].as_str().unwrap(), kept);
            assert_eq!(r["value_chars"], 21_023);
        }
        let w = j["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| {
                w["code"] == "text_cut"
                    && w["message"].as_str().unwrap().contains("rejected row(s)")
            })
            .expect("a text_cut warning for the rejected values");
        assert_eq!(w["rows"], 3);
        let m = w["message"].as_str().unwrap();
        assert!(
            m.starts_with("3 rejected row(s) hold a value longer than 1,024 characters: each is kept cut to its first 1,024 characters when read"),
            "{m}"
        );
        assert!(m.contains(": the value of rejected row 3 of "), "{m}");
        assert_eq!(m.matches(" (21023 characters)").count(), 3, "{m}");
        let schema: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(crate::common::root().join("docs/summary.schema.json"))
                .unwrap(),
        )
        .unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator.iter_errors(j).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "schema errors: {errors:#?}");
    };
    check_json(&read_json("r.json"));

    // The workbook's Rejected Rows sheet: the kept characters and the marker with the length.
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto(dir.path().join("r.xlsx")).unwrap();
    let sheet = wb.worksheet_range("Rejected Rows").unwrap();
    let values: Vec<String> = sheet
        .rows()
        .skip(1)
        .map(|r| r[4].to_string())
        .filter(|v| !v.is_empty())
        .collect();
    assert_eq!(values, vec![marked.clone(); 3]);

    // The CSV tables: the same.
    bin_in(dir.path())
        .args([
            "report",
            "--quarter",
            "2026Q1",
            "--format",
            "csv",
            "--out",
            "tables",
        ])
        .args(as_of)
        .arg(&csv)
        .assert()
        .success();
    let mut rdr = csv::Reader::from_path(dir.path().join("tables/rejected_rows.csv")).unwrap();
    let values: Vec<String> = rdr.records().map(|r| r.unwrap()[4].to_string()).collect();
    assert_eq!(values, vec![marked.clone(); 3]);

    // Through a ledger: stored cut, read back with the same length.
    let db = dir.path().join("l.db");
    bin_in(dir.path())
        .arg("import")
        .arg(&csv)
        .arg("--ledger")
        .arg(&db)
        .assert()
        .success();
    bin_in(dir.path())
        .args([
            "report",
            "--quarter",
            "2026Q1",
            "--out",
            "l.xlsx",
            "--json",
            "l.json",
        ])
        .args(as_of)
        .arg("--ledger")
        .arg(&db)
        .assert()
        .success();
    check_json(&read_json("l.json"));
}
