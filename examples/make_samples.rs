//! Writes the bundled sample exports in samples/ (deterministic: same bytes every run).
//!
//! `cargo run --example make_samples` regenerates them. They imitate what the vendor portals
//! hand out (FORMATS.md), including what real files contain: days without usage, a few bad
//! rows, a total row, a title above the header.

use std::fmt::Write as _;

use rust_xlsxwriter::{ExcelDateTime, Workbook};

/// A small deterministic generator (64-bit LCG), so the samples never change by accident.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

const DAY: i64 = 86_400;
const JAN_1_2026: i64 = 1_767_225_600;

fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
        .unwrap_or_default()
}

fn openai() -> String {
    let header = "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,api_key_id,model,batch,service_tier,input_tokens,output_tokens,input_cached_tokens,input_uncached_tokens,input_text_tokens,output_text_tokens,input_cached_text_tokens,input_audio_tokens,input_cached_audio_tokens,output_audio_tokens,input_image_tokens,input_cached_image_tokens,output_image_tokens";
    let mut out = String::new();
    out.push_str(header);
    out.push('\n');
    let mut rng = Rng(2026);
    // (project, model, requests range, input per request, output per request, cached share %)
    type Mix = (&'static str, &'static str, (u64, u64), u64, u64, u64);
    let mix: &[Mix] = &[
        (
            "proj_support_bot",
            "gpt-4o-2024-08-06",
            (300, 900),
            1800,
            350,
            40,
        ),
        (
            "proj_support_bot",
            "gpt-4o-mini-2024-07-18",
            (1500, 4000),
            900,
            200,
            20,
        ),
        (
            "proj_search",
            "text-embedding-3-small",
            (2000, 6000),
            400,
            0,
            0,
        ),
        (
            "proj_analytics",
            "gpt-4.1-2025-04-14",
            (50, 200),
            6000,
            900,
            10,
        ),
        (
            "proj_analytics",
            "o4-mini-2025-04-16",
            (20, 120),
            3000,
            2500,
            0,
        ),
        ("proj_labs", "gpt-5.1-2025-11-13", (10, 60), 2500, 1200, 30),
    ];
    let (mut tin, mut tout, mut treq) = (0u64, 0u64, 0u64);
    for day in 0..90 {
        let start = JAN_1_2026 + day * DAY;
        let end = start + DAY;
        // Sundays of the first month: no usage (OpenAI writes the bucket with times only).
        if day % 7 == 3 && day < 31 {
            let _ = writeln!(
                out,
                "{start},{end},{},{},,,,,,,,,,,,,,,,,,,,",
                iso(start),
                iso(end)
            );
            continue;
        }
        for (i, (project, model, req, inp, outp, cached_pct)) in mix.iter().enumerate() {
            // The labs project only starts in February.
            if *project == "proj_labs" && day < 31 {
                continue;
            }
            if (day + i as i64) % 11 == 0 {
                continue;
            }
            let requests = rng.range(req.0, req.1);
            let input = requests * (*inp * rng.range(80, 120) / 100);
            let output = requests * (*outp * rng.range(80, 120) / 100);
            let cached = input * cached_pct / 100 / 128 * 128;
            let key = format!("key_{}", &project[5..]);
            treq += requests;
            tin += input;
            tout += output;
            let _ = writeln!(
                out,
                "{start},{end},{},{},{project},{requests}.0,,{key},{model},False,default,{input}.0,{output}.0,{cached}.0,{}.0,{}.0,{output}.0,{cached}.0,0.0,0.0,0.0,0.0,0.0,0.0",
                iso(start),
                iso(end),
                input - cached,
                input - cached,
            );
        }
    }
    // Rows a real finance file ends up with: a typo, a negative correction, a row without a
    // model, a broken date, an unknown model (estimated by class), and the total row.
    let t = JAN_1_2026 + 40 * DAY;
    let _ = writeln!(out, "{t},{},{},{},proj_support_bot,12.0,,key_support_bot,gpt-4o-2024-08-06,False,default,n/a,300.0,0.0,,,,,,,,,,", t + DAY, iso(t), iso(t + DAY));
    let _ = writeln!(out, "{t},{},{},{},proj_analytics,3.0,,key_analytics,gpt-4.1-2025-04-14,False,default,-1500.0,200.0,0.0,,,,,,,,,,", t + DAY, iso(t), iso(t + DAY));
    let _ = writeln!(
        out,
        "{t},{},{},{},proj_search,40.0,,key_search,,False,default,16000.0,0.0,0.0,,,,,,,,,,",
        t + DAY,
        iso(t),
        iso(t + DAY)
    );
    let _ = writeln!(out, "2026-02-30,,,,proj_labs,5.0,,key_labs,gpt-5.1-2025-11-13,False,default,9000.0,4000.0,0.0,,,,,,,,,,");
    let t2 = JAN_1_2026 + 70 * DAY;
    let (r, i, o) = (25u64, 60_000u64, 9_000u64);
    treq += r;
    tin += i;
    tout += o;
    let _ = writeln!(out, "{t2},{},{},{},proj_labs,{r}.0,,key_labs,acme-internal-preview,False,default,{i}.0,{o}.0,0.0,{i}.0,{i}.0,{o}.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0", t2 + DAY, iso(t2), iso(t2 + DAY));
    let _ = writeln!(out, "Total,,,,,{treq}.0,,,,,,{tin}.0,{tout}.0,,,,,,,,,,,");
    out
}

