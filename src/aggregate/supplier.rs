//! Supplier-specific data matched to the estimate (METHODOLOGY §5, ESRS E1 AR 46(g)).
//!
//! [`apply`] matches vendor carbon rows ([`CarbonRow`], read by [`crate::normalise::carbon`])
//! to calculation lines on provider × account × service × region × month: a location-based
//! vendor figure that includes Scope 3 (the estimate's embodied adder) and covers exactly what
//! the tool estimated replaces the estimate (method `supplier-specific`); any other figure is
//! shown beside the estimate with the condition that failed. Energy and water stay the tool's
//! estimate: vendors report emissions only.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;

use super::rows::{Budget, RowList};
use super::{CalcLine, NotEstimatedKey, SourceRef};
use crate::estimate::{DataQuality, Method};
use crate::model::{Bounds, CarbonRow};
use crate::normalise::carbon::{templates, CarbonTemplate};

/// The matching key (METHODOLOGY §5).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SupplierKey {
    /// Provider key.
    pub provider: String,
    /// Billing account (`None`: the export names none).
    pub account: Option<String>,
    /// Service key.
    pub service: String,
    /// Region code, lower case (`global` when none).
    pub region: String,
    /// `YYYY-MM`.
    pub month: String,
}

impl SupplierKey {
    /// `google · 01A2B3-… · vertex-ai · us-central1 · 2026-01`.
    pub fn label(&self) -> String {
        format!(
            "{} · {} · {} · {} · {}",
            self.provider,
            self.account.as_deref().unwrap_or("(no account)"),
            self.service,
            self.region,
            self.month
        )
    }
}

/// What became of one vendor figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplierStatus {
    /// It replaces the estimate of the matched lines.
    Used,
    /// Shown beside the estimate of the matched lines; the reason why it is not used.
    Beside(String),
    /// No usage line has its key (the reason says what to import).
    Unmatched(String),
    /// Shown for context only (e.g. AWS `Other`, which holds every service but EC2 and S3).
    Context(String),
}

impl SupplierStatus {
    /// Plain words for the workbook.
    pub fn label(&self) -> String {
        match self {
            SupplierStatus::Used => "used: replaces the estimate (supplier-specific)".into(),
            SupplierStatus::Beside(r) => format!("shown beside the estimate: {r}"),
            SupplierStatus::Unmatched(r) => format!("not matched: {r}"),
            SupplierStatus::Context(r) => format!("context only: {r}"),
        }
    }
}

/// One vendor figure at the matching key, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupplierLine {
    /// The key.
    pub key: SupplierKey,
    /// The vendor's export (carbon template name).
    pub vendor: String,
    /// Service as the vendor names it.
    pub service_name: String,
    /// Location-based total, kgCO2e.
    pub location_kg: Option<f64>,
    /// Market-based total, kgCO2e.
    pub market_kg: Option<f64>,
    /// Scope 3 part, kgCO2e, when the export splits scopes.
    pub scope3_kg: Option<f64>,
    /// Carbon model version(s) seen.
    pub model_versions: Vec<String>,
    /// Sub-accounts (projects, usage accounts) summed.
    pub sub_accounts: usize,
    /// Source rows.
    pub sources: Vec<SourceRef>,
    /// The tool's estimate of the matched lines, kgCO2e.
    pub estimate_kgco2e: Bounds,
    /// Calculation lines matched.
    pub matched_lines: usize,
    /// What became of it.
    pub status: SupplierStatus,
}

/// A vendor figure as it bears on one line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupplierUse {
    /// The vendor's export.
    pub vendor: String,
    /// The matching key.
    pub key: String,
    /// The vendor figure allocated to this line (location-based, kgCO2e; market-based when
    /// that is all the vendor gives, see `note`).
    pub vendor_kgco2e: f64,
    /// The tool's own estimate of this line, kgCO2e.
    pub estimate_kgco2e: Bounds,
    /// True when the vendor figure replaced the estimate.
    pub used: bool,
    /// Why not, or how it was allocated.
    pub note: String,
}

