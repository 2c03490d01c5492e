/* gtp-processor: consumes raw events, validates and enriches them, keeps
 * 1-hour event-time windows per Kafka partition (docs/windows.md) and flushes count
 * deltas, offsets, watermarks and dedup state to Redis atomically (docs/redis.md).
 * Rejected events go to the dead-letter topic (docs/kafka.md). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "agg.h"
#include "batch.h"
#include "store.h"
#include "gtp/cfg.h"
#include "gtp/consumer.h"
#include "gtp/err.h"
#include "gtp/event.h"
#include "gtp/kafka.h"
#include "gtp/log.h"
#include "gtp/metrics.h"
#include "gtp/redis.h"
#include "gtp/sig.h"
#include "gtp/taxonomy.h"
#include "gtp/util.h"
#include "gtp/window.h"

struct proc_cfg {
    char *brokers, *topic, *dlq_topic, *redis_url, *taxonomy, *log_level;
    long long metrics_port;
    char *group;
    long long flush_ms, flush_events, retention_s, startup_timeout_s, enrich_threads;
};

static const struct gtp_opt proc_opts[] = {
    GTP_OPTS_KAFKA(struct proc_cfg),
    GTP_OPTS_REDIS(struct proc_cfg),
    GTP_OPTS_TAXONOMY(struct proc_cfg),
    {"group", 'g', "GTP_GROUP", GTP_OPT_STR, offsetof(struct proc_cfg, group), "gtp-processor",
     "ID", "kafka consumer group", 0, 0},
    {"flush-ms", 0, "GTP_FLUSH_MS", GTP_OPT_INT, offsetof(struct proc_cfg, flush_ms), "250", "MS",
     "flush pending counts to redis at least this often", 1, 600000},
    {"flush-events", 0, "GTP_FLUSH_EVENTS", GTP_OPT_INT, offsetof(struct proc_cfg, flush_events),
     "50000", "N", "flush after this many events even before --flush-ms", 1, 10000000},
    {"retention", 0, "GTP_RETENTION", GTP_OPT_INT, offsetof(struct proc_cfg, retention_s), "691200",
     "SECONDS", "ttl of every window key (default 8 days)", 60, 315360000},
    {"enrich-threads", 0, "GTP_ENRICH_THREADS", GTP_OPT_INT,
     offsetof(struct proc_cfg, enrich_threads), "2", "N",
     "threads that validate and enrich polled messages beside the consuming one (0: none)", 0,
     BATCH_MAX_THREADS},
    {"startup-timeout", 0, "GTP_STARTUP_TIMEOUT", GTP_OPT_INT,
     offsetof(struct proc_cfg, startup_timeout_s), "30", "SECONDS",
     "give up (exit 69) when kafka or redis is unreachable this long at start-up", 1, 3600},
    GTP_OPTS_LOG(struct proc_cfg),
    GTP_OPTS_METRICS(struct proc_cfg, "9102"),
};

static const struct gtp_cli proc_cli = {
    "gtp-processor",
    "consume job postings, count skill mentions in 1-hour event-time windows, write redis",
    proc_opts,
    GTP_ARRAY_LEN(proc_opts),
    true,
};

/* One assigned partition. */
struct part {
    bool assigned;
    int64_t stored_next; /* next offset as stored in redis: the flush fence */
    int64_t next;        /* next offset to process */
    /* Bumped whenever next is reset or the partition goes: a message polled
     * under an older epoch is not applied (the consumer re-delivers it from
     * the new position, or it belongs to the next owner). */
    uint64_t epoch;
    struct gtp_window *win;
    struct gtp_idlist ids; /* dedup ids counted since the last flush */
};

#define MAX_PARTS 4096

struct proc {
    struct proc_cfg cfg;
    struct gtp_kvlist kprops;
    rd_kafka_t *rk;
    struct gtp_refill *refill; /* keeps the fetch queue filled while catching up */
    struct gtp_producer *dlq;
    struct gtp_redis_url url;
    redisContext *rc;
    int64_t redis_retry_at_ms, redis_backoff_ms, redis_last_log_ms;
    int64_t redis_ping_ms; /* last heartbeat (redis_heartbeat) */
    bool paused;
    uint64_t dlq_failed_seen;
    struct gtp_taxonomy *tx;
    struct part *parts[MAX_PARTS];
    struct batch_pool *pool;
    struct batch batches[2]; /* one polled and applied, one being enriched */
    struct agg agg;          /* deltas and counters pending over all partitions */
    struct store_part *flush_parts;
    int64_t last_flush_ms;
    int64_t flush_interval_ms; /* --flush-ms, stretched while flushes are slow */
    /* One flush may be in flight (pipelined: consuming goes on meanwhile);
     * flush_parts[0..inflight_n) describe it until its reply. */
    bool inflight;
    size_t inflight_n;
    int64_t inflight_t0;
    bool need_reload; /* a flush's outcome is unknown or fenced: reload from redis */
    size_t pending_events;
    const char *reject_names[GTP_REJECT_COUNT];

