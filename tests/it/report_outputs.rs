//! Outputs: the JSON summary against the schema, the workbook read back with calamine, and
//! reproducibility with --as-of.

use std::path::Path;

use calamine::{open_workbook_auto_from_rs, Data, Reader};

use crate::common::{assert_close, config, root, run};
use llm_scope3::report::{json, workbook};

/// The OpenAI usage CSV and the Anthropic usage XLSX samples (the figures below are theirs).
fn samples() -> Vec<std::path::PathBuf> {
    vec![
        root().join("samples/openai_completions_usage_2026-01-01_2026-03-31.csv"),
        root().join("samples/anthropic_claude_api_tokens_2026_Q1.xlsx"),
    ]
}

fn sample_outcome() -> llm_scope3::pipeline::Outcome {
    let paths = samples();
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    run(&refs, "2026Q1").unwrap()
}

#[test]
fn json_summary_validates_against_the_schema() {
    // The repository's schema extends the design's contract compatibly (optional fields
    // only): when the design folder is beside the checkout (CI), it keeps the same required
    // fields, and the output validates against the design's schema as well as ours.
    let ours = std::fs::read_to_string(root().join("docs/summary.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&ours).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let o = sample_outcome();
    let text = json::to_string(&o).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let shared = root().join("../shared/design/summary.schema.json");
    if let Ok(theirs) = std::fs::read_to_string(&shared) {
        let theirs: serde_json::Value = serde_json::from_str(&theirs).unwrap();
        assert_eq!(
            schema["required"], theirs["required"],
            "docs/summary.schema.json must keep the design's required fields"
        );
        for (name, _) in theirs["properties"].as_object().unwrap() {
            assert!(
                schema["properties"].get(name).is_some(),
                "docs/summary.schema.json lost the design's property {name}"
            );
        }
        let design = jsonschema::validator_for(&theirs).unwrap();
        let errors: Vec<String> = design.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "errors against the design's schema: {errors:#?}"
        );
    }
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    // And a broken summary must fail, so the validation is real.
    let mut broken = value.clone();
    broken["totals"]["emissions_kgco2e"]["central"] = serde_json::json!("a lot");
    assert!(!validator.is_valid(&broken));
    assert_eq!(value["tool"]["name"], "llm-scope3");
    assert_eq!(value["period"]["start"], "2026-01-01");
    assert_eq!(value["period"]["end"], "2026-03-31");
    assert_eq!(value["imports"].as_array().unwrap().len(), 2);
}

#[test]
fn json_is_identical_for_two_runs_with_the_same_as_of() {
    let a = json::to_string(&sample_outcome()).unwrap();
    let b = json::to_string(&sample_outcome()).unwrap();
    assert_eq!(a, b);
    assert!(a.contains("\"generated_at\": \"2026-04-15T00:00:00Z\""));
}

fn cell_f64(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("expected a number, found {other:?}"),
    }
}

fn find_row(range: &calamine::Range<Data>, col: usize, label: &str) -> usize {
    range
        .rows()
        .position(|r| r.get(col).map(|c| c.to_string()) == Some(label.to_string()))
        .unwrap_or_else(|| panic!("no row labelled {label}"))
}

