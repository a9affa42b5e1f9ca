//! The upload page and its JSON API (`llm-scope3 serve`): [`router`] builds the axum router,
//! [`serve`] accepts connections. It owns HTTP only: limits, the Host/Origin guard, the bounded
//! job queue, and results kept under random ids until they expire. It must not compute a
//! figure: a job calls the same [`crate::pipeline`] and report builders as `llm-scope3 report`
//! (see `job.rs`); handlers stay thin (`handlers.rs`).
//!
//! Safety, in order of a request's path: the Host must be the bound address (DNS rebinding)
//! and an Origin, when sent, must be that host (CSRF); a request that does not finish within
//! the timeout gets 408; the body is limited (413); a full queue answers 503 with
//! Retry-After before the upload is read; uploads go to a per-request temporary folder under
//! generated names (the browser's file name is only displayed).

mod handlers;
mod job;
mod upload;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::sync::Semaphore;

use crate::cli::ReadArgs;

/// How the server behaves: address, limits, queue and expiry.
#[derive(Debug, Clone)]
pub struct Options {
    /// The address the server is bound to (after binding: the real port). Requests must name
    /// it in their Host header.
    pub bind: SocketAddr,
    /// Ledger file: uploads are imported into it and reports made from it. `None`: nothing is
    /// kept between requests.
    pub ledger: Option<PathBuf>,
    /// Templates, factor set and configuration file, as for `report`.
    pub read: ReadArgs,
    /// Largest request body (all files of one upload together), in bytes.
    pub max_upload_bytes: usize,
    /// Longest a request may take, upload and processing included.
    pub request_timeout: Duration,
    /// Longest wait for the next piece of an upload's body.
    pub body_idle_timeout: Duration,
    /// Reports built at the same time (each on a blocking thread).
    pub workers: usize,
    /// Uploads admitted at once (being received, waiting or being built); past it: 503.
    pub queue: usize,
    /// The Retry-After of a 503, in seconds.
    pub retry_after_secs: u64,
    /// How long a report can be downloaded.
    pub result_ttl: Duration,
    /// Most reports kept at once (the oldest go first).
    pub max_results: usize,
}

impl Options {
    /// The defaults: 200 MiB uploads, 10 minutes per request, 30 s body idle time, one worker
    /// per core (at most 4), 8 uploads admitted, results kept for an hour (at most 50).
    pub fn new(bind: SocketAddr) -> Options {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Options {
            bind,
            ledger: None,
            read: ReadArgs {
                templates: vec![],
                factors: None,
                config: None,
                max_lines: None,
            },
            max_upload_bytes: 200 * 1024 * 1024,
            request_timeout: Duration::from_secs(600),
            body_idle_timeout: Duration::from_secs(30),
            workers: cores.clamp(1, 4),
            queue: 8,
            retry_after_secs: 5,
            result_ttl: Duration::from_secs(3600),
            max_results: 50,
        }
    }
}

/// The server's shared state: options, the queue and the finished reports.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    opts: Options,
    /// Hosts accepted in the Host header (`127.0.0.1:8080`, `localhost:8080` ...); empty when
    /// bound to every interface (then any host with the bound port).
    hosts: Vec<String>,
    /// Admission: one permit per upload in flight.
    queue: Arc<Semaphore>,
    /// Building: one permit per report being built.
    workers: Arc<Semaphore>,
    /// Finished reports by id.
    results: Mutex<HashMap<String, Stored>>,
    /// One ledger writer at a time.
    ledger_lock: Mutex<()>,
}

/// A finished report: its bytes only (the workbook, the JSON summary gzip-compressed), never
/// the structures it was built from.
pub(crate) struct Stored {
    created: Instant,
    xlsx: Arc<Vec<u8>>,
    json_gz: Arc<Vec<u8>>,
    file_stem: String,
}

impl Stored {
    fn bytes(&self) -> usize {
        self.xlsx.len() + self.json_gz.len()
    }
}

/// The most bytes the finished reports kept for download may hold together; the oldest go
/// first past it (docs/api.md, memory budget).
pub const STORE_BUDGET_BYTES: usize = 1 << 30;

