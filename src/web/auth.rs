//! Sign-in and roles on the page: who is asking ([`Caller`]), whether they may, and the
//! sessions, CSRF tokens and sign-in rate limits behind that. It owns the request-side rules
//! (the middleware [`authenticate`]); the sign-in endpoints are in `sign_in.rs`, and the users
//! and the audit log are the ledger's (`ledger/access.rs`).
//!
//! When it applies: once the ledger has a user (checked again at most every second, so a user
//! added while the server runs takes effect at once, and for good), or from the start when
//! `--trusted-proxy` is given or the server listens beyond loopback. Before that the page is
//! open to this computer, as it always was, and what it does is audited as "(no sign-in)".
//!
//! Who: a request from a trusted proxy's address that names a user in the proxy's header is
//! that user (single sign-on); otherwise the user of a valid session cookie; otherwise nobody.
//! The role is read from the ledger at every request, so removing a user or changing a role
//! takes effect at once.
//!
//! Sessions live in this process's memory, never in the ledger: no session id ever touches
//! the disk or a backup, a stolen ledger copy opens no session, and nothing has to clean
//! expired rows out of the ledger. What it costs: a restart signs everybody out, and several
//! servers in front of one PostgreSQL ledger each keep their own sessions (a load balancer
//! then needs sticky sessions).

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::ledger::{Actor, Ledger, LedgerError, Location, Role};

/// The session cookie.
pub const SESSION_COOKIE: &str = "llm_scope3_session";
/// The cookie that carries the sign-in form's token before there is a session.
pub const SIGN_IN_COOKIE: &str = "llm_scope3_sign_in";
/// The header every state-changing request of a signed-in user carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session ends after this long without a request.
pub const SESSION_IDLE: Duration = Duration::from_secs(2 * 3600);
/// A session ends this long after sign-in, however busy.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Failed sign-ins of one user name within [`FAILURE_WINDOW`] after which its sign-ins are
/// refused (429) until the oldest failure leaves the window.
pub const FAILURES_PER_USER: usize = 5;
/// Failed sign-ins from one client address within [`FAILURE_WINDOW`] after which its
/// sign-ins are refused (429).
pub const FAILURES_PER_CLIENT: usize = 20;
/// The window failed sign-ins are counted over.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Most sessions kept at once (the least recently used go first past it).
const MAX_SESSIONS: usize = 10_000;
/// How often the open page checks whether the ledger has got users.
const USERS_CHECK_EVERY: Duration = Duration::from_secs(1);

/// An address or network (`10.0.0.5`, `10.0.0.0/24`, `fd00::/8`) a trusted proxy is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `IP` or `IP/PREFIX`.
    ///
    /// # Errors
    /// A message naming what is wrong.
    pub fn parse(s: &str) -> Result<Network, String> {
        let s = s.trim();
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = ip.parse().map_err(|_| {
            format!("--trusted-proxy {s}: not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/24, fd00::/8)")
        })?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("--trusted-proxy {s}: the prefix must be 0 to {max}"))?,
        };
        Ok(Network { addr, prefix })
    }

    /// True when `ip` is in this network (an IPv4 address seen as IPv6, `::ffff:a.b.c.d`, as
    /// its IPv4 self).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// How a user came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// A password on the sign-in page.
    Password,
    /// Named by a trusted single-sign-on proxy.
    SingleSignOn,
}

impl Via {
    /// As the audit log says it.
    pub(crate) fn audit(self) -> &'static str {
        match self {
            Via::Password => "page",
            Via::SingleSignOn => "single sign-on",
        }
    }
}

/// Who is making a request.
#[derive(Debug, Clone)]
pub(crate) enum Who {
    /// Sign-in does not apply (no users, loopback): anyone who can reach the page.
    Open,
    /// A signed-in user.
    User {
        /// The name (lower case).
        name: String,
        /// Their role, read from the ledger for this request.
        role: Role,
        /// How they came in.
        via: Via,
        /// Their session (none yet for a proxy's user before `GET /api/session`).
        session: Option<String>,
    },
    /// The proxy named someone the ledger does not know.
    Stranger(String),
    /// Nobody signed in.
    Nobody,
}

