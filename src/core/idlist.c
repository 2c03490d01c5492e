/* Event ids with their windows in one arena (see idlist.h). */
#include "gtp/idlist.h"
#include "gtp/util.h"

#include <stdlib.h>
#include <string.h>

void gtp_idlist_add_id(struct gtp_idlist *l, int64_t window_start_us, const struct gtp_eventid *id)
{
    size_t stored = id->packed ? sizeof(id->bin) : id->len;
    /* offsets and lengths are 32-bit; nothing near this fits in memory at flush sizes */
    if (id->len >= GTP_IDLIST_PACKED || l->arena.len > UINT32_MAX - stored)
        abort();
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = gtp_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] =
        (struct gtp_idlist_entry){window_start_us, (uint32_t)l->arena.len,
                                  (uint32_t)id->len | (id->packed ? GTP_IDLIST_PACKED : 0)};
    gtp_buf_put(&l->arena, id->packed ? (const void *)id->bin : id->text, stored);
}

void gtp_idlist_add(struct gtp_idlist *l, int64_t window_start_us, const char *id, size_t len)
{
    struct gtp_eventid e;
    gtp_eventid_init(&e, id, len);
    gtp_idlist_add_id(l, window_start_us, &e);
}

const char *gtp_idlist_id(const struct gtp_idlist *l, size_t i, char buf[GTP_UUIDTEXT_LEN])
{
    const char *p = l->arena.p + l->v[i].off;
    if (!(l->v[i].len & GTP_IDLIST_PACKED))
        return p;
    gtp_uuidtext_unpack((const uint8_t *)p, buf);
    return buf;
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
