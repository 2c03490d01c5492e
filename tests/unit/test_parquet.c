/* Unit tests for the Thrift encoder, the Parquet writer (checked by a small independent
 * footer/page reader written here), Hive path escaping and the Delta log. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <snappy-c.h>

#include "gtp/delta.h"
#include "gtp/err.h"
#include "gtp/hive.h"
#include "gtp/parquet.h"
#include "gtp/thrift.h"
#include "gtp/utf8.h"
#include "gtp/util.h"

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void assert_bytes(const struct gtp_thrift *t, const uint8_t *want, size_t n)
{
    if (t->len != n || memcmp(t->data, want, n) != 0) {
        fprintf(stderr, "got  ");
        for (size_t i = 0; i < t->len; i++)
            fprintf(stderr, "%02X ", t->data[i]);
        fprintf(stderr, "\nwant ");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%02X ", want[i]);
        fprintf(stderr, "\n");
        fail();
    }
}

/* ------------------------------------------------------------------------------------------
 * Thrift compact protocol vectors (hand-checked against Thrift's compact protocol) */

static void test_thrift_vectors(void **state)
{
    (void)state;
    struct gtp_thrift t;
    gtp_thrift_init(&t);

    gtp_thrift_put_varint(&t, 2000);
    gtp_thrift_put_varint(&t, 300);
    gtp_thrift_put_varint(&t, gtp_thrift_zigzag(-1));
    gtp_thrift_put_varint(&t, gtp_thrift_zigzag(300));
    assert_bytes(&t, BYTES(0xD0, 0x0F, 0xAC, 0x02, 0x01, 0xD8, 0x04));

    /* PageHeader{0, 23, 23, DataPageHeader{4, PLAIN, RLE, RLE}} */
    gtp_thrift_reset(&t);
    gtp_thrift_i32(&t, 1, 0);
    gtp_thrift_i32(&t, 2, 23);
    gtp_thrift_i32(&t, 3, 23);
    gtp_thrift_struct_begin(&t, 5);
    gtp_thrift_i32(&t, 1, 4);
    gtp_thrift_i32(&t, 2, 0);
    gtp_thrift_i32(&t, 3, 3);
    gtp_thrift_i32(&t, 4, 3);
    gtp_thrift_struct_end(&t);
    gtp_thrift_end(&t);
    assert_bytes(&t, BYTES(0x15, 0x00, 0x15, 0x2E, 0x15, 0x2E, 0x2C, 0x15, 0x08, 0x15, 0x00, 0x15,
                           0x06, 0x15, 0x06, 0x00, 0x00));

    /* SchemaElement posted_at with TIMESTAMP(true, MICROS) */
    gtp_thrift_reset(&t);
    gtp_thrift_i32(&t, 1, 2);
    gtp_thrift_i32(&t, 3, 1);
    gtp_thrift_string(&t, 4, "posted_at");
    gtp_thrift_i32(&t, 6, 10);
    gtp_thrift_struct_begin(&t, 10);
    gtp_thrift_struct_begin(&t, 8);
    gtp_thrift_bool(&t, 1, true);
    gtp_thrift_struct_begin(&t, 2);
    gtp_thrift_empty_struct(&t, 2);
    gtp_thrift_struct_end(&t);
    gtp_thrift_struct_end(&t);
    gtp_thrift_struct_end(&t);
    gtp_thrift_end(&t);
    assert_bytes(&t, BYTES(0x15, 0x04, 0x25, 0x02, 0x18, 0x09, 'p', 'o', 's', 't', 'e', 'd', '_',
                           'a', 't', 0x25, 0x14, 0x4C, 0x8C, 0x11, 0x1C, 0x2C, 0x00, 0x00, 0x00,
                           0x00, 0x00));

    /* Long-form field header (delta > 15), bool false, i64, i16 */
    gtp_thrift_reset(&t);
    gtp_thrift_i32(&t, 20, 1);
    gtp_thrift_bool(&t, 21, false);
    gtp_thrift_i64(&t, 22, -2);
    gtp_thrift_i16(&t, 23, 5);
    gtp_thrift_end(&t);
    assert_bytes(&t, BYTES(0x05, 0x28, 0x02, 0x12, 0x16, 0x03, 0x14, 0x0A, 0x00));

    /* column_orders-like list of 6 structs after field 6, and a 20-element i32 list */
    gtp_thrift_reset(&t);
    gtp_thrift_string(&t, 6, "");
    gtp_thrift_list_begin(&t, 7, GTP_THRIFT_STRUCT, 6);
    for (int i = 0; i < 6; i++) {
        gtp_thrift_elem_struct_begin(&t);
        gtp_thrift_empty_struct(&t, 1);
        gtp_thrift_struct_end(&t);
    }
    gtp_thrift_list_begin(&t, 8, GTP_THRIFT_I32, 20);
    for (int i = 0; i < 20; i++)
        gtp_thrift_elem_i32(&t, 1);
    gtp_thrift_end(&t);
    uint8_t want[64], *p = want;
    *p++ = 0x68;
    *p++ = 0x00;
    *p++ = 0x19;
    *p++ = 0x6C;
    for (int i = 0; i < 6; i++) {
        *p++ = 0x1C;
        *p++ = 0x00;
        *p++ = 0x00;
    }
    *p++ = 0x19;
    *p++ = 0xF5;
    *p++ = 20;
    for (int i = 0; i < 20; i++)
        *p++ = 0x02;
    *p++ = 0x00;
    assert_bytes(&t, want, (size_t)(p - want));
    gtp_thrift_fini(&t);
}