/// Who is making a request, and from where (handed to the handlers as an extension).
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub who: Who,
    /// The client's address (behind a trusted proxy: the one it forwards).
    pub client: String,
}

impl Caller {
    /// How the audit log names this caller.
    pub(crate) fn actor(&self) -> Actor {
        let (who, via) = match &self.who {
            Who::User { name, via, .. } => (name.clone(), via.audit()),
            Who::Open => ("(no sign-in)".to_string(), "page"),
            Who::Stranger(n) => (n.clone(), "single sign-on"),
            Who::Nobody => ("(not signed in)".to_string(), "page"),
        };
        Actor {
            who,
            via: via.to_string(),
            client: Some(self.client.clone()),
        }
    }
}

/// One signed-in session.
struct Session {
    user: String,
    via: Via,
    csrf: String,
    created: Instant,
    last: Instant,
}

/// A session's user, how they came in and its CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct SessionInfo {
    pub user: String,
    pub via: Via,
    pub csrf: String,
}

/// The server's sign-in state: whether it applies, sessions, failed sign-ins, the ledger
/// connection users are read through.
pub(crate) struct Auth {
    /// Sign-in applies (never unset once set).
    required: AtomicBool,
    /// When the open page last checked the ledger for users.
    checked: Mutex<Option<Instant>>,
    /// The ledger users are read from and sign-ins audited in (with `--ledger`).
    db: Option<AuthDb>,
    proxies: Vec<Network>,
    /// The header a trusted proxy names the user in (`--proxy-user-header`); none: users sign
    /// in with passwords only.
    user_header: Option<axum::http::HeaderName>,
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// One connection to the ledger for sign-in: users looked up, sign-ins audited. Opened when
/// first needed and again after a failure.
struct AuthDb {
    location: Location,
    conn: Mutex<Option<Ledger>>,
}

impl AuthDb {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Ledger) -> Result<T, LedgerError>,
    ) -> Result<T, LedgerError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if conn.is_none() {
            *conn = Some(Ledger::open_existing_at(&self.location)?);
        }
        let Some(ledger) = conn.as_mut() else {
            return Err(LedgerError::NotFound(self.location.shown()));
        };
        let answer = f(ledger);
        if matches!(
            answer,
            Err(LedgerError::Sqlite { .. } | LedgerError::Database { .. })
        ) {
            // A broken connection (a restarted database server): the next call opens anew.
            *conn = None;
        }
        answer
    }
}

