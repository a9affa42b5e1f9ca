#!/usr/bin/env bash
# Runs one fuzz target of llm-scope3 for a given time on the stable toolchain.
#
#   fuzz/run.sh TARGET SECONDS [libFuzzer flags...]
#   TARGET: csv_reader | xlsx_reader
#
# Environment:
#   FUZZ_KEEP_GOING=1       keep fuzzing after a crash/timeout/OOM (libFuzzer -fork=1 with
#                           -ignore_*), so one run finds several; the exit code is still 1
#   FUZZ_SANITIZER=address  build with AddressSanitizer (default: none; the code is safe Rust,
#                           and without ASan the 2-core machines run about twice the inputs)
#   FUZZ_CODEGEN_UNITS=1    build as cargo-fuzz does (one codegen unit: a faster fuzzer, a much
#                           slower build; default: cargo's)
#   FUZZ_DEP_PANICS=abort   also stop on panics inside calamine/zip/... that llm-scope3 catches
#   FUZZ_SKIP_HUGE_SHEETS=1 xlsx: pass over inputs whose cell references span > 2^24 cells
#   FUZZ_IGNORE_PANICS=src/ingest/csv.rs:122,...
#                           panics at these sites are known bugs: keep fuzzing past them
#
# Exit code: 0 when the time ran out with no crash, 1 when a crash/timeout/OOM input was saved
# (under fuzz/artifacts/TARGET/), 2 on a usage error. See fuzz/README.md.
set -euo pipefail

