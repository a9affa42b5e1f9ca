//! Synthetic vendor exports of any size for the benchmarks (deterministic: same seed, same bytes).
//!
//!     cargo run --profile dist --example bench-gen -- openai 2000000 tmp/bench/openai_2m.csv
//!     cargo run --profile dist --example bench-gen -- aws 1000000 tmp/bench/cur.csv.gz
//!     cargo run --profile dist --example bench-gen -- azure 200000 tmp/bench/azure.xlsx
//!     cargo run --profile dist --example bench-gen -- cells report.xlsx
//!
//! Formats: `openai` (Usage dashboard export, hourly buckets per project × user × model),
//! `aws` (legacy CUR, hourly Bedrock line items, a few other services, tax and credit lines),
//! `azure` (Cost Management EA export, daily Azure OpenAI meters, a few other services). The
//! column layouts are the ones in samples/, so the templates detect them as real exports. The
//! output kind follows the extension: `.csv`, `.csv.gz` or `.xlsx` (rust_xlsxwriter's
//! constant-memory mode, numbers stored as numbers). Rows fall in 2026Q1 in time order.
//! Options after the path: `--seed N` (default 1), `--projects N` (cost centres; more projects
//! make more distinct report lines), `--totals` (print the token totals of the rows written).
//!
//! `cells FILE` counts the non-empty cells of every sheet of a workbook (calamine), which the
//! benchmark divides by the workbook-writing time.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};

/// splitmix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    /// An index drawn with the given weights.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| *w as u64).sum();
        let mut x = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if x < *w as u64 {
                return i;
            }
            x -= *w as u64;
        }
        weights.len() - 1
    }
}

const JAN_1_2026: i64 = 1_767_225_600;
/// 2026Q1 in hours (90 days).
const QUARTER_HOURS: i64 = 90 * 24;

fn iso(t: i64, suffix: &str) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string() + suffix)
        .unwrap_or_default()
}

/// One generated cell: text, or a number (written as text in CSV, as a number in XLSX).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Number,
}

/// A row being built: reused buffers, no allocation per row once warm.
struct Row {
    cells: Vec<(String, Kind)>,
    used: usize,
}

impl Row {
    fn new() -> Row {
        Row {
            cells: vec![],
            used: 0,
        }
    }
    fn clear(&mut self) {
        self.used = 0;
    }
    fn slot(&mut self, kind: Kind) -> &mut String {
        if self.used == self.cells.len() {
            self.cells.push((String::new(), kind));
        }
        let c = &mut self.cells[self.used];
        self.used += 1;
        c.0.clear();
        c.1 = kind;
        &mut c.0
    }
    fn text(&mut self, s: &str) {
        self.slot(Kind::Text).push_str(s);
    }
    fn num(&mut self, args: std::fmt::Arguments<'_>) {
        let _ = self.slot(Kind::Number).write_fmt(args);
    }
    fn textf(&mut self, args: std::fmt::Arguments<'_>) {
        let _ = self.slot(Kind::Text).write_fmt(args);
    }
    fn cells(&self) -> &[(String, Kind)] {
        &self.cells[..self.used]
    }
}

/// Where rows go.
enum Sink {
    Csv(Box<dyn Write>),
    Xlsx {
        book: Box<rust_xlsxwriter::Workbook>,
        row: u32,
        path: String,
    },
}

impl Sink {
    fn open(path: &str) -> Result<Sink, String> {
        if path.ends_with(".xlsx") {
            let mut book = Box::new(rust_xlsxwriter::Workbook::new());
            book.add_worksheet_with_constant_memory()
                .map_err(|e| e.to_string())?
                .set_name("Export")
                .map_err(|e| e.to_string())?;
            return Ok(Sink::Xlsx {
                book,
                row: 0,
                path: path.to_string(),
            });
        }
        let file = std::fs::File::create(path).map_err(|e| format!("{path}: {e}"))?;
        let w: Box<dyn Write> = if path.ends_with(".gz") {
            Box::new(flate2::write::GzEncoder::new(
                BufWriter::with_capacity(1 << 20, file),
                flate2::Compression::fast(),
            ))
        } else {
            Box::new(BufWriter::with_capacity(1 << 20, file))
        };
        Ok(Sink::Csv(w))
    }

