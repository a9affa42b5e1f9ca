//! End to end in headless Chromium (through chromedriver and the WebDriver protocol): the real
//! page uploads two sample exports, picks 2026Q1, downloads the workbook, and the workbook's
//! total equals the command line's for the same files. Skips with a reason when Chromium or
//! chromedriver is missing, unless CI=true (then it fails): `.ci/run` installs both.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};

use llm_scope3::web::Options;

use crate::common::{self, workbook_tco2e};
use crate::web::{ANTHROPIC, OPENAI};
use crate::web_load::start;

/// The first of `names` found on PATH.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

/// Ends chromedriver when the test ends, however it ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits for a file with extension `ext` to be complete in `dir`.
fn wait_for_download(dir: &Path, ext: &str) -> Option<PathBuf> {
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        let done = std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.extension().is_some_and(|e| e == ext)
                    && !dir.join(format!("{}.crdownload", p.display())).exists()
            });
        if let Some(p) = done {
            // Chromium renames the finished download into place; give it a moment to close.
            std::thread::sleep(Duration::from_millis(200));
            return Some(p);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Chromium and chromedriver, or `None` after saying why the test is skipped (a failure when
/// CI=true).
fn browser(test: &str) -> Option<(PathBuf, PathBuf)> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let chrome = on_path(&["chromium", "chromium-browser", "google-chrome"]);
    let driver = on_path(&["chromedriver"]);
    match (chrome, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            assert!(
                !ci,
                "CI=true: Chromium and chromedriver are required (Debian: apt-get install chromium chromium-driver)"
            );
            crate::common::skipped(
                test,
                "Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)",
            );
            None
        }
    }
}

/// Starts chromedriver on a free port (ended when the returned guard drops).
fn start_driver(driver: &Path) -> (Driver, u16) {
    let port = free_port();
    let guard = Driver(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let until = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    (guard, port)
}

#[test]
fn the_page_uploads_two_exports_and_downloads_the_clis_workbook() {
    let Some((chrome, driver)) = browser("the upload page in a browser") else {
        return;
    };
    let addr = start(Options::new("127.0.0.1:0".parse().unwrap()));
    let (_driver, port) = start_driver(&driver);

    let downloads = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let xlsx = rt.block_on(drive(addr, port, &chrome, downloads.path(), profile.path()));

    let paths = [OPENAI, ANTHROPIC].map(|n| common::root().join("samples").join(n));
    let cli = common::run(&[paths[0].as_path(), paths[1].as_path()], "2026Q1").unwrap();
    let bytes = std::fs::read(&xlsx).unwrap();
    common::assert_close(
        workbook_tco2e(&bytes) * 1000.0,
        cli.summary.totals.emissions_kgco2e.central,
        1e-12,
        "the downloaded workbook's E1-6 total vs the CLI's",
    );
}

async fn drive(
    addr: SocketAddr,
    port: u16,
    chrome: &Path,
    downloads: &Path,
    profile: &Path,
) -> PathBuf {
    let c = connect(port, chrome, downloads, profile).await;
    let result = steps(&c, addr, downloads).await;
    let _ = c.close().await;
    result.unwrap_or_else(|e| panic!("{e}"))
}

/// A WebDriver session of headless Chromium.
async fn connect(port: u16, chrome: &Path, downloads: &Path, profile: &Path) -> fantoccini::Client {
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chrome,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                format!("--user-data-dir={}", profile.display()),
                "--window-size=1280,900",
            ],
            "prefs": {
                "download.default_directory": downloads,
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "safebrowsing.enabled": false,
            },
        }
    });
    let caps = caps.as_object().cloned().unwrap();
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session")
}

