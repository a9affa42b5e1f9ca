//! Parquet input (tests/fixtures/parquet/, written by tools/make_parquet_fixtures.py): an AWS
//! Data Exports CUR 2.0 file and a BigQuery billing export read through the CSV templates,
//! each giving the report its CSV twin gives; every cell type as a CSV export would show it;
//! damaged files refused by name (more cases in the bad-input corpus).

use std::path::Path;

use llm_scope3::ingest::{self, CellRef, Flow, RowEvent};
use llm_scope3::pipeline::Outcome;

use crate::common::{assert_close, bin_in, fixture, run};

fn outcome(name: &str) -> Outcome {
    run(&[&fixture(&format!("parquet/{name}"))], "2026Q1").unwrap()
}

#[test]
fn aws_cur2_parquet_gives_the_hand_worked_totals() {
    let o = outcome("aws_cur2_bedrock.parquet");
    let f = &o.files[0];
    assert_eq!(f.format, "aws-cur");
    assert!(
        f.dialect
            .starts_with("Parquet, 2 row group(s), 18 column(s), Snappy"),
        "{}",
        f.dialect
    );
    // 6 rows in two row groups (4 + 2): 4 Bedrock usage rows and the tax row (a spend
    // adjustment) accepted, the EC2 row skipped.
    assert_eq!(f.counts.read, 6);
    assert_eq!(f.counts.accepted, 5);
    assert_eq!(f.counts.skipped, 1);
    assert_eq!(f.counts.rejected, 0);
    assert!(f.counts.balanced(), "{:?}", f.counts);
    // Amounts are in millions (pricing unit `1M tokens`):
    //   input  12.5 M (Jan) + 2.25 M (Feb) + 4 M cache reads (input includes cached) = 18.75 M
    //   cached 4 M; output 0.75 M.
    let t = &f.accepted_totals;
    assert_eq!(t.input_tokens, 18_750_000);
    assert_eq!(t.cached_input_tokens, 4_000_000);
    assert_eq!(t.output_tokens, 750_000);
    let a = &o.summary.totals.activity;
    assert_eq!(
        (a.input_tokens, a.cached_input_tokens, a.output_tokens),
        (18_750_000, 4_000_000, 750_000)
    );
    // Spend of the usage rows: 37.5 + 11.25 + 1.2 + 6.75 = 56.7 USD.
    assert_close(t.spend["USD"], 56.7, 1e-12, "usage spend");
    // The tax line: 4.95 USD, listed as an adjustment.
    let tax: f64 = o
        .summary
        .adjustments
        .iter()
        .filter(|a| a.label.eq_ignore_ascii_case("tax"))
        .map(|a| a.amount)
        .sum();
    assert_close(tax, 4.95, 1e-12, "tax adjustment");
    // The model comes from the usage type, the region from the product region code; the
    // resource tags map and the product map were read as JSON text (the header saw them).
    assert!(o
        .summary
        .lines
        .iter()
        .all(|l| l.key.model.contains("claude") && l.key.region.as_deref() == Some("us-east-1")));
    let mapping = &f.sheets[0].mapping;
    assert!(
        mapping
            .iter()
            .any(|(field, c)| field == "model" && c == "product"),
        "{mapping:?}"
    );
    // Row numbers as in the CSV export: the header is row 1, the January rows 2 to 4.
    let january = o
        .summary
        .lines
        .iter()
        .find(|l| l.key.month == "2026-01")
        .expect("January");
    assert_eq!(
        (january.sources[0].rows, january.sources[0].count),
        ([2, 4], 3)
    );
}

