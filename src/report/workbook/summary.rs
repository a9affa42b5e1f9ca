//! The E1-6 Summary sheet: the disclosure lines, with the XBRL elements they belong to.

use rust_xlsxwriter::{Format, Formula, XlsxError};

use super::ai_services::{total_row, EMISSIONS, FIRST_RESULT};
use super::formulas::col_letter;
use super::writer::{Book, CellText, Sheet};
use crate::aggregate::Totals;
use crate::pipeline::comparative::{self, Figure, State};
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

/// The Summary's columns: N-1, N and % change (F, G, H) and the unit (I), in both blocks.
const N1_COL: u16 = 5;
const CHANGE_COL: u16 = 7;
const UNIT_COL: u16 = 8;
/// The supporting figures' labels span A to E (merged), about this many characters wide.
const LABEL_LAST: u16 = 4;
const LABEL_WIDTH: f64 = 160.0;

/// A cell of the AI Services "Total" row, result column `k` (0 energy low ... 9 water high),
/// divided by 1000: `='AI Services'!$S$12/1000`.
fn ai_total(o: &Outcome, k: u16) -> String {
    format!(
        "='AI Services'!${}${}/1000",
        col_letter(FIRST_RESULT + k),
        total_row(o) + 1
    )
}

/// Writes a formula with its cached value.
fn formula(
    ws: &mut Sheet<'_, '_>,
    r: u32,
    c: u16,
    text: &str,
    value: f64,
    fmt: &Format,
) -> Result<(), XlsxError> {
    ws.write_formula_with_format(r, c, Formula::new(text).set_result(value.to_string()), fmt)?;
    Ok(())
}

