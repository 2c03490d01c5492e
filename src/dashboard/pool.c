/* Redis connection pool with fail-fast back-off (see pool.h). */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "gtp/log.h"
#include "gtp/util.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define LOG_EVERY_MS   10000

struct pool {
    const struct gtp_redis_url *url;
    int timeout_ms;
    pthread_mutex_t mu;
    redisContext **idle;
    int nidle, size;
    int64_t retry_at_ms, backoff_ms, last_log_ms;
    atomic_int up;
};

struct pool *pool_new(const struct gtp_redis_url *url, int size, int timeout_ms)
{
    struct pool *p = gtp_xcalloc(1, sizeof(*p));
    p->url = url;
    p->size = size > 0 ? size : 1;
    p->timeout_ms = timeout_ms;
    p->idle = gtp_xcalloc((size_t)p->size, sizeof(*p->idle));
    pthread_mutex_init(&p->mu, NULL);
    atomic_init(&p->up, 1);
    return p;
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nidle; i++)
        redisFree(p->idle[i]);
    free(p->idle);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* Caller holds the mutex. */
static void mark_down(struct pool *p, const char *why)
{
    int64_t now = gtp_mono_ms();
    p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (p->backoff_ms > BACKOFF_MAX_MS)
        p->backoff_ms = BACKOFF_MAX_MS;
    p->retry_at_ms = now + p->backoff_ms;
    /* the idle contexts were opened before the failure: drop them too */
    for (int i = 0; i < p->nidle; i++)
        redisFree(p->idle[i]);
    p->nidle = 0;
    if (atomic_load(&p->up) || now - p->last_log_ms >= LOG_EVERY_MS) {
        gtp_log(GTP_LOG_WARN, "redis", "unavailable, answering 503: %s", why);
        p->last_log_ms = now;
    }
    atomic_store(&p->up, 0);
}

redisContext *pool_get(struct pool *p, char *errstr, size_t errstr_size)
{
    redisContext *rc = NULL;
    char err[256];

    pthread_mutex_lock(&p->mu);
    if (p->nidle > 0) {
        rc = p->idle[--p->nidle];
        pthread_mutex_unlock(&p->mu);
        return rc;
    }
    if (gtp_mono_ms() < p->retry_at_ms) {
        pthread_mutex_unlock(&p->mu);
        gtp_errf(errstr, errstr_size, "redis unavailable (retrying)");
        return NULL;
    }
    pthread_mutex_unlock(&p->mu);

    /* connect outside the lock: other threads keep using idle contexts */
    rc = gtp_redis_connect(p->url, p->timeout_ms, err, sizeof(err));

    pthread_mutex_lock(&p->mu);
    if (!rc) {
        mark_down(p, err);
        gtp_errf(errstr, errstr_size, "redis unavailable");
    } else if (!atomic_load(&p->up)) {
        /* the server connected to: through Sentinel, the primary it named */
        gtp_log(GTP_LOG_INFO, "redis", "connected again to %s:%d",
                rc->tcp.host ? rc->tcp.host : p->url->host, rc->tcp.port);
        p->backoff_ms = 0;
        atomic_store(&p->up, 1);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void pool_put(struct pool *p, redisContext *rc, bool broken)
{
    if (!rc)
        return;
    pthread_mutex_lock(&p->mu);
    if (broken || rc->err) {
        mark_down(p, rc->err ? rc->errstr : "bad reply");
        pthread_mutex_unlock(&p->mu);
        redisFree(rc);
        return;
    }
    p->backoff_ms = 0;
    atomic_store(&p->up, 1);
    if (p->nidle < p->size) {
        p->idle[p->nidle++] = rc;
        rc = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    if (rc)
        redisFree(rc);
}

bool pool_up(const struct pool *p)
{
    return atomic_load(&((struct pool *)p)->up) != 0;
}
