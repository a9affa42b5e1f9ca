//! Final statements: what a report says about the final statement of its period in the ledger.
//! A `report --final` workbook names the statement it records; any later report of the period
//! compares its figure with the last statement recorded, says by how much it differs and why
//! (a warning: terminal, upload page, Cover, Coverage and JSON) or that it matches. The words
//! are made here once, for every front end.

use super::Outcome;
use crate::ledger::Statement;

/// Below this (kgCO2e, a milligram) two central figures are the same figure.
const SAME_KG: f64 = 1e-6;

/// A report's figure against the last final statement of its period.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison<'a> {
    /// The statement.
    pub statement: &'a Statement,
    /// This report's central figure, kgCO2e.
    pub current_kg: f64,
    /// Current minus stated, kgCO2e central.
    pub difference_kg: f64,
    /// The difference relative to the stated figure (none when that was zero).
    pub relative: Option<f64>,
    /// True when the two are the same figure.
    pub matches: bool,
    /// What changed since the statement: factor set, imports added (with the vendor's
    /// restatements among them), imports removed.
    pub reasons: Vec<String>,
    /// ` for entity NAME` or ` for the group` after the statement's period, when the report
    /// has an entity scope (empty otherwise).
    pub scope: String,
}

/// The final statement this report records (`report --final`), if it records one.
pub fn recording(o: &Outcome) -> Option<&Statement> {
    o.ledger.as_ref()?.recording.as_ref()
}

/// This report against the last final statement of its period recorded before it, when the
/// ledger holds one.
pub fn compare(o: &Outcome) -> Option<Comparison<'_>> {
    let l = o.ledger.as_ref()?;
    let s = l.previous_statement.as_ref()?;
    let current_kg = o.summary.totals.emissions_kgco2e.central;
    let stated = s.kgco2e[1];
    let difference_kg = current_kg - stated;
    let matches = difference_kg.abs() < SAME_KG;
    let mut reasons = vec![];
    if s.factor_sha256 != o.factor_sha256 {
        reasons.push(format!(
            "factor set change ({} → {})",
            s.factor_version, o.factor_version
        ));
    }
    let added: Vec<i64> = l.active_imports.difference(&s.imports).copied().collect();
    let removed: Vec<i64> = s.imports.difference(&l.active_imports).copied().collect();
    let ids = |v: &[i64]| {
        v.iter()
            .map(|i| format!("#{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !added.is_empty() {
        reasons.push(format!("late data (imports {} added)", ids(&added)));
        let restated = l
            .changes
            .iter()
            .filter(|c| c.kind == "restatement" && c.import_id.is_some_and(|i| added.contains(&i)))
            .count();
        if restated > 0 {
            reasons.push(format!(
                "{restated} record(s) restated by the vendor in the added imports"
            ));
        }
    }
    if !removed.is_empty() {
        reasons.push(format!("removed import(s) {}", ids(&removed)));
    }
    if reasons.is_empty() {
        reasons.push(if matches {
            "no change in imports or factor set".into()
        } else {
            "no change in imports or factor set: the configuration (exclusions, regions, cost centres) or the tool's version differs".into()
        });
    }
    Some(Comparison {
        scope: group_or(s, o),
        statement: s,
        current_kg,
        difference_kg,
        relative: (stated != 0.0).then(|| difference_kg / stated),
        matches,
        reasons,
    })
}

impl Comparison<'_> {
    /// The difference in words: `+0.000135 tCO2e (+0.85%)`.
    pub fn difference_text(&self) -> String {
        let pct = match self.relative {
            Some(r) => format!("{:+.2}%", r * 100.0),
            None => "the stated figure was zero".into(),
        };
        format!("{} tCO2e ({pct})", signed_t_text(self.difference_kg))
    }

    /// One sentence: matches, or differs by how much and why.
    pub fn text(&self) -> String {
        let s = self.statement;
        let now = t_text(self.current_kg);
        let of = &self.scope;
        if self.matches {
            return format!(
                "This report's figure, {now} tCO2e (central), matches final statement #{} of {}{of} (recorded {}).",
                s.id, s.period_label, s.stated_at
            );
        }
        format!(
            "This report's figure, {now} tCO2e (central), differs from final statement #{} of {}{of} (recorded {}: {} tCO2e) by {}. Why: {}.",
            s.id,
            s.period_label,
            s.stated_at,
            t_text(s.kgco2e[1]),
            self.difference_text(),
            self.reasons.join("; ")
        )
    }
}

/// ` for entity NAME` after a statement's period when it states one reporting entity (a
/// statement of the whole ledger, the group, says nothing more, as before entities existed).
pub fn scope_text(s: &Statement) -> String {
    match &s.entity {
        Some(e) => format!(" for entity {e}"),
        None => String::new(),
    }
}

