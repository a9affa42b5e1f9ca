//! Import templates: the data files in templates/ that say how one vendor export maps to
//! canonical usage records. Parsing, validation and header detection live here; the row
//! mapping itself is in the parent module. No template is special-cased in code.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use regex::Regex;
use serde::Deserialize;

/// One vendor export format, as written in a template file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Unique id of the template (`openai-usage`).
    pub id: String,
    /// Format name reported in the Imports sheet and JSON (defaults to `id`).
    #[serde(default)]
    pub format: Option<String>,
    /// Human name of the export.
    pub name: String,
    /// Provider key in the factor set (`openai`, `anthropic`, ...).
    pub provider: String,
    /// Longer description: where the export comes from.
    #[serde(default)]
    pub description: String,
    /// How the header row is recognised.
    pub detect: Detect,
    /// Canonical field -> columns.
    pub fields: Fields,
    /// Every column the export groups by (used to key records in the ledger); alternatives
    /// as lists, like `column`.
    #[serde(default)]
    pub keys: Vec<OneOrMany>,
    /// Bucket width when the export has no end column and its dates carry a time (`1h`, `1d`,
    /// `1m`). Date-only values always make one-day buckets.
    #[serde(default)]
    pub bucket_width: Option<String>,
    /// Day/month order of slash dates (`mdy` for Azure's 01/31/2026, `dmy`); without it the
    /// file's own dates decide.
    #[serde(default)]
    pub date_order: Option<String>,
    /// Rows of other services in the same export: skipped and counted.
    #[serde(default)]
    pub skip: Vec<SkipRule>,
    /// Money-only rows (tax, credit, refund, fee): kept as spend adjustments, never activity.
    /// A row is one when any rule matches.
    #[serde(default)]
    pub adjustment: Vec<AdjustmentRule>,
    /// Long-format exports: one quantity per row, classified by a meter / usage type / SKU text.
    #[serde(default)]
    pub meter: Option<MeterSpec>,
    /// Wide exports: columns holding the part of a token field that is not text (audio and
    /// image tokens within OpenAI's `input_tokens`): subtracted from that field and listed as
    /// a not-estimated item of the row (`[[not_estimated_part]]`).
    #[serde(default, rename = "not_estimated_part")]
    pub parts: Vec<PartSpec>,
}

/// A column holding the part of a token field the token method must not count as text tokens
/// (image, audio): subtracted from `part_of` (and its cached part from `cached_input_tokens`)
/// and listed with its quantity as a not-estimated item of the row.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartSpec {
    /// The quantity column (alternatives as a list: the first present is read).
    pub column: OneOrMany,
    /// What the item is (`audio input tokens`).
    pub label: String,
    /// Its unit (default `tokens`).
    #[serde(default = "default_part_unit")]
    pub unit: String,
    /// The field it is part of: `input_tokens` or `output_tokens`.
    pub part_of: String,
    /// The column holding its cached part, within `cached_input_tokens` (input parts only).
    #[serde(default)]
    pub cached: OneOrMany,
}

fn default_part_unit() -> String {
    "tokens".into()
}

/// Rows to skip as "other service": when `when` matches, or `unless` does not match. A row
/// whose meter text a token rule of the template classifies (see [`TOKEN_CLASSES`]) is never
/// skipped, whatever these rules say: the usage type, meter or SKU is the surer sign.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipRule {
    /// The column(s) tested: every one present in the header. `when` skips a row when any of
    /// their non-empty cells matches; `unless` skips it when at least one cell is non-empty
    /// and none matches (CUR: `line_item_product_code` = AmazonBedrock or a product name
    /// naming Bedrock keeps the row). Empty cells say nothing.
    pub column: OneOrMany,
    /// Skip rows whose value matches this regular expression.
    #[serde(default)]
    pub when: Option<String>,
    /// Skip rows whose value does not match this regular expression.
    #[serde(default)]
    pub unless: Option<String>,
    /// Why, in plain words (shown in inspect).
    pub reason: String,
    #[serde(skip)]
    pub(crate) when_re: Option<Regex>,
    #[serde(skip)]
    pub(crate) unless_re: Option<Regex>,
}

