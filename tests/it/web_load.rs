//! The upload server under load and abuse, on a loopback port (bounded in count and time):
//! 100 concurrent uploads through a queue of 4, an oversize upload, slow-loris clients, and a
//! zip bomb against the real binary with its peak memory read from /proc.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use llm_scope3::web::{serve, AppState, Options};

use crate::common::{self, multipart, sample, Part, BOUNDARY};
use crate::web::OPENAI;

/// Starts a server with `opts` (its `bind` replaced by the real port) on a thread of its own.
pub fn start(mut opts: Options) -> SocketAddr {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    opts.bind = addr;
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            let _ = serve(listener, AppState::new(opts)).await;
        });
    });
    addr
}

/// A raw HTTP/1.1 answer.
pub struct Raw {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one answer (Content-Length, chunked, or until close).
fn read_answer(stream: &mut TcpStream) -> std::io::Result<Raw> {
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line: {line:?}")))?;
    let mut headers = vec![];
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let find = |n: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let mut body = vec![];
    if let Some(len) = find("content-length") {
        body.resize(len.parse().unwrap_or(0), 0);
        r.read_exact(&mut body)?;
    } else if find("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        r.read_to_end(&mut body)?;
    }
    Ok(Raw {
        status,
        headers,
        body,
    })
}

/// Sends one request on a new connection and reads the answer.
pub fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&[u8]>) -> Raw {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(b) = body {
        head.push_str(&format!(
            "Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    if let Some(b) = body {
        s.write_all(b).unwrap();
    }
    read_answer(&mut s).unwrap()
}

fn upload_body() -> Vec<u8> {
    let o = sample(OPENAI);
    multipart(&[Part::File(OPENAI, &o), Part::Field("quarter", "2026Q1")])
}

fn expected_central() -> f64 {
    let p = common::root().join("samples").join(OPENAI);
    common::run(&[p.as_path()], "2026Q1")
        .unwrap()
        .summary
        .totals
        .emissions_kgco2e
        .central
}

#[test]
fn a_hundred_concurrent_uploads_are_all_answered_through_a_queue_of_four() {
    let mut opts = Options::new("127.0.0.1:0".parse().unwrap());
    opts.queue = 4;
    opts.workers = 2;
    opts.retry_after_secs = 1;
    let addr = start(opts);
    let body = std::sync::Arc::new(upload_body());
    let expected = expected_central();
    let clients: Vec<_> = (0..100)
        .map(|i| {
            let body = body.clone();
            std::thread::spawn(move || {
                let mut busy = 0u32;
                loop {
                    let a = http(addr, "POST", "/api/reports", Some(&body));
                    if a.status == 503 {
                        // Honour Retry-After, spread a little so the retries do not march in step.
                        let secs: u64 = a
                            .header("retry-after")
                            .and_then(|s| s.parse().ok())
                            .expect("Retry-After");
                        busy += 1;
                        assert!(busy < 200, "client {i} never got in");
                        std::thread::sleep(Duration::from_millis(secs * 1000 + (i % 10) * 37));
                        continue;
                    }
                    // Download at once, as the page does (the server keeps the latest 50).
                    let wb = (a.status == 200).then(|| {
                        let j: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
                        http(addr, "GET", j["workbook_url"].as_str().unwrap(), None)
                    });
                    return (a, busy, wb);
                }
            })
        })
        .collect();
    let mut refused = 0;
    for c in clients {
        let (a, busy, wb) = c.join().unwrap();
        refused += busy;
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        let j: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        common::assert_close(
            j["totals"]["emissions_kgco2e"]["central"].as_f64().unwrap(),
            expected,
            1e-9,
            "central kgCO2e",
        );
        let wb = wb.unwrap();
        assert_eq!(wb.status, 200);
        common::assert_close(
            common::workbook_tco2e(&wb.body) * 1000.0,
            expected,
            1e-12,
            "workbook E1-6",
        );
    }
    // With 100 clients at once and room for 4, the bound must have turned some away.
    assert!(refused > 0, "the queue never filled");
}

#[test]
fn an_oversize_upload_gets_413_and_the_server_goes_on() {
    let mut opts = Options::new("127.0.0.1:0".parse().unwrap());
    opts.max_upload_bytes = 1 << 20;
    let addr = start(opts);
    // As curl sends a large body: Expect: 100-continue, so the refusal comes before the body.
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST /api/reports HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        5 << 20
    );
    s.write_all(head.as_bytes()).unwrap();
    let a = read_answer(&mut s).unwrap();
    assert_eq!(a.status, 413);
    let a = http(addr, "POST", "/api/reports", Some(&upload_body()));
    assert_eq!(a.status, 200);
}

#[test]
fn slow_loris_uploads_time_out() {
    // A request limited to 2 s whose body may pause 10 s: a body trickled a byte every 200 ms
    // is cut off by the request limit.
    let mut opts = Options::new("127.0.0.1:0".parse().unwrap());
    opts.request_timeout = Duration::from_secs(2);
    opts.body_idle_timeout = Duration::from_secs(10);
    let addr = start(opts);
    let body = upload_body();
    let start_at = Instant::now();
    let a = trickle(addr, &body, Duration::from_millis(200));
    let waited = start_at.elapsed();
    assert_eq!(a.status, 408);
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
    let j: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert!(
        j["error"].as_str().unwrap().contains("longer than 2 s"),
        "{j}"
    );

    // Pauses limited to 1 s: a body that stalls gets 408 ...
    let mut opts = Options::new("127.0.0.1:0".parse().unwrap());
    opts.body_idle_timeout = Duration::from_secs(1);
    let addr = start(opts);
    let a = trickle(addr, &body, Duration::from_millis(1500));
    assert_eq!(a.status, 408);
    let j: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert!(j["error"].as_str().unwrap().contains("stalled"), "{j}");

    // ... and trickled headers lose the connection after the header time limit (1 s).
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"POST /api/reports HTTP/1.1\r\nHo").unwrap();
    let start_at = Instant::now();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(start_at.elapsed() < Duration::from_secs(10));

    // The server still answers.
    assert_eq!(http(addr, "GET", "/", None).status, 200);
}

