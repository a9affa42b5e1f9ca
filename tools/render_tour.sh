#!/usr/bin/env bash
# tools/render_tour.sh: redraws the pictures of the README's workbook tour, in docs/images/:
#
#   summary.png      the E1-6 Summary sheet (whole sheet)
#   ai_services.png  the AI Services sheet (top-left corner: headings and the first lines)
#   trend.png        the Trend sheet (table and chart)
#   upload_page.png  the upload page of `llm-scope3 serve`, as a browser shows it
#
# Usage, from anywhere in the repository:
#
#   tools/render_tour.sh                                 # builds target/debug/llm-scope3 first
#   BIN=target/release/llm-scope3 tools/render_tour.sh   # uses that binary, builds nothing
#
# Environment: BIN (binary to use), OUT (folder to write, default docs/images), PORT (for the
# upload page, default 18080; it must be free), DPI (sheet pictures, default 96), KEEP=1 (keep
# the temporary folder and print it).
#
# Needs LibreOffice 7.4 or newer (`soffice`, for its SinglePageSheets PDF option), poppler's
# `pdftotext` and `pdftoppm`, `chromium` and `curl`.
# The Carlito font (Debian: fonts-crosextra-carlito) has Calibri's metrics, the workbook's
# font: without it LibreOffice lays the text out in a wider one and more cells look cut off.
#
# How: in a temporary folder (so no llm-scope3.toml is picked up and no ledger of yours is
# touched) the bundled samples/ are imported into a new ledger and the 2026Q1 report is made
# from it with a fixed --as-of, so the pictures only change when the workbook does. The Trend
# sheet exists only in ledger reports. LibreOffice turns the workbook into a PDF with one page
# per sheet at its natural size (SinglePageSheets; the workbook's own print setup fits a wide
# sheet on one paper page, too small to read). Each sheet's page is found by its first line
# (pdftotext) and drawn at 96 dpi with pdftoppm, cut to at most the width and height below
# (points; 96 dpi makes the workbook's 11 pt text some 15 pixels high).
# The upload page is shot by headless Chromium at 1200x900 from `serve` on 127.0.0.1:PORT,
# which is stopped afterwards.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
OUT=${OUT:-docs/images}
PORT=${PORT:-18080}
DPI=${DPI:-96}

for tool in soffice pdftotext pdftoppm pdfinfo chromium curl; do
  command -v "$tool" >/dev/null || { echo "render_tour: $tool is not installed" >&2; exit 1; }
done
if command -v fc-list >/dev/null && ! fc-list : family | grep -i carlito >/dev/null; then
  echo "render_tour: warning: no Carlito font (fonts-crosextra-carlito); text will be laid out wider than in Excel" >&2
fi

