-- llm-scope3 ledger, schema version 6: reporting entities (subsidiaries) of a group. Each
-- record and vendor carbon row may belong to one entity: the one `import --entity NAME` named
-- for its whole file (kept on the import too), or the one the config file's [[entities]] rules
-- gave it by billing account or cost centre when it was imported. NULL: no entity (the record
-- counts in the group's report only; a ledger without entities reports as before). A final
-- statement records which entity it states (NULL: the whole ledger, i.e. the group), so that
-- a later report is compared with the statement of the same scope.
ALTER TABLE records ADD COLUMN entity TEXT;
ALTER TABLE supplier_rows ADD COLUMN entity TEXT;
ALTER TABLE imports ADD COLUMN entity TEXT;
ALTER TABLE statements ADD COLUMN entity TEXT;
CREATE INDEX IF NOT EXISTS records_entity ON records(entity, active, bucket_start);
