//! `llm-scope3 users` and `llm-scope3 audit` on the command line (the real binary): users
//! added, listed, given a new password or role and removed; passwords kept as Argon2id hashes
//! and never taken from the command line; every change in the audit log with who, when and
//! what; and `serve` refusing to listen beyond loopback without sign-in.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use llm_scope3::ledger::Ledger;

use predicates::prelude::*;

use crate::common::bin_in;

const FIRST: &str = "correct horse battery staple";
const SECOND: &str = "a second long passphrase";

#[test]
fn users_are_added_listed_given_a_password_and_a_role_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut c = bin_in(dir.path());
        c.env("USER", "jdoe")
            .args(args)
            .write_stdin(stdin.to_string());
        c.assert()
    };
    run(
        &[
            "users",
            "add",
            "Ann",
            "--role",
            "preparer",
            "--password-stdin",
            "--ledger",
            "l.db",
        ],
        &format!("{FIRST}\n"),
    )
    .success()
    .stdout(predicate::str::contains(
        "user ann added to l.db as preparer",
    ));
    run(
        &[
            "users",
            "add",
            "carol@example.com",
            "--role",
            "viewer",
            "--no-password",
            "--ledger",
            "l.db",
        ],
        "",
    )
    .success();
    // The same name again is refused.
    run(
        &[
            "users",
            "add",
            "ANN",
            "--role",
            "viewer",
            "--no-password",
            "--ledger",
            "l.db",
        ],
        "",
    )
    .failure()
    .stderr(predicate::str::contains("user ann exists already"));
    run(&["users", "list", "--ledger", "l.db"], "")
        .success()
        .stdout(
            predicate::str::is_match(r"ann +preparer +password or sign-on")
                .unwrap()
                .and(
                    predicate::str::is_match(r"carol@example.com +viewer +single sign-on only")
                        .unwrap(),
                ),
        );

    // What is stored: an Argon2id PHC string, never the password (nowhere in the file).
    let path = dir.path().join("l.db");
    let stored: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT password_hash FROM users WHERE name = 'ann'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(FIRST.len()).any(|w| w == FIRST.as_bytes()));
    let verifies = |pw: &str| {
        let (_, hash) = Ledger::open_existing(&path)
            .unwrap()
            .credentials("ann")
            .unwrap()
            .unwrap();
        hash.unwrap().verify(pw)
    };
    assert!(verifies(FIRST));

    // A new password; a short one is refused and changes nothing.
    run(
        &[
            "users",
            "passwd",
            "ann",
            "--password-stdin",
            "--ledger",
            "l.db",
        ],
        "too short\n",
    )
    .code(2)
    .stderr(predicate::str::contains("at least 12 characters"));
    assert!(verifies(FIRST));
    run(
        &[
            "users",
            "passwd",
            "ann",
            "--password-stdin",
            "--ledger",
            "l.db",
        ],
        &format!("{SECOND}\n"),
    )
    .success()
    .stdout(predicate::str::contains("new password set for user ann"));
    assert!(verifies(SECOND) && !verifies(FIRST));

    // Never from the command line: there is no option for it, and without a terminal nor
    // --password-stdin the command says how to give it.
    run(
        &[
            "users",
            "add",
            "bob",
            "--role",
            "viewer",
            "--password",
            FIRST,
            "--ledger",
            "l.db",
        ],
        "",
    )
    .code(2);
    let mut c = bin_in(dir.path());
    c.args([
        "users", "add", "bob", "--role", "viewer", "--ledger", "l.db",
    ]);
    c.assert()
        .code(2)
        .stderr(predicate::str::contains("--password-stdin"));

    run(
        &["users", "role", "ann", "approver", "--ledger", "l.db"],
        "",
    )
    .success()
    .stdout(predicate::str::contains("user ann is now approver"));
    run(&["users", "role", "ann", "root", "--ledger", "l.db"], "")
        .code(2)
        .stderr(predicate::str::contains("no role 'root'"));
    run(&["users", "remove", "ann", "--ledger", "l.db"], "")
        .success()
        .stdout(predicate::str::contains("user ann removed"));
    run(&["users", "remove", "ann", "--ledger", "l.db"], "")
        .failure()
        .stderr(predicate::str::contains("no user ann"));
    run(&["users", "list", "--ledger", "l.db"], "")
        .success()
        .stdout(predicate::str::contains("ann").not());

    // The audit log: who (the operating-system user), when, what, in order.
    let out = run(&["audit", "list", "--ledger", "l.db"], "")
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("jdoe")).collect();
    let wanted = [
        "user added      user ann added as preparer with a password",
        "user added      user carol@example.com added as viewer without a password",
        "password changed  new password for user ann",
        "role changed    user ann: role preparer -> approver",
        "user removed    user ann removed",
    ];
    assert_eq!(lines.len(), wanted.len(), "{text}");
    for (line, want) in lines.iter().zip(wanted) {
        let squeezed = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(squeezed(line).contains(&squeezed(want)), "{line} / {want}");
        assert!(line.contains("command line"), "{line}");
        // When: an ISO 8601 UTC time at the start.
        let at = line.split_whitespace().next().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(at).is_ok(),
            "{at} in {line}"
        );
    }
    run(&["audit", "list", "--last", "1", "--ledger", "l.db"], "")
        .success()
        .stdout(
            predicate::str::contains("user ann removed")
                .and(predicate::str::contains("role changed").not()),
        );
}

