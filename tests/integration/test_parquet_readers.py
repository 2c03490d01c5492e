"""Files written by gtp's own Parquet writer and Delta log, read back by independent readers.

`bench_parquet --fixtures DIR` writes edge-case files (three codecs, many row groups/pages,
one row, all-null columns, an empty file), a 1,000,000-row file and a small partitioned
Delta table; next to each it writes the rows it was given as JSON lines. Every reader's
result is compared with those JSON lines, never with our own decoder:
pyarrow (pq.read_table, FileMetaData, pyarrow.dataset hive partitioning), DuckDB
(read_parquet with hive_partitioning, parquet_metadata, parquet_file_metadata) and
deltalake (DeltaTable: version, partitions, files, rows, add-action stats, txn).

Run: scripts/py tests/integration/test_parquet_readers.py (GTP_BUILD_DIR = build dir).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter

import warnings

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.json as pj
import pyarrow.parquet as pq
from deltalake import DeltaTable

FAILURES = []

COLUMNS = ["event_id", "posted_at", "title", "company", "skills_array", "experience_level",
           "job_id", "source", "location", "is_remote"]
STRING_COLS = ["event_id", "title", "company", "experience_level", "job_id", "source",
               "location"]
JSON_SCHEMA = pa.schema([
    ("event_id", pa.string()), ("posted_at", pa.int64()), ("title", pa.string()),
    ("company", pa.string()), ("skills_array", pa.list_(pa.string())),
    ("experience_level", pa.string()), ("job_id", pa.string()), ("source", pa.string()),
    ("location", pa.string()), ("is_remote", pa.bool_()),
])
TS = pa.timestamp("us", tz="UTC")


def duck_arrow(con, sql, params):
    """A query result as a pyarrow Table across duckdb-python API generations."""
    res = con.execute(sql, params)
    for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):
        fn = getattr(res, name, None)
        if fn:
            t = fn()
            return t.read_all() if hasattr(t, "read_all") else t
    raise RuntimeError("no arrow export in this duckdb version")


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)
    return cond


def load_expected(path, partitioned=False):
    schema = JSON_SCHEMA
    if partitioned:
        schema = schema.append(pa.field("date_posted", pa.string())).append(
            pa.field("region", pa.string()))
    if os.path.getsize(path) == 0:
        t = schema.empty_table()
    else:
        t = pj.read_json(path, read_options=pj.ReadOptions(block_size=8 << 20),
                         parse_options=pj.ParseOptions(explicit_schema=schema,
                                                       unexpected_field_behavior="error"))
    t = t.set_column(1, "posted_at", pc.cast(t.column("posted_at"), TS))
    if partitioned:
        i = t.schema.get_field_index("date_posted")
        t = t.set_column(i, "date_posted", pc.cast(t.column("date_posted"), pa.date32()))
    return t


def same_columns(got, exp, label, columns):
    """Column-by-column equality (ignores chunking and field nullability flags)."""
    if not check(got.num_rows == exp.num_rows,
                 f"{label}: {got.num_rows} rows, expected {exp.num_rows}"):
        return
    for c in columns:
        g, e = got.column(c), exp.column(c)
        if g.type != e.type:
            check(False, f"{label}: column {c} type {g.type}, expected {e.type}")
            continue
        if not g.equals(e):
            gl, el = g.to_pylist(), e.to_pylist()
            bad = next(i for i in range(len(gl)) if gl[i] != el[i])
            check(False, f"{label}: column {c} differs first at row {bad}: "
                         f"{str(gl[bad])[:80]!r} != {str(el[bad])[:80]!r}")


def leaf_values(exp, col):
    """Non-null leaf values and the Parquet null_count (entries with def < max_def)."""
    vals = exp.column(col).to_pylist()
    if col != "skills_array":
        return [v for v in vals if v is not None], sum(v is None for v in vals)
    out, nulls = [], 0
    for lst in vals:
        if not lst:  # null list or empty list: one entry with def < 3
            nulls += 1
            continue
        for v in lst:
            if v is None:
                nulls += 1
            else:
                out.append(v)
    return out, nulls


def utf8_key(s):
    return s.encode("utf-8")


def check_parquet_metadata(path, exp, label, codec):
    md = pq.ParquetFile(path).metadata
    check(re.fullmatch(r"gtp version \d+\.\d+\.\d+ \(build [^)]+\)", md.created_by or ""),
          f"{label}: created_by {md.created_by!r}")
    check(md.num_rows == exp.num_rows, f"{label}: metadata num_rows {md.num_rows}")
    check(md.num_columns == 10, f"{label}: {md.num_columns} leaf columns")
    sch = md.schema
    lt = json.loads(sch.column(1).logical_type.to_json())
    check(lt.get("Type") == "Timestamp" and lt.get("isAdjustedToUTC") is True
          and lt.get("timeUnit") == "microseconds", f"{label}: posted_at logical type {lt}")
    check(json.loads(sch.column(0).logical_type.to_json()).get("Type") == "String",
          f"{label}: event_id logical type")
    check(sch.column(1).converted_type == "TIMESTAMP_MICROS",
          f"{label}: posted_at converted type {sch.column(1).converted_type}")
    check(sch.column(4).path == "skills_array.list.element",
          f"{label}: list leaf path {sch.column(4).path}")
    start = 0
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        part = exp.slice(start, rg.num_rows)
        start += rg.num_rows
        for j, col in enumerate(COLUMNS):
            cc = rg.column(j)
            check(cc.compression == codec, f"{label}: rg{g} {col} codec {cc.compression}")
            vals, nulls = leaf_values(part, col)
            exp_entries = (sum(max(1, len(v or [])) for v in part.column(col).to_pylist())
                           if col == "skills_array" else rg.num_rows)
            check(cc.num_values == exp_entries,
                  f"{label}: rg{g} {col} num_values {cc.num_values} != {exp_entries}")
            st = cc.statistics
            if not check(st is not None and cc.is_stats_set, f"{label}: rg{g} {col} no stats"):
                continue
            check(st.null_count == nulls,
                  f"{label}: rg{g} {col} null_count {st.null_count} != {nulls}")
            if not vals:
                check(not st.has_min_max, f"{label}: rg{g} {col} min/max on all-null chunk")
                continue
            if not check(st.has_min_max, f"{label}: rg{g} {col} missing min/max"):
                continue
            if col == "posted_at":
                emin, emax = min(vals), max(vals)
            elif col == "is_remote":
                emin, emax = min(vals), max(vals)
            else:
                emin, emax = min(vals, key=utf8_key), max(vals, key=utf8_key)
            check(st.min == emin and st.max == emax,
                  f"{label}: rg{g} {col} min/max {str(st.min)[:40]!r}/{str(st.max)[:40]!r} "
                  f"!= {str(emin)[:40]!r}/{str(emax)[:40]!r}")
    check(start == exp.num_rows, f"{label}: row groups cover {start} rows")


def check_duckdb_file(con, path, exp, label):
    got = duck_arrow(con, "SELECT * FROM read_parquet(?)", [path])
    # DuckDB returns TIMESTAMP WITH TIME ZONE in the session zone; compare instants.
    got = got.set_column(1, "posted_at", pc.cast(got.column("posted_at"), TS))
    same_columns(got, exp, f"duckdb {label}", COLUMNS)
    cb = con.execute("SELECT created_by, num_rows FROM parquet_file_metadata(?)",
                     [path]).fetchone()
    check(cb[0].startswith("gtp version ") and cb[1] == exp.num_rows,
          f"duckdb {label}: file metadata {cb}")
    if exp.num_rows == 0:
        return
    rows = con.execute(
        "SELECT path_in_schema, stats_min_value, stats_max_value, stats_null_count "
        "FROM parquet_metadata(?) WHERE row_group_id = 0", [path]).fetchall()
    rg_rows = pq.ParquetFile(path).metadata.row_group(0).num_rows
    part = exp.slice(0, rg_rows)
    for name, smin, smax, nulls in rows:
        col = name.split(",")[0].split(".")[0]
        if col not in STRING_COLS:
            continue
        vals, enulls = leaf_values(part, col)
        check(nulls == enulls, f"duckdb {label}: {col} null count {nulls} != {enulls}")
        if vals:
            check(smin == min(vals, key=utf8_key) and smax == max(vals, key=utf8_key),
                  f"duckdb {label}: {col} stats {str(smin)[:30]!r}/{str(smax)[:30]!r}")


def check_files(con, fx):
    files = [("edge_zstd", "ZSTD"), ("edge_snappy", "SNAPPY"),
             ("edge_uncompressed", "UNCOMPRESSED"), ("multi_rg_plain", "ZSTD"),
             ("multi_rg_dict", "ZSTD"), ("one_row", "ZSTD"), ("all_null", "ZSTD"),
             ("empty", "ZSTD"), ("million", "ZSTD")]
    for name, codec in files:
        path = os.path.join(fx, name + ".parquet")
        exp = load_expected(os.path.join(fx, name + ".jsonl"))
        got = pq.read_table(path)
        same_columns(got, exp, f"pyarrow {name}", COLUMNS)
        check(got.schema.field("posted_at").type == TS, f"{name}: posted_at type")
        for c in ["event_id", "posted_at", "title", "job_id"]:
            check(not got.schema.field(c).nullable, f"{name}: {c} should be REQUIRED")
        for c in ["company", "skills_array", "location", "is_remote"]:
            check(got.schema.field(c).nullable, f"{name}: {c} should be OPTIONAL")
        if name != "million":
            check_parquet_metadata(path, exp, name, codec)
        else:
            md = pq.ParquetFile(path).metadata
            check(md.num_rows == 1_000_000, f"million: num_rows {md.num_rows}")
        check_duckdb_file(con, path, exp, name)
        print(f"ok   {name}: {exp.num_rows} rows", flush=True)
    # The multi row-group fixtures really have several row groups and pages.
    md = pq.ParquetFile(os.path.join(fx, "multi_rg_dict.parquet")).metadata
    check(md.num_row_groups == 4, f"multi_rg_dict: {md.num_row_groups} row groups")
    # Row group 0 holds the 1 MiB title, too big for a dictionary: PLAIN there.
    check(not md.row_group(0).column(2).has_dictionary_page,
          "multi_rg_dict: rg0 title (1 MiB value) should fall back to PLAIN")
    check(md.row_group(1).column(2).has_dictionary_page,
          "multi_rg_dict: rg1 title chunk should be dictionary encoded")
    md = pq.ParquetFile(os.path.join(fx, "multi_rg_plain.parquet")).metadata
    check(not md.row_group(0).column(2).has_dictionary_page,
          "multi_rg_plain: title chunk should be PLAIN")


def sort_rows(t):
    return t.sort_by([("event_id", "ascending")])


def floor_ms(ts):
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


def check_checkpoint(root, exp, allcols):
    """The fixture table is checkpointed at its last version: the checkpoint (our nested
    Parquet writer) must hold exactly the log's live actions, read by pyarrow and DuckDB,
    and deltalake must read the same table from the checkpoint alone."""
    log = os.path.join(root, "_delta_log")
    with open(os.path.join(log, "_last_checkpoint")) as f:
        last = json.load(f)
    check(last["version"] == 3, f"checkpoint: _last_checkpoint {last}")
    ck = os.path.join(log, "%020d.checkpoint.parquet" % last["version"])
    # what the JSON log says: the live adds, the newest txn per app, protocol, metaData
    adds, txns, meta, proto = {}, {}, None, None
    for v in range(last["version"] + 1):
        with open(os.path.join(log, "%020d.json" % v)) as f:
            for line in f:
                a = json.loads(line)
                if "add" in a:
                    adds[a["add"]["path"]] = a["add"]
                elif "txn" in a:
                    txns[a["txn"]["appId"]] = a["txn"]["version"]
                elif "metaData" in a:
                    meta = a["metaData"]
                elif "protocol" in a:
                    proto = a["protocol"]
    t = pq.read_table(ck)
    check(t.column_names == ["txn", "add", "remove", "metaData", "protocol"],
          f"checkpoint: columns {t.column_names}")
    check(str(t.schema.field("add").type.field("partitionValues").type)
          == "map<string, string ('partitionValues')>"
          or pa.types.is_map(t.schema.field("add").type.field("partitionValues").type),
          "checkpoint: add.partitionValues is not a MAP")
    rows = t.to_pylist()
    check(t.num_rows == 2 + len(txns) + len(adds), f"checkpoint: {t.num_rows} rows")
    got_adds = {r["add"]["path"]: r["add"] for r in rows if r["add"] is not None}
    check(set(got_adds) == set(adds), "checkpoint: add paths differ from the log's")
    for path, a in adds.items():
        g = got_adds.get(path)
        if not g:
            continue
        check(dict(g["partitionValues"]) == a["partitionValues"],
              f"checkpoint: partitionValues of {path}: {g['partitionValues']}")
        for k in ("size", "modificationTime", "dataChange", "stats"):
            check(g[k] == a[k], f"checkpoint: add.{k} of {path}")
    got_txns = {r["txn"]["appId"]: r["txn"]["version"] for r in rows if r["txn"] is not None}
    check(got_txns == txns, f"checkpoint: txns {got_txns} vs {txns}")
    m = [r["metaData"] for r in rows if r["metaData"] is not None]
    check(len(m) == 1 and m[0]["id"] == meta["id"] and m[0]["schemaString"] == meta["schemaString"]
          and m[0]["partitionColumns"] == meta["partitionColumns"]
          and m[0]["format"]["provider"] == "parquet", "checkpoint: metaData")
    p = [r["protocol"] for r in rows if r["protocol"] is not None]
    check(p == [proto], f"checkpoint: protocol {p}")
    duck = duckdb.sql("SELECT count(add), count(txn), count(metaData), count(protocol), "
                      "count(*) FILTER (WHERE add.partitionValues['region'] IS NULL "
                      "AND add IS NOT NULL) FROM read_parquet('%s')" % ck).fetchall()[0]
    nulls = sum(1 for a in adds.values() if a["partitionValues"]["region"] is None)
    check(duck == (len(adds), len(txns), 1, 1, nulls), f"checkpoint: duckdb counts {duck}")
    # deltalake from the checkpoint alone: the JSON commits it covers removed in a copy
    tmp = tempfile.mkdtemp(prefix="gtp-ckpt-")
    try:
        copy = os.path.join(tmp, "table")
        shutil.copytree(root, copy)
        for v in range(last["version"] + 1):
            os.unlink(os.path.join(copy, "_delta_log", "%020d.json" % v))
        dt = DeltaTable(copy)
        check(dt.version() == last["version"], f"checkpoint: deltalake version {dt.version()}")
        same_columns(sort_rows(dt.to_pyarrow_table()), exp, "deltalake from the checkpoint",
                     allcols)
        check(dt.transaction_version("gtp-archiver-p0") == 99, "checkpoint: deltalake txn p0")
        check(dt.transaction_version("gtp-archiver-p1") == 7, "checkpoint: deltalake txn p1")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"ok   delta checkpoint: {t.num_rows} actions, read alone by deltalake", flush=True)


def check_table(con, fx):
    root = os.path.join(fx, "table")
    exp = sort_rows(load_expected(os.path.join(fx, "table.jsonl"), partitioned=True))
    allcols = COLUMNS + ["date_posted", "region"]

    dtab = DeltaTable(root)
    check(dtab.version() == 3, f"delta: version {dtab.version()}")
    check(list(dtab.metadata().partition_columns) == ["date_posted", "region"],
          f"delta: partition columns {dtab.metadata().partition_columns}")
    check(len(dtab.file_uris()) == 6, f"delta: {len(dtab.file_uris())} files")
    for uri in dtab.file_uris():
        local = uri[7:] if uri.startswith("file://") else uri
        check(os.path.exists(local), f"delta: file {uri} does not exist")
    got = sort_rows(dtab.to_pyarrow_table())
    same_columns(got, exp, "deltalake table", allcols)
    check(dtab.transaction_version("gtp-archiver-p0") == 99, "delta: txn p0")
    check(dtab.transaction_version("gtp-archiver-p1") == 7, "delta: txn p1")
    check(dtab.transaction_version("gtp-archiver-p9") is None, "delta: txn unknown app")

    adds = dtab.get_add_actions(flatten=True)
    adds = adds if isinstance(adds, pa.Table) else pa.table(adds)
    rows_by_part = {}
    for r in exp.to_pylist():
        rows_by_part.setdefault((r["date_posted"], r["region"]), []).append(r)
    for a in adds.to_pylist():
        key = (a["partition.date_posted"], a["partition.region"])
        rows = rows_by_part.get(key, [])
        check(a["num_records"] == len(rows), f"delta stats {key}: numRecords {a['num_records']}")
        if not rows:
            continue
        ts = [r["posted_at"] for r in rows]
        check(a["min.posted_at"] == floor_ms(min(ts)) and a["max.posted_at"] == floor_ms(max(ts)),
              f"delta stats {key}: posted_at {a['min.posted_at']}..{a['max.posted_at']}")
        for c in ["title", "company", "location", "event_id"]:
            vals = [r[c] for r in rows if r[c] is not None]
            lo, hi = min(vals, key=utf8_key), max(vals, key=utf8_key)
            check(lo.startswith(a[f"min.{c}"]) and len(a[f"min.{c}"]) == min(len(lo), 32),
                  f"delta stats {key}: min.{c} {a[f'min.{c}']!r} vs {lo!r}")
            if len(hi) <= 32:
                check(a[f"max.{c}"] == hi, f"delta stats {key}: max.{c} {a[f'max.{c}']!r}")
            else:
                check(a[f"max.{c}"] is None, f"delta stats {key}: truncated max.{c} kept")
            check(a[f"null_count.{c}"] == sum(r[c] is None for r in rows),
                  f"delta stats {key}: null_count.{c}")
        check(a["null_count.skills_array"] == sum(r["skills_array"] is None for r in rows),
              f"delta stats {key}: null_count.skills_array")
    print(f"ok   delta table: {exp.num_rows} rows, {adds.num_rows} files", flush=True)
    check_checkpoint(root, exp, allcols)

    # Plain Parquet readers over the Hive layout (they skip _delta_log).
    part = ds.partitioning(pa.schema([("date_posted", pa.date32()), ("region", pa.string())]),
                           flavor="hive")
    got = sort_rows(ds.dataset(root, format="parquet", partitioning=part).to_table())
    same_columns(got, exp, "pyarrow.dataset hive", allcols)

    got = duck_arrow(con, "SELECT * FROM read_parquet(?, hive_partitioning = true)",
                     [os.path.join(root, "date_posted=*", "region=*", "*.parquet")])
    got = got.set_column(1, "posted_at", pc.cast(got.column("posted_at"), TS))
    got = sort_rows(got)
    # DuckDB autocasts date_posted to DATE; region keeps the decoded text. Whether it maps
    # __HIVE_DEFAULT_PARTITION__ to NULL depends on the version: accept either.
    same_columns(got, exp, "duckdb hive", COLUMNS)
    check(pc.cast(got.column("date_posted"), pa.date32()).equals(exp.column("date_posted")),
          "duckdb hive: date_posted")
    regions = [None if r == "__HIVE_DEFAULT_PARTITION__" else r
               for r in got.column("region").to_pylist()]
    check(Counter(regions) == Counter(exp.column("region").to_pylist()),
          f"duckdb hive: regions {sorted(Counter(regions).items(), key=str)}")
    print("ok   hive layout (pyarrow.dataset, duckdb)", flush=True)


def main():
    warnings.simplefilter("ignore", UserWarning)  # duckdb's DB-API arrow copy notice
    build = os.environ.get("GTP_BUILD_DIR")
    if not build:
        src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        build = os.path.join(src, "build")
    tool = os.path.join(build, "bench_parquet")
    if not os.access(tool, os.X_OK):
        print(f"FAIL: {tool} not built", file=sys.stderr)
        return 1
    fx = tempfile.mkdtemp(prefix="gtp-parquet-")
    try:
        subprocess.run([tool, "--fixtures", fx], check=True)
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        check_files(con, fx)
        check_table(con, fx)
    finally:
        if os.environ.get("GTP_KEEP_FIXTURES"):
            print("fixtures kept in", fx)
        else:
            shutil.rmtree(fx, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)", file=sys.stderr)
        return 1
    print("all readers agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
