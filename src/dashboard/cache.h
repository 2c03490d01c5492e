/* The dashboard's answer cache (docs/dashboard.md, "Answer cache"): API answers
 * kept per route and parameters, recomputed by a background refresher thread
 * before they expire, so that no request waits on Redis once its key is warm.
 *
 * - A cold key (never seen, evicted, or older than its stale window) is
 *   computed by the first request that asks for it; concurrent requests for
 *   the same key wait for that one computation and are served its answer.
 * - The refresher wakes every ttl/4 and recomputes every key requested within
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
 * compute and released by release (for the dashboard an MHD response).
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
 * or a negative code with a message in errstr. Called by request threads and
 * by the refresher thread, never with a cache lock held. */
typedef int (*dcache_compute_fn)(void *ctx, const void *params, void **answer, char *errstr,
                                 size_t errstr_size);
/* Release one reference of an answer. */
typedef void (*dcache_release_fn)(void *answer);
/* Use an answer (borrowed: valid during the call only; take a reference of
 * your own to keep it). Returns true when it was used. */
typedef bool (*dcache_use_fn)(void *arg, void *answer);

struct dcache_metrics {           /* each may be NULL */
    struct gtp_metric *hits;      /* answered from the cache (fresh or stale) */
    struct gtp_metric *misses;    /* computed by the request (cold key) */
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
    size_t params_size; /* bytes of the params copied with each key */
    dcache_compute_fn compute;
    dcache_release_fn release;
    void *ctx; /* borrowed, passed to compute; must outlive the cache */
    struct dcache_metrics m;
};

struct dcache;

/* A new cache and its refresher thread; NULL with errstr when the
 * configuration is out of range or the thread cannot start. cfg is copied. */
struct dcache *dcache_new(const struct dcache_cfg *cfg, char *errstr, size_t errstr_size);

/* Stop and join the refresher (waiting for a refresh under way), then release
 * every answer. NULL-safe. No request may be inside dcache_serve. */
void dcache_free(struct dcache *c);

/* Serve key: use(arg, answer) with the cached answer, or compute it first
 * (params: borrowed, params_size bytes, kept with a new key for refreshes).
 * Returns 0 when use was called and returned true; GTP_ERR_INTERNAL when use
 * returned false; else compute's negative code with its errstr (nothing is
 * cached then). A key longer than DCACHE_KEY_MAX - 1 is computed uncached. */
int dcache_serve(struct dcache *c, const char *key, const void *params, dcache_use_fn use,
                 void *arg, char *errstr, size_t errstr_size);

/* Drop every answer (after a taxonomy reload: they carry the old names). An
 * answer being computed meanwhile is served to its request but not kept. */
void dcache_clear(struct dcache *c);

/* Keys held now (for tests and the gauge). */
int dcache_count(struct dcache *c);

#endif
