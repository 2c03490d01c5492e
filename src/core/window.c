/* Per-partition watermark, lateness and (event_id, window) dedup set. The set
 * is an open-addressing hash table; entries of final windows are purged when
 * the watermark crosses an hour boundary, so memory follows the open windows.
 * One table per open window: a final window is dropped whole, and growing one
 * table never copies the others (rehash peaks stay small). Event ids in
 * canonical lowercase UUID form (nearly all of them) are kept as their 16
 * bytes, which are the whole slot of a set of their own; others go to a
 * second set as heap copies. The slots are most of the processor's memory on
 * a backlog (hundreds of thousands of ids per open hour), so a slot holds
 * nothing that can be recomputed (its hash) or that the table already knows
 * (its window). */
#include "gtp/window.h"
#include "gtp/strmap.h"
#include "gtp/util.h"
#include "gtp/uuidtext.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A slot of the uuid set: the 16 bytes of a canonical uuid; all zero = empty (the nil uuid
 * itself is kept with the other ids). The hash is recomputed from the bytes when a table
 * grows, so a slot holds nothing else: 16 bytes per id, where a slot with a stored hash
 * and a length would take 24. */
typedef uint8_t uuid_slot[16];

/* Any other id: a new copy of its bytes. */
struct entry {
    uint32_t hash; /* 0 = empty slot */
    uint32_t len;
    char *str; /* not NUL-terminated: ids may hold NUL bytes */
};

/* An id goes to the uuid set when it is a canonical uuid other than the nil uuid (all-zero
 * bytes mark an empty uuid slot), so the binary form maps back to exactly one string and
 * equal keys always share a representation. */
static bool in_uuid_set(const struct gtp_eventid *id)
{
    static const uint8_t zero[16];
    return id->packed && memcmp(id->bin, zero, 16) != 0;
}

_Static_assert(sizeof(uuid_slot) == 16, "a uuid dedup slot is 16 bytes");

static bool uuid_empty(const uint8_t *s)
{
    uint64_t a, b;
    memcpy(&a, s, 8);
    memcpy(&b, s + 8, 8);
    return (a | b) == 0;
}

/* Any bits of a uuid's bytes, mixed (ids need not be random ones). */
static size_t uuid_hash(const uint8_t *s)
{
    uint64_t a, b, h;
    memcpy(&a, s, 8);
    memcpy(&b, s + 8, 8);
    h = a ^ (b * 0x9e3779b97f4a7c15ULL);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h;
}

/* The dedup set of one window: canonical uuids in u, any other id in s; both open
 * addressing with linear probing. The uuid set is most of the memory, so it grows by half
 * (not doubling) at 4/5 full: it is between 8/15 and 4/5 full, 16 / 0.66 = 24 bytes per id
 * on average where doubling at 3/4 (between 3/8 and 3/4 full) took 31, and a growth holds
 * 2.5 times the old table instead of 3. Its slot is found by scaling the hash to the
 * capacity (any capacity, no mask). The rare other ids keep power-of-two capacities, at
 * most 3/4 full. */
struct table {
    int64_t start;
    uuid_slot *u;
    size_t ucap, uused;
    struct entry *s; /* NULL until the first other id */
    size_t scap, sused;
};

struct gtp_window {
    int64_t max_event_us;
    int64_t watermark_us;
    int64_t purged_below; /* windows starting before this are already purged */
    struct table *tables; /* open windows, unordered: a handful */
    size_t ntables, tables_cap;
};

int64_t gtp_window_start(int64_t ts_us)
{
    int64_t m = ts_us % GTP_WINDOW_US;
    if (m < 0)
        m += GTP_WINDOW_US;
    return ts_us - m;
}

/* FNV-1a over the id, finished with a mixer: cheap and good enough for
 * uuid-shaped keys; 0 is reserved for empty slots. */
static uint32_t key_hash(const char *id, size_t len)
{
    uint64_t h = gtp_strmap_hash(id, len);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (uint32_t)h ? (uint32_t)h : 1;
}

struct gtp_window *gtp_window_new(void)
{
    struct gtp_window *w = gtp_xcalloc(1, sizeof(*w));
    w->max_event_us = INT64_MIN;
    w->watermark_us = GTP_WATERMARK_NONE;
    w->purged_below = INT64_MIN;
    return w;
}

