#!/usr/bin/env bash
# 1, 2 and 3 gtp-processors in one consumer group against the cluster of
# scripts/services.sh --cluster (docs/scaling.md): a private seeded topic
# (replication 3, min.insync.replicas 2) filled first, then `pbench.py scaling`
# with a redis-sentinel:// URL. Prints pbench's JSON (events/s, per-instance
# events and flushes, CPU seconds of the processors, of Redis and of the three
# brokers) and a summary line per run.
#
# Then `pbench.py live`: three processors under a live stream (~5,000 events/s
# for 30 s, LIVE_RATE / LIVE_SECONDS): Redis CPU per flush at live flush sizes.
#
#   bench/cluster.sh [EVENTS]        default 300000; GTP_BUILD_DIR picks the binaries
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export GTP_BUILD_DIR=${GTP_BUILD_DIR:-$root/build}
count=${1:-300000}
svc=("$root/scripts/services.sh" --cluster)
"${svc[@]}" start
eval "$("${svc[@]}" env)"
sentinels=${GTP_REDIS_URL#redis-sentinel://}
export BROKERS=$GTP_BROKERS SENTINELS=${sentinels%%/*}
BROKER_PIDS="$(for n in 1 2 3; do "${svc[@]}" pid "kafka-$n"; done | tr '\n' ' ')"
export BROKER_PIDS
topic=gtp.bench.cluster.$$
trap '"${svc[@]}" delete-topic "$topic" >/dev/null 2>&1 || true
      "${svc[@]}" delete-topic "$topic.dlq" >/dev/null 2>&1 || true' EXIT
py="$root/scripts/py"
"$py" "$root/bench/pbench.py" fill --topic "$topic" --count "$count" >/dev/null
out=$("$py" "$root/bench/pbench.py" scaling --topic "$topic")
echo "$out"
"$py" - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print("cluster scaling: %d events, %d cores, same counts in every run: %s" % (
    r["events"], r["cores"], r["same_counts"]))
for o in r["runs"]:
    print("  %d processor(s): %6d events/s in %.1f s; CPU s: processors %.1f, redis %.1f, "
          "brokers %.1f; %d flushes, redis %.3f ms CPU per flush" % (
              o["instances"], o["events_per_s"], o["seconds"], o["processors_cpu_s"],
              o["redis_cpu_s"], o["brokers_cpu_s"], o["flushes"], o["redis_cpu_ms_per_flush"]))
PY
live=$("$py" "$root/bench/pbench.py" live --rate "${LIVE_RATE:-5000}" --seconds "${LIVE_SECONDS:-30}")
echo "$live"
"$py" - "$live" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
print("live: %d processors, %d events/s for %.0f s: %d flushes of %d events, redis %.3f ms CPU "
      "per flush (%.2f us per event), %.2f s redis CPU; processors %.1f s, brokers %.1f s CPU" % (
          o["instances"], o["events_per_s"], o["seconds"], o["flushes"], o["events_per_flush"],
          o["redis_cpu_ms_per_flush"], o["redis_cpu_us_per_event"], o["redis_cpu_s"],
          o["processors_cpu_s"], o["brokers_cpu_s"]))
PY
