/* Growable buffer and JSON string escaping for the generator. */
#include "jbuf.h"

#include <stdlib.h>

#include "gtp/util.h"

void jbuf_init(struct jbuf *b, size_t cap)
{
    b->p = gtp_xmalloc(cap ? cap : 64);
    b->cap = cap ? cap : 64;
    b->len = 0;
}

void jbuf_fini(struct jbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void jbuf_grow(struct jbuf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 64;
    while (b->len + need > cap)
        cap *= 2;
    b->p = gtp_xrealloc(b->p, cap);
    b->cap = cap;
}

/* 1 for bytes that need an escape inside a JSON string. */
static const unsigned char needs_esc[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

void jb_esc(struct jbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case every byte becomes \u00XX. */
    if (b->len + n * 6 > b->cap)
        jbuf_grow(b, n * 6);
    char *o = b->p + b->len;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && !needs_esc[u[run]])
            run++;
        memcpy(o, u + i, run - i);
        o += run - i;
        if (run == n)
            break;
        unsigned char c = u[run];
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
        i = run + 1;
    }
    b->len = (size_t)(o - b->p);
}

void jb_qstr(struct jbuf *b, const char *s)
{
    if (!s) {
        jb_raw(b, "null", 4);
        return;
    }
    jb_ch(b, '"');
    jb_esc(b, s, strlen(s));
    jb_ch(b, '"');
}

void jb_u64(struct jbuf *b, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (b->len + (size_t)n > b->cap)
        jbuf_grow(b, (size_t)n);
    while (n)
        b->p[b->len++] = tmp[--n];
}
