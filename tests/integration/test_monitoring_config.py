"""The monitoring profile's files (deploy/monitoring/, docs/programs.md#monitoring)
without Docker:
- `promtool check config` on prometheus.yml and `promtool check rules` on
  alerts.yml; `promtool test rules` runs alerts_test.yml (each alert fires on a
  series that should trip it, stays quiet otherwise);
- every daemon of docs/programs.md is scraped on its port, by its compose
  service name;
- the Grafana dashboard is valid JSON whose panels all use the provisioned
  datasource, and every metric an alert or a panel queries is one
  docs/metrics.md lists (so a rename cannot leave a dashboard silently empty);
- a broken rule file and a rule naming an unknown metric are rejected, so the
  checks are known to bite.
No services needed."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402

MON = os.path.join(T.ROOT, "deploy", "monitoring")
PROM = os.path.join(MON, "prometheus")
GRAFANA = os.path.join(MON, "grafana")
DAEMONS = {"generator": 9101, "processor": 9102, "archiver": 9103, "dashboard": 8501}
PROMTOOL = shutil.which("promtool")


def promtool(*args, cwd=PROM):
    p = subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, timeout=120)
    return p.returncode, (p.stdout + p.stderr).decode()


def documented_metrics():
    """Metric names in docs/metrics.md's tables (histograms expand to their series)."""
    text = open(os.path.join(T.ROOT, "docs", "metrics.md")).read()
    names = set()
    for row in re.findall(r"^\| `([^|]*)` \|", text, re.M):
        for n in re.findall(r"((?:gtp|process)_[a-z0-9_]+)", row):
            names.add(n)
    for n in list(names):
        names.update({n + "_bucket", n + "_sum", n + "_count"})
    names.add("up")  # Prometheus's own, per target
    return names


def metrics_in(expr):
    """Metric names a PromQL expression uses: bare names and {__name__=~"a|b"} sets."""
    out = set()
    for m in re.finditer(r'__name__=~"([^"]+)"', expr):
        alts = re.match(r"^(\w*)\(([\w|]+)\)(\w*)$", m.group(1))
        assert alts, "unsupported __name__ pattern %s" % m.group(1)
        out.update(alts.group(1) + a + alts.group(3) for a in alts.group(2).split("|"))
    expr = re.sub(r'\{[^}]*\}', "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    for tok in re.findall(r"\b[a-z_][a-z0-9_]*\b", expr):
        if tok.startswith(("gtp_", "process_")) or tok == "up":
            out.add(tok)
    return out


def rule_exprs(path):
    """The expr of each rule in a rules file (folded `>-` blocks joined)."""
    exprs, cur = [], None
    for line in open(path):
        m = re.match(r"^\s+expr: (>-)?\s*(.*)$", line)
        if m:
            cur = [m.group(2)] if not m.group(1) else []
            exprs.append(cur)
            continue
        if cur is not None and re.match(r"^\s{10,}\S", line):
            cur.append(line.strip())
        else:
            cur = None
    return [" ".join(e) for e in exprs]


def check_names(where, exprs, known):
    for e in exprs:
        unknown = metrics_in(e) - known
        assert not unknown, "%s queries %s, not in docs/metrics.md: %s" % (where, unknown, e)


def main():
    if not PROMTOOL:
        raise SystemExit("promtool not found: apt-get install prometheus (scripts/setup.sh)")
    rc, out = promtool("check", "config", "prometheus.yml")
    assert rc == 0, "promtool check config:\n" + out
    rc, out = promtool("check", "rules", "alerts.yml")
    assert rc == 0, "promtool check rules:\n" + out
    rc, out = promtool("test", "rules", "alerts_test.yml")
    assert rc == 0 and "SUCCESS" in out, "promtool test rules:\n" + out
    T.log("promtool: config, rules and rule tests pass")

    # Scrape targets: each daemon by service name on its port (dns_sd: every replica).
    conf = open(os.path.join(PROM, "prometheus.yml")).read()
    jobs = {m[0]: (m[1], int(m[2])) for m in re.findall(
        r"- job_name: (\w+)\n\s+dns_sd_configs:\n\s+- names: \[(\w+)\]\n\s+type: A\n"
        r"\s+port: (\d+)", conf)}
    assert jobs == {d: (d, p) for d, p in DAEMONS.items()}, "scrape jobs %s" % jobs

    # Grafana: the datasource the dashboards use is the provisioned one.
    ds = open(os.path.join(GRAFANA, "provisioning", "datasources", "prometheus.yml")).read()
    uid = re.search(r"^\s+uid: (\S+)$", ds, re.M).group(1)
    assert re.search(r"^\s+url: http://prometheus:9090$", ds, re.M), "datasource url"
    prov = open(os.path.join(GRAFANA, "provisioning", "dashboards", "gtp.yml")).read()
    assert re.search(r"path: /var/lib/grafana/dashboards$", prov, re.M), "dashboard provider path"
    dashboards = [f for f in os.listdir(os.path.join(GRAFANA, "dashboards"))
                  if f.endswith(".json")]
    assert dashboards, "no dashboard JSON"
    known = documented_metrics()
    exprs = []
    for f in dashboards:
        d = json.load(open(os.path.join(GRAFANA, "dashboards", f)))
        assert d.get("uid") and d.get("title") and d.get("panels"), "%s: uid/title/panels" % f
        ids = [p["id"] for p in d["panels"]]
        assert len(ids) == len(set(ids)), "%s: duplicate panel ids" % f
        for p in d["panels"]:
            assert p["datasource"]["uid"] == uid, "%s panel %r: datasource %s" % (
                f, p["title"], p["datasource"])
            assert p.get("targets"), "%s panel %r has no query" % (f, p["title"])
            for t in p["targets"]:
                assert t["datasource"]["uid"] == uid
                exprs.append(t["expr"])
    check_names("the dashboard", exprs, known)
    rules = rule_exprs(os.path.join(PROM, "alerts.yml"))
    assert len(rules) >= 5, "found %d rule expressions" % len(rules)
    check_names("alerts.yml", rules, known)
    T.log("%d dashboard queries and %d alert rules use documented metrics" % (
        len(exprs), len(rules)))

    # The checks bite: a syntax error, and a rule on a metric that does not exist.
    with tempfile.TemporaryDirectory() as tmp:
        text = open(os.path.join(PROM, "alerts.yml")).read()
        open(os.path.join(tmp, "alerts.yml"), "w").write(
            text.replace("> 10000", "> > 10000", 1))
        rc, out = promtool("check", "rules", "alerts.yml", cwd=tmp)
        assert rc != 0, "promtool accepted a broken expression"
        bad = text.replace("gtp_archiver_disk_errors_total", "gtp_archiver_disk_errors_ms_total")
        open(os.path.join(tmp, "alerts.yml"), "w").write(bad)
        try:
            check_names("broken alerts.yml", rule_exprs(os.path.join(tmp, "alerts.yml")), known)
        except AssertionError:
            pass
        else:
            raise AssertionError("a rule on an undocumented metric was accepted")
    print("test_monitoring_config: ok")


if __name__ == "__main__":
    main()
