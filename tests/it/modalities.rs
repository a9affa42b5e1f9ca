//! Modalities (issue #19 item 2): image, audio and video items are never text tokens. The
//! OpenAI usage export's audio and image token columns are subtracted from its token fields and
//! listed as not-estimated items; lines of image, audio and video models (factor set 2026.2)
//! are not estimated from tokens: estimated from their spend by EEIO where it is known, else
//! listed with their quantity and a warning.

use llm_scope3::config::{Config, PeriodRequest, ReadRequest};
use llm_scope3::pipeline::{self, Outcome};

use crate::common::fixture;

fn config_with(factors: Option<&str>) -> Config {
    Config::new(
        &PeriodRequest {
            quarter: Some("2026Q1".into()),
            year: None,
            from: None,
            to: None,
        },
        &ReadRequest {
            templates: vec![],
            factors: factors.map(str::to_string),
            config: None,
            max_lines: None,
        },
        Some("2026-04-15"),
        Some("Test Entity"),
    )
    .expect("test config")
}

fn run_with(paths: &[std::path::PathBuf], factors: Option<&str>) -> Outcome {
    let (inputs, skipped) = pipeline::inputs_from_paths(paths).expect("inputs");
    pipeline::run(&inputs, skipped, &config_with(factors)).expect("run")
}

/// (label, model, quantity, unit) of each not-estimated item.
fn items(o: &Outcome) -> Vec<(String, String, f64, String)> {
    o.summary
        .not_estimated
        .iter()
        .map(|n| {
            (
                n.key.label.clone(),
                n.key.model.clone(),
                n.quantity,
                n.key.unit.clone(),
            )
        })
        .collect()
}

#[test]
fn openai_audio_and_image_tokens_are_listed_never_text() {
    for factors in [None, Some("2026.2")] {
        let o = run_with(
            &[fixture("modalities/openai_usage_audio_image.csv")],
            factors,
        );
        // Row 2 (gpt-4o): input 10,000 of which audio 1,000 and image 4,000 → text input
        // 10,000 − 1,000 − 4,000 = 5,000; cached 2,000 of which image 500 (audio 0) → text
        // cached 2,000 − 500 = 1,500; output 3,000 of which audio 600 → text output 2,400.
        // Row 3: input 800 = audio 800, output 200 = audio 200: no text at all, so no text
        // record (its 5 requests would otherwise be imputed as 5 × 1,000 text tokens).
        // Row 4: audio input 2,000 > input 1,000: rejected.
        let t = &o.summary.totals.activity;
        assert_eq!(t.input_tokens, 5_000, "text input ({factors:?})");
        assert_eq!(t.cached_input_tokens, 1_500, "text cached input");
        assert_eq!(t.output_tokens, 2_400, "text output");
        assert!(
            o.summary.lines.iter().all(|l| !l.key.tokens_imputed),
            "no imputed text"
        );
        let mut got = items(&o);
        got.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.total_cmp(&b.2)));
        // Audio input: row 2's 1,000 + row 3's 800 = 1,800 tokens (same line: model,
        // project, month); audio output: 600 + 200 = 800; image input: 4,000.
        let want = [
            ("audio input tokens", 1_800.0),
            ("audio output tokens", 800.0),
            ("image input tokens", 4_000.0),
        ];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for ((label, model, qty, unit), (wl, wq)) in got.iter().zip(want) {
            assert_eq!(label, wl);
            assert_eq!(model, "gpt-4o-2024-08-06");
            assert_eq!(*qty, wq, "{label}");
            assert_eq!(unit, "tokens");
        }
        assert_eq!(o.rejections.len(), 1);
        let r = &o.rejections[0];
        assert_eq!(r.row, 4);
        assert_eq!(r.column.as_deref(), Some("input_audio_tokens"));
        assert!(
            r.reason.contains("audio input tokens (2000) exceed"),
            "{}",
            r.reason
        );
        // Rows: 3 read, 2 accepted, 1 rejected.
        let f = &o.files[0];
        assert_eq!((f.counts.accepted, f.counts.rejected), (2, 1));
        // Listed without spend: a warning names them.
        let w = serde_json::to_string(&o.warnings).unwrap();
        assert!(w.contains("audio input tokens"), "{w}");
    }
}

