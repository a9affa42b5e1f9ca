//! Factor sets: the versioned, cited data behind every estimate, and the lookups on it.
//!
//! A factor set is a folder of CSV files (src/factors/data/<version>/, embedded in the binary,
//! or a user folder in the same layout): sources, models, aliases, size classes, grid factors,
//! providers and constants, and optionally prices, exchange rates and deflators. Their columns
//! and rules are defined once, in `schema.toml` ([`schema`]). This module loads a set (refusing
//! it when it breaks a rule of the schema, the same rules `factors check` lists), computes its
//! SHA-256, and resolves a record's model, provider and region to the factors to use, with the
//! fallback steps of METHODOLOGY.md. It does no estimation arithmetic (that is `estimate`).

pub mod check;
pub mod energy;
pub mod resolve;
pub mod schema;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::model::Bounds;
use schema::Problem;

/// A factor set that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    /// The requested version is neither embedded nor a folder.
    #[error("factor set '{0}' is neither an embedded version ({1}) nor a folder")]
    UnknownVersion(String, String),
    /// A file is missing or unreadable.
    #[error("factor set {set}: cannot read {file}: {reason}")]
    Io {
        /// The set.
        set: String,
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The set breaks rules of the schema (`src/factors/schema.toml`): every problem, as
    /// `factors check` lists them.
    #[error("factor set {set}: {}", describe(.problems))]
    Problems {
        /// The set.
        set: String,
        /// Every problem, sorted.
        problems: Vec<Problem>,
    },
    /// A file cannot be used (an override file that does not fit the set).
    #[error("factor set {set}: {file} row {row}: {reason}")]
    Invalid {
        /// The set.
        set: String,
        /// The file.
        file: String,
        /// 1-based row (header = 1).
        row: usize,
        /// What is wrong.
        reason: String,
    },
}

/// The first problem, and how many more (all are listed by `llm-scope3 factors check`).
fn describe(problems: &[Problem]) -> String {
    match problems {
        [] => "invalid".into(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!(
            "{first} (and {} more problem(s); `llm-scope3 factors check` lists them all)",
            rest.len()
        ),
    }
}

/// A cited source.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct Source {
    /// Short id used by factor rows.
    pub id: String,
    /// Who published it.
    pub publisher: String,
    /// Title.
    pub title: String,
    /// Publication year (may be empty).
    #[serde(default)]
    pub year: String,
    /// Where to find it.
    #[serde(default)]
    pub url: String,
    /// Licence of the data.
    #[serde(default)]
    pub licence: String,
    /// Remarks.
    #[serde(default)]
    pub notes: String,
}

/// Parameter estimates of one model.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelRow {
    /// Canonical key (`gpt-4o`).
    pub model_key: String,
    /// Provider (`openai`).
    pub provider: String,
    /// `llm` or `embedding`.
    pub kind: String,
    /// `dense` or `moe`.
    pub architecture: String,
    /// Total parameters, billions (min).
    pub total_params_b_min: f64,
    /// Total parameters, billions (max).
    pub total_params_b_max: f64,
    /// Active parameters, billions (min).
    pub active_params_b_min: f64,
    /// Active parameters, billions (max).
    pub active_params_b_max: f64,
    /// Source ids (`;`-separated).
    pub source_id: String,
    /// Remarks.
    #[serde(default)]
    pub notes: String,
}

/// A model alias (dated snapshot or vendor spelling).
#[derive(Debug, Clone, Deserialize)]
pub struct AliasRow {
    /// The alias, lower case.
    pub alias: String,
    /// The model it stands for.
    pub model_key: String,
    /// Source ids.
    pub source_id: String,
    /// Remarks.
    #[serde(default)]
    pub notes: String,
}

/// A size class for models the set does not know.
#[derive(Debug, Clone, Deserialize)]
pub struct ClassRow {
    /// Class name (`mini`).
    pub class: String,
    /// `|`-separated lower-case substrings of model names; empty = default class.
    #[serde(rename = "match", default)]
    pub matches: String,
    /// `llm` or `embedding`.
    pub kind: String,
    /// `dense` or `moe`.
    pub architecture: String,
    /// Total parameters, billions (min).
    pub total_params_b_min: f64,
    /// Total parameters, billions (max).
    pub total_params_b_max: f64,
    /// Active parameters, billions (min).
    pub active_params_b_min: f64,
    /// Active parameters, billions (max).
    pub active_params_b_max: f64,
    /// Lower is tried first.
    pub priority: i64,
    /// Source ids.
    pub source_id: String,
    /// Remarks.
    #[serde(default)]
    pub notes: String,
}

