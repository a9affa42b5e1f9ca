//! Who may use the upload page, and what everybody did: the ledger's `users` (a name, a role,
//! an Argon2id password hash or none for single sign-on only) and its audit log (every import,
//! removal, final statement, sign-in, failed sign-in and change of users: who, when, how,
//! from where). Schema version 7. It owns those two tables; it does not decide who may do
//! what on the page (the web front end does, from [`Role::allows`]), and it never sees a
//! password, only [`PasswordHash`]es.
//!
//! Each change the ledger makes is audited in its own transaction, as whoever
//! [`Ledger::set_actor`] named: an import, a removal and a final statement (`mod.rs`), and
//! the user changes below.

use chrono::{DateTime, Utc};

use super::db::{vals, Db, DbResult};
use super::password::PasswordHash;
use super::{now_text, Ledger, LedgerError, Result};

/// What a user of the upload page may do. Each role may do what the roles before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads reports from the ledger and downloads them.
    Viewer,
    /// Also uploads exports (which imports them into the ledger).
    Preparer,
    /// Also records a period's final statement.
    Approver,
    /// Also manages users (on the command line: `llm-scope3 users ...`).
    Admin,
}

impl Role {
    /// Every role, from the least to the most allowed.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Preparer, Role::Approver, Role::Admin];

    /// The role's name as stored and typed (`viewer` ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Preparer => "preparer",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// The role named `s` (any case).
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// True when this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }

    /// What the role may do, in words.
    pub fn what(self) -> &'static str {
        match self {
            Role::Viewer => "read reports",
            Role::Preparer => "read reports, upload and import exports",
            Role::Approver => "read reports, upload exports, record final statements",
            Role::Admin => "everything, and manage users",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user of the upload page, as listed (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The name (lower case; an e-mail address for users who come through single sign-on).
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// False: they can sign in only through the single-sign-on proxy.
    pub has_password: bool,
    /// When added (UTC).
    pub created_at: String,
    /// When their role or password last changed (UTC).
    pub updated_at: String,
}

/// Who the ledger's changes are recorded as, in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The person: a user of the page, or the operating-system user on the command line.
    pub who: String,
    /// How: `command line`, `page`, `single sign-on`.
    pub via: String,
    /// The client's address, for the page.
    pub client: Option<String>,
}

impl Actor {
    /// Someone on the command line (`who`: the operating-system user).
    pub fn command_line(who: &str) -> Actor {
        Actor {
            who: who.to_string(),
            via: "command line".into(),
            client: None,
        }
    }

    /// A front end that did not say who (recorded as such rather than not at all).
    pub fn unnamed() -> Actor {
        Actor {
            who: "(not named)".into(),
            via: "unknown".into(),
            client: None,
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its number.
    pub id: i64,
    /// When (UTC, `2026-04-15T09:30:00Z`).
    pub at: String,
    /// Who.
    pub who: String,
    /// How (`command line`, `page`, `single sign-on`).
    pub via: String,
    /// What: `import`, `remove`, `final`, `sign-in`, `sign-in failed`, `user added` ...
    pub action: String,
    /// The details.
    pub detail: String,
    /// From which address (the page).
    pub client: Option<String>,
}

/// A user name as kept: trimmed and in lower case, so that `Ann@Example.com` from a proxy is
/// `ann@example.com` added on the command line.
pub fn normal_user_name(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Refuses a name nobody could type or a proxy could not send: empty, too long, control
/// characters or spaces.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 200
        && !name.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(LedgerError::Refused(format!(
            "'{}' cannot be a user name: 1 to 200 characters without spaces or control characters (an e-mail address for single sign-on)",
            name.chars().filter(|c| !c.is_control()).take(200).collect::<String>()
        )))
    }
}

/// Adds an audit entry inside the caller's transaction.
pub(crate) fn audit_in(
    db: &Db,
    actor: &Actor,
    action: &str,
    detail: &str,
    stamp: &str,
) -> DbResult<()> {
    db.execute(
        "INSERT INTO audit(at, who, via, action, detail, client) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        vals![stamp, &actor.who, &actor.via, action, detail, &actor.client],
    )?;
    Ok(())
}

impl Ledger {
    /// Records the changes made through this connection as `actor`'s in the audit log.
    pub fn set_actor(&mut self, actor: Actor) {
        self.actor = actor;
    }

