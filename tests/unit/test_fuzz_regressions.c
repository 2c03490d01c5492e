/* Replays tests/data/fuzz-regressions/<target>/ through the fuzz targets'
 * entry functions (fuzz/), compiled without libFuzzer: every input a fuzzer
 * once crashed on, plus hand-picked hostile ones, stays fixed in the normal
 * build. A broken invariant aborts (the test fails, naming the file). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gtp/util.h"

typedef int (*entry_fn)(const uint8_t *data, size_t size);

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0, r;
    assert_non_null(f);
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = gtp_xrealloc(buf, cap);
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *len = n;
    return buf;
}

/* Run fn over every file of the target's directory; at least one must exist. */
static void replay(const char *target, entry_fn fn)
{
    char dir[1024], path[2048];
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    DIR *d;

    snprintf(dir, sizeof(dir), "%s/fuzz-regressions/%s", GTP_TEST_DATA, target);
    d = opendir(dir);
    assert_non_null(d);
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = gtp_xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = gtp_xstrdup(de->d_name);
    }
    closedir(d);
    assert_true(n > 0);
    qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        uint8_t *buf;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        /* named before the run: an abort leaves this as the last line */
        fprintf(stderr, "replay %s/%s\n", target, names[i]);
        buf = slurp(path, &len);
        assert_int_equal(fn(buf, len), 0);
        free(buf);
        free(names[i]);
    }
    free(names);
}

static void test_event(void **state)
{
    (void)state;
    replay("event", gtp_fuzz_event);
}

static void test_time(void **state)
{
    (void)state;
    replay("time", gtp_fuzz_time);
}

static void test_skills(void **state)
{
    (void)state;
    replay("skills", gtp_fuzz_skills);
}

static void test_hive(void **state)
{
    (void)state;
    replay("hive", gtp_fuzz_hive);
}

static void test_dashboard(void **state)
{
    (void)state;
    replay("dashboard", gtp_fuzz_dashboard);
}

static void test_parquet(void **state)
{
    (void)state;
    replay("parquet", gtp_fuzz_parquet);
}

static void test_pqread(void **state)
{
    (void)state;
    replay("pqread", gtp_fuzz_pqread);
}

static void test_market(void **state)
{
    (void)state;
    replay("market", gtp_fuzz_market);
}

/* The checks themselves must be able to fail: a row with invalid UTF-8 is
 * what the parquet target expects to be refused, and the reference
 * validators reject what they should. */
static void test_reference_checks(void **state)
{
    (void)state;
    assert_true(gtp_fuzz_utf8_ok((const uint8_t *)"d\xc3\xa9j\xc3\xa0", 6));
    assert_false(gtp_fuzz_utf8_ok((const uint8_t *)"\xc0\xaf", 2));         /* overlong */
    assert_false(gtp_fuzz_utf8_ok((const uint8_t *)"\xed\xa0\x80", 3));     /* surrogate */
    assert_false(gtp_fuzz_utf8_ok((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(gtp_fuzz_utf8_ok((const uint8_t *)"\xe2\x82", 2));         /* truncated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_checks),
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_skills),
        cmocka_unit_test(test_hive),
        cmocka_unit_test(test_dashboard),
        cmocka_unit_test(test_parquet),
        cmocka_unit_test(test_pqread),
        cmocka_unit_test(test_market),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
