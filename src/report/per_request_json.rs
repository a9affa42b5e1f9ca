//! The JSON summary's `per_request` and `what_if` (#22): the Per Request and Levers sheets'
//! figures, tidied as the other figures are, and the published per-query figures the average
//! request is compared with.

use serde::Serialize;

use super::json::tidy;
use crate::aggregate::per_request::{per_request, RequestFigures};
use crate::model::Bounds;
use crate::pipeline::Outcome;
use crate::validate::{PublishedQuery, PUBLISHED_QUERIES};

/// What the figures divide, in words (also the sheet's note).
pub const BASIS: &str = "AI Services lines that count requests and whose energy is estimated: facility energy (IT energy x PUE) and emissions with the embodied share, divided by their requests; per 1,000 output tokens divides the same energy (input tokens included) by the output tokens";

#[derive(Debug, Serialize)]
pub(super) struct PerRequestJson {
    basis: &'static str,
    groups: Vec<FiguresJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    all: Option<FiguresJson>,
    lines_left_out: usize,
    kgco2e_left_out: f64,
    published: &'static [PublishedQuery],
}

#[derive(Debug, Serialize)]
struct FiguresJson {
    provider: String,
    model: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    model_key: String,
    month: String,
    requests: u64,
    output_tokens: u64,
    wh_per_request: Bounds,
    gco2e_per_request: Bounds,
    /// Absent when the requests have no output tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    wh_per_thousand_output_tokens: Option<Bounds>,
}

fn figures(g: RequestFigures) -> FiguresJson {
    FiguresJson {
        wh_per_request: g.wh_per_request().map(tidy),
        gco2e_per_request: g.g_per_request().map(tidy),
        wh_per_thousand_output_tokens: g.wh_per_thousand_output_tokens().map(|b| b.map(tidy)),
        provider: g.provider,
        model: g.model,
        model_key: g.model_key,
        month: g.month,
        requests: g.requests,
        output_tokens: g.output_tokens,
    }
}

pub(super) fn per_request_json(o: &Outcome) -> PerRequestJson {
    let pr = per_request(&o.summary);
    PerRequestJson {
        basis: BASIS,
        groups: pr.groups.into_iter().map(figures).collect(),
        all: pr.all.map(figures),
        lines_left_out: pr.lines_left_out,
        kgco2e_left_out: tidy(pr.kgco2e_left_out),
        published: PUBLISHED_QUERIES,
    }
}

/// One what-if scenario in the JSON summary (`what_if`), figures tidied.
#[derive(Debug, Serialize)]
pub(super) struct WhatIfJson<'a> {
    spec: &'a str,
    #[serde(flatten)]
    lever: &'a crate::aggregate::what_if::Lever,
    description: &'a str,
    lines: usize,
    delta_kgco2e: Bounds,
    delta_energy_kwh: Bounds,
    delta_water_l: Bounds,
    total_after_kgco2e: Bounds,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

pub(super) fn what_if_json(o: &Outcome) -> Vec<WhatIfJson<'_>> {
    o.what_if
        .iter()
        .map(|w| WhatIfJson {
            spec: &w.spec,
            lever: &w.lever,
            description: &w.description,
            lines: w.lines,
            delta_kgco2e: w.delta_kgco2e.map(tidy),
            delta_energy_kwh: w.delta_energy_kwh.map(tidy),
            delta_water_l: w.delta_water_l.map(tidy),
            total_after_kgco2e: w.total_after_kgco2e.map(tidy),
            notes: &w.notes,
        })
        .collect()
}
