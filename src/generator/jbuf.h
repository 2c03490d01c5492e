/* A growable byte buffer with a small, fast JSON writer for the generator's
 * hot path (no allocation per event once the buffer has grown, no jansson). */
#ifndef GEN_JBUF_H
#define GEN_JBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct jbuf {
    char *p;
    size_t len, cap;
};

void jbuf_init(struct jbuf *b, size_t cap);
void jbuf_fini(struct jbuf *b);
void jbuf_grow(struct jbuf *b, size_t need);

static inline void jbuf_reset(struct jbuf *b)
{
    b->len = 0;
}

static inline void jb_raw(struct jbuf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap)
        jbuf_grow(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static inline void jb_cstr(struct jbuf *b, const char *s)
{
    jb_raw(b, s, strlen(s));
}

static inline void jb_ch(struct jbuf *b, char c)
{
    if (b->len + 1 > b->cap)
        jbuf_grow(b, 1);
    b->p[b->len++] = c;
}

/* Append s[0..n) as the inside of a JSON string: '"', '\\' and control bytes
 * are escaped, every other byte (UTF-8, or the invalid bytes chaos injects on
 * purpose) is copied as is. */
void jb_esc(struct jbuf *b, const char *s, size_t n);

/* "s" with quotes; NULL writes null. */
void jb_qstr(struct jbuf *b, const char *s);

/* Unsigned decimal. */
void jb_u64(struct jbuf *b, uint64_t v);

#endif
