-- llm-scope3 ledger, schema version 5: whether a record's row gave a request count (1, a real 0
-- included) or not (0: the export has no request column, or the cell was empty), so that a
-- line of such records shows no request count instead of 0. Records imported under earlier
-- versions keep NULL here: read as reported when their count is above 0.
ALTER TABLE records ADD COLUMN requests_reported INTEGER;
