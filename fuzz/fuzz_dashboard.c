/* Fuzz target: the dashboard's handling of outside data. A query string
 * (decoded as libmicrohttpd does) through api_parse and the cache key; data
 * strings through jout_str, which must give JSON that is safe inside HTML;
 * fake Redis replies through api_rank_parse and api_stats_json; numbers
 * through jout_num; --listen values through dash_listen_parse. */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "api.h"
#include "dash.h"
#include "fuzz.h"
#include "gtp/util.h"
#include "gtp/err.h"
#include "gtp/taxonomy.h"
#include "jout.h"

static int hexv(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* In-place %XX decoding like MHD_http_unescape ('+' handled by the caller). */
static void unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%' && hexv(p[1]) >= 0 && hexv(p[2]) >= 0) {
            *o++ = (char)(hexv(p[1]) * 16 + hexv(p[2]));
            p += 2;
        } else {
            *o++ = *p == '+' ? ' ' : *p;
        }
    }
    *o = '\0';
}

/* Output of jout: valid UTF-8 JSON, nothing an HTML parser could act on. */
static json_t *check_jout(const struct jout *j, int want_object)
{
    json_error_t jerr;
    json_t *v;
    FUZZ_CHECK(j->p && strlen(j->p) == j->len, "jout length");
    FUZZ_CHECK(gtp_fuzz_utf8_ok((const uint8_t *)j->p, j->len), "jout is not UTF-8: %s", j->p);
    FUZZ_CHECK(!strpbrk(j->p, "<>&'"), "raw HTML character in %s", j->p);
    FUZZ_CHECK(!strstr(j->p, "\xe2\x80\xa8") && !strstr(j->p, "\xe2\x80\xa9"), "raw U+2028/9");
    /* as reals: jansson refuses integers past int64, JSON and browsers do not */
    v = json_loadb(j->p, j->len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
    FUZZ_CHECK(v, "jout does not parse (%s): %s", jerr.text, j->p);
    FUZZ_CHECK(!want_object || json_is_object(v), "not an object: %s", j->p);
    return v;
}

static void fuzz_query(struct fuzz_in *in, const struct gtp_skills *sk)
{
    char *qs = fuzz_bytes(in, 4096, NULL), *save = NULL;
    const char *hours = NULL, *top = NULL, *skill = NULL, *region = NULL, *metric = NULL,
               *format = NULL;
    struct api_params q;
    char err[512], key[160];

    for (char *kv = strtok_r(qs, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        char *val = kv + strlen(kv); /* "" inside the buffer */
        if (eq) {
            *eq = '\0';
            val = eq + 1;
        }
        unescape(kv);
        unescape(val);
        /* MHD_lookup_connection_value answers the first one */
        if (!strcmp(kv, "hours") && !hours)
            hours = val;
        else if (!strcmp(kv, "top") && !top)
            top = val;
        else if (!strcmp(kv, "skill") && !skill)
            skill = val;
        else if (!strcmp(kv, "region") && !region)
            region = val;
        else if (!strcmp(kv, "metric") && !metric)
            metric = val;
        else if (!strcmp(kv, "format") && !format)
            format = val;
    }
    for (int with_sk = 0; with_sk < 2; with_sk++) {
        err[0] = '\0';
        if (api_parse(hours, top, skill, with_sk ? sk : NULL, &q, err, sizeof(err)) == 0 &&
            api_parse_more(region, metric, format, &q, err, sizeof(err)) == 0) {
            FUZZ_CHECK(q.hours >= 1 && q.hours <= API_HOURS_MAX && q.top >= 1 &&
                           q.top <= API_TOP_MAX,
                       "api_parse accepted hours %d top %d", q.hours, q.top);
            FUZZ_CHECK(strlen(q.skill) <= API_SKILL_MAX, "skill too long");
            for (const char *c = q.skill; *c; c++)
                FUZZ_CHECK((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-',
                           "skill \"%s\" accepted", q.skill);
            if (with_sk && q.skill[0])
                FUZZ_CHECK(gtp_skills_find(sk, q.skill) >= 0, "unknown skill accepted");
            FUZZ_CHECK(strlen(q.region) <= API_REGION_MAX, "region too long");
            for (const char *c = q.region; *c; c++)
                FUZZ_CHECK((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-',
                           "region \"%s\" accepted", q.region);
            /* the answer cache's key, as serve_api builds it, is never truncated */
            FUZZ_CHECK((size_t)snprintf(key, sizeof(key), "%d|%d|%d|%s|%s|%d|%d", ROUTE_SKILL,
                                        q.hours, q.top, q.skill, q.region, (int)q.metric,
                                        (int)q.format) < sizeof(key),
                       "cache key truncated");
        } else {
            struct jout j;
            json_t *v;
            FUZZ_CHECK(err[0], "400 without a message");
            /* the 400 body as send_error writes it */
            jout_init(&j);
            jout_lit(&j, "{\"error\":");
            jout_cstr(&j, err);
            jout_lit(&j, "}\n");
            v = check_jout(&j, 1);
            json_decref(v);
            jout_fini(&j);
        }
    }
    free(qs);
}

static void fuzz_str(struct fuzz_in *in)
{
    size_t n;
    char *s = fuzz_bytes(in, 4096, &n);
    char *exact = gtp_xmalloc(n ? n : 1);
    struct jout j;
    json_t *v;

    memcpy(exact, s, n);
    jout_init(&j);
    jout_str(&j, exact, n);
    v = check_jout(&j, 0);
    FUZZ_CHECK(json_is_string(v), "jout_str gave a non-string");
    if (gtp_fuzz_utf8_ok((const uint8_t *)s, n))
        FUZZ_CHECK(json_string_length(v) == n && memcmp(json_string_value(v), s, n) == 0,
                   "valid UTF-8 does not round-trip through jout_str");
    json_decref(v);
    jout_fini(&j);
    free(exact);
    free(s);
}

/* A flat array reply of n string (or integer/nil) elements carved from the input. */
static redisReply *fake_reply(struct fuzz_in *in, int stats)
{
    static const char *const fields[] = {"consumed",      "accepted",      "rejected:invalid_json",
                                         "last_event_us", "last_flush_ms", "rejected:<b>"};
    redisReply *rep = gtp_xcalloc(1, sizeof(*rep));
    size_t n = fuzz_u8(in) % 24;
    rep->type = REDIS_REPLY_ARRAY;
    rep->elements = n;
    rep->element = gtp_xcalloc(n ? n : 1, sizeof(*rep->element));
    for (size_t i = 0; i < n; i++) {
        redisReply *e = gtp_xcalloc(1, sizeof(*e));
        uint8_t how = fuzz_u8(in);
        e->type = (how & 7) == 7   ? REDIS_REPLY_NIL
                  : (how & 7) == 6 ? REDIS_REPLY_INTEGER
                                   : REDIS_REPLY_STRING;
        if (e->type == REDIS_REPLY_STRING) {
            if (stats && i % 2 == 0 && (how & 0x30) == 0x10) {
                e->str = gtp_xstrdup(fields[((how >> 3) ^ i) % 6]);
                e->len = strlen(e->str);
            } else {
                e->str = fuzz_bytes(in, 64, &e->len);
            }
        } else if (e->type == REDIS_REPLY_INTEGER) {
            e->integer = (long long)fuzz_u64(in);
        }
        rep->element[i] = e;
    }
    return rep;
}

static void fuzz_replies(struct fuzz_in *in, const struct gtp_skills *sk)
{
    redisReply *rep = fake_reply(in, 0);
    struct api_rank *r = NULL;
    long n = api_rank_parse(rep, &r);
    struct jout j;
    char err[256];
    int64_t now_ms = (int64_t)(fuzz_u64(in) % UINT64_C(4102444800000));
    json_t *v;

    FUZZ_CHECK(n == -1 || (size_t)n * 2 == rep->elements, "rank count %ld", n);
    for (long i = 1; i < n; i++)
        FUZZ_CHECK(r[i - 1].count >= r[i].count, "ranking not sorted by count");
    /* what api_pulse does with each member: a name, escaped */
    jout_init(&j);
    jout_lit(&j, "[");
    for (long i = 0; i < n; i++) {
        int idx = -1;
        if (i)
            jout_lit(&j, ",");
        if (r[i].len <= API_SKILL_MAX && !memchr(r[i].member, 0, r[i].len))
            idx = gtp_skills_find(sk, r[i].member);
        if (idx >= 0)
            jout_cstr(&j, gtp_skills_name(sk, (size_t)idx));
        else
            jout_str(&j, r[i].member, r[i].len);
    }
    jout_lit(&j, "]");
    v = check_jout(&j, 0);
    json_decref(v);
    jout_fini(&j);
    free(r);
    freeReplyObject(rep);

    rep = fake_reply(in, 1);
    jout_init(&j);
    if (api_stats_json(rep, now_ms, &j, err, sizeof(err)) == 0) {
        v = check_jout(&j, 1);
        json_decref(v);
    }
    jout_fini(&j);
    freeReplyObject(rep);
}

static void fuzz_misc(struct fuzz_in *in)
{
    union {
        uint64_t u;
        double d;
    } num;
    struct jout j;
    char host[64], err[256], *s;
    int port = -1;
    json_t *v;

    num.u = fuzz_u64(in);
    jout_init(&j);
    jout_lit(&j, "[");
    jout_num(&j, num.d);
    jout_lit(&j, ",");
    jout_i64(&j, (int64_t)num.u);
    jout_lit(&j, "]");
    v = check_jout(&j, 0);
    json_decref(v);
    jout_fini(&j);

    s = fuzz_bytes(in, 300, NULL);
    if (dash_listen_parse(s, host, sizeof(host), &port, err, sizeof(err)) == 0)
        FUZZ_CHECK(host[0] && strlen(host) < sizeof(host) && port >= 0 && port <= 65535,
                   "listen parse accepted host \"%s\" port %d", host, port);
    free(s);
}

int gtp_fuzz_dashboard(const uint8_t *data, size_t size)
{
    const struct gtp_skills *sk = gtp_fuzz_taxonomy()->skills;
    struct fuzz_in in = {data, size};
    switch (fuzz_u8(&in) % 4) {
    case 0:
        fuzz_query(&in, sk);
        break;
    case 1:
        fuzz_str(&in);
        break;
    case 2:
        fuzz_replies(&in, sk);
        break;
    default:
        fuzz_misc(&in);
        break;
    }
    return 0;
}
