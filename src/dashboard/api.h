/* The dashboard's JSON APIs (docs/dashboard.md) over the processor's Redis index
 * (src/processor/store.c): parameter validation, a bounded number of
 * pipelined commands per call (never KEYS or SCAN), and the JSON answers.
 *
 * Redis data read here (hour = "YYYY-MM-DD-HH", UTC start of the window):
 *   gtp:hours              ZSET hour label -> hour start (s): hours with data
 *   gtp:pulse:{hour}       ZSET skill id -> mentions over all regions
 *   gtp:heat:{hour}        ZSET region -> mentions over all skills
 *   gtp:heat:{hour}:{skill} ZSET region -> mentions of that skill
 *   gtp:stats              HASH pipeline counters
 * "The last N hours" end at the newest hour in gtp:hours, not at the wall
 * clock, so simulated-time data shows up. The insight APIs (skill and region
 * profiles, rising and falling) are in insights.h and share the pieces below. */
#ifndef DASH_API_H
#define DASH_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "gtp/rediscmd.h"
#include "gtp/skills.h"
#include "jout.h"

#define API_HOURS_MAX    168
#define API_TOP_MAX      20
#define API_GRID_SKILLS  10
#define API_GRID_REGIONS 12
#define API_SKILL_MAX    64
#define API_REGION_MAX   16

enum api_metric { API_MENTIONS, API_SHARE };
enum api_format { API_JSON, API_CSV };

struct api_params {
    int hours;                     /* 1..API_HOURS_MAX */
    int top;                       /* 1..API_TOP_MAX */
    char skill[API_SKILL_MAX + 1]; /* "" = all skills */
    /* set by api_parse_more (api_parse leaves them empty / 0) */
    char region[API_REGION_MAX + 1]; /* lowercase; "" = none */
    enum api_metric metric;
    enum api_format format;
};

/* Validate query parameters (NULL = absent: defaults hours 24, top 5, no
 * skill). A skill must be a known id of sk (sk may be NULL: syntax only).
 * Returns 0 or GTP_ERR_INVAL with a message for the 400 answer in errstr. */
int api_parse(const char *hours, const char *top, const char *skill, const struct gtp_skills *sk,
              struct api_params *q, char *errstr, size_t errstr_size);

/* Validate the insight parameters into q (after api_parse; NULL = absent):
 * region a region code ([A-Za-z0-9-], 1-16 chars, stored lowercase),
 * metric "mentions" or "share", format "json" or "csv". Returns 0 or
 * GTP_ERR_INVAL with the 400 message in errstr. */
int api_parse_more(const char *region, const char *metric, const char *format, struct api_params *q,
                   char *errstr, size_t errstr_size);

/* Run one API call on rc and append its JSON to out. sk: borrowed, for
 * display names (NULL: names are the ids).
 * Returns 0; GTP_ERR_REDIS when the connection failed (the context is dead:
 * give it back as broken, answer 503); GTP_ERR_PARSE when Redis answered
 * something unexpected (an error reply, a wrong type: answer 502). */
int api_pulse(redisContext *rc, const struct gtp_skills *sk, const struct api_params *q,
              struct jout *out, char *errstr, size_t errstr_size);
int api_heatmap(redisContext *rc, const struct gtp_skills *sk, const struct api_params *q,
                struct jout *out, char *errstr, size_t errstr_size);
/* now_ms: wall clock, for freshness. */
int api_stats(redisContext *rc, int64_t now_ms, struct jout *out, char *errstr, size_t errstr_size);

/* ---- pieces shared with insights.c ------------------------------------------ */

struct api_rank;

/* Free reps[0..n) and set them to NULL. */
void api_free_replies(redisReply **reps, size_t n);
/* Describe an unexpected reply in errstr; returns GTP_ERR_PARSE. */
int api_bad_reply(const redisReply *rep, const char *what, char *errstr, size_t errstr_size);
/* A Redis score or integer string as a count (rounded); false when it is not one. */
bool api_score(const redisReply *r, int64_t *out);
/* The newest hour with data: 1 and *newest_s, 0 when there is none, or an error. */
int api_newest_hour(redisContext *rc, int64_t *newest_s, char *errstr, size_t errstr_size);
/* ZUNION n "<prefix><label><suffix>" keys WITHSCORES into c. */
void api_cmd_zunion(struct gtp_rediscmd *c, const char *prefix, char (*labels)[16], int n,
                    const char *suffix);
/* The taxonomy's display name of a skill id (borrowed from sk), or NULL. */
const char *api_skill_cname(const struct gtp_skills *sk, const char *id, size_t len);
/* Sum of the scores of a flat [member, score, ...] reply; -1 on a bad shape. */
int64_t api_reply_sum(const redisReply *rep);
/* Order of two Redis members: bytes, then length. */
int api_member_cmp(const char *a, size_t alen, const char *b, size_t blen);
/* The display name (JSON) of a skill id; the id when the taxonomy lacks it. */
void api_skill_name(struct jout *out, const struct gtp_skills *sk, const char *id, size_t len);
/* A region as shown: uppercase (JSON). */
void api_region_str(struct jout *out, const char *s, size_t len);
/* Count of member m in a ranked list, 0 when absent. */
int64_t api_rank_lookup(const struct api_rank *r, long n, const char *m, size_t len);

/* ---- pure pieces, exposed for the unit tests --------------------------------- */

/* One ranked member of a ZUNION ... WITHSCORES answer. */
struct api_rank {
    const char *member; /* borrowed from the reply */
    size_t len;
    int64_t count;
};

/* Parse a flat [member, score, ...] array reply into *out (new array, free())
 * sorted by count descending, then member ascending. Returns the number of
 * entries, or -1 when the reply has the wrong shape. */
long api_rank_parse(const redisReply *rep, struct api_rank **out);

/* Labels of the n hours ending at the hour starting at newest_s (oldest
 * first) into labels[n][16]. */
void api_hour_labels(int64_t newest_s, int n, char (*labels)[16]);

/* The /api/stats JSON from an HGETALL gtp:stats reply. Returns 0 or
 * GTP_ERR_PARSE. */
int api_stats_json(const redisReply *rep, int64_t now_ms, struct jout *out, char *errstr,
                   size_t errstr_size);

#endif
