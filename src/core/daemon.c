/* The consumer-daemon skeleton shared by gtp-processor and gtp-archiver (see daemon.h):
 * everything about being a group consumer, none of what is done with the messages. */
#include "gtp/daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gtp/consumer.h"
#include "gtp/err.h"
#include "gtp/log.h"
#include "gtp/sig.h"
#include "gtp/util.h"

struct gtp_daemon_part *gtp_daemon_part(struct gtp_daemon *d, int32_t partition)
{
    if (partition < 0 || partition >= GTP_DAEMON_MAX_PARTS)
        return NULL;
    if (!d->parts[partition])
        d->parts[partition] = d->cfg.hooks->part_new(d->cfg.opaque, partition);
    return d->parts[partition];
}

void gtp_daemon_pause(struct gtp_daemon *d, bool pause)
{
    if (d->paused == pause)
        return;
    gtp_consumer_pause_all(d->rk, pause);
    d->paused = pause;
}

void gtp_daemon_seek(struct gtp_daemon *d, int32_t partition, int64_t offset)
{
    if (partition >= 0 && partition < GTP_DAEMON_MAX_PARTS && d->parts[partition])
        d->parts[partition]->seeks++;
    gtp_consumer_seek(d->rk, d->cfg.topic, partition, offset);
}

void gtp_daemon_pause_one(struct gtp_daemon *d, int32_t partition)
{
    rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, d->cfg.topic, partition);
    rd_kafka_pause_partitions(d->rk, one);
    rd_kafka_topic_partition_list_destroy(one);
}

void gtp_daemon_store_offset(struct gtp_daemon *d, int32_t partition, int64_t offset)
{
    gtp_consumer_store_offset(d->rk, d->cfg.topic, partition, offset);
}

void gtp_daemon_set_healthy(struct gtp_daemon *d, bool healthy)
{
    d->healthy = healthy;
}

bool gtp_daemon_healthy(const struct gtp_daemon *d)
{
    return d->healthy;
}

bool gtp_daemon_dlq_durable(struct gtp_daemon *d, const char *position)
{
    char err[512];
    if (!gtp_dlq_durable(d->dlq, &d->dlq_failed_seen, err, sizeof(err)))
        return true;
    gtp_log(GTP_LOG_ERROR, "dlq", "%s; re-consuming from the %s offsets", err, position);
    gtp_metric_inc(d->m_dlq_failed);
    return false;
}

/* ---- rebalances ------------------------------------------------------------------------- */

/* The hooks decide where each partition resumes and what survives a revoke; the skeleton
 * applies the outcome with the call that matches the group's protocol (docs/kafka.md). */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct gtp_daemon *d = opaque;
    const struct gtp_daemon_hooks *h = d->cfg.hooks;
    rd_kafka_error_t *e = NULL;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (h->on_assign)
            h->on_assign(d->cfg.opaque, parts);
        e = gtp_consumer_assign(rk, parts);
        /* intake paused (output down): the new partitions wait too. Nothing is resumed here:
         * a pause or resume bumps the partition's fetch version, and librdkafka then drops
         * the answer to the start-offset query it has just sent and asks again only after
         * its 500 ms retry timer (docs/kafka.md, "Pauses across assignments"). */
        if (d->paused)
            rd_kafka_pause_partitions(rk, parts);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        bool lost = rd_kafka_assignment_lost(rk);
        if (h->on_revoke)
            h->on_revoke(d->cfg.opaque, parts, lost);
        for (int i = 0; i < parts->cnt; i++)
            gtp_log(GTP_LOG_INFO, "consumer", "%s %s[%d]", lost ? "lost" : "revoked",
                    parts->elems[i].topic, (int)parts->elems[i].partition);
        /* librdkafka keeps a partition's pause across assignments: one paused here (intake
         * paused, or a fenced partition) would come back paused, so the pause goes with it */
        rd_kafka_resume_partitions(rk, parts);
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

/* ---- set-up --------------------------------------------------------------------------------- */

