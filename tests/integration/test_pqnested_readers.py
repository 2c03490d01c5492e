"""Files written by gtp's nested Parquet writer (include/gtp/pqnested.h), read back by
independent readers and held against the input rows and an independent model.

For every case this script writes a Spark JSON schema and JSON-lines rows, runs
bench_pqnested_fixtures (the C writer), then checks:
  * pyarrow: pq.read_table rows == input rows (maps as ordered key/value pairs, null vs
    empty lists and maps kept apart); ParquetFile.schema shows (List)/(Map) groups, the
    leaf paths, max levels, physical and logical types a small Python model of the
    Dremel rules predicts; per chunk num_values, null_count and min/max agree with the
    model's shredding of the rows;
  * DuckDB: read_parquet rows == input rows, DESCRIBE types (MAP(..), ..[], STRUCT(..));
  * a page walker written here (Thrift compact + RLE/bit-packed hybrid decoders): the pages
    of every chunk tile it exactly, their num_values add up, and their decoded repetition
    and definition levels equal the model's, page by page (each page starting a row);
  * deltalake (delta-rs, a third Parquet reader): a table whose log is only a checkpoint
    written by the C writer opens with the right version, files, txn and rows.
Cases: a realistic Delta checkpoint with the three codecs, tricky shapes plus random rows
from the same schema, rejected rows left out, an empty file, and 120,000 checkpoint rows
across several row groups and many pages.

Run: scripts/py tests/integration/test_pqnested_readers.py (GTP_BUILD_DIR = build dir).
"""
import datetime
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import warnings

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable

from tcompact import thrift_struct, varint

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)
    return cond


def short(v, n=160):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "..."


# ------------------------------------------------------------------------------------------
# Schemas (Spark/Delta JSON form)

def field(name, typ, nullable=True):
    return {"name": name, "type": typ, "nullable": nullable, "metadata": {}}


def struct(*fields):
    return {"type": "struct", "fields": list(fields)}


def array(elem, contains_null=True):
    return {"type": "array", "elementType": elem, "containsNull": contains_null}


def map_(value, value_contains_null=True):
    return {"type": "map", "keyType": "string", "valueType": value,
            "valueContainsNull": value_contains_null}


MAP_SS = map_("string")
DELTA_SCHEMA = struct(
    field("txn", struct(field("appId", "string"), field("version", "long"),
                        field("lastUpdated", "long"))),
    field("add", struct(field("path", "string"), field("partitionValues", MAP_SS),
                        field("size", "long"), field("modificationTime", "long"),
                        field("dataChange", "boolean"), field("stats", "string"),
                        field("tags", MAP_SS))),
    field("remove", struct(field("path", "string"), field("deletionTimestamp", "long"),
                           field("dataChange", "boolean"),
                           field("extendedFileMetadata", "boolean"),
                           field("partitionValues", MAP_SS), field("size", "long"))),
    field("metaData", struct(field("id", "string"), field("name", "string"),
                             field("description", "string"),
                             field("format", struct(field("provider", "string"),
                                                    field("options", MAP_SS))),
                             field("schemaString", "string"),
                             field("partitionColumns", array("string")),
                             field("configuration", MAP_SS), field("createdTime", "long"))),
    field("protocol", struct(field("minReaderVersion", "integer"),
                             field("minWriterVersion", "integer"))),
)

SHAPES_SCHEMA = struct(
    field("id", "long", False),
    field("i32", "integer"),
    field("flag", "boolean"),
    field("ts", "timestamp"),
    field("d", "date"),
    field("s", "string"),
    field("l", array("string")),
    field("lr", array("long", False), False),
    field("ll", array(array("integer"))),
    field("m", MAP_SS),
    field("mr", map_("long", False), False),
    field("ml", map_(array("string"))),
    field("ls", array(struct(field("n", "string", False), field("m", map_("long", False))))),
    field("o", struct(field("m", struct(field("i", struct(field("x", "long")), False)), False),
                      field("tag", "string"))),
)

PHYSICAL = {"string": "BYTE_ARRAY", "long": "INT64", "integer": "INT32", "boolean": "BOOLEAN",
            "timestamp": "INT64", "date": "INT32"}
DUCK = {"string": "VARCHAR", "long": "BIGINT", "integer": "INTEGER", "boolean": "BOOLEAN",
        "timestamp": "TIMESTAMPWITHTIMEZONE", "date": "DATE"}


