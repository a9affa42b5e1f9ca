//! The spend method (METHODOLOGY §4): price inversion where the model's list price is known,
//! EEIO otherwise; billed items without tokens never report zero; cost-export rows covered by
//! a usage export are listed for reconciliation, not estimated twice.

use llm_scope3::estimate::{estimate, Activity, LineFactors};

use crate::common::{assert_close, config, root, run, run_factors};

#[test]
fn provisioned_throughput_gets_the_eeio_estimate() {
    // Azure MCA sample, January 2026: 1,800 USD of provisioned throughput (PTU hours).
    // Default set 2026.2: USEEIO v1.3, 0.093 kgCO2e per 2022 USD; spend of 2026 deflated with
    // the nearest CPI-U year (2025): 1,800 × 292.655 / 321.943 × 0.093 = 152.171182476 kgCO2e.
    // 2026.1: USEEIO v1.2, 0.148 per 2021 USD: 1,800 × 270.970 / 321.943 × 0.148 =
    // 224.221082614 kgCO2e. Low ×0.5, high ×2.
    let sample = root().join("samples/azure_cost_export_mca_2026Q1.csv");
    let o = run(&[&sample], "2026Q1").unwrap();
    let first = run_factors(&[&sample], "2026Q1", "2026.1").unwrap();
    for (o, kg) in [(&o, 152.171182476), (&first, 224.221082614)] {
        let line = o
            .summary
            .lines
            .iter()
            .find(|l| l.key.month == "2026-01" && l.key.spend.as_deref() == Some("EEIO"))
            .expect("the January PTU line");
        assert_eq!(line.body.method.label(), "spend-based");
        assert!(!line.body.energy_estimated);
        let e = line.body.estimate.emissions_kgco2e;
        assert_close(e.central, kg, 1e-9, "EEIO central");
        assert_close(e.low, kg * 0.5, 1e-9, "EEIO low");
        assert_close(e.high, kg * 2.0, 1e-9, "EEIO high");
    }
    // The factor names its price year.
    assert_eq!(o.summary.factors["const:eeio_518210"].year, Some(2022));
    assert_eq!(first.summary.factors["const:eeio_518210"].year, Some(2021));
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
    // 2026.1: the cost rows of months the usage export covers are reconciliation only.
    let both = run_factors(&[&usage, &cost], "2026Q1", "2026.1").unwrap();
    let alone = run_factors(&[&usage], "2026Q1", "2026.1").unwrap();
    assert_eq!(
        both.summary.totals.emissions_kgco2e,
        alone.summary.totals.emissions_kgco2e
    );
    assert!(both.summary.lines.iter().all(|l| l.key.spend.is_none()));
    assert!(!both.summary.not_estimated.is_empty());
    assert!(both.summary.not_estimated.iter().all(|n| n.key.spend_only));
    assert!(both.summary.totals.spend["USD"] > 0.0);
    // 2026.2 (default): the same, except the cost rows of image, audio and video models (here
    // gpt-image-1), whose usage lines are not estimated from tokens: their spend is estimated
    // (EEIO) instead, and is all that the cost export adds.
    let both = run(&[&usage, &cost], "2026Q1").unwrap();
    let alone = run(&[&usage], "2026Q1").unwrap();
    let spend: Vec<_> = both
        .summary
        .lines
        .iter()
        .filter(|l| l.key.spend.is_some())
        .collect();
    assert!(!spend.is_empty());
    for l in &spend {
        assert_eq!(l.key.spend.as_deref(), Some("EEIO"), "{:?}", l.key);
        assert!(
            ["class:image", "class:audio", "class:video"].contains(&l.body.model_key.as_str()),
            "{:?}",
            l.body.model_key
        );
    }
    let added: f64 = spend
        .iter()
        .map(|l| l.body.estimate.emissions_kgco2e.central)
        .sum();
    assert_close(
        both.summary.totals.emissions_kgco2e.central,
        alone.summary.totals.emissions_kgco2e.central + added,
        1e-12,
        "central",
    );
}

