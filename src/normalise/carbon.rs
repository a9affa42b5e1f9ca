//! Vendor carbon reports read as data (METHODOLOGY §5, ESRS E1 AR 46(g)).
//!
//! A carbon template (`templates/carbon/*.toml`) maps a vendor's carbon export (Google Cloud
//! Carbon Footprint, AWS Customer Carbon Footprint Tool, AWS Data Exports `CARBON_EMISSIONS`)
//! to [`CarbonRow`]s in kgCO2e, with the same row accounting as usage files. Matching them to
//! the estimate is [`crate::aggregate::supplier`]'s.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;

use super::template::{bind_field, header_key, Bound, Detect, FieldSpec, OneOrMany};
use super::{FileReport, NormaliseError, SheetReport, HEADER_SEARCH_ROWS};
use crate::ingest::{self, CellRef, Flow, RowCells, RowEvent};
pub use crate::model::CarbonRow;
use crate::model::{Period, Rejection, SkipReason};

/// One vendor carbon export format, as written in a `templates/carbon/*.toml` file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarbonTemplate {
    /// Unique id (`gcp-carbon-footprint`), reported as the file's format.
    pub id: String,
    /// Human name of the export (the "vendor" of every figure it gives).
    pub name: String,
    /// Provider key, as the usage templates name it (`google`, `aws-bedrock`).
    pub provider: String,
    /// Where the export comes from.
    #[serde(default)]
    pub description: String,
    /// kgCO2e per unit of the emission columns: 1 for kgCO2e, 1000 for MTCO2e.
    pub kg_per_unit: f64,
    /// When the vendor's totals include Scope 3 (hardware manufacturing, the counterpart of the
    /// estimate's embodied adder): `always`, `never`, or the first carbon model version that
    /// does (`v3.0.0`).
    pub scope3_included: String,
    /// Services (after the `service` field's map) that are AI services, matched to usage.
    pub ai_services: Vec<String>,
    /// Services shown for context only, never matched, with the reason (AWS `Other`).
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    /// How the header row is recognised.
    pub detect: Detect,
    /// Canonical field -> columns.
    pub fields: CarbonFields,
}

/// The fields of a carbon template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarbonFields {
    /// Usage month (`2026-01`, `2026-01-01`, a timestamp at the month's start).
    pub month: FieldSpec,
    /// Billing account (the usage templates' `account`).
    #[serde(default)]
    pub account: Option<FieldSpec>,
    /// Project, usage account, resource group: summed over.
    #[serde(default)]
    pub sub_account: Option<FieldSpec>,
    /// Service; the map turns ids and names into the usage templates' service keys.
    pub service: FieldSpec,
    /// Readable service name, for the report.
    #[serde(default)]
    pub service_name: Option<FieldSpec>,
    /// Cloud region code (the map turns location names into codes); empty means `global`.
    #[serde(default)]
    pub region: Option<FieldSpec>,
    /// Location-based total (Scope 1 + Scope 2 location-based + Scope 3).
    #[serde(default)]
    pub location_based: Option<FieldSpec>,
    /// Market-based total.
    #[serde(default)]
    pub market_based: Option<FieldSpec>,
    /// Scope 1.
    #[serde(default)]
    pub scope1: Option<FieldSpec>,
    /// Scope 2, location-based.
    #[serde(default)]
    pub scope2_location_based: Option<FieldSpec>,
    /// Scope 2, market-based.
    #[serde(default)]
    pub scope2_market_based: Option<FieldSpec>,
    /// Scope 3.
    #[serde(default)]
    pub scope3: Option<FieldSpec>,
    /// The vendor's carbon model version.
    #[serde(default)]
    pub model_version: Option<FieldSpec>,
    /// Unit column of the emission values; rows whose unit is not `expect` are rejected.
    #[serde(default)]
    pub unit: Option<UnitSpec>,
}

/// A unit column and the unit the template's `kg_per_unit` assumes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitSpec {
    /// The column(s).
    pub column: OneOrMany,
    /// The expected unit text (case-insensitive).
    pub expect: String,
}

