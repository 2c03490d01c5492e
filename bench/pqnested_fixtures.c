/* bench_pqnested_fixtures: writes one Parquet file with the nested writer (gtp/pqnested.h)
 * from a Spark JSON schema and JSON-lines rows, for tests/integration/
 * test_pqnested_readers.py, which reads it back with independent readers and compares
 * every row with the input.
 *
 *   bench_pqnested_fixtures --schema FILE --rows FILE.jsonl --dir DIR --name NAME.parquet
 *                           [--codec zstd|snappy|none] [--row-group-rows N] [--page-bytes N]
 *                           [--skip-bad]
 *
 * A row the writer rejects is an error (exit 1), or with --skip-bad one line
 * "rejected <line>: <reason>" on stdout and the row is left out. The last stdout line is
 * "rows <n>". */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/err.h"
#include "gtp/parquet.h"
#include "gtp/pqnested.h"
#include "gtp/util.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    if (!f)
        return NULL;
    do {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            buf = gtp_xrealloc(buf, cap);
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static int usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --schema FILE --rows FILE.jsonl --dir DIR --name NAME\n"
            "          [--codec zstd|snappy|none] [--row-group-rows N] [--page-bytes N]"
            " [--skip-bad]\n",
            prog);
    return GTP_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const char *schema_path = NULL, *rows_path = NULL, *dir = NULL, *name = NULL;
    struct gtp_parquet_opts opts;
    bool skip_bad = false;
    char errstr[512];
    char *schema_text = NULL, *line = NULL;
    size_t line_cap = 0;
    struct gtp_pqnested_schema *schema = NULL;
    struct gtp_pqnested_writer *w = NULL;
    FILE *rows = NULL;
    int rc = 1;

    gtp_parquet_opts_default(&opts);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;
        if (strcmp(a, "--skip-bad") == 0) {
            skip_bad = true;
            continue;
        }
        if (!v)
            return usage(argv[0]);
        i++;
        if (strcmp(a, "--schema") == 0)
            schema_path = v;
        else if (strcmp(a, "--rows") == 0)
            rows_path = v;
        else if (strcmp(a, "--dir") == 0)
            dir = v;
        else if (strcmp(a, "--name") == 0)
            name = v;
        else if (strcmp(a, "--codec") == 0 && gtp_parquet_codec_parse(v, &opts.codec) == 0)
            ;
        else if (strcmp(a, "--row-group-rows") == 0 && gtp_parse_ll(v, &n) == 0 && n > 0)
            opts.row_group_rows = (size_t)n;
        else if (strcmp(a, "--page-bytes") == 0 && gtp_parse_ll(v, &n) == 0 && n > 0)
            opts.page_bytes = (size_t)n;
        else
            return usage(argv[0]);
    }
    if (!schema_path || !rows_path || !dir || !name)
        return usage(argv[0]);

    schema_text = slurp(schema_path);
    if (!schema_text) {
        fprintf(stderr, "%s: %s\n", schema_path, strerror(errno));
        goto out;
    }
    schema = gtp_pqnested_schema_parse(schema_text, errstr, sizeof(errstr));
    if (!schema) {
        fprintf(stderr, "%s: %s\n", schema_path, errstr);
        goto out;
    }
    w = gtp_pqnested_writer_new(schema, &opts);
    if (!w) {
        fprintf(stderr, "bad writer options\n");
        goto out;
    }
    rows = fopen(rows_path, "r");
    if (!rows) {
        fprintf(stderr, "%s: %s\n", rows_path, strerror(errno));
        goto out;
    }
    for (size_t lineno = 1;; lineno++) {
        ssize_t n = getline(&line, &line_cap, rows);
        if (n < 0)
            break;
        if (n <= 1 && (n == 0 || line[0] == '\n'))
            continue;
        json_error_t jerr;
        json_t *row = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &jerr);
        if (!row) {
            fprintf(stderr, "%s:%zu: %s\n", rows_path, lineno, jerr.text);
            goto out;
        }
        int err = gtp_pqnested_add_row(w, row, errstr, sizeof(errstr));
        json_decref(row);
        if (err && !skip_bad) {
            fprintf(stderr, "%s:%zu: %s\n", rows_path, lineno, errstr);
            goto out;
        }
        if (err)
            printf("rejected %zu: %s\n", lineno, errstr);
    }
    size_t nrows = gtp_pqnested_rows(w);
    if (gtp_pqnested_write_file(w, dir, name, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "%s/%s: %s\n", dir, name, errstr);
        goto out;
    }
    printf("rows %zu\n", nrows);
    rc = 0;
out:
    if (rows)
        fclose(rows);
    free(line);
    gtp_pqnested_writer_free(w);
    gtp_pqnested_schema_free(schema);
    free(schema_text);
    return rc;
}
