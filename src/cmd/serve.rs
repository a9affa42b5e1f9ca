//! `llm-scope3 serve`: check the options, bind, print the address, run the upload server
//! (`web`) on a multi-threaded runtime until the process is stopped. It refuses to listen
//! beyond loopback unless sign-in is set up (users in the ledger, or a trusted single-sign-on
//! proxy): an open page there would let anyone who reaches the computer upload and read.

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
    let proxies = args
        .trusted_proxies
        .iter()
        .map(|p| web::Network::parse(p))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::Usage)?;
    if let Some(h) = &args.proxy_user_header {
        if axum::http::HeaderName::from_bytes(h.trim().as_bytes()).is_err() {
            return Err(Error::Usage(format!(
                "--proxy-user-header {h}: not a header name"
            )));
        }
        if proxies.is_empty() {
            return Err(Error::Usage(format!(
                "--proxy-user-header {h} needs --trusted-proxy: the header is believed only from the proxy's address"
            )));
        }
    }
    // The users, without making a ledger yet (a refusal below leaves nothing behind).
    let users = match &args.ledger {
        Some(arg) => {
            match crate::ledger::Ledger::open_existing_at(&crate::ledger::Location::parse(
                arg.as_os_str(),
            )) {
                Ok(ledger) => ledger.users()?.len(),
                Err(crate::ledger::LedgerError::NotFound(_)) => 0,
                Err(e) => return Err(e.into()),
            }
        }
        None => 0,
    };
    if !proxies.is_empty() && args.ledger.is_none() {
        return Err(Error::Usage(
            "--trusted-proxy needs --ledger: the users the proxy names, and their roles, are kept in the ledger (llm-scope3 users add NAME --role viewer --no-password --ledger FILE)".into(),
        ));
    }
    let sign_in = users > 0 || !proxies.is_empty();
    if web::is_exposed(&args.bind) && !sign_in {
        return Err(Error::Usage(format!(
            "refusing to listen on {}: beyond this computer the page needs sign-in, and none is set up, so anyone who can reach it could upload files and read reports. Either add users to a ledger and serve it (llm-scope3 users add NAME --role preparer --ledger FILE, then serve --ledger FILE), or put a single-sign-on proxy in front (--trusted-proxy ADDRESS --ledger FILE), or listen on this computer only (--bind 127.0.0.1:{})",
            args.bind,
            args.bind.port()
        )));
    }
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
        opts.trusted_proxies = proxies.clone();
        opts.proxy_user_header = args
            .proxy_user_header
            .as_ref()
            .map(|h| h.trim().to_string());
        // Tests and scripts read the address from this first line. A closed standard output
        // must not stop the server, so write errors are ignored.
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "llm-scope3 serve: listening on http://{bound}/");
        if web::is_exposed(&bound) {
            eprintln!(
                "warning: {bound} is not a loopback address: the page is reachable from the network on port {}; sign-in is required, and browsers keep the sign-in cookie (Secure) only over https: put a TLS reverse proxy in front",
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
        let sign_in_line = match (users, proxies.is_empty()) {
            (0, true) => "sign-in: off (the ledger has no users, or there is no ledger): the page is open to this computer; `llm-scope3 users add` turns sign-in on at once".to_string(),
            (n, true) => format!("sign-in: required ({n} user(s) in the ledger; roles viewer, preparer, approver, admin)"),
            (n, false) => {
                let via = proxies
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                match &args.proxy_user_header {
                    Some(h) => format!(
                        "sign-in: through the single-sign-on proxy at {via} (user in header {}), or with a password ({n} user(s) in the ledger)",
                        h.trim()
                    ),
                    None => format!(
                        "sign-in: with a password ({n} user(s) in the ledger), behind the proxy at {via} (no header names a user: --proxy-user-header is not set)"
                    ),
                }
            }
        };
        let _ = writeln!(out, "{sign_in_line}");
        let _ = writeln!(out, "Open the address in a browser; stop with Ctrl-C.");
        let _ = out.flush();
        web::serve(listener, web::AppState::new(opts))
            .await
            .map_err(|e| Error::Internal(format!("the server stopped: {e}")))
    })
}
