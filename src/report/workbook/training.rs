//! The Training sheet (#22 item 2): the amortised training share of the models used, by
//! training row (model family or class): the line tokens, the family's training emissions and
//! lifetime tokens, the share low / central / high as live formulas over them, basis, sources
//! and flags; the boundary reasoning below. Off the E1-6 figure by default, and saying so; with
//! `[boundary] include_training = true` the E1-6 figure adds this sheet's central total.
//! The figures are computed in `aggregate::training`, never here.

use rust_xlsxwriter::{Formula, XlsxError};

use super::formulas::col_letter;
use super::writer::{Book, CellText};
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

/// The sheet's name.
pub const NAME: &str = "Training";

/// The header row (0-based).
const HEADER_ROW: u32 = 2;

const COLS: &[Col] = &[
    ("Family (training row)", 20.0),
    ("Models (as exported)", 24.0),
    ("Lines", 6.0),
    ("Tokens", 15.0),
    ("Training tCO2e, low", 11.0),
    ("Training tCO2e, central", 11.0),
    ("Training tCO2e, high", 11.0),
    ("Basis", 14.0),
    ("Lifetime tokens, low", 11.0),
    ("Lifetime tokens, central", 11.0),
    ("Lifetime tokens, high", 11.0),
    ("Share tCO2e, low", 12.0),
    ("Share tCO2e, central", 12.0),
    ("Share tCO2e, high", 12.0),
    ("Sources", 32.0),
    ("Flags", 34.0),
];

/// Columns of the tokens, the training figures, the lifetime tokens and the share.
const TOKENS: u16 = 3;
const TRAINING: u16 = 4;
const LIFETIME: u16 = 8;
const SHARE: u16 = 11;

/// The cell of the sheet's central total share, tCO2e, as a reference from another sheet
/// (`'Training'!$M$6`): the E1-6 Summary adds it when the configuration includes the share.
pub(super) fn total_central_cell(o: &Outcome) -> String {
    let row = HEADER_ROW + 1 + o.training.families.len() as u32;
    format!("'{NAME}'!${}${}", col_letter(SHARE + 1), row + 1)
}