/// Money-only rows, recognised by a column value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentRule {
    /// The column tested (line item type, cost type, charge type).
    pub column: OneOrMany,
    /// Values (regular expression) that mark a money-only row.
    pub when: String,
    #[serde(skip)]
    pub(crate) when_re: Option<Regex>,
}

/// How a long-format row's quantity becomes tokens of one class.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeterSpec {
    /// The text that says what the row is (meter name, usage type, SKU description).
    pub column: OneOrMany,
    /// The amount column.
    pub quantity: OneOrMany,
    /// The unit column (price block: `1K`, `1M tokens`, `count`).
    #[serde(default)]
    pub unit: OneOrMany,
    /// Unit text (case-insensitive) -> tokens per unit of quantity.
    #[serde(default)]
    pub units: BTreeMap<String, f64>,
    /// `tokens` (the quantity is tokens), `units` (multiply by the unit's size) or `decide`
    /// (per row, from the money: cost ≈ price × quantity means units, cost ≈ price × quantity
    /// / unit size means tokens).
    #[serde(default = "default_quantity_is")]
    pub quantity_is: String,
    /// Unit price column, for `decide` and for units of size 0.
    #[serde(default)]
    pub price: OneOrMany,
    /// The row's cost in the unit price's currency (Azure MCA `CostInPricingCurrency`), for
    /// the cost relation of `decide`: prices are in the pricing currency, the cost field in
    /// the billing currency. Without it (or with the cell empty), the cost is divided by
    /// `exchange_rate` when that column is present.
    #[serde(default)]
    pub price_cost: OneOrMany,
    /// Exchange rate from the pricing currency to the billing currency
    /// (`ExchangeRatePricingToBilling`): billing cost = pricing cost × rate.
    #[serde(default)]
    pub exchange_rate: OneOrMany,
    /// The currency of the unit price (`PricingCurrency`), named in the unit decisions when it
    /// differs from the row's currency.
    #[serde(default)]
    pub price_currency: OneOrMany,
    /// Regular-expression replacements applied to the model text before it is looked up.
    #[serde(default)]
    pub model_clean: Vec<[String; 2]>,
    /// Captured `scope` text (case-insensitive) -> `global`, `datazone` or `regional`.
    #[serde(default)]
    pub scopes: BTreeMap<String, String>,
    /// Captured `region` text (billing-region prefixes such as USE1) -> region code.
    #[serde(default)]
    pub regions: BTreeMap<String, String>,
    /// Classification rules, first match wins.
    pub rule: Vec<MeterRule>,
    /// Rows whose text matches no rule: `skip` (other service, the default) or `reject`.
    #[serde(default)]
    pub unmatched: Option<String>,
    #[serde(skip)]
    pub(crate) clean_re: Vec<(Regex, String)>,
}

fn default_quantity_is() -> String {
    "tokens".into()
}

/// One classification rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeterRule {
    /// Regular expression; named captures `model`, `cached`, `scope`, `region` and `tier`
    /// (the price tier of a spend row, as the `price_tier` field) are used.
    #[serde(rename = "match")]
    pub pattern: String,
    /// `input`, `cached_input`, `cache_write`, `output`, `input_characters`,
    /// `output_characters`, `requests` or `not_estimated`.
    pub class: String,
    /// For `not_estimated`: what the item is (`provisioned throughput`).
    #[serde(default)]
    pub label: Option<String>,
    /// A fixed model for the rule (instead of a capture or the model field).
    #[serde(default)]
    pub model: Option<String>,
    #[serde(skip)]
    pub(crate) re: Option<Regex>,
}

/// The token classes a meter rule can assign.
pub const METER_CLASSES: &[&str] = &[
    "input",
    "cached_input",
    "cache_write",
    "output",
    "input_characters",
    "output_characters",
    "requests",
    "not_estimated",
    "spend",
];

/// The meter classes that are tokens (or characters read as tokens): a row a rule of one of
/// these classes matches is usage of the template's service, never skipped as another one.
pub const TOKEN_CLASSES: &[&str] = &[
    "input",
    "cached_input",
    "cache_write",
    "output",
    "input_characters",
    "output_characters",
];

