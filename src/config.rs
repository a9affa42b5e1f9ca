//! Raw command-line arguments and the optional config file (llm-scope3.toml) -> a validated
//! [`Config`], once. Stages receive `&Config` and never look at arguments, files or the
//! environment themselves.
//!
//! The config file describes the company: reporting entity and currency, fiscal year start
//! (quarters follow it), default region per provider, the cost-centre mapping, the reporting
//! entities (subsidiaries) of a group by billing account or cost centre, exclusions (test
//! projects, with the reason shown in the report) and factor overrides.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::factors::FactorSet;
use crate::model::{Period, UsageRecord};
use crate::normalise::{Template, TemplateSet};

/// The default config file, read when present.
pub const DEFAULT_CONFIG: &str = "llm-scope3.toml";

/// The config file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Who reports.
    #[serde(default)]
    pub entity: EntitySection,
    /// Default region (cloud region code or `country:ISO3`) per provider key.
    #[serde(default)]
    pub regions: BTreeMap<String, String>,
    /// Cost-centre mapping, first matching rule wins.
    #[serde(default)]
    pub cost_centres: Vec<CostCentreRule>,
    /// Reporting entities (subsidiaries) by billing account or cost centre, applied when
    /// records are imported into a ledger; first matching rule wins.
    #[serde(default)]
    pub entities: Vec<EntityRuleFile>,
    /// Usage left out of the report, with the reason shown.
    #[serde(default)]
    pub exclude: Vec<ExclusionRule>,
    /// Factor set and overrides.
    #[serde(default)]
    pub factors: FactorsSection,
    /// Resource limits.
    #[serde(default)]
    pub limits: LimitsSection,
    /// What-if scenarios shown on the Levers sheet.
    #[serde(default)]
    pub levers: LeversSection,
    /// What the reported figure includes beyond the tool's own boundary.
    #[serde(default)]
    pub boundary: BoundarySection,
}

/// `[boundary]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundarySection {
    /// Add the central amortised training share (Training sheet) to the reported figure, for
    /// a company whose policy counts it; labelled wherever the figure is shown. Default: no.
    pub include_training: Option<bool>,
}

/// `[levers]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeversSection {
    /// Scenarios, each as `report --what-if` takes it (`move 50% gpt-4o to gpt-4o-mini`).
    #[serde(default)]
    pub what_if: Vec<String>,
}

/// `[limits]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Most distinct AI Services lines per report (default
    /// [`crate::model::DEFAULT_MAX_LINES`]); `--max-lines` overrides it.
    pub max_lines: Option<usize>,
}

/// `[entity]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntitySection {
    /// Reporting entity named on the Cover.
    pub name: Option<String>,
    /// Reporting currency (ISO 4217).
    pub currency: Option<String>,
    /// First month of the fiscal year (1-12).
    pub fiscal_year_start_month: Option<u32>,
    /// Base year of the inventory, when reported.
    pub base_year: Option<i32>,
    /// Annual net revenue, for the management metric per net revenue (not E1-6 §53).
    pub net_revenue: Option<f64>,
    /// Currency of `net_revenue` (ISO 4217); default: `currency`.
    pub revenue_currency: Option<String>,
    /// Employees (headcount or FTE), for the management metric per employee.
    pub employees: Option<f64>,
}

/// `[[cost_centres]]`: records whose cost centre (project / workspace / account / tag) matches
/// `match` (wildcards `*` and `?`, case-insensitive) are allocated to `cost_centre`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostCentreRule {
    /// Pattern over the exported cost centre; `*` alone is the catch-all (also for none).
    #[serde(rename = "match")]
    pub pattern: String,
    /// Only records of this provider.
    #[serde(default)]
    pub provider: Option<String>,
    /// The cost centre to report.
    pub cost_centre: String,
}

