//! Shared harness of the fuzz targets: writes the input to a reused temporary file and runs the
//! real pipeline entry `normalise::normalise_file` on it, ignoring `Ok`/`Err`.
//!
//! The only failures are a panic, an abort, a hang (libFuzzer `-timeout`) and a memory blow-up
//! (`-rss_limit_mb` / `-malloc_limit_mb`). Panics need care, because the spreadsheet reader
//! (`src/ingest/xlsx.rs`) wraps calamine *and the normalise callback* in `catch_unwind` and turns
//! a panic into a file error. libfuzzer-sys' panic hook would abort on every such panic, so the
//! harness installs its own hook that only records the panic, and decides after the call:
//!
//! * a panic that escapes `normalise_file` is a crash (the process would die);
//! * a caught panic raised in llm-scope3's own code (or whose first non-std frame is in it) is a
//!   crash too: it is a bug that `catch_unwind` hides as "the spreadsheet is malformed";
//! * a caught panic raised inside a third-party crate (calamine, zip, quick-xml ...) is what the
//!   `catch_unwind` is there for: printed once per location and ignored, unless
//!   `FUZZ_DEP_PANICS=abort` is set, which makes it a crash as well (to collect them upstream).

use std::cell::RefCell;
use std::collections::HashSet;
use std::io::Write;
use std::panic::{self, PanicHookInfo};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once, OnceLock};

use llm_scope3::model::{Period, Rejection, UsageRecord};
use llm_scope3::normalise::{normalise_file, TemplateSet};

/// One panic seen by the hook during the current input.
struct Seen {
    message: String,
    location: String,
    file: String,
    backtrace: std::backtrace::Backtrace,
}

thread_local! {
    static PANICS: RefCell<Vec<Seen>> = const { RefCell::new(Vec::new()) };
}

fn hook(info: &PanicHookInfo<'_>) {
    let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = info.payload().downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    };
    let (location, file) = match info.location() {
        Some(l) => (
            format!("{}:{}:{}", l.file(), l.line(), l.column()),
            l.file().to_string(),
        ),
        None => ("(unknown location)".to_string(), String::new()),
    };
    // Unresolved capture is cheap; symbols are resolved only if the panic is reported.
    let backtrace = std::backtrace::Backtrace::force_capture();
    PANICS.with(|p| {
        p.borrow_mut().push(Seen {
            message,
            location,
            file,
            backtrace,
        })
    });
}

/// Where a source path belongs.
#[derive(Debug, PartialEq, Eq)]
enum Origin {
    /// The Rust standard library (`/rustc/<hash>/library/...`).
    Std,
    /// A crate from the registry or a git checkout.
    ThirdParty,
    /// Anything else: llm-scope3 itself (or this harness).
    Project,
}

fn origin(file: &str) -> Origin {
    if file.starts_with("/rustc/")
        || file.contains("/library/core/")
        || file.contains("/library/std/")
        || file.contains("/library/alloc/")
    {
        Origin::Std
    } else if file.contains("/registry/src/") || file.contains("/git/checkouts/") {
        Origin::ThirdParty
    } else {
        Origin::Project
    }
}

/// Where a panic comes from: the origin and `file:line` of its location, or, when that is
/// inside std (a panic without `#[track_caller]`, such as a bad `str` slice), of the first
/// backtrace frame outside std and the panic machinery.
fn panic_site(seen: &Seen) -> (Origin, String) {
    match origin(&seen.file) {
        Origin::Std => {
            let text = format!("{}", seen.backtrace);
            for line in text.lines() {
                let line = line.trim();
                if let Some(rest) = line.strip_prefix("at ") {
                    let mut it = rest.split(':');
                    let file = it.next().unwrap_or(rest);
                    let line_no = it.next().unwrap_or("?");
                    // Skip std and this harness' own hook frame.
                    if file.ends_with("fuzz/src/lib.rs") {
                        continue;
                    }
                    match origin(file) {
                        Origin::Std => continue,
                        other => return (other, format!("{file}:{line_no}")),
                    }
                }
            }
            (Origin::Project, seen.location.clone())
        }
        other => {
            let mut it = seen.location.rsplitn(3, ':');
            let _col = it.next();
            let line_no = it.next().unwrap_or("?");
            (other, format!("{}:{line_no}", seen.file))
        }
    }
}

/// Shortens a panic message (some quote the whole input).
fn short(message: &str) -> String {
    const MAX: usize = 400;
    if message.len() <= MAX {
        return message.to_string();
    }
    let mut end = MAX;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &message[..end], message.len())
}

