//! `ledger copy`: every row of one ledger into a new, empty one, from a file to a PostgreSQL
//! database or back, with its ids (imports, records, statements and change-log entries keep
//! their numbers, which the change log and statements cite), in one transaction of the
//! destination while the source is read in one snapshot. The upload page's users (with their
//! password hashes) and the audit log go along: the copy is the same ledger, for the same
//! people.

use super::db::{Db, DbError, Val, Value};
use super::{Ledger, LedgerError, Location, Result};

/// What was copied: rows per table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    /// Imports (removed ones included).
    pub imports: i64,
    /// Usage records.
    pub records: i64,
    /// Rejected rows.
    pub rejections: i64,
    /// Vendor carbon rows.
    pub carbon_rows: i64,
    /// Change-log entries.
    pub changes: i64,
    /// Final statements.
    pub statements: i64,
    /// Users of the upload page.
    pub users: i64,
    /// Audit-log entries.
    pub audit: i64,
}

/// The tables in the order they are copied (a row's import before it), each with its
/// columns; `replaced_by` is set once every import is there.
const TABLES: [(&str, &str); 8] = [
    (
        "imports",
        "id, file, sha256, format, template, imported_at, first_date, last_date, bucket_secs,
         accounts, rows_read, accepted, duplicate, restated, report_json, removed_at, entity",
    ),
    (
        "records",
        "id, import_id, record_key, active, sheet, row, bucket_start, bucket_end, provider, model,
         region, region_scope, cost_centre, requests, input_tokens, cached_input_tokens,
         output_tokens, input_characters, output_characters, cost, currency, kind, kind_label,
         kind_quantity, kind_unit, account, service, requests_reported, entity",
    ),
    (
        "rejections",
        "import_id, sheet, row, col, value, reason, row_hash",
    ),
    (
        "supplier_rows",
        "id, import_id, row_key, active, sheet, row, month, provider, account, sub_account,
         service, service_raw, region, kg_location, kg_market, kg_scope1, kg_scope2_location,
         kg_scope2_market, kg_scope3, model_version, context, entity",
    ),
    ("changes", "id, at, import_id, kind, month, detail"),
    (
        "statements",
        "id, period_label, period_start, period_end, stated_at, factor_version, factor_sha256,
         imports, kgco2e_low, kgco2e_central, kgco2e_high, energy_kwh, input_tokens,
         output_tokens, accepted_gaps, entity",
    ),
    (
        "users",
        "id, name, role, password_hash, created_at, updated_at",
    ),
    ("audit", "id, at, who, via, action, detail, client"),
];

/// Rows inserted per statement.
const BATCH: usize = 1_000;

/// The column that orders a table's rows: its id (SQLite's rowid for rejections, which have
/// no id column there).
fn key_column(db: &Db, table: &str) -> &'static str {
    match (table, db.sqlite().is_some()) {
        ("rejections", true) => "rowid",
        _ => "id",
    }
}

/// Copies the ledger at `from` into a new or empty ledger at `to` (made when it does not
/// exist). Refuses a destination that holds anything, and the same ledger twice; on failure
/// nothing is copied (and a file made for the copy is removed).
pub fn copy(from: &Location, to: &Location) -> Result<Copied> {
    if from == to {
        return Err(LedgerError::Refused(format!(
            "--from and --to name the same ledger ({from}): nothing was copied"
        )));
    }
    let made_file = to.file().filter(|p| !p.exists()).map(|p| p.to_path_buf());
    let source = Ledger::open_existing_at(from)?;
    let copied = (|| {
        let target = Ledger::open_at(to)?;
        copy_into(&source, &target)
    })();
    if copied.is_err() {
        if let Some(p) = made_file {
            super::sqlite::remove_with_sidecars(&p);
        }
    }
    copied
}

