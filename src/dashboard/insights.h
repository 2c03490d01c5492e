/* The dashboard's insight APIs (docs/dashboard.md): a skill's profile, a
 * region's profile, the rising and falling skills and the taxonomy's skill
 * list, each in JSON or CSV (q->format). Every call is the newest-hour
 * lookup plus ONE pipelined round trip over known key names (never KEYS or
 * SCAN); the keys are the processor's insight keys and indexes
 * (docs/redis.md):
 *   posts:{region}:{hour} via gtp:posts:{hour}     ZSET region -> counted postings
 *   remote:{skill}:{hour}                           STRING remote postings with the skill
 *   level:{skill}:{level}:{day}                     STRING postings with the skill per level
 *   gtp:pairs:{day}:{skill}                         ZSET other skill -> postings with both
 *   employers:{skill}:{day}                         HLL distinct employers
 *   gtp:rskills:{hour}:{region}                     ZSET skill -> mentions in the region
 * Shares are of counted postings: a posting mentions a skill at most once. */
#ifndef DASH_INSIGHTS_H
#define DASH_INSIGHTS_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "api.h"
#include "gtp/skills.h"
#include "jout.h"

/* Below this many postings a region's share is not ranked and a pair is no
 * co-skill: shares of a handful are noise (the growth test's support). */
#define INSIGHT_MIN_SUPPORT 10

/* Return codes as api_pulse (api.h): 0, GTP_ERR_REDIS (503), GTP_ERR_PARSE
 * (502). sk: borrowed; q: validated by api_parse and api_parse_more. */
int api_skill(redisContext *rc, const struct gtp_skills *sk, const struct api_params *q,
              struct jout *out, char *errstr, size_t errstr_size);
int api_region(redisContext *rc, const struct gtp_skills *sk, const struct api_params *q,
               struct jout *out, char *errstr, size_t errstr_size);
int api_rising(redisContext *rc, const struct gtp_skills *sk, const struct api_params *q,
               struct jout *out, char *errstr, size_t errstr_size);
/* Every skill of the taxonomy (no Redis). */
void api_skills(const struct gtp_skills *sk, const struct api_params *q, struct jout *out);

#endif
