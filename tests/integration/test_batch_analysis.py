"""Batch analysis (README "Batch analysis"): the notebook notebooks/batch_analysis.ipynb and
the README's Spark recipe, run for real against an archive made for real, must give the answers
this test computes on its own.

A seeded chaotic stream whose simulated clock covers about ten days goes into a private topic;
gtp-archiver archives it until the Delta log's txn of every partition reaches the topic's end,
then stops on SIGTERM. The expected answers come from the topic, not from the archive: every
message through gtp-enrich and the archive's rules (rejects, duplicates, late events) as
gtptest.expected_from_topic models them, then plain Python counting (no SQL, no pandas). The
archive must hold exactly the modelled rows; the notebook runs headless (scripts/nb, jupyter
nbconvert --execute) and the README's snippet between <!-- spark-recipe:begin/end --> runs
through scripts/spark (the README's one-liner must extract that same snippet); each answer of
their JSON must equal the model's. The answers' sizes (top 10 per region, 15 pairs, 10
skills) are the notebook's defaults: changing them there fails here until the model follows.

Usage: GTP_BUILD_DIR=<build> scripts/py tests/integration/test_batch_analysis.py
  GTP_TEST_EVENTS (default 12000) events; GTP_TEST_KEEP=1 keeps the archive, the executed
  notebook, the answers and the plots under GTP_BUILD_DIR/test-batch-<id>/."""
import collections
import datetime
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402
import test_archiver_exact as A  # noqa: E402  (its archiver start/catch-up/stop helpers)

import pyarrow as pa  # noqa: E402
import pyarrow.dataset as ds  # noqa: E402

COUNT = int(os.environ.get("GTP_TEST_EVENTS", "12000"))
SEED = 20240301
START = "2024-03-01T00:00:00Z"
DAYS = 10  # simulated days the stream should span (the daily cycle makes it a little more)
SKILL = "python"
TOP_PER_REGION, TOP_PAIRS, TOP_SKILLS = 10, 15, 10
LEVELS = ["Intern", "Junior", "Mid", "Senior", "Lead", "Principal", "Director", "Unspecified"]
NOTEBOOK = os.path.join(T.ROOT, "notebooks", "batch_analysis.ipynb")


# ---- the model's answers -------------------------------------------------------------------

