//! `--format csv`: the workbook's tables as CSV files in a folder, for BI tools, and
//! `summary.csv` beside them with the disclosure figures, one per row. Same columns and values
//! as the sheets; text from inputs that a spreadsheet would run as a formula (starting with
//! = + - @, tab or CR) gets a leading apostrophe. Numbers are written in full, never with
//! thousands separators; [`Dialect::Semicolon`] writes `;` between fields and a decimal comma
//! in every number cell (text is left as it is), after a UTF-8 byte-order mark, for
//! spreadsheets set to a European locale.

use std::path::Path;

use super::cell::Cell;
use super::json::tidy;
use super::workbook::formats::Formats;
use super::workbook::line_cells::{
    key_cells, qty_cells, result_cells, supplier_cells, KEY_COLS, QTY_COLS, RESULT_COLS,
    SUPPLIER_COLS,
};
use crate::error::{Error, Result};
use crate::model::Bounds;
use crate::pipeline::Outcome;

/// How the CSV files separate fields and write decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// `,` between fields, a decimal point in numbers (`12.5`).
    #[default]
    Comma,
    /// `;` between fields, a decimal comma in numbers (`12,5`).
    Semicolon,
}

impl Dialect {
    /// The field delimiter.
    pub fn delimiter(self) -> u8 {
        match self {
            Dialect::Comma => b',',
            Dialect::Semicolon => b';',
        }
    }

    /// A number in full (Rust's shortest round-trip form: no exponent, no thousands
    /// separators), with this dialect's decimal mark.
    pub fn number(self, x: f64) -> String {
        let s = format!("{x}");
        match self {
            Dialect::Comma => s,
            Dialect::Semicolon => s.replace('.', ","),
        }
    }
}

