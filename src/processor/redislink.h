/* The processor's connection to Redis (docs/redis.md, "When Redis is down"): connect and
 * load the flush script, drop the connection on any error, reconnect with a backoff from
 * 100 ms doubling to 5 s, one log line per 10 s while the outage lasts, the redis_up gauge
 * and /healthz. After every reconnect it compares the offsets stored in Redis with what it
 * last flushed: a promoted replica may have missed acknowledged flushes (docs/redis.md,
 * "Failover"), and then the state is reloaded from Redis and replayed from its offsets. It
 * is the flush's real struct flush_ops. */
#ifndef GTP_PROCESSOR_REDISLINK_H
#define GTP_PROCESSOR_REDISLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "flush.h"
#include "gtp/daemon.h"
#include "gtp/metrics.h"
#include "gtp/redis.h"

struct redislink {
    struct gtp_redis_url url;
    redisContext *rc; /* NULL while down */
    int64_t retry_at_ms, backoff_ms, last_log_ms;
    int64_t ping_ms;      /* last heartbeat (redislink_heartbeat) */
    struct flush *fl;     /* borrowed: told when a flush in flight is cut off */
    struct gtp_daemon *d; /* borrowed: the consumer (seeks, offsets), dead letters, health */
    const char *topic;    /* borrowed */
    struct gtp_metric *m_errors, *m_up;
    struct gtp_metrics *metrics; /* borrowed: its heartbeat, while waiting */
};

/* The flush's seams on l (ctx is l). */
extern const struct flush_ops redislink_ops;

/* Register processor_redis_errors and processor_redis_up in m. */
void redislink_metrics(struct redislink *l, struct gtp_metrics *m);

/* Start-up: connect within timeout_s (retrying every 100 ms) unless a stop is requested.
 * Returns 0, or GTP_ERR_UNAVAILABLE after logging "unreachable at <redacted url>". */
int redislink_start(struct redislink *l, const char *redacted_url, long long timeout_s);

/* Connected now (or reconnected, when the backoff allows)? */
bool redislink_ensure(struct redislink *l);
/* Block until connected; false when a stop was requested first. */
bool redislink_wait(struct redislink *l);
/* Once a second, when no flush is in flight: PING. An idle processor sends no flush, so
 * without it a primary that died (a Sentinel failover, docs/redis.md#failover) would go
 * unnoticed, and the reconnect that checks the new primary's offsets would wait for the
 * next event. */
void redislink_heartbeat(struct redislink *l, int64_t now_ms);
/* Close the connection and free the url. */
void redislink_fini(struct redislink *l);

#endif
