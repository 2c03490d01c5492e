/* Pending insights deltas (see insights.h): one open-addressing table for the counted
 * kinds, keyed by a fixed-size binary key, and the set of employer elements with their names. */
#include "insights.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctable.h"
#include "gtp/seniority.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"
#include "argfmt.h"

void insights_init(struct insights *in, bool on)
{
    memset(in, 0, sizeof(*in));
    in->on = on;
    in->cap = 1024;
    in->v = gtp_xcalloc(in->cap, sizeof(*in->v));
    in->ids = gtp_strmap_new();
}

void insights_fini(struct insights *in)
{
    if (!in->v)
        return;
    free(in->v);
    free(in->emp);
    gtp_strmap_free(in->ids);
    gtp_buf_fini(&in->names);
    free(in->name_off);
    free(in->name_len);
    memset(in, 0, sizeof(*in));
}

void insights_reset(struct insights *in)
{
    if (in->used)
        memset(in->v, 0, in->cap * sizeof(*in->v));
    in->used = 0;
    memset(in->nkind, 0, sizeof(in->nkind));
    if (in->nemp)
        memset(in->emp, 0, in->emp_cap * sizeof(*in->emp));
    in->nemp = 0;
    if (in->nnames) {
        /* the map has no reset: a new one per flush that saw companies */
        gtp_strmap_free(in->ids);
        in->ids = gtp_strmap_new();
        in->nnames = 0;
        gtp_buf_reset(&in->names);
    }
}

#define HOUR_US (INT64_C(3600) * 1000000)

_Static_assert(sizeof(struct insights_key) == CTABLE_KEY &&
                   sizeof(struct insights_delta) == CTABLE_ENTRY &&
                   offsetof(struct insights_delta, count) == CTABLE_KEY,
               "insights_delta has the pending-delta table's layout (ctable.h)");
_Static_assert(GTP_TIME_MIN_US >= 0 && GTP_TIME_MAX_US / HOUR_US < UINT32_MAX,
               "an event's hour number fits 32 bits");
_Static_assert(GTP_SENIORITY_NLEVELS <= UINT8_MAX, "a level fits a byte");

/* The start (µs) of a key's hour or day. */
static int64_t key_us(const struct insights_key *k)
{
    return (int64_t)k->hour * HOUR_US;
}

/* Room for n more keys: grown before a stage's probes, so the slots they prefetched stay
 * where they are. */
static void reserve(struct insights *in, size_t n)
{
    size_t ncap = ctable_cap(in->cap, in->used, n);
    if (ncap != in->cap) {
        in->v = ctable_rehash(in->v, in->cap, ncap);
        in->cap = ncap;
    }
}

static void add_at(struct insights *in, size_t i, const struct insights_key *k)
{
    struct insights_delta *d = ctable_find(in->v, in->cap, i, k);
    if (d->count == 0) {
        d->k = *k;
        in->used++;
        in->nkind[k->kind]++;
    }
    d->count++;
}

/* A posting's keys are staged, their slots prefetched, then added: the table is larger than
 * the first-level cache, and one probe after another waited for each in turn. */
#define STAGE_MAX 64

struct stage {
    struct insights_key k[STAGE_MAX];
    size_t at[STAGE_MAX], n;
};

/* Empty the stage into the table, then make room for a full stage: its keys are indexed
 * only after this, so no growth moves a staged slot. */
static void stage_flush(struct insights *in, struct stage *st)
{
    for (size_t j = 0; j < st->n; j++)
        add_at(in, st->at[j], &st->k[j]);
    st->n = 0;
    reserve(in, STAGE_MAX);
}

static void add(struct insights *in, struct stage *st, const struct insights_key *k)
{
    if (st->n == STAGE_MAX)
        stage_flush(in, st);
    size_t i = ctable_index(k, in->cap);
    __builtin_prefetch(&in->v[i]);
    st->k[st->n] = *k;
    st->at[st->n++] = i;
}

/* The number of a company name in this flush, registered on first sight. */
static uint32_t name_id(struct insights *in, const char *s, size_t n)
{
    void *v = gtp_strmap_get(in->ids, s, n);
    if (v)
        return (uint32_t)((uintptr_t)v - 1);
    if (in->nnames == in->names_cap) {
        in->names_cap = in->names_cap ? in->names_cap * 2 : 1024;
        in->name_off = gtp_xrealloc(in->name_off, in->names_cap * sizeof(*in->name_off));
        in->name_len = gtp_xrealloc(in->name_len, in->names_cap * sizeof(*in->name_len));
    }
    in->name_off[in->nnames] = in->names.len;
    in->name_len[in->nnames] = n;
    gtp_buf_put(&in->names, s, n);
    gtp_buf_putc(&in->names, '\0');
    gtp_strmap_put(in->ids, s, n, (void *)(uintptr_t)(in->nnames + 1));
    return (uint32_t)in->nnames++;
}