impl Auth {
    pub(crate) fn new(opts: &super::Options) -> Auth {
        let user_header = opts.proxy_user_header.as_deref().and_then(|h| {
            axum::http::HeaderName::from_bytes(h.trim().to_ascii_lowercase().as_bytes()).ok()
        });
        Auth {
            required: AtomicBool::new(
                !opts.trusted_proxies.is_empty() || super::is_exposed(&opts.bind),
            ),
            checked: Mutex::new(None),
            db: opts.ledger.as_ref().map(|p| AuthDb {
                location: Location::parse(p.as_os_str()),
                conn: Mutex::new(None),
            }),
            proxies: opts.trusted_proxies.clone(),
            user_header,
            sessions: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// True when `peer` is a trusted proxy.
    fn trusts(&self, peer: IpAddr) -> bool {
        self.proxies.iter().any(|n| n.contains(peer))
    }

    /// True when the server has a ledger (users and the audit log live there).
    pub(crate) fn has_ledger(&self) -> bool {
        self.db.is_some()
    }

    /// True when trusted proxies are configured.
    pub(crate) fn has_proxies(&self) -> bool {
        !self.proxies.is_empty()
    }

    /// True when a trusted proxy signs people in (it names them in `--proxy-user-header`).
    pub(crate) fn has_single_sign_on(&self) -> bool {
        self.has_proxies() && self.user_header.is_some()
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session for `user`: its id (the cookie's value) and CSRF token.
    pub(crate) fn open_session(&self, user: &str, via: Via) -> (String, String) {
        let id = format!("{}{}", super::random_id(), super::random_id());
        let csrf = super::random_id();
        let now = Instant::now();
        let mut map = self.sessions();
        map.retain(|_, s| alive(s, now));
        while map.len() >= MAX_SESSIONS {
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| s.last)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
        map.insert(
            id.clone(),
            Session {
                user: user.to_string(),
                via,
                csrf: csrf.clone(),
                created: now,
                last: now,
            },
        );
        (id, csrf)
    }

    /// The session `id` if it is alive (its last use set to now).
    pub(crate) fn session(&self, id: &str) -> Option<SessionInfo> {
        let now = Instant::now();
        let mut map = self.sessions();
        let s = map.get_mut(id)?;
        if !alive(s, now) {
            map.remove(id);
            return None;
        }
        s.last = now;
        Some(SessionInfo {
            user: s.user.clone(),
            via: s.via,
            csrf: s.csrf.clone(),
        })
    }

    /// Ends a session.
    pub(crate) fn close_session(&self, id: &str) {
        self.sessions().remove(id);
    }

    /// Refuses a sign-in when its user name or client address failed too often lately:
    /// what to say and when to try again.
    pub(crate) fn throttled(&self, name: &str, client: &str) -> Option<(String, Duration)> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, q| {
            while q
                .front()
                .is_some_and(|t| now.duration_since(*t) >= FAILURE_WINDOW)
            {
                q.pop_front();
            }
            !q.is_empty()
        });
        let wait = |q: &VecDeque<Instant>| {
            q.front().map_or(Duration::ZERO, |t| {
                FAILURE_WINDOW.saturating_sub(now.duration_since(*t))
            })
        };
        let minutes = |d: Duration| d.as_secs().div_ceil(60).max(1);
        if let Some(q) = map.get(&user_key(name)) {
            if q.len() >= FAILURES_PER_USER {
                let d = wait(q);
                return Some((
                    format!(
                        "too many failed sign-ins for {name}: {} in the last {} minutes. Sign-in for this name is paused; try again in {} minute(s), or ask an admin to set a new password (llm-scope3 users passwd {name})",
                        q.len(),
                        FAILURE_WINDOW.as_secs() / 60,
                        minutes(d)
                    ),
                    d,
                ));
            }
        }
        if let Some(q) = map.get(&client_key(client)) {
            if q.len() >= FAILURES_PER_CLIENT {
                let d = wait(q);
                return Some((
                    format!(
                        "too many failed sign-ins from {client}: {} in the last {} minutes. Sign-in from this address is paused; try again in {} minute(s)",
                        q.len(),
                        FAILURE_WINDOW.as_secs() / 60,
                        minutes(d)
                    ),
                    d,
                ));
            }
        }
        None
    }

    /// Counts a failed sign-in; true when it makes the name or the address reach its limit.
    pub(crate) fn failed(&self, name: &str, client: &str) -> bool {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut reached = false;
        for (key, limit) in [
            (user_key(name), FAILURES_PER_USER),
            (client_key(client), FAILURES_PER_CLIENT),
        ] {
            let q = map.entry(key).or_default();
            q.push_back(now);
            reached |= q.len() == limit;
        }
        reached
    }

    /// Forgets the failed sign-ins of a name that has just signed in.
    pub(crate) fn succeeded(&self, name: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&user_key(name));
    }

    /// Runs `f` on the ledger's sign-in connection (blocking).
    pub(crate) fn with_ledger<T>(
        &self,
        f: impl FnOnce(&mut Ledger) -> Result<T, LedgerError>,
    ) -> Result<T, LedgerError> {
        match &self.db {
            Some(db) => db.with(f),
            None => Err(LedgerError::Refused(
                "this server keeps no ledger (serve --ledger FILE): there are no users to sign in"
                    .into(),
            )),
        }
    }
}

fn user_key(name: &str) -> String {
    format!("user\u{1f}{}", crate::ledger::normal_user_name(name))
}

fn client_key(client: &str) -> String {
    format!("client\u{1f}{client}")
}

fn alive(s: &Session, now: Instant) -> bool {
    now.duration_since(s.last) < SESSION_IDLE && now.duration_since(s.created) < SESSION_LIFETIME
}

/// Compares two tokens in time that does not depend on where they differ.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name`, if the request sends it.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value: HttpOnly (no script reads it), Secure (only over https, or http on
/// this computer), SameSite=Strict (never sent with a request another site starts).
pub(crate) fn set_cookie(name: &str, value: &str, max_age: Duration) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        max_age.as_secs()
    ))
    .unwrap_or(HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// The request's CSRF token header, if any.
pub(crate) fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The peer's address, and whether it is a trusted proxy.
pub(crate) fn peer(state: &AppState, req: &Request) -> (Option<IpAddr>, bool) {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical());
    let trusted = peer.is_some_and(|p| state.inner.auth.trusts(p));
    (peer, trusted)
}

