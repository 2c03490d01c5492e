/* bench_pqread_cli: the Parquet reader (gtp/pqread.h) from the command line, for
 * tests/integration/test_pqread_readers.py (files written by pyarrow, read here), the fuzz
 * seeds of scripts/fuzz.sh (files written by our writer) and a quick read benchmark.
 *
 *   bench_pqread_cli dump FILE        every row as one JSON object per line (strings may hold
 *                                     \u0000; skills_array null, [] or [..., null, ...];
 *                                     is_remote true/false/null; posted_at_us an integer)
 *   bench_pqread_cli count FILE...    rows per file and the time the reads took, on stderr
 *   bench_pqread_cli write --out FILE [--rows N] [--seed S] [--codec zstd|snappy|none]
 *                          [--no-dict] [--page-bytes N] [--row-group-rows N]
 *                                     N random rows (NUL bytes, null and empty lists, null
 *                                     elements, multi-byte UTF-8) written by gtp/parquet.h
 *
 * A file the reader refuses: "FILE: <reason>" on stderr, exit 1. Bad usage: exit 64. */
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gtp/err.h"
#include "gtp/parquet.h"
#include "gtp/pqread.h"
#include "gtp/util.h"

static int usage(void)
{
    fprintf(stderr, "usage: bench_pqread_cli dump FILE\n"
                    "       bench_pqread_cli count FILE...\n"
                    "       bench_pqread_cli write --out FILE [--rows N] [--seed S]"
                    " [--codec zstd|snappy|none] [--no-dict] [--page-bytes N]"
                    " [--row-group-rows N]\n");
    return GTP_EXIT_USAGE;
}

static json_t *str_or_null(const char *s, size_t n)
{
    return s ? json_stringn(s, n) : json_null();
}

static json_t *row_json(const struct gtp_parquet_row *row)
{
    json_t *o = json_object();
    json_object_set_new(o, "event_id", str_or_null(row->event_id, row->lens[GTP_PARQUET_EVENT_ID]));
    json_object_set_new(o, "posted_at_us", json_integer(row->posted_at_us));
    json_object_set_new(o, "title", str_or_null(row->title, row->lens[GTP_PARQUET_TITLE]));
    json_object_set_new(o, "company", str_or_null(row->company, row->lens[GTP_PARQUET_COMPANY]));
    if (row->skills_null) {
        json_object_set_new(o, "skills_array", json_null());
    } else {
        json_t *a = json_array();
        for (size_t i = 0; i < row->n_skills; i++)
            json_array_append_new(a, row->skills[i] ? json_string(row->skills[i]) : json_null());
        json_object_set_new(o, "skills_array", a);
    }
    json_object_set_new(
        o, "experience_level",
        str_or_null(row->experience_level, row->lens[GTP_PARQUET_EXPERIENCE_LEVEL]));
    json_object_set_new(o, "job_id", str_or_null(row->job_id, row->lens[GTP_PARQUET_JOB_ID]));
    json_object_set_new(o, "source", str_or_null(row->source, row->lens[GTP_PARQUET_SOURCE]));
    json_object_set_new(o, "location", str_or_null(row->location, row->lens[GTP_PARQUET_LOCATION]));
    json_object_set_new(o, "is_remote",
                        row->is_remote < 0 ? json_null() : json_boolean(row->is_remote));
    return o;
}

/* Read every row of path; dump prints them. Returns rows read, or -1 (reported). */
static long long read_file(const char *path, bool dump)
{
    char errstr[512];
    struct gtp_parquet_row row;
    long long n = 0;
    int rc;
    struct gtp_pqread *r = gtp_pqread_open(path, errstr, sizeof(errstr));
    if (!r) {
        fprintf(stderr, "%s: %s\n", path, errstr);
        return -1;
    }
    while ((rc = gtp_pqread_next(r, &row, errstr, sizeof(errstr))) == 1) {
        if (dump) {
            json_t *o = row_json(&row);
            char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (!s) {
                fprintf(stderr, "%s: row %lld does not serialise\n", path, n);
                abort();
            }
            puts(s);
            free(s);
            json_decref(o);
        }
        n++;
    }
    gtp_pqread_close(r);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", path, errstr);
        return -1;
    }
    return n;
}

/* ------------------------------------------------------------------------------------------
 * Random rows for write */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A random valid UTF-8 string into buf (NUL bytes only when nul_ok); returns its length. */
static size_t rand_str(uint64_t *s, char *buf, size_t max, bool nul_ok)
{
    static const char *const pieces[] = {
        "a",      "Z",     "7", " ", "-", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x9a\x80",
        "python", "Senior"};
    size_t n = 0, want = rng_next(s) % (max / 4 + 1);
    while (n < want) {
        if (nul_ok && rng_next(s) % 16 == 0) {
            buf[n++] = '\0';
            continue;
        }
        const char *p = pieces[rng_next(s) % GTP_ARRAY_LEN(pieces)];
        size_t k = strlen(p);
        if (n + k > max)
            break;
        memcpy(buf + n, p, k);
        n += k;
    }
    buf[n] = '\0';
    return n;
}

