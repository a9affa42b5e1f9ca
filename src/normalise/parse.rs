//! Cell values -> numbers and timestamps, the way finance spreadsheets write them.
//!
//! Every function returns `Ok(None)` for an empty cell and `Err(reason)` with what was
//! expected, in plain words, for a value that cannot be used. Nothing here panics.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use crate::ingest::CellRef;

/// The largest count accepted exactly from a floating-point cell (2^53).
const MAX_EXACT_FLOAT: f64 = 9_007_199_254_740_992.0;

/// Normalises the text of a number: trims, drops spaces and currency marks, applies the
/// decimal style. Returns the plain `-123.45` form and whether parentheses made it negative.
fn clean_number_text(raw: &str, decimal_comma: bool) -> Result<String, String> {
    let mut t: String = raw
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}' && *c != '\'')
        .collect();
    for mark in ["US$", "USD", "EUR", "GBP", "$", "€", "£", "¥"] {
        if let Some(rest) = t.strip_prefix(mark) {
            t = rest.to_string();
        }
        if let Some(rest) = t.strip_suffix(mark) {
            t = rest.to_string();
        }
    }
    let mut negative = false;
    if t.starts_with('(') && t.ends_with(')') && t.len() > 2 {
        negative = true;
        t = t[1..t.len() - 1].to_string();
    }
    if let Some(rest) = t.strip_prefix('-') {
        negative = !negative;
        t = rest.to_string();
    }
    if let Some(rest) = t.strip_prefix('+') {
        t = rest.to_string();
    }
    let has_dot = t.contains('.');
    let has_comma = t.contains(',');
    let plain = if has_dot && has_comma {
        // The last separator is the decimal one.
        if t.rfind(',') > t.rfind('.') {
            t.replace('.', "").replace(',', ".")
        } else {
            t.replace(',', "")
        }
    } else if has_comma {
        if decimal_comma {
            if t.matches(',').count() > 1 {
                return Err("more than one decimal comma".into());
            }
            t.replace(',', ".")
        } else if is_grouped(&t, ',') {
            t.replace(',', "")
        } else {
            return Err("a comma where a number was expected".into());
        }
    } else if has_dot && decimal_comma && is_grouped(&t, '.') {
        // Decimal-comma files write thousands with dots: 1.000 is one thousand.
        t.replace('.', "")
    } else {
        t
    };
    if plain.is_empty()
        || !plain
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+')
    {
        return Err("not a number".into());
    }
    Ok(if negative { format!("-{plain}") } else { plain })
}

/// How the text of a number uses dots and commas: evidence of a column's convention.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SepStyle {
    /// `12.5`, `155.0`: a decimal point (not three digits after one dot).
    DotDecimal,
    /// `1,234,567`, `1,234.5`: commas group thousands.
    CommaThousands,
    /// `12,5`: a decimal comma (not three digits after one comma).
    CommaDecimal,
    /// `1.234.567`, `1.234,5`: dots group thousands.
    DotThousands,
    /// `1.000`: one thousand with a dot, or one with three decimals.
    DotAmbiguous,
    /// `1,000`: one thousand with a comma, or one with a decimal comma.
    CommaAmbiguous,
}

impl SepStyle {
    /// All styles, in a fixed order (an index into per-style counters).
    pub const ALL: [SepStyle; 6] = [
        SepStyle::DotDecimal,
        SepStyle::CommaThousands,
        SepStyle::CommaDecimal,
        SepStyle::DotThousands,
        SepStyle::DotAmbiguous,
        SepStyle::CommaAmbiguous,
    ];
}

/// The separator style of a number written as text, `None` without a dot or comma (or when
/// it is not a number at all).
pub fn sep_style(t: &str) -> Option<SepStyle> {
    let t = t
        .trim()
        .trim_start_matches(['-', '+', '('])
        .trim_end_matches(')');
    if !t.contains(['.', ','])
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return None;
    }
    let (dots, commas) = (t.matches('.').count(), t.matches(',').count());
    let three_after = |sep: char| t.rsplit(sep).next().is_some_and(|g| g.len() == 3);
    // `0.003` and `0,003` are never grouped thousands.
    let zero_first = t.starts_with("0.") || t.starts_with("0,");
    Some(match (dots, commas) {
        (0, 1) if zero_first => SepStyle::CommaDecimal,
        (1, 0) if zero_first => SepStyle::DotDecimal,
        (0, 1) if is_grouped(t, ',') => SepStyle::CommaAmbiguous,
        (0, 1) => SepStyle::CommaDecimal,
        (0, _) => SepStyle::CommaThousands,
        (1, 0) if is_grouped(t, '.') && three_after('.') => SepStyle::DotAmbiguous,
        (1, 0) => SepStyle::DotDecimal,
        (_, 0) => SepStyle::DotThousands,
        _ if t.rfind('.') > t.rfind(',') => SepStyle::CommaThousands,
        _ => SepStyle::DotThousands,
    })
}

