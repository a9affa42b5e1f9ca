//! The commands' standard output. Lines go through [`line`] (the [`outln!`](crate::outln)
//! macro) instead of `println!`, which panics when the reader has gone: with
//! `llm-scope3 factors list | head -1`, `head` closes the pipe after one line. Then the rest of
//! the output is dropped quietly while the command finishes its work (an import still imports
//! every file) and exits 0, as `head` asked for no more. Any other write error (a full disk
//! under a redirection) is kept and reported by [`finish`], so output is never lost silently.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Set once standard output cannot take more.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// The first write error other than a closed pipe.
static FAILED: Mutex<Option<String>> = Mutex::new(None);

/// Writes `args` and a line end to standard output; after a write error, nothing.
pub fn line(args: std::fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        failed(e);
    }
}

/// Writes `text` as it is (no line end added).
pub fn text(text: &str) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = io::stdout().lock().write_all(text.as_bytes()) {
        failed(e);
    }
}

fn failed(e: io::Error) {
    CLOSED.store(true, Ordering::Relaxed);
    if e.kind() != io::ErrorKind::BrokenPipe {
        let mut first = FAILED.lock().unwrap_or_else(|p| p.into_inner());
        first.get_or_insert_with(|| e.to_string());
    }
}

/// Flushes standard output; the first write error other than a closed pipe, if any.
pub fn finish() -> Result<(), String> {
    if !CLOSED.load(Ordering::Relaxed) {
        if let Err(e) = io::stdout().lock().flush() {
            failed(e);
        }
    }
    match FAILED.lock().unwrap_or_else(|p| p.into_inner()).take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A text from the inputs (a model name, a cost centre, a cell, a reason quoting one) as a
/// terminal line shows it: whole up to [`crate::model::QUOTED_TEXT_CHARS`] characters, else
/// cut there with a marker giving its full length (`gpt-4o-xxx… (40007 characters)`). The
/// report's tables have it whole.
pub fn shown(s: &str) -> std::borrow::Cow<'_, str> {
    crate::model::shortened(s, crate::model::QUOTED_TEXT_CHARS)
}

/// `println!` for the commands' output: see [`line`].
#[macro_export]
macro_rules! outln {
    () => {
        $crate::out::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::out::line(format_args!($($arg)*))
    };
}
