#!/usr/bin/env bash
# Peak memory (RSS) of llm-scope3 on inputs that grow memory, and bytes per distinct line.
#
#   benches/memory.sh              # every case (about 5 minutes after the build)
#   CASES="lines csv1m" benches/memory.sh
#
# Cases (docs/performance.md, "Memory", records the numbers):
#   lines    bytes per distinct line: `report --json` on exports of N distinct projects
#            (N = 20,000 and 100,000, 3 rows each on average), --max-lines raised past them;
#            (RSS(100k) - RSS(20k)) / (lines(100k) - lines(20k)), lines counted in the JSON.
#   csv1m    a CSV with 1,000,000 distinct projects (about 50 MB) at the default limit: refused
#            while reading, at the 100,001st line.
#   upload   `serve`, one upload of a 10 MB CSV with 200,000 projects at the default limit
#            (refused), then 4 at once with 10,000 projects each (reported); the server's peak
#            RSS (VmHWM) and its RSS once they are done (results kept for the hour).
#   serve95k `serve`, one upload of about 95,000 distinct lines (102,000 rows, 34,000 projects),
#            then four such uploads at once: the server's peak RSS per line being built
#            (docs/api.md, "Memory budget").
#   line     one 200 MB line without a header or line end.
#   strings  an xlsx whose sharedStrings.xml holds 17,000,000 strings (under both zip-bomb
#            limits: about 370 MB inflated, 20:1).
#   ledger   `import` of 2,000,000 OpenAI rows into a new ledger (records written as they are
#            read), then `report --ledger` of the quarter (records folded as they are read):
#            neither should grow with the rows.
# Needs: cargo, python3, curl, GNU time (/usr/bin/time; installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DIR=${BENCH_DIR:-$ROOT/tmp/bench-mem}
CASES=${CASES:-"lines csv1m upload serve95k line strings ledger"}
mkdir -p "$DIR"

