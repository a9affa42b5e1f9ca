//! The embedded SQLite ledger file: what only SQLite has. Recognising the file (its header,
//! `PRAGMA application_id`, `quick_check`), creating it under a temporary name, the busy
//! handler that makes a writer wait and say so, WAL, read-only files, the full integrity
//! check and checkpoints. The ledger's logic (mod.rs) is the same for both backends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::db::{Begin, Db};
use super::{LedgerError, Result, APPLICATION_ID, WAIT_LIMIT, WAIT_TELL_AFTER};

/// The first 16 bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Classifies an SQLite error into the plain-words ledger errors.
pub(super) fn sql_err(path: &str, source: rusqlite::Error) -> LedgerError {
    use rusqlite::ErrorCode as C;
    let detail = match &source {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        other => other.to_string(),
    };
    match source.sqlite_error_code() {
        Some(C::DatabaseCorrupt) | Some(C::NotADatabase) => LedgerError::Damaged {
            path: path.to_string(),
            why: format!("SQLite reports: {detail}"),
        },
        Some(C::ReadOnly) => LedgerError::ReadOnly {
            path: path.to_string(),
            why: "the file or its folder cannot be written by this user".into(),
        },
        Some(C::DatabaseBusy) | Some(C::DatabaseLocked) => LedgerError::Busy {
            path: path.to_string(),
            secs: WAIT_LIMIT.as_secs(),
        },
        _ => LedgerError::Sqlite {
            path: path.to_string(),
            source,
        },
    }
}

/// `path` with `suffix` appended to its file name (`-wal`, `-shm`, `-journal`).
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes a database file we made and the files SQLite keeps beside it.
pub(super) fn remove_with_sidecars(path: &Path) {
    for p in [
        path.to_path_buf(),
        sidecar(path, "-journal"),
        sidecar(path, "-wal"),
        sidecar(path, "-shm"),
    ] {
        let _ = std::fs::remove_file(p);
    }
}

/// A `file:` URI for SQLite: every byte but unreserved ones and `/` percent-encoded.
fn file_uri(path: &Path, query: &str) -> String {
    let mut uri = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push('?');
    uri.push_str(query);
    uri
}

/// Reads the file's first 100 bytes (SQLite's header). `Ok(true)` for an empty file.
fn check_header(path: &Path, shown: &str) -> Result<bool> {
    use std::io::Read;
    let mut head = Vec::with_capacity(100);
    std::fs::File::open(path)
        .and_then(|f| f.take(100).read_to_end(&mut head))
        .map_err(|e| LedgerError::Io {
            path: shown.to_string(),
            source: e,
        })?;
    if head.is_empty() {
        return Ok(true);
    }
    if head.len() < 100 || !head.starts_with(SQLITE_MAGIC) {
        return Err(LedgerError::NotALedger {
            path: shown.to_string(),
            why: "it is not an SQLite database file, or its first bytes are damaged".into(),
        });
    }
    Ok(false)
}

