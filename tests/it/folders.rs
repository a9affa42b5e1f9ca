//! Folders named to `report` and `import`: read with their subfolders in sorted order, and
//! every entry not read listed with its reason (terminal, workbook, JSON), never silently.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{bin_in, root, run, sheet_text, stdout};

const OPENAI: &str = "openai_completions_usage_2026-01-01_2026-03-31.csv";
const ANTHROPIC: &str = "anthropic_claude_api_tokens_2026_Q1.xlsx";

/// `exports/` as a finance team keeps it, with what else such folders collect:
///
/// ```text
/// exports/
///   .DS_Store                 hidden file
///   .git/usage.csv            inside a hidden folder (the folder is listed, not searched)
///   2026-01/openai.csv        read
///   2026-02/claude/anthropic.xlsx   read (two levels down)
///   2026-02/invoice.pdf       not an export: .pdf
///   README                    not an export: no file extension
///   again.csv -> 2026-01/openai.csv   the same file: read once
///   loop-a.csv -> loop-b.csv -> loop-a.csv   a symbolic link loop
///   parent -> ..              a link to a folder: not followed
///   pipe.csv                  a FIFO (reading it would wait forever)
/// ```
fn exports(dir: &Path) -> PathBuf {
    let ex = dir.join("exports");
    let mk = |p: &str| std::fs::create_dir_all(ex.join(p)).unwrap();
    mk("2026-01");
    mk("2026-02/claude");
    mk(".git");
    let copy = |from: &str, to: &str| {
        std::fs::copy(root().join("samples").join(from), ex.join(to)).unwrap();
    };
    copy(OPENAI, "2026-01/openai.csv");
    copy(ANTHROPIC, "2026-02/claude/anthropic.xlsx");
    copy(OPENAI, ".git/usage.csv");
    std::fs::write(ex.join(".DS_Store"), b"\0\0\0\x01Bud1").unwrap();
    std::fs::write(ex.join("2026-02/invoice.pdf"), b"%PDF-1.4\n").unwrap();
    std::fs::write(ex.join("README"), b"exports downloaded monthly\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink("2026-01/openai.csv", ex.join("again.csv")).unwrap();
        symlink("loop-b.csv", ex.join("loop-a.csv")).unwrap();
        symlink("loop-a.csv", ex.join("loop-b.csv")).unwrap();
        symlink("..", ex.join("parent")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(ex.join("pipe.csv"))
            .status()
            .unwrap();
        assert!(made.success());
    }
    ex
}

/// What `report exports/` must list as not read, in path order.
fn expected_skipped(ex: &Path) -> Vec<(PathBuf, String)> {
    let mut v: Vec<(PathBuf, String)> = vec![
        (ex.join(".DS_Store"), "hidden file".into()),
        (ex.join(".git"), "hidden folder (not searched)".into()),
        (ex.join("2026-02/invoice.pdf"), "not an export: .pdf".into()),
        (ex.join("README"), "not an export: no file extension".into()),
    ];
    if cfg!(unix) {
        v.extend([
            (
                ex.join("again.csv"),
                format!(
                    "the same file as {}",
                    ex.join("2026-01/openai.csv").display()
                ),
            ),
            (ex.join("loop-a.csv"), "symbolic link loop".into()),
            (ex.join("loop-b.csv"), "symbolic link loop".into()),
            (
                ex.join("parent"),
                "symbolic link to a folder (not followed: name the folder itself to read it)"
                    .into(),
            ),
            (ex.join("pipe.csv"), "not a regular file (FIFO)".into()),
        ]);
    }
    v.sort();
    v
}

#[test]
fn a_folder_is_read_with_its_subfolders_and_lists_what_it_did_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let ex = exports(dir.path());
    let o = run(&[&ex], "2026Q1").unwrap();
    // The two exports, in sorted path order: 2026-01/... before 2026-02/claude/...
    let files: Vec<&str> = o.files.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(
        files,
        vec![
            ex.join("2026-01/openai.csv").display().to_string(),
            ex.join("2026-02/claude/anthropic.xlsx")
                .display()
                .to_string()
        ]
    );
    let skipped: Vec<(PathBuf, String)> = o
        .skipped_inputs
        .iter()
        .map(|s| (s.path.clone(), s.reason.clone()))
        .collect();
    assert_eq!(skipped, expected_skipped(&ex));
    // The figures are those of the two files named one by one.
    let direct = run(
        &[
            &root().join("samples").join(OPENAI),
            &root().join("samples").join(ANTHROPIC),
        ],
        "2026Q1",
    )
    .unwrap();
    assert_eq!(o.summary.totals, direct.summary.totals);
}