/// `[[entities]]`: records imported into a ledger whose billing account matches `account` and
/// whose cost centre (project / workspace / tag, as exported) matches `cost_centre` (wildcards
/// `*` and `?`, case-insensitive; each that is given must match) belong to the reporting
/// entity `entity`. A vendor carbon report's rows are matched on their account and, for
/// `cost_centre`, their sub-account (project).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityRuleFile {
    /// The reporting entity (subsidiary) the records belong to.
    pub entity: String,
    /// Pattern over the billing account (organisation, subscription, payer account ...).
    #[serde(default)]
    pub account: Option<String>,
    /// Pattern over the exported cost centre (project, workspace, tag).
    #[serde(default)]
    pub cost_centre: Option<String>,
    /// Only records of this provider.
    #[serde(default)]
    pub provider: Option<String>,
}

/// A compiled `[[entities]]` rule.
#[derive(Debug, Clone)]
pub struct EntityRule {
    account: Option<Glob>,
    cost_centre: Option<Glob>,
    provider: Option<String>,
    /// The reporting entity.
    pub entity: String,
}

/// The config file's `[[entities]]` rules, in order: the first that matches a record names
/// its reporting entity.
#[derive(Debug, Clone, Default)]
pub struct EntityRules(Vec<EntityRule>);

impl EntityRules {
    /// Compiles the rules as written; a rule naming neither an account nor a cost centre, or
    /// an empty entity, is refused.
    pub fn new(rules: &[EntityRuleFile]) -> Result<EntityRules> {
        rules
            .iter()
            .map(|r| {
                if r.entity.trim().is_empty() {
                    return Err(Error::Usage(
                        "config: an [[entities]] rule has an empty entity: name the reporting entity".into(),
                    ));
                }
                if r.account.is_none() && r.cost_centre.is_none() {
                    return Err(Error::Usage(format!(
                        "config: the [[entities]] rule for '{}' names no account or cost_centre to match",
                        r.entity
                    )));
                }
                Ok(EntityRule {
                    account: r.account.as_deref().map(Glob::new).transpose()?,
                    cost_centre: r.cost_centre.as_deref().map(Glob::new).transpose()?,
                    provider: r.provider.clone(),
                    entity: r.entity.trim().to_string(),
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(EntityRules)
    }

    /// The rules of a config file (`None`: ./llm-scope3.toml when it exists), without the rest
    /// of a report's configuration: for `import`, which needs no period.
    pub fn from_file(config: Option<&Path>) -> Result<EntityRules> {
        let (file, _) = load_file(config)?;
        EntityRules::new(&file.entities)
    }

    /// True when there is no rule.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entity of the first rule matching a provider, account and cost centre (a missing
    /// one matched as empty text, so that `*` matches it).
    pub fn entity_of(
        &self,
        provider: &str,
        account: Option<&str>,
        cost_centre: Option<&str>,
    ) -> Option<&str> {
        self.0
            .iter()
            .find(|r| {
                r.provider.as_deref().is_none_or(|p| p == provider)
                    && r.account
                        .as_ref()
                        .is_none_or(|g| g.matches(account.unwrap_or("")))
                    && r.cost_centre
                        .as_ref()
                        .is_none_or(|g| g.matches(cost_centre.unwrap_or("")))
            })
            .map(|r| r.entity.as_str())
    }
}

/// Which records a report from a ledger covers (`report --entity NAME`, `report --group`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    /// Every record, as before entities existed: the group's report when the ledger holds
    /// entities.
    #[default]
    All,
    /// The group, consolidated (`--group`): every record, with the Entities sheet.
    Group,
    /// One reporting entity's records (`--entity NAME` with a ledger that holds entities).
    Entity(String),
}

/// `[[exclude]]`: usage left out of the totals, listed with its reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExclusionRule {
    /// Pattern over the exported cost centre.
    #[serde(default)]
    pub cost_centre: Option<String>,
    /// Provider key.
    #[serde(default)]
    pub provider: Option<String>,
    /// Pattern over the model id.
    #[serde(default)]
    pub model: Option<String>,
    /// Why (shown in the report).
    pub reason: String,
}

/// `[factors]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactorsSection {
    /// Embedded version or folder.
    pub version: Option<String>,
    /// A folder of CSV files in the factor-set layout whose rows replace or add to the set's.
    pub overrides: Option<PathBuf>,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone)]
pub struct Glob(Regex);

