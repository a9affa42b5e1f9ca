//! Supplier-specific data (METHODOLOGY §5): vendor carbon reports replace or sit beside the
//! estimate. The vendor figures are the ones written in the fixtures; the arithmetic is in the
//! comments.

use calamine::{open_workbook, Data, Reader, Xlsx};
use llm_scope3::aggregate::supplier::SupplierStatus;
use llm_scope3::estimate::Method;

use super::common::{assert_close, bin_in, fixture, root, run};

fn billing() -> std::path::PathBuf {
    root().join("samples/gcp_billing_bigquery_2026Q1.csv")
}

fn gcp_carbon() -> std::path::PathBuf {
    root().join("samples/gcp_carbon_footprint_2026Q1.csv")
}

#[test]
fn google_carbon_footprint_replaces_the_matching_estimates() {
    let alone = run(&[&billing()], "2026Q1").unwrap();
    let o = run(&[&billing(), &gcp_carbon()], "2026Q1").unwrap();

    // The carbon file: 11 rows = 8 AI-service rows in Q1 + 1 of December (outside) + Compute
    // Engine and Cloud Storage (skipped).
    let f = &o.files[1];
    assert_eq!(f.format, "gcp-carbon-footprint");
    assert_eq!(
        (
            f.counts.read,
            f.counts.accepted,
            f.counts.outside_period,
            f.counts.skipped
        ),
        (11, 8, 1, 2)
    );
    assert!(f.counts.balanced());

    // Seven keys (Vertex AI us-central1 January sums two projects: 41.25 + 20.5 = 61.75),
    // every one used.
    let s = &o.summary.supplier;
    assert_eq!(s.len(), 7, "{s:#?}");
    assert!(s.iter().all(|x| x.status == SupplierStatus::Used), "{s:#?}");
    let jan_us = s
        .iter()
        .find(|x| x.key.month == "2026-01" && x.key.region == "us-central1")
        .unwrap();
    assert_close(jan_us.location_kg.unwrap(), 61.75, 1e-12, "Jan us-central1");
    assert_eq!(jan_us.sub_accounts, 2);
    // Scope 3 = 12.0 + 6.0 = 18.0 kg.
    assert_close(
        jan_us.scope3_kg.unwrap(),
        18.0,
        1e-12,
        "Jan us-central1 scope 3",
    );

    // The replaced lines of that key add up to the vendor figure, embodied to its Scope 3,
    // and each takes its share of the key's estimate: vendor × own / Σ own.
    let key_lines: Vec<_> = o
        .summary
        .calc_lines
        .iter()
        .filter(|c| {
            c.key.month == "2026-01"
                && c.key.region.as_deref() == Some("us-central1")
                && c.key.service.as_deref() == Some("vertex-ai")
        })
        .collect();
    assert!(key_lines.len() >= 2);
    let kg: f64 = key_lines
        .iter()
        .map(|c| c.body.estimate.emissions_kgco2e.central)
        .sum();
    assert_close(kg, 61.75, 1e-12, "key lines sum to the vendor figure");
    let embodied: f64 = key_lines
        .iter()
        .map(|c| c.body.estimate.embodied_kgco2e.central)
        .sum();
    assert_close(embodied, 18.0, 1e-12, "embodied = vendor Scope 3");
    let own_total: f64 = key_lines
        .iter()
        .map(|c| c.body.supplier.as_ref().unwrap().estimate_kgco2e.central)
        .sum();
    assert_close(own_total, jan_us.estimate_kgco2e.central, 1e-12, "estimate");
    for c in &key_lines {
        let sup = c.body.supplier.as_ref().unwrap();
        assert!(sup.used);
        assert_eq!(c.body.method, Method::SupplierSpecific);
        let e = c.body.estimate.emissions_kgco2e;
        assert_eq!((e.low, e.high), (e.central, e.central), "no range");
        assert_close(
            e.central,
            61.75 * sup.estimate_kgco2e.central / own_total,
            1e-12,
            "share",
        );
    }

    // Totals: the vendor figures (61.75 + 22 + 10 + 74 + 36 + 86 + 50 = 339.75 kg) plus the
    // estimates of the keys without a vendor row (Gemini API in February and March).
    let unmatched: f64 = alone
        .summary
        .lines
        .iter()
        .filter(|l| l.key.service.as_deref() == Some("gemini-api") && l.key.month != "2026-01")
        .map(|l| l.body.estimate.emissions_kgco2e.central)
        .sum();
    assert!(unmatched > 0.0);
    let t = &o.summary.totals;
    assert_close(
        t.emissions_kgco2e.central,
        339.75 + unmatched,
        1e-9,
        "total",
    );
    assert_close(
        t.primary_data_share,
        339.75 / (339.75 + unmatched),
        1e-9,
        "% primary",
    );
    // Energy and water stay the tool's estimate.
    assert_close(
        t.energy_kwh.central,
        alone.summary.totals.energy_kwh.central,
        1e-12,
        "energy",
    );
    assert_close(
        t.water_l.central,
        alone.summary.totals.water_l.central,
        1e-12,
        "water",
    );
    // Sensitivity: vendor lines are fixed; every row still brackets the central total.
    for (name, lo, hi) in &o.summary.sensitivity {
        assert!(
            *lo <= t.emissions_kgco2e.central + 1e-9 && *hi >= t.emissions_kgco2e.central - 1e-9,
            "{name}: {lo} {hi}"
        );
    }
}

