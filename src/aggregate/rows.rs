//! Which source rows a line sums: ranges of consecutive rows (`5-12,20,31-40`), so that an
//! auditor can find every row behind a figure.
//!
//! Compact: the rows of a line in an export sorted by date are rarely consecutive (every line
//! of a day takes its turn), so a list may hold as many ranges as its line has rows. Each range
//! is kept as two variable-length numbers (its distance from the range before it and its
//! length), typically 2 to 4 bytes, instead of 16. Bounded: the lists of a whole report share
//! a budget of bytes ([`BYTE_BUDGET`]); a list that would pass it keeps what it has and says it
//! is incomplete (its first row, last row and count stay exact).

/// Bytes of packed ranges kept across all lines of a report (32 MiB: at 2 to 4 bytes a range,
/// 8 to 16 million ranges).
pub const BYTE_BUDGET: usize = 32 << 20;

/// Longest text of a list in a cell (a spreadsheet cell holds 32,767 characters).
const TEXT_MAX: usize = 32_000;

/// The bytes of packed ranges a report may still keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    left: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { left: BYTE_BUDGET }
    }
}

impl Budget {
    /// A budget of `n` bytes (tests).
    pub fn of(n: usize) -> Budget {
        Budget { left: n }
    }

    /// Takes `n` bytes, if that many are left.
    fn take(&mut self, n: usize) -> bool {
        if self.left < n {
            self.left = 0;
            return false;
        }
        self.left -= n;
        true
    }
}

/// The rows of one line in one file or sheet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowList {
    /// Ranges before `open`: for each, the zigzag-coded distance of its first row from the last
    /// row of the range before it (from 0 for the first), then its length less one, both as
    /// LEB128 numbers. In file order once [`RowList::settle`]d.
    packed: Vec<u8>,
    /// Last row of the last packed range (0 before any).
    packed_end: u64,
    /// The range rows are being added to, not packed yet.
    open: Option<[u64; 2]>,
    /// A range starts before the one packed before it (a row held back and replayed late).
    unsorted: bool,
    /// Some rows are not listed: the report's budget was used up.
    truncated: bool,
}

/// Appends `v` as a LEB128 number.
fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 number at `*at` (lists are only ever read as this module wrote them).
fn get(bytes: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0u32;
    while let Some(&b) = bytes.get(*at) {
        *at += 1;
        if shift < 64 {
            v |= u64::from(b & 0x7f) << shift;
        }
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    v
}

/// Packs range `r` after a range ending at `prev_end` (no budget).
fn pack(out: &mut Vec<u8>, prev_end: u64, r: [u64; 2]) {
    let d = r[0].wrapping_sub(prev_end) as i64;
    put(out, ((d << 1) ^ (d >> 63)) as u64);
    put(out, r[1] - r[0]);
}

/// The packed ranges, in the order they were packed.
struct Ranges<'a> {
    bytes: &'a [u8],
    at: usize,
    end: u64,
}

impl Iterator for Ranges<'_> {
    type Item = [u64; 2];

    fn next(&mut self) -> Option<[u64; 2]> {
        if self.at >= self.bytes.len() {
            return None;
        }
        let z = get(self.bytes, &mut self.at);
        let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
        let start = self.end.wrapping_add(d as u64);
        let end = start.saturating_add(get(self.bytes, &mut self.at));
        self.end = end;
        Some([start, end])
    }
}

impl RowList {
    /// A list of one row.
    pub fn of(row: u64, budget: &mut Budget) -> RowList {
        let mut l = RowList::default();
        l.add(row, budget);
        l
    }

    /// Adds a row (a row already listed, as the parts of one row are, changes nothing).
    /// Rows mostly come in file order, which extends the open range.
    pub fn add(&mut self, row: u64, budget: &mut Budget) {
        let Some(open) = self.open.as_mut() else {
            self.open = Some([row, row]);
            return;
        };
        if row == open[1].saturating_add(1) {
            open[1] = row;
            return;
        }
        if (open[0]..=open[1]).contains(&row) {
            return;
        }
        let done = *open;
        self.open = Some([row, row]);
        self.pack_charged(done, budget);
    }

