//! The amortised training share (#22 item 2): factor set 2026.3's training.csv, the share of
//! each AI Services line by its model family (or class), the Training sheet, the JSON
//! `training` block, and `[boundary] include_training = true` adding the central share to the
//! reported figure, labelled.
//!
//! Fixtures: `training/openai_usage_open_models.csv` (OpenAI usage format, 2026-01-15):
//! llama-3.1-405b 1,500,000,000 input + 500,000,000 output tokens; mistral-large-2 and
//! llama-3.4-70b 600,000 + 400,000 each; gpt-4o-2024-08-06 1,000,000 + 500,000 (the one-row
//! fixture's row); and `anthropic_usage_one_row.csv`: claude-sonnet-4-5 1,000,000 input
//! (200,000 cache reads, 200,000 cache writes included) + 500,000 output.
//!
//! Factor set 2026.3, training.csv (tCO2e low / central / high; lifetime tokens low / central /
//! high):
//!   llama-3.1-405b (Meta's Llama 3.1 card, location-based; market-based 0):
//!     8,930 / 8,930 / 8,930;  1e12 / 3.162e13 / 1e15
//!   class:medium (15B < total params <= 150B: mistral-large-2 123B, and llama-3.4-70b, not
//!     in the set, estimated as its sibling llama-3.3-70b, 70B, whose own row it does not take):
//!     291.42 / 1,354 / 2,040;  1e12 / 3.162e13 / 1e15
//!   class:frontier-closed (key prefixes gpt-4..., claude...):
//!     1,035 / 8,014.5 / 14,994;  1.5552e14 / 2.444e15 / 3.84e16
//! Share = training × n / lifetime, low = T_low × n / N_high, high = T_high × n / N_low:
//!   llama-3.1-405b, n = 2,000,000,000:
//!     low     = 8,930 × 2e9 / 1e15     = 0.01786 t
//!     central = 8,930 × 2e9 / 3.162e13 = 1.786e13 / 3.162e13 = 0.564832384567 t
//!     high    = 8,930 × 2e9 / 1e12     = 17.86 t
//!     market  = 0 × 2e9 / 3.162e13     = 0
//!   class:medium, n = 1,000,000 + 1,000,000 = 2,000,000:
//!     low     = 291.42 × 2e6 / 1e15    = 5.8284e-7 t
//!     central = 1,354 × 2e6 / 3.162e13 = 2.708e9 / 3.162e13 = 8.56419987350e-5 t
//!     high    = 2,040 × 2e6 / 1e12     = 0.00408 t
//!   class:frontier-closed, n = 1,500,000 + 1,500,000 = 3,000,000:
//!     low     = 1,035 × 3e6 / 3.84e16     = 3.105e9 / 3.84e16   = 8.0859375e-8 t
//!     central = 8,014.5 × 3e6 / 2.444e15  = 2.40435e10 / 2.444e15 = 9.83776595745e-6 t
//!     high    = 14,994 × 3e6 / 1.5552e14  = 4.4982e10 / 1.5552e14 = 2.89236111111e-4 t
//!   total central = 0.564832384567 + 0.0000856419987350 + 0.00000983776595745
//!                 = 0.564927864331 t
//!   total low  = 0.01786 + 0.00000058284 + 0.000000080859375 = 0.0178606636994 t
//!   total high = 17.86 + 0.00408 + 0.000289236111111 = 17.8643692361 t

use calamine::{open_workbook_auto_from_rs, Data, Reader};

use llm_scope3::config::{Config, PeriodRequest, ReadRequest};
use llm_scope3::pipeline;
use llm_scope3::report::{json, workbook};

use crate::common::{assert_close, cell_f64, fixture, root, run, run_factors, workbook_tco2e};

const REL: f64 = 1e-9;

fn inputs() -> [std::path::PathBuf; 2] {
    [
        fixture("training/openai_usage_open_models.csv"),
        fixture("anthropic_usage_one_row.csv"),
    ]
}

fn n(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn family<'v>(t: &'v serde_json::Value, name: &str) -> &'v serde_json::Value {
    t["families"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["family"] == name)
        .unwrap_or_else(|| panic!("no family {name}: {t}"))
}

