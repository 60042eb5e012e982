#!/usr/bin/env python3
"""deploy/prometheus/alerts.yml and prometheus.yml under promtool (Debian's prometheus package).

Usage: alert_rules_test.py --source-dir DIR

1. `promtool check rules deploy/prometheus/alerts.yml` and
   `promtool check config deploy/prometheus/prometheus.yml` pass.
2. `promtool test rules tests/deploy/alerts_test.yml` passes: every alert fires where it must,
   with exactly the labels and annotations expected, and stays quiet where it must not.
3. The unit tests can fail: for each alert, a copy of the rules without it, and a copy where each
   of its rules fires on every series of its metric (the bare metric name as the expression),
   must both fail `promtool test rules`. So each alert has a firing case and a non-firing one.
4. Each alert: a `severity` label (critical|warning), summary/description/runbook_url
   annotations, a runbook_url that is a heading of docs/monitoring.md; the six alerts of
   issue 16 are all there.
Prints one line per check and "alerts: N passed, N failed".
"""
import argparse
import copy
import os
import re
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promql_names  # noqa: E402

ALERTS = ["DataForgePipelineStalled", "DataForgeLagGrowing", "DataForgeRecordsLost",
          "DataForgeDeadLettersRising", "DataForgeDagRunFailed", "DataForgeBackendUnreachable"]
results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))


def promtool(*args):
    p = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def test_rules_with(rules_doc, tests_doc, tmp):
    """`promtool test rules` of tests_doc against rules_doc (both written to tmp)."""
    rules_path = os.path.join(tmp, "alerts.yml")
    tests_path = os.path.join(tmp, "alerts_test.yml")
    with open(rules_path, "w") as f:
        yaml.safe_dump(rules_doc, f, sort_keys=False)
    tests = copy.deepcopy(tests_doc)
    tests["rule_files"] = [rules_path]
    with open(tests_path, "w") as f:
        yaml.safe_dump(tests, f, sort_keys=False)
    return promtool("test", "rules", tests_path)


def headings_anchors(markdown):
    """GitHub's anchors of a page's headings."""
    out = set()
    for line in markdown.splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*$", line)
        if m:
            a = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(a)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    src = args.source_dir
    rules_path = os.path.join(src, "deploy/prometheus/alerts.yml")
    tests_path = os.path.join(src, "tests/deploy/alerts_test.yml")

    rc, out = promtool("check", "rules", rules_path)
    check("promtool check rules deploy/prometheus/alerts.yml", rc == 0, out.strip())
    rc, out = promtool("check", "config", os.path.join(src, "deploy/prometheus/prometheus.yml"))
    check("promtool check config deploy/prometheus/prometheus.yml (and its rule_files)",
          rc == 0 and "SUCCESS: 1 rule files found" in out, out.strip())
    rc, out = promtool("test", "rules", tests_path)
    check("promtool test rules tests/deploy/alerts_test.yml", rc == 0 and "SUCCESS" in out, out.strip()[-3000:])

    with open(rules_path) as f:
        rules_doc = yaml.safe_load(f)
    with open(tests_path) as f:
        tests_doc = yaml.safe_load(f)
    with open(os.path.join(src, "docs/monitoring.md")) as f:
        anchors = headings_anchors(f.read())
    rules = [r for g in rules_doc["groups"] for r in g["rules"] if "alert" in r]
    names = sorted({r["alert"] for r in rules})
    check("the six alerts of issue 16 are defined", sorted(ALERTS) == names, str(names))
    for r in rules:
        a = r.get("annotations", {})
        runbook = a.get("runbook_url", "")
        problems = []
        if r.get("labels", {}).get("severity") not in ("critical", "warning"):
            problems.append(f"severity {r.get('labels', {}).get('severity')!r}")
        for key in ("summary", "description", "runbook_url"):
            if not a.get(key):
                problems.append(f"no {key}")
        if not runbook.startswith("docs/monitoring.md#") or runbook.split("#", 1)[1] not in anchors:
            problems.append(f"runbook_url {runbook!r} is no heading of docs/monitoring.md")
        check(f"{r['alert']} ({r['expr'].strip()[:40]}...): severity, annotations, runbook", not problems,
              "; ".join(problems))
    tested = {t["alertname"] for case in tests_doc["tests"] for t in case.get("alert_rule_test", [])}
    check("alerts_test.yml tests every alert", set(ALERTS) <= tested, str(sorted(set(ALERTS) - tested)))

    with tempfile.TemporaryDirectory(prefix="df-alerts-") as tmp:
        rc, out = test_rules_with(rules_doc, tests_doc, tmp)
        check("the unit tests pass on an unchanged copy (the mutation harness works)", rc == 0, out[-1000:])
        for alert in ALERTS:
            without = copy.deepcopy(rules_doc)
            for g in without["groups"]:
                g["rules"] = [r for r in g["rules"] if r.get("alert") != alert]
            rc, out = test_rules_with(without, tests_doc, tmp)
            check(f"without {alert} the unit tests fail (it has a firing case)", rc != 0, "they pass")
            loud = copy.deepcopy(rules_doc)
            for g in loud["groups"]:
                for r in g["rules"]:
                    if r.get("alert") == alert:
                        r["expr"] = sorted(promql_names.metric_names(r["expr"]))[0]
            rc, out = test_rules_with(loud, tests_doc, tmp)
            check(f"{alert} firing on every series of its metric fails the unit tests "
                  "(it has a non-firing case)", rc != 0, "they pass")

    print(f"alerts: {results['passed']} passed, {results['failed']} failed")
    return 0 if results["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
