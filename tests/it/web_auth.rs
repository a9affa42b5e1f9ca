//! Sign-in and roles on the upload page, through the router (no port): sessions and their
//! cookie, the CSRF token, roles (a viewer cannot upload, a preparer can, an approver records
//! a final statement), failed sign-ins audited and rate-limited, a single-sign-on proxy's
//! header honoured only from its address, and the audit log that records it all.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::Utc;
use tower::ServiceExt;

use llm_scope3::ledger::{Actor, Ledger, PasswordHash, Role};
use llm_scope3::web::{router, AppState, Network, Options, FAILURES_PER_USER};

use crate::common::{multipart, sample, Part, BOUNDARY};
use crate::web::OPENAI;

/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// A ledger with a viewer (vera), a preparer (paul), an approver (anna) and a user who comes
/// in through single sign-on only (sso@example.com, viewer).
pub fn ledger_with_users(dir: &Path) -> PathBuf {
    let path = dir.join("ledger.db");
    let mut l = Ledger::open(&path).unwrap();
    l.set_actor(Actor::command_line("test-admin"));
    let hash = PasswordHash::new(PASSWORD).unwrap();
    for (name, role) in [
        ("vera", Role::Viewer),
        ("paul", Role::Preparer),
        ("anna", Role::Approver),
    ] {
        l.add_user(name, role, Some(&hash), Utc::now()).unwrap();
    }
    l.add_user("SSO@example.com", Role::Viewer, None, Utc::now())
        .unwrap();
    path
}

fn options(ledger: &Path) -> Options {
    let mut o = Options::new("127.0.0.1:8080".parse().unwrap());
    o.ledger = Some(ledger.to_path_buf());
    o
}

/// An answer.
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
}

/// A browser, as far as the server can tell: its cookies, its CSRF token, its address.
struct Browser {
    app: Router,
    cookies: HashMap<String, String>,
    csrf: Option<String>,
    peer: Option<SocketAddr>,
    extra: Vec<(&'static str, String)>,
}

impl Browser {
    fn new(app: &Router) -> Browser {
        Browser {
            app: app.clone(),
            cookies: HashMap::new(),
            csrf: None,
            peer: None,
            extra: vec![],
        }
    }

    async fn send(&mut self, mut req: Request<Body>) -> Answer {
        let h = req.headers_mut();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            h.insert(header::COOKIE, c.join("; ").parse().unwrap());
        }
        for (k, v) in &self.extra {
            h.insert(*k, v.parse().unwrap());
        }
        if let Some(p) = self.peer {
            req.extensions_mut().insert(ConnectInfo(p));
        }
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        let a = Answer {
            status,
            headers,
            body,
        };
        for c in a.cookies() {
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        a
    }