fn report_and_abort(what: &str, panics: &[Seen]) -> ! {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "\n==== llm-scope3 fuzz: {what} ====");
    for (i, s) in panics.iter().enumerate() {
        let (_, site) = panic_site(s);
        let _ = writeln!(
            err,
            "panic #{}: '{}'\n  panicked at: {}\n  site: {}\nbacktrace:\n{}",
            i + 1,
            short(&s.message),
            s.location,
            site,
            s.backtrace
        );
    }
    let _ = err.flush();
    std::process::abort();
}

struct Harness {
    templates: TemplateSet,
    period: Period,
    dir: PathBuf,
    dep_panics_abort: bool,
    verbose: bool,
    skip_huge_sheets: bool,
    ignore: Vec<String>,
    seen_dep_locations: Mutex<HashSet<String>>,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let base = std::env::var_os("FUZZ_TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let shm = Path::new("/dev/shm");
                if shm.is_dir() {
                    shm.to_path_buf()
                } else {
                    std::env::temp_dir()
                }
            });
        // base/llm-scope3-fuzz/<pid>/: folders of processes that are gone (crashed inputs,
        // cargo fuzz tmin) are removed here, so nothing piles up in /dev/shm.
        let shared = base.join("llm-scope3-fuzz");
        if let Ok(entries) = std::fs::read_dir(&shared) {
            for e in entries.flatten() {
                let name = e.file_name();
                let stale = name
                    .to_str()
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
                if stale {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = shared.join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).expect("cannot create the fuzz temp folder");
        Harness {
            templates: TemplateSet::builtin().expect("built-in templates load"),
            period: Period::quarter("2026Q1").expect("valid quarter"),
            dir,
            dep_panics_abort: std::env::var("FUZZ_DEP_PANICS").is_ok_and(|v| v == "abort"),
            verbose: std::env::var_os("FUZZ_VERBOSE").is_some(),
            skip_huge_sheets: std::env::var("FUZZ_SKIP_HUGE_SHEETS").is_ok_and(|v| v == "1"),
            ignore: std::env::var("FUZZ_IGNORE_PANICS")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            seen_dep_locations: Mutex::new(HashSet::new()),
        }
    })
}

/// Runs one input through `normalise_file` as a file with extension `ext` (`csv`, `xlsx`).
pub fn run(ext: &str, data: &[u8]) {
    static HOOK: Once = Once::new();
    // Replaces libfuzzer-sys' aborting hook (installed in LLVMFuzzerInitialize, before the first
    // input); the decision to abort is taken below, once it is known whether the panic escaped.
    HOOK.call_once(|| panic::set_hook(Box::new(hook)));
    let h = harness();

    if h.skip_huge_sheets && ext != "csv" && zipmut::huge_sheet(data) {
        // Known: calamine allocates rows x columns cells for a sheet, so one far cell reference
        // exhausts memory. FUZZ_SKIP_HUGE_SHEETS=1 passes over such inputs to look for others.
        return;
    }

    // One file per process and extension, rewritten for every input (tmpfs: no disk I/O).
    let name = format!("fuzz-input.{ext}");
    let path = h.dir.join(&name);
    std::fs::write(&path, data).expect("cannot write the fuzz input file");

    PANICS.with(|p| p.borrow_mut().clear());
    let result = panic::catch_unwind(|| {
        let mut accepted = 0u64;
        let mut sink = |_r: UsageRecord| accepted += 1;
        let mut rejections: Vec<Rejection> = Vec::new();
        let outcome = normalise_file(
            &path,
            &name,
            0,
            &h.templates,
            &h.period,
            &mut sink,
            &mut rejections,
        );
        if h.verbose {
            match &outcome {
                Ok(r) => eprintln!(
                    "fuzz input: Ok format={} dialect={} counts={:?} accepted={} rejections={}",
                    r.format,
                    r.dialect,
                    r.counts,
                    accepted,
                    rejections.len()
                ),
                Err(e) => eprintln!("fuzz input: Err {e}"),
            }
        }
        std::hint::black_box((accepted, rejections.len(), outcome.is_ok()));
    });
    let panics = PANICS.with(|p| std::mem::take(&mut *p.borrow_mut()));
    for seen in &panics {
        let (origin, site) = panic_site(seen);
        if h.ignore.iter().any(|i| site.ends_with(i.as_str())) {
            // A known bug, listed in FUZZ_IGNORE_PANICS so the run can look for others.
            h.note_once(&site, || {
                format!("ignored known panic at {site}: '{}'", short(&seen.message))
            });
            continue;
        }
        if result.is_err() {
            report_and_abort("panic escaped normalise_file", std::slice::from_ref(seen));
        }
        match origin {
            Origin::ThirdParty if !h.dep_panics_abort => h.note_once(&site, || {
                format!(
                    "third-party panic caught by llm-scope3 (not a crash; FUZZ_DEP_PANICS=abort to stop on it): '{}' at {}",
                    short(&seen.message),
                    seen.location
                )
            }),
            Origin::ThirdParty => report_and_abort(
                "third-party panic (caught by llm-scope3; FUZZ_DEP_PANICS=abort)",
                std::slice::from_ref(seen),
            ),
            _ => report_and_abort(
                "panic in llm-scope3 code, swallowed by a catch_unwind",
                std::slice::from_ref(seen),
            ),
        }
    }
    if result.is_err() && panics.is_empty() {
        report_and_abort("normalise_file unwound without a panic hook call", &[]);
    }
}

