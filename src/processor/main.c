/* gtp-processor: consumes raw events, validates and enriches them, keeps
 * 1-hour event-time windows per Kafka partition (docs/windows.md) and flushes count
 * deltas, offsets, watermarks and dedup state to Redis atomically (docs/redis.md).
 * Rejected events go to the dead-letter topic (docs/kafka.md).
 *
 * The story: the consumer-daemon skeleton (gtp/daemon.h) polls; helper threads enrich
 * batch k+1 while this thread applies batch k to the windows (batch.h); every --flush-ms
 * the pending deltas go to Redis as one fenced script, one flush in flight while consuming
 * goes on (flush.h). On assignment a partition resumes from the position stored in Redis;
 * before partitions leave, everything pending is flushed. While Redis is down intake
 * pauses. */
#include <inttypes.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "agg.h"
#include "batch.h"
#include "flush.h"
#include "options.h"
#include "redislink.h"
#include "gtp/cfg.h"
#include "gtp/consumer.h"
#include "gtp/daemon.h"
#include "gtp/err.h"
#include "gtp/event.h"
#include "gtp/log.h"
#include "gtp/metrics.h"
#include "gtp/program.h"
#include "gtp/sig.h"
#include "gtp/util.h"
#include "gtp/window.h"

struct proc {
    struct proc_cfg cfg;
    struct gtp_kvlist kprops; /* -X, config file, GTP_KAFKA_* */
    struct gtp_kvlist kall;   /* kafka_defaults, then kprops (which override them) */
    struct gtp_daemon d;      /* consumer, partitions, dead letters, taxonomy, metrics */
    struct flush fl;          /* pending deltas and the flush to redis */
    struct redislink rl;      /* the connection to redis */
    struct batch_pool *pool;
    struct batch_pipe pipe; /* one batch polled and applied, one being enriched */
    struct gtp_metric *m_event_lag;
    int64_t batch_wall_us; /* wall clock, read once per applied batch (event lag) */
};

static struct part *part_get(struct proc *pr, int32_t p)
{
    return (struct part *)gtp_daemon_part(&pr->d, p);
}

/* ---- consuming -------------------------------------------------------------------------- */

/* Apply item i of an enriched batch: dead letter, or window verdict and counts. Items come
 * in poll order, so each partition's in offset order. */
static void apply_item(struct proc *pr, const struct batch *b, size_t i)
{
    const struct batch_item *it = &b->items[i];
    struct part *pt = part_get(pr, it->partition);
    enum gtp_reject r = it->reject;
    struct agg *a = &pr->fl.agg;

    if (!flush_part_takes(pt, it->offset, it->epoch))
        return;
    a->stats[AGG_EVENTS]++;
    if (r != GTP_REJECT_NONE) {
        char err[256];
        a->stats[AGG_REJECTED]++;
        a->rejected_by_reason[r]++;
        gtp_daemon_count(&pr->d, r, GTP_VERDICT_COUNT);
        if (gtp_dlq_send(pr->d.dlq, pr->cfg.dlq_topic, it->rkm, gtp_reject_name(r),
                         batch_text(b, i), err, sizeof(err)))
            return; /* stopping or broken: leave the offset for the next owner */
    } else {
        int64_t ws = gtp_window_start(it->posted_us);
        a->stats[AGG_VALID]++;
        int64_t lag_us = pr->batch_wall_us - it->posted_us; /* event time to processed */
        gtp_metric_observe(pr->m_event_lag, lag_us > 0 ? (double)lag_us / 1e6 : 0);
        struct gtp_eventid id = {batch_text(b, i), it->text_len, it->id_packed, {0}};
        memcpy(id.bin, it->id_bin, sizeof(id.bin));
        enum gtp_verdict v = gtp_window_classify_id(pt->win, &id, it->posted_us);
        gtp_daemon_count(&pr->d, r, v);
        switch (v) {
        case GTP_VERDICT_LATE:
            a->stats[AGG_LATE]++;
            break;
        case GTP_VERDICT_DUPLICATE:
            a->stats[AGG_DUPLICATES]++;
            break;
        case GTP_VERDICT_COUNT:
            a->stats[AGG_COUNTED]++;
            idlist_add_id(&pt->ids, ws, &id);
            agg_add_mentions(a, &it->skills, gtp_skills_count(pr->d.tx->skills), it->region, ws);
            insights_add(&a->ins,
                         &(struct insights_post){&it->skills, gtp_skills_count(pr->d.tx->skills),
                                                 it->region, it->posted_us, it->is_remote,
                                                 it->level, batch_company(b, i), it->company_len});
            break;
        }
    }
    pt->dp.next = it->offset + 1;
    pr->fl.pending_events++;
}

