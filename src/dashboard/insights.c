/* /api/skill, /api/region, /api/rising and /api/skills (insights.h): one
 * pipelined round trip after the newest hour, answers in JSON or CSV. */
#include "insights.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "growth.h"
#include "gtp/err.h"
#include "gtp/rediscmd.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"

/* The experience levels the processor writes (lowercased; docs/events.md). */
static const char *const levels[] = {"intern", "junior",    "mid",      "senior",
                                     "lead",   "principal", "director", "unspecified"};
#define NLEVELS  (sizeof(levels) / sizeof(levels[0]))
#define DAYS_MAX (API_HOURS_MAX / 24 + 2)

/* ---- one writer for both formats --------------------------------------------------- */

/* JSON is written as nested objects; CSV as one long table
 * "section,key,name,measure,value" holding every number of the JSON answer
 * once, so a spreadsheet pivots it and a test can compare the two. */
struct dw {
    struct jout *out;
    const struct gtp_skills *sk;
    bool csv;
    int items;  /* objects so far in the current JSON list */
    int fields; /* fields so far in the current JSON object */
    const char *section;
    char key[API_SKILL_MAX + 24];
    const char *name; /* borrowed (taxonomy) or NULL */
};

static void dw_json(struct dw *w, const char *lit)
{
    if (!w->csv)
        jout_lit(w->out, lit);
}

/* Context for the following numbers: CSV section, key and display name. */
static void dw_ctx(struct dw *w, const char *section, const char *key, size_t keylen, bool upper,
                   const char *name)
{
    if (keylen >= sizeof(w->key))
        keylen = sizeof(w->key) - 1;
    for (size_t i = 0; i < keylen; i++)
        w->key[i] = upper && key[i] >= 'a' && key[i] <= 'z' ? (char)(key[i] - 32) : key[i];
    w->key[keylen] = '\0';
    w->section = section;
    w->name = name;
}

static void dw_list(struct dw *w, const char *field)
{
    if (w->csv)
        return;
    jout_lit(w->out, ",\"");
    jout_lit(w->out, field);
    jout_lit(w->out, "\":[");
    w->items = 0;
}

/* Open a list element: a skill ("skill" + "name"), a region, a level or an
 * hour, per the key field. */
static void dw_item(struct dw *w, const char *section, const char *field, const char *key,
                    size_t keylen)
{
    bool skill = !strcmp(field, "skill"), region = !strcmp(field, "region");
    dw_ctx(w, section, key, keylen, region, skill ? api_skill_cname(w->sk, key, keylen) : NULL);
    if (w->csv)
        return;
    if (w->items++)
        jout_lit(w->out, ",");
    jout_lit(w->out, "{\"");
    jout_lit(w->out, field);
    jout_lit(w->out, "\":");
    if (region)
        api_region_str(w->out, key, keylen);
    else
        jout_str(w->out, key, keylen);
    if (skill) {
        jout_lit(w->out, ",\"name\":");
        api_skill_name(w->out, w->sk, key, keylen);
    }
    w->fields = 1;
}

static void dw_end(struct dw *w)
{
    dw_json(w, "}");
}

static void csv_row_start(struct dw *w, const char *measure)
{
    jout_csv(w->out, w->section, strlen(w->section));
    jout_lit(w->out, ",");
    jout_csv(w->out, w->key, strlen(w->key));
    jout_lit(w->out, ",");
    if (w->name)
        jout_csv(w->out, w->name, strlen(w->name));
    jout_lit(w->out, ",");
    jout_lit(w->out, measure);
    jout_lit(w->out, ",");
}

static void field_start(struct dw *w, const char *measure)
{
    if (w->fields++)
        jout_lit(w->out, ",");
    jout_lit(w->out, "\"");
    jout_lit(w->out, measure);
    jout_lit(w->out, "\":");
}

static void dw_i(struct dw *w, const char *measure, int64_t v)
{
    if (w->csv) {
        csv_row_start(w, measure);
        jout_i64(w->out, v);
        jout_lit(w->out, "\r\n");
        return;
    }
    field_start(w, measure);
    jout_i64(w->out, v);
}

