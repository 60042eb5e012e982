#!/usr/bin/env bash
# Builds the DataForge container image without a Docker daemon (docs/deploy.md, "The container
# image"): buildah with vfs storage and chroot isolation, `from scratch`, holding the stripped
# release binary and exactly what it needs at run time: the shared libraries of its ELF closure
# and the dynamic loader, CA certificates, OpenSSL's config, tzdata, /etc/passwd, group,
# nsswitch.conf and hosts, the bundled pipeline files in /etc/dataforge/, a /data volume owned
# by the non-root user dataforge (65532) and /tmp.
#
# Outputs, in --out DIR (default build/image/):
#   oci/                          an OCI image layout, tag VERSION (oci:DIR/oci:VERSION)
#   dataforge-VERSION.docker.tar  a `docker load`-able archive, dataforge:VERSION
#   summary.txt                   what is printed at the end: sizes, layers, files, digests
# The image is built in the docker format so that HEALTHCHECK survives (the OCI image config
# has no healthcheck field; the OCI layout drops it, buildah warns).
#
# Reproducible: every file and the image's created time are SOURCE_DATE_EPOCH (default: the
# commit time of HEAD), so the same binary and sources give the same layer and config digests.
#
# Usage: scripts/image.sh [--binary PATH] [--out DIR] [--tag TAG]
# Needs root (buildah's vfs storage sets file owners), buildah, binutils (strip, readelf),
# libc-bin (ldd), ca-certificates and tzdata; scripts/setup.sh installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}
die() {
  echo "image.sh: $*" >&2
  exit 1
}

