/* The processor's Redis side (docs/redis.md): one atomic Lua call per partition
 * flush (count deltas, dashboard indexes, insights keys, counters, dedup ids, next offset,
 * max event time) fenced by the expected next offset, and the read of a
 * partition's stored state on assignment. Key layout: docs/redis.md. */
#ifndef GTP_PROCESSOR_STORE_H
#define GTP_PROCESSOR_STORE_H

#include <stdint.h>

#include <hiredis/hiredis.h>

#include "agg.h"
#include "idlist.h"
#include "gtp/rediscmd.h"
#include "gtp/skills.h"
#include "gtp/window.h"

/* Offset value meaning "nothing stored yet: start at the beginning". */
#define STORE_NO_OFFSET (-1)

enum store_result {
    STORE_APPLIED = 0, /* written now */
    STORE_ALREADY = 1, /* the same flush was applied before (retry after a lost reply) */
    STORE_FENCED = 2,  /* another owner moved a partition on: reload and seek */
};

/* What one partition contributes to a flush. */
struct store_part {
    int32_t partition;
    int64_t expected_next; /* the fence: STORE_NO_OFFSET when nothing was stored */
    int64_t new_next;
    int64_t max_event_us;     /* INT64_MIN: none yet */
    int64_t purge_before_us;  /* dedup windows starting before this are final; INT64_MIN: none */
    const struct idlist *ids; /* counted since the last flush, by window */
};

struct store_flush {
    const char *topic;
    struct store_part *parts;
    size_t nparts;
    long long ttl_s;
    const struct agg *agg;           /* deltas and counters merged over the partitions */
    const struct gtp_skills *skills; /* borrowed, to turn indexes into ids */
    const char *const *reject_names; /* indexed like agg->rejected_by_reason */
    int nreject_names;
    /* employer elements an applied flush already sent, left out of this one (hllsent.h);
     * this flush's are staged into it. NULL: send every element. */
    struct hllsent *sent;
};

/* The dedup ids of one (partition, window) are one Redis string,
 * gtp:seen:{topic}:{partition}:{window start s}, each flush APPENDing its new
 * ids one record after another: a canonical lowercase uuid (uuidtext.h) as 'u'
 * and its 16 bytes (17 bytes instead of 39), any other id as
 * "<decimal length>:<bytes>" (ids may hold any byte, NUL included; a length
 * never starts with 'u', so the two cannot be confused, and values written
 * before the 'u' records existed read the same). A string, not a set: Redis
 * appends a flush's ids in one memcpy instead of inserting each (the set cost
 * Redis more CPU than all the counts), and the processor alone reads them, on
 * assignment. */

/* Calls fn for each id of a gtp:seen value (a 'u' record as its 36 characters
 * of text, in a buffer valid during the call); GTP_ERR_PARSE (after the ids
 * before the damage) when buf is not such a list. Lengths up to 8 digits. */
int store_seen_each(const char *buf, size_t len, void (*fn)(const char *id, size_t n, void *ctx),
                    void *ctx);

/* Load the flush script (after every connect: a restarted redis forgot it).
 * Returns 0 or GTP_ERR_REDIS with errstr. */
int store_prepare(redisContext *rc, char *errstr, size_t errstr_size);

/* Write command a to rc's socket in Redis's protocol, whole before it returns, formatted a
 * piece of at most about 256 KiB at a time into the scratch buffer b (arguments that long
 * are written from a's storage): the flush's own seam, public for its unit test. a is only
 * read; b is the caller's, kept for reuse. 0, or GTP_ERR_REDIS with errstr. */
int store_command_write(redisContext *rc, struct gtp_rediscmd *a, struct gtp_buf *b, char *errstr,
                        size_t errstr_size);

/* Send one flush of several partitions without waiting for the reply; the
 * script applies all of it or none (a fence failing on any partition applies
 * nothing). f and everything it points to may be reset once this returns 0:
 * the command is copied. At most one flush may be in flight per connection.
 * Returns 0, or GTP_ERR_REDIS with errstr (nothing was executed: retry the
 * same flush after reconnecting). */
int store_flush_send(redisContext *rc, const struct store_flush *f, char *errstr,
                     size_t errstr_size);

/* Wait up to timeout_ms (-1: forever, 0: just look) for the reply of the
 * flush in flight. Returns 1 with *result (and *fenced_partition when
 * fenced) set, 0 when no reply yet, or GTP_ERR_REDIS with errstr: the
 * connection must be dropped and the outcome is unknown, so the caller
 * reloads the partitions' state from redis. */
int store_flush_poll(redisContext *rc, int timeout_ms, enum store_result *result,
                     int32_t *fenced_partition, char *errstr, size_t errstr_size);

/* Compare the next offsets stored in redis with parts[i].expected_next (what
 * this processor last flushed; other fields unused). After a reconnect the
 * server may be a promoted replica that missed our last acknowledged flushes
 * (replication is asynchronous): its offsets, counts and dedup ids are still
 * one consistent earlier state, because one script wrote them together, so
 * the caller reloads from it and replays from its offsets. Returns 0 when all
 * match, 1 with *moved_partition set to the first that differs, or
 * GTP_ERR_REDIS with errstr (drop the connection). */
int store_positions_moved(redisContext *rc, const char *topic, const struct store_part *parts,
                          size_t n, int32_t *moved_partition, char *errstr, size_t errstr_size);

/* Read partition state: next offset (STORE_NO_OFFSET when none), max event
 * time, and every open dedup id restored into w (w must be fresh). */
int store_load(redisContext *rc, const char *topic, int32_t partition, int64_t *next,
               struct gtp_window *w, char *errstr, size_t errstr_size);

#endif