# ------------------------------------------------------------------------------------------
# The model: Dremel levels written from the Parquet format's rules (docs/parquet.md), independent of the C code

class Node:
    def __init__(self, typ, nullable, path, d_parent, r_parent, leaves):
        self.nullable = nullable
        self.d = d_parent + (1 if nullable else 0)  # def level of a present value
        self.leaf0 = len(leaves)
        self.kids = []
        if isinstance(typ, str):
            self.kind = "leaf"
            self.prim = typ
            leaves.append({"path": ".".join(path), "max_def": self.d, "max_rep": r_parent,
                           "prim": typ})
        elif typ["type"] == "struct":
            self.kind = "struct"
            self.kids = [(f["name"], Node(f["type"], f["nullable"], path + [f["name"]], self.d,
                                          r_parent, leaves)) for f in typ["fields"]]
        elif typ["type"] == "array":
            self.kind = "array"
            self.r = r_parent + 1
            self.kids = [("element", Node(typ["elementType"], typ["containsNull"],
                                          path + ["list", "element"], self.d + 1, self.r,
                                          leaves))]
        else:
            self.kind = "map"
            self.r = r_parent + 1
            self.kids = [("key", Node("string", False, path + ["key_value", "key"], self.d + 1,
                                      self.r, leaves)),
                         ("value", Node(typ["valueType"], typ["valueContainsNull"],
                                        path + ["key_value", "value"], self.d + 1, self.r,
                                        leaves))]
        self.nleaves = len(leaves) - self.leaf0

    def absent(self, r, d, acc):
        for i in range(self.leaf0, self.leaf0 + self.nleaves):
            acc[i].append((r, d, None))

    def shred(self, v, r, acc):
        """Append (rep, def, value-or-None) entries of value v to acc[leaf]."""
        if v is None:
            self.absent(r, self.d - 1, acc)
        elif self.kind == "leaf":
            acc[self.leaf0].append((r, self.d, v))
        elif self.kind == "struct":
            for name, kid in self.kids:
                kid.shred(v.get(name), r, acc)
        elif self.kind == "array":
            if not v:
                self.absent(r, self.d, acc)
            for i, e in enumerate(v):
                self.kids[0][1].shred(e, r if i == 0 else self.r, acc)
        else:
            if not v:
                self.absent(r, self.d, acc)
            for i, (k, x) in enumerate(v.items()):
                rr = r if i == 0 else self.r
                self.kids[0][1].shred(k, rr, acc)
                self.kids[1][1].shred(x, rr, acc)


class Model:
    def __init__(self, schema):
        self.leaves = []
        self.root = Node(schema, False, [], 0, 0, self.leaves)

    def shred(self, rows):
        acc = [[] for _ in self.leaves]
        for row in rows:
            self.root.shred(row, 0, acc)
        return acc


# ------------------------------------------------------------------------------------------
# Reader values -> the input's JSON form

EPOCH_DT = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
EPOCH_D = datetime.date(1970, 1, 1)
US = datetime.timedelta(microseconds=1)


def norm(t, v):
    """A reader's value (or an input value) in one canonical form: structs as dicts of every
    field, maps as [key, value] pair lists in order, timestamps as µs, dates as days."""
    if v is None:
        return None
    if isinstance(t, str):
        if t == "timestamp" and isinstance(v, datetime.datetime):
            if v.tzinfo is None:  # statistics may come back naive
                v = v.replace(tzinfo=datetime.timezone.utc)
            return (v - EPOCH_DT) // US
        if t == "date" and isinstance(v, datetime.date):
            return (v - EPOCH_D).days
        return v
    k = t["type"]
    if k == "struct":
        return {f["name"]: norm(f["type"], v.get(f["name"])) for f in t["fields"]}
    if k == "array":
        return [norm(t["elementType"], e) for e in v]
    items = v.items() if isinstance(v, dict) else v
    return [[kk, norm(t["valueType"], x)] for kk, x in items]


def compare_rows(got, exp, schema, label):
    if not check(len(got) == len(exp), f"{label}: {len(got)} rows, expected {len(exp)}"):
        return
    for i, (g, e) in enumerate(zip(got, exp)):
        g, e = norm(schema, g), norm(schema, e)
        if g != e:
            bad = [f["name"] for f in schema["fields"] if g[f["name"]] != e[f["name"]]]
            check(False, f"{label}: row {i} differs in {bad}: {short(g[bad[0]])} != "
                         f"{short(e[bad[0]])}")
            return


