/* The messages of one poll round, validated and enriched (gtp_event_process) on helper
 * threads and the consuming thread together, before the consuming thread applies them one
 * by one in the order they were polled (main.c).
 *
 * Why: parsing, validation and skill matching were about 55 % of the archiver's instructions
 * per row and depend only on the message and the taxonomy, while dedup windows, buckets and
 * rolls must see each partition's messages in offset order. main.c keeps two rounds: the
 * one just polled is enriched on the helpers (arch_enrich_start) while the consuming thread
 * applies the one before, then finishes what the helpers have not done (arch_enrich_wait).
 * Both are applied completely before any rebalance, drain or taxonomy switch does anything
 * else, and a polled round not yet applied is like messages fetched ahead, so rebalances,
 * rolls and pauses see the same state as with one message per round. Results are exactly
 * those of one thread.
 *
 * Ownership: the batch owns its messages (taken by arch_enrich_add, destroyed by
 * arch_enrich_clear) and the bytes its views point to. Only the thread that owns the batch
 * calls these functions; the pool's helpers run inside arch_enrich_run. */
#ifndef GTP_ARCHIVER_ENRICH_H
#define GTP_ARCHIVER_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "gtp/pool.h"
#include "gtp/buf.h"
#include "gtp/event.h"
#include "gtp/taxonomy.h"

/* Messages per poll round: about 5 ms of work at full speed. */
#define ARCH_ENRICH_MAX 256

/* The strings of a slot (see off/len). */
enum {
    ARCH_F_EVENT_ID,
    ARCH_F_TITLE,
    ARCH_F_COMPANY,
    ARCH_F_JOB_ID,
    ARCH_F_SOURCE,
    ARCH_F_LOCATION,
    ARCH_F_DETAIL,
    ARCH_F_COUNT
};

/* One message and what gtp_event_process made of it. */
struct arch_enrich_slot {
    rd_kafka_message_t *rkm; /* owned */
    uint64_t seeks;          /* its partition's seek count when it was polled */
    enum gtp_reject reject;
    unsigned arena; /* the arena of the thread that processed it */
    /* accepted: the fields a row needs, strings as (offset, len) in that arena, offset
     * SIZE_MAX for an absent one; rejected: detail holds the reason text */
    size_t off[ARCH_F_COUNT], len[ARCH_F_COUNT];
    int64_t posted_us;
    int is_remote;
    enum gtp_seniority_level level;
    char region[GTP_REGION_CODE_MAX];
    struct gtp_skill_set skills;
};

struct arch_enrich {
    struct arch_enrich_slot slot[ARCH_ENRICH_MAX];
    size_t n;
    struct gtp_pool *pool; /* borrowed, NULL: all on the calling thread */
    /* per worker of the pool: its parser state (its region memo stays warm) and the bytes
     * of the slots it processed */
    struct gtp_event ev[GTP_POOL_MAX_HELPERS + 1];
    struct gtp_buf arena[GTP_POOL_MAX_HELPERS + 1];
    const struct gtp_taxonomy *tx; /* of the current round */
};

/* en zeroed by the caller; pool borrowed (may be NULL), must outlive en. */
void arch_enrich_init(struct arch_enrich *en, struct gtp_pool *pool);

/* Destroy messages still held, free the parsers and arenas. */
void arch_enrich_fini(struct arch_enrich *en);

/* Take rkm into the round (n < ARCH_ENRICH_MAX), polled when its partition's seek count
 * (gtp_daemon_part.seeks) was seeks. */
void arch_enrich_add(struct arch_enrich *en, rd_kafka_message_t *rkm, uint64_t seeks);

/* Process every message of the round against tx (borrowed for the call); ref time is the
 * message's timestamp, or the wall clock when it has none, as one thread would do. */
void arch_enrich_run(struct arch_enrich *en, const struct gtp_taxonomy *tx);

/* The same in two steps: begun on the pool's helpers (en and tx borrowed until
 * arch_enrich_wait), while the caller does other work that uses the pool for nothing else
 * or only through gtp_pool_run (which finishes this job first); then finished with the
 * caller's help. Without a pool, all of it runs in arch_enrich_wait. */
void arch_enrich_start(struct arch_enrich *en, const struct gtp_taxonomy *tx);
void arch_enrich_wait(struct arch_enrich *en);

/* Slot i as a view: an event whose strings point into the arenas (valid until
 * arch_enrich_clear; ev is not to be parsed into or finalised). */
void arch_enrich_view(const struct arch_enrich *en, size_t i, struct gtp_event *ev);

/* Destroy the round's messages and forget them (the arenas keep their memory). */
void arch_enrich_clear(struct arch_enrich *en);

#endif
