//! The canonical data of the pipeline: usage records, their provenance, rejections, periods.
//!
//! Everything here is plain data shared by every stage. It holds no vendor knowledge (that is
//! in templates/) and no factor knowledge (that is in the factor set), and it does no I/O.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The default of `--max-lines` / `[limits] max_lines`: distinct AI Services lines a report may
/// hold. Memory grows with distinct lines (docs/performance.md), so a run past it stops while
/// reading, naming the field with the most distinct values.
pub const DEFAULT_MAX_LINES: usize = 100_000;

/// Calculation lines (a line within one file or sheet) allowed per AI Services line of the
/// limit: the same lines repeated in many files.
pub const CALC_LINES_PER_LINE: usize = 4;

/// Why a record sink refused a record: the file's reading stops there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkStop {
    /// The record cannot be used (a count overflows ...); the message says why.
    Failed(String),
    /// The report would hold more distinct lines than its limit.
    TooManyLines(TooManyLines),
}

/// More distinct lines than the limit, with the field that has the most distinct values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyLines {
    /// What was counted: `AI Services lines` or `calculation lines`.
    pub what: &'static str,
    /// The limit.
    pub limit: usize,
    /// The canonical field (`cost_centre`, `model` ...) with the most distinct values, or
    /// `file` when the same lines repeat over many files.
    pub field: &'static str,
    /// Its distinct values so far.
    pub distinct: usize,
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl std::fmt::Display for SinkStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SinkStop::Failed(m) => f.write_str(m),
            SinkStop::TooManyLines(t) => f.write_str(&t.message(None)),
        }
    }
}

impl From<SinkStop> for String {
    fn from(s: SinkStop) -> String {
        s.to_string()
    }
}

impl From<String> for SinkStop {
    fn from(s: String) -> SinkStop {
        SinkStop::Failed(s)
    }
}

impl TooManyLines {
    /// The message, with the column the field was read from when known.
    pub fn message(&self, column: Option<&str>) -> String {
        let (noun, fix) = match self.field {
            "cost_centre" => (
                "cost centres",
                "map them to fewer cost centres in llm-scope3.toml ([[cost_centres]] rules with match patterns)",
            ),
            "model" => (
                "models",
                "check that the format's template reads the model from the right column",
            ),
            "region" => (
                "regions",
                "check that the format's template reads the region from the right column",
            ),
            "account" => (
                "billing accounts",
                "report groups of billing accounts separately",
            ),
            "service" => (
                "services",
                "check that the format's template reads the service from the right column",
            ),
            "month" => ("months", "report a shorter period"),
            "file" => (
                "files or sheets repeating the same lines",
                "report fewer files at once, or import them into a ledger",
            ),
            _ => ("values", "report fewer files at once"),
        };
        let from = match column {
            Some(c) if !c.is_empty() => format!(" ({} from column {c})", self.field),
            _ => format!(" ({})", self.field),
        };
        format!(
            "more than {} distinct {} (the limit), with {} distinct {noun}{from} so far. {}: {fix}, \
             or raise the limit with --max-lines N (or max_lines under [limits] in llm-scope3.toml); \
             memory grows with the lines (docs/performance.md).",
            thousands(self.limit),
            self.what,
            thousands(self.distinct),
            if self.field == "file" { "Too many" } else { "Too many distinct values" },
        )
    }
}

/// Where a record or a rejection came from: the file as named on the command line, the sheet
/// (XLSX only) and the 1-based row number as Excel or an editor shows it (header included).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Provenance {
    /// The input's index in the run (inputs are processed in sorted path order).
    pub file_index: usize,
    /// The file as named on the command line (or found in a named folder).
    pub file: Arc<str>,
    /// The worksheet name for spreadsheet inputs, `None` for CSV.
    pub sheet: Option<Arc<str>>,
    /// 1-based row number, header included.
    pub row: u64,
}