    struct gtp_metrics *metrics;
    struct gtp_metrics_server *msrv;
    struct gtp_metric *m_events, *m_valid, *m_counted, *m_late, *m_dup, *m_rejected;
    struct gtp_metric *m_rejected_by[GTP_REJECT_COUNT];
    struct gtp_metric *m_flushes, *m_flush_seconds, *m_flush_last, *m_fenced, *m_redis_errors;
    struct gtp_metric *m_event_lag;
    int64_t batch_wall_us; /* wall clock, read once per applied batch (event lag) */
    struct gtp_metric *m_redis_up, *m_lag, *m_dedup, *m_dlq_failed;
    volatile int healthy_redis;
};

static struct part *part_get(struct proc *pr, int32_t p)
{
    if (p < 0 || p >= MAX_PARTS)
        return NULL;
    if (!pr->parts[p])
        pr->parts[p] = gtp_xcalloc(1, sizeof(struct part));
    return pr->parts[p];
}

static void part_drop(struct part *pt)
{
    gtp_window_free(pt->win);
    pt->win = NULL;
    gtp_idlist_reset(&pt->ids);
    pt->assigned = false;
    pt->epoch++;
}

/* ---- redis connection -------------------------------------------------------- */

static void redis_lost(struct proc *pr, const char *why)
{
    int64_t now = gtp_mono_ms();
    if (pr->rc) {
        redisFree(pr->rc);
        pr->rc = NULL;
    }
    /* a flush cut off in flight may or may not have been applied */
    if (pr->inflight) {
        pr->inflight = false;
        pr->need_reload = true;
    }
    /* log once per interval while the outage lasts */
    if (now - pr->redis_last_log_ms >= 10000) {
        gtp_log(GTP_LOG_WARN, "redis", "unavailable, consumption paused: %s", why);
        pr->redis_last_log_ms = now;
    }
    pr->redis_backoff_ms = pr->redis_backoff_ms ? pr->redis_backoff_ms * 2 : 100;
    if (pr->redis_backoff_ms > 5000)
        pr->redis_backoff_ms = 5000;
    pr->redis_retry_at_ms = now + pr->redis_backoff_ms;
    gtp_metric_inc(pr->m_redis_errors);
    gtp_metric_set(pr->m_redis_up, 0);
    pr->healthy_redis = 0;
}

/* After a reconnect: the server may be a promoted replica behind what we
 * flushed (docs/redis.md#failover), or another owner moved a partition on.
 * Then everything is reloaded from redis and replayed from its offsets. */
static int redis_check_positions(struct proc *pr, char *err, size_t err_size)
{
    struct store_part *sp = NULL;
    size_t n = 0;
    int32_t moved;
    int r;

    if (pr->need_reload)
        return 0; /* reloading anyway */
    for (int p = 0; p < MAX_PARTS; p++) {
        struct part *pt = pr->parts[p];
        if (!pt || !pt->assigned)
            continue;
        if (!sp)
            sp = gtp_xcalloc(MAX_PARTS, sizeof(*sp));
        sp[n++] = (struct store_part){.partition = p, .expected_next = pt->stored_next};
    }
    r = n ? store_positions_moved(pr->rc, pr->cfg.topic, sp, n, &moved, err, err_size) : 0;
    free(sp);
    if (r == 1) {
        gtp_log(GTP_LOG_WARN, "redis",
                "stored offset of partition %d is not the one we flushed (a failover to a"
                " replica that missed flushes?): reloading from redis",
                (int)moved);
        pr->need_reload = true;
        r = 0;
    }
    return r;
}

/* Returns true when connected (now or already). */
static bool redis_ensure(struct proc *pr)
{
    char err[256];
    if (pr->rc)
        return true;
    if (gtp_mono_ms() < pr->redis_retry_at_ms)
        return false;
    pr->rc = gtp_redis_connect(&pr->url, 2000, err, sizeof(err));
    if (!pr->rc || store_prepare(pr->rc, err, sizeof(err)) ||
        redis_check_positions(pr, err, sizeof(err))) {
        redis_lost(pr, err);
        return false;
    }
    if (pr->redis_last_log_ms)
        gtp_log(GTP_LOG_INFO, "redis", "connected again to %s:%d",
                pr->rc->tcp.host ? pr->rc->tcp.host : pr->url.host, pr->rc->tcp.port);
    pr->redis_backoff_ms = 0;
    pr->redis_last_log_ms = 0;
    gtp_metric_set(pr->m_redis_up, 1);
    pr->healthy_redis = 1;
    return true;
}

