#!/usr/bin/env bash
# Quality on public data: builds a Raymundo project from each data set given and runs
# `raymundo eval retrieval --compare`, `eval answers` and `eval intents --compare` on it.
#
#   QA_SETS="es:path/to/xquad.es.json en:path/to/squad-dev.json" \
#   SUMMARY_SETS="es:path/to/gem/mlsum_es/task.json" \
#   PASSAGE_SETS="en:path/to/DisflQA/test.jsonl" \
#   INTENT_SETS="en:path/to/banking77-test.csv" bash bench/quality/run.sh [OUT]
#
# GUARD=documents measures the scope guard that `build` chose on the documents
# (`retrieval.guard_from_documents = true`) instead of the model's default thresholds.
#
# See bench/quality/README.md for which sets are for tuning and which for reporting.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-target/quality}
bin=${RAYMUNDO_BIN:-target/release/raymundo}
[ -x "$bin" ] || cargo build --release -p raymundo
mkdir -p "$out"
# Writes the guard choice into a freshly made project.
configure() {
  if [ "${GUARD:-}" = documents ]; then
    printf '[retrieval]\nguard_from_documents = true\n' >> "$1/raymundo.toml"
  fi
}
for spec in ${QA_SETS:-}; do
  lang=${spec%%:*}; file=${spec#*:}; name=$(basename "$file" .json)
  dir="$out/qa-$name"
  rm -rf "$dir"
  python3 bench/quality/make_projects.py qa "$file" "$dir" ${QA_ARGS:-}
  configure "$dir"
  "$bin" -C "$dir" build | tee "$out/$name.build.txt"
  "$bin" -C "$dir" eval retrieval --compare | tee "$out/$name.retrieval.txt"
  "$bin" -C "$dir" eval answers --out "$out/$name.answers.jsonl" | tee "$out/$name.answers.txt"
done
for spec in ${SUMMARY_SETS:-}; do
  file=${spec#*:}; name=$(basename "$(dirname "$file")")
  dir="$out/sum-$name"
  rm -rf "$dir"
  python3 bench/quality/make_projects.py summaries "$file" "$dir" ${SUMMARY_ARGS:-}
  configure "$dir"
  "$bin" -C "$dir" build | tee "$out/$name.build.txt"
  "$bin" -C "$dir" eval retrieval --compare | tee "$out/$name.retrieval.txt"
done
for spec in ${PASSAGE_SETS:-}; do
  file=${spec#*:}; name=$(basename "$(dirname "$file")")
  for part in 0 1; do
    dir="$out/passages-$name-$part"
    rm -rf "$dir"
    python3 bench/quality/make_projects.py passages "$file" "$dir" --part $part ${PASSAGE_ARGS:-}
    configure "$dir"
    "$bin" -C "$dir" build | tee "$out/$name-$part.build.txt"
    "$bin" -C "$dir" eval retrieval --compare | tee "$out/$name-$part.retrieval.txt"
    "$bin" -C "$dir" eval answers --out "$out/$name-$part.answers.jsonl" | tee "$out/$name-$part.answers.txt"
  done
done
for spec in ${INTENT_SETS:-}; do
  lang=${spec%%:*}; file=${spec#*:}; name=$(basename "${file%.*}")
  dir="$out/intents-$name"
  rm -rf "$dir"
  python3 bench/quality/make_projects.py intents "$file" "$dir" ${INTENT_ARGS:-}
  # An intent project still needs documents to build an index: one neutral page.
  if [ "$lang" = en ]; then
    printf '# %s\n\nThis project only measures how well the messages are recognised.\n' "$name"
  else
    printf '# %s\n\nEste proyecto solo mide qué tan bien se reconocen los mensajes.\n' "$name"
  fi > "$dir/data/docs/about.md"
  "$bin" -C "$dir" build >/dev/null
  "$bin" -C "$dir" eval intents --compare --target-fp 0.1 | tee "$out/$name.intents.txt"
done