impl CarbonTemplate {
    fn from_toml(text: &str, origin: &str) -> Result<CarbonTemplate, String> {
        let t: CarbonTemplate =
            toml::from_str(text).map_err(|e| format!("carbon template {origin}: {e}"))?;
        if !(t.kg_per_unit.is_finite() && t.kg_per_unit > 0.0) {
            return Err(format!(
                "carbon template {origin}: kg_per_unit must be positive"
            ));
        }
        let f = &t.fields;
        if f.location_based.is_none() && f.market_based.is_none() && f.scope1.is_none() {
            return Err(format!(
                "carbon template {origin}: needs a location_based, market_based or scope column"
            ));
        }
        Ok(t)
    }

    /// True when the vendor total of a row with this model version includes Scope 3.
    pub fn includes_scope3(&self, model_version: Option<&str>) -> bool {
        match self.scope3_included.as_str() {
            "always" => true,
            "never" => false,
            first => model_version.is_some_and(|v| version_at_least(v, first)),
        }
    }
}

/// Compares dotted version numbers (`v3.0.1` ≥ `v3.0.0`); non-numbers compare as 0.
pub(crate) fn version_at_least(v: &str, min: &str) -> bool {
    let parts = |s: &str| -> Vec<u64> {
        s.trim()
            .trim_start_matches(['v', 'V'])
            .split('.')
            .map(|p| p.trim().parse().unwrap_or(0))
            .collect()
    };
    let (a, b) = (parts(v), parts(min));
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return x > y;
        }
    }
    true
}

/// The built-in carbon templates (templates/carbon/*.toml, embedded at build time).
pub fn templates() -> &'static [Arc<CarbonTemplate>] {
    static SET: OnceLock<Vec<Arc<CarbonTemplate>>> = OnceLock::new();
    SET.get_or_init(|| {
        crate::embedded::CARBON_TEMPLATES
            .iter()
            .filter_map(|(name, text)| {
                // Built-in files are checked by a unit test; a broken one is left out.
                CarbonTemplate::from_toml(text, &format!("templates/carbon/{name}"))
                    .ok()
                    .map(Arc::new)
            })
            .collect()
    })
}

/// What reading a carbon report gave.
#[derive(Debug, Clone, Default)]
pub struct CarbonFile {
    /// Row accounting, as for usage files.
    pub report: FileReport,
    /// Rows in the period (AI services and context rows).
    pub rows: Vec<CarbonRow>,
    /// Rejected rows.
    pub rejections: Vec<Rejection>,
}

/// A carbon template bound to one header row: its fields' columns.
struct CarbonBinding {
    template: Arc<CarbonTemplate>,
    month: Bound,
    account: Option<Bound>,
    sub_account: Option<Bound>,
    service: Bound,
    service_name: Option<Bound>,
    region: Option<Bound>,
    location: Option<Bound>,
    market: Option<Bound>,
    s1: Option<Bound>,
    s2l: Option<Bound>,
    s2m: Option<Bound>,
    s3: Option<Bound>,
    version: Option<Bound>,
    unit: Option<(Bound, String)>,
}

fn fits(t: &CarbonTemplate, header: &[String]) -> bool {
    let keys: BTreeSet<String> = header.iter().map(|h| header_key(h)).collect();
    t.detect
        .required
        .iter()
        .all(|alts| alts.names().iter().any(|n| keys.contains(&header_key(n))))
}

fn bind(t: Arc<CarbonTemplate>, header: &[String]) -> Option<CarbonBinding> {
    let f = &t.fields;
    let opt = |s: &Option<FieldSpec>| s.as_ref().and_then(|s| bind_field(header, s));
    let unit = f.unit.as_ref().and_then(|u| {
        bind_field(
            header,
            &FieldSpec {
                column: u.column.clone(),
                ..FieldSpec::default()
            },
        )
        .map(|b| (b, u.expect.clone()))
    });
    Some(CarbonBinding {
        month: bind_field(header, &f.month)?,
        service: bind_field(header, &f.service)?,
        account: opt(&f.account),
        sub_account: opt(&f.sub_account),
        service_name: opt(&f.service_name),
        region: opt(&f.region),
        location: opt(&f.location_based),
        market: opt(&f.market_based),
        s1: opt(&f.scope1),
        s2l: opt(&f.scope2_location_based),
        s2m: opt(&f.scope2_market_based),
        s3: opt(&f.scope3),
        version: opt(&f.model_version),
        unit,
        template: t,
    })
}

fn text(b: Option<&Bound>, cells: &dyn RowCells) -> Option<String> {
    super::text_field(b, cells)
}

