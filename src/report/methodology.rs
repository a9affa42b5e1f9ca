//! The Methodology sheet's text blocks (REPORT.md sheet 11), generated from the factor set and
//! the run, never hand-typed per run: boundary, formulas, assumptions with their values,
//! tools, limitations, planned improvements.

use crate::factors::FactorSet;
use crate::pipeline::Outcome;

/// (heading, paragraphs) in sheet order.
pub fn blocks(o: &Outcome, set: &FactorSet) -> Vec<(String, Vec<String>)> {
    let c = |id: &str| {
        set.constant(id)
            .map(|c| format!("{} / {} / {} {}", c.low, c.central, c.high, c.unit))
            .unwrap_or_else(|| "(not in the factor set)".into())
    };
    let formats: Vec<String> = {
        let mut f: Vec<String> = o.files.iter().map(|f| f.format.clone()).collect();
        f.sort();
        f.dedup();
        f
    };
    let providers: Vec<String> = set
        .providers
        .values()
        .map(|p| {
            format!(
                "{} ({}): PUE {} / {} / {}, on-site WUE {} / {} / {} L per kWh IT, default geography {}",
                p.provider, p.operator, p.pue_low, p.pue_central, p.pue_high, p.wue_low,
                p.wue_central, p.wue_high, p.default_geo
            )
        })
        .collect();
    vec![
        (
            "Boundary".into(),
            vec![
                format!(
                    "Purchased AI / LLM API services (GHG Protocol Scope 3 Category 1, shown as part of the ESRS E1 AR 51 subset 'cloud computing and data centre services') for {} ({} to {}).",
                    o.period.label, o.period.start, o.period.end
                ),
                format!(
                    "Activity data: the vendor usage exports listed on the Imports sheet ({} file(s); formats: {}). Rows outside the period are counted, not used; rejected rows are listed on the Rejected Rows sheet and are not in the totals.",
                    o.files.len(),
                    formats.join(", ")
                ),
                match (o.training.available, o.training.included) {
                    (true, true) => "Included: inference of the purchased API calls (input, cached and output tokens), data-centre overhead (PUE), location-based grid electricity, an embodied-hardware adder, and water; and, because the configuration sets [boundary] include_training = true, the central amortised training share of the models used (Training sheet), added to the reported figure. Excluded: networking, end-user devices; images, audio and video units until factors exist.",
                    (true, false) => "Included: inference of the purchased API calls (input, cached and output tokens), data-centre overhead (PUE), location-based grid electricity, an embodied-hardware adder, and water. Excluded: model training (its amortised share is shown apart on the Training sheet; [boundary] include_training = true adds it), networking, end-user devices; images, audio and video units until factors exist.",
                    _ => "Included: inference of the purchased API calls (input, cached and output tokens), data-centre overhead (PUE), location-based grid electricity, an embodied-hardware adder, and water. Excluded: model training, networking, end-user devices; images, audio and video units until factors exist.",
                }
                .into(),
                "Figures are gross: vendor 'carbon neutral' claims, renewable certificates and offsets are never netted (ESRS E1 AR 46(k)).".into(),
                if o.excluded.is_empty() {
                    "Exclusions: none.".to_string()
                } else {
                    let mut reasons: Vec<String> = o
                        .excluded
                        .iter()
                        .map(|e| format!("{} ({} / {} / {})", e.reason, e.provider, e.model, e.cost_centre.as_deref().unwrap_or("-")))
                        .collect();
                    reasons.dedup();
                    format!(
                        "Exclusions by the configuration ({} row(s), listed on the Imports sheet): {}.",
                        o.excluded.iter().map(|e| e.rows).sum::<u64>(),
                        reasons.join("; ")
                    )
                },
            ],
        ),
        (
            "Formulas (per calculation line)".into(),
            vec![
                "E_IT [kWh] = (T_out·e_out + (T_in − T_cache)·e_in + T_cache·k_cache·e_in) / 1e6, with e_out, e_in in Wh per 1,000 tokens (IT level).".into(),
                "E_fac [kWh] = E_IT · PUE (the reported energy).".into(),
                "CO2_op [kg] = E_fac · EF_grid / 1000;  CO2_emb [kg] = E_IT · EF_emb / 1000;  CO2 = CO2_op + CO2_emb.".into(),
                "Water [L] = E_IT · WUE_site + E_fac · EWIF_grid; the low value counts on-site water only.".into(),
                "Low = every factor at its low value, central = every factor central, high = every factor high: a bounding envelope, not a statistical interval. Sums add lows, centrals and highs separately.".into(),
                format!(
                    "Energy per token from model size (METHODOLOGY §2): e_out low = FLOP model at the lowest active parameters and utilisation u_out(low); central = FLOP model at the geometric mean of the active-parameter range and u_out(central); high = max(EcoLogits 0.11 at the highest active parameters{}, FLOP model at u_out(high)). e_in likewise with u_in. FLOP model: Wh per 1k tokens = 1000 · 2·P·1e9 / (989e12 · u) · 1275 W · 0.7 / 3600 (Epoch AI 2025).",
                    if set.latency.is_empty() {
                        ""
                    } else {
                        " and, as EcoLogits 0.11.3 itself, the model's own output speed for the server share where it has one (latency.csv, OpenRouter measurements), else its latency regression"
                    }
                ),
            ],
        ),
        (
            "Significant assumptions and their values (low / central / high)".into(),
            vec![
                format!("Cached-input discount k_cache: {}.", c("k_cache")),
                format!(
                    "Embodied hardware adder EF_emb: {} (EcoLogits server and GPU footprints over a 3-year life{}).",
                    c("embodied"),
                    if set.sources.contains_key("ademe-gpu-lca-2026") {
                        "; the high covers ADEME's 2026 GPU study, 273 kgCO2e per H100 with air freight"
                    } else {
                        ""
                    }
                ),
                format!("GPU utilisation, decoding u_out: {}; prefill u_in: {}.", c("u_out"), c("u_in")),
                format!(
                    "Rows with requests but no tokens: {} input and {} output tokens per request{}; low × and high × {} (method average-data; imputed tokens are kept apart from the token totals).",
                    c("request_input_tokens"),
                    c("request_output_tokens"),
                    match set.constant("request_output_tokens_reasoning") {
                        Some(_) => format!(
                            " ({} for a reasoning model: o-series, GPT-5, DeepSeek-R1, gpt-oss, QwQ, Magistral)",
                            c("request_output_tokens_reasoning")
                        ),
                        None => String::new(),
                    },
                    c("request_bounds")
                ),
                if set.resolution_rules >= 2 {
                    "Unknown models: vendor spellings are normalised, then the nearest sibling of the same family and size is used ('estimated as its nearest sibling'), else a size class (nano, mini, flagship, frontier, embedding) matched on whole name parts ('model estimated by class'); both method average-data, lower data quality. Image, audio and video models are never estimated from tokens: their spend is (EEIO), or they are listed with a warning.".into()
                } else {
                    "Unknown models are estimated by size class (nano, mini, flagship, frontier, embedding) from their name, marked 'model estimated by class', method average-data, lower data quality.".into()
                },
                "Grid factor: exact cloud region → the country → the provider's default geography (only when the record has no region) → continent → World; the year used is the nearest not after the usage year. Each fallback lowers the geography data-quality score.".into(),
                format!("Providers: {}.", providers.join("; ")),
                if set.sources.contains_key("egrid-2023rev2") {
                    "GWP: eGRID2023rev2 CO2e rates and USEEIO v1.3 factors as their publishers convert other gases (USEEIO v1.3: IPCC AR5 GWP-100; eGRID2023's set is EPA's, not restated here); Ember lifecycle factors as published.".into()
                } else {
                    "GWP: IPCC AR6 GWP-100 where the grid source converts other gases (eGRID); Ember lifecycle factors as published.".into()
                },
            ],
        ),
        (
            "Tools".into(),
            vec![
                format!("llm-scope3 {} (this workbook's generator).", crate::VERSION),
                match &set.overridden.is_empty() {
                    true => "No factor overrides.".to_string(),
                    false => format!(
                        "Factor overrides from the configuration replace or add {} row(s): {} (marked on the Factors sheet).",
                        set.overridden.len(),
                        set.overridden.join(", ")
                    ),
                },
                format!(
                    "Factor set {} ({}), SHA-256 {}: {} models, {} aliases, {} grid rows, {} sources (Factors and Sources sheets).",
                    set.version, set.origin, set.sha256, set.models.len(), set.aliases.len(),
                    set.grid.values().map(Vec::len).sum::<usize>(), set.sources.len()
                ),
            ]
            .into_iter()
            .chain(changes_from_previous(set))
            .collect(),
        ),
        (
            "Limitations".into(),
            vec![
                "Parameter counts of proprietary models are published estimates (EcoLogits), not vendor disclosures; the spread between low and high is wide by design.".into(),
                "Vendor usage exports do not say where inference ran unless the region is billed (Azure, Bedrock, Vertex); OpenAI and Anthropic usage is located at the provider's default geography and scored accordingly.".into(),
                "Per-token factors assume well-utilised fleets of H100-class hardware; idle capacity and newer accelerators are not modelled separately.".into(),
                "Location-based electricity only; a market-based or CFE-adjusted figure is not the reported figure.".into(),
            ],
        ),
        (
            "Planned improvements".into(),
            vec![
                "Supplier-specific figures from vendor carbon reports where the vendor publishes them (raises the share of primary data, ESRS E1 AR 46(g)).".into(),
                "Yearly recalibration of per-token energy against published measurements (ML.ENERGY, AI Energy Score, vendor disclosures) in a new factor-set version.".into(),
            ],
        ),
    ]
}

/// What the factor set changed from the version before it, as its README's "Changes from"
/// section lists it (file by file): a line saying which version, then one per file. Empty for
/// a set whose README has no such section (2026.1, a user's folder without one).
fn changes_from_previous(set: &FactorSet) -> Vec<String> {
    let Some((_, readme)) = set.files.iter().find(|(name, _)| name == "README.md") else {
        return vec![];
    };
    let mut lines = readme
        .lines()
        .skip_while(|l| !l.starts_with("## Changes from "));
    let Some(heading) = lines.next() else {
        return vec![];
    };
    let previous = heading.trim_start_matches("## Changes from ").trim();
    let mut out = vec![format!(
        "Changes from factor set {previous} (the set's README; llm-scope3 factors diff {previous} {} lists every row):",
        set.version
    )];
    for l in lines.take_while(|l| !l.starts_with("## ")) {
        if let Some(item) = l.strip_prefix("- ") {
            out.push(item.replace('`', ""));
        }
    }
    out
}
