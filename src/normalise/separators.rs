//! Decimal and thousands separators, decided per column from the column's own values, as the
//! day/month order of slash dates is decided per file from its dates.
//!
//! `1.000` is one thousand in a column that also holds `1.234,5`, and one in a column that
//! also holds `12.5`. A value that reads either way (`1.000`, `1,500` of money) waits until a
//! value of its column settles the convention; a column that never settles it is read as the
//! file's other columns are, or else as its format usually writes (a semicolon-delimited CSV
//! writes decimal commas), and that is a warning, because its values may be off by a
//! thousand.

use super::parse::{self, SepStyle};

/// How a column writes numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Convention {
    /// `1,234.5`: a decimal point, commas group thousands.
    #[default]
    Point,
    /// `1.234,5`: a decimal comma, dots group thousands.
    Comma,
}

impl Convention {
    fn from_decimal_comma(decimal_comma: bool) -> Self {
        if decimal_comma {
            Convention::Comma
        } else {
            Convention::Point
        }
    }

    /// In words, with an example.
    pub(super) fn words(self) -> &'static str {
        match self {
            Convention::Point => "a decimal point (1,234.5)",
            Convention::Comma => "a decimal comma (1.234,5)",
        }
    }
}

/// What one value says about its column's convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Evidence {
    /// No dot or comma (or not a number): nothing.
    Silent,
    /// Only one convention reads it.
    Settles(Convention),
    /// Both conventions read it, as numbers a thousand apart (`1.000`).
    EitherWay,
}

/// The separator style of a value of a column, refined for columns of whole counts: there
/// `1.234` cannot be one point two three four, so it groups thousands with a dot. Only
/// `1.000` and `1,000` stay open in a count column.
pub(super) fn style(t: &str, counts: bool) -> Option<SepStyle> {
    let style = parse::sep_style(t)?;
    let open = matches!(style, SepStyle::DotAmbiguous | SepStyle::CommaAmbiguous);
    if counts && open && !t.trim().trim_end_matches(')').ends_with("000") {
        return Some(match style {
            SepStyle::DotAmbiguous => SepStyle::DotThousands,
            _ => SepStyle::CommaThousands,
        });
    }
    Some(style)
}

/// What a value of a column (of counts, or of money and quantities) says about the
/// column's convention. Costs a byte search for values without a dot or comma.
pub(super) fn evidence(t: &str, counts: bool) -> Evidence {
    if memchr::memchr2(b'.', b',', t.as_bytes()).is_none() {
        return Evidence::Silent;
    }
    match style(t, counts) {
        None => Evidence::Silent,
        Some(SepStyle::DotDecimal | SepStyle::CommaThousands) => {
            Evidence::Settles(Convention::Point)
        }
        Some(SepStyle::CommaDecimal | SepStyle::DotThousands) => {
            Evidence::Settles(Convention::Comma)
        }
        Some(SepStyle::DotAmbiguous | SepStyle::CommaAmbiguous) => Evidence::EitherWay,
    }
}

/// The conventions of one sheet's columns, as its rows are read.
#[derive(Debug, Clone, Default)]
pub(super) struct Separators {
    /// The format's usual convention (a semicolon-delimited CSV writes decimal commas): for
    /// values that settle nothing in a column never decided.
    usual: Convention,
    /// Per column of the row, once decided.
    by_column: Vec<Option<Convention>>,
    /// Columns decided so far.
    count: u64,
}

impl Separators {
    /// A sheet whose format usually writes decimal commas, or not.
    pub(super) fn new(decimal_comma: bool) -> Self {
        Separators {
            usual: Convention::from_decimal_comma(decimal_comma),
            by_column: vec![],
            count: 0,
        }
    }

    /// How many columns are decided: a row that waited is worth mapping again only once this
    /// (or the day/month order) has changed.
    pub(super) fn count(&self) -> u64 {
        self.count
    }

    /// True when the format usually writes decimal commas.
    pub(super) fn usual_comma(&self) -> bool {
        self.usual == Convention::Comma
    }

