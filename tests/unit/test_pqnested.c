/* Unit tests for the nested Parquet writer (gtp/pqnested.h): schema parsing, Dremel levels
 * of tricky shapes checked against hand-derived tables (docs/parquet.md), rejected rows
 * that must leave the writer byte-for-byte unchanged, and the structure of written files.
 * The readers' view of the same files is tests/integration/test_pqnested_readers.py. */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gtp/err.h"
#include "gtp/parquet.h"
#include "gtp/pqnested.h"
#include "gtp/util.h"

/* Field snippets keep the schema tables readable. */
#define F(name, type, nullable)                                                                    \
    "{\"name\":\"" name "\",\"type\":" type ",\"nullable\":" nullable ",\"metadata\":{}}"
#define STRUCT(...)  "{\"type\":\"struct\",\"fields\":[" __VA_ARGS__ "]}"
#define ARRAY(t, cn) "{\"type\":\"array\",\"elementType\":" t ",\"containsNull\":" cn "}"
#define MAP(v, vcn)                                                                                \
    "{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":" v ",\"valueContainsNull\":" vcn "}"
#define STR    "\"string\""
#define LONG   "\"long\""
#define INT    "\"integer\""
#define BOOL   "\"boolean\""
#define MAP_SS MAP(STR, "true")

/* The Delta classic checkpoint schema (Delta's PROTOCOL.md, docs/archive.md). Laid out by hand: the
 * formatter cannot fold string-pasting macros readably. */
/* clang-format off */
#define TXN_T STRUCT(F("appId", STR, "true") "," F("version", LONG, "true") ","           \
                     F("lastUpdated", LONG, "true"))
#define ADD_T STRUCT(F("path", STR, "true") "," F("partitionValues", MAP_SS, "true") ","  \
                     F("size", LONG, "true") "," F("modificationTime", LONG, "true") ","   \
                     F("dataChange", BOOL, "true") "," F("stats", STR, "true") ","         \
                     F("tags", MAP_SS, "true"))
#define REMOVE_T STRUCT(F("path", STR, "true") "," F("deletionTimestamp", LONG, "true") "," \
                        F("dataChange", BOOL, "true") ","                                 \
                        F("extendedFileMetadata", BOOL, "true") ","                       \
                        F("partitionValues", MAP_SS, "true") "," F("size", LONG, "true"))
#define FORMAT_T STRUCT(F("provider", STR, "true") "," F("options", MAP_SS, "true"))
#define META_T STRUCT(F("id", STR, "true") "," F("name", STR, "true") ","                  \
                      F("description", STR, "true") "," F("format", FORMAT_T, "true") ","  \
                      F("schemaString", STR, "true") ","                                   \
                      F("partitionColumns", ARRAY(STR, "true"), "true") ","                \
                      F("configuration", MAP_SS, "true") "," F("createdTime", LONG, "true"))
#define PROTOCOL_T STRUCT(F("minReaderVersion", INT, "true") ","                          \
                          F("minWriterVersion", INT, "true"))
static const char DELTA_SCHEMA[] = STRUCT(
    F("txn", TXN_T, "true") "," F("add", ADD_T, "true") "," F("remove", REMOVE_T, "true") ","
    F("metaData", META_T, "true") "," F("protocol", PROTOCOL_T, "true"));
/* clang-format on */

static struct gtp_pqnested_schema *parse_ok(const char *json)
{
    char errstr[256] = "";
    struct gtp_pqnested_schema *s = gtp_pqnested_schema_parse(json, errstr, sizeof(errstr));
    if (!s)
        fprintf(stderr, "schema rejected: %s\n", errstr);
    assert_non_null(s);
    return s;
}

static json_t *row_of(const char *text)
{
    json_error_t jerr;
    json_t *row = json_loads(text, 0, &jerr);
    if (!row)
        fprintf(stderr, "bad test row %s: %s\n", text, jerr.text);
    assert_non_null(row);
    return row;
}

static void add_ok(struct gtp_pqnested_writer *w, const char *text)
{
    char errstr[256] = "";
    json_t *row = row_of(text);
    int err = gtp_pqnested_add_row(w, row, errstr, sizeof(errstr));
    if (err)
        fprintf(stderr, "row %s rejected: %s\n", text, errstr);
    assert_int_equal(err, 0);
    json_decref(row);
}

/* ------------------------------------------------------------------------------------------
 * Schemas that parse: leaf paths and maximum levels */

struct leaf_want {
    const char *path;
    int max_def, max_rep;
};