/// `1,234,567` style grouping with `sep`.
fn is_grouped(t: &str, sep: char) -> bool {
    let int_part = t.split('.').next().unwrap_or("");
    let int_part = if sep == '.' { t } else { int_part };
    let groups: Vec<&str> = int_part.split(sep).collect();
    groups.len() > 1
        && !groups[0].is_empty()
        && groups[0].len() <= 3
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit()))
}

/// A whole, non-negative count (tokens, requests). Floats such as `155.0` are accepted when
/// whole; `what` names the quantity in messages ("tokens").
pub fn count(cell: &CellRef<'_>, decimal_comma: bool, what: &str) -> Result<Option<u64>, String> {
    match cell {
        CellRef::Empty => Ok(None),
        CellRef::Number(n) => float_count(*n, what).map(Some),
        CellRef::Bool(_) => Err(format!("expected a number of {what}, found TRUE/FALSE")),
        CellRef::DateTime(_) => Err(format!("expected a number of {what}, found a date")),
        CellRef::Error(e) => Err(format!("expected a number of {what}, found {e}")),
        CellRef::Text(t) => {
            if t.trim().is_empty() {
                return Ok(None);
            }
            match plain_count(t, decimal_comma) {
                Some(n) => Ok(Some(n)),
                None => count_text(t, decimal_comma, what).map(Some),
            }
        }
    }
}

/// The general reading of a count written as text (any notation [`clean_number_text`] knows).
fn count_text(t: &str, decimal_comma: bool, what: &str) -> Result<u64, String> {
    let plain = clean_number_text(t, decimal_comma)
        .map_err(|why| format!("expected a number of {what} ({why})"))?;
    if let Some(digits) = plain.strip_prefix('-') {
        if digits.chars().all(|c| c == '0' || c == '.') {
            return Ok(0);
        }
        return Err(format!("negative {what}"));
    }
    // Exact path for plain integers (also 20-digit ones), then `123.000`.
    let int_part = match plain.split_once('.') {
        Some((i, frac)) if frac.chars().all(|c| c == '0') => i,
        Some(_) => "",
        None => plain.as_str(),
    };
    if !int_part.is_empty() && int_part.chars().all(|c| c.is_ascii_digit()) {
        return int_part
            .parse::<u64>()
            .map_err(|_| format!("{what} count too large to be real"));
    }
    let f: f64 = plain
        .parse()
        .map_err(|_| format!("expected a number of {what}"))?;
    float_count(f, what)
}

fn float_count(n: f64, what: &str) -> Result<u64, String> {
    if !n.is_finite() {
        return Err(format!(
            "expected a number of {what}, found an infinite or NaN value"
        ));
    }
    if n < 0.0 {
        return Err(format!("negative {what}"));
    }
    if n.fract() != 0.0 {
        return Err(format!("{what} must be a whole number"));
    }
    if n > MAX_EXACT_FLOAT {
        return Err(format!("{what} count too large to be real"));
    }
    Ok(n as u64)
}

/// The common case of [`count`] without allocating: digits, optionally `.` and zeros (`155.0`).
/// `None` for anything else, which the general path then reads (or rejects) the same way.
fn plain_count(t: &str, decimal_comma: bool) -> Option<u64> {
    let t = t.trim();
    let (int, frac) = match t.split_once('.') {
        // With a decimal comma, `1.000` is one thousand: the general path decides.
        Some(_) if decimal_comma => return None,
        Some((int, frac)) => (int, frac),
        None => (t, ""),
    };
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b == b'0')
    {
        return None;
    }
    int.parse().ok()
}

