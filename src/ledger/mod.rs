//! The ledger: it remembers every import, so that monthly uploads and overlapping
//! re-downloads never double-count. It lives in an embedded SQLite file (rusqlite, bundled;
//! the default) or in a PostgreSQL database (`--ledger postgres://...`, the `postgres` crate):
//! one [`Ledger`] with the same methods, queries and schema versions on both ([`Location`]
//! says which; `db.rs` is the one connection type the logic below is written against,
//! `sqlite.rs` and `postgres.rs` what only one of them has).
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
//! transaction that first takes the ledger's write lock (SQLite: `BEGIN IMMEDIATE`;
//! PostgreSQL: a transaction-level advisory lock), the schema is set up or migrated under that
//! lock after checking the version again, and an import checks its file's SHA-256 again inside
//! its transaction (a partial unique index holds one active import per SHA-256); a writer
//! waits up to [`WAIT_LIMIT`] for another, saying so on stderr. Readers never wait for the
//! writer (SQLite: WAL mode, set once and kept in the file; PostgreSQL: MVCC), and a report
//! reads in one read transaction ([`Ledger::snapshot`]), so it sees the ledger before or after
//! an import.
//!
//! A ledger is recognised before anything is written to it. A file: the SQLite header,
//! [`APPLICATION_ID`] (set on creation, and on a ledger of schema 1-3 whose meta table and
//! tables prove it ours) and the meta table's schema version; `PRAGMA quick_check` runs on
//! every open; a file whose permissions allow no writing is opened read-only, even by root. A
//! PostgreSQL database: its marker table `llm_scope3_ledger` and the meta table's schema
//! version; a database whose schema holds tables but no marker table is refused.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{Period, Provenance, RecordKind, Rejection, UsageRecord};
use crate::normalise::{FileReport, NormaliseError};

mod access;
mod copy;
pub(crate) mod db;
mod location;
mod password;
#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;

pub use access::{normal_user_name, Actor, AuditEntry, Role, User};
pub use copy::{copy, Copied};
use db::{vals, Begin, Db, DbError, DbResult, Dialect, Row, Sum};
pub use location::{Location, PgUrl, LEDGER_ENV};
pub use password::{PasswordHash, PasswordRefused};
pub use sqlite::damage_report;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 7;

/// The marker of an llm-scope3 ledger in the SQLite header (`PRAGMA application_id`): "LS3L".
/// A PostgreSQL ledger holds it in its marker table.
pub const APPLICATION_ID: i32 = 0x4C53_334C;

/// The default ledger file.
pub const DEFAULT_PATH: &str = "llm-scope3.db";

/// A ledger problem. `path` is the ledger as shown: a file's path, or a PostgreSQL URL
/// without its password.
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
    /// The database server (or a query's result) failed.
    #[error("ledger {path}: {why}")]
    Database {
        /// The ledger.
        path: String,
        /// The server's message.
        why: String,
    },
    /// The PostgreSQL server cannot be reached or refuses the connection.
    #[error("cannot connect to ledger {path}: {why}")]
    CannotConnect {
        /// The ledger (its URL without the password).
        path: String,
        /// Why.
        why: String,
    },
    /// The ledger was written by a newer version.
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
    /// The file or database is not a ledger (another application's database, or not SQLite
    /// at all).
    #[error(
        "{path} is not an llm-scope3 ledger ({why}): name another {}; nothing was written to it",
        other_kind(path)
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
    #[error(
        "ledger {path} is read-only ({why}): nothing was written or recorded. {}",
        read_only_hint(path)
    )]
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
    #[error("cannot create ledger {path}: {why}; {}", left_behind(path))]
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

/// Whether a shown ledger is a PostgreSQL URL.
fn is_url(shown: &str) -> bool {
    let lower = shown.get(..13).unwrap_or(shown).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

fn other_kind(shown: &str) -> &'static str {
    if is_url(shown) {
        "database (or schema)"
    } else {
        "file"
    }
}

fn read_only_hint(shown: &str) -> String {
    if is_url(shown) {
        "Connect as a user that may write to it, or name another ledger".into()
    } else {
        format!("Make it writable (chmod u+w {shown}) or name another ledger")
    }
}

fn left_behind(shown: &str) -> &'static str {
    if is_url(shown) {
        "nothing was left in the database"
    } else {
        "no file was left behind"
    }
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
            | LedgerError::Database { .. }
            | LedgerError::CannotConnect { .. }
            | LedgerError::ReadOnly { .. }
            | LedgerError::Busy { .. }
            | LedgerError::Io { .. }
            | LedgerError::CannotCreate { .. } => 1,
        }
    }
}

