//! The Cover sheet: what the workbook is, the result, the warnings, the input files and the
//! configuration.

use rust_xlsxwriter::XlsxError;

use super::writer::{Book, CellText, Sheet};
use crate::factors::FactorSet;
use crate::pipeline::{finality, Outcome};

pub(super) fn write(book: &mut Book<'_>, o: &Outcome, set: &FactorSet) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Cover")?;
    let f = ws.f;
    ws.set_column_width(0, 34)?;
    ws.set_column_width(1, 90)?;
    ws.print_layout();
    ws.text_fmt(
        0,
        0,
        "Scope 3 emissions of purchased AI / LLM API services",
        &f.title,
    )?;
    let mut rows: Vec<(&str, String)> = vec![
        ("Reporting entity", o.entity.clone()),
        ("Reporting period", format!("{} ({} to {})", o.period.label, o.period.start, o.period.end)),
        ("Basis", "ESRS E1-6, GHG Protocol Scope 3 Category 1 (purchased goods and services), ESRS E1 AR 51 subset: cloud computing and data centre services".into()),
        ("GWP set", if set.sources.contains_key("egrid-2023rev2") {
            "IPCC GWP-100 as each source converts other gases (eGRID2023rev2 and USEEIO v1.3 with their publishers' GWP sets; Methodology sheet)".into()
        } else {
            "IPCC AR6 GWP-100".into()
        }),
        ("Electricity", "Location-based grid factors (a market-based or CFE-adjusted view is a sensitivity, not the reported figure)".into()),
        ("Result (central)", result_text(o)),
        ("Warnings", match o.warnings.len() {
            0 => "None: every month of the period has data, every file's rows and money add up, no AI line was skipped".into(),
            n => format!("{n}: read them below before signing (details on the Coverage and Imports sheets)"),
        }),
        ("Factor set", format!("{} ({})", set.version, set.origin)),
        ("Factor set SHA-256", set.sha256.clone()),
        ("Tool", format!("llm-scope3 {}", crate::VERSION)),
        ("Generated at (UTC)", o.generated_at.format("%Y-%m-%d %H:%M:%S").to_string()),
        ("Status", finality::status_text(o)),
    ];
    if let Some(text) = scope_text(o) {
        rows.insert(1, ("Scope", text));
    }
    if let Some(text) = training_text(o) {
        let at = rows
            .iter()
            .position(|(k, _)| *k == "Result (central)")
            .map_or(rows.len(), |i| i + 1);
        rows.insert(at, ("Training share", text));
    }
    let comparison = finality::compare(o);
    let mut r = 2;
    for (k, v) in rows {
        ws.text_fmt(r, 0, k, &f.label_top)?;
        if k == "Warnings" && !o.warnings.is_empty() {
            ws.text_fmt(r, 1, &v, &f.warn)?;
        } else {
            ws.wrapped(r, 1, &v, 90.0)?;
        }
        r += 1;
    }
    // Against the period's final statement: a warning when the figure differs from it.
    if let Some(c) = &comparison {
        ws.text_fmt(r, 0, "Final statement", &f.label_top)?;
        ws.wrapped(r, 1, &c.text(), 90.0)?;
        if !c.matches {
            ws.text_fmt(r, 1, &c.text(), &f.warn)?;
        }
        r += 1;
    }
    // The preparer's commentary (`report --note`): user text, written as a string.
    if let Some(note) = &o.note {
        ws.text_fmt(r, 0, "Commentary", &f.label_top)?;
        ws.wrapped(r, 1, note, 90.0)?;
        r += 1;
    }
    // The sign-off cells: the only cells a final (protected) workbook lets its reader edit.
    for k in ["Prepared by", "Reviewed by", "Approved by"] {
        ws.text_fmt(r, 0, k, &f.label_top)?;
        ws.write_blank(r, 1, &f.sign_off)?;
        ws.set_row_height(r, 30.0)?;
        r += 1;
    }
    r = cover_configuration(&mut ws, o, r + 1)?;
    r += 1;
    for (i, w) in o.warnings.iter().enumerate() {
        ws.text_fmt(r, 0, format!("Warning {}", i + 1).as_str(), &f.label_top)?;
        ws.text_fmt(r, 1, &w.message, &f.warn)?;
        let lines = w.message.chars().count().div_ceil(100).max(1);
        ws.set_row_height(r, 15.0 * lines as f64)?;
        r += 1;
    }
    if !o.warnings.is_empty() {
        r += 1;
    }
    for (i, file) in o.files.iter().enumerate() {
        ws.text_fmt(r, 0, format!("Input file {}", i + 1).as_str(), &f.label_top)?;
        ws.wrapped(
            r,
            1,
            &format!(
                "{}\nSHA-256 {} · format {}",
                file.file, file.sha256, file.format
            ),
            // The column is 90 wide, but a hash is all digits and letters as wide as digits,
            // which the width estimate counts as narrower text: counted as 78, a line holding
            // the hash and a long format name gets the height of the two lines it takes.
            78.0,
        )?;
        r += 1;
    }
    if !o.skipped_inputs.is_empty() {
        ws.write_string_with_format(r, 0, "Not read", &f.label)?;
        let n = o.skipped_inputs.len();
        let text = format!(
            "{n} {} in the named folders not read (not in the totals): each is listed with the reason on the Imports sheet",
            if n == 1 { "entry" } else { "entries" }
        );
        ws.wrapped(r, 1, &text, 90.0)?;
        r += 1;
    }
    r += 1;
    ws.text_fmt(r, 0, "Sheets", &f.label)?;
    let trend = if super::trend::of(o).is_some() {
        " · Trend (the fiscal year by quarter from the ledger, a year earlier beside it)"
    } else {
        ""
    };
    let entities = if super::entities::of(o).is_some() {
        " · Entities (the group's figure by reporting entity, adding up to it)"
    } else {
        ""
    };
    ws.wrapped(r,
        1,
        &format!("E1-6 Summary (the disclosure line, management metrics) · AI Services (by provider, model, region, month, cost centre) · Periods (by month){trend}{entities} · Calculation Lines (audit trail to source rows) · Factors and Sources (every factor, cited) · Per Request (Wh and gCO2e of one request, beside published per-query figures) · Levers (what-if scenarios: another model, region or more caching) · Training (the amortised training share of the models used, shown apart) · Supplier Data (vendor carbon figures beside or in place of the estimate) · Methodology · Coverage (days with data per provider and month, and every warning) · Imports (row and money accounting per file) · Rejected Rows"),
        90.0,
    )?;
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    Ok(())
}