/* A ratio; NAN is null in JSON and an empty cell in CSV. */
static void dw_g(struct dw *w, const char *measure, double v)
{
    if (w->csv) {
        csv_row_start(w, measure);
        if (isfinite(v))
            jout_g(w->out, v);
        jout_lit(w->out, "\r\n");
        return;
    }
    field_start(w, measure);
    jout_g(w->out, v);
}

static double ratio(int64_t a, int64_t b)
{
    return b > 0 ? (double)a / (double)b : NAN;
}

static void dw_start(struct dw *w, struct jout *out, const struct gtp_skills *sk,
                     const struct api_params *q)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->sk = sk;
    w->csv = q->format == API_CSV;
    if (w->csv)
        jout_lit(out, "section,key,name,measure,value\r\n");
    else
        jout_lit(out, "{");
}

/* "hours":[first,last] (first field of the JSON object). */
static void dw_range(struct dw *w, const char *field, const char *first, const char *last)
{
    if (w->csv)
        return;
    if (w->fields++)
        jout_lit(w->out, ",");
    jout_lit(w->out, "\"");
    jout_lit(w->out, field);
    jout_lit(w->out, "\":[");
    if (first) {
        jout_cstr(w->out, first);
        jout_lit(w->out, ",");
        jout_cstr(w->out, last);
    }
    jout_lit(w->out, "]");
}

/* ---- shared pieces ---------------------------------------------------------------------- */

/* One pipeline of n commands and their replies. */
struct batch {
    struct gtp_rediscmd *c;
    redisReply **r;
    size_t n;
};

static void batch_init(struct batch *b, size_t n)
{
    b->c = gtp_xcalloc(n, sizeof(*b->c));
    b->r = gtp_xcalloc(n, sizeof(*b->r));
    b->n = n;
}

static int batch_run(redisContext *rc, struct batch *b, char *errstr, size_t errstr_size)
{
    return gtp_rediscmd_pipeline(rc, b->c, b->n, b->r, errstr, errstr_size);
}

static void batch_fini(struct batch *b)
{
    if (b->r)
        api_free_replies(b->r, b->n);
    for (size_t i = 0; b->c && i < b->n; i++)
        gtp_rediscmd_fini(&b->c[i]);
    free(b->r);
    free(b->c);
    memset(b, 0, sizeof(*b));
}

/* An integer from GET/MGET/ZSCORE (nil = 0). */
static bool int_or_nil(const redisReply *r, int64_t *v)
{
    *v = 0;
    if (r && r->type == REDIS_REPLY_NIL)
        return true;
    if (r && r->type == REDIS_REPLY_INTEGER) {
        *v = r->integer;
        return true;
    }
    return api_score(r, v);
}

/* "MGET {prefix}:{id}:{label}" over n hour labels: the per-hour remote counts
 * of a skill profile (remote:) and of a region profile (remote_posts:). */
static void cmd_mget_hours(struct gtp_rediscmd *c, const char *prefix, const char *id,
                           char (*labels)[16], int n)
{
    gtp_rediscmd_arg_str(c, "MGET");
    for (int h = 0; h < n; h++)
        gtp_rediscmd_argf(c, "%s:%s:%s", prefix, id, labels[h]);
}

/* The sum of an MGET reply of n integers (nil = 0); false when it is not one. */
static bool mget_sum(const redisReply *rep, size_t n, int64_t *sum)
{
    int64_t v;
    *sum = 0;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!int_or_nil(rep->element[i], &v))
            return false;
        *sum += v;
    }
    return true;
}

/* Day labels "YYYY-MM-DD" from the day of first_s to the day of last_s (at
 * most DAYS_MAX); returns the count and the start of the first day. */
static int day_labels(int64_t first_s, int64_t last_s, char (*days)[16], int64_t *day0_s)
{
    int64_t d0 = first_s - ((first_s % 86400) + 86400) % 86400;
    int nd = 0;
    for (int64_t d = d0; d <= last_s && nd < DAYS_MAX; d += 86400)
        gtp_time_format_date(d * 1000000, days[nd++], 16);
    *day0_s = d0;
    return nd;
}

