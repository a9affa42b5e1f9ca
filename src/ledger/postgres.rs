//! The PostgreSQL ledger: what only PostgreSQL has. Connecting (the URL, PGPASSWORD, a
//! default socket), the write lock (a transaction-level advisory lock, so writers take turns
//! as SQLite's `BEGIN IMMEDIATE` makes them), recognising the database (its tables and the
//! marker table `llm_scope3_ledger`), and the driver's types behind [`super::db::Row`] and
//! [`super::db::Val`]. The ledger's logic (mod.rs) is the same for both backends.
//!
//! Writers run at READ COMMITTED on purpose: each statement sees what was committed before it
//! started, so a writer that waited for the lock sees the previous writer's import in full. A
//! report reads in one REPEATABLE READ, READ ONLY transaction: one snapshot, like SQLite's read
//! transaction.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use postgres::types::{IsNull, ToSql, Type};

use super::db::{Begin, DbError, DbResult, Row, Val, Value};
use super::location::PgUrl;
use super::{LedgerError, WAIT_LIMIT, WAIT_TELL_AFTER};

/// The advisory lock every writer takes (one per database): "LS3L", the ledger's marker.
const LOCK_KEY: i64 = super::APPLICATION_ID as i64;

/// The marker table: a database holding it is an llm-scope3 ledger.
pub(super) const MARKER_TABLE: &str = "llm_scope3_ledger";

/// How long connecting may take when the URL does not say (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Parameters per statement of a many-row insert (PostgreSQL takes at most 65,535).
const PARAMS_PER_INSERT: usize = 30_000;

/// A connection to a PostgreSQL ledger, with its prepared statements.
pub(crate) struct PgConn {
    client: RefCell<postgres::Client>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
    pub(crate) in_transaction: Cell<bool>,
}

/// The URL's settings, with what libpq would fill in: the password from PGPASSWORD, the user
/// from PGUSER (else the driver takes this process's user), the host from PGHOST or the
/// Debian socket folder, a connect timeout.
fn config(url: &PgUrl) -> std::result::Result<postgres::Config, String> {
    let mut cfg: postgres::Config = url
        .secret()
        .parse()
        .map_err(|e: postgres::Error| format!("the URL cannot be read ({e})"))?;
    if cfg.get_hosts().is_empty() {
        match std::env::var("PGHOST").ok().filter(|h| !h.is_empty()) {
            Some(h) => {
                cfg.host(&h);
            }
            None if std::path::Path::new("/var/run/postgresql").is_dir() => {
                cfg.host_path("/var/run/postgresql");
            }
            None => {
                cfg.host("localhost");
            }
        }
    }
    if cfg.get_ports().is_empty() {
        if let Some(p) = std::env::var("PGPORT").ok().and_then(|p| p.parse().ok()) {
            cfg.port(p);
        }
    }
    if cfg.get_user().is_none() {
        if let Some(u) = std::env::var("PGUSER").ok().filter(|u| !u.is_empty()) {
            cfg.user(&u);
        }
    }
    if cfg.get_password().is_none() {
        if let Some(p) = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()) {
            cfg.password(p);
        }
    }
    if cfg.get_connect_timeout().is_none() {
        cfg.connect_timeout(CONNECT_TIMEOUT);
    }
    if cfg.get_application_name().is_none() {
        cfg.application_name("llm-scope3");
    }
    Ok(cfg)
}

/// The driver's error in plain words, never with the password.
pub(super) fn describe(e: &postgres::Error, url: &PgUrl) -> String {
    let text = match e.as_db_error() {
        Some(d) => d.message().to_string(),
        None => {
            let mut t = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let more = s.to_string();
                if !t.contains(&more) {
                    t = format!("{t}: {more}");
                }
                source = s.source();
            }
            t
        }
    };
    url.scrub(&text)
}