static bool health(void *opaque, char *detail, size_t detail_size)
{
    struct gtp_daemon *d = opaque;
    if (!d->healthy) {
        snprintf(detail, detail_size, "%s", d->cfg.unhealthy);
        return false;
    }
    return true;
}

/* Names fixed by docs/metrics.md; late_events and duplicate_events by docs/windows.md. */
static void outcomes_init(struct gtp_daemon_outcomes *o, struct gtp_metrics *m, const char *prefix)
{
    char name[128];
    const char *l[] = {"outcome", NULL, NULL};
    snprintf(name, sizeof(name), "%s_messages", prefix);
    o->messages = gtp_metrics_counter(m, name, "kafka messages consumed", NULL);
    snprintf(name, sizeof(name), "%s_events", prefix);
    l[1] = "valid";
    o->valid = gtp_metrics_counter(m, name, "kafka messages by outcome", l);
    l[1] = "counted";
    o->counted = gtp_metrics_counter(m, name, "kafka messages by outcome", l);
    l[1] = "rejected";
    o->rejected = gtp_metrics_counter(m, name, "kafka messages by outcome", l);
    o->late = gtp_metrics_counter(m, "late_events", "valid events behind the watermark", NULL);
    o->dup = gtp_metrics_counter(m, "duplicate_events", "re-sent events not counted again", NULL);
    for (int r = 1; r < GTP_REJECT_COUNT; r++) {
        const char *lr[] = {"reason", gtp_reject_name((enum gtp_reject)r), NULL};
        o->rejected_by[r] =
            gtp_metrics_counter(m, "rejected_events", "events sent to the dlq by reason", lr);
    }
}

void gtp_daemon_count(struct gtp_daemon *d, enum gtp_reject r, enum gtp_verdict v)
{
    struct gtp_daemon_outcomes *o = &d->out;
    gtp_metric_inc(o->messages);
    if (r != GTP_REJECT_NONE) {
        gtp_metric_inc(o->rejected);
        gtp_metric_inc(o->rejected_by[r]);
        return;
    }
    gtp_metric_inc(o->valid);
    gtp_metric_inc(v == GTP_VERDICT_LATE        ? o->late
                   : v == GTP_VERDICT_DUPLICATE ? o->dup
                                                : o->counted);
}

int gtp_daemon_init(struct gtp_daemon *d, const struct gtp_daemon_cfg *cfg)
{
    char err[512], name[128];

    d->cfg = *cfg;
    d->metrics = gtp_metrics_new();
    snprintf(name, sizeof(name), "%s_consumer_lag", cfg->metrics_prefix);
    d->m_lag = gtp_metrics_gauge(d->metrics, name, "messages behind the log end", NULL);
    snprintf(name, sizeof(name), "%s_dlq_failures", cfg->metrics_prefix);
    d->m_dlq_failed = gtp_metrics_counter(d->metrics, name, "dlq delivery failures", NULL);
    outcomes_init(&d->out, d->metrics, cfg->metrics_prefix);
    d->tx = gtp_taxonomy_load(cfg->taxonomy, err, sizeof(err));
    if (!d->tx) {
        gtp_log(GTP_LOG_ERROR, "taxonomy", "%s", err);
        return GTP_ERR_CONFIG;
    }
    return 0;
}

int gtp_daemon_connect(struct gtp_daemon *d)
{
    char err[512];

    d->dlq = gtp_producer_new(d->cfg.brokers, d->cfg.kprops, err, sizeof(err));
    if (!d->dlq) {
        gtp_log(GTP_LOG_ERROR, "dlq", "%s", err);
        return GTP_ERR_CONFIG;
    }
    d->rk = gtp_consumer_new(d->cfg.brokers, d->cfg.group, d->cfg.kprops, d->cfg.mmap_threshold,
                             rebalance_cb, d, err, sizeof(err));
    if (!d->rk) {
        gtp_log(GTP_LOG_ERROR, "kafka", "%s", err);
        return GTP_ERR_CONFIG;
    }
    d->refill = gtp_refill_start(d->rk, GTP_REFILL_LOW, GTP_REFILL_EVERY, GTP_REFILL_INTERVAL_MS,
                                 err, sizeof(err));
    if (!d->refill) {
        gtp_log(GTP_LOG_ERROR, "kafka", "%s", err);
        return GTP_ERR_INTERNAL;
    }
    return 0;
}

