/* Helper threads running one job at a time with the calling thread (see pool.h). */
#include "pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/err.h"
#include "gtp/util.h"

struct helper {
    struct arch_pool *pl;
    unsigned index;
    pthread_t thread;
};

struct arch_pool {
    int helpers;
    struct helper h[ARCH_POOL_MAX_HELPERS];
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    uint64_t job; /* bumped per job, under mu */
    int running;  /* helpers still in the current job, under mu */
    bool stop;    /* under mu */
    /* the current job: set before job is bumped, read-only while it runs */
    arch_pool_fn fn;
    void *arg;
    size_t n, claim;
    size_t next; /* next unclaimed item (atomic) */
};

/* Claim and run items until none is left in this job. */
static void work(struct arch_pool *pl, unsigned worker)
{
    size_t i;
    while ((i = __atomic_fetch_add(&pl->next, pl->claim, __ATOMIC_RELAXED)) < pl->n) {
        size_t end = i + pl->claim < pl->n ? i + pl->claim : pl->n;
        for (; i < end; i++)
            pl->fn(pl->arg, i, worker);
    }
}

static void *helper_main(void *arg)
{
    struct helper *h = arg;
    struct arch_pool *pl = h->pl;
    uint64_t seen = 0;

    pthread_mutex_lock(&pl->mu);
    while (!pl->stop) {
        if (pl->job == seen) {
            pthread_cond_wait(&pl->go, &pl->mu);
            continue;
        }
        seen = pl->job;
        pthread_mutex_unlock(&pl->mu);
        work(pl, h->index);
        pthread_mutex_lock(&pl->mu);
        if (--pl->running == 0)
            pthread_cond_signal(&pl->done);
    }
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

struct arch_pool *arch_pool_new(int helpers, char *errstr, size_t errstr_size)
{
    struct arch_pool *pl;
    if (helpers < 0 || helpers > ARCH_POOL_MAX_HELPERS) {
        gtp_errf(errstr, errstr_size, "helper threads: %d is not in 0..%d", helpers,
                 ARCH_POOL_MAX_HELPERS);
        return NULL;
    }
    pl = gtp_xcalloc(1, sizeof(*pl));
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->go, NULL);
    pthread_cond_init(&pl->done, NULL);
    for (int k = 0; k < helpers; k++) {
        struct helper *h = &pl->h[k];
        h->pl = pl;
        h->index = (unsigned)k + 1;
        int e = pthread_create(&h->thread, NULL, helper_main, h);
        if (e) {
            gtp_errf(errstr, errstr_size, "helper thread: %s", strerror(e));
            arch_pool_free(pl);
            return NULL;
        }
        pl->helpers = k + 1;
    }
    return pl;
}

void arch_pool_free(struct arch_pool *pl)
{
    if (!pl)
        return;
    pthread_mutex_lock(&pl->mu);
    pl->stop = true;
    pthread_cond_broadcast(&pl->go);
    pthread_mutex_unlock(&pl->mu);
    for (int k = 0; k < pl->helpers; k++)
        pthread_join(pl->h[k].thread, NULL);
    pthread_cond_destroy(&pl->go);
    pthread_cond_destroy(&pl->done);
    pthread_mutex_destroy(&pl->mu);
    free(pl);
}

unsigned arch_pool_workers(const struct arch_pool *pl)
{
    return pl ? (unsigned)pl->helpers + 1 : 1;
}

void arch_pool_run(struct arch_pool *pl, size_t n, size_t claim, arch_pool_fn fn, void *arg)
{
    if (claim == 0)
        claim = 1;
    if (!pl || pl->helpers == 0 || n <= claim) {
        /* not worth waking anyone */
        for (size_t i = 0; i < n; i++)
            fn(arg, i, 0);
        return;
    }
    pthread_mutex_lock(&pl->mu);
    pl->fn = fn;
    pl->arg = arg;
    pl->n = n;
    pl->claim = claim;
    pl->next = 0;
    pl->job++;
    pl->running = pl->helpers;
    pthread_cond_broadcast(&pl->go);
    pthread_mutex_unlock(&pl->mu);
    work(pl, 0);
    pthread_mutex_lock(&pl->mu);
    while (pl->running > 0)
        pthread_cond_wait(&pl->done, &pl->mu);
    pthread_mutex_unlock(&pl->mu);
}
