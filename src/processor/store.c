/* Flush and restore of partition state in Redis, by one Lua script per flush
 * so deltas, offsets, watermark and dedup state land together or not at all. */
#include "store.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/err.h"
#include "gtp/redis.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"

/* ARGV: topic, partition, expected next ("" = none), new next, max event µs
 * ("" = none), ttl s, now ms, purge-before s ("" = none),
 * n deltas, then (skill, region, hour label, hour start s, count) each,
 * n stats, then (field, delta) each, n ids, then (window start s, id) each.
 * Returns {1, next} applied, {2, next} already applied, {0, stored} fenced. */
static struct gtp_redis_script flush_script = {
    .source =
        "local topic, p = ARGV[1], ARGV[2]\n"
        "local part = 'gtp:part:' .. topic .. ':' .. p\n"
        "local cur = redis.call('HGET', part, 'next') or ''\n"
        "local expected, newnext = ARGV[3], ARGV[4]\n"
        "if cur ~= expected then\n"
        "  if cur == newnext then return {2, cur} end\n"
        "  return {0, cur}\n"
        "end\n"
        "local ttl = tonumber(ARGV[6])\n"
        "local touched = {}\n"
        "local i = 9\n"
        "local n = tonumber(ARGV[i]); i = i + 1\n"
        "for _ = 1, n do\n"
        "  local s, r, h, hs, c = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4]\n"
        "  i = i + 5\n"
        "  local tk = 'trend:' .. s .. ':' .. r .. ':' .. h\n"
        "  redis.call('INCRBY', tk, c); touched[tk] = true\n"
        "  local pk = 'gtp:pulse:' .. h\n"
        "  redis.call('ZINCRBY', pk, c, s); touched[pk] = true\n"
        "  local hk = 'gtp:heat:' .. h\n"
        "  redis.call('ZINCRBY', hk, c, r); touched[hk] = true\n"
        "  local sk = 'gtp:heat:' .. h .. ':' .. s\n"
        "  redis.call('ZINCRBY', sk, c, r); touched[sk] = true\n"
        "  redis.call('ZADD', 'gtp:hours', hs, h)\n"
        "end\n"
        "n = tonumber(ARGV[i]); i = i + 1\n"
        "for _ = 1, n do\n"
        "  redis.call('HINCRBY', 'gtp:stats', ARGV[i], ARGV[i+1]); i = i + 2\n"
        "end\n"
        "local dprefix = 'gtp:dedup:' .. topic .. ':' .. p .. ':'\n"
        "local didx = 'gtp:dedupidx:' .. topic .. ':' .. p\n"
        "n = tonumber(ARGV[i]); i = i + 1\n"
        "for _ = 1, n do\n"
        "  local dk = dprefix .. ARGV[i]\n"
        "  redis.call('SADD', dk, ARGV[i+1]); touched[dk] = true\n"
        "  redis.call('ZADD', didx, ARGV[i], ARGV[i])\n"
        "  i = i + 2\n"
        "end\n"
        "if ARGV[8] ~= '' then\n"
        "  local old = redis.call('ZRANGEBYSCORE', didx, '-inf', '(' .. ARGV[8])\n"
        "  for _, w in ipairs(old) do redis.call('DEL', dprefix .. w); touched[dprefix .. w] = nil end\n"
        "  redis.call('ZREMRANGEBYSCORE', didx, '-inf', '(' .. ARGV[8])\n"
        "end\n"
        "for k in pairs(touched) do redis.call('EXPIRE', k, ttl) end\n"
        "redis.call('HSET', part, 'next', newnext)\n"
        "if ARGV[5] ~= '' then\n"
        "  redis.call('HSET', part, 'max', ARGV[5])\n"
        "  local le = redis.call('HGET', 'gtp:stats', 'last_event_us')\n"
        "  if not le or tonumber(le) < tonumber(ARGV[5]) then\n"
        "    redis.call('HSET', 'gtp:stats', 'last_event_us', ARGV[5])\n"
        "  end\n"
        "end\n"
        "redis.call('HSET', 'gtp:stats', 'last_flush_ms', ARGV[7])\n"
        "return {1, newnext}\n",
};

