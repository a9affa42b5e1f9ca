//! Reporting entities and the group (#21 item 3): imports assigned to an entity (`import
//! --entity NAME`, or the config file's `[[entities]]` rules by billing account), one entity's
//! report, the group's consolidated report with its Entities sheet, final statements per
//! entity and for the group compared like with like; on an SQLite file and on PostgreSQL
//! (tests/it/pg.rs). A ledger without entities reports as before.

use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Data, Reader};

use crate::common::{assert_close, cell_f64, root};
use crate::ledger_backends::{backends, cli};

const OPENAI: &str = "samples/openai_completions_usage_2026-01-01_2026-03-31.csv";
const AZURE: &str = "samples/azure_cost_export_ea_2026Q1.csv";
const FRANCE: &str = "Acme France SAS";
const GERMANY: &str = "Acme Deutschland GmbH";

/// The OpenAI sample split three ways, each file with the sample's header: the rows of project
/// `proj_support_bot` (France's), the other rows but one (Germany's, the vendor's total row
/// included), and that one: proj_analytics' gpt-4.1 row of 2026-03-21, Germany's late data.
fn split(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let text = std::fs::read_to_string(root().join(OPENAI)).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut fr, mut de, mut late) = (vec![header], vec![header], vec![header]);
    for l in lines {
        if l.contains(",proj_support_bot,") {
            fr.push(l);
        } else if l.starts_with("1774051200,1774137600,") && l.contains(",gpt-4.1-2025-04-14,") {
            late.push(l);
        } else {
            de.push(l);
        }
    }
    assert_eq!((fr.len(), de.len(), late.len()), (158, 297, 2));
    let write = |name: &str, rows: &[&str]| {
        let p = dir.join(name);
        std::fs::write(&p, rows.join("\n") + "\n").unwrap();
        p
    };
    (
        write("france.csv", &fr),
        write("germany.csv", &de),
        write("germany_late.csv", &late),
    )
}

/// `report --quarter 2026Q1` from `ledger` with `more` arguments, the factor set pinned and
/// the date fixed; the JSON summary it wrote.
fn report(dir: &Path, ledger: &str, name: &str, more: &[&str]) -> serde_json::Value {
    let (json, xlsx) = (format!("{name}.json"), format!("{name}.xlsx"));
    let mut args = vec![
        "report",
        "--quarter",
        "2026Q1",
        "--factors",
        "2026.3",
        "--as-of",
        "2026-04-15",
        "--ledger",
        ledger,
        "--out",
        &xlsx,
        "--json",
        &json,
    ];
    args.extend_from_slice(more);
    let (code, out, err) = cli(dir, &args);
    assert_eq!(code, 0, "{name}: {out}{err}");
    serde_json::from_slice(&std::fs::read(dir.join(&json)).unwrap()).unwrap()
}

/// Central, low and high kgCO2e, energy kWh (central), input and output tokens of a summary's
/// totals, or of one of its `entities`.
fn figures(v: &serde_json::Value) -> [f64; 6] {
    let e = &v["emissions_kgco2e"];
    [
        e["central"].as_f64().unwrap(),
        e["low"].as_f64().unwrap(),
        e["high"].as_f64().unwrap(),
        v["energy_kwh"]["central"].as_f64().unwrap(),
        v["input_tokens"].as_f64().unwrap(),
        v["output_tokens"].as_f64().unwrap(),
    ]
}

fn totals(j: &serde_json::Value) -> [f64; 6] {
    figures(&j["totals"])
}

