/* Event ids counted since a daemon's last durable write, each with its
 * window: the dedup state the processor flushes to Redis with its counts and
 * the archiver writes into its Delta commits. The ids' bytes sit back to back
 * in one arena (no allocation per event) and may hold NUL bytes (any JSON
 * string is an event_id). Used by one thread; zero-initialised is empty. */
#ifndef GTP_IDLIST_H
#define GTP_IDLIST_H

#include <stddef.h>
#include <stdint.h>

#include "gtp/buf.h"

struct gtp_idlist_entry {
    int64_t window_start_us;
    size_t off, len; /* the id's bytes in the arena */
};

struct gtp_idlist {
    struct gtp_idlist_entry *v; /* in arrival order */
    size_t n, cap;
    struct gtp_buf arena;
};

/* Append a copy of id[0..len) counted in the window starting at window_start_us. */
void gtp_idlist_add(struct gtp_idlist *l, int64_t window_start_us, const char *id, size_t len);

/* Forget every id, keep the memory for the next batch. */
void gtp_idlist_reset(struct gtp_idlist *l);

/* Free the memory (l is empty and reusable afterwards). */
void gtp_idlist_fini(struct gtp_idlist *l);

/* The bytes of entry i (valid until the next add or reset; not NUL-terminated). */
static inline const char *gtp_idlist_id(const struct gtp_idlist *l, size_t i)
{
    return l->arena.p + l->v[i].off;
}

#endif