#[test]
fn the_workbook_and_json_show_vendor_figures_beside_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.xlsx");
    let json = dir.path().join("s.json");
    bin_in(dir.path())
        .args([
            "report",
            "--quarter",
            "2026Q1",
            "--as-of",
            "2026-04-15",
            "--out",
        ])
        .arg(&out)
        .arg("--json")
        .arg(&json)
        .arg(billing())
        .arg(gcp_carbon())
        .assert()
        .success();
    let mut wb: Xlsx<_> = open_workbook(&out).unwrap();
    let sup = wb.worksheet_range("Supplier Data").unwrap();
    let rows: Vec<_> = sup.rows().collect();
    let head: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let used: Vec<_> = rows[1..]
        .iter()
        .filter(|r| r[col("Status")].to_string().starts_with("used"))
        .collect();
    assert_eq!(used.len(), 7);
    let lb: f64 = used
        .iter()
        .map(|r| match r[col("Vendor kgCO2e location-based")] {
            Data::Float(v) => v,
            ref other => panic!("{other:?}"),
        })
        .sum();
    assert_close(lb, 339.75, 1e-12, "Supplier Data location-based");

    // AI Services: the vendor column sums to the same 339.75 kg.
    let ai = wb.worksheet_range("AI Services").unwrap();
    let rows: Vec<_> = ai.rows().collect();
    let head: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    let vcol = head
        .iter()
        .position(|h| h == "Vendor kgCO2e (allocated)")
        .unwrap();
    let vendor: f64 = rows[1..]
        .iter()
        .filter_map(|r| match r.get(vcol) {
            Some(Data::Float(v)) => Some(*v),
            _ => None,
        })
        .sum();
    assert_close(vendor, 339.75, 1e-9, "AI Services vendor column");

    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let sd = j["supplier_data"].as_array().unwrap();
    assert_eq!(sd.len(), 7);
    assert!(sd.iter().all(|s| s["status"] == "used"));
    let supplier_lines = j["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["method"] == "supplier-specific")
        .count();
    assert!(supplier_lines >= 7);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    assert!(v.is_valid(&j));
}