/* ------------------------------------------------------------------------------------------
 * A small independent compact-protocol reader for the self-checks */

struct tnode {
    int16_t id;
    uint8_t type;
    int64_t i;          /* ints, bools (1/0) */
    const uint8_t *bin; /* binary */
    size_t len;
    struct tnode *kids; /* struct fields / list elements */
    size_t nkids;
};

struct rd {
    const uint8_t *p;
    const uint8_t *end;
    int bad;
};

static uint64_t rd_varint(struct rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

static int64_t unzig(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void rd_value(struct rd *r, struct tnode *n, uint8_t type);

static void rd_struct(struct rd *r, struct tnode *n)
{
    int16_t last = 0;
    n->type = GTP_THRIFT_STRUCT;
    while (!r->bad) {
        if (r->p >= r->end) {
            r->bad = 1;
            return;
        }
        uint8_t h = *r->p++;
        if (h == 0)
            return;
        uint8_t type = h & 15;
        int16_t id = (h >> 4) ? (int16_t)(last + (h >> 4)) : (int16_t)unzig(rd_varint(r));
        last = id;
        n->kids = gtp_xrealloc(n->kids, (n->nkids + 1) * sizeof(*n->kids));
        struct tnode *k = &n->kids[n->nkids++];
        memset(k, 0, sizeof(*k));
        k->id = id;
        rd_value(r, k, type);
    }
}

static void rd_value(struct rd *r, struct tnode *n, uint8_t type)
{
    n->type = type;
    switch (type) {
    case GTP_THRIFT_BOOL_TRUE:
        n->i = 1;
        break;
    case GTP_THRIFT_BOOL_FALSE:
        n->i = 0;
        break;
    case GTP_THRIFT_I16:
    case GTP_THRIFT_I32:
    case GTP_THRIFT_I64:
        n->i = unzig(rd_varint(r));
        break;
    case GTP_THRIFT_BINARY:
        n->len = rd_varint(r);
        if (n->len > (size_t)(r->end - r->p)) {
            r->bad = 1;
            return;
        }
        n->bin = r->p;
        r->p += n->len;
        break;
    case GTP_THRIFT_STRUCT:
        rd_struct(r, n);
        break;
    case GTP_THRIFT_LIST: {
        if (r->p >= r->end) {
            r->bad = 1;
            return;
        }
        uint8_t h = *r->p++;
        size_t cnt = h >> 4;
        uint8_t et = h & 15;
        if (cnt == 15)
            cnt = rd_varint(r);
        if (cnt > 1000000) {
            r->bad = 1;
            return;
        }
        n->kids = gtp_xcalloc(cnt + 1, sizeof(*n->kids));
        n->nkids = cnt;
        for (size_t i = 0; i < cnt && !r->bad; i++)
            rd_value(r, &n->kids[i], et);
        n->type = GTP_THRIFT_LIST;
        break;
    }
    default:
        r->bad = 1;
    }
}

static void tfree(struct tnode *n)
{
    for (size_t i = 0; i < n->nkids; i++)
        tfree(&n->kids[i]);
    free(n->kids);
}

static const struct tnode *tget(const struct tnode *n, int16_t id)
{
    for (size_t i = 0; i < n->nkids; i++)
        if (n->kids[i].id == id)
            return &n->kids[i];
    return NULL;
}

static int64_t tint(const struct tnode *n, int16_t id)
{
    const struct tnode *k = tget(n, id);
    assert_non_null(k);
    return k->i;
}

/* ------------------------------------------------------------------------------------------
 * Writing files into memory and checking them */

struct file {
    uint8_t *data;
    size_t len;
};

static void write_mem(struct gtp_parquet_writer *w, struct file *f,
                      struct gtp_parquet_file_stats *st)
{
    char err[256];
    FILE *tf = tmpfile();
    assert_non_null(tf);
    int rc = gtp_parquet_write_fd(w, fileno(tf), st, err, sizeof(err));
    if (rc)
        fprintf(stderr, "write: %s\n", err);
    assert_int_equal(rc, 0);
    off_t len = lseek(fileno(tf), 0, SEEK_END);
    f->len = (size_t)len;
    f->data = gtp_xmalloc(f->len + 1);
    assert_int_equal(pread(fileno(tf), f->data, f->len, 0), (ssize_t)f->len);
    fclose(tf);
}

static uint32_t rd_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Decode an RLE/bit-packed hybrid stream of n values. Returns bytes consumed or -1. */
static long hybrid_decode(const uint8_t *p, size_t len, int bw, uint32_t *out, size_t n)
{
    struct rd r = {p, p + len, 0};
    size_t got = 0;
    while (got < n) {
        uint64_t h = rd_varint(&r);
        if (r.bad)
            return -1;
        if (h & 1) {
            size_t groups = h >> 1, nbytes = groups * (size_t)bw;
            if (nbytes > (size_t)(r.end - r.p))
                return -1;
            for (size_t i = 0; i < groups * 8; i++) {
                uint32_t v = 0;
                for (int b = 0; b < bw; b++) {
                    size_t bit = i * (size_t)bw + (size_t)b;
                    v |= (uint32_t)((r.p[bit / 8] >> (bit % 8)) & 1) << b;
                }
                if (got < n && i < groups * 8)
                    out[got++] = v;
            }
            r.p += nbytes;
        } else {
            size_t cnt = h >> 1;
            int vb = (bw + 7) / 8;
            if ((size_t)vb > (size_t)(r.end - r.p))
                return -1;
            uint32_t v = 0;
            for (int k = 0; k < vb; k++)
                v |= (uint32_t)r.p[k] << (8 * k);
            r.p += vb;
            for (size_t i = 0; i < cnt && got < n; i++)
                out[got++] = v;
        }
    }
    return (long)(r.p - p);
}

struct page_body {
    uint8_t *p;
    size_t len;
};

static void decompress(int codec, const uint8_t *src, size_t n, size_t raw, struct page_body *b)
{
    b->p = gtp_xmalloc(raw + 1);
    b->len = raw;
    if (codec == GTP_PARQUET_UNCOMPRESSED) {
        assert_int_equal(n, raw);
        memcpy(b->p, src, n);
    } else if (codec == GTP_PARQUET_ZSTD) {
        assert_int_equal(ZSTD_decompress(b->p, raw, src, n), raw);
    } else {
        size_t out = raw;
        assert_int_equal(snappy_uncompress((const char *)src, n, (char *)b->p, &out), SNAPPY_OK);
        assert_int_equal(out, raw);
    }
}

/* Leaf max levels in schema order (parquet.h). */
static const int MAX_DEF[10] = {0, 0, 0, 1, 3, 1, 0, 1, 1, 1};
static const int MAX_REP[10] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0};

/* Checks the footer and walks every page; returns the parsed footer (caller frees). When
 * levels is given, the def levels of leaf `want_leaf` of row group 0 are decoded into it. */
static struct tnode check_file(const struct file *f, int64_t want_rows, int want_leaf,
                               uint32_t *levels, size_t *nlevels, struct page_body *first_body)
{
    assert_true(f->len >= 12);
    assert_memory_equal(f->data, "PAR1", 4);
    assert_memory_equal(f->data + f->len - 4, "PAR1", 4);
    uint32_t flen = rd_le32(f->data + f->len - 8);
    assert_true(flen > 0 && flen <= f->len - 12);
    struct rd r = {f->data + f->len - 8 - flen, f->data + f->len - 8, 0};
    struct tnode md = {0};
    rd_struct(&r, &md);
    assert_false(r.bad);
    assert_ptr_equal(r.p, r.end); /* footer length exact */

    assert_int_equal(tint(&md, 1), 1);
    assert_int_equal(tint(&md, 3), want_rows);
    const struct tnode *schema = tget(&md, 2);
    assert_int_equal(schema->nkids, 13);
    assert_null(tget(&schema->kids[0], 3)); /* root has no repetition_type */
    const struct tnode *cb = tget(&md, 6);
    assert_non_null(cb);
    assert_true(cb->len > 12 && memcmp(cb->bin, "gtp version ", 12) == 0);
    const struct tnode *orders = tget(&md, 7);
    assert_int_equal(orders->nkids, 10);
    for (size_t i = 0; i < 10; i++)
        assert_non_null(tget(&orders->kids[i], 1));

    const struct tnode *rgs = tget(&md, 4);
    int64_t rows = 0;
    uint64_t prev_end = 4;
    for (size_t g = 0; g < rgs->nkids; g++) {
        const struct tnode *rg = &rgs->kids[g];
        int64_t rg_rows = tint(rg, 3);
        rows += rg_rows;
        const struct tnode *cols = tget(rg, 1);
        assert_int_equal(cols->nkids, 10);
        for (size_t c = 0; c < 10; c++) {
            const struct tnode *cmd = tget(&cols->kids[c], 3);
            assert_non_null(cmd);
            int codec = (int)tint(cmd, 4);
            int64_t num_values = tint(cmd, 5), comp = tint(cmd, 7);
            int64_t data_off = tint(cmd, 9);
            const struct tnode *dict = tget(cmd, 11);
            uint64_t start = dict ? (uint64_t)dict->i : (uint64_t)data_off;
            assert_int_equal(start, prev_end); /* chunks back to back */
            assert_true(start + (uint64_t)comp <= f->len - 8 - flen);
            /* Walk pages: headers parse, sizes add up, num_values sum matches. */
            uint64_t pos = start;
            int64_t values = 0, rep0 = 0;
            int page = 0;
            bool seen_data = false;
            while (pos < start + (uint64_t)comp) {
                struct rd pr = {f->data + pos, f->data + start + comp, 0};
                struct tnode ph = {0};
                rd_struct(&pr, &ph);
                assert_false(pr.bad);
                int type = (int)tint(&ph, 1);
                size_t raw = (size_t)tint(&ph, 2), stored = (size_t)tint(&ph, 3);
                size_t hlen = (size_t)(pr.p - (f->data + pos));
                if (type == 2) {
                    assert_int_equal(page, 0); /* dictionary page first */
                    assert_non_null(dict);
                    assert_int_equal(pos, (uint64_t)dict->i);
                } else {
                    assert_int_equal(type, 0);
                    if (!seen_data)
                        assert_int_equal(pos, (uint64_t)data_off);
                    seen_data = true;
                    const struct tnode *dph = tget(&ph, 5);
                    int64_t nv = tint(dph, 1);
                    values += nv;
                    struct page_body body;
                    decompress(codec, pr.p, stored, raw, &body);
                    size_t off = 0;
                    uint32_t *lv = gtp_xmalloc(((size_t)nv + 8) * sizeof(uint32_t));
                    if (MAX_REP[c]) {
                        uint32_t l = rd_le32(body.p);
                        assert_int_equal(hybrid_decode(body.p + 4, l, 1, lv, (size_t)nv), l);
                        assert_int_equal(lv[0], 0); /* pages start on a row boundary */
                        for (int64_t k = 0; k < nv; k++)
                            rep0 += lv[k] == 0;
                        off += 4 + l;
                    } else {
                        rep0 += nv;
                    }
                    if (MAX_DEF[c]) {
                        uint32_t l = rd_le32(body.p + off);
                        int bw = MAX_DEF[c] == 3 ? 2 : 1;
                        assert_int_equal(hybrid_decode(body.p + off + 4, l, bw, lv, (size_t)nv), l);
                        for (int64_t k = 0; k < nv; k++)
                            assert_true(lv[k] <= (uint32_t)MAX_DEF[c]);
                        if (levels && g == 0 && (int)c == want_leaf) {
                            memcpy(levels + *nlevels, lv, (size_t)nv * sizeof(uint32_t));
                            *nlevels += (size_t)nv;
                        }
                    }
                    if (first_body && g == 0 && (int)c == want_leaf && !first_body->p) {
                        *first_body = body;
                        body.p = NULL;
                    }
                    free(body.p);
                    free(lv);
                }
                pos += hlen + stored;
                page++;
                tfree(&ph);
            }
            assert_int_equal(pos, start + (uint64_t)comp);
            assert_int_equal(values, num_values);
            assert_int_equal(rep0, rg_rows);
            prev_end = pos;
        }
    }
    assert_int_equal(rows, want_rows);
    assert_int_equal(prev_end, f->len - 8 - flen); /* footer right after the last chunk */
    return md;
}

static struct gtp_parquet_writer *new_writer(enum gtp_parquet_codec codec, bool dict)
{
    struct gtp_parquet_opts o;
    gtp_parquet_opts_default(&o);
    o.codec = codec;
    o.no_dictionary = !dict;
    struct gtp_parquet_writer *w = gtp_parquet_writer_new(&o);
    assert_non_null(w);
    return w;
}

static struct gtp_parquet_row base_row(const char *id)
{
    struct gtp_parquet_row r = {0};
    r.event_id = id;
    r.posted_at_us = INT64_C(1710498600000000);
    r.title = "Data Engineer";
    r.job_id = "1";
    r.is_remote = -1;
    return r;
}

static void add(struct gtp_parquet_writer *w, const struct gtp_parquet_row *r)
{
    char err[256];
    int rc = gtp_parquet_add_row(w, r, err, sizeof(err));
    if (rc)
        fprintf(stderr, "add_row: %s\n", err);
    assert_int_equal(rc, 0);
}

/* Data page v1 bodies (docs/parquet.md): skills ["a","b"], [], null and company [x,x,null,x,x]. */
static void test_level_vectors(void **state)
{
    (void)state;
    struct gtp_parquet_writer *w = new_writer(GTP_PARQUET_UNCOMPRESSED, false);
    static const char *const ab[] = {"a", "b"};
    struct gtp_parquet_row r = base_row("1");
    r.skills = ab;
    r.n_skills = 2;
    add(w, &r);
    r.n_skills = 0;
    add(w, &r);
    r.skills_null = true;
    add(w, &r);
    struct file f;
    struct page_body body = {0};
    write_mem(w, &f, NULL);
    struct tnode md = check_file(&f, 3, 4, NULL, NULL, &body);
    static const uint8_t want[] = {0x02, 0x00, 0x00, 0x00, 0x03, 0x02, 0x03, 0x00,
                                   0x00, 0x00, 0x03, 0x1F, 0x00, 0x01, 0x00, 0x00,
                                   0x00, 0x61, 0x01, 0x00, 0x00, 0x00, 0x62};
    assert_int_equal(body.len, sizeof(want));
    assert_memory_equal(body.p, want, sizeof(want));
    free(body.p);
    tfree(&md);
    free(f.data);

    /* company: x, x, null, x, x -> def 03 1B */
    for (int i = 0; i < 5; i++) {
        r = base_row("2");
        r.company = i == 2 ? NULL : "x";
        add(w, &r);
    }
    body = (struct page_body){0};
    write_mem(w, &f, NULL);
    md = check_file(&f, 5, 3, NULL, NULL, &body);
    static const uint8_t want2[] = {0x02, 0x00, 0x00, 0x00, 0x03, 0x1B};
    assert_memory_equal(body.p, want2, sizeof(want2));
    free(body.p);
    tfree(&md);
    free(f.data);

    /* 1000 non-null rows: one RLE run 03 00 00 00 D0 0F 01 */
    for (int i = 0; i < 1000; i++) {
        r = base_row("3");
        r.company = "x";
        add(w, &r);
    }
    body = (struct page_body){0};
    write_mem(w, &f, NULL);
    md = check_file(&f, 1000, 3, NULL, NULL, &body);
    static const uint8_t want3[] = {0x03, 0x00, 0x00, 0x00, 0xD0, 0x0F, 0x01};
    assert_memory_equal(body.p, want3, sizeof(want3));
    free(body.p);
    tfree(&md);
    free(f.data);
    gtp_parquet_writer_free(w);
}

/* Mixed patterns: the decoded def levels equal what was written, for every codec. */
static void test_levels_roundtrip(void **state)
{
    (void)state;
    static const enum gtp_parquet_codec codecs[] = {GTP_PARQUET_UNCOMPRESSED, GTP_PARQUET_SNAPPY,
                                                    GTP_PARQUET_ZSTD};
    static const char *const el[] = {"go", NULL, "rust", "go"};
    for (size_t c = 0; c < 3; c++) {
        struct gtp_parquet_writer *w = new_writer(codecs[c], c != 0);
        size_t n = 50000, nexp = 0;
        uint32_t *exp = gtp_xmalloc(n * 5 * sizeof(uint32_t));
        uint32_t *got = gtp_xmalloc(n * 5 * sizeof(uint32_t));
        uint64_t x = 7;
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            struct gtp_parquet_row r = base_row("e");
            /* runs of nulls, runs of values, and noise */
            int mode = (int)((i / 97) % 3);
            bool null = mode == 0 ? true : mode == 1 ? false : (x >> 33) & 1;
            r.skills_null = null && (x >> 40) % 3 == 0;
            r.n_skills = r.skills_null ? 0 : (size_t)((x >> 20) % 5);
            r.skills = el;
            add(w, &r);
            if (r.skills_null) {
                exp[nexp++] = 0;
            } else if (r.n_skills == 0) {
                exp[nexp++] = 1;
            } else {
                for (size_t k = 0; k < r.n_skills; k++)
                    exp[nexp++] = el[k] ? 3 : 2;
            }
        }
        struct file f;
        size_t ngot = 0;
        write_mem(w, &f, NULL);
        struct tnode md = check_file(&f, (int64_t)n, 4, got, &ngot, NULL);
        assert_int_equal(ngot, nexp);
        assert_memory_equal(got, exp, nexp * sizeof(uint32_t));
        tfree(&md);
        free(f.data);
        free(exp);
        free(got);
        gtp_parquet_writer_free(w);
    }
}