fn header_col(range: &calamine::Range<Data>, header_row: usize, name: &str) -> usize {
    range
        .rows()
        .nth(header_row)
        .unwrap()
        .iter()
        .position(|c| *c == Data::String(name.to_string()))
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn workbook_has_every_sheet_and_the_json_totals() {
    let o = sample_outcome();
    let set = config("2026Q1").factors;
    let bytes = workbook::build(&o, &set).unwrap();
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(wb.sheet_names(), workbook::SHEETS);
    let t = &o.summary.totals;

    // AI Services: the Total row equals the totals, and the lines sum to it.
    let ai = wb.worksheet_range("AI Services").unwrap();
    let c_central = header_col(&ai, 0, "kgCO2e (central)");
    let c_high = header_col(&ai, 0, "kgCO2e (high)");
    let c_in = header_col(&ai, 0, "Input tokens");
    let total = find_row(&ai, 0, "Total");
    let row = ai.rows().nth(total).unwrap();
    assert_close(
        cell_f64(&row[c_central]),
        t.emissions_kgco2e.central,
        1e-12,
        "AI Services total",
    );
    assert_close(
        cell_f64(&row[c_high]),
        t.emissions_kgco2e.high,
        1e-12,
        "AI Services high",
    );
    assert_eq!(cell_f64(&row[c_in]) as u64, t.activity.input_tokens);
    let lines_sum: f64 = ai
        .rows()
        .skip(1)
        .take(total - 1)
        .map(|r| cell_f64(&r[c_central]))
        .sum();
    assert_close(
        lines_sum,
        t.emissions_kgco2e.central,
        1e-9,
        "Σ AI Services lines",
    );
    assert_eq!(total - 1, o.summary.lines.len());

    // Calculation Lines: same total, one row per calculation line.
    let calc = wb.worksheet_range("Calculation Lines").unwrap();
    let c_central = header_col(&calc, 0, "kgCO2e (central)");
    let total = find_row(&calc, 0, "Total");
    assert_eq!(total - 1, o.summary.calc_lines.len());
    let calc_sum: f64 = calc
        .rows()
        .skip(1)
        .take(total - 1)
        .map(|r| cell_f64(&r[c_central]))
        .sum();
    assert_close(
        calc_sum,
        t.emissions_kgco2e.central,
        1e-9,
        "Σ calculation lines",
    );

    // Periods: the period total (tCO2e) equals the total.
    let periods = wb.worksheet_range("Periods").unwrap();
    let r = find_row(&periods, 0, "Period total");
    let total_col = header_col(&periods, 2, "Total tCO2e");
    let v = cell_f64(&periods.rows().nth(r).unwrap()[total_col]);
    assert_close(
        v * 1000.0,
        t.emissions_kgco2e.central,
        1e-9,
        "Periods total",
    );

    // E1-6 Summary: the AI line equals the total in tCO2e.
    let s = wb.worksheet_range("E1-6 Summary").unwrap();
    let r = find_row(&s, 0, "of which AI / LLM API services (this workbook)");
    let n_col = header_col(&s, 2, "N (this period)");
    let v = cell_f64(&s.rows().nth(r).unwrap()[n_col]);
    assert_close(v * 1000.0, t.emissions_kgco2e.central, 1e-12, "E1-6 line");

    // Imports: one row per file with balanced row accounting.
    let imports = wb.worksheet_range("Imports").unwrap();
    let bal = header_col(&imports, 0, "Balanced (read = sum)");
    let fmt = header_col(&imports, 0, "Format");
    let rows: Vec<_> = imports.rows().skip(1).take(2).collect();
    assert_eq!(rows[0][fmt].to_string(), "anthropic-usage");
    assert_eq!(rows[1][fmt].to_string(), "openai-usage");
    assert!(rows.iter().all(|r| r[bal] == Data::String("yes".into())));

    // Rejected Rows: every rejection, with its row number.
    let rej = wb.worksheet_range("Rejected Rows").unwrap();
    assert_eq!(rej.rows().count() - 1, o.rejections.len());
    assert_eq!(o.rejections.len(), 7);

    // Factors and Sources: every factor id used by a line is listed, and its sources exist.
    let factors = wb.worksheet_range("Factors").unwrap();
    let ids: Vec<String> = factors.rows().skip(1).map(|r| r[0].to_string()).collect();
    for l in &o.summary.lines {
        for id in &l.body.factor_ids {
            assert!(
                ids.iter().any(|x| x.as_str() == &**id),
                "factor {id} missing from the Factors sheet"
            );
        }
    }
    let sources = wb.worksheet_range("Sources").unwrap();
    let source_ids: Vec<String> = sources.rows().skip(1).map(|r| r[0].to_string()).collect();
    let src_col = header_col(&factors, 0, "Source id(s)");
    for r in factors
        .rows()
        .skip(1)
        .take_while(|r| !r[0].to_string().is_empty())
    {
        for id in r[src_col].to_string().split(';') {
            assert!(
                source_ids.contains(&id.trim().to_string()),
                "source {id} not on Sources"
            );
        }
    }
    // Cover names the factor set and its SHA-256.
    let cover = wb.worksheet_range("Cover").unwrap();
    let r = find_row(&cover, 0, "Factor set SHA-256");
    assert_eq!(cover.rows().nth(r).unwrap()[1].to_string(), set.sha256);
}

#[test]
fn text_from_inputs_is_written_as_text_not_formulas() {
    // A model name that looks like a formula must come back as the same text.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.csv");
    std::fs::write(
        &path,
        "start_time,end_time,model,input_tokens,output_tokens,num_model_requests,project_id\n\
         1768435200,1768521600,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",10,5,1,+cmd|calc\n",
    )
    .unwrap();
    let o = run(&[&path], "2026Q1").unwrap();
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let ai = wb.worksheet_range("AI Services").unwrap();
    let row = ai.rows().nth(1).unwrap();
    assert_eq!(
        row[1],
        Data::String("=HYPERLINK(\"http://x\",\"y\")".into())
    );
    assert_eq!(row[6], Data::String("+cmd|calc".into()));
    // The only formulas are the tool's sums (of the calculation lines, of the lines).
    let formulas = wb.worksheet_formula("AI Services").unwrap();
    assert!(formulas
        .used_cells()
        .all(|(_, _, f)| f.is_empty() || (f.starts_with("SUM(") && !f.contains("HYPERLINK"))));
}

#[test]
fn allocation_uncertainty_data_quality_and_xbrl_sheets_cross_check() {
    let o = sample_outcome();
    let set = config("2026Q1").factors;
    let bytes = workbook::build(&o, &set).unwrap();
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let t = &o.summary.totals;

    // Allocation: Σ allocated + unallocated = total.
    let alloc = wb.worksheet_range("Allocation").unwrap();
    let central = header_col(&alloc, 0, "kgCO2e (central)");
    let total_row = find_row(&alloc, 0, "Total (= allocated + unallocated)");
    let sum: f64 = alloc
        .rows()
        .skip(1)
        .take(total_row - 1)
        .map(|r| cell_f64(&r[central]))
        .sum();
    assert_close(sum, t.emissions_kgco2e.central, 1e-9, "Σ allocation");
    assert!(alloc
        .rows()
        .any(|r| r[0] == Data::String("Unallocated (no cost centre in the export)".into())));

    // Uncertainty: each assumption's low total ≤ central ≤ high total; the grid row's swing
    // is positive; the provider table adds up to the total.
    assert_eq!(o.summary.sensitivity.len(), 5);
    for (name, lo, hi) in &o.summary.sensitivity {
        assert!(
            *lo <= t.emissions_kgco2e.central + 1e-9 && t.emissions_kgco2e.central <= hi + 1e-9,
            "{name}: {lo} {hi}"
        );
    }
    let u = wb.worksheet_range("Uncertainty").unwrap();
    let r = find_row(&u, 0, "Total");
    assert_close(
        cell_f64(&u.rows().nth(r).unwrap()[2]),
        t.emissions_kgco2e.central,
        1e-12,
        "Uncertainty total",
    );

    // Data Quality: the weighted total equals the JSON's score.
    let dq = wb.worksheet_range("Data Quality").unwrap();
    let r = find_row(&dq, 0, "Weighted total");
    assert_close(
        cell_f64(&dq.rows().nth(r).unwrap()[8]),
        t.data_quality_score.unwrap(),
        1e-12,
        "DQ score",
    );

    // XBRL Map: the cell it names holds the E1-6 figure.
    let x = wb.worksheet_range("XBRL Map").unwrap();
    let cell_ref = x.rows().nth(1).unwrap()[6].to_string();
    assert_eq!(cell_ref, "'E1-6 Summary'!G7");
    let s = wb.worksheet_range("E1-6 Summary").unwrap();
    let v = s.get_value((6, 6)).map(cell_f64).unwrap();
    assert_close(v * 1000.0, t.emissions_kgco2e.central, 1e-12, "XBRL cell");
}

#[test]
fn the_workbook_has_its_six_native_charts() {
    // Periods (stacked columns), AI Services (Pareto), Uncertainty (whiskers, tornado), Data
    // Quality (method mix) and Per Request (beside published figures): six chart parts.
    let bytes = workbook::build(&sample_outcome(), &config("2026Q1").factors).unwrap();
    let zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let charts = zip
        .file_names()
        .filter_map(|n| n.ok())
        .filter(|n| n.starts_with("xl/charts/chart") && n.ends_with(".xml"))
        .count();
    assert_eq!(charts, 6);
}

#[test]
fn format_csv_writes_the_tables_with_the_same_figures_and_guards_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let usage = dir.path().join("usage.csv");
    std::fs::write(
        &usage,
        "start_time,end_time,model,input_tokens,output_tokens,num_model_requests,project_id\n\
         1768435200,1768521600,=HYPERLINK(\"http://x\"),1000,500,1,@proj\n\
         1768435200,1768521600,gpt-4o,1000,500,1,proj_b\n",
    )
    .unwrap();
    let out = dir.path().join("tables");
    let mut c = assert_cmd::Command::cargo_bin("llm-scope3").unwrap();
    c.args(["report", "--quarter", "2026Q1", "--format", "csv", "--out"])
        .arg(&out)
        .arg(&usage)
        .assert()
        .success();
    for name in [
        "summary.csv",
        "warnings.csv",
        "ai_services.csv",
        "calculation_lines.csv",
        "factors.csv",
        "imports.csv",
        "rejected_rows.csv",
    ] {
        assert!(out.join(name).is_file(), "{name}");
    }
    let mut rdr = csv::Reader::from_path(out.join("ai_services.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let kg = headers
        .iter()
        .position(|h| h == "kgCO2e (central)")
        .unwrap();
    let model = headers
        .iter()
        .position(|h| h == "Model (as exported)")
        .unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let sum: f64 = rows.iter().map(|r| r[kg].parse::<f64>().unwrap()).sum();
    let o = run(&[&usage], "2026Q1").unwrap();
    assert!((sum - o.summary.totals.emissions_kgco2e.central).abs() < 1e-12);
    assert!(
        rows.iter()
            .any(|r| &r[model] == "'=HYPERLINK(\"http://x\")"),
        "formula not guarded"
    );
    assert!(rows.iter().all(|r| !r[model].starts_with('=')));
}

/// The CSV files `report --format csv` writes, in the order its message lists them.
const CSV_FILES: [&str; 10] = [
    "summary.csv",
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

/// The records of a CSV file written with `delimiter`, header first.
fn csv_records(path: &Path, delimiter: u8) -> Vec<csv::StringRecord> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .from_path(path)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect()
}

/// The rows of summary.csv named `figure`.
fn figures<'a>(rows: &'a [csv::StringRecord], figure: &str) -> Vec<&'a csv::StringRecord> {
    rows.iter().filter(|r| &r[0] == figure).collect()
}

