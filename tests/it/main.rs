//! Integration tests, one binary (ARCHITECTURE.md): a module per stage or concern.
//! Every figure asserted here is worked out by hand in a comment beside it.

mod architecture;
mod arithmetic;
mod bad_inputs;
#[cfg(feature = "serve")]
mod browser;
mod cli;
mod common;
mod config_file;
mod currency;
#[cfg(feature = "postgres")]
mod entities;
mod estimate_cases;
mod factor_build;
mod factors_cmd;
mod folders;
mod fuzz_regressions;
mod gaps;
mod ingest_rows;
mod large;
mod ledger;
#[cfg(feature = "postgres")]
mod ledger_backends;
mod levers;
mod libreoffice;
mod limits;
mod messy;
mod modalities;
mod parquet;
mod per_request;
#[cfg(feature = "postgres")]
mod pg;
mod progress;
mod report_outputs;
mod reproduce;
mod resolution;
mod spend;
mod streamed_sheets;
mod supplier;
mod training;
mod trend;
#[cfg(feature = "serve")]
mod users;
mod vendor_exports;
mod vendor_samples;
mod warehouse;
#[cfg(feature = "serve")]
mod web;
#[cfg(feature = "serve")]
mod web_auth;
#[cfg(feature = "serve")]
mod web_load;