/// The boundary reasoning (METHODOLOGY, "Training share"), one paragraph each.
const BOUNDARY: &[&str] = &[
    "Boundary. Training a model is upstream of the purchased AI service (GHG Protocol Scope 3 Category 1, purchased goods and services), but the tool's figure covers inference only (METHODOLOGY: training is excluded). The share is therefore shown here, apart; a company whose inventory policy counts it sets [boundary] include_training = true, and the E1-6 figure then adds the central share, labelled on the Cover, the E1-6 Summary and in the JSON summary.",
    "Location- and market-based. The training figures are location-based (or, for Llama 2 and 3 and Gemma, gross figures before the publisher's offsets; an offset is not a market-based figure), like the tool's inference figures. Where the publisher also gives a market-based figure (Meta, from Llama 3.1 on: 0, by its renewable-electricity matching) it is shown in Basis, never in place of the location-based one.",
    "What a training figure counts. The final training run (pre-training, and post-training where the publisher says so), at the hardware's rated power with the data centre's overhead (Meta) or measured (OLMo, BLOOM). Not counted: experiments and failed runs (BLOOM's development was 2.7 times its final run, OLMo 2's about half of it), the hardware's manufacture (except in BLOOM's high), and teachers of distilled models.",
    "Lifetime tokens are assumptions. No provider publishes the tokens a model serves over its life; each range rests on cited usage disclosures (Google, OpenAI, DeepSeek, OpenRouter) and two choices that are never disclosed, the model's share of the traffic and its service life, so it spans one to three orders of magnitude, and so does the share. A training run shared by several models (DeepSeek-V3 and R1) is spread over all their tokens once.",
    "Classes. A model without a published figure takes its class: closed frontier models the one public estimate for a closed frontier model (GPT-4, 2023), a placeholder, not a bound; others by total parameters, from the open-weight models' published rows (min, median, max). Flagged 'class assumption'.",
];

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let tr = &o.training;
    let mut ws = book.add_sheet(NAME)?;
    let f = ws.f;
    let last_col = (COLS.len() - 1) as u16;
    let title = if tr.included {
        "Training: the amortised training share of the models used (INCLUDED in the E1-6 figure: [boundary] include_training = true)"
    } else {
        "Training: the amortised training share of the models used (shown apart: not in the E1-6 figure)"
    };
    ws.text_fmt(0, 0, title, &f.title)?;
    let mut basis = crate::aggregate::training::BASIS.to_string();
    if tr.included {
        basis.push_str(&format!(
            " This report includes it: the E1-6 figure adds the central share, {:.6} tCO2e.",
            tr.total_tco2e.central
        ));
    }
    ws.note(1, last_col, &basis, 200.0)?;
    let mut r = ws.header(HEADER_ROW, COLS)?;
    let first = r;
    let fine = f.t.clone().set_num_format("#,##0.000000");
    let sci = f.int.clone().set_num_format("0.000E+00");
    // Both derive from top-aligned formats: beside the first line of the wrapped texts.
    for fam in &tr.families {
        let basis = match fam.market_tco2e {
            Some(m) => format!("{}; market-based {m}", fam.basis),
            None => fam.basis.clone(),
        };
        let cells = vec![
            Cell::Text(&fam.family),
            Cell::Owned(fam.models.join(", ")),
            Cell::Number(fam.lines as f64, &f.int),
            Cell::Number(fam.tokens as f64, &f.int),
            Cell::Number(fam.training_tco2e.low, &f.t),
            Cell::Number(fam.training_tco2e.central, &f.t),
            Cell::Number(fam.training_tco2e.high, &f.t),
            Cell::Owned(basis),
            Cell::Number(fam.lifetime_tokens.low, &sci),
            Cell::Number(fam.lifetime_tokens.central, &sci),
            Cell::Number(fam.lifetime_tokens.high, &sci),
            Cell::Blank,
            Cell::Blank,
            Cell::Blank,
            Cell::Owned(fam.source_id.replace(';', ", ")),
            Cell::Owned(fam.flags.join("; ")),
        ];
        ws.row_wrapped(r, &cells)?;
        // The share as live formulas: training × tokens / lifetime tokens (low with the high
        // lifetime tokens, high with the low ones).
        let n = r + 1;
        let tok = format!("{}{n}", col_letter(TOKENS));
        for (k, (value, life)) in [
            (fam.share_tco2e.low, LIFETIME + 2),
            (fam.share_tco2e.central, LIFETIME + 1),
            (fam.share_tco2e.high, LIFETIME),
        ]
        .into_iter()
        .enumerate()
        {
            let k = k as u16;
            let text = format!(
                "={}{n}*{tok}/{}{n}",
                col_letter(TRAINING + k),
                col_letter(life)
            );
            ws.write_formula_with_format(
                r,
                SHARE + k,
                Formula::new(text).set_result(value.to_string()),
                &fine,
            )?;
        }
        r += 1;
    }
    // The total: always on the row below the families (total_central_cell), a SUM of them.
    ws.text_fmt(r, 0, "All", &f.total_label)?;
    for c in 1..=last_col {
        ws.text_fmt(r, c, "", &f.total_label)?;
    }
    let total_fine = f.total_t.clone().set_num_format("#,##0.000000");
    ws.write_number_with_format(r, TOKENS, tr.tokens as f64, &f.total_int)?;
    for (k, value) in [
        tr.total_tco2e.low,
        tr.total_tco2e.central,
        tr.total_tco2e.high,
    ]
    .into_iter()
    .enumerate()
    {
        let c = SHARE + k as u16;
        let text = if r > first {
            format!("=SUM({0}{1}:{0}{2})", col_letter(c), first + 1, r)
        } else {
            "=0".to_string()
        };
        ws.write_formula_with_format(
            r,
            c,
            Formula::new(text).set_result(value.to_string()),
            &total_fine,
        )?;
    }
    if r > first {
        ws.autofilter(HEADER_ROW, 0, r - 1, last_col)?;
    }
    r += 1;
    // What has no share, and why.
    let left = if !tr.available {
        format!(
            "Factor set {} has no training emissions (training.csv, factor set 2026.3 on): no share is computed.",
            o.factor_version
        )
    } else if tr.left_out.is_empty() {
        "Every AI Services line has a share.".to_string()
    } else {
        let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
        for l in &tr.left_out {
            *reasons.entry(l.reason.as_str()).or_default() += 1;
        }
        let list: Vec<String> = reasons
            .into_iter()
            .map(|(why, n)| format!("{n} line(s): {why}"))
            .collect();
        format!(
            "Without a share: {} (the lines are on the AI Services sheet).",
            list.join("; ")
        )
    };
    ws.note(r, last_col, &left, 200.0)?;
    r += 2;
    ws.text_fmt(r, 0, "Boundary: why the share is shown apart", &f.label)?;
    r += 1;
    for p in BOUNDARY {
        ws.note(r, last_col, p, 200.0)?;
        r += 1;
    }
    Ok(())
}