struct grow_row {
    struct growth g;
    const char *id; /* borrowed from a reply */
    size_t len;
};

static int cmp_rising(const void *a, const void *b)
{
    const struct grow_row *x = a, *y = b;
    int c = growth_cmp_rising(&x->g, &y->g);
    return c ? c : strcmp(x->id, y->id);
}

static int cmp_falling(const void *a, const void *b)
{
    const struct grow_row *x = a, *y = b;
    int c = growth_cmp_falling(&x->g, &y->g);
    return c ? c : strcmp(x->id, y->id);
}

static void grow_list(struct dw *w, const char *section, struct grow_row *rows, size_t n, int top)
{
    dw_list(w, section);
    for (size_t i = 0; i < n && (int)i < top; i++) {
        const struct growth *g = &rows[i].g;
        dw_item(w, section, "skill", rows[i].id, rows[i].len);
        dw_i(w, "now", g->now);
        dw_i(w, "before", g->before);
        dw_g(w, "share_now", g->share_now);
        dw_g(w, "share_before", g->share_before);
        dw_g(w, "diff", g->diff);
        dw_g(w, "change", g->change);
        dw_g(w, "z", g->z);
        dw_end(w);
    }
    dw_json(w, "]");
}

/* The "rising" and "falling" lists from the skills' mentions now and before
 * (ranked replies) and the postings of the two windows. Skills only in the
 * earlier window count as 0 now. */
static void rising_falling(struct dw *w, const struct api_rank *now, long nnow,
                           const struct api_rank *before, long nbefore, int64_t posts_now,
                           int64_t posts_before, int top)
{
    struct grow_row *up = gtp_xcalloc((size_t)(nnow + nbefore + 1), sizeof(*up));
    struct grow_row *down = gtp_xcalloc((size_t)(nnow + nbefore + 1), sizeof(*down));
    size_t nup = 0, ndown = 0;
    for (long i = 0; i < nnow + nbefore; i++) {
        const struct api_rank *r = i < nnow ? &now[i] : &before[i - nnow];
        struct growth g;
        int64_t a, b;
        if (i >= nnow && api_rank_lookup(now, nnow, r->member, r->len) != 0)
            continue; /* seen with the current window */
        a = i < nnow ? r->count : 0;
        b = api_rank_lookup(before, nbefore, r->member, r->len);
        if (growth_compute(a, posts_now, b, posts_before, &g) || !g.significant)
            continue;
        if (g.diff > 0)
            up[nup++] = (struct grow_row){g, r->member, r->len};
        else if (g.diff < 0)
            down[ndown++] = (struct grow_row){g, r->member, r->len};
    }
    qsort(up, nup, sizeof(*up), cmp_rising);
    qsort(down, ndown, sizeof(*down), cmp_falling);
    grow_list(w, "rising", up, nup, top);
    grow_list(w, "falling", down, ndown, top);
    free(up);
    free(down);
}

/* The newest hour and the labels of the 2n hours ending there ([0, n) the
 * window before, [n, 2n) the window): 1 with *labels (new, free()); 0 when
 * there is no data, after writing "hours": [] and `empty` (JSON tail); or an
 * error from api_newest_hour. */
static int two_windows(redisContext *rc, struct dw *w, int n, const char *empty,
                       char (**labels)[16], char *errstr, size_t errstr_size)
{
    int64_t newest;
    int err = api_newest_hour(rc, &newest, errstr, errstr_size);
    if (err <= 0) {
        if (err == 0) {
            dw_range(w, "hours", NULL, NULL);
            dw_json(w, empty);
        }
        return err;
    }
    *labels = gtp_xcalloc((size_t)(2 * n), sizeof(**labels));
    api_hour_labels(newest, 2 * n, *labels);
    return 1;
}

/* ---- /api/rising ------------------------------------------------------------------------- */