fn validate(name: &str, j: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(j).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{name}.json: {errors:#?}");
}

/// The Entities sheet as rows of cells, with its formulas (calamine: values and formula texts
/// are both read back, never bytes).
fn entities_sheet(path: &Path) -> (Vec<Vec<Data>>, Vec<Vec<String>>) {
    let mut wb = open_workbook_auto(path).expect("a workbook");
    let values = wb.worksheet_range("Entities").expect("the Entities sheet");
    let formulas = wb.worksheet_formula("Entities").expect("its formulas");
    let mut cells = vec![];
    let mut texts = vec![];
    for r in 0..=values.end().unwrap().0 {
        let row: Vec<Data> = (0..12)
            .map(|c| values.get_value((r, c)).cloned().unwrap_or(Data::Empty))
            .collect();
        let f: Vec<String> = (0..12)
            .map(|c| formulas.get_value((r, c)).cloned().unwrap_or_default())
            .collect();
        cells.push(row);
        texts.push(f);
    }
    (cells, texts)
}

#[test]
fn each_backend_reports_each_entity_and_the_group_which_they_add_up_to() {
    let test = "entities::each_backend_reports_each_entity_and_the_group_which_they_add_up_to";
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (fr, de, late) = split(d);
    let p = |p: &Path| p.to_str().unwrap().to_string();
    for be in backends(test, d, 0) {
        let l = be.arg.as_str();
        let n = be.name;
        // Each file as its entity's: every record of france.csv is France's, of germany.csv
        // Germany's.
        let (code, out, err) = cli(d, &["import", &p(&fr), "--entity", FRANCE, "--ledger", l]);
        assert_eq!(code, 0, "{n}: {err}");
        assert!(
            out.contains("records by entity (named by --entity): Acme France SAS 156"),
            "{n}: {out}"
        );
        let (code, out, err) = cli(d, &["import", &p(&de), "--entity", GERMANY, "--ledger", l]);
        assert_eq!(code, 0, "{n}: {err}");
        assert!(
            out.contains("records by entity (named by --entity): Acme Deutschland GmbH 288"),
            "{n}: {out}"
        );
        let (_, list, _) = cli(d, &["imports", "list", "--ledger", l]);
        assert!(
            list.contains("france.csv  [entity Acme France SAS]"),
            "{n}: {list}"
        );

        let f = report(d, l, &format!("{n}-fr"), &["--entity", FRANCE]);
        let g = report(d, l, &format!("{n}-de"), &["--entity", GERMANY]);
        let group = report(d, l, &format!("{n}-group"), &["--group"]);
        // Without --entity or --group, a ledger that holds entities is reported as the group.
        let plain = report(d, l, &format!("{n}-plain"), &[]);
        for (name, j) in [("fr", &f), ("de", &g), ("group", &group), ("plain", &plain)] {
            validate(&format!("{n}-{name}"), j);
        }
        assert_eq!(
            f["entity_scope"],
            serde_json::json!({"scope": "entity", "entity": FRANCE})
        );
        assert_eq!(group["entity_scope"], serde_json::json!({"scope": "group"}));
        assert_eq!(plain["entity_scope"], group["entity_scope"]);
        assert_eq!(plain["totals"], group["totals"], "{n}");
        // One entity's report holds its own import only.
        assert_eq!(f["imports"].as_array().unwrap().len(), 1, "{n}");
        assert_eq!(f["imports"][0]["file"], p(&fr), "{n}");

        // By hand, the tokens (sums of the files' columns over the accepted rows):
        //   France, 156 accepted rows of proj_support_bot (row 158, input 'n/a', rejected):
        //     input 272,471,121, output 57,938,801;
        //   Germany, 288 accepted rows: input 203,561,112 - 345,600 (the late row, held back)
        //     = 203,215,512, output 24,614,966 - 47,520 = 24,567,446;
        //   the group: input 272,471,121 + 203,215,512 = 475,686,633,
        //              output 57,938,801 + 24,567,446 = 82,506,247.
        let (ft, gt, all) = (totals(&f), totals(&g), totals(&group));
        assert_eq!((ft[4], ft[5]), (272_471_121.0, 57_938_801.0), "{n}");
        assert_eq!((gt[4], gt[5]), (203_215_512.0, 24_567_446.0), "{n}");
        assert_eq!((all[4], all[5]), (475_686_633.0, 82_506_247.0), "{n}");
        // The emissions and energy, each entity's report as the tool computes it (factor set
        // 2026.3), added by hand:
        //   central 8.55762235019 + 4.33965834147 = 12.89728069166 kgCO2e
        //   low     1.2716970004  + 0.658728399   =  1.9304253994 kgCO2e
        //   high    66.4763882851 + 36.4372625675 = 102.9136508526 kgCO2e
        //   energy  20.0519356408 + 10.1685428739 = 30.2204785147 kWh (central)
        // and the group's own report gives the same (to the JSON's 12 significant digits).
        assert_close(ft[0], 8.55762235019, 1e-9, "France central kgCO2e");
        assert_close(gt[0], 4.33965834147, 1e-9, "Germany central kgCO2e");
        for (k, by_hand) in [12.89728069166, 1.9304253994, 102.9136508526, 30.2204785147]
            .into_iter()
            .enumerate()
        {
            assert_close(
                all[k],
                by_hand,
                1e-9,
                &format!("{n}: group figure {k} by hand"),
            );
        }
        for k in 0..4 {
            assert_close(all[k], ft[k] + gt[k], 1e-9, &format!("{n}: figure {k}"));
        }
        // The JSON's entities are those two reports, in name order (Deutschland, France).
        let rows = group["entities"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "{n}: {rows:?}");
        assert_eq!(rows[0]["entity"], GERMANY);
        assert_eq!(rows[1]["entity"], FRANCE);
        assert_eq!(figures(&rows[0]), gt, "{n}");
        assert_eq!(figures(&rows[1]), ft, "{n}");
        assert_eq!(rows[1]["records"], 156);

        // The Entities sheet: a row per entity, then the total row, whose cells are SUM
        // formulas over the rows above and whose values are their sums: the group's figure.
        let (cells, formulas) = entities_sheet(&d.join(format!("{n}-group.xlsx")));
        let at = |label: &str| {
            cells
                .iter()
                .position(|r| r[0] == Data::String(label.into()))
                .unwrap_or_else(|| panic!("{n}: no row {label}: {cells:?}"))
        };
        let header = at("Reporting entity");
        assert_eq!(cells[header][3], Data::String("tCO2e (central)".into()));
        let (de_row, fr_row) = (at(GERMANY), at(FRANCE));
        assert_eq!((de_row, fr_row), (header + 1, header + 2));
        let total = at("Group total (sum of the rows above)");
        assert_eq!(total, header + 3);
        // Sheet rows are 1-based in formulas: the entity rows are 5 and 6.
        assert_eq!((de_row + 1, fr_row + 1), (5, 6));
        for (col, letter) in [
            (1, "B"),
            (2, "C"),
            (3, "D"),
            (4, "E"),
            (5, "F"),
            (6, "G"),
            (7, "H"),
        ] {
            assert_eq!(
                formulas[total][col],
                format!("SUM({letter}5:{letter}6)"),
                "{n}: column {letter}"
            );
            let sum = cell_f64(&cells[de_row][col]) + cell_f64(&cells[fr_row][col]);
            assert_close(cell_f64(&cells[total][col]), sum, 1e-12, "the total row");
        }
        // tCO2e central: 0.00433965834147 + 0.00855762235019 = 0.01289728069166 t, the
        // group's figure (E1-6 Summary), and the difference row says 0.
        assert_close(
            cell_f64(&cells[total][3]),
            all[0] / 1000.0,
            1e-9,
            "total tCO2e",
        );
        assert_close(
            cell_f64(&cells[total][3]),
            0.01289728069166,
            1e-9,
            "by hand",
        );
        let difference = at("Difference (sum − reported)");
        assert_eq!(formulas[difference][3], "ROUND(D7-D8,6)");
        assert_eq!(cell_f64(&cells[difference][3]), 0.0);
        // Tokens: 203,215,512 + 272,471,121 = 475,686,633.
        assert_eq!(cell_f64(&cells[total][6]), 475_686_633.0);

        // Final statements: France's, then the group's; both recorded, each with its scope.
        let fa = report(
            d,
            l,
            &format!("{n}-fr-final"),
            &["--entity", FRANCE, "--final"],
        );
        assert_eq!(fa["final_statement"]["entity"], FRANCE, "{n}");
        assert_eq!(fa["final_statement"]["id"], 1);
        let ga = report(d, l, &format!("{n}-group-final"), &["--group", "--final"]);
        assert_eq!(ga["final_statement"]["id"], 2);
        assert!(ga["final_statement"].get("entity").is_none(), "{n}: {ga}");
        // The group had no statement before: its report is not compared with France's.
        assert!(ga.get("compared_with_final").is_none(), "{n}: {ga}");
        let ledger = be.open();
        let q1 = crate::common::config("2026Q1").period.clone();
        let stated = ledger
            .last_statement_of(&q1, Some(FRANCE))
            .unwrap()
            .unwrap();
        assert_eq!((stated.id, stated.entity.as_deref()), (1, Some(FRANCE)));
        assert_close(stated.kgco2e[1], ft[0], 1e-12, "France's statement");
        let stated = ledger.last_statement(&q1).unwrap().unwrap();
        assert_eq!((stated.id, stated.entity), (2, None));
        assert!(ledger
            .last_statement_of(&q1, Some(GERMANY))
            .unwrap()
            .is_none());
        drop(ledger);

        // Germany's late data: France's figure still matches France's statement (like with
        // like); the group's differs from the group's statement by Germany's change alone.
        let (code, _, err) = cli(
            d,
            &["import", &p(&late), "--entity", GERMANY, "--ledger", l],
        );
        assert_eq!(code, 0, "{n}: {err}");
        let f2 = report(d, l, &format!("{n}-fr-2"), &["--entity", FRANCE]);
        let g2 = report(d, l, &format!("{n}-de-2"), &["--entity", GERMANY]);
        let group2 = report(d, l, &format!("{n}-group-2"), &["--group"]);
        let c = &f2["compared_with_final"];
        assert_eq!(
            (c["statement"]["id"].as_i64(), c["matches"].as_bool()),
            (Some(1), Some(true))
        );
        assert!(
            c["message"]
                .as_str()
                .unwrap()
                .contains("for entity Acme France SAS"),
            "{c}"
        );
        assert!(
            g2.get("compared_with_final").is_none(),
            "{n}: Germany has no statement"
        );
        let c = &group2["compared_with_final"];
        assert_eq!(
            (c["statement"]["id"].as_i64(), c["matches"].as_bool()),
            (Some(2), Some(false))
        );
        assert!(
            c["reasons"][0]
                .as_str()
                .unwrap()
                .contains("late data (imports #3 added)"),
            "{c}"
        );
        let grew = totals(&g2)[0] - gt[0];
        assert!(grew > 0.0);
        assert_close(
            c["difference_kgco2e_central"].as_f64().unwrap(),
            grew,
            1e-6,
            "the group's difference is Germany's",
        );
        // With the late row, Germany's input tokens are 203,215,512 + 345,600 = 203,561,112.
        assert_eq!(totals(&g2)[4], 203_561_112.0, "{n}");
        // Another entity's name is refused, naming the ledger's entities.
        let (code, _, err) = cli(
            d,
            &[
                "report",
                "--quarter",
                "2026Q1",
                "--ledger",
                l,
                "--entity",
                "Acme Italia",
                "--out",
                "x.xlsx",
            ],
        );
        assert_eq!(code, 2, "{n}: {err}");
        assert!(
            err.contains("holds no record of the entity 'Acme Italia'; its entities are 'Acme Deutschland GmbH', 'Acme France SAS'"),
            "{n}: {err}"
        );
    }
}

/// The Azure sample with the rows of subscription 14fa9a62-... billed to another billing
/// account (79999999 instead of 71234567), as a second subsidiary's would be.
fn azure_two_accounts(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join(AZURE)).unwrap();
    let mut moved = 0;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.contains(",14fa9a62-5359-00f7-9fbc-98c3edc695ec,") {
                moved += 1;
                l.replace(",71234567,", ",79999999,")
            } else {
                l.to_string()
            }
        })
        .collect();
    assert_eq!(moved, 45);
    let p = dir.join("azure.csv");
    std::fs::write(&p, out.join("\r\n") + "\r\n").unwrap();
    p
}

