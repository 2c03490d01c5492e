/* Event ids with their windows in one arena (see idlist.h). */
#include "gtp/idlist.h"
#include "gtp/util.h"

#include <stdlib.h>
#include <string.h>

void gtp_idlist_add(struct gtp_idlist *l, int64_t window_start_us, const char *id, size_t len)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = gtp_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = (struct gtp_idlist_entry){window_start_us, l->arena.len, len};
    gtp_buf_put(&l->arena, id, len);
}

void gtp_idlist_reset(struct gtp_idlist *l)
{
    l->n = 0;
    gtp_buf_reset(&l->arena);
}

void gtp_idlist_fini(struct gtp_idlist *l)
{
    free(l->v);
    gtp_buf_fini(&l->arena);
    memset(l, 0, sizeof(*l));
}
