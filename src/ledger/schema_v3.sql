-- llm-scope3 ledger, schema version 3: the reason a final statement was made despite gaps in
-- the period's coverage (`report --final --accept-gaps "..."`), and each rejected row's
-- content hash, so that a bad row seen again in an overlapping re-download counts once.
ALTER TABLE statements ADD COLUMN accepted_gaps TEXT;
ALTER TABLE rejections ADD COLUMN row_hash TEXT;
CREATE INDEX IF NOT EXISTS rejections_hash ON rejections(row_hash);
