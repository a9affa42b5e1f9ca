//! Spreadsheet reader: the input bytes as a `.xlsx` file through `normalise_file` (calamine's
//! zip + XML parsing of every sheet, cell conversion, header search below title rows, row
//! mapping and rejections). A custom mutator keeps the zip valid while mutating its XML parts
//! (see `fuzz_harness::zipmut`). Then a differential check: the fast `.xlsx` sheet scanner
//! must hand out exactly the rows and cells calamine's cell reader does wherever calamine
//! reads the input without error (`fuzz_harness::differential_xlsx`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_harness::run("xlsx", data);
    fuzz_harness::differential_xlsx(data);
});

libfuzzer_sys::fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    fuzz_harness::zipmut::mutate(data, size, max_size, seed)
});
