-- llm-scope3 ledger on PostgreSQL, schema version 6 (schema_v6.sql): the reporting entity of
-- each record, vendor carbon row and import, and the entity a final statement states (NULL:
-- no entity; for a statement, the whole ledger, i.e. the group).
ALTER TABLE records ADD COLUMN IF NOT EXISTS entity TEXT COLLATE "C";
ALTER TABLE supplier_rows ADD COLUMN IF NOT EXISTS entity TEXT COLLATE "C";
ALTER TABLE imports ADD COLUMN IF NOT EXISTS entity TEXT COLLATE "C";
ALTER TABLE statements ADD COLUMN IF NOT EXISTS entity TEXT COLLATE "C";
CREATE INDEX IF NOT EXISTS records_entity ON records(entity, active, bucket_start);