impl Glob {
    /// `*` any run, `?` one character, the rest literal, case-insensitive.
    pub fn new(pattern: &str) -> Result<Glob> {
        let mut re = String::from("(?i)^");
        for c in pattern.chars() {
            match c {
                '*' => re.push_str(".*"),
                '?' => re.push('.'),
                c => re.push_str(&regex::escape(&c.to_string())),
            }
        }
        re.push('$');
        Regex::new(&re)
            .map(Glob)
            .map_err(|e| Error::Usage(format!("pattern '{pattern}': {e}")))
    }

    /// True when `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

/// A compiled exclusion.
#[derive(Debug, Clone)]
pub struct Exclusion {
    cost_centre: Option<Glob>,
    provider: Option<String>,
    model: Option<Glob>,
    /// Why.
    pub reason: String,
    /// Its position among the config file's exclusions.
    pub index: usize,
}

/// Everything a pipeline run needs to know, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// The reporting period.
    pub period: Period,
    /// Templates known to the run (built-in + `--template`).
    pub templates: TemplateSet,
    /// The factor set.
    pub factors: FactorSet,
    /// "Generated at" of the outputs.
    pub generated_at: DateTime<Utc>,
    /// True when `generated_at` was fixed by `--as-of` (reproducible output).
    pub as_of_fixed: bool,
    /// Reporting entity for the Cover.
    pub entity: String,
    /// Reporting currency.
    pub currency: String,
    /// First month of the fiscal year (1-12).
    pub fiscal_year_start_month: u32,
    /// Base year, when reported.
    pub base_year: Option<i32>,
    /// The config file used, if any.
    pub config_file: Option<String>,
    /// What the config file set, for the report to show (counts filled in by the pipeline).
    pub settings: ConfigReport,
    /// Default region per provider.
    pub regions: BTreeMap<String, String>,
    /// Cost-centre mapping.
    pub cost_centres: Vec<(Glob, Option<String>, String)>,
    /// Reporting entities by account or cost centre (`[[entities]]`), applied on import.
    pub entity_rules: EntityRules,
    /// Which records a report from a ledger covers (set by the command: `--entity`,
    /// `--group`).
    pub scope: Scope,
    /// Exclusions.
    pub exclusions: Vec<Exclusion>,
    /// Most distinct AI Services lines per report (`--max-lines`, `[limits] max_lines`).
    pub max_lines: usize,
    /// Whether reading big files shows a progress bar (the command line sets it; hidden by
    /// default).
    pub progress: crate::ingest::Progress,
    /// What-if scenarios (`[levers] what_if`, then `report --what-if`), as written and read.
    pub what_if: Vec<(String, crate::aggregate::what_if::Lever)>,
    /// `[boundary] include_training`: the central training share is added to the reported
    /// figure (labelled); default false.
    pub include_training: bool,
}

/// The reporting period asked for, in the words of the command line or the page: a quarter
/// (`2026Q1`), a year (`2026`), or a first and last day. Exactly one of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodRequest {
    /// Quarter, e.g. `2026Q1`.
    pub quarter: Option<String>,
    /// Year, e.g. `2026`.
    pub year: Option<String>,
    /// First day, `YYYY-MM-DD` (with `to`).
    pub from: Option<String>,
    /// Last day, inclusive (with `from`).
    pub to: Option<String>,
}

impl PeriodRequest {
    /// A quarter, e.g. `2026Q1`.
    pub fn quarter(q: &str) -> Self {
        PeriodRequest {
            quarter: Some(q.to_string()),
            ..PeriodRequest::default()
        }
    }

    /// From a first to a last day, `YYYY-MM-DD`.
    pub fn range(from: &str, to: &str) -> Self {
        PeriodRequest {
            from: Some(from.to_string()),
            to: Some(to.to_string()),
            ..PeriodRequest::default()
        }
    }
}

/// How exports are to be read, as asked: extra templates, the factor set, the configuration
/// file, the line limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadRequest {
    /// Extra import templates (TOML files).
    pub templates: Vec<PathBuf>,
    /// Factor set: an embedded version or a folder; `None` for the configuration's or newest.
    pub factors: Option<String>,
    /// Configuration file; `None` for ./llm-scope3.toml when it exists.
    pub config: Option<PathBuf>,
    /// Most distinct AI Services lines; `None` for the configuration's or the default.
    pub max_lines: Option<usize>,
}