static void test_edge_files(void **state)
{
    (void)state;
    struct gtp_parquet_writer *w = new_writer(GTP_PARQUET_ZSTD, true);
    struct file f;
    struct gtp_parquet_file_stats st = {0};

    /* empty file */
    write_mem(w, &f, &st);
    struct tnode md = check_file(&f, 0, -1, NULL, NULL, NULL);
    assert_int_equal(st.num_rows, 0);
    assert_false(st.cols[GTP_PARQUET_TITLE].has_minmax);
    gtp_parquet_file_stats_fini(&st);
    tfree(&md);
    free(f.data);

    /* one row, 1 MiB strings, unicode, empty strings, all-null optional columns */
    char *big = gtp_xmalloc((1u << 20) + 1);
    memset(big, 'z', 1u << 20);
    big[1u << 20] = 0;
    static const char *const uni[] = {"日本語", "", "🚀"};
    struct gtp_parquet_row r = base_row("only");
    r.title = big;
    r.location = "";
    r.skills = uni;
    r.n_skills = 3;
    add(w, &r);
    r = base_row("ü");
    r.title = "";
    r.posted_at_us = -5;
    add(w, &r);
    write_mem(w, &f, &st);
    md = check_file(&f, 2, -1, NULL, NULL, NULL);
    assert_int_equal(st.num_rows, 2);
    assert_int_equal(st.file_size, (int64_t)f.len);
    assert_int_equal(st.cols[GTP_PARQUET_TITLE].max_len, 1u << 20);
    assert_int_equal(st.cols[GTP_PARQUET_TITLE].min_len, 0);
    assert_string_equal(st.cols[GTP_PARQUET_EVENT_ID].max, "ü"); /* unsigned byte order */
    assert_int_equal(st.cols[GTP_PARQUET_POSTED_AT].min_i64, -5);
    assert_int_equal(st.cols[GTP_PARQUET_COMPANY].null_count, 2);
    assert_false(st.cols[GTP_PARQUET_COMPANY].has_minmax);
    assert_int_equal(st.cols[GTP_PARQUET_IS_REMOTE].null_count, 2);
    assert_int_equal(st.cols[GTP_PARQUET_SKILLS_ARRAY].null_count, 0);
    assert_string_equal(st.cols[GTP_PARQUET_LOCATION].min, "");
    gtp_parquet_file_stats_fini(&st);
    tfree(&md);
    free(f.data);
    free(big);
    gtp_parquet_writer_free(w);
}

