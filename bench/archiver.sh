#!/usr/bin/env bash
# Archiver benchmark (issue 5, acceptance 4): on a pre-filled topic of COUNT events
# (gtp-generator, seed 42, default chaos 0.05),
#   - end-to-end rows/s of gtp-archiver: from process start (and from its first partition
#     assignment) until the Delta log's txn of every partition reaches the partition's last
#     offset, i.e. every row is in a committed Parquet file;
#   - beside a baseline timed in the same run on the same topic: consuming it to JSON lines
#     with kcat (kcat -C -e -o beginning -f '%s\n' > raw.jsonl);
#   - the same again with compaction and vacuum running every 2 s (--compact-interval 2),
#     between two runs without it, reported beside their mean (docs/archive.md);
#   - archive size (Parquet files; the Delta log apart) vs the raw JSON size, as written and
#     after `gtp-archiver --maintain` (checkpoint, compaction, vacuum).
#
#   bench/archiver.sh [COUNT] [CODEC] [ROLL_SECONDS]     default 1000000 zstd 2
#
# The last rows of each partition wait for the time-based roll (--roll-seconds, at most
# ROLL_SECONDS after their arrival: a pre-filled topic ends in partial rolls), so that bound
# is part of the measured time; --roll-rows and --roll-bytes keep their defaults.
#
# Environment: GTP_BUILD_DIR (default build), BROKERS (default 127.0.0.1:9092), TOPIC (reuse
# a filled topic). Private topics and groups, removed at exit; the archive goes to a temp dir
# under the build directory (same disk as the build), removed at exit.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
count=${1:-1000000}
codec=${2:-zstd}
roll_s=${3:-2}
build=${GTP_BUILD_DIR:-$root/build}
brokers=${BROKERS:-127.0.0.1:9092}
for b in gtp-archiver gtp-generator; do
    [[ -x $build/$b ]] || { echo "bench: $build/$b not built" >&2; exit 1; }