/// N-1 in column F and the change in H (a formula `=G/F-1` with its value) for a figure of
/// `now` this period and `before` a year earlier; `change`: whether a % change means anything
/// (not for a share or a score).
fn comparative_cells(
    ws: &mut Sheet<'_, '_>,
    r: u32,
    now: f64,
    before: Option<f64>,
    fmt: &Format,
    change: bool,
) -> Result<(), XlsxError> {
    let f = ws.f;
    match before {
        Some(p) => {
            ws.write_number_with_format(r, N1_COL, p, fmt)?;
            if change && p > 0.0 {
                let n = r + 1;
                formula(
                    ws,
                    r,
                    CHANGE_COL,
                    &format!("=G{n}/F{n}-1"),
                    now / p - 1.0,
                    &f.pct,
                )?;
            }
        }
        None => {
            ws.text(r, N1_COL, "—")?;
        }
    }
    Ok(())
}

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("E1-6 Summary")?;
    let f = ws.f;
    let cols: &[Col] = &[
        ("Line (ESRS E1-6 / AR 48)", 34.0),
        ("XBRL element", 40.0),
        ("Dimension member", 60.0),
        ("ESRS reference", 16.0),
        ("Base year", 10.0),
        ("Comparative (N-1)", 17.0),
        ("N (this period)", 15.0),
        ("% change", 10.0),
        ("Unit", 8.0),
    ];
    ws.text_fmt(
        0,
        0,
        format!("ESRS E1-6 Scope 3 — {}", o.period.label).as_str(),
        &f.title,
    )?;
    let mut r = ws.header(2, cols)?;
    let el = "esrs:GrossScope3GreenhouseGasEmissions";
    let axis = "esrs:Scope3GHGEmissionsCategoryGHGProtocolAxis";
    let entity = "entity figure (from the inventory)";
    let t = &o.summary.totals;
    let cmp = comparative::of(o);
    let tr = &o.training;
    let ai_label = if tr.included {
        "of which AI / LLM API services (this workbook), incl. the amortised training share (central; Training sheet)"
    } else {
        "of which AI / LLM API services (this workbook)"
    };
    let lines: Vec<(&str, &str, String, &str, Option<f64>)> = vec![
        (
            "Total gross Scope 3 GHG emissions",
            el,
            String::new(),
            "E1-6 44(c)",
            None,
        ),
        (
            "1 Purchased goods and services",
            el,
            format!("{axis}\n= esrs:Category1PurchasedGoodsAndServicesMember"),
            "E1-6 51; AR 46",
            None,
        ),
        (
            "1.1 of which cloud computing and data centre services",
            el,
            format!("{axis}\n= esrs:Category11CloudComputingAndDataCentreServicesMember"),
            "AR 51",
            None,
        ),
        (
            ai_label,
            "(component of the element above)",
            "—".into(),
            "AR 51; AR 46(h)",
            Some(t.emissions_kgco2e.central / 1000.0 + tr.added_kgco2e() / 1000.0),
        ),
    ];
    for (label, element, member, reference, value) in lines {
        ws.text_fmt(r, 0, label, &f.wrap)?;
        ws.text_fmt(r, 1, element, &f.wrap)?;
        ws.text_fmt(r, 2, member.as_str(), &f.wrap)?;
        ws.set_row_height(r, if label.len() > 90 { 48.0 } else { 34.0 })?;
        ws.text_fmt(r, 3, reference, &f.wrap)?;
        match value {
            Some(v) => {
                // The figure to disclose: the AI Services total, live, highlighted (plus the
                // Training sheet's central share when the configuration includes it).
                let mut text = ai_total(o, EMISSIONS + 1);
                if tr.included {
                    text.push('+');
                    text.push_str(&super::training::total_central_cell(o));
                }
                formula(&mut ws, r, E16_N_COL, &text, v, &f.disclose)?;
                match cmp {
                    State::Figures(c) => {
                        let p = c.totals.emissions_kgco2e.central / 1000.0;
                        // With the training share in N but not in N-1, a % change would compare
                        // unlike figures: none is given (the note says so).
                        comparative_cells(&mut ws, r, v, Some(p), &f.t, !tr.included)?;
                    }
                    State::NoLedgerData => {
                        ws.text_fmt(r, N1_COL, "n/a (no data for N-1 in the ledger)", &f.wrap)?;
                    }
                    State::None => {
                        ws.text_fmt(r, N1_COL, "n/a (no ledger, no --prior)", &f.wrap)?;
                    }
                }
            }
            None => {
                ws.text_fmt(r, E16_N_COL, entity, &f.wrap)?;
            }
        }
        ws.text_fmt(r, UNIT_COL, "tCO2e", &f.unit)?;
        r += 1;
    }
    let source = match cmp {
        State::Figures(c) => format!(" N-1: {}.", c.text()),
        State::NoLedgerData => " N-1: the ledger holds no data for the same period a year earlier.".into(),
        State::None => " N-1: none (a report from a ledger, or report --prior with an earlier JSON summary, gives it).".into(),
    };
    ws.note(
        r,
        UNIT_COL,
        &format!(
            "{}{} (highlighted) is the figure to disclose: the AI Services total (kgCO2e, central) / 1000, itself the sum of the AI Services lines, each the sum of its calculation lines, whose formulas read the Factors sheet; change a factor and it follows.{}{source}",
            col_letter(E16_N_COL),
            E16_AI_ROW + 1,
            training_note(o)
        ),
        200.0,
    )?;
    r += 2;
    r = supporting(&mut ws, o, cmp, r)?;
    // Spend in the reporting currency, beside the amounts as exported, with the exchange rates
    // used (listed on the Factors sheet with their sources).
    let mut spend_facts: Vec<(String, Cell)> = vec![];
    if let Some(rs) = &o.reporting {
        spend_facts.push((
            format!(
                "Spend on these services ({}, converted at the factor set's annual exchange rates)",
                rs.currency
            ),
            match rs.total {
                Some(v) => Cell::Number(v, &f.money),
                None => Cell::Text("not given: an amount has no exchange rate (see the warnings)"),
            },
        ));
        spend_facts.push((
            "Spend as exported (each export's own currency)".into(),
            Cell::Owned(crate::pipeline::warnings::money_text(&t.spend)),
        ));
        let rates = if rs.fx_ids.is_empty() {
            "none needed (all spend is in the reporting currency)".to_string()
        } else {
            format!("{} (Factors sheet)", rs.fx_ids.join(", "))
        };
        spend_facts.push((
            "Exchange rates used (USD per unit, annual averages)".into(),
            Cell::Owned(rates),
        ));
    }
    for (label, v) in spend_facts {
        ws.merge_text(r, 0, r, LABEL_LAST, &label, &f.label)?;
        match v {
            Cell::Number(x, fmt) => {
                ws.write_number_with_format(r, E16_N_COL, x, fmt)?;
                if let Some(rs) = &o.reporting {
                    ws.text_fmt(r, UNIT_COL, &rs.currency, &f.unit)?;
                }
            }
            Cell::Text(s) => {
                ws.merge_text(r, E16_N_COL, r, UNIT_COL, s, &f.wrap)?;
            }
            Cell::Owned(s) => {
                ws.merge_text(r, E16_N_COL, r, UNIT_COL, &s, &f.wrap)?;
            }
            Cell::Count(_) | Cell::Blank => {}
        }
        r += 1;
    }
    r += 1;
    ws.note(r, UNIT_COL, "XBRL element of the % primary data row: esrs:PercentageOfGrossScope3GreenhouseGasEmissionsCalculatedUsingPrimaryDataObtainedFromSuppliersOrOtherValueChainPartners.", 200.0)?;
    r += 1;
    ws.note(r, UNIT_COL, "Low and high are a bounding envelope (every factor at its low or high value), not a statistical interval. Gross figures: no offsets or vendor neutrality claims are netted. The CFE-adjusted sensitivity multiplies the grid factor by (1 − the carbon-free-energy share) where the operator publishes it; it is not GHG Protocol market-based and not the reported figure. Range, embodied, energy and water are live formulas over the AI Services totals, like the figure above; the % primary data and the data-quality score are values.", 200.0)?;
    if let Some(rs) = &o.reporting {
        // How the spend was converted, and what could not be.
        let mut text = format!(
            "Spend in {}: each month's amounts × USD per unit of their currency / USD per {} (the factor set's annual averages of the month's year); the amounts as exported are kept on the AI Services, Allocation and Imports sheets.",
            rs.currency, rs.currency
        );
        for n in rs
            .notes
            .iter()
            .chain(&crate::pipeline::warnings::not_converted_text(
                rs,
                &o.factor_version,
            ))
        {
            text.push(' ');
            text.push_str(&upper_first(n));
            text.push('.');
        }
        r += 2;
        ws.merge_text(r, 0, r, 8, &text, &f.wrap)?;
        ws.set_row_height(r, 45.0)?;
    }
    super::management::write(&mut ws, o, r + 2)?;
    Ok(())
}

