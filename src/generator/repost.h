/* Reposts: big employers re-post open jobs days later, as real boards do (the
 * same job_id and payload, a new event_id and timestamp; docs/events.md). A
 * posting is a pure function of the content PRNG state and its simulated time,
 * so the pool keeps those (48 bytes a job) and regenerates the text on demand
 * with a model of its own, whose caches never disturb the live one. */
#ifndef GEN_REPOST_H
#define GEN_REPOST_H

#include <stdint.h>

#include "market.h"
#include "model.h"
#include "rng.h"

struct repost_pool;

/* New pool for a stream of about density events per simulated second.
 * mk is borrowed. Never NULL. */
struct repost_pool *repost_new(const struct market *mk, uint64_t seed, int64_t start_us,
                               double density);
void repost_free(struct repost_pool *rp);

/* Offer the posting just made from PRNG state `before` at sim_us with job id
 * jid; kept now and then if its employer ranks within the market's MAX-RANK. */
void repost_offer(struct repost_pool *rp, const struct rng *before, int64_t sim_us, uint64_t jid,
                  const struct posting *p);

/* With the market's probability, an open job old enough to re-post now: the
 * regenerated posting (borrowed until the next call) and its job id in *jid;
 * else NULL. */
const struct posting *repost_take(struct repost_pool *rp, int64_t sim_us, uint64_t *jid);

#endif
