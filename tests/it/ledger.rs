//! The ledger: idempotent imports, overlapping exports, restatements, granularity conflicts,
//! removal, equality with stateless reports, final statements, N-1 and crash safety.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use llm_scope3::ledger::{ImportResult, Ledger, LedgerError};
use llm_scope3::pipeline;

use crate::common::{bin_in, config, root, run, sheet_text, stdout};

const OPENAI: &str = "samples/openai_completions_usage_2026-01-01_2026-03-31.csv";
const FEB_1: i64 = 1_769_904_000; // 2026-02-01T00:00:00Z
const MAR_1: i64 = 1_772_323_200; // 2026-03-01T00:00:00Z

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 15, 0, 0, 0).unwrap()
}

/// Writes the OpenAI sample's header and the data rows whose start_time is in [from, to).
fn slice(dir: &Path, name: &str, from: i64, to: i64, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(root().join(OPENAI)).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for l in lines {
        let t: i64 = l
            .split(',')
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or(-1);
        if (from..to).contains(&t) {
            out.push_str(&edit(l.to_string()));
            out.push('\n');
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

fn import(
    ledger: &mut Ledger,
    path: &Path,
    replace: Option<i64>,
) -> Result<ImportResult, LedgerError> {
    let cfg = config("2026Q1");
    let input = pipeline::Input {
        path: path.to_path_buf(),
        name: path.display().to_string(),
    };
    pipeline::import_file(
        ledger,
        &input,
        &cfg.templates,
        replace,
        now(),
        llm_scope3::ingest::Progress::Hidden,
    )
}

fn ledger_totals(ledger: &Ledger) -> (u64, u64, f64) {
    let o = pipeline::run_ledger(ledger, &config("2026Q1")).unwrap();
    let t = &o.summary.totals;
    (
        t.activity.input_tokens,
        t.activity.output_tokens,
        t.emissions_kgco2e.central,
    )
}

fn stateless_totals() -> (u64, u64, f64) {
    let o = run(&[&root().join(OPENAI)], "2026Q1").unwrap();
    let t = &o.summary.totals;
    (
        t.activity.input_tokens,
        t.activity.output_tokens,
        t.emissions_kgco2e.central,
    )
}

#[test]
fn the_same_file_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
    let first = import(&mut l, &root().join(OPENAI), None).unwrap();
    let ImportResult::Imported(s, _) = first else {
        panic!("first import")
    };
    assert_eq!(s.accepted, 445);
    let again = import(&mut l, &root().join(OPENAI), None).unwrap();
    assert!(matches!(again, ImportResult::AlreadyImported(ref s2) if s2.id == s.id));
    assert_eq!(l.list().unwrap().len(), 1);
    assert_eq!(ledger_totals(&l), stateless_totals());
}

#[test]
fn overlapping_exports_in_any_order_twice_count_once() {
    // January–February and February–March exports of the same account: February is in both,
    // identical. In any order, each imported twice, the totals equal the whole file's.
    let dir = tempfile::tempdir().unwrap();
    let a = slice(dir.path(), "jan_feb.csv", 0, MAR_1, |l| l);
    let b = slice(dir.path(), "feb_mar.csv", FEB_1, i64::MAX, |l| l);
    let expected = stateless_totals();
    for (n, order) in [[&a, &b, &a, &b], [&b, &a, &b, &a]].iter().enumerate() {
        let mut l = Ledger::open(&dir.path().join(format!("l{n}.db"))).unwrap();
        for p in order.iter() {
            import(&mut l, p, None).unwrap();
        }
        assert_eq!(ledger_totals(&l), expected, "order {n}");
        let second = &l.list().unwrap()[1];
        assert!(
            second.duplicate > 0,
            "February should be recognised as duplicates: {second:?}"
        );
        assert_eq!(second.restated, 0);
    }
}

#[test]
fn a_restated_row_replaces_the_earlier_one_and_is_logged() {
    // The February–March export states one February row with 1,000 more output tokens: the
    // newer import wins for that key, the change log says so, totals grow by exactly 1,000.
    let dir = tempfile::tempdir().unwrap();
    let a = slice(dir.path(), "jan_feb.csv", 0, MAR_1, |l| l);
    let target = format!("{FEB_1},");
    let b = slice(dir.path(), "feb_mar.csv", FEB_1, i64::MAX, |l| {
        if l.starts_with(&target) && l.contains("proj_support_bot") && l.contains("gpt-4o-mini") {
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            let out: f64 = cells[12].parse().unwrap();
            cells[12] = format!("{:.1}", out + 1000.0);
            cells.join(",")
        } else {
            l
        }
    });
    let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
    import(&mut l, &a, None).unwrap();
    let ImportResult::Imported(s, _) = import(&mut l, &b, None).unwrap() else {
        panic!()
    };
    assert_eq!(s.restated, 1);
    let (i, o, _) = ledger_totals(&l);
    let (ei, eo, _) = stateless_totals();
    assert_eq!((i, o), (ei, eo + 1000));
    let changes = l.changes().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].kind, "restatement");
    assert_eq!(changes[0].month.as_deref(), Some("2026-02"));
    assert!(
        changes[0].detail.contains("previously (import #1)"),
        "{}",
        changes[0].detail
    );
    // The key's bucket reads as UTC dates, not Unix seconds ...
    assert!(
        changes[0]
            .detail
            .contains("| 2026-02-01T00:00:00Z to 2026-02-02T00:00:00Z: previously"),
        "{}",
        changes[0].detail
    );
    assert!(
        !changes[0].detail.contains(&FEB_1.to_string()),
        "{}",
        changes[0].detail
    );
    // ... also in entries logged by earlier versions, which stored the seconds.
    let conn = rusqlite::Connection::open(dir.path().join("l.db")).unwrap();
    conn.execute(
        "INSERT INTO changes(at, import_id, kind, month, detail) VALUES ('2026-04-15T00:00:00Z', 2, 'restatement', '2026-02', ?1)",
        [format!("the vendor restated openai-usage |  | {FEB_1} | {} | proj_x | gpt-4o | {FEB_1} | {}: previously (import #1) 1 input / 2 output tokens, 0.00 cost; now 1 input / 3 output tokens, 0.00 cost", FEB_1 + 86_400, FEB_1 + 86_400)],
    )
    .unwrap();
    drop(conn);
    let old = l.changes().unwrap().pop().unwrap();
    assert_eq!(
        old.detail,
        "the vendor restated openai-usage |  | proj_x | gpt-4o | 2026-02-01T00:00:00Z to 2026-02-02T00:00:00Z: previously (import #1) 1 input / 2 output tokens, 0.00 cost; now 1 input / 3 output tokens, 0.00 cost"
    );
}

