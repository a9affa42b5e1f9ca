//! The E1-6 Summary sheet: the disclosure lines, with the XBRL elements they belong to.

use rust_xlsxwriter::XlsxError;

use super::writer::{Book, CellText};
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("E1-6 Summary")?;
    let f = ws.f;
    let cols: &[Col] = &[
        ("Line (ESRS E1-6 / AR 48)", 34.0),
        ("XBRL element", 28.0),
        ("Dimension member", 34.0),
        ("ESRS reference", 18.0),
        ("Base year", 10.0),
        ("Comparative (N-1)", 14.0),
        ("N (this period)", 14.0),
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
    let entity = "(entity figure: link from the inventory)";
    let t = &o.summary.totals;
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
            format!("{axis} = esrs:Category1PurchasedGoodsAndServicesMember"),
            "E1-6 51; AR 46",
            None,
        ),
        (
            "1.1 of which cloud computing and data centre services",
            el,
            format!("{axis} = esrs:Category11CloudComputingAndDataCentreServicesMember"),
            "AR 51",
            None,
        ),
        (
            "of which AI / LLM API services (this workbook)",
            "(component of the element above)",
            "—".into(),
            "AR 51; AR 46(h)",
            Some(t.emissions_kgco2e.central / 1000.0),
        ),
    ];
    for (label, element, member, reference, value) in lines {
        ws.text_fmt(r, 0, label, &f.wrap)?;
        ws.text_fmt(r, 1, element, &f.wrap)?;
        ws.text_fmt(r, 2, member.as_str(), &f.wrap)?;
        ws.set_row_height(r, 45.0)?;
        ws.text(r, 3, reference)?;
        match value {
            Some(v) => {
                ws.write_number_with_format(r, 6, v, &f.t)?;
                match o.ledger.as_ref().map(|l| &l.comparative) {
                    Some(Some((_, prev))) => {
                        let p = prev.emissions_kgco2e.central / 1000.0;
                        ws.write_number_with_format(r, 5, p, &f.t)?;
                        if p > 0.0 {
                            ws.write_number_with_format(r, 7, v / p - 1.0, &f.pct)?;
                        }
                    }
                    Some(None) => {
                        ws.text_fmt(r, 5, "n/a (no data for N-1 in the ledger)", &f.wrap)?;
                    }
                    None => {
                        ws.text_fmt(r, 5, "n/a (no ledger)", &f.wrap)?;
                    }
                }
            }
            None => {
                ws.text_fmt(r, 6, entity, &f.wrap)?;
            }
        }
        ws.text(r, 8, "tCO2e")?;
        r += 1;
    }
    r += 1;
    let facts: Vec<(&str, Cell)> = vec![
        (
            "Range: low (tCO2e)",
            Cell::Number(t.emissions_kgco2e.low / 1000.0, &f.t),
        ),
        (
            "Range: high (tCO2e)",
            Cell::Number(t.emissions_kgco2e.high / 1000.0, &f.t),
        ),
        (
            "of which embodied hardware (tCO2e, central)",
            Cell::Number(t.embodied_kgco2e.central / 1000.0, &f.t),
        ),
        (
            "Energy at the data centre (MWh, central)",
            Cell::Number(t.energy_kwh.central / 1000.0, &f.t),
        ),
        (
            "Water (m³, central)",
            Cell::Number(t.water_l.central / 1000.0, &f.t),
        ),
        (
            "% from supplier primary data (AR 46(g))",
            Cell::Number(t.primary_data_share, &f.pct),
        ),
        (
            "Sensitivity, not the reported figure: CFE-adjusted tCO2e (central; grid × (1 − carbon-free-energy share) where the operator publishes it; not GHG Protocol market-based)",
            Cell::Number(t.cfe_adjusted_kgco2e.central / 1000.0, &f.t),
        ),
        (
            "Data-quality score (1 very good … 4 poor, emissions-weighted)",
            match t.data_quality_score {
                Some(s) => Cell::Number(s, &f.dq),
                None => Cell::Text("n/a"),
            },
        ),
    ];
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
    let facts = facts
        .into_iter()
        .map(|(l, v)| (l.to_string(), v))
        .chain(spend_facts);
    for (label, v) in facts {
        ws.text_fmt(r, 0, &label, &f.label)?;
        ws.row(
            r,
            &[
                Cell::Blank,
                Cell::Blank,
                Cell::Blank,
                Cell::Blank,
                Cell::Blank,
                v,
            ],
        )?;
        r += 1;
    }
    ws.merge_text(r, 0, r, 8, "XBRL element of the % primary data row: esrs:PercentageOfGrossScope3GreenhouseGasEmissionsCalculatedUsingPrimaryDataObtainedFromSuppliersOrOtherValueChainPartners", &f.wrap)?;
    ws.set_row_height(r, 30.0)?;
    r += 2;
    ws.merge_text(r, 0, r, 8, "Low and high are a bounding envelope (every factor at its low or high value), not a statistical interval. Gross figures: no offsets or vendor neutrality claims are netted.", &f.wrap)?;
    ws.set_row_height(r, 30.0)?;
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
