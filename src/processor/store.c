/* Flush and restore of partition state in Redis, by one Lua script per flush
 * so deltas, offsets, watermark and dedup state land together or not at all. */
#include "store.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gtp/err.h"
#include "gtp/redis.h"
#include "gtp/rediscmd.h"
#include "gtp/timeparse.h"
#include "gtp/uuidtext.h"
#include "gtp/util.h"
#include "argfmt.h"

/* ARGV: topic, ttl s, now ms, n parts, insights "1" or "0", then per part (partition, expected
 * next or "", new next, max event µs or "", purge-before s or ""); n trend
 * groups, then (hour label, skill, pulse sum, m, m (region, count)) each, one group per
 * (hour, skill) in hour order, so the key prefixes, the gtp:heat:{hour}:{skill} set and the
 * hour's gtp:rskills sets are named once per group or hour, not per trend key; n heat deltas,
 * then (region, hour label, count) each; n hours, then (hour label, hour start s) each; when
 * insights is "1" (insights.h, docs/redis.md "Insights keys"): n posts, then (region, hour label,
 * count) each; n counters, then (key, count) each (remote:*, level:*); n pair groups, then (day
 * label, skill s, m, m (other, count) with s < other in byte order) each: the pairs:{day} member
 * s|other gets the count, and its new score is set as gtp:pairs:{day}:{s} member other and
 * gtp:pairs:{day}:{other} member s; n employer groups, then (key, m, m names) each (m = 0: every
 * name is in the set already, hllsent.h, and the key only has its TTL refreshed; a set about to
 * pass ~100 names is made dense first by a PFMERGE with an empty dense HyperLogLog the script
 * writes and deletes: same registers, and a sparse one costs Redis a walk of its encoding per added
 * name, docs/redis.md "Insights keys"); then n stats, then (field, delta) each; n dedup groups,
 * then (partition, window start s, m, m ids) each. The pulse/heat sums are merged in C so redis
 * does one command per distinct index entry, not per trend key. Counts and the ttl reach redis.call
 * as the strings they came in and the index scores as integers formatted once by string.format:
 * Redis 7.0 prints a Lua number handed to redis.call with %.17g, which cost more than the command.
 * A gtp:heat:{hour}:{skill} or gtp:rskills:{hour}:{region} score is its trend key's value, a
 * gtp:posts:{hour} score its posts:{region}:{hour} value, a gtp:pairs:{day}:{skill} score its
 * pairs:{day} member's: the INCRBY's or ZINCRBY's reply, set by one ZADD per index key and flush
 * (2,000 arguments at most per call, far below unpack()'s limit) instead of a ZINCRBY per member.
 * Every fence is checked before anything is written. gtp:hours is trimmed to the ttl behind its
 * newest hour, in event time like its scores: the dashboard only reads the newest member, and a
 * wall-clock cut would empty it for a backfill of older data (docs/redis.md). Returns {1} applied,
 * {2} already applied, {0, partition, stored} fenced. */
