"""Compaction, vacuum and checkpoints of the archive against a real broker
(docs/archive.md): a seeded chaotic stream covering about four days of event time is
archived with tiny rolls (many small files and commits), then `gtp-archiver --maintain`
compacts and, in a second run, vacuums. After each step every reader sees exactly the rows
the independent model expects from the topic's contents:

  - before: pyarrow (hive dataset), DuckDB (Hive glob) and deltalake;
  - after a SIGKILL in the middle of a compaction, and one in the middle of a checkpoint
    write: deltalake still reads exactly those rows (the killed compaction leaves one
    unreferenced file, which the final vacuum deletes);
  - after compaction, vacuum retention 1 day: deltalake reads the compacted table; every
    closed (date_posted, region) partition holds at most 2 files under the target size; the
    removed files are still on disk, and deltalake reading the version before the compaction
    (time travel) still gets every row;
  - after vacuum (retention 0): pyarrow, DuckDB and deltalake again, and no file on disk
    that the log does not reference.

Run: scripts/py tests/integration/test_archive_maintenance.py (GTP_BUILD_DIR = build dir).
"""
import collections
import datetime
import os
import shutil
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gtptest as T  # noqa: E402
import test_archiver_exact as X  # noqa: E402

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.dataset as ds  # noqa: E402
from deltalake import DeltaTable  # noqa: E402

EVENTS = int(os.environ.get("GTP_TEST_EVENTS", "20000"))
TARGET = 64 << 20


def read_all(root, readers):
    """{reader: rows} of the archive, as test_archiver_exact normalises them."""
    out = {}
    if "pyarrow" in readers:
        part = ds.partitioning(pa.schema([("date_posted", pa.date32()), ("region", pa.string())]),
                               flavor="hive")
        out["pyarrow"] = X.rows_of(ds.dataset(root, format="parquet", partitioning=part).to_table())
    if "duckdb" in readers:
        glob_path = os.path.join(root, "date_posted=*", "region=*", "*.parquet").replace("'", "''")
        out["duckdb"] = X.rows_of(duckdb.connect().sql(
            "SELECT * FROM read_parquet('%s', hive_partitioning=true)" % glob_path).to_arrow_table())
    if "deltalake" in readers:
        out["deltalake"] = X.rows_of(DeltaTable(root).to_pyarrow_table())
    return out


