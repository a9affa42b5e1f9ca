//! The configuration a report used, in words: the file read (or that none was found) and one
//! line per setting it changed, with what that did (records mapped, rows and emissions
//! excluded). The terminal summary and the Cover print the same lines.

use crate::config::ConfigReport;
use crate::pipeline::Outcome;

/// The config file, as the report names it.
pub fn file_text(c: &ConfigReport) -> String {
    match &c.file {
        Some(f) => f.clone(),
        None => format!(
            "none found (no {} in the current folder and no --config): every setting at its default",
            crate::config::DEFAULT_CONFIG
        ),
    }
}

/// One line per setting the config file changed; a single line saying so when it sets
/// nothing; empty without a file.
pub fn lines(o: &Outcome) -> Vec<String> {
    lines_naming(o, "on the Factors sheet")
}

/// [`lines`], saying where overridden factors are marked (`on the Factors sheet`, `in
/// factors.csv`).
pub fn lines_naming(o: &Outcome, factors_table: &str) -> Vec<String> {
    let c = &o.config;
    if c.file.is_none() {
        return vec![];
    }
    if c.sets_nothing() {
        return vec![
            "sets nothing (every setting commented out): the figures are those without a configuration"
                .into(),
        ];
    }
    let mut out = vec![];
    if let Some(name) = &c.entity {
        out.push(if c.entity_overridden {
            format!("entity: {name} (not used: the entity given for this report replaces it)")
        } else {
            format!("entity: {name}")
        });
    }
    if let Some(m) = c.fiscal_year_start_month {
        let month = month_name(m);
        out.push(if m == 1 {
            "fiscal year starts in January (the calendar year)".to_string()
        } else {
            format!(
                "fiscal year starts in {month}: {} is {} to {}",
                o.period.label, o.period.start, o.period.end
            )
        });
    }
    for r in &c.regions {
        out.push(format!(
            "default region {} = {}: given to {} record(s) without one",
            r.provider, r.region, r.records
        ));
    }
    for r in &c.cost_centres {
        let only = match &r.provider {
            Some(p) => format!(" ({p} only)"),
            None => String::new(),
        };
        out.push(format!(
            "cost centre rule \"{}\"{only} -> {}: {} record(s)",
            r.pattern, r.cost_centre, r.records
        ));
    }
    for r in &c.entities {
        let mut what = vec![];
        if let Some(a) = &r.account {
            what.push(format!("account \"{a}\""));
        }
        if let Some(cc) = &r.cost_centre {
            what.push(format!("cost centre \"{cc}\""));
        }
        let only = match &r.provider {
            Some(p) => format!(" ({p} only)"),
            None => String::new(),
        };
        out.push(format!(
            "entity rule {}{only} -> {}: applied when records are imported into a ledger",
            what.join(", "),
            r.entity
        ));
    }
    for e in &c.exclusions {
        let mut what = vec![];
        if let Some(p) = &e.provider {
            what.push(format!("provider {p}"));
        }
        if let Some(m) = &e.model {
            what.push(format!("model \"{m}\""));
        }
        if let Some(cc) = &e.cost_centre {
            what.push(format!("cost centre \"{cc}\""));
        }
        let kg = e.emissions_kgco2e;
        out.push(format!(
            "excluded {} ({}): {} row(s), {} tCO2e central (low {}, high {}) not in the totals",
            what.join(", "),
            e.reason,
            e.rows,
            tonnes(kg.central),
            tonnes(kg.low),
            tonnes(kg.high)
        ));
    }
    if let Some(v) = &c.factor_version {
        out.push(if c.factor_version_overridden {
            format!("factor set {v} (not used: --factors replaces it)")
        } else {
            format!("factor set {v}")
        });
    }
    if let Some(f) = &c.factor_overrides {
        const SHOWN: usize = 5;
        let mut rows: Vec<&str> = f.rows.iter().take(SHOWN).map(String::as_str).collect();
        let more = f.rows.len().saturating_sub(SHOWN);
        let more_text = format!("and {more} more");
        if more > 0 {
            rows.push(&more_text);
        }
        out.push(format!(
            "factor overrides from {}: {} row(s) replaced or added ({}), marked OVERRIDDEN {factors_table}",
            f.folder,
            f.rows.len(),
            if rows.is_empty() {
                "none".to_string()
            } else {
                rows.join(", ")
            }
        ));
    }
    if let Some(cur) = &c.currency {
        let rates = match o.reporting.as_ref().map(|r| &r.fx_ids) {
            Some(ids) if !ids.is_empty() => format!(" ({} {factors_table})", ids.join(", ")),
            _ => String::new(),
        };
        out.push(format!(
            "currency {cur}: spend also shown in {cur}, converted at the factor set's annual exchange rates{rates}; the amounts as exported are kept beside it"
        ));
    }
    if let Some(y) = c.base_year {
        out.push(format!("base year {y}: recorded only"));
    }
    if let Some(r) = &c.net_revenue {
        out.push(format!(
            "net revenue {} {} a year: for the management metric per net revenue only",
            r.amount, r.currency
        ));
    }
    if let Some(n) = c.employees {
        out.push(format!(
            "employees {n}: for the management metric per employee only"
        ));
    }
    if let Some(include) = c.include_training {
        let tr = &o.training;
        out.push(match (include, tr.available) {
            (true, true) => format!(
                "boundary: include_training = true: the amortised training share, {} tCO2e central (Training sheet), is added to the reported figure",
                tonnes(tr.added_kgco2e())
            ),
            (true, false) => format!(
                "boundary: include_training = true, but factor set {} has no training emissions: nothing added",
                o.factor_version
            ),
            (false, _) => "boundary: include_training = false: the training share is shown apart (the default)".into(),
        });
    }
    out
}

/// kgCO2e as tonnes: three decimals, or three significant digits below 1 t, so that a small
/// exclusion never reads as zero.
pub fn tonnes(kg: f64) -> String {
    let t = kg / 1000.0;
    if t == 0.0 || !t.is_finite() {
        return "0".into();
    }
    if t.abs() >= 1.0 {
        return format!("{t:.3}");
    }
    let decimals = (2 - t.abs().log10().floor() as i32).clamp(3, 15) as usize;
    format!("{t:.decimals$}")
}

fn month_name(m: u32) -> &'static str {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    MONTHS
        .get((m as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::tonnes;

    #[test]
    fn small_exclusions_do_not_read_as_zero() {
        assert_eq!(tonnes(0.0), "0");
        assert_eq!(tonnes(12_345.0), "12.345");
        // 12.3 kg = 0.0123 t: three significant digits.
        assert_eq!(tonnes(12.3), "0.0123");
        assert_eq!(tonnes(0.5), "0.000500");
        assert_eq!(tonnes(999.0), "0.999");
    }
}
