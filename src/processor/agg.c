/* Pending count deltas: a small open-addressing hash map keyed by
 * (skill, region, hour), so a flush costs per distinct key, not per event. */
#include "agg.h"

#include <stdlib.h>
#include <string.h>

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

_Static_assert(sizeof(struct agg_delta) == 24, "agg_delta is 24 bytes");
_Static_assert(GTP_TIME_MIN_US >= 0 && GTP_TIME_MAX_US / HOUR_US < UINT32_MAX,
               "an accepted event's hour number fits 32 bits");

/* The key of (skill, region, hour) as the two words an entry starts with. */
struct key {
    uint64_t w[2];
};

static struct key key_of(uint16_t skill, const char *region8, int64_t hour_start)
{
    struct agg_delta d = {.hour = (uint32_t)(hour_start / HOUR_US), .skill = skill};
    struct key k;
    memcpy(d.region, region8, 8);
    memcpy(k.w, &d, sizeof(k.w));
    return k;
}

/* The top bits of a multiplicative hash (a power-of-two table indexes by them). */
static size_t key_index(const struct key *k, unsigned bits)
{
    uint64_t h = k->w[0] * 0x9E3779B97F4A7C15ULL ^ k->w[1] * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    return (size_t)((h * 0xBF58476D1CE4E5B9ULL) >> (64 - bits));
}

static unsigned cap_bits(size_t cap)
{
    return (unsigned)__builtin_ctzll((unsigned long long)cap);
}

static struct agg_delta *slot_at(struct agg_delta *t, size_t cap, size_t i, const struct key *k)
{
    size_t mask = cap - 1;
    for (;; i = (i + 1) & mask) {
        uint64_t w[2];
        memcpy(w, &t[i], sizeof(w));
        if (t[i].count == 0 || ((w[0] ^ k->w[0]) | (w[1] ^ k->w[1])) == 0)
            return &t[i];
    }
}

static void grow(struct agg *a, size_t ncap)
{
    struct agg_delta *t = gtp_xcalloc(ncap, sizeof(*t));
    for (size_t i = 0; i < a->cap; i++) {
        struct agg_delta *d = &a->deltas[i];
        struct key k;
        if (!d->count)
            continue;
        memcpy(k.w, d, sizeof(k.w));
        *slot_at(t, ncap, key_index(&k, cap_bits(ncap)), &k) = *d;
    }
    free(a->deltas);
    a->deltas = t;
    a->cap = ncap;
}

/* Room for n more keys at most half full, grown before the probes so their slots stay put. */
static void reserve(struct agg *a, size_t n)
{
    size_t ncap = a->cap;
    while ((a->used + n) * 2 > ncap)
        ncap *= 2;
    if (ncap != a->cap)
        grow(a, ncap);
}

static void add_at(struct agg *a, struct agg_delta *d, const struct key *k, int64_t n)
{
    if (d->count == 0) {
        memcpy(d, k->w, sizeof(k->w));
        a->used++;
    }
    d->count += n;
}

void agg_add(struct agg *a, uint16_t skill, const char *region, int64_t hour_start, int64_t n)
{
    char r8[8] = {0};
    strncpy(r8, region, sizeof(r8) - 1);
    struct key k = key_of(skill, r8, hour_start);
    reserve(a, 1);
    add_at(a, slot_at(a->deltas, a->cap, key_index(&k, cap_bits(a->cap)), &k), &k, n);
}

/* Skills per posting whose slots are prefetched together; more are added one by one. */
#define MENTIONS_AHEAD 32

void agg_add_mentions(struct agg *a, const struct gtp_skill_set *skills, size_t nskills,
                      const char *region, int64_t hour_start)
{
    char r8[8] = {0};
    struct key k[MENTIONS_AHEAD];
    size_t at[MENTIONS_AHEAD], n = 0;
    unsigned bits;

    strncpy(r8, region, sizeof(r8) - 1);
    /* room for the staged keys; any past them reserve their own (agg_add) */
    reserve(a, MENTIONS_AHEAD);
    bits = cap_bits(a->cap);
    /* Every slot first, then every add: the probes of one posting go to memory together
     * rather than one after another (the table is larger than the first-level cache). */
    for (size_t w = 0; w < (nskills + 63) / 64; w++)
        for (uint64_t b = skills->bits[w]; b; b &= b - 1) {
            uint16_t skill = (uint16_t)(w * 64 + (size_t)__builtin_ctzll(b));
            a->stats[AGG_MENTIONS]++;
            if (n == MENTIONS_AHEAD) {
                /* the staged ones first: agg_add may grow the table they index */
                for (size_t j = 0; j < n; j++)
                    add_at(a, slot_at(a->deltas, a->cap, at[j], &k[j]), &k[j], 1);
                n = SIZE_MAX;
            }
            if (n == SIZE_MAX) {
                agg_add(a, skill, r8, hour_start, 1);
                continue;
            }
            k[n] = key_of(skill, r8, hour_start);
            at[n] = key_index(&k[n], bits);
            __builtin_prefetch(&a->deltas[at[n]]);
            n++;
        }
    for (size_t j = 0; n != SIZE_MAX && j < n; j++)
        add_at(a, slot_at(a->deltas, a->cap, at[j], &k[j]), &k[j], 1);
}
