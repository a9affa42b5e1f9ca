//! The upload page and its JSON API (`llm-scope3 serve`): [`router`] builds the axum router,
//! [`serve`] accepts connections. It owns HTTP only: limits, the Host/Origin guard, the bounded
//! job queue, and results kept under random ids until they expire. It must not compute a
//! figure: a job calls the same [`crate::pipeline`] and report builders as `llm-scope3 report`
//! (see `job.rs`); handlers stay thin (`handlers.rs`).
//!
//! Safety, in order of a request's path: one Host, the bound address (DNS rebinding), also in an
//! absolute-form target; an Origin, Sec-Fetch-Site or Referer must not name another site (CSRF);
//! once sign-in applies (`auth.rs`): who is asking, what their role allows, and the CSRF token
//! of their session on every state-changing request; a request that does not finish within
//! the timeout gets 408; the body is limited (413); an upload under the minimum rate gets 408
//! (`pace.rs`); a full queue evicts an upload far under it, else answers 503 with
//! Retry-After before the upload is read; uploads go to a per-request temporary folder under
//! generated names (the browser's file name is only displayed).

mod auth;
mod handlers;
mod job;
mod pace;
mod sign_in;
mod upload;

pub use auth::{
    Network, CSRF_HEADER, FAILURES_PER_CLIENT, FAILURES_PER_USER, FAILURE_WINDOW, SESSION_COOKIE,
    SESSION_IDLE, SESSION_LIFETIME, SIGN_IN_COOKIE,
};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::config::ReadRequest;

/// Headers every page answer carries: no framing by other sites, scripts and styles only
/// from the page itself.
const PAGE_HEADERS: [(HeaderName, &str); 4] = [
    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
    ),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::CACHE_CONTROL, "no-store"),
];

/// The Retry-After of a 503 unless the options say otherwise, in seconds.
const DEFAULT_RETRY_AFTER_SECS: u64 = 5;

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
    pub read: ReadRequest,
    /// Largest request body (all files of one upload together), in bytes.
    pub max_upload_bytes: usize,
    /// Longest a request may take, upload and processing included.
    pub request_timeout: Duration,
    /// Longest wait for the next piece of an upload's body.
    pub body_idle_timeout: Duration,
    /// Slowest upload kept, in bytes per second, averaged over [`Options::rate_window`] once
    /// [`Options::rate_grace`] has passed: a slower one gets 408 and, while the queue is full,
    /// gives its place to a new upload. 0: no minimum (then only the idle time and the request
    /// time bound an upload).
    pub min_upload_rate: u64,
    /// Time after admission before the minimum rate applies (TCP slow start, a slow first
    /// byte).
    pub rate_grace: Duration,
    /// The span the upload rate is averaged over.
    pub rate_window: Duration,
    /// Longest wait for another process writing the ledger; past it: 503 with Retry-After.
    pub ledger_wait: Duration,
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
    /// Reverse proxies doing single sign-on: a request from one of these addresses names its
    /// user in [`Options::proxy_user_header`]. Sign-in applies from the start when any is
    /// given.
    pub trusted_proxies: Vec<Network>,
    /// The header a trusted proxy names the signed-in user in.
    pub proxy_user_header: Option<String>,
}

