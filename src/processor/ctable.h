/* The open-addressing layout both pending-delta tables of a flush share: the trend deltas
 * (agg.h) and the insights deltas (insights.h). An entry is the caller's own 24-byte struct
 * whose first 16 bytes are its key and whose int64 count follows (0: an empty slot); the
 * table is at most half full, a power of two in size, and indexed by the top bits of a
 * multiplicative hash of the key's two words. Index and probe are separate, so a caller can
 * compute a posting's slots, prefetch them all, and probe afterwards; it reserves the room
 * first, since a growth moves every slot. Single-threaded, like its callers. */
#ifndef GTP_PROCESSOR_CTABLE_H
#define GTP_PROCESSOR_CTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CTABLE_KEY   16 /* key bytes at the start of an entry; the int64 count right after */
#define CTABLE_ENTRY 24

/* Where probing for key (CTABLE_KEY bytes) starts in a table of cap slots: the top bits of
 * the multiplicative hash, since its low bits never see a key's high bytes (bits 48..63 of a
 * word times an odd constant only reach bits 48..63; with them every pair of one skill and
 * day probed the same chain: 183 instructions per insights add on 100k events, 48 with the
 * top bits). Inline, like ctable_find: both run several times per posting. */
static inline size_t ctable_index(const void *key, size_t cap)
{
    uint64_t w[2];
    memcpy(w, key, sizeof(w));
    uint64_t h = w[0] * 0x9E3779B97F4A7C15ULL ^ w[1] * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 31;
    return (size_t)((h * 0xBF58476D1CE4E5B9ULL) >> (64 - __builtin_ctzll((unsigned long long)cap)));
}

/* The entry holding key, or the empty one where it goes, probing v from slot i on. */
static inline void *ctable_find(void *v, size_t cap, size_t i, const void *key)
{
    unsigned char *t = v;
    uint64_t k[2];
    memcpy(k, key, sizeof(k));
    for (size_t mask = cap - 1;; i = (i + 1) & mask) {
        unsigned char *e = t + i * CTABLE_ENTRY;
        uint64_t w[2];
        int64_t count;
        memcpy(w, e, sizeof(w));
        memcpy(&count, e + CTABLE_KEY, sizeof(count));
        if (count == 0 || ((w[0] ^ k[0]) | (w[1] ^ k[1])) == 0)
            return e;
    }
}
/* The capacity that keeps used + n keys at most half full: cap, or cap doubled enough. */
static inline size_t ctable_cap(size_t cap, size_t used, size_t n)
{
    while ((used + n) * 2 > cap)
        cap *= 2;
    return cap;
}
/* v's entries in a new zeroed table of ncap slots; v is freed. */
void *ctable_rehash(void *v, size_t cap, size_t ncap);

#endif