static const struct {
    const char *name;
    const char *schema;
    size_t nleaves;
    struct leaf_want leaves[8]; /* the first few leaves */
} GOOD[] = {
    {"flat",
     STRUCT(F("a", STR, "true") "," F("b", LONG, "false") "," F("c", "\"timestamp\"", "true") "," F(
         "d", "\"date\"", "false") "," F("e", BOOL, "true") "," F("f", INT, "true")),
     6,
     {{"a", 1, 0}, {"b", 0, 0}, {"c", 1, 0}, {"d", 0, 0}, {"e", 1, 0}, {"f", 1, 0}}},
    {"list of optional strings",
     STRUCT(F("l", ARRAY(STR, "true"), "true")),
     1,
     {{"l.list.element", 3, 1}}},
    {"required list of required longs",
     STRUCT(F("l", ARRAY(LONG, "false"), "false")),
     1,
     {{"l.list.element", 1, 1}}},
    {"map with optional values",
     STRUCT(F("m", MAP_SS, "true")),
     2,
     {{"m.key_value.key", 2, 1}, {"m.key_value.value", 3, 1}}},
    {"list of lists",
     STRUCT(F("ll", ARRAY(ARRAY(INT, "true"), "true"), "true")),
     1,
     {{"ll.list.element.list.element", 5, 2}}},
    {"map of lists of structs",
     STRUCT(F("m",
              MAP(ARRAY(STRUCT(F("x", LONG, "true") "," F("y", STR, "false")), "true"), "false"),
              "true")),
     3,
     {{"m.key_value.key", 2, 1},
      {"m.key_value.value.list.element.x", 5, 2},
      {"m.key_value.value.list.element.y", 4, 2}}},
    {"struct in struct in optional struct",
     STRUCT(F("o", STRUCT(F("m", STRUCT(F("i", STRUCT(F("x", LONG, "true")), "false")), "false")),
              "true")),
     1,
     {{"o.m.i.x", 2, 0}}},
    {"metadata and field order kept",
     "{\"type\":\"struct\",\"fields\":[{\"metadata\":{\"comment\":\"c\"},\"nullable\":true,"
     "\"type\":\"string\",\"name\":\"z\"},{\"name\":\"a\",\"type\":\"long\",\"nullable\":true}]}",
     2,
     {{"z", 1, 0}, {"a", 1, 0}}},
    {"delta checkpoint",
     DELTA_SCHEMA,
     32,
     {{"txn.appId", 2, 0},
      {"txn.version", 2, 0},
      {"txn.lastUpdated", 2, 0},
      {"add.path", 2, 0},
      {"add.partitionValues.key_value.key", 3, 1},
      {"add.partitionValues.key_value.value", 4, 1},
      {"add.size", 2, 0},
      {"add.modificationTime", 2, 0}}},
};

static void test_schema_good(void **state)
{
    (void)state;
    for (size_t t = 0; t < GTP_ARRAY_LEN(GOOD); t++) {
        struct gtp_pqnested_schema *s = parse_ok(GOOD[t].schema);
        size_t n = gtp_pqnested_schema_leaves(s);
        if (n != GOOD[t].nleaves)
            fprintf(stderr, "%s: %zu leaves\n", GOOD[t].name, n);
        assert_int_equal(n, GOOD[t].nleaves);
        for (size_t i = 0; i < n && i < 8 && GOOD[t].leaves[i].path; i++) {
            const struct leaf_want *lw = &GOOD[t].leaves[i];
            const char *p = gtp_pqnested_schema_leaf_path(s, i);
            if (strcmp(p, lw->path) != 0)
                fprintf(stderr, "%s: leaf %zu is %s\n", GOOD[t].name, i, p);
            assert_string_equal(p, lw->path);
            assert_int_equal(gtp_pqnested_schema_leaf_max_def(s, i), lw->max_def);
            assert_int_equal(gtp_pqnested_schema_leaf_max_rep(s, i), lw->max_rep);
        }
        assert_null(gtp_pqnested_schema_leaf_path(s, n));
        assert_int_equal(gtp_pqnested_schema_leaf_max_def(s, n), -1);
        gtp_pqnested_schema_free(s);
    }
}

static void test_schema_delta_levels(void **state)
{
    (void)state;
    static const struct leaf_want want[] = {
        {"metaData.format.provider", 3, 0},
        {"metaData.format.options.key_value.key", 4, 1},
        {"metaData.format.options.key_value.value", 5, 1},
        {"metaData.partitionColumns.list.element", 4, 1},
        {"metaData.configuration.key_value.value", 4, 1},
        {"protocol.minReaderVersion", 2, 0},
        {"protocol.minWriterVersion", 2, 0},
    };
    struct gtp_pqnested_schema *s = parse_ok(DELTA_SCHEMA);
    for (size_t k = 0; k < GTP_ARRAY_LEN(want); k++) {
        size_t i = 0, n = gtp_pqnested_schema_leaves(s);
        while (i < n && strcmp(gtp_pqnested_schema_leaf_path(s, i), want[k].path) != 0)
            i++;
        if (i == n)
            fprintf(stderr, "no leaf %s\n", want[k].path);
        assert_true(i < n);
        assert_int_equal(gtp_pqnested_schema_leaf_max_def(s, i), want[k].max_def);
        assert_int_equal(gtp_pqnested_schema_leaf_max_rep(s, i), want[k].max_rep);
    }
    assert_string_equal(gtp_pqnested_schema_leaf_path(s, 31), "protocol.minWriterVersion");
    gtp_pqnested_schema_free(s);
}

