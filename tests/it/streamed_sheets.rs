//! The sheets that grow with the lines (AI Services, Calculation Lines) are written as XML by
//! the tool's own streamed writer; the same workbook built cell by cell through rust_xlsxwriter
//! (`SheetWriter::Library`) must read back identical: every sheet, every cell's value, formula
//! and style, the merged ranges.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use llm_scope3::pipeline::Outcome;
use llm_scope3::report::workbook::{self, SheetWriter};

use crate::common::{config, root, run};

type Book = Xlsx<Cursor<Vec<u8>>>;

fn open(bytes: Vec<u8>) -> Book {
    Xlsx::new(Cursor::new(bytes)).expect("a workbook calamine reads")
}

/// Builds `o`'s workbook both ways and compares them read back, cell by cell; returns the
/// streamed one and the number of cells compared.
fn compare(o: &Outcome, per_sheet: usize) -> (Book, usize) {
    let set = &config("2026Q1").factors;
    let lib = workbook::build_with_writer(o, set, per_sheet, SheetWriter::Library).unwrap();
    let new = workbook::build_with_writer(o, set, per_sheet, SheetWriter::Streamed).unwrap();
    let (mut a, mut b) = (open(lib.clone()), open(new.clone()));
    assert_eq!(a.sheet_names(), b.sheet_names());
    assert_eq!(a.defined_names(), b.defined_names());
    let mut cells = 0;
    for name in a.sheet_names() {
        let (va, vb) = (
            a.worksheet_range(&name).unwrap(),
            b.worksheet_range(&name).unwrap(),
        );
        assert_eq!(va.start(), vb.start(), "{name}: first cell");
        assert_eq!(va.end(), vb.end(), "{name}: last cell");
        for (r, (ra, rb)) in va.rows().zip(vb.rows()).enumerate() {
            for (c, (x, y)) in ra.iter().zip(rb).enumerate() {
                // Floats compare by bits: the cached values must be the very same numbers.
                let same = match (x, y) {
                    (Data::Float(p), Data::Float(q)) => p.to_bits() == q.to_bits(),
                    _ => x == y,
                };
                assert!(same, "{name} row {r} col {c}: {x:?} vs {y:?}");
                cells += 1;
            }
        }
        let (fa, fb) = (
            a.worksheet_formula(&name).unwrap(),
            b.worksheet_formula(&name).unwrap(),
        );
        assert_eq!(fa.start(), fb.start(), "{name}: first formula");
        assert_eq!(fa.end(), fb.end(), "{name}: last formula");
        for (r, (ra, rb)) in fa.rows().zip(fb.rows()).enumerate() {
            assert_eq!(ra, rb, "{name} formulas, row {r}");
        }
        let (sa, sb) = (
            a.worksheet_style(&name).unwrap(),
            b.worksheet_style(&name).unwrap(),
        );
        assert_eq!(sa.start(), sb.start(), "{name}: first styled cell");
        assert_eq!(sa.end(), sb.end(), "{name}: last styled cell");
        if let (Some((r0, c0)), Some((r1, c1))) = (sa.start(), sa.end()) {
            for r in r0..=r1 {
                for c in c0..=c1 {
                    assert_eq!(sa.get((r, c)), sb.get((r, c)), "{name} style at {r},{c}");
                }
            }
        }
        assert_eq!(
            a.merge_cells_by_sheet_name(&name).unwrap(),
            b.merge_cells_by_sheet_name(&name).unwrap(),
            "{name}: merged ranges"
        );
    }
    // The rows' heights (the line tables' rows grow with their wrapped texts).
    let (ha, hb) = (sheet_xml(&lib), sheet_xml(&new));
    assert_eq!(ha.len(), hb.len());
    for (part, xml) in &ha {
        assert_eq!(
            row_heights(xml),
            row_heights(&hb[part]),
            "{part}: row heights"
        );
    }
    (open(new), cells)
}

/// The worksheet parts of a workbook: part name to XML.
fn sheet_xml(xlsx: &[u8]) -> std::collections::BTreeMap<String, String> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut parts = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        if name.starts_with("xl/worksheets/sheet") {
            let mut xml = String::new();
            f.read_to_string(&mut xml).unwrap();
            parts.insert(name, xml);
        }
    }
    parts
}

