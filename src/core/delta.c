/* Delta Lake log writer and reader for the archive table (see include/gtp/delta.h and
 * delta-io/delta PROTOCOL.md). JSON is built with jansson so every string is escaped. */
#define _GNU_SOURCE
#include "gtp/delta.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "gtp/buf.h"
#include "gtp/err.h"
#include "gtp/hive.h"
#include "gtp/utf8.h"
#include "gtp/util.h"

#ifndef GTP_VERSION
#define GTP_VERSION "0.0.0"
#endif

const char *const gtp_delta_partition_columns[GTP_DELTA_NPART] = {"date_posted", "region"};

#define LOG_DIR            "_delta_log"
#define STATS_PREFIX_CHARS 32 /* what Spark and delta-kernel keep of a string */
#define MAX_COMMIT_RETRIES 1000

static int io_error(int e, const char *what, char *errstr, size_t errstr_size)
{
    gtp_errf(errstr, errstr_size, "%s: %s", what, strerror(e));
    return (e == ENOSPC || e == EDQUOT) ? GTP_ERR_NOSPACE : GTP_ERR_IO;
}

static int64_t now_ms(void)
{
    return gtp_wall_us() / 1000;
}

/* ------------------------------------------------------------------------------------------
 * Atomic publish */

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int rc = fsync(dfd);
    int e = errno;
    close(dfd);
    errno = e;
    return rc;
}

int gtp_delta_publish(const char *dir, const char *name, const void *data, size_t len,
                      bool noreplace, bool *exists, char *errstr, size_t errstr_size)
{
    char tmp[4096], dst[4096];
    int fd = -1, err = 0;
    bool tmp_made = false;

    if (exists)
        *exists = false;
    static unsigned long seq; /* distinct temp names for threads of one process */
    unsigned long my = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.%ld-%lu.tmp", dir, name, (long)getpid(), my) >=
            sizeof(tmp) ||
        (size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= sizeof(dst)) {
        gtp_errf(errstr, errstr_size, "path too long: %s/%s", dir, name);
        return GTP_ERR_INVAL;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        err = io_error(errno, tmp, errstr, errstr_size);
        goto out;
    }
    tmp_made = true;
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        err = io_error(errno, tmp, errstr, errstr_size);
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        err = io_error(errno, tmp, errstr, errstr_size);
        goto out;
    }
    fd = -1;
    if (noreplace) {
        /* Never overwrite: EEXIST means another writer owns this name. */
        int rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE);
        if (rc != 0 && (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP)) {
            rc = link(tmp, dst);
            if (rc == 0 || errno == EEXIST) {
                int e = errno;
                unlink(tmp);
                tmp_made = rc != 0;
                errno = e;
            }
        } else if (rc == 0) {
            tmp_made = false;
        }
        if (rc != 0) {
            if (errno == EEXIST && exists)
                *exists = true;
            err = io_error(errno, dst, errstr, errstr_size);
            goto out;
        }
    } else {
        if (rename(tmp, dst) != 0) {
            err = io_error(errno, dst, errstr, errstr_size);
            goto out;
        }
        tmp_made = false;
    }
    if (fsync_dir(dir) != 0)
        err = io_error(errno, dir, errstr, errstr_size);
out:
    if (fd >= 0)
        close(fd);
    if (tmp_made)
        unlink(tmp);
    return err;
}

/* ------------------------------------------------------------------------------------------
 * Log reading */

static bool version_name(const char *name, int64_t *v)
{
    /* 20 digits + ".json" exactly */
    if (strlen(name) != 25 || strcmp(name + 20, ".json") != 0)
        return false;
    int64_t x = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        if (x > (INT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (name[i] - '0');
    }
    *v = x;
    return true;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sorted versions of the "<20 digits>.json" files in dir (new array; none when dir does
 * not exist). */
static int list_numbered(const char *dir, int64_t **out, size_t *n, char *errstr,
                         size_t errstr_size)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return io_error(errno, dir, errstr, errstr_size);
    }
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        int64_t v;
        if (!version_name(de->d_name, &v))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *out = gtp_xrealloc(*out, cap * sizeof(int64_t));
        }
        (*out)[(*n)++] = v;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof(int64_t), cmp_i64);
    return 0;
}

/* Sorted list of committed versions (new array). */
static int list_versions(const char *root, int64_t **out, size_t *n, char *errstr,
                         size_t errstr_size)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/" LOG_DIR, root);
    return list_numbered(dir, out, n, errstr, errstr_size);
}

int gtp_delta_latest_version(const char *root, int64_t *version, char *errstr, size_t errstr_size)
{
    int64_t *vs = NULL;
    size_t n = 0;
    int err = list_versions(root, &vs, &n, errstr, errstr_size);
    *version = (!err && n) ? vs[n - 1] : -1;
    free(vs);
    return err;
}

