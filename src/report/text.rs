//! Plain-text lines of a report for the terminal and the upload page: every outcome of a
//! file's rows and money, so that the parts visibly add up to the whole.

/// `rows 120 = accepted 100 + rejected 2 + ... + skipped 3 (blank row 1, other service 2)`:
/// every outcome, so that the parts visibly add up to the rows read.
pub fn row_accounting(f: &crate::normalise::FileReport) -> String {
    let c = &f.counts;
    let mut parts = vec![format!("accepted {}", c.accepted)];
    for (n, label) in [
        (c.rejected, "rejected"),
        (c.duplicate, "duplicate"),
        (c.outside_period, "outside period"),
        (c.excluded, "excluded"),
    ] {
        if n > 0 {
            parts.push(format!("{label} {n}"));
        }
    }
    if c.skipped > 0 {
        let by: Vec<String> = f
            .skipped_by
            .iter()
            .map(|(why, n)| format!("{} {n}", why.label()))
            .collect();
        parts.push(format!("skipped {} ({})", c.skipped, by.join(", ")));
    }
    let balance = if c.balanced() {
        ""
    } else {
        "  (DOES NOT ADD UP)"
    };
    format!("rows {} = {}{balance}", c.read, parts.join(" + "))
}

/// `money 1,234.00 USD = accepted ... + skipped ...`, one line per currency.
pub fn money_lines(f: &crate::normalise::FileReport) -> Vec<String> {
    let fmt = crate::pipeline::warnings::amount_text;
    f.money
        .iter()
        .map(|(cur, b)| {
            let mut parts = vec![format!("accepted {}", fmt(b.accepted))];
            for (a, label) in [
                (b.adjustments, "adjustments"),
                (b.rejected, "rejected"),
                (b.duplicate, "duplicate"),
                (b.outside_period, "outside period"),
                (b.excluded, "excluded"),
            ] {
                if a != 0.0 {
                    parts.push(format!("{label} {}", fmt(a)));
                }
            }
            for (why, a) in &b.skipped {
                parts.push(format!("{} {}", why.label(), fmt(*a)));
            }
            let check = if b.balanced() {
                "reconciled"
            } else {
                "DOES NOT RECONCILE"
            };
            format!(
                "money {} {cur} = {} ({check})",
                fmt(b.total),
                parts.join(" + ")
            )
        })
        .collect()
}
