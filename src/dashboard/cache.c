/* The dashboard's answer cache with its background refresher and compute
 * threads (cache.h).
 *
 * Two locks, always taken in this order: mu (the computations under way and
 * their waiters, the job queue, the generation, the stop and closed flags;
 * cv and stop_cv go with it) and rw (the table: keys, chains, answers and
 * their expiry). A request for a warm key takes rw for reading only, so
 * worker threads serving answers never wait for each other, nor for a
 * computation: those run on the compute threads and the refresher with no
 * lock held, and a request for a cold key only registers and parks. */
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

/* An answer with the references the cache hands out: the table's one, and
 * one per waiter that got it (the answer's own references are opaque). */
struct dcache_ans {
    atomic_int refs;
    void *answer; /* one reference, released with the last of ours */
};

/* One computation under way: a cold key's (queued for the compute threads,
 * or running there) or a refresh (on the refresher). */
struct dcache_wait {
    struct dcache_parking pk;
    struct dcache_ans *ans; /* the answer got (one reference) */
    int err;
    char errstr[DCACHE_ERR_MAX];
    bool joined;            /* joined a computation another had started: a hit */
    struct dcache_job *job; /* the computation waited for; under mu */
    struct dcache_wait *next;
};

struct dcache_job {
    int i;        /* the entry computed, or -1: uncached (params below) */
    uint64_t gen; /* c->gen when it started */
    struct dcache_wait *waiters;
    struct dcache_job *qnext;       /* the queue */
    struct dcache_job *prev, *next; /* c->jobs: every one under way */
    unsigned char params[];         /* uncached only */
};

struct entry {
    char key[DCACHE_KEY_MAX];
    void *params;           /* params_size bytes, owned by the table */
    struct dcache_ans *ans; /* the table's reference, or NULL while the key is cold */
    int64_t fresh_until_ms; /* under rw */
    int64_t retry_ms;       /* the refresher's next try after a failure; under mu */
    _Atomic int64_t last_req_ms;
    bool used;              /* under rw (written under mu too) */
    struct dcache_job *job; /* the computation under way, or NULL; under mu */
    int next;               /* hash chain, or the free list; -1 ends */
};

struct dcache {
    struct dcache_cfg cfg;
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* a job was queued, or stop */
    pthread_cond_t stop_cv; /* the refresher's sleep */
    pthread_rwlock_t rw;
    struct entry *e;
    char *params; /* max_keys * params_size */
    int *bucket;
    size_t nbuckets; /* a power of two */
    int nused, free_head;
    uint64_t gen;                     /* bumped by dcache_clear */
    struct dcache_job *qhead, *qtail; /* cold computations not started yet */
    struct dcache_job *jobs;          /* every computation under way (and queued) */
    bool stop, closed, started;
    pthread_t thread;
    pthread_t *computers;
    int ncomputers;
};

