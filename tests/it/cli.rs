//! The real binary, run as a user would: help, the README's main command, exit codes,
//! plain-words errors, and outputs that are never half-written or clobbered.

use assert_cmd::Command;

use crate::common::{bin_in, fixture, root, stdout};

fn bin() -> Command {
    let mut c = Command::cargo_bin("llm-scope3").unwrap();
    c.current_dir(root());
    c
}

#[test]
fn help_lists_the_commands_with_examples() {
    let text = stdout(bin().arg("--help").assert().success());
    for cmd in ["report", "inspect", "factors"] {
        assert!(text.contains(cmd), "--help lacks {cmd}");
    }
    let text = stdout(bin().args(["report", "--help"]).assert().success());
    assert!(
        text.contains("--quarter") && text.contains("Examples:"),
        "{text}"
    );
}

#[test]
fn report_on_the_samples_writes_workbook_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("report.xlsx");
    let json = dir.path().join("summary.json");
    let text = stdout(
        bin()
            .args([
                "report",
                "samples/",
                "--quarter",
                "2026Q1",
                "--as-of",
                "2026-04-15",
            ])
            .arg("--out")
            .arg(&xlsx)
            .arg("--json")
            .arg(&json)
            .assert()
            .success(),
    );
    assert!(text.contains("tCO2e central"), "{text}");
    assert!(
        text.contains("openai-usage") && text.contains("anthropic-usage"),
        "{text}"
    );
    assert!(xlsx.metadata().unwrap().len() > 10_000);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["period"]["label"], "2026Q1");
    // No temporary files are left beside the outputs.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn unknown_format_exits_3_naming_the_headers_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("report.xlsx");
    std::fs::write(&xlsx, b"earlier report").unwrap();
    let assert = bin()
        .args(["report", "--quarter", "2026Q1"])
        .arg(fixture("unknown_format.csv"))
        .arg(root().join("samples"))
        .arg("--out")
        .arg(&xlsx)
        .assert()
        .code(3);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(err.contains("unknown_format.csv"), "{err}");
    assert!(err.contains("unknown format"), "{err}");
    assert!(err.contains("Invoice, Amount, Customer"), "{err}");
    // The earlier report is untouched.
    assert_eq!(std::fs::read(&xlsx).unwrap(), b"earlier report");
}

#[test]
fn unusable_files_exit_3_with_a_plain_message() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, b"").unwrap();
    let garbage = dir.path().join("garbage.csv");
    std::fs::write(&garbage, [0u8, 159, 146, 150, 0, 1, 2, 3, 255, 254, 0, 0]).unwrap();
    let fake_xlsx = dir.path().join("fake.xlsx");
    std::fs::write(&fake_xlsx, b"PK\x03\x04 this is not really a zip").unwrap();
    let cases = [
        (empty, "the file is empty"),
        (garbage, "not a spreadsheet or CSV"),
        (fake_xlsx, "cannot read the spreadsheet"),
        (dir.path().join("missing.csv"), "cannot read"),
    ];
    for (path, expected) in cases {
        let assert = bin()
            .args(["report", "--quarter", "2026Q1", "--out"])
            .arg(dir.path().join("r.xlsx"))
            .arg(&path)
            .assert()
            .code(3);
        let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert!(err.contains(expected), "{}: {err}", path.display());
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!dir.path().join("r.xlsx").exists());
}

#[test]
fn the_same_file_twice_and_overlapping_exports_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = fixture("openai_usage_one_row.csv");
    let copy = dir.path().join("copy.csv");
    std::fs::copy(&a, &copy).unwrap();
    let assert = bin()
        .args(["report", "--quarter", "2026Q1", "--out"])
        .arg(dir.path().join("r.xlsx"))
        .arg(&a)
        .arg(&copy)
        .assert()
        .code(3);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(err.contains("are the same file"), "{err}");

    // A different export of the same format covering the same day.
    let other = dir.path().join("other.csv");
    let text = std::fs::read_to_string(&a)
        .unwrap()
        .replace("proj_a", "proj_z");
    std::fs::write(&other, text).unwrap();
    let assert = bin()
        .args(["report", "--quarter", "2026Q1", "--out"])
        .arg(dir.path().join("r.xlsx"))
        .arg(&a)
        .arg(&other)
        .assert()
        .code(3);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(err.contains("count that usage twice"), "{err}");
    assert!(!dir.path().join("r.xlsx").exists());
}

