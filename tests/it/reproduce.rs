//! Issue #19 item 6: `--factors 2026.1` reproduces earlier reports exactly. The fixture
//! `tests/fixtures/reproduce/2026.1_samples.json` is the JSON summary of
//! `report samples/ --quarter 2026Q1 --as-of 2026-04-15 --factors 2026.1 --json`, written by the
//! binary of commit e8c5cab (before factor set 2026.2 and model-resolution rules 2 existed). The
//! same command now must give the same JSON, value for value (numbers compared as written, so a
//! change in the last digit fails), whatever the default factor set is.

use assert_cmd::Command;

use crate::common::root;

#[test]
fn factors_2026_1_reproduces_the_report_saved_before_2026_2() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("now.json");
    let xlsx = tmp.path().join("now.xlsx");
    Command::cargo_bin("llm-scope3")
        .unwrap()
        .current_dir(root())
        .args([
            "report",
            "samples/",
            "--quarter",
            "2026Q1",
            "--as-of",
            "2026-04-15",
            "--factors",
            "2026.1",
            "--json",
        ])
        .arg(&json)
        .arg("-o")
        .arg(&xlsx)
        .assert()
        .success();
    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let saved = read(&root().join("tests/fixtures/reproduce/2026.1_samples.json"));
    let now = read(&json);
    // The set is the same set, byte for byte (its SHA-256), ...
    assert_eq!(now["factor_set"], saved["factor_set"]);
    assert_eq!(
        saved["factor_set"]["sha256"],
        "110109911b1f4bfd8a10efdc98ebdcabd63fbaca7ab502d9d3ae9db330af16a8"
    );
    // ... and every figure, line, flag and warning is the same (all but the tool's own version
    // number, which a release changes).
    let fields = |v: &serde_json::Value| -> Vec<String> {
        v.as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "tool")
            .cloned()
            .collect()
    };
    assert_eq!(fields(&now), fields(&saved));
    for k in fields(&saved) {
        assert_eq!(
            now[&k], saved[&k],
            "JSON field '{k}' differs from the saved 2026.1 report"
        );
    }
}