/// The Cover's Status: Final with the statement this workbook records, or Draft (naming the
/// period's final statement when it has one).
pub fn status_text(o: &Outcome) -> String {
    if let Some(s) = recording(o) {
        let ledger = o.ledger.as_ref().map_or("", |l| l.path.as_str());
        return format!(
            "Final: statement #{} of {}{}, recorded {} in ledger {ledger}. The sheets are protected against accidental edits (no password); only the sign-off cells below can be filled in.",
            s.id,
            s.period_label,
            group_or(s, o),
            s.stated_at
        );
    }
    match o.ledger.as_ref().and_then(|l| l.previous_statement.as_ref()) {
        Some(s) => format!(
            "Draft: for review. {}{} was stated final as statement #{} (recorded {}); this workbook does not replace it.",
            s.period_label,
            group_or(s, o),
            s.id,
            s.stated_at
        ),
        None => "Draft: for review".into(),
    }
}

/// [`scope_text`], or ` for the group` for a statement of the whole ledger in a group report.
fn group_or(s: &Statement, o: &Outcome) -> String {
    match (&s.entity, &o.entity_scope) {
        (None, Some(super::entities::EntityScope::Group(_))) => " for the group".into(),
        _ => scope_text(s),
    }
}

/// kgCO2e as tCO2e: three decimals, or three significant digits below 0.1 t so that a small
/// difference does not read as zero (`0.000135`).
pub fn t_text(kg: f64) -> String {
    let t = kg / 1000.0;
    if t == 0.0 || t.abs() >= 0.1 {
        return format!("{t:.3}");
    }
    let decimals = (2 - t.abs().log10().floor() as i32).clamp(3, 12) as usize;
    format!("{t:.decimals$}")
}

/// [`t_text`] with its sign (`+0.235`, `-1.500`).
pub fn signed_t_text(kg: f64) -> String {
    let text = t_text(kg);
    if kg > 0.0 {
        format!("+{text}")
    } else {
        text
    }
}

/// Lets a final statement of this report's period go ahead, or says why not: a period whose
/// coverage has gaps (a month without data, a period reaching past the data) is stated only
/// with a reason for accepting them (`report --final --accept-gaps`, the page's "accept the
/// gaps because"), which is then noted among the warnings. A reason that is only blanks is a
/// usage error. The same words for every front end (the page says the option in its own).
pub fn gate(o: &mut Outcome, accept_gaps: Option<&str>) -> crate::error::Result<()> {
    use crate::error::Error;
    let gaps: Vec<String> = o
        .warnings
        .iter()
        .filter(|w| w.is_gap())
        .map(|w| format!("  - {}", w.message))
        .collect();
    let reason = match accept_gaps {
        Some(r) if r.trim().is_empty() => {
            return Err(Error::Usage(
                "--accept-gaps needs a reason, e.g. --accept-gaps \"no AI use in February: service paused\"".into(),
            ))
        }
        Some(r) => Some(r.trim()),
        None => None,
    };
    match reason {
        None if !gaps.is_empty() => Err(Error::InputData(format!(
            "nothing written or recorded: the coverage of {} has gaps, and a final statement must not hide them:\n{}\n  Add the missing exports, or state the period anyway with --accept-gaps \"REASON\" (recorded and shown on the Cover).",
            o.period,
            gaps.join("\n")
        ))),
        Some(reason) if !gaps.is_empty() => {
            o.warnings.push(super::warnings::Warning::gaps_accepted(reason));
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The totals a final statement of this report states (numbered by the ledger when recorded),
/// with the reason its gaps were accepted, if any.
pub fn statement(o: &Outcome, accepted_gaps: Option<&str>) -> Statement {
    let t = &o.summary.totals;
    Statement {
        id: 0,
        period_label: o.period.label.clone(),
        stated_at: o.generated_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        factor_version: o.factor_version.clone(),
        factor_sha256: o.factor_sha256.clone(),
        imports: o
            .ledger
            .as_ref()
            .map(|v| v.active_imports.clone())
            .unwrap_or_default(),
        kgco2e: [
            t.emissions_kgco2e.low,
            t.emissions_kgco2e.central,
            t.emissions_kgco2e.high,
        ],
        energy_kwh: t.energy_kwh.central,
        tokens: [t.activity.input_tokens, t.activity.output_tokens],
        accepted_gaps: accepted_gaps.map(|g| g.trim().to_string()),
        entity: match &o.entity_scope {
            Some(super::entities::EntityScope::Entity(name)) => Some(name.clone()),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{signed_t_text, t_text};

    #[test]
    fn small_amounts_keep_three_significant_digits() {
        assert_eq!(t_text(1234.5678), "1.235");
        assert_eq!(t_text(150.0), "0.150");
        assert_eq!(t_text(0.135364206649), "0.000135");
        assert_eq!(t_text(0.0), "0.000");
        assert_eq!(signed_t_text(0.135364206649), "+0.000135");
        assert_eq!(signed_t_text(-2500.0), "-2.500");
        assert_eq!(t_text(99.0), "0.0990");
    }
}
