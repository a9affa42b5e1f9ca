-- llm-scope3 ledger on PostgreSQL, schema version 3 (schema_v3.sql): the reason a final
-- statement was made despite gaps, and each rejected row's content hash.
ALTER TABLE statements ADD COLUMN IF NOT EXISTS accepted_gaps TEXT COLLATE "C";
ALTER TABLE rejections ADD COLUMN IF NOT EXISTS row_hash TEXT COLLATE "C";
CREATE INDEX IF NOT EXISTS rejections_hash ON rejections(row_hash);