#[test]
fn another_granularity_over_the_same_period_is_refused_unless_replaced() {
    // A monthly export of January (one bucket per project and model) after the daily one.
    let dir = tempfile::tempdir().unwrap();
    let daily = slice(dir.path(), "daily.csv", 0, FEB_1, |l| l);
    let monthly = dir.path().join("monthly.csv");
    let header = std::fs::read_to_string(root().join(OPENAI))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    std::fs::write(
        &monthly,
        format!(
            "{header}\n1767225600,{FEB_1},2026-01-01T00:00:00+00:00,2026-02-01T00:00:00+00:00,proj_labs,10.0,,key_labs,gpt-4o,False,default,1000.0,500.0,0.0,1000.0,,,,,,,,,\n"
        ),
    )
    .unwrap();
    let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
    import(&mut l, &daily, None).unwrap();
    let err = import(&mut l, &monthly, None).unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let msg = err.to_string();
    assert!(
        msg.contains("buckets of 31 days") && msg.contains("1 day") && msg.contains("--replace 1"),
        "{msg}"
    );
    assert_eq!(l.list().unwrap().len(), 1, "nothing written");
    // With --replace the monthly export supersedes the daily one.
    import(&mut l, &monthly, Some(1)).unwrap();
    let (i, o, _) = ledger_totals(&l);
    assert_eq!((i, o), (1000, 500));
    assert!(l
        .changes()
        .unwrap()
        .iter()
        .any(|c| c.kind == "replaced import"));
}

#[test]
fn removing_and_re_adding_an_import_restores_the_totals() {
    let dir = tempfile::tempdir().unwrap();
    let a = slice(dir.path(), "jan_feb.csv", 0, MAR_1, |l| l);
    let b = slice(dir.path(), "feb_mar.csv", FEB_1, i64::MAX, |l| l);
    let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
    import(&mut l, &a, None).unwrap();
    import(&mut l, &b, None).unwrap();
    let full = ledger_totals(&l);
    // Removing January–February: February still counts, from the February–March import.
    l.remove(1, now()).unwrap();
    let feb_mar = run(&[&b], "2026Q1").unwrap().summary.totals;
    let (i, o, _) = ledger_totals(&l);
    assert_eq!(
        (i, o),
        (
            feb_mar.activity.input_tokens,
            feb_mar.activity.output_tokens
        )
    );
    assert!(l
        .changes()
        .unwrap()
        .iter()
        .any(|c| c.kind == "removed import"));
    assert!(matches!(l.remove(1, now()), Err(LedgerError::Refused(_))));
    // Re-adding it restores the same totals.
    import(&mut l, &a, None).unwrap();
    assert_eq!(ledger_totals(&l), full);
}

#[test]
fn a_report_from_the_ledger_equals_one_from_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
    for f in std::fs::read_dir(root().join("samples")).unwrap().flatten() {
        let p = f.path();
        if llm_scope3::ingest::has_input_extension(&p.display().to_string()) {
            import(&mut l, &p, None).unwrap();
        }
    }
    let from_ledger = pipeline::run_ledger(&l, &config("2026Q1")).unwrap();
    let from_files = run(&[&root().join("samples")], "2026Q1").unwrap();
    assert_eq!(
        from_ledger.summary.totals.activity,
        from_files.summary.totals.activity
    );
    let (a, b) = (
        from_ledger.summary.totals.emissions_kgco2e,
        from_files.summary.totals.emissions_kgco2e,
    );
    for (x, y) in [(a.low, b.low), (a.central, b.central), (a.high, b.high)] {
        assert!(((x - y) / y).abs() < 1e-12, "{x} vs {y}");
    }
    assert_eq!(
        from_ledger.summary.lines.len(),
        from_files.summary.lines.len()
    );
    assert_eq!(
        from_ledger.summary.totals.spend.len(),
        from_files.summary.totals.spend.len()
    );
    for f in &from_ledger.files {
        assert!(f.counts.balanced(), "{}: {:?}", f.file, f.counts);
    }
}

#[test]
fn n_minus_1_comes_from_the_ledger() {
    // The same usage a year earlier (every start and end time minus 365 days: 2025 is no
    // leap year) makes N-1 equal to N, so the change is 0 %.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join(OPENAI)).unwrap();
    let year = 365 * 86_400i64;
    let shifted: String = text
        .lines()
        .map(|l| {
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            for cell in cells.iter_mut().take(2) {
                if let Ok(t) = cell.parse::<i64>() {
                    *cell = (t - year).to_string();
                }
            }
            cells.join(",") + "\n"
        })
        .collect();
    let last_year = dir.path().join("2025.csv");
    std::fs::write(&last_year, shifted).unwrap();
    let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
    import(&mut l, &root().join(OPENAI), None).unwrap();
    import(&mut l, &last_year, None).unwrap();
    let o = pipeline::run_ledger(&l, &config("2026Q1")).unwrap();
    let (p, prev) = o.ledger.as_ref().unwrap().comparative.clone().unwrap();
    assert_eq!(p.start.to_string(), "2025-01-01");
    assert_eq!(
        prev.activity.input_tokens,
        o.summary.totals.activity.input_tokens
    );
    // The workbook's E1-6 line shows N-1 and 0 % change.
    let bytes = llm_scope3::report::workbook::build(&o, &config("2026Q1").factors).unwrap();
    use calamine::{open_workbook_auto_from_rs, Data, Reader};
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let s = wb.worksheet_range("E1-6 Summary").unwrap();
    let row = s
        .rows()
        .find(|r| r[0] == Data::String("of which AI / LLM API services (this workbook)".into()))
        .unwrap();
    let (Data::Float(n1), Data::Float(n), Data::Float(change)) = (&row[5], &row[6], &row[7]) else {
        panic!("{row:?}")
    };
    assert!((n1 - n).abs() < 1e-12 && change.abs() < 1e-12);
}