/* ------------------------------------------------------------------------------------------
 * Schemas that must be rejected, with the words the reason must contain */

static const struct {
    const char *schema;
    const char *why;
} BAD[] = {
    {"", "schema:"},
    {"{\"type\":\"struct\",\"fields\":[", "schema:"},
    {"[1,2]", "top level"},
    {"{\"type\":\"array\",\"elementType\":\"string\",\"containsNull\":true}", "top level"},
    {"{\"type\":\"struct\",\"fields\":[]}", "non-empty \"fields\""},
    {"{\"type\":\"struct\"}", "non-empty \"fields\""},
    {STRUCT("{\"type\":\"string\",\"nullable\":true}"), "\"name\""},
    {STRUCT(F("", STR, "true")), "\"name\""},
    {STRUCT("{\"name\":\"a\",\"type\":\"string\"}"), "\"nullable\""},
    {STRUCT(F("a", STR, "\"yes\"")), "\"nullable\""},
    {STRUCT(F("a", "\"double\"", "true")), "unsupported type \"double\""},
    {STRUCT(F("a", "\"decimal(10,2)\"", "true")), "unsupported type"},
    {STRUCT(F("a", "\"timestamp_ntz\"", "true")), "unsupported type"},
    {STRUCT(F("a", "42", "true")), "\"type\""},
    {STRUCT(F("a", "{\"type\":\"udt\"}", "true")), "unsupported type \"udt\""},
    {STRUCT(F("a", STR, "true") "," F("A", LONG, "true")), "duplicate field \"A\""},
    {STRUCT(F("a", STRUCT(F("x", STR, "true") "," F("x", STR, "true")), "true")),
     "a: duplicate field \"x\""},
    {"{\"type\":\"struct\",\"type\":\"struct\",\"fields\":[" F("a", STR, "true") "]}", "schema:"},
    {STRUCT(F("a", "{\"type\":\"struct\",\"fields\":[]}", "true")), "a: a struct needs"},
    {STRUCT(F("a", "{\"type\":\"array\",\"elementType\":\"string\"}", "true")), "\"containsNull\""},
    {STRUCT(F("a", "{\"type\":\"array\",\"containsNull\":true}", "true")), "a.element"},
    {STRUCT(F("m", MAP(STR, "true"), "true") "," F("n",
                                                   "{\"type\":\"map\",\"keyType\":\"long\","
                                                   "\"valueType\":\"string\","
                                                   "\"valueContainsNull\":true}",
                                                   "true")),
     "n: map keys must be \"string\""},
    {STRUCT(F("m", "{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":\"string\"}", "true")),
     "\"valueContainsNull\""},
    {STRUCT(F("m", MAP("\"float\"", "true"), "true")), "m.value: unsupported type \"float\""},
    {STRUCT("{\"name\":\"a\",\"type\":\"string\",\"nullable\":true,\"metadata\":[]}"),
     "\"metadata\""},
};

static void test_schema_bad(void **state)
{
    (void)state;
    for (size_t t = 0; t < GTP_ARRAY_LEN(BAD); t++) {
        char errstr[256] = "";
        struct gtp_pqnested_schema *s =
            gtp_pqnested_schema_parse(BAD[t].schema, errstr, sizeof(errstr));
        if (s || !strstr(errstr, BAD[t].why))
            fprintf(stderr, "bad schema %zu: %s -> '%s', want '%s'\n", t, BAD[t].schema, errstr,
                    BAD[t].why);
        assert_null(s);
        assert_non_null(strstr(errstr, BAD[t].why));
    }
    assert_null(gtp_pqnested_schema_parse(NULL, NULL, 0));
}

/* Nesting: GTP_PQNESTED_MAX_DEPTH levels parse, one more does not. */
static char *nested_schema(int depth)
{
    size_t cap = 64 + (size_t)depth * 128, len = 0;
    char *s = gtp_xmalloc(cap);
    len += (size_t)snprintf(s + len, cap - len, "{\"type\":\"struct\",\"fields\":[");
    for (int i = 1; i < depth; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                "{\"name\":\"f\",\"nullable\":true,\"type\":{\"type\":\"struct\","
                                "\"fields\":[");
    len += (size_t)snprintf(s + len, cap - len,
                            "{\"name\":\"x\",\"type\":\"long\","
                            "\"nullable\":true}");
    for (int i = 1; i < depth; i++)
        len += (size_t)snprintf(s + len, cap - len, "]}}");
    snprintf(s + len, cap - len, "]}");
    return s;
}

