//! `llm-scope3 ledger copy`: a whole ledger into a new or empty one (file or PostgreSQL).

use crate::cli::{LedgerAction, LedgerArgs};
use crate::error::Result;
use crate::ledger::Location;

pub(crate) fn run(args: &LedgerArgs) -> Result<()> {
    match &args.action {
        LedgerAction::Copy { from, to } => {
            let (from, to) = (
                Location::parse(from.as_os_str()),
                Location::parse(to.as_os_str()),
            );
            let c = crate::ledger::copy(&from, &to)?;
            crate::outln!("copied ledger {from} to {to}:");
            crate::outln!(
                "  {} import(s), {} record(s), {} rejected row(s), {} vendor carbon row(s), {} change-log entr{}, {} final statement(s)",
                c.imports,
                c.records,
                c.rejections,
                c.carbon_rows,
                c.changes,
                if c.changes == 1 { "y" } else { "ies" },
                c.statements
            );
            crate::outln!(
                "  {} user(s) of the upload page, {} audit-log entr{}",
                c.users,
                c.audit,
                if c.audit == 1 { "y" } else { "ies" }
            );
            crate::outln!("  the copy was checked: it holds what the source held");
        }
    }
    Ok(())
}
