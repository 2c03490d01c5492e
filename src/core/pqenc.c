/* Encoding mechanisms shared by the Parquet writers (see include/gtp/pqenc.h): column
 * buffers, the RLE / bit-packed hybrid, page compression and headers, the file sink and the
 * atomic publish. The footer's metadata is in pqmeta.c. */
#include "gtp/pqenc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gtp/err.h"
#include "gtp/util.h"

#define SINK_BUF (1u << 20)

/* ------------------------------------------------------------------------------------------
 * Plain values */

void gtp_pqenc_put_u32(struct gtp_buf *b, uint32_t v)
{
    gtp_buf_reserve(b, 4);
    gtp_pqenc_le32(b->u + b->len, v);
    b->len += 4;
}

void gtp_pqenc_grow_u32(uint32_t **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    *p = gtp_xrealloc(*p, c * sizeof(uint32_t));
    *cap = c;
}

/* ------------------------------------------------------------------------------------------
 * Column buffers */

void gtp_pqenc_leaf_init(struct gtp_pqenc_leaf *l, size_t off_cap)
{
    *l = (struct gtp_pqenc_leaf){0};
    l->off_cap = off_cap < 2 ? 2 : off_cap;
    l->off = gtp_xmalloc(l->off_cap * sizeof(uint64_t));
    l->off[0] = 0;
    gtp_buf_reserve(&l->data, 64);
    gtp_buf_reserve(&l->def, 64);
    gtp_buf_reserve(&l->rep, 64);
}

void gtp_pqenc_leaf_fini(struct gtp_pqenc_leaf *l)
{
    gtp_buf_fini(&l->def);
    gtp_buf_fini(&l->rep);
    gtp_buf_fini(&l->data);
    free(l->off);
    l->off = NULL;
}

void gtp_pqenc_leaf_reset(struct gtp_pqenc_leaf *l)
{
    l->def.len = l->rep.len = l->data.len = 0;
    l->nentries = l->nvals = l->nulls = 0;
    l->off[0] = 0;
}

void gtp_pqenc_leaf_put(struct gtp_pqenc_leaf *l, const void *p, size_t n, bool byte_array)
{
    gtp_buf_put(&l->data, p, n);
    if (byte_array) {
        if (l->nvals + 2 > l->off_cap) {
            l->off_cap *= 2;
            l->off = gtp_xrealloc(l->off, l->off_cap * sizeof(uint64_t));
        }
        l->off[l->nvals + 1] = l->data.len;
    }
    l->nvals++;
}

int gtp_pqenc_bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

void gtp_pqenc_leaf_minmax(const struct gtp_pqenc_leaf *l, const uint32_t *vals, size_t n,
                           size_t v0, size_t *min_v, size_t *max_v)
{
    size_t mn = vals ? vals[0] : v0, mx = mn, mnl, mxl;
    const uint8_t *mns = gtp_pqenc_leaf_value(l, mn, &mnl), *mxs = mns;
    mxl = mnl;
    for (size_t k = 1; k < n; k++) {
        size_t v = vals ? vals[k] : v0 + k, len;
        const uint8_t *p = gtp_pqenc_leaf_value(l, v, &len);
        if (gtp_pqenc_bytes_cmp(p, len, mns, mnl) < 0) {
            mn = v;
            mns = p;
            mnl = len;
        }
        if (gtp_pqenc_bytes_cmp(p, len, mxs, mxl) > 0) {
            mx = v;
            mxs = p;
            mxl = len;
        }
    }
    *min_v = mn;
    *max_v = mx;
}

/* ------------------------------------------------------------------------------------------
 * RLE / bit-packed hybrid */

int gtp_pqenc_bit_width(uint32_t max)
{
    return max ? 32 - __builtin_clz(max) : 0;
}

/* Bit-pack n values (zero padded to ngroups*8) LSB first, bw bits each. */
static void bitpack(struct gtp_buf *out, const uint32_t *v, size_t n, size_t ngroups, int bw)
{
    gtp_buf_reserve(out, ngroups * (size_t)bw);
    uint8_t *p = out->u + out->len;
    uint64_t acc = 0;
    int nb = 0;
    for (size_t i = 0; i < ngroups * 8; i++) {
        acc |= (uint64_t)(i < n ? v[i] : 0) << nb;
        nb += bw;
        while (nb >= 8) {
            *p++ = (uint8_t)acc;
            acc >>= 8;
            nb -= 8;
        }
    }
    out->len += ngroups * (size_t)bw;
}