#[test]
fn aws_carbon_export_uses_v3_bedrock_rows_and_explains_the_rest() {
    let cur = root().join("samples/aws_cur_legacy_bedrock_2026Q1.csv");
    let alone = run(&[&cur], "2026Q1").unwrap();
    let o = run(
        &[&cur, &fixture("supplier/aws_carbon_export_2026Q1.csv")],
        "2026Q1",
    )
    .unwrap();
    let f = &o.files[1];
    // 7 rows: 5 in the period (2 Bedrock Jan, 1 Bedrock Feb v2, Other, Bedrock Paris),
    // EC2 skipped, the kgCO2e-unit row rejected.
    assert_eq!(
        (f.counts.accepted, f.counts.skipped, f.counts.rejected),
        (5, 1, 1)
    );
    let rej = o
        .rejections
        .iter()
        .find(|r| r.file.ends_with("aws_carbon_export_2026Q1.csv"))
        .unwrap();
    assert_eq!(rej.row, 7);
    assert_eq!(rej.column.as_deref(), Some("total_lbm_emissions_unit"));
    assert!(rej.reason.contains("MTCO2e"));

    let by = |svc: &str, month: &str| {
        o.summary
            .supplier
            .iter()
            .find(|s| s.key.service == svc && s.key.month == month)
            .unwrap()
    };
    // January Bedrock us-east-1: (0.0021 + 0.0009) MTCO2e × 1000 = 3.0 kg, model v3.0.0: used.
    let jan = by("bedrock", "2026-01");
    assert_eq!(jan.status, SupplierStatus::Used);
    assert_close(jan.location_kg.unwrap(), 3.0, 1e-12, "Jan Bedrock");
    assert_eq!(jan.key.account.as_deref(), Some("111122223333"));
    // February under model v2.0.0 excludes Scope 3: beside.
    assert!(
        matches!(&by("bedrock", "2026-02").status, SupplierStatus::Beside(r) if r.contains("v2.0.0"))
    );
    // Other: context only, never matched.
    assert!(matches!(
        &by("Other", "2026-01").status,
        SupplierStatus::Context(_)
    ));
    // Paris: no usage line.
    assert!(matches!(
        &by("bedrock", "2026-03").status,
        SupplierStatus::Unmatched(_)
    ));
    // The total changes only by January us-east-1: estimate out, 3.0 kg in.
    let jan_est: f64 = alone
        .summary
        .lines
        .iter()
        .filter(|l| {
            l.key.month == "2026-01"
                && l.key.region.as_deref() == Some("us-east-1")
                && l.key.service.as_deref() == Some("bedrock")
        })
        .map(|l| l.body.estimate.emissions_kgco2e.central)
        .sum();
    assert_close(jan.estimate_kgco2e.central, jan_est, 1e-12, "estimate");
    assert_close(
        o.summary.totals.emissions_kgco2e.central,
        alone.summary.totals.emissions_kgco2e.central - jan_est + 3.0,
        1e-9,
        "total",
    );
}

#[test]
fn aws_console_csv_has_no_account_so_it_is_shown_beside() {
    let cur = root().join("samples/aws_cur_legacy_bedrock_2026Q1.csv");
    let alone = run(&[&cur], "2026Q1").unwrap();
    let o = run(
        &[&cur, &fixture("supplier/aws_ccft_console_2026Q1.csv")],
        "2026Q1",
    )
    .unwrap();
    let bedrock = o
        .summary
        .supplier
        .iter()
        .find(|s| s.key.service == "bedrock")
        .unwrap();
    // 0.003 MTCO2e = 3.0 kg, region "US East (N. Virginia)" mapped to us-east-1.
    assert_close(bedrock.location_kg.unwrap(), 3.0, 1e-12, "Bedrock");
    assert_eq!(bedrock.key.region, "us-east-1");
    assert!(
        matches!(&bedrock.status, SupplierStatus::Beside(r) if r.contains("no account")),
        "{:?}",
        bedrock.status
    );
    assert!(bedrock.matched_lines > 0);
    // The yearly row is rejected with the reason.
    assert!(o
        .rejections
        .iter()
        .any(|r| r.row == 5 && r.reason.contains("yearly")));
    // Nothing replaced: the total is the estimate's.
    assert_eq!(
        o.summary.totals.emissions_kgco2e,
        alone.summary.totals.emissions_kgco2e
    );
    assert_eq!(o.summary.totals.primary_data_share, 0.0);
}

