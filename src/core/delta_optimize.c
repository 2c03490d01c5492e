/* Compaction and vacuum of the archive table; see include/gtp/delta_optimize.h. */
#define _GNU_SOURCE
#include "gtp/delta_optimize.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "gtp/delta.h"
#include "gtp/delta_checkpoint.h"
#include "gtp/err.h"
#include "gtp/failpoint.h"
#include "gtp/hive.h"
#include "gtp/pqread.h"
#include "gtp/util.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------------------------
 * The live files, grouped by partition */

struct live {
    json_t *adds;     /* path -> add action (live ones) */
    json_t *after;    /* path -> true: added by a commit after the snapshot */
    int64_t snapshot; /* the snapshot the replay started at, -1: none */
};

static int live_action(const char *name, json_t *val, int64_t version, void *ctx)
{
    struct live *l = ctx;
    if (strcmp(name, GTP_DELTA_SNAPSHOT_ACTION) == 0) {
        l->snapshot = version;
        return 0;
    }
    const char *path = json_string_value(json_object_get(val, "path"));
    if (!path)
        return 0;
    if (strcmp(name, "add") == 0) {
        json_object_set(l->adds, path, val);
        if (version > l->snapshot)
            json_object_set_new(l->after, path, json_true());
    } else if (strcmp(name, "remove") == 0) {
        json_object_del(l->adds, path);
    }
    return 0;
}

/* "date|region" of an add (region may be null: "\x01" stands for it). */
static void part_key(json_t *add, char *out, size_t out_size)
{
    json_t *pv = json_object_get(add, "partitionValues");
    const char *d = json_string_value(json_object_get(pv, "date_posted"));
    const char *r = json_string_value(json_object_get(pv, "region"));
    snprintf(out, out_size, "%s|%s", d ? d : "\x01", r ? r : "\x01");
}

static int cmp_by_path(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    return strcmp(json_string_value(json_object_get(x, "path")),
                  json_string_value(json_object_get(y, "path")));
}

/* ------------------------------------------------------------------------------------------
 * Rewriting one bin */

int gtp_delta_read_rows(const char *root, const char *uri,
                        int (*fn)(const struct gtp_parquet_row *row, void *ctx, char *errstr,
                                  size_t errstr_size),
                        void *ctx, int64_t *rows, char *errstr, size_t errstr_size)
{
    char rel[4096], full[8192];
    struct gtp_parquet_row row;
    struct gtp_pqread *r;
    struct stat sb;
    int got, err = 0;
    if (!uri || gtp_hive_uri_decode(uri, rel, sizeof(rel)) < 0) {
        gtp_errf(errstr, errstr_size, "bad path in the log: %s", uri ? uri : "(none)");
        return GTP_ERR_PARSE;
    }
    snprintf(full, sizeof(full), "%s/%s", root, rel);
    r = gtp_pqread_open(full, errstr, errstr_size);
    if (!r)
        return stat(full, &sb) != 0 ? GTP_ERR_IO : GTP_ERR_PARSE;
    while (!err && (got = gtp_pqread_next(r, &row, errstr, errstr_size)) == 1) {
        err = fn(&row, ctx, errstr, errstr_size);
        if (!err && rows)
            (*rows)++;
    }
    if (!err && got < 0)
        err = got;
    gtp_pqread_close(r);
    return err;
}

static int add_to_writer(const struct gtp_parquet_row *row, void *w, char *errstr,
                         size_t errstr_size)
{
    return gtp_parquet_add_row(w, row, errstr, errstr_size);
}

/* Read every row of the bin's files into w. */
static int read_bin(const char *root, json_t **files, size_t n, struct gtp_parquet_writer *w,
                    int64_t *rows, char *errstr, size_t errstr_size)
{
    int err = 0;
    for (size_t i = 0; i < n && !err; i++)
        err = gtp_delta_read_rows(root, json_string_value(json_object_get(files[i], "path")),
                                  add_to_writer, w, rows, errstr, errstr_size);
    return err;
}

