/* gtp-dashboard: serves The Pulse and The Heatmap (docs/dashboard.md) on port 8501 from
 * the counts gtp-processor keeps in Redis, plus /metrics, /livez and /readyz on the
 * same port. Redis may come and go: the APIs answer 503 meanwhile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "dash.h"
#include "gtp/cfg.h"
#include "gtp/err.h"
#include "gtp/log.h"
#include "gtp/program.h"
#include "gtp/sig.h"
#include "gtp/util.h"

static const struct gtp_opt dash_opts[] = {
    {"listen", 'l', "GTP_LISTEN", GTP_OPT_STR, offsetof(struct dash_cfg, listen), "127.0.0.1:8501",
     "HOST:PORT", "address of the web page, the apis, /metrics, /livez and /readyz", 0, 0},
    GTP_OPTS_REDIS(struct dash_cfg),
    GTP_OPTS_TAXONOMY(struct dash_cfg),
    {"assets", 0, "GTP_DASHBOARD_ASSETS", GTP_OPT_STR, offsetof(struct dash_cfg, assets),
     GTP_DASHBOARD_DEFAULT, "DIR", "directory of the web assets (index.html, app.js, ...)", 0, 0},
    {"threads", 0, "GTP_DASHBOARD_THREADS", GTP_OPT_INT, offsetof(struct dash_cfg, threads), "4",
     "N", "http worker threads, and as many threads computing api answers for cold keys", 1, 64},
    {"cache-ms", 0, "GTP_DASHBOARD_CACHE_MS", GTP_OPT_INT, offsetof(struct dash_cfg, cache_ms),
     "1000", "MS", "reuse an api answer for this long, refreshed in the background (0 disables)", 0,
     60000},
    {"cache-keys", 0, "GTP_DASHBOARD_CACHE_KEYS", GTP_OPT_INT,
     offsetof(struct dash_cfg, cache_keys), "256", "N",
     "most api answers cached (route and parameters); the least recently asked goes", 1, 65536},
    {"conn-limit", 0, "GTP_DASHBOARD_CONN_LIMIT", GTP_OPT_INT,
     offsetof(struct dash_cfg, conn_limit), "1024", "N", "most open http connections", 1, 65536},
    {"per-ip-limit", 0, "GTP_DASHBOARD_PER_IP_LIMIT", GTP_OPT_INT,
     offsetof(struct dash_cfg, per_ip_limit), "128", "N", "most open connections per client ip", 1,
     65536},
    {"conn-timeout", 0, "GTP_DASHBOARD_CONN_TIMEOUT", GTP_OPT_INT,
     offsetof(struct dash_cfg, conn_timeout_s), "30", "SECONDS", "close idle connections after", 1,
     3600},
    {"redis-timeout-ms", 0, "GTP_DASHBOARD_REDIS_TIMEOUT_MS", GTP_OPT_INT,
     offsetof(struct dash_cfg, redis_timeout_ms), "1000", "MS", "redis connect and command timeout",
     10, 60000},
    GTP_OPTS_LOG(struct dash_cfg),
};

static const struct gtp_cli dash_cli = {
    "gtp-dashboard",
    "web dashboard: the pulse, the heatmap, skill and region profiles, rising and falling skills",
    dash_opts,
    GTP_ARRAY_LEN(dash_opts),
    false,
};

static void metrics_init(struct dash *d)
{
    struct gtp_metrics *m = gtp_metrics_new();
    d->metrics = m;
    static const double dur[] = {GTP_METRICS_DURATION_BUCKETS};
    d->m_req_seconds = gtp_metrics_histogram(m, "dashboard_http_request_duration_seconds",
                                             "http request latency", dur, GTP_ARRAY_LEN(dur), NULL);
    d->m_cache.hits = gtp_metrics_counter(m, "dashboard_cache_hits", "api answers reused", NULL);
    d->m_cache.misses = gtp_metrics_counter(m, "dashboard_cache_misses",
                                            "api answers computed for a request (cold keys)", NULL);
    d->m_cache.stale = gtp_metrics_counter(m, "dashboard_cache_stale",
                                           "expired answers served (redis failing or slow)", NULL);
    d->m_cache.refreshes = gtp_metrics_counter(m, "dashboard_cache_refreshes",
                                               "answers recomputed in the background", NULL);
    d->m_cache.refresh_failures = gtp_metrics_counter(
        m, "dashboard_cache_refresh_failures", "background recomputations that failed", NULL);
    d->m_cache.evictions = gtp_metrics_counter(m, "dashboard_cache_evictions",
                                               "cached keys dropped (idle, or to make room)", NULL);
    d->m_cache.keys = gtp_metrics_gauge(m, "dashboard_cache_keys", "api answers cached", NULL);
    d->m_cache.refresh_seconds =
        gtp_metrics_histogram(m, "dashboard_cache_refresh_duration_seconds",
                              "one background recomputation", dur, GTP_ARRAY_LEN(dur), NULL);
    d->m_redis_err = gtp_metrics_counter(m, "dashboard_redis_errors", "failed api queries", NULL);
    d->m_redis_up = gtp_metrics_gauge(m, "dashboard_redis_up", "1 when redis answered", NULL);
    d->m_reloads = gtp_metrics_counter(m, "dashboard_taxonomy_reloads", "sighup reloads", NULL);
    gtp_metric_set(d->m_redis_up, 1);
    gtp_metrics_standard(m);
}

static void reload_taxonomy(struct dash *d)
{
    char err[512];
    struct gtp_taxonomy *tx, *old;
    gtp_sig_reload = 0;
    tx = gtp_taxonomy_load(d->cfg.taxonomy, err, sizeof(err));
    if (!tx) {
        gtp_log(GTP_LOG_ERROR, "taxonomy", "reload failed, keeping the old one: %s", err);
        return;
    }
    pthread_mutex_lock(&d->tx_mu);
    old = d->tx;
    d->tx = tx;
    pthread_mutex_unlock(&d->tx_mu);
    gtp_taxonomy_free(old); /* requests still holding it keep their reference */
    dash_cache_clear(d);    /* cached answers carry the old display names */
    gtp_metric_inc(d->m_reloads);
    gtp_log(GTP_LOG_INFO, "taxonomy", "reloaded %s (%zu skills)", d->cfg.taxonomy,
            gtp_skills_count(tx->skills));
}