/// A grid emission factor for one geography and year.
#[derive(Debug, Clone, Deserialize)]
pub struct GridRow {
    /// `aws:us-east-1`, `country:USA`, `egrid:SRVC`, `agg:WORLD`.
    pub geo_id: String,
    /// `cloud_region`, `country`, `us_subregion` or `aggregate`.
    pub scope: String,
    /// Cloud of a cloud region.
    #[serde(default)]
    pub cloud: String,
    /// Region code of a cloud region.
    #[serde(default)]
    pub region: String,
    /// Human name.
    #[serde(default)]
    pub name: String,
    /// ISO 3166 alpha-3 country.
    #[serde(default)]
    pub country_iso3: String,
    /// Next level up (`country:USA`, `agg:NAM`, `agg:WORLD`).
    #[serde(default)]
    pub parent: String,
    /// Data year.
    pub year: i32,
    /// gCO2e/kWh central.
    pub central: f64,
    /// gCO2e/kWh low.
    pub low: f64,
    /// gCO2e/kWh high.
    pub high: f64,
    /// `lifecycle`, `direct`, ...
    #[serde(default)]
    pub basis: String,
    /// Off-site water of electricity, L/kWh.
    #[serde(default)]
    pub offsite_water_l_per_kwh: Option<f64>,
    /// Region-specific PUE published by the operator.
    #[serde(default)]
    pub pue: Option<f64>,
    /// Region-specific on-site WUE, L/kWh IT.
    #[serde(default)]
    pub wue: Option<f64>,
    /// Carbon-free energy share (Google).
    #[serde(default)]
    pub cfe_share: Option<f64>,
    /// Source ids.
    pub source_id: String,
    /// Remarks.
    #[serde(default)]
    pub notes: String,
}

/// Data-centre facts of one provider.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderRow {
    /// Provider key as templates name it.
    pub provider: String,
    /// Who runs the data centres (`azure`, `aws`, `gcp`, `aws+gcp`, ...).
    pub operator: String,
    /// PUE low.
    pub pue_low: f64,
    /// PUE central.
    pub pue_central: f64,
    /// PUE high.
    pub pue_high: f64,
    /// On-site WUE low, L/kWh IT.
    pub wue_low: f64,
    /// On-site WUE central.
    pub wue_central: f64,
    /// On-site WUE high.
    pub wue_high: f64,
    /// Geography used when a record has no region.
    pub default_geo: String,
    /// Source ids.
    pub source_id: String,
    /// Remarks.
    #[serde(default)]
    pub notes: String,
}

/// A constant of the method (cache discount, embodied adder, utilisations ...).
#[derive(Debug, Clone, Deserialize)]
pub struct ConstantRow {
    /// Id (`k_cache`).
    pub id: String,
    /// Kind (`embodied`, `utilisation`, ...).
    pub kind: String,
    /// Value used for the low result.
    pub low: f64,
    /// Value used for the central result.
    pub central: f64,
    /// Value used for the high result.
    pub high: f64,
    /// Unit.
    pub unit: String,
    /// Source ids.
    pub source_id: String,
    /// Remarks.
    #[serde(default)]
    pub notes: String,
}

impl ConstantRow {
    /// The three values.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            low: self.low,
            central: self.central,
            high: self.high,
        }
    }
}

/// A model's serving speed (latency.csv): EcoLogits' own per-model figures.
#[derive(Debug, Clone, Deserialize)]
pub struct LatencyRow {
    /// The model.
    pub model_key: String,
    /// Output tokens per second while generating.
    pub tps: f64,
    /// Time to the first token, seconds, per request.
    #[serde(default)]
    pub ttft_s: Option<f64>,
    /// Source ids.
    pub source_id: String,
    /// Remarks.
    #[serde(default)]
    pub notes: String,
}

/// The training emissions of a model family and the tokens it serves over its life
/// (training.csv, factor set 2026.3 on): the amortised training share (METHODOLOGY, "Training
/// share").
#[derive(Debug, Clone, Deserialize)]
pub struct TrainingRow {
    /// Family (`llama-3.1-405b`, `class:frontier-closed`).
    pub family: String,
    /// `;`-separated model keys the row is for (empty for class and evidence rows).
    #[serde(default)]
    pub model_keys: String,
    /// Class rows: `|`-separated lower-case prefixes of the model keys they cover.
    #[serde(default)]
    pub class_prefixes: String,
    /// Class rows: total parameters (billions) above which they apply.
    #[serde(default)]
    pub class_params_b_above: Option<f64>,
    /// Class rows: total parameters (billions) up to which they apply.
    #[serde(default)]
    pub class_params_b_max: Option<f64>,
    /// Training emissions, tCO2e, low.
    pub training_tco2e_low: f64,
    /// Central.
    pub training_tco2e_central: f64,
    /// High.
    pub training_tco2e_high: f64,
    /// `location` or `market`: the basis of the three figures.
    pub basis: String,
    /// The market-based figure, where published.
    #[serde(default)]
    pub market_tco2e: Option<f64>,
    /// Lifetime tokens (input + output, all hosts), low: an assumption.
    pub lifetime_tokens_low: f64,
    /// Central.
    pub lifetime_tokens_central: f64,
    /// High.
    pub lifetime_tokens_high: f64,
    /// How the training figure was obtained (`published`, `class-assumption`, ...).
    pub flag: String,
    /// Source ids.
    pub source_id: String,
    /// Remarks.
    #[serde(default)]
    pub notes: String,
}

impl TrainingRow {
    /// The training emissions, tCO2e.
    pub fn training_tco2e(&self) -> Bounds {
        Bounds {
            low: self.training_tco2e_low,
            central: self.training_tco2e_central,
            high: self.training_tco2e_high,
        }
    }

    /// The lifetime tokens.
    pub fn lifetime_tokens(&self) -> Bounds {
        Bounds {
            low: self.lifetime_tokens_low,
            central: self.lifetime_tokens_central,
            high: self.lifetime_tokens_high,
        }
    }

