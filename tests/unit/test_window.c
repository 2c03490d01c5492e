/* Window assignment, watermark, lateness (equality is late) and dedup, checked
 * against a brute-force model of docs/windows.md on random streams. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/window.h"

#define H  GTP_WINDOW_US
#define T0 (1710460800LL * 1000000LL) /* 2024-03-15T00:00:00Z */

static void test_window_start(void **state)
{
    (void)state;
    assert_true(gtp_window_start(T0) == T0);
    assert_true(gtp_window_start(T0 + H - 1) == T0);
    assert_true(gtp_window_start(T0 + H) == T0 + H);
    assert_true(gtp_window_start(-1) == -H);
    assert_true(gtp_window_start(0) == 0);
}

static void test_late_equality(void **state)
{
    struct gtp_window *w = gtp_window_new();
    (void)state;
    assert_true(gtp_window_watermark(w) == GTP_WATERMARK_NONE);
    assert_int_equal(gtp_window_classify(w, "a", 1, T0 + 10), GTP_VERDICT_COUNT);
    /* max = T0 + 3h -> W = T0 + 1h: window [T0, T0+1h) has end == W -> late */
    assert_int_equal(gtp_window_classify(w, "b", 1, T0 + 3 * H), GTP_VERDICT_COUNT);
    assert_true(gtp_window_watermark(w) == T0 + H);
    assert_int_equal(gtp_window_classify(w, "c", 1, T0 + H - 1), GTP_VERDICT_LATE);
    /* window [T0+1h, T0+2h) ends after W: still open */
    assert_int_equal(gtp_window_classify(w, "d", 1, T0 + H), GTP_VERDICT_COUNT);
    /* the watermark never goes back */
    assert_int_equal(gtp_window_classify(w, "e", 1, T0 + 2 * H), GTP_VERDICT_COUNT);
    assert_true(gtp_window_watermark(w) == T0 + H);
    gtp_window_free(w);
}

static void test_duplicates(void **state)
{
    struct gtp_window *w = gtp_window_new();
    (void)state;
    assert_int_equal(gtp_window_classify(w, "id-1", 4, T0 + 5), GTP_VERDICT_COUNT);
    assert_int_equal(gtp_window_classify(w, "id-1", 4, T0 + 5), GTP_VERDICT_DUPLICATE);
    assert_int_equal(gtp_window_classify(w, "id-1", 4, T0 + 7), GTP_VERDICT_DUPLICATE);
    /* same id, another window: a different (event_id, window) key */
    assert_int_equal(gtp_window_classify(w, "id-1", 4, T0 + H + 5), GTP_VERDICT_COUNT);
    /* once the window is final the re-send is late, not a duplicate */
    assert_int_equal(gtp_window_classify(w, "x", 1, T0 + 4 * H), GTP_VERDICT_COUNT);
    assert_int_equal(gtp_window_classify(w, "id-1", 4, T0 + 5), GTP_VERDICT_LATE);
    /* state bounded: entries of final windows are gone */
    assert_int_equal(gtp_window_dedup_size(w), 1 /* x */ + 0);
    gtp_window_free(w);
}

static void test_restore(void **state)
{
    struct gtp_window *w = gtp_window_new();
    (void)state;
    gtp_window_restore_max(w, T0 + 3 * H);
    gtp_window_restore_id(w, T0 + 2 * H, "k", 1);
    gtp_window_restore_id(w, T0, "old", 3); /* final: ignored */
    assert_int_equal(gtp_window_dedup_size(w), 1);
    assert_int_equal(gtp_window_classify(w, "k", 1, T0 + 2 * H + 9), GTP_VERDICT_DUPLICATE);
    assert_int_equal(gtp_window_classify(w, "old", 3, T0 + 1), GTP_VERDICT_LATE);
    gtp_window_free(w);
}

static void test_uuid_and_odd_ids(void **state)
{
    struct gtp_window *w = gtp_window_new();
    const char *lower = "1ec0acaf-f466-4f83-8ebe-87461db0a2c9";
    const char *upper = "1EC0ACAF-F466-4F83-8EBE-87461DB0A2C9";
    const char nul[] = {'a', '\0', 'b'};
    (void)state;
    assert_int_equal(gtp_window_classify(w, lower, 36, T0), GTP_VERDICT_COUNT);
    assert_int_equal(gtp_window_classify(w, lower, 36, T0 + 1), GTP_VERDICT_DUPLICATE);
    /* another spelling is another id (the processor compares bytes) */
    assert_int_equal(gtp_window_classify(w, upper, 36, T0), GTP_VERDICT_COUNT);
    assert_int_equal(gtp_window_classify(w, upper, 36, T0), GTP_VERDICT_DUPLICATE);
    /* a prefix of a uuid, and ids that differ only after a NUL byte */
    assert_int_equal(gtp_window_classify(w, lower, 35, T0), GTP_VERDICT_COUNT);
    assert_int_equal(gtp_window_classify(w, nul, 3, T0), GTP_VERDICT_COUNT);
    assert_int_equal(gtp_window_classify(w, nul, 1, T0), GTP_VERDICT_COUNT);
    assert_int_equal(gtp_window_classify(w, nul, 3, T0), GTP_VERDICT_DUPLICATE);
    assert_int_equal(gtp_window_classify(w, "", 0, T0), GTP_VERDICT_COUNT);
    assert_int_equal(gtp_window_classify(w, "", 0, T0), GTP_VERDICT_DUPLICATE);
    /* growth keeps every entry findable */
    for (int i = 0; i < 50000; i++) {
        char id[40];
        snprintf(id, sizeof(id), "%08x-0000-4000-8000-%012x", i, i * 7);
        assert_int_equal(gtp_window_classify(w, id, 36, T0 + i), GTP_VERDICT_COUNT);
    }
    for (int i = 0; i < 50000; i += 997) {
        char id[40];
        snprintf(id, sizeof(id), "%08x-0000-4000-8000-%012x", i, i * 7);
        assert_int_equal(gtp_window_classify(w, id, 36, T0 + i), GTP_VERDICT_DUPLICATE);
    }
    assert_int_equal(gtp_window_dedup_size(w), 50000 + 6);
    gtp_window_free(w);
}