impl Config {
    /// Builds the configuration of a run.
    pub fn new(
        period: &PeriodRequest,
        read: &ReadRequest,
        as_of: Option<&str>,
        entity: Option<&str>,
    ) -> Result<Config> {
        let (file, file_name) = load_file(read.config.as_deref())?;
        let fiscal = file.entity.fiscal_year_start_month.unwrap_or(1);
        if !(1..=12).contains(&fiscal) {
            return Err(Error::Usage(format!(
                "config: fiscal_year_start_month must be 1 to 12, not {fiscal}"
            )));
        }
        if let Some(c) = &file.entity.currency {
            if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
                return Err(Error::Usage(format!(
                    "config: currency must be a three-letter ISO 4217 code such as EUR, not '{c}'"
                )));
            }
        }
        let period = period_from(period, fiscal)?;
        check_entity_figures(&file.entity)?;
        let (generated_at, as_of_fixed) = match as_of {
            Some(d) => {
                let date = NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                    Error::Usage(format!("--as-of '{d}' is not a date such as 2026-04-15"))
                })?;
                (date.and_time(chrono::NaiveTime::MIN).and_utc(), true)
            }
            None => (Utc::now(), false),
        };
        let max_lines = read
            .max_lines
            .or(file.limits.max_lines)
            .unwrap_or(crate::model::DEFAULT_MAX_LINES);
        if max_lines == 0 {
            return Err(Error::Usage(
                "--max-lines (or max_lines under [limits]) must be at least 1".into(),
            ));
        }
        let version = read.factors.as_deref().or(file.factors.version.as_deref());
        let mut factors = FactorSet::load(version)?;
        if let Some(dir) = &file.factors.overrides {
            factors = factors.with_overrides(&resolve(&file_name, dir))?;
        }
        let cost_centres = file
            .cost_centres
            .iter()
            .map(|r| {
                Ok((
                    Glob::new(&r.pattern)?,
                    r.provider.clone(),
                    r.cost_centre.clone(),
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let entity_rules = EntityRules::new(&file.entities)?;
        let exclusions = file
            .exclude
            .iter()
            .enumerate()
            .map(|(index, r)| {
                if r.cost_centre.is_none() && r.provider.is_none() && r.model.is_none() {
                    return Err(Error::Usage(format!(
                        "config: the exclusion '{}' names no cost_centre, provider or model",
                        r.reason
                    )));
                }
                Ok(Exclusion {
                    cost_centre: r.cost_centre.as_deref().map(Glob::new).transpose()?,
                    provider: r.provider.clone(),
                    model: r.model.as_deref().map(Glob::new).transpose()?,
                    reason: r.reason.clone(),
                    index,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let what_if = file
            .levers
            .what_if
            .iter()
            .map(|spec| {
                crate::aggregate::what_if::Lever::parse(spec)
                    .map(|l| (spec.clone(), l))
                    .map_err(|e| Error::Usage(format!("config: [levers] {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let settings = ConfigReport::of_file(
            &file,
            file_name.as_deref(),
            entity.is_some_and(|e| Some(e) != file.entity.name.as_deref()),
            read.factors.is_some(),
            &factors.overridden,
        );
        Ok(Config {
            settings,
            period,
            templates: templates_from(read)?,
            factors,
            generated_at,
            as_of_fixed,
            entity: entity
                .map(str::to_string)
                .or(file.entity.name.clone())
                .unwrap_or_else(|| {
                    "(reporting entity not set: use --entity or the config file)".into()
                }),
            currency: file
                .entity
                .currency
                .clone()
                .unwrap_or_else(|| "USD".into())
                .to_uppercase(),
            fiscal_year_start_month: fiscal,
            base_year: file.entity.base_year,
            config_file: file_name.map(|p| p.display().to_string()),
            regions: file.regions.clone(),
            cost_centres,
            entity_rules,
            scope: Scope::All,
            exclusions,
            max_lines,
            progress: crate::ingest::Progress::Hidden,
            what_if,
            include_training: file.boundary.include_training.unwrap_or(false),
        })
    }

    /// Applies the company's settings to a record: default region, cost-centre mapping.
    /// Returns the exclusion that leaves it out, if one does (matched on the cost centre as
    /// exported; an excluded record still gets the default region, so that the estimate of
    /// what was excluded uses the same grid as the rest). `applied` counts what each setting
    /// did to the records kept.
    pub fn apply(&self, r: &mut UsageRecord, applied: &mut Applied) -> Option<&Exclusion> {
        let excluded = self.exclusions.iter().find(|e| {
            e.provider.as_deref().is_none_or(|p| p == &*r.provider)
                && e.model.as_ref().is_none_or(|g| g.matches(&r.model))
                && e.cost_centre
                    .as_ref()
                    .is_none_or(|g| g.matches(r.cost_centre.as_deref().unwrap_or("")))
        });
        if r.region.is_none() {
            if let Some(region) = self.regions.get(&*r.provider) {
                r.region = Some(region.clone());
                if excluded.is_none() {
                    *applied.regions.entry(r.provider.to_string()).or_insert(0) += 1;
                }
            }
        }
        if let Some(e) = excluded {
            return Some(e);
        }
        if let Some(i) = self.cost_centres.iter().position(|(g, provider, _)| {
            provider.as_deref().is_none_or(|p| p == &*r.provider)
                && g.matches(r.cost_centre.as_deref().unwrap_or(""))
        }) {
            r.cost_centre = Some(self.cost_centres[i].2.clone());
            if applied.cost_centres.len() <= i {
                applied.cost_centres.resize(i + 1, 0);
            }
            applied.cost_centres[i] += 1;
        }
        None
    }
}

/// What applying the configuration did to the records of a run, counted per setting.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// Records kept that got the provider's default region, per provider.
    pub regions: BTreeMap<String, u64>,
    /// Records whose cost centre a rule set, per rule (in the file's order).
    pub cost_centres: Vec<u64>,
}

/// What the configuration file set and what it changed in a report: shown on the terminal,
/// on the Cover and in the JSON summary, so that a figure never silently depends on a file.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ConfigReport {
    /// The config file read, as named; `None` when none was named and there is no
    /// `./llm-scope3.toml`.
    pub file: Option<String>,
    /// Reporting entity set by the file (`--entity` wins over it).
    pub entity: Option<String>,
    /// True when `--entity` (or the upload page's entity) replaced the file's with another.
    pub entity_overridden: bool,
    /// Reporting currency set by the file (spend is also shown in it, see
    /// [`crate::aggregate::currency`]).
    pub currency: Option<String>,
    /// First month of the fiscal year, when the file sets it.
    pub fiscal_year_start_month: Option<u32>,
    /// Base year, when the file sets it (recorded only).
    pub base_year: Option<i32>,
    /// Annual net revenue and its currency, when the file sets it (management metrics only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_revenue: Option<Revenue>,
    /// Employees, when the file sets it (management metrics only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employees: Option<f64>,
    /// Factor set named by the file.
    pub factor_version: Option<String>,
    /// True when `--factors` replaced the file's factor set.
    pub factor_version_overridden: bool,
    /// Factor overrides: the folder and the rows replaced or added (`file:id`).
    pub factor_overrides: Option<FactorOverridesReport>,
    /// Default region per provider, with the records that got it.
    pub regions: Vec<RegionReport>,
    /// Cost-centre rules in order, with the records each one mapped.
    pub cost_centres: Vec<CostCentreReport>,
    /// Reporting-entity rules in order (`[[entities]]`; applied when files are imported into
    /// a ledger). Absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<EntityRuleReport>,
    /// Exclusions in order, with what each one left out.
    pub exclusions: Vec<ExclusionReport>,
    /// `[boundary] include_training`, when the file sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_training: Option<bool>,
}

/// `[entity] net_revenue` with its currency, as used.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Revenue {
    /// Annual net revenue.
    pub amount: f64,
    /// Its currency (ISO 4217, upper case): `revenue_currency`, else `currency`.
    pub currency: String,
}

/// `[factors] overrides` as used.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FactorOverridesReport {
    /// The folder as written in the config file.
    pub folder: String,
    /// Rows replaced or added, as `file:id`.
    pub rows: Vec<String>,
}

/// One `[regions]` entry.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RegionReport {
    /// Provider key.
    pub provider: String,
    /// Region code or `country:ISO3`.
    pub region: String,
    /// Records (kept in the report) that had no region and got this one.
    pub records: u64,
}

/// One `[[cost_centres]]` rule.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CostCentreReport {
    /// The pattern over the exported cost centre.
    #[serde(rename = "match")]
    pub pattern: String,
    /// Only records of this provider.
    pub provider: Option<String>,
    /// The cost centre reported.
    pub cost_centre: String,
    /// Records this rule mapped (the first matching rule wins).
    pub records: u64,
}

/// One `[[entities]]` rule.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct EntityRuleReport {
    /// The reporting entity.
    pub entity: String,
    /// Pattern over the billing account.
    pub account: Option<String>,
    /// Pattern over the exported cost centre.
    pub cost_centre: Option<String>,
    /// Only records of this provider.
    pub provider: Option<String>,
}

/// One `[[exclude]]` rule and what it left out.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ExclusionReport {
    /// Pattern over the exported cost centre.
    pub cost_centre: Option<String>,
    /// Provider key.
    pub provider: Option<String>,
    /// Pattern over the model id.
    pub model: Option<String>,
    /// Why.
    pub reason: String,
    /// Records left out.
    pub rows: u64,
    /// What the records left out would have added, kgCO2e (low, central, high).
    pub emissions_kgco2e: crate::model::Bounds,
}

impl ConfigReport {
    /// What `file` sets (no counts yet).
    fn of_file(
        file: &ConfigFile,
        name: Option<&Path>,
        entity_differs: bool,
        factors_given: bool,
        overridden: &[String],
    ) -> ConfigReport {
        ConfigReport {
            file: name.map(|p| p.display().to_string()),
            entity: file.entity.name.clone(),
            entity_overridden: entity_differs && file.entity.name.is_some(),
            currency: file.entity.currency.as_ref().map(|c| c.to_uppercase()),
            fiscal_year_start_month: file.entity.fiscal_year_start_month,
            base_year: file.entity.base_year,
            net_revenue: file.entity.net_revenue.map(|amount| Revenue {
                amount,
                currency: file
                    .entity
                    .revenue_currency
                    .as_ref()
                    .or(file.entity.currency.as_ref())
                    .map(|c| c.to_uppercase())
                    .unwrap_or_default(),
            }),
            employees: file.entity.employees,
            factor_version: file.factors.version.clone(),
            factor_version_overridden: factors_given && file.factors.version.is_some(),
            factor_overrides: file
                .factors
                .overrides
                .as_ref()
                .map(|f| FactorOverridesReport {
                    folder: f.display().to_string(),
                    rows: overridden.to_vec(),
                }),
            regions: file
                .regions
                .iter()
                .map(|(provider, region)| RegionReport {
                    provider: provider.clone(),
                    region: region.clone(),
                    records: 0,
                })
                .collect(),
            cost_centres: file
                .cost_centres
                .iter()
                .map(|r| CostCentreReport {
                    pattern: r.pattern.clone(),
                    provider: r.provider.clone(),
                    cost_centre: r.cost_centre.clone(),
                    records: 0,
                })
                .collect(),
            entities: file
                .entities
                .iter()
                .map(|r| EntityRuleReport {
                    entity: r.entity.clone(),
                    account: r.account.clone(),
                    cost_centre: r.cost_centre.clone(),
                    provider: r.provider.clone(),
                })
                .collect(),
            exclusions: file
                .exclude
                .iter()
                .map(|r| ExclusionReport {
                    cost_centre: r.cost_centre.clone(),
                    provider: r.provider.clone(),
                    model: r.model.clone(),
                    reason: r.reason.clone(),
                    rows: 0,
                    emissions_kgco2e: crate::model::Bounds::default(),
                })
                .collect(),
            include_training: file.boundary.include_training,
        }
    }

    /// The report of a run: the settings with the counts of `applied` and, per exclusion,
    /// the rows and emissions left out.
    pub fn with_counts(
        &self,
        applied: &Applied,
        excluded: &[(u64, crate::model::Bounds)],
    ) -> ConfigReport {
        let mut out = self.clone();
        for r in &mut out.regions {
            r.records = applied.regions.get(&r.provider).copied().unwrap_or(0);
        }
        for (i, c) in out.cost_centres.iter_mut().enumerate() {
            c.records = applied.cost_centres.get(i).copied().unwrap_or(0);
        }
        for (i, e) in out.exclusions.iter_mut().enumerate() {
            if let Some((rows, kg)) = excluded.get(i) {
                e.rows = *rows;
                e.emissions_kgco2e = *kg;
            }
        }
        out
    }

    /// True when the file sets nothing (no file, or every setting commented out).
    pub fn sets_nothing(&self) -> bool {
        self.entity.is_none()
            && self.currency.is_none()
            && self.fiscal_year_start_month.is_none()
            && self.base_year.is_none()
            && self.net_revenue.is_none()
            && self.employees.is_none()
            && self.factor_version.is_none()
            && self.factor_overrides.is_none()
            && self.regions.is_empty()
            && self.cost_centres.is_empty()
            && self.entities.is_empty()
            && self.exclusions.is_empty()
            && self.include_training.is_none()
    }
}

/// Net revenue and employees, when set, are positive numbers; net revenue has a currency.
fn check_entity_figures(e: &EntitySection) -> Result<()> {
    for (name, v) in [("net_revenue", e.net_revenue), ("employees", e.employees)] {
        if let Some(v) = v {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::Usage(format!(
                    "config: {name} under [entity] must be a number above 0, not {v}"
                )));
            }
        }
    }
    if e.revenue_currency.is_some() && e.net_revenue.is_none() {
        return Err(Error::Usage(
            "config: revenue_currency under [entity] is the currency of net_revenue: set net_revenue too".into(),
        ));
    }
    if e.net_revenue.is_some() && e.revenue_currency.is_none() && e.currency.is_none() {
        return Err(Error::Usage(
            "config: net_revenue under [entity] needs its currency: set revenue_currency (or currency)".into(),
        ));
    }
    Ok(())
}

