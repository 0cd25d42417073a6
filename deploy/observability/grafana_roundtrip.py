"""The dashboard through Grafana's own dashboard schema types (the
grafana-foundation-sdk package, generated from Grafana's schemas): decoded and
encoded again, every key it holds must survive. A key the schema does not know
(a typo such as `gridpos`, a field Grafana dropped) is lost and reported.
Usage: python grafana_roundtrip.py opsconductor.json"""
import json, sys
from grafana_foundation_sdk.models.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder
src = json.load(open(sys.argv[1]))
d = Dashboard.from_json(src)
back = json.loads(JSONEncoder(sort_keys=True).encode(d))
def diff(a, b, path=""):
    out = []
    if isinstance(a, dict):
        if not isinstance(b, dict):
            return [f"{path}: {type(b).__name__} after the round trip"]
        for k, v in a.items():
            if k not in b:
                if v not in (None, [], {}, ""):
                    out.append(f"{path}.{k}: dropped (not in Grafana's dashboard schema)")
            else:
                out += diff(v, b[k], f"{path}.{k}")
    elif isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return [f"{path}: list changed"]
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, f"{path}[{i}]")
    elif a != b:
        out.append(f"{path}: {a!r} became {b!r}")
    return out
problems = diff(src, back)
if problems:
    sys.exit("\n".join(problems))
print(f"{sys.argv[1]}: round trip through Grafana's dashboard schema ok", file=sys.stderr)
