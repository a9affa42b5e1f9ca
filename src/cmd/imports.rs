//! `llm-scope3 imports list|show|remove`.

use chrono::Utc;

use crate::cli::{ImportsAction, ImportsArgs};
use crate::error::{Error, Result};
use crate::ledger::{Ledger, LedgerError, Location};

pub(crate) fn run(args: &ImportsArgs) -> Result<()> {
    let location = Location::chosen(args.ledger.ledger.as_deref());
    match args.action.clone().unwrap_or(ImportsAction::List) {
        ImportsAction::List => {
            let ledger = Ledger::open_existing_at(&location)?;
            crate::outln!("ledger {}", ledger.shown());
            crate::outln!(
                "{:>4}  {:<17} {:<10} {:<10} {:>8} {:>8} {:>8} {:>8} {:>8}  file",
                "id",
                "format",
                "from",
                "to",
                "rows",
                "records",
                "dupl.",
                "restated",
                "in use"
            );
            for s in ledger.list()? {
                crate::outln!(
                    "{:>4}  {:<17} {:<10} {:<10} {:>8} {:>8} {:>8} {:>8} {:>8}  {}{}",
                    s.id,
                    s.format,
                    s.first_date.unwrap_or_default(),
                    s.last_date.unwrap_or_default(),
                    s.rows_read,
                    s.accepted,
                    s.duplicate,
                    s.restated,
                    s.active,
                    s.file,
                    s.entity
                        .map(|e| format!("  [entity {e}]"))
                        .unwrap_or_default()
                        + &s.removed_at
                            .map(|r| format!("  [removed {r}]"))
                            .unwrap_or_default()
                );
            }
        }
        ImportsAction::Show { id } => {
            let ledger = Ledger::open_existing_at(&location)?;
            let _view = ledger.snapshot()?;
            let s = ledger.summary(id)?;
            let (report, rejections) = ledger.details(id)?;
            crate::outln!("import #{}: {}", s.id, s.file);
            crate::outln!(
                "  SHA-256 {}, format {}, imported {}",
                s.sha256,
                s.format,
                s.imported_at
            );
            crate::outln!(
                "  dates {} to {}",
                s.first_date.unwrap_or_default(),
                s.last_date.unwrap_or_default()
            );
            let c = &report.counts;
            crate::outln!(
                "  rows read {}: records {} ({} duplicates, {} restated, {} in use now), rejected {}, skipped {}",
                c.read, s.accepted, s.duplicate, s.restated, s.active, c.rejected, c.skipped
            );
            if let Some(r) = s.removed_at {
                crate::outln!("  removed {r}");
            }
            let by_entity = ledger.entity_counts(id)?;
            if by_entity.iter().any(|(e, _, _)| e.is_some()) {
                let parts: Vec<String> = by_entity
                    .iter()
                    .map(|(e, n, active)| {
                        format!(
                            "{} {n} ({active} in use)",
                            e.as_deref().unwrap_or("no entity")
                        )
                    })
                    .collect();
                crate::outln!(
                    "  reporting entities{}: {}",
                    match &s.entity {
                        Some(_) => " (named by import --entity)",
                        None => " (by the config file's [[entities]] rules)",
                    },
                    parts.join(", ")
                );
            }
            for n in &report.notes {
                crate::outln!("  note: {n}");
            }
            for x in rejections.iter().take(50) {
                crate::outln!(
                    "  rejected row {}: column {} value '{}': {}",
                    x.row,
                    crate::out::shown(x.column.as_deref().unwrap_or("-")),
                    x.value_shown(crate::model::QUOTED_TEXT_CHARS),
                    crate::out::shown(&x.reason)
                );
            }
        }
        ImportsAction::Verify => {
            let ledger = match Ledger::open_existing_at(&location) {
                Err(e @ LedgerError::Damaged { .. }) => {
                    crate::outln!("ledger {location}");
                    if let Some(file) = location.file() {
                        for p in crate::ledger::damage_report(file) {
                            crate::outln!("  damage: {p}");
                        }
                    }
                    return Err(e.into());
                }
                other => other?,
            };
            let v = ledger.verify()?;
            crate::outln!("ledger {}", ledger.shown());
            crate::outln!(
                "  {} import(s), {} record(s), {} vendor carbon row(s), {} final statement(s)",
                v.imports,
                v.records,
                v.carbon_rows,
                v.statements
            );
            if !v.problems.is_empty() {
                for p in &v.problems {
                    crate::outln!("  damage: {p}");
                }
                return Err(LedgerError::Damaged {
                    path: ledger.shown().to_string(),
                    why: format!(
                        "{} found {} problem(s), first: {}",
                        if ledger.location().file().is_some() {
                            "SQLite's full check"
                        } else {
                            "the ledger's consistency check"
                        },
                        v.problems.len(),
                        v.problems[0]
                    ),
                }
                .into());
            }
            crate::outln!("  no damage found ({})", v.checks);
        }
        ImportsAction::Remove { id, yes } => {
            if !yes {
                return Err(Error::Usage(format!(
                    "removing import #{id} withdraws its records from every later report: add --yes to confirm"
                )));
            }
            let mut ledger = Ledger::open_existing_at(&location)?;
            ledger.set_actor(super::actor());
            ledger.remove(id, Utc::now())?;
            crate::outln!(
                "import #{id} removed from {} (recorded in the change log)",
                ledger.shown()
            );
        }
    }
    Ok(())
}
