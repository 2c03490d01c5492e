/* A few helper threads that, together with the calling thread, run one job over n items:
 * the processor's batches (processor/batch.h), the archiver's poll rounds
 * (archiver/enrich.h) and the files of a roll (archiver/bucket.h) are spread over the
 * machine's cores this way. A job is either run whole (gtp_pool_run), or started on the
 * helpers while the caller does other work and then finished with it (gtp_pool_start,
 * gtp_pool_wait).
 *
 * Only one thread (the owner) starts and waits; jobs never overlap. Items are
 * claimed in groups of `claim` from a shared counter, so the order in which items run is
 * not defined: a job writes only to its item and to state of its worker (0 is the calling
 * thread, 1..helpers the helpers). */
#ifndef GTP_POOL_H
#define GTP_POOL_H

#include <stddef.h>

/* Most helper threads (--enrich-threads). */
#define GTP_POOL_MAX_HELPERS 16

typedef void (*gtp_pool_fn)(void *arg, size_t item, unsigned worker);

struct gtp_pool;

/* Start helpers threads (0..GTP_POOL_MAX_HELPERS). New pool, or NULL with errstr set. */
struct gtp_pool *gtp_pool_new(int helpers, char *errstr, size_t errstr_size);

/* Wait for a started job, join the helpers. NULL-safe. */
void gtp_pool_free(struct gtp_pool *pl);

/* Workers a job may run on: helpers + 1 (1 for a NULL pool). */
unsigned gtp_pool_workers(const struct gtp_pool *pl);

/* fn(arg, i, worker) for every i in [0, n), on the helpers and the calling thread; returns
 * when all are done. pl NULL, or n <= claim: on the calling thread alone. */
void gtp_pool_run(struct gtp_pool *pl, size_t n, size_t claim, gtp_pool_fn fn, void *arg);

/* The same job, begun on the helpers only (with none, nothing runs yet); arg and what fn
 * touches stay borrowed until gtp_pool_wait. Waits for a job still started first. */
void gtp_pool_start(struct gtp_pool *pl, size_t n, size_t claim, gtp_pool_fn fn, void *arg);

/* The caller takes the started job's items that are left, as worker 0, and waits until
 * every item is done. No-op without a started job. */
void gtp_pool_wait(struct gtp_pool *pl);

#endif
