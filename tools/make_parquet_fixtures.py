#!/usr/bin/env python3
"""Writes the Parquet fixtures tests/fixtures/parquet/ and the Parquet cases of the bad-input
corpus tests/fixtures/bad/ (checked by tests/it/parquet.rs and tests/it/bad_inputs.rs).

Needs pyarrow, which is not in the standard library: run it from a throwaway virtual
environment, from the repository root:

    python3 -m venv /tmp/pa && /tmp/pa/bin/pip install pyarrow
    /tmp/pa/bin/python tools/make_parquet_fixtures.py

Each export is written twice, as Parquet the way the vendor delivers it and as the CSV the same
data gives when exported as text (the CUR 2.0 CSV delivery; BigQuery's table flattened with
dotted names), so the tests can check that both give the same report.

* aws_cur2_bedrock.parquet: an AWS Data Exports CUR 2.0 file, Snappy (the Data Exports
  default). Column names and types from the CUR 2.0 table dictionary: `*_date` columns are
  timestamps, amounts and costs double, rates string, `product` and `resource_tags`
  map<string, string>.
* gcp_billing_bigquery.parquet: a BigQuery standard usage cost export saved as Parquet, ZSTD.
  Schema of the `gcp_billing_export_v1_*` table: `service`, `sku`, `project`, `location`,
  `usage`, `invoice` structs, `labels` and `credits` repeated structs, `usage_start_time`
  timestamp (BigQuery writes microseconds, UTC), `cost` FLOAT64.
* types_gzip.parquet, types_int96.parquet: every cell type the reader writes (GZIP; INT96
  timestamps as Spark and legacy CUR wrote them).
"""

import csv
import datetime as dt
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

OUT = os.path.join("tests", "fixtures", "parquet")
BAD = os.path.join("tests", "fixtures", "bad")
UTC = dt.timezone.utc