/* A bit-packed run stops where 8 equal values start, so long runs still go RLE; it only
 * pads its last group at the very end of the data (readers stop after num_values). */
void gtp_pqenc_hybrid(struct gtp_buf *out, const uint32_t *v, size_t n, int bw)
{
    int vbytes = (bw + 7) / 8;
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && v[j] == v[i])
            j++;
        if (j - i >= 8) {
            gtp_buf_varint(out, (uint64_t)(j - i) << 1);
            for (int k = 0; k < vbytes; k++)
                gtp_buf_putc(out, (uint8_t)(v[i] >> (8 * k)));
            i = j;
            continue;
        }
        size_t start = i, groups = 0;
        for (;;) {
            i += 8;
            groups++;
            if (i >= n)
                break;
            size_t k = i + 1;
            while (k < n && k - i < 8 && v[k] == v[i])
                k++;
            if (k - i >= 8)
                break;
        }
        gtp_buf_varint(out, ((uint64_t)groups << 1) | 1);
        bitpack(out, v + start, (i > n ? n : i) - start, groups, bw);
        if (i > n)
            i = n;
    }
}

void gtp_pqenc_levels(struct gtp_buf *out, const uint8_t *lv, size_t n, int max, uint32_t **tmp,
                      size_t *tmp_cap)
{
    gtp_pqenc_grow_u32(tmp, tmp_cap, n);
    for (size_t i = 0; i < n; i++)
        (*tmp)[i] = lv[i];
    size_t at = out->len;
    gtp_pqenc_put_u32(out, 0);
    gtp_pqenc_hybrid(out, *tmp, n, gtp_pqenc_bit_width((uint32_t)max));
    gtp_pqenc_le32(out->u + at, (uint32_t)(out->len - at - 4));
}

/* ------------------------------------------------------------------------------------------
 * Output sink */

void gtp_pqenc_sink_flush(struct gtp_pqenc_sink *s)
{
    size_t done = 0;
    while (!s->err && done < s->b.len) {
        ssize_t n = write(s->fd, s->b.u + done, s->b.len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            s->err = errno;
            break;
        }
        done += (size_t)n;
    }
    s->b.len = 0;
}

void gtp_pqenc_sink_put(struct gtp_pqenc_sink *s, const void *p, size_t n)
{
    if (s->err)
        return;
    if (s->b.len + n > SINK_BUF)
        gtp_pqenc_sink_flush(s);
    s->off += (int64_t)n;
    if (n >= SINK_BUF) {
        /* Large page bodies go straight through. */
        const uint8_t *q = p;
        while (!s->err && n > 0) {
            ssize_t k = write(s->fd, q, n);
            if (k < 0) {
                if (errno == EINTR)
                    continue;
                s->err = errno;
                break;
            }
            q += k;
            n -= (size_t)k;
        }
        return;
    }
    gtp_buf_put(&s->b, p, n);
}

/* ------------------------------------------------------------------------------------------
 * Pages */

int gtp_pqenc_pager_init(struct gtp_pqenc_pager *pg, enum gtp_parquet_codec codec, int zstd_level)
{
    memset(pg, 0, sizeof(*pg));
    pg->codec = codec;
    pg->zstd_level = zstd_level;
    gtp_thrift_init(&pg->th);
    pg->zc = ZSTD_createCCtx();
    return pg->zc ? 0 : GTP_ERR_INTERNAL;
}

void gtp_pqenc_pager_fini(struct gtp_pqenc_pager *pg)
{
    if (!pg)
        return;
    ZSTD_freeCCtx(pg->zc);
    gtp_buf_fini(&pg->cbody);
    gtp_thrift_fini(&pg->th);
    pg->zc = NULL;
}

