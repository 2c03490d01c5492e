/* The dashboard's answer cache (src/dashboard/cache.h) with a fake compute:
 * one computation for a cold key however many requests wait for it, warm
 * keys served at once while a slow computation runs in the background, the
 * key count bounded, idle keys dropped, the stale window, clear, and every
 * answer released (ASan in CI); and the asynchronous form the HTTP server
 * uses: a cold key's request is parked at once and woken from a compute
 * thread, waiters share a refresh under way, closing wakes them all, and a
 * waiter can be withdrawn. The HTTP side is covered by
 * tests/integration/test_dashboard_cache.py. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "gtp/err.h"
#include "gtp/metrics.h"
#include "gtp/util.h"

/* The fake backend: answers are malloc'd version numbers. */
struct fake {
    atomic_int version;  /* what the next computation answers */
    atomic_int calls;    /* computations run */
    atomic_int sleep_ms; /* how long one takes */
    atomic_int fail;     /* nonzero: computations fail with GTP_ERR_REDIS */
    atomic_int live;     /* answers not yet released */
};

static int fake_compute(void *ctx, const void *params, void **answer, char *errstr,
                        size_t errstr_size)
{
    struct fake *f = ctx;
    int *a;
    (void)params;
    atomic_fetch_add(&f->calls, 1);
    if (atomic_load(&f->sleep_ms))
        usleep((useconds_t)atomic_load(&f->sleep_ms) * 1000);
    if (atomic_load(&f->fail)) {
        snprintf(errstr, errstr_size, "redis down");
        return GTP_ERR_REDIS;
    }
    a = malloc(sizeof(*a));
    *a = atomic_load(&f->version);
    atomic_fetch_add(&f->live, 1);
    *answer = a;
    return 0;
}

static struct fake *g_fake; /* for release, which gets no context */

static void fake_release(void *answer)
{
    atomic_fetch_sub(&g_fake->live, 1);
    free(answer);
}

/* use: copy the version out */
static bool take_version(void *arg, void *answer)
{
    *(int *)arg = *(int *)answer;
    return true;
}

struct fixture {
    struct fake f;
    struct gtp_metrics *reg;
    struct dcache_cfg cfg;
    struct dcache *c;
};

static struct fixture *fixture_new(int64_t ttl_ms, int64_t stale_ms, int max_keys, int idle)
{
    struct fixture *x = calloc(1, sizeof(*x));
    char err[256];
    g_fake = &x->f;
    x->reg = gtp_metrics_new();
    x->cfg.ttl_ms = ttl_ms;
    x->cfg.stale_ms = stale_ms;
    x->cfg.max_keys = max_keys;
    x->cfg.idle_periods = idle;
    x->cfg.threads = 2;
    x->cfg.params_size = sizeof(int);
    x->cfg.compute = fake_compute;
    x->cfg.release = fake_release;
    x->cfg.ctx = &x->f;
    x->cfg.m.hits = gtp_metrics_counter(x->reg, "hits", "h", NULL);
    x->cfg.m.misses = gtp_metrics_counter(x->reg, "misses", "h", NULL);
    x->cfg.m.stale = gtp_metrics_counter(x->reg, "stale", "h", NULL);
    x->cfg.m.refreshes = gtp_metrics_counter(x->reg, "refreshes", "h", NULL);
    x->cfg.m.refresh_failures = gtp_metrics_counter(x->reg, "refresh_failures", "h", NULL);
    x->cfg.m.evictions = gtp_metrics_counter(x->reg, "evictions", "h", NULL);
    x->cfg.m.keys = gtp_metrics_gauge(x->reg, "keys", "h", NULL);
    x->c = dcache_new(&x->cfg, err, sizeof(err));
    assert_non_null(x->c);
    return x;
}

static void fixture_free(struct fixture *x)
{
    dcache_free(x->c); /* joins the refresher */
    assert_int_equal(atomic_load(&x->f.live), 0);
    gtp_metrics_free(x->reg);
    free(x);
}

static int serve(struct fixture *x, const char *key, int *version)
{
    char err[256];
    int params = 0;
    *version = -1;
    return dcache_serve(x->c, key, &params, take_version, version, err, sizeof(err));
}

static double val(const struct gtp_metric *m)
{
    return gtp_metric_value(m);
}