static char *read_file(const char *path, size_t *len, int *err_no)
{
    struct gtp_buf b = {0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err_no = errno;
        return NULL;
    }
    if (gtp_buf_read_file(&b, f, 0)) {
        *err_no = EIO;
        gtp_buf_fini(&b);
        fclose(f);
        return NULL;
    }
    fclose(f);
    return gtp_buf_take(&b, len);
}

/* Calls fn(action_name, action_value, ctx) for every action of one commit. fn returns 0
 * to go on or an error to stop. */
typedef int (*action_fn)(const char *name, json_t *value, int64_t version, void *ctx);

/* Calls fn for every action of the newline-delimited JSON file at path, as actions of
 * version v. */
static int read_actions(const char *path, int64_t v, action_fn fn, void *ctx, char *errstr,
                        size_t errstr_size)
{
    size_t len = 0;
    int e = 0, err = 0;
    char *text = read_file(path, &len, &e);
    if (!text)
        return io_error(e, path, errstr, errstr_size);
    char *line = text;
    while (!err && line < text + len) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        size_t ll = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
        if (ll > 0 && !(ll == 1 && line[0] == '\r')) {
            json_error_t je;
            /* JSON_ALLOW_NUL: the commitInfo's dedup ids are event ids, and
             * an event id may hold "\u0000" (state.c reads them by length) */
            json_t *obj = json_loadb(line, ll, JSON_ALLOW_NUL, &je);
            if (!obj || !json_is_object(obj)) {
                gtp_errf(errstr, errstr_size, "%s: bad JSON line: %s", path,
                         obj ? "not an object" : je.text);
                err = GTP_ERR_PARSE;
            } else {
                const char *key;
                json_t *val;
                json_object_foreach(obj, key, val)
                {
                    err = fn(key, val, v, ctx);
                    if (err)
                        break;
                }
            }
            json_decref(obj);
        }
        line += ll + 1;
    }
    free(text);
    return err;
}

static int read_commit(const char *root, int64_t v, action_fn fn, void *ctx, char *errstr,
                       size_t errstr_size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/" LOG_DIR "/%020" PRId64 ".json", root, v);
    return read_actions(path, v, fn, ctx, errstr, errstr_size);
}

/* Versions of the snapshots in _delta_log/_gtp (sorted, new array). */
static int list_snapshots(const char *root, int64_t **out, size_t *n, char *errstr,
                          size_t errstr_size)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/" GTP_DELTA_SNAPSHOT_DIR, root);
    return list_numbered(dir, out, n, errstr, errstr_size);
}

int gtp_delta_replay_until(const char *root, int64_t until, gtp_delta_action_fn fn, void *ctx,
                           int64_t *latest, int64_t *from_snapshot, char *errstr,
                           size_t errstr_size)
{
    int64_t *vs = NULL, *ss = NULL, start = 0, snap = -1, last = -1;
    size_t n = 0, ns = 0, i0 = 0;
    int err = list_versions(root, &vs, &n, errstr, errstr_size);
    if (!err)
        err = list_snapshots(root, &ss, &ns, errstr, errstr_size);
    if (err)
        goto out;
    while (n && vs[n - 1] > until)
        n--; /* versions past `until` are not replayed */
    last = n ? vs[n - 1] : -1;
    /* Start at the newest snapshot from which every later commit is still there; without
     * one, at version 0. Commits before a snapshot may have been cleaned up. */
    for (size_t k = ns; k-- > 0 && snap < 0;) {
        if (ss[k] > last)
            continue;
        size_t i = 0;
        while (i < n && vs[i] <= ss[k])
            i++;
        bool contiguous = true;
        for (size_t j = i; j < n && contiguous; j++)
            contiguous = vs[j] == ss[k] + 1 + (int64_t)(j - i);
        if (contiguous) {
            snap = ss[k];
            i0 = i;
        }
    }
    if (snap < 0) {
        for (size_t i = 0; i < n; i++) {
            if (vs[i] != (int64_t)i) {
                gtp_errf(errstr, errstr_size,
                         "%s/" LOG_DIR ": version %zu missing and no snapshot covers it", root, i);
                err = GTP_ERR_PARSE;
                goto out;
            }
        }
    } else {
        char path[4096];
        snprintf(path, sizeof(path), "%s/" GTP_DELTA_SNAPSHOT_DIR "/%020" PRId64 ".json", root,
                 snap);
        json_t *mark = json_pack("{s:I}", "version", (json_int_t)snap);
        err = fn(GTP_DELTA_SNAPSHOT_ACTION, mark, snap, ctx);
        json_decref(mark);
        if (!err)
            err = read_actions(path, snap, fn, ctx, errstr, errstr_size);
        start = snap + 1;
    }
    (void)start;
    for (size_t i = i0; i < n && !err; i++)
        err = read_commit(root, vs[i], fn, ctx, errstr, errstr_size);
out:
    if (latest)
        *latest = err ? -1 : last;
    if (from_snapshot)
        *from_snapshot = snap;
    free(vs);
    free(ss);
    return err;
}

