/* /api/pulse, /api/heatmap and /api/stats over the processor's Redis index:
 * at most three pipelined round trips per call (see api.h). */
#include "api.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/err.h"
#include "gtp/rediscmd.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"

/* ---- parameters ------------------------------------------------------------------ */

/* Whole decimal number in [lo, hi]; no sign, no spaces, at most 9 digits. */
static int parse_range(const char *name, const char *s, int lo, int hi, int *out, char *errstr,
                       size_t errstr_size)
{
    long v = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 9)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            goto bad;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        goto bad;
    *out = (int)v;
    return 0;
bad:
    gtp_errf(errstr, errstr_size, "%s must be a whole number from %d to %d", name, lo, hi);
    return GTP_ERR_INVAL;
}

int api_parse(const char *hours, const char *top, const char *skill, const struct gtp_skills *sk,
              struct api_params *q, char *errstr, size_t errstr_size)
{
    memset(q, 0, sizeof(*q));
    q->hours = 24;
    q->top = 5;
    if (hours && parse_range("hours", hours, 1, API_HOURS_MAX, &q->hours, errstr, errstr_size))
        return GTP_ERR_INVAL;
    if (top && parse_range("top", top, 1, API_TOP_MAX, &q->top, errstr, errstr_size))
        return GTP_ERR_INVAL;
    if (skill) {
        size_t n = strlen(skill);
        bool ok = n >= 1 && n <= API_SKILL_MAX;
        for (size_t i = 0; ok && i < n; i++)
            ok = (skill[i] >= 'a' && skill[i] <= 'z') || (skill[i] >= '0' && skill[i] <= '9') ||
                 skill[i] == '-';
        if (!ok) {
            gtp_errf(errstr, errstr_size, "skill must be a skill id ([a-z0-9-], 1 to %d chars)",
                     API_SKILL_MAX);
            return GTP_ERR_INVAL;
        }
        if (sk && gtp_skills_find(sk, skill) < 0) {
            gtp_errf(errstr, errstr_size, "unknown skill id");
            return GTP_ERR_INVAL;
        }
        memcpy(q->skill, skill, n + 1);
    }
    return 0;
}

int api_parse_more(const char *region, const char *metric, const char *format, struct api_params *q,
                   char *errstr, size_t errstr_size)
{
    q->region[0] = '\0';
    q->metric = API_MENTIONS;
    q->format = API_JSON;
    if (region) {
        size_t n = strlen(region);
        bool ok = n >= 1 && n <= API_REGION_MAX;
        for (size_t i = 0; ok && i < n; i++)
            ok = isalnum((unsigned char)region[i]) || region[i] == '-';
        if (!ok) {
            gtp_errf(errstr, errstr_size,
                     "region must be a region code ([A-Za-z0-9-], 1 to %d chars)", API_REGION_MAX);
            return GTP_ERR_INVAL;
        }
        for (size_t i = 0; i <= n; i++)
            q->region[i] = (char)tolower((unsigned char)region[i]);
    }
    if (metric && !strcmp(metric, "share"))
        q->metric = API_SHARE;
    else if (metric && strcmp(metric, "mentions")) {
        gtp_errf(errstr, errstr_size, "metric must be mentions or share");
        return GTP_ERR_INVAL;
    }
    if (format && !strcmp(format, "csv"))
        q->format = API_CSV;
    else if (format && strcmp(format, "json")) {
        gtp_errf(errstr, errstr_size, "format must be json or csv");
        return GTP_ERR_INVAL;
    }
    return 0;
}

/* ---- pipelines ------------------------------------------------------------------- */

void api_free_replies(redisReply **reps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (reps[i]) {
            freeReplyObject(reps[i]);
            reps[i] = NULL;
        }
}

int api_bad_reply(const redisReply *rep, const char *what, char *errstr, size_t errstr_size)
{
    if (rep && rep->type == REDIS_REPLY_ERROR)
        gtp_errf(errstr, errstr_size, "%s: redis error %.200s", what, rep->str);
    else
        gtp_errf(errstr, errstr_size, "%s: unexpected redis reply", what);
    return GTP_ERR_PARSE;
}

/* ---- pure pieces ----------------------------------------------------------------- */

