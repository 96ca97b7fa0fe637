#!/usr/bin/env bash
# Webhook acknowledgement latency of `raymundo serve` under load, from a second process,
# while answers are generated; with injected retries and one crash + restart; checks that no
# reply is lost or duplicated. Usage: bash bench/server/run.sh [RATE=200] [SECONDS=10] [USERS=1000]
# (PROFILE=dev reuses the test build.)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-target/bench-server}
PROFILE=${PROFILE:-release}
mkdir -p "$WORK"
cargo build -q --profile "$PROFILE"
cargo build -q --profile "$PROFILE" -p raymundo-server --features test-support --example webhook_load
DIR=${CARGO_TARGET_DIR:-target}/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
[ -f "$WORK/demo/data/index/index.rmx" ] || "$DIR/raymundo" demo --dir "$WORK/demo" >/dev/null
"$DIR/examples/webhook_load" "$DIR/raymundo" "$WORK/demo" "$@"