fn anthropic() -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    let props = rust_xlsxwriter::DocProperties::new()
        .set_creation_datetime(&ExcelDateTime::from_ymd(2026, 4, 2)?);
    wb.set_properties(&props);
    let ws = wb.add_worksheet();
    ws.set_name("claude_api_tokens")?;
    ws.write_string(
        0,
        0,
        "Claude API token usage — Acme Europe GmbH — 2026-01-01 to 2026-03-31",
    )?;
    let header = [
        "usage_date_utc",
        "model_version",
        "api_key",
        "workspace",
        "usage_type",
        "context_window",
        "usage_input_tokens_no_cache",
        "usage_input_tokens_cache_write_5m",
        "usage_input_tokens_cache_write_1h",
        "usage_input_tokens_cache_read",
        "usage_output_tokens",
        "web_search_count",
        "inference_geo",
        "speed",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(2, c as u16, *h)?;
    }
    let mut rng = Rng(4242);
    // (model, api key, workspace, geo, no_cache, write, read, output) daily ranges.
    type Range = (u64, u64);
    type Mix = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Range,
        Range,
        Range,
        Range,
    );
    let mix: &[Mix] = &[
        (
            "claude-sonnet-4-5-20250929",
            "claude_code_key_dev_a1b2",
            "Claude Code",
            "not_available",
            (400_000, 900_000),
            (50_000, 120_000),
            (2_000_000, 5_000_000),
            (150_000, 400_000),
        ),
        (
            "claude-haiku-4-5-20251001",
            "support-prod",
            "Support",
            "us",
            (800_000, 1_500_000),
            (0, 20_000),
            (100_000, 300_000),
            (90_000, 200_000),
        ),
        (
            "claude-opus-4-1-20250805",
            "research",
            "Default",
            "global",
            (20_000, 80_000),
            (0, 5_000),
            (0, 40_000),
            (10_000, 40_000),
        ),
    ];
    let mut row = 3u32;
    let mut sums = [0u64; 5];
    let base = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    for day in 0..90u64 {
        let date = base + chrono::Duration::days(day as i64);
        for (i, m) in mix.iter().enumerate() {
            if (day + i as u64) % 6 == 0 && i == 2 {
                continue;
            }
            let v = [
                rng.range(m.4 .0, m.4 .1),
                rng.range(m.5 .0, m.5 .1),
                0,
                rng.range(m.6 .0, m.6 .1),
                rng.range(m.7 .0, m.7 .1),
            ];
            ws.write_string(row, 0, date.format("%Y-%m-%d").to_string())?;
            ws.write_string(row, 1, m.0)?;
            ws.write_string(row, 2, m.1)?;
            ws.write_string(row, 3, m.2)?;
            ws.write_string(row, 4, "standard")?;
            ws.write_string(row, 5, "≤ 200k")?;
            for (k, x) in v.iter().enumerate() {
                ws.write_number(row, 6 + k as u16, *x as f64)?;
                sums[k] += x;
            }
            ws.write_number(row, 11, 0.0)?;
            ws.write_string(row, 12, m.3)?;
            row += 1;
        }
    }
    // Bad rows: text in a number column, a date nobody can read, a negative correction.
    let bad: [(&str, &str, &str); 3] = [
        ("2026-02-14", "claude-sonnet-4-5-20250929", "—"),
        ("14th Feb", "claude-haiku-4-5-20251001", "1200"),
        ("2026-03-02", "claude-haiku-4-5-20251001", "-5000"),
    ];
    for (d, model, tokens) in bad {
        ws.write_string(row, 0, d)?;
        ws.write_string(row, 1, model)?;
        ws.write_string(row, 2, "support-prod")?;
        ws.write_string(row, 3, "Support")?;
        ws.write_string(row, 4, "standard")?;
        ws.write_string(row, 5, "≤ 200k")?;
        match tokens.parse::<f64>() {
            Ok(n) => ws.write_number(row, 6, n)?,
            Err(_) => ws.write_string(row, 6, tokens)?,
        };
        ws.write_number(row, 10, 100.0)?;
        ws.write_string(row, 12, "us")?;
        row += 1;
    }
    row += 1; // a blank row before the total, as exports pasted into Excel often have
    ws.write_string(row, 0, "Total")?;
    for (k, x) in sums.iter().enumerate() {
        ws.write_number(row, 6 + k as u16, *x as f64)?;
    }
    wb.save_to_buffer()
}