/* A Redis score as a count: scores are sums of integers, so round. */
bool api_score(const redisReply *r, int64_t *out)
{
    char *end;
    double d;
    if (!r || r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 40)
        return false;
    d = strtod(r->str, &end);
    if (end != r->str + r->len || !isfinite(d) || fabs(d) > 9e15)
        return false;
    *out = (int64_t)llround(d);
    return true;
}

int api_member_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

int64_t api_reply_sum(const redisReply *rep)
{
    int64_t sum = 0, v;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements % 2)
        return -1;
    for (size_t i = 1; i < rep->elements; i += 2) {
        if (!api_score(rep->element[i], &v))
            return -1;
        sum += v;
    }
    return sum;
}

static int rank_cmp(const void *a, const void *b)
{
    const struct api_rank *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return api_member_cmp(x->member, x->len, y->member, y->len);
}

long api_rank_parse(const redisReply *rep, struct api_rank **out)
{
    struct api_rank *r;
    size_t n;
    *out = NULL;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements % 2)
        return -1;
    n = rep->elements / 2;
    r = gtp_xcalloc(n ? n : 1, sizeof(*r));
    for (size_t i = 0; i < n; i++) {
        const redisReply *m = rep->element[2 * i];
        if (!m || m->type != REDIS_REPLY_STRING ||
            !api_score(rep->element[2 * i + 1], &r[i].count)) {
            free(r);
            return -1;
        }
        r[i].member = m->str;
        r[i].len = m->len;
    }
    qsort(r, n, sizeof(*r), rank_cmp);
    *out = r;
    return (long)n;
}

void api_hour_labels(int64_t newest_s, int n, char (*labels)[16])
{
    for (int i = 0; i < n; i++)
        gtp_time_format_hour((newest_s - (int64_t)(n - 1 - i) * 3600) * 1000000, labels[i], 16);
}

/* Display name of a skill id (borrowed): the taxonomy's, else the id. */
const char *api_skill_cname(const struct gtp_skills *sk, const char *id, size_t len)
{
    char buf[API_SKILL_MAX + 1];
    int idx;
    if (!sk || len > API_SKILL_MAX)
        return NULL;
    memcpy(buf, id, len);
    buf[len] = '\0';
    idx = gtp_skills_find(sk, buf);
    return idx >= 0 ? gtp_skills_name(sk, (size_t)idx) : NULL;
}

void api_skill_name(struct jout *out, const struct gtp_skills *sk, const char *id, size_t len)
{
    const char *name = api_skill_cname(sk, id, len);
    if (name)
        jout_cstr(out, name);
    else
        jout_str(out, id, len);
}

/* Region as shown: the member in ASCII uppercase. */
void api_region_str(struct jout *out, const char *s, size_t len)
{
    char buf[64];
    if (len >= sizeof(buf)) {
        jout_str(out, s, len);
        return;
    }
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)toupper((unsigned char)s[i]);
    jout_str(out, buf, len);
}

/* ---- the newest hour ------------------------------------------------------------- */

/* Returns 1 and *newest_s when there is data, 0 when gtp:hours is empty. */
int api_newest_hour(redisContext *rc, int64_t *newest_s, char *errstr, size_t errstr_size)
{
    struct gtp_rediscmd c = {0};
    redisReply *rep = NULL;
    int err;
    int64_t s;

    gtp_rediscmd_arg(&c, "ZRANGE", 6);
    gtp_rediscmd_arg(&c, "gtp:hours", 9);
    gtp_rediscmd_arg(&c, "-1", 2);
    gtp_rediscmd_arg(&c, "-1", 2);
    gtp_rediscmd_arg(&c, "WITHSCORES", 10);
    err = gtp_rediscmd_pipeline(rc, &c, 1, &rep, errstr, errstr_size);
    gtp_rediscmd_fini(&c);
    if (err)
        return err;
    if (rep->type != REDIS_REPLY_ARRAY || (rep->elements != 0 && rep->elements != 2)) {
        err = api_bad_reply(rep, "gtp:hours", errstr, errstr_size);
        goto out;
    }
    if (rep->elements == 0) {
        err = 0;
        goto out;
    }
    if (!api_score(rep->element[1], &s) || s < GTP_TIME_MIN_US / 1000000 ||
        s >= GTP_TIME_MAX_US / 1000000) {
        err = api_bad_reply(rep, "gtp:hours score", errstr, errstr_size);
        goto out;
    }
    *newest_s = s - (s % 3600 + 3600) % 3600;
    err = 1;
out:
    freeReplyObject(rep);
    return err;
}