/// The common case of [`money`] without allocating: `-?digits(.digits)?`.
fn plain_amount(t: &str, decimal_comma: bool) -> Option<f64> {
    let t = t.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = match digits.split_once('.') {
        Some(_) if decimal_comma => return None,
        Some((int, frac)) => (int, frac),
        None => (digits, ""),
    };
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    t.parse().ok().filter(|v: &f64| v.is_finite())
}

/// An amount of money (may be negative: credits and refunds).
pub fn money(cell: &CellRef<'_>, decimal_comma: bool) -> Result<Option<f64>, String> {
    match cell {
        CellRef::Empty => Ok(None),
        CellRef::Number(n) if n.is_finite() => Ok(Some(*n)),
        CellRef::Number(_) => Err("expected an amount, found an infinite or NaN value".into()),
        CellRef::Text(t) if t.trim().is_empty() => Ok(None),
        CellRef::Text(t) => match plain_amount(t, decimal_comma) {
            Some(v) => Ok(Some(v)),
            None => money_text(t, decimal_comma).map(Some),
        },
        other => Err(format!("expected an amount, found {}", other.display())),
    }
}

/// The general reading of an amount written as text.
fn money_text(t: &str, decimal_comma: bool) -> Result<f64, String> {
    let plain =
        clean_number_text(t, decimal_comma).map_err(|why| format!("expected an amount ({why})"))?;
    let v: f64 = plain
        .parse()
        .map_err(|_| "expected an amount".to_string())?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err("expected an amount, found an out-of-range value".into())
    }
}

/// A parsed timestamp and whether the source carried a time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The instant (UTC).
    pub at: DateTime<Utc>,
    /// False for date-only values.
    pub has_time: bool,
}

/// Earliest and latest dates accepted (usage data from before LLM APIs or far in the future is
/// an error in the file, not usage).
fn plausible(d: NaiveDate) -> bool {
    d >= NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN)
        && d <= NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(NaiveDate::MAX)
}

fn utc(dt: NaiveDateTime, has_time: bool) -> Result<Stamp, String> {
    if !plausible(dt.date()) {
        return Err(format!(
            "the date {} is outside 2000-2100 and cannot be usage data",
            dt.date()
        ));
    }
    Ok(Stamp {
        at: Utc.from_utc_datetime(&dt),
        has_time,
    })
}

/// A timestamp. `how` is the template's `parse`: `unix`, `auto` (default) or a chrono format.
pub fn timestamp(cell: &CellRef<'_>, how: Option<&str>) -> Result<Option<Stamp>, String> {
    let how = how.unwrap_or("auto");
    match cell {
        CellRef::Empty => Ok(None),
        CellRef::Text(t) if t.trim().is_empty() => Ok(None),
        CellRef::DateTime(dt) => {
            let has_time = dt.time() != NaiveTime::MIN;
            utc(*dt, has_time).map(Some)
        }
        CellRef::Number(n) if how == "unix" => unix(*n).map(Some),
        CellRef::Number(n) => excel_serial(*n).map(Some),
        CellRef::Text(t) if how == "unix" => {
            let v: f64 = t
                .trim()
                .parse()
                .map_err(|_| "expected Unix seconds (a number such as 1767225600)".to_string())?;
            unix(v).map(Some)
        }
        CellRef::Text(t) if how == "auto" => auto_text(t.trim()).map(Some),
        CellRef::Text(t) => {
            let t = t.trim();
            if let Ok(dt) = NaiveDateTime::parse_from_str(t, how) {
                return utc(dt, true).map(Some);
            }
            NaiveDate::parse_from_str(t, how)
                .map_err(|_| format!("expected a date written as {how}"))
                .and_then(|d| utc(d.and_time(NaiveTime::MIN), false))
                .map(Some)
        }
        other => Err(format!("expected a date, found {}", other.display())),
    }
}

fn unix(v: f64) -> Result<Stamp, String> {
    if !v.is_finite() || v.fract() != 0.0 {
        return Err("expected whole Unix seconds".into());
    }
    let dt = DateTime::<Utc>::from_timestamp(v as i64, 0)
        .ok_or_else(|| "Unix seconds out of range".to_string())?;
    utc(dt.naive_utc(), true)
}

