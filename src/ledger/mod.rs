//! The ledger: an embedded SQLite file (rusqlite, bundled) that remembers every import, so that
//! monthly uploads and overlapping re-downloads never double-count.
//!
//! It stores activity records with their provenance, never results: a report recomputes with
//! the factor set it names. Each import is one transaction (a killed process leaves the ledger
//! as it was, or with the whole import). Records are keyed by their template's key columns and
//! bucket ([`UsageRecord::key`]): a record identical to an active one is a duplicate, a
//! differing one is the vendor's restatement and the newer import wins (logged). Exports of
//! another granularity over the same period are refused unless `--replace` names the import
//! they supersede. It does no estimation.
//!
//! Several processes may use one ledger at once. Writers are serialised: every write is a
//! `BEGIN IMMEDIATE` transaction, the schema is set up or migrated under that lock after
//! checking the version again, and an import checks its file's SHA-256 again inside its
//! transaction (a partial unique index holds one active import per SHA-256); a writer waits
//! up to [`WAIT_LIMIT`] for another, saying so on stderr. The file is in WAL mode (set once,
//! kept in the file): readers never wait for the writer, and a report reads in one read
//! transaction ([`Ledger::snapshot`]), so it sees the ledger before or after an import.
//!
//! A file is recognised as a ledger before anything is written to it: the SQLite header,
//! [`APPLICATION_ID`] (set on creation, and on a ledger of schema 1-3 whose meta table and
//! tables prove it ours) and the meta table's schema version; `PRAGMA quick_check` runs on
//! every open. A file whose permissions allow no writing is opened read-only, even by root.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};

use crate::model::{Period, Provenance, RecordKind, Rejection, UsageRecord};
use crate::normalise::{FileReport, NormaliseError};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 5;

/// The marker of an llm-scope3 ledger in the SQLite header (`PRAGMA application_id`): "LS3L".
pub const APPLICATION_ID: i32 = 0x4C53_334C;

/// The default ledger file.
pub const DEFAULT_PATH: &str = "llm-scope3.db";

/// A ledger problem.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// SQLite failed.
    #[error("ledger {path}: {source}")]
    Sqlite {
        /// The ledger file.
        path: String,
        /// SQLite's message.
        source: rusqlite::Error,
    },
    /// The file was written by a newer version.
    #[error("ledger {path} has schema version {found}; this llm-scope3 reads up to {SCHEMA_VERSION}: upgrade llm-scope3")]
    Newer {
        /// The ledger file.
        path: String,
        /// Its version.
        found: i64,
    },
    /// No ledger at the path.
    #[error("no ledger at {0}: import export files first (llm-scope3 import FILE...) or name the files to report")]
    NotFound(String),
    /// The file is not a ledger (another application's database, or not SQLite at all).
    #[error(
        "{path} is not an llm-scope3 ledger ({why}): name another file; nothing was written to it"
    )]
    NotALedger {
        /// The file.
        path: String,
        /// What it is instead.
        why: String,
    },
    /// The ledger's file is damaged.
    #[error("ledger {path} is damaged ({why}): nothing was written to it. Restore it from a backup; `llm-scope3 imports verify --ledger {path}` lists the damage")]
    Damaged {
        /// The ledger file.
        path: String,
        /// What SQLite found.
        why: String,
    },
    /// The ledger cannot be written.
    #[error("ledger {path} is read-only ({why}): nothing was written or recorded. Make it writable (chmod u+w {path}) or name another ledger")]
    ReadOnly {
        /// The ledger file.
        path: String,
        /// Why.
        why: String,
    },
    /// Another process kept the ledger locked for longer than we wait.
    #[error("ledger {path} is still being written by another process after {secs} s: nothing was changed; try again when it has finished")]
    Busy {
        /// The ledger file.
        path: String,
        /// How long we waited.
        secs: u64,
    },
    /// The ledger file cannot be read.
    #[error("cannot read ledger {path}: {source}")]
    Io {
        /// The ledger file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A new ledger could not be created (nothing is left behind).
    #[error("cannot create ledger {path}: {why}; no file was left behind")]
    CannotCreate {
        /// The ledger file.
        path: String,
        /// Why.
        why: String,
    },
    /// No such import.
    #[error("the ledger has no import #{0} (llm-scope3 imports list shows them)")]
    NoSuchImport(i64),
    /// The import would double-count and was refused.
    #[error("{0}")]
    Refused(String),
    /// The file cannot be used.
    #[error(transparent)]
    Input(#[from] NormaliseError),
}

impl LedgerError {
    /// Exit code: refusals, unusable files, foreign and damaged ledgers are input data errors;
    /// a ledger that cannot be written is like an output that cannot be written (1).
    pub fn exit_code(&self) -> i32 {
        match self {
            LedgerError::Refused(_)
            | LedgerError::Input(_)
            | LedgerError::NotALedger { .. }
            | LedgerError::Damaged { .. } => 3,
            LedgerError::NotFound(_) | LedgerError::NoSuchImport(_) | LedgerError::Newer { .. } => {
                2
            }
            LedgerError::Sqlite { .. }
            | LedgerError::ReadOnly { .. }
            | LedgerError::Busy { .. }
            | LedgerError::Io { .. }
            | LedgerError::CannotCreate { .. } => 1,
        }
    }
}

/// Classifies an SQLite error into the plain-words ledger errors.
fn sql_err(path: &str, source: rusqlite::Error) -> LedgerError {
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

type Result<T> = std::result::Result<T, LedgerError>;

/// One import as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    /// Import id.
    pub id: i64,
    /// The file as named when imported.
    pub file: String,
    /// Its SHA-256.
    pub sha256: String,
    /// Detected format.
    pub format: String,
    /// When (UTC).
    pub imported_at: String,
    /// Earliest bucket date.
    pub first_date: Option<String>,
    /// Latest bucket date.
    pub last_date: Option<String>,
    /// Typical bucket width, seconds.
    pub bucket_secs: Option<i64>,
    /// Data rows read.
    pub rows_read: i64,
    /// Records stored.
    pub accepted: i64,
    /// Of which duplicates of records already in the ledger.
    pub duplicate: i64,
    /// Of which restatements that replaced earlier records.
    pub restated: i64,
    /// Records of this import the reports use now.
    pub active: i64,
    /// When it was removed, if it was.
    pub removed_at: Option<String>,
}

/// A file as read for the ledger, all its dates ([`crate::normalise::read_export`]).
#[derive(Debug)]
pub enum ImportData {
    /// A usage export: its file report, accepted records (with keys) and rejections.
    Usage {
        /// The file's report (its SHA-256 identifies the bytes).
        report: FileReport,
        /// Accepted records, with their ledger keys.
        records: Vec<UsageRecord>,
        /// Rejected rows.
        rejections: Vec<Rejection>,
    },
    /// A vendor carbon report.
    Carbon(crate::normalise::carbon::CarbonFile),
}

/// What [`Ledger::import`] did with a file.
#[derive(Debug, Clone)]
pub enum ImportResult {
    /// The same bytes were imported before: nothing changed.
    AlreadyImported(ImportSummary),
    /// Imported.
    Imported(ImportSummary, Box<FileReport>),
}

/// A change-log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// When.
    pub at: String,
    /// The import concerned.
    pub import_id: Option<i64>,
    /// `restatement`, `removed import`, `replaced import`.
    pub kind: String,
    /// The month of the records concerned.
    pub month: Option<String>,
    /// What changed.
    pub detail: String,
}

/// Totals stated by `report --final`.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Its number in the ledger (ignored when recording one: the ledger numbers it).
    pub id: i64,
    /// Period label.
    pub period_label: String,
    /// When stated (UTC).
    pub stated_at: String,
    /// Factor set version then.
    pub factor_version: String,
    /// Its SHA-256.
    pub factor_sha256: String,
    /// Active import ids then.
    pub imports: BTreeSet<i64>,
    /// kgCO2e low, central, high.
    pub kgco2e: [f64; 3],
    /// Energy kWh (central).
    pub energy_kwh: f64,
    /// Input and output tokens.
    pub tokens: [u64; 2],
    /// Why the statement was made although the period had gaps of coverage, when it had.
    pub accepted_gaps: Option<String>,
}

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    /// Opened read-only because the file's permissions allow no writing.
    read_only: bool,
}

