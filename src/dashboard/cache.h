/* The dashboard's answer cache (docs/dashboard.md, "Answer cache"): API answers
 * kept per route and parameters, recomputed by a background refresher thread
 * before they expire, so that no request waits on Redis once its key is warm.
 *
 * - A cold key (never seen, evicted, or older than its stale window) is
 *   computed on one of the cache's compute threads, never on the thread of
 *   the request that asks for it: the request registers as a waiter on the
 *   key's one computation (single flight: concurrent requests for the key,
 *   and a refresh under way, share it) and is parked; when the computation
 *   ends every waiter is woken with its answer or its error. An HTTP server
 *   parks by suspending the connection, so its worker thread goes on
 *   serving other connections while Redis is slow.
 * - The refresher wakes every ttl/8 and recomputes every key requested within
 *   the last idle_periods·ttl whose answer has less than ttl/4 left to live;
 *   a key requested less recently is evicted. A failed refresh is retried
 *   after ttl (a Redis outage does not turn into a busy loop).
 * - An expired answer keeps being served for stale_ms more (the refresher is
 *   late, or Redis fails); past that the key is cold again, so a request
 *   computes it and a Redis outage answers with the caller's error.
 * - At most max_keys keys are kept: a new key evicts the least recently
 *   requested one that is not being computed. The key space is large
 *   (/api/skill?skill=X&hours=H&top=T...), the memory is not.
 *
 * The cache knows nothing of HTTP: an answer is an opaque reference made by
 * compute and released by release (for the dashboard an MHD response); the
 * cache counts the references it hands to waiters itself.
 * Thread safe. */
#ifndef DASH_CACHE_H
#define DASH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/metrics.h"

#define DCACHE_KEY_MAX 160

/* Compute the answer for params (a copy of the params_size bytes given with
 * the key). Returns 0 with *answer (new: one reference, taken by the cache)
 * or a negative code with a message in errstr. Called by the compute threads
 * and the refresher thread, never with a cache lock held. */
typedef int (*dcache_compute_fn)(void *ctx, const void *params, void **answer, char *errstr,
                                 size_t errstr_size);
/* Release one reference of an answer. */
typedef void (*dcache_release_fn)(void *answer);
/* Use an answer (borrowed: valid during the call only; take a reference of
 * your own to keep it). Returns true when it was used. */
typedef bool (*dcache_use_fn)(void *arg, void *answer);

struct dcache_metrics {           /* each may be NULL */
    struct gtp_metric *hits;      /* answered from the cache (fresh or stale) */
    struct gtp_metric *misses;    /* computations started for a request (cold key) */
    struct gtp_metric *stale;     /* answered with an expired answer */
    struct gtp_metric *refreshes; /* recomputed by the refresher */
    struct gtp_metric *refresh_failures;
    struct gtp_metric *evictions;       /* keys dropped: idle or to make room */
    struct gtp_metric *keys;            /* gauge: keys held */
    struct gtp_metric *refresh_seconds; /* histogram: one refresh's duration */
};

struct dcache_cfg {
    int64_t ttl_ms;     /* an answer is fresh this long (> 0) */
    int64_t stale_ms;   /* then served this much longer while no fresh one comes */
    int max_keys;       /* >= 1 */
    int idle_periods;   /* keys not requested for this many ttl are evicted (>= 1) */
    int threads;        /* compute threads for cold keys (>= 1) */
    size_t params_size; /* bytes of the params copied with each key */
    dcache_compute_fn compute;
    dcache_release_fn release;
    void *ctx; /* borrowed, passed to compute; must outlive the cache */
    struct dcache_metrics m;
};

struct dcache;
struct dcache_job;
struct dcache_ans;

/* The errstr a waiter gets. */
#define DCACHE_ERR_MAX 256
/* dcache_serve_async: the request waits (parked) for its key's computation. */
#define DCACHE_PENDING 1

/* How a request waiting for a cold key is parked and woken. */
struct dcache_parking {
    /* Called once, under the cache's lock, on the thread of
     * dcache_serve_async when the request has to wait: e.g.
     * MHD_suspend_connection. Must be short and not call into the cache. */
    void (*park)(void *arg);
    /* Called once when the computation ended (or the cache closed), from
     * another thread, under the cache's lock: e.g. MHD_resume_connection.
     * Must be short and not call into the cache. */
    void (*wake)(void *arg);
    void *arg;
};

/* A request waiting for a cold key (the cache's, opaque). */
struct dcache_wait;

/* A new cache, its refresher and compute threads; NULL with errstr when the
 * configuration is out of range or a thread cannot start. cfg is copied. */
struct dcache *dcache_new(const struct dcache_cfg *cfg, char *errstr, size_t errstr_size);

/* Stop and join the threads (waiting for the computations under way), then
 * release every answer. NULL-safe. No request may be inside the cache, and
 * none waiting (dcache_close first). */
void dcache_free(struct dcache *c);

/* Serve key without blocking the calling thread on a computation.
 * A warm key: use(arg, answer) (under a read lock) and 0, or
 * GTP_ERR_INTERNAL when use returned false.
 * A cold key: its computation is started on a compute thread, or joined
 * when one is under way (params: borrowed, params_size bytes, kept with a
 * new key for refreshes); the request is parked (pk, copied) and
 * DCACHE_PENDING returned with *w (new: give it to dcache_wait_end or
 * dcache_wait_fini). pk->wake follows when the computation ends.
 * A key longer than DCACHE_KEY_MAX - 1 is computed the same way, uncached.
 * After dcache_close a cold key answers GTP_ERR_UNAVAILABLE at once. */
int dcache_serve_async(struct dcache *c, const char *key, const void *params, dcache_use_fn use,
                       void *arg, const struct dcache_parking *pk, struct dcache_wait **w,
                       char *errstr, size_t errstr_size);

/* After the wake: use(arg, answer) with the answer w got; frees w (taken).
 * Returns 0; GTP_ERR_INTERNAL when use returned false; else the
 * computation's negative code with its errstr (nothing is cached then), or
 * GTP_ERR_UNAVAILABLE when the cache closed first. */
int dcache_wait_end(struct dcache *c, struct dcache_wait *w, dcache_use_fn use, void *arg,
                    char *errstr, size_t errstr_size);

/* Give up w (taken; NULL-safe) whatever its state, its request gone, from
 * any thread: withdrawn from its computation when still waiting (no wake
 * follows then), its answer released when it got one. */
void dcache_wait_fini(struct dcache *c, struct dcache_wait *w);

/* The blocking form of dcache_serve_async for a thread that may wait (tests,
 * tools): the same, waiting for the computation. Returns 0 when use was
 * called and returned true, else as dcache_wait_end. */
int dcache_serve(struct dcache *c, const char *key, const void *params, dcache_use_fn use,
                 void *arg, char *errstr, size_t errstr_size);

/* Wake every waiting request with GTP_ERR_UNAVAILABLE ("shutting down") and
 * answer later cold keys so at once; warm keys are still served. For a
 * server that must have no parked request when it stops (libmicrohttpd's
 * MHD_stop_daemon aborts on a suspended connection). */
void dcache_close(struct dcache *c);

/* Drop every answer (after a taxonomy reload: they carry the old names). An
 * answer being computed meanwhile is served to its request but not kept. */
void dcache_clear(struct dcache *c);

/* Keys held now (for tests and the gauge). */
int dcache_count(struct dcache *c);

#endif
