"""Assemble bench/run's raw outputs into one table, bench/results/latest.json and
bench/results/latest.svg (throughput and latency bars, figure beside baseline).

  report.py RAW_DIR RESULTS_DIR

It also appends one line per figure to RESULTS_DIR/history.tsv (date, commit, mode, figure,
value, baseline value, ratio) and names every figure whose ratio to its baseline fell by more
than REGRESSION (0.8: a fifth) against the last run of the same mode: ratios, not raw values,
because the baseline runs beside the figure and absorbs the machine's load.

RAW_DIR holds what bench/run collected: generator.txt, matcher.txt, parquet.txt
(the other scripts' printed reports), throughput.json, latency.json,
compare.json, scaling.json (bench/pbench.py), meta.json, and *.figures.jsonl
(one {"figure", ...} object per line, for scripts that print figures directly).
Standard library only.
"""
import html
import json
import os
import re
import sys


def load_json(d, name):
    p = os.path.join(d, name)
    if os.path.exists(p) and os.path.getsize(p):
        with open(p) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    return None


def read(d, name):
    p = os.path.join(d, name)
    return open(p).read() if os.path.exists(p) else ""


def fig(name, value, unit, baseline, baseline_value, higher_is_better=True, note=""):
    ratio = round(value / baseline_value, 3) if value is not None and baseline_value else None
    return {"figure": name, "value": value, "unit": unit, "baseline": baseline,
            "baseline_value": baseline_value, "ratio": ratio,
            "higher_is_better": higher_is_better, "note": note}


