#!/usr/bin/env bash
# Runs OpsConductor on this machine: installs and starts NATS (JetStream) and
# PostgreSQL when missing, builds the binary, and starts every role with
# `opsconductor dev` (console and API on http://127.0.0.1:8080 unless
# OPSC_HTTP_ADDR says otherwise). Extra arguments go to `opsconductor dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/services.sh
. deploy/lib/console.sh

ensure_rust
ensure_nats
ensure_postgres
ensure_db_access
# The local server: TLS on loopback protects nothing and costs CPU per statement.
export OPSC_DATABASE_URL="${OPSC_DATABASE_URL:-$OPSCONDUCTOR_PG_URL/opsconductor?sslmode=disable}"

# The console first, so the binary embeds it (skipped, saying so, when
# console/dist is newer than its sources or Node.js is missing).
console_build_if_stale
say "building opsconductor (release; first build takes several minutes)"
cargo build --release --locked --bin opsconductor
exec "$CARGO_TARGET_DIR/release/opsconductor" dev --data-dir "${OPSCONDUCTOR_DEV_DATA_DIR:-$OPSCONDUCTOR_STATE_DIR/dev}" "$@"