static void find_id(int64_t start, const char *id, size_t len, void *ctx)
{
    (void)start;
    if (len == 36 && memcmp(id, "00000000-0000-0000-0000-000000000000", 36) == 0)
        ++*(int *)ctx;
}

/* The nil uuid's bytes are those of an empty uuid slot: it must still be remembered. */
static void test_nil_uuid(void **state)
{
    const char *nil = "00000000-0000-0000-0000-000000000000";
    struct gtp_window *w = gtp_window_new();
    int seen = 0;
    (void)state;
    assert_int_equal(gtp_window_classify(w, nil, 36, T0), GTP_VERDICT_COUNT);
    assert_int_equal(gtp_window_classify(w, nil, 36, T0 + 1), GTP_VERDICT_DUPLICATE);
    assert_int_equal(gtp_window_dedup_size(w), 1);
    gtp_window_foreach_id(w, find_id, &seen);
    assert_int_equal(seen, 1);
    gtp_window_free(w);
}

/* The uuid set grows by half at 4/5 full: never more than 30 bytes per id once past its
 * first table (doubling at 3/4 went up to 43), and every id is still found after the
 * growths. */
static void test_uuid_density(void **state)
{
    enum { N = 200000 };
    struct gtp_window *w = gtp_window_new();
    uint64_t x = 7;
    char id[40];
    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        x = 7;
        for (size_t n = 1; n <= N; n++) {
            uint64_t a, b;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            a = x;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            b = x;
            snprintf(id, sizeof(id), "%08x-%04x-4%03x-8%03x-%012llx", (unsigned)(a >> 32),
                     (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff, (unsigned)(b >> 52),
                     (unsigned long long)(b & 0xffffffffffffULL));
            /* the processor's hint before each classify (a window with a table, one
             * without) changes no verdict */
            struct gtp_eventid eid;
            gtp_eventid_init(&eid, id, 36);
            assert_true(eid.packed);
            gtp_window_prefetch_id(w, eid.bin, T0);
            gtp_window_prefetch_id(w, eid.bin, T0 + 5 * GTP_WINDOW_US);
            assert_int_equal(gtp_window_classify(w, id, 36, T0),
                             pass ? GTP_VERDICT_DUPLICATE : GTP_VERDICT_COUNT);
            if (!pass && n >= 1000)
                assert_true(gtp_window_dedup_bytes(w) <= 30 * n + 16);
        }
    }
    assert_int_equal(gtp_window_dedup_size(w), N);
    gtp_window_free(w);
}

/* Brute force: keep every event, recompute the rules from scratch. */
struct ev {
    char id[40];
    int64_t ts;
};

static void test_random_against_model(void **state)
{
    enum { N = 20000 };
    struct ev *evs = calloc(N, sizeof(*evs));
    int *verdicts = calloc(N, sizeof(int));
    struct gtp_window *w = gtp_window_new();
    uint64_t x = 42;
    int64_t clock = T0;
    (void)state;
    for (int i = 0; i < N; i++) {
        int64_t max = INT64_MIN, wm;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        clock += (int64_t)(x % 60) * 1000000;
        evs[i].ts = clock - (int64_t)((x >> 8) % 4 == 0 ? (x >> 16) % (5 * H) : (x >> 16) % H);
        if ((x >> 40) % 10 == 0 && i > 0)
            evs[i] = evs[(x >> 20) % i]; /* re-send */
        else if (i % 2)                  /* both kinds of id: the uuid set and the other one */
            snprintf(evs[i].id, sizeof(evs[i].id), "e%d", i);
        else
            snprintf(evs[i].id, sizeof(evs[i].id), "%08x-0000-4000-8000-%012x", i, i * 3);
        for (int j = 0; j < i; j++)
            if (evs[j].ts > max)
                max = evs[j].ts;
        wm = max == INT64_MIN ? INT64_MIN : max - 2 * H;
        {
            int64_t ws = gtp_window_start(evs[i].ts);
            int want = 0;
            if (wm != INT64_MIN && ws + H <= wm)
                want = GTP_VERDICT_LATE;
            else
                for (int j = 0; j < i; j++)
                    if (verdicts[j] == GTP_VERDICT_COUNT && strcmp(evs[j].id, evs[i].id) == 0 &&
                        gtp_window_start(evs[j].ts) == ws)
                        want = GTP_VERDICT_DUPLICATE;
            verdicts[i] = want;
            assert_int_equal(gtp_window_classify(w, evs[i].id, strlen(evs[i].id), evs[i].ts), want);
        }
    }
    gtp_window_free(w);
    free(evs);
    free(verdicts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_start),         cmocka_unit_test(test_late_equality),
        cmocka_unit_test(test_duplicates),           cmocka_unit_test(test_restore),
        cmocka_unit_test(test_uuid_and_odd_ids),     cmocka_unit_test(test_nil_uuid),
        cmocka_unit_test(test_random_against_model), cmocka_unit_test(test_uuid_density),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
