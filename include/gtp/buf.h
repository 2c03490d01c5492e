/* The core's one growable byte buffer: JSON output, Thrift and Parquet
 * encoding, regex sources and Redis arguments all append into it.
 *
 * Zero-initialised (or gtp_buf_init) = empty. The bytes are readable as text
 * (p) or as octets (u): the same pointer. Growth doubles, so n appends cost
 * O(n) amortised; allocation aborts on OOM (util.h). Whenever the buffer holds
 * memory, p[len] is a NUL after every gtp_buf_* call that appends, so a text
 * buffer is a C string without a separate terminate step (binary writers that
 * write through gtp_buf_tail() and advance len themselves do not get one).
 * Not thread safe; one buffer per writer. */
#ifndef GTP_BUF_H
#define GTP_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct gtp_buf {
    union {
        char *p;    /* owned; NULL until the first append or reserve */
        uint8_t *u; /* the same bytes as octets */
    };
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated; always > len once p != NULL (room for the NUL) */
};

/* Empty buffer with room for cap bytes (0: allocate on first use). */
void gtp_buf_init(struct gtp_buf *b, size_t cap);
/* Free the bytes; the buffer is empty and reusable. NULL-safe, idempotent. */
void gtp_buf_fini(struct gtp_buf *b);
/* Forget the contents, keep the memory (the hot paths reuse one buffer). */
void gtp_buf_reset(struct gtp_buf *b);

/* Make room for extra more bytes plus a NUL: afterwards len + extra < cap. */
void gtp_buf_reserve(struct gtp_buf *b, size_t extra);
/* Where the next byte goes (valid until the next reserve). */
static inline char *gtp_buf_tail(struct gtp_buf *b)
{
    return b->p + b->len;
}

/* gtp_buf_put when the bytes do not fit yet: grows the buffer first. */
void gtp_buf_put_grow(struct gtp_buf *b, const void *p, size_t n);
/* Append n bytes (p may be NULL when n is 0). Inline: the flush writes three pieces per
 * Redis argument, and the call cost more than the copy. */
static inline void gtp_buf_put(struct gtp_buf *b, const void *p, size_t n)
{
    if (b->len + n >= b->cap) {
        gtp_buf_put_grow(b, p, n);
        return;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}
/* Append a C string (not NULL). */
void gtp_buf_puts(struct gtp_buf *b, const char *s);
/* Append one byte. */
static inline void gtp_buf_putc(struct gtp_buf *b, int c)
{
    if (b->len + 1 >= b->cap)
        gtp_buf_reserve(b, 1);
    b->p[b->len++] = (char)c;
    b->p[b->len] = '\0';
}
/* Append printf-formatted text. */
void gtp_buf_printf(struct gtp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gtp_buf_vprintf(struct gtp_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Append v as an unsigned LEB128 varint (Thrift compact ints, Parquet RLE
 * run headers): 7 bits a byte, low first, high bit = more follows. */
void gtp_buf_varint(struct gtp_buf *b, uint64_t v);

/* Append everything left in f (binary-safe). Returns 0; GTP_ERR_NOMEM as
 * soon as more than max bytes were read (max 0 = no limit); GTP_ERR_IO on a
 * read error. What was read stays in b either way; f stays open. */
int gtp_buf_read_file(struct gtp_buf *b, FILE *f, size_t max);

/* Hand the bytes over (new, free(); NUL-terminated, never NULL) with their
 * length in *len (len may be NULL). The buffer is empty afterwards. */
char *gtp_buf_take(struct gtp_buf *b, size_t *len);

#endif