static void test_schema_depth(void **state)
{
    (void)state;
    char errstr[256] = "";
    char *ok = nested_schema(GTP_PQNESTED_MAX_DEPTH);
    char *deep = nested_schema(GTP_PQNESTED_MAX_DEPTH + 1);
    struct gtp_pqnested_schema *s = gtp_pqnested_schema_parse(ok, errstr, sizeof(errstr));
    assert_non_null(s);
    assert_int_equal(gtp_pqnested_schema_leaf_max_def(s, 0), GTP_PQNESTED_MAX_DEPTH);
    gtp_pqnested_schema_free(s);
    assert_null(gtp_pqnested_schema_parse(deep, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "nested deeper"));
    free(ok);
    free(deep);
}

/* ------------------------------------------------------------------------------------------
 * Levels of tricky shapes: rows in, the (rep, def) entries of every leaf out. Levels are
 * written as strings of digits, "-" for a leaf with no levels of that kind. */

static const struct {
    const char *name;
    const char *schema;
    const char *rows[6];
    const char *def[4]; /* per leaf */
    const char *rep[4];
    size_t nvals[4];
} LEVELS[] = {
    {"null struct vs struct with null field",
     STRUCT(F("s", STRUCT(F("a", STR, "true") "," F("b", LONG, "false")), "true")),
     {"{}", "{\"s\":null}", "{\"s\":{\"b\":1}}", "{\"s\":{\"a\":\"x\",\"b\":2}}",
      "{\"s\":{\"a\":null,\"b\":3}}"},
     {"00121", "00111"},
     {"-", "-"},
     {1, 3}},
    {"null list, empty list, null element, elements",
     STRUCT(F("l", ARRAY(STR, "true"), "true")),
     {"{\"l\":null}", "{\"l\":[]}", "{\"l\":[null]}", "{\"l\":[\"a\",null,\"b\"]}", "{}"},
     {"0123230"},
     {"0000110"},
     {2}},
    {"required list of required elements",
     STRUCT(F("l", ARRAY(LONG, "false"), "false")),
     {"{\"l\":[]}", "{\"l\":[1,2,3]}", "{\"l\":[4]}"},
     {"01111"},
     {"00110"},
     {4}},
    {"map: null, empty, null value, entries",
     STRUCT(F("m", MAP_SS, "true")),
     {"{}", "{\"m\":{}}", "{\"m\":{\"k\":null}}", "{\"m\":{\"k\":\"v\",\"j\":null}}"},
     {"01222", "01232"},
     {"00001", "00001"},
     {3, 1}},
    {"struct in struct in optional struct",
     STRUCT(F("o", STRUCT(F("m", STRUCT(F("i", STRUCT(F("x", LONG, "true")), "false")), "false")),
              "true")),
     {"{}", "{\"o\":{\"m\":{\"i\":{}}}}", "{\"o\":{\"m\":{\"i\":{\"x\":5}}}}"},
     {"012"},
     {"-"},
     {1}},
    {"list of lists",
     STRUCT(F("ll", ARRAY(ARRAY(INT, "true"), "true"), "true")),
     {"{\"ll\":[[1,2],[],null,[null,3]]}", "{\"ll\":[]}", "{\"ll\":[[]]}"},
     {"55324513"},
     {"02111200"},
     {3}},
    {"list of structs with a map",
     STRUCT(F("l",
              ARRAY(STRUCT(F("n", STR, "false") "," F("m", MAP(LONG, "false"), "true")), "true"),
              "true")),
     {"{\"l\":[{\"n\":\"a\",\"m\":{\"x\":1,\"y\":2}},null,{\"n\":\"b\"},{\"n\":\"c\",\"m\":{}}]}",
      "{\"l\":null}"},
     {"32330", "552340", "552340"},
     {"01110", "021110", "021110"},
     {3, 2, 2}},
};

static void levels_str(const uint8_t *lv, size_t n, char *out, size_t cap)
{
    if (!lv) {
        snprintf(out, cap, "-");
        return;
    }
    size_t i;
    for (i = 0; i < n && i + 1 < cap; i++)
        out[i] = (char)('0' + lv[i]);
    out[i] = '\0';
}