static int rewrite_bin(const char *root, json_t **files, size_t n, int64_t read_version,
                       const struct gtp_parquet_opts *popts, struct gtp_delta_optimize_stats *st,
                       char *errstr, size_t errstr_size)
{
    struct gtp_parquet_writer *w = gtp_parquet_writer_new(popts);
    struct gtp_parquet_file_stats fst = {0};
    json_t *removes = json_array();
    char rel[4096], dir[4200], name[128], path[4400], id[37];
    int64_t rows = 0, in_bytes = 0, version = -1;
    const char *date, *region;
    json_t *pv = json_object_get(files[0], "partitionValues");
    uuid_t u;
    struct stat sb;
    bool written = false;
    int err;

    if (!w) {
        gtp_errf(errstr, errstr_size, "compaction: bad parquet options");
        err = GTP_ERR_INVAL;
        goto out;
    }
    err = read_bin(root, files, n, w, &rows, errstr, errstr_size);
    if (err)
        goto out;
    /* the new file goes beside the old ones: the same partition directory */
    const char *uri = json_string_value(json_object_get(files[0], "path"));
    if (gtp_hive_uri_decode(uri, rel, sizeof(rel)) < 0 || !strrchr(rel, '/')) {
        gtp_errf(errstr, errstr_size, "bad path in the log: %s", uri);
        err = GTP_ERR_PARSE;
        goto out;
    }
    *strrchr(rel, '/') = 0;
    if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", root, rel) >= sizeof(dir)) {
        gtp_errf(errstr, errstr_size, "path too long: %s/%s", root, rel);
        err = GTP_ERR_INVAL;
        goto out;
    }
    uuid_generate_random(u);
    uuid_unparse_lower(u, id);
    snprintf(name, sizeof(name), "part-compact-%s.%s.parquet", id,
             gtp_parquet_codec_name(popts ? popts->codec : GTP_PARQUET_ZSTD));
    err = gtp_parquet_write_file(w, dir, name, &fst, errstr, errstr_size);
    if (err)
        goto out;
    written = true;
    gtp_failpoint("compact");
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (stat(path, &sb) != 0) {
        gtp_errf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        err = GTP_ERR_IO;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *rm = json_object();
        json_object_set(rm, "path", json_object_get(files[i], "path"));
        json_object_set(rm, "partitionValues", json_object_get(files[i], "partitionValues"));
        json_object_set(rm, "size", json_object_get(files[i], "size"));
        in_bytes += json_integer_value(json_object_get(files[i], "size"));
        json_array_append_new(removes, rm);
    }
    char newrel[4096 + 128];
    snprintf(newrel, sizeof(newrel), "%s/%s", rel, name);
    date = json_string_value(json_object_get(pv, "date_posted"));
    region = json_string_value(json_object_get(pv, "region"));
    struct gtp_delta_add add = {newrel,
                                {date, region},
                                sb.st_size,
                                (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000,
                                &fst};
    err = gtp_delta_commit_rewrite(root, removes, &add, 1, read_version, &version, errstr,
                                   errstr_size);
    if (err == GTP_ERR_FENCED) {
        st->gave_up++; /* another compactor got there first: its file stands */
        err = 0;
        goto out;
    }
    if (err)
        goto out;
    written = false; /* committed: it is the table's now */
    st->partitions++;
    st->files_in += n;
    st->files_out++;
    st->bytes_in += in_bytes;
    st->bytes_out += sb.st_size;
    st->rows += rows;
    st->last_version = version;
out:
    if (written) {
        /* not committed: nobody may see it */
        unlink(path);
    }
    json_decref(removes);
    gtp_parquet_file_stats_fini(&fst);
    gtp_parquet_writer_free(w);
    return err;
}