/// A final statement inserted but not yet committed ([`Ledger::begin_statement`]): the
/// ledger's write lock is held until it is committed or dropped (rolled back).
pub struct PendingStatement<'a> {
    ledger: &'a mut Ledger,
    id: i64,
    done: bool,
}

impl PendingStatement<'_> {
    /// The statement's number in the ledger.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Records the statement.
    pub fn commit(mut self) -> Result<()> {
        self.ledger
            .conn
            .execute_batch("COMMIT")
            .map_err(self.ledger.err())?;
        self.done = true;
        self.ledger.checkpoint();
        Ok(())
    }
}

impl Drop for PendingStatement<'_> {
    fn drop(&mut self) {
        if !self.done && !self.ledger.conn.is_autocommit() {
            let _ = self.ledger.conn.execute_batch("ROLLBACK");
        }
    }
}

/// How long a command waits for another process that is writing the ledger: a large import
/// takes minutes on a slow machine.
pub const WAIT_LIMIT: Duration = Duration::from_secs(600);

/// After waiting this long, say on stderr what we are waiting for.
const WAIT_TELL_AFTER: Duration = Duration::from_millis(300);

/// The first 16 bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The tables every ledger holds since schema version 1.
const LEDGER_TABLES: [&str; 6] = [
    "changes",
    "imports",
    "meta",
    "records",
    "rejections",
    "statements",
];

/// What an SQLite file holds, as far as the ledger is concerned.
#[derive(Clone, Copy)]
enum State {
    /// No table at all: a new ledger.
    Empty,
    /// A ledger of this version, with its marker.
    Current,
    /// A ledger of an earlier schema version, or one made before the marker existed.
    Upgrade(i64),
}

fn now_text(now: DateTime<Utc>) -> String {
    now.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `path` with `suffix` appended to its file name (`-wal`, `-shm`, `-journal`).
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes a database file we made and the files SQLite keeps beside it.
fn remove_with_sidecars(path: &Path) {
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

/// Recognises a ledger by its marker (`PRAGMA application_id`) and its meta table's schema
/// version; a ledger made before the marker existed by its meta table and tables.
fn classify(conn: &Connection, path: &str) -> Result<State> {
    let e = |source| sql_err(path, source);
    let app: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(e)?;
    let tables: Vec<String> = {
        let mut stmt = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite^_%' ESCAPE '^'
                 ORDER BY name",
            )
            .map_err(e)?;
        let names = stmt
            .query_map([], |r| r.get(0))
            .map_err(e)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(e)?;
        names
    };
    let holds = match tables.len() {
        0 => "it holds no tables".to_string(),
        1 => format!("it holds table {}", tables[0]),
        n if n <= 8 => format!("it holds tables {}", tables.join(", ")),
        n => format!("it holds {n} tables: {}, ...", tables[..8].join(", ")),
    };
    let marked = app == APPLICATION_ID;
    if app != 0 && !marked {
        return Err(LedgerError::NotALedger {
            path: path.to_string(),
            why: format!(
                "it belongs to another application, SQLite application id {app:#010x}, and {holds}"
            ),
        });
    }
    if tables.is_empty() && !marked {
        // No table, but views or triggers: another application's file, never ours to set up.
        let others: Vec<String> = {
            let mut stmt = conn
                .prepare(
                    "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite^_%' ESCAPE '^' ORDER BY name",
                )
                .map_err(e)?;
            let names = stmt
                .query_map([], |r| r.get(0))
                .map_err(e)?
                .collect::<rusqlite::Result<Vec<String>>>()
                .map_err(e)?;
            names
        };
        if !others.is_empty() {
            return Err(LedgerError::NotALedger {
                path: path.to_string(),
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
    if tables.is_empty() {
        if marked {
            return Err(LedgerError::Damaged {
                path: path.to_string(),
                why: "it is marked as an llm-scope3 ledger but holds no tables".into(),
            });
        }
        return Ok(State::Empty);
    }
    let version: Option<i64> = if tables.iter().any(|t| t == "meta") {
        conn.query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()
        .map_err(e)?
        .and_then(|v| v.trim().parse().ok())
    } else {
        None
    };
    let ours = LEDGER_TABLES.iter().all(|t| tables.iter().any(|x| x == t));
    match version {
        Some(v) if v > SCHEMA_VERSION && (marked || ours) => Err(LedgerError::Newer {
            path: path.to_string(),
            found: v,
        }),
        Some(v) if v >= 1 && ours => Ok(if marked && v == SCHEMA_VERSION {
            State::Current
        } else {
            State::Upgrade(v)
        }),
        _ if marked => {
            Err(LedgerError::Damaged {
                path: path.to_string(),
                why: if version.is_none() {
                    format!("it is marked as an llm-scope3 ledger but has no schema version (its meta table is missing or empty); {holds}")
                } else {
                    format!("it is marked as an llm-scope3 ledger but lacks some of its tables; {holds}")
                },
            })
        }
        _ => Err(LedgerError::NotALedger {
            path: path.to_string(),
            why: holds,
        }),
    }
}

/// Creates the schema from `version` up to [`SCHEMA_VERSION`] and sets the marker, inside the
/// caller's (immediate) transaction.
fn set_up(tx: &Transaction<'_>, version: i64) -> rusqlite::Result<()> {
    if version < 1 {
        tx.execute_batch(include_str!("schema.sql"))?;
    }
    if version < 2 {
        // Version 2: account and service per record, and vendor carbon report rows.
        tx.execute_batch(include_str!("schema_v2.sql"))?;
    }
    if version < 3 {
        // Version 3: accepted gaps of a final statement, rejected rows' content hash.
        tx.execute_batch(include_str!("schema_v3.sql"))?;
    }
    if version < 4 {
        // Version 4: one active import per file content. Earlier versions could import the
        // same file twice when two imports ran at once: the later copies are withdrawn first.
        withdraw_duplicate_imports(tx)?;
        tx.execute_batch(include_str!("schema_v4.sql"))?;
    }
    if version < 5 {
        // Version 5: whether each record's row gave a request count.
        tx.execute_batch(include_str!("schema_v5.sql"))?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?1)",
        params![SCHEMA_VERSION.to_string()],
    )?;
    Ok(())
}

/// Withdraws every active import whose file (SHA-256) an earlier active import holds, as
/// `imports remove` would, logged in the change log.
fn withdraw_duplicate_imports(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let ids: Vec<i64> = {
        let mut stmt = tx.prepare(
            "SELECT i.id FROM imports i WHERE i.removed_at IS NULL AND EXISTS
                (SELECT 1 FROM imports j WHERE j.sha256 = i.sha256 AND j.removed_at IS NULL AND j.id < i.id)
             ORDER BY i.id",
        )?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        ids
    };
    let stamp = now_text(Utc::now());
    for id in ids {
        remove_in(tx, id, &stamp, "removed duplicate import")?;
    }
    Ok(())
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
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "waiting for another process to finish writing ledger {shown} (another llm-scope3 import, removal or final statement): up to {} minutes",
                WAIT_LIMIT.as_secs() / 60
            );
            told = true;
        }
        std::thread::sleep(Duration::from_millis(if count < 20 { 5 } else { 50 }));
        true
    }))
}

/// Makes a new ledger under a temporary name beside `path`, then links it into place without
/// replacing a file another process made meanwhile. On failure nothing is left behind.
fn create(path: &Path, shown: &str) -> Result<()> {
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
    let made = (|| -> rusqlite::Result<()> {
        let mut conn = Connection::open_with_flags(
            &tmp,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.execute_batch("PRAGMA synchronous = FULL;")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        set_up(&tx, 0)?;
        tx.commit()?;
        // Readers never wait for a writer, and a writer never waits for readers (see
        // docs/ARCHITECTURE.md, "The ledger"). Set once: it is kept in the file.
        let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.close().map_err(|(_, e)| e)
    })();
    if let Err(e) = made {
        remove_with_sidecars(&tmp);
        return Err(fail(e.to_string()));
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

/// A consistent view of the ledger: until dropped, every query sees it as of the first one,
/// never half of an import that commits meanwhile.
pub struct Snapshot<'a>(Option<&'a Connection>);

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.0 {
            let _ = conn.execute_batch("COMMIT");
        }
    }
}