int api_rising(redisContext *rc, const struct gtp_skills *sk, const struct api_params *q,
               struct jout *out, char *errstr, size_t errstr_size)
{
    char(*labels)[16] = NULL, suffix[API_REGION_MAX + 2];
    struct batch b = {0};
    struct gtp_rediscmd *c;
    redisReply **r;
    struct api_rank *now = NULL, *before = NULL, *pnow = NULL, *pbefore = NULL;
    long nnow, nbefore, npnow, npbefore;
    int64_t posts_now, posts_before;
    int n = q->hours, err;
    bool by_region = q->region[0] != '\0';
    struct dw w;

    dw_start(&w, out, sk, q);
    err = two_windows(rc, &w, n, ",\"rising\":[],\"falling\":[]}", &labels, errstr, errstr_size);
    if (err <= 0)
        goto out;
    snprintf(suffix, sizeof(suffix), ":%s", q->region);
    batch_init(&b, 4);
    c = b.c;
    r = b.r;
    if (by_region) {
        api_cmd_zunion(&c[0], "gtp:rskills:", labels + n, n, suffix);
        api_cmd_zunion(&c[1], "gtp:rskills:", labels, n, suffix);
    } else {
        api_cmd_zunion(&c[0], "gtp:pulse:", labels + n, n, "");
        api_cmd_zunion(&c[1], "gtp:pulse:", labels, n, "");
    }
    api_cmd_zunion(&c[2], "gtp:posts:", labels + n, n, "");
    api_cmd_zunion(&c[3], "gtp:posts:", labels, n, "");
    err = batch_run(rc, &b, errstr, errstr_size);
    if (err)
        goto out;
    nnow = api_rank_parse(r[0], &now);
    nbefore = api_rank_parse(r[1], &before);
    npnow = api_rank_parse(r[2], &pnow);
    npbefore = api_rank_parse(r[3], &pbefore);
    if (nnow < 0 || nbefore < 0 || npnow < 0 || npbefore < 0) {
        err = api_bad_reply(NULL, "rising", errstr, errstr_size);
        goto out;
    }
    if (by_region) {
        posts_now = api_rank_lookup(pnow, npnow, q->region, strlen(q->region));
        posts_before = api_rank_lookup(pbefore, npbefore, q->region, strlen(q->region));
    } else {
        posts_now = api_reply_sum(r[2]);
        posts_before = api_reply_sum(r[3]);
    }

    dw_range(&w, "hours", labels[n], labels[2 * n - 1]);
    dw_range(&w, "previous", labels[0], labels[n - 1]);
    if (!w.csv) {
        jout_lit(out, ",\"region\":");
        if (by_region)
            api_region_str(out, q->region, strlen(q->region));
        else
            jout_lit(out, "null");
    }
    dw_ctx(&w, "summary", by_region ? q->region : "all", strlen(by_region ? q->region : "all"),
           true, NULL);
    dw_i(&w, "postings", posts_now);
    dw_i(&w, "postings_before", posts_before);
    dw_i(&w, "min_support", GROWTH_MIN_SUPPORT);
    dw_g(&w, "z_min", GROWTH_Z_MIN);
    rising_falling(&w, now, nnow, before, nbefore, posts_now, posts_before, q->top);
    dw_json(&w, "}");
    err = 0;
out:
    free(now);
    free(before);
    free(pnow);
    free(pbefore);
    batch_fini(&b);
    free(labels);
    return err;
}

/* ---- /api/region ------------------------------------------------------------------------- */

int api_region(redisContext *rc, const struct gtp_skills *sk, const struct api_params *q,
               struct jout *out, char *errstr, size_t errstr_size)
{
    char(*labels)[16] = NULL, suffix[API_REGION_MAX + 2];
    struct batch b = {0};
    struct gtp_rediscmd *c;
    redisReply **r;
    struct api_rank *now = NULL, *before = NULL, *pbefore = NULL;
    long nnow, nbefore, npbefore;
    int64_t posts = 0, posts_before, *hourly = NULL, remote = 0;
    int n = q->hours, err;
    size_t rlen = strlen(q->region);
    struct dw w;

