/* Group consumer set-up, seeking, pausing and dead letters for the daemons
 * that consume job.postings.v1. */
#include "gtp/consumer.h"
#include "gtp/err.h"
#include "gtp/log.h"
#include "gtp/sig.h"
#include "gtp/util.h"

#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* The rk opaque of our consumers: the daemon's callback and opaque, and
 * whether an assignment ever arrived (see gtp_consumer_close). */
struct hooks {
    gtp_rebalance_fn rebalance;
    void *opaque;
    atomic_bool synced;
};

static void rebalance_tramp(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct hooks *h = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        atomic_store(&h->synced, true);
    if (h->rebalance) {
        h->rebalance(rk, err, parts, h->opaque);
    } else {
        rd_kafka_error_t *e = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS
                                  ? gtp_consumer_assign(rk, parts)
                                  : gtp_consumer_unassign(rk, parts);
        if (e)
            rd_kafka_error_destroy(e);
    }
}

rd_kafka_t *gtp_consumer_new(const char *brokers, const char *group, const struct gtp_kvlist *props,
                             size_t mmap_threshold, gtp_rebalance_fn rebalance, void *opaque,
                             char *errstr, size_t errstr_size)
{
    static const char *defaults[][2] = {
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"enable.auto.offset.store", "false"},
        {"enable.auto.commit", "true"},
        {"auto.offset.reset", "earliest"},
        /* The fetch queue (shared by all partitions once forwarded to the
         * consumer queue) bounds the memory; the refill thread
         * (gtp_refill_start) restarts the fetcher as soon as it runs low, so
         * 2 MiB are enough at 300k events/s. Each fetch brings at most 2 MiB
         * (compressed) on top of it, of one partition or several. */
        {"queued.max.messages.kbytes", "2048"},
        {"max.partition.fetch.bytes", "2097152"},
        {"fetch.max.bytes", "2097152"},
        {"fetch.wait.max.ms", "50"},
        {"session.timeout.ms", "10000"},
        /* A member learns of a rebalance at its next heartbeat: a processor started beside a
         * busy one waited up to 6 s for partitions at librdkafka's 3 s (two rounds of the
         * cooperative protocol), 2 s at 1 s (docs/kafka.md "Groups and assignment"). */
        {"heartbeat.interval.ms", "1000"},
    };
    struct gtp_kvlist all = {0};
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_t *rk = NULL;
    struct hooks *h = NULL;

    /* Fetch responses and decompressed batches are megabytes each and
     * short-lived. glibc raises its mmap threshold after the first such buffer
     * is freed and then serves them from the heap, where freed memory stays
     * resident: a fixed threshold returns them to the system (measured: peak
     * RSS 129 -> 108 MB on the processor benchmark). A caller may choose another
     * (gtp/consumer.h). */
    mallopt(M_MMAP_THRESHOLD, mmap_threshold ? (int)mmap_threshold : GTP_CONSUMER_MMAP_THRESHOLD);
    gtp_kvlist_add(&all, "group.id", group);
    for (size_t i = 0; i < GTP_ARRAY_LEN(defaults); i++)
        gtp_kvlist_add(&all, defaults[i][0], defaults[i][1]);
    for (size_t i = 0; props && i < props->n; i++)
        gtp_kvlist_add(&all, props->items[i].key, props->items[i].value);
    conf = gtp_kafka_conf_new(RD_KAFKA_CONSUMER, brokers, &all, errstr, errstr_size);
    if (!conf)
        goto out;
    h = gtp_xcalloc(1, sizeof(*h));
    h->rebalance = rebalance;
    h->opaque = opaque;
    atomic_init(&h->synced, false);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_tramp);
    rd_kafka_conf_set_opaque(conf, h);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        free(h);
        goto out;
    }
    h = NULL; /* freed by gtp_consumer_close */
    rd_kafka_poll_set_consumer(rk);
out:
    gtp_cfg_free(NULL, NULL, &all);
    return rk;
}