/// What `imports verify` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    /// SQLite's full integrity check and foreign key check findings; empty when sound.
    pub problems: Vec<String>,
    /// Imports (removed ones included).
    pub imports: i64,
    /// Usage records stored.
    pub records: i64,
    /// Vendor carbon rows stored.
    pub carbon_rows: i64,
    /// Final statements recorded.
    pub statements: i64,
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

impl Ledger {
    /// Opens the ledger at `path` for writing, creating it when absent and upgrading one made
    /// by an earlier version. Refuses, before writing anything, a file that is not a ledger, a
    /// damaged one, and one that cannot be written.
    pub fn open(path: &Path) -> Result<Ledger> {
        let shown = path.display().to_string();
        if !path.exists() {
            create(path, &shown)?;
        }
        let ledger = Ledger::open_file(path, &shown, true)?;
        ledger.refuse_read_only()?;
        Ok(ledger)
    }

    /// Opens an existing ledger (never creates one), read-only when its file permissions allow
    /// no writing (honoured even for root).
    pub fn open_existing(path: &Path) -> Result<Ledger> {
        let shown = path.display().to_string();
        if !path.exists() {
            return Err(LedgerError::NotFound(shown));
        }
        Ledger::open_file(path, &shown, false)
    }

    fn open_file(path: &Path, shown: &str, create: bool) -> Result<Ledger> {
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
        let mut ledger = Ledger {
            conn,
            path: path.to_path_buf(),
            read_only,
        };
        let state = if empty {
            State::Empty
        } else {
            let state = classify(&ledger.conn, shown)?;
            ledger.quick_check()?;
            state
        };
        match state {
            State::Current => {}
            State::Empty | State::Upgrade(_) => {
                if let Err(LedgerError::ReadOnly { path, why }) = ledger.refuse_read_only() {
                    let need = match state {
                        State::Upgrade(v) => format!("and it must first be upgraded from schema version {v} to {SCHEMA_VERSION}, which writes to it"),
                        _ => "and it is empty: a new ledger would be set up in it".into(),
                    };
                    return Err(LedgerError::ReadOnly {
                        path,
                        why: format!("{why}, {need}"),
                    });
                }
                ledger.upgrade()?;
            }
        }
        if !ledger.read_only {
            // Readers never wait for a writer (docs/ARCHITECTURE.md, "The ledger"). Where
            // SQLite cannot (a file system without shared memory), it stays in rollback mode:
            // still correct, readers then wait for a commit.
            let mode: String = ledger
                .conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .map_err(e)?;
            if !mode.eq_ignore_ascii_case("wal") {
                let _: String = ledger
                    .conn
                    .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                    .map_err(e)?;
            }
        }
        Ok(ledger)
    }

    /// The text rows a check pragma answers (`ok`, or one row per problem).
    fn pragma_text(&self, pragma: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(pragma).map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// `PRAGMA quick_check`: refuses a damaged ledger before it is used.
    fn quick_check(&self) -> Result<()> {
        let shown = self.path.display().to_string();
        let found = self.pragma_text("PRAGMA quick_check(5)")?;
        if found != ["ok"] {
            return Err(LedgerError::Damaged {
                path: shown,
                why: format!("SQLite's check found: {}", found.join("; ")),
            });
        }
        Ok(())
    }

    /// Creates or upgrades the schema under the write lock, re-checking inside it: of two
    /// processes opening a new or old ledger at once, one does it and the other finds it done.
    fn upgrade(&mut self) -> Result<()> {
        let shown = self.path.display().to_string();
        let e = |source| sql_err(&shown, source);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let version = match classify(&tx, &shown)? {
            State::Current => return Ok(()),
            State::Empty => 0,
            State::Upgrade(v) => v,
        };
        set_up(&tx, version).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(())
    }

    /// Refuses a ledger opened read-only (its permissions, or SQLite could only open it so).
    fn refuse_read_only(&self) -> Result<()> {
        let sqlite_read_only = self
            .conn
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(self.err())?;
        if self.read_only || sqlite_read_only {
            return Err(LedgerError::ReadOnly {
                path: self.path.display().to_string(),
                why: if self.read_only {
                    "its file permissions allow no writing".into()
                } else {
                    "the file or its folder cannot be written by this user".into()
                },
            });
        }
        Ok(())
    }

    /// Checks, before any output is written, that something can be recorded: the ledger is
    /// writable, and its write lock can be taken (waiting for another writer) and a row
    /// written (then rolled back).
    pub fn check_writable(&mut self) -> Result<()> {
        self.refuse_read_only()?;
        let shown = self.path.display().to_string();
        let e = |source| sql_err(&shown, source);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        tx.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('write_check', ?1)",
            params![now_text(Utc::now())],
        )
        .map_err(e)?;
        tx.rollback().map_err(e)?;
        Ok(())
    }

