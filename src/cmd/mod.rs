//! One file per subcommand: orchestration only (arguments -> config -> pipeline -> output).
//! Business logic lives in the stages; nothing here computes a figure.

mod factors;
mod import;
mod imports;
mod inspect;
mod ledger;
mod report;
#[cfg(feature = "serve")]
mod serve;

use crate::cli::{Cli, Command};
use crate::error::Result;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Report(args) => report::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Factors(args) => factors::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Imports(args) => imports::run(&args),
        Command::Ledger(args) => ledger::run(&args),
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