static struct gtp_redis_script flush_script = {
    .source =
        "local topic, ttl, np = ARGV[1], ARGV[2], tonumber(ARGV[4])\n"
        "local ins = ARGV[5] == '1'\n"
        "local format = string.format\n"
        "local fresh, applied, first_applied = 0, 0, nil\n"
        "for k = 0, np - 1 do\n"
        "  local b = 6 + k * 5\n"
        "  local cur = redis.call('HGET', 'gtp:part:' .. topic .. ':' .. ARGV[b], 'next') or ''\n"
        "  if cur == ARGV[b + 1] then fresh = fresh + 1\n"
        "  elseif cur == ARGV[b + 2] then\n"
        "    applied = applied + 1\n"
        "    first_applied = first_applied or {0, tonumber(ARGV[b]), cur}\n"
        "  else return {0, tonumber(ARGV[b]), cur} end\n"
        "end\n"
        "if applied == np then return {2} end\n"
        "if applied > 0 then return first_applied end\n"
        "local i = 6 + np * 5\n"
        "local function add(sets, k, score, member)\n"
        "  local t = sets[k]\n"
        "  if not t then t = {}; sets[k] = t end\n"
        "  t[#t + 1] = score; t[#t + 1] = member\n"
        "end\n"
        "local function zadd_all(k, t)\n"
        "  for j = 1, #t, 2000 do redis.call('ZADD', k, unpack(t, j, math.min(j + 1999, #t))) end\n"
        "end\n"
        "local n = tonumber(ARGV[i]); i = i + 1\n"
        "local rskills, rsets, rhour = {}, {}, nil\n"
        "for _ = 1, n do\n"
        "  local h, s, sum, m = ARGV[i], ARGV[i+1], ARGV[i+2], tonumber(ARGV[i+3])\n"
        "  i = i + 4\n"
        "  if h ~= rhour then rsets, rhour = {}, h end\n"
        "  local tp, ts, heat = 'trend:' .. s .. ':', ':' .. h, {}\n"
        "  for j = i, i + 2 * m - 1, 2 do\n"
        "    local r, c = ARGV[j], ARGV[j+1]\n"
        "    local tk = tp .. r .. ts\n"
        "    local v = redis.call('INCRBY', tk, c)\n"
        "    if v == tonumber(c) then redis.call('EXPIRE', tk, ttl) end\n"
        "    v = format('%d', v)\n"
        "    heat[#heat + 1] = v; heat[#heat + 1] = r\n"
        "    if ins then\n"
        "      local t = rsets[r]\n"
        "      if not t then\n"
        "        local k = 'gtp:rskills:' .. h .. ':' .. r\n"
        "        t = rskills[k] or {}; rsets[r] = t; rskills[k] = t\n"
        "      end\n"
        "      t[#t + 1] = v; t[#t + 1] = s\n"
        "    end\n"
        "  end\n"
        "  i = i + 2 * m\n"
        "  local hk = 'gtp:heat:' .. h .. ':' .. s\n"
        "  zadd_all(hk, heat)\n"
        "  redis.call('EXPIRE', hk, ttl)\n"
        "  redis.call('ZINCRBY', 'gtp:pulse:' .. h, sum, s)\n"
        "end\n"
        "for k, t in pairs(rskills) do\n"
        "  zadd_all(k, t)\n"
        "  redis.call('EXPIRE', k, ttl)\n"
        "end\n"
        "n = tonumber(ARGV[i]); i = i + 1\n"
        "for _ = 1, n do\n"
        "  redis.call('ZINCRBY', 'gtp:heat:' .. ARGV[i+1], ARGV[i+2], ARGV[i]); i = i + 3\n"
        "end\n"
        "n = tonumber(ARGV[i]); i = i + 1\n"
        "for _ = 1, n do\n"
        "  local h = ARGV[i]\n"
        "  redis.call('ZADD', 'gtp:hours', ARGV[i+1], h)\n"
        "  redis.call('EXPIRE', 'gtp:pulse:' .. h, ttl)\n"
        "  redis.call('EXPIRE', 'gtp:heat:' .. h, ttl)\n"
        "  i = i + 2\n"
        "end\n"
        "if n > 0 then\n"
        "  local top = redis.call('ZRANGE', 'gtp:hours', -1, -1, 'WITHSCORES')\n"
        "  local cut = tonumber(top[2]) - tonumber(ttl)\n"
        "  redis.call('ZREMRANGEBYSCORE', 'gtp:hours', '-inf', '(' .. cut)\n"
        "end\n"
        "if ins then\n"
        "  local touched, iset = {}, {}\n"
        "  n = tonumber(ARGV[i]); i = i + 1\n"
        "  for _ = 1, n do\n"
        "    local r, h, c = ARGV[i], ARGV[i+1], ARGV[i+2]; i = i + 3\n"
        "    local pk = 'posts:' .. r .. ':' .. h\n"
        "    local v = redis.call('INCRBY', pk, c)\n"
        "    if v == tonumber(c) then redis.call('EXPIRE', pk, ttl) end\n"
        "    add(iset, 'gtp:posts:' .. h, format('%d', v), r)\n"
        "  end\n"
        "  n = tonumber(ARGV[i]); i = i + 1\n"
        "  for _ = 1, n do\n"
        "    local k, c = ARGV[i], ARGV[i+1]; i = i + 2\n"
        "    if redis.call('INCRBY', k, c) == tonumber(c) then redis.call('EXPIRE', k, ttl) end\n"
        "  end\n"
        "  n = tonumber(ARGV[i]); i = i + 1\n"
        "  for _ = 1, n do\n"
        "    local d, s, m = ARGV[i], ARGV[i+1], tonumber(ARGV[i+2])\n"
        "    local pk, ip, sp = 'pairs:' .. d, 'gtp:pairs:' .. d .. ':', s .. '|'\n"
        "    i = i + 3\n"
        "    for j = i, i + 2 * m - 1, 2 do\n"
        "      local o = ARGV[j]\n"
        "      local v = redis.call('ZINCRBY', pk, ARGV[j+1], sp .. o)\n"
        "      add(iset, ip .. s, v, o)\n"
        "      add(iset, ip .. o, v, s)\n"
        "    end\n"
        "    i = i + 2 * m\n"
        "    touched[pk] = true\n"
        "  end\n"
        "  for k, t in pairs(iset) do\n"
        "    zadd_all(k, t)\n"
        "    touched[k] = true\n"
        "  end\n"
        "  local dense = nil\n"
        "  n = tonumber(ARGV[i]); i = i + 1\n"
        "  for _ = 1, n do\n"
        "    local k, m = ARGV[i], tonumber(ARGV[i+1])\n"
        "    if m > 0 then\n"
        "      local len = redis.call('STRLEN', k)\n"
        "      if len ~= 12304 and len + 3 * m >= 300 then\n"
        "        if not dense then\n"
        "          dense = 'gtp:flush:hlldense'\n"
        "          redis.call('SET', dense, 'HYLL' .. string.rep('\\0', 12300))\n"
        "        end\n"
        "        redis.call('PFMERGE', k, k, dense)\n"
        "      end\n"
        "      redis.call('PFADD', k, unpack(ARGV, i + 2, i + 1 + m))\n"
        "    end\n"
        "    i = i + 2 + m\n"
        "    touched[k] = true\n"
        "  end\n"
        "  if dense then redis.call('DEL', dense) end\n"
        "  for k in pairs(touched) do redis.call('EXPIRE', k, ttl) end\n"
        "end\n"
        "n = tonumber(ARGV[i]); i = i + 1\n"
        "for _ = 1, n do\n"
        "  redis.call('HINCRBY', 'gtp:stats', ARGV[i], ARGV[i+1]); i = i + 2\n"
        "end\n"
        "n = tonumber(ARGV[i]); i = i + 1\n"
        "for _ = 1, n do\n"
        "  local p, ws = ARGV[i], ARGV[i+1]\n"
        "  local dk = 'gtp:seen:' .. topic .. ':' .. p .. ':' .. ws\n"
        "  redis.call('APPEND', dk, ARGV[i+2])\n"
        "  i = i + 3\n"
        "  redis.call('EXPIRE', dk, ttl)\n"
        "  redis.call('ZADD', 'gtp:dedupidx:' .. topic .. ':' .. p, ws, ws)\n"
        "end\n"
        "local maxev = nil\n"
        "for k = 0, np - 1 do\n"
        "  local b = 6 + k * 5\n"
        "  local p = ARGV[b]\n"
        "  local part = 'gtp:part:' .. topic .. ':' .. p\n"
        "  if ARGV[b + 4] ~= '' then\n"
        "    local didx = 'gtp:dedupidx:' .. topic .. ':' .. p\n"
        "    local dprefix = 'gtp:seen:' .. topic .. ':' .. p .. ':'\n"
        "    local old = redis.call('ZRANGEBYSCORE', didx, '-inf', '(' .. ARGV[b + 4])\n"
        "    for _, w in ipairs(old) do redis.call('DEL', dprefix .. w) end\n"
        "    redis.call('ZREMRANGEBYSCORE', didx, '-inf', '(' .. ARGV[b + 4])\n"
        "  end\n"
        "  redis.call('HSET', part, 'next', ARGV[b + 2])\n"
        "  if ARGV[b + 3] ~= '' then\n"
        "    redis.call('HSET', part, 'max', ARGV[b + 3])\n"
        "    local v = tonumber(ARGV[b + 3])\n"
        "    if not maxev or v > maxev then maxev = v end\n"
        "  end\n"
        "end\n"
        "if maxev then\n"
        "  local le = redis.call('HGET', 'gtp:stats', 'last_event_us')\n"
        "  if not le or tonumber(le) < maxev then\n"
        "    redis.call('HSET', 'gtp:stats', 'last_event_us', string.format('%.0f', maxev))\n"
        "  end\n"
        "end\n"
        "redis.call('HSET', 'gtp:stats', 'last_flush_ms', ARGV[3])\n"
        "return {1}\n",
};

