/* gtp-dashboard's shared state: configuration, the Redis pool, the taxonomy
 * (swapped on SIGHUP), the static assets, the answer cache and the metrics.
 * main.c owns it; http.c serves from it on libmicrohttpd's worker threads. */
#ifndef DASH_H
#define DASH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/metrics.h"
#include "gtp/redis.h"
#include "gtp/taxonomy.h"
#include "api.h"
#include "cache.h"
#include "pool.h"

struct dash_cfg {
    char *redis_url, *taxonomy, *log_level;
    char *listen, *assets;
    long long threads, cache_ms, cache_keys, conn_limit, per_ip_limit, conn_timeout_s,
        redis_timeout_ms;
};

enum dash_route {
    ROUTE_PULSE,
    ROUTE_HEATMAP,
    ROUTE_STATS,
    ROUTE_SKILL,
    ROUTE_REGION,
    ROUTE_RISING,
    ROUTE_SKILLS,
    ROUTE_HEALTHZ, /* /readyz and its alias /healthz */
    ROUTE_LIVEZ,
    ROUTE_METRICS,
    ROUTE_STATIC,
    ROUTE_OTHER,
    ROUTE_COUNT
};

enum dash_code {
    CODE_200,
    CODE_400,
    CODE_404,
    CODE_405,
    CODE_502,
    CODE_503,
    CODE_OTHER,
    CODE_COUNT
};

/* One static file of the allow-list, read once at start-up. */
struct dash_asset {
    const char *path;  /* URL path */
    const char *file;  /* name inside --assets */
    const char *ctype; /* Content-Type */
    void *resp;        /* struct MHD_Response *, reused for every request */
};

/* What an API answer is computed from (the answer cache keeps a copy with
 * each key, so that its refresher can recompute it). */
struct dash_query {
    enum dash_route route;
    struct api_params q;
};

struct dash {
    struct dash_cfg cfg;
    struct gtp_redis_url url;
    struct pool *pool;

    pthread_mutex_t tx_mu;
    struct gtp_taxonomy *tx; /* one reference; swapped under tx_mu */

    struct dash_asset *assets;
    size_t nassets;

    struct dcache *cache; /* NULL with --cache-ms 0 */

    struct gtp_metrics *metrics;
    _Atomic(struct gtp_metric *) m_req[ROUTE_COUNT][CODE_COUNT];
    struct dcache_metrics m_cache;
    struct gtp_metric *m_req_seconds, *m_redis_err;
    struct gtp_metric *m_redis_up;
    struct gtp_metric *m_reloads;
    /* what the last readiness PING said (dash_ready_check); /readyz answers it */
    atomic_bool redis_ready;

    void *mhd; /* struct MHD_Daemon * */
    int port;  /* bound port */
};

/* http.c */
/* Load the allow-listed files from cfg.assets. Returns 0 or GTP_ERR_CONFIG. */
int dash_assets_load(struct dash *d, char *errstr, size_t errstr_size);
void dash_assets_free(struct dash *d);
/* Start / stop libmicrohttpd on cfg.listen. Returns 0 or an error code. */
int dash_http_start(struct dash *d, char *errstr, size_t errstr_size);
void dash_http_stop(struct dash *d);
/* PING Redis on a pooled connection and keep the answer for /readyz and the redis_up gauge.
 * The main loop calls it before serving and about once a second (docs/dashboard.md). */
void dash_ready_check(struct dash *d);
/* Start the answer cache and its refresher thread (none with cache_ms 0);
 * after the pool and the metrics, before the http daemon. Returns 0 or
 * GTP_ERR_INTERNAL. Stop: after dash_http_stop, before the pool goes (joins
 * the refresher). */
int dash_cache_start(struct dash *d, char *errstr, size_t errstr_size);
void dash_cache_stop(struct dash *d);
/* Drop every cached answer (after a taxonomy reload). */
void dash_cache_clear(struct dash *d);

/* "HOST:PORT" or "[V6]:PORT" into host and port. Returns 0 or GTP_ERR_CONFIG. */
int dash_listen_parse(const char *s, char *host, size_t host_size, int *port, char *errstr,
                      size_t errstr_size);

/* Whether a URL path is one of the allow-listed assets; returns its index or
 * -1. Exact match only: no file system path is ever built from a URL. */
long dash_asset_find(const struct dash *d, const char *url);

#endif
