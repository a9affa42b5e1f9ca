//! `llm-scope3 report`: run the pipeline, write the workbook (and JSON) atomically, print a
//! short summary. Nothing is written unless every input was usable.

use std::path::PathBuf;

use crate::cli::ReportArgs;
use crate::config::{Config, Scope};
use crate::error::{Error, Result};
use crate::ledger::{Ledger, Location};
use crate::pipeline::{self, Outcome};
use crate::report::csv::Dialect;
use crate::report::{json, stage_with, text};

pub(crate) fn run(args: &ReportArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let mut cfg = Config::new(
        &(&args.period).into(),
        &(&args.read).into(),
        args.as_of.as_deref(),
        args.entity.as_deref(),
    )?;
    // A bar on the terminal while a big file is read.
    cfg.progress = crate::ingest::Progress::Shown;
    for spec in &args.what_if {
        let lever = crate::aggregate::what_if::Lever::parse(spec)
            .map_err(|e| Error::Usage(format!("--{e}")))?;
        cfg.what_if.push((spec.clone(), lever));
    }
    let out = args.out.clone().unwrap_or_else(|| {
        let label: String = cfg
            .period
            .label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if args.format == crate::cli::OutputFormat::Csv {
            PathBuf::from(format!("llm-scope3-{label}"))
        } else {
            PathBuf::from(format!("llm-scope3-{label}.xlsx"))
        }
    });
    let csv_mode = args.format == crate::cli::OutputFormat::Csv;
    if args.csv_delimiter.is_some() && !csv_mode {
        return Err(Error::Usage(
            "--csv-delimiter applies to the CSV files: add --format csv".into(),
        ));
    }
    let dialect = match args.csv_delimiter {
        Some(crate::cli::CsvDelimiter::Semicolon) => Dialect::Semicolon,
        Some(crate::cli::CsvDelimiter::Comma) | None => Dialect::Comma,
    };
    if args.json.as_ref() == Some(&out) {
        return Err(Error::Usage("--out and --json name the same file".into()));
    }
    check_outputs(args, &out)?;
    // An unusable --prior is refused before any file is read.
    let prior = args
        .prior
        .as_deref()
        .map(|p| pipeline::comparative::Prior::read(p, &cfg.period))
        .transpose()?;
    let entity = super::import::entity_name(args.entity.as_deref())?;
    let uses_ledger = args.inputs.is_empty() || args.ledger.is_some();
    if args.group && !uses_ledger {
        return Err(Error::Usage(
            "--group reports the entities of a ledger: add --ledger FILE (the files are imported into it first)".into(),
        ));
    }
    cfg.scope = match (args.group, entity) {
        (true, _) => Scope::Group,
        (false, Some(name)) if uses_ledger => Scope::Entity(name.to_string()),
        _ => Scope::All,
    };
    let mut ledger = None;
    let outcome = if args.inputs.is_empty() {
        // From the ledger alone.
        let mut l = Ledger::open_existing_at(&Location::chosen(args.ledger.as_deref()))?;
        l.set_actor(super::actor());
        verified(&l)?;
        let o = pipeline::run_ledger(&l, &cfg)?;
        ledger = Some(l);
        o
    } else if let Some(path) = &args.ledger {
        // Import the files first, then report from the ledger.
        let (inputs, skipped) = pipeline::inputs_from_paths(&args.inputs)?;
        let mut l = Ledger::open_at(&Location::parse(path.as_os_str()))?;
        l.set_actor(super::actor());
        let assign = pipeline::Assign {
            entity,
            rules: (!cfg.entity_rules.is_empty()).then_some(&cfg.entity_rules),
        };
        super::import::import_all(&mut l, &inputs, &cfg.templates, None, assign)?;
        verified(&l)?;
        let mut o = pipeline::run_ledger(&l, &cfg)?;
        o.skipped_inputs = skipped;
        ledger = Some(l);
        o
    } else {
        if args.final_ {
            return Err(Error::Usage(
                "--final records the stated totals in a ledger: add --ledger FILE".into(),
            ));
        }
        let (inputs, skipped) = pipeline::inputs_from_paths(&args.inputs)?;
        pipeline::run(&inputs, skipped, &cfg)?
    };
    let mut outcome = outcome;
    if let (Scope::Entity(name), None, Some(l)) = (&cfg.scope, &outcome.entity_scope, &ledger) {
        crate::outln!(
            "note: ledger {} assigns no record to a reporting entity: --entity names the Cover ({name}) and the report holds every record, as before entities existed (import --entity NAME, or [[entities]] rules in the config file, assign them)",
            l.shown()
        );
    }
    // Before check_coverage: set_note works the warnings out again (a note too long for a
    // cell is one), replacing any added before it.
    outcome.set_note(args.note.clone().filter(|n| !n.trim().is_empty()));
    outcome.prior = prior;
    check_coverage(&mut outcome, args)?;
    // `--final`: the statement is inserted (the ledger's write lock taken, which also proves
    // the ledger writable) before any output is made, so that the outputs name it; it is
    // committed once they are staged, and they are moved into place only once it is recorded.
    // A failure before that records nothing and writes nothing.
    let ledger_shown = ledger.as_ref().map(|l| l.shown().to_string());
    let pending = match (args.final_, ledger.as_mut()) {
        (true, Some(l)) => {
            let mut s = pipeline::finality::statement(&outcome, args.accept_gaps.as_deref());
            let p = l.begin_statement(&outcome.period, &s)?;
            s.id = p.id();
            if let Some(view) = outcome.ledger.as_mut() {
                view.recording = Some(s);
            }
            Some(p)
        }
        _ => None,
    };
    let read_done = std::time::Instant::now();
    // Stage every output first, then move them into place: a failure leaves earlier files
    // untouched. The workbook is deflated straight into its staged file before the JSON is
    // written, so neither is ever held whole in memory.
    let mut built = read_done;
    let xlsx_staged = if csv_mode {
        None
    } else {
        let staged = crate::report::stage_workbook(&out, &outcome, &cfg.factors)?;
        built = std::time::Instant::now();
        Some(staged)
    };
    // Every file is staged in full before any is moved into place: a full disk while writing
    // the JSON must not leave a new workbook beside an old summary. The JSON is written to its
    // staged file as it is serialised, never held whole in memory.
    let json_staged = match &args.json {
        Some(path) => Some(stage_with(path, |w| json::write(&outcome, w))?),
        None => None,
    };
    let recorded = pending
        .map(|p| {
            let id = p.id();
            p.commit().map(|()| id)
        })
        .transpose()?;
    let placed = (|| {
        let csv_files = match xlsx_staged {
            Some(staged) => {
                staged.commit()?;
                None
            }
            None => Some(crate::report::csv::write(&outcome, &out, dialect)?),
        };
        if let Some(staged) = json_staged {
            staged.commit()?;
        }
        Ok::<_, Error>(csv_files)
    })();
    let csv_files = match placed {
        Ok(files) => files,
        Err(e) => {
            // The outputs naming the statement are not all in place: withdraw it, so that the
            // ledger holds no statement without its workbook.
            if let (Some(id), Some(l)) = (recorded, ledger.as_mut()) {
                if let Err(w) = l.withdraw_statement(id) {
                    eprintln!("error: final statement #{id} was recorded but its outputs could not be written, and withdrawing it failed: {w}");
                }
            }
            return Err(e);
        }
    };
    if args.timings {
        let written = std::time::Instant::now();
        let s = |a: std::time::Instant, b: std::time::Instant| (b - a).as_secs_f64();
        eprintln!(
            "timings: read {:.3} s (ingest, normalise, aggregate, estimate)",
            s(started, read_done)
        );
        eprintln!(
            "timings: {} {:.3} s (build {:.3} s, write {:.3} s)",
            if csv_mode { "CSV files" } else { "workbook" },
            s(read_done, written),
            s(read_done, built),
            s(built, written)
        );
    }
    if let (Some(id), Some(shown)) = (recorded, &ledger_shown) {
        crate::outln!(
            "Recorded as final statement #{id} of {}{} in {shown}",
            outcome.period.label,
            match &outcome.entity_scope {
                Some(scope) => format!(" for {}", scope.text()),
                None => String::new(),
            }
        );
    }
    print_summary(&outcome, &out, csv_files.as_deref(), args.json.as_ref());
    Ok(())
}

