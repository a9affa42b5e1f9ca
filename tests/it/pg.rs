//! A throwaway PostgreSQL server for the ledger's tests, or the one `LLM_SCOPE3_TEST_PG` names.
//!
//! Started once per test run, lazily: `initdb` into a new folder under the system's temp
//! folder, then `postgres` listening on a Unix socket in that folder and on 127.0.0.1 at a
//! free port (password sign-in over TCP, trust over the socket). As root (CI) both run as the
//! unprivileged user `postgres` that Debian's package makes (PostgreSQL refuses to run as
//! root); otherwise as the user running the tests. The server is a child of a small shell
//! that waits on a pipe from this process: when the test process ends, however it ends, the
//! pipe closes and the shell stops the server and removes the folder. Each test gets a
//! database of its own (dropped when it is done), so tests run in parallel.
//!
//! Binaries are looked for under /usr/lib/postgresql/*/bin (the newest version), then
//! `pg_config --bindir`, then PATH. Without PostgreSQL and without `LLM_SCOPE3_TEST_PG` (or
//! with `LLM_SCOPE3_TEST_PG=off`) a test says SKIPPED with the reason and passes, unless
//! `CI=true`: then it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The user with a password, for tests of URLs holding one (TCP).
pub const PASSWORD_USER: &str = "ledger_pw";
/// Its password.
pub const PASSWORD: &str = "Pw-s3cret!q";

/// A running server.
pub struct Server {
    /// Connection settings of a user that may create databases, as a URL without the
    /// database name (`postgres://user@host:port`) plus query parameters, if any.
    base: String,
    /// The query part of the URL (`?sslmode=disable`), or empty.
    query: String,
    /// 127.0.0.1 port for password sign-in, when this helper started the server.
    pub tcp_port: Option<u16>,
    /// The pipe whose closing stops a server this helper started (kept open until exit).
    _stop: Option<Mutex<std::process::ChildStdin>>,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static SERIAL: AtomicUsize = AtomicUsize::new(0);

/// The server, or `None` (after printing why) when the test cannot run here.
pub fn server(test: &str) -> Option<&'static Server> {
    match SERVER.get_or_init(start) {
        Ok(s) => Some(s),
        Err(why) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{test}: CI=true requires PostgreSQL for the ledger's backend tests: {why}");
            }
            crate::common::skipped(
                test,
                &format!("{why} (the PostgreSQL half of this test did not run)"),
            );
            None
        }
    }
}

/// `text` percent-encoded for a URL's host part (a socket folder).
fn pct(text: &str) -> String {
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

fn start() -> Result<Server, String> {
    match std::env::var("LLM_SCOPE3_TEST_PG")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        Some(off) if off == "off" => {
            return Err("LLM_SCOPE3_TEST_PG=off: no PostgreSQL server for the tests".into())
        }
        Some(url) => return external(&url),
        None => {}
    }
    let bin = bin_dir().ok_or(
        "PostgreSQL is not installed (Debian: apt-get install postgresql) and LLM_SCOPE3_TEST_PG names no server",
    )?;
    let root = output("id", &["-u"])?.trim() == "0";
    let run_as = if root {
        let uid: u32 = output("id", &["-u", "postgres"])
            .map_err(|_| "running as root, and there is no user postgres to run the server as")?
            .trim()
            .parse()
            .map_err(|e| format!("the uid of postgres: {e}"))?;
        let gid: u32 = output("id", &["-g", "postgres"])?
            .trim()
            .parse()
            .map_err(|e| format!("the gid of postgres: {e}"))?;
        Some((uid, gid))
    } else {
        None
    };
    let dir = tempfile::Builder::new()
        .prefix("llm-scope3-test-pg-")
        .tempdir()
        .map_err(|e| format!("a folder for the server: {e}"))?
        .keep();
    if let Some((uid, gid)) = run_as {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("chown {}: {e}", dir.display()))?;
    }
    let as_user = |cmd: &mut Command| {
        use std::os::unix::process::CommandExt;
        if let Some((uid, gid)) = run_as {
            cmd.uid(uid).gid(gid);
        }
        cmd.env("LC_ALL", "C.UTF-8").env_remove("PGDATA");
    };
    let data = dir.join("data");
    let mut initdb = Command::new(bin.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "-N"])
        .args(["--auth-local=trust", "--auth-host=scram-sha-256"]);
    as_user(&mut initdb);
    let out = initdb
        .output()
        .map_err(|e| format!("cannot run initdb: {e}"))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("a free port: {e}"))?
        .port();
    // The shell stops the server (immediate shutdown) and removes the folder when its
    // standard input closes: at the latest when this process ends.
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(
            r#""$0" -D "$1/data" -k "$1" -p "$2" -c listen_addresses=127.0.0.1 -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
                >"$1/server.log" 2>&1 &
               pid=$!
               cat >/dev/null
               kill -QUIT "$pid" 2>/dev/null
               wait "$pid"
               rm -rf "$1""#,
        )
        .arg(bin.join("postgres"))
        .arg(&dir)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    as_user(&mut sh);
    let mut child = sh
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let stop = child.stdin.take().expect("the pipe");
    let base = format!("postgres://postgres@{}:{port}", pct(&dir.to_string_lossy()));
    let server = Server {
        base,
        query: String::new(),
        tcp_port: Some(port),
        _stop: Some(Mutex::new(stop)),
    };
    let started = std::time::Instant::now();
    let mut admin = loop {
        match postgres::Client::connect(&server.url("postgres"), postgres::NoTls) {
            Ok(c) => break c,
            Err(e) if started.elapsed() < std::time::Duration::from_secs(30) => {
                let _ = e;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                return Err(format!("the server did not start: {e}\n{log}"));
            }
        }
    };
    admin
        .batch_execute(&format!(
            "CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}'"
        ))
        .map_err(|e| format!("cannot make the test user: {e}"))?;
    let _ = writeln!(
        std::io::stderr(),
        "PostgreSQL for the ledger's tests: {} (started in {:.1} s)",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(server)
}