/// A row of the carbon report, or why it is rejected (column, value, reason).
type RowResult = Result<Option<CarbonRow>, (String, String, String)>;

/// The month of a carbon row: `YYYY-MM`, a date or a timestamp. A bare year (the AWS
/// console's yearly report) is refused: it cannot be matched to a month.
fn month_of(cell: &CellRef<'_>) -> Result<String, String> {
    if let CellRef::Text(t) = cell {
        let t = t.trim();
        let b = t.as_bytes();
        if b.len() == 4 && b.iter().all(u8::is_ascii_digit) {
            return Err(
                "a yearly figure cannot be matched to a month: download the monthly report".into(),
            );
        }
        if b.len() == 7 && b[4] == b'-' && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit) {
            let m: u32 = t[5..].parse().unwrap_or(0);
            if (1..=12).contains(&m) {
                return Ok(t.to_string());
            }
        }
        if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
            // MCfS-style dateKey 20260101.
            let (y, m) = (&t[..4], &t[4..6]);
            if (1..=12).contains(&m.parse::<u32>().unwrap_or(0)) {
                return Ok(format!("{y}-{m}"));
            }
        }
    }
    match super::parse::timestamp(cell, None) {
        Ok(Some(s)) => Ok(s.at.format("%Y-%m").to_string()),
        Ok(None) => Err("missing usage month".into()),
        Err(e) => Err(e),
    }
}

fn map_row(b: &CarbonBinding, cells: &dyn RowCells, dc: bool) -> RowResult {
    let t = &b.template;
    let first = |bound: &Bound| -> (String, CellRef<'_>) {
        let (i, name) = bound
            .columns
            .iter()
            .find(|(i, _)| !cells.cell(*i).is_blank())
            .or(bound.columns.first())
            .cloned()
            .unwrap_or((usize::MAX, String::new()));
        (name, cells.cell(i))
    };
    let (mcol, mcell) = first(&b.month);
    let month = month_of(&mcell).map_err(|e| (mcol, mcell.display(), e))?;
    let raw_service = text(Some(&b.service), cells).unwrap_or_default();
    let service_name = text(b.service_name.as_ref(), cells)
        .or_else(|| {
            b.service
                .columns
                .iter()
                .map(|(i, _)| cells.cell(*i).display())
                .find(|v| !v.trim().is_empty())
        })
        .unwrap_or_default();
    let context = t.context.get(&raw_service).cloned();
    if context.is_none() && !t.ai_services.contains(&raw_service) {
        return Ok(None);
    }
    // Emission values, in the export's unit, then kg.
    let num = |bound: &Option<Bound>| -> Result<Option<f64>, (String, String, String)> {
        let Some(bound) = bound else { return Ok(None) };
        let (col, cell) = first(bound);
        if let CellRef::Text(s) = &cell {
            if s.trim().eq_ignore_ascii_case("null") {
                return Ok(None);
            }
        }
        match super::parse::money(&cell, dc) {
            Ok(Some(v)) if v < 0.0 => Err((
                col,
                cell.display(),
                "emissions cannot be negative (gross figures only; offsets are never netted)"
                    .into(),
            )),
            Ok(v) => Ok(v.map(|v| v * t.kg_per_unit)),
            Err(e) => Err((col, cell.display(), format!("{e} of emissions"))),
        }
    };
    if let Some((ub, expect)) = &b.unit {
        let (col, cell) = first(ub);
        let u = cell.display();
        if !u.trim().is_empty() && !u.trim().eq_ignore_ascii_case(expect) {
            return Err((
                col,
                u,
                format!("emissions are expected in {expect} (the template's unit)"),
            ));
        }
    }
    let (s1, s2l, s2m, s3) = (num(&b.s1)?, num(&b.s2l)?, num(&b.s2m)?, num(&b.s3)?);
    let sum = |parts: [Option<f64>; 3]| -> Option<f64> {
        parts.iter().try_fold(0.0, |acc, p| p.map(|v| acc + v))
    };
    let location_kg = match num(&b.location)? {
        Some(v) => Some(v),
        None if b.location.is_none() => sum([s1, s2l, s3]),
        None => None,
    };
    let market_kg = match num(&b.market)? {
        Some(v) => Some(v),
        None if b.market.is_none() => sum([s1, s2m, s3]),
        None => None,
    };
    if location_kg.is_none() && market_kg.is_none() {
        let col = b
            .location
            .as_ref()
            .or(b.market.as_ref())
            .map(Bound::column_label)
            .unwrap_or_default();
        return Err((col, String::new(), "no emissions figure on the row".into()));
    }
    let region = text(b.region.as_ref(), cells)
        .filter(|r| !r.eq_ignore_ascii_case("null"))
        .map(|r| r.to_lowercase())
        .unwrap_or_else(|| "global".into());
    Ok(Some(CarbonRow {
        file_index: 0,
        file: String::new(),
        sheet: None,
        row: 0,
        template: t.id.clone(),
        month,
        provider: t.provider.clone(),
        account: text(b.account.as_ref(), cells),
        sub_account: text(b.sub_account.as_ref(), cells)
            .filter(|s| !s.eq_ignore_ascii_case("null")),
        service: raw_service,
        service_name,
        region,
        location_kg,
        market_kg,
        scope1_kg: s1,
        scope2_location_kg: s2l,
        scope2_market_kg: s2m,
        scope3_kg: s3,
        model_version: text(b.version.as_ref(), cells),
        context,
    }))
}

