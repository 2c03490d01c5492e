/* The dedup id list both daemons keep between durable writes: growth,
 * reset, and ids holding NUL bytes kept whole. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gtp/idlist.h"

static void test_grow_and_reset(void **state)
{
    struct gtp_idlist l = {0};
    char id[32];
    (void)state;
    for (int i = 0; i < 100000; i++) {
        snprintf(id, sizeof(id), "id-%d", i);
        gtp_idlist_add(&l, i % 3, id, strlen(id));
    }
    assert_int_equal(l.n, 100000);
    assert_int_equal(l.v[999].len, 6);
    assert_memory_equal(gtp_idlist_id(&l, 999), "id-999", 6);
    assert_true(l.v[999].window_start_us == 0);
    assert_memory_equal(gtp_idlist_id(&l, 99999), "id-99999", 8);
    gtp_idlist_reset(&l);
    assert_int_equal(l.n, 0);
    gtp_idlist_add(&l, 7, "x", 1);
    assert_int_equal(l.v[0].len, 1);
    assert_memory_equal(gtp_idlist_id(&l, 0), "x", 1);
    /* any JSON string is an event_id, NULs included: kept whole */
    gtp_idlist_add(&l, 7, "a\0b", 3);
    assert_int_equal(l.v[1].len, 3);
    assert_memory_equal(gtp_idlist_id(&l, 1), "a\0b", 3);
    gtp_idlist_add(&l, 8, "", 0);
    assert_int_equal(l.v[2].len, 0);
    gtp_idlist_fini(&l);
    assert_int_equal(l.n, 0);
    gtp_idlist_add(&l, 1, "again", 5); /* reusable after fini */
    assert_memory_equal(gtp_idlist_id(&l, 0), "again", 5);
    gtp_idlist_fini(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
