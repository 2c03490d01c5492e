/* The dedup ids the processor counted since its last flush, grouped by the window they were
 * counted in, each already in the record form of a gtp:seen value (docs/redis.md): a canonical
 * uuid (gtp/uuidtext.h) as 'u' and its 16 bytes, any other id as its decimal length, ':' and
 * its bytes (which may hold NUL bytes: any JSON string is an event_id). A flush sends each
 * group's records as they are, one APPEND argument, with no copy and no sort: a uuid takes 17
 * bytes here, where an entry, its bytes and their copy in the command took 49, and the
 * processor holds up to one and a half --flush-events of them (docs/redis.md). Used by one thread;
 * zero-initialised is empty. */
#ifndef GTP_PROCESSOR_IDLIST_H
#define GTP_PROCESSOR_IDLIST_H

#include <stddef.h>
#include <stdint.h>

#include "gtp/buf.h"
#include "gtp/uuidtext.h"

/* The ids of one window, in arrival order. */
struct idgroup {
    int64_t window_start_us;
    size_t n;           /* ids in rec */
    struct gtp_buf rec; /* their records, back to back */
};

struct idlist {
    struct idgroup *g; /* in the order of each window's first id; owned */
    size_t ng, cap;
    size_t n;    /* ids over all groups */
    size_t last; /* the group of the last add: ids come in runs of one window */
};

/* Append id[0..len)'s record to the group of the window starting at window_start_us (made when
 * it is the window's first id). */
void idlist_add(struct idlist *l, int64_t window_start_us, const char *id, size_t len);

/* The same for an id whose uuid bytes were parsed already. */
void idlist_add_id(struct idlist *l, int64_t window_start_us, const struct gtp_eventid *id);

/* Forget every id and free the records: the next flush's windows are often others, and a
 * group kept would hold its largest size for good. The group array stays. */
void idlist_reset(struct idlist *l);

/* Free everything (l is empty and reusable afterwards). */
void idlist_fini(struct idlist *l);

#endif
