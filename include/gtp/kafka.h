/* librdkafka glue shared by every program: configuration from -b/-X (docs/programs.md,
 * docs/kafka.md), librdkafka logs routed to gtp_log, a broker readiness probe, and the
 * idempotent producer wrapper (generator events, processor/archiver DLQ). */
#ifndef GTP_KAFKA_H
#define GTP_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/cfg.h"

/* A new librdkafka configuration for a client of `type` with
 * bootstrap.servers = brokers (NULL: not set), librdkafka's log lines routed to
 * gtp_log (component "kafka"), then the props (-X pairs, config-file kafka.*
 * lines; may be NULL) applied last, in order, so they win over anything set
 * here. A daemon has one -X list for its consumer and its dead-letter producer,
 * so a property that belongs only to the other kind of client (group.id on a
 * producer, acks on a consumer; see gtp_kafka_prop_scope) is left out instead
 * of making librdkafka warn at start-up. Returns a new conf (hand it to
 * rd_kafka_new, which takes it on success, or rd_kafka_conf_destroy it), or
 * NULL with errstr naming the offending property. Property values are never
 * echoed (they may be secrets). */
rd_kafka_conf_t *gtp_kafka_conf_new(rd_kafka_type_t type, const char *brokers,
                                    const struct gtp_kvlist *props, char *errstr,
                                    size_t errstr_size);

/* Which clients the linked librdkafka applies property `key` to: 'C'
 * (consumers only), 'P' (producers only), '*' (both), or 0 when it does not
 * know the name (rd_kafka_conf_set will refuse it). Read once from librdkafka's
 * own property table (rd_kafka_conf_properties_show), so it follows the
 * library's version. Thread-safe. */
char gtp_kafka_prop_scope(const char *key);

/* Wait up to timeout_ms for the cluster to answer a metadata request (retrying
 * with backoff); when topic is not NULL also report whether it exists.
 * Returns 0 (reachable; *topic_exists set when both are non-NULL),
 * GTP_ERR_UNAVAILABLE (no broker answered: exit 69) with errstr set. */
int gtp_kafka_wait_ready(rd_kafka_t *rk, const char *topic, bool *topic_exists, int timeout_ms,
                         char *errstr, size_t errstr_size);

/* One message header (DLQ metadata). name: NUL-terminated; value: len bytes. */
struct gtp_kafka_header {
    const char *name;
    const void *value;
    size_t len;
};

/* ---- producer ----------------------------------------------------------------
 * Idempotent (enable.idempotence=true, acks=all) with throughput defaults
 * (linger.ms=10, batch.num.messages=10000, batch.size=1 MB, compression lz4,
 * message.max.bytes=4 MiB so 1 MiB+ events and their DLQ copies fit, a 500,000
 * message / 512 MiB queue); every default can be overridden with -X. The
 * message timestamp is left to librdkafka (CreateTime = producer wall clock,
 * docs/kafka.md). Delivery reports are counted. Not thread safe: one thread sends,
 * polls and flushes; gtp_producer_stats/gtp_producer_fatal may be called from
 * any thread (atomics). */
struct gtp_producer;

/* New producer, or NULL with errstr set (bad property, librdkafka refused the
 * configuration). brokers and props are borrowed (copied into the conf). */
struct gtp_producer *gtp_producer_new(const char *brokers, const struct gtp_kvlist *props,
                                      char *errstr, size_t errstr_size);

/* Queue one message (copied: the caller's buffers may be reused at once).
 * key: NULL for a null key; headers may be NULL/0. partition: -1 (the
 * partitioner hashes the key, librdkafka's default consistent_random).
 * When the local queue is full, serves delivery reports and retries until it
 * has room, unless gtp_sig_stop is set (then GTP_ERR_UNAVAILABLE) or a fatal
 * error is raised (GTP_ERR_KAFKA). Returns 0 or a negative gtp_err with errstr. */
int gtp_producer_send(struct gtp_producer *p, const char *topic, int32_t partition, const void *key,
                      size_t key_len, const void *value, size_t len,
                      const struct gtp_kafka_header *headers, size_t nheaders, char *errstr,
                      size_t errstr_size);

/* Serve delivery reports and errors, waiting at most timeout_ms for one. */
void gtp_producer_poll(struct gtp_producer *p, int timeout_ms);

/* Wait until every queued message is delivered or failed, at most timeout_ms.
 * Returns 0, or GTP_ERR_KAFKA (timeout: messages still in flight; errstr says
 * how many). */
int gtp_producer_flush(struct gtp_producer *p, int timeout_ms, char *errstr, size_t errstr_size);

struct gtp_producer_stats {
    uint64_t queued;    /* accepted by gtp_producer_send */
    uint64_t delivered; /* acknowledged by the broker (acks=all) */
    uint64_t failed;    /* delivery report with an error */
};
void gtp_producer_stats(const struct gtp_producer *p, struct gtp_producer_stats *out);

/* True once librdkafka raised RD_KAFKA_RESP_ERR__FATAL (the idempotent
 * producer can no longer guarantee ordering/no duplicates): the daemon must
 * stop. The reason is copied into errstr when given. */
bool gtp_producer_fatal(const struct gtp_producer *p, char *errstr, size_t errstr_size);

/* Borrowed librdkafka handle (for metadata and the like). */
rd_kafka_t *gtp_producer_handle(struct gtp_producer *p);

/* Destroy without flushing (flush first for a graceful stop). NULL-safe. */
void gtp_producer_free(struct gtp_producer *p);

#endif