    /// The convention a column is read with now.
    pub(super) fn at(&self, column: usize) -> Convention {
        self.decided(column).unwrap_or(self.usual)
    }

    /// True when a column is read with a decimal comma.
    pub(super) fn decimal_comma(&self, column: usize) -> bool {
        self.at(column) == Convention::Comma
    }

    /// [`Separators::decimal_comma`] for the first column of a field.
    pub(super) fn comma(&self, b: &super::template::Bound) -> bool {
        b.columns
            .first()
            .is_some_and(|(i, _)| self.decimal_comma(*i))
    }

    /// The column's convention, once decided.
    pub(super) fn decided(&self, column: usize) -> Option<Convention> {
        self.by_column.get(column).copied().flatten()
    }

    /// Decides a column (once: a decided column is never changed).
    pub(super) fn decide(&mut self, column: usize, convention: Convention) {
        if self.by_column.len() <= column {
            self.by_column.resize(column + 1, None);
        }
        if self.by_column[column].is_none() {
            self.by_column[column] = Some(convention);
            self.count += 1;
        }
    }

    /// The convention for a column none of whose values settles it: the one the sheet's
    /// decided columns share, else the format's usual one.
    pub(super) fn fallback(&self) -> (Convention, Fallback) {
        let mut decided = self.by_column.iter().flatten();
        match decided.next() {
            Some(first) if decided.all(|c| c == first) => (*first, Fallback::OtherColumns),
            _ => (self.usual, Fallback::Usual),
        }
    }
}

/// Why a column was read with a convention its own values do not settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fallback {
    /// The sheet's other quantity and money columns all write it.
    OtherColumns,
    /// The format usually writes it.
    Usual,
}

/// How a column's convention was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Decision {
    /// By a value of its own (row, value).
    Own(Convention, u64, Box<str>),
    /// By a fallback, for values that read either way.
    Fallback(Convention, Fallback),
}

/// How one column's numbers used dots and commas: rows per [`SepStyle`], the first of each
/// (row, value), and how its convention was decided.
#[derive(Debug, Clone, Default)]
pub(super) struct SepTally {
    rows: [u64; 6],
    first: [Option<(u64, Box<str>)>; 6],
    /// How the column was decided, once it was.
    pub(super) decision: Option<Decision>,
    /// Times a row waited for the column's convention (a row tried again counts again).
    pub(super) waited: u64,
}

impl SepTally {
    /// Adds one value of the column.
    pub(super) fn add(&mut self, style: SepStyle, row: u64, text: &str) {
        let i = style_index(style);
        self.rows[i] += 1;
        if self.first[i].is_none() {
            self.first[i] = Some((row, text.trim().into()));
        }
    }

    /// Counts one more `12.5`-style value once the first is kept (the common case).
    pub(super) fn add_dot_decimal_again(&mut self) -> bool {
        let i = style_index(SepStyle::DotDecimal);
        if self.rows[i] > 0 {
            self.rows[i] += 1;
            true
        } else {
            false
        }
    }

    fn seen(&self, style: SepStyle) -> Option<&(u64, Box<str>)> {
        self.first[style_index(style)].as_ref()
    }

    fn rows_of(&self, style: SepStyle) -> u64 {
        self.rows[style_index(style)]
    }

