/* Fuzz target: the Parquet reader (gtp/pqread.h) on arbitrary bytes, the input being the
 * file. It must refuse (GTP_ERR_PARSE with a reason, and stay refused) or read, never crash,
 * hang or allocate without bound. Every row it returns must be one the writer accepts, with
 * required strings present, every string valid UTF-8 (checked by the independent validator
 * of common.c) and NUL-terminated at its length, skills free of NUL bytes, is_remote in
 * -1..1. A file read whole has exactly gtp_pqread_rows() rows; its rows written again by the
 * writer and read back equal the rows of a second pass over the input, field by field. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "gtp/err.h"
#include "gtp/parquet.h"
#include "gtp/pqread.h"
#include "gtp/util.h"

/* Work caps per input, so a tiny file announcing millions of run-length-encoded rows costs
 * the fuzzer a bounded time (the reader itself is lazy: the caller decides how far to go). */
#define MAX_ROWS 4096
#define MAX_WORK (8u << 20) /* string bytes and skills seen */
#define NSTR     7

static const int SCOLS[NSTR] = {
    GTP_PARQUET_EVENT_ID, GTP_PARQUET_TITLE,  GTP_PARQUET_COMPANY, GTP_PARQUET_EXPERIENCE_LEVEL,
    GTP_PARQUET_JOB_ID,   GTP_PARQUET_SOURCE, GTP_PARQUET_LOCATION};

static const char *str_of(const struct gtp_parquet_row *row, int k)
{
    const char *v[NSTR] = {row->event_id, row->title,  row->company, row->experience_level,
                           row->job_id,   row->source, row->location};
    return v[k];
}

/* The row contract of gtp_pqread_next; returns the work the row represents. */
static size_t check_row(const struct gtp_parquet_row *row, int64_t i)
{
    size_t work = 1;
    FUZZ_CHECK(row->lens_set, "row %lld: lens_set", (long long)i);
    FUZZ_CHECK(row->event_id && row->title && row->job_id, "row %lld: a required field is null",
               (long long)i);
    for (int k = 0; k < NSTR; k++) {
        const char *s = str_of(row, k);
        size_t n = row->lens[SCOLS[k]];
        if (!s)
            continue;
        FUZZ_CHECK(n <= GTP_PARQUET_MAX_VALUE && s[n] == '\0' &&
                       gtp_fuzz_utf8_ok((const uint8_t *)s, n),
                   "row %lld: %s is not a NUL-terminated valid UTF-8 value", (long long)i,
                   gtp_parquet_col_name(SCOLS[k]));
        work += n;
    }
    FUZZ_CHECK(!row->skills_null || row->n_skills == 0, "row %lld: a null list with elements",
               (long long)i);
    FUZZ_CHECK(row->n_skills == 0 || row->skills, "row %lld: elements without an array",
               (long long)i);
    for (size_t e = 0; e < row->n_skills; e++) {
        const char *s = row->skills[e];
        if (!s)
            continue;
        size_t n = strlen(s);
        FUZZ_CHECK(gtp_fuzz_utf8_ok((const uint8_t *)s, n), "row %lld: skill %zu is not UTF-8",
                   (long long)i, e);
        work += n;
    }
    work += row->n_skills;
    FUZZ_CHECK(row->is_remote >= -1 && row->is_remote <= 1, "row %lld: is_remote %d", (long long)i,
               row->is_remote);
    return work;
}

static bool rows_equal(const struct gtp_parquet_row *a, const struct gtp_parquet_row *b)
{
    for (int k = 0; k < NSTR; k++) {
        const char *x = str_of(a, k), *y = str_of(b, k);
        size_t n = a->lens[SCOLS[k]];
        if (!x != !y || (x && (n != b->lens[SCOLS[k]] || memcmp(x, y, n) != 0)))
            return false;
    }
    if (a->posted_at_us != b->posted_at_us || a->is_remote != b->is_remote ||
        a->skills_null != b->skills_null || a->n_skills != b->n_skills)
        return false;
    for (size_t e = 0; e < a->n_skills; e++)
        if (!a->skills[e] != !b->skills[e] ||
            (a->skills[e] && strcmp(a->skills[e], b->skills[e]) != 0))
            return false;
    return true;
}