/* Strings kept by value for lowercased regions and hour labels. */
static void args_copy(struct gtp_rediscmd *a, const char *s)
{
    gtp_rediscmd_arg_copy(a, s, strlen(s));
}

/* A delta flattened for sorting: per (skill, region, hour). */
struct flat {
    int64_t hour, count;
    uint16_t skill;
    char region[9]; /* lowercase, NUL-terminated */
};

static int by_hour_skill(const void *a, const void *b)
{
    const struct flat *x = a, *y = b;
    if (x->hour != y->hour)
        return x->hour < y->hour ? -1 : 1;
    return (int)x->skill - (int)y->skill;
}

static int by_hour_region(const void *a, const void *b)
{
    const struct flat *x = a, *y = b;
    if (x->hour != y->hour)
        return x->hour < y->hour ? -1 : 1;
    return strcmp(x->region, y->region);
}

static void hour_label(struct gtp_rediscmd *a, int64_t hour_us)
{
    size_t n;
    const char *s = argfmt_label(hour_us, true, &n);
    gtp_rediscmd_arg_copy(a, s, n);
}

/* The sums of v's counts per (hour, region), v sorted so that each group is one run: the
 * number of groups, then region, hour, sum for each. */
static void emit_sums(struct gtp_rediscmd *a, const struct flat *v, size_t n)
{
    size_t count_at = a->argc, groups = 0;
    argfmt_arg_i64(a, 0); /* patched below */
    for (size_t i = 0; i < n; groups++) {
        size_t j = i;
        int64_t sum = 0;
        for (; j < n && v[j].hour == v[i].hour && strcmp(v[j].region, v[i].region) == 0; j++)
            sum += v[j].count;
        args_copy(a, v[i].region);
        hour_label(a, v[i].hour);
        argfmt_arg_i64(a, sum);
        i = j;
    }
    gtp_rediscmd_set_i64(a, count_at, (int64_t)groups);
}