/* Replay every commit in order (from the newest usable snapshot); *latest (may be NULL)
 * gets the last version replayed. */
static int replay_latest(const char *root, action_fn fn, void *ctx, int64_t *latest, char *errstr,
                         size_t errstr_size)
{
    return gtp_delta_replay_until(root, INT64_MAX, fn, ctx, latest, NULL, errstr, errstr_size);
}

static int replay(const char *root, action_fn fn, void *ctx, char *errstr, size_t errstr_size)
{
    return replay_latest(root, fn, ctx, NULL, errstr, errstr_size);
}

int gtp_delta_replay(const char *root, gtp_delta_action_fn fn, void *ctx, int64_t *latest,
                     char *errstr, size_t errstr_size)
{
    return replay_latest(root, fn, ctx, latest, errstr, errstr_size);
}

struct txn_ctx {
    const char *app_id;
    int64_t version;
};

static int txn_action(const char *name, json_t *val, int64_t version, void *ctx)
{
    struct txn_ctx *t = ctx;
    (void)version;
    if (strcmp(name, "txn") != 0)
        return 0;
    const char *app = json_string_value(json_object_get(val, "appId"));
    json_t *v = json_object_get(val, "version");
    if (app && json_is_integer(v) && strcmp(app, t->app_id) == 0)
        t->version = json_integer_value(v);
    return 0;
}

int gtp_delta_txn_version(const char *root, const char *app_id, int64_t *version, char *errstr,
                          size_t errstr_size)
{
    struct txn_ctx t = {app_id, -1};
    int err = replay(root, txn_action, &t, errstr, errstr_size);
    *version = err ? -1 : t.version;
    return err;
}

/* Live files: every add/remove event in log order; the last event per path wins. */
struct file_event {
    char *path;
    size_t seq;
    bool add;
};

struct files_ctx {
    struct file_event *ev;
    size_t n;
    size_t cap;
    char *errstr;
    size_t errstr_size;
};

static int files_action(const char *name, json_t *val, int64_t version, void *ctx)
{
    struct files_ctx *f = ctx;
    bool add = strcmp(name, "add") == 0;
    if (!add && strcmp(name, "remove") != 0)
        return 0;
    const char *uri = json_string_value(json_object_get(val, "path"));
    if (!uri) {
        gtp_errf(f->errstr, f->errstr_size, "version %" PRId64 ": %s without path", version, name);
        return GTP_ERR_PARSE;
    }
    size_t cap = strlen(uri) + 1;
    char *path = gtp_xmalloc(cap);
    if (gtp_hive_uri_decode(uri, path, cap) < 0) {
        free(path);
        gtp_errf(f->errstr, f->errstr_size, "version %" PRId64 ": bad path %s", version, uri);
        return GTP_ERR_PARSE;
    }
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 256;
        f->ev = gtp_xrealloc(f->ev, f->cap * sizeof(*f->ev));
    }
    f->ev[f->n] = (struct file_event){path, f->n, add};
    f->n++;
    return 0;
}

static int cmp_event(const void *a, const void *b)
{
    const struct file_event *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c)
        return c;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

int gtp_delta_list_files(const char *root, char ***paths, size_t *n, char *errstr,
                         size_t errstr_size)
{
    struct files_ctx f = {.errstr = errstr, .errstr_size = errstr_size};
    char **out = NULL;
    size_t k = 0;
    int err = replay(root, files_action, &f, errstr, errstr_size);
    if (err)
        goto out;
    if (f.n)
        qsort(f.ev, f.n, sizeof(*f.ev), cmp_event);
    out = gtp_xcalloc(f.n + 1, sizeof(char *));
    for (size_t i = 0; i < f.n; i++) {
        bool last = i + 1 == f.n || strcmp(f.ev[i].path, f.ev[i + 1].path) != 0;
        if (last && f.ev[i].add) {
            out[k++] = f.ev[i].path;
            f.ev[i].path = NULL;
        }
    }
out:
    for (size_t i = 0; i < f.n; i++)
        free(f.ev[i].path);
    free(f.ev);
    *paths = err ? NULL : out;
    *n = err ? 0 : k;
    if (err)
        free(out);
    return err;
}

