/* Dedup ids grouped by window as gtp:seen records (see idlist.h). */
#include "gtp/idlist.h"
#include "gtp/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct gtp_idgroup *group_for(struct gtp_idlist *l, int64_t window_start_us)
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
    l->g[l->ng] = (struct gtp_idgroup){.window_start_us = window_start_us};
    return &l->g[l->ng++];
}

void gtp_idlist_add_id(struct gtp_idlist *l, int64_t window_start_us, const struct gtp_eventid *id)
{
    struct gtp_idgroup *g = group_for(l, window_start_us);
    if (id->packed) {
        gtp_buf_reserve(&g->rec, 1 + sizeof(id->bin));
        g->rec.p[g->rec.len] = 'u';
        memcpy(g->rec.p + g->rec.len + 1, id->bin, sizeof(id->bin));
        g->rec.len += 1 + sizeof(id->bin);
    } else {
        char num[24];
        int nl = snprintf(num, sizeof(num), "%zu:", id->len);
        gtp_buf_put(&g->rec, num, (size_t)nl);
        gtp_buf_put(&g->rec, id->text, id->len);
    }
    g->n++;
    l->n++;
}

void gtp_idlist_add(struct gtp_idlist *l, int64_t window_start_us, const char *id, size_t len)
{
    struct gtp_eventid e;
    gtp_eventid_init(&e, id, len);
    gtp_idlist_add_id(l, window_start_us, &e);
}

void gtp_idlist_reset(struct gtp_idlist *l)
{
    for (size_t i = 0; i < l->ng; i++)
        gtp_buf_fini(&l->g[i].rec);
    l->ng = 0;
    l->n = 0;
    l->last = 0;
}

void gtp_idlist_fini(struct gtp_idlist *l)
{
    gtp_idlist_reset(l);
    free(l->g);
    memset(l, 0, sizeof(*l));
}