/* Once a second, when no flush is in flight: PING. An idle processor sends no
 * flush, so without it a primary that died (a Sentinel failover) would go
 * unnoticed, and the reconnect that checks the new primary's offsets
 * (redis_check_positions) would wait for the next event. */
static void redis_heartbeat(struct proc *pr, int64_t now)
{
    char err[256];
    redisReply *rep;

    if (!pr->rc || pr->inflight || now - pr->redis_ping_ms < 1000)
        return;
    pr->redis_ping_ms = now;
    rep = redisCommand(pr->rc, "PING");
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        snprintf(err, sizeof(err), "ping: %s", rep ? rep->str : pr->rc->errstr);
        redis_lost(pr, err);
    }
    if (rep)
        freeReplyObject(rep);
}

/* Block (serving nothing else) until redis answers or we are told to stop.
 * Used in the rebalance callback, which cannot assign without the state. */
static bool redis_wait(struct proc *pr)
{
    while (!gtp_sig_stop) {
        gtp_metrics_beat(pr->metrics); /* waiting on redis is not a stall (/readyz says it) */
        if (redis_ensure(pr))
            return true;
        usleep(50 * 1000);
    }
    return false;
}

/* ---- partition state ----------------------------------------------------------- */

/* Load a partition's state from redis into pt; false when redis failed. */
static bool part_load(struct proc *pr, int32_t p, struct part *pt)
{
    char err[256];
    int64_t next;
    struct gtp_window *w = gtp_window_new();
    if (store_load(pr->rc, pr->cfg.topic, p, &next, w, err, sizeof(err))) {
        gtp_window_free(w);
        redis_lost(pr, err);
        return false;
    }
    gtp_window_free(pt->win);
    pt->win = w;
    gtp_idlist_reset(&pt->ids);
    pt->stored_next = next;
    pt->next = next;
    pt->assigned = true;
    pt->epoch++;
    return true;
}

/* ---- flush ------------------------------------------------------------------------ */

static bool flush_wait(struct proc *pr);

/* Throw away everything pending and restart every assigned partition from
 * the state stored in redis (after a fence, a lost partition, failed dead
 * letters or a flush whose outcome is unknown): pending deltas are merged
 * over partitions, so they go together. */
static void discard_pending(struct proc *pr)
{
    flush_wait(pr); /* whatever it did is in redis, which we read next */
    pr->need_reload = false;
    agg_reset(&pr->agg);
    pr->pending_events = 0;
    for (int p = 0; p < MAX_PARTS; p++) {
        struct part *pt = pr->parts[p];
        if (!pt || !pt->assigned)
            continue;
        if (!redis_wait(pr) || !part_load(pr, p, pt)) {
            /* stopping, or redis went away again: the next owner or our
             * next assignment reloads it */
            part_drop(pt);
            continue;
        }
        gtp_consumer_seek(pr->rk, pr->cfg.topic, p, pt->next);
    }
}

/* Take the reply of the flush in flight, waiting up to timeout_ms.
 * Returns 1 done (or none in flight), 0 still pending, -1 failed/fenced
 * (need_reload is set). */
static int flush_collect(struct proc *pr, int timeout_ms)
{
    char err[256];
    enum store_result res;
    int32_t fenced = -1;
    int64_t dt;
    int r;

    if (!pr->inflight)
        return 1;
    r = store_flush_poll(pr->rc, timeout_ms, &res, &fenced, err, sizeof(err));
    if (r == 0)
        return 0;
    if (r < 0) {
        redis_lost(pr, err); /* sets need_reload */
        return -1;
    }
    pr->inflight = false;
    dt = gtp_mono_us() - pr->inflight_t0;
    gtp_metric_inc(pr->m_flushes);
    gtp_metric_observe(pr->m_flush_seconds, (double)dt / 1e6);
    gtp_metric_set(pr->m_flush_last, (double)dt / 1e6);
    /* A flush costs per distinct key, not per event: when redis is slow
     * (a backlog, a busy machine), flush less often so redis spends at most
     * about a quarter of the time on us; at normal rates this stays at
     * --flush-ms. */
    pr->flush_interval_ms = dt / 1000 * 3;
    if (pr->flush_interval_ms < pr->cfg.flush_ms)
        pr->flush_interval_ms = pr->cfg.flush_ms;
    if (pr->flush_interval_ms > 5000)
        pr->flush_interval_ms = 5000;
    if (res == STORE_FENCED) {
        /* Someone else advanced a partition (a rebalance we have not seen
         * yet, or a zombie): nothing was written; start over from redis. */
        gtp_log(GTP_LOG_WARN, "store", "flush fenced on partition %d; reloading", (int)fenced);
        gtp_metric_inc(pr->m_fenced);
        pr->need_reload = true;
        return -1;
    }
    for (size_t k = 0; k < pr->inflight_n; k++) {
        const struct store_part *sp = &pr->flush_parts[k];
        struct part *pt = pr->parts[sp->partition];
        if (!pt || !pt->assigned)
            continue;
        pt->stored_next = sp->new_next;
        gtp_metric_set(pr->m_dedup, (double)gtp_window_dedup_size(pt->win));
        /* Kafka's committed offsets follow redis (for lag tools); recovery
         * reads redis, not these. */
        gtp_consumer_store_offset(pr->rk, pr->cfg.topic, sp->partition, sp->new_next);
    }
    return 1;
}

