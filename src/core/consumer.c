/* Group consumer set-up, seeking, pausing and dead letters for the daemons
 * that consume job.postings.v1. */
#include "gtp/consumer.h"
#include "gtp/err.h"
#include "gtp/log.h"
#include "gtp/sig.h"
#include "gtp/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

rd_kafka_t *gtp_consumer_new(const char *brokers, const char *group, const struct gtp_kvlist *props,
                             gtp_rebalance_fn rebalance, void *opaque, char *errstr,
                             size_t errstr_size)
{
    static const char *defaults[][2] = {
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"enable.auto.offset.store", "false"},
        {"enable.auto.commit", "true"},
        {"auto.offset.reset", "earliest"},
        /* Per partition: a bounded queue keeps the memory in budget (6 x 8
         * MiB); big fetches refill it in one round trip (librdkafka 2.0 idles
         * up to a second once a full queue stops the fetcher). */
        {"queued.max.messages.kbytes", "8192"},
        {"max.partition.fetch.bytes", "8388608"},
        {"fetch.wait.max.ms", "50"},
        {"session.timeout.ms", "10000"},
    };
    struct gtp_kvlist all = {0};
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_t *rk = NULL;

    gtp_kvlist_add(&all, "group.id", group);
    for (size_t i = 0; i < GTP_ARRAY_LEN(defaults); i++)
        gtp_kvlist_add(&all, defaults[i][0], defaults[i][1]);
    for (size_t i = 0; props && i < props->n; i++)
        gtp_kvlist_add(&all, props->items[i].key, props->items[i].value);
    conf = gtp_kafka_conf_new(brokers, &all, errstr, errstr_size);
    if (!conf)
        goto out;
    if (rebalance)
        rd_kafka_conf_set_rebalance_cb(conf, rebalance);
    rd_kafka_conf_set_opaque(conf, opaque);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    rd_kafka_poll_set_consumer(rk);
out:
    gtp_cfg_free(NULL, NULL, &all);
    return rk;
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

void gtp_consumer_store_offset(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offset;
    rd_kafka_offsets_store(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
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
