/* The dashboard's answer cache with its background refresher (cache.h).
 *
 * Two locks, always taken in this order: mu (the busy flags, the generation,
 * the stop flag; cv and stop_cv go with it) and rw (the table: keys, chains,
 * answers and their expiry). A request for a warm key takes rw for reading
 * only, so worker threads serving answers never wait for each other, nor for
 * a computation: those run with no lock held. */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gtp/err.h"
#include "gtp/strmap.h"
#include "gtp/util.h"

struct entry {
    char key[DCACHE_KEY_MAX];
    void *params;           /* params_size bytes, owned by the table */
    void *answer;           /* one reference, or NULL while the key is cold */
    int64_t fresh_until_ms; /* under rw */
    int64_t retry_ms;       /* the refresher's next try after a failure; under mu */
    _Atomic int64_t last_req_ms;
    uint64_t gen; /* c->gen when the computation under way started */
    bool used;    /* under rw (written under mu too) */
    bool busy;    /* a computation is under way; under mu */
    int next;     /* hash chain, or the free list; -1 ends */
};

struct dcache {
    struct dcache_cfg cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* a computation ended */
    pthread_cond_t stop_cv; /* the refresher's sleep */
    pthread_rwlock_t rw;
    struct entry *e;
    char *params; /* max_keys * params_size */
    int *bucket;
    size_t nbuckets; /* a power of two */
    int nused, free_head;
    uint64_t gen; /* bumped by dcache_clear */
    bool stop, started;
    pthread_t thread;
};

/* ---- the table (callers hold the locks named) ---------------------------------------- */

static size_t bucket_of(const struct dcache *c, const char *key)
{
    return gtp_strmap_hash(key, strlen(key)) & (c->nbuckets - 1);
}

/* rw (either mode) */
static int find(const struct dcache *c, const char *key)
{
    for (int i = c->bucket[bucket_of(c, key)]; i >= 0; i = c->e[i].next)
        if (!strcmp(c->e[i].key, key))
            return i;
    return -1;
}

/* mu and rw (write); returns the answer for the caller to release */
static void *unlink_entry(struct dcache *c, int i)
{
    struct entry *e = &c->e[i];
    int *p = &c->bucket[bucket_of(c, e->key)];
    void *answer = e->answer;
    while (*p != i)
        p = &c->e[*p].next;
    *p = e->next;
    e->used = false;
    e->answer = NULL;
    e->key[0] = '\0';
    e->next = c->free_head;
    c->free_head = i;
    c->nused--;
    gtp_metric_set(c->cfg.m.keys, c->nused);
    return answer;
}

/* mu held; takes rw (write). A new cold entry for key, evicting the least
 * recently requested idle one when the table is full; -1 when every entry is
 * being computed. *evicted: an answer for the caller to release. */
static int insert(struct dcache *c, const char *key, const void *params, int64_t now,
                  void **evicted)
{
    int i = -1;
    size_t b;
    *evicted = NULL;
    pthread_rwlock_wrlock(&c->rw);
    if (c->free_head < 0) {
        int64_t oldest = INT64_MAX;
        int victim = -1;
        for (int k = 0; k < c->cfg.max_keys; k++) {
            int64_t t = atomic_load_explicit(&c->e[k].last_req_ms, memory_order_relaxed);
            if (c->e[k].used && !c->e[k].busy && t < oldest) {
                oldest = t;
                victim = k;
            }
        }
        if (victim < 0)
            goto out;
        *evicted = unlink_entry(c, victim);
        gtp_metric_inc(c->cfg.m.evictions);
    }
    i = c->free_head;
    c->free_head = c->e[i].next;
    snprintf(c->e[i].key, sizeof(c->e[i].key), "%s", key);
    memcpy(c->e[i].params, params, c->cfg.params_size);
    c->e[i].answer = NULL;
    c->e[i].fresh_until_ms = 0;
    c->e[i].retry_ms = 0;
    atomic_store_explicit(&c->e[i].last_req_ms, now, memory_order_relaxed);
    c->e[i].used = true;
    c->e[i].busy = false;
    b = bucket_of(c, key);
    c->e[i].next = c->bucket[b];
    c->bucket[b] = i;
    c->nused++;
    gtp_metric_set(c->cfg.m.keys, c->nused);
out:
    pthread_rwlock_unlock(&c->rw);
    return i;
}