def t(s):
    """A UTC timestamp from `2026-01-05 10:00`."""
    return dt.datetime.strptime(s, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def num(v):
    """A number as a CSV export writes it (Python's shortest round-trip text)."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return repr(v)


# --- AWS CUR 2.0 ---------------------------------------------------------------------------

CUR_FIELDS = [
    ("bill_payer_account_id", pa.string()),
    ("identity_line_item_id", pa.string()),
    ("identity_time_interval", pa.string()),
    ("line_item_line_item_type", pa.string()),
    ("line_item_usage_account_id", pa.string()),
    ("line_item_usage_start_date", pa.timestamp("ms", tz="UTC")),
    ("line_item_usage_end_date", pa.timestamp("ms", tz="UTC")),
    ("line_item_product_code", pa.string()),
    ("line_item_usage_type", pa.string()),
    ("line_item_operation", pa.string()),
    ("line_item_usage_amount", pa.float64()),
    ("line_item_unblended_rate", pa.string()),
    ("line_item_unblended_cost", pa.float64()),
    ("line_item_currency_code", pa.string()),
    ("pricing_unit", pa.string()),
    ("product", pa.map_(pa.string(), pa.string())),
    ("product_region_code", pa.string()),
    ("resource_tags", pa.map_(pa.string(), pa.string())),
]

BEDROCK = {"product_name": "Amazon Bedrock", "servicename": "Amazon Bedrock", "region": "us-east-1"}


def cur_row(n, kind, start, end, code, usage_type, amount, rate, cost, unit, product, region, tags):
    return {
        "bill_payer_account_id": "210987654321",
        "identity_line_item_id": f"li{n:04d}",
        "identity_time_interval": f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}",
        "line_item_line_item_type": kind,
        "line_item_usage_account_id": "310987654322",
        "line_item_usage_start_date": start,
        "line_item_usage_end_date": end,
        "line_item_product_code": code,
        "line_item_usage_type": usage_type,
        "line_item_operation": "InvokeModelInference" if code == "AmazonBedrock" else "RunInstances",
        "line_item_usage_amount": amount,
        "line_item_unblended_rate": rate,
        "line_item_unblended_cost": cost,
        "line_item_currency_code": "USD",
        "pricing_unit": unit,
        "product": product,
        "product_region_code": region,
        "resource_tags": tags,
    }


CUR_ROWS = [
    # 12.5 × 1M input tokens at 3 USD per 1M = 37.5 USD.
    cur_row(1, "Usage", t("2026-01-05 10:00"), t("2026-01-05 11:00"), "AmazonBedrock",
            "USE1-Claude4.6Sonnet-input-tokens", 12.5, "3.0000000000", 37.5, "1M tokens",
            BEDROCK, "us-east-1", {"user_team": "copilot"}),
    # 0.75 × 1M output tokens at 15 USD per 1M = 11.25 USD.
    cur_row(2, "Usage", t("2026-01-05 10:00"), t("2026-01-05 11:00"), "AmazonBedrock",
            "USE1-Claude4.6Sonnet-output-tokens", 0.75, "15.0000000000", 11.25, "1M tokens",
            BEDROCK, "us-east-1", {"user_team": "copilot"}),
    # 4 × 1M cache-read input tokens at 0.3 USD per 1M = 1.2 USD.
    cur_row(3, "Usage", t("2026-01-05 10:00"), t("2026-01-05 11:00"), "AmazonBedrock",
            "USE1-Claude4.6Sonnet-cache-read-input-token-count", 4.0, "0.3000000000", 1.2,
            "1M tokens", BEDROCK, "us-east-1", {}),
    # February: 2.25 × 1M input tokens = 6.75 USD, no tags (an empty map).
    cur_row(4, "Usage", t("2026-02-10 08:00"), t("2026-02-10 09:00"), "AmazonBedrock",
            "USE1-Claude4.6Sonnet-input-tokens", 2.25, "3.0000000000", 6.75, "1M tokens",
            BEDROCK, "us-east-1", {}),
    # Not Bedrock: skipped.
    cur_row(5, "Usage", t("2026-01-05 10:00"), t("2026-01-05 11:00"), "AmazonEC2",
            "USE1-BoxUsage:m7g.large", 1.0, "0.0816000000", 0.0816, "Hrs",
            {"product_name": "Amazon Elastic Compute Cloud", "servicename": "Amazon Elastic Compute Cloud",
             "region": "us-east-1"}, "us-east-1", None),
    # Tax on Bedrock: a spend adjustment, never tokens.
    cur_row(6, "Tax", t("2026-01-01 00:00"), t("2026-02-01 00:00"), "AmazonBedrock",
            None, 1.0, None, 4.95, None,
            {"product_name": "Amazon Bedrock", "servicename": "Amazon Bedrock"}, None, None),
]


def write_cur():
    schema = pa.schema(CUR_FIELDS)
    rows = [dict(r) for r in CUR_ROWS]
    for r in rows:
        for k in ("product", "resource_tags"):
            if r[k] is not None:
                r[k] = list(r[k].items())
    table = pa.Table.from_pylist(rows, schema=schema)
    # Two row groups, so the reader crosses a row group boundary.
    pq.write_table(table, os.path.join(OUT, "aws_cur2_bedrock.parquet"), compression="snappy",
                   row_group_size=4)
    with open(os.path.join(OUT, "aws_cur2_bedrock.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([name for name, _ in CUR_FIELDS])
        for r in CUR_ROWS:
            out = []
            for name, _ in CUR_FIELDS:
                v = r[name]
                if isinstance(v, dt.datetime):
                    out.append(v.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
                elif isinstance(v, dict):
                    out.append(json.dumps(v, separators=(",", ":")))
                elif isinstance(v, float):
                    out.append(num(v))
                else:
                    out.append("" if v is None else v)
            w.writerow(out)


# --- Google Cloud Billing, BigQuery export -------------------------------------------------

KV = pa.struct([("key", pa.string()), ("value", pa.string())])
GCP_SCHEMA = pa.schema([
    ("billing_account_id", pa.string()),
    ("service", pa.struct([("id", pa.string()), ("description", pa.string())])),
    ("sku", pa.struct([("id", pa.string()), ("description", pa.string())])),
    ("usage_start_time", pa.timestamp("us", tz="UTC")),
    ("usage_end_time", pa.timestamp("us", tz="UTC")),
    ("project", pa.struct([
        ("id", pa.string()), ("number", pa.string()), ("name", pa.string()),
        ("labels", pa.list_(KV)), ("ancestry_numbers", pa.string()),
    ])),
    ("labels", pa.list_(KV)),
    ("system_labels", pa.list_(KV)),
    ("location", pa.struct([
        ("location", pa.string()), ("country", pa.string()), ("region", pa.string()),
        ("zone", pa.string()),
    ])),
    ("export_time", pa.timestamp("us", tz="UTC")),
    ("cost", pa.float64()),
    ("currency", pa.string()),
    ("currency_conversion_rate", pa.float64()),
    ("usage", pa.struct([
        ("amount", pa.float64()), ("unit", pa.string()),
        ("amount_in_pricing_units", pa.float64()), ("pricing_unit", pa.string()),
    ])),
    ("credits", pa.list_(pa.struct([
        ("name", pa.string()), ("amount", pa.float64()), ("full_name", pa.string()),
        ("id", pa.string()), ("type", pa.string()),
    ]))),
    ("invoice", pa.struct([("month", pa.string())])),
    ("cost_type", pa.string()),
])

VERTEX = {"id": "C7E2-9256-1C43", "description": "Vertex AI"}
GEMINI_API = {"id": "AEFD-7695-64FA", "description": "Gemini API"}
PROJECT = {"id": "acme-rag-eu", "number": "523456789012", "name": "Acme RAG EU",
           "labels": [{"key": "team", "value": "knowledge"}], "ancestry_numbers": "/1234/"}
EU = {"location": "europe-west4", "country": "NL", "region": "europe-west4", "zone": None}
US = {"location": "us-central1", "country": "US", "region": "us-central1", "zone": None}


def gcp_row(service, sku_id, sku, start, amount, unit, cost, location, credits=(), cost_type="regular"):
    return {
        "billing_account_id": "01A2B3-C4D5E6-F70819",
        "service": service,
        "sku": {"id": sku_id, "description": sku},
        "usage_start_time": start,
        "usage_end_time": start + dt.timedelta(hours=1),
        "project": PROJECT,
        "labels": [{"key": "env", "value": "prod"}],
        "system_labels": [],
        "location": location,
        "export_time": start + dt.timedelta(hours=7, minutes=48, seconds=41, microseconds=187413),
        "cost": cost,
        "currency": "USD",
        "currency_conversion_rate": 1.0,
        "usage": None if amount is None else
        {"amount": amount, "unit": unit, "amount_in_pricing_units": amount, "pricing_unit": unit},
        "credits": list(credits),
        "invoice": {"month": f"{start:%Y%m}"},
        "cost_type": cost_type,
    }


GCP_ROWS = [
    # 40,000,000 input tokens, 12 USD.
    gcp_row(VERTEX, "FDAB-647C-5A22", "Gemini 2.5 Flash GA Text Input - Predictions",
            t("2026-01-03 09:00"), 40_000_000.0, "count", 12.0, EU),
    # 5,000,000 output tokens, 12.5 USD.
    gcp_row(VERTEX, "CD33-11F4-1220", "Gemini 2.5 Flash GA Thinking Text Output - Predictions",
            t("2026-01-03 09:00"), 5_000_000.0, "count", 12.5, EU),
    # Gemini API, 1,200,000 input tokens, 0.36 USD.
    gcp_row(GEMINI_API, "A1B2-C3D4-E5F6",
            "Generate content input token count gemini 2.5 flash short input text",
            t("2026-01-20 14:00"), 1_200_000.0, "count", 0.36, US),
    # Not an AI service: skipped.
    gcp_row({"id": "6F81-5844-456A", "description": "Compute Engine"}, "9431-8A1B-2F3C",
            "N2 Instance Core running in Americas", t("2026-01-03 09:00"), 3600.0, "seconds",
            0.031611, US),
    # February: 10,000,000 input tokens, 3 USD, with a free-tier credit of -1 USD.
    gcp_row(VERTEX, "FDAB-647C-5A22", "Gemini 2.5 Flash GA Text Input - Predictions",
            t("2026-02-11 16:00"), 10_000_000.0, "count", 3.0, EU,
            credits=[{"name": "Free tier", "amount": -1.0, "full_name": "Free tier",
                      "id": "FreeTier", "type": "FREE_TIER"}]),
    # Tax: a spend adjustment.
    gcp_row(VERTEX, "", "", t("2026-01-01 00:00"), None, None, 1.5, US, cost_type="tax"),
]


def flat(prefix, v, out):
    if isinstance(v, dict):
        for k, x in v.items():
            flat(f"{prefix}{k}.", x, out)
    else:
        out[prefix[:-1]] = v


def write_gcp():
    table = pa.Table.from_pylist(GCP_ROWS, schema=GCP_SCHEMA)
    pq.write_table(table, os.path.join(OUT, "gcp_billing_bigquery.parquet"), compression="zstd")
    # The flattened CSV: structs as dotted columns (a null struct's fields empty), lists as
    # JSON, timestamps as BigQuery writes them (`2026-01-03 09:00:00 UTC`).
    header = []
    for field in GCP_SCHEMA:
        if pa.types.is_struct(field.type):
            header += [f"{field.name}.{c.name}" for c in field.type]
        else:
            header.append(field.name)
    with open(os.path.join(OUT, "gcp_billing_bigquery.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in GCP_ROWS:
            cells = {}
            for field in GCP_SCHEMA:
                v = r[field.name]
                if pa.types.is_struct(field.type):
                    v = v or {c.name: None for c in field.type}
                    flat(f"{field.name}.", v, cells)
                else:
                    cells[field.name] = v
            out = []
            for name in header:
                v = cells[name]
                if isinstance(v, dt.datetime):
                    s = v.strftime("%Y-%m-%d %H:%M:%S")
                    if v.microsecond:
                        s += f".{v.microsecond:06d}"
                    out.append(s + " UTC")
                elif isinstance(v, list):
                    out.append(json.dumps(v, separators=(",", ":")))
                elif isinstance(v, float):
                    out.append(num(v))
                else:
                    out.append("" if v is None else v)
            w.writerow(out)


# --- every cell type -----------------------------------------------------------------------


def write_types():
    import decimal
    ts = t("2026-01-02 11:00") + dt.timedelta(microseconds=123456)
    table = pa.table({
        "ts_ms": pa.array([ts.replace(microsecond=123000), None], pa.timestamp("ms", tz="UTC")),
        "ts_us_local": pa.array([ts.replace(tzinfo=None), None], pa.timestamp("us")),
        "ts_ns": pa.array([1767351600123456789, None], pa.timestamp("ns", tz="UTC")),
        "day": pa.array([dt.date(2026, 1, 2), None], pa.date32()),
        "amount": pa.array([decimal.Decimal("-12.3450"), None], pa.decimal128(12, 4)),
        "big": pa.array([2**60, None], pa.int64()),
        "small": pa.array([-7, None], pa.int32()),
        "f32": pa.array([0.1, None], pa.float32()),
        "f64": pa.array([0.1, None], pa.float64()),
        "flag": pa.array([True, None], pa.bool_()),
        "text": pa.array(['say "hi"\n', ""], pa.string()),
        "raw": pa.array([b"\xff\xfe", None], pa.binary()),
        "tags": pa.array([[("a", 1), ("b", None)], None], pa.map_(pa.string(), pa.int64())),
        "nums": pa.array([[1.5, None], []], pa.list_(pa.float64())),
        "nested": pa.array([{"a": 1, "b": {"c": "x"}}, None],
                           pa.struct([("a", pa.int32()), ("b", pa.struct([("c", pa.string())]))])),
    })
    pq.write_table(table, os.path.join(OUT, "types_gzip.parquet"), compression="gzip")
    int96 = pa.table({"ts": pa.array([ts, None], pa.timestamp("us", tz="UTC"))})
    pq.write_table(int96, os.path.join(OUT, "types_int96.parquet"), compression="snappy",
                   use_deprecated_int96_timestamps=True)


# --- bad inputs ----------------------------------------------------------------------------


def write_bad():
    good = open(os.path.join(OUT, "aws_cur2_bedrock.parquet"), "rb").read()
    # Cut in the middle: no footer.
    with open(os.path.join(BAD, "parquet_truncated.parquet"), "wb") as f:
        f.write(good[: len(good) // 2])
    # The footer length says 2 GiB.
    with open(os.path.join(BAD, "parquet_footer_claims_2_gib.parquet"), "wb") as f:
        f.write(good[:-8] + (0x7FFFFFFF).to_bytes(4, "little") + b"PAR1")
    # A page that inflates to 300 MiB (zeros, ZSTD: a few kB on disk).
    bomb = pa.table({"blob": pa.array([bytes(300 << 20)], pa.binary())})
    pq.write_table(bomb, os.path.join(BAD, "parquet_page_bomb.parquet"), compression="zstd",
                   use_dictionary=False, data_page_size=1 << 30, write_statistics=False)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write_cur()
    write_gcp()
    write_types()
    write_bad()
