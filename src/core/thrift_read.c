/* Thrift compact-protocol decoder (see include/gtp/thrift_read.h; the wire format is
 * apache/thrift doc/specs/thrift-compact-protocol.md). Recursive descent over a bounded
 * buffer; moved here from fuzz/ when the Parquet reader needed it. */
#include "gtp/thrift_read.h"

#include <stdlib.h>
#include <string.h>

#include "gtp/thrift.h"
#include "gtp/util.h"

struct rd {
    const uint8_t *p;
    size_t n, pos;
    int depth;
};

static int varint(struct rd *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->pos >= r->n)
            return -1;
        uint8_t b = r->p[r->pos++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static int64_t unzig(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int value(struct rd *r, int type, struct gtp_thrift_node *out, int in_list);

static int read_struct(struct rd *r, struct gtp_thrift_node *out)
{
    int last = 0;
    size_t cap = 0;
    out->type = GTP_THRIFT_STRUCT;
    if (++r->depth > GTP_THRIFT_READ_MAX_DEPTH)
        return -1;
    for (;;) {
        uint64_t v;
        int id;
        if (r->pos >= r->n)
            return -1;
        uint8_t h = r->p[r->pos++];
        if (h == 0)
            break;
        if (h >> 4) {
            id = last + (h >> 4);
        } else {
            /* Long form: the id follows as a zigzag i16. */
            if (varint(r, &v))
                return -1;
            int64_t lid = unzig(v);
            if (lid < INT16_MIN || lid > INT16_MAX)
                return -1;
            id = (int)lid;
        }
        last = id;
        if (out->len == cap) {
            cap = cap ? cap * 2 : 8;
            out->fields = gtp_xrealloc(out->fields, cap * sizeof(*out->fields));
        }
        /* Counted before decoding, so a failed decode still frees what it built. */
        struct gtp_thrift_field *f = &out->fields[out->len++];
        memset(f, 0, sizeof(*f));
        f->id = id;
        if (value(r, h & 15, &f->v, 0))
            return -1;
    }
    r->depth--;
    return 0;
}

static int read_list(struct rd *r, struct gtp_thrift_node *out)
{
    uint64_t v;
    if (r->pos >= r->n)
        return -1;
    uint8_t h = r->p[r->pos++];
    size_t cnt = h >> 4;
    if (cnt == 15) {
        /* Every element takes at least one byte: a count beyond the bytes left is a lie,
         * and refusing it bounds the allocation below by the input size. */
        if (varint(r, &v) || v > r->n - r->pos)
            return -1;
        cnt = (size_t)v;
    }
    if (cnt > r->n - r->pos)
        return -1;
    out->elem_type = h & 15;
    out->elem = gtp_xcalloc(cnt ? cnt : 1, sizeof(*out->elem));
    out->len = cnt;
    if (++r->depth > GTP_THRIFT_READ_MAX_DEPTH)
        return -1;
    for (size_t i = 0; i < cnt; i++)
        if (value(r, out->elem_type, &out->elem[i], 1))
            return -1;
    r->depth--;
    return 0;
}

static int value(struct rd *r, int type, struct gtp_thrift_node *out, int in_list)
{
    uint64_t v;
    out->type = type;
    switch (type) {
    case GTP_THRIFT_BOOL_TRUE:
    case GTP_THRIFT_BOOL_FALSE:
        /* A bool field carries its value in the type nibble; a list element is a byte. */
        if (in_list) {
            if (r->pos >= r->n)
                return -1;
            out->i = r->p[r->pos++] == GTP_THRIFT_BOOL_TRUE;
        } else {
            out->i = type == GTP_THRIFT_BOOL_TRUE;
        }
        out->type = GTP_THRIFT_BOOL_TRUE;
        return 0;
    case GTP_THRIFT_I8:
        if (r->pos >= r->n)
            return -1;
        out->i = (int8_t)r->p[r->pos++];
        return 0;
    case GTP_THRIFT_I16:
    case GTP_THRIFT_I32:
    case GTP_THRIFT_I64:
        if (varint(r, &v))
            return -1;
        out->i = unzig(v);
        return 0;
    case GTP_THRIFT_DOUBLE:
        if (r->n - r->pos < 8)
            return -1;
        r->pos += 8;
        return 0;
    case GTP_THRIFT_BINARY:
        if (varint(r, &v) || v > r->n - r->pos)
            return -1;
        out->bin = r->p + r->pos;
        out->len = (size_t)v;
        r->pos += (size_t)v;
        return 0;
    case GTP_THRIFT_LIST:
    case GTP_THRIFT_SET:
        return read_list(r, out);
    case GTP_THRIFT_STRUCT:
        return read_struct(r, out);
    default:
        return -1;
    }
}

long gtp_thrift_read_struct(const uint8_t *p, size_t n, struct gtp_thrift_node *out)
{
    struct rd r = {p, n, 0, 0};
    memset(out, 0, sizeof(*out));
    if (read_struct(&r, out))
        return -1;
    return (long)r.pos;
}

void gtp_thrift_read_fini(struct gtp_thrift_node *node)
{
    if (!node)
        return;
    if (node->type == GTP_THRIFT_STRUCT && node->fields) {
        for (size_t i = 0; i < node->len; i++)
            gtp_thrift_read_fini(&node->fields[i].v);
        free(node->fields);
    }
    if ((node->type == GTP_THRIFT_LIST || node->type == GTP_THRIFT_SET) && node->elem) {
        for (size_t i = 0; i < node->len; i++)
            gtp_thrift_read_fini(&node->elem[i]);
        free(node->elem);
    }
    node->fields = NULL;
    node->elem = NULL;
}

const struct gtp_thrift_node *gtp_thrift_read_get(const struct gtp_thrift_node *st, int id)
{
    if (!st || st->type != GTP_THRIFT_STRUCT)
        return NULL;
    for (size_t i = 0; i < st->len; i++)
        if (st->fields[i].id == id)
            return &st->fields[i].v;
    return NULL;
}
