//! One file per subcommand: orchestration only (arguments -> config -> pipeline -> output).
//! Business logic lives in the stages; nothing here computes a figure.

mod audit;
mod factors;
mod import;
mod imports;
mod inspect;
mod ledger;
mod report;
#[cfg(feature = "serve")]
mod serve;
mod sql;
mod users;

use crate::cli::{Cli, Command};
use crate::error::Result;

/// The operating-system user running the command, as the audit log names who did something
/// on the command line: $USER, else $LOGNAME, else $USERNAME (Windows), else the user id.
pub(crate) fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(std::env::var_os)
        .map(|v| v.to_string_lossy().trim().to_string())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| {
            // No login name in the environment (a service, a container): the user id.
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                if let Ok(m) = std::fs::metadata("/proc/self") {
                    return format!("uid {}", m.uid());
                }
            }
            "(unknown operating-system user)".to_string()
        })
}

/// Who this command's changes to a ledger are recorded as: the operating-system user, on the
/// command line.
pub(crate) fn actor() -> crate::ledger::Actor {
    crate::ledger::Actor::command_line(&os_user())
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Report(args) => report::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Sql(args) => sql::run(&args),
        Command::Factors(args) => factors::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Imports(args) => imports::run(&args),
        Command::Ledger(args) => ledger::run(&args),
        Command::Users(args) => users::run(&args),
        Command::Audit(args) => audit::run(&args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run(&args),
        #[cfg(not(feature = "serve"))]
        Command::Serve(_) => Err(crate::error::Error::Usage(
            "this build has no upload page: build llm-scope3 with the `serve` feature (the default)"
                .into(),
        )),
        Command::Init { path } => {
            if path.exists() {
                return Err(crate::error::Error::Usage(format!(
                    "{} exists already: edit it, or name another file",
                    path.display()
                )));
            }
            crate::report::write_atomic(&path, crate::config::EXAMPLE.as_bytes())?;
            crate::outln!("Wrote {}: edit it, then run llm-scope3 report (it is read automatically from this folder).", path.display());
            Ok(())
        }
    }
}