/// Sends the headers of an upload of `body`, then its bytes one at a time every `pause`, until
/// the server answers.
fn trickle(addr: SocketAddr, body: &[u8], pause: Duration) -> Raw {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
    let head = format!(
        "POST /api/reports HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    for b in body.iter().take(200) {
        let mut peek = [0u8; 1];
        if matches!(s.peek(&mut peek), Ok(n) if n > 0) || s.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(pause);
    }
    read_with_timeout(&mut s)
}

fn read_with_timeout(s: &mut TcpStream) -> Raw {
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    read_answer(s).unwrap()
}

#[test]
fn a_zip_bomb_is_refused_within_512_mib() {
    // The real binary on an ephemeral port: 200 MiB of zeros deflated to about 200 KiB is
    // refused from the zip directory, and the process's peak resident memory (VmHWM) stays
    // under 512 MiB; then an ordinary upload works.
    let dir = tempfile::tempdir().unwrap();
    let (mut child, first) = spawn_serve(dir.path(), "127.0.0.1:0");
    let addr: SocketAddr = first
        .trim()
        .trim_start_matches("llm-scope3 serve: listening on http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {first:?}"));
    let bomb = common::zip_bomb(200);
    let body = multipart(&[
        Part::File("bomb.xlsx", &bomb),
        Part::Field("quarter", "2026Q1"),
    ]);
    let a = http(addr, "POST", "/api/reports", Some(&body));
    let ok = http(addr, "POST", "/api/reports", Some(&upload_body()));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(a.status, 422);
    let j: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert!(
        j["files"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("zip bomb"),
        "{j}"
    );
    assert_eq!(ok.status, 200);
    let hwm_kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .expect("VmHWM in /proc/PID/status");
    assert!(hwm_kib < 512 * 1024, "peak RSS {hwm_kib} KiB");
}

#[test]
fn serve_warns_off_loopback_and_refuses_a_port_in_use() {
    // Bound to every interface (which needs sign-in: a user in the ledger): a warning on
    // standard error, and Host must carry the port.
    let dir = tempfile::tempdir().unwrap();
    common::bin_in(dir.path())
        .args([
            "users",
            "add",
            "ann",
            "--role",
            "admin",
            "--password-stdin",
            "--ledger",
            "l.db",
        ])
        .write_stdin("correct horse battery staple\n")
        .assert()
        .success();
    let (mut child, first) =
        spawn_serve_with(dir.path(), &["--bind", "0.0.0.0:0", "--ledger", "l.db"]);
    let mut warning = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut warning)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.starts_with("llm-scope3 serve: listening on http://0.0.0.0:"),
        "{first}"
    );
    assert!(
        warning.starts_with("warning: ") && warning.contains("not a loopback address"),
        "{warning}"
    );

    // A port another program holds: a usage error naming it, exit 2.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap();
    let a = common::bin_in(dir.path())
        .args(["serve", "--bind", &addr.to_string()])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
}