/// A usage workbook as finance teams pass it around: a summary sheet and a notes sheet before
/// the sheet that holds the usage, a title row, real Excel dates, a date-time, a date typed as
/// a serial number, and a number stored as text.
fn messy_workbook() -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::Format;
    let mut wb = Workbook::new();
    let props = rust_xlsxwriter::DocProperties::new()
        .set_creation_datetime(&ExcelDateTime::from_ymd(2026, 4, 2)?);
    wb.set_properties(&props);
    let summary = wb.add_worksheet();
    summary.set_name("Summary")?;
    summary.write_string(0, 0, "Model")?;
    summary.write_string(0, 1, "Tokens")?;
    summary.write_string(1, 0, "claude-sonnet-4-5")?;
    summary.write_number(1, 1, 3500.0)?;
    let notes = wb.add_worksheet();
    notes.set_name("Notes")?;
    notes.write_string(
        0,
        0,
        "Downloaded from the Claude Console by finance, April 2026.",
    )?;
    let ws = wb.add_worksheet();
    ws.set_name("Usage")?;
    ws.write_string(0, 0, "Claude API usage, Q1 2026")?;
    let header = [
        "usage_date_utc",
        "model_version",
        "api_key",
        "workspace",
        "usage_type",
        "usage_input_tokens_no_cache",
        "usage_input_tokens_cache_write_5m",
        "usage_input_tokens_cache_write_1h",
        "usage_input_tokens_cache_read",
        "usage_output_tokens",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(1, c as u16, *h)?;
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let row = |ws: &mut rust_xlsxwriter::Worksheet,
               r: u32,
               no_cache: f64,
               out: f64|
     -> Result<(), rust_xlsxwriter::XlsxError> {
        ws.write_string(r, 1, "claude-sonnet-4-5-20250929")?;
        ws.write_string(r, 2, "prod")?;
        ws.write_string(r, 3, "Default")?;
        ws.write_string(r, 4, "standard")?;
        ws.write_number(r, 5, no_cache)?;
        ws.write_number(r, 6, 0.0)?;
        ws.write_number(r, 7, 0.0)?;
        ws.write_number(r, 8, 0.0)?;
        ws.write_number(r, 9, out)?;
        Ok(())
    };
    // Row 3: a real date cell. Row 4: a date-time cell. Row 5: a serial number (46037 =
    // 2026-01-15) in a General cell. Row 6: a number stored as text.
    ws.write_datetime_with_format(2, 0, &ExcelDateTime::from_ymd(2026, 1, 5)?, &date)?;
    row(ws, 2, 1000.0, 100.0)?;
    ws.write_datetime_with_format(
        3,
        0,
        &ExcelDateTime::parse_from_str("2026-02-10 14:00:00")?,
        &datetime,
    )?;
    row(ws, 3, 2000.0, 200.0)?;
    ws.write_number(4, 0, 46037.0)?;
    row(ws, 4, 500.0, 50.0)?;
    ws.write_datetime_with_format(5, 0, &ExcelDateTime::from_ymd(2026, 3, 31)?, &date)?;
    row(ws, 5, 0.0, 0.0)?;
    ws.write_string(5, 5, "1,234")?;
    wb.save_to_buffer()
}

