//! Integration tests, one binary (ARCHITECTURE.md): a module per stage or concern.
//! Every figure asserted here is worked out by hand in a comment beside it.

mod common;
mod cli;
mod estimate_cases;
mod ingest_rows;
mod report_outputs;
