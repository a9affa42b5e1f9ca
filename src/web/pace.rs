//! The pace of an upload: the bytes it has delivered since admission, the rule it must keep
//! (a minimum average rate over a sliding window once a grace time has passed, and a cap on
//! the whole upload), and the watch that answers 408 when it breaks the rule or gives its place
//! to another upload (`mod.rs`, [`super::AppState::admit`]).
//!
//! Without it, a client sending a byte every few seconds kept its place in the queue until the
//! request timeout (10 minutes), and eight of them kept every real upload out (issue #17).

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use tokio::sync::Notify;

use super::{ApiError, Options};

/// Bytes an upload has delivered, and samples of them over time for the windowed rate.
pub(crate) struct Meter {
    start: Instant,
    bytes: AtomicU64,
    /// (when, bytes by then), oldest first: the latest sample at or before the window's start,
    /// then every later one.
    samples: Mutex<VecDeque<(Instant, u64)>>,
}

impl Meter {
    /// A meter starting now with nothing received.
    pub(crate) fn new(start: Instant) -> Meter {
        Meter {
            start,
            bytes: AtomicU64::new(0),
            samples: Mutex::new(VecDeque::from([(start, 0)])),
        }
    }

    /// Counts `n` bytes received.
    pub(crate) fn add(&self, n: usize) {
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Time since admission.
    pub(crate) fn elapsed(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.start)
    }

    /// Records the bytes received by `now`, forgetting samples older than needed for a window
    /// of `window`.
    fn sample(&self, now: Instant, window: Duration) {
        let bytes = self.bytes.load(Ordering::Relaxed);
        let mut s = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        s.push_back((now, bytes));
        if let Some(from) = now.checked_sub(window) {
            while s.len() >= 2 && s[1].0 <= from {
                s.pop_front();
            }
        }
    }

    /// Bytes per second over the last `window` (since admission, when that is shorter): from the
    /// latest sample at or before the window's start to `now`, so the span is at least the
    /// window (a little more, by less than the sampling step) and never judges a shorter one.
    pub(crate) fn rate(&self, now: Instant, window: Duration) -> f64 {
        self.sample(now, window);
        let bytes = self.bytes.load(Ordering::Relaxed);
        let s = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        let (then, at_then) = s.front().copied().unwrap_or((self.start, 0));
        let span = now.saturating_duration_since(then).as_secs_f64();
        if span <= 0.0 {
            return f64::INFINITY;
        }
        bytes.saturating_sub(at_then) as f64 / span
    }
}

/// The longest the upload phase may last: the grace time plus the largest upload at the
/// minimum rate (with the defaults 10 s + 200 MiB / 64 KiB/s = 3210 s, so the request timeout,
/// 600 s, is what bounds it); none without a minimum rate.
pub(crate) fn upload_cap(opts: &Options) -> Option<Duration> {
    (opts.min_upload_rate > 0).then(|| {
        opts.rate_grace
            + Duration::from_secs((opts.max_upload_bytes as u64).div_ceil(opts.min_upload_rate))
    })
}

/// How long an upload is left alone before it can lose its place to a new one: the grace time,
/// at most 2 s. Even a drip has no rate worth judging in its first instant.
pub(crate) fn probation(opts: &Options) -> Duration {
    opts.rate_grace.min(Duration::from_secs(2))
}

/// The watch's sampling step: a tenth of the window, between 10 ms and 1 s.
fn step(opts: &Options) -> Duration {
    (opts.rate_window / 10).clamp(Duration::from_millis(10), Duration::from_secs(1))
}

fn kib(bytes_per_s: f64) -> String {
    let k = bytes_per_s / 1024.0;
    if k >= 10.0 || k == k.trunc() {
        format!("{k:.0}")
    } else {
        format!("{k:.1}")
    }
}

/// 408 when the upload broke the rule by `now`, else none.
pub(crate) fn verdict(meter: &Meter, now: Instant, opts: &Options) -> Option<ApiError> {
    let t = meter.elapsed(now);
    if let Some(cap) = upload_cap(opts) {
        if t >= cap {
            return Some(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the upload took longer than {} s (the largest upload at the minimum rate of {} KiB/s); upload fewer or smaller files at once",
                    cap.as_secs(),
                    kib(opts.min_upload_rate as f64)
                ),
            ));
        }
    }
    if opts.min_upload_rate == 0 || t < opts.rate_grace {
        return None;
    }
    let rate = meter.rate(now, opts.rate_window);
    (rate < opts.min_upload_rate as f64).then(|| {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the upload is too slow: {} KiB/s over the last {} s, under this server's minimum of {} KiB/s; upload from a faster connection, or fewer files at once",
                kib(rate),
                secs(opts.rate_window),
                kib(opts.min_upload_rate as f64)
            ),
        )
    })
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s == s.trunc() {
        format!("{s:.0}")
    } else {
        format!("{s:.1}")
    }
}

