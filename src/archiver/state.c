/* The archiver's position and event-time state in the Delta log (see state.h). */
#include "state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gtp/delta.h"
#include "gtp/err.h"
#include "gtp/delta_optimize.h"
#include "gtp/parquet.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"

#define US_PER_S INT64_C(1000000)

void arch_app_id(const char *topic, int32_t partition, char *out, size_t out_size)
{
    snprintf(out, out_size, "gtp-archiver-%s-%d", topic, (int)partition);
}

json_t *arch_state_info(const char *topic, int32_t partition, int64_t first, int64_t last,
                        int64_t max_event_us)
{
    json_t *o = json_pack("{s:s, s:i, s:I, s:I}", "topic", topic, "partition", (int)partition,
                          "first", (json_int_t)first, "last", (json_int_t)last);
    /* no valid event yet: leave max_event_us out rather than write INT64_MIN */
    if (max_event_us != INT64_MIN)
        json_object_set_new(o, "max_event_us", json_integer(max_event_us));
    return o;
}

/* ---- dedup ids from the data files ------------------------------------------------------ */

/* The Kafka partition of an add action's data file, if it is one of ours (a roll's file
 * with its data: compaction's files, dataChange false, hold rows that were restored
 * already). -1 otherwise. */
static int32_t add_partition(json_t *add)
{
    const char *uri = json_string_value(json_object_get(add, "path"));
    const char *slash = uri ? strrchr(uri, '/') : NULL;
    int32_t p;
    int64_t first, last;
    bool tmp;
    if (!uri || json_is_false(json_object_get(add, "dataChange")))
        return -1;
    if (!arch_file_name_parse(slash ? slash + 1 : uri, &p, &first, &last, &tmp) || tmp)
        return -1;
    return p;
}

static int restore_row(const struct gtp_parquet_row *row, void *win, char *errstr,
                       size_t errstr_size)
{
    (void)errstr;
    (void)errstr_size;
    gtp_window_restore_id(win, gtp_window_start(row->posted_at_us), row->event_id,
                          row->lens_set ? row->lens[GTP_PARQUET_EVENT_ID] : strlen(row->event_id));
    return 0;
}

/* Every row of the data file at uri (relative to root, as in the log) was counted or late:
 * restore its id into win (the window drops those of final windows). */
static int restore_file(const char *root, const char *uri, struct gtp_window *win, char *errstr,
                        size_t errstr_size)
{
    return gtp_delta_read_rows(root, uri, restore_row, win, NULL, errstr, errstr_size);
}

/* ---- loading --------------------------------------------------------------------------- */

struct load_ctx {
    const char *topic;
    struct arch_resume *parts;
    size_t n;
    char **app_ids;
    json_t *files;    /* per part: array of the data files its commits after the snapshot added */
    int64_t snapshot; /* the snapshot the replay started at, -1: none */
    char *errstr;
    size_t errstr_size;
};

static struct arch_resume *find_part(struct load_ctx *c, json_int_t p)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->parts[i].partition == p)
            return &c->parts[i];
    return NULL;
}