/* The trend deltas grouped by (hour, skill), each group with its pulse sum (Σ over its
 * regions), then the heat sums (per region and hour), then the distinct hours. */
static void emit_deltas(struct gtp_rediscmd *a, const struct agg *g, const struct gtp_skills *sk)
{
    struct flat *v = gtp_xmalloc((g->used ? g->used : 1) * sizeof(*v));
    size_t n = 0, count_at, groups;

    for (size_t i = 0; i < g->cap; i++) {
        const struct agg_delta *d = &g->deltas[i];
        if (!d->count)
            continue;
        v[n].hour = agg_delta_hour_us(d);
        v[n].count = d->count;
        v[n].skill = d->skill;
        for (size_t k = 0; k < 8; k++)
            v[n].region[k] = (char)tolower((unsigned char)d->region[k]);
        v[n].region[8] = '\0';
        n++;
    }
    qsort(v, n, sizeof(*v), by_hour_skill);
    count_at = a->argc;
    argfmt_arg_i64(a, 0); /* patched below */
    groups = 0;
    for (size_t i = 0; i < n; groups++) {
        size_t j = i;
        int64_t sum = 0;
        for (; j < n && v[j].hour == v[i].hour && v[j].skill == v[i].skill; j++)
            sum += v[j].count;
        hour_label(a, v[i].hour);
        gtp_rediscmd_arg_str(a, gtp_skills_id(sk, v[i].skill));
        argfmt_arg_i64(a, sum);
        argfmt_arg_i64(a, (int64_t)(j - i));
        for (; i < j; i++) {
            args_copy(a, v[i].region);
            argfmt_arg_i64(a, v[i].count);
        }
    }
    gtp_rediscmd_set_i64(a, count_at, (int64_t)groups);
    /* heat: Σ over skills */
    qsort(v, n, sizeof(*v), by_hour_region);
    emit_sums(a, v, n);
    /* distinct hours (v is sorted by hour) */
    count_at = a->argc;
    argfmt_arg_i64(a, 0);
    groups = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && v[i].hour == v[i - 1].hour)
            continue;
        hour_label(a, v[i].hour);
        argfmt_arg_i64(a, v[i].hour / 1000000);
        groups++;
    }
    gtp_rediscmd_set_i64(a, count_at, (int64_t)groups);
    free(v);
}