def figures(d):
    out = []
    g = read(d, "generator.txt")
    rows = {m.group(1).strip(): float(m.group(2))
            for m in re.finditer(r"^\| (.+?) \|\s*\d+ \|\s*[\d.]+ \|\s*(\d+) \|$", g, re.M)}
    if "gtp-generator --out /dev/null" in rows:
        out.append(fig("generator_devnull_events_per_s", rows["gtp-generator --out /dev/null"],
                       "events/s", "cat_file_devnull_events_per_s",
                       rows.get("baseline: cat file > /dev/null")))
    if "gtp-generator -> kafka (acks=all)" in rows:
        out.append(fig("generator_kafka_events_per_s", rows["gtp-generator -> kafka (acks=all)"],
                       "events/s", "kcat_produce_events_per_s",
                       rows.get("baseline: kcat -P -l file (same -X)")))
    m = read(d, "matcher.txt")
    a, b = re.search(r"^matcher:\s+([\d.]+) MB/s", m, re.M), re.search(r"^baseline:\s+([\d.]+) MB/s", m, re.M)
    if a and b:
        out.append(fig("matcher_mb_per_s", float(a.group(1)), "MB/s",
                       "strcasestr_per_alias_mb_per_s", float(b.group(1))))
    p = read(d, "parquet.txt").split("== ")
    if len(p) > 1:
        blk = p[1]
        j = re.search(r"^json lines\s+(\d+) rows/s\s+([\d.]+) MB", blk, re.M)
        q = re.search(r"^parquet \S+\s+(\d+) rows/s\s+([\d.]+) MB", blk, re.M)
        if j and q:
            out.append(fig("parquet_zstd_rows_per_s", float(q.group(1)), "rows/s",
                           "json_lines_rows_per_s", float(j.group(1))))
            out.append(fig("parquet_zstd_mb", float(q.group(2)), "MB", "json_lines_mb",
                           float(j.group(2)), higher_is_better=False))
    e = read(d, "event.txt")
    ef = re.search(r"^\s+process fast\s+(\d+) events/s", e, re.M)
    es = re.search(r"^\s+process jansson\s+(\d+) events/s", e, re.M)
    if ef and es:
        out.append(fig("event_validate_events_per_s", float(ef.group(1)), "events/s",
                       "jansson_only_events_per_s", float(es.group(1)), note="one core"))
    def ms(v):  # wrk's "812.00us", "3.54ms", "1.02s"
        return round(float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-2]) if v.endswith("ms")
                     else float(v[:-1]) * 1000, 3)

    # rows may repeat as "name #1", "name #2", ... (rounds): keep the median of each column
    rounds = {}
    # wrk's rows only: their latencies carry a unit (the summary tables' are plain ms)
    for m in re.finditer(r"^\| (.+?) \|\s+(\d+) \|\s+\S+ \|\s+([\d.]+(?:us|ms|s)) \|",
                         read(d, "dashboard.txt"), re.M):
        name = re.sub(r" #\d+$", "", m.group(1).strip())
        rounds.setdefault(name, []).append((float(m.group(2)), m.group(3)))
    dash = {}
    for name, rs in rounds.items():
        rps = sorted(r[0] for r in rs)[(len(rs) - 1) // 2]
        p99 = sorted((r[1] for r in rs), key=ms)[(len(rs) - 1) // 2]
        dash[name] = (rps, p99)

    base = dash.get("baseline: static /style.css")
    if base:
        for row, name in (("/api/pulse (default, 1 s cache)", "dashboard_pulse"),
                          ("/api/pulse (--cache-ms 0)", "dashboard_pulse_nocache"),
                          ("/api/heatmap (--cache-ms 0)", "dashboard_heatmap_nocache")):
            if row in dash:
                out.append(fig(name + "_req_per_s", dash[row][0], "req/s",
                               "static_file_req_per_s", base[0], note="wrk, same server"))
        if "/api/pulse (default, 1 s cache)" in dash:
            out.append(fig("dashboard_pulse_p99_ms", ms(dash["/api/pulse (default, 1 s cache)"][1]),
                           "ms", "static_file_p99_ms", ms(base[1]), higher_is_better=False))
        # every other endpoint as deployed (answer cache): "/api/skill 7 d (default, 1 s cache)"
        # -> dashboard_cached_skill_7_d_req_per_s and _p99_ms
        for row, (rps, p99) in dash.items():
            if not row.endswith(" (default, 1 s cache)") or row.startswith("/api/pulse (default"):
                continue
            slug = re.sub(r"[^a-z0-9]+", "_", row[len("/api/"):-len(" (default, 1 s cache)")].lower())
            name = "dashboard_cached_" + slug.strip("_")
            out.append(fig(name + "_req_per_s", rps, "req/s", "static_file_req_per_s", base[0],
                           note="wrk, same server, 1 s answer cache"))
            out.append(fig(name + "_p99_ms", ms(p99), "ms", "static_file_p99_ms", ms(base[1]),
                           higher_is_better=False))
    # the fixed-rate table (h2load --rps): the worst endpoint's p99 and the least rate kept,
    # beside the static file at the same offered rate
    offered = re.search(r"^every cached endpoint at a fixed offered rate of (\d+) req/s",
                        read(d, "dashboard.txt"), re.M)
    rate_rows = [(m.group(1).strip(), float(m.group(2)), float(m.group(3)))
                 for m in re.finditer(r"^\| rate (.+?) \|\s+(\d+) \|\s+\S+ \|\s+(\S+) \|",
                                      read(d, "dashboard.txt"), re.M)]
    r_base = [r for r in rate_rows if r[0].startswith("baseline:")]
    r_api = [r for r in rate_rows if not r[0].startswith("baseline:")]
    if offered and r_base and r_api:
        worst = max(r_api, key=lambda r: r[2])
        out.append(fig("dashboard_rate_worst_p99_ms", worst[2], "ms", "static_file_rate_p99_ms",
                       max(r[2] for r in r_base), higher_is_better=False,
                       note=f"h2load at {offered.group(1)} req/s offered; worst: {worst[0]}"))
        out.append(fig("dashboard_rate_least_kept_req_per_s", min(r[1] for r in r_api), "req/s",
                       "offered_req_per_s", float(offered.group(1)), note="h2load --rps"))
    arch = {m.group(1).strip(): m.group(2).strip()
            for m in re.finditer(r"^\| (.+?) \|\s+(.+?) \|$", read(d, "archiver.txt"), re.M)}

    def num(v):
        return float(v.split()[0].replace(",", ""))

    a_rate = next((v for k, v in arch.items() if k.startswith("gtp-archiver start -> last commit")), None)
    if a_rate and "baseline: kcat -C -e to JSON lines" in arch:
        out.append(fig("archiver_rows_per_s", num(a_rate), "rows/s", "kcat_consume_to_jsonl_msg_per_s",
                       num(arch["baseline: kcat -C -e to JSON lines"]),
                       note="process start to the last delta commit"))
    if "parquet files" in arch and "raw JSON (message values)" in arch:
        out.append(fig("archiver_parquet_mb", num(arch["parquet files"]), "MB", "raw_json_mb",
                       num(arch["raw JSON (message values)"]), higher_is_better=False))
    c = load_json(d, "compare.json")
    if c:
        pr, sp = c["processor"], c["spark"]
        n = c["events"]
        out.append(fig("processor_events_per_s", pr["events_per_s"], "events/s",
                       "spark_events_per_s", sp["events_per_s"],
                       note=f"{n} events, comparison taxonomy; spark: query time, JVM start excluded"))
        out.append(fig("processor_time_to_last_result_s", pr["seconds"], "s",
                       "spark_time_to_last_result_s", sp["total_s"], higher_is_better=False,
                       note="from process start"))
        out.append(fig("processor_cpu_s", pr["cpu_s"], "s", "spark_cpu_s", sp["cpu_s"],
                       higher_is_better=False))
        out.append(fig("processor_events_per_cpu_s", round(n / pr["cpu_s"]) if pr["cpu_s"] else None,
                       "events/cpu-s", "spark_events_per_cpu_s",
                       round(n / sp["cpu_s"]) if sp["cpu_s"] else None,
                       note="load-independent: events per CPU second"))
        out.append(fig("processor_peak_rss_mb", round(pr["peak_rss_kb"] / 1024, 1), "MB",
                       "spark_peak_rss_mb", round(sp["peak_rss_kb"] / 1024, 1),
                       higher_is_better=False, note="spark: summed over its process tree"))
    t = load_json(d, "throughput.json")
    if t:
        out.append(fig("processor_e2e_events_per_s", t["events_per_s"], "events/s",
                       "kcat_consume_events_per_s", t["kcat_events_per_s"],
                       note=f"{t['events']} events, full taxonomy, to the last flush; median of "
                            f"{t.get('rounds', 1)} alternating runs each"))
        out.append(fig("processor_peak_rss_mb_e2e", round(t["peak_rss_kb"] / 1024, 1), "MB",
                       "spark_peak_rss_mb",
                       round(c["spark"]["peak_rss_kb"] / 1024, 1) if c else None,
                       higher_is_better=False, note="VmHWM, the largest of the e2e runs"))
    lat = load_json(d, "latency.json")
    if lat:
        out.append(fig("processor_p99_latency_ms", lat["p99_ms"], "ms", "kafka_consumer_p99_latency_ms",
                       lat["kafka_p99_ms"], higher_is_better=False,
                       note=f"at {lat['rate_events_per_s']} events/s; CreateTime -> visible in redis"))
    ins = load_json(d, "insights.json")
    if ins:
        out.append(fig("processor_insights_events_per_s", ins["events_per_s_on"], "events/s",
                       "processor_no_insights_events_per_s", ins["events_per_s_off"],
                       note=f"cost {ins['cost_pct']} % (target <= 15 %), median of "
                            f"{ins['rounds']} alternating runs each"))
        out.append(fig("flush_script_ms_with_insights", ins["lua_ms_per_flush_on"], "ms",
                       "flush_script_ms_without", ins["lua_ms_per_flush_off"],
                       higher_is_better=False, note="EVALSHA time inside redis per flush"))
    s = load_json(d, "scaling.json")
    if s:
        runs = {r["instances"]: r for r in s["runs"]}
        one = runs.get(1)
        for k, r in sorted(runs.items()):
            if k > 1 and one:
                out.append(fig(f"processor_{k}x_events_per_s", r["events_per_s"], "events/s",
                               "processor_1x_events_per_s", one["events_per_s"],
                               note=f"{s['cores']} cores"))
    for name in sorted(os.listdir(d)):
        if name.endswith(".figures.jsonl"):
            for line in open(os.path.join(d, name)):
                line = line.strip()
                if line.startswith("{"):
                    out.append(json.loads(line))
    return out


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float) and v != int(v):
        return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.3g}"
    return f"{int(v):,}"


