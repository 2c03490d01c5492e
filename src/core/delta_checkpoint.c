/* Delta checkpoints (Parquet for other readers, a JSON snapshot for ours), _last_checkpoint
 * and log cleanup; see include/gtp/delta_checkpoint.h. */
#define _GNU_SOURCE
#include "gtp/delta_checkpoint.h"

#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gtp/delta.h"
#include "gtp/buf.h"
#include "gtp/err.h"
#include "gtp/failpoint.h"
#include "gtp/parquet.h"
#include "gtp/pqnested.h"
#include "gtp/util.h"

#define LOG_DIR "_delta_log"

/* The classic checkpoint schema: one nullable struct column per action kind, with the
 * fields this project writes (readers fill the optional ones they miss with nulls). */
static const char checkpoint_schema[] =
    "{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"txn\",\"type\":{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"appId\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"version\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"lastUpdated\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]},"
    "\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"add\",\"type\":{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"path\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"partitionValues\",\"type\":{\"type\":\"map\",\"keyType\":\"string\","
    "\"valueType\":\"string\",\"valueContainsNull\":true},\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"size\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"modificationTime\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"dataChange\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"stats\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"map\",\"keyType\":\"string\","
    "\"valueType\":\"string\",\"valueContainsNull\":true},\"nullable\":true,\"metadata\":{}}]},"
    "\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"remove\",\"type\":{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"path\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"deletionTimestamp\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"dataChange\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"extendedFileMetadata\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"partitionValues\",\"type\":{\"type\":\"map\",\"keyType\":\"string\","
    "\"valueType\":\"string\",\"valueContainsNull\":true},\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"size\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]},"
    "\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"metaData\",\"type\":{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"description\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"format\",\"type\":{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"provider\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"options\",\"type\":{\"type\":\"map\",\"keyType\":\"string\","
    "\"valueType\":\"string\",\"valueContainsNull\":true},\"nullable\":true,\"metadata\":{}}]},"
    "\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"schemaString\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"partitionColumns\",\"type\":{\"type\":\"array\",\"elementType\":\"string\","
    "\"containsNull\":true},\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"configuration\",\"type\":{\"type\":\"map\",\"keyType\":\"string\","
    "\"valueType\":\"string\",\"valueContainsNull\":true},\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"createdTime\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]},"
    "\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"protocol\",\"type\":{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"minReaderVersion\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"minWriterVersion\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}}]},"
    "\"nullable\":true,\"metadata\":{}}]}";

/* The fields of each action the checkpoint schema has; others are dropped from its row
 * (the JSON snapshot keeps the action whole). */
static const char *const keep_txn[] = {"appId", "version", "lastUpdated", NULL};
static const char *const keep_add[] = {"path",       "partitionValues", "size", "modificationTime",
                                       "dataChange", "stats",           "tags", NULL};
static const char *const keep_remove[] = {
    "path", "deletionTimestamp", "dataChange", "extendedFileMetadata", "partitionValues", "size",
    NULL};
static const char *const keep_meta[] = {"id",
                                        "name",
                                        "description",
                                        "format",
                                        "schemaString",
                                        "partitionColumns",
                                        "configuration",
                                        "createdTime",
                                        NULL};
static const char *const keep_protocol[] = {"minReaderVersion", "minWriterVersion", NULL};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int io_error(int e, const char *what, char *errstr, size_t errstr_size)
{
    gtp_errf(errstr, errstr_size, "%s: %s", what, strerror(e));
    return (e == ENOSPC || e == EDQUOT) ? GTP_ERR_NOSPACE : GTP_ERR_IO;
}

/* ------------------------------------------------------------------------------------------
 * Table state */

struct state {
    json_t *protocol, *metadata; /* newest (owned references) */
    json_t *txns;                /* appId -> txn action */
    json_t *files;               /* path -> {"add": …} or {"remove": …} */
    const struct gtp_delta_fold *fold;
    void *fold_state;
    const char *root;
    int64_t snapshot; /* version of the snapshot the replay started at, -1: none */
    char *errstr;
    size_t errstr_size;
};

