/* The growable byte buffer (see buf.h). */
#include "gtp/buf.h"
#include "gtp/err.h"
#include "gtp/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Small enough that the many short-lived Thrift headers stay cheap. */
#define BUF_MIN 64

void gtp_buf_init(struct gtp_buf *b, size_t cap)
{
    b->p = NULL;
    b->len = b->cap = 0;
    if (cap)
        gtp_buf_reserve(b, cap - 1);
}

void gtp_buf_fini(struct gtp_buf *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void gtp_buf_reset(struct gtp_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void gtp_buf_reserve(struct gtp_buf *b, size_t extra)
{
    size_t cap;
    if (b->len + extra < b->cap)
        return;
    cap = b->cap ? b->cap : BUF_MIN;
    while (cap <= b->len + extra)
        cap *= 2;
    b->p = gtp_xrealloc(b->p, cap);
    b->cap = cap;
    b->p[b->len] = '\0';
}

void gtp_buf_put_grow(struct gtp_buf *b, const void *p, size_t n)
{
    gtp_buf_reserve(b, n); /* then the inline copy fits */
    gtp_buf_put(b, p, n);
}

void gtp_buf_puts(struct gtp_buf *b, const char *s)
{
    gtp_buf_put(b, s, strlen(s));
}

void gtp_buf_vprintf(struct gtp_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    int n;
    gtp_buf_reserve(b, 0);
    va_copy(again, ap);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    if (n >= 0 && (size_t)n >= b->cap - b->len) {
        gtp_buf_reserve(b, (size_t)n);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, again);
    }
    va_end(again);
    if (n > 0)
        b->len += (size_t)n;
    b->p[b->len] = '\0';
}

void gtp_buf_printf(struct gtp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gtp_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void gtp_buf_varint(struct gtp_buf *b, uint64_t v)
{
    gtp_buf_reserve(b, 10);
    while (v >= 0x80) {
        b->u[b->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b->u[b->len++] = (uint8_t)v;
    b->p[b->len] = '\0';
}

int gtp_buf_read_file(struct gtp_buf *b, FILE *f, size_t max)
{
    size_t start = b->len, got;
    do {
        gtp_buf_reserve(b, 65536);
        got = fread(b->p + b->len, 1, b->cap - b->len - 1, f);
        b->len += got;
        b->p[b->len] = '\0';
        if (max && b->len - start > max)
            return GTP_ERR_NOMEM;
    } while (got > 0);
    return ferror(f) ? GTP_ERR_IO : 0;
}

char *gtp_buf_take(struct gtp_buf *b, size_t *len)
{
    char *p;
    gtp_buf_reserve(b, 0);
    p = b->p;
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}