/// Classifies a database error of either backend into the plain-words ledger errors.
fn db_err(location: &Location, shown: &str, e: DbError) -> LedgerError {
    match e {
        DbError::Sqlite(source) => sqlite::sql_err(shown, source),
        #[cfg(feature = "postgres")]
        DbError::Postgres(source) => match location {
            Location::Postgres(url) => postgres::pg_err(shown, url, &source),
            Location::File(_) => LedgerError::Database {
                path: shown.to_string(),
                why: source.to_string(),
            },
        },
        DbError::Other(why) => {
            let _ = location;
            LedgerError::Database {
                path: shown.to_string(),
                why,
            }
        }
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
    /// The reporting entity `import --entity` named for the whole file (records assigned by
    /// the config file's rules name theirs one by one: [`Ledger::entity_counts`]).
    pub entity: Option<String>,
}

/// Which records a query reads, by reporting entity (schema version 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityFilter<'a> {
    /// Every record, whatever its entity (the group, or a ledger without entities).
    All,
    /// The records of one entity.
    Named(&'a str),
    /// The records assigned to no entity (they count in the group only).
    Unassigned,
}

impl EntityFilter<'_> {
    /// The condition on `{alias}.entity`, the entity's name being parameter `?{n}`.
    fn condition(&self, alias: &str, n: usize) -> String {
        match self {
            EntityFilter::All => String::new(),
            EntityFilter::Named(_) => format!(" AND {alias}.entity = ?{n}"),
            EntityFilter::Unassigned => format!(" AND {alias}.entity IS NULL"),
        }
    }

    /// The entity's name, the parameter of [`EntityFilter::condition`], if it has one.
    fn name(&self) -> Option<&str> {
        match self {
            EntityFilter::Named(n) => Some(n),
            _ => None,
        }
    }
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

/// How a file read into [`Importing`] ended: a usage export's report and rejected rows (its
/// records went in one by one), or a vendor carbon report, whole, with the reporting entity of
/// each of its rows (`None`: none; missing entries are `None`).
pub enum ImportEnd {
    /// A usage export.
    Usage {
        /// The file's report (its SHA-256 identifies the bytes).
        report: FileReport,
        /// Rejected rows.
        rejections: Vec<Rejection>,
    },
    /// A vendor carbon report.
    Carbon(crate::normalise::carbon::CarbonFile, Vec<Option<String>>),
}

/// One file being imported, its records written as they are read ([`Ledger::importing`]).
pub struct Importing<'a> {
    ledger: &'a Ledger,
    name: String,
    /// The file's SHA-256.
    pub sha: String,
    replace: Option<i64>,
    now: DateTime<Utc>,
    stamp: String,
    /// The open write transaction and the import's id, from the first record on; `Err` holds
    /// the id of an active import of the same bytes, found under the lock (nothing is
    /// written then).
    open: Option<std::result::Result<(db::Tx<'a>, i64), i64>>,
    /// The reporting entity named for the whole file (`import --entity`), kept on the import.
    entity: Option<String>,
    /// Records held for the next batch, each with its reporting entity.
    batch: Vec<(UsageRecord, Option<String>)>,
    /// Usage records per bucket width in seconds: the file's typical granularity.
    widths: HashMap<i64, u64>,
    stored: u64,
}

impl<'a> Importing<'a> {
    /// Names the reporting entity of the whole file (`import --entity NAME`), recorded on the
    /// import; each record's own entity is given to [`Importing::add_for`].
    pub fn for_entity(mut self, entity: Option<&str>) -> Self {
        self.entity = entity.map(str::to_string);
        self
    }

    /// Takes one accepted record (with its ledger key), of no reporting entity.
    pub fn add(&mut self, r: UsageRecord) -> Result<()> {
        self.add_for(r, None)
    }

    /// Takes one accepted record (with its ledger key) of the reporting entity `entity`
    /// (`None`: no entity; the record counts in the group's report only).
    pub fn add_for(&mut self, r: UsageRecord, entity: Option<&str>) -> Result<()> {
        if r.kind == RecordKind::Usage {
            *self
                .widths
                .entry((r.bucket_end - r.bucket_start).num_seconds())
                .or_insert(0) += 1;
        }
        self.batch.push((r, entity.map(str::to_string)));
        if self.batch.len() >= RECORDS_PER_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// The active import that already holds these bytes, found under the write lock once the
    /// first records came: the rest of the file need not be read.
    pub fn already_imported(&self) -> Option<i64> {
        match self.open {
            Some(Err(id)) => Some(id),
            _ => None,
        }
    }

    /// Takes the write lock, checks the bytes are not imported already and the import to
    /// replace exists, and adds the import's row (completed by `finish`).
    fn open(&mut self) -> Result<()> {
        if self.open.is_some() {
            return Ok(());
        }
        let l = self.ledger;
        let e = l.err();
        // The write lock, for the whole import: another import of the same ledger waits here
        // (saying so), then finds this one's file already imported.
        let tx = l.db.write(&l.shown).map_err(&e)?;
        if let Some(id) = Ledger::active_with_sha(&tx, &self.sha).map_err(&e)? {
            drop(tx);
            self.open = Some(Err(id));
            return Ok(());
        }
        if let Some(old) = self.replace {
            let exists = tx
                .query_one(
                    "SELECT count(*) FROM imports WHERE id = ?1 AND removed_at IS NULL",
                    vals![old],
                    |r| r.int(0),
                )
                .map_err(&e)?
                > 0;
            if !exists {
                return Err(LedgerError::NoSuchImport(old));
            }
        }
        let import_id = tx
            .insert(
                "INSERT INTO imports(file, sha256, format, template, imported_at, accounts, rows_read,
                    accepted, duplicate, restated, report_json, entity)
                 VALUES (?1, ?2, '', '', ?3, '', 0, 0, 0, 0, '', ?4)",
                vals![&self.name, &self.sha, &self.stamp, &self.entity],
            )
            .map_err(&e)?;
        self.open = Some(Ok((tx, import_id)));
        Ok(())
    }

    /// Writes the records held so far.
    fn flush(&mut self) -> Result<()> {
        self.open()?;
        let l = self.ledger;
        // Imported already (`Err`): nothing is written.
        if let Some(Ok((tx, id))) = &self.open {
            insert_records(tx, *id, &self.batch).map_err(l.err())?;
            self.stored += self.batch.len() as u64;
        }
        self.batch.clear();
        Ok(())
    }

    /// Ends the import: the file's report and rejections recorded, duplicates and
    /// restatements resolved, committed. A carbon report is imported whole here.
    pub fn finish(mut self, end: ImportEnd) -> Result<ImportResult> {
        let (mut report, mut rejections) = match end {
            ImportEnd::Usage { report, rejections } => (report, rejections),
            ImportEnd::Carbon(c, entities) => {
                if self.open.is_some() || !self.batch.is_empty() {
                    return Err(LedgerError::Refused(format!(
                        "{}: usage records and a vendor carbon report in one file",
                        self.name
                    )));
                }
                let sha = c.report.sha256.clone();
                let carbon = CarbonImport {
                    name: &self.name,
                    sha: &sha,
                    entity: self.entity.as_deref(),
                    entities: &entities,
                };
                return self.ledger.import_carbon(carbon, c, self.now);
            }
        };
        if self.sha.is_empty() {
            self.sha = report.sha256.clone();
        }
        self.flush()?;
        let l = self.ledger;
        let e = l.err();
        let (tx, import_id) = match self.open.take() {
            Some(Ok(open)) => open,
            Some(Err(id)) => return Ok(ImportResult::AlreadyImported(l.summary(id)?)),
            // `flush` opened it.
            None => {
                return Err(LedgerError::Refused(format!(
                    "{}: the import was not started",
                    self.name
                )))
            }
        };
        // A warehouse query's result sums each day's rows (`llm-scope3 sql`): its granularity
        // is the day, whatever span the day's first start and last end give a row.
        let bucket_secs = match report.warehouse {
            Some(_) => Some(86_400),
            None => self
                .widths
                .iter()
                .max_by_key(|(w, n)| (**n, **w))
                .map(|(w, _)| *w),
        };
        let accounts: Vec<String> = report.accounts.iter().cloned().collect();
        check_granularity(&tx, &report, bucket_secs, &accounts, self.replace).map_err(
            |r| match r {
                Ok(msg) => LedgerError::Refused(msg),
                Err(source) => e(source),
            },
        )?;
        if let Some(old) = self.replace {
            remove_in(&tx, old, &self.stamp, "replaced import").map_err(&e)?;
        }
        // A bad row an active import already holds (an overlapping re-download) counts once:
        // here it is a duplicate, not a second rejection.
        seen_before(&tx, &mut report, &mut rejections).map_err(&e)?;
        let report_json = serde_json::to_string(&report).unwrap_or_default();
        let (first, last) = (
            report.first_date.map(|d| d.to_string()),
            report.last_date.map(|d| d.to_string()),
        );
        tx.execute(
            "UPDATE imports SET format = ?1, template = ?2, first_date = ?3, last_date = ?4,
                bucket_secs = ?5, accounts = ?6, rows_read = ?7, accepted = ?8, report_json = ?9
             WHERE id = ?10",
            vals![
                &report.format,
                &report.template,
                &first,
                &last,
                bucket_secs,
                &accounts.join("\u{1f}"),
                report.counts.read as i64,
                self.stored as i64,
                &report_json,
                import_id,
            ],
        )
        .map_err(&e)?;
        if let Some(old) = self.replace {
            tx.execute(
                "UPDATE imports SET replaced_by = ?1 WHERE id = ?2",
                vals![import_id, old],
            )
            .map_err(&e)?;
        }
        insert_rejections(&tx, import_id, &rejections).map_err(&e)?;
        let (duplicate, restated) = resolve_keys(&tx, import_id, &self.stamp).map_err(&e)?;
        tx.execute(
            "UPDATE imports SET duplicate = ?1, restated = ?2 WHERE id = ?3",
            vals![duplicate, restated, import_id],
        )
        .map_err(&e)?;
        let replaced = self
            .replace
            .map(|old| format!(", replacing import #{old}"))
            .unwrap_or_default();
        access::audit_in(
            &tx,
            &l.actor,
            "import",
            &format!(
                "import #{import_id}: {} ({}, SHA-256 {}), {} record(s) stored ({duplicate} duplicate, {restated} restated), {} row(s) rejected{replaced}",
                self.name, report.format, report.sha256, self.stored, report.counts.rejected
            ),
            &self.stamp,
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)?;
        drop(e);
        l.checkpoint();
        Ok(ImportResult::Imported(
            l.summary(import_id)?,
            Box::new(report),
        ))
    }
}

/// What [`Ledger::import_carbon`] records a vendor carbon report as: its name and SHA-256, the
/// entity named for the whole file and each row's entity (by position; missing: none).
struct CarbonImport<'a> {
    name: &'a str,
    sha: &'a str,
    entity: Option<&'a str>,
    entities: &'a [Option<String>],
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
    /// The reporting entity it states (`report --final --entity NAME`); `None`: the whole
    /// ledger, i.e. the group (and every statement made before schema version 6).
    pub entity: Option<String>,
}

/// An open ledger.
pub struct Ledger {
    db: Db,
    location: Location,
    /// The ledger as shown in messages (a URL without its password).
    shown: String,
    /// Opened read-only: the file's permissions allow no writing, or the database user may
    /// not write (why).
    read_only: Option<String>,
    /// Who the changes made through this connection are recorded as in the audit log
    /// ([`Ledger::set_actor`]).
    actor: Actor,
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
        self.ledger.db.commit().map_err(self.ledger.err())?;
        self.done = true;
        self.ledger.checkpoint();
        Ok(())
    }
}

impl Drop for PendingStatement<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.ledger.db.rollback();
        }
    }
}

/// How long a command waits for another process that is writing the ledger: a large import
/// takes minutes on a slow machine.
pub const WAIT_LIMIT: Duration = Duration::from_secs(600);

/// After waiting this long, say on stderr what we are waiting for.
const WAIT_TELL_AFTER: Duration = Duration::from_millis(300);

/// Says on stderr that a writer waits for another.
fn say_waiting(shown: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "waiting for another process to finish writing ledger {shown} (another llm-scope3 import, removal or final statement): up to {} minutes",
        WAIT_LIMIT.as_secs() / 60
    );
}

/// The tables every ledger holds since schema version 1.
const LEDGER_TABLES: [&str; 6] = [
    "changes",
    "imports",
    "meta",
    "records",
    "rejections",
    "statements",
];

/// What a database holds, as far as the ledger is concerned.
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

/// "it holds tables a, b" for messages.
fn holds(tables: &[String]) -> String {
    match tables.len() {
        0 => "it holds no tables".to_string(),
        1 => format!("it holds table {}", tables[0]),
        n if n <= 8 => format!("it holds tables {}", tables.join(", ")),
        n => format!("it holds {n} tables: {}, ...", tables[..8].join(", ")),
    }
}

/// Recognises a ledger by its marker (SQLite: `PRAGMA application_id`; PostgreSQL: the
/// marker table) and its meta table's schema version; an SQLite ledger made before the marker
/// existed by its meta table and tables. A PostgreSQL schema with tables but no marker is
/// never taken for a ledger.
fn classify(db: &Db, location: &Location, shown: &str) -> Result<State> {
    let e = |source| db_err(location, shown, source);
    let (tables, marked) = match db {
        Db::Sqlite(c) => sqlite::tables_and_marker(c, shown)?,
        #[cfg(feature = "postgres")]
        Db::Postgres(_) => postgres::tables_and_marker(db).map_err(e)?,
    };
    let holds = holds(&tables);
    if tables.is_empty() {
        if marked {
            return Err(LedgerError::Damaged {
                path: shown.to_string(),
                why: "it is marked as an llm-scope3 ledger but holds no tables".into(),
            });
        }
        return Ok(State::Empty);
    }
    let version: Option<i64> = if tables.iter().any(|t| t == "meta") {
        db.query_opt(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            &[],
            |r| r.text(0),
        )
        .map_err(e)?
        .and_then(|v| v.trim().parse().ok())
    } else {
        None
    };
    let ours = LEDGER_TABLES.iter().all(|t| tables.iter().any(|x| x == t));
    if db.dialect() == Dialect::Postgres && !marked {
        return Err(LedgerError::NotALedger {
            path: shown.to_string(),
            why: if ours {
                format!("its schema holds the tables of an llm-scope3 ledger but not its marker table {}: a partial copy? Restore the whole ledger, or copy it with `llm-scope3 ledger copy`", "llm_scope3_ledger")
            } else {
                format!("{holds}, and no llm-scope3 marker table llm_scope3_ledger")
            },
        });
    }
    match version {
        Some(v) if v > SCHEMA_VERSION && (marked || ours) => Err(LedgerError::Newer {
            path: shown.to_string(),
            found: v,
        }),
        Some(v) if v >= 1 && ours => Ok(if marked && v == SCHEMA_VERSION {
            State::Current
        } else {
            State::Upgrade(v)
        }),
        _ if marked => {
            Err(LedgerError::Damaged {
                path: shown.to_string(),
                why: if version.is_none() {
                    format!("it is marked as an llm-scope3 ledger but has no schema version (its meta table is missing or empty); {holds}")
                } else {
                    format!("it is marked as an llm-scope3 ledger but lacks some of its tables; {holds}")
                },
            })
        }
        _ => Err(LedgerError::NotALedger {
            path: shown.to_string(),
            why: holds,
        }),
    }
}

