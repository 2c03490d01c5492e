/* Event ids with their windows in one arena (see idlist.h). */
#include "gtp/idlist.h"
#include "gtp/util.h"

#include <stdlib.h>
#include <string.h>

void gtp_idlist_add(struct gtp_idlist *l, int64_t window_start_us, const char *id, size_t len)
{
    if (l->arena_len + len > l->arena_cap) {
        size_t cap = l->arena_cap ? l->arena_cap : 8192;
        while (cap < l->arena_len + len)
            cap *= 2;
        l->arena = gtp_xrealloc(l->arena, cap);
        l->arena_cap = cap;
    }
    if (len)
        memcpy(l->arena + l->arena_len, id, len);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = gtp_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = (struct gtp_idlist_entry){window_start_us, l->arena_len, len};
    l->arena_len += len;
}

void gtp_idlist_reset(struct gtp_idlist *l)
{
    l->n = 0;
    l->arena_len = 0;
}

void gtp_idlist_fini(struct gtp_idlist *l)
{
    free(l->v);
    free(l->arena);
    memset(l, 0, sizeof(*l));
}
