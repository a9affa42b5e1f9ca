//! Writes the seed corpora of the fuzz targets into `fuzz/seeds/<target>/`: small valid inputs
//! that reach every reader path (encodings, delimiters, gzip, title rows, each built-in template;
//! workbooks with typed cells, several sheets, title rows, stored/uncompressed parts).
//! The samples and test fixtures are added by `run.sh` at run time, not copied here.

use std::io::{Cursor, Read, Write};
use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook, XlsxError};

const OPENAI_HEADER: &str = "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,api_key_id,model,batch,service_tier,input_tokens,output_tokens,input_cached_tokens,input_uncached_tokens,input_text_tokens,output_text_tokens,input_cached_text_tokens,input_audio_tokens,input_cached_audio_tokens,output_audio_tokens,input_image_tokens,input_cached_image_tokens,output_image_tokens";
const OPENAI_ROW: &str = "1768435200,1768521600,2026-01-15T00:00:00+00:00,2026-01-16T00:00:00+00:00,proj_a,1000.0,,key_a,gpt-4o-2024-08-06,False,default,1000000.0,500000.0,200000.0,800000.0,800000.0,500000.0,200000.0,0.0,0.0,0.0,0.0,0.0,0.0";
const OPENAI_EMPTY_DAY: &str = "1768521600,1768608000,2026-01-16T00:00:00+00:00,2026-01-17T00:00:00+00:00,,,,,,,,,,,,,,,,,,,,";
const API_HEADER: &str = "start_time,end_time,project_id,user_id,api_key_id,model,batch,service_tier,input_tokens,input_cached_tokens,output_tokens,input_audio_tokens,output_audio_tokens,num_model_requests";
const API_ROW: &str = "1768435200,1768521600,proj_b,,,gpt-4o-mini,false,default,2000000,0,1000000,0,0,800";
const ANTHROPIC_HEADER: [&str; 14] = [
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
const ANTHROPIC_ROW: &str = "2026-01-15,claude-sonnet-4-5-20250929,prod-key,Default,standard,≤ 200k,600000,100000,100000,200000,500000,0,us,";
const ANTHROPIC_HOURLY_ROW: &str = "2026-03-31 02:00,claude-haiku-4-5-20251001,dev-key,Research,standard,≤ 200k,1200,0,0,300,800,0,global,fast";

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds");
    let csv = root.join("csv_reader");
    let xlsx = root.join("xlsx_reader");
    for d in [&csv, &xlsx] {
        if d.exists() {
            std::fs::remove_dir_all(d).unwrap();
        }
        std::fs::create_dir_all(d).unwrap();
    }
    for (name, bytes) in csv_seeds() {
        std::fs::write(csv.join(name), bytes).unwrap();
    }
    for (name, bytes) in xlsx_seeds().expect("workbooks") {
        std::fs::write(xlsx.join(name), bytes).unwrap();
    }
    println!("seeds written to {}", root.display());
}

fn lines(ls: &[&str], eol: &str) -> Vec<u8> {
    let mut s = ls.join(eol);
    s.push_str(eol);
    s.into_bytes()
}