/* Write w's rows to a temporary file; its bytes (new) in *buf. */
static size_t write_mem(struct gtp_parquet_writer *w, uint8_t **buf)
{
    char errstr[256];
    struct stat st;
    int fd = open(gtp_fuzz_tmpdir(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0, "O_TMPFILE");
    FUZZ_CHECK(gtp_parquet_write_fd(w, fd, NULL, errstr, sizeof(errstr)) == 0, "rewrite: %s",
               errstr);
    FUZZ_CHECK(fstat(fd, &st) == 0 && st.st_size > 0, "rewritten file");
    *buf = gtp_xmalloc((size_t)st.st_size);
    FUZZ_CHECK(pread(fd, *buf, (size_t)st.st_size, 0) == st.st_size, "read back");
    close(fd);
    return (size_t)st.st_size;
}

int gtp_fuzz_pqread(const uint8_t *data, size_t size)
{
    char errstr[512] = "";
    struct gtp_parquet_row row, row2;
    struct gtp_parquet_opts o;
    struct gtp_parquet_writer *w = NULL;
    struct gtp_pqread *r = gtp_pqread_open_mem(data, size, errstr, sizeof(errstr)), *r2, *r3;
    int64_t n = 0;
    size_t work = 0;
    int rc = 0;

    if (!r) {
        FUZZ_CHECK(errstr[0] != '\0', "open refused without a reason");
        return 0;
    }
    FUZZ_CHECK(gtp_pqread_rows(r) >= 0, "negative row count");
    gtp_parquet_opts_default(&o);
    o.codec = GTP_PARQUET_UNCOMPRESSED;
    o.page_bytes = 512; /* several pages per chunk in the rewrite */
    o.row_group_rows = 64;
    w = gtp_parquet_writer_new(&o);
    FUZZ_CHECK(w, "writer");
    while (n < MAX_ROWS && work < MAX_WORK &&
           (rc = gtp_pqread_next(r, &row, errstr, sizeof(errstr))) == 1) {
        work += check_row(&row, n);
        FUZZ_CHECK(gtp_parquet_add_row(w, &row, errstr, sizeof(errstr)) == 0,
                   "row %lld read but refused by the writer: %s", (long long)n, errstr);
        n++;
    }
    if (n >= MAX_ROWS || work >= MAX_WORK)
        goto out; /* too much to finish: what was read was checked */
    if (rc < 0) {
        FUZZ_CHECK(rc == GTP_ERR_PARSE && errstr[0] != '\0', "error %d without a reason", rc);
        errstr[0] = '\0';
        FUZZ_CHECK(gtp_pqread_next(r, &row, errstr, sizeof(errstr)) == rc && errstr[0] != '\0',
                   "a failed reader came back to life");
        goto out;
    }
    FUZZ_CHECK(n == gtp_pqread_rows(r), "%lld rows read, the footer says %lld", (long long)n,
               (long long)gtp_pqread_rows(r));
    FUZZ_CHECK(gtp_pqread_next(r, &row, errstr, sizeof(errstr)) == 0, "end is not sticky");

    /* The rows again, against the writer's file of them. */
    uint8_t *buf;
    size_t len = write_mem(w, &buf);
    r2 = gtp_pqread_open_mem(data, size, errstr, sizeof(errstr));
    FUZZ_CHECK(r2, "second open: %s", errstr);
    r3 = gtp_pqread_open_mem(buf, len, errstr, sizeof(errstr));
    FUZZ_CHECK(r3, "the writer's file does not open: %s", errstr);
    FUZZ_CHECK(gtp_pqread_rows(r3) == n, "rewritten file holds %lld rows, not %lld",
               (long long)gtp_pqread_rows(r3), (long long)n);
    for (int64_t i = 0; i < n; i++) {
        FUZZ_CHECK(gtp_pqread_next(r2, &row, errstr, sizeof(errstr)) == 1, "second pass: %s",
                   errstr);
        FUZZ_CHECK(gtp_pqread_next(r3, &row2, errstr, sizeof(errstr)) == 1, "rewritten: %s",
                   errstr);
        FUZZ_CHECK(rows_equal(&row, &row2), "row %lld differs after a rewrite", (long long)i);
    }
    FUZZ_CHECK(gtp_pqread_next(r3, &row2, errstr, sizeof(errstr)) == 0, "rewritten: extra rows");
    gtp_pqread_close(r2);
    gtp_pqread_close(r3);
    free(buf);
out:
    gtp_parquet_writer_free(w);
    gtp_pqread_close(r);
    return 0;
}