# ------------------------------------------------------------------------------------------
# A page walker: Thrift compact structs and the RLE / bit-packed hybrid, enough to read
# page headers and levels

def hybrid(b, i, bw, n):
    out = []
    mask = (1 << bw) - 1
    while len(out) < n:
        h, i = varint(b, i)
        if h & 1:
            nbytes = (h >> 1) * bw
            bits = int.from_bytes(b[i:i + nbytes], "little")
            i += nbytes
            out.extend((bits >> (k * bw)) & mask for k in range((h >> 1) * 8))
        else:
            w = (bw + 7) // 8
            out.extend([int.from_bytes(b[i:i + w], "little")] * (h >> 1))
            i += w
    return out[:n], i


CODEC = {"UNCOMPRESSED": None, "SNAPPY": "snappy", "ZSTD": "zstd"}


def walk_pages(data, cc, leaf, want, label):
    """Check the pages of column chunk cc against the model's entries want[(rep, def, v)]."""
    start = cc.data_page_offset
    end = start + cc.total_compressed_size
    check(not cc.has_dictionary_page, f"{label}: unexpected dictionary page")
    i, pages, values, levels = start, 0, 0, []
    bw_def = leaf["max_def"].bit_length()
    bw_rep = leaf["max_rep"].bit_length()
    while i < end:
        hdr, j = thrift_struct(data, i)
        if not check(hdr.get(1) == 0 and 5 in hdr, f"{label}: page at {i} is not a v1 data page"):
            return 0
        raw, stored = hdr[2], hdr[3]
        n = hdr[5][1]
        body = bytes(data[j:j + stored])
        if CODEC[cc.compression]:
            body = pa.decompress(body, decompressed_size=raw,
                                 codec=CODEC[cc.compression]).to_pybytes()
        check(len(body) == raw, f"{label}: page body {len(body)} bytes, header says {raw}")
        k, reps, defs = 0, [0] * n, [0] * n
        if leaf["max_rep"]:
            ln = int.from_bytes(body[k:k + 4], "little")
            reps, _ = hybrid(body, k + 4, bw_rep, n)
            k += 4 + ln
        if leaf["max_def"]:
            ln = int.from_bytes(body[k:k + 4], "little")
            defs, _ = hybrid(body, k + 4, bw_def, n)
            k += 4 + ln
        check(n == 0 or reps[0] == 0, f"{label}: page {pages} starts inside a row")
        levels.extend(zip(reps, defs))
        pages += 1
        values += n
        i = j + stored
    check(i == end, f"{label}: pages end at {i}, chunk at {end}")
    check(values == cc.num_values, f"{label}: pages hold {values} entries, chunk {cc.num_values}")
    exp = [(r, d) for r, d, _ in want]
    if levels != exp:
        bad = next((x for x in range(min(len(levels), len(exp))) if levels[x] != exp[x]),
                   min(len(levels), len(exp)))
        check(False, f"{label}: levels differ first at entry {bad}: "
                     f"{levels[bad:bad + 4]} != {exp[bad:bad + 4]}")
    return pages


# ------------------------------------------------------------------------------------------
# Checks per file

def arrow_type_ok(t, a):
    if isinstance(t, str):
        return {"string": pa.types.is_string, "long": pa.types.is_int64,
                "integer": pa.types.is_int32, "boolean": pa.types.is_boolean,
                "date": pa.types.is_date32}.get(t, lambda x: (
                    pa.types.is_timestamp(x) and x.unit == "us" and x.tz in ("UTC", "+00:00")))(a)
    k = t["type"]
    if k == "struct":
        return (pa.types.is_struct(a) and a.num_fields == len(t["fields"]) and
                all(a.field(i).name == f["name"] and arrow_type_ok(f["type"], a.field(i).type)
                    for i, f in enumerate(t["fields"])))
    if k == "array":
        return pa.types.is_list(a) and arrow_type_ok(t["elementType"], a.value_type)
    return (pa.types.is_map(a) and pa.types.is_string(a.key_type) and
            arrow_type_ok(t["valueType"], a.item_type))