void gtp_delta_paths_free(char **paths, size_t n)
{
    if (!paths)
        return;
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct walk {
    char **out;
    size_t n;
    size_t cap;
    char **live;
    size_t nlive;
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int walk_dir(const char *root, const char *rel, struct walk *wk, int depth, char *errstr,
                    size_t errstr_size)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d)
        return io_error(errno, dir, errstr, errstr_size);
    int err = 0;
    struct dirent *de;
    while (!err && (de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
            continue;
        if (depth == 0 && strcmp(nm, LOG_DIR) == 0)
            continue;
        char sub[4096];
        if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", nm) >= sizeof(sub))
            continue;
        char full[8192];
        snprintf(full, sizeof(full), "%s/%s", root, sub);
        struct stat st;
        if (lstat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < 8)
                err = walk_dir(root, sub, wk, depth + 1, errstr, errstr_size);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        bool orphan = false;
        if (nm[0] == '.' && ends_with(nm, ".tmp")) {
            orphan = true;
        } else if (nm[0] != '.' && nm[0] != '_' && ends_with(nm, ".parquet")) {
            const char *key = sub;
            orphan = !bsearch(&key, wk->live, wk->nlive, sizeof(char *), cmp_str);
        }
        if (orphan) {
            if (wk->n == wk->cap) {
                wk->cap = wk->cap ? wk->cap * 2 : 16;
                wk->out = gtp_xrealloc(wk->out, wk->cap * sizeof(char *));
            }
            wk->out[wk->n++] = gtp_xstrdup(sub);
        }
    }
    closedir(d);
    return err;
}

int gtp_delta_orphans(const char *root, char ***paths, size_t *n, char *errstr, size_t errstr_size)
{
    struct walk wk = {0};
    int err = gtp_delta_list_files(root, &wk.live, &wk.nlive, errstr, errstr_size);
    if (err)
        goto out;
    err = walk_dir(root, "", &wk, 0, errstr, errstr_size);
    if (!err && wk.n)
        qsort(wk.out, wk.n, sizeof(char *), cmp_str);
out:
    gtp_delta_paths_free(wk.live, wk.nlive);
    if (err) {
        gtp_delta_paths_free(wk.out, wk.n);
        wk.out = NULL;
        wk.n = 0;
    }
    *paths = wk.out;
    *n = wk.n;
    return err;
}

/* ------------------------------------------------------------------------------------------
 * Log writing */

/* Serialise actions (a JSON array of objects) as newline-delimited JSON. */
static char *ndjson(json_t *actions, size_t *len)
{
    struct gtp_buf out = {0};
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        char *line = json_dumps(a, JSON_COMPACT);
        if (!line)
            abort(); /* only allocation failures (strings are validated UTF-8) */
        gtp_buf_puts(&out, line);
        gtp_buf_putc(&out, '\n');
        free(line);
    }
    return gtp_buf_take(&out, len);
}

static json_t *field(const char *name, json_t *type, bool nullable)
{
    return json_pack("{s:s, s:o, s:b, s:{}}", "name", name, "type", type, "nullable", nullable,
                     "metadata");
}

static char *schema_string(void)
{
    json_t *fields = json_array();
    for (int i = 0; i < GTP_PARQUET_NCOLS; i++) {
        const char *name = gtp_parquet_col_name(i);
        json_t *type;
        bool nullable = true;
        switch (i) {
        case GTP_PARQUET_POSTED_AT:
            type = json_string("timestamp");
            nullable = false;
            break;
        case GTP_PARQUET_SKILLS_ARRAY:
            type = json_pack("{s:s, s:s, s:b}", "type", "array", "elementType", "string",
                             "containsNull", 1);
            break;
        case GTP_PARQUET_IS_REMOTE:
            type = json_string("boolean");
            break;
        default:
            type = json_string("string");
            /* parquet.h writes these as REQUIRED columns */
            nullable =
                !(i == GTP_PARQUET_EVENT_ID || i == GTP_PARQUET_TITLE || i == GTP_PARQUET_JOB_ID);
        }
        json_array_append_new(fields, field(name, type, nullable));
    }
    json_array_append_new(fields, field("date_posted", json_string("date"), true));
    json_array_append_new(fields, field("region", json_string("string"), true));
    json_t *schema = json_pack("{s:s, s:o}", "type", "struct", "fields", fields);
    char *s = json_dumps(schema, JSON_COMPACT);
    json_decref(schema);
    return s;
}

static json_t *commit_info(const char *operation, int64_t ts);

static json_t *commit_info_ex(const char *operation, int64_t ts, const char *info_key,
                              json_t *info_value)
{
    json_t *ci = commit_info(operation, ts);
    if (info_key && info_value)
        json_object_set(json_object_get(ci, "commitInfo"), info_key, info_value);
    return ci;
}