def table(figs):
    lines = [f"| {'figure':34} | {'value':>12} | {'unit':8} | {'baseline (same run)':36} | "
             f"{'baseline':>12} | {'ratio':>8} |",
             "|" + "-" * 36 + "|" + "-" * 14 + "|" + "-" * 10 + "|" + "-" * 38 + "|" + "-" * 14
             + "|" + "-" * 10 + "|"]
    for f in figs:
        r = f["ratio"]
        rs = "-" if r is None else (f"{r:.2f}x" if r >= 0.1 else f"1/{1 / r:.0f}" if r else "0")
        lines.append(f"| {f['figure']:34} | {fmt(f['value']):>12} | {f['unit']:8} | "
                     f"{f['baseline'] or '-':36} | {fmt(f['baseline_value']):>12} | {rs:>8} |")
    return "\n".join(lines)


def svg(figs, meta):
    """Horizontal bar pairs: each figure (blue) beside its baseline (grey), log scale per
    panel so 1e3 and 1e6 events/s fit; one panel for throughput, one for latency/memory."""
    thr = [f for f in figs if f["higher_is_better"] and f["value"] and f["baseline_value"]]
    low = [f for f in figs if not f["higher_is_better"] and f["value"] and f["baseline_value"]]
    import math

    W, rowh, left, barw = 980, 44, 330, 520
    parts, y = [], 84

    def panel(title, items):
        nonlocal y
        if not items:
            return
        parts.append(f'<text x="20" y="{y}" font-size="16" font-weight="bold">{html.escape(title)}</text>')
        y += 14
        hi = max(max(f["value"], f["baseline_value"]) for f in items)
        lo = min(min(f["value"], f["baseline_value"]) for f in items)
        lmin, lmax = math.floor(math.log10(lo)) - 0.3, math.log10(hi) + 0.05

        def w(v):
            return max(2, barw * (math.log10(v) - lmin) / (lmax - lmin))

        for f in items:
            parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="12">'
                         f'{html.escape(f["figure"])}</text>')
            parts.append(f'<rect x="{left}" y="{y + 3}" width="{w(f["value"]):.1f}" height="16" '
                         f'fill="#2b6cb0"><title>{fmt(f["value"])} {html.escape(f["unit"])}</title></rect>')
            parts.append(f'<text x="{left + w(f["value"]) + 5:.1f}" y="{y + 16}" font-size="11">'
                         f'{fmt(f["value"])} {html.escape(f["unit"])}</text>')
            parts.append(f'<text x="{left - 8}" y="{y + 35}" text-anchor="end" font-size="11" '
                         f'fill="#555">{html.escape(f["baseline"])}</text>')
            parts.append(f'<rect x="{left}" y="{y + 23}" width="{w(f["baseline_value"]):.1f}" '
                         f'height="14" fill="#a0aec0"/>')
            parts.append(f'<text x="{left + w(f["baseline_value"]) + 5:.1f}" y="{y + 34}" '
                         f'font-size="11" fill="#555">{fmt(f["baseline_value"])}</text>')
            y += rowh
        y += 30

    panel("Throughput (higher is better, log scale): figure vs baseline measured in the same run", thr)
    panel("Latency, time, CPU and memory (lower is better, log scale)", low)
    head = (f'<text x="20" y="28" font-size="18" font-weight="bold">Global Talent Pulse benchmarks'
            f'</text><text x="20" y="46" font-size="12" fill="#555">{html.escape(meta)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{y}" '
            f'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>'
            + head + "".join(parts) + "</svg>\n")


