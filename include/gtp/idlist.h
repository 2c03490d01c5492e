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
#include "gtp/uuidtext.h"

/* An entry takes 16 bytes and a canonical uuid id (gtp/uuidtext.h) 16 more in the arena, where
 * its text took 36: the processor holds up to twice --flush-events of them (docs/redis.md). */
struct gtp_idlist_entry {
    int64_t window_start_us;
    uint32_t off; /* the id's bytes in the arena */
    uint32_t len; /* the id's length; GTP_IDLIST_PACKED: kept as a uuid's 16 bytes */
};

#define GTP_IDLIST_PACKED 0x80000000u

struct gtp_idlist {
    struct gtp_idlist_entry *v; /* in arrival order */
    size_t n, cap;
    struct gtp_buf arena;
};

/* Append a copy of id[0..len) counted in the window starting at window_start_us. The arena
 * holds at most 4 GiB and an id less than 2 GiB: beyond, the process aborts (as on OOM). */
void gtp_idlist_add(struct gtp_idlist *l, int64_t window_start_us, const char *id, size_t len);

/* The same for an id whose uuid bytes were parsed already. */
void gtp_idlist_add_id(struct gtp_idlist *l, int64_t window_start_us, const struct gtp_eventid *id);

/* Forget every id, keep the memory for the next batch. */
void gtp_idlist_reset(struct gtp_idlist *l);

/* Free the memory (l is empty and reusable afterwards). */
void gtp_idlist_fini(struct gtp_idlist *l);

/* The length in bytes of entry i's id. */
static inline size_t gtp_idlist_len(const struct gtp_idlist *l, size_t i)
{
    return l->v[i].len & ~GTP_IDLIST_PACKED;
}

/* The 16 bytes of entry i's id when it is kept packed (a canonical uuid, uuidtext.h), in the
 * arena (valid until the next add or reset); NULL when it is kept as text. */
static inline const uint8_t *gtp_idlist_packed(const struct gtp_idlist *l, size_t i)
{
    return (l->v[i].len & GTP_IDLIST_PACKED) ? (const uint8_t *)l->arena.p + l->v[i].off : NULL;
}

/* The bytes of entry i's id, gtp_idlist_len of them, not NUL-terminated: in the arena (valid
 * until the next add or reset) or, for a packed uuid, written to buf. */
const char *gtp_idlist_id(const struct gtp_idlist *l, size_t i, char buf[GTP_UUIDTEXT_LEN]);

#endif