def closed_before(exp_by_partition):
    """The first day that is not closed: every earlier day ends at or before every Kafka
    partition's watermark (max event time - 2 h), computed from the model."""
    w = min(mx - T.WATERMARK_US for mx in exp_by_partition.values())
    return datetime.datetime.fromtimestamp(w // 1000000, datetime.timezone.utc).date()


def maintain(root, topic, vacuum, failpoint=None):
    env = dict(os.environ)
    env.pop("GTP_ARCHIVER_FAILPOINT", None)
    if failpoint:
        env["GTP_ARCHIVER_FAILPOINT"] = failpoint
    res = subprocess.run([T.binary("gtp-archiver"), "--maintain", "-t", topic, "--archive-dir",
                          root, "--target-file-size", str(TARGET), "--vacuum-retention", vacuum,
                          "--metrics-port", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600, env=env)
    out = res.stdout.decode(errors="replace")
    if failpoint:
        assert res.returncode == -9, "--maintain with failpoint %s exited %d:\n%s" % (
            failpoint, res.returncode, out[-3000:])
        T.log("maintain killed at %s" % failpoint)
        return
    assert res.returncode == 0, "--maintain exited %d:\n%s" % (res.returncode, out[-3000:])
    T.log("maintain (vacuum %s):" % vacuum, " | ".join(
        line.split(" archive: ", 1)[-1] for line in out.splitlines() if " archive: " in line))


def main():
    topic = T.private_topic("test.maint")
    dlq = T.private_topic("test.maint.dlq", 3)
    root = os.path.join(T.BUILD, "test-maint-%s" % uuid.uuid4().hex[:8])
    try:
        # ~4 days of event time, chaos (late events and duplicates among it)
        T.generate(topic, EVENTS, 77, 0.1,
                   extra=["--start", "2026-11-01T00:00:00Z", "--speed", "1e9", "--rate", "0.06"])
        msgs, ends = T.read_topic(topic)
        model = T.Model()
        exp = model.feed(msgs)
        assert exp.late > 0 and exp.duplicates > 0, "the stream must hold late events and dups"
        want = [X.norm_expected(r) for r in exp.archived]
        maxev = {p: ts for p, ts in model.max_ts.items() if ts is not None}

        pr = X.start_archiver(topic, dlq, "gtp-maint-" + uuid.uuid4().hex[:8], root,
                              "maint-archiver.log", roll_rows=60, roll_seconds=1,
                              compact=False)  # the compactions under test are its own
        try:
            X.wait_archived(root, topic, ends, procs=[pr])
        finally:
            X.stop(pr)
        before = DeltaTable(root).version()
        files = collections.Counter()
        for dirpath, _, names in os.walk(root):
            if "_delta_log" not in dirpath:
                files[os.path.relpath(dirpath, root)] += sum(n.endswith(".parquet") for n in names)
        T.log("archived %d rows in %d files, %d partitions, log version %d" % (
            len(want), sum(files.values()), len(files), before))
        for reader, rows in read_all(root, ("pyarrow", "duckdb", "deltalake")).items():
            X.compare("before, " + reader, rows, want)

        # SIGKILL in the middle of a compaction (its third new file published, not
        # committed) and of a checkpoint (the Parquet file published, not its snapshot nor
        # _last_checkpoint): the table reads the same, and the next run finishes the work
        maintain(root, topic, "1 day", failpoint="compact:3")
        X.compare("killed mid-compaction, deltalake", X.rows_of(DeltaTable(root).to_pyarrow_table()),
                  want)
        _, live = X.log_state(root)
        stray = [n for d, _, ns in os.walk(root) for n in ns
                 if n.startswith("part-compact-") and
                 os.path.relpath(os.path.join(d, n), root) not in live]
        assert len(stray) == 1, "the killed compaction should leave one unreferenced file: %s" % stray
        maintain(root, topic, "1 day", failpoint="checkpoint:1")
        X.compare("killed mid-checkpoint, deltalake",
                  X.rows_of(DeltaTable(root).to_pyarrow_table()), want)

        # compaction; removed files stay for a day (time travel)
        day = closed_before(maxev)
        maintain(root, topic, "1 day")
        dt = DeltaTable(root)
        assert dt.version() > before, "no compaction commit"
        X.compare("compacted, deltalake", X.rows_of(dt.to_pyarrow_table()), want)
        small = collections.Counter()
        adds = dt.get_add_actions(flatten=True)
        adds = adds if isinstance(adds, pa.Table) else pa.table(adds)
        for a in adds.to_pylist():
            d = a["partition.date_posted"]
            d = d if isinstance(d, datetime.date) else datetime.date.fromisoformat(str(d))
            if d < day and a["size_bytes"] < TARGET:
                small[(d, a["partition.region"])] += 1
        worst = small.most_common(1)
        assert not worst or worst[0][1] <= 2, "closed partition %s keeps %d small files" % worst[0]
        T.log("compacted: %d live files (closed before %s: at most %d small file(s) each)" % (
            adds.num_rows, day, worst[0][1] if worst else 0))
        old = X.rows_of(DeltaTable(root, version=before).to_pyarrow_table())
        X.compare("time travel to version %d" % before, old, want)

        # vacuum: plain Parquet readers agree again, nothing unreferenced is left
        maintain(root, topic, "0 seconds")
        for reader, rows in read_all(root, ("pyarrow", "duckdb", "deltalake")).items():
            X.compare("vacuumed, " + reader, rows, want)
        _, live = X.log_state(root)
        on_disk = set()
        for dirpath, dirnames, names in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != "_delta_log"]
            on_disk |= {os.path.relpath(os.path.join(dirpath, n), root) for n in names}
        assert on_disk == live, "unreferenced after vacuum: %s" % sorted(on_disk - live)[:5]
        T.log("vacuumed: %d files on disk, all referenced; every reader sees the %d rows" % (
            len(on_disk), len(want)))
    finally:
        T.services("delete-topic", topic)
        T.services("delete-topic", dlq)
        if not os.environ.get("GTP_TEST_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
    T.log("ok")


if __name__ == "__main__":
    main()