    /// What is doubtful in the column, if anything, in words: two conventions mixed, or
    /// values that read either way in a column none of whose values settles it.
    pub(super) fn verdict(&self, counts: bool) -> Option<String> {
        use SepStyle::*;
        let ex = |s| self.seen(s).map(|(r, v)| format!("row {r} '{v}'"));
        let point = ex(DotDecimal).or_else(|| ex(CommaThousands));
        let comma = ex(CommaDecimal).or_else(|| ex(DotThousands));
        if let (Some(a), Some(b)) = (&point, &comma) {
            return Some(format!(
                "{a} writes a decimal point and {b} a decimal comma: the column mixes two conventions"
            ));
        }
        let open = self.rows_of(DotAmbiguous) + self.rows_of(CommaAmbiguous);
        if let (true, Some(a), Some(b)) = (counts, ex(DotAmbiguous), ex(CommaAmbiguous)) {
            return Some(format!(
                "{a} and {b} cannot follow one convention: one of them is read as a thousand times the other"
            ));
        }
        if let (Some(Decision::Fallback(convention, why)), true) = (&self.decision, open > 0) {
            let first = ex(DotAmbiguous).or_else(|| ex(CommaAmbiguous))?;
            let more = match open - 1 {
                0 => String::new(),
                1 => " and 1 more value".to_string(),
                n => format!(" and {n} more values"),
            };
            let because = match why {
                Fallback::OtherColumns => "as the file's other quantity and money columns write",
                Fallback::Usual => "as files of this format usually write",
            };
            // Values that settle the column only after it was decided (rows held past their
            // bound): the ones read before may be a thousand times off.
            let against = match convention {
                Convention::Point => comma,
                Convention::Comma => point,
            };
            return Some(match against {
                None => format!(
                    "{first}{more} read either way (one reading a thousand times the other) and no value of the column settles it: read with {}, {because}",
                    convention.words()
                ),
                Some(b) => format!(
                    "{first}{more} read either way (one reading a thousand times the other) and no value of the column settled it in time: read with {}, {because}; yet {b} writes {}, so they may be off by a factor of a thousand",
                    convention.words(),
                    match convention {
                        Convention::Point => Convention::Comma.words(),
                        Convention::Comma => Convention::Point.words(),
                    }
                ),
            });
        }
        None
    }

    /// A note for a column decided by its own values against the format's usual convention.
    pub(super) fn note(&self, usual: bool) -> Option<String> {
        match &self.decision {
            Some(Decision::Own(c, row, value)) if (*c == Convention::Comma) != usual => Some(
                format!("read with {} as its row {row} '{value}' shows", c.words()),
            ),
            _ => None,
        }
    }
}

fn style_index(style: SepStyle) -> usize {
    SepStyle::ALL.iter().position(|s| *s == style).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_settles_its_column_or_reads_either_way() {
        use Convention::*;
        use Evidence::*;
        for (t, counts, want) in [
            ("1234", true, Silent),
            ("12.5", false, Settles(Point)),
            ("1,234,567", true, Settles(Point)),
            ("1,234.5", false, Settles(Point)),
            ("12,5", false, Settles(Comma)),
            ("1.234.567", true, Settles(Comma)),
            ("1.234,5", false, Settles(Comma)),
            ("0.003", false, Settles(Point)),
            // Money: three digits after one separator read either way.
            ("1.000", false, EitherWay),
            ("1,500", false, EitherWay),
            ("12.345", false, EitherWay),
            // Counts: 1.234 tokens is no count, so a dot there groups thousands ...
            ("1.234", true, Settles(Comma)),
            ("1,500", true, Settles(Point)),
            // ... but 1.000 is one (a decimal point) or one thousand (a dot grouping).
            ("1.000", true, EitherWay),
            ("1,000", true, EitherWay),
            ("$1,000", false, Silent),
        ] {
            assert_eq!(evidence(t, counts), want, "{t} counts={counts}");
        }
    }

    #[test]
    fn a_column_falls_back_to_what_the_other_columns_share() {
        let mut s = Separators::new(false);
        assert_eq!(s.fallback(), (Convention::Point, Fallback::Usual));
        s.decide(3, Convention::Comma);
        assert!(s.decimal_comma(3));
        assert!(!s.decimal_comma(2));
        assert_eq!(s.fallback(), (Convention::Comma, Fallback::OtherColumns));
        // Decided once: a later value does not change it.
        s.decide(3, Convention::Point);
        assert!(s.decimal_comma(3));
        s.decide(5, Convention::Point);
        assert_eq!(s.fallback(), (Convention::Point, Fallback::Usual));
        let s = Separators::new(true);
        assert_eq!(s.fallback(), (Convention::Comma, Fallback::Usual));
    }
}