/// Header recognition: a template matches a row that holds every required column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detect {
    /// Columns that must all be present (case-insensitive, surrounding spaces ignored).
    pub required: Vec<OneOrMany>,
    /// Columns that may be present; each present one makes the match more specific.
    #[serde(default)]
    pub optional: Vec<OneOrMany>,
}

/// The canonical fields a template can fill.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    /// Bucket start (required).
    pub bucket_start: FieldSpec,
    /// Bucket end (exclusive); derived from the start when absent.
    #[serde(default)]
    pub bucket_end: Option<FieldSpec>,
    /// Model id (required unless a meter rule supplies it).
    #[serde(default)]
    pub model: Option<FieldSpec>,
    /// Requests.
    #[serde(default)]
    pub requests: Option<FieldSpec>,
    /// All input tokens, cached included.
    #[serde(default)]
    pub input_tokens: Option<FieldSpec>,
    /// The cached part of the input tokens.
    #[serde(default)]
    pub cached_input_tokens: Option<FieldSpec>,
    /// Output tokens.
    #[serde(default)]
    pub output_tokens: Option<FieldSpec>,
    /// Cost on the row.
    #[serde(default)]
    pub cost: Option<FieldSpec>,
    /// Currency of the cost.
    #[serde(default)]
    pub currency: Option<FieldSpec>,
    /// Serving region or country.
    #[serde(default)]
    pub region: Option<FieldSpec>,
    /// Project / workspace / account.
    #[serde(default)]
    pub cost_centre: Option<FieldSpec>,
    /// The billing account the export belongs to: exports of different accounts never overlap.
    #[serde(default)]
    pub account: Option<FieldSpec>,
    /// The vendor's service (`vertex-ai`, `bedrock` after `map`): with `account`, what a vendor
    /// carbon report's rows are matched on (METHODOLOGY §5).
    #[serde(default)]
    pub service: Option<FieldSpec>,
    /// Spend rows: the price tier they were billed at (`batch`, `flex`, `priority`, `fast`
    /// after `map`; anything else is the standard tier). Of several columns, the first whose
    /// value maps to a tier (Anthropic's `speed`, then `usage_type`). A meter rule's `tier`
    /// capture does the same from the meter's text.
    #[serde(default)]
    pub price_tier: Option<FieldSpec>,
}

/// Where one canonical field comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The column, or alternative names of it across export versions (first present wins).
    #[serde(default)]
    pub column: OneOrMany,
    /// Numeric fields: the sum of these columns (those present in the header).
    #[serde(default)]
    pub sum: Vec<String>,
    /// Dates: `unix` (seconds), `auto` (ISO forms and spreadsheet dates) or a chrono format.
    #[serde(default)]
    pub parse: Option<String>,
    /// Text fields: value -> replacement (keys compared case-insensitively); an empty
    /// replacement means "no value".
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// Value used when the column is absent or the cell empty.
    #[serde(default)]
    pub default: Option<String>,
    /// Cells holding a JSON object (CUR 2.0 `product` map): the first of these keys present.
    #[serde(default)]
    pub json: Vec<String>,
}