/// The one row of summary.csv named `figure`.
fn figure<'a>(rows: &'a [csv::StringRecord], figure: &str) -> &'a csv::StringRecord {
    let found = figures(rows, figure);
    assert_eq!(found.len(), 1, "{figure}: {rows:?}");
    found[0]
}

/// The "Wrote ..." line of a CSV run into `dir` (as given on the command line).
#[test]
fn the_csv_files_the_tool_lists_are_the_ones_it_writes() {
    // `report::csv::FILES` (what --out refuses to overwrite an input with) is the list of
    // tables written, in order.
    assert_eq!(llm_scope3::report::csv::FILES, CSV_FILES);
}

fn wrote_line(dir: &str) -> String {
    format!(
        "Wrote 10 files in {dir}{}: {}",
        std::path::MAIN_SEPARATOR,
        CSV_FILES.join(", ")
    )
}

#[test]
fn csv_summary_holds_the_json_s_disclosure_figures_and_every_warning() {
    // The samples: two warnings, rejected rows, vendor carbon data (primary data > 0).
    let dir = tempfile::tempdir().unwrap();
    let a = crate::common::bin_in(dir.path())
        .arg("report")
        .arg(root().join("samples"))
        .args([
            "--quarter",
            "2026Q1",
            "--as-of",
            "2026-04-15",
            "--format",
            "csv",
        ])
        .args(["--out", "tables", "--json", "s.json"])
        .assert()
        .success();
    let out = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(out.contains(&wrote_line("tables")), "{out}");
    assert!(out.contains("Wrote s.json"), "{out}");
    assert!(
        err.contains("read them before you sign the figure (also in summary.csv and warnings.csv)"),
        "{err}"
    );
    let names: std::collections::BTreeSet<String> = std::fs::read_dir(dir.path().join("tables"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, CSV_FILES.iter().map(|n| n.to_string()).collect());

    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("s.json")).unwrap()).unwrap();
    let rows = csv_records(&dir.path().join("tables/summary.csv"), b',');
    assert_eq!(
        rows[0].iter().collect::<Vec<_>>(),
        ["Figure", "Value", "Unit", "Low", "High", "Note"]
    );
    let rows = &rows[1..];
    assert!(rows.iter().all(|r| r.len() == 6));
    let f = |s: &str| -> f64 { s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}")) };
    let jf = |v: &serde_json::Value| v.as_f64().unwrap();
    let t = &j["totals"];

    // The total, with its range, in tonnes: the JSON's kilograms / 1000.
    let total = figure(
        rows,
        "Gross Scope 3 GHG emissions, Cat. 1 purchased AI / LLM API services",
    );
    assert_eq!(&total[2], "tCO2e");
    for (col, key) in [(1, "central"), (3, "low"), (4, "high")] {
        assert_close(
            f(&total[col]) * 1000.0,
            jf(&t["emissions_kgco2e"][key]),
            1e-11,
            key,
        );
    }
    assert!(f(&total[3]) < f(&total[1]) && f(&total[1]) < f(&total[4]));
    let embodied = figure(rows, "of which embodied hardware");
    assert_close(
        f(&embodied[1]) * 1000.0,
        jf(&t["embodied_kgco2e"]["central"]),
        1e-11,
        "embodied",
    );
    assert_close(
        f(&figure(rows, "Embodied share of the total")[1]),
        100.0 * jf(&t["embodied_kgco2e"]["central"]) / jf(&t["emissions_kgco2e"]["central"]),
        1e-9,
        "embodied share",
    );
    for (name, key, unit) in [
        ("Energy at the data centre", "energy_kwh", "kWh"),
        ("Water", "water_l", "L"),
    ] {
        let r = figure(rows, name);
        assert_eq!(&r[2], unit);
        for (col, k) in [(1, "central"), (3, "low"), (4, "high")] {
            assert_close(f(&r[col]), jf(&t[key][k]), 1e-11, name);
        }
    }
    let primary = figure(rows, "% from supplier primary data");
    assert!(
        f(&primary[1]) > 0.0,
        "the samples hold a Google carbon report"
    );
    assert_close(
        f(&primary[1]),
        100.0 * jf(&t["primary_data_share"]),
        1e-9,
        "% primary",
    );
    assert_close(
        f(&figure(rows, "Data-quality score")[1]),
        jf(&t["data_quality_score"]),
        1e-11,
        "DQ",
    );
    assert_eq!(
        f(&figure(rows, "Requests")[1]),
        jf(&t["requests"]),
        "requests"
    );
    assert_eq!(
        &figure(rows, "Output tokens")[1],
        t["output_tokens"].to_string().as_str()
    );
    let spend = figures(rows, "Spend");
    assert_eq!(spend.len(), t["spend"].as_array().unwrap().len());
    for (r, s) in spend.iter().zip(t["spend"].as_array().unwrap()) {
        assert_eq!(&r[2], s["currency"].as_str().unwrap());
        assert_close(f(&r[1]), jf(&s["amount"]), 1e-11, "spend");
    }

    // Period, factor set, time: as in the JSON.
    let period = figure(rows, "Reporting period");
    assert_eq!(&period[1], "2026Q1");
    assert_eq!(&period[5], "2026-01-01 to 2026-03-31");
    assert_eq!(
        &figure(rows, "Factor set version")[1],
        j["factor_set"]["version"].as_str().unwrap()
    );
    assert_eq!(
        &figure(rows, "Factor set SHA-256")[1],
        j["factor_set"]["sha256"].as_str().unwrap()
    );
    assert_eq!(
        &figure(rows, "Generated at (UTC)")[1],
        "2026-04-15T00:00:00Z"
    );
    assert_eq!(
        &figure(rows, "Comparative period (N-1) emissions")[5],
        "n/a: no ledger and no --prior"
    );
    assert_eq!(
        f(&figure(rows, "Rows rejected")[1]),
        j["rejections"].as_array().unwrap().len() as f64
    );
    let imports = j["imports"].as_array().unwrap();
    assert_eq!(f(&figure(rows, "Input files")[1]), imports.len() as f64);
    for (i, imp) in imports.iter().enumerate() {
        let r = figure(rows, &format!("Input file {}", i + 1));
        assert_eq!(&r[1], imp["file"].as_str().unwrap());
        assert!(r[5].contains(imp["sha256"].as_str().unwrap()));
    }

    // Every warning: the count, then each with its code and text.
    let warnings = j["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(f(&figure(rows, "Warnings")[1]), 2.0);
    for (i, w) in warnings.iter().enumerate() {
        let r = figure(rows, &format!("Warning {}", i + 1));
        assert_eq!(&r[1], w["code"].as_str().unwrap());
        assert_eq!(&r[5], w["message"].as_str().unwrap());
    }

    // A number cell is a plain number: no thousands separators (Rust's parser refuses them).
    for r in rows {
        let numeric = [
            "tCO2e", "kWh", "L", "%", "score", "requests", "tokens", "files",
        ]
        .contains(&&r[2])
            || &r[0] == "Spend";
        for col in [1, 3, 4] {
            if numeric && !r[col].is_empty() {
                f(&r[col]);
            }
        }
    }
}