fn csv_seeds() -> Vec<(String, Vec<u8>)> {
    let anthropic_header = ANTHROPIC_HEADER.join(",");
    let anthropic_2025_header = ANTHROPIC_HEADER[..11].join(",");
    let anthropic_2025_row = "2025-12-31,claude-3-5-haiku-20241022,k,Default,standard,10,0,0,5,20";
    let openai = lines(&[OPENAI_HEADER, OPENAI_ROW, OPENAI_EMPTY_DAY], "\n");
    let mut out: Vec<(String, Vec<u8>)> = vec![
        ("openai-usage.csv".into(), openai.clone()),
        (
            "openai-usage-crlf.csv".into(),
            lines(&[OPENAI_HEADER, OPENAI_ROW], "\r\n"),
        ),
        (
            "openai-usage-api.csv".into(),
            lines(&[API_HEADER, API_ROW, API_ROW], "\n"),
        ),
        (
            "anthropic-usage.csv".into(),
            lines(&[&anthropic_header, ANTHROPIC_ROW, ANTHROPIC_HOURLY_ROW], "\n"),
        ),
        (
            "anthropic-usage-2025.csv".into(),
            lines(&[&anthropic_2025_header, anthropic_2025_row], "\n"),
        ),
        (
            "anthropic-title-rows.csv".into(),
            lines(
                &[
                    "Claude API usage report",
                    "Organisation: Acme",
                    "",
                    &anthropic_header,
                    ANTHROPIC_ROW,
                    "Total,,,,,,600000,100000,100000,200000,500000,0,,",
                ],
                "\n",
            ),
        ),
        (
            "openai-quoted.csv".into(),
            lines(
                &[
                    OPENAI_HEADER,
                    "\"1768435200\",\"1768521600\",\"2026-01-15T00:00:00+00:00\",\"2026-01-16T00:00:00+00:00\",\"proj \"\"a\"\", b\",\"1000.0\",,,\"gpt-4o\",\"False\",\"default\",\"1e6\",\"5e5\",\"0\",,,,,,,,,,",
                    OPENAI_HEADER,
                    OPENAI_ROW,
                ],
                "\n",
            ),
        ),
        (
            "openai-bad-values.csv".into(),
            lines(
                &[
                    OPENAI_HEADER,
                    "x,1768521600,2026-01-15T00:00:00+00:00,,proj_a,-3,,,gpt-4o,False,default,lots,NaN,inf,,,,,,,,,,",
                    "99999999999999999999,1768521600,2026-13-45T99:00:00+00:00,,proj_a,1.5,,,,False,default,18446744073709551616,-0.0,1e308,,,,,,,,,,",
                    "1768435200,1768435199,2026-01-15T00:00:00+00:00,2026-01-16T00:00:00+00:00,proj_a,10,,,gpt-4o,False,default,10,20,30",
                ],
                "\n",
            ),
        ),
        (
            "unknown.csv".into(),
            lines(&["Invoice,Amount,Customer", "1,2,3"], "\n"),
        ),
    ];
    // Semicolon + decimal comma (European Excel), tab-separated.
    let semi = format!(
        "{}\n{}\n",
        ANTHROPIC_HEADER.join(";"),
        "15.01.2026;claude-opus-4-1;k;Default;standard;≤ 200k;1.234,5;0;0;10,0;2.000;0;us;"
    );
    out.push(("anthropic-semicolon.csv".into(), semi.into_bytes()));
    let tab = format!("{}\n{}\n", API_HEADER.replace(',', "\t"), API_ROW.replace(',', "\t"));
    out.push(("openai-api-tab.csv".into(), tab.into_bytes()));
    // BOM, UTF-16 LE/BE with BOM, Windows-1252.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(&openai);
    out.push(("openai-utf8-bom.csv".into(), bom));
    let text = String::from_utf8(lines(&[&anthropic_header, ANTHROPIC_ROW], "\r\n")).unwrap();
    let mut le = vec![0xFF, 0xFE];
    let mut be = vec![0xFE, 0xFF];
    for u in text.encode_utf16() {
        le.extend_from_slice(&u.to_le_bytes());
        be.extend_from_slice(&u.to_be_bytes());
    }
    out.push(("anthropic-utf16le.csv".into(), le));
    out.push(("anthropic-utf16be.csv".into(), be));
    let latin = text.replace("Default", "Café");
    let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode(&latin);
    out.push(("anthropic-cp1252.csv".into(), cp1252.into_owned()));
    // Gzip (read as .csv: the magic bytes decide).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&openai).unwrap();
    out.push(("openai-gzip.csv".into(), gz.finish().unwrap()));
    // The head of the bundled sample (the whole file is longer than -max_len).
    let sample = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../samples/openai_completions_usage_2026-01-01_2026-03-31.csv"),
    )
    .expect("samples/ openai csv");
    let head: Vec<&[u8]> = sample.split(|&b| b == b'\n').take(40).collect();
    let mut h = head.join(&b'\n');
    h.push(b'\n');
    out.push(("sample-openai-head.csv".into(), h));
    out
}

