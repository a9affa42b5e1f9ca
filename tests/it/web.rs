//! The upload server's router, called directly (no port): the page, `POST /api/reports`, the
//! downloads, per-file reasons for unusable files, limits and the Host/Origin guard.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use tower::ServiceExt;

use llm_scope3::web::{router, AppState, Options};

use crate::common::{self, multipart, sample, workbook_tco2e, Part, BOUNDARY};

pub const OPENAI: &str = "openai_completions_usage_2026-01-01_2026-03-31.csv";
pub const ANTHROPIC: &str = "anthropic_claude_api_tokens_2026_Q1.xlsx";

fn options() -> Options {
    Options::new("127.0.0.1:8080".parse().unwrap())
}

fn app(opts: Options) -> Router {
    router(AppState::new(opts))
}

fn post(body: Vec<u8>) -> Request<Body> {
    Request::post("/api/reports")
        .header(header::HOST, "127.0.0.1:8080")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap()
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::HOST, "127.0.0.1:8080")
        .body(Body::empty())
        .unwrap()
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&self.body));
        })
    }
}

async fn call(app: &Router, req: Request<Body>) -> Answer {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// The CLI's outcome for samples, by name.
fn cli_outcome(names: &[&str]) -> llm_scope3::pipeline::Outcome {
    let paths: Vec<_> = names
        .iter()
        .map(|n| common::root().join("samples").join(n))
        .collect();
    let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
    common::run(&refs, "2026Q1").expect("the CLI pipeline")
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test]
async fn the_page_is_served_from_the_binary() {
    let a = call(&app(options()), get("/")).await;
    assert_eq!(a.status, StatusCode::OK);
    let html = String::from_utf8(a.body).unwrap();
    assert!(
        html.contains("<label for=\"files\""),
        "the file picker has a label"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no CDN"
    );
    assert_eq!(a.headers[header::X_FRAME_OPTIONS], "DENY");
    assert!(a.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn two_exports_give_the_clis_report_and_both_downloads() {
    let app = app(options());
    let (o, a) = (sample(OPENAI), sample(ANTHROPIC));
    let ans = call(
        &app,
        post(multipart(&[
            Part::File(OPENAI, &o),
            Part::File(ANTHROPIC, &a),
            Part::Field("quarter", "2026Q1"),
            Part::Field("entity", "Acme SE"),
        ])),
    )
    .await;
    assert_eq!(
        ans.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&ans.body)
    );
    let j = ans.json();
    // The JSON rounds to 10 decimals (REPORT.md), hence 1e-9; the workbook keeps every digit.
    let cli = cli_outcome(&[ANTHROPIC, OPENAI]);
    let t = &cli.summary.totals;
    common::assert_close(
        f(&j["totals"]["emissions_kgco2e"]["central"]),
        t.emissions_kgco2e.central,
        1e-9,
        "central kgCO2e",
    );
    common::assert_close(
        f(&j["totals"]["energy_kwh"]["high"]),
        t.energy_kwh.high,
        1e-9,
        "high kWh",
    );
    assert_eq!(j["period"]["label"], "2026Q1");
    // Per file, in upload order: the detected format and the row accounting of the CLI.
    let files = j["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["file"], OPENAI);
    assert_eq!(files[0]["format"], "openai-usage");
    assert_eq!(files[1]["file"], ANTHROPIC);
    assert_eq!(files[1]["format"], "anthropic-usage");
    for (file, name) in files.iter().zip([OPENAI, ANTHROPIC]) {
        let c = &cli
            .files
            .iter()
            .find(|r| r.file.ends_with(name))
            .unwrap()
            .counts;
        assert_eq!(file["usable"], true);
        assert_eq!(file["rows_read"], c.read);
        assert_eq!(file["accepted"], c.accepted);
        assert_eq!(file["rejected"], c.rejected);
        assert_eq!(file["outside_period"], c.outside_period);
    }

    // The workbook: its E1-6 figure is the CLI's total in tCO2e.
    let url = j["workbook_url"].as_str().unwrap();
    assert!(url.starts_with("/api/reports/") && url.ends_with("/workbook.xlsx"));
    let wb = call(&app, get(url)).await;
    assert_eq!(wb.status, StatusCode::OK);
    assert!(wb.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("llm-scope3-2026Q1.xlsx"));
    common::assert_close(
        workbook_tco2e(&wb.body) * 1000.0,
        t.emissions_kgco2e.central,
        1e-12,
        "workbook E1-6",
    );

    // The JSON download is the CLI's summary: it validates against the schema, and the API
    // answer is that summary plus the download fields.
    let js = call(&app, get(j["json_url"].as_str().unwrap())).await;
    assert_eq!(js.status, StatusCode::OK);
    let summary = js.json();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("docs/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&summary));
    assert!(validator.is_valid(&j), "the API answer validates too");
    assert!(summary.get("workbook_url").is_none());
    for key in summary.as_object().unwrap().keys() {
        assert_eq!(summary[key], j[key], "{key}");
    }
}

#[tokio::test]
async fn an_unusable_file_is_named_with_its_reason_and_left_out_only_when_asked() {
    let app = app(options());
    let o = sample(OPENAI);
    let bad = b"name,colour\nwidget,blue\n".to_vec();
    let parts = |leave_out: bool| {
        let mut p = vec![
            Part::File("mystery.csv", &bad),
            Part::File(OPENAI, &o),
            Part::Field("quarter", "2026Q1"),
        ];
        if leave_out {
            p.push(Part::Field("leave_out_unusable", "true"));
        }
        multipart(&p)
    };
    let ans = call(&app, post(parts(false))).await;
    assert_eq!(ans.status, StatusCode::UNPROCESSABLE_ENTITY);
    let j = ans.json();
    assert!(
        j["error"].as_str().unwrap().contains("1 of 2 file(s)"),
        "{j}"
    );
    let files = j["files"].as_array().unwrap();
    assert_eq!(files[0]["usable"], false);
    let reason = files[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("mystery.csv") && reason.contains("unknown format"),
        "{reason}"
    );
    assert_eq!(files[1]["usable"], true);
    assert_eq!(files[1]["format"], "openai-usage");

    // Ticked: the report is the OpenAI file's alone.
    let ans = call(&app, post(parts(true))).await;
    assert_eq!(ans.status, StatusCode::OK);
    let j = ans.json();
    let cli = cli_outcome(&[OPENAI]);
    common::assert_close(
        f(&j["totals"]["emissions_kgco2e"]["central"]),
        cli.summary.totals.emissions_kgco2e.central,
        1e-9,
        "OpenAI alone",
    );
    assert_eq!(j["imports"].as_array().unwrap().len(), 1);
    assert_eq!(j["files"][0]["usable"], false);
}

#[tokio::test]
async fn bad_content_is_refused_with_a_message_and_the_server_keeps_serving() {
    let app = app(options());
    let mut garbage = vec![0u8; 4096];
    for (i, b) in garbage.iter_mut().enumerate() {
        *b = (i * 7919 % 251) as u8;
    }
    let truncated = {
        let mut x = sample(ANTHROPIC);
        x.truncate(x.len() / 2);
        x
    };
    let bomb = common::zip_bomb(64);
    let cases: [(&str, &[u8], &str); 4] = [
        ("program.exe", &garbage, "program.exe"),
        ("half.xlsx", &truncated, "half.xlsx"),
        ("bomb.xlsx", &bomb, "zip bomb"),
        ("empty.csv", b"", "empty.csv"),
    ];
    for (name, bytes, expect) in cases {
        let ans = call(
            &app,
            post(multipart(&[
                Part::File(name, bytes),
                Part::Field("quarter", "2026Q1"),
            ])),
        )
        .await;
        assert_eq!(ans.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let j = ans.json();
        assert!(j["error"]
            .as_str()
            .unwrap()
            .starts_with("no file can be used"));
        let reason = j["files"][0]["reason"].as_str().unwrap();
        assert!(reason.contains(expect), "{name}: {reason}");
    }
    // The next upload works.
    let o = sample(OPENAI);
    let ans = call(
        &app,
        post(multipart(&[
            Part::File(OPENAI, &o),
            Part::Field("quarter", "2026Q1"),
        ])),
    )
    .await;
    assert_eq!(ans.status, StatusCode::OK);
}

#[tokio::test]
async fn requests_missing_something_get_400_and_unknown_reports_404() {
    let app = app(options());
    let o = sample(OPENAI);
    let cases = [
        (
            multipart(&[
                Part::File(OPENAI, &o),
                Part::Field("quarter", "2026Q1"),
                Part::Field("year", "2026"),
            ]),
            "a quarter or a year, not both",
        ),
        (multipart(&[Part::Field("quarter", "2026Q1")]), "no files"),
        (
            multipart(&[Part::File(OPENAI, &o), Part::Field("quarter", "2026Q5")]),
            "2026Q5",
        ),
        (
            multipart(&[Part::File(OPENAI, &o), Part::Field("path", "/etc")]),
            "unknown form field 'path'",
        ),
    ];
    for (body, expect) in cases {
        let ans = call(&app, post(body)).await;
        assert_eq!(ans.status, StatusCode::BAD_REQUEST, "{expect}");
        let msg = ans.json()["error"].as_str().unwrap().to_string();
        assert!(msg.contains(expect), "{msg}");
    }
    let not_form = Request::post("/api/reports")
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(call(&app, not_form).await.status, StatusCode::BAD_REQUEST);
    for uri in [
        "/api/reports/00000000000000000000000000000000/workbook.xlsx",
        "/api/reports/..%2F..%2Fetc/summary.json",
        "/nothing-here",
    ] {
        let ans = call(&app, get(uri)).await;
        assert_eq!(ans.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(ans.json()["error"].is_string());
    }
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let app = app(options());
    let with = |host: &str, origin: Option<&str>| {
        let mut r = Request::get("/").header(header::HOST, host);
        if let Some(o) = origin {
            r = r.header(header::ORIGIN, o);
        }
        r.body(Body::empty()).unwrap()
    };
    // DNS rebinding: a name that resolves to 127.0.0.1 but is not the bound address.
    assert_eq!(
        call(&app, with("evil.example:8080", None)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, with("127.0.0.1:9999", None)).await.status,
        StatusCode::FORBIDDEN
    );
    // CSRF: a page of another site posting here.
    let a = call(&app, with("127.0.0.1:8080", Some("http://evil.example"))).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.json()["error"].as_str().unwrap().contains("evil.example"));
    assert_eq!(
        call(&app, with("127.0.0.1:8080", Some("null")))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The page itself, by address or by localhost.
    assert_eq!(
        call(&app, with("127.0.0.1:8080", Some("http://127.0.0.1:8080")))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, with("localhost:8080", Some("http://localhost:8080")))
            .await
            .status,
        StatusCode::OK
    );
    let no_host = Request::get("/").body(Body::empty()).unwrap();
    assert_eq!(call(&app, no_host).await.status, StatusCode::BAD_REQUEST);
}

/// Requests the Host check alone let through (issue #17, item 9): duplicate Host headers, an
/// absolute-form target naming another host, and a cross-site POST that names its site only in
/// `Sec-Fetch-Site` or `Referer` (no Origin). Each is refused; the page's own requests are not.
#[tokio::test]
async fn duplicate_hosts_absolute_targets_and_cross_site_posts_are_refused() {
    let app = app(options());
    let o = sample(OPENAI);
    let body = multipart(&[Part::File(OPENAI, &o), Part::Field("quarter", "2026Q1")]);
    let form = |uri: &str, headers: &[(&str, &str)]| {
        let mut r = Request::post(uri).header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        );
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.body(Body::from(body.clone())).unwrap()
    };
    let host = ("host", "127.0.0.1:8080");

    // Two Host headers, the first ours: which one a proxy used is unknowable.
    let a = call(
        &app,
        form("/api/reports", &[host, ("host", "evil.example:8080")]),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.json()["error"].as_str().unwrap().contains("Host"),
        "{}",
        a.json()
    );
    let a = call(&app, form("/api/reports", &[host, host])).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);

    // Absolute-form target: the URI's host, not the Host header, names the site (RFC 9112
    // section 3.2.2).
    let a = call(&app, form("http://evil.example/api/reports", &[host])).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.json()["error"].as_str().unwrap().contains("evil.example"));
    let a = call(&app, form("http://evil.example:8080/", &[host])).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    // A cross-site POST without Origin: Fetch Metadata says so ...
    for site in ["cross-site", "same-site"] {
        let a = call(
            &app,
            form("/api/reports", &[host, ("sec-fetch-site", site)]),
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "Sec-Fetch-Site: {site}");
        assert!(a.json()["error"].as_str().unwrap().contains(site));
    }
    // ... or only the Referer names the other site.
    for referer in [
        "http://evil.example/page.html",
        "https://127.0.0.1:8080/",
        "http://127.0.0.1:9999/",
        "not a url",
    ] {
        let a = call(&app, form("/api/reports", &[host, ("referer", referer)])).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "Referer: {referer}");
    }

    // The page's own upload: same-origin, Referer the page, Origin the page; and a script
    // (curl) sends none of these. Both are answered.
    let a = call(
        &app,
        form(
            "/api/reports",
            &[
                host,
                ("sec-fetch-site", "same-origin"),
                ("referer", "http://127.0.0.1:8080/"),
                ("origin", "http://127.0.0.1:8080"),
            ],
        ),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let a = call(&app, form("http://127.0.0.1:8080/api/reports", &[host])).await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    // Navigating to the page from a link on another site is allowed: a GET changes nothing.
    let nav = Request::get("/")
        .header(header::HOST, "127.0.0.1:8080")
        .header("sec-fetch-site", "cross-site")
        .header("referer", "https://wiki.example/tools")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&app, nav).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_upload_over_the_limit_gets_413() {
    let mut opts = options();
    opts.max_upload_bytes = 64 * 1024;
    let app = app(opts);
    let big = vec![b'a'; 100 * 1024];
    let body = multipart(&[
        Part::File("big.csv", &big),
        Part::Field("quarter", "2026Q1"),
    ]);
    // Declared length over the limit.
    let ans = call(&app, post(body.clone())).await;
    assert_eq!(ans.status, StatusCode::PAYLOAD_TOO_LARGE);
    // No length declared (streamed): refused while reading.
    let stream = futures_stream(body);
    let req = Request::post("/api/reports")
        .header(header::HOST, "127.0.0.1:8080")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(stream)
        .unwrap();
    let ans = call(&app, req).await;
    assert_eq!(ans.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(ans.json()["error"].as_str().unwrap().contains("limit"));
}

/// A body without a length, sent in 8 KiB pieces.
fn futures_stream(body: Vec<u8>) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        for chunk in body.chunks(8192) {
            if tx
                .send(Ok(axum::body::Bytes::copy_from_slice(chunk)))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    Body::from_stream(ReceiverStream(rx))
}

/// An mpsc receiver as a stream (without pulling in tokio-stream).
struct ReceiverStream<T>(tokio::sync::mpsc::Receiver<T>);

impl<T> futures_core::Stream for ReceiverStream<T> {
    type Item = T;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after() {
    let mut opts = options();
    opts.queue = 1;
    opts.retry_after_secs = 7;
    let app = app(opts);
    // The first upload is admitted and stalls mid-body, holding the only place.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(1);
    tx.send(Ok(axum::body::Bytes::from(format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"quarter\"\r\n\r\n2026Q1\r\n"
    ))))
    .await
    .unwrap();
    let stalled = Request::post("/api/reports")
        .header(header::HOST, "127.0.0.1:8080")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from_stream(ReceiverStream(rx)))
        .unwrap();
    let first = tokio::spawn({
        let app = app.clone();
        async move { call(&app, stalled).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let o = sample(OPENAI);
    let body = multipart(&[Part::File(OPENAI, &o), Part::Field("quarter", "2026Q1")]);
    let ans = call(&app, post(body.clone())).await;
    assert_eq!(ans.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ans.headers[header::RETRY_AFTER], "7");
    // The stalled client goes away: its place is free again.
    drop(tx);
    let _ = first.await;
    let ans = call(&app, post(body)).await;
    assert_eq!(ans.status, StatusCode::OK);
}

#[tokio::test]
async fn with_a_ledger_uploads_accumulate_and_a_refused_upload_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let mut opts = options();
    opts.ledger = Some(db.clone());
    let app = app(opts);
    let (o, a) = (sample(OPENAI), sample(ANTHROPIC));
    let bad = b"name,colour\nwidget,blue\n".to_vec();

    // Refused (one file unusable, not left out): the ledger stays empty.
    let ans = call(
        &app,
        post(multipart(&[
            Part::File(OPENAI, &o),
            Part::File("mystery.csv", &bad),
            Part::Field("quarter", "2026Q1"),
        ])),
    )
    .await;
    assert_eq!(ans.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ledger = llm_scope3::ledger::Ledger::open(&db).unwrap();
    assert!(ledger.list().unwrap().is_empty());
    drop(ledger);

    // Two uploads, one file each: the second report is made from the ledger and holds both,
    // equal to the CLI's report on the two files.
    for (name, bytes) in [(OPENAI, &o), (ANTHROPIC, &a)] {
        let ans = call(
            &app,
            post(multipart(&[
                Part::File(name, bytes),
                Part::Field("quarter", "2026Q1"),
            ])),
        )
        .await;
        assert_eq!(
            ans.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&ans.body)
        );
        if name == ANTHROPIC {
            let j = ans.json();
            let cli = cli_outcome(&[ANTHROPIC, OPENAI]);
            common::assert_close(
                f(&j["totals"]["emissions_kgco2e"]["central"]),
                cli.summary.totals.emissions_kgco2e.central,
                1e-9,
                "ledger report of both uploads",
            );
            assert_eq!(j["imports"].as_array().unwrap().len(), 2);
            // The files of this upload only.
            assert_eq!(j["files"].as_array().unwrap().len(), 1);
        }
    }
    let ledger = llm_scope3::ledger::Ledger::open(&db).unwrap();
    let names: Vec<String> = ledger.list().unwrap().into_iter().map(|s| s.file).collect();
    assert_eq!(names, [OPENAI, ANTHROPIC]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_another_process_is_writing_answers_503_with_retry_after() {
    // Another writer (here a second connection, as `llm-scope3 import` in another process
    // would) holds the ledger's write lock. The ledger itself waits up to 10 minutes for it;
    // the upload waits --ledger-wait (1 s here), then is answered 503 with Retry-After, not a
    // 500 and not a request held for minutes (the request limit, 20 s, would give 408).
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    drop(llm_scope3::ledger::Ledger::open(&db).unwrap());
    let mut opts = options();
    opts.ledger = Some(db.clone());
    opts.ledger_wait = std::time::Duration::from_secs(1);
    opts.retry_after_secs = 2;
    opts.request_timeout = std::time::Duration::from_secs(20);
    let app = app(opts);
    let other = rusqlite::Connection::open(&db).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let o = sample(OPENAI);
    let body = multipart(&[Part::File(OPENAI, &o), Part::Field("quarter", "2026Q1")]);
    let started = std::time::Instant::now();
    let ans = call(&app, post(body.clone())).await;
    let waited = started.elapsed();
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        ans.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        String::from_utf8_lossy(&ans.body)
    );
    // Retry-After: the larger of the queue's (2 s) and the ledger wait (1 s).
    assert_eq!(ans.headers[header::RETRY_AFTER], "2");
    let e = ans.json()["error"].as_str().unwrap().to_string();
    assert!(
        e.contains("another program") && e.contains("try again"),
        "{e}"
    );
    assert!(waited < std::time::Duration::from_secs(10), "{waited:?}");
    // Nothing was imported; once the other writer is done the same upload goes in.
    let ledger = llm_scope3::ledger::Ledger::open(&db).unwrap();
    assert!(ledger.list().unwrap().is_empty());
    drop(ledger);
    let ans = call(&app, post(body)).await;
    assert_eq!(
        ans.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&ans.body)
    );
}

#[test]
fn run_checked_collects_each_unusable_file_and_run_still_fails_closed() {
    use llm_scope3::pipeline::{self, Input, OnUnusable};
    // Sorted as the CLI sorts: the unknown-format fixture, then an OpenAI export.
    let inputs: Vec<Input> = [
        common::fixture("unknown_format.csv"),
        common::fixture("openai_usage_one_row.csv"),
    ]
    .into_iter()
    .map(|p| Input {
        name: p.file_name().unwrap().to_string_lossy().into_owned(),
        path: p,
    })
    .collect();
    let cfg = common::config("2026Q1");
    let c = pipeline::run_checked(&inputs, vec![], &cfg, OnUnusable::Collect).unwrap();
    assert_eq!(c.unusable.len(), 1);
    assert_eq!(c.unusable[0].index, 0);
    assert_eq!(c.unusable[0].error.exit_code(), 3);
    let o = c.outcome.expect("a report from the usable file");
    assert_eq!(o.files.len(), 1);
    assert_eq!(o.files[0].file, "openai_usage_one_row.csv");
    assert_eq!(o.files[0].file_index, 0);
    // Stop: nothing past the first unusable file, no outcome; run: that file's error.
    let c = pipeline::run_checked(&inputs, vec![], &cfg, OnUnusable::Stop).unwrap();
    assert!(c.outcome.is_none() && c.unusable.len() == 1);
    let e = pipeline::run(&inputs, vec![], &cfg).unwrap_err();
    assert_eq!(e.exit_code(), 3);
    assert!(
        e.to_string()
            .starts_with("unknown_format.csv: unknown format"),
        "{e}"
    );
}

/// Every message of an answer (the error and each file's reason).
fn messages(j: &serde_json::Value) -> Vec<String> {
    let mut out = vec![j["error"].as_str().unwrap_or_default().to_string()];
    for f in j["files"].as_array().into_iter().flatten() {
        if let Some(r) = f["reason"].as_str() {
            out.push(r.to_string());
        }
    }
    out
}

/// True when `text` suggests a command-line option (`--template`, `--replace 3` ...).
fn names_a_flag(text: &str) -> bool {
    text.split_whitespace()
        .any(|w| w.trim_start_matches(['(', '"']).starts_with("--"))
}

#[tokio::test]
async fn the_pages_errors_use_the_pages_words_not_command_line_options() {
    // An export in a format the tool does not know: the command line suggests
    // `--template FILE`; the page tells its user whom to ask.
    let app = app(options());
    let bad = b"name,colour\nwidget,blue\n".to_vec();
    let ans = call(
        &app,
        post(multipart(&[
            Part::File("mystery.csv", &bad),
            Part::Field("quarter", "2026Q1"),
        ])),
    )
    .await;
    assert_eq!(ans.status, StatusCode::UNPROCESSABLE_ENTITY);
    let j = ans.json();
    let reason = j["files"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("mystery.csv")
            && reason.contains(
                "For a format this page does not know, ask whoever runs it to add an import template (docs/formats.md)."
            ),
        "{reason}"
    );
    for m in messages(&j) {
        assert!(!names_a_flag(&m), "{m}");
    }

    // With a ledger: a monthly export over a month already imported day by day is refused;
    // the command line says `--replace 1`, the page cannot replace an import.
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options();
    opts.ledger = Some(dir.path().join("ledger.db"));
    let app = crate::web::app(opts);
    let daily = sample(OPENAI);
    let header = String::from_utf8_lossy(&daily)
        .lines()
        .next()
        .unwrap()
        .to_string();
    // One bucket from 2026-01-01 (1767225600) to 2026-02-01 (1769904000).
    let monthly = format!(
        "{header}\n1767225600,1769904000,2026-01-01T00:00:00+00:00,2026-02-01T00:00:00+00:00,proj_labs,10.0,,key_labs,gpt-4o,False,default,1000.0,500.0,0.0,1000.0,,,,,,,,,\n"
    );
    for (name, bytes, ok) in [
        (OPENAI, daily.clone(), true),
        ("monthly.csv", monthly.into_bytes(), false),
    ] {
        let ans = call(
            &app,
            post(multipart(&[
                Part::File(name, &bytes),
                Part::Field("quarter", "2026Q1"),
            ])),
        )
        .await;
        if ok {
            assert_eq!(ans.status, StatusCode::OK);
            continue;
        }
        assert!(ans.status.is_client_error(), "{}", ans.status);
        let j = ans.json();
        let m = j["error"].as_str().unwrap();
        assert!(
            m.contains("buckets of 31 days")
                && m.contains("The upload page cannot replace or remove an import: ask whoever keeps the ledger to supersede or remove import #1, then upload this file again."),
            "{m}"
        );
        for m in messages(&j) {
            assert!(!names_a_flag(&m), "{m}");
        }
    }
}

#[tokio::test]
async fn without_an_entity_the_cover_says_where_to_fill_it_in() {
    let app = app(options());
    let o = sample(OPENAI);
    let ans = call(
        &app,
        post(multipart(&[
            Part::File(OPENAI, &o),
            Part::Field("quarter", "2026Q1"),
            Part::Field("entity", ""),
        ])),
    )
    .await;
    assert_eq!(ans.status, StatusCode::OK);
    let wb = call(&app, get(ans.json()["workbook_url"].as_str().unwrap())).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.xlsx");
    std::fs::write(&path, &wb.body).unwrap();
    let cover = common::sheet_text(&path, "Cover");
    let at = cover.iter().position(|c| c == "Reporting entity").unwrap();
    assert_eq!(
        cover[at + 1],
        "(reporting entity not set: fill in \"Reporting entity\" on the upload page)"
    );
}

#[tokio::test]
async fn the_period_comes_from_the_files_and_a_zero_is_a_warning_not_just_a_report() {
    let app = app(options());
    let o = sample(OPENAI);
    // No period sent: every usage row of the OpenAI sample (445 accepted of 454 read) is in
    // January to March 2026, so 2026Q1 is chosen and the answer says why.
    let ans = call(&app, post(multipart(&[Part::File(OPENAI, &o)]))).await;
    assert_eq!(ans.status, StatusCode::OK);
    let j = ans.json();
    assert_eq!(j["period"]["label"], "2026Q1");
    let chosen = j["period_chosen"].as_str().unwrap();
    assert!(
        chosen.starts_with("Quarter 2026Q1 chosen from the files: 445 of their 445 usage rows"),
        "{chosen}"
    );
    // A quarter without any of the file's rows: still a report, but the zero is a warning
    // the page shows as a banner, and the file's rows all show as outside the period.
    let ans = call(
        &app,
        post(multipart(&[
            Part::File(OPENAI, &o),
            Part::Field("quarter", "2026Q2"),
        ])),
    )
    .await;
    assert_eq!(ans.status, StatusCode::OK);
    let j = ans.json();
    assert_eq!(j["warnings"][0]["code"], "no_usage_in_period");
    let msg = j["warnings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("report the quarter 2026Q1 instead"), "{msg}");
    assert!(!msg.contains("--"), "the page's words have no flags: {msg}");
    let f = &j["files"][0];
    assert_eq!(f["accepted"], 0);
    assert_eq!(f["balanced"], true);
    assert!(f["accounting"]
        .as_str()
        .unwrap()
        .starts_with("rows 454 = accepted 0 + rejected 4 + outside period 445"));
}

#[tokio::test]
async fn the_page_takes_a_commentary_and_last_year_s_summary_as_the_cli_does() {
    // The OpenAI sample's 2026Q1 summary, relabelled as 2025Q1 with 80 % of its central
    // emissions, is the N-1: the change is 1 / 0.8 - 1 = +25 %.
    let app = app(options());
    let o = sample(OPENAI);
    let first = call(
        &app,
        post(multipart(&[
            Part::File(OPENAI, &o),
            Part::Field("quarter", "2026Q1"),
        ])),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    let mut prior = first.json();
    let central = f(&prior["totals"]["emissions_kgco2e"]["central"]);
    prior["period"] =
        serde_json::json!({"start": "2025-01-01", "end": "2025-03-31", "label": "2025Q1"});
    prior["totals"]["emissions_kgco2e"]["central"] = (central * 0.8).into();
    let prior_bytes = prior.to_string().into_bytes();
    let note = "=1+1 Q1 usage doubled after the support bot launch";
    let ans = call(
        &app,
        post(multipart(&[
            Part::File(OPENAI, &o),
            Part::Field("quarter", "2026Q1"),
            Part::Field("note", note),
            Part::FileIn("prior", "summary-2025Q1.json", &prior_bytes),
        ])),
    )
    .await;
    assert_eq!(
        ans.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&ans.body)
    );
    let j = ans.json();
    assert_eq!(j["note"], note);
    let c = &j["comparative_period"];
    assert_eq!(c["source"], "prior");
    assert_eq!(c["file"], "summary-2025Q1.json");
    common::assert_close(f(&c["change_central"]), 0.25, 1e-9, "change");

    // Another period is refused in the page's words (no flag, no server path).
    prior["period"] =
        serde_json::json!({"start": "2025-04-01", "end": "2025-06-30", "label": "2025Q2"});
    let bytes = prior.to_string().into_bytes();
    let ans = call(
        &app,
        post(multipart(&[
            Part::File(OPENAI, &o),
            Part::Field("quarter", "2026Q1"),
            Part::FileIn("prior", "summary-2025Q2.json", &bytes),
        ])),
    )
    .await;
    assert_eq!(ans.status, StatusCode::BAD_REQUEST);
    let msg = ans.json()["error"].as_str().unwrap().to_string();
    assert!(
        msg.starts_with("The earlier JSON summary summary-2025Q2.json: its period is 2025-04-01"),
        "{msg}"
    );
    assert!(!msg.contains("--prior") && !msg.contains("/tmp"), "{msg}");
}

#[tokio::test]
async fn the_page_takes_one_what_if_and_refuses_a_bad_one_in_words() {
    let app = app(options());
    let o = sample(OPENAI);
    let ans = call(
        &app,
        post(multipart(&[
            Part::File(OPENAI, &o),
            Part::Field("quarter", "2026Q1"),
            Part::Field("what_if", "cache 30% of input"),
        ])),
    )
    .await;
    assert_eq!(
        ans.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&ans.body)
    );
    let j = ans.json();
    let w = &j["what_if"][0];
    assert_eq!(w["spec"], "cache 30% of input");
    assert_eq!(w["kind"], "cache");
    // A saving, and the reported figure is the CLI's, untouched by the scenario.
    assert!(f(&w["delta_kgco2e"]["central"]) < 0.0);
    let cli = cli_outcome(&[OPENAI]);
    common::assert_close(
        f(&j["totals"]["emissions_kgco2e"]["central"]),
        cli.summary.totals.emissions_kgco2e.central,
        1e-9,
        "reported",
    );
    let ans = call(
        &app,
        post(multipart(&[
            Part::File(OPENAI, &o),
            Part::Field("quarter", "2026Q1"),
            Part::Field("what_if", "cache lots"),
        ])),
    )
    .await;
    assert_eq!(ans.status, StatusCode::BAD_REQUEST);
    let msg = ans.json()["error"].as_str().unwrap().to_string();
    assert!(msg.starts_with("The what-if 'cache lots'"), "{msg}");
    assert!(msg.contains("write it as one of"), "{msg}");
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_ledger_that_cannot_be_reached_answers_503_with_retry_after() {
    // The database server is down (here: nothing listens on the port): the upload can be sent
    // again later, so 503 with Retry-After and the ledger's words, not a 500.
    let mut opts = options();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    opts.ledger = Some(format!("postgres://reporting@127.0.0.1:{port}/ledger").into());
    opts.retry_after_secs = 2;
    let app = app(opts);
    let o = sample(OPENAI);
    let body = multipart(&[Part::File(OPENAI, &o), Part::Field("quarter", "2026Q1")]);
    let ans = call(&app, post(body)).await;
    assert_eq!(
        ans.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        String::from_utf8_lossy(&ans.body)
    );
    assert_eq!(ans.headers[header::RETRY_AFTER], "2");
    let e = ans.json()["error"].as_str().unwrap().to_string();
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
}
