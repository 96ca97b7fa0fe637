#!/usr/bin/env bash
# The index in PostgreSQL against the file index, side by side in one run, on a throwaway
# PostgreSQL with pgvector (127.0.0.1 only; tools/install-pgvector.sh):
#   1. the sample company: `eval retrieval` from the files and from PostgreSQL (MRR, hit@k);
#   2. SIZE synthetic chunks grown from it (`synth_corpus`): publish time, recall@10 of
#      pgvector's HNSW against an exact scan, hybrid search p50/p95/p99 of both backends
#      taking turns (`pg_bench`), and how often they return the same top 4.
# Usage: bash bench/pgindex/run.sh        (SIZE=100000 QUERIES=300 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-target/bench-pgindex}
SIZE=${SIZE:-100000}
QUERIES=${QUERIES:-300}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
cargo build -q --release -p raymundo
cargo build -q --release -p raymundo-index --example synth_corpus --example pg_bench
RAY=target/release/raymundo

# A throwaway server, as the postgres user when run as root (initdb refuses root).
PG="$WORK/pg"
rm -rf "$PG" && mkdir -p "$PG"
as_pg() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres:postgres "$PG"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$PGBIN/initdb" -D "$PG/data" -U raymundo --auth=trust -E UTF8 --locale=C >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/log" -w -o "-h 127.0.0.1 -p $PORT -k $PG \
  -c shared_buffers=2GB -c maintenance_work_mem=2GB -c max_wal_size=8GB -c fsync=off" start >/dev/null
trap 'as_pg "$PGBIN/pg_ctl" -D "$PG/data" -m fast stop >/dev/null 2>&1 || true' EXIT
"$PGBIN/psql" -q -h 127.0.0.1 -p "$PORT" -U raymundo postgres -c "CREATE DATABASE sample" -c "CREATE DATABASE synth"
URL="postgres://raymundo@127.0.0.1:$PORT"

echo "# sample company: eval retrieval, files then PostgreSQL"
[ -f "$WORK/demo/data/index/index.rmx" ] || "$RAY" demo --dir "$WORK/demo" >/dev/null
rm -rf "$WORK/demo-pg" && cp -r "$WORK/demo" "$WORK/demo-pg"
printf '\n[index]\nbackend = "postgres"\ndatabase = "%s/sample"\n' "$URL" >> "$WORK/demo-pg/raymundo.toml"
"$RAY" -C "$WORK/demo-pg" build >/dev/null
for side in demo demo-pg; do
  "$RAY" -C "$WORK/$side" eval retrieval --compare --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
for m in [r] + r['compare']:
    print('%-8s %-9s MRR %.4f hit@%d %.4f recall@%d %.4f nDCG@10 %.4f out-of-scope FP %.3f miss %.3f %.1f ms/query' % (
        '$side', m['fusion'], m['mrr'], m['k'], m['hit@k'], m['k'], m['recall@k'], m['ndcg@10'],
        m['false_positive_rate'], m['miss_rate'], m['ms_per_query']))"
done

echo "# synthetic corpus of $SIZE chunks: publish, recall, hybrid latency (files / PostgreSQL)"
[ -f "$WORK/synth-$SIZE/index.rmx" ] ||
  target/release/examples/synth_corpus "$WORK/demo/data/index" "$WORK/synth-$SIZE" "$SIZE"
target/release/examples/pg_bench "$WORK/synth-$SIZE" "$URL/synth" "$QUERIES"
"$PGBIN/psql" -q -h 127.0.0.1 -p "$PORT" -U raymundo synth -At -c \
  "SELECT 'database size: ' || pg_size_pretty(pg_database_size('synth'))"
