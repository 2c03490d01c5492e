/* The insights aggregates of one flush (docs/redis.md "Insights keys"): postings per
 * region and hour, remote postings and seniority per skill and skill pairs, accumulated as
 * deltas keyed in binary (skill indexes, region code, window start) so the per-event cost
 * is a few hash probes and the flush sends one command per distinct key; and the
 * (skill, day, company) elements of the distinct-employer sets, with the company interned
 * once per posting, each element kept once in a set of its own: a posting's skills repeat
 * the same few hundred companies all flush long, so the set holds a fraction of the
 * entries a list of every (posting, skill) held, and a flush's memory no longer grows with
 * its postings times their skills (docs/redis.md "Insights keys", "Cost"). Each element
 * Redis is spared is worth about half a microsecond of its time. Strings are made only at
 * flush time. Owned by struct agg,
 * single-threaded (the processor's main thread); company names are normalized on the
 * enrichment threads (insights_company_put). */
#ifndef GTP_PROCESSOR_INSIGHTS_H
#define GTP_PROCESSOR_INSIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/buf.h"
#include "gtp/rediscmd.h"
#include "gtp/skills.h"
#include "gtp/strmap.h"
#include "hllsent.h"

#define INSIGHTS_DAY_US (INT64_C(86400) * 1000000)

enum insights_kind {
    INSIGHTS_POSTS,  /* posts:{region}:{hour} and gtp:posts:{hour} */
    INSIGHTS_REMOTE, /* remote:{skill}:{hour} */
    INSIGHTS_LEVEL,  /* level:{skill}:{level}:{day} */
    INSIGHTS_PAIR,   /* pairs:{day} and gtp:pairs:{day}:{skill} both ways */
    INSIGHTS_RPOSTS, /* remote_posts:{region}:{hour}: counted remote postings */
    INSIGHTS_NKINDS
};

/* The key of a delta, 16 bytes so a table entry is 24: compared and hashed as two words, so
 * every byte (the union's unused ones too) is set. */
struct insights_key {
    uint32_t hour; /* hour start (posts, remote) or day start (level, pair), in hours since 1970 */
    uint8_t kind;
    uint8_t level; /* LEVEL */
    uint16_t a;    /* skill index (REMOTE, LEVEL, PAIR) */
    union {
        char region[8]; /* POSTS, RPOSTS: uppercase code, NUL-padded */
        uint16_t b;     /* PAIR: the other skill, a < b (the other bytes zero) */
    } u;
};

struct insights_delta {
    struct insights_key k;
    int64_t count; /* 0: empty slot */
};

struct insights {
    bool on;                  /* --insights: when false insights_add does nothing */
    struct insights_delta *v; /* open addressing, capacity a power of two */
    size_t cap, used;
    size_t nkind[INSIGHTS_NKINDS]; /* distinct keys per kind */
    /* employers: the distinct (skill, day, company number) elements, each packed as
     * skill << 48 | day << 32 | (company number + 1), day counted from GTP_TIME_MIN_US (every
     * event time is in the years 2000-2100); 0 marks an empty slot of the open-addressing
     * set, which is at most 3/4 full; company number i is the distinct name
     * names[name_off[i]..+name_len[i]) (ids: name -> i + 1) */
    uint64_t *emp;
    size_t nemp, emp_cap;
    struct gtp_strmap *ids;
    struct gtp_buf names;
    size_t *name_off, *name_len, nnames, names_cap;
};

/* One counted posting as the enrichment saw it (everything borrowed). */
struct insights_post {
    const struct gtp_skill_set *skills;
    size_t nskills; /* the taxonomy's skill count: words of skills past it are not read */
    const char *region;
    int64_t posted_us;
    int is_remote;       /* 1 true, 0 false, -1 absent */
    int level;           /* enum gtp_seniority_level; 0 (unspecified) is not counted */
    const char *company; /* normalized (insights_company_put); NULL or "" when absent */
    size_t company_len;
};

void insights_init(struct insights *in, bool on);
void insights_fini(struct insights *in);
/* Forget every pending delta and name (after a flush or a reload). */
void insights_reset(struct insights *in);
/* Count one posting: 1 to its posts key (and its remote_posts key when remote), and for
 * each skill its remote, level and employer entries and every pair with another of its
 * skills. */
void insights_add(struct insights *in, const struct insights_post *p);

/* Append the normalized company name of s[0..len) and a NUL to b: ASCII whitespace trimmed
 * at both ends, ASCII letters lowercased, every other byte (UTF-8 included) kept as it is,
 * so "  ACME Ltd " and "acme ltd" are one employer but "ÄCME" and "äcme" are two (docs/redis.md).
 * Returns the normalized length (0: no company). */
size_t insights_company_put(struct gtp_buf *b, const char *s, size_t len);

/* Append the flush script's insights arguments to c (store.c documents the layout): the
 * posts, counter, pair and employer sections (only when in->on: the script skips them
 * when its insights flag is "0"). Company
 * names are borrowed from in: c must be sent before in is reset. sk: the taxonomy of
 * the skill indexes (borrowed). sent (borrowed, may be NULL): employer names an applied flush
 * already added are left out (a group whose names all are is sent with none, for its TTL), and
 * the ones sent are staged into it. */
void insights_emit(const struct insights *in, struct gtp_rediscmd *c, const struct gtp_skills *sk,
                   struct hllsent *sent);

/* Name of company number i (NUL-terminated, borrowed until the next reset) and its length. */
static inline const char *insights_name(const struct insights *in, uint32_t i, size_t *len)
{
    *len = in->name_len[i];
    return in->names.p + in->name_off[i];
}

#endif