    /// True for a class row (by key prefix or by total parameters).
    pub fn is_class(&self) -> bool {
        !self.class_prefixes.trim().is_empty()
            || self.class_params_b_above.is_some()
            || self.class_params_b_max.is_some()
    }

    /// True when the row names `key` (lower case) in `model_keys`.
    pub fn names(&self, key: &str) -> bool {
        self.model_keys
            .split(';')
            .any(|k| k.trim().eq_ignore_ascii_case(key))
    }

    /// True when a class row covers the spelling `name` (lower case) by one of its prefixes.
    pub fn covers_prefix(&self, name: &str) -> bool {
        self.class_prefixes
            .split('|')
            .map(str::trim)
            .any(|p| !p.is_empty() && name.starts_with(p))
    }

    /// True when a class row by size covers a model of `total_params_b` (the total maximum).
    pub fn covers_size(&self, total_params_b: f64) -> bool {
        if !self.class_prefixes.trim().is_empty()
            || (self.class_params_b_above.is_none() && self.class_params_b_max.is_none())
        {
            return false;
        }
        self.class_params_b_above.is_none_or(|a| total_params_b > a)
            && self.class_params_b_max.is_none_or(|m| total_params_b <= m)
    }
}

/// A list price (prices.csv), per 1 million tokens.
#[derive(Debug, Clone, Deserialize)]
pub struct PriceRow {
    /// The model.
    pub model_key: String,
    /// Provider.
    pub provider: String,
    /// Currency of the prices.
    pub currency: String,
    /// Input tokens.
    pub input_per_mtok: f64,
    /// Cached input tokens.
    #[serde(default)]
    pub cached_input_per_mtok: Option<f64>,
    /// Output tokens (empty for embeddings).
    #[serde(default)]
    pub output_per_mtok: Option<f64>,
    /// Valid from.
    pub valid_from: String,
    /// Source ids.
    pub source_id: String,
    /// Remarks.
    #[serde(default)]
    pub notes: String,
}

/// An annual average exchange rate (fx.csv).
#[derive(Debug, Clone, Deserialize)]
pub struct FxRow {
    /// ISO currency.
    pub currency: String,
    /// Year.
    pub year: i32,
    /// USD per unit of the currency.
    pub usd_per_unit: f64,
    /// Source ids.
    pub source_id: String,
}

/// A price index (deflators.csv).
#[derive(Debug, Clone, Deserialize)]
pub struct DeflatorRow {
    /// Currency (USD).
    pub currency: String,
    /// Year.
    pub year: i32,
    /// Index value.
    pub index: f64,
    /// The index's base (text, e.g. 1982-84).
    #[serde(default)]
    pub base_year: String,
    /// Source ids.
    pub source_id: String,
}

/// How a raw model id was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelMatch {
    /// The id is a model key.
    Exact,
    /// Through the alias table.
    Alias,
    /// After removing a date or version suffix, prefix or fine-tune wrapper.
    Normalised,
    /// Not in the set: estimated as its nearest sibling (same family words and size, nearest
    /// version), named here. Resolution rules 2 (factor set 2026.2) only.
    Sibling(String),
    /// Unknown: estimated by size class.
    Class(String),
}

/// The model a record resolves to, with its parameters.
#[derive(Debug, Clone)]
pub struct ResolvedModel {
    /// Model key, or `class:<name>` for class fallbacks.
    pub key: String,
    /// How it was found.
    pub how: ModelMatch,
    /// `llm` or `embedding`.
    pub kind: String,
    /// Active parameters (min, max), billions.
    pub active: (f64, f64),
    /// Total parameters (min, max), billions.
    pub total: (f64, f64),
    /// Source ids of the parameter estimate.
    pub source_id: String,
    /// The spelling that was looked up last: the id as matched (a model key or alias), or the
    /// normalised id that a sibling or class was chosen for.
    pub spelling: String,
    /// The reasoning of each step taken, in order (shown by `factors show`).
    pub steps: Vec<String>,
}

/// How far the grid lookup had to fall back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GeoLevel {
    /// The exact cloud region.
    Region,
    /// The country (or US subregion) of the record.
    Country,
    /// No region on the record: the provider's default.
    ProviderDefault,
    /// A continent or other aggregate.
    Aggregate,
    /// The world average.
    World,
}

impl GeoLevel {
    /// GHG Protocol geographical representativeness score (1 very good .. 4 poor).
    pub fn dq_score(self) -> u8 {
        match self {
            GeoLevel::Region => 1,
            GeoLevel::Country => 2,
            GeoLevel::ProviderDefault | GeoLevel::Aggregate => 3,
            GeoLevel::World => 4,
        }
    }
}

/// The grid factor chosen for a record.
#[derive(Debug, Clone)]
pub struct GridChoice {
    /// The row used.
    pub row: GridRow,
    /// How far the lookup fell back.
    pub level: GeoLevel,
    /// Why it fell back, when it did.
    pub note: Option<String>,
}