HISTORY_COLS = ("date", "commit", "mode", "figure", "value", "baseline_value", "ratio")
REGRESSION = 0.8


def history(res, meta, figs):
    """Append this run to history.tsv; the figures whose ratio fell below REGRESSION times
    the previous same-mode run's, as (figure, previous ratio, ratio)."""
    path = os.path.join(res, "history.tsv")
    last = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                row = dict(zip(HISTORY_COLS, line.rstrip("\n").split("\t")))
                if row.get("mode") == meta.get("mode") and row.get("ratio") not in (None, "", "None"):
                    last[row["figure"]] = float(row["ratio"])
    fell = []
    new = not os.path.exists(path)
    with open(path, "a") as f:
        if new:
            f.write("\t".join(HISTORY_COLS) + "\n")
        for g in figs:
            f.write("\t".join(str(x) for x in (meta.get("date", "?"), meta.get("commit", "?"),
                                                meta.get("mode", "?"), g["figure"], g["value"],
                                                g["baseline_value"], g["ratio"])) + "\n")
            prev = last.get(g["figure"])
            if prev and g["ratio"] is not None:
                worse = g["ratio"] < prev * REGRESSION if g["higher_is_better"] else \
                    g["ratio"] > prev / REGRESSION
                if worse:
                    fell.append((g["figure"], prev, g["ratio"]))
    return fell