/// The value of attribute `name` in the tag `tag` (`<row r="2" ht="30" ...>`).
fn attr<'x>(tag: &'x str, name: &str) -> Option<&'x str> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[at..at + tag[at..].find('"')?])
}

/// The rows of a sheet whose height is set: Excel row (1-based) to points.
fn row_heights(xml: &str) -> std::collections::BTreeMap<u32, f64> {
    xml.match_indices("<row ")
        .filter_map(|(i, _)| {
            let tag = &xml[i..i + xml[i..].find('>').unwrap()];
            let ht: f64 = attr(tag, "ht")?.parse().unwrap();
            Some((attr(tag, "r").unwrap().parse().unwrap(), ht))
        })
        .collect()
}

/// The widths of a sheet's columns (characters, as written: Excel adds 0.71 of padding to
/// the width asked for), by 0-based column.
fn col_widths(xml: &str) -> Vec<f64> {
    let mut widths = vec![];
    for (i, _) in xml.match_indices("<col ") {
        let tag = &xml[i..i + xml[i..].find('>').unwrap()];
        let (min, max): (usize, usize) = (
            attr(tag, "min").unwrap().parse().unwrap(),
            attr(tag, "max").unwrap().parse().unwrap(),
        );
        let w: f64 = attr(tag, "width").unwrap().parse().unwrap();
        widths.resize(max, 8.43);
        for c in min..=max {
            widths[c - 1] = w;
        }
    }
    widths
}

#[test]
fn the_line_tables_wrap_their_texts_in_rows_tall_enough() {
    // AI Services and Calculation Lines: every text of a line is wrapped at the top of its
    // cell, and its row is at least as tall as the text needs at a generous 1.5 characters
    // per unit of column width: lines = ceil(characters / (1.5 × width)), 15 points each.
    // E.g. the samples' longest flags (a Google context-caching line with a vendor figure,
    // 294 characters) in the 28-wide Flags column: ceil(294 / 42.0) = 7 lines, >= 105 points.
    let o = run(&[&root().join("samples")], "2026Q1").unwrap();
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let xml = sheet_xml(&bytes);
    let mut b = open(bytes);
    let names = b.sheet_names();
    let mut tall = 0;
    for (sheet, lines) in [
        ("AI Services", o.summary.lines.len()),
        ("Calculation Lines", o.summary.calc_lines.len()),
    ] {
        let part = format!(
            "xl/worksheets/sheet{}.xml",
            names.iter().position(|n| n == sheet).unwrap() + 1
        );
        let (heights, widths) = (row_heights(&xml[&part]), col_widths(&xml[&part]));
        let v = b.worksheet_range(sheet).unwrap();
        let styles = b.worksheet_style(sheet).unwrap();
        for r in 1..=lines as u32 {
            let height = heights.get(&(r + 1)).copied().unwrap_or(15.0);
            assert!(height <= 409.0, "{sheet} row {}: {height}", r + 1);
            tall += usize::from(height > 15.0);
            for (c, d) in v.rows().nth(r as usize).unwrap().iter().enumerate() {
                let Data::String(text) = d else { continue };
                let style = styles.get((r, c as u32)).cloned().unwrap_or_default();
                let align = style.alignment.unwrap_or_default();
                assert!(
                    align.wrap_text,
                    "{sheet} row {} col {c}: {text:?} not wrapped",
                    r + 1
                );
                assert_eq!(
                    align.vertical,
                    calamine::VerticalAlignment::Top,
                    "{sheet} row {} col {c}",
                    r + 1
                );
                let need = (text.chars().count() as f64 / (1.5 * widths[c])).ceil() * 15.0;
                assert!(
                    height >= need,
                    "{sheet} row {} is {height} points tall, its {text:?} needs {need}",
                    r + 1
                );
            }
        }
    }
    assert!(tall > 100, "only {tall} rows taller than one line");
    let flags = o
        .summary
        .calc_lines
        .iter()
        .map(|l| l.body.flags.join("; ").chars().count())
        .max()
        .unwrap();
    assert_eq!(flags, 294);
}

