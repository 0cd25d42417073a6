#!/usr/bin/env bash
# Runs the whole test suite: installs and starts NATS (JetStream) and
# PostgreSQL when missing, makes sure OpenSSH's sshd and an SMTP server are
# installed for the tests that start their own, then runs every test in
# parallel (cargo-nextest when present, else cargo test). Each test isolates
# itself with its own database and NATS prefix. Extra arguments go to the runner.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/services.sh

ensure_rust
ensure_nats
ensure_postgres
ensure_db_access
ensure_sshd_binary
ensure_smtp_server

export OPSC_TEST_DATABASE_URL="${OPSC_TEST_DATABASE_URL:-$OPSCONDUCTOR_PG_URL}"
export OPSC_TEST_NATS_URL="${OPSC_TEST_NATS_URL:-nats://127.0.0.1:4222}"
if [ -z "${OPSC_TEST_NATS_SERVER:-}" ]; then
  OPSC_TEST_NATS_SERVER=$(find_bin nats-server) || { apt_install nats-server; OPSC_TEST_NATS_SERVER=$(find_bin nats-server); }
  export OPSC_TEST_NATS_SERVER
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast "$@"
else
  say "cargo-nextest not found; using cargo test"
  cargo test --workspace --locked --no-fail-fast "$@"
fi