static void set_ref(json_t **slot, json_t *v)
{
    json_incref(v);
    json_decref(*slot);
    *slot = v;
}

static int state_action(const char *name, json_t *val, int64_t version, void *ctx)
{
    struct state *st = ctx;
    if (strcmp(name, GTP_DELTA_SNAPSHOT_ACTION) == 0) {
        st->snapshot = version;
    } else if (strcmp(name, "protocol") == 0) {
        set_ref(&st->protocol, val);
    } else if (strcmp(name, "metaData") == 0) {
        set_ref(&st->metadata, val);
    } else if (strcmp(name, "txn") == 0) {
        const char *app = json_string_value(json_object_get(val, "appId"));
        if (app)
            json_object_set(st->txns, app, val);
    } else if (strcmp(name, "add") == 0 || strcmp(name, "remove") == 0) {
        const char *path = json_string_value(json_object_get(val, "path"));
        if (!path) {
            gtp_errf(st->errstr, st->errstr_size, "version %" PRId64 ": %s without path", version,
                     name);
            return GTP_ERR_PARSE;
        }
        json_object_set_new(st->files, path, json_pack("{s:O}", name, val));
        if (name[0] == 'a' && st->fold && st->fold->data_file && version > st->snapshot)
            return st->fold->data_file(st->fold_state, st->root, val, version, st->errstr,
                                       st->errstr_size);
    } else if (strcmp(name, "commitInfo") == 0 && st->fold) {
        json_t *v = json_object_get(val, st->fold->info_key);
        if (v)
            return st->fold->add(st->fold_state, v, version, st->errstr, st->errstr_size);
    }
    return 0;
}