static void test_config(void **state)
{
    struct dcache_cfg cfg = {0};
    char err[256] = "";
    (void)state;
    cfg.ttl_ms = 0;
    cfg.max_keys = 1;
    cfg.idle_periods = 1;
    cfg.compute = fake_compute;
    cfg.release = fake_release;
    assert_null(dcache_new(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "answer cache"));
    cfg.ttl_ms = 10;
    cfg.max_keys = 0;
    assert_null(dcache_new(&cfg, err, sizeof(err)));
    dcache_free(NULL);
}

struct waiter {
    struct fixture *x;
    int version, err;
};

static void *serve_thread(void *arg)
{
    struct waiter *w = arg;
    w->err = serve(w->x, "cold", &w->version);
    return NULL;
}

/* Eight requests for a cold key while its computation takes 150 ms: one
 * computation, every request served its answer. */
static void test_cold_single_flight(void **state)
{
    struct fixture *x = fixture_new(60000, 0, 16, 10);
    pthread_t t[8];
    struct waiter w[8];
    (void)state;
    atomic_store(&x->f.version, 7);
    atomic_store(&x->f.sleep_ms, 150);
    for (int i = 0; i < 8; i++) {
        w[i].x = x;
        pthread_create(&t[i], NULL, serve_thread, &w[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].err, 0);
        assert_int_equal(w[i].version, 7);
    }
    assert_int_equal(atomic_load(&x->f.calls), 1);
    assert_int_equal(val(x->cfg.m.misses), 1);
    assert_int_equal(val(x->cfg.m.hits), 7);
    fixture_free(x);
}

/* A warm key whose recomputation takes 3 ttl: every request is answered at
 * once (from the cache, never by computing), and the new answer arrives. */
static void test_refresh_off_request_path(void **state)
{
    struct fixture *x = fixture_new(100, 10000, 16, 100);
    int v, worst_us = 0;
    int64_t end;
    (void)state;
    atomic_store(&x->f.version, 1);
    assert_int_equal(serve(x, "warm", &v), 0);
    assert_int_equal(v, 1);
    atomic_store(&x->f.version, 2);
    atomic_store(&x->f.sleep_ms, 500);
    end = gtp_mono_ms() + 800;
    while (gtp_mono_ms() < end) {
        int64_t t0 = gtp_mono_us();
        assert_int_equal(serve(x, "warm", &v), 0);
        assert_true(v == 1 || v == 2);
        if (gtp_mono_us() - t0 > worst_us)
            worst_us = (int)(gtp_mono_us() - t0);
        usleep(5000);
    }
    /* a request that computed would have taken 500 ms */
    assert_true(worst_us < 250000);
    assert_int_equal(val(x->cfg.m.misses), 1);
    assert_true(val(x->cfg.m.refreshes) >= 1);
    assert_int_equal(serve(x, "warm", &v), 0);
    assert_int_equal(v, 2);
    assert_true(val(x->cfg.m.stale) >= 1); /* the 500 ms outlived the 100 ms ttl */
    fixture_free(x);
}

/* Many distinct keys: never more than max_keys held, the least recently
 * requested goes first. */
static void test_bounded(void **state)
{
    struct fixture *x = fixture_new(60000, 0, 8, 10);
    char key[32];
    int v;
    (void)state;
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(serve(x, key, &v), 0);
        assert_true(dcache_count(x->c) <= 8);
        if (i >= 1) {
            usleep(1000); /* k0 stays the most recently requested */
            assert_int_equal(serve(x, "k0", &v), 0);
        }
    }
    assert_int_equal(dcache_count(x->c), 8);
    assert_int_equal(val(x->cfg.m.evictions), 100 - 8);
    assert_int_equal(val(x->cfg.m.keys), 8);
    assert_int_equal(atomic_load(&x->f.calls), 100); /* k0 was never evicted */
    assert_int_equal(atomic_load(&x->f.live), 8);
    fixture_free(x);
}

/* Keys nobody asks for are dropped after idle_periods ttl, and not
 * refreshed meanwhile more than that allows. */
static void test_idle_evicted(void **state)
{
    struct fixture *x = fixture_new(20, 0, 8, 3);
    int v;
    (void)state;
    assert_int_equal(serve(x, "a", &v), 0);
    assert_int_equal(serve(x, "b", &v), 0);
    assert_int_equal(dcache_count(x->c), 2);
    usleep(300 * 1000);
    assert_int_equal(dcache_count(x->c), 0);
    assert_int_equal(val(x->cfg.m.evictions), 2);
    assert_true(atomic_load(&x->f.calls) <= 2 + 2 * 4);
    fixture_free(x);
}

/* Redis fails: the last answer is served through the stale window, then the
 * key is cold again and the request gets the error. */