    /// A consistent view for a report (see [`Snapshot`]).
    pub fn snapshot(&self) -> Result<Snapshot<'_>> {
        if !self.conn.is_autocommit() {
            return Ok(Snapshot(None));
        }
        self.conn.execute_batch("BEGIN").map_err(self.err())?;
        let snapshot = Snapshot(Some(&self.conn));
        // The read transaction (and its view) starts with the first read.
        self.conn
            .query_row("SELECT count(*) FROM imports", [], |r| r.get::<_, i64>(0))
            .map_err(self.err())?;
        Ok(snapshot)
    }

    /// SQLite's full integrity check and foreign key check, and what the ledger holds.
    pub fn verify(&self) -> Result<Verification> {
        let _view = self.snapshot()?;
        let mut problems: Vec<String> = self
            .pragma_text("PRAGMA integrity_check")?
            .into_iter()
            .filter(|r| r != "ok")
            .collect();
        {
            let mut stmt = self
                .conn
                .prepare("PRAGMA foreign_key_check")
                .map_err(self.err())?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(format!(
                        "table {} row {} refers to a missing row of {}",
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<i64>>(1)?.unwrap_or_default(),
                        r.get::<_, String>(2)?
                    ))
                })
                .map_err(self.err())?
                .collect::<rusqlite::Result<Vec<String>>>()
                .map_err(self.err())?;
            problems.extend(rows);
        }
        let count = |table: &str| -> Result<i64> {
            self.conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .map_err(self.err())
        };
        Ok(Verification {
            problems,
            imports: count("imports")?,
            records: count("records")?,
            carbon_rows: count("supplier_rows")?,
            statements: count("statements")?,
        })
    }

    /// Copies what was just committed from the write-ahead log into the ledger file, as far
    /// as no reader still needs the older pages (PASSIVE: never waits). Then the file alone
    /// holds every finished import even if the process is killed before it closes the ledger.
    fn checkpoint(&self) {
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
        move |source| sql_err(&self.path.display().to_string(), source)
    }

    /// The active import of the file with this SHA-256, if any.
    fn active_with_sha(conn: &Connection, sha: &str) -> rusqlite::Result<Option<i64>> {
        conn.query_row(
            "SELECT id FROM imports WHERE sha256 = ?1 AND removed_at IS NULL",
            params![sha],
            |r| r.get::<_, i64>(0),
        )
        .optional()
    }

    /// The import active for a file with these bytes (its SHA-256), if any: a quick look
    /// before reading a file, checked again under the write lock by [`Ledger::import`].
    pub fn imported(&self, sha256: &str) -> Result<Option<ImportSummary>> {
        match Ledger::active_with_sha(&self.conn, sha256).map_err(self.err())? {
            Some(id) => Ok(Some(self.summary(id)?)),
            None => Ok(None),
        }
    }

    /// Imports one file as read (all its dates, records with their keys): one transaction;
    /// the same bytes (the report's SHA-256) twice change nothing. The ledger never reads
    /// files: `pipeline::import_file` reads them.
    pub fn import(
        &mut self,
        name: &str,
        data: ImportData,
        replace: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<ImportResult> {
        let (mut report, records, mut rejections) = match data {
            ImportData::Usage {
                report,
                records,
                rejections,
            } => (report, records, rejections),
            ImportData::Carbon(c) => {
                let sha = c.report.sha256.clone();
                return self.import_carbon(name, &sha, c, now);
            }
        };
        let sha = report.sha256.clone();
        let bucket_secs = typical_bucket(&records);
        let accounts: Vec<String> = report.accounts.iter().cloned().collect();

        let path_text = self.path.display().to_string();
        let e = |source| sql_err(&path_text, source);
        // The write lock, for the whole import: another import of the same ledger waits here
        // (saying so), then finds this one's file already imported.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        if let Some(id) = Ledger::active_with_sha(&tx, &sha).map_err(e)? {
            drop(tx);
            return Ok(ImportResult::AlreadyImported(self.summary(id)?));
        }
        check_granularity(&tx, &report, bucket_secs, &accounts, replace).map_err(|r| match r {
            Ok(msg) => LedgerError::Refused(msg),
            Err(source) => sql_err(&path_text, source),
        })?;
        let stamp = now_text(now);
        if let Some(old) = replace {
            let exists: bool = tx
                .query_row(
                    "SELECT count(*) FROM imports WHERE id = ?1 AND removed_at IS NULL",
                    params![old],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(e)?
                > 0;
            if !exists {
                return Err(LedgerError::NoSuchImport(old));
            }
            remove_in(&tx, old, &stamp, "replaced import").map_err(e)?;
        }
        // A bad row an active import already holds (an overlapping re-download) counts once:
        // here it is a duplicate, not a second rejection.
        seen_before(&tx, &mut report, &mut rejections).map_err(e)?;
        let report_json = serde_json::to_string(&report).unwrap_or_default();
        tx.execute(
            "INSERT INTO imports(file, sha256, format, template, imported_at, first_date, last_date,
                bucket_secs, accounts, rows_read, accepted, duplicate, restated, report_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, 0, ?12)",
            params![
                name,
                sha,
                report.format,
                report.template,
                stamp,
                report.first_date.map(|d| d.to_string()),
                report.last_date.map(|d| d.to_string()),
                bucket_secs,
                accounts.join("\u{1f}"),
                report.counts.read as i64,
                records.len() as i64,
                report_json,
            ],
        )
        .map_err(e)?;
        let import_id = tx.last_insert_rowid();
        if let Some(old) = replace {
            tx.execute(
                "UPDATE imports SET replaced_by = ?1 WHERE id = ?2",
                params![import_id, old],
            )
            .map_err(e)?;
        }
        insert_records(&tx, import_id, &records).map_err(e)?;
        insert_rejections(&tx, import_id, &rejections).map_err(e)?;
        let (duplicate, restated) = resolve_keys(&tx, import_id, &stamp).map_err(e)?;
        tx.execute(
            "UPDATE imports SET duplicate = ?1, restated = ?2 WHERE id = ?3",
            params![duplicate, restated, import_id],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        self.checkpoint();
        Ok(ImportResult::Imported(
            self.summary(import_id)?,
            Box::new(report),
        ))
    }

    /// Imports the rows of a vendor carbon report. A row whose key (provider, account,
    /// sub-account, service, region, month) is already active with the same figures is a
    /// duplicate; with other figures it is the vendor's restatement and the newer row counts.
    fn import_carbon(
        &mut self,
        name: &str,
        sha: &str,
        c: crate::normalise::carbon::CarbonFile,
        now: DateTime<Utc>,
    ) -> Result<ImportResult> {
        let path_text = self.path.display().to_string();
        let e = |source| sql_err(&path_text, source);
        let stamp = now_text(now);
        let report = c.report;
        let accounts: Vec<String> = report.accounts.iter().cloned().collect();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        if let Some(id) = Ledger::active_with_sha(&tx, sha).map_err(e)? {
            drop(tx);
            return Ok(ImportResult::AlreadyImported(self.summary(id)?));
        }
        let report_json = serde_json::to_string(&report).unwrap_or_default();
        tx.execute(
            "INSERT INTO imports(file, sha256, format, template, imported_at, first_date, last_date,
                bucket_secs, accounts, rows_read, accepted, duplicate, restated, report_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9, ?10, 0, 0, ?11)",
            params![
                name,
                sha,
                report.format,
                report.template,
                stamp,
                report.first_date.map(|d| d.to_string()),
                report.last_date.map(|d| d.to_string()),
                accounts.join("\u{1f}"),
                report.counts.read as i64,
                c.rows.len() as i64,
                report_json,
            ],
        )
        .map_err(e)?;
        let import_id = tx.last_insert_rowid();
        insert_rejections(&tx, import_id, &c.rejections).map_err(e)?;
        let (mut duplicate, mut restated) = (0i64, 0i64);
        for r in &c.rows {
            let key = carbon_row_key(r);
            // The active figures for this key from other imports, if any.
            let old: Option<(Option<f64>, Option<f64>)> = tx
                .query_row(
                    "SELECT sum(kg_location), sum(kg_market) FROM supplier_rows
                     WHERE row_key = ?1 AND active = 1 AND import_id != ?2 HAVING count(*) > 0",
                    params![key, import_id],
                    |x| Ok((x.get(0)?, x.get(1)?)),
                )
                .optional()
                .map_err(e)?;
            let same = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
                (None, None) => true,
                _ => false,
            };
            let active = match old {
                Some((l, m)) if same(l, r.location_kg) && same(m, r.market_kg) => {
                    duplicate += 1;
                    false
                }
                Some((l, _)) => {
                    restated += 1;
                    tx.execute(
                        "UPDATE supplier_rows SET active = 0 WHERE row_key = ?1 AND active = 1",
                        params![key],
                    )
                    .map_err(e)?;
                    tx.execute(
                        "INSERT INTO changes(at, import_id, kind, month, detail) VALUES (?1, ?2, 'restatement', ?3, ?4)",
                        params![
                            stamp,
                            import_id,
                            r.month,
                            format!(
                                "vendor carbon figure for {} {} {} {} restated: {} kgCO2e location-based, was {}",
                                r.provider,
                                r.service,
                                r.region,
                                r.month,
                                r.location_kg.map_or("none".into(), |v| format!("{v:.6}")),
                                l.map_or("none".into(), |v| format!("{v:.6}"))
                            )
                        ],
                    )
                    .map_err(e)?;
                    true
                }
                None => true,
            };
            tx.execute(
                "INSERT INTO supplier_rows(import_id, row_key, active, sheet, row, month, provider,
                    account, sub_account, service, service_raw, region, kg_location, kg_market,
                    kg_scope1, kg_scope2_location, kg_scope2_market, kg_scope3, model_version, context)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
                params![
                    import_id,
                    key,
                    active as i64,
                    r.sheet,
                    r.row as i64,
                    r.month,
                    r.provider,
                    r.account,
                    r.sub_account,
                    r.service,
                    r.service_name,
                    r.region,
                    r.location_kg,
                    r.market_kg,
                    r.scope1_kg,
                    r.scope2_location_kg,
                    r.scope2_market_kg,
                    r.scope3_kg,
                    r.model_version,
                    r.context,
                ],
            )
            .map_err(e)?;
        }
        tx.execute(
            "UPDATE imports SET duplicate = ?1, restated = ?2 WHERE id = ?3",
            params![duplicate, restated, import_id],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        self.checkpoint();
        Ok(ImportResult::Imported(
            self.summary(import_id)?,
            Box::new(report),
        ))
    }

    /// The active vendor carbon rows of months that overlap `period`. Imports not yet in
    /// `imports` are appended (their position is the rows' `file_index`).
    pub fn carbon_rows(
        &self,
        period: &Period,
        imports: &mut Vec<i64>,
    ) -> Result<Vec<crate::model::CarbonRow>> {
        let (from, to) = (
            period.start.format("%Y-%m").to_string(),
            period.end.format("%Y-%m").to_string(),
        );
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.import_id, i.file, i.template, s.sheet, s.row, s.month, s.provider, s.account,
                        s.sub_account, s.service, s.service_raw, s.region, s.kg_location, s.kg_market,
                        s.kg_scope1, s.kg_scope2_location, s.kg_scope2_market, s.kg_scope3,
                        s.model_version, s.context
                 FROM supplier_rows s JOIN imports i ON i.id = s.import_id
                 WHERE s.active = 1 AND s.month >= ?1 AND s.month <= ?2
                 ORDER BY i.file, s.import_id, s.id",
            )
            .map_err(self.err())?;
        let mut rows = stmt.query(params![from, to]).map_err(self.err())?;
        let mut out = vec![];
        while let Some(r) = rows.next().map_err(self.err())? {
            let import_id: i64 = r.get(0).map_err(self.err())?;
            let file_index = match imports.iter().position(|&i| i == import_id) {
                Some(i) => i,
                None => {
                    imports.push(import_id);
                    imports.len() - 1
                }
            };
            let g = |i: usize| -> Result<Option<f64>> { r.get(i).map_err(self.err()) };
            out.push(crate::model::CarbonRow {
                file_index,
                file: r.get(1).map_err(self.err())?,
                template: r.get(2).map_err(self.err())?,
                sheet: r.get(3).map_err(self.err())?,
                row: r.get::<_, i64>(4).map_err(self.err())?.max(0) as u64,
                month: r.get(5).map_err(self.err())?,
                provider: r.get(6).map_err(self.err())?,
                account: r.get(7).map_err(self.err())?,
                sub_account: r.get(8).map_err(self.err())?,
                service: r.get(9).map_err(self.err())?,
                service_name: r.get(10).map_err(self.err())?,
                region: r.get(11).map_err(self.err())?,
                location_kg: g(12)?,
                market_kg: g(13)?,
                scope1_kg: g(14)?,
                scope2_location_kg: g(15)?,
                scope2_market_kg: g(16)?,
                scope3_kg: g(17)?,
                model_version: r.get(18).map_err(self.err())?,
                context: r.get(19).map_err(self.err())?,
            });
        }
        Ok(out)
    }

    /// One import's summary.
    pub fn summary(&self, id: i64) -> Result<ImportSummary> {
        self.conn
            .query_row(
                "SELECT id, file, sha256, format, imported_at, first_date, last_date, bucket_secs,
                        rows_read, accepted, duplicate, restated, removed_at,
                        (SELECT count(*) FROM records r WHERE r.import_id = imports.id AND r.active = 1)
                        + (SELECT count(*) FROM supplier_rows s WHERE s.import_id = imports.id AND s.active = 1)
                 FROM imports WHERE id = ?1",
                params![id],
                summary_row,
            )
            .optional()
            .map_err(self.err())?
            .ok_or(LedgerError::NoSuchImport(id))
    }

    /// Every import, oldest first (removed ones included, marked).
    pub fn list(&self) -> Result<Vec<ImportSummary>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, file, sha256, format, imported_at, first_date, last_date, bucket_secs,
                        rows_read, accepted, duplicate, restated, removed_at,
                        (SELECT count(*) FROM records r WHERE r.import_id = imports.id AND r.active = 1)
                        + (SELECT count(*) FROM supplier_rows s WHERE s.import_id = imports.id AND s.active = 1)
                 FROM imports ORDER BY id",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], summary_row)
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// An import's row accounting at import time and its rejections.
    pub fn details(&self, id: i64) -> Result<(FileReport, Vec<Rejection>)> {
        let (file, json): (String, String) = self
            .conn
            .query_row(
                "SELECT file, report_json FROM imports WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err())?
            .ok_or(LedgerError::NoSuchImport(id))?;
        let report: FileReport = serde_json::from_str(&json).unwrap_or_default();
        let mut stmt = self
            .conn
            .prepare("SELECT sheet, row, col, value, reason FROM rejections WHERE import_id = ?1 ORDER BY row")
            .map_err(self.err())?;
        let rejections = stmt
            .query_map(params![id], |r| {
                Ok(Rejection {
                    file: file.clone(),
                    sheet: r.get(0)?,
                    row: r.get::<_, i64>(1)? as u64,
                    column: r.get(2)?,
                    value: r.get(3)?,
                    reason: r.get(4)?,
                    row_hash: None,
                    money: None,
                })
            })
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok((report, rejections))
    }

    /// Removes an import: its records stop counting; records it had superseded count again.
    pub fn remove(&mut self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.summary(id)?;
        let path_text = self.path.display().to_string();
        let e = |source| sql_err(&path_text, source);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        // Checked under the write lock: another process may have removed it meanwhile.
        let removed_at: Option<String> = tx
            .query_row(
                "SELECT removed_at FROM imports WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .map_err(e)?;
        if let Some(at) = removed_at {
            return Err(LedgerError::Refused(format!(
                "import #{id} was already removed on {at}"
            )));
        }
        remove_in(&tx, id, &now_text(now), "removed import").map_err(e)?;
        tx.commit().map_err(e)?;
        self.checkpoint();
        Ok(())
    }

    /// The active records whose bucket starts in `period`, with their import as provenance.
    /// Returns the records and, per import used, its file name (index = `file_index`).
    pub fn records(&self, period: &Period) -> Result<(Vec<UsageRecord>, Vec<i64>)> {
        let start = period
            .start
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp();
        let end = (period.end + chrono::Duration::days(1))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.import_id, i.file, r.sheet, r.row, r.bucket_start, r.bucket_end, r.provider,
                        r.model, r.region, r.region_scope, r.cost_centre, r.requests, r.input_tokens,
                        r.cached_input_tokens, r.output_tokens, r.input_characters, r.output_characters,
                        r.cost, r.currency, r.kind, r.kind_label, r.kind_quantity, r.kind_unit, r.record_key,
                        r.account, r.service, r.requests_reported
                 FROM records r JOIN imports i ON i.id = r.import_id
                 WHERE r.active = 1 AND r.bucket_start >= ?1 AND r.bucket_start < ?2
                 ORDER BY i.file, r.import_id, r.id",
            )
            .map_err(self.err())?;
        let mut imports: Vec<i64> = vec![];
        let mut files: HashMap<i64, (usize, Arc<str>)> = HashMap::new();
        let mut sheets: HashMap<String, Arc<str>> = HashMap::new();
        let mut providers: HashMap<String, Arc<str>> = HashMap::new();
        let mut out = vec![];
        let mut rows = stmt.query(params![start, end]).map_err(self.err())?;
        while let Some(r) = rows.next().map_err(self.err())? {
            let import_id: i64 = r.get(0).map_err(self.err())?;
            let file: String = r.get(1).map_err(self.err())?;
            let (file_index, file) = files
                .entry(import_id)
                .or_insert_with(|| {
                    imports.push(import_id);
                    (imports.len() - 1, Arc::from(file.as_str()))
                })
                .clone();
            let sheet: Option<String> = r.get(2).map_err(self.err())?;
            let provider: String = r.get(6).map_err(self.err())?;
            let get_u =
                |i: usize| -> Result<u64> { Ok(r.get::<_, i64>(i).map_err(self.err())? as u64) };
            let ts = |i: usize| -> Result<DateTime<Utc>> {
                let t: i64 = r.get(i).map_err(self.err())?;
                Ok(DateTime::from_timestamp(t, 0).unwrap_or_default())
            };
            let kind: String = r.get(19).map_err(self.err())?;
            let label: Option<String> = r.get(20).map_err(self.err())?;
            let kind = match kind.as_str() {
                "not_estimated" | "spend" => RecordKind::NotEstimated {
                    spend_only: kind == "spend",
                    label: label.unwrap_or_default(),
                    quantity: r
                        .get::<_, Option<f64>>(21)
                        .map_err(self.err())?
                        .unwrap_or(0.0),
                    unit: r
                        .get::<_, Option<String>>(22)
                        .map_err(self.err())?
                        .unwrap_or_default(),
                },
                "adjustment" => RecordKind::Adjustment {
                    label: label.unwrap_or_default(),
                },
                _ => RecordKind::Usage,
            };
            out.push(UsageRecord {
                bucket_start: ts(4)?,
                bucket_end: ts(5)?,
                provider: providers
                    .entry(provider.clone())
                    .or_insert_with(|| Arc::from(provider.as_str()))
                    .clone(),
                model: r.get(7).map_err(self.err())?,
                region: r.get(8).map_err(self.err())?,
                region_scope: r.get(9).map_err(self.err())?,
                cost_centre: r.get(10).map_err(self.err())?,
                account: r.get(24).map_err(self.err())?,
                service: r.get(25).map_err(self.err())?,
                requests: get_u(11)?,
                // NULL: imported before schema version 5, which did not say; a count above 0
                // was reported.
                requests_reported: match r.get::<_, Option<i64>>(26).map_err(self.err())? {
                    Some(v) => v != 0,
                    None => get_u(11)? > 0,
                },
                input_tokens: get_u(12)?,
                cached_input_tokens: get_u(13)?,
                output_tokens: get_u(14)?,
                input_characters: get_u(15)?,
                output_characters: get_u(16)?,
                cost: r.get(17).map_err(self.err())?,
                currency: r.get(18).map_err(self.err())?,
                kind,
                key: r.get(23).map_err(self.err())?,
                provenance: Provenance {
                    file_index,
                    file,
                    sheet: sheet.map(|s| {
                        sheets
                            .entry(s.clone())
                            .or_insert_with(|| Arc::from(s.as_str()))
                            .clone()
                    }),
                    row: get_u(3)?,
                },
            });
        }
        Ok((out, imports))
    }

    /// Row accounting of an import for a period: its stored counts, with accepted split into
    /// active records in the period, duplicate / superseded ones, and the rest outside.
    pub fn period_report(&self, id: i64, period: &Period) -> Result<FileReport> {
        let (mut report, _) = self.details(id)?;
        let start = period
            .start
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp();
        let end = (period.end + chrono::Duration::days(1))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp();
        let (active, inactive): (i64, i64) = self
            .conn
            .query_row(
                "SELECT coalesce(sum(active), 0), coalesce(sum(1 - active), 0) FROM records
                 WHERE import_id = ?1 AND bucket_start >= ?2 AND bucket_start < ?3",
                params![id, start, end],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(self.err())?;
        let stored = report.counts.accepted;
        report.counts.accepted = active as u64;
        report.counts.duplicate = inactive as u64 + report.rejected_seen_before;
        report.counts.outside_period = stored.saturating_sub((active + inactive) as u64);
        // The money the import booked as accepted or adjustment (it read every date) splits
        // into this period's active and duplicate records and the rest, outside the period.
        let mut stmt = self
            .conn
            .prepare(
                "SELECT coalesce(currency, 'USD'), active, kind = 'adjustment', sum(cost) FROM records
                 WHERE import_id = ?1 AND bucket_start >= ?2 AND bucket_start < ?3 AND cost IS NOT NULL
                 GROUP BY 1, 2, 3",
            )
            .map_err(self.err())?;
        let sums = stmt
            .query_map(params![id, start, end], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)? != 0,
                    r.get::<_, i64>(2)? != 0,
                    r.get::<_, f64>(3)?,
                ))
            })
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        for b in report.money.values_mut() {
            b.outside_period += b.accepted + b.adjustments;
            b.accepted = 0.0;
            b.adjustments = 0.0;
        }
        for (currency, active, adjustment, sum) in sums {
            let b = report.money.entry(currency).or_default();
            b.outside_period -= sum;
            match (active, adjustment) {
                (true, true) => b.adjustments += sum,
                (true, false) => b.accepted += sum,
                (false, _) => b.duplicate += sum,
            }
        }
        Ok(report)
    }

    /// The change log, oldest first.
    pub fn changes(&self) -> Result<Vec<Change>> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, import_id, kind, month, detail FROM changes ORDER BY id")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Change {
                    at: r.get(0)?,
                    import_id: r.get(1)?,
                    kind: r.get(2)?,
                    month: r.get(3)?,
                    detail: readable_detail(&r.get::<_, String>(4)?),
                })
            })
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// The ids of the imports in use now.
    pub fn active_imports(&self) -> Result<BTreeSet<i64>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM imports WHERE removed_at IS NULL")
            .map_err(self.err())?;
        let ids = stmt
            .query_map([], |r| r.get::<_, i64>(0))
            .map_err(self.err())?
            .collect::<std::result::Result<BTreeSet<_>, _>>()
            .map_err(self.err())?;
        Ok(ids)
    }

    /// Records the stated totals of a period (`report --final`) and returns its number.
    pub fn record_statement(&mut self, period: &Period, s: &Statement) -> Result<i64> {
        let pending = self.begin_statement(period, s)?;
        let id = pending.id();
        pending.commit()?;
        Ok(id)
    }

    /// Starts recording a final statement: takes the ledger's write lock (waiting for another
    /// writer like every write), inserts the statement and returns it numbered, not yet
    /// committed. [`PendingStatement::commit`] records it; dropping it records nothing. A
    /// report writes the statement's number into its outputs in between, and moves them into
    /// place only once the statement is recorded.
    pub fn begin_statement(
        &mut self,
        period: &Period,
        s: &Statement,
    ) -> Result<PendingStatement<'_>> {
        self.refuse_read_only()?;
        let shown = self.path.display().to_string();
        let e = |source| sql_err(&shown, source);
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(e)?;
        let mut pending = PendingStatement {
            ledger: self,
            id: 0,
            done: false,
        };
        pending
            .ledger
            .conn
            .execute(
                "INSERT INTO statements(period_label, period_start, period_end, stated_at, factor_version,
                    factor_sha256, imports, kgco2e_low, kgco2e_central, kgco2e_high, energy_kwh,
                    input_tokens, output_tokens, accepted_gaps)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    period.label,
                    period.start.to_string(),
                    period.end.to_string(),
                    s.stated_at,
                    s.factor_version,
                    s.factor_sha256,
                    s.imports.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","),
                    s.kgco2e[0],
                    s.kgco2e[1],
                    s.kgco2e[2],
                    s.energy_kwh,
                    s.tokens[0] as i64,
                    s.tokens[1] as i64,
                    s.accepted_gaps,
                ],
            )
            .map_err(e)?;
        pending.id = pending.ledger.conn.last_insert_rowid();
        Ok(pending)
    }

    /// Withdraws a statement this process has just recorded, when the outputs that name it
    /// could not be put in place (best effort; the caller reports the failure).
    pub fn withdraw_statement(&mut self, id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM statements WHERE id = ?1", params![id])
            .map_err(self.err())?;
        self.checkpoint();
        Ok(())
    }

    /// The last final statement of exactly this period, if any.
    pub fn last_statement(&self, period: &Period) -> Result<Option<Statement>> {
        self.conn
            .query_row(
                "SELECT period_label, stated_at, factor_version, factor_sha256, imports, kgco2e_low,
                        kgco2e_central, kgco2e_high, energy_kwh, input_tokens, output_tokens,
                        accepted_gaps, id
                 FROM statements WHERE period_start = ?1 AND period_end = ?2 ORDER BY id DESC LIMIT 1",
                params![period.start.to_string(), period.end.to_string()],
                |r| {
                    let imports: String = r.get(4)?;
                    Ok(Statement {
                        period_label: r.get(0)?,
                        stated_at: r.get(1)?,
                        factor_version: r.get(2)?,
                        factor_sha256: r.get(3)?,
                        imports: imports.split(',').filter_map(|i| i.parse().ok()).collect(),
                        kgco2e: [r.get(5)?, r.get(6)?, r.get(7)?],
                        energy_kwh: r.get(8)?,
                        tokens: [r.get::<_, i64>(9)? as u64, r.get::<_, i64>(10)? as u64],
                        accepted_gaps: r.get(11)?,
                        id: r.get(12)?,
                    })
                },
            )
            .optional()
            .map_err(self.err())
    }
}

fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ImportSummary> {
    Ok(ImportSummary {
        id: r.get(0)?,
        file: r.get(1)?,
        sha256: r.get(2)?,
        format: r.get(3)?,
        imported_at: r.get(4)?,
        first_date: r.get(5)?,
        last_date: r.get(6)?,
        bucket_secs: r.get(7)?,
        rows_read: r.get(8)?,
        accepted: r.get(9)?,
        duplicate: r.get(10)?,
        restated: r.get(11)?,
        removed_at: r.get(12)?,
        active: r.get(13)?,
    })
}

/// The most common bucket width of the usage records, in seconds.
fn typical_bucket(records: &[UsageRecord]) -> Option<i64> {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for r in records.iter().filter(|r| r.kind == RecordKind::Usage) {
        *counts
            .entry((r.bucket_end - r.bucket_start).num_seconds())
            .or_insert(0) += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(w, n)| (*n, *w))
        .map(|(w, _)| w)
}

/// Refuses an export of another granularity over a period an active import of the same
/// format and account already covers (daily after monthly would double-count: their keys
/// differ). `Ok(message)` in the error is the refusal.
fn check_granularity(
    tx: &Transaction<'_>,
    report: &FileReport,
    bucket_secs: Option<i64>,
    accounts: &[String],
    replace: Option<i64>,
) -> std::result::Result<(), std::result::Result<String, rusqlite::Error>> {
    let (Some(first), Some(last), Some(width)) = (report.first_date, report.last_date, bucket_secs)
    else {
        return Ok(());
    };
    let mut stmt = tx
        .prepare(
            "SELECT id, file, bucket_secs, accounts, first_date, last_date FROM imports
             WHERE removed_at IS NULL AND format = ?1 AND first_date <= ?2 AND last_date >= ?3
               AND bucket_secs IS NOT NULL AND bucket_secs <> ?4",
        )
        .map_err(Err)?;
    let rows = stmt
        .query_map(
            params![report.format, last.to_string(), first.to_string(), width],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            },
        )
        .map_err(Err)?;
    for row in rows {
        let (id, file, other_width, other_accounts) = row.map_err(Err)?;
        if Some(id) == replace {
            continue;
        }
        let other: BTreeSet<&str> = other_accounts
            .split('\u{1f}')
            .filter(|a| !a.is_empty())
            .collect();
        let mine: BTreeSet<&str> = accounts.iter().map(String::as_str).collect();
        if !other.is_empty() && !mine.is_empty() && other.is_disjoint(&mine) {
            continue;
        }
        return Err(Ok(format!(
            "{} has buckets of {} but import #{id} ({file}) covers the same period with buckets of {}: \
             the two cannot be matched row by row and would double-count. \
             Import it with --replace {id} to supersede #{id}, or remove #{id} first.",
            report.file,
            width_text(width),
            width_text(other_width)
        )));
    }
    Ok(())
}