/* rw (read). 1: used a fresh answer, 2: a stale one, 0: nothing to serve,
 * -1: use failed. A request marks the key as wanted (refreshed, not evicted). */
static int serve_cached(struct dcache *c, int i, int64_t now, dcache_use_fn use, void *arg)
{
    struct entry *e = &c->e[i];
    if (atomic_load_explicit(&e->last_req_ms, memory_order_relaxed) != now)
        atomic_store_explicit(&e->last_req_ms, now, memory_order_relaxed);
    if (!e->answer || now >= e->fresh_until_ms + c->cfg.stale_ms)
        return 0;
    if (!use(arg, e->answer))
        return -1;
    return now < e->fresh_until_ms ? 1 : 2;
}

static int served(struct dcache *c, int r)
{
    if (r < 0)
        return GTP_ERR_INTERNAL;
    gtp_metric_inc(c->cfg.m.hits);
    if (r == 2)
        gtp_metric_inc(c->cfg.m.stale);
    return 0;
}

/* A computation of entry i (started at generation gen) ended with answer
 * (taken; NULL when it failed). The answer is kept unless a clear came in
 * between; an entry left without an answer is dropped, so failures (an
 * unknown skill, Redis down on a cold key) do not fill the table. */
static void finish(struct dcache *c, int i, uint64_t gen, void *answer, int64_t now)
{
    struct entry *e = &c->e[i];
    void *old = NULL, *dropped = NULL;
    pthread_mutex_lock(&c->mu);
    pthread_rwlock_wrlock(&c->rw);
    e->busy = false;
    if (answer && gen == c->gen) {
        old = e->answer;
        e->answer = answer;
        e->fresh_until_ms = now + c->cfg.ttl_ms;
        answer = NULL;
    } else if (!answer) {
        e->retry_ms = now + c->cfg.ttl_ms;
    }
    if (!e->answer)
        dropped = unlink_entry(c, i);
    pthread_rwlock_unlock(&c->rw);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (old)
        c->cfg.release(old);
    if (answer)
        c->cfg.release(answer);
    if (dropped)
        c->cfg.release(dropped);
}

/* ---- requests ---------------------------------------------------------------------------- */

static int compute_and_use(struct dcache *c, const void *params, dcache_use_fn use, void *arg,
                           void **answer, char *errstr, size_t errstr_size)
{
    int err = c->cfg.compute(c->cfg.ctx, params, answer, errstr, errstr_size);
    if (err)
        *answer = NULL;
    else if (!use(arg, *answer))
        err = GTP_ERR_INTERNAL;
    return err;
}

int dcache_serve(struct dcache *c, const char *key, const void *params, dcache_use_fn use,
                 void *arg, char *errstr, size_t errstr_size)
{
    int64_t now = gtp_mono_ms();
    void *answer = NULL, *evicted = NULL;
    uint64_t gen = 0;
    int i, r, err;

    if (strlen(key) >= DCACHE_KEY_MAX) {
        gtp_metric_inc(c->cfg.m.misses);
        err = compute_and_use(c, params, use, arg, &answer, errstr, errstr_size);
        if (answer)
            c->cfg.release(answer);
        return err;
    }
    pthread_rwlock_rdlock(&c->rw);
    i = find(c, key);
    r = i >= 0 ? serve_cached(c, i, now, use, arg) : 0;
    pthread_rwlock_unlock(&c->rw);
    if (r)
        return served(c, r);

    /* Cold: compute it here, or wait for the computation under way (another
     * request's or the refresher's) and serve its answer. */
    pthread_mutex_lock(&c->mu);
    for (;;) {
        now = gtp_mono_ms();
        pthread_rwlock_rdlock(&c->rw);
        i = find(c, key);
        r = i >= 0 ? serve_cached(c, i, now, use, arg) : 0;
        pthread_rwlock_unlock(&c->rw);
        if (r) {
            pthread_mutex_unlock(&c->mu);
            return served(c, r);
        }
        if (i < 0 || !c->e[i].busy)
            break;
        pthread_cond_wait(&c->cv, &c->mu); /* a computation ends within the Redis timeout */
    }
    if (i < 0)
        i = insert(c, key, params, now, &evicted);
    if (i >= 0) {
        c->e[i].busy = true;
        c->e[i].gen = gen = c->gen;
    }
    pthread_mutex_unlock(&c->mu);
    if (evicted)
        c->cfg.release(evicted);

    gtp_metric_inc(c->cfg.m.misses);
    err = compute_and_use(c, params, use, arg, &answer, errstr, errstr_size);
    if (i >= 0) {
        finish(c, i, gen, answer, gtp_mono_ms()); /* the reference becomes the cache's */
    } else if (answer) {
        c->cfg.release(answer); /* every entry busy: served uncached */
    }
    return err;
}