#[test]
fn non_text_model_lines_without_spend_are_listed_with_a_warning() {
    // Factor set 2026.2: gpt-image-1 resolves to the image class, gpt-4o-mini-transcribe is
    // an audio row. Row 2: gpt-image-1, input 1,200 (text), output 5,000 = image output 5,000
    // → text record 1,200 input tokens, item "image output tokens" 5,000. Row 3:
    // gpt-4o-mini-transcribe, input 3,000 = audio 3,000, output 500 text → item "audio input
    // tokens" 3,000, text record 500 output tokens. Both text records are lines of non-text
    // models: listed as "<kind> model: not estimated from tokens" (1,200 and 500 tokens).
    let o = run_with(
        &[fixture("modalities/openai_usage_non_text_models.csv")],
        Some("2026.2"),
    );
    assert!(o.summary.lines.is_empty(), "nothing estimated from tokens");
    assert_eq!(o.summary.totals.emissions_kgco2e.central, 0.0);
    let mut got = items(&o);
    got.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let want = [
        ("audio input tokens", "gpt-4o-mini-transcribe", 3_000.0),
        (
            "audio model: not estimated from tokens",
            "gpt-4o-mini-transcribe",
            500.0,
        ),
        (
            "image model: not estimated from tokens",
            "gpt-image-1",
            1_200.0,
        ),
        ("image output tokens", "gpt-image-1", 5_000.0),
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((label, model, qty, unit), (wl, wm, wq)) in got.iter().zip(want) {
        assert_eq!((label.as_str(), model.as_str(), *qty), (wl, wm, wq));
        assert_eq!(unit, "tokens");
    }
    // The gap is a warning naming every item.
    let w = o
        .warnings
        .iter()
        .find(|w| w.code.as_str() == "not_estimated_without_spend")
        .expect("the warning");
    assert!(w.message.starts_with("4 billed item(s)"), "{}", w.message);
    assert!(w
        .message
        .contains("openai gpt-image-1: image output tokens, 5,000 tokens (2026-01)"));
    assert!(w
        .message
        .contains("gpt-4o-mini-transcribe: audio model: not estimated from tokens, 500 tokens"));
    assert_eq!(w.months, vec!["2026-01".to_string()]);
    assert_eq!(w.rows, Some(4));
}

#[test]
fn non_text_models_with_spend_are_estimated_by_eeio_and_flagged() {
    // The usage export above with the cost export of January 2026: gpt-image-1 100 USD,
    // whisper-1 36 USD, tts-1 15 USD. The usage export covers OpenAI's January, but these
    // cost rows are no reconciliation: the usage lines of these models are not estimated, so
    // their spend is (EEIO). Factor set 2026.2's EEIO: USEEIO v1.3, 0.093 kgCO2e per 2022 USD
    // (eeio_price_year 2022), 2026 spend deflated with CPI-U 2022 / 2025 = 292.655 / 321.943
    // = 0.909027374411: 0.093 × 0.909027374411 = 0.0845395458202 kgCO2e per USD →
    // gpt-image-1 100 × 0.0845395458202 = 8.45395458202; whisper-1 36 × … = 3.04342364953;
    // tts-1 15 × … = 1.2680931873; low × 0.5, high × 2.
    let o = run_with(
        &[
            fixture("modalities/openai_usage_non_text_models.csv"),
            fixture("modalities/openai_cost_non_text_models.csv"),
        ],
        Some("2026.2"),
    );
    let per_usd = 0.093 * 292.655 / 321.943;
    let mut total = 0.0;
    for (model, usd, class) in [
        ("gpt-image-1", 100.0, "image"),
        ("whisper-1", 36.0, "audio"),
        ("tts-1", 15.0, "audio"),
    ] {
        let line = o
            .summary
            .lines
            .iter()
            .find(|l| l.key.model == model)
            .unwrap_or_else(|| panic!("{model} line"));
        assert_eq!(line.key.spend.as_deref(), Some("EEIO"), "{model}");
        assert_eq!(line.body.method.label(), "spend-based");
        assert!(!line.body.energy_estimated);
        assert_eq!(line.body.model_key, format!("class:{class}"));
        assert!(
            line.body.flags[0].starts_with(&format!(
                "image/audio/video model: not estimated from tokens ({class}"
            )),
            "{:?}",
            line.body.flags
        );
        let e = line.body.estimate.emissions_kgco2e;
        crate::common::assert_close(e.central, usd * per_usd, 1e-12, model);
        crate::common::assert_close(e.low, usd * per_usd * 0.5, 1e-12, model);
        crate::common::assert_close(e.high, usd * per_usd * 2.0, 1e-12, model);
        total += usd * per_usd;
    }
    // 8.45395458202 + 3.04342364953 + 1.2680931873 = 12.7654714189 kgCO2e, all of it spend.
    crate::common::assert_close(
        o.summary.totals.emissions_kgco2e.central,
        total,
        1e-12,
        "total",
    );
    crate::common::assert_close(total, 12.7654714189, 1e-9, "hand-worked total");
    // gpt-image-1's items are covered by its spend line; gpt-4o-mini-transcribe's are not.
    let w = o
        .warnings
        .iter()
        .find(|w| w.code.as_str() == "not_estimated_without_spend")
        .expect("the warning");
    assert!(w.message.starts_with("2 billed item(s)"), "{}", w.message);
    assert!(!w.message.contains("gpt-image-1"), "{}", w.message);
}

#[test]
fn factor_set_2026_1_still_estimates_these_models_as_text() {
    // 2026.1 has no image, audio or video kind: gpt-image-1 falls to a size class and
    // gpt-4o-mini-transcribe is an LLM row, both estimated from their text tokens as before
    // (the audio and image token columns are listed, as in every set); the cost rows are
    // listed for reconciliation (the usage export covers OpenAI's January).
    let o = run_with(
        &[
            fixture("modalities/openai_usage_non_text_models.csv"),
            fixture("modalities/openai_cost_non_text_models.csv"),
        ],
        Some("2026.1"),
    );
    let models: Vec<&str> = o
        .summary
        .lines
        .iter()
        .map(|l| l.key.model.as_str())
        .collect();
    assert_eq!(models, vec!["gpt-4o-mini-transcribe", "gpt-image-1"]);
    assert!(o.summary.lines.iter().all(|l| l.key.spend.is_none()));
    // Text tokens: 1,200 input (gpt-image-1) + 500 output (gpt-4o-mini-transcribe).
    let t = &o.summary.totals.activity;
    assert_eq!((t.input_tokens, t.output_tokens), (1_200, 500));
    let spend_rows = o
        .summary
        .not_estimated
        .iter()
        .filter(|n| n.key.spend_only)
        .count();
    assert_eq!(spend_rows, 3);
}

#[test]
fn the_named_non_text_families_resolve_to_their_kind_in_2026_2() {
    let set = config_with(Some("2026.2")).factors;
    let cases = [
        ("gpt-image-1", "image"),
        ("dall-e-3", "image"),
        ("imagen-3.0-generate-002", "image"),
        ("imagen-4.0-ultra-generate-001", "image"),
        ("amazon.nova-canvas-v1:0", "image"),
        ("amazon.titan-image-generator-v2:0", "image"),
        ("stability.stable-image-ultra-v1:0", "image"),
        ("stability.sd3-5-large-v1:0", "image"),
        ("whisper-1", "audio"),
        ("tts-1", "audio"),
        ("tts-1-hd", "audio"),
        ("gpt-4o-transcribe", "audio"),
        ("gpt-4o-mini-transcribe", "audio"),
        ("gpt-4o-mini-tts", "audio"),
        ("gpt-realtime", "audio"),
        ("gpt-4o-realtime-preview", "audio"),
        ("gpt-audio", "audio"),
        ("gpt-4o-audio-preview", "audio"),
        ("amazon.nova-sonic-v1:0", "audio"),
        ("sora-2", "video"),
        ("veo-2.0-generate-001", "video"),
        ("veo-3.0-generate-001", "video"),
        ("amazon.nova-reel-v1:1", "video"),
        // Not non-text: a multimodal embedding, and text models.
        ("amazon.titan-embed-image-v1", "embedding"),
        ("gpt-4o", "llm"),
        ("gemini-2.5-flash", "llm"),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(id, kind)| {
            let r = set.resolve_model(id);
            (r.kind != *kind).then(|| format!("{id}: {} ({}) not {kind}", r.kind, r.key))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
    // 2026.1 knows no such kind.
    let old = config_with(Some("2026.1")).factors;
    for (id, _) in cases {
        let k = old.resolve_model(id).kind;
        assert!(k == "llm" || k == "embedding", "{id}: {k}");
    }
}