static json_t *commit_info(const char *operation, int64_t ts)
{
    return json_pack("{s:{s:I, s:s, s:{s:s, s:s}, s:b, s:s}}", "commitInfo", "timestamp",
                     (json_int_t)ts, "operation", operation, "operationParameters", "mode",
                     "Append", "partitionBy", "[\"date_posted\",\"region\"]", "isBlindAppend", 1,
                     "engineInfo", "gtp/" GTP_VERSION);
}

int gtp_delta_create(const char *root, char *errstr, size_t errstr_size)
{
    char logdir[4096];
    int err = 0;
    char *schema = NULL, *text = NULL;
    json_t *actions = NULL;

    if ((size_t)snprintf(logdir, sizeof(logdir), "%s/" LOG_DIR, root) >= sizeof(logdir)) {
        gtp_errf(errstr, errstr_size, "path too long: %s", root);
        return GTP_ERR_INVAL;
    }
    /* mkdir -p root */
    char path[4096];
    snprintf(path, sizeof(path), "%s", root);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != 0)
            continue;
        char save = *p;
        *p = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return io_error(errno, path, errstr, errstr_size);
        *p = save;
        if (!save)
            break;
    }
    if (mkdir(logdir, 0755) != 0 && errno != EEXIST)
        return io_error(errno, logdir, errstr, errstr_size);

    int64_t latest;
    err = gtp_delta_latest_version(root, &latest, errstr, errstr_size);
    if (err || latest >= 0)
        return err;

    uuid_t u;
    char id[37];
    uuid_generate_random(u);
    uuid_unparse_lower(u, id);
    int64_t ts = now_ms();
    schema = schema_string();
    actions = json_array();
    json_array_append_new(actions, json_pack("{s:{s:i, s:i}}", "protocol", "minReaderVersion", 1,
                                             "minWriterVersion", 2));
    json_array_append_new(actions, json_pack("{s:{s:s, s:{s:s, s:{}}, s:s, s:[s, s], s:{}, s:I}}",
                                             "metaData", "id", id, "format", "provider", "parquet",
                                             "options", "schemaString", schema, "partitionColumns",
                                             "date_posted", "region", "configuration",
                                             "createdTime", (json_int_t)ts));
    json_array_append_new(actions, commit_info("CREATE TABLE", ts));
    size_t len;
    text = ndjson(actions, &len);
    bool exists = false;
    err = gtp_delta_publish(logdir, "00000000000000000000.json", text, len, true, &exists, errstr,
                            errstr_size);
    if (err && exists)
        err = 0; /* a concurrent creator won: the table exists */
    free(schema);
    free(text);
    json_decref(actions);
    return err;
}

static void cut_chars(const char *s, size_t len, size_t max_chars, size_t *cut, bool *truncated)
{
    size_t chars = 0, i = 0;
    while (i < len) {
        if (chars == max_chars) {
            *cut = i;
            *truncated = true;
            return;
        }
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    *cut = len;
    *truncated = false;
}

static json_t *ts_json(int64_t us)
{
    /* Floor to milliseconds, also before 1970. */
    int64_t ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int msec = (int)(ms - secs * 1000);
    time_t t = (time_t)secs;
    struct tm tm;
    char buf[64];
    if (!gmtime_r(&t, &tm))
        return NULL;
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, msec);
    return json_string(buf);
}

char *gtp_delta_stats_json(const struct gtp_parquet_file_stats *st)
{
    json_t *mins = json_object(), *maxs = json_object(), *nulls = json_object();
    for (int i = 0; i < GTP_PARQUET_NCOLS; i++) {
        const struct gtp_parquet_col_stats *cs = &st->cols[i];
        const char *name = gtp_parquet_col_name(i);
        json_object_set_new(nulls, name, json_integer(cs->null_count));
        if (!cs->has_minmax || i == GTP_PARQUET_SKILLS_ARRAY || i == GTP_PARQUET_IS_REMOTE)
            continue;
        if (i == GTP_PARQUET_POSTED_AT) {
            json_t *a = ts_json(cs->min_i64), *b = ts_json(cs->max_i64);
            if (a && b) {
                json_object_set_new(mins, name, a);
                json_object_set_new(maxs, name, b);
            } else {
                json_decref(a);
                json_decref(b);
            }
            continue;
        }
        size_t cut;
        bool trunc;
        cut_chars(cs->min, cs->min_len, STATS_PREFIX_CHARS, &cut, &trunc);
        json_object_set_new(mins, name, json_stringn(cs->min, cut));
        cut_chars(cs->max, cs->max_len, STATS_PREFIX_CHARS, &cut, &trunc);
        if (!trunc)
            json_object_set_new(maxs, name, json_stringn(cs->max, cs->max_len));
    }
    json_t *obj = json_pack("{s:I, s:o, s:o, s:o}", "numRecords", (json_int_t)st->num_rows,
                            "minValues", mins, "maxValues", maxs, "nullCount", nulls);
    char *s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!s)
        abort();
    return s;
}