#[test]
fn a_final_statement_is_compared_with_later_reports() {
    let dir = tempfile::tempdir().unwrap();
    let a = slice(dir.path(), "jan_feb.csv", 0, MAR_1, |l| l);
    let b = slice(dir.path(), "mar.csv", MAR_1, i64::MAX, |l| l);
    let db = dir.path().join("l.db");
    let bin = || bin_in(dir.path());
    bin()
        .args(["import"])
        .arg(&a)
        .arg("--ledger")
        .arg(&db)
        .assert()
        .success();
    bin()
        .args([
            "report",
            "--quarter",
            "2026Q1",
            "--final",
            "--as-of",
            "2026-04-01",
            "--out",
            "q1.xlsx",
            "--ledger",
        ])
        .arg(&db)
        .assert()
        .code(3); // March has no data yet: a final statement must not hide the gap ...
    bin()
        .args([
            "report",
            "--quarter",
            "2026Q1",
            "--final",
            "--as-of",
            "2026-04-01",
        ])
        .args(["--accept-gaps", "March export not available at closing"])
        .args(["--out", "q1.xlsx", "--ledger"])
        .arg(&db)
        .assert()
        .success(); // ... unless the preparer says why.
                    // March arrives late.
    bin()
        .args(["import"])
        .arg(&b)
        .arg("--ledger")
        .arg(&db)
        .assert()
        .success();
    bin()
        .args([
            "report",
            "--quarter",
            "2026Q1",
            "--as-of",
            "2026-04-15",
            "--out",
            "q1b.xlsx",
            "--ledger",
        ])
        .arg(&db)
        .assert()
        .success();
    let text = sheet_text(&dir.path().join("q1b.xlsx"), "Change Log");
    assert!(
        text.iter()
            .any(|t| t.contains("late data (imports #2 added)")),
        "{text:?}"
    );
    // Without a ledger the sheet says so.
    let o = run(&[&a], "2026Q1").unwrap();
    let bytes = llm_scope3::report::workbook::build(&o, &config("2026Q1").factors).unwrap();
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let log = wb.worksheet_range("Change Log").unwrap();
    assert!(log
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .any(|t| t.starts_with("no ledger: restatements are not tracked")));
}

/// The parts of an xlsx file, by name.
fn xlsx_parts(path: &Path) -> std::collections::BTreeMap<String, String> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut parts = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut text = String::new();
        if f.read_to_string(&mut text).is_ok() {
            parts.insert(name, text);
        }
    }
    parts
}

/// The Cover's rows as (label, value).
fn cover_rows(path: &Path) -> Vec<(String, String)> {
    use calamine::{open_workbook_auto, Reader};
    let mut wb = open_workbook_auto(path).unwrap();
    let range = wb.worksheet_range("Cover").unwrap();
    assert_eq!(range.start(), Some((0, 0)));
    range
        .rows()
        .map(|r| {
            let cell = |i: usize| r.get(i).map(|c| c.to_string()).unwrap_or_default();
            (cell(0), cell(1))
        })
        .collect()
}

fn cover_value(rows: &[(String, String)], label: &str) -> String {
    rows.iter()
        .find(|(k, _)| k == label)
        .unwrap_or_else(|| panic!("no {label} row on the Cover: {rows:?}"))
        .1
        .clone()
}

/// Whether the Cover's cell `cell` (`B17`) has an unlocked format (sheet1 is the Cover).
fn unlocked(parts: &std::collections::BTreeMap<String, String>, cell: &str) -> bool {
    let sheet = &parts["xl/worksheets/sheet1.xml"];
    let at = sheet
        .find(&format!("<c r=\"{cell}\""))
        .unwrap_or_else(|| panic!("no cell {cell}"));
    let tag = &sheet[at..at + sheet[at..].find('>').unwrap()];
    let style: usize = tag
        .split(" s=\"")
        .nth(1)
        .map_or(0, |s| s.split('"').next().unwrap().parse().unwrap());
    let styles = &parts["xl/styles.xml"];
    let xfs = &styles[styles.find("<cellXfs").unwrap()..styles.find("</cellXfs>").unwrap()];
    // Each <xf .../> or <xf ...>...</xf> of cellXfs, in order.
    let xf = xfs.split("<xf ").nth(style + 1).unwrap();
    xf.contains("<protection locked=\"0\"/>")
}