#[test]
fn csv_semicolon_option_writes_semicolons_and_decimal_commas_in_numbers_only() {
    let dir = tempfile::tempdir().unwrap();
    let run_csv = |out: &str, extra: &[&str]| {
        crate::common::bin_in(dir.path())
            .arg("report")
            .arg(root().join("tests/fixtures/openai_usage_one_row.csv"))
            .args([
                "--quarter",
                "2026Q1",
                "--as-of",
                "2026-04-15",
                "--factors",
                "2026.2",
            ])
            .args(["--format", "csv", "--out", out])
            .args(extra)
            .assert()
            .success()
    };
    run_csv("comma", &[]);
    let a = run_csv("semi", &["--csv-delimiter", "semicolon"]);
    let out = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(out.contains(&wrote_line("semi")), "{out}");
    for text in [&out, &err] {
        assert!(!text.to_lowercase().contains("sheet"), "{text}");
    }

    // A UTF-8 byte-order mark first (for Excel in a European locale), none in the comma
    // files; then the delimiter is `;`.
    let raw = std::fs::read(dir.path().join("semi/factors.csv")).unwrap();
    assert!(raw.starts_with(b"\xEF\xBB\xBF"));
    assert!(!std::fs::read(dir.path().join("comma/factors.csv"))
        .unwrap()
        .starts_with(b"\xEF\xBB\xBF"));
    let factors = std::fs::read_to_string(dir.path().join("semi/factors.csv")).unwrap();
    let factors = factors.trim_start_matches('\u{feff}');
    assert_eq!(
        factors.lines().next().unwrap(),
        "Factor id;Kind;Low;Central;High;Unit;Year;Applies to;Basis / derivation;Source id(s)"
    );
    // Known factors of set 2026.2 (OpenAI's PUE 1.07 / 1.18 / 1.6, the USA grid 384.4 g/kWh)
    // with a decimal comma; a unit's text keeps its comma ("Wh per 1,000 tokens").
    let semi = csv_records(&dir.path().join("semi/factors.csv"), b';');
    let comma = csv_records(&dir.path().join("comma/factors.csv"), b',');
    let row =
        |rows: &[csv::StringRecord], id: &str| rows.iter().find(|r| &r[0] == id).unwrap().clone();
    let pue = row(&semi, "pue:openai");
    assert_eq!((&pue[2], &pue[3], &pue[4]), ("1,07", "1,18", "1,6"));
    assert_eq!(&row(&comma, "pue:openai")[3], "1.18");
    assert_eq!(&row(&semi, "grid:country:USA:2025")[3], "384,4");
    assert_eq!(&row(&semi, "grid:country:USA:2025")[6], "2025");
    assert_eq!(&row(&semi, "energy:gpt-4o:in")[5], "Wh per 1,000 tokens");
    assert!(factors.contains(";1,18;"), "{factors}");

    // Every file: the same cells, numbers with a decimal comma, text untouched.
    let mut changed = 0;
    for name in CSV_FILES {
        let c = csv_records(&dir.path().join("comma").join(name), b',');
        let s = csv_records(&dir.path().join("semi").join(name), b';');
        assert_eq!(c.len(), s.len(), "{name}");
        for (rc, rs) in c.iter().zip(&s) {
            assert_eq!(rc.len(), rs.len(), "{name}");
            for (x, y) in rc.iter().zip(rs.iter()) {
                if x != y {
                    assert!(
                        x.parse::<f64>().is_ok() && y == x.replace('.', ","),
                        "{name}: {x:?} became {y:?}"
                    );
                    changed += 1;
                }
            }
        }
    }
    assert!(changed > 20, "{changed}");

    // summary.csv: the total with a decimal comma, the same number; text such as the factor
    // set's version keeps its point.
    let sc = csv_records(&dir.path().join("comma/summary.csv"), b',');
    let ss = csv_records(&dir.path().join("semi/summary.csv"), b';');
    let name = "Gross Scope 3 GHG emissions, Cat. 1 purchased AI / LLM API services";
    let (tc, ts) = (figure(&sc, name), figure(&ss, name));
    assert!(ts[1].contains(',') && !ts[1].contains('.'), "{ts:?}");
    assert_eq!(ts[1].replace(',', "."), &tc[1]);
    let o = crate::common::run_factors(
        &[&root().join("tests/fixtures/openai_usage_one_row.csv")],
        "2026Q1",
        "2026.2",
    )
    .unwrap();
    assert_close(
        tc[1].parse::<f64>().unwrap() * 1000.0,
        o.summary.totals.emissions_kgco2e.central,
        1e-11,
        "total",
    );
    assert_eq!(&figure(&ss, "Factor set version")[1], "2026.2");
    assert_eq!(
        &figure(&ss, "Generated at (UTC)")[1],
        "2026-04-15T00:00:00Z"
    );

    // Only with --format csv.
    let a = crate::common::bin_in(dir.path())
        .arg("report")
        .arg(root().join("tests/fixtures/openai_usage_one_row.csv"))
        .args([
            "--quarter",
            "2026Q1",
            "--csv-delimiter",
            "semicolon",
            "--out",
            "r.xlsx",
        ])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("--csv-delimiter applies to the CSV files: add --format csv"),
        "{err}"
    );
    assert!(!dir.path().join("r.xlsx").exists());
}

#[test]
fn calculation_lines_continue_on_further_sheets_past_the_row_limit() {
    // With 50 lines per sheet (instead of Excel's 1,048,574), the lines continue on
    // "Calculation Lines (2)", ... and every line appears exactly once.
    let o = run(&[&root().join("samples")], "2026Q1").unwrap();
    let n = o.summary.calc_lines.len();
    assert!(n > 100, "{n} lines");
    let bytes = workbook::build_with(&o, &config("2026Q1").factors, 50).unwrap();
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = wb
        .sheet_names()
        .into_iter()
        .filter(|s| s.starts_with("Calculation Lines"))
        .collect();
    assert_eq!(names.len(), n.div_ceil(50));
    assert_eq!(names[1], "Calculation Lines (2)");
    let mut lines = 0;
    let mut central = 0.0;
    for name in &names {
        let range = wb.worksheet_range(name).unwrap();
        let c = header_col(&range, 0, "kgCO2e (central)");
        for row in range.rows().skip(1) {
            let label = row[0].to_string();
            if label.is_empty()
                || label == "Total"
                || label.starts_with("continued on")
                || label.starts_with("Energy, emissions")
            {
                continue;
            }
            lines += 1;
            central += cell_f64(&row[c]);
        }
    }
    assert_eq!(lines, n);
    assert_close(
        central,
        o.summary.totals.emissions_kgco2e.central,
        1e-9,
        "Σ over the sheets",
    );
}