int main(int argc, char **argv)
{
    static struct dash d;
    char err[512], redacted[512];
    int rc = GTP_EXIT_OK, e;

    pthread_mutex_init(&d.tx_mu, NULL);
    if (gtp_program_init(&dash_cli, &d.cfg, NULL, argc, argv, &rc))
        goto out;
    if (gtp_redis_url_parse(d.cfg.redis_url, &d.url, err, sizeof(err))) {
        fprintf(stderr, "gtp-dashboard: --redis: %s\n", err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    {
        char host[256];
        int port;
        if (dash_listen_parse(d.cfg.listen, host, sizeof(host), &port, err, sizeof(err))) {
            fprintf(stderr, "gtp-dashboard: %s\n", err);
            rc = GTP_EXIT_CONFIG;
            goto out;
        }
    }
    metrics_init(&d);

    d.tx = gtp_taxonomy_load(d.cfg.taxonomy, err, sizeof(err));
    if (!d.tx) {
        gtp_log(GTP_LOG_ERROR, "taxonomy", "%s", err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    if ((e = dash_assets_load(&d, err, sizeof(err)))) {
        gtp_log(GTP_LOG_ERROR, "assets", "%s", err);
        rc = gtp_err_exit_code(e);
        goto out;
    }
    d.pool = pool_new(&d.url, (int)d.cfg.threads, (int)d.cfg.redis_timeout_ms);

    /* Redis is not required at start-up: the page comes up and the apis
     * answer 503 until it does. Say so once. */
    gtp_log_redact_url(d.cfg.redis_url, redacted, sizeof(redacted));
    {
        redisContext *c = pool_get(d.pool, err, sizeof(err));
        if (c)
            pool_put(d.pool, c, false);
        else
            gtp_log(GTP_LOG_WARN, "redis", "%s not reachable yet; apis answer 503 until it is",
                    redacted);
    }

    if ((e = dash_cache_start(&d, err, sizeof(err)))) {
        gtp_log(GTP_LOG_ERROR, "cache", "%s", err);
        rc = GTP_EXIT_SOFTWARE;
        goto out;
    }
    dash_ready_check(&d); /* the first /readyz has an answer */
    if ((e = dash_http_start(&d, err, sizeof(err)))) {
        gtp_log(GTP_LOG_ERROR, "http", "%s", err);
        rc = e == GTP_ERR_CONFIG ? GTP_EXIT_CONFIG : GTP_EXIT_UNAVAILABLE;
        goto out;
    }
    gtp_log(GTP_LOG_INFO, "http", "listening on %s (port %d), redis %s, assets %s, %lld threads",
            d.cfg.listen, d.port, redacted, d.cfg.assets, d.cfg.threads);

    for (unsigned turn = 1; !gtp_sig_stop; turn++) {
        gtp_metrics_beat(d.metrics);
        if (gtp_sig_reload)
            reload_taxonomy(&d);
        if (turn % 10 == 0)
            dash_ready_check(&d); /* about once a second, off the HTTP workers */
        usleep(100 * 1000);
    }
    gtp_log(GTP_LOG_INFO, "http", "stopping");

out:
    dash_http_stop(&d);
    dash_cache_stop(&d); /* joins the refresher, which borrows from the pool */
    dash_assets_free(&d);
    pool_free(d.pool);
    gtp_taxonomy_free(d.tx);
    gtp_metrics_free(d.metrics);
    gtp_redis_url_fini(&d.url);
    gtp_cfg_free(&dash_cli, &d.cfg, NULL);
    return rc;
}
