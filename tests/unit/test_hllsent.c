/* The processor's memory of employer elements already in Redis (src/processor/hllsent.h):
 * Redis's HLL hash (vectors checked against a Redis 7 server's register placement), staged
 * entries remembered only on commit, forget, the ttl/2 wipe, and no memory under a minute
 * of ttl. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hllsent.h"

#define DAY (INT64_C(86400) * 1000000)

static void test_hash_is_redis(void **state)
{
    /* each vector's register (hash & 16383) and run length were read back from the sparse
     * encoding of PFADD t <name> on a Redis 7.0 server: lengths 1..18, a UTF-8 name, and
     * lengths 7 and 8 around the 8-byte block */
    static const struct {
        const char *s;
        uint64_t h;
    } v[] = {
        {"a", UINT64_C(6039968161137406375)},
        {"acme", UINT64_C(16429727600846315370)},
        {"acme ltd", UINT64_C(8972174322300734872)},
        {"globex corporation", UINT64_C(17782718978989991563)},
        {"\xc3\xa4"
         "cme",
         UINT64_C(10189731050552168684)},
        {"1234567", UINT64_C(9607934687127480407)},
        {"12345678", UINT64_C(10802930868819274067)},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        assert_true(hllsent_hash(v[i].s, strlen(v[i].s)) == v[i].h);
}

static void test_stage_commit_forget(void **state)
{
    struct hllsent s;
    uint64_t h = hllsent_hash("acme", 4);
    (void)state;
    hllsent_init(&s);
    hllsent_age(&s, s.since_ms, 86400);
    hllsent_stage(&s, 3, 5 * DAY, h);
    /* staged is not known: the flush may still fail */
    assert_false(hllsent_known(&s, 3, 5 * DAY, h));
    hllsent_commit(&s);
    assert_true(hllsent_known(&s, 3, 5 * DAY, h));
    assert_true(hllsent_known(&s, 3, 5 * DAY + 3600 * INT64_C(1000000), h)); /* same day */
    assert_false(hllsent_known(&s, 4, 5 * DAY, h));                          /* other skill */
    assert_false(hllsent_known(&s, 3, 6 * DAY, h));                          /* other day */
    assert_false(hllsent_known(&s, 3, 5 * DAY, h ^ 1));                      /* other name */
    assert_false(hllsent_known(&s, 3, 0, 0)); /* an empty slot is no entry of day 0 */
    hllsent_forget(&s);
    assert_false(hllsent_known(&s, 3, 5 * DAY, h));
    /* a forget drops what was staged for the flush in flight too */
    hllsent_stage(&s, 3, 5 * DAY, h);
    hllsent_forget(&s);
    hllsent_commit(&s);
    assert_false(hllsent_known(&s, 3, 5 * DAY, h));
    hllsent_fini(&s);
}

static void test_age_and_short_ttl(void **state)
{
    struct hllsent s;
    uint64_t h = hllsent_hash("acme", 4);
    int64_t t0;
    (void)state;
    hllsent_init(&s);
    t0 = s.since_ms;
    hllsent_age(&s, t0, 100);
    hllsent_stage(&s, 1, DAY, h);
    hllsent_commit(&s);
    hllsent_age(&s, t0 + 49999, 100); /* under ttl/2: kept */
    assert_true(hllsent_known(&s, 1, DAY, h));
    hllsent_age(&s, t0 + 50000, 100); /* ttl/2: forgotten */
    assert_false(hllsent_known(&s, 1, DAY, h));
    /* under HLLSENT_MIN_TTL_S nothing is remembered */
    hllsent_age(&s, t0 + 50001, HLLSENT_MIN_TTL_S - 1);
    hllsent_stage(&s, 1, DAY, h);
    hllsent_commit(&s);
    assert_false(hllsent_known(&s, 1, DAY, h));
    hllsent_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_is_redis),
        cmocka_unit_test(test_stage_commit_forget),
        cmocka_unit_test(test_age_and_short_ttl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
