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
    char id[32], buf[GTP_UUIDTEXT_LEN];
    (void)state;
    for (int i = 0; i < 100000; i++) {
        snprintf(id, sizeof(id), "id-%d", i);
        gtp_idlist_add(&l, i % 3, id, strlen(id));
    }
    assert_int_equal(l.n, 100000);
    assert_int_equal(gtp_idlist_len(&l, 999), 6);
    assert_memory_equal(gtp_idlist_id(&l, 999, buf), "id-999", 6);
    assert_true(l.v[999].window_start_us == 0);
    assert_memory_equal(gtp_idlist_id(&l, 99999, buf), "id-99999", 8);
    gtp_idlist_reset(&l);
    assert_int_equal(l.n, 0);
    gtp_idlist_add(&l, 7, "x", 1);
    assert_int_equal(gtp_idlist_len(&l, 0), 1);
    assert_memory_equal(gtp_idlist_id(&l, 0, buf), "x", 1);
    /* any JSON string is an event_id, NULs included: kept whole */
    gtp_idlist_add(&l, 7, "a\0b", 3);
    assert_int_equal(gtp_idlist_len(&l, 1), 3);
    assert_memory_equal(gtp_idlist_id(&l, 1, buf), "a\0b", 3);
    gtp_idlist_add(&l, 8, "", 0);
    assert_int_equal(gtp_idlist_len(&l, 2), 0);
    gtp_idlist_fini(&l);
    assert_int_equal(l.n, 0);
    gtp_idlist_add(&l, 1, "again", 5); /* reusable after fini */
    assert_memory_equal(gtp_idlist_id(&l, 0, buf), "again", 5);
    gtp_idlist_fini(&l);
}

/* Canonical uuids are kept as 16 bytes and given back as the same text; the forms beside
 * them (upper case, braces, one character off, the nil uuid) come back as they went in. */
static void test_packed_uuids(void **state)
{
    static const char *const ids[] = {
        "0f8fad5b-d9cb-469f-a165-70867728950e", /* packed */
        "0F8FAD5B-D9CB-469F-A165-70867728950E", /* upper case: text */
        "{0f8fad5b-d9cb-469f-a165-70867728950e}",
        "0f8fad5b-d9cb-469f-a165-70867728950",  /* 35 characters */
        "0f8fad5b-d9cb-469f-a165-70867728950g", /* not hex */
        "0f8fad5bd-9cb-469f-a165-70867728950e", /* dash moved */
        "00000000-0000-0000-0000-000000000000", /* nil: packed too */
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
    };
    static const int packed[] = {1, 0, 0, 0, 0, 0, 1, 1};
    struct gtp_idlist l = {0};
    char buf[GTP_UUIDTEXT_LEN];
    (void)state;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        gtp_idlist_add(&l, (int64_t)i, ids[i], strlen(ids[i]));
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        assert_int_equal(!!(l.v[i].len & GTP_IDLIST_PACKED), packed[i]);
        assert_int_equal(gtp_idlist_len(&l, i), strlen(ids[i]));
        assert_memory_equal(gtp_idlist_id(&l, i, buf), ids[i], strlen(ids[i]));
        assert_true(l.v[i].window_start_us == (int64_t)i);
    }
    /* 16 bytes in the arena for each packed one */
    assert_int_equal(l.arena.len, 3 * 16 + 36 + 38 + 35 + 36 + 36);
    gtp_idlist_fini(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_and_reset),
        cmocka_unit_test(test_packed_uuids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