static int compress_body(struct gtp_pqenc_pager *pg, const struct gtp_buf *b, const uint8_t **out,
                         size_t *out_len, char *errstr, size_t errstr_size)
{
    switch (pg->codec) {
    case GTP_PARQUET_UNCOMPRESSED:
        *out = b->u;
        *out_len = b->len;
        return 0;
    case GTP_PARQUET_ZSTD: {
        size_t bound = ZSTD_compressBound(b->len);
        pg->cbody.len = 0;
        gtp_buf_reserve(&pg->cbody, bound);
        size_t r = ZSTD_compressCCtx(pg->zc, pg->cbody.u, bound, b->u, b->len, pg->zstd_level);
        if (ZSTD_isError(r)) {
            gtp_errf(errstr, errstr_size, "zstd: %s", ZSTD_getErrorName(r));
            return GTP_ERR_INTERNAL;
        }
        *out = pg->cbody.u;
        *out_len = r;
        return 0;
    }
    case GTP_PARQUET_SNAPPY: {
        size_t bound = snappy_max_compressed_length(b->len);
        pg->cbody.len = 0;
        gtp_buf_reserve(&pg->cbody, bound);
        size_t r = bound;
        if (snappy_compress((const char *)b->u, b->len, (char *)pg->cbody.u, &r) != SNAPPY_OK) {
            gtp_errf(errstr, errstr_size, "snappy compression failed");
            return GTP_ERR_INTERNAL;
        }
        *out = pg->cbody.u;
        *out_len = r;
        return 0;
    }
    }
    return GTP_ERR_INTERNAL;
}

int gtp_pqenc_page(struct gtp_pqenc_pager *pg, struct gtp_pqenc_sink *s, int page_type,
                   const struct gtp_buf *body, int32_t num_values, int encoding, int64_t *uncomp,
                   int64_t *comp, char *errstr, size_t errstr_size)
{
    const uint8_t *stored;
    size_t stored_len;
    if (body->len > INT32_MAX) {
        gtp_errf(errstr, errstr_size, "page of %zu bytes is too large", body->len);
        return GTP_ERR_INTERNAL;
    }
    int err = compress_body(pg, body, &stored, &stored_len, errstr, errstr_size);
    if (err)
        return err;
    if (stored_len > INT32_MAX) {
        gtp_errf(errstr, errstr_size, "compressed page of %zu bytes is too large", stored_len);
        return GTP_ERR_INTERNAL;
    }
    struct gtp_thrift *t = &pg->th;
    gtp_thrift_reset(t);
    gtp_thrift_i32(t, 1, page_type);
    gtp_thrift_i32(t, 2, (int32_t)body->len);
    gtp_thrift_i32(t, 3, (int32_t)stored_len);
    if (page_type == GTP_PQENC_PAGE_DATA) {
        gtp_thrift_struct_begin(t, 5);
        gtp_thrift_i32(t, 1, num_values);
        gtp_thrift_i32(t, 2, encoding);
        gtp_thrift_i32(t, 3, GTP_PQENC_RLE);
        gtp_thrift_i32(t, 4, GTP_PQENC_RLE);
        gtp_thrift_struct_end(t);
    } else {
        gtp_thrift_struct_begin(t, 7);
        gtp_thrift_i32(t, 1, num_values);
        gtp_thrift_i32(t, 2, GTP_PQENC_PLAIN);
        gtp_thrift_struct_end(t);
    }
    gtp_thrift_end(t);
    gtp_pqenc_sink_put(s, t->data, t->len);
    gtp_pqenc_sink_put(s, stored, stored_len);
    *uncomp += (int64_t)(t->len + body->len);
    *comp += (int64_t)(t->len + stored_len);
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Files */

int gtp_pqenc_io_error(int e, const char *what, char *errstr, size_t errstr_size)
{
    gtp_errf(errstr, errstr_size, "%s: %s", what, strerror(e));
    return (e == ENOSPC || e == EDQUOT) ? GTP_ERR_NOSPACE : GTP_ERR_IO;
}

int gtp_pqenc_publish(const char *dir, const char *name, gtp_pqenc_write_fn write_fn, void *ctx,
                      char *errstr, size_t errstr_size)
{
    char *tmp = NULL, *dst = NULL;
    int fd = -1, dfd = -1, err = 0;

    if (!name[0] || strchr(name, '/') || name[0] == '.') {
        gtp_errf(errstr, errstr_size, "bad file name '%s'", name);
        return GTP_ERR_INVAL;
    }
    size_t n = strlen(dir) + strlen(name) + 16;
    tmp = gtp_xmalloc(n);
    dst = gtp_xmalloc(n);
    /* Leading '.' hides the temp file from Spark/Hive/pyarrow/Delta; no .parquet suffix
     * keeps it out of '*.parquet' globs. */
    snprintf(tmp, n, "%s/.%s.tmp", dir, name);
    snprintf(dst, n, "%s/%s", dir, name);

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        err = gtp_pqenc_io_error(errno, tmp, errstr, errstr_size);
        goto out;
    }
    err = write_fn(ctx, fd, errstr, errstr_size);
    if (err)
        goto out;
    if (fsync(fd) != 0) {
        err = gtp_pqenc_io_error(errno, "fsync", errstr, errstr_size);
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        err = gtp_pqenc_io_error(errno, "close", errstr, errstr_size);
        goto out;
    }
    fd = -1;
    if (rename(tmp, dst) != 0) {
        err = gtp_pqenc_io_error(errno, dst, errstr, errstr_size);
        goto out;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        err = gtp_pqenc_io_error(errno, dir, errstr, errstr_size);
        goto out;
    }
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (err)
        unlink(tmp);
    free(tmp);
    free(dst);
    return err;
}