    /// Packs a finished range against the budget (or marks the list incomplete).
    fn pack_charged(&mut self, r: [u64; 2], budget: &mut Budget) {
        let before = self.packed.len();
        pack(&mut self.packed, self.packed_end, r);
        if !budget.take(self.packed.len() - before) {
            self.packed.truncate(before);
            self.truncated = true;
            return;
        }
        if r[0] <= self.packed_end && before > 0 {
            self.unsorted = true;
        }
        self.packed_end = r[1];
    }

    /// Takes another list's rows (bytes already counted against the budget).
    pub fn absorb(&mut self, mut other: RowList) {
        self.settle();
        other.settle();
        let mut all: Vec<[u64; 2]> = self.iter().chain(other.iter()).collect();
        self.truncated |= other.truncated;
        self.repack(&mut all);
    }

    /// Closes the list: packs the open range, sorts the ranges and merges those that touch.
    /// The open range is not charged to the budget (the report's budget is gone by the time a
    /// list is closed; it is one range a list, and lines are bounded by `--max-lines`).
    pub fn settle(&mut self) {
        if let Some(open) = self.open.take() {
            self.pack_charged(open, &mut Budget::of(usize::MAX));
        }
        if self.unsorted {
            let mut all: Vec<[u64; 2]> = self.iter().collect();
            self.repack(&mut all);
        }
        self.packed.shrink_to_fit();
    }

    /// Sorts, merges and packs `all` again (nothing charged: merging never adds ranges).
    fn repack(&mut self, all: &mut [[u64; 2]]) {
        all.sort_unstable();
        self.packed.clear();
        self.packed_end = 0;
        let mut last: Option<[u64; 2]> = None;
        for &r in all.iter() {
            match last.as_mut() {
                Some(l) if r[0] <= l[1].saturating_add(1) => l[1] = l[1].max(r[1]),
                _ => {
                    if let Some(l) = last.replace(r) {
                        pack(&mut self.packed, self.packed_end, l);
                        self.packed_end = l[1];
                    }
                }
            }
        }
        if let Some(l) = last {
            pack(&mut self.packed, self.packed_end, l);
            self.packed_end = l[1];
        }
        self.unsorted = false;
        self.packed.shrink_to_fit();
    }

    /// True when every row is listed.
    pub fn complete(&self) -> bool {
        !self.truncated
    }

    /// The ranges (inclusive), the open one last.
    pub fn iter(&self) -> impl Iterator<Item = [u64; 2]> + '_ {
        Ranges {
            bytes: &self.packed,
            at: 0,
            end: 0,
        }
        .chain(self.open)
    }

    /// `5-12,20,31-40` for a cell: a list too long for one ends `,… N more ranges` (the JSON
    /// summary carries it whole, see the `Display` impl), an incomplete one with
    /// `… (incomplete …)`.
    pub fn cell_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let mut ranges = self.iter();
        let mut first = true;
        while let Some(r) = ranges.next() {
            if s.len() > TEXT_MAX {
                let _ = write!(s, ",… {} more ranges", 1 + ranges.count());
                return s;
            }
            let _ = write_range(&mut s, r, first);
            first = false;
        }
        if self.truncated {
            s.push_str(INCOMPLETE);
        }
        s
    }
}

/// What an incomplete list ends with.
const INCOMPLETE: &str = ",… (incomplete: the report's budget of listed rows was used up)";

/// `5-12` or `20`, after a comma unless `first`.
fn write_range(out: &mut impl std::fmt::Write, r: [u64; 2], first: bool) -> std::fmt::Result {
    if !first {
        out.write_char(',')?;
    }
    if r[0] == r[1] {
        write!(out, "{}", r[0])
    } else {
        write!(out, "{}-{}", r[0], r[1])
    }
}

/// The whole list, `5-12,20,31-40`, written range by range (no text of the whole list is
/// built); an incomplete one ends `… (incomplete …)`.
impl std::fmt::Display for RowList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for r in self.iter() {
            write_range(f, r, first)?;
            first = false;
        }
        if self.truncated {
            f.write_str(INCOMPLETE)?;
        }
        Ok(())
    }
}