    dw_start(&w, out, sk, q);
    err = two_windows(rc, &w, n, ",\"hourly\":[],\"skills\":[],\"rising\":[],\"falling\":[]}",
                      &labels, errstr, errstr_size);
    if (err <= 0)
        goto out;
    snprintf(suffix, sizeof(suffix), ":%s", q->region);
    batch_init(&b, (size_t)n + 4);
    c = b.c;
    r = b.r;
    for (int h = 0; h < n; h++) {
        gtp_rediscmd_arg_str(&c[h], "ZSCORE");
        gtp_rediscmd_argf(&c[h], "gtp:posts:%s", labels[n + h]);
        gtp_rediscmd_arg(&c[h], q->region, rlen);
    }
    api_cmd_zunion(&c[n], "gtp:rskills:", labels + n, n, suffix);
    api_cmd_zunion(&c[n + 1], "gtp:rskills:", labels, n, suffix);
    api_cmd_zunion(&c[n + 2], "gtp:posts:", labels, n, "");
    cmd_mget_hours(&c[n + 3], "remote_posts", q->region, labels + n, n);
    err = batch_run(rc, &b, errstr, errstr_size);
    if (err)
        goto out;
    hourly = gtp_xcalloc((size_t)n, sizeof(*hourly));
    for (int h = 0; h < n; h++) {
        if (!int_or_nil(r[h], &hourly[h])) {
            err = api_bad_reply(r[h], "region postings", errstr, errstr_size);
            goto out;
        }
        posts += hourly[h];
    }
    nnow = api_rank_parse(r[n], &now);
    nbefore = api_rank_parse(r[n + 1], &before);
    npbefore = api_rank_parse(r[n + 2], &pbefore);
    if (nnow < 0 || nbefore < 0 || npbefore < 0) {
        err = api_bad_reply(NULL, "region", errstr, errstr_size);
        goto out;
    }
    posts_before = api_rank_lookup(pbefore, npbefore, q->region, rlen);
    if (!mget_sum(r[n + 3], (size_t)n, &remote)) {
        err = api_bad_reply(r[n + 3], "region remote postings", errstr, errstr_size);
        goto out;
    }

    dw_range(&w, "hours", labels[n], labels[2 * n - 1]);
    if (!w.csv) {
        jout_lit(out, ",\"region\":");
        api_region_str(out, q->region, rlen);
    }
    dw_ctx(&w, "summary", q->region, rlen, true, NULL);
    dw_i(&w, "postings", posts);
    dw_i(&w, "postings_before", posts_before);
    dw_i(&w, "remote", remote);
    dw_g(&w, "remote_share", ratio(remote, posts));
    dw_list(&w, "hourly");
    for (int h = 0; h < n; h++) {
        dw_item(&w, "hourly", "hour", labels[n + h], strlen(labels[n + h]));
        dw_i(&w, "postings", hourly[h]);
        dw_end(&w);
    }
    dw_json(&w, "]");
    /* the same denominator for every skill: top by share = top by mentions */
    dw_list(&w, "skills");
    for (long i = 0, shown = 0; i < nnow && shown < q->top; i++) {
        if (now[i].count <= 0)
            continue;
        dw_item(&w, "skills", "skill", now[i].member, now[i].len);
        dw_i(&w, "mentions", now[i].count);
        dw_g(&w, "share", ratio(now[i].count, posts));
        dw_end(&w);
        shown++;
    }
    dw_json(&w, "]");
    rising_falling(&w, now, nnow, before, nbefore, posts, posts_before, q->top);
    dw_json(&w, "}");
    err = 0;
out:
    free(hourly);
    free(now);
    free(before);
    free(pbefore);
    batch_fini(&b);
    free(labels);
    return err;
}

/* ---- /api/skill -------------------------------------------------------------------------- */

struct scored {
    const char *id; /* borrowed from a reply */
    size_t len;
    int64_t a, b; /* mentions and postings (region) or together and mentions (co-skill) */
    double v;     /* share or lift */
};

static int cmp_scored(const void *x, const void *y)
{
    const struct scored *p = x, *q = y;
    if (p->v != q->v)
        return p->v > q->v ? -1 : 1;
    if (p->a != q->a)
        return p->a > q->a ? -1 : 1;
    return api_member_cmp(p->id, p->len, q->id, q->len);
}

