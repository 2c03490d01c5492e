/* In-memory aggregation of the work pending between two flushes: count deltas
 * per (skill, region, hour) and pipeline counters, merged over all assigned
 * partitions so a flush costs per distinct key (each partition's dedup ids
 * are an idlist beside it). Owned by the processor's main thread. */
#ifndef GTP_PROCESSOR_AGG_H
#define GTP_PROCESSOR_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "insights.h"
#include "gtp/skills.h"

/* Pipeline counters carried in every flush (fields of the gtp:stats hash). */
enum agg_stat {
    AGG_EVENTS,     /* every Kafka message */
    AGG_VALID,      /* accepted by validation */
    AGG_REJECTED,   /* sent to the DLQ */
    AGG_COUNTED,    /* counted into windows */
    AGG_LATE,       /* valid but late */
    AGG_DUPLICATES, /* valid duplicates */
    AGG_MENTIONS,   /* skill mentions added to trend keys */
    AGG_NSTATS
};
extern const char *const agg_stat_names[AGG_NSTATS];

/* 24 bytes, the key (region, hour, skill) compared as two words: one is touched per mention
 * of every counted posting, so the table's footprint is the cost. */
struct agg_delta {
    char region[8]; /* uppercase code, NUL-padded ("UK", "REMOTE", "UNKNOWN") */
    uint32_t hour;  /* window start in hours since 1970 (agg_delta_hour_us) */
    uint16_t skill; /* taxonomy index */
    uint16_t pad;   /* 0 */
    int64_t count;
};

/* The window start of d in µs. */
static inline int64_t agg_delta_hour_us(const struct agg_delta *d)
{
    return (int64_t)d->hour * 3600 * 1000000;
}

struct agg {
    struct agg_delta *deltas; /* open-addressing table, count == 0 means empty */
    size_t cap, used;
    int64_t stats[AGG_NSTATS];
    int64_t rejected_by_reason[16]; /* indexed by the reject enum */
    struct insights ins;            /* on by default (--insights) */
};

void agg_init(struct agg *a);
void agg_fini(struct agg *a);
/* Forget everything pending (after a flush, or when the state is reloaded). */
void agg_reset(struct agg *a);
void agg_add(struct agg *a, uint16_t skill, const char *region, int64_t hour_start, int64_t n);
/* One counted posting: 1 for each of the first nskills skills set in skills (bits by skill
 * index) in region and hour, and as many mentions in the stats. */
void agg_add_mentions(struct agg *a, const struct gtp_skill_set *skills, size_t nskills,
                      const char *region, int64_t hour_start);

#endif
