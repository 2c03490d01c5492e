/* Parquet writer for the archive schema (see include/gtp/parquet.h). Rows are kept
 * column-wise in growable arenas; a write slices them into row groups and pages,
 * dictionary-encodes the chunks where it pays, compresses page bodies and writes the
 * Thrift footer. The encoding mechanisms (hybrid levels, pages, sink, atomic publish) live
 * in pqenc.c, shared with the nested writer. Why each format choice: docs/parquet.md. */
#include "gtp/parquet.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zstd.h>

#include "gtp/err.h"
#include "gtp/pqenc.h"
#include "gtp/thrift.h"
#include "gtp/utf8.h"
#include "gtp/util.h"

#ifndef GTP_VERSION
#define GTP_VERSION "0.0.0"
#endif

/* ------------------------------------------------------------------------------------------
 * Parquet enum values (parquet.thrift) */
enum {
    PT_BOOLEAN = GTP_PQENC_BOOLEAN,
    PT_INT64 = GTP_PQENC_INT64,
    PT_BYTE_ARRAY = GTP_PQENC_BYTE_ARRAY
};
enum {
    REP_REQUIRED = GTP_PQENC_REQUIRED,
    REP_OPTIONAL = GTP_PQENC_OPTIONAL,
    REP_REPEATED = GTP_PQENC_REPEATED
};

#define NLEAVES          GTP_PARQUET_NCOLS /* one leaf per top-level column in this schema */
#define PAGE_MAX_ENTRIES 20000             /* parquet-java's page row limit: keeps pages seekable */
#define DICT_MAX_BYTES   (1u << 20)        /* larger dictionaries fall back to PLAIN */

struct leaf_def {
    const char *name;
    int type;
    int repetition; /* of the leaf itself */
    int max_def;
    int max_rep;
    bool try_dict; /* unique-per-row columns never benefit */
};

static const struct leaf_def LEAVES[NLEAVES] = {
    {"event_id", PT_BYTE_ARRAY, REP_REQUIRED, 0, 0, false},
    {"posted_at", PT_INT64, REP_REQUIRED, 0, 0, false},
    {"title", PT_BYTE_ARRAY, REP_REQUIRED, 0, 0, true},
    {"company", PT_BYTE_ARRAY, REP_OPTIONAL, 1, 0, true},
    {"skills_array", PT_BYTE_ARRAY, REP_OPTIONAL, 3, 1, true}, /* leaf skills_array.list.element */
    {"experience_level", PT_BYTE_ARRAY, REP_OPTIONAL, 1, 0, true},
    {"job_id", PT_BYTE_ARRAY, REP_REQUIRED, 0, 0, false},
    {"source", PT_BYTE_ARRAY, REP_OPTIONAL, 1, 0, true},
    {"location", PT_BYTE_ARRAY, REP_OPTIONAL, 1, 0, true},
    {"is_remote", PT_BOOLEAN, REP_OPTIONAL, 1, 0, false},
};

const char *gtp_parquet_col_name(int col)
{
    if (col < 0 || col >= GTP_PARQUET_NCOLS)
        return "?";
    return LEAVES[col].name;
}

/* ------------------------------------------------------------------------------------------
 * Writer state */
struct gtp_parquet_writer {
    struct gtp_parquet_opts opts;
    char created_by[160];
    struct gtp_pqenc_leaf leaves[NLEAVES];
    size_t nrows;
    uint32_t *skills_row; /* entry index where row r starts in the skills leaf; nrows+1 */
    size_t skills_row_cap;
    int64_t col_nulls[GTP_PARQUET_NCOLS]; /* rows where the top-level column is null */

    /* scratch, reused across writes */
    struct gtp_buf body;
    struct gtp_pqenc_pager pg; /* codec, compressed scratch, Thrift scratch (also the footer) */
    uint32_t *tmp32;           /* levels widened for the hybrid encoder, dictionary indexes */
    size_t tmp32_cap;
    uint32_t *dict_idx; /* per chunk value: dictionary index */
    size_t dict_idx_cap;
    uint32_t *dict_val; /* per dictionary entry: value index of its first occurrence */
    size_t dict_val_cap;
    size_t ndict;
    size_t dict_bytes;
    uint32_t *ht;
    size_t ht_cap;
    struct gtp_pqenc_chunk_meta *chunks;
    size_t chunks_cap;
};

