/* The flush's printf-free numbers and labels (src/processor/argfmt.h) against the printf
 * forms they replace: PRId64 at the extremes and over pseudo-random values, and the hour and
 * day labels of gtp_time_format_hour / _date over times before 1970, after 9999 and inside
 * hours, with the per-thread memo switching between them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argfmt.h"
#include "gtp/timeparse.h"

/* 64 pseudo-random bits, the same sequence every run (main seeds rand) */
static uint64_t next(void)
{
    return (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand();
}

static void check_i64(int64_t v)
{
    char want[32], got[ARGFMT_I64_MAX];
    snprintf(want, sizeof(want), "%" PRId64, v);
    assert_int_equal(argfmt_i64(got, v), strlen(want));
    assert_string_equal(got, want);
}

static void test_i64(void **state)
{
    static const int64_t edge[] = {0,  1,   -1,        9,         10,           -10,
                                   99, 100, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    (void)state;
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
        check_i64(edge[i]);
    for (int i = 0; i < 100000; i++) {
        uint64_t r = next();
        check_i64((int64_t)(r >> (r % 64)) * ((r & 1) ? -1 : 1));
    }
}

static void check_label(int64_t us)
{
    char want[64];
    size_t n;
    const char *got;
    gtp_time_format_hour(us, want, sizeof(want));
    got = argfmt_label(us, true, &n);
    assert_int_equal(n, strlen(want));
    assert_string_equal(got, want);
    gtp_time_format_date(us, want, sizeof(want));
    got = argfmt_label(us, false, &n);
    assert_int_equal(n, strlen(want));
    assert_string_equal(got, want);
}

static void test_labels(void **state)
{
    static const int64_t edge[] = {0,
                                   -1,
                                   1,
                                   INT64_C(3599999999),
                                   INT64_C(3600000000),
                                   INT64_C(-3600000000),
                                   INT64_C(-3600000001),
                                   INT64_C(1710460800000000),    /* 2024-03-15 */
                                   INT64_C(253402300799999999),  /* 9999-12-31T23:59:59 */
                                   INT64_C(253402300800000000),  /* 10000-01-01 */
                                   INT64_C(-62167219200000000),  /* 0000-01-01 */
                                   INT64_C(-62167219200000001)}; /* year -1 */
    (void)state;
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
        check_label(edge[i]);
    /* many hours and days through the same memo slots, each label checked after others */
    for (int i = 0; i < 100000; i++) {
        uint64_t r = next();
        check_label((int64_t)(r % (UINT64_C(400) * 365 * 86400 * 1000000)) -
                    INT64_C(200) * 365 * 86400 * 1000000);
    }
}

int main(void)
{
    srand(42);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_i64),
        cmocka_unit_test(test_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
