//! `llm-scope3 factors list|show|export|check|diff|validate`: what the factor set knows, how one
//! model id resolves, a set written out for the auditor, every problem of a set folder, what
//! changed between two sets, and the tool's figures beside the published ones.

use std::path::Path;

use crate::cli::{FactorsAction, FactorsArgs};
use crate::error::{Error, Result};
use crate::estimate::LineFactors;
use crate::factors::check::{self, raw_set};
use crate::factors::{embedded_versions, FactorSet, ModelMatch};
use crate::validate::{fmt_wh, ValidationRow};

pub(crate) fn run(args: &FactorsArgs) -> Result<()> {
    match &args.action {
        FactorsAction::Export { dir } => return export(dir, args.factors.as_deref()),
        FactorsAction::Check { set } => {
            no_factors_option(args, "check")?;
            return check_set(set);
        }
        FactorsAction::Diff { a, b } => {
            no_factors_option(args, "diff")?;
            return diff(a, b);
        }
        _ => {}
    }
    let set = FactorSet::load(args.factors.as_deref())?;
    if let FactorsAction::Validate { markdown: true } = &args.action {
        let rows = crate::validate::validation(&set);
        crate::out::text(&crate::validate::validation_markdown(&set, &rows));
        return verdict(&rows, false);
    }
    crate::outln!(
        "factor set {} ({}), SHA-256 {}",
        set.version,
        set.origin,
        set.sha256
    );
    match &args.action {
        FactorsAction::List => {
            crate::outln!(
                "{:<34} {:<10} {:<9} {:<6} {:>16} {:>16}  source",
                "model",
                "provider",
                "kind",
                "arch",
                "total params B",
                "active params B"
            );
            for m in set.models.values() {
                crate::outln!(
                    "{:<34} {:<10} {:<9} {:<6} {:>16} {:>16}  {}",
                    m.model_key,
                    m.provider,
                    m.kind,
                    m.architecture,
                    format!("{}-{}", m.total_params_b_min, m.total_params_b_max),
                    format!("{}-{}", m.active_params_b_min, m.active_params_b_max),
                    m.source_id
                );
            }
            crate::outln!(
                "{} models, {} aliases, {} size classes",
                set.models.len(),
                set.aliases.len(),
                set.classes.len()
            );
        }
        FactorsAction::Show { model, provider } => {
            let year = 2026;
            let f = LineFactors::resolve(&set, provider, model, None, None, year);
            let how = match &f.model.how {
                ModelMatch::Exact => "model key".to_string(),
                ModelMatch::Alias => "alias".to_string(),
                ModelMatch::Normalised => format!(
                    "normalised spelling '{}' (a date, version, channel word or vendor prefix removed)",
                    f.model.spelling
                ),
                ModelMatch::Sibling(s) => format!(
                    "NOT IN THE SET: '{}' estimated as its nearest sibling '{s}'",
                    f.model.spelling
                ),
                ModelMatch::Class(c) => format!("UNKNOWN model: estimated by size class '{c}'"),
            };
            crate::outln!("{model} -> {} ({how})", f.model.key);
            crate::outln!(
                "  resolution rules {} of factor set {}",
                set.resolution_rules,
                set.version
            );
            for step in &f.model.steps {
                crate::outln!("  step: {step}");
            }
            match &f.model.how {
                ModelMatch::Class(c) => {
                    if let Some(row) = set.classes.iter().find(|r| &r.class == c) {
                        crate::outln!(
                            "  row used: classes.csv '{}' (match '{}'): {}",
                            row.class,
                            row.matches,
                            row.notes
                        );
                    }
                }
                _ => {
                    if let Some(row) = set.models.get(&f.model.key.to_lowercase()) {
                        crate::outln!(
                            "  row used: models.csv '{}' ({}, {}): {}",
                            row.model_key,
                            row.provider,
                            row.architecture,
                            row.notes
                        );
                    }
                }
            }
            crate::outln!(
                "  kind {}, active params {}-{} B, total {}-{} B, source {}",
                f.model.kind,
                f.model.active.0,
                f.model.active.1,
                f.model.total.0,
                f.model.total.1,
                f.model.source_id
            );
            crate::outln!("  factors for provider '{provider}', no region, usage year {year} (low / central / high):");
            for u in &f.uses {
                crate::outln!(
                    "    {:<36} {:>10.6} {:>10.6} {:>10.6}  {}  [{}]",
                    u.id,
                    u.value.low,
                    u.value.central,
                    u.value.high,
                    u.unit,
                    u.source_id
                );
            }
            for flag in &f.flags {
                crate::outln!("  note: {flag}");
            }
        }
        FactorsAction::Validate { .. } => {
            let rows = crate::validate::validation(&set);
            print_validation(&rows);
            return verdict(&rows, true);
        }
        FactorsAction::Export { .. } | FactorsAction::Check { .. } | FactorsAction::Diff { .. } => {
        }
    }
    Ok(())
}