impl AppState {
    /// State for a server with these options.
    pub fn new(opts: Options) -> AppState {
        let hosts = allowed_hosts(&opts.bind);
        AppState {
            inner: Arc::new(Inner {
                hosts,
                queue: Arc::new(Semaphore::new(opts.queue.max(1))),
                workers: Arc::new(Semaphore::new(opts.workers.max(1))),
                results: Mutex::new(HashMap::new()),
                ledger_lock: Mutex::new(()),
                opts,
            }),
        }
    }

    fn opts(&self) -> &Options {
        &self.inner.opts
    }

    /// The reports that have not expired (expired ones are dropped now).
    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Stored>> {
        let mut map = self
            .inner
            .results
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let ttl = self.opts().result_ttl;
        map.retain(|_, s| s.created.elapsed() < ttl);
        map
    }

    /// Keeps a report; returns its id.
    fn store(&self, xlsx: Vec<u8>, json: String, file_stem: String) -> String {
        let id = random_id();
        // JSON compresses about tenfold; the fast level keeps this well under a second.
        let json_gz = {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let _ = gz.write_all(json.as_bytes());
            gz.finish().unwrap_or_default()
        };
        drop(json);
        let incoming = xlsx.len() + json_gz.len();
        let mut map = self.live();
        while map.len() >= self.opts().max_results.max(1)
            || (!map.is_empty()
                && map.values().map(Stored::bytes).sum::<usize>() + incoming > STORE_BUDGET_BYTES)
        {
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
        map.insert(
            id.clone(),
            Stored {
                created: Instant::now(),
                xlsx: Arc::new(xlsx),
                json_gz: Arc::new(json_gz),
                file_stem,
            },
        );
        id
    }

    /// A report that has not expired.
    fn get(&self, id: &str) -> Option<(Arc<Vec<u8>>, Arc<String>, String)> {
        let (xlsx, json_gz, stem) = self
            .live()
            .get(id)
            .map(|s| (s.xlsx.clone(), s.json_gz.clone(), s.file_stem.clone()))?;
        let mut json = String::new();
        use std::io::Read;
        flate2::read::GzDecoder::new(json_gz.as_slice())
            .read_to_string(&mut json)
            .ok()?;
        Some((xlsx, Arc::new(json), stem))
    }
}

/// 128 random bits as 32 hex digits (the operating system's generator).
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No system randomness: fall back to the clock and a counter, still unique per process.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes[..8].copy_from_slice(&n.to_le_bytes());
        bytes[8..].copy_from_slice(&(t as u64).to_le_bytes());
    }
    crate::ingest::hex(&bytes)
}

/// The Host values a request may carry for a server bound to `bind`.
fn allowed_hosts(bind: &SocketAddr) -> Vec<String> {
    let port = bind.port();
    if bind.ip().is_unspecified() {
        return vec![];
    }
    let mut hosts = vec![bind.to_string()];
    if bind.ip().is_loopback() {
        hosts.push(format!("localhost:{port}"));
    }
    hosts
}

/// True when binding to `addr` exposes the server beyond this computer.
pub fn is_exposed(addr: &SocketAddr) -> bool {
    !addr.ip().is_loopback()
}

/// The router: the page, the API, and the guards around them.
pub fn router(state: AppState) -> Router {
    let limit = state.opts().max_upload_bytes;
    Router::new()
        .route("/", get(handlers::page))
        .route("/api/reports", post(handlers::create))
        .route("/api/reports/{id}/workbook.xlsx", get(handlers::workbook))
        .route("/api/reports/{id}/summary.json", get(handlers::summary))
        .fallback(handlers::not_found)
        // Innermost first: the body limit (413 on Content-Length, or while reading), then the
        // timeout, then the Host/Origin guard, which runs before anything else.
        .layer(DefaultBodyLimit::disable())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(limit))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(middleware::from_fn_with_state(state.clone(), guard_host))
        .with_state(state)
}

/// An API error: a status and a message (and, for unusable files, each file's facts).
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    files: Option<Vec<job::FileJson>>,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            files: None,
            retry_after: None,
        }
    }
}