def duck_type(t):
    if isinstance(t, str):
        return DUCK[t]
    k = t["type"]
    if k == "struct":
        return "STRUCT(" + ",".join(f["name"] + duck_type(f["type"]) for f in t["fields"]) + ")"
    if k == "array":
        return duck_type(t["elementType"]) + "[]"
    return "MAP(VARCHAR," + duck_type(t["valueType"]) + ")"


def group_lines(t, out, rep):
    """(repetition, name, annotation) of every LIST / MAP group in the schema."""
    if isinstance(t, str):
        return
    if t["type"] == "struct":
        for f in t["fields"]:
            ft = f["type"]
            r = "optional" if f["nullable"] else "required"
            if isinstance(ft, dict) and ft["type"] in ("array", "map"):
                out.append((r, f["name"], "List" if ft["type"] == "array" else "Map"))
            group_lines(ft, out, r)
    elif t["type"] == "array":
        et = t["elementType"]
        if isinstance(et, dict) and et["type"] in ("array", "map"):
            out.append(("optional" if t["containsNull"] else "required", "element",
                        "List" if et["type"] == "array" else "Map"))
        group_lines(et, out, rep)
    else:
        vt = t["valueType"]
        if isinstance(vt, dict) and vt["type"] in ("array", "map"):
            out.append(("optional" if t["valueContainsNull"] else "required", "value",
                        "List" if vt["type"] == "array" else "Map"))
        group_lines(vt, out, rep)


def stat_key(prim, v):
    return v.encode("utf-8") if prim == "string" else v


def check_metadata(path, schema, rows, codec, label, want_pages=False):
    model = Model(schema)
    pf = pq.ParquetFile(path)
    md = pf.metadata
    check(re.fullmatch(r"gtp version \d+\.\d+\.\d+ \(build [^)]+\)", md.created_by or ""),
          f"{label}: created_by {md.created_by!r}")
    check(md.num_rows == len(rows), f"{label}: num_rows {md.num_rows} != {len(rows)}")
    check(md.num_columns == len(model.leaves), f"{label}: {md.num_columns} leaves")
    # Schema: leaves (paths, levels, types) and the LIST / MAP groups.
    sch = pf.schema
    for j, leaf in enumerate(model.leaves):
        c = sch.column(j)
        got = (c.path, c.max_definition_level, c.max_repetition_level, c.physical_type)
        want = (leaf["path"], leaf["max_def"], leaf["max_rep"], PHYSICAL[leaf["prim"]])
        check(got == want, f"{label}: leaf {j} {got} != {want}")
        lt = json.loads(c.logical_type.to_json())
        want_lt = {"string": "String", "timestamp": "Timestamp", "date": "Date"}.get(leaf["prim"],
                                                                                    "None")
        check(lt.get("Type") == want_lt, f"{label}: {leaf['path']} logical type {lt}")
        if leaf["prim"] == "timestamp":
            check(lt.get("isAdjustedToUTC") is True and lt.get("timeUnit") == "microseconds",
                  f"{label}: {leaf['path']} timestamp {lt}")
            check(c.converted_type == "TIMESTAMP_MICROS", f"{label}: {leaf['path']} converted")
    text = str(sch)
    groups = []
    group_lines(schema, groups, None)
    for rep, name, ann in groups:
        check(re.search(rf"^\s*{rep} group (field_id=-?\d+ )?{re.escape(name)} \({ann}\) \{{", text,
                        re.M),
              f"{label}: no '{rep} group {name} ({ann})' in the Parquet schema")
    check("repeated group field_id=-1 list" in text or not any(g[2] == "List" for g in groups),
          f"{label}: LIST without a 'list' group")
    check("repeated group field_id=-1 key_value" in text or not any(g[2] == "Map" for g in groups),
          f"{label}: MAP without a 'key_value' group")
    arrow = pf.schema_arrow
    for f in schema["fields"]:
        check(arrow_type_ok(f["type"], arrow.field(f["name"]).type),
              f"{label}: arrow type of {f['name']}: {arrow.field(f['name']).type}")
        check(arrow.field(f["name"]).nullable == f["nullable"], f"{label}: {f['name']} nullability")
    # Row groups and chunks, against the model's shredding of the same rows.
    data = open(path, "rb").read()
    start, max_pages = 0, 0
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        acc = model.shred(rows[start:start + rg.num_rows])
        start += rg.num_rows
        for j, leaf in enumerate(model.leaves):
            cc = rg.column(j)
            entries = acc[j]
            vals = [v for _, _, v in entries if v is not None]
            where = f"{label}: rg{g} {leaf['path']}"
            check(cc.path_in_schema == leaf["path"], f"{where}: path_in_schema {cc.path_in_schema}")
            check(cc.compression == codec, f"{where}: codec {cc.compression}")
            check(cc.num_values == len(entries), f"{where}: num_values {cc.num_values} != "
                                                 f"{len(entries)}")
            st = cc.statistics
            if check(st is not None and cc.is_stats_set, f"{where}: no statistics"):
                check(st.null_count == len(entries) - len(vals),
                      f"{where}: null_count {st.null_count} != {len(entries) - len(vals)}")
                if vals:
                    p = leaf["prim"]
                    lo = min(vals, key=lambda v: stat_key(p, v))
                    hi = max(vals, key=lambda v: stat_key(p, v))
                    got = (norm(p, st.min), norm(p, st.max)) if st.has_min_max else None
                    check(got == (lo, hi), f"{where}: min/max {short(got, 80)} != "
                                           f"{short((lo, hi), 80)}")
                else:
                    check(not st.has_min_max, f"{where}: min/max without values")
            max_pages = max(max_pages, walk_pages(data, cc, leaf, entries, where))
    check(start == len(rows), f"{label}: row groups cover {start} of {len(rows)} rows")
    if want_pages:
        check(md.num_row_groups > 1 and max_pages > 1,
              f"{label}: {md.num_row_groups} row groups, at most {max_pages} pages per chunk")
    return md.num_row_groups, max_pages