#[test]
fn gcp_bigquery_parquet_gives_the_hand_worked_totals() {
    let o = outcome("gcp_billing_bigquery.parquet");
    let f = &o.files[0];
    assert_eq!(f.format, "gcp-billing");
    assert!(f.dialect.contains("ZSTD"), "{}", f.dialect);
    // Structs flattened to BigQuery's dotted names, the template's columns.
    let mapping = &f.sheets[0].mapping;
    for name in [
        "sku.description",
        "usage.amount",
        "location.region",
        "usage_start_time",
    ] {
        assert!(
            mapping.iter().any(|(_, c)| c.contains(name)),
            "{name} in {mapping:?}"
        );
    }
    // 6 rows: 4 Vertex AI / Gemini API token rows and the tax row (an adjustment) accepted,
    // Compute Engine skipped.
    assert_eq!(f.counts.read, 6);
    assert_eq!(f.counts.accepted, 5);
    assert_eq!(f.counts.skipped, 1);
    assert_eq!(f.counts.rejected, 0);
    assert!(f.counts.balanced(), "{:?}", f.counts);
    // Input: 40,000,000 + 1,200,000 + 10,000,000 = 51,200,000 tokens; output 5,000,000.
    let t = &f.accepted_totals;
    assert_eq!(t.input_tokens, 51_200_000);
    assert_eq!(t.output_tokens, 5_000_000);
    assert_eq!(t.cached_input_tokens, 0);
    // Spend: 12 + 12.5 + 0.36 + 3 = 27.86 USD; tax 1.5 USD as an adjustment.
    assert_close(t.spend["USD"], 27.86, 1e-12, "usage spend");
    let adjustments: f64 = o.summary.adjustments.iter().map(|a| a.amount).sum();
    assert_close(adjustments, 1.5, 1e-12, "tax adjustment");
    // Regions from `location.region`.
    let mut regions: Vec<&str> = o
        .summary
        .lines
        .iter()
        .filter_map(|l| l.key.region.as_deref())
        .collect();
    regions.sort();
    regions.dedup();
    assert_eq!(regions, ["europe-west4", "us-central1"]);
}