#[test]
fn report_on_a_folder_shows_what_it_did_not_read_on_the_terminal_workbook_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let ex = exports(dir.path());
    let out = stdout(
        bin_in(dir.path())
            .args([
                "report",
                "exports",
                "--quarter",
                "2026Q1",
                "--as-of",
                "2026-04-15",
            ])
            .args(["--out", "r.xlsx", "--json", "r.json"])
            // A FIFO opened for reading would block: the time limit proves it is not.
            .timeout(Duration::from_secs(120))
            .assert()
            .success(),
    );
    let expected = expected_skipped(Path::new("exports"));
    assert!(
        out.contains(&format!(
            "Not read in the named folders ({}):",
            expected.len()
        )),
        "{out}"
    );
    for (path, reason) in &expected {
        let line = format!("  {}  [{reason}]", path.display());
        assert!(out.contains(&line), "missing {line:?} in:\n{out}");
    }
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    let listed: Vec<(String, String)> = v["skipped_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(p, r)| (p.display().to_string(), r.clone()))
        .collect();
    assert_eq!(listed, want);
    assert_eq!(v["imports"].as_array().unwrap().len(), 2);
    // The Imports sheet lists each with its reason; the Cover counts them.
    let cells = sheet_text(&dir.path().join("r.xlsx"), "Imports");
    let at = cells
        .iter()
        .position(|c| c == "Not read in the named folders (not in the totals):")
        .expect("the list on the Imports sheet");
    for (path, reason) in &want {
        let i = cells[at..].iter().position(|c| c == path).unwrap() + at;
        assert_eq!(&cells[i + 1], reason, "{path}");
    }
    let cover = sheet_text(&dir.path().join("r.xlsx"), "Cover");
    let n = want.len();
    assert!(
        cover.iter().any(|c| c.starts_with(&format!(
            "{n} entries in the named folders not read (not in the totals)"
        ))),
        "{cover:?}"
    );
    drop(ex);
}

#[test]
fn import_on_a_folder_imports_its_subfolders_and_lists_what_it_did_not_read() {
    let dir = tempfile::tempdir().unwrap();
    exports(dir.path());
    let out = stdout(
        bin_in(dir.path())
            .args(["import", "exports", "--ledger", "l.db"])
            .timeout(Duration::from_secs(120))
            .assert()
            .success(),
    );
    assert!(out.contains("2026-01/openai.csv: imported as #1"), "{out}");
    assert!(
        out.contains("2026-02/claude/anthropic.xlsx: imported as #2"),
        "{out}"
    );
    for (path, reason) in expected_skipped(Path::new("exports")) {
        let line = format!("  {}  [{reason}]", path.display());
        assert!(out.contains(&line), "missing {line:?} in:\n{out}");
    }
}

#[test]
fn a_folder_without_exports_is_an_error_that_lists_what_is_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("exports");
    std::fs::create_dir_all(ex.join("2026-01")).unwrap();
    std::fs::write(ex.join("2026-01/invoice.pdf"), b"%PDF-1.4\n").unwrap();
    std::fs::write(ex.join(".hidden.csv"), b"a,b\n1,2\n").unwrap();
    let a = bin_in(dir.path())
        .args(["report", "exports", "--quarter", "2026Q1"])
        .assert()
        .code(3);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("exports: the folder holds no export files, in it or its subfolders")
            && err.contains(".parquet")
            && err.contains("2 other entries not read: exports/.hidden.csv (hidden file), exports/2026-01/invoice.pdf (not an export: .pdf)"),
        "{err}"
    );
}

#[test]
fn parquet_files_in_a_folder_are_taken_as_exports() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("usage.parquet"), b"PAR1").unwrap();
    std::fs::write(dir.path().join("notes.txt.bak"), b"x").unwrap();
    let e = llm_scope3::ingest::expand_inputs(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(e.files, vec![dir.path().join("usage.parquet")]);
    assert_eq!(e.skipped.len(), 1);
    assert_eq!(e.skipped[0].reason, "not an export: .bak");
}