static bool cooperative(rd_kafka_t *rk)
{
    return strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
}

rd_kafka_error_t *gtp_consumer_assign(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_resp_err_t err;
    if (cooperative(rk))
        return rd_kafka_incremental_assign(rk, parts);
    err = rd_kafka_assign(rk, parts);
    return err ? rd_kafka_error_new(err, "assign: %s", rd_kafka_err2str(err)) : NULL;
}

rd_kafka_error_t *gtp_consumer_unassign(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_resp_err_t err;
    if (cooperative(rk))
        return rd_kafka_incremental_unassign(rk, parts);
    /* eager: a revoke always takes the whole assignment */
    err = rd_kafka_assign(rk, NULL);
    return err ? rd_kafka_error_new(err, "unassign: %s", rd_kafka_err2str(err)) : NULL;
}

/* A consumer gtp_consumer_close did not destroy: reachable from here, so leak
 * checkers do not report what is kept on purpose. */
static rd_kafka_t *left_to_exit;

bool gtp_consumer_close(rd_kafka_t *rk)
{
    struct hooks *h;
    rd_kafka_resp_err_t err;
    bool synced;

    if (!rk || rk == left_to_exit)
        return false;
    h = rd_kafka_opaque(rk);
    err = rd_kafka_consumer_close(rk);
    if (err)
        gtp_log(GTP_LOG_WARN, "kafka", "leaving the group: %s", rd_kafka_err2str(err));
    synced = atomic_load(&h->synced);
    if (!synced) {
        left_to_exit = rk;
        /* joined (maybe) but never assigned: rd_kafka_destroy would abort
         * (see consumer.h); the handle and h stay with the exiting process */
        gtp_log(GTP_LOG_INFO, "kafka",
                "left the group before any assignment; the consumer handle is left to exit");
        return false;
    }
    rd_kafka_destroy(rk);
    free(h);
    return true;
}