/* Sort rows and write the top of them as list `section` with the measures
 * names[0..3) for a, b and v. */
static void scored_list(struct dw *w, const char *section, const char *keyfield,
                        struct scored *rows, long n, int top, const char *const names[3])
{
    qsort(rows, (size_t)n, sizeof(*rows), cmp_scored);
    dw_list(w, section);
    for (long i = 0; i < n && i < top; i++) {
        dw_item(w, section, keyfield, rows[i].id, rows[i].len);
        dw_i(w, names[0], rows[i].a);
        dw_i(w, names[1], rows[i].b);
        dw_g(w, names[2], rows[i].v);
        dw_end(w);
    }
    dw_json(w, "]");
}

int api_skill(redisContext *rc, const struct gtp_skills *sk, const struct api_params *q,
              struct jout *out, char *errstr, size_t errstr_size)
{
    char(*labels)[16] = NULL, (*dhours)[16] = NULL, days[DAYS_MAX][16], suffix[API_SKILL_MAX + 2];
    struct batch b = {0};
    struct gtp_rediscmd *c;
    redisReply **r;
    struct api_rank *heat = NULL, *posts = NULL, *pairs = NULL, *dpulse = NULL;
    struct scored *rows = NULL;
    long nheat, nposts, npairs, ndpulse, nrows = 0;
    int64_t newest, day0, *mentions = NULL, *hposts = NULL, m_total = 0, p_total = 0, remote = 0;
    int64_t lv[NLEVELS] = {0}, lv_total = 0, employers = 0, dposts, m_days, v;
    int n = q->hours, nd, err;
    size_t slen = strlen(q->skill);
    struct dw w;
    enum { C_REMOTE, C_HEAT, C_POSTS, C_PAIRS, C_LEVELS, C_EMPL, C_DPULSE, C_DPOSTS, C_N };
    int base;

    dw_start(&w, out, sk, q);
    err = api_newest_hour(rc, &newest, errstr, errstr_size);
    if (err < 0)
        goto out;
    if (!w.csv) {
        jout_lit(out, "\"skill\":");
        jout_cstr(out, q->skill);
        jout_lit(out, ",\"name\":");
        api_skill_name(out, sk, q->skill, slen);
        w.fields = 2;
    }
    if (err == 0) {
        dw_range(&w, "hours", NULL, NULL);
        dw_json(&w, ",\"hourly\":[],\"regions\":[],\"coskills\":[],\"levels\":[]}");
        err = 0;
        goto out;
    }
    labels = gtp_xcalloc((size_t)n, sizeof(*labels));
    api_hour_labels(newest, n, labels);
    /* daily keys (pairs, levels, employers) cover the whole days the range touches */
    nd = day_labels(newest - (int64_t)(n - 1) * 3600, newest, days, &day0);
    dhours = gtp_xcalloc((size_t)nd * 24, sizeof(*dhours));
    api_hour_labels(day0 + (int64_t)(nd * 24 - 1) * 3600, nd * 24, dhours);
    snprintf(suffix, sizeof(suffix), ":%s", q->skill);

