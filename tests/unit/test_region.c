/* Region lookup: the table of location strings in tests/data/locations.tsv
 * (the formats of docs/events.md and real-world variants) must map to the expected codes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/region.h"
#include "gtp/textnorm.h"
#include "gtp/util.h"

static struct gtp_regions *rg;

static int setup(void **state)
{
    char err[512];
    (void)state;
    rg = gtp_regions_load(GTP_TAXONOMY_DEFAULT, err, sizeof(err));
    if (!rg)
        fprintf(stderr, "load: %s\n", err);
    return rg ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gtp_regions_free(rg);
    return 0;
}

static void test_locations_table(void **state)
{
    FILE *fp = fopen(GTP_TEST_DATA "/locations.tsv", "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rows = 0, bad = 0;
    (void)state;
    assert_non_null(fp);
    while ((n = getline(&line, &cap, fp)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        char *tab = strrchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        const char *want = tab + 1, *loc = line, *got;
        if (strcmp(loc, "<null>") == 0)
            got = gtp_regions_lookup(rg, NULL, 0);
        else if (strcmp(loc, "<empty>") == 0)
            got = gtp_regions_lookup(rg, "", 0);
        else
            got = gtp_regions_lookup(rg, loc, strlen(loc));
        rows++;
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "  %-40s -> %-8s (want %s)\n", loc, got, want);
            bad++;
        }
    }
    free(line);
    fclose(fp);
    fprintf(stderr, "locations: %d rows, %d wrong\n", rows, bad);
    assert_true(rows >= 100);
    assert_int_equal(bad, 0);
}

static void test_hostile_input(void **state)
{
    (void)state;
    /* NUL bytes, invalid UTF-8, truncated multibyte sequences, huge input. */
    static const char nul[] = "Lon\0don, UK";
    assert_string_equal(gtp_regions_lookup(rg, nul, sizeof(nul) - 1), "UK");
    assert_string_equal(gtp_regions_lookup(rg, "\xff\xfe\xc3", 3), "UNKNOWN");
    assert_string_equal(gtp_regions_lookup(rg, "Berlin, \xc3", 9), "DE");
    size_t big = 2 * 1024 * 1024;
    char *s = gtp_xmalloc(big);
    for (size_t i = 0; i < big; i++)
        s[i] = "a ,(-|"[i % 6];
    assert_string_equal(gtp_regions_lookup(rg, s, big), "UNKNOWN");
    memcpy(s, "Paris, France ", 14);
    assert_string_equal(gtp_regions_lookup(rg, s, big), "FR");
    free(s);
}

/* The memo answers what a lookup answers, for short and long keys, keys
 * sharing a slot, NUL bytes, and after the regions were loaded again. */
static void test_memo(void **state)
{
    static const char *locs[] = {"London, UK",
                                 "Berlin",
                                 "Remote",
                                 "Remote - Germany",
                                 "Paris",
                                 "San Francisco, CA",
                                 "nowhere",
                                 "",
                                 "Greater London Area, England, United Kingdom of Great Britain"};
    struct gtp_regions_memo m = {0};
    char err[512], key[64];
    (void)state;
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof(locs) / sizeof(locs[0]); i++)
            assert_string_equal(gtp_regions_lookup_memo(rg, &m, locs[i], strlen(locs[i])),
                                gtp_regions_lookup(rg, locs[i], strlen(locs[i])));
    /* more distinct keys than slots: collisions overwrite, never confuse */
    for (int i = 0; i < 3 * GTP_REGIONS_MEMO_SLOTS; i++) {
        int n = snprintf(key, sizeof(key), i % 2 ? "City%d, DE" : "%d Remote", i);
        assert_string_equal(gtp_regions_lookup_memo(rg, &m, key, (size_t)n),
                            gtp_regions_lookup(rg, key, (size_t)n));
    }
    /* a NUL inside: the bytes after it count */
    assert_string_equal(gtp_regions_lookup_memo(rg, &m, "Berlin\0UK", 9),
                        gtp_regions_lookup(rg, "Berlin\0UK", 9));
    assert_string_equal(gtp_regions_lookup_memo(rg, &m, "Berlin\0FR", 9),
                        gtp_regions_lookup(rg, "Berlin\0FR", 9));
    /* another load: the code strings come from it, not from the first */
    struct gtp_regions *rg2 = gtp_regions_load(GTP_TAXONOMY_DEFAULT, err, sizeof(err));
    assert_non_null(rg2);
    const char *c2 = gtp_regions_lookup_memo(rg2, &m, "London, UK", 10);
    assert_ptr_equal(c2, gtp_regions_lookup(rg2, "London, UK", 10));
    assert_ptr_not_equal(c2, gtp_regions_lookup(rg, "London, UK", 10));
    gtp_regions_free(rg2);
    gtp_regions_memo_fini(&m);
    assert_null(m.slots);
}

static void test_names_and_codes(void **state)
{
    (void)state;
    assert_string_equal(gtp_regions_name(rg, "UK"), "United Kingdom");
    assert_string_equal(gtp_regions_name(rg, "REMOTE"), "Remote");
    assert_null(gtp_regions_name(rg, "GB"));
    assert_true(gtp_regions_count(rg) >= 249);
    assert_string_equal(gtp_regions_code(rg, 0), "AD");
}

static void test_textnorm(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"  São   Paulo ,  Brazil ", "sao paulo|brazil"},
        {"U.S.A.", "usa"},
        {"Remote - UK", "remote|uk"},
        {"Winston-Salem, NC", "winston salem|nc"},
        {"Remote (Germany)", "remote|germany"},
        {"ŁÓDŹ", "lodz"},
        {",,,", ""},
        {"St. John's", "st johns"},
        {"Remote \xe2\x80\x93 India", "remote|india"},
    };
    char out[64];
    (void)state;
    for (size_t i = 0; i < GTP_ARRAY_LEN(cases); i++) {
        gtp_textnorm(cases[i].in, strlen(cases[i].in), out, sizeof(out));
        assert_string_equal(out, cases[i].out);
    }
    /* Truncation at a word boundary, never mid-word. */
    gtp_textnorm("alpha beta gamma", 16, out, 9);
    assert_string_equal(out, "alpha");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locations_table),
        cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_memo),
        cmocka_unit_test(test_names_and_codes),
        cmocka_unit_test(test_textnorm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