#[test]
fn formula_injection_from_any_text_field_is_inert_in_workbook_and_csv() {
    // Four classic payloads as model names and projects; through the binary, the workbook
    // must hold them as plain strings (no formula at their cells, on any sheet) and the CSV
    // tables must prefix them with an apostrophe.
    const PAYLOADS: [&str; 4] = [
        "=HYPERLINK(\"http://x\",\"y\")",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1)",
    ];
    let dir = tempfile::tempdir().unwrap();
    let usage = dir.path().join("usage.csv");
    let mut text = String::from(
        "start_time,end_time,model,input_tokens,output_tokens,num_model_requests,project_id\n",
    );
    for p in PAYLOADS {
        let quoted = format!("\"{}\"", p.replace('"', "\"\""));
        text += &format!("1768435200,1768521600,{quoted},1000,500,1,{quoted}\n");
    }
    std::fs::write(&usage, text).unwrap();
    let xlsx = dir.path().join("r.xlsx");
    crate::common::bin_in(dir.path())
        .args(["report", "--quarter", "2026Q1", "--out"])
        .arg(&xlsx)
        .arg(&usage)
        .assert()
        .success();
    let mut wb = calamine::open_workbook_auto(&xlsx).unwrap();
    let mut found = std::collections::BTreeMap::new();
    let mut live_formulas = 0;
    for sheet in wb.sheet_names() {
        let values = wb.worksheet_range(&sheet).unwrap();
        let formulas = wb.worksheet_formula(&sheet).unwrap();
        live_formulas += formulas
            .used_cells()
            .filter(|(_, _, f)| !f.is_empty())
            .count();
        for (r, c, v) in values.used_cells() {
            let Data::String(s) = v else { continue };
            let Some(p) = PAYLOADS.iter().find(|p| s.contains(**p)) else {
                continue;
            };
            let at = (
                values.start().unwrap().0 + r as u32,
                values.start().unwrap().1 + c as u32,
            );
            let formula = formulas.get_value(at).cloned().unwrap_or_default();
            assert!(formula.is_empty(), "{sheet} {at:?}: formula {formula:?}");
            *found.entry(*p).or_insert(0) += 1;
        }
    }
    // The reader does see formulas: the workbook's own live totals and calculation lines.
    assert!(live_formulas > 10, "{live_formulas}");
    for p in PAYLOADS {
        // At least AI Services (model and cost centre) and Calculation Lines.
        assert!(found.get(p).copied().unwrap_or(0) >= 3, "{p}: {found:?}");
    }

    let tables = dir.path().join("tables");
    crate::common::bin_in(dir.path())
        .args(["report", "--quarter", "2026Q1", "--format", "csv", "--out"])
        .arg(&tables)
        .arg(&usage)
        .assert()
        .success();
    let mut guarded = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&tables).unwrap().flatten() {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(entry.path())
            .unwrap();
        for record in rdr.records() {
            for field in record.unwrap().iter() {
                assert!(!PAYLOADS.contains(&field), "unguarded {field:?}");
                if let Some(p) = field.strip_prefix('\'') {
                    if PAYLOADS.contains(&p) {
                        guarded.insert(p.to_string());
                    }
                }
            }
        }
    }
    assert_eq!(guarded.len(), 4, "{guarded:?}");
}

#[test]
fn text_longer_than_a_cell_is_cut_with_a_marker_and_kept_whole_in_json() {
    // One usage row whose project is 40,000 characters long, one whose model name is, and a
    // rejected row whose token cell is: before, the workbook writer failed on each (exit 1).
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        std::fs::read_to_string(root().join("tests/fixtures/openai_usage_one_row.csv")).unwrap();
    let mut lines = fixture.lines();
    let header = lines.next().unwrap();
    let row = lines.next().unwrap();
    let long = "p".repeat(40_000);
    let long_model = format!("gpt-4o-{}", "x".repeat(40_000));
    let bad_tokens = "9".repeat(39_999) + "x";
    let text = format!(
        "{header}\n{}\n{}\n{}\n",
        row.replace("proj_a", &long),
        row.replace("gpt-4o-2024-08-06", &long_model),
        row.replace("1000000.0,500000.0", &format!("{bad_tokens},500000.0")),
    );
    let input = dir.path().join("long.csv");
    std::fs::write(&input, text).unwrap();
    let mut c = assert_cmd::Command::cargo_bin("llm-scope3").unwrap();
    c.current_dir(dir.path())
        .args([
            "report",
            "--quarter",
            "2026Q1",
            "--out",
            "r.xlsx",
            "--json",
            "r.json",
        ])
        .arg(&input)
        .assert()
        .success();
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto(dir.path().join("r.xlsx")).unwrap();
    let mut longest = 0;
    let mut marked = 0;
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        for cell in range.used_cells() {
            if let calamine::Data::String(s) = cell.2 {
                longest = longest.max(s.encode_utf16().count());
                if s.contains("cut at a spreadsheet cell's limit") {
                    marked += 1;
                }
            }
        }
    }
    assert!(longest <= 32_767, "a cell of {longest} characters");
    assert!(marked >= 2, "only {marked} marked cells");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let lines = j["lines"].as_array().unwrap();
    assert!(lines.iter().any(|l| l["cost_centre"] == long.as_str()));
    assert!(lines.iter().any(|l| l["model"] == long_model.as_str()));
    let codes: Vec<&str> = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"text_cut"), "{codes:?}");
}

#[test]
fn every_text_longer_than_a_cell_is_counted_and_the_entity_is_checked() {
    // Three usage rows, each of its own project of 40,000 characters ("a", "b", "c"
    // repeated): three AI Services lines, three cost centres described alike ("a cost centre
    // (40000 characters)"). With an entity of 40,000 characters, four texts are cut in the
    // workbook: 3 + 1. Before, equal descriptions side by side were merged (1 counted) and the
    // entity was not looked at.
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        std::fs::read_to_string(root().join("tests/fixtures/openai_usage_one_row.csv")).unwrap();
    let mut lines = fixture.lines();
    let header = lines.next().unwrap();
    let row = lines.next().unwrap();
    let mut text = format!("{header}\n");
    for p in ["a", "b", "c"] {
        text.push_str(&row.replace("proj_a", &p.repeat(40_000)));
        text.push('\n');
    }
    let input = dir.path().join("long.csv");
    std::fs::write(&input, text).unwrap();
    let entity = "E".repeat(40_000);
    crate::common::bin_in(dir.path())
        .args([
            "report",
            "--quarter",
            "2026Q1",
            "--out",
            "r.xlsx",
            "--json",
            "r.json",
        ])
        .args(["--entity", &entity])
        .arg(&input)
        .assert()
        .success();
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let cut: Vec<&serde_json::Value> = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "text_cut")
        .collect();
    assert_eq!(cut.len(), 1, "{cut:?}");
    assert_eq!(cut[0]["rows"], 4);
    assert_eq!(
        cut[0]["message"],
        "4 text value(s) are longer than a spreadsheet cell holds (32,767 characters): the \
         workbook cuts them, marked where cut; the JSON summary and the CSV tables have them \
         whole (a spreadsheet program opening a CSV table cuts them too): a cost centre (40000 \
         characters); the reporting entity (40000 characters)."
    );
}

