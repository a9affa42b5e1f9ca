//! The ledger's backend-facing tests on both backends: the embedded SQLite file and a
//! PostgreSQL database (a throwaway server, tests/it/pg.rs; skipped with a printed reason when
//! PostgreSQL is absent, unless CI=true). Import, duplicates, overlaps, restatements,
//! granularity refusals, removal, final statements, imports racing each other; on PostgreSQL
//! also foreign databases, passwords never shown, waiting writers; and `ledger copy` both ways
//! giving the same report.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use llm_scope3::ledger::{ImportResult, Ledger, LedgerError, Location};
use llm_scope3::pipeline;

use crate::common::{config, root, run, sheet_text};
use crate::pg;

const OPENAI: &str = "samples/openai_completions_usage_2026-01-01_2026-03-31.csv";
const FEB_1: i64 = 1_769_904_000; // 2026-02-01T00:00:00Z
const MAR_1: i64 = 1_772_323_200; // 2026-03-01T00:00:00Z

/// One ledger of one backend for a test.
pub(crate) struct Backend {
    /// "sqlite" or "postgres", for messages.
    pub(crate) name: &'static str,
    /// As given to --ledger.
    pub(crate) arg: String,
    _db: Option<pg::Database>,
}

impl Backend {
    pub(crate) fn location(&self) -> Location {
        Location::parse(std::ffi::OsStr::new(&self.arg))
    }

    pub(crate) fn open(&self) -> Ledger {
        Ledger::open_at(&self.location()).unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }
}

/// A new, empty ledger of each backend available: an SQLite file in `dir` and, when there is
/// a PostgreSQL server, a new database.
pub(crate) fn backends(test: &str, dir: &Path, n: usize) -> Vec<Backend> {
    let mut out = vec![Backend {
        name: "sqlite",
        arg: dir.join(format!("l{n}.db")).display().to_string(),
        _db: None,
    }];
    if let Some(server) = pg::server(test) {
        let db = server.database(test);
        out.push(Backend {
            name: "postgres",
            arg: db.url(),
            _db: Some(db),
        });
    }
    out
}

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

/// A usage file of `rows` rows over 2026 Q1 (1000 + i % 7 input tokens each), named `name`;
/// `offset` shifts the projects, so that two such files overlap where their projects do.
fn big_file(dir: &Path, name: &str, rows: usize, offset: usize) -> PathBuf {
    let header = std::fs::read_to_string(root().join(OPENAI))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let mut out = header + "\n";
    for i in offset..offset + rows {
        let t = 1_767_225_600 + (i as i64 % 90) * 86_400;
        out.push_str(&format!(
            "{t},{},x,y,proj_{},1.0,,key,gpt-4o,False,default,{}.0,{}.0,0.0,,,,,,,,,,\n",
            t + 86_400,
            i / 90,
            1000 + i % 7,
            100 + i % 3
        ));
    }
    let p = dir.join(name);
    std::fs::write(&p, out).unwrap();
    p
}

