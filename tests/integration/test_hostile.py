"""Hostile input through the whole pipeline (issue 9): invalid UTF-8, 1 MiB
fields, deep nesting, NUL bytes, HTML/JS payloads, '../', '=' and '%' in
locations, skill-like strings with ':' and spaces, odd keys - produced into a
private topic and consumed by gtp-processor (Redis DB 6, flushed first) and,
when built, gtp-archiver (a private --archive-dir) and gtp-dashboard.

Checks: every daemon survives the stream (still running, exit 0 on SIGTERM);
each record is either dead-lettered byte for byte with the reason the
independent model (gtptest.expected_from_topic, i.e. gtp-enrich) gives, or
accepted and counted exactly; no Redis key outside trend:{skill}:{region}:{hour}
([a-z0-9-] skill, [a-z]+ region) and gtp:*; the archive writes nothing outside
its root (no symlink, no '..', nothing beside it) and holds exactly the
accepted rows; the dashboard's /api answers parse as JSON and hold no
unescaped '<script', for hostile query strings too.

Usage: GTP_BUILD_DIR=<build> scripts/py tests/integration/test_hostile.py"""
import json
import os
import re
import shutil
import socket
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

DB = 6
MIB = 1 << 20
_H, _D = rb"\d{4}-\d\d-\d\d-\d\d", rb"\d{4}-\d\d-\d\d"
KEY_RE = re.compile(rb"^(trend:[a-z0-9-]+:[a-z]+:" + _H +  # docs/redis.md: trend and insights
                    rb"|posts:[a-z]+:" + _H + rb"|remote:[a-z0-9-]+:" + _H +
                    rb"|remote_posts:[a-z]+:" + _H + rb"|level:[a-z0-9-]+:[a-z-]+:" + _D +
                    rb"|pairs:" + _D + rb"|employers:[a-z0-9-]+:" + _D + rb"|gtp:.*)$", re.S)
HTML = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
        "\"><svg onload=alert(1)>", "</script><script>document.title='pwned'</script>",
        "javascript:alert(1)", "\u2028\u2029", "{{7*7}}${7*7}"]
LOCATIONS = ["../../etc/passwd", "../..", "..", "/", "region=UK/../x", "a=b", "%2F%2e%2e",
             "100%", "%00", "UK%", "London, UK", "London/../Paris, FR", "date_posted=2024",
             "C:\\Windows\\", "\u0000UK", "uk\nus", "  ", "\u00e9\u00e9:\u00e9", "Remote",
             "__HIVE_DEFAULT_PARTITION__", "x" * 300]
SKILLY = ["python: rust", "trend:python:uk:2024-03-15-10", "c++ c# .net node.js go:lang",
          "skill:python region:uk", "Python Engineer : Kafka / Spark", "* KEYS *",
          "rust\r\nFLUSHALL\r\n", "gtp:stats", "$1\r\nx"]


def base_event(i, **payload):
    ev = {"event_id": "hostile-%04d" % i, "timestamp": "2024-03-15T10:%02d:00Z" % (i % 60),
          "source": "hostile",
          "payload": {"job_id": "job-%04d" % i, "title": "Data Engineer",
                      "company": "Acme", "location": "London, UK",
                      "description": "python and kafka", "is_remote": False}}
    for k, v in payload.items():
        if k in ("event_id", "timestamp", "source"):
            ev[k] = v
        else:
            ev["payload"][k] = v
    return ev


def dumps(ev):
    return json.dumps(ev, ensure_ascii=False).encode("utf-8", "surrogatepass")


