"""redis-sentinel:// URLs in CI's budget (docs/redis.md#failover-a-replica-and-sentinel),
without the cluster (tests/integration/test_cluster_faults.py does the failovers):

- a real Sentinel (redis-server --sentinel on a free port) watching the tests' Redis: the
  processor, given a dead first Sentinel and then this one, counts a seeded chaotic stream
  exactly as the independent model says, and the dashboard on the same URL serves the
  model's counters;
- a Sentinel that names a replica (a stub answering get-master-addr-by-name with a real
  replica's address): the processor refuses it (ROLE is not master) and exits 69 at the end
  of --startup-timeout, saying why;
- a master name no Sentinel knows: exit 69, naming it."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402
import test_processor_exact as P  # noqa: E402

DB = 6
COUNT = 5000


def redis_server(tmp, name, *args):
    """A throwaway redis-server on a free port; returns (process, port)."""
    port = T.free_port()
    d = os.path.join(tmp, name)
    os.makedirs(d)
    pr = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                           "--dir", d, "--save", "", "--appendonly", "no", *args],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=d)
    T.wait_listening(pr, port, "redis-server " + name)
    return pr, port


def sentinel(tmp, master_port):
    conf = os.path.join(tmp, "sentinel.conf")
    with open(conf, "w") as f:
        f.write("port 0\nsentinel monitor t 127.0.0.1 %d 1\n"
                "sentinel down-after-milliseconds t 60000\n" % master_port)
    port = T.free_port()
    pr = subprocess.Popen(["redis-server", conf, "--sentinel", "--port", str(port), "--bind",
                           "127.0.0.1", "--dir", tmp], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    import redis
    deadline = time.time() + 20
    while time.time() < deadline:
        assert pr.poll() is None, "sentinel exited %s" % pr.returncode
        try:
            if redis.Redis(port=port).execute_command("SENTINEL", "get-master-addr-by-name", "t"):
                return pr, port
        except redis.RedisError:
            pass
        time.sleep(0.1)
    raise AssertionError("sentinel did not answer")


def stub_sentinel(host, port):
    """A Sentinel that names host:port as the primary of any master name."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    reply = b"*2\r\n$%d\r\n%s\r\n$%d\r\n%d\r\n" % (len(host), host.encode(), len(str(port)), port)

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            with c:
                try:
                    if c.recv(4096):
                        c.sendall(reply)
                    c.recv(4096)
                except OSError:
                    pass
    threading.Thread(target=serve, daemon=True).start()
    return srv, srv.getsockname()[1]


def refused(url, want, name):
    """The processor given url must exit 69 after --startup-timeout, logging want."""
    pr = T.spawn([T.binary("gtp-processor"), "-b", T.BROKERS, "-t", "job.postings.v1",
                  "--redis", url, "-g", "gtp-sentinel-" + uuid.uuid4().hex[:8],
                  "--metrics-port", "0", "--startup-timeout", "3"], "sentinel-%s.log" % name)
    try:
        rc = pr.wait(timeout=30)
    except subprocess.TimeoutExpired:
        T.kill_all([pr])
        raise AssertionError("%s: the processor accepted %s and kept running%s" % (
            name, url, T.log_tail(pr)))
    with open(pr.gtp_log, "rb") as f:
        text = f.read().decode(errors="replace")
    assert rc == 69, "%s: exit %s, want 69%s" % (name, rc, T.log_tail(pr))
    assert want in text, "%s: the log does not say %r%s" % (name, want, T.log_tail(pr))
    T.log("%s: exit 69, %r" % (name, want))


def main():
    tmp = tempfile.mkdtemp(prefix="gtp-sentinel-")
    procs, stub = [], None
    topic = dlq = None
    try:
        sp, sport = sentinel(tmp, T.REDIS_PORT)
        procs.append(sp)
        # 1. through a real Sentinel, after a dead one: exact counts, and the dashboard
        topic = T.private_topic("test.sentinel")
        dlq = T.private_topic("test.sentinel.dlq", 3)
        r = T.redis_db(DB)
        r.flushdb()
        url = "redis-sentinel://127.0.0.1:1,127.0.0.1:%d/t?db=%d" % (sport, DB)
        pr = T.spawn([T.binary("gtp-processor"), "-b", T.BROKERS, "-t", topic, "--dlq-topic", dlq,
                      "--redis", url, "-g", "gtp-sentinel-" + uuid.uuid4().hex[:8],
                      "--metrics-port", "0", "--flush-ms", "100"], "sentinel-processor.log")
        procs.append(pr)
        T.generate(topic, COUNT, 20, 0.2)
        msgs, ends = T.read_topic(topic)
        exp = T.expected_from_topic(msgs)
        T.wait_caught_up(r, topic, ends, procs=[pr])
        P.check("through sentinel", topic, dlq, DB, exp, ends)
        T.stop_daemon(pr, "processor")
        dport = T.free_port()
        dash = T.spawn([T.binary("gtp-dashboard"), "--listen", "127.0.0.1:%d" % dport,
                        "--redis", url], "sentinel-dashboard.log")
        procs.append(dash)
        deadline, got = time.time() + 20, None
        while time.time() < deadline:
            status, body = T.http_get(dport, "/api/stats")
            if status == 200:
                got = json.loads(body).get("events_total")
                if got == exp.events:
                    break
            time.sleep(0.2)
        assert got == exp.events, "dashboard events_total %s, model %d" % (got, exp.events)
        T.log("dashboard through sentinel: events_total %d" % got)
        T.stop_daemon(dash, "dashboard")

        # 2. a Sentinel naming a replica: refused (ROLE)
        mp, mport = redis_server(tmp, "primary")
        rp, rport = redis_server(tmp, "replica", "--replicaof", "127.0.0.1", str(mport))
        procs += [mp, rp]
        stub, stub_port = stub_sentinel("127.0.0.1", rport)
        refused("redis-sentinel://127.0.0.1:%d/t" % stub_port, "not the primary", "replica")

        # 3. a master name the Sentinel does not monitor
        refused("redis-sentinel://127.0.0.1:%d/nosuch" % sport,
                "monitors no master named 'nosuch'", "unknown-master")
    finally:
        T.kill_all(procs)
        if stub:
            stub.close()
        for t in (topic, dlq):
            if t:
                try:
                    T.services("delete-topic", t)
                except subprocess.CalledProcessError:
                    pass
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    T.log("ok")


if __name__ == "__main__":
    main()