#[test]
fn sheet_names_and_the_commentary_longer_than_a_cell_are_named_in_the_text_cut_warning() {
    // The OpenAI sample rejects one row (start_time 2026-02-30). Its file's sheet and the
    // rejected row's sheet given names of 40,000 characters (a workbook may hold such names;
    // the Imports, Rejected Rows and Calculation Lines sheets write them), and a commentary of
    // 40,000 characters set as `report --note` sets it: 3 texts cut. Before, sheet names and
    // the commentary were not looked at: no warning.
    let mut o = sample_outcome();
    o.files[0].sheets[0].sheet = Some("S".repeat(40_000));
    o.rejections[0].sheet = Some("T".repeat(40_000));
    o.set_note(Some("N".repeat(40_000)));
    let row = o.rejections[0].row;
    let w: Vec<_> = o
        .warnings
        .iter()
        .filter(|w| w.code == llm_scope3::pipeline::warnings::WarningCode::TextCut)
        .collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].rows, Some(3));
    let m = &w[0].message;
    assert!(m.starts_with("3 text value(s) are longer"), "{m}");
    assert!(m.contains(": a sheet name of "), "{m}");
    assert!(
        m.contains(&format!("; the sheet name of rejected row {row} of ")),
        "{m}"
    );
    assert!(m.ends_with("; the commentary (40000 characters)."), "{m}");
    assert_eq!(m.matches("(40000 characters)").count(), 3, "{m}");
}

#[test]
fn the_terminal_shows_a_long_model_name_shortened_with_its_length() {
    // A usage row whose model is "gpt-4o-" and 40,000 x (40,007 characters), not in the factor
    // set: the model_unresolved warning quotes it. Before, the terminal printed it whole (a
    // line of 80,224 characters); now its first 200 characters and "… (40007 characters)".
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        std::fs::read_to_string(root().join("tests/fixtures/openai_usage_one_row.csv")).unwrap();
    let long_model = format!("gpt-4o-{}", "x".repeat(40_000));
    let input = dir.path().join("long_model.csv");
    std::fs::write(&input, fixture.replace("gpt-4o-2024-08-06", &long_model)).unwrap();
    let out = crate::common::bin_in(dir.path())
        .args([
            "report",
            "--quarter",
            "2026Q1",
            "--out",
            "r.xlsx",
            "--json",
            "r.json",
        ])
        .arg(&input)
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    // 7 + 193 = 200 characters shown.
    let shown = format!("gpt-4o-{}… (40007 characters)", "x".repeat(193));
    let warning = stderr
        .lines()
        .find(|l| l.contains("are not in factor set"))
        .expect("the model_unresolved warning");
    assert!(warning.contains(&format!("openai {shown} (")), "{warning}");
    for line in stdout.lines().chain(stderr.lines()) {
        assert!(
            line.chars().count() < 1_000,
            "a terminal line of {} characters: {}",
            line.chars().count(),
            line.chars().take(200).collect::<String>()
        );
    }
    // The JSON and the workbook's tables keep the name whole.
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert!(j["lines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["model"] == long_model.as_str()));
}

#[test]
fn configuration_and_skipped_inputs_validate_against_the_schema() {
    // docs/summary.schema.json describes the optional `configuration` and `skipped_inputs`;
    // a summary with a configuration that sets everything and a folder with an entry not
    // read must satisfy it.
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("llm-scope3.toml");
    std::fs::write(
        &cfg_path,
        "[entity]\nname = \"Acme\"\ncurrency = \"EUR\"\nfiscal_year_start_month = 1\nbase_year = 2024\n\
         [regions]\nopenai = \"swedencentral\"\n[[cost_centres]]\nmatch = \"*\"\ncost_centre = \"All\"\n\
         [[exclude]]\ncost_centre = \"proj_labs\"\nreason = \"test\"\n[factors]\nversion = \"2026.1\"\n",
    )
    .unwrap();
    let folder = dir.path().join("exports");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(
        root().join("samples/openai_completions_usage_2026-01-01_2026-03-31.csv"),
        folder.join("openai.csv"),
    )
    .unwrap();
    std::fs::write(folder.join("notes.pdf"), b"%PDF").unwrap();
    let cfg = llm_scope3::config::Config::new(
        &llm_scope3::config::PeriodRequest {
            quarter: Some("2026Q1".into()),
            year: None,
            from: None,
            to: None,
        },
        &llm_scope3::config::ReadRequest {
            templates: vec![],
            factors: None,
            config: Some(cfg_path),
            max_lines: None,
        },
        Some("2026-04-15"),
        None,
    )
    .unwrap();
    let (inputs, skipped) = llm_scope3::pipeline::inputs_from_paths(&[folder]).unwrap();
    let o = llm_scope3::pipeline::run(&inputs, skipped, &cfg).unwrap();
    let value: serde_json::Value = serde_json::from_str(&json::to_string(&o).unwrap()).unwrap();
    {
        let name = "summary.schema.json";
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root().join("docs").join(name)).unwrap())
                .unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        let mut broken = value.clone();
        broken["configuration"]["exclusions"][0]["rows"] = serde_json::json!("many");
        assert!(!validator.is_valid(&broken));
    }
    assert_eq!(value["skipped_inputs"][0]["reason"], "not an export: .pdf");
    // proj_labs: 56 rows in the sample, one rejected (start_time 2026-02-30).
    assert_eq!(value["configuration"]["exclusions"][0]["rows"], 55);
}