static void test_million_rows(void **state)
{
    (void)state;
    struct gtp_parquet_writer *w = new_writer(GTP_PARQUET_ZSTD, true);
    static const char *const sk[] = {"python", "spark", "kafka"};
    static const char *const co[] = {"Acme", "Globex", "Initech", "Umbrella"};
    char id[32];
    for (int i = 0; i < 1000000; i++) {
        snprintf(id, sizeof(id), "%08d", i);
        struct gtp_parquet_row r = base_row(id);
        r.posted_at_us += i;
        r.company = co[i % 4];
        r.skills = sk;
        r.n_skills = (size_t)(i % 4);
        r.is_remote = i % 2;
        add(w, &r);
    }
    assert_int_equal(gtp_parquet_rows(w), 1000000);
    struct file f;
    struct gtp_parquet_file_stats st = {0};
    write_mem(w, &f, &st);
    assert_int_equal(gtp_parquet_rows(w), 0); /* reset after a write */
    struct tnode md = check_file(&f, 1000000, -1, NULL, NULL, NULL);
    assert_string_equal(st.cols[GTP_PARQUET_EVENT_ID].min, "00000000");
    assert_string_equal(st.cols[GTP_PARQUET_EVENT_ID].max, "00999999");
    assert_int_equal(
        st.cols[GTP_PARQUET_POSTED_AT].max_i64 - st.cols[GTP_PARQUET_POSTED_AT].min_i64, 999999);
    assert_int_equal(st.cols[GTP_PARQUET_IS_REMOTE].min_i64, 0);
    assert_int_equal(st.cols[GTP_PARQUET_IS_REMOTE].max_i64, 1);
    gtp_parquet_file_stats_fini(&st);
    tfree(&md);
    free(f.data);
    gtp_parquet_writer_free(w);
}

