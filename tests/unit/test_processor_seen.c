/* The processor's packed dedup ids (gtp:seen values, store.h): every id
 * comes back whole, NUL bytes included, and a damaged value is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gtp/err.h"
#include "store.h"

struct seen {
    char ids[8][16];
    size_t len[8];
    int n;
};

static void collect(const char *id, size_t n, void *ctx)
{
    struct seen *s = ctx;
    assert_true(s->n < 8 && n <= sizeof(s->ids[0]));
    memcpy(s->ids[s->n], id, n);
    s->len[s->n++] = n;
}

static void test_round_trip(void **state)
{
    static const char v[] = "3:abc0:4:a\0b:10:0123456789";
    struct seen s = {0};
    (void)state;
    assert_int_equal(store_seen_each(v, sizeof(v) - 1, collect, &s), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.len[0], 3);
    assert_memory_equal(s.ids[0], "abc", 3);
    assert_int_equal(s.len[1], 0);
    assert_int_equal(s.len[2], 4);
    assert_memory_equal(s.ids[2], "a\0b:", 4);
    assert_int_equal(s.len[3], 10);
    assert_memory_equal(s.ids[3], "0123456789", 10);
    s.n = 0;
    assert_int_equal(store_seen_each("", 0, collect, &s), 0);
    assert_int_equal(s.n, 0);
}

static void test_damaged(void **state)
{
    static const char *bad[] = {
        "3:ab",        /* shorter than its length */
        "3abc",        /* no colon */
        ":abc",        /* no length */
        "x:1",         /* not a number */
        "2:ab3",       /* a trailing length without its id */
        "123456789:a", /* a length of more than 8 digits */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct seen s = {0};
        if (store_seen_each(bad[i], strlen(bad[i]), collect, &s) != GTP_ERR_PARSE)
            fail_msg("accepted \"%s\"", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
