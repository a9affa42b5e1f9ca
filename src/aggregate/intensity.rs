//! What the management metrics divide (tokens, requests, spend per currency) and the emissions
//! each divides, summed from the AI Services lines: a ratio covers only the lines that carry
//! its denominator, so that emissions of lines without tokens (spend-based, requests-only) or
//! without spend never inflate it. Sums only; nothing is estimated here.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Summary;

/// The denominators of a period and the central kgCO2e of the lines behind each.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Basis {
    /// Total emissions of the period, kgCO2e (central).
    pub total_kgco2e: f64,
    /// Exported tokens (input, cached included, + output) of the lines that have any.
    pub tokens: u64,
    /// Central kgCO2e of those lines.
    pub tokens_kgco2e: f64,
    /// Requests of the lines that count them.
    pub requests: u64,
    /// Central kgCO2e of those lines.
    pub requests_kgco2e: f64,
    /// Per currency: the spend of the lines whose spend is all in it, and their kgCO2e.
    pub spend: BTreeMap<String, SpendBasis>,
}

/// Spend in one currency and the emissions of the lines it was spent on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SpendBasis {
    /// Spend.
    pub amount: f64,
    /// Central kgCO2e of the lines.
    pub kgco2e: f64,
}

impl Basis {
    /// Sums the lines of `s`.
    pub fn of(s: &Summary) -> Basis {
        let mut b = Basis {
            total_kgco2e: s.totals.emissions_kgco2e.central,
            ..Basis::default()
        };
        for l in &s.lines {
            let kg = l.body.estimate.emissions_kgco2e.central;
            let a = &l.body.activity;
            let tokens = a.input_tokens.saturating_add(a.output_tokens);
            if tokens > 0 {
                b.tokens = b.tokens.saturating_add(tokens);
                b.tokens_kgco2e += kg;
            }
            if a.requests > 0 {
                b.requests = b.requests.saturating_add(a.requests);
                b.requests_kgco2e += kg;
            }
            // A line with spend in two currencies cannot be split between them: left out.
            if let [(cur, amount)] = l.body.spend.iter().collect::<Vec<_>>()[..] {
                let e = b.spend.entry(cur.clone()).or_default();
                e.amount += amount;
                e.kgco2e += kg;
            }
        }
        b
    }

    /// kgCO2e per million tokens, when the lines hold tokens.
    pub fn per_million_tokens(&self) -> Option<f64> {
        (self.tokens > 0).then(|| self.tokens_kgco2e / (self.tokens as f64 / 1e6))
    }

    /// kgCO2e per 1,000 requests, when the lines count requests.
    pub fn per_thousand_requests(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.requests_kgco2e / (self.requests as f64 / 1e3))
    }
}