fn copy_into(source: &Ledger, target: &Ledger) -> Result<Copied> {
    let se = source.err();
    let te = target.err();
    let held = target
        .db
        .query_one(
            "SELECT (SELECT count(*) FROM imports) + (SELECT count(*) FROM statements)
                    + (SELECT count(*) FROM changes) + (SELECT count(*) FROM users)
                    + (SELECT count(*) FROM audit)",
            &[],
            |r| r.int(0),
        )
        .map_err(&te)?;
    if held > 0 {
        return Err(LedgerError::Refused(format!(
            "{} already holds imports, statements, change-log entries, users or audit entries: copy into a new, empty ledger (nothing was copied)",
            target.shown
        )));
    }
    let _view = source.snapshot()?;
    let tx = target.db.write(&target.shown).map_err(&te)?;
    let mut copied = Copied::default();
    for (table, columns) in TABLES {
        let (from_key, to_key) = if table == "rejections" {
            (key_column(&source.db, table), key_column(&tx, table))
        } else {
            ("", "")
        };
        let (select, head) = if table == "rejections" {
            (
                format!("SELECT {from_key}, {columns} FROM {table} ORDER BY {from_key}"),
                format!("INSERT INTO {table}({to_key}, {columns})"),
            )
        } else {
            (
                format!("SELECT {columns} FROM {table} ORDER BY id"),
                format!("INSERT INTO {table}({columns})"),
            )
        };
        let mut batch: Vec<Vec<Value>> = Vec::with_capacity(BATCH);
        let mut failed: Option<DbError> = None;
        let mut n = 0i64;
        let flush = |batch: &mut Vec<Vec<Value>>| -> std::result::Result<(), DbError> {
            let rows: Vec<Vec<Val>> = batch
                .iter()
                .map(|r| r.iter().map(Val::from).collect())
                .collect();
            tx.insert_many(&head, &rows)?;
            batch.clear();
            Ok(())
        };
        let read = source.db.query(&select, &[], &mut |r| {
            batch.push(
                (0..r.width())
                    .map(|i| r.value(i))
                    .collect::<std::result::Result<_, _>>()?,
            );
            n += 1;
            if batch.len() >= BATCH {
                if let Err(e) = flush(&mut batch) {
                    failed = Some(e);
                    return Err(DbError::Other("the copy stopped".into()));
                }
            }
            Ok(())
        });
        if let Some(e) = failed {
            return Err(te(e));
        }
        read.map_err(&se)?;
        flush(&mut batch).map_err(&te)?;
        match table {
            "imports" => copied.imports = n,
            "records" => copied.records = n,
            "rejections" => copied.rejections = n,
            "supplier_rows" => copied.carbon_rows = n,
            "changes" => copied.changes = n,
            "users" => copied.users = n,
            "audit" => copied.audit = n,
            _ => copied.statements = n,
        }
    }
    // Which import replaced which, now that every import is there.
    for (id, by) in source
        .db
        .query_vec(
            "SELECT id, replaced_by FROM imports WHERE replaced_by IS NOT NULL ORDER BY id",
            &[],
            |r| Ok((r.int(0)?, r.int(1)?)),
        )
        .map_err(&se)?
    {
        tx.execute(
            "UPDATE imports SET replaced_by = ?1 WHERE id = ?2",
            super::db::vals![by, id],
        )
        .map_err(&te)?;
    }
    // The ledger's other settings (not its schema version: the new ledger's own).
    for (key, value) in source
        .db
        .query_vec(
            "SELECT key, value FROM meta WHERE key NOT IN ('schema_version', 'write_check') ORDER BY key",
            &[],
            |r| Ok((r.text(0)?, r.text(1)?)),
        )
        .map_err(&se)?
    {
        tx.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            super::db::vals![&key, &value],
        )
        .map_err(&te)?;
    }
    if tx.sqlite().is_none() {
        // PostgreSQL numbers new rows from a sequence: past the copied ids.
        for (table, _) in TABLES {
            tx.query_one(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                        (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                ),
                &[],
                |r| r.int(0),
            )
            .map_err(&te)?;
        }
    }
    tx.commit().map_err(&te)?;
    target.checkpoint();
    // The copy holds what the source held.
    let v = target.verify()?;
    let counted = (v.imports, v.records, v.carbon_rows, v.statements);
    let expected = (
        copied.imports,
        copied.records,
        copied.carbon_rows,
        copied.statements,
    );
    if counted != expected || !v.problems.is_empty() {
        return Err(LedgerError::Database {
            path: target.shown.clone(),
            why: format!(
                "the copy holds {counted:?} (imports, records, carbon rows, statements) where {expected:?} were copied; problems: {}",
                v.problems.join("; ")
            ),
        });
    }
    Ok(copied)
}