/* Arguments are built into one arena of fixed-size number slots plus borrowed
 * strings; argv points into it. */
struct args {
    const char **v;
    size_t *len;
    char (*num)[64];
    size_t n, cap;
};

static void args_grow(struct args *a)
{
    if (a->n < a->cap)
        return;
    a->cap = a->cap ? a->cap * 2 : 256;
    a->v = gtp_xrealloc(a->v, a->cap * sizeof(*a->v));
    a->len = gtp_xrealloc(a->len, a->cap * sizeof(*a->len));
    a->num = gtp_xrealloc(a->num, a->cap * sizeof(*a->num));
}

static void args_str(struct args *a, const char *s)
{
    args_grow(a);
    a->v[a->n] = s;
    a->len[a->n] = strlen(s);
    a->n++;
}

static void args_i64(struct args *a, int64_t x)
{
    args_grow(a);
    a->len[a->n] = (size_t)snprintf(a->num[a->n], sizeof(a->num[0]), "%" PRId64, x);
    a->v[a->n] = NULL; /* resolved after the last grow */
    a->n++;
}

/* Strings kept by value for lowercased regions and hour labels. */
static void args_copy(struct args *a, const char *s)
{
    args_grow(a);
    snprintf(a->num[a->n], sizeof(a->num[0]), "%s", s);
    a->len[a->n] = strlen(a->num[a->n]);
    a->v[a->n] = NULL;
    a->n++;
}

static void args_resolve(struct args *a)
{
    for (size_t i = 0; i < a->n; i++)
        if (!a->v[i])
            a->v[i] = a->num[i];
}

static void args_free(struct args *a)
{
    free(a->v);
    free(a->len);
    free(a->num);
}

int store_flush(redisContext *rc, const struct store_flush *f, enum store_result *result,
                int64_t *stored_next, char *errstr, size_t errstr_size)
{
    struct args a = {0};
    const struct agg *g = f->agg;
    size_t nstats = 0, nstats_at;
    int err = 0;
    redisReply *rep = NULL;

    args_str(&a, f->topic);
    args_i64(&a, f->partition);
    if (f->expected_next == STORE_NO_OFFSET)
        args_str(&a, "");
    else
        args_i64(&a, f->expected_next);
    args_i64(&a, f->new_next);
    if (f->max_event_us == INT64_MIN)
        args_str(&a, "");
    else
        args_i64(&a, f->max_event_us);
    args_i64(&a, f->ttl_s);
    args_i64(&a, gtp_wall_us() / 1000);
    if (f->purge_before_us == INT64_MIN)
        args_str(&a, "");
    else
        args_i64(&a, f->purge_before_us / 1000000);

    args_i64(&a, (int64_t)g->used);
    for (size_t i = 0; i < g->cap; i++) {
        const struct agg_delta *d = &g->deltas[i];
        char region[9], hour[GTP_TIME_HOUR_MAX];
        if (!d->count)
            continue;
        for (size_t k = 0; k < 8; k++)
            region[k] = (char)tolower((unsigned char)d->region[k]);
        region[8] = '\0';
        gtp_time_format_hour(d->hour_start, hour, sizeof(hour));
        args_str(&a, gtp_skills_id(f->skills, d->skill));
        args_copy(&a, region);
        args_copy(&a, hour);
        args_i64(&a, d->hour_start / 1000000);
        args_i64(&a, d->count);
    }

    nstats_at = a.n;
    args_i64(&a, 0); /* patched below */
    for (int s = 0; s < AGG_NSTATS; s++) {
        if (!g->stats[s])
            continue;
        args_str(&a, agg_stat_names[s]);
        args_i64(&a, g->stats[s]);
        nstats++;
    }
    for (int r = 0; r < f->nreject_names && r < 16; r++) {
        char field[64];
        if (!g->rejected_by_reason[r] || !f->reject_names[r])
            continue;
        snprintf(field, sizeof(field), "rejected:%s", f->reject_names[r]);
        args_copy(&a, field);
        args_i64(&a, g->rejected_by_reason[r]);
        nstats++;
    }
    a.len[nstats_at] = (size_t)snprintf(a.num[nstats_at], sizeof(a.num[0]), "%zu", nstats);

    args_i64(&a, (int64_t)g->nids);
    for (size_t i = 0; i < g->nids; i++) {
        args_i64(&a, g->ids[i].window_start / 1000000);
        args_str(&a, g->ids[i].id);
    }
    args_resolve(&a);

    rep = gtp_redis_eval(rc, &flush_script, 0, (int)a.n, a.v, a.len, errstr, errstr_size);
    if (!rep) {
        err = GTP_ERR_REDIS;
        goto out;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        gtp_errf(errstr, errstr_size, "flush script: %.300s", rep->str);
        err = GTP_ERR_REDIS;
        goto out;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER) {
        gtp_errf(errstr, errstr_size, "flush script: unexpected reply");
        err = GTP_ERR_REDIS;
        goto out;
    }
    switch (rep->element[0]->integer) {
    case 1: *result = STORE_APPLIED; break;
    case 2: *result = STORE_ALREADY; break;
    default: *result = STORE_FENCED; break;
    }
    if (stored_next) {
        long long v;
        const redisReply *s = rep->element[1];
        *stored_next = STORE_NO_OFFSET;
        if (s->type == REDIS_REPLY_STRING && s->len > 0 && !gtp_parse_ll(s->str, &v))
            *stored_next = v;
    }
out:
    if (rep)
        freeReplyObject(rep);
    args_free(&a);
    return err;
}

