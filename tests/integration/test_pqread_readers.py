"""Files of the archive schema written by pyarrow, read by our reader (gtp/pqread.h).

A different writer proves the reader is not tied to our own byte layout. Seeded rows (NUL
bytes and multi-byte UTF-8 in strings, empty strings, null vs empty lists, null elements,
all-null columns, int64 extremes in posted_at) are written by pq.write_table in the schema of
include/gtp/parquet.h under many options: dictionary on/off, zstd/snappy/none, format 1.0
(PLAIN_DICTIONARY) and 2.6, small pages, a dictionary that falls back to PLAIN mid-chunk,
several row groups, 0 and 1 rows. `bench_pqread_cli dump` prints every row as JSON; each row
must equal the row given to pyarrow, field by field. A page walker written here (Thrift
compact protocol in Python) checks that the options did produce what they are meant to
exercise (INT64 dictionaries, PLAIN_DICTIONARY pages, PLAIN pages after dictionary pages in
one chunk, several pages and row groups), so a pyarrow that changed its defaults fails here
instead of silently testing less.

Files the reader must refuse, with a message naming the column or the feature: data pages
v2, gzip/brotli/lz4 codecs, DELTA_LENGTH_BYTE_ARRAY values, and schemas that differ from the
archive's (nullable required column, TIMESTAMP(ms), a timestamp without UTC, an int8
is_remote, required list elements, reordered, missing or extra columns), and a skill holding
a NUL byte (a row cannot carry it).

Needs no services. Run: GTP_BUILD_DIR=<build> scripts/py tests/integration/test_pqread_readers.py
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

from tcompact import thrift_struct

ROOT = os.environ.get("GTP_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("GTP_BUILD_DIR") or os.path.join(ROOT, "build")
CLI = os.path.join(BUILD, "bench_pqread_cli")
FAILURES = []
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

TS = pa.timestamp("us", tz="UTC")
FIELDS = [
    pa.field("event_id", pa.string(), nullable=False),
    pa.field("posted_at", TS, nullable=False),
    pa.field("title", pa.string(), nullable=False),
    pa.field("company", pa.string()),
    pa.field("skills_array", pa.list_(pa.field("element", pa.string()))),
    pa.field("experience_level", pa.string()),
    pa.field("job_id", pa.string(), nullable=False),
    pa.field("source", pa.string()),
    pa.field("location", pa.string()),
    pa.field("is_remote", pa.bool_()),
]
SCHEMA = pa.schema(FIELDS)
STRINGS = ["event_id", "title", "company", "experience_level", "job_id", "source", "location"]
OPTIONAL = ["company", "experience_level", "source", "location"]


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr, flush=True)


# ---- rows ------------------------------------------------------------------------------------

def rand_str(rnd, nul_ok, pool):
    if pool and rnd.random() < 0.7:
        return rnd.choice(["Senior", "Junior", "", "déjà vu", "Lead"])
    pieces = ["a", "Q", "0", " ", '"', "\\", "é", "日", "🚀", "python", "\n", "\x7f"]
    s = "".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 12)))
    if nul_ok and rnd.random() < 0.1:
        k = rnd.randrange(0, len(s) + 1)
        s = s[:k] + "\x00" + s[k:]
    return s


def make_rows(seed, n, pool=False, all_null=False):
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        r = {}
        for c in STRINGS:
            if c in OPTIONAL and (all_null or rnd.random() < 0.2):
                r[c] = None
            else:
                r[c] = rand_str(rnd, True, pool)
        r["event_id"] = "e%d-%s" % (i, r["event_id"])
        shape = rnd.randrange(8)
        if all_null or shape == 0:
            r["skills_array"] = None
        elif shape == 1:
            r["skills_array"] = []
        else:
            r["skills_array"] = [None if rnd.random() < 0.2 else rand_str(rnd, False, pool)
                                 for _ in range(rnd.randrange(0, 9))]
        r["posted_at"] = rnd.choice([INT64_MIN, INT64_MAX, 0, -1,
                                     rnd.randrange(INT64_MIN, INT64_MAX),
                                     1700000000000000 + rnd.randrange(10**9)])
        r["is_remote"] = None if all_null else rnd.choice([None, True, False])
        rows.append(r)
    return rows


def table(rows, schema=SCHEMA):
    cols = {}
    for f in schema:
        vals = [r.get(f.name) for r in rows]
        if f.name == "posted_at" and pa.types.is_timestamp(f.type):
            cols[f.name] = pa.array(vals, pa.int64()).cast(f.type)
        else:
            cols[f.name] = pa.array(vals, f.type)
    return pa.Table.from_pydict(cols, schema=schema)


def expected(rows):
    out = []
    for r in rows:
        e = {c: r[c] for c in STRINGS}
        e["posted_at_us"] = r["posted_at"]
        e["skills_array"] = r["skills_array"]
        e["is_remote"] = r["is_remote"]
        out.append(e)
    return out


def dump(path):
    p = subprocess.run([CLI, "dump", path], capture_output=True)
    rows = None
    if p.returncode == 0:
        rows = [json.loads(line) for line in p.stdout.decode("utf-8").splitlines()]
    return p.returncode, rows, p.stderr.decode("utf-8", "replace").strip()


# ---- page walker: Thrift compact protocol --------------------------------------------------

def page_kinds(path):
    """{column: [(page type, encoding, num_values, row group)]} from the page headers."""
    b = open(path, "rb").read()
    flen = struct.unpack("<I", b[-8:-4])[0]
    md, _ = thrift_struct(b, len(b) - 8 - flen)
    out = {}
    for g, rg in enumerate(md.get(4, [])):
        for cc in rg[1]:
            m = cc[3]
            name = b".".join(m[3]).decode()
            pos = m.get(11) or m[9]
            end = pos + m[7]
            while pos < end:
                ph, j = thrift_struct(b, pos)
                if ph[1] == 0:
                    kind = (0, ph[5][2], ph[5][1], g)
                elif ph[1] == 2:
                    kind = (2, ph[7].get(2, 0), ph[7][1], g)
                else:
                    kind = (ph[1], None, None, g)
                out.setdefault(name, []).append(kind)
                pos = j + ph[3]
    return out


# ---- the checks --------------------------------------------------------------------------------

def read_back(name, path, rows):
    rc, got, err = dump(path)
    check(rc == 0, "%s: refused: %s" % (name, err))
    if rc != 0:
        return
    want = expected(rows)
    check(len(got) == len(want), "%s: %d rows, wrote %d" % (name, len(got), len(want)))
    bad = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
    check(not bad, "%s: %d rows differ, first %s: got %r want %r" % (
        name, len(bad), bad[:1], got[bad[0]] if bad else None, want[bad[0]] if bad else None))


def main():
    if not os.access(CLI, os.X_OK):
        raise SystemExit("missing binary %s (build first)" % CLI)
    tmp = tempfile.mkdtemp(prefix="gtp-pqread-")
    rows = make_rows(1, 3000)
    pooled = make_rows(2, 3000, pool=True)
    datasets = {"mixed": rows, "pooled": pooled, "allnull": make_rows(3, 400, all_null=True),
                "one": make_rows(4, 1), "empty": []}
    small = dict(data_page_size=256, row_group_size=701, write_batch_size=16)
    option_sets = {
        "default": {},
        "small": small,
        "v1format": dict(version="1.0", **small),
        "fallback": dict(dictionary_pagesize_limit=96, data_page_size=512),
        "noschema": dict(store_schema=False, row_group_size=1000),
    }
    kinds_seen = {}
    nfiles = 0
    for dname, drows in datasets.items():
        t = table(drows)
        for oname, opts in option_sets.items():
            for comp in ("zstd", "snappy", "none"):
                for dic in (True, False):
                    name = "%s-%s-%s-%s" % (dname, oname, comp, "dict" if dic else "plain")
                    path = os.path.join(tmp, name + ".parquet")
                    pq.write_table(t, path, compression=comp, use_dictionary=dic,
                                   data_page_version="1.0", **opts)
                    read_back(name, path, drows)
                    nfiles += 1
                    if dname in ("mixed", "pooled"):
                        kinds_seen[name] = page_kinds(path)
    print("%d pyarrow files read back" % nfiles)

    # What the options were for actually happened.
    def any_file(pred):
        return any(pred(k) for k in kinds_seen.values())
    check(any_file(lambda k: any(p[0] == 2 for p in k["posted_at"])),
          "no INT64 dictionary page (posted_at) was written")
    check(any_file(lambda k: any(p[0] == 0 and p[1] == 2 for c in k.values() for p in c)),
          "no PLAIN_DICTIONARY data page was written")
    check(any_file(lambda k: any(p[0] == 0 and p[1] == 8 for c in k.values() for p in c)),
          "no RLE_DICTIONARY data page was written")
    check(any_file(lambda k: any(
        any(p[0] == 2 for p in c) and any(p[0] == 0 and p[1] == 0 for p in c)
        for c in k.values())), "no chunk mixes dictionary and PLAIN pages (fallback)")
    check(any_file(lambda k: sum(p[0] == 0 and p[3] == 0 for p in k["skills_array.list.element"])
                   > 5), "no skills chunk with several data pages")
    check(any_file(lambda k: max(p[3] for p in k["event_id"]) >= 4),
          "no file with several row groups")

    refusals(tmp)
    if FAILURES:
        print("%d failures; files kept in %s" % (len(FAILURES), tmp), file=sys.stderr)
        sys.exit(1)
    subprocess.run(["rm", "-rf", tmp], check=False)
    print("ok")


def refusals(tmp):
    rows = make_rows(9, 50)
    t = table(rows)

    def refused(name, tbl, want, **opts):
        path = os.path.join(tmp, "refuse-" + name + ".parquet")
        opts.setdefault("data_page_version", "1.0")
        pq.write_table(tbl, path, **opts)
        rc, _, err = dump(path)
        check(rc == 1 and all(w in err for w in want),
              "%s: exit %d, message %r, want %r" % (name, rc, err, want))

    refused("v2", t, ["column event_id, row group 0", "data page v2 is not supported"],
            data_page_version="2.0")
    for codec, label in (("gzip", "GZIP"), ("brotli", "BROTLI"), ("lz4", "LZ4_RAW")):
        refused(codec, t, ["column event_id, row group 0", "codec %s is not supported" % label],
                compression=codec)
    refused("delta", t, ["column title", "encoding 6 is not supported"], use_dictionary=False,
            column_encoding={"title": "DELTA_LENGTH_BYTE_ARRAY"})

    def variant(i, field):
        fields = list(FIELDS)
        fields[i] = field
        return pa.schema(fields)

    schemas = {
        "nullable-event-id": (variant(0, pa.field("event_id", pa.string())),
                              ["column event_id: repetition OPTIONAL, expected REQUIRED"]),
        "millis": (variant(1, pa.field("posted_at", pa.timestamp("ms", tz="UTC"),
                                       nullable=False)),
                   ["column posted_at: not a TIMESTAMP(isAdjustedToUTC=true, MICROS)"]),
        "local-time": (variant(1, pa.field("posted_at", pa.timestamp("us"), nullable=False)),
                       ["column posted_at: not a TIMESTAMP"]),
        "int8-remote": (variant(9, pa.field("is_remote", pa.int8())),
                        ["column is_remote: physical type INT32, expected BOOLEAN"]),
        "required-elements": (variant(4, pa.field("skills_array", pa.list_(
            pa.field("element", pa.string(), nullable=False)))),
            ["column skills_array.list.element: repetition REQUIRED, expected OPTIONAL"]),
        "binary-title": (variant(2, pa.field("title", pa.binary(), nullable=False)),
                         ["column title: not a STRING (UTF8) column"]),
        "reordered": (pa.schema([FIELDS[2], FIELDS[1], FIELDS[0]] + FIELDS[3:]),
                      ['schema: column 0 is "title", expected event_id']),
        "missing": (pa.schema(FIELDS[:-1]), ["schema: 9 top-level columns, expected 10"]),
        "extra": (pa.schema(FIELDS + [pa.field("salary", pa.int64())]),
                  ["schema: 11 top-level columns, expected 10"]),
    }
    for name, (schema, want) in schemas.items():
        vrows = [dict(r) for r in rows]
        for r in vrows:
            if name == "int8-remote":
                r["is_remote"] = None if r["is_remote"] is None else int(r["is_remote"])
            if name == "required-elements" and r["skills_array"]:
                r["skills_array"] = [s or "" for s in r["skills_array"]]
            if name == "binary-title":
                r["title"] = r["title"].encode()
            r["salary"] = 1
        refused(name, table(vrows, schema), want)

    nul = [dict(r) for r in rows]
    nul[7]["skills_array"] = ["ok", "bad\x00skill"]
    refused("nul-skill", table(nul), ["column skills_array, row group 0: row 7: a skill holds a "
                                      "NUL byte"])


if __name__ == "__main__":
    main()