/// A report's figure is what someone signs: before it is computed from a ledger, the ledger gets
/// its full check (as `imports verify`): a file SQLite's full integrity check, not only the
/// quick check every opening runs, which does not read indexes against their tables (a damaged
/// index hides records: the figure would be silently low; it reads the whole file once, as the
/// report nearly does); a PostgreSQL ledger its consistency checks.
fn verified(l: &Ledger) -> Result<()> {
    let v = l.verify()?;
    if v.problems.is_empty() {
        return Ok(());
    }
    Err(crate::ledger::LedgerError::Damaged {
        path: l.shown().to_string(),
        why: format!(
            "the ledger's full check ({}), run before any figure is computed from it, found: {}{}; no figure was computed",
            v.checks,
            v.problems.iter().take(3).cloned().collect::<Vec<_>>().join("; "),
            if v.problems.len() > 3 { " ..." } else { "" }
        ),
    }
    .into())
}

/// Refuses outputs that would overwrite an input, the ledger, the configuration or a template,
/// or that are links, folders, devices or FIFOs, before anything is read.
fn check_outputs(args: &ReportArgs, out: &std::path::Path) -> Result<()> {
    let mut protected: Vec<(PathBuf, &str)> = vec![];
    if !args.inputs.is_empty() {
        for input in pipeline::inputs_from_paths(&args.inputs)?.0 {
            protected.push((input.path, "one of the export files read"));
        }
    }
    if args.inputs.is_empty() || args.ledger.is_some() {
        if let Some(file) = Location::chosen(args.ledger.as_deref()).file() {
            // SQLite's companions hold the ledger's latest writes until they are checkpointed.
            for suffix in ["-wal", "-shm", "-journal"] {
                let mut companion = file.as_os_str().to_os_string();
                companion.push(suffix);
                protected.push((PathBuf::from(companion), "a file of the ledger"));
            }
            protected.push((file.to_path_buf(), "the ledger"));
        }
    }
    if let Some(p) = &args.prior {
        protected.push((p.clone(), "the earlier summary read by --prior"));
    }
    // A factor set given as a folder: its files.
    if let Some(f) = args.read.factors.as_deref() {
        let dir = std::path::Path::new(f);
        if dir.is_dir() {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                protected.push((entry.path(), "a file of the factor set"));
            }
        }
    }
    match &args.read.config {
        Some(c) => protected.push((c.clone(), "the configuration file")),
        None => protected.push((
            PathBuf::from(crate::config::DEFAULT_CONFIG),
            "the configuration file",
        )),
    }
    for t in &args.read.templates {
        protected.push((t.clone(), "a template"));
    }
    let csv_mode = args.format == crate::cli::OutputFormat::Csv;
    crate::report::refuse_unsafe_output(out, "--out", csv_mode, &protected)?;
    if csv_mode {
        // The files the folder will receive must not be any of those either.
        for name in crate::report::csv::FILES {
            let file = out.join(name);
            if let Some((_, role)) = protected
                .iter()
                .find(|(p, _)| crate::report::same_place(&file, p))
            {
                return Err(Error::Usage(format!(
                    "--out {}: its {name} would be written over {role} ({}). Name another folder",
                    out.display(),
                    file.display()
                )));
            }
        }
    }
    if let Some(json) = &args.json {
        crate::report::refuse_unsafe_output(json, "--json", false, &protected)?;
    }
    Ok(())
}