/* How many items ahead apply_batch starts loading an id's dedup slot: enough to cover a
 * memory access behind the work of that many items. */
#define DEDUP_AHEAD 8

static void prefetch_item(struct proc *pr, const struct batch *b, size_t i)
{
    const struct batch_item *it = &b->items[i];
    const struct part *pt = flush_part_find(&pr->d, it->partition);
    if (it->reject == GTP_REJECT_NONE && it->id_packed &&
        flush_part_takes(pt, it->offset, it->epoch))
        gtp_window_prefetch_id(pt->win, it->id_bin, it->posted_us);
}

/* Apply an enriched batch (b may be NULL) and give its messages back. */
static void apply_batch(struct proc *pr, struct batch *b)
{
    pr->batch_wall_us = gtp_wall_us();
    for (size_t i = 0; b && i < b->n && i < DEDUP_AHEAD; i++)
        prefetch_item(pr, b, i);
    for (size_t i = 0; b && i < b->n; i++) {
        if (i + DEDUP_AHEAD < b->n)
            prefetch_item(pr, b, i + DEDUP_AHEAD);
        apply_item(pr, b, i);
    }
    if (b)
        batch_clear(b);
}

/* ---- the daemon's hooks ----------------------------------------------------------------- */

static void on_assign(void *opaque, rd_kafka_topic_partition_list_t *parts)
{
    struct proc *pr = opaque;
    /* the connection must be idle before plain commands reuse it; a failure here leaves
     * need_reload for the main loop */
    flush_wait(&pr->fl);
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        struct part *pt = part_get(pr, tp->partition);
        if (!pt)
            continue;
        /* Resume from the position stored with the counts, not from Kafka's committed
         * offset. */
        while (!gtp_sig_stop &&
               !(redislink_wait(&pr->rl) && flush_part_load(&pr->fl, tp->partition, pt)))
            ;
        tp->offset = pt->dp.next == STORE_NO_OFFSET ? RD_KAFKA_OFFSET_BEGINNING : pt->dp.next;
        gtp_log(GTP_LOG_INFO, "consumer", "assigned %s[%d] from offset %" PRId64, tp->topic,
                (int)tp->partition, pt->dp.next);
    }
}

static void on_revoke(void *opaque, rd_kafka_topic_partition_list_t *parts, bool lost)
{
    struct proc *pr = opaque;
    /* Pending deltas mix all partitions: flush everything before giving some away; when
     * that is impossible (lost, redis down) discard it all and let the remaining partitions
     * restart from redis. */
    bool flushed = !lost && redislink_ensure(&pr->rl) && flush_sync(&pr->fl);
    for (int i = 0; i < parts->cnt; i++) {
        struct part *pt = part_get(pr, parts->elems[i].partition);
        if (pt)
            flush_part_drop(pt);
    }
    if (!flushed)
        flush_discard(&pr->fl);
}

/* Redis down: stop intake (pause) but keep polling so the group membership and rebalances
 * stay alive. */
static int before_poll(void *opaque)
{
    struct proc *pr = opaque;
    if (pr->fl.inflight)
        flush_collect(&pr->fl, 0);
    if (pr->fl.need_reload && redislink_ensure(&pr->rl))
        flush_discard(&pr->fl);
    if (!pr->rl.rc && !redislink_ensure(&pr->rl))
        gtp_daemon_pause(&pr->d, true);
    if (pr->d.paused && pr->rl.rc && flush_sync(&pr->fl))
        gtp_daemon_pause(&pr->d, false);
    return pr->pipe.work ? 0 : flush_wait_ms(&pr->fl, gtp_mono_ms(), 50);
}

static void on_message(void *opaque, rd_kafka_message_t *rkm)
{
    struct proc *pr = opaque;
    /* the epoch after the poll: a rebalance callback inside it has run */
    struct part *pt = part_get(pr, rkm->partition);
    if (pt && rkm->offset >= pt->polled_next)
        pt->polled_next = rkm->offset + 1;
    batch_add(pr->pipe.fill, rkm, pt ? pt->epoch : 0);
}

/* Whether every assigned partition was polled up to its end as librdkafka last fetched it
 * (within END_SLACK offsets): the log is drained, not only this poll short. A partition whose
 * end is unknown (not fetched yet) is not at its end. The slack is for offsets no message
 * takes: a transactional producer's commit markers; the flush that is then due only misses
 * what arrives in those few offsets, which the next one takes. */