/// What the file holds: its tables (SQLite's own left out) and its marker: `Ok(true)` when
/// `PRAGMA application_id` is the ledger's, `Ok(false)` when unset; another application's is
/// refused.
pub(super) fn tables_and_marker(conn: &Connection, shown: &str) -> Result<(Vec<String>, bool)> {
    let e = |source| sql_err(shown, source);
    let app: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(e)?;
    let mut stmt = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite^_%' ESCAPE '^'
             ORDER BY name",
        )
        .map_err(e)?;
    let tables = stmt
        .query_map([], |r| r.get(0))
        .map_err(e)?
        .collect::<rusqlite::Result<Vec<String>>>()
        .map_err(e)?;
    if tables.is_empty() && app != APPLICATION_ID {
        // No table, but views or triggers: another application's file, never ours to set up.
        let mut stmt = conn
            .prepare(
                "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite^_%' ESCAPE '^' ORDER BY name",
            )
            .map_err(e)?;
        let others = stmt
            .query_map([], |r| r.get(0))
            .map_err(e)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(e)?;
        if !others.is_empty() {
            return Err(LedgerError::NotALedger {
                path: shown.to_string(),
                why: format!(
                    "it holds no tables but {}",
                    others
                        .iter()
                        .take(8)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    if app != 0 && app != APPLICATION_ID {
        return Err(LedgerError::NotALedger {
            path: shown.to_string(),
            why: format!(
                "it belongs to another application, SQLite application id {app:#010x}, and {}",
                super::holds(&tables)
            ),
        });
    }
    Ok((tables, app == APPLICATION_ID))
}

/// Waits for another process's write lock up to [`WAIT_LIMIT`], saying on stderr what it waits
/// for once the wait is noticeable.
fn wait_for_lock(conn: &mut Connection, shown: &str) -> rusqlite::Result<()> {
    let shown = shown.to_string();
    let mut since = std::time::Instant::now();
    let mut told = false;
    conn.busy_handler(Some(move |count: i32| {
        if count == 0 {
            since = std::time::Instant::now();
            told = false;
        }
        let waited = since.elapsed();
        if waited >= WAIT_LIMIT {
            return false;
        }
        if !told && waited >= WAIT_TELL_AFTER {
            super::say_waiting(&shown);
            told = true;
        }
        std::thread::sleep(Duration::from_millis(if count < 20 { 5 } else { 50 }));
        true
    }))
}

/// Makes a new ledger under a temporary name beside `path`, then links it into place without
/// replacing a file another process made meanwhile. On failure nothing is left behind.
pub(super) fn create(path: &Path, shown: &str) -> Result<()> {
    static SERIAL: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let fail = |why: String| LedgerError::CannotCreate {
        path: shown.to_string(),
        why,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ledger".into());
    let tmp = path.with_file_name(format!(
        ".{name}.new-{}-{}",
        std::process::id(),
        SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| fail(e.to_string()))?;
    let made = (|| -> std::result::Result<(), String> {
        let conn = Connection::open_with_flags(
            &tmp,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| e.to_string())?;
        conn.execute_batch("PRAGMA synchronous = FULL;")
            .map_err(|e| e.to_string())?;
        let db = Db::Sqlite(conn);
        db.begin(Begin::Write, shown).map_err(|e| e.to_string())?;
        if let Err(e) = super::set_up(&db, 0) {
            db.rollback();
            return Err(e.to_string());
        }
        db.commit().map_err(|e| e.to_string())?;
        #[allow(irrefutable_let_patterns)] // without the `postgres` feature
        let Db::Sqlite(conn) = db
        else {
            unreachable!("an SQLite connection")
        };
        // Readers never wait for a writer, and a writer never waits for readers (see
        // docs/ARCHITECTURE.md, "The ledger"). Set once: it is kept in the file.
        let _: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        conn.close().map_err(|(_, e)| e.to_string())
    })();
    if let Err(e) = made {
        remove_with_sidecars(&tmp);
        return Err(fail(e));
    }
    let placed = match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(()),
        // Another process made it meanwhile: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        // A file system without hard links.
        Err(_) if !path.exists() => std::fs::rename(&tmp, path),
        Err(_) => Ok(()),
    };
    remove_with_sidecars(&tmp);
    placed.map_err(|e| fail(e.to_string()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The new name on disk too (best effort: not every platform can sync a folder).
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Opens a database file read-only. Without a write-ahead log beside it, as immutable: read as
/// it is, without making -wal and -shm files beside it; with one, reading it (committed
/// transactions may wait there).
fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    if sidecar(path, "-wal").exists() {
        Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
    } else {
        Connection::open_with_flags(
            file_uri(path, "immutable=1"),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
    }
}

/// SQLite's full integrity check of a file that would not open as a ledger because it is
/// damaged: what it finds, read-only, never written (`imports verify`).
pub fn damage_report(path: &Path) -> Vec<String> {
    let found = (|| -> rusqlite::Result<Vec<String>> {
        let conn = open_read_only(path)?;
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    })();
    match found {
        Ok(rows) => rows.into_iter().filter(|r| r != "ok").collect(),
        Err(e) => vec![e.to_string()],
    }
}

/// An opened ledger file: its connection, whether it is read-only by its permissions, and
/// whether the file is empty (a new ledger is to be set up in it).
pub(super) struct Opened {
    pub(super) conn: Connection,
    pub(super) read_only: bool,
    pub(super) empty: bool,
}

/// Opens the file (never creating it), refusing a folder or a file that is not SQLite.
pub(super) fn open(path: &Path, shown: &str, create: bool) -> Result<Opened> {
    let e = |source| sql_err(shown, source);
    let meta = std::fs::metadata(path).map_err(|source| LedgerError::Io {
        path: shown.to_string(),
        source,
    })?;
    if !meta.is_file() {
        return Err(LedgerError::NotALedger {
            path: shown.to_string(),
            why: "it is a folder, not a file".into(),
        });
    }
    let empty = check_header(path, shown)?;
    if empty && !create {
        return Err(LedgerError::NotFound(format!(
            "{shown} (the file is empty)"
        )));
    }
    let read_only = meta.permissions().readonly();
    let mut conn = if !read_only {
        // Never SQLITE_OPEN_CREATE: a file removed meanwhile is not made again here.
        Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
    } else {
        open_read_only(path)
    }
    .map_err(e)?;
    wait_for_lock(&mut conn, shown).map_err(e)?;
    // Full durability: a commit is on disk before `import` reports it.
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
        .map_err(e)?;
    Ok(Opened {
        conn,
        read_only,
        empty,
    })
}

/// The text rows a check pragma answers (`ok`, or one row per problem).
pub(super) fn pragma_text(conn: &Connection, shown: &str, pragma: &str) -> Result<Vec<String>> {
    let e = |source| sql_err(shown, source);
    let mut stmt = conn.prepare(pragma).map_err(e)?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(e)?
        .collect::<rusqlite::Result<Vec<String>>>()
        .map_err(e)?;
    Ok(rows)
}

/// `PRAGMA quick_check`: refuses a damaged ledger before it is used.
pub(super) fn quick_check(conn: &Connection, shown: &str) -> Result<()> {
    let found = pragma_text(conn, shown, "PRAGMA quick_check(5)")?;
    if found != ["ok"] {
        return Err(LedgerError::Damaged {
            path: shown.to_string(),
            why: format!("SQLite's check found: {}", found.join("; ")),
        });
    }
    Ok(())
}

/// Puts the file in WAL mode unless it is (readers never wait for a writer,
/// docs/ARCHITECTURE.md, "The ledger"). Where SQLite cannot (a file system without shared
/// memory), it stays in rollback mode: still correct, readers then wait for a commit.
pub(super) fn use_wal(conn: &Connection, shown: &str) -> Result<()> {
    let e = |source| sql_err(shown, source);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .map_err(e)?;
    if !mode.eq_ignore_ascii_case("wal") {
        let _: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(e)?;
    }
    Ok(())
}

/// SQLite's full integrity check and foreign key check findings; empty when sound.
pub(super) fn integrity(conn: &Connection, shown: &str) -> Result<Vec<String>> {
    let e = |source| sql_err(shown, source);
    let mut problems: Vec<String> = pragma_text(conn, shown, "PRAGMA integrity_check")?
        .into_iter()
        .filter(|r| r != "ok")
        .collect();
    let mut stmt = conn.prepare("PRAGMA foreign_key_check").map_err(e)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(format!(
                "table {} row {} refers to a missing row of {}",
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?.unwrap_or_default(),
                r.get::<_, String>(2)?
            ))
        })
        .map_err(e)?
        .collect::<rusqlite::Result<Vec<String>>>()
        .map_err(e)?;
    problems.extend(rows);
    Ok(problems)
}

/// Copies what was just committed from the write-ahead log into the ledger file, as far
/// as no reader still needs the older pages (PASSIVE: never waits). Then the file alone
/// holds every finished import even if the process is killed before it closes the ledger.
pub(super) fn checkpoint(conn: &Connection) {
    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
}

/// Waits at most `limit` for another process writing the file, on a connection of its own
/// (taking the write lock and letting it go). `Ok(false)` when the wait ran out; any other
/// trouble opening it is left to the ledger, which says it in its own words.
pub(super) fn wait_for_writers(path: &Path, limit: Duration) -> bool {
    use rusqlite::ErrorCode;
    let Ok(conn) = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return true;
    };
    if conn.busy_timeout(limit).is_err() {
        return true;
    }
    match conn.execute_batch("BEGIN IMMEDIATE") {
        Ok(()) => {
            let _ = conn.execute_batch("ROLLBACK");
            true
        }
        Err(e) => !matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked)
        ),
    }
}
