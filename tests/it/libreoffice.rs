//! The workbook opened by a second, independent reader: LibreOffice headless converts it to
//! PDF. Skipped with a printed reason when LibreOffice is missing and CI is not set; mandatory
//! when CI=true (.ci/run installs libreoffice-calc).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{config, root, run};
use llm_scope3::report::workbook;

/// The LibreOffice binary, or `None` (and the caller skips) outside CI.
pub fn soffice() -> Option<PathBuf> {
    for name in ["soffice", "libreoffice"] {
        if let Ok(out) = Command::new("which").arg(name).output() {
            if out.status.success() {
                let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
                if !p.is_empty() {
                    return Some(PathBuf::from(p));
                }
            }
        }
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but LibreOffice (soffice) is not installed: .ci/run must install libreoffice-calc");
    }
    crate::common::skipped(
        "the LibreOffice tests",
        "LibreOffice (soffice) not found; install libreoffice-calc to run them",
    );
    None
}

/// Converts `input` with LibreOffice headless into `dir`, in a throwaway profile.
pub fn convert(soffice: &Path, input: &Path, to: &str, dir: &Path) -> std::process::Output {
    let profile = dir.join("profile");
    Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(dir)
        .arg(input)
        .output()
        .expect("run soffice")
}

#[test]
fn libreoffice_converts_the_sample_workbook_to_pdf() {
    let Some(soffice) = soffice() else { return };
    let o = run(&[&root().join("samples")], "2026Q1").unwrap();
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("report.xlsx");
    std::fs::write(&xlsx, bytes).unwrap();
    let out = convert(&soffice, &xlsx, "pdf", dir.path());
    let pdf = dir.path().join("report.pdf");
    assert!(
        out.status.success() && pdf.exists(),
        "LibreOffice could not convert the workbook: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pdf_bytes = std::fs::read(&pdf).unwrap();
    assert!(pdf_bytes.starts_with(b"%PDF"));
    // One page or more per sheet: every sheet was laid out.
    let pages = pdf_bytes
        .windows(10)
        .filter(|w| w == b"/Type /Pag" || w == b"/Type/Page")
        .count();
    assert!(pages >= workbook::SHEETS.len(), "only {pages} pages");
}

/// A LibreOffice user profile that recalculates every formula of an OOXML file on load.
fn recalculating_profile(dir: &Path) {
    let user = dir.join("profile/user");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::write(
        user.join("registrymodifications.xcu"),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"#,
    )
    .unwrap();
}

/// Rewrites one package part, replacing the first cached formula value in it with `value`.
fn plant_wrong_cached_value(xlsx: &[u8], part: &str, value: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zin.len() {
        let mut file = zin.by_index(i).unwrap();
        let name = file.name().unwrap().to_string();
        let mut data = Vec::new();
        file.read_to_end(&mut data).unwrap();
        if name == part {
            let text = String::from_utf8(data).unwrap();
            let f = text.find("</f><v>").expect("a formula with a cached value");
            let start = f + "</f><v>".len();
            let end = start + text[start..].find("</v>").unwrap();
            data = format!("{}{value}{}", &text[..start], &text[end..]).into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// Rewrites one package part, replacing the cached value of the formula cell `cell` (`AC122`)
/// in it with `value`.
fn plant_in_cell(xlsx: &[u8], part: &str, cell: &str, value: &str) -> Vec<u8> {
    edit_part(xlsx, part, |xml| {
        let at = xml
            .find(&format!("<c r=\"{cell}\""))
            .unwrap_or_else(|| panic!("no cell {cell}"));
        let end_cell = at + xml[at..].find("</c>").unwrap();
        assert!(
            xml[at..end_cell].contains("<f"),
            "{cell} is not a formula: {}",
            &xml[at..end_cell]
        );
        let v = at + xml[at..].find("<v>").unwrap() + 3;
        let end = v + xml[v..].find("</v>").unwrap();
        format!("{}{value}{}", &xml[..v], &xml[end..])
    })
}

/// Excel column letters of a 0-based column index.
fn letters(mut col: usize) -> String {
    let mut s = vec![];
    col += 1;
    while col > 0 {
        s.push(b'A' + ((col - 1) % 26) as u8);
        col = (col - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap()
}

/// The headings of a sheet's first row.
fn headings(range: &calamine::Range<calamine::Data>) -> Vec<String> {
    range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// Converts `input` to xlsx with LibreOffice recalculating every formula on load, in a folder
/// of `dir`; returns the recalculated workbook.
fn recalculated(
    soffice: &Path,
    input: &Path,
    dir: &Path,
) -> calamine::Sheets<std::io::BufReader<std::fs::File>> {
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    // `convert` runs LibreOffice with the profile folder inside the output folder.
    recalculating_profile(&out_dir);
    let out = convert(soffice, input, "xlsx", &out_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(out_dir.join("profile"));
    calamine::open_workbook_auto(out_dir.join(input.file_name().unwrap())).unwrap()
}

/// Builds `o`'s workbook, plants a wrong cached value (999999) in the first formula of
/// Calculation Lines and in each cell of `plant` (a calculation line's index and a heading),
/// has LibreOffice recalculate every formula, and compares each line's energy, emissions,
/// embodied and water with the tool's to 1e-9, and the total row; returns the number of
/// values compared.
fn assert_recalculated_like_the_tool(
    soffice: &Path,
    o: &llm_scope3::pipeline::Outcome,
    quarter: &str,
    plant: &[(usize, &str)],
) -> usize {
    use calamine::{open_workbook_auto, Data, Reader};
    let bytes = workbook::build(o, &config(quarter).factors).unwrap();
    // Calculation Lines is the sixth sheet: xl/worksheets/sheet6.xml.
    assert_eq!(workbook::SHEETS[5], "Calculation Lines");
    let part = "xl/worksheets/sheet6.xml";
    let mut planted = plant_wrong_cached_value(&bytes, part, "999999");
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original.xlsx");
    std::fs::write(&original, &bytes).unwrap();
    let header = headings(
        &open_workbook_auto(&original)
            .unwrap()
            .worksheet_range("Calculation Lines")
            .unwrap(),
    );
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (line, name) in plant {
        let cell = format!("{}{}", letters(col(name)), line + 2);
        planted = plant_in_cell(&planted, part, &cell, "999999");
    }
    let input = dir.path().join("planted.xlsx");
    std::fs::write(&input, &planted).unwrap();
    // The planted values are really in the file before LibreOffice sees it.
    let mut before = open_workbook_auto(&input).unwrap();
    let calc = before.worksheet_range("Calculation Lines").unwrap();
    for (line, name) in plant {
        assert_eq!(
            calc.get_value((*line as u32 + 1, col(name) as u32)),
            Some(&Data::Float(999999.0))
        );
    }
    let mut after = recalculated(soffice, &input, dir.path());
    let calc = after.worksheet_range("Calculation Lines").unwrap();
    type Get = fn(&llm_scope3::aggregate::CalcLine) -> f64;
    let checks: [(&str, Get); 10] = [
        ("Energy kWh (low)", |l| l.body.estimate.energy_kwh.low),
        ("Energy kWh (central)", |l| {
            l.body.estimate.energy_kwh.central
        }),
        ("Energy kWh (high)", |l| l.body.estimate.energy_kwh.high),
        ("kgCO2e (low)", |l| l.body.estimate.emissions_kgco2e.low),
        ("kgCO2e (central)", |l| {
            l.body.estimate.emissions_kgco2e.central
        }),
        ("kgCO2e (high)", |l| l.body.estimate.emissions_kgco2e.high),
        ("of which embodied kgCO2e (central)", |l| {
            l.body.estimate.embodied_kgco2e.central
        }),
        ("Water L (low)", |l| l.body.estimate.water_l.low),
        ("Water L (central)", |l| l.body.estimate.water_l.central),
        ("Water L (high)", |l| l.body.estimate.water_l.high),
    ];
    let mut compared = 0;
    for (i, line) in o.summary.calc_lines.iter().enumerate() {
        let row = calc.rows().nth(i + 1).unwrap();
        for (name, get) in &checks {
            let expected = get(line);
            match &row[col(name)] {
                Data::Float(v) => {
                    let rel = if expected == 0.0 {
                        v.abs()
                    } else {
                        ((v - expected) / expected).abs()
                    };
                    assert!(
                        rel <= 1e-9,
                        "line {} {name}: LibreOffice {v}, tool {expected}",
                        i + 1
                    );
                    compared += 1;
                }
                Data::String(s) if s == "not estimated" => assert!(!line.body.energy_estimated),
                other => panic!("line {} {name}: {other:?}", i + 1),
            }
        }
    }
    assert!(
        !calc.rows().any(|r| r.contains(&Data::Float(999999.0))),
        "a planted value survived"
    );
    // The total row's sums were recalculated too.
    let total = calc
        .rows()
        .position(|r| r[0] == Data::String("Total".into()))
        .unwrap();
    let Data::Float(t) = calc.rows().nth(total).unwrap()[col("kgCO2e (central)")] else {
        panic!()
    };
    assert!(((t - o.summary.totals.emissions_kgco2e.central) / t).abs() < 1e-9);
    compared
}

/// The index of the first calculation line of `o` that `pick` chooses.
fn calc_line(
    o: &llm_scope3::pipeline::Outcome,
    pick: impl Fn(&llm_scope3::aggregate::CalcLine) -> bool,
) -> usize {
    o.summary
        .calc_lines
        .iter()
        .position(pick)
        .expect("such a calculation line")
}

/// A spend-based (EEIO) line whose emissions are the tool's (not a vendor's figure).
fn eeio_estimate(l: &llm_scope3::aggregate::CalcLine) -> bool {
    l.key.spend.as_deref() == Some("EEIO")
        && l.body.method != llm_scope3::estimate::Method::SupplierSpecific
}

#[test]
fn libreoffice_recalculates_the_calculation_lines_to_the_tools_values() {
    let Some(soffice) = soffice() else { return };
    let o = run(&[&root().join("samples")], "2026Q1").unwrap();
    // The samples' spend-based (EEIO) lines (provisioned throughput, context caching, image
    // models) are formulas too: a wrong value planted in one's emissions is recalculated.
    let eeio = calc_line(&o, eeio_estimate);
    let compared = assert_recalculated_like_the_tool(
        &soffice,
        &o,
        "2026Q1",
        &[(eeio, "kgCO2e (central)"), (eeio, "kgCO2e (high)")],
    );
    assert!(compared > 1000, "only {compared} values compared");
}

#[test]
fn libreoffice_recalculates_spend_lines_to_the_tools_values() {
    // Spend lines only: price inversion at the list price and at the batch, fast, flex and
    // priority tiers' prices (tests/fixtures/spend/*_price_tiers.csv), and an EEIO line of
    // image-model spend in EUR (40 EUR in January 2026: openai_cost_images_eur_2026-01.csv).
    // Every line's results are formulas; LibreOffice recalculates them to the tool's values.
    let Some(soffice) = soffice() else { return };
    use calamine::{open_workbook_auto, Reader};
    let spend = root().join("tests/fixtures/spend");
    let o = run(
        &[
            &spend.join("openai_cost_price_tiers.csv"),
            &spend.join("anthropic_cost_price_tiers.csv"),
            &spend.join("openai_cost_images_eur_2026-01.csv"),
        ],
        "2026Q1",
    )
    .unwrap();
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spend.xlsx");
    std::fs::write(&path, &bytes).unwrap();
    let mut wb = open_workbook_auto(&path).unwrap();
    let calc = wb.worksheet_range("Calculation Lines").unwrap();
    let formulas = wb.worksheet_formula("Calculation Lines").unwrap();
    let header = headings(&calc);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap() as u32;
    let formula = |line: usize, name: &str| {
        formulas
            .get_value((line as u32 + 1, col(name)))
            .cloned()
            .unwrap_or_default()
    };
    for (i, l) in o.summary.calc_lines.iter().enumerate() {
        for name in ["kgCO2e (low)", "kgCO2e (central)", "kgCO2e (high)"] {
            assert!(
                !formula(i, name).is_empty(),
                "line {} ({:?}) {name} is a value",
                i + 1,
                l.key.spend
            );
        }
    }
    // The EEIO line: spend 40 EUR, USD per EUR the set's 2025 rate (the nearest year to
    // 2026), deflator index(2022) / index(2025) (the set has no 2026 index), all cells of the
    // line that read the Factors sheet; its emissions multiply them by the EEIO factor.
    let eeio = calc_line(&o, eeio_estimate);
    let fx_row = o
        .summary
        .factors
        .keys()
        .position(|k| k == "fx:EUR:2025")
        .unwrap()
        + 2;
    let base = o
        .summary
        .factors
        .keys()
        .position(|k| k == "deflator:USD:2022")
        .unwrap()
        + 2;
    let now = o
        .summary
        .factors
        .keys()
        .position(|k| k == "deflator:USD:2025")
        .unwrap()
        + 2;
    let factor = o
        .summary
        .factors
        .keys()
        .position(|k| k == "const:eeio_518210")
        .unwrap()
        + 2;
    let n = eeio + 2;
    let at = |name: &str| format!("{}{n}", letters(col(name) as usize));
    assert_eq!(
        formula(eeio, "USD per unit (FX)"),
        format!("Factors!$D${fx_row}")
    );
    assert_eq!(
        formula(eeio, "Deflator to EEIO price year"),
        format!("Factors!$D${base}/Factors!$D${now}")
    );
    assert_eq!(
        formula(eeio, "kgCO2e (central)"),
        format!(
            "{}*{}*{}*Factors!$D${factor}",
            at("Spend"),
            at("USD per unit (FX)"),
            at("Deflator to EEIO price year")
        )
    );
    assert_eq!(
        calc.get_value((eeio as u32 + 1, col("Currency"))),
        Some(&calamine::Data::String("EUR".into()))
    );
    // By hand, from the factor set 2026.2 (fx.csv, deflators.csv, constants.csv):
    //   40 EUR × 1.12998 USD/EUR = 45.1992 USD of 2026, deflated × 292.655 / 321.943
    //   = 0.909027374411 → 41.0873101... USD of 2022; × 0.093 kgCO2e/USD = 3.82111984 kgCO2e
    //   (low × 0.0465 = 1.91055992, high × 0.186 = 7.64223968).
    let e = &o.summary.calc_lines[eeio].body.estimate.emissions_kgco2e;
    crate::common::assert_close(
        e.central,
        40.0 * 1.12998 * 292.655 / 321.943 * 0.093,
        1e-12,
        "EEIO central",
    );
    crate::common::assert_close(
        e.low,
        40.0 * 1.12998 * 292.655 / 321.943 * 0.0465,
        1e-12,
        "EEIO low",
    );
    crate::common::assert_close(
        e.high,
        40.0 * 1.12998 * 292.655 / 321.943 * 0.186,
        1e-12,
        "EEIO high",
    );
    // The tier lines' low and high take the tier's multiples: plant wrong values there.
    let fast = calc_line(&o, |l| {
        l.key.spend.as_deref() == Some("price inversion at fast prices")
    });
    let priority = calc_line(&o, |l| {
        l.key.spend.as_deref() == Some("price inversion at priority prices")
    });
    let compared = assert_recalculated_like_the_tool(
        &soffice,
        &o,
        "2026Q1",
        &[
            (eeio, "kgCO2e (low)"),
            (eeio, "Deflator to EEIO price year"),
            (fast, "kgCO2e (low)"),
            (fast, "Energy kWh (high)"),
            (priority, "Water L (high)"),
        ],
    );
    // 7 price-inversion lines × 10 results + the EEIO line's 3 emissions and its embodied.
    assert_eq!(compared, 7 * 10 + 4);
}

/// The parts of an .xlsx package: name to text (the XML parts only).
fn xml_parts(xlsx: &[u8]) -> std::collections::HashMap<String, String> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut parts = std::collections::HashMap::new();
    for i in 0..z.len() {
        let mut file = z.by_index(i).unwrap();
        let name = file.name().unwrap().to_string();
        if name.ends_with(".xml") || name.ends_with(".rels") {
            let mut s = String::new();
            file.read_to_string(&mut s).unwrap();
            parts.insert(name, s);
        }
    }
    parts
}

/// Every `<tag …>…</tag>` or `<tag …/>` element of `xml`, whole.
fn elements<'x>(xml: &'x str, tag: &str) -> Vec<&'x str> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut out = vec![];
    let mut at = 0;
    while let Some(i) = xml[at..].find(&open) {
        let start = at + i;
        let after = &xml[start + open.len()..];
        if !after.starts_with([' ', '>', '/']) {
            at = start + open.len();
            continue;
        }
        let head_end = start + xml[start..].find('>').unwrap() + 1;
        let end = if xml[..head_end].ends_with("/>") {
            head_end
        } else {
            head_end + xml[head_end..].find(&close).unwrap() + close.len()
        };
        out.push(&xml[start..end]);
        at = end;
    }
    out
}

/// The text of the first `<tag>` inside `xml`, or of attribute `tag=` when it starts with '@'.
fn value<'x>(xml: &'x str, tag: &str) -> Option<&'x str> {
    if let Some(attr) = tag.strip_prefix('@') {
        let key = format!(" {attr}=\"");
        let i = xml.find(&key)? + key.len();
        return Some(&xml[i..i + xml[i..].find('"')?]);
    }
    let open = format!("<{tag}>");
    let i = xml.find(&open)? + open.len();
    Some(&xml[i..i + xml[i..].find('<')?])
}

/// The sheets of the package in workbook order: name and worksheet part.
fn sheet_parts(parts: &std::collections::HashMap<String, String>) -> Vec<(String, String)> {
    let wb = &parts["xl/workbook.xml"];
    let rels = &parts["xl/_rels/workbook.xml.rels"];
    elements(wb, "sheet")
        .into_iter()
        .map(|s| {
            let name = value(s, "@name").unwrap().replace("&amp;", "&");
            let id = value(s, "@r:id").unwrap();
            let rel = elements(rels, "Relationship")
                .into_iter()
                .find(|r| value(r, "@Id") == Some(id))
                .unwrap();
            let target = value(rel, "@Target").unwrap();
            (name, format!("xl/{}", target.trim_start_matches("/xl/")))
        })
        .collect()
}

/// A rectangle of cells, 0-based, both ends included: first row, first column, last row, last
/// column.
type Cells = (u32, u32, u32, u32);

fn intersects(a: Cells, b: Cells) -> bool {
    a.0 <= b.2 && b.0 <= a.2 && a.1 <= b.3 && b.1 <= a.3
}

/// The cells each chart of `sheet_part` covers, from its drawing's two-cell anchors
/// (`xdr:from` / `xdr:to`); a `to` cell the chart ends at its very edge (offset 0) is not covered.
fn chart_cells(parts: &std::collections::HashMap<String, String>, sheet_part: &str) -> Vec<Cells> {
    let (dir, file) = sheet_part.rsplit_once('/').unwrap();
    let Some(rels) = parts.get(&format!("{dir}/_rels/{file}.rels")) else {
        return vec![];
    };
    let mut out = vec![];
    for rel in elements(rels, "Relationship") {
        let target = value(rel, "@Target").unwrap();
        let Some(drawing) = target.strip_prefix("../drawings/") else {
            continue;
        };
        let xml = &parts[&format!("xl/drawings/{drawing}")];
        for anchor in elements(xml, "xdr:twoCellAnchor") {
            let n = |part: &str, tag: &str| -> u32 {
                value(elements(anchor, part)[0], tag)
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            let (r0, c0) = (n("xdr:from", "xdr:row"), n("xdr:from", "xdr:col"));
            let (mut r1, mut c1) = (n("xdr:to", "xdr:row"), n("xdr:to", "xdr:col"));
            if n("xdr:to", "xdr:rowOff") == 0 && r1 > r0 {
                r1 -= 1;
            }
            if n("xdr:to", "xdr:colOff") == 0 && c1 > c0 {
                c1 -= 1;
            }
            out.push((r0, c0, r1, c1));
        }
    }
    out
}

/// No chart of the sample workbook covers another chart, a cell with a value or a merged
/// note: each chart's cells (its drawing's anchors) against the others' and against every
/// non-empty cell and merged range calamine reads on its sheet. No LibreOffice needed.
#[test]
fn libreoffice_print_charts_overlap_no_chart_and_no_cell() {
    use calamine::{Reader, Xlsx};
    for ledger in [false, true] {
        let bytes = sample_workbook(ledger);
        let parts = xml_parts(&bytes);
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
        let mut charts_seen = 0;
        for (name, part) in sheet_parts(&parts) {
            let charts = chart_cells(&parts, &part);
            charts_seen += charts.len();
            for (i, a) in charts.iter().enumerate() {
                for b in &charts[i + 1..] {
                    assert!(
                        !intersects(*a, *b),
                        "{name}: charts {a:?} and {b:?} overlap"
                    );
                }
            }
            if charts.is_empty() {
                continue;
            }
            let range = book.worksheet_range(&name).unwrap();
            for (r, c, v) in range.used_cells() {
                let (r, c) = (
                    r as u32 + range.start().unwrap().0,
                    c as u32 + range.start().unwrap().1,
                );
                for a in &charts {
                    assert!(
                        !intersects(*a, (r, c, r, c)),
                        "{name}: the chart at {a:?} covers cell ({r}, {c}) = {v:?}"
                    );
                }
            }
            for d in book.merge_cells_by_sheet_name(&name).unwrap() {
                let m = (d.start.0, d.start.1, d.end.0, d.end.1);
                for a in &charts {
                    assert!(
                        !intersects(*a, m),
                        "{name}: the chart at {a:?} covers the merged {m:?}"
                    );
                }
            }
        }
        // Pareto, Periods, whiskers, tornado, method pie (and Trend in a ledger report).
        assert!(
            charts_seen >= 5 + usize::from(ledger),
            "only {charts_seen} charts"
        );
    }
}

/// The sample workbook: from the sample files, or (`ledger`) from a ledger they were imported
/// into, which adds the Trend sheet.
fn sample_workbook(ledger: bool) -> Vec<u8> {
    let o = if ledger {
        sample_ledger_outcome()
    } else {
        run(&[&root().join("samples")], "2026Q1").unwrap()
    };
    workbook::build(&o, &config("2026Q1").factors).unwrap()
}

/// The sample files imported into a ledger, reported for 2026Q1 from it (with a Trend sheet).
fn sample_ledger_outcome() -> llm_scope3::pipeline::Outcome {
    use chrono::TimeZone;
    use llm_scope3::pipeline;
    let dir = tempfile::tempdir().unwrap();
    let mut l = llm_scope3::ledger::Ledger::open(&dir.path().join("l.db")).unwrap();
    let cfg = config("2026Q1");
    let (inputs, _) = pipeline::inputs_from_paths(&[root().join("samples")]).unwrap();
    for input in &inputs {
        // A file the ledger cannot take is the sample's deliberately broken one: left out.
        let _ = pipeline::import_file(
            &mut l,
            input,
            &cfg.templates,
            None,
            chrono::Utc.with_ymd_and_hms(2026, 4, 15, 0, 0, 0).unwrap(),
            llm_scope3::ingest::Progress::Hidden,
        );
    }
    pipeline::run_ledger(&l, &cfg).unwrap()
}

/// `name` (a poppler tool) on the PATH, or `None` (and the caller skips) outside CI.
fn poppler(name: &str) -> Option<PathBuf> {
    let out = Command::new("which").arg(name).output().ok()?;
    let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && !p.is_empty() {
        return Some(PathBuf::from(p));
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but {name} is not installed: .ci/run must install poppler-utils");
    }
    crate::common::skipped(
        "the printing test",
        &format!("{name} not found; install poppler-utils to run it"),
    );
    None
}

/// The longest word (letters and digits) of `text`: what must be on a page that shows it.
fn longest_word(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .max_by_key(|w| w.chars().count())
        .unwrap_or("")
        .to_string()
}

/// The pages LibreOffice prints of the workbook `bytes` (converted to PDF): each page's text
/// (`pdftotext -layout`) and the sheet its footer names; `None` (skipped) without LibreOffice
/// or poppler outside CI.
fn printed_pages(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    let soffice = soffice()?;
    let (pdftotext, pdfinfo) = (poppler("pdftotext")?, poppler("pdfinfo")?);
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("report.xlsx");
    std::fs::write(&xlsx, bytes).unwrap();
    let out = convert(&soffice, &xlsx, "pdf", dir.path());
    let pdf = dir.path().join("report.pdf");
    assert!(
        out.status.success() && pdf.exists(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = Command::new(pdfinfo).arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout).to_string();
    let pages: u32 = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut printed: Vec<(String, String)> = vec![];
    for p in 1..=pages {
        let out = Command::new(&pdftotext)
            .args(["-layout", "-f", &p.to_string(), "-l", &p.to_string()])
            .arg(&pdf)
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let footer = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
        let at = footer
            .rfind("Page ")
            .unwrap_or_else(|| panic!("page {p}: no footer: {footer}"));
        printed.push((footer[..at].trim().to_string(), text));
    }
    Some(printed)
}

/// The long texts of the line tables are printed whole: they wrap in their columns and their
/// rows grow, so that no text is cut off by the cell beside it. Each text ends with the part
/// counted here, which a cut would lose: a token line's Formula ends "kWh·EWIF", its Factor
/// ids end with its water-intensity factor `ewif:...`, and a line with a vendor's figure has
/// flags ending "(vendors report emissions only)" (its last word counted: a wrapped line may
/// end between "emissions" and "only)"). On the samples, every one of them is on
/// the printed pages of its sheet, and nothing prints as "###" (a number wider than its
/// column).
#[test]
fn libreoffice_prints_the_line_tables_long_texts_whole() {
    let o = run(&[&root().join("samples")], "2026Q1").unwrap();
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let Some(printed) = printed_pages(&bytes) else {
        return;
    };
    let text_of = |sheet: &str| -> String {
        printed
            .iter()
            .filter(|(s, _)| s == sheet)
            .map(|(_, t)| t.as_str())
            .collect()
    };
    let count = |text: &str, needle: &str| text.matches(needle).count();
    let with_ewif = |ids: &[std::sync::Arc<str>]| ids.iter().any(|id| id.starts_with("ewif:"));
    let vendor = |flags: &[String]| {
        flags
            .join("; ")
            .ends_with("(vendors report emissions only)")
    };
    let calc = text_of("Calculation Lines");
    let lines = &o.summary.calc_lines;
    let token_lines = lines.iter().filter(|l| l.body.energy_estimated).count();
    assert!(token_lines > 100);
    assert_eq!(count(&calc, "EWIF"), token_lines, "Formula ends");
    assert_eq!(
        count(&calc, "ewif:"),
        lines
            .iter()
            .filter(|l| with_ewif(&l.body.factor_ids))
            .count(),
        "Factor ids ends"
    );
    let vendor_lines = lines.iter().filter(|l| vendor(&l.body.flags)).count();
    assert!(vendor_lines > 0);
    assert_eq!(count(&calc, "only)"), vendor_lines, "Flags ends");
    let ai = text_of("AI Services");
    let lines = &o.summary.lines;
    assert_eq!(
        count(&ai, "ewif:"),
        lines
            .iter()
            .filter(|l| with_ewif(&l.body.factor_ids))
            .count(),
        "AI Services: Factor ids ends"
    );
    assert_eq!(
        count(&ai, "only)"),
        lines.iter().filter(|l| vendor(&l.body.flags)).count(),
        "AI Services: Flags ends"
    );
    for (sheet, text) in &printed {
        assert!(
            !text.contains("###"),
            "{sheet}: a number too wide for its column\n{text}"
        );
    }
}

/// The sample workbook prints every sheet one page wide, LibreOffice being the printer.
///
/// The method: every worksheet asks for it (`fitToPage`, `fitToHeight="0"`, landscape); the
/// PDF LibreOffice makes of the workbook is read page by page with `pdftotext -layout`. Each
/// page's footer names its sheet (`&A`, left) and its number (right), so the pages of each sheet
/// are known. A sheet with a table repeats its heading rows on every page (`Print_Titles`); a
/// sheet whose columns spilled onto a second page across would print pages holding only the
/// left columns (without the last column's heading) and pages holding only the right ones
/// (without the first column's heading). So: every page of such a sheet shows the longest word
/// of both its first and its last heading; and every sheet has at least one page, in order.
#[test]
fn libreoffice_prints_every_sheet_one_page_wide() {
    use calamine::{Data, Reader, Xlsx};
    let bytes = sample_workbook(false);
    let parts = xml_parts(&bytes);
    let sheets = sheet_parts(&parts);
    for (name, part) in &sheets {
        let xml = &parts[part];
        assert!(
            xml.contains(r#"<pageSetUpPr fitToPage="1"/>"#),
            "{name}: not fit to page"
        );
        let setup = elements(xml, "pageSetup")[0];
        assert_eq!(value(setup, "@fitToHeight"), Some("0"), "{name}: {setup}");
        assert!(
            matches!(value(setup, "@fitToWidth"), None | Some("1")),
            "{name}: {setup}"
        );
        assert_eq!(
            value(setup, "@orientation"),
            Some("landscape"),
            "{name}: {setup}"
        );
    }
    let Some(printed) = printed_pages(&bytes) else {
        return;
    };
    let order: Vec<&str> = {
        let mut v: Vec<&str> = printed.iter().map(|(s, _)| s.as_str()).collect();
        v.dedup();
        v
    };
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(order, names, "the sheets as printed, in order");
    // The heading row of each sheet with one: the last row of its Print_Titles.
    let wb = &parts["xl/workbook.xml"];
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let mut checked = 0;
    for d in elements(wb, "definedName") {
        if value(d, "@name") != Some("_xlnm.Print_Titles") {
            continue;
        }
        let i: usize = value(d, "@localSheetId").unwrap().parse().unwrap();
        let titles = &d[d.find('>').unwrap() + 1..d.rfind('<').unwrap()];
        let last: u32 = titles.rsplit('$').next().unwrap().parse().unwrap();
        let name = &sheets[i].0;
        let range = book.worksheet_range(name).unwrap();
        let row = (last - 1).checked_sub(range.start().unwrap().0).unwrap();
        let heads: Vec<String> = range
            .rows()
            .nth(row as usize)
            .unwrap()
            .iter()
            .filter(|c| !matches!(c, Data::Empty))
            .map(|c| c.to_string())
            .collect();
        let (first, last) = (longest_word(&heads[0]), longest_word(heads.last().unwrap()));
        let mut n = 0;
        for (p, (sheet, text)) in printed.iter().enumerate() {
            if sheet != name {
                continue;
            }
            n += 1;
            for w in [&first, &last] {
                assert!(
                    text.contains(w.as_str()),
                    "{name}: page {} lacks the heading word {w:?}: its columns spilled onto a second page across\n{text}",
                    p + 1
                );
            }
        }
        assert!(n > 0, "{name}: no page");
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} sheets with headings checked");
}

/// Rewrites one package part with `edit`.
fn edit_part(xlsx: &[u8], part: &str, edit: impl Fn(String) -> String) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zin.len() {
        let mut file = zin.by_index(i).unwrap();
        let name = file.name().unwrap().to_string();
        let mut data = Vec::new();
        file.read_to_end(&mut data).unwrap();
        if name == part {
            data = edit(String::from_utf8(data).unwrap()).into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// A number of a sheet read back, by 0-based row and column.
fn number(range: &calamine::Range<calamine::Data>, row: usize, col: usize) -> f64 {
    crate::common::cell_f64(range.get_value((row as u32, col as u32)).expect("a cell"))
}

#[test]
fn libreoffice_moves_the_e16_figure_when_a_grid_factor_changes() {
    // The E1-6 figure (G7) is a formula over the AI Services total, the lines' sums of their
    // calculation lines, whose formulas read the Factors sheet. Raise the USA grid factor
    // (central, Factors column D) by 100 gCO2e/kWh in the file, let LibreOffice recalculate,
    // and G7 moves by hand: a calculation line's central kgCO2e is kWh_IT·PUE·grid/1000 +
    // kWh_IT·embodied/1000 and its central energy is kWh = kWh_IT·PUE, so each line whose
    // formula reads that grid cell gains kWh × 100 / 1000 kgCO2e; G7 gains the sum over them
    // / 1000 tCO2e. Lines carrying values (supplier figures, EEIO, characters) do not move.
    let Some(soffice) = soffice() else { return };
    use calamine::{open_workbook_auto, Reader};
    let o = run(&[&root().join("samples")], "2026Q1").unwrap();
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let id = "grid:country:USA:2025";
    let g = o.summary.factors[id].value.central;
    let row = o.summary.factors.keys().position(|k| k == id).unwrap() + 2;
    let cell = format!("D{row}");
    // The lines whose central emissions formula reads Factors!$D$row, and their energy.
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original.xlsx");
    std::fs::write(&original, &bytes).unwrap();
    let mut wb = open_workbook_auto(&original).unwrap();
    let calc = wb.worksheet_range("Calculation Lines").unwrap();
    let calc_f = wb.worksheet_formula("Calculation Lines").unwrap();
    let header: Vec<String> = calc
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let kg_col = header.iter().position(|h| h == "kgCO2e (central)").unwrap();
    let kwh_col = header
        .iter()
        .position(|h| h == "Energy kWh (central)")
        .unwrap();
    let needle = format!("Factors!$D${row}");
    let mut reading = 0;
    let mut kwh = 0.0;
    for i in 0..o.summary.calc_lines.len() {
        let f = calc_f
            .get_value((i as u32 + 1, kg_col as u32))
            .cloned()
            .unwrap_or_default();
        if f.contains(&needle) {
            reading += 1;
            kwh += number(&calc, i + 1, kwh_col);
        }
    }
    assert!(reading > 0, "no line reads {needle}");
    let summary = wb.worksheet_range("E1-6 Summary").unwrap();
    let g7_before = number(&summary, 6, 6);
    let delta_t = kwh * 100.0 / 1000.0 / 1000.0;
    eprintln!(
        "{id}: central {g} gCO2e/kWh at Factors!{cell} -> {}; {reading} calculation lines read it, \
         {kwh} kWh (central) together; G7 {g7_before} tCO2e + {kwh} × 100 / 1000 / 1000 = {} tCO2e",
        g + 100.0,
        g7_before + delta_t
    );
    // Factors is the seventh sheet: xl/worksheets/sheet7.xml.
    assert_eq!(workbook::SHEETS[6], "Factors");
    let edited = edit_part(&bytes, "xl/worksheets/sheet7.xml", |xml| {
        let at = xml
            .find(&format!("<c r=\"{cell}\""))
            .expect("the factor's cell");
        let v = at + xml[at..].find("<v>").unwrap() + 3;
        let end = v + xml[v..].find("</v>").unwrap();
        assert_eq!(
            xml[v..end].parse::<f64>().unwrap(),
            g,
            "the cell holds the factor"
        );
        format!("{}{}{}", &xml[..v], g + 100.0, &xml[end..])
    });
    let input = dir.path().join("edited.xlsx");
    std::fs::write(&input, &edited).unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    recalculating_profile(&out_dir);
    let out = convert(&soffice, &input, "xlsx", &out_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(out_dir.join("profile"));
    let mut after = open_workbook_auto(out_dir.join("edited.xlsx")).unwrap();
    let summary = after.worksheet_range("E1-6 Summary").unwrap();
    let g7_after = number(&summary, 6, 6);
    crate::common::assert_close(g7_after, g7_before + delta_t, 1e-9, "G7 after the change");
    assert!(delta_t > 1e-6, "the change is visible: {delta_t} tCO2e");
    // The chain: G7 = AI Services total / 1000 = Calculation Lines total / 1000.
    let ai = after.worksheet_range("AI Services").unwrap();
    let total = 1 + o.summary.lines.len();
    let ai_kg = header_col_of(&ai, "kgCO2e (central)");
    crate::common::assert_close(
        number(&ai, total, ai_kg) / 1000.0,
        g7_after,
        1e-12,
        "AI total",
    );
    let calc = after.worksheet_range("Calculation Lines").unwrap();
    let calc_total = 1 + o.summary.calc_lines.len();
    crate::common::assert_close(
        number(&calc, calc_total, kg_col) / 1000.0,
        g7_after,
        1e-9,
        "Calculation Lines total",
    );
}

/// The column of heading `name` in row 1.
fn header_col_of(range: &calamine::Range<calamine::Data>, name: &str) -> usize {
    range
        .rows()
        .next()
        .unwrap()
        .iter()
        .position(|c| *c == calamine::Data::String(name.into()))
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn libreoffice_moves_the_e16_figure_when_the_eeio_factor_changes() {
    // A spend-based (EEIO) line's kgCO2e is spend × USD per unit × deflator × the EEIO factor
    // (Factors sheet, const:eeio_518210). Raise the factor's central value (column D) from
    // 0.093 to 0.193 kgCO2e per 2022 USD in the file, let LibreOffice recalculate, and G7
    // moves by hand. The samples' EEIO lines estimated by the tool (the three Google context
    // caching lines with a vendor figure keep the vendor's emissions) are all in USD (rate 1),
    // of January to March 2026, deflated × index(2022) / index(2025) = 292.655 / 321.943
    // = 0.909027374411 (the set has no 2026 index):
    //   Azure provisioned throughput 1,800 + 2,880, Google context caching 128.137501,
    //   OpenAI gpt-image-1 3.402 + 6.972 + 3.654 = 4,822.165501 USD
    //   × 0.909027374411 = 4,383.480444 USD of 2022 × 0.1 kgCO2e/USD = 438.348044 kgCO2e
    //   = 0.438348044 tCO2e more in G7.
    let Some(soffice) = soffice() else { return };
    use calamine::{open_workbook_auto, Reader};
    let o = run(&[&root().join("samples")], "2026Q1").unwrap();
    let spend: f64 = o
        .summary
        .calc_lines
        .iter()
        .filter(|l| eeio_estimate(l))
        .map(|l| l.body.spend["USD"])
        .sum();
    crate::common::assert_close(spend, 4822.165501, 1e-12, "the EEIO lines' spend");
    let delta_t = 4822.165501 * (292.655 / 321.943) * 0.1 / 1000.0;
    crate::common::assert_close(delta_t, 0.438348044435, 1e-11, "by hand");
    let id = "const:eeio_518210";
    assert_eq!(o.summary.factors[id].value.central, 0.093);
    let row = o.summary.factors.keys().position(|k| k == id).unwrap() + 2;
    let cell = format!("D{row}");
    let bytes = workbook::build(&o, &config("2026Q1").factors).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original.xlsx");
    std::fs::write(&original, &bytes).unwrap();
    let mut wb = open_workbook_auto(&original).unwrap();
    let g7_before = number(&wb.worksheet_range("E1-6 Summary").unwrap(), 6, 6);
    // Factors is the seventh sheet: xl/worksheets/sheet7.xml.
    assert_eq!(workbook::SHEETS[6], "Factors");
    let edited = edit_part(&bytes, "xl/worksheets/sheet7.xml", |xml| {
        let at = xml
            .find(&format!("<c r=\"{cell}\""))
            .expect("the factor's cell");
        let v = at + xml[at..].find("<v>").unwrap() + 3;
        let end = v + xml[v..].find("</v>").unwrap();
        assert_eq!(
            xml[v..end].parse::<f64>().unwrap(),
            0.093,
            "the cell holds the factor"
        );
        format!("{}0.193{}", &xml[..v], &xml[end..])
    });
    let input = dir.path().join("edited.xlsx");
    std::fs::write(&input, &edited).unwrap();
    let mut after = recalculated(&soffice, &input, dir.path());
    let g7_after = number(&after.worksheet_range("E1-6 Summary").unwrap(), 6, 6);
    eprintln!("G7 {g7_before} tCO2e + {delta_t} = {g7_after} tCO2e");
    crate::common::assert_close(g7_after, g7_before + delta_t, 1e-9, "G7 after the change");
    // The chain: G7 = AI Services total / 1000 = Calculation Lines total / 1000.
    let ai = after.worksheet_range("AI Services").unwrap();
    let ai_kg = header_col_of(&ai, "kgCO2e (central)");
    crate::common::assert_close(
        number(&ai, 1 + o.summary.lines.len(), ai_kg) / 1000.0,
        g7_after,
        1e-12,
        "AI total",
    );
    let calc = after.worksheet_range("Calculation Lines").unwrap();
    let kg = header_col_of(&calc, "kgCO2e (central)");
    crate::common::assert_close(
        number(&calc, 1 + o.summary.calc_lines.len(), kg) / 1000.0,
        g7_after,
        1e-9,
        "Calculation Lines total",
    );
}