/// True when `month` (`YYYY-MM`) overlaps the period.
fn month_in(period: &Period, month: &str) -> bool {
    let Some(first) = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()
    else {
        return false;
    };
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first);
    first <= period.end && last >= period.start
}

/// Reads `path` as a vendor carbon report. `Ok(None)` when no carbon template recognises a
/// header in it (the caller's "unknown format" error then stands).
fn read_file(
    path: &Path,
    name: &str,
    file_index: usize,
    period: &Period,
) -> Result<Option<CarbonFile>, NormaliseError> {
    let mut out = CarbonFile {
        report: FileReport {
            file_index,
            file: name.to_string(),
            ..FileReport::default()
        },
        ..CarbonFile::default()
    };
    let mut sheet: Option<String> = None;
    let mut dc = false;
    let mut scanned = 0u64;
    let mut mapping: Option<CarbonBinding> = None;
    let mut found = false;
    let mut on_event = |event: RowEvent<'_>| -> Result<Flow, String> {
        match event {
            RowEvent::Sheet {
                name,
                decimal_comma,
            } => {
                sheet = name.map(str::to_string);
                dc = decimal_comma;
                scanned = 0;
                mapping = None;
                Ok(Flow::Continue)
            }
            // Only the usage normaliser premaps rows.
            RowEvent::Premapped(_) => Ok(Flow::Continue),
            RowEvent::Row(number, cells) => {
                let Some(b) = &mapping else {
                    scanned += 1;
                    let header: Vec<String> =
                        (0..cells.len()).map(|i| cells.cell(i).display()).collect();
                    if let Some(t) = templates().iter().find(|t| fits(t, &header)) {
                        if let Some(bound) = bind(t.clone(), &header) {
                            found = true;
                            let r = &mut out.report;
                            if !r.format.split('+').any(|f| f == t.id) {
                                if !r.format.is_empty() {
                                    r.format.push('+');
                                    r.template.push('+');
                                }
                                r.format.push_str(&t.id);
                                r.template.push_str(&t.id);
                            }
                            r.sheets.push(SheetReport {
                                sheet: sheet.clone(),
                                header_row: number,
                                template: t.id.clone(),
                                mapping: describe(&bound),
                            });
                            mapping = Some(bound);
                            return Ok(Flow::Continue);
                        }
                    }
                    return Ok(if scanned >= HEADER_SEARCH_ROWS {
                        Flow::SkipSheet
                    } else {
                        Flow::Continue
                    });
                };
                let r = &mut out.report;
                r.counts.read += 1;
                if (0..cells.len()).all(|i| cells.cell(i).is_blank()) {
                    r.counts.skipped += 1;
                    *r.skipped_by.entry(SkipReason::Blank).or_insert(0) += 1;
                    return Ok(Flow::Continue);
                }
                match map_row(b, cells, dc) {
                    Err((column, value, reason)) => {
                        r.counts.rejected += 1;
                        out.rejections.push(Rejection::new(
                            name.to_string(),
                            sheet.clone(),
                            number,
                            Some(column),
                            Some(value),
                            reason,
                        ));
                    }
                    Ok(None) => {
                        r.counts.skipped += 1;
                        *r.skipped_by.entry(SkipReason::OtherService).or_insert(0) += 1;
                    }
                    Ok(Some(mut row)) => {
                        if let Some(a) = &row.account {
                            r.accounts.insert(a.clone());
                        }
                        if let Ok(d) = chrono::NaiveDate::parse_from_str(
                            &format!("{}-01", row.month),
                            "%Y-%m-%d",
                        ) {
                            r.first_date = Some(r.first_date.map_or(d, |x| x.min(d)));
                            r.last_date = Some(r.last_date.map_or(d, |x| x.max(d)));
                        }
                        if !month_in(period, &row.month) {
                            r.counts.outside_period += 1;
                            return Ok(Flow::Continue);
                        }
                        r.counts.accepted += 1;
                        row.file_index = file_index;
                        row.file = name.to_string();
                        row.sheet = sheet.clone();
                        row.row = number;
                        out.rows.push(row);
                    }
                }
                Ok(Flow::Continue)
            }
        }
    };
    let info = ingest::read_rows(path, name, &mut on_event)?;
    if !found {
        return Ok(None);
    }
    out.report.sha256 = info.sha256;
    out.report.bytes = info.bytes;
    out.report.dialect = info.dialect;
    let ai = out.rows.iter().filter(|r| r.context.is_none());
    let (n, kg) = ai.fold((0usize, 0.0f64), |(n, kg), r| {
        (n + 1, kg + r.location_kg.unwrap_or(0.0))
    });
    out.report.notes.push(format!(
        "vendor carbon report: {n} row(s) of AI services in the period, {kg:.3} kgCO2e location-based (matched to usage lines on provider × account × service × region × month; see Supplier Data)"
    ));
    Ok(Some(out))
}