static int load_action(const char *name, json_t *val, int64_t version, void *ctx)
{
    struct load_ctx *c = ctx;
    if (strcmp(name, GTP_DELTA_SNAPSHOT_ACTION) == 0) {
        c->snapshot = version;
        return 0;
    }
    if (strcmp(name, "add") == 0) {
        int32_t p = version > c->snapshot ? add_partition(val) : -1;
        for (size_t i = 0; p >= 0 && i < c->n; i++)
            if (c->parts[i].partition == p)
                json_array_append(json_array_get(c->files, i), json_object_get(val, "path"));
        return 0;
    }
    if (strcmp(name, "txn") == 0) {
        const char *app = json_string_value(json_object_get(val, "appId"));
        json_t *v = json_object_get(val, "version");
        if (!app || !json_is_integer(v))
            return 0;
        for (size_t i = 0; i < c->n; i++)
            if (strcmp(app, c->app_ids[i]) == 0)
                c->parts[i].txn = json_integer_value(v);
        return 0;
    }
    if (strcmp(name, "commitInfo") != 0)
        return 0;
    json_t *g = json_object_get(val, ARCH_INFO_KEY);
    if (json_is_array(g)) {
        /* one commit for several partitions: one entry each */
        size_t k;
        json_t *one;
        json_array_foreach(g, k, one)
        {
            json_t *wrap = json_pack("{s:O}", ARCH_INFO_KEY, one);
            int err = load_action(name, wrap, version, ctx);
            json_decref(wrap);
            if (err)
                return err;
        }
        return 0;
    }
    if (!json_is_object(g))
        return 0;
    const char *topic = json_string_value(json_object_get(g, "topic"));
    json_t *jp = json_object_get(g, "partition");
    if (!topic || strcmp(topic, c->topic) != 0 || !json_is_integer(jp))
        return 0;
    struct arch_resume *r = find_part(c, json_integer_value(jp));
    if (!r)
        return 0;
    json_t *m = json_object_get(g, "max_event_us");
    if (json_is_integer(m))
        gtp_window_restore_max(r->win, json_integer_value(m));
    json_t *dedup = json_object_get(g, "dedup");
    size_t i;
    json_t *e;
    json_array_foreach(dedup, i, e)
    {
        json_t *ws = json_array_get(e, 0), *id = json_array_get(e, 1);
        if (!json_is_integer(ws) || !json_is_string(id)) {
            gtp_errf(c->errstr, c->errstr_size,
                     "version %" PRId64 ": malformed dedup entry of partition %d", version,
                     (int)r->partition);
            return GTP_ERR_PARSE;
        }
        gtp_window_restore_id(r->win, (int64_t)json_integer_value(ws) * US_PER_S,
                              json_string_value(id), json_string_length(id));
    }
    return 0;
}

int arch_state_load(const char *root, const char *topic, struct arch_resume *parts, size_t n,
                    int64_t *latest, char *errstr, size_t errstr_size)
{
    struct load_ctx c = {topic,        parts, n,      gtp_xcalloc(n + 1, sizeof(char *)),
                         json_array(), -1,    errstr, errstr_size};
    int err;
    for (size_t i = 0; i < n; i++) {
        char app[512];
        arch_app_id(topic, parts[i].partition, app, sizeof(app));
        c.app_ids[i] = gtp_xstrdup(app);
        parts[i].txn = -1;
        parts[i].win = gtp_window_new();
        json_array_append_new(c.files, json_array());
    }
    err = gtp_delta_replay(root, load_action, &c, latest, errstr, errstr_size);
    /* The ids counted since the snapshot are in the data files those commits added. Read
     * after the whole replay, so each window already has its final watermark: the order
     * of restoring does not matter, the window keeps exactly the ids of open windows. */
    for (size_t i = 0; i < n && !err; i++) {
        size_t k;
        json_t *uri;
        json_array_foreach(json_array_get(c.files, i), k, uri)
        {
            err = restore_file(root, json_string_value(uri), parts[i].win, errstr, errstr_size);
            if (err)
                break;
        }
    }
    json_decref(c.files);
    for (size_t i = 0; i < n; i++) {
        free(c.app_ids[i]);
        if (err) {
            gtp_window_free(parts[i].win);
            parts[i].win = NULL;
        }
    }
    free(c.app_ids);
    return err;
}

/* ---- folding into checkpoint snapshots ------------------------------------------------- */

struct fold_part {
    char *topic;
    int32_t partition;
    struct gtp_window *win;
};

struct fold {
    struct fold_part *v;
    size_t n, cap;
};

/* The entry of (topic, partition); topic NULL: of a data file, whose name carries the
 * partition only (a table holds one topic). An entry made for a data file takes the topic
 * of the first commitInfo entry of its partition. */
static struct fold_part *fold_part_of(struct fold *f, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < f->n; i++) {
        struct fold_part *fpt = &f->v[i];
        if (fpt->partition != partition)
            continue;
        if (!topic)
            return fpt;
        if (!fpt->topic)
            fpt->topic = gtp_xstrdup(topic);
        if (strcmp(fpt->topic, topic) == 0)
            return fpt;
    }
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->v = gtp_xrealloc(f->v, f->cap * sizeof(*f->v));
    }
    struct fold_part *fpt = &f->v[f->n++];
    fpt->topic = topic ? gtp_xstrdup(topic) : NULL;
    fpt->partition = partition;
    fpt->win = gtp_window_new();
    return fpt;
}