async fn steps(
    c: &fantoccini::Client,
    addr: SocketAddr,
    downloads: &Path,
) -> Result<PathBuf, String> {
    let err = |what: &str| {
        let what = what.to_string();
        move |e: fantoccini::error::CmdError| format!("{what}: {e}")
    };
    c.goto(&format!("http://{addr}/"))
        .await
        .map_err(err("open the page"))?;

    // A bad file first: a clear message, and the page keeps working.
    let bad = tempfile::Builder::new()
        .suffix(".csv")
        .tempfile()
        .map_err(|e| e.to_string())?;
    std::fs::write(bad.path(), "name,colour\nwidget,blue\n").map_err(|e| e.to_string())?;
    let input = c
        .find(Locator::Id("files"))
        .await
        .map_err(err("the file input"))?;
    input
        .send_keys(&bad.path().display().to_string())
        .await
        .map_err(err("choose the bad file"))?;
    // The period stays "From the files".
    c.find(Locator::Id("what_if"))
        .await
        .map_err(err("the what-if field"))?
        .send_keys("cache 30% of input")
        .await
        .map_err(err("type a what-if"))?;
    click(c, "go").await?;
    let alert = c
        .wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css("#status .error"))
        .await
        .map_err(err("the error message"))?;
    let text = alert.text().await.map_err(err("its text"))?;
    if !text.contains("unknown format") {
        return Err(format!("the message for a bad file: {text:?}"));
    }
    click(c, "clear").await?;

    // Two samples, 2026Q1.
    let paths: Vec<String> = [OPENAI, ANTHROPIC]
        .iter()
        .map(|n| common::root().join("samples").join(n).display().to_string())
        .collect();
    let input = c
        .find(Locator::Id("files"))
        .await
        .map_err(err("the file input"))?;
    input
        .send_keys(&paths.join("\n"))
        .await
        .map_err(err("choose two samples"))?;
    click(c, "go").await?;
    c.wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css("#result:not([hidden]) #dl-xlsx"))
        .await
        .map_err(err("the report"))?;
    let table = text_of(c, "file-table").await?;
    if !(table.contains("openai-usage") && table.contains("anthropic-usage")) {
        return Err(format!("the files table: {table}"));
    }
    let cards = text_of(c, "cards").await?;
    if !cards.contains("tCO2e") {
        return Err(format!("the summary: {cards}"));
    }
    // The two samples bill Claude and GPT models: a training share, shown apart.
    if !(cards.contains("Training share (amortised)") && cards.contains("shown apart")) {
        return Err(format!("the training share: {cards}"));
    }
    if !cards.contains("What if cache 30% of input") {
        return Err(format!("the what-if: {cards}"));
    }
    // The OpenAI sample counts requests: the average request, beside Google's 0.24 Wh.
    let per_request = text_of(c, "per-request").await?;
    if !(cards.contains("Average request") && per_request.contains("Google 2025 0.24 Wh")) {
        return Err(format!("the average request: {cards} / {per_request}"));
    }
    // The period came from the files (every row of both samples is in 2026Q1), and the
    // warnings are a banner, not just "Report ready.": the OpenAI sample bills a model the
    // factor set does not know.
    let chosen = text_of(c, "period-chosen").await?;
    if !chosen.contains("Quarter 2026Q1 chosen from the files") {
        return Err(format!("the period note: {chosen}"));
    }
    let banner = text_of(c, "warnings").await?;
    if !(banner.contains("1 warning") && banner.contains("acme-internal-preview")) {
        return Err(format!("the warnings banner: {banner}"));
    }
    let status = text_of(c, "status").await?;
    if !status.contains("with 1 warning") {
        return Err(format!("the status line: {status}"));
    }
    if let Some(dir) = std::env::var_os("LLM_SCOPE3_SCREENSHOTS") {
        // For a person to look at the page: `LLM_SCOPE3_SCREENSHOTS=DIR cargo test browser`.
        c.set_window_size(1280, 2000)
            .await
            .map_err(err("a taller window"))?;
        let png = c.screenshot().await.map_err(err("a screenshot"))?;
        std::fs::write(Path::new(&dir).join("page-report.png"), png).map_err(|e| e.to_string())?;
    }
    click(c, "dl-xlsx").await?;
    wait_for_download(downloads, "xlsx").ok_or_else(|| "no workbook was downloaded".to_string())
}

async fn click(c: &fantoccini::Client, id: &str) -> Result<(), String> {
    let e = c
        .find(Locator::Id(id))
        .await
        .map_err(|e| format!("#{id}: {e}"))?;
    e.click().await.map_err(|e| format!("click #{id}: {e}"))
}

async fn text_of(c: &fantoccini::Client, id: &str) -> Result<String, String> {
    let e = c
        .find(Locator::Id(id))
        .await
        .map_err(|e| format!("#{id}: {e}"))?;
    e.text()
        .await
        .map_err(|e| format!("the text of #{id}: {e}"))
}

