/* Parquet reader for the archive schema (see include/gtp/pqread.h). The footer is decoded
 * whole and checked once at open; rows are then assembled by ten column cursors that walk
 * their column chunks page by page, decoding levels, dictionary indexes and values as they
 * are consumed. Reference: docs/parquet.md (the format as the
 * writers in parquet.c and pqenc.c produce it); pyarrow's files use the same subset. */
#include "gtp/pqread.h"

#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "gtp/err.h"
#include "gtp/pqenc.h"
#include "gtp/thrift.h"
#include "gtp/thrift_read.h"
#include "gtp/utf8.h"
#include "gtp/util.h"

#define NCOLS GTP_PARQUET_NCOLS

/* ------------------------------------------------------------------------------------------
 * Parquet enum values (parquet.thrift) */
enum { PT_BOOLEAN = 0, PT_INT64 = 2, PT_BYTE_ARRAY = 6 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1, REP_REPEATED = 2 };
enum { CT_UTF8 = 0, CT_LIST = 3, CT_TIMESTAMP_MICROS = 10 };
enum { PAGE_DATA = 0, PAGE_INDEX = 1, PAGE_DICTIONARY = 2, PAGE_DATA_V2 = 3 };
enum { ENC_PLAIN = 0, ENC_PLAIN_DICTIONARY = 2, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { CODEC_UNCOMPRESSED = 0, CODEC_SNAPPY = 1, CODEC_ZSTD = 6 };

/* The leaf of each column; the same table as parquet.c's, kept here so the reader checks
 * files against the schema as documented rather than against the writer's code. */
struct leaf_spec {
    int type;
    int repetition; /* of the top-level field */
    int max_def;
    int max_rep;
};

static const struct leaf_spec LEAVES[NCOLS] = {
    [GTP_PARQUET_EVENT_ID] = {PT_BYTE_ARRAY, REP_REQUIRED, 0, 0},
    [GTP_PARQUET_POSTED_AT] = {PT_INT64, REP_REQUIRED, 0, 0},
    [GTP_PARQUET_TITLE] = {PT_BYTE_ARRAY, REP_REQUIRED, 0, 0},
    [GTP_PARQUET_COMPANY] = {PT_BYTE_ARRAY, REP_OPTIONAL, 1, 0},
    [GTP_PARQUET_SKILLS_ARRAY] = {PT_BYTE_ARRAY, REP_OPTIONAL, 3, 1},
    [GTP_PARQUET_EXPERIENCE_LEVEL] = {PT_BYTE_ARRAY, REP_OPTIONAL, 1, 0},
    [GTP_PARQUET_JOB_ID] = {PT_BYTE_ARRAY, REP_REQUIRED, 0, 0},
    [GTP_PARQUET_SOURCE] = {PT_BYTE_ARRAY, REP_OPTIONAL, 1, 0},
    [GTP_PARQUET_LOCATION] = {PT_BYTE_ARRAY, REP_OPTIONAL, 1, 0},
    [GTP_PARQUET_IS_REMOTE] = {PT_BOOLEAN, REP_OPTIONAL, 1, 0},
};

/* skills_array definition levels (docs/parquet.md). */
enum { SK_NULL = 0, SK_EMPTY = 1, SK_NULL_ELEM = 2, SK_ELEM = 3 };

static const char *type_name(int64_t t)
{
    static const char *const names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                        "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t < (int64_t)GTP_ARRAY_LEN(names) ? names[t] : "unknown";
}

static const char *codec_name(int64_t c)
{
    static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                        "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
    return c >= 0 && c < (int64_t)GTP_ARRAY_LEN(names) ? names[c] : "unknown";
}

/* ------------------------------------------------------------------------------------------
 * RLE / bit-packed hybrid decoder (reference §3.4), one value at a time: a run header can
 * announce billions of values in a few bytes, so nothing is ever expanded into an array. */
struct hyb {
    const uint8_t *p, *end; /* run headers not yet read */
    int bw;                 /* bit width, 0..32 */
    uint64_t limit;         /* every value must be < limit */
    uint64_t run;           /* values left in the current run */
    bool packed;
    uint32_t val;        /* RLE run value */
    const uint8_t *bits; /* bit-packed run: its bytes */
    uint64_t bitpos;     /* next bit in them */
};

static void hyb_init(struct hyb *h, const uint8_t *p, size_t n, int bw, uint64_t limit)
{
    memset(h, 0, sizeof(*h));
    h->p = p;
    h->end = p + n;
    h->bw = bw;
    h->limit = limit;
}

static int uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pp >= end)
            return -1;
        uint8_t b = *(*pp)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Next value into *out. Returns 0, or -1 when the data ends or a value is out of range. */
static int hyb_next(struct hyb *h, uint32_t *out)
{
    while (h->run == 0) {
        uint64_t hdr;
        if (uvarint(&h->p, h->end, &hdr))
            return -1;
        if (hdr & 1) {
            uint64_t groups = hdr >> 1;
            size_t avail = (size_t)(h->end - h->p);
            if (h->bw == 0) {
                h->run = groups > UINT64_MAX / 8 ? UINT64_MAX : groups * 8;
            } else {
                /* A writer may cut the last group short: take the whole values there are. */
                size_t take =
                    groups > avail / (size_t)h->bw ? avail : (size_t)groups * (size_t)h->bw;
                h->run = (uint64_t)take * 8 / (uint64_t)h->bw;
                h->bits = h->p;
                h->p += take;
            }
            h->packed = true;
            h->bitpos = 0;
        } else {
            int nbytes = (h->bw + 7) / 8;
            uint32_t v = 0;
            if (h->end - h->p < nbytes)
                return -1;
            for (int k = 0; k < nbytes; k++)
                v |= (uint32_t)h->p[k] << (8 * k);
            h->p += nbytes;
            h->run = hdr >> 1;
            h->packed = false;
            h->val = v;
        }
    }
    uint32_t v;
    if (!h->packed) {
        v = h->val;
    } else if (h->bw == 0) {
        v = 0;
    } else {
        size_t byte = (size_t)(h->bitpos >> 3);
        int shift = (int)(h->bitpos & 7), nb = (shift + h->bw + 7) / 8;
        uint64_t acc = 0;
        /* In bounds: run never exceeds the whole values the taken bytes hold. */
        for (int k = 0; k < nb; k++)
            acc |= (uint64_t)h->bits[byte + (size_t)k] << (8 * k);
        v = (uint32_t)((acc >> shift) & ((h->bw == 32) ? 0xFFFFFFFFull : ((1ull << h->bw) - 1)));
        h->bitpos += (uint64_t)h->bw;
    }
    h->run--;
    if (v >= h->limit)
        return -1;
    *out = v;
    return 0;
}