/* Slot arrays of 256 KiB and more are mapped on their own, whatever glibc's mmap threshold
 * (a daemon may raise it for its fetch buffers, gtp/consumer.h): the dedup tables are the
 * largest memory that grows, and a grown table's old array unmapped goes back to the system at
 * once, where in the heap it would stay resident as a hole. Zeroed, like calloc. Populated at
 * once (MAP_POPULATE): the rehash that follows touches every page of the new array anyway, a
 * probe's read first and its write after, which took two faults per page, 61 % of the
 * processor's page faults on 1M events (perf; bench/README.md, session 17). */
#define SLOTS_MAP_MIN (256u * 1024)

static void *slots_alloc(size_t n, size_t size)
{
    void *p;
    if (n * size < SLOTS_MAP_MIN)
        return gtp_xcalloc(n, size);
    p = mmap(NULL, n * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1,
             0);
    if (p == MAP_FAILED) { /* out of memory: abort as the other allocations do (util.h) */
        fprintf(stderr, "gtp: out of memory mapping %zu bytes\n", n * size);
        abort();
    }
    return p;
}

static void slots_free(void *p, size_t n, size_t size)
{
    if (n * size < SLOTS_MAP_MIN)
        free(p);
    else if (p)
        munmap(p, n * size);
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->scap; i++)
        if (t->s[i].hash)
            free(t->s[i].str);
    slots_free(t->s, t->scap, sizeof(*t->s));
    slots_free(t->u, t->ucap, sizeof(*t->u));
}

void gtp_window_free(struct gtp_window *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->ntables; i++)
        table_free(&w->tables[i]);
    free(w->tables);
    free(w);
}

/* The slot a uuid's probe starts at: the high bits of hash * cap, uniform over [0, cap) for
 * a uniform 64-bit hash. */
static size_t uuid_index(const uint8_t *bin, size_t cap)
{
    return (size_t)(((unsigned __int128)(uint64_t)uuid_hash(bin) * cap) >> 64);
}

static uint8_t *uuid_find(uuid_slot *slots, size_t cap, const uint8_t *bin)
{
    size_t i = uuid_index(bin, cap);
    for (;;) {
        uint8_t *e = slots[i];
        if (uuid_empty(e) || memcmp(e, bin, 16) == 0)
            return e;
        if (++i == cap)
            i = 0;
    }
}

static struct entry *str_find(struct entry *slots, size_t cap, uint32_t hash,
                              const struct gtp_eventid *k)
{
    size_t mask = cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct entry *e = &slots[i];
        if (e->hash == 0)
            return e;
        if (e->hash == hash && e->len == k->len && memcmp(e->str, k->text, k->len) == 0)
            return e;
    }
}

static void uuid_grow(struct table *t)
{
    size_t ncap = t->ucap + t->ucap / 2;
    uuid_slot *slots = slots_alloc(ncap, sizeof(*slots));
    for (size_t i = 0; i < t->ucap; i++)
        if (!uuid_empty(t->u[i]))
            memcpy(uuid_find(slots, ncap, t->u[i]), t->u[i], 16);
    slots_free(t->u, t->ucap, sizeof(*t->u));
    t->u = slots;
    t->ucap = ncap;
}

static void str_grow(struct table *t)
{
    size_t ncap = t->scap ? t->scap * 2 : 16, mask = ncap - 1;
    struct entry *slots = slots_alloc(ncap, sizeof(*slots));
    for (size_t i = 0; i < t->scap; i++) {
        size_t j;
        if (!t->s[i].hash)
            continue;
        for (j = t->s[i].hash & mask; slots[j].hash; j = (j + 1) & mask)
            ;
        slots[j] = t->s[i];
    }
    slots_free(t->s, t->scap, sizeof(*t->s));
    t->s = slots;
    t->scap = ncap;
}

static struct table *table_for(struct gtp_window *w, int64_t start)
{
    struct table *t;
    for (size_t i = 0; i < w->ntables; i++)
        if (w->tables[i].start == start)
            return &w->tables[i];
    if (w->ntables == w->tables_cap) {
        w->tables_cap = w->tables_cap ? w->tables_cap * 2 : 8;
        w->tables = gtp_xrealloc(w->tables, w->tables_cap * sizeof(*w->tables));
    }
    t = &w->tables[w->ntables++];
    *t = (struct table){.start = start, .ucap = 256};
    t->u = slots_alloc(t->ucap, sizeof(*t->u));
    return t;
}

