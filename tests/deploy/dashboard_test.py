#!/usr/bin/env python3
"""deploy/grafana/dataforge.json against Grafana's dashboard model and against itself.

Usage: dashboard_test.py --source-dir DIR

1. The dashboard validates against tests/deploy/grafana_dashboard.schema.json (a JSON Schema
   transcribed from Grafana's kinds/dashboard/dashboard_kind.cue; python3-jsonschema), and
   mutated copies that Grafana would reject are rejected by it (a panel without `type`, a
   non-integer or out-of-grid gridPos, an unknown panel key, a string schemaVersion).
2. What an import needs: the `DS_PROMETHEUS` input and a datasource variable of that name, every
   panel and target on `${DS_PROMETHEUS}`, `job` and `instance` variables, and every query
   filtered by both; panel ids unique; panels inside the 24-column grid and not overlapping.
3. Every query is valid PromQL: promtool parses each (Grafana's variables substituted) as a
   recording rule (`promtool check rules`).
Prints one line per check and "dashboard: N passed, N failed".
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile

import jsonschema
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promql_names  # noqa: E402

DS_UID = "${DS_PROMETHEUS}"
results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))


def schema_errors(validator, doc):
    return sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))


def first_panel(dash, kind="timeseries"):
    return next(p for p in dash["panels"] if p["type"] == kind)


def mutations(dash):
    """(name, mutated copy, what the schema's error must mention)."""
    out = []

    def mutate(name, fn, where):
        d = copy.deepcopy(dash)
        fn(d)
        out.append((name, d, where))

    mutate("panel without type", lambda d: first_panel(d).pop("type"), "type")
    mutate("panel with an empty type", lambda d: first_panel(d).update(type=""), "type")
    mutate("non-integer gridPos.w (6.5)", lambda d: first_panel(d)["gridPos"].update(w=6.5), "6.5")
    mutate("string gridPos.x (\"0\")", lambda d: first_panel(d)["gridPos"].update(x="0"), "'0'")
    mutate("gridPos.w over 24", lambda d: first_panel(d)["gridPos"].update(w=25), "25")
    mutate("negative gridPos.y", lambda d: first_panel(d)["gridPos"].update(y=-1), "-1")
    mutate("unknown panel key", lambda d: first_panel(d).update(datasourse={}), "datasourse")
    mutate("row without id", lambda d: first_panel(d, "row").pop("id"), "id")
    mutate("string schemaVersion", lambda d: d.update(schemaVersion="41"), "schemaVersion")
    mutate("graphTooltip 3", lambda d: d.update(graphTooltip=3), "graphTooltip")
    mutate("variable of unknown type", lambda d: d["templating"]["list"][1].update(type="sql"), "sql")
    mutate("threshold step without color",
           lambda d: first_panel(d, "stat")["fieldConfig"]["defaults"]["thresholds"]["steps"][0].pop("color"),
           "color")
    return out


def all_panels(dash):
    for p in dash["panels"]:
        yield p
        yield from p.get("panels", [])


def promtool_parses(queries):
    """Feeds every query to `promtool check rules` as a recording rule: (ok, output)."""
    rules = [{"record": f"dashboard:query_{i}", "expr": promql_names.substitute_grafana_vars(expr)}
             for i, (_, expr) in enumerate(queries)]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
        path = f.name
    try:
        p = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True,
                           timeout=60)
        return p.returncode == 0 and f"SUCCESS: {len(rules)} rules found" in p.stdout, \
            p.stdout + p.stderr
    finally:
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    with open(os.path.join(args.source_dir, "deploy/grafana/dataforge.json")) as f:
        dash = json.load(f)
    with open(os.path.join(args.source_dir, "tests/deploy/grafana_dashboard.schema.json")) as f:
        schema = json.load(f)

    # 1. Grafana's model.
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = schema_errors(validator, dash)
    check("dataforge.json validates against Grafana's dashboard schema", not errors,
          "; ".join(f"{e.json_path}: {e.message[:200]}" for e in errors[:5]))
    for name, mutated, mention in mutations(dash):
        errs = schema_errors(validator, mutated)
        text = " ".join(e.json_path + " " + str(e.message) + " " +
                        " ".join(str(c.message) for c in (e.context or [])) for e in errs)
        check(f"schema rejects a dashboard with a {name}", bool(errs) and mention in text,
              "accepted" if not errs else f"rejected for another reason: {text[:300]}")
    check("schemaVersion is a current Grafana's (>= 39)", dash.get("schemaVersion", 0) >= 39,
          str(dash.get("schemaVersion")))

    # 2. Import anywhere.
    inputs = {i["name"]: i for i in dash.get("__inputs", [])}
    check("__inputs declares DS_PROMETHEUS (a prometheus datasource)",
          inputs.get("DS_PROMETHEUS", {}).get("pluginId") == "prometheus", str(inputs))
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    check("a datasource variable DS_PROMETHEUS (provisioning without import)",
          variables.get("DS_PROMETHEUS", {}).get("type") == "datasource"
          and variables["DS_PROMETHEUS"].get("query") == "prometheus", str(variables.get("DS_PROMETHEUS")))
    for name in ("job", "instance"):
        v = variables.get(name, {})
        check(f"variable {name}: a multi-value query on ${{DS_PROMETHEUS}}",
              v.get("type") == "query" and v.get("multi") is True
              and v.get("datasource", {}).get("uid") == DS_UID, str(v))
    panels = list(all_panels(dash))
    ids = [p["id"] for p in panels]
    check("panel ids are unique", len(ids) == len(set(ids)), str(sorted(i for i in ids if ids.count(i) > 1)))
    bad_ds = [p["id"] for p in panels if p["type"] != "row" and p.get("datasource", {}).get("uid") != DS_UID]
    bad_ds += [f'{p["id"]}/{t.get("refId")}' for p in panels for t in p.get("targets", [])
               if t.get("datasource", {}).get("uid") != DS_UID]
    check("every panel and target uses ${DS_PROMETHEUS}", not bad_ds, str(bad_ds))
    queries = promql_names.dashboard_queries(dash)
    unfiltered = [w for w, e in queries if 'job=~"$job"' not in e or 'instance=~"$instance"' not in e]
    check("every query filters by $job and $instance", not unfiltered, "; ".join(unfiltered))
    no_refid = [p["id"] for p in panels for t in p.get("targets", []) if not t.get("refId")]
    check("every target has a refId", not no_refid, str(no_refid))
    cells = {}
    overlaps = []
    for p in dash["panels"]:
        g = p["gridPos"]
        if g["x"] + g["w"] > 24:
            overlaps.append(f'panel {p["id"]} ends past column 24')
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    overlaps.append(f'panels {cells[(x, y)]} and {p["id"]} overlap at ({x},{y})')
                cells[(x, y)] = p["id"]
    check("panels fit the grid without overlapping", not overlaps, "; ".join(sorted(set(overlaps))[:5]))
    titles = {p.get("title") for p in panels if p["type"] == "row"}
    want_rows = {"Overview", "Throughput", "Lag", "Latency", "Dead letters", "DAGs",
                 "Source and clients", "Serving: HTTP and CQL", "Process"}
    check("rows: " + ", ".join(sorted(want_rows)), want_rows <= titles, str(sorted(want_rows - titles)))
    e2e = [e for _, e in queries if "dataforge_end_to_end_latency_seconds_bucket" in e]
    check("end-to-end latency p50, p95 and p99",
          all(any(f"histogram_quantile({q}," in e for e in e2e) for q in ("0.5", "0.95", "0.99")), str(e2e))

    # 3. PromQL.
    ok, out = promtool_parses(queries)
    check(f"promtool parses all {len(queries)} queries", ok, out.strip()[-500:])

    print(f"dashboard: {results['passed']} passed, {results['failed']} failed")
    return 0 if results["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
