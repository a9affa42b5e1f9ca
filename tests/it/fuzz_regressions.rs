//! Inputs the fuzzers once crashed on (tests/fixtures/fuzz/, see fuzz/README.md): each must now
//! be read or refused with an error, never panic.

use crate::common::{config, root};
use llm_scope3::normalise::normalise_file;

#[test]
fn fuzz_crashes_stay_fixed() {
    let dir = root().join("tests/fixtures/fuzz");
    let cfg = config("2026Q1");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        let name = path.display().to_string();
        let result = std::panic::catch_unwind(|| {
            let mut rejections = vec![];
            let _ = normalise_file(
                &path,
                &name,
                0,
                &cfg.templates,
                &cfg.period,
                &mut |_| {},
                &mut rejections,
            );
        });
        assert!(result.is_ok(), "{name} panics again");
        seen += 1;
    }
    assert!(seen >= 1, "no regression inputs found in {}", dir.display());
}