impl From<crate::error::Error> for ApiError {
    fn from(e: crate::error::Error) -> ApiError {
        use crate::error::Error;
        let status = match &e {
            Error::Usage(_) => StatusCode::BAD_REQUEST,
            Error::Input(_) | Error::InputData(_) | Error::Template(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Error::Ledger(_) if e.exit_code() == 3 => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Ledger(_) if e.exit_code() == 2 => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

/// The page's words for a message written for the command line: the errors of the stages
/// (normalise, ledger, pipeline) suggest command-line options such as `--template FILE` or
/// `--replace 3`, which a person on the upload page cannot use. Each such suggestion is said
/// again in terms of the page (what to choose on it, or whom to ask); the rest of the message,
/// which names the file and the reason, is kept as it is.
pub(crate) fn page_words(message: &str) -> String {
    const SAID_AGAIN: &[(&str, &str)] = &[
        (
            "Export it again with all columns, or use --template FILE for another format.",
            "Export it again with all columns. For a format this page does not know, ask whoever runs it to add an import template (docs/formats.md).",
        ),
        (
            "Use --template FILE for another format.",
            "For a format this page does not know, ask whoever runs it to add an import template (docs/formats.md).",
        ),
        (
            "name the reporting period: --quarter 2026Q1, --year 2026, or --from 2026-01-01 --to 2026-03-31",
            "choose the reporting period: a quarter or a year",
        ),
        (
            "Export non-overlapping date ranges, or import them into a ledger, which resolves overlaps.",
            "Upload exports whose date ranges do not overlap.",
        ),
    ];
    let mut text = message.to_string();
    for (cli, page) in SAID_AGAIN {
        text = text.replace(cli, page);
    }
    // The ledger's granularity conflict: "Import it with --replace 3 to supersede #3, or
    // remove #3 first." The page cannot supersede or remove an import.
    if let Some(at) = text.find("Import it with --replace ") {
        let rest = &text[at + "Import it with --replace ".len()..];
        let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let end = rest.find(" first.").map(|e| e + " first.".len());
        if let (false, Some(end)) = (id.is_empty(), end) {
            let tail = rest[end..].to_string();
            text = format!(
                "{}The upload page cannot replace or remove an import: ask whoever keeps the ledger to supersede or remove import #{id}, then upload this file again.{tail}",
                &text[..at]
            );
        }
    }
    text
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = page_words(&self.message);
        let mut body = serde_json::json!({ "error": message, "status": self.status.as_u16() });
        if let Some(files) = &self.files {
            body["files"] = serde_json::to_value(files).unwrap_or_default();
        }
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

/// Refuses a request whose Host is not the bound address or whose Origin is another site.
async fn guard_host(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.to_ascii_lowercase());
    let Some(host) = host else {
        return ApiError::new(StatusCode::BAD_REQUEST, "the request has no Host header")
            .into_response();
    };
    let ok = if state.inner.hosts.is_empty() {
        host.rsplit_once(':')
            .is_some_and(|(_, port)| port == state.opts().bind.port().to_string())
    } else {
        state.inner.hosts.contains(&host)
    };
    if !ok {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "refused: this server answers to http://{} only, not to Host '{host}'",
                state.opts().bind
            ),
        )
        .into_response();
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let same = origin
            .to_str()
            .is_ok_and(|o| o.eq_ignore_ascii_case(&format!("http://{host}")));
        if !same {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "refused: a page from another site (Origin {}) may not use this server",
                    String::from_utf8_lossy(origin.as_bytes())
                ),
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// Answers 408 when a request (upload and processing) takes longer than allowed.
async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.opts().request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request took longer than {} s (upload and processing); try fewer or smaller files",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

/// Accepts connections on `listener` and serves the router until the process ends. Each
/// connection must send its request headers within the body idle time (slow clients are
/// dropped).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    let header_timeout = state.opts().body_idle_timeout;
    let app = router(state);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait a little and go on serving.
                eprintln!("llm-scope3 serve: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            // A client that goes away mid-request is not the server's problem.
            let _ = conn.await;
        });
    }
}