int store_load(redisContext *rc, const char *topic, int32_t partition, int64_t *next,
               struct gtp_window *w, char *errstr, size_t errstr_size)
{
    redisReply *rep = NULL, *ids = NULL;
    char key[512];
    int err = 0;
    long long v;

    *next = STORE_NO_OFFSET;
    snprintf(key, sizeof(key), "gtp:part:%s:%d", topic, (int)partition);
    rep = redisCommand(rc, "HMGET %s next max", key);
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        gtp_errf(errstr, errstr_size, "load %s: %s", key, rep ? "bad reply" : rc->errstr);
        err = GTP_ERR_REDIS;
        goto out;
    }
    if (rep->element[0]->type == REDIS_REPLY_STRING && !gtp_parse_ll(rep->element[0]->str, &v))
        *next = v;
    if (rep->element[1]->type == REDIS_REPLY_STRING && !gtp_parse_ll(rep->element[1]->str, &v))
        gtp_window_restore_max(w, v);
    freeReplyObject(rep);

    snprintf(key, sizeof(key), "gtp:dedupidx:%s:%d", topic, (int)partition);
    rep = redisCommand(rc, "ZRANGE %s 0 -1", key);
    if (!rep || rep->type != REDIS_REPLY_ARRAY) {
        gtp_errf(errstr, errstr_size, "load %s: %s", key, rep ? "bad reply" : rc->errstr);
        err = GTP_ERR_REDIS;
        goto out;
    }
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        if (e->type != REDIS_REPLY_STRING || gtp_parse_ll(e->str, &v))
            continue;
        ids = redisCommand(rc, "SMEMBERS gtp:dedup:%s:%d:%lld", topic, (int)partition, v);
        if (!ids || ids->type != REDIS_REPLY_ARRAY) {
            gtp_errf(errstr, errstr_size, "load dedup: %s", ids ? "bad reply" : rc->errstr);
            err = GTP_ERR_REDIS;
            goto out;
        }
        for (size_t k = 0; k < ids->elements; k++)
            if (ids->element[k]->type == REDIS_REPLY_STRING)
                gtp_window_restore_id(w, (int64_t)v * 1000000, ids->element[k]->str,
                                      ids->element[k]->len);
        freeReplyObject(ids);
        ids = NULL;
    }
out:
    if (ids)
        freeReplyObject(ids);
    if (rep)
        freeReplyObject(rep);
    return err;
}