/// A list is written whole as its text (`5-12,20,31-40`), streamed into the JSON.
impl serde::Serialize for RowList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
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
        assert_eq!(l.cell_text(), "5-13,20,31-40");
        assert!(l.complete());
        // Charged as packed, before the merge: 5-12 (distance 5 -> zigzag 10, length-1 7),
        // 20 (8 -> 16, 0), 31-40 (11 -> 22, 9): 2 bytes each, 6 bytes. The open range (13) is
        // packed by settle, uncharged.
        assert_eq!(budget, Budget::of(94));
    }

    #[test]
    fn the_budget_bounds_the_lists_and_says_so() {
        // 2 (zigzag 4, 0) takes the 2 bytes; 4 cannot be packed; 6-7 is packed by settle.
        let mut budget = Budget::of(2);
        let mut l = RowList::default();
        for r in [2, 4, 6, 7] {
            l.add(r, &mut budget);
        }
        assert_eq!(budget, Budget::of(0));
        l.settle();
        assert!(!l.complete());
        assert_eq!(
            l.cell_text(),
            "2,6-7,… (incomplete: the report's budget of listed rows was used up)"
        );
    }

    #[test]
    fn packing_round_trips_far_and_backward_rows() {
        // Distances past one LEB128 byte, a row before the last packed one, rows near u64::MAX.
        let mut budget = Budget::of(1 << 20);
        let mut l = RowList::default();
        let rows = [
            1,
            2,
            300,
            1_000_000,
            1_000_001,
            70_000,
            u64::MAX - 2,
            u64::MAX - 1,
            u64::MAX,
        ];
        for r in rows {
            l.add(r, &mut budget);
        }
        l.settle();
        assert_eq!(
            l.iter().collect::<Vec<_>>(),
            vec![
                [1, 2],
                [300, 300],
                [70_000, 70_000],
                [1_000_000, 1_000_001],
                [u64::MAX - 2, u64::MAX]
            ]
        );
        assert!(l.complete());
    }

    #[test]
    fn absorbing_merges_two_lists_in_order() {
        let mut budget = Budget::of(100);
        let mut a = RowList::default();
        for r in [2, 3, 10] {
            a.add(r, &mut budget);
        }
        let mut b = RowList::default();
        for r in [4, 9, 20] {
            b.add(r, &mut budget);
        }
        a.absorb(b);
        assert_eq!(a.cell_text(), "2-4,9-10,20");
    }

    #[test]
    fn interleaved_rows_take_two_bytes_a_range() {
        // Ten lines taking turns over 100,000 rows: each list holds 10,000 single rows, each
        // 10 after the one before (zigzag 20 and 0: one byte each).
        let mut budget = Budget::of(1 << 30);
        let mut lists = vec![RowList::default(); 10];
        for row in 1..=100_000u64 {
            lists[(row % 10) as usize].add(row, &mut budget);
        }
        for l in &mut lists {
            l.settle();
        }
        let used = (1 << 30) - budget.left;
        // 10 lists × 9,999 charged ranges × 2 bytes (the last of each is packed uncharged).
        assert_eq!(used, 10 * 9_999 * 2);
        assert_eq!(lists[3].iter().count(), 10_000);
        assert_eq!(lists[3].iter().nth(1), Some([13, 13]));
    }

    #[test]
    fn a_cell_holds_32_000_characters_of_a_list_and_the_json_all_of_it() {
        // 20,000 single rows two apart: "1,3,5,...,39999" is 108,894 characters.
        let mut budget = Budget::of(1 << 20);
        let mut l = RowList::default();
        for r in (1..40_000u64).step_by(2) {
            l.add(r, &mut budget);
        }
        l.settle();
        let whole = l.to_string();
        // 1-digit rows 1..9 (5 of them), 2-digit 11..99 (45), 3-digit (450), 4-digit (4,500),
        // 5-digit 10001..39999 (15,000): 5 + 90 + 1,350 + 18,000 + 75,000 digits, and 19,999
        // commas.
        assert_eq!(whole.len(), 5 + 90 + 1_350 + 18_000 + 75_000 + 19_999);
        assert!(whole.ends_with(",39997,39999"));
        assert_eq!(serde_json::to_string(&l).unwrap(), format!("\"{whole}\""));
        let cell = l.cell_text();
        assert!(cell.len() < 32_767, "{}", cell.len());
        assert!(cell.starts_with(&whole[..32_000]));
        assert!(
            cell.ends_with(" more ranges"),
            "{}",
            &cell[cell.len() - 40..]
        );
    }
}