static void state_fini(struct state *st)
{
    json_decref(st->protocol);
    json_decref(st->metadata);
    json_decref(st->txns);
    json_decref(st->files);
    if (st->fold && st->fold_state)
        st->fold->discard(st->fold_state);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys of an object, sorted (borrowed strings, new array). */
static const char **sorted_keys(json_t *obj, size_t *n)
{
    const char **keys = gtp_xcalloc(json_object_size(obj) + 1, sizeof(char *));
    const char *k;
    json_t *v;
    *n = 0;
    json_object_foreach(obj, k, v)
    {
        (void)v;
        keys[(*n)++] = k;
    }
    qsort(keys, *n, sizeof(char *), cmp_cstr);
    return keys;
}

/* A copy of action with only the fields in keep. */
static json_t *project(json_t *action, const char *const *keep)
{
    json_t *o = json_object();
    for (size_t i = 0; keep[i]; i++) {
        json_t *v = json_object_get(action, keep[i]);
        if (v && !json_is_null(v))
            json_object_set(o, keep[i], v);
    }
    return o;
}

/* ------------------------------------------------------------------------------------------
 * Writing */

/* Append one action line to the snapshot text. */
static void snap_line(struct gtp_buf *snap, const char *name, json_t *val)
{
    json_t *o = json_pack("{s:O}", name, val);
    char *line = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
    gtp_buf_puts(snap, line);
    gtp_buf_putc(snap, '\n');
    free(line);
    json_decref(o);
}

static int add_row(struct gtp_pqnested_writer *w, const char *name, json_t *action,
                   const char *const *keep, char *errstr, size_t errstr_size)
{
    json_t *row = json_pack("{s:o}", name, project(action, keep));
    int err = gtp_pqnested_add_row(w, row, errstr, errstr_size);
    json_decref(row);
    return err;
}

int gtp_delta_checkpoint(const char *root, int64_t version, const struct gtp_delta_fold *fold,
                         int64_t deleted_file_retention_ms, int64_t now_ms,
                         struct gtp_delta_checkpoint_info *info, char *errstr, size_t errstr_size)
{
    struct state st = {.txns = json_object(),
                       .files = json_object(),
                       .fold = fold,
                       .root = root,
                       .snapshot = -1,
                       .errstr = errstr,
                       .errstr_size = errstr_size};
    struct gtp_pqnested_schema *schema = NULL;
    struct gtp_pqnested_writer *w = NULL;
    struct gtp_parquet_opts popts;
    struct gtp_delta_checkpoint_info ci = {.version = version};
    const char **keys = NULL;
    json_t *folded = NULL;
    struct gtp_buf snap = {0};
    char logdir[4096], snapdir[4096], name[64];
    size_t nkeys = 0;
    int64_t latest = -1;
    int err;

    if (!now_ms)
        now_ms = wall_ms();
    if (deleted_file_retention_ms < 0)
        deleted_file_retention_ms = gtp_delta_retention_ms(
            root, "delta.deletedFileRetentionDuration", GTP_DELTA_DELETED_FILE_RETENTION_MS);
    snprintf(logdir, sizeof(logdir), "%s/" LOG_DIR, root);
    snprintf(snapdir, sizeof(snapdir), "%s/" GTP_DELTA_SNAPSHOT_DIR, root);
    if (fold)
        st.fold_state = fold->begin(fold->opaque);
    err = gtp_delta_replay_until(root, version, state_action, &st, &latest, &ci.from, errstr,
                                 errstr_size);
    if (err)
        goto out;
    if (latest != version || !st.protocol || !st.metadata) {
        gtp_errf(errstr, errstr_size, "%s: version %" PRId64 " is not committed", root, version);
        err = GTP_ERR_INVAL;
        goto out;
    }
    if (fold) {
        folded = fold->end(st.fold_state);
        st.fold_state = NULL;
    }

    schema = gtp_pqnested_schema_parse(checkpoint_schema, errstr, errstr_size);
    if (!schema) {
        err = GTP_ERR_INTERNAL;
        goto out;
    }
    /* Checkpoints are read whole by every reader: small pages of plain values, zstd. */
    gtp_parquet_opts_default(&popts);
    w = gtp_pqnested_writer_new(schema, &popts);
    if (!w) {
        gtp_errf(errstr, errstr_size, "checkpoint writer: bad options");
        err = GTP_ERR_INTERNAL;
        goto out;
    }

    err = add_row(w, "protocol", st.protocol, keep_protocol, errstr, errstr_size);
    snap_line(&snap, "protocol", st.protocol);
    if (!err)
        err = add_row(w, "metaData", st.metadata, keep_meta, errstr, errstr_size);
    snap_line(&snap, "metaData", st.metadata);
    keys = sorted_keys(st.txns, &nkeys);
    for (size_t i = 0; i < nkeys && !err; i++) {
        json_t *t = json_object_get(st.txns, keys[i]);
        err = add_row(w, "txn", t, keep_txn, errstr, errstr_size);
        snap_line(&snap, "txn", t);
    }
    free(keys);
    keys = sorted_keys(st.files, &nkeys);
    for (size_t i = 0; i < nkeys && !err; i++) {
        json_t *f = json_object_get(st.files, keys[i]);
        json_t *add = json_object_get(f, "add"), *rm = json_object_get(f, "remove");
        if (add) {
            json_int_t sz = json_integer_value(json_object_get(add, "size"));
            ci.files++;
            ci.bytes += sz;
            err = add_row(w, "add", add, keep_add, errstr, errstr_size);
            snap_line(&snap, "add", add);
        } else if (rm) {
            /* a tombstone past the retention: vacuum may have deleted its file */
            json_int_t at = json_integer_value(json_object_get(rm, "deletionTimestamp"));
            if (at + deleted_file_retention_ms < now_ms)
                continue;
            err = add_row(w, "remove", rm, keep_remove, errstr, errstr_size);
            snap_line(&snap, "remove", rm);
        }
    }
    if (err)
        goto out;
    if (folded) {
        size_t i;
        json_t *v;
        json_array_foreach(folded, i, v)
        {
            json_t *ciobj = json_pack("{s:O}", fold->info_key, v);
            snap_line(&snap, "commitInfo", ciobj);
            json_decref(ciobj);
        }
    }
    ci.rows = gtp_pqnested_rows(w);

    snprintf(name, sizeof(name), "%020" PRId64 ".checkpoint.parquet", version);
    err = gtp_pqnested_write_file(w, logdir, name, errstr, errstr_size);
    if (err)
        goto out;
    gtp_failpoint("checkpoint");
    {
        char full[8192];
        struct stat sb;
        snprintf(full, sizeof(full), "%s/%s", logdir, name);
        if (stat(full, &sb) == 0)
            ci.parquet_sz = sb.st_size;
    }
    if (mkdir(snapdir, 0755) != 0 && errno != EEXIST) {
        err = io_error(errno, snapdir, errstr, errstr_size);
        goto out;
    }
    snprintf(name, sizeof(name), "%020" PRId64 ".json", version);
    err = gtp_delta_publish(snapdir, name, snap.p ? snap.p : "", snap.len, false, NULL, errstr,
                            errstr_size);
    if (err)
        goto out;
    /* _last_checkpoint only moves forward: a slower writer of an older checkpoint must
     * not send readers back (its files are valid either way). */
    if (gtp_delta_last_checkpoint(root) < version) {
        char text[128];
        int n = snprintf(text, sizeof(text), "{\"version\":%" PRId64 ",\"size\":%zu}\n", version,
                         ci.rows);
        err = gtp_delta_publish(logdir, "_last_checkpoint", text, (size_t)n, false, NULL, errstr,
                                errstr_size);
    }
out:
    if (!err && info)
        *info = ci;
    free(keys);
    gtp_buf_fini(&snap);
    json_decref(folded);
    gtp_pqnested_writer_free(w);
    gtp_pqnested_schema_free(schema);
    state_fini(&st);
    return err;
}

int64_t gtp_delta_last_checkpoint(const char *root)
{
    char path[4096];
    json_error_t je;
    json_t *o;
    int64_t v = -1;
    snprintf(path, sizeof(path), "%s/" LOG_DIR "/_last_checkpoint", root);
    o = json_load_file(path, 0, &je);
    if (o && json_is_integer(json_object_get(o, "version")))
        v = json_integer_value(json_object_get(o, "version"));
    json_decref(o);
    return v;
}

/* ------------------------------------------------------------------------------------------
 * Table properties */

int gtp_delta_interval_ms(const char *text, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"millisecond", 1}, {"second", 1000},  {"minute", 60000},
                 {"hour", 3600000},  {"day", 86400000}, {"week", 604800000}};
    const char *s = text;
    char *end;
    long long n;
    while (isspace((unsigned char)*s))
        s++;
    if (strncasecmp(s, "interval", 8) == 0)
        s += 8;
    n = strtoll(s, &end, 10);
    if (end == s || n < 0)
        return GTP_ERR_PARSE;
    s = end;
    while (isspace((unsigned char)*s))
        s++;
    for (size_t i = 0; i < GTP_ARRAY_LEN(units); i++) {
        size_t ul = strlen(units[i].unit);
        if (strncasecmp(s, units[i].unit, ul) != 0)
            continue;
        const char *r = s + ul;
        if (*r == 's' || *r == 'S')
            r++;
        while (isspace((unsigned char)*r))
            r++;
        if (*r)
            return GTP_ERR_PARSE;
        if (n > INT64_MAX / units[i].ms)
            return GTP_ERR_PARSE;
        *ms = n * units[i].ms;
        return 0;
    }
    return GTP_ERR_PARSE;
}