def check_readers(con, path, schema, rows, codec, label, want_pages=False):
    try:
        readers(con, path, schema, rows, codec, label, want_pages)
    except Exception as e:  # noqa: BLE001 - a reader refusing the file is a failure to report
        check(False, f"{label}: {type(e).__name__}: {short(str(e), 300)}")


def readers(con, path, schema, rows, codec, label, want_pages):
    got = pq.read_table(path)
    compare_rows(got.to_pylist(), rows, schema, f"pyarrow {label}")
    res = con.execute("SELECT * FROM read_parquet(?)", [path])
    names = [d[0] for d in res.description]
    compare_rows([dict(zip(names, r)) for r in res.fetchall()], rows, schema, f"duckdb {label}")
    types = {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)",
                                             [path]).fetchall()}
    for f in schema["fields"]:
        got_t = types.get(f["name"], "").replace('"', "").replace(" ", "")
        want_t = duck_type(f["type"]).replace(" ", "")
        check(got_t == want_t, f"duckdb {label}: {f['name']} type {got_t} != {want_t}")
    rgs, pages = check_metadata(path, schema, rows, codec, label, want_pages)
    print(f"ok   {label}: {len(rows)} rows, {rgs} row group(s), up to {pages} page(s) per chunk",
          flush=True)


# ------------------------------------------------------------------------------------------
# Rows

TABLE_SCHEMA = struct(field("event_id", "string", False), field("posted_at", "timestamp"),
                      field("skills_array", array("string")), field("date_posted", "date"),
                      field("region", "string"))
REGIONS = ["US", "UK", "DE", "Zürich é", "a/b=c%d", None]