/// The answer of an upload that gave its place to another.
pub(crate) fn evicted(opts: &Options) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the upload was too slow (under half this server's minimum of {} KiB/s) while others waited, and its place was given to another upload; upload from a faster connection, or fewer files at once",
            kib(opts.min_upload_rate as f64)
        ),
    )
}

/// True when an upload may be made to give its place to a new one: past its probation and
/// under half the minimum rate over the window. Half, so that an upload near the minimum, or
/// one the server itself was slow to read, is not thrown out for a newcomer; a drip is far
/// under it.
pub(crate) fn evictable(meter: &Meter, now: Instant, opts: &Options) -> Option<f64> {
    if opts.min_upload_rate == 0 || meter.elapsed(now) < probation(opts) {
        return None;
    }
    let rate = meter.rate(now, opts.rate_window);
    (rate < opts.min_upload_rate as f64 / 2.0).then_some(rate)
}

/// Runs `read` (the upload phase), sampling `meter` every step: answers 408 as soon as the
/// upload breaks the rule, or is told (`evict`) that it gave its place to another upload.
pub(crate) async fn watch<T>(
    read: impl Future<Output = Result<T, ApiError>>,
    meter: &Meter,
    evict: &Notify,
    opts: &Options,
) -> Result<T, ApiError> {
    tokio::pin!(read);
    let mut tick = tokio::time::interval(step(opts));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            r = &mut read => return r,
            _ = evict.notified() => return Err(evicted(opts)),
            _ = tick.tick() => {
                if let Some(e) = verdict(meter, Instant::now(), opts) {
                    return Err(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        let mut o = Options::new("127.0.0.1:8080".parse().unwrap());
        o.min_upload_rate = 64 * 1024;
        o.rate_grace = Duration::from_secs(10);
        o.rate_window = Duration::from_secs(30);
        o
    }

    #[test]
    fn the_rate_is_averaged_over_the_window_after_the_grace_time() {
        let o = opts();
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let m = Meter::new(t0);
        // 1 MiB in each of the first 20 s (1024 KiB/s), sampled each second.
        for s in 1..=20 {
            m.add(1 << 20);
            m.sample(at(s), o.rate_window);
        }
        // At 5 s: within the grace time, whatever the rate.
        assert!(verdict(&m, at(5), &o).is_none());
        // At 20 s: 20 MiB / 20 s (since admission, shorter than the window) = 1024 KiB/s.
        assert!((m.rate(at(20), o.rate_window) - 1024.0 * 1024.0).abs() < 1e-6);
        // Then nothing for 25 s. At 45 s the window [15, 45] holds 5 MiB (the 16th to 20th
        // second's): 5 MiB / 30 s = 170.7 KiB/s, above 64.
        let r = m.rate(at(45), o.rate_window);
        assert!((r - 5.0 * 1024.0 * 1024.0 / 30.0).abs() < 1e-6, "{r}");
        assert!(verdict(&m, at(45), &o).is_none());
        // At 49 s, [19, 49] holds 1 MiB: 34.1 KiB/s, under 64: cut.
        let e = verdict(&m, at(49), &o).expect("too slow");
        assert_eq!(e.status, StatusCode::REQUEST_TIMEOUT);
        assert!(e.message.contains("34 KiB/s"), "{}", e.message);
        assert!(e.message.contains("minimum of 64 KiB/s"), "{}", e.message);
    }

    #[test]
    fn a_legitimate_slow_link_passes_and_a_drip_is_cut() {
        let o = opts();
        let t0 = Instant::now();
        // 200 MiB over a 1 MB/s line: 1,000,000 B/s = 976.6 KiB/s, every window passes, and the
        // upload takes 209.7 s, under the cap (10 s + 200 MiB / 64 KiB/s = 10 + 3200 s).
        let m = Meter::new(t0);
        for s in 1..=210u64 {
            m.add(1_000_000);
            assert!(
                verdict(&m, t0 + Duration::from_secs(s), &o).is_none(),
                "{s}"
            );
        }
        assert_eq!(upload_cap(&o), Some(Duration::from_secs(3210)));
        // A byte every 5 s: cut at the grace time, 10 s.
        let d = Meter::new(t0);
        d.add(1);
        assert!(verdict(&d, t0 + Duration::from_secs(9), &o).is_none());
        d.add(1);
        assert!(verdict(&d, t0 + Duration::from_secs(10), &o).is_some());
        // It can be evicted after 2 s: 1 B / 2 s is under 32 KiB/s.
        let e = Meter::new(t0);
        e.add(1);
        assert!(evictable(&e, t0 + Duration::from_secs(1), &o).is_none());
        assert!(evictable(&e, t0 + Duration::from_secs(2), &o).is_some());
        // A real upload at 1 MB/s never is.
        assert!(evictable(&m, t0 + Duration::from_secs(210), &o).is_none());
        // No minimum: no rule and no cap.
        let mut none = o.clone();
        none.min_upload_rate = 0;
        assert!(verdict(&d, t0 + Duration::from_secs(1000), &none).is_none());
        assert!(upload_cap(&none).is_none());
    }
}