static void test_levels(void **state)
{
    (void)state;
    for (size_t t = 0; t < GTP_ARRAY_LEN(LEVELS); t++) {
        struct gtp_pqnested_schema *s = parse_ok(LEVELS[t].schema);
        struct gtp_pqnested_writer *w = gtp_pqnested_writer_new(s, NULL);
        size_t nrows = 0;
        assert_non_null(w);
        for (size_t r = 0; r < 6 && LEVELS[t].rows[r]; r++, nrows++)
            add_ok(w, LEVELS[t].rows[r]);
        assert_int_equal(gtp_pqnested_rows(w), nrows);
        for (size_t i = 0; i < gtp_pqnested_schema_leaves(s); i++) {
            const uint8_t *def, *rep;
            size_t n, nvals, nulls;
            char got_def[64], got_rep[64];
            assert_int_equal(gtp_pqnested_leaf_levels(w, i, &def, &rep, &n, &nvals, &nulls), 0);
            levels_str(def, n, got_def, sizeof(got_def));
            levels_str(rep, n, got_rep, sizeof(got_rep));
            if (strcmp(got_def, LEVELS[t].def[i]) || strcmp(got_rep, LEVELS[t].rep[i]) ||
                nvals != LEVELS[t].nvals[i])
                fprintf(stderr, "%s leaf %zu: def %s rep %s nvals %zu\n", LEVELS[t].name, i,
                        got_def, got_rep, nvals);
            assert_string_equal(got_def, LEVELS[t].def[i]);
            assert_string_equal(got_rep, LEVELS[t].rep[i]);
            assert_int_equal(nvals, LEVELS[t].nvals[i]);
            assert_int_equal(nulls, n - nvals); /* def < max_def exactly when no value */
            if (rep) {
                size_t starts = 0;
                for (size_t e = 0; e < n; e++)
                    starts += rep[e] == 0;
                assert_int_equal(starts, nrows); /* every row starts with rep 0 */
            } else {
                assert_int_equal(n, nrows); /* one entry per row without repetition */
            }
        }
        assert_int_equal(gtp_pqnested_leaf_levels(w, gtp_pqnested_schema_leaves(s), NULL, NULL,
                                                  NULL, NULL, NULL),
                         GTP_ERR_INVAL);
        gtp_pqnested_writer_free(w);
        gtp_pqnested_schema_free(s);
    }
}

/* ------------------------------------------------------------------------------------------
 * Rejected rows: the error names the field, and the writer is exactly as before (levels,
 * counts, and the bytes of the file it writes). */

/* clang-format off */
static const char REJ_SCHEMA[] = STRUCT(
    F("id", LONG, "false") "," F("n", INT, "true") "," F("flag", BOOL, "true") ","
    F("ts", "\"timestamp\"", "true") "," F("d", "\"date\"", "true") ","
    F("s", STRUCT(F("a", STR, "true") "," F("req", STR, "false")), "true") ","
    F("tags", ARRAY(STR, "false"), "true") "," F("m", MAP(STR, "false"), "true") ","
    F("mm", MAP(ARRAY(LONG, "true"), "true"), "true") "," F("last", STR, "true"));
/* clang-format on */

static const struct {
    const char *row;
    const char *why;
} REJECT[] = {
    {"{\"n\":1}", "id: required value is null"},
    {"{\"id\":null}", "id: required value is null"},
    {"{\"id\":\"1\"}", "id: expected integer, got string"},
    {"{\"id\":1.5}", "id: expected integer, got real"},
    {"{\"id\":true}", "id: expected integer, got boolean"},
    {"{\"id\":1,\"n\":2147483648}", "n: 2147483648 is out of the 32-bit range"},
    {"{\"id\":1,\"n\":-2147483649}", "out of the 32-bit range"},
    {"{\"id\":1,\"d\":99999999999}", "d: 99999999999 is out"},
    {"{\"id\":1,\"flag\":1}", "flag: expected boolean, got integer"},
    {"{\"id\":1,\"flag\":\"true\"}", "flag: expected boolean, got string"},
    {"{\"id\":1,\"ts\":\"2024-01-01T00:00:00Z\"}", "ts: expected integer, got string"},
    {"{\"id\":1,\"s\":[]}", "s: expected object, got array"},
    {"{\"id\":1,\"s\":{\"a\":\"x\"}}", "s.req: required value is null"},
    {"{\"id\":1,\"s\":{\"a\":1,\"req\":\"r\"}}", "s.a: expected string, got integer"},
    {"{\"id\":1,\"s\":{\"req\":\"r\",\"extra\":1}}", "s: unknown field \"extra\""},
    {"{\"id\":1,\"bogus\":1}", "row: unknown field \"bogus\""},
    {"{\"id\":1,\"tags\":\"a\"}", "tags: expected array, got string"},
    {"{\"id\":1,\"tags\":[\"a\",null]}", "tags.element: required value is null"},
    {"{\"id\":1,\"tags\":[\"a\",2]}", "tags.element: expected string, got integer"},
    {"{\"id\":1,\"m\":[]}", "m: expected object, got array"},
    {"{\"id\":1,\"m\":{\"k\":\"v\",\"j\":null}}", "m.value: required value is null"},
    {"{\"id\":1,\"m\":{\"k\":1}}", "m.value: expected string, got integer"},
    {"{\"id\":1,\"mm\":{\"k\":[1,null],\"j\":[\"x\"]}}", "mm.value.element: expected integer"},
    /* everything valid but the last field: the earlier leaves must be rolled back */
    {"{\"id\":7,\"n\":1,\"flag\":true,\"ts\":1,\"d\":2,\"s\":{\"a\":\"x\",\"req\":\"y\"},"
     "\"tags\":[\"t\"],\"m\":{\"k\":\"v\"},\"mm\":{\"k\":[1,2]},\"last\":false}",
     "last: expected string, got boolean"},
    {"[1]", "row: expected object, got array"},
    {"\"x\"", "row: expected object, got string"},
};