/// One name or a list of names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// No column.
    #[default]
    None,
    /// One column name.
    One(String),
    /// Alternative names.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The names, in order.
    pub fn names(&self) -> Vec<&str> {
        match self {
            OneOrMany::None => vec![],
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// A template file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The file could not be read.
    #[error("template {path}: cannot read it: {source}")]
    Io {
        /// Path of the template.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// TOML syntax or schema error.
    #[error("template {path}: {reason}")]
    Invalid {
        /// Path of the template.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl Template {
    /// Parses and checks a template from TOML text; `origin` names it in messages.
    pub fn from_toml(text: &str, origin: &str) -> Result<Template, TemplateError> {
        let mut t: Template = toml::from_str(text).map_err(|e| TemplateError::Invalid {
            path: origin.to_string(),
            reason: e.to_string(),
        })?;
        t.compile(origin)?;
        t.check(origin)?;
        Ok(t)
    }

    /// Loads a user-written template file.
    pub fn from_file(path: &Path) -> Result<Template, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Template::from_toml(&text, &path.display().to_string())
    }

    fn compile(&mut self, origin: &str) -> Result<(), TemplateError> {
        let re = |p: &str| {
            Regex::new(p).map_err(|e| TemplateError::Invalid {
                path: origin.to_string(),
                reason: format!("regular expression '{p}': {e}"),
            })
        };
        for s in &mut self.skip {
            s.when_re = s.when.as_deref().map(re).transpose()?;
            s.unless_re = s.unless.as_deref().map(re).transpose()?;
        }
        for a in &mut self.adjustment {
            a.when_re = Some(re(&a.when)?);
        }
        if let Some(m) = &mut self.meter {
            for r in &mut m.rule {
                r.re = Some(re(&r.pattern)?);
            }
            m.clean_re = m
                .model_clean
                .iter()
                .map(|[p, with]| Ok((re(p)?, with.clone())))
                .collect::<Result<_, TemplateError>>()?;
        }
        Ok(())
    }

    fn check(&self, origin: &str) -> Result<(), TemplateError> {
        let bad = |reason: String| TemplateError::Invalid {
            path: origin.to_string(),
            reason,
        };
        if self.detect.required.is_empty() {
            return Err(bad("detect.required must name at least one column".into()));
        }
        for (name, spec) in self.fields.all() {
            if let Some(spec) = spec {
                if spec.column.names().is_empty() && spec.sum.is_empty() && spec.default.is_none() {
                    return Err(bad(format!(
                        "field '{name}' needs `column`, `sum` or `default`"
                    )));
                }
            }
        }
        if self.fields.model.is_none() && self.meter.is_none() {
            return Err(bad(
                "fields.model is required (or a [meter] whose rules give the model)".into(),
            ));
        }
        if let Some(m) = &self.meter {
            if m.rule.is_empty() {
                return Err(bad("[meter] needs at least one [[meter.rule]]".into()));
            }
            for r in &m.rule {
                if !METER_CLASSES.contains(&r.class.as_str()) {
                    return Err(bad(format!(
                        "meter rule class '{}' is not one of {}",
                        r.class,
                        METER_CLASSES.join(", ")
                    )));
                }
            }
            if !["tokens", "units", "decide"].contains(&m.quantity_is.as_str()) {
                return Err(bad(format!(
                    "meter.quantity_is '{}' must be tokens, units or decide",
                    m.quantity_is
                )));
            }
        }
        for p in &self.parts {
            if p.part_of != "input_tokens" && p.part_of != "output_tokens" {
                return Err(bad(format!(
                    "not_estimated_part '{}': part_of '{}' must be input_tokens or output_tokens",
                    p.label, p.part_of
                )));
            }
            if p.part_of == "output_tokens" && !p.cached.names().is_empty() {
                return Err(bad(format!(
                    "not_estimated_part '{}': only an input part has a cached part",
                    p.label
                )));
            }
            if p.label.trim().is_empty() || p.column.names().is_empty() {
                return Err(bad(
                    "not_estimated_part needs a `label` and a `column`".into()
                ));
            }
        }
        if let Some(o) = &self.date_order {
            if o != "mdy" && o != "dmy" {
                return Err(bad(format!("date_order '{o}' must be mdy or dmy")));
            }
        }
        for s in &self.skip {
            if s.when.is_none() == s.unless.is_none() {
                return Err(bad(format!(
                    "skip rule '{}' needs exactly one of `when` or `unless`",
                    s.reason
                )));
            }
        }
        if let Some(w) = &self.bucket_width {
            if parse_width(w).is_none() {
                return Err(bad(format!(
                    "bucket_width '{w}' is not a width such as 1m, 1h or 1d"
                )));
            }
        }
        Ok(())
    }

    /// The format name used in reports.
    pub fn format_name(&self) -> &str {
        self.format.as_deref().unwrap_or(&self.id)
    }

    /// The bucket width in seconds when dates carry a time and no end column exists.
    pub fn bucket_width_seconds(&self) -> i64 {
        self.bucket_width
            .as_deref()
            .and_then(parse_width)
            .unwrap_or(3600)
    }
}

fn parse_width(w: &str) -> Option<i64> {
    let w = w.trim();
    let (num, unit) = w.split_at(w.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let unit_s = match unit {
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    (n > 0).then_some(n * unit_s)
}

impl Fields {
    /// Every field with its canonical name.
    pub fn all(&self) -> Vec<(&'static str, Option<&FieldSpec>)> {
        vec![
            ("bucket_start", Some(&self.bucket_start)),
            ("bucket_end", self.bucket_end.as_ref()),
            ("model", self.model.as_ref()),
            ("requests", self.requests.as_ref()),
            ("input_tokens", self.input_tokens.as_ref()),
            ("cached_input_tokens", self.cached_input_tokens.as_ref()),
            ("output_tokens", self.output_tokens.as_ref()),
            ("cost", self.cost.as_ref()),
            ("currency", self.currency.as_ref()),
            ("region", self.region.as_ref()),
            ("cost_centre", self.cost_centre.as_ref()),
            ("account", self.account.as_ref()),
            ("service", self.service.as_ref()),
        ]
    }
}

/// A field bound to column indices of one header row.
#[derive(Debug, Clone)]
pub struct Bound {
    /// (index, header text) of each column read; several for `sum` or alternatives.
    pub columns: Vec<(usize, String)>,
    /// True when `columns` are alternatives (`column = [...]`), not summands.
    pub alternatives: bool,
    /// The template's spec.
    pub spec: FieldSpec,
}

impl Bound {
    /// The header name(s) for messages.
    pub fn column_label(&self) -> String {
        let sep = if self.alternatives { " / " } else { " + " };
        self.columns
            .iter()
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>()
            .join(sep)
    }
}

/// A template bound to one header row: field -> column indices.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The template.
    pub template: Arc<Template>,
    /// The template's provider, shared by every record of the sheet.
    pub provider: Arc<str>,
    /// The header row as read (trimmed).
    pub header: Vec<String>,
    /// Bucket start.
    pub bucket_start: Bound,
    /// Bucket end.
    pub bucket_end: Option<Bound>,
    /// Model (absent when meter rules give it).
    pub model: Option<Bound>,
    /// Requests.
    pub requests: Option<Bound>,
    /// Input tokens.
    pub input_tokens: Option<Bound>,
    /// Cached input tokens.
    pub cached_input_tokens: Option<Bound>,
    /// Output tokens.
    pub output_tokens: Option<Bound>,
    /// Cost.
    pub cost: Option<Bound>,
    /// Currency.
    pub currency: Option<Bound>,
    /// Region.
    pub region: Option<Bound>,
    /// Cost centre.
    pub cost_centre: Option<Bound>,
    /// Billing account.
    pub account: Option<Bound>,
    /// Vendor service.
    pub service: Option<Bound>,
    /// Price tier of spend rows.
    pub price_tier: Option<Bound>,
    /// The key columns present in the header.
    pub key_columns: Vec<usize>,
    /// Skip rules bound to their columns (rules whose column is absent never fire).
    pub skips: Vec<(Bound, SkipRule)>,
    /// Adjustment rules bound to their columns.
    pub adjustment: Vec<(Bound, AdjustmentRule)>,
    /// Meter columns.
    pub meter: Option<BoundMeter>,
    /// Not-estimated parts of the token fields present in the header.
    pub parts: Vec<BoundPart>,
    /// The marker columns of a warehouse query's result (`llm-scope3 sql`), whatever the
    /// template.
    pub origin: Option<super::origin::OriginColumns>,
}

/// A [`PartSpec`] bound to header columns.
#[derive(Debug, Clone)]
pub struct BoundPart {
    /// The spec.
    pub spec: PartSpec,
    /// The quantity column.
    pub quantity: Bound,
    /// The cached part's column, when the header has it.
    pub cached: Option<Bound>,
}

/// A meter spec bound to header columns.
#[derive(Debug, Clone)]
pub struct BoundMeter {
    /// The spec.
    pub spec: MeterSpec,
    /// The classified text.
    pub text: Bound,
    /// The quantity.
    pub quantity: Bound,
    /// The unit, when the export has one.
    pub unit: Option<Bound>,
    /// The unit price, when the export has one.
    pub price: Option<Bound>,
    /// The cost in the price's currency, when the export has it.
    pub price_cost: Option<Bound>,
    /// The pricing-to-billing exchange rate, when the export has it.
    pub exchange_rate: Option<Bound>,
    /// The price's currency, when the export has it.
    pub price_currency: Option<Bound>,
}

impl Mapping {
    /// The columns the mapping reads as dates, quantities, money, key or meter text.
    pub fn read_columns(&self) -> Vec<usize> {
        let bound = [
            Some(&self.bucket_start),
            self.bucket_end.as_ref(),
            self.requests.as_ref(),
            self.input_tokens.as_ref(),
            self.cached_input_tokens.as_ref(),
            self.output_tokens.as_ref(),
            self.cost.as_ref(),
        ];
        let mut out: Vec<usize> = bound
            .into_iter()
            .flatten()
            .flat_map(|b| b.columns.iter().map(|(i, _)| *i))
            .collect();
        if let Some(m) = &self.meter {
            out.extend(m.quantity.columns.iter().map(|(i, _)| *i));
            out.extend(m.text.columns.iter().map(|(i, _)| *i));
        }
        out.extend(&self.key_columns);
        out
    }

    /// Every bound field with its canonical name, for `inspect`.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let label = |b: &Bound| {
            let l = b.column_label();
            if l.is_empty() {
                format!(
                    "(constant '{}')",
                    b.spec.default.clone().unwrap_or_default()
                )
            } else {
                l
            }
        };
        let mut fields: Vec<(&'static str, Option<&Bound>)> = vec![
            ("bucket_start", Some(&self.bucket_start)),
            ("bucket_end", self.bucket_end.as_ref()),
            ("model", self.model.as_ref()),
            ("requests", self.requests.as_ref()),
            ("input_tokens", self.input_tokens.as_ref()),
            ("cached_input_tokens", self.cached_input_tokens.as_ref()),
            ("output_tokens", self.output_tokens.as_ref()),
            ("cost", self.cost.as_ref()),
            ("currency", self.currency.as_ref()),
            ("region", self.region.as_ref()),
            ("cost_centre", self.cost_centre.as_ref()),
            ("account", self.account.as_ref()),
            ("service", self.service.as_ref()),
            ("price_tier", self.price_tier.as_ref()),
        ];
        if let Some(m) = &self.meter {
            fields.push(("meter (classified)", Some(&m.text)));
            fields.push(("meter quantity", Some(&m.quantity)));
            fields.push(("meter unit", m.unit.as_ref()));
            fields.push(("meter unit price", m.price.as_ref()));
            fields.push(("meter cost in the price's currency", m.price_cost.as_ref()));
            fields.push((
                "meter exchange rate (pricing to billing)",
                m.exchange_rate.as_ref(),
            ));
            fields.push(("meter price currency", m.price_currency.as_ref()));
        }
        for (b, _) in &self.adjustment {
            fields.push(("adjustment type", Some(b)));
        }
        fields
            .into_iter()
            .filter_map(|(n, b)| b.map(|b| (n, label(b))))
            .collect()
    }
}

/// Normalises a header cell for comparison.
pub fn header_key(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '"')
        .to_lowercase()
}