/// A loaded, checked factor set.
#[derive(Debug, Clone)]
pub struct FactorSet {
    /// The files as loaded: (relative path, content).
    pub files: Vec<(String, String)>,
    /// Rows replaced or added by configuration overrides (`file:id`).
    pub overridden: Vec<String>,
    /// Version (folder name).
    pub version: String,
    /// `embedded` or the folder path.
    pub origin: String,
    /// SHA-256 over the set's files (see [`set_sha256`]).
    pub sha256: String,
    /// Sources by id.
    pub sources: BTreeMap<String, Source>,
    /// Models by key.
    pub models: BTreeMap<String, ModelRow>,
    /// Alias -> model key.
    pub aliases: BTreeMap<String, AliasRow>,
    /// Size classes, by priority.
    pub classes: Vec<ClassRow>,
    /// Grid rows by geo id (several years each).
    pub grid: BTreeMap<String, Vec<GridRow>>,
    /// Lower-case region code -> geo ids having it.
    region_index: HashMap<String, Vec<String>>,
    /// Providers by key.
    pub providers: BTreeMap<String, ProviderRow>,
    /// Constants by id.
    pub constants: BTreeMap<String, ConstantRow>,
    /// List prices by model key (optional file).
    pub prices: BTreeMap<String, PriceRow>,
    /// Serving speed by model key (optional file; none in 2026.1).
    pub latency: BTreeMap<String, LatencyRow>,
    /// Exchange rates by (currency, year) (optional file).
    pub fx: BTreeMap<(String, i32), FxRow>,
    /// Training emissions and lifetime tokens per model family, by family (optional file;
    /// factor set 2026.3 on).
    pub training: Vec<TrainingRow>,
    /// USD price index by year (optional file).
    pub deflators: BTreeMap<i32, DeflatorRow>,
    /// Model-resolution rules of the set: the `resolution_rules` constant (central), 1 when
    /// absent. Rules 1 (2026.1): alias, normalised forms, class by substring. Rules 2 (2026.2):
    /// vendor spellings normalised further, nearest sibling, class by whole name parts.
    pub resolution_rules: u32,
}

/// The versions embedded in the binary, newest last.
pub fn embedded_versions() -> Vec<&'static str> {
    let mut v: Vec<&str> = crate::embedded::FACTOR_SETS
        .iter()
        .map(|(v, _)| *v)
        .collect();
    v.sort();
    v
}

/// The version used when none is named: 2026.3 (2026.2's figures, every one unchanged, and the
/// training emissions of training.csv); 2026.1 and 2026.2 stay embedded and reproduce the
/// reports made with them.
pub const DEFAULT_VERSION: &str = "2026.3";

/// The default embedded version ([`DEFAULT_VERSION`], else the newest).
pub fn default_version() -> &'static str {
    let versions = embedded_versions();
    versions
        .iter()
        .find(|v| **v == DEFAULT_VERSION)
        .or(versions.last())
        .copied()
        .unwrap_or(DEFAULT_VERSION)
}

/// SHA-256 of a set: files sorted by relative path, each fed as `path\n` + content with line
/// endings normalised to LF.
pub fn set_sha256(files: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Sha256::new();
    for (path, content) in sorted {
        h.update(path.as_bytes());
        h.update(b"\n");
        h.update(content.replace("\r\n", "\n").as_bytes());
    }
    crate::ingest::hex(&h.finalize())
}

impl FactorSet {
    /// Loads `spec`: an embedded version, a folder, or (when `None`) the default embedded set
    /// ([`default_version`]).
    pub fn load(spec: Option<&str>) -> Result<FactorSet, FactorError> {
        let versions = embedded_versions();
        let wanted = match spec {
            Some(s) => s.to_string(),
            None => default_version().to_string(),
        };
        if let Some((version, files)) = crate::embedded::FACTOR_SETS
            .iter()
            .find(|(v, _)| *v == wanted)
        {
            let files: Vec<(String, String)> = files
                .iter()
                .map(|(p, c)| (p.to_string(), c.to_string()))
                .collect();
            return FactorSet::from_files(version, "embedded", &files);
        }
        let path = Path::new(&wanted);
        if path.is_dir() {
            return FactorSet::from_dir(path);
        }
        Err(FactorError::UnknownVersion(wanted, versions.join(", ")))
    }

    /// Loads a set from a folder in the embedded layout. The folder is read as `factors check`
    /// reads it: a sub-folder or an unreadable file is a problem of the set.
    pub fn from_dir(dir: &Path) -> Result<FactorSet, FactorError> {
        let raw = check::read_folder(dir)?;
        if !raw.unreadable.is_empty() {
            let mut problems = raw.unreadable;
            problems.extend(schema::check_files(&raw.files).problems);
            problems.sort();
            return Err(FactorError::Problems {
                set: raw.origin,
                problems,
            });
        }
        FactorSet::from_files(&raw.version, &raw.origin, &raw.files)
    }

