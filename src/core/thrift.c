/* Thrift compact-protocol encoder for Parquet metadata (see include/gtp/thrift.h and
 * apache/thrift doc/specs/thrift-compact-protocol.md). */
#include "gtp/thrift.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void gtp_thrift_init(struct gtp_thrift *t)
{
    memset(t, 0, sizeof(*t));
}

void gtp_thrift_fini(struct gtp_thrift *t)
{
    if (!t)
        return;
    gtp_buf_fini(&t->buf);
    memset(t, 0, sizeof(*t));
}

void gtp_thrift_reset(struct gtp_thrift *t)
{
    gtp_buf_reset(&t->buf);
    t->depth = 0;
    t->last_id[0] = 0;
}

static void put_byte(struct gtp_thrift *t, uint8_t b)
{
    gtp_buf_putc(&t->buf, b);
}

void gtp_thrift_put_bytes(struct gtp_thrift *t, const void *p, size_t n)
{
    gtp_buf_put(&t->buf, p, n);
}

void gtp_thrift_put_varint(struct gtp_thrift *t, uint64_t v)
{
    gtp_buf_varint(&t->buf, v);
}

/* Short form when the id delta fits in a nibble, else type byte + zigzag i16 id. */
static void field_header(struct gtp_thrift *t, int16_t id, uint8_t type)
{
    int delta = id - t->last_id[t->depth];
    if (delta > 0 && delta <= 15) {
        put_byte(t, (uint8_t)((delta << 4) | type));
    } else {
        put_byte(t, type);
        gtp_thrift_put_varint(t, gtp_thrift_zigzag(id));
    }
    t->last_id[t->depth] = id;
}

void gtp_thrift_i16(struct gtp_thrift *t, int16_t id, int16_t v)
{
    field_header(t, id, GTP_THRIFT_I16);
    gtp_thrift_put_varint(t, gtp_thrift_zigzag(v));
}

void gtp_thrift_i32(struct gtp_thrift *t, int16_t id, int32_t v)
{
    field_header(t, id, GTP_THRIFT_I32);
    gtp_thrift_put_varint(t, gtp_thrift_zigzag(v));
}

void gtp_thrift_i64(struct gtp_thrift *t, int16_t id, int64_t v)
{
    field_header(t, id, GTP_THRIFT_I64);
    gtp_thrift_put_varint(t, gtp_thrift_zigzag(v));
}

void gtp_thrift_binary(struct gtp_thrift *t, int16_t id, const void *p, size_t n)
{
    field_header(t, id, GTP_THRIFT_BINARY);
    gtp_thrift_put_varint(t, n);
    gtp_thrift_put_bytes(t, p, n);
}

void gtp_thrift_string(struct gtp_thrift *t, int16_t id, const char *s)
{
    gtp_thrift_binary(t, id, s, strlen(s));
}

void gtp_thrift_bool(struct gtp_thrift *t, int16_t id, bool v)
{
    /* The value lives in the type nibble; no payload byte. */
    field_header(t, id, v ? GTP_THRIFT_BOOL_TRUE : GTP_THRIFT_BOOL_FALSE);
}

static void push(struct gtp_thrift *t)
{
    assert(t->depth + 1 < GTP_THRIFT_MAX_DEPTH);
    t->depth++;
    t->last_id[t->depth] = 0;
}

void gtp_thrift_struct_begin(struct gtp_thrift *t, int16_t id)
{
    field_header(t, id, GTP_THRIFT_STRUCT);
    push(t);
}

void gtp_thrift_struct_end(struct gtp_thrift *t)
{
    assert(t->depth > 0);
    put_byte(t, 0);
    t->depth--;
}

void gtp_thrift_empty_struct(struct gtp_thrift *t, int16_t id)
{
    field_header(t, id, GTP_THRIFT_STRUCT);
    put_byte(t, 0);
}

void gtp_thrift_list_begin(struct gtp_thrift *t, int16_t id, enum gtp_thrift_type elem, size_t n)
{
    field_header(t, id, GTP_THRIFT_LIST);
    if (n <= 14) {
        put_byte(t, (uint8_t)((n << 4) | elem));
    } else {
        put_byte(t, (uint8_t)(0xF0 | elem));
        gtp_thrift_put_varint(t, n);
    }
}

void gtp_thrift_elem_i32(struct gtp_thrift *t, int32_t v)
{
    gtp_thrift_put_varint(t, gtp_thrift_zigzag(v));
}

void gtp_thrift_elem_i64(struct gtp_thrift *t, int64_t v)
{
    gtp_thrift_put_varint(t, gtp_thrift_zigzag(v));
}

void gtp_thrift_elem_binary(struct gtp_thrift *t, const void *p, size_t n)
{
    gtp_thrift_put_varint(t, n);
    gtp_thrift_put_bytes(t, p, n);
}

void gtp_thrift_elem_struct_begin(struct gtp_thrift *t)
{
    push(t);
}

void gtp_thrift_end(struct gtp_thrift *t)
{
    assert(t->depth == 0);
    put_byte(t, 0);
}