#[test]
fn signed_in_a_preparer_uploads_an_approver_states_final_and_a_viewer_cannot_upload() {
    let Some((chrome, driver)) = browser("sign-in and roles in a browser") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ledger = crate::web_auth::ledger_with_users(dir.path());
    let mut opts = Options::new("127.0.0.1:0".parse().unwrap());
    opts.ledger = Some(ledger.clone());
    let addr = start(opts);
    let (_driver, port) = start_driver(&driver);
    let downloads = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = connect(port, &chrome, downloads.path(), profile.path()).await;
        let result = roles(&c, addr).await;
        let _ = c.close().await;
        result.unwrap_or_else(|e| panic!("{e}"))
    });
    // What the browser did is in the ledger: paul's import, anna's final statement.
    let log = llm_scope3::ledger::Ledger::open_existing(&ledger)
        .unwrap()
        .audit_log(None)
        .unwrap();
    let did = |who: &str, action: &str| log.iter().any(|e| e.who == who && e.action == action);
    assert!(
        did("paul", "import") && did("anna", "final") && did("vera", "sign-in"),
        "{log:?}"
    );
    // Anna's one final statement only: the cross-site request recorded nothing.
    let statements: i64 = rusqlite::Connection::open(&ledger)
        .unwrap()
        .query_row("SELECT count(*) FROM statements", [], |r| r.get(0))
        .unwrap();
    assert_eq!(statements, 1);
    assert_eq!(
        log.iter().filter(|e| e.action == "final").count(),
        1,
        "{log:?}"
    );
}