/* ZUNION over "<prefix><hour><suffix>" for every hour label, WITHSCORES. */
void api_cmd_zunion(struct gtp_rediscmd *c, const char *prefix, char (*labels)[16], int n,
                    const char *suffix)
{
    gtp_rediscmd_arg(c, "ZUNION", 6);
    gtp_rediscmd_argf(c, "%d", n);
    for (int i = 0; i < n; i++)
        gtp_rediscmd_argf(c, "%s%s%s", prefix, labels[i], suffix);
    gtp_rediscmd_arg(c, "WITHSCORES", 10);
}

static void json_hours_list(struct jout *out, char (*labels)[16], int n)
{
    jout_lit(out, "[");
    for (int i = 0; i < n; i++) {
        if (i)
            jout_lit(out, ",");
        jout_cstr(out, labels[i]);
    }
    jout_lit(out, "]");
}

/* ---- /api/pulse ------------------------------------------------------------------ */

int api_pulse(redisContext *rc, const struct gtp_skills *sk, const struct api_params *q,
              struct jout *out, char *errstr, size_t errstr_size)
{
    char(*labels)[16] = NULL;
    struct gtp_rediscmd un = {0}, *ms = NULL;
    redisReply *urep = NULL, **mreps = NULL;
    struct api_rank *rank = NULL;
    int64_t newest, *counts = NULL, *posts = NULL;
    long nrank;
    int n = q->hours, top = 0, err;
    bool share = q->metric == API_SHARE;

    err = api_newest_hour(rc, &newest, errstr, errstr_size);
    if (err < 0)
        goto out;
    if (err == 0) {
        jout_lit(out, "{\"hours\":[],\"series\":[]}");
        goto out;
    }
    labels = gtp_xcalloc((size_t)n, sizeof(*labels));
    api_hour_labels(newest, n, labels);

    /* totals over the window -> the top skills */
    api_cmd_zunion(&un, "gtp:pulse:", labels, n, "");
    err = gtp_rediscmd_pipeline(rc, &un, 1, &urep, errstr, errstr_size);
    if (err)
        goto out;
    nrank = api_rank_parse(urep, &rank);
    if (nrank < 0) {
        err = api_bad_reply(urep, "pulse totals", errstr, errstr_size);
        goto out;
    }
    /* skills with a zero total (possible after negative deltas) are no trend */
    for (top = 0; top < q->top && top < nrank && rank[top].count > 0; top++)
        ;

    /* one ZMSCORE per hour for the series ([0, n)); with metric=share one
     * ZRANGE of gtp:posts per hour too ([n, 2n)), summed for the postings */
    if (top > 0 || share) {
        size_t off = top > 0 ? 0 : (size_t)n, cnt = (top > 0 ? (size_t)n : 0) + (share ? n : 0);
        ms = gtp_xcalloc(2 * (size_t)n, sizeof(*ms));
        mreps = gtp_xcalloc(2 * (size_t)n, sizeof(*mreps));
        for (int h = 0; h < n; h++) {
            gtp_rediscmd_arg(&ms[h], "ZMSCORE", 7);
            gtp_rediscmd_argf(&ms[h], "gtp:pulse:%s", labels[h]);
            for (int s = 0; s < top; s++)
                gtp_rediscmd_arg(&ms[h], rank[s].member, rank[s].len);
            gtp_rediscmd_arg_str(&ms[n + h], "ZRANGE");
            gtp_rediscmd_argf(&ms[n + h], "gtp:posts:%s", labels[h]);
            gtp_rediscmd_arg_str(&ms[n + h], "0");
            gtp_rediscmd_arg_str(&ms[n + h], "-1");
            gtp_rediscmd_arg_str(&ms[n + h], "WITHSCORES");
        }
        err = gtp_rediscmd_pipeline(rc, ms + off, cnt, mreps + off, errstr, errstr_size);
        if (err)
            goto out;
        counts = gtp_xcalloc((size_t)n * (size_t)(top ? top : 1), sizeof(*counts));
        posts = gtp_xcalloc((size_t)n, sizeof(*posts));
        for (int h = 0; h < n && share; h++) {
            if ((posts[h] = api_reply_sum(mreps[n + h])) < 0) {
                err = api_bad_reply(mreps[n + h], "pulse postings", errstr, errstr_size);
                goto out;
            }
        }
        for (int h = 0; h < n && top > 0; h++) {
            const redisReply *r = mreps[h];
            if (r->type != REDIS_REPLY_ARRAY || r->elements != (size_t)top) {
                err = api_bad_reply(r, "pulse series", errstr, errstr_size);
                goto out;
            }
            for (int s = 0; s < top; s++) {
                const redisReply *e = r->element[s];
                int64_t v = 0;
                if (e->type != REDIS_REPLY_NIL && !api_score(e, &v)) {
                    err = api_bad_reply(r, "pulse series", errstr, errstr_size);
                    goto out;
                }
                counts[(size_t)s * (size_t)n + (size_t)h] = v;
            }
        }
    }

