/* A batch of polled Kafka messages and the enrichment of each, computed on
 * helper threads while the consuming thread applies the batch before it.
 *
 * Why: validation, parsing and skill matching are most of the processor's
 * CPU time and depend on nothing but the message and the taxonomy, while
 * windows, dedup and counts must see each partition's events in offset
 * order. So the consuming thread polls batch k+1 and applies batch k (in
 * order) while the helpers enrich batch k+1: a two-stage pipeline whose
 * results are exactly those of doing everything on one thread.
 *
 * Ownership: a batch owns its messages (destroyed by the enrichment when
 * accepted, else by batch_clear) and the bytes its items point to. One batch
 * is enriched at a time. */
#ifndef GTP_PROCESSOR_BATCH_H
#define GTP_PROCESSOR_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "gtp/buf.h"
#include "gtp/event.h"
#include "gtp/pool.h"
#include "gtp/taxonomy.h"
#include "gtp/uuidtext.h"

/* Largest batch: at full speed about 5 ms of enrichment per batch, so the
 * extra latency is small next to the 250 ms flush interval. */
#define BATCH_MAX 512
/* Most helper threads (--enrich-threads): the core pool's limit (gtp/pool.h). */
#define BATCH_MAX_THREADS GTP_POOL_MAX_HELPERS
/* One text arena per worker: the waiting thread (0) finishes a batch with the helpers. */
#define BATCH_ARENAS (BATCH_MAX_THREADS + 1)

struct batch_item {
    /* owned; given back as soon as an accepted message is enriched (NULL then), so its
     * decompressed fetch batch can go; a rejected one is kept for the dead letter */
    rd_kafka_message_t *rkm;
    int32_t partition;
    int64_t offset;
    uint64_t epoch; /* the partition's state epoch when polled (main.c) */
    /* Enrichment: the fields of struct gtp_event the processor uses. */
    enum gtp_reject reject;
    int64_t posted_us;
    char region[GTP_REGION_CODE_MAX];
    struct gtp_skill_set skills;
    int is_remote; /* 1, 0, -1 absent */
    int level;     /* enum gtp_seniority_level */
    /* the company normalized for the insights (insights_company_put) in the same arena */
    size_t company_off, company_len;
    /* event_id when accepted, the DLQ detail when rejected: bytes in
     * text_arena[arena] (not NUL-terminated; ids may hold NUL) */
    unsigned arena;
    size_t text_off, text_len;
    /* the accepted event_id's uuid bytes, parsed here rather than on the consuming thread
     * (gtp/uuidtext.h) */
    bool id_packed;
    uint8_t id_bin[16];
};

struct batch {
    struct batch_item items[BATCH_MAX];
    size_t n;
    /* one per enriching worker, so they never share a write */
    struct gtp_buf text_arena[BATCH_ARENAS];
};

/* Add a polled message (ownership passes to b). n must be < BATCH_MAX. */
void batch_add(struct batch *b, rd_kafka_message_t *rkm, uint64_t epoch);

/* Destroy the messages and forget the items; keeps the arenas' memory. */
void batch_clear(struct batch *b);

/* Free the arenas (after batch_clear). */
void batch_fini(struct batch *b);

/* The bytes of item i's event_id or detail. */
static inline const char *batch_text(const struct batch *b, size_t i)
{
    return b->text_arena[b->items[i].arena].p + b->items[i].text_off;
}

/* The normalized company of accepted item i (company_len bytes, NUL-terminated). */
static inline const char *batch_company(const struct batch *b, size_t i)
{
    return b->text_arena[b->items[i].arena].p + b->items[i].company_off;
}

struct batch_pool;

/* threads helper threads (1..BATCH_MAX_THREADS; the core pool, gtp/pool.h), or 0 to
 * enrich on the calling thread inside batch_pool_start. NULL with errstr on failure. */
struct batch_pool *batch_pool_new(int threads, char *errstr, size_t errstr_size);

/* Waits for the batch in progress, joins the threads. NULL-safe. */
void batch_pool_free(struct batch_pool *p);

/* Start enriching every item of b against tx (both borrowed until
 * batch_pool_wait returns). At most one batch at a time. */
void batch_pool_start(struct batch_pool *p, struct batch *b, const struct gtp_taxonomy *tx);

/* Enrich what is left of the started batch (if any) on the calling thread too, and block
 * until all of it is done. */
void batch_pool_wait(struct batch_pool *p);

/* Two batches in a pipeline: messages are polled into one (fill) while the pool enriches
 * the other (work), which is then applied while the pool enriches the next. */
struct batch_pipe {
    struct batch_pool *pool; /* borrowed */
    struct batch b[2];
    struct batch *fill; /* polled into */
    struct batch *work; /* being enriched, NULL when none */
};

void batch_pipe_init(struct batch_pipe *bp, struct batch_pool *pool);

/* After a poll round: wait for the batch being enriched, start enriching the one just
 * filled (when it holds anything), and return the enriched one for the caller to apply and
 * batch_clear (it becomes the next fill), or NULL when none. */
struct batch *batch_pipe_turn(struct batch_pipe *bp, const struct gtp_taxonomy *tx);

/* The batch being enriched, finished (apply and batch_clear it), or NULL. */
struct batch *batch_pipe_finish(struct batch_pipe *bp);

/* Give every message back and free both batches (pool first: no thread may hold one). */
void batch_pipe_fini(struct batch_pipe *bp);

#endif