impl Harness {
    /// Prints a note the first time a site is seen in this process.
    fn note_once(&self, site: &str, text: impl FnOnce() -> String) {
        let mut known = self.seen_dep_locations.lock().unwrap();
        if known.insert(site.to_string()) {
            eprintln!("note: {}", text());
        }
    }
}

/// Structure-aware mutation of xlsx inputs (the `xlsx_reader` target's custom mutator).
///
/// Mutating the bytes of a zip mostly breaks its deflate streams and CRCs, so the XML parts that
/// calamine parses would hardly ever be reached. This mutator unpacks the zip, lets libFuzzer
/// mutate the content of one part (mostly a worksheet, the shared strings or the workbook), and
/// packs it again with valid sizes and CRCs. One mutation in eight is a plain byte mutation of
/// the whole file, a few drop or rename a part, so the zip and OPC layers stay fuzzed too, and
/// one in eight rewrites a cell or dimension reference to an edge of the grid or beyond.
pub mod zipmut {
    use std::io::{Cursor, Read, Write};

    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipArchive, ZipWriter};

    /// Parts are read up to this size when unpacking (a mutated size field must not blow up
    /// the mutator itself).
    const MAX_PART: u64 = 4 << 20;

    /// Part names an entry may be renamed to (what calamine looks up).
    const PART_NAMES: &[&str] = &[
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/worksheets/sheet1.xml",
        "xl/worksheets/sheet2.xml",
        "xl/sharedStrings.xml",
        "xl/styles.xml",
        "xl/worksheets/_rels/sheet1.xml.rels",
        "xl/tables/table1.xml",
        "xl/metadata.xml",
        "docProps/app.xml",
    ];

    struct Rng(u64);

    impl Rng {
        fn new(seed: u32) -> Rng {
            Rng(u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    struct Part {
        name: String,
        method: CompressionMethod,
        data: Vec<u8>,
    }

    fn unpack(bytes: &[u8]) -> Option<Vec<Part>> {
        let mut archive = ZipArchive::new(Cursor::new(bytes)).ok()?;
        let mut parts = Vec::with_capacity(archive.len());
        for i in 0..archive.len() {
            let file = archive.by_index(i).ok()?;
            let name = String::from_utf8_lossy(file.name_raw()).into_owned();
            let method = match file.compression() {
                CompressionMethod::Stored => CompressionMethod::Stored,
                _ => CompressionMethod::Deflated,
            };
            let mut data = Vec::new();
            file.take(MAX_PART).read_to_end(&mut data).ok()?;
            parts.push(Part { name, method, data });
        }
        Some(parts)
    }

    fn pack(parts: &[Part]) -> Option<Vec<u8>> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for p in parts {
            let level = if p.method == CompressionMethod::Deflated {
                Some(1)
            } else {
                None
            };
            let options = SimpleFileOptions::default()
                .compression_method(p.method)
                .compression_level(level);
            w.start_file(p.name.as_str(), options).ok()?;
            w.write_all(&p.data).ok()?;
        }
        Some(w.finish().ok()?.into_inner())
    }

    /// True for the parts whose content matters most to the reader.
    fn interesting(name: &str) -> bool {
        name.ends_with(".xml")
            && (name.contains("worksheets/")
                || name.contains("sharedStrings")
                || name.ends_with("workbook.xml")
                || name.ends_with("styles.xml"))
    }

    /// References a cell or dimension may be rewritten to (edges of the grid and beyond).
    const REFS: &[&str] = &[
        "A1",
        "XFD1",
        "A1048576",
        "XFD1048576",
        "XFE1",
        "A1048577",
        "ZZ100000",
        "A4294967295",
        "A4294967296",
        "AAAAAAAAAAAAA1",
        "a1",
        "A0",
        "1",
        "A",
        "",
        "A1:XFD1048576",
        "B2:A1",
    ];

    /// Replaces the value of one `r="..."` or `ref="..."` attribute; false if there is none.
    fn rewrite_ref(xml: &mut Vec<u8>, rng: &mut Rng) -> bool {
        let needle: &[u8] = if rng.below(4) == 0 {
            b" ref=\""
        } else {
            b" r=\""
        };
        let starts: Vec<usize> = xml
            .windows(needle.len())
            .enumerate()
            .filter(|(_, w)| *w == needle)
            .map(|(i, _)| i + needle.len())
            .collect();
        if starts.is_empty() {
            return false;
        }
        let start = starts[rng.below(starts.len())];
        let Some(len) = xml[start..].iter().position(|&b| b == b'"') else {
            return false;
        };
        let new = REFS[rng.below(REFS.len())].as_bytes();
        xml.splice(start..start + len, new.iter().copied());
        true
    }

    /// The row and column (1-based) of a reference such as `AB12`, `AB` or `12`, saturating.
    fn parse_ref(r: &[u8]) -> (u64, u64) {
        let (mut col, mut row) = (0u64, 0u64);
        for &b in r {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' => {
                    let v = u64::from(b.to_ascii_uppercase() - b'A') + 1;
                    col = col.saturating_mul(26).saturating_add(v);
                }
                b'0'..=b'9' => row = row.saturating_mul(10).saturating_add(u64::from(b - b'0')),
                _ => {}
            }
        }
        (row, col)
    }

    /// True when a part of the zip references cells that would make calamine's dense sheet
    /// range exceed 2^24 cells (512 MiB), or lie outside Excel's grid.
    pub fn huge_sheet(bytes: &[u8]) -> bool {
        let Some(parts) = unpack(bytes) else {
            return false;
        };
        for part in &parts {
            let xml = &part.data;
            let (mut rows, mut cols) = ((u64::MAX, 0u64), (u64::MAX, 0u64));
            for needle in [&b" r=\""[..], &b" ref=\""[..]] {
                let mut at = 0;
                while let Some(pos) = xml[at..].windows(needle.len()).position(|w| w == needle) {
                    let start = at + pos + needle.len();
                    let end = xml[start..]
                        .iter()
                        .position(|&b| b == b'"')
                        .map_or(xml.len(), |e| start + e);
                    for r in xml[start..end].split(|&b| b == b':') {
                        let (row, col) = parse_ref(r);
                        if row > 1_048_576 || col > 16_384 {
                            return true;
                        }
                        if row > 0 {
                            rows = (rows.0.min(row), rows.1.max(row));
                        }
                        if col > 0 {
                            cols = (cols.0.min(col), cols.1.max(col));
                        }
                    }
                    at = end;
                }
            }
            let height = rows.1.saturating_sub(rows.0.min(rows.1)) + 1;
            let width = cols.1.saturating_sub(cols.0.min(cols.1)) + 1;
            if height.saturating_mul(width) > 1 << 24 {
                return true;
            }
        }
        false
    }

    /// libFuzzer's own mutation of `data[..size]`, growing up to `max_size`.
    fn bytes(data: &mut [u8], size: usize, max_size: usize) -> usize {
        let cap = data.len();
        libfuzzer_sys::fuzzer_mutate(data, size.min(cap), max_size.min(cap))
    }

    /// The custom mutator: returns the new size of `data` (at most `max_size`).
    pub fn mutate(data: &mut [u8], size: usize, max_size: usize, seed: u32) -> usize {
        let mut rng = Rng::new(seed);
        let choice = rng.below(16);
        if choice < 2 {
            return bytes(data, size, max_size);
        }
        let Some(mut parts) = unpack(&data[..size]) else {
            return bytes(data, size, max_size);
        };
        if parts.is_empty() {
            return bytes(data, size, max_size);
        }
        match choice {
            2 if parts.len() > 1 => {
                let i = rng.below(parts.len());
                parts.remove(i);
            }
            3 => {
                let i = rng.below(parts.len());
                let name = PART_NAMES[rng.below(PART_NAMES.len())].to_string();
                if parts.iter().any(|p| p.name == name) {
                    // Swap the contents of two parts instead of making a duplicate name.
                    let j = parts.iter().position(|p| p.name == name).unwrap();
                    let a = std::mem::take(&mut parts[i].data);
                    let b = std::mem::replace(&mut parts[j].data, a);
                    parts[i].data = b;
                } else {
                    parts[i].name = name;
                }
            }
            4 | 5 => {
                // Rewrite one cell or dimension reference of a worksheet: far cells, huge rows,
                // overlong column letters, lower case, missing parts.
                let sheets: Vec<usize> = (0..parts.len())
                    .filter(|&i| parts[i].name.contains("worksheets/"))
                    .collect();
                if sheets.is_empty() {
                    return bytes(data, size, max_size);
                }
                let i = sheets[rng.below(sheets.len())];
                if !rewrite_ref(&mut parts[i].data, &mut rng) {
                    return bytes(data, size, max_size);
                }
            }
            _ => {
                let candidates: Vec<usize> = (0..parts.len())
                    .filter(|&i| interesting(&parts[i].name))
                    .collect();
                let i = if !candidates.is_empty() && rng.below(4) != 0 {
                    candidates[rng.below(candidates.len())]
                } else {
                    rng.below(parts.len())
                };
                let rounds = 1 + rng.below(3);
                let part = &mut parts[i].data;
                for _ in 0..rounds {
                    let len = part.len();
                    let room = len + 64 + len / 8;
                    part.resize(room, 0);
                    let n = libfuzzer_sys::fuzzer_mutate(part, len, room);
                    part.truncate(n);
                }
            }
        }
        match pack(&parts) {
            Some(out) if out.len() <= max_size && out.len() <= data.len() => {
                data[..out.len()].copy_from_slice(&out);
                out.len()
            }
            _ => bytes(data, size, max_size),
        }
    }
}

