/* Fuzz target: the Parquet writer on random rows. Rows with a NULL required
 * field or invalid UTF-8 anywhere must be refused (and never reach the file);
 * the others are written to a temporary directory, and the file is checked
 * with an independent reader: magic, footer, row counts, every column chunk
 * inside the data area without overlaps, its pages adding up, statistics. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "gtp/util.h"
#include "gtp/err.h"
#include "gtp/parquet.h"
#include "gtp/thrift_read.h"

#define MAX_ROWS   48
#define MAX_SKILLS 6
#define NLEAVES    10 /* skills_array contributes its one leaf, the element */

/* The strings of one generated row (new), NULL = SQL null. */
struct grow {
    char *s[7]; /* event_id, title, company, experience_level, job_id, source, location */
    size_t len[7];
    char *skills[MAX_SKILLS];
    size_t n_skills;
    bool skills_null;
    int64_t posted;
    int is_remote;
};

struct range {
    int64_t lo, hi;
};

static int range_cmp(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Strings: usually short ASCII-ish ids, sometimes raw bytes (invalid UTF-8). */
static char *gen_str(struct fuzz_in *in, uint8_t how, size_t *len)
{
    if ((how & 3) == 3)
        return NULL;
    return fuzz_bytes(in, (how & 4) ? 2000 : 24, len);
}

static void grow_free(struct grow *g)
{
    for (int i = 0; i < 7; i++)
        free(g->s[i]);
    for (size_t i = 0; i < g->n_skills; i++)
        free(g->skills[i]);
}

/* What the contract says add_row must do with this row. */
static bool grow_valid(const struct grow *g)
{
    static const bool required[7] = {true, true, false, false, true, false, false};
    for (int i = 0; i < 7; i++) {
        if (!g->s[i]) {
            if (required[i])
                return false;
            continue;
        }
        /* the row holds C strings: a NUL ends the value */
        if (!gtp_fuzz_utf8_ok((const uint8_t *)g->s[i], strlen(g->s[i])))
            return false;
    }
    if (!g->skills_null)
        for (size_t i = 0; i < g->n_skills; i++)
            if (g->skills[i] &&
                !gtp_fuzz_utf8_ok((const uint8_t *)g->skills[i], strlen(g->skills[i])))
                return false;
    return true;
}

static int64_t i64_of(const struct gtp_thrift_node *n, const char *what)
{
    FUZZ_CHECK(n && (n->type == 5 || n->type == 6), "%s missing", what);
    return n->i;
}

/* Walk the pages of one column chunk; returns the data pages' value count. */
static int64_t walk_pages(const uint8_t *f, int64_t start, int64_t size)
{
    int64_t pos = start, values = 0;
    int dict_pages = 0;
    while (pos < start + size) {
        struct gtp_thrift_node ph;
        long hl = gtp_thrift_read_struct(f + pos, (size_t)(start + size - pos), &ph);
        int64_t type, csize;
        FUZZ_CHECK(hl > 0, "page header at %lld does not parse", (long long)pos);
        type = i64_of(gtp_thrift_read_get(&ph, 1), "page type");
        FUZZ_CHECK(i64_of(gtp_thrift_read_get(&ph, 2), "uncompressed_page_size") >= 0,
                   "negative size");
        csize = i64_of(gtp_thrift_read_get(&ph, 3), "compressed_page_size");
        FUZZ_CHECK(csize >= 0 && pos + hl + csize <= start + size, "page runs past its chunk");
        if (type == 0) { /* DATA_PAGE */
            int64_t nv =
                i64_of(gtp_thrift_read_get(gtp_thrift_read_get(&ph, 5), 1), "data page num_values");
            FUZZ_CHECK(nv >= 0, "negative num_values");
            values += nv;
        } else {
            FUZZ_CHECK(type == 2 && values == 0 && ++dict_pages == 1,
                       "page type %lld (only one dictionary page, first)", (long long)type);
        }
        gtp_thrift_read_fini(&ph);
        pos += hl + csize;
    }
    FUZZ_CHECK(pos == start + size, "pages do not fill their chunk");
    return values;
}

static void check_file(const uint8_t *f, size_t size, int64_t want_rows, const struct grow *rows,
                       size_t nrows)
{
    struct gtp_thrift_node md;
    const struct gtp_thrift_node *schema, *rgs, *cb;
    uint32_t flen;
    size_t data_end, nranges = 0, leaves = 0;
    int64_t total = 0;
    struct range *ranges;
    long used;

    FUZZ_CHECK(size >= 12 && memcmp(f, "PAR1", 4) == 0 && memcmp(f + size - 4, "PAR1", 4) == 0,
               "magic");
    flen = (uint32_t)f[size - 8] | (uint32_t)f[size - 7] << 8 | (uint32_t)f[size - 6] << 16 |
           (uint32_t)f[size - 5] << 24;
    FUZZ_CHECK((size_t)flen + 12 <= size, "footer length %u in a %zu-byte file", flen, size);
    data_end = size - 8 - flen;
    used = gtp_thrift_read_struct(f + data_end, flen, &md);
    FUZZ_CHECK(used == (long)flen, "footer does not parse exactly (%ld of %u bytes)", used, flen);

    FUZZ_CHECK(i64_of(gtp_thrift_read_get(&md, 1), "version") >= 1, "version");
    schema = gtp_thrift_read_get(&md, 2);
    FUZZ_CHECK(schema && schema->type == 9 && schema->len > 1, "schema");
    FUZZ_CHECK(i64_of(gtp_thrift_read_get(&schema->elem[0], 5), "root num_children") == 10,
               "root children");
    for (size_t i = 1; i < schema->len; i++)
        leaves += gtp_thrift_read_get(&schema->elem[i], 5) == NULL;
    FUZZ_CHECK(leaves == NLEAVES, "%zu leaves in the schema", leaves);
    FUZZ_CHECK(i64_of(gtp_thrift_read_get(&md, 3), "num_rows") == want_rows,
               "num_rows %lld, wrote %lld", (long long)gtp_thrift_read_get(&md, 3)->i,
               (long long)want_rows);
    cb = gtp_thrift_read_get(&md, 6);
    FUZZ_CHECK(cb && cb->type == 8 && cb->len > 12 && memcmp(cb->bin, "gtp version ", 12) == 0,
               "created_by");

    rgs = gtp_thrift_read_get(&md, 4);
    FUZZ_CHECK(rgs && rgs->type == 9, "row_groups");
    ranges = gtp_xcalloc(rgs->len * NLEAVES + 1, sizeof(*ranges));
    for (size_t g = 0; g < rgs->len; g++) {
        const struct gtp_thrift_node *rg = &rgs->elem[g], *cols = gtp_thrift_read_get(rg, 1);
        int64_t rg_rows = i64_of(gtp_thrift_read_get(rg, 3), "row group num_rows");
        FUZZ_CHECK(rg_rows > 0, "empty row group");
        total += rg_rows;
        FUZZ_CHECK(cols && cols->type == 9 && cols->len == NLEAVES, "columns of a row group");
        for (size_t c = 0; c < cols->len; c++) {
            const struct gtp_thrift_node *meta = gtp_thrift_read_get(&cols->elem[c], 3), *dict;
            int64_t nv = i64_of(gtp_thrift_read_get(meta, 5), "num_values");
            int64_t csize = i64_of(gtp_thrift_read_get(meta, 7), "total_compressed_size");
            int64_t start = i64_of(gtp_thrift_read_get(meta, 9), "data_page_offset");
            dict = gtp_thrift_read_get(meta, 11);
            if (dict) {
                FUZZ_CHECK(dict->i < start, "dictionary after the data pages");
                start = dict->i;
            }
            FUZZ_CHECK(start >= 4 && csize > 0 && start + csize <= (int64_t)data_end,
                       "chunk [%lld, +%lld) outside the data area", (long long)start,
                       (long long)csize);
            /* a required/optional leaf has one value per row, the list element >= 1 */
            FUZZ_CHECK(c == 4 ? nv >= rg_rows : nv == rg_rows, "column %zu: %lld values, %lld rows",
                       c, (long long)nv, (long long)rg_rows);
            FUZZ_CHECK(walk_pages(f, start, csize) == nv, "column %zu: pages hold other counts", c);
            ranges[nranges].lo = start;
            ranges[nranges].hi = start + csize;
            nranges++;
        }
    }
    FUZZ_CHECK(total == want_rows, "row groups hold %lld rows, not %lld", (long long)total,
               (long long)want_rows);
    qsort(ranges, nranges, sizeof(*ranges), range_cmp);
    for (size_t i = 1; i < nranges; i++)
        FUZZ_CHECK(ranges[i - 1].hi <= ranges[i].lo, "column chunks overlap");
    free(ranges);
    gtp_thrift_read_fini(&md);
    (void)rows;
    (void)nrows;
}

/* The file statistics against the accepted rows. */
static void check_stats(const struct gtp_parquet_file_stats *st, const struct grow **ok, size_t n,
                        size_t file_size)
{
    static const int cols[] = {GTP_PARQUET_EVENT_ID, GTP_PARQUET_TITLE, GTP_PARQUET_COMPANY};
    FUZZ_CHECK(st->num_rows == (int64_t)n && st->file_size == (int64_t)file_size, "stats sizes");
    for (size_t k = 0; k < 3; k++) {
        const struct gtp_parquet_col_stats *cs = &st->cols[cols[k]];
        const char *mn = NULL, *mx = NULL;
        int64_t nulls = 0;
        for (size_t i = 0; i < n; i++) {
            const char *v = ok[i]->s[k];
            if (!v) {
                nulls++;
                continue;
            }
            if (!mn || strcmp(v, mn) < 0)
                mn = v;
            if (!mx || strcmp(v, mx) > 0)
                mx = v;
        }
        FUZZ_CHECK(cs->null_count == nulls, "%s null_count %lld, want %lld",
                   gtp_parquet_col_name(cols[k]), (long long)cs->null_count, (long long)nulls);
        FUZZ_CHECK(cs->has_minmax == (mn != NULL), "%s has_minmax", gtp_parquet_col_name(cols[k]));
        if (mn)
            FUZZ_CHECK(cs->min && cs->max && strcmp(cs->min, mn) == 0 && strcmp(cs->max, mx) == 0,
                       "%s min/max", gtp_parquet_col_name(cols[k]));
    }
}

int gtp_fuzz_parquet(const uint8_t *data, size_t size)
{
    static unsigned long iter;
    struct fuzz_in in = {data, size};
    struct gtp_parquet_opts o;
    struct gtp_parquet_writer *w;
    struct gtp_parquet_file_stats st = {0};
    struct grow rows[MAX_ROWS];
    const struct grow *ok[MAX_ROWS];
    size_t nrows, nok = 0;
    uint8_t b = fuzz_u8(&in);
    char errstr[256], path[512];
    uint8_t *file;
    struct stat sb;
    int fd, rc;

    gtp_parquet_opts_default(&o);
    o.codec = (b % 3) == 0   ? GTP_PARQUET_UNCOMPRESSED
              : (b % 3) == 1 ? GTP_PARQUET_SNAPPY
                             : GTP_PARQUET_ZSTD;
    o.zstd_level = 1;
    o.no_dictionary = (b & 4) != 0;
    if (b & 8)
        o.row_group_rows = 1 + fuzz_u8(&in) % 8;
    if (b & 16)
        o.page_bytes = 1 + fuzz_u8(&in) * 8u;
    w = gtp_parquet_writer_new(&o);
    FUZZ_CHECK(w, "writer refused valid options");

    nrows = fuzz_u8(&in) % MAX_ROWS;
    memset(rows, 0, sizeof(rows));
    for (size_t r = 0; r < nrows; r++) {
        struct grow *g = &rows[r];
        struct gtp_parquet_row row;
        uint8_t flags = fuzz_u8(&in);
        for (int i = 0; i < 7; i++) {
            uint8_t how = fuzz_u8(&in);
            /* a required field is null only now and then */
            if ((i == 0 || i == 1 || i == 4) && how != 0xff)
                how &= 0xfc;
            g->s[i] = gen_str(&in, how, &g->len[i]);
        }
        g->skills_null = (flags & 0x60) == 0x60;
        g->n_skills = fuzz_u8(&in) % (MAX_SKILLS + 1);
        for (size_t i = 0; i < g->n_skills; i++)
            g->skills[i] = gen_str(&in, fuzz_u8(&in), NULL);
        g->posted = (int64_t)fuzz_u64(&in);
        g->is_remote = (int)(fuzz_u8(&in) % 3) - 1;

        memset(&row, 0, sizeof(row));
        row.event_id = g->s[0];
        row.title = g->s[1];
        row.company = g->s[2];
        row.experience_level = g->s[3];
        row.job_id = g->s[4];
        row.source = g->s[5];
        row.location = g->s[6];
        row.skills = (const char *const *)g->skills;
        row.n_skills = g->n_skills;
        row.skills_null = g->skills_null;
        row.posted_at_us = g->posted;
        row.is_remote = g->is_remote;
        rc = gtp_parquet_add_row(w, &row, errstr, sizeof(errstr));
        FUZZ_CHECK((rc == 0) == grow_valid(g), "row %zu: add_row returned %d (%s)", r, rc,
                   rc ? errstr : "accepted a bad row");
        if (rc == 0)
            ok[nok++] = g;
        FUZZ_CHECK(gtp_parquet_rows(w) == nok, "buffered row count");
    }

    /* Mostly an unlinked file in the temp dir; every 16th the atomic publish. */
    if (iter++ % 16 == 0) {
        rc = gtp_parquet_write_file(w, gtp_fuzz_tmpdir(), "f.parquet", &st, errstr, sizeof(errstr));
        FUZZ_CHECK(rc == 0, "write_file: %s", errstr);
        snprintf(path, sizeof(path), "%s/f.parquet", gtp_fuzz_tmpdir());
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } else {
        fd = open(gtp_fuzz_tmpdir(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        FUZZ_CHECK(fd >= 0, "O_TMPFILE");
        rc = gtp_parquet_write_fd(w, fd, &st, errstr, sizeof(errstr));
        FUZZ_CHECK(rc == 0, "write_fd: %s", errstr);
    }
    FUZZ_CHECK(fd >= 0 && fstat(fd, &sb) == 0 && sb.st_size > 0, "written file");
    FUZZ_CHECK(gtp_parquet_rows(w) == 0, "writer not reset after a write");
    file = gtp_xmalloc((size_t)sb.st_size);
    FUZZ_CHECK(pread(fd, file, (size_t)sb.st_size, 0) == sb.st_size, "read back");
    close(fd);

    check_file(file, (size_t)sb.st_size, (int64_t)nok, rows, nrows);
    check_stats(&st, ok, nok, (size_t)sb.st_size);

    free(file);
    gtp_parquet_file_stats_fini(&st);
    gtp_parquet_writer_free(w);
    for (size_t r = 0; r < nrows; r++)
        grow_free(&rows[r]);
    return 0;
}
