/* The employer elements Redis already holds (see hllsent.h). */
#include "hllsent.h"

#include <stdlib.h>
#include <string.h>

#include "gtp/util.h"

uint64_t hllsent_hash(const void *s, size_t len)
{
    /* Redis's MurmurHash64A as its hyperloglog.c uses it, byte for byte: the equal-hash
     * argument of hllsent.h rests on it (little-endian loads, as Redis does on x86/ARM). */
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    uint64_t h = 0xadc83b19ULL ^ ((uint64_t)(int)len * m);
    const uint8_t *p = s, *end = p + (len - (len & 7));

    for (; p != end; p += 8) {
        uint64_t k = 0;
        for (int i = 7; i >= 0; i--)
            k = k << 8 | p[i];
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    switch (len & 7) {
    case 7:
        h ^= (uint64_t)p[6] << 48; /* fall through */
    case 6:
        h ^= (uint64_t)p[5] << 40; /* fall through */
    case 5:
        h ^= (uint64_t)p[4] << 32; /* fall through */
    case 4:
        h ^= (uint64_t)p[3] << 24; /* fall through */
    case 3:
        h ^= (uint64_t)p[2] << 16; /* fall through */
    case 2:
        h ^= (uint64_t)p[1] << 8; /* fall through */
    case 1:
        h ^= (uint64_t)p[0];
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

void hllsent_init(struct hllsent *s)
{
    memset(s, 0, sizeof(*s));
    s->v = gtp_xcalloc((size_t)1 << HLLSENT_BITS, sizeof(*s->v));
    s->since_ms = gtp_wall_us() / 1000;
}

void hllsent_fini(struct hllsent *s)
{
    free(s->v);
    free(s->staged);
    memset(s, 0, sizeof(*s));
}

static struct hllsent_entry make(uint16_t skill, int64_t day_us, uint64_t h)
{
    return (struct hllsent_entry){
        .h = h, .day = (int32_t)(day_us / (INT64_C(86400) * 1000000)) + 1, .skill = skill};
}

static size_t slot(const struct hllsent_entry *e)
{
    uint64_t x = e->h ^ (uint64_t)e->skill * 0x9E3779B97F4A7C15ULL ^
                 (uint64_t)(uint32_t)e->day * 0xC2B2AE3D27D4EB4FULL;
    return (size_t)((x * 0xBF58476D1CE4E5B9ULL) >> (64 - HLLSENT_BITS));
}

bool hllsent_known(const struct hllsent *s, uint16_t skill, int64_t day_us, uint64_t h)
{
    struct hllsent_entry e = make(skill, day_us, h);
    const struct hllsent_entry *t = &s->v[slot(&e)];
    return t->h == e.h && t->day == e.day && t->skill == e.skill;
}

void hllsent_stage(struct hllsent *s, uint16_t skill, int64_t day_us, uint64_t h)
{
    if (s->nstaged == s->staged_cap) {
        s->staged_cap = s->staged_cap ? s->staged_cap * 2 : 4096;
        s->staged = gtp_xrealloc(s->staged, s->staged_cap * sizeof(*s->staged));
    }
    s->staged[s->nstaged++] = make(skill, day_us, h);
}

void hllsent_commit(struct hllsent *s)
{
    if (s->off) {
        s->nstaged = 0;
        return;
    }
    s->dirty = s->dirty || s->nstaged > 0;
    for (size_t i = 0; i < s->nstaged; i++)
        s->v[slot(&s->staged[i])] = s->staged[i];
    s->nstaged = 0;
}

void hllsent_forget(struct hllsent *s)
{
    if (s->dirty) /* untouched pages stay unmapped */
        memset(s->v, 0, ((size_t)1 << HLLSENT_BITS) * sizeof(*s->v));
    s->dirty = false;
    s->nstaged = 0;
}

void hllsent_age(struct hllsent *s, int64_t now_ms, long long ttl_s)
{
    /* a flush is answered (or given up) within seconds: under a minute of ttl that margin
     * is not assured, so nothing is remembered */
    s->off = ttl_s < HLLSENT_MIN_TTL_S;
    if (s->off || now_ms - s->since_ms >= (int64_t)ttl_s * 500) {
        hllsent_forget(s);
        s->since_ms = now_ms;
    }
}
