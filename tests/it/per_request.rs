//! Per request (#22 item 1): Wh and gCO2e of one request by provider, model and month, the
//! average request, what is left out, and the published per-query figures beside them, on the
//! Per Request sheet and in the JSON summary.
//!
//! The one-row OpenAI fixture (estimate_cases.rs, default factor set 2026.2): 1,000 requests,
//! 1,000,000 input tokens (200,000 cached) and 500,000 output tokens of gpt-4o on 2026-01-15;
//! facility energy 0.0908733653522 / 0.317851200617 / 2.04347923022 kWh and emissions
//! 0.0198435157145 / 0.13565027273 / 1.16508968311 kgCO2e (low / central / high). So:
//!   Wh per request    = kWh × 1000 / 1,000 requests = 0.0908733653522 / 0.317851200617 /
//!                       2.04347923022 Wh
//!   gCO2e per request = kg × 1000 / 1,000 = 0.0198435157145 / 0.13565027273 / 1.16508968311 g
//!   Wh per 1,000 output tokens (central) = 317.851200617 Wh / 500 = 0.635702401234 Wh
//! The Anthropic one-row fixture counts no requests: its line is left out, with its emissions.

use calamine::{open_workbook_auto_from_rs, Data, Reader};

use llm_scope3::report::{json, workbook};

use crate::common::{assert_close, config, fixture, root, run};

const REL: f64 = 1e-9;

#[test]
fn one_request_of_the_one_row_fixture_by_hand_and_the_line_without_requests_left_out() {
    let o = run(
        &[
            &fixture("openai_usage_one_row.csv"),
            &fixture("anthropic_usage_one_row.csv"),
        ],
        "2026Q1",
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&json::to_string(&o).unwrap()).unwrap();
    let pr = &v["per_request"];
    let groups = pr["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    let g = &groups[0];
    assert_eq!(g["provider"], "openai");
    assert_eq!(g["model"], "gpt-4o-2024-08-06");
    assert_eq!(g["model_key"], "gpt-4o");
    assert_eq!(g["month"], "2026-01");
    assert_eq!(g["requests"], 1000);
    assert_eq!(g["output_tokens"], 500_000);
    let n = |x: &serde_json::Value| x.as_f64().unwrap();
    assert_close(
        n(&g["wh_per_request"]["low"]),
        0.0908733653522,
        REL,
        "Wh low",
    );
    assert_close(
        n(&g["wh_per_request"]["central"]),
        0.317851200617,
        REL,
        "Wh",
    );
    assert_close(
        n(&g["wh_per_request"]["high"]),
        2.04347923022,
        REL,
        "Wh high",
    );
    assert_close(
        n(&g["gco2e_per_request"]["low"]),
        0.0198435157145,
        REL,
        "g low",
    );
    assert_close(
        n(&g["gco2e_per_request"]["central"]),
        0.13565027273,
        REL,
        "g",
    );
    assert_close(
        n(&g["gco2e_per_request"]["high"]),
        1.16508968311,
        REL,
        "g high",
    );
    assert_close(
        n(&g["wh_per_thousand_output_tokens"]["central"]),
        0.635702401234,
        REL,
        "Wh per 1,000 output tokens",
    );
    // One group: the average is the group.
    assert_eq!(pr["all"]["provider"], "all");
    assert_close(
        n(&pr["all"]["wh_per_request"]["central"]),
        0.317851200617,
        REL,
        "all",
    );
    // The Anthropic line is left out with its emissions: the total less the OpenAI line's.
    assert_eq!(pr["lines_left_out"], 1);
    let total = o.summary.totals.emissions_kgco2e.central;
    assert!(total > 0.2, "{total}");
    assert_close(
        n(&pr["kgco2e_left_out"]),
        total - 0.13565027273,
        1e-9,
        "left out",
    );
    // The comparators, with their year and boundary; Google's 0.24 Wh among them.
    let published = pr["published"].as_array().unwrap();
    let google = published
        .iter()
        .find(|p| p["id"] == "google_gemini_2025")
        .unwrap();
    assert_eq!(google["year"], 2025);
    assert_eq!(google["wh"], serde_json::json!([0.24, 0.24]));
    assert!(google["boundary"].as_str().unwrap().contains("PUE"));
    assert!(published.iter().any(|p| p["year"] == 2023));

    // The sheet: the same figures, the average request first in the comparison and the chart.
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let names = wb.sheet_names();
    let at = names.iter().position(|s| s == "Per Request").unwrap();
    assert_eq!(names[at - 1], "Data Quality");
    let s = wb.worksheet_range("Per Request").unwrap();
    let row = s
        .rows()
        .find(|r| r.first() == Some(&Data::String("openai".into())))
        .unwrap();
    let num = |d: &Data| crate::common::cell_f64(d);
    assert_eq!(num(&row[4]), 1000.0);
    assert_close(num(&row[7]), 0.317851200617, REL, "sheet Wh");
    assert_close(num(&row[10]), 0.13565027273, REL, "sheet g");
    assert_close(num(&row[12]), 0.635702401234, REL, "sheet Wh per 1,000 out");
    let text: Vec<String> = s.rows().flatten().map(|c| c.to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with("Left out: 1 AI Services line(s)")),
        "{text:?}"
    );
    let mine = s
        .rows()
        .find(|r| {
            r[0].to_string()
                .starts_with("This report, 2026Q1: average request")
        })
        .unwrap();
    assert_close(num(&mine[6]), 0.317851200617, REL, "drawn at central");
    let google = s
        .rows()
        .find(|r| r[0].to_string().starts_with("Google 2025"))
        .unwrap();
    assert_eq!(num(&google[6]), 0.24);
    let ludvigsen = s
        .rows()
        .find(|r| r[0].to_string().starts_with("Ludvigsen 2023"))
        .unwrap();
    // A range is drawn at its middle: (1.7 + 2.6) / 2 = 2.15 Wh.
    assert_close(num(&ludvigsen[6]), 2.15, 1e-12, "middle of the range");

    // AI Services carries the central figures per request on the line itself; the Anthropic
    // line (no requests) leaves them empty.
    let ai = wb.worksheet_range("AI Services").unwrap();
    let heads: Vec<String> = ai
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let wh = heads
        .iter()
        .position(|h| h == "Wh per request (central)")
        .unwrap();
    let g = heads
        .iter()
        .position(|h| h == "gCO2e per request (central)")
        .unwrap();
    let line = |provider: &str| ai.rows().find(|r| r[0] == *provider).unwrap().to_vec();
    let openai = line("openai");
    assert_close(num(&openai[wh]), 0.317851200617, REL, "AI Services Wh");
    assert_close(num(&openai[g]), 0.13565027273, REL, "AI Services g");
    assert_eq!(line("anthropic")[wh], Data::Empty);

    // The JSON validates against the schema in docs/.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
}

#[test]
fn a_cost_export_without_requests_has_no_average_and_says_why() {
    let o = run(
        &[&root().join("samples/openai_cost_2026-01-01_2026-03-31.csv")],
        "2026Q1",
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&json::to_string(&o).unwrap()).unwrap();
    let pr = &v["per_request"];
    assert!(pr["groups"].as_array().unwrap().is_empty());
    assert!(pr.get("all").is_none());
    assert_eq!(pr["lines_left_out"], o.summary.lines.len());
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let s = wb.worksheet_range("Per Request").unwrap();
    let text: Vec<String> = s.rows().flatten().map(|c| c.to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with("No line of this report counts requests")),
        "{text:?}"
    );
}