#[test]
fn a_config_rule_assigns_records_by_billing_account_and_ledger_copy_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let azure = azure_two_accounts(d);
    std::fs::write(
        d.join("llm-scope3.toml"),
        "[entity]\nname = \"Contoso Group\"\n\n\
         [[entities]]\nentity = \"Contoso Nordics AB\"\naccount = \"7999*\"\n\n\
         [[entities]]\nentity = \"Contoso AI Platform Ltd\"\naccount = \"*\"\n",
    )
    .unwrap();
    let (code, out, err) = cli(d, &["import", azure.to_str().unwrap(), "--ledger", "l.db"]);
    assert_eq!(code, 0, "{err}");
    // 175 rows: 19 skipped as other services, 156 records; of them the 45 rows of the second
    // account less their 15 skipped ones, 30, are the Nordics', the other 126 the platform's
    // (30 + 126 = 156).
    assert!(
        out.contains("records by entity (by the config file's [[entities]] rules): Contoso AI Platform Ltd 126, Contoso Nordics AB 30"),
        "{out}"
    );
    let nordics = report(d, "l.db", "nordics", &["--entity", "Contoso Nordics AB"]);
    let platform = report(
        d,
        "l.db",
        "platform",
        &["--entity", "Contoso AI Platform Ltd"],
    );
    let group = report(d, "l.db", "group", &["--group"]);
    validate("group", &group);
    let (a, b, all) = (totals(&nordics), totals(&platform), totals(&group));
    for k in 0..6 {
        assert_close(all[k], a[k] + b[k], 1e-9, &format!("figure {k}"));
    }
    assert_eq!(
        group["configuration"]["entities"][0],
        serde_json::json!({"entity": "Contoso Nordics AB", "account": "7999*", "cost_centre": null, "provider": null})
    );
    // The Nordics' report keeps the file's rows adding up: 175 = accepted 30 + excluded 126
    // (the platform's records) + skipped 19.
    let f = &nordics["imports"][0];
    assert_eq!(
        (
            f["rows_read"].as_u64(),
            f["accepted"].as_u64(),
            f["excluded"].as_u64(),
            f["skipped"].as_u64()
        ),
        (Some(175), Some(30), Some(126), Some(19))
    );
    // The spend of the group, per entity, adds up too (USD as exported).
    let spend = |j: &serde_json::Value| j["spend"][0]["amount"].as_f64().unwrap();
    let rows = group["entities"].as_array().unwrap();
    assert_close(
        spend(&group["totals"]),
        spend(&rows[0]) + spend(&rows[1]),
        1e-9,
        "spend",
    );

    // `ledger copy` carries every record's entity: the copy reports the Nordics the same.
    let (code, _, err) = cli(d, &["ledger", "copy", "--from", "l.db", "--to", "copy.db"]);
    assert_eq!(code, 0, "{err}");
    let again = report(
        d,
        "copy.db",
        "nordics-copy",
        &["--entity", "Contoso Nordics AB"],
    );
    assert_eq!(again["totals"], nordics["totals"]);
    assert_eq!(again["entity_scope"], nordics["entity_scope"]);
}

