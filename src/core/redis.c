/* Redis URL parsing, connection set-up and Lua script loading. */
#define _GNU_SOURCE /* memrchr */
#include "gtp/redis.h"
#include "gtp/err.h"
#include "gtp/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static void scrub_free(char *s)
{
    if (s) { /* scrub: the struct may outlive its use in a core dump */
        memset(s, 0, strlen(s));
        free(s);
    }
}

void gtp_redis_url_fini(struct gtp_redis_url *u)
{
    if (!u)
        return;
    scrub_free(u->password);
    scrub_free(u->user);
    u->password = u->user = NULL;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decode s[0..n) into a new string; NULL on a bad escape or %00. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = gtp_xmalloc(n + 1), *w = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                scrub_free(out);
                return NULL;
            }
            *w++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *w++ = s[i];
        }
    }
    *w = '\0';
    return out;
}

/* userinfo "[user]:password" (s[0..n)) into out->user / out->password. */
static int parse_userinfo(const char *s, size_t n, struct gtp_redis_url *out, char *errstr,
                          size_t errstr_size)
{
    const char *colon = memchr(s, ':', n);
    if (!colon) {
        gtp_errf(errstr, errstr_size, "redis url: a user needs a password (user:password@)");
        return GTP_ERR_CONFIG;
    }
    out->password = pct_decode(colon + 1, n - (size_t)(colon + 1 - s));
    if (colon > s)
        out->user = pct_decode(s, (size_t)(colon - s));
    if (!out->password || (colon > s && !out->user)) {
        gtp_errf(errstr, errstr_size, "redis url: bad %%-escape in the user or password");
        return GTP_ERR_CONFIG;
    }
    return 0;
}

static int parse_db(const char *s, struct gtp_redis_url *out, char *errstr, size_t errstr_size)
{
    long long v;
    if (gtp_parse_ll(s, &v) || v < 0 || v > 1000000) {
        gtp_errf(errstr, errstr_size, "redis url has a bad database number");
        return GTP_ERR_CONFIG;
    }
    out->db = (int)v;
    return 0;
}

/* The query of a unix or sentinel url: q is NULL or points at "?db=N". */
static int parse_query(const char *q, const char *kind, struct gtp_redis_url *out, char *errstr,
                       size_t errstr_size)
{
    if (!q)
        return 0;
    if (strncmp(q + 1, "db=", 3) != 0) {
        gtp_errf(errstr, errstr_size, "%s redis url: the only parameter is ?db=N", kind);
        return GTP_ERR_CONFIG;
    }
    return parse_db(q + 4, out, errstr, errstr_size);
}

/* unix://[userinfo@]/abs/path[?db=N]: p points after "unix://". */
static int parse_unix(const char *p, struct gtp_redis_url *out, char *errstr, size_t errstr_size)
{
    const char *path = strchr(p, '/'), *q;
    size_t n;
    if (!path) {
        gtp_errf(errstr, errstr_size, "unix redis url needs an absolute socket path");
        return GTP_ERR_CONFIG;
    }
    if (path > p) { /* "user:pw@" before the path */
        if (path[-1] != '@') {
            gtp_errf(errstr, errstr_size, "unix redis url: unix:///path or unix://user:pw@/path");
            return GTP_ERR_CONFIG;
        }
        if (parse_userinfo(p, (size_t)(path - 1 - p), out, errstr, errstr_size))
            return GTP_ERR_CONFIG;
    }
    q = strchr(path, '?');
    n = q ? (size_t)(q - path) : strlen(path);
    if (n < 2 || n >= sizeof(out->socket)) {
        gtp_errf(errstr, errstr_size, "unix redis url: socket path empty or longer than %zu",
                 sizeof(out->socket) - 1);
        return GTP_ERR_CONFIG;
    }
    memcpy(out->socket, path, n);
    out->socket[n] = '\0';
    snprintf(out->host, sizeof(out->host), "%s", out->socket);
    out->port = 0;
    return parse_query(q, "unix", out, errstr, errstr_size);
}