int gtp_pqenc_opts_resolve(const struct gtp_parquet_opts *opts, struct gtp_parquet_opts *out,
                           char *created_by, size_t created_by_size)
{
    struct gtp_parquet_opts o;
    if (opts)
        o = *opts;
    else
        gtp_parquet_opts_default(&o);
    if (o.codec != GTP_PARQUET_ZSTD && o.codec != GTP_PARQUET_SNAPPY &&
        o.codec != GTP_PARQUET_UNCOMPRESSED)
        return -1;
    if (o.row_group_rows == 0 || o.row_group_rows > INT32_MAX)
        return -1;
    if (o.page_bytes == 0 || o.page_bytes > (256u << 20))
        return -1;
    if (o.zstd_level < ZSTD_minCLevel() || o.zstd_level > ZSTD_maxCLevel())
        return -1;
    snprintf(created_by, created_by_size, "gtp version %s (build %s)", GTP_VERSION,
             o.build && *o.build ? o.build : "dev");
    o.build = NULL;
    *out = o;
    return 0;
}

void gtp_pqenc_row_groups(struct gtp_thrift *t, size_t nrg, size_t nleaves, size_t nrows,
                          size_t rgrows, gtp_pqenc_chunk_fn chunk, void *ctx)
{
    gtp_thrift_list_begin(t, 4, GTP_THRIFT_STRUCT, nrg);
    for (size_t g = 0; g < nrg; g++) {
        size_t r0 = g * rgrows, r1 = r0 + rgrows < nrows ? r0 + rgrows : nrows;
        int64_t uncomp = 0, comp = 0, start = 0;
        gtp_thrift_elem_struct_begin(t);
        gtp_thrift_list_begin(t, 1, GTP_THRIFT_STRUCT, nleaves);
        for (size_t i = 0; i < nleaves; i++) {
            struct gtp_pqenc_chunk_sizes sz;
            chunk(ctx, t, g, i, &sz);
            if (i == 0)
                start = sz.start;
            uncomp += sz.total_uncomp;
            comp += sz.total_comp;
        }
        gtp_thrift_i64(t, 2, uncomp);
        gtp_thrift_i64(t, 3, (int64_t)(r1 - r0));
        gtp_thrift_i64(t, 5, start);
        gtp_thrift_i64(t, 6, comp);
        gtp_thrift_i16(t, 7, (int16_t)g);
        gtp_thrift_struct_end(t);
    }
}

void gtp_pqenc_footer_finish(struct gtp_thrift *t, struct gtp_pqenc_sink *s, const char *created_by,
                             size_t nleaves)
{
    uint8_t tail[8];
    gtp_thrift_string(t, 6, created_by);
    gtp_thrift_list_begin(t, 7, GTP_THRIFT_STRUCT, nleaves);
    for (size_t i = 0; i < nleaves; i++) {
        gtp_thrift_elem_struct_begin(t);
        gtp_thrift_empty_struct(t, 1); /* TYPE_ORDER */
        gtp_thrift_struct_end(t);
    }
    gtp_thrift_end(t);
    gtp_pqenc_le32(tail, (uint32_t)t->len);
    memcpy(tail + 4, "PAR1", 4);
    gtp_pqenc_sink_put(s, t->data, t->len);
    gtp_pqenc_sink_put(s, tail, 8);
}