impl SupplierUse {
    /// Adds another calculation line's part (same key) to this one.
    pub fn add(&mut self, other: &SupplierUse) {
        self.vendor_kgco2e += other.vendor_kgco2e;
        self.estimate_kgco2e = self
            .estimate_kgco2e
            .zip(other.estimate_kgco2e, |a, b| a + b);
    }
}

/// Data quality of a supplier-specific line: the vendor's own measurement for the service,
/// region and month (technology, time, geography 1), complete for the key (1), calculated by
/// the vendor and not verified by the tool (reliability 2).
pub const SUPPLIER_DQ: DataQuality = DataQuality {
    technology: 1,
    time: 1,
    geography: 1,
    completeness: 1,
    reliability: 2,
};

impl SupplierKey {
    /// The key of a usage line: `None` when the line names no service; no region is `global`.
    fn of_line(
        provider: &str,
        account: &Option<String>,
        service: &Option<String>,
        region: &Option<String>,
        month: &str,
    ) -> Option<SupplierKey> {
        Some(SupplierKey {
            provider: provider.to_string(),
            account: account.clone(),
            service: service.clone()?,
            region: region
                .as_deref()
                .map(str::to_lowercase)
                .unwrap_or_else(|| "global".into()),
            month: month.to_string(),
        })
    }
}

/// Matches vendor figures to calculation lines and replaces the estimates that METHODOLOGY §5
/// allows; returns one [`SupplierLine`] per vendor key. `unestimated` are billed items the
/// tool lists without an estimate: a vendor figure that covers one of them covers more than
/// the estimate and is shown beside.
pub fn apply(
    rows: &[CarbonRow],
    calc_lines: &mut [CalcLine],
    unestimated: &[NotEstimatedKey],
) -> Vec<SupplierLine> {
    if rows.is_empty() {
        return vec![];
    }
    let by_template: HashMap<&str, &Arc<CarbonTemplate>> =
        templates().iter().map(|t| (t.id.as_str(), t)).collect();
    let lines_by_key = lines_by_key(calc_lines);
    let unestimated_keys: BTreeSet<SupplierKey> = unestimated
        .iter()
        .filter(|k| !k.spend_only)
        .filter_map(|k| {
            SupplierKey::of_line(&k.provider, &k.account, &k.service, &k.region, &k.month)
        })
        .collect();
    let mut out = vec![];
    for (key, rs) in vendor_keys(rows) {
        let figure = VendorFigure::of(&rs, &by_template);
        let matched = matched_lines(&key, &lines_by_key);
        let mut estimate = Bounds::default();
        for &i in &matched {
            estimate = estimate.zip(calc_lines[i].body.estimate.emissions_kgco2e, |a, b| a + b);
        }
        let status = status_of(&key, &figure, &matched, &unestimated_keys);
        allocate(calc_lines, &matched, estimate, &key, &figure, &status);
        out.push(SupplierLine {
            vendor: figure.vendor,
            service_name: figure.service_name,
            location_kg: figure.location_kg,
            market_kg: figure.market_kg,
            scope3_kg: figure.scope3_kg,
            model_versions: figure.versions.into_iter().collect(),
            sub_accounts: figure.sub_accounts,
            sources: figure.sources,
            estimate_kgco2e: estimate,
            matched_lines: matched.len(),
            status,
            key,
        });
    }
    out
}

/// Vendor rows by key: summed over sub-accounts and zones.
fn vendor_keys(rows: &[CarbonRow]) -> BTreeMap<SupplierKey, Vec<&CarbonRow>> {
    let mut groups: BTreeMap<SupplierKey, Vec<&CarbonRow>> = BTreeMap::new();
    for r in rows {
        let key = SupplierKey {
            provider: r.provider.clone(),
            account: r.account.clone(),
            service: r.service.clone(),
            region: r.region.clone(),
            month: r.month.clone(),
        };
        groups.entry(key).or_default().push(r);
    }
    groups
}

