"""Shared helpers of the integration tests: private topics, reading a topic
back byte-for-byte, gtp-enrich's view of each event, and an independent model
of docs/windows.md (watermark, lateness, dedup, window counts) computed from the
topic's contents per partition in offset order."""
import glob
import json
import os
import shutil
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import redis
from confluent_kafka import Consumer, TopicPartition

ROOT = os.environ.get("GTP_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("GTP_BUILD_DIR") or os.path.join(ROOT, "build")
BROKERS = os.environ.get("GTP_TEST_BROKERS", "127.0.0.1:9092")
# Redis of the tests (scripts/services.sh's GTP_REDIS_PORT when it runs elsewhere).
REDIS_PORT = int(os.environ.get("GTP_TEST_REDIS_PORT", "6379"))
HOUR_US = 3600 * 1000000
WATERMARK_US = 2 * HOUR_US
FUTURE_US = HOUR_US


def log(*a):
    print("[%s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def binary(name):
    path = os.path.join(BUILD, name)
    if not os.access(path, os.X_OK):
        raise SystemExit("missing binary %s (build first)" % path)
    return path


def delta_actions(root):
    """Every action of the Delta log under root in commit order, checking
    that the versions run 0, 1, 2, ... without a gap."""
    files = sorted(glob.glob(os.path.join(root, "_delta_log", "*.json")))
    for i, f in enumerate(files):
        assert os.path.basename(f) == "%020d.json" % i, "delta log version gap at %s" % f
        with open(f, "rb") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


def free_port():
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def spawn(cmd, log_name, env=None):
    """Start a daemon with its stdout and stderr appended to
    BUILD/test-logs/log_name; died() reports its exit with the log's tail."""
    path = os.path.join(BUILD, "test-logs", log_name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "ab") as logf:
        pr = subprocess.Popen(cmd, stdout=logf, stderr=logf, env=env)
    pr.gtp_log = path
    return pr


def log_tail(pr, lines=30):
    path = getattr(pr, "gtp_log", None)
    if not path:
        return ""
    try:
        with open(path, "rb") as f:
            tail = f.read().decode("utf-8", "replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n--- last lines of %s ---\n%s" % (path, "\n".join(tail))


def died(pr, what):
    """The message for a daemon that exited when it should not have."""
    return "%s exited early with %s%s" % (what, pr.returncode, log_tail(pr))


def exit_on_signals():
    """SIGTERM and SIGINT raise SystemExit, so a stopped run still cleans up (restarts the
    services, kills its daemons) on its way out."""
    def on_term(signum, frame):
        raise SystemExit("stopped by signal %d" % signum)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)


def run_seed(seed):
    """The seed given, or a fresh one to print (a failed run is repeated with it)."""
    return seed if seed is not None else int(time.time() * 1000) % 1000000007


def wait_listening(pr, port, what, timeout=20):
    """Until something accepts on 127.0.0.1:port; pr must stay alive meanwhile."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert pr.poll() is None, died(pr, what)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("%s did not listen on %d" % (what, port))


def kill_all(procs):
    """SIGKILL and reap every process of procs still running (None entries allowed)."""
    for pr in procs:
        if pr and pr.poll() is None:
            pr.kill()
            pr.wait()


def stop_daemon(pr, what, timeout=60):
    """SIGTERM, then insist on a clean exit 0."""
    pr.send_signal(signal.SIGTERM)
    rc = pr.wait(timeout=timeout)
    assert rc == 0, "%s exited %s on SIGTERM%s" % (what, rc, log_tail(pr))


def http_get(port, path, timeout=3):
    """(status, body) of a daemon's endpoint on 127.0.0.1; (None, reason) when
    it does not answer."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (OSError, urllib.error.URLError) as e:
        return None, str(e)


def services(*args):
    subprocess.run([os.path.join(ROOT, "scripts", "services.sh"), *args], check=True)


def private_topic(prefix, partitions=6):
    name = "%s.%s" % (prefix, uuid.uuid4().hex[:10])
    services("create-topic", name, str(partitions))
    return name


def generate(topic, count, seed, chaos, extra=()):
    cmd = [binary("gtp-generator"), "-b", BROKERS, "-t", topic, "--count", str(count),
           "--seed", str(seed), "--chaos", str(chaos), "--rate", "0", "--metrics-port", "0",
           *extra]
    log("generate:", " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def check_dlq(name, dlq, topic, exp):
    """The dead-letter topic dlq holds every record the model exp rejected, with its reason
    and source headers (at least once), and nothing the model accepts. Returns
    {(partition, offset) of the source: (reason, value, detail)}."""
    dl, _ = read_topic(dlq, with_headers=True)
    seen = {}
    for rows in dl.values():
        for off, ts, key, value, headers in rows:
            h = {k: v.decode() for k, v in (headers or [])}
            assert h.get("gtp.source.topic") == topic, h
            src = (int(h["gtp.source.partition"]), int(h["gtp.source.offset"]))
            seen[src] = (h["gtp.error.reason"], value, h.get("gtp.error.detail", ""))
    for src, reason in exp.rejected.items():
        assert src in seen, "%s: rejected record %s (%s) missing from the dlq" % (name, src, reason)
        assert seen[src][0] == reason, "%s: %s dlq reason %s, model %s" % (
            name, src, seen[src][0], reason)
    extra = set(seen) - set(exp.rejected)
    assert not extra, "%s: dlq holds records the model accepts: %s" % (name, list(extra)[:5])
    return seen


def stream(topic, count, seed, live=False):
    """A topic of count generated events (chaos 0.2): pre-filled, or with live produced
    at 4,000 events/s while the test works, so faults hit mid-stream. Returns (ends, state):
    ends() blocks until the stream is complete and gives the partitions' end offsets; it also
    puts the model of the topic (expected_from_topic) in state["exp"], computed once."""
    gen = None
    if live:
        gen = subprocess.Popen([binary("gtp-generator"), "-b", BROKERS, "-t", topic,
                                "--count", str(count), "--seed", str(seed), "--chaos", "0.2",
                                "--rate", "4000", "--metrics-port", "0"],
                               stdout=subprocess.DEVNULL)
    else:
        generate(topic, count, seed, 0.2)
    state = {}

    def ends():
        if "ends" not in state:
            if gen:
                assert gen.wait(timeout=300) == 0, "generator failed"
            msgs, state["ends"] = read_topic(topic)
            state["exp"] = expected_from_topic(msgs)
        return state["ends"]
    return ends, state


def read_topic(topic, with_headers=False, starts=None):
    """Every message of the topic: {partition: [(offset, ts_ms, key, value, headers)]};
    with starts ({partition: offset}), only the messages from those offsets on."""
    c = Consumer({"bootstrap.servers": BROKERS, "group.id": "gtptest-" + uuid.uuid4().hex,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "fetch.message.max.bytes": 8 << 20})
    md = c.list_topics(topic, timeout=30)
    parts = sorted(md.topics[topic].partitions)
    ends = {}
    for p in parts:
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
        ends[p] = hi
    starts = starts or {}
    c.assign([TopicPartition(topic, p, starts.get(p, 0)) for p in parts])
    out = {p: [] for p in parts}
    remaining = {p for p in parts if ends[p] > starts.get(p, 0)}
    deadline = time.time() + 300
    while remaining and time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            continue
        p = m.partition()
        out[p].append((m.offset(), m.timestamp()[1], m.key(), m.value(),
                       m.headers() if with_headers else None))
        if m.offset() + 1 >= ends[p]:
            remaining.discard(p)
    c.close()
    if remaining:
        raise AssertionError("could not read partitions %s of %s" % (remaining, topic))
    for p in out:
        out[p].sort(key=lambda r: r[0])
    return out, ends


def enrich_all(values):
    """gtp-enrich's verdict for each raw value, with the future check left to
    the caller (it depends on each message's own timestamp)."""
    # gtp-enrich reads JSON lines; the generator never puts a raw newline in
    # a value, and a test relying on that must say so.
    assert not any(b"\n" in v for v in values), "a value contains a raw newline"
    data = b"".join(v + b"\n" for v in values)
    res = subprocess.run([binary("gtp-enrich"), "--now", "2100-12-31T00:00:00Z"], input=data,
                         stdout=subprocess.PIPE, check=True)
    lines = res.stdout.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    assert len(lines) == len(values), "gtp-enrich gave %d lines for %d events" % (
        len(lines), len(values))
    return [json.loads(l) for l in lines]


def parse_ts_us(s):
    """posted_at as printed by gtp-enrich (UTC, 'Z', optional 6-digit fraction)."""
    import calendar
    base, frac = s[:19], 0
    if len(s) > 20 and s[19] == ".":
        frac = int(s[20:26].ljust(6, "0"))
    t = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    return t * 1000000 + frac


def hour_label(us):
    return time.strftime("%Y-%m-%d-%H", time.gmtime(us // 1000000))


def day_label(us):
    return time.strftime("%Y-%m-%d", time.gmtime(us // 1000000))


def company_norm(c):
    """docs/redis.md's employer name: ASCII whitespace trimmed, ASCII letters lowercased,
    every other byte kept; None or empty -> None."""
    if c is None:
        return None
    b = c.encode("utf-8", "surrogatepass").strip(b" \t\n\r\x0b\x0c").lower()
    return b or None


class Expected:
    """docs/windows.md from scratch: per partition, in offset order."""

    def __init__(self):
        self.counts = {}        # trend key -> count
        self.rejected = {}      # (partition, offset) -> reason
        self.archived = []      # enriched records the archive must hold
        self.late = 0
        self.duplicates = 0
        self.counted = 0
        self.valid = 0
        self.events = 0
        # insights keys (docs/redis.md "Insights keys") of the counted postings
        self.icounts = {}       # posts:*, remote:*, level:* -> count
        self.izsets = {}        # pairs:{day}, gtp:posts:*, gtp:pairs:*, gtp:rskills:* -> {member: n}
        self.employers = {}     # employers:{skill}:{day} -> {normalized company bytes}

    def insights_add(self, v, ws):
        """One counted posting as gtp-enrich printed it (v) in window ws."""
        hour = hour_label(ws)
        day = day_label(ws)
        region = v["region"].lower()
        skills = sorted(v["skills_array"], key=lambda s: s.encode())
        level = v["experience_level"].lower()
        company = company_norm(v.get("company"))

        def inc(k, n=1):
            self.icounts[k] = self.icounts.get(k, 0) + n

        def zinc(k, m):
            z = self.izsets.setdefault(k, {})
            z[m] = z.get(m, 0) + 1

        inc("posts:%s:%s" % (region, hour))
        zinc("gtp:posts:" + hour, region)
        if v.get("is_remote") is True:
            inc("remote_posts:%s:%s" % (region, hour))
        for i, s in enumerate(skills):
            if v.get("is_remote") is True:
                inc("remote:%s:%s" % (s, hour))
            if level != "unspecified":
                inc("level:%s:%s:%s" % (s, level, day))
            if company:
                self.employers.setdefault("employers:%s:%s" % (s, day), set()).add(company)
            zinc("gtp:rskills:%s:%s" % (hour, region), s)
            for b in skills[i + 1:]:
                zinc("pairs:" + day, "%s|%s" % (s, b))
                zinc("gtp:pairs:%s:%s" % (day, s), b)
                zinc("gtp:pairs:%s:%s" % (day, b), s)


class Model:
    """expected_from_topic, fed in pieces: each partition's messages must come in offset
    order, continuing where the previous feed stopped (a long run checks as it goes)."""

    def __init__(self):
        self.exp = Expected()
        self.max_ts = {}  # partition -> max event time of its valid events
        self.seen = {}    # partition -> {(event_id, window_start)} counted

    def feed(self, msgs):
        exp = self.exp
        for p, rows in sorted(msgs.items()):
            verdicts = enrich_all([r[3] or b"" for r in rows]) if rows else []
            max_ts = self.max_ts.get(p)
            seen = self.seen.setdefault(p, set())
            for (off, ts_ms, key, value, _), v in zip(rows, verdicts):
                exp.events += 1
                if "rejected" in v:
                    exp.rejected[(p, off)] = v["rejected"]
                    continue
                posted = parse_ts_us(v["posted_at"])
                if posted > ts_ms * 1000 + FUTURE_US:
                    exp.rejected[(p, off)] = "future_timestamp"
                    continue
                exp.valid += 1
                ws = posted - posted % HOUR_US
                wm = None if max_ts is None else max_ts - WATERMARK_US
                if wm is not None and ws + HOUR_US <= wm:
                    exp.late += 1
                    exp.archived.append(v)
                elif (v["event_id"], ws) in seen:
                    exp.duplicates += 1
                else:
                    seen.add((v["event_id"], ws))
                    exp.counted += 1
                    exp.archived.append(v)
                    for s in v["skills_array"]:
                        k = "trend:%s:%s:%s" % (s, v["region"].lower(), hour_label(ws))
                        exp.counts[k] = exp.counts.get(k, 0) + 1
                    exp.insights_add(v, ws)
                if max_ts is None or posted > max_ts:
                    max_ts = posted
            self.max_ts[p] = max_ts
        return exp


def expected_from_topic(msgs):
    return Model().feed(msgs)


def redis_db(db):
    return redis.Redis(host="127.0.0.1", port=REDIS_PORT, db=db)


def redis_url(db):
    return "redis://127.0.0.1:%d/%d" % (REDIS_PORT, db)


def trend_counts(r):
    out = {}
    keys = list(r.scan_iter(match="trend:*", count=5000))
    for i in range(0, len(keys), 1000):
        chunk = keys[i:i + 1000]
        for k, v in zip(chunk, r.mget(chunk)):
            out[k.decode()] = int(v)
    return out


def compare_counts(got, exp):
    missing = {k: v for k, v in exp.items() if got.get(k) != v}
    extra = {k: v for k, v in got.items() if k not in exp}
    if missing or extra:
        sample = list(missing.items())[:10]
        raise AssertionError("redis differs from the model: %d wrong/missing (e.g. %s, got %s), "
                             "%d unexpected (e.g. %s)" % (
                                 len(missing), sample, [got.get(k) for k, _ in sample],
                                 len(extra), list(extra.items())[:5]))


def scan_keys(r, pattern):
    return list(r.scan_iter(match=pattern, count=5000))


def index_check(r, counts, name):
    """The dashboard's index sets against the trend counts (docs/redis.md): every
    gtp:heat:{hour}:{skill} score equal to its trend key's value, gtp:heat:{hour} and
    gtp:pulse:{hour} their sums over skills and over regions; nothing extra."""
    want = {}
    for k, n in counts.items():
        _, skill, region, hour = k.split(":")
        for key, m in (("gtp:heat:%s:%s" % (hour, skill), region), ("gtp:heat:" + hour, region),
                       ("gtp:pulse:" + hour, skill)):
            entry = "%s %s" % (key, m)
            want[entry] = want.get(entry, 0.0) + n
    got = {}
    for pat in ("gtp:heat:*", "gtp:pulse:*"):
        for k in scan_keys(r, pat):
            for m, sc in r.zrange(k, 0, -1, withscores=True):
                got["%s %s" % (k.decode(), m.decode())] = sc
    try:
        compare_counts(got, want)
    except AssertionError as e:
        raise AssertionError("%s: index sets: %s" % (name, e)) from None


def insights_check(r, exp, name, retention_s=None):
    """Every insights key in redis against the model: counters and sorted sets exactly,
    employers (HyperLogLog) equal to the same names added by the model and, summed over
    keys, within 2 % of the exact distinct counts; nothing extra; every key with a TTL."""
    got = {}
    keys = []
    for pat in ("posts:*", "remote:*", "remote_posts:*", "level:*"):
        keys += scan_keys(r, pat)
    for i in range(0, len(keys), 1000):
        chunk = keys[i:i + 1000]
        for k, v in zip(chunk, r.mget(chunk)):
            got[k.decode()] = int(v)
    compare_counts(got, exp.icounts)
    zkeys = []
    for pat in ("pairs:*", "gtp:posts:*", "gtp:pairs:*", "gtp:rskills:*"):
        zkeys += scan_keys(r, pat)
    gotz, wantz = {}, {}
    for k in zkeys:
        for m, sc in r.zrange(k, 0, -1, withscores=True):
            gotz["%s %s" % (k.decode(), m.decode())] = sc
    for k, z in exp.izsets.items():
        for m, n in z.items():
            wantz["%s %s" % (k, m)] = float(n)
    compare_counts(gotz, wantz)
    ekeys = {k.decode() for k in scan_keys(r, "employers:*")}
    assert ekeys == set(exp.employers), "%s: employers keys differ: %d extra %s, %d missing %s" % (
        name, len(ekeys - set(exp.employers)), list(ekeys - set(exp.employers))[:5],
        len(set(exp.employers) - ekeys), list(set(exp.employers) - ekeys)[:5])
    # Redis's HyperLogLog is deterministic: the model's names added to a scratch key give
    # the same registers, so its PFCOUNT must equal the processor's exactly (one name missing
    # or extra shows); its error against the exact distinct count is HLL's own (0.81 %
    # standard error, so among hundreds of keys a few pass 2 %: the sum must not).
    worst, got_sum, exact_sum = 0.0, 0, 0
    scratch = "gtptest:scratch:hll"
    for k, names in exp.employers.items():
        n = r.pfcount(k)
        r.delete(scratch)
        r.pfadd(scratch, *names)
        want = r.pfcount(scratch)
        assert n == want, "%s: PFCOUNT %s = %d, the model's names give %d (exact %d)" % (
            name, k, n, want, len(names))
        got_sum += n
        exact_sum += len(names)
        worst = max(worst, abs(n - len(names)) / len(names))
    r.delete(scratch)
    assert abs(got_sum - exact_sum) <= 0.02 * exact_sum, \
        "%s: employers: sum of PFCOUNT %d, exact %d" % (name, got_sum, exact_sum)
    allkeys = keys + zkeys + [k.encode() for k in ekeys]
    pipe = r.pipeline(transaction=False)
    for k in allkeys:
        pipe.ttl(k)
    ttls = pipe.execute()
    bad = [(k, t) for k, t in zip(allkeys, ttls) if t <= 0 or (retention_s and t > retention_s)]
    assert not bad, "%s: insights keys without a proper TTL: %s" % (name, bad[:5])
    log("%s: insights equal: %d counters, %d sorted-set members, %d employer sets (worst "
        "HLL error %.2f %%, sum %d vs exact %d)" % (name, len(exp.icounts), len(wantz),
                                               len(exp.employers), worst * 100, got_sum, exact_sum))


def wait_caught_up(r, topic, ends, timeout=300, procs=()):
    """Until the processor's stored next offsets reach the end of every partition."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for pr in procs:
            if pr.poll() is not None:
                raise AssertionError(died(pr, "processor"))
        done = True
        for p, end in ends.items():
            v = r.hget("gtp:part:%s:%d" % (topic, p), "next")
            if end > 0 and (v is None or int(v) < end):
                done = False
                break
        if done:
            return
        time.sleep(0.2)
    raise AssertionError("processor did not catch up within %ds" % timeout)


DEMO_DAEMONS = ("gtp-processor", "gtp-archiver", "gtp-dashboard", "gtp-generator")


def demo_check_exits(out, rc, what="run.sh"):
    """scripts/run.sh's output after a SIGTERM: every daemon exited 0 after the
    consumers drained the topic, and so did the script."""
    for d in DEMO_DAEMONS:
        m = re.search(r"%s \(pid \d+\) exited with status (\d+)" % d, out)
        assert m and m.group(1) == "0", "%s: %s did not exit 0 on SIGTERM:\n%s" % (what, d, out)
    assert "consumers caught up with the topic" in out, out
    assert rc == 0, "%s exited %d:\n%s" % (what, rc, out)


def demo_kill(run, out_path):
    """SIGKILL a scripts/run.sh still running and the daemons it started (each
    runs in its own session, so killing the script's group does not reach them)."""
    if run.poll() is not None:
        return
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    with open(out_path, errors="replace") as f:
        out = f.read()
    for d in DEMO_DAEMONS:
        for m in re.finditer(r"started %s \(pid (\d+)\)" % d, out):
            try:
                os.kill(int(m.group(1)), signal.SIGKILL)
            except ProcessLookupError:
                pass


def demo_env(name, topic, db, tmp, listen, ports):
    """The environment of a private scripts/run.sh (its own topic and dead-letter
    topic topic + '.dlq', Redis DB, archive tmp/archive, dashboard address,
    metrics ports, consumer groups and logs tmp/logs), without the set-up and
    build step, on the services already running."""
    env = dict(os.environ)
    env.update({
        "GTP_TOPIC": topic, "GTP_DLQ_TOPIC": topic + ".dlq", "GTP_REDIS_URL": redis_url(db),
        "GTP_DEMO_ARCHIVE": os.path.join(tmp, "archive"), "GTP_DEMO_LISTEN": listen,
        "GTP_DEMO_METRICS_PORTS": ",".join(map(str, ports)),
        "GTP_DEMO_GROUP_PREFIX": "gtp-%s-%s" % (name, uuid.uuid4().hex[:8]),
        "GTP_DEMO_LOGS": os.path.join(tmp, "logs"), "GTP_DEMO_BUILD": BUILD,
        "GTP_DEMO_NO_BUILD": "1", "GTP_KEEP_SERVICES": "1",
    })
    return env


def demo_cleanup(r, topic, tmp):
    """After a passing demo test: its Redis DB, topics and files."""
    r.flushdb()
    for t in (topic, topic + ".dlq"):
        subprocess.run([os.path.join(ROOT, "scripts", "services.sh"), "delete-topic", t],
                       check=False)
    shutil.rmtree(tmp, ignore_errors=True)