/// Classifies a PostgreSQL error into the plain-words ledger errors.
pub(super) fn pg_err(shown: &str, url: &PgUrl, e: &postgres::Error) -> LedgerError {
    use postgres::error::SqlState;
    let why = describe(e, url);
    if e.is_closed() {
        // The server went away (restarted, the network dropped): as when it cannot be reached.
        return LedgerError::CannotConnect {
            path: shown.to_string(),
            why,
        };
    }
    match e.code() {
        Some(c) if *c == SqlState::LOCK_NOT_AVAILABLE => LedgerError::Busy {
            path: shown.to_string(),
            secs: WAIT_LIMIT.as_secs(),
        },
        Some(c)
            if *c == SqlState::INSUFFICIENT_PRIVILEGE
                || *c == SqlState::READ_ONLY_SQL_TRANSACTION =>
        {
            LedgerError::ReadOnly {
                path: shown.to_string(),
                why: format!("the server refuses to let this user write to it: {why}"),
            }
        }
        _ => LedgerError::Database {
            path: shown.to_string(),
            why,
        },
    }
}

impl PgConn {
    /// Connects. The error says why in plain words, without the password.
    pub(super) fn connect(url: &PgUrl, shown: &str) -> std::result::Result<PgConn, LedgerError> {
        let cfg = config(url).map_err(|why| LedgerError::CannotConnect {
            path: shown.to_string(),
            why,
        })?;
        if matches!(cfg.get_ssl_mode(), postgres::config::SslMode::Require) {
            return Err(LedgerError::CannotConnect {
                path: shown.to_string(),
                why: "sslmode=require, but this build connects without TLS: use a Unix socket, the local machine or a tunnel (docs/postgres.md)".into(),
            });
        }
        let client = cfg.connect(postgres::NoTls).map_err(|e| {
            use postgres::error::SqlState;
            let why = describe(&e, url);
            match e.code() {
                Some(c) if *c == SqlState::INVALID_CATALOG_NAME => LedgerError::CannotConnect {
                    path: shown.to_string(),
                    why: format!(
                        "{why}: create the database first (createdb, or CREATE DATABASE; docs/postgres.md)"
                    ),
                },
                _ => LedgerError::CannotConnect {
                    path: shown.to_string(),
                    why,
                },
            }
        })?;
        Ok(PgConn {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            in_transaction: Cell::new(false),
        })
    }