static void args_opt_i64(struct gtp_rediscmd *a, int64_t x, int64_t none)
{
    if (x == none)
        gtp_rediscmd_arg_str(a, "");
    else
        argfmt_arg_i64(a, x);
}

/* The script's argument list for one flush. */
static void build_args(const struct store_flush *f, struct gtp_rediscmd *a)
{
    const struct agg *g = f->agg;
    size_t nstats = 0, count_at, ngroups = 0;

    gtp_rediscmd_arg_str(a, f->topic);
    argfmt_arg_i64(a, f->ttl_s);
    argfmt_arg_i64(a, gtp_wall_us() / 1000);
    argfmt_arg_i64(a, (int64_t)f->nparts);
    gtp_rediscmd_arg_str(a, g->ins.on ? "1" : "0");
    for (size_t k = 0; k < f->nparts; k++) {
        const struct store_part *sp = &f->parts[k];
        argfmt_arg_i64(a, sp->partition);
        args_opt_i64(a, sp->expected_next, STORE_NO_OFFSET);
        argfmt_arg_i64(a, sp->new_next);
        args_opt_i64(a, sp->max_event_us, INT64_MIN);
        args_opt_i64(a,
                     sp->purge_before_us == INT64_MIN ? INT64_MIN : sp->purge_before_us / 1000000,
                     INT64_MIN);
    }

    emit_deltas(a, g, f->skills);
    if (g->ins.on)
        insights_emit(&g->ins, a, f->skills, f->sent);

    count_at = a->argc;
    argfmt_arg_i64(a, 0); /* patched below */
    for (int s = 0; s < AGG_NSTATS; s++) {
        if (!g->stats[s])
            continue;
        gtp_rediscmd_arg_str(a, agg_stat_names[s]);
        argfmt_arg_i64(a, g->stats[s]);
        nstats++;
    }
    for (int r = 0; r < f->nreject_names && r < 16; r++) {
        char field[64];
        if (!g->rejected_by_reason[r] || !f->reject_names[r])
            continue;
        snprintf(field, sizeof(field), "rejected:%s", f->reject_names[r]);
        args_copy(a, field);
        argfmt_arg_i64(a, g->rejected_by_reason[r]);
        nstats++;
    }
    gtp_rediscmd_set_i64(a, count_at, (int64_t)nstats);

    /* dedup ids grouped by (partition, window), each group one APPEND of its records as the
     * id list holds them (borrowed: the list stays unchanged until the command is written) */
    count_at = a->argc;
    argfmt_arg_i64(a, 0); /* patched below */
    for (size_t k = 0; k < f->nparts; k++) {
        const struct idlist *ids = f->parts[k].ids;
        for (size_t i = 0; i < ids->ng; i++) {
            const struct idgroup *grp = &ids->g[i];
            if (!grp->n)
                continue;
            argfmt_arg_i64(a, f->parts[k].partition);
            argfmt_arg_i64(a, grp->window_start_us / 1000000);
            gtp_rediscmd_arg(a, grp->rec.p, grp->rec.len);
            ngroups++;
        }
    }
    gtp_rediscmd_set_i64(a, count_at, (int64_t)ngroups);
}

/* The RESP of a flush is written in pieces of this size as it is formatted: a flush of a
 * backlog is megabytes of arguments, and a whole second copy of it in Redis's protocol (the
 * RESP) was the largest single allocation at the processor's peak RSS (massif, 1M events,
 * bench/README.md "Processor peak RSS"). */
