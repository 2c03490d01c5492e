/* The growth test behind /api/rising and the region profile (growth.h).
 *
 * Why a z-test on shares and not a ratio of counts: counts grow with the
 * market (more postings in the evening, a generator burst), shares do not;
 * and a ratio of small counts is noise (1 -> 5 is "+400 %"). The pooled
 * two-proportion z-test asks whether the two shares differ by more than
 * sampling noise would make them:
 *     p1 = a/n1, p0 = b/n0, p = (a+b)/(n1+n0),
 *     z  = (p1 - p0) / sqrt(p (1 - p) (1/n1 + 1/n0)).
 * A partial newest hour only makes n1 smaller, which widens the test
 * instead of faking a fall. */
#include "growth.h"

#include <math.h>
#include <string.h>

int growth_compute(int64_t now, int64_t posts_now, int64_t before, int64_t posts_before,
                   struct growth *g)
{
    double p1, p0, p, var;
    memset(g, 0, sizeof(*g));
    if (now < 0 || before < 0 || posts_now <= 0 || posts_before <= 0 || now > posts_now ||
        before > posts_before)
        return -1;
    g->now = now;
    g->before = before;
    g->posts_now = posts_now;
    g->posts_before = posts_before;
    p1 = (double)now / (double)posts_now;
    p0 = (double)before / (double)posts_before;
    p = (double)(now + before) / (double)(posts_now + posts_before);
    g->share_now = p1;
    g->share_before = p0;
    g->diff = p1 - p0;
    g->change = before > 0 ? p1 / p0 - 1 : NAN;
    var = p * (1 - p) * (1.0 / (double)posts_now + 1.0 / (double)posts_before);
    g->z = var > 0 ? g->diff / sqrt(var) : 0;
    g->supported = now + before >= GROWTH_MIN_SUPPORT;
    g->significant = g->supported && fabs(g->z) >= GROWTH_Z_MIN;
    return 0;
}

int growth_cmp_rising(const struct growth *a, const struct growth *b)
{
    if (a->z != b->z)
        return a->z > b->z ? -1 : 1;
    return (a->now < b->now) - (a->now > b->now);
}

int growth_cmp_falling(const struct growth *a, const struct growth *b)
{
    if (a->z != b->z)
        return a->z < b->z ? -1 : 1;
    return (a->before < b->before) - (a->before > b->before);
}
