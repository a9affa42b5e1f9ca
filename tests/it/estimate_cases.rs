//! One row of each format, estimated end to end and checked against arithmetic done by hand.
//!
//! Shared constants (factor set 2026.1, which these cases name; one case is worked again with
//! the default set 2026.2 below; METHODOLOGY.md §1-3):
//!   FLOP model: Wh per 1k tokens = K · P / u with
//!     K = 1000 · 2e9 / 989e12 · 1275 · 0.7 / 3600 = 5.013481631e-4
//!   k_cache 0.05 / 0.10 / 0.25; embodied 25 / 50 / 100 gCO2e per kWh IT
//!   grid country:USA 2024 (Ember, lifecycle): 183.7 / 383.5 / 501.4 gCO2e/kWh
//!   off-site water USA 3.132 L/kWh, bounds ×0.8 / ×1.2 = 2.5056 / 3.132 / 3.7584
//!
//! GPT-4o and Claude Sonnet 4.5 share the EcoLogits estimate P_act 44–132 B, P_tot 440 B:
//!   P_mid = sqrt(44 · 132) = 76.21024
//!   e_out low  = K · 44 / 0.20      = 0.1102966
//!   e_out cen  = K · 76.21024 / 0.10 = 0.3820786
//!   e_out high = max(EcoLogits(132, 440), K · 132 / 0.05 = 1.32356)
//!     EcoLogits: G = 2^ceil(log2(ceil(1.2·440·2/80 = 13.2))) = 16 GPUs
//!     gpu  = 1.16653e-6 · exp(−0.0112059 · 64) · 132 + 4.05293e-5 = 1.156947e-4 Wh/token
//!     lat  = 6.78509e-4 · 132 + 3.11931e-4 · 64 + 1.94737e-2 = 0.1290054 s
//!     srv  = 0.1290054 / 3600 · 1200 · (16/8) / 64 = 1.343806e-3 Wh/token
//!     eco  = 1000 · (16 · 1.156947e-4 + 1.343806e-3) = 3.194825 Wh per 1k  → e_out high
//!   e_in low = K · 44 / 0.6 = 0.0367655; central K · 76.21024 / 0.4 = 0.0955197;
//!   high K · 132 / 0.2 = 0.3308898

use crate::common::{assert_close, fixture, run, run_factors};

/// Tolerance for values computed by hand to 12 significant digits.
const REL: f64 = 1e-9;

#[test]
fn openai_usage_row_kwh_and_kgco2e_by_hand() {
    // Row: gpt-4o-2024-08-06, input 1,000,000 (200,000 cached), output 500,000, no region.
    // OpenAI: Azure PUE 1.12 / 1.18 / 1.25, WUE 0.27 / 0.30 / 0.49, default geography USA.
    // E_IT = (500,000·e_out + 800,000·e_in + 200,000·k·e_in) / 1e6
    //   low  = (55,148.30 + 29,412.43 + 367.66) / 1e6      = 0.0849283788338 kWh
    //   cen  = (191,039.31 + 76,415.72 + 1,910.39) / 1e6   = 0.269365424252 kWh
    //   high = (1,597,412.75 + 264,711.83 + 16,544.49) / 1e6 = 1.87866906527 kWh
    // E_fac = E_IT · PUE = 0.0951197842939 / 0.317851200617 / 2.34833633159 kWh
    // CO2 = E_fac · grid / 1000 + E_IT · embodied / 1000
    //   low  = 0.0951198 · 0.1837 + 0.0849284 · 0.025 = 0.0195967138456 kg
    //   cen  = 0.3178512 · 0.3835 + 0.2693654 · 0.050 = 0.135364206649 kg
    //   high = 2.3483363 · 0.5014 + 1.8786691 · 0.100 = 1.36532274319 kg
    // Water low = E_IT · WUE_low = 0.0849284 · 0.27 = 0.0229306622851 L
    //   cen = 0.2693654 · 0.30 + 0.3178512 · 3.132 = 1.07631958761 L
    let o = run_factors(&[&fixture("openai_usage_one_row.csv")], "2026Q1", "2026.1").unwrap();
    assert_eq!(o.files[0].format, "openai-usage");
    let t = &o.summary.totals;
    assert_eq!(t.activity.input_tokens, 1_000_000);
    assert_eq!(t.activity.cached_input_tokens, 200_000);
    assert_eq!(t.activity.output_tokens, 500_000);
    assert_close(t.energy_kwh.low, 0.0951197842939, REL, "kWh low");
    assert_close(t.energy_kwh.central, 0.317851200617, REL, "kWh central");
    assert_close(t.energy_kwh.high, 2.34833633159, REL, "kWh high");
    assert_close(t.emissions_kgco2e.low, 0.0195967138456, REL, "kg low");
    assert_close(
        t.emissions_kgco2e.central,
        0.135364206649,
        REL,
        "kg central",
    );
    assert_close(t.emissions_kgco2e.high, 1.36532274319, REL, "kg high");
    assert_close(t.water_l.low, 0.0229306622851, REL, "water low");
    assert_close(t.water_l.central, 1.07631958761, REL, "water central");
    let line = &o.summary.lines[0];
    assert_eq!(line.body.model_key, "gpt-4o");
    assert_eq!(line.key.cost_centre.as_deref(), Some("proj_a"));
    assert_eq!(line.body.grid_geo, "country:USA");
}