def ranked(counter, n):
    """The n largest (key, count), ties by key."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def model_answers(records):
    """Every answer from the archived records (gtp-enrich's dicts) by plain counting."""
    posts = []
    for r in records:
        skills = sorted({s for s in (r["skills_array"] or []) if s is not None})
        posts.append((r["date_posted"], r["region"], skills,
                      r["experience_level"] or "Unspecified", r["is_remote"] is True))
    days = sorted({p[0] for p in posts})
    newest = datetime.date.fromisoformat(days[-1])
    first = (newest - datetime.timedelta(days=6)).isoformat()

    by_region = collections.defaultdict(collections.Counter)
    pairs, mentions = collections.Counter(), collections.Counter()
    for day, region, skills, _, _ in posts:
        if first <= day <= newest.isoformat() and skills:
            by_region[region].update(skills)
        pairs.update(itertools.combinations(skills, 2))
        mentions.update(skills)
    top = [s for s, _ in ranked(mentions, TOP_SKILLS)]

    levels = {s: collections.Counter() for s in top}
    remote = {s: [0, 0] for s in top}
    per_day = collections.defaultdict(lambda: [0, 0])
    for day, _, skills, level, is_remote in posts:
        for s in skills:
            if s in levels:
                levels[s][level] += 1
                remote[s][0] += 1
                remote[s][1] += is_remote
        per_day[day][0] += 1
        per_day[day][1] += SKILL in skills
    n_remote = sum(p[4] for p in posts)
    return {
        "rows": {"duckdb": len(posts), "deltalake": len(posts)},
        "newest_day": newest.isoformat(),
        "week": [first, newest.isoformat()],
        "top_skills_by_region": {reg: [[s, n] for s, n in ranked(c, TOP_PER_REGION)]
                                 for reg, c in by_region.items()},
        "pairs": [[a, b, n] for (a, b), n in ranked(pairs, TOP_PAIRS)],
        "top_skills": [[s, mentions[s]] for s in top],
        "seniority": {s: {lv: [levels[s][lv], levels[s][lv] / mentions[s]] for lv in LEVELS}
                      for s in top},
        "remote": {
            "overall": {"postings": len(posts), "remote": n_remote,
                        "share": n_remote / len(posts)},
            "by_skill": {s: {"postings": n, "remote": k, "share": k / n}
                         for s, (n, k) in remote.items()}},
        "trend": {"skill": SKILL, "days": [[d, per_day[d][0], per_day[d][1],
                                            per_day[d][1] / per_day[d][0]] for d in days]},
    }


def sanity(exp, want, records):
    """The data must make every answer mean something, else a match proves little."""
    assert exp.duplicates > 0 and exp.late > 0 and exp.rejected, \
        "the stream must exercise duplicates, late events and rejects"
    assert len(want["trend"]["days"]) >= 8, "the archive spans only %d days" % len(
        want["trend"]["days"])
    week_days = {d for d, *_ in want["trend"]["days"] if want["week"][0] <= d}
    assert len(week_days) == 7, "last week holds %d days with postings" % len(week_days)
    assert len(want["top_skills_by_region"]) >= 10, "too few regions"
    assert all(len(v) == TOP_PER_REGION for k, v in want["top_skills_by_region"].items()
               if k in ("US", "UK", "IN", "DE")), "big regions must fill their top 10"
    assert len(want["pairs"]) == TOP_PAIRS and len(want["top_skills"]) == TOP_SKILLS
    assert 0 < want["remote"]["overall"]["share"] < 1, "remote and on-site postings expected"
    assert sum(d[2] for d in want["trend"]["days"]) > 0, "nobody asks for %s" % SKILL
    unknown = {r["experience_level"] for r in records} - set(LEVELS) - {None}
    assert not unknown, "experience levels outside the README's list: %s" % unknown


# ---- comparing -----------------------------------------------------------------------------

def differences(got, want, path="answers"):
    """Every place where got differs from want (floats to 1e-9 relative), as text."""
    if isinstance(want, float) or isinstance(got, float):
        ok = (isinstance(got, (int, float)) and isinstance(want, (int, float)) and
              math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12))
        return [] if ok else ["%s: %r, want %r" % (path, got, want)]
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return ["%s: %r, want an object" % (path, got)]
        out = ["%s: missing key %r" % (path, k) for k in sorted(set(want) - set(got))]
        out += ["%s: unexpected key %r" % (path, k) for k in sorted(set(got) - set(want))]
        for k in sorted(set(want) & set(got)):
            out += differences(got[k], want[k], "%s[%r]" % (path, k))
        return out
    if isinstance(want, list):
        if not isinstance(got, list):
            return ["%s: %r, want a list" % (path, got)]
        out = [] if len(got) == len(want) else ["%s: %d items, want %d" % (
            path, len(got), len(want))]
        for i, (g, w) in enumerate(zip(got, want)):
            out += differences(g, w, "%s[%d]" % (path, i))
        return out
    return [] if got == want and type(got) is type(want) else [
        "%s: %r, want %r" % (path, got, want)]


def check_answers(who, got, want):
    diff = differences(got, want)
    assert not diff, "%s differs from the model in %d place(s):\n  %s" % (
        who, len(diff), "\n  ".join(diff[:25]))
    T.log("%s: every answer equals the model's (%s)" % (who, ", ".join(sorted(want))))


# ---- running the archive, the notebook and the recipe --------------------------------------

def make_archive(root):
    topic = T.private_topic("test.batch")
    dlq = T.private_topic("test.batch.dlq", 3)
    rate = COUNT / (DAYS * 86400.0)  # events per simulated second
    T.generate(topic, COUNT, SEED, 0.05,
               extra=["--start", START, "--rate", "%.6g" % rate, "--speed", "1e9"])
    msgs, ends = T.read_topic(topic)
    exp = T.expected_from_topic(msgs)
    pr = A.start_archiver(topic, dlq, "gtp-archiver-test-" + uuid.uuid4().hex[:8], root,
                          "batch-archiver.log", roll_rows=4000, compact=False)
    A.wait_archived(root, topic, ends, procs=[pr])
    A.stop(pr)
    return exp, (topic, dlq)


def check_archive_rows(root, exp):
    """The archive holds exactly the modelled rows (by event_id and posted_at)."""
    part = ds.partitioning(pa.schema([("date_posted", pa.date32()), ("region", pa.string())]),
                           flavor="hive")
    # (files and directories starting with "_" or ".", such as _delta_log, are skipped)
    t = ds.dataset(root, format="parquet", partitioning=part).to_table(
        columns=["event_id", "posted_at"])
    got = collections.Counter(zip(t.column("event_id").to_pylist(),
                                  t.column("posted_at").cast("int64").to_pylist()))
    want = collections.Counter((r["event_id"], T.parse_ts_us(r["posted_at"]))
                               for r in exp.archived)
    assert got == want, "archive: %d rows, model %d (%d missing, %d extra)" % (
        sum(got.values()), sum(want.values()), sum((want - got).values()),
        sum((got - want).values()))


