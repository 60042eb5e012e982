#!/usr/bin/python3
"""CPU cost per record per stage, as instructions counted by valgrind's callgrind.

  bench/stage_cost.py [--records N] [--runs R] [--top K] [--top-per-stage K] [--build DIR]
                      [--keep DIR]

Runs `pipeline_bench --records N` (the default durable pipeline, built-in API on loopback,
seed bench) R times under `valgrind --tool=callgrind --separate-threads=yes` and attributes the
instructions (Ir) of each thread to its stage: the source threads (HTTP fetch, simdjson parse
and minify; SQLite staging commit), the staging checkpoint thread, the relay thread (outbox
read, log append, cursor commit), the processor thread (log read, mapping) and the store's apply
thread (the RocksDB write batch of the batch before). Each stage's parts are the inclusive
cost of its entry functions (PARTS below; a part whose function is renamed shows "-", and the
stage's total still holds). Prints, as markdown: instructions per record per stage and part for
every run, the spread between runs (instruction counts repeat within ~1% on a noisy machine,
unlike wall time), the top K functions by their own (exclusive) instructions over the three
stage threads, and the top functions of each stage thread. User-space instructions only: the kernel's share (write, fsync, loopback TCP,
page faults) is not in these counts.

Exit: 0 ok, 1 a run failed, 2 usage (bad option, no valgrind, no pipeline_bench).
"""
import argparse
import collections
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

# (stage, thread marker: a function only that stage's thread runs)
STAGES = [
    # SourceLoop is inlined into its thread's lambda in a release build: the parser marks it too.
    ("source", r"PipelineImpl::SourceLoop\(|ResponseParser::Parse\("),
    ("relay", r"OutboxRelay::RunOnce\("),
    ("process", r"Processor::RunOnce\("),
    ("apply", r"StoreApplier::Loop\("),
    ("staging checkpoint", r"WalCheckpointer::Run\("),
    ("built-in API (not the pipeline)", r"MockApiServer::Start\(.*lambda"),
]
PIPELINE_STAGES = ("source", "relay", "process", "apply", "staging checkpoint")
# stage -> [(part label, [function regexes: the largest inclusive match counts])]
PARTS = {
    "source": [
        ("fetch: HTTP GET (libcurl, loopback)", [r"HttpFetcher::Get\("]),
        ("parse: simdjson parse + minify per record", [r"ResponseParser::Parse\("]),
        ("staging commit (SQLite outbox + staged upsert)", [r"Staging::Commit\("]),
        ("  of which SQLite B-tree inserts", [r"^sqlite3BtreeInsert$"]),
    ],
    "relay": [
        ("read outbox (SQLite)", [r"Staging::ReadOutbox\("]),
        ("log append (encode, CRC, write)", [r"EmbeddedLog::Append\(", r"Log::StartAppend\("]),
        ("relay cursor commit", [r"Staging::CommitRelayCursor\("]),
    ],
    "process": [
        ("log read (consumer poll)", [r"EmbeddedConsumer::Poll\(", r"Consumer::Poll\("]),
        ("map (Mapper::Map)", [r"Mapper::Map\("]),
    ],
    "apply": [
        ("store write (RocksDB write batch)", [r"RocksDbStore::Apply\(", r"Store::Apply\("]),
        ("  of which rows merged and ordered (RocksDbStore::AddRows)",
         [r"RocksDbStore::AddRows\("]),
        ("  of which RocksDB memtable insert (index)", [r"rocksdb::MemTable::Add\("]),
        ("  of which RocksDB WAL write", [r"rocksdb::DBImpl::WriteToWAL\("]),
    ],
}
LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$")


def fail(code, msg):
    print(f"stage_cost: {msg}", file=sys.stderr)
    sys.exit(code)


