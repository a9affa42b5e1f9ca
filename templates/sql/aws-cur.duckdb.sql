-- llm-scope3 warehouse query for the aws-cur template (templates/aws-cur.toml), DuckDB.
-- The Amazon Bedrock lines of an AWS CUR 2.0 (Data Exports) table, summed by day.
--
-- Rows: those the template reads (a Bedrock product code, a product map naming Bedrock, a
-- token usage type, or neither product code nor product map), in the period. Columns: the
-- ones the template maps, under its names. Grouped on every text column, the unit price and
-- the UTC day of the usage start; usage amount and unblended cost are summed (so amount x
-- rate = cost still holds) and the day's first start and last end kept. Left out, because the
-- template does not read them: line item id, operation, resource id, tags. llm_scope3_rows
-- counts the billing rows in a result row; llm_scope3_query names this query.
SET TimeZone = 'UTC';
SELECT
  bill_payer_account_id,
  line_item_usage_account_id,
  line_item_line_item_type,
  line_item_product_code,
  line_item_usage_type,
  product_region_code,
  pricing_unit,
  line_item_unblended_rate,
  line_item_currency_code,
  CAST(to_json(product) AS VARCHAR) AS product,
  strftime(MIN(line_item_usage_start_date), '%Y-%m-%dT%H:%M:%SZ') AS line_item_usage_start_date,
  strftime(MAX(line_item_usage_end_date), '%Y-%m-%dT%H:%M:%SZ') AS line_item_usage_end_date,
  SUM(line_item_usage_amount) AS line_item_usage_amount,
  SUM(line_item_unblended_cost) AS line_item_unblended_cost,
  COUNT(*) AS llm_scope3_rows,
  '{{query}}' AS llm_scope3_query
FROM {{table=cur2}}
WHERE (LOWER(line_item_product_code) LIKE '%bedrock%'
    OR LOWER(CAST(to_json(product) AS VARCHAR)) LIKE '%bedrock%'
    OR LOWER(line_item_usage_type) LIKE '%token%'
    OR (COALESCE(line_item_product_code, '') = '' AND product IS NULL))
  AND billing_period BETWEEN '{{from_month}}' AND '{{to_month}}' -- partition
  AND line_item_usage_start_date >= TIMESTAMP '{{from}} 00:00:00'
  AND line_item_usage_start_date < TIMESTAMP '{{to_next}} 00:00:00'
GROUP BY
  bill_payer_account_id,
  line_item_usage_account_id,
  line_item_line_item_type,
  line_item_product_code,
  line_item_usage_type,
  product_region_code,
  pricing_unit,
  line_item_unblended_rate,
  line_item_currency_code,
  CAST(to_json(product) AS VARCHAR),
  CAST(line_item_usage_start_date AS DATE)
ORDER BY
  MIN(line_item_usage_start_date),
  line_item_usage_account_id,
  line_item_usage_type,
  line_item_line_item_type;