#[test]
fn a_final_workbook_says_final_is_protected_and_a_later_report_shows_the_difference() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let bin = || bin_in(dir.path());
    bin()
        .arg("import")
        .arg(root().join(OPENAI))
        .arg("--ledger")
        .arg(&db)
        .assert()
        .success();
    // Factor set 2026.1: the row added below is worked by hand with it (estimate_cases).
    let report = |name: &str, final_: bool| {
        let mut c = bin();
        c.args(["report", "--quarter", "2026Q1", "--as-of", "2026-04-01"])
            .args(["--factors", "2026.1", "--out"])
            .arg(format!("{name}.xlsx"))
            .arg("--json")
            .arg(format!("{name}.json"))
            .arg("--ledger")
            .arg(&db);
        if final_ {
            c.arg("--final");
        }
        let out = c.assert().success().get_output().clone();
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let json = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(name)).unwrap()).unwrap()
    };

    // The final report names the statement it records, on the terminal, the Cover, the
    // Change Log and in JSON.
    let (out, _) = report("final", true);
    assert!(
        out.contains("Recorded as final statement #1 of 2026Q1 in"),
        "{out}"
    );
    let final_xlsx = dir.path().join("final.xlsx");
    let cover = cover_rows(&final_xlsx);
    let status = cover_value(&cover, "Status");
    assert!(
        status.starts_with("Final: statement #1 of 2026Q1, recorded 2026-04-01T00:00:00Z"),
        "{status}"
    );
    assert!(!cover.iter().any(|(_, v)| v.contains("Draft")), "{cover:?}");
    let log = sheet_text(&final_xlsx, "Change Log");
    assert!(
        log.iter()
            .any(|t| t == "Final statement #1: recorded by this workbook (report --final)"),
        "{log:?}"
    );
    assert!(
        !log.iter().any(|t| t.contains("No final statement")),
        "{log:?}"
    );
    let fj = json("final.json");
    assert_eq!(fj["final_statement"]["id"], 1);
    assert_eq!(fj["final_statement"]["stated_at"], "2026-04-01T00:00:00Z");
    assert!(fj.get("compared_with_final").is_none());
    let stated = fj["totals"]["emissions_kgco2e"]["central"]
        .as_f64()
        .unwrap();
    assert_eq!(
        fj["final_statement"]["emissions_kgco2e"]["central"].as_f64(),
        Some(stated)
    );

    // Every sheet is protected; on the Cover only the sign-off cells are unlocked.
    let parts = xlsx_parts(&final_xlsx);
    let sheets: Vec<&String> = parts
        .keys()
        .filter(|k| k.starts_with("xl/worksheets/sheet"))
        .collect();
    // A ledger report: the sheets without a ledger, and Trend.
    assert_eq!(sheets.len(), llm_scope3::report::workbook::SHEETS.len() + 1);
    for s in &sheets {
        assert!(
            parts[*s].contains("<sheetProtection "),
            "{s} is not protected"
        );
    }
    let row_of = |label: &str| cover.iter().position(|(k, _)| k == label).unwrap() + 1;
    for label in ["Prepared by", "Reviewed by", "Approved by"] {
        let cell = format!("B{}", row_of(label));
        assert!(unlocked(&parts, &cell), "{label} ({cell}) is locked");
    }
    for label in ["Result (central)", "Status", "Reporting entity"] {
        let cell = format!("B{}", row_of(label));
        assert!(!unlocked(&parts, &cell), "{label} ({cell}) is unlocked");
    }

    // A later report from the same imports and factor set matches the statement; a draft
    // is not protected.
    let (out, err) = report("again", false);
    assert!(
        out.contains("matches final statement #1 of 2026Q1 (recorded 2026-04-01T00:00:00Z)"),
        "{out}"
    );
    assert!(!err.contains("differs"), "{err}");
    let aj = json("again.json");
    assert_eq!(aj["compared_with_final"]["matches"], true);
    assert_eq!(aj["compared_with_final"]["statement"]["id"], 1);
    assert_eq!(aj["compared_with_final"]["difference_kgco2e_central"], 0.0);
    assert!(aj.get("final_statement").is_none());
    let again = dir.path().join("again.xlsx");
    for (name, text) in xlsx_parts(&again) {
        assert!(
            !text.contains("<sheetProtection"),
            "{name} of a draft is protected"
        );
    }
    let cover = cover_rows(&again);
    assert!(cover_value(&cover, "Status").starts_with(
        "Draft: for review. 2026Q1 was stated final as statement #1 (recorded 2026-04-01T00:00:00Z)"
    ));
    assert!(cover_value(&cover, "Final statement").contains("matches final statement #1"));

    // Late data: one more row (tests/fixtures/openai_usage_one_row.csv, 15 January, gpt-4o,
    // 1,000,000 input tokens of which 200,000 cached, 500,000 output). Worked by hand in
    // estimate_cases::openai_usage_row_kwh_and_kgco2e_by_hand with factor set 2026.1:
    //   E_IT central 0.269365424252 kWh, E_fac = E_IT · PUE 1.18 = 0.317851200617 kWh
    //   kgCO2e central = 0.3178512 · 0.3835 + 0.2693654 · 0.050 = 0.135364206649
    // so the figure now differs from the statement by +0.135364206649 kgCO2e
    // (+0.000135 tCO2e), and the reason is the import it came with (#2).
    const ADDED_KG: f64 = 0.135364206649;
    bin()
        .arg("import")
        .arg(crate::common::fixture("openai_usage_one_row.csv"))
        .arg("--ledger")
        .arg(&db)
        .assert()
        .success();
    let (out, err) = report("later", false);
    let pct = format!("{:+.2}%", ADDED_KG / stated * 100.0);
    let by = format!("by +0.000135 tCO2e ({pct})");
    assert!(
        out.contains(&format!("Differs from final statement #1 of 2026Q1 {by}")),
        "{out}"
    );
    assert!(err.contains("warning: This report's figure"), "{err}");
    assert!(
        err.contains(&format!(
            "differs from final statement #1 of 2026Q1 (recorded 2026-04-01T00:00:00Z: {} tCO2e) {by}. Why: late data (imports #2 added).",
            llm_scope3::pipeline::finality::t_text(stated)
        )),
        "{err}"
    );
    let lj = json("later.json");
    let c = &lj["compared_with_final"];
    assert_eq!(c["matches"], false);
    crate::common::assert_close(
        c["difference_kgco2e_central"].as_f64().unwrap(),
        ADDED_KG,
        1e-6,
        "difference",
    );
    crate::common::assert_close(
        c["difference_relative"].as_f64().unwrap(),
        ADDED_KG / stated,
        1e-6,
        "relative difference",
    );
    assert_eq!(
        c["reasons"],
        serde_json::json!(["late data (imports #2 added)"])
    );
    let warning = lj["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "differs_from_final")
        .expect("a differs_from_final warning");
    assert!(warning["message"].as_str().unwrap().contains(&by));
    let later = dir.path().join("later.xlsx");
    let cover = cover_rows(&later);
    let line = cover_value(&cover, "Final statement");
    assert!(
        line.contains(&by) && line.contains("late data (imports #2 added)"),
        "{line}"
    );
    assert!(
        cover
            .iter()
            .any(|(k, v)| k.starts_with("Warning ") && v.contains(&by)),
        "{cover:?}"
    );
    let log = sheet_text(&later, "Change Log");
    assert!(
        log.iter().any(|t| t.starts_with("Final statement #1: ")
            && t.contains(&format!(
                "+0.000135 tCO2e ({pct}): late data (imports #2 added)"
            ))),
        "{log:?}"
    );
    // The three summaries validate against docs/summary.schema.json.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for (name, j) in [("final", &fj), ("again", &aj), ("later", &lj)] {
        let errors: Vec<String> = validator.iter_errors(j).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}.json: {errors:#?}");
    }
    let mut broken = lj.clone();
    broken["compared_with_final"]["matches"] = serde_json::json!("no");
    assert!(!validator.is_valid(&broken));
    // Every column of the statements table is headed.
    for h in [
        "Period",
        "Stated at (UTC)",
        "Stated kgCO2e (central)",
        "This report kgCO2e (central)",
        "Statement: difference and why",
    ] {
        assert!(log.iter().any(|t| t == h), "no heading {h}: {log:?}");
    }
}

#[test]
fn a_newer_schema_is_refused_and_reports_never_create_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    drop(Ledger::open(&db).unwrap());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(conn);
    assert!(matches!(
        Ledger::open(&db),
        Err(LedgerError::Newer { found: 99, .. })
    ));
    // `report FILES` without --ledger never creates ./llm-scope3.db.
    let mut c = assert_cmd::Command::cargo_bin("llm-scope3").unwrap();
    c.current_dir(dir.path())
        .args(["report", "--quarter", "2026Q1", "--out", "r.xlsx"])
        .arg(root().join(OPENAI))
        .assert()
        .success();
    assert!(!dir.path().join("llm-scope3.db").exists());
    // `report` without files and without a ledger says how to start.
    let mut c = assert_cmd::Command::cargo_bin("llm-scope3").unwrap();
    let out = c
        .current_dir(dir.path())
        .args(["report", "--quarter", "2026Q1"])
        .assert()
        .code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("no ledger at llm-scope3.db"), "{err}");
}

