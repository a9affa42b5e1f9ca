//! Issue #19 item 6: `--factors 2026.1` reproduces earlier reports exactly. The fixture
//! `tests/fixtures/reproduce/2026.1_samples.json` is the JSON summary of
//! `report samples/ --quarter 2026Q1 --as-of 2026-04-15 --factors 2026.1 --json`, written by the
//! binary of commit e8c5cab (before factor set 2026.2 and model-resolution rules 2 existed). The
//! same command now must give the same JSON, value for value (numbers compared as written, so a
//! change in the last digit fails), whatever the default factor set is; fields added to the
//! schema since (compatible extensions) may be there beside them.

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
    for k in fields(&saved) {
        let mut path = k.clone();
        assert!(
            holds(&now[&k], &saved[&k], &mut path),
            "JSON field '{path}' differs from the saved 2026.1 report"
        );
    }
    // Fields added since (compatible extensions of the schema, such as a source's row_list)
    // may be there; nothing saved may be missing or different.
    assert!(fields(&now).len() >= fields(&saved).len());
}

/// True when `now` holds every value of `saved`: the same scalars, arrays of the same length
/// holding them element by element, objects with every saved key (added keys allowed).
/// `path` ends at the first difference.
fn holds(now: &serde_json::Value, saved: &serde_json::Value, path: &mut String) -> bool {
    use serde_json::Value;
    match (now, saved) {
        (Value::Object(n), Value::Object(s)) => s.iter().all(|(k, v)| {
            let len = path.len();
            path.push('.');
            path.push_str(k);
            let ok = n.get(k).is_some_and(|nv| holds(nv, v, path));
            if ok {
                path.truncate(len);
            }
            ok
        }),
        (Value::Array(n), Value::Array(s)) => {
            n.len() == s.len()
                && n.iter().zip(s).enumerate().all(|(i, (nv, sv))| {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    let ok = holds(nv, sv, path);
                    if ok {
                        path.truncate(len);
                    }
                    ok
                })
        }
        _ => now == saved,
    }
}