fn validate(v: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
}

#[test]
fn the_training_share_by_family_worked_by_hand_and_shown_apart() {
    let [a, b] = inputs();
    let o = run(&[&a, &b], "2026Q1").unwrap();
    assert_eq!(o.factor_version, "2026.3");
    let v: serde_json::Value = serde_json::from_str(&json::to_string(&o).unwrap()).unwrap();
    validate(&v);
    let t = &v["training"];
    assert_eq!(t["available"], true);
    assert_eq!(t["included"], false);
    assert_eq!(t["families"].as_array().unwrap().len(), 3, "{t}");
    assert!(t["left_out"].as_array().unwrap().is_empty(), "{t}");

    // llama-3.1-405b: Meta's published figure, 2e9 tokens.
    let l = family(t, "llama-3.1-405b");
    assert_eq!(l["tokens"], 2_000_000_000u64);
    assert_eq!(l["models"], serde_json::json!(["llama-3.1-405b"]));
    assert_eq!(l["flag"], "published");
    assert_eq!(l["basis"], "location");
    assert_close(n(&l["share_tco2e"]["low"]), 0.01786, REL, "405b low");
    assert_close(
        n(&l["share_tco2e"]["central"]),
        0.564832384567,
        REL,
        "405b central",
    );
    assert_close(n(&l["share_tco2e"]["high"]), 17.86, REL, "405b high");
    assert_eq!(n(&l["market_tco2e"]), 0.0);
    assert_eq!(n(&l["market_share_tco2e"]), 0.0);
    assert!(l["sources"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("meta-llama3.1-card-2024")));

    // class:medium: mistral-large-2 (in the set, no row of its own) and llama-3.4-70b (a
    // sibling of llama-3.3-70b, which has a row it must not take).
    let m = family(t, "class:medium");
    assert_eq!(m["tokens"], 2_000_000u64);
    assert_eq!(
        m["models"],
        serde_json::json!(["llama-3.4-70b", "mistral-large-2"])
    );
    assert_eq!(m["flag"], "class-assumption");
    assert_close(n(&m["share_tco2e"]["low"]), 5.8284e-7, REL, "medium low");
    assert_close(
        n(&m["share_tco2e"]["central"]),
        8.5641998735e-5,
        REL,
        "medium central",
    );
    assert_close(n(&m["share_tco2e"]["high"]), 0.00408, REL, "medium high");
    assert!(m["flags"][0]
        .as_str()
        .unwrap()
        .starts_with("class assumption"));

    // class:frontier-closed: gpt-4o and claude-sonnet-4-5 by their key prefixes.
    let c = family(t, "class:frontier-closed");
    assert_eq!(c["tokens"], 3_000_000u64);
    assert_close(
        n(&c["share_tco2e"]["low"]),
        8.0859375e-8,
        REL,
        "frontier low",
    );
    assert_close(
        n(&c["share_tco2e"]["central"]),
        9.83776595745e-6,
        REL,
        "frontier central",
    );
    assert_close(
        n(&c["share_tco2e"]["high"]),
        2.89236111111e-4,
        REL,
        "frontier high",
    );

    assert_eq!(t["tokens"], 2_005_000_000u64);
    assert_close(
        n(&t["total_tco2e"]["central"]),
        0.564927864331,
        REL,
        "total central",
    );
    assert_close(n(&t["total_tco2e"]["low"]), 0.0178606636994, REL, "low");
    assert_close(n(&t["total_tco2e"]["high"]), 17.8643692361, REL, "high");

    // Shown apart: the totals carry no reported figure of their own, the E1-6 figure is the
    // inference total.
    assert!(v["totals"].get("reported_central_kgco2e").is_none());
    let e = o.summary.totals.emissions_kgco2e.central;
    let bytes = workbook::build(&o, &crate::common::config("2026Q1").factors).unwrap();
    assert_close(workbook_tco2e(&bytes), e / 1000.0, 1e-12, "E1-6 figure");

    // The sheet: after Levers; one row per family with the share as live formulas
    // (training × tokens / lifetime tokens) and the sum below; the boundary said.
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
    let names = wb.sheet_names();
    let at = names.iter().position(|s| s == "Training").unwrap();
    assert_eq!(names[at - 1], "Levers");
    let s = wb.worksheet_range("Training").unwrap();
    let title = s.get_value((0, 0)).unwrap().to_string();
    assert!(
        title.contains("shown apart: not in the E1-6 figure"),
        "{title}"
    );
    let row = s
        .rows()
        .position(|r| r[0] == Data::String("llama-3.1-405b".into()))
        .unwrap();
    assert_eq!(cell_f64(&s[(row, 3)]), 2e9);
    assert_close(
        cell_f64(&s[(row, 12)]),
        0.564832384567,
        REL,
        "sheet central",
    );
    assert_eq!(s[(row, 7)].to_string(), "location; market-based 0");
    let formulas = wb.worksheet_formula("Training").unwrap();
    let f = formulas.get_value((row as u32, 12)).unwrap();
    assert_eq!(f, &format!("F{0}*D{0}/J{0}", row + 1));
    let total_row = s
        .rows()
        .position(|r| r[0] == Data::String("All".into()))
        .unwrap();
    assert_eq!(total_row, row + 1, "llama-3.1-405b is the last family");
    assert_close(cell_f64(&s[(total_row, 12)]), 0.564927864331, REL, "sum");
    let text: Vec<String> = s.rows().map(|r| r[0].to_string()).collect();
    assert!(text
        .iter()
        .any(|t| t.starts_with("Boundary. Training a model is upstream")));
    assert!(text
        .iter()
        .any(|t| t.starts_with("Every AI Services line has a share")));

    // Cover and E1-6 note say it is apart.
    let cover = wb.worksheet_range("Cover").unwrap();
    let line = cover
        .rows()
        .find(|r| r[0] == Data::String("Training share".into()))
        .unwrap()[1]
        .to_string();
    assert!(
        line.starts_with("0.564928 tCO2e central (low 0.017861, high 17.864369)"),
        "{line}"
    );
    assert!(line.contains("shown apart, not in the result"), "{line}");
}

