#!/usr/bin/env bash
# Checks the shipped alert rules and the dashboard's queries with promtool
# (Debian's prometheus package): `promtool check rules` on rules.yaml, the
# alerts' unit tests (rules-test.yaml), and every dashboard query, with its
# Grafana variables replaced by sample values, parsed as a recording rule;
# and the dashboard decoded and encoded again through Grafana's own schema
# types (grafana-foundation-sdk): a key the schema does not know is an error.
# That the queries name metrics the roles export is the e2e test
# tests/e2e/observability.rs.
set -euo pipefail
cd "$(dirname "$0")"
. ../lib/services.sh

promtool=$(find_bin promtool) || { apt_install prometheus; promtool=$(find_bin promtool) || die "promtool not installed"; }
"$promtool" check rules rules.yaml
"$promtool" test rules rules-test.yaml

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - opsconductor.json "$tmp/dashboard-rules.json" <<'PY'
import json, sys
board = json.load(open(sys.argv[1]))
rules = []
def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))
for p in panels(board["panels"]):
    for t in p.get("targets", []):
        expr = t["expr"]
        for var, value in (("$__rate_interval", "5m"), ("${pool}", "default"), ("$pool", "default"), ("${job}", ".*"), ("$job", ".*")):
            expr = expr.replace(var, value)
        rules.append({"record": f"dashboard:panel_{p['id']}_{t['refId']}", "expr": expr})
json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[2], "w"))
print(f"{len(rules)} dashboard queries", file=sys.stderr)
PY
"$promtool" check rules "$tmp/dashboard-rules.json"

# The dashboard through Grafana's schema types (grafana-foundation-sdk, PyPI).
venv="$OPSCONDUCTOR_STATE_DIR/grafana-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$venv"; }
"$venv/bin/python" -c 'import grafana_foundation_sdk' 2>/dev/null \
  || "$venv/bin/pip" install --quiet --disable-pip-version-check 'grafana-foundation-sdk==1769699998!10.1.0'
"$venv/bin/python" grafana_roundtrip.py opsconductor.json
say "rules, alert tests and dashboard queries ok"