    /// The set with a folder of override CSV files applied: rows of the same id replace the
    /// set's, new ids are added; the result is a new set (version `<version>+overrides`) with
    /// its own SHA-256, and `overridden` names every replaced or added row.
    pub fn with_overrides(&self, dir: &Path) -> Result<FactorSet, FactorError> {
        let base: Vec<(String, String)> = self.files.clone();
        let set = dir.display().to_string();
        let mut merged = base.clone();
        let mut overridden = vec![];
        let entries = std::fs::read_dir(dir).map_err(|e| FactorError::Io {
            set: set.clone(),
            file: ".".into(),
            reason: e.to_string(),
        })?;
        let mut names: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            // .DS_Store and the like are not override files.
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
            })
            .collect();
        names.sort();
        for path in names {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if check::key_columns(&name).is_empty() {
                return Err(FactorError::Invalid {
                    set: set.clone(),
                    file: name,
                    row: 0,
                    reason: format!(
                        "not a factor-set file (expected one of {})",
                        schema::schema()
                            .files
                            .iter()
                            .map(|f| f.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            let text = std::fs::read_to_string(&path).map_err(|e| FactorError::Io {
                set: set.clone(),
                file: name.clone(),
                reason: e.to_string(),
            })?;
            let Some(slot) = merged.iter_mut().find(|(p, _)| *p == name) else {
                continue;
            };
            let (content, ids) =
                merge_csv(&slot.1, &text, &check::key_columns(&name)).map_err(|reason| {
                    FactorError::Invalid {
                        set: set.clone(),
                        file: name.clone(),
                        row: 0,
                        reason,
                    }
                })?;
            slot.1 = content;
            overridden.extend(ids.into_iter().map(|id| format!("{name}:{id}")));
        }
        let mut out = FactorSet::from_files(
            &format!("{}+overrides", self.version),
            &format!("{} with overrides from {set}", self.origin),
            &merged,
        )?;
        out.overridden = overridden;
        Ok(out)
    }

    /// Builds a set from (relative path, content) pairs: refused, with every problem, when
    /// it breaks a rule of the schema (`schema.toml`: the rules `factors check` applies).
    pub fn from_files(
        version: &str,
        origin: &str,
        files: &[(String, String)],
    ) -> Result<FactorSet, FactorError> {
        let checked = schema::check_files(files);
        if !checked.problems.is_empty() {
            return Err(FactorError::Problems {
                set: version.to_string(),
                problems: checked.problems,
            });
        }
        let tables = &checked.tables;
        let sources: Vec<Source> = rows(version, tables, "sources.csv")?;
        let models: Vec<ModelRow> = rows(version, tables, "models.csv")?;
        let aliases: Vec<AliasRow> = rows(version, tables, "aliases.csv")?;
        let mut classes: Vec<ClassRow> = rows(version, tables, "classes.csv")?;
        let grid: Vec<GridRow> = rows(version, tables, "grid.csv")?;
        let providers: Vec<ProviderRow> = rows(version, tables, "providers.csv")?;
        let constants: Vec<ConstantRow> = rows(version, tables, "constants.csv")?;
        let prices: Vec<PriceRow> = rows(version, tables, "prices.csv")?;
        let latency: Vec<LatencyRow> = rows(version, tables, "latency.csv")?;
        let mut training: Vec<TrainingRow> = rows(version, tables, "training.csv")?;
        training.sort_by(|a, b| a.family.cmp(&b.family));
        let fx: Vec<FxRow> = rows(version, tables, "fx.csv")?;
        let deflators: Vec<DeflatorRow> = rows(version, tables, "deflators.csv")?;
        classes.sort_by_key(|c| c.priority);

        // Ids are unique, references resolve, ranges hold and the rows the method needs are
        // there: the schema's rules, checked above.
        let mut region_index: HashMap<String, Vec<String>> = HashMap::new();
        let mut grid_by_id: BTreeMap<String, Vec<GridRow>> = BTreeMap::new();
        for g in grid {
            if !g.region.is_empty() {
                let ids = region_index.entry(g.region.to_lowercase()).or_default();
                if !ids.contains(&g.geo_id) {
                    ids.push(g.geo_id.clone());
                }
            }
            grid_by_id.entry(g.geo_id.clone()).or_default().push(g);
        }
        Ok(FactorSet {
            prices: prices
                .into_iter()
                .map(|p| (p.model_key.to_lowercase(), p))
                .collect(),
            latency: latency
                .into_iter()
                .map(|l| (l.model_key.to_lowercase(), l))
                .collect(),
            training,
            fx: fx
                .into_iter()
                .map(|f| ((f.currency.to_uppercase(), f.year), f))
                .collect(),
            deflators: deflators
                .into_iter()
                .filter(|d| d.currency.eq_ignore_ascii_case("USD"))
                .map(|d| (d.year, d))
                .collect(),
            files: files.to_vec(),
            overridden: vec![],
            version: version.to_string(),
            origin: origin.to_string(),
            sha256: set_sha256(files),
            sources: sources.into_iter().map(|s| (s.id.clone(), s)).collect(),
            models: models
                .into_iter()
                .map(|m| (m.model_key.to_lowercase(), m))
                .collect(),
            aliases: aliases
                .into_iter()
                .map(|a| (a.alias.to_lowercase(), a))
                .collect(),
            classes,
            grid: grid_by_id,
            region_index,
            providers: providers
                .into_iter()
                .map(|p| (p.provider.clone(), p))
                .collect(),
            resolution_rules: constants
                .iter()
                .find(|c| c.id == "resolution_rules")
                .map(|c| c.central.round().clamp(1.0, 2.0) as u32)
                .unwrap_or(1),
            constants: constants.into_iter().map(|c| (c.id.clone(), c)).collect(),
        })
    }

    /// The serving speed of a model key, when the set has one.
    pub fn latency(&self, model_key: &str) -> Option<&LatencyRow> {
        self.latency.get(&model_key.to_lowercase())
    }

    /// A constant (checked present at load for the ones the method needs).
    pub fn constant(&self, id: &str) -> Option<&ConstantRow> {
        self.constants.get(id)
    }

    /// The provider row, or the `unknown` one.
    pub fn provider(&self, key: &str) -> &ProviderRow {
        self.providers
            .get(key)
            .or_else(|| self.providers.get("unknown"))
            .unwrap_or_else(|| unreachable_provider())
    }

    /// Resolves a raw model id with the set's resolution rules: rules 1 (exact key, alias,
    /// normalised forms, size class by substring) or rules 2 ([`crate::factors::resolve`]).
    pub fn resolve_model(&self, raw: &str) -> ResolvedModel {
        if self.resolution_rules >= 2 {
            return resolve::resolve(self, raw);
        }
        self.resolve_model_v1(raw)
    }

    /// Rules 1 (factor set 2026.1), unchanged so that 2026.1 reports reproduce exactly.
    fn resolve_model_v1(&self, raw: &str) -> ResolvedModel {
        let lower = raw.trim().to_lowercase();
        if let Some(m) = self.lookup_model(&lower) {
            return self.resolved(m, ModelMatch::Exact);
        }
        if let Some(a) = self.aliases.get(&lower) {
            if let Some(m) = self.models.get(&a.model_key.to_lowercase()) {
                return self.resolved(m, ModelMatch::Alias);
            }
        }
        for candidate in normalised_forms(&lower) {
            if let Some(m) = self.lookup_model(&candidate) {
                return self.resolved(m, ModelMatch::Normalised);
            }
            if let Some(a) = self.aliases.get(&candidate) {
                if let Some(m) = self.models.get(&a.model_key.to_lowercase()) {
                    return self.resolved(m, ModelMatch::Normalised);
                }
            }
        }
        let class = self
            .classes
            .iter()
            .find(|c| {
                c.matches
                    .split('|')
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .any(|m| lower.contains(m))
            })
            .or_else(|| self.classes.iter().find(|c| c.matches.trim().is_empty()));
        match class {
            Some(c) => ResolvedModel {
                key: format!("class:{}", c.class),
                how: ModelMatch::Class(c.class.clone()),
                kind: c.kind.clone(),
                active: (c.active_params_b_min, c.active_params_b_max),
                total: (c.total_params_b_min, c.total_params_b_max),
                source_id: c.source_id.clone(),
                spelling: lower.clone(),
                steps: vec![],
            },
            None => unreachable_class(),
        }
    }

    fn lookup_model(&self, key: &str) -> Option<&ModelRow> {
        self.models.get(key)
    }

    fn resolved(&self, m: &ModelRow, how: ModelMatch) -> ResolvedModel {
        self.resolved_as(m, how, &m.model_key.to_lowercase())
    }

    pub(crate) fn resolved_as(
        &self,
        m: &ModelRow,
        how: ModelMatch,
        spelling: &str,
    ) -> ResolvedModel {
        ResolvedModel {
            spelling: spelling.to_string(),
            steps: vec![],
            key: m.model_key.clone(),
            how,
            kind: m.kind.clone(),
            active: (m.active_params_b_min, m.active_params_b_max),
            total: (m.total_params_b_min, m.total_params_b_max),
            source_id: m.source_id.clone(),
        }
    }

    /// The row of `geo_id` for a usage year: the nearest year not after it, else the earliest.
    pub fn grid_row(&self, geo_id: &str, year: i32) -> Option<&GridRow> {
        let rows = self.grid.get(geo_id)?;
        rows.iter()
            .filter(|r| r.year <= year)
            .max_by_key(|r| r.year)
            .or_else(|| rows.iter().min_by_key(|r| r.year))
    }

    /// Resolves the grid factor for a provider and the record's region (if any) in `year`.
    pub fn resolve_grid(
        &self,
        provider: &ProviderRow,
        region: Option<&str>,
        year: i32,
    ) -> GridChoice {
        let world = || {
            self.grid_row("agg:WORLD", year)
                .cloned()
                .unwrap_or_else(unreachable_world)
        };
        let default = |note: Option<String>| -> GridChoice {
            match self.grid_row(&provider.default_geo, year) {
                Some(r) => GridChoice {
                    row: r.clone(),
                    level: GeoLevel::ProviderDefault,
                    note,
                },
                None => GridChoice {
                    row: world(),
                    level: GeoLevel::World,
                    note,
                },
            }
        };
        let Some(region) = region.map(str::trim).filter(|r| !r.is_empty()) else {
            return default(None);
        };
        let lower = region.to_lowercase();
        // 1. A geo id written out (`country:USA`, `aws:us-east-1`).
        if let Some(r) = self
            .grid
            .keys()
            .find(|k| k.to_lowercase() == lower)
            .and_then(|k| self.grid_row(k, year))
        {
            return GridChoice {
                level: level_of(r),
                row: r.clone(),
                note: None,
            };
        }
        // 2. A cloud region code: the provider's own cloud first.
        if let Some(ids) = self.region_index.get(&lower) {
            let clouds: Vec<&str> = provider.operator.split('+').collect();
            let pick = ids
                .iter()
                .find(|id| clouds.iter().any(|c| id.starts_with(&format!("{c}:"))))
                .or_else(|| ids.first());
            if let Some(r) = pick.and_then(|id| self.grid_row(id, year)) {
                return GridChoice {
                    row: r.clone(),
                    level: GeoLevel::Region,
                    note: None,
                };
            }
        }
        // 3. An ISO3 country code.
        let country = format!("country:{}", region.to_uppercase());
        if let Some(r) = self.grid_row(&country, year) {
            return GridChoice {
                row: r.clone(),
                level: GeoLevel::Country,
                note: None,
            };
        }
        default(Some(format!(
            "unknown region '{region}': the provider's default geography was used"
        )))
    }

    /// The continent-level aggregate above a row (a Data Zone spans one): the first `agg:`
    /// ancestor other than World.
    pub fn zone_of(&self, row: &GridRow, year: i32) -> Option<GridRow> {
        let mut current = row.clone();
        for _ in 0..8 {
            if current.parent.is_empty() {
                return None;
            }
            let parent = self.grid_row(&current.parent, year)?.clone();
            if parent.geo_id.starts_with("agg:") && parent.geo_id != "agg:WORLD" {
                return Some(parent);
            }
            current = parent;
        }
        None
    }

    /// USD per unit of `currency` in `year` (nearest earlier year, else the earliest) and the
    /// row used.
    pub fn usd_rate(&self, currency: &str, year: i32) -> Option<&FxRow> {
        let c = currency.to_uppercase();
        let rows: Vec<&FxRow> = self.fx.values().filter(|r| r.currency == c).collect();
        rows.iter()
            .filter(|r| r.year <= year)
            .max_by_key(|r| r.year)
            .or_else(|| rows.iter().min_by_key(|r| r.year))
            .copied()
    }

    /// The USD price index of `year` (nearest earlier, else the earliest).
    pub fn deflator(&self, year: i32) -> Option<&DeflatorRow> {
        self.deflators
            .range(..=year)
            .next_back()
            .map(|(_, d)| d)
            .or_else(|| self.deflators.values().next())
    }

    /// Off-site water intensity for a grid row: its own, else the nearest parent's.
    pub fn offsite_water(&self, row: &GridRow, year: i32) -> (f64, String) {
        let mut current = Some(row.clone());
        let mut hops = 0;
        while let Some(r) = current {
            if let Some(w) = r.offsite_water_l_per_kwh {
                return (w, r.geo_id.clone());
            }
            hops += 1;
            if hops > 8 || r.parent.is_empty() {
                break;
            }
            current = self.grid_row(&r.parent, year).cloned();
        }
        let w = self
            .grid_row("agg:WORLD", year)
            .and_then(|r| r.offsite_water_l_per_kwh);
        (w.unwrap_or(3.908), "agg:WORLD".to_string())
    }
}

fn level_of(r: &GridRow) -> GeoLevel {
    match r.scope.as_str() {
        "cloud_region" => GeoLevel::Region,
        "country" | "us_subregion" => GeoLevel::Country,
        _ if r.geo_id == "agg:WORLD" => GeoLevel::World,
        _ => GeoLevel::Aggregate,
    }
}

// The load-time checks guarantee these rows exist; a set without them is never built.
fn unreachable_provider() -> &'static ProviderRow {
    static FALLBACK: std::sync::OnceLock<ProviderRow> = std::sync::OnceLock::new();
    FALLBACK.get_or_init(|| ProviderRow {
        provider: "unknown".into(),
        operator: "unknown".into(),
        pue_low: 1.10,
        pue_central: 1.25,
        pue_high: 1.60,
        wue_low: 0.5,
        wue_central: 1.8,
        wue_high: 3.0,
        default_geo: "agg:WORLD".into(),
        source_id: "llm-scope3-assumption".into(),
        notes: String::new(),
    })
}

pub(crate) fn unreachable_class() -> ResolvedModel {
    ResolvedModel {
        key: "class:flagship".into(),
        how: ModelMatch::Class("flagship".into()),
        kind: "llm".into(),
        active: (44.0, 132.0),
        total: (440.0, 440.0),
        source_id: "llm-scope3-assumption".into(),
        spelling: String::new(),
        steps: vec![],
    }
}

fn unreachable_world() -> GridRow {
    GridRow {
        geo_id: "agg:WORLD".into(),
        scope: "aggregate".into(),
        cloud: String::new(),
        region: String::new(),
        name: "World".into(),
        country_iso3: String::new(),
        parent: String::new(),
        year: 2024,
        central: 473.0,
        low: 378.4,
        high: 567.6,
        basis: "lifecycle".into(),
        offsite_water_l_per_kwh: Some(3.908),
        pue: None,
        wue: None,
        cfe_share: None,
        source_id: "ember-2024".into(),
        notes: String::new(),
    }
}

/// Other spellings of a model id to try: vendor prefixes and suffixes removed, dates removed.
fn normalised_forms(lower: &str) -> Vec<String> {
    let mut s = lower.to_string();
    // Fine-tunes: ft:gpt-4o-mini-2024-07-18:org::id -> the base model.
    if let Some(rest) = s.strip_prefix("ft:") {
        s = rest.split(':').next().unwrap_or(rest).to_string();
    }
    for prefix in [
        "openai/",
        "anthropic/",
        "google/",
        "models/",
        "publishers/google/models/",
        "us.anthropic.",
        "eu.anthropic.",
        "apac.anthropic.",
        "global.anthropic.",
        "anthropic.",
        "meta.",
        "us.meta.",
        "mistral.",
        "azure/",
        "bedrock/",
        "vertex_ai/",
    ] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.to_string();
        }
    }
    // Bedrock version suffixes (-v1:0, -v2), Vertex @date.
    if let Some((base, _)) = s.split_once('@') {
        s = base.to_string();
    }
    if let Some(pos) = s.rfind("-v") {
        let tail = &s[pos + 2..];
        if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit() || c == ':') {
            s.truncate(pos);
        }
    }
    let mut out = vec![s.clone()];
    // Dates: -2024-08-06, -20240806, -0806 / -1120 style Azure versions.
    let stripped = strip_date_suffix(&s);
    if stripped != s {
        out.push(stripped.clone());
    }
    if s.ends_with("-latest") {
        out.push(s.trim_end_matches("-latest").to_string());
    }
    // Dots and dashes are interchangeable in some exports (claude-3.5-sonnet).
    out.push(stripped.replace('.', "-"));
    out.dedup();
    out
}