static int fold_data_file(void *fp, const char *root, json_t *add, int64_t version, char *errstr,
                          size_t errstr_size)
{
    int32_t p = add_partition(add);
    (void)version;
    if (p < 0)
        return 0;
    return restore_file(root, json_string_value(json_object_get(add, "path")),
                        fold_part_of(fp, NULL, p)->win, errstr, errstr_size);
}

static void *fold_begin(void *opaque)
{
    (void)opaque;
    return gtp_xcalloc(1, sizeof(struct fold));
}

static int fold_add(void *fp, json_t *g, int64_t version, char *errstr, size_t errstr_size)
{
    struct fold *f = fp;
    if (json_is_array(g)) {
        size_t k;
        json_t *one;
        json_array_foreach(g, k, one)
        {
            int err = fold_add(fp, one, version, errstr, errstr_size);
            if (err)
                return err;
        }
        return 0;
    }
    const char *topic = json_string_value(json_object_get(g, "topic"));
    json_t *jp = json_object_get(g, "partition");
    struct fold_part *fpt = NULL;
    size_t i;
    json_t *e;

    if (!topic || !json_is_integer(jp))
        return 0; /* not ours */
    fpt = fold_part_of(f, topic, (int32_t)json_integer_value(jp));
    /* the same order as load_action: the max first, then the ids it leaves open */
    json_t *m = json_object_get(g, "max_event_us");
    if (json_is_integer(m))
        gtp_window_restore_max(fpt->win, json_integer_value(m));
    json_array_foreach(json_object_get(g, "dedup"), i, e)
    {
        json_t *ws = json_array_get(e, 0), *id = json_array_get(e, 1);
        if (!json_is_integer(ws) || !json_is_string(id)) {
            gtp_errf(errstr, errstr_size, "version %" PRId64 ": malformed dedup entry", version);
            return GTP_ERR_PARSE;
        }
        gtp_window_restore_id(fpt->win, (int64_t)json_integer_value(ws) * US_PER_S,
                              json_string_value(id), json_string_length(id));
    }
    return 0;
}

static void fold_id(int64_t window_start_us, const char *id, size_t len, void *ctx)
{
    json_array_append_new(ctx,
                          json_pack("[I, s%]", (json_int_t)(window_start_us / US_PER_S), id, len));
}

static void fold_discard(void *fp)
{
    struct fold *f = fp;
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].topic);
        gtp_window_free(f->v[i].win);
    }
    free(f->v);
    free(f);
}

static json_t *fold_end(void *fp)
{
    struct fold *f = fp;
    json_t *out = json_array();
    for (size_t i = 0; i < f->n; i++) {
        struct fold_part *fpt = &f->v[i];
        if (!fpt->topic)
            continue; /* data files without a commitInfo entry: not a roll of ours */
        json_t *dedup = json_array();
        gtp_window_foreach_id(fpt->win, fold_id, dedup);
        json_t *o = json_pack("{s:s, s:i, s:o}", "topic", fpt->topic, "partition",
                              (int)fpt->partition, "dedup", dedup);
        if (gtp_window_max_event(fpt->win) != INT64_MIN)
            json_object_set_new(o, "max_event_us", json_integer(gtp_window_max_event(fpt->win)));
        json_array_append_new(out, o);
    }
    fold_discard(f);
    return out;
}

struct closed_ctx {
    void *fold;
    char *errstr;
    size_t errstr_size;
};

static int closed_action(const char *name, json_t *val, int64_t version, void *ctx)
{
    struct closed_ctx *c = ctx;
    json_t *g;
    if (strcmp(name, "commitInfo") != 0 || !(g = json_object_get(val, ARCH_INFO_KEY)))
        return 0;
    return fold_add(c->fold, g, version, c->errstr, c->errstr_size);
}