    /// Who the changes are recorded as.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>> {
        self.db
            .query_vec(
                "SELECT name, role, password_hash IS NOT NULL, created_at, updated_at FROM users ORDER BY name",
                &[],
                |r| {
                    let role = r.text(1)?;
                    Ok(User {
                        name: r.text(0)?,
                        role: Role::parse(&role).unwrap_or(Role::Viewer),
                        has_password: r.int(2)? != 0,
                        created_at: r.text(3)?,
                        updated_at: r.text(4)?,
                    })
                },
            )
            .map_err(self.err())
    }

    /// True when the ledger has at least one user: the page then asks everybody to sign in.
    pub fn has_users(&self) -> Result<bool> {
        self.db
            .exists("SELECT 1 FROM users LIMIT 1", &[])
            .map_err(self.err())
    }

    /// A user's role and password hash (none: single sign-on only), or `None` for a name
    /// the ledger does not know. The name is matched whatever its case.
    pub fn credentials(&self, name: &str) -> Result<Option<(Role, Option<PasswordHash>)>> {
        let name = normal_user_name(name);
        self.db
            .query_opt(
                "SELECT role, password_hash FROM users WHERE name = ?1",
                vals![&name],
                |r| {
                    let role = r.text(0)?;
                    Ok((
                        Role::parse(&role).unwrap_or(Role::Viewer),
                        r.opt_text(1)?.map(PasswordHash::from_stored),
                    ))
                },
            )
            .map_err(self.err())
    }

    /// Adds a user (audited). Refuses a name already there.
    pub fn add_user(
        &mut self,
        name: &str,
        role: Role,
        password: Option<&PasswordHash>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let name = normal_user_name(name);
        check_name(&name)?;
        self.refuse_read_only()?;
        let e = self.err();
        let tx = self.db.write(&self.shown).map_err(&e)?;
        let exists = tx
            .exists("SELECT 1 FROM users WHERE name = ?1", vals![&name])
            .map_err(&e)?;
        if exists {
            return Err(LedgerError::Refused(format!(
                "user {name} exists already: `llm-scope3 users passwd {name}` sets a new password, `llm-scope3 users role {name} ROLE` another role"
            )));
        }
        let stamp = now_text(now);
        tx.execute(
            "INSERT INTO users(name, role, password_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            vals![&name, role.as_str(), password.map(PasswordHash::phc), &stamp],
        )
        .map_err(&e)?;
        let how = if password.is_some() {
            "with a password"
        } else {
            "without a password (single sign-on only)"
        };
        audit_in(
            &tx,
            &self.actor,
            "user added",
            &format!("user {name} added as {role} {how}"),
            &stamp,
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)?;
        drop(e);
        self.checkpoint();
        Ok(())
    }

    /// Removes a user (audited): they can no longer sign in, and a session of theirs on a
    /// running page ends at its next request.
    pub fn remove_user(&mut self, name: &str, now: DateTime<Utc>) -> Result<()> {
        let name = normal_user_name(name);
        self.change_user(&name, now, "user removed", |tx, _| {
            tx.execute("DELETE FROM users WHERE name = ?1", vals![&name])?;
            Ok(format!("user {name} removed"))
        })
    }

    /// Sets a user's password (none: single sign-on only), audited.
    pub fn set_password(
        &mut self,
        name: &str,
        password: Option<&PasswordHash>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let name = normal_user_name(name);
        self.change_user(&name, now, "password changed", |tx, stamp| {
            tx.execute(
                "UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE name = ?3",
                vals![password.map(PasswordHash::phc), stamp, &name],
            )?;
            Ok(match password {
                Some(_) => format!("new password for user {name}"),
                None => format!("password of user {name} removed: single sign-on only"),
            })
        })
    }