static void ans_put(struct dcache *c, struct dcache_ans *a)
{
    if (a && atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) == 1) {
        c->cfg.release(a->answer);
        free(a);
    }
}

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
static struct dcache_ans *unlink_entry(struct dcache *c, int i)
{
    struct entry *e = &c->e[i];
    int *p = &c->bucket[bucket_of(c, e->key)];
    struct dcache_ans *answer = e->ans;
    while (*p != i)
        p = &c->e[*p].next;
    *p = e->next;
    e->used = false;
    e->ans = NULL;
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
                  struct dcache_ans **evicted)
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
            if (c->e[k].used && !c->e[k].job && t < oldest) {
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
    c->e[i].ans = NULL;
    c->e[i].fresh_until_ms = 0;
    c->e[i].retry_ms = 0;
    atomic_store_explicit(&c->e[i].last_req_ms, now, memory_order_relaxed);
    c->e[i].used = true;
    c->e[i].job = NULL;
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
    if (!e->ans || now >= e->fresh_until_ms + c->cfg.stale_ms)
        return 0;
    if (!use(arg, e->ans->answer))
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

/* mu held: a new computation of entry i (or uncached with params, i -1),
 * listed in c->jobs so that dcache_close reaches its waiters. */
static struct dcache_job *job_new(struct dcache *c, int i, const void *params)
{
    size_t extra = i < 0 ? c->cfg.params_size : 0;
    struct dcache_job *j = gtp_xcalloc(1, sizeof(*j) + extra);
    j->i = i;
    j->gen = c->gen;
    if (extra)
        memcpy(j->params, params, extra);
    if (i >= 0)
        c->e[i].job = j;
    j->next = c->jobs;
    if (c->jobs)
        c->jobs->prev = j;
    c->jobs = j;
    return j;
}

/* mu held: a new waiter for j, parked there and then, so that its wake
 * cannot come first. */
static struct dcache_wait *job_wait(struct dcache_job *j, const struct dcache_parking *pk,
                                    bool joined)
{
    struct dcache_wait *w = gtp_xcalloc(1, sizeof(*w));
    w->pk = *pk;
    w->joined = joined;
    w->job = j;
    w->next = j->waiters;
    j->waiters = w;
    w->pk.park(w->pk.arg);
    return w;
}

/* mu held: wake j's waiters, each with answer a (a reference each) or err.
 * Under the lock, so that dcache_wait_fini never frees a waiter whose wake
 * is still to come. */
static void wake_waiters(struct dcache_job *j, struct dcache_ans *a, int err, const char *errstr)
{
    struct dcache_wait *w = j->waiters;
    j->waiters = NULL;
    while (w) {
        struct dcache_wait *next = w->next; /* w may be gone once woken */
        w->job = NULL;
        if (a) {
            atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
            w->ans = a;
        } else {
            w->err = err;
            snprintf(w->errstr, sizeof(w->errstr), "%s", errstr);
        }
        w->pk.wake(w->pk.arg);
        w = next;
    }
}

/* Computation j ended with answer (taken; NULL when it failed with err and
 * errstr). Its waiters get it either way. For an entry the answer is kept
 * unless a clear came in between; an entry left without an answer is
 * dropped, so failures (an unknown skill, Redis down on a cold key) do not
 * fill the table. Frees j. */
static void finish(struct dcache *c, struct dcache_job *j, void *answer, int err,
                   const char *errstr, int64_t now)
{
    struct dcache_ans *a = NULL, *old = NULL, *dropped = NULL;
    bool kept = false;
    if (answer) {
        a = gtp_xcalloc(1, sizeof(*a));
        atomic_init(&a->refs, 1);
        a->answer = answer;
    }
    pthread_mutex_lock(&c->mu);
    if (j->i >= 0) {
        struct entry *e = &c->e[j->i];
        pthread_rwlock_wrlock(&c->rw);
        e->job = NULL;
        if (a && j->gen == c->gen) {
            old = e->ans;
            e->ans = a;
            e->fresh_until_ms = now + c->cfg.ttl_ms;
            kept = true;
        } else if (!a) {
            e->retry_ms = now + c->cfg.ttl_ms;
        }
        if (!e->ans)
            dropped = unlink_entry(c, j->i);
        pthread_rwlock_unlock(&c->rw);
    }
    wake_waiters(j, a, err, errstr);
    if (j->prev)
        j->prev->next = j->next;
    else
        c->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    pthread_mutex_unlock(&c->mu);
    ans_put(c, old);
    ans_put(c, dropped);
    if (!kept)
        ans_put(c, a);
    free(j);
}

/* Run a cold computation (a compute thread). */
static void run_job(struct dcache *c, struct dcache_job *j)
{
    char err[DCACHE_ERR_MAX] = "";
    void *answer = NULL;
    const void *params = j->i >= 0 ? c->e[j->i].params : j->params; /* put while busy */
    int e = c->cfg.compute(c->cfg.ctx, params, &answer, err, sizeof(err));
    if (e) {
        answer = NULL;
    } else if (!answer) {
        e = GTP_ERR_INTERNAL;
        snprintf(err, sizeof(err), "no answer computed");
    }
    finish(c, j, answer, e, err, gtp_mono_ms());
}

static void *computer(void *arg)
{
    struct dcache *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        struct dcache_job *j;
        while (!c->stop && !c->qhead)
            pthread_cond_wait(&c->work_cv, &c->mu);
        if (c->stop)
            break; /* dcache_free fails what is left */
        j = c->qhead;
        c->qhead = j->qnext;
        if (!c->qhead)
            c->qtail = NULL;
        pthread_mutex_unlock(&c->mu);
        run_job(c, j);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---- requests ---------------------------------------------------------------------------- */

/* mu held: queue j for a compute thread */
static void enqueue(struct dcache *c, struct dcache_job *j)
{
    j->qnext = NULL;
    if (c->qtail)
        c->qtail->qnext = j;
    else
        c->qhead = j;
    c->qtail = j;
    pthread_cond_signal(&c->work_cv);
}

static int closed_err(char *errstr, size_t errstr_size)
{
    gtp_errf(errstr, errstr_size, "shutting down");
    return GTP_ERR_UNAVAILABLE;
}

int dcache_serve_async(struct dcache *c, const char *key, const void *params, dcache_use_fn use,
                       void *arg, const struct dcache_parking *pk, struct dcache_wait **w,
                       char *errstr, size_t errstr_size)
{
    int64_t now = gtp_mono_ms();
    struct dcache_ans *evicted = NULL;
    struct dcache_job *j;
    int i = -1, r;

    *w = NULL;
    if (strlen(key) < DCACHE_KEY_MAX) {
        pthread_rwlock_rdlock(&c->rw);
        i = find(c, key);
        r = i >= 0 ? serve_cached(c, i, now, use, arg) : 0;
        pthread_rwlock_unlock(&c->rw);
        if (r)
            return served(c, r);
    }

    /* Cold: join the computation under way (a request's or the refresher's),
     * or start one; either way the request is parked, not blocked. */
    pthread_mutex_lock(&c->mu);
    if (c->closed) {
        pthread_mutex_unlock(&c->mu);
        return closed_err(errstr, errstr_size);
    }
    if (strlen(key) >= DCACHE_KEY_MAX) {
        j = job_new(c, -1, params);
        goto start;
    }
    now = gtp_mono_ms();
    pthread_rwlock_rdlock(&c->rw);
    i = find(c, key);
    r = i >= 0 ? serve_cached(c, i, now, use, arg) : 0; /* it may have come meanwhile */
    pthread_rwlock_unlock(&c->rw);
    if (r) {
        pthread_mutex_unlock(&c->mu);
        return served(c, r);
    }
    if (i >= 0 && c->e[i].job) {
        *w = job_wait(c->e[i].job, pk, true);
        pthread_mutex_unlock(&c->mu);
        return DCACHE_PENDING;
    }
    if (i < 0)
        i = insert(c, key, params, now, &evicted);
    j = job_new(c, i, params); /* i -1: every entry busy, computed uncached */
start:
    *w = job_wait(j, pk, false);
    enqueue(c, j);
    pthread_mutex_unlock(&c->mu);
    ans_put(c, evicted);
    gtp_metric_inc(c->cfg.m.misses);
    return DCACHE_PENDING;
}

int dcache_wait_end(struct dcache *c, struct dcache_wait *w, dcache_use_fn use, void *arg,
                    char *errstr, size_t errstr_size)
{
    struct dcache_ans *a = w->ans;
    int err = 0;
    if (!a) {
        gtp_errf(errstr, errstr_size, "%s", w->errstr);
        err = w->err ? w->err : GTP_ERR_INTERNAL;
    } else if (!use(arg, a->answer)) {
        err = GTP_ERR_INTERNAL;
    } else if (w->joined) {
        gtp_metric_inc(c->cfg.m.hits); /* served by another's computation */
    }
    ans_put(c, a);
    free(w);
    return err;
}

void dcache_wait_fini(struct dcache *c, struct dcache_wait *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&c->mu);
    if (w->job) {
        struct dcache_wait **p = &w->job->waiters;
        while (*p != w)
            p = &(*p)->next;
        *p = w->next;
        w->job = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    ans_put(c, w->ans);
    free(w);
}

/* dcache_serve's parking: a condition variable of its own */
struct sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool woken;
};

static void sync_park(void *arg)
{
    (void)arg;
}

static void sync_wake(void *arg)
{
    struct sync_wait *s = arg;
    pthread_mutex_lock(&s->mu);
    s->woken = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int dcache_serve(struct dcache *c, const char *key, const void *params, dcache_use_fn use,
                 void *arg, char *errstr, size_t errstr_size)
{
    struct sync_wait s = {.woken = false};
    struct dcache_parking pk = {.park = sync_park, .wake = sync_wake, .arg = &s};
    struct dcache_wait *w = NULL;
    int err;
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    err = dcache_serve_async(c, key, params, use, arg, &pk, &w, errstr, errstr_size);
    if (err != DCACHE_PENDING)
        goto out;
    pthread_mutex_lock(&s.mu);
    while (!s.woken)
        pthread_cond_wait(&s.cv, &s.mu); /* a computation ends within the Redis timeout */
    pthread_mutex_unlock(&s.mu);
    err = dcache_wait_end(c, w, use, arg, errstr, errstr_size);
out:
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    return err;
}

void dcache_close(struct dcache *c)
{
    pthread_mutex_lock(&c->mu);
    c->closed = true;
    for (struct dcache_job *j = c->jobs; j; j = j->next)
        wake_waiters(j, NULL, GTP_ERR_UNAVAILABLE, "shutting down");
    pthread_mutex_unlock(&c->mu);
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
static int scan(struct dcache *c, int64_t now, int64_t lead, int *due, struct dcache_ans **dropped,
                int *ndropped)
{
    int nd = 0, nidle = 0;
    *ndropped = 0;
    pthread_rwlock_rdlock(&c->rw);
    for (int i = 0; i < c->cfg.max_keys; i++) {
        struct entry *e = &c->e[i];
        if (!e->used || e->job)
            continue;
        if (idle(c, e, now))
            nidle++;
        else if (e->ans && now >= e->fresh_until_ms - lead && now >= e->retry_ms)
            due[nd++] = i;
    }
    pthread_rwlock_unlock(&c->rw);
    if (!nidle)
        return nd;
    pthread_rwlock_wrlock(&c->rw);
    for (int i = 0; i < c->cfg.max_keys; i++) {
        struct entry *e = &c->e[i];
        if (e->used && !e->job && idle(c, e, now)) {
            dropped[(*ndropped)++] = unlink_entry(c, i);
            gtp_metric_inc(c->cfg.m.evictions);
        }
    }
    pthread_rwlock_unlock(&c->rw);
    return nd;
}

static void refresh_one(struct dcache *c, int i, int64_t lead)
{
    char err[DCACHE_ERR_MAX] = "";
    void *answer = NULL;
    int64_t t0 = gtp_mono_us(), now = gtp_mono_ms();
    struct entry *e = &c->e[i];
    struct dcache_job *j = NULL;
    int rc;

    /* the entry may have been refreshed, evicted or reused since the scan */
    pthread_mutex_lock(&c->mu);
    pthread_rwlock_rdlock(&c->rw);
    if (!c->stop && e->used && !e->job && e->ans && now >= e->fresh_until_ms - lead &&
        now >= e->retry_ms)
        j = job_new(c, i, NULL); /* a request for the key now waits for this one */
    pthread_rwlock_unlock(&c->rw);
    pthread_mutex_unlock(&c->mu);
    if (!j)
        return;
    rc = c->cfg.compute(c->cfg.ctx, e->params, &answer, err, sizeof(err));
    if (rc || !answer) {
        answer = NULL;
        rc = rc ? rc : GTP_ERR_INTERNAL;
        gtp_metric_inc(c->cfg.m.refresh_failures);
    } else {
        gtp_metric_inc(c->cfg.m.refreshes);
    }
    gtp_metric_observe(c->cfg.m.refresh_seconds, (double)(gtp_mono_us() - t0) / 1e6);
    finish(c, j, answer, rc, err, gtp_mono_ms());
}

static void *refresher(void *arg)
{
    struct dcache *c = arg;
    int64_t tick = c->cfg.ttl_ms / 8 > 0 ? c->cfg.ttl_ms / 8 : 1, lead = 2 * tick;
    int *due = gtp_xcalloc((size_t)c->cfg.max_keys, sizeof(*due));
    struct dcache_ans **dropped = gtp_xcalloc((size_t)c->cfg.max_keys, sizeof(*dropped));
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
            ans_put(c, dropped[k]);
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
        cfg->threads < 1 || !cfg->compute || !cfg->release) {
        gtp_errf(errstr, errstr_size,
                 "answer cache: ttl, max keys, idle periods and threads must be >= 1");
        return NULL;
    }
    c = gtp_xcalloc(1, sizeof(*c));
    c->cfg = *cfg;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->work_cv, NULL);
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
    c->computers = gtp_xcalloc((size_t)cfg->threads, sizeof(*c->computers));
    for (; c->ncomputers < cfg->threads; c->ncomputers++) {
        if (pthread_create(&c->computers[c->ncomputers], NULL, computer, c)) {
            gtp_errf(errstr, errstr_size, "answer cache: cannot start a compute thread");
            dcache_free(c);
            return NULL;
        }
    }
    return c;
}

void dcache_free(struct dcache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->stop_cv);
    pthread_cond_broadcast(&c->work_cv);
    pthread_mutex_unlock(&c->mu);
    if (c->started)
        pthread_join(c->thread, NULL);
    for (int k = 0; k < c->ncomputers; k++)
        pthread_join(c->computers[k], NULL);
    /* the cold computations never started: their waiters (none, when the
     * server closed the cache first) get an error */
    while (c->qhead) {
        struct dcache_job *j = c->qhead;
        c->qhead = j->qnext;
        finish(c, j, NULL, GTP_ERR_UNAVAILABLE, "shutting down", gtp_mono_ms());
    }
    for (int i = 0; i < c->cfg.max_keys; i++)
        ans_put(c, c->e[i].ans);
    free(c->computers);
    pthread_rwlock_destroy(&c->rw);
    pthread_cond_destroy(&c->stop_cv);
    pthread_cond_destroy(&c->work_cv);
    pthread_mutex_destroy(&c->mu);
    free(c->bucket);
    free(c->params);
    free(c->e);
    free(c);
}

void dcache_clear(struct dcache *c)
{
    struct dcache_ans **dropped = gtp_xcalloc((size_t)c->cfg.max_keys, sizeof(*dropped));
    int n = 0;
    pthread_mutex_lock(&c->mu);
    pthread_rwlock_wrlock(&c->rw);
    c->gen++;
    for (int i = 0; i < c->cfg.max_keys; i++) {
        if (!c->e[i].used)
            continue;
        if (c->e[i].job) { /* finish() drops it: its generation is old */
            dropped[n++] = c->e[i].ans;
            c->e[i].ans = NULL;
        } else {
            dropped[n++] = unlink_entry(c, i);
        }
    }
    pthread_rwlock_unlock(&c->rw);
    pthread_mutex_unlock(&c->mu);
    for (int k = 0; k < n; k++)
        ans_put(c, dropped[k]);
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
