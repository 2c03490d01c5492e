/* Encoding mechanisms shared by the two Parquet writers (the archive writer in parquet.c and
 * the schema-driven nested writer in pqnested.c), writing into gtp_buf (buf.h): the RLE /
 * bit-packed hybrid for levels and dictionary indexes, page compression plus page header,
 * a buffered file sink that remembers its first error, and the atomic publish of a file.
 * Why each format choice: docs/parquet.md.
 *
 * Internal to the core: the layout of the structs is visible so writers can embed them.
 * Allocation aborts on OOM. Not thread safe: one of each per writer. */
#ifndef GTP_PQENC_H
#define GTP_PQENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "gtp/buf.h"
#include "gtp/parquet.h"
#include "gtp/thrift.h"

/* Parquet enum values (parquet.thrift) the writers share. */
enum { GTP_PQENC_PAGE_DATA = 0, GTP_PQENC_PAGE_DICTIONARY = 2 };
enum { GTP_PQENC_PLAIN = 0, GTP_PQENC_RLE = 3, GTP_PQENC_RLE_DICTIONARY = 8 };
enum { GTP_PQENC_BOOLEAN = 0, GTP_PQENC_INT32 = 1, GTP_PQENC_INT64 = 2, GTP_PQENC_BYTE_ARRAY = 6 };
enum { GTP_PQENC_REQUIRED = 0, GTP_PQENC_OPTIONAL = 1, GTP_PQENC_REPEATED = 2 };

static inline void gtp_pqenc_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void gtp_pqenc_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Append v as 4 little-endian bytes (a PLAIN BYTE_ARRAY length prefix). */
void gtp_pqenc_put_u32(struct gtp_buf *b, uint32_t v);

/* Grow *p (an array of uint32_t with *cap entries) to hold at least need entries. */
void gtp_pqenc_grow_u32(uint32_t **p, size_t *cap, size_t need);

/* ------------------------------------------------------------------------------------------
 * Column buffers: one leaf column's rows as Dremel levels and values, before a write. */
struct gtp_pqenc_leaf {
    struct gtp_buf def; /* one byte per level entry, when the leaf's max_def > 0 */
    struct gtp_buf rep; /* one byte per level entry, when the leaf's max_rep > 0 */
    size_t nentries;
    struct gtp_buf data; /* BYTE_ARRAY bytes, LE int32/int64s, or one byte per boolean */
    uint64_t *off;       /* BYTE_ARRAY: value v is data[off[v], off[v + 1]) */
    size_t off_cap;
    size_t nvals;
    size_t nulls; /* entries with def < max_def, for writers that count them as they go */
};

/* Allocate room for off_cap values (at least 2); every buffer is non-NULL afterwards, so an
 * empty value still points into one (memcmp/memcpy). Release with gtp_pqenc_leaf_fini. */
void gtp_pqenc_leaf_init(struct gtp_pqenc_leaf *l, size_t off_cap);
void gtp_pqenc_leaf_fini(struct gtp_pqenc_leaf *l);
/* Forget every entry and value, keeping the memory. */
void gtp_pqenc_leaf_reset(struct gtp_pqenc_leaf *l);

/* Append one value of n bytes (copied): a BYTE_ARRAY value also gets its end offset. */
void gtp_pqenc_leaf_put(struct gtp_pqenc_leaf *l, const void *p, size_t n, bool byte_array);

/* BYTE_ARRAY value v: its bytes (borrowed from the leaf) and length. */
static inline const uint8_t *gtp_pqenc_leaf_value(const struct gtp_pqenc_leaf *l, size_t v,
                                                  size_t *n)
{
    *n = (size_t)(l->off[v + 1] - l->off[v]);
    return l->data.u + l->off[v];
}

/* The smallest and largest (byte-wise order, first of equals) of n BYTE_ARRAY values of l:
 * values vals[0..n) when vals is given, else v0..v0+n. n >= 1. */
void gtp_pqenc_leaf_minmax(const struct gtp_pqenc_leaf *l, const uint32_t *vals, size_t n,
                           size_t v0, size_t *min_v, size_t *max_v);

/* Unsigned byte-wise order of BYTE_ARRAY values (Parquet's order for UTF8 statistics). */
int gtp_pqenc_bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

/* ------------------------------------------------------------------------------------------
 * RLE / bit-packed hybrid (docs/parquet.md) */