    jout_lit(out, "{\"hours\":");
    json_hours_list(out, labels, n);
    if (share) {
        int64_t all = 0;
        jout_lit(out, ",\"metric\":\"share\",\"postings\":[");
        for (int h = 0; h < n; h++) {
            if (h)
                jout_lit(out, ",");
            jout_i64(out, posts[h]);
            all += posts[h];
        }
        jout_lit(out, "],\"postings_total\":");
        jout_i64(out, all);
    }
    jout_lit(out, ",\"series\":[");
    for (int s = 0; s < top; s++) {
        int64_t total = 0;
        if (s)
            jout_lit(out, ",");
        jout_lit(out, "{\"skill\":");
        jout_str(out, rank[s].member, rank[s].len);
        jout_lit(out, ",\"name\":");
        api_skill_name(out, sk, rank[s].member, rank[s].len);
        jout_lit(out, ",\"counts\":[");
        for (int h = 0; h < n; h++) {
            int64_t v = counts[(size_t)s * (size_t)n + (size_t)h];
            if (h)
                jout_lit(out, ",");
            jout_i64(out, v);
            total += v;
        }
        jout_lit(out, "],\"total\":");
        jout_i64(out, total);
        if (share) {
            int64_t all = 0;
            jout_lit(out, ",\"shares\":[");
            for (int h = 0; h < n; h++) {
                if (h)
                    jout_lit(out, ",");
                jout_g(out, posts[h] > 0 ? (double)counts[(size_t)s * (size_t)n + (size_t)h] /
                                               (double)posts[h]
                                         : NAN);
                all += posts[h];
            }
            jout_lit(out, "],\"share\":");
            jout_g(out, all > 0 ? (double)total / (double)all : NAN);
        }
        jout_lit(out, "}");
    }
    jout_lit(out, "]}");
    err = 0;
out:
    if (mreps)
        api_free_replies(mreps, 2 * (size_t)n);
    free(mreps);
    free(posts);
    if (ms)
        for (int h = 0; h < 2 * n; h++)
            gtp_rediscmd_fini(&ms[h]);
    free(ms);
    free(counts);
    free(rank);
    if (urep)
        freeReplyObject(urep);
    gtp_rediscmd_fini(&un);
    free(labels);
    return err;
}

/* ---- /api/heatmap ---------------------------------------------------------------- */

/* posts: postings per region (metric=share) or NULL. */
static void json_regions(struct jout *out, const struct api_rank *r, long n,
                         const struct api_rank *posts, long nposts)
{
    bool first = true;
    jout_lit(out, "[");
    for (long i = 0; i < n; i++) {
        if (r[i].count <= 0)
            continue;
        if (!first)
            jout_lit(out, ",");
        first = false;
        jout_lit(out, "{\"region\":");
        api_region_str(out, r[i].member, r[i].len);
        jout_lit(out, ",\"count\":");
        jout_i64(out, r[i].count);
        if (posts) {
            int64_t p = api_rank_lookup(posts, nposts, r[i].member, r[i].len);
            jout_lit(out, ",\"postings\":");
            jout_i64(out, p);
            jout_lit(out, ",\"share\":");
            jout_g(out, p > 0 ? (double)r[i].count / (double)p : NAN);
        }
        jout_lit(out, "}");
    }
    jout_lit(out, "]");
}