/// A big usage file, so that a kill lands in the middle of its import.
fn big_file(dir: &Path, rows: usize) -> PathBuf {
    let header = std::fs::read_to_string(root().join(OPENAI))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let mut out = header + "\n";
    for i in 0..rows {
        let t = 1_767_225_600 + (i as i64 % 90) * 86_400;
        out.push_str(&format!(
            "{t},{},x,y,proj_{},1.0,,key,gpt-4o,False,default,{}.0,{}.0,0.0,,,,,,,,,,\n",
            t + 86_400,
            i / 90,
            1000 + i % 7,
            100 + i % 3
        ));
    }
    let p = dir.join("big.csv");
    std::fs::write(&p, out).unwrap();
    p
}

#[test]
fn a_killed_import_leaves_the_ledger_before_or_after_never_between() {
    let dir = tempfile::tempdir().unwrap();
    let big = big_file(dir.path(), 60_000);
    let bin = assert_cmd::cargo::cargo_bin("llm-scope3");
    let db = dir.path().join("l.db");
    // A first, complete import, so the kills land on a ledger that has content.
    let small = slice(dir.path(), "jan.csv", 0, FEB_1, |l| l);
    assert!(std::process::Command::new(&bin)
        .arg("import")
        .arg(&small)
        .arg("--ledger")
        .arg(&db)
        .output()
        .unwrap()
        .status
        .success());
    let mut completed = 0;
    for attempt in 0..12u64 {
        let mut child = std::process::Command::new(&bin)
            .arg("import")
            .arg(&big)
            .arg("--ledger")
            .arg(&db)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Spread over the whole import (about 2 s in a debug build): parsing, then the transaction.
        std::thread::sleep(std::time::Duration::from_millis(50 + attempt * 211 % 2400));
        let _ = child.kill(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        if status.success() {
            completed += 1;
        }
        // Whatever happened, the ledger is consistent: every import holds exactly the records
        // it says it stored, and SQLite's integrity check passes.
        let conn = rusqlite::Connection::open(&db).unwrap();
        let ok: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
        let mut stmt = conn
            .prepare("SELECT i.id, i.accepted, (SELECT count(*) FROM records r WHERE r.import_id = i.id) FROM imports i")
            .unwrap();
        let rows: Vec<(i64, i64, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (id, accepted, stored) in rows {
            assert_eq!(
                accepted, stored,
                "import #{id} is partial after attempt {attempt}"
            );
        }
        if completed > 0 {
            break;
        }
    }
    // Finish the import, then the totals are the small file's plus the big file's, once.
    let out = std::process::Command::new(&bin)
        .arg("import")
        .arg(&big)
        .arg("--ledger")
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success());
    let l = Ledger::open(&db).unwrap();
    assert_eq!(l.list().unwrap().len(), 2);
    let (i, _, _) = ledger_totals(&l);
    let small_in = run(&[&small], "2026Q1")
        .unwrap()
        .summary
        .totals
        .activity
        .input_tokens;
    let big_in: u64 = (0..60_000u64).map(|i| 1000 + i % 7).sum();
    assert_eq!(i, small_in + big_in);
}

#[test]
fn a_factor_set_change_is_named_in_the_change_log() {
    // Final statement with the embedded set 2026.1; then a copy of it with the US grid factor
    // raised: the next report states the factor-set change as the cause.
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("2026.1-us-grid-up");
    std::fs::create_dir(&set).unwrap();
    for f in std::fs::read_dir(root().join("src/factors/data/2026.1"))
        .unwrap()
        .flatten()
    {
        let text = std::fs::read_to_string(f.path()).unwrap();
        let text = if f.file_name() == "grid.csv" {
            text.replace(
                "country:USA,country,,,United States,USA,agg:NAM,2024,383.5,",
                "country:USA,country,,,United States,USA,agg:NAM,2024,400,",
            )
        } else {
            text
        };
        std::fs::write(set.join(f.file_name()), text).unwrap();
    }
    let db = dir.path().join("l.db");
    let bin = || bin_in(dir.path());
    bin()
        .arg("import")
        .arg(root().join(OPENAI))
        .arg("--ledger")
        .arg(&db)
        .assert()
        .success();
    bin()
        .args([
            "report",
            "--quarter",
            "2026Q1",
            "--final",
            "--out",
            "a.xlsx",
            "--factors",
            "2026.1",
            "--ledger",
        ])
        .arg(&db)
        .assert()
        .success();
    bin()
        .args([
            "report",
            "--quarter",
            "2026Q1",
            "--out",
            "b.xlsx",
            "--factors",
        ])
        .arg(&set)
        .arg("--ledger")
        .arg(&db)
        .assert()
        .success();
    let text = sheet_text(&dir.path().join("b.xlsx"), "Change Log");
    assert!(
        text.iter()
            .any(|t| t.contains("factor set change (2026.1 → 2026.1-us-grid-up)")),
        "{text:?}"
    );
}

#[test]
fn imports_commands_list_show_and_remove_with_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let bin = || bin_in(dir.path());
    bin()
        .arg("import")
        .arg(root().join(OPENAI))
        .assert()
        .success();
    assert!(
        dir.path().join("llm-scope3.db").exists(),
        "default ledger file"
    );
    let text = stdout(bin().args(["imports", "list"]).assert().success());
    assert!(
        text.contains("openai-usage") && text.contains("445"),
        "{text}"
    );
    let text = stdout(bin().args(["imports", "show", "1"]).assert().success());
    assert!(
        text.contains("negative tokens") && text.contains("rows read 454"),
        "{text}"
    );
    bin().args(["imports", "remove", "1"]).assert().code(2);
    bin().args(["imports", "show", "7"]).assert().code(2);
    bin()
        .args(["imports", "remove", "1", "--yes"])
        .assert()
        .success();
    let out = bin()
        .args(["imports", "list"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(out).unwrap().contains("[removed"));
}

/// Runs the binary with `args` and returns (exit code, stdout, stderr).
fn cli(dir: &Path, args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("llm-scope3"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

#[test]
fn two_imports_of_one_file_at_once_import_it_once() {
    // 20 trials, each on a new ledger: both processes also race to create the schema.
    let dir = tempfile::tempdir().unwrap();
    let file = big_file(dir.path(), 3_000);
    let bin = assert_cmd::cargo::cargo_bin("llm-scope3");
    for trial in 0..20 {
        let db = dir.path().join(format!("l{trial}.db"));
        let spawn = || {
            std::process::Command::new(&bin)
                .arg("import")
                .arg(&file)
                .arg("--ledger")
                .arg(&db)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let text = |o: &std::process::Output| {
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )
        };
        assert!(
            a.status.success() && b.status.success(),
            "trial {trial}: {}\n---\n{}",
            text(&a),
            text(&b)
        );
        let imported = [&a, &b]
            .iter()
            .filter(|o| text(o).contains(": imported as #1 ["))
            .count();
        let already = [&a, &b]
            .iter()
            .filter(|o| text(o).contains("already imported as #1"))
            .count();
        assert_eq!((imported, already), (1, 1), "trial {trial}");
        let l = Ledger::open_existing(&db).unwrap();
        let list = l.list().unwrap();
        assert_eq!(list.len(), 1, "trial {trial}: {list:?}");
        // 3,000 rows, every one a record, none a duplicate.
        assert_eq!((list[0].accepted, list[0].duplicate), (3_000, 0));
    }
}

#[test]
fn an_import_and_a_report_at_once_see_before_or_after() {
    let dir = tempfile::tempdir().unwrap();
    let small = slice(dir.path(), "jan.csv", 0, FEB_1, |l| l);
    let big = big_file(dir.path(), 20_000);
    let base = dir.path().join("base.db");
    let (code, _, err) = cli(
        dir.path(),
        &[
            os("import"),
            small.as_os_str(),
            os("--ledger"),
            base.as_os_str(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let before = run(&[&small], "2026Q1")
        .unwrap()
        .summary
        .totals
        .activity
        .input_tokens;
    // The big file's rows hold 1000 + i % 7 input tokens each.
    let after = before + (0..20_000u64).map(|i| 1000 + i % 7).sum::<u64>();
    let bin = assert_cmd::cargo::cargo_bin("llm-scope3");
    let (mut saw_before, mut saw_after) = (0, 0);
    for trial in 0..20u64 {
        let db = dir.path().join(format!("l{trial}.db"));
        std::fs::copy(&base, &db).unwrap();
        let json = dir.path().join(format!("r{trial}.json"));
        let mut import = std::process::Command::new(&bin)
            .arg("import")
            .arg(&big)
            .arg("--ledger")
            .arg(&db)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Start the report at various moments of the import (parsing, then the transaction).
        std::thread::sleep(std::time::Duration::from_millis(trial * 35));
        let out = std::process::Command::new(&bin)
            .args(["report", "--quarter", "2026Q1", "--out"])
            .arg(dir.path().join(format!("r{trial}.xlsx")))
            .arg("--json")
            .arg(&json)
            .arg("--ledger")
            .arg(&db)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "trial {trial}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let input = v["totals"]["input_tokens"].as_u64().unwrap();
        assert!(
            input == before || input == after,
            "trial {trial}: {input} is neither {before} nor {after}"
        );
        if input == before {
            saw_before += 1;
        } else {
            saw_after += 1;
        }
        assert!(import.wait().unwrap().success(), "trial {trial}");
    }
    eprintln!("reports saw the ledger before the import {saw_before} times, after {saw_after}");
}

#[test]
fn a_final_report_on_a_read_only_ledger_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let (code, _, err) = cli(
        dir.path(),
        &[
            os("import"),
            root().join(OPENAI).as_os_str(),
            os("--ledger"),
            db.as_os_str(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    // Read-only by its mode bits. Root ignores them when opening files, so llm-scope3 must
    // honour them itself: this test fails the same way as root (CI) and as a user.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let report = |final_: bool, name: &str| {
        let mut args = vec![
            os("report"),
            os("--quarter"),
            os("2026Q1"),
            os("--out"),
            os(name),
            os("--json"),
            os("r.json"),
            os("--ledger"),
            db.as_os_str(),
        ];
        if final_ {
            args.push(os("--final"));
        }
        cli(dir.path(), &args)
    };
    let (code, out, err) = report(true, "r.xlsx");
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("read-only") && err.contains("l.db"), "{err}");
    assert!(!err.contains("SQLite") && !err.contains("sqlite"), "{err}");
    assert!(!dir.path().join("r.xlsx").exists(), "no workbook written");
    assert!(!dir.path().join("r.json").exists(), "no JSON written");
    // Reading it is fine, and leaves nothing beside it.
    let (code, _, err) = report(false, "ok.xlsx");
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("ok.xlsx").exists());
    let (code, out, err) = cli(
        dir.path(),
        &[os("imports"), os("list"), os("--ledger"), db.as_os_str()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("openai-usage"), "{out}");
    // An import into it is refused the same way.
    let (code, _, err) = cli(
        dir.path(),
        &[
            os("import"),
            small_file(dir.path()).as_os_str(),
            os("--ledger"),
            db.as_os_str(),
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("read-only"), "{err}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("l.db"))
        .collect();
    assert_eq!(names, ["l.db"], "no -wal or -shm file left beside it");
}

fn small_file(dir: &Path) -> PathBuf {
    slice(dir, "feb.csv", FEB_1, MAR_1, |l| l)
}

/// An SQLite file of another application, with two tables.
fn other_app(dir: &Path) -> PathBuf {
    let p = dir.join("other_app.db");
    let c = rusqlite::Connection::open(&p).unwrap();
    c.execute_batch(
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER);
         INSERT INTO users(name) VALUES ('ada');",
    )
    .unwrap();
    p
}

fn table_names(p: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(p).unwrap();
    let mut s = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    let names = s
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    names
}

#[test]
fn another_applications_sqlite_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let other = other_app(dir.path());
    let before = std::fs::read(&other).unwrap();
    let small = small_file(dir.path());
    for args in [
        vec![os("imports"), os("list")],
        vec![os("import"), small.as_os_str()],
        vec![os("report"), os("--quarter"), os("2026Q1")],
    ] {
        let mut args = args.clone();
        args.extend([os("--ledger"), other.as_os_str()]);
        let (code, out, err) = cli(dir.path(), &args);
        assert_eq!(code, 3, "{args:?}: {out}{err}");
        assert!(
            err.contains(
                "other_app.db is not an llm-scope3 ledger (it holds tables orders, users)"
            ),
            "{err}"
        );
        assert_eq!(table_names(&other), ["orders", "users"]);
    }
    assert_eq!(std::fs::read(&other).unwrap(), before, "not a byte changed");
}

#[test]
fn a_file_that_is_not_sqlite_or_is_damaged_is_refused_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    // Not SQLite at all.
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "Quarterly notes: nothing to see here.\n".repeat(200)).unwrap();
    let (code, _, err) = cli(
        dir.path(),
        &[os("imports"), os("list"), os("--ledger"), text.as_os_str()],
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("notes.db is not an llm-scope3 ledger"),
        "{err}"
    );
    // A ledger with a damaged page: its records table's pages overwritten with noise.
    let db = dir.path().join("l.db");
    let (code, _, err) = cli(
        dir.path(),
        &[
            os("import"),
            root().join(OPENAI).as_os_str(),
            os("--ledger"),
            db.as_os_str(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let mut bytes = std::fs::read(&db).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    let pages = bytes.len() / page;
    assert!(pages > 8, "{pages} pages");
    // Flip every bit of the first 32 bytes of pages 3 to 6 (b-tree page headers).
    for p in 2..6 {
        for b in &mut bytes[p * page..p * page + 32] {
            *b = !*b;
        }
    }
    std::fs::write(&db, &bytes).unwrap();
    for args in [
        vec![os("imports"), os("list")],
        vec![os("imports"), os("verify")],
        vec![os("report"), os("--quarter"), os("2026Q1")],
    ] {
        let mut args = args.clone();
        args.extend([os("--ledger"), db.as_os_str()]);
        let (code, out, err) = cli(dir.path(), &args);
        assert_eq!(code, 3, "{args:?}: {out}{err}");
        assert!(err.contains("l.db is damaged"), "{args:?}: {err}");
        if args[1] == "verify" {
            assert!(out.contains("damage: "), "{out}");
        }
    }
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("l.db"))
        .collect();
    assert_eq!(names, ["l.db"], "nothing made beside the damaged ledger");
}

#[test]
fn a_ledger_without_its_meta_table_is_refused_not_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    drop(Ledger::open(&db).unwrap());
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("DROP TABLE meta").unwrap();
    drop(c);
    let (code, _, err) = cli(
        dir.path(),
        &[os("imports"), os("list"), os("--ledger"), db.as_os_str()],
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("l.db") && !err.contains("duplicate column"),
        "{err}"
    );
}

#[test]
fn read_commands_never_create_a_ledger_and_verify_checks_one() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    for args in [
        vec![os("imports"), os("list")],
        vec![os("imports"), os("verify")],
        vec![os("imports"), os("show"), os("1")],
    ] {
        let mut args = args.clone();
        args.extend([os("--ledger"), missing.as_os_str()]);
        let (code, _, err) = cli(dir.path(), &args);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("no ledger at"), "{err}");
        assert!(!missing.exists());
    }
    let db = dir.path().join("l.db");
    let (code, _, err) = cli(
        dir.path(),
        &[
            os("import"),
            root().join(OPENAI).as_os_str(),
            os("--ledger"),
            db.as_os_str(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = cli(
        dir.path(),
        &[os("imports"), os("verify"), os("--ledger"), db.as_os_str()],
    );
    assert_eq!(code, 0, "{err}");
    // The sample: 454 rows read, 445 records (9 rejected).
    assert!(
        out.contains("1 import(s)") && out.contains("445 record(s)"),
        "{out}"
    );
    assert!(out.contains("no damage found"), "{out}");
}

#[test]
fn a_ledger_of_an_earlier_version_opens_and_is_migrated() {
    // Made as llm-scope3 with schema 3 made it: no application id, and (from the concurrency
    // bug) the same file imported twice.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    for f in ["schema.sql", "schema_v2.sql", "schema_v3.sql"] {
        c.execute_batch(&std::fs::read_to_string(root().join("src/ledger").join(f)).unwrap())
            .unwrap();
    }
    c.execute_batch(
        "INSERT INTO meta(key, value) VALUES ('schema_version', '3');
         INSERT INTO imports(file, sha256, format, template, imported_at, accounts, rows_read,
            accepted, duplicate, restated, report_json)
         VALUES ('a.csv', 'abc', 'openai-usage', 'openai-usage', '2026-04-01T00:00:00Z', '', 0, 0, 0, 0, '{}'),
                ('a.csv', 'abc', 'openai-usage', 'openai-usage', '2026-04-01T00:00:01Z', '', 0, 0, 0, 0, '{}');",
    )
    .unwrap();
    let id: i64 = c
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(id, 0);
    drop(c);
    let l = Ledger::open_existing(&db).unwrap();
    let list = l.list().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list[0].removed_at.is_none());
    assert!(list[1].removed_at.is_some(), "the second copy is withdrawn");
    assert!(l
        .changes()
        .unwrap()
        .iter()
        .any(|c| c.kind == "removed duplicate import" && c.import_id == Some(2)));
    drop(l);
    let c = rusqlite::Connection::open(&db).unwrap();
    let id: i64 = c
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(id, llm_scope3::ledger::APPLICATION_ID as i64);
    let v: String = c
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v, llm_scope3::ledger::SCHEMA_VERSION.to_string());
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal", "switched from the rollback journal once");
}

#[test]
fn a_writer_waits_for_another_and_says_so_while_a_reader_does_not_wait() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let jan = slice(dir.path(), "jan.csv", 0, FEB_1, |l| l);
    let (code, _, err) = cli(
        dir.path(),
        &[
            os("import"),
            jan.as_os_str(),
            os("--ledger"),
            db.as_os_str(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    // Another program holds the write lock for 1.5 s.
    let mut holder = rusqlite::Connection::open(&db).unwrap();
    let tx = holder
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let started = std::time::Instant::now();
    let bin = assert_cmd::cargo::cargo_bin("llm-scope3");
    let feb = small_file(dir.path());
    let import = std::process::Command::new(&bin)
        .arg("import")
        .arg(&feb)
        .arg("--ledger")
        .arg(&db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A report meanwhile does not wait: it reads the ledger as it is (January only).
    let (code, out, err) = cli(
        dir.path(),
        &[
            os("report"),
            os("--quarter"),
            os("2026Q1"),
            os("--out"),
            os("r.xlsx"),
            os("--ledger"),
            db.as_os_str(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("waiting"), "{err}");
    std::thread::sleep(std::time::Duration::from_millis(1500).saturating_sub(started.elapsed()));
    tx.rollback().unwrap();
    drop(holder);
    let out = import.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "waiting for another process to finish writing ledger {}",
            db.display()
        )),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported as #2"));
}

#[test]
fn a_ledger_that_cannot_be_created_leaves_no_file() {
    // A file size limit of 0 (and SIGXFSZ ignored) makes every write fail with EFBIG, as a
    // full disk does.
    let dir = tempfile::tempdir().unwrap();
    let file = small_file(dir.path());
    let db = dir.path().join("new.db");
    let bin = assert_cmd::cargo::cargo_bin("llm-scope3");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 0 && exec \"$0\" import \"$1\" --ledger \"$2\"")
        .arg(&bin)
        .arg(&file)
        .arg(&db)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("new.db"), "{err}");
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("new.db"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_file_holding_only_a_view_is_refused_untouched() {
    // An SQLite file with a view and no table is another application's (red-team #17 D5):
    // read commands and imports refuse it, and not a byte changes.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("views.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE VIEW app_settings AS SELECT 1 AS x;")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let small = small_file(dir.path());
    for args in [
        vec![os("imports"), os("list")],
        vec![os("import"), small.as_os_str()],
        vec![os("report"), os("--quarter"), os("2026Q1")],
    ] {
        let mut args = args.clone();
        args.extend([os("--ledger"), path.as_os_str()]);
        let (code, out, err) = cli(dir.path(), &args);
        assert_eq!(code, 3, "{args:?}: {out}{err}");
        assert!(
            err.contains(
                "views.db is not an llm-scope3 ledger (it holds no tables but view app_settings)"
            ),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "not a byte changed");
}

#[test]
fn a_damaged_index_the_quick_check_misses_stops_the_report_before_any_figure() {
    // Red-team #17 D1: one bit flipped in a leaf page of the records_period index hides rows
    // from the period query; SQLite's quick check (run on every opening) does not read index
    // entries against their rows, so the report gave a low figure and --final recorded it.
    // The full integrity check now runs before a figure is computed from a ledger.
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("L.db");
    let sample = root().join("samples/openai_completions_usage_2026-01-01_2026-03-31.csv");
    let (code, out, err) = cli(
        dir.path(),
        &[
            os("import"),
            sample.as_os_str(),
            os("--ledger"),
            ledger.as_os_str(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    // The index's first leaf page, found from its root (page size from the ledger).
    let (root_page, page_size): (i64, i64) = {
        let c = rusqlite::Connection::open(&ledger).unwrap();
        (
            c.query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = 'records_period'",
                [],
                |r| r.get(0),
            )
            .unwrap(),
            c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap(),
        )
    };
    let mut bytes = std::fs::read(&ledger).unwrap();
    let ps = page_size as usize;
    let mut page = root_page as usize;
    while bytes[(page - 1) * ps] != 0x0a {
        // An interior index page: follow its right-most child.
        let at = (page - 1) * ps + 8;
        page = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    }
    let off = (page - 1) * ps;
    let first_cell = u16::from_be_bytes(bytes[off + 5..off + 7].try_into().unwrap()) as usize;
    bytes[off + first_cell + 6] ^= 0x01;
    std::fs::write(&ledger, &bytes).unwrap();
    {
        let c = rusqlite::Connection::open(&ledger).unwrap();
        let quick: String = c.query_row("PRAGMA quick_check", [], |r| r.get(0)).unwrap();
        assert_eq!(quick, "ok", "the quick check misses it");
    }
    for extra in [vec![], vec![os("--final")]] {
        let mut args = vec![
            os("report"),
            os("--quarter"),
            os("2026Q1"),
            os("--ledger"),
            ledger.as_os_str(),
            os("--out"),
            os("r.xlsx"),
        ];
        args.extend(extra);
        let (code, out, err) = cli(dir.path(), &args);
        assert_eq!(code, 3, "{out}{err}");
        assert!(
            err.contains("full integrity check")
                && err.contains("missing from index records_period"),
            "{err}"
        );
        assert!(!dir.path().join("r.xlsx").exists());
    }
    let c = rusqlite::Connection::open(&ledger).unwrap();
    let statements: i64 = c
        .query_row("SELECT count(*) FROM statements", [], |r| r.get(0))
        .unwrap();
    assert_eq!(statements, 0);
}

#[test]
fn a_file_is_imported_in_batches_and_a_failure_late_in_it_leaves_the_ledger_as_before() {
    // The records go to the ledger as they are read (batches of 1,000 inside one transaction):
    // 5,000 rows cross five batches. big_file's rows: input 1000 + i % 7, output 100 + i % 3.
    //   input  = 5,000 × 1,000 + Σ i % 7 = 5,000,000 + (714 × 21 + 0 + 1) = 5,014,995
    //   output = 5,000 × 100 + Σ i % 3   =   500,000 + (1,666 × 3 + 0 + 1) =   504,999
    // (5,000 = 714 × 7 + 2 = 1,666 × 3 + 2; every row is its own record: project i / 90 and
    // day i % 90 differ.)
    let dir = tempfile::tempdir().unwrap();
    let big = big_file(dir.path(), 5_000);
    let mut ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
    let Ok(ImportResult::Imported(s, _)) = import(&mut ledger, &big, None) else {
        panic!("not imported");
    };
    assert_eq!(s.accepted, 5_000);
    let (input, output, _) = ledger_totals(&ledger);
    assert_eq!((input, output), (5_014_995, 504_999));

    // The same rows under a new name (other bytes: a trailing line) with a record too long to
    // read at the end (past the 16 MiB limit of one line): the file is refused after its 5,000
    // records were written inside the import's transaction, which is rolled back.
    let mut text = std::fs::read_to_string(&big)
        .unwrap()
        .replace("proj_", "other_");
    text.push_str(&"x".repeat(17 * 1024 * 1024));
    text.push('\n');
    let late = dir.path().join("late.csv");
    std::fs::write(&late, text).unwrap();
    let err = import(&mut ledger, &late, None).unwrap_err().to_string();
    assert!(err.contains("late.csv"), "{err}");
    assert_eq!(ledger.list().unwrap().len(), 1);
    let (input, output, _) = ledger_totals(&ledger);
    assert_eq!((input, output), (5_014_995, 504_999));
    let conn = rusqlite::Connection::open(dir.path().join("l.db")).unwrap();
    let records: i64 = conn
        .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(records, 5_000, "no record of the refused file is left");
}
