#!/usr/bin/env bash
# Vector search, side by side: FAISS (IndexFlatL2, IndexFlatIP, IndexHNSWFlat) next to
# Raymundo's exact scan and HNSW, on the same low-rank synthetic 384-d data, one query at a
# time. Prints one table (medians of REPS timed passes).
#
# Usage: bash bench/ann/run.sh
#   SIZES=10000,100000,1000000  sizes to run (comma-separated; the data is generated once)
#   VENV=bench/.venv            Python virtualenv (created with faiss-cpu and numpy if missing)
#   DATA=target/bench-ann       where the vectors, queries and ground truth go (1M: 1.5 GB)
#   REPS=5 EFS=16,24,... TARGET=0.98 M=16 EFC=100   see ann_bench.rs / faiss_bench.py
#   RANK=32 NOISE=0.2 NQ=1000   data generator, see gen.py
# Needs: cargo, python3 with venv and pip (PyPI reachable for the first run).
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES=${SIZES:-10000,100000,1000000}
VENV=${VENV:-bench/.venv}
DATA=${DATA:-target/bench-ann}
export REPS=${REPS:-5} TARGET=${TARGET:-0.98} M=${M:-16} EFC=${EFC:-100}

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import faiss, numpy" 2>/dev/null; then
  "$VENV/bin/pip" install -q faiss-cpu==1.15.1 numpy
fi
PY="$VENV/bin/python"

mkdir -p "$DATA"
"$PY" bench/ann/gen.py "$DATA" "$SIZES"
cargo build -q --release -p raymundo-index --example ann_bench

OUT="$DATA/results-$(date +%Y%m%d-%H%M%S).jsonl"
for n in ${SIZES//,/ }; do
  "$PY" bench/ann/faiss_bench.py "$DATA" "$n" | tee -a "$OUT"
  cargo run -q --release -p raymundo-index --example ann_bench -- "$DATA" "$n" | tee -a "$OUT"
done
echo
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); results in $OUT"
"$PY" bench/ann/table.py "$OUT"