#define RESP_CHUNK (256 * 1024)

/* n bytes written to the connection's socket. Handed to hiredis (redisAppendFormattedCommand)
 * they were copied once more into hiredis's output buffer. The socket is blocking with the
 * connection's timeout (gtp_redis_connect), as for hiredis's own writes; the reply is read by
 * hiredis's reader as before. */
static int write_bytes(redisContext *rc, const char *p, size_t len, char *errstr,
                       size_t errstr_size)
{
    for (size_t at = 0; at < len;) {
        ssize_t w = write(rc->fd, p + at, len - at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            gtp_errf(errstr, errstr_size, "write: %s",
                     w < 0 ? strerror(errno) : "connection closed");
            return GTP_ERR_REDIS;
        }
        at += (size_t)w;
    }
    return 0;
}

/* b's bytes written (write_bytes), b emptied. */
static int write_out(redisContext *rc, struct gtp_buf *b, char *errstr, size_t errstr_size)
{
    int err = write_bytes(rc, b->p, b->len, errstr, errstr_size);
    gtp_buf_reset(b);
    return err;
}

/* a in RESP to the connection, through b (RESP_CHUNK at a time: store.h). hiredis's own formatting
 * (redisAppendCommandArgv: sdscatfmt per argument, then one more copy) was the largest single
 * cost of building a flush on the consuming thread, about a quarter of its instructions
 * (callgrind, 100k events, bench/README.md "Insights cost"). */
int store_command_write(redisContext *rc, struct gtp_rediscmd *a, struct gtp_buf *b, char *errstr,
                        size_t errstr_size)
{
    char num[ARGFMT_I64_MAX + 3];
    size_t n;
    int done = 0, err;

    while (!done) /* whatever hiredis still holds goes first (nothing, normally) */
        if (redisBufferWrite(rc, &done) != REDIS_OK) {
            gtp_errf(errstr, errstr_size, "write: %s", rc->errstr);
            return GTP_ERR_REDIS;
        }
    (void)gtp_rediscmd_argv(a, 0, NULL); /* resolves every argument's pointer once */
    gtp_buf_reserve(b, RESP_CHUNK + 1 + ARGFMT_I64_MAX + 2);
    num[0] = '*';
    n = 1 + argfmt_i64(num + 1, (int64_t)a->argc);
    gtp_buf_put(b, num, n);
    gtp_buf_put(b, "\r\n", 2);
    for (size_t i = 0; i < a->argc; i++) {
        num[0] = '$';
        n = 1 + argfmt_i64(num + 1, (int64_t)a->argvlen[i]);
        num[n++] = '\r';
        num[n++] = '\n';
        gtp_buf_put(b, num, n);
        /* a long argument (the dedup ids of a window) goes straight from a's storage */
        if (a->argvlen[i] >= RESP_CHUNK) {
            if ((err = write_out(rc, b, errstr, errstr_size)) ||
                (err = write_bytes(rc, a->argv[i], a->argvlen[i], errstr, errstr_size)))
                return err;
        } else {
            gtp_buf_put(b, a->argv[i], a->argvlen[i]);
        }
        gtp_buf_put(b, "\r\n", 2);
        if (b->len >= RESP_CHUNK && (err = write_out(rc, b, errstr, errstr_size)))
            return err;
    }
    return write_out(rc, b, errstr, errstr_size);
}

int store_prepare(redisContext *rc, char *errstr, size_t errstr_size)
{
    return gtp_redis_script_load(rc, &flush_script, errstr, errstr_size);
}

int store_flush_send(redisContext *rc, const struct store_flush *f, char *errstr,
                     size_t errstr_size)
{
    struct gtp_rediscmd a = {0};
    struct gtp_buf resp = {0};
    int err = 0;

    if (!flush_script.sha[0] && (err = store_prepare(rc, errstr, errstr_size)))
        return err;
    gtp_rediscmd_arg_str(&a, "EVALSHA");
    gtp_rediscmd_arg_str(&a, flush_script.sha);
    gtp_rediscmd_arg_str(&a, "0");
    build_args(f, &a);
    /* written whole before this returns: the caller may reset the pending state then */
    err = store_command_write(rc, &a, &resp, errstr, errstr_size);
    gtp_rediscmd_fini(&a);
    gtp_buf_fini(&resp);
    return err;
}