fn no_factors_option(args: &FactorsArgs, what: &str) -> Result<()> {
    match &args.factors {
        Some(f) => Err(Error::Usage(format!(
            "factors {what} names its sets as arguments; --factors {f} does not apply"
        ))),
        None => Ok(()),
    }
}

/// `factors export DIR`: the embedded files, byte for byte, in DIR/<version>/.
fn export(dir: &Path, spec: Option<&str>) -> Result<()> {
    let versions = embedded_versions();
    let version = match spec {
        Some(v) => v.to_string(),
        None => crate::factors::default_version().to_string(),
    };
    if !versions.contains(&version.as_str()) {
        return Err(Error::Usage(format!(
            "factors export writes an embedded factor set; '{version}' is not one (embedded: {})",
            versions.join(", ")
        )));
    }
    let raw = raw_set(&version)?;
    let target = dir.join(&raw.version);
    let shown = target.display().to_string();
    if target.exists() {
        let empty = std::fs::read_dir(&target)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !target.is_dir() || !empty {
            return Err(Error::Usage(format!(
                "{shown} already exists and is not an empty folder: export never overwrites a \
                 factor set; remove it or choose another DIR"
            )));
        }
    }
    let out_err = |e: std::io::Error| Error::Output {
        path: shown.clone(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(out_err)?;
    // Written in a temporary folder beside the target and renamed: never half a set.
    let tmp = tempfile::Builder::new()
        .prefix(".llm-scope3-export-")
        .tempdir_in(dir)
        .map_err(out_err)?;
    for (name, content) in &raw.files {
        std::fs::write(tmp.path().join(name), content.as_bytes()).map_err(out_err)?;
    }
    if target.is_dir() {
        std::fs::remove_dir(&target).map_err(out_err)?;
    }
    // A temporary folder is private (0700); an exported set is for reviewing and sharing.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(out_err)?;
    }
    std::fs::rename(tmp.path(), &target).map_err(out_err)?;
    let _ = tmp.keep();
    let written = FactorSet::from_dir(&target)?;
    if written.sha256 != raw.sha256() {
        return Err(Error::Internal(format!(
            "the exported set's SHA-256 {} differs from the embedded {}",
            written.sha256,
            raw.sha256()
        )));
    }
    crate::outln!(
        "wrote factor set {} ({} files) to {shown}",
        raw.version,
        raw.files.len()
    );
    crate::outln!("SHA-256 {} (the same as the embedded set)", written.sha256);
    crate::outln!("use it with: --factors {shown}");
    Ok(())
}

/// `factors check DIR`: every problem, exit 3 when there is one.
fn check_set(spec: &str) -> Result<()> {
    let raw = raw_set(spec)?;
    crate::outln!(
        "factor set {} ({}), SHA-256 {}",
        raw.version,
        raw.origin,
        raw.sha256()
    );
    let mut problems = raw.unreadable.clone();
    problems.extend(check::check(&raw.files));
    if problems.is_empty() {
        crate::outln!(
            "no problems: {} files checked ({})",
            raw.files.len(),
            raw.files
                .iter()
                .map(|(p, _)| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(());
    }
    crate::outln!("{} problem(s):", problems.len());
    for p in &problems {
        crate::outln!("  {p}");
    }
    Err(Error::InputData(format!(
        "factor set {} has {} problem(s) (listed above)",
        raw.origin,
        problems.len()
    )))
}

/// `factors diff A B`: rows added, removed and changed per file, and both SHA-256s.
fn diff(a: &str, b: &str) -> Result<()> {
    let (ra, rb) = (raw_set(a)?, raw_set(b)?);
    let (sa, sb) = (ra.sha256(), rb.sha256());
    crate::outln!("A: factor set {} ({}), SHA-256 {sa}", ra.version, ra.origin);
    crate::outln!("B: factor set {} ({}), SHA-256 {sb}", rb.version, rb.origin);
    let files = check::diff(&ra.files, &rb.files);
    if files.is_empty() {
        if sa == sb {
            crate::outln!("no differences: the sets are identical");
        } else {
            crate::outln!("no differences in content (line endings only)");
        }
        return Ok(());
    }
    for f in &files {
        match f.only_in {
            Some(true) => {
                crate::outln!("{}: only in B (file added, {} rows)", f.file, f.added.len());
                for k in &f.added {
                    crate::outln!("  + {k}");
                }
                continue;
            }
            Some(false) => {
                crate::outln!(
                    "{}: only in A (file removed, {} rows)",
                    f.file,
                    f.removed.len()
                );
                for k in &f.removed {
                    crate::outln!("  - {k}");
                }
                continue;
            }
            None => {}
        }
        if f.text_only {
            if f.key.is_empty() {
                crate::outln!("{}: text changed", f.file);
            } else {
                crate::outln!(
                    "{}: no row changed (the text differs in quoting, spacing or row order)",
                    f.file
                );
            }
            continue;
        }
        crate::outln!(
            "{}: {} added, {} removed, {} changed (rows keyed by {})",
            f.file,
            f.added.len(),
            f.removed.len(),
            f.changed.len(),
            f.key.join(" + ")
        );
        for c in &f.columns_added {
            crate::outln!("  column added: {c}");
        }
        for c in &f.columns_removed {
            crate::outln!("  column removed: {c}");
        }
        for k in &f.added {
            crate::outln!("  + {k}");
        }
        for k in &f.removed {
            crate::outln!("  - {k}");
        }
        for r in &f.changed {
            let cells: Vec<String> = r
                .cells
                .iter()
                .map(|c| format!("{} {} → {}", c.column, show(&c.old), show(&c.new)))
                .collect();
            crate::outln!("  ~ {}: {}", r.key, cells.join("; "));
        }
    }
    crate::outln!("{} file(s) differ", files.len());
    Ok(())
}

fn show(v: &str) -> String {
    if v.is_empty() {
        "(empty)".into()
    } else {
        v.to_string()
    }
}

/// `factors validate`: the METHODOLOGY §6 table with the tool's numbers.
fn print_validation(rows: &[ValidationRow]) {
    crate::outln!(
        "validation (METHODOLOGY §6): facility energy E_fac per request, PUE included, Wh; \
         no region, usage year {}",
        crate::validate::VALIDATION_YEAR
    );
    crate::outln!(
        "{:<44} {:>11} {:>7} {:>7} {:>7}  verdict",
        "reference",
        "published",
        "low",
        "central",
        "high"
    );
    for r in rows {
        crate::outln!(
            "{:<44} {:>11} {:>7} {:>7} {:>7}  {}",
            r.reference,
            r.published,
            fmt_wh(r.tool_wh.low),
            fmt_wh(r.tool_wh.central),
            fmt_wh(r.tool_wh.high),
            r.verdict()
        );
        crate::outln!("    case {}; test: {}", r.case, r.test.label());
        if let Some(n) = &r.note {
            crate::outln!("    {n}");
        }
    }
}

/// Exit 0 when every checked row passes, else an input-data error (exit 3). The summary goes
/// to stdout with the text table, to stderr with the Markdown one (which is pasted as is).
fn verdict(rows: &[ValidationRow], to_stdout: bool) -> Result<()> {
    let checked = rows.iter().filter(|r| r.checked()).count();
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| !r.passes())
        .map(|r| r.reference.as_str())
        .collect();
    if failed.is_empty() {
        if to_stdout {
            crate::outln!("{checked} checked rows: all within");
        } else {
            eprintln!("{checked} checked rows: all within");
        }
        return Ok(());
    }
    Err(Error::InputData(format!(
        "{} of {checked} checked rows not within: {}",
        failed.len(),
        failed.join("; ")
    )))
}
