/* Redis commands built argument by argument (see rediscmd.h). */
#include "gtp/rediscmd.h"
#include "gtp/err.h"
#include "gtp/util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BORROWED SIZE_MAX

void gtp_rediscmd_fini(struct gtp_rediscmd *c)
{
    if (!c)
        return;
    free(c->argv);
    free(c->argvlen);
    free(c->off);
    gtp_buf_fini(&c->arena);
    c->argv = NULL;
    c->argvlen = NULL;
    c->off = NULL;
    c->argc = c->cap = 0;
}

void gtp_rediscmd_reset(struct gtp_rediscmd *c)
{
    c->argc = 0;
    gtp_buf_reset(&c->arena);
}

/* Room for one more argument; returns its index. */
static size_t add(struct gtp_rediscmd *c, const char *s, size_t off, size_t len)
{
    if (c->argc == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->argv = gtp_xrealloc(c->argv, c->cap * sizeof(*c->argv));
        c->argvlen = gtp_xrealloc(c->argvlen, c->cap * sizeof(*c->argvlen));
        c->off = gtp_xrealloc(c->off, c->cap * sizeof(*c->off));
    }
    c->argv[c->argc] = s;
    c->off[c->argc] = off;
    c->argvlen[c->argc] = len;
    return c->argc++;
}

void gtp_rediscmd_arg(struct gtp_rediscmd *c, const char *s, size_t n)
{
    add(c, s, BORROWED, n);
}

void gtp_rediscmd_arg_str(struct gtp_rediscmd *c, const char *s)
{
    add(c, s, BORROWED, strlen(s));
}

void gtp_rediscmd_arg_copy(struct gtp_rediscmd *c, const void *s, size_t n)
{
    add(c, NULL, c->arena.len, n);
    gtp_buf_put(&c->arena, s, n);
}

void gtp_rediscmd_argf(struct gtp_rediscmd *c, const char *fmt, ...)
{
    va_list ap;
    size_t i = add(c, NULL, c->arena.len, 0);
    va_start(ap, fmt);
    gtp_buf_vprintf(&c->arena, fmt, ap);
    va_end(ap);
    c->argvlen[i] = c->arena.len - c->off[i];
}

void gtp_rediscmd_arg_i64(struct gtp_rediscmd *c, int64_t v)
{
    gtp_rediscmd_argf(c, "%" PRId64, v);
}

void gtp_rediscmd_arg_begin(struct gtp_rediscmd *c)
{
    add(c, NULL, c->arena.len, 0);
}

void gtp_rediscmd_arg_append(struct gtp_rediscmd *c, const void *p, size_t n)
{
    gtp_buf_put(&c->arena, p, n);
    c->argvlen[c->argc - 1] += n;
}

void gtp_rediscmd_set_i64(struct gtp_rediscmd *c, size_t i, int64_t v)
{
    /* the old bytes stay in the arena unused: placeholders are few */
    size_t off = c->arena.len;
    gtp_buf_printf(&c->arena, "%" PRId64, v);
    c->off[i] = off;
    c->argvlen[i] = c->arena.len - off;
}

static void resolve(struct gtp_rediscmd *c)
{
    for (size_t i = 0; i < c->argc; i++)
        if (c->off[i] != BORROWED)
            c->argv[i] = c->arena.p + c->off[i];
}

const char *gtp_rediscmd_argv(struct gtp_rediscmd *c, size_t i, size_t *len)
{
    resolve(c);
    if (len)
        *len = c->argvlen[i];
    return c->argv[i];
}

int gtp_rediscmd_append(redisContext *rc, struct gtp_rediscmd *c, char *errstr, size_t errstr_size)
{
    resolve(c);
    if (redisAppendCommandArgv(rc, (int)c->argc, c->argv, c->argvlen) != REDIS_OK) {
        gtp_errf(errstr, errstr_size, "redis: %s", rc->err ? rc->errstr : "append failed");
        return GTP_ERR_REDIS;
    }
    return 0;
}

int gtp_rediscmd_pipeline(redisContext *rc, struct gtp_rediscmd *cmds, size_t n, redisReply **reps,
                          char *errstr, size_t errstr_size)
{
    size_t got = 0;
    int err = 0;

    for (size_t i = 0; i < n; i++)
        reps[i] = NULL;
    for (size_t i = 0; i < n; i++)
        if ((err = gtp_rediscmd_append(rc, &cmds[i], errstr, errstr_size)))
            goto out;
    for (; got < n; got++) {
        void *r = NULL;
        if (redisGetReply(rc, &r) != REDIS_OK || !r) {
            gtp_errf(errstr, errstr_size, "redis: %s", rc->err ? rc->errstr : "no reply");
            err = GTP_ERR_REDIS;
            goto out;
        }
        reps[got] = r;
    }
out:
    if (err)
        for (size_t k = 0; k < got; k++) {
            freeReplyObject(reps[k]);
            reps[k] = NULL;
        }
    return err;
}