static int parse_reply(redisReply *rep, enum store_result *result, int32_t *fenced_partition,
                       char *errstr, size_t errstr_size)
{
    if (rep->type == REDIS_REPLY_ERROR) {
        /* a restarted redis forgot the script: load it before the next send */
        if (strncmp(rep->str, "NOSCRIPT", 8) == 0)
            flush_script.sha[0] = '\0';
        gtp_errf(errstr, errstr_size, "flush script: %.300s", rep->str);
        return GTP_ERR_REDIS;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER) {
        gtp_errf(errstr, errstr_size, "flush script: unexpected reply");
        return GTP_ERR_REDIS;
    }
    switch (rep->element[0]->integer) {
    case 1:
        *result = STORE_APPLIED;
        break;
    case 2:
        *result = STORE_ALREADY;
        break;
    default:
        *result = STORE_FENCED;
        *fenced_partition = rep->elements > 1 && rep->element[1]->type == REDIS_REPLY_INTEGER
                                ? (int32_t)rep->element[1]->integer
                                : -1;
        break;
    }
    return 0;
}

int store_flush_poll(redisContext *rc, int timeout_ms, enum store_result *result,
                     int32_t *fenced_partition, char *errstr, size_t errstr_size)
{
    void *rep = NULL;
    int err;

    for (;;) {
        struct pollfd pfd = {.fd = rc->fd, .events = POLLIN};
        int n;
        if (redisGetReplyFromReader(rc, &rep) != REDIS_OK) {
            gtp_errf(errstr, errstr_size, "reply: %s", rc->errstr);
            return GTP_ERR_REDIS;
        }
        if (rep)
            break;
        n = poll(&pfd, 1, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            gtp_errf(errstr, errstr_size, "poll: %s", strerror(errno));
            return GTP_ERR_REDIS;
        }
        if (n == 0)
            return 0; /* not yet */
        if (redisBufferRead(rc) != REDIS_OK) {
            gtp_errf(errstr, errstr_size, "read: %s", rc->errstr);
            return GTP_ERR_REDIS;
        }
    }
    err = parse_reply(rep, result, fenced_partition, errstr, errstr_size);
    freeReplyObject(rep);
    return err ? err : 1;
}

int store_seen_each(const char *buf, size_t len, void (*fn)(const char *id, size_t n, void *ctx),
                    void *ctx)
{
    size_t i = 0;
    while (i < len) {
        size_t n = 0, digits = 0;
        if (buf[i] == 'u') { /* a canonical uuid's 16 bytes: given back as its text */
            char text[GTP_UUIDTEXT_LEN];
            if (len - i - 1 < 16)
                return GTP_ERR_PARSE;
            gtp_uuidtext_unpack((const uint8_t *)buf + i + 1, text);
            fn(text, sizeof(text), ctx);
            i += 17;
            continue;
        }
        while (i < len && buf[i] >= '0' && buf[i] <= '9' && digits < 8) {
            n = n * 10 + (size_t)(buf[i++] - '0');
            digits++;
        }
        if (!digits || i >= len || buf[i] != ':' || len - i - 1 < n)
            return GTP_ERR_PARSE;
        i++;
        fn(buf + i, n, ctx);
        i += n;
    }
    return 0;
}

struct restore {
    struct gtp_window *w;
    int64_t window_start_us;
};

static void restore_id(const char *id, size_t n, void *ctx)
{
    struct restore *r = ctx;
    gtp_window_restore_id(r->w, r->window_start_us, id, n);
}

/* One blocking command: its reply (new), or NULL with rc->errstr set. */
static redisReply *command(redisContext *rc, struct gtp_rediscmd *c)
{
    redisReply *rep = NULL;
    return gtp_rediscmd_pipeline(rc, c, 1, &rep, NULL, 0) ? NULL : rep;
}

int store_load(redisContext *rc, const char *topic, int32_t partition, int64_t *next,
               struct gtp_window *w, char *errstr, size_t errstr_size)
{
    struct gtp_rediscmd c = {0};
    redisReply *rep = NULL, *ids = NULL;
    char key[512];
    int err = 0;
    long long v;