static int bit_width(uint32_t max)
{
    return max ? 32 - __builtin_clz(max) : 0;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v |= (uint64_t)p[k] << (8 * k);
    return (int64_t)v;
}

/* ------------------------------------------------------------------------------------------
 * Reader state */

/* One column chunk as the footer describes it. */
struct chunk {
    int64_t start, end; /* byte range of its pages */
    int64_t num_values; /* level entries */
    int codec;
};

struct dval {
    const uint8_t *p; /* BYTE_ARRAY */
    size_t n;
    int64_t i; /* INT64 */
};

struct col {
    int i; /* enum gtp_parquet_col */
    /* the chunk being read */
    size_t rg;
    const struct chunk *ck;
    int64_t pos;  /* next page header */
    int64_t seen; /* entries of the data pages read so far */
    bool data_seen;
    /* its dictionary */
    bool has_dict;
    uint8_t *dict_buf; /* decompressed dictionary page (owned) */
    size_t dict_cap;
    struct dval *dict;
    size_t ndict, dict_alloc;
    /* the current data page */
    int64_t page_off;  /* file offset of its header, for messages */
    uint8_t *page_buf; /* decompressed body (owned) */
    size_t page_cap;
    int64_t left; /* entries not yet consumed */
    struct hyb rep, def;
    int enc;
    const uint8_t *vp, *vend; /* PLAIN values */
    uint64_t vbit;            /* PLAIN BOOLEAN: next bit */
    struct hyb idx;           /* dictionary indexes, RLE booleans */
    bool peeked;              /* rep of the next entry already decoded */
    uint32_t peek_rep;
};

struct gtp_pqread {
    const uint8_t *data;
    size_t size;
    void *map; /* when the file is mapped */
    size_t page_limit;
    int64_t num_rows;
    size_t nrg;
    int64_t *rg_rows;
    struct chunk *chunks; /* nrg * NCOLS */
    struct col cols[NCOLS];
    ZSTD_DCtx *zd;
    /* iteration */
    size_t rg;         /* row group being read (once started) */
    int64_t rg_left;   /* its rows not yet returned */
    int64_t rows_done; /* rows returned */
    bool started;      /* row group rg's chunks are open */
    bool done;         /* every row group read and checked */
    /* the current row */
    struct gtp_buf arena; /* its strings, NUL-terminated */
    size_t *sk_off;       /* arena offset of each skill, SIZE_MAX = null element */
    size_t sk_cap;
    const char **skills;
    size_t skills_cap;
    /* after an error */
    int err;
    char errmsg[256];
};

/* Record a parse failure (the reader is dead afterwards) and report it. c may be NULL. */
static int fail(struct gtp_pqread *r, const struct col *c, char *errstr, size_t errstr_size,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(struct gtp_pqread *r, const struct col *c, char *errstr, size_t errstr_size,
                const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c)
        snprintf(r->errmsg, sizeof(r->errmsg), "column %s, row group %zu: %s",
                 gtp_parquet_col_name(c->i), c->rg, msg);
    else
        snprintf(r->errmsg, sizeof(r->errmsg), "%s", msg);
    r->err = GTP_ERR_PARSE;
    gtp_errf(errstr, errstr_size, "%s", r->errmsg);
    return GTP_ERR_PARSE;
}

/* ------------------------------------------------------------------------------------------
 * Footer helpers */

typedef struct gtp_thrift_node tnode;

/* Integer field id of st: true when present with an integer type. */
static bool fint(const tnode *st, int id, int64_t *out)
{
    const tnode *n = gtp_thrift_read_get(st, id);
    if (!n || (n->type != GTP_THRIFT_I8 && n->type != GTP_THRIFT_I16 && n->type != GTP_THRIFT_I32 &&
               n->type != GTP_THRIFT_I64))
        return false;
    *out = n->i;
    return true;
}

static const tnode *fstruct(const tnode *st, int id)
{
    const tnode *n = gtp_thrift_read_get(st, id);
    return n && n->type == GTP_THRIFT_STRUCT ? n : NULL;
}

static const tnode *flist(const tnode *st, int id, int elem_type)
{
    const tnode *n = gtp_thrift_read_get(st, id);
    return n && n->type == GTP_THRIFT_LIST && (n->len == 0 || n->elem_type == elem_type) ? n : NULL;
}

static bool bin_is(const tnode *n, const char *s)
{
    size_t len = strlen(s);
    return n && n->type == GTP_THRIFT_BINARY && n->len == len && memcmp(n->bin, s, len) == 0;
}

/* A schema element's name, printable, for messages. */
static void elem_name(const tnode *el, char *buf, size_t size)
{
    const tnode *n = gtp_thrift_read_get(el, 4);
    size_t k = 0;
    if (!n || n->type != GTP_THRIFT_BINARY) {
        snprintf(buf, size, "(no name)");
        return;
    }
    for (size_t i = 0; i < n->len && k + 5 < size; i++) {
        uint8_t ch = n->bin[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
            buf[k++] = (char)ch;
        } else {
            snprintf(buf + k, size - k, "\\x%02x", ch);
            k += 4;
        }
    }
    buf[k] = '\0';
}

/* ------------------------------------------------------------------------------------------
 * Schema check */

/* The logical type union of a schema element: the member id set (LogicalType is a union of
 * empty or small structs), 0 when absent, -1 when malformed. */
static int logical_member(const tnode *el, const tnode **member)
{
    const tnode *lt = gtp_thrift_read_get(el, 10);
    *member = NULL;
    if (!lt)
        return 0;
    if (lt->type != GTP_THRIFT_STRUCT || lt->len != 1 || lt->fields[0].v.type != GTP_THRIFT_STRUCT)
        return -1;
    *member = &lt->fields[0].v;
    return lt->fields[0].id;
}

/* Common checks of a leaf: physical type, repetition, no children. */
static int check_leaf(struct gtp_pqread *r, const tnode *el, const char *col, int type, int rep,
                      char *errstr, size_t errstr_size)
{
    int64_t v;
    if (!fint(el, 1, &v) || v != type)
        return fail(r, NULL, errstr, errstr_size, "column %s: physical type %s, expected %s", col,
                    fint(el, 1, &v) ? type_name(v) : "none (a group)", type_name(type));
    if (!fint(el, 3, &v) || v != rep)
        return fail(r, NULL, errstr, errstr_size, "column %s: repetition %s, expected %s", col,
                    !fint(el, 3, &v)    ? "absent"
                    : v == REP_REQUIRED ? "REQUIRED"
                    : v == REP_OPTIONAL ? "OPTIONAL"
                    : v == REP_REPEATED ? "REPEATED"
                                        : "unknown",
                    rep == REP_REQUIRED ? "REQUIRED" : "OPTIONAL");
    if (fint(el, 5, &v) && v != 0)
        return fail(r, NULL, errstr, errstr_size, "column %s: a leaf with children", col);
    return 0;
}