/// A path in the config file is relative to the config file's folder.
fn resolve(config: &Option<PathBuf>, p: &Path) -> PathBuf {
    match config.as_ref().and_then(|c| c.parent()) {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p.to_path_buf(),
    }
}

fn load_file(explicit: Option<&Path>) -> Result<(ConfigFile, Option<PathBuf>)> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = PathBuf::from(DEFAULT_CONFIG);
            if !p.is_file() {
                return Ok((ConfigFile::default(), None));
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Usage(format!("config {}: cannot read it: {e}", path.display())))?;
    let file: ConfigFile = toml::from_str(&text)
        .map_err(|e| Error::Usage(format!("config {}: {e}", path.display())))?;
    Ok((file, Some(path)))
}

/// The period a command names with `--quarter`, `--year` or `--from/--to`, its quarters and
/// years following the configuration file's fiscal year start (`config`, else
/// ./llm-scope3.toml when it exists), as `report` reads them; `None` when none is named.
pub fn period_named(p: &PeriodRequest, config: Option<&Path>) -> Result<Option<Period>> {
    if p.quarter.is_none() && p.year.is_none() && p.from.is_none() && p.to.is_none() {
        return Ok(None);
    }
    let fiscal = match (&p.quarter, &p.year) {
        (None, None) => 1,
        _ => load_file(config)?
            .0
            .entity
            .fiscal_year_start_month
            .unwrap_or(1),
    };
    if !(1..=12).contains(&fiscal) {
        return Err(Error::Usage(format!(
            "config: fiscal_year_start_month must be 1 to 12, not {fiscal}"
        )));
    }
    period_from(p, fiscal).map(Some)
}

