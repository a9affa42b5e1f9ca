#!/usr/bin/env bash
# llm-scope3 against the DuckDB CLI and pandas on the same aggregation, in one run.
#
#   benches/compare.sh                      # 2M and 10M rows, 5 runs each (about 15 minutes)
#   SIZES=2000000 RUNS=3 benches/compare.sh # quicker
#
# What it does (docs/performance.md explains the numbers):
#   1. builds llm-scope3 with the `dist` profile (fat LTO, one codegen unit) and the generator;
#   2. makes a throwaway virtual environment with the DuckDB CLI (PyPI `duckdb-cli`) and pandas;
#   3. generates OpenAI usage exports (benches/gen.rs, seeded) of each size into $BENCH_DIR;
#   4. times, RUNS times each, `llm-scope3 report FILE --json` and the same aggregation in
#      DuckDB and pandas: month × provider × model × region × cost centre, token sums, joined
#      to the factor set (`llm-scope3 factors export`: alias -> model parameters, provider ->
#      default grid region -> grid factor), and checks that all three find the generator's
#      token totals;
#   5. XLSX input: `report` on a 200,000-row workbook (rows/s, end to end);
#   6. workbook output: `report --timings` on an export with many distinct lines (cells/s of
#      building and writing the workbook; cells counted back with calamine).
# Prints wall time (median), peak RSS (median) and the ratios. Needs: cargo, python3 (venv),
# GNU time (/usr/bin/time; installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/tmp/bench}
RUNS=${RUNS:-5}
SIZES=${SIZES:-"2000000 10000000"}
XLSX_ROWS=${XLSX_ROWS:-200000}
mkdir -p "$BENCH_DIR"

if [ ! -x /usr/bin/time ]; then
  echo "== installing GNU time"
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

echo "== cargo build --profile dist (llm-scope3) and --release (the generator, not measured)"
cargo build --quiet --profile dist --bin llm-scope3
cargo build --quiet --release --example bench-gen
BIN=$ROOT/target/dist/llm-scope3
GEN=$ROOT/target/release/examples/bench-gen

VENV=$BENCH_DIR/venv
if [ ! -x "$VENV/bin/duckdb" ] || ! "$VENV/bin/python" -c "import pandas" 2>/dev/null; then
  echo "== throwaway venv with duckdb-cli and pandas ($VENV)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet duckdb-cli pandas
fi
DUCKDB=$VENV/bin/duckdb
PY=$VENV/bin/python

FACTORS=$BENCH_DIR/factors
if [ ! -f "$FACTORS/2026.1/models.csv" ]; then
  rm -rf "$FACTORS"
  "$BIN" factors export "$FACTORS" >/dev/null
fi
F=$FACTORS/2026.1

# time_runs LABEL CMD...: runs CMD $RUNS times under GNU time; appends "label wall_s rss_kib"
# per run to $BENCH_DIR/times.txt; the command's stdout of the last run is in $BENCH_DIR/last.out.
time_runs() {
  local label=$1
  shift
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$BENCH_DIR/time.tmp" "$@" >"$BENCH_DIR/last.out" 2>"$BENCH_DIR/last.err" || {
      echo "!! $label failed:"
      cat "$BENCH_DIR/last.err"
      exit 1
    }
    echo "$label $(tail -n 1 "$BENCH_DIR/time.tmp")" >>"$BENCH_DIR/times.txt"
  done
}