/// The client's address: the peer's, or behind a trusted proxy the last address it forwards
/// in X-Forwarded-For that is not a trusted proxy itself.
fn client_address(state: &AppState, peer: Option<IpAddr>, trusted: bool, h: &HeaderMap) -> String {
    if trusted {
        let forwarded = h
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        if let Some(a) = forwarded
            .iter()
            .rev()
            .find(|a| !state.inner.auth.trusts(**a))
        {
            return a.to_string();
        }
    }
    peer.map_or_else(|| "unknown".to_string(), |p| p.to_string())
}

/// Whether sign-in applies now: set from the start, or since the ledger got users (checked at
/// most every second while open).
async fn required(state: &AppState) -> Result<bool, ApiError> {
    let auth = &state.inner.auth;
    if auth.required.load(Ordering::Relaxed) {
        return Ok(true);
    }
    if auth.db.is_none() {
        return Ok(false);
    }
    {
        let mut checked = auth.checked.lock().unwrap_or_else(|p| p.into_inner());
        if checked.is_some_and(|t| t.elapsed() < USERS_CHECK_EVERY) {
            return Ok(false);
        }
        *checked = Some(Instant::now());
    }
    let st = state.clone();
    let has = tokio::task::spawn_blocking(move || st.inner.auth.with_ledger(|l| l.has_users()))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    match has {
        Ok(true) => {
            auth.required.store(true, Ordering::Relaxed);
            Ok(true)
        }
        // No ledger yet (the first upload makes it): nobody to sign in.
        Ok(false) | Err(LedgerError::NotFound(_)) => Ok(false),
        Err(e) => Err(users_unreadable(state, e)),
    }
}

/// 503 with the server's Retry-After: the ledger (its database server, say) cannot be read
/// just now.
fn users_unreadable(state: &AppState, e: LedgerError) -> ApiError {
    ApiError {
        retry_after: Some(state.opts().retry_after_secs.max(1)),
        ..ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the users cannot be read from the ledger just now ({e}); try again shortly"),
        )
    }
}

/// A user's role in the ledger (none: not a user), read on a blocking thread.
pub(crate) async fn role_of(state: &AppState, name: &str) -> Result<Option<Role>, ApiError> {
    let st = state.clone();
    let name = name.to_string();
    tokio::task::spawn_blocking(move || {
        st.inner
            .auth
            .with_ledger(|l| Ok(l.credentials(&name)?.map(|(r, _)| r)))
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| users_unreadable(state, e))
}

/// Who is asking: the user a trusted proxy names, else the user of a live session cookie.
async fn identify(state: &AppState, headers: &HeaderMap, trusted: bool) -> Result<Who, ApiError> {
    let auth = &state.inner.auth;
    let session = cookie(headers, SESSION_COOKIE)
        .and_then(|id| auth.session(id).map(|s| (id.to_string(), s)));
    if trusted {
        let named = auth
            .user_header
            .as_ref()
            .and_then(|h| headers.get(h))
            .and_then(|v| v.to_str().ok())
            .map(crate::ledger::normal_user_name)
            .filter(|n| !n.is_empty());
        if let Some(name) = named {
            return Ok(match role_of(state, &name).await? {
                Some(role) => Who::User {
                    session: session.filter(|(_, s)| s.user == name).map(|(id, _)| id),
                    name,
                    role,
                    via: Via::SingleSignOn,
                },
                None => Who::Stranger(name),
            });
        }
    }
    let Some((id, s)) = session else {
        return Ok(Who::Nobody);
    };
    match role_of(state, &s.user).await? {
        Some(role) => Ok(Who::User {
            name: s.user,
            role,
            via: s.via,
            session: Some(id),
        }),
        None => {
            // Removed from the ledger: the session ends.
            auth.close_session(&id);
            Ok(Who::Nobody)
        }
    }
}

/// What a route needs.
enum Needs {
    /// Anyone (the sign-in endpoints).
    Anyone,
    /// The page: anyone (its handler answers the sign-in page to whoever is not signed in).
    Page,
    /// A signed-in user with at least this role.
    Role(Role),
}

fn needs(method: &Method, path: &str) -> Needs {
    match (method.as_str(), path) {
        ("GET" | "HEAD", "/") => Needs::Page,
        ("GET" | "HEAD" | "POST", "/api/session") => Needs::Anyone,
        ("POST", "/api/reports") => Needs::Role(Role::Preparer),
        ("POST", "/api/ledger/final") => Needs::Role(Role::Approver),
        _ => Needs::Role(Role::Viewer),
    }
}

/// What each role may do, as the refusals say it.
fn action_words(path: &str) -> &'static str {
    match path {
        "/api/reports" => "uploading exports",
        "/api/ledger/final" => "recording a final statement",
        _ => "this",
    }
}

