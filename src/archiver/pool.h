/* A few helper threads that, together with the calling thread, run one job over n items
 * and return when every item is done: the archiver's poll rounds (enrich.h) and the files
 * of a roll (bucket.h) are spread over the machine's cores this way.
 *
 * Only one thread (the consuming one) calls arch_pool_run; jobs never overlap. Items are
 * claimed in groups of `claim` from a shared counter, so the order in which items run is
 * not defined: a job writes only to its item and to state of its worker (0 is the calling
 * thread, 1..helpers the helpers). */
#ifndef GTP_ARCHIVER_POOL_H
#define GTP_ARCHIVER_POOL_H

#include <stddef.h>

/* Most helper threads (--enrich-threads). */
#define ARCH_POOL_MAX_HELPERS 8

typedef void (*arch_pool_fn)(void *arg, size_t item, unsigned worker);

struct arch_pool;

/* Start helpers threads (0..ARCH_POOL_MAX_HELPERS). New pool, or NULL with errstr set. */
struct arch_pool *arch_pool_new(int helpers, char *errstr, size_t errstr_size);

/* Join the helpers (no job may be running). NULL-safe. */
void arch_pool_free(struct arch_pool *pl);

/* Workers a job may run on: helpers + 1 (1 for a NULL pool). */
unsigned arch_pool_workers(const struct arch_pool *pl);

/* fn(arg, i, worker) for every i in [0, n), on the helpers and the calling thread; returns
 * when all are done. pl NULL, or n <= claim: on the calling thread alone. */
void arch_pool_run(struct arch_pool *pl, size_t n, size_t claim, arch_pool_fn fn, void *arg);

#endif