int gtp_delta_optimize(const char *root, const struct gtp_delta_optimize_opts *opts,
                       struct gtp_delta_optimize_stats *stats, char *errstr, size_t errstr_size)
{
    struct live l = {json_object(), json_object(), -1};
    struct gtp_delta_optimize_stats st = {.last_version = -1};
    int64_t target =
        opts->target_file_size > 0 ? opts->target_file_size : GTP_DELTA_TARGET_FILE_SIZE;
    int64_t read_version = -1;
    json_t *groups = json_object(), *files;
    const char *key;
    int err;

    err = gtp_delta_replay(root, live_action, &l, &read_version, errstr, errstr_size);
    if (err)
        goto out;
    /* small files by partition */
    const char *path;
    json_t *add;
    json_object_foreach(l.adds, path, add)
    {
        char k[512];
        if (json_integer_value(json_object_get(add, "size")) >= target)
            continue;
        if (opts->checkpointed_only && json_object_get(l.after, path))
            continue;
        part_key(add, k, sizeof(k));
        json_t *g = json_object_get(groups, k);
        if (!g) {
            g = json_array();
            json_object_set_new(groups, k, g);
        }
        json_array_append(g, add);
    }
    json_object_foreach(groups, key, files)
    {
        size_t n = json_array_size(files);
        json_t *first = json_array_get(files, 0);
        const char *date = json_string_value(
            json_object_get(json_object_get(first, "partitionValues"), "date_posted"));
        bool closed = opts->closed_before && date && strcmp(date, opts->closed_before) < 0;
        if (n < 2 || (!closed && (!opts->min_open_files || n < opts->min_open_files)))
            continue;
        json_t **v = gtp_xcalloc(n, sizeof(json_t *));
        for (size_t i = 0; i < n; i++)
            v[i] = json_array_get(files, i);
        qsort(v, n, sizeof(json_t *), cmp_by_path);
        /* bins of consecutive files up to the target size; a bin of one stays as it is */
        size_t b0 = 0;
        int64_t sum = 0;
        for (size_t i = 0; i <= n && !err; i++) {
            int64_t sz = i < n ? json_integer_value(json_object_get(v[i], "size")) : 0;
            if (i == n || (sum + sz > target && i > b0)) {
                if (i - b0 >= 2)
                    err = rewrite_bin(root, v + b0, i - b0, read_version, opts->popts, &st, errstr,
                                      errstr_size);
                b0 = i;
                sum = 0;
            }
            sum += sz;
        }
        free(v);
        if (err)
            break;
    }
out:
    if (stats)
        *stats = st;
    json_decref(groups);
    json_decref(l.adds);
    json_decref(l.after);
    return err;
}

/* ------------------------------------------------------------------------------------------
 * Vacuum */

int gtp_delta_vacuum(const char *root, int64_t retention_ms, int64_t now_ms, size_t *deleted,
                     int64_t *bytes, char *errstr, size_t errstr_size)
{
    char **paths = NULL, full[8192];
    size_t n = 0, k = 0;
    int64_t b = 0;
    int err;

    if (!now_ms)
        now_ms = wall_ms();
    if (retention_ms < 0)
        retention_ms = gtp_delta_retention_ms(root, "delta.deletedFileRetentionDuration",
                                              GTP_DELTA_DELETED_FILE_RETENTION_MS);
    /* unreferenced data files and temp files, as the orphan scan sees them */
    err = gtp_delta_orphans(root, &paths, &n, errstr, errstr_size);
    if (err)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        snprintf(full, sizeof(full), "%s/%s", root, paths[i]);
        if (stat(full, &sb) != 0)
            continue;
        int64_t mtime = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
        if (mtime + retention_ms > now_ms)
            continue; /* young: a reader of a recent version, or a roll or rewrite in flight */
        if (unlink(full) == 0) {
            k++;
            b += sb.st_size;
        } else if (errno != ENOENT) {
            gtp_errf(errstr, errstr_size, "%s: %s", full, strerror(errno));
            err = GTP_ERR_IO;
        }
    }
out:
    gtp_delta_paths_free(paths, n);
    if (deleted)
        *deleted = k;
    if (bytes)
        *bytes = b;
    return err;
}