#[test]
fn the_cfe_adjusted_view_is_a_labelled_sensitivity() {
    // GCP europe-west4 publishes a carbon-free-energy share (grid.csv, cfe_share): the
    // sensitivity scales operational emissions by (1 − CFE) and keeps the embodied share;
    // lines without a published share keep their location-based figure.
    let o = run(
        &[&root().join("samples/gcp_billing_bigquery_2026Q1.csv")],
        "2026Q1",
    )
    .unwrap();
    let set = config("2026Q1").factors;
    let cfe = set
        .grid_row("gcp:europe-west4", 2026)
        .unwrap()
        .cfe_share
        .unwrap();
    assert!(cfe > 0.0 && cfe < 1.0);
    let line = o
        .summary
        .lines
        .iter()
        .find(|l| l.body.grid_geo == "gcp:europe-west4" && l.key.spend.is_none())
        .unwrap();
    let e = &line.body.estimate;
    let expected = e.operational_kgco2e.central * (1.0 - cfe) + e.embodied_kgco2e.central;
    assert_close(
        e.cfe_adjusted_kgco2e.central,
        expected,
        1e-12,
        "CFE-adjusted",
    );
    assert!(e.cfe_adjusted_kgco2e.central < e.emissions_kgco2e.central);
    let openai = run(
        &[&root().join("samples/openai_completions_usage_2026-01-01_2026-03-31.csv")],
        "2026Q1",
    )
    .unwrap();
    let t = &openai.summary.totals;
    assert_close(
        t.cfe_adjusted_kgco2e.central,
        t.emissions_kgco2e.central,
        1e-12,
        "no CFE share",
    );
}

#[test]
fn the_coverage_matrix_flags_a_missing_month() {
    // January and March only: February is a gap on the Coverage sheet.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        root().join("samples/openai_completions_usage_2026-01-01_2026-03-31.csv"),
    )
    .unwrap();
    let (feb, mar) = (1_769_904_000i64, 1_772_323_200i64);
    let kept: String = text
        .lines()
        .enumerate()
        .filter(|(i, l)| {
            *i == 0
                || l.split(',')
                    .next()
                    .and_then(|t| t.parse::<i64>().ok())
                    .is_some_and(|t| t < feb || t >= mar)
        })
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let path = dir.path().join("jan_mar.csv");
    std::fs::write(&path, kept).unwrap();
    let o = run(&[&path], "2026Q1").unwrap();
    let jan = o
        .summary
        .coverage
        .iter()
        .find(|c| c.1 == "2026-01")
        .unwrap();
    // The sample's January has usage on every day but four Sundays written as empty buckets.
    assert_eq!(jan.2, 31 - 4);
    assert!(o.summary.coverage.iter().all(|c| c.1 != "2026-02"));
    let bytes = llm_scope3::report::workbook::build(&o, &set_of()).unwrap();
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let coverage = wb.worksheet_range("Coverage").unwrap();
    let text: Vec<String> = coverage
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    // openai: 27 days in January, none in February, the March days, then the gap named.
    let at = text.iter().position(|t| t == "openai").unwrap();
    assert_eq!(text[at + 1], "27");
    assert_eq!(text[at + 2], "no data");
    assert_eq!(text[at + 4], "2026-02");
    assert!(
        text.iter()
            .any(|t| t.contains("openai has usage in other months of 2026Q1 but none in 2026-02")),
        "{text:?}"
    );
}

fn set_of() -> llm_scope3::factors::FactorSet {
    config("2026Q1").factors
}