static void test_bad_rows_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xC0\xAF",         /* overlong '/' */
        "\xED\xA0\x80",     /* surrogate */
        "\xF5\x80\x80\x80", /* > U+10FFFF */
        "abc\xE2\x82",      /* truncated */
        "\xFF",
        "ok\x80",
        "\xE0\x80\xAF", /* overlong 3-byte */
    };
    struct gtp_parquet_writer *w = new_writer(GTP_PARQUET_ZSTD, true);
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct gtp_parquet_row r = base_row("x");
        r.title = bad[i];
        assert_int_equal(gtp_parquet_add_row(w, &r, err, sizeof(err)), GTP_ERR_INVAL);
        assert_non_null(strstr(err, "UTF-8"));
        r = base_row("x");
        const char *sk[] = {"ok", bad[i]};
        r.skills = sk;
        r.n_skills = 2;
        assert_int_equal(gtp_parquet_add_row(w, &r, err, sizeof(err)), GTP_ERR_INVAL);
        /* utf8_checked vouches for the top-level strings only: skill ids still checked */
        r.utf8_checked = true;
        assert_int_equal(gtp_parquet_add_row(w, &r, err, sizeof(err)), GTP_ERR_INVAL);
        assert_non_null(strstr(err, "UTF-8"));
    }
    assert_int_equal(gtp_parquet_rows(w), 0);
    /* ... and the writer takes them without scanning them again */
    struct gtp_parquet_row ok = base_row("x");
    ok.title = "\xC3\xBC ok";
    ok.utf8_checked = true;
    assert_int_equal(gtp_parquet_add_row(w, &ok, err, sizeof(err)), 0);
    assert_int_equal(gtp_parquet_rows(w), 1);
    gtp_parquet_writer_free(w);
    w = new_writer(GTP_PARQUET_ZSTD, true);
    struct gtp_parquet_row r = base_row("x");
    r.job_id = NULL;
    assert_int_equal(gtp_parquet_add_row(w, &r, err, sizeof(err)), GTP_ERR_INVAL);
    r = base_row("x");
    r.is_remote = 2;
    assert_int_equal(gtp_parquet_add_row(w, &r, err, sizeof(err)), GTP_ERR_INVAL);
    assert_int_equal(gtp_parquet_rows(w), 0);
    const char *good = "\xF0\x9F\x9A\x80 \xC3\xBC \xE6\x97\xA5 \xF4\x8F\xBF\xBF";
    assert_true(gtp_utf8_valid(good, strlen(good), NULL));
    assert_false(gtp_utf8_valid(good, 3, NULL)); /* cut inside a character */
    assert_true(gtp_utf8_valid("", 0, NULL));
    gtp_parquet_writer_free(w);
}

