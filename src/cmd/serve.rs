//! `llm-scope3 serve`: check the options, bind, print the address, run the upload server
//! (`web`) on a multi-threaded runtime until the process is stopped.

use std::time::Duration;

use crate::cli::ServeArgs;
use crate::error::{Error, Result};
use crate::web;

pub(crate) fn run(args: &ServeArgs) -> Result<()> {
    if args.max_upload_mib == 0 || args.timeout == 0 || args.queue == 0 || args.rate_window == 0 {
        return Err(Error::Usage(
            "--max-upload-mib, --timeout, --queue and --rate-window must be at least 1".into(),
        ));
    }
    // The configuration and factor set are checked once now, so a mistake shows at start
    // rather than on the first upload.
    crate::config::Config::new(
        &crate::config::PeriodRequest {
            year: Some("2026".into()),
            ..Default::default()
        },
        &(&args.read).into(),
        None,
        None,
    )?;
    if let Some(arg) = &args.ledger {
        crate::ledger::Ledger::open_at(&crate::ledger::Location::parse(arg.as_os_str()))?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the server runtime: {e}")))?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", args.bind)))?;
        let bound = listener
            .local_addr()
            .map_err(|e| Error::Internal(format!("the bound address: {e}")))?;
        let mut opts = web::Options::new(bound);
        opts.ledger = args.ledger.clone();
        opts.read = (&args.read).into();
        opts.max_upload_bytes = args.max_upload_mib.saturating_mul(1024 * 1024);
        opts.request_timeout = Duration::from_secs(args.timeout);
        opts.queue = args.queue;
        opts.min_upload_rate = args.min_upload_rate.saturating_mul(1024);
        opts.rate_grace = Duration::from_secs(args.upload_grace);
        opts.rate_window = Duration::from_secs(args.rate_window);
        opts.ledger_wait = Duration::from_secs(args.ledger_wait);
        // Tests and scripts read the address from this first line. A closed standard output
        // must not stop the server, so write errors are ignored.
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "llm-scope3 serve: listening on http://{bound}/");
        if web::is_exposed(&bound) {
            eprintln!(
                "warning: {bound} is not a loopback address: anyone who can reach this computer on port {} can upload files and read reports",
                bound.port()
            );
        }
        match &args.ledger {
            Some(l) => {
                let _ = writeln!(
                    out,
                    "ledger {} (uploads are imported into it)",
                    crate::ledger::Location::parse(l.as_os_str())
                );
            }
            None => {
                let _ = writeln!(out, "no ledger: nothing is kept between requests");
            }
        }
        let _ = writeln!(out, "Open the address in a browser; stop with Ctrl-C.");
        let _ = out.flush();
        web::serve(listener, web::AppState::new(opts))
            .await
            .map_err(|e| Error::Internal(format!("the server stopped: {e}")))
    })
}
