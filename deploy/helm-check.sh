#!/usr/bin/env bash
# Checks the Helm chart as CI does, with no cluster and no helm binary:
# `helm lint` and `helm template` (Helm's library through helm-python-sdk) for
# the default values and helm/opsconductor/ci/*-values.yaml, every rendered
# object validated against the Kubernetes schemas (kubernetes-validate, strict)
# or, for KEDA and Prometheus Operator resources, helm/opsconductor/ci/schemas/,
# and every helm/opsconductor/ci/bad-values/*.yaml refused by values.schema.json
# with the message it expects. The optional NATS subchart is not fetched (no
# network here), so it stays disabled. Extra arguments go to ci/check.py
# (e.g. --kube-version 1.33).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/services.sh

ensure_test_venv
say "helm chart: lint, template, validate, refuse bad values"
exec "$OPSCONDUCTOR_TEST_VENV/bin/python" helm/opsconductor/ci/check.py "$@"