fn import(
    ledger: &mut Ledger,
    path: &Path,
    replace: Option<i64>,
) -> Result<ImportResult, LedgerError> {
    let cfg = config("2026Q1");
    let input = pipeline::Input {
        path: path.to_path_buf(),
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
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

fn totals(ledger: &Ledger) -> (u64, u64, f64) {
    let o = pipeline::run_ledger(ledger, &config("2026Q1")).unwrap();
    let t = &o.summary.totals;
    (
        t.activity.input_tokens,
        t.activity.output_tokens,
        t.emissions_kgco2e.central,
    )
}

fn file_totals(paths: &[&Path]) -> (u64, u64, f64) {
    let o = run(paths, "2026Q1").unwrap();
    let t = &o.summary.totals;
    (
        t.activity.input_tokens,
        t.activity.output_tokens,
        t.emissions_kgco2e.central,
    )
}

/// Runs the binary in `dir` with `args` (and `env`); (exit code, stdout, stderr).
fn cli_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("llm-scope3"));
    c.current_dir(dir)
        .args(args)
        .env_remove("LLM_SCOPE3_LEDGER");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub(crate) fn cli(dir: &Path, args: &[&str]) -> (i32, String, String) {
    cli_env(dir, args, &[])
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn each_backend_imports_a_file_once_and_counts_overlapping_exports_once() {
    let test =
        "ledger_backends::each_backend_imports_a_file_once_and_counts_overlapping_exports_once";
    let dir = tempfile::tempdir().unwrap();
    let a = slice(dir.path(), "jan_feb.csv", 0, MAR_1, |l| l);
    let b = slice(dir.path(), "feb_mar.csv", FEB_1, i64::MAX, |l| l);
    let expected = file_totals(&[&root().join(OPENAI)]);
    for be in backends(test, dir.path(), 0) {
        let mut l = be.open();
        let ImportResult::Imported(s, _) = import(&mut l, &root().join(OPENAI), None).unwrap()
        else {
            panic!("{}: first import", be.name)
        };
        assert_eq!(s.accepted, 445, "{}", be.name);
        let again = import(&mut l, &root().join(OPENAI), None).unwrap();
        assert!(
            matches!(again, ImportResult::AlreadyImported(ref s2) if s2.id == s.id),
            "{}",
            be.name
        );
        assert_eq!(l.list().unwrap().len(), 1, "{}", be.name);
        assert_eq!(totals(&l), expected, "{}", be.name);
    }
    // January–February and February–March: February is in both. In either order, each twice,
    // the totals are the whole file's; the second import's February rows are duplicates.
    for (n, order) in [[&a, &b, &a, &b], [&b, &a, &b, &a]].iter().enumerate() {
        for be in backends(test, dir.path(), n + 1) {
            let mut l = be.open();
            for p in order.iter() {
                import(&mut l, p, None).unwrap();
            }
            assert_eq!(totals(&l), expected, "{} order {n}", be.name);
            let second = &l.list().unwrap()[1];
            assert!(second.duplicate > 0, "{}: {second:?}", be.name);
            assert_eq!(second.restated, 0, "{}", be.name);
        }
    }
}

#[test]
fn each_backend_logs_a_restatement_and_refuses_another_granularity_unless_replaced() {
    let test = "ledger_backends::each_backend_logs_a_restatement_and_refuses_another_granularity_unless_replaced";
    let dir = tempfile::tempdir().unwrap();
    let a = slice(dir.path(), "jan_feb.csv", 0, MAR_1, |l| l);
    let target = format!("{FEB_1},");
    // One February row restated with 1,000 more output tokens.
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
    let (ei, eo, _) = file_totals(&[&root().join(OPENAI)]);
    for be in backends(test, dir.path(), 0) {
        let mut l = be.open();
        import(&mut l, &a, None).unwrap();
        let ImportResult::Imported(s, _) = import(&mut l, &b, None).unwrap() else {
            panic!("{}", be.name)
        };
        assert_eq!(s.restated, 1, "{}", be.name);
        let (i, o, _) = totals(&l);
        assert_eq!((i, o), (ei, eo + 1000), "{}", be.name);
        let changes = l.changes().unwrap();
        assert_eq!(changes.len(), 1, "{}", be.name);
        assert_eq!(changes[0].kind, "restatement");
        assert_eq!(changes[0].month.as_deref(), Some("2026-02"));
        assert!(
            changes[0].detail.contains("previously (import #1)")
                && changes[0]
                    .detail
                    .contains("| 2026-02-01T00:00:00Z to 2026-02-02T00:00:00Z: previously"),
            "{}: {}",
            be.name,
            changes[0].detail
        );
    }
    // A monthly export of January after the daily one: refused, then accepted with --replace.
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
    for be in backends(test, dir.path(), 1) {
        let mut l = be.open();
        import(&mut l, &daily, None).unwrap();
        let err = import(&mut l, &monthly, None).unwrap_err();
        assert_eq!(err.exit_code(), 3, "{}", be.name);
        let msg = err.to_string();
        assert!(
            msg.contains("buckets of 31 days") && msg.contains("--replace 1"),
            "{}: {msg}",
            be.name
        );
        assert_eq!(l.list().unwrap().len(), 1, "{}: nothing written", be.name);
        import(&mut l, &monthly, Some(1)).unwrap();
        let (i, o, _) = totals(&l);
        assert_eq!((i, o), (1000, 500), "{}", be.name);
        assert!(l
            .changes()
            .unwrap()
            .iter()
            .any(|c| c.kind == "replaced import"));
    }
}

#[test]
fn each_backend_removes_and_re_adds_an_import_to_the_same_totals() {
    let test = "ledger_backends::each_backend_removes_and_re_adds_an_import_to_the_same_totals";
    let dir = tempfile::tempdir().unwrap();
    let a = slice(dir.path(), "jan_feb.csv", 0, MAR_1, |l| l);
    let b = slice(dir.path(), "feb_mar.csv", FEB_1, i64::MAX, |l| l);
    let (bi, bo, _) = file_totals(&[&b]);
    for be in backends(test, dir.path(), 0) {
        let mut l = be.open();
        import(&mut l, &a, None).unwrap();
        import(&mut l, &b, None).unwrap();
        let full = totals(&l);
        // Without January–February, February still counts from February–March.
        l.remove(1, now()).unwrap();
        let (i, o, _) = totals(&l);
        assert_eq!((i, o), (bi, bo), "{}", be.name);
        assert!(l
            .changes()
            .unwrap()
            .iter()
            .any(|c| c.kind == "removed import"));
        assert!(
            matches!(l.remove(1, now()), Err(LedgerError::Refused(_))),
            "{}",
            be.name
        );
        import(&mut l, &a, None).unwrap();
        assert_eq!(totals(&l), full, "{}", be.name);
        let v = l.verify().unwrap();
        assert!(v.problems.is_empty(), "{}: {:?}", be.name, v.problems);
        assert_eq!(v.imports, 3, "{}", be.name);
    }
}

#[test]
fn each_backend_records_final_statements_and_compares_later_reports() {
    let test = "ledger_backends::each_backend_records_final_statements_and_compares_later_reports";
    let dir = tempfile::tempdir().unwrap();
    let a = slice(dir.path(), "jan_feb.csv", 0, MAR_1, |l| l);
    let b = slice(dir.path(), "mar.csv", MAR_1, i64::MAX, |l| l);
    for be in backends(test, dir.path(), 0) {
        let d = dir.path();
        let (code, _, err) = cli(d, &["import", path_str(&a), "--ledger", &be.arg]);
        assert_eq!(code, 0, "{}: {err}", be.name);
        let out_a = format!("{}-q1.xlsx", be.name);
        // March has no data yet: --final refuses the gap unless the preparer says why.
        let (code, _, err) = cli(
            d,
            &[
                "report",
                "--quarter",
                "2026Q1",
                "--final",
                "--as-of",
                "2026-04-01",
                "--out",
                &out_a,
                "--ledger",
                &be.arg,
            ],
        );
        assert_eq!(code, 3, "{}: {err}", be.name);
        let (code, out, err) = cli(
            d,
            &[
                "report",
                "--quarter",
                "2026Q1",
                "--final",
                "--as-of",
                "2026-04-01",
                "--accept-gaps",
                "March export not available at closing",
                "--out",
                &out_a,
                "--ledger",
                &be.arg,
            ],
        );
        assert_eq!(code, 0, "{}: {err}", be.name);
        assert!(
            out.contains("Recorded as final statement #1 of 2026Q1 in"),
            "{}: {out}",
            be.name
        );
        let (code, _, err) = cli(d, &["import", path_str(&b), "--ledger", &be.arg]);
        assert_eq!(code, 0, "{}: {err}", be.name);
        let out_b = format!("{}-q1b.xlsx", be.name);
        let (code, _, err) = cli(
            d,
            &[
                "report",
                "--quarter",
                "2026Q1",
                "--as-of",
                "2026-04-15",
                "--out",
                &out_b,
                "--ledger",
                &be.arg,
            ],
        );
        assert_eq!(code, 0, "{}: {err}", be.name);
        let text = sheet_text(&d.join(&out_b), "Change Log");
        assert!(
            text.iter()
                .any(|t| t.contains("late data (imports #2 added)")),
            "{}: {text:?}",
            be.name
        );
        // A statement begun but dropped records nothing; one committed is the last.
        let mut l = Ledger::open_at(&be.location()).unwrap();
        let period = config("2026Q1").period.clone();
        let last = l.last_statement(&period).unwrap().unwrap();
        assert_eq!(last.id, 1, "{}", be.name);
        let mut s = last.clone();
        s.stated_at = "2026-05-01T00:00:00Z".into();
        drop(l.begin_statement(&period, &s).unwrap());
        assert_eq!(
            l.last_statement(&period).unwrap().unwrap().id,
            1,
            "{}",
            be.name
        );
        let id = l.record_statement(&period, &s).unwrap();
        let again = l.last_statement(&period).unwrap().unwrap();
        assert_eq!(
            (again.id, again.stated_at.as_str()),
            (id, "2026-05-01T00:00:00Z")
        );
        assert!(id > 1, "{}", be.name);
    }
}

#[test]
fn each_backend_imports_a_file_once_when_importers_race_and_overlapping_files_count_once() {
    let test = "ledger_backends::each_backend_imports_a_file_once_when_importers_race_and_overlapping_files_count_once";
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("llm-scope3");
    let spawn = |file: &Path, ledger: &str| {
        std::process::Command::new(&bin)
            .arg("import")
            .arg(file)
            .arg("--ledger")
            .arg(ledger)
            .env_remove("LLM_SCOPE3_LEDGER")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    // Eight importers of one file into a new ledger (racing to set it up, too): one imports
    // it, seven find it imported.
    let same = big_file(dir.path(), "same.csv", 2_000, 0);
    for trial in 0..3 {
        for be in backends(test, dir.path(), trial) {
            let children: Vec<_> = (0..8).map(|_| spawn(&same, &be.arg)).collect();
            let outs: Vec<_> = children
                .into_iter()
                .map(|c| c.wait_with_output().unwrap())
                .collect();
            for o in &outs {
                assert!(o.status.success(), "{} trial {trial}: {}", be.name, text(o));
            }
            let imported = outs
                .iter()
                .filter(|o| text(o).contains(": imported as #1 ["))
                .count();
            let already = outs
                .iter()
                .filter(|o| text(o).contains("already imported as #1"))
                .count();
            assert_eq!((imported, already), (1, 7), "{} trial {trial}", be.name);
            let l = Ledger::open_existing_at(&be.location()).unwrap();
            let list = l.list().unwrap();
            assert_eq!(list.len(), 1, "{} trial {trial}: {list:?}", be.name);
            assert_eq!((list[0].accepted, list[0].duplicate), (2_000, 0));
        }
    }
    // Eight different files whose rows overlap (each shares half its rows with the next)
    // imported at once: the same totals as importing them one after another.
    let files: Vec<PathBuf> = (0..8)
        .map(|i| big_file(dir.path(), &format!("part{i}.csv"), 1_000, i * 500))
        .collect();
    for be in backends(test, dir.path(), 10) {
        let children: Vec<_> = files.iter().map(|f| spawn(f, &be.arg)).collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "{}: {}", be.name, text(&o));
        }
        let together = totals(&Ledger::open_existing_at(&be.location()).unwrap());
        let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let mut one_by_one = Ledger::open_at(&Location::File(
            dir.path().join(format!("seq-{}.db", be.name)),
        ))
        .unwrap();
        for f in &refs {
            import(&mut one_by_one, f, None).unwrap();
        }
        assert_eq!(together, totals(&one_by_one), "{}", be.name);
        // Rows 0..4,500 (the last file starts at row 3,500) once each, 1000 + i % 7 input
        // tokens: 4,500 × 1,000 + Σ i % 7, and 4,500 = 642 × 7 + 6, so Σ i % 7 = 642 × 21 +
        // (0 + 1 + 2 + 3 + 4 + 5) = 13,497: 4,513,497.
        assert_eq!(together.0, 4_513_497, "{}", be.name);
        let v = Ledger::open_existing_at(&be.location())
            .unwrap()
            .verify()
            .unwrap();
        assert!(v.problems.is_empty(), "{}: {:?}", be.name, v.problems);
    }
}

/// The JSON summary of `report --ledger L` for 2026 Q1 without `generated_at`, the one field
/// that differs between two runs (it is the time of the run; `--as-of` fixes it). The ledger's
/// name is in no JSON field: only the workbook's Change Log ("ledger L") and the Cover's
/// status of a `--final` report name it.
fn report_json(dir: &Path, ledger: &str, name: &str) -> serde_json::Value {
    let json = format!("{name}.json");
    let (code, _, err) = cli(
        dir,
        &[
            "report",
            "--quarter",
            "2026Q1",
            "--out",
            &format!("{name}.xlsx"),
            "--json",
            &json,
            "--ledger",
            ledger,
        ],
    );
    assert_eq!(code, 0, "{name}: {err}");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(&json)).unwrap()).unwrap();
    let generated = v.as_object_mut().unwrap().remove("generated_at");
    assert!(generated.is_some(), "the JSON has a generated_at field");
    v
}

