//! The Supplier Data sheet: the vendors' carbon figures beside or in place of the estimate.

use rust_xlsxwriter::XlsxError;

use super::line_cells::bounds_cells;
use super::writer::{Book, CellText};
use crate::pipeline::Outcome;
use crate::report::cell::{Cell, Col};

pub(super) fn write(book: &mut Book<'_>, o: &Outcome) -> Result<(), XlsxError> {
    let mut ws = book.add_sheet("Supplier Data")?;
    let f = ws.f;
    let cols: &[Col] = &[
        ("Vendor export", 30.0),
        ("Provider", 12.0),
        ("Account", 22.0),
        ("Service", 12.0),
        ("Service (as the vendor names it)", 18.0),
        ("Region", 13.0),
        ("Month", 9.0),
        ("Vendor kgCO2e location-based", 14.0),
        ("Vendor kgCO2e market-based", 14.0),
        ("of which Scope 3 kgCO2e", 12.0),
        ("Carbon model version", 10.0),
        ("Sub-accounts summed", 9.0),
        ("Lines matched", 9.0),
        ("Tool estimate kgCO2e (low)", 12.0),
        ("Tool estimate kgCO2e (central)", 12.0),
        ("Tool estimate kgCO2e (high)", 12.0),
        ("Status", 70.0),
        ("Source rows", 50.0),
    ];
    let mut r = ws.header(0, cols)?;
    ws.wide_paper();
    let opt = |v: Option<f64>| match v {
        Some(x) => Cell::Number(x, &f.kg),
        None => Cell::Text("not given"),
    };
    for s in &o.summary.supplier {
        let k = &s.key;
        let mut cells = vec![
            Cell::Text(&s.vendor),
            Cell::Text(&k.provider),
            Cell::Text(k.account.as_deref().unwrap_or("(not in the file)")),
            Cell::Text(&k.service),
            Cell::Text(&s.service_name),
            Cell::Text(&k.region),
            Cell::Text(&k.month),
            opt(s.location_kg),
            opt(s.market_kg),
            opt(s.scope3_kg),
            Cell::Owned(s.model_versions.join(", ")),
            Cell::Count(s.sub_accounts as u64),
            Cell::Count(s.matched_lines as u64),
        ];
        cells.extend(bounds_cells(s.estimate_kgco2e, &f.kg));
        cells.push(Cell::Owned(s.status.label()));
        cells.push(Cell::Owned(
            s.sources
                .iter()
                .map(|x| format!("{} rows {}-{} ({})", x.file, x.rows[0], x.rows[1], x.count))
                .collect::<Vec<_>>()
                .join("; "),
        ));
        ws.row_wrapped(r, &cells)?;
        r += 1;
    }
    if o.summary.supplier.is_empty() {
        ws.text(r, 0, "No vendor carbon report was imported: every line is the tool's estimate, and % primary data is 0.")?;
        r += 1;
    } else {
        ws.autofilter(0, 0, r - 1, (cols.len() - 1) as u16)?;
    }
    r += 1;
    let used: f64 = o
        .summary
        .lines
        .iter()
        .filter(|l| l.body.method == crate::estimate::Method::SupplierSpecific)
        .map(|l| l.body.estimate.emissions_kgco2e.central)
        .sum();
    ws.row(
        r,
        &[
            Cell::Text("kgCO2e from vendor figures (supplier-specific lines)"),
            Cell::Number(used, &f.total_kg),
        ],
    )?;
    r += 1;
    ws.row(
        r,
        &[
            Cell::Text("% primary data (ESRS E1 AR 46(g))"),
            Cell::Number(o.summary.totals.primary_data_share, &f.pct),
        ],
    )?;
    r += 2;
    ws.note(r, 12, "METHODOLOGY §5: a vendor figure replaces the estimate (embodied adder included) only when it is location-based, includes Scope 3, names the account and matches provider × account × service × region × month, and when the tool estimated every billed item of that key; it is then split over the key's lines by their share of the estimate (low = central = high: vendors publish no range). Otherwise it is shown beside the estimate with the reason, and on the AI Services sheet. Energy and water stay the tool's estimate. Market-based vendor figures are never the reported figure; offsets are never netted.", 75.0)?;
    Ok(())
}