/// Every sheet and row (number and cells) a reader hands out for `path`, and how it ended.
fn transcript(path: &Path, fast: bool) -> (Vec<String>, Result<String, String>) {
    use llm_scope3::ingest::{read_rows, xlsx, CellRef, Flow, RowEvent};
    let mut out = vec![];
    let mut on_event = |e: RowEvent<'_>| {
        match e {
            RowEvent::Sheet { name, .. } => out.push(format!("sheet {name:?}")),
            RowEvent::Row(n, cells) => {
                let row: Vec<CellRef<'_>> = (0..cells.len()).map(|i| cells.cell(i)).collect();
                out.push(format!("{n}: {row:?}"));
            }
            // Only CSV batches are premapped.
            RowEvent::Premapped(_) => out.push("premapped".into()),
        }
        Ok(Flow::Continue)
    };
    let name = "fuzz-input.xlsx";
    let result = if fast {
        read_rows(path, name, &mut on_event)
    } else {
        xlsx::read_with_calamine(path, name, &mut on_event)
    };
    (out, result.map(|i| i.dialect).map_err(|e| e.to_string()))
}

/// The xlsx target's second check: the fast sheet scanner (`src/ingest/sheetxml.rs`) hands out
/// exactly the sheets, rows and cells calamine's cell reader does, wherever calamine reads the
/// input without error, and its thread never panics. Call after [`run`] (same input file).
pub fn differential_xlsx(data: &[u8]) {
    let h = harness();
    if h.skip_huge_sheets && zipmut::huge_sheet(data) {
        return;
    }
    let path = h.dir.join("fuzz-input.xlsx");
    let panics_before = llm_scope3::ingest::xlsx::scanner_panics();
    let reference = transcript(&path, false);
    let fast = transcript(&path, true);
    let scanner_panicked = llm_scope3::ingest::xlsx::scanner_panics() != panics_before;
    PANICS.with(|p| p.borrow_mut().clear());
    let differs = reference.1.is_ok() && fast != reference;
    if differs || scanner_panicked {
        let mut err = std::io::stderr().lock();
        let what = if scanner_panicked {
            "the xlsx scanner's thread panicked"
        } else {
            "the xlsx scanner and calamine disagree"
        };
        let _ = writeln!(err, "\n==== llm-scope3 fuzz: {what} ====");
        let _ = writeln!(err, "calamine: {:?}\nscanner:  {:?}", reference.1, fast.1);
        for (i, (a, b)) in reference.0.iter().zip(fast.0.iter()).enumerate() {
            if a != b {
                let _ = writeln!(err, "first difference at event {i}:\n  calamine: {a}\n  scanner:  {b}");
                break;
            }
        }
        let _ = writeln!(
            err,
            "events: calamine {}, scanner {}",
            reference.0.len(),
            fast.0.len()
        );
        let _ = err.flush();
        std::process::abort();
    }
}