/// Calculation lines by key.
fn lines_by_key(calc_lines: &[CalcLine]) -> HashMap<SupplierKey, Vec<usize>> {
    let mut lines_by_key: HashMap<SupplierKey, Vec<usize>> = HashMap::new();
    for (i, c) in calc_lines.iter().enumerate() {
        let k = &c.key;
        if let Some(k) =
            SupplierKey::of_line(&k.provider, &k.account, &k.service, &k.region, &k.month)
        {
            lines_by_key.entry(k).or_default().push(i);
        }
    }
    lines_by_key
}

/// The calculation lines of a key. A file without accounts (AWS console CSV) is compared
/// with every account's lines of the key; it is then shown beside, never used.
fn matched_lines(key: &SupplierKey, lines_by_key: &HashMap<SupplierKey, Vec<usize>>) -> Vec<usize> {
    if key.account.is_none() {
        lines_by_key
            .iter()
            .filter(|(k, _)| {
                SupplierKey {
                    account: None,
                    ..(*k).clone()
                } == *key
            })
            .flat_map(|(_, v)| v.iter().copied())
            .collect::<BTreeSet<usize>>()
            .into_iter()
            .collect()
    } else {
        lines_by_key.get(key).cloned().unwrap_or_default()
    }
}

/// What the vendor's rows of one key say together.
struct VendorFigure {
    vendor: String,
    service_name: String,
    location_kg: Option<f64>,
    market_kg: Option<f64>,
    scope3_kg: Option<f64>,
    versions: BTreeSet<String>,
    files: BTreeSet<String>,
    sub_accounts: usize,
    sources: Vec<SourceRef>,
    includes_scope3: bool,
    /// Shown for context only (the reason).
    context: Option<String>,
}

impl VendorFigure {
    fn of(rs: &[&CarbonRow], by_template: &HashMap<&str, &Arc<CarbonTemplate>>) -> VendorFigure {
        let first = rs[0];
        let sum = |f: fn(&CarbonRow) -> Option<f64>| -> Option<f64> {
            rs.iter()
                .map(|r| f(r))
                .try_fold(0.0, |a, v| v.map(|v| a + v))
        };
        let subs: BTreeSet<Option<&str>> = rs.iter().map(|r| r.sub_account.as_deref()).collect();
        let mut sources: BTreeMap<(String, Option<String>), ([u64; 3], RowList)> = BTreeMap::new();
        let mut budget = Budget::default();
        for r in rs {
            let (s, list) = sources
                .entry((r.file.clone(), r.sheet.clone()))
                .or_insert(([r.row, r.row, 0], RowList::default()));
            s[0] = s[0].min(r.row);
            s[1] = s[1].max(r.row);
            s[2] += 1;
            list.add(r.row, &mut budget);
        }
        let template = by_template.get(first.template.as_str());
        VendorFigure {
            vendor: template.map_or_else(|| first.template.clone(), |t| t.name.clone()),
            service_name: first.service_name.clone(),
            location_kg: sum(|r| r.location_kg),
            market_kg: sum(|r| r.market_kg),
            scope3_kg: sum(|r| r.scope3_kg),
            versions: rs.iter().filter_map(|r| r.model_version.clone()).collect(),
            files: rs.iter().map(|r| r.file.clone()).collect(),
            sub_accounts: subs.len(),
            sources: sources
                .into_iter()
                .map(|((file, sheet), ([a, b, n], mut list))| {
                    list.settle();
                    SourceRef {
                        file,
                        sheet,
                        rows: [a, b],
                        count: n,
                        list,
                    }
                })
                .collect(),
            includes_scope3: template.is_some_and(|t| {
                rs.iter()
                    .all(|r| t.includes_scope3(r.model_version.as_deref()))
            }),
            context: first.context.clone(),
        }
    }
}

