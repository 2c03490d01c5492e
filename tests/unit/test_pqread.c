/* Unit tests for the Parquet reader (gtp/pqread.h) and the Thrift decoder under it: round
 * trips through the writer for every codec, dictionary on/off and page/row-group layout
 * (rows equal field by field, and the rows read rewrite a byte-identical file), and hostile
 * files: truncations, flipped bytes in the footer and page headers, refused schemas, codecs
 * and page types. Files written by pyarrow: tests/integration/test_pqread_readers.py. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gtp/err.h"
#include "gtp/parquet.h"
#include "gtp/pqenc.h"
#include "gtp/pqread.h"
#include "gtp/thrift.h"
#include "gtp/thrift_read.h"
#include "gtp/util.h"

/* ------------------------------------------------------------------------------------------
 * Rows the tests own */

#define NSTR 7
static const int SCOLS[NSTR] = {
    GTP_PARQUET_EVENT_ID, GTP_PARQUET_TITLE,  GTP_PARQUET_COMPANY, GTP_PARQUET_EXPERIENCE_LEVEL,
    GTP_PARQUET_JOB_ID,   GTP_PARQUET_SOURCE, GTP_PARQUET_LOCATION};
static const bool SREQ[NSTR] = {true, true, false, false, true, false, false};

struct trow {
    char *s[NSTR]; /* NULL = null; may hold NUL bytes */
    size_t len[NSTR];
    char **sk; /* elements NULL = null element */
    size_t nsk;
    bool sk_null;
    int64_t posted;
    int is_remote;
};