/* ------------------------------------------------------------------------------------------
 * Hive paths */

static void test_hive_escape(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"UK", "UK"},
        {"../", "..%2F"},
        {"..", ".."},
        {"a=b", "a%3Db"},
        {"100%", "100%25"},
        {"US/East", "US%2FEast"},
        {"12:30", "12%3A30"},
        {"with space", "with space"},
        {"Zürich", "Zürich"},
        {"", "__HIVE_DEFAULT_PARTITION__"},
        {NULL, "__HIVE_DEFAULT_PARTITION__"},
        {"a\nb\x7f", "a%0Ab%7F"},
        {"q\"#'*?\\{[]^}", "q%22%23%27%2A%3F%5C%7B%5B%5D%5E}"},
    };
    char out[256], back[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = gtp_hive_escape(cases[i].in, out, sizeof(out));
        assert_int_equal(n, (int)strlen(cases[i].out));
        assert_string_equal(out, cases[i].out);
        assert_null(strchr(out, '/'));
        assert_true(gtp_hive_unescape(out, back, sizeof(back)) >= 0);
        assert_string_equal(back, cases[i].in ? cases[i].in : "");
    }
    assert_int_equal(gtp_hive_escape("abcdef", out, 4), GTP_ERR_INVAL);

    static const char *const names[] = {"date_posted", "region"};
    const char *vals[] = {"2024-03-15", "../../etc"};
    assert_true(gtp_hive_partition_dir(names, vals, 2, out, sizeof(out)) > 0);
    assert_string_equal(out, "date_posted=2024-03-15/region=..%2F..%2Fetc");
    vals[1] = NULL;
    assert_true(gtp_hive_partition_dir(names, vals, 2, out, sizeof(out)) > 0);
    assert_string_equal(out, "date_posted=2024-03-15/region=__HIVE_DEFAULT_PARTITION__");
    char longv[400];
    memset(longv, 'x', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = 0;
    vals[1] = longv;
    char big[1024];
    assert_int_equal(gtp_hive_partition_dir(names, vals, 2, big, sizeof(big)), GTP_ERR_INVAL);

    /* URI form for Delta add.path: hive escapes get %25, space %20; '/' and '=' stay. */
    assert_true(gtp_hive_uri_encode("region=US%2FEast/a b/é.parquet", out, sizeof(out)) > 0);
    assert_string_equal(out, "region=US%252FEast/a%20b/%C3%A9.parquet");
    assert_true(gtp_hive_uri_decode(out, back, sizeof(back)) > 0);
    assert_string_equal(back, "region=US%2FEast/a b/é.parquet");
    assert_int_equal(gtp_hive_uri_decode("bad%zz", back, sizeof(back)), GTP_ERR_INVAL);

    char err[256];
    assert_int_equal(gtp_hive_mkdirs("/tmp", "a/../b", err, sizeof(err)), GTP_ERR_INVAL);
    assert_int_equal(gtp_hive_mkdirs("/tmp", "/etc", err, sizeof(err)), GTP_ERR_INVAL);
}