binary=""
out=build/image
tag=""
while (($#)); do
  case $1 in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --tag) tag=${2:?--tag needs a tag}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "image.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

[[ $(id -u) == 0 ]] || die "needs root: buildah's vfs storage writes files owned by the image's user (run it with sudo)"
for tool in buildah:buildah strip:binutils readelf:binutils ldd:libc-bin gzip:gzip sha256sum:coreutils; do
  command -v "${tool%%:*}" >/dev/null || die "'${tool%%:*}' is missing: apt-get install ${tool#*:} (or scripts/setup.sh)"
done
for file in /etc/ssl/certs/ca-certificates.crt:ca-certificates /usr/share/zoneinfo/UTC:tzdata \
  /etc/ssl/openssl.cnf:openssl; do
  [[ -e ${file%%:*} ]] || die "${file%%:*} is missing: apt-get install ${file#*:}"
done

if [[ -z $binary ]]; then
  echo "image.sh: building the release binary (scripts/setup.sh dataforge)"
  scripts/setup.sh dataforge
  binary=build/src/dataforge
fi
[[ -x $binary ]] || die "--binary $binary: not an executable file"
binary=$(readlink -f "$binary")

version_line=$("$binary" --version) || die "$binary --version failed"
version=${version_line#dataforge }
[[ $version =~ ^[0-9A-Za-z.+-]+$ ]] || die "$binary --version printed '$version_line', not 'dataforge VERSION'"
tag=${tag:-$version}
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [[ $revision != unknown ]] && ! git diff --quiet HEAD -- 2>/dev/null; then revision+="-dirty"; fi
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
source_url=$(git remote get-url origin 2>/dev/null || echo NOASSERTION)
licenses=NOASSERTION  # the repository has no LICENSE file yet

mkdir -p "$out"
out=$(readlink -f "$out")
work=$(mktemp -d "$out/.work.XXXXXX")
bah=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
export BUILDAH_ISOLATION=chroot
ctr=""
cleanup() {
  if [[ -n $ctr ]]; then "${bah[@]}" rm "$ctr" >/dev/null 2>&1 || true; fi
  "${bah[@]}" rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
start=$SECONDS

# --- The root filesystem --------------------------------------------------------------------
root=$work/rootfs
multiarch=x86_64-linux-gnu
libdir=usr/lib/$multiarch
mkdir -p "$root"/{etc/dataforge,etc/ssl/certs,usr/bin,$libdir,usr/lib64,usr/lib/ssl,usr/share,data,tmp}
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
ln -s usr/bin "$root/bin"
strip -o "$root/usr/bin/dataforge" "$binary"
chmod 0755 "$root/usr/bin/dataforge"

# The shared libraries: ldd gives the whole closure resolved as the loader resolves it; each is
# copied (symlinks followed) under its soname into /usr/lib/x86_64-linux-gnu. The loader is the
# binary's PT_INTERP, /lib64/ld-linux-x86-64.so.2.
interp=$(readelf -l "$binary" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p')
[[ $interp == /lib64/ld-linux-x86-64.so.2 ]] || die "unexpected program interpreter '$interp' (x86-64 glibc only)"
ldd_out=$(ldd "$binary") || die "ldd $binary failed"
if grep -q 'not found' <<<"$ldd_out"; then die "ldd: $(grep 'not found' <<<"$ldd_out" | head -n 1)"; fi
while read -r soname path; do
  cp -L "$path" "$root/$libdir/$soname"
done < <(awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' <<<"$ldd_out")
cp -L "$interp" "$root/$libdir/ld-linux-x86-64.so.2"
ln -s ../lib/$multiarch/ld-linux-x86-64.so.2 "$root/usr/lib64/ld-linux-x86-64.so.2"
# Every DT_NEEDED of every ELF file in the image must be in it (ldd and the ELF agree).
for elf in "$root/usr/bin/dataforge" "$root/$libdir"/*; do
  for needed in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    [[ -e $root/$libdir/$needed ]] || die "${elf#"$root"} needs $needed, which ldd did not list"
  done
done
# Nothing is loaded at run time that ldd cannot see, for what DataForge does (checked with
# strace -f -e trace=openat on run, serve with a scrape of /metrics, and health over https; see
# docs/deploy.md): glibc 2.36 has
# nss_files and nss_dns inside libc.so.6 (no libnss_*.so for "files dns"), no gconv module is
# opened (C locale), OpenSSL 3's default provider is inside libcrypto (no ossl-modules/), and
# librdkafka's SASL PLAIN/SCRAM are its own (cyrus-sasl's plugins in sasl2/ are only for
# sasl.mechanisms=GSSAPI, which this image does not support).

# Data files: CA certificates where OpenSSL (OPENSSLDIR /usr/lib/ssl), libcurl and librdkafka
# look, OpenSSL's config, the time zones (DAG schedules), the bundled pipelines.
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
cp -L /etc/ssl/openssl.cnf "$root/etc/ssl/openssl.cnf"
ln -s /etc/ssl/certs/ca-certificates.crt "$root/usr/lib/ssl/cert.pem"
ln -s /etc/ssl/certs "$root/usr/lib/ssl/certs"
ln -s /etc/ssl/openssl.cnf "$root/usr/lib/ssl/openssl.cnf"
cp -a /usr/share/zoneinfo "$root/usr/share/zoneinfo"
rm -f "$root/usr/share/zoneinfo/localtime"  # a link to the host's /etc/localtime: the image is UTC
cp -r "$repo/pipelines/." "$root/etc/dataforge/"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
dataforge:x:65532:65532:DataForge:/data:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
dataforge:x:65532:
nogroup:x:65534:
EOF
cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
services: files
EOF
# Container runtimes mount their own /etc/hosts and /etc/resolv.conf over these.
cat >"$root/etc/hosts" <<'EOF'
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
EOF
: >"$root/etc/resolv.conf"

chmod 1777 "$root/tmp"
chown 65532:65532 "$root/data"
chmod 0750 "$root/data"
find "$root" -exec touch -h -d "@$epoch" {} +

# --- The image ------------------------------------------------------------------------------
ctr=$("${bah[@]}" from --format docker scratch)
mnt=$("${bah[@]}" mount "$ctr")
cp -a "$root/." "$mnt/"
"${bah[@]}" umount "$ctr" >/dev/null
"${bah[@]}" config \
  --entrypoint '["/usr/bin/dataforge"]' \
  --cmd '["run", "--http-host", "0.0.0.0", "--http-port", "8080"]' \
  --env DATAFORGE_DATA_DIR=/data \
  --env PATH=/usr/bin \
  --user 65532:65532 \
  --workingdir /data \
  --volume /data \
  --port 8080/tcp --port 9042/tcp \
  --stop-signal SIGTERM \
  --hostname dataforge \
  --healthcheck 'CMD /usr/bin/dataforge health' \
  --healthcheck-interval 30s --healthcheck-timeout 5s --healthcheck-start-period 30s \
  --healthcheck-retries 3 \
  --label org.opencontainers.image.title=dataforge \
  --label "org.opencontainers.image.description=DataForge: a real-time data pipeline in one binary (REST source, staging, log, processor, store)" \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.revision=$revision" \
  --label "org.opencontainers.image.created=$created" \
  --label "org.opencontainers.image.source=$source_url" \
  --label "org.opencontainers.image.licenses=$licenses" \
  --created-by "scripts/image.sh" \
  "$ctr"
"${bah[@]}" commit --quiet --format docker --timestamp "$epoch" --identity-label=false --rm \
  "$ctr" "localhost/dataforge:$tag" >/dev/null
ctr=""

rm -rf "$out/oci" "$out/dataforge-$tag.docker.tar"
"${bah[@]}" push --quiet "localhost/dataforge:$tag" "oci:$out/oci:$tag" 2>"$work/push.err" ||
  { cat "$work/push.err" >&2; die "buildah push oci: failed"; }
"${bah[@]}" push --quiet "localhost/dataforge:$tag" \
  "docker-archive:$out/dataforge-$tag.docker.tar:dataforge:$tag" ||
  die "buildah push docker-archive: failed"
build_seconds=$((SECONDS - start))

# --- The summary ----------------------------------------------------------------------------
python3 - "$out" "$tag" "$root" "$build_seconds" >"$out/summary.txt" <<'EOF'
import gzip, io, json, os, sys, tarfile
out, tag, root, seconds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
blobs = os.path.join(out, "oci", "blobs", "sha256")
def blob(d): return os.path.join(blobs, d.split(":", 1)[1])
index = json.load(open(os.path.join(out, "oci", "index.json")))
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
manifest = json.load(open(blob(desc["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))
layers = manifest["layers"]
uncompressed = compressed = files = 0
for layer in layers:
    data = open(blob(layer["digest"]), "rb").read()
    if data[:2] == b"\x1f\x8b":
        compressed += len(data); data = gzip.decompress(data)
    else:
        compressed += len(gzip.compress(data, 9, mtime=0))
    uncompressed += len(data)
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        files += sum(1 for m in t.getmembers() if m.isfile())
sizes = {}
for d, _, names in os.walk(root):
    for n in names:
        p = os.path.join(d, n)
        if os.path.islink(p): continue
        rel = os.path.relpath(p, root)
        key = ("usr/bin/dataforge" if rel == "usr/bin/dataforge" else
               "shared libraries" if rel.startswith("usr/lib/x86_64-linux-gnu/") else
               "tzdata" if rel.startswith("usr/share/zoneinfo") else
               "CA certificates" if rel.startswith("etc/ssl") else "other")
        sizes[key] = sizes.get(key, 0) + os.path.getsize(p)
mb = lambda n: f"{n / 1e6:.1f} MB"
print(f"image dataforge:{tag}, built in {seconds} s")
print(f"  OCI layout:     {out}/oci ({tag}), manifest {desc['digest']}")
print(f"  docker archive: {out}/dataforge-{tag}.docker.tar (docker load -i)")
print(f"  config digest:  {manifest['config']['digest']}")
print(f"  layers: {len(layers)}, files: {files}")
print(f"  size: {mb(uncompressed)} uncompressed, {mb(compressed)} gzip-compressed")
print("  of which: " + ", ".join(f"{k} {mb(v)}" for k, v in
                                 sorted(sizes.items(), key=lambda kv: -kv[1])))
print(f"  created {config.get('created')}, user {config['config'].get('User')}, "
      f"entrypoint {config['config'].get('Entrypoint')}")
EOF
cat "$out/summary.txt"