/* After losing the race for `version`: did that commit already record our txn? */
struct fence_ctx {
    const char *app_id;
    int64_t txn_version; /* INT64_MIN: any txn of app_id fences */
    bool fenced;
};

static int fence_action(const char *name, json_t *val, int64_t version, void *ctx)
{
    struct fence_ctx *f = ctx;
    (void)version;
    if (strcmp(name, "txn") != 0)
        return 0;
    const char *app = json_string_value(json_object_get(val, "appId"));
    json_t *v = json_object_get(val, "version");
    if (app && json_is_integer(v) && strcmp(app, f->app_id) == 0 &&
        json_integer_value(v) >= f->txn_version)
        f->fenced = true;
    return 0;
}

int gtp_delta_commit(const char *root, const struct gtp_delta_add *adds, size_t n,
                     const char *app_id, int64_t txn_version, int64_t *version_out, char *errstr,
                     size_t errstr_size)
{
    return gtp_delta_commit_ex(root, adds, n, app_id, txn_version, -1, NULL, NULL, version_out,
                               errstr, errstr_size);
}

int gtp_delta_commit_ex(const char *root, const struct gtp_delta_add *adds, size_t n,
                        const char *app_id, int64_t txn_version, int64_t seen_version,
                        const char *info_key, struct json_t *info_value, int64_t *version_out,
                        char *errstr, size_t errstr_size)
{
    struct gtp_delta_txn t = {app_id, txn_version, seen_version};
    return gtp_delta_commit_multi(root, adds, n, &t, app_id ? 1 : 0, info_key, info_value,
                                  version_out, NULL, errstr, errstr_size);
}

/* {"add": {...}} for a, or NULL with errstr (a bad path or partition value). */
static json_t *add_action(const struct gtp_delta_add *a, bool data_change, char *errstr,
                          size_t errstr_size)
{
    size_t cap = strlen(a->path) * 3 + 1;
    char *uri = gtp_xmalloc(cap);
    json_t *pv = NULL, *add = NULL;
    if (!a->path[0] || a->path[0] == '/' || gtp_hive_uri_encode(a->path, uri, cap) < 0 ||
        !gtp_utf8_valid(a->path, strlen(a->path), NULL)) {
        gtp_errf(errstr, errstr_size, "bad add path '%s'", a->path);
        goto out;
    }
    pv = json_object();
    for (int k = 0; k < GTP_DELTA_NPART; k++) {
        const char *v = a->partition_values[k];
        if (v && !gtp_utf8_valid(v, strlen(v), NULL)) {
            gtp_errf(errstr, errstr_size, "partition value is not UTF-8");
            goto out;
        }
        json_object_set_new(pv, gtp_delta_partition_columns[k], v ? json_string(v) : json_null());
    }
    add = json_pack("{s:s, s:O, s:I, s:I, s:b}", "path", uri, "partitionValues", pv, "size",
                    (json_int_t)a->size, "modificationTime", (json_int_t)a->modification_time_ms,
                    "dataChange", data_change);
    if (a->stats) {
        char *st = gtp_delta_stats_json(a->stats);
        json_object_set_new(add, "stats", json_string(st));
        free(st);
    }
    add = json_pack("{s:o}", "add", add);
out:
    json_decref(pv);
    free(uri);
    return add;
}

/* Does commit v hold a txn of txns[i] (at or past `from`, or any when INT64_MIN)? The
 * index of the first such txn, -1 when none, or a negative gtp_err in *err. */
static int fenced_in(const char *root, int64_t v, const struct gtp_delta_txn *txns, size_t ntxn,
                     const int64_t *from, int *err, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < ntxn; i++) {
        struct fence_ctx f = {txns[i].app_id, from[i], false};
        *err = read_commit(root, v, fence_action, &f, errstr, errstr_size);
        if (*err)
            return -1;
        if (f.fenced)
            return (int)i;
    }
    return -1;
}

/* A commit's conflict rule, asked about commit v written by someone else: since the
 * caller's read (raced false) or as the winner of the version the caller wanted (raced
 * true). Returns 0 (no conflict), GTP_ERR_FENCED (errstr says why) or another gtp_err. */
typedef int (*conflict_fn)(const char *root, int64_t v, bool raced, void *ctx, char *errstr,
                           size_t errstr_size);

