/* Kafka consumer pieces shared by the processor and the archiver: a group
 * consumer with the settings exactly-once needs (cooperative-sticky
 * assignment, offsets stored only by us, positions restored from our own
 * store), seeking, pausing, and dead letters with the headers of docs/kafka.md. */
#ifndef GTP_CONSUMER_H
#define GTP_CONSUMER_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "gtp/cfg.h"
#include "gtp/kafka.h"

typedef void (*gtp_rebalance_fn)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t *parts, void *opaque);

/* glibc's mmap threshold a consumer fixes unless its caller asks for another: fetch responses
 * and decompressed producer batches of 256 KiB and more are mapped, and unmapped when freed. */
#define GTP_CONSUMER_MMAP_THRESHOLD (256 * 1024)

/* New high-level consumer in group `group` with our defaults
 * (partition.assignment.strategy=cooperative-sticky, enable.auto.offset.store=
 * false, enable.auto.commit=true, auto.offset.reset=earliest, a 2 MiB
 * fetch queue and 2 MiB fetches per partition) and then props (-X, may be NULL) applied last so
 * they win. Also fixes glibc's mmap threshold for the whole process at mmap_threshold bytes (0:
 * GTP_CONSUMER_MMAP_THRESHOLD): below it freed fetch buffers stay in the heap for reuse, above it
 * they go back to the system and are faulted in afresh. The rebalance callback gets opaque.
 * Returns a new handle (rd_kafka_destroy) or NULL with errstr. */
rd_kafka_t *gtp_consumer_new(const char *brokers, const char *group, const struct gtp_kvlist *props,
                             size_t mmap_threshold, gtp_rebalance_fn rebalance, void *opaque,
                             char *errstr, size_t errstr_size);

/* Take or give back partitions in a rebalance callback with the call that
 * matches the group's protocol: incremental for cooperative-sticky (the
 * default), the full assignment for an eager assignor a user chose with
 * -X partition.assignment.strategy=range|roundrobin. Returns NULL or a new
 * error (rd_kafka_error_destroy). */
rd_kafka_error_t *gtp_consumer_assign(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts);
rd_kafka_error_t *gtp_consumer_unassign(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts);

/* Leave the group (the revoke callback runs inside, as for any rebalance) and
 * free rk (taken; NULL is fine). Every message must have been given back.
 *
 * librdkafka 2.0.2 (Debian 12) aborts in rd_kafka_destroy when a
 * cooperative-sticky consumer has joined its group but never completed a
 * SyncGroup: its assignor state is still NULL and the destroy asserts it is
 * not (librdkafka issue 4312, fixed in 2.3.0). That is the state of a daemon
 * stopped while the group waits for crashed members' sessions to expire. A
 * consumer whose rebalance callback never received an assignment is therefore
 * closed but not destroyed: it has left the group, and the process, which is
 * exiting, reclaims the rest. Any other consumer is destroyed as usual. Returns
 * true when rk was destroyed. See docs/kafka.md. */
bool gtp_consumer_close(rd_kafka_t *rk);

/* Move partition p of topic to offset (< 0: the beginning). Logs failures. */
void gtp_consumer_seek(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t offset);

/* A polled message that carries an error instead of data: logs it (the end
 * of a partition is not one) and returns true when it is fatal (the consumer
 * is unusable; the daemon exits). rkm stays the caller's. */
bool gtp_consumer_failed(rd_kafka_t *rk, const rd_kafka_message_t *rkm);

/* Store offset (the next to read) for Kafka's own commit, after our output
 * is durable: it keeps consumer-lag tools right; recovery reads our store. */
void gtp_consumer_store_offset(rd_kafka_t *rk, const char *topic, int32_t partition,
                               int64_t offset);

/* Keeps a catching-up consumer fed. librdkafka 2.0 stops fetching a partition
 * once the consumer queue holds queued.max.messages.kbytes and decides again
 * only when the leader's broker thread wakes up, which, with nothing else to
 * do, is a second later: a consumer that drains the queue in half a second
 * then idles for the other half (measured: ~47k events/s against ~100k/s of
 * processing). A refill thread asks an assigned partition's leader for its
 * offsets when the main loop reports the queue running low; that request wakes
 * the broker thread, which re-decides fetching at once. The request runs on
 * the refill thread because a broker answers it only after any fetch long
 * poll in flight on the same connection (up to fetch.wait.max.ms). */
struct gtp_refill;

/* Defaults for both daemons: wake the fetchers below this many queued
 * messages (about 0.1 s of work at 100k events/s), at most every 5 ms and
 * once 1,000 messages were consumed since the last wake-up. The queue (2 MiB,
 * about 4,000 postings) lasts about 13 ms at 300k events/s, and waking every
 * 20 ms left the consumer idle for part of each cycle (measured on the
 * 1M-event backlog, README.md "Keeping the consumer fed"). A fetcher stops
 * only on a full queue, and a full queue is more than 1,000 messages, so the
 * count wakes it in time in a backlog and keeps a live stream (a few messages
 * per poll) from sending a request to the broker every 5 ms. */
#define GTP_REFILL_LOW         10000
#define GTP_REFILL_EVERY       1000
#define GTP_REFILL_INTERVAL_MS 5

/* Start the refill thread for rk: wake-ups when fewer than `low` messages
 * are queued, once `every` messages were consumed since the last one, at most
 * one per interval_ms. Returns a new handle (gtp_refill_stop) or NULL with
 * errstr. */
struct gtp_refill *gtp_refill_start(rd_kafka_t *rk, size_t low, size_t every, int64_t interval_ms,
                                    char *errstr, size_t errstr_size);

/* Main loop, after every poll round: n messages it returned, now_ms is
 * gtp_mono_ms(). Cheap; idle consumers (fewer than `every` messages since the
 * last wake-up) send nothing, their fetches are long polls already. */
void gtp_refill_check(struct gtp_refill *r, size_t n, int64_t now_ms);

/* Join the thread and free r (NULL is fine). Call before closing rk. */
void gtp_refill_stop(struct gtp_refill *r);

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