void gtp_parquet_opts_default(struct gtp_parquet_opts *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->codec = GTP_PARQUET_ZSTD;
    opts->zstd_level = 3;
    opts->row_group_rows = 1000000;
    opts->page_bytes = 1u << 20;
}

int gtp_parquet_codec_parse(const char *name, enum gtp_parquet_codec *out)
{
    if (!name)
        return GTP_ERR_INVAL;
    if (strcasecmp(name, "zstd") == 0)
        *out = GTP_PARQUET_ZSTD;
    else if (strcasecmp(name, "snappy") == 0)
        *out = GTP_PARQUET_SNAPPY;
    else if (strcasecmp(name, "none") == 0 || strcasecmp(name, "uncompressed") == 0)
        *out = GTP_PARQUET_UNCOMPRESSED;
    else
        return GTP_ERR_INVAL;
    return 0;
}

const char *gtp_parquet_codec_name(enum gtp_parquet_codec codec)
{
    switch (codec) {
    case GTP_PARQUET_ZSTD:
        return "zstd";
    case GTP_PARQUET_SNAPPY:
        return "snappy";
    case GTP_PARQUET_UNCOMPRESSED:
        return "uncompressed";
    }
    return "?";
}

void gtp_parquet_reset(struct gtp_parquet_writer *w)
{
    for (int i = 0; i < NLEAVES; i++)
        gtp_pqenc_leaf_reset(&w->leaves[i]);
    w->nrows = 0;
    w->skills_row[0] = 0;
    memset(w->col_nulls, 0, sizeof(w->col_nulls));
}

struct gtp_parquet_writer *gtp_parquet_writer_new(const struct gtp_parquet_opts *opts)
{
    struct gtp_parquet_opts o;
    char created_by[sizeof(((struct gtp_parquet_writer *)0)->created_by)];
    if (gtp_pqenc_opts_resolve(opts, &o, created_by, sizeof(created_by)))
        return NULL;

    struct gtp_parquet_writer *w = gtp_xcalloc(1, sizeof(*w));
    w->opts = o;
    memcpy(w->created_by, created_by, sizeof(created_by));
    for (int i = 0; i < NLEAVES; i++)
        gtp_pqenc_leaf_init(&w->leaves[i], 1024);
    w->skills_row_cap = 1024;
    w->skills_row = gtp_xmalloc(w->skills_row_cap * sizeof(uint32_t));
    if (gtp_pqenc_pager_init(&w->pg, o.codec, o.zstd_level) != 0) {
        gtp_parquet_writer_free(w);
        return NULL;
    }
    gtp_parquet_reset(w);
    return w;
}

void gtp_parquet_writer_free(struct gtp_parquet_writer *w)
{
    if (!w)
        return;
    for (int i = 0; i < NLEAVES; i++)
        gtp_pqenc_leaf_fini(&w->leaves[i]);
    free(w->skills_row);
    free(w->body.u);
    gtp_pqenc_pager_fini(&w->pg);
    free(w->tmp32);
    free(w->dict_idx);
    free(w->dict_val);
    free(w->ht);
    free(w->chunks);
    free(w);
}

size_t gtp_parquet_rows(const struct gtp_parquet_writer *w)
{
    return w->nrows;
}

size_t gtp_parquet_buffered_bytes(const struct gtp_parquet_writer *w)
{
    size_t n = w->nrows * sizeof(uint32_t);
    for (int i = 0; i < NLEAVES; i++) {
        const struct gtp_pqenc_leaf *l = &w->leaves[i];
        n += l->def.len + l->rep.len + l->data.len + l->nvals * sizeof(uint64_t);
    }
    return n;
}

/* ------------------------------------------------------------------------------------------
 * Adding rows */

static void put_opt_str(struct gtp_parquet_writer *w, int col, const char *s, size_t n)
{
    struct gtp_pqenc_leaf *l = &w->leaves[col];
    l->nentries++;
    if (LEAVES[col].max_def == 0) {
        gtp_pqenc_leaf_put(l, s, n, true);
        return;
    }
    gtp_buf_putc(&l->def, s ? 1 : 0);
    if (s)
        gtp_pqenc_leaf_put(l, s, n, true);
    else
        w->col_nulls[col]++;
}