#[test]
fn openai_usage_row_with_the_default_set_2026_2_by_hand() {
    // The row above with the default factor set 2026.2, usage year 2026:
    // - e_out high: EcoLogits at gpt-4o's own 74 output tokens/s (latency.csv), not its
    //   regression: srv = (1/74) / 3600 · 1200 · (16/8) / 64 = 1.407658e-4 Wh/token,
    //   eco = 1000 · (16 · 1.156919e-4 + 1.407658e-4) = 1.991836 Wh per 1k (> K·132/0.05 =
    //   1.32356); low and central e_out and all e_in as in 2026.1.
    //   E_IT low / cen as above = 0.0849283788338 / 0.269365424252 kWh
    //   E_IT high = (500,000 · 1.991836 + 800,000 · 0.3308898 + 200,000 · 0.25 · 0.3308898)
    //             / 1e6 = (995,918.20 + 264,711.83 + 16,544.49) / 1e6 = 1.27717451889 kWh
    // - OpenAI on Azure, OCI, CoreWeave and Google: PUE 1.07 / 1.18 / 1.60, WUE 0 / 0.27 / 3.0
    //   E_fac = 0.0908733653522 / 0.317851200617 / 2.04347923022 kWh
    // - grid country:USA 2025 (Ember 2025, nearest year not after 2026): 195.0 / 384.4 / 501.4;
    //   embodied 25 / 50 / 110 gCO2e per kWh IT
    //   CO2 low  = 0.0908734 · 0.1950 + 0.0849284 · 0.025 = 0.0198435157145 kg
    //       cen  = 0.3178512 · 0.3844 + 0.2693654 · 0.050 = 0.13565027273 kg
    //       high = 2.0434792 · 0.5014 + 1.2771745 · 0.110 = 1.16508968311 kg
    // - water low = E_IT · WUE_low = 0 L (zero-water designs); central = 0.2693654 · 0.27 +
    //   0.3178512 · 3.132 = 1.06823862488 L
    // The default set is 2026.3: 2026.2's figures, every one unchanged, with training.csv added.
    let o = run(&[&fixture("openai_usage_one_row.csv")], "2026Q1").unwrap();
    assert_eq!(o.factor_version, "2026.3");
    let t = &o.summary.totals;
    assert_close(t.energy_kwh.low, 0.0908733653522, REL, "kWh low");
    assert_close(t.energy_kwh.central, 0.317851200617, REL, "kWh central");
    assert_close(t.energy_kwh.high, 2.04347923022, REL, "kWh high");
    assert_close(t.emissions_kgco2e.low, 0.0198435157145, REL, "kg low");
    assert_close(t.emissions_kgco2e.central, 0.13565027273, REL, "kg central");
    assert_close(t.emissions_kgco2e.high, 1.16508968311, REL, "kg high");
    assert_eq!(t.water_l.low, 0.0);
    assert_close(t.water_l.central, 1.06823862488, REL, "water central");
    let line = &o.summary.lines[0];
    assert_eq!(
        (line.body.grid_geo.as_str(), line.body.grid_year),
        ("country:USA", 2025)
    );
}