/// A server named by `LLM_SCOPE3_TEST_PG`: a URL of a user who may create databases.
fn external(url: &str) -> Result<Server, String> {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (url, String::new()),
    };
    let rest = head
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or("LLM_SCOPE3_TEST_PG is not a postgres:// URL")?;
    // Without the database name: each test adds its own.
    let base = match rest.find('/') {
        Some(i) => head[..head.len() - rest.len() + i].to_string(),
        None => head.to_string(),
    };
    let server = Server {
        base,
        query,
        tcp_port: None,
        _stop: None,
    };
    postgres::Client::connect(&server.url("postgres"), postgres::NoTls)
        .map_err(|e| format!("LLM_SCOPE3_TEST_PG cannot be reached: {e}"))?;
    Ok(server)
}

fn output(cmd: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd} {}: failed", args.join(" ")));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The folder holding initdb and postgres.
fn bin_dir() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    if let Ok(dir) = output("pg_config", &["--bindir"]) {
        let dir = PathBuf::from(dir.trim());
        if has(&dir) {
            return Some(dir);
        }
    }
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).find(|d| has(d)))
}

impl Server {
    /// The URL of database `db` for the admin user.
    pub fn url(&self, db: &str) -> String {
        format!("{}/{db}{}", self.base, self.query)
    }

    /// A new, empty database for one test, dropped when the returned guard is.
    pub fn database(&'static self, test: &str) -> Database {
        let name = format!(
            "t{}_{}_{}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::Relaxed),
            test.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(30)
                .collect::<String>()
                .to_ascii_lowercase()
        );
        self.admin()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        Database { server: self, name }
    }

    /// A connection as the admin user to its own database.
    pub fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.url("postgres"), postgres::NoTls).expect("the test server")
    }
}

/// A test's database.
pub struct Database {
    server: &'static Server,
    /// Its name.
    pub name: String,
}

impl Database {
    /// Its URL (the admin user, over the socket, no password).
    pub fn url(&self) -> String {
        self.server.url(&self.name)
    }

    /// Its URL for the user with a password, over TCP, password in the URL; `None` with a
    /// server this helper did not start.
    pub fn password_url(&self) -> Option<String> {
        self.server.tcp_port.map(|port| {
            format!(
                "postgres://{PASSWORD_USER}:{}@127.0.0.1:{port}/{}",
                pct(PASSWORD),
                self.name
            )
        })
    }

    /// A connection to it as the admin user.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url(), postgres::NoTls).expect("the test database")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.server.url("postgres"), postgres::NoTls)
        {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
