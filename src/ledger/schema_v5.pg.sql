-- llm-scope3 ledger on PostgreSQL, schema version 5 (schema_v5.sql): whether a record's row
-- gave a request count (1, a real 0 included) or not (0), so that a line of such records shows
-- no request count instead of 0. Records imported under earlier versions keep NULL: read as
-- reported when their count is above 0.
ALTER TABLE records ADD COLUMN IF NOT EXISTS requests_reported BIGINT;
