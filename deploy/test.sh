#!/usr/bin/env bash
# Runs the whole test suite: installs and starts NATS (JetStream) and
# PostgreSQL when missing, makes sure OpenSSH's sshd and an SMTP server are
# installed for the tests that start their own, then runs every test in
# parallel (cargo-nextest when present, else cargo test), then the end-to-end
# tests once more against a current upstream nats-server. Each test isolates
# itself with its own database and NATS prefix. Extra arguments go to the runner.
# Before any cargo build, the console (console/): Debian's chromium for its
# browser tests, `npm ci` when needed, lint, typecheck, Vitest and the build
# (deploy/lib/console.sh; OPSCONDUCTOR_CONSOLE_CHECK=0 skips the npm steps).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/services.sh
. deploy/lib/console.sh

ensure_rust
ensure_nats
ensure_postgres
ensure_db_access
ensure_sshd_binary
ensure_ssh_test_user
export OPSC_TEST_SSHD="$(find_bin sshd)"
ensure_test_venv
export OPSC_TEST_PYTHON="$OPSCONDUCTOR_TEST_VENV/bin/python"

export OPSC_TEST_DATABASE_URL="${OPSC_TEST_DATABASE_URL:-$OPSCONDUCTOR_PG_URL}"
export OPSC_TEST_NATS_URL="${OPSC_TEST_NATS_URL:-nats://127.0.0.1:4222}"
if [ -z "${OPSC_TEST_NATS_SERVER:-}" ]; then
  OPSC_TEST_NATS_SERVER=$(find_bin nats-server) || { apt_install nats-server; OPSC_TEST_NATS_SERVER=$(find_bin nats-server); }
  export OPSC_TEST_NATS_SERVER
fi

ensure_chromium
if [ "${OPSCONDUCTOR_CONSOLE_CHECK:-}" != 0 ] && ! console_node_ok; then
  die "the console's checks and browser tests need Node.js 20.19+ and npm (or OPSCONDUCTOR_CONSOLE_CHECK=0 to skip the npm steps)"
fi
console_check_and_build

run_suite() {
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast "$@"
  else
    cargo test --workspace --locked --no-fail-fast "$@"
  fi
}

say "test suite against the machine's NATS ($("$OPSC_TEST_NATS_SERVER" --version))"
run_suite "$@"

# Again, the bus-facing tests only, against a current upstream nats-server on a
# private port: the code must work with both (DESIGN.md, "NATS versions").
current="$OPSCONDUCTOR_TEST_VENV/bin/nats-server"
if [ "${OPSCONDUCTOR_SKIP_CURRENT_NATS:-}" != 1 ] && [ -x "$current" ]; then
  store=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$current" -a 127.0.0.1 -p "$port" -js -sd "$store" >"$store/nats.log" 2>&1 &
  npid=$!
  trap 'kill $npid 2>/dev/null; rm -rf "$store"' EXIT
  wait_port 127.0.0.1 "$port" "current nats-server"
  say "e2e tests against $("$current" --version) on :$port"
  OPSC_TEST_NATS_URL="nats://127.0.0.1:$port" OPSC_TEST_NATS_SERVER="$current" run_suite --test e2e "$@"
fi

# The alert rules and dashboard queries through promtool; then the container
# image: built from the release binary and run when a Docker daemon is
# reachable (it builds the release binary first when there is none, and only
# then), skipped saying why otherwise. Full runs only (no test filter), or
# OPSCONDUCTOR_IMAGE_CHECK=1; OPSCONDUCTOR_IMAGE_CHECK=0 skips it.
if [ "${OPSCONDUCTOR_IMAGE_CHECK:-}" = 1 ] || { [ $# -eq 0 ] && [ "${OPSCONDUCTOR_IMAGE_CHECK:-}" != 0 ]; }; then
  ./deploy/observability/check.sh
  ./deploy/image/check.sh
fi

# The Helm chart: lint, render, validate every object, refuse bad values (a
# few seconds). Full runs only, or OPSCONDUCTOR_HELM_CHECK=1; =0 skips it.
if [ "${OPSCONDUCTOR_HELM_CHECK:-}" = 1 ] || { [ $# -eq 0 ] && [ "${OPSCONDUCTOR_HELM_CHECK:-}" != 0 ]; }; then
  ./deploy/helm-check.sh
fi
