#!/usr/bin/env bash
# The console's run output benchmark (issue 16: 300,000 lines) in one
# command: starts the installation the browser journeys use
# (tests/e2e/console_browser.rs in its hold mode, through deploy/test.sh: the
# api serving console/dist, a worker, the scheduler, the notifier, the test
# sshd), runs console/bench/output.ts against it, stops the installation and
# prints the bench's JSON on stdout. Progress goes to stderr; the
# installation's log is kept when something fails. Extra arguments go to the
# bench, e.g. ./deploy/bench-console.sh --lines 50000.
#
# console/dist is what the api serves: when it is missing or older than the
# console's sources, deploy/test.sh checks and rebuilds it first (its console
# steps run); otherwise they are skipped. OPSCONDUCTOR_CONSOLE_CHECK=0|1
# decides instead. CARGO_TARGET_DIR is honoured (default as deploy/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/services.sh
. deploy/lib/console.sh

console_node_ok || die "the bench needs Node.js 20.19+ and npm"

# Whether console/dist is there and newer than everything it is built from
# (the test as console_build_if_stale in deploy/lib/console.sh), and the
# npm packages are installed.
console_dist_current() {
  [ -f console/dist/index.html ] && [ -x console/node_modules/.bin/playwright ] \
    && [ -z "$(find console/src console/public console/index.html console/package-lock.json console/vite.config.ts \
      -newer console/dist/index.html -print -quit 2>/dev/null)" ]
}
if [ -n "${OPSCONDUCTOR_CONSOLE_CHECK+set}" ]; then
  checks="OPSCONDUCTOR_CONSOLE_CHECK=$OPSCONDUCTOR_CONSOLE_CHECK"
elif console_dist_current; then
  OPSCONDUCTOR_CONSOLE_CHECK=0 checks="skipped, console/dist is current"
else
  OPSCONDUCTOR_CONSOLE_CHECK=1 checks="run, console/dist is missing or older than its sources"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/opsc-bench-console.XXXXXX")
fixture="$work/stack.json"
log="$work/installation.log"
result="$work/result.json"
stack_pid=""

# Deleting the fixture tells the held installation to stop (it checks every
# second), stop every process and end the test; deploy/test.sh then exits.
stop_stack() {
  rm -f "$fixture"
  [ -n "$stack_pid" ] || return 0
  local i rc=0
  for i in $(seq 1 180); do
    kill -0 "$stack_pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$stack_pid" 2>/dev/null; then
    say "the installation did not stop within 180 s: terminating deploy/test.sh (process group $stack_pid)"
    kill -TERM -- "-$stack_pid" 2>/dev/null || true
  fi
  wait "$stack_pid" 2>/dev/null || rc=$?
  stack_pid=""
  [ "$rc" -eq 0 ] || say "deploy/test.sh ended with status $rc; its log: $log"
  return 0
}

cleanup() {
  local rc=$?
  trap - EXIT
  stop_stack
  if [ "$rc" -eq 0 ]; then rm -rf "$work"; else say "kept $work (the installation's log, the bench's output)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting the browser journeys' installation (deploy/test.sh, hold mode; console checks: $checks); log: $log"
OPSC_CONSOLE_HOLD="$fixture" OPSCONDUCTOR_CONSOLE_CHECK="$OPSCONDUCTOR_CONSOLE_CHECK" \
  OPSCONDUCTOR_SKIP_CURRENT_NATS=1 OPSCONDUCTOR_IMAGE_CHECK=0 OPSCONDUCTOR_HELM_CHECK=0 \
  setsid ./deploy/test.sh -E 'test(/the_console_journeys/)' >"$log" 2>&1 </dev/null &
stack_pid=$!

# Up to 90 minutes: a cold build of the tests on two cores takes 20 or more.
start=$SECONDS
next_say=$((SECONDS + 60))
while [ ! -f "$fixture" ]; do
  if ! kill -0 "$stack_pid" 2>/dev/null; then
    rc=0
    wait "$stack_pid" || rc=$?
    stack_pid=""
    tail -n 40 "$log" >&2
    die "deploy/test.sh ended (status $rc) before the installation was up; its log: $log"
  fi
  if [ $((SECONDS - start)) -ge 5400 ]; then
    die "the installation is not up after 90 minutes; its log: $log"
  fi
  if [ "$SECONDS" -ge "$next_say" ]; then
    say "still starting ($((SECONDS - start)) s): $(tail -n 1 "$log" | cut -c1-120)"
    next_say=$((SECONDS + 60))
  fi
  sleep 1
done
say "installation up after $((SECONDS - start)) s; running the bench (load average: $(cut -d' ' -f1-3 /proc/loadavg))"

rc=0
(cd console && OPSC_E2E_FIXTURE="$fixture" npm run --silent bench:output -- "$@") >"$result" || rc=$?
stop_stack
if [ "$rc" -ne 0 ]; then
  cat "$result" >&2
  die "the bench failed (status $rc)"
fi
cat "$result"
