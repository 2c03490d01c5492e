/* Word normalization shared by the region and seniority lookups, and the
 * hash map behind them: taxonomy lookups must be hash probes, not scans. */
#include "gtp/textnorm.h"
#include "gtp/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ASCII base letters of U+00C0..U+00FF (UTF-8 C3 80..C3 BF); ' ' for the two
 * math signs (x, ÷) that are not letters. */
static const char latin1_fold[64] = "aaaaaaaceeeeiiii"
                                    "dnooooo ouuuuyts"
                                    "aaaaaaaceeeeiiii"
                                    "dnooooo ouuuuyty";
/* ASCII base letters of U+0100..U+017F (UTF-8 C4 80..C5 BF). */
static const char latin_ext_a_fold[128] = "aaaaaaccccccccdd"
                                          "ddeeeeeeeeeegggg"
                                          "gggghhhhiiiiiiii"
                                          "iiiijjkkklllllll"
                                          "lllnnnnnnnnnoooo"
                                          "oooorrrrrrssssss"
                                          "ssttttttuuuuuuuu"
                                          "uuuuwwyyyzzzzzzs";

enum cls { C_WORD, C_DROP, C_SPACE, C_PART };

/* Writer state: pending separator is emitted lazily before the next word byte,
 * which gives single separators and no leading/trailing ones. */
struct writer {
    char *out;
    size_t cap, n, word_start;
    int pending; /* 0 none, ' ' or part separator */
    int full;
};

static void put_byte(struct writer *w, char c)
{
    if (w->full)
        return;
    if (w->pending && w->n > 0) {
        /* Separator plus at least this byte must fit. */
        if (w->n + 2 >= w->cap) {
            w->full = 1;
            return;
        }
        w->out[w->n++] = (char)w->pending;
        w->word_start = w->n;
    }
    w->pending = 0;
    if (w->n + 1 >= w->cap) {
        /* Do not leave half a word behind. */
        w->n = w->word_start;
        while (w->n > 0 && (w->out[w->n - 1] == ' ' || w->out[w->n - 1] == GTP_TEXTNORM_PART))
            w->n--;
        w->full = 1;
        return;
    }
    w->out[w->n++] = c;
}

static void sep(struct writer *w, int part)
{
    if (part)
        w->pending = GTP_TEXTNORM_PART;
    else if (w->pending != GTP_TEXTNORM_PART)
        w->pending = ' ';
}

static size_t normalize(const char *s, size_t len, char *out, size_t out_size, int parts)
{
    struct writer w = {out, out_size, 0, 0, 0, 0};
    const unsigned char *p = (const unsigned char *)s;

    if (out_size == 0)
        return 0;
    for (size_t i = 0; i < len && !w.full; i++) {
        unsigned char c = p[i];
        if (c < 0x80) {
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                put_byte(&w, (char)c);
            } else if (c >= 'A' && c <= 'Z') {
                put_byte(&w, (char)(c + 32));
            } else if (c == '.' || c == '\'' || c == '`') {
                /* dropped: joins "U.S." */
            } else if (c == ',' || c == ';' || c == '/' || c == '|' || c == '(' || c == ')' ||
                       c == '[' || c == ']' || c == '{' || c == '}' || c == ':' || c == '\n' ||
                       c == '\r') {
                sep(&w, parts);
            } else if (c == '-' && i > 0 && p[i - 1] == ' ' && i + 1 < len && p[i + 1] == ' ') {
                sep(&w, parts);
            } else {
                sep(&w, 0);
            }
            continue;
        }
        if (i + 1 < len && (p[i + 1] & 0xC0) == 0x80) {
            unsigned char c2 = p[i + 1];
            char f = 0;
            if (c == 0xC3)
                f = latin1_fold[c2 - 0x80];
            else if (c == 0xC4)
                f = latin_ext_a_fold[c2 - 0x80];
            else if (c == 0xC5)
                f = latin_ext_a_fold[64 + (c2 - 0x80)];
            if (f) {
                if (f == ' ')
                    sep(&w, 0);
                else
                    put_byte(&w, f);
                i++;
                continue;
            }
            /* U+2018/2019 quotes are dropped like ', U+2013/2014 dashes end a part. */
            if (c == 0xE2 && c2 == 0x80 && i + 2 < len) {
                unsigned char c3 = p[i + 2];
                if (c3 == 0x98 || c3 == 0x99) {
                    i += 2;
                    continue;
                }
                if (c3 == 0x93 || c3 == 0x94) {
                    sep(&w, parts);
                    i += 2;
                    continue;
                }
            }
            /* U+00A0 no-break space */
            if (c == 0xC2 && c2 == 0xA0) {
                sep(&w, 0);
                i++;
                continue;
            }
        }
        put_byte(&w, (char)c);
    }
    out[w.n] = '\0';
    return w.n;
}

size_t gtp_textnorm(const char *s, size_t len, char *out, size_t out_size)
{
    return normalize(s, len, out, out_size, 1);
}

size_t gtp_textnorm_key(const char *s, size_t len, char *out, size_t out_size)
{
    return normalize(s, len, out, out_size, 0);
}

/* ---- hash map ------------------------------------------------------------------ */

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

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
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
    uint64_t h = fnv1a(key, klen);
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
    struct slot *s = find(m, key, klen, fnv1a(key, klen));
    return s->key ? s->value : NULL;
}

size_t gtp_strmap_count(const struct gtp_strmap *m)
{
    return m->n;
}