/// How well a template fits one header row.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The template.
    pub template: Arc<Template>,
    /// Required columns present.
    pub required_found: usize,
    /// Required columns missing.
    pub missing: Vec<String>,
    /// Optional columns present.
    pub optional_found: usize,
}

impl Fit {
    /// True when every required column is present.
    pub fn matches(&self) -> bool {
        self.missing.is_empty()
    }
}

/// The set of templates a run knows: built-in ones plus user files.
#[derive(Debug, Clone, Default)]
pub struct TemplateSet {
    templates: Vec<Arc<Template>>,
}

impl TemplateSet {
    /// The built-in templates (templates/*.toml, embedded at build time).
    pub fn builtin() -> Result<TemplateSet, TemplateError> {
        let mut set = TemplateSet::default();
        for (name, text) in crate::embedded::TEMPLATES {
            set.add(Template::from_toml(text, &format!("templates/{name}"))?)?;
        }
        Ok(set)
    }

    /// Adds a template; a user template with a built-in id replaces it.
    pub fn add(&mut self, t: Template) -> Result<(), TemplateError> {
        self.templates.retain(|x| x.id != t.id);
        self.templates.push(Arc::new(t));
        self.templates.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(())
    }

    /// All templates, sorted by id.
    pub fn all(&self) -> &[Arc<Template>] {
        &self.templates
    }

