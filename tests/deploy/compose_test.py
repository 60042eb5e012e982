#!/usr/bin/env python3
"""deploy/compose.yaml: the compose stack, checked without a Docker engine.

Usage: compose_test.py --source-dir DIR --dataforge BIN

1. `docker-compose -f deploy/compose.yaml --env-file deploy/.env.example config` (Debian's
   docker-compose, no daemon) accepts it; with a required secret missing from the env file it
   refuses, naming the variable.
2. The resolved file's structure, exactly: the services; every service has a health check (the
   DataForge servers `dataforge health --url http://127.0.0.1:<its --http-port>/health`) or is a
   one-shot init job (restart "no"); every depends_on and its condition; the named volumes and
   who mounts them (each DataForge service its own /data); restart policies and memory limits;
   Kafka in KRaft mode: 3 brokers that are each a voter of the same quorum, one cluster id,
   replication 3 and min ISR 2, and no ZooKeeper anywhere; the pipeline file mounted read-only.
3. Prometheus: /etc/prometheus assembled from the compose file's mounts passes `promtool check
   config` (with the alert rules); its targets are exactly the DataForge servers at their
   --http-port; it logs in as the reader the init job creates, with the file its entrypoint writes.
4. Grafana: the provisioning files parse; the data source is the stack's Prometheus with a fixed
   uid; the dashboard provider's folder is where deploy/grafana/dataforge.json is mounted; the
   dashboard's DS_PROMETHEUS is a data source variable of type prometheus that every panel uses.
5. Every DataForge command line of the file (services and health checks) passes
   `dataforge config check deploy/compose/pipeline.yaml -- <command line>` with the env values of
   .env.example and the service's environment, with the exact verdict; and wrong command lines
   fail with exit 2 and the exact one-line message (--role process with the embedded log, a
   misspelt flag, no --config, --role scheduler without DAGs).
Prints one line per check and "compose: N passed, N failed".
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

results = {"passed": 0, "failed": 0}

DATAFORGE_SERVERS = ["ingest", "process-1", "process-2", "scheduler", "serve"]
INIT_JOBS = ["init-admin-user", "init-prometheus-user"]
KAFKA = ["kafka-1", "kafka-2", "kafka-3"]
SERVICES = sorted(["postgres", *KAFKA, "cassandra", *INIT_JOBS, *DATAFORGE_SERVERS, "prometheus",
                   "grafana"])
BACKENDS_READY = {
    "postgres": "service_healthy", "kafka-1": "service_healthy", "kafka-2": "service_healthy",
    "kafka-3": "service_healthy", "cassandra": "service_healthy",
    "init-prometheus-user": "service_completed_successfully"}
DEPENDS_ON = {
    "postgres": {}, "kafka-1": {}, "kafka-2": {}, "kafka-3": {}, "cassandra": {}, "prometheus": {},
    "init-admin-user": {"postgres": "service_healthy"},
    "init-prometheus-user": {"postgres": "service_healthy",
                             "init-admin-user": "service_completed_successfully"},
    **{s: BACKENDS_READY for s in DATAFORGE_SERVERS},
    "grafana": {"prometheus": "service_healthy"},
}
VOLUMES = {  # named volume -> (service, mount point)
    "postgres-data": ("postgres", "/var/lib/postgresql/data"),
    "kafka-1-data": ("kafka-1", "/var/lib/kafka/data"),
    "kafka-2-data": ("kafka-2", "/var/lib/kafka/data"),
    "kafka-3-data": ("kafka-3", "/var/lib/kafka/data"),
    "cassandra-data": ("cassandra", "/var/lib/cassandra"),
    "ingest-data": ("ingest", "/data"),
    "process-1-data": ("process-1", "/data"),
    "process-2-data": ("process-2", "/data"),
    "scheduler-data": ("scheduler", "/data"),
    "serve-data": ("serve", "/data"),
    "prometheus-data": ("prometheus", "/prometheus"),
    "grafana-data": ("grafana", "/var/lib/grafana"),
}
PIPELINE_IN_CONTAINER = "/etc/dataforge/pipeline.yaml"
VOTERS = "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))


def read_env_file(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                env[k] = v
    return env


def clean_env():
    """The test's environment without anything compose or dataforge would read from it."""
    env = {k: v for k, v in os.environ.items()
           if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    return env


def compose_config(src, env_file):
    p = subprocess.run(["docker-compose", "-f", os.path.join(src, "deploy", "compose.yaml"),
                        "--env-file", env_file, "config"],
                       capture_output=True, text=True, timeout=120, env=clean_env(), cwd=src)
    return p.returncode, p.stdout, p.stderr


def mounts(service):
    """[(source, target, read_only)] of a service in `docker-compose config`'s short syntax."""
    out = []
    for v in service.get("volumes", []):
        parts = v.split(":")
        mode = parts[2] if len(parts) > 2 else "rw"
        out.append((parts[0], parts[1], mode == "ro"))
    return out


def dataforge_port(command):
    """The --http-port of a DataForge command line."""
    return command[command.index("--http-port") + 1]


def check_compose_config(src, tmp):
    rc, out, err = compose_config(src, os.path.join(src, "deploy", ".env.example"))
    check("docker-compose config accepts deploy/compose.yaml with .env.example", rc == 0, err)
    if rc != 0:
        return None
    # A required secret missing: compose refuses and names it.
    env = read_env_file(os.path.join(src, "deploy", ".env.example"))
    for missing in ["POSTGRES_PASSWORD", "DATAFORGE_ADMIN_PASSWORD", "DATAFORGE_PROMETHEUS_PASSWORD",
                    "GRAFANA_ADMIN_PASSWORD", "KAFKA_CLUSTER_ID", "DATAFORGE_VERSION"]:
        partial = os.path.join(tmp, f"env-without-{missing}")
        with open(partial, "w") as f:
            f.writelines(f"{k}={v}\n" for k, v in env.items() if k != missing)
        rc2, _, err2 = compose_config(src, partial)
        check(f"docker-compose config refuses an env file without {missing}",
              rc2 != 0 and f"set {missing} in deploy/.env" in err2, f"rc {rc2}: {err2.strip()}")
    return yaml.safe_load(out)


def check_structure(doc, src):
    services = doc["services"]
    check("services", sorted(services) == SERVICES, f"{sorted(services)}")
    text = json.dumps(doc).lower()
    check("no zookeeper anywhere", "zookeeper" not in text)
    check("named volumes", sorted(doc.get("volumes", {})) == sorted([*VOLUMES, "init-data"]),
          f"{sorted(doc.get('volumes', {}))}")
    for volume, (service, target) in VOLUMES.items():
        users = [(name, t) for name, s in services.items() for (v, t, _) in mounts(s) if v == volume]
        check(f"volume {volume} is {service}:{target} only", users == [(service, target)], f"{users}")
    init_users = sorted(n for n, s in services.items() for (v, t, _) in mounts(s) if v == "init-data")
    check("volume init-data is the init jobs' /data", init_users == sorted(INIT_JOBS), f"{init_users}")

    for name, s in services.items():
        deps = {k: v.get("condition") for k, v in (s.get("depends_on") or {}).items()}
        check(f"{name}: depends_on", deps == DEPENDS_ON.get(name), f"{deps}")
        check(f"{name}: memory limit", "mem_limit" in s, "no mem_limit")
        hc = s.get("healthcheck", {})
        if name in INIT_JOBS:
            check(f"{name}: a one-shot job (restart no, no health check)",
                  s.get("restart") == "no" and (hc.get("disable") is True or hc.get("test") == ["NONE"]), f"{s.get('restart')} {hc}")
        else:
            check(f"{name}: restart unless-stopped", s.get("restart") == "unless-stopped",
                  f"{s.get('restart')}")
            check(f"{name}: health check", bool(hc.get("test")) and not hc.get("disable"), f"{hc}")

    dataforge = [*INIT_JOBS, *DATAFORGE_SERVERS]
    for name in dataforge:
        s = services[name]
        check(f"{name}: image dataforge:<DATAFORGE_VERSION>", s.get("image") == "dataforge:0.1.0",
              f"{s.get('image')}")
        pipeline = [(v, ro) for (v, t, ro) in mounts(s) if t == PIPELINE_IN_CONTAINER]
        check(f"{name}: the pipeline file mounted read-only",
              pipeline == [(os.path.join(src, "deploy", "compose", "pipeline.yaml"), True)],
              f"{pipeline}")
        check(f"{name}: PGPASSWORD from the env file",
              s.get("environment", {}).get("PGPASSWORD") == "change-me-postgres")
    for name in DATAFORGE_SERVERS:
        s = services[name]
        port = dataforge_port(s["command"])
        check(f"{name}: health check is dataforge health on its --http-port",
              s["healthcheck"]["test"] ==
              ["CMD", "dataforge", "health", "--url", f"http://127.0.0.1:{port}/health"],
              f"{s['healthcheck']['test']}")
    roles = {n: services[n]["command"][services[n]["command"].index("--role") + 1]
             for n in DATAFORGE_SERVERS if "--role" in services[n]["command"]}
    check("roles: one ingest, two process members, one scheduler",
          roles == {"ingest": "ingest", "process-1": "process", "process-2": "process",
                    "scheduler": "scheduler"}, f"{roles}")
    check("serve runs `serve`", "serve" in services["serve"]["command"] and
          "run" not in services["serve"]["command"], f"{services['serve']['command']}")
    check("ingest leaves the DAGs to the scheduler service",
          "--no-scheduler" in services["ingest"]["command"])
    ports = [services[n].get("ports") for n in ["serve", "prometheus", "grafana"]]
    check("published ports: serve 8080 (from DATAFORGE_HTTP_PORT), Prometheus and Grafana on loopback",
          ports == [[{"published": 8080, "target": 8080}], ["127.0.0.1:9090:9090/tcp"],
                    ["127.0.0.1:3000:3000/tcp"]], f"{ports}")
    check("nothing else publishes a port",
          sorted(n for n, s in services.items() if s.get("ports")) == ["grafana", "prometheus", "serve"])

    # Kafka: KRaft, three combined broker+controller nodes of one quorum.
    ids = set()
    for name in KAFKA:
        e = services[name]["environment"]
        node = str(e.get("KAFKA_NODE_ID"))
        ids.add(node)
        check(f"{name}: KRaft broker+controller, a voter of the quorum as node {node}",
              e.get("KAFKA_PROCESS_ROLES") == "broker,controller" and
              e.get("KAFKA_CONTROLLER_QUORUM_VOTERS") == VOTERS and f"{node}@{name}:9093" in VOTERS,
              f"{e}")
        check(f"{name}: cluster id from the env file", e.get("CLUSTER_ID") == "4L6g3nShT-eMCtK--X86sw")
        check(f"{name}: advertises its own name",
              e.get("KAFKA_ADVERTISED_LISTENERS") == f"PLAINTEXT://{name}:9092")
        check(f"{name}: replication 3, min ISR 2 (topics and internal topics)",
              [str(e.get(k)) for k in ["KAFKA_DEFAULT_REPLICATION_FACTOR", "KAFKA_MIN_INSYNC_REPLICAS",
                                        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
                                        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                                        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"]] ==
              ["3", "2", "3", "3", "2"])
    check("3 KRaft voters, node ids 1, 2, 3", ids == {"1", "2", "3"} and VOTERS.count("@") == 3)
    with open(os.path.join(src, "deploy", "compose", "pipeline.yaml")) as f:
        pipeline = yaml.safe_load(f)
    check("the pipeline's topic: replication 3 over the three brokers",
          pipeline["log"]["replication_factor"] == 3 and
          pipeline["log"]["url"] == "kafka://" + ",".join(f"{k}:9092" for k in KAFKA))


def check_prometheus(doc, tmp):
    p = doc["services"]["prometheus"]
    etc = os.path.join(tmp, "etc-prometheus")
    os.makedirs(etc)
    for source, target, ro in mounts(p):
        if target.startswith("/etc/prometheus/"):
            check(f"prometheus: {target} read-only", ro)
            shutil.copy(source, os.path.join(etc, os.path.basename(target)))
    config_path = os.path.join(etc, "prometheus.yml")
    r = subprocess.run(["promtool", "check", "config", config_path], capture_output=True,
                       text=True, timeout=120)
    check("promtool check config on the compose's /etc/prometheus (with alerts.yml)",
          r.returncode == 0 and "SUCCESS: 1 rule files found" in r.stdout + r.stderr,
          r.stdout + r.stderr)
    with open(config_path) as f:
        config = yaml.safe_load(f)
    jobs = config["scrape_configs"]
    check("one scrape job, `dataforge` (the alerts' job)", [j["job_name"] for j in jobs] == ["dataforge"])
    targets = sorted(t for sc in jobs[0]["static_configs"] for t in sc["targets"])
    expected = sorted(f"{n}:{dataforge_port(doc['services'][n]['command'])}" for n in DATAFORGE_SERVERS)
    check("Prometheus scrapes every DataForge server at its --http-port", targets == expected,
          f"{targets} != {expected}")
    auth = jobs[0].get("basic_auth", {})
    init = doc["services"]["init-prometheus-user"]["command"]
    user = init[init.index("add") + 1]
    check("Prometheus logs in as the reader the init job adds",
          auth.get("username") == user and init[init.index("--role") + 1] == "reader", f"{auth} {init}")
    entry = " ".join(p["entrypoint"])
    check("the password file is the one the entrypoint writes from the env file",
          f"> {auth.get('password_file')} " in entry and "$DATAFORGE_PROMETHEUS_PASSWORD" in entry and
          os.path.dirname(auth.get("password_file", "")) in " ".join(p.get("tmpfs", [])), entry)
    check("the password reaches Prometheus from the env file",
          p["environment"].get("DATAFORGE_PROMETHEUS_PASSWORD") == "change-me-prometheus" and
          doc["services"]["init-prometheus-user"]["environment"].get("DATAFORGE_PROMETHEUS_PASSWORD")
          == "change-me-prometheus")


def check_grafana(doc, src):
    g = doc["services"]["grafana"]
    m = {t: (s, ro) for (s, t, ro) in mounts(g)}
    ds_path = m.get("/etc/grafana/provisioning/datasources/dataforge.yaml", (None,))[0]
    db_path = m.get("/etc/grafana/provisioning/dashboards/dataforge.yaml", (None,))[0]
    check("grafana: provisioning files mounted", ds_path is not None and db_path is not None, f"{m}")
    if ds_path is None or db_path is None:
        return
    with open(ds_path) as f:
        ds = yaml.safe_load(f)
    sources = ds.get("datasources", [])
    check("grafana: one data source, the stack's Prometheus, default, fixed uid",
          len(sources) == 1 and sources[0]["type"] == "prometheus" and
          sources[0]["url"] == "http://prometheus:9090" and sources[0]["isDefault"] is True and
          sources[0]["uid"] == "prometheus", f"{sources}")
    with open(db_path) as f:
        providers = yaml.safe_load(f).get("providers", [])
    check("grafana: one file provider", len(providers) == 1 and providers[0]["type"] == "file")
    folder = providers[0]["options"]["path"]
    in_folder = [(s, t, ro) for t, (s, ro) in m.items() if os.path.dirname(t) == folder]
    check("grafana: the provider's folder holds deploy/grafana/dataforge.json (read-only)",
          in_folder == [(os.path.join(src, "deploy", "grafana", "dataforge.json"),
                         os.path.join(folder, "dataforge.json"), True)], f"{in_folder}")
    check("grafana: the home dashboard is that file",
          g["environment"].get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH") ==
          os.path.join(folder, "dataforge.json"))
    with open(os.path.join(src, "deploy", "grafana", "dataforge.json")) as f:
        dash = json.load(f)
    var = [v for v in dash["templating"]["list"] if v["name"] == "DS_PROMETHEUS"]
    check("dashboard: DS_PROMETHEUS is a data source variable of type prometheus (provisioning "
          "resolves it to the default Prometheus)",
          len(var) == 1 and var[0]["type"] == "datasource" and var[0]["query"] == sources[0]["type"],
          f"{var}")
    uids = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("datasource"), dict) and node["datasource"].get("type") == "prometheus":
                uids.add(node["datasource"].get("uid"))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(dash)
    check("dashboard: every Prometheus query uses ${DS_PROMETHEUS}", uids == {"${DS_PROMETHEUS}"},
          f"{uids}")


def config_check(binary, src, args, env, cwd):
    pipeline = os.path.join(src, "deploy", "compose", "pipeline.yaml")
    p = subprocess.run([binary, "config", "check", pipeline, "--", *args], capture_output=True,
                       text=True, timeout=60, env=env, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def check_command_lines(doc, binary, src, tmp):
    env_file = read_env_file(os.path.join(src, "deploy", ".env.example"))
    pipeline = os.path.join(src, "deploy", "compose", "pipeline.yaml")
    head = f"{pipeline}: ok (12 columns into dataforge.created_users, topic users_created with 6 partitions)\n"
    urls = ("staging postgresql://dataforge@postgres:5432/dataforge, "
            "log kafka://kafka-1:9092,kafka-2:9092,kafka-3:9092, "
            "store cassandra://cassandra:9042/dataforge")
    store = "store cassandra://cassandra:9042/dataforge"
    http = "HTTP on 0.0.0.0:8080 (authentication required)"
    expected = {
        "init-admin-user": urls,
        "init-prometheus-user": urls,
        "ingest": "staging postgresql://dataforge@postgres:5432/dataforge, "
                  f"log kafka://kafka-1:9092,kafka-2:9092,kafka-3:9092, {http}",
        "process-1": f"log kafka://kafka-1:9092,kafka-2:9092,kafka-3:9092, {store}, {http}",
        "process-2": f"log kafka://kafka-1:9092,kafka-2:9092,kafka-3:9092, {store}, {http}",
        "scheduler": f"staging postgresql://dataforge@postgres:5432/dataforge, {http}",
        "serve": f"{urls}, {http}",
    }
    usage = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30,
                           env=clean_env()).stdout
    health = any(line.split()[:1] == ["health"] for line in usage.splitlines())
    for name in [*INIT_JOBS, *DATAFORGE_SERVERS]:
        s = doc["services"][name]
        env = {**clean_env(), **env_file, **{k: str(v) for k, v in s.get("environment", {}).items()}}
        rc, out, err = config_check(binary, src, s["command"], env, tmp)
        shown = " ".join(["dataforge", *s["command"]])
        check(f"{name}: dataforge config check passes its command line",
              rc == 0 and out == head + f"{shown}: ok ({expected[name]})\n",
              f"rc {rc}\nstdout: {out}\nstderr: {err}")
        if name in DATAFORGE_SERVERS:
            test = s["healthcheck"]["test"]
            if not health:
                print(f"skip {name}: its health check command line (this dataforge has no `health` "
                      "command: the image helper's, merged separately)")
                continue
            rc, out, err = config_check(binary, src, test[1:], env, tmp)
            check(f"{name}: its health check command line passes config check",
                  rc == 0 and out == head + " ".join(test[1:]) + ": ok (does not read the pipeline file)\n",
                  f"rc {rc}\nstdout: {out}\nstderr: {err}")

    # Wrong command lines: exit 2, one line that says what and how to fix it.
    env = {**clean_env(), **env_file}
    base = ["--config", PIPELINE_IN_CONTAINER, "--data-dir", "/data"]
    wrong = [
        ("--role process with the embedded log",
         [*base, "--log", "file://log", "run", "--role", "process"],
         "--role process needs a log that several processes share, and file://log belongs to this "
         "one: set log.url (or --log) to kafka://host:port, or run without --role"),
        ("a misspelt flag (--rol)", [*base, "run", "--rol", "process"],
         "The following arguments were not expected: process --rol"),
        ("--role scheduler with --max-records", [*base, "run", "--role", "scheduler", "--max-records", "5"],
         "--role scheduler runs DAGs only: --max-records and --source-url do not apply"),
        ("no --config", ["--data-dir", "/data", "run", "--role", "ingest"],
         f"it has no --config, so it runs the built-in pipeline, not {pipeline}; add --config with "
         "the path the command sees"),
        ("a staging URL of another scheme", [*base, "--staging", "mysql://db/x", "serve"], None),
        ("--cql-port on --role ingest", [*base, "run", "--role", "ingest", "--cql-port", "9042"],
         "--cql-port: --role ingest has no store to serve"),
        ("a port out of range", [*base, "serve", "--http-port", "70000"],
         "--http-port: '70000' is not a whole number from 0 to 65535"),
    ]
    for what, args, message in wrong:
        rc, out, err = config_check(binary, src, args, env, tmp)
        shown = " ".join(["dataforge", *args])
        first = f"dataforge: command line `{shown}`: "
        ok = rc == 2 and out == "" and err.count("\n") == 1 and err.startswith(first)
        if message is not None:
            ok = ok and err == first + message + "\n"
        check(f"config check refuses {what} (exit 2, one line)", ok, f"rc {rc}\nstdout: {out}\nstderr: {err}")

    # --role scheduler with a pipeline file that has no DAGs.
    nodags = os.path.join(tmp, "nodags.yaml")
    with open(pipeline) as f:
        text = f.read()
    with open(nodags, "w") as f:
        f.write(text[:text.index("\ndags:")] + "\ndags: {}\n")
    p = subprocess.run([binary, "config", "check", nodags, "--", *base, "run", "--role", "scheduler"],
                       capture_output=True, text=True, timeout=60, env=env, cwd=tmp)
    check("config check refuses --role scheduler without DAGs",
          p.returncode == 2 and p.stderr == f"dataforge: command line `dataforge {' '.join(base)} run "
          "--role scheduler`: --role scheduler: the pipeline file declares no DAGs (add a 'dags:' section)\n",
          f"rc {p.returncode}: {p.stderr}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--dataforge", required=True)
    a = ap.parse_args()
    src = os.path.abspath(a.source_dir)
    with tempfile.TemporaryDirectory(prefix="df-compose-") as tmp:
        doc = check_compose_config(src, tmp)
        if doc is not None:
            check_structure(doc, src)
            check_prometheus(doc, tmp)
            check_grafana(doc, src)
            check_command_lines(doc, a.dataforge, src, tmp)
    print(f"compose: {results['passed']} passed, {results['failed']} failed")
    return 0 if results["failed"] == 0 and results["passed"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
