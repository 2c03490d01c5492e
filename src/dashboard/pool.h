/* A small pool of Redis connections for the HTTP worker threads (a hiredis
 * context is not thread safe, so each request borrows one). While Redis is
 * unreachable the pool backs off (100 ms doubling to 5 s) and answers at once
 * with NULL, so requests fail fast with 503 instead of piling up. */
#ifndef DASH_POOL_H
#define DASH_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "gtp/redis.h"

struct pool;

/* url: borrowed, must outlive the pool. size: most idle contexts kept.
 * timeout_ms: connect and command timeout. Never NULL. */
struct pool *pool_new(const struct gtp_redis_url *url, int size, int timeout_ms);
void pool_free(struct pool *p); /* NULL-safe; all contexts must be back */

/* Borrow a connected context (new connection when none is idle), or NULL with
 * errstr when Redis is down or in back-off. Thread safe. */
redisContext *pool_get(struct pool *p, char *errstr, size_t errstr_size);

/* Return a context. broken: a command failed, so it is freed and the pool
 * starts backing off (any hiredis error leaves the context dead). */
void pool_put(struct pool *p, redisContext *rc, bool broken);

/* Whether the last connection attempt or command succeeded. */
bool pool_up(const struct pool *p);

#endif