    /* [0, n) ZSCORE gtp:pulse:{h}, [n, 2n) ZRANGE gtp:posts:{h}, then C_N more */
    base = 2 * n;
    batch_init(&b, (size_t)(base + C_N));
    c = b.c;
    r = b.r;
    for (int h = 0; h < n; h++) {
        gtp_rediscmd_arg_str(&c[h], "ZSCORE");
        gtp_rediscmd_argf(&c[h], "gtp:pulse:%s", labels[h]);
        gtp_rediscmd_arg(&c[h], q->skill, slen);
        gtp_rediscmd_arg_str(&c[n + h], "ZRANGE");
        gtp_rediscmd_argf(&c[n + h], "gtp:posts:%s", labels[h]);
        gtp_rediscmd_arg_str(&c[n + h], "0");
        gtp_rediscmd_arg_str(&c[n + h], "-1");
        gtp_rediscmd_arg_str(&c[n + h], "WITHSCORES");
    }
    cmd_mget_hours(&c[base + C_REMOTE], "remote", q->skill, labels, n);
    api_cmd_zunion(&c[base + C_HEAT], "gtp:heat:", labels, n, suffix);
    api_cmd_zunion(&c[base + C_POSTS], "gtp:posts:", labels, n, "");
    api_cmd_zunion(&c[base + C_PAIRS], "gtp:pairs:", days, nd, suffix);
    gtp_rediscmd_arg_str(&c[base + C_LEVELS], "MGET");
    for (size_t l = 0; l < NLEVELS; l++)
        for (int d = 0; d < nd; d++)
            gtp_rediscmd_argf(&c[base + C_LEVELS], "level:%s:%s:%s", q->skill, levels[l], days[d]);
    gtp_rediscmd_arg_str(&c[base + C_EMPL], "PFCOUNT");
    for (int d = 0; d < nd; d++)
        gtp_rediscmd_argf(&c[base + C_EMPL], "employers:%s:%s", q->skill, days[d]);
    api_cmd_zunion(&c[base + C_DPULSE], "gtp:pulse:", dhours, nd * 24, "");
    api_cmd_zunion(&c[base + C_DPOSTS], "gtp:posts:", dhours, nd * 24, "");
    err = batch_run(rc, &b, errstr, errstr_size);
    if (err)
        goto out;

    mentions = gtp_xcalloc((size_t)n, sizeof(*mentions));
    hposts = gtp_xcalloc((size_t)n, sizeof(*hposts));
    for (int h = 0; h < n; h++) {
        if (!int_or_nil(r[h], &mentions[h]) || (hposts[h] = api_reply_sum(r[n + h])) < 0) {
            err = api_bad_reply(r[h], "skill hourly", errstr, errstr_size);
            goto out;
        }
        m_total += mentions[h];
        p_total += hposts[h];
    }
    {
        const redisReply *rr = r[base + C_REMOTE], *lr = r[base + C_LEVELS], *er = r[base + C_EMPL];
        if (!mget_sum(rr, (size_t)n, &remote)) {
            err = api_bad_reply(rr, "remote", errstr, errstr_size);
            goto out;
        }
        if (lr->type != REDIS_REPLY_ARRAY || lr->elements != NLEVELS * (size_t)nd ||
            er->type != REDIS_REPLY_INTEGER) {
            err = api_bad_reply(lr->type == REDIS_REPLY_ARRAY ? er : lr, "skill levels/employers",
                                errstr, errstr_size);
            goto out;
        }
        for (size_t l = 0; l < NLEVELS; l++)
            for (int d = 0; d < nd; d++) {
                if (!int_or_nil(lr->element[l * (size_t)nd + (size_t)d], &v)) {
                    err = api_bad_reply(lr, "level", errstr, errstr_size);
                    goto out;
                }
                lv[l] += v;
                lv_total += v;
            }
        employers = er->integer;
    }
    nheat = api_rank_parse(r[base + C_HEAT], &heat);
    nposts = api_rank_parse(r[base + C_POSTS], &posts);
    npairs = api_rank_parse(r[base + C_PAIRS], &pairs);
    ndpulse = api_rank_parse(r[base + C_DPULSE], &dpulse);
    dposts = api_reply_sum(r[base + C_DPOSTS]);
    if (nheat < 0 || nposts < 0 || npairs < 0 || ndpulse < 0 || dposts < 0) {
        err = api_bad_reply(NULL, "skill", errstr, errstr_size);
        goto out;
    }

    dw_range(&w, "hours", labels[0], labels[n - 1]);
    dw_range(&w, "days", days[0], days[nd - 1]);
    dw_ctx(&w, "summary", q->skill, slen, false, api_skill_cname(sk, q->skill, slen));
    dw_i(&w, "mentions", m_total);
    dw_i(&w, "postings", p_total);
    dw_g(&w, "share", ratio(m_total, p_total));
    dw_i(&w, "remote", remote);
    dw_g(&w, "remote_share", ratio(remote, m_total));
    dw_i(&w, "employers", employers);