/// Refuses a report with no usage in the period (unless `--allow-empty`) and a final
/// statement of a period with gaps (unless `--accept-gaps`), before anything is written; notes
/// an accepted reason among the warnings.
fn check_coverage(outcome: &mut Outcome, args: &ReportArgs) -> Result<()> {
    if outcome.no_usage() && !args.allow_empty {
        let held = match (
            pipeline::warnings::data_range(outcome),
            pipeline::warnings::busiest_quarter(outcome),
        ) {
            (Some((a, b)), Some((q, _))) => {
                format!("The files hold data dated {a} to {b}, most of their usage in {q}: ask for --quarter {q}.")
            }
            (Some((a, b)), None) => format!(
                "The files hold data dated {a} to {b}, but no usage row: see the rejected rows with `llm-scope3 inspect FILE`."
            ),
            _ => "No file holds a usable dated row: see the rejected rows with `llm-scope3 inspect FILE`.".into(),
        };
        let excluded: u64 = outcome.excluded.iter().map(|e| e.rows).sum();
        let why = if excluded > 0 {
            format!(
                "the configuration excluded all {excluded} usage row(s) of {}",
                outcome.period
            )
        } else {
            format!("no usage row falls in {}", outcome.period)
        };
        let files: Vec<String> = outcome
            .files
            .iter()
            .map(|f| {
                let dates = match (f.first_date, f.last_date) {
                    (Some(a), Some(b)) => format!("; dates {a} to {b}"),
                    _ => String::new(),
                };
                format!("  {}: {}{dates}", f.file, text::row_accounting(f))
            })
            .collect();
        return Err(Error::InputData(format!(
            "nothing written: {why}, so the total would be zero.\n{}\n  {held}\n  If there truly was no AI usage in the period, add --allow-empty to report a zero.",
            files.join("\n")
        )));
    }
    if args.final_ {
        pipeline::finality::gate(outcome, args.accept_gaps.as_deref())?;
    }
    Ok(())
}

