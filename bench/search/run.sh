#!/usr/bin/env bash
# End-to-end `raymundo search` latency (embedding + vectors + BM25 + fusion) per query, in one
# loaded process, on the sample company and on a synthetic corpus grown from it.
# Usage: bash bench/search/run.sh        (SIZE=100000 by default; PROFILE=dev reuses the test build)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-target/bench-search}
SIZE=${SIZE:-100000}
PROFILE=${PROFILE:-release}
mkdir -p "$WORK"
cargo build -q --profile "$PROFILE"
cargo build -q --profile "$PROFILE" -p raymundo-index --example synth_corpus
DIR=target/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
RAY=$DIR/raymundo

[ -f "$WORK/demo/data/index/index.rmx" ] || "$RAY" demo --dir "$WORK/demo" >/dev/null
python3 -c "
import json
for l in open('examples/axoloit/data/eval/preguntas.jsonl', encoding='utf-8'):
    print(json.loads(l)['pregunta'])" > "$WORK/queries.txt"

echo "# sample company"
"$RAY" -C "$WORK/demo" search --queries "$WORK/queries.txt"

echo "# synthetic corpus of $SIZE chunks"
rm -rf "$WORK/synth" && mkdir -p "$WORK/synth/data"
cp "$WORK/demo/raymundo.toml" "$WORK/synth/"
"$DIR/examples/synth_corpus" "$WORK/demo/data/index" "$WORK/synth/data/index" "$SIZE"
"$RAY" -C "$WORK/synth" search --queries "$WORK/queries.txt"
