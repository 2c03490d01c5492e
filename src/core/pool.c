/* Helper threads running one job at a time with the calling thread (see gtp/pool.h). */
#include "gtp/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/err.h"
#include "gtp/util.h"

struct helper {
    struct gtp_pool *pl;
    unsigned index;
    pthread_t thread;
};

struct gtp_pool {
    int helpers;
    struct helper h[GTP_POOL_MAX_HELPERS];
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    uint64_t job; /* bumped per job, under mu */
    /* Helpers join a job under mu while it is open, and the owner waits only for those that
     * joined: on two cores shared with Kafka and Redis a woken helper may not run for
     * milliseconds, and the owner, having taken every item itself, used to sleep until that
     * helper ran only to find nothing left. */
    bool open;    /* the current job takes helpers, under mu */
    int running;  /* helpers that joined the current job and are still in it, under mu */
    bool stop;    /* under mu */
    bool started; /* a job was started and not yet waited for (owner only) */
    /* the current job: set before job is bumped, read-only while it runs */
    gtp_pool_fn fn;
    void *arg;
    size_t n, claim;
    size_t next; /* next unclaimed item (atomic) */
};

/* Claim and run items until none is left in this job. */
static void work(struct gtp_pool *pl, unsigned worker)
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
    struct gtp_pool *pl = h->pl;
    uint64_t seen = 0;

    pthread_mutex_lock(&pl->mu);
    while (!pl->stop) {
        if (pl->job == seen) {
            pthread_cond_wait(&pl->go, &pl->mu);
            continue;
        }
        seen = pl->job;
        if (!pl->open)
            continue; /* woken too late: the owner has finished that job */
        pl->running++;
        pthread_mutex_unlock(&pl->mu);
        work(pl, h->index);
        pthread_mutex_lock(&pl->mu);
        if (--pl->running == 0)
            pthread_cond_signal(&pl->done);
    }
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

struct gtp_pool *gtp_pool_new(int helpers, char *errstr, size_t errstr_size)
{
    struct gtp_pool *pl;
    if (helpers < 0 || helpers > GTP_POOL_MAX_HELPERS) {
        gtp_errf(errstr, errstr_size, "helper threads: %d is not in 0..%d", helpers,
                 GTP_POOL_MAX_HELPERS);
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
            gtp_pool_free(pl);
            return NULL;
        }
        pl->helpers = k + 1;
    }
    return pl;
}

void gtp_pool_free(struct gtp_pool *pl)
{
    if (!pl)
        return;
    gtp_pool_wait(pl);
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

unsigned gtp_pool_workers(const struct gtp_pool *pl)
{
    return pl ? (unsigned)pl->helpers + 1 : 1;
}

void gtp_pool_start(struct gtp_pool *pl, size_t n, size_t claim, gtp_pool_fn fn, void *arg)
{
    gtp_pool_wait(pl);
    pl->fn = fn;
    pl->arg = arg;
    pl->n = n;
    pl->claim = claim ? claim : 1;
    __atomic_store_n(&pl->next, 0, __ATOMIC_RELAXED);
    pl->started = true;
    if (pl->helpers == 0 || n <= pl->claim)
        return; /* not worth waking anyone: gtp_pool_wait runs it */
    pthread_mutex_lock(&pl->mu);
    pl->job++;
    pl->open = true;
    pthread_cond_broadcast(&pl->go);
    pthread_mutex_unlock(&pl->mu);
}

void gtp_pool_wait(struct gtp_pool *pl)
{
    if (!pl || !pl->started)
        return;
    work(pl, 0);
    pthread_mutex_lock(&pl->mu);
    pl->open = false; /* every item is claimed: helpers not in the job stay out */
    while (pl->running > 0)
        pthread_cond_wait(&pl->done, &pl->mu);
    pthread_mutex_unlock(&pl->mu);
    pl->started = false;
}

void gtp_pool_run(struct gtp_pool *pl, size_t n, size_t claim, gtp_pool_fn fn, void *arg)
{
    if (!pl) {
        for (size_t i = 0; i < n; i++)
            fn(arg, i, 0);
        return;
    }
    gtp_pool_start(pl, n, claim, fn, arg);
    gtp_pool_wait(pl);
}