/// Whether a vendor figure replaces the estimate of its lines (METHODOLOGY §5), or why not.
fn status_of(
    key: &SupplierKey,
    f: &VendorFigure,
    matched: &[usize],
    unestimated_keys: &BTreeSet<SupplierKey>,
) -> SupplierStatus {
    if let Some(c) = &f.context {
        SupplierStatus::Context(c.clone())
    } else if matched.is_empty() {
        SupplierStatus::Unmatched(
            "no usage line has this provider × account × service × region × month (import the billing export of that month, or check the account and region)".into(),
        )
    } else if f.files.len() > 1 {
        SupplierStatus::Beside(format!(
            "{} files report this key ({}): import one, so that the figure is not counted twice",
            f.files.len(),
            f.files
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else if f.versions.len() > 1 {
        SupplierStatus::Beside(format!(
            "rows of carbon model versions {} for one month: keep one version",
            f.versions.iter().cloned().collect::<Vec<_>>().join(" and ")
        ))
    } else if f.location_kg.is_none() {
        SupplierStatus::Beside(
            "the vendor gives a market-based figure only; the reported figure is location-based"
                .into(),
        )
    } else if !f.includes_scope3 {
        SupplierStatus::Beside(format!(
            "carbon model {} excludes Scope 3 (hardware manufacturing), so it is not comparable with the estimate and its embodied adder",
            f.versions.iter().next().map_or("(unknown)", String::as_str)
        ))
    } else if key.account.is_none() {
        SupplierStatus::Beside(
            "the vendor's file names no account, so it cannot be tied to this account's usage"
                .into(),
        )
    } else if unestimated_keys.contains(key) {
        SupplierStatus::Beside(
            "the vendor figure covers the whole service, including billed items the tool lists without an estimate (see Not estimated)".into(),
        )
    } else {
        SupplierStatus::Used
    }
}

/// The vendor figure on each matched line, by the line's share of the estimate (equal
/// shares when the estimate is zero); a used figure replaces the line's emissions.
fn allocate(
    calc_lines: &mut [CalcLine],
    matched: &[usize],
    estimate: Bounds,
    key: &SupplierKey,
    f: &VendorFigure,
    status: &SupplierStatus,
) {
    let vendor_total = f.location_kg.or(f.market_kg).unwrap_or(0.0);
    let used = *status == SupplierStatus::Used;
    let n = matched.len() as f64;
    for &i in matched {
        let c = &mut calc_lines[i];
        let own = c.body.estimate.emissions_kgco2e;
        let share = if estimate.central > 0.0 {
            own.central / estimate.central
        } else {
            1.0 / n
        };
        let allocated = vendor_total * share;
        let note = match status {
            SupplierStatus::Used => {
                if matched.len() > 1 {
                    format!(
                        "vendor figure {vendor_total:.6} kgCO2e for {} allocated by this line's share of the estimate ({:.4}%)",
                        key.label(),
                        share * 100.0
                    )
                } else {
                    format!("vendor figure for {}", key.label())
                }
            }
            other => other.label(),
        };
        let note = if f.location_kg.is_none() {
            format!("{note} (market-based figure shown)")
        } else {
            note
        };
        c.body.supplier = Some(SupplierUse {
            vendor: f.vendor.clone(),
            key: key.label(),
            vendor_kgco2e: allocated,
            estimate_kgco2e: own,
            used,
            note,
        });
        if used {
            let e = &mut c.body.estimate;
            let embodied = match (f.scope3_kg, f.location_kg) {
                (Some(s3), Some(lb)) if lb > 0.0 => allocated * s3 / lb,
                _ if own.central > 0.0 => allocated * e.embodied_kgco2e.central / own.central,
                _ => 0.0,
            };
            let cfe_ratio = if own.central > 0.0 {
                e.cfe_adjusted_kgco2e.central / own.central
            } else {
                1.0
            };
            e.emissions_kgco2e = Bounds::flat(allocated);
            e.embodied_kgco2e = Bounds::flat(embodied);
            e.operational_kgco2e = Bounds::flat(allocated - embodied);
            e.cfe_adjusted_kgco2e = Bounds::flat(allocated * cfe_ratio);
            c.body.method = Method::SupplierSpecific;
            c.body.dq = SUPPLIER_DQ;
            c.body.flags.push(
                "supplier-specific: emissions are the vendor's location-based figure; energy and water remain the tool's estimate (vendors report emissions only)".into(),
            );
        }
    }
}