/* Count of member m in a ranked list (linear: the lists are short). */
int64_t api_rank_lookup(const struct api_rank *r, long n, const char *m, size_t len)
{
    for (long i = 0; i < n; i++)
        if (r[i].len == len && !memcmp(r[i].member, m, len))
            return r[i].count;
    return 0;
}

int api_heatmap(redisContext *rc, const struct gtp_skills *sk, const struct api_params *q,
                struct jout *out, char *errstr, size_t errstr_size)
{
    char(*labels)[16] = NULL;
    char suffix[API_SKILL_MAX + 2];
    struct gtp_rediscmd c1[4] = {{0}}, *c2 = NULL;
    redisReply *r1[4] = {NULL}, **r2 = NULL;
    struct api_rank *regions = NULL, *skills = NULL, *cols = NULL, **cells = NULL, *posts = NULL;
    long nregions = 0, nskills = 0, ncols = 0, *ncells = NULL, nposts = 0;
    int iposts = -1;
    bool share = q->metric == API_SHARE;
    int64_t newest;
    int n = q->hours, nc1, rows = 0, err;
    bool by_skill = q->skill[0] != '\0';

    err = api_newest_hour(rc, &newest, errstr, errstr_size);
    if (err < 0)
        goto out;
    if (err == 0) {
        jout_lit(out, "{\"hours\":[],\"skill\":");
        jout_cstr(out, by_skill ? q->skill : NULL);
        jout_lit(out, ",\"regions\":[],\"grid\":{\"skills\":[],\"names\":[],\"regions\":[],"
                      "\"counts\":[]}}");
        goto out;
    }
    labels = gtp_xcalloc((size_t)n, sizeof(*labels));
    api_hour_labels(newest, n, labels);

    /* round trip 2: the map's regions, the grid's skills and (for one
     * skill) the grid's regions over all skills */
    snprintf(suffix, sizeof(suffix), ":%s", q->skill);
    api_cmd_zunion(&c1[0], "gtp:heat:", labels, n, by_skill ? suffix : "");
    api_cmd_zunion(&c1[1], "gtp:pulse:", labels, n, "");
    nc1 = 2;
    if (by_skill)
        api_cmd_zunion(&c1[nc1++], "gtp:heat:", labels, n, "");
    if (share) {
        iposts = nc1;
        api_cmd_zunion(&c1[nc1++], "gtp:posts:", labels, n, "");
    }
    err = gtp_rediscmd_pipeline(rc, c1, (size_t)nc1, r1, errstr, errstr_size);
    if (err)
        goto out;
    nregions = api_rank_parse(r1[0], &regions);
    nskills = api_rank_parse(r1[1], &skills);
    ncols = api_rank_parse(r1[by_skill ? 2 : 0], &cols);
    if (share && (nposts = api_rank_parse(r1[iposts], &posts)) < 0) {
        err = api_bad_reply(r1[iposts], "heatmap postings", errstr, errstr_size);
        goto out;
    }
    if (nregions < 0 || nskills < 0 || ncols < 0) {
        err = api_bad_reply(nregions < 0  ? r1[0]
                            : nskills < 0 ? r1[1]
                                          : r1[2],
                            "heatmap", errstr, errstr_size);
        goto out;
    }
    while (nskills > 0 && skills[nskills - 1].count <= 0)
        nskills--;
    while (ncols > 0 && cols[ncols - 1].count <= 0)
        ncols--;
    if (ncols > API_GRID_REGIONS)
        ncols = API_GRID_REGIONS;
    rows = nskills < API_GRID_SKILLS ? (int)nskills : API_GRID_SKILLS;

    /* round trip 3: each grid skill's regions */
    if (rows > 0 && ncols > 0) {
        c2 = gtp_xcalloc((size_t)rows, sizeof(*c2));
        r2 = gtp_xcalloc((size_t)rows, sizeof(*r2));
        cells = gtp_xcalloc((size_t)rows, sizeof(*cells));
        ncells = gtp_xcalloc((size_t)rows, sizeof(*ncells));
        for (int s = 0; s < rows; s++) {
            char sfx[128];
            snprintf(sfx, sizeof(sfx), ":%.*s", (int)skills[s].len, skills[s].member);
            api_cmd_zunion(&c2[s], "gtp:heat:", labels, n, sfx);
        }
        err = gtp_rediscmd_pipeline(rc, c2, (size_t)rows, r2, errstr, errstr_size);
        if (err)
            goto out;
        for (int s = 0; s < rows; s++) {
            ncells[s] = api_rank_parse(r2[s], &cells[s]);
            if (ncells[s] < 0) {
                err = api_bad_reply(r2[s], "heatmap grid", errstr, errstr_size);
                goto out;
            }
        }
    } else {
        rows = 0;
    }