/// The period named by `--quarter`, `--year` or `--from/--to`; quarters and years follow the
/// fiscal year start (`2026Q1` and `2026` name the fiscal year that starts in 2026).
pub fn period_from(p: &PeriodRequest, fiscal_start_month: u32) -> Result<Period> {
    let period = match (&p.quarter, &p.year, &p.from, &p.to) {
        (Some(q), None, None, None) => Period::quarter(q).map(|q| q.shifted(fiscal_start_month)),
        (None, Some(y), None, None) => Period::year(y).map(|y| y.shifted(fiscal_start_month)),
        (None, None, Some(f), Some(t)) => Period::range(f, t),
        _ => {
            return Err(Error::Usage(
                "name the reporting period: --quarter 2026Q1, --year 2026, or --from 2026-01-01 --to 2026-03-31"
                    .into(),
            ))
        }
    };
    period.map_err(|e| Error::Usage(e.to_string()))
}

/// Built-in templates plus the user's `--template` files.
pub fn templates_from(read: &ReadRequest) -> Result<TemplateSet> {
    let mut set = TemplateSet::builtin()?;
    for path in &read.templates {
        set.add(Template::from_file(path)?)?;
    }
    Ok(set)
}

/// The commented example `llm-scope3 init` writes.
pub const EXAMPLE: &str = include_str!("../docs/llm-scope3.example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_a_file_manager() {
        let g = Glob::new("proj_test*").unwrap();
        assert!(g.matches("proj_TEST_1"));
        assert!(!g.matches("prod_proj_test"));
        assert!(Glob::new("*").unwrap().matches(""));
        assert!(Glob::new("a?c").unwrap().matches("abc"));
        assert!(Glob::new("a.c").unwrap().matches("a.c"));
        assert!(!Glob::new("a.c").unwrap().matches("abc"));
    }

    #[test]
    fn entity_rules_match_account_and_cost_centre_first_rule_wins() {
        let file: ConfigFile = toml::from_str(
            "[[entities]]\nentity = \"FR\"\naccount = \"org-fr*\"\n\n\
             [[entities]]\nentity = \"DE\"\ncost_centre = \"proj_de_*\"\nprovider = \"openai\"\n\n\
             [[entities]]\nentity = \"HQ\"\naccount = \"*\"\n",
        )
        .unwrap();
        let rules = EntityRules::new(&file.entities).unwrap();
        assert_eq!(
            rules.entity_of("openai", Some("ORG-FR-1"), Some("proj_de_x")),
            Some("FR")
        );
        assert_eq!(
            rules.entity_of("openai", None, Some("proj_de_x")),
            Some("DE")
        );
        assert_eq!(
            rules.entity_of("anthropic", None, Some("proj_de_x")),
            Some("HQ")
        );
        assert_eq!(rules.entity_of("openai", None, None), Some("HQ"));
        let none: ConfigFile =
            toml::from_str("[[entities]]\nentity = \"FR\"\nprovider = \"openai\"\n").unwrap();
        let e = EntityRules::new(&none.entities).unwrap_err().to_string();
        assert!(e.contains("names no account or cost_centre"), "{e}");
    }

    #[test]
    fn the_example_config_sets_nothing_until_uncommented() {
        // As `init` writes it, every setting is commented out.
        let file: ConfigFile = toml::from_str(EXAMPLE).unwrap();
        let report = ConfigReport::of_file(&file, None, false, false, &[]);
        assert!(report.sets_nothing(), "{report:?}");
        // With every `#key = value` and `#[section]` line uncommented, it is a valid file
        // that sets every option.
        let live: String = EXAMPLE
            .lines()
            .map(|l| match l.strip_prefix('#') {
                Some(rest) if !rest.is_empty() && !rest.starts_with([' ', '#']) => rest,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let file: ConfigFile = toml::from_str(&live).unwrap();
        assert_eq!(file.entity.name.as_deref(), Some("Acme Europe GmbH"));
        assert_eq!(file.entity.currency.as_deref(), Some("EUR"));
        assert_eq!(file.entity.fiscal_year_start_month, Some(4));
        assert_eq!(file.entity.base_year, Some(2024));
        assert_eq!(file.regions.len(), 3);
        assert_eq!(file.cost_centres.len(), 3);
        assert_eq!(file.entities.len(), 2);
        assert!(EntityRules::new(&file.entities).is_ok());
        assert_eq!(file.exclude.len(), 1);
        assert_eq!(file.factors.version.as_deref(), Some("2026.3"));
        assert!(file.factors.overrides.is_some());
        assert_eq!(file.boundary.include_training, Some(true));
    }
}
