//! The crate's error: one variant per stage, each saying what the user must fix, and the exit
//! code it maps to (PRODUCT.md: 2 usage, 3 input data, 1 internal).

use crate::factors::FactorError;
use crate::ledger::LedgerError;
use crate::normalise::{NormaliseError, TemplateError};

/// Everything that can stop a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line or a configuration file is wrong.
    #[error("{0}")]
    Usage(String),
    /// An input file cannot be used (nothing was written).
    #[error(transparent)]
    Input(#[from] NormaliseError),
    /// The inputs together cannot be used (duplicates, overlaps, nothing usable).
    #[error("{0}")]
    InputData(String),
    /// A user template is invalid.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The factor set is invalid or unknown.
    #[error(transparent)]
    Factors(#[from] FactorError),
    /// The ledger refused or failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// An output could not be written (earlier results are untouched).
    #[error("cannot write {path}: {reason}")]
    Output {
        /// The output path.
        path: String,
        /// Why.
        reason: String,
    },
    /// A bug or an unexpected state.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Template(_) | Error::Factors(_) => 2,
            Error::Input(_) | Error::InputData(_) => 3,
            Error::Ledger(e) => e.exit_code(),
            Error::Output { .. } | Error::Internal(_) => 1,
        }
    }
}

/// Result with the crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
