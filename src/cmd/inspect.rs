//! `llm-scope3 inspect`: for each file, the detected format and why, the column mapping, the
//! first records as the pipeline sees them, and the rejections. Reads all dates (no period).

use crate::cli::InspectArgs;
use crate::config::templates_from;
use crate::error::{Error, Result};
use crate::factors::FactorSet;
use crate::model::{Period, UsageRecord};
use crate::normalise::{read_export, FileRead, FileToRead};
use crate::out::shown;

pub(crate) fn run(args: &InspectArgs) -> Result<()> {
    let templates = templates_from(&(&args.read).into())?;
    let factors = FactorSet::load(args.read.factors.as_deref())?;
    let all_time = Period::all_time();
    let mut failed = 0;
    for (index, path) in args.files.iter().enumerate() {
        let name = path.display().to_string();
        crate::outln!("== {name}");
        let mut first: Vec<UsageRecord> = vec![];
        let mut rejections = vec![];
        let mut sink = |r: UsageRecord| {
            if first.len() < args.rows {
                first.push(r);
            }
            Ok(())
        };
        let file = FileToRead {
            path,
            name: &name,
            file_index: index,
            templates: &templates,
            period: &all_time,
            record_keys: true,
            progress: crate::ingest::Progress::Hidden,
        };
        match read_export(file, &mut sink, &mut rejections) {
            Ok(FileRead::Carbon(c)) => inspect_carbon(&c, args.rows),
            Err(e) => {
                failed += 1;
                crate::outln!("  cannot be used: {e}");
            }
            Ok(FileRead::Usage(report)) => {
                crate::outln!(
                    "  read as: {} ({} bytes), SHA-256 {}",
                    report.dialect,
                    report.bytes,
                    report.sha256
                );
                for s in &report.sheets {
                    let t = templates.all().iter().find(|t| t.id == s.template);
                    let where_ = match &s.sheet {
                        Some(n) => format!("sheet '{n}', row {}", s.header_row),
                        None => format!("row {}", s.header_row),
                    };
                    crate::outln!(
                        "  format: {} (template {}) — header at {where_}",
                        report.format,
                        s.template
                    );
                    if let Some(t) = t {
                        crate::outln!("  {}", t.name);
                        crate::outln!(
                            "  matched because the header has every required column: {}",
                            t.detect
                                .required
                                .iter()
                                .map(|c| c.names().join(" or "))
                                .collect::<Vec<_>>()
                                .join(", ")
                        );
                    }
                    crate::outln!("  column mapping:");
                    for (field, col) in &s.mapping {
                        crate::outln!("    {field:<20} <- {col}");
                    }
                }
                crate::outln!(
                    "  {}; dates {} to {}",
                    crate::report::text::row_accounting(&report),
                    report
                        .first_date
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "-".into()),
                    report
                        .last_date
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "-".into()),
                );
                for line in crate::report::text::money_lines(&report) {
                    crate::outln!("  {line}");
                }
                if report.money_unreadable_rows > 0 {
                    crate::outln!(
                        "  {} row(s) have a cost that is not an amount (rejected; not in the money above)",
                        report.money_unreadable_rows
                    );
                }
                for d in &report.duplicate_columns {
                    crate::outln!("  warning: {d}");
                }
                for a in &report.ambiguous_separators {
                    crate::outln!("  warning: {a}");
                }
                for g in &report.ai_skipped {
                    crate::outln!(
                        "  warning: {} row(s) skipped as another service name {} ({}; first row {}: {})",
                        g.rows,
                        g.matched,
                        crate::pipeline::warnings::money_text(&g.spend),
                        g.first_row,
                        shown(&g.text)
                    );
                }
                for note in &report.notes {
                    crate::outln!("  note: {note}");
                }
                for (decision, n) in &report.unit_decisions {
                    crate::outln!("  unit decision: {decision}: {n} row(s)");
                }
                if report.adjustment_rows > 0 {
                    crate::outln!(
                        "  spend adjustments (money only, never activity): {} row(s): {}",
                        report.adjustment_rows,
                        report
                            .adjustments
                            .iter()
                            .map(|(c, v)| format!("{c} {v:.2}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                crate::outln!("  first {} record(s):", first.len());
                for r in &first {
                    let resolved = match &r.kind {
                        crate::model::RecordKind::Usage => factors.resolve_model(&r.model).key,
                        crate::model::RecordKind::NotEstimated { label, .. } => {
                            format!("[{label}]")
                        }
                        crate::model::RecordKind::Adjustment { label } => {
                            format!("[spend adjustment: {label}]")
                        }
                    };
                    crate::outln!(
                        "    row {:>5}  {}  {} -> {}  region {}  cost centre {}  requests {}  in {} (cached {})  out {}",
                        r.provenance.row,
                        r.bucket_start.format("%Y-%m-%d %H:%M"),
                        shown(&r.model),
                        shown(&resolved),
                        shown(r.region.as_deref().unwrap_or("-")),
                        shown(r.cost_centre.as_deref().unwrap_or("-")),
                        r.requests,
                        r.input_tokens,
                        r.cached_input_tokens,
                        r.output_tokens
                    );
                    if let Some(c) = r.cost {
                        crate::outln!(
                            "           cost {c} {}",
                            shown(r.currency.as_deref().unwrap_or(""))
                        );
                    }
                }
                print_rejections(&rejections);
            }
        }
    }
    if failed > 0 {
        return Err(Error::InputData(format!(
            "{failed} file(s) cannot be used (see above)"
        )));
    }
    Ok(())
}

/// `inspect` of a vendor carbon report.
fn inspect_carbon(c: &crate::normalise::carbon::CarbonFile, rows: usize) {
    let r = &c.report;
    crate::outln!(
        "  read as: {} ({} bytes), SHA-256 {}",
        r.dialect,
        r.bytes,
        r.sha256
    );
    for s in &r.sheets {
        let t = crate::normalise::carbon::templates()
            .iter()
            .find(|t| t.id == s.template);
        crate::outln!(
            "  format: {} (vendor carbon report, template templates/carbon/{}.toml) — header at row {}",
            s.template, s.template, s.header_row
        );
        if let Some(t) = t {
            crate::outln!("  {}: {}", t.name, t.description);
        }
        crate::outln!("  column mapping:");
        for (field, col) in &s.mapping {
            crate::outln!("    {field:<22} <- {col}");
        }
    }
    crate::outln!("  {}", crate::report::text::row_accounting(r));
    crate::outln!("  first {} row(s), kgCO2e:", c.rows.len().min(rows));
    for x in c.rows.iter().take(rows) {
        let kg = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.6}"));
        crate::outln!(
            "    row {:>5}  {} {} {} {} {}  location-based {}  market-based {}  model {}{}",
            x.row,
            x.month,
            x.provider,
            x.account.as_deref().unwrap_or("(no account)"),
            x.service,
            x.region,
            kg(x.location_kg),
            kg(x.market_kg),
            x.model_version.as_deref().unwrap_or("-"),
            x.context
                .as_ref()
                .map(|c| format!("  [context only: {c}]"))
                .unwrap_or_default()
        );
    }
    print_rejections(&c.rejections);
}

/// The first 20 rejections of a file.
fn print_rejections(rejections: &[crate::model::Rejection]) {
    if rejections.is_empty() {
        return;
    }
    crate::outln!("  rejections ({}):", rejections.len());
    for x in rejections.iter().take(20) {
        crate::outln!(
            "    row {:>5}  column {}  value '{}': {}",
            x.row,
            shown(x.column.as_deref().unwrap_or("-")),
            x.value_shown(crate::model::QUOTED_TEXT_CHARS),
            shown(&x.reason)
        );
    }
}
