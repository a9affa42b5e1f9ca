//! The bad-input corpus (tests/fixtures/bad/, written by tools/make_bad_fixtures.py): every
//! case of tests/fixtures/bad/EXPECTED.toml runs through the real binary (`report --quarter
//! 2026Q1 --json`) with a time limit, and must end exactly as listed: the exit code, no panic,
//! and either the file error's words or the accepted / rejected / outside-period counts, the
//! first rejection's reason and the input tokens read.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::common::{bin_in, root};

#[derive(Debug, Deserialize)]
struct Manifest {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    file: Option<String>,
    generate: Option<String>,
    exit: i32,
    error: Option<String>,
    accepted: Option<u64>,
    rejected: Option<u64>,
    outside: Option<u64>,
    skipped: Option<u64>,
    reason: Option<String>,
    input_tokens: Option<u64>,
}

fn corpus() -> PathBuf {
    root().join("tests/fixtures/bad")
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(corpus().join("EXPECTED.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

const GOOD_CSV: &str =
    "start_time,end_time,model,input_tokens,output_tokens,num_model_requests,project_id\n\
                        1768435200,1768521600,gpt-4o,1000,500,1,proj_a\n";

/// A zip whose `part` holds `mib` MiB of `unit` repeated, after the small `others`.
fn zip_with_big_part(path: &Path, others: &[(&str, &str)], part: &str, unit: &[u8], mib: usize) {
    zip_with_big_part_at(path, others, part, unit, mib, 1)
}

fn zip_with_big_part_at(
    path: &Path,
    others: &[(&str, &str)],
    part: &str,
    unit: &[u8],
    mib: usize,
    level: i64,
) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(level));
    for (name, text) in others {
        let opts = if *name == "mimetype" {
            stored
        } else {
            deflated
        };
        zip.start_file(*name, opts).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.start_file(part, deflated).unwrap();
    let block: Vec<u8> = unit.iter().copied().cycle().take(1 << 20).collect();
    for _ in 0..mib {
        zip.write_all(&block).unwrap();
    }
    zip.finish().unwrap();
}

/// Makes a generated case in `dir`; `None` when it cannot be made here (with the reason).
fn generate(kind: &str, dir: &Path) -> Result<PathBuf, String> {
    let path = match kind {
        "ten_mb_single_line" => {
            let p = dir.join("one_line.csv");
            std::fs::write(&p, "abc,".repeat(10 << 18)).unwrap();
            p
        }
        "xlsx_zip_bomb" => {
            let p = dir.join("bomb.xlsx");
            zip_with_big_part(
                &p,
                &[("[Content_Types].xml", "<Types/>")],
                "xl/worksheets/sheet1.xml",
                &[0],
                64,
            );
            p
        }
        "xlsx_huge_shared_strings" => {
            let p = dir.join("strings.xlsx");
            // Deflated at level 6 a repeated string item packs about 1,000 to one.
            zip_with_big_part_at(
                &p,
                &[
                    ("[Content_Types].xml", "<Types/>"),
                    ("xl/workbook.xml", "<workbook/>"),
                ],
                "xl/sharedStrings.xml",
                b"<si><t>a</t></si>",
                120,
                6,
            );
            p
        }
        "ods_zip_bomb" => {
            let p = dir.join("bomb.ods");
            zip_with_big_part(
                &p,
                &[("mimetype", "application/vnd.oasis.opendocument.spreadsheet")],
                "content.xml",
                b" ",
                64,
            );
            p
        }
        "symlink_to_a_good_file" => {
            let target = dir.join("target.csv");
            std::fs::write(&target, GOOD_CSV).unwrap();
            let p = dir.join("link.csv");
            std::os::unix::fs::symlink(&target, &p).unwrap();
            p
        }
        "dangling_symlink" => {
            let p = dir.join("dangling.csv");
            std::os::unix::fs::symlink(dir.join("gone.csv"), &p).unwrap();
            p
        }
        "empty_directory_named_csv" => {
            let p = dir.join("usage.csv");
            std::fs::create_dir(&p).unwrap();
            p
        }
        "unreadable_file" => {
            use std::os::unix::fs::PermissionsExt;
            let p = dir.join("locked.csv");
            std::fs::write(&p, GOOD_CSV).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
            if std::fs::read(&p).is_ok() {
                return Err("running as root, who can read a file with mode 000".into());
            }
            p
        }
        other => panic!("unknown generated case {other}"),
    };
    Ok(path)
}

#[test]
fn every_bad_input_ends_as_expected_without_a_panic() {
    let cases = manifest().case;
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    // Every committed file has a case, and every case's file exists.
    let mut listed: Vec<&str> = cases.iter().filter_map(|c| c.file.as_deref()).collect();
    listed.sort();
    let mut present: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "EXPECTED.toml")
        .collect();
    present.sort();
    assert_eq!(listed, present, "EXPECTED.toml and the files differ");

    let mut failures = vec![];
    let mut skipped = vec![];
    for case in &cases {
        let dir = tempfile::tempdir().unwrap();
        let (path, label) = match (&case.file, &case.generate) {
            (Some(f), None) => (corpus().join(f), f.clone()),
            (None, Some(kind)) => match generate(kind, dir.path()) {
                Ok(p) => (p, kind.clone()),
                Err(why) => {
                    skipped.push(format!("{kind}: {why}"));
                    continue;
                }
            },
            _ => panic!("a case names a file or a generator: {case:?}"),
        };
        if let Err(e) = check(case, &path, dir.path()) {
            failures.push(format!("{label}: {e}"));
        }
    }
    for s in &skipped {
        println!("skipped {s}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn check(case: &Case, path: &Path, dir: &Path) -> Result<(), String> {
    let out = dir.join("report.xlsx");
    let json = dir.join("summary.json");
    let output = bin_in(dir)
        .args(["report", "--quarter", "2026Q1", "--as-of", "2026-04-15"])
        .arg("--out")
        .arg(&out)
        .arg("--json")
        .arg(&json)
        .arg(path)
        .timeout(Duration::from_secs(60))
        .output()
        .map_err(|e| format!("did not run: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("panicked") {
        return Err(format!("panicked: {stderr}"));
    }
    let code = output.status.code();
    if code != Some(case.exit) {
        return Err(format!(
            "exit {code:?}, expected {}; stderr: {stderr}",
            case.exit
        ));
    }
    if case.exit != 0 {
        let name = path.display().to_string();
        if !stderr.contains(&name) {
            return Err(format!("the message does not name {name}: {stderr}"));
        }
        let want = case.error.as_deref().ok_or("no expected error")?;
        if !stderr.contains(want) {
            return Err(format!("stderr lacks {want:?}: {stderr}"));
        }
        if out.exists() || json.exists() {
            return Err("an output was written by a failed run".into());
        }
        return Ok(());
    }
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&json).map_err(|e| format!("no summary: {e}"))?,
    )
    .map_err(|e| e.to_string())?;
    let import = &summary["imports"][0];
    let count = |k: &str| import[k].as_u64().unwrap_or(u64::MAX);
    let expect = [
        ("accepted", case.accepted),
        ("rejected", case.rejected),
        ("outside_period", case.outside.or(Some(0))),
        ("skipped", case.skipped.or(Some(0))),
    ];
    for (key, want) in expect {
        if let Some(want) = want {
            if count(key) != want {
                return Err(format!("{key} {} expected {want}: {import}", count(key)));
            }
        }
    }
    let rejections = summary["rejections"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if rejections.len() as u64 != count("rejected") {
        return Err(format!(
            "{} rejections listed for {} rejected rows",
            rejections.len(),
            count("rejected")
        ));
    }
    if let Some(reason) = &case.reason {
        let first = rejections
            .first()
            .and_then(|r| r["reason"].as_str())
            .unwrap_or("");
        if !first.contains(reason.as_str()) {
            return Err(format!("first reason {first:?} lacks {reason:?}"));
        }
    }
    for r in &rejections {
        if r["row"].as_u64().unwrap_or(0) < 2 || r["reason"].as_str().unwrap_or("").is_empty() {
            return Err(format!("a rejection without row or reason: {r}"));
        }
    }
    if let Some(tokens) = case.input_tokens {
        let got = summary["totals"]["input_tokens"].as_u64();
        if got != Some(tokens) {
            return Err(format!("input tokens {got:?}, expected {tokens}"));
        }
    }
    if !out.is_file() {
        return Err("no workbook written".into());
    }
    Ok(())
}