# median LABEL FIELD (2 = wall seconds, 3 = peak RSS KiB)
median() {
  awk -v l="$1" -v f="$2" '$1 == l { print $f }' "$BENCH_DIR/times.txt" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

duckdb_sql() {
  # One statement, so DuckDB streams the file through the aggregation (nothing materialised).
  cat <<SQL
.mode csv
.headers off
COPY (
  WITH usage AS (
    SELECT strftime(to_timestamp(start_time), '%Y-%m') AS month, 'openai' AS provider, model,
           NULL::VARCHAR AS region, project_id AS cost_centre,
           CAST(input_tokens AS DOUBLE)::BIGINT AS input_tokens,
           CAST(output_tokens AS DOUBLE)::BIGINT AS output_tokens
    FROM read_csv('$1', header = true, auto_detect = true)
    WHERE to_timestamp(start_time) >= TIMESTAMPTZ '2026-01-01 00:00:00+00'
      AND to_timestamp(start_time) <  TIMESTAMPTZ '2026-04-01 00:00:00+00'
  ), g AS (
    SELECT month, provider, model, region, cost_centre,
           sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, count(*) AS n
    FROM usage GROUP BY ALL
  ), a AS (SELECT * FROM read_csv('$F/aliases.csv', header = true)),
     m AS (SELECT * FROM read_csv('$F/models.csv', header = true)),
     p AS (SELECT * FROM read_csv('$F/providers.csv', header = true)),
     gr AS (SELECT * FROM read_csv('$F/grid.csv', header = true)),
     latest AS (SELECT geo_id, max(year) AS year FROM gr GROUP BY geo_id)
  SELECT g.*, coalesce(a.model_key, g.model) AS model_key,
         (m.active_params_b_min + m.active_params_b_max) / 2 AS active_b,
         p.pue_central, gr.central AS grid_g_per_kwh,
         (g.input_tokens + g.output_tokens) * (m.active_params_b_min + m.active_params_b_max) / 2
           * 2e9 / 1e15 / 3600 * p.pue_central * gr.central / 1000 AS kgco2e_indicative
  FROM g
  LEFT JOIN a ON a.alias = g.model
  LEFT JOIN m ON m.model_key = coalesce(a.model_key, g.model)
  LEFT JOIN p ON p.provider = g.provider
  LEFT JOIN latest l ON l.geo_id = coalesce(g.region, p.default_geo)
  LEFT JOIN gr ON gr.geo_id = l.geo_id AND gr.year = l.year
) TO '$BENCH_DIR/duckdb_lines.csv' (HEADER);
SELECT sum(input_tokens)::BIGINT, sum(output_tokens)::BIGINT, count(*)
FROM read_csv('$BENCH_DIR/duckdb_lines.csv', header = true);
SQL
}

cat >"$BENCH_DIR/pandas_agg.py" <<'PY'
import sys
import pandas as pd

path, f, out = sys.argv[1], sys.argv[2], sys.argv[3]
u = pd.read_csv(path, usecols=["start_time", "model", "project_id", "input_tokens", "output_tokens"],
                dtype={"model": "string", "project_id": "string"})
t = pd.to_datetime(u["start_time"], unit="s", utc=True)
u = u[(t >= "2026-01-01") & (t < "2026-04-01")]
u = u.assign(month=t.dt.strftime("%Y-%m"), provider="openai", region="",
             input_tokens=u["input_tokens"].astype("int64"),
             output_tokens=u["output_tokens"].astype("int64"))
g = (u.groupby(["month", "provider", "model", "region", "project_id"], dropna=False)
      .agg(input_tokens=("input_tokens", "sum"), output_tokens=("output_tokens", "sum"),
           n=("input_tokens", "size"))
      .reset_index())
aliases = pd.read_csv(f + "/aliases.csv")[["alias", "model_key"]]
models = pd.read_csv(f + "/models.csv")[["model_key", "active_params_b_min", "active_params_b_max"]]
providers = pd.read_csv(f + "/providers.csv")[["provider", "pue_central", "default_geo"]]
grid = pd.read_csv(f + "/grid.csv")[["geo_id", "year", "central"]]
grid = grid.sort_values("year").groupby("geo_id").tail(1)
g = g.merge(aliases, how="left", left_on="model", right_on="alias")
g["model_key"] = g["model_key"].fillna(g["model"])
g = g.merge(models, how="left", on="model_key").merge(providers, how="left", on="provider")
g["geo"] = g["region"].where(g["region"] != "", g["default_geo"])
g = g.merge(grid, how="left", left_on="geo", right_on="geo_id")
g["kgco2e_indicative"] = ((g.input_tokens + g.output_tokens)
                          * (g.active_params_b_min + g.active_params_b_max) / 2
                          * 2e9 / 1e15 / 3600 * g.pue_central * g.central / 1000)
g.to_csv(out, index=False)
print(f"{g.input_tokens.sum()},{g.output_tokens.sum()},{len(g)}")
PY

scope3_totals() {
  "$PY" -c "import json,sys; t=json.load(open(sys.argv[1]))['totals']; print(f\"{t['input_tokens']},{t['output_tokens']}\")" "$1"
}

: >"$BENCH_DIR/times.txt"
RESULTS=$BENCH_DIR/results.txt
: >"$RESULTS"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS"
echo "tools: $("$BIN" --version), duckdb $("$DUCKDB" --version | cut -d' ' -f1), pandas $("$PY" -c 'import pandas; print(pandas.__version__)'), runs per figure: $RUNS (median)" | tee -a "$RESULTS"

for n in $SIZES; do
  csv=$BENCH_DIR/openai_usage_$n.csv
  if [ ! -f "$csv" ] || [ ! -f "$csv.totals" ]; then
    echo "== generating $n rows"
    "$GEN" openai "$n" "$csv" --totals >"$csv.totals"
  fi
  expected=$(sed -e 's/input_tokens=//' -e 's/ output_tokens=/,/' "$csv.totals")
  size=$(du -m "$csv" | cut -f1)
  echo "== $n rows ($size MiB): llm-scope3, DuckDB, pandas × $RUNS"
  time_runs "scope3-$n" "$BIN" report "$csv" --quarter 2026Q1 --as-of 2026-04-15 \
    --out "$BENCH_DIR/report_$n.xlsx" --json "$BENCH_DIR/summary_$n.json"
  got_scope3=$(scope3_totals "$BENCH_DIR/summary_$n.json")
  duckdb_sql "$csv" >"$BENCH_DIR/query.sql"
  time_runs "duckdb-$n" "$DUCKDB" -c ".read $BENCH_DIR/query.sql"
  got_duckdb=$(cut -d, -f1,2 "$BENCH_DIR/last.out")
  time_runs "pandas-$n" "$PY" "$BENCH_DIR/pandas_agg.py" "$csv" "$F" "$BENCH_DIR/pandas_lines.csv"
  got_pandas=$(cut -d, -f1,2 "$BENCH_DIR/last.out")
  for pair in "llm-scope3:$got_scope3" "duckdb:$got_duckdb" "pandas:$got_pandas"; do
    if [ "${pair#*:}" != "$expected" ]; then
      echo "!! token totals differ: ${pair%%:*} found ${pair#*:}, the generator wrote $expected" | tee -a "$RESULTS"
      exit 1
    fi
  done
  echo "token totals agree (input,output = $expected)" | tee -a "$RESULTS"
  {
    printf "\n%s rows, %s MiB CSV\n" "$n" "$size"
    printf "%-12s %10s %14s %10s %10s\n" engine "wall s" "peak RSS MiB" "wall/ours" "RSS/ours"
    w0=$(median "scope3-$n" 2)
    r0=$(median "scope3-$n" 3)
    for e in scope3 duckdb pandas; do
      w=$(median "$e-$n" 2)
      r=$(median "$e-$n" 3)
      name=$e
      [ "$e" = scope3 ] && name=llm-scope3
      awk -v n="$name" -v w="$w" -v r="$r" -v w0="$w0" -v r0="$r0" \
        'BEGIN { printf "%-12s %10.2f %14.1f %10.2f %10.2f\n", n, w, r / 1024, w / w0, r / r0 }'
    done
    awk -v w="$(median "scope3-$n" 2)" -v d="$(median "duckdb-$n" 2)" \
      'BEGIN { printf "ratio llm-scope3 / DuckDB wall time: %.2f (target <= 1.00)\n", w / d }'
  } | tee -a "$RESULTS"
done

echo "== XLSX input: $XLSX_ROWS rows"
xlsx=$BENCH_DIR/openai_usage_$XLSX_ROWS.xlsx
[ -f "$xlsx" ] || "$GEN" openai "$XLSX_ROWS" "$xlsx" --totals >"$xlsx.totals"
time_runs "xlsx" "$BIN" report "$xlsx" --quarter 2026Q1 --as-of 2026-04-15 \
  --out "$BENCH_DIR/report_xlsx.xlsx" --json "$BENCH_DIR/summary_xlsx.json"
expected=$(sed -e 's/input_tokens=//' -e 's/ output_tokens=/,/' "$xlsx.totals")
[ "$(scope3_totals "$BENCH_DIR/summary_xlsx.json")" = "$expected" ] || {
  echo "!! XLSX token totals differ from the generator's $expected"
  exit 1
}
awk -v n="$XLSX_ROWS" -v w="$(median xlsx 2)" -v r="$(median xlsx 3)" \
  'BEGIN { printf "\nXLSX input: %d rows in %.2f s end to end = %.0f rows/s (target >= 400000), peak RSS %.1f MiB\n", n, w, n / w, r / 1024 }' |
  tee -a "$RESULTS"

echo "== workbook output"
many=$BENCH_DIR/openai_usage_many_lines.csv
[ -f "$many" ] || "$GEN" openai 400000 "$many" --projects 4000 >/dev/null
: >"$BENCH_DIR/wb_times.txt"
for _ in $(seq "$RUNS"); do
  "$BIN" report "$many" --quarter 2026Q1 --as-of 2026-04-15 --timings \
    --out "$BENCH_DIR/report_many.xlsx" 2>&1 >/dev/null | awk '/^timings: workbook/ { print $3 }' >>"$BENCH_DIR/wb_times.txt"
done
cells=$("$GEN" cells "$BENCH_DIR/report_many.xlsx")
wb=$(sort -g "$BENCH_DIR/wb_times.txt" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
awk -v c="$cells" -v w="$wb" \
  'BEGIN { printf "workbook output: %d cells built and written in %.2f s = %.2f M cells/s (target >= 2)\n", c, w, c / w / 1e6 }' |
  tee -a "$RESULTS"
echo
echo "results: $RESULTS"