fn width_text(secs: i64) -> String {
    match secs {
        60 => "1 minute".into(),
        3600 => "1 hour".into(),
        86400 => "1 day".into(),
        s if s % 86400 == 0 => format!("{} days", s / 86400),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s => format!("{s} seconds"),
    }
}

fn insert_records(
    tx: &Transaction<'_>,
    import_id: i64,
    records: &[UsageRecord],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare(
        "INSERT INTO records(import_id, record_key, active, sheet, row, bucket_start, bucket_end, provider,
            model, region, region_scope, cost_centre, requests, input_tokens, cached_input_tokens,
            output_tokens, input_characters, output_characters, cost, currency, kind, kind_label,
            kind_quantity, kind_unit, account, service, requests_reported)
         VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
            ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
    )?;
    for r in records {
        let (kind, label, quantity, unit) = match &r.kind {
            RecordKind::Usage => ("usage", None, None, None),
            RecordKind::NotEstimated {
                label,
                quantity,
                unit,
                spend_only,
            } => (
                if *spend_only {
                    "spend"
                } else {
                    "not_estimated"
                },
                Some(label.as_str()),
                Some(*quantity),
                Some(unit.as_str()),
            ),
            RecordKind::Adjustment { label } => ("adjustment", Some(label.as_str()), None, None),
        };
        stmt.execute(params![
            import_id,
            r.key,
            r.provenance.sheet.as_deref(),
            r.provenance.row as i64,
            r.bucket_start.timestamp(),
            r.bucket_end.timestamp(),
            &*r.provider,
            r.model,
            r.region,
            r.region_scope,
            r.cost_centre,
            r.requests as i64,
            r.input_tokens as i64,
            r.cached_input_tokens as i64,
            r.output_tokens as i64,
            r.input_characters as i64,
            r.output_characters as i64,
            r.cost,
            r.currency,
            kind,
            label,
            quantity,
            unit,
            r.account,
            r.service,
            i64::from(r.requests_reported),
        ])?;
    }
    Ok(())
}

