#!/usr/bin/env bash
# Smoke test of the README's run command: starts deploy/quickstart.sh with a
# throwaway database, prefix, port and data directory, waits for /readyz,
# stops it with SIGTERM and expects exit 0. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/services.sh

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tag="smoke$(date +%s)$$"
data=$(mktemp -d)
log="$data/quickstart.log"
ensure_postgres; ensure_db_access
export OPSC_DATABASE_URL="$OPSCONDUCTOR_PG_URL/opsc_$tag" OPSC_NATS_PREFIX="$tag" \
  OPSC_HTTP_ADDR="127.0.0.1:$port" OPSCONDUCTOR_DEV_DATA_DIR="$data/dev" \
  OPSC_NATS_STREAM_MAX_BYTES=8388608

cleanup() {
  psql "$OPSCONDUCTOR_PG_URL/postgres" -qc "DROP DATABASE IF EXISTS \"opsc_$tag\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$data"
}
trap cleanup EXIT

# Built first, so the readiness wait below measures the start, not a cold
# release build (which takes longer than that wait on 2 cores).
say "building opsconductor (release) for the smoke test"
ensure_rust
cargo build --release --locked --bin opsconductor
./deploy/quickstart.sh >"$log" 2>&1 &
pid=$!
# The build may take minutes on a cold cache; readiness after it, seconds.
for _ in $(seq 1 1800); do
  if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then break; fi
  kill -0 "$pid" 2>/dev/null || { cat "$log"; die "quickstart exited before it was ready"; }
  sleep 0.5
done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$log"; die "quickstart never became ready"; }
grep -q "generated password" "$log" || { cat "$log"; die "no bootstrap admin password was printed"; }
kill -TERM "$pid"
wait "$pid" && code=0 || code=$?
[ "$code" -eq 0 ] || { cat "$log"; die "quickstart exited $code after SIGTERM"; }
echo "quickstart smoke: ready on :$port, admin created, drained with exit 0"