/// One usage bucket of one vendor export row, in canonical form.
///
/// `input_tokens` always includes cached tokens and `cached_input_tokens <= input_tokens`.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    /// Bucket start (UTC): decides the reporting period and month.
    pub bucket_start: DateTime<Utc>,
    /// Bucket end (UTC, exclusive).
    pub bucket_end: DateTime<Utc>,
    /// Provider key as the factor set names it (`openai`, `anthropic`, ...).
    pub provider: Arc<str>,
    /// Model id as the export wrote it.
    pub model: String,
    /// Serving region (cloud region code or `country:ISO3`), when the export says.
    pub region: Option<String>,
    /// Project / workspace / account / tag, whatever the vendor gives.
    pub cost_centre: Option<String>,
    /// The billing account, when the template names one (matching key of vendor carbon data).
    pub account: Option<String>,
    /// The vendor service after the template's map (`vertex-ai`, `bedrock`), when it names one.
    pub service: Option<String>,
    /// Number of requests (0 when the export does not say).
    pub requests: u64,
    /// True when the row gave a request count (a real 0 included); false when the export has
    /// no request column or the row's cell is empty, so that `requests` 0 is not read as "no
    /// requests".
    pub requests_reported: bool,
    /// All input tokens, cached included.
    pub input_tokens: u64,
    /// The cached part of `input_tokens`.
    pub cached_input_tokens: u64,
    /// Output tokens (reasoning tokens included).
    pub output_tokens: u64,
    /// Cost on the row, when the export carries one.
    pub cost: Option<f64>,
    /// ISO currency of `cost`, upper case.
    pub currency: Option<String>,
    /// Input characters (SKUs billed per character; converted to tokens by the estimate).
    pub input_characters: u64,
    /// Output characters.
    pub output_characters: u64,
    /// `global` or `datazone` when the deployment may be served outside `region`.
    pub region_scope: Option<String>,
    /// Usage, a billed item the method cannot estimate yet, or a money-only adjustment.
    pub kind: RecordKind,
    /// Identity of the row's bucket in the vendor's data: template, account, the values of the
    /// template's key columns, the meter text, bucket start and end. Two imports holding a
    /// record with the same key describe the same usage (the ledger resolves them).
    pub key: String,
    /// Where the record came from.
    pub provenance: Provenance,
}

/// What a record is.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordKind {
    /// Token, character or request activity.
    Usage,
    /// A billed item without a token estimate (provisioned throughput hours, caching storage,
    /// images ...): listed with its quantity and spend, never dropped.
    NotEstimated {
        /// What it is.
        label: String,
        /// Quantity as exported.
        quantity: f64,
        /// Unit as exported.
        unit: String,
        /// True for cost-export rows (spend of usage that a usage export may also carry):
        /// estimated by the spend method only where no usage export covers the provider and
        /// month; false for billed items no token export carries (provisioned throughput ...).
        spend_only: bool,
    },
    /// Money only (tax, credit, refund, fee): a spend adjustment, never activity.
    Adjustment {
        /// The line type as exported (`Tax`, `Credit` ...).
        label: String,
    },
}

/// Price tiers a spend item may be billed at besides the standard one: batch, flex and
/// priority processing, and Anthropic's fast mode. Price inversion divides by the tier's
/// price (the factor set's `price_tier_<tier>` multiple of the list price).
pub const PRICE_TIERS: &[&str] = &["batch", "flex", "priority", "fast"];

/// A spend item's label with the tier it was billed at (`spend (OpenAI cost export), billed
/// at priority prices`). The tier lives in the label, which the ledger stores with the item,
/// so that an item read back from the ledger is priced as the one read from the file; an
/// unknown or standard tier leaves the label as it is.
pub fn label_with_price_tier(label: &str, tier: &str) -> String {
    let tier = tier.trim().to_ascii_lowercase();
    match PRICE_TIERS.iter().find(|t| **t == tier) {
        Some(t) => format!("{label}, billed at {t} prices"),
        None => label.to_string(),
    }
}

/// The tier of a label made by [`label_with_price_tier`], if any.
pub fn price_tier(label: &str) -> Option<&'static str> {
    let (_, rest) = label.rsplit_once(", billed at ")?;
    let tier = rest.strip_suffix(" prices")?;
    PRICE_TIERS.iter().copied().find(|t| *t == tier)
}

