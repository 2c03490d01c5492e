/* Rising and falling skills (docs/dashboard.md#growth): a skill's share of
 * postings in the last N hours against the N hours before, judged with a
 * two-proportion z-test and a minimum support, so that 1 -> 5 postings is
 * never shown as "+400 %". Pure arithmetic, no Redis: unit-tested with
 * hand-computed numbers (tests/unit/test_dashboard.c). */
#ifndef DASH_GROWTH_H
#define DASH_GROWTH_H

#include <stdbool.h>
#include <stdint.h>

/* Postings mentioning the skill in both windows together below this: too
 * few to say anything, the skill is not ranked. */
#define GROWTH_MIN_SUPPORT 10
/* |z| at least this (two-sided 5 % level) for a change to count. */
#define GROWTH_Z_MIN 1.96

struct growth {
    int64_t now, before;             /* postings mentioning the skill */
    int64_t posts_now, posts_before; /* all counted postings (the denominators) */
    double share_now, share_before;  /* fractions 0..1 */
    double diff;                     /* share_now - share_before (x100 = percentage points) */
    double change;                   /* share_now / share_before - 1; NAN when share_before is 0 */
    double z;                        /* two-proportion z with the pooled share; 0 when undefined */
    bool supported;                  /* now + before >= GROWTH_MIN_SUPPORT */
    bool significant;                /* supported and |z| >= GROWTH_Z_MIN */
};

/* Fill *g from the counts. Returns 0, or -1 (g zeroed) when a count is
 * negative, a denominator is 0, or a skill count exceeds its denominator
 * (data that is not a share: the skill is left out). */
int growth_compute(int64_t now, int64_t posts_now, int64_t before, int64_t posts_before,
                   struct growth *g);

/* qsort order for a rising list (z descending, then now descending) and a
 * falling one (z ascending, then before descending). */
int growth_cmp_rising(const struct growth *a, const struct growth *b);
int growth_cmp_falling(const struct growth *a, const struct growth *b);

#endif
