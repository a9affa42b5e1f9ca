//! `llm-scope3 factors list|show`: what the factor set knows, and how one model id resolves.

use crate::cli::{FactorsAction, FactorsArgs};
use crate::error::Result;
use crate::estimate::LineFactors;
use crate::factors::{FactorSet, ModelMatch};

pub(crate) fn run(args: &FactorsArgs) -> Result<()> {
    let set = FactorSet::load(args.factors.as_deref())?;
    println!(
        "factor set {} ({}), SHA-256 {}",
        set.version, set.origin, set.sha256
    );
    match &args.action {
        FactorsAction::List => {
            println!(
                "{:<34} {:<10} {:<9} {:<6} {:>16} {:>16}  source",
                "model", "provider", "kind", "arch", "total params B", "active params B"
            );
            for m in set.models.values() {
                println!(
                    "{:<34} {:<10} {:<9} {:<6} {:>16} {:>16}  {}",
                    m.model_key,
                    m.provider,
                    m.kind,
                    m.architecture,
                    format!("{}-{}", m.total_params_b_min, m.total_params_b_max),
                    format!("{}-{}", m.active_params_b_min, m.active_params_b_max),
                    m.source_id
                );
            }
            println!(
                "{} models, {} aliases, {} size classes",
                set.models.len(),
                set.aliases.len(),
                set.classes.len()
            );
        }
        FactorsAction::Show { model, provider } => {
            let year = 2026;
            let f = LineFactors::resolve(&set, provider, model, None, None, year);
            let how = match &f.model.how {
                ModelMatch::Exact => "model key".to_string(),
                ModelMatch::Alias => "alias".to_string(),
                ModelMatch::Normalised => {
                    "after removing a date, version or vendor prefix".to_string()
                }
                ModelMatch::Class(c) => format!("UNKNOWN model: estimated by size class '{c}'"),
            };
            println!("{model} -> {} ({how})", f.model.key);
            println!(
                "  kind {}, active params {}-{} B, total {}-{} B, source {}",
                f.model.kind,
                f.model.active.0,
                f.model.active.1,
                f.model.total.0,
                f.model.total.1,
                f.model.source_id
            );
            println!("  factors for provider '{provider}', no region, usage year {year} (low / central / high):");
            for u in &f.uses {
                println!(
                    "    {:<36} {:>10.6} {:>10.6} {:>10.6}  {}  [{}]",
                    u.id, u.value.low, u.value.central, u.value.high, u.unit, u.source_id
                );
            }
            for flag in &f.flags {
                println!("  note: {flag}");
            }
        }
    }
    Ok(())
}
