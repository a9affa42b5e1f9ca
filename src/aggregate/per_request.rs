//! Energy and emissions of one request (#22): by provider, model (as exported) and month,
//! summed from the AI Services lines that count requests and whose energy is estimated, then
//! divided by their requests. Lines without requests (most cost exports), spend-based lines
//! (no energy) and image, audio or video items are left out, and what they emit is said, so
//! that a reader never takes the average for the whole figure. Sums and quotients only: the
//! figures are the lines' own.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Summary;
use crate::model::Bounds;

/// The requests of one provider, model and month (or of all of them) and what they used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestFigures {
    /// Provider key (`all` for the total).
    pub provider: String,
    /// Model as exported (`all` for the total).
    pub model: String,
    /// The factor set's model (`class:mini`; empty for the total).
    pub model_key: String,
    /// `YYYY-MM` (the period's months for the total: `all`).
    pub month: String,
    /// Requests.
    pub requests: u64,
    /// Output tokens (imputed ones of requests-only rows included: they are what was
    /// estimated).
    pub output_tokens: u64,
    /// Facility energy of these requests, kWh.
    pub energy_kwh: Bounds,
    /// Their emissions (embodied included), kgCO2e.
    pub emissions_kgco2e: Bounds,
}

impl RequestFigures {
    /// Wh per request (low, central, high).
    pub fn wh_per_request(&self) -> Bounds {
        let n = self.requests as f64;
        self.energy_kwh.map(|kwh| kwh * 1000.0 / n)
    }

    /// gCO2e per request.
    pub fn g_per_request(&self) -> Bounds {
        let n = self.requests as f64;
        self.emissions_kgco2e.map(|kg| kg * 1000.0 / n)
    }

    /// Wh per 1,000 output tokens: all the energy of the requests (their input included) over
    /// their output, when they have output tokens.
    pub fn wh_per_thousand_output_tokens(&self) -> Option<Bounds> {
        let k = self.output_tokens as f64 / 1000.0;
        (self.output_tokens > 0).then(|| self.energy_kwh.map(|kwh| kwh * 1000.0 / k))
    }

    fn add(&mut self, requests: u64, output: u64, energy: Bounds, emissions: Bounds) {
        self.requests = self.requests.saturating_add(requests);
        self.output_tokens = self.output_tokens.saturating_add(output);
        self.energy_kwh = self.energy_kwh.zip(energy, |a, b| a + b);
        self.emissions_kgco2e = self.emissions_kgco2e.zip(emissions, |a, b| a + b);
    }
}

/// The per-request figures of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PerRequest {
    /// By provider, model and month, in that order.
    pub groups: Vec<RequestFigures>,
    /// All of them together: the company's average request (`None` when no line counts
    /// requests).
    pub all: Option<RequestFigures>,
    /// AI Services lines left out (no requests counted, or no energy estimated).
    pub lines_left_out: usize,
    /// Their emissions, kgCO2e central.
    pub kgco2e_left_out: f64,
}

/// Sums the lines of `s` that count requests and whose energy is estimated.
pub fn per_request(s: &Summary) -> PerRequest {
    let mut groups: BTreeMap<(String, String, String), RequestFigures> = BTreeMap::new();
    let mut all: Option<RequestFigures> = None;
    let mut out = PerRequest::default();
    for l in &s.lines {
        let b = &l.body;
        let a = &b.activity;
        if a.requests == 0 || !b.energy_estimated {
            out.lines_left_out += 1;
            out.kgco2e_left_out += b.estimate.emissions_kgco2e.central;
            continue;
        }
        let output = a
            .output_tokens
            .saturating_add(b.estimate.imputed_output_tokens);
        let (energy, emissions) = (b.estimate.energy_kwh, b.estimate.emissions_kgco2e);
        let zero = |provider: &str, model: &str, model_key: &str, month: &str| RequestFigures {
            provider: provider.to_string(),
            model: model.to_string(),
            model_key: model_key.to_string(),
            month: month.to_string(),
            requests: 0,
            output_tokens: 0,
            energy_kwh: Bounds::flat(0.0),
            emissions_kgco2e: Bounds::flat(0.0),
        };
        groups
            .entry((
                l.key.provider.to_string(),
                l.key.model.clone(),
                l.key.month.clone(),
            ))
            .or_insert_with(|| zero(&l.key.provider, &l.key.model, &b.model_key, &l.key.month))
            .add(a.requests, output, energy, emissions);
        all.get_or_insert_with(|| zero("all", "all", "", "all"))
            .add(a.requests, output, energy, emissions);
    }
    out.groups = groups.into_values().collect();
    out.all = all;
    out
}