static int write_file(const char *out, long long nrows, uint64_t seed,
                      const struct gtp_parquet_opts *opts)
{
    char errstr[512], str[7][128], sk[8][32];
    const char *skills[8];
    struct gtp_parquet_writer *w = gtp_parquet_writer_new(opts);
    int fd = -1, rc = 1;
    if (!w) {
        fprintf(stderr, "bad writer options\n");
        goto out;
    }
    for (long long i = 0; i < nrows; i++) {
        static const int cols[7] = {GTP_PARQUET_EVENT_ID, GTP_PARQUET_TITLE,
                                    GTP_PARQUET_COMPANY,  GTP_PARQUET_EXPERIENCE_LEVEL,
                                    GTP_PARQUET_JOB_ID,   GTP_PARQUET_SOURCE,
                                    GTP_PARQUET_LOCATION};
        struct gtp_parquet_row row = {.lens_set = true};
        const char **dst[7] = {&row.event_id, &row.title,  &row.company, &row.experience_level,
                               &row.job_id,   &row.source, &row.location};
        for (int k = 0; k < 7; k++) {
            bool required = k == 0 || k == 1 || k == 4;
            if (!required && rng_next(&seed) % 4 == 0)
                continue;
            row.lens[cols[k]] = rand_str(&seed, str[k], sizeof(str[k]) - 1, true);
            *dst[k] = str[k];
        }
        uint64_t v = rng_next(&seed); /* apart: the order of two calls in one expression */
        row.posted_at_us = (int64_t)v >> (rng_next(&seed) % 64);
        row.is_remote = (int)(rng_next(&seed) % 3) - 1;
        row.skills_null = rng_next(&seed) % 5 == 0;
        row.n_skills = row.skills_null ? 0 : rng_next(&seed) % 9;
        for (size_t k = 0; k < row.n_skills; k++) {
            skills[k] = rng_next(&seed) % 6 == 0 ? NULL : sk[k];
            rand_str(&seed, sk[k], sizeof(sk[k]) - 1, false);
        }
        row.skills = skills;
        if (gtp_parquet_add_row(w, &row, errstr, sizeof(errstr)) != 0) {
            fprintf(stderr, "row %lld: %s\n", i, errstr);
            goto out;
        }
    }
    fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror(out);
        goto out;
    }
    if (gtp_parquet_write_fd(w, fd, NULL, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "%s: %s\n", out, errstr);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0 && close(fd) != 0 && rc == 0) {
        perror(out);
        rc = 1;
    }
    gtp_parquet_writer_free(w);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    if (strcmp(argv[1], "dump") == 0) {
        if (argc != 3)
            return usage();
        return read_file(argv[2], true) < 0 ? 1 : 0;
    }
    if (strcmp(argv[1], "count") == 0) {
        long long total = 0;
        int64_t t0 = gtp_mono_us();
        for (int i = 2; i < argc; i++) {
            long long n = read_file(argv[i], false);
            if (n < 0)
                return 1;
            printf("%s %lld\n", argv[i], n);
            total += n;
        }
        double s = (double)(gtp_mono_us() - t0) / 1e6;
        fprintf(stderr, "%lld rows in %.3f s (%.0f rows/s)\n", total, s,
                s > 0 ? (double)total / s : 0.0);
        return 0;
    }
    if (strcmp(argv[1], "write") != 0)
        return usage();

    struct gtp_parquet_opts opts;
    const char *out = NULL;
    long long nrows = 100, n;
    uint64_t seed = 1;
    gtp_parquet_opts_default(&opts);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-dict") == 0) {
            opts.no_dictionary = true;
            continue;
        }
        if (!v)
            return usage();
        i++;
        if (strcmp(a, "--out") == 0)
            out = v;
        else if (strcmp(a, "--rows") == 0 && gtp_parse_ll(v, &nrows) == 0 && nrows >= 0)
            ;
        else if (strcmp(a, "--seed") == 0 && gtp_parse_ll(v, &n) == 0)
            seed = (uint64_t)n;
        else if (strcmp(a, "--codec") == 0 && gtp_parquet_codec_parse(v, &opts.codec) == 0)
            ;
        else if (strcmp(a, "--row-group-rows") == 0 && gtp_parse_ll(v, &n) == 0 && n > 0)
            opts.row_group_rows = (size_t)n;
        else if (strcmp(a, "--page-bytes") == 0 && gtp_parse_ll(v, &n) == 0 && n > 0)
            opts.page_bytes = (size_t)n;
        else
            return usage();
    }
    if (!out)
        return usage();
    return write_file(out, nrows, seed, &opts);
}