#[test]
fn usage_errors_exit_2() {
    bin().args(["report", "samples/"]).assert().code(2);
    bin()
        .args(["report", "samples/", "--quarter", "2026Q7"])
        .assert()
        .code(2);
    bin()
        .args([
            "report",
            "samples/",
            "--quarter",
            "2026Q1",
            "--as-of",
            "soon",
        ])
        .assert()
        .code(2);
    bin()
        .args([
            "report",
            "samples/",
            "--quarter",
            "2026Q1",
            "--factors",
            "1999.9",
        ])
        .assert()
        .code(2);
    bin().args(["frobnicate"]).assert().code(2);
}

#[test]
fn inspect_shows_format_mapping_records_and_rejections() {
    let text = stdout(
        bin()
            .arg("inspect")
            .arg(fixture("openai_bad_rows.csv"))
            .assert()
            .success(),
    );
    assert!(text.contains("format: openai-usage"), "{text}");
    assert!(
        text.contains("input_tokens") && text.contains("<- input_tokens"),
        "{text}"
    );
    assert!(text.contains("gpt-4o -> gpt-4o"), "{text}");
    assert!(
        text.contains("mystery-model-9000 -> class:flagship"),
        "{text}"
    );
    assert!(text.contains("negative tokens"), "{text}");
    // An unknown file: the nearest template and what it missed, exit 3.
    let assert = bin()
        .arg("inspect")
        .arg(fixture("unknown_format.csv"))
        .assert()
        .code(3);
    let text = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(text.contains("Invoice, Amount, Customer"), "{text}");
}

#[test]
fn factors_show_resolves_a_dated_snapshot() {
    let text = stdout(
        bin()
            .args(["factors", "show", "gpt-4o-2024-08-06"])
            .assert()
            .success(),
    );
    assert!(
        text.contains("gpt-4o-2024-08-06 -> gpt-4o (alias)"),
        "{text}"
    );
    // Usage year 2026 with the default set 2026.2: the Ember 2025 row.
    assert!(text.contains("grid:country:USA:2025"), "{text}");
    let text = stdout(bin().args(["factors", "list"]).assert().success());
    assert!(
        text.contains("claude-sonnet-4-5") && text.contains("gpt-4o-mini"),
        "{text}"
    );
}

#[test]
fn a_zip_bomb_is_refused_before_it_is_inflated() {
    // 200 MiB of zeros deflate to about 200 KiB (ratio about 1,000 to one): refused from the
    // zip directory's sizes, exit 3, without inflating it.
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.xlsx");
    std::fs::write(&bomb, crate::common::zip_bomb(200)).unwrap();
    assert!(bomb.metadata().unwrap().len() < 2 << 20);
    let assert = bin()
        .args(["report", "--quarter", "2026Q1", "--out"])
        .arg(dir.path().join("r.xlsx"))
        .arg(&bomb)
        .assert()
        .code(3);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("zip bomb") && err.contains("bomb.xlsx"),
        "{err}"
    );
}

#[test]
fn a_full_disk_is_reported_and_the_earlier_report_survives() {
    // RLIMIT_FSIZE of 64 KiB (with SIGXFSZ ignored, so writes fail with EFBIG like a full
    // disk): the workbook cannot be written, the error says so, exit 1, and the report that
    // was there before is untouched (the tool writes a temporary file, then renames).
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.xlsx");
    std::fs::write(&out, b"earlier report").unwrap();
    let bin = assert_cmd::cargo::cargo_bin("llm-scope3");
    let script = format!(
        "trap '' XFSZ; ulimit -f 64; exec '{}' report --quarter 2026Q1 --out '{}' '{}'",
        bin.display(),
        out.display(),
        root().join("samples").display()
    );
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("cannot write") && err.contains("report.xlsx"),
        "{err}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"earlier report");
    assert_no_temporary_files(dir.path());
}