/// The schema of each version, one script per version and backend, applied in order.
fn schema_scripts(dialect: Dialect) -> [&'static str; 7] {
    match dialect {
        Dialect::Sqlite => [
            include_str!("schema.sql"),
            include_str!("schema_v2.sql"),
            include_str!("schema_v3.sql"),
            include_str!("schema_v4.sql"),
            include_str!("schema_v5.sql"),
            include_str!("schema_v6.sql"),
            include_str!("schema_v7.sql"),
        ],
        Dialect::Postgres => [
            include_str!("schema.pg.sql"),
            include_str!("schema_v2.pg.sql"),
            include_str!("schema_v3.pg.sql"),
            include_str!("schema_v4.pg.sql"),
            include_str!("schema_v5.pg.sql"),
            include_str!("schema_v6.pg.sql"),
            include_str!("schema_v7.pg.sql"),
        ],
    }
}

/// Creates the schema from `version` up to [`SCHEMA_VERSION`] and sets the marker, inside the
/// caller's write transaction.
fn set_up(db: &Db, version: i64) -> DbResult<()> {
    let [v1, v2, v3, v4, v5, v6, v7] = schema_scripts(db.dialect());
    if version < 1 {
        // The PostgreSQL script also makes the marker table: a PostgreSQL ledger is marked
        // from the start.
        db.batch(v1)?;
    }
    if version < 2 {
        // Version 2: account and service per record, and vendor carbon report rows.
        db.batch(v2)?;
    }
    if version < 3 {
        // Version 3: accepted gaps of a final statement, rejected rows' content hash.
        db.batch(v3)?;
    }
    if version < 4 {
        // Version 4: one active import per file content. Earlier versions could import the
        // same file twice when two imports ran at once: the later copies are withdrawn first.
        withdraw_duplicate_imports(db)?;
        db.batch(v4)?;
    }
    if version < 5 {
        // Version 5: whether each record's row gave a request count.
        db.batch(v5)?;
    }
    if version < 6 {
        // Version 6: the reporting entity of records, carbon rows, imports and statements.
        db.batch(v6)?;
    }
    if version < 7 {
        // Version 7: the upload page's users (roles, Argon2id password hashes) and the audit
        // log of who imported, removed, stated final and signed in.
        db.batch(v7)?;
    }
    if let Some(c) = db.sqlite() {
        c.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    db.execute(
        "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        vals![&SCHEMA_VERSION.to_string()],
    )?;
    Ok(())
}

/// Withdraws every active import whose file (SHA-256) an earlier active import holds, as
/// `imports remove` would, logged in the change log.
fn withdraw_duplicate_imports(db: &Db) -> DbResult<()> {
    let ids = db.query_vec(
        "SELECT i.id FROM imports i WHERE i.removed_at IS NULL AND EXISTS
            (SELECT 1 FROM imports j WHERE j.sha256 = i.sha256 AND j.removed_at IS NULL AND j.id < i.id)
         ORDER BY i.id",
        &[],
        |r| r.int(0),
    )?;
    let stamp = now_text(Utc::now());
    for id in ids {
        remove_in(db, id, &stamp, "removed duplicate import")?;
    }
    Ok(())
}

/// A consistent view of the ledger: until dropped, every query sees it as of the first one,
/// never half of an import that commits meanwhile.
pub struct Snapshot<'a>(Option<&'a Db>);

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        if let Some(db) = self.0 {
            let _ = db.commit();
        }
    }
}

/// What `imports verify` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    /// What was checked, in words ("SQLite's full integrity check and foreign key check").
    pub checks: String,
    /// The checks' findings; empty when sound.
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

impl Ledger {
    /// Opens the ledger file at `path` for writing, creating it when absent and upgrading one
    /// made by an earlier version. Refuses, before writing anything, a file that is not a
    /// ledger, a damaged one, and one that cannot be written.
    pub fn open(path: &Path) -> Result<Ledger> {
        Ledger::open_at(&Location::File(path.to_path_buf()))
    }

    /// Opens an existing ledger file (never creates one), read-only when its file permissions
    /// allow no writing (honoured even for root).
    pub fn open_existing(path: &Path) -> Result<Ledger> {
        Ledger::open_existing_at(&Location::File(path.to_path_buf()))
    }

    /// [`Ledger::open`] for a file or a PostgreSQL database. A database is never created (it
    /// must exist); a ledger is set up in it when its schema holds no table.
    pub fn open_at(location: &Location) -> Result<Ledger> {
        let shown = location.shown();
        if let Location::File(path) = location {
            if !path.exists() {
                sqlite::create(path, &shown)?;
            }
        }
        let ledger = Ledger::connect(location, shown, true)?;
        ledger.refuse_read_only()?;
        Ok(ledger)
    }

    /// [`Ledger::open_existing`] for a file or a PostgreSQL database: a database whose schema
    /// holds no ledger is "no ledger", and nothing is set up in it.
    pub fn open_existing_at(location: &Location) -> Result<Ledger> {
        let shown = location.shown();
        if let Location::File(path) = location {
            if !path.exists() {
                return Err(LedgerError::NotFound(shown));
            }
        }
        Ledger::connect(location, shown, false)
    }

    fn connect(location: &Location, shown: String, create: bool) -> Result<Ledger> {
        match location {
            Location::File(path) => {
                let opened = sqlite::open(path, &shown, create)?;
                let ledger = Ledger {
                    db: Db::Sqlite(opened.conn),
                    location: location.clone(),
                    shown,
                    read_only: opened
                        .read_only
                        .then(|| "its file permissions allow no writing".to_string()),
                    actor: Actor::unnamed(),
                };
                let state = if opened.empty {
                    State::Empty
                } else {
                    let state = classify(&ledger.db, location, &ledger.shown)?;
                    if let Some(c) = ledger.db.sqlite() {
                        sqlite::quick_check(c, &ledger.shown)?;
                    }
                    state
                };
                ledger.settle(state)?;
                if !opened.read_only {
                    if let Some(c) = ledger.db.sqlite() {
                        sqlite::use_wal(c, &ledger.shown)?;
                    }
                }
                Ok(ledger)
            }
            #[cfg(feature = "postgres")]
            Location::Postgres(url) => {
                let conn = postgres::PgConn::connect(url, &shown)?;
                let mut ledger = Ledger {
                    db: Db::Postgres(Box::new(conn)),
                    location: location.clone(),
                    shown,
                    read_only: None,
                    actor: Actor::unnamed(),
                };
                let state = classify(&ledger.db, location, &ledger.shown)?;
                match state {
                    State::Empty if !create => {
                        return Err(LedgerError::NotFound(format!(
                            "{} (the database holds no ledger)",
                            ledger.shown
                        )))
                    }
                    State::Empty => {}
                    State::Current | State::Upgrade(_) => {
                        ledger.read_only = postgres::read_only(&ledger.db).map_err(ledger.err())?;
                    }
                }
                ledger.settle(state)?;
                Ok(ledger)
            }
            #[cfg(not(feature = "postgres"))]
            Location::Postgres(_) => {
                let _ = create;
                Err(LedgerError::CannotConnect {
                    path: shown,
                    why: "this build of llm-scope3 has no PostgreSQL support (it was built without the `postgres` feature)".into(),
                })
            }
        }
    }

    /// Sets up or upgrades the schema when `state` asks for it (never in a read-only ledger).
    fn settle(&self, state: State) -> Result<()> {
        match state {
            State::Current => Ok(()),
            State::Empty | State::Upgrade(_) => {
                if let Err(LedgerError::ReadOnly { path, why }) = self.refuse_read_only() {
                    let need = match state {
                        State::Upgrade(v) => format!("and it must first be upgraded from schema version {v} to {SCHEMA_VERSION}, which writes to it"),
                        _ => "and it is empty: a new ledger would be set up in it".into(),
                    };
                    return Err(LedgerError::ReadOnly {
                        path,
                        why: format!("{why}, {need}"),
                    });
                }
                self.upgrade()
            }
        }
    }

    /// Creates or upgrades the schema under the write lock, re-checking inside it: of two
    /// processes opening a new or old ledger at once, one does it and the other finds it done.
    fn upgrade(&self) -> Result<()> {
        let e = self.err();
        let tx = self.db.write(&self.shown).map_err(&e)?;
        let version = match classify(&tx, &self.location, &self.shown)? {
            State::Current => return Ok(()),
            State::Empty => 0,
            State::Upgrade(v) => v,
        };
        set_up(&tx, version).map_err(&e)?;
        tx.commit().map_err(&e)?;
        #[cfg(feature = "postgres")]
        if let Db::Postgres(c) = &self.db {
            c.forget_statements();
        }
        Ok(())
    }

    /// Refuses a ledger opened read-only (its permissions, or SQLite could only open it so,
    /// or the database user may not write).
    fn refuse_read_only(&self) -> Result<()> {
        if let Some(why) = &self.read_only {
            return Err(LedgerError::ReadOnly {
                path: self.shown.clone(),
                why: why.clone(),
            });
        }
        if let Some(c) = self.db.sqlite() {
            let sqlite_read_only = c
                .is_readonly(rusqlite::MAIN_DB)
                .map_err(|e| sqlite::sql_err(&self.shown, e))?;
            if sqlite_read_only {
                return Err(LedgerError::ReadOnly {
                    path: self.shown.clone(),
                    why: "the file or its folder cannot be written by this user".into(),
                });
            }
        }
        Ok(())
    }

