/* The processor's pending-delta map: merging, growth past many rehashes,
 * and reset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "agg.h"

static int64_t lookup(const struct agg *a, uint16_t skill, const char *region, int64_t hour)
{
    for (size_t i = 0; i < a->cap; i++) {
        const struct agg_delta *d = &a->deltas[i];
        if (d->count && d->skill == skill && agg_delta_hour_us(d) == hour &&
            strncmp(d->region, region, 8) == 0)
            return d->count;
    }
    return 0;
}

static void test_merge_and_grow(void **state)
{
    struct agg a;
    int64_t total = 0;
    (void)state;
    agg_init(&a);
    /* 300 skills x 7 regions x 4 hours = 8400 keys, each added i%3+1 times */
    static const char *regions[] = {"UK", "US", "DE", "REMOTE", "UNKNOWN", "IN", "BR"};
    for (int rep = 0; rep < 3; rep++)
        for (int s = 0; s < 300; s++)
            for (int r = 0; r < 7; r++)
                for (int h = 0; h < 4; h++)
                    if (rep <= (s + r + h) % 3) {
                        agg_add(&a, (uint16_t)s, regions[r], (int64_t)h * 3600000000LL, 2);
                        total += 2;
                    }
    assert_int_equal(a.used, 300 * 7 * 4);
    for (int s = 0; s < 300; s += 37)
        for (int r = 0; r < 7; r++)
            for (int h = 0; h < 4; h++)
                assert_int_equal(lookup(&a, (uint16_t)s, regions[r], (int64_t)h * 3600000000LL),
                                 2 * ((s + r + h) % 3 + 1));
    {
        int64_t sum = 0;
        for (size_t i = 0; i < a.cap; i++)
            sum += a.deltas[i].count;
        assert_true(sum == total);
    }
    agg_reset(&a);
    assert_int_equal(a.used, 0);
    assert_int_equal(lookup(&a, 0, "UK", 0), 0);
    agg_add(&a, 5, "UK", 0, 1);
    assert_int_equal(lookup(&a, 5, "UK", 0), 1);
    agg_fini(&a);
}

static void test_region_names_are_distinct(void **state)
{
    struct agg a;
    (void)state;
    agg_init(&a);
    agg_add(&a, 1, "UNKNOWN", 0, 1);
    agg_add(&a, 1, "UNKNOWN", 0, 1);
    agg_add(&a, 1, "US", 0, 1);
    agg_add(&a, 1, "U", 0, 1);
    assert_int_equal(lookup(&a, 1, "UNKNOWN", 0), 2);
    assert_int_equal(lookup(&a, 1, "US", 0), 1);
    assert_int_equal(lookup(&a, 1, "U", 0), 1);
    assert_int_equal(a.used, 3);
    agg_fini(&a);
}

/* Postings of many skills through agg_add_mentions, the table growing in the middle of
 * one (past the slots it stages, the rest are added one by one): every key exactly once,
 * every count and the mention total right. */
static void test_mentions_many_skills(void **state)
{
    struct agg a;
    struct gtp_skill_set set;
    static const char *regions[] = {"UK", "US", "DE"};
    int64_t mentions = 0;
    size_t keys = 0;
    (void)state;
    agg_init(&a);
    for (int h = 0; h < 40; h++)
        for (int r = 0; r < 3; r++) {
            size_t n = (size_t)(1 + (h * 7 + r * 13) % 150); /* 1..150 skills */
            memset(&set, 0, sizeof(set));
            for (size_t i = 0; i < n; i++)
                gtp_skill_set_add(&set, (i * 2 + (size_t)h) % 300);
            /* twice: the second time every key exists */
            for (int rep = 0; rep < 2; rep++)
                agg_add_mentions(&a, &set, 300, regions[r], (int64_t)h * 3600000000LL);
            mentions += 2 * (int64_t)n;
            keys += n;
        }
    assert_int_equal(a.used, keys);
    assert_int_equal(a.stats[AGG_MENTIONS], mentions);
    int64_t sum = 0;
    for (size_t i = 0; i < a.cap; i++) {
        if (!a.deltas[i].count)
            continue;
        assert_int_equal(a.deltas[i].count, 2);
        sum += a.deltas[i].count;
    }
    assert_true(sum == mentions);
    assert_int_equal(lookup(&a, 7, "US", 7 * 3600000000LL), 2);
    agg_fini(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_and_grow),
        cmocka_unit_test(test_region_names_are_distinct),
        cmocka_unit_test(test_mentions_many_skills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