def annotate(path, inclusive):
    """{function name: Ir} of one callgrind file (all functions)."""
    args = ["callgrind_annotate", "--threshold=100", f"--inclusive={'yes' if inclusive else 'no'}",
            path]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    costs = {}
    started = False
    for line in out.splitlines():
        if "file:function" in line:
            started = True
            continue
        m = LINE.match(line) if started else None
        if not m:
            continue
        name = m.group(2)
        name = re.sub(r"\s+\[[^\[\]]*\]$", "", name)  # the object file
        name = name.split(":", 1)[1] if re.match(r"^(\?\?\?|[^ :]*\.\w+):", name) else name
        costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


def short(name, width=90):
    name = name.replace("(anonymous namespace)", "{anon}").replace(
        "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >",
        "std::string")
    depth = 0
    for i, c in enumerate(name):  # drop the argument list (the first '(' outside <>)
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif c == "(" and depth == 0 and i > 0:
            if not name[:i].endswith("operator"):
                name = name[:i] + ("()" if "clone" not in name[i:] else "() [clone]")
                break
    return name if len(name) <= width else name[: width - 3] + "..."


def total_of(path):
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    return 0


def run_once(bench, records, work, index):
    out = os.path.join(work, f"run{index}", "cg.out")
    os.makedirs(os.path.dirname(out))
    cmd = ["valgrind", "--tool=callgrind", "--separate-threads=yes",
           f"--callgrind-out-file={out}", bench, "--records", str(records),
           "--dir", os.path.join(work, f"run{index}", "data")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or "stored / dead" not in proc.stdout:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-8:])
        fail(1, f"run {index}: {' '.join(cmd)} failed (exit {proc.returncode}):\n{tail}")
    m = re.search(r"stored / dead\s+(\d+) / (\d+)", proc.stdout)
    if not m or int(m.group(1)) + int(m.group(2)) != records:
        fail(1, f"run {index}: pipeline_bench did not store {records} records:\n{proc.stdout}")
    stage_ir = collections.Counter()
    part_ir = collections.Counter()
    exclusive = collections.Counter()  # function -> Ir over the pipeline stage threads
    home = collections.defaultdict(collections.Counter)  # function -> stage -> Ir
    files = sorted(glob.glob(out + "-*")) or [out]
    for path in files:
        total = total_of(path)
        if total == 0:
            continue
        inc = annotate(path, inclusive=True)
        # The first thread is main (it also starts the built-in API, so it holds its symbols).
        stage = "main thread (open, wait, close)" if path.endswith("-01") else "other threads"
        for name, marker in STAGES if stage == "other threads" else []:
            if any(re.search(marker, f) for f in inc):
                stage = name
                break
        stage_ir[stage] += total
        for label, patterns in PARTS.get(stage, []):
            for pat in patterns:
                hits = [c for f, c in inc.items() if re.search(pat, f)]
                if hits:
                    part_ir[(stage, label)] += max(hits)
                    break
        if stage in PIPELINE_STAGES:
            for f, c in annotate(path, inclusive=False).items():
                exclusive[f] += c
                home[f][stage] += c
    return stage_ir, part_ir, exclusive, home, files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=20000, help="records per run (default 20000)")
    ap.add_argument("--runs", type=int, default=2, help="runs, to show the spread (default 2)")
    ap.add_argument("--top", type=int, default=20, help="top functions to list (default 20)")
    ap.add_argument("--top-per-stage", type=int, default=8,
                    help="top functions to list per stage thread (default 8)")
    ap.add_argument("--build", help="build dir holding bench/pipeline_bench "
                    "(default: build-bench, else build)")
    ap.add_argument("--keep", help="keep the callgrind files in this dir (for callgrind_annotate "
                    "or kcachegrind)")
    args = ap.parse_args()
    if args.records <= 0 or args.runs <= 0 or args.top < 0:
        fail(2, "--records and --runs must be > 0, --top >= 0")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    builds = [args.build] if args.build else ["build-bench", "build"]
    bench = next((os.path.join(root, b, "bench", "pipeline_bench") for b in builds
                  if os.access(os.path.join(root, b, "bench", "pipeline_bench"), os.X_OK)), None)
    if args.build and not bench:
        p = os.path.join(args.build, "bench", "pipeline_bench")
        bench = p if os.access(p, os.X_OK) else None
    if not bench:
        fail(2, f"no pipeline_bench in {' or '.join(builds)}/bench; build it (docs/benchmarks.md)")
    for tool in ("valgrind", "callgrind_annotate"):
        if not shutil.which(tool):
            fail(2, f"{tool} not found; install Debian's valgrind package")

    work = tempfile.mkdtemp(prefix="df_stagecost_")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
        print(f"stage_cost: {bench} --records {args.records} under callgrind, {args.runs} "
              f"run(s), load average {load}\n", flush=True)
        runs = []
        for i in range(1, args.runs + 1):
            runs.append(run_once(bench, args.records, work, i))
            pipe = sum(runs[-1][0][s] for s in PIPELINE_STAGES)
            print(f"  run {i}: {pipe / args.records:,.0f} instructions per record in the "
                  f"pipeline's stage threads", flush=True)
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            for i, r in enumerate(runs, 1):
                for f in r[4]:
                    shutil.copy(f, os.path.join(args.keep, f"run{i}-{os.path.basename(f)}"))
        n = args.records
        cols = " | ".join(f"run {i}" for i in range(1, len(runs) + 1))
        print(f"\n| stage / part | instructions per record: {cols} | spread |")
        print("|---|" + "---|" * len(runs) + "---|")

        def row(label, values):
            vals = [v / n for v in values]
            spread = (max(vals) - min(vals)) / max(vals) * 100 if max(vals) > 0 else 0
            cells = " | ".join(f"{v:,.0f}" if v else "-" for v in vals)
            print(f"| {label} | {cells} | {spread:.1f}% |")

        order = list(PIPELINE_STAGES) + [s for s, _ in STAGES[len(PIPELINE_STAGES):]] + [
            "main thread (open, wait, close)", "other threads"]
        for stage in order:
            values = [r[0][stage] for r in runs]
            if not any(values):
                continue
            if stage == "built-in API (not the pipeline)":
                row("**pipeline total (source, relay, process, apply, checkpoint)**",
                    [sum(r[0][s] for s in PIPELINE_STAGES) for r in runs])
            row(f"**{stage}** (thread total)", values)
            parts = PARTS.get(stage, [])
            for label, _ in parts:
                row(f"&nbsp;&nbsp;{label.strip()}" if label.startswith("  ") else label,
                    [r[1][(stage, label)] for r in runs])
            if parts:
                top_level = [lbl for lbl, _ in parts if not lbl.startswith("  ")]
                row("rest of the thread (loop, waits, bookkeeping)",
                    [r[0][stage] - sum(r[1][(stage, lbl)] for lbl in top_level) for r in runs])
        if args.top:
            excl, home = runs[-1][2], runs[-1][3]
            pipe = sum(excl.values())
            print(f"\nTop {args.top} functions by their own instructions over the pipeline's "
                  f"stage threads (run {len(runs)}; share of those threads' "
                  f"{pipe / n:,.0f} per record):\n")
            print("| function | instructions per record | share | stage |")
            print("|---|---|---|---|")
            for f, c in excl.most_common(args.top):
                stage = home[f].most_common(1)[0][0]
                print(f"| `{short(f)}` | {c / n:,.0f} | {c / pipe * 100:.1f}% | {stage} |")
        for stage in PIPELINE_STAGES if args.top_per_stage > 0 else []:
            excl, home = runs[-1][2], runs[-1][3]
            total = runs[-1][0][stage]
            mine = collections.Counter({f: home[f][stage] for f in excl if home[f][stage]})
            print(f"\nTop {args.top_per_stage} functions of the {stage} thread (run {len(runs)}; "
                  f"share of its {total / n:,.0f} per record):\n")
            print("| function | instructions per record | share |")
            print("|---|---|---|")
            for f, c in mine.most_common(args.top_per_stage):
                print(f"| `{short(f)}` | {c / n:,.0f} | {c / total * 100:.1f}% |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
