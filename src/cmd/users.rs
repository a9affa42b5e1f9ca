//! `llm-scope3 users`: the people who may use the upload page and their roles, kept in the
//! ledger (`list`, `add`, `passwd`, `role`, `remove`). A password is read from the terminal
//! without echo (twice) or from the first line of standard input (`--password-stdin`), never
//! from the command line, and handed to the ledger only as an Argon2id hash. Every change is
//! audited as the operating-system user.

use std::io::BufRead;

use chrono::Utc;

use crate::cli::{PasswordArgs, UsersAction, UsersArgs};
use crate::error::{Error, Result};
use crate::ledger::{Ledger, Location, PasswordHash, Role};

pub(crate) fn run(args: &UsersArgs) -> Result<()> {
    let location = Location::chosen(args.ledger.ledger.as_deref());
    match args.action.clone().unwrap_or(UsersAction::List) {
        UsersAction::List => {
            let ledger = Ledger::open_existing_at(&location)?;
            let users = ledger.users()?;
            crate::outln!("ledger {}", ledger.shown());
            if users.is_empty() {
                crate::outln!("  no users: the upload page asks nobody to sign in (it then listens on loopback only). Add one with `llm-scope3 users add NAME --role preparer`");
                return Ok(());
            }
            crate::outln!(
                "  {:<32} {:<9} {:<24} {:<21} changed",
                "name",
                "role",
                "signs in with",
                "added"
            );
            for u in users {
                crate::outln!(
                    "  {:<32} {:<9} {:<24} {:<21} {}",
                    u.name,
                    u.role.as_str(),
                    if u.has_password {
                        "password or sign-on"
                    } else {
                        "single sign-on only"
                    },
                    u.created_at,
                    u.updated_at
                );
            }
        }
        UsersAction::Add {
            name,
            role,
            password,
        } => {
            let role = role_named(&role)?;
            let hash = new_password(&password, &name)?;
            let mut ledger = Ledger::open_at(&location)?;
            ledger.set_actor(super::actor());
            ledger.add_user(&name, role, hash.as_ref(), Utc::now())?;
            crate::outln!(
                "user {} added to {} as {role} ({}){}",
                name.trim().to_lowercase(),
                ledger.shown(),
                role.what(),
                if hash.is_none() {
                    ": no password, comes in through single sign-on only"
                } else {
                    ""
                }
            );
        }
        UsersAction::Passwd { name, password } => {
            let mut ledger = Ledger::open_existing_at(&location)?;
            // The name is checked before a password is asked for.
            if ledger.credentials(&name)?.is_none() {
                return Err(no_such_user(&name));
            }
            let hash = new_password(&password, &name)?;
            ledger.set_actor(super::actor());
            ledger.set_password(&name, hash.as_ref(), Utc::now())?;
            crate::outln!(
                "{} for user {} in {}",
                if hash.is_some() {
                    "new password set"
                } else {
                    "password removed (single sign-on only)"
                },
                name.trim().to_lowercase(),
                ledger.shown()
            );
        }
        UsersAction::Role { name, role } => {
            let role = role_named(&role)?;
            let mut ledger = Ledger::open_existing_at(&location)?;
            ledger.set_actor(super::actor());
            ledger.set_role(&name, role, Utc::now())?;
            crate::outln!(
                "user {} is now {role} ({}) in {}",
                name.trim().to_lowercase(),
                role.what(),
                ledger.shown()
            );
        }
        UsersAction::Remove { name } => {
            let mut ledger = Ledger::open_existing_at(&location)?;
            ledger.set_actor(super::actor());
            ledger.remove_user(&name, Utc::now())?;
            crate::outln!(
                "user {} removed from {} (what they did stays in the audit log)",
                name.trim().to_lowercase(),
                ledger.shown()
            );
        }
    }
    Ok(())
}

fn role_named(role: &str) -> Result<Role> {
    Role::parse(role).ok_or_else(|| {
        Error::Usage(format!(
            "no role '{role}': the roles are viewer (read reports), preparer (also upload), approver (also record final statements) and admin (also manage users)"
        ))
    })
}

fn no_such_user(name: &str) -> Error {
    crate::ledger::LedgerError::Refused(format!(
        "the ledger has no user {} (`llm-scope3 users list` shows them)",
        name.trim().to_lowercase()
    ))
    .into()
}

/// The new password's hash, or none with --no-password: from standard input's first line
/// with --password-stdin, else asked twice on the terminal without echo.
fn new_password(how: &PasswordArgs, name: &str) -> Result<Option<PasswordHash>> {
    if how.no_password {
        return Ok(None);
    }
    let password = if how.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            Error::Usage(format!("--password-stdin: cannot read standard input: {e}"))
        })?;
        let password = line.trim_end_matches(['\n', '\r']).to_string();
        if password.is_empty() {
            return Err(Error::Usage(
                "--password-stdin: the first line of standard input is empty: give the password there".into(),
            ));
        }
        password
    } else {
        use std::io::IsTerminal;
        // Asked only of a person at a terminal: a script's standard input is not read unless
        // it says so (--password-stdin).
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage(
                "standard input is not a terminal, so the password is not asked for: give it on the first line of standard input with --password-stdin, or use --no-password for single sign-on only".into(),
            ));
        }
        let ask = |prompt: String| {
            rpassword::prompt_password(prompt).map_err(|e| {
                Error::Usage(format!(
                    "no terminal to ask for the password on ({e}): give it on the first line of standard input with --password-stdin, or use --no-password for single sign-on only"
                ))
            })
        };
        let name = name.trim().to_lowercase();
        let first = ask(format!("New password for {name}: "))?;
        let again = ask("The same password again: ".to_string())?;
        if first != again {
            return Err(Error::Usage(
                "the two passwords differ: nothing was changed; try again".into(),
            ));
        }
        first
    };
    PasswordHash::new(&password)
        .map(Some)
        .map_err(|e| Error::Usage(e.to_string()))
}