/// Stores an import's rejected rows.
fn insert_rejections(
    tx: &Transaction<'_>,
    import_id: i64,
    rejections: &[crate::model::Rejection],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare(
        "INSERT INTO rejections(import_id, sheet, row, col, value, reason, row_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for r in rejections {
        stmt.execute(params![
            import_id,
            r.sheet,
            r.row as i64,
            r.column,
            r.value,
            r.reason,
            r.row_hash
        ])?;
    }
    Ok(())
}

/// Takes out of `rejections` the rows an active import already rejected (same cells), and
/// books them in `report` as duplicates: rows and money.
fn seen_before(
    tx: &Transaction<'_>,
    report: &mut FileReport,
    rejections: &mut Vec<crate::model::Rejection>,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare(
        "SELECT 1 FROM rejections r JOIN imports i ON i.id = r.import_id
         WHERE r.row_hash = ?1 AND i.removed_at IS NULL LIMIT 1",
    )?;
    let mut kept = Vec::with_capacity(rejections.len());
    for r in rejections.drain(..) {
        let seen = match &r.row_hash {
            Some(h) => stmt.exists(params![h])?,
            None => false,
        };
        if !seen {
            kept.push(r);
            continue;
        }
        report.counts.rejected = report.counts.rejected.saturating_sub(1);
        report.counts.duplicate += 1;
        report.rejected_seen_before += 1;
        if let Some((currency, amount)) = &r.money {
            let b = report.money.entry(currency.clone()).or_default();
            b.rejected -= amount;
            b.duplicate += amount;
        }
    }
    *rejections = kept;
    Ok(())
}

/// The identity of a vendor carbon row across imports, fields separated by U+001F.
fn carbon_row_key(r: &crate::model::CarbonRow) -> String {
    [
        r.template.as_str(),
        r.provider.as_str(),
        r.account.as_deref().unwrap_or(""),
        r.sub_account.as_deref().unwrap_or(""),
        r.service.as_str(),
        r.region.as_str(),
        r.month.as_str(),
        r.model_version.as_deref().unwrap_or(""),
    ]
    .join("\u{1f}")
}

/// Per-key sums compared between a new import and the active records: equal means duplicate.
const KEY_SUMS: &str =
    "sum(requests), sum(input_tokens), sum(cached_input_tokens), sum(output_tokens),
    sum(input_characters), sum(output_characters), round(coalesce(sum(cost), 0), 9), count(*),
    min(bucket_start)";

type Sums = (i64, i64, i64, i64, i64, i64, f64, i64, i64);

fn sums_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Sums> {
    Ok((
        r.get(at)?,
        r.get(at + 1)?,
        r.get(at + 2)?,
        r.get(at + 3)?,
        r.get(at + 4)?,
        r.get(at + 5)?,
        r.get(at + 6)?,
        r.get(at + 7)?,
        r.get(at + 8)?,
    ))
}

