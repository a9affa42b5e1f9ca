//! The one connection type the ledger's logic is written against: the embedded SQLite file
//! (rusqlite) or a PostgreSQL server (the `postgres` crate). The ledger's queries are written
//! once, with SQLite's `?1` placeholders (turned into `$1` for PostgreSQL); where the two
//! dialects differ, the caller picks the text by [`Db::dialect`]. Parameters are [`Val`]s and
//! rows are read through [`Row`], so no query depends on either driver's types.

use std::cell::Cell;

/// Which SQL dialect a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// The embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A query parameter, borrowed from the caller.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Val<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
}

impl From<i64> for Val<'_> {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<Option<i64>> for Val<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Val::Null, Val::Int)
    }
}
impl From<f64> for Val<'_> {
    fn from(v: f64) -> Self {
        Val::Real(v)
    }
}
impl From<Option<f64>> for Val<'_> {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Val::Null, Val::Real)
    }
}
impl<'a> From<&'a str> for Val<'a> {
    fn from(v: &'a str) -> Self {
        Val::Text(v)
    }
}
impl<'a> From<&'a String> for Val<'a> {
    fn from(v: &'a String) -> Self {
        Val::Text(v)
    }
}
impl<'a> From<Option<&'a str>> for Val<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Val::Null, Val::Text)
    }
}
impl<'a> From<&'a Option<String>> for Val<'a> {
    fn from(v: &'a Option<String>) -> Self {
        v.as_deref().map_or(Val::Null, Val::Text)
    }
}
impl<'a> From<&'a Value> for Val<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => Val::Null,
            Value::Int(i) => Val::Int(*i),
            Value::Real(r) => Val::Real(*r),
            Value::Text(t) => Val::Text(t),
        }
    }
}

/// The parameters of a query: `vals![a, b, c]`.
macro_rules! vals {
    ($($x:expr),* $(,)?) => { &[$($crate::ledger::db::Val::from($x)),*][..] };
}
pub(crate) use vals;

/// A value read from a row whatever its column's type (for `ledger copy`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// A database error of either backend.
#[derive(Debug)]
pub(crate) enum DbError {
    Sqlite(rusqlite::Error),
    #[cfg(feature = "postgres")]
    Postgres(postgres::Error),
    /// A value of an unexpected type, or a query that returned no row.
    Other(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Sqlite(e) => e.fmt(f),
            #[cfg(feature = "postgres")]
            DbError::Postgres(e) => match e.as_db_error() {
                Some(d) => f.write_str(d.message()),
                None => e.fmt(f),
            },
            DbError::Other(m) => f.write_str(m),
        }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sqlite(e)
    }
}

#[cfg(feature = "postgres")]
impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        DbError::Postgres(e)
    }
}

pub(crate) type DbResult<T> = std::result::Result<T, DbError>;

/// One row of a result, read by column index.
pub(crate) trait Row {
    fn opt_int(&self, i: usize) -> DbResult<Option<i64>>;
    fn opt_real(&self, i: usize) -> DbResult<Option<f64>>;
    fn opt_text(&self, i: usize) -> DbResult<Option<String>>;
    /// The value whatever its type.
    fn value(&self, i: usize) -> DbResult<Value>;
    /// The number of columns.
    fn width(&self) -> usize;

    fn int(&self, i: usize) -> DbResult<i64> {
        self.opt_int(i)?
            .ok_or_else(|| DbError::Other(format!("column {i} is NULL")))
    }
    fn real(&self, i: usize) -> DbResult<f64> {
        self.opt_real(i)?
            .ok_or_else(|| DbError::Other(format!("column {i} is NULL")))
    }
    fn text(&self, i: usize) -> DbResult<String> {
        self.opt_text(i)?
            .ok_or_else(|| DbError::Other(format!("column {i} is NULL")))
    }
}

impl Row for rusqlite::Row<'_> {
    fn opt_int(&self, i: usize) -> DbResult<Option<i64>> {
        Ok(self.get(i)?)
    }
    fn opt_real(&self, i: usize) -> DbResult<Option<f64>> {
        Ok(self.get(i)?)
    }
    fn opt_text(&self, i: usize) -> DbResult<Option<String>> {
        Ok(self.get(i)?)
    }
    fn value(&self, i: usize) -> DbResult<Value> {
        use rusqlite::types::ValueRef;
        Ok(match self.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::Int(v),
            ValueRef::Real(v) => Value::Real(v),
            ValueRef::Text(t) | ValueRef::Blob(t) => {
                Value::Text(String::from_utf8_lossy(t).into_owned())
            }
        })
    }
    fn width(&self) -> usize {
        self.as_ref().column_count()
    }
}

impl rusqlite::ToSql for Val<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(v) => ValueRef::Integer(*v),
            Val::Real(v) => ValueRef::Real(*v),
            Val::Text(t) => ValueRef::Text(t.as_bytes()),
        }))
    }
}

/// A ledger connection.
pub(crate) enum Db {
    /// The embedded SQLite file.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL server (boxed: its client and statement cache are larger).
    #[cfg(feature = "postgres")]
    Postgres(Box<super::postgres::PgConn>),
}

/// How a transaction is begun.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Begin {
    /// A writer: takes the ledger's write lock (waiting for another writer).
    Write,
    /// A reader's consistent view.
    Read,
}