#[test]
fn spend_billed_at_another_price_tier_is_inverted_at_that_tier_s_prices() {
    // OpenAI cost export, 10 January 2026 (tests/fixtures/spend/openai_cost_price_tiers.csv):
    // 11 USD each of `gpt-5-mini, input_tokens`, `priority | gpt-5-mini, ...` and
    // `flex | gpt-5-mini, ...`, and 1.05 USD of `evals | gpt-4o-mini-2024-07-18, input`.
    // gpt-5-mini lists at 0.25 / 2 USD per 1M input / output tokens, 3 input per output:
    //   standard  T_out = 11 / (3 × 0.25 + 2) × 1e6            = 4,000,000; T_in 12,000,000
    //   priority  T_out = 11 / (2.0 × (3 × 0.25 + 2)) × 1e6    = 2,000,000; T_in  6,000,000
    //   flex      T_out = 11 / (0.5 × (3 × 0.25 + 2)) × 1e6    = 8,000,000; T_in 24,000,000
    // The surface `evals` is no tier: gpt-4o-mini (0.15 / 0.60): 1.05 / 1.05 × 1e6 = 1,000,000
    // output and 3,000,000 input tokens.
    // Emissions are linear in the tokens: priority = standard × 0.5 (central); its low takes
    // the multiple 2.5 (× 2.0 / 2.5 = 0.8 on the spend bound 0.5) and its high 1.67 (× 2.0 /
    // 1.67 on the bound 2): low = standard low × 0.5 × 0.8, high = standard high × 0.5 × 2 /
    // 1.67. Flex = standard × 2 throughout.
    let openai = root().join("tests/fixtures/spend/openai_cost_price_tiers.csv");
    let o = run(&[&openai], "2026Q1").unwrap();
    let line = |o: &llm_scope3::pipeline::Outcome, model: &str, spend: &str| {
        o.summary
            .lines
            .iter()
            .find(|l| l.key.model == model && l.key.spend.as_deref() == Some(spend))
            .unwrap_or_else(|| panic!("{model} / {spend}"))
            .body
            .clone()
    };
    let tokens = |b: &llm_scope3::aggregate::LineBody| {
        (
            b.estimate.imputed_input_tokens,
            b.estimate.imputed_output_tokens,
        )
    };
    let standard = line(&o, "gpt-5-mini", "price inversion");
    let priority = line(&o, "gpt-5-mini", "price inversion at priority prices");
    let flex = line(&o, "gpt-5-mini", "price inversion at flex prices");
    assert_eq!(tokens(&standard), (12_000_000, 4_000_000));
    assert_eq!(tokens(&priority), (6_000_000, 2_000_000));
    assert_eq!(tokens(&flex), (24_000_000, 8_000_000));
    let (s, p, f) = (
        standard.estimate.emissions_kgco2e,
        priority.estimate.emissions_kgco2e,
        flex.estimate.emissions_kgco2e,
    );
    assert_close(p.central, s.central * 0.5, 1e-12, "priority central");
    assert_close(p.low, s.low * 0.5 * 0.8, 1e-12, "priority low");
    assert_close(p.high, s.high * 0.5 * 2.0 / 1.67, 1e-12, "priority high");
    assert_close(f.central, s.central * 2.0, 1e-12, "flex central");
    assert_close(f.low, s.low * 2.0, 1e-12, "flex low");
    assert_close(f.high, s.high * 2.0, 1e-12, "flex high");
    assert!(
        priority
            .flags
            .iter()
            .any(|x| x
                == "billed at priority prices: 2 × the list price (low result 2.5, high 1.67)"),
        "{:?}",
        priority.flags
    );
    let evals = line(&o, "gpt-4o-mini-2024-07-18", "price inversion");
    assert_eq!(evals.model_key, "gpt-4o-mini");
    assert_eq!(tokens(&evals), (3_000_000, 1_000_000));

    // Anthropic cost export (anthropic_cost_price_tiers.csv), Claude Opus 4.6 at 5 / 25 USD:
    //   standard (usage_type message) 10 USD: T_out = 10 / (3 × 5 + 25) × 1e6 = 250,000
    //   batch (usage_type batch) 12.50 USD:   T_out = 12.5 / (0.5 × 40) × 1e6 = 625,000
    //   fast (speed fast) 12 USD:             T_out = 12 / (3.46 × 40) × 1e6 = 86,705.2
    //                                          → 86,705; T_in = 260,115.6 → 260,116
    let anthropic = root().join("tests/fixtures/spend/anthropic_cost_price_tiers.csv");
    let a = run(&[&anthropic], "2026Q1").unwrap();
    let model = "claude-opus-4.6";
    assert_eq!(
        tokens(&line(&a, model, "price inversion")),
        (750_000, 250_000)
    );
    assert_eq!(
        tokens(&line(&a, model, "price inversion at batch prices")),
        (1_875_000, 625_000)
    );
    let fast = line(&a, model, "price inversion at fast prices");
    assert_eq!(tokens(&fast), (260_116, 86_705));
    assert_eq!(fast.model_key, "claude-opus-4-6");

    // Factor set 2026.1 prices no tier: every line is inverted at the list price, and says so.
    let first = run_factors(&[&openai], "2026Q1", "2026.1").unwrap();
    let priority = line(&first, "gpt-5-mini", "price inversion at priority prices");
    assert_eq!(tokens(&priority), (12_000_000, 4_000_000));
    assert!(
        priority.flags.iter().any(|x| x
            == "billed at priority prices, which factor set 2026.1 does not price: inverted at the standard list price"),
        "{:?}",
        priority.flags
    );
}