    async fn get(&mut self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    /// A JSON request with the CSRF token (when it has one).
    async fn json(&mut self, method: &str, uri: &str, body: serde_json::Value) -> Answer {
        let mut r = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = &self.csrf {
            r = r.header("x-csrf-token", t.as_str());
        }
        self.send(r.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// Signs in (the form's token first, as the page does).
    async fn sign_in(&mut self, name: &str, password: &str) -> Answer {
        let s = self.get("/api/session").await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.text());
        self.csrf = s.json()["csrf"].as_str().map(str::to_string);
        let a = self
            .json(
                "POST",
                "/api/session",
                serde_json::json!({"name": name, "password": password}),
            )
            .await;
        if a.status == StatusCode::OK {
            self.csrf = a.json()["csrf"].as_str().map(str::to_string);
        }
        a
    }

    /// Uploads the OpenAI sample for 2026Q1.
    async fn upload(&mut self) -> Answer {
        let o = sample(OPENAI);
        let mut r = Request::post("/api/reports").header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        );
        if let Some(t) = &self.csrf {
            r = r.header("x-csrf-token", t.as_str());
        }
        let body = multipart(&[Part::File(OPENAI, &o), Part::Field("quarter", "2026Q1")]);
        self.send(r.body(Body::from(body)).unwrap()).await
    }
}

fn audit(path: &Path) -> Vec<llm_scope3::ledger::AuditEntry> {
    Ledger::open_existing(path)
        .unwrap()
        .audit_log(None)
        .unwrap()
}

#[tokio::test]
async fn without_users_the_page_stays_open_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    Ledger::open(&path).unwrap();
    let app = router(AppState::new(options(&path)));
    let mut b = Browser::new(&app);
    let s = b.get("/api/session").await;
    assert_eq!(s.status, StatusCode::OK);
    let j = s.json();
    assert_eq!(j["sign_in"], false);
    assert_eq!(j["can"]["upload"], true);
    assert!(b.cookies.is_empty(), "no cookie on the open page");
    // The page itself, not the sign-in page; and an upload needs no token.
    let page = b.get("/").await;
    assert!(page.text().contains("<label for=\"files\""));
    let up = b.upload().await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.text());
    // Audited all the same, as nobody in particular.
    let log = audit(&path);
    let import = log.iter().find(|e| e.action == "import").unwrap();
    assert_eq!(import.who, "(no sign-in)");
    assert_eq!(import.via, "page");
}