    /// Checks, before any output is written, that something can be recorded: the ledger is
    /// writable, and its write lock can be taken (waiting for another writer) and a row
    /// written (then rolled back).
    pub fn check_writable(&mut self) -> Result<()> {
        self.refuse_read_only()?;
        let e = self.err();
        let tx = self.db.write(&self.shown).map_err(&e)?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ('write_check', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            vals![&now_text(Utc::now())],
        )
        .map_err(&e)?;
        drop(tx);
        Ok(())
    }

    /// Waits at most `limit` for another process writing the ledger (taking its write lock
    /// and letting it go at once): [`LedgerError::Busy`] when the wait ran out. Any other
    /// trouble is left to the ledger's own operations, which say it in their words.
    pub fn wait_for_writers(&self, limit: Duration) -> Result<()> {
        let free = match (&self.db, &self.location) {
            (Db::Sqlite(_), Location::File(path)) => sqlite::wait_for_writers(path, limit),
            #[cfg(feature = "postgres")]
            (Db::Postgres(c), _) => c.wait_for_writers(limit).unwrap_or(true),
            _ => true,
        };
        if free {
            Ok(())
        } else {
            Err(LedgerError::Busy {
                path: self.shown.clone(),
                secs: limit.as_secs(),
            })
        }
    }

    /// A consistent view for a report (see [`Snapshot`]).
    pub fn snapshot(&self) -> Result<Snapshot<'_>> {
        if self.db.in_transaction() {
            return Ok(Snapshot(None));
        }
        self.db
            .begin(Begin::Read, &self.shown)
            .map_err(self.err())?;
        let snapshot = Snapshot(Some(&self.db));
        // The read transaction (and its view) starts with the first read.
        self.db
            .query_one("SELECT count(*) FROM imports", &[], |r| r.int(0))
            .map_err(self.err())?;
        Ok(snapshot)
    }

    /// The ledger's checks and what it holds. A file: SQLite's full integrity check and
    /// foreign key check. A PostgreSQL database (whose server keeps its own pages and
    /// constraints): the ledger's own consistency checks.
    pub fn verify(&self) -> Result<Verification> {
        let _view = self.snapshot()?;
        let (checks, problems) = match &self.db {
            Db::Sqlite(c) => (
                "SQLite's full integrity check and foreign key check".to_string(),
                sqlite::integrity(c, &self.shown)?,
            ),
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => (
                "every import holds the records it stored, no record key counts twice, every import a final statement names exists".to_string(),
                self.consistency().map_err(self.err())?,
            ),
        };
        let count = |table: &str| -> Result<i64> {
            self.db
                .query_one(&format!("SELECT count(*) FROM {table}"), &[], |r| r.int(0))
                .map_err(self.err())
        };
        Ok(Verification {
            checks,
            problems,
            imports: count("imports")?,
            records: count("records")?,
            carbon_rows: count("supplier_rows")?,
            statements: count("statements")?,
        })
    }

    /// The ledger's own consistency: what each import says it stored is there, a record key
    /// is active in one import at most, and the imports a statement names exist.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    fn consistency(&self) -> DbResult<Vec<String>> {
        let mut problems = self
            .db
            .query_vec(
                "SELECT i.id, i.accepted,
                    (SELECT count(*) FROM records r WHERE r.import_id = i.id)
                    + (SELECT count(*) FROM supplier_rows s WHERE s.import_id = i.id)
             FROM imports i ORDER BY i.id",
                &[],
                |r| Ok((r.int(0)?, r.int(1)?, r.int(2)?)),
            )?
            .into_iter()
            .filter(|(_, said, held)| said != held)
            .map(|(id, said, held)| {
                format!("import #{id} says it stored {said} record(s) but holds {held}")
            })
            .collect::<Vec<_>>();
        problems.extend(self.db.query_vec(
            "SELECT record_key, count(DISTINCT import_id) FROM records WHERE active = 1
             GROUP BY record_key HAVING count(DISTINCT import_id) > 1 ORDER BY record_key LIMIT 20",
            &[],
            |r| {
                Ok(format!(
                    "record key {} counts in {} imports at once",
                    key_text(&r.text(0)?),
                    r.int(1)?
                ))
            },
        )?);
        let known = self
            .db
            .query_vec("SELECT id FROM imports", &[], |r| r.int(0))?;
        for (id, imports) in
            self.db
                .query_vec("SELECT id, imports FROM statements ORDER BY id", &[], |r| {
                    Ok((r.int(0)?, r.text(1)?))
                })?
        {
            for i in imports.split(',').filter_map(|i| i.parse::<i64>().ok()) {
                if !known.contains(&i) {
                    problems.push(format!(
                        "final statement #{id} names import #{i}, which the ledger does not hold"
                    ));
                }
            }
        }
        Ok(problems)
    }

    /// Copies what was just committed from the write-ahead log into the ledger file, as far
    /// as no reader still needs the older pages (PASSIVE: never waits). Then the file alone
    /// holds every finished import even if the process is killed before it closes the ledger.
    fn checkpoint(&self) {
        if let Some(c) = self.db.sqlite() {
            sqlite::checkpoint(c);
        }
    }

    /// Where the ledger is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The ledger as shown to people: the file's path, or the URL without its password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    fn err(&self) -> impl Fn(DbError) -> LedgerError + '_ {
        move |source| db_err(&self.location, &self.shown, source)
    }

    /// The active import of the file with this SHA-256, if any.
    fn active_with_sha(db: &Db, sha: &str) -> DbResult<Option<i64>> {
        db.query_opt(
            "SELECT id FROM imports WHERE sha256 = ?1 AND removed_at IS NULL",
            vals![sha],
            |r| r.int(0),
        )
    }

    /// The import active for a file with these bytes (its SHA-256), if any: a quick look
    /// before reading a file, checked again under the write lock by [`Ledger::import`].
    pub fn imported(&self, sha256: &str) -> Result<Option<ImportSummary>> {
        match Ledger::active_with_sha(&self.db, sha256).map_err(self.err())? {
            Some(id) => Ok(Some(self.summary(id)?)),
            None => Ok(None),
        }
    }

    /// Imports one file as read (all its dates, records with their keys): one transaction;
    /// the same bytes (the report's SHA-256) twice change nothing. The ledger never reads
    /// files: `pipeline::import_file` reads them, handing the records to [`Ledger::importing`]
    /// as they come; this is the same for records already in memory.
    pub fn import(
        &mut self,
        name: &str,
        data: ImportData,
        replace: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<ImportResult> {
        let mut importing = self.importing(name, replace, now);
        let end = match data {
            ImportData::Usage {
                report,
                records,
                rejections,
            } => {
                importing.sha = report.sha256.clone();
                for r in records {
                    importing.add(r)?;
                }
                ImportEnd::Usage { report, rejections }
            }
            ImportData::Carbon(c) => ImportEnd::Carbon(c, vec![]),
        };
        importing.finish(end)
    }

    /// Starts importing one file whose records arrive one by one ([`Importing::add`]) while
    /// it is read, so that no file's records are ever held in memory together: they are
    /// written in batches inside the import's transaction, which takes the write lock at the
    /// first record and commits at [`Importing::finish`] (or is rolled back when the
    /// `Importing` is dropped: a file that turns out unusable leaves the ledger as it was).
    /// `sha` is the file's SHA-256, known before it is read.
    pub fn importing(&self, name: &str, replace: Option<i64>, now: DateTime<Utc>) -> Importing<'_> {
        Importing {
            ledger: self,
            name: name.to_string(),
            sha: String::new(),
            replace,
            now,
            stamp: now_text(now),
            open: None,
            entity: None,
            batch: Vec::with_capacity(RECORDS_PER_BATCH),
            widths: HashMap::new(),
            stored: 0,
        }
    }

    /// Imports the rows of a vendor carbon report. A row whose key (provider, account,
    /// sub-account, service, region, month) is already active with the same figures is a
    /// duplicate; with other figures it is the vendor's restatement and the newer row counts.
    fn import_carbon(
        &self,
        carbon: CarbonImport<'_>,
        c: crate::normalise::carbon::CarbonFile,
        now: DateTime<Utc>,
    ) -> Result<ImportResult> {
        let CarbonImport {
            name,
            sha,
            entity,
            entities,
        } = carbon;
        let e = self.err();
        let stamp = now_text(now);
        let report = c.report;
        let accounts: Vec<String> = report.accounts.iter().cloned().collect();
        let tx = self.db.write(&self.shown).map_err(&e)?;
        if let Some(id) = Ledger::active_with_sha(&tx, sha).map_err(&e)? {
            drop(tx);
            return Ok(ImportResult::AlreadyImported(self.summary(id)?));
        }
        let report_json = serde_json::to_string(&report).unwrap_or_default();
        let (first, last) = (
            report.first_date.map(|d| d.to_string()),
            report.last_date.map(|d| d.to_string()),
        );
        let joined = accounts.join("\u{1f}");
        let import_id = tx
            .insert(
                "INSERT INTO imports(file, sha256, format, template, imported_at, first_date, last_date,
                    bucket_secs, accounts, rows_read, accepted, duplicate, restated, report_json, entity)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9, ?10, 0, 0, ?11, ?12)",
                vals![
                    name,
                    sha,
                    &report.format,
                    &report.template,
                    &stamp,
                    &first,
                    &last,
                    &joined,
                    report.counts.read as i64,
                    c.rows.len() as i64,
                    &report_json,
                    entity,
                ],
            )
            .map_err(&e)?;
        insert_rejections(&tx, import_id, &c.rejections).map_err(&e)?;
        let (mut duplicate, mut restated) = (0i64, 0i64);
        for (i, r) in c.rows.iter().enumerate() {
            let row_entity = entities.get(i).cloned().flatten();
            let key = carbon_row_key(r);
            // The active figures for this key from other imports, if any.
            let old: Option<(Option<f64>, Option<f64>)> = tx
                .query_opt(
                    "SELECT sum(kg_location), sum(kg_market) FROM supplier_rows
                     WHERE row_key = ?1 AND active = 1 AND import_id != ?2 HAVING count(*) > 0",
                    vals![&key, import_id],
                    |x| Ok((x.opt_real(0)?, x.opt_real(1)?)),
                )
                .map_err(&e)?;
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
                        vals![&key],
                    )
                    .map_err(&e)?;
                    let detail = format!(
                        "vendor carbon figure for {} {} {} {} restated: {} kgCO2e location-based, was {}",
                        r.provider,
                        r.service,
                        r.region,
                        r.month,
                        r.location_kg.map_or("none".into(), |v| format!("{v:.6}")),
                        l.map_or("none".into(), |v| format!("{v:.6}"))
                    );
                    tx.execute(
                        "INSERT INTO changes(at, import_id, kind, month, detail) VALUES (?1, ?2, 'restatement', ?3, ?4)",
                        vals![&stamp, import_id, &r.month, &detail],
                    )
                    .map_err(&e)?;
                    true
                }
                None => true,
            };
            tx.execute(
                "INSERT INTO supplier_rows(import_id, row_key, active, sheet, row, month, provider,
                    account, sub_account, service, service_raw, region, kg_location, kg_market,
                    kg_scope1, kg_scope2_location, kg_scope2_market, kg_scope3, model_version, context,
                    entity)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
                vals![
                    import_id,
                    &key,
                    active as i64,
                    &r.sheet,
                    r.row as i64,
                    &r.month,
                    &r.provider,
                    &r.account,
                    &r.sub_account,
                    &r.service,
                    &r.service_name,
                    &r.region,
                    r.location_kg,
                    r.market_kg,
                    r.scope1_kg,
                    r.scope2_location_kg,
                    r.scope2_market_kg,
                    r.scope3_kg,
                    &r.model_version,
                    &r.context,
                    &row_entity,
                ],
            )
            .map_err(&e)?;
        }
        tx.execute(
            "UPDATE imports SET duplicate = ?1, restated = ?2 WHERE id = ?3",
            vals![duplicate, restated, import_id],
        )
        .map_err(&e)?;
        access::audit_in(
            &tx,
            &self.actor,
            "import",
            &format!(
                "import #{import_id}: {name} ({}, SHA-256 {sha}), {} vendor carbon row(s) ({duplicate} duplicate, {restated} restated)",
                report.format,
                c.rows.len()
            ),
            &stamp,
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)?;
        drop(e);
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
        entity: EntityFilter<'_>,
        imports: &mut Vec<i64>,
    ) -> Result<Vec<crate::model::CarbonRow>> {
        let (from, to) = (
            period.start.format("%Y-%m").to_string(),
            period.end.format("%Y-%m").to_string(),
        );
        let sql = format!(
            "SELECT s.import_id, i.file, i.template, s.sheet, s.row, s.month, s.provider, s.account,
                    s.sub_account, s.service, s.service_raw, s.region, s.kg_location, s.kg_market,
                    s.kg_scope1, s.kg_scope2_location, s.kg_scope2_market, s.kg_scope3,
                    s.model_version, s.context
             FROM supplier_rows s JOIN imports i ON i.id = s.import_id
             WHERE s.active = 1 AND s.month >= ?1 AND s.month <= ?2{}
             ORDER BY i.file, s.import_id, s.id",
            entity.condition("s", 3)
        );
        let params: Vec<db::Val> = match entity.name() {
            Some(name) => vals![&from, &to, name].to_vec(),
            None => vals![&from, &to].to_vec(),
        };
        let mut out = vec![];
        self.db
            .query(&sql, &params, &mut |r| {
                let import_id = r.int(0)?;
                let file_index = match imports.iter().position(|&i| i == import_id) {
                    Some(i) => i,
                    None => {
                        imports.push(import_id);
                        imports.len() - 1
                    }
                };
                out.push(crate::model::CarbonRow {
                    file_index,
                    file: r.text(1)?,
                    template: r.text(2)?,
                    sheet: r.opt_text(3)?,
                    row: r.int(4)?.max(0) as u64,
                    month: r.text(5)?,
                    provider: r.text(6)?,
                    account: r.opt_text(7)?,
                    sub_account: r.opt_text(8)?,
                    service: r.text(9)?,
                    service_name: r.text(10)?,
                    region: r.text(11)?,
                    location_kg: r.opt_real(12)?,
                    market_kg: r.opt_real(13)?,
                    scope1_kg: r.opt_real(14)?,
                    scope2_location_kg: r.opt_real(15)?,
                    scope2_market_kg: r.opt_real(16)?,
                    scope3_kg: r.opt_real(17)?,
                    model_version: r.opt_text(18)?,
                    context: r.opt_text(19)?,
                });
                Ok(())
            })
            .map_err(self.err())?;
        Ok(out)
    }

    /// One import's summary.
    pub fn summary(&self, id: i64) -> Result<ImportSummary> {
        self.db
            .query_opt(
                "SELECT id, file, sha256, format, imported_at, first_date, last_date, bucket_secs,
                        rows_read, accepted, duplicate, restated, removed_at,
                        (SELECT count(*) FROM records r WHERE r.import_id = imports.id AND r.active = 1)
                        + (SELECT count(*) FROM supplier_rows s WHERE s.import_id = imports.id AND s.active = 1),
                        entity
                 FROM imports WHERE id = ?1",
                vals![id],
                summary_row,
            )
            .map_err(self.err())?
            .ok_or(LedgerError::NoSuchImport(id))
    }

    /// Every import, oldest first (removed ones included, marked).
    pub fn list(&self) -> Result<Vec<ImportSummary>> {
        self.db
            .query_vec(
                "SELECT id, file, sha256, format, imported_at, first_date, last_date, bucket_secs,
                        rows_read, accepted, duplicate, restated, removed_at,
                        (SELECT count(*) FROM records r WHERE r.import_id = imports.id AND r.active = 1)
                        + (SELECT count(*) FROM supplier_rows s WHERE s.import_id = imports.id AND s.active = 1),
                        entity
                 FROM imports ORDER BY id",
                &[],
                summary_row,
            )
            .map_err(self.err())
    }

    /// An import's row accounting at import time and its rejections.
    pub fn details(&self, id: i64) -> Result<(FileReport, Vec<Rejection>)> {
        let (file, json) = self
            .db
            .query_opt(
                "SELECT file, report_json FROM imports WHERE id = ?1",
                vals![id],
                |r| Ok((r.text(0)?, r.text(1)?)),
            )
            .map_err(self.err())?
            .ok_or(LedgerError::NoSuchImport(id))?;
        let report: FileReport = serde_json::from_str(&json).unwrap_or_default();
        // Rows in their order, and rejections of one row in the order they were stored.
        let rejections = self
            .db
            .query_vec(
                self.db.pick(
                    "SELECT sheet, row, col, value, reason FROM rejections WHERE import_id = ?1 ORDER BY row, rowid",
                    "SELECT sheet, row, col, value, reason FROM rejections WHERE import_id = ?1 ORDER BY row, id",
                ),
                vals![id],
                |r| {
                    Ok(Rejection {
                        file: file.clone(),
                        sheet: r.opt_text(0)?,
                        row: r.int(1)? as u64,
                        column: r.opt_text(2)?,
                        value: r.opt_text(3)?,
                        reason: r.text(4)?,
                        row_hash: None,
                        money: None,
                    })
                },
            )
            .map_err(self.err())?;
        Ok((report, rejections))
    }

    /// Removes an import: its records stop counting; records it had superseded count again.
    pub fn remove(&mut self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.summary(id)?;
        let e = self.err();
        let tx = self.db.write(&self.shown).map_err(&e)?;
        // Checked under the write lock: another process may have removed it meanwhile.
        let removed_at = tx
            .query_one(
                "SELECT removed_at FROM imports WHERE id = ?1",
                vals![id],
                |r| r.opt_text(0),
            )
            .map_err(&e)?;
        if let Some(at) = removed_at {
            return Err(LedgerError::Refused(format!(
                "import #{id} was already removed on {at}"
            )));
        }
        let stamp = now_text(now);
        remove_in(&tx, id, &stamp, "removed import").map_err(&e)?;
        let file = tx
            .query_one("SELECT file FROM imports WHERE id = ?1", vals![id], |r| {
                r.text(0)
            })
            .map_err(&e)?;
        access::audit_in(
            &tx,
            &self.actor,
            "remove",
            &format!("import #{id} ({file}) removed"),
            &stamp,
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)?;
        drop(e);
        self.checkpoint();
        Ok(())
    }

    /// Hands each active record whose bucket starts in `period` to `each`, with its import as
    /// provenance, as the query reads them: no period's records are ever held together.
    /// Returns the imports used (index = `file_index`), or the first error of `each` (which
    /// stops the reading).
    pub fn each_record<E>(
        &self,
        period: &Period,
        entity: EntityFilter<'_>,
        mut each: impl FnMut(UsageRecord) -> std::result::Result<(), E>,
    ) -> Result<std::result::Result<Vec<i64>, E>> {
        let mut stopped: Option<E> = None;
        let (start, end) = period_seconds(period);
        let sql = format!(
            "SELECT r.import_id, i.file, r.sheet, r.row, r.bucket_start, r.bucket_end, r.provider,
                    r.model, r.region, r.region_scope, r.cost_centre, r.requests, r.input_tokens,
                    r.cached_input_tokens, r.output_tokens, r.input_characters, r.output_characters,
                    r.cost, r.currency, r.kind, r.kind_label, r.kind_quantity, r.kind_unit, r.record_key,
                    r.account, r.service, r.requests_reported
             FROM records r JOIN imports i ON i.id = r.import_id
             WHERE r.active = 1 AND r.bucket_start >= ?1 AND r.bucket_start < ?2{}
             ORDER BY i.file, r.import_id, r.id",
            entity.condition("r", 3)
        );
        let params: Vec<db::Val> = match entity.name() {
            Some(name) => vals![start, end, name].to_vec(),
            None => vals![start, end].to_vec(),
        };
        let mut imports: Vec<i64> = vec![];
        let mut files: HashMap<i64, (usize, Arc<str>)> = HashMap::new();
        let mut sheets: HashMap<String, Arc<str>> = HashMap::new();
        let mut providers: HashMap<String, Arc<str>> = HashMap::new();
        let read = self.db.query(&sql, &params, &mut |r| {
            let import_id = r.int(0)?;
            let (file_index, file) = match files.get(&import_id) {
                Some(f) => f.clone(),
                None => {
                    let file = r.text(1)?;
                    imports.push(import_id);
                    let f = (imports.len() - 1, Arc::from(file.as_str()));
                    files.insert(import_id, f.clone());
                    f
                }
            };
            let sheet = r.opt_text(2)?;
            let provider = r.text(6)?;
            let get_u = |i: usize| -> DbResult<u64> { Ok(r.int(i)? as u64) };
            let ts = |i: usize| -> DbResult<DateTime<Utc>> {
                Ok(DateTime::from_timestamp(r.int(i)?, 0).unwrap_or_default())
            };
            let kind = r.text(19)?;
            let label = r.opt_text(20)?;
            let kind = match kind.as_str() {
                "not_estimated" | "spend" => RecordKind::NotEstimated {
                    spend_only: kind == "spend",
                    label: label.unwrap_or_default(),
                    quantity: r.opt_real(21)?.unwrap_or(0.0),
                    unit: r.opt_text(22)?.unwrap_or_default(),
                },
                "adjustment" => RecordKind::Adjustment {
                    label: label.unwrap_or_default(),
                },
                _ => RecordKind::Usage,
            };
            let record = UsageRecord {
                bucket_start: ts(4)?,
                bucket_end: ts(5)?,
                provider: providers
                    .entry(provider.clone())
                    .or_insert_with(|| Arc::from(provider.as_str()))
                    .clone(),
                model: r.text(7)?,
                region: r.opt_text(8)?,
                region_scope: r.opt_text(9)?,
                cost_centre: r.opt_text(10)?,
                account: r.opt_text(24)?,
                service: r.opt_text(25)?,
                requests: get_u(11)?,
                // NULL: imported before schema version 5, which did not say; a count
                // above 0 was reported.
                requests_reported: match r.opt_int(26)? {
                    Some(v) => v != 0,
                    None => get_u(11)? > 0,
                },
                input_tokens: get_u(12)?,
                cached_input_tokens: get_u(13)?,
                output_tokens: get_u(14)?,
                input_characters: get_u(15)?,
                output_characters: get_u(16)?,
                cost: r.opt_real(17)?,
                currency: r.opt_text(18)?,
                kind,
                key: r.text(23)?,
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
            };
            each(record).map_err(|e| {
                stopped = Some(e);
                DbError::Other("stopped by the records' reader".into())
            })
        });
        if let Some(e) = stopped {
            return Ok(Err(e));
        }
        read.map_err(self.err())?;
        Ok(Ok(imports))
    }

    /// Row accounting of an import for a period: its stored counts, with accepted split into
    /// active records in the period, duplicate / superseded ones, and the rest outside. For
    /// one entity's report (`entity` not [`EntityFilter::All`]), the active records of the
    /// period that belong to another entity (or to none) are booked as excluded, with a note
    /// saying so, so that the file's rows still add up.
    pub fn period_report(
        &self,
        id: i64,
        period: &Period,
        entity: EntityFilter<'_>,
    ) -> Result<FileReport> {
        let (mut report, _) = self.details(id)?;
        let (start, end) = period_seconds(period);
        // Whether a record is this report's: 1, or 0 for another entity's (none with All).
        let ours = match entity {
            EntityFilter::All => "1".to_string(),
            EntityFilter::Named(_) => {
                "CASE WHEN entity IS NOT NULL AND entity = ?4 THEN 1 ELSE 0 END".to_string()
            }
            EntityFilter::Unassigned => "CASE WHEN entity IS NULL THEN 1 ELSE 0 END".to_string(),
        };
        let params: Vec<db::Val> = match entity.name() {
            Some(name) => vals![id, start, end, name].to_vec(),
            None => vals![id, start, end].to_vec(),
        };
        let (active, inactive, others) = self
            .db
            .query_one(
                &format!(
                    "SELECT coalesce(sum(active * {ours}), 0), coalesce(sum(1 - active), 0),
                        coalesce(sum(active * (1 - {ours})), 0)
                     FROM records
                     WHERE import_id = ?1 AND bucket_start >= ?2 AND bucket_start < ?3"
                ),
                &params,
                |r| Ok((r.int(0)?, r.int(1)?, r.int(2)?)),
            )
            .map_err(self.err())?;
        let stored = report.counts.accepted;
        report.counts.accepted = active as u64;
        report.counts.duplicate = inactive as u64 + report.rejected_seen_before;
        report.counts.excluded += others as u64;
        report.counts.outside_period = stored.saturating_sub((active + inactive + others) as u64);
        if others > 0 {
            report.notes.push(format!(
                "{others} record(s) of this file in the period belong to {}: counted as excluded, not in this entity's report",
                match entity {
                    EntityFilter::Unassigned => "an entity".to_string(),
                    _ => "another entity or to none".to_string(),
                }
            ));
        }
        // The money the import booked as accepted or adjustment (it read every date) splits
        // into this period's active and duplicate records and the rest, outside the period.
        // Summed here, record by record in the order they were stored, as SQLite's sum() does,
        // so that both backends give the same figures to the last bit.
        let mut sums: std::collections::BTreeMap<(String, i64, bool), Sum> =
            std::collections::BTreeMap::new();
        self.db
            .query(
                &format!(
                    "SELECT coalesce(currency, 'USD'), active * (1 + {ours}),
                        CASE WHEN kind = 'adjustment' THEN 1 ELSE 0 END, cost
                     FROM records
                     WHERE import_id = ?1 AND bucket_start >= ?2 AND bucket_start < ?3 AND cost IS NOT NULL
                     ORDER BY id"
                ),
                &params,
                &mut |r| {
                    sums.entry((r.text(0)?, r.int(1)?, r.int(2)? != 0))
                        .or_default()
                        .add(r.real(3)?);
                    Ok(())
                },
            )
            .map_err(self.err())?;
        for b in report.money.values_mut() {
            b.outside_period += b.accepted + b.adjustments;
            b.accepted = 0.0;
            b.adjustments = 0.0;
        }
        // Per record: 0 inactive, 1 active of another entity, 2 active and this report's.
        for ((currency, state, adjustment), sum) in sums {
            let sum = sum.value();
            let b = report.money.entry(currency).or_default();
            b.outside_period -= sum;
            match (state, adjustment) {
                (2, true) => b.adjustments += sum,
                (2, false) => b.accepted += sum,
                (1, _) => b.excluded += sum,
                _ => b.duplicate += sum,
            }
        }
        if entity != EntityFilter::All {
            // Split between two entities, the money outside the period keeps the rounding of
            // two subtractions: a residual below a billionth of the file's money is none.
            for b in report.money.values_mut() {
                if b.outside_period.abs() <= 1e-9 * b.total.abs().max(1.0) {
                    b.outside_period = 0.0;
                }
            }
        }
        Ok(report)
    }

    /// The change log, oldest first.
    pub fn changes(&self) -> Result<Vec<Change>> {
        self.db
            .query_vec(
                "SELECT at, import_id, kind, month, detail FROM changes ORDER BY id",
                &[],
                |r| {
                    Ok(Change {
                        at: r.text(0)?,
                        import_id: r.opt_int(1)?,
                        kind: r.text(2)?,
                        month: r.opt_text(3)?,
                        detail: readable_detail(&r.text(4)?),
                    })
                },
            )
            .map_err(self.err())
    }

    /// The ids of the imports in use now.
    pub fn active_imports(&self) -> Result<BTreeSet<i64>> {
        Ok(self
            .db
            .query_vec(
                "SELECT id FROM imports WHERE removed_at IS NULL",
                &[],
                |r| r.int(0),
            )
            .map_err(self.err())?
            .into_iter()
            .collect())
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
        self.db
            .begin(Begin::Write, &self.shown)
            .map_err(self.err())?;
        let mut pending = PendingStatement {
            ledger: self,
            id: 0,
            done: false,
        };
        let imports = s
            .imports
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let (start, end) = (period.start.to_string(), period.end.to_string());
        let id = pending
            .ledger
            .db
            .insert(
                "INSERT INTO statements(period_label, period_start, period_end, stated_at, factor_version,
                    factor_sha256, imports, kgco2e_low, kgco2e_central, kgco2e_high, energy_kwh,
                    input_tokens, output_tokens, accepted_gaps, entity)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                vals![
                    &period.label,
                    &start,
                    &end,
                    &s.stated_at,
                    &s.factor_version,
                    &s.factor_sha256,
                    &imports,
                    s.kgco2e[0],
                    s.kgco2e[1],
                    s.kgco2e[2],
                    s.energy_kwh,
                    s.tokens[0] as i64,
                    s.tokens[1] as i64,
                    &s.accepted_gaps,
                    &s.entity,
                ],
            )
            .map_err(pending.ledger.err())?;
        let gaps = s
            .accepted_gaps
            .as_deref()
            .map(|g| format!("; gaps accepted: \"{g}\""))
            .unwrap_or_default();
        access::audit_in(
            &pending.ledger.db,
            &pending.ledger.actor,
            "final",
            &format!(
                "final statement #{id} of {}: {:.6} kgCO2e central (low {:.6}, high {:.6}), factor set {}, imports {}{gaps}",
                period.label,
                s.kgco2e[1],
                s.kgco2e[0],
                s.kgco2e[2],
                s.factor_version,
                if imports.is_empty() { "none" } else { &imports }
            ),
            // The time it was recorded (a report's --as-of may date the statement otherwise).
            &now_text(Utc::now()),
        )
        .map_err(pending.ledger.err())?;
        pending.id = id;
        Ok(pending)
    }

    /// Withdraws a statement this process has just recorded, when the outputs that name it
    /// could not be put in place (best effort; the caller reports the failure).
    pub fn withdraw_statement(&mut self, id: i64) -> Result<()> {
        self.db
            .execute("DELETE FROM statements WHERE id = ?1", vals![id])
            .map_err(self.err())?;
        access::audit_in(
            &self.db,
            &self.actor,
            "final withdrawn",
            &format!("final statement #{id} withdrawn: its outputs could not be written"),
            &now_text(Utc::now()),
        )
        .map_err(self.err())?;
        self.checkpoint();
        Ok(())
    }

    /// The last final statement of exactly this period for the whole ledger (the group), if
    /// any.
    pub fn last_statement(&self, period: &Period) -> Result<Option<Statement>> {
        self.last_statement_of(period, None)
    }

    /// The last final statement of exactly this period of the reporting entity `entity`
    /// (`None`: of the whole ledger, i.e. the group), if any: a report is compared only with
    /// a statement of its own scope.
    pub fn last_statement_of(
        &self,
        period: &Period,
        entity: Option<&str>,
    ) -> Result<Option<Statement>> {
        let (start, end) = (period.start.to_string(), period.end.to_string());
        let (scope, params): (&str, Vec<db::Val>) = match entity {
            Some(name) => ("entity = ?3", vals![&start, &end, name].to_vec()),
            None => ("entity IS NULL", vals![&start, &end].to_vec()),
        };
        self.db
            .query_opt(
                &format!(
                    "SELECT period_label, stated_at, factor_version, factor_sha256, imports, kgco2e_low,
                        kgco2e_central, kgco2e_high, energy_kwh, input_tokens, output_tokens,
                        accepted_gaps, id, entity
                     FROM statements WHERE period_start = ?1 AND period_end = ?2 AND {scope}
                     ORDER BY id DESC LIMIT 1"
                ),
                &params,
                |r| {
                    let imports = r.text(4)?;
                    Ok(Statement {
                        period_label: r.text(0)?,
                        stated_at: r.text(1)?,
                        factor_version: r.text(2)?,
                        factor_sha256: r.text(3)?,
                        imports: imports.split(',').filter_map(|i| i.parse().ok()).collect(),
                        kgco2e: [r.real(5)?, r.real(6)?, r.real(7)?],
                        energy_kwh: r.real(8)?,
                        tokens: [r.int(9)? as u64, r.int(10)? as u64],
                        accepted_gaps: r.opt_text(11)?,
                        id: r.int(12)?,
                        entity: r.opt_text(13)?,
                    })
                },
            )
            .map_err(self.err())
    }

    /// The reporting entities the ledger's active records and vendor carbon rows belong to,
    /// sorted (byte order); empty for a ledger without entities.
    pub fn entities(&self) -> Result<Vec<String>> {
        self.db
            .query_vec(
                "SELECT entity FROM records WHERE entity IS NOT NULL AND active = 1
                 UNION SELECT entity FROM supplier_rows WHERE entity IS NOT NULL AND active = 1
                 ORDER BY 1",
                &[],
                |r| r.text(0),
            )
            .map_err(self.err())
    }

    /// The active imports holding a record or vendor carbon row of `entity` (every active
    /// import with [`EntityFilter::All`]).
    pub fn active_imports_of(&self, entity: EntityFilter<'_>) -> Result<BTreeSet<i64>> {
        if entity == EntityFilter::All {
            return self.active_imports();
        }
        let params: Vec<db::Val> = match entity.name() {
            Some(name) => vals![name].to_vec(),
            None => vec![],
        };
        Ok(self
            .db
            .query_vec(
                &format!(
                    "SELECT i.id FROM imports i WHERE i.removed_at IS NULL AND (
                        EXISTS (SELECT 1 FROM records r WHERE r.import_id = i.id{})
                        OR EXISTS (SELECT 1 FROM supplier_rows s WHERE s.import_id = i.id{}))
                     ORDER BY i.id",
                    entity.condition("r", 1),
                    entity.condition("s", 1)
                ),
                &params,
                |r| r.int(0),
            )
            .map_err(self.err())?
            .into_iter()
            .collect())
    }

    /// An import's records and vendor carbon rows by reporting entity (`None`: no entity):
    /// how many are stored and how many count now, by entity name.
    pub fn entity_counts(&self, id: i64) -> Result<Vec<(Option<String>, i64, i64)>> {
        self.db
            .query_vec(
                "SELECT entity, count(*), coalesce(sum(active), 0) FROM
                    (SELECT entity, active FROM records WHERE import_id = ?1
                     UNION ALL SELECT entity, active FROM supplier_rows WHERE import_id = ?1) x
                 GROUP BY entity ORDER BY CASE WHEN entity IS NULL THEN 1 ELSE 0 END, entity",
                vals![id],
                |r| Ok((r.opt_text(0)?, r.int(1)?, r.int(2)?)),
            )
            .map_err(self.err())
    }
}