#[test]
fn each_line_names_exactly_which_source_rows_it_sums() {
    // tests/fixtures/openai_usage_interleaved_rows.csv: rows 2, 3, 5 and 7 are gpt-4o
    // (15, 16, 17 and 19 January), rows 4 and 6 gpt-4o-mini: the gpt-4o line sums rows
    // "2-3,5,7" (4 rows, first 2, last 7), the gpt-4o-mini line "4,6".
    let path = root().join("tests/fixtures/openai_usage_interleaved_rows.csv");
    let o = run(&[&path], "2026Q1").unwrap();
    let list = |model: &str| {
        let l = o
            .summary
            .calc_lines
            .iter()
            .find(|l| l.key.model == model)
            .unwrap();
        (l.source.list.cell_text(), l.source.rows, l.source.count)
    };
    assert_eq!(
        list("gpt-4o-2024-08-06"),
        ("2-3,5,7".to_string(), [2, 7], 4)
    );
    assert_eq!(
        list("gpt-4o-mini-2024-07-18"),
        ("4,6".to_string(), [4, 6], 2)
    );
    // The JSON carries the same, and says the list is complete.
    let v: serde_json::Value = serde_json::from_str(&json::to_string(&o).unwrap()).unwrap();
    let line = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["model"] == "gpt-4o-2024-08-06")
        .unwrap();
    assert_eq!(line["sources"][0]["row_list"], "2-3,5,7");
    assert_eq!(line["sources"][0]["row_list_complete"], true);
    // The Calculation Lines sheet has it in its "Source rows" column.
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let calc = wb.worksheet_range("Calculation Lines").unwrap();
    let header = (0..calc.height())
        .find(|&r| calc.get((r, 0)) == Some(&Data::String("Source file".into())))
        .unwrap();
    let col = header_col(&calc, header, "Source rows");
    let texts: Vec<String> = (header + 1..calc.height())
        .filter_map(|r| match calc.get((r, col)) {
            Some(Data::String(s)) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert!(texts.contains(&"2-3,5,7".to_string()), "{texts:?}");
    assert!(texts.contains(&"4,6".to_string()), "{texts:?}");
}

/// The sum of the cells `refs` names (`'Calculation Lines (2)'!Y2:Y4,'Calculation Lines'!Y9`)
/// in the workbook's values.
fn sum_refs<R: std::io::Read + std::io::Seek>(wb: &mut calamine::Xlsx<R>, refs: &str) -> f64 {
    let mut total = 0.0;
    for r in refs.split(',') {
        let (sheet, cells) = r.rsplit_once('!').unwrap();
        let sheet = sheet.trim_matches('\'');
        let range = wb.worksheet_range(sheet).unwrap();
        let (a, b) = cells.split_once(':').unwrap_or((cells, cells));
        let pos = |c: &str| {
            let split = c.find(|ch: char| ch.is_ascii_digit()).unwrap();
            let col = c[..split]
                .bytes()
                .fold(0u32, |n, l| n * 26 + u32::from(l - b'A' + 1))
                - 1;
            (c[split..].parse::<u32>().unwrap() - 1, col)
        };
        let ((r0, c0), (r1, _)) = (pos(a), pos(b));
        for row in r0..=r1 {
            total += crate::common::cell_f64(range.get_value((row, c0)).unwrap());
        }
    }
    total
}

#[test]
fn the_e16_figure_is_a_formula_chain_down_to_the_calculation_lines() {
    // Seven calculation lines per sheet: the lines continue on "Calculation Lines (2)" and
    // on, and an AI Services line's calculation lines are spread over them.
    let o = sample_outcome();
    let bytes = workbook::build_with(&o, &config("2026Q1").factors, 7).unwrap();
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let total_row = o.summary.lines.len() + 2;
    // G7: the AI Services total (column S, kgCO2e central) / 1000, highlighted.
    let sf = wb.worksheet_formula("E1-6 Summary").unwrap();
    assert_eq!(
        sf.get_value((6, 6)).unwrap(),
        &format!("'AI Services'!$S${total_row}/1000")
    );
    let s = wb.worksheet_range("E1-6 Summary").unwrap();
    assert_close(
        crate::common::cell_f64(s.get_value((6, 6)).unwrap()) * 1000.0,
        o.summary.totals.emissions_kgco2e.central,
        1e-12,
        "G7 cached",
    );
    // The supporting figures have their own headings; none sits under "Comparative (N-1)"
    // of the disclosure table without being an N-1 figure.
    let heading = s
        .rows()
        .position(|r| r[0] == Data::String("Figure".into()))
        .expect("the supporting figures' headings");
    let heads: Vec<String> = s
        .rows()
        .nth(heading)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        &heads[5..9],
        ["Comparative (N-1)", "N (this period)", "% change", "Unit"]
    );
    let low = s
        .rows()
        .find(|r| r[0].to_string().starts_with("Range: low"))
        .unwrap();
    assert_eq!(
        low[5],
        Data::String("—".into()),
        "no N-1 without ledger or --prior"
    );
    assert_close(
        crate::common::cell_f64(&low[6]) * 1000.0,
        o.summary.totals.emissions_kgco2e.low,
        1e-12,
        "low",
    );
    // The AI Services total sums the lines; each line sums its calculation lines, wherever
    // they are: the referenced cells add up to the line's value.
    let af = wb.worksheet_formula("AI Services").unwrap();
    assert_eq!(
        af.get_value((total_row as u32 - 1, 18)).unwrap(),
        &format!("SUM(S2:S{})", total_row - 1)
    );
    let mut sheets_named = std::collections::BTreeSet::new();
    for (j, line) in o.summary.lines.iter().enumerate() {
        let f = af
            .get_value((j as u32 + 1, 18))
            .cloned()
            .unwrap_or_default();
        let refs = f
            .strip_prefix("SUM(")
            .and_then(|f| f.strip_suffix(')'))
            .unwrap_or_else(|| panic!("line {j}: {f:?}"));
        for r in refs.split(',') {
            sheets_named.insert(r.rsplit_once('!').unwrap().0.to_string());
        }
        assert_close(
            sum_refs(&mut wb, refs),
            line.body.estimate.emissions_kgco2e.central,
            1e-9,
            &format!("line {j} from its calculation lines"),
        );
    }
    assert!(sheets_named.len() > 2, "{sheets_named:?}");
}

#[test]
fn prior_gives_the_n1_of_a_run_without_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let [a, b] = [&samples()[0], &samples()[1]];
    let bin = || crate::common::bin_in(dir.path());
    bin()
        .args(["report", "--quarter", "2026Q1", "--as-of", "2026-04-15"])
        .arg(a)
        .arg(b)
        .args(["--out", "now.xlsx", "--json", "now.json"])
        .assert()
        .success();
    // The same summary as if it were 2025Q1's, with 80 % of the emissions.
    let mut prior: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("now.json")).unwrap())
            .unwrap();
    let central = prior["totals"]["emissions_kgco2e"]["central"]
        .as_f64()
        .unwrap();
    prior["period"] =
        serde_json::json!({"start": "2025-01-01", "end": "2025-03-31", "label": "2025Q1"});
    prior["totals"]["emissions_kgco2e"]["central"] = (central * 0.8).into();
    std::fs::write(dir.path().join("2025Q1.json"), prior.to_string()).unwrap();
    bin()
        .args(["report", "--quarter", "2026Q1", "--as-of", "2026-04-15"])
        .arg(a)
        .arg(b)
        .args([
            "--out",
            "q1.xlsx",
            "--json",
            "q1.json",
            "--prior",
            "2025Q1.json",
        ])
        .assert()
        .success();
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("q1.json")).unwrap())
            .unwrap();
    let c = &j["comparative_period"];
    assert_eq!(c["source"], "prior");
    assert_eq!(c["file"], "2025Q1.json");
    assert_eq!(c["period"]["start"], "2025-01-01");
    assert_close(c["change_central"].as_f64().unwrap(), 0.25, 1e-9, "change");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&j).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    // The workbook: N-1 in F7, the change in H7 (a formula, G7/F7-1).
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(
        std::fs::read(dir.path().join("q1.xlsx")).unwrap(),
    ))
    .unwrap();
    let s = wb.worksheet_range("E1-6 Summary").unwrap();
    let v = |c: u32| crate::common::cell_f64(s.get_value((6, c)).unwrap());
    assert_close(v(5), v(6) * 0.8, 1e-9, "F7");
    assert_close(v(7), 0.25, 1e-9, "H7");
    // Refused: another period, not a summary.
    prior["period"] =
        serde_json::json!({"start": "2025-04-01", "end": "2025-06-30", "label": "2025Q2"});
    std::fs::write(dir.path().join("2025Q2.json"), prior.to_string()).unwrap();
    for (file, says) in [
        (
            "2025Q2.json",
            "the same period a year earlier, 2025-01-01 to 2025-03-31",
        ),
        (
            "now.xlsx",
            "not a JSON summary written by llm-scope3 report --json",
        ),
    ] {
        let out = bin()
            .args([
                "report",
                "--quarter",
                "2026Q1",
                "--out",
                "x.xlsx",
                "--prior",
                file,
            ])
            .arg(a)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains(says), "{err}");
    }
    assert!(!dir.path().join("x.xlsx").exists());
}

