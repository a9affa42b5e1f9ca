//! `llm-scope3 audit list`: the ledger's audit log (who did what, when, how and from where).

use crate::cli::{AuditAction, AuditArgs};
use crate::error::Result;
use crate::ledger::{Ledger, Location};

pub(crate) fn run(args: &AuditArgs) -> Result<()> {
    let location = Location::chosen(args.ledger.ledger.as_deref());
    match &args.action {
        AuditAction::List { last } => {
            let ledger = Ledger::open_existing_at(&location)?;
            let entries = ledger.audit_log(*last)?;
            crate::outln!("ledger {}", ledger.shown());
            if entries.is_empty() {
                crate::outln!("  the audit log is empty");
                return Ok(());
            }
            crate::outln!(
                "  {:<20}  {:<24}  {:<28}  {:<14}  what",
                "when (UTC)",
                "who",
                "how",
                "action"
            );
            for e in entries {
                let how = match &e.client {
                    Some(c) => format!("{} from {c}", e.via),
                    None => e.via.clone(),
                };
                crate::outln!(
                    "  {:<20}  {:<24}  {:<28}  {:<14}  {}",
                    e.at,
                    e.who,
                    how,
                    e.action,
                    e.detail
                );
            }
        }
    }
    Ok(())
}
