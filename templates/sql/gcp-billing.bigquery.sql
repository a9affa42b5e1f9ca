-- llm-scope3 warehouse query for the gcp-billing template (templates/gcp-billing.toml), BigQuery.
-- The Vertex AI and Gemini API lines of a Cloud Billing export (standard or detailed usage
-- cost table), summed by day.
--
-- Rows: those the template reads (a Vertex AI, Gemini API or Generative Language service, a
-- Gemini or character-billed SKU, or no service), in the period. Columns: the ones the
-- template maps, struct fields under their underscored names (a column alias cannot hold a
-- dot). Grouped on every text column and the UTC day of the usage start; usage amount and
-- cost are summed and the day's first start and last end kept. Left out, because the template
-- does not read them: SKU id, labels, credits, invoice month, resource. llm_scope3_rows counts
-- the billing rows in a result row; llm_scope3_query names this query.
SELECT
  billing_account_id,
  service.id AS service_id,
  service.description AS service_description,
  sku.description AS sku_description,
  project.id AS project_id,
  project.name AS project_name,
  location.region AS location_region,
  location.location AS location_location,
  cost_type,
  currency,
  usage.unit AS usage_unit,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', MIN(usage_start_time)) AS usage_start_time,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', MAX(usage_end_time)) AS usage_end_time,
  SUM(usage.amount) AS usage_amount,
  SUM(cost) AS cost,
  COUNT(*) AS llm_scope3_rows,
  '{{query}}' AS llm_scope3_query
FROM `{{table=PROJECT.DATASET.gcp_billing_export_v1_XXXXXX_XXXXXX_XXXXXX}}`
WHERE (LOWER(service.description) LIKE '%vertex ai%'
    OR LOWER(service.description) LIKE '%gemini api%'
    OR LOWER(service.description) LIKE '%generative language%'
    OR COALESCE(service.description, '') = ''
    OR LOWER(sku.description) LIKE '%gemini%'
    OR LOWER(sku.description) LIKE '%character%')
  AND _PARTITIONTIME >= TIMESTAMP_SUB(TIMESTAMP '{{from}} 00:00:00', INTERVAL 1 DAY) -- partition
  AND _PARTITIONTIME < TIMESTAMP_ADD(TIMESTAMP '{{to_next}} 00:00:00', INTERVAL 1 DAY) -- partition
  AND usage_start_time >= TIMESTAMP '{{from}} 00:00:00'
  AND usage_start_time < TIMESTAMP '{{to_next}} 00:00:00'
GROUP BY
  billing_account_id,
  service.id,
  service.description,
  sku.description,
  project.id,
  project.name,
  location.region,
  location.location,
  cost_type,
  currency,
  usage.unit,
  CAST(usage_start_time AS DATE)
ORDER BY
  MIN(usage_start_time),
  project.id,
  service.description,
  sku.description;