_Static_assert((GTP_TIME_MAX_US - GTP_TIME_MIN_US) / INSIGHTS_DAY_US <= UINT16_MAX,
               "an employer entry's day fits 16 bits");
_Static_assert(GTP_TIME_MIN_US % INSIGHTS_DAY_US == 0, "day numbers start at a day");

/* An employer element's parts (insights.h). */
static uint16_t emp_skill(uint64_t e)
{
    return (uint16_t)(e >> 48);
}

static uint32_t emp_name(uint64_t e)
{
    return (uint32_t)(e & UINT32_MAX) - 1;
}

/* The start (µs) of an employer element's day. */
static int64_t emp_day_us(uint64_t e)
{
    return GTP_TIME_MIN_US + (int64_t)((e >> 32) & UINT16_MAX) * INSIGHTS_DAY_US;
}

/* The top bits of a multiplicative hash of the mixed element. The product's bits 32..48,
 * taken before, never see the element's skill (bits 48..63): every skill of one employer
 * and day probed from one slot, along a run as long as their skills. insights_add took
 * 2,110 instructions per posting then, 1,300 now (callgrind, bench/README.md). */
static size_t emp_slot(uint64_t e, size_t cap)
{
    uint64_t h = (e ^ (e >> 31)) * UINT64_C(0x9e3779b97f4a7c15);
    return (size_t)(h >> (64 - __builtin_ctzll((unsigned long long)cap)));
}

static void emp_put(uint64_t *v, size_t cap, uint64_t e, size_t *n)
{
    size_t i = emp_slot(e, cap);
    for (; v[i]; i = (i + 1) & (cap - 1))
        if (v[i] == e)
            return;
    v[i] = e;
    (*n)++;
}

/* Room for n more elements: at most 3/4 full (on the bench topic ~80,000 elements per
 * 200,000 postings fit 131,072 slots, 1 MiB; half full would take twice that). */
static void emp_reserve(struct insights *in, size_t n)
{
    if (4 * (in->nemp + n) <= 3 * in->emp_cap)
        return;
    size_t cap = in->emp_cap ? 2 * in->emp_cap : 4096, k = 0;
    while (4 * (in->nemp + n) > 3 * cap)
        cap *= 2;
    uint64_t *v = gtp_xcalloc(cap, sizeof(*v));
    for (size_t i = 0; i < in->emp_cap; i++)
        if (in->emp[i])
            emp_put(v, cap, in->emp[i], &k);
    free(in->emp);
    in->emp = v;
    in->emp_cap = cap;
}