/// Neutralises text a spreadsheet would evaluate (CSV injection).
pub fn guard(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

fn cell(v: &Cell<'_>, d: Dialect) -> String {
    match v {
        Cell::Text(s) => guard(s),
        Cell::Owned(s) => guard(s),
        Cell::Count(n) => n.to_string(),
        Cell::Number(x, _) => d.number(*x),
        Cell::Blank => String::new(),
    }
}

type Table = (Vec<String>, Vec<Vec<String>>);

fn table(cols: &[&str], rows: Vec<Vec<Cell<'_>>>, d: Dialect) -> Table {
    (
        cols.iter().map(|c| c.to_string()).collect(),
        rows.iter()
            .map(|r| r.iter().map(|c| cell(c, d)).collect())
            .collect(),
    )
}

/// The file the summary is written to.
pub const SUMMARY_FILE: &str = "summary.csv";

/// Every file `--format csv` writes, in order (the names of [`tables`]).
pub const FILES: [&str; 10] = [
    SUMMARY_FILE,
    "warnings.csv",
    "ai_services.csv",
    "calculation_lines.csv",
    "factors.csv",
    "imports.csv",
    "trend.csv",
    "per_request.csv",
    "levers.csv",
    "rejected_rows.csv",
];

/// The tables, by file name: `summary.csv` first, then the workbook's tables.
pub fn tables(o: &Outcome, d: Dialect) -> Vec<(&'static str, Table)> {
    let f = Formats::new();
    let line_cols: Vec<&str> = KEY_COLS
        .iter()
        .chain(QTY_COLS)
        .chain(RESULT_COLS)
        .map(|c| c.0)
        .chain(["Flags", "Factor ids"])
        .collect();
    let ai = o
        .summary
        .lines
        .iter()
        .map(|l| {
            let mut c = key_cells(&l.key, &l.body);
            c.extend(qty_cells(&l.body));
            c.extend(result_cells(&f, &l.body));
            c.push(Cell::Owned(l.body.flags.join("; ")));
            c.push(Cell::Owned(l.body.factor_ids.join(", ")));
            c.extend(supplier_cells(&f, &l.body));
            c
        })
        .collect();
    let ai_cols: Vec<&str> = line_cols
        .iter()
        .copied()
        .chain(SUPPLIER_COLS.iter().map(|c| c.0))
        .collect();
    let mut calc_cols = vec![
        "Source file",
        "Sheet",
        "First row",
        "Last row",
        "Rows",
        "Source rows",
    ];
    calc_cols.extend(line_cols.iter().copied());
    let calc = o
        .summary
        .calc_lines
        .iter()
        .map(|l| {
            let mut c = vec![
                Cell::Text(&l.source.file),
                Cell::Text(l.source.sheet.as_deref().unwrap_or("")),
                Cell::Count(l.source.rows[0]),
                Cell::Count(l.source.rows[1]),
                Cell::Count(l.source.count),
                Cell::Owned(l.source.list.cell_text()),
            ];
            c.extend(key_cells(&l.key, &l.body));
            c.extend(qty_cells(&l.body));
            c.extend(result_cells(&f, &l.body));
            c.push(Cell::Owned(l.body.flags.join("; ")));
            c.push(Cell::Owned(l.body.factor_ids.join(", ")));
            c
        })
        .collect();
    let factors = o
        .summary
        .factors
        .values()
        .map(|u| {
            vec![
                Cell::Text(&u.id),
                Cell::Text(&u.kind),
                Cell::Number(u.value.low, &f.kg),
                Cell::Number(u.value.central, &f.kg),
                Cell::Number(u.value.high, &f.kg),
                Cell::Text(&u.unit),
                u.year.map(|y| Cell::Count(y as u64)).unwrap_or(Cell::Blank),
                Cell::Text(&u.subject),
                Cell::Text(&u.basis),
                Cell::Text(&u.source_id),
            ]
        })
        .collect();
    let imports = o
        .files
        .iter()
        .map(|x| {
            let c = &x.counts;
            vec![
                Cell::Text(&x.file),
                Cell::Text(&x.sha256),
                Cell::Text(&x.format),
                Cell::Count(c.read),
                Cell::Count(c.accepted),
                Cell::Count(c.rejected),
                Cell::Count(c.duplicate),
                Cell::Count(c.outside_period),
                Cell::Count(c.excluded),
                Cell::Count(c.skipped),
            ]
        })
        .collect();
    let rejected = o
        .rejections
        .iter()
        .map(|r| {
            vec![
                Cell::Text(&r.file),
                Cell::Text(r.sheet.as_deref().unwrap_or("")),
                Cell::Count(r.row),
                Cell::Text(r.column.as_deref().unwrap_or("")),
                Cell::Text(r.value.as_deref().unwrap_or("")),
                Cell::Text(&r.reason),
            ]
        })
        .collect();
    let warnings: Vec<Vec<Cell<'_>>> = o
        .warnings
        .iter()
        .map(|w| vec![Cell::Text(w.code.as_str()), Cell::Text(&w.message)])
        .collect();
    vec![
        (SUMMARY_FILE, summary(o, d)),
        ("warnings.csv", table(&["Code", "Warning"], warnings, d)),
        ("ai_services.csv", table(&ai_cols, ai, d)),
        ("calculation_lines.csv", table(&calc_cols, calc, d)),
        (
            "factors.csv",
            table(
                &[
                    "Factor id",
                    "Kind",
                    "Low",
                    "Central",
                    "High",
                    "Unit",
                    "Year",
                    "Applies to",
                    "Basis / derivation",
                    "Source id(s)",
                ],
                factors,
                d,
            ),
        ),
        (
            "imports.csv",
            table(
                &[
                    "File",
                    "SHA-256",
                    "Format",
                    "Rows read",
                    "Accepted",
                    "Rejected",
                    "Duplicate",
                    "Outside period",
                    "Excluded",
                    "Skipped",
                ],
                imports,
                d,
            ),
        ),
        ("trend.csv", trend(o, d)),
        ("per_request.csv", per_request(o, d)),
        ("levers.csv", levers(o, d)),
        (
            "rejected_rows.csv",
            table(
                &["File", "Sheet", "Row", "Column", "Value", "Reason"],
                rejected,
                d,
            ),
        ),
    ]
}

/// `trend.csv`: the Trend sheet's table (ledger reports): each quarter of the fiscal year of the
/// period and the year to date, with the same dates a year earlier. Without a ledger it has its
/// header only (so a folder written before by a ledger report keeps no stale trend).
fn trend(o: &Outcome, d: Dialect) -> Table {
    let cols = [
        "Span",
        "Start",
        "End",
        "Computed",
        "Records",
        "tCO2e central",
        "tCO2e low",
        "tCO2e high",
        "A year earlier: start",
        "A year earlier: end",
        "A year earlier: tCO2e central",
        "Change (%)",
        "kgCO2e per million tokens",
        "kgCO2e per 1,000 requests",
    ];
    let num = |x: Option<f64>| x.map(|v| d.number(tidy(v))).unwrap_or_default();
    let mut rows = vec![];
    if let Some(t) = o.ledger.as_ref().and_then(|l| l.trend.as_ref()) {
        // Named as on the Trend sheet.
        let spans = t
            .quarters
            .iter()
            .enumerate()
            .map(|(i, q)| (format!("{} Q{}", t.fiscal_year, i + 1), q))
            .chain([("Year to date".to_string(), &t.year_to_date)]);
        for (label, q) in spans {
            let now = q.totals.as_ref().map(|x| x.emissions_kgco2e);
            let before = q.previous.1.as_ref().map(|x| x.emissions_kgco2e);
            let change = match (now, before) {
                (Some(n), Some(b)) if b.central > 0.0 => {
                    Some(100.0 * (n.central / b.central - 1.0))
                }
                _ => None,
            };
            rows.push(vec![
                guard(&label),
                q.period.start.to_string(),
                q.period.end.to_string(),
                if q.reported {
                    "yes"
                } else {
                    "no: after the period"
                }
                .to_string(),
                q.records.to_string(),
                num(now.map(|b| b.central / 1000.0)),
                num(now.map(|b| b.low / 1000.0)),
                num(now.map(|b| b.high / 1000.0)),
                q.previous.0.start.to_string(),
                q.previous.0.end.to_string(),
                num(before.map(|b| b.central / 1000.0)),
                num(change),
                num(q.basis.as_ref().and_then(|b| b.per_million_tokens())),
                num(q.basis.as_ref().and_then(|b| b.per_thousand_requests())),
            ]);
        }
    }
    (cols.iter().map(|c| c.to_string()).collect(), rows)
}

/// `per_request.csv`: the Per Request sheet's table, by provider, model and month, then the
/// average request (`all`); empty but for its header when no line counts requests.
fn per_request(o: &Outcome, d: Dialect) -> Table {
    let cols = [
        "Provider",
        "Model (as exported)",
        "Model key",
        "Month",
        "Requests",
        "Output tokens",
        "Wh per request (low)",
        "Wh per request (central)",
        "Wh per request (high)",
        "gCO2e per request (low)",
        "gCO2e per request (central)",
        "gCO2e per request (high)",
        "Wh per 1,000 output tokens (central)",
    ];
    let num = |x: f64| d.number(tidy(x));
    let pr = crate::aggregate::per_request::per_request(&o.summary);
    let rows = pr
        .groups
        .iter()
        .chain(pr.all.as_ref())
        .map(|g| {
            let (wh, grams) = (g.wh_per_request(), g.g_per_request());
            vec![
                guard(&g.provider),
                guard(&g.model),
                guard(&g.model_key),
                g.month.clone(),
                g.requests.to_string(),
                g.output_tokens.to_string(),
                num(wh.low),
                num(wh.central),
                num(wh.high),
                num(grams.low),
                num(grams.central),
                num(grams.high),
                g.wh_per_thousand_output_tokens()
                    .map(|b| num(b.central))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    (cols.iter().map(|c| c.to_string()).collect(), rows)
}

/// `levers.csv`: the what-if scenarios (the Levers sheet's table); its header only when none
/// was asked for.
fn levers(o: &Outcome, d: Dialect) -> Table {
    let cols = [
        "Scenario (as written)",
        "What it means",
        "Lines changed",
        "kgCO2e change, every factor low",
        "kgCO2e change, central",
        "kgCO2e change, every factor high",
        "kWh change (central)",
        "Water change, L (central)",
        "kgCO2e had it been so (central)",
        "Notes",
    ];
    let num = |x: f64| d.number(tidy(x));
    let rows = o
        .what_if
        .iter()
        .map(|w| {
            vec![
                guard(&w.spec),
                guard(&w.description),
                w.lines.to_string(),
                num(w.delta_kgco2e.low),
                num(w.delta_kgco2e.central),
                num(w.delta_kgco2e.high),
                num(w.delta_energy_kwh.central),
                num(w.delta_water_l.central),
                num(w.total_after_kgco2e.central),
                guard(&w.notes.join("; ")),
            ]
        })
        .collect();
    (cols.iter().map(|c| c.to_string()).collect(), rows)
}

/// The columns of `summary.csv`.
pub const SUMMARY_COLS: [&str; 6] = ["Figure", "Value", "Unit", "Low", "High", "Note"];

/// `summary.csv`: the figures a controller needs at a glance, one per row (see
/// docs/report.md). Numbers are rounded to 12 significant digits as in the JSON; a figure
/// without a range has Low and High empty; text (names, file names, warnings) goes through
/// [`guard`].
fn summary(o: &Outcome, d: Dialect) -> Table {
    let t = &o.summary.totals;
    let num = |x: f64| d.number(tidy(x));
    let mut rows: Vec<Vec<String>> = vec![];
    let mut fig = |name: &str, value: String, unit: &str, range: Option<(f64, f64)>, note: &str| {
        let (low, high) = match range {
            Some((l, h)) => (num(l), num(h)),
            None => (String::new(), String::new()),
        };
        rows.push(vec![
            name.to_string(),
            value,
            unit.to_string(),
            low,
            high,
            guard(note),
        ]);
    };
    let tonnes = |b: &Bounds| (b.central / 1000.0, (b.low / 1000.0, b.high / 1000.0));
    fig("Reporting entity", guard(&o.entity), "", None, "");
    fig(
        "Reporting period",
        guard(&o.period.label),
        "",
        None,
        &format!("{} to {}", o.period.start, o.period.end),
    );
    if let Some(note) = &o.note {
        fig(
            "Commentary",
            guard(note),
            "",
            None,
            "the preparer's note (report --note), also on the Cover",
        );
    }
    let (c, range) = tonnes(&t.emissions_kgco2e);
    fig(
        "Gross Scope 3 GHG emissions, Cat. 1 purchased AI / LLM API services",
        num(c),
        "tCO2e",
        Some(range),
        "ESRS E1-6 44(c) component, GHG Protocol Scope 3 Category 1, within ESRS E1 AR 51 cloud computing and data centre services; location-based, gross (no offsets netted); central value, with low and high as a bounding envelope (every factor at its low or high value), not a statistical interval",
    );
    let (c, range) = tonnes(&t.embodied_kgco2e);
    fig(
        "of which embodied hardware",
        num(c),
        "tCO2e",
        Some(range),
        "hardware manufacturing, per kWh of IT energy (docs/methodology.md)",
    );
    let (share, why) = if t.emissions_kgco2e.central > 0.0 {
        (
            num(100.0 * t.embodied_kgco2e.central / t.emissions_kgco2e.central),
            "central embodied / central total",
        )
    } else {
        (String::new(), "n/a: the total is zero")
    };
    fig("Embodied share of the total", share, "%", None, why);
    let tr = &o.training;
    if tr.available {
        let b = tr.total_tco2e;
        fig(
            "Amortised training share of the models used (Training sheet)",
            num(b.central),
            "tCO2e",
            Some((b.low, b.high)),
            if tr.included {
                "INCLUDED in the reported figure below because the configuration sets [boundary] include_training = true: the models' training emissions spread over the tokens they serve in their life (an assumption); not in the gross figure above"
            } else {
                "shown apart, not in the gross figure above ([boundary] include_training = true adds the central share): the models' training emissions spread over the tokens they serve in their life (an assumption)"
            },
        );
        if tr.included {
            fig(
                "Reported figure, incl. the amortised training share (central)",
                num((t.emissions_kgco2e.central + tr.added_kgco2e()) / 1000.0),
                "tCO2e",
                None,
                "the gross figure above + the central training share ([boundary] include_training = true); the E1-6 Summary's figure",
            );
        }
    }
    fig(
        "Energy at the data centre",
        num(t.energy_kwh.central),
        "kWh",
        Some((t.energy_kwh.low, t.energy_kwh.high)),
        "facility energy (IT energy x PUE); spend-based (EEIO) lines have none",
    );
    fig(
        "Water",
        num(t.water_l.central),
        "L",
        Some((t.water_l.low, t.water_l.high)),
        "on-site (WUE) and off-site water of the electricity; spend-based (EEIO) lines have none",
    );
    fig(
        "% from supplier primary data",
        num(100.0 * t.primary_data_share),
        "%",
        None,
        "ESRS E1-6 AR 46(g): share of the central total from vendor carbon figures; XBRL esrs:PercentageOfGrossScope3GreenhouseGasEmissionsCalculatedUsingPrimaryDataObtainedFromSuppliersOrOtherValueChainPartners",
    );
    match t.data_quality_score {
        Some(q) => fig(
            "Data-quality score",
            num(q),
            "score",
            None,
            "1 very good to 4 poor, emissions-weighted",
        ),
        None => fig(
            "Data-quality score",
            String::new(),
            "score",
            None,
            "n/a: no emissions",
        ),
    }
    let (c, range) = tonnes(&t.cfe_adjusted_kgco2e);
    fig(
        "Sensitivity: CFE-adjusted emissions",
        num(c),
        "tCO2e",
        Some(range),
        "not the reported figure: grid x (1 - carbon-free-energy share) where the operator publishes it; not GHG Protocol market-based",
    );
    use crate::pipeline::comparative::State;
    match crate::pipeline::comparative::of(o) {
        State::Figures(cmp) => {
            let prev = cmp.totals;
            let (c, range) = tonnes(&prev.emissions_kgco2e);
            fig(
                "Comparative period (N-1) emissions",
                num(c),
                "tCO2e",
                Some(range),
                &cmp.text(),
            );
            let before = prev.emissions_kgco2e.central;
            let (change, why) = if before > 0.0 {
                (
                    num(100.0 * (t.emissions_kgco2e.central / before - 1.0)),
                    "central values",
                )
            } else {
                (String::new(), "n/a: N-1 is zero")
            };
            fig("Change against N-1", change, "%", None, why);
        }
        State::NoLedgerData => fig(
            "Comparative period (N-1) emissions",
            String::new(),
            "tCO2e",
            None,
            "n/a: no data for N-1 in the ledger",
        ),
        State::None => fig(
            "Comparative period (N-1) emissions",
            String::new(),
            "tCO2e",
            None,
            "n/a: no ledger and no --prior",
        ),
    }
    let a = &t.activity;
    if a.requests_reported {
        fig("Requests", a.requests.to_string(), "requests", None, "");
    } else {
        fig(
            "Requests",
            String::new(),
            "requests",
            None,
            "not reported: no export gave a request count",
        );
    }
    fig(
        "Input tokens",
        a.input_tokens.to_string(),
        "tokens",
        None,
        &format!("{} of them cached", a.cached_input_tokens),
    );
    fig(
        "Output tokens",
        a.output_tokens.to_string(),
        "tokens",
        None,
        "",
    );
    for (currency, amount) in &t.spend {
        fig(
            "Spend",
            num(*amount),
            currency,
            None,
            "spend on the AI Services lines in this currency; money-only rows (tax, credits, refunds) are not in it",
        );
    }
    if let Some(rs) = &o.reporting {
        let mut note = format!(
            "the spend above in the reporting currency, each month at its year's annual average rate (USD per unit); rates used: {}",
            if rs.fx_ids.is_empty() {
                "none needed".to_string()
            } else {
                format!("{} (factors.csv)", rs.fx_ids.join(", "))
            }
        );
        for n in rs
            .notes
            .iter()
            .chain(&crate::pipeline::warnings::not_converted_text(
                rs,
                &o.factor_version,
            ))
        {
            note.push_str("; ");
            note.push_str(n);
        }
        fig(
            "Spend (reporting currency)",
            match rs.total {
                Some(v) => num(v),
                None => "n/a".into(),
            },
            &rs.currency,
            None,
            &note,
        );
    }
    for m in crate::report::intensity::metrics(o) {
        fig(
            &format!("Management metric: {}", m.label),
            num(m.value),
            "kgCO2e",
            None,
            &format!(
                "{}; a management metric, not the E1-6 §53 intensity (which divides total GHG emissions)",
                m.basis
            ),
        );
    }
    fig(
        "Factor set version",
        guard(&o.factor_version),
        "",
        None,
        "same inputs + same factor set + same --as-of = same figures",
    );
    fig("Factor set SHA-256", o.factor_sha256.clone(), "", None, "");
    fig(
        "Tool",
        format!("llm-scope3 {}", crate::VERSION),
        "",
        None,
        "",
    );
    fig(
        "Generated at (UTC)",
        o.generated_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "",
        None,
        "",
    );
    fig(
        "Input files",
        o.files.len().to_string(),
        "files",
        None,
        "listed in imports.csv",
    );
    for (i, f) in o.files.iter().enumerate() {
        fig(
            &format!("Input file {}", i + 1),
            guard(&f.file),
            "",
            None,
            &format!("SHA-256 {}; format {}", f.sha256, f.format),
        );
    }
    fig(
        "Rows rejected",
        o.rejections.len().to_string(),
        "rows",
        None,
        "listed with file, row, column and reason in rejected_rows.csv",
    );
    fig(
        "Warnings",
        o.warnings.len().to_string(),
        "warnings",
        None,
        match o.warnings.len() {
            0 => "none: every month of the period has data, every file's rows and money add up, no AI line was skipped",
            _ => "read them before signing: each below (code in Value, text in Note) and in warnings.csv",
        },
    );
    for (i, w) in o.warnings.iter().enumerate() {
        fig(
            &format!("Warning {}", i + 1),
            w.code.as_str().to_string(),
            "",
            None,
            &w.message,
        );
    }
    (SUMMARY_COLS.iter().map(|c| c.to_string()).collect(), rows)
}

/// Writes `summary.csv` and the tables into `dir` (created; an existing folder's files of the
/// same names are replaced only after every file was written to a temporary folder beside it).
/// Returns the names of the files written, in the order written.
pub fn write(o: &Outcome, dir: &Path, d: Dialect) -> Result<Vec<&'static str>> {
    let out_err = |reason: String| Error::Output {
        path: dir.display().to_string(),
        reason,
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    super::remove_stale_temps(parent);
    let prefix = super::temp_prefix("csv-");
    let tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .tempdir_in(parent)
        .map_err(|e| out_err(e.to_string()))?;
    let mut names = vec![];
    for (name, (header, rows)) in tables(o, d) {
        let mut file =
            std::fs::File::create(tmp.path().join(name)).map_err(|e| out_err(e.to_string()))?;
        if d == Dialect::Semicolon {
            // Excel set to a European locale opens a CSV file as UTF-8 only after a byte-order
            // mark (else `≤ 200k` or `Zürich` come out garbled).
            use std::io::Write as _;
            file.write_all("\u{feff}".as_bytes())
                .map_err(|e| out_err(e.to_string()))?;
        }
        let mut w = csv::WriterBuilder::new()
            .delimiter(d.delimiter())
            .from_writer(std::io::BufWriter::new(file));
        w.write_record(&header)
            .map_err(|e| out_err(e.to_string()))?;
        for r in rows {
            w.write_record(&r).map_err(|e| out_err(e.to_string()))?;
        }
        w.flush().map_err(|e| out_err(e.to_string()))?;
        names.push(name);
    }
    std::fs::create_dir_all(dir).map_err(|e| out_err(e.to_string()))?;
    for entry in std::fs::read_dir(tmp.path())
        .map_err(|e| out_err(e.to_string()))?
        .flatten()
    {
        std::fs::rename(entry.path(), dir.join(entry.file_name()))
            .map_err(|e| out_err(e.to_string()))?;
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::{guard, Dialect};

    #[test]
    fn numbers_are_written_in_full_with_the_dialect_s_decimal_mark() {
        assert_eq!(Dialect::Comma.number(12.5), "12.5");
        assert_eq!(Dialect::Semicolon.number(12.5), "12,5");
        assert_eq!(Dialect::Semicolon.number(1234567.25), "1234567,25");
        assert_eq!(Dialect::Comma.number(1e-9), "0.000000001");
        assert_eq!(Dialect::Comma.number(3e15), "3000000000000000");
        assert_eq!(Dialect::Semicolon.number(-0.5), "-0,5");
        assert_eq!(Dialect::Semicolon.delimiter(), b';');
        assert_eq!(Dialect::default(), Dialect::Comma);
    }

    #[test]
    fn the_semicolon_dialect_quotes_as_rfc_4180_says() {
        // A field with the delimiter, a quote or a line break is quoted, quotes doubled; a
        // decimal comma is not the delimiter, so `12,5` stays bare.
        let mut w = csv::WriterBuilder::new()
            .delimiter(Dialect::Semicolon.delimiter())
            .from_writer(vec![]);
        w.write_record([
            "a;b",
            "say \"hi\"",
            "two\nlines",
            &Dialect::Semicolon.number(12.5),
        ])
        .unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(text, "\"a;b\";\"say \"\"hi\"\"\";\"two\nlines\";12,5\n");
        assert_eq!(guard("-1"), "'-1");
    }
}