struct prop_ctx {
    json_t *metadata;
};

static int prop_action(const char *name, json_t *val, int64_t version, void *ctx)
{
    struct prop_ctx *p = ctx;
    (void)version;
    if (strcmp(name, "metaData") == 0)
        set_ref(&p->metadata, val);
    return 0;
}

char *gtp_delta_table_property(const char *root, const char *key, char *errstr, size_t errstr_size)
{
    struct prop_ctx p = {NULL};
    char *out = NULL;
    if (gtp_delta_replay(root, prop_action, &p, NULL, errstr, errstr_size) == 0 && p.metadata) {
        const char *v =
            json_string_value(json_object_get(json_object_get(p.metadata, "configuration"), key));
        out = gtp_xstrdup(v);
    }
    json_decref(p.metadata);
    return out;
}

int64_t gtp_delta_retention_ms(const char *root, const char *key, int64_t fallback)
{
    char err[256];
    int64_t ms;
    char *prop = gtp_delta_table_property(root, key, err, sizeof(err));
    if (!prop || gtp_delta_interval_ms(prop, &ms) != 0)
        ms = fallback;
    free(prop);
    return ms;
}

/* ------------------------------------------------------------------------------------------
 * Cleanup */

/* "<20 digits><suffix>" -> version. */
static bool name_version(const char *name, const char *suffix, int64_t *v)
{
    size_t sl = strlen(suffix);
    int64_t x = 0;
    if (strlen(name) != 20 + sl || strcmp(name + 20, suffix) != 0)
        return false;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        x = x * 10 + (name[i] - '0');
    }
    *v = x;
    return true;
}

