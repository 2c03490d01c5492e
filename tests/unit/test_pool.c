/* The helper pool (gtp/pool.h): every item runs exactly once on some worker, and the owner
 * does not wait for a helper that never joined the job. That helper is held inside a signal
 * handler while the job runs, as a helper the scheduler has not run yet would be. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gtp/pool.h"

#define ITEMS 1000

struct count {
    int runs[ITEMS];
    int by_worker[GTP_POOL_MAX_HELPERS + 1];
};

static void count_item(void *arg, size_t i, unsigned worker)
{
    struct count *c = arg;
    __atomic_fetch_add(&c->runs[i], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->by_worker[worker], 1, __ATOMIC_RELAXED);
}

static void test_every_item_once(void **state)
{
    (void)state;
    char err[256];
    struct gtp_pool *pl = gtp_pool_new(3, err, sizeof(err));
    assert_non_null(pl);
    assert_int_equal(gtp_pool_workers(pl), 4);
    for (int round = 0; round < 200; round++) {
        struct count *c = calloc(1, sizeof(*c));
        size_t n = (size_t)(round * 37 % ITEMS) + 1;
        if (round % 2)
            gtp_pool_run(pl, n, 4, count_item, c);
        else {
            gtp_pool_start(pl, n, 4, count_item, c);
            gtp_pool_wait(pl);
        }
        int total = 0;
        for (size_t i = 0; i < ITEMS; i++)
            assert_int_equal(c->runs[i], i < n ? 1 : 0);
        for (int w = 0; w < 4; w++)
            total += c->by_worker[w];
        assert_int_equal(total, (int)n);
        free(c);
    }
    gtp_pool_free(pl);
}

static sem_t hold;
static volatile sig_atomic_t held;

static void hold_handler(int sig)
{
    (void)sig;
    held = 1;
    while (sem_wait(&hold) != 0)
        ;
}

/* The threads of this process, at most max of them, in t; returns how many. */
static size_t threads(pid_t *t, size_t max)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)) && n < max)
        if (e->d_name[0] != '.')
            t[n++] = (pid_t)atoi(e->d_name);
    closedir(d);
    return n;
}

/* The thread in after[0..na) that is not in before[0..nb) (0: none). */
static pid_t new_thread(const pid_t *before, size_t nb, const pid_t *after, size_t na)
{
    for (size_t i = 0; i < na; i++) {
        size_t j = 0;
        while (j < nb && before[j] != after[i])
            j++;
        if (j == nb)
            return after[i];
    }
    return 0;
}

static void test_owner_does_not_wait_for_a_late_helper(void **state)
{
    (void)state;
    char err[256];
    struct sigaction sa = {.sa_handler = hold_handler};
    assert_int_equal(sem_init(&hold, 0, 0), 0);
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
    pid_t before[64], after[64];
    size_t nb = threads(before, 64);
    struct gtp_pool *pl = gtp_pool_new(1, err, sizeof(err));
    assert_non_null(pl);
    size_t na = threads(after, 64);
    assert_int_equal(na, nb + 1);
    pid_t helper = new_thread(before, nb, after, na);
    assert_true(helper > 0);
    assert_int_equal(syscall(SYS_tgkill, getpid(), helper, SIGUSR1), 0);
    while (!held)
        usleep(1000);

    /* The helper is held: the caller takes every item, and returns without it. Waiting for
     * it would block here for good: SIGALRM ends the test instead. */
    struct count *c = calloc(1, sizeof(*c));
    alarm(20);
    gtp_pool_run(pl, ITEMS, 1, count_item, c);
    alarm(0);
    assert_int_equal(c->by_worker[0], ITEMS);
    assert_int_equal(c->by_worker[1], 0);

    /* Released, the helper finds the job closed and takes part in the next one. */
    assert_int_equal(sem_post(&hold), 0);
    for (int round = 0; round < 1000 && c->by_worker[1] == 0; round++)
        gtp_pool_run(pl, ITEMS, 1, count_item, c);
    assert_true(c->by_worker[1] > 0);
    free(c);
    gtp_pool_free(pl);
    sem_destroy(&hold);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_item_once),
        cmocka_unit_test(test_owner_does_not_wait_for_a_late_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
