#!/usr/bin/python3
"""The container image of scripts/image.sh, run for real without a container engine.

Builds the image from the given binary, unpacks its OCI layout with umoci, and runs the image's
own entrypoint, environment, working dir and user (from the bundle's config.json) inside the
image's root filesystem with no file from the host: `unshare --mount --pid --fork`, a fresh
/proc, a /dev of bind-mounted null/zero/random/urandom (as a runtime makes it), a fresh /data
volume, a tmpfs /tmp, the rest read-only, chroot and setgid/setuid to the image's user. Then:
  - `run --max-records 2000` stores 2000 records and dead-letters 0 (the built-in mock API);
    the bundled pipeline files in /etc/dataforge/ pass `config check`, and so does one with a
    DAG in Europe/Paris (the image's tzdata);
  - `serve` on a free loopback port answers the host: GET /health, /metrics with
    dataforge_build_info of the binary's version, the table's count and rows; it runs as the
    image's user and maps no file from outside the root filesystem;
  - `dataforge health --url ...` (the HEALTHCHECK command) exits 0 inside the image, 1 with its
    one-line reason against a closed port; over TLS (serve --tls-cert) with --ca-cert 0, with
    the image's CA bundle alone 1;
  - the image's default command, in a network namespace of its own, refuses to start without
    a user and passes the image's HEALTHCHECK command once one exists;
  - the docker archive's config has the entrypoint, user, ports, volume, healthcheck and labels.
Skipped (exit 77) when not root or when unshare is refused.

Usage: image_test.py --source-dir DIR --dataforge BIN [--work DIR] [--keep]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77
IMAGE_UID = 65532
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)


def skip(why):
    print(f"SKIP: {why}", flush=True)
    sys.exit(SKIP)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


# The launcher: runs as PID 1 of the new PID namespace, in its own mount namespace. It makes the
# root filesystem read-only and mounts /proc, /dev, a tmpfs /tmp and the /data volume on it,
# then chroots, drops to the image's user and execs the image's program. Python only sets up;
# what runs is the image's binary.
LAUNCHER = r'''
import json, os, subprocess, sys
rootfs, volume, spec_path = sys.argv[1], sys.argv[2], sys.argv[3]
spec = json.load(open(spec_path))
def sh(*a): subprocess.run(a, check=True)
sh("mount", "--make-rprivate", "/")
for d in ("proc", "dev", "data", "tmp"):
    os.makedirs(os.path.join(rootfs, d), exist_ok=True)
# The image's files read-only (docker run --read-only --tmpfs /tmp): only /data and /tmp written.
sh("mount", "--bind", rootfs, rootfs)
sh("mount", "-o", "remount,bind,ro", rootfs)
sh("mount", "-t", "proc", "-o", "nosuid,nodev,noexec", "proc", rootfs + "/proc")
sh("mount", "-t", "tmpfs", "-o", "nosuid,mode=0755,size=64k", "tmpfs", rootfs + "/dev")
for node in ("null", "zero", "random", "urandom"):
    open(f"{rootfs}/dev/{node}", "w").close()
    sh("mount", "--bind", f"/dev/{node}", f"{rootfs}/dev/{node}")
sh("mount", "--bind", volume, rootfs + "/data")
sh("mount", "-t", "tmpfs", "-o", "nosuid,nodev,mode=1777", "tmpfs", rootfs + "/tmp")
if spec["loopback_up"]:
    sh("ip", "link", "set", "lo", "up")
os.chroot(rootfs)
os.chdir(spec["cwd"])
os.setgroups(spec["additionalGids"])
os.setgid(spec["gid"])
os.setuid(spec["uid"])
env = dict(e.split("=", 1) for e in spec["env"])
os.execve(spec["args"][0], spec["args"], env)
'''


class Image:
    def __init__(self, work, rootfs, process):
        self.work = work
        self.rootfs = rootfs
        self.process = process  # config.json's process
        self.volume = os.path.join(work, "volume")
        os.makedirs(self.volume)
        os.chown(self.volume, process["user"]["uid"], process["user"]["gid"])
        self.launcher = os.path.join(work, "launcher.py")
        with open(self.launcher, "w") as f:
            f.write(LAUNCHER)
        self.n = 0

    def start(self, args, net=None, stdin=None):
        """Starts the image's entrypoint with `args` in place of the image's cmd. net: None (the
        host's network), "new" (a network namespace of its own, loopback up, as a runtime gives
        a container) or a PID whose network namespace to join."""
        user = self.process["user"]
        spec = {
            "args": [self.entrypoint] + args,
            "env": self.process["env"],
            "cwd": self.process["cwd"],
            "uid": user["uid"],
            "gid": user["gid"],
            "additionalGids": user.get("additionalGids", []),
            "loopback_up": net == "new",
        }
        self.n += 1
        spec_path = os.path.join(self.work, f"spec{self.n}.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        out = open(os.path.join(self.work, f"out{self.n}.txt"), "w+")
        err = open(os.path.join(self.work, f"err{self.n}.txt"), "w+")
        argv = ["unshare", "--mount", "--pid", "--fork", "--kill-child", "/usr/bin/python3",
                self.launcher, self.rootfs, self.volume, spec_path]
        if net == "new":
            argv.insert(1, "--net")
        elif net is not None:
            argv = ["nsenter", f"--net=/proc/{net}/ns/net", "--"] + argv
        p = subprocess.Popen(argv, stdout=out, stderr=err,
                             stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                             env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        if stdin is not None:
            p.stdin.write(stdin.encode())
            p.stdin.close()
        p.out, p.err = out, err
        return p

    def run(self, args, timeout=120, net=None, stdin=None):
        p = self.start(args, net=net, stdin=stdin)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()  # unshare --kill-child takes its child with it
            p.wait()
            failures.append(f"{args} did not finish within {timeout} s")
        p.out.seek(0)
        p.err.seek(0)
        return p.returncode, p.out.read(), p.err.read()


def read(path):
    with open(path) as f:
        return f.read()


def wait_for(pred, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def child_pid(unshare_pid):
    """The PID (in our namespace) of unshare's forked child: the image's process."""
    try:
        kids = read(f"/proc/{unshare_pid}/task/{unshare_pid}/children").split()
    except OSError:
        return None
    return int(kids[0]) if kids else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--dataforge", required=True)
    ap.add_argument("--work")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()

    if os.geteuid() != 0:
        skip("the image test needs root (buildah's vfs storage, umoci unpack, unshare, chroot)")
    if subprocess.run(["unshare", "--mount", "--pid", "--fork", "true"],
                      stderr=subprocess.DEVNULL).returncode != 0:
        skip("unshare --mount --pid --fork is refused here (no CAP_SYS_ADMIN?)")
    for tool, package in (("buildah", "buildah"), ("umoci", "umoci"), ("skopeo", "skopeo")):
        if shutil.which(tool) is None:
            print(f"FAIL: '{tool}' is missing: apt-get install {package} (scripts/setup.sh)")
            return 1

    work = a.work or tempfile.mkdtemp(prefix="dataforge-image-test-")
    os.makedirs(work, exist_ok=True)
    try:
        return run_tests(a, work)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


def run_tests(a, work):
    version = subprocess.run([a.dataforge, "--version"], capture_output=True, text=True,
                             check=True).stdout.strip().split(" ", 1)[1]
    out_dir = os.path.join(work, "image")
    t0 = time.monotonic()
    built = subprocess.run([os.path.join(a.source_dir, "scripts/image.sh"), "--binary",
                            a.dataforge, "--out", out_dir], capture_output=True, text=True)
    print(built.stdout, end="")
    if built.returncode != 0:
        print(f"FAIL: scripts/image.sh exited {built.returncode}:\n{built.stderr}")
        return 1
    print(f"image built in {time.monotonic() - t0:.0f} s", flush=True)

    healthcheck_test = check_docker_archive(a, out_dir, version)

    bundle = os.path.join(work, "bundle")
    subprocess.run(["umoci", "unpack", "--image", f"{out_dir}/oci:{version}", bundle],
                   check=True, capture_output=True)
    spec = json.load(open(os.path.join(bundle, "config.json")))
    process = spec["process"]
    oci_config = read_oci_config(out_dir, version)
    entrypoint, cmd = oci_config["config"]["Entrypoint"], oci_config["config"]["Cmd"]
    check(process["args"] == entrypoint + cmd,
          f"config.json process.args {process['args']} == Entrypoint + Cmd {entrypoint + cmd}")
    check(process["user"]["uid"] == IMAGE_UID and process["user"]["gid"] == IMAGE_UID,
          f"config.json user {process['user']} is {IMAGE_UID}:{IMAGE_UID}")
    check(process["cwd"] == "/data", f"config.json cwd {process['cwd']} == /data")
    check("DATAFORGE_DATA_DIR=/data" in process["env"], f"DATAFORGE_DATA_DIR=/data in {process['env']}")

    image = Image(work, os.path.join(bundle, "rootfs"), process)
    image.entrypoint = entrypoint[0]

    # 1. A whole pipeline run against the built-in mock API on loopback.
    rc, out, err = image.run(["run", "--max-records", "2000", "--no-progress"])
    check(rc == 0, f"run --max-records 2000 exits 0 (got {rc}; stderr: {err.strip()[-2000:]})")
    # "  stored               2000           2000": this run, data dir total
    rows = [l.split() for l in out.splitlines()]
    counts = {r[0]: r[1:3] for r in rows if len(r) >= 3 and r[1].isdigit() and r[2].isdigit()}
    for what, want in (("fetched", "2000"), ("staged", "2000"), ("stored", "2000"),
                       ("dead-lettered", "0"), ("lost", "0")):
        check(counts.get(what) == [want, want], f"run: {what} {want} {want} (summary: {out!r})")
    check("stored + dead-lettered + lost == fetched: yes" in out, "run: the balance line says yes")
    # The data dir is the volume (DATAFORGE_DATA_DIR=/data), written by the image's user.
    owners = {os.stat(os.path.join(image.volume, n)).st_uid for n in os.listdir(image.volume)}
    check(bool(owners) and owners == {IMAGE_UID},
          f"the volume holds the data dir, files owned by {IMAGE_UID} (owners {owners})")

    # The bundled pipeline files are in /etc/dataforge/ and pass `config check` in the image.
    for name in sorted(os.listdir(os.path.join(a.source_dir, "pipelines"))):
        if name.endswith(".yaml"):
            rc, out, err = image.run(["config", "check", f"/etc/dataforge/{name}"])
            check(rc == 0 and out.startswith(f"/etc/dataforge/{name}: ok ("),
                  f"config check /etc/dataforge/{name} in the image (got {rc}, {out!r}, {err!r})")

    # A DAG in Europe/Paris: config check loads the zone from the image's tzdata.
    default_yaml = read(os.path.join(a.source_dir, "pipelines/default.yaml"))
    paris = default_yaml.replace('    schedule: "@daily"\n',
                                 '    schedule: "@daily"\n    timezone: Europe/Paris\n', 1)
    check(paris != default_yaml, "pipelines/default.yaml has the DAG the time zone is added to")
    with open(os.path.join(image.volume, "paris.yaml"), "w") as f:
        f.write(paris)
    rc, out, err = image.run(["config", "check", "/data/paris.yaml"])
    check(rc == 0 and out.startswith("/data/paris.yaml: ok ("),
          f"a DAG in Europe/Paris passes config check in the image (got {rc}, {out!r}, {err!r})")

    # 2. serve on a free port, answering the host.
    port = free_port()
    server = image.start(["serve", "--http-port", str(port)])
    try:
        check_serve(image, server, port, version)
    finally:
        # SIGTERM to the image's process (PID 1 of its namespace, as under a container runtime),
        # not to unshare, which would SIGKILL it (--kill-child).
        pid = child_pid(server.pid)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    check(server.returncode == 0, f"serve exits 0 on SIGTERM (got {server.returncode})")

    # TLS in the image (libssl, OpenSSL's config, the CA bundle's path): serve with a
    # self-signed certificate from the volume; health trusts it with --ca-cert only.
    tls = os.path.join(image.volume, "tls")
    os.makedirs(tls)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    f"{tls}/key.pem", "-out", f"{tls}/cert.pem", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    for f in ("key.pem", "cert.pem"):
        os.chown(f"{tls}/{f}", IMAGE_UID, IMAGE_UID)
    port = free_port()
    server = image.start(["serve", "--http-port", str(port), "--tls-cert", "/data/tls/cert.pem",
                          "--tls-key", "/data/tls/key.pem"])
    try:
        url = f"https://127.0.0.1:{port}/health"
        up = wait_for(lambda: "serve: listening on" in read(server.out.name)
                      or server.poll() is not None, 60)
        check(up and server.poll() is None, f"serve with TLS starts ({read(server.err.name)!r})")
        rc, out, err = image.run(["health", "--url", url, "--ca-cert", "/data/tls/cert.pem"])
        check(rc == 0 and out == f"health: {url}: ok\n",
              f"health over TLS with --ca-cert: exit 0 (got {rc}, {out!r}, {err!r})")
        rc, out, err = image.run(["health", "--url", url])
        want = (f"dataforge: health: {url}: the server's certificate is not trusted (give its CA "
                "with --ca-cert FILE) or does not name the host\n")
        check(rc == 1 and err == want, f"health over TLS, system CAs: 1, {want!r} (got {rc}, {err!r})")
    finally:
        pid = child_pid(server.pid)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    # 3. The image's own command (Cmd: run, listening on 0.0.0.0:8080) in a network namespace of
    # its own, as a container gets: it refuses to start without authentication, starts once a
    # user exists, and the image's HEALTHCHECK command, exactly, passes in its namespace.
    rc, out, err = image.run(process["args"][1:], net="new")
    check(rc == 2 and "refusing to listen off loopback with authentication off" in err,
          f"the default command without a user: exit 2, refusing (got {rc}, {err.strip()!r})")
    rc, out, err = image.run(["users", "add", "admin", "--role", "admin", "--password-stdin"],
                             stdin="a-long-password\n")
    check(rc == 0 and out == "user admin added with role admin, with a password\n",
          f"users add admin (got {rc}, {out!r}, {err.strip()!r})")
    default = image.start(process["args"][1:], net="new")
    try:
        pid = wait_for(lambda: child_pid(default.pid), 10) and child_pid(default.pid)
        health = healthcheck_test[1:]
        check(health[0] == image.entrypoint, f"the HEALTHCHECK runs {image.entrypoint}: {health}")
        healthy = pid and wait_for(
            lambda: default.poll() is None and
            image.run(health[1:], net=pid, timeout=30)[0] == 0, 60)
        check(bool(healthy), "the image's HEALTHCHECK passes against its default command "
                             f"(stderr {read(default.err.name)[-2000:]!r})")
    finally:
        pid = child_pid(default.pid)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
        try:
            default.wait(60)
        except subprocess.TimeoutExpired:
            default.kill()
            default.wait()
    check(default.returncode == 0, f"the default command exits 0 on SIGTERM ({default.returncode})")

    # 4. The health command against a closed port: 1 and its one line.
    closed = free_port()
    rc, out, err = image.run(["health", "--url", f"http://127.0.0.1:{closed}/health"])
    want = f"dataforge: health: http://127.0.0.1:{closed}/health: connection refused\n"
    check(rc == 1 and err == want, f"health on a closed port: exit 1, {want!r} (got {rc}, {err!r})")

    if failures:
        print(f"image test: {len(failures)} failed check(s)")
        return 1
    print("image test: all checks passed")
    return 0


def check_serve(image, server, port, version):
    base = f"http://127.0.0.1:{port}"
    up = wait_for(lambda: "serve: listening on" in read(server.out.name)
                  or server.poll() is not None, 60)
    if not up or server.poll() is not None:
        check(False, f"serve starts (stdout {read(server.out.name)!r}, "
                     f"stderr {read(server.err.name)[-2000:]!r})")
        return
    status, body = http_get(base + "/health")
    check((status, body) == (200, '{"status":"ok"}'), f"GET /health: 200 ok (got {status} {body})")
    status, body = http_get(base + "/metrics")
    check(status == 200 and f'dataforge_build_info{{' in body and f'version="{version}"' in body,
          f"GET /metrics: dataforge_build_info with version {version} (got {status})")
    status, body = http_get(base + "/v1/tables/dataforge.created_users/count")
    check((status, body) == (200, '{"count":2000}'),
          f"GET .../count: 200 {{\"count\":2000}} (got {status} {body})")
    status, body = http_get(base + "/v1/tables/dataforge.created_users/rows?limit=3")
    rows = json.loads(body).get("rows", []) if status == 200 else []
    check(len(rows) == 3 and all(len(r.get("id", "")) == 36 for r in rows),
          f"GET .../rows?limit=3: 3 rows with ids (got {status} {body[:300]})")

    # The process is the image's user and maps nothing from outside the root filesystem.
    pid = child_pid(server.pid)
    check(pid is not None, "serve's process is found under unshare")
    if pid is not None:
        uid_line = next(l for l in read(f"/proc/{pid}/status").splitlines() if l.startswith("Uid:"))
        check(uid_line.split()[1:] == [str(IMAGE_UID)] * 4,
              f"serve runs as uid {IMAGE_UID} ({uid_line!r})")
        exe = os.readlink(f"/proc/{pid}/exe")
        check(exe == os.path.join(image.rootfs, "usr/bin/dataforge"), f"serve's exe {exe}")
        rootfs = image.rootfs + "/"
        outside = sorted({l.split(None, 5)[5] for l in read(f"/proc/{pid}/maps").splitlines()
                          if len(l.split(None, 5)) == 6 and l.split(None, 5)[5].startswith("/")
                          and not l.split(None, 5)[5].startswith(rootfs)})
        check(not outside, f"serve maps only files of the image (outside: {outside})")

    # The HEALTHCHECK's command inside the image, pointed at the server's port.
    rc, out, err = image.run(["health", "--url", base + "/health"])
    check(rc == 0 and out == f"health: {base}/health: ok\n",
          f"health inside the image: exit 0 (got {rc}, {out!r}, {err!r})")


def read_oci_config(out_dir, tag):
    blobs = os.path.join(out_dir, "oci", "blobs", "sha256")
    index = json.load(open(os.path.join(out_dir, "oci", "index.json")))
    desc = next(m for m in index["manifests"]
                if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
    manifest = json.load(open(os.path.join(blobs, desc["digest"].split(":")[1])))
    return json.load(open(os.path.join(blobs, manifest["config"]["digest"].split(":")[1])))


def check_docker_archive(a, out_dir, version):
    path = os.path.join(out_dir, f"dataforge-{version}.docker.tar")
    with tarfile.open(path) as t:
        manifest = json.load(t.extractfile("manifest.json"))
        check(len(manifest) == 1 and f"dataforge:{version}" in " ".join(manifest[0]["RepoTags"]),
              f"docker archive tagged dataforge:{version} ({manifest[0]['RepoTags']})")
        config = json.load(t.extractfile(manifest[0]["Config"]))["config"]
        layers = manifest[0]["Layers"]
        layer = tarfile.open(fileobj=t.extractfile(layers[-1]))
        members = {m.name.lstrip("./"): m for m in layer.getmembers()}
    # skopeo, a reader independent of buildah's writer, sees the same config.
    inspected = subprocess.run(["skopeo", "inspect", "--config", f"docker-archive:{path}"],
                               capture_output=True, text=True)
    check(inspected.returncode == 0, f"skopeo inspect docker-archive: {inspected.stderr.strip()}")
    if inspected.returncode == 0:
        seen = json.loads(inspected.stdout)["config"]
        check(seen.get("Labels") == config.get("Labels") and seen.get("User") == config.get("User"),
              f"skopeo sees the labels and user ({seen.get('Labels')}, {seen.get('User')})")
    head = subprocess.run(["git", "-C", a.source_dir, "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", a.source_dir, "diff", "--quiet", "HEAD", "--"]).returncode
    want_revision = head + ("-dirty" if dirty else "")
    expected = {
        "Entrypoint": ["/usr/bin/dataforge"],
        "Cmd": ["run", "--http-host", "0.0.0.0", "--http-port", "8080"],
        "User": f"{IMAGE_UID}:{IMAGE_UID}",
        "WorkingDir": "/data",
        "ExposedPorts": {"8080/tcp": {}, "9042/tcp": {}},
        "Volumes": {"/data": {}},
        "Healthcheck": {"Test": ["CMD", "/usr/bin/dataforge", "health"],
                        "Interval": 30 * 10**9, "Timeout": 5 * 10**9,
                        "StartPeriod": 30 * 10**9, "Retries": 3},
        "StopSignal": "SIGTERM",
    }
    for key, want in expected.items():
        check(config.get(key) == want, f"docker config {key} == {want} (got {config.get(key)})")
    check("DATAFORGE_DATA_DIR=/data" in config.get("Env", []), f"docker config Env {config.get('Env')}")
    labels = config.get("Labels") or {}
    for key, want in (("title", "dataforge"), ("version", version), ("revision", want_revision),
                      ("licenses", "NOASSERTION")):
        got = labels.get(f"org.opencontainers.image.{key}")
        check(got == want, f"label org.opencontainers.image.{key} == {want!r} (got {got!r})")
    for key in ("created", "source", "description"):
        check(labels.get(f"org.opencontainers.image.{key}"), f"label org.opencontainers.image.{key} set")
    check(len(layers) == 1, f"one layer (got {len(layers)})")
    for name, uid, mode in (("usr/bin/dataforge", 0, 0o755), ("data", IMAGE_UID, 0o750),
                            ("tmp", 0, 0o1777), ("etc/ssl/certs/ca-certificates.crt", 0, 0o644),
                            ("etc/dataforge/default.yaml", 0, 0o644),
                            ("usr/share/zoneinfo/Europe/Paris", 0, 0o644)):
        m = members.get(name)
        check(m is not None and m.uid == uid and (m.mode & 0o7777) == mode,
              f"layer has {name} uid {uid} mode {oct(mode)} "
              f"(got {m and (m.uid, oct(m.mode & 0o7777))})")
    return (config.get("Healthcheck") or {}).get("Test") or ["CMD", "?"]


if __name__ == "__main__":
    sys.exit(main())
