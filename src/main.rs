//! The `llm-scope3` binary: parse the command line, run it, map errors to exit codes
//! (0 success, 2 usage error, 3 input data error, 1 internal error).

use clap::Parser;

/// mimalloc instead of the system allocator: the CSV reader's parsing thread allocates the
/// records of the batches it maps, which the calling thread frees; glibc's allocator handles
/// that with arena locks and by returning memory to the system (TLB shootdowns across the
/// cores) many times a second.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = llm_scope3::cli::Cli::parse();
    let result = llm_scope3::cmd::run(cli);
    // Output to a reader that has gone (`| head`) ends quietly; any other write error fails.
    if let Err(e) = llm_scope3::out::finish() {
        eprintln!("error: cannot write to standard output: {e}");
        if result.is_ok() {
            std::process::exit(1);
        }
    }
    if let Err(err) = result {
        eprintln!("error: {err}");
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            eprintln!("  caused by: {s}");
            source = s.source();
        }
        std::process::exit(err.exit_code());
    }
}