/* ------------------------------------------------------------------------------------------
 * Delta log */

static char *make_root(void)
{
    char tmpl[] = "/tmp/gtp-delta-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return gtp_xstrdup(tmpl);
}

static void rm_rf(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static void test_delta_basic(void **state)
{
    (void)state;
    char *root = make_root(), err[512], dir[4096];
    int64_t v;
    assert_int_equal(gtp_delta_latest_version(root, &v, err, sizeof(err)), 0);
    assert_int_equal(v, -1);
    assert_int_equal(gtp_delta_create(root, err, sizeof(err)), 0);
    assert_int_equal(gtp_delta_create(root, err, sizeof(err)), 0); /* idempotent */
    assert_int_equal(gtp_delta_latest_version(root, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 0);

    /* one real data file */
    static const char *const names[] = {"date_posted", "region"};
    const char *vals[] = {"2024-03-15", "US/East"};
    char rel[256];
    assert_true(gtp_hive_partition_dir(names, vals, 2, rel, sizeof(rel)) > 0);
    assert_int_equal(gtp_hive_mkdirs(root, rel, err, sizeof(err)), 0);
    snprintf(dir, sizeof(dir), "%s/%s", root, rel);
    struct gtp_parquet_writer *w = new_writer(GTP_PARQUET_ZSTD, true);
    struct gtp_parquet_row r = base_row("e1");
    r.company = "a very long company name that is longer than thirty-two characters";
    add(w, &r);
    struct gtp_parquet_file_stats st = {0};
    assert_int_equal(gtp_parquet_write_file(w, dir, "part-0-0-0.parquet", &st, err, sizeof(err)),
                     0);
    gtp_parquet_writer_free(w);
    char path[512];
    snprintf(path, sizeof(path), "%s/part-0-0-0.parquet", rel);
    struct gtp_delta_add a = {path, {vals[0], vals[1]}, st.file_size, 1710498600000, &st};
    assert_int_equal(gtp_delta_commit(root, &a, 1, "app-p0", 41, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 1);
    assert_int_equal(gtp_delta_commit(root, NULL, 0, "app-p1", 5, &v, err, sizeof(err)), 0);
    assert_int_equal(gtp_delta_commit(root, NULL, 0, "app-p0", 42, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 3);

    assert_int_equal(gtp_delta_txn_version(root, "app-p0", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 42);
    assert_int_equal(gtp_delta_txn_version(root, "app-p1", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 5);
    assert_int_equal(gtp_delta_txn_version(root, "app-p2", &v, err, sizeof(err)), 0);
    assert_int_equal(v, -1);

    char *stats = gtp_delta_stats_json(&st);
    assert_non_null(strstr(stats, "\"numRecords\":1"));
    assert_non_null(strstr(stats, "\"posted_at\":\"2024-03-15T10:30:00.000Z\""));
    assert_non_null(strstr(stats, "\"company\":\"a very long company name that is\"")); /* min */
    assert_null(strstr(stats, "thirty-two"));                                           /* max */
    free(stats);
    gtp_parquet_file_stats_fini(&st);

    /* add.path is URI-encoded in the log, decoded by list_files */
    char logf[4200], buf[8192];
    snprintf(logf, sizeof(logf), "%s/_delta_log/00000000000000000001.json", root);
    FILE *fp = fopen(logf, "r");
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = 0;
    fclose(fp);
    assert_non_null(strstr(buf, "\"path\":\"date_posted=2024-03-15/region=US%252FEast/"));
    assert_non_null(strstr(buf, "\"txn\":{\"appId\":\"app-p0\",\"version\":41"));
    char **files = NULL;
    size_t nfiles = 0;
    assert_int_equal(gtp_delta_list_files(root, &files, &nfiles, err, sizeof(err)), 0);
    assert_int_equal(nfiles, 1);
    assert_string_equal(files[0], path);
    gtp_delta_paths_free(files, nfiles);

    /* orphans: an uncommitted part file and a crashed writer's temp file */
    snprintf(logf, sizeof(logf), "%s/part-9-9-9.parquet", dir);
    fclose(fopen(logf, "w"));
    snprintf(logf, sizeof(logf), "%s/.part-8-8-8.parquet.tmp", dir);
    fclose(fopen(logf, "w"));
    assert_int_equal(gtp_delta_orphans(root, &files, &nfiles, err, sizeof(err)), 0);
    assert_int_equal(nfiles, 2);
    assert_non_null(strstr(files[0], "/.part-8-8-8.parquet.tmp"));
    assert_non_null(strstr(files[1], "/part-9-9-9.parquet"));
    gtp_delta_paths_free(files, nfiles);

    /* never overwrite a commit */
    bool exists = false;
    snprintf(dir, sizeof(dir), "%s/_delta_log", root);
    assert_int_not_equal(gtp_delta_publish(dir, "00000000000000000001.json", "x", 1, true, &exists,
                                           err, sizeof(err)),
                         0);
    assert_true(exists);
    rm_rf(root);
    free(root);
}

struct racer {
    const char *root;
    int id;
    int commits;
    int failures;
};

static void *race(void *arg)
{
    struct racer *rc = arg;
    char app[32], err[512];
    snprintf(app, sizeof(app), "racer-%d", rc->id);
    for (int i = 0; i < rc->commits; i++) {
        int64_t v;
        if (gtp_delta_commit(rc->root, NULL, 0, app, i, &v, err, sizeof(err)) != 0) {
            fprintf(stderr, "racer %d: %s\n", rc->id, err);
            rc->failures++;
        }
    }
    return NULL;
}

/* Two writers committing at once: EEXIST is handled by moving to the next version, no
 * commit is lost or overwritten, versions stay contiguous. */
static void test_delta_race(void **state)
{
    (void)state;
    char *root = make_root(), err[512];
    assert_int_equal(gtp_delta_create(root, err, sizeof(err)), 0);
    struct racer a = {root, 1, 60, 0}, b = {root, 2, 60, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race, &a);
    pthread_create(&tb, NULL, race, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.failures + b.failures, 0);
    int64_t v;
    assert_int_equal(gtp_delta_latest_version(root, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 120);
    assert_int_equal(gtp_delta_txn_version(root, "racer-1", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 59);
    assert_int_equal(gtp_delta_txn_version(root, "racer-2", &v, err, sizeof(err)), 0);
    assert_int_equal(v, 59);
    /* no temp files left behind */
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/_delta_log", root);
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
        else
            assert_true(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0);
    closedir(d);
    assert_int_equal(n, 121);
    rm_rf(root);
    free(root);
}

/* A value with NUL bytes (JSON "\u0000") is the whole statistic, NULs included:
 * the min/max copies once stopped at the first NUL while keeping the full
 * length, and the Delta stats read past the copy (found by ASan). */
static void test_stats_with_nul(void **state)
{
    (void)state;
    static const char co[] = "ab\0cdef";
    struct gtp_parquet_writer *w = new_writer(GTP_PARQUET_ZSTD, true);
    struct gtp_parquet_row r = base_row("e1");
    struct gtp_parquet_file_stats st = {0};
    struct file f;
    r.company = co;
    r.lens_set = true;
    r.lens[GTP_PARQUET_EVENT_ID] = 2;
    r.lens[GTP_PARQUET_TITLE] = strlen(r.title);
    r.lens[GTP_PARQUET_JOB_ID] = 1;
    r.lens[GTP_PARQUET_COMPANY] = sizeof(co) - 1;
    add(w, &r);
    write_mem(w, &f, &st);
    gtp_parquet_writer_free(w);
    const struct gtp_parquet_col_stats *cs = &st.cols[GTP_PARQUET_COMPANY];
    assert_true(cs->has_minmax);
    assert_int_equal(cs->min_len, sizeof(co) - 1);
    assert_memory_equal(cs->min, co, sizeof(co) - 1);
    assert_memory_equal(cs->max, co, sizeof(co) - 1);
    char *stats = gtp_delta_stats_json(&st);
    assert_non_null(strstr(stats, "\"company\":\"ab\\u0000cdef\""));
    free(stats);
    free(f.data);
    gtp_parquet_file_stats_fini(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_vectors),   cmocka_unit_test(test_level_vectors),
        cmocka_unit_test(test_levels_roundtrip), cmocka_unit_test(test_edge_files),
        cmocka_unit_test(test_million_rows),     cmocka_unit_test(test_bad_rows_rejected),
        cmocka_unit_test(test_hive_escape),      cmocka_unit_test(test_delta_basic),
        cmocka_unit_test(test_delta_race),       cmocka_unit_test(test_stats_with_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
