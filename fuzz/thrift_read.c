/* Thrift compact-protocol reader for structural checks (see thrift_read.h). */
#include "thrift_read.h"

#include <stdlib.h>
#include <string.h>

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
        uint8_t b;
        if (r->pos >= r->n)
            return -1;
        b = r->p[r->pos++];
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

static int value(struct rd *r, int type, struct tr_node *out, int in_list);

static int read_struct(struct rd *r, struct tr_node *out)
{
    int last = 0;
    size_t cap = 0;
    out->type = 12;
    if (++r->depth > 32)
        return -1;
    for (;;) {
        uint8_t h;
        int id, type;
        uint64_t v;
        if (r->pos >= r->n)
            return -1;
        h = r->p[r->pos++];
        if (h == 0)
            break;
        type = h & 15;
        if (h >> 4) {
            id = last + (h >> 4);
        } else {
            if (varint(r, &v))
                return -1;
            id = (int)unzig(v);
        }
        last = id;
        if (out->len == cap) {
            cap = cap ? cap * 2 : 8;
            out->fields = gtp_xrealloc(out->fields, cap * sizeof(*out->fields));
        }
        memset(&out->fields[out->len], 0, sizeof(out->fields[0]));
        out->fields[out->len].id = id;
        out->len++;
        if (value(r, type, &out->fields[out->len - 1].v, 0))
            return -1;
    }
    r->depth--;
    return 0;
}

static int value(struct rd *r, int type, struct tr_node *out, int in_list)
{
    uint64_t v;
    out->type = type;
    switch (type) {
    case 1:
    case 2:
        if (in_list) {
            if (r->pos >= r->n)
                return -1;
            out->i = r->p[r->pos++] == 1;
        } else {
            out->i = type == 1;
        }
        out->type = 1;
        return 0;
    case 3:
        if (r->pos >= r->n)
            return -1;
        out->i = (int8_t)r->p[r->pos++];
        return 0;
    case 4:
    case 5:
    case 6:
        if (varint(r, &v))
            return -1;
        out->i = unzig(v);
        return 0;
    case 7:
        if (r->n - r->pos < 8)
            return -1;
        r->pos += 8;
        return 0;
    case 8:
        if (varint(r, &v) || v > r->n - r->pos)
            return -1;
        out->bin = r->p + r->pos;
        out->len = (size_t)v;
        r->pos += (size_t)v;
        return 0;
    case 9:
    case 10: {
        uint8_t h;
        size_t cnt;
        if (r->pos >= r->n)
            return -1;
        h = r->p[r->pos++];
        cnt = h >> 4;
        if (cnt == 15) {
            if (varint(r, &v) || v > r->n - r->pos)
                return -1; /* every element takes at least a byte */
            cnt = (size_t)v;
        }
        out->elem_type = h & 15;
        out->elem = gtp_xcalloc(cnt ? cnt : 1, sizeof(*out->elem));
        out->len = cnt;
        if (++r->depth > 32)
            return -1;
        for (size_t i = 0; i < cnt; i++)
            if (value(r, out->elem_type, &out->elem[i], 1))
                return -1;
        r->depth--;
        return 0;
    }
    case 12:
        return read_struct(r, out);
    default:
        return -1; /* maps and unknown types: Parquet metadata has none */
    }
}

long tr_struct(const uint8_t *p, size_t n, struct tr_node *out)
{
    struct rd r = {p, n, 0, 0};
    memset(out, 0, sizeof(*out));
    if (read_struct(&r, out))
        return -1;
    return (long)r.pos;
}

void tr_free(struct tr_node *node)
{
    if (!node)
        return;
    if (node->type == 12 && node->fields) {
        for (size_t i = 0; i < node->len; i++)
            tr_free(&node->fields[i].v);
        free(node->fields);
    }
    if ((node->type == 9 || node->type == 10) && node->elem) {
        for (size_t i = 0; i < node->len; i++)
            tr_free(&node->elem[i]);
        free(node->elem);
    }
    node->fields = NULL;
    node->elem = NULL;
}

const struct tr_node *tr_get(const struct tr_node *st, int id)
{
    if (!st || st->type != 12)
        return NULL;
    for (size_t i = 0; i < st->len; i++)
        if (st->fields[i].id == id)
            return &st->fields[i].v;
    return NULL;
}
