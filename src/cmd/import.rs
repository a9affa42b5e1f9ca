//! `llm-scope3 import`: each file into the ledger, one transaction per file.

use chrono::Utc;

use crate::cli::ImportArgs;
use crate::config::{templates_from, ReadRequest};
use crate::error::Result;
use crate::ledger::{ImportResult, Ledger, Location};
use crate::pipeline;

pub(crate) fn run(args: &ImportArgs) -> Result<()> {
    let templates = templates_from(&ReadRequest {
        templates: args.templates.clone(),
        ..ReadRequest::default()
    })?;
    let (inputs, skipped) = pipeline::inputs_from_paths(&args.inputs)?;
    let mut ledger = Ledger::open_at(&Location::chosen(args.ledger.ledger.as_deref()))?;
    ledger.set_actor(super::actor());
    import_all(&mut ledger, &inputs, &templates, args.replace)?;
    super::report::print_skipped(&skipped);
    Ok(())
}

/// Imports files in order and prints what happened to each; stops at the first unusable file
/// (the files before it stay imported: each import is its own transaction).
pub(crate) fn import_all(
    ledger: &mut Ledger,
    inputs: &[pipeline::Input],
    templates: &crate::normalise::TemplateSet,
    replace: Option<i64>,
) -> Result<()> {
    crate::outln!("ledger {}", ledger.shown());
    for input in inputs {
        match pipeline::import_file(
            ledger,
            input,
            templates,
            replace,
            Utc::now(),
            crate::ingest::Progress::Shown,
        )? {
            ImportResult::AlreadyImported(s) => crate::outln!(
                "  {}: already imported as #{} ({}; same SHA-256): nothing changed",
                input.name,
                s.id,
                s.file
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
