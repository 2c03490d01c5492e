"""Redis URL forms and secrets from the environment against real servers
(docs/programs.md: "Redis URLs", "Secrets and librdkafka properties from
the environment"):
- a throwaway redis-server with the default user off and an ACL user `gtp`,
  listening on a unix socket and on a TCP port;
- gtp-processor writes its counts through unix://gtp@/path?db=N with the
  password from GTP_REDIS_PASSWORD_FILE, and takes client.id from
  GTP_KAFKA_CLIENT_ID (seen by the broker in the consumer group's members);
- gtp-dashboard is ready (/readyz 200) over unix://gtp:pw@/path?db=N and
  redis://gtp:pw@host:port/db, not ready with a wrong password, without the
  user (the default user is off) or through a socket nobody listens on;
- a GTP_KAFKA_* typo stops a daemon with exit 78 naming the variable."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import redis
from confluent_kafka.admin import AdminClient

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402

DB = 3
PASSWORD = "s3cr:t@/pw"  # characters a URL must escape


def start_redis(tmp):
    sock = os.path.join(tmp, "redis.sock")
    port = T.free_port()
    pr = T.spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                  "--unixsocket", sock, "--unixsocketperm", "700", "--save", "",
                  "--appendonly", "no", "--dir", tmp,
                  "--user", "default", "off",
                  "--user", "gtp", "on", ">" + PASSWORD, "~*", "&*", "+@all"],
                 "redis-acl-server.log")
    deadline = time.time() + 20
    while time.time() < deadline:
        assert pr.poll() is None, T.died(pr, "redis-server")
        if os.path.exists(sock):
            try:
                c = redis.Redis(unix_socket_path=sock, username="gtp", password=PASSWORD, db=DB)
                c.ping()
                return pr, sock, port, c
            except redis.exceptions.ConnectionError:
                pass
        time.sleep(0.1)
    raise AssertionError("redis-server did not come up on %s" % sock)


def dashboard_ready(url, env=None):
    """/readyz status of a dashboard started with --redis url."""
    port = T.free_port()
    pr = T.spawn([T.binary("gtp-dashboard"), "--listen", "127.0.0.1:%d" % port,
                  "--redis", url, "--redis-timeout-ms", "500"], "redis-acl-dashboard.log",
                 env=env)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            assert pr.poll() is None, T.died(pr, "dashboard")
            st, body = T.http_get(port, "/readyz")
            if st is not None:
                return st, body
            time.sleep(0.1)
        raise AssertionError("dashboard did not answer on %d" % port)
    finally:
        T.stop_daemon(pr, "dashboard", timeout=30)


def group_client_ids(group):
    admin = AdminClient({"bootstrap.servers": T.BROKERS})
    desc = admin.describe_consumer_groups([group])[group].result(timeout=30)
    return {m.client_id for m in desc.members}


def main():
    tmp = tempfile.mkdtemp(prefix="gtp-redis-acl-")
    topic = T.private_topic("gtp-acl")
    procs = []
    try:
        srv, sock, port, r = start_redis(tmp)
        procs.append((srv, "redis-server"))
        # the server really enforces the ACL
        try:
            redis.Redis(unix_socket_path=sock, db=DB).ping()
            raise AssertionError("the default user can still connect")
        except redis.exceptions.AuthenticationError:
            pass
        except redis.exceptions.ResponseError:
            pass
        esc = PASSWORD.replace("%", "%25").replace(":", "%3A").replace("@", "%40").replace(
            "/", "%2F")

        # Dashboard readiness over every URL form.
        for url, want in (("unix://gtp:%s@%s?db=%d" % (esc, sock, DB), 200),
                          ("redis://gtp:%s@127.0.0.1:%d/%d" % (esc, port, DB), 200),
                          ("unix://gtp:wrong@%s?db=%d" % (sock, DB), 503),
                          ("unix://%s?db=%d" % (sock, DB), 503),
                          ("unix://gtp:%s@%s.nope" % (esc, sock), 503)):
            st, body = dashboard_ready(url)
            assert st == want, "%s: /readyz %s %s, want %d" % (url.replace(esc, "***"), st,
                                                                body, want)
        T.log("dashboard /readyz: 200 over unix and tcp with the acl user; 503 without it")

        # Processor: unix socket + password file + a librdkafka property from the env.
        pwfile = os.path.join(tmp, "redis-password")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(pwfile, 0o600)
        group = "gtp-acl-" + uuid.uuid4().hex[:8]
        client_id = "gtp-acl-client-" + uuid.uuid4().hex[:6]
        env = dict(os.environ, GTP_REDIS_PASSWORD_FILE=pwfile, GTP_KAFKA_CLIENT_ID=client_id)
        mport = T.free_port()
        proc = T.spawn([T.binary("gtp-processor"), "-b", T.BROKERS, "-t", topic, "-g", group,
                        "--redis", "unix://gtp@%s?db=%d" % (sock, DB), "--flush-ms", "100",
                        "--metrics-port", str(mport)], "redis-acl-processor.log", env=env)
        procs.append((proc, "processor"))
        T.generate(topic, 2000, 11, 0.0)
        deadline = time.time() + 120
        while True:
            assert proc.poll() is None, T.died(proc, "processor")
            stats = r.hgetall("gtp:stats")
            if int(stats.get(b"events_total", 0)) >= 2000:
                break
            assert time.time() < deadline, "processor wrote %s through the socket" % stats
            time.sleep(0.5)
        trend = sum(1 for _ in r.scan_iter(match="trend:*", count=1000))
        assert trend > 0, "no trend keys in db %d" % DB
        st, _ = T.http_get(mport, "/readyz")
        assert st == 200, "processor /readyz %s" % st
        ids = group_client_ids(group)
        assert client_id in ids, "group members' client ids %s, want %s (GTP_KAFKA_CLIENT_ID)" % (
            ids, client_id)
        with open(proc.gtp_log, "rb") as f:
            text = f.read()
            assert PASSWORD.encode() not in text and esc.encode() not in text, \
                "the password reached the log"
        T.stop_daemon(proc, "processor")
        procs.remove((proc, "processor"))
        T.log("processor: 2000 events, %d trend keys via unix socket + ACL user; "
              "client.id %s from GTP_KAFKA_CLIENT_ID" % (trend, client_id))

        # A GTP_KAFKA_* typo is a configuration error naming the variable.
        bad = dict(os.environ, GTP_KAFKA_SECURITY_PROTOKOL="ssl")
        res = subprocess.run([T.binary("gtp-processor"), "-b", T.BROKERS, "-t", topic,
                              "--metrics-port", "0"], env=bad, capture_output=True, timeout=60)
        assert res.returncode == 78 and b"GTP_KAFKA_SECURITY_PROTOKOL" in res.stderr, \
            "typo: exit %d %s" % (res.returncode, res.stderr[-300:])
        T.log("GTP_KAFKA_SECURITY_PROTOKOL: exit 78 naming it")
    finally:
        for pr, what in procs:
            if pr.poll() is None:
                pr.terminate()
                try:
                    pr.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    pr.kill()
                    pr.wait()
        T.services("delete-topic", topic)
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_redis_acl: ok")


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    main()
