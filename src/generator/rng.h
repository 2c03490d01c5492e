/* The generator's seeded PRNG (xoshiro256**, seeded through splitmix64): the
 * same seed gives the same stream on every run, which is what makes
 * `--seed S` reproduce an event stream byte for byte. */
#ifndef GEN_RNG_H
#define GEN_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
    uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);

static inline uint64_t rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; the tiny bias of skipping
 * the rejection step is irrelevant for synthetic data and keeps it branch-free). */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform double in [0, 1). */
static inline double rng_double(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* True with probability p. */
static inline int rng_chance(struct rng *r, double p)
{
    return rng_double(r) < p;
}

/* Exponentially distributed with mean 1. */
double rng_exp(struct rng *r);

/* Index drawn from cumulative weights cum[0..n) (cum[n-1] = total). */
size_t rng_pick_cum(struct rng *r, const double *cum, size_t n);

/* Walker/Vose alias table: weighted draws in O(1) with one PRNG call. */
struct rng_alias {
    uint32_t n;
    double *prob;
    uint32_t *alias;
};

/* (Re)build from weights w[0..n) (n > 0, weights >= 0, not all 0). Reuses the
 * arrays when n is unchanged. */
void rng_alias_build(struct rng_alias *a, const double *w, size_t n);
void rng_alias_fini(struct rng_alias *a);

static inline size_t rng_alias_pick(struct rng *r, const struct rng_alias *a)
{
    uint64_t x = rng_next(r);
    uint32_t i = (uint32_t)(((x >> 32) * (uint64_t)a->n) >> 32);
    double u = (double)(uint32_t)x * 0x1.0p-32;
    return u < a->prob[i] ? i : a->alias[i];
}

#endif