impl Options {
    /// The defaults: 200 MiB uploads, 10 minutes per request, 30 s body idle time, uploads at
    /// least 64 KiB/s over any 30 s after the first 10 s, 30 s wait for a busy ledger, one
    /// worker per core (at most 4), 8 uploads admitted, results kept for an hour (at most 50).
    pub fn new(bind: SocketAddr) -> Options {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Options {
            bind,
            ledger: None,
            read: ReadRequest::default(),
            max_upload_bytes: 200 * 1024 * 1024,
            request_timeout: Duration::from_secs(600),
            body_idle_timeout: Duration::from_secs(30),
            min_upload_rate: 64 * 1024,
            rate_grace: Duration::from_secs(10),
            rate_window: Duration::from_secs(30),
            ledger_wait: Duration::from_secs(30),
            workers: cores.clamp(1, 4),
            queue: 8,
            retry_after_secs: DEFAULT_RETRY_AFTER_SECS,
            result_ttl: Duration::from_secs(3600),
            max_results: 50,
            trusted_proxies: vec![],
            proxy_user_header: None,
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
    /// The uploads being received, each holding its permit here until its body is read, so a
    /// new upload can take the place of one far under the minimum rate.
    receiving: Mutex<Vec<Receiving>>,
    /// The next [`Receiving::id`].
    next_receiving: std::sync::atomic::AtomicU64,
    /// Building: one permit per report being built.
    workers: Arc<Semaphore>,
    /// Finished reports by id.
    results: Mutex<HashMap<String, Stored>>,
    /// One ledger writer at a time.
    ledger_lock: Mutex<()>,
    /// Sign-in: whether it applies, sessions, failed sign-ins.
    auth: auth::Auth,
}

/// An upload being received.
struct Receiving {
    id: u64,
    meter: Arc<pace::Meter>,
    /// Its place in the queue; taken by a new upload when it is evicted.
    slot: Option<OwnedSemaphorePermit>,
    /// Told when it has been evicted.
    evict: Arc<Notify>,
}

/// An upload's entry among those being received; it leaves when this is finished or dropped
/// (the request answered, timed out or abandoned).
pub(crate) struct Registration {
    state: AppState,
    id: u64,
}

impl Registration {
    /// Leaves the list; returns the upload's place, or none when it was given to another.
    pub(crate) fn finish(self) -> Option<OwnedSemaphorePermit> {
        self.state.unregister(self.id)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.state.unregister(self.id);
    }
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
                receiving: Mutex::new(Vec::new()),
                next_receiving: std::sync::atomic::AtomicU64::new(0),
                workers: Arc::new(Semaphore::new(opts.workers.max(1))),
                results: Mutex::new(HashMap::new()),
                ledger_lock: Mutex::new(()),
                auth: auth::Auth::new(&opts),
                opts,
            }),
        }
    }

    fn opts(&self) -> &Options {
        &self.inner.opts
    }

    fn receiving(&self) -> std::sync::MutexGuard<'_, Vec<Receiving>> {
        self.inner
            .receiving
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A place in the queue for a new upload: a free one, else the place of the slowest upload
    /// being received that is far under the minimum rate (it is answered 408), else 503 with
    /// Retry-After. Uploads waiting for or being built are never evicted.
    pub(crate) fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(slot) = self.inner.queue.clone().try_acquire_owned() {
            return Ok(slot);
        }
        let now = Instant::now();
        let opts = self.opts();
        let mut list = self.receiving();
        let slowest = list
            .iter()
            .enumerate()
            .filter(|(_, r)| r.slot.is_some())
            .filter_map(|(i, r)| pace::evictable(&r.meter, now, opts).map(|rate| (i, rate)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((i, _)) = slowest {
            let victim = list.swap_remove(i);
            victim.evict.notify_one();
            if let Some(slot) = victim.slot {
                return Ok(slot);
            }
        }
        let secs = opts.retry_after_secs;
        Err(ApiError {
            retry_after: Some(secs),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the server is busy with other reports; try again in {secs} s"),
            )
        })
    }

    /// Lists an upload being received, holding its place.
    pub(crate) fn register(
        &self,
        meter: Arc<pace::Meter>,
        slot: OwnedSemaphorePermit,
        evict: Arc<Notify>,
    ) -> Registration {
        let id = self
            .inner
            .next_receiving
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.receiving().push(Receiving {
            id,
            meter,
            slot: Some(slot),
            evict,
        });
        Registration {
            state: self.clone(),
            id,
        }
    }

    fn unregister(&self, id: u64) -> Option<OwnedSemaphorePermit> {
        let mut list = self.receiving();
        let i = list.iter().position(|r| r.id == id)?;
        list.swap_remove(i).slot
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

    /// A new report id, for [`AppState::store`].
    fn new_id(&self) -> String {
        random_id()
    }

    /// Keeps a report under `id`; returns it.
    fn store(&self, id: String, xlsx: Vec<u8>, json: String, file_stem: String) -> String {
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

/// The largest body of a sign-in or a report from the ledger.
const SMALL_BODY_BYTES: usize = 64 * 1024;

/// The router: the page, the API, and the guards around them.
pub fn router(state: AppState) -> Router {
    let limit = state.opts().max_upload_bytes;
    // Small bodies: a sign-in, a period.
    let small = || tower_http::limit::RequestBodyLimitLayer::new(SMALL_BODY_BYTES);
    Router::new()
        .route("/", get(handlers::page))
        .route(
            "/api/session",
            get(sign_in::get)
                .post(sign_in::post)
                .delete(sign_in::delete)
                .layer(small()),
        )
        .route("/api/reports", post(handlers::create))
        .route(
            "/api/ledger/report",
            post(handlers::ledger_report).layer(small()),
        )
        .route(
            "/api/ledger/final",
            post(handlers::ledger_final).layer(small()),
        )
        .route("/api/reports/{id}/workbook.xlsx", get(handlers::workbook))
        .route("/api/reports/{id}/summary.json", get(handlers::summary))
        .fallback(handlers::not_found)
        // Innermost first: the body limit (413 on Content-Length, or while reading), then
        // sign-in (who is asking, may they, the CSRF token: before any body is read), then the
        // timeout, then the Host/Origin guard, which runs before anything else.
        .layer(DefaultBodyLimit::disable())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
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

/// 503 for a ledger another program is writing, with Retry-After: the larger of the queue's
/// and the ledger wait.
pub(crate) fn ledger_busy(opts: &Options) -> ApiError {
    let secs = opts.retry_after_secs.max(opts.ledger_wait.as_secs()).max(1);
    ApiError {
        retry_after: Some(secs),
        ..ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the ledger is being written by another program (an import, a removal or a final statement from the command line); nothing was imported from this upload; try again in {secs} s"
            ),
        )
    }
}

impl ApiError {
    /// The conversion of a stage's error, with a busy ledger said as [`ledger_busy`] (the
    /// conversion below has no options: it answers 503 with the default Retry-After).
    pub(crate) fn from_error(e: crate::error::Error, opts: &Options) -> ApiError {
        if matches!(
            e,
            crate::error::Error::Ledger(crate::ledger::LedgerError::Busy { .. })
        ) {
            return ledger_busy(opts);
        }
        let unreachable = matches!(
            e,
            crate::error::Error::Ledger(crate::ledger::LedgerError::CannotConnect { .. })
        );
        let mut out = ApiError::from(e);
        if unreachable {
            // The server's own Retry-After: the database may be back by then.
            out.retry_after = Some(opts.retry_after_secs.max(1));
            out.message = format!(
                "{}; nothing was imported from this upload; try again in {} s",
                out.message,
                opts.retry_after_secs.max(1)
            );
        }
        out
    }
}

impl From<crate::error::Error> for ApiError {
    fn from(e: crate::error::Error) -> ApiError {
        use crate::error::Error;
        // A busy ledger, or a database server that cannot be reached (down, restarting, the
        // connection lost): the upload can be sent again later.
        if let Error::Ledger(
            crate::ledger::LedgerError::Busy { .. }
            | crate::ledger::LedgerError::CannotConnect { .. },
        ) = &e
        {
            return ApiError {
                retry_after: Some(DEFAULT_RETRY_AFTER_SECS),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, page_words(&e.to_string()))
            };
        }
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
        (
            "Add the missing exports, or state the period anyway with --accept-gaps \"REASON\" (recorded and shown on the Cover).",
            "Upload the missing exports, or state the period anyway with a reason under \"Accept the gaps because\" (recorded and shown on the Cover).",
        ),
        (
            "--accept-gaps needs a reason, e.g. --accept-gaps \"no AI use in February: service paused\"",
            "\"Accept the gaps because\" needs a reason, e.g. \"no AI use in February: service paused\"",
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

/// Refuses a request that another site could have made or aimed here:
/// - more than one Host header (400: which one a proxy honoured cannot be known);
/// - a Host that is not the bound address (403, DNS rebinding), or an absolute-form target
///   (`POST http://evil.example/...`) whose host is not that Host (403);
/// - an Origin that is not the server itself (403, CSRF);
/// - for a request that can change something (any method but GET, HEAD, OPTIONS): a
///   `Sec-Fetch-Site` other than `same-origin` or `none`, or, without Origin, a `Referer` of
///   another origin (403). A browser sends at least one of them; scripts (curl) send none.
async fn guard_host(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match check_request(&state, &req) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

fn check_request(state: &AppState, req: &Request) -> Result<(), ApiError> {
    // A trusted proxy chose the host; the browser saw the site the proxy names.
    let (_, trusted) = auth::peer(state, req);
    let headers = req.headers();
    let forbidden = |message: String| ApiError::new(StatusCode::FORBIDDEN, message);
    let mut hosts = headers.get_all(header::HOST).iter();
    let (Some(host), None) = (hosts.next(), hosts.next()) else {
        let message = if headers.contains_key(header::HOST) {
            "the request has more than one Host header"
        } else {
            "the request has no Host header"
        };
        return Err(ApiError::new(StatusCode::BAD_REQUEST, message));
    };
    let host = String::from_utf8_lossy(host.as_bytes()).to_ascii_lowercase();
    let ok = if trusted {
        true
    } else if state.inner.hosts.is_empty() {
        host.rsplit_once(':')
            .is_some_and(|(_, port)| port == state.opts().bind.port().to_string())
    } else {
        state.inner.hosts.contains(&host)
    };
    if !ok {
        return Err(forbidden(format!(
            "refused: this server answers to http://{} only, not to Host '{host}'",
            state.opts().bind
        )));
    }
    // An absolute-form target names the site itself (RFC 9112 section 3.2.2): it must be the
    // Host, over plain http.
    if let Some(authority) = req.uri().authority() {
        let same = authority.as_str().eq_ignore_ascii_case(&host)
            && req
                .uri()
                .scheme_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("http"));
        if !same {
            return Err(forbidden(format!(
                "refused: the request names http://{} only, not {}",
                host,
                printable(req.uri().to_string().as_bytes())
            )));
        }
    }
    let own = if trusted {
        proxied_origin(headers, &host)
    } else {
        format!("http://{host}")
    };
    let mut origins = headers.get_all(header::ORIGIN).iter().peekable();
    let has_origin = origins.peek().is_some();
    for origin in origins {
        if !origin.to_str().is_ok_and(|o| o.eq_ignore_ascii_case(&own)) {
            return Err(forbidden(format!(
                "refused: a page from another site (Origin {}) may not use this server",
                printable(origin.as_bytes())
            )));
        }
    }
    let safe = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if safe {
        return Ok(());
    }
    for site in headers.get_all("sec-fetch-site") {
        let site = String::from_utf8_lossy(site.as_bytes())
            .trim()
            .to_ascii_lowercase();
        if site != "same-origin" && site != "none" {
            return Err(forbidden(format!(
                "refused: the browser says this request comes from another site (Sec-Fetch-Site: {})",
                printable(site.as_bytes())
            )));
        }
    }
    if !has_origin {
        for referer in headers.get_all(header::REFERER) {
            let same = referer
                .to_str()
                .ok()
                .and_then(origin_of)
                .is_some_and(|o| o.eq_ignore_ascii_case(&own));
            if !same {
                return Err(forbidden(format!(
                    "refused: a page from another site (Referer {}) may not use this server",
                    printable(referer.as_bytes())
                )));
            }
        }
    }
    Ok(())
}

/// The site a trusted proxy serves, as browsers name it in Origin: its X-Forwarded-Proto
/// (else http) and X-Forwarded-Host (else the Host), without a default port.
fn proxied_origin(headers: &axum::http::HeaderMap, host: &str) -> String {
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty())
    };
    let proto = first("x-forwarded-proto")
        .filter(|p| p == "https" || p == "http")
        .unwrap_or_else(|| "http".into());
    let host = first("x-forwarded-host").unwrap_or_else(|| host.to_string());
    let default_port = if proto == "https" { ":443" } else { ":80" };
    let host = host.strip_suffix(default_port).unwrap_or(&host);
    format!("{proto}://{host}")
}

/// The origin (`scheme://host[:port]`) of an absolute URL, or `None` when it is not one.
fn origin_of(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")?;
    let scheme = &url[..scheme_end];
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return None;
    }
    let rest = &url[scheme_end + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (end > 0).then(|| &url[..scheme_end + 3 + end])
}

/// A header value as shown in a message: at most 100 characters, control characters dropped.
fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect()
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
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait a little and go on serving.
                eprintln!("llm-scope3 serve: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // The peer's address goes with each request (trusted proxies, sign-in limits, the
        // audit log).
        let service = TowerToHyperService::new(tower_http::add_extension::AddExtension::new(
            app.clone(),
            axum::extract::ConnectInfo(peer),
        ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::ledger::LedgerError;

    #[test]
    fn a_busy_ledger_is_503_with_retry_after_not_500() {
        // The ledger's own wait (10 minutes) ran out: 503, Retry-After, the ledger's words.
        let busy = || {
            Error::Ledger(LedgerError::Busy {
                path: "finance.db".into(),
                secs: 600,
            })
        };
        let e = ApiError::from(busy());
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.retry_after, Some(DEFAULT_RETRY_AFTER_SECS));
        assert!(e.message.contains("another process"), "{}", e.message);
        // With the server's options: Retry-After the larger of the queue's and the ledger wait.
        let mut opts = Options::new("127.0.0.1:8080".parse().unwrap());
        opts.retry_after_secs = 5;
        opts.ledger_wait = Duration::from_secs(30);
        let e = ApiError::from_error(busy(), &opts);
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.retry_after, Some(30));
        let resp = e.into_response();
        assert_eq!(resp.headers()[header::RETRY_AFTER], "30");
        // A PostgreSQL ledger whose server cannot be reached: 503 too (send it again later).
        let e = ApiError::from(Error::Ledger(LedgerError::CannotConnect {
            path: "postgres://reporting@db.internal/ledger".into(),
            why: "connection refused".into(),
        }));
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.retry_after, Some(DEFAULT_RETRY_AFTER_SECS));
        // Other ledger errors keep their statuses: a refusal is 422.
        let e = ApiError::from(Error::Ledger(LedgerError::Refused("overlap".into())));
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.retry_after, None);
    }
}
