/* The processor's flush to Redis and its fence (docs/redis.md): which partitions a flush
 * carries and with which expected positions, one flush in flight while consuming goes on,
 * what a reply (applied, already applied, fenced) or a lost connection does to the
 * positions, and the restart of every assigned partition from Redis when the outcome is
 * unknown or fenced. Redis and Kafka are reached only through struct flush_ops, so unit
 * tests drive every decision without either. Single-threaded (the daemon's thread). */
#ifndef GTP_PROCESSOR_FLUSH_H
#define GTP_PROCESSOR_FLUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "store.h"
#include "gtp/daemon.h"
#include "gtp/event.h"
#include "idlist.h"
#include "gtp/metrics.h"
#include "gtp/window.h"

/* One partition of the processor (a slot of the daemon's table: dp first). */
struct part {
    struct gtp_daemon_part dp; /* assigned; next: next offset to process */
    int64_t stored_next;       /* next offset as stored in redis: the flush fence */
    /* Bumped whenever next is reset or the partition goes: a message polled under an older
     * epoch is not applied (the consumer re-delivers it from the new position, or it belongs
     * to the next owner). */
    uint64_t epoch;
    struct gtp_window *win;
    struct idlist ids;   /* dedup ids counted since the last flush */
    int64_t polled_next; /* after the last message polled (applied a round later) */
};

/* The seams: Redis (through the connection main.c keeps) and the Kafka consumer. ctx is
 * flush.ctx. */
struct flush_ops {
    /* Connected now (reconnecting when the backoff allows)? */
    bool (*ensure)(void *ctx);
    /* Block until connected; false when a stop was requested first. */
    bool (*wait)(void *ctx);
    /* The connection failed (why): drop it, back off. */
    void (*lost)(void *ctx, const char *why);
    /* store_load, store_flush_send and store_flush_poll on the connection. */
    int (*load)(void *ctx, int32_t partition, int64_t *next, struct gtp_window *w, char *errstr,
                size_t errstr_size);
    int (*send)(void *ctx, const struct store_flush *f, char *errstr, size_t errstr_size);
    int (*poll)(void *ctx, int timeout_ms, enum store_result *result, int32_t *fenced_partition,
                char *errstr, size_t errstr_size);
    /* Every dead letter so far acknowledged? false: some failed (logged). */
    bool (*dlq_durable)(void *ctx);
    /* Consume partition from offset (< 0: the beginning). */
    void (*seek)(void *ctx, int32_t partition, int64_t offset);
    /* Kafka's committed offset of partition follows redis (for lag tools only). */
    void (*store_offset)(void *ctx, int32_t partition, int64_t offset);
};

struct flush {
    const struct flush_ops *ops;
    void *ctx;
    struct gtp_daemon *d; /* borrowed: the partition table and the taxonomy */
    const char *topic;    /* borrowed */
    long long flush_ms, flush_events, ttl_s;
    long long idle_ms;      /* --flush-idle-ms: how soon to flush once the consumer caught up */
    struct agg agg;         /* deltas and counters pending over all partitions */
    struct hllsent sent;    /* employer elements applied flushes gave redis (hllsent.h) */
    struct store_part *sps; /* sps[0..inflight_n) describe the flush in flight */
    bool inflight;
    size_t inflight_n;
    int64_t inflight_t0;
    bool need_reload; /* a flush's outcome is unknown or fenced: reload from redis */
    size_t pending_events;
    int64_t last_ms;      /* when the last flush was started */
    int64_t flush_avg_us; /* flush duration, smoothed */
    int64_t slow_ms;      /* 3 x flush_avg_us: the least time between flushes */
    /* Set by the caller before flush_due: the last poll reached the end of every assigned
     * partition as its last fetch saw it (a drained backlog, not just a short poll). */
    bool at_end;
    /* Set with at_end: and that poll brought no message (nothing is arriving). */
    bool quiet;
    const char *reject_names[GTP_REJECT_COUNT];
    /* set by the caller; NULL: not counted */
    struct gtp_metric *m_flushes, *m_seconds, *m_last, *m_fenced, *m_dedup;
};