def main():
    raw, res = sys.argv[1], sys.argv[2]
    meta = load_json(raw, "meta.json") or {}
    figs = figures(raw)
    doc = {"meta": meta, "figures": figs}
    for extra in ("compare", "scaling", "latency", "throughput"):
        doc[extra] = load_json(raw, extra + ".json")
    os.makedirs(res, exist_ok=True)
    with open(os.path.join(res, "latest.json.tmp"), "w") as f:
        json.dump(figs, f, indent=1)
    os.replace(os.path.join(res, "latest.json.tmp"), os.path.join(res, "latest.json"))
    with open(os.path.join(res, "details.json"), "w") as f:
        json.dump(doc, f, indent=1)
    m = (f"{meta.get('mode', '?')} run, {meta.get('date', '')}, {meta.get('cores', '?')} cores, "
         f"load {meta.get('load', '?')}, {meta.get('events', '?')} events")
    with open(os.path.join(res, "latest.svg"), "w") as f:
        f.write(svg(figs, m))
    print(table(figs))
    c = doc["compare"]
    if c:
        print(f"\nspark comparison: {c['events']} events, {c['trend_keys']} trend keys, "
              f"{c['mismatched_keys']} mismatched -> counts "
              f"{'AGREE' if c['counts_agree'] else 'DISAGREE'} (per skill, region, hour)")
    s = doc["scaling"]
    if s:
        for r in s["runs"]:
            per = ", ".join(f"{p['events_per_s']:,}/s ({p['events']:,} ev, {p['cpu_s']} cpu s)"
                            for p in r["per_instance"])
            print(f"scaling: {r['instances']} instance(s): {r['events_per_s']:,} events/s total, "
                  f"processors {r.get('processors_cpu_s', '?')} cpu s, redis {r.get('redis_cpu_s', '?')} "
                  f"cpu s; per instance {per}")
    missing = [n for n in ("generator.txt", "matcher.txt", "parquet.txt", "event.txt",
                           "dashboard.txt", "archiver.txt", "throughput.json",
                           "latency.json", "compare.json", "scaling.json")
               if not os.path.exists(os.path.join(raw, n))]
    if missing:
        print("missing: " + ", ".join(missing))
    for name, prev, now in history(res, meta, figs):
        print(f"REGRESSION: {name}: ratio {now} against {prev} in the last {meta.get('mode')} run")
    print(f"\nwrote {res}/latest.json, {res}/details.json, {res}/latest.svg, {res}/history.tsv")


if __name__ == "__main__":
    main()
