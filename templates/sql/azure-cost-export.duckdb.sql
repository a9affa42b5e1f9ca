-- llm-scope3 warehouse query for the azure-cost-export template (templates/azure-cost-export.toml),
-- DuckDB. The Azure OpenAI lines of Azure Cost Management exports (EA or MCA layout, CSV or
-- Parquet files, or a table loaded from them), summed by day.
--
-- Rows: those the template reads (token and provisioned-throughput meters, and the refund, tax
-- and adjustment charges it keeps as spend adjustments), in the period. Columns: the ones the
-- template maps, under the export's own names, found by name whatever the layout (COLUMNS
-- matches EA's PascalCase and MCA's camelCase, and the columns one layout lacks). The rows are
-- daily already; the query sums a day's rows of one meter, price and subscription across
-- resources: quantity and costs are summed (so cost = price x quantity still holds row by
-- row), grouped on every other column read. Left out, because the template does not read
-- them: resource id, tags, additional info. llm_scope3_rows counts the billing rows in a
-- result row; llm_scope3_query names this query.
SELECT
  COLUMNS('(?i)^(Date|MeterName|MeterCategory|MeterSubCategory|MeterRegion|MeterId|UnitOfMeasure|EffectivePrice|ResourceLocation|BillingCurrencyCode|BillingCurrency|PricingCurrency|PricingCurrencyCode|ExchangeRatePricingToBilling|CostCenter|SubscriptionName|SubscriptionId|ResourceGroup|resourceGroupName|BillingAccountId|ChargeType|PricingModel|BenefitId)$'),
  SUM(COLUMNS('(?i)^(Quantity|CostInBillingCurrency|CostInPricingCurrency)$')),
  COUNT(*) AS llm_scope3_rows,
  '{{query}}' AS llm_scope3_query
FROM {{table=azure_cost_export}}
WHERE (LOWER(MeterName) LIKE '%token%'
    OR LOWER(MeterName) LIKE '%provisioned%'
    OR LOWER(ChargeType) IN ('refund', 'tax', 'adjustment', 'roundingadjustment'))
  AND CAST(Date AS DATE) >= DATE '{{from}}'
  AND CAST(Date AS DATE) < DATE '{{to_next}}'
GROUP BY ALL
ORDER BY ALL;