/* Set up f for the partitions of d's table (their slots: flush_part_new/free). */
void flush_init(struct flush *f, struct gtp_daemon *d, const struct flush_ops *ops, void *ctx,
                const char *topic, long long flush_ms, long long flush_events, long long idle_ms,
                long long ttl_s);
void flush_fini(struct flush *f);

/* Register the flush's metrics (processor_flushes, _flush_duration_seconds, _flush_last_seconds,
 * _fenced, _dedup_entries) in m. */
void flush_metrics(struct flush *f, struct gtp_metrics *m);

/* Daemon hooks for the partition slots. */
struct gtp_daemon_part *flush_part_new(void *opaque, int32_t partition);
void flush_part_free(void *opaque, struct gtp_daemon_part *dp);

/* Load partition p's state (next, watermark, open dedup ids) from redis into pt, which
 * becomes assigned at the stored position. False when redis failed (the connection is
 * then dropped). */
bool flush_part_load(struct flush *f, int32_t p, struct part *pt);

/* Forget pt (its pending dedup ids, its window) and bump its epoch. */
void flush_part_drop(struct part *pt);

/* Partition p's slot in d's table, NULL when it has none or p is out of range; unlike
 * gtp_daemon_part, makes no slot. */
static inline struct part *flush_part_find(const struct gtp_daemon *d, int32_t p)
{
    return p >= 0 && p < GTP_DAEMON_MAX_PARTS ? (struct part *)d->parts[p] : NULL;
}

/* Whether a message of pt at offset, polled under epoch, may be applied: pt assigned with
 * its state, the epoch current, and not before pt's position (after a reload we seek back,
 * and messages fetched before the seek may still arrive: they must not count twice). */
bool flush_part_takes(const struct part *pt, int64_t offset, uint64_t epoch);

/* Whether a flush should start now: none in flight, and flush_events pending, or the
 * interval passed, or (caught_up: the last poll came back short, and at_end: it reached the
 * log's end) events pending for idle_ms. The last rule keeps latency low at light load; under
 * load polls come back full, and inside a backlog they do not reach the end, so batches stay
 * as large as --flush-ms and --flush-events make them (docs/redis.md). */
bool flush_due(const struct flush *f, int64_t now_ms, bool caught_up);

/* How long the consumer may block in its next poll without delaying a flush: cap, or less
 * when a caught-up flush falls due sooner; a few ms while a reply is awaited. */
int flush_wait_ms(const struct flush *f, int64_t now_ms, int cap);

/* Send every assigned partition with progress (next != stored_next) as one atomic flush,
 * each with its stored position as the fence, without waiting for the reply. Nothing is
 * sent while a flush is in flight or a reload is needed. The dead letters are made durable
 * first; when they failed everything pending is discarded. Returns true when sent or
 * nothing was pending; false otherwise (pending state kept unless discarded). */
bool flush_start(struct flush *f);

/* Take the reply of the flush in flight, waiting up to timeout_ms. Returns 1 done (or none
 * in flight): the partitions still assigned move their stored position; 0 still pending;
 * -1 failed or fenced (need_reload set, no position moved). */
int flush_collect(struct flush *f, int timeout_ms);

/* Wait for the flush in flight; false when it failed, was fenced or did not answer within
 * 10 s (then the connection is dropped), or a reload is pending. */
bool flush_wait(struct flush *f);

/* Flush everything pending and wait for it (rebalances, reloads, stop). */
bool flush_sync(struct flush *f);

/* One attempt to reach a settled state: flush_sync, or else, when a reload is needed and
 * redis answers, discard (so the next attempt starts from redis). True when settled. */
bool flush_settle(struct flush *f);

/* Throw away everything pending and restart every assigned partition from the state stored
 * in redis (after a fence, a lost partition, failed dead letters or a flush whose outcome is
 * unknown): pending deltas are merged over partitions, so they go together. A partition
 * whose state cannot be read (stopping, redis gone again) is dropped. */
void flush_discard(struct flush *f);

/* The redis connection was lost: a flush in flight may or may not have been applied. */
void flush_conn_lost(struct flush *f);

#endif