fn excel_serial(v: f64) -> Result<Stamp, String> {
    if !v.is_finite() || !(1.0..2_958_466.0).contains(&v) {
        return Err("expected a date, found a number that is not a spreadsheet date".into());
    }
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)
        .ok_or("date arithmetic failed")?
        .and_time(NaiveTime::MIN);
    let ms = (v * 86_400_000.0).round() as i64;
    let dt = base
        .checked_add_signed(chrono::Duration::milliseconds(ms))
        .ok_or_else(|| "date out of range".to_string())?;
    utc(dt, v.fract() != 0.0)
}

/// Day/month order of slash dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// 01/31/2026 (Azure, US Excel).
    MonthFirst,
    /// 31/01/2026 (European Excel).
    DayFirst,
}

impl DateOrder {
    /// From a template's `date_order`.
    pub fn from_name(s: &str) -> Option<DateOrder> {
        match s {
            "mdy" => Some(DateOrder::MonthFirst),
            "dmy" => Some(DateOrder::DayFirst),
            _ => None,
        }
    }
    /// Plain words.
    pub fn label(self) -> &'static str {
        match self {
            DateOrder::MonthFirst => "month/day/year",
            DateOrder::DayFirst => "day/month/year",
        }
    }
}

/// A timestamp together with what it says about the file's day/month order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// The instant.
    pub stamp: Stamp,
    /// Set when this date could only be read one way (a part above 12).
    pub order_evidence: Option<DateOrder>,
}

/// The outcome of reading a date cell in a file whose slash-date order may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dated {
    /// Read.
    Known(Known),
    /// A slash date that reads both ways, and the order is not known yet.
    Ambiguous,
    /// The cell is empty.
    Empty,
}

/// True when [`timestamp_ordered`] would read `cell` by the day/month order (a slash date
/// read automatically), so that its result may depend on the order decided so far.
pub fn reads_by_order(cell: &CellRef<'_>, how: Option<&str>) -> bool {
    matches!(cell, CellRef::Text(t) if how.unwrap_or("auto") == "auto" && split_slash_date(t.trim()).is_some())
}

/// Like [`timestamp`], but slash dates (`03/04/2026`, `31.01.2026`) follow `order` when known,
/// report which order they prove when unambiguous, and are `Ambiguous` otherwise.
pub fn timestamp_ordered(
    cell: &CellRef<'_>,
    how: Option<&str>,
    order: Option<DateOrder>,
) -> Result<Dated, String> {
    if let CellRef::Text(t) = cell {
        if how.unwrap_or("auto") == "auto" {
            if let Some((a, b, rest)) = split_slash_date(t.trim()) {
                let (y, time) = rest;
                let read = |o: DateOrder| -> Option<NaiveDateTime> {
                    let (m, d) = match o {
                        DateOrder::MonthFirst => (a, b),
                        DateOrder::DayFirst => (b, a),
                    };
                    NaiveDate::from_ymd_opt(y, m, d)
                        .map(|date| date.and_time(time.unwrap_or(NaiveTime::MIN)))
                };
                let evidence = match (a > 12, b > 12) {
                    (true, false) => Some(DateOrder::DayFirst),
                    (false, true) => Some(DateOrder::MonthFirst),
                    (false, false) => None,
                    (true, true) => {
                        return Err("not a date: both day and month are above 12".into())
                    }
                };
                let use_order = evidence.or(order);
                return match use_order {
                    Some(o) => match read(o) {
                        Some(dt) => utc(dt, time.is_some()).map(|stamp| {
                            Dated::Known(Known {
                                stamp,
                                order_evidence: evidence,
                            })
                        }),
                        None => Err(format!("not a valid {} date", o.label())),
                    },
                    None if a == b => match read(DateOrder::DayFirst) {
                        // 03/03/2026 reads the same either way.
                        Some(dt) => utc(dt, time.is_some()).map(|stamp| {
                            Dated::Known(Known {
                                stamp,
                                order_evidence: None,
                            })
                        }),
                        None => Err("not a valid date".into()),
                    },
                    None => Ok(Dated::Ambiguous),
                };
            }
        }
    }
    Ok(match timestamp(cell, how)? {
        Some(stamp) => Dated::Known(Known {
            stamp,
            order_evidence: None,
        }),
        None => Dated::Empty,
    })
}