    fn header(&mut self, names: &str) -> Result<(), String> {
        let mut row = Row::new();
        for n in names.split(',') {
            row.text(n);
        }
        self.row(&row)
    }

    fn row(&mut self, row: &Row) -> Result<(), String> {
        match self {
            Sink::Csv(w) => {
                let mut first = true;
                for (cell, _) in row.cells() {
                    if !first {
                        w.write_all(b",").map_err(|e| e.to_string())?;
                    }
                    first = false;
                    if cell.contains([',', '"', '\n']) {
                        let quoted = format!("\"{}\"", cell.replace('"', "\"\""));
                        w.write_all(quoted.as_bytes())
                    } else {
                        w.write_all(cell.as_bytes())
                    }
                    .map_err(|e| e.to_string())?;
                }
                w.write_all(b"\n").map_err(|e| e.to_string())
            }
            Sink::Xlsx { book, row: r, .. } => {
                let sheet = book.worksheet_from_index(0).map_err(|e| e.to_string())?;
                for (col, (cell, kind)) in row.cells().iter().enumerate() {
                    if cell.is_empty() {
                        continue;
                    }
                    let col = col as u16;
                    match (kind, cell.parse::<f64>()) {
                        (Kind::Number, Ok(n)) => sheet.write_number(*r, col, n),
                        _ => sheet.write_string(*r, col, cell),
                    }
                    .map_err(|e| e.to_string())?;
                }
                *r += 1;
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<(), String> {
        match self {
            Sink::Csv(mut w) => w.flush().map_err(|e| e.to_string()),
            Sink::Xlsx { mut book, path, .. } => book.save(&path).map_err(|e| e.to_string()),
        }
    }
}

/// Token totals of the rows written (what every engine must find).
#[derive(Default)]
struct Totals {
    input: u64,
    output: u64,
}

const OPENAI_HEADER: &str = "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,api_key_id,model,batch,service_tier,input_tokens,output_tokens,input_cached_tokens,input_uncached_tokens,input_text_tokens,output_text_tokens,input_cached_text_tokens,input_audio_tokens,input_cached_audio_tokens,output_audio_tokens,input_image_tokens,input_cached_image_tokens,output_image_tokens";

/// (model id as exported, weight, typical input tokens per request, output per request).
const OPENAI_MODELS: &[(&str, u32, u64, u64)] = &[
    ("gpt-4o-mini-2024-07-18", 30, 1200, 250),
    ("gpt-4o-2024-08-06", 14, 2500, 400),
    ("gpt-4.1-2025-04-14", 10, 3000, 500),
    ("gpt-4.1-mini-2025-04-14", 12, 1500, 300),
    ("gpt-4.1-nano-2025-04-14", 5, 800, 120),
    ("gpt-5-2025-08-07", 8, 4000, 1500),
    ("gpt-5-mini-2025-08-07", 9, 2000, 700),
    ("o4-mini-2025-04-16", 4, 2500, 2000),
    ("o3-2025-04-16", 2, 3000, 3000),
    ("text-embedding-3-small", 4, 600, 0),
    ("text-embedding-3-large", 2, 600, 0),
];

fn project_name(i: u64) -> String {
    const TEAMS: &[&str] = &[
        "support_bot",
        "search",
        "sales_assist",
        "docs_qa",
        "code_review",
        "data_eng",
        "marketing",
        "legal_review",
        "hr_helpdesk",
        "analytics",
    ];
    format!("proj_{}_{:03}", TEAMS[(i % TEAMS.len() as u64) as usize], i)
}

fn openai(n: u64, sink: &mut Sink, rng: &mut Rng, projects: u64) -> Result<Totals, String> {
    sink.header(OPENAI_HEADER)?;
    let mut row = Row::new();
    let mut t = Totals::default();
    let weights: Vec<u32> = OPENAI_MODELS.iter().map(|m| m.1).collect();
    let projects: Vec<String> = (0..projects).map(project_name).collect();
    for i in 0..n {
        let hour = (i as i128 * QUARTER_HOURS as i128 / n.max(1) as i128) as i64;
        let start = JAN_1_2026 + hour * 3600;
        let end = start + 3600;
        let (model, _, tin, tout) = OPENAI_MODELS[rng.weighted(&weights)];
        let p = rng.below(projects.len() as u64) as usize;
        let requests = rng.range(1, 60);
        let input = requests * rng.range(tin / 4, tin * 2);
        let output = requests * rng.range(tout / 4, tout * 2);
        let cached = if rng.below(3) == 0 {
            input * rng.range(0, 80) / 100
        } else {
            0
        };
        t.input += input;
        t.output += output;
        row.clear();
        row.num(format_args!("{start}"));
        row.num(format_args!("{end}"));
        row.text(&iso(start, "+00:00"));
        row.text(&iso(end, "+00:00"));
        row.text(&projects[p]);
        row.num(format_args!("{requests}.0"));
        row.textf(format_args!("user-{:05}", rng.below(20_000)));
        row.textf(format_args!("key_{:03}_{}", p, rng.below(4)));
        row.text(model);
        row.text(if rng.below(10) == 0 { "True" } else { "False" });
        row.text("default");
        row.num(format_args!("{input}.0"));
        row.num(format_args!("{output}.0"));
        row.num(format_args!("{cached}.0"));
        row.num(format_args!("{}.0", input - cached));
        row.num(format_args!("{input}.0"));
        row.num(format_args!("{output}.0"));
        row.num(format_args!("{cached}.0"));
        for _ in 0..6 {
            row.num(format_args!("0.0"));
        }
        sink.row(&row)?;
    }
    Ok(t)
}

const CUR_HEADER: &str = "identity/LineItemId,identity/TimeInterval,bill/InvoiceId,bill/InvoicingEntity,bill/BillingEntity,bill/BillType,bill/PayerAccountId,bill/BillingPeriodStartDate,bill/BillingPeriodEndDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/ProductCode,lineItem/UsageType,lineItem/Operation,lineItem/AvailabilityZone,lineItem/ResourceId,lineItem/UsageAmount,lineItem/NormalizationFactor,lineItem/NormalizedUsageAmount,lineItem/CurrencyCode,lineItem/UnblendedRate,lineItem/UnblendedCost,lineItem/BlendedRate,lineItem/BlendedCost,lineItem/LineItemDescription,lineItem/TaxType,lineItem/LegalEntity,product/ProductName,product/location,product/locationType,product/operation,product/productFamily,product/region,product/servicecode,product/servicename,product/sku,product/usagetype,pricing/RateCode,pricing/RateId,pricing/currency,pricing/publicOnDemandCost,pricing/publicOnDemandRate,pricing/term,pricing/unit,resourceTags/user:cost-center,resourceTags/user:team";

/// (usage-type model part, weight, $ per 1K input, $ per 1K output).
const CUR_MODELS: &[(&str, u32, f64, f64)] = &[
    ("Claude4.6Sonnet", 30, 0.003, 0.015),
    ("Claude4.5Haiku", 20, 0.001, 0.005),
    ("Claude4.6Opus", 6, 0.005, 0.025),
    ("Llama3-3-70B", 8, 0.00072, 0.00072),
    ("NovaPro", 10, 0.0008, 0.0032),
    ("NovaLite", 10, 0.00006, 0.00024),
    ("Mistral-Large-2402", 4, 0.004, 0.012),
];

/// (billing prefix, region code, location).
const CUR_REGIONS: &[(&str, &str, &str, u32)] = &[
    ("USE1", "us-east-1", "US East (N. Virginia)", 40),
    ("USW2", "us-west-2", "US West (Oregon)", 25),
    ("EUC1", "eu-central-1", "EU (Frankfurt)", 15),
    ("EUW1", "eu-west-1", "EU (Ireland)", 10),
    ("APN1", "ap-northeast-1", "Asia Pacific (Tokyo)", 10),
];

fn line_item_id(rng: &mut Rng) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..52).map(|_| A[rng.below(32) as usize] as char).collect()
}

fn aws(n: u64, sink: &mut Sink, rng: &mut Rng, projects: u64) -> Result<Totals, String> {
    sink.header(CUR_HEADER)?;
    let mut row = Row::new();
    let mut t = Totals::default();
    let mw: Vec<u32> = CUR_MODELS.iter().map(|m| m.1).collect();
    let rw: Vec<u32> = CUR_REGIONS.iter().map(|r| r.3).collect();
    for i in 0..n {
        let hour = (i as i128 * QUARTER_HOURS as i128 / n.max(1) as i128) as i64;
        let start = JAN_1_2026 + hour * 3600;
        let (s, e) = (iso(start, "Z"), iso(start + 3600, "Z"));
        let month = chrono::DateTime::from_timestamp(start, 0)
            .map(|d| d.format("%Y-%m").to_string())
            .unwrap_or_default();
        let bill_start = format!("{month}-01T00:00:00Z");
        let roll = rng.below(100);
        let (m, _, pin, pout) = CUR_MODELS[rng.weighted(&mw)];
        let (prefix, region, location, _) = CUR_REGIONS[rng.weighted(&rw)];
        let cc = rng.below(projects);
        row.clear();
        row.text(&line_item_id(rng));
        row.textf(format_args!("{s}/{e}"));
        row.text("4036924965");
        row.text("Amazon Web Services, Inc.");
        row.text("AWS");
        row.text("Anniversary");
        row.text("111122223333");
        row.text(&bill_start);
        row.text(&bill_start);
        row.textf(format_args!("4444555{:05}", cc % 7));
        if roll < 6 {
            // Another AWS service in the same report: skipped by the template.
            row.text("Usage");
            row.text(&s);
            row.text(&e);
            row.text("AmazonEC2");
            row.textf(format_args!("{prefix}-BoxUsage:m7i.large"));
            row.text("RunInstances");
            row.text("");
            row.textf(format_args!("i-{:017x}", rng.next() >> 4));
            row.num(format_args!("1"));
            for v in ["", "", "USD", "0.1008", "0.1008", "0.1008", "0.1008"] {
                row.text(v);
            }
            row.text("$0.1008 per On Demand Linux m7i.large Instance Hour");
            row.text("");
            row.text("Amazon Web Services, Inc.");
            row.text("Amazon Elastic Compute Cloud");
            row.text(location);
            row.text("AWS Region");
            row.text("RunInstances");
            row.text("Compute Instance");
            row.text(region);
            row.text("AmazonEC2");
            row.text("Amazon Elastic Compute Cloud");
            for _ in 0..7 {
                row.text("");
            }
            row.text("Hrs");
        } else {
            let output = rng.below(3) == 0;
            let dir = if output { "output" } else { "input" };
            let per_1k = if output { pout } else { pin };
            // Amounts in 1K-token blocks, six decimals as CUR writes them.
            let amount_milli = rng.range(50, 400_000);
            let tokens = amount_milli; // 1K tokens × amount (amount = milli / 1000)
            let amount = amount_milli as f64 / 1000.0;
            let cost = amount * per_1k;
            if output {
                t.output += tokens;
            } else {
                t.input += tokens;
            }
            let usage_type = format!("{prefix}-{m}-{dir}-tokens");
            row.text("Usage");
            row.text(&s);
            row.text(&e);
            row.text("AmazonBedrock");
            row.text(&usage_type);
            row.text("InvokeModelInference");
            row.text("");
            row.textf(format_args!(
                "arn:aws:bedrock:{region}:444455556666:inference-profile/{}",
                m.to_lowercase()
            ));
            row.num(format_args!("{amount:.6}"));
            row.text("");
            row.text("");
            row.text("USD");
            row.num(format_args!("{per_1k:.10}"));
            row.num(format_args!("{cost:.10}"));
            row.num(format_args!("{per_1k:.10}"));
            row.num(format_args!("{cost:.10}"));
            row.textf(format_args!("{m} {dir} tokens"));
            row.text("");
            row.text("Amazon Web Services, Inc.");
            row.text("Amazon Bedrock");
            row.text(location);
            row.text("AWS Region");
            row.text("InvokeModelInference");
            row.text("Amazon Bedrock");
            row.text(region);
            row.text("AmazonBedrock");
            row.text("Amazon Bedrock");
            row.textf(format_args!("{:016X}", rng.next() >> 1));
            row.text(&usage_type);
            row.text("");
            row.text("");
            row.text("USD");
            row.num(format_args!("{cost:.10}"));
            row.num(format_args!("{per_1k:.10}"));
            row.text("OnDemand");
            row.text("1K tokens");
        }
        row.textf(format_args!("cc-{:04}", 1000 + cc));
        row.text(["assistant", "search", "analytics", "platform"][(cc % 4) as usize]);
        sink.row(&row)?;
    }
    Ok(t)
}

const AZURE_HEADER: &str = "InvoiceSectionName,AccountName,AccountOwnerId,SubscriptionId,SubscriptionName,ResourceGroup,ResourceLocation,Date,ProductName,MeterCategory,MeterSubCategory,MeterId,MeterName,MeterRegion,UnitOfMeasure,Quantity,EffectivePrice,CostInBillingCurrency,CostCenter,ConsumedService,ResourceId,Tags,OfferId,AdditionalInfo,ServiceInfo1,ServiceInfo2,ResourceName,ReservationId,ReservationName,UnitPrice,ProductOrderId,ProductOrderName,Term,PublisherType,PublisherName,ChargeType,Frequency,PricingModel,AvailabilityZone,BillingAccountId,BillingAccountName,BillingCurrencyCode,BillingPeriodStartDate,BillingPeriodEndDate,BillingProfileId,BillingProfileName,InvoiceSectionId,IsAzureCreditEligible,PartNumber,PayGPrice,PlanName,ServiceFamily,CostAllocationRuleName,benefitId,benefitName";

/// (meter name, weight, $ per 1K tokens, output?). Spellings as in real exports.
const AZURE_METERS: &[(&str, u32, f64, bool)] = &[
    ("gpt-4o-0806-Inp-glbl Tokens", 20, 0.0025, false),
    ("gpt-4o-0806-Outp-glbl Tokens", 10, 0.01, true),
    ("gpt-4o-mini-0718-Inp-glbl Tokens", 20, 0.00015, false),
    ("gpt-4o-mini-0718-Outp-glbl Tokens", 10, 0.0006, true),
    ("gpt 4.1 Inp Data Zone Tokens", 8, 0.0022, false),
    ("gpt 4.1 Outp Data Zone Tokens", 4, 0.0088, true),
    ("gpt 4.1 mini Inp regnl Tokens", 8, 0.00044, false),
    ("gpt 4.1 mini Outp regnl Tokens", 4, 0.00176, true),
    ("text-embedding-3-large-glbl Tokens", 6, 0.00013, false),
];

const AZURE_LOCATIONS: &[(&str, &str)] = &[
    ("swedencentral", "Global"),
    ("eastus2", "Global"),
    ("westeurope", "EU West"),
    ("francecentral", "FR Central"),
];

fn azure(n: u64, sink: &mut Sink, rng: &mut Rng, projects: u64) -> Result<Totals, String> {
    sink.header(AZURE_HEADER)?;
    let mut row = Row::new();
    let mut t = Totals::default();
    let w: Vec<u32> = AZURE_METERS.iter().map(|m| m.1).collect();
    for i in 0..n {
        let day = (i as i128 * 90 / n.max(1) as i128) as i64;
        let date = chrono::DateTime::from_timestamp(JAN_1_2026 + day * 86_400, 0)
            .map(|d| d.date_naive())
            .unwrap_or_default();
        let date_s = date.format("%m/%d/%Y").to_string();
        let first = date.format("%m/01/%Y").to_string();
        let cc = rng.below(projects);
        let (loc, meter_region) = AZURE_LOCATIONS[(cc % AZURE_LOCATIONS.len() as u64) as usize];
        let sub = format!("cd99fdc3-7ef9-3a67-4ca0-{:012x}", cc % 5);
        row.clear();
        row.text("Digital Products");
        row.text("Contoso AI Platform");
        row.text("cloud-billing@contoso.example");
        row.text(&sub);
        row.textf(format_args!("contoso-ai-{}", cc % 5));
        row.textf(format_args!("rg-team-{cc:03}"));
        row.text(loc);
        row.text(&date_s);
        if rng.below(100) < 5 {
            row.text("Virtual Machines Dsv5 Series - D4s v5");
            row.text("Virtual Machines");
            row.text("Dsv5 Series");
            row.text("148fe073-2598-a90c-1d15-0e9876284e98");
            row.text("D4s v5");
            row.text("US East");
            row.text("1 Hour");
            row.num(format_args!("24"));
            row.num(format_args!("0.192"));
            row.num(format_args!("4.608"));
        } else {
            let (meter, _, price, output) = AZURE_METERS[rng.weighted(&w)];
            let blocks_milli = rng.range(100, 5_000_000);
            let tokens = blocks_milli; // 1K × blocks_milli / 1000
            if output {
                t.output += tokens;
            } else {
                t.input += tokens;
            }
            let qty = blocks_milli as f64 / 1000.0;
            row.textf(format_args!("Azure OpenAI - {meter}"));
            row.text("Cognitive Services");
            row.text("Azure OpenAI");
            row.textf(format_args!(
                "{:08x}-7c31-29d0-518e-0770fa86be10",
                rng.next() >> 32
            ));
            row.text(meter);
            row.text(meter_region);
            row.text("1K");
            row.num(format_args!("{qty:.3}"));
            row.num(format_args!("{price}"));
            row.num(format_args!("{:.8}", qty * price));
        }
        row.textf(format_args!("CC-{}", 4000 + cc));
        row.text("Microsoft.CognitiveServices");
        row.textf(format_args!(
            "/subscriptions/{sub}/resourceGroups/rg-team-{cc:03}/providers/Microsoft.CognitiveServices/accounts/aoai-{cc:03}"
        ));
        row.textf(format_args!("\"env\": \"prod\",\"team\": \"t{cc}\""));
        row.text("MS-AZR-0017P");
        for _ in 0..3 {
            row.text("");
        }
        row.textf(format_args!("aoai-{cc:03}"));
        row.text("");
        row.text("");
        row.num(format_args!("0.0025"));
        for _ in 0..3 {
            row.text("");
        }
        for v in ["Azure", "Microsoft", "Usage", "UsageBased", "OnDemand", ""] {
            row.text(v);
        }
        row.text("71234567");
        row.text("Contoso Ltd");
        row.text("USD");
        row.text(&first);
        row.text(&date_s);
        row.text("71234567");
        row.text("Contoso Ltd");
        row.text("1204567");
        row.text("True");
        row.text("HUZ-83888");
        row.num(format_args!("0.0025"));
        row.text("");
        row.text("AI + Machine Learning");
        for _ in 0..3 {
            row.text("");
        }
        sink.row(&row)?;
    }
    Ok(t)
}

fn count_cells(path: &str) -> Result<u64, String> {
    use calamine::{open_workbook_auto, Reader};
    let mut book = open_workbook_auto(path).map_err(|e| e.to_string())?;
    let mut n = 0u64;
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| e.to_string())?;
        n += range.used_cells().count() as u64;
    }
    Ok(n)
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench-gen openai|aws|azure ROWS OUT[.csv|.csv.gz|.xlsx] [--seed N] [--projects N] [--totals]\n       bench-gen cells FILE.xlsx";
    match args.first().map(String::as_str) {
        Some("cells") => {
            let path = args.get(1).ok_or(usage)?;
            println!("{}", count_cells(path)?);
            return Ok(());
        }
        Some("openai" | "aws" | "azure") => {}
        _ => return Err(usage.into()),
    }
    let rows: u64 = args
        .get(1)
        .and_then(|r| r.replace('_', "").parse().ok())
        .ok_or(usage)?;
    let out = args.get(2).ok_or(usage)?;
    let mut seed = 1u64;
    let mut projects = 40u64;
    let mut totals = false;
    let mut rest = args[3..].iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--seed" => seed = rest.next().and_then(|v| v.parse().ok()).ok_or(usage)?,
            "--projects" => projects = rest.next().and_then(|v| v.parse().ok()).ok_or(usage)?,
            "--totals" => totals = true,
            _ => return Err(usage.into()),
        }
    }
    let mut rng = Rng(seed);
    let mut sink = Sink::open(out)?;
    let projects = projects.max(1);
    let t = match args[0].as_str() {
        "openai" => openai(rows, &mut sink, &mut rng, projects)?,
        "aws" => aws(rows, &mut sink, &mut rng, projects)?,
        _ => azure(rows, &mut sink, &mut rng, projects)?,
    };
    sink.finish()?;
    if totals {
        println!("input_tokens={} output_tokens={}", t.input, t.output);
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bench-gen: {e}");
        std::process::exit(2);
    }
}