/* "host[:port]" in s[0..n) into a (port left as is when absent). */
static int parse_hostport(const char *s, size_t n, struct gtp_redis_addr *a, char *errstr,
                          size_t errstr_size)
{
    const char *colon = memchr(s, ':', n);
    size_t hn = colon ? (size_t)(colon - s) : n;
    long long v;
    char num[32];

    if (hn == 0 || hn >= sizeof(a->host)) {
        gtp_errf(errstr, errstr_size, "redis url has no valid host");
        return GTP_ERR_CONFIG;
    }
    memcpy(a->host, s, hn);
    a->host[hn] = '\0';
    if (colon) {
        size_t pn = n - hn - 1;
        if (pn == 0 || pn >= sizeof(num))
            goto badport;
        memcpy(num, colon + 1, pn);
        num[pn] = '\0';
        if (gtp_parse_ll(num, &v) || v < 1 || v > 65535)
            goto badport;
        a->port = (int)v;
    }
    return 0;
badport:
    gtp_errf(errstr, errstr_size, "redis url has a bad port");
    return GTP_ERR_CONFIG;
}

/* "[userinfo@]" at p, ending before the authority's end: returns where the
 * hosts start, or NULL (errstr set). */
static const char *parse_authority_user(const char *p, const char *end, struct gtp_redis_url *out,
                                        char *errstr, size_t errstr_size)
{
    /* the userinfo ends at the last '@' of the authority */
    const char *at = memrchr(p, '@', (size_t)(end - p));
    if (!at)
        return p;
    if (parse_userinfo(p, (size_t)(at - p), out, errstr, errstr_size))
        return NULL;
    return at + 1;
}

/* hosts/master[?db=N]: p points after "redis-sentinel://". */
static int parse_sentinel(const char *p, struct gtp_redis_url *out, char *errstr,
                          size_t errstr_size)
{
    const char *slash = strchr(p, '/'), *hosts, *name, *q;
    size_t n;

    if (!slash) {
        gtp_errf(errstr, errstr_size, "sentinel redis url needs /master-name after the hosts");
        return GTP_ERR_CONFIG;
    }
    hosts = parse_authority_user(p, slash, out, errstr, errstr_size);
    if (!hosts)
        return GTP_ERR_CONFIG;
    while (hosts <= slash) {
        const char *comma = memchr(hosts, ',', (size_t)(slash - hosts));
        const char *e = comma ? comma : slash;
        struct gtp_redis_addr *a;
        if (out->nsentinels == GTP_REDIS_MAX_SENTINELS) {
            gtp_errf(errstr, errstr_size, "sentinel redis url lists more than %d sentinels",
                     GTP_REDIS_MAX_SENTINELS);
            return GTP_ERR_CONFIG;
        }
        a = &out->sentinels[out->nsentinels];
        a->port = 26379;
        if (parse_hostport(hosts, (size_t)(e - hosts), a, errstr, errstr_size))
            return GTP_ERR_CONFIG;
        out->nsentinels++;
        hosts = e + 1;
    }
    name = slash + 1;
    q = strchr(name, '?');
    n = q ? (size_t)(q - name) : strlen(name);
    if (n == 0 || n >= sizeof(out->master) || memchr(name, '/', n)) {
        gtp_errf(errstr, errstr_size,
                 "sentinel redis url: the master name after the hosts is"
                 " empty, too long or has a '/'");
        return GTP_ERR_CONFIG;
    }
    memcpy(out->master, name, n);
    out->master[n] = '\0';
    /* for logs: the first sentinel */
    snprintf(out->host, sizeof(out->host), "%s", out->sentinels[0].host);
    out->port = out->sentinels[0].port;
    return parse_query(q, "sentinel", out, errstr, errstr_size);
}

