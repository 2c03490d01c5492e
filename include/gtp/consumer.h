/* Kafka consumer pieces shared by the processor and the archiver: a group
 * consumer with the settings exactly-once needs (cooperative-sticky
 * assignment, offsets stored only by us, positions restored from our own
 * store), seeking, pausing, and dead letters with SPEC §3's headers. */
#ifndef GTP_CONSUMER_H
#define GTP_CONSUMER_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "gtp/cfg.h"
#include "gtp/kafka.h"

typedef void (*gtp_rebalance_fn)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t *parts, void *opaque);

/* New high-level consumer in group `group` with our defaults
 * (partition.assignment.strategy=cooperative-sticky, enable.auto.offset.store=
 * false, enable.auto.commit=true, auto.offset.reset=earliest, an 8 MiB
 * fetch queue and 8 MiB fetches per partition) and then props (-X, may be NULL) applied last so
 * they win. The rebalance callback gets opaque. Returns a new handle (rd_kafka_destroy) or NULL
 * with errstr. */
rd_kafka_t *gtp_consumer_new(const char *brokers, const char *group, const struct gtp_kvlist *props,
                             gtp_rebalance_fn rebalance, void *opaque, char *errstr,
                             size_t errstr_size);

/* Move partition p of topic to offset (< 0: the beginning). Logs failures. */
void gtp_consumer_seek(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t offset);

/* Store offset (the next to read) for Kafka's own commit, after our output
 * is durable: it keeps consumer-lag tools right; recovery reads our store. */
void gtp_consumer_store_offset(rd_kafka_t *rk, const char *topic, int32_t partition,
                               int64_t offset);

/* Pause or resume every assigned partition (stop intake while an output is
 * down, keep polling so the group membership stays alive). */
void gtp_consumer_pause_all(rd_kafka_t *rk, bool pause);

/* Produce a dead letter for rkm: the original key and value byte for byte
 * plus headers gtp.error.reason, gtp.error.detail, gtp.source.topic,
 * gtp.source.partition, gtp.source.offset. Retries while the local queue is
 * full; returns 0, or a negative gtp_err when the producer is fatally broken
 * or a stop was requested (the record must then not be committed). */
int gtp_dlq_send(struct gtp_producer *dlq, const char *dlq_topic, const rd_kafka_message_t *rkm,
                 const char *reason, const char *detail, char *errstr, size_t errstr_size);

/* Wait until every dead letter queued so far is acknowledged (call before
 * storing the offsets that skip them). *failed_seen is the producer's failure
 * count at the last durable point (start at 0); any failure since then means
 * a dead letter may be lost. Returns 0, or GTP_ERR_KAFKA when some failed or
 * the producer broke (do not commit; re-consume from the stored offset). */
int gtp_dlq_durable(struct gtp_producer *dlq, uint64_t *failed_seen, char *errstr,
                    size_t errstr_size);

#endif