/// The summary as JSON, with the file's name in it replaced (the twins differ only there).
fn summary_json(o: &Outcome) -> serde_json::Value {
    fn scrub(v: &mut serde_json::Value, name: &str) {
        match v {
            serde_json::Value::String(s) if s.contains(name) => *s = s.replace(name, "FILE"),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| scrub(x, name)),
            serde_json::Value::Object(m) => m.values_mut().for_each(|x| scrub(x, name)),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(&o.summary).unwrap();
    scrub(&mut v, &o.files[0].file);
    v
}

#[test]
fn parquet_and_its_csv_twin_give_the_same_report() {
    for stem in ["aws_cur2_bedrock", "gcp_billing_bigquery"] {
        let p = outcome(&format!("{stem}.parquet"));
        let c = outcome(&format!("{stem}.csv"));
        let (pf, cf) = (&p.files[0], &c.files[0]);
        assert_eq!(pf.format, cf.format, "{stem}");
        assert_eq!(pf.counts, cf.counts, "{stem}");
        assert_eq!(pf.skipped_by, cf.skipped_by, "{stem}");
        assert_eq!(pf.accepted_totals, cf.accepted_totals, "{stem}");
        assert_eq!(pf.read_totals, cf.read_totals, "{stem}");
        assert_eq!(pf.sheets[0].mapping, cf.sheets[0].mapping, "{stem}");
        assert_eq!(
            (pf.first_date, pf.last_date),
            (cf.first_date, cf.last_date),
            "{stem}"
        );
        assert_eq!(p.rejections.len(), c.rejections.len(), "{stem}");
        // Lines, calculation lines (with their row numbers), totals, adjustments, factors:
        // the whole summary, to the bit.
        assert_eq!(summary_json(&p), summary_json(&c), "{stem}");
    }
}

/// Every row of a file as (row number, cells as the reader hands them out, as text with a
/// type tag).
fn rows(path: &Path) -> (ingest::FileInfo, Vec<(u64, Vec<String>)>) {
    let mut out = Vec::new();
    let info = ingest::read_rows(path, "f.parquet", &mut |e| {
        if let RowEvent::Row(n, cells) = e {
            let cells = (0..cells.len())
                .map(|i| match cells.cell(i) {
                    CellRef::Empty => "empty".to_string(),
                    CellRef::Text(t) => format!("text {t}"),
                    CellRef::Number(n) => format!("number {n:?}"),
                    CellRef::Bool(b) => format!("bool {b}"),
                    CellRef::DateTime(d) => format!("datetime {d}"),
                    CellRef::Error(e) => format!("error {e}"),
                })
                .collect();
            out.push((n, cells));
        }
        Ok(Flow::Continue)
    })
    .unwrap();
    (info, out)
}

#[test]
fn every_cell_type_reads_as_a_csv_export_would() {
    let path = fixture("parquet/types_gzip.parquet");
    let (info, rows) = rows(&path);
    assert_eq!(info.sha256, ingest::sha256_file(&path).unwrap());
    assert_eq!(info.bytes, std::fs::metadata(&path).unwrap().len());
    assert!(info.dialect.contains("GZIP"), "{}", info.dialect);
    let header: Vec<String> = [
        "ts_ms",
        "ts_us_local",
        "ts_ns",
        "day",
        "amount",
        "big",
        "small",
        "f32",
        "f64",
        "flag",
        "text",
        "raw",
        "tags",
        "nums",
        "nested.a",
        "nested.b.c",
    ]
    .iter()
    .map(|h| format!("text {h}"))
    .collect();
    assert_eq!(rows[0], (1, header));
    let first: Vec<String> = [
        "text 2026-01-02T11:00:00.123Z",
        "text 2026-01-02T11:00:00.123456",
        "text 2026-01-02T11:00:00.123456789Z",
        "text 2026-01-02",
        "text -12.3450",
        // 2^60 is past 2^53: exact text.
        "text 1152921504606846976",
        "number -7.0",
        "text 0.1",
        "number 0.1",
        "bool true",
        "text say \"hi\"\n",
        "error #BINARY!",
        "text {\"a\":1,\"b\":null}",
        "text [1.5,null]",
        "number 1.0",
        "text x",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(rows[1], (2, first));
    // The second row: nulls, an empty string and a null struct are empty; an empty list `[]`.
    let second: Vec<&str> = rows[2].1.iter().map(String::as_str).collect();
    assert_eq!(rows[2].0, 3);
    assert_eq!(
        second,
        [
            "empty", "empty", "empty", "empty", "empty", "empty", "empty", "empty", "empty",
            "empty", "empty", "empty", "empty", "text []", "empty", "empty"
        ]
    );
    assert_eq!(rows.len(), 3);
}

#[test]
fn int96_timestamps_are_utc_text() {
    let (_, rows) = rows(&fixture("parquet/types_int96.parquet"));
    // INT96 keeps nanoseconds; the record API reads milliseconds: .123456 → .123.
    assert_eq!(rows[1].1, ["text 2026-01-02T11:00:00.123Z"]);
    assert_eq!(rows[2].1, ["empty"]);
}

#[test]
fn folders_pick_up_parquet_files() {
    let e = ingest::expand_inputs(&[fixture("parquet")]).unwrap();
    let names: Vec<String> = e
        .files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    assert!(
        names.contains(&"aws_cur2_bedrock.parquet".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"types_int96.parquet".to_string()),
        "{names:?}"
    );
    assert!(e.skipped.is_empty(), "{:?}", e.skipped);
}

#[test]
fn a_damaged_parquet_file_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixture("parquet/aws_cur2_bedrock.parquet")).unwrap();
    // Truncated: the footer is gone.
    std::fs::write(dir.path().join("cut.parquet"), &good[..good.len() - 100]).unwrap();
    // The middle overwritten with garbage: the magic and footer are intact, the pages not.
    let mut garbled = good.clone();
    for b in &mut garbled[8..2000] {
        *b = 0xAB;
    }
    std::fs::write(dir.path().join("garbled.parquet"), &garbled).unwrap();
    for (file, words) in [
        ("cut.parquet", "cannot read the Parquet file"),
        ("garbled.parquet", "cannot read the Parquet file"),
    ] {
        let a = bin_in(dir.path())
            .args(["report", "--quarter", "2026Q1", "--out", "r.xlsx", file])
            .assert()
            .code(3);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(file) && err.contains(words), "{file}: {err}");
        assert!(!err.contains("panicked"), "{file}: {err}");
        assert!(!dir.path().join("r.xlsx").exists());
    }
}