impl UsageRecord {
    /// True when the record has requests but no token counts: its tokens are imputed.
    pub fn tokens_unknown(&self) -> bool {
        self.input_tokens == 0
            && self.output_tokens == 0
            && self.input_characters == 0
            && self.output_characters == 0
            && self.requests > 0
    }
}

/// A data row that could not be used, with everything a user needs to find and fix it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// The file as named on the command line.
    pub file: String,
    /// The worksheet, for spreadsheet inputs.
    pub sheet: Option<String>,
    /// 1-based row number, header included.
    pub row: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// The offending value as read; one longer than [`REJECTED_TEXT_CHARS`] characters is
    /// kept cut, its first characters followed by a marker giving its full length
    /// ([`Rejection::value_cut`] tells them apart). Build with [`Rejection::new`].
    pub value: Option<String>,
    /// What was wrong and what was expected, in plain words (cut as `value` is, for a reason
    /// that quotes a long value).
    pub reason: String,
    /// A digest of the row's cells, so that the ledger counts a bad row seen again in an
    /// overlapping re-download once.
    #[serde(skip)]
    pub row_hash: Option<String>,
    /// The row's amount and currency, when its cost cell could be read.
    #[serde(skip)]
    pub money: Option<(String, f64)>,
}

/// Characters kept of a rejected row's value (and of a reason that quotes one): a longer
/// text is cut to its first 1,024 characters, on a character boundary, when the rejection is
/// made, and a marker gives its full length.
///
/// Rejections are listed in the workbook, the CSV tables, the JSON summary, the ledger and on
/// the upload page, and every one listed is held in memory until the report is written. Held
/// whole, a file of 40 rows with a 15 MiB value in a numeric column took about 0.8 GB and
/// wrote a 629 MB JSON summary. A value worth showing (a number, a date, a model name, a unit)
/// is far shorter than 1,024 characters, and with at most
/// [`crate::normalise::REJECTIONS_LISTED_PER_REASON`] rejections listed per reason and 200
/// reasons per file, a file's listed values stay under about 20 million characters, whatever
/// its cells hold.
pub const REJECTED_TEXT_CHARS: usize = 1_024;

/// The marker after a rejected text cut to [`REJECTED_TEXT_CHARS`] characters, in the words of
/// the workbook's cell marker (`report::cell_text`): `what` was cut, and how long it was.
fn rejected_cut_marker(what: &str, chars: u64) -> String {
    format!(
        " [... cut to its first {REJECTED_TEXT_CHARS} characters when read: the {what} has {chars} characters; no output keeps it whole]"
    )
}

/// The kept characters of a text cut by [`rejected_text`] and its full length in characters;
/// `None` for a text that was not cut.
fn rejected_cut_parts<'a>(s: &'a str, what: &str) -> Option<(&'a str, u64)> {
    let (end, _) = s.char_indices().nth(REJECTED_TEXT_CHARS)?;
    let (kept, marker) = s.split_at(end);
    let head = format!(
        " [... cut to its first {REJECTED_TEXT_CHARS} characters when read: the {what} has "
    );
    let chars = marker
        .strip_prefix(head.as_str())?
        .strip_suffix(" characters; no output keeps it whole]")?;
    if !chars.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let chars: u64 = chars.parse().ok()?;
    (chars > REJECTED_TEXT_CHARS as u64).then_some((kept, chars))
}

/// `s` as a rejection keeps it (`what` names it in the marker: `value`, `reason`): whole when
/// it has at most [`REJECTED_TEXT_CHARS`] characters (or was cut already), else its first
/// [`REJECTED_TEXT_CHARS`] characters and a marker giving its full length. Copies only what
/// it keeps, so a 15 MiB cell is never copied whole.
pub fn rejected_text(s: &str, what: &str) -> String {
    match s.char_indices().nth(REJECTED_TEXT_CHARS) {
        Some((end, _)) if rejected_cut_parts(s, what).is_none() => {
            let chars = REJECTED_TEXT_CHARS as u64 + s[end..].chars().count() as u64;
            let marker = rejected_cut_marker(what, chars);
            let mut out = String::with_capacity(end + marker.len());
            out.push_str(&s[..end]);
            out.push_str(&marker);
            out
        }
        _ => s.to_string(),
    }
}

