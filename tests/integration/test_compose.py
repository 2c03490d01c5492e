"""docker-compose.yml and the Dockerfile without a Docker engine (issue 7):
the compose file is loaded and validated by compose-go (the library behind
`docker compose config`: compose-spec JSON schema, interpolation, merges,
normalization) through tests/integration/compose_check, and the normalized
project is checked against the real binaries and the native scripts:
- every GTP_* variable and every flag given to a daemon is one that daemon's
  --help lists (the option tables), likewise the Dockerfile's ENV and CMD;
- images are pinned: the Kafka image's version is the one scripts/kafka/pom.xml
  runs natively, Redis a 7.x tag, the daemons' image built from the Dockerfile;
- ports are those of docs/programs.md (8501, 9101, 9102, 9103), in env, healthchecks and --help
  defaults; topics and partitions equal scripts/services.sh's; message.max.bytes
  equals scripts/kafka/server.properties.in's; the demo clock equals run.sh's;
- depends_on conditions, healthchecks, the archive's named volume, and a
  processor that can be scaled (no container_name, no fixed host port);
- the `cluster` profile (docs/scaling.md) adds the topology of `services.sh --cluster`:
  three KRaft nodes in one quorum, replication 3 and min.insync.replicas 2 (broker
  defaults and the topics, which equal services.sh's), a Redis replica of the primary,
  three Sentinels with quorum 2, and cluster daemons using all three brokers and a
  redis-sentinel:// URL of the three Sentinels (variables their --help lists);
- the `monitoring` profile (docs/programs.md#monitoring) adds exactly Prometheus
  and Grafana, pinned, on loopback ports, mounting files that exist in
  deploy/monitoring/ where prometheus.yml and the Grafana provisioning expect
  them; without the profile they are left out.
A broken copy of the file must be rejected, so the validator is known to bite."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402

ROOT = T.ROOT
COMPOSE = os.path.join(ROOT, "docker-compose.yml")
DOCKERFILE = os.path.join(ROOT, "Dockerfile")
CHECKER = os.path.join(ROOT, "tests", "integration", "compose_check")
DAEMONS = {"generator": 9101, "processor": 9102, "archiver": 9103, "dashboard": 8501}
FAILURES = []


def check(cond, msg):
    if not cond:
        FAILURES.append(msg)
        T.log("FAIL:", msg)


def load(path, *profiles):
    """compose-go's normalized project with the given profiles enabled, or
    (None, error text)."""
    go = shutil.which("go") or ("/usr/local/go/bin/go"
                                if os.access("/usr/local/go/bin/go", os.X_OK) else None)
    if not go:
        raise SystemExit("go not found: the compose file is validated with compose-go (go run)")
    env = dict(os.environ)
    env.setdefault("GOFLAGS", "-mod=mod")
    if not env.get("HOME"):  # go needs a cache directory; keep it in the ignored .cache/
        env.setdefault("GOPATH", os.path.join(ROOT, ".cache", "go"))
        env.setdefault("GOCACHE", os.path.join(ROOT, ".cache", "go", "build"))
    res = subprocess.run([go, "run", ".", path, *profiles], cwd=CHECKER, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=900)
    if res.returncode != 0:
        return None, res.stderr.decode(errors="replace")
    return json.loads(res.stdout), ""


def help_options(prog):
    """{flags}, {env vars}, {flag: default} from `gtp-<prog> --help`."""
    out = subprocess.run([T.binary("gtp-" + prog), "--help"], stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    flags, envs, defaults = set(), set(), {}
    for line in out.splitlines():
        m = re.match(r"^\s+(?:-(\w), )?--([\w-]+)\b(.*)$", line)
        if m:
            if m.group(1):
                flags.add("-" + m.group(1))
            flags.add("--" + m.group(2))
            e = re.search(r"\[env (GTP_\w+)\]", line)
            if e:
                envs.add(e.group(1))
            d = re.search(r"\(default ([^)]*)\)", line)
            if d:
                defaults["--" + m.group(2)] = d.group(1)
        elif re.match(r"^\s+-X KEY=VALUE", line):
            flags.add("-X")
    assert "--help" in flags and envs, "could not parse gtp-%s --help" % prog
    return flags, envs, defaults


def flags_in(args):
    return [a.split("=", 1)[0] for a in args if a.startswith("-")]


def services_topics():
    text = open(os.path.join(ROOT, "scripts", "services.sh")).read()
    m = re.search(r"TOPICS=\(([^)]*)\)", text)
    assert m, "no TOPICS=(...) in scripts/services.sh"
    return {t.split(":")[0]: int(t.split(":")[1]) for t in re.findall(r'"([^"]+)"', m.group(1))}


def run_sh_default(var):
    m = re.search(r"\$\{%s:-([^}]*)\}" % var, open(os.path.join(ROOT, "scripts", "run.sh")).read())
    assert m, "no ${%s:-...} in scripts/run.sh" % var
    return m.group(1)


def healthcheck_port(svc):
    test = " ".join((svc.get("healthcheck") or {}).get("test") or [])
    m = re.search(r"/dev/tcp/127\.0\.0\.1/(\d+)", test)
    return int(m.group(1)) if m else None


def check_dockerfile(opts):
    text = open(DOCKERFILE).read()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    check(stages[:1] == ["debian:bookworm"] and stages[-1] == "debian:bookworm-slim",
          "Dockerfile stages %s: want debian:bookworm then debian:bookworm-slim" % stages)
    runtime = text[text.rindex("FROM "):]
    for pkg in ("librdkafka1", "libhiredis0.14", "libmicrohttpd12", "libjansson4",
                "libpcre2-8-0", "libuuid1", "libzstd1", "libsnappy1v5", "ca-certificates"):
        check(re.search(r"\b%s\b" % re.escape(pkg), runtime), "runtime stage lacks " + pkg)
    check("-dev" not in runtime, "runtime stage installs a -dev package")
    for prog in DAEMONS:
        check("gtp-" + prog in runtime, "the image lacks gtp-" + prog)
    # ENV: each GTP_* must be accepted by at least one binary.
    all_envs = set().union(*(o[1] for o in opts.values()))
    env_block = " ".join(re.findall(r"^ENV\s+((?:.*\\\n)*.*)$", text, re.M))
    for var in re.findall(r"\b(GTP_\w+)=", env_block):
        check(var in all_envs, "Dockerfile ENV %s is not accepted by any binary" % var)
    for var, want in (("GTP_TAXONOMY", "/usr/local/share/gtp/taxonomy"),
                      ("GTP_DASHBOARD_ASSETS", "/usr/local/share/gtp/dashboard")):
        check(re.search(r"\b%s=%s\b" % (var, re.escape(want)), env_block),
              "Dockerfile ENV %s should point at %s (where cmake --install puts it)" % (var, want))
    m = re.search(r"^CMD\s+(\[.*\])", text, re.M)
    check(m, "Dockerfile has no exec-form CMD")
    if m:
        cmd = json.loads(m.group(1))
        prog = cmd[0].replace("gtp-", "")
        check(prog in opts, "Dockerfile CMD runs %s" % cmd[0])
        if prog in opts:
            for f in flags_in(cmd[1:]):
                check(f in opts[prog][0], "Dockerfile CMD flag %s unknown to %s" % (f, cmd[0]))
    # The build copies every source directory the programs need.
    for d in ("CMakeLists.txt", "include/", "src/", "taxonomy/", "dashboard/"):
        check(re.search(r"^COPY\s+%s" % re.escape(d), text, re.M), "Dockerfile does not COPY " + d)
    ignore = open(os.path.join(ROOT, ".dockerignore")).read().split()
    for needed in ("src", "include", "taxonomy", "dashboard", "CMakeLists.txt"):
        check(needed not in ignore and "/" + needed not in ignore,
              ".dockerignore excludes " + needed)


def check_monitoring(base):
    """The monitoring profile: Prometheus and Grafana, nothing else."""
    project, err = load(COMPOSE, "monitoring")
    assert project, "docker-compose.yml --profile monitoring does not validate:\n" + err
    svcs = project["services"]
    check(set(svcs) == set(base) | {"prometheus", "grafana"},
          "monitoring profile services %s" % sorted(set(svcs) - set(base)))
    mon = os.path.join(ROOT, "deploy", "monitoring")
    for name, img in (("prometheus", r"^prom/prometheus:v2\.\d+\.\d+$"),
                      ("grafana", r"^grafana/grafana:\d+\.\d+\.\d+$")):
        s = svcs.get(name) or {}
        check(s.get("profiles") == ["monitoring"], "%s profiles %s" % (name, s.get("profiles")))
        check(re.match(img, s.get("image", "")), "%s image %r not pinned" % (name, s.get("image")))
        for p in s.get("ports") or []:
            check(p.get("host_ip") == "127.0.0.1", "%s publishes %s beyond loopback" % (name, p))
        for v in s.get("volumes") or []:
            if v.get("type") == "bind":
                check(os.path.realpath(v["source"]).startswith(os.path.realpath(mon) + os.sep) and
                      os.path.exists(v["source"]), "%s mounts %s" % (name, v["source"]))
                check(v.get("read_only"), "%s mounts %s writable" % (name, v["source"]))
            else:
                check(v.get("source") in (project.get("volumes") or {}),
                      "%s volume %s is not a named volume" % (name, v))
    prom = svcs.get("prometheus") or {}
    mounts = {v["target"]: v["source"] for v in prom.get("volumes") or [] if v["type"] == "bind"}
    conf = [a.split("=", 1)[1] for a in prom.get("command") or []
            if a.startswith("--config.file=")]
    check(conf and mounts.get(conf[0]) == os.path.join(mon, "prometheus", "prometheus.yml"),
          "prometheus --config.file %s is not deploy/monitoring/prometheus/prometheus.yml" % conf)
    rules = re.findall(r"^rule_files:\n((?:\s+- .*\n)+)", open(os.path.join(
        mon, "prometheus", "prometheus.yml")).read(), re.M)
    for r in re.findall(r"- (\S+)", rules[0] if rules else ""):
        target = os.path.join(os.path.dirname(conf[0]) if conf else "/", r)
        check(target in mounts, "rule file %s is not mounted into prometheus" % target)
    graf = svcs.get("grafana") or {}
    gm = {v["target"]: v["source"] for v in graf.get("volumes") or [] if v["type"] == "bind"}
    check(gm.get("/etc/grafana/provisioning") == os.path.join(mon, "grafana", "provisioning"),
          "grafana provisioning mount %s" % gm)
    check(gm.get("/var/lib/grafana/dashboards") == os.path.join(mon, "grafana", "dashboards"),
          "grafana dashboards mount %s" % gm)
    check((graf.get("depends_on") or {}).get("prometheus", {}).get("condition") ==
          "service_healthy" and prom.get("healthcheck"), "grafana waits for a healthy prometheus")


CLUSTER = {"kafka-1", "kafka-2", "kafka-3", "redis-primary", "redis-replica", "sentinel-1",
           "sentinel-2", "sentinel-3", "topics-cluster", "processor-cluster", "archiver-cluster",
           "dashboard-cluster", "generator-cluster"}


def check_cluster(base, opts):
    """The cluster profile: the topology of scripts/services.sh --cluster."""
    project, err = load(COMPOSE, "cluster")
    assert project, "docker-compose.yml --profile cluster does not validate:\n" + err
    svcs = project["services"]
    check(set(svcs) == set(base) | CLUSTER,
          "cluster profile services %s" % sorted(set(svcs) - set(base)))
    for name in CLUSTER:
        check((svcs.get(name) or {}).get("profiles") == ["cluster"], "%s not in the cluster "
              "profile" % name)
    voters = "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
    for n in (1, 2, 3):
        env = (svcs.get("kafka-%d" % n) or {}).get("environment") or {}
        check(env.get("KAFKA_NODE_ID") == str(n), "kafka-%d node id %s" % (n, env.get(
            "KAFKA_NODE_ID")))
        check(env.get("KAFKA_CONTROLLER_QUORUM_VOTERS") == voters, "kafka-%d voters" % n)
        check(env.get("KAFKA_PROCESS_ROLES") == "broker,controller", "kafka-%d roles" % n)
        check(env.get("KAFKA_ADVERTISED_LISTENERS") == "PLAINTEXT://kafka-%d:9092" % n,
              "kafka-%d advertises %s" % (n, env.get("KAFKA_ADVERTISED_LISTENERS")))
        for var, want in (("KAFKA_DEFAULT_REPLICATION_FACTOR", "3"),
                          ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "3"),
                          ("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "3"),
                          ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "2"),
                          ("KAFKA_MIN_INSYNC_REPLICAS", "2"),
                          ("KAFKA_MESSAGE_MAX_BYTES", "4194304")):
            check(env.get(var) == want, "kafka-%d %s=%s, want %s" % (n, var, env.get(var), want))
        check((svcs.get("kafka-%d" % n) or {}).get("healthcheck"), "kafka-%d healthcheck" % n)
    tcmd = " ".join((svcs.get("topics-cluster") or {}).get("command") or [])
    created = {m[0]: int(m[1]) for m in re.findall(
        r"--topic (\S+) --partitions (\d+) --replication-factor 3\s+"
        r"--config min\.insync\.replicas=2", tcmd)}
    check(created == services_topics(), "topics-cluster creates %s, services.sh %s" % (
        created, services_topics()))
    rep = " ".join((svcs.get("redis-replica") or {}).get("command") or [])
    check("--replicaof redis-primary 6379" in rep, "redis-replica does not follow redis-primary")
    sentinels = ["sentinel-%d" % n for n in (1, 2, 3)]
    for name in sentinels:
        cmd = " ".join((svcs.get(name) or {}).get("command") or [])
        check("sentinel monitor gtp redis-primary 6379 2" in cmd and "--sentinel" in cmd,
              "%s does not monitor redis-primary as gtp with quorum 2" % name)
        check((svcs.get(name) or {}).get("healthcheck"), "%s healthcheck" % name)
    url = "redis-sentinel://%s/gtp" % ",".join("%s:26379" % n for n in sentinels)
    for d in DAEMONS:
        s = svcs.get(d + "-cluster") or {}
        env = s.get("environment") or {}
        check(s.get("image") == svcs[d]["image"], "%s-cluster image" % d)
        for var in env:
            check(var in opts[d][1], "%s-cluster: %s is not accepted by gtp-%s" % (d, var, d))
        if "GTP_BROKERS" in env or d != "dashboard":
            check(env.get("GTP_BROKERS") == "kafka-1:9092,kafka-2:9092,kafka-3:9092",
                  "%s-cluster brokers %s" % (d, env.get("GTP_BROKERS")))
        if d in ("processor", "dashboard"):
            check(env.get("GTP_REDIS_URL", "").split("?")[0] == url,
                  "%s-cluster redis url %s, want %s" % (d, env.get("GTP_REDIS_URL"), url))
        for dep, c in (s.get("depends_on") or {}).items():
            check(dep in CLUSTER, "%s-cluster depends on %s outside the profile" % (d, dep))
            if c["condition"] == "service_healthy":
                check(svcs[dep].get("healthcheck"), "%s-cluster waits for %s's health" % (d, dep))
    check("container_name" not in (svcs.get("processor-cluster") or {}) and
          not (svcs.get("processor-cluster") or {}).get("ports"),
          "processor-cluster cannot be scaled")


def main():
    opts = {p: help_options(p) for p in list(DAEMONS) + ["enrich"]}
    T.log("compose-go: loading", COMPOSE)
    project, err = load(COMPOSE)
    assert project, "docker-compose.yml does not validate:\n" + err
    svcs = project["services"]

    # The validator must reject a broken file (a typo in a depends_on condition).
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "docker-compose.yml")
        text = open(COMPOSE).read()
        assert "service_healthy" in text
        open(bad, "w").write(text.replace("service_healthy", "service_is_healthy", 1))
        broken, err = load(bad)
        check(broken is None and "condition" in err,
              "compose-go accepted an invalid condition (validator does not bite): %s" % err)

    want = set(DAEMONS) | {"kafka", "redis", "topics"}
    check(set(svcs) == want, "services %s, want %s" % (sorted(svcs), sorted(want)))

    # Images: pinned, and the right ones.
    pom = open(os.path.join(ROOT, "scripts", "kafka", "pom.xml")).read()
    kver = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom).group(1)
    for name, s in svcs.items():
        img = s.get("image", "")
        check(not s.get("profiles"), "%s has profiles %s" % (name, s.get("profiles")))
        check(re.match(r"^[\w./-]+:[\w.-]+$", img) and not img.endswith(":latest"),
              "%s: image %r is not pinned to a tag" % (name, img))
    check(svcs["kafka"]["image"] == "apache/kafka:" + kver,
          "kafka image %s, want apache/kafka:%s (the version scripts/kafka/pom.xml runs)" % (
              svcs["kafka"]["image"], kver))
    check(svcs["topics"]["image"] == svcs["kafka"]["image"], "topics must use the kafka image")
    check(re.match(r"^redis:7(\.\d+)*(-[\w.]+)?$", svcs["redis"]["image"]),
          "redis image %s, want redis:7.x" % svcs["redis"]["image"])
    images = {svcs[d]["image"] for d in DAEMONS}
    check(len(images) == 1, "the daemons use one image, got %s" % images)
    for d in DAEMONS:
        b = svcs[d].get("build") or {}
        check(os.path.realpath(b.get("context", "")) == os.path.realpath(ROOT) and
              b.get("dockerfile", "Dockerfile") in ("Dockerfile", DOCKERFILE),
              "%s is not built from the repo's Dockerfile: %s" % (d, b))

    # Kafka: KRaft single node, the settings of scripts/kafka/server.properties.in.
    kenv = svcs["kafka"]["environment"]
    props = dict(re.findall(r"^([\w.]+)=(.*)$", open(os.path.join(
        ROOT, "scripts", "kafka", "server.properties.in")).read(), re.M))
    for key in ("KAFKA_NODE_ID", "KAFKA_PROCESS_ROLES", "KAFKA_LISTENERS",
                "KAFKA_ADVERTISED_LISTENERS", "KAFKA_CONTROLLER_LISTENER_NAMES",
                "KAFKA_CONTROLLER_QUORUM_VOTERS", "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"):
        check(kenv.get(key), "kafka lacks " + key)
    check(kenv.get("KAFKA_PROCESS_ROLES") == props["process.roles"], "kafka process roles")
    for prop in ("message.max.bytes", "replica.fetch.max.bytes", "num.partitions",
                 "offsets.topic.replication.factor", "transaction.state.log.replication.factor",
                 "group.initial.rebalance.delay.ms"):
        var = "KAFKA_" + prop.replace(".", "_").upper()
        check(kenv.get(var) == props[prop], "%s=%s, server.properties.in has %s=%s" % (
            var, kenv.get(var), prop, props[prop]))
    check(svcs["kafka"].get("healthcheck"), "kafka has no healthcheck")
    check(svcs["redis"].get("healthcheck"), "redis has no healthcheck")

    # Topics: the one-shot service creates exactly services.sh's topics.
    tcmd = " ".join(svcs["topics"].get("entrypoint") or []) + " " + " ".join(
        svcs["topics"].get("command") or [])
    created = {m[0]: int(m[1]) for m in re.findall(
        r"--create --if-not-exists\s+--topic (\S+) --partitions (\d+) --replication-factor 1", tcmd)}
    check(created == services_topics(), "topics service creates %s, services.sh %s" % (
        created, services_topics()))
    check(svcs["topics"].get("restart") in (None, "no"), "the topics one-shot must not restart")

    # Daemons: env vars and flags the binaries accept, ports, health, dependencies.
    for d, port in DAEMONS.items():
        s = svcs[d]
        flags, envs, defaults = opts[d]
        cmd = s.get("command") or []
        check(cmd[:1] == ["gtp-" + d], "%s runs %s" % (d, cmd))
        for f in flags_in(cmd[1:]):
            check(f in flags, "%s: flag %s is not in gtp-%s --help" % (d, f, d))
        env = s.get("environment") or {}
        for var in env:
            check(var in envs, "%s: %s is not accepted by gtp-%s" % (d, var, d))
        if d == "dashboard":
            check(env.get("GTP_LISTEN") == "0.0.0.0:%d" % port, "dashboard GTP_LISTEN")
            check(defaults.get("--listen", "").endswith(":%d" % port), "dashboard default port")
            pub = [(p.get("published"), p.get("target")) for p in s.get("ports") or []]
            check(pub == [(str(port), port)], "dashboard publishes %s, want 8501:8501" % pub)
        else:
            check(env.get("GTP_METRICS_PORT") == str(port), "%s GTP_METRICS_PORT %s, want %d" % (
                d, env.get("GTP_METRICS_PORT"), port))
            check(defaults.get("--metrics-port") == str(port), "gtp-%s default metrics port %s" % (
                d, defaults.get("--metrics-port")))
            check(not s.get("ports"), "%s publishes host ports (breaks --scale)" % d)
        check(healthcheck_port(s) == port, "%s healthcheck probes port %s, want %d" % (
            d, healthcheck_port(s), port))
        if "GTP_TOPIC" in env:
            check(env["GTP_TOPIC"] in services_topics(), "%s topic %s" % (d, env["GTP_TOPIC"]))
        if "GTP_BROKERS" in env:
            check(env["GTP_BROKERS"] == "kafka:9092", "%s brokers %s" % (d, env["GTP_BROKERS"]))
        if "GTP_REDIS_URL" in env:
            check(env["GTP_REDIS_URL"].startswith("redis://redis:6379/"), "%s redis url" % d)
        # Every dependency that must be healthy has a healthcheck, one-shots completed.
        for dep, c in (s.get("depends_on") or {}).items():
            if c["condition"] == "service_healthy":
                check(svcs[dep].get("healthcheck"), "%s waits for %s's health; it has none" % (
                    d, dep))
            if dep == "topics":
                check(c["condition"] == "service_completed_successfully",
                      "%s depends on topics with %s" % (d, c["condition"]))

    p = svcs["processor"]
    check("container_name" not in p, "processor has a container_name: --scale breaks")
    for dep, cond in (("kafka", "service_healthy"), ("redis", "service_healthy"),
                      ("topics", "service_completed_successfully")):
        check((p.get("depends_on") or {}).get(dep, {}).get("condition") == cond,
              "processor must depend on %s with %s" % (dep, cond))
    check((svcs["archiver"].get("depends_on") or {}).get("topics"), "archiver waits for topics")
    check((svcs["dashboard"].get("depends_on") or {}).get("redis", {}).get("condition") ==
          "service_healthy", "dashboard waits for a healthy redis")

    # The archive lives on a named volume at GTP_ARCHIVE_DIR.
    adir = svcs["archiver"]["environment"].get("GTP_ARCHIVE_DIR")
    vols = [v for v in svcs["archiver"].get("volumes") or [] if v.get("target") == adir]
    check(len(vols) == 1 and vols[0].get("type") == "volume" and
          vols[0].get("source") in (project.get("volumes") or {}),
          "archive dir %s is not on a named volume: %s" % (adir, svcs["archiver"].get("volumes")))

    # The demo clock equals the native run.sh's.
    genv = svcs["generator"]["environment"]
    for var, knob in (("GTP_RATE", "GTP_DEMO_RATE"), ("GTP_SPEED", "GTP_DEMO_SPEED"),
                      ("GTP_CHAOS", "GTP_DEMO_CHAOS")):
        check(genv.get(var) == run_sh_default(knob), "generator %s=%s, run.sh %s=%s" % (
            var, genv.get(var), knob, run_sh_default(knob)))
    check(genv.get("GTP_START") == "now-%sh" % run_sh_default("GTP_DEMO_HOURS"),
          "generator GTP_START %s" % genv.get("GTP_START"))

    check_dockerfile(opts)
    check_monitoring(svcs)
    check_cluster(svcs, opts)

    if FAILURES:
        raise SystemExit("%d compose/Dockerfile check(s) failed:\n  %s" % (
            len(FAILURES), "\n  ".join(FAILURES)))
    T.log("compose file valid (compose-go); %d services consistent with the binaries, "
          "services.sh, server.properties.in, pom.xml and run.sh; Dockerfile consistent" % len(svcs))


if __name__ == "__main__":
    main()