static const char *const GOOD_ROWS[] = {
    "{\"id\":1}",
    "{\"id\":2,\"n\":-5,\"flag\":false,\"ts\":-1,\"d\":0,\"s\":{\"req\":\"r\"},\"tags\":[],"
    "\"m\":{},\"mm\":{\"a\":null,\"b\":[],\"c\":[null,3]},\"last\":\"z\"}",
    "{\"id\":3,\"s\":null,\"tags\":[\"x\",\"y\"],\"m\":{\"k\":\"v\"},\"last\":\"\"}",
};

/* The bytes of the file w writes now (w is reset afterwards). */
static uint8_t *write_bytes(struct gtp_pqnested_writer *w, size_t *len)
{
    char path[] = "/tmp/test_pqnested_XXXXXX", errstr[256] = "";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    int err = gtp_pqnested_write_fd(w, fd, errstr, sizeof(errstr));
    if (err)
        fprintf(stderr, "write: %s\n", errstr);
    assert_int_equal(err, 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    *len = (size_t)st.st_size;
    uint8_t *p = gtp_xmalloc(*len + 1);
    assert_int_equal(pread(fd, p, *len, 0), (ssize_t)*len);
    close(fd);
    return p;
}

struct snap {
    size_t n, nvals, nulls;
    uint8_t def[256], rep[256];
};

static void snapshot(struct gtp_pqnested_writer *w, size_t nleaves, struct snap *out)
{
    for (size_t i = 0; i < nleaves; i++) {
        const uint8_t *def, *rep;
        memset(&out[i], 0, sizeof(out[i]));
        gtp_pqnested_leaf_levels(w, i, &def, &rep, &out[i].n, &out[i].nvals, &out[i].nulls);
        assert_true(out[i].n <= sizeof(out[i].def));
        if (def)
            memcpy(out[i].def, def, out[i].n);
        if (rep)
            memcpy(out[i].rep, rep, out[i].n);
    }
}

static void check_rejected(struct gtp_pqnested_writer *w, size_t nleaves, json_t *row,
                           const char *why)
{
    struct snap before[16], after[16];
    char errstr[256] = "";
    size_t rows = gtp_pqnested_rows(w);
    assert_true(nleaves <= 16);
    snapshot(w, nleaves, before);
    int err = gtp_pqnested_add_row(w, row, errstr, sizeof(errstr));
    if (err != GTP_ERR_INVAL || !strstr(errstr, why))
        fprintf(stderr, "reject: got %d '%s', want '%s'\n", err, errstr, why);
    assert_int_equal(err, GTP_ERR_INVAL);
    assert_non_null(strstr(errstr, why));
    assert_int_equal(gtp_pqnested_rows(w), rows);
    snapshot(w, nleaves, after);
    assert_memory_equal(before, after, nleaves * sizeof(before[0]));
}

static void test_rejected_rows(void **state)
{
    (void)state;
    struct gtp_pqnested_schema *s = parse_ok(REJ_SCHEMA);
    size_t nl = gtp_pqnested_schema_leaves(s);
    struct gtp_pqnested_writer *ref = gtp_pqnested_writer_new(s, NULL);
    struct gtp_pqnested_writer *w = gtp_pqnested_writer_new(s, NULL);
    for (size_t i = 0; i < GTP_ARRAY_LEN(GOOD_ROWS); i++)
        add_ok(ref, GOOD_ROWS[i]);

    /* Every bad row once after each good row. */
    for (size_t g = 0; g < GTP_ARRAY_LEN(GOOD_ROWS); g++) {
        add_ok(w, GOOD_ROWS[g]);
        for (size_t t = 0; t < GTP_ARRAY_LEN(REJECT); t++) {
            json_t *row = json_loads(REJECT[t].row, JSON_DECODE_ANY, NULL);
            assert_non_null(row);
            check_rejected(w, nl, row, REJECT[t].why);
            json_decref(row);
        }
    }

    /* Malformed UTF-8 (jansson's parser would refuse it, the _nocheck calls let it in):
     * in a top-level string, in a struct field, in a list element, in a map key and value. */
    static const char bad_utf8[][8] = {"\xC3\x28", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xC0\xAF",
                                       "a\xFF"};
    for (size_t k = 0; k < GTP_ARRAY_LEN(bad_utf8); k++) {
        const char *b = bad_utf8[k];
        json_t *row = json_pack("{s:i}", "id", 9);
        json_object_set_new(row, "last", json_stringn_nocheck(b, strlen(b)));
        check_rejected(w, nl, row, "last: malformed UTF-8");
        json_decref(row);

        row = json_pack("{s:i,s:{s:s}}", "id", 9, "s", "req", "r");
        json_object_set_new(json_object_get(row, "s"), "a", json_string_nocheck(b));
        check_rejected(w, nl, row, "s.a: malformed UTF-8");
        json_decref(row);

        row = json_pack("{s:i,s:[s]}", "id", 9, "tags", "ok");
        json_array_append_new(json_object_get(row, "tags"), json_string_nocheck(b));
        check_rejected(w, nl, row, "tags.element: malformed UTF-8");
        json_decref(row);

        row = json_pack("{s:i,s:{s:s}}", "id", 9, "m", "k", "v");
        json_object_set_new_nocheck(json_object_get(row, "m"), b, json_string("v"));
        check_rejected(w, nl, row, "m.key: malformed UTF-8");
        json_decref(row);

        row = json_pack("{s:i,s:{}}", "id", 9, "m");
        json_object_set_new(json_object_get(row, "m"), "k", json_string_nocheck(b));
        check_rejected(w, nl, row, "m.value: malformed UTF-8");
        json_decref(row);
    }
    /* A NUL inside a string is valid UTF-8 (and survives); a NULL row is not a row. */
    char errstr[256] = "";
    assert_int_equal(gtp_pqnested_add_row(w, NULL, errstr, sizeof(errstr)), GTP_ERR_INVAL);
    assert_non_null(strstr(errstr, "expected object, got NULL"));

    /* The writer that saw the rejects writes exactly the file of the one that did not. */
    size_t la, lb;
    assert_int_equal(gtp_pqnested_rows(w), GTP_ARRAY_LEN(GOOD_ROWS));
    uint8_t *a = write_bytes(ref, &la), *b = write_bytes(w, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_int_equal(gtp_pqnested_rows(w), 0);
    free(a);
    free(b);
    gtp_pqnested_writer_free(ref);
    gtp_pqnested_writer_free(w);
    gtp_pqnested_schema_free(s);
}

/* ------------------------------------------------------------------------------------------
 * Written files: magic, footer length, atomic publish, codecs, page splits, errors */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* PAR1 at both ends, a footer that fits between them and starts like FileMetaData
 * {1: version i32 = 1}; returns the footer length. */
static uint32_t check_structure(const uint8_t *p, size_t len)
{
    assert_true(len >= 12);
    assert_memory_equal(p, "PAR1", 4);
    assert_memory_equal(p + len - 4, "PAR1", 4);
    uint32_t flen = rd32(p + len - 8);
    assert_true(flen > 2 && flen <= len - 12);
    const uint8_t *footer = p + len - 8 - flen;
    assert_int_equal(footer[0], 0x15);        /* field 1, i32 */
    assert_int_equal(footer[1], 0x02);        /* zigzag(1) */
    assert_int_equal(footer[flen - 1], 0x00); /* stop byte */
    return flen;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = gtp_xmalloc(*len + 1);
    assert_int_equal(fread(p, 1, *len, f), *len);
    fclose(f);
    return p;
}

static void test_file_structure(void **state)
{
    (void)state;
    static const enum gtp_parquet_codec codecs[] = {GTP_PARQUET_UNCOMPRESSED, GTP_PARQUET_SNAPPY,
                                                    GTP_PARQUET_ZSTD};
    char dir[] = "/tmp/test_pqnested_dir_XXXXXX", path[512], errstr[256];
    assert_non_null(mkdtemp(dir));
    struct gtp_pqnested_schema *s = parse_ok(DELTA_SCHEMA);
    size_t sizes[3];

    for (size_t c = 0; c < GTP_ARRAY_LEN(codecs); c++) {
        struct gtp_parquet_opts o;
        gtp_parquet_opts_default(&o);
        o.codec = codecs[c];
        o.page_bytes = 4096; /* several pages per chunk */
        o.row_group_rows = 700;
        struct gtp_pqnested_writer *w = gtp_pqnested_writer_new(s, &o);
        assert_non_null(w);
        for (int i = 0; i < 2000; i++) {
            char row[512];
            snprintf(row, sizeof(row),
                     "{\"add\":{\"path\":\"part-%05d.parquet\",\"partitionValues\":{\"date\":"
                     "\"2024-01-%02d\",\"region\":%s},\"size\":%d,\"modificationTime\":%d,"
                     "\"dataChange\":%s,\"stats\":\"{\\\"numRecords\\\":%d}\",\"tags\":%s}}",
                     i, i % 28 + 1, i % 3 ? "\"EU\"" : "null", 1000 + i, i,
                     i % 2 ? "true" : "false", i, i % 5 ? "null" : "{}");
            add_ok(w, row);
        }
        add_ok(w, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}");
        snprintf(path, sizeof(path), "%s/.c%zu.parquet.tmp", dir, c);
        char name[32];
        snprintf(name, sizeof(name), "c%zu.parquet", c);
        assert_int_equal(gtp_pqnested_write_file(w, dir, name, errstr, sizeof(errstr)), 0);
        assert_int_equal(access(path, F_OK), -1); /* no temp file left */
        assert_int_equal(gtp_pqnested_rows(w), 0);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        uint8_t *p = read_file(path, &sizes[c]);
        check_structure(p, sizes[c]);
        free(p);
        unlink(path);
        gtp_pqnested_writer_free(w);
    }
    assert_true(sizes[2] < sizes[0] && sizes[1] < sizes[0]); /* compression happened */

    /* Zero rows: still a valid file. */
    struct gtp_pqnested_writer *w = gtp_pqnested_writer_new(s, NULL);
    size_t len;
    uint8_t *p = write_bytes(w, &len);
    check_structure(p, len);
    free(p);

    /* Bad names and a missing directory fail; the rows stay for a retry. */
    add_ok(w, "{\"txn\":{\"appId\":\"a\",\"version\":1,\"lastUpdated\":2}}");
    assert_int_equal(gtp_pqnested_write_file(w, dir, ".hidden", errstr, sizeof(errstr)),
                     GTP_ERR_INVAL);
    assert_int_equal(gtp_pqnested_write_file(w, dir, "a/b", errstr, sizeof(errstr)), GTP_ERR_INVAL);
    assert_int_equal(
        gtp_pqnested_write_file(w, "/nonexistent/dir", "x.parquet", errstr, sizeof(errstr)),
        GTP_ERR_IO);
    assert_int_equal(gtp_pqnested_rows(w), 1);
    assert_int_equal(gtp_pqnested_write_fd(w, -1, errstr, sizeof(errstr)), GTP_ERR_IO);
    assert_int_equal(gtp_pqnested_rows(w), 1);
    p = write_bytes(w, &len);
    check_structure(p, len);
    free(p);
    gtp_pqnested_reset(w);
    assert_int_equal(gtp_pqnested_rows(w), 0);
    gtp_pqnested_writer_free(w);
    gtp_pqnested_schema_free(s);
    rmdir(dir);
}

static void test_writer_options(void **state)
{
    (void)state;
    struct gtp_pqnested_schema *s = parse_ok(STRUCT(F("a", STR, "true")));
    struct gtp_parquet_opts o;
    assert_null(gtp_pqnested_writer_new(NULL, NULL));
    gtp_parquet_opts_default(&o);
    o.codec = (enum gtp_parquet_codec)2; /* gzip: not supported */
    assert_null(gtp_pqnested_writer_new(s, &o));
    gtp_parquet_opts_default(&o);
    o.row_group_rows = 0;
    assert_null(gtp_pqnested_writer_new(s, &o));
    gtp_parquet_opts_default(&o);
    o.page_bytes = 0;
    assert_null(gtp_pqnested_writer_new(s, &o));
    gtp_parquet_opts_default(&o);
    o.zstd_level = 1000;
    assert_null(gtp_pqnested_writer_new(s, &o));
    gtp_parquet_opts_default(&o);
    o.build = "abc123";
    struct gtp_pqnested_writer *w = gtp_pqnested_writer_new(s, &o);
    assert_non_null(w);
    size_t len;
    uint8_t *p = write_bytes(w, &len);
    uint32_t flen = check_structure(p, len);
    const char *want = "gtp version " GTP_VERSION " (build abc123)";
    assert_non_null(memmem(p + len - 8 - flen, flen, want, strlen(want)));
    free(p);
    gtp_pqnested_writer_free(w);
    gtp_pqnested_writer_free(NULL);
    gtp_pqnested_schema_free(NULL);
    gtp_pqnested_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_good),    cmocka_unit_test(test_schema_delta_levels),
        cmocka_unit_test(test_schema_bad),     cmocka_unit_test(test_schema_depth),
        cmocka_unit_test(test_levels),         cmocka_unit_test(test_rejected_rows),
        cmocka_unit_test(test_file_structure), cmocka_unit_test(test_writer_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