def run(cmd, what, env, log_name, timeout):
    """Run a step with its output in BUILD/test-logs/log_name; fail with its tail."""
    path = os.path.join(T.BUILD, "test-logs", log_name)
    t0 = time.time()
    with open(path, "wb") as logf:
        rc = subprocess.run(cmd, env=env, stdout=logf, stderr=subprocess.STDOUT,
                            timeout=timeout).returncode
    if rc != 0:
        with open(path, "rb") as f:
            tail = f.read().decode("utf-8", "replace").splitlines()[-40:]
        raise AssertionError("%s failed (exit %d); last lines of %s:\n%s" % (
            what, rc, path, "\n".join(tail)))
    T.log("%s: %.1f s" % (what, time.time() - t0))


def run_notebook(root, work):
    answers = os.path.join(work, "notebook-answers.json")
    figures = os.path.join(work, "figures")
    env = dict(os.environ, GTP_ARCHIVE=root, GTP_ANSWERS=answers, GTP_FIGURES=figures,
               GTP_SKILL=SKILL)
    run([os.path.join(T.ROOT, "scripts", "nb"), "-m", "jupyter", "nbconvert", "--to", "notebook",
         "--execute", "--ExecutePreprocessor.timeout=600", "--output-dir", work, NOTEBOOK],
        "notebook", env, "batch-notebook.log", 1800)
    # Each plot both shown in the notebook and saved; no cell ended in an error.
    with open(os.path.join(work, os.path.basename(NOTEBOOK))) as f:
        nb = json.load(f)
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, "notebook cell error: %s" % errors[0].get("evalue")
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    assert images >= 4, "the executed notebook shows %d plots, want 4" % images
    for name in ("pairs.png", "seniority.png", "remote.png", "trend_%s.png" % SKILL):
        p = os.path.join(figures, name)
        with open(p, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % p
    with open(answers) as f:
        got = json.load(f)
    assert os.path.samefile(got.pop("archive"), root), "the notebook read another archive"
    return got


def readme_recipe():
    """The README's Spark snippet, exactly as written between its markers. The README's
    one-liner that runs it from the file must extract the same text (run here with cat in
    place of scripts/spark)."""
    with open(os.path.join(T.ROOT, "README.md")) as f:
        text = f.read()
    m = re.search(r"<!-- spark-recipe:begin -->\n```python\n(.*?)```\n<!-- spark-recipe:end -->",
                  text, re.S)
    assert m, "README.md: no ```python block between the spark-recipe markers"
    cmd = re.search(r"```sh\n(sed -n [^\n]*spark-recipe.*?scripts/spark -)\n```", text,
                    re.S)
    assert cmd, "README.md: the command that runs the recipe is missing"
    out = subprocess.run(["bash", "-c", cmd.group(1)[:-len("scripts/spark -")] + "cat"],
                         cwd=T.ROOT, stdout=subprocess.PIPE, check=True).stdout.decode()
    assert out == m.group(1), "README.md: its command does not extract the recipe exactly"
    return m.group(1)


def run_spark(root, work):
    script = os.path.join(work, "spark_recipe.py")
    with open(script, "w") as f:
        f.write(readme_recipe())
    answers = os.path.join(work, "spark-answers.json")
    env = dict(os.environ, GTP_ARCHIVE=root, GTP_ANSWERS=answers, GTP_SKILL=SKILL)
    # scripts/spark installs pyspark, delta-spark and Delta's jars on first use: when that
    # fails this fails (with its log), it never skips.
    run([os.path.join(T.ROOT, "scripts", "spark"), script], "spark recipe", env,
        "batch-spark.log", 1800)
    with open(answers) as f:
        return json.load(f)


def main():
    os.makedirs(os.path.join(T.BUILD, "test-logs"), exist_ok=True)
    t0 = time.time()
    work = os.path.join(T.BUILD, "test-batch-%s" % uuid.uuid4().hex[:8])
    root = os.path.join(work, "archive")
    os.makedirs(work)
    exp, topics = make_archive(root)
    T.log("archive: %d rows (%d duplicates dropped, %d late kept, %d rejected), %.1f s" % (
        len(exp.archived), exp.duplicates, exp.late, len(exp.rejected), time.time() - t0))
    check_archive_rows(root, exp)
    want = model_answers(exp.archived)
    sanity(exp, want, exp.archived)
    T.log("model: %d days %s .. %s, last week %s .. %s, %d regions" % (
        len(want["trend"]["days"]), want["trend"]["days"][0][0], want["newest_day"],
        want["week"][0], want["week"][1], len(want["top_skills_by_region"])))

    check_answers("notebook", run_notebook(root, work), want)
    keys = ("newest_day", "top_skills_by_region", "trend")
    check_answers("spark recipe", run_spark(root, work), {k: want[k] for k in keys})

    for t in topics:
        T.services("delete-topic", t)
    if not os.environ.get("GTP_TEST_KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    T.log("ok (%.0f s)" % (time.time() - t0))


if __name__ == "__main__":
    main()
