//! The spend method (METHODOLOGY §4): price inversion where the model's list price is known,
//! EEIO otherwise; billed items without tokens never report zero; cost-export rows covered by
//! a usage export are listed for reconciliation, not estimated twice.

use llm_scope3::estimate::{estimate, Activity, LineFactors};

use crate::common::{assert_close, config, root, run};

#[test]
fn provisioned_throughput_gets_the_eeio_estimate() {
    // Azure MCA sample, January 2026: 1,800 USD of provisioned throughput (PTU hours).
    // EEIO: 0.148 kgCO2e per 2021 USD; spend of 2026 deflated with the nearest CPI-U year
    // (2025): 1,800 × 270.970 / 321.943 × 0.148 = 224.221082614 kgCO2e (low ×0.5, high ×2).
    let o = run(
        &[&root().join("samples/azure_cost_export_mca_2026Q1.csv")],
        "2026Q1",
    )
    .unwrap();
    let line = o
        .summary
        .lines
        .iter()
        .find(|l| l.key.month == "2026-01" && l.key.spend.as_deref() == Some("EEIO"))
        .expect("the January PTU line");
    assert_eq!(line.body.method.label(), "spend-based");
    assert!(!line.body.energy_estimated);
    let e = line.body.estimate.emissions_kgco2e;
    assert_close(e.central, 224.221082614, 1e-9, "EEIO central");
    assert_close(e.low, 224.221082614 * 0.5, 1e-9, "EEIO low");
    assert_close(e.high, 224.221082614 * 2.0, 1e-9, "EEIO high");
    // The JSON line has no energy or water.
    let v: serde_json::Value =
        serde_json::from_str(&llm_scope3::report::json::to_string(&o).unwrap()).unwrap();
    let j = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["spend_method"] == "EEIO")
        .unwrap();
    assert!(j["energy_kwh"].is_null() && j["water_l"].is_null());
    assert_eq!(j["method"], "spend-based");
}

#[test]
fn cost_exports_alone_use_price_inversion() {
    // OpenAI cost export without a usage export: gpt-5-nano, January 2026, 26.47338385 USD at
    // 0.05 / 0.40 USD per 1M input / output tokens, 3 input tokens per output token:
    // T_out = 26.47338385 / (3 × 0.05 + 0.40) × 1e6 = 48,133,425.18 → 48,133,425;
    // T_in = 3 × 48,133,425.18 = 144,400,275.5 → 144,400,276 (imputed, not in token totals).
    let o = run(
        &[&root().join("samples/openai_cost_2026-01-01_2026-03-31.csv")],
        "2026Q1",
    )
    .unwrap();
    let line = o
        .summary
        .lines
        .iter()
        .find(|l| l.key.model == "gpt-5-nano" && l.key.month == "2026-01")
        .expect("gpt-5-nano January");
    assert_eq!(line.key.spend.as_deref(), Some("price inversion"));
    assert_eq!(line.body.method.label(), "average-data");
    assert_eq!(line.body.estimate.imputed_input_tokens, 144_400_276);
    assert_eq!(line.body.estimate.imputed_output_tokens, 48_133_425);
    assert_eq!(o.summary.totals.activity.input_tokens, 0);
    // The same tokens as measured activity give the central; low ×0.5 and high ×2.
    let set = config("2026Q1").factors;
    let f = LineFactors::resolve(&set, "openai", "gpt-5-nano", None, None, 2026);
    let plain = estimate(
        &Activity {
            input_tokens: 144_400_276,
            output_tokens: 48_133_425,
            ..Activity::default()
        },
        &f,
    );
    let e = line.body.estimate.emissions_kgco2e;
    assert_close(e.central, plain.emissions_kgco2e.central, 1e-12, "central");
    assert_close(e.low, plain.emissions_kgco2e.low * 0.5, 1e-12, "low");
    assert_close(e.high, plain.emissions_kgco2e.high * 2.0, 1e-12, "high");
    // A model without a list price (gpt-image-1) falls back to EEIO: never zero.
    let image = o
        .summary
        .lines
        .iter()
        .find(|l| l.key.model == "gpt-image-1")
        .unwrap();
    assert_eq!(image.key.spend.as_deref(), Some("EEIO"));
    assert!(image.body.estimate.emissions_kgco2e.central > 0.0);
}

#[test]
fn cost_rows_covered_by_a_usage_export_are_not_counted_twice() {
    let usage = root().join("samples/openai_completions_usage_2026-01-01_2026-03-31.csv");
    let cost = root().join("samples/openai_cost_2026-01-01_2026-03-31.csv");
    let both = run(&[&usage, &cost], "2026Q1").unwrap();
    let alone = run(&[&usage], "2026Q1").unwrap();
    assert_eq!(
        both.summary.totals.emissions_kgco2e,
        alone.summary.totals.emissions_kgco2e
    );
    assert!(both.summary.lines.iter().all(|l| l.key.spend.is_none()));
    assert!(!both.summary.not_estimated.is_empty());
    assert!(both.summary.not_estimated.iter().all(|n| n.key.spend_only));
    assert!(both.summary.totals.spend["USD"] > 0.0);
}