/* Publish text as the next log version: every commit in (read_version, latest] is first
 * checked with conflict (GTP_ERR_STALE when one was cleaned up), then the version after the
 * latest is taken without ever replacing one; a lost race checks the winner and moves on.
 * *version_out (may be NULL) gets the version written. */
static int publish_next(const char *root, const char *text, size_t len, int64_t read_version,
                        conflict_fn conflict, void *ctx, int64_t *version_out, char *errstr,
                        size_t errstr_size)
{
    char logdir[4096];
    int64_t version;
    int err = gtp_delta_latest_version(root, &version, errstr, errstr_size);
    if (err)
        return err;
    if (version < 0) {
        gtp_errf(errstr, errstr_size, "%s: no Delta table (run gtp_delta_create first)", root);
        return GTP_ERR_INVAL;
    }
    for (int64_t v = read_version + 1; v <= version; v++) {
        char cpath[4096];
        snprintf(cpath, sizeof(cpath), "%s/" LOG_DIR "/%020" PRId64 ".json", root, v);
        if (access(cpath, F_OK) != 0 && errno == ENOENT) {
            /* cleaned up after a checkpoint: who wrote it cannot be told any more */
            gtp_errf(errstr, errstr_size, "version %" PRId64 " was cleaned up", v);
            return GTP_ERR_STALE;
        }
        err = conflict(root, v, false, ctx, errstr, errstr_size);
        if (err)
            return err;
    }
    snprintf(logdir, sizeof(logdir), "%s/" LOG_DIR, root);
    for (int attempt = 0;; attempt++) {
        char name[32];
        bool exists = false;
        version++;
        snprintf(name, sizeof(name), "%020" PRId64 ".json", version);
        err = gtp_delta_publish(logdir, name, text, len, true, &exists, errstr, errstr_size);
        if (!err || !exists)
            break;
        err = conflict(root, version, true, ctx, errstr, errstr_size);
        if (err)
            break;
        if (attempt >= MAX_COMMIT_RETRIES) {
            gtp_errf(errstr, errstr_size, "gave up after %d commit races", attempt);
            err = GTP_ERR_IO;
            break;
        }
    }
    if (!err && version_out)
        *version_out = version;
    return err;
}

struct txn_conflict {
    const struct gtp_delta_txn *txns;
    size_t ntxn;
    const int64_t *fence_from; /* per txn: a race winner's txn at or past this fences it */
    size_t *fenced_index;      /* may be NULL */
};

/* Since its writer's read, any txn of a partition's app_id fences it; in the winner of a
 * race, one at or past fence_from. */
static int txn_conflict(const char *root, int64_t v, bool raced, void *ctx, char *errstr,
                        size_t errstr_size)
{
    struct txn_conflict *c = ctx;
    int err = 0;
    for (size_t i = 0; i < c->ntxn; i++) {
        int64_t from = raced ? c->fence_from[i] : INT64_MIN;
        if (!raced && (c->txns[i].seen_version < 0 || v <= c->txns[i].seen_version))
            continue;
        int hit = fenced_in(root, v, &c->txns[i], 1, &from, &err, errstr, errstr_size);
        if (err)
            return err;
        if (hit >= 0) {
            gtp_errf(errstr, errstr_size, "version %" PRId64 " %s a txn of %s", v,
                     raced ? "already holds" : "holds", c->txns[i].app_id);
            if (c->fenced_index)
                *c->fenced_index = i;
            return GTP_ERR_FENCED;
        }
    }
    return 0;
}

