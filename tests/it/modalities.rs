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
        assert!(r.reason.contains("audio input tokens (2000) exceed"), "{}", r.reason);
        // Rows: 3 read, 2 accepted, 1 rejected.
        let f = &o.files[0];
        assert_eq!((f.counts.accepted, f.counts.rejected), (2, 1));
        // Listed without spend: a warning names them.
        let w = serde_json::to_string(&o.warnings).unwrap();
        assert!(w.contains("audio input tokens"), "{w}");
    }
}