    jout_lit(out, "{\"hours\":[");
    jout_cstr(out, labels[0]);
    jout_lit(out, ",");
    jout_cstr(out, labels[n - 1]);
    jout_lit(out, "],\"skill\":");
    if (by_skill) {
        jout_cstr(out, q->skill);
        jout_lit(out, ",\"name\":");
        api_skill_name(out, sk, q->skill, strlen(q->skill));
    } else {
        jout_lit(out, "null,\"name\":null");
    }
    if (share)
        jout_lit(out, ",\"metric\":\"share\"");
    jout_lit(out, ",\"regions\":");
    json_regions(out, regions, nregions, share ? posts : NULL, nposts);
    jout_lit(out, ",\"grid\":{\"skills\":[");
    for (int s = 0; s < rows; s++) {
        if (s)
            jout_lit(out, ",");
        jout_str(out, skills[s].member, skills[s].len);
    }
    jout_lit(out, "],\"names\":[");
    for (int s = 0; s < rows; s++) {
        if (s)
            jout_lit(out, ",");
        api_skill_name(out, sk, skills[s].member, skills[s].len);
    }
    jout_lit(out, "],\"regions\":[");
    for (long r = 0; rows > 0 && r < ncols; r++) {
        if (r)
            jout_lit(out, ",");
        api_region_str(out, cols[r].member, cols[r].len);
    }
    jout_lit(out, "],\"counts\":[");
    for (int s = 0; s < rows; s++) {
        if (s)
            jout_lit(out, ",");
        jout_lit(out, "[");
        for (long r = 0; r < ncols; r++) {
            if (r)
                jout_lit(out, ",");
            jout_i64(out, api_rank_lookup(cells[s], ncells[s], cols[r].member, cols[r].len));
        }
        jout_lit(out, "]");
    }
    jout_lit(out, "]");
    if (share) {
        jout_lit(out, ",\"postings\":[");
        for (long r = 0; rows > 0 && r < ncols; r++) {
            if (r)
                jout_lit(out, ",");
            jout_i64(out, api_rank_lookup(posts, nposts, cols[r].member, cols[r].len));
        }
        jout_lit(out, "],\"shares\":[");
        for (int s = 0; s < rows; s++) {
            if (s)
                jout_lit(out, ",");
            jout_lit(out, "[");
            for (long r = 0; r < ncols; r++) {
                int64_t p = api_rank_lookup(posts, nposts, cols[r].member, cols[r].len);
                if (r)
                    jout_lit(out, ",");
                jout_g(out, p > 0 ? (double)api_rank_lookup(cells[s], ncells[s], cols[r].member,
                                                            cols[r].len) /
                                        (double)p
                                  : NAN);
            }
            jout_lit(out, "]");
        }
        jout_lit(out, "]");
    }
    jout_lit(out, "}}");
    err = 0;
out:
    for (int s = 0; cells && s < rows; s++)
        free(cells[s]);
    free(cells);
    free(ncells);
    if (r2)
        api_free_replies(r2, (size_t)rows);
    free(r2);
    for (int s = 0; c2 && s < rows; s++)
        gtp_rediscmd_fini(&c2[s]);
    free(c2);
    free(regions);
    free(skills);
    free(cols);
    free(posts);
    api_free_replies(r1, 4);
    for (int i = 0; i < 4; i++)
        gtp_rediscmd_fini(&c1[i]);
    free(labels);
    return err;
}

/* ---- /api/stats ------------------------------------------------------------------ */

static const char *const stat_fields[] = {
    "events_total", "valid_total",      "rejected_total", "counted_total",
    "late_total",   "duplicates_total", "mentions_total",
};

static bool field_is(const redisReply *f, const char *name)
{
    size_t n = strlen(name);
    return f->type == REDIS_REPLY_STRING && f->len == n && !memcmp(f->str, name, n);
}