    /// Fits of every template against a header row, best first.
    pub fn fits(&self, header: &[String]) -> Vec<Fit> {
        let keys: std::collections::HashSet<String> =
            header.iter().map(|h| header_key(h)).collect();
        let mut fits: Vec<Fit> = self
            .templates
            .iter()
            .map(|t| {
                let present =
                    |c: &OneOrMany| c.names().iter().any(|n| keys.contains(&header_key(n)));
                let missing: Vec<String> = t
                    .detect
                    .required
                    .iter()
                    .filter(|c| !present(c))
                    .map(|c| c.names().join(" or "))
                    .collect();
                let optional_found = t.detect.optional.iter().filter(|c| present(c)).count();
                Fit {
                    template: t.clone(),
                    required_found: t.detect.required.len() - missing.len(),
                    missing,
                    optional_found,
                }
            })
            .collect();
        fits.sort_by(|a, b| {
            (
                b.matches(),
                b.required_found + b.optional_found,
                b.required_found,
            )
                .cmp(&(
                    a.matches(),
                    a.required_found + a.optional_found,
                    a.required_found,
                ))
                .then_with(|| a.template.id.cmp(&b.template.id))
        });
        fits
    }

    /// The best matching template for a header row, bound to its columns.
    pub fn detect(&self, header: &[String]) -> Option<Result<Mapping, String>> {
        let fit = self.fits(header).into_iter().find(Fit::matches)?;
        Some(bind(fit.template, header))
    }
}