/* Wait for the flush in flight; false when it failed or did not answer
 * within 10 s (then the connection is dropped and need_reload set). */
static bool flush_wait(struct proc *pr)
{
    int r;
    if (!pr->inflight)
        return !pr->need_reload;
    r = flush_collect(pr, 10000);
    if (r == 0)
        redis_lost(pr, "no reply to a flush within 10 s");
    return r == 1;
}

/* Send every partition with progress as one atomic flush, without waiting
 * for the reply. Returns false when redis failed (pending state kept for
 * the retry: nothing was executed). */
static bool flush_start(struct proc *pr)
{
    char err[256];
    struct store_flush f;
    size_t n = 0;

    pr->last_flush_ms = gtp_mono_ms();
    if (pr->inflight || pr->need_reload)
        return false;
    for (int p = 0; p < MAX_PARTS; p++) {
        struct part *pt = pr->parts[p];
        int64_t wm;
        if (!pt || !pt->assigned || pt->next == pt->stored_next)
            continue;
        wm = gtp_window_watermark(pt->win);
        pr->flush_parts[n] = (struct store_part){
            .partition = p,
            .expected_next = pt->stored_next,
            .new_next = pt->next,
            .max_event_us = gtp_window_max_event(pt->win),
            .purge_before_us = wm == GTP_WATERMARK_NONE ? INT64_MIN : gtp_window_start(wm),
            .ids = &pt->ids,
        };
        n++;
    }
    if (n == 0)
        return true;
    if (!redis_ensure(pr))
        return false;
    /* Dead letters of the pending batch must be durable before the offsets
     * that skip them are, or a crash right after the flush loses them. */
    if (gtp_dlq_durable(pr->dlq, &pr->dlq_failed_seen, err, sizeof(err))) {
        gtp_log(GTP_LOG_ERROR, "dlq", "%s; re-consuming from the stored offsets", err);
        gtp_metric_inc(pr->m_dlq_failed);
        discard_pending(pr);
        return false;
    }
    memset(&f, 0, sizeof(f));
    f.topic = pr->cfg.topic;
    f.parts = pr->flush_parts;
    f.nparts = n;
    f.ttl_s = pr->cfg.retention_s;
    f.agg = &pr->agg;
    f.skills = pr->tx->skills;
    f.reject_names = pr->reject_names;
    f.nreject_names = GTP_REJECT_COUNT;
    pr->inflight_t0 = gtp_mono_us();
    if (store_flush_send(pr->rc, &f, err, sizeof(err))) {
        redis_lost(pr, err);
        return false;
    }
    /* the command is in redis's hands: what follows is the next batch */
    pr->inflight = true;
    pr->inflight_n = n;
    for (size_t k = 0; k < n; k++) {
        pr->flush_parts[k].ids = NULL;
        gtp_idlist_reset(&pr->parts[pr->flush_parts[k].partition]->ids);
    }
    agg_reset(&pr->agg);
    pr->pending_events = 0;
    return true;
}

/* Flush everything pending and wait for it (rebalances, reloads, stop). */
static bool flush_sync(struct proc *pr)
{
    if (!flush_wait(pr))
        return false;
    if (!flush_start(pr))
        return false;
    return flush_wait(pr);
}

/* ---- consuming -------------------------------------------------------------------- */

/* Apply item i of an enriched batch: dead letter, or window verdict and
 * counts. Items come in poll order, so each partition's in offset order. */