#[test]
fn streamed_sheets_read_back_like_the_library_ones_on_every_sample() {
    let o = run(&[&root().join("samples")], "2026Q1").unwrap();
    assert!(o.summary.calc_lines.len() > 100);
    let (mut b, cells) = compare(&o, workbook::LINES_PER_SHEET);
    assert!(cells > 10_000, "only {cells} cells compared");
    // Runs of lines share their formulas (Excel shared formulas), so the comparison above
    // covered their expansion too.
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/worksheets/sheet6.xml").unwrap(),
        &mut xml,
    )
    .unwrap();
    assert!(xml.matches("<f t=\"shared\" si=").count() > 50);
    // The lines really carry live formulas and their sums (not only values).
    let f = b.worksheet_formula("Calculation Lines").unwrap();
    let with_formula = f.used_cells().filter(|(_, _, s)| !s.is_empty()).count();
    assert!(with_formula > 100, "{with_formula} formulas");
    // Split over several Calculation Lines sheets (3 lines each), the totals summing them all.
    let (mut b, _) = compare(&o, 3);
    assert!(b
        .sheet_names()
        .contains(&"Calculation Lines (2)".to_string()));
    let f = b.worksheet_formula("Calculation Lines (2)").unwrap();
    assert!(f.used_cells().any(|(_, _, s)| !s.is_empty()));
}

#[test]
fn streamed_sheets_keep_hostile_text_as_text() {
    // Project ids (the cost centre) a spreadsheet would evaluate or an XML writer must escape;
    // they reach AI Services and Calculation Lines as text. (Leading and trailing spaces are
    // trimmed by normalise; `streamed_rows`' unit tests cover them.)
    let header = "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,api_key_id,model,batch,service_tier,input_tokens,output_tokens,input_cached_tokens";
    let hostile = [
        "=cmd|' /C calc'!A0",
        "+1+1",
        "-2",
        "@SUM(A1)",
        "a & b <c> \"d\"",
        "_x0041_ literal",
        "tab\tinside",
        "ünïcödé ✓ 漢字",
    ];
    let mut csv = format!("{header}\n");
    for (i, p) in hostile.iter().enumerate() {
        let p = p.replace('"', "\"\"");
        csv.push_str(&format!(
            "1767225600,1767312000,2026-01-01T00:00:00+00:00,2026-01-02T00:00:00+00:00,\"{p}\",{n}.0,,key_a,gpt-4o-2024-08-06,False,default,{t}.0,10.0,0.0\n",
            n = i + 1,
            t = 1000 * (i + 1)
        ));
    }
    // A model the factor set does not know: a line without formulas.
    csv.push_str("1767225600,1767312000,2026-01-01T00:00:00+00:00,2026-01-02T00:00:00+00:00,proj,1.0,,key_a,<unknown & model>,False,default,5.0,5.0,0.0\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("completions_usage_a&b<c>_2026-01-01_2026-01-01.csv");
    std::fs::write(&path, csv).unwrap();
    let o = run(&[&path], "2026Q1").unwrap();
    let (mut b, _) = compare(&o, workbook::LINES_PER_SHEET);
    for sheet in ["AI Services", "Calculation Lines"] {
        let v = b.worksheet_range(sheet).unwrap();
        let f = b.worksheet_formula(sheet).unwrap();
        for p in hostile {
            let (r, c, _) = v
                .used_cells()
                .find(|(_, _, d)| **d == Data::String(p.to_string()))
                .unwrap_or_else(|| panic!("{sheet}: {p:?} not found as text"));
            // Text, never a formula.
            let (r0, c0) = v.start().unwrap();
            let at = (r0 + r as u32, c0 + c as u32);
            let formula = f.get_value(at).cloned().unwrap_or_default();
            assert_eq!(formula, "", "{sheet}: {p:?} became a formula");
        }
    }
    // The source file's path, `&` and `<` in its name.
    let v = b.worksheet_range("Calculation Lines").unwrap();
    assert!(v.used_cells().any(|(_, _, d)| matches!(d,
        Data::String(s) if s.ends_with("/completions_usage_a&b<c>_2026-01-01_2026-01-01.csv"))));
}

#[test]
fn streamed_sheets_with_spend_in_the_reporting_currency_read_back_alike() {
    // The AI Services lines then carry money cells (the money format in the prototype row).
    let o = crate::currency::run_eur(
        &[crate::currency::fixture(
            "openai_cost_usd_gbp_2024-12_2025-01.csv",
        )],
        ("2024-12-01", Some("2025-01-31")),
    );
    let (_, cells) = compare(&o, workbook::LINES_PER_SHEET);
    assert!(cells > 100, "only {cells} cells compared");
}
