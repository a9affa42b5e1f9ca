//! Password hashes of the upload page's users: Argon2id (RFC 9106) through RustCrypto's
//! `argon2` crate, kept as PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) in the
//! ledger's `users` table. It owns hashing and checking a password; it never stores, prints or
//! returns a password, and the ledger only ever receives a [`PasswordHash`].
//!
//! Why Argon2id from `argon2`: Argon2id is the password hash OWASP's Password Storage Cheat
//! Sheet recommends first (memory-hard, so guessing on GPUs costs memory as well as time), and
//! RustCrypto's crate is pure Rust (no C library to build on Windows or in the fuzz targets),
//! maintained, and writes the standard PHC string, which carries its own parameters and salt:
//! hashes made with today's parameters still verify after the defaults change. The parameters
//! are the crate's defaults (19 MiB, 2 passes, 1 lane), the cheat sheet's minimum
//! configuration for Argon2id; a sign-in takes a few hundredths of a second of one core.

use argon2::password_hash::phc;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

/// The shortest password accepted, in characters: long enough for a passphrase of a few
/// words, which is what a person remembers without writing it down.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The longest password accepted, in bytes (a bound on the work one sign-in can ask for).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// An Argon2id hash of a password, as a PHC string.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash is not the password, but it is still not for logs.
        f.write_str("PasswordHash(..)")
    }
}

/// Why a password was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRefused {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("the password is too short: at least {MIN_PASSWORD_CHARS} characters, please (a passphrase of a few words is easiest to remember)")]
    TooShort,
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    #[error("the password is too long: at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    /// Hashing failed (no system randomness for the salt).
    #[error("the password could not be hashed: {0}")]
    Hashing(String),
}

impl PasswordHash {
    /// Hashes `password` with Argon2id and a random 16-byte salt, after checking its length.
    ///
    /// # Errors
    /// [`PasswordRefused::TooShort`] or [`PasswordRefused::TooLong`] for a password out of
    /// bounds; [`PasswordRefused::Hashing`] when the system gives no randomness.
    pub fn new(password: &str) -> Result<PasswordHash, PasswordRefused> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(PasswordRefused::TooShort);
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(PasswordRefused::TooLong);
        }
        let hash: phc::PasswordHash = Argon2::default()
            .hash_password(password.as_bytes())
            .map_err(|e| PasswordRefused::Hashing(e.to_string()))?;
        Ok(PasswordHash(hash.to_string()))
    }

    /// A hash as stored in the ledger (a PHC string).
    pub(crate) fn from_stored(phc: String) -> PasswordHash {
        PasswordHash(phc)
    }

    /// The PHC string, to store.
    pub fn phc(&self) -> &str {
        &self.0
    }

    /// True when `password` is the one hashed. A stored string that is not an Argon2 PHC
    /// string matches nothing. Takes as long as hashing (the parameters are the hash's own).
    pub fn verify(&self, password: &str) -> bool {
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        match phc::PasswordHash::new(&self.0) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Checks a password against nothing, taking as long as [`PasswordHash::verify`]: for a
    /// sign-in with an unknown name, so that its answer does not come sooner than a wrong
    /// password's (which would tell names apart).
    pub fn verify_nothing(password: &str) {
        static DUMMY: std::sync::OnceLock<Option<PasswordHash>> = std::sync::OnceLock::new();
        if let Some(h) = DUMMY.get_or_init(|| PasswordHash::new("no user has this password").ok()) {
            let _ = h.verify(password);
        }
    }

    /// True when this is an Argon2id hash (not Argon2i or Argon2d).
    pub fn is_argon2id(&self) -> bool {
        self.0.starts_with("$argon2id$")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_hashed_with_argon2id_and_a_salt_and_verified() {
        let a = PasswordHash::new("correct horse battery").unwrap();
        let b = PasswordHash::new("correct horse battery").unwrap();
        assert!(a.is_argon2id(), "{}", a.phc());
        assert!(a.phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!a.phc().contains("correct horse"));
        // A random salt: the same password twice gives two hashes.
        assert_ne!(a, b);
        assert!(a.verify("correct horse battery"));
        assert!(!a.verify("correct horse battery "));
        assert!(!PasswordHash::from_stored("not a hash".into()).verify("x"));
        assert_eq!(format!("{a:?}"), "PasswordHash(..)");
    }

    #[test]
    fn short_and_overlong_passwords_are_refused() {
        assert_eq!(
            PasswordHash::new("short pass"),
            Err(PasswordRefused::TooShort)
        );
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(PasswordHash::new(&long), Err(PasswordRefused::TooLong));
    }
}