#define END_SLACK 8
static bool at_log_end(struct proc *pr)
{
    for (int p = 0; p < GTP_DAEMON_MAX_PARTS; p++) {
        struct part *pt = flush_part_find(&pr->d, p);
        int64_t lag;
        if (pt && pt->dp.assigned &&
            (gtp_daemon_part_lag(&pr->d, p, pt->polled_next, &lag) || lag > END_SLACK))
            return false;
    }
    return true;
}

/* Poll batch k+1 while the helpers enrich batch k, then apply k while they enrich k+1;
 * flush when due. */
static void after_poll(void *opaque, size_t n, int64_t now)
{
    struct proc *pr = opaque;
    apply_batch(pr, batch_pipe_turn(&pr->pipe, pr->d.tx));
    /* One and a half --flush-events pending behind a flush still in redis: wait for that
     * flush rather than pile up more. The pending ids and deltas, and the next flush's
     * arguments, grow with the events behind it; when a busy redis (or machine) slowed
     * flushes, they grew to several times --flush-events, and so did the peak RSS (the
     * ids alone are 17 bytes per event). A flush takes a fraction of the time its events
     * take to process, so at normal speed this never waits: at most about 105,000 events
     * were behind the flush in flight on the 1M-event backlog at 100,000. */
    size_t cap = (size_t)pr->fl.flush_events + (size_t)pr->fl.flush_events / 2;
    if (pr->fl.inflight && pr->fl.pending_events >= cap)
        flush_wait(&pr->fl);
    /* a short poll: the log had no more; what was just polled is applied next round */
    bool short_poll = n < BATCH_MAX;
    pr->fl.at_end = short_poll && at_log_end(pr);
    pr->fl.quiet = n == 0;
    if (flush_due(&pr->fl, now, short_poll)) {
        /* At the log's end the batch just polled is the last one: it goes into this flush
         * rather than into a flush of its own after this one's reply. */
        if (pr->fl.at_end && pr->pipe.work)
            apply_batch(pr, batch_pipe_finish(&pr->pipe));
        if (!flush_start(&pr->fl) && !pr->rl.rc)
            gtp_daemon_pause(&pr->d, true);
    }
    redislink_heartbeat(&pr->rl, now);
}

/* Pending deltas hold skill indexes of the old taxonomy: flush them under it first. */
static void on_reload(void *opaque)
{
    struct proc *pr = opaque;
    apply_batch(pr, batch_pipe_finish(&pr->pipe));
    while (!flush_settle(&pr->fl) && !gtp_sig_stop)
        usleep(100 * 1000);
}

/* A clean stop applies what was polled and flushes it (bounded by the daemon); the revoke
 * on leaving the group flushes again. */
static bool on_drain(void *opaque)
{
    struct proc *pr = opaque;
    apply_batch(pr, batch_pipe_finish(&pr->pipe));
    return flush_settle(&pr->fl);
}

static const struct gtp_daemon_hooks proc_hooks = {
    .part_new = flush_part_new,
    .part_free = flush_part_free,
    .on_assign = on_assign,
    .on_revoke = on_revoke,
    .before_poll = before_poll,
    .on_message = on_message,
    .after_poll = after_poll,
    .on_reload = on_reload,
    .on_drain = on_drain,
};

/* ---- set-up ------------------------------------------------------------------------------ */

/* librdkafka settings of the processor's own (docs/kafka.md), over the consumer defaults both
 * daemons share (gtp/consumer.h) and under -X, the config file and GTP_KAFKA_*. A fetch brings
 * up to max.partition.fetch.bytes of lz4 per partition, decompressed at once into 1 MB
 * producer batches that stay while any of their messages is queued: 512 KiB keeps fewer of
 * them in memory, which pays for PROC_MMAP_THRESHOLD (bench/README.md "Fetch buffers reused"). */
static const char *const kafka_defaults[][2] = {
    {"max.partition.fetch.bytes", "524288"},
};

/* glibc's mmap threshold for the processor: above the 2 MiB fetch responses and the 1 MB
 * decompressed batches, so freed ones are reused from the heap instead of being mapped and
 * faulted in afresh (200,000+ page faults per 1M events at the consumers' 256 KiB; on 1M events
 * CPU 2.96 -> 2.62 s, wall -9 %, peak RSS median unchanged with the 512 KiB fetch above). */
#define PROC_MMAP_THRESHOLD (4u << 20)