    dw_list(&w, "hourly");
    for (int h = 0; h < n; h++) {
        dw_item(&w, "hourly", "hour", labels[h], strlen(labels[h]));
        dw_i(&w, "mentions", mentions[h]);
        dw_i(&w, "postings", hposts[h]);
        dw_g(&w, "share", ratio(mentions[h], hposts[h]));
        dw_end(&w);
    }
    dw_json(&w, "]");

    /* regions by share, among regions with enough postings */
    rows = gtp_xcalloc((size_t)(nheat + npairs + 1), sizeof(*rows));
    for (long i = 0; i < nheat; i++) {
        int64_t p = api_rank_lookup(posts, nposts, heat[i].member, heat[i].len);
        if (heat[i].count <= 0 || p < INSIGHT_MIN_SUPPORT)
            continue;
        rows[nrows++] = (struct scored){heat[i].member, heat[i].len, heat[i].count, p,
                                        (double)heat[i].count / (double)p};
    }
    scored_list(&w, "regions", "region", rows, nrows, q->top,
                (const char *const[]){"mentions", "postings", "share"});

    /* co-skills by lift over the days: P(a and b) / (P(a) P(b)) */
    nrows = 0;
    m_days = api_rank_lookup(dpulse, ndpulse, q->skill, slen);
    for (long i = 0; i < npairs; i++) {
        int64_t mb = api_rank_lookup(dpulse, ndpulse, pairs[i].member, pairs[i].len);
        if (pairs[i].count < INSIGHT_MIN_SUPPORT || mb <= 0 || m_days <= 0 || dposts <= 0)
            continue;
        rows[nrows++] = (struct scored){pairs[i].member, pairs[i].len, pairs[i].count, mb,
                                        (double)pairs[i].count * (double)dposts /
                                            ((double)m_days * (double)mb)};
    }
    scored_list(&w, "coskills", "skill", rows, nrows, q->top,
                (const char *const[]){"together", "mentions", "lift"});
    dw_ctx(&w, "summary", q->skill, slen, false, api_skill_cname(sk, q->skill, slen));
    if (!w.csv)
        w.fields = 1;
    dw_i(&w, "day_mentions", m_days);
    dw_i(&w, "day_postings", dposts);

    dw_list(&w, "levels");
    for (size_t l = 0; l < NLEVELS; l++) {
        dw_item(&w, "levels", "level", levels[l], strlen(levels[l]));
        dw_i(&w, "postings", lv[l]);
        dw_g(&w, "share", ratio(lv[l], lv_total));
        dw_end(&w);
    }
    dw_json(&w, "]}");
    err = 0;
out:
    free(rows);
    free(heat);
    free(posts);
    free(pairs);
    free(dpulse);
    free(mentions);
    free(hposts);
    batch_fini(&b);
    free(dhours);
    free(labels);
    return err;
}

/* ---- /api/skills ------------------------------------------------------------------------- */

void api_skills(const struct gtp_skills *sk, const struct api_params *q, struct jout *out)
{
    size_t n = sk ? gtp_skills_count(sk) : 0;
    if (q->format == API_CSV) {
        jout_lit(out, "skill,name,category\r\n");
        for (size_t i = 0; i < n; i++) {
            const char *id = gtp_skills_id(sk, i), *name = gtp_skills_name(sk, i),
                       *cat = gtp_skills_category(sk, i);
            jout_csv(out, id, strlen(id));
            jout_lit(out, ",");
            jout_csv(out, name, strlen(name));
            jout_lit(out, ",");
            if (cat)
                jout_csv(out, cat, strlen(cat));
            jout_lit(out, "\r\n");
        }
        return;
    }
    jout_lit(out, "{\"skills\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            jout_lit(out, ",");
        jout_lit(out, "{\"skill\":");
        jout_cstr(out, gtp_skills_id(sk, i));
        jout_lit(out, ",\"name\":");
        jout_cstr(out, gtp_skills_name(sk, i));
        jout_lit(out, ",\"category\":");
        jout_cstr(out, gtp_skills_category(sk, i));
        jout_lit(out, "}");
    }
    jout_lit(out, "]}");
}
