//! Overflow and precision of the totals: token counts are summed in 64 bits with checks (an
//! overflow is an error naming the file, never a wrapped number), and kgCO2e, kWh and litres
//! are compensated sums, so the order of the files does not move a total.

use llm_scope3::pipeline::{self, Input};

use crate::common::{assert_close, config, root};

fn usage_csv(dir: &std::path::Path, name: &str, day_start: u64, tokens: &str) -> Input {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "start_time,end_time,model,input_tokens,output_tokens,num_model_requests,project_id\n\
             {day_start},{},gpt-4o,{tokens},5,1,p\n",
            day_start + 86_400
        ),
    )
    .unwrap();
    Input {
        name: path.display().to_string(),
        path,
    }
}

#[test]
fn a_token_total_past_64_bits_across_files_is_an_error_naming_the_file() {
    // Each file holds 10^19 input tokens, which fits in 64 bits (2^64 - 1 ≈ 1.8 × 10^19); the
    // two together (2 × 10^19) do not. Different days, so they are not overlapping exports.
    let dir = tempfile::tempdir().unwrap();
    let a = usage_csv(dir.path(), "a.csv", 1_768_435_200, "10000000000000000000");
    let b = usage_csv(dir.path(), "b.csv", 1_768_867_200, "10000000000000000000");
    let alone = pipeline::run(std::slice::from_ref(&a), vec![], &config("2026Q1")).unwrap();
    assert_eq!(
        alone.summary.totals.activity.input_tokens,
        10_000_000_000_000_000_000
    );
    let err = pipeline::run(&[a, b.clone()], vec![], &config("2026Q1")).unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&b.name) && msg.contains("overflows"), "{msg}");
}

#[test]
fn totals_do_not_depend_on_the_order_of_the_files() {
    // Every sample export, in sorted order, reversed and rotated: every total within 1e-9
    // relative (compensated sums; the lines themselves are independent of order).
    let (mut inputs, _) = pipeline::inputs_from_paths(&[root().join("samples")]).unwrap();
    assert!(inputs.len() >= 8, "{}", inputs.len());
    let cfg = config("2026Q1");
    let base = pipeline::run(&inputs, vec![], &cfg).unwrap().summary.totals;
    assert!(base.emissions_kgco2e.central > 0.0);
    let mut orders = vec![];
    inputs.reverse();
    orders.push(inputs.clone());
    inputs.rotate_left(3);
    orders.push(inputs.clone());
    inputs.swap(0, 5);
    orders.push(inputs.clone());
    for order in orders {
        let t = pipeline::run(&order, vec![], &cfg).unwrap().summary.totals;
        assert_eq!(t.activity, base.activity);
        for (what, a, b) in [
            ("kgCO2e", t.emissions_kgco2e, base.emissions_kgco2e),
            ("kWh", t.energy_kwh, base.energy_kwh),
            ("L", t.water_l, base.water_l),
            ("embodied", t.embodied_kgco2e, base.embodied_kgco2e),
        ] {
            assert_close(a.low, b.low, 1e-9, what);
            assert_close(a.central, b.central, 1e-9, what);
            assert_close(a.high, b.high, 1e-9, what);
        }
    }
}
