//! Model resolution with factor set 2026.2 (rules 2, issue #19 item 1), over
//! `tests/fixtures/model_ids/vendor_model_ids.csv`: model ids as OpenAI, Anthropic, Azure,
//! Bedrock (bare and with its cross-region prefixes) and Vertex write them in 2025-2026 exports,
//! taken from the vendors' model lists (Bedrock "Supported foundation models" and inference
//! profiles, Vertex model versions, Azure OpenAI / Foundry model names, OpenAI and Anthropic
//! model lists), each with the row it must resolve to (`expected`: a model key or
//! `class:<name>`) and how (`key`, `alias`, `normalised`, `sibling`, `class`).

use llm_scope3::factors::{FactorSet, ModelMatch};

use crate::common::root;

fn how(m: &ModelMatch) -> &'static str {
    match m {
        ModelMatch::Exact => "key",
        ModelMatch::Alias => "alias",
        ModelMatch::Normalised => "normalised",
        ModelMatch::Sibling(_) => "sibling",
        ModelMatch::Class(_) => "class",
    }
}

#[test]
fn every_vendor_id_of_the_fixture_resolves_as_expected_with_2026_2() {
    let set = FactorSet::load(Some("2026.2")).unwrap();
    assert_eq!(set.resolution_rules, 2);
    let path = root().join("tests/fixtures/model_ids/vendor_model_ids.csv");
    let mut r = csv::Reader::from_path(&path).unwrap();
    let mut wrong = vec![];
    let mut vendors = std::collections::BTreeMap::<String, usize>::new();
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let (vendor, id, expected, want_how) = (&rec[0], &rec[1], &rec[2], &rec[3]);
        *vendors.entry(vendor.to_string()).or_default() += 1;
        n += 1;
        let got = set.resolve_model(id);
        if got.key != expected || how(&got.how) != want_how {
            wrong.push(format!(
                "{vendor} {id}: got {} ({}), expected {expected} ({want_how})",
                got.key,
                how(&got.how)
            ));
        }
        // A sibling is named on the line, and is a row of the set.
        if let ModelMatch::Sibling(s) = &got.how {
            assert_eq!(s, &got.key);
            assert!(set.models.contains_key(s));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {n} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(n >= 300, "{n} ids");
    for v in ["openai", "anthropic", "azure", "bedrock", "vertex"] {
        assert!(
            vendors.get(v).copied().unwrap_or(0) >= 20,
            "{v}: {vendors:?}"
        );
    }
}

#[test]
fn every_id_of_the_fixture_is_attested_where_vendors_or_their_clients_write_it() {
    // tests/fixtures/model_ids/SOURCES.csv: row for row the fixture's ids, each with where it
    // was found (LiteLLM's price table of a named release and key, or a vendor's docs or SDK);
    // `format-only` rows are spellings of attested ids (ARNs, gateway paths, context-window
    // suffixes) kept to test the normalisation. No id rests on memory.
    let ids: Vec<String> =
        csv::Reader::from_path(root().join("tests/fixtures/model_ids/vendor_model_ids.csv"))
            .unwrap()
            .records()
            .map(|r| r.unwrap()[1].to_string())
            .collect();
    let sources: Vec<(String, String, String)> =
        csv::Reader::from_path(root().join("tests/fixtures/model_ids/SOURCES.csv"))
            .unwrap()
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[0].to_string(), r[1].to_string(), r[2].to_string())
            })
            .collect();
    assert_eq!(
        sources.iter().map(|s| &s.0).collect::<Vec<_>>(),
        ids.iter().collect::<Vec<_>>()
    );
    let kinds = [
        "litellm",
        "openai-docs",
        "anthropic-docs",
        "azure-docs",
        "google-docs",
        "aws-docs",
        "export-sample",
        "format-only",
    ];
    for (id, kind, place) in &sources {
        assert!(kinds.contains(&kind.as_str()), "{id}: {kind}");
        assert!(!place.trim().is_empty(), "{id}: no place");
    }
    let format_only = sources.iter().filter(|s| s.1 == "format-only").count();
    assert!(format_only <= 10, "{format_only} format-only rows");
}

