#!/usr/bin/env python3
"""Write the vendor billing/cost export samples for llm-scope3 (January-March 2026).

    python3 tools/make_vendor_samples.py            # writes into samples/
    python3 tools/make_vendor_samples.py --out DIR  # somewhere else

Python 3 standard library only. Deterministic: every random choice comes from a
random.Random seeded with a fixed string, the gzip member has mtime 0 and no name, so
every run writes the same bytes.

Files (shapes from /work/shared/design/FORMATS.md and the research notes; every
value is synthetic: companies, ids, e-mail addresses and prices are invented):

  azure_cost_export_ea_2026Q1.csv        Azure Cost Management, EA layout (PascalCase),
                                         UTF-8 BOM, CRLF, Quantity in price BLOCKS
  azure_cost_export_mca_2026Q1.csv       Azure Cost Management, MCA layout (camelCase),
                                         UTF-8 BOM, CRLF, quantity in RAW TOKENS, one
                                         row that fits neither relation
  aws_cur_legacy_bedrock_2026Q1.csv      AWS CUR (legacy lineItem/... columns)
  aws_cur2_bedrock_2026Q1.csv.gz         AWS CUR 2.0 / Data Exports (snake_case + maps)
  gcp_billing_bigquery_2026Q1.csv        GCP billing BigQuery export flattened to CSV
  gcp_billing_console_2026Q1.csv         GCP console "Cost table" CSV (one invoice:
                                         March 2026, see note in the JSON)
  openai_cost_2026-01-01_2026-03-31.csv  OpenAI dashboard cost export, 17 columns
  anthropic_claude_api_cost_2026_Q1.csv  Anthropic console cost export, 14 columns

plus expected_vendor_totals.json: control totals computed here from the values as
written (the strings put in the cells), never by parsing the files back.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal as D, getcontext
from pathlib import Path

getcontext().prec = 60
ZERO = D(0)
Q1_DAYS = [date(2026, 1, 1) + timedelta(days=n) for n in range(90)]
assert Q1_DAYS[-1] == date(2026, 3, 31)


# --------------------------------------------------------------------------- helpers


def rng(name: str) -> random.Random:
    """A generator per purpose, so adding rows to one file never shifts another."""
    return random.Random(f"llm-scope3/vendor-samples/{name}")


def plain(d) -> str:
    """Decimal as plain text: no exponent, no trailing zeros."""
    d = D(d)
    if d == 0:
        return "0"
    return format(d.normalize(), "f")


def fixed(d, places: int) -> str:
    q = D(1).scaleb(-places)
    return format(D(d).quantize(q, rounding=ROUND_HALF_UP), "f")


def round2(d) -> D:
    return D(d).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def float17(d) -> str:
    """How Azure exports write money: a binary double printed with 17 significant
    digits, so 3.0864175 comes out as 3.0864175000000001 (never with an exponent)."""
    s = format(float(d), ".17g")
    if "e" in s or "E" in s:
        s = format(D(s), "f")
    return s


def hexid(r: random.Random, n: int) -> str:
    return "".join(r.choice("0123456789abcdef") for _ in range(n))


def guid(r: random.Random) -> str:
    h = hexid(r, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def token(r: random.Random, n: int, alphabet="abcdefghijklmnopqrstuvwxyz0123456789") -> str:
    return "".join(r.choice(alphabet) for _ in range(n))


def month_of(day: date) -> str:
    return day.strftime("%Y-%m")


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)


def pick_days(r: random.Random, start: date, end: date, k: int) -> list[date]:
    window = [d for d in Q1_DAYS if start <= d <= end]
    return sorted(r.sample(window, min(k, len(window))))


def pick_hours(r: random.Random, k: int, start=date(2026, 1, 1), end=date(2026, 3, 31)):
    """k distinct (day, hour) slots, mostly in business hours, sorted."""
    window = [d for d in Q1_DAYS if start <= d <= end]
    slots: list[tuple[date, int]] = []
    while len(slots) < k:
        slot = (r.choice(window), r.randint(6, 21) if r.random() < 0.85 else r.randint(0, 23))
        if slot not in slots:
            slots.append(slot)
    return sorted(slots)


def csv_text(header: list[str], rows: list[list[str]], newline: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for row in rows:
        assert len(row) == len(header), (len(row), len(header), row[:5])
        w.writerow(row)
    return buf.getvalue()


# --------------------------------------------------------------------------- tally


class Tally:
    """Control totals for one file, fed with the metadata of each row as it is written.

    Row categories (every data row below the header lands in exactly one):
      llm          a token row of an LLM (input / cached input / output tokens)
      not_token    LLM spend that is not tokens (provisioned throughput hours, context
                   cache storage, images, web search calls, character-billed SKUs)
      adjustment   money only: tax, credit, refund
      other        another cloud service (VMs, storage, non-LLM AI meters)
      rejected     an LLM meter row whose numbers are inconsistent (importer must reject)
      empty        an empty usage bucket (time columns only)
      summary      a vendor summary row (Rounding error, Total)
    """

    def __init__(self, tokens_known: bool = True):
        self.tokens_known = tokens_known
        self.rows = 0
        self.llm_rows = 0
        self.inp = 0
        self.cached = 0
        self.out = 0
        self.llm_cost = ZERO
        self.nt: dict[str, dict] = {}
        self.adj: dict[str, dict] = {}
        self.other_rows = 0
        self.other_cost = ZERO
        self.rejected: list[dict] = []
        self.empty_rows = 0
        self.summary: dict[str, dict] = {}
        self.days: list[date] = []
        self.by_month: dict[str, dict] = {}
        self.by_model: dict[str, dict] = {}
        self.by_region: dict[str, dict] = {}
        self.extra: dict = {}

    @staticmethod
    def _bucket(dct, key):
        return dct.setdefault(
            key,
            {"llm_token_rows": 0, "input_tokens": 0, "cached_input_tokens": 0,
             "output_tokens": 0, "llm_cost": ZERO},
        )

    def add(self, meta: dict, line_no: int):
        """line_no: 1 = first row below the header."""
        self.rows += 1
        cat = meta["cat"]
        day = meta.get("day")
        if day is not None and cat != "summary":
            self.days.append(day)
        if cat == "llm":
            cost = D(meta["cost"])
            inp, cached, out = meta.get("inp", 0), meta.get("cached", 0), meta.get("out", 0)
            self.llm_rows += 1
            self.llm_cost += cost
            self.inp += inp
            self.cached += cached
            self.out += out
            keys = [(self.by_month, month_of(day)), (self.by_model, meta["model"])]
            if meta.get("region"):
                keys.append((self.by_region, meta["region"]))
            for dct, key in keys:
                b = self._bucket(dct, key)
                b["llm_token_rows"] += 1
                b["input_tokens"] += inp
                b["cached_input_tokens"] += cached
                b["output_tokens"] += out
                b["llm_cost"] += cost
        elif cat == "not_token":
            b = self.nt.setdefault(meta["kind"], {"rows": 0, "cost": ZERO, "quantity": ZERO, "unit": meta.get("unit", "")})
            b["rows"] += 1
            b["cost"] += D(meta["cost"])
            b["quantity"] += D(meta.get("quantity", 0))
        elif cat == "adjustment":
            b = self.adj.setdefault(meta["kind"], {"rows": 0, "amount": ZERO})
            b["rows"] += 1
            b["amount"] += D(meta["amount"])
        elif cat == "other":
            self.other_rows += 1
            self.other_cost += D(meta["cost"])
        elif cat == "rejected":
            self.rejected.append({"line_below_header": line_no, "cost": plain(D(meta["cost"])), "reason": meta["reason"]})
        elif cat == "empty":
            self.empty_rows += 1
        elif cat == "summary":
            b = self.summary.setdefault(meta["kind"], {"rows": 0, "unrounded": ZERO, "rounded": ZERO})
            b["rows"] += 1
            b["unrounded"] += D(meta["unrounded"])
            b["rounded"] += D(meta["rounded"])
        else:
            raise ValueError(cat)

    @staticmethod
    def _fmt_bucket(b, tokens_known):
        out = {"llm_token_rows": b["llm_token_rows"]}
        if tokens_known:
            out.update(input_tokens=b["input_tokens"], cached_input_tokens=b["cached_input_tokens"],
                       output_tokens=b["output_tokens"])
        out["llm_cost"] = plain(b["llm_cost"])
        return out

    def to_json(self) -> dict:
        tk = self.tokens_known
        months = sorted({month_of(d) for d in self.days})
        res = {
            "rows_below_header": self.rows,
            "llm_token_rows": self.llm_rows,
            "input_tokens": self.inp if tk else None,
            "cached_input_tokens": self.cached if tk else None,
            "output_tokens": self.out if tk else None,
            "llm_cost": plain(self.llm_cost),
            "not_token_rows": sum(b["rows"] for b in self.nt.values()),
            "not_token_cost": plain(sum((b["cost"] for b in self.nt.values()), ZERO)),
            "not_token_breakdown": {
                k: {"rows": b["rows"], "cost": plain(b["cost"]), "quantity": plain(b["quantity"]), "unit": b["unit"]}
                for k, b in sorted(self.nt.items())
            },
            "adjustment_rows": sum(b["rows"] for b in self.adj.values()),
            "adjustment_amount": plain(sum((b["amount"] for b in self.adj.values()), ZERO)),
            "adjustment_breakdown": {k: {"rows": b["rows"], "amount": plain(b["amount"])} for k, b in sorted(self.adj.items())},
            "other_service_rows": self.other_rows,
            "other_service_cost": plain(self.other_cost),
            "rejected_rows": len(self.rejected),
            "rejected": self.rejected,
            "empty_bucket_rows": self.empty_rows,
            "vendor_summary_rows": sum(b["rows"] for b in self.summary.values()),
            "vendor_summary_breakdown": {
                k: {"rows": b["rows"], "unrounded": plain(b["unrounded"]), "rounded": plain(b["rounded"])}
                for k, b in sorted(self.summary.items())
            },
            "first_day": min(self.days).isoformat() if self.days else None,
            "last_day": max(self.days).isoformat() if self.days else None,
            "months": months,
            "by_month": {k: self._fmt_bucket(v, tk) for k, v in sorted(self.by_month.items())},
            "by_model": {k: self._fmt_bucket(v, tk) for k, v in sorted(self.by_model.items())},
            "by_region": {k: self._fmt_bucket(v, tk) for k, v in sorted(self.by_region.items())},
        }
        check = (self.llm_rows + res["not_token_rows"] + res["adjustment_rows"] + self.other_rows
                 + len(self.rejected) + self.empty_rows + res["vendor_summary_rows"])
        assert check == self.rows, (check, self.rows)
        res.update(self.extra)
        return res


def emit(rows: list[tuple], tally: Tally) -> list[list[str]]:
    """rows: (sort_key, values, meta), already in file order. Feeds the tally."""
    out = []
    for i, (_, values, meta) in enumerate(rows, start=1):
        tally.add(meta, i)
        out.append(values)
    return out


# --------------------------------------------------------------------------- Azure

AZ_BILLING_REGION = {"eastus": "US East", "eastus2": "US East 2", "swedencentral": "SE Central",
                     "westeurope": "EU West"}


class Meter:
    def __init__(self, name, direction, block, price, model, subcat, deploy, category="Foundry Models",
                 ea_unit=None):
        self.name = name            # MeterName
        self.direction = direction  # input | cached | output
        self.block = block          # 1000 or 1000000 tokens per price unit
        self.price = D(price)       # list price per block, USD
        self.model = model
        self.subcat = subcat
        self.deploy = deploy        # global | datazone | regional
        self.category = category
        self.ea_unit = ea_unit or ("1M" if block == 1_000_000 else "1K")
        r = rng("meter/" + name)
        self.meter_id = guid(r)
        self.part_number = "".join(r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(3)) + "-" + str(r.randint(10000, 99999))
        self.product_id = "DZH318Z0" + token(r, 4, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")

    def meter_region(self, location):
        return "Global" if self.deploy == "global" else AZ_BILLING_REGION[location]


M = Meter
# [observed] = meter names listed in FORMATS.md; the rest follow the research-notes table
# or are derived from the observed spelling patterns ([inferred]).
AZ_METERS = {m.name: m for m in [
    M("gpt 4o 0513 Input global Tokens", "input", 1000, "0.005", "gpt-4o-2024-05-13", "Azure OpenAI", "global", "Cognitive Services"),
    M("gpt 4o 0513 Output global Tokens", "output", 1000, "0.015", "gpt-4o-2024-05-13", "Azure OpenAI", "global", "Cognitive Services"),
    M("gpt-4o-0806-Inp-glbl Tokens", "input", 1000, "0.0025", "gpt-4o-2024-08-06", "Azure OpenAI", "global", "Cognitive Services"),
    M("gpt-4o-0806-Outp-glbl Tokens", "output", 1000, "0.01", "gpt-4o-2024-08-06", "Azure OpenAI", "global", "Cognitive Services"),
    M("gpt 4o 1120 Inp glbl Tokens", "input", 1000, "0.0025", "gpt-4o-2024-11-20", "Azure OpenAI", "global"),
    M("gpt 4o 1120 cached Inp glbl Tokens", "cached", 1000, "0.00125", "gpt-4o-2024-11-20", "Azure OpenAI", "global"),
    M("gpt 4o 1120 Outp glbl Tokens", "output", 1000, "0.01", "gpt-4o-2024-11-20", "Azure OpenAI", "global"),
    M("gpt-4o-mini-0718-Inp-glbl Tokens", "input", 1000, "0.00015", "gpt-4o-mini-2024-07-18", "Azure OpenAI", "global", ea_unit="1000"),
    M("gpt-4o-mini-0718-Outp-glbl Tokens", "output", 1000, "0.0006", "gpt-4o-mini-2024-07-18", "Azure OpenAI", "global", ea_unit="1000"),
    M("gpt 4.1 Inp Data Zone Tokens", "input", 1000, "0.0022", "gpt-4.1-2025-04-14", "Azure OpenAI", "datazone"),
    M("gpt 4.1 Outp Data Zone Tokens", "output", 1000, "0.0088", "gpt-4.1-2025-04-14", "Azure OpenAI", "datazone"),
    M("gpt 4.1 mini Inp regnl Tokens", "input", 1000, "0.00044", "gpt-4.1-mini-2025-04-14", "Azure OpenAI", "regional"),
    M("gpt 4.1 mini Outp regnl Tokens", "output", 1000, "0.00176", "gpt-4.1-mini-2025-04-14", "Azure OpenAI", "regional"),
    M("GPT 5 Inpt Glbl 1M Tokens", "input", 1_000_000, "1.25", "gpt-5-2025-08-07", "Azure OpenAI GPT5", "global"),
    M("GPT 5 cchd Inpt Glbl 1M Tokens", "cached", 1_000_000, "0.125", "gpt-5-2025-08-07", "Azure OpenAI GPT5", "global"),
    M("GPT 5 outpt Glbl 1M Tokens", "output", 1_000_000, "10", "gpt-5-2025-08-07", "Azure OpenAI GPT5", "global"),
    M("text-embedding-3-large-glbl Tokens", "input", 1000, "0.00013", "text-embedding-3-large", "Azure OpenAI Embedding", "global", "Cognitive Services", ea_unit="1000"),
]}

# Daily token ranges per meter (tokens, not blocks)
AZ_RANGES = {"input": (4_000_000, 60_000_000), "cached": (1_000_000, 25_000_000), "output": (400_000, 8_000_000)}

# Other Azure meters in the same export (skipped as "not an LLM meter")
# (MeterCategory, MeterSubCategory, MeterName, UnitOfMeasure, price, qty range, ConsumedService, provider path, ServiceFamily, AdditionalInfo)
AZ_OTHER = [
    ("Virtual Machines", "Dsv5 Series", "D4s v5", "1 Hour", "0.192", (D(24), D(72)), "Microsoft.Compute",
     "Microsoft.Compute/virtualMachines", "Compute",
     '{"ServiceType":"Standard_D4s_v5","VCPUs":4,"UsageType":"ComputeHR","ImageType":null}'),
    ("Storage", "General Block Blob v2", "Hot LRS Data Stored", "1 GB/Month", "0.0184", (D("3.5"), D("41.9")),
     "Microsoft.Storage", "Microsoft.Storage/storageAccounts", "Storage", ""),
    ("Cognitive Services", "Language", "Standard Text Records", "1K", "1", (D("1.2"), D("24.8")),
     "Microsoft.CognitiveServices", "Microsoft.CognitiveServices/accounts", "AI + Machine Learning", ""),
]

PTU_METER = ("Provisioned Managed Global Unit", "Azure OpenAI Provisioned", "1 Hour", D("1"))


def azure_plan(r: random.Random, resources: dict, deployments: list, ptu: list, others: list, rejected: list | None):
    """Returns a list of abstract rows: dict(day, res, kind, ...). kind: llm|ptu|other|rejected."""
    plan = []
    for res_key, meters, start, end, k in deployments:
        for day in pick_days(r, start, end, k):
            weekend = day.weekday() >= 5
            for mname in meters:
                m = AZ_METERS[mname]
                lo, hi = AZ_RANGES[m.direction]
                if m.model.startswith("text-embedding"):
                    lo, hi = 20_000_000, 180_000_000
                if m.model.startswith("gpt-4o-mini"):
                    lo, hi = lo * 3, hi * 3
                tokens = r.randint(lo, hi)
                if weekend:
                    tokens //= 3
                plan.append({"day": day, "res": res_key, "kind": "llm", "meter": m, "tokens": tokens})
    for res_key, start, end, ptus in ptu:
        for day in [d for d in Q1_DAYS if start <= d <= end]:
            plan.append({"day": day, "res": res_key, "kind": "ptu", "hours": D(ptus * 24)})
    for res_key, idx, k in others:
        spec = AZ_OTHER[idx]
        lo, hi = spec[5]
        for day in pick_days(r, date(2026, 1, 1), date(2026, 3, 31), k):
            qty = (lo + (hi - lo) * D(r.randint(0, 10_000)) / D(10_000)).quantize(D("0.0001"))
            if spec[3] == "1 Hour":
                qty = D(r.choice([24, 48, 72]))
            plan.append({"day": day, "res": res_key, "kind": "other", "spec": spec, "qty": qty})
    for res_key, day, mname, tokens, cost in rejected or []:
        plan.append({"day": day, "res": res_key, "kind": "rejected", "meter": AZ_METERS[mname], "tokens": tokens,
                     "cost": D(cost)})
    plan.sort(key=lambda p: (p["day"], p["res"], p.get("meter").name if p.get("meter") else p["kind"]))
    return plan


def azure_row_meta(p, res, cost_str):
    """Tally metadata for an abstract Azure row."""
    day = p["day"]
    if p["kind"] == "llm":
        m, t = p["meter"], p["tokens"]
        inp = t if m.direction in ("input", "cached") else 0
        cached = t if m.direction == "cached" else 0
        out = t if m.direction == "output" else 0
        return {"cat": "llm", "day": day, "model": m.model, "region": res["location"], "inp": inp,
                "cached": cached, "out": out, "cost": cost_str}
    if p["kind"] == "ptu":
        return {"cat": "not_token", "kind": "provisioned_throughput", "day": day, "cost": cost_str,
                "quantity": p["hours"], "unit": "PTU-hours (1 Hour)"}
    if p["kind"] == "other":
        return {"cat": "other", "day": day, "cost": cost_str}
    return {"cat": "rejected", "day": day, "cost": cost_str,
            "reason": "costInBillingCurrency fits neither effectivePrice x quantity (blocks) nor effectivePrice x quantity / block (tokens; block 1,000 for 1K)"}


EA_COLUMNS = [
    "InvoiceSectionName", "AccountName", "AccountOwnerId", "SubscriptionId", "SubscriptionName", "ResourceGroup",
    "ResourceLocation", "Date", "ProductName", "MeterCategory", "MeterSubCategory", "MeterId", "MeterName",
    "MeterRegion", "UnitOfMeasure", "Quantity", "EffectivePrice", "CostInBillingCurrency", "CostCenter",
    "ConsumedService", "ResourceId", "Tags", "OfferId", "AdditionalInfo", "ServiceInfo1", "ServiceInfo2",
    "ResourceName", "ReservationId", "ReservationName", "UnitPrice", "ProductOrderId", "ProductOrderName", "Term",
    "PublisherType", "PublisherName", "ChargeType", "Frequency", "PricingModel", "AvailabilityZone",
    "BillingAccountId", "BillingAccountName", "BillingCurrencyCode", "BillingPeriodStartDate",
    "BillingPeriodEndDate", "BillingProfileId", "BillingProfileName", "InvoiceSectionId", "IsAzureCreditEligible",
    "PartNumber", "PayGPrice", "PlanName", "ServiceFamily", "CostAllocationRuleName", "benefitId", "benefitName",
]
# The documented field set of usage-details-ea-2021-10-01 (order not verified; start observed).
assert len(EA_COLUMNS) == 55 and len(set(EA_COLUMNS)) == 55

MCA_COLUMNS = (
    "invoiceId,previousInvoiceId,billingAccountId,billingAccountName,billingProfileId,billingProfileName,"
    "invoiceSectionId,invoiceSectionName,resellerName,resellerMpnId,costCenter,billingPeriodEndDate,"
    "billingPeriodStartDate,servicePeriodEndDate,servicePeriodStartDate,date,serviceFamily,productOrderId,"
    "productOrderName,consumedService,meterId,meterName,meterCategory,meterSubCategory,meterRegion,ProductId,"
    "ProductName,SubscriptionId,subscriptionName,publisherType,publisherId,publisherName,resourceGroupName,"
    "ResourceId,resourceLocation,location,effectivePrice,quantity,unitOfMeasure,chargeType,billingCurrency,"
    "pricingCurrency,costInBillingCurrency,costInPricingCurrency,costInUsd,paygCostInBillingCurrency,"
    "paygCostInUsd,exchangeRatePricingToBilling,exchangeRateDate,isAzureCreditEligible,serviceInfo1,"
    "serviceInfo2,additionalInfo,tags,PayGPrice,frequency,term,reservationId,reservationName,pricingModel,"
    "unitPrice,costAllocationRuleName,benefitId,benefitName,provider"
).split(",")
assert len(MCA_COLUMNS) == 65


def mdy(d: date) -> str:
    return d.strftime("%m/%d/%Y")


def azure_resources(r: random.Random, specs):
    out = {}
    for key, sub, rg, location, tags, cc, provider_path in specs:
        out[key] = {"name": key, "sub": sub, "rg": rg, "location": location, "tags": tags, "cc": cc,
                    "id": f"/subscriptions/{sub['id']}/resourceGroups/{rg}/providers/{provider_path}/{key}"}
    return out


def azure_ea() -> tuple[bytes, dict]:
    r = rng("azure-ea")
    subs = {"ai": {"id": guid(r), "name": "contoso-ai-prod"}, "data": {"id": guid(r), "name": "contoso-data-prod"}}
    cog = "Microsoft.CognitiveServices/accounts"
    res = azure_resources(r, [
        ("aoai-support-eus", subs["ai"], "rg-support-ai", "eastus", '{"env":"prod","team":"support"}', "CC-4100", cog),
        # EA classic tag text without braces [observed quirk in the notes, #13]
        ("aoai-knowledge-swc", subs["ai"], "rg-knowledge", "swedencentral", '"env": "prod","team": "knowledge"', "CC-4200", cog),
        ("aoai-analytics-weu", subs["data"], "rg-analytics", "westeurope", '{"env":"dev","team":"analytics"}', "", cog),
        ("vm-etl-01", subs["data"], "rg-etl", "eastus", '{"env":"prod","team":"data"}', "CC-4300", "Microsoft.Compute/virtualMachines"),
        ("stcontosodatalake", subs["data"], "rg-etl", "westeurope", "", "CC-4300", "Microsoft.Storage/storageAccounts"),
        ("lang-support-eus", subs["ai"], "rg-support-ai", "eastus", '{"env":"prod","team":"support"}', "CC-4100", cog),
    ])
    jan, feb, mar = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
    end = date(2026, 3, 31)
    deployments = [
        ("aoai-support-eus", ["gpt 4o 0513 Input global Tokens", "gpt 4o 0513 Output global Tokens"], jan, date(2026, 1, 31), 7),
        ("aoai-support-eus", ["gpt 4o 1120 Inp glbl Tokens", "gpt 4o 1120 cached Inp glbl Tokens", "gpt 4o 1120 Outp glbl Tokens"], feb, end, 10),
        ("aoai-support-eus", ["gpt-4o-mini-0718-Inp-glbl Tokens", "gpt-4o-mini-0718-Outp-glbl Tokens"], jan, end, 10),
        ("aoai-knowledge-swc", ["text-embedding-3-large-glbl Tokens"], jan, end, 10),
        ("aoai-knowledge-swc", ["gpt-4o-0806-Inp-glbl Tokens", "gpt-4o-0806-Outp-glbl Tokens"], jan, date(2026, 2, 15), 7),
        ("aoai-knowledge-swc", ["GPT 5 Inpt Glbl 1M Tokens", "GPT 5 cchd Inpt Glbl 1M Tokens", "GPT 5 outpt Glbl 1M Tokens"], jan, end, 10),
        ("aoai-analytics-weu", ["gpt 4.1 Inp Data Zone Tokens", "gpt 4.1 Outp Data Zone Tokens"], jan, end, 8),
        ("aoai-analytics-weu", ["gpt 4.1 mini Inp regnl Tokens", "gpt 4.1 mini Outp regnl Tokens"], jan, end, 7),
    ]
    ptu = [("aoai-knowledge-swc", date(2026, 3, 2), date(2026, 3, 9), 15)]
    others = [("vm-etl-01", 0, 9), ("stcontosodatalake", 1, 6), ("lang-support-eus", 2, 4)]
    plan = azure_plan(r, res, deployments, ptu, others, None)

    billing = {"account_id": "71234567", "account_name": "Contoso Ltd", "section": "Digital Products",
               "section_id": "1204567", "account": "Contoso AI Platform", "owner": "cloud-billing@contoso.example"}
    rows = []
    for p in plan:
        rs = res[p["res"]]
        d = p["day"]
        bp_start, bp_end = month_bounds(d)
        v = dict.fromkeys(EA_COLUMNS, "")
        v.update({
            "InvoiceSectionName": billing["section"], "AccountName": billing["account"],
            "AccountOwnerId": billing["owner"], "SubscriptionId": rs["sub"]["id"],
            "SubscriptionName": rs["sub"]["name"], "ResourceGroup": rs["rg"],
            "ResourceLocation": rs["location"], "Date": mdy(d), "CostCenter": rs["cc"], "ResourceId": rs["id"],
            "Tags": rs["tags"], "OfferId": "MS-AZR-0017P", "ResourceName": rs["name"], "PublisherType": "Azure",
            "PublisherName": "Microsoft", "ChargeType": "Usage", "Frequency": "UsageBased",
            "PricingModel": "OnDemand", "BillingAccountId": billing["account_id"],
            "BillingAccountName": billing["account_name"], "BillingCurrencyCode": "USD",
            "BillingPeriodStartDate": mdy(bp_start), "BillingPeriodEndDate": mdy(bp_end),
            "BillingProfileId": billing["account_id"], "BillingProfileName": billing["account_name"],
            "InvoiceSectionId": billing["section_id"], "IsAzureCreditEligible": "True",
        })
        if p["kind"] == "llm":
            m = p["meter"]
            qty = D(p["tokens"]) / D(m.block)  # BLOCKS in the EA file
            cost = float17(m.price * qty)
            v.update({
                "ProductName": f"Azure OpenAI - {m.name}", "MeterCategory": m.category,
                "MeterSubCategory": m.subcat, "MeterId": m.meter_id, "MeterName": m.name,
                "MeterRegion": m.meter_region(rs["location"]), "UnitOfMeasure": m.ea_unit, "Quantity": plain(qty),
                "EffectivePrice": plain(m.price), "CostInBillingCurrency": cost, "UnitPrice": plain(m.price),
                "PayGPrice": plain(m.price), "ConsumedService": "Microsoft.CognitiveServices",
                "PartNumber": m.part_number, "ServiceFamily": "AI + Machine Learning",
            })
        elif p["kind"] == "ptu":
            name, subcat, unit, price = PTU_METER
            cost = float17(price * p["hours"])
            mr = rng("meter/" + name)
            v.update({
                "ProductName": f"Azure OpenAI - {name}", "MeterCategory": "Foundry Models",
                "MeterSubCategory": subcat, "MeterId": guid(mr), "MeterName": name, "MeterRegion": "Global",
                "UnitOfMeasure": unit, "Quantity": plain(p["hours"]), "EffectivePrice": plain(price),
                "CostInBillingCurrency": cost, "UnitPrice": plain(price), "PayGPrice": plain(price),
                "ConsumedService": "Microsoft.CognitiveServices", "PartNumber": "AAK-" + str(mr.randint(10000, 99999)),
                "ServiceFamily": "AI + Machine Learning",
            })
        else:
            cat, sub, name, unit, price, _, svc, _, family, addl = p["spec"]
            price = D(price)
            cost = float17(price * p["qty"])
            mr = rng("meter/" + name)
            v.update({
                "ProductName": f"{cat} {sub} - {name}", "MeterCategory": cat, "MeterSubCategory": sub,
                "MeterId": guid(mr), "MeterName": name, "MeterRegion": AZ_BILLING_REGION[rs["location"]],
                "UnitOfMeasure": unit, "Quantity": plain(p["qty"]), "EffectivePrice": plain(price),
                "CostInBillingCurrency": cost, "UnitPrice": plain(price), "PayGPrice": plain(price),
                "ConsumedService": svc, "AdditionalInfo": addl, "PartNumber": "AAA-" + str(mr.randint(10000, 99999)),
                "ServiceFamily": family,
            })
        rows.append((None, [v[c] for c in EA_COLUMNS], azure_row_meta(p, rs, v["CostInBillingCurrency"])))
    tally = Tally()
    body = "\ufeff" + csv_text(EA_COLUMNS, emit(rows, tally), "\r\n")
    tally.extra = {
        "format": "Azure Cost Management export, EA layout (usage-details-ea-2021-10-01 field set)",
        "encoding": "UTF-8 with BOM", "line_ending": "CRLF", "columns": len(EA_COLUMNS), "currency": "USD",
        "quantity_semantics": "blocks: Quantity = tokens / block (UnitOfMeasure 1K or 1000 -> 1,000 tokens; 1M -> 1,000,000); CostInBillingCurrency = EffectivePrice x Quantity (printed as a 17-significant-digit double)",
        "region_note": "by_region is ResourceLocation; Global / Data Zone meters may run elsewhere",
    }
    return body.encode("utf-8"), tally.to_json()


def azure_mca() -> tuple[bytes, dict]:
    r = rng("azure-mca")
    subs = {"ai": {"id": guid(r), "name": "Fabrikam AI Production"}, "core": {"id": guid(r), "name": "Fabrikam Core"}}
    cog = "Microsoft.CognitiveServices/accounts"
    res = azure_resources(r, [
        ("aoai-fab-chat-eus2", subs["ai"], "rg-assistant", "eastus2", '{"env":"prod","app":"assistant"}', "FAB-210", cog),
        ("aoai-fab-search-swc", subs["ai"], "rg-search", "swedencentral", '{"env":"prod","app":"search"}', "FAB-220", cog),
        ("aoai-fab-bi-weu", subs["ai"], "rg-bi", "westeurope", "", "FAB-230", cog),
        ("vm-build-agent-2", subs["core"], "rg-ci", "eastus2", '{"env":"ci"}', "FAB-900", "Microsoft.Compute/virtualMachines"),
        ("stfabrikamlogs", subs["core"], "rg-ci", "eastus2", '{"env":"ci"}', "FAB-900", "Microsoft.Storage/storageAccounts"),
    ])
    jan, end = date(2026, 1, 1), date(2026, 3, 31)
    deployments = [
        ("aoai-fab-chat-eus2", ["gpt 4o 1120 Inp glbl Tokens", "gpt 4o 1120 cached Inp glbl Tokens", "gpt 4o 1120 Outp glbl Tokens"], jan, end, 9),
        ("aoai-fab-chat-eus2", ["GPT 5 Inpt Glbl 1M Tokens", "GPT 5 cchd Inpt Glbl 1M Tokens", "GPT 5 outpt Glbl 1M Tokens"], date(2026, 2, 1), end, 8),
        ("aoai-fab-search-swc", ["text-embedding-3-large-glbl Tokens"], jan, end, 9),
        ("aoai-fab-search-swc", ["gpt-4o-mini-0718-Inp-glbl Tokens", "gpt-4o-mini-0718-Outp-glbl Tokens"], jan, end, 9),
        ("aoai-fab-bi-weu", ["gpt 4.1 Inp Data Zone Tokens", "gpt 4.1 Outp Data Zone Tokens"], jan, end, 7),
        ("aoai-fab-bi-weu", ["gpt 4.1 mini Inp regnl Tokens", "gpt 4.1 mini Outp regnl Tokens"], jan, end, 7),
    ]
    ptu = [("aoai-fab-chat-eus2", date(2026, 1, 12), date(2026, 1, 16), 15)]
    others = [("vm-build-agent-2", 0, 8), ("stfabrikamlogs", 1, 5)]
    # One row whose cost fits neither relation (2,500,000 tokens at 0.0025/1K = 6.25, or 6,250 as blocks)
    rejected = [("aoai-fab-chat-eus2", date(2026, 2, 17), "gpt 4o 1120 Inp glbl Tokens", 2_500_000, "4.87")]
    plan = azure_plan(r, res, deployments, ptu, others, rejected)
    # keep the rejected row off a day where the same meter already has a row
    assert sum(1 for p in plan if p["day"] == date(2026, 2, 17) and p["res"] == "aoai-fab-chat-eus2"
               and p.get("meter") is AZ_METERS["gpt 4o 1120 Inp glbl Tokens"]) == 1

    ba = guid(r) + ":" + guid(r) + "_2019-05-31"
    prof_id = "FAB2-K7QM-BG7-PGB"
    section_id = "XJ4M-7LLS-PJA-PGB"
    invoice_ids = {"2026-01": "G0" + str(r.randint(10**8, 10**9 - 1)), "2026-02": "G0" + str(r.randint(10**8, 10**9 - 1)),
                   "2026-03": ""}
    location_display = {"eastus2": "US East 2", "swedencentral": "SE Central", "westeurope": "EU West"}
    rows = []
    for p in plan:
        rs = res[p["res"]]
        d = p["day"]
        bp_start, bp_end = month_bounds(d)
        v = dict.fromkeys(MCA_COLUMNS, "")
        v.update({
            "invoiceId": invoice_ids[month_of(d)], "billingAccountId": ba, "billingAccountName": "Fabrikam, Inc.",
            "billingProfileId": prof_id, "billingProfileName": "Fabrikam Engineering",
            "invoiceSectionId": section_id, "invoiceSectionName": "Platform", "costCenter": rs["cc"],
            "billingPeriodEndDate": mdy(bp_end), "billingPeriodStartDate": mdy(bp_start),
            "servicePeriodEndDate": mdy(bp_end), "servicePeriodStartDate": mdy(bp_start), "date": mdy(d),
            "productOrderId": "b1f2c3d4-0000-4a5b-9c8d-7e6f5a4b3c2d", "productOrderName": "Azure plan",
            "SubscriptionId": rs["sub"]["id"], "subscriptionName": rs["sub"]["name"], "publisherType": "Microsoft",
            "publisherName": "Microsoft", "resourceGroupName": rs["rg"], "ResourceId": rs["id"],
            "resourceLocation": rs["location"], "location": location_display[rs["location"]],
            "chargeType": "Usage", "billingCurrency": "USD", "pricingCurrency": "USD",
            "exchangeRatePricingToBilling": "1", "exchangeRateDate": mdy(bp_start),
            "isAzureCreditEligible": "True", "tags": rs["tags"], "frequency": "UsageBased",
            "pricingModel": "OnDemand", "provider": "Azure",
        })
        if p["kind"] in ("llm", "rejected"):
            m = p["meter"]
            qty = D(p["tokens"])  # RAW TOKENS in the MCA file
            cost = float17(m.price * qty / D(m.block)) if p["kind"] == "llm" else plain(p["cost"])
            unit = "1M" if m.block == 1_000_000 else "1K"
            v.update({
                "serviceFamily": "AI + Machine Learning", "consumedService": "Microsoft.CognitiveServices",
                "meterId": m.meter_id, "meterName": m.name, "meterCategory": "Azure OpenAI" if m.category == "Cognitive Services" else m.category,
                "meterSubCategory": m.subcat, "meterRegion": m.meter_region(rs["location"]),
                "ProductId": m.product_id, "ProductName": f"Azure OpenAI - {m.name}",
                "effectivePrice": plain(m.price), "quantity": plain(qty), "unitOfMeasure": unit,
                "PayGPrice": plain(m.price), "unitPrice": plain(m.price),
            })
        elif p["kind"] == "ptu":
            name, subcat, unit, price = PTU_METER
            cost = float17(price * p["hours"])
            mr = rng("meter/" + name)
            v.update({
                "serviceFamily": "AI + Machine Learning", "consumedService": "Microsoft.CognitiveServices",
                "meterId": guid(mr), "meterName": name, "meterCategory": "Foundry Models", "meterSubCategory": subcat,
                "meterRegion": "Global", "ProductId": "DZH318Z0PTU1", "ProductName": f"Azure OpenAI - {name}",
                "effectivePrice": plain(price), "quantity": plain(p["hours"]), "unitOfMeasure": unit,
                "PayGPrice": plain(price), "unitPrice": plain(price),
            })
        else:
            cat, sub, name, unit, price, _, svc, _, family, addl = p["spec"]
            price = D(price)
            cost = float17(price * p["qty"])
            mr = rng("meter/" + name)
            v.update({
                "serviceFamily": family, "consumedService": svc, "meterId": guid(mr), "meterName": name,
                "meterCategory": cat, "meterSubCategory": sub, "meterRegion": location_display[rs["location"]],
                "ProductId": "DZH318Z0" + token(mr, 4, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"),
                "ProductName": f"{cat} {sub} - {name}", "effectivePrice": plain(price), "quantity": plain(p["qty"]),
                "unitOfMeasure": unit, "PayGPrice": plain(price), "unitPrice": plain(price), "additionalInfo": addl,
            })
        for col in ("costInBillingCurrency", "costInPricingCurrency", "costInUsd", "paygCostInBillingCurrency", "paygCostInUsd"):
            v[col] = cost
        rows.append((None, [v[c] for c in MCA_COLUMNS], azure_row_meta(p, rs, cost)))
    tally = Tally()
    body = "\ufeff" + csv_text(MCA_COLUMNS, emit(rows, tally), "\r\n")
    tally.extra = {
        "format": "Azure Cost Management export, MCA layout (65 camelCase columns, header order as observed)",
        "encoding": "UTF-8 with BOM", "line_ending": "CRLF", "columns": len(MCA_COLUMNS), "currency": "USD",
        "quantity_semantics": "raw tokens: quantity = tokens; costInBillingCurrency = effectivePrice x quantity / block (1K -> 1,000, 1M -> 1,000,000); the rejected row fits neither relation",
        "region_note": "by_region is resourceLocation; Global / Data Zone meters may run elsewhere",
    }
    return body.encode("utf-8"), tally.to_json()


# --------------------------------------------------------------------------- AWS

AWS_REGIONS = {
    "USE1": ("us-east-1", "US East (N. Virginia)"),
    "USW2": ("us-west-2", "US West (Oregon)"),
    "EUC1": ("eu-central-1", "EU (Frankfurt)"),
    "APN1": ("ap-northeast-1", "Asia Pacific (Tokyo)"),
}

# Token class -> (usage type builder for Amazon-sold models)
FP_CLASSES = {
    "input": "{p}-{m}-input-tokens{s}",
    "output": "{p}-{m}-output-tokens{s}",
    "cache-read": "{p}-{m}-cache-read-input-token-count{s}",
    "cache-write": "{p}-{m}-cache-write-input-token-count{s}",
}
MP_CLASSES = {
    "input": "{p}-MP:{p}_InputTokenCount{g}-Units",
    "output": "{p}-MP:{p}_OutputTokenCount{g}-Units",
    "cache-read": "{p}-MP:{p}_CacheReadInputTokenCount{g}-Units",
}
AWS_TOKENS = {"input": (300_000, 4_000_000), "output": (40_000, 600_000), "cache-read": (400_000, 6_000_000),
              "cache-write": (30_000, 400_000)}
CLASS_WORDS = {"input": "input tokens", "output": "output tokens", "cache-read": "cache read input tokens",
               "cache-write": "cache write input tokens"}


class Stream:
    """One Bedrock workload: a model called from one account in one source region."""

    def __init__(self, account, prefix, model_label, model, prices, hours, suffix="", marketplace=False,
                 glob="", product_code=None, scale=1.0, months=None, team="", cost_center=""):
        self.account, self.prefix, self.model_label, self.model = account, prefix, model_label, model
        self.prices = {k: D(v) for k, v in prices.items()}  # per pricing unit
        self.hours, self.suffix, self.marketplace, self.glob = hours, suffix, marketplace, glob
        self.product_code = product_code or ("AmazonBedrockService" if suffix == "-cross-region-global" else "AmazonBedrock")
        self.scale, self.months = scale, months
        self.team, self.cost_center = team, cost_center
        self.unit = "1M tokens" if marketplace else "1K tokens"
        self.block = 1_000_000 if marketplace else 1000

    def usage_type(self, cls):
        if self.marketplace:
            return MP_CLASSES[cls].format(p=self.prefix, g=self.glob)
        return FP_CLASSES[cls].format(p=self.prefix, m=self.model_label, s=self.suffix)


def aws_lines(name: str, payer: str, accounts: dict, streams: list, ec2: list, adjustments: dict, tax_rate: D,
              mp_product: tuple, legal="Amazon Web Services, Inc."):
    """Abstract CUR lines (dicts with canonical keys) plus tally metadata, sorted by start time."""
    r = rng("aws/" + name)
    mp_code, mp_name, mp_legal = mp_product
    lines = []
    month_cost = {}  # (month, entity) -> usage cost, for tax

    def base(account, start: datetime, end: datetime, bp: date):
        bp_start, bp_end = month_bounds(bp)
        return {
            "line_item_id": token(r, 52, "abcdefghijklmnopqrstuvwxyz234567"),
            "start": start, "end": end, "bp_start": datetime.combine(bp_start, datetime.min.time()),
            "bp_end": datetime.combine(bp_end + timedelta(days=1), datetime.min.time()),
            "payer": payer, "account": account, "account_name": accounts[account], "bill_type": "Anniversary",
            "currency": "USD", "az": "", "resource_id": "", "tax_type": "", "norm_factor": "", "norm_amount": "",
            "public_od_cost": "", "public_od_rate": "", "rate_code": "", "rate_id": "", "term": "", "unit": "",
            "product": {}, "tags": {}, "model_attr": None,
        }

    for s in streams:
        region, location = AWS_REGIONS[s.prefix]
        start_day = date(2026, 1, 1)
        end_day = date(2026, 3, 31)
        if s.months:
            start_day, end_day = s.months
        sku = token(rng("sku/" + s.prefix + s.model_label + s.suffix + s.glob), 16, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        for day, hour in pick_hours(r, s.hours, start_day, end_day):
            start = datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)
            end = start + timedelta(hours=1)
            for cls, price in s.prices.items():
                lo, hi = AWS_TOKENS[cls]
                tokens = int(r.randint(lo, hi) * s.scale)
                if s.suffix == "-batch":
                    tokens *= 4
                amount = D(tokens) / D(s.block)
                cost = amount * price
                ln = base(s.account, start, end, day)
                ut = s.usage_type(cls)
                if s.marketplace:
                    ln.update(entity="AWS Marketplace", invoicing="Amazon Web Services, Inc.", legal=mp_legal,
                              product_code=mp_code, product_name=mp_name, servicecode=mp_code, servicename=mp_name,
                              family="Bedrock Marketplace", operation="Usage",
                              description=f"{mp_name} {CLASS_WORDS[cls]}{' (global)' if s.glob else ''}")
                else:
                    words = CLASS_WORDS[cls] + {"-batch": " (batch)", "-cross-region-global": " (cross-region global)"}.get(s.suffix, "")
                    ln.update(entity="AWS", invoicing="Amazon Web Services, Inc.", legal=legal,
                              product_code=s.product_code, product_name="Amazon Bedrock", servicecode=s.product_code,
                              servicename="Amazon Bedrock", family="Amazon Bedrock",
                              operation="InvokeModelInference" if s.suffix != "-batch" else "CreateModelInvocationJob",
                              description=f"${plain(price)} per {s.unit[:2]} {words} for {s.model} in {location}")
                ln.update(usage_type=ut, type="Usage", amount=plain(amount), rate=fixed(price, 10), cost=fixed(cost, 10),
                          unit=s.unit, region=region, location=location, location_type="AWS Region", sku=sku,
                          rate_code=f"{sku}.JRTCKXETXF.6YS6EN2CT7", rate_id=str(r.randint(10**9, 10**10 - 1)),
                          term="OnDemand", public_od_cost=fixed(cost, 10), public_od_rate=fixed(price, 10),
                          tags={k: v for k, v in (("team", s.team), ("cost-center", s.cost_center)) if v},
                          model_attr=s.model)
                ent = "AWS Marketplace" if s.marketplace else "AWS"
                month_cost[(month_of(day), ent)] = month_cost.get((month_of(day), ent), ZERO) + D(ln["cost"])
                inp = tokens if cls in ("input", "cache-read", "cache-write") else 0
                meta = {"cat": "llm", "day": day, "model": s.model, "region": region, "inp": inp,
                        "cached": tokens if cls == "cache-read" else 0, "out": tokens if cls == "output" else 0,
                        "cost": ln["cost"]}
                lines.append((start, ln, meta))

    for account, k in ec2:
        for day, hour in pick_hours(r, k):
            start = datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)
            ln = base(account, start, start + timedelta(hours=1), day)
            rate = D("0.2016")
            ln.update(entity="AWS", invoicing="Amazon Web Services, Inc.", legal=legal, product_code="AmazonEC2",
                      product_name="Amazon Elastic Compute Cloud", servicecode="AmazonEC2",
                      servicename="Amazon Elastic Compute Cloud", family="Compute Instance", operation="RunInstances",
                      description="$0.2016 per On Demand Linux m7i.xlarge Instance Hour",
                      usage_type="USE1-BoxUsage:m7i.xlarge", type="Usage", amount="1", rate=fixed(rate, 10),
                      cost=fixed(rate, 10), unit="Hrs", region="us-east-1", location="US East (N. Virginia)",
                      location_type="AWS Region", sku="8KTQAHWA58GUHDGC", az="us-east-1a",
                      resource_id="i-0" + hexid(r, 16), term="OnDemand", public_od_cost=fixed(rate, 10),
                      public_od_rate=fixed(rate, 10), rate_code="8KTQAHWA58GUHDGC.JRTCKXETXF.6YS6EN2CT7",
                      rate_id=str(r.randint(10**9, 10**10 - 1)), tags={"team": "platform"})
            lines.append((start, ln, {"cat": "other", "day": day, "cost": ln["cost"]}))

    # Tax: one line per month and billing entity, on the billing period
    for (month, ent), total in sorted(month_cost.items()):
        day = date(int(month[:4]), int(month[5:]), 1)
        start = datetime(day.year, day.month, 1, tzinfo=timezone.utc)
        bp_start, bp_end = month_bounds(day)
        ln = base(sorted(accounts)[0], start, datetime.combine(bp_end + timedelta(days=1), datetime.min.time(), timezone.utc), day)
        amt = round2(total * tax_rate)
        code, pname = ("AmazonBedrock", "Amazon Bedrock") if ent == "AWS" else (mp_code, mp_name)
        ln.update(entity=ent, invoicing="Amazon Web Services, Inc.", legal=legal, product_code=code, product_name=pname,
                  servicecode=code, servicename=pname, family="", operation="", usage_type="", type="Tax",
                  amount="1", rate="", cost=fixed(amt, 10), description=f"Tax for product code {code}",
                  tax_type="Sales Tax", region="", location="", location_type="", sku="")
        lines.append((start, ln, {"cat": "adjustment", "kind": "Tax", "day": day, "amount": ln["cost"]}))

    # Credits and refunds: carry the usage type of what they offset, amount 0, negative cost
    for kind, items in adjustments.items():
        for day, account, usage_type, amount, desc in items:
            start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
            bp_start, bp_end = month_bounds(day)
            ln = base(account, datetime.combine(bp_start, datetime.min.time(), timezone.utc),
                      datetime.combine(bp_end + timedelta(days=1), datetime.min.time(), timezone.utc), day)
            ln.update(entity="AWS", invoicing="Amazon Web Services, Inc.", legal=legal, product_code="AmazonBedrock",
                      product_name="Amazon Bedrock", servicecode="AmazonBedrock", servicename="Amazon Bedrock",
                      family="Amazon Bedrock", operation="InvokeModelInference", usage_type=usage_type, type=kind,
                      amount="0", rate="", cost=fixed(D(amount), 10), description=desc,
                      region=AWS_REGIONS[usage_type[:4]][0], location=AWS_REGIONS[usage_type[:4]][1],
                      location_type="AWS Region", sku="")
            lines.append((ln["start"], ln, {"cat": "adjustment", "kind": kind, "day": day, "amount": ln["cost"]}))

    invoice = {}
    for _, ln, _ in lines:
        key = (month_of(ln["bp_start"].date()), ln["entity"])
        if key not in invoice:
            invoice[key] = str(rng("inv/" + name + str(key)).randint(10**9, 10**10 - 1))
        ln["invoice_id"] = invoice[key]
    lines.sort(key=lambda t: (t[0].replace(tzinfo=None) if t[0].tzinfo else t[0], t[1]["account"], t[1]["usage_type"], t[1]["type"]))
    return lines


def iso_z(dt: datetime, millis: bool) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (".000Z" if millis else "Z")


LEGACY_COLUMNS = [
    "identity/LineItemId", "identity/TimeInterval", "bill/InvoiceId", "bill/InvoicingEntity", "bill/BillingEntity",
    "bill/BillType", "bill/PayerAccountId", "bill/BillingPeriodStartDate", "bill/BillingPeriodEndDate",
    "lineItem/UsageAccountId", "lineItem/LineItemType", "lineItem/UsageStartDate", "lineItem/UsageEndDate",
    "lineItem/ProductCode", "lineItem/UsageType", "lineItem/Operation", "lineItem/AvailabilityZone",
    "lineItem/ResourceId", "lineItem/UsageAmount", "lineItem/NormalizationFactor", "lineItem/NormalizedUsageAmount",
    "lineItem/CurrencyCode", "lineItem/UnblendedRate", "lineItem/UnblendedCost", "lineItem/BlendedRate",
    "lineItem/BlendedCost", "lineItem/LineItemDescription", "lineItem/TaxType", "lineItem/LegalEntity",
    "product/ProductName", "product/location", "product/locationType", "product/operation", "product/productFamily",
    "product/region", "product/servicecode", "product/servicename", "product/sku", "product/usagetype",
    "pricing/RateCode", "pricing/RateId", "pricing/currency", "pricing/publicOnDemandCost",
    "pricing/publicOnDemandRate", "pricing/term", "pricing/unit", "resourceTags/user:cost-center",
    "resourceTags/user:team",
]


def aws_legacy() -> tuple[bytes, dict]:
    accounts = {"444455556666": "globex-prod", "555566667777": "globex-research"}
    P, R = "444455556666", "555566667777"
    sonnet = {"input": "0.0033", "output": "0.0165", "cache-read": "0.00033", "cache-write": "0.004125"}
    streams = [
        Stream(P, "USE1", "Claude4.6Sonnet", "Claude Sonnet 4.6", sonnet, 12, team="assistant", cost_center="cc-2100"),
        Stream(P, "USE1", "Claude4.6Sonnet", "Claude Sonnet 4.6", {"input": "0.00165", "output": "0.00825"}, 5,
               suffix="-batch", team="assistant", cost_center="cc-2100"),
        Stream(P, "EUC1", "Claude4.6Sonnet", "Claude Sonnet 4.6",
               {"input": "0.003", "output": "0.015", "cache-read": "0.0003"}, 6, suffix="-cross-region-global",
               team="eu-support", cost_center="cc-2400"),
        Stream(R, "USW2", "Llama4-Maverick-17B", "Llama 4 Maverick 17B", {"input": "0.00024", "output": "0.00097"}, 8,
               scale=2.0, team="research"),
        Stream(R, "APN1", "Nova2.0Lite", "Nova 2.0 Lite", {"input": "0.0003", "output": "0.0025"}, 8, scale=1.5,
               team="research"),
        Stream(P, "EUC1", "MistralLarge", "Mistral Large", {"input": "0.002", "output": "0.006"}, 6, team="eu-support",
               cost_center="cc-2400"),
        Stream(P, "USE1", "", "Claude Sonnet 4.5", {"input": "3.30", "output": "16.50", "cache-read": "0.33"}, 10,
               marketplace=True, team="assistant", cost_center="cc-2100"),
    ]
    mp = ("c9s0ha7gdl5d4hbh2s8m5ynq3", "Claude Sonnet 4.5 (Amazon Bedrock Edition)", "Anthropic, PBC")
    adjustments = {
        "Credit": [(date(2026, 1, 31), P, "USE1-Claude4.6Sonnet-input-tokens", "-250", "AWS Activate Credits"),
                   (date(2026, 2, 28), P, "USE1-Claude4.6Sonnet-input-tokens", "-250", "AWS Activate Credits"),
                   (date(2026, 3, 31), P, "USE1-Claude4.6Sonnet-output-tokens", "-180.37", "AWS Activate Credits")],
        "Refund": [(date(2026, 2, 11), P, "USE1-Claude4.6Sonnet-output-tokens", "-42.75",
                    "Refund for Amazon Bedrock service event 2026-02-09")],
    }
    lines = aws_lines("legacy", "111122223333", accounts, streams, [(P, 10)], adjustments, D("0.0625"), mp)
    rows = []
    for start, ln, meta in lines:
        v = {
            "identity/LineItemId": ln["line_item_id"],
            "identity/TimeInterval": f"{iso_z(ln['start'], False)}/{iso_z(ln['end'], False)}",
            "bill/InvoiceId": ln["invoice_id"], "bill/InvoicingEntity": ln["invoicing"],
            "bill/BillingEntity": ln["entity"], "bill/BillType": ln["bill_type"], "bill/PayerAccountId": ln["payer"],
            "bill/BillingPeriodStartDate": iso_z(ln["bp_start"], False),
            "bill/BillingPeriodEndDate": iso_z(ln["bp_end"], False), "lineItem/UsageAccountId": ln["account"],
            "lineItem/LineItemType": ln["type"], "lineItem/UsageStartDate": iso_z(ln["start"], False),
            "lineItem/UsageEndDate": iso_z(ln["end"], False), "lineItem/ProductCode": ln["product_code"],
            "lineItem/UsageType": ln["usage_type"], "lineItem/Operation": ln["operation"],
            "lineItem/AvailabilityZone": ln["az"], "lineItem/ResourceId": ln["resource_id"],
            "lineItem/UsageAmount": ln["amount"], "lineItem/NormalizationFactor": ln["norm_factor"],
            "lineItem/NormalizedUsageAmount": ln["norm_amount"], "lineItem/CurrencyCode": ln["currency"],
            "lineItem/UnblendedRate": ln["rate"], "lineItem/UnblendedCost": ln["cost"],
            "lineItem/BlendedRate": ln["rate"], "lineItem/BlendedCost": ln["cost"],
            "lineItem/LineItemDescription": ln["description"], "lineItem/TaxType": ln["tax_type"],
            "lineItem/LegalEntity": ln["legal"], "product/ProductName": ln["product_name"],
            "product/location": ln["location"], "product/locationType": ln["location_type"],
            "product/operation": ln["operation"], "product/productFamily": ln["family"],
            "product/region": ln["region"], "product/servicecode": ln["servicecode"],
            "product/servicename": ln["servicename"], "product/sku": ln["sku"],
            "product/usagetype": ln["usage_type"], "pricing/RateCode": ln["rate_code"],
            "pricing/RateId": ln["rate_id"], "pricing/currency": "USD" if ln["term"] else "",
            "pricing/publicOnDemandCost": ln["public_od_cost"], "pricing/publicOnDemandRate": ln["public_od_rate"],
            "pricing/term": ln["term"], "pricing/unit": ln["unit"],
            "resourceTags/user:cost-center": ln["tags"].get("cost-center", ""),
            "resourceTags/user:team": ln["tags"].get("team", ""),
        }
        rows.append((start, [v[c] for c in LEGACY_COLUMNS], meta))
    tally = Tally()
    body = csv_text(LEGACY_COLUMNS, emit(rows, tally), "\n")
    tally.extra = {
        "format": "AWS Cost and Usage Report, legacy CSV (lineItem/... slash columns), hourly granularity",
        "encoding": "UTF-8, no BOM", "line_ending": "LF", "columns": len(LEGACY_COLUMNS), "currency": "USD",
        "quantity_semantics": "lineItem/UsageAmount is in pricing/unit: '1K tokens' -> x1,000, '1M tokens' -> x1,000,000; UsageAmount x UnblendedRate = UnblendedCost on every Usage line",
        "region_note": "by_region is the source region from the usage-type prefix (USE1 us-east-1, USW2 us-west-2, EUC1 eu-central-1, APN1 ap-northeast-1); -cross-region-global rows may be processed elsewhere",
        "delivery_note": "a real CUR is delivered per billing period; this file holds three billing periods under one header",
    }
    return body.encode("utf-8"), tally.to_json()


CUR2_COLUMNS = [
    "bill_bill_type", "bill_billing_entity", "bill_billing_period_end_date", "bill_billing_period_start_date",
    "bill_invoice_id", "bill_invoicing_entity", "bill_payer_account_id", "bill_payer_account_name",
    "identity_line_item_id", "identity_time_interval", "line_item_availability_zone", "line_item_blended_cost",
    "line_item_blended_rate", "line_item_currency_code", "line_item_legal_entity", "line_item_line_item_description",
    "line_item_line_item_type", "line_item_operation", "line_item_product_code", "line_item_resource_id",
    "line_item_tax_type", "line_item_unblended_cost", "line_item_unblended_rate", "line_item_usage_account_id",
    "line_item_usage_account_name", "line_item_usage_amount", "line_item_usage_end_date",
    "line_item_usage_start_date", "line_item_usage_type", "pricing_currency", "pricing_public_on_demand_cost",
    "pricing_public_on_demand_rate", "pricing_rate_code", "pricing_rate_id", "pricing_term", "pricing_unit",
    "product", "product_location", "product_location_type", "product_product_family", "product_region_code",
    "product_servicecode", "product_sku", "resource_tags",
]


def aws_cur2() -> tuple[bytes, dict]:
    accounts = {"210987654321": "initech-payer", "310987654322": "initech-ml"}
    P, ML = "210987654321", "310987654322"
    sonnet = {"input": "0.0033", "output": "0.0165", "cache-read": "0.00033", "cache-write": "0.004125"}
    streams = [
        Stream(ML, "USE1", "Claude4.6Sonnet", "Claude Sonnet 4.6", sonnet, 10, team="copilot", cost_center="7710"),
        Stream(ML, "USE1", "Claude4.6Sonnet", "Claude Sonnet 4.6", {"input": "0.00165", "output": "0.00825"}, 4,
               suffix="-batch", team="copilot", cost_center="7710"),
        Stream(ML, "APN1", "Claude4.6Sonnet", "Claude Sonnet 4.6",
               {"input": "0.003", "output": "0.015", "cache-read": "0.0003"}, 6, suffix="-cross-region-global",
               team="jp-sales"),
        Stream(ML, "USW2", "Llama4-Maverick-17B", "Llama 4 Maverick 17B", {"input": "0.00012", "output": "0.000485"}, 6,
               suffix="-batch", team="data-science"),
        Stream(ML, "EUC1", "Nova2.0Lite", "Nova 2.0 Lite", {"input": "0.0003", "output": "0.0025"}, 8, team="eu-ops"),
        Stream(ML, "USW2", "", "Claude Sonnet 4.5", {"input": "3.30", "output": "16.50"}, 8, marketplace=True,
               team="copilot", cost_center="7710"),
        Stream(ML, "USW2", "", "Claude Sonnet 4.5", {"input": "3.00", "output": "15.00"}, 6, marketplace=True,
               glob="_Global", team="copilot", cost_center="7710"),
    ]
    mp = ("4mz1hj2rnpqg7oxtnkz6u5a0b", "Claude Sonnet 4.5 (Amazon Bedrock Edition)", "Anthropic, PBC")
    adjustments = {
        "Credit": [(date(2026, 1, 31), ML, "USE1-Claude4.6Sonnet-input-tokens", "-500", "AWS Credits - Generative AI Accelerator"),
                   (date(2026, 3, 31), ML, "USE1-Claude4.6Sonnet-output-tokens", "-500", "AWS Credits - Generative AI Accelerator")],
        "Refund": [(date(2026, 3, 5), ML, "EUC1-Nova2.0Lite-input-tokens", "-12.4",
                    "Refund for duplicate Amazon Bedrock charges")],
    }
    lines = aws_lines("cur2", P, accounts, streams, [(P, 8)], adjustments, D("0.045"), mp)
    rows = []
    for start, ln, meta in lines:
        product = {}
        if ln["product_name"]:
            product["product_name"] = ln["product_name"]
            product["servicename"] = ln["servicename"]
        if ln["region"]:
            product["region"] = ln["region"]
        if ln["usage_type"]:
            product["usagetype"] = ln["usage_type"]
        # The product map "sometimes" carries the model: first-party Bedrock lines from March on
        if (ln["type"] == "Usage" and ln["product_code"].startswith("AmazonBedrock") and ln["start"].month == 3
                and ln.get("model_attr")):
            product["model"] = ln["model_attr"]
            product["provider"] = {"Claude": "Anthropic", "Llama": "Meta", "Nova": "Amazon"}[ln["model_attr"].split()[0]]
        tags = {f"user_{k.replace('-', '_')}": v for k, v in sorted(ln["tags"].items())}
        v = {
            "bill_bill_type": ln["bill_type"], "bill_billing_entity": ln["entity"],
            "bill_billing_period_end_date": iso_z(ln["bp_end"], True),
            "bill_billing_period_start_date": iso_z(ln["bp_start"], True), "bill_invoice_id": ln["invoice_id"],
            "bill_invoicing_entity": ln["invoicing"], "bill_payer_account_id": ln["payer"],
            "bill_payer_account_name": accounts[ln["payer"]], "identity_line_item_id": ln["line_item_id"],
            "identity_time_interval": f"{iso_z(ln['start'], True)}/{iso_z(ln['end'], True)}",
            "line_item_availability_zone": ln["az"], "line_item_blended_cost": ln["cost"],
            "line_item_blended_rate": ln["rate"], "line_item_currency_code": ln["currency"],
            "line_item_legal_entity": ln["legal"], "line_item_line_item_description": ln["description"],
            "line_item_line_item_type": ln["type"], "line_item_operation": ln["operation"],
            "line_item_product_code": ln["product_code"], "line_item_resource_id": ln["resource_id"],
            "line_item_tax_type": ln["tax_type"], "line_item_unblended_cost": ln["cost"],
            "line_item_unblended_rate": ln["rate"], "line_item_usage_account_id": ln["account"],
            "line_item_usage_account_name": ln["account_name"], "line_item_usage_amount": ln["amount"],
            "line_item_usage_end_date": iso_z(ln["end"], True), "line_item_usage_start_date": iso_z(ln["start"], True),
            "line_item_usage_type": ln["usage_type"], "pricing_currency": "USD" if ln["term"] else "",
            "pricing_public_on_demand_cost": ln["public_od_cost"], "pricing_public_on_demand_rate": ln["public_od_rate"],
            "pricing_rate_code": ln["rate_code"], "pricing_rate_id": ln["rate_id"], "pricing_term": ln["term"],
            "pricing_unit": ln["unit"], "product": json.dumps(product, sort_keys=True) if product else "{}",
            "product_location": ln["location"], "product_location_type": ln["location_type"],
            "product_product_family": ln["family"], "product_region_code": ln["region"],
            "product_servicecode": ln["servicecode"], "product_sku": ln["sku"],
            "resource_tags": json.dumps(tags, sort_keys=True) if tags else "{}",
        }
        rows.append((start, [v[c] for c in CUR2_COLUMNS], meta))
    tally = Tally()
    text = csv_text(CUR2_COLUMNS, emit(rows, tally), "\n")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    tally.extra = {
        "format": "AWS CUR 2.0 (Data Exports), CSV gzip, snake_case columns, map columns product and resource_tags as JSON text, hourly granularity",
        "encoding": "gzip of UTF-8 CSV, no BOM", "line_ending": "LF", "columns": len(CUR2_COLUMNS), "currency": "USD",
        "quantity_semantics": "line_item_usage_amount is in pricing_unit: '1K tokens' -> x1,000, '1M tokens' -> x1,000,000; amount x line_item_unblended_rate = line_item_unblended_cost on every Usage line",
        "region_note": "by_region is the source region from the usage-type prefix; -cross-region-global and _Global rows may be processed elsewhere",
        "product_name_note": "CUR 2.0 has no product_product_name column: the product name (the only place a Marketplace model is named) is the product_name key of the product map; the model key appears only on first-party Bedrock Usage lines dated March 2026",
        "uncompressed_bytes": len(text.encode("utf-8")),
    }
    return buf.getvalue(), tally.to_json()


# --------------------------------------------------------------------------- GCP

VERTEX = ("C7E2-9256-1C43", "Vertex AI")
GEMINI_API = ("AEFD-7695-64FA", "Gemini API")
COMPUTE = ("6F81-5844-456A", "Compute Engine")
STORAGE = ("95FF-2EF5-5EA1", "Cloud Storage")


class Sku:
    def __init__(self, sku_id, desc, service, kind, price, unit="count", model="", rng_range=(0, 0)):
        self.id, self.desc, self.service, self.kind = sku_id, desc, service, kind
        self.price = D(price)   # USD per 1,000,000 units for tokens/characters; per unit otherwise
        self.unit, self.model, self.range = unit, model, rng_range


# kind: input | cached | output | cache_storage | characters | other
GCP_SKUS = {s.desc: s for s in [
    Sku("FDAB-647C-5A22", "Gemini 2.5 Flash GA Text Input - Predictions", VERTEX, "input", "0.30", model="gemini-2.5-flash", rng_range=(2_000_000, 40_000_000)),
    Sku("CD33-11F4-1220", "Gemini 2.5 Flash GA Thinking Text Output - Predictions", VERTEX, "output", "2.50", model="gemini-2.5-flash", rng_range=(200_000, 6_000_000)),
    Sku("3E1B-7C21-9A0D", "Gemini 2.5 Flash GA Text Input - Batch Predictions", VERTEX, "input", "0.15", model="gemini-2.5-flash", rng_range=(20_000_000, 200_000_000)),
    Sku("5A9F-0B4E-21C7", "Gemini 2.5 Flash GA Thinking Text Output - Batch Predictions", VERTEX, "output", "1.25", model="gemini-2.5-flash", rng_range=(2_000_000, 20_000_000)),
    Sku("7EBE-3B46-F75C", "Gemini 3 Flash Text Input - Predictions", VERTEX, "input", "0.50", model="gemini-3-flash", rng_range=(1_000_000, 25_000_000)),
    Sku("0127-F0B7-365E", "Gemini 3 Flash Text Output - Predictions", VERTEX, "output", "3.00", model="gemini-3-flash", rng_range=(100_000, 4_000_000)),
    Sku("E5C2-A033-7712", "Gemini 3 Flash Text Input Caching", VERTEX, "cached", "0.05", model="gemini-3-flash", rng_range=(2_000_000, 30_000_000)),
    Sku("148C-9912-0E1E", "Gemini 3 Flash Caching Storage", VERTEX, "cache_storage", "1.00", unit="hour", model="gemini-3-flash"),
    Sku("9D07-41AA-6B3C", "Gemini 1.5 Flash Text Input Characters - Predictions", VERTEX, "characters", "0.01875", model="gemini-1.5-flash", rng_range=(5_000_000, 60_000_000)),
    Sku("B3A0-6E55-0C19", "Generate content input token count gemini 2.5 flash short input text", GEMINI_API, "input", "0.30", model="gemini-2.5-flash", rng_range=(500_000, 12_000_000)),
    Sku("C841-2F7E-93D6", "Generate content output token count gemini 2.5 flash short input text", GEMINI_API, "output", "2.50", model="gemini-2.5-flash", rng_range=(50_000, 2_000_000)),
    Sku("CF4E-A0C7-E3BF", "E2 Instance Core running in Americas", COMPUTE, "other", "0.021811", unit="hour"),
    Sku("F449-33EC-A5EF", "E2 Instance Ram running in Americas", COMPUTE, "other", "0.002923", unit="gibibyte hour"),
    Sku("E5F0-6A5D-7BAD", "Standard Storage US Multi-region", STORAGE, "other", "0.026", unit="gibibyte month"),
]}

GCP_PROJECTS = {
    "acme-chat-prod": ("412345678901", "Acme Chat", [{"key": "env", "value": "prod"}, {"key": "team", "value": "chat"}]),
    "acme-rag-eu": ("523456789012", "Acme RAG EU", [{"key": "env", "value": "prod"}, {"key": "team", "value": "knowledge"}]),
    "acme-labs": ("634567890123", "Acme Labs", []),
}
GCP_LOCATION = {"us-central1": ("us-central1", "US", "us-central1"), "europe-west4": ("europe-west4", "NL", "europe-west4"),
                "global": ("global", "", "global"), "us": ("us", "US", "")}
GCP_BILLING_ACCOUNT = "01A2B3-C4D5E6-F70819"
# The console cost table is the March invoice of a second billing account (a subsidiary's),
# so that samples/ can be reported all together without two exports of one account
# overlapping (which the tool refuses in stateless runs: it would double-count).
GCP_CONSOLE_BILLING_ACCOUNT = "01F9E8-D7C6B5-A40312"
CREDIT_TYPES = {"FREE_TIER": ("Free tier", "Free tier"), "DISCOUNT": ("Spending based discounts (contractual)", "Discount")}


def gcp_plan():
    """Abstract hourly rows for the BigQuery export: dicts(project, sku, start, loc, amount, cost, credits)."""
    r = rng("gcp")
    groups = [
        # (project, location, skus, hours, window)
        ("acme-chat-prod", "us-central1", ["Gemini 2.5 Flash GA Text Input - Predictions", "Gemini 2.5 Flash GA Thinking Text Output - Predictions"], 20, None),
        ("acme-chat-prod", "us-central1", ["Gemini 3 Flash Text Input - Predictions", "Gemini 3 Flash Text Output - Predictions", "Gemini 3 Flash Text Input Caching", "Gemini 3 Flash Caching Storage"], 14, (date(2026, 1, 15), date(2026, 3, 31))),
        ("acme-rag-eu", "europe-west4", ["Gemini 2.5 Flash GA Text Input - Batch Predictions", "Gemini 2.5 Flash GA Thinking Text Output - Batch Predictions"], 10, None),
        ("acme-rag-eu", "europe-west4", ["Gemini 2.5 Flash GA Text Input - Predictions", "Gemini 2.5 Flash GA Thinking Text Output - Predictions"], 8, None),
        ("acme-rag-eu", "europe-west4", ["Gemini 1.5 Flash Text Input Characters - Predictions"], 6, (date(2026, 1, 1), date(2026, 1, 31))),
        ("acme-labs", "global", ["Generate content input token count gemini 2.5 flash short input text", "Generate content output token count gemini 2.5 flash short input text"], 12, None),
        ("acme-chat-prod", "us-central1", ["E2 Instance Core running in Americas", "E2 Instance Ram running in Americas"], 8, None),
        ("acme-chat-prod", "us", ["Standard Storage US Multi-region"], 4, None),
    ]
    rows = []
    for project, loc, skus, hours, window in groups:
        start_d, end_d = window or (date(2026, 1, 1), date(2026, 3, 31))
        for day, hour in pick_hours(r, hours, start_d, end_d):
            start = datetime(day.year, day.month, day.day, hour)
            cached_tokens = 0
            for desc in skus:
                s = GCP_SKUS[desc]
                if s.kind in ("input", "output", "cached", "characters"):
                    amount = D(r.randint(*s.range) * 4)
                    if s.kind == "cached":
                        cached_tokens = int(amount)
                    cost = amount * s.price / D(1_000_000)
                elif s.kind == "cache_storage":
                    # 1M-token-hours of cache held during the hour (unit string inferred)
                    amount = (D(cached_tokens) / D(1_000_000) * D(r.randint(20, 100)) / D(100)).quantize(D("0.000001"))
                    cost = amount * s.price
                elif s.unit == "hour":
                    amount = D(r.choice([4, 8, 12]))
                    cost = amount * s.price
                elif s.unit == "gibibyte hour":
                    amount = D(r.choice([16, 32, 48]))
                    cost = amount * s.price
                else:
                    amount = D(r.randint(100, 900)) / D(10) / D(720)
                    amount = amount.quantize(D("0.000001"))
                    cost = (amount * s.price).quantize(D("0.000001"))
                credits = []
                if project == "acme-labs" and day.month == 1:
                    credits.append(("FREE_TIER", -cost))
                if project == "acme-chat-prod" and day.month == 3 and s.service == VERTEX:
                    credits.append(("DISCOUNT", -(cost * D("0.05")).quantize(D("0.000001"))))
                rows.append({"project": project, "sku": s, "start": start, "loc": loc, "amount": amount,
                             "cost": cost, "credits": credits, "invoice_month": start.strftime("%Y%m")})
    # A late-reported row: usage on 28 Feb 23:00 UTC billed on the March invoice
    s_in = GCP_SKUS["Gemini 2.5 Flash GA Text Input - Predictions"]
    amount = D(9_876_543)
    rows.append({"project": "acme-chat-prod", "sku": s_in, "start": datetime(2026, 2, 28, 23), "loc": "us-central1",
                 "amount": amount, "cost": amount * s_in.price / D(1_000_000), "credits": [], "invoice_month": "202603"})
    rows.sort(key=lambda x: (x["start"], x["project"], x["sku"].service[1], x["sku"].desc))
    return rows


def gcp_meta(x, cost_str):
    s, day = x["sku"], x["start"].date()
    region = GCP_LOCATION[x["loc"]][2] or x["loc"]
    if s.kind in ("input", "cached", "output"):
        t = int(x["amount"])
        return {"cat": "llm", "day": day, "model": s.model, "region": region,
                "inp": t if s.kind in ("input", "cached") else 0, "cached": t if s.kind == "cached" else 0,
                "out": t if s.kind == "output" else 0, "cost": cost_str}
    if s.kind == "cache_storage":
        return {"cat": "not_token", "kind": "context_cache_storage", "day": day, "cost": cost_str,
                "quantity": x["amount"], "unit": "hour (1M-token-hours, inferred)"}
    if s.kind == "characters":
        return {"cat": "not_token", "kind": "characters", "day": day, "cost": cost_str, "quantity": x["amount"],
                "unit": "characters"}
    return {"cat": "other", "day": day, "cost": cost_str}


BQ_COLUMNS = [
    "billing_account_id", "service.id", "service.description", "sku.id", "sku.description", "usage_start_time",
    "usage_end_time", "project.id", "project.number", "project.name", "labels", "location.location",
    "location.country", "location.region", "location.zone", "export_time", "cost", "currency",
    "currency_conversion_rate", "usage.amount", "usage.unit", "usage.amount_in_pricing_units", "usage.pricing_unit",
    "credits", "invoice.month", "cost_type",
]


def bq_ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC")


def gcp_bigquery(plan) -> tuple[bytes, dict]:
    r = rng("gcp-bq-export-time")
    rows = []
    credit_total = ZERO
    late = 0
    for x in plan:
        s = x["sku"]
        number, pname, labels = GCP_PROJECTS[x["project"]]
        loc, country, region = GCP_LOCATION[x["loc"]]
        end = x["start"] + timedelta(hours=1)
        export = end + timedelta(hours=r.randint(2, 9), minutes=r.randint(0, 59), seconds=r.randint(0, 59),
                                 microseconds=r.randint(0, 999_999))
        credits = []
        for ctype, amt in x["credits"]:
            name, _ = CREDIT_TYPES[ctype]
            cid = "FreeTier-" + s.id if ctype == "FREE_TIER" else "SpendBasedDiscount-2026"
            credits.append({"name": name, "amount": float(amt), "full_name": None, "id": cid, "type": ctype})
            credit_total += D(repr(float(amt)))
        cost_str = plain(x["cost"])
        v = {
            "billing_account_id": GCP_BILLING_ACCOUNT, "service.id": s.service[0], "service.description": s.service[1],
            "sku.id": s.id, "sku.description": s.desc, "usage_start_time": bq_ts(x["start"]), "usage_end_time": bq_ts(end),
            "project.id": x["project"], "project.number": number, "project.name": pname,
            "labels": json.dumps(labels, separators=(",", ":")), "location.location": loc, "location.country": country,
            "location.region": region, "location.zone": "",
            "export_time": export.strftime("%Y-%m-%d %H:%M:%S.%f UTC"), "cost": cost_str, "currency": "USD",
            "currency_conversion_rate": "1", "usage.amount": plain(x["amount"]), "usage.unit": s.unit,
            "usage.amount_in_pricing_units": plain(x["amount"]), "usage.pricing_unit": s.unit,
            "credits": json.dumps(credits, separators=(",", ":")), "invoice.month": x["invoice_month"],
            "cost_type": "regular",
        }
        if x["invoice_month"] != x["start"].strftime("%Y%m"):
            late += 1
        rows.append((None, [v[c] for c in BQ_COLUMNS], gcp_meta(x, cost_str)))
    tally = Tally()
    body = csv_text(BQ_COLUMNS, emit(rows, tally), "\n")
    tally.extra = {
        "format": "GCP Cloud Billing standard usage cost export (BigQuery), flattened to CSV with dotted column names; credits and labels as JSON text",
        "encoding": "UTF-8, no BOM", "line_ending": "LF", "columns": len(BQ_COLUMNS), "currency": "USD",
        "quantity_semantics": "usage.unit 'count' = tokens (characters for the one 'Input Characters' SKU); cost is gross, before credits",
        "embedded_credits_total": plain(credit_total),
        "net_llm_cost_note": "credits sit inside the credits JSON of the rows they reduce (FREE_TIER on acme-labs Gemini API rows in January, DISCOUNT on acme-chat-prod Vertex rows in March); llm_cost above is gross",
        "late_reported_rows": late,
        "late_reported_note": "one row starts 2026-02-28 23:00 UTC but has invoice.month 202603; by_month uses the usage date",
        "region_note": "by_region is location.region (Gemini API rows: 'global')",
    }
    return body.encode("utf-8"), tally.to_json()


CONSOLE_COLUMNS = [
    "Billing account name", "Billing account ID", "Project name", "Project ID", "Project hierarchy",
    "Service description", "Service ID", "SKU description", "SKU ID", "Consumption model description", "Credit type",
    "Cost type", "Usage start date", "Usage end date", "Usage amount", "Usage unit", "Unrounded Cost ($)", "Cost ($)",
]


def usage_fmt(d: D) -> str:
    d = D(d)
    if d == d.to_integral_value():
        return f"{int(d):,}"
    return format(d.normalize(), ",f")


def gcp_console(plan) -> tuple[bytes, dict]:
    """One invoice (March 2026), aggregated per project x SKU from the BigQuery rows of invoice month 202603."""
    groups: dict = {}
    for x in plan:
        if x["invoice_month"] != "202603":
            continue
        key = (x["project"], x["sku"].service[1], x["sku"].desc)
        g = groups.setdefault(key, {"sku": x["sku"], "amount": ZERO, "cost": ZERO, "first": x["start"].date(),
                                    "last": x["start"].date(), "credits": {}})
        g["amount"] += x["amount"]
        g["cost"] += x["cost"]
        g["first"] = min(g["first"], x["start"].date())
        g["last"] = max(g["last"], x["start"].date())
        for ctype, amt in x["credits"]:
            g["credits"][ctype] = g["credits"].get(ctype, ZERO) + amt
    account_name = "Acme Europe billing"
    rows = []
    unrounded_sum = ZERO
    rounded_sum = ZERO

    def unr(d):
        return plain(D(d).quantize(D("0.000001"), rounding=ROUND_HALF_UP))

    tax_base: dict = {}
    usage_dates: list[date] = []
    for (project, _, _), g in sorted(groups.items()):
        s = g["sku"]
        number, pname, _ = GCP_PROJECTS[project]
        common = [account_name, GCP_CONSOLE_BILLING_ACCOUNT, pname, project, "acme.example / prod" if project != "acme-labs" else "acme.example / sandbox",
                  s.service[1], s.service[0], s.desc, s.id, "Default"]
        u = unr(g["cost"])
        c = fixed(g["cost"], 2)
        unrounded_sum += D(u)
        rounded_sum += D(c)
        tax_base[project] = tax_base.get(project, ZERO) + g["cost"]
        # rows are invoice-month aggregates: the tally dates them in the invoice month (March)
        xs = {"sku": s, "start": datetime(2026, 3, 1), "loc": "global", "amount": g["amount"]}
        usage_dates.extend([g["first"], g["last"]])
        meta = gcp_meta(xs, u)
        meta.pop("region", None)
        if meta["cat"] == "llm":
            meta["region"] = None
        rows.append((None, common + ["", "Usage", g["first"].isoformat(), g["last"].isoformat(), usage_fmt(g["amount"]),
                                     s.unit, u, c], meta))
        for ctype, amt in sorted(g["credits"].items()):
            _, console_name = CREDIT_TYPES[ctype]
            u2, c2 = unr(amt), fixed(amt, 2)
            unrounded_sum += D(u2)
            rounded_sum += D(c2)
            tax_base[project] += amt
            # credit rows repeat the SKU and the usage amount (trap: do not add the usage again)
            rows.append((None, common + [console_name, "Usage", g["first"].isoformat(), g["last"].isoformat(),
                                         usage_fmt(g["amount"]), s.unit, u2, c2],
                         {"cat": "adjustment", "kind": "Credit", "day": date(2026, 3, 1), "amount": u2}))
    # Tax per project (8.25% sales tax on the net, projects in the US entity)
    for project in ("acme-chat-prod", "acme-labs"):
        if project not in tax_base:
            continue
        number, pname, _ = GCP_PROJECTS[project]
        amt = tax_base[project] * D("0.0825")
        u, c = unr(amt), fixed(amt, 2)
        unrounded_sum += D(u)
        rounded_sum += D(c)
        rows.append((None, [account_name, GCP_CONSOLE_BILLING_ACCOUNT, pname, project,
                            "acme.example / prod" if project != "acme-labs" else "acme.example / sandbox",
                            "", "", "", "", "", "", "Tax", "2026-03-01", "2026-03-31", "", "", u, c],
                     {"cat": "adjustment", "kind": "Tax", "day": date(2026, 3, 31), "amount": u}))
    # As in the observed fixture: the Rounding error row carries a small invoice-level amount
    # (Cost ($) = it rounded to cents, often -0.00); Total = sum of the Unrounded column of the
    # rows above (rounding row excluded) and sum of the Cost ($) column (rounding row included),
    # the latter being the invoice total.
    rounding_unr = round2(unrounded_sum) - unrounded_sum
    rounding_rnd = round2(rounding_unr)
    invoice_total = rounded_sum + rounding_rnd
    blank = [""] * 11
    rows.append((None, blank + ["Rounding error", "", "", "", "", plain(rounding_unr), fixed(rounding_unr, 2)],
                 {"cat": "summary", "kind": "Rounding error", "unrounded": rounding_unr, "rounded": rounding_rnd}))
    rows.append((None, blank + ["Total", "", "", "", "", plain(unrounded_sum), fixed(invoice_total, 2)],
                 {"cat": "summary", "kind": "Total", "unrounded": unrounded_sum, "rounded": invoice_total}))
    preamble = [
        ["Invoice number", "5123456789", ""], ["Invoice date", "2026-03-31", ""], ["Due date", "2026-04-30", ""],
        ["Billing ID", "4410-2291-8837", ""], ["Billing account ID", GCP_CONSOLE_BILLING_ACCOUNT, ""], ["Currency", "USD", ""],
        ["Currency exchange rate", "1", ""], ["Total amount due", f"${invoice_total:,.2f}", ""],
    ]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for p in preamble:
        w.writerow(p)
    tally = Tally()
    body = buf.getvalue() + csv_text(CONSOLE_COLUMNS, emit(rows, tally), "\n")
    tally.extra = {
        "format": "GCP console Cost table CSV (one invoice month), 8-line invoice preamble, then header",
        "encoding": "UTF-8, no BOM", "line_ending": "LF", "columns": len(CONSOLE_COLUMNS), "currency": "USD",
        "preamble_lines": len(preamble), "invoice_month": "2026-03", "invoice_total": fixed(invoice_total, 2),
        "llm_cost_rounded": fixed(sum((D(v[-1]) for _, v, m in rows if m["cat"] == "llm"), ZERO), 2),
        "quantity_semantics": "Usage unit 'count' = tokens; Usage amount quoted with thousands separators; Unrounded Cost ($) up to 6 decimals, Cost ($) to cents; credit rows repeat SKU and usage amount with a negative cost and a Credit type",
        "period_note": "the Cost table is per invoice month; this file is the March 2026 invoice only, and its rows are invoice-month aggregates, so first_day/last_day/months/by_month here follow the invoice month. Its usage rows equal the sums of the BigQuery sample's rows with invoice.month 202603; one group includes late-reported usage, so its Usage start date is 2026-02-28.",
        "usage_dates_in_file": {"first": min(usage_dates).isoformat(), "last": max(usage_dates).isoformat()},
        "region_note": "the Cost table has no location column: region only from SKU text (none here) -> provider default",
    }
    return body.encode("utf-8"), tally.to_json()


# --------------------------------------------------------------------------- OpenAI cost export

OPENAI_COLUMNS = [
    "start_time", "end_time", "start_time_iso", "end_time_iso", "amount_value", "amount_currency", "quantity",
    "quantity_unit", "line_item", "user_id", "api_key_id", "project_id", "organization_id", "project_name",
    "organization_name", "user_email", "api_source",
]
# USD per 1M tokens
OPENAI_PRICES = {
    "gpt-5": {"input_tokens": "1.25", "cached_input_tokens": "0.125", "output_tokens": "10"},
    "gpt-5-mini": {"input_tokens": "0.25", "cached_input_tokens": "0.025", "output_tokens": "2"},
    "gpt-5-nano": {"input_tokens": "0.05", "cached_input_tokens": "0.005", "output_tokens": "0.4"},
    "text-embedding-3-small": {"input_tokens": "0.02"},
}


def openai_cost() -> tuple[bytes, dict]:
    r = rng("openai-cost")
    org_id = "org-" + token(r, 24, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    org_name = "Northwind Analytics"

    def pid():
        return "proj_" + token(r, 24, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    def kid():
        return "key_" + token(r, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    user_id = "user-" + token(r, 24, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    projects = [
        # (project id, name, key, user?, [(model, line items, daily token ranges, probability)])
        (pid(), "Support Bot", kid(), False, [
            ("gpt-5-mini", {"input_tokens": (8_000_000, 40_000_000), "cached_input_tokens": (3_000_000, 20_000_000),
                            "output_tokens": (1_000_000, 6_000_000)}, 0.97)]),
        (pid(), "Docs Search", kid(), False, [
            ("text-embedding-3-small", {"input_tokens": (30_000_000, 180_000_000)}, 0.9),
            ("gpt-5-nano", {"input_tokens": (5_000_000, 30_000_000), "output_tokens": (500_000, 3_000_000)}, 0.9)]),
        (pid(), "Default project", kid(), True, [
            ("gpt-5", {"input_tokens": (200_000, 3_000_000), "cached_input_tokens": (100_000, 1_500_000),
                       "output_tokens": (50_000, 800_000)}, 0.45),
            ("gpt-image-1", {"images": (3, 60)}, 0.12)]),
    ]
    empty_days = {date(2026, 1, 1)} | set(r.sample([d for d in Q1_DAYS if d.weekday() >= 5], 4))
    rows = []
    for day in Q1_DAYS:
        start = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())
        end = start + 86_400
        iso_s = datetime.fromtimestamp(start, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        iso_e = datetime.fromtimestamp(end, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        if day in empty_days:
            rows.append((None, [str(start), str(end), iso_s + "+00:00", iso_e + "+00:00"] + [""] * 13,
                         {"cat": "empty", "day": day}))
            continue
        weekend = day.weekday() >= 5
        for project_id, pname, key, with_user, models in projects:
            for model, items, prob in models:
                if r.random() > prob:
                    continue
                for item, (lo, hi) in items.items():
                    qty = r.randint(lo, hi)
                    if weekend and item != "images":
                        qty //= 4
                    if item == "images":
                        price, unit = D("0.042"), "images"
                        amount = price * qty
                    else:
                        price, unit = D(OPENAI_PRICES[model][item]), "tokens"
                        amount = price * qty / D(1_000_000)
                    amount_str = fixed(amount, r.choice([16, 16, 17, 18, 30]))
                    line_item = f"{model}, {item}"
                    v = [str(start), str(end), iso_s, iso_e, amount_str, "usd", str(qty), unit, line_item,
                         user_id if with_user else "", key, project_id, org_id, pname, org_name,
                         "dana.reyes@northwind.example" if with_user else "", ""]
                    if unit == "tokens":
                        inp = qty if item in ("input_tokens", "cached_input_tokens") else 0
                        meta = {"cat": "llm", "day": day, "model": model, "inp": inp,
                                "cached": qty if item == "cached_input_tokens" else 0,
                                "out": qty if item == "output_tokens" else 0, "cost": amount_str}
                    else:
                        meta = {"cat": "not_token", "kind": "images", "day": day, "cost": amount_str,
                                "quantity": qty, "unit": "images"}
                    rows.append((None, v, meta))
    tally = Tally()
    body = csv_text(OPENAI_COLUMNS, emit(rows, tally), "\n")
    tally.extra = {
        "format": "OpenAI dashboard cost export, 17-column layout",
        "encoding": "UTF-8, no BOM", "line_ending": "LF", "columns": len(OPENAI_COLUMNS), "currency": "usd",
        "quantity_semantics": "spend export; quantity is tokens when quantity_unit = 'tokens'. input_tokens in the totals = '<model>, input_tokens' + '<model>, cached_input_tokens' line items (the input_tokens line item is read as the uncached part); cached = cached_input_tokens line items",
        "iso_note": "data rows write *_iso without offset, empty-day rows with +00:00 (as in the secondary fixture)",
        "personal_data_note": "user_email is filled on the 'Default project' rows; it must never reach a report",
        "empty_days": sorted(d.isoformat() for d in empty_days),
    }
    return body.encode("utf-8"), tally.to_json()


# --------------------------------------------------------------------------- Anthropic cost export

ANTHROPIC_COLUMNS = [
    "usage_date_utc", "model", "workspace", "api_key", "usage_type", "context_window", "token_type", "cost_usd",
    "list_price_usd", "cost_type", "inference_geo", "speed", "api_key_id", "api_key_status",
]
# USD per 1M tokens: input_no_cache, input_cache_write_5m, input_cache_read, output
ANTHROPIC_PRICES = {
    "Claude Haiku 4.5": ("1", "1.25", "0.10", "5"),
    "Claude Sonnet 4.5": ("3", "3.75", "0.30", "15"),
    "Claude Sonnet 4.5 long": ("6", "7.5", "0.60", "22.5"),
    "Claude Opus 4.5": ("5", "6.25", "0.50", "25"),
}
TOKEN_TYPES = ["input_no_cache", "input_cache_write_5m", "input_cache_read", "output"]


def anthropic_cost() -> tuple[bytes, dict]:
    r = rng("anthropic-cost")

    def key_id():
        return "apikey_01" + token(r, 22, "ABCDEFGHJKMNPQRSTVWXYZ0123456789")

    keys = [
        # (api_key name, workspace, id, status, geo, [(model, volume scale, probability, weekdays only)], window)
        ("prod-backend", "Default", key_id(), "active", "not_available",
         [("Claude Haiku 4.5", 1.0, 1.0, False), ("Claude Sonnet 4.5", 0.5, 0.95, False)], None),
        ("claude_code_key_ana_x7k2", "Claude Code", key_id(), "active", "global",
         [("Claude Opus 4.5", 0.3, 0.9, True)], None),
        ("research-notebooks", "Research", key_id(), "archived", "not_available",
         [("Claude Sonnet 4.5", 0.2, 0.45, True)], (date(2026, 1, 1), date(2026, 2, 27))),
    ]
    # tokens per day at scale 1.0
    base = {"input_no_cache": (2_000_000, 12_000_000), "input_cache_write_5m": (100_000, 1_500_000),
            "input_cache_read": (1_000_000, 25_000_000), "output": (300_000, 3_000_000)}
    long_days = set(r.sample([d for d in Q1_DAYS if d.weekday() < 5 and d <= date(2026, 2, 27)], 3))
    rows = []
    for day in Q1_DAYS:
        for name, ws, kid, status, geo, models, window in keys:
            if window and not (window[0] <= day <= window[1]):
                continue
            for model, scale, prob, weekdays in models:
                if weekdays and day.weekday() >= 5:
                    continue
                long_day = name == "research-notebooks" and day in long_days
                if r.random() > prob and not long_day:
                    continue
                contexts = ["≤ 200k"]
                if long_day:
                    contexts.append("> 200k")
                for ctx in contexts:
                    prices = ANTHROPIC_PRICES[model + (" long" if ctx == "> 200k" else "")]
                    for tt, price in zip(TOKEN_TYPES, prices):
                        lo, hi = base[tt]
                        tokens = int(r.randint(lo, hi) * scale * (0.15 if ctx == "> 200k" else 1))
                        if r.random() < 0.04:
                            tokens = r.randint(0, 9_000)  # tiny lines round to 0.00
                        cost = fixed(D(price) * tokens / D(1_000_000), 2)
                        v = [day.isoformat(), model, ws, name, "message", ctx, tt, cost, cost, "token", geo, "", kid, status]
                        rows.append((None, v, {"cat": "llm", "day": day, "model": model, "cost": cost}))
        if day.weekday() < 5 and r.random() < 0.12:
            n = r.randint(20, 400)
            cost = fixed(D(n) * D("0.01"), 2)
            name, ws, kid, status, geo = keys[0][:5]
            rows.append((None, [day.isoformat(), "Claude Sonnet 4.5", ws, name, "message", "", "", cost, cost,
                                "web_search", geo, "", kid, status],
                         {"cat": "not_token", "kind": "web_search", "day": day, "cost": cost, "quantity": n,
                          "unit": "searches (cost / 0.01)"}))
    tally = Tally(tokens_known=False)
    body = csv_text(ANTHROPIC_COLUMNS, emit(rows, tally), "\n")
    tally.extra = {
        "format": "Anthropic console cost export, 14-column header (the 2026-08+ variant, newest in the research notes)",
        "encoding": "UTF-8, no BOM (context_window holds U+2264)", "line_ending": "LF",
        "columns": len(ANTHROPIC_COLUMNS), "currency": "USD",
        "quantity_semantics": "spend only: no token counts in this export (input/cached/output tokens are null); cost_usd rounded to cents, some real lines show 0.00",
        "zero_cost_token_rows": sum(1 for _, v, m in rows if m["cat"] == "llm" and v[7] == "0.00"),
    }
    return body.encode("utf-8"), tally.to_json()


# --------------------------------------------------------------------------- main

README = {
    "about": "Control totals for the vendor export samples, computed by tools/make_vendor_samples.py from the strings it wrote into each cell (not by parsing the files). Money values are decimal strings (exact sums of the cells as written); token counts are integers.",
    "rows_below_header": "every line after the header row that is a data row: token rows, not-token rows, adjustments, other services, rejected rows, empty buckets and vendor summary rows (GCP console Rounding error / Total). Preamble lines above the header are not counted (see preamble_lines). Equals the sum of the *_rows counts below.",
    "llm_token_rows": "rows that carry LLM tokens: one token class per row (input, cached input, cache write, output, embeddings input). For spend-only exports (Anthropic cost) these are the cost_type=token rows.",
    "input_tokens": "sum of all input tokens as raw tokens, cached/cache-read and cache-write included; embeddings count as input. Converted from blocks/pricing units (Azure EA Quantity x 1,000 or x 1,000,000; CUR usage amount x 1,000 for '1K tokens', x 1,000,000 for '1M tokens'). null when the export has no token counts.",
    "cached_input_tokens": "the cached part of input_tokens (Azure 'cached'/'cchd' meters, Bedrock cache-read, Gemini 'Input Caching', OpenAI cached_input_tokens line items). Cache writes are input, not cached.",
    "output_tokens": "sum of output tokens (thinking output included), raw tokens.",
    "llm_cost": "sum of the cost column over llm_token_rows, in the file's currency, before credits. GCP BigQuery: cost column (gross); GCP console: Unrounded Cost ($) (llm_cost_rounded = sum of Cost ($)); Azure: CostInBillingCurrency/costInBillingCurrency; CUR: UnblendedCost.",
    "not_token_rows / not_token_cost": "LLM spend that is not tokens and must be listed as 'not estimated' with its spend: Azure provisioned throughput (PTU hours), Gemini context-cache storage, Gemini character-billed SKU, OpenAI images, Anthropic web_search. not_token_breakdown gives rows, cost and quantity per kind.",
    "adjustment_rows / adjustment_amount": "money-only rows: Tax, Credit, Refund (CUR line item types; GCP console credit rows and Tax rows). Never tokens, even when they repeat a usage type or a usage amount. Amounts are signed (credits and refunds negative).",
    "other_service_rows / other_service_cost": "rows of other cloud services in the same export that must be skipped and counted (VMs, storage, Azure Language 'Standard Text Records', EC2, Compute Engine, Cloud Storage).",
    "rejected_rows": "LLM meter rows whose numbers are inconsistent and must be rejected with a reason (Azure MCA: cost fits neither price x quantity nor price x quantity / block). line_below_header is 1-based.",
    "empty_bucket_rows": "rows with only the time columns filled (OpenAI days without usage): skip and count.",
    "vendor_summary_rows": "vendor total rows to drop (GCP console 'Rounding error' and 'Total'); their values are in vendor_summary_breakdown (Total = sum of all rows above incl. rounding = invoice total).",
    "first_day / last_day / months": "span of the usage dates of the data rows (summary rows excluded). by_month, by_model, by_region split the llm_* totals by usage month, by the model the row names (vendor id or display name, a hint for mapping) and by the cloud region code an importer should derive (Azure ResourceLocation, AWS usage-type prefix, GCP location.region).",
    "extra keys": "format, encoding, line_ending, columns, currency, quantity_semantics and notes per file describe what the file is and which judgement calls were made.",
}

GENERATORS = [
    ("azure_cost_export_ea_2026Q1.csv", azure_ea),
    ("azure_cost_export_mca_2026Q1.csv", azure_mca),
    ("aws_cur_legacy_bedrock_2026Q1.csv", aws_legacy),
    ("aws_cur2_bedrock_2026Q1.csv.gz", aws_cur2),
    ("gcp_billing_bigquery_2026Q1.csv", None),
    ("gcp_billing_console_2026Q1.csv", None),
    ("openai_cost_2026-01-01_2026-03-31.csv", openai_cost),
    ("anthropic_claude_api_cost_2026_Q1.csv", anthropic_cost),
]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "samples")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    gplan = gcp_plan()
    totals = {"_readme": README, "files": {}}
    for name, fn in GENERATORS:
        if name.startswith("gcp_billing_bigquery"):
            data, t = gcp_bigquery(gplan)
        elif name.startswith("gcp_billing_console"):
            data, t = gcp_console(gplan)
        else:
            data, t = fn()
        (args.out / name).write_bytes(data)
        t["bytes"] = len(data)
        totals["files"][name] = t
        print(f"{name:42s} {t['rows_below_header']:4d} rows  {len(data):7d} bytes")
    (args.out / "expected_vendor_totals.json").write_text(
        json.dumps(totals, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("expected_vendor_totals.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