/// Binds one field to the columns of a header row: every alternative name present (numbers
/// read the first, text the first non-empty), then the `sum` columns present. `None` when no
/// column is present and the field has no default.
pub fn bind_field(header: &[String], spec: &FieldSpec) -> Option<Bound> {
    let find = |name: &str| {
        let key = header_key(name);
        header.iter().position(|h| header_key(h) == key)
    };
    let mut columns = vec![];
    // Alternative names: every one present is bound; numbers read the first, text the
    // first non-empty (EA's CostCenter is often empty where SubscriptionName is not).
    for n in spec.column.names() {
        if let Some(i) = find(n) {
            if !columns.iter().any(|(j, _)| *j == i) {
                columns.push((i, header[i].trim().to_string()));
            }
        }
    }
    let alternatives = !columns.is_empty();
    for n in &spec.sum {
        if let Some(i) = find(n) {
            columns.push((i, header[i].trim().to_string()));
        }
    }
    if columns.is_empty() && spec.default.is_none() {
        return None;
    }
    Some(Bound {
        columns,
        alternatives,
        spec: spec.clone(),
    })
}

/// Binds a template's fields to the columns of a header row.
pub fn bind(template: Arc<Template>, header: &[String]) -> Result<Mapping, String> {
    let index: Vec<String> = header.iter().map(|h| header_key(h)).collect();
    let find = |name: &str| {
        let key = header_key(name);
        index.iter().position(|h| *h == key)
    };
    let bind_one = |spec: &FieldSpec| bind_field(header, spec);
    let f = &template.fields;
    let column_spec = |c: &OneOrMany| FieldSpec {
        column: c.clone(),
        ..FieldSpec::default()
    };
    let meter = match &template.meter {
        None => None,
        Some(m) => {
            let text = bind_one(&column_spec(&m.column)).ok_or_else(|| {
                format!(
                    "template '{}': the meter column ({}) is missing",
                    template.id,
                    m.column.names().join(" or ")
                )
            })?;
            let quantity = bind_one(&column_spec(&m.quantity)).ok_or_else(|| {
                format!(
                    "template '{}': the quantity column ({}) is missing",
                    template.id,
                    m.quantity.names().join(" or ")
                )
            })?;
            Some(BoundMeter {
                spec: m.clone(),
                text,
                quantity,
                unit: bind_one(&column_spec(&m.unit)),
                price: bind_one(&column_spec(&m.price)),
                price_cost: bind_one(&column_spec(&m.price_cost)),
                exchange_rate: bind_one(&column_spec(&m.exchange_rate)),
                price_currency: bind_one(&column_spec(&m.price_currency)),
            })
        }
    };
    let skips = template
        .skip
        .iter()
        .filter_map(|r| bind_one(&column_spec(&r.column)).map(|b| (b, r.clone())))
        .collect();
    let adjustment = template
        .adjustment
        .iter()
        .filter_map(|a| bind_one(&column_spec(&a.column)).map(|b| (b, a.clone())))
        .collect();
    let required = |name: &str, spec: &FieldSpec| {
        bind_one(spec).ok_or_else(|| {
            format!(
                "template '{}' needs a column for {name} ({}) and the header has none",
                template.id,
                spec.column.names().join(" or ")
            )
        })
    };
    let mut mapping = Mapping {
        provider: Arc::from(template.provider.as_str()),
        header: header.iter().map(|h| h.trim().to_string()).collect(),
        bucket_start: required("bucket_start", &f.bucket_start)?,
        bucket_end: f.bucket_end.as_ref().and_then(bind_one),
        model: match (&f.model, &meter) {
            (Some(spec), None) => Some(required("model", spec)?),
            (Some(spec), Some(_)) => bind_one(spec),
            (None, _) => None,
        },
        skips,
        adjustment,
        meter,
        requests: f.requests.as_ref().and_then(bind_one),
        input_tokens: f.input_tokens.as_ref().and_then(bind_one),
        cached_input_tokens: f.cached_input_tokens.as_ref().and_then(bind_one),
        output_tokens: f.output_tokens.as_ref().and_then(bind_one),
        cost: f.cost.as_ref().and_then(bind_one),
        currency: f.currency.as_ref().and_then(bind_one),
        region: f.region.as_ref().and_then(bind_one),
        cost_centre: f.cost_centre.as_ref().and_then(bind_one),
        account: f.account.as_ref().and_then(bind_one),
        service: f.service.as_ref().and_then(bind_one),
        price_tier: f.price_tier.as_ref().and_then(bind_one),
        parts: template
            .parts
            .iter()
            .filter_map(|p| {
                Some(BoundPart {
                    quantity: bind_one(&column_spec(&p.column))?,
                    cached: bind_one(&column_spec(&p.cached)),
                    spec: p.clone(),
                })
            })
            .collect(),
        key_columns: template
            .keys
            .iter()
            .filter_map(|k| k.names().iter().find_map(|n| find(n)))
            .collect(),
        origin: super::origin::bind(&index),
        template,
    };
    if let Some(origin) = &mapping.origin {
        let grouped = super::origin::grouped_columns(origin, header.len(), &mapping.read_columns());
        if let Some(o) = mapping.origin.as_mut() {
            o.grouped = grouped;
        }
    }
    Ok(mapping)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_parse() {
        let set = TemplateSet::builtin().unwrap();
        assert!(set.all().len() >= 3);
    }

    #[test]
    fn widths_parse() {
        assert_eq!(parse_width("1h"), Some(3600));
        assert_eq!(parse_width("1d"), Some(86400));
        assert_eq!(parse_width("15m"), Some(900));
        assert_eq!(parse_width("h"), None);
        assert_eq!(parse_width("0h"), None);
    }

    #[test]
    fn header_keys_ignore_bom_case_and_space() {
        assert_eq!(header_key("\u{feff}Start_Time "), "start_time");
    }
}
