/* The processor's Redis connection (see redislink.h). */
#include "redislink.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store.h"
#include "gtp/consumer.h"
#include "gtp/err.h"
#include "gtp/log.h"
#include "gtp/sig.h"
#include "gtp/util.h"

static void rl_lost(void *ctx, const char *why)
{
    struct redislink *l = ctx;
    int64_t now = gtp_mono_ms();
    if (l->rc) {
        redisFree(l->rc);
        l->rc = NULL;
    }
    flush_conn_lost(l->fl); /* a flush cut off in flight may or may not have been applied */
    /* log once per interval while the outage lasts */
    if (now - l->last_log_ms >= 10000) {
        gtp_log(GTP_LOG_WARN, "redis", "unavailable, consumption paused: %s", why);
        l->last_log_ms = now;
    }
    l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : 100;
    if (l->backoff_ms > 5000)
        l->backoff_ms = 5000;
    l->retry_at_ms = now + l->backoff_ms;
    gtp_metric_inc(l->m_errors);
    gtp_metric_set(l->m_up, 0);
    gtp_daemon_set_healthy(l->d, false);
}

void redislink_metrics(struct redislink *l, struct gtp_metrics *m)
{
    l->m_errors = gtp_metrics_counter(m, "processor_redis_errors", "redis failures", NULL);
    l->m_up = gtp_metrics_gauge(m, "processor_redis_up", "1 when redis answers", NULL);
    l->metrics = m;
}

int redislink_start(struct redislink *l, const char *redacted_url, long long timeout_s)
{
    int64_t deadline = gtp_mono_ms() + timeout_s * 1000;
    while (!redislink_ensure(l)) {
        if (gtp_mono_ms() > deadline || gtp_sig_stop) {
            gtp_log(GTP_LOG_ERROR, "redis", "unreachable at %s", redacted_url);
            return GTP_ERR_UNAVAILABLE;
        }
        usleep(100 * 1000);
    }
    return 0;
}

/* After a reconnect: the server may be a promoted replica behind what we flushed, or
 * another owner moved a partition on; then everything is reloaded from redis and replayed
 * from its offsets (need_reload). */
static int check_positions(struct redislink *l, char *err, size_t errsz)
{
    struct store_part *sp = NULL;
    size_t n = 0;
    int32_t moved;
    int r;

    if (l->fl->need_reload)
        return 0; /* reloading anyway */
    for (int32_t p = 0; p < GTP_DAEMON_MAX_PARTS; p++) {
        const struct part *pt = flush_part_find(l->d, p);
        if (!pt || !pt->dp.assigned)
            continue;
        if (!sp)
            sp = gtp_xcalloc(GTP_DAEMON_MAX_PARTS, sizeof(*sp));
        sp[n++] = (struct store_part){.partition = p, .expected_next = pt->stored_next};
    }
    r = n ? store_positions_moved(l->rc, l->topic, sp, n, &moved, err, errsz) : 0;
    free(sp);
    if (r == 1) {
        gtp_log(GTP_LOG_WARN, "redis",
                "stored offset of partition %d is not the one we flushed (a failover to a "
                "replica that missed flushes?): reloading from redis",
                (int)moved);
        l->fl->need_reload = true;
        r = 0;
    }
    return r;
}

bool redislink_ensure(struct redislink *l)
{
    char err[256];
    if (l->rc)
        return true;
    if (gtp_mono_ms() < l->retry_at_ms)
        return false;
    l->rc = gtp_redis_connect(&l->url, 2000, err, sizeof(err));
    if (!l->rc || store_prepare(l->rc, err, sizeof(err)) || check_positions(l, err, sizeof(err))) {
        rl_lost(l, err);
        return false;
    }
    /* the server connected to: through Sentinel, the primary it named */
    if (l->last_log_ms)
        gtp_log(GTP_LOG_INFO, "redis", "connected again to %s:%d",
                l->rc->tcp.host ? l->rc->tcp.host : l->url.host, l->rc->tcp.port);
    l->backoff_ms = 0;
    l->last_log_ms = 0;
    gtp_metric_set(l->m_up, 1);
    gtp_daemon_set_healthy(l->d, true);
    return true;
}

/* Serves nothing else meanwhile: used in the rebalance callback, which cannot assign
 * without the state. */
bool redislink_wait(struct redislink *l)
{
    while (!gtp_sig_stop) {
        gtp_metrics_beat(l->metrics); /* waiting on redis is not a stall (/readyz says it) */
        if (redislink_ensure(l))
            return true;
        usleep(50 * 1000);
    }
    return false;
}

void redislink_heartbeat(struct redislink *l, int64_t now_ms)
{
    char err[256];
    redisReply *rep;

    if (!l->rc || l->fl->inflight || now_ms - l->ping_ms < 1000)
        return;
    l->ping_ms = now_ms;
    rep = redisCommand(l->rc, "PING");
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        snprintf(err, sizeof(err), "ping: %s", rep ? rep->str : l->rc->errstr);
        rl_lost(l, err);
    }
    if (rep)
        freeReplyObject(rep);
}

void redislink_fini(struct redislink *l)
{
    if (l->rc)
        redisFree(l->rc);
    l->rc = NULL;
    gtp_redis_url_fini(&l->url);
}

static bool rl_ensure(void *ctx)
{
    return redislink_ensure(ctx);
}

static bool rl_wait(void *ctx)
{
    return redislink_wait(ctx);
}

static int rl_load(void *ctx, int32_t p, int64_t *next, struct gtp_window *w, char *errstr,
                   size_t errstr_size)
{
    struct redislink *l = ctx;
    return store_load(l->rc, l->topic, p, next, w, errstr, errstr_size);
}

static int rl_send(void *ctx, const struct store_flush *f, char *errstr, size_t errstr_size)
{
    return store_flush_send(((struct redislink *)ctx)->rc, f, errstr, errstr_size);
}

static int rl_poll(void *ctx, int timeout_ms, enum store_result *res, int32_t *fenced, char *errstr,
                   size_t errstr_size)
{
    return store_flush_poll(((struct redislink *)ctx)->rc, timeout_ms, res, fenced, errstr,
                            errstr_size);
}

static bool rl_dlq_durable(void *ctx)
{
    return gtp_daemon_dlq_durable(((struct redislink *)ctx)->d, "stored");
}

static void rl_seek(void *ctx, int32_t p, int64_t offset)
{
    gtp_daemon_seek(((struct redislink *)ctx)->d, p, offset);
}

static void rl_store_offset(void *ctx, int32_t p, int64_t offset)
{
    gtp_daemon_store_offset(((struct redislink *)ctx)->d, p, offset);
}

const struct flush_ops redislink_ops = {
    rl_ensure, rl_wait,        rl_lost, rl_load,         rl_send,
    rl_poll,   rl_dlq_durable, rl_seek, rl_store_offset,
};