#[test]
fn the_issue_s_misresolutions_are_fixed_in_2026_2_and_kept_in_2026_1() {
    let new = FactorSet::load(Some("2026.2")).unwrap();
    let old = FactorSet::load(Some("2026.1")).unwrap();
    assert_eq!(old.resolution_rules, 1);
    // (id, 2026.1 resolution, 2026.2 resolution)
    for (id, before, after) in [
        // gpt-oss: flagship class (44-132 B active) before, its own row (5.1 B active) now.
        ("gpt-oss-120b", "class:flagship", "gpt-oss-120b"),
        // Bedrock Llama 3.1: the llama3-1 spelling and -instruct were not normalised.
        (
            "meta.llama3-1-8b-instruct-v1:0",
            "class:flagship",
            "llama-3.1-8b",
        ),
        // Substrings: 'large' in voyage-3-large made it frontier text; now an embedding.
        ("voyage-3-large", "class:frontier", "class:embedding"),
        // '-pro' made o3-pro frontier; it is o3 with more compute per request.
        ("o3-pro", "class:frontier", "o3"),
        // Large 2 (123 B dense) fell to Large 3 after its date was removed.
        ("mistral-large-2407", "mistral-large", "mistral-large-2"),
        // Missing prefixes.
        (
            "jp.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "class:flagship",
            "claude-sonnet-4-5",
        ),
        (
            "au.anthropic.claude-haiku-4-5-20251001-v1:0",
            "class:mini",
            "claude-haiku-4-5",
        ),
    ] {
        assert_eq!(old.resolve_model(id).key, before, "2026.1 {id}");
        assert_eq!(new.resolve_model(id).key, after, "2026.2 {id}");
    }
    // The embedding class's input energy is far below a flagship's output token: with
    // P = 0.1-8 B, e_in central = flop(sqrt(0.1·8) = 0.894 B, u 0.40) = 5.0135e-4 · 0.894 / 0.40
    // = 0.00112 Wh per 1,000 tokens, against gpt-4o e_out central 0.382 (docs/methodology.md):
    // 340 times less.
    let f = llm_scope3::estimate::LineFactors::resolve(
        &new,
        "anthropic",
        "voyage-3-large",
        None,
        None,
        2026,
    );
    assert_eq!(f.model.kind, "embedding");
    assert!(
        (f.energy.e_in.central - 0.001_121).abs() < 0.000_01,
        "{:?}",
        f.energy.e_in
    );
    assert_eq!(f.energy.e_out.central, 0.0);
}

#[test]
fn a_sibling_is_flagged_on_the_line() {
    let set = FactorSet::load(Some("2026.2")).unwrap();
    let f = llm_scope3::estimate::LineFactors::resolve(
        &set,
        "google",
        "gemini-2.0-flash-001",
        None,
        None,
        2026,
    );
    assert_eq!(f.model.how, ModelMatch::Sibling("gemini-2.5-flash".into()));
    assert!(
        f.flags.iter().any(|x| x
            == "model not in the factor set: estimated as its nearest sibling (gemini-2.5-flash)"),
        "{:?}",
        f.flags
    );
    assert!(f.by_class());
    assert_eq!(f.dq_technology, 3);
}

#[test]
fn a_model_estimated_as_its_sibling_is_a_warning() {
    // One OpenAI usage row of gemini-2.0-flash-001, which 2026.2 estimates as its nearest
    // sibling gemini-2.5-flash: the report says so in its warnings, as it does for a class.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        root().join("tests/fixtures/gaps/openai_thousands_dot_and_comma.csv"),
    )
    .unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let row = lines
        .next()
        .unwrap()
        .replace("gpt-4o-2024-08-06", "gemini-2.0-flash-001")
        .replace(",1.000,", ",1000,");
    let path = dir.path().join("usage.csv");
    std::fs::write(&path, format!("{header}\n{row}\n")).unwrap();
    let cfg = llm_scope3::config::Config::new(
        &llm_scope3::config::PeriodRequest::quarter("2026Q1"),
        &llm_scope3::config::ReadRequest {
            factors: Some("2026.2".into()),
            ..Default::default()
        },
        Some("2026-04-15"),
        None,
    )
    .unwrap();
    let input = llm_scope3::pipeline::Input {
        path: path.clone(),
        name: "usage.csv".into(),
    };
    let o = llm_scope3::pipeline::run(&[input], vec![], &cfg).unwrap();
    let w = o
        .warnings
        .iter()
        .find(|w| w.code.as_str() == "model_unresolved")
        .expect("a warning");
    assert!(
        w.message.contains(
            "1 model(s) are not in factor set 2026.2 and were estimated as their nearest sibling in the set"
        ) && w.message.contains("openai gemini-2.0-flash-001"),
        "{}",
        w.message
    );
}