static void apply_item(struct proc *pr, const struct batch *b, size_t i)
{
    const struct batch_item *it = &b->items[i];
    const rd_kafka_message_t *rkm = it->rkm;
    struct part *pt = part_get(pr, rkm->partition);
    int64_t ws, lag_us;
    enum gtp_reject r = it->reject;
    struct agg *a;

    if (!pt || !pt->assigned || !pt->win || it->epoch != pt->epoch)
        return;
    /* After a fenced reload we seek back; anything fetched before the seek
     * may still arrive and must not count twice. */
    if (pt->next != STORE_NO_OFFSET && rkm->offset < pt->next)
        return;
    a = &pr->agg;
    a->stats[AGG_EVENTS]++;
    gtp_metric_inc(pr->m_events);
    if (r != GTP_REJECT_NONE) {
        a->stats[AGG_REJECTED]++;
        a->rejected_by_reason[r]++;
        gtp_metric_inc(pr->m_rejected);
        gtp_metric_inc(pr->m_rejected_by[r]);
        char err[256];
        if (gtp_dlq_send(pr->dlq, pr->cfg.dlq_topic, rkm, gtp_reject_name(r), batch_text(b, i), err,
                         sizeof(err)))
            return; /* stopping or broken: leave the offset for the next owner */
    } else {
        a->stats[AGG_VALID]++;
        gtp_metric_inc(pr->m_valid);
        lag_us = pr->batch_wall_us - it->posted_us; /* event time to processed */
        gtp_metric_observe(pr->m_event_lag, lag_us > 0 ? (double)lag_us / 1e6 : 0);
        ws = gtp_window_start(it->posted_us);
        switch (gtp_window_classify(pt->win, batch_text(b, i), it->text_len, it->posted_us)) {
        case GTP_VERDICT_LATE:
            a->stats[AGG_LATE]++;
            gtp_metric_inc(pr->m_late);
            break;
        case GTP_VERDICT_DUPLICATE:
            a->stats[AGG_DUPLICATES]++;
            gtp_metric_inc(pr->m_dup);
            break;
        case GTP_VERDICT_COUNT: {
            size_t n = gtp_skills_count(pr->tx->skills);
            a->stats[AGG_COUNTED]++;
            gtp_metric_inc(pr->m_counted);
            gtp_idlist_add(&pt->ids, ws, batch_text(b, i), it->text_len);
            for (size_t w = 0; w < (n + 63) / 64; w++) {
                uint64_t bits = it->skills.bits[w];
                while (bits) {
                    int bit = __builtin_ctzll(bits);
                    bits &= bits - 1;
                    agg_add(a, (uint16_t)(w * 64 + (size_t)bit), it->region, ws, 1);
                    a->stats[AGG_MENTIONS]++;
                }
            }
            break;
        }
        }
    }
    pt->next = rkm->offset + 1;
    pr->pending_events++;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct proc *pr = opaque;
    rd_kafka_error_t *e = NULL;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        /* the connection must be idle before plain commands reuse it; a
         * failure here leaves need_reload for the main loop */
        flush_wait(pr);
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &parts->elems[i];
            struct part *pt = part_get(pr, tp->partition);
            if (!pt)
                continue;
            /* Resume from the position stored with the counts, not from
             * Kafka's committed offset. */
            while (!gtp_sig_stop && !(redis_wait(pr) && part_load(pr, tp->partition, pt)))
                ;
            tp->offset = pt->next == STORE_NO_OFFSET ? RD_KAFKA_OFFSET_BEGINNING : pt->next;
            gtp_log(GTP_LOG_INFO, "consumer", "assigned %s[%d] from offset %" PRId64, tp->topic,
                    (int)tp->partition, pt->next);
        }
        e = gtp_consumer_assign(rk, parts);
        if (pr->paused)
            rd_kafka_pause_partitions(rk, parts);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        bool lost = rd_kafka_assignment_lost(rk);
        /* Pending deltas mix all partitions: flush everything before giving
         * some away; when that is impossible (lost, redis down) discard it all
         * and let the remaining partitions restart from redis. */
        bool flushed = !lost && redis_ensure(pr) && flush_sync(pr);
        for (int i = 0; i < parts->cnt; i++) {
            struct part *pt = part_get(pr, parts->elems[i].partition);
            if (pt)
                part_drop(pt);
            gtp_log(GTP_LOG_INFO, "consumer", "%s %s[%d]", lost ? "lost" : "revoked",
                    parts->elems[i].topic, (int)parts->elems[i].partition);
        }
        if (!flushed)
            discard_pending(pr);
        e = gtp_consumer_unassign(rk, parts);
    } else {
        gtp_log(GTP_LOG_ERROR, "consumer", "rebalance error: %s", rd_kafka_err2str(err));
        return;
    }
    if (e) {
        gtp_log(GTP_LOG_ERROR, "consumer", "rebalance: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static void set_paused(struct proc *pr, bool pause)
{
    if (pr->paused == pause)
        return;
    gtp_consumer_pause_all(pr->rk, pause);
    pr->paused = pause;
}

static void update_lag(struct proc *pr)
{
    double lag = 0;
    for (int p = 0; p < MAX_PARTS; p++) {
        struct part *pt = pr->parts[p];
        int64_t lo, hi;
        if (!pt || !pt->assigned)
            continue;
        if (rd_kafka_get_watermark_offsets(pr->rk, pr->cfg.topic, p, &lo, &hi) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            hi >= 0)
            lag += (double)(hi - (pt->next < 0 ? lo : pt->next));
    }
    gtp_metric_set(pr->m_lag, lag);
}

static void reload_taxonomy(struct proc *pr)
{
    char err[512];
    struct gtp_taxonomy *tx;
    gtp_sig_reload = 0;
    tx = gtp_taxonomy_load(pr->cfg.taxonomy, err, sizeof(err));
    if (!tx) {
        gtp_log(GTP_LOG_ERROR, "taxonomy", "reload failed, keeping the old one: %s", err);
        return;
    }
    /* Pending deltas hold skill indexes of the old taxonomy: flush them under
     * it before switching. */
    while (!flush_sync(pr) && !gtp_sig_stop) {
        if (pr->need_reload && redis_ensure(pr))
            discard_pending(pr);
        usleep(100 * 1000);
    }
    gtp_taxonomy_free(pr->tx);
    pr->tx = tx;
    gtp_log(GTP_LOG_INFO, "taxonomy", "reloaded %s (%zu skills)", pr->cfg.taxonomy,
            gtp_skills_count(tx->skills));
}

/* ---- set-up ---------------------------------------------------------------------- */

static bool health(void *opaque, char *detail, size_t detail_size)
{
    struct proc *pr = opaque;
    if (!pr->healthy_redis) {
        snprintf(detail, detail_size, "redis unavailable");
        return false;
    }
    return true;
}

static void metrics_init(struct proc *pr)
{
    struct gtp_metrics *m = gtp_metrics_new();
    const char *o[] = {"outcome", NULL, NULL};
    pr->metrics = m;
#define OUTCOME(var, name)                                                                         \
    o[1] = name;                                                                                   \
    var = gtp_metrics_counter(m, "processor_events", "kafka messages by outcome", o)
    pr->m_events = gtp_metrics_counter(m, "processor_messages", "kafka messages consumed", NULL);
    OUTCOME(pr->m_valid, "valid");
    OUTCOME(pr->m_counted, "counted");
    OUTCOME(pr->m_rejected, "rejected");
#undef OUTCOME
    /* names fixed by docs/windows.md */
    pr->m_late = gtp_metrics_counter(m, "late_events", "valid events behind the watermark", NULL);
    pr->m_dup =
        gtp_metrics_counter(m, "duplicate_events", "re-sent events not counted again", NULL);
    for (int r = 1; r < GTP_REJECT_COUNT; r++) {
        const char *l[] = {"reason", gtp_reject_name((enum gtp_reject)r), NULL};
        pr->m_rejected_by[r] =
            gtp_metrics_counter(m, "rejected_events", "events sent to the dlq by reason", l);
    }
    pr->m_flushes = gtp_metrics_counter(m, "processor_flushes", "redis flushes", NULL);
    static const double dur[] = {GTP_METRICS_DURATION_BUCKETS}, lag[] = {GTP_METRICS_LAG_BUCKETS};
    pr->m_flush_seconds =
        gtp_metrics_histogram(m, "processor_flush_duration_seconds", "redis flush latency", dur,
                              GTP_ARRAY_LEN(dur), NULL);
    pr->m_flush_last =
        gtp_metrics_gauge(m, "processor_flush_last_seconds", "duration of the last flush", NULL);
    pr->m_event_lag = gtp_metrics_histogram(m, "processor_event_lag_seconds",
                                            "event time to processed, valid events", lag,
                                            GTP_ARRAY_LEN(lag), NULL);
    pr->m_fenced = gtp_metrics_counter(m, "processor_fenced", "flushes refused by the fence", NULL);
    pr->m_redis_errors = gtp_metrics_counter(m, "processor_redis_errors", "redis failures", NULL);
    pr->m_redis_up = gtp_metrics_gauge(m, "processor_redis_up", "1 when redis answers", NULL);
    pr->m_lag = gtp_metrics_gauge(m, "processor_consumer_lag", "messages behind the log end", NULL);
    pr->m_dedup = gtp_metrics_gauge(m, "processor_dedup_entries", "open dedup entries", NULL);
    pr->m_dlq_failed =
        gtp_metrics_counter(m, "processor_dlq_failures", "dlq delivery failures", NULL);
}

/* Poll up to BATCH_MAX messages into b: the first poll waits up to
 * timeout_ms, the rest take only what is already queued. Errors are handled
 * here; returns an exit code for a fatal one, else 0. */
static int collect(struct proc *pr, struct batch *b, int timeout_ms, int64_t *now)
{
    int got = 0;
    while (b->n < BATCH_MAX) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(pr->rk, got ? 0 : timeout_ms);
        if (!rkm)
            break;
        got = 1;
        if (rkm->err) {
            bool fatal = gtp_consumer_failed(pr->rk, rkm);
            rd_kafka_message_destroy(rkm);
            if (fatal)
                return GTP_EXIT_SOFTWARE;
            continue;
        }
        /* the epoch after the poll: a rebalance callback inside it has run */
        struct part *pt = part_get(pr, rkm->partition);
        batch_add(b, rkm, pt ? pt->epoch : 0);
    }
    *now = gtp_mono_ms(); /* one clock read per batch: it showed in the profile */
    gtp_refill_check(pr->refill, got, *now);
    return 0;
}

static void apply_batch(struct proc *pr, struct batch *b)
{
    pr->batch_wall_us = gtp_wall_us(); /* one clock read per batch, as in collect() */
    for (size_t i = 0; i < b->n; i++)
        apply_item(pr, b, i);
    batch_clear(b);
}

/* Finish the batch being enriched and apply it (before a taxonomy switch and
 * at the end). */
static void drain(struct proc *pr, struct batch **work)
{
    if (!*work)
        return;
    batch_pool_wait(pr->pool);
    apply_batch(pr, *work);
    *work = NULL;
}

static int run(struct proc *pr)
{
    /* work: the batch being enriched (NULL when none); fill: the other one */
    struct batch *fill = &pr->batches[0], *work = NULL;
    int64_t last_lag_ms = 0, now;
    char err[512];
    int rc;

    while (!gtp_sig_stop) {
        gtp_metrics_beat(pr->metrics);
        if (gtp_sig_reload) {
            drain(pr, &work);
            reload_taxonomy(pr);
        }
        /* Redis down: stop intake (pause) but keep polling so the group
         * membership and rebalances stay alive. */
        if (pr->inflight)
            flush_collect(pr, 0);
        if (pr->need_reload && redis_ensure(pr))
            discard_pending(pr);
        if (!pr->rc && !redis_ensure(pr))
            set_paused(pr, true);
        if (pr->paused && pr->rc && flush_sync(pr))
            set_paused(pr, false);

        /* poll batch k+1 while the helpers enrich batch k, then apply k
         * while they enrich k+1 */
        rc = collect(pr, fill, work ? 0 : 50, &now);
        if (rc)
            return rc; /* main() frees both batches */
        if (work)
            batch_pool_wait(pr->pool);
        if (fill->n) {
            struct batch *done = work;
            batch_pool_start(pr->pool, fill, pr->tx);
            work = fill;
            fill = done ? done : &pr->batches[work == &pr->batches[0] ? 1 : 0];
            if (done)
                apply_batch(pr, done);
        } else if (work) {
            apply_batch(pr, work);
            work = NULL;
        }
        gtp_producer_poll(pr->dlq, 0);
        if (gtp_producer_fatal(pr->dlq, err, sizeof(err))) {
            gtp_log(GTP_LOG_ERROR, "dlq", "fatal producer error: %s", err);
            return GTP_EXIT_SOFTWARE;
        }
        if (!pr->inflight && (pr->pending_events >= (size_t)pr->cfg.flush_events ||
                              now - pr->last_flush_ms >= pr->flush_interval_ms)) {
            if (!flush_start(pr) && !pr->rc)
                set_paused(pr, true);
        }
        redis_heartbeat(pr, now);
        if (now - last_lag_ms >= 1000) {
            update_lag(pr);
            last_lag_ms = now;
        }
    }
    /* a clean stop applies what was polled; the flush after run() stores it */
    drain(pr, &work);
    return GTP_EXIT_OK;
}

int main(int argc, char **argv)
{
    static struct proc pr; /* large: keep it off the stack */
    char err[512], redacted[512];
    int rc = GTP_EXIT_OK, e;
    rd_kafka_resp_err_t kerr;
    rd_kafka_topic_partition_list_t *sub = NULL;
    int64_t deadline;

    gtp_log_init("gtp-processor");
    e = gtp_cfg_parse(&proc_cli, &pr.cfg, &pr.kprops, argc, argv, err, sizeof(err));
    if (e == GTP_CFG_EXIT)
        goto out;
    if (e) {
        fprintf(stderr, "gtp-processor: %s\n", err);
        rc = gtp_err_exit_code(e);
        goto out;
    }
    if (gtp_log_set_level(pr.cfg.log_level)) {
        fprintf(stderr, "gtp-processor: --log-level: unknown level '%s'\n", pr.cfg.log_level);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    if (gtp_redis_url_parse(pr.cfg.redis_url, &pr.url, err, sizeof(err))) {
        fprintf(stderr, "gtp-processor: --redis: %s\n", err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    gtp_sig_install();
    for (int r = 0; r < GTP_REJECT_COUNT; r++)
        pr.reject_names[r] = gtp_reject_name((enum gtp_reject)r);
    agg_init(&pr.agg);
    pr.flush_parts = gtp_xcalloc(MAX_PARTS, sizeof(*pr.flush_parts));
    metrics_init(&pr);

    pr.tx = gtp_taxonomy_load(pr.cfg.taxonomy, err, sizeof(err));
    if (!pr.tx) {
        gtp_log(GTP_LOG_ERROR, "taxonomy", "%s", err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    pr.pool = batch_pool_new((int)pr.cfg.enrich_threads, err, sizeof(err));
    if (!pr.pool) {
        gtp_log(GTP_LOG_ERROR, "main", "%s", err);
        rc = GTP_EXIT_SOFTWARE;
        goto out;
    }
    pr.dlq = gtp_producer_new(pr.cfg.brokers, &pr.kprops, err, sizeof(err));
    if (!pr.dlq) {
        gtp_log(GTP_LOG_ERROR, "dlq", "%s", err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    pr.rk = gtp_consumer_new(pr.cfg.brokers, pr.cfg.group, &pr.kprops, rebalance_cb, &pr, err,
                             sizeof(err));
    if (!pr.rk) {
        gtp_log(GTP_LOG_ERROR, "kafka", "%s", err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    pr.refill = gtp_refill_start(pr.rk, GTP_REFILL_LOW, GTP_REFILL_INTERVAL_MS, err, sizeof(err));
    if (!pr.refill) {
        gtp_log(GTP_LOG_ERROR, "kafka", "%s", err);
        rc = GTP_EXIT_SOFTWARE;
        goto out;
    }

    /* Start-up: both services must answer within the timeout (exit 69). */
    gtp_log_redact_url(pr.cfg.redis_url, redacted, sizeof(redacted));
    deadline = gtp_mono_ms() + pr.cfg.startup_timeout_s * 1000;
    while (!redis_ensure(&pr)) {
        if (gtp_mono_ms() > deadline || gtp_sig_stop) {
            gtp_log(GTP_LOG_ERROR, "redis", "unreachable at %s", redacted);
            rc = GTP_EXIT_UNAVAILABLE;
            goto out;
        }
        usleep(100 * 1000);
    }
    if (gtp_kafka_wait_ready(pr.rk, NULL, NULL, (int)pr.cfg.startup_timeout_s * 1000, err,
                             sizeof(err))) {
        gtp_log(GTP_LOG_ERROR, "kafka", "%s", err);
        rc = GTP_EXIT_UNAVAILABLE;
        goto out;
    }
    if (pr.cfg.metrics_port) {
        pr.msrv = gtp_metrics_server_start(pr.metrics, (int)pr.cfg.metrics_port, health, &pr, err,
                                           sizeof(err));
        if (!pr.msrv) {
            gtp_log(GTP_LOG_ERROR, "metrics", "%s", err);
            rc = GTP_EXIT_CONFIG;
            goto out;
        }
    }
    sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, pr.cfg.topic, RD_KAFKA_PARTITION_UA);
    kerr = rd_kafka_subscribe(pr.rk, sub);
    if (kerr) {
        gtp_log(GTP_LOG_ERROR, "kafka", "subscribe %s: %s", pr.cfg.topic, rd_kafka_err2str(kerr));
        rc = GTP_EXIT_SOFTWARE;
        goto out;
    }
    gtp_log(GTP_LOG_INFO, "main", "consuming %s as group %s, redis %s", pr.cfg.topic, pr.cfg.group,
            redacted);
    pr.last_flush_ms = gtp_mono_ms();
    pr.flush_interval_ms = pr.cfg.flush_ms;
    rc = run(&pr);

    /* Graceful stop: intake stopped; flush what is in flight (bounded wait
     * for redis), then leave the group (the revoke callback flushes again). */
    if (rc == GTP_EXIT_OK) {
        int64_t until = gtp_mono_ms() + 10000;
        while (!flush_sync(&pr) && gtp_mono_ms() < until) {
            if (pr.need_reload && redis_ensure(&pr))
                discard_pending(&pr);
            usleep(100 * 1000);
        }
    }
out:
    if (sub)
        rd_kafka_topic_partition_list_destroy(sub);
    /* messages must go back to librdkafka before the consumer is closed */
    batch_pool_free(pr.pool);
    for (int k = 0; k < 2; k++) {
        batch_clear(&pr.batches[k]);
        batch_fini(&pr.batches[k]);
    }
    gtp_refill_stop(pr.refill);
    gtp_consumer_close(pr.rk);
    pr.rk = NULL;
    if (pr.dlq) {
        if (gtp_producer_flush(pr.dlq, 10000, err, sizeof(err)))
            gtp_log(GTP_LOG_ERROR, "dlq", "%s", err);
        gtp_producer_free(pr.dlq);
    }
    gtp_metrics_server_stop(pr.msrv);
    gtp_metrics_free(pr.metrics);
    for (int p = 0; p < MAX_PARTS; p++) {
        if (pr.parts[p]) {
            part_drop(pr.parts[p]);
            gtp_idlist_fini(&pr.parts[p]->ids);
            free(pr.parts[p]);
        }
    }
    if (pr.rc)
        redisFree(pr.rc);
    agg_fini(&pr.agg);
    free(pr.flush_parts);
    gtp_taxonomy_free(pr.tx);
    gtp_redis_url_fini(&pr.url);
    gtp_cfg_free(&proc_cli, &pr.cfg, &pr.kprops);
    return rc;
}