#[test]
fn anthropic_usage_row_kwh_and_kgco2e_by_hand() {
    // Row: claude-sonnet-4-5-20250929 → claude-sonnet-4-5 (alias), inference_geo `us` → USA.
    // Input = 600,000 no-cache + 100,000 write-5m + 100,000 write-1h + 200,000 read
    //       = 1,000,000 of which 200,000 cached; output 500,000: E_IT as in the OpenAI case
    //       = 0.0849283788338 / 0.269365424252 / 1.87866906527 kWh.
    // Anthropic: PUE 1.04 / 1.12 / 1.46 (AWS + Google envelope), WUE 0.12 / 0.575 / 1.2.
    // E_fac = 0.0883255139872 / 0.301689275162 / 2.7428568353 kWh
    // CO2 low  = 0.0883255 · 0.1837 + 0.0849284 · 0.025 = 0.0183486063903 kg
    //     cen  = 0.3016893 · 0.3835 + 0.2693654 · 0.050 = 0.129166108237 kg
    //     high = 2.7428568 · 0.5014 + 1.8786691 · 0.100 = 1.56313532375 kg
    let o = run_factors(
        &[&fixture("anthropic_usage_one_row.csv")],
        "2026Q1",
        "2026.1",
    )
    .unwrap();
    assert_eq!(o.files[0].format, "anthropic-usage");
    let t = &o.summary.totals;
    assert_eq!(t.activity.input_tokens, 1_000_000);
    assert_eq!(t.activity.cached_input_tokens, 200_000);
    assert_eq!(t.activity.output_tokens, 500_000);
    assert_close(t.energy_kwh.low, 0.0883255139872, REL, "kWh low");
    assert_close(t.energy_kwh.central, 0.301689275162, REL, "kWh central");
    assert_close(t.energy_kwh.high, 2.7428568353, REL, "kWh high");
    assert_close(t.emissions_kgco2e.low, 0.0183486063903, REL, "kg low");
    assert_close(
        t.emissions_kgco2e.central,
        0.129166108237,
        REL,
        "kg central",
    );
    assert_close(t.emissions_kgco2e.high, 1.56313532375, REL, "kg high");
    let line = &o.summary.lines[0];
    assert_eq!(line.body.model_key, "claude-sonnet-4-5");
    assert_eq!(line.key.region.as_deref(), Some("country:USA"));
    assert_eq!(line.key.cost_centre.as_deref(), Some("Default"));
    // The region came from the record (country), not the provider default: geography 2.
    assert_eq!(line.body.dq.geography, 2);
}

#[test]
fn openai_usage_api_row_kwh_and_kgco2e_by_hand() {
    // Row: gpt-4o-mini (dense, P 8–28 B), input 2,000,000 (none cached), output 1,000,000.
    //   P_mid = sqrt(8 · 28) = 14.96663; EcoLogits G = 2^ceil(log2(ceil(0.84))) = 1 GPU,
    //   eco(28, 28) = 0.0945168 < K · 28 / 0.05 = 0.2807550 → e_out high = 0.2807550
    //   e_out = K·8/0.2 = 0.0200539 / K·14.96663/0.1 = 0.0750349 / 0.2807550
    //   e_in  = K·8/0.6 = 0.00668464 / K·14.96663/0.4 = 0.0187587 / K·28/0.2 = 0.0701887
    // E_IT = (1,000,000·e_out + 2,000,000·e_in) / 1e6
    //      = 0.0334232108752 / 0.112552383475 / 0.421132457027 kWh
    // E_fac (Azure PUE 1.12 / 1.18 / 1.25) = 0.0374339961802 / 0.1328118125 / 0.526415571284
    // CO2 low  = 0.0374340 · 0.1837 + 0.0334232 · 0.025 = 0.00771220537018 kg
    //     cen  = 0.1328118 · 0.3835 + 0.1125524 · 0.050 = 0.0565609492676 kg
    //     high = 0.5264156 · 0.5014 + 0.4211325 · 0.100 = 0.306058013145 kg
    let o = run_factors(
        &[&fixture("openai_usage_api_one_row.csv")],
        "2026Q1",
        "2026.1",
    )
    .unwrap();
    assert_eq!(o.files[0].format, "openai-usage-api");
    let t = &o.summary.totals;
    assert_eq!(t.activity.requests, 800);
    assert_close(t.energy_kwh.low, 0.0374339961802, REL, "kWh low");
    assert_close(t.energy_kwh.central, 0.1328118125, REL, "kWh central");
    assert_close(t.energy_kwh.high, 0.526415571284, REL, "kWh high");
    assert_close(t.emissions_kgco2e.low, 0.00771220537018, REL, "kg low");
    assert_close(
        t.emissions_kgco2e.central,
        0.0565609492676,
        REL,
        "kg central",
    );
    assert_close(t.emissions_kgco2e.high, 0.306058013145, REL, "kg high");
}

#[test]
fn unknown_model_falls_back_by_class_and_says_so() {
    // mystery-model-9000 matches no model, alias or class keyword: default class flagship
    // (MoE 440 B, 44–132 B active), method average-data, technology score 3.
    let o = run_factors(&[&fixture("openai_bad_rows.csv")], "2026Q1", "2026.1").unwrap();
    let line = o
        .summary
        .lines
        .iter()
        .find(|l| l.key.model == "mystery-model-9000")
        .expect("the unknown model's line");
    assert_eq!(line.body.model_key, "class:flagship");
    assert_eq!(line.body.method.label(), "average-data");
    assert!(line
        .body
        .flags
        .iter()
        .any(|f| f.contains("model estimated by class")));
    assert_eq!(line.body.dq.technology, 3);
    // Same parameters as GPT-4o, so 1,000 input + 500 output tokens give the GPT-4o energy:
    // E_IT central = (500 · 0.38207862 + 1000 · 0.09551965) / 1e6 = 2.86558962e-4 kWh,
    // E_fac = × 1.18 = 3.38139575e-4 kWh.
    assert_close(
        line.body.estimate.energy_kwh.central,
        3.38139575e-4,
        1e-8,
        "kWh",
    );
}