/// The middleware: works out the [`Caller`] (handed to the handlers; the page's answers the
/// sign-in page to whoever is not signed in), answers 401 to an API request without sign-in,
/// 403 to a role that may not, and 403 to a state-changing request without its session's
/// CSRF token.
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let (peer, trusted) = peer(&state, &req);
    let asked = Asked {
        headers: req.headers().clone(),
        method: req.method().clone(),
        path: req.uri().path().to_string(),
        peer,
        trusted,
    };
    match check(&state, &asked).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// What the checks need of a request (the request itself, whose body is not `Sync`, is not
/// held across their waits).
struct Asked {
    headers: HeaderMap,
    method: Method,
    path: String,
    peer: Option<IpAddr>,
    trusted: bool,
}

async fn check(state: &AppState, asked: &Asked) -> Result<Caller, ApiError> {
    let client = client_address(state, asked.peer, asked.trusted, &asked.headers);
    if !required(state).await? {
        return Ok(Caller {
            who: Who::Open,
            client,
        });
    }
    let who = identify(state, &asked.headers, asked.trusted).await?;
    let path = asked.path.as_str();
    let method = &asked.method;
    let caller = Caller { who, client };
    match (needs(method, path), &caller.who) {
        // The page handler answers the sign-in page to whoever is not signed in.
        (Needs::Anyone | Needs::Page, _) => return Ok(caller),
        (Needs::Role(need), Who::User { role, name, .. }) => {
            if !role.allows(need) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "{name} is a {role} ({}): {} needs the role {need} or higher. Ask an admin (llm-scope3 users role {name} {need})",
                        role.what(),
                        action_words(path)
                    ),
                ));
            }
        }
        (Needs::Role(_), Who::Stranger(name)) => return Err(stranger(name)),
        (Needs::Role(_), _) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "sign in first: this page asks for a user name and password (open / in a browser), or comes through the company's single sign-on",
            ))
        }
    }
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        let token = match &caller.who {
            Who::User {
                session: Some(id), ..
            } => state.inner.auth.session(id).map(|s| s.csrf),
            _ => None,
        };
        let sent = csrf_header(&asked.headers);
        let ok = matches!((&token, sent), (Some(t), Some(s)) if same_token(t, s));
        if !ok {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "refused: this request carries no valid CSRF token (header {}): reload the page and try again; scripts take the token from GET /api/session",
                    "X-CSRF-Token"
                ),
            ));
        }
    }
    Ok(caller)
}

/// The refusal for a user the proxy names but the ledger does not know.
pub(crate) fn stranger(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "you are signed in at the single sign-on as {name}, but {name} is not a user of this page: ask an admin to add you (llm-scope3 users add {name} --role viewer --no-password)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_hold_their_addresses() {
        let n = Network::parse("10.0.0.0/24").unwrap();
        assert!(n.contains("10.0.0.200".parse().unwrap()));
        assert!(!n.contains("10.0.1.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.0.0.7".parse().unwrap()));
        let one = Network::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6 = Network::parse("fd00::/8").unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        assert!(Network::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("proxy.internal").is_err());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; llm_scope3_session=xyz"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
