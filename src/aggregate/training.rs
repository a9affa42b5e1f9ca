//! The amortised training share (#22 item 2), shown apart from the E1-6 figure: for each AI
//! Services line with tokens, the training emissions of its model's family (the factor set's
//! `training.csv`) spread over the tokens that family serves in its life, times the line's
//! tokens. By default it is never in the reported figure; `[boundary] include_training = true`
//! adds its central value, labelled wherever the figure is shown (METHODOLOGY, "Training
//! share").
//!
//! The row of a line's model: the row naming its model key in `model_keys` (only when the set
//! knows the model itself: exact key, alias or a normalised spelling), else the class row whose
//! prefixes start the model's spelling (the closed frontier models), else the class row whose
//! parameter range holds the model's total parameters (its own, its nearest sibling's or its
//! size class's). The share of a line with `n` tokens and a row of training emissions `T` and
//! lifetime tokens `N`:
//!
//! ```text
//! low     = T_low     × n / N_high
//! central = T_central × n / N_central
//! high    = T_high    × n / N_low
//! ```
//!
//! so that low pairs the least emissions with the most tokens, as every other low of the tool
//! takes every factor at its favourable end. Lines of one row are summed by their tokens (the
//! sum of the lines' shares: the share is linear in `n`). Pure: no I/O, no clock.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Summary;
use crate::factors::{FactorSet, ModelMatch, TrainingRow};
use crate::model::Bounds;

/// What a share is and is not, in words (the sheet's and the JSON's note).
pub const BASIS: &str = "Amortised training share: the published or estimated training emissions of each line's model family (location-based; tCO2e) × the line's tokens (input + output, imputed and spend-derived included) / the tokens the family serves over its life (an assumption: no provider publishes it). Low = low emissions / high lifetime tokens, high = high emissions / low lifetime tokens. Upstream of the purchased service (GHG Protocol Scope 3 Category 1) but outside the tool's inference boundary: not in the E1-6 figure unless [boundary] include_training = true adds the central share.";

/// The share of one training row (model family or class): its lines summed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyShare {
    /// The row's family (`llama-3.1-405b`, `class:frontier-closed`).
    pub family: String,
    /// The models of the lines, as exported, sorted.
    pub models: Vec<String>,
    /// AI Services lines.
    pub lines: usize,
    /// Their tokens.
    pub tokens: u64,
    /// The row's training emissions, tCO2e.
    pub training_tco2e: Bounds,
    /// The row's basis (`location`).
    pub basis: String,
    /// The published market-based training figure, tCO2e, when there is one.
    pub market_tco2e: Option<f64>,
    /// The row's lifetime tokens.
    pub lifetime_tokens: Bounds,
    /// The share of these lines, tCO2e.
    pub share_tco2e: Bounds,
    /// The market-based share, tCO2e (central lifetime tokens), when a market figure is
    /// published.
    pub market_share_tco2e: Option<f64>,
    /// The row's flag (`published`, `class-assumption` ...).
    pub flag: String,
    /// The row's sources (`;`-separated ids).
    pub source_id: String,
    /// What the reader must know: a class row used, a conflicting publication, tokens
    /// imputed or derived from spend.
    pub flags: Vec<String>,
}

/// A line without a share, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeftOut {
    /// Provider key.
    pub provider: String,
    /// Model as exported.
    pub model: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Why it has no share.
    pub reason: String,
}

/// The training share of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Training {
    /// True when the factor set has training rows (2026.3 on); without them nothing is
    /// computed.
    pub available: bool,
    /// True when the configuration adds the central share to the reported figure
    /// (`[boundary] include_training = true`).
    pub included: bool,
    /// By training row, in the order of their families.
    pub families: Vec<FamilyShare>,
    /// All of them, tCO2e.
    pub total_tco2e: Bounds,
    /// Tokens of the lines with a share.
    pub tokens: u64,
    /// Lines without a share, with the reason.
    pub left_out: Vec<LeftOut>,
}

impl Training {
    /// What the configuration adds to the reported figure, kgCO2e central: the central share
    /// when included, else 0.
    pub fn added_kgco2e(&self) -> f64 {
        if self.included {
            self.total_tco2e.central * 1000.0
        } else {
            0.0
        }
    }
}

/// The share of `n` tokens under `row`, tCO2e.
pub fn share(row: &TrainingRow, n: u64) -> Bounds {
    let n = n as f64;
    let t = row.training_tco2e();
    let life = row.lifetime_tokens();
    Bounds {
        low: t.low * n / life.high,
        central: t.central * n / life.central,
        high: t.high * n / life.low,
    }
}

