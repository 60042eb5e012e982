#!/usr/bin/env python3
"""deploy/systemd: both units pass `systemd-analyze verify`, rate <= 1.5 in `systemd-analyze
security --offline`, carry the hardening the docs promise, and their ExecStart runs: the
whole-pipeline unit's command line as an unprivileged user with the specifiers expanded, the
role template's example command lines through `dataforge config check FILE -- ARGS`.

Exit 0 pass, 1 fail, 77 skip (no systemd-analyze)."""
import argparse
import os
import pathlib
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile

MAX_EXPOSURE = 1.5
FAILURES = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        FAILURES.append(what)


def unit_settings(text):
    """[Service] key -> list of values, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", text)
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault((section, key), []).append(value)
    return out


def exposure(unit_path):
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit_path)],
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
    return float(m.group(1)) if m else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--dataforge", required=True)
    args = ap.parse_args()
    if shutil.which("systemd-analyze") is None:
        print("SKIP: systemd-analyze is not installed (Debian package systemd)")
        return 77
    src = pathlib.Path(args.source_dir)
    binary = str(pathlib.Path(args.dataforge).resolve())
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="df-systemd-"))
    os.chmod(tmp, 0o755)
    try:
        units = {"dataforge.service": None, "dataforge@.service": "ingest"}
        for name, instance in units.items():
            text = (src / "deploy/systemd" / name).read_text()
            check("/usr/local/bin/dataforge" in text, f"{name}: ExecStart runs /usr/local/bin/dataforge")
            local = tmp / name
            local.write_text(text.replace("/usr/local/bin/dataforge", binary))
            target = local if instance is None else tmp / name.replace("@", "@" + instance)
            r = subprocess.run(["systemd-analyze", "verify", str(target)],
                               capture_output=True, text=True)
            check(r.returncode == 0 and r.stderr.strip() == "",
                  f"{name}: systemd-analyze verify is clean (rc {r.returncode}: {r.stderr.strip()!r})")
            score = exposure(local)
            check(score is not None and score <= MAX_EXPOSURE,
                  f"{name}: systemd-analyze security exposure {score} <= {MAX_EXPOSURE}")
            s = unit_settings(text)
            for key, want in [("DynamicUser", "yes"), ("ProtectSystem", "strict"),
                              ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                              ("NoNewPrivileges", "yes"), ("CapabilityBoundingSet", ""),
                              ("MemoryDenyWriteExecute", "yes"), ("RestartPreventExitStatus", "2"),
                              ("StateDirectory", "dataforge" if instance is None else "dataforge/%i")]:
                check(s.get(("Service", key)) == [want], f"{name}: {key}={want}")
            # The threshold bites: the same unit without its hardening rates far worse.
            bare = "\n".join(l for l in text.replace("/usr/local/bin/dataforge", binary).splitlines()
                             if not re.match(r"(Protect|Private|Restrict|SystemCall|Capability|"
                                             r"NoNewPrivileges|MemoryDeny|LockPersonality|"
                                             r"DevicePolicy|ProcSubset|DynamicUser)", l))
            (tmp / ("bare-" + name)).write_text(bare)
            bare_score = exposure(tmp / ("bare-" + name))
            check(bare_score is not None and bare_score > 5.0,
                  f"{name}: without its hardening it rates {bare_score} (> 5.0), so the check bites")

        # dataforge.service's ExecStart, specifiers expanded (%E=/etc, %S=/var/lib), as nobody
        # with a state directory it owns; only the HTTP port is swapped for a free one.
        s = unit_settings((src / "deploy/systemd/dataforge.service").read_text())
        argv = shlex.split(s[("Service", "ExecStart")][0])
        etc, state = tmp / "etc", tmp / "var/lib"
        (etc / "dataforge").mkdir(parents=True)
        shutil.copy(src / "pipelines/default.yaml", etc / "dataforge/pipeline.yaml")
        (state / "dataforge").mkdir(parents=True)
        os.chmod(state, 0o755)
        port = str(free_port())
        argv = [binary if a == "/usr/local/bin/dataforge" else
                a.replace("%E", str(etc)).replace("%S", str(state)) for a in argv]
        argv = [port if a == "8080" else a for a in argv]
        check("8080" not in argv and port in argv, "dataforge.service: ExecStart serves HTTP on 8080")
        if os.geteuid() == 0 and shutil.which("setpriv"):
            os.chown(state / "dataforge", 65534, 65534)
            os.chmod(tmp, 0o755)
            r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                "--"] + argv + ["--max-records", "300"],
                               cwd=state / "dataforge", capture_output=True, text=True, timeout=120)
            stored = re.search(r"^\s*stored\s+(\d+)", r.stdout, re.M)
            check(r.returncode == 0 and stored and stored.group(1) == "300",
                  f"dataforge.service: ExecStart as uid 65534 stored 300 of 300 "
                  f"(rc {r.returncode}, {r.stderr.strip()[-300:]!r})")
            owners = {p.stat().st_uid for p in (state / "dataforge").rglob("*")}
            check(owners == {65534}, f"dataforge.service: every file of the data dir belongs to "
                                     f"the service user ({owners})")
        else:
            print("skip the ExecStart run: needs root and setpriv to switch to an unprivileged user")

        # Both units' command lines, as systemd will run them (dataforge@.service's with each
        # example's DATAFORGE_ARGS), through `dataforge config check FILE -- ARGS`.
        template = unit_settings((src / "deploy/systemd/dataforge@.service").read_text())
        lines = {"dataforge.service": shlex.split(s[("Service", "ExecStart")][0])}
        for example in ["ingest.env.example", "process.env.example"]:
            env = {}
            for line in (src / "deploy/systemd" / example).read_text().splitlines():
                if line and not line.startswith("#"):
                    k, _, v = line.partition("=")
                    env[k] = v
            instance = example.split(".")[0]
            words = []
            for w in shlex.split(template[("Service", "ExecStart")][0]):
                words += shlex.split(env["DATAFORGE_ARGS"]) if w == "$DATAFORGE_ARGS" else [w]
            lines[f"dataforge@{instance}.service"] = [w.replace("%i", instance) for w in words]
        for name, words in lines.items():
            words = [w.replace("%E", "/etc").replace("%S", "/var/lib") for w in words]
            check(words[0] == "/usr/local/bin/dataforge" and "--role" in words
                  if "@" in name else words[0] == "/usr/local/bin/dataforge",
                  f"{name}: command line {' '.join(words[1:])}")
            r = subprocess.run([binary, "config", "check", str(etc / "dataforge/pipeline.yaml"),
                                "--"] + words[1:], capture_output=True, text=True, timeout=60)
            last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
            check(r.returncode == 0 and last.startswith("dataforge --config /etc/dataforge/pipeline.yaml")
                  and ": ok (" in last,
                  f"{name}: `config check FILE -- ARGS` exits 0 "
                  f"({r.stdout.strip()} {r.stderr.strip()})")
        # ... and it would catch a wrong one: the ingest role over the embedded log.
        r = subprocess.run([binary, "config", "check", str(etc / "dataforge/pipeline.yaml"), "--",
                            "--config", "/etc/dataforge/pipeline.yaml", "run", "--role", "ingest"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 2 and "--role ingest needs a log" in r.stderr,
              f"a role over the embedded log is refused with exit 2 ({r.returncode}: {r.stderr.strip()})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(FAILURES)} failed" if FAILURES else "all passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