# The whole script is one function, parsed before it runs, and the line that calls it also
# exits: editing this file during a long run cannot change what the running copy does.
main() {
  usage() {
    sed -n '2,18p' "$0" >&2
    exit 2
  }
  [ $# -ge 2 ] || usage
  target=$1
  seconds=$2
  shift 2
  case "$seconds" in '' | *[!0-9]*) usage ;; esac

  here="$(cd "$(dirname "$0")" && pwd)"
  root="$(dirname "$here")"

  case "$target" in
    csv_reader) ext=csv; max_len=65536 ;;
    xlsx_reader) ext=xlsx; max_len=262144 ;;
    *) echo "unknown target '$target' (csv_reader | xlsx_reader)" >&2; usage ;;
  esac

  # libfuzzer-sys needs nightly features; RUSTC_BOOTSTRAP lets stable rustc use them.
  export RUSTC_BOOTSTRAP=1

  if ! command -v c++ >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1; then
    # libfuzzer-sys compiles libFuzzer (C++) with the system compiler.
    echo "== installing g++ (libFuzzer is built from C++ sources)"
    if [ "$(id -u)" = 0 ]; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq g++ >/dev/null
    else
      sudo apt-get update -qq && sudo apt-get install -y -qq g++ >/dev/null
    fi
  fi

  # The build cargo-fuzz 0.13 makes (`cargo fuzz build --debug-assertions`), done with cargo
  # itself so that CI need not compile cargo-fuzz first: libFuzzer's coverage instrumentation
  # (sancov), `--cfg fuzzing`, debug assertions, release mode with line tables, and --target so
  # the flags skip build scripts. cargo-fuzz also forces one codegen unit, which makes the
  # fuzzer about a third faster and the build several times slower: FUZZ_CODEGEN_UNITS=1 for
  # long local runs; CI keeps cargo's default.
  sanitizer="${FUZZ_SANITIZER:-none}"
  triple="$(rustc -vV | sed -n 's/^host: //p')"
  rustflags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
  rustflags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters"
  rustflags+=" -Cllvm-args=-sanitizer-coverage-pc-table"
  rustflags+=" -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
  rustflags+=" -Cllvm-args=-simplifycfg-branch-fold-threshold=0"
  rustflags+=" -Cllvm-args=-sanitizer-coverage-stack-depth -Cdebug-assertions"
  if [ "$sanitizer" != none ]; then
    rustflags+=" -Zsanitizer=$sanitizer"
  fi
  if [ -n "${FUZZ_CODEGEN_UNITS:-}" ]; then
    rustflags+=" -Ccodegen-units=$FUZZ_CODEGEN_UNITS"
  fi
  build_flags=(--fuzz-dir "$here" --debug-assertions --sanitizer "$sanitizer")

  cd "$root"
  echo "== building $target (sanitizer: $sanitizer, debug assertions on)"
  RUSTFLAGS="$rustflags" cargo build --manifest-path "$here/Cargo.toml" --target "$triple" \
    --release --config 'profile.release.debug="line-tables-only"' --bin "$target"

  # The corpus that grows across runs (not in git), and this run's seeds: the committed seeds,
  # the bundled samples and test fixtures, and the regression inputs of earlier crashes.
  corpus="$here/corpus/$target"
  seeds="$here/target/run-seeds/$target"
  mkdir -p "$corpus" "$here/artifacts/$target" "$here/logs"
  rm -rf "$seeds"
  mkdir -p "$seeds"
  cp "$here/seeds/$target/"* "$seeds/"
  if [ "$ext" = csv ]; then
    patterns=(-name '*.csv' -o -name '*.tsv' -o -name '*.txt' -o -name '*.csv.gz')
  else
    # The reader decides the format from the content, so .xls and .ods seeds are fuzzed too.
    patterns=(-name '*.xlsx' -o -name '*.xlsm' -o -name '*.xls' -o -name '*.ods')
  fi
  # Samples and every test fixture of the right kind (tests/fixtures/, messy/, ...), and the
  # regression inputs of this target's earlier crashes (tests/fixtures/fuzz/TARGET-*).
  find "$root/samples" "$root/tests/fixtures" -type f \( "${patterns[@]}" \) -size -4M \
    -not -path "$root/tests/fixtures/fuzz/*" -exec cp -t "$seeds/" {} + 2>/dev/null || true
  find "$root/tests/fixtures/fuzz" -type f -name "$target-*" -exec cp -t "$seeds/" {} + 2>/dev/null || true

  # Dictionary: the static tokens plus every short printable quoted string of templates/*.toml
  # (header names, map keys, units), so a new template's headers are fuzzed without editing this.
  dict="$here/target/$target.dict"
  {
    cat "$here/dict/$target.dict"
    echo "# generated from templates/*.toml"
    cat "$root"/templates/*.toml \
      | grep -o '"[^"]*"' \
      | LC_ALL=C grep -v '[^ -~]' \
      | grep -v '\\[^"\\]' \
      | awk 'length($0) > 3 && length($0) <= 66' \
      | LC_ALL=C sort -u
  } >"$dict"

  # The input file lives in a tmpfs folder that is removed when this script ends.
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    FUZZ_TMPDIR="$(mktemp -d /dev/shm/llm-scope3-fuzz.XXXXXX)"
  else
    FUZZ_TMPDIR="$(mktemp -d)"
  fi
  export FUZZ_TMPDIR
  marker="$(mktemp)"
  trap 'rm -rf "$FUZZ_TMPDIR" "$marker"' EXIT

  flags=(
    -max_total_time="$seconds"
    -rss_limit_mb=2048
    -malloc_limit_mb=2048
    -max_len="$max_len"
    -timeout=10
    -dict="$dict"
    -print_final_stats=1
  )
  if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
    flags+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  fi

  # The binary, run directly: `cargo fuzz run` would print the Debug form of every failing
  # input (megabytes for a 64 KiB file) and add nothing else.
  binary="$here/target/$triple/release/$target"
  log="$here/logs/$target-$(date -u +%Y%m%dT%H%M%SZ).log"
  echo "== fuzzing $target for ${seconds}s (log: ${log#"$root"/})"
  set +e
  "$binary" -artifact_prefix="$here/artifacts/$target/" "${flags[@]}" "$@" "$corpus" "$seeds" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e

  found=$(find "$here/artifacts/$target" -type f -newer "$marker" \
    \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort)
  echo
  # Executions and speed: libFuzzer's final stats, or in fork mode the parent's last status line.
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" \
    || grep -E '^#[0-9]+: cov' "$log" | tail -n 1 || true
  if [ -n "$found" ] || [ "$status" != 0 ]; then
    echo "== $target: FAILED (exit status $status)"
    for f in $found; do echo "   ${f#"$root"/}"; done
    echo "   reproduce: $binary <artifact>   (or, with cargo-fuzz installed:"
    echo "              RUSTC_BOOTSTRAP=1 cargo fuzz run ${build_flags[*]} $target <artifact>)"
    echo "   minimise:  RUSTC_BOOTSTRAP=1 cargo fuzz tmin ${build_flags[*]} $target <artifact>"
    echo "   then copy it to tests/fixtures/fuzz/$target-<what>.$ext (see fuzz/README.md)"
    exit 1
  fi
  echo "== $target: no crash in ${seconds}s"
}

main "$@"; exit