#[tokio::test]
async fn a_session_cookie_is_httponly_secure_samesite_strict_and_the_page_needs_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = ledger_with_users(dir.path());
    let app = router(AppState::new(options(&path)));
    let mut b = Browser::new(&app);
    // Not signed in: the sign-in page at /, 401 from the API.
    let page = b.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("autocomplete=\"current-password\""));
    assert!(!page.text().contains("<label for=\"files\""));
    let api = b
        .get("/api/reports/0123456789abcdef0123456789abcdef/summary.json")
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED, "{}", api.text());
    assert!(api.json()["error"].as_str().unwrap().contains("sign in"));

    let a = b.sign_in("Paul", PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let j = a.json();
    assert_eq!(j["user"], "paul");
    assert_eq!(j["role"], "preparer");
    assert_eq!(j["can"]["upload"], true);
    assert_eq!(j["can"]["final"], false);
    let cookie = a
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("llm_scope3_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(
            cookie.split("; ").any(|p| p == attribute),
            "{attribute} in {cookie}"
        );
    }
    let id = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("llm_scope3_session=");
    assert_eq!(id.len(), 64, "256 random bits: {id}");
    // Signed in: the page, and who is here.
    let page = b.get("/").await;
    assert!(page.text().contains("<label for=\"files\""));
    let me = b.get("/api/session").await.json();
    assert_eq!(me["user"], "paul");
    assert_eq!(me["csrf"], j["csrf"]);
    // Signed out: the session is gone.
    let out = b
        .json("DELETE", "/api/session", serde_json::json!({}))
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.text());
    b.cookies
        .insert("llm_scope3_session".into(), id.to_string());
    let after = b.get("/api/session").await.json();
    assert_eq!(after["user"], serde_json::Value::Null);
    let log = audit(&path);
    let actions: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e.who.as_str(), e.action.as_str()))
        .collect();
    assert!(actions.contains(&("paul", "sign-in")), "{actions:?}");
    assert!(actions.contains(&("paul", "sign-out")), "{actions:?}");
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_audited_and_the_limit_answers_429() {
    let dir = tempfile::tempdir().unwrap();
    let path = ledger_with_users(dir.path());
    let app = router(AppState::new(options(&path)));
    let mut b = Browser::new(&app);
    b.peer = Some("192.0.2.10:50000".parse().unwrap());
    let a = b.sign_in("paul", "not the password at all").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text());
    assert_eq!(a.json()["error"], "wrong user name or password");
    assert!(!b.cookies.contains_key("llm_scope3_session"));
    // An unknown name gets the same answer.
    let a = b.sign_in("mallory", PASSWORD).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.json()["error"], "wrong user name or password");
    let log = audit(&path);
    let failed: Vec<_> = log
        .iter()
        .filter(|e| e.action == "sign-in failed")
        .collect();
    assert_eq!(failed.len(), 2, "{log:?}");
    assert_eq!(failed[0].who, "paul");
    assert_eq!(failed[0].client.as_deref(), Some("192.0.2.10"));
    assert!(
        failed[0].detail.contains("wrong password"),
        "{}",
        failed[0].detail
    );
    assert!(
        failed[1].detail.contains("no such user"),
        "{}",
        failed[1].detail
    );
    assert!(!log
        .iter()
        .any(|e| e.detail.contains(PASSWORD) || e.detail.contains("not the password")));

    // FAILURES_PER_USER failures for one name: the next sign-in, even with the right
    // password, is 429 with Retry-After and words saying why and how long.
    for _ in 1..FAILURES_PER_USER {
        let a = b.sign_in("paul", "still not the password").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let a = b.sign_in("paul", PASSWORD).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.text());
    let secs: u64 = a.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(secs > 0 && secs <= 15 * 60, "{secs}");
    let msg = a.json()["error"].as_str().unwrap().to_string();
    assert!(
        msg.contains("too many failed sign-ins for paul") && msg.contains("minute"),
        "{msg}"
    );
    let paused = audit(&path)
        .into_iter()
        .filter(|e| e.action == "sign-in failed")
        .any(|e| e.detail.contains("paused for 15 minutes"));
    assert!(
        paused,
        "the failure that reaches the limit says so in the audit log"
    );
    // Another user from elsewhere is not held back.
    let mut other = Browser::new(&app);
    other.peer = Some("192.0.2.20:50000".parse().unwrap());
    assert_eq!(other.sign_in("anna", PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn roles_decide_who_uploads_and_who_states_final() {
    let dir = tempfile::tempdir().unwrap();
    let path = ledger_with_users(dir.path());
    let app = router(AppState::new(options(&path)));

    // A viewer cannot upload (403, before the body is read), and is told why.
    let mut vera = Browser::new(&app);
    assert_eq!(vera.sign_in("vera", PASSWORD).await.status, StatusCode::OK);
    let a = vera.upload().await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text());
    let msg = a.json()["error"].as_str().unwrap().to_string();
    assert!(
        msg.contains("vera is a viewer") && msg.contains("preparer"),
        "{msg}"
    );

    // A preparer uploads: imported, and the import is audited as theirs.
    let mut paul = Browser::new(&app);
    assert_eq!(paul.sign_in("paul", PASSWORD).await.status, StatusCode::OK);
    let a = paul.upload().await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // ... but may not state the period final.
    let f = paul
        .json(
            "POST",
            "/api/ledger/final",
            serde_json::json!({"quarter": "2026Q1"}),
        )
        .await;
    assert_eq!(f.status, StatusCode::FORBIDDEN, "{}", f.text());

    // A viewer reads the report from the ledger.
    let r = vera
        .json(
            "POST",
            "/api/ledger/report",
            serde_json::json!({"quarter": "2026Q1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let reported = r.json()["totals"]["emissions_kgco2e"]["central"]
        .as_f64()
        .unwrap();
    assert!(reported > 0.0);
    let wb = vera.get(r.json()["workbook_url"].as_str().unwrap()).await;
    assert_eq!(wb.status, StatusCode::OK);

    // An approver states it final: numbered, in the JSON, recorded in the ledger.
    let mut anna = Browser::new(&app);
    assert_eq!(anna.sign_in("anna", PASSWORD).await.status, StatusCode::OK);
    let f = anna
        .json(
            "POST",
            "/api/ledger/final",
            serde_json::json!({"quarter": "2026Q1", "accept_gaps": "test data: one export"}),
        )
        .await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.text());
    let j = f.json();
    assert_eq!(j["final_statement"]["id"], 1);
    assert_eq!(
        j["totals"]["emissions_kgco2e"]["central"].as_f64().unwrap(),
        reported
    );
    let period = llm_scope3::config::Config::new(
        &llm_scope3::config::PeriodRequest {
            quarter: Some("2026Q1".into()),
            ..Default::default()
        },
        &Default::default(),
        None,
        None,
    )
    .unwrap()
    .period;
    let stated = Ledger::open_existing(&path)
        .unwrap()
        .last_statement(&period)
        .unwrap()
        .expect("the statement is in the ledger");
    assert_eq!(stated.id, 1);

    let log = audit(&path);
    let import = log.iter().find(|e| e.action == "import").unwrap();
    assert_eq!((import.who.as_str(), import.via.as_str()), ("paul", "page"));
    assert!(import.detail.contains(OPENAI), "{}", import.detail);
    let fin = log.iter().find(|e| e.action == "final").unwrap();
    assert_eq!(fin.who, "anna");
    assert!(
        fin.detail.contains("final statement #1 of 2026Q1"),
        "{}",
        fin.detail
    );
    // The workbook's Change Log shows the audit log.
    let bytes = anna.get(j["workbook_url"].as_str().unwrap()).await.body;
    let text = change_log_text(&bytes);
    assert!(text.contains("Audit log: who did what"), "{text}");
    assert!(
        text.contains("paul") && text.contains("import #1"),
        "{text}"
    );
}

/// Every cell of the workbook's Change Log, as text.
fn change_log_text(xlsx: &[u8]) -> String {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let range = book.worksheet_range("Change Log").unwrap();
    range
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_change_without_its_csrf_token_or_from_another_site_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = ledger_with_users(dir.path());
    let app = router(AppState::new(options(&path)));
    let mut paul = Browser::new(&app);
    assert_eq!(paul.sign_in("paul", PASSWORD).await.status, StatusCode::OK);
    let token = paul.csrf.take();
    // No token: 403, nothing imported.
    let a = paul.upload().await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text());
    assert!(a.json()["error"].as_str().unwrap().contains("CSRF"));
    // Another session's token: 403.
    let mut anna = Browser::new(&app);
    assert_eq!(anna.sign_in("anna", PASSWORD).await.status, StatusCode::OK);
    paul.csrf = anna.csrf.clone();
    assert_eq!(paul.upload().await.status, StatusCode::FORBIDDEN);
    // The sign-in form without its token: 403.
    let mut stranger = Browser::new(&app);
    let a = stranger
        .json(
            "POST",
            "/api/session",
            serde_json::json!({"name": "paul", "password": PASSWORD}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text());
    // A cross-site POST with the right cookie and token is still refused by the Origin and
    // Fetch-Metadata checks.
    paul.csrf = token;
    paul.extra = vec![("origin", "http://evil.example".into())];
    assert_eq!(paul.upload().await.status, StatusCode::FORBIDDEN);
    paul.extra = vec![("sec-fetch-site", "cross-site".into())];
    assert_eq!(paul.upload().await.status, StatusCode::FORBIDDEN);
    paul.extra = vec![];
    assert!(Ledger::open_existing(&path)
        .unwrap()
        .list()
        .unwrap()
        .is_empty());
    // With everything right, it goes through.
    assert_eq!(paul.upload().await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_proxy_header_counts_only_from_a_trusted_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let path = ledger_with_users(dir.path());
    let mut opts = options(&path);
    opts.trusted_proxies = vec![Network::parse("10.0.0.0/24").unwrap()];
    opts.proxy_user_header = Some("X-Forwarded-Email".into());
    let app = router(AppState::new(opts));

    // From elsewhere the header is ignored: not signed in.
    let mut far = Browser::new(&app);
    far.peer = Some("192.0.2.50:40000".parse().unwrap());
    far.extra = vec![("x-forwarded-email", "paul".into())];
    let me = far.get("/api/session").await.json();
    assert_eq!(me["user"], serde_json::Value::Null, "{me}");
    assert!(!far.get("/").await.text().contains("<label for=\"files\""));
    assert_eq!(far.upload().await.status, StatusCode::UNAUTHORIZED);

    // From the proxy it names the user, whose role comes from the ledger.
    let mut near = Browser::new(&app);
    near.peer = Some("10.0.0.5:40000".parse().unwrap());
    near.extra = vec![
        ("x-forwarded-email", "SSO@Example.com".into()),
        ("x-forwarded-for", "198.51.100.7".into()),
    ];
    assert!(near.get("/").await.text().contains("<label for=\"files\""));
    let me = near.get("/api/session").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    let j = me.json();
    assert_eq!(j["user"], "sso@example.com");
    assert_eq!(j["role"], "viewer");
    assert_eq!(j["via"], "single sign-on");
    assert!(near.cookies.contains_key("llm_scope3_session"));
    near.csrf = j["csrf"].as_str().map(str::to_string);
    // Viewer: no upload.
    assert_eq!(near.upload().await.status, StatusCode::FORBIDDEN);
    let sign_in = audit(&path)
        .into_iter()
        .find(|e| e.action == "sign-in")
        .unwrap();
    assert_eq!(sign_in.who, "sso@example.com");
    assert_eq!(sign_in.via, "single sign-on");
    assert_eq!(sign_in.client.as_deref(), Some("198.51.100.7"));

    // Someone the proxy names but the ledger does not know: 403 in words, audited.
    let mut unknown = Browser::new(&app);
    unknown.peer = Some("10.0.0.5:40001".parse().unwrap());
    unknown.extra = vec![("x-forwarded-email", "eve@example.com".into())];
    let a = unknown.get("/api/session").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.json()["error"]
        .as_str()
        .unwrap()
        .contains("eve@example.com is not a user of this page"));
    assert!(audit(&path)
        .iter()
        .any(|e| e.action == "sign-in failed" && e.who == "eve@example.com"));
}

#[tokio::test]
async fn a_user_removed_or_demoted_loses_access_at_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = ledger_with_users(dir.path());
    let app = router(AppState::new(options(&path)));
    let mut paul = Browser::new(&app);
    assert_eq!(paul.sign_in("paul", PASSWORD).await.status, StatusCode::OK);
    let mut l = Ledger::open_existing(&path).unwrap();
    l.set_actor(Actor::command_line("test-admin"));
    l.set_role("paul", Role::Viewer, Utc::now()).unwrap();
    assert_eq!(paul.upload().await.status, StatusCode::FORBIDDEN);
    l.remove_user("paul", Utc::now()).unwrap();
    assert_eq!(paul.upload().await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_trusted_proxy_names_no_user_unless_the_header_is_configured() {
    // A TLS proxy in front of a password sign-in: it is trusted for X-Forwarded-*, but a user
    // header a browser slipped through it names nobody (no --proxy-user-header).
    let dir = tempfile::tempdir().unwrap();
    let path = ledger_with_users(dir.path());
    let mut opts = options(&path);
    opts.trusted_proxies = vec![Network::parse("10.0.0.0/24").unwrap()];
    let app = router(AppState::new(opts));
    let mut forged = Browser::new(&app);
    forged.peer = Some("10.0.0.5:40000".parse().unwrap());
    forged.extra = vec![
        ("x-forwarded-email", "paul".into()),
        ("x-forwarded-user", "paul".into()),
    ];
    let me = forged.get("/api/session").await.json();
    assert_eq!(me["user"], serde_json::Value::Null, "{me}");
    assert_eq!(forged.upload().await.status, StatusCode::UNAUTHORIZED);
    // The password still works through the proxy.
    let mut paul = Browser::new(&app);
    paul.peer = Some("10.0.0.5:40001".parse().unwrap());
    assert_eq!(paul.sign_in("paul", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(paul.upload().await.status, StatusCode::OK);
}