#[test]
fn ledger_copy_moves_a_ledger_to_postgres_and_back_with_the_same_report() {
    let test =
        "ledger_backends::ledger_copy_moves_a_ledger_to_postgres_and_back_with_the_same_report";
    let Some(server) = pg::server(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("a.db");
    let a = path_str(&db);
    // A ledger with everything a ledger holds: every sample (usage, carbon reports, rejected
    // rows), a restatement, a removed import, a replaced one, a final statement, users of the
    // upload page (one with a password hash) and the audit log of all that.
    let (code, _, err) = cli(
        d,
        &["import", path_str(&root().join("samples")), "--ledger", a],
    );
    assert_eq!(code, 0, "{err}");
    let target = format!("{FEB_1},");
    let restated = slice(d, "feb_restated.csv", FEB_1, MAR_1, |l| {
        if l.starts_with(&target) && l.contains("proj_support_bot") && l.contains("gpt-4o-mini") {
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            let out: f64 = cells[12].parse().unwrap();
            cells[12] = format!("{:.1}", out + 1000.0);
            cells.join(",")
        } else {
            l
        }
    });
    let extra = big_file(d, "extra.csv", 300, 0);
    for args in [
        vec!["import", path_str(&restated), "--ledger", a],
        vec!["import", path_str(&extra), "--ledger", a],
        vec!["imports", "remove", "1", "--yes", "--ledger", a],
        vec![
            "report",
            "--quarter",
            "2026Q1",
            "--final",
            "--accept-gaps",
            "test",
            "--out",
            "final.xlsx",
            "--ledger",
            a,
        ],
    ] {
        let (code, out, err) = cli(d, &args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
    }
    {
        let mut l = Ledger::open(&db).unwrap();
        l.set_actor(llm_scope3::ledger::Actor::command_line("copier"));
        let hash = llm_scope3::ledger::PasswordHash::new("correct horse battery staple").unwrap();
        let now = chrono::Utc::now();
        l.add_user("ann", llm_scope3::ledger::Role::Approver, Some(&hash), now)
            .unwrap();
        l.add_user(
            "sso@example.com",
            llm_scope3::ledger::Role::Viewer,
            None,
            now,
        )
        .unwrap();
    }
    let pg_db = server.database(test);
    let url = pg_db.url();
    let (code, out, err) = cli(d, &["ledger", "copy", "--from", a, "--to", &url]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("the copy was checked"), "{out}");
    let back = d.join("back.db");
    let (code, out, err) = cli(
        d,
        &["ledger", "copy", "--from", &url, "--to", path_str(&back)],
    );
    assert_eq!(code, 0, "{out}{err}");
    // The same report, field for field but generated_at, from all three.
    let from_file = report_json(d, a, "file");
    let from_pg = report_json(d, &url, "pg");
    let from_back = report_json(d, path_str(&back), "back");
    assert!(from_file == from_pg, "SQLite and PostgreSQL reports differ");
    assert!(from_file == from_back, "the SQLite copy's report differs");
    // The workbook names its ledger (without a password) on the Change Log.
    let log = sheet_text(&d.join("pg.xlsx"), "Change Log");
    assert!(log.iter().any(|t| t == &format!("ledger {url}")), "{log:?}");
    // The lists match too, import by import.
    let (la, lp) = (
        Ledger::open_existing(&db).unwrap().list().unwrap(),
        Ledger::open_existing_at(&Location::parse(std::ffi::OsStr::new(&url)))
            .unwrap()
            .list()
            .unwrap(),
    );
    assert_eq!(la, lp);
    // The page's users (the password still verifies) and the audit log, entry for entry.
    let (file, pg, back) = (
        Ledger::open_existing(&db).unwrap(),
        Ledger::open_existing_at(&Location::parse(std::ffi::OsStr::new(&url))).unwrap(),
        Ledger::open_existing(&back).unwrap(),
    );
    for copy in [&pg, &back] {
        assert_eq!(copy.users().unwrap(), file.users().unwrap());
        assert_eq!(copy.audit_log(None).unwrap(), file.audit_log(None).unwrap());
        let (_, hash) = copy.credentials("ann").unwrap().unwrap();
        assert!(hash.unwrap().verify("correct horse battery staple"));
    }
    assert!(file.audit_log(None).unwrap().len() >= 6);
    assert!(out.contains("2 user(s) of the upload page"), "{out}");
    drop((file, pg, back));
    // A new import into the copy is numbered after the copied ones.
    let more = big_file(d, "more.csv", 10, 5_000);
    let (code, out, err) = cli(d, &["import", path_str(&more), "--ledger", &url]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("imported as #{} [", la.len() + 1)),
        "{out}"
    );
    // A copy into a ledger that holds anything is refused, and changes nothing.
    let (code, _, err) = cli(d, &["ledger", "copy", "--from", a, "--to", &url]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("copy into a new, empty ledger"), "{err}");
}

#[test]
fn a_postgres_database_of_another_application_is_refused_untouched() {
    let test = "ledger_backends::a_postgres_database_of_another_application_is_refused_untouched";
    let Some(server) = pg::server(test) else {
        return;
    };
    let db = server.database(test);
    db.client()
        .batch_execute(
            "CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT);
             CREATE TABLE orders(id BIGINT PRIMARY KEY, user_id BIGINT);
             INSERT INTO users VALUES (1, 'ada');",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let small = slice(dir.path(), "feb.csv", FEB_1, MAR_1, |l| l);
    let url = db.url();
    for args in [
        vec!["imports", "list"],
        vec!["import", path_str(&small)],
        vec!["report", "--quarter", "2026Q1"],
    ] {
        let mut args = args.clone();
        args.extend(["--ledger", &url]);
        let (code, out, err) = cli(dir.path(), &args);
        assert_eq!(code, 3, "{args:?}: {out}{err}");
        assert!(
            err.contains(&format!(
                "{url} is not an llm-scope3 ledger (it holds tables orders, users, and no llm-scope3 marker table llm_scope3_ledger): name another database (or schema); nothing was written to it"
            )),
            "{err}"
        );
    }
    let tables: Vec<String> = db
        .client()
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tables, ["orders", "users"], "nothing was added");
    // Read commands never set up a ledger in an empty database; a newer schema is refused.
    let empty = server.database(test);
    let (code, _, err) = cli(dir.path(), &["imports", "list", "--ledger", &empty.url()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no ledger at") && err.contains("holds no ledger"),
        "{err}"
    );
    let none: i64 = empty
        .client()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(none, 0);
    let (code, _, err) = cli(
        dir.path(),
        &["import", path_str(&small), "--ledger", &empty.url()],
    );
    assert_eq!(code, 0, "{err}");
    empty
        .client()
        .batch_execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        .unwrap();
    let (code, _, err) = cli(dir.path(), &["imports", "list", "--ledger", &empty.url()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("has schema version 99"), "{err}");
    // A database that holds the ledger's tables but not its marker table is not taken for one.
    empty.client().batch_execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'; DROP TABLE llm_scope3_ledger").unwrap();
    let (code, _, err) = cli(
        dir.path(),
        &["import", path_str(&small), "--ledger", &empty.url()],
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("not its marker table llm_scope3_ledger"),
        "{err}"
    );
}

#[test]
fn a_postgres_password_is_never_shown() {
    let test = "ledger_backends::a_postgres_password_is_never_shown";
    let Some(server) = pg::server(test) else {
        return;
    };
    let db = server.database(test);
    let Some(url) = db.password_url() else {
        crate::common::skipped(
            test,
            "LLM_SCOPE3_TEST_PG names the server: no user with a password here",
        );
        return;
    };
    db.client()
        .batch_execute(&format!(
            "ALTER DATABASE {} OWNER TO {}",
            db.name,
            pg::PASSWORD_USER
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let small = slice(d, "feb.csv", FEB_1, MAR_1, |l| l);
    let shown = format!(
        "postgres://{}:***@127.0.0.1:{}/{}",
        pg::PASSWORD_USER,
        server.tcp_port.unwrap(),
        db.name
    );
    assert!(shown.contains(":***@127.0.0.1:"), "{shown}");
    let secret = |s: &str| s.contains(pg::PASSWORD) || s.contains("Pw-s3cret");
    // By --ledger, and by LLM_SCOPE3_LEDGER.
    let mut seen = String::new();
    for (args, env) in [
        (vec!["import", path_str(&small), "--ledger", &url], vec![]),
        (
            vec!["imports", "list"],
            vec![("LLM_SCOPE3_LEDGER", url.as_str())],
        ),
        (
            vec!["imports", "verify"],
            vec![("LLM_SCOPE3_LEDGER", url.as_str())],
        ),
        (
            vec![
                "report",
                "--quarter",
                "2026Q1",
                "--out",
                "r.xlsx",
                "--json",
                "r.json",
                "--allow-empty",
            ],
            vec![("LLM_SCOPE3_LEDGER", url.as_str())],
        ),
    ] {
        let (code, out, err) = cli_env(d, &args, &env);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        assert!(!secret(&out) && !secret(&err), "{args:?}: {out}{err}");
        seen.push_str(&out);
    }
    assert!(seen.contains(&format!("ledger {shown}")), "{seen}");
    let log = sheet_text(&d.join("r.xlsx"), "Change Log");
    assert!(
        log.iter().any(|t| t == &format!("ledger {shown}")),
        "{log:?}"
    );
    assert!(!log.iter().any(|t| secret(t)));
    assert!(!secret(&std::fs::read_to_string(d.join("r.json")).unwrap()));
    // A wrong password, a refused connection: said in plain words, without the password.
    let wrong = url.replace(&pg_pct(pg::PASSWORD), "Wr0ng-passw0rd");
    let (code, out, err) = cli(d, &["imports", "list", "--ledger", &wrong]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("cannot connect to ledger") && err.contains("password authentication failed"),
        "{err}"
    );
    assert!(
        !err.contains("Wr0ng-passw0rd") && err.contains(":***@"),
        "{err}"
    );
    let closed = url.replace(&format!(":{}/", server.tcp_port.unwrap()), ":1/");
    let (code, _, err) = cli(d, &["imports", "list", "--ledger", &closed]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("cannot connect to ledger") && !secret(&err),
        "{err}"
    );
}

fn pg_pct(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn a_postgres_writer_waits_for_another_and_says_so_while_a_reader_does_not_wait() {
    let test = "ledger_backends::a_postgres_writer_waits_for_another_and_says_so_while_a_reader_does_not_wait";
    let Some(server) = pg::server(test) else {
        return;
    };
    let db = server.database(test);
    let url = db.url();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let jan = slice(d, "jan.csv", 0, FEB_1, |l| l);
    let feb = slice(d, "feb.csv", FEB_1, MAR_1, |l| l);
    let (code, _, err) = cli(d, &["import", path_str(&jan), "--ledger", &url]);
    assert_eq!(code, 0, "{err}");
    // Another program holds the ledger's write lock (its advisory lock) until the import says
    // it waits for it.
    let mut holder = db.client();
    let mut tx = holder.transaction().unwrap();
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&(llm_scope3::ledger::APPLICATION_ID as i64)],
    )
    .unwrap();
    let started = std::time::Instant::now();
    let mut import = std::process::Command::new(assert_cmd::cargo::cargo_bin("llm-scope3"))
        .args(["import", path_str(&feb), "--ledger", &url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Its stderr, read as it comes: the lock is held until the import says it waits.
    let said = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let said = said.clone();
        let mut stderr = import.stderr.take().unwrap();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                said.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let (code, out, err) = cli(
        d,
        &[
            "report",
            "--quarter",
            "2026Q1",
            "--out",
            "r.xlsx",
            "--ledger",
            &url,
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("waiting"), "{err}");
    // The upload page's shorter wait (--ledger-wait) gives up while the lock is held.
    let l = Ledger::open_existing_at(&Location::parse(std::ffi::OsStr::new(&url))).unwrap();
    assert!(matches!(
        l.wait_for_writers(std::time::Duration::from_millis(200)),
        Err(LedgerError::Busy { .. })
    ));
    let waiting = format!("waiting for another process to finish writing ledger {url}");
    while !said.lock().unwrap().contains(&waiting) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the import never said it waits: {}",
            said.lock().unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    tx.rollback().unwrap();
    l.wait_for_writers(std::time::Duration::from_millis(200))
        .expect("free once the lock is let go");
    let out = import.wait_with_output().unwrap();
    reader.join().unwrap();
    let err = said.lock().unwrap().clone();
    assert!(out.status.success(), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported as #2"));
}

#[test]
fn a_killed_import_leaves_a_postgres_ledger_before_or_after_never_between() {
    let test =
        "ledger_backends::a_killed_import_leaves_a_postgres_ledger_before_or_after_never_between";
    let Some(server) = pg::server(test) else {
        return;
    };
    let db = server.database(test);
    let url = db.url();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let small = slice(d, "jan.csv", 0, FEB_1, |l| l);
    let (code, _, err) = cli(d, &["import", path_str(&small), "--ledger", &url]);
    assert_eq!(code, 0, "{err}");
    let big = big_file(d, "big.csv", 30_000, 0);
    let bin = assert_cmd::cargo::cargo_bin("llm-scope3");
    let location = Location::parse(std::ffi::OsStr::new(&url));
    let mut completed = 0;
    for attempt in 0..8u64 {
        let mut child = std::process::Command::new(&bin)
            .args(["import", path_str(&big), "--ledger", &url])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Spread over the import: reading the file, then the transaction.
        std::thread::sleep(std::time::Duration::from_millis(100 + attempt * 331 % 2500));
        let _ = child.kill(); // SIGKILL: the server rolls the open transaction back
        if child.wait().unwrap().success() {
            completed += 1;
        }
        // Whatever happened, every import holds exactly the records it says it stored.
        let v = Ledger::open_existing_at(&location)
            .unwrap()
            .verify()
            .unwrap();
        assert!(v.problems.is_empty(), "attempt {attempt}: {:?}", v.problems);
        assert!(v.imports <= 2, "attempt {attempt}: {} imports", v.imports);
        if completed > 0 {
            break;
        }
    }
    let (code, _, err) = cli(d, &["import", path_str(&big), "--ledger", &url]);
    assert_eq!(code, 0, "{err}");
    let l = Ledger::open_existing_at(&location).unwrap();
    assert_eq!(l.list().unwrap().len(), 2);
    let (i, _, _) = totals(&l);
    let small_in = file_totals(&[&small]).0;
    let big_in: u64 = (0..30_000u64).map(|i| 1000 + i % 7).sum();
    assert_eq!(i, small_in + big_in);
}