impl Db {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection (the SQLite-only parts of the ledger).
    pub(crate) fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Db::Sqlite(c) => Some(c),
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => None,
        }
    }

    /// `sqlite` or `postgres` by the dialect.
    pub(crate) fn pick<'s>(&self, sqlite: &'s str, postgres: &'s str) -> &'s str {
        match self.dialect() {
            Dialect::Sqlite => sqlite,
            Dialect::Postgres => postgres,
        }
    }

    /// Runs statements without parameters.
    pub(crate) fn batch(&self, sql: &str) -> DbResult<()> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.batch(sql),
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[Val]) -> DbResult<u64> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.execute(sql, params),
        }
    }

    /// Inserts one row and returns its new `id`.
    pub(crate) fn insert(&self, sql: &str, params: &[Val]) -> DbResult<i64> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                stmt.execute(rusqlite::params_from_iter(params.iter()))?;
                Ok(c.last_insert_rowid())
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.insert(sql, params),
        }
    }

    /// Inserts many rows: `head` is `INSERT INTO t(a, b, ...)`, each row's values one row's
    /// parameters (every row as wide as the column list).
    pub(crate) fn insert_many(&self, head: &str, rows: &[Vec<Val>]) -> DbResult<()> {
        let Some(width) = rows.first().map(Vec::len) else {
            return Ok(());
        };
        match self {
            Db::Sqlite(c) => {
                let sql = format!("{head} VALUES ({})", placeholders(1, width));
                let mut stmt = c.prepare_cached(&sql)?;
                for row in rows {
                    stmt.execute(rusqlite::params_from_iter(row.iter()))?;
                }
                Ok(())
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.insert_many(head, width, rows),
        }
    }

    /// Runs a query and hands each row to `each`, in order, without collecting them.
    pub(crate) fn query(
        &self,
        sql: &str,
        params: &[Val],
        each: &mut dyn FnMut(&dyn Row) -> DbResult<()>,
    ) -> DbResult<()> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
                while let Some(r) = rows.next()? {
                    each(r)?;
                }
                Ok(())
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.query(sql, params, each),
        }
    }

    /// Every row of a query, each made into a `T`.
    pub(crate) fn query_vec<T>(
        &self,
        sql: &str,
        params: &[Val],
        mut f: impl FnMut(&dyn Row) -> DbResult<T>,
    ) -> DbResult<Vec<T>> {
        let mut out = vec![];
        self.query(sql, params, &mut |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of a query, if any.
    pub(crate) fn query_opt<T>(
        &self,
        sql: &str,
        params: &[Val],
        f: impl FnOnce(&dyn Row) -> DbResult<T>,
    ) -> DbResult<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        self.query(sql, params, &mut |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of a query, which must have one.
    pub(crate) fn query_one<T>(
        &self,
        sql: &str,
        params: &[Val],
        f: impl FnOnce(&dyn Row) -> DbResult<T>,
    ) -> DbResult<T> {
        self.query_opt(sql, params, f)?
            .ok_or_else(|| DbError::Other("the query returned no row".into()))
    }

    /// Whether a query returns a row.
    pub(crate) fn exists(&self, sql: &str, params: &[Val]) -> DbResult<bool> {
        Ok(self.query_opt(sql, params, |_| Ok(()))?.is_some())
    }

    /// Whether a transaction is open.
    pub(crate) fn in_transaction(&self) -> bool {
        match self {
            Db::Sqlite(c) => !c.is_autocommit(),
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.in_transaction.get(),
        }
    }

    /// Begins a transaction: a writer takes the ledger's write lock, waiting for another
    /// writer (up to [`super::WAIT_LIMIT`], saying so on stderr after a moment), so writers
    /// take turns; a reader sees one consistent view until it ends.
    pub(crate) fn begin(&self, how: Begin, shown: &str) -> DbResult<()> {
        match self {
            Db::Sqlite(c) => {
                // The busy handler set when the ledger was opened does the waiting (and
                // says so, naming the ledger it was given).
                let _ = shown;
                c.execute_batch(match how {
                    Begin::Write => "BEGIN IMMEDIATE",
                    Begin::Read => "BEGIN",
                })?;
                Ok(())
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.begin(how, shown),
        }
    }

    /// Commits the open transaction.
    pub(crate) fn commit(&self) -> DbResult<()> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch("COMMIT")?),
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.end("COMMIT"),
        }
    }

    /// Rolls the open transaction back, if one is open (best effort).
    pub(crate) fn rollback(&self) {
        if !self.in_transaction() {
            return;
        }
        match self {
            Db::Sqlite(c) => {
                let _ = c.execute_batch("ROLLBACK");
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => {
                let _ = c.end("ROLLBACK");
            }
        }
    }

    /// A write transaction, rolled back unless committed.
    pub(crate) fn write(&self, shown: &str) -> DbResult<Tx<'_>> {
        self.begin(Begin::Write, shown)?;
        Ok(Tx {
            db: self,
            done: Cell::new(false),
        })
    }
}

/// `?a, ?a+1, ... ` for `n` parameters.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A write transaction: rolled back when dropped uncommitted.
pub(crate) struct Tx<'a> {
    db: &'a Db,
    done: Cell<bool>,
}

impl Tx<'_> {
    /// Commits it.
    pub(crate) fn commit(self) -> DbResult<()> {
        self.db.commit()?;
        self.done.set(true);
        Ok(())
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done.get() {
            self.db.rollback();
        }
    }
}

/// SQLite's `sum()` of REAL values (Kahan-Babuska-Neumaier summation, as SQLite 3.43 and
/// later sum): money sums are made here, in the records' order, so that both backends give
/// the same figure to the last bit.
#[derive(Default, Clone, Copy)]
pub(crate) struct Sum {
    sum: f64,
    err: f64,
}

impl Sum {
    pub(crate) fn add(&mut self, r: f64) {
        let s = self.sum;
        let t = s + r;
        if s.abs() > r.abs() {
            self.err += (s - t) + r;
        } else {
            self.err += (r - t) + s;
        }
        self.sum = t;
    }

    pub(crate) fn value(&self) -> f64 {
        if self.err.is_finite() {
            self.sum + self.err
        } else {
            self.sum
        }
    }
}
