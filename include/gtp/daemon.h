/* The skeleton of a consumer daemon (gtp-processor, gtp-archiver): one Kafka group consumer
 * subscribed to the topic, the table of partitions it holds, rebalances dispatched to the
 * program's hooks and applied with the group's protocol (gtp_consumer_assign), intake paused
 * while the output is down, consumer lag, the taxonomy reloaded on SIGHUP, /metrics and
 * /healthz, the poll loop, a bounded drain on a clean stop and the teardown in the order
 * docs/kafka.md requires. What a program does with messages, and how its output is made
 * durable and fenced (docs/redis.md, docs/archive.md), lives in its hooks.
 *
 * Life cycle: gtp_daemon_init (taxonomy, metrics), the program registers its metrics on
 * d->metrics, gtp_daemon_connect (dead-letter producer, consumer), the program waits for its
 * own output if it must, gtp_daemon_start (Kafka reachable, metrics server, subscribe),
 * gtp_daemon_run, gtp_daemon_fini. Single-threaded: every hook runs on the thread that
 * calls gtp_daemon_run (rebalance hooks inside its polls, or inside gtp_daemon_fini's close). */
#ifndef GTP_DAEMON_H
#define GTP_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "gtp/cfg.h"
#include "gtp/event.h"
#include "gtp/kafka.h"
#include "gtp/metrics.h"
#include "gtp/taxonomy.h"
#include "gtp/window.h"

/* Partitions above this are refused (never assigned): the table is a flat array. */
#define GTP_DAEMON_MAX_PARTS 4096

/* The part of a partition's state the skeleton reads; a program's partition struct starts
 * with it. */
struct gtp_daemon_part {
    bool assigned; /* ours now; the program sets and clears it */
    int64_t next;  /* next offset to process, < 0: from the beginning (for the lag) */
    /* gtp_daemon_seek calls on it: a message polled while this was lower is stale (Kafka
     * delivers it again from the offset sought), for programs that hold polled messages */
    uint64_t seeks;
};

/* What a program plugs in. opaque is gtp_daemon_cfg.opaque. Only part_new is required. */
struct gtp_daemon_hooks {
    /* A new, zeroed partition slot whose first member is a struct gtp_daemon_part: new
     * memory, freed with part_free (or free() when part_free is NULL). */
    struct gtp_daemon_part *(*part_new)(void *opaque, int32_t partition);
    void (*part_free)(void *opaque, struct gtp_daemon_part *pt);
    /* Rebalance, partitions given to us: load their state from the program's store and set
     * each elems[i].offset to the position to resume from. The skeleton then assigns them
     * and pauses them when intake is paused. parts is borrowed. */
    void (*on_assign)(void *opaque, rd_kafka_topic_partition_list_t *parts);
    /* Rebalance, partitions taken away (lost: already owned by someone else, nothing may be
     * committed for them). Make durable what may be, forget them. The skeleton logs each one
     * and then gives them up. */
    void (*on_revoke)(void *opaque, rd_kafka_topic_partition_list_t *parts, bool lost);
    /* Before each poll round: retries, reconnects, pause decisions. Returns the first poll's
     * timeout in ms. NULL: 50 ms. */
    int (*before_poll)(void *opaque);
    /* One polled message (taken: the hook destroys it or keeps it until it does), called
     * right after the poll that returned it, so a rebalance inside that poll has run. */
    void (*on_message)(void *opaque, rd_kafka_message_t *rkm);
    /* After each poll round (n messages handed to on_message) and the dead-letter producer's
     * poll: apply, flush, roll. now_ms is gtp_mono_ms() read once after the polls. */
    void (*after_poll)(void *opaque, size_t n, int64_t now_ms);
    /* About once a second, after the lag gauge: the program's own gauges. */
    void (*on_gauges)(void *opaque);
    /* SIGHUP loaded a new taxonomy, about to replace d->tx: finish what depends on the old
     * one (skill indexes held in memory). NULL: switch at once. */
    void (*on_reload)(void *opaque);
    /* After a clean stop of the loop: make everything pending durable. Returns true when
     * done; called again every drain_retry_ms for up to 10 s while it returns false. */
    bool (*on_drain)(void *opaque);
};

struct gtp_daemon_cfg {
    const char *brokers, *topic, *group, *taxonomy; /* borrowed, must outlive the daemon */
    const struct gtp_kvlist *kprops;                /* -X properties, borrowed, may be NULL */
    long long startup_timeout_s;                    /* Kafka must answer within this */
    long long metrics_port;                         /* 0: no metrics server */
    const char
        *metrics_prefix;   /* "processor": metrics <prefix>_consumer_lag, <prefix>_dlq_failures */
    const char *unhealthy; /* /healthz detail while gtp_daemon_set_healthy(d, false) */
    size_t batch_max;      /* messages per poll round (>= 1) */
    size_t mmap_threshold; /* glibc's for the process (gtp_consumer_new); 0: the consumer's */
    int drain_retry_ms;    /* pause between on_drain calls */
    const struct gtp_daemon_hooks *hooks;
    void *opaque;
};

/* What became of the messages a daemon took (docs/metrics.md): <prefix>_messages,
 * <prefix>_events{outcome=valid|counted|rejected}, late_events, duplicate_events and
 * rejected_events{reason}; registered by gtp_daemon_init, counted by gtp_daemon_count. */