#[test]
fn a_full_disk_while_writing_the_summary_leaves_both_earlier_outputs() {
    // The samples' JSON summary is larger than their workbook: with a file size limit between
    // the two, the workbook could be written but the summary cannot. Both are staged before
    // either is moved into place, so the earlier workbook and summary both survive (a new
    // workbook beside an old summary would disagree with it).
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("llm-scope3");
    let samples = root().join("samples");
    let scratch = dir.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    bin_in(&scratch)
        .args(["report", "--quarter", "2026Q1", "--as-of", "2026-04-15"])
        .args(["--out", "r.xlsx", "--json", "s.json"])
        .arg(&samples)
        .assert()
        .success();
    let size = |n: &str| scratch.join(n).metadata().unwrap().len();
    let (xlsx, json) = (size("r.xlsx"), size("s.json"));
    let limit_kib = (xlsx + json) / 2 / 1024;
    assert!(
        xlsx < limit_kib * 1024 && limit_kib * 1024 < json,
        "{xlsx} {json}"
    );
    let out = dir.path().join("report.xlsx");
    let summary = dir.path().join("summary.json");
    std::fs::write(&out, b"earlier report").unwrap();
    std::fs::write(&summary, b"earlier summary").unwrap();
    let script = format!(
        "trap '' XFSZ; ulimit -f {limit_kib}; exec '{}' report --quarter 2026Q1 --out '{}' --json '{}' '{}'",
        bin.display(),
        out.display(),
        summary.display(),
        samples.display()
    );
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot write") && err.contains("summary.json"),
        "{err}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"earlier report");
    assert_eq!(std::fs::read(&summary).unwrap(), b"earlier summary");
    assert_no_temporary_files(dir.path());
}

/// No temporary file (`.llm-scope3-*.tmp`) is left in `dir`.
fn assert_no_temporary_files(dir: &std::path::Path) {
    let leftovers = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .count();
    assert_eq!(leftovers, 0, "temporary file left behind");
}

#[test]
fn a_new_report_is_readable_by_others_and_a_replaced_one_keeps_its_permissions() {
    // Outputs are written through a private temporary file (mode 0600); the report itself is
    // 0644 when new, and keeps the mode of the report it replaces.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| p.metadata().unwrap().permissions().mode() & 0o777;
    let report = |out: &str, json: &str| {
        bin_in(dir.path())
            .args([
                "report",
                "--quarter",
                "2026Q1",
                "--out",
                out,
                "--json",
                json,
            ])
            .arg(fixture("openai_usage_one_row.csv"))
            .assert()
            .success();
    };
    report("new.xlsx", "new.json");
    assert_eq!(mode(&dir.path().join("new.xlsx")), 0o644);
    assert_eq!(mode(&dir.path().join("new.json")), 0o644);
    let old = dir.path().join("old.xlsx");
    std::fs::write(&old, b"earlier").unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o640)).unwrap();
    report("old.xlsx", "new.json");
    assert_eq!(mode(&old), 0o640);
    assert_ne!(std::fs::read(&old).unwrap(), b"earlier");
}

#[test]
fn outputs_never_overwrite_an_input_the_ledger_or_a_link_and_never_write_into_a_device() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let export = d.join("usage.csv");
    std::fs::copy(
        crate::common::root().join("tests/fixtures/openai_usage_one_row.csv"),
        &export,
    )
    .unwrap();
    let before = std::fs::read(&export).unwrap();
    let ledger = d.join("l.db");
    crate::common::bin_in(d)
        .arg("import")
        .arg(&export)
        .arg("--ledger")
        .arg(&ledger)
        .assert()
        .success();
    let ledger_before = std::fs::read(&ledger).unwrap();
    std::os::unix::fs::symlink(d.join("elsewhere.xlsx"), d.join("link.xlsx")).unwrap();
    let fifo_made = std::process::Command::new("mkfifo")
        .arg(d.join("fifo.xlsx"))
        .status()
        .is_ok_and(|s| s.success());
    let mut cases: Vec<(Vec<String>, &str)> = vec![
        // The ledger as the workbook: before, every import was lost (exit 0).
        (
            vec![
                "--ledger".into(),
                "l.db".into(),
                "--out".into(),
                "l.db".into(),
            ],
            "--out l.db is the ledger",
        ),
        (
            vec![
                "--ledger".into(),
                "l.db".into(),
                "--out".into(),
                "r.xlsx".into(),
                "--json".into(),
                "./l.db".into(),
            ],
            "--json ./l.db is the ledger",
        ),
        // The export read as the report.
        (
            vec!["usage.csv".into(), "--out".into(), "usage.csv".into()],
            "--out usage.csv is one of the export files read",
        ),
        (
            vec![
                ".".into(),
                "--out".into(),
                "r.xlsx".into(),
                "--json".into(),
                "usage.csv".into(),
            ],
            "is one of the export files read",
        ),
        (
            vec!["usage.csv".into(), "--out".into(), "link.xlsx".into()],
            "--out link.xlsx is a symbolic link",
        ),
        (
            vec!["usage.csv".into(), "--out".into(), "/dev/null".into()],
            "--out /dev/null is a device, not a regular file",
        ),
        (
            vec!["usage.csv".into(), "--out".into(), ".".into()],
            "--out . is a folder, not a regular file",
        ),
    ];
    if fifo_made {
        cases.push((
            vec!["usage.csv".into(), "--out".into(), "fifo.xlsx".into()],
            "--out fifo.xlsx is a FIFO (named pipe), not a regular file",
        ));
    }
    for (args, expect) in cases {
        let a = crate::common::bin_in(d)
            .args(["report", "--quarter", "2026Q1"])
            .args(&args)
            .timeout(std::time::Duration::from_secs(60))
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    assert_eq!(
        std::fs::read(&export).unwrap(),
        before,
        "the export changed"
    );
    assert_eq!(
        std::fs::read(&ledger).unwrap(),
        ledger_before,
        "the ledger changed"
    );
    assert!(
        !d.join("elsewhere.xlsx").exists(),
        "written through the link"
    );
    assert!(!d.join("r.xlsx").exists());
}

