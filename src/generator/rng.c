/* Seeding and the non-inline draws of the generator's PRNG. */
#include "rng.h"

#include <math.h>
#include <stdlib.h>

#include "gtp/util.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

double rng_exp(struct rng *r)
{
    /* 1 - u is in (0, 1], so the log is finite. */
    return -log(1.0 - rng_double(r));
}

size_t rng_pick_cum(struct rng *r, const double *cum, size_t n)
{
    double x = rng_double(r) * cum[n - 1];
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

void rng_alias_build(struct rng_alias *a, const double *w, size_t n)
{
    if (a->n != n) {
        free(a->prob);
        free(a->alias);
        a->prob = gtp_xmalloc(n * sizeof(double));
        a->alias = gtp_xmalloc(n * sizeof(uint32_t));
        a->n = (uint32_t)n;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += w[i];
    uint32_t *small = gtp_xmalloc(n * sizeof(uint32_t)), *large = gtp_xmalloc(n * sizeof(uint32_t));
    size_t ns = 0, nl = 0;
    for (size_t i = 0; i < n; i++) {
        a->prob[i] = sum > 0 ? w[i] * (double)n / sum : 1.0;
        a->alias[i] = (uint32_t)i;
        if (a->prob[i] < 1.0)
            small[ns++] = (uint32_t)i;
        else
            large[nl++] = (uint32_t)i;
    }
    while (ns && nl) {
        uint32_t s = small[--ns], l = large[nl - 1];
        a->alias[s] = l;
        a->prob[l] -= 1.0 - a->prob[s];
        if (a->prob[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    /* leftovers are 1 up to rounding */
    while (nl)
        a->prob[large[--nl]] = 1.0;
    while (ns)
        a->prob[small[--ns]] = 1.0;
    free(small);
    free(large);
}

void rng_alias_fini(struct rng_alias *a)
{
    free(a->prob);
    free(a->alias);
    a->prob = NULL;
    a->alias = NULL;
    a->n = 0;
}