int gtp_daemon_start(struct gtp_daemon *d)
{
    char err[512];
    rd_kafka_resp_err_t kerr;

    if (gtp_kafka_wait_ready(d->rk, NULL, NULL, (int)d->cfg.startup_timeout_s * 1000, err,
                             sizeof(err))) {
        gtp_log(GTP_LOG_ERROR, "kafka", "%s", err);
        return GTP_ERR_UNAVAILABLE;
    }
    if (d->cfg.metrics_port) {
        d->msrv = gtp_metrics_server_start(d->metrics, (int)d->cfg.metrics_port, health, d, err,
                                           sizeof(err));
        if (!d->msrv) {
            gtp_log(GTP_LOG_ERROR, "metrics", "%s", err);
            return GTP_ERR_CONFIG;
        }
    }
    /* Learn the topic's partitions and their leaders before joining the group. librdkafka 2.0
     * makes a partition's state on the first metadata that names it and hands it to its
     * leader's thread asynchronously; when the group's assignment starts the fetch before that
     * hand-over, the start-offset query finds no leader and waits out librdkafka's fixed 500 ms
     * retry (8 starts of 20 before, docs/kafka.md "Start-up"). A held topic handle makes the
     * metadata request create and hand over every partition now. A failed request is harmless:
     * the group join asks again. */
    d->rkt = rd_kafka_topic_new(d->rk, d->cfg.topic, NULL);
    if (d->rkt) {
        const struct rd_kafka_metadata *md = NULL;
        if (rd_kafka_metadata(d->rk, 0, d->rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
            rd_kafka_metadata_destroy(md);
    }
    d->sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(d->sub, d->cfg.topic, RD_KAFKA_PARTITION_UA);
    kerr = rd_kafka_subscribe(d->rk, d->sub);
    if (kerr) {
        gtp_log(GTP_LOG_ERROR, "kafka", "subscribe %s: %s", d->cfg.topic, rd_kafka_err2str(kerr));
        return GTP_ERR_KAFKA;
    }
    return 0;
}

/* ---- the loop ------------------------------------------------------------------------------ */

int gtp_daemon_part_lag(struct gtp_daemon *d, int32_t p, int64_t pos, int64_t *lag)
{
    int64_t lo, hi;
    if (rd_kafka_get_watermark_offsets(d->rk, d->cfg.topic, p, &lo, &hi) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        hi < 0)
        return -1;
    *lag = hi - (pos < 0 ? lo : pos);
    return 0;
}

static void update_lag(struct gtp_daemon *d)
{
    double lag = 0;
    for (int p = 0; p < GTP_DAEMON_MAX_PARTS; p++) {
        struct gtp_daemon_part *pt = d->parts[p];
        int64_t l;
        if (pt && pt->assigned && gtp_daemon_part_lag(d, p, pt->next, &l) == 0)
            lag += (double)l;
    }
    gtp_metric_set(d->m_lag, lag);
}

static void reload_taxonomy(struct gtp_daemon *d)
{
    char err[512];
    struct gtp_taxonomy *tx;
    gtp_sig_reload = 0;
    tx = gtp_taxonomy_load(d->cfg.taxonomy, err, sizeof(err));
    if (!tx) {
        gtp_log(GTP_LOG_ERROR, "taxonomy", "reload failed, keeping the old one: %s", err);
        return;
    }
    if (d->cfg.hooks->on_reload)
        d->cfg.hooks->on_reload(d->cfg.opaque);
    gtp_taxonomy_free(d->tx);
    d->tx = tx;
    gtp_log(GTP_LOG_INFO, "taxonomy", "reloaded %s (%zu skills)", d->cfg.taxonomy,
            gtp_skills_count(tx->skills));
}

/* Up to batch_max messages: the first poll waits up to timeout_ms, the rest take only what
 * is already queued. Returns the number handed to on_message, or -1 on a fatal error; *now
 * is the clock after the round (one read per round: it showed in the profile). */
static long collect(struct gtp_daemon *d, int timeout_ms, int64_t *now)
{
    size_t n = 0;
    bool got = false;
    while (n < d->cfg.batch_max) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(d->rk, got ? 0 : timeout_ms);
        if (!rkm)
            break;
        got = true;
        if (rkm->err) {
            bool fatal = gtp_consumer_failed(d->rk, rkm);
            rd_kafka_message_destroy(rkm);
            if (fatal)
                return -1;
            continue;
        }
        d->cfg.hooks->on_message(d->cfg.opaque, rkm);
        n++;
    }
    *now = gtp_mono_ms();
    gtp_refill_check(d->refill, n, *now);
    return (long)n;
}

int gtp_daemon_run(struct gtp_daemon *d)
{
    const struct gtp_daemon_hooks *h = d->cfg.hooks;
    int64_t last_lag_ms = 0, now, until;
    char err[512];
    long n;

    while (!gtp_sig_stop) {
        gtp_metrics_beat(d->metrics); /* /livez: the loop is turning */
        if (gtp_sig_reload)
            reload_taxonomy(d);
        n = collect(d, h->before_poll ? h->before_poll(d->cfg.opaque) : 50, &now);
        if (n < 0)
            return GTP_EXIT_SOFTWARE;
        gtp_producer_poll(d->dlq, 0);
        if (gtp_producer_fatal(d->dlq, err, sizeof(err))) {
            gtp_log(GTP_LOG_ERROR, "dlq", "fatal producer error: %s", err);
            return GTP_EXIT_SOFTWARE;
        }
        if (h->after_poll)
            h->after_poll(d->cfg.opaque, (size_t)n, now);
        if (now - last_lag_ms >= 1000) {
            update_lag(d);
            if (h->on_gauges)
                h->on_gauges(d->cfg.opaque);
            last_lag_ms = now;
        }
    }
    /* Graceful stop: intake stopped; make what is pending durable (bounded: the group must
     * be left before an orchestrator's kill), then gtp_daemon_fini leaves the group. */
    until = gtp_mono_ms() + 10000;
    while (h->on_drain && !h->on_drain(d->cfg.opaque) && gtp_mono_ms() < until)
        usleep((useconds_t)d->cfg.drain_retry_ms * 1000);
    return GTP_EXIT_OK;
}

/* ---- teardown ----------------------------------------------------------------------------------
 */

void gtp_daemon_fini(struct gtp_daemon *d)
{
    char err[512];

    if (d->sub)
        rd_kafka_topic_partition_list_destroy(d->sub);
    d->sub = NULL;
    if (d->rkt)
        rd_kafka_topic_destroy(d->rkt);
    d->rkt = NULL;
    gtp_refill_stop(d->refill);
    d->refill = NULL;
    gtp_consumer_close(d->rk);
    d->rk = NULL;
    if (d->dlq) {
        if (gtp_producer_flush(d->dlq, 10000, err, sizeof(err)))
            gtp_log(GTP_LOG_ERROR, "dlq", "%s", err);
        gtp_producer_free(d->dlq);
        d->dlq = NULL;
    }
    gtp_metrics_server_stop(d->msrv);
    d->msrv = NULL;
    gtp_metrics_free(d->metrics);
    d->metrics = NULL;
    for (int p = 0; p < GTP_DAEMON_MAX_PARTS; p++) {
        if (!d->parts[p])
            continue;
        if (d->cfg.hooks && d->cfg.hooks->part_free)
            d->cfg.hooks->part_free(d->cfg.opaque, d->parts[p]);
        else
            free(d->parts[p]);
        d->parts[p] = NULL;
    }
    gtp_taxonomy_free(d->tx);
    d->tx = NULL;
}
