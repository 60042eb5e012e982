"""Metric names used by PromQL expressions, the names docs/metrics.md lists, and the names a
Prometheus text exposition (GET /metrics) serves. Shared by the tests of tests/deploy/.

PromQL is read with a small tokenizer, enough for the expressions of deploy/ (selectors, range
and subquery brackets, function calls, aggregations with by/without, vector matching with
on/ignoring/group_left/group_right, offset, numbers, durations, strings, Grafana variables).
Whether an expression is valid PromQL is checked by promtool, not here.
"""
import re

# Grafana's variables, replaced before promtool or the tokenizer reads a dashboard query.
GRAFANA_VARS = [
    (re.compile(r"\$__rate_interval|\$__interval|\$__range|\$\{__rate_interval\}|\$\{__interval\}"), "1m"),
    (re.compile(r"\$\{?(job|instance)(:\w+)?\}?"), ".*"),
]

KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan", "atan2"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_DURATION = re.compile(r"(?<![\w.])\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*\b")
_NUMBER = re.compile(r"(?<![\w.])(?:0x[0-9a-fA-F]+|\d*\.?\d+(?:[eE][+-]?\d+)?)")
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def substitute_grafana_vars(expr):
    for pattern, value in GRAFANA_VARS:
        expr = pattern.sub(value, expr)
    return expr


def metric_names(expr):
    """The metric names an expression selects (as written: histogram suffixes kept)."""
    text = _STRING.sub('""', substitute_grafana_vars(expr))
    text = _MATCHERS.sub(" ", text)
    text = _BRACKETS.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _DURATION.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    names = set()
    for m in _IDENT.finditer(text):
        word = m.group(0)
        rest = text[m.end():].lstrip()
        if word.lower() in KEYWORDS or rest.startswith("("):
            continue  # an operator keyword, or a function / aggregation called here
        names.add(word)
    return names


def base_name(name, histograms):
    """dataforge_x_seconds_bucket -> dataforge_x_seconds when that is a histogram."""
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in histograms:
            return name[: -len(suffix)]
    return name


def label_values_metric(query):
    """The metric of a Grafana `label_values(metric{...}, label)` variable query, else None."""
    m = re.match(r"\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)", substitute_grafana_vars(query))
    return m.group(1) if m else None


def documented_metrics(metrics_md_text):
    """{name: type} from the table of docs/metrics.md ("| `name` | type | labels | what |")."""
    out = {}
    for line in metrics_md_text.splitlines():
        m = re.match(r"^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*([a-z]+)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def documented_labels(metrics_md_text):
    """{metric: {label: set of values, or None when the page does not enumerate them}} from the
    labels column of docs/metrics.md: "`stage` = `a`, `b`; `reason` = `c`", "`dag`, `state` = `x`",
    "`code` (HTTP status ..., `error` for ...)" (values in parentheses are prose, not a list)."""
    out = {}
    for line in metrics_md_text.splitlines():
        m = re.match(r"^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|[^|]*\|([^|]*)\|", line)
        if not m:
            continue
        labels = {}
        cell, depth, i, current, in_values = m.group(2), 0, 0, None, False
        while i < len(cell):
            c = cell[i]
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif c == ";" and depth == 0:
                in_values = False
            elif c == "=" and depth == 0 and current is not None:
                in_values = True
                labels[current] = set()
            elif c == "`" and depth == 0:
                j = cell.index("`", i + 1)
                token = cell[i + 1:j]
                i = j
                if in_values:
                    labels[current].add(token)
                else:
                    current = token
                    labels.setdefault(token, None)
            i += 1
        out[m.group(1)] = labels
    return out


# Labels every series gets from Prometheus (target labels) or from the histogram format.
TARGET_LABELS = {"job", "instance", "le"}
_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^{}]*)\}")
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)\s*"((?:[^"\\]|\\.)*)"')
_GROUP_LABELS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")


