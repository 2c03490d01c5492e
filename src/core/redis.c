/* Redis URL parsing, connection set-up and Lua script loading. */
#include "gtp/redis.h"
#include "gtp/err.h"
#include "gtp/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

void gtp_redis_url_fini(struct gtp_redis_url *u)
{
    if (!u)
        return;
    if (u->password) {
        /* scrub: the struct may outlive its use in a core dump */
        memset(u->password, 0, strlen(u->password));
        free(u->password);
    }
    u->password = NULL;
}

int gtp_redis_url_parse(const char *url, struct gtp_redis_url *out, char *errstr,
                        size_t errstr_size)
{
    const char *p, *at, *hostend, *slash;
    long long v;
    char num[32];

    memset(out, 0, sizeof(*out));
    out->port = 6379;
    if (!url || strncmp(url, "redis://", 8) != 0) {
        gtp_errf(errstr, errstr_size, "redis url must start with redis://");
        return GTP_ERR_CONFIG;
    }
    p = url + 8;
    slash = strchr(p, '/');
    at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon)
            out->password = gtp_xstrndup(colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    }
    hostend = p + strcspn(p, ":/");
    if (hostend == p || (size_t)(hostend - p) >= sizeof(out->host)) {
        gtp_errf(errstr, errstr_size, "redis url has no valid host");
        goto bad;
    }
    memcpy(out->host, p, (size_t)(hostend - p));
    out->host[hostend - p] = '\0';
    p = hostend;
    if (*p == ':') {
        size_t n = strcspn(p + 1, "/");
        if (n == 0 || n >= sizeof(num))
            goto badport;
        memcpy(num, p + 1, n);
        num[n] = '\0';
        if (gtp_parse_ll(num, &v) || v < 1 || v > 65535)
            goto badport;
        out->port = (int)v;
        p += 1 + n;
    }
    if (*p == '/' && p[1]) {
        if (gtp_parse_ll(p + 1, &v) || v < 0 || v > 1000000) {
            gtp_errf(errstr, errstr_size, "redis url has a bad database number");
            goto bad;
        }
        out->db = (int)v;
    }
    return 0;
badport:
    gtp_errf(errstr, errstr_size, "redis url has a bad port");
bad:
    gtp_redis_url_fini(out);
    return GTP_ERR_CONFIG;
}

static int expect_ok(redisReply *rep, const char *what, char *errstr, size_t errstr_size)
{
    if (!rep) {
        gtp_errf(errstr, errstr_size, "%s: no reply", what);
        return GTP_ERR_REDIS;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        gtp_errf(errstr, errstr_size, "%s: %.200s", what, rep->str);
        freeReplyObject(rep);
        return GTP_ERR_REDIS;
    }
    freeReplyObject(rep);
    return 0;
}

redisContext *gtp_redis_connect(const struct gtp_redis_url *u, int timeout_ms, char *errstr,
                                size_t errstr_size)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *rc = redisConnectWithTimeout(u->host, u->port, tv);

    if (!rc || rc->err) {
        gtp_errf(errstr, errstr_size, "connect %s:%d: %s", u->host, u->port,
                 rc ? rc->errstr : "out of memory");
        goto fail;
    }
    if (redisSetTimeout(rc, tv) != REDIS_OK) {
        gtp_errf(errstr, errstr_size, "set timeout: %s", rc->errstr);
        goto fail;
    }
    if (u->password &&
        expect_ok(redisCommand(rc, "AUTH %s", u->password), "auth", errstr, errstr_size))
        goto fail;
    if (u->db && expect_ok(redisCommand(rc, "SELECT %d", u->db), "select", errstr, errstr_size))
        goto fail;
    return rc;
fail:
    if (rc)
        redisFree(rc);
    return NULL;
}

int gtp_redis_script_load(redisContext *rc, struct gtp_redis_script *script, char *errstr,
                          size_t errstr_size)
{
    redisReply *rep = redisCommand(rc, "SCRIPT LOAD %s", script->source);
    int err = 0;
    if (!rep || rep->type != REDIS_REPLY_STRING || rep->len != 40) {
        gtp_errf(errstr, errstr_size, "script load: %s",
                 !rep                             ? rc->errstr
                 : rep->type == REDIS_REPLY_ERROR ? rep->str
                                                  : "bad reply");
        err = GTP_ERR_REDIS;
    } else {
        memcpy(script->sha, rep->str, 40);
        script->sha[40] = '\0';
    }
    if (rep)
        freeReplyObject(rep);
    return err;
}