/// The training row of a model as exported: its own row (when the set knows the model itself:
/// exact key, alias or normalised spelling), else a class by prefix, else a class by total
/// parameters ([`TrainingRow::is_class`] tells which).
pub fn row_for<'s>(set: &'s FactorSet, raw_model: &str) -> Option<&'s TrainingRow> {
    let m = set.resolve_model(raw_model);
    let own = matches!(
        m.how,
        ModelMatch::Exact | ModelMatch::Alias | ModelMatch::Normalised
    );
    if own {
        if let Some(r) = set
            .training
            .iter()
            .find(|r| !r.is_class() && r.names(&m.key))
        {
            return Some(r);
        }
    }
    let spelling = if own {
        m.key.to_lowercase()
    } else {
        m.spelling.to_lowercase()
    };
    set.training
        .iter()
        .find(|r| r.covers_prefix(&spelling))
        .or_else(|| set.training.iter().find(|r| r.covers_size(m.total.1)))
}

/// The training share of the AI Services lines of `s` under `set`'s training rows;
/// `include`: whether the configuration adds its central value to the reported figure.
pub fn training(s: &Summary, set: &FactorSet, include: bool) -> Training {
    let mut out = Training {
        available: !set.training.is_empty(),
        included: include && !set.training.is_empty(),
        ..Training::default()
    };
    if !out.available {
        return out;
    }
    // Per row: (the row, lines, tokens, models, flags).
    type Acc<'s> = (
        &'s TrainingRow,
        usize,
        u64,
        std::collections::BTreeSet<String>,
        std::collections::BTreeSet<String>,
    );
    let mut by_family: BTreeMap<&str, Acc<'_>> = BTreeMap::new();
    for l in &s.lines {
        let b = &l.body;
        let a = &b.activity;
        let left = |reason: &str| LeftOut {
            provider: l.key.provider.to_string(),
            model: l.key.model.clone(),
            month: l.key.month.clone(),
            reason: reason.to_string(),
        };
        let tokens = a
            .input_tokens
            .saturating_add(a.output_tokens)
            .saturating_add(b.estimate.imputed_input_tokens)
            .saturating_add(b.estimate.imputed_output_tokens)
            .saturating_add(a.spend_input_tokens)
            .saturating_add(a.spend_output_tokens);
        if tokens == 0 {
            out.left_out.push(left(
                "no tokens (spend-based, or billed in characters or requests only)",
            ));
            continue;
        }
        if set.resolve_model(&l.key.model).kind != "llm" {
            out.left_out.push(left(
                "not a language model (embedding, image, audio or video): no training figure",
            ));
            continue;
        }
        let Some(row) = row_for(set, &l.key.model) else {
            out.left_out
                .push(left("no training row or class of the factor set covers it"));
            continue;
        };
        let e = by_family
            .entry(&row.family)
            .or_insert_with(|| (row, 0, 0, Default::default(), Default::default()));
        e.1 += 1;
        e.2 = e.2.saturating_add(tokens);
        e.3.insert(l.key.model.clone());
        if b.estimate.imputed_input_tokens > 0 || b.estimate.imputed_output_tokens > 0 {
            e.4.insert("tokens imputed from requests".into());
        }
        if a.spend_input_tokens > 0 || a.spend_output_tokens > 0 {
            e.4.insert("tokens derived from spend".into());
        }
    }
    let mut total = Bounds::default();
    for (family, (row, lines, tokens, models, extra)) in by_family {
        let sh = share(row, tokens);
        total = total.zip(sh, |a, b| a + b);
        out.tokens = out.tokens.saturating_add(tokens);
        let mut flags: Vec<String> = vec![];
        match row.flag.as_str() {
            "published" => {}
            "class-assumption" => flags.push(
                "class assumption: no training figure is published for these models; the class's envelope is used"
                    .into(),
            ),
            "published-conflict" => flags.push(
                "published figures conflict (low and central/high are different versions of the publication)"
                    .into(),
            ),
            other => flags.push(other.replace('-', " ")),
        }
        flags.extend(extra);
        flags.push("lifetime tokens: assumption".into());
        out.families.push(FamilyShare {
            family: family.to_string(),
            models: models.into_iter().collect(),
            lines,
            tokens,
            training_tco2e: row.training_tco2e(),
            basis: row.basis.clone(),
            market_tco2e: row.market_tco2e,
            lifetime_tokens: row.lifetime_tokens(),
            share_tco2e: sh,
            market_share_tco2e: row
                .market_tco2e
                .map(|m| m * tokens as f64 / row.lifetime_tokens_central),
            flag: row.flag.clone(),
            source_id: row.source_id.clone(),
            flags,
        });
    }
    out.total_tco2e = total;
    out
}