/// `csv_files`: the names of the CSV files written in the folder `out` (`--format csv`), else
/// `None` (`out` is the workbook).
fn print_summary(
    o: &Outcome,
    out: &std::path::Path,
    csv_files: Option<&[&str]>,
    json: Option<&PathBuf>,
) {
    crate::outln!("llm-scope3 {}: {}", crate::VERSION, o.period);
    for f in &o.files {
        crate::outln!("  {}  [{}]  {}", f.file, f.format, text::row_accounting(f));
        for line in text::money_lines(f) {
            crate::outln!("      {line}");
        }
        for note in &f.notes {
            crate::outln!("      note: {note}");
        }
    }
    print_skipped(&o.skipped_inputs);
    crate::outln!(
        "Configuration: {}",
        crate::report::configuration::file_text(&o.config)
    );
    let factors_table = match csv_files {
        Some(_) => "in factors.csv",
        None => "on the Factors sheet",
    };
    for line in crate::report::configuration::lines_naming(o, factors_table) {
        crate::outln!("  {line}");
    }
    let t = &o.summary.totals;
    crate::outln!(
        "Total{}: {:.3} tCO2e central (low {:.3}, high {:.3}); energy {:.1} kWh; water {:.1} L",
        if o.training.included {
            " (inference, without the training share)"
        } else {
            ""
        },
        t.emissions_kgco2e.central / 1000.0,
        t.emissions_kgco2e.low / 1000.0,
        t.emissions_kgco2e.high / 1000.0,
        t.energy_kwh.central,
        t.water_l.central
    );
    if let Some(line) = crate::report::text::training_line(o) {
        crate::outln!("{line}");
    }
    for line in crate::report::text::entity_lines(o) {
        crate::outln!("{line}");
    }
    for w in &o.what_if {
        crate::outln!("{}", crate::report::text::what_if_line(w));
    }
    if let Some(rs) = &o.reporting {
        let rates = if rs.fx_ids.is_empty() {
            String::new()
        } else {
            format!(" at {}", rs.fx_ids.join(", "))
        };
        crate::outln!(
            "Spend: {}{rates} (as exported: {})",
            crate::pipeline::warnings::reporting_amount_text(rs, rs.total),
            match crate::pipeline::warnings::money_text(&t.spend) {
                s if s.is_empty() => "none".to_string(),
                s => s,
            }
        );
        for n in &rs.notes {
            crate::outln!("  note: {n}");
        }
    }
    if let Some(c) = pipeline::finality::compare(o) {
        // A difference is also among the warnings, printed last.
        if c.matches {
            crate::outln!("{}", c.text());
        } else {
            crate::outln!(
                "Differs from final statement #{} of {} by {} (see the warning below)",
                c.statement.id,
                c.statement.period_label,
                c.difference_text()
            );
        }
    }
    if !o.rejections.is_empty() {
        let not_listed: u64 = o.files.iter().map(|f| f.rejections_not_listed).sum();
        let more = match not_listed {
            0 => String::new(),
            n => format!(" (and {n} more counted, not listed)"),
        };
        let listed = match csv_files {
            Some(_) => "rejected_rows.csv",
            None => "the \"Rejected Rows\" sheet",
        };
        crate::outln!(
            "{} row(s) rejected{more}: see {listed} (first: {} row {}: {}).",
            o.rejections.len(),
            o.rejections[0].file,
            o.rejections[0].row,
            crate::out::shown(&o.rejections[0].reason)
        );
    }
    match (csv_files, json) {
        (Some(names), _) => {
            let mut dir = out.display().to_string();
            if !dir.ends_with(std::path::MAIN_SEPARATOR) {
                dir.push(std::path::MAIN_SEPARATOR);
            }
            crate::outln!("Wrote {} files in {dir}: {}", names.len(), names.join(", "));
            if let Some(j) = json {
                crate::outln!("Wrote {}", j.display());
            }
        }
        (None, Some(j)) => crate::outln!("Wrote {} and {}", out.display(), j.display()),
        (None, None) => crate::outln!("Wrote {}", out.display()),
    }
    print_warnings(
        &o.warnings,
        match csv_files {
            Some(_) => "also in summary.csv and warnings.csv",
            None => "also on the Cover sheet",
        },
    );
}

/// Lists the entries of the named folders that were not read, with the reason.
pub(crate) fn print_skipped(skipped: &[crate::ingest::SkippedInput]) {
    if skipped.is_empty() {
        return;
    }
    crate::outln!("Not read in the named folders ({}):", skipped.len());
    for s in skipped {
        crate::outln!("  {}  [{}]", s.path.display(), s.reason);
    }
}

/// The warnings, last and on stderr, so that they are the last thing on the screen; `also`
/// says where else they are written.
pub(crate) fn print_warnings(warnings: &[pipeline::warnings::Warning], also: &str) {
    if warnings.is_empty() {
        return;
    }
    eprintln!();
    eprintln!(
        "{} WARNING(S): read them before you sign the figure ({also}):",
        warnings.len()
    );
    for w in warnings {
        eprintln!("  warning: {}", w.message);
    }
}