struct gtp_daemon_outcomes {
    struct gtp_metric *messages, *valid, *counted, *rejected, *late, *dup;
    struct gtp_metric *rejected_by[GTP_REJECT_COUNT];
};

/* Embedded in the program's struct; fields above the line are for the program to read. */
struct gtp_daemon {
    struct gtp_daemon_cfg cfg;
    rd_kafka_t *rk;              /* the consumer (after gtp_daemon_connect) */
    struct gtp_producer *dlq;    /* dead letters (after gtp_daemon_connect) */
    struct gtp_taxonomy *tx;     /* the current taxonomy; replaced on SIGHUP */
    struct gtp_metrics *metrics; /* register the program's metrics here */
    bool paused;                 /* intake paused (gtp_daemon_pause) */
    /* The partitions seen, by number (NULL: never seen); see gtp_daemon_part. */
    struct gtp_daemon_part *parts[GTP_DAEMON_MAX_PARTS];
    /* ---- */
    struct gtp_refill *refill;
    struct gtp_metrics_server *msrv;
    rd_kafka_topic_partition_list_t *sub;
    rd_kafka_topic_t *rkt; /* held so the topic's partitions are known before the group join */
    struct gtp_metric *m_lag, *m_dlq_failed;
    struct gtp_daemon_outcomes out;
    uint64_t dlq_failed_seen;
    volatile int healthy;
};

/* Set up d (zeroed by the caller) from cfg (copied; its strings and hooks borrowed): the
 * metrics registry with the lag and dead-letter failure metrics, and the taxonomy. Returns 0
 * or GTP_ERR_CONFIG (logged). Call gtp_daemon_fini whatever it returns. */
int gtp_daemon_init(struct gtp_daemon *d, const struct gtp_daemon_cfg *cfg);

/* Count one message the daemon took: rejected for reason r, or (r == GTP_REJECT_NONE) valid
 * with window verdict v. */
void gtp_daemon_count(struct gtp_daemon *d, enum gtp_reject r, enum gtp_verdict v);

/* Create the dead-letter producer, the group consumer (its rebalances dispatched to the
 * hooks) and the refill thread. Returns 0, GTP_ERR_CONFIG or GTP_ERR_INTERNAL (logged). */
int gtp_daemon_connect(struct gtp_daemon *d);

/* Wait up to startup_timeout_s for Kafka (GTP_ERR_UNAVAILABLE), start the metrics server
 * (GTP_ERR_CONFIG) and subscribe to the topic (GTP_ERR_KAFKA). Errors are logged. */
int gtp_daemon_start(struct gtp_daemon *d);

/* The loop until SIGTERM/SIGINT or a fatal error: taxonomy reload on SIGHUP, before_poll,
 * up to batch_max polls (on_message each), the dead letters' delivery reports, after_poll,
 * the gauges every second; then, after a clean stop, on_drain. Returns the exit code:
 * GTP_EXIT_OK, or GTP_EXIT_SOFTWARE when the consumer or the dead-letter producer failed. */
int gtp_daemon_run(struct gtp_daemon *d);

/* The slot of partition p, created (part_new) on first use; NULL when p is out of range.
 * Needs only cfg.hooks->part_new, so a unit test may use it on a zeroed daemon. */
struct gtp_daemon_part *gtp_daemon_part(struct gtp_daemon *d, int32_t partition);

/* Messages of partition p after position pos (< 0: the beginning) up to its end as
 * librdkafka last fetched it (its cached high watermark, a local lookup), in *lag. 0, or -1
 * when that end is unknown (not fetched yet). */
int gtp_daemon_part_lag(struct gtp_daemon *d, int32_t p, int64_t pos, int64_t *lag);

/* Pause or resume intake from every assigned partition (the consumer keeps polling, so the
 * group membership and rebalances stay alive). No-op when already so. */
void gtp_daemon_pause(struct gtp_daemon *d, bool pause);

/* Consume partition p of the topic from offset (< 0: the beginning), as after a reload
 * from the program's store; counted in p's slot (seeks). */
void gtp_daemon_seek(struct gtp_daemon *d, int32_t partition, int64_t offset);

/* Stop fetching partition p alone (it was fenced: until a rebalance says what we own). */
void gtp_daemon_pause_one(struct gtp_daemon *d, int32_t partition);

/* Store offset (the next to read) of p for Kafka's commit once the output is durable: it
 * keeps lag tools right; recovery reads the program's store. */
void gtp_daemon_store_offset(struct gtp_daemon *d, int32_t partition, int64_t offset);

/* Wait until every dead letter queued so far is acknowledged (before committing offsets
 * that skip them). On failure logs "<err>; re-consuming from the <position> offsets",
 * counts it and returns false: the caller restarts from its stored positions. */
bool gtp_daemon_dlq_durable(struct gtp_daemon *d, const char *position);

/* What /healthz answers: 200, or 503 with cfg.unhealthy. Starts unhealthy. */
void gtp_daemon_set_healthy(struct gtp_daemon *d, bool healthy);
bool gtp_daemon_healthy(const struct gtp_daemon *d);

/* Stop: unsubscribe list freed, refill thread joined, consumer closed (the revoke hook runs
 * inside: everything it uses must still be alive; every message given back before), dead
 * letters flushed (10 s), metrics server stopped, partitions (part_free), metrics and
 * taxonomy freed. Safe on a daemon that failed half-way through its set-up. */
void gtp_daemon_fini(struct gtp_daemon *d);

#endif