def label_problems(expr, labels_of, histograms):
    """What an expression says about labels that docs/metrics.md does not: a matcher on a label
    its metric lacks, an `=` value outside the documented values, a by/without/on label that none
    of the expression's metrics has. labels_of is documented_labels()."""
    problems = []
    text = substitute_grafana_vars(expr)
    metrics = {base_name(n, histograms) for n in metric_names(expr)} & set(labels_of)
    for m in _SELECTOR.finditer(text):
        metric = base_name(m.group(1), histograms)
        if metric not in labels_of:
            continue
        for lm in _MATCHER.finditer(m.group(2)):
            label, op, value = lm.groups()
            if label in TARGET_LABELS:
                continue
            if label not in labels_of[metric]:
                problems.append(f"{metric} has no label {label}")
            elif op == "=" and labels_of[metric][label] is not None and value not in labels_of[metric][label]:
                problems.append(f"{metric}{{{label}=\"{value}\"}}: docs/metrics.md lists only "
                                f"{sorted(labels_of[metric][label])}")
    known = set(TARGET_LABELS)
    for metric in metrics:
        known |= set(labels_of[metric])
    for g in _GROUP_LABELS.finditer(text):
        for label in (x.strip() for x in g.group(1).split(",")):
            if label and label not in known:
                problems.append(f"groups by {label}, a label of none of {sorted(metrics)}")
    return problems


def exposed_families(exposition):
    """{family: set of sample names} of a Prometheus text exposition: a family is named by its
    `# TYPE` line (or, without one, by its samples)."""
    families = {}
    types = {}
    for line in exposition.splitlines():
        m = re.match(r"^#\s+TYPE\s+(\S+)\s+(\S+)", line)
        if m:
            types[m.group(1)] = m.group(2)
            families.setdefault(m.group(1), set())
            continue
        if not line or line.startswith("#"):
            continue
        sample = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)", line).group(1)
        family = sample
        for suffix in HISTOGRAM_SUFFIXES:
            if sample.endswith(suffix) and types.get(sample[: -len(suffix)]) in ("histogram", "summary"):
                family = sample[: -len(suffix)]
        families.setdefault(family, set()).add(sample)
    return families


def dashboard_queries(dashboard):
    """[(where, expr)] of every panel target (rows' nested panels too) of a dashboard."""
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if "expr" in t:
                    out.append((f'panel {p.get("id")} "{p.get("title")}" target {t.get("refId")}', t["expr"]))
            walk(p.get("panels", []))

    walk(dashboard.get("panels", []))
    return out


def dashboard_variable_metrics(dashboard):
    """[(where, metric)] of the dashboard's label_values() variables."""
    out = []
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        metric = label_values_metric(q)
        if metric:
            out.append((f'variable "{v["name"]}"', metric))
    return out


def alert_exprs(rules_doc):
    """[(where, expr)] of every rule of a Prometheus rules file (parsed YAML)."""
    out = []
    for group in rules_doc.get("groups", []):
        for i, rule in enumerate(group.get("rules", [])):
            name = rule.get("alert") or rule.get("record")
            out.append((f'rule {name} (#{i + 1} of group {group.get("name")})', rule["expr"]))
    return out


def _self_test():
    cases = {
        'sum by (stage) (rate(dataforge_records_total{job=~"$job", stage="a(b)"}[$__rate_interval]))':
            {"dataforge_records_total"},
        'histogram_quantile(0.95, sum by (le, stage) (rate(x_seconds_bucket[5m])))': {"x_seconds_bucket"},
        'a / on (job) group_left (version) b offset 1h': {"a", "b"},
        'count(up == 0) or vector(0)': {"up"},
        'max(time() - process_start_time_seconds{instance=~"$instance"})': {"process_start_time_seconds"},
        'deriv(lag[10m:1m]) > 1e3 and lag > 0x10': {"lag"},
        'sum without (instance) (rate(c_total[1h30m])) unless ignoring(x) d': {"c_total", "d"},
    }
    for expr, want in cases.items():
        got = metric_names(expr)
        assert got == want, f"metric_names({expr!r}) = {sorted(got)}, want {sorted(want)}"


_self_test()