/// Runs the binary with `args` in the repository, its standard output a pipe whose reading end
/// is closed at once: every write the command makes meets a closed pipe (EPIPE).
fn run_into_a_closed_pipe(args: &[&str]) -> std::process::Output {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("llm-scope3"))
        .args(args)
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    // `factors list | head -1` and friends: the reader goes away after the first line.
    for args in [
        &["factors", "list"][..],
        &["factors", "show", "gpt-4o-2024-08-06"],
        &["factors", "validate", "--markdown"],
        &[
            "inspect",
            "samples/openai_completions_usage_2026-01-01_2026-03-31.csv",
        ],
    ] {
        let out = run_into_a_closed_pipe(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
    // As a shell runs it, with `head -1` reading one line.
    for cmd in ["factors list", "factors validate"] {
        let script = format!(
            "'{}' {cmd} | head -1",
            assert_cmd::cargo::cargo_bin("llm-scope3").display()
        );
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .current_dir(root())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.is_empty(), "{cmd}: {err}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    }
}

#[test]
fn a_closed_pipe_does_not_stop_an_import_and_a_full_disk_is_an_error() {
    // The import goes on after its reader has gone: every file is imported.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let db_text = db.display().to_string();
    let out = run_into_a_closed_pipe(&["import", "samples/", "--ledger", &db_text]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let imports = run_into_a_closed_pipe(&["imports", "list", "--ledger", &db_text]);
    assert_eq!(imports.status.code(), Some(0));
    let listed = stdout(
        bin()
            .args(["imports", "list", "--ledger", &db_text])
            .assert()
            .success(),
    );
    let files = std::fs::read_dir(root().join("samples"))
        .unwrap()
        .flatten()
        .filter(|e| llm_scope3::ingest::has_input_extension(&e.file_name().to_string_lossy()))
        .count();
    assert_eq!(listed.matches("samples/").count(), files, "{listed}");
    // Output that cannot be written for another reason is not lost silently.
    if std::path::Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("llm-scope3"))
            .args(["factors", "list"])
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("error: cannot write to standard output"),
            "{err}"
        );
    }
}

#[test]
fn a_fifo_or_a_device_named_as_an_export_is_refused_before_it_is_opened() {
    // Before: `import` on a FIFO or /dev/zero hung forever; `report` on a FIFO said "the file
    // is empty".
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let made = std::process::Command::new("mkfifo")
        .arg(d.join("usage.csv"))
        .status()
        .is_ok_and(|s| s.success());
    let mut cases: Vec<(Vec<&str>, &str)> = vec![(
        vec!["import", "/dev/zero", "--ledger", "l.db"],
        "/dev/zero: is a character device, not a regular file",
    )];
    if made {
        cases.extend([
            (
                vec!["import", "usage.csv", "--ledger", "l.db"],
                "usage.csv: is a FIFO, not a regular file",
            ),
            (
                vec!["report", "usage.csv", "--quarter", "2026Q1"],
                "usage.csv: is a FIFO, not a regular file",
            ),
            (
                vec!["inspect", "usage.csv"],
                "usage.csv: is a FIFO, not a regular file",
            ),
        ]);
    }
    for (args, expect) in cases {
        let a = crate::common::bin_in(d)
            .args(&args)
            .timeout(std::time::Duration::from_secs(30))
            .assert()
            .code(3);
        let out = a.get_output();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains(expect), "{args:?}: {text}");
    }
}