    /// Gives a user another role, audited.
    pub fn set_role(&mut self, name: &str, role: Role, now: DateTime<Utc>) -> Result<()> {
        let name = normal_user_name(name);
        let before = self.credentials(&name)?.map(|(r, _)| r);
        self.change_user(&name, now, "role changed", |tx, stamp| {
            tx.execute(
                "UPDATE users SET role = ?1, updated_at = ?2 WHERE name = ?3",
                vals![role.as_str(), stamp, &name],
            )?;
            Ok(match before {
                Some(b) => format!("user {name}: role {b} -> {role}"),
                None => format!("user {name}: role {role}"),
            })
        })
    }

    /// Changes an existing user under the write lock and audits it.
    fn change_user(
        &mut self,
        name: &str,
        now: DateTime<Utc>,
        action: &str,
        change: impl FnOnce(&Db, &str) -> DbResult<String>,
    ) -> Result<()> {
        self.refuse_read_only()?;
        let e = self.err();
        let tx = self.db.write(&self.shown).map_err(&e)?;
        let exists = tx
            .exists("SELECT 1 FROM users WHERE name = ?1", vals![name])
            .map_err(&e)?;
        if !exists {
            return Err(LedgerError::Refused(format!(
                "the ledger has no user {name} (`llm-scope3 users list` shows them)"
            )));
        }
        let stamp = now_text(now);
        let detail = change(&tx, &stamp).map_err(&e)?;
        audit_in(&tx, &self.actor, action, &detail, &stamp).map_err(&e)?;
        tx.commit().map_err(&e)?;
        drop(e);
        self.checkpoint();
        Ok(())
    }

    /// Adds an entry to the audit log as the actor, in a transaction of its own: a sign-in,
    /// a failed one, a sign-out. Takes the ledger's write lock like every write.
    pub fn audit(&mut self, action: &str, detail: &str, now: DateTime<Utc>) -> Result<()> {
        self.refuse_read_only()?;
        let e = self.err();
        let tx = self.db.write(&self.shown).map_err(&e)?;
        audit_in(&tx, &self.actor, action, detail, &now_text(now)).map_err(&e)?;
        tx.commit().map_err(&e)?;
        Ok(())
    }

    /// The audit log, oldest first; with `last`, only the last so many entries.
    pub fn audit_log(&self, last: Option<usize>) -> Result<Vec<AuditEntry>> {
        let row = |r: &dyn super::db::Row| {
            Ok(AuditEntry {
                id: r.int(0)?,
                at: r.text(1)?,
                who: r.text(2)?,
                via: r.text(3)?,
                action: r.text(4)?,
                detail: r.text(5)?,
                client: r.opt_text(6)?,
            })
        };
        let mut entries = match last {
            Some(n) => self.db.query_vec(
                "SELECT id, at, who, via, action, detail, client FROM audit ORDER BY id DESC LIMIT ?1",
                vals![n.min(i64::MAX as usize) as i64],
                row,
            ),
            None => self.db.query_vec(
                "SELECT id, at, who, via, action, detail, client FROM audit ORDER BY id",
                &[],
                row,
            ),
        }
        .map_err(self.err())?;
        if last.is_some() {
            entries.reverse();
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_allow_what_the_roles_below_them_allow() {
        assert!(Role::Admin.allows(Role::Approver));
        assert!(Role::Approver.allows(Role::Preparer));
        assert!(Role::Preparer.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Preparer));
        assert!(!Role::Preparer.allows(Role::Approver));
        assert_eq!(Role::parse(" Approver "), Some(Role::Approver));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn names_are_kept_in_lower_case_and_checked() {
        assert_eq!(normal_user_name(" Ann@Example.COM "), "ann@example.com");
        assert!(check_name("ann@example.com").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("ann smith").is_err());
        assert!(check_name("ann\u{7}").is_err());
    }
}