void insights_add(struct insights *in, const struct insights_post *p)
{
    uint16_t sk[GTP_SKILLS_MAX];
    uint64_t emp[GTP_SKILLS_MAX]; /* the posting's employer elements */
    size_t n = 0;
    /* accepted events are within the parseable years, so positive and 32-bit hour numbers */
    uint32_t hour = (uint32_t)(p->posted_us / HOUR_US);
    uint32_t day = (uint32_t)((p->posted_us - p->posted_us % INSIGHTS_DAY_US) / HOUR_US);
    struct insights_key k;
    struct stage st;
    uint32_t company = 0;
    bool has_company = p->company && p->company_len > 0;

    if (!in->on)
        return;
    for (size_t w = 0; w < (p->nskills + 63) / 64; w++)
        for (uint64_t bits = p->skills->bits[w]; bits; bits &= bits - 1)
            sk[n++] = (uint16_t)(w * 64 + (size_t)__builtin_ctzll(bits));
    st.n = 0;
    reserve(in, STAGE_MAX);
    memset(&k, 0, sizeof(k));
    k.kind = INSIGHTS_POSTS;
    k.hour = hour;
    strncpy(k.u.region, p->region, sizeof(k.u.region) - 1);
    add(in, &st, &k);
    if (p->is_remote == 1) {
        k.kind = INSIGHTS_RPOSTS;
        add(in, &st, &k);
    }
    memset(&k.u, 0, sizeof(k.u));
    if (n == 0) {
        stage_flush(in, &st);
        return;
    }
    uint64_t dn = (uint64_t)(((int64_t)day * HOUR_US - GTP_TIME_MIN_US) / INSIGHTS_DAY_US);
    if (has_company) {
        company = name_id(in, p->company, p->company_len);
        emp_reserve(in, n); /* no growth moves a prefetched slot */
    }
    for (size_t i = 0; i < n; i++) {
        k.a = sk[i];
        k.u.b = 0;
        k.level = 0;
        if (p->is_remote == 1) {
            k.kind = INSIGHTS_REMOTE;
            k.hour = hour;
            add(in, &st, &k);
        }
        k.hour = day;
        if (p->level > 0) {
            k.kind = INSIGHTS_LEVEL;
            k.level = (uint8_t)p->level;
            add(in, &st, &k);
        }
        if (has_company) {
            /* put after the loop: the slot's line is fetched meanwhile */
            emp[i] = (uint64_t)sk[i] << 48 | dn << 32 | ((uint64_t)company + 1);
            __builtin_prefetch(&in->emp[emp_slot(emp[i], in->emp_cap)]);
        }
        /* sk is ascending, so (a, b) with a < b by index: one entry per pair; the
         * member's byte order of the ids is decided when it is written */
        k.kind = INSIGHTS_PAIR;
        k.level = 0;
        for (size_t j = i + 1; j < n; j++) {
            k.u.b = sk[j];
            add(in, &st, &k);
        }
    }
    stage_flush(in, &st);
    for (size_t i = 0; has_company && i < n; i++)
        emp_put(in->emp, in->emp_cap, emp[i], &in->nemp);
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

size_t insights_company_put(struct gtp_buf *b, const char *s, size_t len)
{
    size_t i = 0, j = len, at = b->len;
    while (i < j && is_space((unsigned char)s[i]))
        i++;
    while (j > i && is_space((unsigned char)s[j - 1]))
        j--;
    gtp_buf_put(b, s + i, j - i);
    for (size_t q = at; q < b->len; q++)
        if (b->p[q] >= 'A' && b->p[q] <= 'Z')
            b->p[q] = (char)(b->p[q] - 'A' + 'a');
    gtp_buf_putc(b, '\0');
    return j - i;
}

/* ---- the flush's arguments -------------------------------------------------------------- */

static void label(struct gtp_rediscmd *c, int64_t t_us, bool hour)
{
    size_t n;
    const char *s = argfmt_label(t_us, hour, &n);
    gtp_rediscmd_arg_copy(c, s, n);
}

/* One argument: the pieces joined with ':' (a key), without a format string's parsing. */
static void key(struct gtp_rediscmd *c, const char *const *piece, size_t npieces)
{
    gtp_rediscmd_arg_begin(c);
    for (size_t i = 0; i < npieces; i++) {
        if (i)
            gtp_rediscmd_arg_append(c, ":", 1);
        gtp_rediscmd_arg_append(c, piece[i], strlen(piece[i]));
    }
}

/* One pair under its first skill s (o after it in byte order): the flush groups the pairs per
 * (day, s), so each group names its day and skill once. */
struct pair_side {
    uint64_t order; /* day, rank of skill s, rank of o (s < o) */
    uint16_t s, o;  /* the group's skill and the other one */
    int64_t count;
};

/* v[0..n), elements of size bytes, by the uint64 at key_off in each: an LSD radix sort over
 * the key's bytes that differ between elements; tmp has room for n. For the pairs (three
 * bytes differ in a flush within one day) a tenth of qsort's instructions on a flush's few
 * thousand entries. A flush of 100,000 postings sorted both (56,836 employer elements) in
 * 4.7M instructions, where qsort took 27.7M for the employers alone (callgrind). Inline,
 * so each caller's size is a constant. */
static inline void radix_sort(void *v, void *tmp, size_t n, size_t size, size_t key_off)
{
    unsigned char *src = v, *dst = tmp;
    uint64_t first, diff = 0;
    if (n < 2)
        return;
    memcpy(&first, src + key_off, sizeof(first));
    for (size_t i = 1; i < n; i++) {
        uint64_t k;
        memcpy(&k, src + i * size + key_off, sizeof(k));
        diff |= k ^ first;
    }
    for (unsigned shift = 0; shift < 64; shift += 8) {
        size_t at[257] = {0};
        uint64_t k;
        if (!(diff >> shift & 0xFF))
            continue;
        for (size_t i = 0; i < n; i++) {
            memcpy(&k, src + i * size + key_off, sizeof(k));
            at[(k >> shift & 0xFF) + 1]++;
        }
        for (size_t d = 1; d <= 256; d++)
            at[d] += at[d - 1];
        for (size_t i = 0; i < n; i++) {
            memcpy(&k, src + i * size + key_off, sizeof(k));
            memcpy(dst + at[k >> shift & 0xFF]++ * size, src + i * size, size);
        }
        unsigned char *t = src;
        src = dst;
        dst = t;
    }
    if (src != (unsigned char *)v)
        memcpy(v, src, n * size);
}

struct skill_rank {
    const char *id;
    uint16_t i;
};

static int skill_rank_cmp(const void *x, const void *y)
{
    return strcmp(((const struct skill_rank *)x)->id, ((const struct skill_rank *)y)->id);
}

/* pairs: n groups, then per (day, skill s) group, skills in byte order of their ids: day
 * label, s, m, m (o, count) with s < o in byte order (pairs:{day} member s|o; the script
 * sets both index entries, gtp:pairs:{day}:{s} member o and gtp:pairs:{day}:{o} member s,
 * from that member's new score); a skill with no co-skill after it has no group */
static void emit_pairs(const struct insights *in, struct gtp_rediscmd *c,
                       const struct gtp_skills *sk)
{
    size_t n = 0, count_at = c->argc, groups = 0, nsk = gtp_skills_count(sk);
    struct pair_side *v = NULL;
    uint16_t *rank = NULL;

    argfmt_arg_i64(c, 0); /* patched below */
    if (!in->nkind[INSIGHTS_PAIR])
        return;
    struct skill_rank *r = gtp_xmalloc(nsk * sizeof(*r));
    for (size_t i = 0; i < nsk; i++)
        r[i] = (struct skill_rank){gtp_skills_id(sk, i), (uint16_t)i};
    qsort(r, nsk, sizeof(*r), skill_rank_cmp);
    rank = gtp_xmalloc(nsk * sizeof(*rank));
    for (size_t i = 0; i < nsk; i++)
        rank[r[i].i] = (uint16_t)i;
    free(r);
    v = gtp_xmalloc(2 * in->nkind[INSIGHTS_PAIR] * sizeof(*v)); /* entries, then the sort's */
    for (size_t i = 0; i < in->cap; i++) {
        const struct insights_delta *d = &in->v[i];
        if (!d->count || d->k.kind != INSIGHTS_PAIR)
            continue;
        /* the day number offset to stay unsigned (every int64 µs day fits 30 bits), then
         * 11 bits per rank (GTP_SKILLS_MAX) */
        uint64_t day = (uint64_t)(key_us(&d->k) / INSIGHTS_DAY_US + (INT64_C(1) << 30)) << 22;
        uint64_t ra = rank[d->k.a], rb = rank[d->k.u.b];
        if (ra < rb)
            v[n++] = (struct pair_side){day | ra << 11 | rb, d->k.a, d->k.u.b, d->count};
        else
            v[n++] = (struct pair_side){day | rb << 11 | ra, d->k.u.b, d->k.a, d->count};
    }
    free(rank);
    radix_sort(v, v + n, n, sizeof(*v), offsetof(struct pair_side, order));
    for (size_t i = 0; i < n;) {
        size_t j = i;
        const uint64_t group = v[i].order >> 11;
        while (j < n && v[j].order >> 11 == group)
            j++;
        label(c, ((int64_t)(group >> 11) - (INT64_C(1) << 30)) * INSIGHTS_DAY_US, false);
        gtp_rediscmd_arg_str(c, gtp_skills_id(sk, v[i].s));
        argfmt_arg_i64(c, (int64_t)(j - i));
        for (size_t q = i; q < j; q++) {
            gtp_rediscmd_arg_str(c, gtp_skills_id(sk, v[q].o));
            argfmt_arg_i64(c, v[q].count);
        }
        groups++;
        i = j;
    }
    gtp_rediscmd_set_i64(c, count_at, (int64_t)groups);
    free(v);
}

/* Most names per PFADD: Lua's unpack() must stay far below its C stack limit (8000). */
#define NAMES_PER_PFADD 1000

void insights_emit(const struct insights *in, struct gtp_rediscmd *c, const struct gtp_skills *sk,
                   struct hllsent *sent)
{
    uint64_t *emp = NULL;
    uint64_t *hash = NULL; /* per company number, when sent */
    size_t count_at, n = 0;
    char lv[GTP_SENIORITY_NLEVELS][16];

    for (int l = 0; l < GTP_SENIORITY_NLEVELS; l++) {
        snprintf(lv[l], sizeof(lv[l]), "%s", gtp_seniority_name((enum gtp_seniority_level)l));
        for (char *p = lv[l]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    /* posts: region (lowercase), hour, count */
    argfmt_arg_i64(c, (int64_t)in->nkind[INSIGHTS_POSTS]);
    for (size_t i = 0; i < in->cap; i++) {
        const struct insights_delta *d = &in->v[i];
        char r[9];
        if (!d->count || d->k.kind != INSIGHTS_POSTS)
            continue;
        for (size_t q = 0; q < 9; q++)
            r[q] = q < 8 ? (char)tolower((unsigned char)d->k.u.region[q]) : '\0';
        gtp_rediscmd_arg_copy(c, r, strlen(r));
        label(c, key_us(&d->k), true);
        argfmt_arg_i64(c, d->count);
    }
    /* plain counters: key, count */
    argfmt_arg_i64(c, (int64_t)(in->nkind[INSIGHTS_REMOTE] + in->nkind[INSIGHTS_LEVEL] +
                                in->nkind[INSIGHTS_RPOSTS]));
    for (size_t i = 0; i < in->cap; i++) {
        const struct insights_delta *d = &in->v[i];
        size_t tn;
        if (!d->count || (d->k.kind != INSIGHTS_REMOTE && d->k.kind != INSIGHTS_LEVEL &&
                          d->k.kind != INSIGHTS_RPOSTS))
            continue;
        if (d->k.kind == INSIGHTS_RPOSTS) {
            char r[9];
            for (size_t q = 0; q < 9; q++)
                r[q] = q < 8 ? (char)tolower((unsigned char)d->k.u.region[q]) : '\0';
            const char *p[] = {"remote_posts", r, argfmt_label(key_us(&d->k), true, &tn)};
            key(c, p, 3);
        } else if (d->k.kind == INSIGHTS_REMOTE) {
            const char *p[] = {"remote", gtp_skills_id(sk, d->k.a),
                               argfmt_label(key_us(&d->k), true, &tn)};
            key(c, p, 3);
        } else {
            const char *p[] = {"level", gtp_skills_id(sk, d->k.a),
                               lv[d->k.level < GTP_SENIORITY_NLEVELS ? d->k.level : 0],
                               argfmt_label(key_us(&d->k), false, &tn)};
            key(c, p, 4);
        }
        argfmt_arg_i64(c, d->count);
    }
    emit_pairs(in, c, sk);
    /* employers: key, m, m names per (skill, day), in the order of the packed elements:
     * skill, then day, then the company's first sight in this flush */
    if (in->nemp) {
        emp = gtp_xmalloc(2 * in->nemp * sizeof(*emp)); /* and the sort's room */
        for (size_t i = 0; i < in->emp_cap; i++)
            if (in->emp[i])
                emp[n++] = in->emp[i];
        radix_sort(emp, emp + n, n, sizeof(*emp), 0);
    }
    if (sent && n) {
        hash = gtp_xmalloc(in->nnames * sizeof(*hash));
        for (size_t q = 0; q < in->nnames; q++)
            hash[q] = hllsent_hash(in->names.p + in->name_off[q], in->name_len[q]);
    }
    count_at = c->argc;
    argfmt_arg_i64(c, 0); /* patched below */
    size_t groups = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, m = 0, tn;
        /* a run of one (skill, day) is cut at NAMES_PER_PFADD names sent, or taken whole
         * when every name of it is known: then it is one group with no names */
        uint64_t group = emp[i] >> 32; /* skill and day */
        for (; j < n && m < NAMES_PER_PFADD && emp[j] >> 32 == group; j++) {
            if (sent &&
                hllsent_known(sent, emp_skill(emp[j]), emp_day_us(emp[j]), hash[emp_name(emp[j])]))
                continue;
            emp[i + m++] = emp[j]; /* kept in order at the front of the run */
        }
        const char *p[] = {"employers", gtp_skills_id(sk, emp_skill(emp[i])),
                           argfmt_label(emp_day_us(emp[i]), false, &tn)};
        key(c, p, 3);
        argfmt_arg_i64(c, (int64_t)m);
        for (size_t q = i; q < i + m; q++) {
            size_t len;
            const char *s = insights_name(in, emp_name(emp[q]), &len);
            gtp_rediscmd_arg(c, s, len); /* borrowed: names stay until the reset */
            if (sent)
                hllsent_stage(sent, emp_skill(emp[q]), emp_day_us(emp[q]), hash[emp_name(emp[q])]);
        }
        groups++;
        i = j;
    }
    gtp_rediscmd_set_i64(c, count_at, (int64_t)groups);
    free(hash);
    free(emp);
}