int gtp_redis_url_parse(const char *url, struct gtp_redis_url *out, char *errstr,
                        size_t errstr_size)
{
    const char *p, *slash;
    struct gtp_redis_addr a = {"", 6379};

    memset(out, 0, sizeof(*out));
    out->port = 6379;
    if (url && strncmp(url, "unix://", 7) == 0) {
        if (parse_unix(url + 7, out, errstr, errstr_size))
            goto bad;
        return 0;
    }
    if (url && strncmp(url, "redis-sentinel://", 17) == 0) {
        if (parse_sentinel(url + 17, out, errstr, errstr_size))
            goto bad;
        return 0;
    }
    if (!url || strncmp(url, "redis://", 8) != 0) {
        gtp_errf(errstr, errstr_size,
                 "redis url must start with redis://, unix:// or redis-sentinel://");
        return GTP_ERR_CONFIG;
    }
    p = url + 8;
    slash = p + strcspn(p, "/");
    p = parse_authority_user(p, slash, out, errstr, errstr_size);
    if (!p || parse_hostport(p, (size_t)(slash - p), &a, errstr, errstr_size))
        goto bad;
    memcpy(out->host, a.host, sizeof(out->host));
    out->port = a.port;
    if (*slash == '/' && slash[1] && parse_db(slash + 1, out, errstr, errstr_size))
        goto bad;
    return 0;
bad:
    gtp_redis_url_fini(out);
    return GTP_ERR_CONFIG;
}

/* Append s percent-encoded for a URL's userinfo (unreserved characters as is). */
static void pct_encode(char *dst, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            *dst++ = (char)c;
        } else {
            *dst++ = '%';
            *dst++ = hex[c >> 4];
            *dst++ = hex[c & 15];
        }
    }
    *dst = '\0';
}