/// Converts a vendor CSV sample to the XLSX a user gets by opening it in Excel and saving:
/// numbers become numbers, `MM/DD/YYYY` dates become date cells, the rest stays text.
fn csv_to_xlsx(src: &str, dst: &str, sheet: &str) -> Result<(), Box<dyn std::error::Error>> {
    use rust_xlsxwriter::Format;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(src)?;
    let mut wb = Workbook::new();
    let props = rust_xlsxwriter::DocProperties::new()
        .set_creation_datetime(&ExcelDateTime::from_ymd(2026, 4, 2)?);
    wb.set_properties(&props);
    let ws = wb.add_worksheet();
    ws.set_name(sheet)?;
    let date = Format::new().set_num_format("mm/dd/yyyy");
    for (r, rec) in rdr.records().enumerate() {
        let rec = rec?;
        for (c, field) in rec.iter().enumerate() {
            let field = field.trim_start_matches('\u{feff}');
            let (r, c) = (r as u32, c as u16);
            let parts: Vec<&str> = field.split('/').collect();
            if r > 0 && parts.len() == 3 && parts[2].len() == 4 {
                if let (Ok(m), Ok(d), Ok(y)) = (
                    parts[0].parse::<u8>(),
                    parts[1].parse::<u8>(),
                    parts[2].parse::<u16>(),
                ) {
                    ws.write_datetime_with_format(r, c, &ExcelDateTime::from_ymd(y, m, d)?, &date)?;
                    continue;
                }
            }
            match field.parse::<f64>() {
                Ok(n) if r > 0 && n.is_finite() && !field.starts_with('0') || field == "0" => {
                    ws.write_number(r, c, n)?;
                }
                _ => {
                    ws.write_string(r, c, field)?;
                }
            }
        }
    }
    std::fs::write(dst, wb.save_to_buffer()?)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all("samples")?;
    std::fs::write(
        "samples/openai_completions_usage_2026-01-01_2026-03-31.csv",
        openai(),
    )?;
    std::fs::write(
        "samples/anthropic_claude_api_tokens_2026_Q1.xlsx",
        anthropic()?,
    )?;
    // The vendor CSVs as a user re-saves them in Excel (kept out of samples/, which is read
    // with its subfolders: `report samples/` must report each export once).
    std::fs::create_dir_all("tests/fixtures/xlsx_resaves")?;
    csv_to_xlsx(
        "samples/azure_cost_export_ea_2026Q1.csv",
        "tests/fixtures/xlsx_resaves/azure_cost_export_ea_2026Q1.xlsx",
        "Usage details",
    )?;
    csv_to_xlsx(
        "samples/gcp_billing_bigquery_2026Q1.csv",
        "tests/fixtures/xlsx_resaves/gcp_billing_bigquery_2026Q1.xlsx",
        "billing_export",
    )?;
    std::fs::create_dir_all("tests/fixtures/messy")?;
    std::fs::write(
        "tests/fixtures/messy/excel_dates_several_sheets.xlsx",
        messy_workbook()?,
    )?;
    println!("wrote samples/ and tests/fixtures/messy/excel_dates_several_sheets.xlsx");
    Ok(())
}