/// The result as the Cover states it: the reported figure, central, with its range; labelled
/// when the configuration adds the amortised training share to it.
fn result_text(o: &Outcome) -> String {
    let t = &o.summary.totals;
    let e = t.emissions_kgco2e;
    let tr = &o.training;
    if tr.included {
        format!(
            "{:.3} tCO2e, INCLUDING the amortised training share {:.6} tCO2e central ([boundary] include_training = true; Training sheet). Without it: {:.3} tCO2e (low {:.3}, high {:.3})",
            (e.central + tr.added_kgco2e()) / 1000.0,
            tr.total_tco2e.central,
            e.central / 1000.0,
            e.low / 1000.0,
            e.high / 1000.0
        )
    } else {
        format!(
            "{:.3} tCO2e (low {:.3}, high {:.3})",
            e.central / 1000.0,
            e.low / 1000.0,
            e.high / 1000.0
        )
    }
}

/// The Cover's line on the reporting-entity scope of a ledger report (none for a ledger
/// without entities reported without `--group`).
fn scope_text(o: &Outcome) -> Option<String> {
    use crate::pipeline::entities::EntityScope;
    Some(match o.entity_scope.as_ref()? {
        EntityScope::Entity(name) => format!(
            "Reporting entity {name} alone: only the records the ledger assigns to it (its N-1, trend and final statements too); report --group gives the group"
        ),
        EntityScope::Group(rows) => {
            let names: Vec<&str> = rows.iter().filter_map(|r| r.entity.as_deref()).collect();
            let none = if rows.iter().any(|r| r.entity.is_none()) {
                " and the records assigned to none"
            } else {
                ""
            };
            format!(
                "The group, consolidated: every record of the ledger, of its {} reporting entit{} ({}){none}; each one's figure on the Entities sheet, adding up to the result",
                names.len(),
                if names.len() == 1 { "y" } else { "ies" },
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            )
        }
    })
}

/// The Cover's line on the amortised training share (none when the factor set has no training
/// emissions).
fn training_text(o: &Outcome) -> Option<String> {
    let tr = &o.training;
    if !tr.available {
        return None;
    }
    let b = tr.total_tco2e;
    let how = if tr.included {
        "included in the result above ([boundary] include_training = true)"
    } else {
        "shown apart, not in the result ([boundary] include_training = true would add the central share)"
    };
    Some(format!(
        "{:.6} tCO2e central (low {:.6}, high {:.6}) for {} tokens: the models' training emissions spread over the tokens they serve in their life (an assumption); {how}. Training sheet.",
        b.central,
        b.low,
        b.high,
        crate::report::intensity::grouped(tr.tokens as f64)
    ))
}

/// The Cover's Configuration block at row `r`: the config file (or that none was found) and
/// what it changed, one setting per line. Returns the next free row.
fn cover_configuration(ws: &mut Sheet<'_, '_>, o: &Outcome, mut r: u32) -> Result<u32, XlsxError> {
    let f = ws.f;
    use crate::report::configuration::{file_text, lines};
    ws.write_string_with_format(r, 0, "Configuration file", &f.label)?;
    ws.wrapped(r, 1, &file_text(&o.config), 90.0)?;
    r += 1;
    let changes = lines(o);
    if !changes.is_empty() {
        ws.write_string_with_format(r, 0, "Configuration changes", &f.label)?;
        ws.wrapped(r, 1, &changes.join("\n"), 90.0)?;
        r += 1;
    }
    Ok(r)
}
