//! Plain-text lines of a report for the terminal and the upload page: every outcome of a
//! file's rows and money, so that the parts visibly add up to the whole.

/// The amortised training share in one line (none when the factor set has no training
/// emissions): shown apart, or included in the reported figure by the configuration.
pub fn training_line(o: &crate::pipeline::Outcome) -> Option<String> {
    let tr = &o.training;
    if !tr.available {
        return None;
    }
    let b = tr.total_tco2e;
    Some(if tr.included {
        format!(
            "Training share: {:.6} tCO2e central (low {:.6}, high {:.6}), INCLUDED ([boundary] include_training = true): reported figure {:.3} tCO2e central",
            b.central,
            b.low,
            b.high,
            (o.summary.totals.emissions_kgco2e.central + tr.added_kgco2e()) / 1000.0
        )
    } else {
        format!(
            "Training share (shown apart, not in the total): {:.6} tCO2e central (low {:.6}, high {:.6}); Training sheet",
            b.central, b.low, b.high
        )
    })
}

/// The report's reporting-entity scope: one entity's records, or the group with each
/// entity's tCO2e (none for a ledger without entities reported without `--group`).
pub fn entity_lines(o: &crate::pipeline::Outcome) -> Vec<String> {
    use crate::pipeline::entities::EntityScope;
    match &o.entity_scope {
        None => vec![],
        Some(EntityScope::Entity(name)) => vec![format!(
            "Scope: entity {name} (only its records in the ledger; --group for the group)"
        )],
        Some(EntityScope::Group(rows)) => {
            let mut out = vec![format!(
                "Scope: the group, consolidated over {} row(s) (Entities sheet):",
                rows.len()
            )];
            for r in rows {
                let e = r.totals.emissions_kgco2e;
                out.push(format!(
                    "  {}: {:.3} tCO2e central (low {:.3}, high {:.3}), {} record(s)",
                    r.name(),
                    e.central / 1000.0,
                    e.low / 1000.0,
                    e.high / 1000.0,
                    r.records
                ));
            }
            out
        }
    }
}

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
                "money {} {} = {} ({check})",
                fmt(b.total),
                crate::out::shown(cur),
                parts.join(" + ")
            )
        })
        .collect()
}

/// One what-if scenario in a line: `What if 50% of the gpt-4o tokens served by gpt-4o-mini
/// instead: -12.345 kgCO2e central (low -2.100, high -80.000) on 3 line(s), ...`; in tCO2e
/// when the change is a tonne or more.
pub fn what_if_line(w: &crate::aggregate::what_if::Outcome) -> String {
    let d = w.delta_kgco2e;
    let (unit, scale) = if d.central.abs() >= 1000.0 {
        ("tCO2e", 1000.0)
    } else {
        ("kgCO2e", 1.0)
    };
    let mut s = format!(
        "What if {}: {:+.3} {unit} central (low {:+.3}, high {:+.3}) on {} line(s); the period would be {:.3} tCO2e instead of {:.3}",
        w.description,
        d.central / scale,
        d.low / scale,
        d.high / scale,
        w.lines,
        w.total_after_kgco2e.central / 1000.0,
        (w.total_after_kgco2e.central - d.central) / 1000.0,
    );
    for n in &w.notes {
        s.push_str("; ");
        s.push_str(n);
    }
    s.push_str(" (a scenario, not the reported figure)");
    s
}