#[test]
fn market_based_only_figures_never_replace_and_negatives_are_rejected() {
    let alone = run(&[&billing()], "2026Q1").unwrap();
    let o = run(
        &[
            &billing(),
            &fixture("supplier/gcp_carbon_market_only_2026Q1.csv"),
        ],
        "2026Q1",
    )
    .unwrap();
    assert_eq!(o.summary.supplier.len(), 1);
    let s = &o.summary.supplier[0];
    assert_eq!(s.location_kg, None);
    assert_eq!(s.market_kg, Some(10.8));
    assert!(matches!(&s.status, SupplierStatus::Beside(r) if r.contains("market-based")));
    assert_eq!(
        o.summary.totals.emissions_kgco2e,
        alone.summary.totals.emissions_kgco2e
    );
    let r = o.rejections.iter().find(|r| r.row == 3).unwrap();
    assert_eq!(r.value.as_deref(), Some("-3.0"));
    assert!(r.reason.contains("negative"));
}

#[test]
fn the_same_carbon_report_twice_is_refused_and_the_ledger_resolves_restatements() {
    // Stateless: two copies of one carbon export overlap and are refused.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.csv");
    let text = std::fs::read_to_string(gcp_carbon()).unwrap();
    std::fs::write(&copy, text.replace("\n", "\r\n")).unwrap();
    let e = run(&[&billing(), &gcp_carbon(), &copy], "2026Q1").unwrap_err();
    assert!(e.to_string().contains("count that usage twice"), "{e}");

    // Ledger: import billing and carbon, report; then a restated carbon export (January
    // Europe 22.0 -> 25.0 kg) replaces the figure: total + 3.0 kg; removing it restores 22.0.
    let db = dir.path().join("l.db");
    let report = |tag: &str| -> serde_json::Value {
        let json = dir.path().join(format!("{tag}.json"));
        bin_in(dir.path())
            .args([
                "report",
                "--quarter",
                "2026Q1",
                "--as-of",
                "2026-04-15",
                "--ledger",
            ])
            .arg(&db)
            .arg("--out")
            .arg(dir.path().join(format!("{tag}.xlsx")))
            .arg("--json")
            .arg(&json)
            .assert()
            .success();
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
    };
    bin_in(dir.path())
        .arg("import")
        .arg("--ledger")
        .arg(&db)
        .arg(billing())
        .arg(gcp_carbon())
        .assert()
        .success();
    let first = report("first");
    let stateless = run(&[&billing(), &gcp_carbon()], "2026Q1").unwrap();
    let total =
        |j: &serde_json::Value| j["totals"]["emissions_kgco2e"]["central"].as_f64().unwrap();
    assert_close(
        total(&first),
        stateless.summary.totals.emissions_kgco2e.central,
        1e-9,
        "ledger = stateless",
    );
    let restated = dir.path().join("gcp_carbon_restated.csv");
    std::fs::write(
        &restated,
        text.replace(
            "europe-west4,europe-west4,13,22.0,10.8,0.2,12.3,1.1,9.5",
            "europe-west4,europe-west4,13,25.0,10.8,0.2,15.3,1.1,9.5",
        ),
    )
    .unwrap();
    bin_in(dir.path())
        .arg("import")
        .arg("--ledger")
        .arg(&db)
        .arg(&restated)
        .assert()
        .success();
    let second = report("second");
    assert_close(total(&second), total(&first) + 3.0, 1e-9, "restated");
    // The change log names the restatement.
    let log = super::common::sheet_text(&dir.path().join("second.xlsx"), "Change Log");
    assert!(
        log.iter()
            .any(|l| l.contains("restated") && l.contains("25.000000")),
        "{log:#?}"
    );
    bin_in(dir.path())
        .args(["imports", "remove", "3", "--yes", "--ledger"])
        .arg(&db)
        .assert()
        .success();
    let third = report("third");
    assert_close(total(&third), total(&first), 1e-9, "removed");
}

#[test]
fn inspect_explains_a_carbon_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = super::common::stdout(
        bin_in(dir.path())
            .arg("inspect")
            .arg(gcp_carbon())
            .assert()
            .success(),
    );
    assert!(
        out.contains("format: gcp-carbon-footprint (vendor carbon report"),
        "{out}"
    );
    // Row 3 is January us-central1, project acme-rag-us: 41.25 kg location-based.
    assert!(out.contains("location-based 41.250000"), "{out}");
    // All time: 9 AI-service rows (December included), 2 other services skipped.
    assert!(
        out.contains("rows 11 = accepted 9 + skipped 2 (other service (not an LLM line) 2)"),
        "{out}"
    );
}