/* Windows with start + 1h <= W are final: their dedup tables can go. */
static void purge(struct gtp_window *w)
{
    int64_t min_open_start;
    size_t keep = 0;
    if (w->watermark_us == GTP_WATERMARK_NONE)
        return;
    /* open <=> start + 1h > W <=> start > W - 1h <=> start >= floor_hour(W)
     * (starts are whole hours; end == W is final, as in Spark) */
    min_open_start = gtp_window_start(w->watermark_us);
    if (min_open_start <= w->purged_below)
        return;
    w->purged_below = min_open_start;
    for (size_t i = 0; i < w->ntables; i++) {
        if (w->tables[i].start < min_open_start)
            table_free(&w->tables[i]);
        else
            w->tables[keep++] = w->tables[i];
    }
    w->ntables = keep;
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
static bool insert(struct gtp_window *w, const struct gtp_eventid *k, int64_t window_start)
{
    struct table *t = table_for(w, window_start);

    if (in_uuid_set(k)) {
        uint8_t *e = uuid_find(t->u, t->ucap, k->bin);
        if (!uuid_empty(e))
            return false;
        memcpy(e, k->bin, 16);
        /* linear probing stays short up to 4/5 full (uniform uuid hashes) */
        if (++t->uused * 5 > t->ucap * 4)
            uuid_grow(t);
        return true;
    }
    uint32_t h = key_hash(k->text, k->len);
    if (!t->s)
        str_grow(t);
    struct entry *e = str_find(t->s, t->scap, h, k);
    if (e->hash)
        return false;
    *e = (struct entry){h, (uint32_t)k->len, gtp_xmalloc(k->len ? k->len : 1)};
    memcpy(e->str, k->text, k->len);
    if (++t->sused * 4 > t->scap * 3)
        str_grow(t);
    return true;
}

enum gtp_verdict gtp_window_classify_id(struct gtp_window *w, const struct gtp_eventid *id,
                                        int64_t ts_us)
{
    int64_t ws = gtp_window_start(ts_us);
    enum gtp_verdict v;
    /* Judge against the watermark of the events before this one, then let
     * this (valid) event advance it, whatever its verdict. */
    if (is_late(w, ws))
        v = GTP_VERDICT_LATE;
    else if (!insert(w, id, ws))
        v = GTP_VERDICT_DUPLICATE;
    else
        v = GTP_VERDICT_COUNT;
    set_max(w, ts_us);
    return v;
}

enum gtp_verdict gtp_window_classify(struct gtp_window *w, const char *event_id, size_t len,
                                     int64_t ts_us)
{
    struct gtp_eventid id;
    gtp_eventid_init(&id, event_id, len);
    return gtp_window_classify_id(w, &id, ts_us);
}

void gtp_window_prefetch_id(const struct gtp_window *w, const uint8_t *id_bin, int64_t ts_us)
{
    int64_t start = gtp_window_start(ts_us);
    for (size_t i = 0; i < w->ntables; i++) {
        const struct table *t = &w->tables[i];
        if (t->start == start) {
            __builtin_prefetch(t->u[uuid_index(id_bin, t->ucap)]);
            return;
        }
    }
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
    struct gtp_eventid id;
    if (is_late(w, window_start_us))
        return;
    gtp_eventid_init(&id, event_id, len);
    insert(w, &id, window_start_us);
}

size_t gtp_window_dedup_bytes(const struct gtp_window *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->ntables; i++) {
        const struct table *t = &w->tables[i];
        n += t->ucap * sizeof(uuid_slot) + t->scap * sizeof(struct entry);
        for (size_t j = 0; j < t->scap; j++)
            n += t->s[j].hash ? t->s[j].len : 0;
    }
    return n;
}

size_t gtp_window_dedup_size(const struct gtp_window *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->ntables; i++)
        n += w->tables[i].uused + w->tables[i].sused;
    return n;
}

void gtp_window_foreach_id(const struct gtp_window *w, gtp_window_id_fn fn, void *ctx)
{
    for (size_t i = 0; i < w->ntables; i++) {
        const struct table *t = &w->tables[i];
        for (size_t j = 0; j < t->scap; j++)
            if (t->s[j].hash)
                fn(t->start, t->s[j].str, t->s[j].len, ctx);
        for (size_t j = 0; j < t->ucap; j++) {
            const uint8_t *e = t->u[j];
            char id[GTP_UUIDTEXT_LEN];
            if (uuid_empty(e))
                continue;
            gtp_uuidtext_unpack(e, id); /* the canonical text key_init accepted */
            fn(t->start, id, sizeof(id), ctx);
        }
    }
}
