//! The XBRL Map sheet: the workbook cells of the ESRS datapoints.

use rust_xlsxwriter::XlsxError;

use super::summary::{E16_AI_ROW, E16_N_COL};
use super::writer::Book;
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("XBRL Map")?;
    let cols: &[Col] = &[
        ("Datapoint", 44.0),
        ("Element", 50.0),
        ("Dimension member", 60.0),
        ("Period", 24.0),
        ("Unit", 8.0),
        ("Decimals", 9.0),
        ("Workbook cell", 26.0),
    ];
    let mut r = ws.header(0, cols)?;
    let period = format!("{} to {}", o.period.start, o.period.end);
    let cell =
        |row: u32, col: u16| format!("'E1-6 Summary'!{}{}", (b'A' + col as u8) as char, row + 1);
    let axis = "esrs:Scope3GHGEmissionsCategoryGHGProtocolAxis";
    let rows: Vec<[String; 7]> = vec![
        [
            "Cloud computing and data centre services: of which AI / LLM API services (component)".into(),
            "esrs:GrossScope3GreenhouseGasEmissions".into(),
            format!("{axis} = esrs:Category11CloudComputingAndDataCentreServicesMember (this workbook supplies a component of the member's value)"),
            period.clone(),
            "tCO2e".into(),
            "3".into(),
            cell(E16_AI_ROW, E16_N_COL),
        ],
        [
            "% of Scope 3 from supplier primary data (AR 46(g))".into(),
            "esrs:PercentageOfGrossScope3GreenhouseGasEmissionsCalculatedUsingPrimaryDataObtainedFromSuppliersOrOtherValueChainPartners".into(),
            "—".into(),
            period.clone(),
            "pure".into(),
            "3".into(),
            "'Data Quality' (% primary data row)".into(),
        ],
        [
            "Methodologies, significant assumptions and emission factors (AR 39(b))".into(),
            "esrs:DisclosureOfMethodologiesSignificantAssumptionsAndEmissionsFactorsUsedToCalculateOrMeasureGHGEmissionsExplanatory".into(),
            "—".into(),
            period,
            "text".into(),
            "—".into(),
            "'Methodology'!A1".into(),
        ],
    ];
    // Element and member names in full: wrapped, the row as tall as the longest needs.
    for row in &rows {
        let cells: Vec<Cell> = row.iter().map(|c| Cell::Text(c.as_str())).collect();
        ws.row_wrapped(r, &cells)?;
        r += 1;
    }
    ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    r += 1;
    ws.note(r, 4, "Element names are from the EFRAG ESRS XBRL taxonomy (2023-12-22). The AI / LLM figure is a component of the cloud-computing member, not a separate element: the entity tags its full category value.", 100.0)?;
    Ok(())
}
