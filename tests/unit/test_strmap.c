/* The string hash map: empty map, insert-if-absent, keys compared by bytes
 * and length (NUL bytes, prefixes, the empty key), growth across many
 * rehashes checked against a plain list, and the FNV-1a hash itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gtp/strmap.h"

static int vals[4];

static void test_empty_and_basics(void **state)
{
    struct gtp_strmap *m = gtp_strmap_new();
    (void)state;
    gtp_strmap_free(NULL);
    assert_int_equal(gtp_strmap_count(m), 0);
    assert_null(gtp_strmap_get(m, "x", 1));
    assert_null(gtp_strmap_get(m, "", 0));
    assert_null(gtp_strmap_put(m, "", 0, &vals[0])); /* the empty key is a key */
    assert_ptr_equal(gtp_strmap_get(m, "", 0), &vals[0]);
    assert_null(gtp_strmap_put(m, "ab", 2, &vals[1]));
    /* present: the old value stays and is returned */
    assert_ptr_equal(gtp_strmap_put(m, "ab", 2, &vals[2]), &vals[1]);
    assert_ptr_equal(gtp_strmap_get(m, "ab", 2), &vals[1]);
    /* by length: a prefix or a longer key is another key */
    assert_null(gtp_strmap_get(m, "a", 1));
    assert_null(gtp_strmap_get(m, "abc", 3));
    assert_ptr_equal(gtp_strmap_get(m, "abc", 2), &vals[1]);
    /* NUL bytes are part of the key */
    assert_null(gtp_strmap_put(m, "a\0b", 3, &vals[3]));
    assert_ptr_equal(gtp_strmap_get(m, "a\0b", 3), &vals[3]);
    assert_null(gtp_strmap_get(m, "a\0c", 3));
    assert_int_equal(gtp_strmap_count(m), 3);
    gtp_strmap_free(m);
}

/* The key is copied: the caller's buffer may change after put. */
static void test_key_copied(void **state)
{
    struct gtp_strmap *m = gtp_strmap_new();
    char key[8] = "city";
    (void)state;
    gtp_strmap_put(m, key, 4, &vals[0]);
    memcpy(key, "town", 4);
    assert_null(gtp_strmap_get(m, "town", 4));
    assert_ptr_equal(gtp_strmap_get(m, "city", 4), &vals[0]);
    gtp_strmap_free(m);
}

static void test_growth(void **state)
{
    enum { N = 100000 };
    static int v[N];
    struct gtp_strmap *m = gtp_strmap_new();
    char key[32];
    (void)state;
    for (int i = 0; i < N; i++) {
        int n = snprintf(key, sizeof(key), "key-%d", i);
        assert_null(gtp_strmap_put(m, key, (size_t)n, &v[i]));
    }
    assert_int_equal(gtp_strmap_count(m), N);
    for (int i = 0; i < N; i++) {
        int n = snprintf(key, sizeof(key), "key-%d", i);
        if (gtp_strmap_get(m, key, (size_t)n) != &v[i])
            fail_msg("key %s lost after growth", key);
        n = snprintf(key, sizeof(key), "nokey-%d", i);
        assert_null(gtp_strmap_get(m, key, (size_t)n));
    }
    gtp_strmap_free(m);
}

static void test_hash(void **state)
{
    (void)state;
    /* published FNV-1a 64 test vectors */
    assert_true(gtp_strmap_hash("", 0) == 0xcbf29ce484222325ULL);
    assert_true(gtp_strmap_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(gtp_strmap_hash("foobar", 6) == 0x85944171f73967e8ULL);
    /* bytes, not C strings */
    assert_true(gtp_strmap_hash("a\0", 2) != gtp_strmap_hash("a", 1));
    assert_true(gtp_strmap_hash("\xff", 1) != gtp_strmap_hash("\x7f", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_basics),
        cmocka_unit_test(test_key_copied),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
