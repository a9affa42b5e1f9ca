//! `llm-scope3 import`: each file into the ledger, one transaction per file.

use chrono::Utc;

use crate::cli::ImportArgs;
use crate::config::{templates_from, EntityRules, ReadRequest};
use crate::error::Result;
use crate::ledger::{ImportResult, Ledger, Location};
use crate::pipeline;

pub(crate) fn run(args: &ImportArgs) -> Result<()> {
    let templates = templates_from(&ReadRequest {
        templates: args.templates.clone(),
        ..ReadRequest::default()
    })?;
    let entity = entity_name(args.entity.as_deref())?;
    // The config file's entity rules; read only when no entity is named for the files.
    let rules = match entity {
        Some(_) => EntityRules::default(),
        None => EntityRules::from_file(args.config.as_deref())?,
    };
    let (inputs, skipped) = pipeline::inputs_from_paths(&args.inputs)?;
    let mut ledger = Ledger::open_at(&Location::chosen(args.ledger.ledger.as_deref()))?;
    ledger.set_actor(super::actor());
    let assign = pipeline::Assign {
        entity,
        rules: (!rules.is_empty()).then_some(&rules),
    };
    import_all(&mut ledger, &inputs, &templates, args.replace, assign)?;
    super::report::print_skipped(&skipped);
    Ok(())
}

/// A reporting entity's name as given (`--entity`), trimmed; an empty one is refused.
pub(crate) fn entity_name(given: Option<&str>) -> Result<Option<&str>> {
    match given.map(str::trim) {
        Some("") => Err(crate::error::Error::Usage(
            "--entity needs the reporting entity's name, e.g. --entity \"Acme France SAS\"".into(),
        )),
        other => Ok(other),
    }
}

/// Imports files in order and prints what happened to each; stops at the first unusable file
/// (the files before it stay imported: each import is its own transaction). `assign` gives
/// the records their reporting entity.
pub(crate) fn import_all(
    ledger: &mut Ledger,
    inputs: &[pipeline::Input],
    templates: &crate::normalise::TemplateSet,
    replace: Option<i64>,
    assign: pipeline::Assign<'_>,
) -> Result<()> {
    crate::outln!("ledger {}", ledger.shown());
    for input in inputs {
        match pipeline::import_file_as(
            ledger,
            input,
            templates,
            replace,
            Utc::now(),
            crate::ingest::Progress::Shown,
            assign,
        )? {
            ImportResult::AlreadyImported(s) => crate::outln!(
                "  {}: already imported as #{} ({}; same SHA-256): nothing changed{}",
                input.name,
                s.id,
                s.file,
                match (&s.entity, assign.entity) {
                    (Some(was), Some(now)) if was != now =>
                        format!(" (its records stay with entity {was}, not {now})"),
                    (None, Some(now)) => format!(
                        " (its records keep the entities they were imported with, not {now})"
                    ),
                    _ => String::new(),
                }
            ),
            ImportResult::Imported(s, report) => {
                crate::outln!(
                    "  {}: imported as #{} [{}]: {}",
                    input.name,
                    s.id,
                    s.format,
                    crate::report::text::row_accounting(&report)
                );
                crate::outln!(
                    "      {} records stored: {} duplicate earlier imports, {} restated",
                    s.accepted,
                    s.duplicate,
                    s.restated
                );
                if let Some(line) = entities_line(ledger, s.id, assign)? {
                    crate::outln!("      {line}");
                }
                if report.rejected_seen_before > 0 {
                    crate::outln!(
                        "      {} rejected row(s) were already rejected in an earlier import: counted once, as duplicates",
                        report.rejected_seen_before
                    );
                }
                for line in crate::report::text::money_lines(&report) {
                    crate::outln!("      {line}");
                }
                for w in &report.ai_skipped {
                    crate::outln!(
                        "      warning: {} row(s) skipped as another service name {} (first row {}: {})",
                        w.rows, w.matched, w.first_row, w.text
                    );
                }
            }
        }
    }
    Ok(())
}

/// The reporting entities an import's records went to, in one line (`None` when none was
/// named and no rule matched, as before entities existed).
fn entities_line(ledger: &Ledger, id: i64, assign: pipeline::Assign<'_>) -> Result<Option<String>> {
    if assign.entity.is_none() && assign.rules.is_none() {
        return Ok(None);
    }
    let counts = ledger.entity_counts(id)?;
    if counts.iter().all(|(e, _, _)| e.is_none()) {
        return Ok(Some(
            "entity: none (no [[entities]] rule of the config file matched a record: they count in the group's report only)".into(),
        ));
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(e, n, _)| match e {
            Some(e) => format!("{e} {n}"),
            None => format!("no entity {n}"),
        })
        .collect();
    let how = if assign.entity.is_some() {
        "named by --entity"
    } else {
        "by the config file's [[entities]] rules"
    };
    Ok(Some(format!(
        "records by entity ({how}): {}",
        parts.join(", ")
    )))
}