int gtp_redis_url_with_password(const char *url, const char *password, char **out, char *errstr,
                                size_t errstr_size)
{
    struct gtp_redis_url u;
    const char *scheme_end, *rest, *at, *end;
    char *enc = NULL;
    size_t n;

    *out = NULL;
    if (gtp_redis_url_parse(url, &u, errstr, errstr_size) == 0 && u.password) {
        gtp_redis_url_fini(&u);
        gtp_errf(errstr, errstr_size, "the redis url already has a password");
        return GTP_ERR_CONFIG;
    }
    if (!url || !strstr(url, "://")) /* parse failed: its message stands */
        return GTP_ERR_CONFIG;
    gtp_redis_url_fini(&u);
    /* a user without a password ("redis://user@host") fails to parse on purpose:
     * here it is what we complete */
    scheme_end = strstr(url, "://") + 3;
    end = strncmp(url, "unix://", 7) == 0 ? strchr(scheme_end, '/') : NULL;
    if (!end)
        end = scheme_end + strcspn(scheme_end, "/");
    at = memrchr(scheme_end, '@', (size_t)(end - scheme_end));
    rest = at ? at + 1 : scheme_end;
    enc = gtp_xmalloc(strlen(password) * 3 + 1);
    pct_encode(enc, password);
    n = strlen(url) + strlen(enc) + 3;
    *out = gtp_xmalloc(n);
    snprintf(*out, n, "%.*s%.*s:%s@%s", (int)(scheme_end - url), url,
             at ? (int)(at - scheme_end) : 0, scheme_end, enc, rest);
    scrub_free(enc);
    if (gtp_redis_url_parse(*out, &u, errstr, errstr_size)) {
        scrub_free(*out);
        *out = NULL;
        return GTP_ERR_CONFIG;
    }
    gtp_redis_url_fini(&u);
    return 0;
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

/* Connect to one server (host:port, or u's socket when host is NULL),
 * authenticate and select u's database. */
static redisContext *connect_node(const struct gtp_redis_url *u, const char *host, int port,
                                  struct timeval tv, char *errstr, size_t errstr_size)
{
    redisContext *rc =
        host ? redisConnectWithTimeout(host, port, tv) : redisConnectUnixWithTimeout(u->socket, tv);

    if (!rc || rc->err) {
        if (!host)
            gtp_errf(errstr, errstr_size, "connect unix socket %s: %s", u->socket,
                     rc ? rc->errstr : "out of memory");
        else
            gtp_errf(errstr, errstr_size, "connect %s:%d: %s", host, port,
                     rc ? rc->errstr : "out of memory");
        goto fail;
    }
    if (redisSetTimeout(rc, tv) != REDIS_OK) {
        gtp_errf(errstr, errstr_size, "set timeout: %s", rc->errstr);
        goto fail;
    }
    /* ACL user (Redis 6+) or the legacy requirepass password */
    if (u->password && u->user &&
        expect_ok(redisCommand(rc, "AUTH %s %s", u->user, u->password), "auth", errstr,
                  errstr_size))
        goto fail;
    if (u->password && !u->user &&
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

/* Ask the Sentinel at a for the primary of u->master into host/port. */
static int sentinel_ask(const struct gtp_redis_url *u, const struct gtp_redis_addr *a,
                        struct timeval tv, char *host, size_t host_size, int *port, char *errstr,
                        size_t errstr_size)
{
    redisContext *sc = redisConnectWithTimeout(a->host, a->port, tv);
    redisReply *rep = NULL;
    long long v;
    int err = GTP_ERR_REDIS;

    if (!sc || sc->err) {
        gtp_errf(errstr, errstr_size, "sentinel %s:%d: %s", a->host, a->port,
                 sc ? sc->errstr : "out of memory");
        goto out;
    }
    if (redisSetTimeout(sc, tv) != REDIS_OK ||
        !(rep = redisCommand(sc, "SENTINEL get-master-addr-by-name %s", u->master))) {
        gtp_errf(errstr, errstr_size, "sentinel %s:%d: %s", a->host, a->port, sc->errstr);
        goto out;
    }
    if (rep->type == REDIS_REPLY_NIL) {
        gtp_errf(errstr, errstr_size, "sentinel %s:%d monitors no master named '%s'", a->host,
                 a->port, u->master);
        goto out;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[1]->type != REDIS_REPLY_STRING || rep->element[0]->len == 0 ||
        rep->element[0]->len >= host_size || gtp_parse_ll(rep->element[1]->str, &v) || v < 1 ||
        v > 65535) {
        gtp_errf(errstr, errstr_size,
                 "sentinel %s:%d: unexpected reply to get-master-addr-by-name%s%.200s", a->host,
                 a->port, rep->type == REDIS_REPLY_ERROR ? ": " : "",
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "");
        goto out;
    }
    memcpy(host, rep->element[0]->str, rep->element[0]->len + 1);
    *port = (int)v;
    err = 0;
out:
    if (rep)
        freeReplyObject(rep);
    if (sc)
        redisFree(sc);
    return err;
}

/* 0 when rc's server says ROLE master. */
static int expect_master(redisContext *rc, const char *host, int port, char *errstr,
                         size_t errstr_size)
{
    redisReply *rep = redisCommand(rc, "ROLE");
    int err = 0;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_STRING) {
        gtp_errf(errstr, errstr_size, "role of %s:%d: %s", host, port,
                 !rep                             ? rc->errstr
                 : rep->type == REDIS_REPLY_ERROR ? rep->str
                                                  : "unexpected reply");
        err = GTP_ERR_REDIS;
    } else if (strcmp(rep->element[0]->str, "master") != 0) {
        gtp_errf(errstr, errstr_size, "%s:%d is a %.20s, not the primary (a failover in progress?)",
                 host, port, rep->element[0]->str);
        err = GTP_ERR_REDIS;
    }
    if (rep)
        freeReplyObject(rep);
    return err;
}

/* Through the Sentinels, in order, to a server that is the primary now. */
static redisContext *connect_sentinel(const struct gtp_redis_url *u, struct timeval tv,
                                      char *errstr, size_t errstr_size)
{
    char last[256] = "no sentinel listed";
    redisContext *rc = NULL;

    for (int i = 0; i < u->nsentinels; i++) {
        char host[256];
        int port;
        if (sentinel_ask(u, &u->sentinels[i], tv, host, sizeof(host), &port, last, sizeof(last)))
            continue;
        rc = connect_node(u, host, port, tv, last, sizeof(last));
        if (rc && expect_master(rc, host, port, last, sizeof(last)) == 0)
            return rc;
        if (rc)
            redisFree(rc);
        rc = NULL;
    }
    gtp_errf(errstr, errstr_size, "no primary for '%s' through %d sentinel(s): %s", u->master,
             u->nsentinels, last);
    return NULL;
}

redisContext *gtp_redis_connect(const struct gtp_redis_url *u, int timeout_ms, char *errstr,
                                size_t errstr_size)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    if (u->master[0])
        return connect_sentinel(u, tv, errstr, errstr_size);
    return connect_node(u, u->socket[0] ? NULL : u->host, u->port, tv, errstr, errstr_size);
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
