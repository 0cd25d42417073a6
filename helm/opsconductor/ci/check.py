"""Checks the chart the way CI does (run by deploy/helm-check.sh).

1. `helm lint` (Helm's own library, through helm-python-sdk) for the default
   values and every ci/*-values.yaml;
2. `helm template` for the same, every rendered object validated: Kubernetes
   kinds with kubernetes-validate (strict: an unknown field fails) for one
   current Kubernetes version, the custom resources (KEDA ScaledObject,
   ServiceMonitor, PrometheusRule) with the JSON Schemas in ci/schemas/;
3. the chart's own promises on what it rendered (probes, limits, security
   context, grace period longer than the drain, a PDB per Deployment, no
   secret in a ConfigMap, the migration hook);
4. every ci/bad-values/*.yaml must be refused, with the message its
   `# expect:` line names.

Exits non-zero on the first kind of failure it finds, after printing all.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate import utils as kv_utils

CHART = pathlib.Path(__file__).resolve().parent.parent
CI = CHART / "ci"
RELEASE, NAMESPACE = "opsc", "opsconductor"
# Lint warnings that are expected here: CI has no network to fetch the
# optional NATS chart, which stays disabled.
EXPECTED_WARNINGS = ("chart directory is missing these dependencies: nats",)
CRD_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject-keda-v1alpha1.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-monitoring-v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule-monitoring-v1.json",
}
SECRET_MARKERS = ("master_key", "seal_key", "postgres://", "postgresql://", "password =")


class Report:
    """Collects failures and figures."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.lines: list[str] = []

    def fail(self, what: str) -> None:
        self.failures.append(what)
        print(f"FAIL {what}", flush=True)

    def note(self, what: str) -> None:
        self.lines.append(what)
        print(f"  ok {what}", flush=True)


def load_values(path: pathlib.Path | None) -> dict | None:
    if path is None:
        return None
    return yaml.safe_load(path.read_text()) or {}


def lint(report: Report, label: str, values: dict | None, kube_version: str) -> None:
    result = helm.lint(str(CHART), values, kube_version=f"v{kube_version}")
    problems = []
    for m in result.get("messages", []):
        if m["severity"] >= 3 or (
            m["severity"] == 2 and not any(w in m["error"] for w in EXPECTED_WARNINGS)
        ):
            problems.append(f"{m['path']}: {m['error']}")
    problems += result.get("errors") or []
    if problems:
        for p in problems:
            report.fail(f"lint {label}: {p}")
    else:
        warned = sum(1 for m in result.get("messages", []) if m["severity"] == 2)
        report.note(f"lint {label} ({warned} expected warning(s): optional NATS chart not fetched)")


def render(values: dict | None) -> list[tuple[str, dict]]:
    with helm.Chart.load(str(CHART)) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects = []
    for template, text in sorted(manifests.items()):
        if template.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                objects.append((template, doc))
    return objects