static int check_string(struct gtp_pqread *r, const tnode *el, const char *col, int rep,
                        char *errstr, size_t errstr_size)
{
    const tnode *m;
    int64_t ct;
    int err = check_leaf(r, el, col, PT_BYTE_ARRAY, rep, errstr, errstr_size);
    if (err)
        return err;
    int lt = logical_member(el, &m);
    bool has_ct = fint(el, 6, &ct);
    /* Logical STRING is member 1; converted UTF8 is 0. */
    if (lt < 0 || (lt && lt != 1) || (has_ct && ct != CT_UTF8) || (!lt && !has_ct))
        return fail(r, NULL, errstr, errstr_size, "column %s: not a STRING (UTF8) column", col);
    return 0;
}

static int check_timestamp(struct gtp_pqread *r, const tnode *el, const char *col, char *errstr,
                           size_t errstr_size)
{
    const tnode *m;
    int64_t ct;
    int err = check_leaf(r, el, col, PT_INT64, REP_REQUIRED, errstr, errstr_size);
    if (err)
        return err;
    int lt = logical_member(el, &m);
    bool has_ct = fint(el, 6, &ct);
    bool ok = lt >= 0 && (lt || has_ct) && (!has_ct || ct == CT_TIMESTAMP_MICROS);
    if (ok && lt) {
        /* TIMESTAMP is member 8: {1: isAdjustedToUTC, 2: unit {2: MICROS}} */
        const tnode *unit = fstruct(m, 2);
        const tnode *utcn = gtp_thrift_read_get(m, 1);
        ok = lt == 8 && utcn && utcn->type == GTP_THRIFT_BOOL_TRUE && utcn->i == 1 && unit &&
             unit->len == 1 && unit->fields[0].id == 2;
    }
    if (!ok)
        return fail(r, NULL, errstr, errstr_size,
                    "column %s: not a TIMESTAMP(isAdjustedToUTC=true, MICROS) column", col);
    return 0;
}

static int check_bool(struct gtp_pqread *r, const tnode *el, const char *col, char *errstr,
                      size_t errstr_size)
{
    const tnode *m;
    int64_t ct;
    int err = check_leaf(r, el, col, PT_BOOLEAN, REP_OPTIONAL, errstr, errstr_size);
    if (err)
        return err;
    if (logical_member(el, &m) != 0 || fint(el, 6, &ct))
        return fail(r, NULL, errstr, errstr_size, "column %s: a BOOLEAN with a logical type", col);
    return 0;
}

/* The 3-level list: skills_array (LIST) -> repeated group "list" -> optional string. */
static int check_list(struct gtp_pqread *r, const tnode *g, const tnode *mid, const tnode *leaf,
                      char *errstr, size_t errstr_size)
{
    const char *col = "skills_array";
    const tnode *m;
    int64_t v, ct;
    if (fint(g, 1, &v))
        return fail(r, NULL, errstr, errstr_size, "column %s: physical type %s, expected a LIST",
                    col, type_name(v));
    if (!fint(g, 3, &v) || v != REP_OPTIONAL)
        return fail(r, NULL, errstr, errstr_size, "column %s: not OPTIONAL", col);
    int lt = logical_member(g, &m);
    bool has_ct = fint(g, 6, &ct);
    if (lt < 0 || (lt && lt != 3) || (has_ct && ct != CT_LIST) || (!lt && !has_ct))
        return fail(r, NULL, errstr, errstr_size, "column %s: not annotated as a LIST", col);
    if (!fint(g, 5, &v) || v != 1)
        return fail(r, NULL, errstr, errstr_size, "column %s: a LIST group needs one child", col);
    /* The spec's 3-level form; legacy 2-level lists (a repeated leaf, or a repeated group
     * named "array" or "*_tuple") mean something else and are refused. */
    if (!mid || fint(mid, 1, &v) || !fint(mid, 3, &v) || v != REP_REPEATED || !fint(mid, 5, &v) ||
        v != 1 || !bin_is(gtp_thrift_read_get(mid, 4), "list") || logical_member(mid, &m) != 0 ||
        fint(mid, 6, &ct))
        return fail(r, NULL, errstr, errstr_size,
                    "column %s: not a 3-level list (REPEATED group \"list\" with one child)", col);
    if (!leaf)
        return fail(r, NULL, errstr, errstr_size, "column %s: list without an element", col);
    return check_string(r, leaf, "skills_array.list.element", REP_OPTIONAL, errstr, errstr_size);
}