#[test]
fn the_serve_options_set_the_minimum_upload_rate() {
    // The real binary with --min-upload-rate 32 --upload-grace 1 --rate-window 1: a drip is cut
    // at the first check after 1 s, and the message names 32 KiB/s.
    let dir = tempfile::tempdir().unwrap();
    let (mut child, first) = spawn_serve_with(
        dir.path(),
        &[
            "--bind",
            "127.0.0.1:0",
            "--min-upload-rate",
            "32",
            "--upload-grace",
            "1",
            "--rate-window",
            "1",
        ],
    );
    let addr: SocketAddr = first
        .trim()
        .trim_start_matches("llm-scope3 serve: listening on http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {first:?}"));
    let (a, took) = send_paced(
        addr,
        &upload_body(),
        1,
        Duration::from_millis(100),
        Duration::from_secs(10),
    );
    let _ = child.kill();
    let _ = child.wait();
    let a = a.expect("answered");
    assert_eq!(a.status, 408);
    assert!(
        error_of(&a).contains("minimum of 32 KiB/s"),
        "{}",
        error_of(&a)
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
}

/// Runs the real binary's `serve --bind BIND` in `dir`; returns it (standard error piped) and
/// the first line it printed. The rest of its standard output is read on, so it stays open.
fn spawn_serve(dir: &std::path::Path, bind: &str) -> (std::process::Child, String) {
    spawn_serve_with(dir, &["--bind", bind])
}

/// [`spawn_serve`] with these `serve` arguments.
fn spawn_serve_with(dir: &std::path::Path, args: &[&str]) -> (std::process::Child, String) {
    let bin = assert_cmd::cargo::cargo_bin("llm-scope3");
    let mut child = std::process::Command::new(bin)
        .arg("serve")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (child, first)
}