/// A record key as people read it: its fields separated by ` | `, the bucket's start and end
/// (the key's last two fields, Unix seconds) as UTC dates, `2026-01-15T00:00:00Z to
/// 2026-01-16T00:00:00Z`, in place of the export's start and end columns when those hold the
/// same seconds.
pub fn key_text(key: &str) -> String {
    let fields: Vec<&str> = key.split('\u{1f}').collect();
    readable_fields(&fields)
}

/// The fields of a key, the last two as UTC dates when they are Unix seconds.
fn readable_fields(fields: &[&str]) -> String {
    let stamp = |f: &str| {
        f.parse::<i64>()
            .ok()
            .and_then(|t| DateTime::from_timestamp(t, 0))
            .map(now_text)
    };
    if let [head @ .., a, b] = fields {
        if let (Some(from), Some(to)) = (stamp(a), stamp(b)) {
            // The export's own start and end columns, when they are among the key's columns
            // as the same seconds (or milliseconds), say the bucket again: left out.
            let again = |f: &&&str| {
                [*a, *b].iter().any(|t| {
                    **f == *t
                        || t.parse::<i64>()
                            .is_ok_and(|t| **f == (t * 1000).to_string())
                })
            };
            let mut out: Vec<String> = head
                .iter()
                .filter(|f| !again(f))
                .map(|f| f.to_string())
                .collect();
            out.push(format!("{from} to {to}"));
            return out.join(" | ");
        }
    }
    fields.join(" | ")
}

/// A change-log entry's text with the record key's Unix seconds as UTC dates: restatements
/// logged by earlier versions named the bucket as `1768435200 | 1768521600`.
fn readable_detail(detail: &str) -> String {
    const HEAD: &str = "the vendor restated ";
    const TAIL: &str = ": previously (import";
    let (Some(rest), Some(at)) = (detail.strip_prefix(HEAD), detail.find(TAIL)) else {
        return detail.to_string();
    };
    let key = &rest[..at - HEAD.len()];
    let fields: Vec<&str> = key.split(" | ").collect();
    format!("{HEAD}{}{}", readable_fields(&fields), &detail[at..])
}

/// Activates the new import's records: new keys directly; keys already active elsewhere are
/// duplicates (identical sums: stay inactive) or restatements (the newer import wins).
/// Returns (duplicate rows, restated rows).
fn resolve_keys(tx: &Transaction<'_>, import_id: i64, stamp: &str) -> rusqlite::Result<(i64, i64)> {
    // Keys no active record has: activate.
    tx.execute(
        "UPDATE records SET active = 1 WHERE import_id = ?1 AND record_key NOT IN
            (SELECT record_key FROM records WHERE active = 1 AND import_id <> ?1)",
        params![import_id],
    )?;
    let mut overlapping: Vec<(String, Sums, Sums)> = vec![];
    {
        let mut stmt = tx.prepare(&format!(
            "SELECT n.record_key, n.*, o.* FROM
                (SELECT record_key, {KEY_SUMS} FROM records WHERE import_id = ?1 AND active = 0 GROUP BY record_key) n
             JOIN (SELECT record_key AS k2, {KEY_SUMS} FROM records WHERE active = 1 AND import_id <> ?1 GROUP BY record_key) o
             ON o.k2 = n.record_key"
        ))?;
        let rows = stmt.query_map(params![import_id], |r| {
            Ok((r.get::<_, String>(0)?, sums_row(r, 2)?, sums_row(r, 12)?))
        })?;
        for row in rows {
            overlapping.push(row?);
        }
    }
    let (mut duplicate, mut restated) = (0, 0);
    for (key, new, old) in overlapping {
        let same = (new.0, new.1, new.2, new.3, new.4, new.5)
            == (old.0, old.1, old.2, old.3, old.4, old.5)
            && (new.6 - old.6).abs() < 1e-6;
        if same {
            duplicate += new.7;
            continue;
        }
        restated += new.7;
        let month = DateTime::from_timestamp(new.8, 0)
            .map(|d| d.format("%Y-%m").to_string())
            .unwrap_or_default();
        let previous: Vec<i64> = {
            let mut stmt = tx.prepare(
                "SELECT DISTINCT import_id FROM records WHERE record_key = ?1 AND active = 1 AND import_id <> ?2",
            )?;
            let ids = stmt
                .query_map(params![key, import_id], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            ids
        };
        tx.execute(
            "UPDATE records SET active = 0 WHERE record_key = ?1 AND active = 1 AND import_id <> ?2",
            params![key, import_id],
        )?;
        tx.execute(
            "UPDATE records SET active = 1 WHERE record_key = ?1 AND import_id = ?2",
            params![key, import_id],
        )?;
        tx.execute(
            "INSERT INTO changes(at, import_id, kind, month, detail) VALUES (?1, ?2, 'restatement', ?3, ?4)",
            params![
                stamp,
                import_id,
                month,
                format!(
                    "the vendor restated {}: previously (import {}) {} input / {} output tokens, {:.2} cost; now {} input / {} output tokens, {:.2} cost",
                    key_text(&key),
                    previous.iter().map(|i| format!("#{i}")).collect::<Vec<_>>().join(", "),
                    old.1, old.3, old.6, new.1, new.3, new.6
                )
            ],
        )?;
    }
    Ok((duplicate, restated))
}

/// Removes an import inside a transaction: its records stop counting, and for each of its
/// keys the records it had superseded (the latest earlier import's) count again.
fn remove_in(tx: &Transaction<'_>, id: i64, stamp: &str, kind: &str) -> rusqlite::Result<()> {
    let keys: Vec<String> = {
        let mut stmt = tx.prepare(
            "SELECT DISTINCT record_key FROM records WHERE import_id = ?1 AND active = 1",
        )?;
        let keys = stmt
            .query_map(params![id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        keys
    };
    let (rows, first, last): (i64, Option<String>, Option<String>) = tx.query_row(
        "SELECT (SELECT count(*) FROM records WHERE import_id = ?1 AND active = 1), first_date, last_date FROM imports WHERE id = ?1",
        params![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    tx.execute(
        "UPDATE records SET active = 0 WHERE import_id = ?1",
        params![id],
    )?;
    // Vendor carbon rows: the most recent other import of each key counts again.
    let carbon_keys: Vec<String> = {
        let mut stmt = tx.prepare(
            "SELECT DISTINCT row_key FROM supplier_rows WHERE import_id = ?1 AND active = 1",
        )?;
        let keys = stmt
            .query_map(params![id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        keys
    };
    tx.execute(
        "UPDATE supplier_rows SET active = 0 WHERE import_id = ?1",
        params![id],
    )?;
    tx.execute(
        "UPDATE imports SET removed_at = ?1 WHERE id = ?2",
        params![stamp, id],
    )?;
    let mut restored = 0;
    for key in carbon_keys {
        let other: Option<i64> = tx
            .query_row(
                "SELECT max(s.import_id) FROM supplier_rows s JOIN imports i ON i.id = s.import_id
                 WHERE s.row_key = ?1 AND i.removed_at IS NULL AND s.import_id != ?2",
                params![key, id],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        if let Some(other) = other {
            restored += tx.execute(
                "UPDATE supplier_rows SET active = 1 WHERE row_key = ?1 AND import_id = ?2",
                params![key, other],
            )?;
        }
    }
    for key in keys {
        // The most recent other import that holds this key and is not removed.
        let other: Option<i64> = tx
            .query_row(
                "SELECT max(r.import_id) FROM records r JOIN imports i ON i.id = r.import_id
                 WHERE r.record_key = ?1 AND i.removed_at IS NULL",
                params![key],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        if let Some(other) = other {
            restored += tx.execute(
                "UPDATE records SET active = 1 WHERE record_key = ?1 AND import_id = ?2",
                params![key, other],
            )?;
        }
    }
    tx.execute(
        "INSERT INTO changes(at, import_id, kind, month, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            stamp,
            id,
            kind,
            first.as_deref().map(|d| d.get(..7).unwrap_or(d).to_string()),
            format!(
                "import #{id} ({} to {}) no longer counts: {rows} record(s) withdrawn, {restored} earlier record(s) count again",
                first.unwrap_or_default(),
                last.unwrap_or_default()
            )
        ],
    )?;
    Ok(())
}