static int check_str(const char *name, const char *s, bool required, const size_t *given,
                     bool utf8_checked, size_t *len, char *errstr, size_t errstr_size)
{
    if (!s) {
        *len = 0;
        if (required) {
            gtp_errf(errstr, errstr_size, "%s: required value is null", name);
            return GTP_ERR_INVAL;
        }
        return 0;
    }
    *len = given ? *given : strlen(s);
    if (*len > GTP_PARQUET_MAX_VALUE) {
        gtp_errf(errstr, errstr_size, "%s: value of %zu bytes exceeds the %u-byte limit", name,
                 *len, GTP_PARQUET_MAX_VALUE);
        return GTP_ERR_INVAL;
    }
    if (!utf8_checked && !gtp_utf8_valid(s, *len, NULL)) {
        gtp_errf(errstr, errstr_size, "%s: malformed UTF-8", name);
        return GTP_ERR_INVAL;
    }
    return 0;
}

int gtp_parquet_add_row(struct gtp_parquet_writer *w, const struct gtp_parquet_row *row,
                        char *errstr, size_t errstr_size)
{
    static const int str_cols[] = {
        GTP_PARQUET_EVENT_ID, GTP_PARQUET_TITLE,  GTP_PARQUET_COMPANY, GTP_PARQUET_EXPERIENCE_LEVEL,
        GTP_PARQUET_JOB_ID,   GTP_PARQUET_SOURCE, GTP_PARQUET_LOCATION};
    const char *vals[GTP_PARQUET_NCOLS] = {0};
    size_t lens[GTP_PARQUET_NCOLS] = {0};
    int err;

    vals[GTP_PARQUET_EVENT_ID] = row->event_id;
    vals[GTP_PARQUET_TITLE] = row->title;
    vals[GTP_PARQUET_COMPANY] = row->company;
    vals[GTP_PARQUET_EXPERIENCE_LEVEL] = row->experience_level;
    vals[GTP_PARQUET_JOB_ID] = row->job_id;
    vals[GTP_PARQUET_SOURCE] = row->source;
    vals[GTP_PARQUET_LOCATION] = row->location;

    /* Validate everything before touching the buffers: a row is added whole or not at all. */
    if (w->nrows >= (size_t)INT32_MAX) {
        gtp_errf(errstr, errstr_size, "too many buffered rows");
        return GTP_ERR_INVAL;
    }
    for (size_t i = 0; i < GTP_ARRAY_LEN(str_cols); i++) {
        int c = str_cols[i];
        err = check_str(LEAVES[c].name, vals[c], LEAVES[c].max_def == 0,
                        row->lens_set ? &row->lens[c] : NULL, row->utf8_checked, &lens[c], errstr,
                        errstr_size);
        if (err)
            return err;
    }
    if (row->is_remote < -1 || row->is_remote > 1) {
        gtp_errf(errstr, errstr_size, "is_remote: %d is not -1, 0 or 1", row->is_remote);
        return GTP_ERR_INVAL;
    }
    if (!row->skills_null && row->n_skills > 0 && !row->skills) {
        gtp_errf(errstr, errstr_size, "skills_array: %zu elements but no array", row->n_skills);
        return GTP_ERR_INVAL;
    }
    struct gtp_pqenc_leaf *sk = &w->leaves[GTP_PARQUET_SKILLS_ARRAY];
    if (!row->skills_null) {
        if (row->n_skills > 1000000 || sk->nentries + row->n_skills >= (size_t)UINT32_MAX) {
            gtp_errf(errstr, errstr_size, "skills_array: too many elements");
            return GTP_ERR_INVAL;
        }
        for (size_t i = 0; i < row->n_skills; i++) {
            size_t n;
            err = check_str("skills_array.element", row->skills[i], false, NULL, false, &n, errstr,
                            errstr_size);
            if (err)
                return err;
        }
    }

    for (size_t i = 0; i < GTP_ARRAY_LEN(str_cols); i++) {
        int c = str_cols[i];
        put_opt_str(w, c, vals[c], lens[c]);
    }

    struct gtp_pqenc_leaf *ts = &w->leaves[GTP_PARQUET_POSTED_AT];
    gtp_buf_reserve(&ts->data, 8);
    gtp_pqenc_le64(ts->data.u + ts->data.len, (uint64_t)row->posted_at_us);
    ts->data.len += 8;
    ts->nvals++;
    ts->nentries++;

    struct gtp_pqenc_leaf *rb = &w->leaves[GTP_PARQUET_IS_REMOTE];
    rb->nentries++;
    gtp_buf_putc(&rb->def, row->is_remote >= 0 ? 1 : 0);
    if (row->is_remote >= 0) {
        gtp_buf_putc(&rb->data, (uint8_t)row->is_remote);
        rb->nvals++;
    } else {
        w->col_nulls[GTP_PARQUET_IS_REMOTE]++;
    }

    /* skills_array levels (docs/parquet.md): null list (0,0), empty (0,1),
     * null element def 2, element def 3; rep 1 for every element after the first. */
    if (row->skills_null || row->n_skills == 0) {
        gtp_buf_putc(&sk->rep, 0);
        gtp_buf_putc(&sk->def, row->skills_null ? 0 : 1);
        sk->nentries++;
        if (row->skills_null)
            w->col_nulls[GTP_PARQUET_SKILLS_ARRAY]++;
    } else {
        for (size_t i = 0; i < row->n_skills; i++) {
            const char *s = row->skills[i];
            gtp_buf_putc(&sk->rep, i ? 1 : 0);
            gtp_buf_putc(&sk->def, s ? 3 : 2);
            if (s)
                gtp_pqenc_leaf_put(sk, s, strlen(s), true);
            sk->nentries++;
        }
    }
    w->nrows++;
    gtp_pqenc_grow_u32(&w->skills_row, &w->skills_row_cap, w->nrows + 1);
    w->skills_row[w->nrows] = (uint32_t)sk->nentries;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Dictionary */

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xC2B2AE3D27D4EB4Full);
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, p, 8);
        h ^= k * 0x87C37B91114253D5ull;
        h = ((h << 31) | (h >> 33)) * 0x4CF5AD432745937Full;
        p += 8;
        n -= 8;
    }
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++)
        k |= (uint64_t)p[i] << (8 * i);
    h ^= k * 0x87C37B91114253D5ull;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    return h;
}