/* Bits needed for values 0..max (0 for max 0). */
int gtp_pqenc_bit_width(uint32_t max);

/* Append n values of bw bits: RLE runs for >= 8 repeats, bit-packed groups otherwise
 * (only the very last group is zero padded). No length prefix. */
void gtp_pqenc_hybrid(struct gtp_buf *out, const uint32_t *v, size_t n, int bw);

/* The levels section of a v1 data page: u32 LE byte length, then the hybrid encoding of
 * the n levels lv[] with the bit width of max. *tmp / *tmp_cap is the caller's scratch
 * array (grown here; the caller frees *tmp). */
void gtp_pqenc_levels(struct gtp_buf *out, const uint8_t *lv, size_t n, int max, uint32_t **tmp,
                      size_t *tmp_cap);

/* ------------------------------------------------------------------------------------------
 * Output sink: buffered write(2) that remembers the first error, so a writer checks once
 * at the end. off counts every byte handed over: the absolute file offset of the next put. */
struct gtp_pqenc_sink {
    int fd;
    struct gtp_buf b;
    int64_t off; /* bytes produced so far (written + buffered) */
    int err;     /* errno of the first failure, 0 if none */
};

/* Initialise with {.fd = fd}; release b with gtp_buf_fini after the last flush. */
void gtp_pqenc_sink_put(struct gtp_pqenc_sink *s, const void *p, size_t n);
void gtp_pqenc_sink_flush(struct gtp_pqenc_sink *s);

/* ------------------------------------------------------------------------------------------
 * Pages: compress a body and write PageHeader + stored body to a sink. */
struct gtp_pqenc_pager {
    enum gtp_parquet_codec codec;
    int zstd_level;
    ZSTD_CCtx *zc;        /* owned */
    struct gtp_buf cbody; /* compressed body scratch */
    struct gtp_thrift th; /* page header scratch; writers may reuse it for the footer */
};

/* Returns 0, or GTP_ERR_INTERNAL when zstd cannot allocate its context. On error the pager
 * still needs gtp_pqenc_pager_fini. */
int gtp_pqenc_pager_init(struct gtp_pqenc_pager *pg, enum gtp_parquet_codec codec, int zstd_level);
void gtp_pqenc_pager_fini(struct gtp_pqenc_pager *pg); /* accepts NULL */

/* Write one page of type GTP_PQENC_PAGE_DATA (data page v1: num_values level entries, value
 * encoding `encoding`, RLE levels) or GTP_PQENC_PAGE_DICTIONARY (num_values dictionary
 * entries, PLAIN). body is borrowed. *uncomp and *comp grow by header + raw body and
 * header + stored body bytes. Returns 0, or GTP_ERR_INTERNAL (page over 2 GiB, compression
 * failure) with the reason in errstr. Write errors are left in s->err. */
int gtp_pqenc_page(struct gtp_pqenc_pager *pg, struct gtp_pqenc_sink *s, int page_type,
                   const struct gtp_buf *body, int32_t num_values, int encoding, int64_t *uncomp,
                   int64_t *comp, char *errstr, size_t errstr_size);

/* ------------------------------------------------------------------------------------------
 * Files */

/* A writer's options: opts (NULL: the defaults) into *out, checked (codec, row group rows,
 * page bytes, zstd level), and the created_by string parquet-java trusts BYTE_ARRAY
 * statistics from ("<app> version <semver> (build <id>)") into created_by. out->build is
 * cleared (borrowed: a writer does not keep it). Returns 0, or -1 for options out of range. */
int gtp_pqenc_opts_resolve(const struct gtp_parquet_opts *opts, struct gtp_parquet_opts *out,
                           char *created_by, size_t created_by_size);

/* ------------------------------------------------------------------------------------------
 * Footer metadata (pqmeta.c) */

/* Logical types a SchemaElement may carry (with the matching legacy ConvertedType). */
enum gtp_pqenc_logical {
    GTP_PQENC_LT_NONE,
    GTP_PQENC_LT_STRING,
    GTP_PQENC_LT_TIMESTAMP_MICROS, /* isAdjustedToUTC */
    GTP_PQENC_LT_DATE,
    GTP_PQENC_LT_LIST,
    GTP_PQENC_LT_MAP,
};

/* Begin FileMetaData's schema (field 2) with nelems elements, the root included, and write
 * the root: nkids children, no type and no repetition (DuckDB rejects a root that has one). */
