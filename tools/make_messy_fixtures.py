#!/usr/bin/env python3
"""Writes the messy-input fixtures in tests/fixtures/messy/ (text ones; the spreadsheet ones
come from `cargo run --example make_samples`). Each file shows one thing real finance files do;
tests/it/messy.rs states what the tool must make of it. Deterministic."""

import os

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "messy")
A_HEAD = ["usage_date_utc", "model_version", "api_key", "workspace", "usage_type",
          "usage_input_tokens_no_cache", "usage_input_tokens_cache_write_5m",
          "usage_input_tokens_cache_write_1h", "usage_input_tokens_cache_read",
          "usage_output_tokens"]


def a_row(date, no_cache, read, out, workspace="Default", model="claude-sonnet-4-5-20250929"):
    return [date, model, "prod", workspace, "standard", no_cache, "0", "0", read, out]


def write(name, rows, sep=",", encoding="utf-8", bom=b"", newline="\n"):
    text = newline.join(sep.join(r) for r in rows) + newline
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bom + text.encode(encoding))


def main():
    os.makedirs(OUT, exist_ok=True)
    # Semicolon-delimited, EU number style: thousands dots, decimal comma on whole numbers.
    write("semicolon_decimal_comma.csv", [A_HEAD,
          a_row("2026-01-05", "1.234.567", "1.000", "12.345,0"),
          a_row("2026-01-06", "1.000", "0", "500")], sep=";")
    # Azure in EU Excel: semicolons, decimal commas in prices and costs, day-first dates.
    az = ["Date", "MeterCategory", "MeterName", "Quantity", "UnitOfMeasure", "EffectivePrice",
          "CostInBillingCurrency", "BillingCurrencyCode", "ResourceLocation", "SubscriptionName"]
    write("azure_semicolon_decimal_comma.csv", [az,
          ["15/01/2026", "Azure OpenAI", "gpt-4o-0806-Inp-glbl Tokens", "1500", "1K", "0,0025", "3,75", "EUR", "swedencentral", "Prod"],
          ["15/01/2026", "Azure OpenAI", "gpt-4o-0806-Outp-glbl Tokens", "400,5", "1K", "0,01", "4,005", "EUR", "swedencentral", "Prod"]],
          sep=";")
    # Comma-delimited with quoted thousands separators and quoted plain numbers.
    write("thousands_separators.csv", [A_HEAD,
          ["2026-01-05", "claude-sonnet-4-5-20250929", "prod", "Default", "standard", '"1,234,567"', "0", "0", '"1,000"', '"12,345"'],
          ["2026-01-06", "claude-sonnet-4-5-20250929", "prod", "Default", "standard", '"1000"', '"0"', '"0"', '"0"', '"500"']])
    # Currency symbols and parentheses in cost columns (Azure layout, US style).
    write("currency_symbols.csv", [az,
          ["01/15/2026", "Azure OpenAI", "gpt-4o-0806-Inp-glbl Tokens", "1500", "1K", "$0.0025", "$3.75", "USD", "eastus", "Prod"],
          ["01/16/2026", "Azure OpenAI", "gpt-4o-0806-Inp-glbl Tokens", "\"1,000\"", "1K", "US$ 0.0025", "\"$2.50\"", "USD", "eastus", "Prod"],
          ["01/17/2026", "Azure OpenAI", "gpt-4o-0806-Inp-glbl Tokens", "0", "1K", "0.0025", "(1.25)", "USD", "eastus", "Prod"]])
    # Day/month order decided per file from its own dates.
    write("dates_day_first.csv", [A_HEAD,
          a_row("03/01/2026", "100", "0", "10"),   # ambiguous until ...
          a_row("04/01/2026", "100", "0", "10"),
          a_row("31/01/2026", "100", "0", "10"),   # ... this one: day first
          a_row("05/02/2026", "100", "0", "10")])
    write("dates_month_first.csv", [A_HEAD,
          a_row("01/03/2026", "100", "0", "10"),
          a_row("01/31/2026 14:00", "100", "0", "10"),
          a_row("02/05/2026", "100", "0", "10")])
    write("dates_ambiguous.csv", [A_HEAD,
          a_row("01/02/2026", "100", "0", "10"),
          a_row("02/03/2026", "100", "0", "10")])
    write("dates_contradicting.csv", [A_HEAD,
          a_row("31/01/2026", "100", "0", "10"),
          a_row("01/31/2026", "100", "0", "10")])
    # Encodings: Excel "Unicode text" (UTF-16 LE with BOM, tab-delimited), UTF-16 BE, Windows-1252.
    rows16 = [A_HEAD, a_row("2026-01-05", "1000", "200", "300", workspace="Développement")]
    write("utf16le_bom.txt", rows16, sep="\t", encoding="utf-16-le", bom=b"\xff\xfe", newline="\r\n")
    write("utf16be_bom.csv", rows16, encoding="utf-16-be", bom=b"\xfe\xff")
    write("windows1252.csv", rows16, encoding="cp1252")
    # Title rows above the header, blank rows, a vendor total row at the end.
    write("title_blank_total.csv", [
          ["Claude API usage — Acme Europe GmbH"], ["Exported 2026-04-02"], [""],
          A_HEAD,
          a_row("2026-01-05", "1000", "200", "300"), [""] * 10,
          a_row("2026-01-06", "2000", "0", "100"), [""],
          ["Total", "", "", "", "", "3000", "0", "0", "200", "400"]])
    write("total_mismatch.csv", [A_HEAD,
          a_row("2026-01-05", "1000", "200", "300"),
          ["Total", "", "", "", "", "9000", "0", "0", "200", "300"]])
    # The header repeated after a page break, extra unknown columns.
    write("repeated_header_extra_columns.csv", [A_HEAD + ["region_note", "internal_ref"],
          a_row("2026-01-05", "1000", "0", "300") + ["eu", "X-1"],
          A_HEAD + ["region_note", "internal_ref"],
          a_row("2026-01-06", "1000", "0", "300") + ["eu", "X-2"]])
    # Negative token counts (a correction row): rejected, never netted.
    write("negative_tokens.csv", [A_HEAD,
          a_row("2026-01-05", "1000", "0", "300"),
          a_row("2026-01-06", "-400", "0", "0")])
    # A header that lacks a required column.
    write("missing_required_column.csv", [A_HEAD[:-1], a_row("2026-01-05", "1000", "0", "300")[:-1]])
    # Credits, refunds and tax (AWS CUR): money only, never activity.
    cur = ["lineItem/UsageStartDate", "lineItem/UsageEndDate", "lineItem/UsageAccountId", "lineItem/LineItemType",
           "lineItem/ProductCode", "lineItem/UsageType", "lineItem/UsageAmount", "lineItem/UnblendedRate",
           "lineItem/UnblendedCost", "pricing/unit", "product/ProductName", "product/region"]
    write("credit_refund_tax.csv", [cur,
          ["2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z", "111122223333", "Usage", "AmazonBedrock", "USE1-Claude4.6Sonnet-input-tokens", "2000", "0.003", "6", "1K tokens", "Amazon Bedrock", "us-east-1"],
          ["2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z", "111122223333", "Usage", "AmazonBedrock", "USE1-Claude4.6Sonnet-output-tokens", "100", "0.015", "1.5", "1K tokens", "Amazon Bedrock", "us-east-1"],
          ["2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z", "111122223333", "Credit", "AmazonBedrock", "USE1-Claude4.6Sonnet-input-tokens", "0", "0", "-2.5", "1K tokens", "Amazon Bedrock", "us-east-1"],
          ["2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z", "111122223333", "Refund", "AmazonBedrock", "USE1-Claude4.6Sonnet-output-tokens", "0", "0", "-1", "1K tokens", "Amazon Bedrock", "us-east-1"],
          ["2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z", "111122223333", "Tax", "AmazonBedrock", "", "1", "0", "0.68", "", "Amazon Bedrock", "us-east-1"],
          ["2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z", "111122223333", "Tax", "AmazonEC2", "", "1", "0", "3.10", "", "Amazon Elastic Compute Cloud", "us-east-1"]])
    # Not a spreadsheet, and an empty file.
    with open(os.path.join(OUT, "not_a_spreadsheet.csv"), "wb") as f:
        f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\x00\x00\x01\x02endobj\n")
    open(os.path.join(OUT, "empty.csv"), "wb").close()


if __name__ == "__main__":
    main()