/* ---- the refresher ----------------------------------------------------------------------- */

static bool idle(const struct dcache *c, const struct entry *e, int64_t now)
{
    return now - atomic_load_explicit(&e->last_req_ms, memory_order_relaxed) >=
           c->cfg.idle_periods * c->cfg.ttl_ms;
}

/* mu held. Drop the keys nobody asked for lately; list the ones whose answer
 * expires within lead. Returns how many are due. The table is only read
 * unless something is to be dropped: a writer, however brief, holds up every
 * request (and a writer preempted on a busy machine holds them up long). */
static int scan(struct dcache *c, int64_t now, int64_t lead, int *due, void **dropped,
                int *ndropped)
{
    int nd = 0, nidle = 0;
    *ndropped = 0;
    pthread_rwlock_rdlock(&c->rw);
    for (int i = 0; i < c->cfg.max_keys; i++) {
        struct entry *e = &c->e[i];
        if (!e->used || e->busy)
            continue;
        if (idle(c, e, now))
            nidle++;
        else if (e->answer && now >= e->fresh_until_ms - lead && now >= e->retry_ms)
            due[nd++] = i;
    }
    pthread_rwlock_unlock(&c->rw);
    if (!nidle)
        return nd;
    pthread_rwlock_wrlock(&c->rw);
    for (int i = 0; i < c->cfg.max_keys; i++) {
        struct entry *e = &c->e[i];
        if (e->used && !e->busy && idle(c, e, now)) {
            dropped[(*ndropped)++] = unlink_entry(c, i);
            gtp_metric_inc(c->cfg.m.evictions);
        }
    }
    pthread_rwlock_unlock(&c->rw);
    return nd;
}

static void refresh_one(struct dcache *c, int i, int64_t lead)
{
    char err[512];
    void *answer = NULL;
    uint64_t gen;
    int64_t t0 = gtp_mono_us(), now = gtp_mono_ms();
    struct entry *e = &c->e[i];
    bool go;

    /* the entry may have been refreshed, evicted or reused since the scan */
    pthread_mutex_lock(&c->mu);
    pthread_rwlock_rdlock(&c->rw);
    go = !c->stop && e->used && !e->busy && e->answer && now >= e->fresh_until_ms - lead &&
         now >= e->retry_ms;
    pthread_rwlock_unlock(&c->rw);
    if (go) {
        e->busy = true; /* params stay put while busy */
        e->gen = gen = c->gen;
    }
    pthread_mutex_unlock(&c->mu);
    if (!go)
        return;
    if (c->cfg.compute(c->cfg.ctx, e->params, &answer, err, sizeof(err))) {
        answer = NULL;
        gtp_metric_inc(c->cfg.m.refresh_failures);
    } else {
        gtp_metric_inc(c->cfg.m.refreshes);
    }
    gtp_metric_observe(c->cfg.m.refresh_seconds, (double)(gtp_mono_us() - t0) / 1e6);
    finish(c, i, gen, answer, gtp_mono_ms());
}

static void *refresher(void *arg)
{
    struct dcache *c = arg;
    int64_t tick = c->cfg.ttl_ms / 8 > 0 ? c->cfg.ttl_ms / 8 : 1, lead = 2 * tick;
    int *due = gtp_xcalloc((size_t)c->cfg.max_keys, sizeof(*due));
    void **dropped = gtp_xcalloc((size_t)c->cfg.max_keys, sizeof(*dropped));
    int nd, ndropped;

    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)(tick / 1000);
        ts.tv_nsec += (long)(tick % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!c->stop && pthread_cond_timedwait(&c->stop_cv, &c->mu, &ts) != ETIMEDOUT)
            ;
        if (c->stop)
            break;
        nd = scan(c, gtp_mono_ms(), lead, due, dropped, &ndropped);
        pthread_mutex_unlock(&c->mu);
        for (int k = 0; k < ndropped; k++)
            if (dropped[k])
                c->cfg.release(dropped[k]);
        for (int k = 0; k < nd; k++)
            refresh_one(c, due[k], lead);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    free(due);
    free(dropped);
    return NULL;
}