/// A period's first second and the second after its last day, Unix seconds (UTC).
fn period_seconds(period: &Period) -> (i64, i64) {
    let start = period
        .start
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp();
    let end = (period.end + chrono::Duration::days(1))
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp();
    (start, end)
}

fn summary_row(r: &dyn Row) -> DbResult<ImportSummary> {
    Ok(ImportSummary {
        id: r.int(0)?,
        file: r.text(1)?,
        sha256: r.text(2)?,
        format: r.text(3)?,
        imported_at: r.text(4)?,
        first_date: r.opt_text(5)?,
        last_date: r.opt_text(6)?,
        bucket_secs: r.opt_int(7)?,
        rows_read: r.int(8)?,
        accepted: r.int(9)?,
        duplicate: r.int(10)?,
        restated: r.int(11)?,
        removed_at: r.opt_text(12)?,
        active: r.int(13)?,
        entity: r.opt_text(14)?,
    })
}

/// Refuses an export of another granularity over a period an active import of the same
/// format and account already covers (daily after monthly would double-count: their keys
/// differ), and likewise a warehouse query's result (`llm-scope3 sql`: the usage summed by day,
/// without line item ids) over the period of the export it was drawn from, or the reverse.
/// `Ok(message)` in the error is the refusal.
fn check_granularity(
    db: &Db,
    report: &FileReport,
    bucket_secs: Option<i64>,
    accounts: &[String],
    replace: Option<i64>,
) -> std::result::Result<(), std::result::Result<String, DbError>> {
    let (Some(first), Some(last), Some(width)) = (report.first_date, report.last_date, bucket_secs)
    else {
        return Ok(());
    };
    let (first, last) = (first.to_string(), last.to_string());
    let warehouse = i64::from(report.warehouse.is_some());
    // Whether an import was a query's result is in its stored report (`"warehouse":{...}`).
    let rows = db
        .query_vec(
            "SELECT id, file, bucket_secs, accounts, warehouse FROM (
               SELECT id, file, bucket_secs, accounts,
                      CASE WHEN report_json LIKE '%\"warehouse\":{%' THEN 1 ELSE 0 END AS warehouse
               FROM imports
               WHERE removed_at IS NULL AND format = ?1 AND first_date <= ?2 AND last_date >= ?3
                 AND bucket_secs IS NOT NULL) AS overlapping
             WHERE bucket_secs <> ?4 OR warehouse <> ?5",
            vals![&report.format, &last, &first, width, warehouse],
            |r| Ok((r.int(0)?, r.text(1)?, r.int(2)?, r.text(3)?, r.int(4)?)),
        )
        .map_err(Err)?;
    for (id, file, other_width, other_accounts, other_warehouse) in rows {
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
        if other_warehouse != warehouse {
            let (result, export) = if warehouse == 1 {
                (report.file.clone(), format!("import #{id} ({file})"))
            } else {
                (format!("import #{id} ({file})"), report.file.clone())
            };
            return Err(Ok(format!(
                "{} and import #{id} ({file}) cover the same period of the same account: {result} is a \
                 warehouse query's result and {export} an export, two records of the same usage under \
                 different keys that would double-count. Keep one: import {} with --replace {id} to \
                 supersede #{id}, or remove #{id} first.",
                report.file, report.file
            )));
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

/// Records inserted per many-row insert (and held as parameters at once).
const RECORDS_PER_BATCH: usize = 1_000;

fn insert_records(
    db: &Db,
    import_id: i64,
    records: &[(UsageRecord, Option<String>)],
) -> DbResult<()> {
    const HEAD: &str = "INSERT INTO records(import_id, record_key, active, sheet, row, bucket_start, bucket_end, provider,
            model, region, region_scope, cost_centre, requests, input_tokens, cached_input_tokens,
            output_tokens, input_characters, output_characters, cost, currency, kind, kind_label,
            kind_quantity, kind_unit, account, service, requests_reported, entity)";
    for chunk in records.chunks(RECORDS_PER_BATCH) {
        let rows: Vec<Vec<db::Val>> = chunk
            .iter()
            .map(|(r, entity)| {
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
                    RecordKind::Adjustment { label } => {
                        ("adjustment", Some(label.as_str()), None, None)
                    }
                };
                vals![
                    import_id,
                    &r.key,
                    0i64,
                    r.provenance.sheet.as_deref(),
                    r.provenance.row as i64,
                    r.bucket_start.timestamp(),
                    r.bucket_end.timestamp(),
                    &*r.provider,
                    &r.model,
                    &r.region,
                    &r.region_scope,
                    &r.cost_centre,
                    r.requests as i64,
                    r.input_tokens as i64,
                    r.cached_input_tokens as i64,
                    r.output_tokens as i64,
                    r.input_characters as i64,
                    r.output_characters as i64,
                    r.cost,
                    &r.currency,
                    kind,
                    label,
                    quantity,
                    unit,
                    &r.account,
                    &r.service,
                    i64::from(r.requests_reported),
                    entity,
                ]
                .to_vec()
            })
            .collect();
        db.insert_many(HEAD, &rows)?;
    }
    Ok(())
}

