/* The processor's pending dedup ids: grouped by window in the order of each window's first id,
 * each group's records in arrival order and in the gtp:seen form (a canonical uuid as 'u' and
 * its 16 bytes, any other id as length, ':' and bytes), emptied and reusable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "idlist.h"

static void test_groups_and_reset(void **state)
{
    struct idlist l = {0};
    char id[32];
    (void)state;
    /* windows 0, 1, 2 interleaved: three groups, each its own ids in arrival order */
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(id, sizeof(id), "id-%d", i);
        idlist_add(&l, (i % 3) * 3600000000LL, id, (size_t)n);
    }
    assert_int_equal(l.n, 100000);
    assert_int_equal(l.ng, 3);
    for (size_t w = 0; w < 3; w++) {
        const struct idgroup *g = &l.g[w];
        size_t at = 0, count = 0;
        assert_true(g->window_start_us == (int64_t)w * 3600000000LL);
        for (int i = (int)w; i < 100000; i += 3, count++) {
            int n = snprintf(id, sizeof(id), "id-%d", i);
            char rec[48];
            int rn = snprintf(rec, sizeof(rec), "%d:%s", n, id);
            assert_true(at + (size_t)rn <= g->rec.len);
            assert_memory_equal(g->rec.p + at, rec, (size_t)rn);
            at += (size_t)rn;
        }
        assert_int_equal(at, g->rec.len);
        assert_int_equal(g->n, count);
    }
    idlist_reset(&l);
    assert_int_equal(l.n, 0);
    assert_int_equal(l.ng, 0);
    idlist_add(&l, 7, "x", 1);
    idlist_add(&l, 7, "a\0b", 3); /* NUL bytes kept */
    idlist_add(&l, 7, "", 0);
    assert_int_equal(l.ng, 1);
    assert_int_equal(l.g[0].n, 3);
    assert_int_equal(l.g[0].rec.len, 3 + 5 + 2);
    assert_memory_equal(l.g[0].rec.p, "1:x3:a\0b0:", 10);
    idlist_fini(&l);
    assert_null(l.g);
    idlist_add(&l, 1, "again", 5); /* reusable after fini */
    assert_memory_equal(l.g[0].rec.p, "5:again", 7);
    idlist_fini(&l);
}

/* A canonical uuid takes 'u' and its 16 bytes; the forms beside it (upper case, braces, one
 * character off) stay text, and the nil uuid is canonical too. */
static void test_uuid_records(void **state)
{
    static const char *const ids[] = {
        "0f8fad5b-d9cb-469f-a165-70867728950e", /* record u + 16 bytes */
        "0F8FAD5B-D9CB-469F-A165-70867728950E", /* upper case: text */
        "{0f8fad5b-d9cb-469f-a165-70867728950e}",
        "0f8fad5b-d9cb-469f-a165-70867728950",  /* 35 characters */
        "0f8fad5b-d9cb-469f-a165-70867728950g", /* not hex */
        "0f8fad5bd-9cb-469f-a165-70867728950e", /* dash moved */
        "00000000-0000-0000-0000-000000000000", /* nil: a uuid record too */
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
    };
    static const int packed[] = {1, 0, 0, 0, 0, 0, 1, 1};
    struct idlist l = {0};
    size_t at = 0;
    (void)state;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        idlist_add(&l, 0, ids[i], strlen(ids[i]));
    assert_int_equal(l.ng, 1);
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        const char *r = l.g[0].rec.p + at;
        if (packed[i]) {
            uint8_t bin[16];
            assert_true(gtp_uuidtext_pack(ids[i], strlen(ids[i]), bin));
            assert_int_equal(r[0], 'u');
            assert_memory_equal(r + 1, bin, 16);
            at += 17;
        } else {
            char rec[64];
            int n = snprintf(rec, sizeof(rec), "%zu:%s", strlen(ids[i]), ids[i]);
            assert_memory_equal(r, rec, (size_t)n);
            at += (size_t)n;
        }
    }
    assert_int_equal(at, l.g[0].rec.len);
    assert_int_equal(l.g[0].rec.len, 3 * 17 + 3 + 36 + 3 + 38 + 3 + 35 + 3 + 36 + 3 + 36);
    idlist_fini(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups_and_reset),
        cmocka_unit_test(test_uuid_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
