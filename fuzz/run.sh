#!/usr/bin/env bash
# Runs every fuzz target for SECONDS_PER_TARGET seconds (default 20) on its corpus, with new
# inputs kept in a scratch folder (the committed corpus is only read). Exits non-zero at the
# first target that finds a crash, a time-out or a memory blow-up; libFuzzer saves that input
# under fuzz/artifacts/<target>/ and the log's end is printed.
#   SECONDS_PER_TARGET=600 fuzz/run.sh            # a longer campaign
#   fuzz/run.sh scrub_pii loaders                # some targets only
#   FUZZ_SANITIZER=none fuzz/run.sh              # without AddressSanitizer (CI: faster build)
#   GROW_CORPUS=1 LOG_DIR=/tmp/fuzz-logs SECONDS_PER_TARGET=900 fuzz/run.sh
#                                                # a campaign: new inputs join the corpus
#                                                # (then `cargo +nightly fuzz cmin -O <target>`)
set -euo pipefail
cd "$(dirname "$0")"
seconds=${SECONDS_PER_TARGET:-20}
sanitizer=${FUZZ_SANITIZER:-address}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
cargo +nightly fuzz build -O -s "$sanitizer"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t" "corpus/$t" "artifacts/$t"
  log="${LOG_DIR:-$scratch}/$t.log"
  mkdir -p "$(dirname "$log")"
  out="$scratch/$t"
  if [ "${GROW_CORPUS:-0}" = 1 ]; then out="corpus/$t"; fi
  if ! cargo +nightly fuzz run -O -s "$sanitizer" "$t" "$out" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz target $t failed; the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
  new=$(sed -n 's/^stat::new_units_added: *//p' "$log")
  echo "$t: ${runs:-?} runs in ${seconds}s, ${cov:-cov: ?}, ${new:-?} new inputs"
done