/* ---- life cycle -------------------------------------------------------------------------- */

struct dcache *dcache_new(const struct dcache_cfg *cfg, char *errstr, size_t errstr_size)
{
    struct dcache *c = NULL;
    pthread_condattr_t ca;
    if (cfg->ttl_ms <= 0 || cfg->stale_ms < 0 || cfg->max_keys < 1 || cfg->idle_periods < 1 ||
        !cfg->compute || !cfg->release) {
        gtp_errf(errstr, errstr_size, "answer cache: ttl, max keys and idle periods must be >= 1");
        return NULL;
    }
    c = gtp_xcalloc(1, sizeof(*c));
    c->cfg = *cfg;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->stop_cv, &ca);
    pthread_condattr_destroy(&ca);
    {
        /* writer-preferring: a steady stream of readers must not starve the
         * refresher's store of a fresh answer */
        pthread_rwlockattr_t ra;
        pthread_rwlockattr_init(&ra);
        pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        pthread_rwlock_init(&c->rw, &ra);
        pthread_rwlockattr_destroy(&ra);
    }
    c->e = gtp_xcalloc((size_t)cfg->max_keys, sizeof(*c->e));
    c->params = gtp_xcalloc((size_t)cfg->max_keys, cfg->params_size ? cfg->params_size : 1);
    for (c->nbuckets = 16; c->nbuckets < 2 * (size_t)cfg->max_keys; c->nbuckets *= 2)
        ;
    c->bucket = gtp_xcalloc(c->nbuckets, sizeof(*c->bucket));
    for (size_t b = 0; b < c->nbuckets; b++)
        c->bucket[b] = -1;
    for (int i = 0; i < cfg->max_keys; i++) {
        c->e[i].params = c->params + (size_t)i * cfg->params_size;
        c->e[i].next = i + 1 < cfg->max_keys ? i + 1 : -1;
    }
    c->free_head = 0;
    gtp_metric_set(c->cfg.m.keys, 0);
    if (pthread_create(&c->thread, NULL, refresher, c)) {
        gtp_errf(errstr, errstr_size, "answer cache: cannot start the refresher thread");
        dcache_free(c);
        return NULL;
    }
    c->started = true;
    return c;
}

void dcache_free(struct dcache *c)
{
    if (!c)
        return;
    if (c->started) {
        pthread_mutex_lock(&c->mu);
        c->stop = true;
        pthread_cond_signal(&c->stop_cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
    }
    for (int i = 0; i < c->cfg.max_keys; i++)
        if (c->e[i].answer)
            c->cfg.release(c->e[i].answer);
    pthread_rwlock_destroy(&c->rw);
    pthread_cond_destroy(&c->stop_cv);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c->bucket);
    free(c->params);
    free(c->e);
    free(c);
}

void dcache_clear(struct dcache *c)
{
    void **dropped = gtp_xcalloc((size_t)c->cfg.max_keys, sizeof(*dropped));
    int n = 0;
    pthread_mutex_lock(&c->mu);
    pthread_rwlock_wrlock(&c->rw);
    c->gen++;
    for (int i = 0; i < c->cfg.max_keys; i++) {
        if (!c->e[i].used)
            continue;
        if (c->e[i].busy) { /* finish() drops it: its generation is old */
            dropped[n++] = c->e[i].answer;
            c->e[i].answer = NULL;
        } else {
            dropped[n++] = unlink_entry(c, i);
        }
    }
    pthread_rwlock_unlock(&c->rw);
    pthread_mutex_unlock(&c->mu);
    for (int k = 0; k < n; k++)
        if (dropped[k])
            c->cfg.release(dropped[k]);
    free(dropped);
}

int dcache_count(struct dcache *c)
{
    int n;
    pthread_rwlock_rdlock(&c->rw);
    n = c->nused;
    pthread_rwlock_unlock(&c->rw);
    return n;
}