def hostile_records():
    """(key, value) pairs; keys are hostile too (None, binary, path-like)."""
    recs = []
    n = 0

    def add(value, key=None):
        nonlocal n
        recs.append((key, value))
        n += 1

    # invalid UTF-8 in many places
    good = dumps(base_event(0))
    for bad in (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"):
        add(good.replace(b"Data Engineer", b"Data " + bad + b"Engineer"))
        add(good.replace(b"London, UK", b"Lon" + bad + b"don"), key=bad)
        add(good.replace(b"hostile-0000", b"hostile-" + bad))
    add(b"\xff" * 100)
    # big fields: just under the limit (accepted), just over (too_large), 3 MiB
    pad = MIB - len(dumps(base_event(1, description=""))) - 16
    add(dumps(base_event(1, description="python " + "x" * pad)))
    add(dumps(base_event(2, description="y" * MIB)))
    add(dumps(base_event(3, title="z" * (3 * MIB))))
    add(dumps(base_event(4, company="\u00e9" * (MIB // 2 - 64))))
    # deep nesting: ignored extra field (fine), beyond jansson's limit, unbalanced
    for depth in (200, 1500, 2100, 5000):
        v = dumps(base_event(5 + depth))[:-1] + b',"extra":' + b'{"a":' * depth + b"1" + \
            b"}" * depth + b"}"
        add(v)
    add(b"[" * 200000)
    add(b"{" * 100000)
    add(b'{"event_id":' * 50000)
    # NUL bytes: escaped inside strings (valid JSON), raw (invalid)
    add(dumps(base_event(10, title="Data\u0000Engineer <script>", location="UK\u0000../..")))
    add(dumps(base_event(11, event_id="nul\u0000id", job_id="\u0000")))
    add(good.replace(b"Data Engineer", b"Data\x00Engineer"))
    add(b"\x00" * 64)
    add(b"")
    add(None)
    # HTML / JS everywhere
    for i, h in enumerate(HTML):
        add(dumps(base_event(20 + i, title="Senior %s Python Developer" % h, company=h,
                             location=h, description=h + " rust " + h, source=h,
                             event_id="hostile-%04d%s" % (20 + i, h))), key=h.encode())
    # locations with ../, = and %
    for i, loc in enumerate(LOCATIONS):
        add(dumps(base_event(40 + i, location=loc)), key=b"../" + loc.encode())
    # skill-like strings with ':' and spaces
    for i, s in enumerate(SKILLY):
        add(dumps(base_event(80 + i, title=s, description=s, company=s, location=s,
                             event_id=s, job_id=s)))
    # wrong types, missing fields, odd timestamps
    add(dumps(base_event(100, title=["<script>"])))
    add(dumps(base_event(101, is_remote="true")))
    add(dumps(base_event(102, timestamp="2024-03-15T10:00:00Z\u0000")))
    add(dumps(base_event(103, timestamp="../../2024-03-15")))
    add(dumps(base_event(104, timestamp="9999-12-31T23:59:59Z")))
    add(dumps(base_event(105, timestamp="2024-03-15T10:00:00+23:59")))
    add(dumps(base_event(106, timestamp="\u00e9" * 30)))
    add(b'{"event_id":"x","timestamp":"2024-03-15T10:00:00Z","payload":{"job_id":"j",'
        b'"title":"\\ud800\\udc00 \\ud800"}}')
    add(b'{"event_id":"dup","event_id":"<script>","timestamp":"2024-03-15T10:00:00Z",'
        b'"payload":{"job_id":"j","title":"t"},"payload":{"job_id":"k","title":"python"}}')
    add(b'{"event_id":1e999999,"timestamp":"2024-03-15T10:00:00Z","payload":{}}')
    add(dumps(base_event(107)) + b" " + dumps(base_event(108)))  # trailing bytes
    add(b'"just a string"')
    # a few clean ones so something is counted and archived
    for i in range(20):
        add(dumps(base_event(200 + i, title="Senior Python Developer",
                             description="kafka, spark, rust")))
    return recs


# Partition 3 gets only records that cannot be parsed: each flush of the
# daemons then carries a partition with offsets to store and no event id.
REJECT_ONLY = [b"", b"{", b"\xff\xfe", b"[]", b"null"]


def produce(topic, recs):
    p = Producer({"bootstrap.servers": T.BROKERS, "message.max.bytes": 8 * MIB,
                  "linger.ms": 5, "enable.idempotence": True})
    for i, (key, value) in enumerate(recs):
        p.produce(topic, value=value, key=key, partition=i % 3)
    for value in REJECT_ONLY:
        p.produce(topic, value=value, partition=3)
    assert p.flush(60) == 0, "could not produce the hostile set"


def start(cmd, log_name):
    T.log("start:", " ".join(cmd))
    return T.spawn(cmd, log_name)


def stop(pr, name):
    assert pr.poll() is None, T.died(pr, name + " (on hostile input)")
    T.stop_daemon(pr, name)


def check_dlq(dlq, msgs, exp, who):
    """Every rejected record in the DLQ byte for byte, with the model's reason."""
    got, _ = T.read_topic(dlq, with_headers=True)
    orig = {}
    for p, rows in msgs.items():
        for off, _, key, value, _ in rows:
            orig[(p, off)] = (key, value)
    seen = {}
    for rows in got.values():
        for _, _, key, value, headers in rows:
            h = {k: v for k, v in (headers or [])}
            src = (int(h["gtp.source.partition"]), int(h["gtp.source.offset"]))
            assert src in orig, "%s: DLQ record for unknown %s" % (who, src)
            assert (key, value or b"") == (orig[src][0], orig[src][1] or b""), \
                "%s: DLQ copy of %s differs from the original" % (who, src)
            seen[src] = h["gtp.error.reason"].decode()
            detail = h.get("gtp.error.detail", b"")
            detail.decode("utf-8")  # human text, but never broken UTF-8
    assert seen == exp.rejected, "%s: DLQ %d records, model %d rejected; differences: %s" % (
        who, len(seen), len(exp.rejected),
        sorted(set(seen.items()) ^ set(exp.rejected.items()))[:10])


def check_redis_keys(r):
    bad = [k for k in r.scan_iter(match="*", count=5000) if not KEY_RE.match(k)]
    assert not bad, "redis keys outside the documented patterns: %r" % bad[:10]


def committed_all(group, topic, ends):
    c = Consumer({"bootstrap.servers": T.BROKERS, "group.id": group,
                  "enable.auto.commit": False})
    try:
        parts = c.committed([TopicPartition(topic, p) for p in ends], timeout=30)
        return all(tp.offset >= ends[tp.partition] for tp in parts if ends[tp.partition] > 0)
    finally:
        c.close()


def check_archive(parent, root, exp):
    # nothing beside the root, nothing but directories and files inside it
    assert sorted(os.listdir(parent)) == ["archive"], \
        "files beside the archive root: %s" % os.listdir(parent)
    real_root = os.path.realpath(root)
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(dirpath, name)
            assert not os.path.islink(path), "symlink in the archive: %s" % path
            assert os.path.realpath(path).startswith(real_root + os.sep), "escaped: %s" % path
            rel = os.path.relpath(path, root)
            assert ".." not in rel.split(os.sep), "dot-dot component: %s" % rel
            top = rel.split(os.sep)[0]
            assert top == "_delta_log" or top.startswith("date_posted="), "stray %s" % rel
            if os.sep in rel and top != "_delta_log":
                assert rel.split(os.sep)[1].startswith("region="), "bad partition %s" % rel
    import pyarrow.dataset as ds
    rows = ds.dataset(root, format="parquet", partitioning="hive",
                      exclude_invalid_files=True).to_table(
                          columns=["event_id", "title", "location"]).to_pylist()
    got = sorted((r["event_id"], r["title"]) for r in rows)
    want = sorted((v["event_id"], v["title"]) for v in exp.archived)
    assert len(got) == len(want), "archive holds %d rows, the model %d" % (len(got), len(want))
    # Strings may hold NUL (\u0000, docs/events.md). Rows that differ only by
    # being cut at a NUL are reported apart, after the other checks ran.
    cut = sorted((e.split("\0")[0], t.split("\0")[0]) for e, t in want)
    assert got in (want, cut), "archive rows differ from the model (first differences %s)" % (
        sorted(set(got) ^ set(want))[:5])
    if got != want:
        return "the archive cuts strings at NUL: %s" % [
            w for w in want if "\0" in w[0] or "\0" in w[1]]
    return None


def check_dashboard(port):
    import http.client
    paths = ["/api/pulse?hours=168&top=20", "/api/heatmap?hours=168", "/api/stats",
             "/api/heatmap?hours=168&skill=python"]
    for q in ("<script>alert(1)</script>", "../../etc/passwd", "%00", "\u00e9", "1e9",
              "99999999999999999999", "-1", "python:uk", "python uk", "trend:*"):
        e = urllib.parse.quote(q, safe="")
        paths += ["/api/pulse?hours=%s" % e, "/api/pulse?top=%s" % e,
                  "/api/heatmap?skill=%s" % e, "/api/heatmap?hours=24&skill=%s&skill=x" % e]
    paths += ["/api/pulse?hours=24&hours=<script>", "/api/heatmap?skill=<script>alert(1)</script>",
              "/api/pulse?%ff%fe=1", "/api/stats?x=" + "A" * 4000]
    for path in paths:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.putrequest("GET", path, skip_accept_encoding=True)
        c.endheaders()
        resp = c.getresponse()
        body = resp.read()
        c.close()
        assert resp.status in (200, 400), "%s: HTTP %d" % (path, resp.status)
        doc = json.loads(body)
        assert b"<script" not in body.lower(), "%s: unescaped <script in %r" % (path, body[:200])
        if resp.status == 400:
            assert "error" in doc, path
    T.log("dashboard: %d hostile requests answered with JSON" % len(paths))


def main():
    os.makedirs(os.path.join(T.BUILD, "test-logs"), exist_ok=True)
    recs = hostile_records()
    topic = T.private_topic("gtp.test.hostile", 4)
    dlq = T.private_topic("gtp.test.hostile.dlq", 1)
    T.log("producing %d hostile records into %s" % (len(recs), topic))
    produce(topic, recs)
    msgs, ends = T.read_topic(topic)
    assert sum(len(v) for v in msgs.values()) == len(recs) + len(REJECT_ONLY)
    exp = T.expected_from_topic(msgs)
    T.log("model: %d events, %d rejected, %d counted, %d archived" % (
        exp.events, len(exp.rejected), exp.counted, len(exp.archived)))
    assert exp.rejected and exp.counted, "the hostile set should hold both kinds"

    # ---- processor --------------------------------------------------------------
    r = T.redis_db(DB)
    r.flushdb()
    pr = start([T.binary("gtp-processor"), "-b", T.BROKERS, "-t", topic, "--dlq-topic", dlq,
                "--redis", T.redis_url(DB),
                "-g", "gtp-hostile-" + uuid.uuid4().hex[:8], "--metrics-port", "0",
                "--flush-ms", "100"], "hostile-processor.log")
    try:
        T.wait_caught_up(r, topic, ends, timeout=180, procs=(pr,))
        time.sleep(0.5)
        stop(pr, "gtp-processor")
    finally:
        if pr.poll() is None:
            pr.kill()
            pr.wait()
    T.compare_counts(T.trend_counts(r), exp.counts)
    check_redis_keys(r)
    check_dlq(dlq, msgs, exp, "processor")
    T.log("processor: survived, %d trend keys exact, DLQ exact" % len(exp.counts))

    # ---- archiver ---------------------------------------------------------------
    nul_issue = None
    if os.access(os.path.join(T.BUILD, "gtp-archiver"), os.X_OK):
        parent = os.path.join(T.BUILD, "hostile-" + uuid.uuid4().hex[:8])
        root = os.path.join(parent, "archive")
        os.makedirs(root)
        adlq = T.private_topic("gtp.test.hostile.adlq", 1)
        group = "gtp-hostile-arch-" + uuid.uuid4().hex[:8]
        ar = start([T.binary("gtp-archiver"), "-b", T.BROKERS, "-t", topic, "--dlq-topic", adlq,
                    "-g", group, "--archive-dir", root, "--metrics-port", "0",
                    "--roll-seconds", "1"], "hostile-archiver.log")
        try:
            deadline = time.time() + 180
            while not committed_all(group, topic, ends):
                assert ar.poll() is None, T.died(ar, "gtp-archiver")
                assert time.time() < deadline, "archiver did not commit the topic's end"
                time.sleep(0.5)
            stop(ar, "gtp-archiver")
        finally:
            if ar.poll() is None:
                ar.kill()
                ar.wait()
        nul_issue = check_archive(parent, root, exp)
        check_dlq(adlq, msgs, exp, "archiver")
        shutil.rmtree(parent)
        T.log("archiver: survived, archive confined to its root and exact")
    else:
        T.log("gtp-archiver not built: archive checks skipped")

    # ---- dashboard --------------------------------------------------------------
    if os.access(os.path.join(T.BUILD, "gtp-dashboard"), os.X_OK):
        port = T.free_port()
        da = start([T.binary("gtp-dashboard"), "--listen", "127.0.0.1:%d" % port,
                    "--redis", T.redis_url(DB), "--cache-ms", "0"],
                   "hostile-dashboard.log")
        try:
            deadline = time.time() + 20
            while True:
                assert da.poll() is None, T.died(da, "gtp-dashboard")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    assert time.time() < deadline, "dashboard did not listen"
                    time.sleep(0.1)
            check_dashboard(port)
            stop(da, "gtp-dashboard")
        finally:
            if da.poll() is None:
                da.kill()
                da.wait()
    else:
        T.log("gtp-dashboard not built: dashboard checks skipped")
    r.flushdb()
    assert not nul_issue, nul_issue
    T.log("hostile: ok")


if __name__ == "__main__":
    main()
