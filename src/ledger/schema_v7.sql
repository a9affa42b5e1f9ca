-- llm-scope3 ledger, schema version 7: who may use the upload page, and what everybody did.
--
-- users: one row per person who may sign in to `llm-scope3 serve`, with a role (viewer: read
-- reports; preparer: also upload and import; approver: also record final statements; admin:
-- also manage users) and, unless the person signs in only through a single-sign-on proxy, an
-- Argon2id password hash as a PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash; the
-- password itself is never stored). Names are kept in lower case, so that a name or e-mail
-- address given by a proxy matches whatever its case.
CREATE TABLE IF NOT EXISTS users (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,      -- viewer | preparer | approver | admin
    password_hash  TEXT,               -- NULL: single sign-on only
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

-- The audit log: every import, removal, final statement, sign-in (and failed sign-in) and
-- change of users, with who did it, when, how (command line, page, single sign-on) and from
-- which address. Written in the same transaction as the change it records.
CREATE TABLE IF NOT EXISTS audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,          -- UTC, 2026-04-15T09:30:00Z
    who     TEXT NOT NULL,          -- a user of the page, or the operating-system user
    via     TEXT NOT NULL,          -- command line | page | single sign-on
    action  TEXT NOT NULL,          -- import | remove | final | sign-in | sign-in failed | ...
    detail  TEXT NOT NULL,
    client  TEXT                    -- the client's address, for the page
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