static void kafka_props(struct proc *pr)
{
    for (size_t i = 0; i < GTP_ARRAY_LEN(kafka_defaults); i++)
        gtp_kvlist_add(&pr->kall, kafka_defaults[i][0], kafka_defaults[i][1]);
    for (size_t i = 0; i < pr->kprops.n; i++)
        gtp_kvlist_add(&pr->kall, pr->kprops.items[i].key, pr->kprops.items[i].value);
}

static void metrics_init(struct proc *pr)
{
    struct gtp_metrics *m = pr->d.metrics;
    static const double lag[] = {GTP_METRICS_LAG_BUCKETS};
    pr->m_event_lag = gtp_metrics_histogram(m, "processor_event_lag_seconds",
                                            "event time to processed, valid events", lag,
                                            GTP_ARRAY_LEN(lag), NULL);
    flush_metrics(&pr->fl, m);
    redislink_metrics(&pr->rl, m);
}

int main(int argc, char **argv)
{
    static struct proc pr; /* large: keep it off the stack */
    char err[512], redacted[512];
    int rc = GTP_EXIT_OK, e;

    /* glibc gives each thread that allocates (librdkafka's broker threads, the enrich
     * helpers) an arena of its own, whose freed memory stays resident in that arena: two
     * arenas for all of them took about 5 MB off the peak RSS on 1M events at the same
     * speed (bench/README.md "Processor peak RSS"). Before any thread starts. */
    mallopt(M_ARENA_MAX, 2);
    if (gtp_program_init(&proc_cli, &pr.cfg, &pr.kprops, argc, argv, &rc))
        goto out;
    if (gtp_redis_url_parse(pr.cfg.redis_url, &pr.rl.url, err, sizeof(err))) {
        fprintf(stderr, "gtp-processor: --redis: %s\n", err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    kafka_props(&pr);
    struct gtp_daemon_cfg dc = {
        .brokers = pr.cfg.brokers,
        .topic = pr.cfg.topic,
        .group = pr.cfg.group,
        .taxonomy = pr.cfg.taxonomy,
        .kprops = &pr.kall,
        .startup_timeout_s = pr.cfg.startup_timeout_s,
        .metrics_port = pr.cfg.metrics_port,
        .metrics_prefix = "processor",
        .unhealthy = "redis unavailable",
        .batch_max = BATCH_MAX,
        .mmap_threshold = PROC_MMAP_THRESHOLD,
        .drain_retry_ms = 100,
        .hooks = &proc_hooks,
        .opaque = &pr,
    };
    pr.rl.fl = &pr.fl;
    pr.rl.d = &pr.d;
    pr.rl.topic = pr.cfg.topic;
    flush_init(&pr.fl, &pr.d, &redislink_ops, &pr.rl, pr.cfg.topic, pr.cfg.flush_ms,
               pr.cfg.flush_events, pr.cfg.flush_idle_ms, pr.cfg.retention_s);
    pr.fl.agg.ins.on = pr.cfg.insights;
    if ((e = gtp_daemon_init(&pr.d, &dc)))
        goto fail;
    metrics_init(&pr);
    pr.pool = batch_pool_new((int)pr.cfg.enrich_threads, err, sizeof(err));
    if (!pr.pool) {
        gtp_log(GTP_LOG_ERROR, "main", "%s", err);
        rc = GTP_EXIT_SOFTWARE;
        goto out;
    }
    batch_pipe_init(&pr.pipe, pr.pool);
    if ((e = gtp_daemon_connect(&pr.d)))
        goto fail;

    /* Start-up: both services must answer within the timeout (exit 69). */
    gtp_log_redact_url(pr.cfg.redis_url, redacted, sizeof(redacted));
    if ((e = redislink_start(&pr.rl, redacted, pr.cfg.startup_timeout_s)) ||
        (e = gtp_daemon_start(&pr.d)))
        goto fail;
    gtp_log(GTP_LOG_INFO, "main", "consuming %s as group %s, redis %s", pr.cfg.topic, pr.cfg.group,
            redacted);
    pr.fl.last_ms = gtp_mono_ms();
    rc = gtp_daemon_run(&pr.d);
    goto out;
fail:
    rc = gtp_err_exit_code(e);
out:
    /* messages must go back to librdkafka before the consumer is closed */
    batch_pool_free(pr.pool);
    batch_pipe_fini(&pr.pipe);
    gtp_daemon_fini(&pr.d); /* leaves the group: the revoke hook flushes again */
    redislink_fini(&pr.rl);
    flush_fini(&pr.fl);
    gtp_cfg_free(&proc_cli, &pr.cfg, &pr.kprops);
    gtp_cfg_free(NULL, NULL, &pr.kall);
    return rc;
}