pub(crate) fn strip_date_suffix(s: &str) -> String {
    let parts: Vec<&str> = s.split('-').collect();
    let is_digits = |p: &str, n: usize| p.len() == n && p.chars().all(|c| c.is_ascii_digit());
    let n = parts.len();
    if n > 3
        && is_digits(parts[n - 3], 4)
        && is_digits(parts[n - 2], 2)
        && is_digits(parts[n - 1], 2)
    {
        return parts[..n - 3].join("-");
    }
    if n > 1 && (is_digits(parts[n - 1], 8) || is_digits(parts[n - 1], 4)) {
        return parts[..n - 1].join("-");
    }
    s.to_string()
}

/// Merges override rows into a CSV by id columns; returns the new text and the ids touched.
fn merge_csv(base: &str, overrides: &str, ids: &[&str]) -> Result<(String, Vec<String>), String> {
    let read = |text: &str| -> Result<(csv::StringRecord, Vec<csv::StringRecord>), String> {
        let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let h = r.headers().map_err(|e| e.to_string())?.clone();
        let rows = r
            .records()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok((h, rows))
    };
    let (header, mut rows) = read(base)?;
    let (oh, orows) = read(overrides)?;
    if oh != header {
        return Err(format!(
            "the override's columns ({}) differ from the set's ({})",
            oh.iter().collect::<Vec<_>>().join(","),
            header.iter().collect::<Vec<_>>().join(",")
        ));
    }
    let idx: Vec<usize> = ids
        .iter()
        .filter_map(|c| header.iter().position(|h| h == *c))
        .collect();
    let key = |r: &csv::StringRecord| {
        idx.iter()
            .map(|&i| r.get(i).unwrap_or(""))
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut touched = vec![];
    for o in orows {
        let k = key(&o);
        match rows.iter_mut().find(|r| key(r) == k) {
            Some(r) => *r = o,
            None => rows.push(o),
        }
        touched.push(k);
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(vec![]);
    w.write_record(&header).map_err(|e| e.to_string())?;
    for r in &rows {
        w.write_record(r).map_err(|e| e.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    Ok((String::from_utf8_lossy(&bytes).into_owned(), touched))
}

/// The rows of a checked file as `T` (none when an optional file is absent).
fn rows<T: serde::de::DeserializeOwned>(
    set: &str,
    tables: &BTreeMap<&'static str, schema::Table>,
    file: &str,
) -> Result<Vec<T>, FactorError> {
    let Some(t) = tables.get(file) else {
        return Ok(vec![]);
    };
    t.rows
        .iter()
        .map(|(row, cells)| {
            cells
                .deserialize::<T>(Some(&t.header))
                .map_err(|e| FactorError::Invalid {
                    set: set.to_string(),
                    file: file.to_string(),
                    row: *row,
                    reason: e.to_string(),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_suffixes_are_removed() {
        assert_eq!(strip_date_suffix("gpt-4o-2024-08-06"), "gpt-4o");
        assert_eq!(
            strip_date_suffix("claude-sonnet-4-5-20250929"),
            "claude-sonnet-4-5"
        );
        assert_eq!(strip_date_suffix("gpt-4-0613"), "gpt-4");
        assert_eq!(strip_date_suffix("gpt-4o"), "gpt-4o");
    }

    #[test]
    fn vendor_spellings_normalise() {
        let f = normalised_forms("anthropic.claude-3-5-sonnet-20240620-v1:0");
        assert!(f.contains(&"claude-3-5-sonnet".to_string()), "{f:?}");
        let f = normalised_forms("ft:gpt-4o-mini-2024-07-18:acme::abc123");
        assert!(f.contains(&"gpt-4o-mini".to_string()), "{f:?}");
        let f = normalised_forms("claude-3-5-sonnet@20240620");
        assert!(f.contains(&"claude-3-5-sonnet".to_string()), "{f:?}");
    }

    #[test]
    fn sha_normalises_line_endings_and_order() {
        let a = set_sha256(&[
            ("b.csv".into(), "x\r\ny\n".into()),
            ("a.csv".into(), "1\n".into()),
        ]);
        let b = set_sha256(&[
            ("a.csv".into(), "1\n".into()),
            ("b.csv".into(), "x\ny\n".into()),
        ]);
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
    }
}
