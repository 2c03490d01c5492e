/* Batches of polled messages and the helper threads that enrich them
 * (see batch.h for why). */
#include "batch.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "insights.h"
#include "gtp/err.h"
#include "gtp/pool.h"
#include "gtp/util.h"

/* Items a thread takes at a time: small enough to share a 512-item batch
 * evenly, large enough that the shared counter is not contended. */
#define CHUNK 16

void batch_add(struct batch *b, rd_kafka_message_t *rkm, uint64_t epoch)
{
    struct batch_item *it = &b->items[b->n++];
    it->rkm = rkm;
    it->partition = rkm->partition;
    it->offset = rkm->offset;
    it->epoch = epoch;
    it->reject = GTP_REJECT_NONE;
    it->text_len = 0;
    it->company_len = 0;
}

void batch_clear(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].rkm)
            rd_kafka_message_destroy(b->items[i].rkm);
    b->n = 0;
    for (int k = 0; k < BATCH_ARENAS; k++)
        gtp_buf_reset(&b->text_arena[k]);
}

void batch_fini(struct batch *b)
{
    for (int k = 0; k < BATCH_ARENAS; k++)
        gtp_buf_fini(&b->text_arena[k]);
}

/* Copy s[0..len) and a NUL into the arena; returns its offset. */
static size_t arena_put(struct gtp_buf *a, const char *s, size_t len)
{
    size_t off = a->len;
    gtp_buf_put(a, s, len);
    gtp_buf_putc(a, '\0'); /* each text is a C string too */
    return off;
}

static void enrich_one(struct batch *b, size_t i, unsigned k, struct gtp_event *ev,
                       const struct gtp_taxonomy *tx)
{
    struct batch_item *it = &b->items[i];
    rd_kafka_timestamp_type_t tstype;
    int64_t ref_ms = rd_kafka_message_timestamp(it->rkm, &tstype);
    if (ref_ms < 0)
        ref_ms = gtp_wall_us() / 1000;
    it->reject = gtp_event_process(ev, tx, it->rkm->payload, it->rkm->len, ref_ms * 1000);
    it->arena = k;
    if (it->reject == GTP_REJECT_NONE) {
        it->posted_us = ev->posted_us;
        memcpy(it->region, ev->region, sizeof(it->region));
        it->skills = ev->skills;
        it->is_remote = ev->is_remote;
        it->level = (int)ev->level;
        it->text_len = ev->event_id.len;
        it->text_off = arena_put(&b->text_arena[k], ev->event_id.s, ev->event_id.len);
        it->id_packed = gtp_uuidtext_pack(ev->event_id.s, ev->event_id.len, it->id_bin);
        it->company_off = b->text_arena[k].len;
        it->company_len =
            ev->company.s ? insights_company_put(&b->text_arena[k], ev->company.s, ev->company.len)
                          : 0;
        /* Everything the apply needs is copied: each message holds its whole decompressed
         * producer batch (about 1 MB) in librdkafka until the last of them goes, and a
         * batch of ours spans several partitions' (librdkafka's destroy is thread-safe). */
        rd_kafka_message_destroy(it->rkm);
        it->rkm = NULL;
    } else {
        it->text_len = strlen(ev->detail);
        it->text_off = arena_put(&b->text_arena[k], ev->detail, it->text_len);
    }
}

/* ---- the pool ---------------------------------------------------------------------- */

/* The core's helper pool (gtp/pool.h) with the scratch event of each of its workers. */
struct batch_pool {
    struct gtp_pool *pl;
    bool inline_only; /* no helpers: enrich inside batch_pool_start */
    struct gtp_event ev[GTP_POOL_MAX_HELPERS + 1];
    /* the current batch, borrowed until batch_pool_wait */
    struct batch *b;
    const struct gtp_taxonomy *tx;
};

static void enrich_item(void *arg, size_t i, unsigned worker)
{
    struct batch_pool *p = arg;
    enrich_one(p->b, i, worker, &p->ev[worker], p->tx);
}

struct batch_pool *batch_pool_new(int threads, char *errstr, size_t errstr_size)
{
    struct batch_pool *p = gtp_xcalloc(1, sizeof(*p)); /* the pool checks threads */
    for (int k = 0; k <= GTP_POOL_MAX_HELPERS; k++)
        gtp_event_init(&p->ev[k]);
    p->inline_only = threads == 0;
    if (!(p->pl = gtp_pool_new(threads, errstr, errstr_size))) {
        batch_pool_free(p);
        return NULL;
    }
    return p;
}

void batch_pool_free(struct batch_pool *p)
{
    if (!p)
        return;
    gtp_pool_free(p->pl); /* waits for the batch in progress */
    for (int k = 0; k <= GTP_POOL_MAX_HELPERS; k++)
        gtp_event_fini(&p->ev[k]);
    free(p);
}

void batch_pool_start(struct batch_pool *p, struct batch *b, const struct gtp_taxonomy *tx)
{
    gtp_pool_wait(p->pl);
    p->b = b;
    p->tx = tx;
    if (p->inline_only)
        gtp_pool_run(p->pl, b->n, CHUNK, enrich_item, p);
    else
        gtp_pool_start(p->pl, b->n, CHUNK, enrich_item, p);
}

void batch_pool_wait(struct batch_pool *p)
{
    gtp_pool_wait(p->pl);
}

void batch_pipe_init(struct batch_pipe *bp, struct batch_pool *pool)
{
    bp->pool = pool;
    bp->fill = &bp->b[0];
    bp->work = NULL;
}

struct batch *batch_pipe_turn(struct batch_pipe *bp, const struct gtp_taxonomy *tx)
{
    struct batch *done = bp->work;
    if (done)
        batch_pool_wait(bp->pool);
    if (bp->fill->n) {
        batch_pool_start(bp->pool, bp->fill, tx);
        bp->work = bp->fill;
        bp->fill = done ? done : &bp->b[bp->work == &bp->b[0] ? 1 : 0];
        return done;
    }
    bp->work = NULL;
    return done;
}

struct batch *batch_pipe_finish(struct batch_pipe *bp)
{
    struct batch *done = bp->work;
    if (done)
        batch_pool_wait(bp->pool);
    bp->work = NULL;
    return done;
}

void batch_pipe_fini(struct batch_pipe *bp)
{
    for (int k = 0; k < 2; k++) {
        batch_clear(&bp->b[k]);
        batch_fini(&bp->b[k]);
    }
}
