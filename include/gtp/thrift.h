/* A small Thrift compact-protocol encoder: just what Parquet page headers and
 * footers need (structs, unions, lists, i32/i64, binary, bool).
 *
 * The encoder writes into a growable buffer and tracks the last field id of
 * every open struct, so callers name absolute field ids and the encoder picks
 * the short (delta) or long field-header form. Usage:
 *
 *     struct gtp_thrift t;
 *     gtp_thrift_init(&t);
 *     gtp_thrift_i32(&t, 1, 0);              top-level struct, field 1
 *     gtp_thrift_struct_begin(&t, 5);        nested struct in field 5
 *     gtp_thrift_i32(&t, 1, 4);
 *     gtp_thrift_struct_end(&t);             writes the nested stop byte
 *     gtp_thrift_end(&t);                    writes the top-level stop byte
 *     ... t.data / t.len ...
 *     gtp_thrift_fini(&t);
 *
 * Lists: gtp_thrift_list_begin(&t, id, elem_type, n), then n elements with the
 * gtp_thrift_elem_*() calls (struct elements: gtp_thrift_elem_struct_begin()
 * ... gtp_thrift_struct_end()). A list needs no end call.
 * Not thread safe; one encoder per thread. Allocation aborts on OOM. */
#ifndef GTP_THRIFT_H
#define GTP_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/buf.h"

/* Compact-protocol type nibbles (field headers and list element types). */
enum gtp_thrift_type {
    GTP_THRIFT_BOOL_TRUE = 1,
    GTP_THRIFT_BOOL_FALSE = 2,
    GTP_THRIFT_I8 = 3,
    GTP_THRIFT_I16 = 4,
    GTP_THRIFT_I32 = 5,
    GTP_THRIFT_I64 = 6,
    GTP_THRIFT_DOUBLE = 7,
    GTP_THRIFT_BINARY = 8,
    GTP_THRIFT_LIST = 9,
    GTP_THRIFT_SET = 10,
    GTP_THRIFT_MAP = 11,
    GTP_THRIFT_STRUCT = 12,
};

#define GTP_THRIFT_MAX_DEPTH 16

struct gtp_thrift {
    /* The encoded bytes (owned): written through buf, read as data/len, the
     * same memory (the struct view is buf's first two members). */
    union {
        struct gtp_buf buf;
        struct {
            uint8_t *data;
            size_t len;
        };
    };
    int depth;                             /* open nested structs */
    int16_t last_id[GTP_THRIFT_MAX_DEPTH]; /* last field id per open struct */
};

void gtp_thrift_init(struct gtp_thrift *t);
void gtp_thrift_fini(struct gtp_thrift *t);
/* Forget the content (keeps the allocation) and start a new top-level struct. */
void gtp_thrift_reset(struct gtp_thrift *t);

/* Primitive encodings, also used by the Parquet level/dictionary encoders. */
void gtp_thrift_put_varint(struct gtp_thrift *t, uint64_t v);
void gtp_thrift_put_bytes(struct gtp_thrift *t, const void *p, size_t n);
static inline uint64_t gtp_thrift_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* Fields of the current struct; ids must ascend within one struct. */
void gtp_thrift_i16(struct gtp_thrift *t, int16_t id, int16_t v);
void gtp_thrift_i32(struct gtp_thrift *t, int16_t id, int32_t v);
void gtp_thrift_i64(struct gtp_thrift *t, int16_t id, int64_t v);
void gtp_thrift_binary(struct gtp_thrift *t, int16_t id, const void *p, size_t n);
void gtp_thrift_string(struct gtp_thrift *t, int16_t id, const char *s); /* s not NULL */
void gtp_thrift_bool(struct gtp_thrift *t, int16_t id, bool v);
void gtp_thrift_struct_begin(struct gtp_thrift *t, int16_t id);
void gtp_thrift_struct_end(struct gtp_thrift *t);
/* An empty struct in field id (union members such as TypeDefinedOrder). */
void gtp_thrift_empty_struct(struct gtp_thrift *t, int16_t id);
void gtp_thrift_list_begin(struct gtp_thrift *t, int16_t id, enum gtp_thrift_type elem, size_t n);

/* List elements (no field headers). */
void gtp_thrift_elem_i32(struct gtp_thrift *t, int32_t v);
void gtp_thrift_elem_i64(struct gtp_thrift *t, int64_t v);
void gtp_thrift_elem_binary(struct gtp_thrift *t, const void *p, size_t n);
void gtp_thrift_elem_struct_begin(struct gtp_thrift *t);

/* Stop byte of the top-level struct. After it, data/len hold one message. */
void gtp_thrift_end(struct gtp_thrift *t);

#endif
