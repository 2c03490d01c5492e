/* Per-partition watermark, lateness and (event_id, window) dedup set. The set
 * is an open-addressing hash table; entries of final windows are purged when
 * the watermark crosses an hour boundary, so memory follows the open windows. */
#include "gtp/window.h"
#include "gtp/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    uint64_t hash; /* 0 = empty slot */
    int64_t window_start;
    char *id; /* new copy */
    size_t len;
};

struct gtp_window {
    int64_t max_event_us;
    int64_t watermark_us;
    int64_t purged_below; /* windows starting before this are already purged */
    struct entry *slots;
    size_t cap; /* power of two */
    size_t used;
};

int64_t gtp_window_start(int64_t ts_us)
{
    int64_t m = ts_us % GTP_WINDOW_US;
    if (m < 0)
        m += GTP_WINDOW_US;
    return ts_us - m;
}

/* FNV-1a over the id, mixed with the window: cheap and good enough for
 * uuid-shaped keys; 0 is reserved for empty slots. */
static uint64_t key_hash(const char *id, size_t len, int64_t window_start)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)window_start;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)id[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

struct gtp_window *gtp_window_new(void)
{
    struct gtp_window *w = gtp_xcalloc(1, sizeof(*w));
    w->max_event_us = INT64_MIN;
    w->watermark_us = GTP_WATERMARK_NONE;
    w->purged_below = INT64_MIN;
    w->cap = 1024;
    w->slots = gtp_xcalloc(w->cap, sizeof(*w->slots));
    return w;
}

void gtp_window_free(struct gtp_window *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->cap; i++)
        free(w->slots[i].id);
    free(w->slots);
    free(w);
}

static struct entry *find_slot(struct entry *slots, size_t cap, uint64_t hash, const char *id,
                               size_t len, int64_t window_start)
{
    size_t mask = cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct entry *e = &slots[i];
        if (e->hash == 0)
            return e;
        if (e->hash == hash && e->window_start == window_start && e->len == len &&
            memcmp(e->id, id, len) == 0)
            return e;
    }
}

/* Rebuild into a table of new_cap slots, keeping only entries of windows
 * starting at or after min_open_start. */
static void rebuild(struct gtp_window *w, size_t new_cap, int64_t min_open_start)
{
    struct entry *slots = gtp_xcalloc(new_cap, sizeof(*slots));
    size_t used = 0;
    for (size_t i = 0; i < w->cap; i++) {
        struct entry *e = &w->slots[i];
        if (!e->hash)
            continue;
        if (e->window_start < min_open_start) {
            free(e->id);
            continue;
        }
        *find_slot(slots, new_cap, e->hash, e->id, e->len, e->window_start) = *e;
        used++;
    }
    free(w->slots);
    w->slots = slots;
    w->cap = new_cap;
    w->used = used;
}

/* Windows with start + 1h <= W are final: their dedup entries can go. */
static void purge(struct gtp_window *w)
{
    int64_t min_open_start;
    if (w->watermark_us == GTP_WATERMARK_NONE)
        return;
    /* open <=> start + 1h > W <=> start > W - 1h <=> start >= floor_hour(W)
     * (starts are whole hours; end == W is final, as in Spark) */
    min_open_start = gtp_window_start(w->watermark_us);
    if (min_open_start <= w->purged_below)
        return;
    w->purged_below = min_open_start;
    rebuild(w, w->cap, min_open_start);
}

static void set_max(struct gtp_window *w, int64_t ts_us)
{
    if (ts_us <= w->max_event_us)
        return;
    w->max_event_us = ts_us;
    w->watermark_us = ts_us - GTP_WATERMARK_DELAY_US;
    purge(w);
}

static bool is_late(const struct gtp_window *w, int64_t window_start)
{
    return w->watermark_us != GTP_WATERMARK_NONE && window_start + GTP_WINDOW_US <= w->watermark_us;
}

/* Insert; returns false when already present. */
static bool insert(struct gtp_window *w, const char *id, size_t len, int64_t window_start)
{
    uint64_t h = key_hash(id, len, window_start);
    struct entry *e = find_slot(w->slots, w->cap, h, id, len, window_start);
    if (e->hash)
        return false;
    e->hash = h;
    e->window_start = window_start;
    e->id = gtp_xstrndup(id, len);
    e->len = len;
    if (++w->used * 2 > w->cap)
        rebuild(w, w->cap * 2, INT64_MIN);
    return true;
}

enum gtp_verdict gtp_window_classify(struct gtp_window *w, const char *event_id, size_t len,
                                     int64_t ts_us)
{
    int64_t ws = gtp_window_start(ts_us);
    enum gtp_verdict v;
    /* Judge against the watermark of the events before this one, then let
     * this (valid) event advance it, whatever its verdict. */
    if (is_late(w, ws))
        v = GTP_VERDICT_LATE;
    else if (!insert(w, event_id, len, ws))
        v = GTP_VERDICT_DUPLICATE;
    else
        v = GTP_VERDICT_COUNT;
    set_max(w, ts_us);
    return v;
}

int64_t gtp_window_watermark(const struct gtp_window *w)
{
    return w->watermark_us;
}

int64_t gtp_window_max_event(const struct gtp_window *w)
{
    return w->max_event_us;
}

void gtp_window_restore_max(struct gtp_window *w, int64_t max_event_us)
{
    set_max(w, max_event_us);
}

void gtp_window_restore_id(struct gtp_window *w, int64_t window_start_us, const char *event_id,
                           size_t len)
{
    if (is_late(w, window_start_us))
        return;
    insert(w, event_id, len, window_start_us);
}

size_t gtp_window_dedup_size(const struct gtp_window *w)
{
    return w->used;
}
