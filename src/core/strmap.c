/* The string-keyed hash map (see strmap.h): open addressing with linear
 * probing, at most half full, keys stored with their hash so a probe compares
 * bytes only on a hash match. */
#include "gtp/strmap.h"
#include "gtp/util.h"

#include <stdlib.h>
#include <string.h>

struct slot {
    char *key; /* NULL = empty */
    size_t klen;
    uint64_t hash;
    void *value;
};

struct gtp_strmap {
    struct slot *slots;
    size_t cap; /* power of two */
    size_t n;
};

uint64_t gtp_strmap_hash(const void *s, size_t n)
{
    const unsigned char *u = s;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= u[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

struct gtp_strmap *gtp_strmap_new(void)
{
    struct gtp_strmap *m = gtp_xcalloc(1, sizeof(*m));
    m->cap = 64;
    m->slots = gtp_xcalloc(m->cap, sizeof(*m->slots));
    return m;
}

void gtp_strmap_free(struct gtp_strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    free(m);
}

static struct slot *find(const struct gtp_strmap *m, const char *key, size_t klen, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0))
            return s;
    }
}

static void grow(struct gtp_strmap *m)
{
    struct gtp_strmap old = *m;
    m->cap *= 2;
    m->slots = gtp_xcalloc(m->cap, sizeof(*m->slots));
    for (size_t i = 0; i < old.cap; i++) {
        if (old.slots[i].key)
            *find(m, old.slots[i].key, old.slots[i].klen, old.slots[i].hash) = old.slots[i];
    }
    free(old.slots);
}

void *gtp_strmap_put(struct gtp_strmap *m, const char *key, size_t klen, void *value)
{
    uint64_t h = gtp_strmap_hash(key, klen);
    struct slot *s = find(m, key, klen, h);
    if (s->key)
        return s->value;
    /* Keys are byte strings (stored by length), NUL-terminated for debugging. */
    s->key = gtp_xmalloc(klen + 1);
    memcpy(s->key, key, klen);
    s->key[klen] = '\0';
    s->klen = klen;
    s->hash = h;
    s->value = value;
    if (++m->n * 2 > m->cap)
        grow(m);
    return NULL;
}

void *gtp_strmap_get(const struct gtp_strmap *m, const char *key, size_t klen)
{
    struct slot *s = find(m, key, klen, gtp_strmap_hash(key, klen));
    return s->key ? s->value : NULL;
}

size_t gtp_strmap_count(const struct gtp_strmap *m)
{
    return m->n;
}