/// `a/b/yyyy` or `a.b.yyyy`, optionally followed by a time: (a, b, (year, time)).
fn split_slash_date(t: &str) -> Option<(u32, u32, (i32, Option<NaiveTime>))> {
    let (date, time) = match t.split_once([' ', 'T']) {
        Some((d, rest)) => (d, Some(rest.trim())),
        None => (t, None),
    };
    let sep = if date.contains('/') {
        '/'
    } else if date.matches('.').count() == 2 {
        '.'
    } else {
        return None;
    };
    let parts: Vec<&str> = date.split(sep).collect();
    if parts.len() != 3 || parts[2].len() != 4 || parts[0].len() > 2 || parts[1].len() > 2 {
        return None;
    }
    let a: u32 = parts[0].parse().ok()?;
    let b: u32 = parts[1].parse().ok()?;
    let y: i32 = parts[2].parse().ok()?;
    let time = match time {
        None | Some("") => None,
        Some(tm) => Some(
            ["%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p"]
                .iter()
                .find_map(|f| NaiveTime::parse_from_str(tm, f).ok())?,
        ),
    };
    Some((a, b, (y, time)))
}

fn auto_text(t: &str) -> Result<Stamp, String> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return utc(dt.with_timezone(&Utc).naive_utc(), true);
    }
    let stripped = t
        .strip_suffix(" UTC")
        .or_else(|| t.strip_suffix('Z'))
        .unwrap_or(t);
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(stripped, f) {
            return utc(dt, true);
        }
    }
    // Offsets such as `2026-01-02 21:00:00+00:00`.
    for f in ["%Y-%m-%d %H:%M:%S%:z", "%Y-%m-%d %H:%M:%S%z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, f) {
            return utc(dt.with_timezone(&Utc).naive_utc(), true);
        }
    }
    for f in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(stripped, f) {
            return utc(d.and_time(NaiveTime::MIN), false);
        }
    }
    Err("expected a date such as 2026-01-31 or 2026-01-31 14:00".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_paths_read_what_the_general_ones_do() {
        let texts = [
            "0",
            "155.0",
            " 155.000 ",
            "007",
            "1.",
            "18446744073709551615",
            "18446744073709551616",
            "1.5",
            "-0",
            "-0.0",
            "-12.25",
            "1.000",
            "12345.678",
            "1,5",
            "1e3",
            ".5",
            "-",
            "",
            "9007199254740993.0",
            "١٢",
            "+5",
        ];
        for dc in [false, true] {
            for t in texts {
                if let Some(v) = plain_count(t, dc) {
                    assert_eq!(count_text(t, dc, "tokens"), Ok(v), "count {t:?} dc {dc}");
                }
                if let Some(v) = plain_amount(t, dc) {
                    let general = money_text(t, dc).map(f64::to_bits);
                    assert_eq!(general, Ok(v.to_bits()), "amount {t:?} dc {dc}");
                }
            }
        }
        // The quick paths take the common cases and leave decimal-comma dots alone.
        assert_eq!(plain_count("155.0", false), Some(155));
        assert_eq!(plain_count("1.000", true), None);
        assert_eq!(plain_amount("-12.25", false), Some(-12.25));
        assert_eq!(plain_amount("1,5", true), None);
    }

    fn t(s: &str) -> CellRef<'_> {
        CellRef::Text(s)
    }

    #[test]
    fn counts_accept_float_text_and_grouping() {
        assert_eq!(count(&t("155.0"), false, "tokens"), Ok(Some(155)));
        assert_eq!(count(&t("1,234,567"), false, "tokens"), Ok(Some(1_234_567)));
        assert_eq!(count(&t("1.234.567"), true, "tokens"), Ok(Some(1_234_567)));
        assert_eq!(count(&t("1.000"), true, "tokens"), Ok(Some(1_000)));
        assert_eq!(count(&t("155,0"), true, "tokens"), Ok(Some(155)));
        assert_eq!(count(&t(" 42 "), false, "tokens"), Ok(Some(42)));
        assert_eq!(count(&t("-0"), false, "tokens"), Ok(Some(0)));
        assert_eq!(count(&t(""), false, "tokens"), Ok(None));
        assert_eq!(
            count(&t("12345678901234567890"), false, "tokens"),
            Ok(Some(12_345_678_901_234_567_890))
        );
        assert_eq!(
            count(&t("-5"), false, "tokens"),
            Err("negative tokens".into())
        );
        assert!(count(&t("abc"), false, "tokens").is_err());
        assert!(count(&t("1.5"), false, "tokens").is_err());
        assert!(count(&t("NaN"), false, "tokens").is_err());
        assert!(count(&t("1e309"), false, "tokens").is_err());
        assert!(count(&t("123456789012345678901"), false, "tokens").is_err());
        assert_eq!(count(&CellRef::Number(3.0), false, "tokens"), Ok(Some(3)));
        assert!(count(&CellRef::Number(f64::NAN), false, "tokens").is_err());
    }

    #[test]
    fn separator_styles_are_told_apart() {
        use SepStyle::*;
        for (t, want) in [
            ("1000", None),
            ("155.0", Some(DotDecimal)),
            ("12.5", Some(DotDecimal)),
            ("1,234,567", Some(CommaThousands)),
            ("1,234.5", Some(CommaThousands)),
            ("12,5", Some(CommaDecimal)),
            ("1.234.567", Some(DotThousands)),
            ("1.234,5", Some(DotThousands)),
            ("1.000", Some(DotAmbiguous)),
            ("-1,000", Some(CommaAmbiguous)),
            ("0.003", Some(DotDecimal)),
            ("0,003", Some(CommaDecimal)),
            ("abc.def", None),
        ] {
            assert_eq!(sep_style(t), want, "{t}");
        }
    }

    #[test]
    fn money_reads_symbols_and_decimal_commas() {
        assert_eq!(money(&t("$1,234.50"), false), Ok(Some(1234.5)));
        assert_eq!(money(&t("1.234,5"), true), Ok(Some(1234.5)));
        assert_eq!(money(&t("(12.50)"), false), Ok(Some(-12.5)));
        assert_eq!(
            money(&t("0.003835980000000000000000000000"), false),
            Ok(Some(0.00383598))
        );
        assert!(money(&t("1e309"), false).is_err());
    }

    #[test]
    fn timestamps_in_vendor_forms() {
        let s = timestamp(&t("1767225600"), Some("unix")).unwrap().unwrap();
        assert_eq!(s.at.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        let s = timestamp(&t("1767225600.0"), Some("unix"))
            .unwrap()
            .unwrap();
        assert_eq!(s.at.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        let s = timestamp(&t("2026-03-31 02:00"), None).unwrap().unwrap();
        assert_eq!(s.at.to_rfc3339(), "2026-03-31T02:00:00+00:00");
        assert!(s.has_time);
        let s = timestamp(&t("2026-04-08"), None).unwrap().unwrap();
        assert!(!s.has_time);
        let s = timestamp(&t("2026-01-02 21:00:00 UTC"), None)
            .unwrap()
            .unwrap();
        assert_eq!(s.at.to_rfc3339(), "2026-01-02T21:00:00+00:00");
        let s = timestamp(&t("2026-01-05T00:00:00+01:00"), None)
            .unwrap()
            .unwrap();
        assert_eq!(s.at.to_rfc3339(), "2026-01-04T23:00:00+00:00");
        // Excel serial 46023 = 2026-01-01.
        let s = timestamp(&CellRef::Number(46023.0), None).unwrap().unwrap();
        assert_eq!(s.at.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert!(timestamp(&t("31/01/2026"), None).is_err());
        // Slash dates: the order comes from the file (evidence) or the template.
        let k = |s, o| timestamp_ordered(&t(s), None, o).unwrap();
        assert_eq!(k("03/04/2026", None), Dated::Ambiguous);
        let Dated::Known(d) = k("31/01/2026", None) else {
            panic!()
        };
        assert_eq!(d.order_evidence, Some(DateOrder::DayFirst));
        assert_eq!(d.stamp.at.to_rfc3339(), "2026-01-31T00:00:00+00:00");
        let Dated::Known(d) = k("03/04/2026", Some(DateOrder::MonthFirst)) else {
            panic!()
        };
        assert_eq!(d.stamp.at.to_rfc3339(), "2026-03-04T00:00:00+00:00");
        let Dated::Known(d) = k("01/31/2026 2:00:00 PM", None) else {
            panic!()
        };
        assert_eq!(d.stamp.at.to_rfc3339(), "2026-01-31T14:00:00+00:00");
        assert!(timestamp_ordered(&t("31/13/2026"), None, None).is_err());
        assert!(timestamp(&t("9999-01-01"), None).is_err());
        assert!(timestamp(&t("yesterday"), None).is_err());
        assert_eq!(timestamp(&t(""), None), Ok(None));
    }
}
