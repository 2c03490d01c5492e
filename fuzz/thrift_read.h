/* A Thrift compact-protocol reader for the fuzz targets' structural checks,
 * written apart from the project's encoder (src/core/thrift.c) so that a
 * shared misunderstanding cannot hide: it decodes any message into a tree. */
#ifndef GTP_FUZZ_THRIFT_READ_H
#define GTP_FUZZ_THRIFT_READ_H

#include <stddef.h>
#include <stdint.h>

struct tr_field;

struct tr_node {
    int type;             /* compact type nibble; 1 = bool (value in i) */
    int64_t i;            /* integers and bools */
    const uint8_t *bin;   /* binary: borrowed from the input */
    size_t len;           /* binary length, list/struct element count */
    struct tr_node *elem; /* list/set elements (new) */
    int elem_type;
    struct tr_field *fields; /* struct fields (new), len of them */
};

struct tr_field {
    int id;
    struct tr_node v;
};

/* Decode one struct from p[0..n). Returns the bytes consumed, or -1 on a
 * malformed or truncated message. *out must be released with tr_free. */
long tr_struct(const uint8_t *p, size_t n, struct tr_node *out);
void tr_free(struct tr_node *node);

/* Field id of a struct, or NULL. */
const struct tr_node *tr_get(const struct tr_node *st, int id);

#endif