def delta_rows(rng, n_adds, n_removes, n_txns):
    rows = [{"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}},
            {"metaData": {"id": "5d2b1c4e-7b0a-4c55-9f51-0c8f4e2a1b3d", "name": None,
                          "format": {"provider": "parquet", "options": {}},
                          "schemaString": json.dumps(TABLE_SCHEMA),
                          "partitionColumns": ["date_posted", "region"],
                          "configuration": {"delta.appendOnly": "false",
                                            "delta.checkpointInterval": "10"},
                          "createdTime": 1710460800123}}]
    for i in range(n_txns):
        rows.append({"txn": {"appId": f"gtp-archiver-p{i}", "version": rng.randrange(1 << 40),
                             "lastUpdated": 1710460800000 + i}})
    for i in range(n_adds + n_removes):
        day = f"2024-03-{rng.randrange(1, 29):02d}"
        region = rng.choice(REGIONS)
        pv = {"date_posted": day, "region": region}
        hive = region or "__HIVE_DEFAULT_PARTITION__"
        p = f"date_posted={day}/region={hive}/part-{i}.zstd.parquet"
        if i < n_adds:
            stats = {"numRecords": rng.randrange(1, 5000),
                     "minValues": {"event_id": f"e{i}", "posted_at": f"{day}T00:00:00.000Z"},
                     "maxValues": {"event_id": f"e{i + 9}"},
                     "nullCount": {"event_id": 0, "skills_array": rng.randrange(3)}}
            add = {"path": p, "partitionValues": pv, "size": rng.randrange(1, 1 << 31),
                   "modificationTime": 1710460800000 + i, "dataChange": rng.random() < 0.9,
                   "stats": json.dumps(stats)}
            tags = rng.choice([None, {}, {"INSERTION_TIME": str(1710460800000000 + i)},
                               {"a": "1", "b": None}])
            if tags is not None or rng.random() < 0.5:
                add["tags"] = tags
            rows.append({"add": add})
        else:
            rows.append({"remove": {"path": p, "deletionTimestamp": 1710460900000 + i,
                                    "dataChange": True, "extendedFileMetadata": rng.random() < .5,
                                    "partitionValues": pv, "size": rng.randrange(1, 1 << 20)}})
    rng.shuffle(rows)  # checkpoints need no order; shuffling mixes the struct columns
    return rows


SHAPES_ROWS = [
    {"id": 0, "lr": [], "mr": {}},
    {"id": 1, "l": None, "lr": [1], "ll": None, "m": None, "mr": {"a": 1}, "ml": None,
     "ls": None, "o": None},
    {"id": 2, "l": [], "lr": [], "ll": [], "m": {}, "mr": {}, "ml": {}, "ls": [], "o": {
        "m": {"i": {}}}},
    {"id": 3, "l": [None], "lr": [-1, 0], "ll": [[], None, [None]], "m": {"k": None},
     "mr": {"": 0}, "ml": {"a": None, "b": [], "c": [None, "x"]},
     "ls": [None, {"n": "a"}, {"n": "b", "m": {}}, {"n": "c", "m": {"z": 1, "y": 2}}],
     "o": {"m": {"i": {"x": None}}, "tag": ""}},
    {"id": 4, "i32": -2147483648, "flag": False, "ts": -1, "d": -719162, "s": "",
     "l": ["a", None, "b"], "lr": [9223372036854775807, -9223372036854775808],
     "ll": [[1, 2], [], None, [None, 3]], "m": {"z": "1", "a": None, "m": "2"},
     "mr": {"x": -9223372036854775808}, "o": {"m": {"i": {"x": 7}}, "tag": None}},
    {"id": 5, "i32": 2147483647, "flag": True, "ts": 253402300799999999, "d": 2932896,
     "s": "naïve ☕ 𝄞 \u0000 nul", "l": ["", "€", "\U0010ffff"], "lr": [],
     "m": {"ключ": "значение", "emoji": "🎉"}, "mr": {}},
]


def random_value(rng, t, nullable, depth=0):
    if nullable and rng.random() < 0.15:
        return None
    if isinstance(t, str):
        if t == "string":
            return "".join(rng.choice("ab€ü𝄞 \t\"\\") for _ in range(rng.randrange(0, 6)))
        if t == "long":
            return rng.choice([0, -1, 1, rng.randrange(-(1 << 63), 1 << 63)])
        if t == "integer":
            return rng.randrange(-(1 << 31), 1 << 31)
        if t == "boolean":
            return rng.random() < 0.5
        if t == "timestamp":
            return rng.randrange(-(1 << 50), 1 << 50)
        return rng.randrange(-700000, 2900000)
    k = t["type"]
    if k == "struct":
        out = {}
        for f in t["fields"]:
            v = random_value(rng, f["type"], f["nullable"], depth + 1)
            if v is not None or rng.random() < 0.5:  # absent and null both mean null
                out[f["name"]] = v
        return out
    n = rng.choice([0, 0, 1, 2, 3, 5])
    if k == "array":
        return [random_value(rng, t["elementType"], t["containsNull"], depth + 1)
                for _ in range(n)]
    return {f"k{i}{rng.choice('xyz€')}": random_value(rng, t["valueType"],
                                                     t["valueContainsNull"], depth + 1)
            for i in range(n)}


def random_rows(rng, schema, n, first_id):
    rows = []
    for i in range(n):
        r = random_value(rng, schema, False)
        r["id"] = first_id + i
        rows.append(r)
    return rows


# Rows the writer must refuse (line numbers are 1-based in the JSON-lines file).
BAD_ROWS = [
    {"id": "7", "lr": [], "mr": {}},
    {"id": 7, "lr": None, "mr": {}},
    {"id": 7, "lr": [1, None], "mr": {}},
    {"id": 7, "lr": [], "mr": {"a": None}},
    {"id": 7, "lr": [], "mr": {}, "i32": 2147483648},
    {"id": 7, "lr": [], "mr": {}, "flag": "yes"},
    {"id": 7, "lr": [], "mr": {}, "ls": [{"m": {}}]},
    {"id": 7, "lr": [], "mr": {}, "o": {"m": {"i": {"x": 1.5}}}},
    {"id": 7, "lr": [], "mr": {}, "o": {"m": {}}},
    {"id": 7, "lr": [], "mr": {}, "unknown": 1},
    {"id": 7, "lr": [], "mr": {}, "ll": [[1], "x"]},
]


# ------------------------------------------------------------------------------------------
# Running the C writer

def write_case(tool, work, name, schema, rows, codec="zstd", extra=(), skip_bad=False,
               lines=None):
    sp = os.path.join(work, name + ".schema.json")
    rp = os.path.join(work, name + ".jsonl")
    with open(sp, "w") as f:
        json.dump(schema, f)
    with open(rp, "w", encoding="utf-8") as f:
        for r in (lines if lines is not None else rows):
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    cmd = [tool, "--schema", sp, "--rows", rp, "--dir", work, "--name", name + ".parquet",
           "--codec", codec, *extra] + (["--skip-bad"] if skip_bad else [])
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{name}: the writer failed ({res.returncode}): {res.stderr.strip()}")
    return os.path.join(work, name + ".parquet"), res.stdout


def check_delta_rs(tool, work):
    """A Delta table whose log holds only our checkpoint: delta-rs must take everything
    (protocol, metadata, live files, tombstone, txn) from the C writer's file."""
    root = os.path.join(work, "delta")
    log = os.path.join(root, "_delta_log")
    os.makedirs(log)
    tschema = struct(field("id", "long"), field("region", "string"))
    files = {}
    for i, (region, ids) in enumerate([("EU", [1, 2]), ("US", [3]), ("EU", [4, 5, 6])]):
        rel = f"region={region}/part-{i}.parquet"
        os.makedirs(os.path.join(root, f"region={region}"), exist_ok=True)
        pq.write_table(pa.table({"id": pa.array(ids, pa.int64())}), os.path.join(root, rel))
        files[rel] = (region, ids, os.path.getsize(os.path.join(root, rel)))

    def add(rel):
        region, ids, size = files[rel]
        return {"add": {"path": rel, "partitionValues": {"region": region}, "size": size,
                        "modificationTime": 1710460800000, "dataChange": True,
                        "stats": json.dumps({"numRecords": len(ids), "minValues": {"id": min(ids)},
                                             "maxValues": {"id": max(ids)},
                                             "nullCount": {"id": 0}})}}

    rels = sorted(files)
    rows = [{"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}},
            {"metaData": {"id": "0f6c7c3e-2a44-4b8e-9d8e-3f0a1b2c3d4e",
                          "format": {"provider": "parquet", "options": {}},
                          "schemaString": json.dumps(tschema), "partitionColumns": ["region"],
                          "configuration": {}, "createdTime": 1710460800000}},
            {"txn": {"appId": "gtp-archiver-p0", "version": 41, "lastUpdated": 1710460800000}},
            add(rels[0]), add(rels[2]),
            {"remove": {"path": rels[1], "deletionTimestamp": 4102444800000, "dataChange": True,
                        "extendedFileMetadata": True, "partitionValues": {"region": "US"},
                        "size": files[rels[1]][2]}}]
    write_case(tool, log, "00000000000000000003.checkpoint", DELTA_SCHEMA, rows)
    with open(os.path.join(log, "_last_checkpoint"), "w") as f:
        json.dump({"version": 3, "size": len(rows)}, f)
    for leftover in os.listdir(log):
        if leftover.endswith((".jsonl", ".schema.json")):
            os.unlink(os.path.join(log, leftover))
    try:
        dt = DeltaTable(root)
    except Exception as e:  # noqa: BLE001 - report whatever delta-rs says
        check(False, f"deltalake: cannot open a checkpoint-only table: {e}")
        return
    check(dt.version() == 3, f"deltalake: version {dt.version()}")
    check(list(dt.metadata().partition_columns) == ["region"],
          f"deltalake: partition columns {dt.metadata().partition_columns}")
    got_files = sorted(u.split(root + "/", 1)[-1] for u in dt.file_uris())
    check(got_files == [rels[0], rels[2]], f"deltalake: files {got_files}")
    check(dt.transaction_version("gtp-archiver-p0") == 41, "deltalake: txn version")
    t = dt.to_pyarrow_table()
    got = sorted(zip(t.column("id").to_pylist(), t.column("region").to_pylist()))
    want = sorted((i, files[r][0]) for r in (rels[0], rels[2]) for i in files[r][1])
    check(got == want, f"deltalake: rows {got} != {want}")
    adds = dt.get_add_actions(flatten=True)
    adds = adds if isinstance(adds, pa.Table) else pa.table(adds)
    sizes = dict(zip(adds.column("path").to_pylist(), adds.column("size_bytes").to_pylist()))
    check(sizes == {r: files[r][2] for r in (rels[0], rels[2])}, f"deltalake: sizes {sizes}")
    print("ok   deltalake reads a table from our checkpoint alone", flush=True)


def main():
    warnings.simplefilter("ignore", UserWarning)
    build = os.environ.get("GTP_BUILD_DIR")
    if not build:
        src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        build = os.path.join(src, "build")
    tool = os.path.join(build, "bench_pqnested_fixtures")
    if not os.access(tool, os.X_OK):
        print(f"FAIL: {tool} not built", file=sys.stderr)
        return 1
    work = tempfile.mkdtemp(prefix="gtp-pqnested-")
    rng = random.Random(20240315)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        rows = delta_rows(rng, 300, 40, 5)
        for codec, name in [("zstd", "ZSTD"), ("snappy", "SNAPPY"), ("none", "UNCOMPRESSED")]:
            path, _ = write_case(tool, work, f"checkpoint_{codec}", DELTA_SCHEMA, rows, codec,
                                 ["--page-bytes", "4096"])
            check_readers(con, path, DELTA_SCHEMA, rows, name, f"checkpoint {codec}")
            # exactly one top-level action per row, as in a real checkpoint
            t = pq.read_table(path)
            nonnull = [sum(t.column(c)[i].is_valid for c in t.column_names)
                       for i in range(t.num_rows)]
            check(set(nonnull) == {1}, f"checkpoint {codec}: non-null actions per row "
                                       f"{sorted(set(nonnull))}")

        rows = SHAPES_ROWS + random_rows(rng, SHAPES_SCHEMA, 3000, 100)
        path, _ = write_case(tool, work, "shapes", SHAPES_SCHEMA, rows, "snappy",
                             ["--page-bytes", "2048", "--row-group-rows", "1100"])
        check_readers(con, path, SHAPES_SCHEMA, rows, "SNAPPY", "shapes", want_pages=True)

        good = SHAPES_ROWS[:3]
        lines = [good[0]] + BAD_ROWS[:6] + [good[1]] + BAD_ROWS[6:] + [good[2]]
        path, out = write_case(tool, work, "rejects", SHAPES_SCHEMA, good, "zstd",
                               skip_bad=True, lines=lines)
        rejected = [int(m) for m in re.findall(r"^rejected (\d+):", out, re.M)]
        want = [i + 1 for i, r in enumerate(lines) if r not in good]
        check(rejected == want, f"rejects: lines {rejected}, expected {want}")
        check(out.strip().endswith(f"rows {len(good)}"), f"rejects: {out.strip()[-40:]!r}")
        check_readers(con, path, SHAPES_SCHEMA, good, "ZSTD", "rejects")

        path, _ = write_case(tool, work, "empty", DELTA_SCHEMA, [], "zstd")
        check_readers(con, path, DELTA_SCHEMA, [], "ZSTD", "empty")

        rows = delta_rows(rng, 100000, 19948, 50)
        path, _ = write_case(tool, work, "many", DELTA_SCHEMA, rows, "zstd",
                             ["--page-bytes", "65536", "--row-group-rows", "50000"])
        check_readers(con, path, DELTA_SCHEMA, rows, "ZSTD", "many", want_pages=True)

        check_delta_rs(tool, work)
    finally:
        if os.environ.get("GTP_KEEP_FIXTURES"):
            print("fixtures kept in", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)", file=sys.stderr)
        return 1
    print("all readers agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