/// [`rejected_text`] of an owned text, which is kept as it is when it needs no cut.
fn rejected_owned(s: String, what: &str) -> String {
    match s.char_indices().nth(REJECTED_TEXT_CHARS) {
        Some(_) if rejected_cut_parts(&s, what).is_none() => rejected_text(&s, what),
        _ => s,
    }
}

impl Rejection {
    /// A rejection of row `row` (1-based, header included) of `file`, with its value and
    /// reason cut to [`REJECTED_TEXT_CHARS`] characters ([`rejected_text`]); no row hash and
    /// no money (the caller sets them when it has them). Every rejection is made here, so that
    /// no cell can make the rejections hold more than that.
    pub fn new(
        file: String,
        sheet: Option<String>,
        row: u64,
        column: Option<String>,
        value: Option<String>,
        reason: String,
    ) -> Rejection {
        Rejection {
            file,
            sheet,
            row,
            column,
            value: value.map(|v| rejected_owned(v, "value")),
            reason: rejected_owned(reason, "reason"),
            row_hash: None,
            money: None,
        }
    }

    /// The rejection with its value and reason cut as [`Rejection::new`] cuts them: for
    /// rejections read back from a ledger written before they were cut.
    pub fn bounded(self) -> Rejection {
        Rejection {
            value: self.value.map(|v| rejected_owned(v, "value")),
            reason: rejected_owned(self.reason, "reason"),
            ..self
        }
    }

    /// The characters kept of a value cut when the rejection was made, and the value's full
    /// length in characters; `None` when the value is whole (or absent).
    pub fn value_cut(&self) -> Option<(&str, u64)> {
        rejected_cut_parts(self.value.as_deref()?, "value")
    }

    /// The value for a message (a terminal line): at most `n` characters, then a marker with
    /// the length the value had when read ([`shortened`]); empty when there is none.
    pub fn value_shown(&self, n: usize) -> std::borrow::Cow<'_, str> {
        match self.value_cut() {
            Some((kept, chars)) => {
                let end = kept.char_indices().nth(n).map_or(kept.len(), |(i, _)| i);
                std::borrow::Cow::Owned(format!("{}… ({chars} characters)", &kept[..end]))
            }
            None => shortened(self.value.as_deref().unwrap_or(""), n),
        }
    }

    /// True when the reason was cut when the rejection was made (it quoted a long value).
    pub fn reason_cut(&self) -> bool {
        rejected_cut_parts(&self.reason, "reason").is_some()
    }
}

/// Why a data row was skipped (counted, not rejected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Every cell empty.
    Blank,
    /// A bucket with a date but no usage (OpenAI writes days without usage this way).
    EmptyBucket,
    /// A row of another service in the same export (not an LLM meter).
    OtherService,
    /// A vendor total or subtotal row.
    TotalRow,
    /// The header row repeated (after a page break).
    RepeatedHeader,
}

impl SkipReason {
    /// Plain-words label used in reports.
    pub fn label(self) -> &'static str {
        match self {
            SkipReason::Blank => "blank row",
            SkipReason::EmptyBucket => "empty usage bucket",
            SkipReason::OtherService => "other service (not an LLM line)",
            SkipReason::TotalRow => "vendor total row",
            SkipReason::RepeatedHeader => "repeated header row",
        }
    }
}

/// A reporting period: inclusive start and end dates and a label (`2026Q1`, `2026`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// First day of the period.
    pub start: NaiveDate,
    /// Last day of the period (inclusive).
    pub end: NaiveDate,
    /// How the period is named in reports.
    pub label: String,
}

/// A period argument that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PeriodError(String);