#[test]
fn include_training_adds_the_central_share_to_the_reported_figure_labelled() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("llm-scope3.toml");
    std::fs::write(&toml, "[boundary]\ninclude_training = true\n").unwrap();
    let cfg = Config::new(
        &PeriodRequest::quarter("2026Q1"),
        &ReadRequest {
            config: Some(toml),
            ..ReadRequest::default()
        },
        Some("2026-04-15"),
        Some("Test Entity"),
    )
    .unwrap();
    assert!(cfg.include_training);
    let [a, b] = inputs();
    let (inputs, skipped) = pipeline::inputs_from_paths(&[a, b]).unwrap();
    let o = pipeline::run(&inputs, skipped, &cfg).unwrap();
    let e = o.summary.totals.emissions_kgco2e.central;
    // The inference figures are unchanged by the switch; the reported figure adds
    // 0.564927864331 t = 564.927864331 kg.
    let plain = {
        let [a, b] = self::inputs();
        run(&[&a, &b], "2026Q1").unwrap()
    };
    assert_eq!(e, plain.summary.totals.emissions_kgco2e.central);
    let v: serde_json::Value = serde_json::from_str(&json::to_string(&o).unwrap()).unwrap();
    validate(&v);
    assert_eq!(v["training"]["included"], true);
    assert_eq!(v["configuration"]["include_training"], true);
    let totals = &v["totals"];
    assert_close(
        n(&totals["training_share_kgco2e"]),
        564.927864331,
        REL,
        "share kg",
    );
    assert_close(
        n(&totals["reported_central_kgco2e"]),
        e + 564.927864331,
        REL,
        "reported",
    );
    assert_close(
        n(&totals["emissions_kgco2e"]["central"]),
        e,
        REL,
        "inference",
    );
    assert!(totals["note"]
        .as_str()
        .unwrap()
        .contains("[boundary] include_training = true"));

    // summary.csv: the share, labelled as included, and the reported figure with it.
    let tables = llm_scope3::report::csv::tables(&o, llm_scope3::report::csv::Dialect::Comma);
    let (_, (_, rows)) = tables.iter().find(|(n, _)| *n == "summary.csv").unwrap();
    let row = |label: &str| {
        rows.iter()
            .find(|r| r[0].starts_with(label))
            .unwrap()
            .clone()
    };
    let share = row("Amortised training share of the models used");
    assert_close(share[1].parse().unwrap(), 0.564927864331, REL, "csv share");
    assert!(
        share[5].starts_with("INCLUDED in the reported figure"),
        "{share:?}"
    );
    let reported = row("Reported figure, incl. the amortised training share");
    assert_close(
        reported[1].parse().unwrap(),
        e / 1000.0 + 0.564927864331,
        REL,
        "csv reported",
    );

    // The E1-6 figure: the AI Services total plus the Training sheet's central total, as a
    // live formula; labelled in its line and its note.
    let bytes = workbook::build(&o, &cfg.factors).unwrap();
    assert_close(
        workbook_tco2e(&bytes),
        e / 1000.0 + 0.564927864331,
        REL,
        "E1-6 figure with the share",
    );
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
    let f = wb.worksheet_formula("E1-6 Summary").unwrap();
    let g7 = f.get_value((6, 6)).unwrap();
    assert!(g7.ends_with("/1000+'Training'!$M$7"), "{g7}");
    let s = wb.worksheet_range("E1-6 Summary").unwrap();
    assert!(s[(6, 0)]
        .to_string()
        .contains("incl. the amortised training share"));
    let note = s[(7, 0)].to_string();
    assert!(
        note.contains("INCLUDES the amortised training share"),
        "{note}"
    );
    let tr = wb.worksheet_range("Training").unwrap();
    assert_close(cell_f64(&tr[(6, 12)]), 0.564927864331, REL, "M7");
    assert!(tr[(0, 0)]
        .to_string()
        .contains("INCLUDED in the E1-6 figure"));
    let cover = wb.worksheet_range("Cover").unwrap();
    let result = cover
        .rows()
        .find(|r| r[0] == Data::String("Result (central)".into()))
        .unwrap()[1]
        .to_string();
    assert!(
        result.contains("INCLUDING the amortised training share 0.564928 tCO2e central"),
        "{result}"
    );
    let changes = cover
        .rows()
        .find(|r| r[0] == Data::String("Configuration changes".into()))
        .unwrap()[1]
        .to_string();
    assert!(
        changes.contains(
            "boundary: include_training = true: the amortised training share, 0.565 tCO2e"
        ),
        "{changes}"
    );
}

