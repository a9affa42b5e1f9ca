-- llm-scope3 ledger, schema version 2: what vendor carbon data is matched on (METHODOLOGY §5).
-- Records imported under version 1 keep NULL here: they are never matched to vendor figures.
ALTER TABLE records ADD COLUMN account TEXT;
ALTER TABLE records ADD COLUMN service TEXT;

-- Rows of vendor carbon reports (Google Cloud Carbon Footprint, AWS CCFT / Data Exports),
-- after the carbon template's mapping: emissions in kgCO2e. `active` as for records: the same
-- key imported again with other figures is the vendor's restatement; the newer import wins.
CREATE TABLE IF NOT EXISTS supplier_rows (
    id              INTEGER PRIMARY KEY,
    import_id       INTEGER NOT NULL REFERENCES imports(id),
    row_key         TEXT NOT NULL,          -- provider, account, sub-account, service, region, month
    active          INTEGER NOT NULL,
    sheet           TEXT,
    row             INTEGER NOT NULL,
    month           TEXT NOT NULL,          -- YYYY-MM
    provider        TEXT NOT NULL,
    account         TEXT,
    sub_account     TEXT,
    service         TEXT NOT NULL,          -- after the template's map
    service_raw     TEXT NOT NULL,
    region          TEXT NOT NULL,
    kg_location     REAL,
    kg_market       REAL,
    kg_scope1       REAL,
    kg_scope2_location REAL,
    kg_scope2_market   REAL,
    kg_scope3       REAL,
    model_version   TEXT,
    context         TEXT                    -- set for rows shown for context only (AWS `Other`)
);
CREATE INDEX IF NOT EXISTS supplier_rows_month ON supplier_rows(active, month);
CREATE INDEX IF NOT EXISTS supplier_rows_key ON supplier_rows(row_key, active);