static int64_t mtime_ms(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return -1;
    return (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
}

/* Delete dir's "<v>.json" (and, with checkpoints, "<v>.checkpoint.parquet") files with
 * v < keep_from; *k counts them. A missing dir is fine. */
static int delete_before(const char *dir, int64_t keep_from, bool checkpoints, size_t *k,
                         char *errstr, size_t errstr_size)
{
    char path[8192];
    struct dirent *de;
    int err = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : io_error(errno, dir, errstr, errstr_size);
    while ((de = readdir(d)) != NULL) {
        int64_t v;
        if (!(name_version(de->d_name, ".json", &v) ||
              (checkpoints && name_version(de->d_name, ".checkpoint.parquet", &v))) ||
            v >= keep_from)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (unlink(path) == 0)
            (*k)++;
        else if (errno != ENOENT)
            err = io_error(errno, path, errstr, errstr_size);
    }
    closedir(d);
    return err;
}

int gtp_delta_cleanup(const char *root, int64_t log_retention_ms, int64_t now_ms, size_t *removed,
                      char *errstr, size_t errstr_size)
{
    char logdir[4096], snapdir[4096], path[8192];
    DIR *d = NULL;
    struct dirent *de;
    int64_t keep_from = -1, last = gtp_delta_last_checkpoint(root);
    size_t k = 0;
    int err = 0;

    if (!now_ms)
        now_ms = wall_ms();
    if (log_retention_ms < 0)
        log_retention_ms =
            gtp_delta_retention_ms(root, "delta.logRetentionDuration", GTP_DELTA_LOG_RETENTION_MS);
    int64_t cutoff = now_ms - log_retention_ms;
    snprintf(logdir, sizeof(logdir), "%s/" LOG_DIR, root);
    snprintf(snapdir, sizeof(snapdir), "%s/" GTP_DELTA_SNAPSHOT_DIR, root);

    /* keep_from: the newest checkpoint (with its snapshot, at or before _last_checkpoint)
     * whose commit is older than the cutoff: every version from it on stays readable. */
    d = opendir(logdir);
    if (!d)
        return io_error(errno, logdir, errstr, errstr_size);
    while ((de = readdir(d)) != NULL) {
        int64_t v;
        if (!name_version(de->d_name, ".checkpoint.parquet", &v) || v > last || v <= keep_from)
            continue;
        snprintf(path, sizeof(path), "%s/%020" PRId64 ".json", snapdir, v);
        if (access(path, F_OK) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%020" PRId64 ".json", logdir, v);
        int64_t t = mtime_ms(path);
        if (t >= 0 && t <= cutoff)
            keep_from = v;
    }
    closedir(d);
    d = NULL;
    if (keep_from < 0)
        goto out;

    /* Commits and checkpoints before it, and their snapshots, are no longer needed. */
    err = delete_before(logdir, keep_from, true, &k, errstr, errstr_size);
    if (!err)
        err = delete_before(snapdir, keep_from, false, &k, errstr, errstr_size);
out:
    if (removed)
        *removed = k;
    return err;
}