if [[ -z "${BIN:-}" ]]; then
  cargo build --quiet --bin llm-scope3
  BIN=target/debug/llm-scope3
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
[[ -x "$BIN" ]] || { echo "render_tour: $BIN is not an executable" >&2; exit 1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

tmp=$(mktemp -d)
server=""
cleanup() {
  if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [[ "${KEEP:-}" == 1 ]]; then echo "render_tour: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# --- The workbook -----------------------------------------------------------------------------
(
  cd "$tmp"
  "$BIN" import "$root/samples/" --ledger L.db >import.log 2>&1 \
    || { cat import.log >&2; exit 1; }
  "$BIN" report --ledger L.db --quarter 2026Q1 --as-of 2026-04-15 -o tour.xlsx >report.log 2>&1 \
    || { cat report.log >&2; exit 1; }
  # A profile of its own, so a LibreOffice already open elsewhere does not take the job.
  soffice -env:UserInstallation="file://$tmp/lo-profile" --headless \
    --convert-to 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}' \
    --outdir "$tmp" tour.xlsx >soffice.log 2>&1 || { cat soffice.log >&2; exit 1; }
  [[ -s tour.pdf ]] || { echo "render_tour: LibreOffice wrote no PDF" >&2; cat soffice.log >&2; exit 1; }
)
pdf=$tmp/tour.pdf
pages=$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')

# The page whose first non-empty line matches the extended regex $1 (the sheet's first heading).
page_of() {
  local p first
  for ((p = 1; p <= pages; p++)); do
    first=$(pdftotext -f "$p" -l "$p" -layout "$pdf" - | grep -m1 -v '^[[:space:]]*$' || true)
    if [[ "$first" =~ $1 ]]; then echo "$p"; return; fi
  done
  echo "render_tour: no page starts with /$1/ (has the sheet's heading changed?)" >&2
  exit 1
}

# Pixels of $1 points at $DPI.
px() { awk -v pt="$1" -v dpi="$DPI" 'BEGIN {printf "%d", pt * dpi / 72}'; }

# Where the heading word $2 of page $1 starts, in points: the first word equal to it on the
# page's top line. Empty when there is none.
heading_x() {
  pdftotext -f "$1" -l "$1" -bbox "$pdf" - | awk -v want="$2" -F'"' '
    /<word / {
      w = $0; sub(/.*">/, "", w); sub(/<\/word>.*/, "", w)
      n++; x[n] = $2 + 0; y[n] = $4 + 0; t[n] = w
      if (n == 1 || $4 + 0 < top) top = $4 + 0
    }
    END { for (i = 1; i <= n; i++) if (y[i] < top + 3 && t[i] == want) { print x[i]; exit } }'
}

# Draws sheet page $2 into $OUT/$1.png: its top-left corner, at most $3 x $4 points, and when
# $5 names a heading word, only the columns left of that heading's column.
render() {
  local name=$1 page=$2 maxw=$3 maxh=$4 stop=${5:-} w h x
  read -r w h < <(pdfinfo -f "$page" -l "$page" "$pdf" | awk '/^Page +[0-9]+ size:/ {print $4, $6}')
  if [[ -n "$stop" ]]; then
    x=$(heading_x "$page" "$stop")
    [[ -n "$x" ]] || { echo "render_tour: no heading '$stop' on page $page" >&2; exit 1; }
    maxw=$(awk -v x="$x" -v m="$maxw" 'BEGIN {print (x - 2 < m) ? x - 2 : m}')
  fi
  w=$(px "$(awk -v a="$w" -v b="$maxw" 'BEGIN {print (a < b) ? a : b}')")
  h=$(px "$(awk -v a="$h" -v b="$maxh" 'BEGIN {print (a < b) ? a : b}')")
  pdftoppm -png -r "$DPI" -f "$page" -l "$page" -x 0 -y 0 -W "$w" -H "$h" -singlefile \
    "$pdf" "$OUT/$name"
  echo "render_tour: $OUT/$name.png (page $page, ${w}x${h} at $DPI dpi)"
}

# First lines: "ESRS E1-6 Scope 3 — 2026Q1", the AI Services heading row, "Trend: fiscal year ...".
# (The headings wrap in their columns: the first line reads "Provider  Model (as  Model key ...".
# Calculation Lines' heading row also names "Model (as exported)", but starts "Source file".)
summary=$(page_of '^ESRS E1-6 Scope 3')
ai_services=$(page_of '^Provider +Model \(as')
trend=$(page_of '^Trend: ')
render summary "$summary" 1300 600
# AI Services is some 3,000 points wide: the identifying columns and the tokens, up to the
# first "Imputed" column, and the first 25 or so lines.
render ai_services "$ai_services" 1400 400 Imputed
render trend "$trend" 1300 520

# --- The upload page --------------------------------------------------------------------------
url=http://127.0.0.1:$PORT/
if curl -s -o /dev/null "$url"; then
  echo "render_tour: something already answers on $url; set PORT to a free port" >&2
  exit 1
fi
(cd "$tmp" && exec "$BIN" serve --bind "127.0.0.1:$PORT" >serve.log 2>&1) &
server=$!
for ((i = 0; i < 100; i++)); do
  curl -s -o /dev/null "$url" && break
  kill -0 "$server" 2>/dev/null || { cat "$tmp/serve.log" >&2; exit 1; }
  sleep 0.1
done
curl -s -f -o /dev/null "$url" || { echo "render_tour: $url does not answer" >&2; exit 1; }
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --no-first-run --hide-scrollbars \
  --user-data-dir="$tmp/chromium-profile" --window-size=1200,900 \
  --screenshot="$OUT/upload_page.png" "$url" >"$tmp/chromium.log" 2>&1 \
  || { cat "$tmp/chromium.log" >&2; exit 1; }
[[ -s "$OUT/upload_page.png" ]] || { echo "render_tour: Chromium wrote no picture" >&2; exit 1; }
echo "render_tour: $OUT/upload_page.png"