/// The Requests column of a line table read back: each line's cell, then the Total's (`None`:
/// an empty cell).
fn requests_column(
    wb: &mut calamine::Xlsx<std::io::Cursor<Vec<u8>>>,
    sheet: &str,
    lines: usize,
) -> Vec<Option<f64>> {
    let r = wb.worksheet_range(sheet).unwrap();
    let col = header_col(&r, 0, "Requests");
    (1..=lines + 1)
        .map(|row| match r.get((row, col)) {
            None | Some(Data::Empty) => None,
            Some(d) => Some(cell_f64(d)),
        })
        .collect()
}

#[test]
fn a_line_without_a_request_count_shows_no_requests_and_a_real_zero_stays() {
    use llm_scope3::report::csv::{tables, Dialect};
    // An Azure cost export has no request column: none of its lines reported requests. The
    // workbook leaves their Requests cells empty (AI Services, Calculation Lines and both
    // Totals), the JSON keeps `requests: 0` with `requests_reported: false` on each line and in
    // the totals, the CSV tables leave the cell empty and summary.csv says why.
    let azure = root().join("samples/azure_cost_export_ea_2026Q1.csv");
    let o = run(&[&azure], "2026Q1").unwrap();
    assert!(!o.summary.lines.is_empty());
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let mut wb: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let (n, m) = (o.summary.lines.len(), o.summary.calc_lines.len());
    assert_eq!(
        requests_column(&mut wb, "AI Services", n),
        vec![None; n + 1]
    );
    assert_eq!(
        requests_column(&mut wb, "Calculation Lines", m),
        vec![None; m + 1]
    );
    let j: serde_json::Value = serde_json::from_str(&json::to_string(&o).unwrap()).unwrap();
    for l in j["lines"].as_array().unwrap() {
        assert_eq!(l["requests"], 0, "{l}");
        assert_eq!(l["requests_reported"], false, "{l}");
    }
    assert_eq!(j["totals"]["requests"], 0);
    assert_eq!(j["totals"]["requests_reported"], false);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&j).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    let t = tables(&o, Dialect::Comma);
    let table = |name: &str| t.iter().find(|(n, _)| *n == name).unwrap().1.clone();
    let (head, rows) = table("ai_services.csv");
    let col = head.iter().position(|h| h == "Requests").unwrap();
    assert!(rows.iter().all(|r| r[col].is_empty()));
    let (head, rows) = table("summary.csv");
    let requests = rows.iter().find(|r| r[0] == "Requests").unwrap();
    assert_eq!(requests[1], "");
    assert_eq!(
        requests[head.iter().position(|h| h == "Note").unwrap()],
        "not reported: no export gave a request count"
    );

    // An OpenAI usage export has a request column: proj_a's gpt-4o row reports 1,000
    // requests, its gpt-4o-mini row a real 0, and proj_b's gpt-4o-mini row leaves the cell
    // empty (three lines: the key holds the cost centre). By hand: AI Services (sorted by
    // key: gpt-4o proj_a, gpt-4o-mini proj_a, gpt-4o-mini proj_b) 1,000, 0, empty; the Total
    // 1,000 + 0 = 1,000 (a line reported requests); only proj_b's line says
    // `requests_reported: false` in the JSON.
    let header = "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,api_key_id,model,batch,service_tier,input_tokens,output_tokens,input_cached_tokens";
    let day = "1768435200,1768521600,2026-01-15T00:00:00+00:00,2026-01-16T00:00:00+00:00";
    let csv = format!(
        "{header}\n\
         {day},proj_a,1000.0,,key_a,gpt-4o-2024-08-06,False,default,1000000.0,500000.0,0.0\n\
         {day},proj_a,0.0,,key_a,gpt-4o-mini,False,default,2000.0,100.0,0.0\n\
         {day},proj_b,,,key_a,gpt-4o-mini,False,default,3000.0,200.0,0.0\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("completions_usage_2026-01-15_2026-01-15.csv");
    std::fs::write(&path, csv).unwrap();
    let o = run(&[&path], "2026Q1").unwrap();
    let keys: Vec<(&str, Option<&str>)> = o
        .summary
        .lines
        .iter()
        .map(|l| (l.key.model.as_str(), l.key.cost_centre.as_deref()))
        .collect();
    assert_eq!(
        keys,
        [
            ("gpt-4o-2024-08-06", Some("proj_a")),
            ("gpt-4o-mini", Some("proj_a")),
            ("gpt-4o-mini", Some("proj_b"))
        ]
    );
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let mut wb: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(
        requests_column(&mut wb, "AI Services", 3),
        [Some(1000.0), Some(0.0), None, Some(1000.0)]
    );
    assert_eq!(
        requests_column(&mut wb, "Calculation Lines", 3),
        [Some(1000.0), Some(0.0), None, Some(1000.0)]
    );
    let j: serde_json::Value = serde_json::from_str(&json::to_string(&o).unwrap()).unwrap();
    let lines = j["lines"].as_array().unwrap();
    let reported: Vec<(u64, Option<bool>)> = lines
        .iter()
        .map(|l| {
            (
                l["requests"].as_u64().unwrap(),
                l.get("requests_reported").map(|b| b.as_bool().unwrap()),
            )
        })
        .collect();
    assert_eq!(reported, [(1000, None), (0, None), (0, Some(false))]);
    assert_eq!(j["totals"]["requests"], 1000);
    assert!(j["totals"].get("requests_reported").is_none());
    let errors: Vec<String> = validator.iter_errors(&j).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");

    // Through a ledger the same: whether a row reported requests is stored with its record.
    // A record stored before schema version 5 (NULL there) counts as reported when its count
    // is above 0: the real 0 of proj_a's gpt-4o-mini then shows empty too.
    use chrono::TimeZone;
    use llm_scope3::pipeline;
    let db = dir.path().join("l.db");
    let mut l = llm_scope3::ledger::Ledger::open(&db).unwrap();
    let cfg = config("2026Q1");
    let (inputs, _) = pipeline::inputs_from_paths(std::slice::from_ref(&path)).unwrap();
    pipeline::import_file(
        &mut l,
        &inputs[0],
        &cfg.templates,
        None,
        chrono::Utc.with_ymd_and_hms(2026, 4, 15, 0, 0, 0).unwrap(),
        llm_scope3::ingest::Progress::Hidden,
    )
    .unwrap();
    let from_ledger = |l: &llm_scope3::ledger::Ledger| {
        let o = pipeline::run_ledger(l, &cfg).unwrap();
        let bytes = workbook::build(&o, &cfg.factors).unwrap();
        let mut wb: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        requests_column(&mut wb, "AI Services", 3)
    };
    assert_eq!(
        from_ledger(&l),
        [Some(1000.0), Some(0.0), None, Some(1000.0)]
    );
    drop(l);
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute("UPDATE records SET requests_reported = NULL", [])
        .unwrap();
    drop(c);
    let l = llm_scope3::ledger::Ledger::open(&db).unwrap();
    assert_eq!(from_ledger(&l), [Some(1000.0), None, None, Some(1000.0)]);
}
