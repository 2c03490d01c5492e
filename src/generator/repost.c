/* The repost pool (repost.h). Jobs enter at a steady simulated-time pace, so
 * the pool spans a few MIN-DAYS whatever the event rate; each job is re-posted
 * at most MAX_USES times. */
#include "repost.h"

#include <stdlib.h>

#include "gtp/util.h"

#define POOL     65536
#define MAX_USES 3

struct entry {
    struct rng state; /* the content PRNG before the posting was drawn */
    int64_t sim_us;
    uint64_t jid;
    uint32_t uses;
};

struct repost_pool {
    const struct market *mk;
    struct model *model;
    struct rng rng;
    struct posting post;
    struct entry *e;
    size_t n, pos;
    int64_t next_offer_us, interval_us, min_age_us;
};

struct repost_pool *repost_new(const struct market *mk, uint64_t seed, int64_t start_us,
                               double density)
{
    struct repost_pool *rp = gtp_xcalloc(1, sizeof(*rp));
    rp->mk = mk;
    rp->model = model_new(mk, seed, start_us);
    rng_seed(&rp->rng, seed ^ 0x7265706f7374ULL); /* "repost" */
    posting_init(&rp->post);
    rp->e = gtp_xmalloc(POOL * sizeof(*rp->e));
    rp->min_age_us = (int64_t)(mk->repost_min_days * (double)MARKET_DAY_US);
    /* supply about what the reposts consume, but let the pool cover at least
     * four MIN-DAYS so old-enough jobs are there at any rate */
    double demand_us = mk->repost_p > 0 && density > 0 ? 1e6 / (density * mk->repost_p) : 1e12;
    double span_us = 4.0 * (double)rp->min_age_us / POOL;
    rp->interval_us = (int64_t)(demand_us > span_us ? demand_us : span_us);
    if (rp->interval_us < 1)
        rp->interval_us = 1;
    rp->next_offer_us = start_us;
    return rp;
}

void repost_free(struct repost_pool *rp)
{
    if (!rp)
        return;
    model_free(rp->model);
    posting_fini(&rp->post);
    free(rp->e);
    free(rp);
}

void repost_offer(struct repost_pool *rp, const struct rng *before, int64_t sim_us, uint64_t jid,
                  const struct posting *p)
{
    if (rp->mk->repost_p <= 0 || sim_us < rp->next_offer_us ||
        (size_t)p->employer >= rp->mk->repost_max_rank)
        return;
    rp->next_offer_us = sim_us + rp->interval_us;
    rp->e[rp->pos] = (struct entry){*before, sim_us, jid, 0};
    rp->pos = (rp->pos + 1) % POOL;
    if (rp->n < POOL)
        rp->n++;
}

const struct posting *repost_take(struct repost_pool *rp, int64_t sim_us, uint64_t *jid)
{
    if (rp->n == 0 || !rng_chance(&rp->rng, rp->mk->repost_p))
        return NULL;
    struct entry *e = &rp->e[rng_below(&rp->rng, (uint32_t)rp->n)];
    if (sim_us - e->sim_us < rp->min_age_us || e->uses >= MAX_USES)
        return NULL;
    e->uses++;
    struct rng r = e->state;
    model_make(rp->model, &r, e->sim_us, &rp->post);
    *jid = e->jid;
    return &rp->post;
}