def crd_validator(api_version: str, kind: str) -> jsonschema.Draft7Validator | None:
    name = CRD_SCHEMAS.get((api_version, kind))
    if name is None:
        return None
    schema = json.loads((CI / "schemas" / name).read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def validate(report: Report, label: str, objects, kube_version: str) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for template, obj in objects:
        kind, api = obj.get("kind", "?"), obj.get("apiVersion", "?")
        name = f"{label}: {template}: {kind}/{obj.get('metadata', {}).get('name')}"
        kinds[kind] = kinds.get(kind, 0) + 1
        validator = crd_validator(api, kind)
        if validator is not None:
            errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
            for e in errors:
                report.fail(f"{name}: {'.'.join(map(str, e.path))}: {e.message}")
            continue
        try:
            kubernetes_validate.validate(obj, kube_version, strict=True)
        except kv_utils.ValidationError as e:
            report.fail(f"{name}: {'.'.join(map(str, e.path))}: {e.message}")
        except kv_utils.SchemaNotFoundError as e:
            report.fail(f"{name}: no schema: {e.message}")
    return kinds


def promises(report: Report, label: str, objects) -> None:
    """What the chart promises of every role, checked on what it rendered."""
    by_kind: dict[str, list[dict]] = {}
    for _, obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    config = next(
        (c for c in by_kind.get("ConfigMap", []) if "config.toml" in c.get("data", {})), None
    )
    drain = 30
    if config is not None:
        for line in config["data"]["config.toml"].splitlines():
            if line.strip().startswith("drain_timeout_secs"):
                drain = int(float(line.split("=")[1]))
    for cm in by_kind.get("ConfigMap", []):
        for key, text in cm.get("data", {}).items():
            if key.endswith(".json"):
                continue
            for marker in SECRET_MARKERS:
                if marker in text:
                    report.fail(f"{label}: ConfigMap {cm['metadata']['name']} holds {marker!r}")
    pdb_selectors = [p["spec"]["selector"]["matchLabels"] for p in by_kind.get("PodDisruptionBudget", [])]
    for d in by_kind.get("Deployment", []):
        name = f"{label}: Deployment {d['metadata']['name']}"
        pod = d["spec"]["template"]["spec"]
        labels = d["spec"]["template"]["metadata"]["labels"]
        if not any(all(labels.get(k) == v for k, v in sel.items()) for sel in pdb_selectors):
            report.fail(f"{name}: no PodDisruptionBudget selects it")
        if pod.get("terminationGracePeriodSeconds", 30) <= drain:
            report.fail(f"{name}: grace period not longer than the drain ({drain}s)")
        if pod.get("automountServiceAccountToken") is not False:
            report.fail(f"{name}: mounts a service account token")
        psc = pod.get("securityContext", {})
        if not psc.get("runAsNonRoot") or psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            report.fail(f"{name}: pod security context is not non-root + RuntimeDefault")
        for c in pod["containers"]:
            sc = c.get("securityContext", {})
            if not (
                sc.get("readOnlyRootFilesystem")
                and sc.get("allowPrivilegeEscalation") is False
                and sc.get("capabilities", {}).get("drop") == ["ALL"]
            ):
                report.fail(f"{name}: container {c['name']} security context too open")
            live, ready = c.get("livenessProbe", {}), c.get("readinessProbe", {})
            if live.get("httpGet", {}).get("path") != "/healthz":
                report.fail(f"{name}: liveness is not /healthz")
            if ready.get("httpGet", {}).get("path") != "/readyz":
                report.fail(f"{name}: readiness is not /readyz")
            res = c.get("resources", {})
            if not (res.get("requests") and res.get("limits")):
                report.fail(f"{name}: container {c['name']} lacks requests or limits")
            for env in c.get("env", []):
                if env["name"] in (
                    "OPSC_MASTER_KEY", "OPSC_DATABASE_URL", "OPSC_WORKER_SEAL_KEY", "OPSC_NOTIFIER_SEAL_KEY",
                    "OPSC_RETIRED_MASTER_KEYS", "OPSC_BOOTSTRAP_ADMIN_PASSWORD",
                ) and "secretKeyRef" not in env.get("valueFrom", {}):
                    report.fail(f"{name}: {env['name']} is not read from a Secret")
        if labels.get("app.kubernetes.io/component") == "worker":
            env = {e["name"] for e in pod["containers"][0].get("env", [])}
            if "OPSC_MASTER_KEY" in env or "OPSC_DATABASE_URL" in env:
                report.fail(f"{name}: a worker gets the master key or the database")
    for job in by_kind.get("Job", []):
        hooks = job["metadata"].get("annotations", {}).get("helm.sh/hook", "")
        if "pre-install" not in hooks or "pre-upgrade" not in hooks:
            report.fail(f"{label}: Job {job['metadata']['name']} is not a pre-install,pre-upgrade hook")
    scaled = {o["spec"]["scaleTargetRef"]["name"] for o in by_kind.get("ScaledObject", [])}
    hpas = {o["spec"]["scaleTargetRef"]["name"] for o in by_kind.get("HorizontalPodAutoscaler", [])}
    for both in scaled & hpas:
        report.fail(f"{label}: {both} has both a ScaledObject and an HPA")
    for d in by_kind.get("Deployment", []):
        if d["metadata"]["name"] in scaled | hpas and "replicas" in d["spec"]:
            report.fail(f"{label}: Deployment {d['metadata']['name']} sets replicas under an autoscaler")


def opsconductor_binary() -> pathlib.Path | None:
    explicit = os.environ.get("OPSC_BIN")
    if explicit:
        return pathlib.Path(explicit)
    target = os.environ.get("CARGO_TARGET_DIR", str(CHART.parent.parent / "target"))
    for profile in ("debug", "release"):
        candidate = pathlib.Path(target) / profile / "opsconductor"
        if candidate.is_file():
            return candidate
    return None


def settings_load(report: Report, label: str, objects, binary: pathlib.Path) -> None:
    """Each container's configuration, as the chart gives it, read by the real binary.

    The rendered config.toml plus the container's OPSC_* environment (secret
    references and files replaced by test keys) must load into the typed
    settings: `keys seal-key` loads them all (an unknown key or variable, or
    a value of the wrong type, fails) and needs nothing but a master key.
    """
    config = next(
        (c["data"]["config.toml"] for _, c in objects if c["kind"] == "ConfigMap" and "config.toml" in c.get("data", {})),
        None,
    )
    if config is None:
        report.fail(f"{label}: no config.toml rendered")
        return
    key = base64.b64encode(bytes(range(32))).decode()
    with tempfile.TemporaryDirectory() as tmp:
        toml = pathlib.Path(tmp, "config.toml")
        toml.write_text(config)
        keyfile = pathlib.Path(tmp, "key")
        keyfile.write_text(key + "\n")
        keyfile.chmod(0o600)
        checked = 0
        for _, obj in objects:
            if obj["kind"] not in ("Deployment", "Job"):
                continue
            for c in obj["spec"]["template"]["spec"]["containers"]:
                env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OPSC_CONFIG": str(toml)}
                for e in c.get("env", []):
                    name = e["name"]
                    if name == "OPSC_CONFIG":
                        continue
                    if "valueFrom" in e:
                        env[name] = "postgres://opsc@db.invalid/opsc" if name == "OPSC_DATABASE_URL" else key
                    elif name.endswith("_FILE"):
                        env[name] = str(keyfile)
                    else:
                        env[name] = e.get("value", "")
                if "OPSC_MASTER_KEY_FILE" not in env:
                    env["OPSC_MASTER_KEY"] = key
                run = subprocess.run(
                    [str(binary), "keys", "seal-key", "--pool", "default"],
                    env=env, capture_output=True, text=True, timeout=60,
                )
                if run.returncode != 0:
                    why = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
                    report.fail(f"{label}: {obj['kind']} {obj['metadata']['name']}: the binary refuses its settings: {why}")
                checked += 1
    report.note(f"settings {label}: config.toml and the environment of {checked} container(s) load in {binary.name}")


def refused(report: Report, path: pathlib.Path) -> None:
    text = path.read_text()
    expect = next(
        (l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("# expect:")), None
    )
    if not expect:
        report.fail(f"bad-values/{path.name}: no '# expect:' line")
        return
    try:
        render(yaml.safe_load(text) or {})
    except (helm.HelmValuesError, helm.HelmRenderError) as e:
        message = str(e)
        if expect in message:
            # The innermost "- at" line names the key; the outer ones say "allOf failed".
            at = [l.strip() for l in message.splitlines() if l.strip().startswith("- at")]
            first = at[-1] if at else message.splitlines()[0]
            report.note(f"bad-values/{path.name} refused: {first}")
        else:
            report.fail(f"bad-values/{path.name} refused, but not with {expect!r}: {message}")
        return
    report.fail(f"bad-values/{path.name} rendered: the schema let it through")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kube-version", default=kv_utils.latest_version(),
                        help="Kubernetes version to validate against (default: the newest kubernetes-validate has)")
    args = parser.parse_args()
    kube = args.kube_version.lstrip("v")
    report = Report()
    started = time.monotonic()
    print(f"helm {helm.helm_sdk_version()} (helm-python-sdk {helm.__version__}), "
          f"kubernetes-validate {kubernetes_validate.__version__}, Kubernetes {kube}")
    cases = [("default", None)] + [
        (p.name, p) for p in sorted(CI.glob("*-values.yaml"))
    ]
    timings = {}
    binary = opsconductor_binary()
    if binary is None:
        print("  -- settings: skipped, no opsconductor binary (build it, or set OPSC_BIN)")
    for label, path in cases:
        t = time.monotonic()
        values = load_values(path)
        lint(report, label, values, kube)
        try:
            objects = render(values)
        except helm.HelmError as e:
            report.fail(f"template {label}: {e}")
            continue
        kinds = validate(report, label, objects, kube)
        promises(report, label, objects)
        if binary is not None:
            settings_load(report, label, objects, binary)
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        report.note(f"template {label}: {len(objects)} objects validated ({summary})")
        timings[label] = time.monotonic() - t
    t = time.monotonic()
    bad = sorted((CI / "bad-values").glob("*.yaml"))
    for path in bad:
        refused(report, path)
    timings["bad-values"] = time.monotonic() - t
    total = time.monotonic() - started
    print()
    print("helm check: " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()) + f"; total {total:.2f}s")
    # Not the "N passed, N failed" shape: the test suite's own closing line stays the last such.
    verdict = "ok" if not report.failures else "FAILED"
    print(f"helm check {verdict}: {len(report.lines)} checks good, {len(report.failures)} failures")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
