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

#[test]
fn the_page_uploads_two_exports_and_downloads_the_clis_workbook() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let chrome = on_path(&["chromium", "chromium-browser", "google-chrome"]);
    let driver = on_path(&["chromedriver"]);
    let (Some(chrome), Some(driver)) = (chrome, driver) else {
        assert!(
            !ci,
            "CI=true: Chromium and chromedriver are required (Debian: apt-get install chromium chromium-driver)"
        );
        crate::common::skipped(
            "the upload page in a browser",
            "Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)",
        );
        return;
    };

    let addr = start(Options::new("127.0.0.1:0".parse().unwrap()));
    let port = free_port();
    let _driver = Driver(
        Command::new(&driver)
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
    let c = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    let result = steps(&c, addr, downloads).await;
    let _ = c.close().await;
    result.unwrap_or_else(|e| panic!("{e}"))
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
