/* Pending count deltas: a small open-addressing hash map keyed by
 * (skill, region, hour), so a flush costs per distinct key, not per event. */
#include "agg.h"

#include <stdlib.h>
#include <string.h>

#include "gtp/util.h"

const char *const agg_stat_names[AGG_NSTATS] = {
    "events_total", "valid_total",      "rejected_total", "counted_total",
    "late_total",   "duplicates_total", "mentions_total",
};

void agg_init(struct agg *a)
{
    memset(a, 0, sizeof(*a));
    a->cap = 1024;
    a->deltas = gtp_xcalloc(a->cap, sizeof(*a->deltas));
    insights_init(&a->ins, true);
}

void agg_reset(struct agg *a)
{
    memset(a->deltas, 0, a->cap * sizeof(*a->deltas));
    a->used = 0;
    memset(a->stats, 0, sizeof(a->stats));
    memset(a->rejected_by_reason, 0, sizeof(a->rejected_by_reason));
    insights_reset(&a->ins);
}

void agg_fini(struct agg *a)
{
    if (!a->deltas)
        return;
    free(a->deltas);
    insights_fini(&a->ins);
    memset(a, 0, sizeof(*a));
}

static uint64_t delta_hash(uint16_t skill, const char *region8, int64_t hour)
{
    uint64_t r;
    memcpy(&r, region8, 8);
    uint64_t h = (uint64_t)hour * 0x9E3779B97F4A7C15ULL ^ r * 0xC2B2AE3D27D4EB4FULL ^ skill;
    h ^= h >> 29;
    return h * 0xBF58476D1CE4E5B9ULL;
}

static struct agg_delta *slot(struct agg_delta *t, size_t cap, uint16_t skill, const char *region8,
                              int64_t hour)
{
    size_t mask = cap - 1;
    for (size_t i = delta_hash(skill, region8, hour) & mask;; i = (i + 1) & mask) {
        struct agg_delta *d = &t[i];
        if (d->count == 0 ||
            (d->skill == skill && d->hour_start == hour && memcmp(d->region, region8, 8) == 0))
            return d;
    }
}

static void grow(struct agg *a)
{
    size_t ncap = a->cap * 2;
    struct agg_delta *t = gtp_xcalloc(ncap, sizeof(*t));
    for (size_t i = 0; i < a->cap; i++) {
        struct agg_delta *d = &a->deltas[i];
        if (d->count)
            *slot(t, ncap, d->skill, d->region, d->hour_start) = *d;
    }
    free(a->deltas);
    a->deltas = t;
    a->cap = ncap;
}

void agg_add(struct agg *a, uint16_t skill, const char *region, int64_t hour_start, int64_t n)
{
    char r8[8] = {0};
    struct agg_delta *d;
    strncpy(r8, region, sizeof(r8) - 1);
    d = slot(a->deltas, a->cap, skill, r8, hour_start);
    if (d->count == 0) {
        d->skill = skill;
        memcpy(d->region, r8, 8);
        d->hour_start = hour_start;
        a->used++;
    }
    d->count += n;
    if (a->used * 2 > a->cap)
        grow(a);
}

void agg_add_mentions(struct agg *a, const struct gtp_skill_set *skills, size_t nskills,
                      const char *region, int64_t hour_start)
{
    for (size_t w = 0; w < (nskills + 63) / 64; w++) {
        uint64_t bits = skills->bits[w];
        while (bits) {
            int bit = __builtin_ctzll(bits);
            bits &= bits - 1;
            agg_add(a, (uint16_t)(w * 64 + (size_t)bit), region, hour_start, 1);
            a->stats[AGG_MENTIONS]++;
        }
    }
}