#[test]
fn temporary_files_of_an_interrupted_run_are_removed_by_the_next() {
    // A killed write leaves `.llm-scope3-PID-*.tmp` (395 MB in the red team's case). The next
    // report into the folder removes those whose process is gone, and keeps one whose process
    // still runs (PID 1 always does).
    if !std::path::Path::new("/proc/self").exists() {
        crate::common::skipped(
            "temporary files of an interrupted run",
            "no /proc to tell a live process from a gone one",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let gone = d.join(".llm-scope3-4194303-abc123.tmp");
    let gone_csv = d.join(".llm-scope3-csv-4194302-def456");
    let live = d.join(".llm-scope3-1-ghi789.tmp");
    let not_ours = d.join(".llm-scope3-notes.txt");
    std::fs::write(&gone, vec![0u8; 1 << 20]).unwrap();
    std::fs::create_dir(&gone_csv).unwrap();
    std::fs::write(gone_csv.join("ai_services.csv"), "x").unwrap();
    std::fs::write(&live, "being written").unwrap();
    std::fs::write(&not_ours, "mine").unwrap();
    let a = crate::common::bin_in(d)
        .arg("report")
        .arg(crate::common::root().join("tests/fixtures/openai_usage_one_row.csv"))
        .args(["--quarter", "2026Q1", "--out", "r.xlsx"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(!gone.exists() && !gone_csv.exists(), "{err}");
    assert!(live.exists() && not_ours.exists());
    assert!(
        err.contains("left by an interrupted llm-scope3 run (1048576 bytes)"),
        "{err}"
    );
    assert!(d.join("r.xlsx").exists());
}

#[test]
fn outputs_never_overwrite_the_ledger_s_wal_the_prior_summary_a_factor_file_or_an_input_in_the_csv_folder(
) {
    // Red-team #17 D6: each of these was written over, exit 0.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = d.join("usage.csv");
    std::fs::copy(fixture("openai_usage_one_row.csv"), &input).unwrap();
    let ledger = d.join("L.db");
    bin_in(d)
        .args(["import", "--ledger"])
        .arg(&ledger)
        .arg(&input)
        .assert()
        .success();
    // A copy of the embedded set as a folder, to report with.
    bin_in(d)
        .args(["factors", "export"])
        .arg(d.join("set"))
        .assert()
        .success();
    // An earlier summary of 2025Q1 (its content does not matter: the output is refused first).
    std::fs::write(d.join("prior.json"), "{}").unwrap();
    // An export named summary.csv inside the folder --format csv would write.
    std::fs::create_dir(d.join("tables")).unwrap();
    std::fs::copy(&input, d.join("tables/summary.csv")).unwrap();
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (
            vec![
                "--ledger".into(),
                ledger.clone().into(),
                "--json".into(),
                "L.db-wal".into(),
            ],
            "a file of the ledger",
        ),
        (
            vec![
                input.clone().into(),
                "--prior".into(),
                "prior.json".into(),
                "--json".into(),
                "prior.json".into(),
            ],
            "the earlier summary read by --prior",
        ),
        (
            vec![
                input.clone().into(),
                "--factors".into(),
                d.join("set/2026.3").into(),
                "--out".into(),
                d.join("set/2026.3/aliases.csv").into(),
            ],
            "a file of the factor set",
        ),
        (
            vec![
                d.join("tables/summary.csv").into(),
                "--format".into(),
                "csv".into(),
                "--out".into(),
                "tables".into(),
            ],
            "its summary.csv would be written over one of the export files read",
        ),
    ];
    let before: Vec<Vec<u8>> = [
        "L.db",
        "prior.json",
        "set/2026.3/aliases.csv",
        "tables/summary.csv",
    ]
    .iter()
    .map(|f| std::fs::read(d.join(f)).unwrap())
    .collect();
    for (args, says) in cases {
        let a = bin_in(d)
            .args(["report", "--quarter", "2026Q1"])
            .args(&args)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let after: Vec<Vec<u8>> = [
        "L.db",
        "prior.json",
        "set/2026.3/aliases.csv",
        "tables/summary.csv",
    ]
    .iter()
    .map(|f| std::fs::read(d.join(f)).unwrap())
    .collect();
    assert_eq!(before, after);
}