/* Reject reasons are written by the processor as slugs ("invalid_utf8");
 * anything else in the hash is not ours to show. */
static bool reason_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}
static bool int_of(const redisReply *v, int64_t *out)
{
    long long x;
    char buf[32];
    if (v->type != REDIS_REPLY_STRING || v->len == 0 || v->len >= sizeof(buf))
        return false;
    memcpy(buf, v->str, v->len);
    buf[v->len] = '\0';
    if (gtp_parse_ll(buf, &x))
        return false;
    *out = x;
    return true;
}

int api_stats_json(const redisReply *rep, int64_t now_ms, struct jout *out, char *errstr,
                   size_t errstr_size)
{
    int64_t vals[GTP_ARRAY_LEN(stat_fields)] = {0}, last_event_us = -1, last_flush_ms = -1, v;
    bool first = true;

    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements % 2)
        return api_bad_reply(rep, "gtp:stats", errstr, errstr_size);
    for (size_t i = 0; i < rep->elements; i += 2) {
        const redisReply *f = rep->element[i], *val = rep->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || !int_of(val, &v))
            continue; /* a field we cannot read is left out, not fatal */
        for (size_t k = 0; k < GTP_ARRAY_LEN(stat_fields); k++)
            if (field_is(f, stat_fields[k]))
                vals[k] = v;
        if (field_is(f, "last_event_us"))
            last_event_us = v;
        if (field_is(f, "last_flush_ms"))
            last_flush_ms = v;
    }
    jout_lit(out, "{");
    for (size_t k = 0; k < GTP_ARRAY_LEN(stat_fields); k++) {
        jout_cstr(out, stat_fields[k]);
        jout_lit(out, ":");
        jout_i64(out, vals[k]);
        jout_lit(out, ",");
    }
    jout_lit(out, "\"rejected_by_reason\":{");
    for (size_t i = 0; i < rep->elements; i += 2) {
        const redisReply *f = rep->element[i], *val = rep->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || f->len <= 9 || memcmp(f->str, "rejected:", 9) ||
            !reason_name_ok(f->str + 9, f->len - 9) || !int_of(val, &v))
            continue;
        if (!first)
            jout_lit(out, ",");
        first = false;
        jout_str(out, f->str + 9, f->len - 9);
        jout_lit(out, ":");
        jout_i64(out, v);
    }
    jout_lit(out, "},\"last_event_time\":");
    if (last_event_us >= GTP_TIME_MIN_US && last_event_us < GTP_TIME_MAX_US) {
        char t[GTP_TIME_RFC3339_MAX];
        gtp_time_format(last_event_us, t, sizeof(t));
        jout_cstr(out, t);
        jout_lit(out, ",\"event_lag_seconds\":");
        jout_num(out, (double)(now_ms * 1000 - last_event_us) / 1e6);
    } else {
        jout_lit(out, "null,\"event_lag_seconds\":null");
    }
    jout_lit(out, ",\"last_flush_time\":");
    if (last_flush_ms > 0 && last_flush_ms < GTP_TIME_MAX_US / 1000) { /* no overflow */
        char t[GTP_TIME_RFC3339_MAX];
        double age = (double)(now_ms - last_flush_ms) / 1e3;
        gtp_time_format(last_flush_ms * 1000, t, sizeof(t));
        jout_cstr(out, t);
        jout_lit(out, ",\"freshness_seconds\":");
        jout_num(out, age < 0 ? 0 : age);
    } else {
        jout_lit(out, "null,\"freshness_seconds\":null");
    }
    jout_lit(out, "}");
    return 0;
}

int api_stats(redisContext *rc, int64_t now_ms, struct jout *out, char *errstr, size_t errstr_size)
{
    struct gtp_rediscmd c = {0};
    redisReply *rep = NULL;
    int err;
    gtp_rediscmd_arg(&c, "HGETALL", 7);
    gtp_rediscmd_arg(&c, "gtp:stats", 9);
    err = gtp_rediscmd_pipeline(rc, &c, 1, &rep, errstr, errstr_size);
    gtp_rediscmd_fini(&c);
    if (err)
        return err;
    err = api_stats_json(rep, now_ms, out, errstr, errstr_size);
    freeReplyObject(rep);
    return err;
}