void gtp_pqenc_schema_root(struct gtp_thrift *t, size_t nelems, size_t nkids);

/* One SchemaElement as a list element: a leaf of physical type type (a GTP_PQENC_BOOLEAN..
 * value) when nkids is 0 and type >= 0, else a group of nkids children (type < 0); rep is
 * GTP_PQENC_REQUIRED/OPTIONAL/REPEATED; name is borrowed. */
void gtp_pqenc_schema_elem(struct gtp_thrift *t, const char *name, int type, int rep, size_t nkids,
                           enum gtp_pqenc_logical lt);

/* What the footer needs of one written column chunk. */
struct gtp_pqenc_chunk_meta {
    int64_t start;    /* file offset of its first page */
    int64_t dict_off; /* with dict: the dictionary page's offset */
    int64_t data_off; /* the first data page's offset */
    int64_t total_uncomp;
    int64_t total_comp;
    int64_t num_values; /* level entries */
    int64_t null_count; /* entries with def < max_def */
    int n_data_pages;
    bool dict;           /* a dictionary page, then RLE_DICTIONARY data pages; else PLAIN */
    bool has_minmax;     /* at least one non-null value */
    size_t min_v, max_v; /* BYTE_ARRAY: value indexes into the leaf */
    int64_t min_i, max_i;
};

/* ColumnChunk (as a list element) of a chunk of physical type type written from leaf l (its
 * BYTE_ARRAY min/max values are read from it), with path_in_schema path[0..npath) and
 * codec: ColumnMetaData, Statistics (min_value/max_value; the legacy signed-order min/max
 * only for the integer types, where they mean the same) and encoding_stats. */
void gtp_pqenc_column_chunk(struct gtp_thrift *t, const struct gtp_pqenc_chunk_meta *cm, int type,
                            const struct gtp_pqenc_leaf *l, const char *const *path, size_t npath,
                            enum gtp_parquet_codec codec);

/* What a footer needs of one written column chunk. */
struct gtp_pqenc_chunk_sizes {
    int64_t start;        /* file offset of its first page */
    int64_t total_uncomp; /* bytes of its pages, headers included, before compression */
    int64_t total_comp;   /* the same after compression */
};

/* Write ColumnChunk i of row group g into t (as a list element) and give its sizes. */
typedef void (*gtp_pqenc_chunk_fn)(void *ctx, struct gtp_thrift *t, size_t g, size_t i,
                                   struct gtp_pqenc_chunk_sizes *sizes);

/* FileMetaData's row_groups (field 4) into t: nrg groups of nleaves chunks, each written by
 * chunk; every group holds rgrows rows but the last, which holds the rest of nrows. */
void gtp_pqenc_row_groups(struct gtp_thrift *t, size_t nrg, size_t nleaves, size_t nrows,
                          size_t rgrows, gtp_pqenc_chunk_fn chunk, void *ctx);

/* The end of a FileMetaData after its row groups: created_by (borrowed), column_orders
 * (TypeDefinedOrder for each of nleaves leaves) and the stop byte into t; then t's bytes,
 * their length and "PAR1" to s. */
void gtp_pqenc_footer_finish(struct gtp_thrift *t, struct gtp_pqenc_sink *s, const char *created_by,
                             size_t nleaves);

/* errno e as a core error: GTP_ERR_NOSPACE for ENOSPC/EDQUOT, else GTP_ERR_IO; the reason
 * "what: strerror" goes to errstr. */

int gtp_pqenc_io_error(int e, const char *what, char *errstr, size_t errstr_size);

/* Produce a whole file on fd (positioned at the start of an empty file). Returns 0 or a
 * negative enum gtp_err with errstr filled. */
typedef int (*gtp_pqenc_write_fn)(void *ctx, int fd, char *errstr, size_t errstr_size);

/* Atomic publish: write dir/.<name>.tmp through write_fn(ctx, fd, ...), fsync it, rename() it
 * to dir/<name> (replacing an older file of that name), fsync dir. On any error the temp
 * file is removed. name must be non-empty, without '/', not starting with '.'
 * (GTP_ERR_INVAL). Returns 0, write_fn's error, GTP_ERR_NOSPACE or GTP_ERR_IO. */
int gtp_pqenc_publish(const char *dir, const char *name, gtp_pqenc_write_fn write_fn, void *ctx,
                      char *errstr, size_t errstr_size);

#endif