#[test]
fn a_ledger_without_entities_reports_as_before_and_entity_only_names_the_cover() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sample = root().join(OPENAI);
    let (code, out, err) = cli(d, &["import", sample.to_str().unwrap(), "--ledger", "l.db"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("records by entity"), "{out}");
    let plain = report(d, "l.db", "plain", &[]);
    assert!(plain.get("entity_scope").is_none() && plain.get("entities").is_none());
    let sheets = open_workbook_auto(d.join("plain.xlsx"))
        .unwrap()
        .sheet_names();
    assert!(!sheets.iter().any(|s| s == "Entities"), "{sheets:?}");
    // --entity names the Cover only, and says so.
    let (code, out, err) = cli(
        d,
        &[
            "report",
            "--quarter",
            "2026Q1",
            "--factors",
            "2026.3",
            "--as-of",
            "2026-04-15",
            "--ledger",
            "l.db",
            "--entity",
            "Acme SE",
            "--out",
            "named.xlsx",
            "--json",
            "named.json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("note: ledger l.db assigns no record to a reporting entity: --entity names the Cover (Acme SE)"), "{out}");
    let named: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("named.json")).unwrap()).unwrap();
    assert_eq!(named["totals"], plain["totals"]);
    // --group on it: one row, the records of none, which is the whole figure.
    let group = report(d, "l.db", "group", &["--group"]);
    validate("group", &group);
    assert_eq!(group["entities"].as_array().unwrap().len(), 1);
    assert_eq!(group["entities"][0]["entity"], serde_json::Value::Null);
    assert_eq!(figures(&group["entities"][0])[..3], totals(&plain)[..3]);
    // --group without a ledger is refused.
    let (code, _, err) = cli(
        d,
        &[
            "report",
            sample.to_str().unwrap(),
            "--quarter",
            "2026Q1",
            "--group",
            "--out",
            "y.xlsx",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("--group reports the entities of a ledger"),
        "{err}"
    );
}
