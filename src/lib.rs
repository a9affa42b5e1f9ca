//! # llm-scope3
//!
//! Turns LLM API usage exports (OpenAI, Anthropic, Azure OpenAI, AWS Bedrock, Google Vertex)
//! into auditable Scope 3 Category 1 greenhouse-gas figures for ESRS E1-6.
//!
//! The pipeline flows one way; each stage takes data and returns new data, and I/O lives only
//! at the edges (ingest, report, cmd):
//!
//! ```text
//! files ──► ingest ──► normalise ──► UsageRecord stream ──► aggregate + estimate ──► report
//!           (cells)    (templates,                          (factors: energy, PUE,    (xlsx,
//!                       rejections)                          grid, water, embodied)    json)
//! ```
//!
//! The command line (`cmd`) calls [`pipeline::run`]; the upload page (`web`, `llm-scope3 serve`)
//! calls [`pipeline::run_checked`], the same function with per-file outcomes.

pub mod aggregate;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod error;
pub mod estimate;
pub mod factors;
pub mod ingest;
pub mod ledger;
pub mod model;
pub mod normalise;
pub mod out;
pub mod pipeline;
pub mod report;
pub mod validate;
pub mod warehouse;
#[cfg(feature = "serve")]
pub mod web;

/// Data folders embedded at build time (see build.rs).
pub(crate) mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The tool's version, as reported in workbooks and JSON.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
