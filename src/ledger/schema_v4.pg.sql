-- llm-scope3 ledger on PostgreSQL, schema version 4 (schema_v4.sql): one active import per
-- file content (SHA-256), so that two imports of the same file at once cannot both count (the
-- later copies an earlier version may have imported are withdrawn first, in the change log).
CREATE UNIQUE INDEX IF NOT EXISTS imports_sha_active ON imports(sha256) WHERE removed_at IS NULL;