    /// The statement for `sql` (`?N` placeholders as `$N`), prepared once per connection.
    fn statement(&self, sql: &str) -> DbResult<postgres::Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let stmt = self
            .client
            .borrow_mut()
            .prepare(&dollar_placeholders(sql))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    pub(super) fn batch(&self, sql: &str) -> DbResult<()> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }

    pub(super) fn execute(&self, sql: &str, params: &[Val]) -> DbResult<u64> {
        let stmt = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as _).collect();
        Ok(self.client.borrow_mut().execute(&stmt, &refs)?)
    }

    pub(super) fn insert(&self, sql: &str, params: &[Val]) -> DbResult<i64> {
        let stmt = self.statement(&format!("{sql} RETURNING id"))?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as _).collect();
        let row = self.client.borrow_mut().query_one(&stmt, &refs)?;
        row.int(0)
    }

    pub(super) fn insert_many(&self, head: &str, width: usize, rows: &[Vec<Val>]) -> DbResult<()> {
        let per = (PARAMS_PER_INSERT / width.max(1)).max(1);
        for chunk in rows.chunks(per) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", super::db::placeholders(i * width + 1, width)))
                .collect();
            let stmt = self.statement(&format!("{head} VALUES {}", values.join(", ")))?;
            let refs: Vec<&(dyn ToSql + Sync)> = chunk
                .iter()
                .flat_map(|r| r.iter().map(|v| v as &(dyn ToSql + Sync)))
                .collect();
            self.client.borrow_mut().execute(&stmt, &refs)?;
        }
        Ok(())
    }

    pub(super) fn query(
        &self,
        sql: &str,
        params: &[Val],
        each: &mut dyn FnMut(&dyn Row) -> DbResult<()>,
    ) -> DbResult<()> {
        use postgres::fallible_iterator::FallibleIterator;
        let stmt = self.statement(sql)?;
        let mut client = self.client.borrow_mut();
        let mut rows = client.query_raw(&stmt, params.iter().map(|v| v as &dyn ToSql))?;
        while let Some(r) = rows.next()? {
            each(&r)?;
        }
        Ok(())
    }

    /// Begins a transaction. A writer then takes the advisory lock: at once when it is free,
    /// else after saying on stderr what it waits for, waiting up to [`WAIT_LIMIT`].
    pub(super) fn begin(&self, how: Begin, shown: &str) -> DbResult<()> {
        self.batch(match how {
            Begin::Write => "BEGIN ISOLATION LEVEL READ COMMITTED",
            Begin::Read => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        })?;
        self.in_transaction.set(true);
        if how == Begin::Read {
            return Ok(());
        }
        let locked = (|| -> DbResult<()> {
            let started = Instant::now();
            let try_lock = || -> DbResult<bool> {
                let mut client = self.client.borrow_mut();
                let row = client.query_one("SELECT pg_try_advisory_xact_lock($1)", &[&LOCK_KEY])?;
                Ok(row.try_get::<_, bool>(0)?)
            };
            while started.elapsed() < WAIT_TELL_AFTER {
                if try_lock()? {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            super::say_waiting(shown);
            let left = WAIT_LIMIT
                .saturating_sub(started.elapsed())
                .as_millis()
                .max(1);
            self.batch(&format!("SET LOCAL lock_timeout = {left}"))?;
            self.client
                .borrow_mut()
                .execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])?;
            self.batch("SET LOCAL lock_timeout = 0")?;
            Ok(())
        })();
        if locked.is_err() {
            let _ = self.end("ROLLBACK");
        }
        locked
    }

    /// Ends the transaction (`COMMIT` or `ROLLBACK`).
    pub(super) fn end(&self, sql: &str) -> DbResult<()> {
        self.in_transaction.set(false);
        let done = self.batch(sql);
        if sql == "ROLLBACK" {
            // A statement prepared in it may name a table it created.
            self.statements.borrow_mut().clear();
        }
        done
    }

    /// Waits at most `limit` for another writer: takes the write lock and lets it go at once.
    /// `Ok(false)` when the wait ran out.
    pub(super) fn wait_for_writers(&self, limit: Duration) -> DbResult<bool> {
        self.batch("BEGIN")?;
        self.in_transaction.set(true);
        let waited = (|| -> DbResult<()> {
            self.batch(&format!(
                "SET LOCAL lock_timeout = {}",
                limit.as_millis().max(1)
            ))?;
            self.client
                .borrow_mut()
                .execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])?;
            Ok(())
        })();
        let _ = self.end("ROLLBACK");
        match waited {
            Ok(()) => Ok(true),
            Err(DbError::Postgres(e))
                if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Forgets the prepared statements (after the schema changed).
    pub(super) fn forget_statements(&self) {
        self.statements.borrow_mut().clear();
    }
}

/// `?N` placeholders as PostgreSQL's `$N` (the ledger's SQL has no `?` in its literals).
fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// The tables of the connection's schema (the first of its search path), the marker table
/// left out, and whether the marker table is there.
pub(super) fn tables_and_marker(db: &super::db::Db) -> DbResult<(Vec<String>, bool)> {
    let schema: Option<String> = db.query_one("SELECT current_schema()", &[], |r| r.opt_text(0))?;
    if schema.is_none() {
        return Err(DbError::Other(
            "the connection has no schema to keep tables in (its search_path names no existing schema)"
                .into(),
        ));
    }
    let names = db.query_vec(
        "SELECT c.relname::text FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
         ORDER BY c.relname COLLATE \"C\"",
        &[],
        |r| r.text(0),
    )?;
    let marked = names.iter().any(|n| n == MARKER_TABLE);
    Ok((
        names.into_iter().filter(|n| n != MARKER_TABLE).collect(),
        marked,
    ))
}