static void test_stale_window(void **state)
{
    struct fixture *x = fixture_new(50, 400, 8, 100);
    char err[256];
    int params = 0, v;
    (void)state;
    atomic_store(&x->f.version, 3);
    assert_int_equal(serve(x, "s", &v), 0);
    atomic_store(&x->f.fail, 1);
    usleep(150 * 1000);
    assert_int_equal(serve(x, "s", &v), 0);
    assert_int_equal(v, 3);
    assert_true(val(x->cfg.m.stale) >= 1);
    assert_true(val(x->cfg.m.refresh_failures) >= 1);
    usleep(400 * 1000);
    assert_int_equal(dcache_serve(x->c, "s", &params, take_version, &v, err, sizeof(err)),
                     GTP_ERR_REDIS);
    assert_string_equal(err, "redis down");
    /* and it comes back */
    atomic_store(&x->f.fail, 0);
    atomic_store(&x->f.version, 4);
    assert_int_equal(serve(x, "s", &v), 0);
    assert_int_equal(v, 4);
    fixture_free(x);
}

/* A failed cold computation keeps nothing: errors do not fill the table. */
static void test_failure_not_kept(void **state)
{
    struct fixture *x = fixture_new(60000, 0, 8, 10);
    char key[32];
    int v;
    (void)state;
    atomic_store(&x->f.fail, 1);
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "bad%d", i);
        assert_int_equal(serve(x, key, &v), GTP_ERR_REDIS);
    }
    assert_int_equal(dcache_count(x->c), 0);
    assert_int_equal(val(x->cfg.m.evictions), 0);
    fixture_free(x);
}