/// Stores an import's rejected rows.
fn insert_rejections(
    db: &Db,
    import_id: i64,
    rejections: &[crate::model::Rejection],
) -> DbResult<()> {
    for chunk in rejections.chunks(RECORDS_PER_BATCH) {
        let rows: Vec<Vec<db::Val>> = chunk
            .iter()
            .map(|r| {
                vals![
                    import_id,
                    &r.sheet,
                    r.row as i64,
                    &r.column,
                    &r.value,
                    &r.reason,
                    &r.row_hash
                ]
                .to_vec()
            })
            .collect();
        db.insert_many(
            "INSERT INTO rejections(import_id, sheet, row, col, value, reason, row_hash)",
            &rows,
        )?;
    }
    Ok(())
}

/// Takes out of `rejections` the rows an active import already rejected (same cells), and
/// books them in `report` as duplicates: rows and money.
fn seen_before(
    db: &Db,
    report: &mut FileReport,
    rejections: &mut Vec<crate::model::Rejection>,
) -> DbResult<()> {
    let mut kept = Vec::with_capacity(rejections.len());
    for r in rejections.drain(..) {
        let seen = match &r.row_hash {
            Some(h) => db.exists(
                "SELECT 1 FROM rejections r JOIN imports i ON i.id = r.import_id
                 WHERE r.row_hash = ?1 AND i.removed_at IS NULL LIMIT 1",
                vals![h],
            )?,
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
/// PostgreSQL sums integers as `numeric` and rounds only `numeric`: cast back.
fn key_sums(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "sum(requests), sum(input_tokens), sum(cached_input_tokens), sum(output_tokens),
    sum(input_characters), sum(output_characters), round(coalesce(sum(cost), 0), 9), count(*),
    min(bucket_start)"
        }
        Dialect::Postgres => {
            "CAST(sum(requests) AS BIGINT), CAST(sum(input_tokens) AS BIGINT),
    CAST(sum(cached_input_tokens) AS BIGINT), CAST(sum(output_tokens) AS BIGINT),
    CAST(sum(input_characters) AS BIGINT), CAST(sum(output_characters) AS BIGINT),
    CAST(round(CAST(coalesce(sum(cost), 0) AS NUMERIC), 9) AS DOUBLE PRECISION), count(*),
    min(bucket_start)"
        }
    }
}

type Sums = (i64, i64, i64, i64, i64, i64, f64, i64, i64);

fn sums_row(r: &dyn Row, at: usize) -> DbResult<Sums> {
    Ok((
        r.int(at)?,
        r.int(at + 1)?,
        r.int(at + 2)?,
        r.int(at + 3)?,
        r.int(at + 4)?,
        r.int(at + 5)?,
        r.real(at + 6)?,
        r.int(at + 7)?,
        r.int(at + 8)?,
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
fn resolve_keys(db: &Db, import_id: i64, stamp: &str) -> DbResult<(i64, i64)> {
    // Keys no active record has: activate. (PostgreSQL plans NOT EXISTS as an anti-join on
    // the key index; NOT IN over a large ledger would not fit its hash table.)
    db.execute(
        db.pick(
            "UPDATE records SET active = 1 WHERE import_id = ?1 AND record_key NOT IN
                (SELECT record_key FROM records WHERE active = 1 AND import_id <> ?1)",
            "UPDATE records SET active = 1 WHERE import_id = ?1 AND NOT EXISTS
                (SELECT 1 FROM records o WHERE o.record_key = records.record_key AND o.active = 1
                    AND o.import_id <> ?1)",
        ),
        vals![import_id],
    )?;
    let sums = key_sums(db.dialect());
    let overlapping: Vec<(String, Sums, Sums)> = db.query_vec(
        &format!(
            "SELECT n.record_key, n.*, o.* FROM
                (SELECT record_key, {sums} FROM records WHERE import_id = ?1 AND active = 0 GROUP BY record_key) n
             JOIN (SELECT record_key AS k2, {sums} FROM records WHERE active = 1 AND import_id <> ?1 GROUP BY record_key) o
             ON o.k2 = n.record_key"
        ),
        vals![import_id],
        |r| Ok((r.text(0)?, sums_row(r, 2)?, sums_row(r, 12)?)),
    )?;
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
        let previous = db.query_vec(
            "SELECT DISTINCT import_id FROM records WHERE record_key = ?1 AND active = 1 AND import_id <> ?2
             ORDER BY import_id",
            vals![&key, import_id],
            |r| r.int(0),
        )?;
        db.execute(
            "UPDATE records SET active = 0 WHERE record_key = ?1 AND active = 1 AND import_id <> ?2",
            vals![&key, import_id],
        )?;
        db.execute(
            "UPDATE records SET active = 1 WHERE record_key = ?1 AND import_id = ?2",
            vals![&key, import_id],
        )?;
        let detail = format!(
            "the vendor restated {}: previously (import {}) {} input / {} output tokens, {:.2} cost; now {} input / {} output tokens, {:.2} cost",
            key_text(&key),
            previous.iter().map(|i| format!("#{i}")).collect::<Vec<_>>().join(", "),
            old.1, old.3, old.6, new.1, new.3, new.6
        );
        db.execute(
            "INSERT INTO changes(at, import_id, kind, month, detail) VALUES (?1, ?2, 'restatement', ?3, ?4)",
            vals![stamp, import_id, &month, &detail],
        )?;
    }
    Ok((duplicate, restated))
}

/// Removes an import inside a transaction: its records stop counting, and for each of its
/// keys the records it had superseded (the latest earlier import's) count again.
fn remove_in(db: &Db, id: i64, stamp: &str, kind: &str) -> DbResult<()> {
    let keys = db.query_vec(
        "SELECT DISTINCT record_key FROM records WHERE import_id = ?1 AND active = 1",
        vals![id],
        |r| r.text(0),
    )?;
    let (rows, first, last) = db.query_one(
        "SELECT (SELECT count(*) FROM records WHERE import_id = ?1 AND active = 1), first_date, last_date FROM imports WHERE id = ?1",
        vals![id],
        |r| Ok((r.int(0)?, r.opt_text(1)?, r.opt_text(2)?)),
    )?;
    db.execute(
        "UPDATE records SET active = 0 WHERE import_id = ?1",
        vals![id],
    )?;
    // Vendor carbon rows: the most recent other import of each key counts again.
    let carbon_keys = db.query_vec(
        "SELECT DISTINCT row_key FROM supplier_rows WHERE import_id = ?1 AND active = 1",
        vals![id],
        |r| r.text(0),
    )?;
    db.execute(
        "UPDATE supplier_rows SET active = 0 WHERE import_id = ?1",
        vals![id],
    )?;
    db.execute(
        "UPDATE imports SET removed_at = ?1 WHERE id = ?2",
        vals![stamp, id],
    )?;
    let mut restored = 0;
    for key in carbon_keys {
        let other = db
            .query_opt(
                "SELECT max(s.import_id) FROM supplier_rows s JOIN imports i ON i.id = s.import_id
                 WHERE s.row_key = ?1 AND i.removed_at IS NULL AND s.import_id != ?2",
                vals![&key, id],
                |r| r.opt_int(0),
            )?
            .flatten();
        if let Some(other) = other {
            restored += db.execute(
                "UPDATE supplier_rows SET active = 1 WHERE row_key = ?1 AND import_id = ?2",
                vals![&key, other],
            )?;
        }
    }
    for key in keys {
        // The most recent other import that holds this key and is not removed.
        let other = db
            .query_opt(
                "SELECT max(r.import_id) FROM records r JOIN imports i ON i.id = r.import_id
                 WHERE r.record_key = ?1 AND i.removed_at IS NULL",
                vals![&key],
                |r| r.opt_int(0),
            )?
            .flatten();
        if let Some(other) = other {
            restored += db.execute(
                "UPDATE records SET active = 1 WHERE record_key = ?1 AND import_id = ?2",
                vals![&key, other],
            )?;
        }
    }
    let month = first
        .as_deref()
        .map(|d| d.get(..7).unwrap_or(d).to_string());
    let detail = format!(
        "import #{id} ({} to {}) no longer counts: {rows} record(s) withdrawn, {restored} earlier record(s) count again",
        first.unwrap_or_default(),
        last.unwrap_or_default()
    );
    db.execute(
        "INSERT INTO changes(at, import_id, kind, month, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        vals![stamp, id, kind, &month, &detail],
    )?;
    Ok(())
}