impl Period {
    /// Every date a usage export may hold (2000-01-01 to 2100-12-31): what `inspect` and the
    /// ledger read files for.
    pub fn all_time() -> Period {
        Period {
            start: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN),
            end: NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(NaiveDate::MAX),
            label: "all".into(),
        }
    }

    /// Parses a calendar quarter such as `2026Q1`, `2026-Q1` or `2026q1`.
    pub fn quarter(text: &str) -> Result<Period, PeriodError> {
        let t = text.trim().to_ascii_uppercase().replace('-', "");
        let bad = || {
            PeriodError(format!(
                "'{text}' is not a quarter: write it as YEARQn, for example 2026Q1"
            ))
        };
        let (year, q) = t.split_once('Q').ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let q: u32 = q.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&q) || !(1900..=9999).contains(&year) {
            return Err(bad());
        }
        let start = NaiveDate::from_ymd_opt(year, (q - 1) * 3 + 1, 1).ok_or_else(bad)?;
        let end = end_of_month(year, q * 3).ok_or_else(bad)?;
        Ok(Period {
            start,
            end,
            label: format!("{year}Q{q}"),
        })
    }

    /// Parses a calendar year such as `2026`.
    pub fn year(text: &str) -> Result<Period, PeriodError> {
        let bad = || PeriodError(format!("'{text}' is not a year such as 2026"));
        let year: i32 = text.trim().parse().map_err(|_| bad())?;
        if !(1900..=9999).contains(&year) {
            return Err(bad());
        }
        Ok(Period {
            start: NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(bad)?,
            end: NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(bad)?,
            label: format!("{year}"),
        })
    }

    /// A period from two ISO dates, both inclusive.
    pub fn range(from: &str, to: &str) -> Result<Period, PeriodError> {
        let parse = |s: &str| {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| PeriodError(format!("'{s}' is not a date: write it as YYYY-MM-DD")))
        };
        let (start, end) = (parse(from)?, parse(to)?);
        if end < start {
            return Err(PeriodError(format!(
                "the period ends ({end}) before it starts ({start})"
            )));
        }
        Ok(Period {
            start,
            end,
            label: format!("{start} to {end}"),
        })
    }

    /// The same quarter or year of a fiscal year starting in `start_month` (1 = calendar):
    /// `2026Q1` with April starts on 2026-04-01. The label is kept; reports print the dates.
    pub fn shifted(self, start_month: u32) -> Period {
        use chrono::Months;
        if start_month <= 1 || start_month > 12 {
            return self;
        }
        let months = (self.end.year() - self.start.year()) as u32 * 12 + self.end.month() + 1
            - self.start.month();
        let start = self.start.checked_add_months(Months::new(start_month - 1));
        let end = start
            .and_then(|s| s.checked_add_months(Months::new(months)))
            .and_then(|d| d.pred_opt());
        match (start, end) {
            (Some(start), Some(end)) => Period {
                start,
                end,
                label: self.label,
            },
            _ => self,
        }
    }

    /// True when the date lies inside the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }

    /// The months of the period as `YYYY-MM`, in order.
    pub fn months(&self) -> Vec<String> {
        let mut out = Vec::new();
        let (mut y, mut m) = (self.start.year(), self.start.month());
        while (y, m) <= (self.end.year(), self.end.month()) {
            out.push(format!("{y:04}-{m:02}"));
            if m == 12 {
                y += 1;
                m = 1;
            } else {
                m += 1;
            }
        }
        out
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} to {})", self.label, self.start, self.end)
    }
}

fn end_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()
}

/// Low / central / high values of one quantity (a bounding envelope, not a statistical interval).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Bounds {
    /// Every factor at its low value.
    pub low: f64,
    /// Every factor at its central value.
    pub central: f64,
    /// Every factor at its high value.
    pub high: f64,
}

impl Bounds {
    /// The same value three times.
    pub fn flat(v: f64) -> Bounds {
        Bounds {
            low: v,
            central: v,
            high: v,
        }
    }

    /// Applies `f` to each of the three values.
    pub fn map(self, f: impl Fn(f64) -> f64) -> Bounds {
        Bounds {
            low: f(self.low),
            central: f(self.central),
            high: f(self.high),
        }
    }

    /// Combines two bounds value by value (low with low, central with central, high with high).
    pub fn zip(self, other: Bounds, f: impl Fn(f64, f64) -> f64) -> Bounds {
        Bounds {
            low: f(self.low, other.low),
            central: f(self.central, other.central),
            high: f(self.high, other.high),
        }
    }
}

