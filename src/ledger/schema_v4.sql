-- llm-scope3 ledger, schema version 4: one active import per file content (SHA-256), so that
-- two imports of the same file at once cannot both count. Before this index is made, the
-- migration withdraws the later copies of a file that earlier versions imported twice (logged
-- in the change log as "removed duplicate import"). Version 4 also marks the file as a ledger:
-- PRAGMA application_id = 0x4C53334C ("LS3L").
CREATE UNIQUE INDEX IF NOT EXISTS imports_sha_active ON imports(sha256) WHERE removed_at IS NULL;
