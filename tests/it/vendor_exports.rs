//! Exports shaped as companies download them, written from the vendors' column references
//! (tests/fixtures/vendors/): AWS Data Exports CUR 2.0 (the `product` map column, a selection
//! of columns without `line_item_unblended_rate`) and Azure cost details of accounts billed in
//! another currency than their prices (MCA `pricingCurrency` / `costInPricingCurrency` /
//! `exchangeRatePricingToBilling`, and an EA layout carrying the same columns). Each test
//! states the totals worked out by hand from the cells.

use std::path::Path;

use crate::common::{fixture, run};
use llm_scope3::model::{Period, SkipReason};
use llm_scope3::normalise::{normalise_file, Template, TemplateSet};
use llm_scope3::pipeline::Outcome;

fn read(name: &str, quarter: &str) -> Outcome {
    let path = fixture(&format!("vendors/{name}"));
    run(&[&path], quarter).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn usd(o: &Outcome) -> f64 {
    o.files[0]
        .accepted_totals
        .spend
        .get("USD")
        .copied()
        .unwrap_or(0.0)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// The calculation line of a model, with its region and tokens (input, cached, output).
fn line(o: &Outcome, model: &str) -> (Option<String>, u64, u64, u64, f64) {
    let lines: Vec<_> = o
        .summary
        .calc_lines
        .iter()
        .filter(|c| c.key.model == model && c.key.spend.is_none())
        .collect();
    assert_eq!(lines.len(), 1, "{model}: {:#?}", o.summary.calc_lines);
    let c = lines[0];
    let a = &c.body.activity;
    (
        c.key.region.clone(),
        a.input_tokens,
        a.cached_input_tokens,
        a.output_tokens,
        c.body.estimate.emissions_kgco2e.central,
    )
}

#[test]
fn cur2_with_a_product_map_that_does_not_name_bedrock_is_read() {
    // CUR 2.0 has no product_product_name; the `product` map holds the Bedrock attributes
    // (model, provider, inferenceType, feature) and no "Bedrock" anywhere. Six rows:
    //   1 USE1-Claude4.6Sonnet-input-tokens        1,200.000 × 1K = 1,200,000 input   $3.60
    //   2 USE1-Claude4.6Sonnet-output-tokens         150.000 × 1K =   150,000 output  $2.25
    //   3 USE1-...-cache-read-input-token-count    2,000.000 × 1K = 2,000,000 cached  $0.60
    //   4 USW2-MP:USW2_OutputTokenCount-Units (Marketplace, opaque product code, map
    //     {"model": "Claude Sonnet 4.5", ...})       0.04 × 1M =     40,000 output  $0.60
    //   5 EC2 BoxUsage: another service, skipped                                  ($0.2016)
    //   6 Tax on product code AmazonBedrock: a spend adjustment                     $0.71
    // Row 4 is kept only by the general rule (its usage type is a token usage type); rows
    // 1-3 and 6 by line_item_product_code = AmazonBedrock as well.
    let o = read("aws_cur2_product_map_without_bedrock_name.csv", "2026Q1");
    let f = &o.files[0];
    assert_eq!(f.format, "aws-cur");
    assert_eq!(
        (
            f.counts.read,
            f.counts.accepted,
            f.counts.rejected,
            f.counts.skipped
        ),
        (6, 5, 0, 1),
        "{:?} {:?}",
        f.counts,
        o.rejections
    );
    assert_eq!(f.skipped_by.get(&SkipReason::OtherService), Some(&1));
    let t = &o.summary.totals.activity;
    // Input: 1,200,000 + 2,000,000 (cached reads are input) = 3,200,000.
    assert_eq!(t.input_tokens, 3_200_000);
    assert_eq!(t.cached_input_tokens, 2_000_000);
    // Output: 150,000 + 40,000 = 190,000.
    assert_eq!(t.output_tokens, 190_000);
    // Spend of the token rows: 3.60 + 2.25 + 0.60 + 0.60 = 7.05 USD; the tax 0.71 apart.
    assert!(close(usd(&o), 7.05), "{}", usd(&o));
    assert_eq!(f.adjustment_rows, 1);
    assert!(close(f.adjustments["USD"], 0.71));
    // Emissions-relevant: the model from the usage type (Claude4.6Sonnet) served in
    // us-east-1 (product_region_code), the Marketplace model from the map, in us-west-2.
    let (region, input, cached, output, kg) = line(&o, "claude-sonnet-4.6");
    assert_eq!(region.as_deref(), Some("us-east-1"));
    assert_eq!((input, cached, output), (3_200_000, 2_000_000, 150_000));
    assert!(kg > 0.0);
    let (region, input, cached, output, kg) = line(&o, "claude-sonnet-4.5");
    assert_eq!(region.as_deref(), Some("us-west-2"));
    assert_eq!((input, cached, output), (0, 0, 40_000));
    assert!(kg > 0.0);
}

#[test]
fn cur2_units_without_a_rate_column_take_the_block_from_cost_over_amount() {
    // A Data Exports selection of columns without line_item_unblended_rate; Marketplace
    // usage types priced in "Units". Price per unit = unblended cost ÷ usage amount:
    //   input       7.50 / 2.5 = 3.00 per unit (≥ 0.05: a 1M block) → 2.5 × 1M = 2,500,000
    //   output      3.00 / 0.2 = 15.0 per unit (1M)                 → 0.2 × 1M =   200,000
    //   cache read  1.20 / 4.0 = 0.30 per unit (1M)                 → 4.0 × 1M = 4,000,000
    let o = read("aws_cur2_units_without_rate.csv", "2026Q1");
    let f = &o.files[0];
    assert_eq!(
        (f.counts.read, f.counts.accepted, f.counts.rejected),
        (3, 3, 0),
        "{:?}",
        o.rejections
    );
    let t = &o.summary.totals.activity;
    // Input: 2,500,000 + 4,000,000 cached = 6,500,000.
    assert_eq!(t.input_tokens, 6_500_000);
    assert_eq!(t.cached_input_tokens, 4_000_000);
    assert_eq!(t.output_tokens, 200_000);
    // Spend: 7.50 + 3.00 + 1.20 = 11.70 USD.
    assert!(close(usd(&o), 11.70), "{}", usd(&o));
    // The decision is recorded, like those from a unit price.
    assert_eq!(
        f.unit_decisions
            .get("unit inferred from cost ÷ amount (no unit price): 1M tokens"),
        Some(&3),
        "{:?}",
        f.unit_decisions
    );
    // Emissions-relevant: Claude Sonnet 4.5 (product name, "(Amazon Bedrock Edition)" cut)
    // in us-east-1.
    let (region, input, cached, output, kg) = line(&o, "claude-sonnet-4.5");
    assert_eq!(region.as_deref(), Some("us-east-1"));
    assert_eq!((input, cached, output), (6_500_000, 4_000_000, 200_000));
    assert!(kg > 0.0);
}

#[test]
fn cur2_units_without_rate_or_money_are_rejected_with_the_reason() {
    // Amount 2.5 in "Units" with no rate column and a cost of 0: nothing tells the block.
    let dir = std::env::temp_dir().join(format!("units-zero-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(fixture("vendors/aws_cur2_units_without_rate.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let first = lines
        .next()
        .unwrap()
        .replace(",7.5000000000,7.5000000000,", ",0,0,");
    let path = dir.join("cur2.csv");
    std::fs::write(&path, format!("{header}\n{first}\n")).unwrap();
    let o = run(&[&path], "2026Q1").unwrap();
    assert_eq!(o.files[0].counts.rejected, 1);
    let r = &o.rejections[0];
    assert_eq!(r.column.as_deref(), Some("pricing_unit"));
    assert!(r.reason.contains("no unit price"), "{}", r.reason);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn azure_mca_billed_in_eur_for_usd_prices_is_read() {
    // A European MCA account: billingCurrency EUR, pricingCurrency USD,
    // exchangeRatePricingToBilling 0.92, effectivePrice in USD. The cost relation is checked
    // on costInPricingCurrency (USD); spend stays costInBillingCurrency (EUR).
    //   gpt-4o-0806 input  0.0025 × 20,000 = 50 USD = cost: quantity in 1K blocks
    //                      → 20,000 × 1,000 = 20,000,000 tokens; 50 × 0.92 = 46.00 EUR
    //   gpt-4o-0806 output 0.01 × 1,500 = 15 USD: blocks → 1,500,000; 13.80 EUR
    //   gpt-4o-mini input  0.00015 × 40,000,000 / 1,000 = 6 USD: tokens → 40,000,000; 5.52 EUR
    //   Hot LRS Data Stored: another service, skipped
    let o = read("azure_mca_eur_billing_usd_pricing.csv", "2026Q1");
    let f = &o.files[0];
    assert_eq!(f.format, "azure-cost-export");
    assert_eq!(
        (
            f.counts.read,
            f.counts.accepted,
            f.counts.rejected,
            f.counts.skipped
        ),
        (4, 3, 0, 1),
        "{:?}",
        o.rejections
    );
    let t = &o.summary.totals.activity;
    // Input: 20,000,000 + 40,000,000 = 60,000,000; output 1,500,000.
    assert_eq!(t.input_tokens, 60_000_000);
    assert_eq!(t.output_tokens, 1_500_000);
    // Spend in the billing currency only: 46.00 + 13.80 + 5.52 = 65.32 EUR.
    let spend = &f.accepted_totals.spend;
    assert_eq!(spend.keys().collect::<Vec<_>>(), ["EUR"]);
    assert!(close(spend["EUR"], 65.32), "{spend:?}");
    assert!(close(o.summary.totals.spend["EUR"], 65.32));
    // How each quantity was read, and the exchange rate, in the unit decisions.
    let d = &f.unit_decisions;
    assert_eq!(
        d.get("quantity in price blocks (cost = price × quantity)"),
        Some(&2),
        "{d:?}"
    );
    assert_eq!(
        d.get("quantity in tokens (cost = price × quantity / block)"),
        Some(&1)
    );
    assert_eq!(
        d.get(
            "prices in USD, spend kept in EUR at 0.92 EUR per USD; price × quantity checked \
             against costInPricingCurrency"
        ),
        Some(&3),
        "{d:?}"
    );
    // Emissions-relevant: both models in swedencentral (Global deployments, flagged).
    let (region, input, _, output, kg) = line(&o, "gpt-4o-0806");
    assert_eq!(region.as_deref(), Some("swedencentral"));
    assert_eq!((input, output), (20_000_000, 1_500_000));
    assert!(kg > 0.0);
    let (_, input, _, output, _) = line(&o, "gpt-4o-mini-0718");
    assert_eq!((input, output), (40_000_000, 0));
    // The workbook's Imports sheet shows the spend in EUR and the rate, read back.
    let dir = std::env::temp_dir().join(format!("mca-eur-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    crate::common::bin_in(&dir)
        .arg("report")
        .arg(fixture("vendors/azure_mca_eur_billing_usd_pricing.csv"))
        .args(["--quarter", "2026Q1", "--out", "r.xlsx"])
        .assert()
        .success();
    let cells = crate::common::sheet_text(&dir.join("r.xlsx"), "Imports");
    assert!(
        cells.iter().any(|c| c.contains(
            "prices in USD, spend kept in EUR at 0.92 EUR per USD; price × quantity checked \
             against costInPricingCurrency: 3 row(s)"
        )),
        "{cells:?}"
    );
    assert!(cells.iter().any(|c| c == "EUR 65.32"), "{cells:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn azure_ea_with_pricing_currency_columns_uses_the_price_currency_cost() {
    // EA layout (BillingCurrencyCode EUR) with PricingCurrencyCode USD, CostInPricingCurrency
    // and ExchangeRatePricingToBilling 0.92:
    //   input  0.0025 × 8,000 = 20 USD = CostInPricingCurrency: blocks → 8,000,000; 18.40 EUR
    //   output CostInPricingCurrency empty: 4.60 EUR ÷ 0.92 = 5.00 USD = 0.01 × 500: blocks
    //          → 500,000; 4.60 EUR
    let o = read("azure_ea_eur_billing_usd_pricing.csv", "2026Q1");
    let f = &o.files[0];
    assert_eq!(
        (f.counts.read, f.counts.accepted, f.counts.rejected),
        (2, 2, 0),
        "{:?}",
        o.rejections
    );
    let t = &o.summary.totals.activity;
    assert_eq!((t.input_tokens, t.output_tokens), (8_000_000, 500_000));
    // 18.40 + 4.60 = 23.00 EUR.
    assert!(close(f.accepted_totals.spend["EUR"], 23.0));
    let d = &f.unit_decisions;
    assert_eq!(
        d.get("quantity in price blocks (cost = price × quantity)"),
        Some(&2),
        "{d:?}"
    );
    assert_eq!(
        d.get(
            "prices in USD, spend kept in EUR at 0.92 EUR per USD; price × quantity checked \
             against CostInPricingCurrency"
        ),
        Some(&1),
        "{d:?}"
    );
    assert_eq!(
        d.get(
            "prices in USD, spend kept in EUR at 0.92 EUR per USD; price × quantity checked \
             against the cost ÷ the exchange rate"
        ),
        Some(&1),
        "{d:?}"
    );
}

/// A template of one service whose skip rule names it by a product column, and whose meter
/// rules classify token and non-token usage types.
const SKIP_TEMPLATE: &str = r#"
id = "skip-test"
name = "skip rule test"
provider = "aws-bedrock"
[detect]
required = ["day", "usage", "amount", "product"]
[fields]
bucket_start = { column = "day" }
model = { column = "model" }
cost = { column = "cost" }
[[skip]]
column = "product"
unless = "(?i)bedrock"
reason = "not a Bedrock line"
[meter]
column = "usage"
quantity = "amount"
[[meter.rule]]
match = '-input-tokens$'
class = "input"
[[meter.rule]]
match = '-images$'
class = "not_estimated"
label = "images"
"#;

#[test]
fn a_row_a_token_rule_classifies_is_never_skipped_as_another_service() {
    // Five rows, every product cell failing the skip rule except the last:
    //   1 token usage type, product "Claude"        → kept (token rule), 100 input tokens
    //   2 image usage type, product "Claude"        → skipped (not a token class)
    //   3 unknown usage type, product "EC2"         → skipped
    //   4 token usage type, product "EC2"           → kept, 20 input tokens
    //   5 token usage type, product "Amazon Bedrock" → kept, 3 input tokens
    let dir = std::env::temp_dir().join(format!("skip-rule-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("usage.csv");
    std::fs::write(
        &path,
        "day,usage,amount,product,model,cost\n\
         2026-01-05,USE1-m-input-tokens,100,Claude,m,1\n\
         2026-01-05,USE1-m-images,4,Claude,m,2\n\
         2026-01-05,USE1-BoxUsage,1,EC2,,3\n\
         2026-01-05,USE1-m-input-tokens,20,EC2,m,4\n\
         2026-01-05,USE1-m-input-tokens,3,Amazon Bedrock,m,5\n",
    )
    .unwrap();
    let mut set = TemplateSet::default();
    set.add(Template::from_toml(SKIP_TEMPLATE, "skip-test").unwrap())
        .unwrap();
    let period = Period::quarter("2026Q1").unwrap();
    let mut records = vec![];
    let mut rejections = vec![];
    let report = normalise_file(
        Path::new(&path),
        "usage.csv",
        0,
        &set,
        &period,
        &mut |r| records.push(r),
        &mut rejections,
    )
    .unwrap();
    assert!(rejections.is_empty(), "{rejections:?}");
    assert_eq!(report.skipped_by.get(&SkipReason::OtherService), Some(&2));
    let tokens: Vec<u64> = records.iter().map(|r| r.input_tokens).collect();
    // 100 + 20 + 3 = 123 input tokens on the three kept rows.
    assert_eq!(tokens, [100, 20, 3]);
    assert_eq!(report.accepted_totals.input_tokens, 123);
    let _ = std::fs::remove_dir_all(&dir);
}