void gtp_consumer_seek(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_error_t *e;
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset =
        offset < 0 ? RD_KAFKA_OFFSET_BEGINNING : offset;
    e = rd_kafka_seek_partitions(rk, l, 5000);
    if (e) {
        gtp_log(GTP_LOG_WARN, "kafka", "seek %s[%d]: %s", topic, (int)partition,
                rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

bool gtp_consumer_failed(rd_kafka_t *rk, const rd_kafka_message_t *rkm)
{
    char err[512];
    if (rkm->err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, err, sizeof(err));
        gtp_log(GTP_LOG_ERROR, "kafka", "fatal: %s", err);
        return true;
    }
    if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        gtp_log(GTP_LOG_WARN, "kafka", "%s", rd_kafka_message_errstr(rkm));
    return false;
}

void gtp_consumer_store_offset(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offset;
    rd_kafka_offsets_store(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

struct gtp_refill {
    rd_kafka_t *rk;      /* borrowed */
    rd_kafka_queue_t *q; /* the consumer queue (owned reference) */
    size_t low, every;
    int64_t interval_ms;
    int64_t last_ms;   /* main thread: the last wake-up asked for */
    uint64_t received; /* main thread: messages since then */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool want, busy, stop; /* under mu */
};

static void *refill_main(void *arg)
{
    struct gtp_refill *r = arg;
    int rr = 0;

    pthread_mutex_lock(&r->mu);
    for (;;) {
        rd_kafka_topic_partition_list_t *l = NULL;
        int64_t lo, hi;

        while (!r->want && !r->stop)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->stop)
            break;
        r->want = false;
        r->busy = true;
        pthread_mutex_unlock(&r->mu);
        if (!rd_kafka_assignment(r->rk, &l) && l && l->cnt > 0) {
            /* Round robin: with several brokers, each leader gets its turn. */
            rr = (rr + 1) % l->cnt;
            (void)rd_kafka_query_watermark_offsets(r->rk, l->elems[rr].topic,
                                                   l->elems[rr].partition, &lo, &hi, 1000);
        }
        if (l)
            rd_kafka_topic_partition_list_destroy(l);
        pthread_mutex_lock(&r->mu);
        r->busy = false;
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

struct gtp_refill *gtp_refill_start(rd_kafka_t *rk, size_t low, size_t every, int64_t interval_ms,
                                    char *errstr, size_t errstr_size)
{
    struct gtp_refill *r = gtp_xcalloc(1, sizeof(*r));
    int e;

    r->rk = rk;
    r->q = rd_kafka_queue_get_consumer(rk);
    r->low = low;
    r->every = every ? every : 1;
    r->interval_ms = interval_ms;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    e = pthread_create(&r->thread, NULL, refill_main, r);
    if (e) {
        gtp_errf(errstr, errstr_size, "refill thread: %s", strerror(e));
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        if (r->q)
            rd_kafka_queue_destroy(r->q);
        free(r);
        return NULL;
    }
    return r;
}

void gtp_refill_check(struct gtp_refill *r, size_t n, int64_t now)
{
    r->received += n;
    if (r->received < r->every || !r->q)
        return;
    if (now - r->last_ms < r->interval_ms || rd_kafka_queue_length(r->q) >= r->low)
        return;
    r->last_ms = now;
    r->received = 0;
    pthread_mutex_lock(&r->mu);
    if (!r->busy) {
        r->want = true;
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

void gtp_refill_stop(struct gtp_refill *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    if (r->q)
        rd_kafka_queue_destroy(r->q);
    free(r);
}

void gtp_consumer_pause_all(rd_kafka_t *rk, bool pause)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(rk, &l) == RD_KAFKA_RESP_ERR_NO_ERROR && l) {
        if (pause)
            rd_kafka_pause_partitions(rk, l);
        else
            rd_kafka_resume_partitions(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
    }
}

int gtp_dlq_send(struct gtp_producer *dlq, const char *dlq_topic, const rd_kafka_message_t *rkm,
                 const char *reason, const char *detail, char *errstr, size_t errstr_size)
{
    char part[16], off[24];
    const char *src = rd_kafka_topic_name(rkm->rkt);
    struct gtp_kafka_header h[5] = {
        {"gtp.error.reason", reason, strlen(reason)},
        {"gtp.error.detail", detail, strlen(detail)},
        {"gtp.source.topic", src, strlen(src)},
        {"gtp.source.partition", part, 0},
        {"gtp.source.offset", off, 0},
    };
    int err;

    h[3].len = (size_t)snprintf(part, sizeof(part), "%d", (int)rkm->partition);
    h[4].len = (size_t)snprintf(off, sizeof(off), "%" PRId64, rkm->offset);
    for (;;) {
        err = gtp_producer_send(dlq, dlq_topic, -1, rkm->key, rkm->key_len, rkm->payload, rkm->len,
                                h, 5, errstr, errstr_size);
        if (!err || gtp_producer_fatal(dlq, NULL, 0) || gtp_sig_stop)
            return err;
        /* Without the dead letter the record would be lost: keep trying. */
        gtp_log(GTP_LOG_WARN, "dlq", "produce failed, retrying: %s", errstr);
        gtp_producer_poll(dlq, 100);
    }
}

int gtp_dlq_durable(struct gtp_producer *dlq, uint64_t *failed_seen, char *errstr,
                    size_t errstr_size)
{
    struct gtp_producer_stats after;
    while (gtp_producer_flush(dlq, 1000, errstr, errstr_size)) {
        gtp_log(GTP_LOG_WARN, "dlq", "waiting for dead letters: %s", errstr);
        if (gtp_producer_fatal(dlq, errstr, errstr_size) || gtp_sig_stop)
            return GTP_ERR_KAFKA;
    }
    gtp_producer_stats(dlq, &after);
    if (after.failed != *failed_seen) {
        gtp_errf(errstr, errstr_size, "%" PRIu64 " dead letters failed",
                 after.failed - *failed_seen);
        *failed_seen = after.failed;
        return GTP_ERR_KAFKA;
    }
    return 0;
}
