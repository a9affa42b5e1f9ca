//! CSV reader: the input bytes as a `.csv` file through `normalise_file` (encoding and BOM
//! sniffing, UTF-16 / Windows-1252 decoding, gzip, delimiter and decimal-comma sniffing, the
//! csv crate, header detection against the built-in templates, row mapping and rejections).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::run("csv", data));
