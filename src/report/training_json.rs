//! The JSON summary's `training` block (#22 item 2): the Training sheet's figures, tidied as
//! the other figures are, and what the totals say when the configuration includes the share.

use serde::Serialize;

use super::json::tidy;
use crate::aggregate::training::{LeftOut, BASIS};
use crate::model::Bounds;
use crate::pipeline::Outcome;

#[derive(Debug, Serialize)]
pub(super) struct TrainingJson<'a> {
    basis: &'static str,
    available: bool,
    included: bool,
    families: Vec<FamilyJson<'a>>,
    total_tco2e: Bounds,
    tokens: u64,
    left_out: &'a [LeftOut],
}

#[derive(Debug, Serialize)]
struct FamilyJson<'a> {
    family: &'a str,
    models: &'a [String],
    lines: usize,
    tokens: u64,
    training_tco2e: Bounds,
    basis: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    market_tco2e: Option<f64>,
    lifetime_tokens: Bounds,
    share_tco2e: Bounds,
    #[serde(skip_serializing_if = "Option::is_none")]
    market_share_tco2e: Option<f64>,
    flag: &'a str,
    sources: Vec<&'a str>,
    flags: &'a [String],
}

fn tidy_b(b: Bounds) -> Bounds {
    b.map(tidy)
}

pub(super) fn training_json(o: &Outcome) -> TrainingJson<'_> {
    let t = &o.training;
    TrainingJson {
        basis: BASIS,
        available: t.available,
        included: t.included,
        families: t
            .families
            .iter()
            .map(|f| FamilyJson {
                family: &f.family,
                models: &f.models,
                lines: f.lines,
                tokens: f.tokens,
                training_tco2e: tidy_b(f.training_tco2e),
                basis: &f.basis,
                market_tco2e: f.market_tco2e.map(tidy),
                lifetime_tokens: tidy_b(f.lifetime_tokens),
                share_tco2e: tidy_b(f.share_tco2e),
                market_share_tco2e: f.market_share_tco2e.map(tidy),
                flag: &f.flag,
                sources: f.source_id.split(';').filter(|s| !s.is_empty()).collect(),
                flags: &f.flags,
            })
            .collect(),
        total_tco2e: tidy_b(t.total_tco2e),
        tokens: t.tokens,
        left_out: &t.left_out,
    }
}

/// The totals' account of the training share when the configuration includes it: the reported
/// figure (central, kgCO2e) with the share, the share added, and a note; `None` otherwise.
#[derive(Debug, Serialize)]
pub(super) struct IncludedJson {
    pub(super) reported_central_kgco2e: f64,
    pub(super) training_share_kgco2e: f64,
    pub(super) note: String,
}

pub(super) fn included_json(o: &Outcome) -> Option<IncludedJson> {
    let t = &o.training;
    if !t.included {
        return None;
    }
    let e = o.summary.totals.emissions_kgco2e.central;
    Some(IncludedJson {
        reported_central_kgco2e: tidy(e + t.added_kgco2e()),
        training_share_kgco2e: tidy(t.added_kgco2e()),
        note: format!(
            "The reported figure (reported_central_kgco2e) includes the amortised training share of the models used ({} kgCO2e central, training block) because the configuration sets [boundary] include_training = true; emissions_kgco2e and every other total are the inference figures without it.",
            tidy(t.added_kgco2e())
        ),
    })
}