if [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
cargo build --quiet --release --bin llm-scope3 --example bench-gen
BIN=$ROOT/target/release/llm-scope3
GEN=$ROOT/target/release/examples/bench-gen

# measure LABEL CMD...: prints "LABEL  exit E  wall S s  peak RSS M MiB" (the command may fail).
measure() {
  local label=$1
  shift
  local rc=0
  /usr/bin/time -f "%e %M" -o "$DIR/time.tmp" "$@" >"$DIR/out.txt" 2>"$DIR/err.txt" || rc=$?
  read -r wall kib <"$DIR/time.tmp" || true
  kib=$(tail -n 1 "$DIR/time.tmp" | awk '{print $2}')
  wall=$(tail -n 1 "$DIR/time.tmp" | awk '{print $1}')
  printf '%-44s exit %s  wall %6.2f s  peak RSS %7.1f MiB\n' "$label" "$rc" "$wall" "$(echo "$kib / 1024" | bc -l)"
  if [ "$rc" != 0 ]; then sed 's/^/    /' "$DIR/err.txt" | cut -c1-220 | head -n 2; fi
}

lines_in() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(len(d['lines']), len(d['lines']))" "$1"; }

for case in $CASES; do
  case $case in
  lines)
    declare -A rss lines
    for n in 20000 100000; do
      f=$DIR/projects_$n.csv
      [ -f "$f" ] || "$GEN" openai $((n * 3)) "$f" --projects "$n"
      measure "report, $n projects (--max-lines 1000000)" \
        "$BIN" report "$f" --quarter 2026Q1 --max-lines 1000000 --out "$DIR/r.xlsx" --json "$DIR/r.json" --as-of 2026-04-15
      rss[$n]=$(tail -n 1 "$DIR/time.tmp" | awk '{print $2}')
      read -r l c < <(lines_in "$DIR/r.json")
      lines[$n]=$l
      echo "    $l AI Services lines, $c calculation lines; JSON $(($(stat -c %s "$DIR/r.json") >> 20)) MiB, workbook $(($(stat -c %s "$DIR/r.xlsx") >> 20)) MiB"
    done
    echo "bytes per distinct line (peak RSS): $(( (rss[100000] - rss[20000]) * 1024 / (lines[100000] - lines[20000]) ))"
    ;;
  csv1m)
    f=$DIR/projects_1m.csv
    [ -f "$f" ] || "$GEN" openai 1000000 "$f" --projects 1000000
    measure "report, 1M distinct projects (default limit)" \
      "$BIN" report "$f" --quarter 2026Q1 --out "$DIR/r.xlsx"
    ;;
  upload)
    f=$DIR/upload_200k.csv
    [ -f "$f" ] || "$GEN" openai 200000 "$f" --projects 200000
    for i in 1 2 3 4; do
      [ -f "$DIR/upload_10k_$i.csv" ] || "$GEN" openai 30000 "$DIR/upload_10k_$i.csv" --projects 10000 --seed "$i"
    done
    "$BIN" serve --bind 127.0.0.1:0 >"$DIR/serve.out" 2>"$DIR/serve.err" &
    pid=$!
    for _ in $(seq 50); do grep -q listening "$DIR/serve.out" && break; sleep 0.2; done
    url=$(sed -n 's/.*listening on \(http[^ ]*\)/\1/p' "$DIR/serve.out" | head -n 1)
    hwm() { awk '/VmHWM|VmRSS/ {printf "%s %.1f MiB  ", $1, $2 / 1024}' "/proc/$pid/status"; echo; }
    echo "serve idle:                                   $(hwm)"
    code=$(curl -s -o "$DIR/up.json" -w '%{http_code}' -F "files=@$f" -F quarter=2026Q1 "${url}api/reports")
    echo "one upload, 200,000 projects (HTTP $code):     $(hwm)"
    head -c 300 "$DIR/up.json"; echo
    for i in 1 2 3 4; do
      curl -s -o "$DIR/up_$i.json" -w "HTTP %{http_code}\n" -F "files=@$DIR/upload_10k_$i.csv" -F quarter=2026Q1 "${url}api/reports" &
    done
    wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
    echo "4 uploads at once, 10,000 projects each:       $(hwm)"
    kill "$pid"
    ;;
  serve95k)
    for i in 0 1 2 3 4; do
      [ -f "$DIR/up95k_$i.csv" ] || "$GEN" openai 102000 "$DIR/up95k_$i.csv" --projects 34000 --seed $((i + 10))
    done
    "$BIN" serve --bind 127.0.0.1:0 >"$DIR/serve.out" 2>"$DIR/serve.err" &
    pid=$!
    for _ in $(seq 50); do grep -q listening "$DIR/serve.out" && break; sleep 0.2; done
    url=$(sed -n 's/.*listening on \(http[^ ]*\)/\1/p' "$DIR/serve.out" | head -n 1)
    hwm() { awk '/VmHWM|VmRSS/ {printf "%s %.1f MiB  ", $1, $2 / 1024}' "/proc/$pid/status"; echo; }
    echo "serve idle:                                   $(hwm)"
    code=$(curl -s -o "$DIR/up.json" -w '%{http_code}' -F "files=@$DIR/up95k_0.csv" -F quarter=2026Q1 "${url}api/reports")
    lines=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['lines']))" "$DIR/up.json")
    echo "one upload, $lines lines (HTTP $code):     $(hwm)"
    for i in 1 2 3 4; do
      curl -s -o "$DIR/up_$i.json" -w "HTTP %{http_code}\n" -F "files=@$DIR/up95k_$i.csv" -F quarter=2026Q1 "${url}api/reports" &
    done
    wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
    echo "4 such uploads at once:                      $(hwm)"
    kill "$pid"
    ;;
  line)
    f=$DIR/line_200mb.csv
    [ -f "$f" ] || python3 -c "
import sys
with open(sys.argv[1], 'w') as o:
    for _ in range(200): o.write('abcdefghi,' * 104857)
" "$f"
    measure "report, one 200 MB line" "$BIN" report "$f" --quarter 2026Q1 --out "$DIR/r.xlsx"
    ;;
  strings)
    f=$DIR/strings_17m.xlsx
    [ -f "$f" ] || python3 - "$f" <<'PY'
import sys, zipfile
n = 17_000_000
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
    z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
    z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    z.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>')
    with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as w:
        w.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
        chunk = []
        for i in range(n):
            chunk.append(b"<si><t>%d</t></si>" % (i * 7919 % 10**9))
            if len(chunk) == 100000:
                w.write(b"".join(chunk)); chunk = []
        w.write(b"".join(chunk) + b"</sst>")
PY
    measure "report, xlsx with 17M shared strings" "$BIN" report "$f" --quarter 2026Q1 --out "$DIR/r.xlsx"
    ;;
  ledger)
    for n in 200000 2000000; do
      f=$DIR/ledger_$n.csv
      [ -f "$f" ] || "$GEN" openai "$n" "$f"
      rm -f "$DIR/l_$n.db"*
      measure "import, $n rows into a new ledger" "$BIN" import "$f" --ledger "$DIR/l_$n.db"
      measure "report --ledger, $n rows' records" \
        "$BIN" report --ledger "$DIR/l_$n.db" --quarter 2026Q1 --as-of 2026-04-15 --out "$DIR/r.xlsx"
    done
    ;;
  *) echo "unknown case $case" >&2; exit 2 ;;
  esac
done
