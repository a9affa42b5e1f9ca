//! Which source rows a line sums: ranges of consecutive rows (`5-12,20,31-40`), so that an
//! auditor can find every row behind a figure. Bounded: the ranges of a whole report share a
//! budget ([`RANGE_BUDGET`]); a list that would pass it keeps what it has and says it is
//! incomplete (its first row, last row and count stay exact).

/// Ranges kept across all lines of a report (16 bytes each: 64 MiB).
pub const RANGE_BUDGET: usize = 4 << 20;

/// Longest text of a list (a spreadsheet cell holds 32,767 characters).
const TEXT_MAX: usize = 32_000;

/// The ranges a report may still keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    left: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { left: RANGE_BUDGET }
    }
}

impl Budget {
    /// A budget of `n` ranges (tests).
    pub fn of(n: usize) -> Budget {
        Budget { left: n }
    }

    /// Takes one range, if any is left.
    fn take(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        true
    }
}

/// The rows of one line in one file or sheet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowList {
    /// Inclusive ranges; in file order once [`RowList::settle`]d.
    ranges: Vec<[u64; 2]>,
    /// Some rows are not in `ranges`: the report's budget was used up.
    truncated: bool,
}

impl RowList {
    /// A list of one row.
    pub fn of(row: u64, budget: &mut Budget) -> RowList {
        let mut l = RowList::default();
        l.add(row, budget);
        l
    }

    /// Adds a row (a row already listed, as the parts of one row are, changes nothing).
    /// Rows mostly come in file order, which extends the last range.
    pub fn add(&mut self, row: u64, budget: &mut Budget) {
        if let Some(last) = self.ranges.last_mut() {
            if row == last[1].saturating_add(1) {
                last[1] = row;
                return;
            }
            if (last[0]..=last[1]).contains(&row) {
                return;
            }
        }
        if !budget.take() {
            self.truncated = true;
            return;
        }
        self.ranges.push([row, row]);
    }

    /// Takes another list's rows (ranges already counted against the budget).
    pub fn absorb(&mut self, other: RowList) {
        self.ranges.extend(other.ranges);
        self.truncated |= other.truncated;
        self.settle();
    }

    /// Sorts the ranges and merges those that touch (rows held back and replayed arrive late).
    pub fn settle(&mut self) {
        if self
            .ranges
            .windows(2)
            .all(|w| w[0][1].saturating_add(1) < w[1][0])
        {
            return;
        }
        self.ranges.sort_unstable();
        let mut out: Vec<[u64; 2]> = Vec::with_capacity(self.ranges.len());
        for r in self.ranges.drain(..) {
            match out.last_mut() {
                Some(last) if r[0] <= last[1].saturating_add(1) => last[1] = last[1].max(r[1]),
                _ => out.push(r),
            }
        }
        self.ranges = out;
    }

    /// True when every row is listed.
    pub fn complete(&self) -> bool {
        !self.truncated
    }

    /// The ranges.
    pub fn ranges(&self) -> &[[u64; 2]] {
        &self.ranges
    }

    /// `5-12,20,31-40`; a list too long for a cell ends `…` and the number of ranges left out,
    /// an incomplete one with `… (incomplete)`.
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        for (i, r) in self.ranges.iter().enumerate() {
            if s.len() > TEXT_MAX {
                let _ = write!(s, ",… {} more ranges", self.ranges.len() - i);
                return s;
            }
            if i > 0 {
                s.push(',');
            }
            let _ = if r[0] == r[1] {
                write!(s, "{}", r[0])
            } else {
                write!(s, "{}-{}", r[0], r[1])
            };
        }
        if self.truncated {
            s.push_str(",… (incomplete: the report's budget of listed rows was used up)");
        }
        s
    }
}

/// A list is written as its text (`5-12,20,31-40`).
impl serde::Serialize for RowList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_in_order_make_ranges_and_late_rows_are_merged_in() {
        let mut budget = Budget::of(100);
        let mut l = RowList::default();
        for r in [5, 6, 7, 8, 9, 10, 11, 12, 12, 20, 31, 32, 33] {
            l.add(r, &mut budget);
        }
        // Rows held back (day/month order) come late: 34..=40 and 13 are merged in.
        for r in [34, 35, 36, 37, 38, 39, 40, 13] {
            l.add(r, &mut budget);
        }
        l.settle();
        assert_eq!(l.text(), "5-13,20,31-40");
        assert!(l.complete());
        // 4 ranges were pushed (5, 20, 31, 13) of the budget.
        assert_eq!(budget, Budget::of(96));
    }

    #[test]
    fn the_budget_bounds_the_lists_and_says_so() {
        let mut budget = Budget::of(2);
        let mut l = RowList::default();
        for r in [2, 4, 6, 7] {
            l.add(r, &mut budget);
        }
        assert_eq!(budget, Budget::of(0));
        assert!(!l.complete());
        assert_eq!(
            l.text(),
            "2,4,… (incomplete: the report's budget of listed rows was used up)"
        );
    }
}
