//! Where a ledger is: an SQLite file (the default), or a PostgreSQL database named by a
//! `postgres://` or `postgresql://` URL. A URL is shown everywhere without its password.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The environment variable naming the ledger when `--ledger` does not.
pub const LEDGER_ENV: &str = "LLM_SCOPE3_LEDGER";

/// Where a ledger is.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file.
    File(PathBuf),
    /// A PostgreSQL database.
    Postgres(PgUrl),
}

/// A PostgreSQL connection URL. Its text may hold a password: it is only ever shown redacted
/// ([`PgUrl::shown`], `Display`, `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl {
    secret: String,
}

impl Location {
    /// A `--ledger` value: a `postgres://` or `postgresql://` URL, else a file path.
    pub fn parse(arg: &OsStr) -> Location {
        if let Some(text) = arg.to_str() {
            let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
            if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
                return Location::Postgres(PgUrl {
                    secret: text.to_string(),
                });
            }
        }
        Location::File(PathBuf::from(arg))
    }

    /// The ledger a command uses: `--ledger` when given, else `LLM_SCOPE3_LEDGER` when set and
    /// not empty, else `./llm-scope3.db`.
    pub fn chosen(arg: Option<&Path>) -> Location {
        match arg {
            Some(a) => Location::parse(a.as_os_str()),
            None => match std::env::var_os(LEDGER_ENV).filter(|v| !v.is_empty()) {
                Some(v) => Location::parse(&v),
                None => Location::File(PathBuf::from(super::DEFAULT_PATH)),
            },
        }
    }

    /// The file, for a file ledger.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }

    /// How it is shown: the file's path, or the URL without its password.
    pub fn shown(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Postgres(u) => u.shown(),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => write!(f, "File({p:?})"),
            Location::Postgres(u) => write!(f, "Postgres({u:?})"),
        }
    }
}

impl PgUrl {
    /// The URL with its password (if any) replaced by `***`: in the user part
    /// (`postgres://user:***@host/db`) and in a `password=` parameter.
    pub fn shown(&self) -> String {
        redact(&self.secret)
    }

    /// The URL as given, password included: for connecting only.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }

    /// `text` without the URL's password, in any spelling it was given (as written, or
    /// percent-decoded): for messages that might repeat it.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.replace(&self.secret, &self.shown());
        for p in self.passwords() {
            if p.len() >= 2 {
                out = out.replace(&p, "***");
            }
        }
        out
    }

    /// The password as written in the URL and percent-decoded.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    fn passwords(&self) -> Vec<String> {
        let mut found = vec![];
        let (auth, query) = split_authority(&self.secret);
        if let Some(at) = auth.rfind('@') {
            if let Some(colon) = auth[..at].find(':') {
                found.push(auth[colon + 1..at].to_string());
            }
        }
        for param in query.split('&') {
            if let Some((k, v)) = param.split_once('=') {
                if k.eq_ignore_ascii_case("password") {
                    found.push(v.to_string());
                }
            }
        }
        let decoded: Vec<String> = found.iter().map(|p| percent_decode(p)).collect();
        found.extend(decoded);
        found.sort_by_key(|p| std::cmp::Reverse(p.len()));
        found.dedup();
        found
    }
}

impl std::fmt::Display for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

impl std::fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.shown())
    }
}

/// The part of a URL after `scheme://` up to its query (user, password, host, port, path:
/// a password may hold a `/`, so the path is not split off), and the query.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn split_authority(url: &str) -> (&str, &str) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let query = rest[end..].trim_start_matches('?');
    let query = query.split('#').next().unwrap_or("");
    (&rest[..end], query)
}

fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let (auth, tail) = rest.split_at(end);
    let mut out = format!("{scheme}://");
    // The last '@' before the query ends the user part: a password with a raw '@' or '/' is
    // hidden whole (a database name with an '@' is hidden too: better too much than too little).
    match auth.rfind('@') {
        Some(at) => {
            let user = &auth[..at];
            match user.find(':') {
                Some(colon) => {
                    out.push_str(&user[..colon]);
                    out.push_str(":***");
                }
                None => out.push_str(user),
            }
            out.push_str(&auth[at..]);
        }
        None => out.push_str(auth),
    }
    if let Some(q) = tail.strip_prefix('?') {
        let (q, fragment) = match q.split_once('#') {
            Some((q, f)) => (q, Some(f)),
            None => (q, None),
        };
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
        if let Some(f) = fragment {
            out.push('#');
            out.push_str(f);
        }
    } else {
        out.push_str(tail);
    }
    out
}

#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(s: &str) -> PgUrl {
        match Location::parse(OsStr::new(s)) {
            Location::Postgres(u) => u,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn urls_and_paths_are_told_apart() {
        assert!(matches!(
            Location::parse(OsStr::new("postgres://h/db")),
            Location::Postgres(_)
        ));
        assert!(matches!(
            Location::parse(OsStr::new("PostgreSQL://h/db")),
            Location::Postgres(_)
        ));
        assert!(matches!(
            Location::parse(OsStr::new("postgres.db")),
            Location::File(_)
        ));
        assert!(matches!(
            Location::parse(OsStr::new("./postgres://x")),
            Location::File(_)
        ));
    }

    #[test]
    fn passwords_are_never_shown() {
        for (url, shown) in [
            (
                "postgres://ann:s3cret@db.example:5432/ledger",
                "postgres://ann:***@db.example:5432/ledger",
            ),
            ("postgresql://ann@db/ledger", "postgresql://ann@db/ledger"),
            (
                "postgres://ann:p%40ss@db/ledger?sslmode=disable",
                "postgres://ann:***@db/ledger?sslmode=disable",
            ),
            (
                "postgres://ann:pa/ss@word@db/ledger",
                "postgres://ann:***@db/ledger",
            ),
            (
                "postgres:///ledger?user=ann&password=hunter22&host=%2Ftmp",
                "postgres:///ledger?user=ann&password=***&host=%2Ftmp",
            ),
            ("postgres://db/ledger", "postgres://db/ledger"),
        ] {
            let u = pg(url);
            assert_eq!(u.shown(), shown);
            assert_eq!(format!("{u}"), shown);
            assert_eq!(
                format!("{:?}", Location::Postgres(u.clone())),
                format!("Postgres({shown:?})")
            );
        }
        let u = pg("postgres://ann:p%40ss@db/ledger");
        assert_eq!(
            u.scrub("password authentication failed: p@ss / p%40ss"),
            "password authentication failed: *** / ***"
        );
    }
}