struct profile {
    int null_pct;  /* optional values null */
    int nul_pct;   /* a NUL byte at a character position */
    bool pool;     /* values from a small pool: dictionaries pay */
    bool all_null; /* every optional column null in every row */
    int max_len;
    int max_skills;
};

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static char *rand_str(uint64_t *s, const struct profile *p, bool nul_ok, size_t *len)
{
    static const char *const pieces[] = {
        "a",      "Q",    "0", " ", "\"", "\\", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x9a\x80",
        "python", "\x7f", "\n"};
    static const char *const pool[] = {"Senior", "Junior", "", "d\xc3\xa9j\xc3\xa0", "Lead"};
    if (p->pool && rng(s) % 4 != 0) {
        const char *v = pool[rng(s) % GTP_ARRAY_LEN(pool)];
        *len = strlen(v);
        return gtp_xmemdup(v, *len);
    }
    size_t want = (size_t)(rng(s) % (uint64_t)(p->max_len + 1)), n = 0;
    char *buf = gtp_xmalloc(want * 6 + 1); /* "python" is the longest piece */
    while (n < want) {
        if (nul_ok && p->nul_pct && (int)(rng(s) % 100) < p->nul_pct) {
            buf[n++] = '\0';
            continue;
        }
        const char *piece = pieces[rng(s) % GTP_ARRAY_LEN(pieces)];
        memcpy(buf + n, piece, strlen(piece));
        n += strlen(piece);
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void gen_row(uint64_t *s, const struct profile *p, struct trow *t)
{
    memset(t, 0, sizeof(*t));
    for (int k = 0; k < NSTR; k++) {
        if (!SREQ[k] && (p->all_null || (int)(rng(s) % 100) < p->null_pct))
            continue;
        t->s[k] = rand_str(s, p, true, &t->len[k]);
    }
    uint64_t shape = rng(s) % 8;
    t->sk_null = p->all_null || shape == 0;
    if (!t->sk_null && shape > 1) {
        t->nsk = (size_t)(rng(s) % (uint64_t)(p->max_skills + 1));
        t->sk = gtp_xcalloc(t->nsk + 1, sizeof(*t->sk));
        for (size_t i = 0; i < t->nsk; i++) {
            size_t n;
            t->sk[i] = rng(s) % 5 == 0 ? NULL : rand_str(s, p, false, &n);
        }
    }
    /* Extremes of the timestamp now and then. */
    switch (rng(s) % 8) {
    case 0:
        t->posted = INT64_MIN;
        break;
    case 1:
        t->posted = INT64_MAX;
        break;
    case 2:
        t->posted = 0;
        break;
    default: {
        uint64_t v = rng(s); /* two statements: the order of calls is then defined */
        t->posted = (int64_t)v >> (rng(s) % 63);
    }
    }
    t->is_remote = p->all_null ? -1 : (int)(rng(s) % 3) - 1;
}

static void trow_free(struct trow *t)
{
    for (int k = 0; k < NSTR; k++)
        free(t->s[k]);
    for (size_t i = 0; i < t->nsk; i++)
        free(t->sk[i]);
    free(t->sk);
}

static void rows_free(struct trow *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        trow_free(&rows[i]);
    free(rows);
}

static const char **row_str(struct gtp_parquet_row *row, int k)
{
    const char **p[NSTR] = {&row->event_id, &row->title,  &row->company, &row->experience_level,
                            &row->job_id,   &row->source, &row->location};
    return p[k];
}

static void to_row(const struct trow *t, struct gtp_parquet_row *row)
{
    memset(row, 0, sizeof(*row));
    row->lens_set = true;
    for (int k = 0; k < NSTR; k++) {
        *row_str(row, k) = t->s[k];
        row->lens[SCOLS[k]] = t->len[k];
    }
    row->skills = (const char *const *)t->sk;
    row->n_skills = t->nsk;
    row->skills_null = t->sk_null;
    row->posted_at_us = t->posted;
    row->is_remote = t->is_remote;
}

/* Field by field; strings must also be NUL-terminated. */
static void assert_row_eq(const struct trow *t, struct gtp_parquet_row *got, size_t i)
{
    if (!got->lens_set)
        fail_msg("row %zu: lens_set not set", i);
    for (int k = 0; k < NSTR; k++) {
        const char *g = *row_str(got, k);
        const char *name = gtp_parquet_col_name(SCOLS[k]);
        if (!t->s[k] != !g)
            fail_msg("row %zu %s: null %d, got null %d", i, name, !t->s[k], !g);
        if (!g)
            continue;
        if (got->lens[SCOLS[k]] != t->len[k] || memcmp(g, t->s[k], t->len[k]) != 0 ||
            g[t->len[k]] != '\0')
            fail_msg("row %zu %s: differs (len %zu, got %zu)", i, name, t->len[k],
                     got->lens[SCOLS[k]]);
    }
    assert_int_equal(got->skills_null, t->sk_null);
    assert_int_equal(got->n_skills, t->nsk);
    for (size_t e = 0; e < t->nsk; e++) {
        if (!t->sk[e] != !got->skills[e])
            fail_msg("row %zu skill %zu: null differs", i, e);
        if (t->sk[e] && strcmp(t->sk[e], got->skills[e]) != 0)
            fail_msg("row %zu skill %zu: '%s' vs '%s'", i, e, t->sk[e], got->skills[e]);
    }
    if (got->posted_at_us != t->posted)
        fail_msg("row %zu: posted_at %lld vs %lld", i, (long long)t->posted,
                 (long long)got->posted_at_us);
    assert_int_equal(got->is_remote, t->is_remote);
}

/* ------------------------------------------------------------------------------------------
 * Files in memory */

static uint8_t *file_bytes(int fd, size_t *len)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    uint8_t *buf = gtp_xmalloc((size_t)st.st_size + 1);
    assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
    *len = (size_t)st.st_size;
    return buf;
}

/* Write with w (its rows already added) to a temporary file; the bytes (new). */
static uint8_t *write_out(struct gtp_parquet_writer *w, size_t *len)
{
    char errstr[256];
    FILE *f = tmpfile();
    assert_non_null(f);
    if (gtp_parquet_write_fd(w, fileno(f), NULL, errstr, sizeof(errstr)) != 0)
        fail_msg("write: %s", errstr);
    uint8_t *buf = file_bytes(fileno(f), len);
    fclose(f);
    return buf;
}

static uint8_t *write_rows(const struct gtp_parquet_opts *o, const struct trow *rows, size_t n,
                           size_t *len)
{
    char errstr[256];
    struct gtp_parquet_writer *w = gtp_parquet_writer_new(o);
    assert_non_null(w);
    for (size_t i = 0; i < n; i++) {
        struct gtp_parquet_row row;
        to_row(&rows[i], &row);
        if (gtp_parquet_add_row(w, &row, errstr, sizeof(errstr)) != 0)
            fail_msg("add_row %zu: %s", i, errstr);
    }
    uint8_t *buf = write_out(w, len);
    gtp_parquet_writer_free(w);
    return buf;
}

/* Read buf back: the rows must be rows[0..n), then the end (twice). */
static void read_check(const uint8_t *buf, size_t len, const struct trow *rows, size_t n)
{
    char errstr[256];
    struct gtp_parquet_row row;
    struct gtp_pqread *r = gtp_pqread_open_mem(buf, len, errstr, sizeof(errstr));
    if (!r)
        fail_msg("open: %s", errstr);
    assert_int_equal(gtp_pqread_rows(r), (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        int rc = gtp_pqread_next(r, &row, errstr, sizeof(errstr));
        if (rc != 1)
            fail_msg("row %zu: next returned %d: %s", i, rc, rc < 0 ? errstr : "end");
        assert_row_eq(&rows[i], &row, i);
    }
    assert_int_equal(gtp_pqread_next(r, &row, errstr, sizeof(errstr)), 0);
    assert_int_equal(gtp_pqread_next(r, &row, errstr, sizeof(errstr)), 0);
    gtp_pqread_close(r);
}

/* Read buf and write its rows with options o: the bytes want (the writer's own file). */
static void rewrite_check_to(const uint8_t *buf, size_t len, const struct gtp_parquet_opts *o,
                             const uint8_t *want, size_t want_len)
{
    char errstr[256];
    struct gtp_parquet_row row;
    struct gtp_parquet_writer *w = gtp_parquet_writer_new(o);
    struct gtp_pqread *r = gtp_pqread_open_mem(buf, len, errstr, sizeof(errstr));
    int rc;
    assert_non_null(w);
    assert_non_null(r);
    while ((rc = gtp_pqread_next(r, &row, errstr, sizeof(errstr))) == 1)
        if (gtp_parquet_add_row(w, &row, errstr, sizeof(errstr)) != 0)
            fail_msg("a row read is refused by the writer: %s", errstr);
    assert_int_equal(rc, 0);
    size_t len2;
    uint8_t *buf2 = write_out(w, &len2);
    if (len2 != want_len || memcmp(want, buf2, want_len) != 0)
        fail_msg("rewrite differs: %zu vs %zu bytes", want_len, len2);
    free(buf2);
    gtp_pqread_close(r);
    gtp_parquet_writer_free(w);
}

/* Read buf and write its rows with options o: the same bytes again. */
static void rewrite_check(const uint8_t *buf, size_t len, const struct gtp_parquet_opts *o)
{
    rewrite_check_to(buf, len, o, buf, len);
}

/* Every row of buf, or the first error: 1 = read whole and equal to rows, 0 = error. Fails
 * the test when the file reads whole but differs. */
static int read_outcome(const uint8_t *buf, size_t len, const struct trow *rows, size_t n)
{
    char errstr[256] = "";
    struct gtp_parquet_row row;
    struct gtp_pqread *r = gtp_pqread_open_mem(buf, len, errstr, sizeof(errstr));
    int rc = 0;
    size_t i = 0;
    bool same = true;
    if (!r) {
        assert_true(errstr[0] != '\0');
        return 0;
    }
    while ((rc = gtp_pqread_next(r, &row, errstr, sizeof(errstr))) == 1) {
        /* Compare without failing: a later error is an acceptable outcome too. */
        if (i >= n) {
            same = false;
        } else {
            const struct trow *t = &rows[i];
            for (int k = 0; k < NSTR; k++) {
                const char *g = *row_str(&row, k);
                if (!g != !t->s[k] ||
                    (g && (row.lens[SCOLS[k]] != t->len[k] || memcmp(g, t->s[k], t->len[k]))))
                    same = false;
            }
            if (row.skills_null != t->sk_null || row.n_skills != t->nsk ||
                row.posted_at_us != t->posted || row.is_remote != t->is_remote)
                same = false;
            for (size_t e = 0; same && e < t->nsk; e++)
                if (!row.skills[e] != !t->sk[e] ||
                    (t->sk[e] && strcmp(row.skills[e], t->sk[e]) != 0))
                    same = false;
        }
        i++;
    }
    if (rc < 0) {
        int rc2;
        assert_int_equal(rc, GTP_ERR_PARSE);
        assert_true(errstr[0] != '\0');
        /* dead after an error */
        rc2 = gtp_pqread_next(r, &row, errstr, sizeof(errstr));
        assert_int_equal(rc2, rc);
        gtp_pqread_close(r);
        return 0;
    }
    gtp_pqread_close(r);
    if (!same || i != n)
        fail_msg("a corrupted file read whole but gave other rows (%zu of %zu)", i, n);
    return 1;
}

static struct trow *gen_rows(uint64_t seed, const struct profile *p, size_t n)
{
    struct trow *rows = gtp_xcalloc(n ? n : 1, sizeof(*rows));
    for (size_t i = 0; i < n; i++)
        gen_row(&seed, p, &rows[i]);
    return rows;
}

static void opts_for(struct gtp_parquet_opts *o, enum gtp_parquet_codec codec, bool dict,
                     size_t page_bytes, size_t rg_rows)
{
    gtp_parquet_opts_default(o);
    o->codec = codec;
    o->zstd_level = 1;
    o->no_dictionary = !dict;
    if (page_bytes)
        o->page_bytes = page_bytes;
    if (rg_rows)
        o->row_group_rows = rg_rows;
}

/* ------------------------------------------------------------------------------------------
 * Thrift decoder */

static void test_thrift_read(void **state)
{
    (void)state;
    struct gtp_thrift t;
    struct gtp_thrift_node n;
    const struct gtp_thrift_node *v;
    gtp_thrift_init(&t);
    gtp_thrift_i32(&t, 1, -7);
    gtp_thrift_bool(&t, 2, true);
    gtp_thrift_bool(&t, 3, false);
    gtp_thrift_string(&t, 4, "abc");
    gtp_thrift_struct_begin(&t, 5);
    gtp_thrift_i64(&t, 1, INT64_MIN);
    gtp_thrift_struct_end(&t);
    gtp_thrift_list_begin(&t, 6, GTP_THRIFT_I32, 20);
    for (int i = 0; i < 20; i++)
        gtp_thrift_elem_i32(&t, i * 1000);
    gtp_thrift_i16(&t, 40, 300); /* long-form field header */
    gtp_thrift_end(&t);

    assert_int_equal(gtp_thrift_read_struct(t.data, t.len, &n), (long)t.len);
    v = gtp_thrift_read_get(&n, 1);
    assert_non_null(v);
    assert_int_equal(v->i, -7);
    assert_int_equal(gtp_thrift_read_get(&n, 2)->i, 1);
    assert_int_equal(gtp_thrift_read_get(&n, 3)->i, 0);
    v = gtp_thrift_read_get(&n, 4);
    assert_int_equal(v->type, GTP_THRIFT_BINARY);
    assert_int_equal(v->len, 3);
    assert_memory_equal(v->bin, "abc", 3);
    assert_true(gtp_thrift_read_get(gtp_thrift_read_get(&n, 5), 1)->i == INT64_MIN);
    v = gtp_thrift_read_get(&n, 6);
    assert_int_equal(v->len, 20);
    assert_int_equal(v->elem[19].i, 19000);
    assert_int_equal(gtp_thrift_read_get(&n, 40)->i, 300);
    assert_null(gtp_thrift_read_get(&n, 7));
    gtp_thrift_read_fini(&n);

    /* Every strict prefix is truncated. */
    for (size_t k = 0; k < t.len; k++) {
        assert_int_equal(gtp_thrift_read_struct(t.data, k, &n), -1);
        gtp_thrift_read_fini(&n);
    }
    gtp_thrift_fini(&t);

    /* A list of bools: one byte per element. */
    static const uint8_t bools[] = {0x19, 0x21, 0x01, 0x02, 0x00};
    assert_int_equal(gtp_thrift_read_struct(bools, sizeof(bools), &n), (long)sizeof(bools));
    v = gtp_thrift_read_get(&n, 1);
    assert_int_equal(v->len, 2);
    assert_int_equal(v->elem[0].i, 1);
    assert_int_equal(v->elem[1].i, 0);
    gtp_thrift_read_fini(&n);

    /* A count beyond the bytes left, a map, nesting past the cap: refused. */
    static const uint8_t big[] = {0x19, 0xF5, 0xE8, 0x07, 0x02, 0x02, 0x00};
    assert_int_equal(gtp_thrift_read_struct(big, sizeof(big), &n), -1);
    gtp_thrift_read_fini(&n);
    static const uint8_t map[] = {0x1B, 0x00, 0x00};
    assert_int_equal(gtp_thrift_read_struct(map, sizeof(map), &n), -1);
    gtp_thrift_read_fini(&n);
    uint8_t deep[2 * GTP_THRIFT_READ_MAX_DEPTH + 4];
    size_t d = 0;
    for (int i = 0; i < GTP_THRIFT_READ_MAX_DEPTH + 1; i++)
        deep[d++] = 0x1C;
    while (d < sizeof(deep))
        deep[d++] = 0x00;
    assert_int_equal(gtp_thrift_read_struct(deep, sizeof(deep), &n), -1);
    gtp_thrift_read_fini(&n);
}

/* ------------------------------------------------------------------------------------------
 * Round trips */

static void test_roundtrip_matrix(void **state)
{
    (void)state;
    static const enum gtp_parquet_codec codecs[] = {GTP_PARQUET_UNCOMPRESSED, GTP_PARQUET_SNAPPY,
                                                    GTP_PARQUET_ZSTD};
    static const struct {
        size_t page_bytes, rg_rows;
    } layouts[] = {{0, 0}, {1, 1}, {64, 7}, {300, 50}};
    static const struct {
        size_t n;
        struct profile p;
    } sets[] = {
        {0, {10, 0, false, false, 8, 4}},
        {1, {10, 5, false, false, 8, 4}},
        {257, {20, 3, false, false, 40, 6}},
        {150, {0, 0, false, true, 8, 4}},  /* all-null optional columns */
        {200, {15, 2, true, false, 8, 5}}, /* dictionaries */
    };
    size_t files = 0;
    for (size_t s = 0; s < GTP_ARRAY_LEN(sets); s++) {
        struct trow *rows = gen_rows(1000 + s, &sets[s].p, sets[s].n);
        for (size_t c = 0; c < GTP_ARRAY_LEN(codecs); c++)
            for (int dict = 0; dict < 2; dict++)
                for (size_t l = 0; l < GTP_ARRAY_LEN(layouts); l++) {
                    struct gtp_parquet_opts o;
                    size_t len;
                    opts_for(&o, codecs[c], dict, layouts[l].page_bytes, layouts[l].rg_rows);
                    uint8_t *buf = write_rows(&o, rows, sets[s].n, &len);
                    read_check(buf, len, rows, sets[s].n);
                    rewrite_check(buf, len, &o);
                    free(buf);
                    files++;
                }
        rows_free(rows, sets[s].n);
    }
    assert_int_equal(files, 5 * 3 * 2 * 4);
}

static void test_shapes(void **state)
{
    (void)state;
    /* Hand-picked rows: every list shape, NULs at the edges, empty strings, extremes. */
    static const char *const sk_a[] = {NULL};
    static const char *const sk_b[] = {"", NULL, "c++", ""};
    static const char *const sk_c[] = {"a"};
    struct {
        const char *const *sk;
        size_t n;
        bool null;
    } shapes[] = {
        {NULL, 0, true}, {NULL, 0, false}, {sk_a, 1, false}, {sk_b, 4, false}, {sk_c, 1, false}};
    size_t n = GTP_ARRAY_LEN(shapes) * 3;
    struct trow *rows = gtp_xcalloc(n, sizeof(*rows));
    for (size_t i = 0; i < n; i++) {
        struct trow *t = &rows[i];
        for (int k = 0; k < NSTR; k++) {
            static const struct {
                const char *v;
                size_t len;
            } vals[] = {{"\0lead", 5}, {"trail\0", 6}, {"", 0}, {"\0", 1}, {"x", 1}};
            size_t which = (i + (size_t)k) % GTP_ARRAY_LEN(vals);
            if (!SREQ[k] && i % 3 == 2)
                continue;
            t->s[k] = gtp_xmemdup(vals[which].v, vals[which].len);
            t->len[k] = vals[which].len;
        }
        t->sk_null = shapes[i % GTP_ARRAY_LEN(shapes)].null;
        t->nsk = shapes[i % GTP_ARRAY_LEN(shapes)].n;
        t->sk = gtp_xcalloc(t->nsk + 1, sizeof(*t->sk));
        for (size_t e = 0; e < t->nsk; e++)
            t->sk[e] = gtp_xstrdup(shapes[i % GTP_ARRAY_LEN(shapes)].sk[e]);
        t->posted = i % 2 ? INT64_MIN + (int64_t)i : INT64_MAX - (int64_t)i;
        t->is_remote = (int)(i % 3) - 1;
    }
    for (int dict = 0; dict < 2; dict++) {
        struct gtp_parquet_opts o;
        size_t len;
        opts_for(&o, GTP_PARQUET_ZSTD, dict, 1, 4);
        uint8_t *buf = write_rows(&o, rows, n, &len);
        read_check(buf, len, rows, n);
        rewrite_check(buf, len, &o);
        free(buf);
    }
    rows_free(rows, n);
}

/* More rows than a page's 20,000-entry cap and a long list: still equal. */
static void test_large(void **state)
{
    (void)state;
    struct profile p = {10, 1, true, false, 12, 3};
    size_t n = 45000, len;
    struct trow *rows = gen_rows(77, &p, n);
    /* one row with 5,000 skills */
    trow_free(&rows[100]);
    memset(&rows[100], 0, sizeof(rows[100]));
    rows[100].s[0] = gtp_xstrdup("e");
    rows[100].len[0] = 1;
    rows[100].s[1] = gtp_xstrdup("t");
    rows[100].len[1] = 1;
    rows[100].s[4] = gtp_xstrdup("j");
    rows[100].len[4] = 1;
    rows[100].nsk = 5000;
    rows[100].sk = gtp_xcalloc(5000, sizeof(char *));
    for (size_t e = 0; e < 5000; e++)
        rows[100].sk[e] = e % 7 ? gtp_xstrdup("k") : NULL;
    struct gtp_parquet_opts o;
    opts_for(&o, GTP_PARQUET_SNAPPY, true, 0, 20000);
    uint8_t *buf = write_rows(&o, rows, n, &len);
    read_check(buf, len, rows, n);
    rewrite_check(buf, len, &o);
    free(buf);
    rows_free(rows, n);
}

static void test_open_path(void **state)
{
    (void)state;
    char dir[] = "/tmp/gtp-pqread-XXXXXX", path[256], errstr[256];
    struct profile p = {20, 2, false, false, 10, 4};
    struct trow *rows = gen_rows(5, &p, 40);
    struct gtp_parquet_opts o;
    struct gtp_parquet_writer *w;
    struct gtp_parquet_row row;
    struct gtp_pqread *r;

    assert_non_null(mkdtemp(dir));
    opts_for(&o, GTP_PARQUET_ZSTD, true, 100, 9);
    w = gtp_parquet_writer_new(&o);
    for (size_t i = 0; i < 40; i++) {
        to_row(&rows[i], &row);
        assert_int_equal(gtp_parquet_add_row(w, &row, errstr, sizeof(errstr)), 0);
    }
    assert_int_equal(gtp_parquet_write_file(w, dir, "f.parquet", NULL, errstr, sizeof(errstr)), 0);
    gtp_parquet_writer_free(w);
    snprintf(path, sizeof(path), "%s/f.parquet", dir);
    r = gtp_pqread_open(path, errstr, sizeof(errstr));
    assert_non_null(r);
    /* The mapping survives the file's removal (cleanup of a compacted file). */
    assert_int_equal(unlink(path), 0);
    for (size_t i = 0; i < 40; i++) {
        assert_int_equal(gtp_pqread_next(r, &row, errstr, sizeof(errstr)), 1);
        assert_row_eq(&rows[i], &row, i);
    }
    assert_int_equal(gtp_pqread_next(r, &row, errstr, sizeof(errstr)), 0);
    gtp_pqread_close(r);
    gtp_pqread_close(NULL);

    errstr[0] = '\0';
    assert_null(gtp_pqread_open(path, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "No such file"));
    assert_null(gtp_pqread_open(dir, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "not a regular file"));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_null(gtp_pqread_open(path, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "too small"));
    unlink(path);
    rmdir(dir);
    rows_free(rows, 40);
}

/* ------------------------------------------------------------------------------------------
 * Hostile files */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A small file with several row groups and pages in every column. */
static uint8_t *hostile_file(enum gtp_parquet_codec codec, bool dict, struct trow **rows, size_t *n,
                             size_t *len)
{
    struct profile p = {25, 3, dict, false, 6, 3};
    struct gtp_parquet_opts o;
    *n = 30;
    *rows = gen_rows(42, &p, *n);
    opts_for(&o, codec, dict, 48, 11);
    return write_rows(&o, *rows, *n, len);
}

static void test_truncations(void **state)
{
    (void)state;
    size_t n, len;
    struct trow *rows;
    uint8_t *buf = hostile_file(GTP_PARQUET_ZSTD, true, &rows, &n, &len);
    assert_int_equal(read_outcome(buf, len, rows, n), 1);
    uint32_t flen = rd32(buf + len - 8);
    size_t data_end = len - 8 - flen;

    /* Every prefix. */
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *t = gtp_xmalloc(cut + 1);
        memcpy(t, buf, cut);
        assert_int_equal(read_outcome(t, cut, rows, n), 0);
        free(t);
    }
    /* The data area cut short under an intact footer: offsets point past it. */
    for (size_t cut = 0; cut < data_end; cut++) {
        size_t tl = cut + (len - data_end);
        uint8_t *t = gtp_xmalloc(tl);
        memcpy(t, buf, cut);
        memcpy(t + cut, buf + data_end, len - data_end);
        assert_int_equal(read_outcome(t, tl, rows, n), 0);
        free(t);
    }
    /* The footer cut short, with a length and magic that agree with the cut. */
    for (size_t k = 0; k < flen; k++) {
        size_t tl = data_end + k + 8;
        uint8_t *t = gtp_xmalloc(tl);
        memcpy(t, buf, data_end + k);
        t[data_end + k] = (uint8_t)k;
        t[data_end + k + 1] = (uint8_t)(k >> 8);
        t[data_end + k + 2] = (uint8_t)(k >> 16);
        t[data_end + k + 3] = (uint8_t)(k >> 24);
        memcpy(t + data_end + k + 4, "PAR1", 4);
        assert_int_equal(read_outcome(t, tl, rows, n), 0);
        free(t);
    }
    free(buf);
    rows_free(rows, n);
}

/* Mark the bytes of every page header of buf (walking each column chunk of the footer). */
static size_t page_header_bytes(const uint8_t *buf, size_t len, bool *mark)
{
    uint32_t flen = rd32(buf + len - 8);
    struct gtp_thrift_node md;
    size_t marked = 0;
    assert_true(gtp_thrift_read_struct(buf + len - 8 - flen, flen, &md) == (long)flen);
    const struct gtp_thrift_node *rgs = gtp_thrift_read_get(&md, 4);
    for (size_t g = 0; g < rgs->len; g++) {
        const struct gtp_thrift_node *cols = gtp_thrift_read_get(&rgs->elem[g], 1);
        for (size_t c = 0; c < cols->len; c++) {
            const struct gtp_thrift_node *m = gtp_thrift_read_get(&cols->elem[c], 3);
            const struct gtp_thrift_node *dict = gtp_thrift_read_get(m, 11);
            int64_t pos = dict ? dict->i : gtp_thrift_read_get(m, 9)->i;
            int64_t end = pos + gtp_thrift_read_get(m, 7)->i;
            while (pos < end) {
                struct gtp_thrift_node ph;
                long hl = gtp_thrift_read_struct(buf + pos, (size_t)(end - pos), &ph);
                assert_true(hl > 0);
                for (long k = 0; k < hl; k++, marked++)
                    mark[pos + k] = true;
                pos += hl + gtp_thrift_read_get(&ph, 3)->i;
                gtp_thrift_read_fini(&ph);
            }
        }
    }
    gtp_thrift_read_fini(&md);
    return marked;
}

static void test_flips(void **state)
{
    (void)state;
    static const enum gtp_parquet_codec codecs[] = {GTP_PARQUET_UNCOMPRESSED, GTP_PARQUET_SNAPPY,
                                                    GTP_PARQUET_ZSTD};
    static const uint8_t masks[] = {0x01, 0x80, 0xFF};
    size_t tried = 0, errors = 0;
    for (size_t c = 0; c < GTP_ARRAY_LEN(codecs); c++)
        for (int dict = 0; dict < 2; dict++) {
            size_t n, len;
            struct trow *rows;
            uint8_t *buf = hostile_file(codecs[c], dict, &rows, &n, &len);
            bool *mark = gtp_xcalloc(len, sizeof(bool));
            size_t data_end = len - 8 - rd32(buf + len - 8);
            assert_true(page_header_bytes(buf, len, mark) > 0);
            for (size_t i = data_end; i < len; i++)
                mark[i] = true;
            for (size_t i = 0; i < 4; i++)
                mark[i] = true;
            uint8_t *t = gtp_xmalloc(len);
            for (size_t i = 0; i < len; i++) {
                if (!mark[i])
                    continue;
                for (size_t m = 0; m < GTP_ARRAY_LEN(masks); m++) {
                    memcpy(t, buf, len);
                    t[i] ^= masks[m];
                    tried++;
                    /* Either refused, or a field the reader does not use (statistics,
                     * created_by, ...) changed and the rows are the same: never other
                     * rows, never a crash. */
                    int whole = read_outcome(t, len, rows, n);
                    errors += whole == 0;
                    if (i < 4 || i >= len - 8)
                        assert_int_equal(whole, 0); /* magic and footer length */
                }
            }
            free(t);
            free(mark);
            free(buf);
            rows_free(rows, n);
        }
    print_message("flips: %zu tried, %zu refused, %zu harmless\n", tried, errors, tried - errors);
    assert_true(errors > tried / 2);
}

/* Find needle in buf at or after from; its offset or SIZE_MAX. */
static size_t find(const uint8_t *buf, size_t len, const void *needle, size_t nlen, size_t from)
{
    for (size_t i = from; i + nlen <= len; i++)
        if (memcmp(buf + i, needle, nlen) == 0)
            return i;
    return SIZE_MAX;
}

/* Open and read buf whole: the error message, which must contain want. */
static void expect_refused(const uint8_t *buf, size_t len, const char *want)
{
    char errstr[256] = "";
    struct gtp_parquet_row row;
    struct gtp_pqread *r = gtp_pqread_open_mem(buf, len, errstr, sizeof(errstr));
    int rc = 0;
    if (r) {
        while ((rc = gtp_pqread_next(r, &row, errstr, sizeof(errstr))) == 1)
            ;
        gtp_pqread_close(r);
        assert_int_equal(rc, GTP_ERR_PARSE);
    }
    if (!strstr(errstr, want))
        fail_msg("error '%s' does not mention '%s'", errstr, want);
}

static void test_refusals(void **state)
{
    (void)state;
    size_t n, len, at;
    struct trow *rows;
    uint8_t *buf = hostile_file(GTP_PARQUET_ZSTD, true, &rows, &n, &len);
    uint8_t *t = gtp_xmalloc(len);
    size_t data_end = len - 8 - rd32(buf + len - 8);

    memcpy(t, buf, len);
    t[1] = 'X';
    expect_refused(t, len, "magic");

    memcpy(t, buf, len);
    memcpy(t + len - 4, "PARE", 4);
    expect_refused(t, len, "encrypted");

    /* A column renamed in the schema (same length, so the footer still parses). */
    memcpy(t, buf, len);
    at = find(t, len, "company", 7, data_end);
    assert_true(at != SIZE_MAX);
    t[at] = 'C';
    expect_refused(t, len, "\"Company\", expected company");

    /* Codec ZSTD (zigzag 12) of company's chunk turned into GZIP (zigzag 4). */
    memcpy(t, buf, len);
    at = find(t, len, "company\x15\x0c", 9, data_end);
    assert_true(at != SIZE_MAX);
    t[at + 8] = 0x04;
    expect_refused(t, len, "column company, row group 0: codec GZIP is not supported");

    /* posted_at's converted type TIMESTAMP_MICROS (zigzag 20) made TIMESTAMP_MILLIS. */
    memcpy(t, buf, len);
    at = find(t, len, "posted_at\x25\x14", 11, data_end);
    assert_true(at != SIZE_MAX);
    t[at + 10] = 0x12;
    expect_refused(t, len, "column posted_at: not a TIMESTAMP");

    /* is_remote's repetition OPTIONAL (zigzag 2) made REQUIRED. */
    memcpy(t, buf, len);
    at = find(t, len, "\x25\x02\x18\x09is_remote", 13, data_end);
    assert_true(at != SIZE_MAX);
    t[at + 1] = 0x00;
    expect_refused(t, len, "column is_remote: repetition REQUIRED, expected OPTIONAL");

    /* The first page of event_id (never dictionary-encoded) marked DATA_PAGE_V2. */
    memcpy(t, buf, len);
    struct gtp_thrift_node md;
    assert_true(gtp_thrift_read_struct(buf + data_end, len - 8 - data_end, &md) > 0);
    const struct gtp_thrift_node *c0 = gtp_thrift_read_get(
        &gtp_thrift_read_get(&gtp_thrift_read_get(&md, 4)->elem[0], 1)->elem[0], 3);
    int64_t off = gtp_thrift_read_get(c0, 9)->i;
    gtp_thrift_read_fini(&md);
    assert_int_equal(t[off], 0x15);
    assert_int_equal(t[off + 1], 0x00);
    t[off + 1] = 0x06;
    expect_refused(t, len, "column event_id, row group 0: page at");
    expect_refused(t, len, "data page v2 is not supported");

    free(t);
    free(buf);
    rows_free(rows, n);
}

/* A row the writer refuses is never produced: a skill with a NUL byte cannot be carried. */
static void test_refuses_unrepresentable(void **state)
{
    (void)state;
    /* Write a skill "aXb" and patch the X into a NUL in the uncompressed PLAIN page. */
    char errstr[256];
    const char *sk[] = {"aXb"};
    struct gtp_parquet_row row = {
        .event_id = "e", .title = "t", .job_id = "j", .skills = sk, .n_skills = 1, .is_remote = -1};
    struct gtp_parquet_opts o;
    size_t len;
    opts_for(&o, GTP_PARQUET_UNCOMPRESSED, false, 0, 0);
    struct gtp_parquet_writer *w = gtp_parquet_writer_new(&o);
    assert_int_equal(gtp_parquet_add_row(w, &row, errstr, sizeof(errstr)), 0);
    uint8_t *buf = write_out(w, &len);
    gtp_parquet_writer_free(w);
    size_t at = find(buf, len, "aXb", 3, 4);
    assert_true(at != SIZE_MAX);
    buf[at + 1] = '\0';
    expect_refused(buf, len, "a skill holds a NUL byte");
    /* Invalid UTF-8 in a value is refused too (the writer would refuse the row). */
    buf[at + 1] = (char)0xC0;
    expect_refused(buf, len, "not valid UTF-8");
    free(buf);
}

/* ------------------------------------------------------------------------------------------
 * Edited footers: decode the footer into a tree, change it, encode it again (the encoder of
 * gtp/thrift.h; an unchanged tree gives back the same bytes). A field whose id is set to 0
 * is left out. */

typedef struct gtp_thrift_node tnode;

static void enc_fields(struct gtp_thrift *t, const tnode *st);

static void enc_field(struct gtp_thrift *t, int16_t id, const tnode *v)
{
    switch (v->type) {
    case GTP_THRIFT_BOOL_TRUE:
        gtp_thrift_bool(t, id, v->i != 0);
        break;
    case GTP_THRIFT_I16:
        gtp_thrift_i16(t, id, (int16_t)v->i);
        break;
    case GTP_THRIFT_I32:
        gtp_thrift_i32(t, id, (int32_t)v->i);
        break;
    case GTP_THRIFT_I64:
        gtp_thrift_i64(t, id, v->i);
        break;
    case GTP_THRIFT_BINARY:
        gtp_thrift_binary(t, id, v->bin, v->len);
        break;
    case GTP_THRIFT_STRUCT:
        gtp_thrift_struct_begin(t, id);
        enc_fields(t, v);
        gtp_thrift_struct_end(t);
        break;
    case GTP_THRIFT_LIST:
        gtp_thrift_list_begin(t, id, (enum gtp_thrift_type)v->elem_type, v->len);
        for (size_t k = 0; k < v->len; k++) {
            const tnode *e = &v->elem[k];
            if (v->elem_type == GTP_THRIFT_I32)
                gtp_thrift_elem_i32(t, (int32_t)e->i);
            else if (v->elem_type == GTP_THRIFT_I64)
                gtp_thrift_elem_i64(t, e->i);
            else if (v->elem_type == GTP_THRIFT_BINARY)
                gtp_thrift_elem_binary(t, e->bin, e->len);
            else if (v->elem_type == GTP_THRIFT_STRUCT) {
                gtp_thrift_elem_struct_begin(t);
                enc_fields(t, e);
                gtp_thrift_struct_end(t);
            } else
                fail_msg("list of type %d", v->elem_type);
        }
        break;
    default:
        fail_msg("field of type %d", v->type);
    }
}

static void enc_fields(struct gtp_thrift *t, const tnode *st)
{
    for (size_t i = 0; i < st->len; i++)
        if (st->fields[i].id > 0)
            enc_field(t, (int16_t)st->fields[i].id, &st->fields[i].v);
}

/* The footer of buf decoded into *md; returns where the data area ends. */
static size_t footer_decode(const uint8_t *buf, size_t len, tnode *md)
{
    uint32_t flen = rd32(buf + len - 8);
    size_t data_end = len - 8 - flen;
    assert_int_equal(gtp_thrift_read_struct(buf + data_end, flen, md), (long)flen);
    return data_end;
}

/* data[0, data_len) + md encoded + length + magic (new). */
static uint8_t *footer_attach(const uint8_t *data, size_t data_len, const tnode *md,
                              size_t *out_len)
{
    struct gtp_thrift t;
    gtp_thrift_init(&t);
    enc_fields(&t, md);
    gtp_thrift_end(&t);
    *out_len = data_len + t.len + 8;
    uint8_t *out = gtp_xmalloc(*out_len);
    memcpy(out, data, data_len);
    memcpy(out + data_len, t.data, t.len);
    out[data_len + t.len] = (uint8_t)t.len;
    out[data_len + t.len + 1] = (uint8_t)(t.len >> 8);
    out[data_len + t.len + 2] = (uint8_t)(t.len >> 16);
    out[data_len + t.len + 3] = (uint8_t)(t.len >> 24);
    memcpy(out + data_len + t.len + 4, "PAR1", 4);
    gtp_thrift_fini(&t);
    return out;
}

static tnode *mget(tnode *st, int id)
{
    tnode *v = (tnode *)gtp_thrift_read_get(st, id);
    assert_non_null(v);
    return v;
}

static tnode *chunk_meta(tnode *md, size_t g, int col)
{
    return mget(&mget(&mget(md, 4)->elem[g], 1)->elem[col], 3);
}

static void drop_field(tnode *st, int id)
{
    for (size_t i = 0; i < st->len; i++)
        if (st->fields[i].id == id)
            st->fields[i].id = 0;
}

/* Schema element of a top-level column name (or an inner one), by name. */
static tnode *schema_elem(tnode *md, const char *name)
{
    tnode *schema = mget(md, 2);
    for (size_t i = 0; i < schema->len; i++) {
        const tnode *n = gtp_thrift_read_get(&schema->elem[i], 4);
        if (n && n->len == strlen(name) && memcmp(n->bin, name, n->len) == 0)
            return &schema->elem[i];
    }
    fail_msg("no schema element %s", name);
    return NULL;
}

enum edit {
    ED_NONE,
    ED_FEWER_ROWS,      /* file and last row group: one row less */
    ED_MORE_VALUES,     /* a chunk announces one value more than its pages hold */
    ED_FEWER_VALUES,    /* ... one less */
    ED_FILE_ROWS,       /* file num_rows disagrees with its row groups */
    ED_DATA_OFFSET,     /* a chunk's pages start one byte late */
    ED_ITEM,            /* list element named "item" (older pyarrow): accepted */
    ED_ARRAY,           /* repeated group named "array" (a 2-level list): refused */
    ED_NO_CONVERTED,    /* logical types only: accepted */
    ED_NO_LOGICAL,      /* converted types only: accepted */
    ED_NO_STRING_TYPES, /* company with neither: refused */
    ED_EXTRA_COLUMN,    /* root announces 11 children: refused */
    ED_PATH,            /* a chunk's path_in_schema names another column: refused */
};

static void apply_edit(tnode *md, enum edit ed)
{
    tnode *rgs = mget(md, 4), *m;
    size_t last = rgs->len - 1;
    switch (ed) {
    case ED_NONE:
        break;
    case ED_FEWER_ROWS:
        mget(md, 3)->i--;
        mget(&rgs->elem[last], 3)->i--;
        break;
    case ED_MORE_VALUES:
        mget(chunk_meta(md, last, GTP_PARQUET_COMPANY), 5)->i++;
        break;
    case ED_FEWER_VALUES:
        mget(chunk_meta(md, 0, GTP_PARQUET_SKILLS_ARRAY), 5)->i--;
        break;
    case ED_FILE_ROWS:
        mget(md, 3)->i++;
        break;
    case ED_DATA_OFFSET:
        m = chunk_meta(md, 0, GTP_PARQUET_POSTED_AT);
        mget(m, 9)->i++;
        mget(m, 7)->i--;
        break;
    case ED_ITEM:
    case ED_ARRAY:
        for (size_t g = 0; g <= last; g++) {
            tnode *path = mget(chunk_meta(md, g, GTP_PARQUET_SKILLS_ARRAY), 3);
            if (ed == ED_ITEM)
                path->elem[2].bin = (const uint8_t *)"item", path->elem[2].len = 4;
            else
                path->elem[1].bin = (const uint8_t *)"array", path->elem[1].len = 5;
        }
        m = ed == ED_ITEM ? schema_elem(md, "element") : schema_elem(md, "list");
        mget(m, 4)->bin = (const uint8_t *)(ed == ED_ITEM ? "item" : "array");
        mget(m, 4)->len = ed == ED_ITEM ? 4 : 5;
        break;
    case ED_NO_CONVERTED:
    case ED_NO_LOGICAL: {
        tnode *schema = mget(md, 2);
        for (size_t i = 0; i < schema->len; i++)
            drop_field(&schema->elem[i], ed == ED_NO_CONVERTED ? 6 : 10);
        break;
    }
    case ED_NO_STRING_TYPES:
        drop_field(schema_elem(md, "company"), 6);
        drop_field(schema_elem(md, "company"), 10);
        break;
    case ED_EXTRA_COLUMN:
        mget(&mget(md, 2)->elem[0], 5)->i++;
        break;
    case ED_PATH:
        mget(chunk_meta(md, 1, GTP_PARQUET_SKILLS_ARRAY), 3)->elem[0].len = 6; /* "skills" */
        break;
    }
}

static void test_edited_footers(void **state)
{
    (void)state;
    static const struct {
        enum edit ed;
        const char *refused; /* NULL: reads back as written */
    } cases[] = {
        {ED_NONE, NULL},
        {ED_FEWER_ROWS, "more than the rows use"},
        {ED_MORE_VALUES, "column company, row group 2: 9 values announced, the pages hold fewer"},
        {ED_FEWER_VALUES, "column skills_array, row group 0: page at"},
        {ED_FILE_ROWS, "footer: num_rows 31, row groups hold 30"},
        {ED_DATA_OFFSET, "column posted_at, row group 0: page at"},
        {ED_ITEM, NULL},
        {ED_ARRAY, "column skills_array: not a 3-level list"},
        {ED_NO_CONVERTED, NULL},
        {ED_NO_LOGICAL, NULL},
        {ED_NO_STRING_TYPES, "column company: not a STRING (UTF8) column"},
        {ED_EXTRA_COLUMN, "schema: 11 top-level columns, expected 10"},
        {ED_PATH, "column skills_array, row group 1: path_in_schema does not match the schema"},
    };
    size_t n, len;
    struct trow *rows;
    uint8_t *buf = hostile_file(GTP_PARQUET_SNAPPY, true, &rows, &n, &len);
    for (size_t k = 0; k < GTP_ARRAY_LEN(cases); k++) {
        tnode md;
        size_t data_end = footer_decode(buf, len, &md), elen;
        apply_edit(&md, cases[k].ed);
        uint8_t *e = footer_attach(buf, data_end, &md, &elen);
        gtp_thrift_read_fini(&md);
        if (cases[k].ed == ED_NONE) {
            assert_int_equal(elen, len);
            assert_memory_equal(e, buf, len);
        }
        if (cases[k].refused) {
            expect_refused(e, elen, cases[k].refused);
        } else {
            read_check(e, elen, rows, n);
        }
        free(e);
    }
    free(buf);
    rows_free(rows, n);
}

/* The skills chunk rewritten as pages cut inside lists (other writers may do that with data
 * pages v1): every entry list of (rep, def, value), pages cut at the given entries. */
struct skill_entry {
    uint8_t rep, def;
    const char *v;
};

static uint8_t *resplit_skills(const uint8_t *buf, size_t len, const struct skill_entry *ents,
                               size_t nent, const size_t *cuts, size_t ncuts, size_t *out_len)
{
    char errstr[256];
    tnode md;
    size_t data_end = footer_decode(buf, len, &md);
    assert_int_equal(mget(&md, 4)->len, 1);
    tnode *m = chunk_meta(&md, 0, GTP_PARQUET_SKILLS_ARRAY);
    assert_null(gtp_thrift_read_get(m, 11));
    size_t start = (size_t)mget(m, 9)->i, end = start + (size_t)mget(m, 7)->i;

    struct gtp_pqenc_pager pg;
    assert_int_equal(gtp_pqenc_pager_init(&pg, GTP_PARQUET_UNCOMPRESSED, 1), 0);
    FILE *f = tmpfile();
    struct gtp_pqenc_sink s = {.fd = fileno(f)};
    struct gtp_buf body = {0};
    uint32_t *tmp = NULL;
    size_t tmp_cap = 0;
    int64_t unc = 0, comp = 0;
    uint8_t *rep = gtp_xmalloc(nent), *def = gtp_xmalloc(nent);
    for (size_t i = 0; i < nent; i++) {
        rep[i] = ents[i].rep;
        def[i] = ents[i].def;
    }
    for (size_t p = 0; p <= ncuts; p++) {
        size_t e0 = p ? cuts[p - 1] : 0, e1 = p < ncuts ? cuts[p] : nent;
        body.len = 0;
        gtp_pqenc_levels(&body, rep + e0, e1 - e0, 1, &tmp, &tmp_cap);
        gtp_pqenc_levels(&body, def + e0, e1 - e0, 3, &tmp, &tmp_cap);
        for (size_t i = e0; i < e1; i++)
            if (ents[i].v) {
                gtp_pqenc_put_u32(&body, (uint32_t)strlen(ents[i].v));
                gtp_buf_put(&body, ents[i].v, strlen(ents[i].v));
            }
        assert_int_equal(gtp_pqenc_page(&pg, &s, GTP_PQENC_PAGE_DATA, &body, (int32_t)(e1 - e0),
                                        GTP_PQENC_PLAIN, &unc, &comp, errstr, sizeof(errstr)),
                         0);
    }
    gtp_pqenc_sink_flush(&s);
    assert_int_equal(s.err, 0);
    size_t clen;
    uint8_t *chunk = file_bytes(fileno(f), &clen);
    fclose(f);

    /* The new data area, and every later chunk's offsets moved by the difference. */
    int64_t delta = (int64_t)clen - (int64_t)(end - start);
    size_t dlen = data_end + (size_t)((int64_t)0 + delta);
    uint8_t *data = gtp_xmalloc(dlen);
    memcpy(data, buf, start);
    memcpy(data + start, chunk, clen);
    memcpy(data + start + clen, buf + end, data_end - end);
    mget(m, 5)->i = (int64_t)nent;
    mget(m, 6)->i = (int64_t)clen;
    mget(m, 7)->i = (int64_t)clen;
    for (int c = GTP_PARQUET_SKILLS_ARRAY + 1; c < GTP_PARQUET_NCOLS; c++) {
        tnode *cm = chunk_meta(&md, 0, c);
        mget(cm, 9)->i += delta;
        if (gtp_thrift_read_get(cm, 11))
            mget(cm, 11)->i += delta;
        mget(&mget(mget(&md, 4)->elem, 1)->elem[c], 2)->i += delta;
    }
    uint8_t *out = footer_attach(data, dlen, &md, out_len);
    gtp_thrift_read_fini(&md);
    gtp_pqenc_pager_fini(&pg);
    gtp_buf_fini(&s.b);
    gtp_buf_fini(&body);
    free(tmp);
    free(rep);
    free(def);
    free(chunk);
    free(data);
    return out;
}

static void test_pages_cut_inside_lists(void **state)
{
    (void)state;
    /* rows: [a, b, c], [], null, [d, null, e, f], [g] */
    static const char *const l0[] = {"a", "b", "c"}, *const l3[] = {"d", NULL, "e", "f"},
                             *const l4[] = {"g"};
    static const struct {
        const char *const *sk;
        size_t n;
        bool null;
    } lists[] = {{l0, 3, false}, {NULL, 0, false}, {NULL, 0, true}, {l3, 4, false}, {l4, 1, false}};
    static const struct skill_entry ents[] = {
        {0, 3, "a"}, {1, 3, "b"},  {1, 3, "c"}, {0, 1, NULL}, {0, 0, NULL},
        {0, 3, "d"}, {1, 2, NULL}, {1, 3, "e"}, {1, 3, "f"},  {0, 3, "g"},
    };
    size_t n = GTP_ARRAY_LEN(lists), len, elen;
    struct trow *rows = gtp_xcalloc(n, sizeof(*rows));
    for (size_t i = 0; i < n; i++) {
        rows[i].s[0] = gtp_xstrdup("e");
        rows[i].s[1] = gtp_xstrdup("t");
        rows[i].s[4] = gtp_xstrdup("j");
        rows[i].len[0] = rows[i].len[1] = rows[i].len[4] = 1;
        rows[i].sk_null = lists[i].null;
        rows[i].nsk = lists[i].n;
        rows[i].sk = gtp_xcalloc(lists[i].n + 1, sizeof(char *));
        for (size_t e = 0; e < lists[i].n; e++)
            rows[i].sk[e] = gtp_xstrdup(lists[i].sk[e]);
        rows[i].is_remote = -1;
    }
    struct gtp_parquet_opts o;
    opts_for(&o, GTP_PARQUET_UNCOMPRESSED, false, 0, 0);
    uint8_t *buf = write_rows(&o, rows, n, &len);

    /* One page per entry, pages cut inside a list and at its end, and no cut (the writer's
     * own layout, re-encoded: the same file). */
    static const size_t every[] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, some[] = {1, 3, 7}, none[] = {0};
    const struct {
        const size_t *cuts;
        size_t n;
    } layouts[] = {{every, 9}, {some, 3}, {none, 0}};
    for (size_t l = 0; l < GTP_ARRAY_LEN(layouts); l++) {
        uint8_t *e = resplit_skills(buf, len, ents, GTP_ARRAY_LEN(ents), layouts[l].cuts,
                                    layouts[l].n, &elen);
        if (layouts[l].n == 0) {
            assert_int_equal(elen, len);
            assert_memory_equal(e, buf, len);
        }
        read_check(e, elen, rows, n);
        rewrite_check_to(e, elen, &o, buf, len);
        free(e);
    }

    /* A row group whose first entry continues a list, and a list inside a list. */
    struct skill_entry bad[GTP_ARRAY_LEN(ents)];
    memcpy(bad, ents, sizeof(ents));
    bad[0].rep = 1;
    uint8_t *e = resplit_skills(buf, len, bad, GTP_ARRAY_LEN(bad), some, 3, &elen);
    expect_refused(e, elen, "row 0 starts inside a list");
    free(e);
    memcpy(bad, ents, sizeof(ents));
    bad[1].def = 1; /* an empty list as the second element of a list */
    bad[1].v = NULL;
    e = resplit_skills(buf, len, bad, GTP_ARRAY_LEN(bad), some, 3, &elen);
    expect_refused(e, elen, "a null or empty list inside a list");
    free(e);
    free(buf);
    rows_free(rows, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_read),
        cmocka_unit_test(test_roundtrip_matrix),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_open_path),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_flips),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_refuses_unrepresentable),
        cmocka_unit_test(test_edited_footers),
        cmocka_unit_test(test_pages_cut_inside_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