/// The month (`YYYY-MM`) of a timestamp.
pub fn month_of(t: &DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejected_value_is_cut_on_a_character_boundary_and_keeps_its_length() {
        let r = |value: String| {
            Rejection::new(
                "f.csv".into(),
                None,
                2,
                Some("input_tokens".into()),
                Some(value),
                "expected a number of tokens".into(),
            )
        };
        // 1,024 characters: whole.
        let whole = r("9".repeat(1_024));
        assert_eq!(whole.value.as_deref(), Some("9".repeat(1_024).as_str()));
        assert_eq!(whole.value_cut(), None);
        // 1,023 ASCII then 3 four-byte characters: 1,026 characters, cut after the first
        // 4-byte one (1,024 characters, 1,027 bytes), 1,026 in all.
        let cut = r(format!("{}😀😀😀", "9".repeat(1_023)));
        let kept = format!("{}😀", "9".repeat(1_023));
        assert_eq!(cut.value_cut(), Some((kept.as_str(), 1_026)));
        assert_eq!(
            cut.value.as_deref(),
            Some(format!("{kept} [... cut to its first 1024 characters when read: the value has 1026 characters; no output keeps it whole]").as_str())
        );
        // Cutting again changes nothing (a rejection read back from the ledger).
        assert_eq!(cut.clone().bounded(), cut);
        assert_eq!(
            rejected_text(cut.value.as_deref().unwrap(), "value"),
            cut.value.unwrap()
        );
        // 15 MiB: 1,024 characters kept.
        let big = r("7".repeat(15 * 1024 * 1024));
        assert_eq!(
            big.value_cut().map(|(k, n)| (k.len(), n)),
            Some((1_024, 15_728_640))
        );
        assert!(big.value.as_ref().unwrap().len() < 1_200);
        // A reason quoting a long value is cut too; a short one is not.
        let reason = Rejection::new(
            "f".into(),
            None,
            2,
            None,
            None,
            format!("unknown unit '{}'", "u".repeat(5_000)),
        );
        assert!(reason.reason_cut());
        assert!(reason
            .reason
            .ends_with("the reason has 5015 characters; no output keeps it whole]"));
        assert!(!whole.reason_cut());
        // On the terminal: 200 characters and the length as read.
        assert_eq!(big.value_shown(3), "777… (15728640 characters)");
        assert_eq!(whole.value_shown(2000), "9".repeat(1_024));
    }

    #[test]
    fn a_text_quoted_in_a_message_is_shortened_with_its_length() {
        assert_eq!(shortened("gpt-4o", 6), "gpt-4o");
        assert_eq!(shortened("gpt-4o-mini", 6), "gpt-4o… (11 characters)");
        assert_eq!(shortened("ééééé", 2), "éé… (5 characters)");
    }

    #[test]
    fn a_price_tier_survives_the_label_and_nothing_else_is_one() {
        let l = label_with_price_tier("spend (OpenAI cost export)", " Priority ");
        assert_eq!(l, "spend (OpenAI cost export), billed at priority prices");
        assert_eq!(price_tier(&l), Some("priority"));
        for standard in ["", "default", "standard", "message", "scale", "auto"] {
            let l = label_with_price_tier("spend (Anthropic cost export)", standard);
            assert_eq!(l, "spend (Anthropic cost export)");
            assert_eq!(price_tier(&l), None);
        }
        assert_eq!(
            price_tier("provisioned throughput, billed at cheap prices"),
            None
        );
        assert_eq!(price_tier("spend, billed at batch prices"), Some("batch"));
    }

    #[test]
    fn quarter_parses_and_bounds() {
        let p = Period::quarter("2026q1").unwrap();
        assert_eq!(p.start, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert_eq!(p.end, NaiveDate::from_ymd_opt(2026, 3, 31).unwrap());
        assert_eq!(p.label, "2026Q1");
        let q4 = Period::quarter("2025-Q4").unwrap();
        assert_eq!(q4.end, NaiveDate::from_ymd_opt(2025, 12, 31).unwrap());
        assert_eq!(q4.months(), vec!["2025-10", "2025-11", "2025-12"]);
        assert!(Period::quarter("2026Q5").is_err());
        assert!(Period::quarter("Q1").is_err());
        assert!(Period::quarter("").is_err());
    }

    #[test]
    fn fiscal_quarters_follow_the_start_month() {
        // Fiscal year starting in April: 2026Q1 = Apr-Jun 2026, 2026Q4 = Jan-Mar 2027.
        let q1 = Period::quarter("2026Q1").unwrap().shifted(4);
        assert_eq!(
            (q1.start.to_string(), q1.end.to_string()),
            ("2026-04-01".into(), "2026-06-30".into())
        );
        let q4 = Period::quarter("2026Q4").unwrap().shifted(4);
        assert_eq!(
            (q4.start.to_string(), q4.end.to_string()),
            ("2027-01-01".into(), "2027-03-31".into())
        );
        let fy = Period::year("2026").unwrap().shifted(7);
        assert_eq!(
            (fy.start.to_string(), fy.end.to_string()),
            ("2026-07-01".into(), "2027-06-30".into())
        );
        assert_eq!(
            Period::quarter("2026Q1").unwrap().shifted(1),
            Period::quarter("2026Q1").unwrap()
        );
    }

    #[test]
    fn range_rejects_reversed_dates() {
        assert!(Period::range("2026-03-01", "2026-01-01").is_err());
        let p = Period::range("2026-01-15", "2026-02-10").unwrap();
        assert_eq!(p.months(), vec!["2026-01", "2026-02"]);
    }
}

/// One row of a vendor carbon report, in kgCO2e.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CarbonRow {
    /// The input's index in the run.
    pub file_index: usize,
    /// The file as named.
    pub file: String,
    /// Sheet, for spreadsheets.
    pub sheet: Option<String>,
    /// 1-based row number.
    pub row: u64,
    /// Carbon template id.
    pub template: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Provider key.
    pub provider: String,
    /// Billing account, when the export names one.
    pub account: Option<String>,
    /// Project / usage account / resource group.
    pub sub_account: Option<String>,
    /// Service key (after the template's map).
    pub service: String,
    /// Service as the vendor names it.
    pub service_name: String,
    /// Region code, lower case; `global` when the export leaves it empty.
    pub region: String,
    /// Location-based total, kgCO2e.
    pub location_kg: Option<f64>,
    /// Market-based total, kgCO2e.
    pub market_kg: Option<f64>,
    /// Scope 1, kgCO2e.
    pub scope1_kg: Option<f64>,
    /// Scope 2 location-based, kgCO2e.
    pub scope2_location_kg: Option<f64>,
    /// Scope 2 market-based, kgCO2e.
    pub scope2_market_kg: Option<f64>,
    /// Scope 3, kgCO2e.
    pub scope3_kg: Option<f64>,
    /// Vendor carbon model version.
    pub model_version: Option<String>,
    /// Shown for context only, never matched (the reason).
    pub context: Option<String>,
}

/// The most text a spreadsheet cell holds: 32,767 UTF-16 code units (Excel's limit).
pub const CELL_TEXT_MAX: usize = 32_767;

/// True when a text is longer than a spreadsheet cell holds (the workbook cuts it, the JSON
/// summary and the ledger keep it whole).
pub fn cut_in_a_cell(s: &str) -> bool {
    s.len() > CELL_TEXT_MAX && s.encode_utf16().count() > CELL_TEXT_MAX
}

/// Characters of a text from the inputs (a model name, a file name, a note) quoted in a
/// message: a warning, a line on the terminal. A model name or a path is far shorter; a longer
/// text is shortened by [`shortened`], whole in the tables of the report.
pub const QUOTED_TEXT_CHARS: usize = 200;

/// `s` for a message: whole when it has at most `n` characters, else its first `n` (cut on a
/// character boundary) and a marker giving its full length: `gpt-4o-xxx… (40007 characters)`.
pub fn shortened(s: &str, n: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(n) {
        None => std::borrow::Cow::Borrowed(s),
        Some((end, _)) => {
            let chars = n + s[end..].chars().count();
            std::borrow::Cow::Owned(format!("{}… ({chars} characters)", &s[..end]))
        }
    }
}