int arch_state_closed_before(const char *root, const char *topic, char *out, size_t out_size,
                             char *errstr, size_t errstr_size)
{
    struct closed_ctx c = {fold_begin(NULL), errstr, errstr_size};
    struct fold *f = c.fold;
    int64_t wmin = INT64_MAX;
    int err = gtp_delta_replay(root, closed_action, &c, NULL, errstr, errstr_size);
    out[0] = 0;
    for (size_t i = 0; !err && i < f->n; i++) {
        if (!f->v[i].topic || strcmp(f->v[i].topic, topic) != 0)
            continue;
        int64_t w = gtp_window_watermark(f->v[i].win);
        if (w == GTP_WATERMARK_NONE) {
            wmin = INT64_MIN; /* a partition without a watermark closes nothing */
            break;
        }
        if (w < wmin)
            wmin = w;
    }
    /* the days before the watermark's own day end at or before it */
    if (!err && wmin != INT64_MAX && wmin != INT64_MIN)
        gtp_time_format_date(wmin, out, out_size);
    fold_discard(f);
    return err;
}

const struct gtp_delta_fold arch_state_fold = {
    ARCH_INFO_KEY, fold_begin, fold_add, fold_data_file, fold_end, fold_discard, NULL,
};

/* ---- file names and clean-up ----------------------------------------------------------- */

static bool parse_i64(const char **s, int64_t *out)
{
    const char *p = *s;
    int64_t v = 0;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9') {
        if (v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (*p++ - '0');
    }
    *s = p;
    *out = v;
    return true;
}

bool arch_file_name_parse(const char *base, int32_t *partition, int64_t *first, int64_t *last,
                          bool *tmp)
{
    const char *s = base;
    int64_t p;
    size_t n = strlen(base);
    *tmp = false;
    if (s[0] == '.') {
        if (n < 5 || strcmp(base + n - 4, ".tmp") != 0)
            return false;
        *tmp = true;
        s++;
    }
    if (strncmp(s, "part-", 5) != 0)
        return false;
    s += 5;
    if (!parse_i64(&s, &p) || p > INT32_MAX || *s++ != '-' || !parse_i64(&s, first) ||
        *s++ != '-' || !parse_i64(&s, last) || *s != '.' || *first > *last)
        return false;
    if (!*tmp && (n < 8 || strcmp(base + n - 8, ".parquet") != 0))
        return false;
    *partition = (int32_t)p;
    return true;
}

int arch_state_clean(const char *root, const int32_t *partitions, const int64_t *resume,
                     size_t nparts, size_t *removed, char *errstr, size_t errstr_size)
{
    char **paths = NULL;
    size_t n = 0;
    /* one listing (a replay of the log and a walk of the tree) for every partition */
    int err = gtp_delta_orphans(root, &paths, &n, errstr, errstr_size);
    if (err)
        return err;
    for (size_t j = 0; removed && j < nparts; j++)
        removed[j] = 0;
    for (size_t i = 0; i < n && !err; i++) {
        const char *slash = strrchr(paths[i], '/');
        const char *base = slash ? slash + 1 : paths[i];
        int32_t p;
        int64_t first, last;
        bool tmp;
        size_t j = 0;
        if (!arch_file_name_parse(base, &p, &first, &last, &tmp))
            continue;
        while (j < nparts && partitions[j] != p)
            j++;
        if (j == nparts)
            continue;
        /* An unreferenced file below the resume point is not ours to judge (a reader may
         * be looking at history); one at or past it is a crashed roll we will redo. */
        if (!tmp && first < resume[j])
            continue;
        char full[8192];
        snprintf(full, sizeof(full), "%s/%s", root, paths[i]);
        if (unlink(full) != 0 && errno != ENOENT) {
            gtp_errf(errstr, errstr_size, "%s: %s", full, strerror(errno));
            err = errno == ENOSPC ? GTP_ERR_NOSPACE : GTP_ERR_IO;
        } else if (removed) {
            removed[j]++;
        }
    }
    gtp_delta_paths_free(paths, n);
    return err;
}