/// Serves a blank page (no Content-Security-Policy) on a port of its own, as another site
/// would; returns the port.
fn another_site() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten().take(8) {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = "<!doctype html><title>another site</title><p>elsewhere</p>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// Takes a screenshot when `LLM_SCOPE3_SCREENSHOTS` names a folder.
async fn screenshot(c: &fantoccini::Client, name: &str) -> Result<(), String> {
    if let Some(dir) = std::env::var_os("LLM_SCOPE3_SCREENSHOTS") {
        let png = c
            .screenshot()
            .await
            .map_err(|e| format!("a screenshot: {e}"))?;
        std::fs::write(Path::new(&dir).join(name), png).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Signs in on the sign-in page and waits for the page to say who is signed in.
async fn sign_in(c: &fantoccini::Client, addr: SocketAddr, name: &str) -> Result<(), String> {
    let err = |what: String| move |e: fantoccini::error::CmdError| format!("{what}: {e}");
    c.goto(&format!("http://{addr}/"))
        .await
        .map_err(err(format!("open the page for {name}")))?;
    let field = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#form:not([hidden]) #name"))
        .await
        .map_err(err(format!("the sign-in form for {name}")))?;
    field
        .send_keys(name)
        .await
        .map_err(err("type the name".into()))?;
    c.find(Locator::Id("password"))
        .await
        .map_err(err("the password field".into()))?
        .send_keys(crate::web_auth::PASSWORD)
        .await
        .map_err(err("type the password".into()))?;
    click(c, "go").await?;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#who:not([hidden])"))
        .await
        .map_err(err(format!("{name} signed in")))?;
    let who = text_of(c, "who-name").await?;
    if who != name {
        return Err(format!("signed in as {who:?}, not {name}"));
    }
    Ok(())
}

async fn sign_out(c: &fantoccini::Client) -> Result<(), String> {
    click(c, "sign-out").await?;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#form:not([hidden]) #password"))
        .await
        .map_err(|e| format!("the sign-in page after signing out: {e}"))?;
    Ok(())
}

async fn roles(c: &fantoccini::Client, addr: SocketAddr) -> Result<(), String> {
    let err = |what: &str| {
        let what = what.to_string();
        move |e: fantoccini::error::CmdError| format!("{what}: {e}")
    };
    // Not signed in: the sign-in page, and a wrong password is refused in words.
    c.goto(&format!("http://{addr}/"))
        .await
        .map_err(err("open the page"))?;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#form:not([hidden]) #name"))
        .await
        .map_err(err("the sign-in form"))?;
    screenshot(c, "sign-in.png").await?;
    c.find(Locator::Id("name"))
        .await
        .map_err(err("the name field"))?
        .send_keys("paul")
        .await
        .map_err(err("type a name"))?;
    c.find(Locator::Id("password"))
        .await
        .map_err(err("the password field"))?
        .send_keys("not the password at all")
        .await
        .map_err(err("type a wrong password"))?;
    click(c, "go").await?;
    let alert = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#status .error"))
        .await
        .map_err(err("the refusal"))?;
    let text = alert.text().await.map_err(err("its text"))?;
    if !text.contains("wrong user name or password") {
        return Err(format!("the refusal of a wrong password: {text:?}"));
    }
    screenshot(c, "sign-in-refused.png").await?;

    // A preparer uploads.
    sign_in(c, addr, "paul").await?;
    let sample = common::root().join("samples").join(OPENAI);
    c.find(Locator::Id("files"))
        .await
        .map_err(err("the file input"))?
        .send_keys(&sample.display().to_string())
        .await
        .map_err(err("choose a sample"))?;
    click(c, "go").await?;
    c.wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css("#result:not([hidden]) #dl-xlsx"))
        .await
        .map_err(err("paul's report"))?;
    let table = text_of(c, "file-table").await?;
    if !table.contains("openai-usage") {
        return Err(format!("the files table: {table}"));
    }
    // A preparer is offered no final statement.
    let final_shown = c
        .find(Locator::Css("#final-box:not([hidden])"))
        .await
        .is_ok();
    if final_shown {
        return Err("a preparer is offered the final statement".into());
    }
    sign_out(c).await?;

    // An approver records the final statement of 2026Q1.
    sign_in(c, addr, "anna").await?;
    c.execute(
        "document.getElementById('l-quarter').value = '2026Q1';",
        vec![],
    )
    .await
    .map_err(err("choose 2026Q1"))?;
    c.find(Locator::Id("accept-gaps"))
        .await
        .map_err(err("the accept-gaps field"))?
        .send_keys("one export in this test")
        .await
        .map_err(err("type a reason"))?;
    click(c, "final-confirm").await?;
    click(c, "final-go").await?;
    c.wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css("#result:not([hidden]) #dl-xlsx"))
        .await
        .map_err(err("anna's final statement"))?;
    let status = text_of(c, "status").await?;
    if !status.contains("Recorded as final statement #1 of 2026Q1") {
        return Err(format!("the status after recording: {status}"));
    }
    c.set_window_size(1280, 1600)
        .await
        .map_err(err("a taller window"))?;
    screenshot(c, "signed-in-approver.png").await?;
    c.execute("window.scrollTo(0, 0);", vec![])
        .await
        .map_err(err("scroll to the top"))?;
    screenshot(c, "signed-in-approver-top.png").await?;
    c.set_window_size(1280, 900)
        .await
        .map_err(err("the window again"))?;
    sign_out(c).await?;

    // A viewer is not offered the upload, and the server refuses it all the same.
    sign_in(c, addr, "vera").await?;
    let form_hidden = c.find(Locator::Css("#form[hidden]")).await.is_ok();
    let note = text_of(c, "no-upload").await?;
    if !form_hidden || !note.contains("preparer") {
        return Err(format!(
            "the viewer's page: form hidden {form_hidden}, note {note:?}"
        ));
    }
    let answer = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch("/api/session").then(r => r.json()).then(s => {
                 const data = new FormData();
                 data.append("files", new Blob(["a,b\n1,2\n"]), "x.csv");
                 return fetch("/api/reports", { method: "POST", body: data,
                   headers: { "X-CSRF-Token": s.csrf } });
               }).then(r => r.json().then(j => done([r.status, j.error])))
                 .catch(e => done([0, String(e)]));"#,
            vec![],
        )
        .await
        .map_err(err("a viewer's upload by hand"))?;
    let status = answer[0].as_u64().unwrap_or(0);
    let message = answer[1].as_str().unwrap_or("").to_string();
    if status != 403 || !message.contains("vera is a viewer") {
        return Err(format!("a viewer's upload: {status} {message}"));
    }
    screenshot(c, "signed-in-viewer.png").await?;
    sign_out(c).await?;

    // Another site's page, while an approver is signed in here, asks this page to record a
    // final statement with the browser's cookies (a blank page served on another port as
    // http://localhost: another origin and site than http://127.0.0.1:PORT). Refused: its Origin is not this page's, and
    // the session cookie (SameSite=Strict) is not sent; the test then finds one statement.
    sign_in(c, addr, "anna").await?;
    let other = format!("http://localhost:{}/", another_site());
    c.goto(&other).await.map_err(err("open the other site"))?;
    let sent = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch(arguments[0], { method: "POST", mode: "no-cors", credentials: "include",
                                     body: '{"quarter": "2026Q1", "accept_gaps": "forged"}' })
                 .then(r => done("sent " + r.type)).catch(e => done("failed " + String(e)));"#,
            vec![serde_json::Value::String(format!(
                "http://{addr}/api/ledger/final"
            ))],
        )
        .await
        .map_err(err("a cross-site final statement"))?;
    if sent.as_str() != Some("sent opaque") {
        return Err(format!("the cross-site request was not sent: {sent}"));
    }
    Ok(())
}
