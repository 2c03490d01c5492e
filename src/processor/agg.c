/* Pending count deltas: a small open-addressing hash map keyed by
 * (skill, region, hour), so a flush costs per distinct key, not per event. */
#include "agg.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ctable.h"
#include "gtp/timeparse.h"
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

#define HOUR_US (INT64_C(3600) * 1000000)

_Static_assert(sizeof(struct agg_delta) == CTABLE_ENTRY &&
                   offsetof(struct agg_delta, count) == CTABLE_KEY,
               "agg_delta has the pending-delta table's layout (ctable.h)");
_Static_assert(GTP_TIME_MIN_US >= 0 && GTP_TIME_MAX_US / HOUR_US < UINT32_MAX,
               "an accepted event's hour number fits 32 bits");

/* The key of (skill, region, hour): the first CTABLE_KEY bytes of its entry. */
static struct agg_delta key_of(uint16_t skill, const char *region8, int64_t hour_start)
{
    struct agg_delta k = {.hour = (uint32_t)(hour_start / HOUR_US), .skill = skill};
    memcpy(k.region, region8, 8);
    return k;
}

/* Room for n more keys, grown before the probes so their slots stay put. */
static void reserve(struct agg *a, size_t n)
{
    size_t ncap = ctable_cap(a->cap, a->used, n);
    if (ncap != a->cap) {
        a->deltas = ctable_rehash(a->deltas, a->cap, ncap);
        a->cap = ncap;
    }
}

/* Count n more for key k, probing from slot i. */
static void add_at(struct agg *a, size_t i, const struct agg_delta *k, int64_t n)
{
    struct agg_delta *d = ctable_find(a->deltas, a->cap, i, k);
    if (d->count == 0) {
        memcpy(d, k, CTABLE_KEY);
        a->used++;
    }
    d->count += n;
}

void agg_add(struct agg *a, uint16_t skill, const char *region, int64_t hour_start, int64_t n)
{
    char r8[8] = {0};
    strncpy(r8, region, sizeof(r8) - 1);
    struct agg_delta k = key_of(skill, r8, hour_start);
    reserve(a, 1);
    add_at(a, ctable_index(&k, a->cap), &k, n);
}

/* Skills per posting whose slots are prefetched together; more are added one by one. */
#define MENTIONS_AHEAD 32

void agg_add_mentions(struct agg *a, const struct gtp_skill_set *skills, size_t nskills,
                      const char *region, int64_t hour_start)
{
    char r8[8] = {0};
    struct agg_delta k[MENTIONS_AHEAD];
    size_t at[MENTIONS_AHEAD], n = 0;

    strncpy(r8, region, sizeof(r8) - 1);
    /* room for the staged keys; any past them reserve their own (agg_add) */
    reserve(a, MENTIONS_AHEAD);
    /* Every slot first, then every add: the probes of one posting go to memory together
     * rather than one after another (the table is larger than the first-level cache). */
    for (size_t w = 0; w < (nskills + 63) / 64; w++)
        for (uint64_t b = skills->bits[w]; b; b &= b - 1) {
            uint16_t skill = (uint16_t)(w * 64 + (size_t)__builtin_ctzll(b));
            a->stats[AGG_MENTIONS]++;
            if (n == MENTIONS_AHEAD) {
                /* the staged ones first: agg_add may grow the table they index */
                for (size_t j = 0; j < n; j++)
                    add_at(a, at[j], &k[j], 1);
                n = SIZE_MAX;
            }
            if (n == SIZE_MAX) {
                agg_add(a, skill, r8, hour_start, 1);
                continue;
            }
            k[n] = key_of(skill, r8, hour_start);
            at[n] = ctable_index(&k[n], a->cap);
            __builtin_prefetch(&a->deltas[at[n]]);
            n++;
        }
    for (size_t j = 0; n != SIZE_MAX && j < n; j++)
        add_at(a, at[j], &k[j], 1);
}