/* Build a dictionary over values [v0, v1) of a BYTE_ARRAY leaf; true when it pays
 * (dictionary + indexes below 75 % of the PLAIN size). */
static bool build_dict(struct gtp_parquet_writer *w, const struct gtp_pqenc_leaf *l, size_t v0,
                       size_t v1)
{
    size_t nv = v1 - v0;
    size_t want = 16;
    while (want < nv * 2)
        want *= 2;
    if (want > w->ht_cap) {
        free(w->ht);
        w->ht = gtp_xmalloc(want * sizeof(uint32_t));
        w->ht_cap = want;
    }
    size_t mask = want - 1;
    memset(w->ht, 0xFF, want * sizeof(uint32_t));
    gtp_pqenc_grow_u32(&w->dict_idx, &w->dict_idx_cap, nv);
    w->ndict = 0;
    w->dict_bytes = 0;
    uint64_t plain = 0;
    for (size_t v = v0; v < v1; v++) {
        size_t n;
        const uint8_t *s = gtp_pqenc_leaf_value(l, v, &n);
        plain += 4 + n;
        size_t slot = (size_t)hash_bytes(s, n) & mask;
        for (;;) {
            uint32_t d = w->ht[slot];
            if (d == UINT32_MAX) {
                gtp_pqenc_grow_u32(&w->dict_val, &w->dict_val_cap, w->ndict + 1);
                d = (uint32_t)w->ndict++;
                w->dict_val[d] = (uint32_t)v;
                w->ht[slot] = d;
                w->dict_bytes += 4 + n;
                if (w->dict_bytes > DICT_MAX_BYTES)
                    return false;
                w->dict_idx[v - v0] = d;
                break;
            }
            size_t dn;
            const uint8_t *ds = gtp_pqenc_leaf_value(l, w->dict_val[d], &dn);
            if (dn == n && memcmp(ds, s, n) == 0) {
                w->dict_idx[v - v0] = d;
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    int bw = gtp_pqenc_bit_width((uint32_t)(w->ndict - 1));
    uint64_t with_dict = w->dict_bytes + (nv * (uint64_t)(bw ? bw : 1) + 7) / 8 + 16;
    return with_dict * 4 < plain * 3;
}

/* ------------------------------------------------------------------------------------------
 * Pages */

/* Compress w->body and write header + body (see gtp_pqenc_page). */
static int emit_page(struct gtp_parquet_writer *w, struct gtp_pqenc_sink *s,
                     struct gtp_pqenc_chunk_meta *cm, int page_type, int32_t num_values,
                     int encoding, char *errstr, size_t errstr_size)
{
    /* The data page offset is where the first data page's header will start. */
    int64_t at = s->off;
    int err = gtp_pqenc_page(&w->pg, s, page_type, &w->body, num_values, encoding,
                             &cm->total_uncomp, &cm->total_comp, errstr, errstr_size);
    if (!err && page_type == GTP_PQENC_PAGE_DATA && cm->n_data_pages++ == 0)
        cm->data_off = at;
    return err;
}

/* Entry index where row r starts in leaf i. */
static size_t entry_of(const struct gtp_parquet_writer *w, int i, size_t r)
{
    return i == GTP_PARQUET_SKILLS_ARRAY ? w->skills_row[r] : r;
}

static void chunk_minmax(struct gtp_parquet_writer *w, int i, size_t v0, size_t v1,
                         struct gtp_pqenc_chunk_meta *cm)
{
    const struct gtp_pqenc_leaf *l = &w->leaves[i];
    cm->has_minmax = v1 > v0;
    if (!cm->has_minmax)
        return;
    if (LEAVES[i].type == PT_BYTE_ARRAY) {
        /* With a dictionary only the distinct values need comparing. */
        gtp_pqenc_leaf_minmax(l, cm->dict ? w->dict_val : NULL, cm->dict ? w->ndict : v1 - v0, v0,
                              &cm->min_v, &cm->max_v);
        return;
    }
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    for (size_t v = v0; v < v1; v++) {
        int64_t x;
        if (LEAVES[i].type == PT_INT64) {
            uint64_t u = 0;
            for (int k = 0; k < 8; k++)
                u |= (uint64_t)l->data.u[v * 8 + (size_t)k] << (8 * k);
            x = (int64_t)u;
        } else {
            x = l->data.u[v];
        }
        if (x < mn)
            mn = x;
        if (x > mx)
            mx = x;
    }
    cm->min_i = mn;
    cm->max_i = mx;
}

/* Write one column chunk: leaf i, rows [r0, r1), values starting at *vcur. */
static int write_chunk(struct gtp_parquet_writer *w, struct gtp_pqenc_sink *s, int i, size_t r0,
                       size_t r1, size_t *vcur, struct gtp_pqenc_chunk_meta *cm, char *errstr,
                       size_t errstr_size)
{
    const struct leaf_def *ld = &LEAVES[i];
    const struct gtp_pqenc_leaf *l = &w->leaves[i];
    size_t e0 = entry_of(w, i, r0), e1 = entry_of(w, i, r1);
    size_t v0 = *vcur, v1 = v0;
    int err;

    if (ld->max_def == 0) {
        v1 = v0 + (e1 - e0);
    } else {
        for (size_t e = e0; e < e1; e++)
            v1 += l->def.u[e] == ld->max_def;
    }
    memset(cm, 0, sizeof(*cm));
    cm->dict_off = -1;
    cm->start = s->off;
    cm->num_values = (int64_t)(e1 - e0);
    cm->null_count = (int64_t)((e1 - e0) - (v1 - v0));
    cm->dict = ld->type == PT_BYTE_ARRAY && ld->try_dict && !w->opts.no_dictionary && v1 > v0 &&
               build_dict(w, l, v0, v1);
    chunk_minmax(w, i, v0, v1, cm);

    int dict_bw = 0;
    if (cm->dict) {
        w->body.len = 0;
        for (size_t d = 0; d < w->ndict; d++) {
            size_t n;
            const uint8_t *p = gtp_pqenc_leaf_value(l, w->dict_val[d], &n);
            gtp_pqenc_put_u32(&w->body, (uint32_t)n);
            gtp_buf_put(&w->body, p, n);
        }
        cm->dict_off = s->off;
        err = emit_page(w, s, cm, GTP_PQENC_PAGE_DICTIONARY, (int32_t)w->ndict, GTP_PQENC_PLAIN,
                        errstr, errstr_size);
        if (err)
            return err;
        dict_bw = gtp_pqenc_bit_width((uint32_t)(w->ndict - 1));
        if (dict_bw == 0)
            dict_bw = 1;
    }

    /* Data pages, each starting on a row boundary. */
    size_t r = r0, pe0 = e0, pv0 = v0;
    while (r < r1) {
        size_t est = 0, pe = pe0, pv = pv0;
        do {
            size_t ee = entry_of(w, i, r + 1);
            for (; pe < ee; pe++) {
                est += 1;
                if (ld->max_def && l->def.u[pe] != ld->max_def)
                    continue;
                if (ld->type == PT_BYTE_ARRAY)
                    est += cm->dict ? 2 : 4 + (size_t)(l->off[pv + 1] - l->off[pv]);
                else if (ld->type == PT_INT64)
                    est += 8;
                pv++;
            }
            r++;
        } while (r < r1 && est < w->opts.page_bytes && pe - pe0 < PAGE_MAX_ENTRIES);

        struct gtp_buf *b = &w->body;
        b->len = 0;
        size_t ne = pe - pe0, nv = pv - pv0;
        if (ld->max_rep)
            gtp_pqenc_levels(b, l->rep.u + pe0, ne, ld->max_rep, &w->tmp32, &w->tmp32_cap);
        if (ld->max_def)
            gtp_pqenc_levels(b, l->def.u + pe0, ne, ld->max_def, &w->tmp32, &w->tmp32_cap);
        int enc = GTP_PQENC_PLAIN;
        if (cm->dict) {
            enc = GTP_PQENC_RLE_DICTIONARY;
            gtp_buf_putc(b, (uint8_t)dict_bw);
            gtp_pqenc_hybrid(b, w->dict_idx + (pv0 - v0), nv, dict_bw);
        } else if (ld->type == PT_BYTE_ARRAY) {
            gtp_buf_reserve(b, (size_t)(l->off[pv] - l->off[pv0]) + 4 * nv);
            for (size_t v = pv0; v < pv; v++) {
                size_t n;
                const uint8_t *p = gtp_pqenc_leaf_value(l, v, &n);
                gtp_pqenc_le32(b->u + b->len, (uint32_t)n);
                memcpy(b->u + b->len + 4, p, n);
                b->len += 4 + n;
            }
        } else if (ld->type == PT_INT64) {
            gtp_buf_put(b, l->data.u + pv0 * 8, nv * 8);
        } else { /* BOOLEAN: bit-packed LSB first, no length */
            size_t nbytes = (nv + 7) / 8;
            gtp_buf_reserve(b, nbytes);
            memset(b->u + b->len, 0, nbytes);
            for (size_t k = 0; k < nv; k++)
                if (l->data.u[pv0 + k])
                    b->u[b->len + k / 8] |= (uint8_t)(1u << (k % 8));
            b->len += nbytes;
        }
        err = emit_page(w, s, cm, GTP_PQENC_PAGE_DATA, (int32_t)ne, enc, errstr, errstr_size);
        if (err)
            return err;
        pe0 = pe;
        pv0 = pv;
    }
    *vcur = v1;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Footer */

static void write_schema(struct gtp_thrift *t)
{
    gtp_pqenc_schema_root(t, 1 + NLEAVES + 2, NLEAVES);
    for (int i = 0; i < NLEAVES; i++) {
        const struct leaf_def *ld = &LEAVES[i];
        if (i == GTP_PARQUET_SKILLS_ARRAY) {
            /* LogicalTypes.md's 3-level list: optional group (LIST) > repeated group list >
             * optional element */
            gtp_pqenc_schema_elem(t, ld->name, -1, REP_OPTIONAL, 1, GTP_PQENC_LT_LIST);
            gtp_pqenc_schema_elem(t, "list", -1, REP_REPEATED, 1, GTP_PQENC_LT_NONE);
            gtp_pqenc_schema_elem(t, "element", PT_BYTE_ARRAY, REP_OPTIONAL, 0,
                                  GTP_PQENC_LT_STRING);
        } else {
            enum gtp_pqenc_logical lt = ld->type == PT_BYTE_ARRAY ? GTP_PQENC_LT_STRING
                                        : ld->type == PT_INT64    ? GTP_PQENC_LT_TIMESTAMP_MICROS
                                                                  : GTP_PQENC_LT_NONE;
            gtp_pqenc_schema_elem(t, ld->name, ld->type, ld->repetition, 0, lt);
        }
    }
}

static void write_column_chunk(struct gtp_parquet_writer *w, struct gtp_thrift *t, int i,
                               const struct gtp_pqenc_chunk_meta *cm)
{
    static const char *const skills_path[] = {"skills_array", "list", "element"};
    const char *const *path = &LEAVES[i].name;
    size_t npath = 1;
    if (i == GTP_PARQUET_SKILLS_ARRAY) {
        path = skills_path;
        npath = GTP_ARRAY_LEN(skills_path);
    }
    gtp_pqenc_column_chunk(t, cm, LEAVES[i].type, &w->leaves[i], path, npath, w->opts.codec);
}

static void footer_chunk(void *ctx, struct gtp_thrift *t, size_t g, size_t i,
                         struct gtp_pqenc_chunk_sizes *sz)
{
    struct gtp_parquet_writer *w = ctx;
    const struct gtp_pqenc_chunk_meta *cm = &w->chunks[g * NLEAVES + i];
    write_column_chunk(w, t, (int)i, cm);
    *sz = (struct gtp_pqenc_chunk_sizes){cm->start, cm->total_uncomp, cm->total_comp};
}

static void write_footer(struct gtp_parquet_writer *w, struct gtp_pqenc_sink *s, size_t nrg)
{
    struct gtp_thrift *t = &w->pg.th;
    gtp_thrift_reset(t);
    gtp_thrift_i32(t, 1, 1);
    write_schema(t);
    gtp_thrift_i64(t, 3, (int64_t)w->nrows);
    gtp_pqenc_row_groups(t, nrg, NLEAVES, w->nrows, w->opts.row_group_rows, footer_chunk, w);
    gtp_pqenc_footer_finish(t, s, w->created_by, (size_t)NLEAVES);
}

/* ------------------------------------------------------------------------------------------
 * File statistics for the caller (Delta add.stats) */

static void fill_stats(struct gtp_parquet_writer *w, size_t nrg, int64_t size,
                       struct gtp_parquet_file_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->num_rows = (int64_t)w->nrows;
    st->file_size = size;
    st->num_row_groups = (int)nrg;
    for (int i = 0; i < NLEAVES; i++) {
        struct gtp_parquet_col_stats *cs = &st->cols[i];
        const struct gtp_pqenc_leaf *l = &w->leaves[i];
        cs->null_count = w->col_nulls[i];
        if (i == GTP_PARQUET_SKILLS_ARRAY)
            continue; /* no min/max for arrays in Delta stats */
        const struct gtp_pqenc_chunk_meta *best_mn = NULL, *best_mx = NULL;
        for (size_t g = 0; g < nrg; g++) {
            const struct gtp_pqenc_chunk_meta *cm = &w->chunks[g * NLEAVES + (size_t)i];
            if (!cm->has_minmax)
                continue;
            if (LEAVES[i].type == PT_BYTE_ARRAY) {
                size_t a, b;
                const uint8_t *pa, *pb;
                if (!best_mn) {
                    best_mn = best_mx = cm;
                    continue;
                }
                pa = gtp_pqenc_leaf_value(l, cm->min_v, &a);
                pb = gtp_pqenc_leaf_value(l, best_mn->min_v, &b);
                if (gtp_pqenc_bytes_cmp(pa, a, pb, b) < 0)
                    best_mn = cm;
                pa = gtp_pqenc_leaf_value(l, cm->max_v, &a);
                pb = gtp_pqenc_leaf_value(l, best_mx->max_v, &b);
                if (gtp_pqenc_bytes_cmp(pa, a, pb, b) > 0)
                    best_mx = cm;
            } else {
                if (!best_mn || cm->min_i < best_mn->min_i)
                    best_mn = cm;
                if (!best_mx || cm->max_i > best_mx->max_i)
                    best_mx = cm;
            }
        }
        if (!best_mn)
            continue;
        cs->has_minmax = true;
        if (LEAVES[i].type == PT_BYTE_ARRAY) {
            const uint8_t *p = gtp_pqenc_leaf_value(l, best_mn->min_v, &cs->min_len);
            cs->min = gtp_xmemdup(p, cs->min_len); /* values may hold NULs */
            p = gtp_pqenc_leaf_value(l, best_mx->max_v, &cs->max_len);
            cs->max = gtp_xmemdup(p, cs->max_len);
        } else {
            cs->min_i64 = best_mn->min_i;
            cs->max_i64 = best_mx->max_i;
        }
    }
}

void gtp_parquet_file_stats_fini(struct gtp_parquet_file_stats *stats)
{
    if (!stats)
        return;
    for (int i = 0; i < GTP_PARQUET_NCOLS; i++) {
        free(stats->cols[i].min);
        free(stats->cols[i].max);
        stats->cols[i].min = stats->cols[i].max = NULL;
    }
}

/* ------------------------------------------------------------------------------------------
 * Writing files */

/* Everything of gtp_parquet_write_fd except the reset. */
static int write_fd(struct gtp_parquet_writer *w, int fd, struct gtp_parquet_file_stats *stats,
                    char *errstr, size_t errstr_size)
{
    struct gtp_pqenc_sink s = {.fd = fd};
    size_t rgrows = w->opts.row_group_rows;
    size_t nrg = (w->nrows + rgrows - 1) / rgrows;
    size_t vcur[NLEAVES] = {0};
    int err = 0;

    if (nrg * NLEAVES > w->chunks_cap) {
        w->chunks_cap = nrg * NLEAVES;
        w->chunks = gtp_xrealloc(w->chunks, w->chunks_cap * sizeof(*w->chunks));
    }
    gtp_pqenc_sink_put(&s, "PAR1", 4);
    for (size_t g = 0; g < nrg && !err && !s.err; g++) {
        size_t r0 = g * rgrows, r1 = r0 + rgrows < w->nrows ? r0 + rgrows : w->nrows;
        for (int i = 0; i < NLEAVES && !err; i++)
            err = write_chunk(w, &s, i, r0, r1, &vcur[i], &w->chunks[g * NLEAVES + (size_t)i],
                              errstr, errstr_size);
    }
    if (err)
        goto out;
    write_footer(w, &s, nrg);
    gtp_pqenc_sink_flush(&s);
    if (s.err) {
        err = gtp_pqenc_io_error(s.err, "write", errstr, errstr_size);
        goto out;
    }
    if (stats)
        fill_stats(w, nrg, s.off, stats);
out:
    free(s.b.u);
    return err;
}

int gtp_parquet_write_fd(struct gtp_parquet_writer *w, int fd, struct gtp_parquet_file_stats *stats,
                         char *errstr, size_t errstr_size)
{
    int err = write_fd(w, fd, stats, errstr, errstr_size);
    if (!err)
        gtp_parquet_reset(w);
    return err;
}

struct publish_ctx {
    struct gtp_parquet_writer *w;
    struct gtp_parquet_file_stats st;
};

static int publish_write(void *ctx, int fd, char *errstr, size_t errstr_size)
{
    struct publish_ctx *pc = ctx;
    return write_fd(pc->w, fd, &pc->st, errstr, errstr_size);
}

int gtp_parquet_write_file(struct gtp_parquet_writer *w, const char *dir, const char *name,
                           struct gtp_parquet_file_stats *stats, char *errstr, size_t errstr_size)
{
    struct publish_ctx pc = {.w = w};
    int err = gtp_pqenc_publish(dir, name, publish_write, &pc, errstr, errstr_size);
    if (err)
        goto out;
    gtp_parquet_reset(w);
    if (stats) {
        *stats = pc.st;
        memset(&pc.st, 0, sizeof(pc.st));
    }
out:
    gtp_parquet_file_stats_fini(&pc.st);
    return err;
}