/// The fallback of [`super::read_export`]: a file no usage template recognises (`err` is its
/// `UnknownFormat` error) is read as a vendor carbon report, or `err` stands.
pub(super) fn read_instead(
    err: NormaliseError,
    path: &Path,
    name: &str,
    file_index: usize,
    period: &Period,
) -> Result<CarbonFile, NormaliseError> {
    match read_file(path, name, file_index, period)? {
        Some(c) => Ok(c),
        None => Err(err),
    }
}

fn describe(b: &CarbonBinding) -> Vec<(String, String)> {
    let mut v = vec![
        ("month".to_string(), b.month.column_label()),
        ("service".to_string(), b.service.column_label()),
    ];
    let mut add = |n: &str, x: &Option<Bound>| {
        if let Some(x) = x {
            v.push((n.to_string(), x.column_label()));
        }
    };
    add("account", &b.account);
    add("sub_account", &b.sub_account);
    add("region", &b.region);
    add("location_based", &b.location);
    add("market_based", &b.market);
    add("scope1", &b.s1);
    add("scope2_location_based", &b.s2l);
    add("scope2_market_based", &b.s2m);
    add("scope3", &b.s3);
    add("model_version", &b.version);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_carbon_templates_parse() {
        for (name, text) in crate::embedded::CARBON_TEMPLATES {
            CarbonTemplate::from_toml(text, name).unwrap();
        }
        assert_eq!(templates().len(), crate::embedded::CARBON_TEMPLATES.len());
        assert!(templates().len() >= 3);
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(version_at_least("v3.0.0", "v3.0.0"));
        assert!(version_at_least("v3.0.1", "v3.0.0"));
        assert!(version_at_least("v10.0.0", "v3.0.0"));
        assert!(!version_at_least("v2.9.9", "v3.0.0"));
    }

    #[test]
    fn months_parse_and_years_are_refused() {
        assert_eq!(month_of(&CellRef::Text("2026-02")).unwrap(), "2026-02");
        assert_eq!(month_of(&CellRef::Text("2026-02-01")).unwrap(), "2026-02");
        assert_eq!(
            month_of(&CellRef::Text("2026-02-01 00:00:00Z")).unwrap(),
            "2026-02"
        );
        assert_eq!(month_of(&CellRef::Text("20260201")).unwrap(), "2026-02");
        assert!(month_of(&CellRef::Text("2025"))
            .unwrap_err()
            .contains("yearly"));
        assert!(month_of(&CellRef::Text("2026-13")).is_err());
    }
}