/// What the E1-6 figure says of the amortised training share: included (the configuration's
/// policy, with the figure without it), or shown apart; nothing when the factor set has none.
pub(crate) fn training_note(o: &Outcome) -> String {
    let tr = &o.training;
    if !tr.available {
        return String::new();
    }
    let share = tr.total_tco2e.central;
    if tr.included {
        format!(
            " INCLUDES the amortised training share of the models used, {share:.6} tCO2e central (Training sheet; low {:.6}, high {:.6}, not in the range below), because the configuration sets [boundary] include_training = true; without it the figure is {:.3} tCO2e. The N-1 and the range rows are without it, so no % change is given.",
            tr.total_tco2e.low,
            tr.total_tco2e.high,
            o.summary.totals.emissions_kgco2e.central / 1000.0
        )
    } else {
        format!(
            " The amortised training share of the models used, {share:.6} tCO2e central (Training sheet), is not in it: shown apart ([boundary] include_training = true adds it)."
        )
    }
}

/// `text` with its first letter in upper case.
fn upper_first(text: &str) -> String {
    let mut c = text.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Row (0-based) of the E1-6 Summary's AI line and its N column (see `e16_summary`).
pub(super) const E16_AI_ROW: u32 = 6;

pub(super) const E16_N_COL: u16 = 6;

/// A supporting figure: label, this period's value, the value in the N-1 totals, its format,
/// its unit, the live formula giving it (over the AI Services totals), whether a % change
/// means anything, and which N-1 source gives it.
struct Support<'a> {
    label: &'static str,
    value: Option<f64>,
    before: fn(&Totals) -> Option<f64>,
    fmt: &'a Format,
    unit: &'static str,
    formula: Option<String>,
    change: bool,
    figure: Figure,
}