int gtp_delta_commit_multi(const char *root, const struct gtp_delta_add *adds, size_t n,
                           const struct gtp_delta_txn *txns, size_t ntxn, const char *info_key,
                           struct json_t *info_value, int64_t *version_out, size_t *fenced_index,
                           char *errstr, size_t errstr_size)
{
    char logdir[4096];
    json_t *actions = NULL;
    char *text = NULL;
    int64_t *fence_from = NULL;
    int err = 0;

    if ((size_t)snprintf(logdir, sizeof(logdir), "%s/" LOG_DIR, root) >= sizeof(logdir)) {
        gtp_errf(errstr, errstr_size, "path too long: %s", root);
        return GTP_ERR_INVAL;
    }
    /* Strict fencing for a txn whose writer has read the log: any txn of its app_id after
     * what it has seen; otherwise one at or past its own version. */
    fence_from = gtp_xcalloc(ntxn + 1, sizeof(int64_t));
    for (size_t i = 0; i < ntxn; i++)
        fence_from[i] = txns[i].seen_version >= 0 ? INT64_MIN : txns[i].version;
    int64_t ts = now_ms();
    actions = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *add = add_action(&adds[i], true, errstr, errstr_size);
        if (!add) {
            err = GTP_ERR_INVAL;
            goto out;
        }
        json_array_append_new(actions, add);
    }
    for (size_t i = 0; i < ntxn; i++) {
        if (!gtp_utf8_valid(txns[i].app_id, strlen(txns[i].app_id), NULL)) {
            gtp_errf(errstr, errstr_size, "appId is not UTF-8");
            err = GTP_ERR_INVAL;
            goto out;
        }
        json_array_append_new(
            actions, json_pack("{s:{s:s, s:I, s:I}}", "txn", "appId", txns[i].app_id, "version",
                               (json_int_t)txns[i].version, "lastUpdated", (json_int_t)ts));
    }
    json_array_append_new(
        actions, commit_info_ex(ntxn ? "STREAMING UPDATE" : "WRITE", ts, info_key, info_value));
    size_t len;
    text = ndjson(actions, &len);

    /* Everything committed since the earliest read is checked (each txn from its own). */
    int64_t from = INT64_MAX;
    for (size_t i = 0; i < ntxn; i++)
        if (txns[i].seen_version >= 0 && txns[i].seen_version < from)
            from = txns[i].seen_version;
    if (from == INT64_MAX) {
        /* no writer has read the log: only a race is checked */
        err = gtp_delta_latest_version(root, &from, errstr, errstr_size);
        if (err)
            goto out;
    }
    struct txn_conflict tc = {txns, ntxn, fence_from, fenced_index};
    err = publish_next(root, text, len, from, txn_conflict, &tc, version_out, errstr, errstr_size);
out:
    free(fence_from);
    free(text);
    json_decref(actions);
    return err;
}

/* ------------------------------------------------------------------------------------------
 * Rewrites (compaction) */

struct removed_ctx {
    json_t *ours; /* set of our removed paths: path -> true */
    const char *hit;
};

static int removed_action(const char *name, json_t *val, int64_t version, void *ctx)
{
    struct removed_ctx *r = ctx;
    (void)version;
    if (strcmp(name, "remove") != 0)
        return 0;
    const char *path = json_string_value(json_object_get(val, "path"));
    if (path && json_object_get(r->ours, path))
        r->hit = json_string_value(json_object_get(val, "path"));
    return r->hit ? 1 : 0;
}

/* A rewrite conflicts with a commit that removed one of its inputs (ours: path -> true). */
static int removal_conflict(const char *root, int64_t v, bool raced, void *ours, char *errstr,
                            size_t errstr_size)
{
    struct removed_ctx r = {ours, NULL};
    int err = read_commit(root, v, removed_action, &r, errstr, errstr_size);
    (void)raced;
    if (err < 0)
        return err;
    if (r.hit)
        gtp_errf(errstr, errstr_size, "version %" PRId64 " removed %s first", v, r.hit);
    return r.hit ? GTP_ERR_FENCED : 0;
}

int gtp_delta_commit_rewrite(const char *root, json_t *removes, const struct gtp_delta_add *adds,
                             size_t n, int64_t read_version, int64_t *version_out, char *errstr,
                             size_t errstr_size)
{
    char *text = NULL;
    json_t *actions = json_array(), *ours = json_object();
    int64_t ts = now_ms();
    size_t i, len;
    json_t *rm;
    int err = 0;

    json_array_foreach(removes, i, rm)
    {
        json_t *copy = json_deep_copy(rm);
        json_object_set_new(copy, "deletionTimestamp", json_integer(ts));
        json_object_set_new(copy, "dataChange", json_false());
        json_object_set_new(copy, "extendedFileMetadata", json_true());
        json_object_set_new(ours, json_string_value(json_object_get(rm, "path")), json_true());
        json_array_append_new(actions, json_pack("{s:o}", "remove", copy));
    }
    for (i = 0; i < n; i++) {
        json_t *add = add_action(&adds[i], false, errstr, errstr_size);
        if (!add) {
            err = GTP_ERR_INVAL;
            goto out;
        }
        json_array_append_new(actions, add);
    }
    json_t *ci = commit_info("OPTIMIZE", ts);
    json_object_set_new(json_object_get(ci, "commitInfo"), "isBlindAppend", json_false());
    json_object_set_new(json_object_get(json_object_get(ci, "commitInfo"), "operationParameters"),
                        "mode", json_string("Rewrite"));
    json_array_append_new(actions, ci);
    text = ndjson(actions, &len);

    /* Optimistic concurrency: appends do not conflict with a rewrite; a commit that
     * removed one of our inputs (another compaction) does. */
    err = publish_next(root, text, len, read_version, removal_conflict, ours, version_out, errstr,
                       errstr_size);
out:
    free(text);
    json_decref(ours);
    json_decref(actions);
    return err;
}