    *next = STORE_NO_OFFSET;
    snprintf(key, sizeof(key), "gtp:part:%s:%d", topic, (int)partition);
    gtp_rediscmd_arg_str(&c, "HMGET");
    gtp_rediscmd_arg_str(&c, key);
    gtp_rediscmd_arg_str(&c, "next");
    gtp_rediscmd_arg_str(&c, "max");
    rep = command(rc, &c);
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
    gtp_rediscmd_reset(&c);
    gtp_rediscmd_arg_str(&c, "ZRANGE");
    gtp_rediscmd_arg_str(&c, key);
    gtp_rediscmd_arg_str(&c, "0");
    gtp_rediscmd_arg_str(&c, "-1");
    rep = command(rc, &c);
    if (!rep || rep->type != REDIS_REPLY_ARRAY) {
        gtp_errf(errstr, errstr_size, "load %s: %s", key, rep ? "bad reply" : rc->errstr);
        err = GTP_ERR_REDIS;
        goto out;
    }
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        if (e->type != REDIS_REPLY_STRING || gtp_parse_ll(e->str, &v))
            continue;
        gtp_rediscmd_reset(&c);
        gtp_rediscmd_arg_str(&c, "GET");
        gtp_rediscmd_argf(&c, "gtp:seen:%s:%d:%lld", topic, (int)partition, v);
        ids = command(rc, &c);
        if (!ids || (ids->type != REDIS_REPLY_STRING && ids->type != REDIS_REPLY_NIL)) {
            gtp_errf(errstr, errstr_size, "load dedup ids: %s",
                     ids ? (ids->type == REDIS_REPLY_ERROR ? ids->str : "bad reply") : rc->errstr);
            err = GTP_ERR_REDIS;
            goto out;
        }
        if (ids->type == REDIS_REPLY_STRING &&
            store_seen_each(ids->str, ids->len, restore_id, &(struct restore){w, v * 1000000})) {
            gtp_errf(errstr, errstr_size, "gtp:seen:%s:%d:%lld: not a list of dedup ids", topic,
                     (int)partition, v);
            err = GTP_ERR_PARSE;
            goto out;
        }
        freeReplyObject(ids);
        ids = NULL;
    }
out:
    if (ids)
        freeReplyObject(ids);
    if (rep)
        freeReplyObject(rep);
    gtp_rediscmd_fini(&c);
    return err;
}

int store_positions_moved(redisContext *rc, const char *topic, const struct store_part *parts,
                          size_t n, int32_t *moved_partition, char *errstr, size_t errstr_size)
{
    int err = 0;
    size_t sent = 0, got = 0;

    *moved_partition = -1;
    /* pipelined: one round trip whatever the number of partitions */
    for (; sent < n; sent++)
        if (redisAppendCommand(rc, "HGET gtp:part:%s:%d next", topic, (int)parts[sent].partition) !=
            REDIS_OK)
            break;
    for (; got < sent; got++) {
        redisReply *rep = NULL;
        long long v = STORE_NO_OFFSET;
        if (redisGetReply(rc, (void **)&rep) != REDIS_OK || !rep) {
            gtp_errf(errstr, errstr_size, "read positions: %s", rc->errstr);
            return GTP_ERR_REDIS; /* the context is dead: nothing left to drain */
        }
        if (rep->type == REDIS_REPLY_STRING ? gtp_parse_ll(rep->str, &v) != 0
                                            : rep->type != REDIS_REPLY_NIL) {
            gtp_errf(errstr, errstr_size, "read positions: %s",
                     rep->type == REDIS_REPLY_ERROR ? rep->str : "bad reply");
            err = GTP_ERR_REDIS;
        } else if (!err && *moved_partition < 0 && v != parts[got].expected_next) {
            *moved_partition = parts[got].partition;
        }
        freeReplyObject(rep);
    }
    if (!err && sent < n) {
        gtp_errf(errstr, errstr_size, "read positions: %s", rc->errstr);
        err = GTP_ERR_REDIS;
    }
    return err ? err : *moved_partition >= 0;
}
