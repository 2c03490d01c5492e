/* Dedup ids grouped by window as gtp:seen records (see idlist.h). */
#include "idlist.h"
#include "argfmt.h"
#include "gtp/util.h"

#include <stdlib.h>
#include <string.h>

static struct idgroup *group_for(struct idlist *l, int64_t window_start_us)
{
    if (l->last < l->ng && l->g[l->last].window_start_us == window_start_us)
        return &l->g[l->last];
    for (size_t i = 0; i < l->ng; i++)
        if (l->g[i].window_start_us == window_start_us) {
            l->last = i;
            return &l->g[i];
        }
    if (l->ng == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->g = gtp_xrealloc(l->g, l->cap * sizeof(*l->g));
    }
    l->last = l->ng;
    l->g[l->ng] = (struct idgroup){.window_start_us = window_start_us};
    return &l->g[l->ng++];
}

void idlist_add_id(struct idlist *l, int64_t window_start_us, const struct gtp_eventid *id)
{
    struct idgroup *g = group_for(l, window_start_us);
    if (id->packed) {
        gtp_buf_reserve(&g->rec, 1 + sizeof(id->bin));
        g->rec.p[g->rec.len] = 'u';
        memcpy(g->rec.p + g->rec.len + 1, id->bin, sizeof(id->bin));
        g->rec.len += 1 + sizeof(id->bin);
    } else {
        char num[ARGFMT_I64_MAX + 1];
        size_t nl = argfmt_i64(num, (int64_t)id->len);
        num[nl++] = ':';
        gtp_buf_put(&g->rec, num, nl);
        gtp_buf_put(&g->rec, id->text, id->len);
    }
    g->n++;
    l->n++;
}

void idlist_add(struct idlist *l, int64_t window_start_us, const char *id, size_t len)
{
    struct gtp_eventid e;
    gtp_eventid_init(&e, id, len);
    idlist_add_id(l, window_start_us, &e);
}

void idlist_reset(struct idlist *l)
{
    for (size_t i = 0; i < l->ng; i++)
        gtp_buf_fini(&l->g[i].rec);
    l->ng = 0;
    l->n = 0;
    l->last = 0;
}

void idlist_fini(struct idlist *l)
{
    idlist_reset(l);
    free(l->g);
    memset(l, 0, sizeof(*l));
}