fn anthropic_sheet(
    wb: &mut Workbook,
    name: &str,
    title_rows: u32,
    typed: bool,
) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    if title_rows > 0 {
        ws.write_string(0, 0, "Claude API token usage, 2026 Q1")?;
    }
    let h = title_rows;
    for (c, head) in ANTHROPIC_HEADER.iter().enumerate() {
        ws.write_string(h, c as u16, *head)?;
    }
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let rows: [(&str, &str, [f64; 5]); 3] = [
        ("2026-01-15", "claude-sonnet-4-5-20250929", [600000.0, 100000.0, 100000.0, 200000.0, 500000.0]),
        ("2026-02-01 13:00", "claude-haiku-4-5", [1200.0, 0.0, 0.0, 300.0, 800.0]),
        ("2026-03-31", "claude-opus-4-1-20250805", [10.0, 0.0, 0.0, 0.0, 20.0]),
    ];
    for (i, (date, model, n)) in rows.iter().enumerate() {
        let r = h + 1 + i as u32;
        if typed && i == 1 {
            let dt = ExcelDateTime::parse_from_str("2026-02-01T13:00:00")?;
            ws.write_datetime_with_format(r, 0, &dt, &date_fmt)?;
        } else {
            ws.write_string(r, 0, *date)?;
        }
        ws.write_string(r, 1, *model)?;
        ws.write_string(r, 2, "prod-key")?;
        ws.write_string(r, 3, "Default")?;
        ws.write_string(r, 4, "standard")?;
        ws.write_string(r, 5, "≤ 200k")?;
        for (k, x) in n.iter().enumerate() {
            if typed {
                ws.write_number(r, 6 + k as u16, *x)?;
            } else {
                ws.write_string(r, 6 + k as u16, x.to_string())?;
            }
        }
        ws.write_number(r, 11, 0.0)?;
        ws.write_string(r, 12, if i == 0 { "us" } else { "global" })?;
    }
    let r = h + 4;
    ws.write_string(r, 0, "Total")?;
    ws.write_formula(r, 6, Formula::new(format!("SUM(G{}:G{})", h + 2, h + 4)).set_result("600010"))?;
    ws.write_boolean(r + 1, 1, true)?;
    ws.write_formula(r + 1, 6, Formula::new("1/0").set_result("#DIV/0!"))?;
    Ok(())
}

fn restore_stored(bytes: &[u8]) -> Vec<u8> {
    // The same package with every part stored (uncompressed): byte mutations then land in
    // the XML that calamine parses.
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = String::from_utf8_lossy(f.name_raw()).into_owned();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file(name, options).unwrap();
        w.write_all(&data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn xlsx_seeds() -> Result<Vec<(String, Vec<u8>)>, XlsxError> {
    let mut out = Vec::new();

    let mut wb = Workbook::new();
    anthropic_sheet(&mut wb, "Usage", 0, true)?;
    let plain = wb.save_to_buffer()?;
    out.push(("anthropic-stored.xlsx".to_string(), restore_stored(&plain)));
    out.push(("anthropic-typed.xlsx".to_string(), plain));

    let mut wb = Workbook::new();
    anthropic_sheet(&mut wb, "Report", 2, false)?;
    out.push(("anthropic-title-rows-text.xlsx".to_string(), wb.save_to_buffer()?));

    // A cover sheet without a header, then the data; then an OpenAI sheet.
    let mut wb = Workbook::new();
    let cover = wb.add_worksheet();
    cover.set_name("Cover")?;
    cover.write_string(0, 0, "Usage export")?;
    cover.write_number(1, 0, 42.0)?;
    anthropic_sheet(&mut wb, "Data", 0, true)?;
    let ws = wb.add_worksheet();
    ws.set_name("OpenAI")?;
    for (r, line) in [OPENAI_HEADER, OPENAI_ROW, OPENAI_EMPTY_DAY].iter().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            match cell.parse::<f64>() {
                Ok(n) if r > 0 => ws.write_number(r as u32, c as u16, n)?,
                _ if cell.is_empty() => ws,
                _ => ws.write_string(r as u32, c as u16, cell)?,
            };
        }
    }
    let multi = wb.save_to_buffer()?;
    out.push(("multi-sheet-stored.xlsx".to_string(), restore_stored(&multi)));
    out.push(("multi-sheet.xlsx".to_string(), multi));

    // OpenAI Usage API layout with numbers as numbers.
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (r, line) in [API_HEADER, API_ROW].iter().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            match cell.parse::<f64>() {
                Ok(n) if r > 0 => ws.write_number(r as u32, c as u16, n)?,
                _ if cell.is_empty() => ws,
                _ => ws.write_string(r as u32, c as u16, cell)?,
            };
        }
    }
    let api = wb.save_to_buffer()?;
    out.push(("openai-api-stored.xlsx".to_string(), restore_stored(&api)));

    // An empty workbook.
    let mut wb = Workbook::new();
    wb.add_worksheet();
    out.push(("empty-stored.xlsx".to_string(), restore_stored(&wb.save_to_buffer()?)));
    Ok(out)
}