static void test_clear_and_long_key(void **state)
{
    struct fixture *x = fixture_new(60000, 0, 8, 10);
    char key[DCACHE_KEY_MAX + 10];
    int v;
    (void)state;
    atomic_store(&x->f.version, 1);
    assert_int_equal(serve(x, "c", &v), 0);
    atomic_store(&x->f.version, 2);
    assert_int_equal(serve(x, "c", &v), 0);
    assert_int_equal(v, 1);
    dcache_clear(x->c);
    assert_int_equal(dcache_count(x->c), 0);
    assert_int_equal(serve(x, "c", &v), 0);
    assert_int_equal(v, 2);
    memset(key, 'x', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    assert_int_equal(serve(x, key, &v), 0); /* computed, not kept */
    assert_int_equal(serve(x, key, &v), 0);
    assert_int_equal(dcache_count(x->c), 1);
    assert_int_equal(atomic_load(&x->f.calls), 4);
    fixture_free(x);
}

/* ---- the asynchronous form ---------------------------------------------------------------- */

/* A parked request: counts its park and wake calls, and where the wake ran. */
struct parked {
    pthread_t caller;
    atomic_int parks, wakes;
    atomic_bool woken_elsewhere;
};

static void count_park(void *arg)
{
    struct parked *p = arg;
    atomic_fetch_add(&p->parks, 1);
}

static void count_wake(void *arg)
{
    struct parked *p = arg;
    atomic_store(&p->woken_elsewhere, !pthread_equal(p->caller, pthread_self()));
    atomic_fetch_add(&p->wakes, 1);
}

static int serve_async(struct fixture *x, const char *key, struct parked *p, struct dcache_wait **w,
                       int *version)
{
    char err[256];
    int params = 0;
    struct dcache_parking pk = {count_park, count_wake, p};
    p->caller = pthread_self();
    *version = -1;
    return dcache_serve_async(x->c, key, &params, take_version, version, &pk, w, err, sizeof(err));
}

static void wait_woken(struct parked *p, int n, int within_ms)
{
    int64_t end = gtp_mono_ms() + within_ms;
    while (atomic_load(&p->wakes) < n && gtp_mono_ms() < end)
        usleep(1000);
    assert_int_equal(atomic_load(&p->wakes), n);
}

/* Eight requests for a cold key from one thread while its computation takes
 * 200 ms: each is parked at once (the calling thread never computes), a warm
 * key is served meanwhile, one computation wakes all eight from its compute
 * thread, and each gets the answer. */
static void test_async_parks(void **state)
{
    struct fixture *x = fixture_new(60000, 0, 16, 10);
    struct parked p[8], pw = {0};
    struct dcache_wait *w[8], *ww = NULL;
    char err[256];
    int v;
    int64_t t0;
    (void)state;
    atomic_store(&x->f.version, 1);
    assert_int_equal(serve(x, "warm", &v), 0);
    atomic_store(&x->f.version, 5);
    atomic_store(&x->f.sleep_ms, 200);
    t0 = gtp_mono_us();
    for (int i = 0; i < 8; i++) {
        memset(&p[i], 0, sizeof(p[i]));
        assert_int_equal(serve_async(x, "cold", &p[i], &w[i], &v), DCACHE_PENDING);
        assert_non_null(w[i]);
        assert_int_equal(atomic_load(&p[i].parks), 1);
    }
    assert_int_equal(serve_async(x, "warm", &pw, &ww, &v), 0); /* not behind the cold one */
    assert_int_equal(v, 1);
    assert_null(ww);
    assert_int_equal(atomic_load(&pw.parks), 0);
    assert_true(gtp_mono_us() - t0 < 100000); /* computing would have taken 200 ms */
    for (int i = 0; i < 8; i++) {
        wait_woken(&p[i], 1, 2000);
        assert_true(atomic_load(&p[i].woken_elsewhere));
        assert_int_equal(dcache_wait_end(x->c, w[i], take_version, &v, err, sizeof(err)), 0);
        assert_int_equal(v, 5);
    }
    assert_int_equal(atomic_load(&x->f.calls), 2);
    assert_int_equal(val(x->cfg.m.misses), 2); /* "warm" once, "cold" once */
    assert_int_equal(val(x->cfg.m.hits), 1 + 7);
    assert_int_equal(serve(x, "cold", &v), 0); /* and it is cached */
    assert_int_equal(atomic_load(&x->f.calls), 2);
    fixture_free(x);
}

/* A failed computation wakes its waiters with its error, and keeps nothing. */
static void test_async_error(void **state)
{
    struct fixture *x = fixture_new(60000, 0, 16, 10);
    struct parked p[2] = {0};
    struct dcache_wait *w[2];
    char err[256] = "";
    int v;
    (void)state;
    atomic_store(&x->f.fail, 1);
    atomic_store(&x->f.sleep_ms, 50);
    for (int i = 0; i < 2; i++)
        assert_int_equal(serve_async(x, "down", &p[i], &w[i], &v), DCACHE_PENDING);
    for (int i = 0; i < 2; i++) {
        wait_woken(&p[i], 1, 2000);
        assert_int_equal(dcache_wait_end(x->c, w[i], take_version, &v, err, sizeof(err)),
                         GTP_ERR_REDIS);
        assert_string_equal(err, "redis down");
    }
    assert_int_equal(atomic_load(&x->f.calls), 1);
    assert_int_equal(dcache_count(x->c), 0);
    fixture_free(x);
}

/* A key whose answer is past its stale window while the refresher is
 * recomputing it: a request joins that computation instead of starting a
 * second one, and is woken with its answer. */
static void test_async_joins_refresh(void **state)
{
    struct fixture *x = fixture_new(40, 0, 8, 100);
    struct parked p = {0};
    struct dcache_wait *w = NULL;
    char err[256];
    int v;
    (void)state;
    atomic_store(&x->f.version, 1);
    assert_int_equal(serve(x, "r", &v), 0);
    atomic_store(&x->f.version, 2);
    atomic_store(&x->f.sleep_ms, 400); /* the refresh starts ~30 ms in, ends ~430 ms */
    usleep(150 * 1000);                /* the answer expired 110 ms ago, stale_ms 0 */
    assert_int_equal(atomic_load(&x->f.calls), 2);
    assert_int_equal(serve_async(x, "r", &p, &w, &v), DCACHE_PENDING);
    wait_woken(&p, 1, 2000);
    assert_int_equal(dcache_wait_end(x->c, w, take_version, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 2);
    assert_int_equal(val(x->cfg.m.misses), 1); /* the first request's only */
    atomic_store(&x->f.sleep_ms, 0);
    fixture_free(x);
}

/* dcache_close wakes every waiter at once with "shutting down" (its
 * computation still runs to its end), later cold keys get the error at
 * once, warm keys are still served. */
static void test_async_close(void **state)
{
    struct fixture *x = fixture_new(60000, 0, 8, 10);
    struct parked p[3] = {0}, pc = {0};
    struct dcache_wait *w[3], *wc = NULL;
    char err[256] = "";
    int v;
    int64_t t0;
    (void)state;
    atomic_store(&x->f.version, 1);
    assert_int_equal(serve(x, "warm", &v), 0);
    atomic_store(&x->f.sleep_ms, 300);
    assert_int_equal(serve_async(x, "a", &p[0], &w[0], &v), DCACHE_PENDING);
    assert_int_equal(serve_async(x, "a", &p[1], &w[1], &v), DCACHE_PENDING);
    assert_int_equal(serve_async(x, "b", &p[2], &w[2], &v), DCACHE_PENDING);
    t0 = gtp_mono_us();
    dcache_close(x->c);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(atomic_load(&p[i].wakes), 1); /* woken by the close itself */
        assert_int_equal(dcache_wait_end(x->c, w[i], take_version, &v, err, sizeof(err)),
                         GTP_ERR_UNAVAILABLE);
        assert_string_equal(err, "shutting down");
    }
    assert_true(gtp_mono_us() - t0 < 100000);
    assert_int_equal(serve_async(x, "c", &pc, &wc, &v), GTP_ERR_UNAVAILABLE);
    assert_null(wc);
    assert_int_equal(atomic_load(&pc.parks), 0);
    assert_int_equal(serve(x, "warm", &v), 0);
    assert_int_equal(v, 1);
    fixture_free(x); /* joins the computations under way; their answers are released */
}

/* A waiter whose request went away: withdrawn while waiting (never woken),
 * or dropped after its wake with the answer unused (released). */
static void test_async_withdrawn(void **state)
{
    struct fixture *x = fixture_new(60000, 0, 8, 10);
    struct parked p[2] = {0};
    struct dcache_wait *w[2];
    int v;
    (void)state;
    atomic_store(&x->f.sleep_ms, 100);
    assert_int_equal(serve_async(x, "g", &p[0], &w[0], &v), DCACHE_PENDING);
    assert_int_equal(serve_async(x, "g", &p[1], &w[1], &v), DCACHE_PENDING);
    dcache_wait_fini(x->c, w[0]);
    wait_woken(&p[1], 1, 2000);
    usleep(50 * 1000);
    assert_int_equal(atomic_load(&p[0].wakes), 0);
    assert_int_equal(atomic_load(&x->f.live), 1); /* the table's, and w[1]'s reference */
    dcache_wait_fini(x->c, w[1]);
    dcache_wait_fini(x->c, NULL);
    assert_int_equal(dcache_count(x->c), 1);
    /* withdrawn while its computation ends on another thread, either side
     * first: no wake after the withdrawal, nothing leaked (ASan, TSan) */
    atomic_store(&x->f.sleep_ms, 0);
    for (int i = 0; i < 200; i++) {
        char key[32];
        struct parked q = {0};
        struct dcache_wait *wq;
        snprintf(key, sizeof(key), "race%d", i);
        assert_int_equal(serve_async(x, key, &q, &wq, &v), DCACHE_PENDING);
        if (i % 2)
            usleep(10);
        dcache_wait_fini(x->c, wq);
        assert_true(atomic_load(&q.wakes) <= 1);
    }
    fixture_free(x); /* every answer released: checked there */
}

/* One key only, two cold keys at once: the second is computed uncached
 * rather than waiting for room. */
static void test_async_every_entry_busy(void **state)
{
    struct fixture *x = fixture_new(60000, 0, 1, 10);
    struct parked p[2] = {0};
    struct dcache_wait *w[2];
    char err[256];
    int v;
    (void)state;
    atomic_store(&x->f.version, 9);
    atomic_store(&x->f.sleep_ms, 100);
    assert_int_equal(serve_async(x, "one", &p[0], &w[0], &v), DCACHE_PENDING);
    assert_int_equal(serve_async(x, "two", &p[1], &w[1], &v), DCACHE_PENDING);
    for (int i = 0; i < 2; i++) {
        wait_woken(&p[i], 1, 2000);
        assert_int_equal(dcache_wait_end(x->c, w[i], take_version, &v, err, sizeof(err)), 0);
        assert_int_equal(v, 9);
    }
    assert_int_equal(dcache_count(x->c), 1);
    assert_int_equal(atomic_load(&x->f.calls), 2);
    fixture_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_cold_single_flight),
        cmocka_unit_test(test_refresh_off_request_path),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_idle_evicted),
        cmocka_unit_test(test_stale_window),
        cmocka_unit_test(test_failure_not_kept),
        cmocka_unit_test(test_clear_and_long_key),
        cmocka_unit_test(test_async_parks),
        cmocka_unit_test(test_async_error),
        cmocka_unit_test(test_async_joins_refresh),
        cmocka_unit_test(test_async_close),
        cmocka_unit_test(test_async_withdrawn),
        cmocka_unit_test(test_async_every_entry_busy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
