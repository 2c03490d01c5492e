/* Redis connection helpers shared by the processor and the dashboard:
 * URL parsing, connect with timeout + AUTH + SELECT, loading Lua scripts.
 * hiredis 0.14: after any error the context is dead; callers free it and
 * reconnect with backoff. */
#ifndef GTP_REDIS_H
#define GTP_REDIS_H

#include <stddef.h>

#include <hiredis/hiredis.h>

struct gtp_redis_url {
    char host[256];
    int port;       /* default 6379 */
    int db;         /* default 0 */
    char *password; /* new, may be NULL; never log it */
};

/* Parse redis://[[user]:password@]host[:port][/db]. Returns 0 or
 * GTP_ERR_CONFIG with errstr (which never contains the password).
 * Free the result with gtp_redis_url_fini. */
int gtp_redis_url_parse(const char *url, struct gtp_redis_url *out, char *errstr,
                        size_t errstr_size);
void gtp_redis_url_fini(struct gtp_redis_url *u);

/* Connect, authenticate and select the database. timeout_ms applies to the
 * connect and to every later command. Returns a new context (redisFree) or
 * NULL with errstr. */
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