/* Check the schema list; *elem_name gets the list element's name node (for paths). */
static int check_schema(struct gtp_pqread *r, const tnode *schema, const tnode **elem_nm,
                        char *errstr, size_t errstr_size)
{
    char name[64];
    int64_t v;
    size_t k = 1;
    int err;
    if (!schema || schema->len < 1)
        return fail(r, NULL, errstr, errstr_size, "footer: no schema");
    if (!fint(&schema->elem[0], 5, &v) || v != NCOLS)
        return fail(r, NULL, errstr, errstr_size, "schema: %lld top-level columns, expected %d",
                    fint(&schema->elem[0], 5, &v) ? (long long)v : 0LL, NCOLS);
    for (int i = 0; i < NCOLS; i++) {
        const char *col = gtp_parquet_col_name(i);
        if (k >= schema->len)
            return fail(r, NULL, errstr, errstr_size, "schema: ends before column %s", col);
        const tnode *el = &schema->elem[k];
        if (!bin_is(gtp_thrift_read_get(el, 4), col)) {
            elem_name(el, name, sizeof(name));
            return fail(r, NULL, errstr, errstr_size, "schema: column %d is \"%s\", expected %s", i,
                        name, col);
        }
        if (i == GTP_PARQUET_SKILLS_ARRAY) {
            const tnode *mid = k + 1 < schema->len ? &schema->elem[k + 1] : NULL;
            const tnode *leaf = k + 2 < schema->len ? &schema->elem[k + 2] : NULL;
            err = check_list(r, el, mid, leaf, errstr, errstr_size);
            if (err)
                return err;
            *elem_nm = gtp_thrift_read_get(leaf, 4);
            k += 3;
            continue;
        }
        if (LEAVES[i].type == PT_BYTE_ARRAY)
            err = check_string(r, el, col, LEAVES[i].repetition, errstr, errstr_size);
        else if (LEAVES[i].type == PT_INT64)
            err = check_timestamp(r, el, col, errstr, errstr_size);
        else
            err = check_bool(r, el, col, errstr, errstr_size);
        if (err)
            return err;
        k++;
    }
    if (k != schema->len)
        return fail(r, NULL, errstr, errstr_size, "schema: %zu elements, expected %zu", schema->len,
                    k);
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Row groups and column chunks */

static bool path_ok(const tnode *path, int i, const tnode *elem_nm)
{
    if (i != GTP_PARQUET_SKILLS_ARRAY)
        return path->len == 1 && bin_is(&path->elem[0], gtp_parquet_col_name(i));
    return path->len == 3 && bin_is(&path->elem[0], "skills_array") &&
           bin_is(&path->elem[1], "list") && elem_nm && path->elem[2].type == GTP_THRIFT_BINARY &&
           path->elem[2].len == elem_nm->len &&
           memcmp(path->elem[2].bin, elem_nm->bin, elem_nm->len) == 0;
}

static int check_chunk(struct gtp_pqread *r, const tnode *cc, size_t g, int i, int64_t data_end,
                       const tnode *elem_nm, struct chunk *ck, char *errstr, size_t errstr_size)
{
    const char *col = gtp_parquet_col_name(i);
    const tnode *md = fstruct(cc, 3), *path;
    int64_t v, data_off, dict_off, csize;

    if (gtp_thrift_read_get(cc, 1))
        return fail(r, NULL, errstr, errstr_size,
                    "column %s, row group %zu: data in another file (file_path) is not supported",
                    col, g);
    if (!md)
        return fail(r, NULL, errstr, errstr_size, "column %s, row group %zu: no meta_data", col, g);
    if (!fint(md, 1, &v) || v != LEAVES[i].type)
        return fail(r, NULL, errstr, errstr_size, "column %s, row group %zu: chunk type %s", col, g,
                    fint(md, 1, &v) ? type_name(v) : "absent");
    path = flist(md, 3, GTP_THRIFT_BINARY);
    if (!path || !path_ok(path, i, elem_nm))
        return fail(r, NULL, errstr, errstr_size,
                    "column %s, row group %zu: path_in_schema does not match the schema", col, g);
    if (!fint(md, 4, &v) || (v != CODEC_UNCOMPRESSED && v != CODEC_SNAPPY && v != CODEC_ZSTD))
        return fail(r, NULL, errstr, errstr_size,
                    "column %s, row group %zu: codec %s is not supported (uncompressed, snappy, "
                    "zstd)",
                    col, g, fint(md, 4, &v) ? codec_name(v) : "absent");
    ck->codec = (int)v;
    if (!fint(md, 5, &ck->num_values) || ck->num_values < 0)
        return fail(r, NULL, errstr, errstr_size, "column %s, row group %zu: bad num_values", col,
                    g);
    if (!fint(md, 7, &csize) || csize < 0)
        return fail(r, NULL, errstr, errstr_size,
                    "column %s, row group %zu: bad total_compressed_size", col, g);
    if (!fint(md, 9, &data_off))
        return fail(r, NULL, errstr, errstr_size, "column %s, row group %zu: no data_page_offset",
                    col, g);
    ck->start = data_off;
    /* Some writers put a 0 here for "no dictionary" (offset 0 is the magic anyway), and
     * pyarrow a 0 data_page_offset for a chunk without data pages (an empty table). */
    if (fint(md, 11, &dict_off) && dict_off != 0) {
        if (dict_off < 4 || (data_off != 0 && dict_off >= data_off))
            return fail(r, NULL, errstr, errstr_size,
                        "column %s, row group %zu: dictionary_page_offset %lld outside the chunk",
                        col, g, (long long)dict_off);
        ck->start = dict_off;
    }
    if (csize == 0) {
        ck->start = ck->end = 4; /* no pages: nothing to read, wherever it claims to be */
        return 0;
    }
    if (ck->start < 4 || ck->start > data_end || csize > data_end - ck->start)
        return fail(r, NULL, errstr, errstr_size,
                    "column %s, row group %zu: pages [%lld, +%lld) outside the data area", col, g,
                    (long long)ck->start, (long long)csize);
    ck->end = ck->start + csize;
    return 0;
}

static int read_footer(struct gtp_pqread *r, char *errstr, size_t errstr_size)
{
    const uint8_t *d = r->data;
    size_t size = r->size;
    tnode md;
    const tnode *schema, *rgs, *elem_nm = NULL;
    int64_t total = 0;
    int err = 0;

    memset(&md, 0, sizeof(md));
    if (size < 12)
        return fail(r, NULL, errstr, errstr_size, "%zu bytes: too small for a Parquet file", size);
    if (memcmp(d + size - 4, "PARE", 4) == 0)
        return fail(r, NULL, errstr, errstr_size, "encrypted Parquet files are not supported");
    if (memcmp(d, "PAR1", 4) != 0 || memcmp(d + size - 4, "PAR1", 4) != 0)
        return fail(r, NULL, errstr, errstr_size, "not a Parquet file (magic)");
    uint32_t flen = le32(d + size - 8);
    if ((uint64_t)flen + 12 > size)
        return fail(r, NULL, errstr, errstr_size, "footer of %u bytes in a %zu-byte file", flen,
                    size);
    int64_t data_end = (int64_t)(size - 8 - flen);
    long used = gtp_thrift_read_struct(d + data_end, flen, &md);
    if (used != (long)flen) {
        err = fail(r, NULL, errstr, errstr_size, "footer: malformed metadata at offset %lld",
                   (long long)data_end);
        goto out;
    }
    schema = flist(&md, 2, GTP_THRIFT_STRUCT);
    err = check_schema(r, schema, &elem_nm, errstr, errstr_size);
    if (err)
        goto out;
    if (!fint(&md, 3, &r->num_rows) || r->num_rows < 0) {
        err = fail(r, NULL, errstr, errstr_size, "footer: bad num_rows");
        goto out;
    }
    rgs = gtp_thrift_read_get(&md, 4);
    if (!rgs || rgs->type != GTP_THRIFT_LIST || (rgs->len && rgs->elem_type != GTP_THRIFT_STRUCT)) {
        err = fail(r, NULL, errstr, errstr_size, "footer: bad row_groups");
        goto out;
    }
    r->nrg = rgs->len;
    r->rg_rows = gtp_xcalloc(r->nrg ? r->nrg : 1, sizeof(*r->rg_rows));
    r->chunks = gtp_xcalloc(r->nrg ? r->nrg * NCOLS : 1, sizeof(*r->chunks));
    for (size_t g = 0; g < r->nrg; g++) {
        const tnode *rg = &rgs->elem[g];
        const tnode *cols = flist(rg, 1, GTP_THRIFT_STRUCT);
        int64_t n;
        if (!cols || cols->len != NCOLS) {
            err = fail(r, NULL, errstr, errstr_size, "row group %zu: %zu column chunks, want %d", g,
                       cols ? cols->len : 0, NCOLS);
            goto out;
        }
        if (!fint(rg, 3, &n) || n < 0 || n > INT64_MAX - total) {
            err = fail(r, NULL, errstr, errstr_size, "row group %zu: bad num_rows", g);
            goto out;
        }
        r->rg_rows[g] = n;
        total += n;
        for (int i = 0; i < NCOLS; i++) {
            err = check_chunk(r, &cols->elem[i], g, i, data_end, elem_nm,
                              &r->chunks[g * NCOLS + (size_t)i], errstr, errstr_size);
            if (err)
                goto out;
        }
    }
    if (total != r->num_rows) {
        err = fail(r, NULL, errstr, errstr_size, "footer: num_rows %lld, row groups hold %lld",
                   (long long)r->num_rows, (long long)total);
        goto out;
    }
out:
    gtp_thrift_read_fini(&md);
    return err;
}

/* ------------------------------------------------------------------------------------------
 * Pages */

/* Make (*buf, *cap) hold at least n bytes (at least 1, so a pointer always exists). */
static void grow(uint8_t **buf, size_t *cap, size_t n)
{
    if (n == 0)
        n = 1;
    if (n <= *cap)
        return;
    free(*buf);
    *buf = gtp_xmalloc(n);
    *cap = n;
}

/* The body of a page, uncompressed: *out points into the file or into (*buf, *cap). */
static int page_body(struct gtp_pqread *r, struct col *c, const uint8_t *src, size_t csize,
                     int64_t usize, uint8_t **buf, size_t *cap, const uint8_t **out, char *errstr,
                     size_t errstr_size)
{
    if (usize < 0 || (uint64_t)usize > r->page_limit)
        return fail(r, c, errstr, errstr_size,
                    "page at %lld: uncompressed size %lld beyond the limit of %zu bytes",
                    (long long)c->page_off, (long long)usize, r->page_limit);
    size_t n = (size_t)usize;
    switch (c->ck->codec) {
    case CODEC_UNCOMPRESSED:
        if (csize != n)
            return fail(r, c, errstr, errstr_size,
                        "page at %lld: uncompressed page of %zu bytes stores %zu",
                        (long long)c->page_off, n, csize);
        *out = src;
        return 0;
    case CODEC_SNAPPY: {
        size_t got;
        /* Validate before allocating: the length prefix alone could ask for anything. */
        if (snappy_uncompressed_length((const char *)src, csize, &got) != SNAPPY_OK || got != n ||
            snappy_validate_compressed_buffer((const char *)src, csize) != SNAPPY_OK)
            return fail(r, c, errstr, errstr_size,
                        "page at %lld: snappy data does not hold the %zu bytes announced",
                        (long long)c->page_off, n);
        grow(buf, cap, n);
        got = n;
        if (snappy_uncompress((const char *)src, csize, (char *)*buf, &got) != SNAPPY_OK ||
            got != n)
            return fail(r, c, errstr, errstr_size, "page at %lld: snappy data is corrupt",
                        (long long)c->page_off);
        *out = *buf;
        return 0;
    }
    case CODEC_ZSTD: {
        unsigned long long fcs = ZSTD_getFrameContentSize(src, csize);
        if (fcs == ZSTD_CONTENTSIZE_ERROR ||
            (fcs != ZSTD_CONTENTSIZE_UNKNOWN && ZSTD_findFrameCompressedSize(src, csize) == csize &&
             fcs != n))
            return fail(r, c, errstr, errstr_size,
                        "page at %lld: zstd data does not hold the %zu bytes announced",
                        (long long)c->page_off, n);
        grow(buf, cap, n);
        size_t got = ZSTD_decompressDCtx(r->zd, *buf, n, src, csize);
        if (ZSTD_isError(got) || got != n)
            return fail(r, c, errstr, errstr_size, "page at %lld: zstd: %s", (long long)c->page_off,
                        ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short page");
        *out = *buf;
        return 0;
    }
    }
    return fail(r, c, errstr, errstr_size, "codec %d", c->ck->codec);
}

static int load_dict(struct gtp_pqread *r, struct col *c, const tnode *ph, const uint8_t *src,
                     size_t csize, int64_t usize, char *errstr, size_t errstr_size)
{
    const tnode *dh = fstruct(ph, 7);
    const uint8_t *p, *end;
    int64_t nv, enc;
    int err;

    if (c->data_seen || c->has_dict)
        return fail(r, c, errstr, errstr_size, "page at %lld: dictionary page after %s",
                    (long long)c->page_off, c->data_seen ? "data pages" : "another dictionary");
    if (LEAVES[c->i].type == PT_BOOLEAN)
        return fail(r, c, errstr, errstr_size, "dictionary for a BOOLEAN is not supported");
    if (!dh || !fint(dh, 1, &nv) || nv < 0)
        return fail(r, c, errstr, errstr_size, "page at %lld: bad dictionary page header",
                    (long long)c->page_off);
    if (fint(dh, 2, &enc) && enc != ENC_PLAIN && enc != ENC_PLAIN_DICTIONARY)
        return fail(r, c, errstr, errstr_size, "page at %lld: dictionary encoding %lld",
                    (long long)c->page_off, (long long)enc);
    err = page_body(r, c, src, csize, usize, &c->dict_buf, &c->dict_cap, &p, errstr, errstr_size);
    if (err)
        return err;
    end = p + usize;
    /* Each entry takes at least 4 (string) or 8 (INT64) bytes: bounds the table. */
    size_t min = LEAVES[c->i].type == PT_INT64 ? 8 : 4;
    if ((uint64_t)nv > (uint64_t)usize / min)
        return fail(r, c, errstr, errstr_size,
                    "page at %lld: %lld dictionary entries in %lld bytes", (long long)c->page_off,
                    (long long)nv, (long long)usize);
    if ((size_t)nv > c->dict_alloc) {
        free(c->dict);
        c->dict = gtp_xmalloc((size_t)nv * sizeof(*c->dict));
        c->dict_alloc = (size_t)nv;
    }
    for (int64_t k = 0; k < nv; k++) {
        struct dval *dv = &c->dict[k];
        if (LEAVES[c->i].type == PT_INT64) {
            dv->i = le64(p);
            p += 8;
            continue;
        }
        if (end - p < 4 || le32(p) > (size_t)(end - p - 4))
            return fail(r, c, errstr, errstr_size, "page at %lld: dictionary entry %lld cut off",
                        (long long)c->page_off, (long long)k);
        dv->n = le32(p);
        dv->p = p + 4;
        p += 4 + dv->n;
        /* Checked once here rather than at every row that uses the entry. */
        if (dv->n > GTP_PARQUET_MAX_VALUE || !gtp_utf8_valid((const char *)dv->p, dv->n, NULL))
            return fail(r, c, errstr, errstr_size, "page at %lld: dictionary entry %lld is %s",
                        (long long)c->page_off, (long long)k,
                        dv->n > GTP_PARQUET_MAX_VALUE ? "too long" : "not valid UTF-8");
    }
    c->ndict = (size_t)nv;
    c->has_dict = true;
    return 0;
}

/* A v1 levels section: u32 length, then the hybrid encoding. */
static int levels(const uint8_t **p, const uint8_t *end, int max, struct hyb *h)
{
    if (end - *p < 4 || le32(*p) > (size_t)(end - *p - 4))
        return -1;
    size_t n = le32(*p);
    hyb_init(h, *p + 4, n, bit_width((uint32_t)max), (uint64_t)max + 1);
    *p += 4 + n;
    return 0;
}

static int load_data(struct gtp_pqread *r, struct col *c, const tnode *ph, const uint8_t *src,
                     size_t csize, int64_t usize, char *errstr, size_t errstr_size)
{
    const struct leaf_spec *ls = &LEAVES[c->i];
    const tnode *dh = fstruct(ph, 5);
    const uint8_t *p, *end;
    int64_t nv, enc, lenc;
    int err;

    if (!dh || !fint(dh, 1, &nv) || nv < 0 || !fint(dh, 2, &enc))
        return fail(r, c, errstr, errstr_size, "page at %lld: bad data page header",
                    (long long)c->page_off);
    if (nv > c->ck->num_values - c->seen)
        return fail(r, c, errstr, errstr_size,
                    "page at %lld: pages hold more than the chunk's %lld values",
                    (long long)c->page_off, (long long)c->ck->num_values);
    if ((ls->max_def && (!fint(dh, 3, &lenc) || lenc != ENC_RLE)) ||
        (ls->max_rep && (!fint(dh, 4, &lenc) || lenc != ENC_RLE)))
        return fail(r, c, errstr, errstr_size, "page at %lld: levels not RLE-encoded",
                    (long long)c->page_off);
    err = page_body(r, c, src, csize, usize, &c->page_buf, &c->page_cap, &p, errstr, errstr_size);
    if (err)
        return err;
    end = p + usize;
    if ((ls->max_rep && levels(&p, end, ls->max_rep, &c->rep)) ||
        (ls->max_def && levels(&p, end, ls->max_def, &c->def)))
        return fail(r, c, errstr, errstr_size, "page at %lld: levels cut off",
                    (long long)c->page_off);
    c->enc = (int)enc;
    c->vp = p;
    c->vend = end;
    c->vbit = 0;
    if (enc == ENC_RLE_DICTIONARY || enc == ENC_PLAIN_DICTIONARY) {
        if (!c->has_dict)
            return fail(r, c, errstr, errstr_size,
                        "page at %lld: dictionary-encoded page without a dictionary",
                        (long long)c->page_off);
        if (p >= end || *p > 32)
            return fail(r, c, errstr, errstr_size, "page at %lld: bad index bit width",
                        (long long)c->page_off);
        hyb_init(&c->idx, p + 1, (size_t)(end - p - 1), *p, c->ndict);
    } else if (enc == ENC_RLE && ls->type == PT_BOOLEAN) {
        if (levels(&p, end, 1, &c->idx))
            return fail(r, c, errstr, errstr_size, "page at %lld: RLE booleans cut off",
                        (long long)c->page_off);
    } else if (enc != ENC_PLAIN) {
        return fail(r, c, errstr, errstr_size, "page at %lld: encoding %lld is not supported",
                    (long long)c->page_off, (long long)enc);
    }
    c->left = nv;
    c->seen += nv;
    c->data_seen = true;
    return 0;
}

/* Read page headers until a data page with entries is loaded (returns 0), or the chunk ends
 * (returns 1). */
static int next_page(struct gtp_pqread *r, struct col *c, char *errstr, size_t errstr_size)
{
    while (c->pos < c->ck->end) {
        tnode ph;
        int64_t type, usize, csize;
        int err = 0;
        c->page_off = c->pos;
        long hl = gtp_thrift_read_struct(r->data + c->pos, (size_t)(c->ck->end - c->pos), &ph);
        if (hl <= 0) {
            err = fail(r, c, errstr, errstr_size, "page header at %lld does not parse",
                       (long long)c->pos);
            goto page_out;
        }
        if (!fint(&ph, 1, &type) || !fint(&ph, 2, &usize) || !fint(&ph, 3, &csize) || csize < 0 ||
            csize > c->ck->end - c->pos - hl) {
            err = fail(r, c, errstr, errstr_size, "page at %lld: bad sizes or runs past its chunk",
                       (long long)c->pos);
            goto page_out;
        }
        const uint8_t *src = r->data + c->pos + hl;
        c->pos += hl + csize;
        switch (type) {
        case PAGE_DATA:
            err = load_data(r, c, &ph, src, (size_t)csize, usize, errstr, errstr_size);
            break;
        case PAGE_DICTIONARY:
            err = load_dict(r, c, &ph, src, (size_t)csize, usize, errstr, errstr_size);
            break;
        case PAGE_INDEX:
            break;
        case PAGE_DATA_V2:
            err = fail(r, c, errstr, errstr_size,
                       "page at %lld: data page v2 is not supported (write data pages v1)",
                       (long long)c->page_off);
            break;
        default:
            err = fail(r, c, errstr, errstr_size, "page at %lld: unknown page type %lld",
                       (long long)c->page_off, (long long)type);
        }
    page_out:
        gtp_thrift_read_fini(&ph);
        if (err)
            return err;
        if (c->left > 0)
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------
 * Entries: one (rep, def, value) at a time */

struct entry {
    uint32_t rep, def;
    bool has_val;
    const uint8_t *p; /* BYTE_ARRAY */
    size_t n;
    int64_t i; /* INT64, BOOLEAN */
};

static int read_value(struct gtp_pqread *r, struct col *c, struct entry *e, char *errstr,
                      size_t errstr_size)
{
    int type = LEAVES[c->i].type;
    uint32_t k;
    if (c->enc == ENC_RLE_DICTIONARY || c->enc == ENC_PLAIN_DICTIONARY) {
        if (hyb_next(&c->idx, &k))
            return fail(r, c, errstr, errstr_size,
                        "page at %lld: dictionary index missing or beyond the %zu entries",
                        (long long)c->page_off, c->ndict);
        e->p = c->dict[k].p;
        e->n = c->dict[k].n;
        e->i = c->dict[k].i;
        return 0;
    }
    if (type == PT_BOOLEAN) {
        if (c->enc == ENC_RLE) {
            if (hyb_next(&c->idx, &k))
                return fail(r, c, errstr, errstr_size, "page at %lld: booleans end early",
                            (long long)c->page_off);
            e->i = k;
            return 0;
        }
        size_t byte = (size_t)(c->vbit >> 3);
        if (byte >= (size_t)(c->vend - c->vp))
            return fail(r, c, errstr, errstr_size, "page at %lld: booleans end early",
                        (long long)c->page_off);
        e->i = (c->vp[byte] >> (c->vbit & 7)) & 1;
        c->vbit++;
        return 0;
    }
    if (type == PT_INT64) {
        if (c->vend - c->vp < 8)
            return fail(r, c, errstr, errstr_size, "page at %lld: values end early",
                        (long long)c->page_off);
        e->i = le64(c->vp);
        c->vp += 8;
        return 0;
    }
    if (c->vend - c->vp < 4 || le32(c->vp) > (size_t)(c->vend - c->vp - 4))
        return fail(r, c, errstr, errstr_size, "page at %lld: values end early",
                    (long long)c->page_off);
    e->n = le32(c->vp);
    e->p = c->vp + 4;
    c->vp += 4 + e->n;
    if (e->n > GTP_PARQUET_MAX_VALUE)
        return fail(r, c, errstr, errstr_size, "page at %lld: a value of %zu bytes (limit %u)",
                    (long long)c->page_off, e->n, GTP_PARQUET_MAX_VALUE);
    if (!gtp_utf8_valid((const char *)e->p, e->n, NULL))
        return fail(r, c, errstr, errstr_size, "page at %lld: a value is not valid UTF-8",
                    (long long)c->page_off);
    return 0;
}

/* The next entry of the column's row group; running out is an error (the rows say more). */
static int read_entry(struct gtp_pqread *r, struct col *c, struct entry *e, char *errstr,
                      size_t errstr_size)
{
    const struct leaf_spec *ls = &LEAVES[c->i];
    uint32_t v;
    if (c->left == 0) {
        int rc = next_page(r, c, errstr, errstr_size);
        if (rc < 0)
            return rc;
        if (rc > 0)
            return fail(r, c, errstr, errstr_size,
                        "values end before the row group's %lld rows (%lld of %lld values)",
                        (long long)r->rg_rows[c->rg], (long long)c->seen,
                        (long long)c->ck->num_values);
    }
    e->rep = 0;
    e->def = 0;
    if (ls->max_rep) {
        if (c->peeked) {
            e->rep = c->peek_rep;
            c->peeked = false;
        } else if (hyb_next(&c->rep, &e->rep)) {
            return fail(r, c, errstr, errstr_size, "page at %lld: repetition levels end early",
                        (long long)c->page_off);
        }
    }
    if (ls->max_def) {
        if (hyb_next(&c->def, &v))
            return fail(r, c, errstr, errstr_size,
                        "page at %lld: definition levels end early or exceed %d",
                        (long long)c->page_off, ls->max_def);
        e->def = v;
    }
    c->left--;
    e->has_val = e->def == (uint32_t)ls->max_def;
    return e->has_val ? read_value(r, c, e, errstr, errstr_size) : 0;
}

/* Repetition level of the next entry without consuming it; *end when the chunk is over. */
static int peek_rep(struct gtp_pqread *r, struct col *c, uint32_t *rep, bool *end, char *errstr,
                    size_t errstr_size)
{
    *end = false;
    if (c->peeked) {
        *rep = c->peek_rep;
        return 0;
    }
    if (c->left == 0) {
        int rc = next_page(r, c, errstr, errstr_size);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            *end = true;
            return 0;
        }
    }
    if (hyb_next(&c->rep, &c->peek_rep))
        return fail(r, c, errstr, errstr_size, "page at %lld: repetition levels end early",
                    (long long)c->page_off);
    c->peeked = true;
    *rep = c->peek_rep;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Row groups */

static void start_chunk(struct gtp_pqread *r, struct col *c, size_t g)
{
    c->rg = g;
    c->ck = &r->chunks[g * NCOLS + (size_t)c->i];
    c->pos = c->ck->start;
    c->seen = 0;
    c->data_seen = false;
    c->has_dict = false;
    c->ndict = 0;
    c->left = 0;
    c->peeked = false;
}

/* After the last row of a row group: every column must be used up exactly. */
static int finish_chunk(struct gtp_pqread *r, struct col *c, char *errstr, size_t errstr_size)
{
    int rc = c->left || c->peeked ? 0 : next_page(r, c, errstr, errstr_size);
    if (rc < 0)
        return rc;
    if (rc == 0 || c->seen != c->ck->num_values)
        return fail(r, c, errstr, errstr_size, "%lld values announced, %s",
                    (long long)c->ck->num_values,
                    rc == 0 ? "more than the rows use" : "the pages hold fewer");
    return 0;
}

/* Move to the next row group that has rows: 1, or 0 at the end of the file. */
static int next_row_group(struct gtp_pqread *r, char *errstr, size_t errstr_size)
{
    if (r->done)
        return 0;
    for (;;) {
        if (r->started) {
            for (int i = 0; i < NCOLS; i++) {
                int err = finish_chunk(r, &r->cols[i], errstr, errstr_size);
                if (err)
                    return err;
            }
            r->rg++;
        }
        if (r->rg >= r->nrg) {
            r->done = true;
            return 0;
        }
        r->started = true;
        for (int i = 0; i < NCOLS; i++)
            start_chunk(r, &r->cols[i], r->rg);
        r->rg_left = r->rg_rows[r->rg];
        if (r->rg_left > 0)
            return 1;
    }
}

/* ------------------------------------------------------------------------------------------
 * Rows */

/* Copy a value into the row arena with a terminator; returns its offset. */
static int arena_put(struct gtp_pqread *r, const struct col *c, const uint8_t *p, size_t n,
                     size_t *off, char *errstr, size_t errstr_size)
{
    if (n + 1 > GTP_PQREAD_MAX_ROW_BYTES - r->arena.len)
        return fail(r, c, errstr, errstr_size, "row %lld holds more than %zu bytes",
                    (long long)r->rows_done, GTP_PQREAD_MAX_ROW_BYTES);
    *off = r->arena.len;
    gtp_buf_reserve(&r->arena, n + 1);
    if (n)
        memcpy(r->arena.u + r->arena.len, p, n);
    r->arena.u[r->arena.len + n] = '\0';
    r->arena.len += n + 1;
    return 0;
}

static int read_skills(struct gtp_pqread *r, struct col *c, struct gtp_parquet_row *row,
                       size_t *nsk, char *errstr, size_t errstr_size)
{
    struct entry e;
    int err = read_entry(r, c, &e, errstr, errstr_size);
    *nsk = 0;
    if (err)
        return err;
    if (e.rep != 0)
        return fail(r, c, errstr, errstr_size, "row %lld starts inside a list",
                    (long long)r->rows_done);
    row->skills_null = e.def == SK_NULL;
    if (e.def < SK_NULL_ELEM)
        return 0;
    for (;;) {
        size_t off = SIZE_MAX;
        if (e.has_val) {
            if (memchr(e.p, 0, e.n))
                return fail(r, c, errstr, errstr_size,
                            "row %lld: a skill holds a NUL byte, which a row cannot carry",
                            (long long)r->rows_done);
            err = arena_put(r, c, e.p, e.n, &off, errstr, errstr_size);
            if (err)
                return err;
        }
        if (*nsk >= GTP_PQREAD_MAX_SKILLS)
            return fail(r, c, errstr, errstr_size, "row %lld: more than %d skills",
                        (long long)r->rows_done, GTP_PQREAD_MAX_SKILLS);
        if (*nsk == r->sk_cap) {
            r->sk_cap = r->sk_cap ? r->sk_cap * 2 : 64;
            r->sk_off = gtp_xrealloc(r->sk_off, r->sk_cap * sizeof(*r->sk_off));
        }
        r->sk_off[(*nsk)++] = off;

        uint32_t rep = 0;
        bool end;
        err = peek_rep(r, c, &rep, &end, errstr, errstr_size);
        if (err)
            return err;
        if (end || rep == 0)
            return 0;
        err = read_entry(r, c, &e, errstr, errstr_size);
        if (err)
            return err;
        if (e.def < SK_NULL_ELEM)
            return fail(r, c, errstr, errstr_size, "row %lld: a null or empty list inside a list",
                        (long long)r->rows_done);
    }
}

static int read_row(struct gtp_pqread *r, struct gtp_parquet_row *row, char *errstr,
                    size_t errstr_size)
{
    size_t off[NCOLS], nsk = 0;
    bool present[NCOLS] = {0};
    int err;

    memset(row, 0, sizeof(*row));
    r->arena.len = 0;
    for (int i = 0; i < NCOLS; i++) {
        struct col *c = &r->cols[i];
        struct entry e;
        if (i == GTP_PARQUET_SKILLS_ARRAY) {
            err = read_skills(r, c, row, &nsk, errstr, errstr_size);
            if (err)
                return err;
            continue;
        }
        err = read_entry(r, c, &e, errstr, errstr_size);
        if (err)
            return err;
        if (i == GTP_PARQUET_POSTED_AT) {
            row->posted_at_us = e.i;
        } else if (i == GTP_PARQUET_IS_REMOTE) {
            row->is_remote = e.has_val ? (int)e.i : -1;
        } else if (e.has_val) {
            err = arena_put(r, c, e.p, e.n, &off[i], errstr, errstr_size);
            if (err)
                return err;
            present[i] = true;
            row->lens[i] = e.n;
        }
    }

    /* The arena may have moved while it grew: pointers only now. */
    const char *base = (const char *)r->arena.u;
    const char **str[NCOLS] = {
        [GTP_PARQUET_EVENT_ID] = &row->event_id,
        [GTP_PARQUET_TITLE] = &row->title,
        [GTP_PARQUET_COMPANY] = &row->company,
        [GTP_PARQUET_EXPERIENCE_LEVEL] = &row->experience_level,
        [GTP_PARQUET_JOB_ID] = &row->job_id,
        [GTP_PARQUET_SOURCE] = &row->source,
        [GTP_PARQUET_LOCATION] = &row->location,
    };
    for (int i = 0; i < NCOLS; i++)
        if (str[i] && present[i])
            *str[i] = base + off[i];
    if (nsk > r->skills_cap) {
        r->skills_cap = r->sk_cap;
        r->skills = gtp_xrealloc(r->skills, r->skills_cap * sizeof(*r->skills));
    }
    for (size_t k = 0; k < nsk; k++)
        r->skills[k] = r->sk_off[k] == SIZE_MAX ? NULL : base + r->sk_off[k];
    row->skills = nsk ? r->skills : NULL;
    row->n_skills = nsk;
    row->lens_set = true;
    return 0;
}

int gtp_pqread_next(struct gtp_pqread *r, struct gtp_parquet_row *row, char *errstr,
                    size_t errstr_size)
{
    int rc;
    if (r->err) {
        gtp_errf(errstr, errstr_size, "%s", r->errmsg);
        return r->err;
    }
    if (r->rg_left == 0) {
        rc = next_row_group(r, errstr, errstr_size);
        if (rc <= 0)
            return rc;
    }
    rc = read_row(r, row, errstr, errstr_size);
    if (rc)
        return rc;
    r->rg_left--;
    r->rows_done++;
    return 1;
}

/* ------------------------------------------------------------------------------------------
 * Open and close */

struct gtp_pqread *gtp_pqread_open_mem(const void *data, size_t size, char *errstr,
                                       size_t errstr_size)
{
    struct gtp_pqread *r = gtp_xcalloc(1, sizeof(*r));
    r->data = data;
    r->size = size;
    /* Compression ratios above 1024 over a whole file do not occur in real data, yet a
     * single value of the largest size must fit whatever the file's size. */
    uint64_t lim = (uint64_t)size * 1024;
    if (lim < (uint64_t)GTP_PARQUET_MAX_VALUE + (1u << 20))
        lim = (uint64_t)GTP_PARQUET_MAX_VALUE + (1u << 20);
    r->page_limit = lim < GTP_PQREAD_MAX_PAGE ? (size_t)lim : GTP_PQREAD_MAX_PAGE;
    for (int i = 0; i < NCOLS; i++)
        r->cols[i].i = i;
    r->zd = ZSTD_createDCtx();
    if (!r->zd) {
        gtp_errf(errstr, errstr_size, "zstd: cannot create a context");
        goto fail;
    }
    if (read_footer(r, errstr, errstr_size))
        goto fail;
    return r;
fail:
    gtp_pqread_close(r);
    return NULL;
}

struct gtp_pqread *gtp_pqread_open(const char *path, char *errstr, size_t errstr_size)
{
    struct gtp_pqread *r = NULL;
    struct stat st;
    void *map = MAP_FAILED;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0) {
        gtp_errf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 12) {
        gtp_errf(errstr, errstr_size, "%s: %s", path,
                 S_ISREG(st.st_mode) ? "too small for a Parquet file" : "not a regular file");
        goto out;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        gtp_errf(errstr, errstr_size, "%s: mmap: %s", path, strerror(errno));
        goto out;
    }
    r = gtp_pqread_open_mem(map, (size_t)st.st_size, errstr, errstr_size);
    if (!r) {
        munmap(map, (size_t)st.st_size);
        goto out;
    }
    r->map = map;
out:
    if (fd >= 0)
        close(fd);
    return r;
}

void gtp_pqread_close(struct gtp_pqread *r)
{
    if (!r)
        return;
    for (int i = 0; i < NCOLS; i++) {
        free(r->cols[i].dict_buf);
        free(r->cols[i].dict);
        free(r->cols[i].page_buf);
    }
    ZSTD_freeDCtx(r->zd);
    free(r->rg_rows);
    free(r->chunks);
    gtp_buf_fini(&r->arena);
    free(r->sk_off);
    free(r->skills);
    if (r->map)
        munmap(r->map, r->size);
    free(r);
}

int64_t gtp_pqread_rows(const struct gtp_pqread *r)
{
    return r->num_rows;
}