#[test]
fn imports_removals_and_final_statements_on_the_command_line_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let sample = crate::common::root()
        .join("samples")
        .join(crate::web::OPENAI);
    let run = |args: &[&str]| {
        let mut c = bin_in(dir.path());
        c.env("USER", "controller").args(args);
        c.assert()
    };
    run(&["import", sample.to_str().unwrap(), "--ledger", "l.db"]).success();
    run(&[
        "report",
        "--quarter",
        "2026Q1",
        "--ledger",
        "l.db",
        "--final",
        "--out",
        "q1.xlsx",
        "--accept-gaps",
        "one export in this test",
    ])
    .success();
    run(&["imports", "remove", "1", "--yes", "--ledger", "l.db"]).success();
    let log = Ledger::open_existing(&dir.path().join("l.db"))
        .unwrap()
        .audit_log(None)
        .unwrap();
    let what: Vec<(&str, &str, &str)> = log
        .iter()
        .map(|e| (e.who.as_str(), e.via.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        what,
        [
            ("controller", "command line", "import"),
            ("controller", "command line", "final"),
            ("controller", "command line", "remove"),
        ]
    );
    assert!(log[0].detail.contains("import #1") && log[0].detail.contains("SHA-256"));
    assert!(
        log[1].detail.contains("final statement #1 of 2026Q1")
            && log[1].detail.contains("gaps accepted"),
        "{}",
        log[1].detail
    );
    assert!(log[2].detail.contains("import #1"), "{}", log[2].detail);
}

#[test]
fn serve_refuses_to_listen_beyond_loopback_without_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    // No ledger, and a ledger without users: refused, exit 2, nothing made.
    bin_in(dir.path())
        .args(["serve", "--bind", "0.0.0.0:0"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("refusing to listen on 0.0.0.0:0")
                .and(predicate::str::contains("users add"))
                .and(predicate::str::contains("--bind 127.0.0.1")),
        );
    bin_in(dir.path())
        .args(["serve", "--bind", "0.0.0.0:0", "--ledger", "new.db"])
        .assert()
        .code(2);
    assert!(!dir.path().join("new.db").exists());
    // A trusted proxy needs a ledger (the users it names live there).
    bin_in(dir.path())
        .args(["serve", "--trusted-proxy", "10.0.0.5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--trusted-proxy needs --ledger"));
    bin_in(dir.path())
        .args([
            "serve",
            "--trusted-proxy",
            "proxy.internal",
            "--ledger",
            "l.db",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not an IP address"));

    // With a user in the ledger it listens, and says sign-in is required.
    bin_in(dir.path())
        .args([
            "users",
            "add",
            "ann",
            "--role",
            "admin",
            "--password-stdin",
            "--ledger",
            "l.db",
        ])
        .write_stdin(format!("{FIRST}\n"))
        .assert()
        .success();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("llm-scope3"))
        .current_dir(dir.path())
        .env_remove("LLM_SCOPE3_LEDGER")
        .args(["serve", "--bind", "0.0.0.0:0", "--ledger", "l.db"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    for _ in 0..4 {
        let Some(Ok(line)) = lines.next() else { break };
        seen.push_str(&line);
        seen.push('\n');
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.starts_with("llm-scope3 serve: listening on http://0.0.0.0:"),
        "{seen}"
    );
    assert!(seen.contains("sign-in: required (1 user(s)"), "{seen}");
}