#[test]
fn requests_only_rows_of_a_reasoning_model_impute_a_reasoning_answer() {
    // Two OpenAI usage rows with 10 requests and no tokens: o3 (a reasoning model) and gpt-4o.
    // 2026.2 imputes 2,238 output tokens per o3 request (the geometric mean of ML.ENERGY's
    // 717-token chat and 6,988-token reasoning answers: sqrt(717 × 6,988) = 2,238.4) and 400
    // per gpt-4o request: 22,380 and 4,000. 2026.1 imputes 400 for both: 4,000 and 4,000.
    let dir = tempfile::tempdir().unwrap();
    let header = std::fs::read_to_string(
        root().join("tests/fixtures/gaps/openai_thousands_dot_and_comma.csv"),
    )
    .unwrap()
    .lines()
    .next()
    .unwrap()
    .to_string();
    let row = |model: &str| {
        format!(
            "1767571200,1767657600,2026-01-05T00:00:00+00:00,2026-01-06T00:00:00+00:00,proj_a,10,,key_a,{model},False,default,,,,,,,,,,,,,"
        )
    };
    let path = dir.path().join("usage.csv");
    std::fs::write(
        &path,
        format!(
            "{header}\n{}\n{}\n",
            row("o3-2025-04-16"),
            row("gpt-4o-2024-08-06")
        ),
    )
    .unwrap();
    let imputed = |version: &str| -> Vec<(String, u64, bool)> {
        let cfg = llm_scope3::config::Config::new(
            &llm_scope3::config::PeriodRequest::quarter("2026Q1"),
            &llm_scope3::config::ReadRequest {
                factors: Some(version.into()),
                ..Default::default()
            },
            Some("2026-04-15"),
            None,
        )
        .unwrap();
        let input = llm_scope3::pipeline::Input {
            path: path.clone(),
            name: "usage.csv".into(),
        };
        let o = llm_scope3::pipeline::run(&[input], vec![], &cfg).unwrap();
        o.summary
            .lines
            .iter()
            .map(|l| {
                (
                    l.key.model.clone(),
                    l.body.estimate.imputed_output_tokens,
                    l.body
                        .flags
                        .iter()
                        .any(|f| f.contains("a reasoning model's answer")),
                )
            })
            .collect()
    };
    assert_eq!(
        imputed("2026.2"),
        [
            ("gpt-4o-2024-08-06".to_string(), 4_000, false),
            ("o3-2025-04-16".to_string(), 22_380, true),
        ]
    );
    assert_eq!(
        imputed("2026.1"),
        [
            ("gpt-4o-2024-08-06".to_string(), 4_000, false),
            ("o3-2025-04-16".to_string(), 4_000, false),
        ]
    );
}

#[test]
fn reasoning_models_are_told_by_whole_name_parts() {
    use llm_scope3::factors::resolve::reasoning_model;
    for (key, raw, want) in [
        ("o3", "o3-2025-04-16", true),
        ("o4-mini", "o4-mini", true),
        ("o1-pro", "o1-pro", true),
        ("gpt-5", "gpt-5-2025-08-07", true),
        ("gpt-5-chat-latest", "gpt-5-chat-latest", false),
        ("deepseek-r1", "us.deepseek.r1-v1:0", true),
        ("gpt-oss-120b", "openai.gpt-oss-120b-1:0", true),
        ("class:mini", "qwq-32b", true),
        ("class:mini", "claude-3-7-sonnet-thinking", true),
        ("gpt-4o", "gpt-4o-2024-08-06", false),
        ("gpt-4o-mini", "gpt-4o-mini", false),
        ("omni-moderation-latest", "omni-moderation-latest", false),
        ("gemini-2.5-flash", "gemini-2.5-flash", false),
        ("claude-opus-4", "claude-opus-4-20250514", false),
    ] {
        assert_eq!(reasoning_model(key, raw), want, "{key} / {raw}");
    }
}

#[test]
fn the_methodology_sheet_says_what_changed_from_the_previous_factor_set() {
    // A report with 2026.2 lists, on its Methodology sheet, the set README's "Changes from
    // 2026.1" file by file; a report with 2026.1 has no such block.
    let dir = tempfile::tempdir().unwrap();
    let sample = root().join("samples/openai_completions_usage_2026-01-01_2026-03-31.csv");
    for (version, listed) in [("2026.2", true), ("2026.1", false)] {
        let out = dir.path().join(format!("{version}.xlsx"));
        crate::common::bin_in(dir.path())
            .arg("report")
            .arg(&sample)
            .args([
                "--quarter",
                "2026Q1",
                "--as-of",
                "2026-04-15",
                "--factors",
                version,
            ])
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        let text = crate::common::sheet_text(&out, "Methodology");
        let heading = text.iter().any(|t| {
            t.starts_with("Changes from factor set 2026.1 (the set's README; llm-scope3 factors diff 2026.1 2026.2")
        });
        let constants = text.iter().any(|t| {
            t.starts_with(
                "constants.csv: replaced eeio_518210, embodied; added eeio_price_year, \
                     price_tier_batch, price_tier_fast, price_tier_flex, price_tier_priority, \
                     request_output_tokens_reasoning, resolution_rules",
            )
        });
        assert_eq!(
            (heading, constants),
            (listed, listed),
            "{version}: {text:#?}"
        );
    }
}