/// Whether this session cannot write: a standby server, a read-only default, or no right to
/// insert into the ledger's tables.
pub(super) fn read_only(db: &super::db::Db) -> DbResult<Option<String>> {
    let (recovery, ro, may_insert) = db.query_one(
        "SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on',
                has_table_privilege(quote_ident(current_schema()) || '.imports', 'INSERT, UPDATE')",
        &[],
        |r| Ok((r.int(0)? != 0, r.int(1)? != 0, r.int(2)? != 0)),
    )?;
    Ok(if recovery {
        Some("the server is a standby (read-only replica)".into())
    } else if ro {
        Some("the server or this user's settings make every transaction read-only".into())
    } else if !may_insert {
        Some("this database user may not write to the ledger's tables".into())
    } else {
        None
    })
}

impl Row for postgres::Row {
    fn opt_int(&self, i: usize) -> DbResult<Option<i64>> {
        let ty = self.columns()[i].type_();
        Ok(match *ty {
            Type::INT8 => self.try_get::<_, Option<i64>>(i)?,
            Type::INT4 => self.try_get::<_, Option<i32>>(i)?.map(i64::from),
            Type::INT2 => self.try_get::<_, Option<i16>>(i)?.map(i64::from),
            Type::BOOL => self.try_get::<_, Option<bool>>(i)?.map(i64::from),
            _ => {
                return Err(DbError::Other(format!(
                    "column {i} is of type {ty}, not an integer"
                )))
            }
        })
    }

    fn opt_real(&self, i: usize) -> DbResult<Option<f64>> {
        let ty = self.columns()[i].type_();
        Ok(match *ty {
            Type::FLOAT8 => self.try_get::<_, Option<f64>>(i)?,
            Type::FLOAT4 => self.try_get::<_, Option<f32>>(i)?.map(f64::from),
            Type::INT8 | Type::INT4 | Type::INT2 => self.opt_int(i)?.map(|v| v as f64),
            _ => {
                return Err(DbError::Other(format!(
                    "column {i} is of type {ty}, not a number"
                )))
            }
        })
    }

    fn opt_text(&self, i: usize) -> DbResult<Option<String>> {
        Ok(self.try_get::<_, Option<String>>(i)?)
    }

    fn value(&self, i: usize) -> DbResult<Value> {
        let ty = self.columns()[i].type_().clone();
        let v = match ty {
            Type::INT8 | Type::INT4 | Type::INT2 | Type::BOOL => self.opt_int(i)?.map(Value::Int),
            Type::FLOAT8 | Type::FLOAT4 => self.opt_real(i)?.map(Value::Real),
            _ => self.opt_text(i)?.map(Value::Text),
        };
        Ok(v.unwrap_or(Value::Null))
    }

    fn width(&self) -> usize {
        self.len()
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Val<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, BoxError> {
        match *self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::FLOAT8 => (v as f64).to_sql(ty, out),
                Type::FLOAT4 => (v as f32).to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                _ => v.to_string().as_str().to_sql(ty, out),
            },
            Val::Real(v) => match *ty {
                Type::FLOAT8 => v.to_sql(ty, out),
                Type::FLOAT4 => (v as f32).to_sql(ty, out),
                _ => v.to_string().as_str().to_sql(ty, out),
            },
            // PostgreSQL's text holds no NUL character: it is kept as U+FFFD.
            Val::Text(t) if t.contains('\0') => {
                t.replace('\0', "\u{FFFD}").as_str().to_sql(ty, out)
            }
            Val::Text(t) => t.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT8
                | Type::INT4
                | Type::INT2
                | Type::FLOAT8
                | Type::FLOAT4
                | Type::BOOL
                | Type::TEXT
                | Type::VARCHAR
                | Type::BPCHAR
                | Type::NAME
                | Type::UNKNOWN
        )
    }

    postgres::types::to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::dollar_placeholders;

    #[test]
    fn placeholders_become_dollars() {
        assert_eq!(
            dollar_placeholders("SELECT a FROM t WHERE b = ?1 AND c IN (?2, ?12) AND d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $12) AND d = '?'"
        );
    }
}