done
command -v kcat >/dev/null || { echo "bench: kcat missing" >&2; exit 1; }
tmp=$(mktemp -d "$build/bench-archiver.XXXXXX")
topic=${TOPIC:-}
own=no
arch_pid=
cleanup() {
    [[ -n $arch_pid ]] && kill "$arch_pid" 2>/dev/null && wait "$arch_pid" 2>/dev/null
    if [[ $own == yes ]]; then
        "$root/scripts/services.sh" delete-topic "$topic" >/dev/null 2>&1 || true
        "$root/scripts/services.sh" delete-topic "$topic.dlq" >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

if [[ -z $topic ]]; then
    topic=gtp.bench.arch.$$
    own=yes
    "$root/scripts/services.sh" create-topic "$topic" 6 >/dev/null
    echo "bench: filling $topic with $count events (seed 42)" >&2
    "$build/gtp-generator" -b "$brokers" -t "$topic" --count "$count" --seed 42 --rate 0 \
        --metrics-port 0 >/dev/null 2>"$tmp/gen.log"
fi
"$root/scripts/services.sh" create-topic "$topic.dlq" 3 >/dev/null

echo "bench: baseline kcat -C to JSON lines" >&2
t0=$(date +%s.%N)
kcat -C -b "$brokers" -t "$topic" -e -q -o beginning -f '%s\n' >"$tmp/raw.jsonl"
t1=$(date +%s.%N)
echo "$t0 $t1" >"$tmp/kcat.time"

# run_case NAME COMPACT_INTERVAL: archive the topic into $tmp/NAME with its own group; the
# measurement goes to $tmp/NAME.json
run_case() {
    local name=$1 compact=$2
    echo "bench: gtp-archiver $name ($codec, --roll-seconds $roll_s, --compact-interval $compact)" >&2
    sync
    local t0
    t0=$(date +%s.%N)
    "$build/gtp-archiver" -b "$brokers" -t "$topic" --dlq-topic "$topic.dlq" \
        -g "bench-arch-$name-$$" --archive-dir "$tmp/$name" --codec "$codec" \
        --roll-seconds "$roll_s" --compact-interval "$compact" --metrics-port 0 \
        2>"$tmp/$name.log" &
    arch_pid=$!
    "$root/scripts/py" - "$tmp" "$name" "$topic" "$brokers" "$arch_pid" "$t0" <<'PY'
import datetime, glob, json, os, sys, time
from confluent_kafka import Consumer, TopicPartition
tmp, name, topic, brokers, pid, t_start = sys.argv[1:7]
pid, t_start = int(pid), float(t_start)
c = Consumer({"bootstrap.servers": brokers, "group.id": "bench-ends"})
parts = sorted(c.list_topics(topic, timeout=30).topics[topic].partitions)
ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in parts}
c.close()
logdir = os.path.join(tmp, name, "_delta_log")
seen, txn, rows, commits = set(), {}, 0, 0
deadline = time.time() + 1800
while True:
    for f in sorted(glob.glob(os.path.join(logdir, "*.json"))):
        if f in seen:
            continue
        seen.add(f)
        for line in open(f):
            a = json.loads(line)
            if "txn" in a:
                txn[a["txn"]["appId"]] = a["txn"]["version"]
                commits += 1
            # compaction's adds (dataChange false) rewrite rows already counted
            if "add" in a and a["add"].get("dataChange", True):
                rows += json.loads(a["add"]["stats"])["numRecords"]
    if all(e == 0 or txn.get("gtp-archiver-%s-%d" % (topic, p), -1) >= e - 1
           for p, e in ends.items()):
        break
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("bench: gtp-archiver died, see its log")
    if time.time() > deadline:
        sys.exit("bench: gtp-archiver did not finish")
    time.sleep(0.02)
t_end = time.time()
# first assignment, from the archiver's own log line time
t_assign = None
for line in open(os.path.join(tmp, name + ".log")):
    if " assigned " in line:
        t_assign = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        break
cpu = None
try:
    st = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    cpu = (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
except OSError:
    pass
json.dump({"rows": rows, "commits": commits, "events": sum(ends.values()),
           "seconds": t_end - t_start, "from_assign": t_end - (t_assign or t_start), "cpu": cpu},
          open(os.path.join(tmp, name + ".json"), "w"))
PY
    kill -TERM "$arch_pid"
    wait "$arch_pid" || { echo "bench: gtp-archiver exit $?" >&2; exit 1; }
    arch_pid=
}

# parquet_stats DIR: bytes and count of the data files on disk
sizes() {
    find "$1" -name '*.parquet' -not -path '*/_delta_log/*' -printf '%s\n' |
        awk '{ b += $1; n++ } END { printf "%d %d\n", b, n }'
}

# Without compaction (the default --compact-interval, 600 s, does not fire in a run this
# short), then the same topic again with compaction (and vacuum) every 2 s beside it.
# Plain, compacting, plain again: this machine's speed drifts within a run, so the compacting
# run is compared with the mean of the two plain ones around it.
run_case plain 0
read -r pq_bytes pq_files < <(sizes "$tmp/plain")
lg_bytes=$(cat "$tmp"/plain/_delta_log/*.json | wc -c)
run_case compacting 2
run_case plain2 0
# the size after compaction: the plain archive through the cron path (checkpoint, compact
# closed partitions and open ones with a few small files, vacuum at once)
"$build/gtp-archiver" --maintain -t "$topic" --archive-dir "$tmp/plain" \
    --vacuum-retention "0 seconds" --metrics-port 0 2>"$tmp/maintain.log" ||
    { echo "bench: --maintain failed" >&2; tail "$tmp/maintain.log" >&2; exit 1; }
read -r cq_bytes cq_files < <(sizes "$tmp/plain")

"$root/scripts/py" - "$tmp" "$pq_bytes" "$pq_files" "$lg_bytes" "$cq_bytes" "$cq_files" <<'PY'
import json, os, sys
tmp = sys.argv[1]
pq, nfiles, lg, cq, cfiles = map(int, sys.argv[2:7])
a = json.load(open(os.path.join(tmp, "plain.json")))
b = json.load(open(os.path.join(tmp, "compacting.json")))
a2 = json.load(open(os.path.join(tmp, "plain2.json")))
k0, k1 = map(float, open(os.path.join(tmp, "kcat.time")).read().split())
events = a["events"]
raw = os.path.getsize(os.path.join(tmp, "raw.jsonl")) - events  # values only, no newlines
rows = a["rows"]
el, ea, ek = a["seconds"], a["from_assign"], k1 - k0
cpu = a["cpu"]
print(f"| {'case':52} | {'value':>18} |")
print(f"|{'-' * 54}|{'-' * 20}|")
for x, y in [
    (f"gtp-archiver start -> last commit ({events} events)", f"{rows / el:,.0f} rows/s"),
    ("gtp-archiver first assignment -> last commit", f"{rows / ea:,.0f} rows/s"),
    ("  same, messages consumed per second", f"{events / ea:,.0f} msg/s"),
    ("baseline: kcat -C -e to JSON lines", f"{events / ek:,.0f} msg/s"),
    ("gtp-archiver cpu seconds (user+sys) / rows per cpu-s",
     f"{cpu:.1f} s / {rows / cpu:,.0f}" if cpu else "n/a"),
    ("rows archived / files / commits", f"{rows} / {nfiles} / {a['commits']}"),
    ("again without compaction, after it", f"{a2['rows'] / a2['seconds']:,.0f} rows/s"),
    ("with compaction every 2 s: start -> last commit", f"{b['rows'] / b['seconds']:,.0f} rows/s"),
    ("  with / without compaction (mean of the two)",
     f"{(b['rows'] / b['seconds']) / ((rows / el + a2['rows'] / a2['seconds']) / 2):.2f}"),
    ("  rows archived (must equal the above)", f"{b['rows']}"),
    ("raw JSON (message values)", f"{raw / 1e6:,.1f} MB"),
    ("parquet files", f"{pq / 1e6:,.1f} MB"),
    ("parquet / raw JSON", f"{pq / raw:.3f}"),
    ("after --maintain: parquet files", f"{cq / 1e6:,.1f} MB"),
    ("after --maintain: parquet / raw JSON", f"{cq / raw:.3f}"),
    ("files before / after --maintain", f"{nfiles} / {cfiles}"),
    ("delta log (json commits)", f"{lg / 1e6:,.1f} MB"),
    ("(parquet + log) / raw JSON", f"{(pq + lg) / raw:.3f}"),
]:
    print(f"| {x:52} | {y:>18} |")
if b["rows"] != rows or a2["rows"] != rows:
    sys.exit("bench: the compacting run archived %d rows, the plain one %d" % (b["rows"], rows))
PY
