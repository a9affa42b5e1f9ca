-- llm-scope3 ledger, schema version 1 (version 2 adds schema_v2.sql). Activity data only: results are recomputed by every
-- report with the factor set it names.
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per imported file.
CREATE TABLE IF NOT EXISTS imports (
    id           INTEGER PRIMARY KEY,
    file         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    format       TEXT NOT NULL,
    template     TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    first_date   TEXT,
    last_date    TEXT,
    bucket_secs  INTEGER,            -- typical bucket width (granularity)
    accounts     TEXT NOT NULL,      -- billing accounts, joined with U+001F
    rows_read    INTEGER NOT NULL,
    accepted     INTEGER NOT NULL,   -- records stored
    duplicate    INTEGER NOT NULL,   -- records identical to ones already in the ledger
    restated     INTEGER NOT NULL,   -- records that replaced differing earlier ones
    report_json  TEXT NOT NULL,      -- the file's row accounting at import (FileReport)
    removed_at   TEXT,               -- set by `imports remove`
    replaced_by  INTEGER REFERENCES imports(id)
);

-- Every record of every import. `active` marks the records reports use: a record identical
-- to an active one (same key, same values) is stored inactive as a duplicate; a differing one
-- for the same key is a restatement: the newer import's records become active.
CREATE TABLE IF NOT EXISTS records (
    id                  INTEGER PRIMARY KEY,
    import_id           INTEGER NOT NULL REFERENCES imports(id),
    record_key          TEXT NOT NULL,
    active              INTEGER NOT NULL,
    sheet               TEXT,
    row                 INTEGER NOT NULL,
    bucket_start        INTEGER NOT NULL,   -- Unix seconds, UTC
    bucket_end          INTEGER NOT NULL,
    provider            TEXT NOT NULL,
    model               TEXT NOT NULL,
    region              TEXT,
    region_scope        TEXT,
    cost_centre         TEXT,
    requests            INTEGER NOT NULL,
    input_tokens        INTEGER NOT NULL,
    cached_input_tokens INTEGER NOT NULL,
    output_tokens       INTEGER NOT NULL,
    input_characters    INTEGER NOT NULL,
    output_characters   INTEGER NOT NULL,
    cost                REAL,
    currency            TEXT,
    kind                TEXT NOT NULL,      -- usage | not_estimated | adjustment
    kind_label          TEXT,
    kind_quantity       REAL,
    kind_unit           TEXT
);
CREATE INDEX IF NOT EXISTS records_key ON records(record_key, active);
CREATE INDEX IF NOT EXISTS records_period ON records(active, bucket_start);
CREATE INDEX IF NOT EXISTS records_import ON records(import_id);
CREATE INDEX IF NOT EXISTS imports_sha ON imports(sha256);

CREATE TABLE IF NOT EXISTS rejections (
    import_id INTEGER NOT NULL REFERENCES imports(id),
    sheet     TEXT,
    row       INTEGER NOT NULL,
    col       TEXT,
    value     TEXT,
    reason    TEXT NOT NULL
);

-- What changed and why: restatements by the vendor, removed and replaced imports.
CREATE TABLE IF NOT EXISTS changes (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    import_id INTEGER,
    kind      TEXT NOT NULL,      -- restatement | removed import | replaced import
    month     TEXT,               -- YYYY-MM of the records concerned
    detail    TEXT NOT NULL
);

-- Totals stated by `report --final`, to compare later reports against.
CREATE TABLE IF NOT EXISTS statements (
    id              INTEGER PRIMARY KEY,
    period_label    TEXT NOT NULL,
    period_start    TEXT NOT NULL,
    period_end      TEXT NOT NULL,
    stated_at       TEXT NOT NULL,
    factor_version  TEXT NOT NULL,
    factor_sha256   TEXT NOT NULL,
    imports         TEXT NOT NULL,   -- active import ids then, comma-separated
    kgco2e_low      REAL NOT NULL,
    kgco2e_central  REAL NOT NULL,
    kgco2e_high     REAL NOT NULL,
    energy_kwh      REAL NOT NULL,
    input_tokens    INTEGER NOT NULL,
    output_tokens   INTEGER NOT NULL
);