/// The supporting figures of the AI / LLM line, under their own headings (F N-1, G N, H %
/// change, I unit); returns the row after them.
fn supporting(
    ws: &mut Sheet<'_, '_>,
    o: &Outcome,
    cmp: State<'_>,
    mut r: u32,
) -> Result<u32, XlsxError> {
    let f = ws.f;
    let t = &o.summary.totals;
    ws.text_fmt(
        r,
        0,
        "Supporting figures of the AI / LLM line (not separate E1-6 datapoints)",
        &f.title,
    )?;
    r += 1;
    ws.merge_text(r, 0, r, LABEL_LAST, "Figure", &f.header)?;
    for (c, h) in [
        (N1_COL, "Comparative (N-1)"),
        (E16_N_COL, "N (this period)"),
        (CHANGE_COL, "% change"),
        (UNIT_COL, "Unit"),
    ] {
        ws.text_fmt(r, c, h, &f.header)?;
    }
    ws.set_row_height(r, 20.0)?;
    r += 1;
    let tonnes = |k: u16| Some(ai_total(o, k));
    let figures = [
        Support {
            label: "Range: low (every factor at its low value)",
            value: Some(t.emissions_kgco2e.low / 1000.0),
            before: |p| Some(p.emissions_kgco2e.low / 1000.0),
            fmt: &f.t,
            unit: "tCO2e",
            formula: tonnes(EMISSIONS),
            change: true,
            figure: Figure::Summary,
        },
        Support {
            label: "Range: high (every factor at its high value)",
            value: Some(t.emissions_kgco2e.high / 1000.0),
            before: |p| Some(p.emissions_kgco2e.high / 1000.0),
            fmt: &f.t,
            unit: "tCO2e",
            formula: tonnes(EMISSIONS + 2),
            change: true,
            figure: Figure::Summary,
        },
        Support {
            label: "of which embodied hardware (central)",
            value: Some(t.embodied_kgco2e.central / 1000.0),
            before: |p| Some(p.embodied_kgco2e.central / 1000.0),
            fmt: &f.t,
            unit: "tCO2e",
            formula: tonnes(EMISSIONS + 3),
            change: true,
            figure: Figure::Summary,
        },
        Support {
            label: "Energy at the data centre (central)",
            value: Some(t.energy_kwh.central / 1000.0),
            before: |p| Some(p.energy_kwh.central / 1000.0),
            fmt: &f.t,
            unit: "MWh",
            formula: tonnes(1),
            change: true,
            figure: Figure::Summary,
        },
        Support {
            label: "Water (central)",
            value: Some(t.water_l.central / 1000.0),
            before: |p| Some(p.water_l.central / 1000.0),
            fmt: &f.t,
            unit: "m³",
            formula: tonnes(8),
            change: true,
            figure: Figure::Summary,
        },
        Support {
            label: "% from supplier primary data (AR 46(g))",
            value: Some(t.primary_data_share),
            before: |p| Some(p.primary_data_share),
            fmt: &f.pct,
            unit: "%",
            formula: None,
            change: false,
            figure: Figure::Summary,
        },
        Support {
            label: "Data-quality score (1 very good … 4 poor, emissions-weighted)",
            value: t.data_quality_score,
            before: |p| p.data_quality_score,
            fmt: &f.dq,
            unit: "score",
            formula: None,
            change: false,
            figure: Figure::Summary,
        },
        Support {
            label:
                "Sensitivity, not the reported figure: CFE-adjusted emissions (central; see below)",
            value: Some(t.cfe_adjusted_kgco2e.central / 1000.0),
            before: |p| Some(p.cfe_adjusted_kgco2e.central / 1000.0),
            fmt: &f.t,
            unit: "tCO2e",
            formula: None,
            change: true,
            figure: Figure::CfeAdjusted,
        },
    ];
    for s in figures {
        ws.merge_text(r, 0, r, LABEL_LAST, s.label, &f.label)?;
        let lines = s
            .label
            .chars()
            .count()
            .div_ceil(LABEL_WIDTH as usize)
            .max(1);
        if lines > 1 {
            ws.set_row_height(r, 15.0 * lines as f64)?;
        }
        match (s.value, &s.formula) {
            (Some(v), Some(text)) => formula(ws, r, E16_N_COL, text, v, s.fmt)?,
            (Some(v), None) => {
                ws.write_number_with_format(r, E16_N_COL, v, s.fmt)?;
            }
            (None, _) => {
                ws.text(r, E16_N_COL, "n/a")?;
            }
        }
        let before = match cmp {
            State::Figures(c) if c.has(s.figure) => (s.before)(c.totals),
            _ => None,
        };
        comparative_cells(ws, r, s.value.unwrap_or(0.0), before, s.fmt, s.change)?;
        ws.text_fmt(r, UNIT_COL, s.unit, &f.unit)?;
        r += 1;
    }
    Ok(r)
}
