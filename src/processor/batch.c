/* Batches of polled messages and the helper threads that enrich them
 * (see batch.h for why). */
#include "batch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "insights.h"
#include "gtp/err.h"
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
    for (int k = 0; k < BATCH_MAX_THREADS; k++)
        gtp_buf_reset(&b->text_arena[k]);
}

void batch_fini(struct batch *b)
{
    for (int k = 0; k < BATCH_MAX_THREADS; k++) {
        gtp_buf_fini(&b->text_arena[k]);
    }
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

struct worker {
    struct batch_pool *pool;
    unsigned index; /* its arena in every batch */
    pthread_t thread;
    bool started;
    struct gtp_event ev;
};

struct batch_pool {
    int nthreads;
    struct worker workers[BATCH_MAX_THREADS];
    struct gtp_event inline_ev; /* nthreads == 0 */

    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    uint64_t gen;  /* bumped per started batch */
    int active;    /* threads still on the current batch */
    bool stopping; /* under mu */
    bool busy;     /* a batch was started and not yet waited for (owner thread only) */

    /* the current batch: written under mu before gen is bumped, read-only meanwhile */
    struct batch *b;
    const struct gtp_taxonomy *tx;
    size_t next; /* next unclaimed item, atomic */
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct batch_pool *p = w->pool;
    uint64_t seen = 0;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stopping && p->gen == seen)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->stopping)
            break;
        seen = p->gen;
        struct batch *b = p->b;
        const struct gtp_taxonomy *tx = p->tx;
        pthread_mutex_unlock(&p->mu);

        for (;;) {
            size_t i = __atomic_fetch_add(&p->next, CHUNK, __ATOMIC_RELAXED);
            if (i >= b->n)
                break;
            size_t end = i + CHUNK < b->n ? i + CHUNK : b->n;
            for (; i < end; i++)
                enrich_one(b, i, w->index, &w->ev, tx);
        }

        pthread_mutex_lock(&p->mu);
        if (--p->active == 0)
            pthread_cond_signal(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct batch_pool *batch_pool_new(int threads, char *errstr, size_t errstr_size)
{
    struct batch_pool *p;
    int e;
    if (threads < 0 || threads > BATCH_MAX_THREADS) {
        gtp_errf(errstr, errstr_size, "enrich threads: %d is not in 0..%d", threads,
                 BATCH_MAX_THREADS);
        return NULL;
    }
    p = gtp_xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    gtp_event_init(&p->inline_ev);
    for (int k = 0; k < threads; k++) {
        struct worker *w = &p->workers[k];
        w->pool = p;
        w->index = (unsigned)k;
        gtp_event_init(&w->ev);
        e = pthread_create(&w->thread, NULL, worker_main, w);
        if (e) {
            gtp_errf(errstr, errstr_size, "enrich thread: %s", strerror(e));
            batch_pool_free(p);
            return NULL;
        }
        w->started = true;
        p->nthreads = k + 1;
    }
    return p;
}

void batch_pool_free(struct batch_pool *p)
{
    if (!p)
        return;
    batch_pool_wait(p);
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (int k = 0; k < BATCH_MAX_THREADS; k++) {
        if (p->workers[k].started)
            pthread_join(p->workers[k].thread, NULL);
        if (p->workers[k].pool)
            gtp_event_fini(&p->workers[k].ev);
    }
    gtp_event_fini(&p->inline_ev);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void batch_pool_start(struct batch_pool *p, struct batch *b, const struct gtp_taxonomy *tx)
{
    batch_pool_wait(p);
    if (p->nthreads == 0) {
        for (size_t i = 0; i < b->n; i++)
            enrich_one(b, i, 0, &p->inline_ev, tx);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->b = b;
    p->tx = tx;
    __atomic_store_n(&p->next, 0, __ATOMIC_RELAXED);
    p->active = p->nthreads;
    p->gen++;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    p->busy = true;
}

void batch_pool_wait(struct batch_pool *p)
{
    if (!p->busy)
        return;
    pthread_mutex_lock(&p->mu);
    while (p->active > 0)
        pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    p->busy = false;
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
