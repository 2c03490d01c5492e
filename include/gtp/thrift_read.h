/* A Thrift compact-protocol decoder: any message into a tree, for reading Parquet footers and
 * page headers (src/core/pqread.c) and for the fuzz targets' structural checks. It is kept
 * apart from the encoder (gtp/thrift.h) so that a misunderstanding of the protocol in one
 * shows up as a disagreement with the other instead of hiding.
 *
 * Input is untrusted: every length and count is checked against the bytes left (so the tree
 * of an n-byte message costs O(n) memory), nesting is capped at GTP_THRIFT_READ_MAX_DEPTH,
 * and maps or unknown type nibbles are refused (Parquet metadata has none). Integers are
 * kept as int64 whatever their wire type: callers check the range they need.
 * Allocation aborts on OOM. Thread safe (no shared state). */
#ifndef GTP_THRIFT_READ_H
#define GTP_THRIFT_READ_H

#include <stddef.h>
#include <stdint.h>

#define GTP_THRIFT_READ_MAX_DEPTH 32

struct gtp_thrift_field;

/* One decoded value. type is the compact type nibble (enum gtp_thrift_type), except that
 * booleans always have type GTP_THRIFT_BOOL_TRUE with the value in i. */
struct gtp_thrift_node {
    int type;
    int64_t i;                       /* i8/i16/i32/i64, bool */
    const uint8_t *bin;              /* binary: borrowed from the input */
    size_t len;                      /* binary bytes, list elements or struct fields */
    struct gtp_thrift_node *elem;    /* list/set elements (owned by the node) */
    int elem_type;                   /* list/set element type nibble */
    struct gtp_thrift_field *fields; /* struct fields in wire order (owned by the node) */
};

struct gtp_thrift_field {
    int id;
    struct gtp_thrift_node v;
};

/* Decode one struct from p[0, n) into *out (always initialised, release it with
 * gtp_thrift_read_fini even on failure). Returns the bytes consumed, or -1 when the message
 * is malformed or truncated. Binary values in the tree borrow p. */
long gtp_thrift_read_struct(const uint8_t *p, size_t n, struct gtp_thrift_node *out);

/* Free what a decode allocated under node (not node itself). Accepts NULL. */
void gtp_thrift_read_fini(struct gtp_thrift_node *node);

/* The value of field id of a struct node (borrowed from it), or NULL when st is NULL, not a
 * struct or has no such field. */
const struct gtp_thrift_node *gtp_thrift_read_get(const struct gtp_thrift_node *st, int id);

#endif
