/* Redis connection helpers shared by the processor and the dashboard:
 * URL parsing (TCP, unix socket or Sentinel, ACL user), connect with timeout
 * + AUTH + SELECT (through Sentinel: to the primary it names), loading Lua
 * scripts.
 * hiredis 0.14: after any error the context is dead; callers free it and
 * reconnect with backoff. */
#ifndef GTP_REDIS_H
#define GTP_REDIS_H

#include <stddef.h>

#include <hiredis/hiredis.h>

/* Most Sentinels one URL may list. */
#define GTP_REDIS_MAX_SENTINELS 8

struct gtp_redis_addr {
    char host[256];
    int port;
};

struct gtp_redis_url {
    char host[256]; /* TCP host; for a unix socket its path, for Sentinel the first one's (logs) */
    int port;       /* default 6379; 0 for a unix socket; Sentinel: the first one's */
    int db;         /* default 0 */
    char *user;     /* new, may be NULL: an ACL user (AUTH user password) */
    char *password; /* new, may be NULL; never log it */
    char socket[108]; /* unix socket path (sizeof sun_path), "" for TCP */
    /* redis-sentinel:// only: the Sentinels to ask (port 26379 by default)
     * and the name they monitor the primary under; master is "" otherwise. */
    char master[128];
    int nsentinels;
    struct gtp_redis_addr sentinels[GTP_REDIS_MAX_SENTINELS];
};

/* Parse a Redis URL (docs/programs.md#redis-urls):
 *   redis://[[user]:password@]host[:port][/db]
 *   unix://[[user]:password@]/path/to/redis.sock[?db=N]
 *   redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/master-name[?db=N]
 * (up to GTP_REDIS_MAX_SENTINELS Sentinels; the user and password are the
 * primary's, the Sentinels themselves take none). user and password may be percent-encoded (%40 for
 * '@', %3A for ':', %2F for
 * '/'); a user needs a password (Redis ACL: AUTH user password). Returns 0 or
 * GTP_ERR_CONFIG with errstr (which never contains the password).
 * Free the result with gtp_redis_url_fini. */
int gtp_redis_url_parse(const char *url, struct gtp_redis_url *out, char *errstr,
                        size_t errstr_size);
void gtp_redis_url_fini(struct gtp_redis_url *u);

/* url with password added (percent-encoded): for a password kept in a file
 * (GTP_REDIS_PASSWORD_FILE). *out is new (free with free()). Returns 0, or
 * GTP_ERR_CONFIG when url does not parse or already has a password. */
int gtp_redis_url_with_password(const char *url, const char *password, char **out, char *errstr,
                                size_t errstr_size);

/* Connect, authenticate and select the database. timeout_ms applies to the
 * connect and to every later command. For a Sentinel URL the Sentinels are
 * asked in order (SENTINEL get-master-addr-by-name) for the primary, and the
 * connection is kept only when that server's ROLE is master: during a
 * failover a Sentinel may still name the old primary, or a demoted one may
 * still be up as a replica. Call it again after any error (a connection lost,
 * a READONLY reply): each call resolves the primary anew. Returns a new
 * context (redisFree) or NULL with errstr. */
redisContext *gtp_redis_connect(const struct gtp_redis_url *u, int timeout_ms, char *errstr,
                                size_t errstr_size);

/* A Lua script known by its text; the SHA1 is filled in on first load. */
struct gtp_redis_script {
    const char *source;
    char sha[41];
};

/* SCRIPT LOAD the script and remember its SHA1 (after every connect: a
 * restarted redis forgets scripts). Callers send EVALSHA themselves, blocking
 * or pipelined. Returns 0 or GTP_ERR_REDIS with errstr. */
int gtp_redis_script_load(redisContext *rc, struct gtp_redis_script *script, char *errstr,
                          size_t errstr_size);

#endif