#[test]
fn factor_set_2026_3_is_2026_2_with_training_csv_added_and_no_figure_changed() {
    use llm_scope3::factors::FactorSet;
    let old = FactorSet::load(Some("2026.2")).unwrap();
    let new = FactorSet::load(Some("2026.3")).unwrap();
    // Every file of 2026.2 but README.md and sources.csv is byte for byte in 2026.3; sources.csv
    // only gains rows; training.csv is new.
    for (name, text) in &old.files {
        let (_, now) = new.files.iter().find(|(n, _)| n == name).unwrap();
        match name.as_str() {
            "README.md" => {}
            "sources.csv" => {
                for line in text.lines() {
                    assert!(now.lines().any(|l| l == line), "{line}");
                }
            }
            _ => assert_eq!(text, now, "{name}"),
        }
    }
    let added: Vec<&str> = new
        .files
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| !old.files.iter().any(|(o, _)| o == n))
        .collect();
    assert_eq!(added, ["training.csv"]);
    assert!(old.training.is_empty());
    assert_eq!(new.training.len(), 26);
    // So every figure of a report is the same with both sets, and 2026.2 has no share.
    let [a, b] = inputs();
    let with_old = run_factors(&[&a, &b], "2026Q1", "2026.2").unwrap();
    let with_new = run_factors(&[&a, &b], "2026Q1", "2026.3").unwrap();
    assert_eq!(with_old.summary, with_new.summary);
    assert!(!with_old.training.available);
    assert!(with_old.training.families.is_empty());
    let bytes = workbook::build(&with_old, &old).unwrap();
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let text: Vec<String> = wb
        .worksheet_range("Training")
        .unwrap()
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with("Factor set 2026.2 has no training emissions")),
        "{text:?}"
    );
}