/// The guard of `web::duplicate_hosts_absolute_targets_and_cross_site_posts_are_refused`, over
/// a real connection, where hyper parses the request line and headers itself.
#[test]
fn a_real_connection_with_two_hosts_or_a_foreign_absolute_target_is_refused() {
    let addr = start(Options::new("127.0.0.1:0".parse().unwrap()));
    let send = |head: String| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        read_with_timeout(&mut s)
    };
    let a = send(format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(a.status, 400);
    let a = send(format!(
        "POST http://evil.example/api/reports HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(a.status, 403);
    let a = send(format!(
        "POST /api/reports HTTP/1.1\r\nHost: {addr}\r\nSec-Fetch-Site: cross-site\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(a.status, 403);
    let a = send(format!(
        "GET http://{addr}/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(a.status, 200);
}

/// Sends the headers of an upload of `body` (its full length declared), then `body` in pieces
/// of `piece` bytes every `pause`, stopping early when the server answers or closes, or after
/// `give_up`. Returns the answer (none when the server said nothing by then) and the time from
/// the first byte sent to the answer.
fn send_paced(
    addr: SocketAddr,
    body: &[u8],
    piece: usize,
    pause: Duration,
    give_up: Duration,
) -> (Option<Raw>, Duration) {
    let start_at = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    let head = format!(
        "POST /api/reports HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    for chunk in body.chunks(piece) {
        let mut peek = [0u8; 1];
        if matches!(s.peek(&mut peek), Ok(n) if n > 0) || s.write_all(chunk).is_err() {
            break;
        }
        if start_at.elapsed() > give_up {
            s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
            return (read_answer(&mut s).ok(), start_at.elapsed());
        }
        std::thread::sleep(pause);
    }
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let a = read_answer(&mut s).ok();
    (a, start_at.elapsed())
}

/// Posts `body` as a script would: on 503 waits the Retry-After and tries again, for at most
/// `give_up`. Returns the last answer and the time from the first try to it.
fn post_retrying(addr: SocketAddr, body: &[u8], give_up: Duration) -> (Raw, Duration, u32) {
    let start_at = Instant::now();
    let mut refused = 0;
    loop {
        let a = http(addr, "POST", "/api/reports", Some(body));
        if a.status != 503 || start_at.elapsed() > give_up {
            return (a, start_at.elapsed(), refused);
        }
        refused += 1;
        let secs: u64 = a
            .header("retry-after")
            .and_then(|s| s.parse().ok())
            .expect("Retry-After");
        std::thread::sleep(Duration::from_secs(secs));
    }
}

fn error_of(a: &Raw) -> String {
    let j: serde_json::Value = serde_json::from_slice(&a.body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&a.body)));
    j["error"].as_str().unwrap_or_default().to_string()
}

#[test]
fn eight_slow_drips_do_not_keep_a_real_upload_out() {
    // Issue #17 item 5: 8 connections sending a byte every 250 ms held all 8 places until the
    // request timeout (10 minutes). Now: at least 64 KiB/s averaged over 2 s once the first
    // 2 s have passed (both made short for the test).
    let mut opts = Options::new("127.0.0.1:0".parse().unwrap());
    opts.queue = 8;
    opts.workers = 2;
    opts.retry_after_secs = 1;
    opts.rate_grace = Duration::from_secs(2);
    opts.rate_window = Duration::from_secs(2);
    let addr = start(opts);
    let body = std::sync::Arc::new(upload_body());
    let drips: Vec<_> = (0..8)
        .map(|_| {
            let body = body.clone();
            std::thread::spawn(move || {
                send_paced(
                    addr,
                    &body,
                    1,
                    Duration::from_millis(250),
                    Duration::from_secs(12),
                )
            })
        })
        .collect();
    // All eight are in before the real upload comes.
    std::thread::sleep(Duration::from_millis(300));
    let (a, waited, refused) = post_retrying(addr, &body, Duration::from_secs(12));
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    // Kept out at most for the grace time (2 s) plus the window (2 s), with 1 s to spare for
    // the Retry-After steps and the build.
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    assert!(refused >= 1, "the drips did fill the queue at first");
    let expected = expected_central();
    let j: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    common::assert_close(
        j["totals"]["emissions_kgco2e"]["central"].as_f64().unwrap(),
        expected,
        1e-9,
        "central kgCO2e",
    );
    for d in drips {
        let (a, took) = d.join().unwrap();
        let a = a.expect("each drip is answered");
        assert_eq!(a.status, 408);
        let e = error_of(&a);
        assert!(e.contains("64 KiB/s"), "{e}");
        // Cut after the grace time, on the first check past it (checks are a tenth of the
        // window apart), or earlier when evicted.
        assert!(
            took < Duration::from_secs(4),
            "a drip held its place {took:?}"
        );
    }
}

#[test]
fn a_drip_gives_its_place_to_a_real_upload_at_once() {
    // One place, held by a drip still in its grace time (10 s): a new upload does not get 503,
    // it takes the place of the drip, which is far below the minimum rate.
    let mut opts = Options::new("127.0.0.1:0".parse().unwrap());
    opts.queue = 1;
    let addr = start(opts);
    let body = upload_body();
    let drip = {
        let body = body.clone();
        std::thread::spawn(move || {
            send_paced(
                addr,
                &body,
                1,
                Duration::from_millis(250),
                Duration::from_secs(15),
            )
        })
    };
    // Past the 2 s an upload is given before it can be judged.
    std::thread::sleep(Duration::from_millis(2500));
    let start_at = Instant::now();
    let a = http(addr, "POST", "/api/reports", Some(&body));
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert!(start_at.elapsed() < Duration::from_secs(5));
    let (d, took) = drip.join().unwrap();
    let d = d.expect("the drip is answered");
    assert_eq!(d.status, 408);
    let e = error_of(&d);
    assert!(e.contains("given to another upload"), "{e}");
    assert!(took < Duration::from_secs(6), "{took:?}");
}

#[test]
fn a_slow_but_steady_upload_is_kept_and_a_slower_one_is_cut() {
    // At least 16 KiB/s over any 1 s after the first 1 s.
    let mut opts = Options::new("127.0.0.1:0".parse().unwrap());
    opts.min_upload_rate = 16 * 1024;
    opts.rate_grace = Duration::from_secs(1);
    opts.rate_window = Duration::from_secs(1);
    let addr = start(opts);
    let body = upload_body();
    // 4 KiB every 100 ms: about 40 KiB/s (less, with the writes' own time), the ~100 KB body in
    // about 2.5 s: well past the grace time and two windows.
    let (a, took) = send_paced(
        addr,
        &body,
        4096,
        Duration::from_millis(100),
        Duration::from_secs(30),
    );
    let a = a.expect("answered");
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert!(took > Duration::from_secs(2), "{took:?}");
    // 1 KiB every 100 ms: at most 10 KiB/s, under 16: cut at the first check after 1 s.
    let (a, took) = send_paced(
        addr,
        &body,
        1024,
        Duration::from_millis(100),
        Duration::from_secs(30),
    );
    let a = a.expect("answered");
    assert_eq!(a.status, 408);
    let e = error_of(&a);
    assert!(e.contains("too slow") && e.contains("16 KiB/s"), "{e}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}
